"""Neural-network layers: convolution, pooling, normalisation, fully connected, dropout."""
from __future__ import annotations

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import axes_input_or_attr, spatial


def _check_layout(node: MxNode, rank: int) -> None:
    layout = node.str("layout", "None")
    if layout not in ("None", "NCW", "NCHW", "NCDHW"):
        raise node.fail(f"layout {layout} is not supported; only channels-first layouts "
                        f"map to ONNX (rank {rank})")


def _conv_common(node: MxNode, default_no_bias: bool) -> tuple[int, list[str], list[int], dict]:
    """What Convolution and Deconvolution share: rank, inputs, symmetric pads, and the
    kernel/stride/dilation/group attributes."""
    kernel = node.tuple("kernel")
    rank = len(kernel)
    _check_layout(node, rank)
    inputs = node.inputs[:2] if node.bool("no_bias", default_no_bias) else node.inputs[:3]
    pads = spatial(node.tuple("pad", ()), rank, 0)
    attrs = dict(kernel_shape=list(kernel), strides=spatial(node.tuple("stride", ()), rank, 1),
                 dilations=spatial(node.tuple("dilate", ()), rank, 1),
                 group=node.int("num_group", 1))
    return rank, inputs, pads, attrs


@register("Convolution")
def convolution(node: MxNode, ctx: ExportContext) -> list[str]:
    _, inputs, pads, attrs = _conv_common(node, default_no_bias=False)
    return ctx.emit("Conv", inputs, node.outputs, name=node.name, pads=pads + pads, **attrs)


@register("Deconvolution")
def deconvolution(node: MxNode, ctx: ExportContext) -> list[str]:
    rank, inputs, pads, attrs = _conv_common(node, default_no_bias=True)
    adj = spatial(node.tuple("adj", ()), rank, 0)
    target = [int(v) for v in node.tuple("target_shape", ())]
    if target and any(target):
        # MXNet derives the padding from target_shape; the inferred output shape says it all.
        attrs["output_shape"] = list(ctx.shape(node.outputs[0])[2:])
    else:
        attrs["pads"] = pads + pads
        if any(adj):
            attrs["output_padding"] = adj
    return ctx.emit("ConvTranspose", inputs, node.outputs, name=node.name, **attrs)


@register("BatchNorm")
def batch_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    data, gamma, beta, mean, var = node.inputs[:5]
    axis = node.int("axis", 1)
    rank = len(ctx.shape(data))
    if axis not in (1, 1 - rank):
        raise node.fail(f"BatchNorm over axis {axis} is not supported (ONNX normalises axis 1)")
    if node.bool("fix_gamma", True):
        # MXNet ignores gamma and uses 1 when fix_gamma is set.
        channels = ctx.shape(gamma)[0]
        gamma = ctx.add_const(np.ones(channels, dtype=ctx.dtype(gamma)), f"{node.name}_ones")
    outs = ctx.emit("BatchNormalization", [data, gamma, beta, mean, var], [node.outputs[0]],
                    name=node.name, epsilon=node.float("eps", 1e-3),
                    momentum=node.float("momentum", 0.9))
    # Inference-mode BatchNorm exposes the saved mean and variance as its extra outputs.
    return outs + [mean, var][: len(node.outputs) - 1]


def _pool_pads(node: MxNode, pads: list[int]) -> tuple[list[int], int]:
    """Padding and ceil_mode that reproduce MXNet's pooling_convention."""
    convention = node.str("pooling_convention", "valid")
    if convention not in ("valid", "full"):
        raise node.fail(f"pooling_convention {convention} is not supported")
    return pads + pads, int(convention == "full")


@register("Pooling")
def pooling(node: MxNode, ctx: ExportContext) -> list[str]:
    pool_type = node.str("pool_type", "max")
    rank = len(ctx.shape(node.inputs[0])) - 2
    _check_layout(node, rank)
    out = node.outputs[:1]
    if node.bool("global_pool", False):
        if pool_type == "lp":
            # onnxruntime has no GlobalLpPool kernel from opset 22: an LpPool over the whole
            # (static) spatial extent computes the same.
            window = list(ctx.shape(node.inputs[0])[2:])
            return ctx.emit("LpPool", node.inputs[:1], out, name=node.name, kernel_shape=window,
                            p=node.int("p_value", 2))
        ops = {"max": "GlobalMaxPool", "avg": "GlobalAveragePool"}
        if pool_type not in ops:
            raise node.fail(f"global {pool_type} pooling is not supported")
        return ctx.emit(ops[pool_type], node.inputs[:1], out, name=node.name)
    kernel = spatial(node.tuple("kernel"), rank, 1)
    strides = spatial(node.tuple("stride", ()), rank, 1)
    pads, ceil_mode = _pool_pads(node, spatial(node.tuple("pad", ()), rank, 0))
    attrs = dict(kernel_shape=kernel, strides=strides, pads=pads)
    if pool_type == "max":
        return ctx.emit("MaxPool", node.inputs[:1], out, name=node.name, ceil_mode=ceil_mode,
                        **attrs)
    if pool_type == "avg":
        return ctx.emit("AveragePool", node.inputs[:1], out, name=node.name, ceil_mode=ceil_mode,
                        count_include_pad=int(node.bool("count_include_pad", True)), **attrs)
    if pool_type == "lp":
        if ceil_mode:
            raise node.fail("lp pooling with pooling_convention=full has no ONNX equivalent")
        return ctx.emit("LpPool", node.inputs[:1], out, name=node.name,
                        p=node.int("p_value", 2), **attrs)
    if pool_type == "sum":
        # sum pooling = average pooling (counting padding) times the window size
        avg = ctx.emit1("AveragePool", node.inputs[:1], name=f"{node.name}_avg",
                        ceil_mode=ceil_mode, count_include_pad=1, **attrs)
        window = ctx.add_const(np.array(np.prod(kernel), dtype=ctx.dtype(node.inputs[0])),
                               f"{node.name}_window")
        return ctx.emit("Mul", [avg, window], out, name=node.name)
    raise node.fail(f"pool_type {pool_type} is not supported")


@register("FullyConnected")
def fully_connected(node: MxNode, ctx: ExportContext) -> list[str]:
    data, weight = node.inputs[:2]
    bias = None if node.bool("no_bias", False) else node.inputs[2]
    if node.bool("flatten", True):
        if len(ctx.shape(data)) != 2:
            data = ctx.emit1("Flatten", [data], name=f"{node.name}_flatten", axis=1)
        inputs = [data, weight] + ([bias] if bias else [])
        return ctx.emit("Gemm", inputs, node.outputs, name=node.name, transB=1)
    weight_t = ctx.emit1("Transpose", [weight], name=f"{node.name}_weight_t", perm=[1, 0])
    if bias is None:
        return ctx.emit("MatMul", [data, weight_t], node.outputs, name=node.name)
    matmul = ctx.emit1("MatMul", [data, weight_t], name=f"{node.name}_matmul")
    return ctx.emit("Add", [matmul, bias], node.outputs, name=node.name)


@register("Dropout")
def dropout(node: MxNode, ctx: ExportContext) -> list[str]:
    # Exported models are for inference, where MXNet's Dropout is the identity (unless mode=always).
    if node.str("mode", "training") == "always":
        raise node.fail("Dropout with mode='always' is random at inference; ONNX has no match")
    return [node.inputs[0]] + [node.inputs[0]] * (len(node.outputs) - 1)


@register("LRN")
def lrn(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("LRN", node.inputs[:1], node.outputs[:1], name=node.name,
                    alpha=node.float("alpha", 1e-4), beta=node.float("beta", 0.75),
                    bias=node.float("knorm", 2.0), size=node.int("nsize"))


@register("InstanceNorm")
def instance_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("InstanceNormalization", node.inputs[:3], node.outputs[:1], name=node.name,
                    epsilon=node.float("eps", 1e-3))


@register("LayerNorm", opset=(17, None))
def layer_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    if node.bool("output_mean_var", False):
        raise node.fail("LayerNorm with output_mean_var is not supported")
    return ctx.emit("LayerNormalization", node.inputs[:3], node.outputs[:1], name=node.name,
                    axis=node.int("axis", -1), epsilon=node.float("eps", 1e-5))


@register("L2Normalization")
def l2_normalization(node: MxNode, ctx: ExportContext) -> list[str]:
    """x / sqrt(sum(x^2) + eps) over all but the batch axis (instance), the channel axis
    (channel) or the spatial axes (spatial)."""
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    mode = node.str("mode", "instance")
    axes = {"instance": list(range(1, rank)), "channel": [1],
            "spatial": list(range(2, rank))}.get(mode)
    if axes is None:
        raise node.fail(f"L2Normalization mode {mode!r} is not supported")
    extra, attrs = axes_input_or_attr(ctx, node, axes, 18)
    squares = ctx.emit1("ReduceSumSquare", [data, *extra], name=f"{node.name}_sumsq",
                        keepdims=1, **attrs)
    eps = ctx.add_const(np.array(node.float("eps", 1e-10), dtype=ctx.dtype(data)),
                        f"{node.name}_eps")
    norm = ctx.emit1("Sqrt", [ctx.emit1("Add", [squares, eps], name=f"{node.name}_add_eps")],
                     name=f"{node.name}_norm")
    return ctx.emit("Div", [data, norm], node.outputs[:1], name=node.name)
