"""Activations and the softmax family."""
from __future__ import annotations

import math

import numpy as np

from ..registry import converter
from ._helpers import cast, is_float, norm_axis, npm, npx


def _x(node, ctx):
    return ctx.input(node, 0)


@converter("Relu", 6, 13, 14)
def relu(node, ctx):
    x = _x(node, ctx)
    if is_float(ctx.in_dtype(node, 0)):
        return npx.relu(x)
    return npm.maximum(x, npm.zeros_like(x))


@converter("LeakyRelu", 6, 16)
def leaky_relu(node, ctx):
    x = _x(node, ctx)
    alpha = float(node.attr("alpha", 0.01))
    return npm.where(x < 0, x * alpha, x)


@converter("Elu", 6, 22)
def elu(node, ctx):
    x = _x(node, ctx)
    alpha = float(node.attr("alpha", 1.0))
    return npm.where(x > 0, x, (npm.exp(x) - 1) * alpha)


@converter("Selu", 6, 22)
def selu(node, ctx):
    x = _x(node, ctx)
    alpha = float(node.attr("alpha", 1.67326319217681884765625))
    gamma = float(node.attr("gamma", 1.05070102214813232421875))
    return npm.where(x > 0, x * gamma, (npm.exp(x) - 1) * (alpha * gamma))


@converter("Celu", 12, 28)
def celu(node, ctx):
    x = _x(node, ctx)
    alpha = float(node.attr("alpha", 1.0))
    return npm.where(x > 0, x, (npm.exp(x / alpha) - 1) * alpha)


@converter("ThresholdedRelu", 10, 22)
def thresholded_relu(node, ctx):
    x = _x(node, ctx)
    return npm.where(x > float(node.attr("alpha", 1.0)), x, npm.zeros_like(x))


@converter("PRelu", 7, 9, 16)
def prelu(node, ctx):
    x, slope = ctx.input(node, 0), ctx.input(node, 1)
    return npm.where(x < 0, npm.multiply(x, slope), x)


@converter("HardSigmoid", 6, 22)
def hard_sigmoid(node, ctx):
    x = _x(node, ctx)
    alpha, beta = float(node.attr("alpha", 0.2)), float(node.attr("beta", 0.5))
    return npm.clip(x * alpha + beta, 0.0, 1.0)


@converter("HardSwish", 14, 22)
def hard_swish(node, ctx):
    x = _x(node, ctx)
    return x * npm.clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def _softplus(x):
    # log(1 + exp(x)) without overflow
    return npm.maximum(x, npm.zeros_like(x)) + npm.log1p(npm.exp(-npm.abs(x)))


@converter("Softplus", 1, 22)
def softplus(node, ctx):
    return _softplus(_x(node, ctx))


@converter("Softsign", 1, 22)
def softsign(node, ctx):
    x = _x(node, ctx)
    return x / (npm.abs(x) + 1.0)


@converter("Mish", 18, 22)
def mish(node, ctx):
    x = _x(node, ctx)
    return x * npm.tanh(_softplus(x))


@converter("Gelu", 20)
def gelu(node, ctx):
    x = _x(node, ctx)
    if node.attr("approximate", "none") == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (npm.tanh(inner) + 1.0)
    return x * 0.5 * (npx.erf(x * (1.0 / math.sqrt(2.0))) + 1.0)


@converter("Swish", 24)
def swish(node, ctx):
    x = _x(node, ctx)
    return x * npx.sigmoid(x * float(node.attr("alpha", 1.0)))


@converter("Shrink", 9)
def shrink(node, ctx):
    x = _x(node, ctx)
    lambd, bias = float(node.attr("lambd", 0.5)), float(node.attr("bias", 0.0))
    dtype = ctx.in_dtype(node, 0)
    zero = npm.zeros_like(x)
    if is_float(dtype):
        return npm.where(x < -lambd, x + bias, npm.where(x > lambd, x - bias, zero))
    xf = cast(x, "float64")
    out = npm.where(xf < -lambd, xf + bias, npm.where(xf > lambd, xf - bias, cast(zero,
                                                                                 "float64")))
    return cast(out, dtype)


def _softmax_like(node, ctx, fn):
    dtype = ctx.in_dtype(node, 0)
    if dtype == np.dtype("float16"):   # accumulate in float32
        inner = fn
        fn = lambda x, axis: cast(inner(cast(x, "float32"), axis), dtype)  # noqa: E731
    x = _x(node, ctx)
    rank = ctx.rank(node, 0)
    if rank == 0:
        raise ctx.error("softmax of a 0-d tensor")
    if ctx.opset >= 13:
        return fn(x, norm_axis(node.attr("axis", -1), rank))
    # opset < 13: coerce to 2-D at axis, normalise over the flattened tail
    axis = norm_axis(node.attr("axis", 1), rank)
    shape = ctx.static_shape(node, 0)
    rows = int(np.prod(shape[:axis], dtype=np.int64))
    flat = npm.reshape(x, (rows, -1))
    return npm.reshape(fn(flat, 1), shape)


@converter("Softmax", 1, 11, 13)
def softmax(node, ctx):
    return _softmax_like(node, ctx, lambda x, axis: npx.softmax(x, axis=axis))


@converter("LogSoftmax", 1, 11, 13)
def log_softmax(node, ctx):
    return _softmax_like(node, ctx, lambda x, axis: npx.log_softmax(x, axis=axis))


@converter("Hardmax", 1, 11, 13)
def hardmax(node, ctx):
    dtype = ctx.out_dtype(node)

    def fn(x, axis):
        shape = ctx.static_shape(node, 0) if ctx.opset >= 13 else None
        depth = shape[axis] if shape is not None else None
        if depth is None:
            depth = 1
        idx = npm.argmax(x, axis=axis)
        hot = npx.one_hot(idx, depth=depth, dtype=dtype)
        return npm.moveaxis(hot, -1, axis)

    if ctx.opset >= 13:
        return fn(_x(node, ctx), norm_axis(node.attr("axis", -1), ctx.rank(node, 0)))
    x = _x(node, ctx)
    rank = ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis", 1), rank)
    shape = ctx.static_shape(node, 0)
    rows = int(np.prod(shape[:axis], dtype=np.int64))
    cols = int(np.prod(shape[axis:], dtype=np.int64))
    flat = npm.reshape(x, (rows, cols))
    hot = npx.one_hot(npm.argmax(flat, axis=1), depth=cols, dtype=dtype)
    return npm.reshape(hot, shape)
