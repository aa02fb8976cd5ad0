"""Detection: box_nms, MultiBoxPrior/MultiBoxDetection, box_iou/encode/decode, ROIAlign,
ROIPooling.

NMS-based ops keep MXNet's output layout exactly (kept records first in score order, then rows
of -1) on top of ONNX's NonMaxSuppression, which gives selected indices only. Class-aware NMS
is single-class NMS on boxes shifted apart by class id (they can then never overlap).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from onnx import TensorProto, helper

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import INT64, Builder


def corners(b: Builder, boxes: str, center: bool) -> str:
    """(x1, y1, x2, y2) from corner or (x, y, w, h) boxes on the last axis."""
    if not center:
        return boxes
    dtype = b.ctx.dtype(boxes)
    xy, wh = b.cols(boxes, 0, 2), b.cols(boxes, 2, 2)
    half = b("Div", wh, b.const(2.0, dtype, "two"))
    return b("Concat", b("Sub", xy, half), b("Add", xy, half), axis=-1)


def centers(b: Builder, boxes: str) -> str:
    dtype = b.ctx.dtype(boxes)
    low, high = b.cols(boxes, 0, 2), b.cols(boxes, 2, 2)
    wh = b("Sub", high, low)
    return b("Concat", b("Add", low, b("Div", wh, b.const(2.0, dtype, "two"))), wh, axis=-1)


def nms_keep(b: Builder, boxes: str, scores: str, classes: str | None, iou_threshold: float,
             candidates: int | None = None) -> str:
    """Greedy NMS over (B, N, 4) corner boxes and (B, N) scores (the lowest float marks rows
    that take no part); ``classes`` (B, N) makes it class-aware. Returns a (B, N) bool mask
    of the kept rows. A box is suppressed when its IoU with a kept box is > iou_threshold.
    ``candidates`` bounds how many rows take part (box_nms's topk): as NMS's per-class output
    cap it changes nothing here, and it tells an importer how few boxes it has to compare."""
    boxes = b.cast(boxes, np.float32)
    scores = b.cast(scores, np.float32)
    if classes is not None:  # shift each class into its own region: no overlaps across ids
        span = b("Add", b("Sub", b("ReduceMax", boxes, keepdims=0),
                          b("ReduceMin", boxes, keepdims=0)), b.const(1.0, np.float32, "one"))
        shift = b("Mul", b.unsqueeze(b.cast(classes, np.float32), [-1]), span)
        boxes = b("Add", boxes, shift)
    count = b.i64([candidates]) if candidates else \
        b("Reshape", b.dim(boxes, 1), b.i64([1]), dtype=INT64)
    selected = b("NonMaxSuppression", boxes, b.unsqueeze(scores, [1]), count,
                 b.const([iou_threshold], np.float32, "iou"),
                 b.const([float(np.finfo(np.float32).min) / 2], np.float32, "score_thr"),
                 dtype=INT64)
    where = b("Gather", selected, b.i64([0, 2]), axis=1, dtype=INT64)
    ones = b("ConstantOfShape", b("Slice", b("Shape", selected, dtype=INT64), b.i64([0]),
                                  b.i64([1]), dtype=INT64),
             value=helper.make_tensor("value", TensorProto.FLOAT, [1], [1.0]),
             dtype=np.float32)
    zeros = b("ConstantOfShape", b("Shape", scores, dtype=INT64),
              value=helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0]),
              dtype=np.float32)
    kept = b("ScatterND", zeros, where, ones, dtype=np.float32)
    return b("Cast", kept, to=TensorProto.BOOL, dtype=np.bool_)


def lowest(dtype: Any) -> float:
    return float(np.finfo(np.dtype(dtype)).min)


def first_rows(b: Builder, mask: str) -> str:
    """A (B, N) order that puts the rows where ``mask`` holds first, in their order."""
    n = b.dim(mask, 1)
    rank = b("Sub", n, b.positions(n), dtype=INT64)  # N .. 1: earlier rows rank higher
    key = b("Where", mask, rank, b.i64(0), dtype=INT64)
    return sort_descending(b, key)  # k read from the key itself: a whole-axis TopK


def sort_descending(b: Builder, key: str) -> str:
    """Row order of a (B, N) key, largest first (ties keep row order)."""
    n = b("Reshape", b.dim(key, 1), b.i64([1]), dtype=INT64)
    _, order = b.ctx.emit("TopK", [key, n], 2, name=f"{b.node.name}_TopK", axis=1, largest=1,
                          sorted=1)
    b.ctx.dtypes[order] = INT64
    return order


@register("_contrib_box_nms")
def box_nms(node: MxNode, ctx: ExportContext) -> list[str]:
    """Records (..., N, K): drop those at or under ``valid_thresh`` (and of ``background_id``),
    sort by score, keep ``topk``, greedy NMS, then kept records first and -1 rows after."""
    b = Builder(node, ctx)
    data = node.inputs[0]
    shape = ctx.shape(data)
    n_rec, width = shape[-2], shape[-1]
    dtype = ctx.dtype(data)
    score_index = node.int("score_index", 1)
    coord_start = node.int("coord_start", 2)
    id_index = node.int("id_index", -1)
    background = node.int("background_id", -1)
    topk = node.int("topk", -1)
    in_center = node.str("in_format", "corner") == "center"
    out_center = node.str("out_format", "corner") == "center"
    for label, fmt in (("in_format", node.str("in_format", "corner")),
                       ("out_format", node.str("out_format", "corner"))):
        if fmt not in ("corner", "center"):
            raise node.fail(f"{label} {fmt!r} is not supported")
    if ctx.has_dynamic_axes:  # the record count may follow a dynamic image size
        if len(shape) == 3:  # ONNX's 0 copies N and K: a constant target
            records = b("Reshape", data, b.i64([-1, 0, 0]))
        elif len(shape) == 2:
            records = b.unsqueeze(data, [0])
        else:
            records = b("Reshape", data, b("Concat", b.i64([-1]), b("Slice", b(
                "Shape", data, dtype=INT64), b.i64([-2]), b.i64([len(shape)]), dtype=INT64),
                axis=0, dtype=INT64))
        capped = topk > 0  # the traced count says nothing about other sizes
    else:
        records = b("Reshape", data, b.i64([-1, n_rec, width]))
        capped = 0 < topk < n_rec
    scores = b.col(records, score_index)
    valid = b("Greater", scores, b.const(node.float("valid_thresh", 0.0), dtype, "valid"),
              dtype=np.bool_)
    if id_index >= 0 and background >= 0:
        ids = b.col(records, id_index)
        valid = b("And", valid, b("Not", b("Equal", ids, b.const(background, dtype, "bg"),
                                             dtype=np.bool_), dtype=np.bool_), dtype=np.bool_)
    masked = b("Where", valid, scores, b.const(lowest(dtype), dtype, "lowest"), dtype=dtype)
    order = sort_descending(b, masked)
    ranked = b.batch_gather(records, order)
    ranked_valid = b("GatherElements", valid, order, axis=1, dtype=np.bool_)
    if capped:
        in_top = b("Less", b.positions(b.dim(records, 1)), b.i64(topk), dtype=np.bool_)
        ranked_valid = b("And", ranked_valid, in_top, dtype=np.bool_)
    ranked_scores = b("Where", ranked_valid, b.col(ranked, score_index),
                      b.const(lowest(dtype), dtype, "lowest"), dtype=dtype)
    boxes = corners(b, b.cols(ranked, coord_start, 4), in_center)
    classes = None
    if id_index >= 0 and not node.bool("force_suppress", False):
        classes = b.col(ranked, id_index)
    keep = b("And", nms_keep(b, boxes, ranked_scores, classes,
                             node.float("overlap_thresh", 0.5),
                             topk if capped else None), ranked_valid, dtype=np.bool_)
    # Kept records first (score order), the rest -1.
    final = first_rows(b, keep)
    out_rows = b.batch_gather(ranked, final)
    if in_center != out_center:
        coords = b.cols(out_rows, coord_start, 4)
        coords = centers(b, coords) if out_center else corners(b, coords, True)
        parts = [coords]
        if coord_start > 0:
            parts.insert(0, b.cols(out_rows, 0, coord_start))
        if coord_start + 4 < width:
            parts.append(b.cols(out_rows, coord_start + 4, width - coord_start - 4))
        out_rows = b("Concat", *parts, axis=-1) if len(parts) > 1 else coords
    kept_rows = b.unsqueeze(b("GatherElements", keep, final, axis=1, dtype=np.bool_), [-1])
    result = b("Where", kept_rows, out_rows, b.const(-1.0, dtype, "minus_one"), dtype=dtype)
    out = b("Reshape", result, b("Shape", data, dtype=INT64), out=node.outputs[0])
    return [out] + [out] * (len(node.outputs) - 1)


def decode_center_offsets(b: Builder, loc: str, anchors: str, variances: Sequence[float],
                          clip: bool) -> str:
    """SSD decoding of (..., 4) offsets against (..., 4) corner anchors into corner boxes."""
    dtype = b.ctx.dtype(loc)
    anchor_center = centers(b, anchors)
    a_xy, a_wh = b.cols(anchor_center, 0, 2), b.cols(anchor_center, 2, 2)
    var_xy = b.const(list(variances[:2]), dtype, "var_xy")
    var_wh = b.const(list(variances[2:]), dtype, "var_wh")
    xy = b("Add", b("Mul", b("Mul", b.cols(loc, 0, 2), var_xy), a_wh), a_xy)
    half = b("Div", b("Mul", b("Exp", b("Mul", b.cols(loc, 2, 2), var_wh)), a_wh),
             b.const(2.0, dtype, "two"))
    boxes = b("Concat", b("Sub", xy, half), b("Add", xy, half), axis=-1)
    if clip:
        boxes = b("Clip", boxes, b.const(0.0, dtype, "zero"), b.const(1.0, dtype, "one"))
    return boxes


@register("_contrib_MultiBoxDetection")
def multibox_detection(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet's SSD output layer: per anchor the best non-background class, decoded boxes,
    valid records (score >= threshold) compacted in anchor order, sorted by score, NMS that
    marks suppressed records with id -1 (IoU >= nms_threshold), rows past the valid ones -1.
    Records past ``nms_topk`` keep their unsorted content with id -1, as MXNet's do."""
    b = Builder(node, ctx)
    cls_prob, loc_pred, anchors = node.inputs[:3]
    dtype = ctx.dtype(cls_prob)
    _, _, n_anchor = ctx.shape(cls_prob)
    variances = [float(v) for v in node.tuple("variances", (0.1, 0.1, 0.2, 0.2))]
    if len(variances) != 4:
        raise node.fail("variances must have 4 values")
    foreground = b("Slice", cls_prob, b.i64([1]), b.i64([2**31 - 1]), b.i64([1]))
    score = b("ReduceMax", foreground, b.i64([1]), keepdims=0) if ctx.opset >= 18 else \
        b("ReduceMax", foreground, axes=[1], keepdims=0)
    class_id = b.cast(b("ArgMax", foreground, axis=1, keepdims=0, dtype=INT64), dtype)
    valid = b("Not", b("Less", score, b.const(node.float("threshold", 0.01), dtype, "thr"),
                       dtype=np.bool_), dtype=np.bool_)
    loc = b("Reshape", loc_pred, b.i64([0, n_anchor, 4]))
    boxes = decode_center_offsets(b, loc, b("Reshape", anchors, b.i64([1, n_anchor, 4])),
                                  variances, node.bool("clip", True))
    boxes = b("Expand", boxes, b("Shape", loc, dtype=INT64))
    records = b("Concat", b.unsqueeze(class_id, [-1]), b.unsqueeze(score, [-1]), boxes,
                axis=-1)
    minus_one = b.const(-1.0, dtype, "minus_one")
    compact_order = first_rows(b, valid)
    compact = b.batch_gather(records, compact_order)
    valid_count = b("ReduceSum", b.cast(valid, INT64), b.i64([1]), keepdims=1, dtype=INT64)
    positions = b.unsqueeze(b.positions(b.dim(records, 1)), [0])  # (1, N)
    in_valid = b("Less", positions, valid_count, dtype=np.bool_)  # (B, N)
    nms_threshold = node.float("nms_threshold", 0.5)
    if not 0 < nms_threshold <= 1:  # MXNet neither sorts nor suppresses then
        rows = compact
        class_out = b.col(rows, 0)
    else:
        order = sort_descending(b, b("Where", valid, score, b.const(lowest(dtype), dtype,
                                                                    "lowest"), dtype=dtype))
        ranked = b.batch_gather(records, order)
        topk = node.int("nms_topk", -1)
        in_top = in_valid
        if topk > 0:
            in_top = b("And", in_valid, b("Less", positions, b.i64(topk), dtype=np.bool_),
                       dtype=np.bool_)
        rows = b("Where", b.unsqueeze(in_top, [-1]), ranked, compact, dtype=dtype)
        ranked_scores = b("Where", in_top, b.col(ranked, 1), b.const(lowest(dtype), dtype,
                                                                     "lowest"), dtype=dtype)
        classes = None if node.bool("force_suppress", False) else b.col(ranked, 0)
        # MXNet suppresses at IoU >= t; ONNX at IoU > t: the next float below t.
        below = float(np.nextafter(np.float32(nms_threshold), np.float32(-np.inf)))
        keep = nms_keep(b, b.cols(ranked, 2, 4), ranked_scores, classes, below)
        class_out = b("Where", b("And", keep, in_top, dtype=np.bool_), b.col(rows, 0),
                      minus_one, dtype=dtype)
    rows = b("Concat", b.unsqueeze(class_out, [-1]), b.cols(rows, 1, 5), axis=-1)
    return [b("Where", b.unsqueeze(in_valid, [-1]), rows, minus_one, out=node.outputs[0],
              dtype=dtype)]


@register("_contrib_MultiBoxPrior")
def multibox_prior(node: MxNode, ctx: ExportContext) -> list[str]:
    """SSD anchors: a constant of the (static) feature-map size."""
    height, width = ctx.shape(node.inputs[0])[2:4]
    sizes = [float(v) for v in node.tuple("sizes", (1.0,))]
    ratios = [float(v) for v in node.tuple("ratios", (1.0,))]
    steps = [float(v) for v in node.tuple("steps", (-1.0, -1.0))]
    offsets = [float(v) for v in node.tuple("offsets", (0.5, 0.5))]
    step_y = steps[0] if steps[0] > 0 else 1.0 / height
    step_x = steps[1] if steps[1] > 0 else 1.0 / width
    # Per location: every size with the first ratio, then the first size with the others.
    first = np.sqrt(ratios[0])
    shapes = [(s * height / width * first / 2, s / first / 2) for s in sizes]
    shapes += [(sizes[0] * height / width * np.sqrt(r) / 2, sizes[0] / np.sqrt(r) / 2)
               for r in ratios[1:]]
    dtype = np.dtype(ctx.dtype(node.outputs[0]))
    anchors = np.empty((height, width, len(shapes), 4), np.float32)
    for r in range(height):
        cy = (r + offsets[0]) * step_y
        for c in range(width):
            cx = (c + offsets[1]) * step_x
            for k, (half_w, half_h) in enumerate(shapes):
                anchors[r, c, k] = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    if node.bool("clip", False):
        anchors = np.clip(anchors, 0.0, 1.0)
    value = ctx.add_const(anchors.reshape(1, -1, 4).astype(dtype), f"{node.name}_anchors")
    return ctx.emit("Identity", [value], node.outputs[:1], name=node.name, dtype=dtype)


def _pairwise_iou(b: Builder, lhs: str, rhs: str, dtype: Any) -> str:
    """IoU of (..., N, 4) and (..., M, 4) corner boxes -> (..., N, M)."""
    a = b.unsqueeze(lhs, [-2])  # (..., N, 1, 4)
    c = b.unsqueeze(rhs, [-3])  # (..., 1, M, 4)
    zero = b.const(0.0, dtype, "zero")
    low = b("Max", b.cols(a, 0, 2), b.cols(c, 0, 2))
    high = b("Min", b.cols(a, 2, 2), b.cols(c, 2, 2))
    wh = b("Max", b("Sub", high, low), zero)
    inter = b("Mul", b.col(wh, 0), b.col(wh, 1))

    def area(t: str) -> str:
        wh_t = b("Sub", b.cols(t, 2, 2), b.cols(t, 0, 2))
        return b("Mul", b.col(wh_t, 0), b.col(wh_t, 1))

    union = b("Sub", b("Add", area(a), area(c)), inter)
    ratio = b("Div", inter, b("Max", union, b.const(np.finfo(dtype).tiny, dtype, "tiny")))
    return b("Where", b("Greater", union, zero, dtype=np.bool_), ratio, zero, dtype=dtype)


@register("_contrib_box_iou")
def box_iou(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    lhs, rhs = node.inputs[:2]
    dtype = ctx.dtype(lhs)
    center = node.str("format", "corner") == "center"
    lhs_shape, rhs_shape = ctx.shape(lhs), ctx.shape(rhs)
    # MXNet: lhs (..., 4) x rhs (..., 4) -> lhs.shape[:-1] + rhs.shape[:-1]
    a = b("Reshape", corners(b, lhs, center), b.i64([-1, 4]))
    c = b("Reshape", corners(b, rhs, center), b.i64([-1, 4]))
    iou = _pairwise_iou(b, a, c, dtype)
    if ctx.has_dynamic_axes:  # lhs.shape[:-1] + rhs.shape[:-1] at run time
        def lead(t: str) -> str:
            return b("Slice", b("Shape", t, dtype=INT64), b.i64([0]), b.i64([-1]), dtype=INT64)
        target = b("Concat", lead(lhs), lead(rhs), axis=0, dtype=INT64)
    else:
        target = b.i64(list(lhs_shape[:-1]) + list(rhs_shape[:-1]))
    return [b("Reshape", iou, target, out=node.outputs[0])]


@register("_contrib_box_encode")
def box_encode(node: MxNode, ctx: ExportContext) -> list[str]:
    """Training targets of matched anchors: ((t - a) / a_wh - mean) / std per coordinate,
    zero where ``samples`` is not positive. Outputs targets and masks."""
    b = Builder(node, ctx)
    samples, matches, anchors, refs, means, stds = node.inputs[:6]
    dtype = ctx.dtype(anchors)
    matched = b.batch_gather(refs, b.cast(matches, INT64))  # (B, N, 4)
    anchor_c = centers(b, anchors)
    ref_c = centers(b, matched)
    a_xy, a_wh = b.cols(anchor_c, 0, 2), b.cols(anchor_c, 2, 2)
    t_xy = b("Div", b("Sub", b.cols(ref_c, 0, 2), a_xy), a_wh)
    t_wh = b("Log", b("Div", b.cols(ref_c, 2, 2), a_wh))
    raw = b("Concat", t_xy, t_wh, axis=-1)
    encoded = b("Div", b("Sub", raw, means), stds)
    positive = b.unsqueeze(b("Greater", samples, b.const(0.5, dtype, "half"),
                             dtype=np.bool_), [-1])
    zero = b.const(0.0, dtype, "zero")
    targets = b("Where", positive, encoded, zero, out=node.outputs[0], dtype=dtype)
    masks = b("Where", positive, b("Expand", b.const(1.0, dtype, "one"),
                                   b("Shape", encoded, dtype=INT64)), zero,
              out=node.outputs[1] if len(node.outputs) > 1 else None, dtype=dtype)
    return [targets, masks][: max(len(node.outputs), 1)]


@register("_contrib_box_decode")
def box_decode(node: MxNode, ctx: ExportContext) -> list[str]:
    """Offsets (dx, dy, dw, dh) against anchors -> corner boxes (x1, y1, x2, y2)."""
    b = Builder(node, ctx)
    data, anchors = node.inputs[:2]
    fmt = node.str("format", "center")
    if fmt not in ("center", "corner"):
        raise node.fail(f"box_decode format {fmt!r} is not supported")
    dtype = ctx.dtype(data)
    std = b.const([node.float(f"std{i}", 1.0) for i in range(4)], dtype, "std")
    scaled = b("Mul", data, std)
    d_xy, d_wh = b.cols(scaled, 0, 2), b.cols(scaled, 2, 2)
    anchor_c = centers(b, anchors) if fmt == "corner" else anchors
    a_xy, a_wh = b.cols(anchor_c, 0, 2), b.cols(anchor_c, 2, 2)
    centre = b("Add", b("Mul", d_xy, a_wh), a_xy)
    clip = node.float("clip", -1.0)
    if clip > 0:
        d_wh = b("Min", d_wh, b.const(clip, dtype, "clip"))
    half = b("Div", b("Mul", b("Exp", d_wh), a_wh), b.const(2.0, dtype, "two"))
    return [b("Concat", b("Sub", centre, half), b("Add", centre, half), axis=-1,
              out=node.outputs[0])]


# --- region-of-interest pooling ----------------------------------------------------------------
def _roi_parts(b: Builder, rois: str) -> tuple[str, str, str]:
    """MXNet's rois are [batch_index, x1, y1, x2, y2]: (R,) int64 batch indices (clamped to
    0; rows with a negative index give zeros in MXNet), the (R, 4) boxes, and a (R,) mask of
    rows with a valid index."""
    index = b.col(rois, 0)
    valid = b("Not", b("Less", index, b.const(0.0, b.ctx.dtype(rois), "zero"), dtype=np.bool_),
              dtype=np.bool_)
    index = b("Max", b.cast(index, INT64), b.i64(0), dtype=INT64)
    return index, b.cols(rois, 1, 4), valid


def _zero_invalid_rois(b: Builder, pooled: str, valid: str, out: str) -> str:
    mask = b.cast(b("Reshape", valid, b.i64([-1, 1, 1, 1])), b.ctx.dtype(pooled))
    return b("Mul", pooled, mask, out=out)


def _roi_axis_weights(b: Builder, coords: str, extent: str, positions: str, pooled: int,
                      ratio: int) -> str:
    """(R, P, E) weights of one spatial axis: bin p's average, over its ``ratio`` samples at
    ``coords`` (R, P*ratio), of each sample's linear interpolation weights on the E positions,
    with MXNet's (caffe2's) border rules: a sample beyond [-1, E] counts zero, one before 0
    reads 0, one at or past E-1 reads E-1."""
    dtype = b.ctx.dtype(coords)
    zero, one = b.const(0.0, dtype, "zero"), b.const(1.0, dtype, "one")
    last = b("Sub", extent, one)
    inside = b("And", b("Not", b("Less", coords, b.const(-1.0, dtype, "minus_one"),
                                 dtype=np.bool_), dtype=np.bool_),
               b("Not", b("Greater", coords, extent, dtype=np.bool_), dtype=np.bool_),
               dtype=np.bool_)
    coords = b("Max", coords, zero)
    low = b("Floor", coords)
    at_end = b("Not", b("Less", low, last, dtype=np.bool_), dtype=np.bool_)
    low = b("Where", at_end, last, low, dtype=dtype)
    high = b("Where", at_end, last, b("Add", low, one), dtype=dtype)
    coords = b("Where", at_end, low, coords, dtype=dtype)
    frac = b("Sub", coords, low)
    keep = b.cast(inside, dtype)
    w_low, w_high = b("Mul", b("Sub", one, frac), keep), b("Mul", frac, keep)

    def on(tap: str, weight: str) -> str:  # (R, S, E): weight where position == tap
        hit = b.cast(b("Equal", b.unsqueeze(tap, [-1]), positions, dtype=np.bool_), dtype)
        return b("Mul", hit, b.unsqueeze(weight, [-1]))

    per_sample = b("Add", on(low, w_low), on(high, w_high))  # (R, P*ratio, E)
    grouped = b("Reshape", per_sample, b("Concat", b.i64([0, pooled, ratio]),
                                         b("Shape", positions, dtype=INT64),  # (E,)
                                         axis=0, dtype=INT64))
    return b("Div", b("ReduceSum", grouped, b.i64([2]), keepdims=0),
             b.const(float(ratio), dtype, "ratio"))


def _roi_pool_products(b: Builder, data: str, index: str, w_y: str, w_x: str, n_rois: int,
                       n_images: int, channels: int, pooled_h: int, pooled_w: int) -> str:
    """(R, C, PH, PW) pooled maps as two plain matrix products, for a static batch (and so a
    static ROI count). Per-ROI copies of the features would take R*C*H*W memory (gigabytes
    for R-CNN's 1,000 ROIs), and MXNet's broadcasting matmul overflows its workspace at that
    size: first every ROI's height weights against every image, (R*PH, H) @ (H, N*C*W); then
    each ROI's rows of its own image, and its width weights as a product batched over ROIs."""
    by_height = b("Reshape", b("Transpose", data, perm=[2, 0, 1, 3]), b.i64([0, -1]))
    rows = b("MatMul", b("Reshape", w_y, b.i64([n_rois * pooled_h, -1])), by_height)
    if n_images == 1:  # R-CNN's deployment: every ROI reads the one image
        rows = b("Reshape", rows, b.i64([n_rois, pooled_h * channels, -1]))
    else:  # row (r*PH + p)*N + n holds image n's (C, W) for ROI r's bin p
        bins = np.arange(n_rois * pooled_h).reshape(n_rois, pooled_h) * n_images
        pick = b("Add", b.i64(bins), b.unsqueeze(index, [1]), dtype=INT64)  # (R, PH)
        rows = b("Gather", b("Reshape", rows, b.i64([n_rois * pooled_h * n_images, -1])),
                 pick, axis=0)
        rows = b("Reshape", rows, b.i64([0, pooled_h * channels, -1]))  # (R, PH*C, W)
    pooled = b("MatMul", rows, b("Transpose", w_x, perm=[0, 2, 1]))  # (R, PH*C, PW)
    return b("Transpose", b("Reshape", pooled, b.i64([0, pooled_h, channels, pooled_w])),
             perm=[0, 2, 1, 3])


def _roi_align_decomposed(node: MxNode, ctx: ExportContext) -> str:
    """ROIAlign for opsets whose RoiAlign onnxruntime cannot run (22+), and for what RoiAlign
    cannot express (position-sensitive pooling). Bilinear sampling averaged over each bin is
    separable: the pooled map of ROI r is Wy[r] @ X[image of r] @ Wx[r]^T with per-axis
    (P, E) weight matrices, which needs memory of the order of the output, not of every
    sample of every channel."""
    b = Builder(node, ctx)
    data, rois = node.inputs[:2]
    dtype = ctx.dtype(data)
    n_images, channels, height, width = ctx.shape(data)
    pooled_h, pooled_w = (int(v) for v in node.tuple("pooled_size"))
    ratio = node.int("sample_ratio", -1)
    if ratio <= 0:
        raise node.fail("ROIAlign with an adaptive sample_ratio (<= 0) needs onnxruntime's "
                        "RoiAlign: export at opset 21 or lower, or set sample_ratio",
                        opset=ctx.opset)
    aligned = node.bool("aligned", False)
    index, boxes, valid = _roi_parts(b, rois)
    scaled = b("Mul", boxes, b.const(node.float("spatial_scale"), dtype, "scale"))
    if aligned:
        scaled = b("Sub", scaled, b.const(0.5, dtype, "half"))
    start = b.cols(scaled, 0, 2)  # (R, 2): x, y
    size = b("Sub", b.cols(scaled, 2, 2), start)
    if not aligned:
        size = b("Max", size, b.const(1.0, dtype, "one"))
    bins = b("Div", size, b.const([pooled_w, pooled_h], dtype, "pooled"))

    def grid(axis: int, pooled: int) -> str:  # (R, P*ratio) sample coordinates
        steps = np.array([p + (i + 0.5) / ratio for p in range(pooled) for i in range(ratio)],
                         dtype)
        return b("Add", b.cols(start, axis, 1),
                 b("Mul", b.cols(bins, axis, 1), b.const(steps[None, :], dtype, "steps")))

    def axis_weights(axis: int, pooled: int, data_axis: int, static_extent: int) -> str:
        if ctx.has_dynamic_non_batch_axes:  # the feature map follows the image size
            dim = b.dim(data, data_axis)
            extent = b.cast(dim, dtype)
            positions = b.cast(b.positions(dim), dtype)
        else:
            extent = b.const(float(static_extent), dtype, "extent")
            positions = b.const(np.arange(static_extent, dtype=dtype), dtype, "positions")
        return _roi_axis_weights(b, grid(axis, pooled), extent, positions, pooled, ratio)

    w_x = axis_weights(0, pooled_w, 3, width)   # (R, PW, W)
    w_y = axis_weights(1, pooled_h, 2, height)  # (R, PH, H)
    if any(0 in axes for axes in ctx.dynamic_inputs.values()):
        # batch (and so ROI count) free: per-ROI copies of the features, broadcast products
        features = b("Gather", data, index, axis=0)  # (R, C, H, W)
        rows = b("MatMul", b.unsqueeze(w_y, [1]), features)  # (R, C, PH, W)
        pooled = b("MatMul", rows, b("Transpose", b.unsqueeze(w_x, [1]), perm=[0, 1, 3, 2]))
    else:
        pooled = _roi_pool_products(b, data, index, w_y, w_x, ctx.shape(rois)[0], n_images,
                                    channels, pooled_h, pooled_w)
    if node.bool("position_sensitive", False):
        # output channel k at bin (i, j) reads input channel k*PH*PW + i*PW + j
        groups = channels // (pooled_h * pooled_w)
        split = b("Reshape", pooled, b.i64([-1, groups, pooled_h * pooled_w, pooled_h,
                                            pooled_w]))
        pick = np.zeros((pooled_h * pooled_w, pooled_h, pooled_w), dtype)
        for i in range(pooled_h):
            for j in range(pooled_w):
                pick[i * pooled_w + j, i, j] = 1
        pooled = b("ReduceSum", b("Mul", split, b.const(pick, dtype, "pick")), b.i64([2]),
                   keepdims=0)
    return _zero_invalid_rois(b, pooled, valid, node.outputs[0])


@register("_contrib_ROIAlign")
def roi_align(node: MxNode, ctx: ExportContext) -> list[str]:
    # onnxruntime has no kernel for RoiAlign-22: decomposed there, and for position-sensitive
    # pooling, which RoiAlign cannot express.
    if ctx.opset >= 22 or node.bool("position_sensitive", False) or (
            node.bool("aligned", False) and ctx.opset < 16):
        return [_roi_align_decomposed(node, ctx)]
    b = Builder(node, ctx)
    data, rois = node.inputs[:2]
    attrs = {}
    if node.bool("aligned", False):
        attrs["coordinate_transformation_mode"] = "half_pixel"
    elif ctx.opset >= 16:
        attrs["coordinate_transformation_mode"] = "output_half_pixel"
    index, boxes, valid = _roi_parts(b, rois)
    pooled_h, pooled_w = (int(v) for v in node.tuple("pooled_size"))
    pooled = b("RoiAlign", data, boxes, index, mode="avg", output_height=pooled_h,
               output_width=pooled_w, sampling_ratio=max(node.int("sample_ratio", -1), 0),
               spatial_scale=node.float("spatial_scale"), **attrs)
    return [_zero_invalid_rois(b, pooled, valid, node.outputs[0])]


def _roi_pool_decomposed(node: MxNode, ctx: ExportContext) -> str:
    """MXNet's ROIPooling (max over each integer bin) as masked maxima, separably over the
    width and then the height, for opsets whose MaxRoiPool onnxruntime cannot run."""
    b = Builder(node, ctx)
    data, rois = node.inputs[:2]
    dtype = ctx.dtype(data)
    _, _, height, width = ctx.shape(data)
    pooled_h, pooled_w = (int(v) for v in node.tuple("pooled_size"))
    index, boxes, valid = _roi_parts(b, rois)
    scaled = b("Mul", boxes, b.const(node.float("spatial_scale"), dtype, "scale"))
    # C's round (half away from zero), not ONNX's Round (half to even)
    scaled = b("Mul", b("Sign", scaled), b("Floor", b("Add", b("Abs", scaled),
                                                       b.const(0.5, dtype, "half"))))
    start = b.cols(scaled, 0, 2)
    size = b("Max", b("Add", b("Sub", b.cols(scaled, 2, 2), start),
                      b.const(1.0, dtype, "one")), b.const(1.0, dtype, "one"))
    bins = b("Div", size, b.const([pooled_w, pooled_h], dtype, "pooled"))

    def masks(axis: int, pooled: int, extent: int) -> tuple[str, str]:
        """(R, P, extent) bool: position inside bin p, and (R, P) bin is empty."""
        if ctx.has_dynamic_axes:  # the extent of the feature map at run time
            dim = b.dim(data, 3 - axis)
            extent_value = b.cast(dim, dtype)
            pos = b.unsqueeze(b.cast(b.positions(dim), dtype), [0, 1])
        else:
            extent_value = b.const(float(extent), dtype, "ext")
            pos = b.const(np.arange(extent, dtype=dtype)[None, None, :], dtype, "pos")
        p = b.const(np.arange(pooled, dtype=dtype)[None, :], dtype, "bins")
        bin_size = b.cols(bins, axis, 1)
        origin = b.cols(start, axis, 1)
        low = b("Add", b("Floor", b("Mul", p, bin_size)), origin)
        high = b("Add", b("Ceil", b("Mul", b("Add", p, b.const(1.0, dtype, "one")), bin_size)),
                 origin)
        low = b("Clip", low, b.const(0.0, dtype, "zero"), extent_value)
        high = b("Clip", high, b.const(0.0, dtype, "zero"), extent_value)
        inside = b("And", b("Not", b("Less", pos, b.unsqueeze(low, [-1]), dtype=np.bool_),
                            dtype=np.bool_),
                   b("Less", pos, b.unsqueeze(high, [-1]), dtype=np.bool_), dtype=np.bool_)
        empty = b("Not", b("Greater", high, low, dtype=np.bool_), dtype=np.bool_)
        return inside, empty

    in_x, empty_x = masks(0, pooled_w, width)  # (R, PW, W)
    in_y, empty_y = masks(1, pooled_h, height)  # (R, PH, H)
    features = b("Gather", data, index, axis=0)  # (R, C, H, W)
    floor = b.const(lowest(dtype), dtype, "lowest")
    # max over w inside each width bin: (R, C, H, PW, W) -> (R, C, H, PW)
    by_x = b("ReduceMax", b("Where", b("Unsqueeze", in_x, b.i64([1, 2]), dtype=np.bool_),
                            b.unsqueeze(features, [3]), floor, dtype=dtype),
             b.i64([4]), keepdims=0)
    # then over h inside each height bin: (R, C, PH, H, PW) -> (R, C, PH, PW)
    by_y = b("ReduceMax", b("Where", b("Unsqueeze", in_y, b.i64([1, 4]), dtype=np.bool_),
                            b.unsqueeze(by_x, [2]), floor, dtype=dtype),
             b.i64([3]), keepdims=0)
    empty = b("Or", b("Reshape", empty_y, b.i64([-1, 1, pooled_h, 1]), dtype=np.bool_),
              b("Reshape", empty_x, b.i64([-1, 1, 1, pooled_w]), dtype=np.bool_),
              dtype=np.bool_)
    pooled = b("Where", empty, b.const(0.0, dtype, "zero"), by_y, dtype=dtype)
    return _zero_invalid_rois(b, pooled, valid, node.outputs[0])


@register("ROIPooling")
def roi_pooling(node: MxNode, ctx: ExportContext) -> list[str]:
    if ctx.opset >= 22:  # onnxruntime has no MaxRoiPool-22 kernel
        return [_roi_pool_decomposed(node, ctx)]
    b = Builder(node, ctx)
    index, boxes, valid = _roi_parts(b, node.inputs[1])
    rois = b("Concat", b.unsqueeze(b.cast(index, ctx.dtype(node.inputs[1])), [-1]), boxes,
             axis=-1)
    pooled = b("MaxRoiPool", node.inputs[0], rois,
               pooled_shape=[int(v) for v in node.tuple("pooled_size")],
               spatial_scale=node.float("spatial_scale"))
    return [_zero_invalid_rois(b, pooled, valid, node.outputs[0])]


def _c_round(b: Builder, x: str) -> str:
    """C's round (half away from zero); ONNX's Round rounds half to even."""
    dtype = b.ctx.dtype(x)
    return b("Mul", b("Sign", x), b("Floor", b("Add", b("Abs", x), b.const(0.5, dtype, "half"))))


def _bin_masks(b: Builder, start: str, bin_size: str, pooled: int, extent: int
               ) -> tuple[str, str]:
    """(R, P, extent) float mask of each integer bin [floor(p*s + a), ceil((p+1)*s + a))
    clipped to the extent, and the (R, P) bin sizes."""
    dtype = b.ctx.dtype(start)
    p = b.const(np.arange(pooled, dtype=dtype)[None, :], dtype, "bins")
    low = b("Floor", b("Add", b("Mul", p, bin_size), start))
    high = b("Ceil", b("Add", b("Mul", b("Add", p, b.const(1.0, dtype, "one")), bin_size),
                      start))
    zero, top = b.const(0.0, dtype, "zero"), b.const(float(extent), dtype, "extent")
    low, high = b("Clip", low, zero, top), b("Clip", high, zero, top)
    pos = b.const(np.arange(extent, dtype=dtype)[None, None, :], dtype, "pos")
    inside = b("And", b("Not", b("Less", pos, b.unsqueeze(low, [-1]), dtype=np.bool_),
                        dtype=np.bool_),
               b("Less", pos, b.unsqueeze(high, [-1]), dtype=np.bool_), dtype=np.bool_)
    return b.cast(inside, dtype), b("Max", b("Sub", high, low), zero)


@register("_contrib_PSROIPooling")
def psroi_pooling(node: MxNode, ctx: ExportContext) -> list[str]:
    """R-FCN's position-sensitive ROI pooling: the average of each integer bin, bin (i, j) of
    output channel k read from input channel (k*G + gi)*G + gj."""
    b = Builder(node, ctx)
    data, rois = node.inputs[:2]
    dtype = ctx.dtype(data)
    _, channels, height, width = ctx.shape(data)
    pooled = node.int("pooled_size")
    groups = node.int("group_size", 0) or pooled
    out_dim = node.int("output_dim")
    scale = b.const(node.float("spatial_scale"), dtype, "scale")
    index, boxes, valid = _roi_parts(b, rois)
    rounded = _c_round(b, boxes)
    start = b("Mul", b.cols(rounded, 0, 2), scale)
    end = b("Mul", b("Add", b.cols(rounded, 2, 2), b.const(1.0, dtype, "one")), scale)
    size = b("Max", b("Sub", end, start), b.const(0.1, dtype, "min_size"))
    bins = b("Div", size, b.const(float(pooled), dtype, "pooled"))
    mask_x, count_x = _bin_masks(b, b.cols(start, 0, 1), b.cols(bins, 0, 1), pooled, width)
    mask_y, count_y = _bin_masks(b, b.cols(start, 1, 1), b.cols(bins, 1, 1), pooled, height)
    features = b("Gather", data, index, axis=0)  # (R, C, H, W)
    rows = b("MatMul", b.unsqueeze(mask_y, [1]), features)  # (R, C, PH, W)
    sums = b("MatMul", rows, b("Transpose", b.unsqueeze(mask_x, [1]), perm=[0, 1, 3, 2]))
    area = b("Mul", b.unsqueeze(count_y, [2]), b.unsqueeze(count_x, [1]))  # (R, PH, PW)
    area = b.unsqueeze(area, [1])
    zero = b.const(0.0, dtype, "zero")
    mean = b("Where", b("Greater", area, zero, dtype=np.bool_),
             b("Div", sums, b("Max", area, b.const(1.0, dtype, "one"))), zero, dtype=dtype)
    pick = np.zeros((1, out_dim, pooled, pooled), np.int64)
    for k in range(out_dim):
        for i in range(pooled):
            for j in range(pooled):
                gi = min(max(i * groups // pooled, 0), groups - 1)
                gj = min(max(j * groups // pooled, 0), groups - 1)
                pick[0, k, i, j] = (k * groups + gi) * groups + gj
    if pick.max() >= channels:
        raise node.fail(f"output_dim {out_dim} x group_size^2 exceeds the {channels} channels")
    pick_index = b("Expand", b.i64(pick), b("Concat", b("Slice", b("Shape", mean, dtype=INT64),
                                                          b.i64([0]), b.i64([1]), dtype=INT64),
                                             b.i64([out_dim, pooled, pooled]), axis=0,
                                             dtype=INT64), dtype=INT64)
    picked = b("GatherElements", mean, pick_index, axis=1)
    return [_zero_invalid_rois(b, picked, valid, node.outputs[0])]


# --- region proposals (Faster R-CNN's RPN output layer) --------------------------------------
def _rpn_anchors(stride: int, scales: list[float], ratios: list[float], height: int,
                 width: int) -> np.ndarray:
    """MXNet's (py-faster-rcnn's) anchors, in its (h, w, anchor) order -> (H*W*A, 4)."""
    base_w = base_h = float(stride)
    x_ctr = y_ctr = 0.5 * (base_w - 1.0)
    size = base_w * base_h
    base = []
    for ratio in ratios:
        for scale in scales:
            size_ratio = np.floor(size / ratio)
            new_w = np.floor(np.sqrt(size_ratio) + 0.5) * scale
            new_h = np.floor((new_w / scale * ratio) + 0.5) * scale
            base.append([x_ctr - 0.5 * (new_w - 1), y_ctr - 0.5 * (new_h - 1),
                         x_ctr + 0.5 * (new_w - 1), y_ctr + 0.5 * (new_h - 1)])
    base = np.array(base, np.float64)
    shift_y, shift_x = np.meshgrid(np.arange(height) * stride, np.arange(width) * stride,
                                   indexing="ij")
    shifts = np.stack([shift_x, shift_y, shift_x, shift_y], -1).reshape(height, width, 1, 4)
    return (shifts + base[None, None]).reshape(-1, 4)


def _proposals_one_image(b: Builder, node: MxNode, scores: str, deltas: str, info: str,
                         image: int) -> tuple[str, str]:
    """RPN proposals of one image: scores (1, A, H, W) of the foreground, deltas
    (1, 4A, H, W), info (1, 3) = [height, width, scale] -> (post, 5) rois, (post, 1) scores."""
    ctx = b.ctx
    dtype = ctx.dtype(scores)
    _, anchors_n, height, width = ctx.shape(scores)
    stride = node.int("feature_stride", 16)
    scales = [float(v) for v in node.tuple("scales", (4.0, 8.0, 16.0, 32.0))]
    ratios = [float(v) for v in node.tuple("ratios", (0.5, 1.0, 2.0))]
    if node.bool("iou_loss", False):
        raise node.fail("Proposal with iou_loss=True is not supported")
    count = height * width * anchors_n
    pre = min(node.int("rpn_pre_nms_top_n", 6000), count)
    post = node.int("rpn_post_nms_top_n", 300)
    anchors = _rpn_anchors(stride, scales, ratios, height, width)
    one = b.const(1.0, dtype, "one")
    half = b.const(0.5, dtype, "half")
    flat_scores = b("Reshape", b("Transpose", scores, perm=[0, 2, 3, 1]), b.i64([count]))
    flat_deltas = b("Reshape", b("Transpose", b("Reshape", deltas, b.i64(
        [1, anchors_n, 4, height, width])), perm=[0, 3, 4, 1, 2]), b.i64([count, 4]))
    a = b.const(anchors, dtype, "anchors")
    a_wh = b("Add", b("Sub", b.cols(a, 2, 2), b.cols(a, 0, 2)), one)
    a_ctr = b("Add", b.cols(a, 0, 2), b("Mul", half, b("Sub", a_wh, one)))
    ctr = b("Add", b("Mul", b.cols(flat_deltas, 0, 2), a_wh), a_ctr)
    size = b("Mul", b("Exp", b.cols(flat_deltas, 2, 2)), a_wh)
    half_extent = b("Mul", half, b("Sub", size, one))
    im_h, im_w = b.cols(info, 0, 1), b.cols(info, 1, 1)  # (1,)
    limit = b("Sub", b("Concat", im_w, im_h, axis=0), one)  # (2,): x then y
    zero = b.const(0.0, dtype, "zero")
    low = b("Max", b("Min", b("Sub", ctr, half_extent), limit), zero)
    high = b("Max", b("Min", b("Add", ctr, half_extent), limit), zero)
    # anchors past the image's real extent (im_info / stride) score -1
    grid = np.stack(np.meshgrid(np.arange(height), np.arange(width), indexing="ij"), -1)
    positions = np.repeat(grid.reshape(-1, 1, 2), anchors_n, axis=1).reshape(-1, 2)
    real = b("Floor", b("Div", b("Concat", im_h, im_w, axis=0),
                        b.const(float(stride), dtype, "stride")))
    outside = b("Not", b("And", b("Less", b.const(positions[:, 0], dtype, "pos_h"),
                                  b("Gather", real, b.i64(0), axis=0), dtype=np.bool_),
                         b("Less", b.const(positions[:, 1], dtype, "pos_w"),
                           b("Gather", real, b.i64(1), axis=0), dtype=np.bool_),
                         dtype=np.bool_), dtype=np.bool_)
    minus_one = b.const(-1.0, dtype, "minus_one")
    flat_scores = b("Where", outside, minus_one, flat_scores, dtype=dtype)
    # boxes under the minimum size grow by min_size/2 on each side and score -1
    min_size = b("Mul", b.const(float(node.int("rpn_min_size", 16)), dtype, "min_size"),
                 b.cols(info, 2, 1))
    wh = b("Add", b("Sub", high, low), one)
    small = b("Or", b("Less", b.col(wh, 0), min_size, dtype=np.bool_),
              b("Less", b.col(wh, 1), min_size, dtype=np.bool_), dtype=np.bool_)
    grow = b("Mul", b.unsqueeze(b.cast(small, dtype), [-1]), b("Div", min_size,
                                                               b.const(2.0, dtype, "two")))
    low, high = b("Sub", low, grow), b("Add", high, grow)
    flat_scores = b("Where", small, minus_one, flat_scores, dtype=dtype)
    boxes = b("Concat", low, high, axis=-1)  # (count, 4)
    _, order = ctx.emit("TopK", [b.unsqueeze(flat_scores, [0]), b.i64([pre])], 2,
                        name=f"{node.name}_TopK", axis=1, largest=1, sorted=1)
    ctx.dtypes[order] = INT64
    order = b("Squeeze", order, b.i64([0]), dtype=INT64)
    top_boxes = b("Gather", boxes, order, axis=0)
    top_scores = b("Gather", flat_scores, order, axis=0)
    # MXNet's IoU counts pixels (area (x2-x1+1)(y2-y1+1)): NMS on boxes one pixel larger
    nms_boxes = b("Concat", b.cols(top_boxes, 0, 2), b("Add", b.cols(top_boxes, 2, 2), one),
                  axis=-1)
    selected = b("NonMaxSuppression", b.unsqueeze(b.cast(nms_boxes, np.float32), [0]),
                 b.unsqueeze(b.unsqueeze(b.cast(top_scores, np.float32), [0]), [0]),
                 b.i64([pre]), b.const([node.float("threshold", 0.7)], np.float32, "iou"),
                 b.const([float(np.finfo(np.float32).min) / 2], np.float32, "score_thr"),
                 dtype=INT64)
    kept = b("Gather", selected, b.i64(2), axis=1, dtype=INT64)
    kept_count = b("Gather", b("Shape", kept, dtype=INT64), b.i64(0), axis=0, dtype=INT64)
    cycle = b("Mod", b.positions(b.i64(post)), kept_count, fmod=0, dtype=INT64)
    picks = b("Gather", kept, cycle, axis=0, dtype=INT64)
    out_boxes = b("Gather", top_boxes, picks, axis=0)
    out_scores = b.unsqueeze(b("Gather", top_scores, picks, axis=0), [-1])
    index = b("Expand", b.const([[float(image)]], dtype, "image"), b.i64([post, 1]))
    return b("Concat", index, out_boxes, axis=-1), out_scores


@register("_contrib_Proposal", "_contrib_MultiProposal")
def proposal(node: MxNode, ctx: ExportContext) -> list[str]:
    """Faster R-CNN's RPN output layer: anchors, box decoding, clipping, the minimum-size
    filter, top-N, NMS and the first ``rpn_post_nms_top_n`` kept boxes (cycled when fewer are
    kept), exactly as MXNet's CPU kernel orders them. MultiProposal does so per image."""
    b = Builder(node, ctx)
    cls_prob, bbox_pred, im_info = node.inputs[:3]
    batch, channels, height, width = ctx.shape(cls_prob)
    if ctx.has_dynamic_axes:
        raise node.fail("Proposal needs a static batch (one proposal set per image); export "
                        "without dynamic axes")
    if node.op == "_contrib_Proposal" and batch != 1:
        raise node.fail("Proposal takes one image; use MultiProposal for a batch")
    anchors_n = channels // 2
    rois, scores = [], []
    for image in range(batch):
        take = b.i64([image])
        fg = b("Slice", cls_prob, b.i64([image, anchors_n]), b.i64([image + 1, channels]),
               b.i64([0, 1]))
        ctx.shapes[fg] = (1, anchors_n, height, width)
        deltas = b("Gather", bbox_pred, take, axis=0)
        info = b("Gather", im_info, b.i64(image), axis=0)
        r, s = _proposals_one_image(b, node, fg, deltas, info, image)
        rois.append(r)
        scores.append(s)
    out_rois = b("Concat", *rois, axis=0, out=node.outputs[0]) if len(rois) > 1 else \
        b("Identity", rois[0], out=node.outputs[0])
    outputs = [out_rois]
    if len(node.outputs) > 1:
        outputs.append(b("Concat", *scores, axis=0, out=node.outputs[1]) if len(scores) > 1
                       else b("Identity", scores[0], out=node.outputs[1]))
    return outputs
