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


def match_detections(got: list[np.ndarray], want: list[np.ndarray], tol: Tolerance
                     ) -> dict[str, Any]:
    """Compare (ids, scores, boxes[, masks]) per image as sets. Valid detections (id >= 0) must
    agree in number; each wanted detection, best score first, takes the unmatched detection of
    the same class that overlaps it most, which must overlap by ``MIN_IOU`` and agree in score
    (and mask) within ``tol``. Returns counts and worst values; ``ok`` says whether it passed."""
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
        free = set(valid_g.tolist())
        for i in order_w:
            candidates = [j for j in free if ids_g[b].reshape(-1)[j] == ids_w[b].reshape(-1)[i]]
            if not candidates:
                result["unmatched"] += 1
                continue
            cand = np.array(candidates)
            ious = _iou(boxes_w[b].reshape(-1, 4)[i], boxes_g[b].reshape(-1, 4)[cand])
            best = int(np.argmax(ious))
            j = int(cand[best])
            if ious[best] < MIN_IOU:
                result["unmatched"] += 1
                continue
            free.discard(j)
            result["min_iou"] = min(result["min_iou"], float(ious[best]))
            s_w = scores_w[b].reshape(-1)[i]
            s_g = scores_g[b].reshape(-1)[j]
            bound = tol.rel * abs(s_w) + tol.abs_of_max * score_scale + tol.abs
            result["score_ratio"] = max(result["score_ratio"],
                                        abs(s_g - s_w) / bound if bound else float(s_g != s_w))
            if masks_w is not None and masks_g is not None:
                result["mask_ratio"] = max(result["mask_ratio"], tolerance_ratio(
                    masks_g[b][j], masks_w[b][i], tol))
    result["unmatched_fraction"] = result["unmatched"] / max(result["valid"], 1)
    if result["unmatched"] > result.get("allowed", 0):
        result.update(ok=False, reason=f"{result['unmatched']} of {result['valid']} detections "
                                       f"have no match (same class, IoU >= {MIN_IOU})")
    elif result["score_ratio"] > 1 or result["mask_ratio"] > 1:
        result.update(ok=False, reason=f"matched detections differ: score ratio "
                                       f"{result['score_ratio']:.3g}, mask ratio "
                                       f"{result['mask_ratio']:.3g}")
    return result
