"""QuantizeLinear / DequantizeLinear for the integer types MXNet holds (int8, uint8, int32)."""
from __future__ import annotations

import numpy as np

from ..registry import converter
from ._helpers import cast, norm_axis, npm

_RANGES = {np.dtype("int8"): (-128, 127), np.dtype("uint8"): (0, 255),
           np.dtype("int32"): (-2**31, 2**31 - 1)}


def _per_axis(node, ctx, sym, index):
    """Reshape a 1-D scale / zero point so it broadcasts along ``axis``."""
    shape = ctx.in_shape(node, index)
    if shape is None or len(shape) == 0 or (len(shape) == 1 and shape[0] == 1):
        return sym
    if node.attr("block_size", 0):
        raise ctx.error("blocked quantization (block_size) is not supported")
    rank = ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis", 1), rank)
    return npm.reshape(sym, (-1,) + (1,) * (rank - 1 - axis))


@converter("DequantizeLinear", 10, 13, 19, 21, 23, 24, 25, 28)
def dequantize(node, ctx):
    x = ctx.input(node, 0)
    scale = _per_axis(node, ctx, ctx.input(node, 1), 1)
    out_dtype = ctx.out_dtype(node)
    xf = cast(x, "float32")
    zp = ctx.optional_input(node, 2)
    if zp is not None:
        xf = xf - cast(_per_axis(node, ctx, zp, 2), "float32")
    return cast(xf * cast(scale, "float32"), out_dtype)


@converter("QuantizeLinear", 10, 13, 19, 21, 23, 24, 25, 28)
def quantize(node, ctx):
    x = ctx.input(node, 0)
    scale = _per_axis(node, ctx, ctx.input(node, 1), 1)
    out_dtype = np.dtype(ctx.out_dtype(node))
    if out_dtype not in _RANGES:
        raise ctx.error(f"quantizing to {out_dtype} is not supported")
    y = cast(x, "float32") / cast(scale, "float32")
    f = npm.floor(y)   # round half to even, as ONNX requires
    d = y - f
    y = npm.where(d > 0.5, f + 1, npm.where(d < 0.5, f, f + npm.mod(f, 2.0)))
    zp = ctx.optional_input(node, 2)
    if zp is not None:
        y = y + cast(_per_axis(node, ctx, zp, 2), "float32")
    lo, hi = _RANGES[out_dtype]
    return cast(npm.clip(y, float(lo), float(hi)), out_dtype)
