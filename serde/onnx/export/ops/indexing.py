"""Indexing and selection: take, Embedding, gather_nd, one_hot, where, topk, argsort, repeat.

MXNet carries indices as floats (truncated toward zero when used, as ONNX's Cast does) and
returns index outputs as floats (``dtype`` attribute); ONNX wants and gives int64, hence the
Casts on either side.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import Builder


def as_int64(ctx: ExportContext, node: MxNode, tensor: str, suffix: str = "idx") -> str:
    if np.dtype(ctx.dtype(tensor)) == np.int64:
        return tensor
    return ctx.emit1("Cast", [tensor], name=f"{node.name}_{suffix}", to=TensorProto.INT64,
                     dtype=np.int64)


def cast_to(ctx: ExportContext, node: MxNode, tensor: str, dtype: np.dtype,
            output: str | None, suffix: str = "cast") -> str:
    dtype = np.dtype(dtype)
    if np.dtype(ctx.dtype(tensor)) == dtype and output is None:
        return tensor
    return ctx.emit1("Cast", [tensor], output, name=f"{node.name}_{suffix}",
                     to=helper.np_dtype_to_tensor_dtype(dtype), dtype=dtype)


def _bounded_indices(ctx: ExportContext, node: MxNode, indices: str, size: int, mode: str
                     ) -> str:
    """Indices into an axis of ``size`` per MXNet's out-of-bound ``mode``."""
    index = as_int64(ctx, node, indices)
    if mode == "clip":
        return ctx.emit1("Clip", [index, ctx.add_const(np.array(0, np.int64), f"{node.name}_lo"),
                                  ctx.add_const(np.array(size - 1, np.int64), f"{node.name}_hi")],
                         name=f"{node.name}_clip", dtype=np.int64)
    if mode == "wrap":
        return ctx.emit1("Mod", [index, ctx.add_const(np.array(size, np.int64),
                                                      f"{node.name}_size")],
                         name=f"{node.name}_wrap", fmod=0, dtype=np.int64)
    if mode == "raise":  # in-range indices gather alike; out-of-range ones fail in both
        return index
    raise node.fail(f"take mode {mode!r} is not supported")


@register("take")
def take(node: MxNode, ctx: ExportContext) -> list[str]:
    data, indices = node.inputs[:2]
    rank = len(ctx.shape(data))
    axis = node.int("axis", 0) % rank
    index = _bounded_indices(ctx, node, indices, ctx.shape(data)[axis], node.str("mode", "clip"))
    return ctx.emit("Gather", [data, index], node.outputs[:1], name=node.name, axis=axis)


@register("Embedding")
def embedding(node: MxNode, ctx: ExportContext) -> list[str]:
    data, weight = node.inputs[:2]
    # MXNet clips out-of-range ids to the table.
    index = _bounded_indices(ctx, node, data, ctx.shape(weight)[0], "clip")
    return ctx.emit("Gather", [weight, index], node.outputs[:1], name=node.name, axis=0)


@register("gather_nd")
def gather_nd(node: MxNode, ctx: ExportContext) -> list[str]:
    data, indices = node.inputs[:2]
    # MXNet indexes with the first axis of ``indices``, ONNX with the last.
    rank = len(ctx.shape(indices))
    index = as_int64(ctx, node, indices)
    index = ctx.emit1("Transpose", [index], name=f"{node.name}_transpose",
                      perm=list(range(1, rank)) + [0], dtype=np.int64)
    return ctx.emit("GatherND", [data, index], node.outputs[:1], name=node.name)


@register("one_hot")
def one_hot(node: MxNode, ctx: ExportContext) -> list[str]:
    depth = node.int("depth")
    out_dtype = np.dtype(ctx.dtype(node.outputs[0]))
    index = as_int64(ctx, node, node.inputs[0])
    # MXNet gives an all-off row for a negative index; ONNX would count it from the end.
    depth_t = ctx.add_const(np.array(depth, np.int64), f"{node.name}_depth")
    negative = ctx.emit1("Less", [index, ctx.add_const(np.array(0, np.int64), f"{node.name}_0")],
                         name=f"{node.name}_negative", dtype=np.bool_)
    index = ctx.emit1("Where", [negative, depth_t, index], name=f"{node.name}_index",
                      dtype=np.int64)
    value_dtype = np.int64 if np.issubdtype(out_dtype, np.integer) else np.float32
    values = ctx.add_const(np.array([node.float("off_value", 0.0), node.float("on_value", 1.0)],
                                    dtype=value_dtype), f"{node.name}_values")
    if np.dtype(value_dtype) == out_dtype:
        return ctx.emit("OneHot", [index, depth_t, values], node.outputs[:1], name=node.name,
                        axis=-1, dtype=out_dtype)
    hot = ctx.emit1("OneHot", [index, depth_t, values], name=f"{node.name}_onehot", axis=-1,
                    dtype=value_dtype)
    return [cast_to(ctx, node, hot, out_dtype, node.outputs[0])]


@register("where")
def where(node: MxNode, ctx: ExportContext) -> list[str]:
    cond, x, y = node.inputs[:3]
    flag = ctx.emit1("Cast", [cond], name=f"{node.name}_cond", to=TensorProto.BOOL,
                     dtype=np.bool_)
    cond_rank, x_shape = len(ctx.shape(cond)), ctx.shape(x)
    if cond_rank == 1 and len(x_shape) > 1:  # a 1-d condition picks whole rows
        shape = ctx.add_int64([-1] + [1] * (len(x_shape) - 1), f"{node.name}_cond_shape")
        flag = ctx.emit1("Reshape", [flag, shape], name=f"{node.name}_cond_rows",
                         dtype=np.bool_)
    return ctx.emit("Where", [flag, x, y], node.outputs[:1], name=node.name)


def _sort_axis(ctx: ExportContext, node: MxNode) -> tuple[str, int]:
    """The tensor to sort and its axis; MXNet sorts the flattened input when axis is None."""
    data = node.inputs[0]
    axis = node.optional("axis") if "axis" in node.attrs else -1
    if axis is None:
        flat = ctx.emit1("Reshape", [data, ctx.add_int64([-1], f"{node.name}_flat_shape")],
                         name=f"{node.name}_flatten", shape=(int(np.prod(ctx.shape(data))),))
        return flat, 0
    rank = len(ctx.shape(data))
    return data, int(axis) % rank


@register("topk")
def topk(node: MxNode, ctx: ExportContext) -> list[str]:
    data, axis = _sort_axis(ctx, node)
    size = (ctx.shape(data) if data in ctx.shapes else ctx.shape(node.inputs[0]))[axis]
    k = node.int("k", 1)
    k = size if k < 1 else k
    ret = node.str("ret_typ", "indices")
    largest = int(not node.bool("is_ascend", False))
    values, index = ctx.emit("TopK", [data, ctx.add_int64([k], f"{node.name}_k")], 2,
                             name=f"{node.name}_topk", axis=axis, largest=largest, sorted=1)
    ctx.dtypes[values] = np.dtype(ctx.dtype(node.inputs[0]))
    ctx.dtypes[index] = np.dtype(np.int64)
    index_dtype = np.dtype(node.str("dtype", "float32"))
    if ret == "value":
        return ctx.emit("Identity", [values], node.outputs[:1], name=node.name)
    if ret == "indices":
        return [cast_to(ctx, node, index, index_dtype, node.outputs[0])]
    if ret == "both":
        return [ctx.emit1("Identity", [values], node.outputs[0], name=node.name),
                cast_to(ctx, node, index, index_dtype, node.outputs[1])]
    if ret == "mask":  # ones where the top k are, zeros elsewhere
        dtype = np.dtype(ctx.dtype(node.inputs[0]))
        zero = helper.make_tensor("value", helper.np_dtype_to_tensor_dtype(dtype), [1], [0])
        one = helper.make_tensor("value", helper.np_dtype_to_tensor_dtype(dtype), [1], [1])
        data_shape = ctx.emit1("Shape", [data], name=f"{node.name}_shape", dtype=np.int64)
        zeros = ctx.emit1("ConstantOfShape", [data_shape], name=f"{node.name}_zeros",
                          value=zero, dtype=dtype)
        k_shape = ctx.emit1("Shape", [index], name=f"{node.name}_k_shape", dtype=np.int64)
        ones = ctx.emit1("ConstantOfShape", [k_shape], name=f"{node.name}_ones", value=one,
                         dtype=dtype)
        if data == node.inputs[0]:
            return ctx.emit("ScatterElements", [zeros, index, ones], node.outputs[:1],
                            name=node.name, axis=axis)
        mask = ctx.emit1("ScatterElements", [zeros, index, ones], name=f"{node.name}_scatter",
                         axis=axis)
        return ctx.emit("Reshape", [mask, ctx.emit1("Shape", [node.inputs[0]],
                                                    name=f"{node.name}_in_shape",
                                                    dtype=np.int64)],
                        node.outputs[:1], name=node.name)
    raise node.fail(f"topk ret_typ {ret!r} is not supported")


def _full_k(ctx: ExportContext, node: MxNode, data: str, axis: int) -> str:
    """k = the whole axis, from the runtime shape when axes are dynamic."""
    if not ctx.has_dynamic_axes:
        size = (ctx.shape(data) if data in ctx.shapes else ctx.shape(node.inputs[0]))[axis]
        return ctx.add_int64([size], f"{node.name}_k")
    b = Builder(node, ctx)
    return b("Slice", b("Shape", data, dtype=np.int64), b.i64([axis]), b.i64([axis + 1]),
             dtype=np.int64)


def _sort_whole_axis(ctx: ExportContext, node: MxNode) -> tuple[str, str]:
    """(values, int64 indices) of a full sort along MXNet's axis (ascending by default)."""
    data, axis = _sort_axis(ctx, node)
    largest = int(not node.bool("is_ascend", True))
    values, index = ctx.emit("TopK", [data, _full_k(ctx, node, data, axis)], 2,
                             name=f"{node.name}_topk", axis=axis, largest=largest, sorted=1)
    ctx.dtypes[values] = np.dtype(ctx.dtype(node.inputs[0]))
    ctx.dtypes[index] = np.dtype(np.int64)
    return values, index


@register("argsort")
def argsort(node: MxNode, ctx: ExportContext) -> list[str]:
    _, index = _sort_whole_axis(ctx, node)
    return [cast_to(ctx, node, index, np.dtype(node.str("dtype", "float32")), node.outputs[0])]


@register("repeat")
def repeat(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    repeats = node.int("repeats")
    shape = list(ctx.shape(data))
    axis = node.optional("axis")
    if axis is None:  # MXNet repeats the flattened input
        shape, axis = [-1 if ctx.has_dynamic_axes else int(np.prod(shape))], 0
    axis = int(axis) % len(shape)
    out_shape = list(ctx.shape(node.outputs[0]))
    if ctx.has_dynamic_axes and axis > 0 and node.optional("axis") is not None:
        shape, out_shape = [0] + shape[1:], [0] + out_shape[1:]  # 0: copy the (dynamic) batch
    elif ctx.has_dynamic_axes and node.optional("axis") is None:
        out_shape = [-1]
    expanded = ctx.emit1("Reshape", [data, ctx.add_int64(shape[:axis + 1] + [1] + shape[axis + 1:],
                                                         f"{node.name}_expanded_shape")],
                         name=f"{node.name}_expand")
    reps = [1] * (len(shape) + 1)
    reps[axis + 1] = repeats
    tiled = ctx.emit1("Tile", [expanded, ctx.add_int64(reps, f"{node.name}_reps")],
                      name=f"{node.name}_tile")
    return ctx.emit("Reshape", [tiled, ctx.add_int64(out_shape, f"{node.name}_shape")],
                    node.outputs[:1], name=node.name)


def _pick_index(b: Builder, node: MxNode, index: str, size: int) -> str:
    mode = node.str("mode", "clip")
    idx = b.cast(index, np.int64) if np.dtype(b.ctx.dtype(index)) != np.int64 else index
    if mode == "wrap":
        return b("Mod", idx, b.i64(size), fmod=0, dtype=np.int64)
    return b("Clip", idx, b.i64(0), b.i64(size - 1), dtype=np.int64)


@register("pick")
def pick(node: MxNode, ctx: ExportContext) -> list[str]:
    """data[..., index[...], ...] along ``axis`` (None: the flattened input)."""
    b = Builder(node, ctx)
    data, index = node.inputs[:2]
    shape = list(ctx.shape(data))
    axis = node.optional("axis") if "axis" in node.attrs else -1
    keepdims = node.bool("keepdims", False)
    if axis is None:
        flat = b("Reshape", data, b.i64([1, -1]))
        idx = _pick_index(b, node, b("Reshape", index, b.i64([1, -1])), int(np.prod(shape)))
        picked = b("GatherElements", flat, idx, axis=1)
        return [b("Reshape", picked, b.i64(list(ctx.shape(node.outputs[0]))))]
    axis = int(axis) % len(shape)
    idx = _pick_index(b, node, b.unsqueeze(index, [axis]) if len(ctx.shape(index)) <
                      len(shape) else index, shape[axis])
    picked = b("GatherElements", data, idx, axis=axis)
    return [picked if keepdims else b("Squeeze", picked, b.i64([axis]))]


@register("batch_take")
def batch_take(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data, index = node.inputs[:2]
    idx = _pick_index(b, node, b.unsqueeze(index, [1]), ctx.shape(data)[1])
    return [b("Squeeze", b("GatherElements", data, idx, axis=1), b.i64([1]))]


@register("argmax_channel")
def argmax_channel(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    index = b("ArgMax", node.inputs[0], axis=1, keepdims=0, dtype=np.int64)
    return [b.cast(index, ctx.dtype(node.outputs[0]))]


@register("sort")
def sort(node: MxNode, ctx: ExportContext) -> list[str]:
    values, _ = _sort_whole_axis(ctx, node)
    return [values]


@register("_ravel_multi_index")
def ravel_multi_index(node: MxNode, ctx: ExportContext) -> list[str]:
    """(ndim, N) indices -> (N,) flat indices into ``shape``."""
    b = Builder(node, ctx)
    dims = [int(d) for d in node.tuple("shape")]
    strides = np.cumprod([1] + dims[::-1][:-1])[::-1].astype(ctx.dtype(node.inputs[0]))
    flat = b("MatMul", b.const(strides[None, :], ctx.dtype(node.inputs[0]), "strides"),
             node.inputs[0])
    return [b("Reshape", flat, b.i64([-1]))]


@register("_unravel_index")
def unravel_index(node: MxNode, ctx: ExportContext) -> list[str]:
    """(N,) flat indices -> (ndim, N) indices into ``shape``."""
    b = Builder(node, ctx)
    dims = [int(d) for d in node.tuple("shape")]
    strides = np.cumprod([1] + dims[::-1][:-1])[::-1]
    idx = b.cast(node.inputs[0], np.int64)
    rows = b.unsqueeze(idx, [0])
    coords = b("Mod", b("Div", rows, b.i64(strides.reshape(-1, 1).tolist()), dtype=np.int64),
               b.i64([[d] for d in dims]), fmod=0, dtype=np.int64)
    return [b.cast(coords, ctx.dtype(node.outputs[0]))]


@register("_contrib_boolean_mask")
def boolean_mask(node: MxNode, ctx: ExportContext) -> list[str]:
    """The slices of ``data`` along ``axis`` where ``index`` is non-zero (a data-dependent
    length, as in MXNet)."""
    b = Builder(node, ctx)
    data, index = node.inputs[:2]
    keep = b("Cast", index, to=TensorProto.BOOL, dtype=np.bool_)
    return [b("Compress", data, keep, axis=node.int("axis", 0))]


@register("diag")
def legacy_diag(node: MxNode, ctx: ExportContext) -> list[str]:
    from .numpy_ops import diag

    return [diag(Builder(node, ctx), node.inputs[0], node.int("k", 0), node.int("axis1", 0),
                 node.int("axis2", 1))]


@register("scatter_nd")
def scatter_nd(node: MxNode, ctx: ExportContext) -> list[str]:
    """zeros(shape) with data scattered at the (ndim, M) ``indices``."""
    b = Builder(node, ctx)
    data, indices = node.inputs[:2]
    dtype = ctx.dtype(data)
    zeros = b("Expand", b.const(0, dtype, "zero"), b.i64([int(d) for d in node.tuple("shape")]))
    ndim = ctx.shape(indices)[0]
    rank = len(ctx.shape(indices))
    where = b("Transpose", b.cast(indices, np.int64), perm=list(range(1, rank)) + [0],
              dtype=np.int64)
    del ndim
    return [b("ScatterND", zeros, where, data)]
