"""Matrix products: dot, batch_dot, linalg_gemm2 and the fused self-attention contrib ops."""
from __future__ import annotations

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import scalar_const


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
    if node.bool("transpose_a", False):
        a2 = _swap_last(ctx, node, _reshape(ctx, node, a, [sa[0], int(np.prod(sa[1:]))], "a2"),
                        "a_t")
    else:
        a2 = _reshape(ctx, node, a, [int(np.prod(sa[:-1])), sa[-1]], "a2")
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
    return ctx.emit("Reshape", [product, ctx.add_int64(out_shape, f"{node.name}_shape")],
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
    qkv = node.inputs[0]
    seq, batch, width = ctx.shape(qkv)
    heads = node.int("heads")
    dim = width // (3 * heads)
    split = _reshape(ctx, node, qkv, [seq, batch, heads, 3, dim], "split")
    index = ctx.add_int64(part, f"{node.name}_part{part}")
    picked = ctx.emit1("Gather", [split, index], name=f"{node.name}_pick{part}", axis=3,
                       shape=(seq, batch, heads, dim))
    moved = ctx.emit1("Transpose", [picked], name=f"{node.name}_heads_first{part}",
                      perm=[1, 2, 0, 3], shape=(batch, heads, seq, dim))
    return _reshape(ctx, node, moved, [batch * heads, seq, dim], f"merge{part}")


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
    split = _reshape(ctx, node, mixed, [batch, heads, seq, dim], "unmerge")
    moved = ctx.emit1("Transpose", [split], name=f"{node.name}_seq_first", perm=[2, 0, 1, 3],
                      shape=(seq, batch, heads, dim))
    return ctx.emit("Reshape", [moved, ctx.add_int64([seq, batch, heads * dim],
                                                     f"{node.name}_shape")],
                    node.outputs[:1], name=node.name)
