"""Activations, clipping and the softmax family."""
from __future__ import annotations

import math

import numpy as np

from ..context import CoremlContext, MxNode
from ..registry import register

_ACTIVATIONS = {"relu": "RELU", "sigmoid": "SIGMOID", "tanh": "TANH", "softrelu": "SOFTPLUS",
                "softsign": "SOFTSIGN"}
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _activation(ctx: CoremlContext, node: MxNode, kind: str, out: str | None,
                params: list | None = None, source: str | None = None, suffix: str = "") -> str:
    source = source or node.inputs[0]
    return ctx.layer("add_activation", node.name + suffix, out, ctx.blob(source),
                     non_linearity=kind, input_name=source, params=params)


@register("Activation", "relu", "sigmoid", "tanh", "softsign")
def activation(node: MxNode, ctx: CoremlContext) -> list[str]:
    act = node.str("act_type") if node.op == "Activation" else node.op
    out = node.outputs[0]
    if act in _ACTIVATIONS:
        return [_activation(ctx, node, _ACTIVATIONS[act], out)]
    raise node.fail(f"act_type {act!r} has no Core ML activation")


@register("LeakyReLU")
def leaky_relu(node: MxNode, ctx: CoremlContext) -> list[str]:
    act = node.str("act_type", "leaky")
    out = node.outputs[0]
    if act == "leaky":
        return [_activation(ctx, node, "LEAKYRELU", out, [node.float("slope", 0.25)])]
    if act == "rrelu":  # inference: the mean of the random slope's range; no mask
        slope = (node.float("lower_bound", 0.125) + node.float("upper_bound", 0.334)) / 2
        made = _activation(ctx, node, "LEAKYRELU", out, [slope])
        return [made] * len(node.outputs)
    if act == "elu":
        return [_activation(ctx, node, "ELU", out, node.float("slope", 0.25))]
    if act == "selu":
        elu = _activation(ctx, node, "ELU", None, _SELU_ALPHA, suffix="_elu")
        return [ctx.linear(elu, _SELU_SCALE, 0.0, node.name, out=out)]
    if act == "prelu":
        channels = ctx.blob(node.inputs[0])[0]
        gamma = ctx.weight(node, 1, "gamma").reshape(-1)
        if gamma.size == 1:
            gamma = np.full(channels, gamma[0], dtype=np.float32)
        elif gamma.size != channels:
            raise node.fail(f"a PReLU slope of {gamma.size} values for {channels} channels")
        return [_activation(ctx, node, "PRELU", out, gamma)]
    if act == "gelu":  # no fixed-rank layer computes erf: the GELU layer of specification 4
        ctx.require(4)
        return [ctx.layer("add_gelu", node.name, out, ctx.blob(node.inputs[0]),
                          input_name=node.inputs[0], mode="EXACT")]
    raise node.fail(f"act_type {act!r} has no Core ML activation")


def clip_blob(ctx: CoremlContext, node: MxNode, source: str, low: float | None,
              high: float | None, out: str | None) -> str:
    """min(max(x, low), high) from fixed-rank layers: Core ML's threshold unary is max(x, a);
    the upper bound is -max(-y, -high)."""
    if low is not None:
        source = ctx.layer("add_unary", f"{node.name}_max", None if high is not None else out,
                           ctx.blob(source), input_name=source, mode="threshold", alpha=low)
    if high is not None:
        negated = ctx.layer("add_unary", f"{node.name}_neg_min", None, ctx.blob(source),
                            input_name=source, mode="threshold", alpha=-high, scale=-1.0)
        source = ctx.linear(negated, -1.0, 0.0, f"{node.name}_min", out=out)
    return source


@register("clip")
def clip(node: MxNode, ctx: CoremlContext) -> list[str]:
    low, high = node.float("a_min"), node.float("a_max")
    return [clip_blob(ctx, node, node.inputs[0], None if math.isinf(low) else low,
                      None if math.isinf(high) else high, node.outputs[0])]


@register("hard_sigmoid")
def hard_sigmoid(node: MxNode, ctx: CoremlContext) -> list[str]:
    return [_activation(ctx, node, "SIGMOID_HARD", node.outputs[0],
                        [node.float("alpha", 0.2), node.float("beta", 0.5)])]


def _softmax_axis(node: MxNode, ctx: CoremlContext, default: int) -> None:
    axis = node.int("axis", default)
    if ctx.axis(node, node.inputs[0], axis) != "C":
        raise node.fail(f"softmax over axis {axis}: Core ML's fixed-rank softmax runs over "
                        f"channels (axis 1)")
    if node.float("temperature", 1.0) not in (1.0,) and node.has("temperature"):
        raise node.fail("softmax with a temperature is not converted")
    if node.bool("use_length", False):
        raise node.fail("softmax with use_length is not converted")


@register("softmax", "log_softmax", "SoftmaxActivation", "SoftmaxOutput", "Softmax")
def softmax(node: MxNode, ctx: CoremlContext) -> list[str]:
    if node.op == "SoftmaxActivation":
        if node.str("mode", "instance") == "instance" and len(ctx.shape(node.inputs[0])) > 2:
            raise node.fail("instance-mode SoftmaxActivation over a rank > 2 input normalises "
                            "C*H*W values, which Core ML's softmax does not")
    elif node.op in ("SoftmaxOutput", "Softmax"):
        if node.bool("multi_output", False) is False and len(ctx.shape(node.inputs[0])) > 2 \
                and not node.bool("preserve_shape", False):
            raise node.fail("SoftmaxOutput over a rank > 2 input flattens it first; not "
                            "converted")
    else:
        _softmax_axis(node, ctx, -1)
    out = node.outputs[0]
    if node.op != "log_softmax":
        return [ctx.layer("add_softmax", node.name, out, ctx.blob(node.inputs[0]),
                          input_name=node.inputs[0])]
    probs = ctx.layer("add_softmax", f"{node.name}_softmax", None, ctx.blob(node.inputs[0]),
                      input_name=node.inputs[0])
    return [ctx.layer("add_unary", node.name, out, ctx.blob(probs), input_name=probs,
                      mode="log", epsilon=1e-30)]
