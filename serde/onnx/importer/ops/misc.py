"""Smaller ops: Det, ReverseSequence, integer and quantized MatMul / Conv (MatMulInteger,
ConvInteger, QLinearMatMul, QLinearConv), Col2Im, MaxUnpool, and the ai.onnx.ml Binarizer and
ArrayFeatureExtractor."""
from __future__ import annotations

import mxnet as mx
import numpy as np

from ..registry import converter
from ._helpers import cast, legacy, norm_axis, npm, npx, slice_axis
from .nn import _conv_geometry, _pad_input, _spatial_pads

_F64 = np.dtype("float64")


@converter("Det", 11, 22)
def det(node, ctx):
    dtype = ctx.in_dtype(node, 0)
    x = ctx.input(node, 0)
    if dtype == np.dtype("float16"):
        return cast(npm.linalg.det(cast(x, "float32")), dtype)
    return npm.linalg.det(x)


@converter("ReverseSequence", 10, 28)
def reverse_sequence(node, ctx):
    """out[t, b] = x[len_b - 1 - t, b] for t < len_b, else x[t, b]: one gather_nd."""
    shape = ctx.in_shape(node, 0)
    if shape is None:
        raise ctx.error("the rank of the ReverseSequence input is unknown")
    rank = len(shape)
    b_axis = norm_axis(node.attr("batch_axis", 1), rank)
    t_axis = norm_axis(node.attr("time_axis", 0), rank)
    if {b_axis, t_axis} != {0, 1}:
        raise ctx.error("ReverseSequence needs batch and time on axes 0 and 1")
    steps, batch = shape[t_axis], shape[b_axis]
    if steps is None or batch is None:
        raise ctx.error("ReverseSequence needs static batch and time sizes; give input_shapes")
    if t_axis == 0:
        t_idx, b_idx = np.arange(steps)[:, None], np.arange(batch)[None, :]
    else:
        t_idx, b_idx = np.arange(steps)[None, :], np.arange(batch)[:, None]
    grid = np.broadcast_shapes(t_idx.shape, b_idx.shape)
    t_grid = ctx.const(np.broadcast_to(t_idx, grid), np.int64, "time")
    b_grid = ctx.const(np.broadcast_to(b_idx, grid), np.int64, "batch")
    lens = cast(ctx.input(node, 1), "int64")
    lens = npm.reshape(lens, (1, -1)) if t_axis == 0 else npm.reshape(lens, (-1, 1))
    src = npm.where(t_grid < lens, lens - 1 - t_grid, t_grid)
    index = [src, b_grid] if t_axis == 0 else [b_grid, src]
    return npx.gather_nd(ctx.input(node, 0), npm.stack(index, axis=0))


def _zero_point(ctx, node, index, shape):
    """Zero point as float64, shaped to broadcast (``shape`` when it has several entries)."""
    zp = ctx.optional_input(node, index)
    if zp is None:
        return None
    zp = cast(zp, _F64)
    zshape = ctx.in_shape(node, index)
    if zshape is not None and int(np.prod([d or 1 for d in zshape])) > 1:
        zp = npm.reshape(zp, shape)
    return zp


@converter("MatMulInteger", 10)
def matmul_integer(node, ctx):
    """Exact in float64 while |sums| < 2^53 (int8 x int8 products: always, for real K)."""
    a, b = cast(ctx.input(node, 0), _F64), cast(ctx.input(node, 1), _F64)
    a_zp = _zero_point(ctx, node, 2, (-1, 1))          # per row of A
    b_zp = _zero_point(ctx, node, 3, (-1,))            # per column of B
    if a_zp is not None:
        a = a - a_zp
    if b_zp is not None:
        b = b - b_zp
    return cast(npm.matmul(a, b), "int32")


def _int_conv(node, ctx, xi, wi, xzpi, wzpi):
    """Integer convolution of (x - x_zp) and (w - w_zp), computed exactly in float64."""
    x, w = cast(ctx.input(node, xi), _F64), cast(ctx.input(node, wi), _F64)
    in_shape, w_shape, kernel, strides, dilations = _conv_geometry(node, ctx, w_index=wi)
    if len(kernel) not in (1, 2, 3):
        raise ctx.error(f"{len(kernel)}-D convolution is not supported by MXNet")
    x_zp = _zero_point(ctx, node, xzpi, (-1,))
    w_zp = _zero_point(ctx, node, wzpi, (-1,) + (1,) * (len(w_shape) - 1))
    if x_zp is not None:
        x = x - x_zp
    if w_zp is not None:
        w = w - w_zp
    begin, end = _spatial_pads(node, ctx, in_shape, kernel, strides, dilations)
    if begin != end:
        x = _pad_input(x, begin, end)
        pad = (0,) * len(kernel)
    else:
        pad = tuple(begin)
    return npx.convolution(x, w, kernel=kernel, stride=strides, dilate=dilations, pad=pad,
                           num_filter=w_shape[0], num_group=int(node.attr("group", 1)),
                           no_bias=True)


@converter("ConvInteger", 10)
def conv_integer(node, ctx):
    return cast(_int_conv(node, ctx, 0, 1, 2, 3), "int32")


_QRANGES = {np.dtype("int8"): (-128, 127), np.dtype("uint8"): (0, 255)}


def _requantize(node, ctx, acc, multiplier, zp_index):
    """round-half-to-even(acc * multiplier) + y_zero_point, saturated, in the output type."""
    out_dtype = np.dtype(ctx.out_dtype(node))
    if out_dtype not in _QRANGES:
        raise ctx.error(f"output type {out_dtype} is not supported")
    y = acc * cast(multiplier, _F64)
    zp = ctx.optional_input(node, zp_index)
    if zp is not None:
        y = y + cast(zp, _F64)
    f = npm.floor(y)
    d = y - f
    y = npm.where(d > 0.5, f + 1, npm.where(d < 0.5, f, f + npm.mod(f, 2.0)))
    lo, hi = _QRANGES[out_dtype]
    return cast(npm.clip(y, float(lo), float(hi)), out_dtype)


def _scale(ctx, node, index, shape):
    sym = ctx.input(node, index)
    sshape = ctx.in_shape(node, index)
    if sshape is not None and int(np.prod([d or 1 for d in sshape])) > 1:
        return npm.reshape(sym, shape)
    return npm.reshape(sym, (1,) * len(shape)) if sshape else sym


@converter("QLinearMatMul", 10, 21)
def qlinear_matmul(node, ctx):
    """The multiplier a_scale * b_scale / y_scale is formed in the scales' type (as the
    reference does), the integer product exactly in float64."""
    a, b = cast(ctx.input(node, 0), _F64), cast(ctx.input(node, 3), _F64)
    a_zp = _zero_point(ctx, node, 2, (-1, 1))
    b_zp = _zero_point(ctx, node, 5, (-1,))
    if a_zp is not None:
        a = a - a_zp
    if b_zp is not None:
        b = b - b_zp
    multiplier = _scale(ctx, node, 1, (-1, 1)) * _scale(ctx, node, 4, (-1,)) / \
        _scale(ctx, node, 6, (-1,))
    return _requantize(node, ctx, npm.matmul(a, b), multiplier, 7)


@converter("QLinearConv", 10)
def qlinear_conv(node, ctx):
    acc = _int_conv(node, ctx, 0, 3, 2, 5)
    rank = ctx.rank(node, 0)
    bias = ctx.optional_input(node, 8)
    if bias is not None:
        acc = acc + npm.reshape(cast(bias, _F64), (-1,) + (1,) * (rank - 2))
    w_scale = _scale(ctx, node, 4, (-1,) + (1,) * (rank - 2))
    multiplier = _scale(ctx, node, 1, (1,)) * w_scale / _scale(ctx, node, 6, (1,))
    return _requantize(node, ctx, acc, multiplier, 7)


@converter("Binarizer", 1, domain="ai.onnx.ml")
def binarizer(node, ctx):
    x = ctx.input(node, 0)
    threshold = float(node.attr("threshold", 0.0))
    return npm.where(x > threshold, npm.ones_like(x), npm.zeros_like(x))


@converter("ArrayFeatureExtractor", 1, domain="ai.onnx.ml")
def array_feature_extractor(node, ctx):
    shape = ctx.in_shape(node, 0)
    idx_shape = ctx.static_shape(node, 1)
    if shape is None:
        raise ctx.error("the rank of the ArrayFeatureExtractor input is unknown")
    count = int(np.prod(idx_shape, dtype=np.int64))
    idx = npm.reshape(cast(ctx.input(node, 1), "int64"), (-1,))
    out = npm.take(ctx.input(node, 0), idx, axis=len(shape) - 1, mode="wrap")
    if len(shape) == 1:
        return npm.reshape(out, (1, count))
    return out


@converter("Col2Im", 18)
def col2im(node, ctx):
    """Col2Im is the transpose of im2col: a grouped deconvolution whose one-hot weights send
    column channel (c, k) to image channel c at kernel offset k; then pads are cropped."""
    image = [int(v) for v in np.asarray(ctx.input_value(node, 1, " (Col2Im image_shape)")).ravel()]
    block = [int(v) for v in np.asarray(ctx.input_value(node, 2, " (Col2Im block_shape)")).ravel()]
    n = len(image)
    if n not in (1, 2, 3) or len(block) != n:
        raise ctx.error(f"Col2Im with image_shape {image} / block_shape {block} is not supported")
    shape = ctx.static_shape(node, 0)
    dil = list(node.attr("dilations", [1] * n))
    pads = list(node.attr("pads", [0] * (2 * n)))
    strides = list(node.attr("strides", [1] * n))
    k = int(np.prod(block))
    if shape[1] % k:
        raise ctx.error(f"input channels {shape[1]} are not a multiple of prod(block_shape)={k}")
    channels = shape[1] // k
    blocks = [(image[i] + pads[i] + pads[n + i] - dil[i] * (block[i] - 1) - 1) // strides[i] + 1
              for i in range(n)]
    if int(np.prod(blocks)) != shape[2]:
        raise ctx.error(f"{shape[2]} columns do not match the {blocks} blocks the image holds")
    dtype = ctx.in_dtype(node, 0)
    work = np.dtype("float32") if dtype == np.dtype("float16") else dtype
    x = npm.reshape(cast(ctx.input(node, 0), work), (shape[0], shape[1], *blocks))
    weight = np.zeros((channels * k, 1, *block), dtype=work)
    for c in range(channels):
        for j in range(k):
            weight[c * k + j, 0][np.unravel_index(j, block)] = 1
    out = npx.deconvolution(x, ctx.const(weight, work, "onehot"), kernel=tuple(block),
                            stride=tuple(strides), dilate=tuple(dil), pad=(0,) * n,
                            num_filter=channels, num_group=channels, no_bias=True)
    full = [(blocks[i] - 1) * strides[i] + dil[i] * (block[i] - 1) + 1 for i in range(n)]
    grow = [max(0, image[i] + pads[i] + pads[n + i] - full[i]) for i in range(n)]
    if any(grow):
        out = npm.pad(out, pad_width=((0, 0), (0, 0)) + tuple((0, g) for g in grow),
                      mode="constant")
    for i in range(n):
        out = slice_axis(out, 2 + i, pads[i], pads[i] + image[i])
    return cast(out, dtype) if work != dtype else out


@converter("MaxUnpool", 9, 11, 22)
def max_unpool(node, ctx):
    """Values scattered to their flat indices in the shape MaxPool had (the reference's rule),
    then zero-padded at the end of each axis up to ``output_shape`` when it is given."""
    shape = ctx.static_shape(node, 0)
    kernel = list(node.attr("kernel_shape"))
    n = len(kernel)
    strides = list(node.attr("strides", [1] * n))
    pads = list(node.attr("pads", [0] * (2 * n)))
    inferred = list(shape[:2]) + [(shape[2 + i] - 1) * strides[i] - pads[i] - pads[n + i]
                                  + kernel[i] for i in range(n)]
    target = inferred
    if node.has_input(2):
        target = [int(v) for v in np.asarray(ctx.input_value(
            node, 2, " (the MaxUnpool output_shape)")).ravel()]
        if len(target) != len(inferred) or any(t < s for t, s in zip(target, inferred, strict=True)):
            raise ctx.error(f"output_shape {target} is smaller than the unpooled {inferred}")
    total = int(np.prod(inferred))
    x = npm.reshape(ctx.input(node, 0), (-1,))
    idx = npm.reshape(cast(ctx.input(node, 1), "int64"), (1, -1))
    out = legacy(mx.sym.scatter_nd, x, idx, shape=(total,))
    out = npm.reshape(out, tuple(inferred))
    if target != inferred:
        out = npm.pad(out, pad_width=tuple((0, t - s) for t, s in zip(target, inferred, strict=True)),
                      mode="constant")
    return out
