"""Region-of-interest pooling: ONNX RoiAlign as MXNet's ``contrib.ROIAlign``."""
from __future__ import annotations

import mxnet as mx

from ..registry import converter
from ._helpers import cast, legacy, npm, npx, slice_axis

#: how far a degenerate ROI's far corner is moved past its near one (relative to the
#: coordinate, and at least this much)
_MIN_SIDE = 1e-5


@converter("RoiAlign", 10, 16, 22)
def roi_align(node, ctx):
    """RoiAlign(X, rois (R, 4), batch_indices (R,)) -> (R, C, output_height, output_width).
    MXNet takes each ROI as [batch index, x1, y1, x2, y2]. RoiAlign-10's sampling is
    ``output_half_pixel`` (no half-pixel offset, ROI sides at least 1), MXNet's
    ``aligned=False``; ``half_pixel`` (RoiAlign-16's default) is ``aligned=True``."""
    mode = node.attr("mode", "avg")
    if mode != "avg":
        raise ctx.error(f"RoiAlign mode {mode!r}: MXNet's ROIAlign averages each bin only")
    default = "half_pixel" if ctx.opset >= 16 else "output_half_pixel"
    transform = node.attr("coordinate_transformation_mode", default)
    if transform not in ("half_pixel", "output_half_pixel"):
        raise ctx.error(f"RoiAlign coordinate_transformation_mode {transform!r} is not known")
    scale = float(node.attr("spatial_scale", 1.0))
    if not scale > 0:
        raise ctx.error(f"RoiAlign spatial_scale {scale} is not positive")
    data = cast(ctx.input(node, 0), "float32")
    # MXNet's kernel reads out of bounds for a batch index past the batch, and aborts the
    # process on a half-pixel ROI of zero or negative size (onnxruntime computes both): an
    # index is clipped to the batch and a degenerate ROI is made a hair wide, so that bad
    # boxes give numbers, not a crash
    last = cast(slice_axis(npx.shape_array(data), 0, 0, 1), "float32") - 1
    index = npm.minimum(cast(ctx.input(node, 2), "float32"), npm.reshape(last, ()))
    boxes = cast(ctx.input(node, 1), "float32")
    if transform == "half_pixel":
        near, far = slice_axis(boxes, 1, 0, 2), slice_axis(boxes, 1, 2, 4)
        side = npm.maximum(npm.abs(near), 1.0) * _MIN_SIDE
        boxes = npm.concatenate([near, npm.maximum(far, near + side)], axis=1)
    rois = npm.concatenate([npm.expand_dims(index, -1), boxes], axis=1)
    ratio = int(node.attr("sampling_ratio", 0))
    pooled = legacy(mx.sym.contrib.ROIAlign, data, rois,
                    pooled_size=(int(node.attr("output_height", 1)),
                                 int(node.attr("output_width", 1))),
                    spatial_scale=scale,
                    sample_ratio=ratio if ratio > 0 else -1,
                    aligned=transform == "half_pixel")
    return cast(pooled, ctx.out_dtype(node))
