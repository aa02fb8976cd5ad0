"""Math ONNX has no single op for: gamma/gammaln (Lanczos), erfinv (Giles' approximation and a
Newton step), cube roots, hypot, MXNet's Python-style mod, smooth_l1, moments, nan-reductions,
khatri_rao, and the identity-in-forward training helpers."""
from __future__ import annotations

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import Builder
from .numpy_ops import BOOL, as_dtype, finish, python_mod, signed_root, truncate
from .reduce import emit_reduce, reduce_axes

F64 = np.dtype(np.float64)
#: Lanczos approximation, g = 7, 9 terms (Numerical Recipes' / Godfrey's coefficients).
_LANCZOS_G = 7.0
_LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7]


def _lanczos_lgamma_positive(b: Builder, x: str) -> str:
    """ln Gamma(x) for x >= 0.5, float64."""
    z = b("Sub", x, b.const(1.0, F64, "one"))
    series = b.const(_LANCZOS[0], F64, "c0")
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = b("Add", series, b("Div", b.const(c, F64, f"c{i}"),
                                    b("Add", z, b.const(float(i), F64, f"k{i}"))))
    t = b("Add", z, b.const(_LANCZOS_G + 0.5, F64, "g"))
    half = b("Add", z, b.const(0.5, F64, "half"))
    return b("Add", b("Add", b.const(0.5 * np.log(2 * np.pi), F64, "ln2pi"),
                      b("Sub", b("Mul", half, b("Log", t)), t)), b("Log", series))


def lgamma_and_sign(b: Builder, x: str) -> tuple[str, str]:
    """ln|Gamma(x)| and the sign of Gamma(x), float64, with the reflection formula below 0.5."""
    x = as_dtype(b, x, F64)
    one = b.const(1.0, F64, "one")
    reflect = b("Less", x, b.const(0.5, F64, "half"), dtype=BOOL)
    y = b("Where", reflect, b("Sub", one, x), x, dtype=F64)
    positive = _lanczos_lgamma_positive(b, y)
    sine = b("Sin", b("Mul", x, b.const(np.pi, F64, "pi")))
    reflected = b("Sub", b("Sub", b.const(np.log(np.pi), F64, "lnpi"),
                           b("Log", b("Abs", sine))), positive)
    lgamma = b("Where", reflect, reflected, positive, dtype=F64)
    sign = b("Where", reflect, b("Sign", sine), one, dtype=F64)
    return lgamma, sign


@register("gammaln")
def gammaln(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    lgamma, _ = lgamma_and_sign(b, node.inputs[0])
    return [finish(b, lgamma)]


@register("gamma")
def gamma(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    lgamma, sign = lgamma_and_sign(b, node.inputs[0])
    return [finish(b, b("Mul", sign, b("Exp", lgamma)))]


_ERFINV_CENTRAL = [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                   0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]
_ERFINV_TAIL = [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]


@register("erfinv")
def erfinv(node: MxNode, ctx: ExportContext) -> list[str]:
    """Giles' single-precision approximation, then one Newton step on erf in float64."""
    b = Builder(node, ctx)
    x = as_dtype(b, node.inputs[0], F64)
    one = b.const(1.0, F64, "one")
    w = b("Neg", b("Log", b("Mul", b("Sub", one, x), b("Add", one, x))))

    def horner(t: str, coefficients: list[float], label: str) -> str:
        p = b.const(coefficients[0], F64, f"{label}0")
        for i, c in enumerate(coefficients[1:], start=1):
            p = b("Add", b.const(c, F64, f"{label}{i}"), b("Mul", p, t))
        return p

    central = horner(b("Sub", w, b.const(2.5, F64, "w0")), _ERFINV_CENTRAL, "a")
    tail = horner(b("Sub", b("Sqrt", w), b.const(3.0, F64, "w1")), _ERFINV_TAIL, "t")
    guess = b("Mul", b("Where", b("Less", w, b.const(5.0, F64, "five"), dtype=BOOL), central,
                       tail, dtype=F64), x)
    # Newton: y <- y - (erf(y) - x) / (2/sqrt(pi) exp(-y^2)), in float32 (onnxruntime has
    # no float64 Erf); finite guesses only (|x| = 1 gives +-inf, the step would give NaN)
    guess, x = b.cast(guess, np.float32), b.cast(x, np.float32)
    slope = b("Mul", b.const(2 / np.sqrt(np.pi), np.float32, "k"),
              b("Exp", b("Neg", b("Mul", guess, guess))))
    step = b("Div", b("Sub", b("Erf", guess), x), slope)
    refined = b("Sub", guess, step)
    finite = b("Not", b("Or", b("IsInf", guess, dtype=BOOL), b("IsNaN", guess, dtype=BOOL),
                        dtype=BOOL), dtype=BOOL)
    return [finish(b, b("Where", finite, refined, guess, dtype=np.float32))]


@register("cbrt", "rcbrt")
def cbrt(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    root = signed_root(b, node.inputs[0], 3)
    return [b("Reciprocal", root) if node.op == "rcbrt" else root]


@register("degrees", "radians")
def angle_units(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = node.inputs[0]
    factor = 180 / np.pi if node.op == "degrees" else np.pi / 180
    return [b("Mul", x, b.const(factor, ctx.dtype(x), "factor"))]


@register("fix", "trunc")
def fix(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    return [truncate(b, node.inputs[0])]


@register("rint")
def rint(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)  # ONNX Round rounds half to even, as C's rint does
    return [b("Round", node.inputs[0])]


def _hypot(b: Builder, x: str, y: str) -> str:
    return b("Sqrt", b("Add", b("Mul", x, x), b("Mul", y, y)))


@register("_hypot", "broadcast_hypot")
def hypot(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    return [_hypot(b, *node.inputs[:2])]


@register("_hypot_scalar")
def hypot_scalar(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = node.inputs[0]
    return [_hypot(b, x, b.const(node.float("scalar"), ctx.dtype(x), "scalar"))]


@register("broadcast_mod", "_mod")
def mod(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet's mod takes the divisor's sign (as Python's %) and gives 0 for a zero divisor."""
    b = Builder(node, ctx)
    return [python_mod(b, *node.inputs[:2])]


@register("_mod_scalar", "_rmod_scalar")
def mod_scalar(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = node.inputs[0]
    scalar = b.const(node.float("scalar"), ctx.dtype(x), "scalar")
    return [python_mod(b, scalar, x) if node.op == "_rmod_scalar" else python_mod(b, x, scalar)]


_LOGICAL_SCALAR = {"_logical_and_scalar": "And", "_logical_or_scalar": "Or",
                   "_logical_xor_scalar": "Xor"}


@register(*_LOGICAL_SCALAR)
def logical_scalar(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = node.inputs[0]
    truth = b("Not", b("Equal", x, b.const(0, ctx.dtype(x), "zero"), dtype=BOOL), dtype=BOOL)
    scalar = b.const(node.float("scalar") != 0, np.bool_, "scalar")
    return [finish(b, b(_LOGICAL_SCALAR[node.op], truth, scalar, dtype=BOOL))]


@register("smooth_l1")
def smooth_l1(node: MxNode, ctx: ExportContext) -> list[str]:
    """0.5 (sigma x)^2 where |x| < 1/sigma^2, else |x| - 0.5/sigma^2."""
    b = Builder(node, ctx)
    x = node.inputs[0]
    dtype = ctx.dtype(x)
    sigma2 = node.float("scalar", 1.0) ** 2
    magnitude = b("Abs", x)
    quadratic = b("Mul", b("Mul", x, x), b.const(0.5 * sigma2, dtype, "half_s2"))
    linear = b("Sub", magnitude, b.const(0.5 / sigma2, dtype, "half_inv"))
    inside = b("Less", magnitude, b.const(1.0 / sigma2, dtype, "inv_s2"), dtype=BOOL)
    return [b("Where", inside, quadratic, linear, dtype=dtype)]


@register("moments")
def moments(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    axes = reduce_axes(node, rank, key="axes")
    keepdims = node.bool("keepdims", False)
    mean_keep = emit_reduce(ctx, node, "ReduceMean", data, axes, True, None)
    centred = b("Sub", data, mean_keep)
    ctx.shapes[centred] = ctx.shape(data)
    square = b("Mul", centred, centred)
    ctx.shapes[square] = ctx.shape(data)
    var = emit_reduce(ctx, node, "ReduceMean", square, axes, keepdims, node.outputs[1])
    mean = emit_reduce(ctx, node, "ReduceMean", data, axes, keepdims, node.outputs[0])
    return [mean, var]


@register("nansum", "nanprod")
def nan_reduce(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    dtype = ctx.dtype(data)
    neutral = b.const(0.0 if node.op == "nansum" else 1.0, dtype, "neutral")
    clean = b("Where", b("IsNaN", data, dtype=BOOL), neutral, data, dtype=dtype)
    ctx.shapes[clean] = ctx.shape(data)
    axes = reduce_axes(node, len(ctx.shape(data)))
    op = "ReduceSum" if node.op == "nansum" else "ReduceProd"
    return [emit_reduce(ctx, node, op, clean, axes, node.bool("keepdims", False),
                        node.outputs[0])]


@register("khatri_rao")
def khatri_rao(node: MxNode, ctx: ExportContext) -> list[str]:
    """Column-wise Kronecker product of (I_k, R) matrices -> (prod I_k, R)."""
    b = Builder(node, ctx)
    result = node.inputs[0]
    rows = ctx.shape(result)[0]
    cols = ctx.shape(result)[1]
    for other in node.inputs[1:]:
        other_rows = ctx.shape(other)[0]
        product = b("Mul", b.unsqueeze(result, [1]), b.unsqueeze(other, [0]))
        rows *= other_rows
        result = b("Reshape", product, b.i64([-1 if ctx.has_dynamic_axes else rows, cols]))
    return [result]


@register("_contrib_quadratic")
def quadratic(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    x = node.inputs[0]
    dtype = ctx.dtype(x)
    a, bb, c = (node.float(k, 0.0) for k in ("a", "b", "c"))
    value = b("Add", b("Mul", b("Add", b("Mul", x, b.const(a, dtype, "a")),
                                b.const(bb, dtype, "b")), x), b.const(c, dtype, "c"))
    return [value]


@register("_contrib_gradientmultiplier", "IdentityAttachKLSparseReg", "_contrib_round_ste",
          "_contrib_sign_ste")
def forward_identity_family(node: MxNode, ctx: ExportContext) -> list[str]:
    """Ops that only change gradients: their forward is the identity (or round/sign)."""
    b = Builder(node, ctx)
    op = {"_contrib_round_ste": "Round", "_contrib_sign_ste": "Sign"}.get(node.op, "Identity")
    return [b(op, node.inputs[0])]


@register("all_finite")
def all_finite(node: MxNode, ctx: ExportContext) -> list[str]:
    """1.0 when every element is finite, else 0.0, as a (1,) tensor."""
    b = Builder(node, ctx)
    data = node.inputs[0]
    bad = b("Or", b("IsNaN", data, dtype=BOOL), b("IsInf", data, dtype=BOOL), dtype=BOOL)
    any_bad = b("ReduceMax", b.cast(bad, np.int32), keepdims=0)
    ok = b("Equal", any_bad, b.const(0, np.int32, "zero"), dtype=BOOL)
    return [b("Reshape", finish(b, ok), b.i64([1]))]

