"""The numpy interface (``_npi_*``, ``_np_*``, ``_npx_*``): what a Gluon block emits under
``mx.npx.set_np()``.

NumPy semantics differ from MXNet's legacy ops in ways that matter here: operands of mixed
dtypes are promoted (the result dtype is MXNet's own inference, so inputs are cast to it),
integer division is true division, full reductions give 0-d tensors, and ``axis=None`` means
every axis (or the flattened array).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import INT64, Builder

BOOL = np.dtype(np.bool_)


def out_dtype(ctx: ExportContext, node: MxNode, index: int = 0) -> np.dtype:
    return np.dtype(ctx.dtype(node.outputs[index]))


def as_dtype(b: Builder, tensor: str, dtype: Any) -> str:
    dtype = np.dtype(dtype)
    return tensor if np.dtype(b.ctx.dtype(tensor)) == dtype else b.cast(tensor, dtype)


def finish(b: Builder, value: str, index: int = 0) -> str:
    """``value`` as the node's output ``index``, in MXNet's output dtype."""
    return as_dtype(b, value, out_dtype(b.ctx, b.node, index))


def is_float(dtype: Any) -> bool:
    return np.issubdtype(np.dtype(dtype), np.floating)


def axes_of(node: MxNode, rank: int, key: str = "axis") -> list[int] | None:
    """Normalised axes, or None for 'every axis'."""
    axis = node.optional(key)
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else [axis]
    return sorted({int(a) % max(rank, 1) for a in axes})


def reduce(b: Builder, op: str, data: str, axes: list[int] | None, keepdims: bool) -> str:
    """An ONNX Reduce op (axes as input or attribute as the opset wants); no axes = all."""
    if axes is not None and not axes:
        return data
    since = 13 if op == "ReduceSum" else 18
    if axes is None:
        return b(op, data, keepdims=int(keepdims))
    if b.ctx.opset >= since:
        return b(op, data, b.i64(axes), keepdims=int(keepdims))
    return b(op, data, axes=axes, keepdims=int(keepdims))


# --- unary ------------------------------------------------------------------------------------
_UNARY = {"_npi_absolute": "Abs", "_npi_arccos": "Acos", "_npi_arccosh": "Acosh",
          "_npi_arcsin": "Asin", "_npi_arcsinh": "Asinh", "_npi_arctan": "Atan",
          "_npi_arctanh": "Atanh", "_npi_cos": "Cos", "_npi_cosh": "Cosh", "_npi_exp": "Exp",
          "_npi_log": "Log", "_npi_negative": "Neg", "_npi_reciprocal": "Reciprocal",
          "_npi_sign": "Sign", "_npi_sin": "Sin", "_npi_sinh": "Sinh", "_npi_sqrt": "Sqrt",
          "_npi_tan": "Tan", "_npi_tanh": "Tanh", "_npx_relu": "Relu", "_npx_sigmoid": "Sigmoid",
          "_np_copy": "Identity"}
#: Rounding ops are the identity on integers (ONNX's have no integer kernels).
_ROUNDING = {"_npi_ceil": "Ceil", "_npi_floor": "Floor", "_npi_rint": "Round",
             "_npi_trunc": "trunc", "_npi_fix": "trunc"}


_INTEGER_SAFE = {"Abs", "Neg", "Sign", "Identity", "Relu"}


@register(*_UNARY)
def np_unary(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    op = _UNARY[node.op]
    dtype = out_dtype(ctx, node)
    if op in _INTEGER_SAFE or is_float(dtype):
        return [b(op, as_dtype(b, node.inputs[0], dtype))]
    # MXNet keeps an integer dtype for float functions of integers: compute in float64
    return [finish(b, b(op, as_dtype(b, node.inputs[0], np.float64)))]


def truncate(b: Builder, x: str) -> str:
    """Rounding toward zero."""
    negative = b("Less", x, b.const(0, b.ctx.dtype(x), "zero"), dtype=BOOL)
    return b("Where", negative, b("Ceil", x), b("Floor", x), dtype=b.ctx.dtype(x))


@register(*_ROUNDING)
def np_rounding(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = as_dtype(b, node.inputs[0], out_dtype(ctx, node))
    if not is_float(ctx.dtype(x)):
        return [b("Identity", x)]
    op = _ROUNDING[node.op]
    return [truncate(b, x) if op == "trunc" else b(op, x)]


def _ln_scaled(b: Builder, x: str, base: float) -> str:
    return b("Div", b("Log", x), b.const(np.log(base), b.ctx.dtype(x), "ln_base"))


_COMPOSED_UNARY = {
    "_npi_expm1": lambda b, x: b("Sub", b("Exp", x), b.const(1, b.ctx.dtype(x), "one")),
    "_npi_log1p": lambda b, x: b("Log", b("Add", x, b.const(1, b.ctx.dtype(x), "one"))),
    "_npi_log2": lambda b, x: _ln_scaled(b, x, 2.0),
    "_npi_log10": lambda b, x: _ln_scaled(b, x, 10.0),
    "_npi_square": lambda b, x: b("Mul", x, x),
    "_npi_cbrt": lambda b, x: signed_root(b, x, 3),
    "_npi_degrees": lambda b, x: b("Mul", x, b.const(180 / np.pi, b.ctx.dtype(x), "deg")),
    "_npi_radians": lambda b, x: b("Mul", x, b.const(np.pi / 180, b.ctx.dtype(x), "rad")),
}


def signed_root(b: Builder, x: str, p: int) -> str:
    dtype = b.ctx.dtype(x)
    root = b("Pow", b("Abs", x), b.const(1.0 / p, dtype, "inv_p"))
    return b("Mul", b("Sign", x), root)


@register(*_COMPOSED_UNARY)
def np_composed_unary(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = as_dtype(b, node.inputs[0], out_dtype(ctx, node))
    return [_COMPOSED_UNARY[node.op](b, x)]


@register("_npi_logical_not")
def np_logical_not(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    return [finish(b, b("Not", as_dtype(b, node.inputs[0], BOOL), dtype=BOOL))]


def _float_tests(b: Builder, x: str, op: str) -> str:
    dtype = b.ctx.dtype(x)
    if op == "isnan":
        return b("IsNaN", x, dtype=BOOL)
    if op == "isinf":
        return b("IsInf", x, dtype=BOOL)
    if op == "isposinf":
        return b("IsInf", x, detect_negative=0, dtype=BOOL)
    if op == "isneginf":
        return b("IsInf", x, detect_positive=0, dtype=BOOL)
    finite = b("Not", b("Or", b("IsNaN", x, dtype=BOOL), b("IsInf", x, dtype=BOOL),
                        dtype=BOOL), dtype=BOOL)
    del dtype
    return finite


@register("_npi_isnan", "_npi_isinf", "_npi_isposinf", "_npi_isneginf", "_npi_isfinite")
def np_float_tests(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = node.inputs[0]
    op = node.op.removeprefix("_npi_")
    if not is_float(ctx.dtype(x)):  # integers are finite numbers
        value = 1.0 if op == "isfinite" else 0.0
        return [b("Cast", b("Expand", b.const(value, np.float32, "v"), b("Shape", x,
                                                                           dtype=INT64)),
                  to=TensorProto.BOOL, dtype=BOOL)]
    return [finish(b, _float_tests(b, x, op))]


@register("_npi_bitwise_not", opset=(18, None))
def np_bitwise_not(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = node.inputs[0]
    if ctx.dtype(x) == BOOL:
        return [b("Not", x, dtype=BOOL)]
    return [b("BitwiseNot", x)]


# --- binary and scalar ------------------------------------------------------------------------
def python_mod(b: Builder, a: str, d: str) -> str:
    """a mod d with the divisor's sign (NumPy's and MXNet's), 0 where d is 0."""
    dtype = b.ctx.dtype(a)
    zero = b.const(0, dtype, "zero")
    is_zero = b("Equal", d, zero, dtype=BOOL)
    safe = b("Where", is_zero, b.const(1, dtype, "one"), d, dtype=dtype)
    if is_float(dtype):
        rem = b("Sub", a, b("Mul", b("Floor", b("Div", a, safe)), safe))
    else:
        rem = b("Mod", a, safe, fmod=0)
    return b("Where", is_zero, zero, rem, dtype=dtype)


def arctan2(b: Builder, y: str, x: str) -> str:
    dtype = b.ctx.dtype(y)
    zero = b.const(0, dtype, "zero")
    ratio = b("Atan", b("Div", y, b("Where", b("Equal", x, zero, dtype=BOOL),
                                     b.const(1, dtype, "one"), x, dtype=dtype)))
    on_axis = b("Mul", b("Sign", y), b.const(np.pi / 2, dtype, "half_pi"))
    angle = b("Where", b("Equal", x, zero, dtype=BOOL), on_axis, ratio, dtype=dtype)
    turn = b("Where", b("Less", y, zero, dtype=BOOL), b.const(-np.pi, dtype, "minus_pi"),
             b.const(np.pi, dtype, "pi"), dtype=dtype)
    return b("Where", b("Less", x, zero, dtype=BOOL), b("Add", angle, turn), angle,
             dtype=dtype)


def copysign(b: Builder, a: str, s: str) -> str:
    magnitude = b("Abs", a)
    negative = b("Less", s, b.const(0, b.ctx.dtype(s), "zero"), dtype=BOOL)
    return b("Where", negative, b("Neg", magnitude), magnitude, dtype=b.ctx.dtype(a))


_ARITH: dict[str, Any] = {
    "add": lambda b, x, y: b("Add", x, y), "subtract": lambda b, x, y: b("Sub", x, y),
    "multiply": lambda b, x, y: b("Mul", x, y), "true_divide": lambda b, x, y: b("Div", x, y),
    "power": lambda b, x, y: b("Pow", x, y), "mod": python_mod, "arctan2": arctan2,
    "hypot": lambda b, x, y: b("Sqrt", b("Add", b("Mul", x, x), b("Mul", y, y))),
    "copysign": copysign,
    "ldexp": lambda b, x, y: b("Mul", x, b("Pow", b.const(2, b.ctx.dtype(x), "two"), y)),
}
_BITWISE = {"bitwise_and": ("BitwiseAnd", "And"), "bitwise_or": ("BitwiseOr", "Or"),
            "bitwise_xor": ("BitwiseXor", "Xor")}
_COMPARE = {"equal": "Equal", "not_equal": "NotEqual", "greater": "Greater",
            "greater_equal": "GreaterOrEqual", "less": "Less", "less_equal": "LessOrEqual"}


def _compare(b: Builder, op: str, x: str, y: str) -> str:
    if op == "NotEqual":
        return b("Not", b("Equal", x, y, dtype=BOOL), dtype=BOOL)
    return b(op, x, y, dtype=BOOL)


def _operands(b: Builder, node: MxNode, names: list[str], work: np.dtype) -> list[str]:
    return [as_dtype(b, n, work) for n in names]


def _scalar(b: Builder, node: MxNode, dtype: np.dtype, key: str = "scalar") -> str:
    return b.const(node.float(key), dtype, key)


def _np_binary(node: MxNode, ctx: ExportContext, name: str, operands: list[str]) -> list[str]:
    b = Builder(node, ctx)
    if name in _COMPARE:
        work = np.result_type(*[ctx.dtype(i) for i in operands]) if len(operands) > 1 \
            else ctx.dtype(operands[0])
        x, y = _operands(b, node, operands, work)
        return [finish(b, _compare(b, _COMPARE[name], x, y))]
    if name in _BITWISE:
        x, y = operands
        onnx_op, bool_op = _BITWISE[name]
        if ctx.dtype(x) == BOOL and ctx.dtype(y) == BOOL:
            return [b(bool_op, x, y, dtype=BOOL)]
        if ctx.opset < 18:
            raise node.fail("integer bitwise ops need opset 18 or newer", opset=ctx.opset)
        work = out_dtype(ctx, node)
        x, y = _operands(b, node, [x, y], work)
        return [b(onnx_op, x, y)]
    work = out_dtype(ctx, node)
    x, y = _operands(b, node, operands, work)
    return [finish(b, _ARITH[name](b, x, y))]


_BINARY_OPS = [f"_npi_{n}" for n in list(_ARITH) + list(_COMPARE)]
_BITWISE_OPS = [f"_npi_{n}" for n in _BITWISE]


@register(*_BINARY_OPS)
def np_binary(node: MxNode, ctx: ExportContext) -> list[str]:
    return _np_binary(node, ctx, node.op.removeprefix("_npi_"), node.inputs[:2])


@register(*_BITWISE_OPS)
def np_bitwise(node: MxNode, ctx: ExportContext) -> list[str]:
    return _np_binary(node, ctx, node.op.removeprefix("_npi_"), node.inputs[:2])


_SCALAR_OPS = {f"_npi_{n}_scalar": (n, False) for n in list(_ARITH) + list(_COMPARE)
               if n not in ("hypot",)}
_SCALAR_OPS.update({"_npi_rsubtract_scalar": ("subtract", True),
                    "_npi_rtrue_divide_scalar": ("true_divide", True),
                    "_npi_rpower_scalar": ("power", True), "_npi_rmod_scalar": ("mod", True),
                    "_npi_rarctan2_scalar": ("arctan2", True),
                    "_npi_rcopysign_scalar": ("copysign", True),
                    "_npi_rldexp_scalar": ("ldexp", True)})
_SCALAR_BITWISE = {f"_npi_{n}_scalar": (n, False) for n in _BITWISE}


def _np_scalar(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    name, reverse = (_SCALAR_OPS | _SCALAR_BITWISE)[node.op]
    data = node.inputs[0]
    if name in _COMPARE:
        work = np.result_type(ctx.dtype(data), np.float32) if not node.bool("is_int", True) \
            and not is_float(ctx.dtype(data)) else np.dtype(ctx.dtype(data))
    elif name in _BITWISE:
        work = np.dtype(ctx.dtype(data))
    else:
        work = out_dtype(ctx, node)
    data = as_dtype(b, data, work)
    scalar = _scalar(b, node, work)
    operands = [scalar, data] if reverse else [data, scalar]
    if name in _COMPARE:
        return [finish(b, _compare(b, _COMPARE[name], *operands))]
    if name in _BITWISE:
        if ctx.opset < 18:
            raise node.fail("integer bitwise ops need opset 18 or newer", opset=ctx.opset)
        return [b(_BITWISE[name][0], *operands)]
    return [finish(b, _ARITH[name](b, *operands))]


@register(*_SCALAR_OPS)
def np_scalar(node: MxNode, ctx: ExportContext) -> list[str]:
    return _np_scalar(node, ctx)


@register(*_SCALAR_BITWISE)
def np_scalar_bitwise(node: MxNode, ctx: ExportContext) -> list[str]:
    return _np_scalar(node, ctx)


# --- reductions -------------------------------------------------------------------------------
_REDUCE = {"_np_sum": "ReduceSum", "_np_max": "ReduceMax", "_np_min": "ReduceMin",
           "_np_prod": "ReduceProd", "_npi_mean": "ReduceMean"}


@register(*_REDUCE)
def np_reduce(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    if node.optional("initial") is not None:
        raise node.fail("reductions with an 'initial' value are not supported")
    work = out_dtype(ctx, node) if node.op in ("_np_sum", "_npi_mean", "_np_prod") \
        else np.dtype(ctx.dtype(data))
    data = as_dtype(b, data, work)
    if rank == 0:
        return [finish(b, b("Identity", data))]
    return [finish(b, reduce(b, _REDUCE[node.op], data, axes_of(node, rank),
                             node.bool("keepdims", False)))]


@register("_np_all", "_np_any")
def np_all_any(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    truth = b.cast(as_dtype(b, data, BOOL), np.int32)
    op = "ReduceMin" if node.op == "_np_all" else "ReduceMax"
    value = reduce(b, op, truth, axes_of(node, rank), node.bool("keepdims", False)) \
        if rank else truth
    return [b.cast(value, BOOL)]


@register("_npi_std", "_npi_var")
def np_std_var(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    dtype = out_dtype(ctx, node)
    data = as_dtype(b, node.inputs[0], dtype)
    shape = ctx.shape(node.inputs[0])
    axes = axes_of(node, len(shape))
    reduced = list(axes if axes is not None else range(len(shape)))
    mean = reduce(b, "ReduceMean", data, axes, True)
    centred = b("Sub", data, mean)
    total = reduce(b, "ReduceSum", b("Mul", centred, centred), axes,
                   node.bool("keepdims", False))
    ddof = node.int("ddof", 0)
    if ctx.has_dynamic_axes:  # the count of reduced elements, from the runtime shape
        count = b.cast(b("ReduceProd", b("Gather", b("Shape", data, dtype=INT64),
                                         b.i64(reduced), axis=0, dtype=INT64), keepdims=0,
                         dtype=INT64), dtype)
        divisor = b("Max", b("Sub", count, b.const(ddof, dtype, "ddof")),
                    b.const(0, dtype, "zero"))
    else:
        count = int(np.prod([shape[a] for a in reduced]))
        divisor = b.const(max(count - ddof, 0), dtype, "n")
    var = b("Div", total, divisor)
    return [b("Sqrt", var) if node.op == "_npi_std" else var]


@register("_npi_argmax", "_npi_argmin")
def np_arg_reduce(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    op = "ArgMax" if node.op == "_npi_argmax" else "ArgMin"
    axis = node.optional("axis")
    keepdims = node.bool("keepdims", False)
    if axis is None:
        index = b(op, b("Reshape", data, b.i64([-1])), axis=0, keepdims=0, dtype=INT64)
        if keepdims:
            index = b("Reshape", index, b.i64([1] * len(ctx.shape(data))), dtype=INT64)
    else:
        index = b(op, data, axis=int(axis), keepdims=int(keepdims), dtype=INT64)
    return [finish(b, index)]


@register("_npi_average")
def np_average(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    if node.bool("returned", False):
        raise node.fail("average with returned=True is not supported")
    dtype = out_dtype(ctx, node)
    data = as_dtype(b, node.inputs[0], dtype)
    rank = len(ctx.shape(node.inputs[0]))
    axes = axes_of(node, rank)
    keepdims = node.bool("keepdims", False)
    if not node.bool("weighted", True) or len(node.inputs) < 2:
        return [reduce(b, "ReduceMean", data, axes, keepdims)]
    weights = as_dtype(b, node.inputs[1], dtype)
    if len(ctx.shape(node.inputs[1])) == 1 and rank > 1 and axes is not None:
        shape = [1] * rank
        shape[axes[0]] = -1
        weights = b("Reshape", weights, b.i64(shape))
    weighted = b("Mul", data, weights)
    total = reduce(b, "ReduceSum", weighted, axes, keepdims)
    norm = reduce(b, "ReduceSum", b("Expand", weights, b("Shape", data, dtype=INT64)), axes,
                  keepdims)
    return [b("Div", total, norm)]


# --- shapes and layout ------------------------------------------------------------------------
@register("_np_reshape")
def np_reshape(node: MxNode, ctx: ExportContext) -> list[str]:
    """NumPy's newshape means what ONNX's Reshape target means (-1 inferred), except that a
    literal 0 is a size there, not 'copy': allowzero keeps it a size."""
    b = Builder(node, ctx)
    if node.str("order", "C") != "C":
        raise node.fail("only C-order reshapes are supported")
    newshape = [int(d) for d in node.tuple("newshape")]
    if 0 in newshape:
        if ctx.opset < 14:
            return [b("Reshape", node.inputs[0], b.i64(list(ctx.shape(node.outputs[0]))))]
        return [b("Reshape", node.inputs[0], b.i64(newshape), allowzero=1)]
    return [b("Reshape", node.inputs[0], b.i64(newshape))]


@register("_npx_reshape")
def npx_reshape(node: MxNode, ctx: ExportContext) -> list[str]:
    from .tensor import reshape_target

    b = Builder(node, ctx)
    return [b("Reshape", node.inputs[0], reshape_target(b, node.inputs[0], "newshape",
                                                        numpy=True))]


@register("_np_transpose")
def np_transpose(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    rank = len(ctx.shape(node.inputs[0]))
    axes = node.optional("axes")
    perm = list(range(rank))[::-1] if not axes else [int(a) % rank for a in axes]
    return [b("Transpose", node.inputs[0], perm=perm)]


@register("_np_squeeze")
def np_squeeze(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    shape = ctx.shape(node.inputs[0])
    axes = axes_of(node, len(shape))
    if axes is None:
        axes = [i for i, d in enumerate(shape) if d == 1]
    if not axes:
        return [b("Identity", node.inputs[0])]
    return [b("Squeeze", node.inputs[0], b.i64(axes))]


@register("_np_moveaxis")
def np_moveaxis(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    rank = len(ctx.shape(node.inputs[0]))
    source = node.optional("source")
    dest = node.optional("destination")
    source = [int(s) % rank for s in (source if isinstance(source, (tuple, list)) else [source])]
    dest = [int(d) % rank for d in (dest if isinstance(dest, (tuple, list)) else [dest])]
    order = [a for a in range(rank) if a not in source]
    for d, s in sorted(zip(dest, source, strict=True)):
        order.insert(d, s)
    return [b("Transpose", node.inputs[0], perm=order)]


def _slice_axis(b: Builder, data: str, axis: int, start: int, end: int, step: int = 1) -> str:
    return b("Slice", data, b.i64([start]), b.i64([end]), b.i64([axis]), b.i64([step]))


@register("_np_roll")
def np_roll(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    shape = list(ctx.shape(data))
    shifts = node.optional("shift")
    axes = node.optional("axis")
    flat = axes is None
    if flat:
        data = b("Reshape", data, b.i64([-1]))
        axes, work_shape = [0], [int(np.prod(shape))]
    else:
        work_shape = shape
        axes = list(axes) if isinstance(axes, (tuple, list)) else [axes]
    shifts = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts] * len(axes)
    for axis, shift in zip(axes, shifts, strict=True):
        axis = int(axis) % len(work_shape)
        size = work_shape[axis]
        shift = int(shift) % size if size else 0
        if shift:
            data = b("Concat", _slice_axis(b, data, axis, size - shift, size),
                     _slice_axis(b, data, axis, 0, size - shift), axis=axis)
    if flat:
        data = b("Reshape", data, b("Shape", node.inputs[0], dtype=INT64))
    return [data]


@register("_npi_flip")
def np_flip(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    rank = len(ctx.shape(node.inputs[0]))
    axes = axes_of(node, rank)
    axes = list(range(rank)) if axes is None else axes
    n = len(axes)
    return [b("Slice", node.inputs[0], b.i64([-1] * n), b.i64([np.iinfo(np.int64).min] * n),
              b.i64(axes), b.i64([-1] * n))]


def _promoted(b: Builder, node: MxNode, inputs: list[str]) -> list[str]:
    return [as_dtype(b, i, out_dtype(b.ctx, node)) for i in inputs]


@register("_npi_concatenate")
def np_concatenate(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    inputs = _promoted(b, node, node.inputs)
    axis = node.optional("axis")
    if axis is None:
        inputs = [b("Reshape", i, b.i64([-1])) for i in inputs]
        axis = 0
    return [b("Concat", *inputs, axis=int(axis))]


@register("_npi_stack")
def np_stack(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    rank = len(ctx.shape(node.inputs[0])) + 1
    axis = node.int("axis", 0) % rank
    parts = [b.unsqueeze(i, [axis]) for i in _promoted(b, node, node.inputs)]
    return [b("Concat", *parts, axis=axis)]


def _to_rank(b: Builder, tensor: str, target: list[int]) -> str:
    if list(b.ctx.shape(tensor)) == target:
        return tensor
    return b("Reshape", tensor, b.i64(target))


@register("_npi_vstack", "_npi_hstack", "_npi_dstack", "_npi_column_stack")
def np_stacks(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    inputs = _promoted(b, node, node.inputs)
    parts = []
    for tensor in inputs:
        shape = list(ctx.shape(tensor))
        flat = -1 if ctx.has_dynamic_axes else int(np.prod(shape))
        if node.op == "_npi_vstack":
            target, axis = (shape if len(shape) >= 2 else [1, flat]), 0
        elif node.op == "_npi_hstack":
            target, axis = (shape or [1]), (0 if len(shape) <= 1 else 1)
        elif node.op == "_npi_column_stack":
            target, axis = (shape if len(shape) >= 2 else [flat, 1]), 1
        else:  # dstack: atleast_3d
            target = {0: [1, 1, 1], 1: [1] + shape + [1], 2: shape + [1]}.get(len(shape), shape)
            axis = 2
        parts.append(_to_rank(b, tensor, target))
    return [b("Concat", *parts, axis=axis)]


@register("_np_atleast_1d", "_np_atleast_2d", "_np_atleast_3d")
def np_atleast(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    return [_to_rank(b, i, list(ctx.shape(o))) if list(ctx.shape(i)) != list(ctx.shape(o))
            else b("Identity", i) for i, o in zip(node.inputs, node.outputs, strict=True)]


@register("_npi_broadcast_to")
def np_broadcast_to(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    return [b("Expand", node.inputs[0], b.i64(list(ctx.shape(node.outputs[0]))))]


def _triangle_mask(rows: int, cols: int, k: int, lower: bool) -> np.ndarray:
    return np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1, dtype=bool)


@register("_npi_tril")
def np_tril(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    rows, cols = ctx.shape(data)[-2:]
    mask = b.const(_triangle_mask(rows, cols, node.int("k", 0), True), np.bool_, "mask")
    return [b("Where", mask, data, b.const(0, ctx.dtype(data), "zero"), dtype=ctx.dtype(data))]


@register("_npi_where", "_npi_where_lscalar", "_npi_where_rscalar", "_npi_where_scalar2")
def np_where(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    dtype = out_dtype(ctx, node)
    cond = as_dtype(b, node.inputs[0], BOOL)
    if node.op == "_npi_where":
        x, y = (as_dtype(b, t, dtype) for t in node.inputs[1:3])
    elif node.op == "_npi_where_lscalar":  # where(cond, scalar, y)
        x, y = _scalar(b, node, dtype), as_dtype(b, node.inputs[1], dtype)
    elif node.op == "_npi_where_rscalar":  # where(cond, x, scalar)
        x, y = as_dtype(b, node.inputs[1], dtype), _scalar(b, node, dtype)
    else:
        x, y = _scalar(b, node, dtype, "x"), _scalar(b, node, dtype, "y")
    value = b("Where", cond, x, y, dtype=dtype)
    if list(ctx.shape(node.outputs[0])) != list(ctx.shape(node.inputs[0])) and \
            node.op == "_npi_where_scalar2":
        value = b("Expand", value, b.i64(list(ctx.shape(node.outputs[0]))))
    return [value]


@register("_np_cumsum")
def np_cumsum(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = as_dtype(b, node.inputs[0], out_dtype(ctx, node))
    axis = node.optional("axis")
    if axis is None:
        data, axis = b("Reshape", data, b.i64([-1])), 0
    return [b("CumSum", data, b.i64(int(axis)))]


@register("_npi_matmul")
def np_matmul(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x, y = _promoted(b, node, node.inputs[:2])
    return [b("MatMul", x, y)]


def tensordot(b: Builder, a: str, c: str, a_axes: list[int], c_axes: list[int]) -> str:
    """numpy.tensordot with static shapes: a transpose, a reshape and one MatMul each side."""
    sa, sc = list(b.ctx.shape(a)), list(b.ctx.shape(c))
    a_axes = [x % len(sa) for x in a_axes]
    c_axes = [x % len(sc) for x in c_axes]
    a_free = [i for i in range(len(sa)) if i not in a_axes]
    c_free = [i for i in range(len(sc)) if i not in c_axes]
    inner = int(np.prod([sa[i] for i in a_axes]))
    a2 = b("Reshape", b("Transpose", a, perm=a_free + a_axes),
           b.i64([int(np.prod([sa[i] for i in a_free])), inner]))
    c2 = b("Reshape", b("Transpose", c, perm=c_axes + c_free),
           b.i64([inner, int(np.prod([sc[i] for i in c_free]))]))
    product = b("MatMul", a2, c2)
    return b("Reshape", product, b.i64([sa[i] for i in a_free] + [sc[i] for i in c_free]))


@register("_np_dot")
def np_dot(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    a, c = _promoted(b, node, node.inputs[:2])
    ra, rc = len(ctx.shape(a)), len(ctx.shape(c))
    if ra == 0 or rc == 0:
        return [b("Mul", a, c)]
    if rc == 1 or (ra <= 2 and rc == 2):
        return [b("MatMul", a, c)]
    return [tensordot(b, a, c, [-1], [-2])]


@register("_npi_tensordot", "_npi_tensordot_int_axes")
def np_tensordot(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    a, c = _promoted(b, node, node.inputs[:2])
    if node.op == "_npi_tensordot_int_axes":
        n = node.int("axes", 2)
        ra = len(ctx.shape(a))
        a_axes, c_axes = list(range(ra - n, ra)), list(range(n))
    else:
        def listed(key: str) -> list[int]:
            value = node.optional(key)
            return list(value) if isinstance(value, (tuple, list)) else [int(value)]
        a_axes, c_axes = listed("a_axes_summed"), listed("b_axes_summed")
    return [tensordot(b, a, c, a_axes, c_axes)]


@register("_npi_einsum")
def np_einsum(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    inputs = _promoted(b, node, node.inputs)
    return [b("Einsum", *inputs, equation=node.str("subscripts").replace(" ", ""))]


@register("_npi_pad")
def np_pad(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    widths = node.optional("pad_width")
    widths = [tuple(w) if isinstance(w, (tuple, list)) else (w, w) for w in widths]
    if len(widths) == 1:
        widths = widths * rank
    mode = node.str("mode", "constant")
    modes = {"constant": "constant", "edge": "edge", "reflect": "reflect"}
    if mode not in modes or node.str("reflect_type", "even") != "even":
        raise node.fail(f"pad mode {mode!r} is not supported")
    pads = b.i64([int(w[0]) for w in widths] + [int(w[1]) for w in widths])
    inputs = [data, pads]
    if mode == "constant":
        inputs.append(b.const(node.float("constant_value", 0.0), ctx.dtype(data), "value"))
    return [b("Pad", *inputs, mode=modes[mode])]


@register("_npi_diff")
def np_diff(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    axis = node.int("axis", -1) % len(ctx.shape(data))
    size = ctx.shape(data)[axis]
    for _ in range(node.int("n", 1)):
        data = b("Sub", _slice_axis(b, data, axis, 1, size), _slice_axis(b, data, axis, 0,
                                                                          size - 1))
        size -= 1
    return [data]


def diagonal(b: Builder, data: str, offset: int, axis1: int, axis2: int) -> str:
    """numpy.diagonal: the diagonal of axes (axis1, axis2) as the last axis."""
    shape = list(b.ctx.shape(data))
    rank = len(shape)
    axis1, axis2 = axis1 % rank, axis2 % rank
    rest = [i for i in range(rank) if i not in (axis1, axis2)]
    moved = b("Transpose", data, perm=rest + [axis1, axis2])
    rows, cols = shape[axis1], shape[axis2]
    flat = b("Reshape", moved, b.i64([shape[i] for i in rest] + [rows * cols]))
    if offset >= 0:
        count = max(min(rows, cols - offset), 0)
        index = [i * cols + i + offset for i in range(count)]
    else:
        count = max(min(rows + offset, cols), 0)
        index = [(i - offset) * cols + i for i in range(count)]
    return b("Gather", flat, b.i64(index), axis=len(rest))


def make_diagonal(b: Builder, data: str, offset: int) -> str:
    """A square matrix with ``data`` (the last axis) on diagonal ``offset``."""
    shape = list(b.ctx.shape(data))
    n = shape[-1]
    size = n + abs(offset)
    select = np.zeros((n, size * size), dtype=b.ctx.dtype(data))
    for i in range(n):
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        select[i, r * size + c] = 1
    product = b("MatMul", data, b.const(select, b.ctx.dtype(data), "select"))
    return b("Reshape", product, b.i64(shape[:-1] + [size, size]))


def diag(b: Builder, data: str, k: int, axis1: int = 0, axis2: int = 1) -> str:
    """numpy.diag: a vector becomes a diagonal matrix, a matrix gives its diagonal."""
    if len(b.ctx.shape(data)) == 1:
        return make_diagonal(b, data, k)
    return diagonal(b, data, k, axis1, axis2)


@register("_np_diag")
def np_diag(node: MxNode, ctx: ExportContext) -> list[str]:
    return [diag(Builder(node, ctx), node.inputs[0], node.int("k", 0))]


@register("_np_diagonal")
def np_diagonal(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    return [diagonal(b, node.inputs[0], node.int("offset", 0), node.int("axis1", 0),
                     node.int("axis2", 1))]


@register("_np_trace")
def np_trace(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    diag = diagonal(b, node.inputs[0], node.int("offset", 0), node.int("axis1", 0),
                    node.int("axis2", 1))
    return [finish(b, reduce(b, "ReduceSum", diag, [len(ctx.shape(node.inputs[0])) - 2],
                             False))]


@register("_npi_rot90")
def np_rot90(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    a0, a1 = (int(a) % rank for a in node.tuple("axes", (0, 1)))
    k = node.int("k", 1) % 4

    def flip(t: str, axis: int) -> str:
        return b("Slice", t, b.i64([-1]), b.i64([np.iinfo(np.int64).min]), b.i64([axis]),
                 b.i64([-1]))

    perm = list(range(rank))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 0:
        return [b("Identity", data)]
    if k == 2:
        return [flip(flip(data, a0), a1)]
    if k == 1:
        return [b("Transpose", flip(data, a1), perm=perm)]
    return [flip(b("Transpose", data, perm=perm), a1)]


@register("_npi_hsplit", "_npi_dsplit")
def np_split(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    axis = 2 if node.op == "_npi_dsplit" else (0 if rank == 1 else 1)
    sizes = [ctx.shape(o)[axis] for o in node.outputs]
    return ctx.emit("Split", [data, b.i64(sizes)], len(sizes), name=f"{node.name}_split",
                    axis=axis)


# --- made from attributes alone: MXNet itself computes the values at export time ---------------
def fold_in_mxnet(node: MxNode, ctx: ExportContext) -> list[str]:
    """Ops without inputs (or whose value depends only on static input shapes): run the node
    in MXNet once and export its outputs as constants."""
    import json

    import mxnet as mx

    if any(True for _ in node.inputs) and ctx.has_dynamic_axes:
        raise node.fail("this op's value depends on its input's shape, which is dynamic here; "
                        "export with static shapes")
    names = [f"in{i}" for i in range(len(node.inputs))]
    nodes = [{"op": "null", "name": n, "inputs": []} for n in names]
    nodes.append({"op": node.op, "name": "op", "attrs": node.attrs,
                  "inputs": [[i, 0, 0] for i in range(len(names))]})
    heads = [[len(names), i, 0] for i in range(len(node.outputs))]
    sym = mx.sym.load_json(json.dumps({"nodes": nodes, "arg_nodes": list(range(len(names))),
                                       "heads": heads,
                                       "attrs": {"mxnet_version": ["int", 10901]}}))
    args = {n: mx.nd.zeros(ctx.shape(i), dtype=ctx.dtype(i))
            for n, i in zip(names, node.inputs, strict=True)}
    outputs = sym.bind(mx.cpu(), args=args, grad_req="null").forward(is_train=False)
    results = []
    for out_name, value in zip(node.outputs, outputs, strict=False):
        array = value.asnumpy()
        const = ctx.add_const(array, f"{node.name}_value")
        results.append(ctx.emit1("Identity", [const], out_name, name=f"{node.name}_identity",
                                 dtype=array.dtype))
    return results


FOLDED_CREATION_OPS = ("_npi_zeros", "_npi_ones", "_npi_identity", "_npi_eye", "_npi_arange",
                       "_npi_indices", "_npi_hanning", "_npi_hamming", "_npi_blackman",
                       "_npi_logspace", "_full", "_eye", "_linspace", "_contrib_index_array")


@register(*FOLDED_CREATION_OPS)
def creation(node: MxNode, ctx: ExportContext) -> list[str]:
    return fold_in_mxnet(node, ctx)


@register("_npi_full_like")
def np_full_like(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    dtype = out_dtype(ctx, node)
    value = b.const(node.float("fill_value"), dtype, "fill")
    return [b("Expand", value, b("Shape", node.inputs[0], dtype=INT64))]


@register("_npi_around")
def np_around(node: MxNode, ctx: ExportContext) -> list[str]:
    """Round half to even at ``decimals`` digits (NumPy's around)."""
    b = Builder(node, ctx)
    x = node.inputs[0]
    dtype = ctx.dtype(x)
    if not is_float(dtype):
        return [b("Identity", x)]
    decimals = node.int("decimals", 0)
    if decimals == 0:
        return [b("Round", x)]
    factor = b.const(10.0 ** decimals, dtype, "factor")
    return [b("Div", b("Round", b("Mul", x, factor)), factor)]


@register("_np_diagflat")
def np_diagflat(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    flat = b("Reshape", node.inputs[0], b.i64([-1]))
    b.ctx.shapes[flat] = (int(np.prod(ctx.shape(node.inputs[0]))),)
    return [make_diagonal(b, flat, node.int("k", 0))]


@register("_npi_norm")
def np_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    """Vector norms (ord 1, 2, inf, -inf, 0) and the Frobenius norm; matrix 2-norms and
    nuclear norms need an SVD, which ONNX has not."""
    b = Builder(node, ctx)
    data = as_dtype(b, node.inputs[0], out_dtype(ctx, node))
    rank = len(ctx.shape(node.inputs[0]))
    flag = node.int("flag", 0)
    keepdims = node.bool("keepdims", False)
    axes = axes_of(node, rank)
    if flag in (-2, 1):  # Frobenius (the 2-norm of the flattened axes)
        return [b("Sqrt", reduce(b, "ReduceSum", b("Mul", data, data), axes, keepdims))]
    if flag != 0:
        raise node.fail("matrix 2-norms and nuclear norms need an SVD, which ONNX has not")
    order = node.float("ord", 2.0)
    magnitude = b("Abs", data)
    if order == np.inf:
        return [reduce(b, "ReduceMax", magnitude, axes, keepdims)]
    if order == -np.inf:
        return [reduce(b, "ReduceMin", magnitude, axes, keepdims)]
    if order == 0:
        nonzero = b.cast(b("Not", b("Equal", data, b.const(0, ctx.dtype(data), "zero"),
                                    dtype=BOOL), dtype=BOOL), ctx.dtype(data))
        return [reduce(b, "ReduceSum", nonzero, axes, keepdims)]
    if order == 1:
        return [reduce(b, "ReduceSum", magnitude, axes, keepdims)]
    powered = b("Pow", magnitude, b.const(order, ctx.dtype(data), "ord"))
    total = reduce(b, "ReduceSum", powered, axes, keepdims)
    return [b("Pow", total, b.const(1.0 / order, ctx.dtype(data), "inv_ord"))]
