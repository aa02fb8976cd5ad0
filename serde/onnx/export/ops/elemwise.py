"""Element-wise arithmetic: binary (elemwise_/broadcast_), scalar variants and unary math."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import scalar_const

# MXNet's elemwise_* need equal shapes and broadcast_* broadcast numpy-style, as ONNX does.
# Keys are MXNet's canonical op names (what a graph's JSON holds); aliases such as
# broadcast_plus or _Plus resolve to these when the graph is built.
_BINARY = {"Add": ["elemwise_add", "broadcast_add"], "Sub": ["elemwise_sub", "broadcast_sub"],
           "Mul": ["elemwise_mul", "broadcast_mul"], "Div": ["elemwise_div", "broadcast_div"],
           "Pow": ["broadcast_power", "_power"], "Max": ["broadcast_maximum", "_maximum"],
           "Min": ["broadcast_minimum", "_minimum"]}
_BINARY_OP = {mx_op: onnx_op for onnx_op, names in _BINARY.items() for mx_op in names}

# Comparisons give bool in ONNX; MXNet gives 0/1 in the input dtype, hence the Cast.
_COMPARE = {"broadcast_equal": ("Equal", False), "broadcast_not_equal": ("Equal", True),
            "broadcast_greater": ("Greater", False), "broadcast_lesser": ("Less", False),
            "broadcast_greater_equal": ("GreaterOrEqual", False),
            "broadcast_lesser_equal": ("LessOrEqual", False),
            "_equal": ("Equal", False), "_not_equal": ("Equal", True),
            "_greater": ("Greater", False), "_lesser": ("Less", False),
            "_greater_equal": ("GreaterOrEqual", False), "_lesser_equal": ("LessOrEqual", False)}
_LOGICAL = {"broadcast_logical_and": "And", "broadcast_logical_or": "Or",
            "broadcast_logical_xor": "Xor", "_logical_and": "And", "_logical_or": "Or",
            "_logical_xor": "Xor"}

_SCALAR = {"_plus_scalar": ("Add", False), "_minus_scalar": ("Sub", False),
           "_rminus_scalar": ("Sub", True), "_mul_scalar": ("Mul", False),
           "_div_scalar": ("Div", False), "_rdiv_scalar": ("Div", True),
           "_power_scalar": ("Pow", False), "_rpower_scalar": ("Pow", True),
           "_maximum_scalar": ("Max", False), "_minimum_scalar": ("Min", False)}
_SCALAR_COMPARE = {"_equal_scalar": ("Equal", False), "_not_equal_scalar": ("Equal", True),
                   "_greater_scalar": ("Greater", False), "_lesser_scalar": ("Less", False),
                   "_greater_equal_scalar": ("GreaterOrEqual", False),
                   "_lesser_equal_scalar": ("LessOrEqual", False)}

_UNARY = {"abs": "Abs", "negative": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "ceil": "Ceil", "floor": "Floor", "sin": "Sin", "cos": "Cos", "tan": "Tan",
          "arcsin": "Asin", "arccos": "Acos", "arctan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "arcsinh": "Asinh", "arccosh": "Acosh", "arctanh": "Atanh", "reciprocal": "Reciprocal",
          "sign": "Sign", "erf": "Erf", "round": "Round", "_copy": "Identity",
          "BlockGrad": "Identity", "make_loss": "Identity", "MakeLoss": "Identity"}


def _bool_to(ctx: ExportContext, node: MxNode, value: str, like: str, negate: bool) -> list[str]:
    if negate:
        value = ctx.emit1("Not", [value], name=f"{node.name}_not")
    return ctx.emit("Cast", [value], node.outputs, name=node.name,
                    to=ctx.onnx_dtype(like), dtype=ctx.dtype(like))


@register(*_BINARY_OP)
def binary(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit(_BINARY_OP[node.op], node.inputs[:2], node.outputs, name=node.name)


@register(*_COMPARE)
def compare(node: MxNode, ctx: ExportContext) -> list[str]:
    op, negate = _COMPARE[node.op]
    out = ctx.emit1(op, node.inputs[:2], name=f"{node.name}_{op.lower()}", dtype=np.bool_)
    return _bool_to(ctx, node, out, node.inputs[0], negate)


@register(*_LOGICAL)
def logical(node: MxNode, ctx: ExportContext) -> list[str]:
    a, b = (ctx.emit1("Cast", [x], name=f"{node.name}_as_bool{i}", to=TensorProto.BOOL)
            for i, x in enumerate(node.inputs[:2]))
    out = ctx.emit1(_LOGICAL[node.op], [a, b], name=f"{node.name}_logical", dtype=np.bool_)
    return _bool_to(ctx, node, out, node.inputs[0], False)


@register("logical_not")
def logical_not(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    as_bool = ctx.emit1("Cast", [data], name=f"{node.name}_as_bool", to=TensorProto.BOOL)
    return _bool_to(ctx, node, as_bool, data, True)


@register(*_SCALAR)
def scalar_arith(node: MxNode, ctx: ExportContext) -> list[str]:
    op, reverse = _SCALAR[node.op]
    data = node.inputs[0]
    scalar = scalar_const(ctx, node, node.float("scalar"), data, "scalar")
    inputs = [scalar, data] if reverse else [data, scalar]
    return ctx.emit(op, inputs, node.outputs, name=node.name)


@register(*_SCALAR_COMPARE)
def scalar_compare(node: MxNode, ctx: ExportContext) -> list[str]:
    op, negate = _SCALAR_COMPARE[node.op]
    data = node.inputs[0]
    scalar = scalar_const(ctx, node, node.float("scalar"), data, "scalar")
    out = ctx.emit1(op, [data, scalar], name=f"{node.name}_{op.lower()}", dtype=np.bool_)
    return _bool_to(ctx, node, out, data, negate)


@register(*_UNARY)
def unary(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit(_UNARY[node.op], node.inputs[:1], node.outputs, name=node.name)


@register("square")
def square(node: MxNode, ctx: ExportContext) -> list[str]:
    x = node.inputs[0]
    return ctx.emit("Mul", [x, x], node.outputs, name=node.name)


@register("rsqrt")
def rsqrt(node: MxNode, ctx: ExportContext) -> list[str]:
    root = ctx.emit1("Sqrt", node.inputs[:1], name=f"{node.name}_sqrt")
    return ctx.emit("Reciprocal", [root], node.outputs, name=node.name)


@register("log2", "log10", "log1p", "expm1")
def log_variants(node: MxNode, ctx: ExportContext) -> list[str]:
    x = node.inputs[0]
    if node.op in ("log2", "log10"):
        ln = ctx.emit1("Log", [x], name=f"{node.name}_ln")
        base = scalar_const(ctx, node, np.log(2.0 if node.op == "log2" else 10.0), x, "lnbase")
        return ctx.emit("Div", [ln, base], node.outputs, name=node.name)
    one = scalar_const(ctx, node, 1.0, x, "one")
    if node.op == "log1p":
        plus = ctx.emit1("Add", [x, one], name=f"{node.name}_plus1")
        return ctx.emit("Log", [plus], node.outputs, name=node.name)
    exp = ctx.emit1("Exp", [x], name=f"{node.name}_exp")
    return ctx.emit("Sub", [exp, one], node.outputs, name=node.name)


@register("add_n")
def add_n(node: MxNode, ctx: ExportContext) -> list[str]:
    if len(node.inputs) == 1:
        return [node.inputs[0]]
    return ctx.emit("Sum", node.inputs, node.outputs, name=node.name)
