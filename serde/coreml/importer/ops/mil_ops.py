"""ML Program (MIL) ops -> MXNet ops. Tensors keep MIL's exact shapes (no batch mapping)."""
from __future__ import annotations

import math
from typing import Any

import mxnet as mx
import numpy as np

from ..mil import MilContext
from ..registry import mil_converter

_LOWEST = float(np.finfo(np.float32).min)


@mil_converter("const")
def const(op: Any, ctx: MilContext) -> list[Any]:
    return [np.asarray(op.outputs[0].val)]


def _pads(op: Any, ctx: MilContext, spatial: int, kernel: tuple, strides: tuple,
          dilations: tuple, in_shape: tuple) -> list[int]:
    """[begin_0, end_0, begin_1, end_1, ...] for MIL's pad_type."""
    pad_type = ctx.const(op, "pad_type", "valid")
    if pad_type == "custom":
        return [int(v) for v in ctx.const(op, "pad")]
    if pad_type == "valid":
        return [0] * (2 * spatial)
    pads = []
    for n, k, s, d in zip(in_shape[-spatial:], kernel, strides, dilations, strict=True):
        total = max(0, (math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n)
        small, large = total // 2, total - total // 2
        pads += [large, small] if pad_type == "same_lower" else [small, large]
    return pads


def _explicit_pad(x: mx.sym.Symbol, pads: list[int], value: float = 0.0) -> mx.sym.Symbol:
    if len(pads) != 4:
        raise ValueError("asymmetric padding of 1-D or 3-D windows is not imported")
    return mx.sym.pad(x, mode="constant", constant_value=value,
                      pad_width=(0, 0, 0, 0, *pads))


def _symmetric(pads: list[int]) -> tuple[int, ...] | None:
    begins, ends = pads[0::2], pads[1::2]
    return tuple(begins) if begins == ends else None


@mil_converter("conv", "conv_transpose")
def conv(op: Any, ctx: MilContext) -> list[Any]:
    x = ctx.sym(op, "x")
    weight = np.asarray(ctx.value(op.inputs["weight"]), np.float32)
    spatial = weight.ndim - 2
    kernel = tuple(weight.shape[2:])
    strides = tuple(int(v) for v in ctx.const(op, "strides", [1] * spatial))
    dilations = tuple(int(v) for v in ctx.const(op, "dilations", [1] * spatial))
    groups = int(ctx.const(op, "groups", 1))
    in_shape = tuple(op.inputs["x"].shape)
    pads = _pads(op, ctx, spatial, kernel, strides, dilations, in_shape)
    w = ctx.sym(op, "weight")
    bias = ctx.sym(op, "bias") if "bias" in op.inputs else None
    args = [x, w] + ([bias] if bias is not None else [])
    if op.op_type == "conv":
        common = {"kernel": kernel, "stride": strides, "dilate": dilations, "num_group": groups,
                  "num_filter": weight.shape[0], "no_bias": bias is None}
        symmetric = _symmetric(pads)
        if symmetric is not None:
            return [mx.sym.Convolution(*args, pad=symmetric, **common)]
        args[0] = _explicit_pad(x, pads)
        return [mx.sym.Convolution(*args, pad=(0,) * spatial, **common)]
    # conv_transpose: the full output, then MIL's padding cropped off its edges
    out_channels = weight.shape[1] * groups
    full = mx.sym.Deconvolution(*args, kernel=kernel, stride=strides, dilate=dilations,
                                num_group=groups, num_filter=out_channels, no_bias=bias is None,
                                pad=(0,) * spatial)
    out_shape = tuple(op.outputs[0].shape)
    begin = [None, None] + [pads[2 * k] for k in range(spatial)]
    end = [None, None] + [pads[2 * k] + out_shape[2 + k] for k in range(spatial)]
    return [mx.sym.slice(full, begin=tuple(begin), end=tuple(end))]


@mil_converter("linear")
def linear(op: Any, ctx: MilContext) -> list[Any]:
    weight = np.asarray(ctx.value(op.inputs["weight"]))
    args = [ctx.sym(op, "x"), ctx.sym(op, "weight")]
    has_bias = "bias" in op.inputs
    if has_bias:
        args.append(ctx.sym(op, "bias"))
    return [mx.sym.FullyConnected(*args, num_hidden=weight.shape[0], no_bias=not has_bias,
                                  flatten=False)]


@mil_converter("matmul")
def matmul(op: Any, ctx: MilContext) -> list[Any]:
    x, y = ctx.sym(op, "x"), ctx.sym(op, "y")
    tx, ty = bool(ctx.const(op, "transpose_x", False)), bool(ctx.const(op, "transpose_y", False))
    sx, sy = tuple(op.inputs["x"].shape), tuple(op.inputs["y"].shape)
    rx, ry = len(sx), len(sy)
    if rx == ry == 2:
        return [mx.sym.dot(x, y, transpose_a=tx, transpose_b=ty)]
    if rx == ry and sx[:-2] == sy[:-2]:  # batched: the leading axes merged for batch_dot
        out_shape = tuple(int(d) for d in op.outputs[0].shape)
        x3 = mx.sym.reshape(x, (-1, *sx[-2:]))
        y3 = mx.sym.reshape(y, (-1, *sy[-2:]))
        product = mx.sym.batch_dot(x3, y3, transpose_a=tx, transpose_b=ty)
        return [mx.sym.reshape(product, out_shape)]
    if ry == 2:  # (..., K) @ (K, N)
        y = mx.sym.transpose(y) if not ty else y
        return [mx.sym.FullyConnected(x if not tx else mx.sym.swapaxes(x, -1, -2), y,
                                      num_hidden=op.outputs[0].shape[-1], no_bias=True,
                                      flatten=False)]
    raise ctx.fail(op, f"matmul of rank {rx} by rank {ry} is not imported")


_UNARY = {"relu": mx.sym.relu, "sigmoid": mx.sym.sigmoid, "tanh": mx.sym.tanh,
          "exp": mx.sym.exp, "sqrt": mx.sym.sqrt, "rsqrt": mx.sym.rsqrt, "abs": mx.sym.abs,
          "erf": mx.sym.erf, "square": mx.sym.square, "log": mx.sym.log}


@mil_converter(*_UNARY)
def unary(op: Any, ctx: MilContext) -> list[Any]:
    return [_UNARY[op.op_type](ctx.sym(op, "x"))]


@mil_converter("clip")
def clip(op: Any, ctx: MilContext) -> list[Any]:
    return [mx.sym.clip(ctx.sym(op, "x"), a_min=float(ctx.const(op, "alpha")),
                        a_max=float(ctx.const(op, "beta")))]


@mil_converter("gelu")
def gelu(op: Any, ctx: MilContext) -> list[Any]:
    x = ctx.sym(op, "x")
    mode = ctx.const(op, "mode", "EXACT")
    if mode == "EXACT":
        return [mx.sym.LeakyReLU(x, act_type="gelu")]
    if mode == "TANH_APPROXIMATION":
        return [0.5 * x * (1 + mx.sym.tanh((x + 0.044715 * x ** 3) * 0.7978845608028654))]
    return [x * mx.sym.sigmoid(1.702 * x)]


@mil_converter("softmax")
def softmax(op: Any, ctx: MilContext) -> list[Any]:
    return [mx.sym.softmax(ctx.sym(op, "x"), axis=int(ctx.const(op, "axis", -1)))]


_BINARY = {"add": mx.sym.broadcast_add, "sub": mx.sym.broadcast_sub,
           "mul": mx.sym.broadcast_mul, "real_div": mx.sym.broadcast_div,
           "maximum": mx.sym.broadcast_maximum, "minimum": mx.sym.broadcast_minimum}


@mil_converter(*_BINARY)
def binary(op: Any, ctx: MilContext) -> list[Any]:
    return [_BINARY[op.op_type](ctx.sym(op, "x"), ctx.sym(op, "y"))]


@mil_converter("reshape")
def reshape(op: Any, ctx: MilContext) -> list[Any]:
    shape = tuple(int(d) for d in op.outputs[0].shape)
    return [mx.sym.reshape(ctx.sym(op, "x"), shape)]


@mil_converter("expand_dims", "squeeze")
def reshape_to_output(op: Any, ctx: MilContext) -> list[Any]:
    return reshape(op, ctx)


@mil_converter("transpose")
def transpose(op: Any, ctx: MilContext) -> list[Any]:
    rank = len(op.inputs["x"].shape)
    perm = tuple(int(a) % rank for a in ctx.const(op, "perm"))  # MIL allows negative axes
    return [mx.sym.transpose(ctx.sym(op, "x"), axes=perm)]


@mil_converter("concat")
def concat(op: Any, ctx: MilContext) -> list[Any]:
    values = op.inputs["values"]
    syms = []
    for k, var in enumerate(values):
        value = ctx.value(var)
        if not isinstance(value, mx.sym.Symbol):
            name = f"{op.name}_value{k}"
            ctx.params[name] = np.asarray(value, np.float32)
            value = mx.sym.var(name, shape=ctx.params[name].shape)
        syms.append(value)
    return [mx.sym.concat(*syms, dim=int(ctx.const(op, "axis")))]


@mil_converter("slice_by_index")
def slice_by_index(op: Any, ctx: MilContext) -> list[Any]:
    shape = tuple(op.inputs["x"].shape)
    rank = len(shape)
    begin = [int(v) for v in ctx.const(op, "begin")]
    end = [int(v) for v in ctx.const(op, "end")]
    stride = [int(v) for v in ctx.const(op, "stride", [1] * rank)]
    begin_mask = list(ctx.const(op, "begin_mask", [False] * rank))
    end_mask = list(ctx.const(op, "end_mask", [False] * rank))
    squeeze = list(ctx.const(op, "squeeze_mask", [False] * rank))
    b = tuple(None if begin_mask[k] else begin[k] for k in range(rank))
    e = tuple(None if end_mask[k] else end[k] for k in range(rank))
    out = mx.sym.slice(ctx.sym(op, "x"), begin=b, end=e, step=tuple(stride))
    if any(squeeze):
        out = mx.sym.reshape(out, tuple(int(d) for d in op.outputs[0].shape))
    return [out]


@mil_converter("layer_norm")
def layer_norm(op: Any, ctx: MilContext) -> list[Any]:
    x = ctx.sym(op, "x")
    rank = len(op.inputs["x"].shape)
    axes = tuple(int(a) % rank for a in ctx.const(op, "axes"))
    eps = float(ctx.const(op, "epsilon", 1e-5))
    centred = mx.sym.broadcast_sub(x, mx.sym.mean(x, axis=axes, keepdims=True))
    var = mx.sym.mean(centred * centred, axis=axes, keepdims=True)
    out = mx.sym.broadcast_div(centred, mx.sym.sqrt(var + eps))
    if "gamma" in op.inputs:
        out = mx.sym.broadcast_mul(out, ctx.sym(op, "gamma"))
    if "beta" in op.inputs:
        out = mx.sym.broadcast_add(out, ctx.sym(op, "beta"))
    return [out]


@mil_converter("reduce_mean", "reduce_sum", "reduce_max", "reduce_min")
def reduce_(op: Any, ctx: MilContext) -> list[Any]:
    fn = {"reduce_mean": mx.sym.mean, "reduce_sum": mx.sym.sum, "reduce_max": mx.sym.max,
          "reduce_min": mx.sym.min}[op.op_type]
    axes = ctx.const(op, "axes")
    keep = bool(ctx.const(op, "keep_dims", False))
    axis = None if axes is None else tuple(int(a) for a in np.atleast_1d(axes))
    return [fn(ctx.sym(op, "x"), axis=axis, keepdims=keep)]


@mil_converter("max_pool", "avg_pool")
def pool(op: Any, ctx: MilContext) -> list[Any]:
    kernel = tuple(int(v) for v in ctx.const(op, "kernel_sizes"))
    spatial = len(kernel)
    strides = tuple(int(v) for v in ctx.const(op, "strides", [1] * spatial))
    in_shape = tuple(op.inputs["x"].shape)
    pads = _pads(op, ctx, spatial, kernel, strides, (1,) * spatial, in_shape)
    kind = "max" if op.op_type == "max_pool" else "avg"
    exclude = bool(ctx.const(op, "exclude_padding_from_average", False))
    convention = "full" if ctx.const(op, "ceil_mode", False) else "valid"
    x = ctx.sym(op, "x")
    symmetric = _symmetric(pads)
    if symmetric is None:
        x = _explicit_pad(x, pads, _LOWEST if kind == "max" else 0.0)
        symmetric = (0,) * spatial
    return [mx.sym.Pooling(x, kernel=kernel, stride=strides, pad=symmetric, pool_type=kind,
                           pooling_convention=convention, count_include_pad=not exclude)]


@mil_converter("pad")
def pad(op: Any, ctx: MilContext) -> list[Any]:
    widths = [int(v) for v in ctx.const(op, "pad")]
    rank = len(op.inputs["x"].shape)
    full = [0] * (2 * rank - len(widths)) + widths
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[
        ctx.const(op, "mode", "constant")]
    x = ctx.sym(op, "x")
    if rank < 4:
        raise ctx.fail(op, "MXNet pads rank 4 and 5 tensors only")
    return [mx.sym.pad(x, mode=mode, constant_value=float(ctx.const(op, "constant_val", 0.0)),
                       pad_width=tuple(full))]


@mil_converter("crop")
def crop(op: Any, ctx: MilContext) -> list[Any]:
    top, bottom = (int(v) for v in ctx.const(op, "crop_height"))
    left, right = (int(v) for v in ctx.const(op, "crop_width"))
    _, _, h, w = op.inputs["x"].shape
    return [mx.sym.slice(ctx.sym(op, "x"), begin=(None, None, top, left),
                         end=(None, None, h - bottom, w - right))]


@mil_converter("upsample_nearest_neighbor")
def upsample_nearest(op: Any, ctx: MilContext) -> list[Any]:
    fh = ctx.const(op, "scale_factor_height", 1)
    fw = ctx.const(op, "scale_factor_width", 1)
    if int(fh) != fh or int(fw) != fw:
        raise ctx.fail(op, "fractional nearest upsampling is not imported")
    x = ctx.sym(op, "x")
    return [mx.sym.repeat(mx.sym.repeat(x, int(fh), axis=2), int(fw), axis=3)]


@mil_converter("upsample_bilinear")
def upsample_bilinear(op: Any, ctx: MilContext) -> list[Any]:
    _, _, h, w = (int(d) for d in op.outputs[0].shape)
    align = bool(ctx.const(op, "align_corners", False))
    return [mx.sym.contrib.BilinearResize2D(ctx.sym(op, "x"), height=h, width=w,
                                            align_corners=align)]


#: MIL stacks LSTM gates as [input, forget, output, cell]; MXNet's RNN as [i, f, cell, o].
_MIL_TO_MXNET_GATES = (0, 1, 3, 2)


def _gates(weight: np.ndarray) -> np.ndarray:
    chunks = np.split(np.asarray(weight, np.float32), 4, axis=0)
    return np.concatenate([chunks[k] for k in _MIL_TO_MXNET_GATES], axis=0)


@mil_converter("lstm")
def lstm(op: Any, ctx: MilContext) -> list[Any]:
    """MIL's LSTM as MXNet's fused RNN op (layout TNC, one layer, one or two directions)."""
    activations = (ctx.const(op, "recurrent_activation", "sigmoid"),
                   ctx.const(op, "cell_activation", "tanh"), ctx.const(op, "activation", "tanh"))
    if activations != ("sigmoid", "tanh", "tanh") or "peephole" in op.inputs or \
            ctx.const(op, "clip", None) is not None:
        raise ctx.fail(op, "LSTMs with other activations, peepholes or clipping are not "
                           "imported")
    direction = ctx.const(op, "direction", "forward")
    if direction == "reverse":
        raise ctx.fail(op, "reverse-only LSTMs are not imported yet")
    directions = 2 if direction == "bidirectional" else 1
    hidden = int(op.inputs["weight_hh"].shape[1])
    batch = int(op.inputs["x"].shape[1])
    suffixes = ["", "_back"][:directions]
    weights, biases = [], []
    for suffix in suffixes:
        weights += [_gates(ctx.value(op.inputs[f"weight_ih{suffix}"])).ravel(),
                    _gates(ctx.value(op.inputs[f"weight_hh{suffix}"])).ravel()]
        bias = op.inputs.get(f"bias{suffix}")
        b = _gates(ctx.value(bias)) if bias is not None else np.zeros(4 * hidden, np.float32)
        biases += [b, np.zeros_like(b)]  # MIL's one bias is the sum of MXNet's two
    name = f"{op.name}_parameters"
    ctx.params[name] = np.concatenate(weights + biases).astype(np.float32)
    params = mx.sym.var(name, shape=ctx.params[name].shape)

    def state(key: str) -> mx.sym.Symbol:  # MIL (B, D*H) -> MXNet (D, B, H)
        value = ctx.sym(op, key) if key in op.inputs else mx.sym.zeros((batch, directions * hidden))
        return mx.sym.transpose(mx.sym.reshape(value, (batch, directions, hidden)), (1, 0, 2))

    out = mx.sym.RNN(ctx.sym(op, "x"), params, state("initial_h"), state("initial_c"),
                     state_size=hidden, num_layers=1, mode="lstm",
                     bidirectional=directions == 2, state_outputs=True)
    y = out[0]
    if not ctx.const(op, "output_sequence", False):
        y = mx.sym.slice_axis(y, axis=0, begin=-1, end=None)

    def final(k: int) -> mx.sym.Symbol:  # MXNet (D, B, H) -> MIL (B, D*H)
        return mx.sym.reshape(mx.sym.transpose(out[k], (1, 0, 2)), (batch, directions * hidden))

    return [y, final(1), final(2)]
