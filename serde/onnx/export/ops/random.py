"""Random sampling: _random_normal, _random_uniform, _random_uniform_like, _sample_multinomial.

Values cannot match MXNet's; the conformance cases compare distributions instead.
onnxruntime has no kernels for the opset-22 versions of RandomNormal, RandomUniform,
RandomUniformLike and Multinomial. From opset 22 the samplers are built on the one random
source it does run there, Dropout in training mode: its keep-mask at ratio 0.5 gives fair
random bits, 24 of them (53 for float64) make a uniform number in [0, 1), and normal and
multinomial draws are computed from uniforms (Box-Muller, inverse CDF).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto, helper

from ..context import ExportContext, MxNode
from ..registry import register

RANDOM_OPSETS = (13, 21)
BITS_OPSETS = (22, None)


def _emit(ctx: ExportContext, node: MxNode, op_type: str, inputs: list[str], output: str | None,
          name: str, onnx_dtype: int, shape: list[int] | None = None, **attrs) -> str:
    """Emit ``op_type`` with ONNX attributes named ``dtype``/``shape``, which ``ctx.emit``
    keeps for its own bookkeeping."""
    out = ctx.emit1(op_type, inputs, output, name=name,
                    dtype=helper.tensor_dtype_to_np_dtype(onnx_dtype), **attrs)
    ctx.nodes[-1].attribute.append(helper.make_attribute("dtype", onnx_dtype))
    if shape is not None:
        ctx.nodes[-1].attribute.append(helper.make_attribute("shape", shape))
    return out


def _out_dtype(ctx: ExportContext, node: MxNode) -> tuple[np.dtype, int]:
    dtype = np.dtype(ctx.dtype(node.outputs[0]))
    return dtype, helper.np_dtype_to_tensor_dtype(dtype)


@register("_random_normal", opset=RANDOM_OPSETS)
def random_normal(node: MxNode, ctx: ExportContext) -> list[str]:
    _, onnx_dtype = _out_dtype(ctx, node)
    return [_emit(ctx, node, "RandomNormal", [], node.outputs[0], node.name, onnx_dtype,
                  list(ctx.shape(node.outputs[0])), mean=node.float("loc", 0.0),
                  scale=node.float("scale", 1.0))]


@register("_random_uniform", opset=RANDOM_OPSETS)
def random_uniform(node: MxNode, ctx: ExportContext) -> list[str]:
    _, onnx_dtype = _out_dtype(ctx, node)
    return [_emit(ctx, node, "RandomUniform", [], node.outputs[0], node.name, onnx_dtype,
                  list(ctx.shape(node.outputs[0])), low=node.float("low", 0.0),
                  high=node.float("high", 1.0))]


@register("_random_uniform_like", opset=RANDOM_OPSETS)
def random_uniform_like(node: MxNode, ctx: ExportContext) -> list[str]:
    _, onnx_dtype = _out_dtype(ctx, node)
    return [_emit(ctx, node, "RandomUniformLike", node.inputs[:1], node.outputs[0], node.name,
                  onnx_dtype, low=node.float("low", 0.0), high=node.float("high", 1.0))]


def _multinomial_dims(node: MxNode, ctx: ExportContext) -> tuple[str, int, int, int, list[int]]:
    """(probabilities, classes, rows, draws per row, output shape) of a multinomial node."""
    data = node.inputs[0]
    in_shape = ctx.shape(data)
    draws = int(np.prod([int(v) for v in node.tuple("shape", ())]))
    return (data, in_shape[-1], int(np.prod(in_shape[:-1])), draws,
            list(ctx.shape(node.outputs[0])))


@register("_sample_multinomial", opset=RANDOM_OPSETS)
def sample_multinomial(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet takes probabilities (..., k) and draws ``shape`` samples per row; ONNX's
    Multinomial takes log-probabilities (batch, k) and draws ``sample_size`` per row."""
    data, classes, rows, draws, out_shape = _multinomial_dims(node, ctx)
    log_p = ctx.emit1("Log", [data], name=f"{node.name}_log")
    log_p = ctx.emit1("Reshape", [log_p, ctx.add_int64([rows, classes], f"{node.name}_rows")],
                      name=f"{node.name}_log_rows")
    samples = _emit(ctx, node, "Multinomial", [log_p], None, f"{node.name}_draw",
                    TensorProto.INT64, sample_size=draws)
    return _multinomial_outputs(ctx, node, samples, lambda: log_p, out_shape)


def _multinomial_outputs(ctx: ExportContext, node: MxNode, samples: str,
                         log_probs: Any, out_shape: list[int]) -> list[str]:
    """(rows, draws) int64 samples -> MXNet's outputs: the samples in its dtype and shape,
    and with get_prob their log-probabilities (``log_probs()`` gives the (rows, k) table)."""
    dtype, onnx_dtype = _out_dtype(ctx, node)
    shaped = ctx.emit1("Reshape", [samples, ctx.add_int64(out_shape, f"{node.name}_shape")],
                       name=f"{node.name}_reshape", dtype=np.int64)
    results = [ctx.emit1("Cast", [shaped], node.outputs[0], name=node.name, to=onnx_dtype,
                         dtype=dtype)]
    if node.bool("get_prob", False):
        picked = ctx.emit1("GatherElements", [log_probs(), samples],
                           name=f"{node.name}_log_prob", axis=1)
        results.append(ctx.emit1("Reshape", [picked, ctx.add_int64(out_shape,
                                                                   f"{node.name}_prob_shape")],
                                 node.outputs[1], name=f"{node.name}_prob"))
    return results


# --- opset 22+: samplers on Dropout's random bits -------------------------------------------
def _uniform01(ctx: ExportContext, node: MxNode, shape: str, dtype: np.dtype) -> str:
    """Uniform samples in [0, 1) of runtime shape ``shape`` (1-D int64), in ``dtype``."""
    work = np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)
    bits = 53 if work == np.float64 else 24
    full = ctx.emit1("Concat", [shape, ctx.add_int64([bits], f"{node.name}_bits")],
                     name=f"{node.name}_bit_shape", axis=0, dtype=np.int64)
    ones = ctx.emit1("ConstantOfShape", [full], name=f"{node.name}_ones",
                     value=helper.make_tensor("value", TensorProto.FLOAT, [1], [1.0]),
                     dtype=np.float32)
    _, keep = ctx.emit("Dropout", [ones, ctx.add_const(np.array(0.5, np.float32),
                                                       f"{node.name}_half"),
                                   ctx.add_const(np.array(True), f"{node.name}_training")],
                       2, name=f"{node.name}_coin")
    ctx.dtypes[keep] = np.dtype(np.bool_)
    coins = ctx.emit1("Cast", [keep], name=f"{node.name}_coins",
                      to=helper.np_dtype_to_tensor_dtype(work), dtype=work)
    weights = ctx.add_const(0.5 ** np.arange(1, bits + 1, dtype=work), f"{node.name}_weights")
    return ctx.emit1("MatMul", [coins, weights], name=f"{node.name}_uniform", dtype=work)


def _finish(ctx: ExportContext, node: MxNode, value: str, output: str) -> str:
    dtype = np.dtype(ctx.dtype(output))
    if ctx.dtype(value) == dtype:
        return ctx.emit1("Identity", [value], output, name=node.name, dtype=dtype)
    return ctx.emit1("Cast", [value], output, name=node.name,
                     to=helper.np_dtype_to_tensor_dtype(dtype), dtype=dtype)


def _affine(ctx: ExportContext, node: MxNode, value: str, scale: float, shift: float) -> str:
    dtype = ctx.dtype(value)
    scaled = ctx.emit1("Mul", [value, ctx.add_const(np.array(scale, dtype), f"{node.name}_k")],
                       name=f"{node.name}_scale")
    return ctx.emit1("Add", [scaled, ctx.add_const(np.array(shift, dtype), f"{node.name}_b")],
                     name=f"{node.name}_shift")


def _static_shape(ctx: ExportContext, node: MxNode) -> str:
    return ctx.add_int64(list(ctx.shape(node.outputs[0])), f"{node.name}_shape")


@register("_random_uniform", opset=BITS_OPSETS)
def random_uniform_bits(node: MxNode, ctx: ExportContext) -> list[str]:
    dtype, _ = _out_dtype(ctx, node)
    low, high = node.float("low", 0.0), node.float("high", 1.0)
    u = _uniform01(ctx, node, _static_shape(ctx, node), dtype)
    return [_finish(ctx, node, _affine(ctx, node, u, high - low, low), node.outputs[0])]


@register("_random_uniform_like", opset=BITS_OPSETS)
def random_uniform_like_bits(node: MxNode, ctx: ExportContext) -> list[str]:
    dtype, _ = _out_dtype(ctx, node)
    low, high = node.float("low", 0.0), node.float("high", 1.0)
    shape = ctx.emit1("Shape", node.inputs[:1], name=f"{node.name}_like", dtype=np.int64)
    u = _uniform01(ctx, node, shape, dtype)
    return [_finish(ctx, node, _affine(ctx, node, u, high - low, low), node.outputs[0])]


@register("_random_normal", opset=BITS_OPSETS)
def random_normal_bits(node: MxNode, ctx: ExportContext) -> list[str]:
    """Box-Muller: sqrt(-2 ln(1 - u1)) cos(2 pi u2) is standard normal."""
    dtype, _ = _out_dtype(ctx, node)
    shape = _static_shape(ctx, node)
    u1 = _uniform01(ctx, node, shape, dtype)
    u2 = _uniform01(ctx, node, shape, dtype)
    work = ctx.dtype(u1)
    one_minus = ctx.emit1("Sub", [ctx.add_const(np.array(1.0, work), f"{node.name}_one"), u1],
                          name=f"{node.name}_open")
    radius = ctx.emit1("Sqrt", [ctx.emit1("Mul", [ctx.emit1("Log", [one_minus],
                                                             name=f"{node.name}_log"),
                                                  ctx.add_const(np.array(-2.0, work),
                                                                f"{node.name}_m2")],
                                          name=f"{node.name}_r2")], name=f"{node.name}_r")
    angle = ctx.emit1("Mul", [u2, ctx.add_const(np.array(2 * np.pi, work), f"{node.name}_2pi")],
                      name=f"{node.name}_angle")
    normal = ctx.emit1("Mul", [radius, ctx.emit1("Cos", [angle], name=f"{node.name}_cos")],
                       name=f"{node.name}_normal")
    value = _affine(ctx, node, normal, node.float("scale", 1.0), node.float("loc", 0.0))
    return [_finish(ctx, node, value, node.outputs[0])]


@register("_sample_multinomial", opset=BITS_OPSETS)
def sample_multinomial_bits(node: MxNode, ctx: ExportContext) -> list[str]:
    """Inverse CDF: the sample is the number of classes whose cumulative probability is
    below a uniform draw (the last class takes the rest)."""
    data, classes, rows, draws, out_shape = _multinomial_dims(node, ctx)
    probs = ctx.emit1("Reshape", [data, ctx.add_int64([rows, 1, classes], f"{node.name}_rows")],
                      name=f"{node.name}_probs")
    cdf = ctx.emit1("CumSum", [probs, ctx.add_int64(-1, f"{node.name}_axis")],
                    name=f"{node.name}_cdf")
    head = ctx.emit1("Slice", [cdf, ctx.add_int64([0], f"{node.name}_s0"),
                               ctx.add_int64([classes - 1], f"{node.name}_s1"),
                               ctx.add_int64([-1], f"{node.name}_s2")],
                     name=f"{node.name}_cdf_head")
    u = _uniform01(ctx, node, ctx.add_int64([rows, max(draws, 1), 1], f"{node.name}_ushape"),
                   np.dtype(ctx.dtype(data)))
    u = ctx.emit1("Cast", [u], name=f"{node.name}_u", to=ctx.onnx_dtype(data),
                  dtype=ctx.dtype(data))
    below = ctx.emit1("Less", [head, u], name=f"{node.name}_below", dtype=np.bool_)
    count = ctx.emit1("Cast", [below], name=f"{node.name}_count_f", to=TensorProto.INT64,
                      dtype=np.int64)
    samples = ctx.emit1("ReduceSum", [count, ctx.add_int64([-1], f"{node.name}_red")],
                        name=f"{node.name}_samples", keepdims=0, dtype=np.int64)  # (rows, draws)

    def log_probs() -> str:
        rows_k = ctx.emit1("Reshape", [data, ctx.add_int64([rows, classes], f"{node.name}_rk")],
                           name=f"{node.name}_p2")
        return ctx.emit1("Log", [rows_k], name=f"{node.name}_log")

    return _multinomial_outputs(ctx, node, samples, log_probs, out_shape)
