"""Shape and layout manipulation: flatten, concat, reshape, transpose, slicing, casting."""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import axes_input_or_attr


@register("Flatten")
def flatten(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("Flatten", node.inputs[:1], node.outputs, name=node.name, axis=1)


@register("Concat")
def concat(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("Concat", node.inputs, node.outputs, name=node.name, axis=node.int("dim", 1))


@register("stack")
def stack(node: MxNode, ctx: ExportContext) -> list[str]:
    axis = node.int("axis", 0)
    rank = len(ctx.shape(node.inputs[0])) + 1
    axis = axis % rank
    expanded = []
    for i, x in enumerate(node.inputs):
        extra, attrs = axes_input_or_attr(ctx, node, [axis], 13)
        expanded.append(ctx.emit1("Unsqueeze", [x, *extra], name=f"{node.name}_unsq{i}", **attrs))
    return ctx.emit("Concat", expanded, node.outputs, name=node.name, axis=axis)


def _reshape_target(ctx: ExportContext, node: MxNode, data: str) -> list[int]:
    """The target shape as an ONNX Reshape input: the inferred static shape, with the leading
    axis kept dynamic (0 = copy) when it is a dynamic input axis carried through unchanged."""
    in_shape = ctx.shape(data)
    out_shape = list(ctx.shape(node.outputs[0]))
    if ctx.has_dynamic_axes and in_shape and out_shape and in_shape[0] == out_shape[0]:
        rest = int(np.prod(out_shape[1:])) if len(out_shape) > 1 else 1
        in_rest = int(np.prod(in_shape[1:])) if len(in_shape) > 1 else 1
        if rest == in_rest:
            return [0] + out_shape[1:]
    return out_shape


@register("Reshape")
def reshape(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    target = ctx.add_int64(_reshape_target(ctx, node, data), f"{node.name}_shape")
    return ctx.emit("Reshape", [data, target], node.outputs, name=node.name)


@register("reshape_like")
def reshape_like(node: MxNode, ctx: ExportContext) -> list[str]:
    if any(node.has(k) for k in ("lhs_begin", "lhs_end", "rhs_begin", "rhs_end")):
        target = ctx.add_int64(ctx.shape(node.outputs[0]), f"{node.name}_shape")
    else:
        target = ctx.emit1("Shape", [node.inputs[1]], name=f"{node.name}_shape")
    return ctx.emit("Reshape", [node.inputs[0], target], node.outputs, name=node.name)


@register("transpose")
def transpose(node: MxNode, ctx: ExportContext) -> list[str]:
    axes = node.tuple("axes", ())
    attrs = {"perm": [int(a) % len(ctx.shape(node.inputs[0])) for a in axes]} if axes else {}
    return ctx.emit("Transpose", node.inputs[:1], node.outputs, name=node.name, **attrs)


@register("SwapAxis")
def swap_axis(node: MxNode, ctx: ExportContext) -> list[str]:
    rank = len(ctx.shape(node.inputs[0]))
    perm = list(range(rank))
    a, b = node.int("dim1", 0) % rank, node.int("dim2", 0) % rank
    perm[a], perm[b] = perm[b], perm[a]
    return ctx.emit("Transpose", node.inputs[:1], node.outputs, name=node.name, perm=perm)


@register("expand_dims")
def expand_dims(node: MxNode, ctx: ExportContext) -> list[str]:
    rank = len(ctx.shape(node.inputs[0])) + 1
    extra, attrs = axes_input_or_attr(ctx, node, [node.int("axis") % rank], 13)
    return ctx.emit("Unsqueeze", [node.inputs[0], *extra], node.outputs, name=node.name, **attrs)


@register("squeeze")
def squeeze(node: MxNode, ctx: ExportContext) -> list[str]:
    shape = ctx.shape(node.inputs[0])
    axes = node.optional("axis")
    if axes is None:
        axes = [i for i, d in enumerate(shape) if d == 1]
    axes = [int(a) % len(shape) for a in (axes if isinstance(axes, (list, tuple)) else [axes])]
    if len(axes) == len(shape):  # MXNet keeps a 1-element 1-d result when squeezing every axis
        return ctx.emit("Reshape", [node.inputs[0], ctx.add_int64([1], f"{node.name}_shape")],
                        node.outputs, name=node.name)
    extra, attrs = axes_input_or_attr(ctx, node, axes, 13)
    return ctx.emit("Squeeze", [node.inputs[0], *extra], node.outputs, name=node.name, **attrs)


def _slice(ctx: ExportContext, node: MxNode, starts: list[int], ends: list[int],
           axes: list[int], steps: list[int] | None = None) -> list[str]:
    big = np.iinfo(np.int64).max
    inputs = [node.inputs[0], ctx.add_int64(starts, f"{node.name}_starts"),
              ctx.add_int64([big if e is None else e for e in ends], f"{node.name}_ends"),
              ctx.add_int64(axes, f"{node.name}_axes")]
    if steps is not None:
        inputs.append(ctx.add_int64(steps, f"{node.name}_steps"))
    return ctx.emit("Slice", inputs, node.outputs, name=node.name)


@register("slice_axis")
def slice_axis(node: MxNode, ctx: ExportContext) -> list[str]:
    end = node.optional("end")
    return _slice(ctx, node, [node.int("begin")], [end], [node.int("axis")])


@register("slice")
def slice_op(node: MxNode, ctx: ExportContext) -> list[str]:
    begin, end = node.tuple("begin"), node.tuple("end")
    step = node.tuple("step", ()) or (None,) * len(begin)
    shape = ctx.shape(node.inputs[0])
    starts, ends, steps = [], [], []
    for axis, (b, e, s) in enumerate(zip(begin, end, step, strict=False)):
        s = 1 if s is None else int(s)
        starts.append((0 if s > 0 else shape[axis] - 1) if b is None else int(b))
        ends.append((None if s > 0 else -shape[axis] - 1) if e is None else int(e))
        steps.append(s)
    return _slice(ctx, node, starts, ends, list(range(len(starts))), steps)


@register("slice_like")
def slice_like(node: MxNode, ctx: ExportContext) -> list[str]:
    out_shape = ctx.shape(node.outputs[0])
    axes = list(range(len(out_shape)))
    return _slice(ctx, node, [0] * len(axes), list(out_shape), axes)


@register("SliceChannel")
def slice_channel(node: MxNode, ctx: ExportContext) -> list[str]:
    axis = node.int("axis", 1)
    count = node.int("num_outputs")
    size = ctx.shape(node.inputs[0])[axis] // count
    split = ctx.add_int64([size] * count, f"{node.name}_split")
    parts = ctx.emit("Split", [node.inputs[0], split],
                     node.outputs if not node.bool("squeeze_axis", False) else count,
                     name=node.name, axis=axis)
    if not node.bool("squeeze_axis", False):
        return parts
    out = []
    for part, name in zip(parts, node.outputs, strict=True):
        extra, attrs = axes_input_or_attr(ctx, node, [axis], 13)
        out.append(ctx.emit1("Squeeze", [part, *extra], name, **attrs))
    return out


@register("_split_v2")
def split_v2(node: MxNode, ctx: ExportContext) -> list[str]:
    axis = node.int("axis", 0)
    sizes = [ctx.shape(o)[axis] if not node.bool("squeeze_axis", False) else 1
             for o in node.outputs]
    split = ctx.add_int64(sizes, f"{node.name}_split")
    parts = ctx.emit("Split", [node.inputs[0], split],
                     node.outputs if not node.bool("squeeze_axis", False) else len(sizes),
                     name=node.name, axis=axis)
    if not node.bool("squeeze_axis", False):
        return parts
    extra, attrs = axes_input_or_attr(ctx, node, [axis], 13)
    return [ctx.emit1("Squeeze", [p, *extra], n, **attrs)
            for p, n in zip(parts, node.outputs, strict=True)]


@register("Cast", "amp_cast")
def cast(node: MxNode, ctx: ExportContext) -> list[str]:
    dtype = np.dtype(node.str("dtype"))
    return ctx.emit("Cast", node.inputs[:1], node.outputs, name=node.name,
                    to=helper.np_dtype_to_tensor_dtype(dtype), dtype=dtype)


@register("tile")
def tile(node: MxNode, ctx: ExportContext) -> list[str]:
    reps = list(node.tuple("reps"))
    rank = len(ctx.shape(node.inputs[0]))
    data = node.inputs[0]
    if len(reps) > rank:  # MXNet prepends axes to the input, ONNX needs equal ranks
        data = ctx.emit1("Reshape", [data, ctx.add_int64([1] * (len(reps) - rank) + list(
            ctx.shape(data)), f"{node.name}_shape")], name=f"{node.name}_reshape")
    elif len(reps) < rank:
        reps = [1] * (rank - len(reps)) + reps
    return ctx.emit("Tile", [data, ctx.add_int64(reps, f"{node.name}_reps")], node.outputs,
                    name=node.name)


@register("broadcast_to", "broadcast_axis", "broadcast_like")
def broadcast_to(node: MxNode, ctx: ExportContext) -> list[str]:
    target = ctx.add_int64(ctx.shape(node.outputs[0]), f"{node.name}_shape")
    return ctx.emit("Expand", [node.inputs[0], target], node.outputs, name=node.name)


@register("zeros_like", "ones_like")
def fill_like(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    value = 0 if node.op == "zeros_like" else 1
    shape = ctx.emit1("Shape", [data], name=f"{node.name}_shape")
    fill = helper.make_tensor("value", ctx.onnx_dtype(data), [1], [value])
    return ctx.emit("ConstantOfShape", [shape], node.outputs, name=node.name, value=fill)


@register("shape_array")
def shape_array(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("Shape", node.inputs[:1], node.outputs, name=node.name, dtype=np.int64)


@register("size_array")
def size_array(node: MxNode, ctx: ExportContext) -> list[str]:
    size = ctx.emit1("Size", node.inputs[:1], name=f"{node.name}_size", dtype=np.int64)
    return ctx.emit("Reshape", [size, ctx.add_int64([1], f"{node.name}_shape")], node.outputs,
                    name=node.name)


@register("reverse")
def reverse(node: MxNode, ctx: ExportContext) -> list[str]:
    axes = node.tuple("axis")
    n = len(axes)
    return _slice(ctx, node, [-1] * n, [np.iinfo(np.int64).min] * n, list(axes), [-1] * n)


@register("depth_to_space")
def depth_to_space(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("DepthToSpace", node.inputs[:1], node.outputs, name=node.name,
                    blocksize=node.int("block_size"), mode="DCR")


@register("space_to_depth")
def space_to_depth(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("SpaceToDepth", node.inputs[:1], node.outputs, name=node.name,
                    blocksize=node.int("block_size"))
