"""Elementwise arithmetic and math: Add .. Pow, unary math, variadic Max/Min/Sum/Mean, Clip,
Cast/CastLike, Identity, Where."""
from __future__ import annotations

import numpy as np

from ..registry import converter
from ._helpers import cast, is_float, npm, npx

ALL_VERSIONS_IDENTITY = (1, 13, 14, 16, 19, 21, 23, 24, 25)


def _binary(node, ctx):
    return ctx.input(node, 0), ctx.input(node, 1)


def _same_type(node, ctx, a, b):
    """ONNX binary ops take one type T; make sure MXNet sees one too."""
    ta, tb = ctx.in_dtype(node, 0), ctx.in_dtype(node, 1)
    return (a, cast(b, ta)) if ta != tb else (a, b)


@converter("Add", 7, 13, 14)
def add(node, ctx):
    return npm.add(*_binary(node, ctx))


@converter("Sub", 7, 13, 14)
def sub(node, ctx):
    return npm.subtract(*_binary(node, ctx))


@converter("Mul", 7, 13, 14)
def mul(node, ctx):
    return npm.multiply(*_binary(node, ctx))


@converter("Div", 7, 13, 14)
def div(node, ctx):
    a, b = _binary(node, ctx)
    dtype = ctx.out_dtype(node)
    if is_float(dtype):
        return npm.true_divide(a, b)
    # integer division truncates toward zero
    q = npm.true_divide(cast(a, "float64"), cast(b, "float64"))
    return cast(npm.trunc(q), dtype)


@converter("Pow", 7, 12, 13, 15)
def power(node, ctx):
    x, y = _binary(node, ctx)
    tx, ty = ctx.in_dtype(node, 0), ctx.in_dtype(node, 1)
    if is_float(tx):
        return npm.power(x, cast(y, tx) if ty != tx else y)
    if not is_float(ty):
        return npm.power(x, cast(y, tx) if ty != tx else y)
    return cast(npm.power(cast(x, "float64"), cast(y, "float64")), tx)


@converter("Mod", 10, 13, 28)
def mod(node, ctx):
    a, b = _binary(node, ctx)
    r = npm.mod(a, b)
    if not node.attr("fmod", 0):
        if not is_float(ctx.out_dtype(node)):
            return r
        # numpy's IEEE rules, which MXNet's mod skips: a zero result takes the divisor's sign,
        # and x mod +-0 is NaN
        r = npm.where(npm.equal(r, 0), npm.copysign(npm.zeros_like(r), b), r)
        return npm.where(npm.equal(b, 0), npm.full_like(r, np.nan), r)
    # C fmod: the result takes the sign of the dividend
    dtype = ctx.out_dtype(node)
    zero = npm.zeros_like(a)
    wrong = npm.logical_not(npm.equal(npm.less(r, zero), npm.less(a, zero)))
    wrong = npm.bitwise_and(wrong, npm.not_equal(r, zero))
    return npm.where(wrong, npm.subtract(r, cast(b, dtype) * npm.ones_like(a)), r)


def _unary(fn_name, *versions, float_only=False):
    fn = getattr(npm, fn_name) if hasattr(npm, fn_name) else getattr(npx, fn_name)

    def conv(node, ctx):
        return fn(ctx.input(node, 0))

    conv.__name__ = fn_name
    return conv


for _op, _fn, _versions in [
        ("Abs", "abs", (6, 13)), ("Neg", "negative", (6, 13)), ("Exp", "exp", (6, 13)),
        ("Log", "log", (6, 13)), ("Sqrt", "sqrt", (6, 13)), ("Floor", "floor", (6, 13)),
        ("Ceil", "ceil", (6, 13)), ("Sign", "sign", (9, 13)),
        ("Sin", "sin", (7, 22)), ("Cos", "cos", (7, 22)), ("Tan", "tan", (7, 22)),
        ("Asin", "arcsin", (7, 22)), ("Acos", "arccos", (7, 22)), ("Atan", "arctan", (7, 22)),
        ("Sinh", "sinh", (9, 22)), ("Cosh", "cosh", (9, 22)), ("Asinh", "arcsinh", (9, 22)),
        ("Acosh", "arccosh", (9, 22)), ("Atanh", "arctanh", (9, 22)), ("Erf", "erf", (9, 13)),
        ("Tanh", "tanh", (6, 13)), ("Sigmoid", "sigmoid", (6, 13)),
        ("Reciprocal", "reciprocal", (6, 13))]:
    converter(_op, *_versions)(_unary(_fn, *_versions))


@converter("Round", 11, 22)
def round_half_even(node, ctx):
    x = ctx.input(node, 0)
    f = npm.floor(x)
    d = x - f
    return npm.where(d > 0.5, f + 1, npm.where(d < 0.5, f, f + npm.mod(f, 2.0)))


@converter("IsNaN", 9, 13, 20)
def isnan(node, ctx):
    return npm.isnan(ctx.input(node, 0))


@converter("IsInf", 10, 20)
def isinf(node, ctx):
    x = ctx.input(node, 0)
    pos, neg = node.attr("detect_positive", 1), node.attr("detect_negative", 1)
    if pos and neg:
        return npm.isinf(x)
    if pos:
        return npm.isposinf(x)
    if neg:
        return npm.isneginf(x)
    return npm.zeros_like(x).astype("bool")


def _variadic(node, ctx, fn):
    dtype = ctx.out_dtype(node)
    syms = [ctx.input(node, i) for i in range(len(node.inputs)) if node.has_input(i)]
    syms = [s if ctx.in_dtype(node, i) == dtype else cast(s, dtype)
            for i, s in enumerate(syms)]
    out = syms[0]
    for s in syms[1:]:
        out = fn(out, s)
    if len(syms) == 1:
        out = npm.copy(out)
    return out


@converter("Max", 8, 12, 13)
def maximum(node, ctx):
    return _variadic(node, ctx, npm.maximum)


@converter("Min", 8, 12, 13)
def minimum(node, ctx):
    return _variadic(node, ctx, npm.minimum)


@converter("Sum", 8, 13)
def total(node, ctx):
    return _variadic(node, ctx, npm.add)


@converter("Mean", 8, 13)
def mean(node, ctx):
    n = sum(1 for i in range(len(node.inputs)) if node.has_input(i))
    return _variadic(node, ctx, npm.add) / float(n)


@converter("Clip", 6)
def clip_v6(node, ctx):
    return npm.clip(ctx.input(node, 0), node.attr("min", -3.4028234663852886e38),
                    node.attr("max", 3.4028234663852886e38))


@converter("Clip", 11, 12, 13)
def clip(node, ctx):
    x = ctx.input(node, 0)
    lo, hi = ctx.optional_input(node, 1), ctx.optional_input(node, 2)
    if lo is not None:
        x = npm.maximum(x, lo)
    if hi is not None:
        x = npm.minimum(x, hi)
    if lo is None and hi is None:
        x = npm.copy(x)
    return x


@converter("Cast", 6, 9, 13, 19, 21, 23, 24, 25, 28)
def cast_op(node, ctx):
    x = ctx.input(node, 0)
    to = ctx.check_elem(node.attr("to"), node.outputs[0])
    src = ctx.in_dtype(node, 0)
    if src == np.dtype("bool") or to != np.dtype("bool"):
        return cast(x, to)
    return npm.not_equal(x, npm.zeros_like(x))


@converter("CastLike", 15, 19, 21, 23, 24, 25)
def cast_like(node, ctx):
    return cast(ctx.input(node, 0), ctx.in_dtype(node, 1))


@converter("Identity", *ALL_VERSIONS_IDENTITY)
def identity(node, ctx):
    return ctx.input(node, 0)


@converter("Where", 9, 16)
def where(node, ctx):
    cond, x, y = (ctx.input(node, i) for i in range(3))
    return npm.where(cond, x, y)


@converter("BitwiseAnd", 18)
def bitwise_and(node, ctx):
    return npm.bitwise_and(*_binary(node, ctx))


@converter("BitwiseOr", 18)
def bitwise_or(node, ctx):
    return npm.bitwise_or(*_binary(node, ctx))


@converter("BitwiseXor", 18)
def bitwise_xor(node, ctx):
    return npm.bitwise_xor(*_binary(node, ctx))


@converter("BitwiseNot", 18)
def bitwise_not(node, ctx):
    return npm.bitwise_not(ctx.input(node, 0))


@converter("BitShift", 11, 28)
def bit_shift(node, ctx):
    """Shifts as float64 products / floor divisions by 2^y (exact up to 32-bit types): a left
    shift wraps modulo 2^bits into the type's range (two's complement for signed types), a right
    shift is arithmetic; shift counts < 0 or >= bits give the sign fill (-1 for a right shift
    of a negative x, else 0), as BitShift-28 specifies."""
    x, y = _binary(node, ctx)
    dtype = np.dtype(ctx.out_dtype(node))
    bits = dtype.itemsize * 8
    signed = dtype.kind == "i"
    xf, yf = cast(x, "float64"), cast(y, "float64")
    factor = npm.power(npm.ones_like(yf) * 2.0, npm.clip(yf, 0, bits - 1))
    if node.attr("direction") == "LEFT":
        out = npm.mod(xf * factor, float(2 ** bits))
        if signed:
            out = npm.where(out >= float(2 ** (bits - 1)), out - float(2 ** bits), out)
        fill = npm.zeros_like(out)
    else:
        out = npm.floor(npm.true_divide(xf, factor))
        fill = npm.where(xf < 0, -npm.ones_like(out), npm.zeros_like(out)) if signed else \
            npm.zeros_like(out)
    out = npm.where(yf < 0, fill, npm.where(yf >= bits, fill, out))
    return cast(out, dtype)
