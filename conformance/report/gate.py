"""The release gate: compare the results with the committed ``reports/baseline.json``.

    python -m conformance.report.gate                    # exit 1 on a regression
    python -m conformance.report.gate --update-baseline  # accept the current results

The gate fails when
- a case that passes in the baseline now fails, or is gone (its suite ran but the case did not);
- a passing case's tolerance was loosened against the baseline's;
- a passing case's error grew (to over twice its baseline error) and past the baseline's
  tolerance (the checks of ``suites.TOLERANCE_STYLES``);
- a total falls: cases or passed cases of a suite, MXNet ops or (op, opset) pairs the exporter
  covers, (op, schema version) pairs the importer covers;
- a CPU suite of the baseline has no results at all.
A baseline suite on another context (GPU) with no results here is reported as not run, not
failed: CI machines without a GPU can still gate the CPU results.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sources import (
    REPORTS_DIR,
    ExportCoverage,
    ImportCoverage,
    ResultSet,
    export_coverage,
    import_coverage,
    load_results,
)
from .suites import SUITES

BASELINE_PATH = REPORTS_DIR / "baseline.json"
GROWTH = 2.0  # an error must more than double before the tolerance check applies
REQUIRED_CTX = "cpu"  # results every gated machine produces


def _sig(value: Any) -> float | None:
    """Errors rounded to 3 significant digits: small diffs when the baseline is ratcheted."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return float(f"{number:.3g}") if number == number else None


def registry_totals(export_cov: ExportCoverage | None, import_cov: ImportCoverage | None
                    ) -> dict[str, int]:
    totals = {}
    if export_cov is not None:
        totals["export_ops"] = len(export_cov.converters)
        totals["export_op_opsets"] = sum(
            export_cov.covers(op, o) for op in export_cov.converters
            for o in range(export_cov.min_opset, export_cov.max_opset + 1))
    if import_cov is not None:
        totals["import_op_versions"] = sum(len(v) for v in import_cov.converters.values())
    return totals


def make_baseline(results: ResultSet, export_cov: ExportCoverage | None = None,
                  import_cov: ImportCoverage | None = None) -> dict[str, Any]:
    suites = {}
    for (suite, ctx), records in sorted(results.records.items()):
        style = SUITES[suite].tolerance_style
        cases = {}
        for r in records:
            if r["status"] == "pass":
                entry: dict[str, Any] = {"err": _sig(r.get("max_abs_err"))}
                tolerance = style.read(r)
                if tolerance:
                    entry["tol"] = tolerance
                cases[r["case"]] = entry
        suites[f"{suite}-{ctx}"] = {"total": len(records), "passed": len(cases),
                                    "passing": dict(sorted(cases.items()))}
    return {"about": "Release-gate baseline: written by `nox -s baseline` "
                     "(python -m conformance.report.gate --update-baseline); see "
                     "conformance/report/gate.py for the rules.",
            "registries": registry_totals(export_cov, import_cov), "suites": suites}


@dataclass
class GateResult:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(baseline: dict[str, Any], results: ResultSet,
          export_cov: ExportCoverage | None = None,
          import_cov: ImportCoverage | None = None) -> GateResult:
    gate = GateResult()
    for key, base in sorted(baseline.get("suites", {}).items()):
        suite, _, ctx = key.rpartition("-")
        if suite not in SUITES:
            gate.notes.append(f"{key}: suite no longer registered; not gated")
            continue
        records = results.records.get((suite, ctx))
        if records is None:
            if ctx == REQUIRED_CTX:
                gate.problems.append(f"{key}: no results (reports/results/{key}.jsonl missing)")
            else:
                gate.notes.append(f"{key}: not run here; not gated")
            continue
        _check_suite(gate, key, SUITES[suite].tolerance_style, base, records)
    now = registry_totals(export_cov, import_cov)
    for name, before in sorted(baseline.get("registries", {}).items()):
        if name in now and now[name] < before:
            gate.problems.append(f"registry total fell: {name} {before} -> {now[name]}")
    return gate


def _check_suite(gate: GateResult, key: str, style: Any, base: dict[str, Any],
                 records: list[dict[str, Any]]) -> None:
    by_case = {r["case"]: r for r in records}
    for case, entry in base["passing"].items():
        record = by_case.get(case)
        if record is None:
            gate.problems.append(f"{key}: {case}: passed in the baseline, missing now")
            continue
        if record["status"] != "pass":
            message = str(record.get("message") or "").splitlines()[0:1]
            gate.problems.append(f"{key}: {case}: pass -> {record['status']}"
                                 + (f" ({message[0][:160]})" if message else ""))
            continue
        tolerance = entry.get("tol")
        if not tolerance:
            continue
        current = style.read(record) or {}
        loosened = [k for k, v in tolerance.items() if current.get(k, v) > v]
        if loosened:
            gate.problems.append(f"{key}: {case}: tolerance loosened: "
                                 f"{style.describe(tolerance)} -> {style.describe(current)}")
        err, base_err = _sig(record.get("max_abs_err")), entry.get("err")
        grew = err is not None and err > GROWTH * (base_err or 0.0)
        if grew and style.exceeded(record, tolerance):
            gate.problems.append(f"{key}: {case}: error grew past its tolerance: max abs "
                                 f"{base_err} -> {err} ({style.describe(tolerance)})")
    passed = sum(r["status"] == "pass" for r in records)
    if len(records) < base["total"]:
        gate.problems.append(f"{key}: total fell: {base['total']} -> {len(records)} cases")
    if passed < base["passed"]:
        gate.problems.append(f"{key}: passed total fell: {base['passed']} -> {passed}")
    newly = passed - sum(1 for c in base["passing"] if by_case.get(c, {}).get("status") == "pass")
    if newly > 0:
        gate.notes.append(f"{key}: {newly} case(s) pass that the baseline does not hold; "
                          "ratchet with `nox -s baseline`")


def read_baseline(path: Path | None = None) -> dict[str, Any]:
    path = path or BASELINE_PATH
    return json.loads(path.read_text()) if path.exists() else {}


def write_baseline(baseline: dict[str, Any], path: Path | None = None) -> Path:
    path = path or BASELINE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_baseline(baseline))
    return path


def dump_baseline(baseline: dict[str, Any]) -> str:
    """JSON with one line per case, so a ratchet shows up as a readable diff."""
    lines = ["{", f' "about": {json.dumps(baseline["about"])},',
             f' "registries": {json.dumps(baseline["registries"], sort_keys=True)},',
             ' "suites": {']
    suites = sorted(baseline["suites"].items())
    for i, (key, suite) in enumerate(suites):
        lines.append(f'  {json.dumps(key)}: {{"total": {suite["total"]}, '
                     f'"passed": {suite["passed"]}, "passing": {{')
        cases = sorted(suite["passing"].items())
        lines += [f'   {json.dumps(c)}: {json.dumps(v, sort_keys=True)}'
                  + ("," if j < len(cases) - 1 else "") for j, (c, v) in enumerate(cases)]
        lines.append("  }}" + ("," if i < len(suites) - 1 else ""))
    return "\n".join([*lines, " }", "}"]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-baseline", action="store_true",
                        help="accept the current results as the new baseline")
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--results-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    results = load_results(args.results_dir)
    export_cov, import_cov = export_coverage(), import_coverage()
    baseline = read_baseline(args.baseline)
    if args.update_baseline:
        if baseline:
            before = check(baseline, results, export_cov, import_cov)
            for line in before.problems:
                print(f"accepted: {line}")
        fresh = make_baseline(results, export_cov, import_cov)
        keep = {k: v for k, v in baseline.get("suites", {}).items()
                if k not in fresh["suites"] and not k.endswith(f"-{REQUIRED_CTX}")}
        fresh["suites"].update(keep)  # a CPU-only machine keeps the GPU baseline it cannot see
        path = write_baseline(fresh, args.baseline)
        print(f"baseline written: {path} ("
              + ", ".join(f"{k}: {v['passed']}/{v['total']}"
                          for k, v in sorted(fresh["suites"].items())) + ")")
        return 0
    if not baseline:
        print("gate: no baseline yet (reports/baseline.json); create one with `nox -s baseline`")
        return 1
    gate = check(baseline, results, export_cov, import_cov)
    for line in gate.notes:
        print(f"note: {line}")
    if gate.ok:
        print("gate: OK - nothing that passes in the baseline fails, no total fell")
        return 0
    print(f"gate: FAILED - {len(gate.problems)} regression(s) against reports/baseline.json:")
    for line in gate.problems[:200]:
        print(f"  {line}")
    if len(gate.problems) > 200:
        print(f"  ... and {len(gate.problems) - 200} more")
    print("Fix them, or accept them deliberately: nox -s conformance -- --update-baseline "
          "(or nox -s baseline).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
