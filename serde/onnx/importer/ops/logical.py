"""Comparisons and boolean logic: outputs are bool tensors, as ONNX declares."""
from __future__ import annotations

from ..registry import converter
from ._helpers import cast, npm


def _compare(fn):
    def conv(node, ctx):
        a, b = ctx.input(node, 0), ctx.input(node, 1)
        ta, tb = ctx.in_dtype(node, 0), ctx.in_dtype(node, 1)
        if ta != tb:
            b = cast(b, ta)
        return fn(a, b)
    return conv


converter("Equal", 7, 11, 13, 19)(_compare(npm.equal))
converter("Greater", 7, 9, 13)(_compare(npm.greater))
converter("Less", 7, 9, 13)(_compare(npm.less))
converter("GreaterOrEqual", 12, 16)(_compare(npm.greater_equal))
converter("LessOrEqual", 12, 16)(_compare(npm.less_equal))


def _logical(fn):
    # MXNet's broadcasting kernels refuse bool: compute on uint8 0/1
    def conv(node, ctx):
        a, b = (cast(ctx.input(node, i), "uint8") for i in range(2))
        return fn(a, b).astype("bool")
    return conv


converter("And", 7)(_logical(npm.multiply))
converter("Or", 7)(_logical(npm.maximum))
converter("Xor", 7)(_logical(npm.not_equal))


@converter("Not", 1)
def logical_not(node, ctx):
    return npm.logical_not(ctx.input(node, 0))
