"""Activations and unary functions."""
from __future__ import annotations

from typing import Any

import mxnet as mx

from ..context import ImportContext, weights
from ..registry import converter


def _per_channel(ctx: ImportContext, layer: Any, suffix: str, params: Any, channels: int
                 ) -> mx.sym.Symbol:
    values = weights(params)
    values = values.reshape(1, -1, 1, 1) if values.size > 1 else values.reshape(1, 1, 1, 1)
    if values.shape[1] not in (1, channels):
        raise ctx.fail(layer, f"{values.shape[1]} {suffix} values for {channels} channels")
    return ctx.param(layer, suffix, values)


@converter("activation")
def activation(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.activation
    kind = p.WhichOneof("NonlinearityType")
    x = ctx.input(layer)
    channels = ctx.shape(layer)[0]
    if kind == "linear":
        return [x * p.linear.alpha + p.linear.beta]
    if kind == "ReLU":
        return [mx.sym.relu(x)]
    if kind == "leakyReLU":
        return [mx.sym.LeakyReLU(x, act_type="leaky", slope=p.leakyReLU.alpha)]
    if kind == "thresholdedReLU":
        return [x * (x >= p.thresholdedReLU.alpha)]
    if kind == "PReLU":
        alpha = weights(p.PReLU.alpha)
        gamma = ctx.param(layer, "alpha", alpha if alpha.size == channels else
                          alpha.repeat(channels))
        return [mx.sym.LeakyReLU(x, gamma, act_type="prelu")]
    if kind == "tanh":
        return [mx.sym.tanh(x)]
    if kind == "scaledTanh":
        return [mx.sym.tanh(x * p.scaledTanh.beta) * p.scaledTanh.alpha]
    if kind == "sigmoid":
        return [mx.sym.sigmoid(x)]
    if kind == "sigmoidHard":
        return [mx.sym.hard_sigmoid(x, alpha=p.sigmoidHard.alpha, beta=p.sigmoidHard.beta)]
    if kind == "ELU":
        return [mx.sym.LeakyReLU(x, act_type="elu", slope=p.ELU.alpha)]
    if kind == "softsign":
        return [mx.sym.softsign(x)]
    if kind == "softplus":
        return [mx.sym.Activation(x, act_type="softrelu")]
    if kind == "parametricSoftplus":
        alpha = _per_channel(ctx, layer, "alpha", p.parametricSoftplus.alpha, channels)
        beta = _per_channel(ctx, layer, "beta", p.parametricSoftplus.beta, channels)
        soft = mx.sym.Activation(mx.sym.broadcast_mul(x, beta), act_type="softrelu")
        return [mx.sym.broadcast_mul(soft, alpha)]
    raise ctx.fail(layer, f"activation {kind!r} is not imported")


@converter("unary")
def unary(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.unary
    x = ctx.input(layer)
    scale = p.scale if p.scale else 1.0  # proto3: an unset scale reads 0 and means 1
    if scale != 1.0 or p.shift:
        x = x * scale + p.shift
    eps = p.epsilon
    functions = {
        0: lambda: mx.sym.sqrt(x),
        1: lambda: mx.sym.rsqrt(x + eps),
        2: lambda: mx.sym.reciprocal(x + eps),
        3: lambda: x ** p.alpha,
        4: lambda: mx.sym.exp(x),
        5: lambda: mx.sym.log(x + eps),
        6: lambda: mx.sym.abs(x),
        7: lambda: mx.sym.maximum(x, p.alpha),
    }
    if p.type not in functions:
        raise ctx.fail(layer, f"unary function {p.type} is not imported")
    return [functions[p.type]()]


@converter("gelu")
def gelu(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    x = ctx.input(layer)
    mode = layer.gelu.mode  # EXACT, TANH_APPROXIMATION, SIGMOID_APPROXIMATION
    if mode == 0:
        return [mx.sym.LeakyReLU(x, act_type="gelu")]
    if mode == 1:
        inner = (x + 0.044715 * x ** 3) * 0.7978845608028654
        return [0.5 * x * (1 + mx.sym.tanh(inner))]
    return [x * mx.sym.sigmoid(1.702 * x)]
