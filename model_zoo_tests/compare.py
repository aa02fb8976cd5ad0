"""Output comparisons for the zoo: element-wise against a scale-aware tolerance, and detections
as score-sorted, IoU-matched sets (post-NMS outputs of random-weight detectors are full of
near-ties, so their order is not a property of the conversion)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """|got - want| <= rel*|want| + abs_of_max*max|want| (+ abs), element-wise."""

    rel: float = 1e-3
    abs_of_max: float = 1e-4
    abs: float = 0.0
    #: detections only: the fraction of an image's detections that may lack a match (and by
    #: which the valid counts may differ); 0 unless the tolerance file gives it with a reason
    unmatched: float = 0.0

    def scaled(self, factor: float) -> Tolerance:
        return Tolerance(self.rel * factor, self.abs_of_max * factor, self.abs * factor,
                         self.unmatched)


def tolerance_ratio(got: np.ndarray, want: np.ndarray, tol: Tolerance) -> float:
    """max |got - want| / bound: at most 1 passes. Integer outputs must match exactly."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return float("inf")
    if not want.size:
        return 0.0
    if want.dtype.kind in "iub" and got.dtype.kind in "iub":
        return 0.0 if np.array_equal(got, want) else float("inf")
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    same_nonfinite = (~np.isfinite(want64)) & (got64 == want64)
    diff = np.where(same_nonfinite, 0.0, np.abs(got64 - want64))
    if not np.all(np.isfinite(diff)):
        return float("inf")
    finite = np.abs(want64[np.isfinite(want64)])
    scale = finite.max() if finite.size else 0.0
    bound = tol.rel * np.abs(np.where(np.isfinite(want64), want64, 0)) + tol.abs_of_max * scale \
        + tol.abs
    bound = np.where(bound == 0, np.finfo(np.float64).tiny, bound)
    return float(np.max(diff / bound))


def dense_ratio(got: list[np.ndarray], want: list[np.ndarray], tol: Tolerance) -> float:
    if len(got) != len(want):
        return float("inf")
    return max((tolerance_ratio(g, w, tol) for g, w in zip(got, want, strict=True)), default=0.0)


def max_abs_err(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    worst = 0.0
    for g, w in zip(got, want, strict=False):
        if np.shape(g) != np.shape(w):
            return float("inf")
        if np.size(w):
            diff = np.abs(np.asarray(g, np.float64) - np.asarray(w, np.float64))
            diff = diff[~np.isnan(diff)] if np.isnan(diff).any() else diff
            worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)  # noqa: E731
    union = area(box) + area(boxes) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), (box == boxes).all(-1) * 1.0)


#: matched boxes must overlap at least this much: boxes are decoded from the same regressions
MIN_IOU = 0.99


def _tied_at_cut(missed: list[int], left: np.ndarray, scores_w: np.ndarray,
                 valid_w: np.ndarray, scores_g: np.ndarray, tol: Tolerance,
                 score_scale: float) -> int:
    """How many unmatched detections a tie at a top-k cut explains: a fixed number of
    candidates is kept, and where the last kept score and the first dropped one agree within
    the score tolerance, the two runtimes may keep different ones. Each such pair is a wanted
    detection at the cut (within tolerance of the lowest wanted score) and a leftover of the
    other side with the same score, within tolerance."""
    cut = float(scores_w[valid_w].min()) if len(valid_w) else 0.0
    # leftovers sorted by score, so each missed detection looks only at the scores near its
    # own; within that window the partner is the first leftover in detection order
    by_score = np.argsort(scores_g[left], kind="stable")
    pool = left[by_score]
    pool_scores = np.asarray(scores_g[pool], np.float64)
    used = np.zeros(len(pool), bool)
    tied = 0
    for i in missed:
        s_w = float(scores_w[i])
        bound = tol.rel * abs(s_w) + tol.abs_of_max * score_scale + tol.abs
        if abs(s_w - cut) > bound:
            continue
        lo = np.searchsorted(pool_scores, s_w - bound, side="left")
        hi = np.searchsorted(pool_scores, s_w + bound, side="right")
        window = lo + np.flatnonzero(~used[lo:hi])
        if window.size:
            used[window[np.argmin(pool[window])]] = True
            tied += 1
    return tied


def match_detections(got: list[np.ndarray], want: list[np.ndarray], tol: Tolerance
                     ) -> dict[str, Any]:
    """Compare (ids, scores, boxes[, masks]) per image as sets. Valid detections (id >= 0) must
    agree in number; each wanted detection, best score first, takes the unmatched detection of
    the same class that overlaps it most, which must overlap by ``MIN_IOU`` and agree in score
    (and mask) within ``tol``; detections left unmatched on both sides at a top-k cut with
    tied scores are counted apart (``tied_at_cut``). Returns counts and worst values; ``ok``
    says whether it passed."""
    if len(got) != len(want) or len(want) < 3:
        return {"ok": False, "reason": f"{len(got)} outputs, expected {len(want)}"}
    shapes_ok = all(np.shape(g) == np.shape(w) for g, w in zip(got, want, strict=True))
    if not shapes_ok:
        return {"ok": False, "reason": "output shapes differ: "
                f"{[np.shape(g) for g in got]} vs {[np.shape(w) for w in want]}"}
    ids_g, scores_g, boxes_g = (np.asarray(a, np.float64) for a in got[:3])
    ids_w, scores_w, boxes_w = (np.asarray(a, np.float64) for a in want[:3])
    masks_g = np.asarray(got[3], np.float64) if len(got) > 3 else None
    masks_w = np.asarray(want[3], np.float64) if len(want) > 3 else None
    score_scale = float(np.abs(scores_w).max()) if scores_w.size else 0.0
    finite = boxes_w[np.isfinite(boxes_w)]
    box_scale = float(np.abs(finite).max()) if finite.size else 0.0
    result = {"ok": True, "valid": 0, "unmatched": 0, "min_iou": 1.0, "score_ratio": 0.0,
              "mask_ratio": 0.0}
    for b in range(ids_w.shape[0]):
        valid_w = np.flatnonzero(ids_w[b].reshape(-1) >= 0)
        valid_g = np.flatnonzero(ids_g[b].reshape(-1) >= 0)
        result["valid"] += len(valid_w)
        allowed = int(np.floor(tol.unmatched * len(valid_w)))
        if abs(len(valid_w) - len(valid_g)) > allowed:
            result.update(ok=False, reason=f"image {b}: {len(valid_g)} valid detections, "
                                           f"expected {len(valid_w)}")
            return result
        result["allowed"] = result.get("allowed", 0) + allowed
        order_w = valid_w[np.argsort(-scores_w[b].reshape(-1)[valid_w], kind="stable")]
        # Unmatched detections of the other side by class: deployed COCO R-CNNs keep every
        # one of 80 x 1000 candidates, so each wanted detection looks only at its own class.
        flat_ids_g, flat_ids_w = ids_g[b].reshape(-1), ids_w[b].reshape(-1)
        flat_boxes_g, flat_boxes_w = boxes_g[b].reshape(-1, 4), boxes_w[b].reshape(-1, 4)
        flat_scores_g, flat_scores_w = scores_g[b].reshape(-1), scores_w[b].reshape(-1)
        classes_g = flat_ids_g[valid_g]
        by_class = {c: valid_g[classes_g == c] for c in np.unique(classes_g)}
        no_match = valid_g[:0]
        free = np.zeros(len(flat_ids_g), bool)
        free[valid_g] = True
        missed: list[int] = []
        for i in order_w:
            same_class = by_class.get(flat_ids_w[i], no_match)
            cand = same_class[free[same_class]]
            if not cand.size:
                missed.append(int(i))
                continue
            box_w = flat_boxes_w[i]
            near = flat_boxes_g[cand]
            ious = _iou(box_w, near)
            # equal within the tolerance counts too: a near-degenerate box (random weights
            # decode boxes a fraction of a pixel wide) loses IoU to rounding alone
            close = (np.abs(near - box_w) <= tol.rel * np.abs(box_w) + tol.abs_of_max
                     * box_scale + tol.abs).all(axis=1)
            ious = np.where(close, np.maximum(ious, 1.0), ious)
            best = int(np.argmax(ious))
            j = int(cand[best])
            if ious[best] < MIN_IOU:
                missed.append(int(i))
                result.setdefault("first_unmatched", {
                    "image": b, "score": float(flat_scores_w[i]),
                    "box": box_w.round(4).tolist(), "best_iou": round(float(ious[best]), 4),
                    "nearest": near[best].round(4).tolist()})
                continue
            free[j] = False
            result["min_iou"] = min(result["min_iou"], float(ious[best]))
            s_w, s_g = flat_scores_w[i], flat_scores_g[j]
            bound = tol.rel * abs(s_w) + tol.abs_of_max * score_scale + tol.abs
            result["score_ratio"] = max(result["score_ratio"],
                                        abs(s_g - s_w) / bound if bound else float(s_g != s_w))
            if masks_w is not None and masks_g is not None:
                result["mask_ratio"] = max(result["mask_ratio"], tolerance_ratio(
                    masks_g[b][j], masks_w[b][i], tol))
        tied = _tied_at_cut(missed, np.flatnonzero(free), flat_scores_w, valid_w,
                            flat_scores_g, tol, score_scale)
        result["tied_at_cut"] = result.get("tied_at_cut", 0) + tied
        result["unmatched"] += len(missed) - tied
    result["unmatched_fraction"] = result["unmatched"] / max(result["valid"], 1)
    if result["unmatched"] > result.get("allowed", 0):
        first = result.get("first_unmatched", {})
        result.update(ok=False, reason=f"{result['unmatched']} of {result['valid']} detections "
                                       f"have no match (same class, IoU >= {MIN_IOU}); first: "
                                       f"score {first.get('score', float('nan')):.4g}, box "
                                       f"{first.get('box')}, best IoU {first.get('best_iou')} "
                                       f"with {first.get('nearest')}")
    elif result["score_ratio"] > 1 or result["mask_ratio"] > 1:
        result.update(ok=False, reason=f"matched detections differ: score ratio "
                                       f"{result['score_ratio']:.3g}, mask ratio "
                                       f"{result['mask_ratio']:.3g}")
    return result
