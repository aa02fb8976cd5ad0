"""Elementwise layers over several blobs (Core ML broadcasts size-1 axes of (C, H, W)),
constant scale / bias and loaded constants."""
from __future__ import annotations

from functools import reduce
from typing import Any

import mxnet as mx

from ..context import ImportContext, weights
from ..registry import converter

_BINARY = {"add": mx.sym.broadcast_add, "multiply": mx.sym.broadcast_mul,
           "max": mx.sym.broadcast_maximum, "min": mx.sym.broadcast_minimum}


@converter("add", "multiply", "max", "min", "average")
def elementwise(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    return combine(layer, [ctx.symbols[name] for name in layer.input])


def combine(layer: Any, inputs: list[mx.sym.Symbol]) -> list[mx.sym.Symbol]:
    """add / multiply / max / min / average of ``inputs`` (one input: with the layer's
    scalar), broadcasting size-1 axes of inputs of one rank."""
    kind = layer.WhichOneof("layer")
    if kind == "average":
        return [reduce(mx.sym.broadcast_add, inputs) / len(inputs)]
    if len(inputs) == 1:  # one input and the layer's scalar
        alpha = getattr(layer, kind).alpha if kind in ("add", "multiply") else 0.0
        return [inputs[0] + alpha if kind == "add" else inputs[0] * alpha
                if kind == "multiply" else inputs[0]]
    return [reduce(_BINARY[kind], inputs)]


def _constant(ctx: ImportContext, layer: Any, suffix: str, params: Any, shape: Any
              ) -> mx.sym.Symbol:
    dims = [int(d) for d in shape] or [1]
    values = weights(params, tuple(dims))
    return ctx.param(layer, suffix, values.reshape(1, *dims, *([1] * (3 - len(dims))))
                     if len(dims) < 3 else values.reshape(1, *dims))


@converter("scale")
def scale(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.scale
    out = mx.sym.broadcast_mul(ctx.input(layer),
                               _constant(ctx, layer, "scale", p.scale, p.shapeScale))
    if p.hasBias:
        out = mx.sym.broadcast_add(out, _constant(ctx, layer, "bias", p.bias, p.shapeBias))
    return [out]


@converter("bias")
def bias(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.bias
    return [mx.sym.broadcast_add(ctx.input(layer),
                                 _constant(ctx, layer, "bias", p.bias, p.shape))]


@converter("loadConstant")
def load_constant(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.loadConstant
    return [_constant(ctx, layer, "value", p.data, p.shape)]
