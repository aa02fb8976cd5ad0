"""Random sampling: _random_normal, _random_uniform, _random_uniform_like, _sample_multinomial.

Values cannot match MXNet's; the conformance cases compare distributions instead.
onnxruntime has no kernels for the opset-22 versions of RandomNormal, RandomUniform,
RandomUniformLike and Multinomial, so these ops export up to opset 21 only.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ..context import ExportContext, MxNode
from ..registry import register

RANDOM_OPSETS = (13, 21)


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


@register("_sample_multinomial", opset=RANDOM_OPSETS)
def sample_multinomial(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet takes probabilities (..., k) and draws ``shape`` samples per row; ONNX's
    Multinomial takes log-probabilities (batch, k) and draws ``sample_size`` per row."""
    data = node.inputs[0]
    in_shape = ctx.shape(data)
    classes = in_shape[-1]
    rows = int(np.prod(in_shape[:-1]))
    draws = int(np.prod([int(v) for v in node.tuple("shape", ())]))
    out_shape = list(ctx.shape(node.outputs[0]))
    log_p = ctx.emit1("Log", [data], name=f"{node.name}_log")
    log_p = ctx.emit1("Reshape", [log_p, ctx.add_int64([rows, classes], f"{node.name}_rows")],
                      name=f"{node.name}_log_rows")
    samples = _emit(ctx, node, "Multinomial", [log_p], None, f"{node.name}_draw",
                    TensorProto.INT64, sample_size=draws)
    dtype, onnx_dtype = _out_dtype(ctx, node)
    shaped = ctx.emit1("Reshape", [samples, ctx.add_int64(out_shape, f"{node.name}_shape")],
                       name=f"{node.name}_reshape", dtype=np.int64)
    results = [ctx.emit1("Cast", [shaped], node.outputs[0], name=node.name, to=onnx_dtype,
                         dtype=dtype)]
    if node.bool("get_prob", False):
        picked = ctx.emit1("GatherElements", [log_p, samples], name=f"{node.name}_log_prob",
                           axis=1)
        results.append(ctx.emit1("Reshape", [picked, ctx.add_int64(out_shape,
                                                                   f"{node.name}_prob_shape")],
                                 node.outputs[1], name=f"{node.name}_prob"))
    return results
