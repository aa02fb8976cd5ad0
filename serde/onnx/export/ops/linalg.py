"""Matrix products: dot, batch_dot, linalg_gemm2 and the fused self-attention contrib ops."""
from __future__ import annotations

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import Builder, scalar_const


def _reshape(ctx: ExportContext, node: MxNode, tensor: str, shape: list[int], suffix: str) -> str:
    if list(ctx.shape(tensor)) == list(shape):
        return tensor
    return ctx.emit1("Reshape", [tensor, ctx.add_int64(shape, f"{node.name}_{suffix}_shape")],
                     name=f"{node.name}_{suffix}", shape=tuple(shape))


def _swap_last(ctx: ExportContext, node: MxNode, tensor: str, suffix: str) -> str:
    rank = len(ctx.shape(tensor))
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    shape = list(ctx.shape(tensor))
    shape[-2], shape[-1] = shape[-1], shape[-2]
    return ctx.emit1("Transpose", [tensor], name=f"{node.name}_{suffix}", perm=perm,
                     shape=tuple(shape))


@register("dot")
def dot(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet's dot views each operand as a matrix: ``a`` as (prod(shape[:-1]), shape[-1]) and
    ``b`` as (shape[0], prod(shape[1:])), or the other split when transposed."""
    if node.str("forward_stype", "None") not in ("None", "default"):
        raise node.fail("dot with a sparse forward_stype is not supported")
    a, b = node.inputs[:2]
    sa, sb = list(ctx.shape(a)), list(ctx.shape(b))
    # a dynamic leading axis of ``a`` (the batch) stays the leading axis of the product
    lead = -1 if ctx.has_dynamic_axes and len(sa) >= 2 and not node.bool("transpose_a", False) \
        else None
    if node.bool("transpose_a", False):
        a2 = _swap_last(ctx, node, _reshape(ctx, node, a, [sa[0], int(np.prod(sa[1:]))], "a2"),
                        "a_t")
    else:
        a2 = _reshape(ctx, node, a, [int(np.prod(sa[:-1])), sa[-1]], "a2")
        if lead is not None and a2 != a:  # the batch stays the leading axis of the product
            ctx.nodes[-1].input[1] = ctx.add_int64([-1, sa[-1]], f"{node.name}_a2_dynamic")
    if node.bool("transpose_b", False):
        b2 = _swap_last(ctx, node, _reshape(ctx, node, b, [int(np.prod(sb[:-1])), sb[-1]], "b2"),
                        "b_t")
    else:
        b2 = _reshape(ctx, node, b, [sb[0], int(np.prod(sb[1:]))], "b2")
    out_shape = list(ctx.shape(node.outputs[0]))
    rows, cols = ctx.shape(a2)[0], ctx.shape(b2)[1]
    if out_shape == [rows, cols]:
        return ctx.emit("MatMul", [a2, b2], node.outputs[:1], name=node.name)
    product = ctx.emit1("MatMul", [a2, b2], name=f"{node.name}_matmul", shape=(rows, cols))
    target = out_shape if lead is None else [lead] + out_shape[1:]
    return ctx.emit("Reshape", [product, ctx.add_int64(target, f"{node.name}_shape")],
                    node.outputs[:1], name=node.name)


@register("batch_dot")
def batch_dot(node: MxNode, ctx: ExportContext) -> list[str]:
    if node.str("forward_stype", "None") not in ("None", "default"):
        raise node.fail("batch_dot with a sparse forward_stype is not supported")
    a, b = node.inputs[:2]
    if node.bool("transpose_a", False):
        a = _swap_last(ctx, node, a, "a_t")
    if node.bool("transpose_b", False):
        b = _swap_last(ctx, node, b, "b_t")
    return ctx.emit("MatMul", [a, b], node.outputs[:1], name=node.name)


@register("_linalg_gemm2")
def linalg_gemm2(node: MxNode, ctx: ExportContext) -> list[str]:
    a, b = node.inputs[:2]
    rank = len(ctx.shape(a))
    if node.int("axis", -2) % rank != rank - 2:
        raise node.fail("linalg_gemm2 with axis other than -2 is not supported")
    if node.bool("transpose_a", False):
        a = _swap_last(ctx, node, a, "a_t")
    if node.bool("transpose_b", False):
        b = _swap_last(ctx, node, b, "b_t")
    alpha = node.float("alpha", 1.0)
    if alpha == 1.0:
        return ctx.emit("MatMul", [a, b], node.outputs[:1], name=node.name)
    product = ctx.emit1("MatMul", [a, b], name=f"{node.name}_matmul")
    return ctx.emit("Mul", [product, scalar_const(ctx, node, alpha, a, "alpha")],
                    node.outputs[:1], name=node.name)


@register("_contrib_div_sqrt_dim")
def div_sqrt_dim(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    scale = scalar_const(ctx, node, np.sqrt(ctx.shape(data)[-1]), data, "sqrt_dim")
    return ctx.emit("Div", [data, scale], node.outputs[:1], name=node.name)


def _interleaved_part(ctx: ExportContext, node: MxNode, part: int) -> str:
    """Query (0), key (1) or value (2) of an interleaved (seq, batch, heads * 3 * dim) input,
    as (batch * heads, seq, dim)."""
    return _encdec_heads(ctx, node, node.inputs[0], 3, part, f"part{part}")


@register("_contrib_interleaved_matmul_selfatt_qk")
def selfatt_qk(node: MxNode, ctx: ExportContext) -> list[str]:
    width, heads = ctx.shape(node.inputs[0])[-1], node.int("heads")
    query = _interleaved_part(ctx, node, 0)
    key = _interleaved_part(ctx, node, 1)
    scale = scalar_const(ctx, node, 1.0 / np.sqrt(width // (3 * heads)), node.inputs[0], "scale")
    query = ctx.emit1("Mul", [query, scale], name=f"{node.name}_scaled",
                      shape=ctx.shape(query))
    return ctx.emit("MatMul", [query, _swap_last(ctx, node, key, "key_t")], node.outputs[:1],
                    name=node.name)


@register("_contrib_interleaved_matmul_selfatt_valatt")
def selfatt_valatt(node: MxNode, ctx: ExportContext) -> list[str]:
    seq, batch, width = ctx.shape(node.inputs[0])
    heads = node.int("heads")
    dim = width // (3 * heads)
    value = _interleaved_part(ctx, node, 2)
    mixed = ctx.emit1("MatMul", [node.inputs[1], value], name=f"{node.name}_matmul",
                      shape=(batch * heads, seq, dim))
    return _unmerge_heads(ctx, node, mixed, heads, (batch, heads, seq, dim))


def _unmerge_heads(ctx: ExportContext, node: MxNode, mixed: str, heads: int,
                   shape: tuple[int, ...]) -> list[str]:
    """(B*H, L, D) -> (L, B, H*D), reading L and D from the runtime shape."""
    b = Builder(node, ctx)
    batch, _, length, dim = shape
    rest = b("Slice", b("Shape", mixed, dtype=np.int64), b.i64([1]), b.i64([3]), dtype=np.int64)
    split = ctx.emit1("Reshape", [mixed, b("Concat", b.i64([-1, heads]), rest, axis=0,
                                           dtype=np.int64)],
                      name=f"{node.name}_unmerge", shape=shape)
    moved = ctx.emit1("Transpose", [split], name=f"{node.name}_seq_first", perm=[2, 0, 1, 3],
                      shape=(length, batch, heads, dim))
    return ctx.emit("Reshape", [moved, ctx.add_int64([0, 0, heads * dim],
                                                     f"{node.name}_shape")],
                    node.outputs[:1], name=node.name)


def _encdec_heads(ctx: ExportContext, node: MxNode, tensor: str, parts: int, part: int,
                  label: str) -> str:
    """(L, B, H*parts*D) interleaved per head -> (B*H, L, D) of ``part``."""
    length, batch, width = ctx.shape(tensor)
    heads = node.int("heads")
    dim = width // (parts * heads)
    # 0 copies the (possibly dynamic) sequence and batch sizes from the input
    split = ctx.emit1("Reshape", [tensor, ctx.add_int64([0, 0, heads, parts, dim],
                                                        f"{node.name}_{label}_split_shape")],
                      name=f"{node.name}_{label}_split", shape=(length, batch, heads, parts, dim))
    picked = ctx.emit1("Gather", [split, ctx.add_int64(part, f"{node.name}_{label}_part")],
                       name=f"{node.name}_{label}_pick", axis=3,
                       shape=(length, batch, heads, dim))
    moved = ctx.emit1("Transpose", [picked], name=f"{node.name}_{label}_heads_first",
                      perm=[1, 2, 0, 3], shape=(batch, heads, length, dim))
    return _merge_leading(ctx, node, moved, f"{label}_merge", (batch * heads, length, dim))


def _merge_leading(ctx: ExportContext, node: MxNode, tensor: str, label: str,
                   shape: tuple[int, ...]) -> str:
    """(A, B, C, D) -> (A*B, C, D), with C and D read from the runtime shape."""
    b = Builder(node, ctx)
    rest = b("Slice", b("Shape", tensor, dtype=np.int64), b.i64([2]), b.i64([4]),
             dtype=np.int64)
    target = b("Concat", b.i64([-1]), rest, axis=0, dtype=np.int64)
    out = ctx.emit1("Reshape", [tensor, target], name=f"{node.name}_{label}", shape=shape)
    return out


@register("_contrib_interleaved_matmul_encdec_qk")
def encdec_qk(node: MxNode, ctx: ExportContext) -> list[str]:
    queries, keys_values = node.inputs[:2]
    heads = node.int("heads")
    dim = ctx.shape(queries)[-1] // heads
    query = _encdec_heads(ctx, node, queries, 1, 0, "q")
    key = _encdec_heads(ctx, node, keys_values, 2, 0, "k")
    scale = scalar_const(ctx, node, 1.0 / np.sqrt(dim), queries, "scale")
    query = ctx.emit1("Mul", [query, scale], name=f"{node.name}_scaled", shape=ctx.shape(query))
    return ctx.emit("MatMul", [query, _swap_last(ctx, node, key, "key_t")], node.outputs[:1],
                    name=node.name)


@register("_contrib_interleaved_matmul_encdec_valatt")
def encdec_valatt(node: MxNode, ctx: ExportContext) -> list[str]:
    keys_values, attention = node.inputs[:2]
    heads = node.int("heads")
    _, batch, width = ctx.shape(keys_values)
    dim = width // (2 * heads)
    length_q = ctx.shape(attention)[1]
    value = _encdec_heads(ctx, node, keys_values, 2, 1, "v")
    mixed = ctx.emit1("MatMul", [attention, value], name=f"{node.name}_matmul",
                      shape=(batch * heads, length_q, dim))
    return _unmerge_heads(ctx, node, mixed, heads, (batch, heads, length_q, dim))


# --- _linalg_* (MXNet's BLAS/LAPACK wrappers over the last two axes) -------------------------
def _maybe_t(b: Builder, tensor: str, flag: bool) -> str:
    if not flag:
        return tensor
    rank = len(b.ctx.shape(tensor))
    return b("Transpose", tensor, perm=list(range(rank - 2)) + [rank - 1, rank - 2])


def _linalg_axis_check(node: MxNode, ctx: ExportContext) -> None:
    axis = node.int("axis", -2)
    rank = len(ctx.shape(node.inputs[0]))
    if axis % rank != rank - 2:
        raise node.fail("linalg ops over an axis other than -2 are not supported")


@register("_linalg_gemm")
def linalg_gemm(node: MxNode, ctx: ExportContext) -> list[str]:
    """alpha * op(A) op(B) + beta * C."""
    _linalg_axis_check(node, ctx)
    b = Builder(node, ctx)
    a, bb, c = node.inputs[:3]
    dtype = ctx.dtype(a)
    product = b("MatMul", _maybe_t(b, a, node.bool("transpose_a", False)),
                _maybe_t(b, bb, node.bool("transpose_b", False)))
    scaled = b("Mul", product, b.const(node.float("alpha", 1.0), dtype, "alpha"))
    return [b("Add", scaled, b("Mul", c, b.const(node.float("beta", 1.0), dtype, "beta")))]


@register("_linalg_syrk")
def linalg_syrk(node: MxNode, ctx: ExportContext) -> list[str]:
    """alpha * A A^T (or A^T A with transpose)."""
    b = Builder(node, ctx)
    a = node.inputs[0]
    t = node.bool("transpose", False)
    product = b("MatMul", _maybe_t(b, a, t), _maybe_t(b, a, not t))
    return [b("Mul", product, b.const(node.float("alpha", 1.0), ctx.dtype(a), "alpha"))]


def _triangle(b: Builder, tensor: str, lower: bool, offset: int = 0) -> str:
    rows, cols = b.ctx.shape(tensor)[-2:]
    mask = np.tri(rows, cols, offset, dtype=bool) if lower else \
        ~np.tri(rows, cols, offset - 1, dtype=bool)
    return b("Where", b.const(mask, np.bool_, "tri"), tensor,
             b.const(0, b.ctx.dtype(tensor), "zero"), dtype=b.ctx.dtype(tensor))


@register("_linalg_trmm")
def linalg_trmm(node: MxNode, ctx: ExportContext) -> list[str]:
    """alpha * op(A) B (or B op(A) with rightside), A triangular."""
    b = Builder(node, ctx)
    a, other = node.inputs[:2]
    tri = _triangle(b, a, node.bool("lower", True))
    b.ctx.shapes[tri] = b.ctx.shape(a)
    tri = _maybe_t(b, tri, node.bool("transpose", False))
    product = b("MatMul", other, tri) if node.bool("rightside", False) else \
        b("MatMul", tri, other)
    return [b("Mul", product, b.const(node.float("alpha", 1.0), ctx.dtype(a), "alpha"))]


@register("_linalg_det")
def linalg_det(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("Det", node.inputs[:1], node.outputs[:1], name=node.name)


@register("_linalg_slogdet")
def linalg_slogdet(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    det = b("Det", node.inputs[0])
    return [b("Sign", det, out=node.outputs[0]), b("Log", b("Abs", det), out=node.outputs[1])]


def _diag_index(rows: int, cols: int, offset: int) -> list[int]:
    if offset >= 0:
        return [i * cols + i + offset for i in range(max(min(rows, cols - offset), 0))]
    return [(i - offset) * cols + i for i in range(max(min(rows + offset, cols), 0))]


def _flat_last_two(b: Builder, tensor: str) -> tuple[str, int, int]:
    shape = list(b.ctx.shape(tensor))
    rows, cols = shape[-2:]
    return b("Reshape", tensor, b.i64(shape[:-2] + [rows * cols])), rows, cols


@register("_linalg_extractdiag")
def linalg_extractdiag(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    flat, rows, cols = _flat_last_two(b, node.inputs[0])
    index = _diag_index(rows, cols, node.int("offset", 0))
    return [b("Gather", flat, b.i64(index), axis=-1)]


@register("_linalg_sumlogdiag")
def linalg_sumlogdiag(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    flat, rows, cols = _flat_last_two(b, node.inputs[0])
    diag = b("Gather", flat, b.i64(_diag_index(rows, cols, 0)), axis=-1)
    return [b("ReduceSum", b("Log", diag), b.i64([-1]), keepdims=0)]


def _scatter_matrix(b: Builder, values: str, size: int, index: list[int]) -> str:
    """A (..., size, size) matrix holding ``values`` (..., n) at flat positions ``index``."""
    dtype = b.ctx.dtype(values)
    select = np.zeros((len(index), size * size), dtype)
    select[np.arange(len(index)), index] = 1
    shape = list(b.ctx.shape(values))
    product = b("MatMul", values, b.const(select, dtype, "select"))
    return b("Reshape", product, b.i64(shape[:-1] + [size, size]))


@register("_linalg_makediag")
def linalg_makediag(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    offset = node.int("offset", 0)
    n = ctx.shape(node.inputs[0])[-1]
    size = n + abs(offset)
    return [_scatter_matrix(b, node.inputs[0], size, _diag_index(size, size, offset))]


def _triangle_index(size: int, offset: int, lower: bool) -> list[int]:
    """Flat positions of MXNet's packed triangle: row by row (lower), column by column (upper)."""
    if lower:
        return [int(i) for i in np.flatnonzero(np.tri(size, size, offset, dtype=bool))]
    # the upper triangle is packed column by column
    upper = ~np.tri(size, size, offset - 1, dtype=bool)
    return [int(r * size + c) for c in range(size) for r in range(size) if upper[r, c]]


@register("_linalg_extracttrian")
def linalg_extracttrian(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    flat, rows, _ = _flat_last_two(b, node.inputs[0])
    offset, lower = node.int("offset", 0), node.bool("lower", True)
    if offset > 0:
        lower = False
    elif offset < 0:
        lower = True
    return [b("Gather", flat, b.i64(_triangle_index(rows, offset, lower)), axis=-1)]


@register("_linalg_maketrian")
def linalg_maketrian(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    offset, lower = node.int("offset", 0), node.bool("lower", True)
    if offset > 0:
        lower = False
    elif offset < 0:
        lower = True
    size = ctx.shape(node.outputs[0])[-1]
    return [_scatter_matrix(b, node.inputs[0], size, _triangle_index(size, offset, lower))]
