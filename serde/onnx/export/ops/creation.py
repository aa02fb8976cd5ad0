"""Tensors made from attributes alone (or from another tensor's shape): _zeros, _ones, _arange,
_contrib_arange_like."""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..context import ExportContext, MxNode
from ..registry import register


@register("_zeros", "_ones")
def fill(node: MxNode, ctx: ExportContext) -> list[str]:
    shape = list(ctx.shape(node.outputs[0]))
    dtype = np.dtype(ctx.dtype(node.outputs[0]))
    value = helper.make_tensor("value", helper.np_dtype_to_tensor_dtype(dtype), [1],
                               [0 if node.op == "_zeros" else 1])
    return ctx.emit("ConstantOfShape", [ctx.add_int64(shape, f"{node.name}_shape")],
                    node.outputs[:1], name=node.name, value=value, dtype=dtype)


@register("_arange")
def arange(node: MxNode, ctx: ExportContext) -> list[str]:
    # The output length is known statically; the values are a constant.
    (size,) = ctx.shape(node.outputs[0])
    repeat = node.int("repeat", 1)
    dtype = np.dtype(ctx.dtype(node.outputs[0]))
    steps = np.arange(size, dtype=np.int64) // repeat
    # arange(n) is stored as start=n, stop=None and means 0 .. n-1 (as numpy's arange(n)).
    start = node.float("start", 0.0) if node.has("stop") else 0.0
    values = (start + steps * node.float("step", 1.0)).astype(dtype)
    return ctx.emit("Identity", [ctx.add_const(values, f"{node.name}_values")], node.outputs[:1],
                    name=node.name, dtype=dtype)


@register("_contrib_arange_like")
def arange_like(node: MxNode, ctx: ExportContext) -> list[str]:
    """start + (i // repeat) * step over the size of ``data`` (or of one axis), computed from
    the runtime shape so that dynamic axes stay dynamic."""
    data = node.inputs[0]
    axis = node.optional("axis")
    shape = ctx.emit1("Shape", [data], name=f"{node.name}_shape", dtype=np.int64)
    if axis is None:
        count = ctx.emit1("Size", [data], name=f"{node.name}_size", dtype=np.int64)
    else:
        count = ctx.emit1("Gather", [shape, ctx.add_int64(int(axis), f"{node.name}_axis")],
                          name=f"{node.name}_count", axis=0, dtype=np.int64)
    index = ctx.emit1("Range", [ctx.add_int64(0, f"{node.name}_zero"), count,
                                ctx.add_int64(1, f"{node.name}_one")],
                      name=f"{node.name}_range", dtype=np.int64)
    repeat = node.int("repeat", 1)
    if repeat != 1:
        index = ctx.emit1("Div", [index, ctx.add_int64(repeat, f"{node.name}_repeat")],
                          name=f"{node.name}_div", dtype=np.int64)
    dtype = np.dtype(ctx.dtype(node.outputs[0]))
    values = ctx.emit1("Cast", [index], name=f"{node.name}_cast",
                       to=helper.np_dtype_to_tensor_dtype(dtype), dtype=dtype)
    values = ctx.emit1("Mul", [values, ctx.add_const(np.array(node.float("step", 1.0), dtype),
                                                     f"{node.name}_step")],
                       name=f"{node.name}_scale")
    last = node.outputs[0] if axis is not None else None
    values = ctx.emit1("Add", [values, ctx.add_const(np.array(node.float("start", 0.0), dtype),
                                                     f"{node.name}_start")],
                       last, name=node.name if last else f"{node.name}_offset")
    if axis is not None:
        return [values]
    return ctx.emit("Reshape", [values, shape], node.outputs[:1], name=f"{node.name}_reshape")

