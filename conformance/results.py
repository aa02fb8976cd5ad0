"""Results as data: one JSON line per case, the same shape for every suite.

Every suite writes ``reports/results/<suite>-<ctx>.jsonl``; the report and the release gate read
only these files. A record has at least: suite, case, ctx, status, and where they apply ops,
opset, dtype, max_abs_err, max_rel_err, tolerance, seconds, message.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "reports" / "results"

STATUSES = ("pass", "wrong-result", "unsupported", "limitation", "error", "crash", "timeout")


def results_path(suite: str, ctx: str = "cpu", results_dir: Path | None = None) -> Path:
    return (results_dir or RESULTS_DIR) / f"{suite}-{ctx}.jsonl"


def _clean(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_results(records: Iterable[dict[str, Any]], path: Path) -> Path:
    """Write records sorted by case id, so reruns give stable diffs."""
    rows = sorted((_clean(r) for r in records), key=lambda r: (str(r.get("case")),
                                                               str(r.get("opset"))))
    for row in rows:
        if row.get("status") not in STATUSES:
            raise ValueError(f"bad status in result row: {row}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as handle:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    with open(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def error_stats(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """Max absolute and max relative error (relative to |expected|, guarded at tiny values)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.size == 0:
        return 0.0, 0.0
    diff = np.abs(actual - expected)
    diff = np.where(np.isnan(actual) & np.isnan(expected), 0.0, diff)
    rel = diff / np.maximum(np.abs(expected), 1e-12)
    return float(np.max(diff)), float(np.max(np.where(diff == 0, 0.0, rel)))
