"""The zoo's comparisons must fail when outputs differ: element-wise ratios, and detections as
IoU-matched sets (order-free, but counts, classes, boxes and scores must agree)."""
from __future__ import annotations

import numpy as np

from model_zoo_tests.compare import Tolerance, dense_ratio, match_detections, tolerance_ratio


def _detections(rng: np.random.Generator, n: int = 6, pad: int = 4):
    ids = rng.integers(0, 3, (1, n, 1)).astype(np.float32)
    scores = np.sort(rng.random((1, n, 1)).astype(np.float32), axis=1)[:, ::-1]
    xy = rng.random((1, n, 2)).astype(np.float32) * 100
    boxes = np.concatenate([xy, xy + 10 + rng.random((1, n, 2)).astype(np.float32)], -1)
    padded = [np.concatenate([a, np.full((1, pad, a.shape[2]), -1, np.float32)], 1)
              for a in (ids, scores, boxes)]
    return padded


def test_tolerance_ratio_scales_with_the_output():
    tol = Tolerance()
    want = np.array([1000.0, 1.0], np.float32)
    assert tolerance_ratio(want + np.array([0.05, 0.0], np.float32), want, tol) < 1
    assert tolerance_ratio(want + np.array([0.0, 0.2], np.float32), want, tol) > 1
    assert tolerance_ratio(want[:1], want, tol) == float("inf")
    assert dense_ratio([want], [want, want], tol) == float("inf")
    assert tolerance_ratio(np.array([1, 2]), np.array([1, 3]), tol) == float("inf")


def test_detections_match_in_any_order_but_not_when_they_differ():
    tol = Tolerance()
    want = _detections(np.random.default_rng(0))
    order = np.array([3, 1, 0, 5, 2, 4, 6, 7, 8, 9])
    shuffled = [a[:, order] for a in want]
    assert match_detections(shuffled, want, tol)["ok"]
    moved = [a.copy() for a in want]
    moved[2][0, 0] += 5.0  # one box shifted: no IoU match
    assert not match_detections(moved, want, tol)["ok"]
    relabelled = [a.copy() for a in want]
    relabelled[0][0, 1] = (relabelled[0][0, 1] + 1) % 3
    assert not match_detections(relabelled, want, tol)["ok"]
    rescored = [a.copy() for a in want]
    rescored[1][0, 2] += 0.01
    assert not match_detections(rescored, want, tol)["ok"]
    fewer = [a.copy() for a in want]
    fewer[0][0, 5] = -1
    result = match_detections(fewer, want, tol)
    assert not result["ok"] and "valid detections" in result["reason"]


def test_documented_unmatched_fraction_allows_that_many_and_no_more():
    rng = np.random.default_rng(9)
    want = _detections(rng, n=200, pad=10)
    got = [a.copy() for a in want]
    got[0][0, 5, 0] = -1  # one detection dropped (a flipped NMS decision)
    strict = match_detections(got, want, Tolerance())
    assert not strict["ok"]
    loose = match_detections(got, want, Tolerance(unmatched=0.01))
    assert loose["ok"] and loose["unmatched"] == 1
    assert abs(loose["unmatched_fraction"] - 1 / 200) < 1e-9
    for i in range(6, 10):  # five of 200 missing: over 1%
        got[0][0, i, 0] = -1
    assert not match_detections(got, want, Tolerance(unmatched=0.01))["ok"]


def test_a_tie_at_the_top_k_cut_is_told_apart_from_a_wrong_detection():
    want = _detections(np.random.default_rng(5), n=8)
    last = 7  # the lowest kept score: the top-k cut
    tied = [a.copy() for a in want]
    tied[2][0, last] += 30.0  # another candidate kept in its place ...
    tied[1][0, last] += 1e-7  # ... whose score ties the cut
    result = match_detections(tied, want, Tolerance())
    assert result["ok"] and result["tied_at_cut"] == 1 and result["unmatched"] == 0
    above = [a.copy() for a in want]
    above[2][0, 3] += 30.0  # a detection above the cut replaced: wrong, whatever the scores
    assert not match_detections(above, want, Tolerance())["ok"]
    rescored = [a.copy() for a in tied]
    rescored[1][0, last] -= 0.05  # the replacement scores clearly apart from the cut
    assert not match_detections(rescored, want, Tolerance())["ok"]


def test_degenerate_boxes_match_within_tolerance_but_not_when_moved():
    want = _detections(np.random.default_rng(6), n=5)
    want[2][0, 1] = [40.0, 40.0, 40.001, 40.0005]  # a box a thousandth of a pixel wide
    got = [a.copy() for a in want]
    got[2][0, 1] += [0.0, 0.0, 0.0007, -0.0004]  # IoU ~0.3, coordinates within tolerance
    assert match_detections(got, want, Tolerance())["ok"]
    got[2][0, 1] += [0.5, 0.0, 0.5, 0.0]  # moved by half a pixel: a different box
    result = match_detections(got, want, Tolerance())
    assert not result["ok"] and result["first_unmatched"]["score"] == float(want[1][0, 1, 0])
