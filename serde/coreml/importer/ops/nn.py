"""Convolution, pooling, dense, normalisation, softmax, padding and resizing layers."""
from __future__ import annotations

from typing import Any

import mxnet as mx
import numpy as np

from ..context import ImportContext, weights
from ..registry import converter

_LOWEST = float(np.finfo(np.float32).min)


def _valid_pads(valid: Any) -> tuple[int, int, int, int]:
    amounts = valid.paddingAmounts.borderAmounts
    if not amounts:
        return (0, 0, 0, 0)
    return (int(amounts[0].startEdgeSize), int(amounts[0].endEdgeSize),
            int(amounts[1].startEdgeSize), int(amounts[1].endEdgeSize))


def _same_pads(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
               dilation: tuple[int, int], top_left_heavy: bool) -> tuple[int, int, int, int]:
    pads = []
    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
        out = -(-n // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
        small, large = total // 2, total - total // 2
        pads += [large, small] if top_left_heavy else [small, large]
    return tuple(pads)  # type: ignore[return-value]


def _pad(x: mx.sym.Symbol, pads: tuple[int, int, int, int], value: float = 0.0,
         mode: str = "constant") -> mx.sym.Symbol:
    if not any(pads):
        return x
    top, bottom, left, right = pads
    return mx.sym.pad(x, mode=mode, constant_value=value,
                      pad_width=(0, 0, 0, 0, top, bottom, left, right))


@converter("convolution")
def convolution(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.convolution
    if len(layer.input) > 1:
        raise ctx.fail(layer, "weights given as an input blob are not imported")
    c, h, w = ctx.shape(layer)
    kh, kw = (int(v) for v in p.kernelSize) if p.kernelSize else (3, 3)
    sh, sw = (int(v) for v in p.stride) if p.stride else (1, 1)
    dh, dw = (int(v) for v in p.dilationFactor) if p.dilationFactor else (1, 1)
    groups = int(p.nGroups) or 1
    out_channels, kernel_channels = int(p.outputChannels), int(p.kernelChannels)
    if p.isDeconvolution:
        shape = (kernel_channels, out_channels // groups, kh, kw)
    else:
        shape = (out_channels, kernel_channels, kh, kw)
    weight = ctx.param(layer, "weight", weights(p.weights, shape))
    bias = ctx.param(layer, "bias", weights(p.bias, (out_channels,))) if p.hasBias else None
    if p.WhichOneof("ConvolutionPaddingType") == "same":
        pads = _same_pads((h, w), (kh, kw), (sh, sw), (dh, dw), p.same.asymmetryMode == 1)
    else:
        pads = _valid_pads(p.valid)
    x = ctx.input(layer)
    common = {"kernel": (kh, kw), "stride": (sh, sw), "dilate": (dh, dw), "num_group": groups,
              "num_filter": out_channels, "no_bias": bias is None}
    args = [x, weight] + ([bias] if bias is not None else [])
    if not p.isDeconvolution:
        top, bottom, left, right = pads
        if top == bottom and left == right:
            return [mx.sym.Convolution(*args, pad=(top, left), **common)]
        args[0] = _pad(x, pads)
        return [mx.sym.Convolution(*args, pad=(0, 0), **common)]
    # Deconvolution: the full output, then the padding cropped away (or the output shape)
    full = mx.sym.Deconvolution(*args, pad=(0, 0), **common)
    full_h = (h - 1) * sh + (kh - 1) * dh + 1
    full_w = (w - 1) * sw + (kw - 1) * dw + 1
    top, bottom, left, right = pads
    out_h, out_w = (int(v) for v in p.outputShape) if p.outputShape else (
        full_h - top - bottom, full_w - left - right)
    if (top, left, out_h, out_w) == (0, 0, full_h, full_w):
        return [full]
    cropped = mx.sym.slice(full, begin=(None, None, top, left),
                           end=(None, None, min(full_h, top + out_h), min(full_w, left + out_w)))
    if top + out_h > full_h or left + out_w > full_w:  # an output shape past the full size
        cropped = _pad(cropped, (0, max(0, top + out_h - full_h), 0,
                                 max(0, left + out_w - full_w)))
    return [cropped]


@converter("pooling")
def pooling(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.pooling
    kind = {0: "max", 1: "avg", 2: "lp"}[p.type]
    extra = {"p_value": 2} if kind == "lp" else {}
    x = ctx.input(layer)
    if p.globalPooling:
        return [mx.sym.Pooling(x, kernel=(1, 1), pool_type=kind, global_pool=True, **extra)]
    _, h, w = ctx.shape(layer)
    kh, kw = (int(v) for v in p.kernelSize)
    sh, sw = (int(v) for v in p.stride) if p.stride else (1, 1)
    padding = p.WhichOneof("PoolingPaddingType")
    common = {"kernel": (kh, kw), "stride": (sh, sw), "pool_type": kind, **extra}
    if padding == "includeLastPixel":
        ph, pw = [int(v) for v in p.includeLastPixel.paddingAmounts] or [0, 0]
        return [mx.sym.Pooling(x, pad=(ph, pw), pooling_convention="full",
                               count_include_pad=not p.avgPoolExcludePadding, **common)]
    if padding == "same":
        pads = _same_pads((h, w), (kh, kw), (sh, sw), (1, 1), p.same.asymmetryMode == 1)
    else:
        pads = _valid_pads(p.valid)
    top, bottom, left, right = pads
    if top == bottom and left == right and top < kh and left < kw:
        return [mx.sym.Pooling(x, pad=(top, left), count_include_pad=not p.avgPoolExcludePadding,
                               **common)]
    if kind != "avg":  # asymmetric: pad with what never wins
        return [mx.sym.Pooling(_pad(x, pads, _LOWEST if kind == "max" else 0.0), **common)]
    if not p.avgPoolExcludePadding:
        return [mx.sym.Pooling(_pad(x, pads), **common)]
    # the average over the window's part inside the input: sums of values over sums of ones
    total = mx.sym.Pooling(_pad(x, pads), **common)
    count = mx.sym.Pooling(_pad(mx.sym.ones_like(x), pads), **common)
    return [total / count]


@converter("innerProduct")
def inner_product(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.innerProduct
    out, width = int(p.outputChannels), int(p.inputChannels)
    weight = ctx.param(layer, "weight", weights(p.weights, (out, width)))
    args = [ctx.input(layer), weight]
    if p.hasBias:
        args.append(ctx.param(layer, "bias", weights(p.bias, (out,))))
    dense = mx.sym.FullyConnected(*args, num_hidden=out, no_bias=not p.hasBias, flatten=True)
    return [mx.sym.reshape(dense, (0, -1, 1, 1))]


@converter("batchnorm")
def batchnorm(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.batchnorm
    channels = int(p.channels)
    gamma = ctx.param(layer, "gamma", weights(p.gamma, (channels,)))
    beta = ctx.param(layer, "beta", weights(p.beta, (channels,)))
    x = ctx.input(layer)
    if p.computeMeanVar:
        if not p.instanceNormalization:
            raise ctx.fail(layer, "batch statistics at inference (computeMeanVar without "
                                  "instanceNormalization) are not imported")
        return [mx.sym.InstanceNorm(x, gamma, beta, eps=p.epsilon)]
    mean = ctx.param(layer, "mean", weights(p.mean, (channels,)))
    var = ctx.param(layer, "variance", weights(p.variance, (channels,)))
    return [mx.sym.BatchNorm(x, gamma, beta, mean, var, eps=p.epsilon, fix_gamma=False,
                             use_global_stats=True)]


@converter("lrn")
def lrn(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.lrn
    return [mx.sym.LRN(ctx.input(layer), alpha=p.alpha, beta=p.beta, knorm=p.k or 1.0,
                       nsize=int(p.localSize))]


@converter("l2normalize")
def l2normalize(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    x = ctx.input(layer)
    norm = mx.sym.sqrt(mx.sym.sum(x * x, axis=(1, 2, 3), keepdims=True) + layer.l2normalize.epsilon)
    return [mx.sym.broadcast_div(x, norm)]


@converter("mvn")
def mvn(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.mvn
    axes = (1, 2, 3) if p.acrossChannels else (2, 3)
    x = ctx.input(layer)
    centred = mx.sym.broadcast_sub(x, mx.sym.mean(x, axis=axes, keepdims=True))
    if not p.normalizeVariance:
        return [centred]
    var = mx.sym.mean(centred * centred, axis=axes, keepdims=True)
    return [mx.sym.broadcast_div(centred, mx.sym.sqrt(var + p.epsilon))]


@converter("softmax")
def softmax(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    return [mx.sym.softmax(ctx.input(layer), axis=1)]


@converter("padding")
def padding(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.padding
    amounts = p.paddingAmounts.borderAmounts
    pads = (0, 0, 0, 0) if not amounts else (
        int(amounts[0].startEdgeSize), int(amounts[0].endEdgeSize),
        int(amounts[1].startEdgeSize), int(amounts[1].endEdgeSize))
    kind = p.WhichOneof("PaddingType")
    mode = {"constant": "constant", "reflection": "reflect", "replication": "edge"}[kind]
    value = p.constant.value if kind == "constant" else 0.0
    return [_pad(ctx.input(layer), pads, value, mode)]


@converter("upsample")
def upsample(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.upsample
    if p.fractionalScalingFactor:
        raise ctx.fail(layer, "fractional upsampling is not imported yet")
    fh, fw = (int(v) for v in p.scalingFactor) if p.scalingFactor else (1, 1)
    x = ctx.input(layer)
    _, h, w = ctx.shape(layer)
    if p.mode == 0:
        if fh == fw:
            return [mx.sym.UpSampling(x, scale=fh, sample_type="nearest", num_args=1)]
        return [mx.sym.repeat(mx.sym.repeat(x, fh, axis=2), fw, axis=3)]
    if p.linearUpsampleMode == 0:
        raise ctx.fail(layer, "bilinear upsampling in DEFAULT mode (sampling at "
                              "(Xin - Xin/Xout)/(Xout - 1) steps) has no MXNet operator")
    return [mx.sym.contrib.BilinearResize2D(x, height=h * fh, width=w * fw,
                                            align_corners=p.linearUpsampleMode == 1)]


@converter("resizeBilinear")
def resize_bilinear(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.resizeBilinear
    mode = p.mode.samplingMethod
    if mode not in (0,):  # STRICT_ALIGN_ENDPOINTS_MODE
        raise ctx.fail(layer, f"resize-bilinear sampling mode {mode} is not imported yet")
    h, w = (int(v) for v in p.targetSize)
    return [mx.sym.contrib.BilinearResize2D(ctx.input(layer), height=h, width=w,
                                            align_corners=True)]


@converter("embedding")
def embedding(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.embedding
    vocab, dim = int(p.inputDim), int(p.outputChannels)
    table = weights(p.weights, (dim, vocab)).T
    if p.hasBias:
        table = table + weights(p.bias, (dim,))
    weight = ctx.param(layer, "weight", table)
    indices = mx.sym.reshape(ctx.input(layer), (0,))
    looked_up = mx.sym.Embedding(indices, weight, input_dim=vocab, output_dim=dim)
    return [mx.sym.reshape(looked_up, (0, -1, 1, 1))]
