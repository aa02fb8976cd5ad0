"""Elementwise arithmetic: tensor-tensor (with Core ML's fixed-rank broadcasting), with a
constant operand, with a scalar, and unary math."""
from __future__ import annotations

import numpy as np

from ..context import CoremlContext, MxNode, blob_shape
from ..registry import register
from .activations import clip_blob

_BINARY = {"add": "ADD", "mul": "MULTIPLY", "maximum": "MAX", "minimum": "MIN"}
_OPS = {**{f"elemwise_{k}": k for k in ("add", "sub", "mul", "div")},
        **{f"broadcast_{k}": k for k in ("add", "sub", "mul", "div", "plus", "minus",
                                         "maximum", "minimum")},
        "_plus": "add", "_add": "add", "_sub": "sub", "_minus": "sub", "_mul": "mul",
        "_div": "div", "_maximum": "maximum", "_minimum": "minimum", "add_n": "add",
        "ElementWiseSum": "add"}
_OPS = {op: {"plus": "add", "minus": "sub"}.get(kind, kind) for op, kind in _OPS.items()}


def _broadcastable(node: MxNode, ctx: CoremlContext, tensor: str, out_chw: tuple) -> None:
    """Core ML's fixed-rank add/multiply broadcast an operand over a whole axis only: (C,H,W)
    with 1 for every broadcast axis. MXNet's batch axis must already agree."""
    shape = ctx.shape(tensor)
    out_shape = ctx.shape(node.outputs[0])
    if len(shape) != len(out_shape) or shape[0] != out_shape[0]:
        raise node.fail(f"broadcasts {tuple(shape)} to {tuple(out_shape)} over the batch or a "
                        f"new axis; Core ML's fixed-rank layers broadcast within (C, H, W)")


def _constant_operand(node: MxNode, ctx: CoremlContext, value: np.ndarray, kind: str,
                      other: str, constant_first: bool) -> str | None:
    """``x op c`` with a parameter ``c`` broadcast over the batch: Core ML's bias and scale
    layers hold it."""
    out_shape = ctx.shape(node.outputs[0])
    full = np.broadcast_to(value, out_shape) if value.ndim <= len(out_shape) else None
    if full is None or (value.ndim == len(out_shape) and value.shape[0] != 1):
        return None  # varies over the batch: not a per-sample constant
    chw = blob_shape(out_shape)
    per_sample = np.asarray(value, np.float32).reshape((1,) * (len(out_shape) - value.ndim)
                                                       + value.shape)[0]
    per_sample = np.broadcast_to(per_sample, out_shape[1:]).reshape(chw)  # type: ignore[arg-type]
    squeezed = _compact(per_sample)
    if kind in ("add", "sub"):
        sign = -1.0 if kind == "sub" and not constant_first else 1.0
        source = other if not (kind == "sub" and constant_first) else ctx.linear(
            other, -1.0, 0.0, f"{node.name}_neg")
        return ctx.layer("add_bias", node.name, node.outputs[0], chw, input_name=source,
                         b=sign * squeezed, shape_bias=squeezed.shape)
    if kind == "div" and constant_first:  # c / x = c * (1 / x)
        other = ctx.layer("add_unary", f"{node.name}_inverse", None, ctx.blob(other),
                          input_name=other, mode="inverse", epsilon=1e-30)
    scale = 1.0 / squeezed if kind == "div" and not constant_first else squeezed
    return ctx.layer("add_scale", node.name, node.outputs[0], chw, input_name=other,
                     W=scale, b=None, has_bias=False, shape_scale=scale.shape)


def _compact(values: np.ndarray) -> np.ndarray:
    """A (C, H, W) constant in the smallest shape Core ML's bias/scale broadcast: (1,),
    (C,), (1, H, W) or (C, H, W)."""
    if np.all(values == values.flat[0]):
        return np.asarray([values.flat[0]], np.float32)
    if np.all(values == values[:, :1, :1]):
        return np.ascontiguousarray(values[:, 0, 0])
    if np.all(values == values[:1]):
        return np.ascontiguousarray(values[:1])
    return np.ascontiguousarray(values)


@register(*_OPS)
def binary(node: MxNode, ctx: CoremlContext) -> list[str]:
    kind = _OPS[node.op]
    out_chw = blob_shape(ctx.shape(node.outputs[0]))
    if out_chw is None:
        raise node.fail("output has no Core ML blob")
    operands = list(node.inputs)
    constants = [ctx.const(t) for t in operands]
    if len(operands) == 2 and sum(c is not None for c in constants) == 1 and kind != "maximum" \
            and kind != "minimum":
        k = 0 if constants[0] is not None else 1
        made = _constant_operand(node, ctx, np.asarray(constants[k]), kind, operands[1 - k],
                                 constant_first=k == 0)
        if made is not None:
            return [made]
    for tensor, value in zip(operands, constants, strict=True):
        if value is not None:
            raise node.fail(f"operand {tensor!r} is a constant Core ML cannot broadcast here")
        _broadcastable(node, ctx, tensor, out_chw)
    if kind == "sub":
        operands[1] = ctx.linear(operands[1], -1.0, 0.0, f"{node.name}_neg")
        kind = "add"
    elif kind == "div":
        operands[1] = ctx.layer("add_unary", f"{node.name}_inverse", None,
                                ctx.blob(operands[1]), input_name=operands[1], mode="inverse",
                                epsilon=1e-30)
        kind = "mul"
    while len(operands) > 2:  # add_n: a chain of two-input layers
        operands = [ctx.layer("add_elementwise", f"{node.name}_partial", None, out_chw,
                              input_names=operands[:2], mode=_BINARY[kind]), *operands[2:]]
    if len(operands) == 1:
        return [operands[0]]
    return [ctx.layer("add_elementwise", node.name, node.outputs[0], out_chw,
                      input_names=operands, mode=_BINARY[kind])]


@register("_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar",
          "_rdiv_scalar", "_power_scalar", "_maximum_scalar", "_minimum_scalar")
def scalar(node: MxNode, ctx: CoremlContext) -> list[str]:
    s = node.float("scalar")
    x, out = node.inputs[0], node.outputs[0]
    affine = {"_plus_scalar": (1.0, s), "_minus_scalar": (1.0, -s), "_rminus_scalar": (-1.0, s),
              "_mul_scalar": (s, 0.0)}
    if node.op in affine:
        return [ctx.linear(x, *affine[node.op], node.name, out=out)]
    if node.op == "_div_scalar":
        return [ctx.linear(x, 1.0 / s, 0.0, node.name, out=out)]
    if node.op == "_rdiv_scalar":
        inverse = ctx.layer("add_unary", f"{node.name}_inverse", None, ctx.blob(x),
                            input_name=x, mode="inverse", epsilon=1e-30)
        return [ctx.linear(inverse, s, 0.0, node.name, out=out)]
    if node.op == "_power_scalar":
        return [ctx.layer("add_unary", node.name, out, ctx.blob(x), input_name=x, mode="power",
                          alpha=s)]
    if node.op == "_maximum_scalar":
        return [clip_blob(ctx, node, x, s, None, out)]
    return [clip_blob(ctx, node, x, None, s, out)]


_UNARY = {"exp": "exp", "log": "log", "sqrt": "sqrt", "rsqrt": "rsqrt", "abs": "abs",
          "reciprocal": "inverse"}


@register("exp", "log", "sqrt", "rsqrt", "abs", "reciprocal", "square", "negative")
def unary(node: MxNode, ctx: CoremlContext) -> list[str]:
    x, out = node.inputs[0], node.outputs[0]
    if node.op == "negative":
        return [ctx.linear(x, -1.0, 0.0, node.name, out=out)]
    if node.op == "square":
        return [ctx.layer("add_unary", node.name, out, ctx.blob(x), input_name=x, mode="power",
                          alpha=2.0)]
    return [ctx.layer("add_unary", node.name, out, ctx.blob(x), input_name=x,
                      mode=_UNARY[node.op], epsilon=1e-30)]
