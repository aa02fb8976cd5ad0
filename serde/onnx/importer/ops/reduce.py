"""Reductions (ReduceX with axes as attribute or, from opset 13/18, as input) and ArgMax/Min."""
from __future__ import annotations

import numpy as np

from ..registry import converter
from ._helpers import cast, is_float, norm_axes, npm


def _axes(node, ctx, from_input: bool):
    rank = ctx.rank(node, 0)
    if from_input:
        axes = ctx.optional_value(node, 1, " (the reduction axes)")
        axes = None if axes is None else [int(a) for a in np.asarray(axes).ravel()]
    else:
        axes = node.attr("axes")
    if not axes:
        if node.attr("noop_with_empty_axes", 0):
            return None, rank
        return tuple(range(rank)), rank
    return tuple(sorted(norm_axes(axes, rank))), rank


def _reduce(kind):
    def conv(node, ctx, from_input):
        x = ctx.input(node, 0)
        axes, rank = _axes(node, ctx, from_input)
        if axes is None:
            return npm.copy(x)
        keep = bool(node.attr("keepdims", 1))
        dtype = ctx.in_dtype(node, 0)
        shape = ctx.in_shape(node, 0)
        if shape is not None and all(d is not None for d in shape) and \
                0 in [shape[a] for a in axes] + list(shape):
            return _empty(node, ctx, kind, shape, axes, keep)
        out = kind(x, axes, keep, dtype)
        return out if np.dtype(ctx.out_dtype(node)) == dtype and is_float(dtype) else \
            cast(out, ctx.out_dtype(node))
    return conv


def _empty(node, ctx, kind, shape, axes, keep):
    """A reduction over an empty set is its identity (ONNX spells each one out)."""
    out_dtype = np.dtype(ctx.out_dtype(node))
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in axes)
    big = np.inf if is_float(out_dtype) else (True if out_dtype == np.dtype("bool")
                                                else np.iinfo(out_dtype).max)
    small = -np.inf if is_float(out_dtype) else (False if out_dtype == np.dtype("bool")
                                                   else np.iinfo(out_dtype).min)
    fill = {_max: small, _min: big, _prod: 1, _log_sum: -np.inf, _log_sum_exp: -np.inf,
            _mean: np.nan}.get(kind, 0)
    return ctx.const(np.full(out_shape, fill, dtype=out_dtype), out_dtype, "empty")


def _sum(x, axes, keep, dtype):
    return npm.sum(x, axis=axes, keepdims=keep)


def _mean(x, axes, keep, dtype):
    if not is_float(dtype):
        return npm.mean(cast(x, "float64"), axis=axes, keepdims=keep)
    return npm.mean(x, axis=axes, keepdims=keep)


def _max(x, axes, keep, dtype):
    return npm.max(x, axis=axes, keepdims=keep)


def _min(x, axes, keep, dtype):
    return npm.min(x, axis=axes, keepdims=keep)


def _prod(x, axes, keep, dtype):
    return npm.prod(x, axis=axes, keepdims=keep)


def _l1(x, axes, keep, dtype):
    return npm.sum(npm.abs(x), axis=axes, keepdims=keep)


def _l2(x, axes, keep, dtype):
    if not is_float(dtype):
        x = cast(x, "float64")
    return npm.sqrt(npm.sum(x * x, axis=axes, keepdims=keep))


def _sum_square(x, axes, keep, dtype):
    return npm.sum(x * x, axis=axes, keepdims=keep)


def _log_sum(x, axes, keep, dtype):
    return npm.log(npm.sum(x, axis=axes, keepdims=keep))


def _log_sum_exp(x, axes, keep, dtype):
    if not is_float(dtype):
        x = cast(x, "float64")
    m = npm.max(x, axis=axes, keepdims=True)
    m = npm.where(npm.isinf(m), npm.zeros_like(m), m)
    out = npm.log(npm.sum(npm.exp(x - m), axis=axes, keepdims=True)) + m
    return out if keep else npm.squeeze(out, axis=axes)


# (op, kind, schema versions with axes as attribute, versions with axes as input)
_TABLE = [
    ("ReduceSum", _sum, (1, 11), (13,)),
    ("ReduceMean", _mean, (1, 11, 13), (18,)),
    ("ReduceMax", _max, (1, 11, 12, 13), (18, 20)),
    ("ReduceMin", _min, (1, 11, 12, 13), (18, 20)),
    ("ReduceProd", _prod, (1, 11, 13), (18,)),
    ("ReduceL1", _l1, (1, 11, 13), (18,)),
    ("ReduceL2", _l2, (1, 11, 13), (18,)),
    ("ReduceSumSquare", _sum_square, (1, 11, 13), (18,)),
    ("ReduceLogSum", _log_sum, (1, 11, 13), (18, 28)),
    ("ReduceLogSumExp", _log_sum_exp, (1, 11, 13), (18, 28)),
]

for _op, _kind, _attr_versions, _input_versions in _TABLE:
    _conv = _reduce(_kind)
    converter(_op, *_attr_versions)(lambda node, ctx, _c=_conv: _c(node, ctx, False))
    converter(_op, *_input_versions)(lambda node, ctx, _c=_conv: _c(node, ctx, True))


def _arg(fn):
    def conv(node, ctx):
        x = ctx.input(node, 0)
        rank = ctx.rank(node, 0)
        axis = int(node.attr("axis", 0))
        axis = axis + rank if axis < 0 else axis
        keep = bool(node.attr("keepdims", 1))
        if node.attr("select_last_index", 0):
            n = ctx.static_shape(node, 0)[axis]
            idx = fn(npm.flip(x, axis=axis), axis=axis)
            idx = npm.subtract(npm.full_like(idx, n - 1), idx)
        else:
            idx = fn(x, axis=axis)
        if keep:
            idx = npm.expand_dims(idx, axis=axis)
        return cast(idx, "int64")
    return conv


converter("ArgMax", 1, 11, 12, 13)(_arg(npm.argmax))
converter("ArgMin", 1, 11, 12, 13)(_arg(npm.argmin))
