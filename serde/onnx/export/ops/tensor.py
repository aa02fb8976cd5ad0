"""Shape and layout manipulation: flatten, concat, reshape, transpose, slicing, casting."""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import INT64, Builder, axes_input_or_attr


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


def _constant_reshape_codes(codes: list[int], rank: int, copy: int, rest: int
                            ) -> list[int] | None:
    """The target as an ONNX Reshape constant, where one exists: literal sizes, -1, and copies
    of the input dim at the same position (ONNX's 0). Shape-free targets keep the graph simple
    and importable by runtimes that need static Reshape targets (MXNet among them)."""
    target: list[int] = []
    for code in codes:
        position = len(target)
        if code == copy:
            target.append(0)
        elif code == rest:
            target += [0] * (rank - position)
        elif code > 0 or (code == -1 and -1 not in target):
            target.append(code)
        else:  # merge, split, drop: positions shift, only the runtime shape says it
            return None
    return target if len(target) >= 1 and all(
        t != 0 or i < rank for i, t in enumerate(target)) else None


def reshape_codes_target(b: Builder, data: str, codes: list[int], numpy: bool,
                         reverse: bool = False) -> str:
    """The target of an MXNet reshape as an int64 tensor computed from the runtime shape, so
    dynamic axes stay dynamic. Legacy ``Reshape`` codes: 0 copy, -1 infer, -2 copy the rest,
    -3 merge two, -4 split one into the next two; ``_npx_reshape`` codes: -1 infer, -2 copy,
    -3 drop a 1, -4 copy the rest, -5 merge two, -6 split one into the next two.
    ``reverse`` reads codes and input dims right to left (MXNet's ``reverse=True``)."""
    rank = len(b.ctx.shape(data))
    copy, rest, merge, split, drop = ((-2, -4, -5, -6, -3) if numpy else (0, -2, -3, -4, None))
    if reverse:
        if split in codes:
            raise b.node.fail("reshape with reverse=True and a split code needs static "
                              "shapes; export without dynamic axes")
        codes = codes[::-1]
    constant = None if reverse else _constant_reshape_codes(codes, rank, copy, rest)
    if constant is not None:
        return b.i64(constant)
    shape = b("Shape", data, dtype=INT64)

    def dim(i: int) -> str:
        j = rank - 1 - i if reverse else i
        return b("Slice", shape, b.i64([j]), b.i64([j + 1]), dtype=INT64)

    pieces: list[str] = []
    i = k = 0
    while k < len(codes):
        code = codes[k]
        if code == copy:
            pieces.append(dim(i))
            i += 1
        elif code == rest:
            start, stop = (0, rank - i) if reverse else (i, rank)
            pieces.append(b("Slice", shape, b.i64([start]), b.i64([stop]), dtype=INT64))
            i = rank
        elif code == merge:
            pieces.append(b("Mul", dim(i), dim(i + 1), dtype=INT64))
            i += 2
        elif code == split:
            first, second = codes[k + 1], codes[k + 2]
            whole = dim(i)
            if first == -1:
                pieces += [b("Div", whole, b.i64([second]), dtype=INT64), b.i64([second])]
            elif second == -1:
                pieces += [b.i64([first]), b("Div", whole, b.i64([first]), dtype=INT64)]
            else:
                pieces += [b.i64([first]), b.i64([second])]
            i += 1
            k += 2
        elif drop is not None and code == drop:
            i += 1
        else:  # a literal size or -1 (infer): ONNX reads both alike
            pieces.append(b.i64([code]))
            i += 1
        k += 1
    if reverse:
        pieces.reverse()
    return b("Concat", *pieces, axis=0, dtype=INT64) if len(pieces) > 1 else pieces[0]


def reshape_target(b: Builder, data: str, key: str, numpy: bool) -> str:
    """MXNet's inferred output shape when every shape is static; else the codes computed on
    the runtime shape."""
    node, ctx = b.node, b.ctx
    if not ctx.has_dynamic_axes:
        return b.i64(list(ctx.shape(node.outputs[0])))
    codes = [int(c) for c in node.tuple(key)]
    return reshape_codes_target(b, data, codes, numpy, reverse=node.bool("reverse", False))


@register("Reshape")
def reshape(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    key = "shape" if node.has("shape") else "target_shape"
    if key == "target_shape" or not node.has(key):  # deprecated form: the inferred shape
        return [b("Reshape", data, b.i64(list(ctx.shape(node.outputs[0]))))]
    return [b("Reshape", data, reshape_target(b, data, key, numpy=False), out=node.outputs[0])]


@register("reshape_like")
def reshape_like(node: MxNode, ctx: ExportContext) -> list[str]:
    ranged = any(node.optional(k) is not None for k in ("lhs_begin", "lhs_end", "rhs_begin",
                                                         "rhs_end"))
    if ranged and ctx.has_dynamic_axes:
        # lhs dims [begin, end) replaced by rhs dims [begin, end), all read at run time
        b = Builder(node, ctx)
        lhs, rhs = node.inputs[:2]
        lrank, rrank = len(ctx.shape(lhs)), len(ctx.shape(rhs))

        def bound(key: str, default: int, rank: int) -> int:
            value = node.optional(key)
            return default if value is None else int(value) + rank if int(value) < 0 \
                else int(value)

        lb, le = bound("lhs_begin", 0, lrank), bound("lhs_end", lrank, lrank)
        rb, re = bound("rhs_begin", 0, rrank), bound("rhs_end", rrank, rrank)
        lshape, rshape = b("Shape", lhs, dtype=INT64), b("Shape", rhs, dtype=INT64)
        pieces = [b("Slice", rshape, b.i64([rb]), b.i64([re]), dtype=INT64)]
        if lb > 0:
            pieces.insert(0, b("Slice", lshape, b.i64([0]), b.i64([lb]), dtype=INT64))
        if le < lrank:
            pieces.append(b("Slice", lshape, b.i64([le]), b.i64([lrank]), dtype=INT64))
        target = b("Concat", *pieces, axis=0, dtype=INT64) if len(pieces) > 1 else pieces[0]
    elif ranged:
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
    rank = len(out_shape)
    axes = [int(a) % rank for a in (node.tuple("axes", ()) or range(rank))]
    if not ctx.has_dynamic_axes:
        return _slice(ctx, node, [0] * rank, list(out_shape), list(range(rank)))
    # the reference's runtime shape gives the ends on the sliced axes (dynamic axes stay so)
    b = Builder(node, ctx)
    ends = b("Gather", b("Shape", node.inputs[1], dtype=INT64), b.i64(axes), axis=0,
             dtype=INT64)
    return [b("Slice", node.inputs[0], b.i64([0] * len(axes)), ends, b.i64(axes),
              out=node.outputs[0])]


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
        data = ctx.emit1("Unsqueeze", [data, ctx.add_int64(list(range(len(reps) - rank)),
                                                           f"{node.name}_axes")],
                         name=f"{node.name}_prepend")
    elif len(reps) < rank:
        reps = [1] * (rank - len(reps)) + reps
    return ctx.emit("Tile", [data, ctx.add_int64(reps, f"{node.name}_reps")], node.outputs,
                    name=node.name)


# Expand broadcasts both ways, so a target of 1 keeps the input's dim: targets built that way
# stay right when the input's other axes are dynamic.


@register("broadcast_to")
def broadcast_to(node: MxNode, ctx: ExportContext) -> list[str]:
    sizes = [int(s) for s in node.tuple("shape")]
    target = [s if s != 0 else 1 for s in sizes] if ctx.has_dynamic_axes else \
        list(ctx.shape(node.outputs[0]))
    return ctx.emit("Expand", [node.inputs[0], ctx.add_int64(target, f"{node.name}_shape")],
                    node.outputs, name=node.name)


@register("broadcast_axis")
def broadcast_axis(node: MxNode, ctx: ExportContext) -> list[str]:
    rank = len(ctx.shape(node.inputs[0]))
    axes = [int(a) % rank for a in node.tuple("axis", ())]
    sizes = [int(s) for s in node.tuple("size", ())]
    target = [1] * rank
    for axis, size in zip(axes, sizes, strict=False):
        target[axis] = size
    if not ctx.has_dynamic_axes:
        target = list(ctx.shape(node.outputs[0]))
    return ctx.emit("Expand", [node.inputs[0], ctx.add_int64(target, f"{node.name}_shape")],
                    node.outputs, name=node.name)


@register("broadcast_like")
def broadcast_like(node: MxNode, ctx: ExportContext) -> list[str]:
    data, like = node.inputs[:2]
    if not ctx.has_dynamic_axes:
        target = ctx.add_int64(ctx.shape(node.outputs[0]), f"{node.name}_shape")
        return ctx.emit("Expand", [data, target], node.outputs, name=node.name)
    b = Builder(node, ctx)
    rank, like_rank = len(ctx.shape(data)), len(ctx.shape(like))
    lhs_axes, rhs_axes = node.optional("lhs_axes"), node.optional("rhs_axes")
    like_shape = b("Shape", like, dtype=INT64)
    if lhs_axes is None:
        target = like_shape
    else:
        taken = {int(a) % rank: int(r) % like_rank for a, r in zip(lhs_axes, rhs_axes,
                                                                   strict=True)}
        pieces = [b("Slice", like_shape, b.i64([taken[i]]), b.i64([taken[i] + 1]),
                    dtype=INT64) if i in taken else b.i64([1]) for i in range(rank)]
        target = b("Concat", *pieces, axis=0, dtype=INT64)
    return [b("Expand", data, target, out=node.outputs[0])]


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


@register("amp_multicast")
def amp_multicast(node: MxNode, ctx: ExportContext) -> list[str]:
    """Every input cast to the dtype MXNet infers for its output (the widest float, or the
    narrowest with cast_narrow)."""
    outs = []
    for tensor, out in zip(node.inputs, node.outputs, strict=False):
        dtype = np.dtype(ctx.dtype(out))
        outs.append(ctx.emit1("Cast", [tensor], out, name=f"{node.name}_cast",
                              to=helper.np_dtype_to_tensor_dtype(dtype), dtype=dtype))
    return outs
