"""Activations, softmax family and clipping."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import scalar_const

_ACTIVATION_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh",
                   "softrelu": "Softplus", "softsign": "Softsign"}


@register("Activation")
def activation(node: MxNode, ctx: ExportContext) -> list[str]:
    act = node.str("act_type")
    if act in _ACTIVATION_OPS:
        return ctx.emit(_ACTIVATION_OPS[act], node.inputs[:1], node.outputs, name=node.name)
    raise node.fail(f"act_type {act} is not supported")


@register("relu", "sigmoid", "tanh", "softsign")
def unary_activation(node: MxNode, ctx: ExportContext) -> list[str]:
    op = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softsign": "Softsign"}[node.op]
    return ctx.emit(op, node.inputs[:1], node.outputs, name=node.name)


@register("LeakyReLU")
def leaky_relu(node: MxNode, ctx: ExportContext) -> list[str]:
    act = node.str("act_type", "leaky")
    slope = node.float("slope", 0.25)
    if act == "leaky":
        return ctx.emit("LeakyRelu", node.inputs[:1], node.outputs, name=node.name, alpha=slope)
    if act == "elu":
        return ctx.emit("Elu", node.inputs[:1], node.outputs, name=node.name, alpha=slope)
    if act == "selu":
        return ctx.emit("Selu", node.inputs[:1], node.outputs, name=node.name)
    if act == "gelu":
        return ctx.emit("Gelu", node.inputs[:1], node.outputs, name=node.name) \
            if ctx.opset >= 20 else _gelu_erf(node, ctx)
    if act == "rrelu":  # at inference the slope is the middle of [lower_bound, upper_bound]
        slope = (node.float("lower_bound", 0.125) + node.float("upper_bound", 0.334)) / 2
        out = ctx.emit("LeakyRelu", node.inputs[:1], node.outputs[:1], name=node.name,
                       alpha=slope)
        if len(node.outputs) > 1:  # MXNet's mask output: the slope applied, per element
            mask = ctx.emit1("Expand", [scalar_const(ctx, node, slope, node.inputs[0], "slope"),
                                        ctx.emit1("Shape", node.inputs[:1],
                                                  name=f"{node.name}_shape", dtype=np.int64)],
                             node.outputs[1], name=f"{node.name}_mask")
            out.append(mask)
        return out
    if act == "prelu":
        data, gamma = node.inputs[:2]
        rank = len(ctx.shape(data))
        if rank > 2 and len(ctx.shape(gamma)) == 1 and ctx.shape(gamma)[0] > 1:
            # MXNet's gamma is per channel (axis 1); ONNX broadcasts from the right.
            gamma = ctx.emit1("Reshape", [gamma, ctx.add_int64([-1] + [1] * (rank - 2),
                                                              f"{node.name}_gshape")],
                              name=f"{node.name}_gamma")
        return ctx.emit("PRelu", [data, gamma], node.outputs, name=node.name)
    raise node.fail(f"LeakyReLU act_type {act} is not supported")


def _gelu_erf(node: MxNode, ctx: ExportContext) -> list[str]:
    x = node.inputs[0]
    scaled = ctx.emit1("Mul", [x, scalar_const(ctx, node, 1 / np.sqrt(2), x, "rsqrt2")],
                       name=f"{node.name}_scaled")
    erf = ctx.emit1("Erf", [scaled], name=f"{node.name}_erf")
    plus = ctx.emit1("Add", [erf, scalar_const(ctx, node, 1.0, x, "one")], name=f"{node.name}_p1")
    half = ctx.emit1("Mul", [x, scalar_const(ctx, node, 0.5, x, "half")], name=f"{node.name}_h")
    return ctx.emit("Mul", [half, plus], node.outputs, name=node.name)


def length_mask(node: MxNode, ctx: ExportContext, data: str, length: str, axis: int) -> str:
    """A bool mask of ``data``'s shape: position along ``axis`` < ``length`` (which has the
    shape of ``data`` without ``axis``), computed from the runtime shape."""
    rank = len(ctx.shape(data))
    axis %= rank
    shape = ctx.emit1("Shape", [data], name=f"{node.name}_shape", dtype=np.int64)
    dim = ctx.emit1("Gather", [shape, ctx.add_int64(axis, f"{node.name}_axis")],
                    name=f"{node.name}_dim", axis=0, dtype=np.int64)
    positions = ctx.emit1("Range", [ctx.add_int64(0, f"{node.name}_zero"), dim,
                                    ctx.add_int64(1, f"{node.name}_one")],
                          name=f"{node.name}_positions", dtype=np.int64)
    positions = ctx.emit1("Reshape", [positions, ctx.add_int64(
        [-1] + [1] * (rank - 1 - axis), f"{node.name}_pos_shape")],
        name=f"{node.name}_positions_b", dtype=np.int64)
    lengths = ctx.emit1("Cast", [length], name=f"{node.name}_length64", to=TensorProto.INT64,
                        dtype=np.int64)
    lengths = ctx.emit1("Unsqueeze", [lengths, ctx.add_int64([axis], f"{node.name}_unsq")],
                        name=f"{node.name}_length_b", dtype=np.int64)
    return ctx.emit1("Less", [positions, lengths], name=f"{node.name}_mask", dtype=np.bool_)


def _softmax_like(node: MxNode, ctx: ExportContext, op_type: str) -> list[str]:
    data = node.inputs[0]
    axis = node.int("axis", -1)
    mask = None
    if len(node.inputs) > 1 and node.bool("use_length", False):
        # Positions past each row's length are left out of the softmax and give 0.
        mask = length_mask(node, ctx, data, node.inputs[1], axis)
    temperature = node.optional("temperature")
    if temperature not in (None, 1, 1.0):
        data = ctx.emit1("Div", [data, scalar_const(ctx, node, temperature, data, "temp")],
                         name=f"{node.name}_temperature")
    if mask is not None:
        dtype_in = ctx.dtype(data)
        lowest = scalar_const(ctx, node, np.finfo(dtype_in).min, data, "lowest")
        data = ctx.emit1("Where", [mask, data, lowest], name=f"{node.name}_masked",
                         dtype=dtype_in)
    dtype = node.optional("dtype")
    last = dtype is None and mask is None
    out = ctx.emit(op_type, [data], node.outputs if last else 1, name=node.name, axis=axis)
    if mask is not None:
        zero = scalar_const(ctx, node, 0.0, data, "zero")
        out = ctx.emit("Where", [mask, out[0], zero], node.outputs if dtype is None else 1,
                       name=f"{node.name}_mask_out", dtype=ctx.dtype(data))
    if dtype is not None:
        out = ctx.emit("Cast", out, node.outputs, name=f"{node.name}_cast",
                       to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
    return out


@register("softmax")
def softmax(node: MxNode, ctx: ExportContext) -> list[str]:
    return _softmax_like(node, ctx, "Softmax")


@register("log_softmax")
def log_softmax(node: MxNode, ctx: ExportContext) -> list[str]:
    return _softmax_like(node, ctx, "LogSoftmax")


@register("SoftmaxActivation")
def softmax_activation(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    if node.str("mode", "instance") == "channel":
        return ctx.emit("Softmax", [data], node.outputs, name=node.name, axis=1)
    if len(ctx.shape(data)) == 2:
        return ctx.emit("Softmax", [data], node.outputs, name=node.name, axis=1)
    flat = ctx.emit1("Flatten", [data], name=f"{node.name}_flatten", axis=1)
    soft = ctx.emit1("Softmax", [flat], name=f"{node.name}_softmax", axis=1)
    return ctx.emit("Reshape", [soft, ctx.add_int64(ctx.shape(data), f"{node.name}_shape")],
                    node.outputs, name=node.name)


@register("SoftmaxOutput")
def softmax_output(node: MxNode, ctx: ExportContext) -> list[str]:
    # At inference SoftmaxOutput is a softmax (the label input is for training only): over
    # axis 1 with multi_output, else over the last axis.
    axis = 1 if node.bool("multi_output", False) else -1
    return ctx.emit("Softmax", node.inputs[:1], node.outputs, name=node.name, axis=axis)


@register("LogisticRegressionOutput")
def logistic_regression_output(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("Sigmoid", node.inputs[:1], node.outputs, name=node.name)


@register("LinearRegressionOutput", "MAERegressionOutput", "SVMOutput")
def linear_regression_output(node: MxNode, ctx: ExportContext) -> list[str]:
    return [node.inputs[0]]


@register("clip")
def clip(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    low = scalar_const(ctx, node, node.float("a_min"), data, "min")
    high = scalar_const(ctx, node, node.float("a_max"), data, "max")
    return ctx.emit("Clip", [data, low, high], node.outputs, name=node.name)


@register("hard_sigmoid")
def hard_sigmoid(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("HardSigmoid", node.inputs[:1], node.outputs, name=node.name,
                    alpha=node.float("alpha", 0.2), beta=node.float("beta", 0.5))


@register("softmin")
def softmin(node: MxNode, ctx: ExportContext) -> list[str]:
    """softmax(-x), with softmax's temperature, dtype and use_length."""
    negated = ctx.emit1("Neg", node.inputs[:1], name=f"{node.name}_neg")
    proxy = MxNode(node.name, node.op, node.attrs, [negated] + node.inputs[1:], node.outputs)
    return _softmax_like(proxy, ctx, "Softmax")


@register("softmax_cross_entropy")
def softmax_cross_entropy(node: MxNode, ctx: ExportContext) -> list[str]:
    """sum over the batch of -log softmax(data)[label], shape (1,)."""
    data, label = node.inputs[:2]
    log_p = ctx.emit1("LogSoftmax", [data], name=f"{node.name}_log_softmax", axis=-1)
    index = ctx.emit1("Cast", [label], name=f"{node.name}_label", to=TensorProto.INT64,
                      dtype=np.int64)
    index = ctx.emit1("Unsqueeze", [index, ctx.add_int64([1], f"{node.name}_axis")],
                      name=f"{node.name}_label_col", dtype=np.int64)
    picked = ctx.emit1("GatherElements", [log_p, index], name=f"{node.name}_picked", axis=1)
    total = ctx.emit1("ReduceSum", [picked], name=f"{node.name}_sum", keepdims=0)
    negated = ctx.emit1("Neg", [total], name=f"{node.name}_neg")
    return ctx.emit("Reshape", [negated, ctx.add_int64([1], f"{node.name}_shape")],
                    node.outputs[:1], name=node.name)
