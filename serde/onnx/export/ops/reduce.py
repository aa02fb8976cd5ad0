"""Reductions: sum/mean/max/min/prod, norm, argmax/argmin.

ONNX moved ``axes`` from an attribute to an input at opset 13 for ReduceSum and at 18 for the
other Reduce ops; MXNet reduces every axis when ``axis`` is absent, reduces the complement with
``exclude``, and gives shape (1,) (not a 0-d tensor) when everything is reduced without keepdims.
"""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import axes_input_or_attr

_REDUCE = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax", "min": "ReduceMin",
           "prod": "ReduceProd"}
#: Opset at which each Reduce op takes ``axes`` as an input.
AXES_INPUT_SINCE = {"ReduceSum": 13, "ReduceMean": 18, "ReduceMax": 18, "ReduceMin": 18,
                    "ReduceProd": 18, "ReduceL1": 18, "ReduceL2": 18, "ReduceSumSquare": 18,
                    "ReduceLogSumExp": 18}


def reduce_axes(node: MxNode, rank: int, key: str = "axis") -> list[int]:
    """The axes MXNet reduces, normalised and sorted (``exclude`` taken into account)."""
    axis = node.optional(key)
    if axis is None or axis == ():  # MXNet reduces everything here, ``exclude`` or not
        return list(range(rank))
    axes = sorted({int(a) % rank for a in (axis if isinstance(axis, (tuple, list)) else [axis])})
    if node.bool("exclude", False):
        axes = [a for a in range(rank) if a not in axes]
    return axes


def emit_reduce(ctx: ExportContext, node: MxNode, onnx_op: str, data: str, axes: list[int],
                keepdims: bool, output: str | None) -> str:
    """One ONNX Reduce op with MXNet's result shape (shape (1,) for a full reduction)."""
    rank = len(ctx.shape(data))
    if not axes:  # nothing to reduce
        if onnx_op in ("ReduceL1", "ReduceL2"):
            return ctx.emit1("Abs", [data], output, name=node.name)
        return ctx.emit1("Identity", [data], output, name=node.name)
    extra, attrs = axes_input_or_attr(ctx, node, axes, AXES_INPUT_SINCE[onnx_op])
    if keepdims or len(axes) < rank:
        return ctx.emit1(onnx_op, [data, *extra], output, name=node.name,
                         keepdims=int(keepdims), **attrs)
    reduced = ctx.emit1(onnx_op, [data, *extra], name=f"{node.name}_reduce", keepdims=0, **attrs)
    return ctx.emit1("Reshape", [reduced, ctx.add_int64([1], f"{node.name}_shape")], output,
                     name=node.name)


@register(*_REDUCE)
def reduce(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    axes = reduce_axes(node, len(ctx.shape(data)))
    return [emit_reduce(ctx, node, _REDUCE[node.op], data, axes, node.bool("keepdims", False),
                        node.outputs[0])]


@register("norm")
def norm(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    order = node.int("ord", 2)
    if order not in (1, 2):
        raise node.fail(f"norm with ord={order} is not supported (ONNX has L1 and L2 only)")
    axes = reduce_axes(node, len(ctx.shape(data)))
    out_dtype = np.dtype(ctx.dtype(node.outputs[0]))
    cast = out_dtype != np.dtype(ctx.dtype(data))
    out = emit_reduce(ctx, node, f"ReduceL{order}", data, axes, node.bool("keepdims", False),
                      None if cast else node.outputs[0])
    if cast:
        out = ctx.emit1("Cast", [out], node.outputs[0], name=f"{node.name}_cast",
                        to=helper.np_dtype_to_tensor_dtype(out_dtype), dtype=out_dtype)
    return [out]


@register("argmax", "argmin")
def arg_reduce(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    onnx_op = "ArgMax" if node.op == "argmax" else "ArgMin"
    keepdims = node.bool("keepdims", False)
    axis = node.optional("axis")
    if axis is None:  # MXNet flattens the input
        data = ctx.emit1("Reshape", [data, ctx.add_int64([-1], f"{node.name}_flat_shape")],
                         name=f"{node.name}_flatten")
        axis = 0
    index = ctx.emit1(onnx_op, [data], name=f"{node.name}_{onnx_op.lower()}", axis=int(axis),
                      keepdims=int(keepdims), select_last_index=0, dtype=np.int64)
    out_shape = list(ctx.shape(node.outputs[0]))
    if node.optional("axis") is None:  # shape (1,) (or all ones with keepdims), as MXNet's
        index = ctx.emit1("Reshape", [index, ctx.add_int64(out_shape, f"{node.name}_shape")],
                          name=f"{node.name}_reshape", dtype=np.int64)
    # MXNet returns indices in the input's floating dtype.
    out_dtype = np.dtype(ctx.dtype(node.outputs[0]))
    return ctx.emit("Cast", [index], node.outputs[:1], name=node.name,
                    to=helper.np_dtype_to_tensor_dtype(out_dtype), dtype=out_dtype)
