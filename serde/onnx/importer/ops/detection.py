"""Detection ops: the dense NMS keep mask that ``fuse`` builds from a NonMaxSuppression chain,
run by MXNet's own ``box_nms``."""
from __future__ import annotations

import mxnet as mx
import numpy as np

from ..registry import SERDE_DOMAIN, converter
from ._helpers import cast, legacy, npm, npx
from .tensor import axis_grid


@converter("NMSKeepMask", 1, domain=SERDE_DOMAIN)
def nms_keep_mask(node, ctx):
    """(B, N) mask of the boxes one-class NonMaxSuppression selects, 1 where kept. ``box_nms``
    returns the kept records first; a column carrying each box's position scatters them back
    (position + 1, so that suppressed rows, -1, land in a spare column 0 that is dropped)."""
    boxes = cast(ctx.input(node, 0), "float32")
    scores = npm.squeeze(cast(ctx.input(node, 1), "float32"), axis=1)  # (B, 1, N) -> (B, N)
    iou = float(np.asarray(ctx.input_value(node, 2, " (NMS iou_threshold)")).reshape(-1)[0])
    thr = ctx.optional_value(node, 3, " (NMS score_threshold)")
    # ONNX keeps scores > threshold; without one every box takes part
    valid = float(np.asarray(thr).reshape(-1)[0]) if thr is not None \
        else float(np.finfo(np.float32).min)
    position = cast(axis_grid(scores, 1, 2), "float32")
    records = npm.concatenate([npm.expand_dims(scores, -1), boxes, npm.expand_dims(position, -1)],
                              axis=-1)
    kept = legacy(mx.sym.contrib.box_nms, records, overlap_thresh=iou, valid_thresh=valid,
                  topk=int(node.attr("topk", -1)), coord_start=1, score_index=0, id_index=-1, force_suppress=True,
                  in_format="center" if node.attr("center_point_box", 0) else "corner")
    slot = cast(npm.squeeze(npx.slice(kept, begin=(None, None, 5), end=(None, None, 6)),
                            axis=-1), "int64") + 1
    canvas = npm.concatenate([npm.zeros_like(scores[:, :1]), npm.zeros_like(scores)], axis=1)
    # flat canvas positions: row start (its column 0) + slot
    row_start = legacy(mx.sym.contrib.arange_like, canvas)[:, :1]
    flat = npm.reshape(cast(row_start, "int64") + slot, (-1,))
    ones = npm.reshape(npm.ones_like(scores), (-1, 1))
    mask = legacy(mx.sym.contrib.index_copy, npm.reshape(canvas, (-1, 1)), flat, ones)
    mask = legacy(mx.sym.reshape_like, mask, canvas)
    return cast(mask[:, 1:], ctx.out_dtype(node))
