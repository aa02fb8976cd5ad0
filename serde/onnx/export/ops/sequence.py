"""Variable-length sequence ops: SequenceMask, SequenceReverse, SequenceLast."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import Builder, scalar_const


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
    steps = shape[axis]
    # time index t along ``axis`` against the length of batch entry n along the other axis
    step_shape = [1] * rank
    step_shape[axis] = steps
    len_shape = [1] * rank
    len_shape[1 - axis] = -1  # the batch, however many
    if ctx.has_dynamic_axes:  # the steps counted at run time: the time axis may be dynamic
        b = Builder(node, ctx)
        step_shape[axis] = -1
        counted = b("Cast", b.positions(b.dim(data, axis)),
                    to=helper.np_dtype_to_tensor_dtype(ctx.dtype(lengths)),
                    dtype=ctx.dtype(lengths))
        steps_tensor = b("Reshape", counted, b.i64(step_shape))
    else:
        steps_tensor = ctx.add_const(
            np.arange(steps).reshape(step_shape).astype(ctx.dtype(lengths)), f"{node.name}_steps")
    lens = ctx.emit1("Reshape", [lengths, ctx.add_int64(len_shape, f"{node.name}_len_shape")],
                     name=f"{node.name}_lengths")
    keep = ctx.emit1("Less", [steps_tensor, lens],
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


@register("SequenceLast")
def sequence_last(node: MxNode, ctx: ExportContext) -> list[str]:
    """The last valid step of each sequence along ``axis`` (0 or 1)."""
    data = node.inputs[0]
    shape = ctx.shape(data)
    axis = node.int("axis", 0) % len(shape)
    if not node.bool("use_sequence_length", False):
        last = ctx.add_int64(-1, f"{node.name}_last")  # the last step, however many
        return ctx.emit("Gather", [data, last], node.outputs[:1], name=node.name, axis=axis)
    lengths = ctx.emit1("Cast", [node.inputs[1]], name=f"{node.name}_len", to=TensorProto.INT64,
                        dtype=np.int64)
    steps = ctx.emit1("Sub", [lengths, ctx.add_int64(1, f"{node.name}_one")],
                      name=f"{node.name}_step", dtype=np.int64)
    if axis == 1:  # (batch, time, ...): row b takes step steps[b]
        data_bt = data
    else:  # (time, batch, ...) -> (batch, time, ...)
        perm = [1, 0] + list(range(2, len(shape)))
        data_bt = ctx.emit1("Transpose", [data], name=f"{node.name}_bt", perm=perm)
    index = ctx.emit1("Reshape", [steps, ctx.add_int64([-1, 1] + [1] * (len(shape) - 2),
                                                       f"{node.name}_ishape")],
                      name=f"{node.name}_index", dtype=np.int64)
    # broadcasting from 1s keeps the index's own (possibly dynamic) batch; the trailing dims
    # come from the runtime shape when any axis is dynamic
    if ctx.has_dynamic_axes and len(shape) > 2:
        b = Builder(node, ctx)
        trailing = b("Slice", b("Shape", data_bt, dtype=np.int64), b.i64([2]),
                     b.i64([len(shape)]), dtype=np.int64)
        target = b("Concat", b.i64([1, 1]), trailing, axis=0, dtype=np.int64)
    else:
        target = ctx.add_int64([1, 1] + list(shape[2:]), f"{node.name}_eshape")
    index = ctx.emit1("Expand", [index, target], name=f"{node.name}_index_b", dtype=np.int64)
    picked = ctx.emit1("GatherElements", [data_bt, index], name=f"{node.name}_pick", axis=1)
    return ctx.emit("Squeeze", [picked, ctx.add_int64([1], f"{node.name}_sq")],
                    node.outputs[:1], name=node.name)
