"""Layout layers: concat, flatten, reshape, permute, slice, split, crop and reductions."""
from __future__ import annotations

from typing import Any

import mxnet as mx

from ..context import ImportContext
from ..registry import converter


@converter("concat")
def concat(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    if layer.concat.sequenceConcat:
        raise ctx.fail(layer, "concatenation along the sequence axis is not imported")
    return [mx.sym.concat(*[ctx.symbols[n] for n in layer.input], dim=1)]


@converter("flatten")
def flatten(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    x = ctx.input(layer)
    if layer.flatten.mode == 1:  # CHANNEL_LAST: H, W, C order
        x = mx.sym.transpose(x, axes=(0, 2, 3, 1))
    return [mx.sym.reshape(x, (0, -1, 1, 1))]


@converter("reshape")
def reshape(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.reshape
    dims = [int(d) for d in p.targetShape]
    if len(dims) == 4:
        if dims[0] != 1:
            raise ctx.fail(layer, "reshapes into the sequence axis are not imported")
        dims = dims[1:]
    x = ctx.input(layer)
    if p.mode == 1:  # CHANNEL_LAST: as if the blob were (H, W, C)
        c, h, w = dims
        x = mx.sym.reshape(mx.sym.transpose(x, axes=(0, 2, 3, 1)), (0, h, w, c))
        return [mx.sym.transpose(x, axes=(0, 3, 1, 2))]
    return [mx.sym.reshape(x, (0, *dims))]


@converter("permute")
def permute(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    axes = [int(a) for a in layer.permute.axis]
    if axes[0] != 0:
        raise ctx.fail(layer, "permutations that move the sequence axis are not imported")
    return [mx.sym.transpose(ctx.input(layer), axes=(0, *axes[1:]))]


@converter("slice")
def slice_(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.slice
    axis = {0: 1, 1: 2, 2: 3}[p.axis]
    size = ctx.shape(layer)[axis - 1]
    start = p.startIndex + size if p.startIndex < 0 else p.startIndex
    end = p.endIndex + size if p.endIndex < 0 else p.endIndex
    begin, stop, step = [None] * 4, [None] * 4, [None] * 4
    begin[axis], stop[axis], step[axis] = int(start), int(end), int(p.stride or 1)
    return [mx.sym.slice(ctx.input(layer), begin=tuple(begin), end=tuple(stop),
                         step=tuple(step))]


@converter("split")
def split(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    parts = len(layer.output)
    out = mx.sym.split(ctx.input(layer), num_outputs=parts, axis=1)
    return [out[k] for k in range(parts)] if parts > 1 else [out]


@converter("crop")
def crop(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    if len(layer.input) > 1:
        raise ctx.fail(layer, "crop to a second input's size is not imported")
    amounts = layer.crop.cropAmounts.borderAmounts
    _, h, w = ctx.shape(layer)
    top, bottom = int(amounts[0].startEdgeSize), int(amounts[0].endEdgeSize)
    left, right = int(amounts[1].startEdgeSize), int(amounts[1].endEdgeSize)
    return [mx.sym.slice(ctx.input(layer), begin=(None, None, top, left),
                         end=(None, None, h - bottom, w - right))]


_REDUCE_AXES = {0: (1, 2, 3), 1: (2, 3), 2: (1,), 3: (2,), 4: (3,)}  # CHW, HW, C, H, W


@converter("reduce")
def reduce_(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.reduce
    axes = _REDUCE_AXES[p.axis]
    x = ctx.input(layer)
    modes = {
        0: lambda: mx.sym.sum(x, axis=axes, keepdims=True),
        1: lambda: mx.sym.mean(x, axis=axes, keepdims=True),
        2: lambda: mx.sym.prod(x, axis=axes, keepdims=True),
        3: lambda: mx.sym.log(mx.sym.sum(x, axis=axes, keepdims=True)),
        4: lambda: mx.sym.sum(x * x, axis=axes, keepdims=True),
        5: lambda: mx.sym.sum(mx.sym.abs(x), axis=axes, keepdims=True),
        6: lambda: mx.sym.sqrt(mx.sym.sum(x * x, axis=axes, keepdims=True)),
        7: lambda: mx.sym.max(x, axis=axes, keepdims=True),
        8: lambda: mx.sym.min(x, axis=axes, keepdims=True),
    }
    if p.mode not in modes:
        raise ctx.fail(layer, f"reduce mode {p.mode} is not imported")
    return [modes[p.mode]()]
