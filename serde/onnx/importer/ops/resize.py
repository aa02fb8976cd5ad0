"""Resize as separable linear maps.

Every Resize mode (nearest with each rounding rule, linear, cubic with exclude_outside or
antialias, every coordinate transformation) is linear along each axis: ``y = x @ M + c`` with
``M`` of shape (in, out) and ``c`` the extrapolation value where tf_crop_and_resize reads outside
the input. ``M`` and ``c`` depend only on static shapes and attributes, so they are computed once
at import time (by evaluating the very same Resize on an identity basis with onnx.reference) and
the model runs them in MXNet as matmuls.
"""
from __future__ import annotations

import numpy as np
from onnx import helper

from ..context import evaluate_node
from ..registry import converter
from ._helpers import cast, is_float, npm

_DROP = {"axes", "keep_aspect_ratio_policy"}


def _axis_map(node, ctx, axis, in_len, out_len, scale, roi):
    """(M, c) for one axis: M (in_len, out_len), c (out_len,)."""
    attrs = [a for a in node.proto.attribute if a.name not in _DROP]
    opset = ctx.opset
    eye = np.eye(in_len, dtype=np.float64)
    zeros = np.zeros((1, in_len), dtype=np.float64)
    results = []
    for basis in (eye, zeros):
        feeds = {"X": basis}
        if opset < 11:
            inputs = ["X", "scales"]
            feeds["scales"] = np.array([1.0, scale], dtype=np.float32)
        else:
            inputs = ["X", "roi" if roi is not None else "", "scales" if scale else "",
                      "" if scale else "sizes"]
            if roi is not None:
                feeds["roi"] = np.array([0, roi[0], 1, roi[1]], dtype=np.float32)
            if scale:
                feeds["scales"] = np.array([1.0, scale], dtype=np.float32)
            else:
                feeds["sizes"] = np.array([basis.shape[0], out_len], dtype=np.int64)
        proto = helper.make_node("Resize", [i for i in inputs], ["Y"])
        proto.attribute.extend(attrs)
        while proto.input and not proto.input[-1]:
            proto.input.pop()
        results.append(evaluate_node(proto, {k: v for k, v in feeds.items()},
                                     {"": opset}))
    mat, const = results[0][0], results[1][0][0]
    if mat.shape[1] != out_len:
        raise ctx.error(f"Resize axis {axis}: {mat.shape[1]} outputs, expected {out_len}")
    return mat - const[None, :], const


@converter("Resize", 10, 11, 13, 18, 19)
def resize(node, ctx):
    x = ctx.input(node, 0)
    shape = ctx.in_shape(node, 0)
    out_shape = ctx.out_shape(node)
    if shape is None or out_shape is None or len(out_shape) != len(shape):
        raise ctx.error("Resize needs the rank and the resized dims of its input; give "
                        "input_shapes")
    rank = len(shape)
    why = " (Resize scales/sizes/roi)"
    # sizes computed from the input's own runtime shape (a dynamic batch kept as it is)
    sizes_part = ctx.partial_value(node.inputs[3]) if ctx.opset >= 11 and \
        node.has_input(3) and not ctx.has_value(node.inputs[3]) else None
    kept_dynamic = set()
    if sizes_part is not None:
        sources = np.asarray(sizes_part[2], dtype=object).reshape(-1)
        kept_dynamic = {i for i, src in enumerate(sources)
                        if src is not None and tuple(src) == (node.inputs[0], i)}
    if ctx.opset < 11:
        scales = [float(s) for s in np.asarray(ctx.input_value(node, 1, why)).ravel()]
        roi = None
    else:
        roi = ctx.optional_value(node, 1, why)
        scales = ctx.optional_value(node, 2, why)
        scales = None if scales is None or np.asarray(scales).size == 0 else \
            [float(s) for s in np.asarray(scales).ravel()]
        roi = None if roi is None or np.asarray(roi).size == 0 else np.asarray(roi).ravel()
    axes = list(range(rank))
    if node.attr("axes") is not None:
        axes = [a + rank if a < 0 else a for a in node.attr("axes")]
    crop = node.attr("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize"
    dtype = ctx.in_dtype(node, 0)
    work = np.dtype("float32") if dtype in (np.dtype("float16"), np.dtype("float32")) \
        else np.dtype("float64")
    y = cast(x, work) if dtype != work else x
    for k, axis in enumerate(axes):
        in_len, out_len = shape[axis], out_shape[axis]
        scale = scales[k] if scales is not None else None
        axis_roi = (roi[k], roi[len(axes) + k]) if roi is not None and crop else None
        if in_len is None or out_len is None:
            if not crop and (scale == 1.0 or axis in kept_dynamic):
                continue  # a dynamic axis that is not resized
            raise ctx.error(f"Resize axis {axis} is resized but its size is not static; "
                            "give input_shapes")
        if in_len == out_len and not crop and (scale in (None, 1.0)):
            continue
        mat, const = _axis_map(node, ctx, axis, in_len, out_len, scale, axis_roi)
        moved = npm.moveaxis(y, axis, -1) if axis != rank - 1 else y
        mapped = npm.matmul(moved, ctx.const(mat, work, f"axis{axis}"))
        if np.any(const):
            mapped = mapped + ctx.const(const, work, f"extrapolate{axis}")
        y = npm.moveaxis(mapped, -1, axis) if axis != rank - 1 else mapped
    if dtype != work:
        if not is_float(dtype):
            y = npm.rint(y)
        y = cast(y, dtype)
    return y




@converter("Upsample", 7, 9)
def upsample(node, ctx):
    """Deprecated Upsample, nearest mode: output[o] = input[floor(o / scale)] on each axis, with
    floor(in * scale) outputs (a repeat for integer scales). Linear mode is refused."""
    if node.attr("mode", "nearest") != "nearest":
        raise ctx.error("Upsample mode 'linear' is not supported; use Resize")
    shape = ctx.static_shape(node, 0)
    if node.has_input(1):
        scales = np.asarray(ctx.input_value(node, 1, " (the Upsample scales)"), np.float64)
    else:
        scales = np.asarray(node.attr("scales"), np.float64)
    scales = scales.ravel()
    if len(scales) != len(shape) or any(s < 1 for s in scales):
        raise ctx.error(f"Upsample scales {scales.tolist()} do not fit input shape {shape}")
    y = ctx.input(node, 0)
    for axis, (size, scale) in enumerate(zip(shape, scales, strict=True)):
        if scale == 1:
            continue
        if float(scale).is_integer():
            y = npm.repeat(y, int(scale), axis=axis)
            continue
        out = int(np.floor(size * scale))
        src = np.minimum(np.floor(np.arange(out) / scale), size - 1).astype(np.int64)
        y = npm.take(y, ctx.const(src, np.int64, f"src{axis}"), axis=axis)
    return y
