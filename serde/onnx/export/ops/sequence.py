"""Variable-length sequence ops: SequenceMask, SequenceReverse."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import scalar_const


@register("SequenceMask")
def sequence_mask(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    if not node.bool("use_sequence_length", False):
        return ctx.emit("Identity", [data], node.outputs[:1], name=node.name)
    lengths = node.inputs[1]
    shape = ctx.shape(data)
    rank = len(shape)
    axis = node.int("axis", 0) % rank
    if axis not in (0, 1):
        raise node.fail(f"SequenceMask over axis {axis} is not supported (MXNet allows 0 or 1)")
    steps, batch = shape[axis], shape[1 - axis]
    # time index t along ``axis`` against the length of batch entry n along the other axis
    step_shape = [1] * rank
    step_shape[axis] = steps
    len_shape = [1] * rank
    len_shape[1 - axis] = batch
    step_values = np.arange(steps).reshape(step_shape).astype(ctx.dtype(lengths))
    lens = ctx.emit1("Reshape", [lengths, ctx.add_int64(len_shape, f"{node.name}_len_shape")],
                     name=f"{node.name}_lengths")
    keep = ctx.emit1("Less", [ctx.add_const(step_values, f"{node.name}_steps"), lens],
                     name=f"{node.name}_keep", dtype=np.bool_)
    value = scalar_const(ctx, node, node.float("value", 0.0), data, "value")
    return ctx.emit("Where", [keep, data, value], node.outputs[:1], name=node.name)


@register("SequenceReverse")
def sequence_reverse(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    if node.int("axis", 0) != 0:
        raise node.fail("SequenceReverse supports only axis=0 (as MXNet does)")
    if not node.bool("use_sequence_length", False):
        big = np.iinfo(np.int64).min
        return ctx.emit("Slice", [data, ctx.add_int64([-1], f"{node.name}_starts"),
                                  ctx.add_int64([big], f"{node.name}_ends"),
                                  ctx.add_int64([0], f"{node.name}_axes"),
                                  ctx.add_int64([-1], f"{node.name}_steps")],
                        node.outputs[:1], name=node.name)
    lengths = ctx.emit1("Cast", [node.inputs[1]], name=f"{node.name}_lengths",
                        to=TensorProto.INT64, dtype=np.int64)
    return ctx.emit("ReverseSequence", [data, lengths], node.outputs[:1], name=node.name,
                    batch_axis=1, time_axis=0)
