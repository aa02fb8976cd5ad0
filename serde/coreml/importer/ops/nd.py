"""Rank-N NeuralNetwork layers (specification 4 on: iOS 13+) for the rank-N walk, where a blob
is an MXNet symbol of its own shape and ``ctx.shapes`` holds whole static shapes. Layers made
by coremltools' PyTorch and TensorFlow frontends: shape changes (``expandDims``,
``reshapeStatic``, ``transpose`` ...), constants, broadcasting arithmetic, reductions, matrix
products, and the old layers whose rank-N meaning is not "the last three axes are (C, H, W)"."""
from __future__ import annotations

from functools import reduce
from typing import Any

import mxnet as mx
import numpy as np

from ..context import ImportContext, weights
from ..registry import nd_converter
from .elemwise import combine


def _axis(axis: int, rank: int) -> int:
    return int(axis) + rank if axis < 0 else int(axis)


def _reshape(ctx: ImportContext, layer: Any, shape: tuple[int, ...]) -> list[mx.sym.Symbol]:
    return [mx.sym.reshape(ctx.input(layer), tuple(int(d) for d in shape))]


def _to_rank(x: mx.sym.Symbol, shape: tuple[int, ...], rank: int) -> mx.sym.Symbol:
    """Leading size-1 axes up to ``rank``, as numpy broadcasting aligns shapes on the right."""
    return x if len(shape) == rank else mx.sym.reshape(x, (1,) * (rank - len(shape)) + shape)


def _broadcast_inputs(ctx: ImportContext, layer: Any) -> list[mx.sym.Symbol]:
    shapes = [ctx.shapes[n] for n in layer.input]
    rank = max(len(s) for s in shapes)
    return [_to_rank(ctx.symbols[n], s, rank) for n, s in zip(layer.input, shapes, strict=True)]


@nd_converter("expandDims")
def expand_dims(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    shape = list(ctx.shape(layer))
    rank = len(shape) + len(layer.expandDims.axes)
    for axis in sorted(_axis(a, rank) for a in layer.expandDims.axes):
        shape.insert(axis, 1)
    return _reshape(ctx, layer, tuple(shape))


@nd_converter("squeeze")
def squeeze(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    shape = ctx.shape(layer)
    p = layer.squeeze
    drop = ({i for i, d in enumerate(shape) if d == 1} if p.squeezeAll or not p.axes
            else {_axis(a, len(shape)) for a in p.axes})
    if any(shape[i] != 1 for i in drop):
        raise ctx.fail(layer, f"squeezes axes {sorted(drop)} of shape {shape}, not all of size 1")
    kept = tuple(d for i, d in enumerate(shape) if i not in drop)
    return _reshape(ctx, layer, kept or (1,))


@nd_converter("reshapeStatic")
def reshape_static(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    target = [int(d) for d in layer.reshapeStatic.targetShape]
    try:  # one -1 is inferred, as numpy does
        shape = np.empty(ctx.shape(layer), np.int8).reshape(target).shape
    except ValueError as err:
        raise ctx.fail(layer, f"cannot reshape {ctx.shape(layer)} to {target}: {err}") from err
    return _reshape(ctx, layer, shape)


@nd_converter("flattenTo2D")
def flatten_to_2d(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    shape = ctx.shape(layer)
    axis = _axis(layer.flattenTo2D.axis, len(shape))
    return _reshape(ctx, layer, (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))


@nd_converter("transpose")
def transpose(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    rank = len(ctx.shape(layer))
    return [mx.sym.transpose(ctx.input(layer),
                             axes=tuple(_axis(a, rank) for a in layer.transpose.axes))]


@nd_converter("copy")
def copy(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    return [mx.sym.identity(ctx.input(layer))]


@nd_converter("loadConstantND")
def load_constant_nd(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.loadConstantND
    shape = tuple(int(d) for d in p.shape)
    return [ctx.param(layer, "value", weights(p.data, shape))]


@nd_converter("clip")
def clip(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.clip
    return [mx.sym.clip(ctx.input(layer), a_min=float(p.minVal), a_max=float(p.maxVal))]


@nd_converter("softmaxND")
def softmax_nd(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    axis = _axis(layer.softmaxND.axis, len(ctx.shape(layer)))
    return [mx.sym.softmax(ctx.input(layer), axis=axis)]


@nd_converter("concatND")
def concat_nd(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    if layer.concatND.interleave:
        raise ctx.fail(layer, "interleaved concatenation is not imported")
    axis = _axis(layer.concatND.axis, len(ctx.shape(layer)))
    return [mx.sym.concat(*[ctx.symbols[n] for n in layer.input], dim=axis)]


@nd_converter("splitND")
def split_nd(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.splitND
    shape = ctx.shape(layer)
    axis = _axis(p.axis, len(shape))
    sizes = [int(s) for s in p.splitSizes] or [shape[axis] // len(layer.output)] * len(
        layer.output)
    if sum(sizes) != shape[axis] or len(sizes) != len(layer.output):
        raise ctx.fail(layer, f"split sizes {sizes} do not fill axis {axis} of {shape}")
    bounds = np.cumsum([0, *sizes])
    return [mx.sym.slice_axis(ctx.input(layer), axis=axis, begin=int(b), end=int(e))
            for b, e in zip(bounds[:-1], bounds[1:], strict=True)]


@nd_converter("sliceStatic")
def slice_static(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.sliceStatic
    shape = ctx.shape(layer)
    begin: list[int | None] = []
    end: list[int | None] = []
    def flag(masks: Any, i: int) -> bool:
        return bool(masks[i]) if i < len(masks) else False

    for i, size in enumerate(shape):
        step = int(p.strides[i]) if i < len(p.strides) else 1
        b = None if flag(p.beginMasks, i) else _axis(int(p.beginIds[i]), size)
        e = None if flag(p.endMasks, i) else _axis(int(p.endIds[i]), size)
        if step > 0:  # MXNet's None is the start / the end for a positive step
            b, e = (b or 0), (size if e is None else min(e, size))
        begin.append(b)
        end.append(e)
    steps = tuple(int(p.strides[i]) if i < len(p.strides) else 1 for i in range(len(shape)))
    out = mx.sym.slice(ctx.input(layer), begin=tuple(begin), end=tuple(end), step=steps)
    squeezed = [i for i, m in enumerate(p.squeezeMasks) if m]
    if squeezed:
        sliced = ctx.infer(out, layer)
        kept = tuple(d for i, d in enumerate(sliced) if i not in squeezed)
        out = mx.sym.reshape(out, kept or (1,))
    return [out]


_BROADCAST = {"addBroadcastable": mx.sym.broadcast_add,
              "subtractBroadcastable": mx.sym.broadcast_sub,
              "multiplyBroadcastable": mx.sym.broadcast_mul,
              "divideBroadcastable": mx.sym.broadcast_div,
              "maxBroadcastable": mx.sym.broadcast_maximum,
              "minBroadcastable": mx.sym.broadcast_minimum,
              "powBroadcastable": mx.sym.broadcast_power,
              "modBroadcastable": mx.sym.broadcast_mod}


@nd_converter(*_BROADCAST)
def broadcastable(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    return [reduce(_BROADCAST[layer.WhichOneof("layer")], _broadcast_inputs(ctx, layer))]


@nd_converter("floorDivBroadcastable")
def floor_div(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    a, b = _broadcast_inputs(ctx, layer)
    return [mx.sym.floor(mx.sym.broadcast_div(a, b))]


@nd_converter("add", "multiply", "max", "min", "average")
def elementwise(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    """The old elementwise layers on rank-N blobs broadcast as numpy does: inputs of lower
    rank are aligned on the right first."""
    return combine(layer, _broadcast_inputs(ctx, layer))


_UNARY = {"ceil": mx.sym.ceil, "floor": mx.sym.floor, "sign": mx.sym.sign,
          "round": mx.sym.round, "sin": mx.sym.sin, "cos": mx.sym.cos, "tan": mx.sym.tan,
          "asin": mx.sym.arcsin, "acos": mx.sym.arccos, "atan": mx.sym.arctan,
          "sinh": mx.sym.sinh, "cosh": mx.sym.cosh, "tanh": mx.sym.tanh,
          "asinh": mx.sym.arcsinh, "acosh": mx.sym.arccosh, "atanh": mx.sym.arctanh,
          "erf": mx.sym.erf}


@nd_converter(*_UNARY, "exp2")
def unary(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    kind = layer.WhichOneof("layer")
    if kind == "exp2":
        return [mx.sym.exp(ctx.input(layer) * float(np.log(2.0)))]
    return [_UNARY[kind](ctx.input(layer))]


def _reduce_axes(layer: Any, ctx: ImportContext, p: Any) -> tuple[int, ...]:
    rank = len(ctx.shape(layer))
    if p.reduceAll or not p.axes:
        return tuple(range(rank))
    return tuple(sorted(_axis(a, rank) for a in p.axes))


_REDUCE = {"reduceMean": mx.sym.mean, "reduceSum": mx.sym.sum, "reduceMax": mx.sym.max,
           "reduceMin": mx.sym.min, "reduceProd": mx.sym.prod}


@nd_converter(*_REDUCE, "reduceL1", "reduceL2", "reduceSumSquare", "reduceLogSum",
              "reduceLogSumExp")
def reduce_nd(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    kind = layer.WhichOneof("layer")
    p = getattr(layer, kind)
    axes, keep = _reduce_axes(layer, ctx, p), bool(p.keepDims)
    x = ctx.input(layer)
    if kind in _REDUCE:
        out = _REDUCE[kind](x, axis=axes, keepdims=keep)
    elif kind == "reduceL1":
        out = mx.sym.sum(mx.sym.abs(x), axis=axes, keepdims=keep)
    elif kind == "reduceL2":
        out = mx.sym.sqrt(mx.sym.sum(mx.sym.square(x), axis=axes, keepdims=keep))
    elif kind == "reduceSumSquare":
        out = mx.sym.sum(mx.sym.square(x), axis=axes, keepdims=keep)
    elif kind == "reduceLogSum":
        out = mx.sym.log(mx.sym.sum(x, axis=axes, keepdims=keep))
    else:  # log-sum-exp shifted by the maximum, so large inputs do not overflow
        peak = mx.sym.max(x, axis=axes, keepdims=True)
        total = mx.sym.sum(mx.sym.exp(mx.sym.broadcast_sub(x, peak)), axis=axes, keepdims=True)
        out = mx.sym.log(total) + peak
        if not keep:
            out = mx.sym.reshape(out, tuple(d for i, d in enumerate(ctx.infer(out, layer))
                                            if i not in axes) or (1,))
    if not keep and len(axes) == len(ctx.shape(layer)):
        out = mx.sym.reshape(out, (1,))
    return [out]


@nd_converter("innerProduct")
def inner_product(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    """On rank 1-3 blobs the product runs over the last axis; on rank 4-5 over axis -3 of
    [..., C, 1, 1]."""
    p = layer.innerProduct
    out, width = int(p.outputChannels), int(p.inputChannels)
    shape = ctx.shape(layer)
    x = ctx.input(layer)
    if len(shape) >= 4:
        if shape[-2:] != (1, 1):
            raise ctx.fail(layer, f"a rank-{len(shape)} input {shape} must end in (C, 1, 1)")
        x = mx.sym.reshape(x, shape[:-2])
    args = [x, ctx.param(layer, "weight", weights(p.weights, (out, width)))]
    if p.hasBias:
        args.append(ctx.param(layer, "bias", weights(p.bias, (out,))))
    dense = mx.sym.FullyConnected(*args, num_hidden=out, no_bias=not p.hasBias, flatten=False)
    return [mx.sym.reshape(dense, (*shape[:-3], out, 1, 1)) if len(shape) >= 4 else dense]


@nd_converter("batchedMatmul")
def batched_matmul(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    """numpy's matmul over the last two axes, leading axes broadcast; with one input, the
    product with the layer's weight matrix (stored (out, in), as an inner product's)."""
    p = layer.batchedMatmul
    if len(layer.input) == 1:
        rows, cols = int(p.weightMatrixFirstDimension), int(p.weightMatrixSecondDimension)
        x = ctx.input(layer)
        if p.transposeA:
            rank = len(ctx.shape(layer))
            x = mx.sym.swapaxes(x, dim1=rank - 2, dim2=rank - 1)
        args = [x, ctx.param(layer, "weight", weights(p.weights, (cols, rows)))]
        if p.hasBias:
            args.append(ctx.param(layer, "bias", weights(p.bias, (cols,))))
        return [mx.sym.FullyConnected(*args, num_hidden=cols, no_bias=not p.hasBias,
                                      flatten=False)]
    (a, b), (sa, sb) = ([ctx.symbols[n] for n in layer.input],
                        [ctx.shapes[n] for n in layer.input])
    if len(sa) < 2 or len(sb) < 2:
        raise ctx.fail(layer, f"matrix products of rank-1 inputs {sa} x {sb} are not imported")
    batch = tuple(np.broadcast_shapes(sa[:-2], sb[:-2]))
    if not batch:
        return [mx.sym.dot(a, b, transpose_a=p.transposeA, transpose_b=p.transposeB)]

    def folded(x: mx.sym.Symbol, shape: tuple[int, ...]) -> mx.sym.Symbol:
        x = _to_rank(x, shape, len(batch) + 2)
        full = (*batch, *shape[-2:])
        if (1,) * (len(full) - len(shape)) + shape != full:
            x = mx.sym.broadcast_to(x, full)
        return mx.sym.reshape(x, (-1, *shape[-2:]))

    product = mx.sym.batch_dot(folded(a, sa), folded(b, sb), transpose_a=p.transposeA,
                               transpose_b=p.transposeB)
    m = sa[-1] if p.transposeA else sa[-2]
    n = sb[-2] if p.transposeB else sb[-1]
    return [mx.sym.reshape(product, (*batch, m, n))]


#: PermuteLayerParams names a rank-5 blob's axes (Seq, C, H, W) = 0..3; the batch stays.
_PERMUTE_AXES = (0, 2, 3, 4)


@nd_converter("permute")
def permute(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    """On a rank-5 blob [Seq, Batch, C, H, W] (recurrent models move sequences onto Seq);
    on other ranks the old layer over the last three axes."""
    if len(ctx.shape(layer)) != 5:
        from ..convert import on_trailing_axes
        from .tensor import permute as fixed_rank_permute

        return on_trailing_axes(fixed_rank_permute, layer, ctx)
    order = [_PERMUTE_AXES[int(a)] for a in layer.permute.axis]
    return [mx.sym.transpose(ctx.input(layer), axes=(order[0], 1, *order[1:]))]
