"""MXNet's quantization boundary ops: ``_contrib_quantize_v2``, ``_contrib_dequantize`` and
``_contrib_requantize`` (int32 -> int8 with calibrated ranges).

MXNet 1.9.1's CPU kernels (oneDNN) are symmetric: with R = max(|min|, |max|), int8 values are
round(x * 127.5 / R) and uint8 values round(x * 255.5 / R), clipped to the dtype; dequantize
multiplies by R / 127.5 (int8) or R / 255.5 (uint8); requantize rescales int32 accumulators
(R_in / (2^31 - 1) per step) by 127 / R_out. Rounding is half away from zero. (Measured
against MXNet's outputs over dense sweeps of values.) The exported graph computes exactly that (the quantized tensors keep their
int8/uint8 dtypes, the ranges are float32 outputs as in MXNet).
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import Builder

_LEVELS = {"int8": 127.5, "uint8": 255.5}
_BOUNDS = {"int8": (-128, 127), "uint8": (0, 255)}


def _round_half_away(b: Builder, x: str) -> str:
    dtype = b.ctx.dtype(x)
    return b("Mul", b("Sign", x), b("Floor", b("Add", b("Abs", x), b.const(0.5, dtype, "half"))))


def _quantize(b: Builder, data: str, magnitude: str, out_type: str, bounds: tuple[int, int]
              ) -> str:
    """data (float) -> out_type integers on the symmetric range +-magnitude."""
    f32 = np.float32
    x = b.cast(data, f32)
    scale = b("Div", b.const(_LEVELS[out_type], f32, "levels"), magnitude)
    q = _round_half_away(b, b("Mul", x, scale))
    q = b("Clip", q, b.const(float(bounds[0]), f32, "low"), b.const(float(bounds[1]), f32, "high"))
    return b.cast(q, out_type)


def _calibrated(node: MxNode) -> tuple[float, float] | None:
    low, high = node.optional("min_calib_range"), node.optional("max_calib_range")
    return None if low is None or high is None else (float(low), float(high))


@register("_contrib_quantize_v2")
def quantize_v2(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data = node.inputs[0]
    f32 = np.float32
    out_type = node.str("out_type", "int8")
    calib = _calibrated(node)
    if calib is not None:
        low, high = calib
        if out_type == "auto":
            out_type = "int8" if low < 0 else "uint8"
        magnitude = b.const(max(abs(low), abs(high)), f32, "range")
        range_low = b.const([-max(abs(low), abs(high)) if out_type == "int8" else low], f32,
                            "min")
        range_high = b.const([max(abs(low), abs(high)) if out_type == "int8" else high], f32,
                             "max")
    else:
        if out_type == "auto":
            raise node.fail("quantize_v2 with out_type='auto' and no calibration range picks "
                            "its dtype from the data at run time; calibrate the model first")
        x = b.cast(data, f32)
        low = b("Reshape", b("ReduceMin", x, keepdims=0), b.i64([1]))
        high = b("Reshape", b("ReduceMax", x, keepdims=0), b.i64([1]))
        magnitude = b("Max", b("Abs", low), b("Abs", high))
        range_low = b("Neg", magnitude) if out_type == "int8" else low
        range_high = magnitude if out_type == "int8" else high
    if out_type not in _LEVELS:
        raise node.fail(f"quantize_v2 out_type {out_type!r} is not supported")
    q = _quantize(b, data, magnitude, out_type, _BOUNDS[out_type])
    return [b("Identity", q, out=node.outputs[0], dtype=np.dtype(out_type)),
            b("Identity", range_low, out=node.outputs[1], dtype=f32),
            b("Identity", range_high, out=node.outputs[2], dtype=f32)][: len(node.outputs)]


@register("_contrib_dequantize")
def dequantize(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    data, low, high = node.inputs[:3]
    f32 = np.float32
    in_type = np.dtype(ctx.dtype(data)).name
    if in_type not in _LEVELS:
        raise node.fail(f"dequantize of {in_type} data is not supported (int8 or uint8)")
    magnitude = b("Max", b("Abs", b.cast(low, f32)), b("Abs", b.cast(high, f32)))
    scale = b("Div", magnitude, b.const(_LEVELS[in_type], f32, "levels"))
    return [b("Mul", b.cast(data, f32), scale, out=node.outputs[0])]


@register("_contrib_requantize")
def requantize(node: MxNode, ctx: ExportContext) -> list[str]:
    """int32 accumulators on +-R_in (R_in = 2^31 - 1 steps) -> int8 on the calibrated range."""
    b = Builder(node, ctx)
    data, low, high = node.inputs[:3]
    calib = _calibrated(node)
    if calib is None:
        raise node.fail("requantize without min_calib_range/max_calib_range takes its range "
                        "from the data at run time; calibrate the model first")
    f64, f32 = np.float64, np.float32
    r_in = b("Max", b("Abs", b.cast(low, f64)), b("Abs", b.cast(high, f64)))
    real = b("Mul", b.cast(data, f64), b("Div", r_in, b.const(2.0 ** 31 - 1, f64, "int32")))
    r_out = max(abs(calib[0]), abs(calib[1]))
    q = _round_half_away(b, b("Mul", real, b.const(127.0 / r_out, f64, "scale")))
    q = b("Clip", q, b.const(-128.0, f64, "low"), b.const(127.0, f64, "high"))
    return [b("Cast", q, out=node.outputs[0], to=TensorProto.INT8, dtype=np.int8),
            b("Identity", b.const([-r_out], f32, "min"), out=node.outputs[1], dtype=f32),
            b("Identity", b.const([r_out], f32, "max"), out=node.outputs[2], dtype=f32)
            ][: len(node.outputs)]
