"""Every node test case of the installed onnx package through serde.onnx.backend.

    python -m conformance.onnx_node_suite [--ctx cpu|gpu] [--filter REGEX] [--jobs N]
                                          [--update-expected]

Results: reports/results/onnx_node-<ctx>.jsonl (one JSON line per case). Expected failures, each
with a reason: conformance/expected_failures/onnx_node.jsonc. Exits non-zero on an unexpected
failure and on an unexpected pass, so the expected-failure list only shrinks.
"""
from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import Any

from ._suite import EXPECTED_DIR, run_suite

SUITE = "onnx_node"
EXPECTED_FILE = EXPECTED_DIR / "onnx_node.jsonc"
HEADER = """Expected failures of the ONNX backend node suite (python -m conformance.onnx_node_suite).
One entry per case: "case name": "reason". Reviewed like code; the list only shrinks: the suite
fails on an unexpected pass. --update-expected keeps existing reasons and adds generated ones."""


def _opset(model: Any) -> int:
    return max([o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] or [0])


def node_tasks(ctx: str = "cpu", pattern: str | None = None) -> list[dict[str, Any]]:
    import re

    from onnx.backend.test.case.node import collect_testcases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    regex = re.compile(pattern) if pattern else None
    tasks = []
    for case in cases:
        if regex is not None and not regex.search(case.name):
            continue
        model = case.model
        tasks.append({
            "suite": SUITE, "case": case.name, "ctx": ctx,
            "ops": sorted({n.op_type for n in model.graph.node}),
            "opset": _opset(model),
            "model": model.SerializeToString(),
            "data_sets": [(list(i), list(o)) for i, o in case.data_sets],
            "rtol": case.rtol, "atol": case.atol,
            "device": "CUDA" if ctx == "gpu" else "CPU",
        })
    return tasks


def main(argv: Sequence[str] | None = None) -> int:
    return run_suite(suite=SUITE, description=__doc__.splitlines()[0], header=HEADER,
                     expected_file=EXPECTED_FILE, argv=argv, timeout=60.0,
                     make_tasks=lambda args: node_tasks(args.ctx, args.filter))


if __name__ == "__main__":
    sys.exit(main())
