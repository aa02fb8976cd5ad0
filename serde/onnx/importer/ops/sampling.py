"""GridSample (2-D and N-D) as gathers: every interpolation tap is one ``npx.gather_nd`` on the
flattened input, weighted and summed, with the ONNX reference's coordinate rules written out
(denormalisation per ``align_corners``, round-half-to-even for ``nearest``, border / reflection
handling of the coordinate and then of each tap index, Keys cubic with A = -0.75)."""
from __future__ import annotations

import itertools

import numpy as np

from ..registry import converter
from ._helpers import cast, npm, npx, slice_axis

_MODES = {"bilinear": "linear", "linear": "linear", "nearest": "nearest",
          "bicubic": "cubic", "cubic": "cubic"}


def _and(a, b):
    # MXNet's broadcasting kernels refuse bool: combine as uint8 0/1
    return npm.multiply(a.astype("uint8"), b.astype("uint8")).astype("bool")


def _or(a, b):
    return npm.maximum(a.astype("uint8"), b.astype("uint8")).astype("bool")


def _trunc(v):
    """Round toward zero (C's float -> int conversion)."""
    return npm.where(v < 0, npm.ceil(v), npm.floor(v))


def _rint(v):
    """Round half to even (np.rint); MXNet's rint rounds halves down."""
    r = npm.floor(v + 0.5)
    odd = (r - npm.floor(r * 0.5) * 2) != 0
    return npm.where(_and((r - v) == 0.5, odd), r - 1, r)


def _reflect(v, lo: float, hi: float):
    rng = hi - lo
    below, above = v < lo, v > hi
    dx = npm.where(below, lo - v, npm.where(above, v - hi, npm.zeros_like(v)))
    n = _trunc(dx / rng)
    r = dx - n * rng
    even = (n - npm.floor(n * 0.5) * 2) == 0
    from_below = npm.where(even, lo + r, hi - r)
    from_above = npm.where(even, hi - r, lo + r)
    return npm.where(below, from_below, npm.where(above, from_above, v))


def _cubic_coeffs(t):
    a = -0.75
    x = npm.abs(t)
    return [((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a,
            ((a + 2) * x - (a + 3)) * x * x + 1,
            ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1,
            ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a]


@converter("GridSample", 16, 20, 22)
def grid_sample(node, ctx):
    mode = node.attr("mode", "bilinear" if ctx.opset < 20 else "linear")
    if mode not in _MODES:
        raise ctx.error(f"unknown mode {mode!r}")
    mode = _MODES[mode]
    padding = node.attr("padding_mode", "zeros")
    if padding not in ("zeros", "border", "reflection"):
        raise ctx.error(f"unknown padding_mode {padding!r}")
    align = bool(node.attr("align_corners", 0))
    x_shape = ctx.static_shape(node, 0)
    g_shape = ctx.static_shape(node, 1)
    n, c, dims = x_shape[0], x_shape[1], x_shape[2:]
    k = len(dims)
    if g_shape[-1] != k or g_shape[0] != n:
        raise ctx.error(f"grid shape {g_shape} does not match input shape {x_shape}")
    if align and padding == "reflection" and any(d == 1 for d in dims):
        raise ctx.error("reflection padding with align_corners=1 on a size-1 axis is undefined")
    out_dims = tuple(g_shape[1:-1])
    points = int(np.prod(out_dims, dtype=np.int64))
    dtype = ctx.in_dtype(node, 0)
    work = np.dtype("float32") if dtype == np.dtype("float16") else dtype
    x = cast(ctx.input(node, 0), work)
    grid = npm.reshape(cast(ctx.input(node, 1), work), (n, points, k))
    size = int(np.prod(dims, dtype=np.int64))
    data = npm.transpose(npm.reshape(x, (n, c, size)), (0, 2, 1))      # [N, S, C]
    batch = ctx.const(np.broadcast_to(np.arange(n, dtype=np.int64)[:, None], (n, points)),
                      np.int64, "batch")
    strides = [int(np.prod(dims[i + 1:], dtype=np.int64)) for i in range(k)]

    def border(i):
        return (0.0, dims[i] - 1.0) if align else (-0.5, dims[i] - 0.5)

    coords = []
    for i in range(k):
        v = npm.squeeze(slice_axis(grid, 2, k - 1 - i, k - i), axis=2)   # [N, P]
        length = dims[i]
        v = (v + 1) / 2.0 * (length - 1) if align else ((v + 1) * length - 1) / 2.0
        if mode == "nearest":
            v = _rint(v)
        lo, hi = border(i)
        if padding == "border":
            v = npm.where(_or(v < lo, v > hi), npm.clip(v, 0, length - 1), v)
        elif padding == "reflection":
            v = _reflect(v, lo, hi)
        coords.append(v)

    def tap(i, idx):
        """(index usable for the gather, validity or None) for integer-valued ``idx`` on axis i."""
        length = dims[i]
        if padding == "zeros":
            valid = _and(idx >= 0, idx <= length - 1)
            return npm.clip(idx, 0, length - 1), valid
        if padding == "border":
            return npm.clip(idx, 0, length - 1), None
        lo, hi = border(i)
        return npm.clip(_trunc(_reflect(idx, lo, hi)), 0, length - 1), None

    taps = []   # per axis: list of (index, validity, weight)
    for i, v in enumerate(coords):
        if mode == "nearest":
            taps.append([tap(i, _trunc(v)) + (None,)])
            continue
        base = npm.floor(v)
        t = v - base
        if mode == "linear":
            weights, offsets = [1 - npm.abs(t), npm.abs(t)], [0, 1]
        else:
            weights, offsets = _cubic_coeffs(t), [-1, 0, 1, 2]
        taps.append([tap(i, base + off) + (w,) for off, w in zip(offsets, weights, strict=True)])

    out = None
    for combo in itertools.product(*taps):
        flat = weight = mask = None
        for i, (idx, valid, w) in enumerate(combo):
            term = idx * strides[i] if strides[i] != 1 else idx
            flat = term if flat is None else flat + term
            if w is not None:
                weight = w if weight is None else weight * w
            if valid is not None:
                mask = valid if mask is None else _and(mask, valid)
        gathered = npx.gather_nd(data, npm.stack([batch, flat.astype(np.int64)], axis=0))
        if mask is not None:   # zeros padding: taps outside the input read 0
            gathered = npm.where(npm.expand_dims(mask, axis=2), gathered,
                                 npm.zeros_like(gathered))
        term = gathered if weight is None else gathered * npm.expand_dims(weight, axis=2)
        out = term if out is None else out + term
    out = npm.reshape(npm.transpose(out, (0, 2, 1)), (n, c) + out_dims)
    return cast(out, dtype) if work != dtype else out
