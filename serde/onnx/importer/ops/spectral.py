"""DFT as matrix products with constant float64 DFT matrices (MXNet 1.9.1 has no CPU FFT).

The transform axis is moved last and multiplied by cos / sin matrices built at import time from
``(j * k) mod n`` (exact angles); the product runs in float64 and is cast back, so results
agree with numpy's FFT to float64 rounding. Truncation / zero-padding to ``dft_length`` is done by
using only the matrix rows the input reaches. Sizes are static: the signal shape, ``dft_length``
and ``axis`` are read at import time."""
from __future__ import annotations

import numpy as np

from ..registry import converter
from ._helpers import cast, norm_axis, npm, slice_axis

_F64 = np.dtype("float64")


def _angles(rows: int, cols: int, length: int) -> np.ndarray:
    j = np.arange(rows, dtype=np.int64)[:, None]
    k = np.arange(cols, dtype=np.int64)[None, :]
    return 2.0 * np.pi * ((j * k) % length) / length


def _dft_last(ctx, real, imag, axis: int, n_in: int, length: int, inverse: bool, onesided: bool):
    """DFT over ``axis``, the last axis of ``real`` / ``imag`` (imag may be None):
    (real, imag or None)."""
    if inverse and onesided:          # numpy irfft: Hermitian input, real output
        bins = length // 2 + 1
        used = min(n_in, bins)
        theta = _angles(used, length, length)
        weight = np.full((used, 1), 2.0)
        weight[0] = 1.0
        if length % 2 == 0 and used > length // 2:
            weight[length // 2] = 1.0
        a_rr = weight * np.cos(theta) / length
        a_ir = -weight * np.sin(theta) / length
        a_ir[0] = 0.0                                  # imag of DC / Nyquist is ignored
        if length % 2 == 0 and used > length // 2:
            a_ir[length // 2] = 0.0
        a_ri = a_ii = None
    else:
        out = length // 2 + 1 if onesided else length
        used = min(n_in, length)
        theta = _angles(used, out, length)
        cos, sin = np.cos(theta), np.sin(theta)
        if inverse:
            a_rr, a_ir, a_ri, a_ii = cos / length, -sin / length, sin / length, cos / length
        else:
            a_rr, a_ir, a_ri, a_ii = cos, sin, -sin, cos
    if used < n_in:
        real = slice_axis(real, axis, 0, used)
        imag = None if imag is None else slice_axis(imag, axis, 0, used)

    def mm(sym, mat):
        return npm.matmul(sym, ctx.const(mat, _F64, "dft"))

    y_r = mm(real, a_rr)
    if imag is not None:
        y_r = y_r + mm(imag, a_ir)
    if a_ri is None:
        return y_r, None
    y_i = mm(real, a_ri)
    if imag is not None:
        y_i = y_i + mm(imag, a_ii)
    return y_r, y_i


def _dft(node, ctx, axis_value):
    shape = ctx.static_shape(node, 0)
    rank = len(shape)
    axis = norm_axis(axis_value, rank)
    if axis == rank - 1 or shape[-1] not in (1, 2):
        raise ctx.error(f"DFT axis {axis_value} / input shape {shape} are not valid")
    inverse, onesided = bool(node.attr("inverse", 0)), bool(node.attr("onesided", 0))
    if not inverse and onesided and shape[-1] == 2:
        raise ctx.error("onesided DFT of a complex input is not defined")
    n_in = shape[axis]
    if node.has_input(1):
        length = int(np.asarray(ctx.input_value(node, 1, " (the DFT length)")).ravel()[0])
    else:
        length = 2 * (n_in - 1) if inverse and onesided else n_in
    dtype = ctx.in_dtype(node, 0)
    x = cast(ctx.input(node, 0), _F64)
    real = npm.squeeze(slice_axis(x, rank - 1, 0, 1), axis=rank - 1)
    imag = npm.squeeze(slice_axis(x, rank - 1, 1, 2), axis=rank - 1) if shape[-1] == 2 else None
    perm = [a for a in range(rank - 1) if a != axis] + [axis]
    back = list(np.argsort(perm))
    real = npm.transpose(real, perm)
    imag = None if imag is None else npm.transpose(imag, perm)
    y_r, y_i = _dft_last(ctx, real, imag, rank - 2, n_in, length, inverse, onesided)
    parts = [npm.transpose(y_r, back)] + ([] if y_i is None else [npm.transpose(y_i, back)])
    return cast(npm.stack(parts, axis=rank - 1), dtype)


@converter("DFT", 17)
def dft_17(node, ctx):
    return _dft(node, ctx, int(node.attr("axis", 1)))


@converter("DFT", 20)
def dft_20(node, ctx):
    axis = -2
    if node.has_input(2):
        axis = int(np.asarray(ctx.input_value(node, 2, " (the DFT axis)")).ravel()[0])
    return _dft(node, ctx, axis)


@converter("STFT", 17)
def stft(node, ctx):
    """Frames are static slices (whole frames only, as the reference counts them), weighted by the
    window and transformed with the same DFT matrices."""
    shape = ctx.static_shape(node, 0)
    if len(shape) != 3 or shape[-1] not in (1, 2):
        raise ctx.error(f"STFT takes a [batch, length, 1|2] signal, got {shape}")
    step = int(np.asarray(ctx.input_value(node, 1, " (the STFT frame_step)")).ravel()[0])
    window = ctx.optional_input(node, 2)
    if node.has_input(3):
        frame = int(np.asarray(ctx.input_value(node, 3, " (the STFT frame_length)")).ravel()[0])
    elif window is not None:
        frame = ctx.static_shape(node, 2)[0]
    else:
        frame = shape[1]
    if step <= 0 or frame <= 0 or frame > shape[1]:
        raise ctx.error(f"frame_step {step} / frame_length {frame} do not fit a signal of "
                        f"length {shape[1]}")
    frames = 1 + (shape[1] - frame) // step
    onesided = bool(node.attr("onesided", 1))
    if onesided and shape[-1] == 2:
        raise ctx.error("onesided STFT of a complex signal is not defined")
    dtype = ctx.in_dtype(node, 0)
    x = cast(ctx.input(node, 0), _F64)

    def framed(part):
        sig = npm.squeeze(slice_axis(x, 2, part, part + 1), axis=2)          # [B, L]
        out = npm.stack([slice_axis(sig, 1, f * step, f * step + frame)
                         for f in range(frames)], axis=1)                    # [B, F, frame]
        return out if window is None else out * cast(window, _F64)

    real = framed(0)
    imag = framed(1) if shape[-1] == 2 else None
    y_r, y_i = _dft_last(ctx, real, imag, 2, frame, frame, False, onesided)
    return cast(npm.stack([y_r, y_i], axis=3), dtype)
