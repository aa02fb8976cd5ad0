"""The release gate bites: a broken converter, a vanished case, a fallen total, a loosened
tolerance or an error grown past its tolerance fails it; a GPU baseline on a CPU box does not."""
from __future__ import annotations

import copy
import functools
import json

import pytest

from conformance.report.gate import check, dump_baseline, make_baseline
from conformance.report.sources import ExportCoverage, ResultSet

BROKEN_OP = "abs"


def _broken_registry(op: str):
    """A copy of the export registry whose converter for ``op`` emits Neg instead of Abs."""
    from serde.onnx.export.registry import EXPORT_REGISTRY, ExportRegistry

    registry = ExportRegistry()
    for name in EXPORT_REGISTRY.ops():
        for conv in EXPORT_REGISTRY.converters(name):
            if name == op:
                def wrong(node, ctx):
                    return ctx.emit("Neg", node.inputs[:1], node.outputs, name=node.name)
                registry.register(name, opset=(conv.min_opset, conv.max_opset))(wrong)
            else:
                registry.register(name, opset=(conv.min_opset, conv.max_opset))(conv.fn)
    return registry


def _run_cases(case_ids: set[str], opsets: tuple[int, ...]) -> list[dict]:
    import mxnet as mx

    from conformance.mxnet_ops import CASES, run_case
    records = [run_case(c, o, mx.cpu()) for c in CASES if c.id in case_ids for o in opsets]
    for record in records:
        record["ctx"] = "cpu"
    return records


def test_gate_fails_on_a_deliberately_broken_converter(monkeypatch):
    import serde.onnx
    from conformance.mxnet_ops import CASES

    cases = {c.id for c in CASES if c.op in (BROKEN_OP, "negative")}
    assert cases, f"no mxnet_ops case for {BROKEN_OP}"
    opsets = (13, 28)
    good = ResultSet({("mxnet_ops", "cpu"): _run_cases(cases, opsets)})
    assert all(r["status"] == "pass" for r in good.records[("mxnet_ops", "cpu")])
    baseline = json.loads(dump_baseline(make_baseline(good)))
    assert check(baseline, good).ok

    # run_case imports symbol_to_onnx from serde.onnx at call time: route it through the copy.
    monkeypatch.setattr(serde.onnx, "symbol_to_onnx", functools.partial(
        serde.onnx.symbol_to_onnx, registry=_broken_registry(BROKEN_OP)))
    broken = ResultSet({("mxnet_ops", "cpu"): _run_cases(cases, opsets)})
    gate = check(baseline, broken)
    assert not gate.ok
    failed = {line.split(": ")[1] for line in gate.problems if "pass -> " in line}
    abs_cases = {f"{c.id}@{o}" for c in CASES if c.op == BROKEN_OP for o in opsets}
    assert failed == abs_cases  # exactly the cases of the broken op, not its neighbours
    assert any("passed total fell" in line for line in gate.problems)


# ---- the rules, on synthetic records -------------------------------------------------------
def _rec(case: str, status: str = "pass", err: float = 1e-6, rel: float = 1e-3,
         rtol: float = 1e-4, atol: float = 1e-5, suite: str = "mxnet_ops", ctx: str = "cpu"
         ) -> dict:
    return {"suite": suite, "case": case, "op": "abs", "opset": 13, "status": status,
            "max_abs_err": err, "max_rel_err": rel, "rtol": rtol, "atol": atol, "ctx": ctx}


def _set(*records: dict, key: tuple[str, str] = ("mxnet_ops", "cpu")) -> ResultSet:
    return ResultSet({key: list(records)})


@pytest.fixture
def baseline() -> dict:
    return make_baseline(_set(_rec("a@13"), _rec("b@13"), _rec("c@13", "wrong-result", 1.0)))


def test_unchanged_results_pass(baseline):
    gate = check(baseline, _set(_rec("a@13"), _rec("b@13"), _rec("c@13", "error")))
    assert gate.ok, gate.problems


def test_a_newly_passing_case_is_a_note_not_a_failure(baseline):
    gate = check(baseline, _set(_rec("a@13"), _rec("b@13"), _rec("c@13")))
    assert gate.ok and any("ratchet" in note for note in gate.notes)


def test_a_missing_case_and_a_fallen_total_fail(baseline):
    gate = check(baseline, _set(_rec("a@13"), _rec("c@13", "error")))
    assert any("b@13: passed in the baseline, missing now" in p for p in gate.problems)
    assert any("total fell: 3 -> 2" in p for p in gate.problems)


def test_a_loosened_tolerance_fails(baseline):
    gate = check(baseline, _set(_rec("a@13", rtol=1e-2), _rec("b@13"), _rec("c@13", "error")))
    assert any("a@13: tolerance loosened" in p for p in gate.problems)


def test_an_error_grown_past_the_baseline_tolerance_fails(baseline):
    # Still "pass" by the record's own (loosened) tolerance, but far past the baseline's.
    grown = _rec("a@13", err=5e-3, rel=5e-2, rtol=1e-1, atol=1e-2)
    gate = check(baseline, _set(grown, _rec("b@13"), _rec("c@13", "error")))
    assert any("a@13: error grew past its tolerance" in p for p in gate.problems)
    # An error that grew but stays inside the tolerance is fine.
    inside = _rec("a@13", err=8e-6, rel=5e-5)
    assert check(baseline, _set(inside, _rec("b@13"), _rec("c@13", "error"))).ok


def test_missing_cpu_results_fail_but_missing_gpu_results_are_not_run(baseline):
    gpu_baseline = copy.deepcopy(baseline)
    gpu_baseline["suites"]["mxnet_ops-gpu"] = gpu_baseline["suites"]["mxnet_ops-cpu"]
    gate = check(gpu_baseline, _set(_rec("a@13"), _rec("b@13"), _rec("c@13", "error")))
    assert gate.ok and any("mxnet_ops-gpu: not run here" in n for n in gate.notes)
    gate = check(baseline, _set(_rec("x"), key=("vision_zoo", "cpu")))
    assert any("mxnet_ops-cpu: no results" in p for p in gate.problems)


def test_a_fallen_registry_total_fails():
    full = ExportCoverage({"abs": [(13, None, "elemwise")], "exp": [(13, None, "elemwise")]},
                          13, 28)
    fewer = ExportCoverage({"abs": [(13, None, "elemwise")]}, 13, 28)
    results = _set(_rec("a@13"))
    baseline = make_baseline(results, full)
    gate = check(baseline, results, fewer)
    assert any("registry total fell: export_ops 2 -> 1" in p for p in gate.problems)


def test_the_committed_baseline_file_is_well_formed():
    from conformance.report.gate import BASELINE_PATH
    if not BASELINE_PATH.exists():
        pytest.fail("reports/baseline.json is missing: create it with `nox -s baseline`")
    data = json.loads(BASELINE_PATH.read_text())
    assert data["suites"] and all({"total", "passed", "passing"} <= set(v)
                                  for v in data["suites"].values())
    assert dump_baseline(data) == BASELINE_PATH.read_text()
