"""Shape and data movement: Reshape, Transpose, Concat, Split, Slice, Gather*, Squeeze,
Unsqueeze, Expand, Tile, Pad, Shape, Size, ConstantOfShape, Range, OneHot, DepthToSpace,
SpaceToDepth, Trilu, EyeLike, CumSum, TopK, Scatter*."""
from __future__ import annotations

import mxnet as mx
import numpy as np

from ..registry import converter
from ._helpers import (
    cast,
    is_float,
    legacy,
    norm_axes,
    norm_axis,
    npm,
    npx,
    pad_constant,
    slice_axis,
)

VERSIONS_13_25 = (13, 14, 19, 21, 23, 24, 25)


def _ints(value) -> list[int]:
    return [int(v) for v in np.asarray(value).ravel()]


def _reshape_plan(in_shape, elements):
    """How MXNet reshapes to a target whose runtime elements copy input dims: ``elements`` holds
    ints (constants, -1 to infer) and ``("dim", k)`` for a copy of input dim k. Every npx code
    consumes one input dim, so between two copied dims the input dims and the target elements
    must pair up: surplus input dims are merged first, missing ones inserted as unit axes
    (literal codes only set values; MXNet checks the total size). Returns (steps, codes):
    steps of ("merge", axis) / ("insert", axis) to apply to the input first, then npx codes;
    or None when the target cannot be written that way."""
    rank = len(in_shape)
    anchors = [(i, e[1]) for i, e in enumerate(elements) if isinstance(e, tuple)]
    if any(k1 >= k2 for (_, k1), (_, k2) in zip(anchors, anchors[1:], strict=False)) or \
            any(not 0 <= k < rank for _, k in anchors):
        return None
    if sum(1 for e in elements if e == -1) > 1:
        return None
    steps, codes = [], []
    shift = 0  # axes added (+) or merged away (-) by the steps so far
    bounds = [*anchors, (len(elements), rank)]
    prev_i, prev_k = -1, -1
    for i, k in bounds:
        dims = list(range(prev_k + 1, k))
        targets = [int(e) for e in elements[prev_i + 1:i]]
        first = prev_k + 1 + shift  # the segment's first axis in the stepped input
        if len(dims) > len(targets):
            if not targets:
                if any(in_shape[d] != 1 for d in dims):
                    return None
                codes += [-3] * len(dims)  # drop unit axes
            else:
                for _ in range(len(dims) - len(targets)):
                    steps.append(("merge", first))
                    shift -= 1
                codes += targets
        else:
            for _ in range(len(targets) - len(dims)):
                steps.append(("insert", first))
                shift += 1
            codes += targets
        if i < len(elements):
            codes.append(-2)
        prev_i, prev_k = i, k
    return steps, codes


def _reshape_dynamic(node, ctx, x):
    """A Reshape target with runtime elements. The whole shape of another tensor is
    reshape_like; else each runtime element must be a copy of one of the input's dims (in
    order) or the one left to infer."""
    like = _whole_shape_of(ctx, node.inputs[1])
    if like is not None:
        return legacy(mx.sym.reshape_like, x, ctx.sym(like))
    part = ctx.partial_value(node.inputs[1])
    in_shape = ctx.in_shape(node, 0)
    if part is None or in_shape is None:
        return None
    values, known, sources = (np.asarray(a).reshape(-1) for a in part)
    allowzero = bool(node.attr("allowzero", 0))
    elements = []
    for i, (v, k, src) in enumerate(zip(values, known, sources, strict=True)):
        if k:
            elements.append(("dim", i) if v == 0 and not allowzero else int(v))
        elif src is not None and src[0] == node.inputs[0]:
            elements.append(("dim", int(src[1])))
        else:
            elements.append(None)
    if elements.count(None) > 1 or (None in elements and -1 in elements):
        return None
    plan = _reshape_plan(in_shape, [-1 if e is None else e for e in elements])
    if plan is None:
        return None
    steps, codes = plan
    for op, axis in steps:
        if op == "merge":
            x = npx.reshape(x, (-2,) * axis + (-5, -4))
        else:
            x = npm.expand_dims(x, axis=axis)
    return npx.reshape(x, tuple(codes))


@converter("Reshape", 5, 13, 14, 19, 21, 23, 24, 25)
def reshape(node, ctx):
    x = ctx.input(node, 0)
    out = ctx.out_shape(node)
    in_shape = ctx.in_shape(node, 0)
    if not ctx.has_value(node.inputs[1]):
        dynamic = _reshape_dynamic(node, ctx, x)
        if dynamic is not None:
            return dynamic
    target = _ints(ctx.input_value(node, 1, " (the Reshape target shape)"))
    allowzero = bool(node.attr("allowzero", 0))
    if not allowzero and 0 in target:
        if in_shape is not None and all(in_shape[i] is not None
                                        for i, d in enumerate(target) if d == 0
                                        and i < len(in_shape)):
            target = [in_shape[i] if d == 0 else d for i, d in enumerate(target)]
        else:
            target = [-2 if d == 0 else d for i, d in enumerate(target)]
            return npx.reshape(x, tuple(target))
    if out is not None and all(d is not None for d in out) and -1 in target:
        target = list(out)
    return npm.reshape(x, tuple(target))


@converter("Transpose", 1, 13, 21, 23, 24, 25)
def transpose(node, ctx):
    x = ctx.input(node, 0)
    perm = node.attr("perm")
    if perm is None:
        return npm.transpose(x)
    return npm.transpose(x, axes=tuple(int(p) for p in perm))


@converter("Concat", 4, 11, 13)
def concat(node, ctx):
    rank = ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis"), rank)
    present = [i for i in range(len(node.inputs)) if node.has_input(i)]
    # MXNet cannot concatenate zero-size pieces: leave them out
    nonempty = [i for i in present
                if (ctx.in_shape(node, i) or (None,) * rank)[axis] != 0]
    syms = [ctx.input(node, i) for i in (nonempty or present[:1])]
    if len(syms) == 1:
        return npm.copy(syms[0])
    return npm.concatenate(syms, axis=axis)


@converter("Split", 2, 11, 13, 18)
def split(node, ctx):
    x = ctx.input(node, 0)
    shape = ctx.in_shape(node, 0)
    rank = len(shape)
    axis = norm_axis(node.attr("axis", 0), rank)
    dim = shape[axis]
    n_out = len(node.outputs)
    if ctx.opset >= 13:
        sizes = ctx.optional_value(node, 1, " (the Split sizes)")
        sizes = None if sizes is None else _ints(sizes)
    else:
        sizes = node.attr("split")
        sizes = list(sizes) if sizes else None
    if not sizes:
        if dim is None:
            raise ctx.error("Split needs a static size on the split axis")
        n = int(node.attr("num_outputs", n_out))
        chunk = -(-dim // n)
        sizes = [chunk] * (n - 1) + [dim - chunk * (n - 1)]
    outs, start = [], 0
    for size in sizes:
        outs.append(slice_axis(x, axis, start, start + size))
        start += size
    return outs


def _clamp_slice(start, end, step, dim):
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        start, end = min(max(start, 0), dim), min(max(end, 0), dim)
    else:
        start, end = min(max(start, -1), dim - 1), min(max(end, -1), dim - 1)
    return start, end


def _slice(node, ctx, starts, ends, axes, steps):
    x = ctx.input(node, 0)
    rank = ctx.rank(node, 0)
    shape = ctx.in_shape(node, 0) or (None,) * rank
    axes = norm_axes(axes if axes is not None else range(len(starts)), rank)
    steps = steps if steps is not None else [1] * len(starts)
    begin, end, stride = [None] * rank, [None] * rank, [None] * rank
    huge = 2**31 - 1
    for a, s, e, st in zip(axes, starts, ends, steps, strict=False):
        dim = shape[a]
        if dim is None:  # a dynamic axis: MXNet's slice clamps and takes negative bounds
            s, e = int(s), int(e)
            begin[a] = s if -huge < s < huge else None
            end[a] = e if -huge < e < huge else None
            stride[a] = int(st)
            continue
        s, e = _clamp_slice(int(s), int(e), int(st), dim)
        begin[a], end[a], stride[a] = s, (None if e < 0 else e), int(st)
        if st > 0 and e <= s:
            begin[a], end[a] = 0, 0
        if st < 0 and e >= s:
            begin[a], end[a], stride[a] = 0, 0, 1
    if rank > 6:   # MXNet slices at most 6 axes: slice one axis at a time on a 3-D view
        if any(d is None for d in shape):
            raise ctx.error("slicing a tensor of rank > 6 needs a static shape")
        out, cur = x, list(shape)
        for a in sorted(set(axes)):
            if begin[a] is None:
                continue
            pre, post = int(np.prod(cur[:a], dtype=np.int64)), int(np.prod(cur[a + 1:],
                                                                          dtype=np.int64))
            view = npx.slice(npm.reshape(out, (pre, cur[a], post)), begin=(None, begin[a]),
                             end=(None, end[a]), step=(None, stride[a]))
            size = len(range(*slice(begin[a], end[a], stride[a]).indices(cur[a])))
            cur[a] = size
            out = npm.reshape(view, tuple(cur))
        return out
    last = max(axes) + 1
    begin, end, stride = begin[:last], end[:last], [1 if s is None else s for s in stride[:last]]
    return npx.slice(x, begin=tuple(begin), end=tuple(end), step=tuple(stride))


@converter("Slice", 1)
def slice_v1(node, ctx):
    return _slice(node, ctx, node.attr("starts"), node.attr("ends"), node.attr("axes"), None)


def _slice_like_dynamic(node, ctx):
    """Slice ends read from another tensor's runtime shape (an exported slice_like): from 0,
    step 1, every runtime end the size of that tensor's same axis -> MXNet's slice_like, after
    slicing the axes whose ends are known."""
    ends = ctx.partial_value(node.inputs[2])
    if ends is None or not ctx.has_value(node.inputs[1]):
        return None
    starts = _ints(ctx.input_value(node, 1))
    axes = ctx.optional_value(node, 3) if node.has_input(3) else None
    steps = ctx.optional_value(node, 4) if node.has_input(4) else None
    rank = ctx.rank(node, 0)
    axes = norm_axes(_ints(axes) if axes is not None else range(len(starts)), rank)
    steps = _ints(steps) if steps is not None else [1] * len(starts)
    values, known, sources = (np.asarray(a).reshape(-1) for a in ends)
    like, like_axes, rest = None, [], []
    for a, s, e, st, k, src in zip(axes, starts, values, steps, known, sources, strict=True):
        if k:
            rest.append((a, s, int(e), st))
            continue
        if src is None or s != 0 or st != 1 or src[1] != a or like not in (None, src[0]):
            return None
        like = src[0]
        like_axes.append(a)
    x = ctx.input(node, 0)
    if rest:
        begin, end, step = [None] * rank, [None] * rank, [None] * rank
        for a, s, e, st in rest:
            begin[a], end[a], step[a] = s, e, st
        x = npx.slice(x, begin=tuple(begin), end=tuple(end), step=tuple(step))
    return legacy(mx.sym.slice_like, x, ctx.sym(like), axes=tuple(like_axes))


@converter("Slice", 10, 11, 13)
def slice_op(node, ctx):
    why = " (Slice starts/ends/axes/steps)"
    if not ctx.has_value(node.inputs[2]):
        dynamic = _slice_like_dynamic(node, ctx)
        if dynamic is not None:
            return dynamic
    starts = _ints(ctx.input_value(node, 1, why))
    ends = _ints(ctx.input_value(node, 2, why))
    axes = ctx.optional_value(node, 3, why)
    steps = ctx.optional_value(node, 4, why)
    return _slice(node, ctx, starts, ends, None if axes is None else _ints(axes),
                  None if steps is None else _ints(steps))


@converter("Gather", 1, 11, 13)
def gather(node, ctx):
    x, idx = ctx.input(node, 0), ctx.input(node, 1)
    rank = ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis", 0), rank)
    return npm.take(x, idx, axis=axis, mode="wrap")


def _fix_negative(idx, dim):
    return npm.where(idx < 0, idx + dim, idx)


def arange_along(sym, axis: int | None = None, dtype=None):
    """0 .. n-1 along ``axis`` of ``sym``'s runtime shape, in ``sym``'s dtype. MXNet's
    arange_like cannot fill bool arrays: a bool ``sym`` (its ``dtype``) is read as float32."""
    if dtype is not None and np.dtype(dtype) == np.bool_:
        sym = cast(sym, "float32")
    kwargs = {} if axis is None else {"axis": axis}
    return legacy(mx.sym.contrib.arange_like, sym, **kwargs)


def axis_grid(like, axis: int, rank: int):
    """The index along ``axis`` of every element of ``like`` (int64, shaped like ``like``),
    from its runtime shape: dynamic axes stay dynamic, and no index grid is stored."""
    along = arange_along(like, axis)
    shape = [1] * rank
    shape[axis] = -1
    return cast(legacy(mx.sym.broadcast_like, npm.reshape(along, tuple(shape)), like), "int64")


def _runtime_dim(sym, axis: int, dtype=None):
    """The size of ``axis`` of ``sym`` as an int64 scalar symbol."""
    along = arange_along(sym, axis, dtype)
    return cast(npm.sum(npm.ones_like(along)), "int64")


def _grid_gather(ctx, node, data, idx, axis, rank):
    data_shape = ctx.in_shape(node, 0)
    dim = data_shape[axis] if data_shape is not None and data_shape[axis] is not None \
        else _runtime_dim(data, axis, ctx.in_dtype(node, 0))
    coords = [cast(_fix_negative(cast(idx, "int64"), dim), "int64") if d == axis
              else axis_grid(idx, d, rank) for d in range(rank)]
    return npm.stack(coords, axis=0)


@converter("GatherElements", 11, 13)
def gather_elements(node, ctx):
    data, idx = ctx.input(node, 0), ctx.input(node, 1)
    # data and indices have the same rank; either one's may be the known one
    rank = ctx.rank(node, 1) if ctx.in_shape(node, 1) is not None else ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis", 0), rank)
    return npx.gather_nd(data, _grid_gather(ctx, node, data, idx, axis, rank))


@converter("GatherND", 11, 12, 13)
def gather_nd(node, ctx):
    data, idx = ctx.input(node, 0), ctx.input(node, 1)
    data_shape = ctx.in_shape(node, 0)
    idx_shape = ctx.in_shape(node, 1)
    if data_shape is None or idx_shape is None or idx_shape[-1] is None:
        raise ctx.error("GatherND needs the ranks of its inputs and the index depth; give "
                        "input_shapes")
    b = int(node.attr("batch_dims", 0))
    m = idx_shape[-1]
    idx = cast(idx, "int64")
    cols = [npm.squeeze(slice_axis(idx, len(idx_shape) - 1, k, k + 1), axis=-1)
            for k in range(m)]
    parts = []
    if b:  # the batch coordinates of every index row, from the runtime shape
        for d in range(b):
            parts.append(axis_grid(cols[0], d, len(idx_shape) - 1))
    for k, col in enumerate(cols):
        dim = data_shape[b + k]
        if dim is None:
            dim = _runtime_dim(data, b + k, ctx.in_dtype(node, 0))
        parts.append(_fix_negative(col, dim))
    return npx.gather_nd(data, npm.stack(parts, axis=0))


def _scatter_coords(ctx, node, idx, axis, idx_shape, data_shape):
    return _grid_gather(ctx, node, None, idx, axis, len(data_shape))


def _scatter(node, ctx, data, upd, coords, shape):
    """data with ``upd`` written (or added) at ``coords`` (ndim, ...) - all in MXNet."""
    import mxnet as mx
    reduction = node.attr("reduction", "none")
    if reduction == "add":
        summed = legacy(mx.sym._internal._backward_gather_nd, upd, coords, shape=tuple(shape))
        return data + summed
    if reduction in ("mul", "max", "min"):
        return _scatter_reduce(node, ctx, data, upd, coords, shape, reduction)
    if reduction != "none":
        raise ctx.error(f"reduction={reduction!r} is not supported")
    written = legacy(mx.sym.scatter_nd, upd, coords, shape=tuple(shape))
    hit = legacy(mx.sym.scatter_nd, npm.ones_like(upd, dtype="float32"), coords,
                 shape=tuple(shape))
    return npm.where(hit != 0, written, data)


_SCATTER_DENSE_LIMIT = 1 << 24


def _scatter_reduce(node, ctx, data, upd, coords, shape, reduction):
    """mul / max / min scatter, duplicates included, as a dense reduction: every update is
    compared with every target row (a [K, P] match mask), unmatched entries take the
    reduction's identity, and the reduced [P, T] block is combined with ``data``. Exact for max
    and min (and integer mul); float mul differs from a sequential product only by rounding.
    Refused above 2^24 mask elements."""
    q = ctx.static_shape(node, 1)[-1] if node.op_type == "ScatterND" else len(shape)
    rows = int(np.prod(shape[:q], dtype=np.int64))
    tail = int(np.prod(shape[q:], dtype=np.int64))
    upd_shape = ctx.static_shape(node, 2)
    count = int(np.prod(upd_shape, dtype=np.int64)) // max(tail, 1)
    if count * rows * tail > _SCATTER_DENSE_LIMIT:
        raise ctx.error(f"reduction={reduction!r} over {count} updates x {rows * tail} "
                        "elements is too large for the dense construction")
    dtype = ctx.in_dtype(node, 0)
    flat = None
    for i in range(q):
        stride = int(np.prod(shape[i + 1:q], dtype=np.int64))
        col = npm.reshape(slice_axis(coords, 0, i, i + 1), (-1,))
        term = col * stride if stride != 1 else col
        flat = term if flat is None else flat + term
    targets = ctx.const(np.arange(rows, dtype=np.int64).reshape(1, rows), "int64", "rows")
    match = npm.reshape(npm.equal(npm.reshape(flat, (count, 1)), targets), (count, rows, 1))
    values = npm.reshape(upd, (count, 1, tail))
    if reduction == "mul":
        ident = 1
    elif is_float(dtype):
        ident = -np.inf if reduction == "max" else np.inf
    else:
        info = np.iinfo(dtype)
        ident = int(info.min if reduction == "max" else info.max)
    filled = npm.where(match, values, npm.full((1, 1, 1), ident, dtype=dtype))
    block = npm.reshape(data, (rows, tail))
    if reduction == "mul":
        out = block * npm.prod(filled, axis=0)
    elif reduction == "max":
        out = npm.maximum(block, npm.max(filled, axis=0))
    else:
        out = npm.minimum(block, npm.min(filled, axis=0))
    return npm.reshape(out, tuple(shape))


@converter("Scatter", 9)
@converter("ScatterElements", 11, 13, 16, 18)
def scatter_elements(node, ctx):
    data, idx, upd = (ctx.input(node, i) for i in range(3))
    data_shape = ctx.static_shape(node, 0)
    axis = norm_axis(node.attr("axis", 0), len(data_shape))
    coords = _grid_gather(ctx, node, None, idx, axis, len(data_shape))
    return _scatter(node, ctx, data, upd, coords, data_shape)


@converter("ScatterND", 11, 13, 16, 18)
def scatter_nd(node, ctx):
    data, idx, upd = (ctx.input(node, i) for i in range(3))
    idx_rank = ctx.rank(node, 1)
    data_shape = ctx.static_shape(node, 0)
    coords = npm.moveaxis(cast(idx, "int64"), idx_rank - 1, 0)
    coords = npm.where(coords < 0, coords + ctx.const(
        np.array(data_shape[:ctx.static_shape(node, 1)[-1]], dtype=np.int64).reshape(
            (-1,) + (1,) * (idx_rank - 1)), "int64", "dims"), coords)
    return _scatter(node, ctx, data, upd, coords, data_shape)


def _axes_value(node, ctx, attr_versions_below):
    if ctx.opset < attr_versions_below:
        axes = node.attr("axes")
        return None if axes is None else list(axes)
    axes = ctx.optional_value(node, 1, " (the axes)")
    return None if axes is None else _ints(axes)


@converter("Squeeze", 1, 11, *VERSIONS_13_25[:1], 21, 23, 24, 25)
def squeeze(node, ctx):
    x = ctx.input(node, 0)
    axes = _axes_value(node, ctx, 13)
    shape = ctx.in_shape(node, 0)
    if axes is None:
        if shape is None or any(d is None for d in shape):
            return npm.squeeze(x)
        axes = [i for i, d in enumerate(shape) if d == 1]
        if not axes:
            return npm.copy(x)
    rank = len(shape) if shape is not None else ctx.rank(node, 0)
    return npm.squeeze(x, axis=tuple(norm_axes(axes, rank)))


@converter("Unsqueeze", 1, 11, 13, 21, 23, 24, 25)
def unsqueeze(node, ctx):
    x = ctx.input(node, 0)
    axes = _axes_value(node, ctx, 13)
    out_rank = ctx.rank(node, 0) + len(axes)
    for axis in sorted(norm_axes(axes, out_rank)):
        x = npm.expand_dims(x, axis=axis)
    return x


def _broadcast_shape(a, b):
    a, b = list(a), list(b)
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
    out = []
    for x, y in zip(a, b, strict=False):
        if x is None or y is None:
            out.append(None if (x in (None, 1) and y in (None, 1)) or x is None and y is None
                       else (y if x is None or x == 1 else x))
        else:
            out.append(max(x, y) if 1 in (x, y) else x)
    return out


def _expand_dynamic(node, ctx, x):
    """Expand to a shape with runtime elements: each one copied from a dim of some tensor
    (``Shape(t)[j]``) becomes a broadcast_like along that axis; known ones a broadcast_to."""
    part = ctx.partial_value(node.inputs[1])
    shape = ctx.in_shape(node, 0)
    if part is None or shape is None:
        return None
    values, known, sources = (np.asarray(a).reshape(-1) for a in part)
    if any(not k and s is None for k, s in zip(known, sources, strict=True)):
        return None
    rank = max(len(values), len(shape))
    for _ in range(rank - len(shape)):
        x = npm.expand_dims(x, 0)
    full = [None] * (rank - len(shape)) + list(shape)
    offset = rank - len(values)
    static = [0] * rank  # legacy broadcast_to: 0 keeps the input dim
    for i, (v, k) in enumerate(zip(values, known, strict=True)):
        if k and v != 1 and full[offset + i] != v:
            static[offset + i] = int(v)
    if any(static):
        x = legacy(mx.sym.broadcast_to, x, shape=tuple(static))
    for i, (k, src) in enumerate(zip(known, sources, strict=True)):
        # only a 1 broadcasts; an input dim that is not 1 (or dynamic) already matches
        if not k and full[offset + i] == 1:
            x = legacy(mx.sym.broadcast_like, x, ctx.sym(src[0]), lhs_axes=(offset + i,),
                       rhs_axes=(src[1],))
    return x


@converter("Expand", 8, 13)
def expand(node, ctx):
    x = ctx.input(node, 0)
    if not ctx.has_value(node.inputs[1]):
        out = _expand_dynamic(node, ctx, x)
        if out is not None:
            return out
    target = _ints(ctx.input_value(node, 1, " (the Expand shape)"))
    shape = ctx.in_shape(node, 0)
    out = _broadcast_shape(shape, target) if shape is not None else None
    if out is None or any(d is None for d in out):
        out = ctx.out_shape(node)
    if (out is None or any(d is None for d in out)) and shape is not None \
            and len(shape) <= len(target):
        # dynamic input dims under a constant target: a target of 1 keeps the input's dim,
        # which MXNet's broadcast_to writes as 0
        for _ in range(len(target) - len(shape)):
            x = npm.expand_dims(x, axis=0)
        return legacy(mx.sym.broadcast_to, x, shape=tuple(0 if t == 1 else t for t in target))
    if out is None or any(d is None for d in out):
        raise ctx.error("Expand needs a static output shape")
    return npm.broadcast_to(x, tuple(out))


@converter("Tile", 6, 13)
def tile(node, ctx):
    reps = _ints(ctx.input_value(node, 1, " (the Tile repeats)"))
    out = ctx.input(node, 0)
    for axis, rep in enumerate(reps):   # np.tile hits MXNet's 5-axis broadcast limit
        if rep != 1:
            out = npm.concatenate([out] * rep, axis=axis)
    return out if any(r != 1 for r in reps) else npm.copy(out)


@converter("Pad", 2)
def pad_v2(node, ctx):
    pads = list(node.attr("pads"))
    return _pad(node, ctx, pads, float(node.attr("value", 0.0)), None)


@converter("Pad", 11, 13, 18, 19, 21, 23, 24, 25)
def pad(node, ctx):
    pads = _ints(ctx.input_value(node, 1, " (the pads)"))
    value = ctx.optional_value(node, 2, " (the constant pad value)")
    value = 0 if value is None or np.asarray(value).size == 0 else np.asarray(value).ravel()[0]
    axes = ctx.optional_value(node, 3, " (the pad axes)") if ctx.opset >= 18 else None
    return _pad(node, ctx, pads, value, None if axes is None else _ints(axes))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge"}


def _pad(node, ctx, pads, value, axes):
    x = ctx.input(node, 0)
    shape = ctx.in_shape(node, 0)
    rank = len(shape)
    mode = node.attr("mode", "constant")
    axes = list(range(rank)) if axes is None else list(norm_axes(axes, rank))
    n = len(axes)
    width = [[0, 0] for _ in range(rank)]
    for k, axis in enumerate(axes):
        width[axis] = [pads[k], pads[n + k]]
    crop = [[max(-b, 0), max(-e, 0)] for b, e in width]
    width = [[max(b, 0), max(e, 0)] for b, e in width]
    if mode == "wrap":
        out = x
        for axis, (b, e) in enumerate(width):
            if not b and not e:
                continue
            dim = shape[axis]
            parts = []
            if b:
                parts.append(slice_axis(out, axis, dim - b, dim))
            parts.append(out)
            if e:
                parts.append(slice_axis(out, axis, 0, e))
            out = npm.concatenate(parts, axis=axis)
    elif mode not in _PAD_MODES:
        raise ctx.error(f"Pad mode {mode!r} is not supported")
    elif any(b or e for b, e in width):
        if mode == "constant":
            value = float(value) if is_float(ctx.in_dtype(node, 0)) else int(value)
            out = pad_constant(x, width, value)
        else:
            out = npm.pad(x, pad_width=tuple(tuple(w) for w in width), mode=_PAD_MODES[mode])
    else:
        out = npm.copy(x)
    for axis, (b, e) in enumerate(crop):
        if b or e:
            dim = shape[axis] + width[axis][0] + width[axis][1]
            out = slice_axis(out, axis, b, dim - e)
    return out


@converter("Shape", 1, 13, 15, 19, 21, 23, 24, 25)
def shape_op(node, ctx):
    x = ctx.input(node, 0)
    shape = ctx.in_shape(node, 0)
    rank = ctx.rank(node, 0)
    start, end = int(node.attr("start", 0)), node.attr("end")
    start = min(max(start + rank if start < 0 else start, 0), rank)
    end = rank if end is None else int(end)
    end = min(max(end + rank if end < 0 else end, 0), rank)
    if shape is not None and all(d is not None for d in shape[start:end]):
        return ctx.const(np.array(shape[start:end], dtype=np.int64), "int64", "shape")
    out = cast(npx.shape_array(x), "int64")
    return slice_axis(out, 0, start, end) if (start, end) != (0, rank) else out


@converter("Size", 1, 13, 19, 21, 23, 24, 25)
def size_op(node, ctx):
    shape = ctx.in_shape(node, 0)
    if shape is not None and all(d is not None for d in shape):
        return ctx.const(np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64),
                         "int64", "size")
    return cast(npm.prod(cast(npx.shape_array(ctx.input(node, 0)), "int64")), "int64")


def _whole_shape_of(ctx, name):
    """The tensor whose whole runtime shape ``name`` is (a ``Shape`` without start/end), when
    that shape is not a constant; else None."""
    if ctx.has_value(name):
        return None
    producer = ctx.producers.get(name)
    if producer is None or producer.op_type != "Shape":
        return None
    attrs = {a.name: a.i for a in producer.attribute}
    if attrs.get("start", 0) != 0 or "end" in attrs:
        return None
    return producer.input[0]


@converter("ConstantOfShape", 9, 20, 21, 23, 24, 25)
def constant_of_shape(node, ctx):
    value = node.attr("value")
    if value is None:
        fill, dtype = 0.0, np.dtype("float32")
    else:
        from onnx import numpy_helper
        arr = numpy_helper.to_array(value)
        fill, dtype = arr.ravel()[0], ctx.check_dtype(arr.dtype, node.outputs[0])
    like = _whole_shape_of(ctx, node.inputs[0])
    if like is not None:  # the shape of a runtime tensor (dynamic axes): MXNet's full_like
        return npm.full_like(ctx.sym(like), fill.item() if hasattr(fill, "item") else fill,
                             dtype=dtype)
    shape = tuple(_ints(ctx.input_value(node, 0, " (the ConstantOfShape shape)")))
    if not shape:
        return ctx.const(np.array(fill, dtype=dtype), dtype, "value")
    return npm.full(shape, fill.item() if hasattr(fill, "item") else fill, dtype=dtype)


def dim_source(ctx, name):
    """(tensor, axis) when ``name`` holds one runtime dim of a tensor: Shape followed by
    Gather / Slice of one element, Squeeze, Unsqueeze, Reshape, Cast or Identity."""
    node = ctx.producers.get(name)
    picked = None
    while node is not None:
        if node.op_type in ("Squeeze", "Unsqueeze", "Reshape", "Cast", "Identity"):
            node = ctx.producers.get(node.input[0])
            continue
        if node.op_type in ("Gather", "Slice") and picked is None:
            part = ctx.partial_value(node.input[1])
            if part is None or not part[1].all() or part[0].size != 1:
                return None
            if node.op_type == "Slice":
                ends = ctx.partial_value(node.input[2])
                if ends is None or int(ends[0].reshape(-1)[0]) != int(part[0].reshape(-1)[0]) + 1:
                    return None
                if len(node.input) > 3 and node.input[3]:
                    return None
            picked = int(part[0].reshape(-1)[0])
            node = ctx.producers.get(node.input[0])
            continue
        if node.op_type == "Shape" and picked is not None:
            attrs = {a.name: a.i for a in node.attribute}
            shape = ctx.shape(node.input[0])
            if shape is None:
                return None
            start = attrs.get("start", 0)
            axis = norm_axis(start, len(shape)) + picked
            return node.input[0], norm_axis(axis, len(shape))
        return None
    return None


@converter("Range", 11, 27)
def range_op(node, ctx):
    why = " (Range bounds)"
    dtype = ctx.out_dtype(node)
    if not ctx.has_value(node.inputs[1]) and ctx.has_value(node.inputs[0]) and \
            ctx.has_value(node.inputs[2]):
        source = dim_source(ctx, node.inputs[1])
        first = np.asarray(ctx.input_value(node, 0, why)).item()
        step = np.asarray(ctx.input_value(node, 2, why)).item()
        if source is not None and first == 0 and step == 1:  # 0 .. dim: MXNet's arange_like
            return cast(arange_along(ctx.sym(source[0]), source[1], ctx.dtype(source[0])),
                        dtype)
    start, limit, delta = (np.asarray(ctx.input_value(node, i, why)).item() for i in range(3))
    count = max(int(np.ceil((limit - start) / delta)), 0)
    if count == 0:
        return ctx.const(np.zeros((0,), dtype=dtype), dtype, "empty")
    if is_float(dtype):
        # start + i * delta, as the spec defines it (no accumulated rounding)
        idx = npm.arange(0, count, 1, dtype="float64")
        return cast(idx * float(delta) + float(start), dtype)
    return cast(npm.arange(0, count, 1, dtype="int64") * int(delta) + int(start), dtype)


@converter("OneHot", 9, 11, 28)
def one_hot(node, ctx):
    idx = ctx.input(node, 0)
    depth = int(np.asarray(ctx.input_value(node, 1, " (the OneHot depth)")).ravel()[0])
    values = ctx.input(node, 2)
    rank = ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis", -1), rank + 1)
    dtype = ctx.out_dtype(node)
    idx = cast(idx, "int64") if is_float(ctx.in_dtype(node, 0)) else idx
    idx = npm.where(idx < 0, idx + depth, idx)
    hot = npx.one_hot(idx, depth=depth, dtype="uint8")
    if axis != rank:
        hot = npm.moveaxis(hot, rank, axis)
    hot = hot.astype("bool")
    off = npm.take(values, npm.zeros((1,), dtype="int64"), axis=0)
    on = npm.take(values, npm.ones((1,), dtype="int64"), axis=0)
    return cast(npm.where(hot, on, off), dtype)


@converter("DepthToSpace", 1, 11, 13, 28)
def depth_to_space(node, ctx):
    x = ctx.input(node, 0)
    n, c, h, w = ctx.static_shape(node, 0)
    b = int(node.attr("blocksize"))
    if node.attr("mode", "DCR") == "DCR":
        y = npm.reshape(x, (n, b, b, c // (b * b), h, w))
        y = npm.transpose(y, axes=(0, 3, 4, 1, 5, 2))
    else:
        y = npm.reshape(x, (n, c // (b * b), b, b, h, w))
        y = npm.transpose(y, axes=(0, 1, 4, 2, 5, 3))
    return npm.reshape(y, (n, c // (b * b), h * b, w * b))


@converter("SpaceToDepth", 1, 13, 28)
def space_to_depth(node, ctx):
    x = ctx.input(node, 0)
    n, c, h, w = ctx.static_shape(node, 0)
    b = int(node.attr("blocksize"))
    y = npm.reshape(x, (n, c, h // b, b, w // b, b))
    if node.attr("mode", "DCR") == "CRD":
        y = npm.transpose(y, axes=(0, 1, 3, 5, 2, 4))
    else:
        y = npm.transpose(y, axes=(0, 3, 5, 1, 2, 4))
    return npm.reshape(y, (n, c * b * b, h // b, w // b))


@converter("Trilu", 14)
def trilu(node, ctx):
    x = ctx.input(node, 0)
    shape = ctx.static_shape(node, 0)
    k = ctx.optional_value(node, 1, " (the Trilu diagonal)")
    k = 0 if k is None else int(np.asarray(k).ravel()[0])
    rows, cols = shape[-2], shape[-1]
    ones = np.ones((rows, cols), dtype=bool)
    mask = np.triu(ones, k) if node.attr("upper", 1) else np.tril(ones, k)
    return npm.where(ctx.const(mask, "bool", "mask"), x, npm.zeros_like(x))


@converter("EyeLike", 9, 22)
def eye_like(node, ctx):
    shape = ctx.static_shape(node, 0)
    dtype = ctx.out_dtype(node)
    value = np.eye(shape[0], shape[1], k=int(node.attr("k", 0)), dtype=dtype)
    return npm.copy(ctx.const(value, dtype, "eye"))


@converter("CumSum", 11, 14)
def cumsum(node, ctx):
    x = ctx.input(node, 0)
    rank = ctx.rank(node, 0)
    axis = norm_axis(int(np.asarray(ctx.input_value(node, 1, " (the CumSum axis)")).ravel()[0]),
                     rank)
    dtype = ctx.in_dtype(node, 0)
    reverse, exclusive = node.attr("reverse", 0), node.attr("exclusive", 0)
    y = npm.flip(x, axis=axis) if reverse else x
    out = npm.cumsum(y, axis=axis, dtype=dtype)
    if exclusive:
        out = out - y
    return npm.flip(out, axis=axis) if reverse else out


@converter("CumProd", 26)
def cumprod(node, ctx):
    """MXNet has no cumprod: an inclusive scan in log2(n) steps (Hillis-Steele), each step
    multiplying by the running products shifted by 2^k with ones shifted in. Integer results are
    exact (wrap-around included); float ones differ from a sequential product only by rounding."""
    x = ctx.input(node, 0)
    shape = ctx.in_shape(node, 0)
    if shape is None:
        raise ctx.error("the rank of the CumProd input is unknown; give input_shapes")
    axis = norm_axis(int(np.asarray(ctx.input_value(node, 1, " (the CumProd axis)")).ravel()[0]),
                     len(shape))
    length = shape[axis]
    if length is None:
        raise ctx.error("CumProd needs a static length on its axis; give input_shapes")

    def shifted(sym, step):
        """``sym`` moved ``step`` places along the axis, ones filling the front."""
        if step >= length:
            return npm.ones_like(sym)
        ones = npm.ones_like(slice_axis(sym, axis, 0, step))
        return npm.concatenate([ones, slice_axis(sym, axis, 0, length - step)], axis=axis)

    y = npm.flip(x, axis=axis) if node.attr("reverse", 0) else x
    step = 1
    while step < length:
        y = y * shifted(y, step)
        step *= 2
    if node.attr("exclusive", 0) and length:
        y = shifted(y, 1)
    return npm.flip(y, axis=axis) if node.attr("reverse", 0) else y


@converter("TopK", 10, 11, 24)
def topk(node, ctx):
    x = ctx.input(node, 0)
    rank = ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis", -1), rank)
    whole = not ctx.has_value(node.inputs[1]) and \
        dim_source(ctx, node.inputs[1]) in ((node.inputs[0], axis),)
    k = None if whole else int(np.asarray(ctx.input_value(node, 1, " (TopK k)")).ravel()[0])
    largest = bool(node.attr("largest", 1)) if ctx.opset >= 11 else True
    dtype = ctx.in_dtype(node, 0)
    # stable sort so that equal values keep the lower index first, as ONNX requires
    keys = npm.negative(x) if largest else x
    if not is_float(dtype):
        keys = cast(keys, "float64")
    order = npm.argsort(keys, axis=axis)
    idx = order if k is None else slice_axis(order, axis, 0, k)  # k = the whole axis
    idx = cast(idx, "int64")
    values = _take_along(ctx, node, x, idx, axis, rank)
    return [values, idx]


def _take_along(ctx, node, x, idx, axis, rank):
    """x[..., idx, ...] along ``axis`` (numpy's take_along_axis) as one gather_nd."""
    coords = [idx if d == axis else axis_grid(idx, d, rank) for d in range(rank)]
    return npx.gather_nd(x, npm.stack(coords, axis=0))
