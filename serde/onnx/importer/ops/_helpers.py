"""Helpers the converter families share: legacy-op bridging, axes, dtypes, slicing."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import mxnet as mx
import numpy as np

npm = mx.sym.np
npx = mx.sym.npx

FLOAT_TYPES = (np.dtype("float16"), np.dtype("float32"), np.dtype("float64"))


def legacy(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a legacy ``mx.sym`` operator on numpy-flavoured symbols and come back."""
    conv = [a.as_nd_ndarray() if isinstance(a, mx.sym.Symbol) else a for a in args]
    out = fn(*conv, **kwargs)
    return out.as_np_ndarray()


def norm_axis(axis: int, rank: int) -> int:
    return int(axis) + rank if int(axis) < 0 else int(axis)


def norm_axes(axes: Iterable[int], rank: int) -> tuple[int, ...]:
    return tuple(norm_axis(a, rank) for a in axes)


def cast(sym: Any, dtype: Any) -> Any:
    return sym.astype(np.dtype(dtype))


def is_float(dtype: Any) -> bool:
    return np.dtype(dtype) in FLOAT_TYPES


def slice_axis(sym: Any, axis: int, begin: int | None, end: int | None,
               step: int | None = None) -> Any:
    """``x[..., begin:end:step, ...]`` on ``axis`` (non-negative)."""
    pre = (None,) * axis
    kwargs = {"begin": pre + (begin,), "end": pre + (end,)}
    if step is not None and step != 1:
        kwargs["step"] = pre + (step,)
    return npx.slice(sym, **kwargs)


def pad_constant(sym: Any, width: Sequence[Sequence[int]], value: float | int = 0) -> Any:
    """Constant padding; MXNet 1.9.1's np.pad ignores ``constant_values``, so pad with zeros
    and put ``value`` where a padded mask says so."""
    width = tuple((int(b), int(e)) for b, e in width)
    padded = npm.pad(sym, pad_width=width, mode="constant")
    if not value:
        return padded
    mask = npm.pad(npm.ones_like(sym), pad_width=width, mode="constant").astype("bool")
    return npm.where(mask, padded, value)


def static_dims(shape: Sequence[Any] | None) -> bool:
    return shape is not None and all(isinstance(d, (int, np.integer)) for d in shape)
