"""Spatial resampling and cropping: Pad, UpSampling, Crop, BilinearResize2D,
AdaptiveAvgPooling2D."""
from __future__ import annotations

import math

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import scalar_const


@register("Pad")
def pad(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    mode = node.str("mode")
    if mode not in ("constant", "edge", "reflect"):
        raise node.fail(f"Pad mode {mode!r} is not supported")
    widths = [int(w) for w in node.tuple("pad_width")]
    # MXNet: (before0, after0, before1, after1, ...); ONNX: all befores, then all afters.
    pads = ctx.add_int64(widths[0::2] + widths[1::2], f"{node.name}_pads")
    inputs = [data, pads]
    if mode == "constant":
        inputs.append(scalar_const(ctx, node, node.float("constant_value", 0.0), data, "value"))
    return ctx.emit("Pad", inputs, node.outputs[:1], name=node.name, mode=mode)


def _resize_nearest(ctx: ExportContext, node: MxNode, data: str, scale: float, suffix: str,
                    output: str | None) -> str:
    scales = ctx.add_const(np.array([1.0, 1.0, scale, scale], np.float32),
                           f"{node.name}_scales{suffix}")
    return ctx.emit1("Resize", [data, "", scales], output, name=f"{node.name}{suffix}",
                     mode="nearest", coordinate_transformation_mode="asymmetric",
                     nearest_mode="floor")


@register("UpSampling")
def upsampling(node: MxNode, ctx: ExportContext) -> list[str]:
    scale = node.int("scale")
    sample_type = node.str("sample_type")
    if sample_type == "bilinear":
        # MXNet runs a grouped, bias-free Deconvolution with the given (bilinear) weight.
        data, weight = node.inputs[:2]
        kernel = 2 * scale - scale % 2
        pad_ = int(math.ceil((scale - 1) / 2.0))
        return ctx.emit("ConvTranspose", [data, weight], node.outputs[:1], name=node.name,
                        kernel_shape=[kernel, kernel], strides=[scale, scale],
                        pads=[pad_] * 4, group=node.int("num_filter", ctx.shape(data)[1]))
    if sample_type != "nearest":
        raise node.fail(f"UpSampling sample_type {sample_type!r} is not supported")
    out_hw = ctx.shape(node.outputs[0])[2]
    if len(node.inputs) == 1:
        return [_resize_nearest(ctx, node, node.inputs[0], scale, "", node.outputs[0])]
    # Several inputs: each is brought to the first one's upsampled size, then concat or sum.
    parts = [_resize_nearest(ctx, node, x, out_hw // ctx.shape(x)[2], f"_in{i}", None)
             for i, x in enumerate(node.inputs)]
    if node.str("multi_input_mode", "concat") == "sum":
        return ctx.emit("Sum", parts, node.outputs[:1], name=node.name)
    return ctx.emit("Concat", parts, node.outputs[:1], name=node.name, axis=1)


@register("Crop")
def crop(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    height, width = ctx.shape(data)[2:4]
    out_h, out_w = ctx.shape(node.outputs[0])[2:4]
    if node.bool("center_crop", False):
        top, left = (height - out_h) // 2, (width - out_w) // 2
    else:
        top, left = (int(v) for v in node.tuple("offset", (0, 0)))
    return ctx.emit("Slice", [data, ctx.add_int64([top, left], f"{node.name}_starts"),
                              ctx.add_int64([top + out_h, left + out_w], f"{node.name}_ends"),
                              ctx.add_int64([2, 3], f"{node.name}_axes")],
                    node.outputs[:1], name=node.name)


@register("_contrib_BilinearResize2D")
def bilinear_resize(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    # Every MXNet mode (size, scale, like, odd/even rounding) only decides the output size,
    # which shape inference has already worked out.
    out_hw = list(ctx.shape(node.outputs[0])[2:])
    batch_channels = ctx.emit1("Slice", [ctx.emit1("Shape", [data], name=f"{node.name}_shape",
                                                   dtype=np.int64),
                                         ctx.add_int64([0], f"{node.name}_zero"),
                                         ctx.add_int64([2], f"{node.name}_two")],
                               name=f"{node.name}_nc", dtype=np.int64)
    sizes = ctx.emit1("Concat", [batch_channels, ctx.add_int64(out_hw, f"{node.name}_hw")],
                      name=f"{node.name}_sizes", axis=0, dtype=np.int64)
    # MXNet's align_corners=False is PyTorch's convention: half-pixel centres, clamped at 0.
    mode = "align_corners" if node.bool("align_corners", True) else "pytorch_half_pixel"
    return ctx.emit("Resize", [data, "", "", sizes], node.outputs[:1], name=node.name,
                    mode="linear", coordinate_transformation_mode=mode)


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix of MXNet's adaptive pooling bins."""
    matrix = np.zeros((out, size), dtype=np.float64)
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix.astype(dtype)


@register("_contrib_AdaptiveAvgPooling2D")
def adaptive_avg_pool(node: MxNode, ctx: ExportContext) -> list[str]:
    data = node.inputs[0]
    height, width = ctx.shape(data)[2:4]
    out_h, out_w = ctx.shape(node.outputs[0])[2:4]
    if (out_h, out_w) == (1, 1):
        return ctx.emit("GlobalAveragePool", [data], node.outputs[:1], name=node.name)
    if height % out_h == 0 and width % out_w == 0:  # equal bins: a plain average pooling
        kernel = [height // out_h, width // out_w]
        return ctx.emit("AveragePool", [data], node.outputs[:1], name=node.name,
                        kernel_shape=kernel, strides=kernel)
    # Overlapping bins: average rows, then columns, with constant bin matrices.
    dtype = np.dtype(ctx.dtype(data))
    cols = ctx.add_const(_adaptive_matrix(width, out_w, dtype).T, f"{node.name}_cols")
    rows = ctx.add_const(_adaptive_matrix(height, out_h, dtype), f"{node.name}_rows")
    pooled_w = ctx.emit1("MatMul", [data, cols], name=f"{node.name}_pool_w")
    return ctx.emit("MatMul", [rows, pooled_w], node.outputs[:1], name=node.name)


def _affine_grid(ctx: ExportContext, node: MxNode, theta: str, height: int, width: int) -> str:
    """MXNet's affine grid: (N, 6) -> (N, 2, H, W) source coordinates in [-1, 1] (x, y)."""
    dtype = ctx.dtype(theta)
    xs = np.linspace(-1.0, 1.0, width) if width > 1 else np.array([-1.0])
    ys = np.linspace(-1.0, 1.0, height) if height > 1 else np.array([-1.0])
    gx, gy = np.meshgrid(xs, ys)
    base = np.stack([gx.ravel(), gy.ravel(), np.ones(height * width)]).astype(dtype)  # (3, HW)
    matrix = ctx.emit1("Reshape", [theta, ctx.add_int64([-1, 2, 3], f"{node.name}_theta_shape")],
                       name=f"{node.name}_theta")
    grid = ctx.emit1("MatMul", [matrix, ctx.add_const(base, f"{node.name}_base")],
                     name=f"{node.name}_grid_flat")
    return ctx.emit1("Reshape", [grid, ctx.add_int64([-1, 2, height, width],
                                                     f"{node.name}_grid_shape")],
                     name=f"{node.name}_grid")


def _warp_grid(ctx: ExportContext, node: MxNode, flow: str) -> str:
    """(N, 2, H, W) pixel offsets -> normalised source coordinates."""
    _, _, height, width = ctx.shape(flow)
    dtype = ctx.dtype(flow)
    gx, gy = np.meshgrid(np.arange(width), np.arange(height))
    base = np.stack([gx, gy])[None].astype(dtype)
    scale = np.array([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)],
                     dtype).reshape(1, 2, 1, 1)
    moved = ctx.emit1("Add", [flow, ctx.add_const(base, f"{node.name}_pixels")],
                      name=f"{node.name}_moved")
    scaled = ctx.emit1("Mul", [moved, ctx.add_const(scale, f"{node.name}_scale")],
                       name=f"{node.name}_scaled")
    return ctx.emit1("Sub", [scaled, scalar_const(ctx, node, 1.0, flow, "one")],
                     name=f"{node.name}_grid")


@register("GridGenerator")
def grid_generator(node: MxNode, ctx: ExportContext) -> list[str]:
    kind = node.str("transform_type", "affine")
    if kind == "affine":
        height, width = (int(v) for v in node.tuple("target_shape"))
        grid = _affine_grid(ctx, node, node.inputs[0], height, width)
    elif kind == "warp":
        grid = _warp_grid(ctx, node, node.inputs[0])
    else:
        raise node.fail(f"GridGenerator transform_type {kind!r} is not supported")
    return ctx.emit("Identity", [grid], node.outputs[:1], name=node.name)


def _bilinear_sample(ctx: ExportContext, node: MxNode, data: str, grid: str, out: str) -> str:
    """MXNet's bilinear sampler: (x, y) in [-1, 1] map to pixel centres corner to corner
    (align_corners), zeros outside: ONNX GridSample on an (N, H, W, 2) grid."""
    grid_last = ctx.emit1("Transpose", [grid], name=f"{node.name}_grid_nhwc", perm=[0, 2, 3, 1])
    mode = "linear" if ctx.opset >= 20 else "bilinear"
    return ctx.emit1("GridSample", [data, grid_last], out, name=node.name, align_corners=1,
                     mode=mode, padding_mode="zeros")


@register("BilinearSampler", opset=(16, None))
def bilinear_sampler(node: MxNode, ctx: ExportContext) -> list[str]:
    return [_bilinear_sample(ctx, node, node.inputs[0], node.inputs[1], node.outputs[0])]


@register("SpatialTransformer", opset=(16, None))
def spatial_transformer(node: MxNode, ctx: ExportContext) -> list[str]:
    if node.str("transform_type", "affine") != "affine" or \
            node.str("sampler_type", "bilinear") != "bilinear":
        raise node.fail("SpatialTransformer supports the affine transform with the bilinear "
                        "sampler only (MXNet's only choices)")
    height, width = (int(v) for v in node.tuple("target_shape"))
    grid = _affine_grid(ctx, node, node.inputs[1], height, width)
    return [_bilinear_sample(ctx, node, node.inputs[0], grid, node.outputs[0])]
