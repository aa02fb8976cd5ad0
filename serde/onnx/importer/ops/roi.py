"""Region-of-interest pooling: ONNX RoiAlign as MXNet's ``contrib.ROIAlign``."""
from __future__ import annotations

import mxnet as mx

from ..registry import converter
from ._helpers import cast, legacy, npm


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
    data = cast(ctx.input(node, 0), "float32")
    index = cast(ctx.input(node, 2), "float32")
    rois = npm.concatenate([npm.expand_dims(index, -1), cast(ctx.input(node, 1), "float32")],
                           axis=1)
    ratio = int(node.attr("sampling_ratio", 0))
    pooled = legacy(mx.sym.contrib.ROIAlign, data, rois,
                    pooled_size=(int(node.attr("output_height", 1)),
                                 int(node.attr("output_width", 1))),
                    spatial_scale=float(node.attr("spatial_scale", 1.0)),
                    sample_ratio=ratio if ratio > 0 else -1,
                    aligned=transform == "half_pixel")
    return cast(pooled, ctx.out_dtype(node))
