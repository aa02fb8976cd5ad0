"""Results + registries -> one summary (plain, JSON-able data). Markdown, HTML, coverage.json
and the plots are all rendered from this structure, so they cannot disagree with each other."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from .sources import (
    CTXS,
    ExportCoverage,
    ImportCoverage,
    ResultSet,
    installed_versions,
    read_expected_failures,
)
from .suites import SUITES, Record, SuiteSpec

#: Opset ranges of the node-suite headline (the exporter's range starts at 13).
NODE_OPSET_RANGES = ((1, 12), (13, 17), (18, 22), (23, None))
#: Case-id marker of the single-op suite's dynamic-first-axis variants.
DYNAMIC_VARIANT = "~dynamic_batch"
LIMITATION = ("unsupported", "limitation")  # onnx-tensorflow's split: a known limitation ...
FAILURE = ("wrong-result", "error", "crash", "timeout")  # ... versus a failure to fix

# Cell codes of the two matrices; the renderers map them to symbols and colours.
PASS, UNTESTED, EXPANDED, PARTIAL, FAIL, NONE, UNDEFINED = (
    "pass", "untested", "expanded", "partial", "fail", "none", "undefined")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def _finite(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and math.isfinite(number) else None


# ---- ONNX schema facts -----------------------------------------------------------------------
@dataclass(frozen=True)
class SchemaFacts:
    since: int | None  # since_version of the schema in force (None: op not defined yet)
    deprecated: bool
    has_function: bool  # a function body the importer can expand when it has no converter


@lru_cache(maxsize=1)
def _schemas_by_op() -> dict[str, list[Any]]:
    import onnx.defs
    by_op: dict[str, list[Any]] = defaultdict(list)
    for schema in onnx.defs.get_all_schemas_with_history():
        if schema.domain in ("", "ai.onnx"):
            by_op[schema.name].append(schema)
    return {op: sorted(s, key=lambda s: s.since_version) for op, s in sorted(by_op.items())}


def onnx_ops() -> list[str]:
    return list(_schemas_by_op())


@cache
def schema_facts(op: str, opset: int) -> SchemaFacts:
    schemas = [s for s in _schemas_by_op().get(op, ()) if s.since_version <= opset]
    if not schemas:
        return SchemaFacts(None, False, False)
    schema = schemas[-1]
    function = (schema.has_function and any(v <= opset for v in schema.function_opset_versions)) \
        or (schema.has_context_dependent_function
            and any(v <= opset for v in schema.context_dependent_function_opset_versions))
    return SchemaFacts(schema.since_version, bool(schema.deprecated), bool(function))


def _snake(op: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", op).lower()


@lru_cache(maxsize=1)
def _op_by_test_prefix() -> dict[str, str]:
    names = {}
    for op in onnx_ops():
        names[_snake(op)] = op
        names.setdefault(op.lower(), op)
    return names


def named_op(case: str) -> str | None:
    """The ONNX op a node test is named after (test_layer_normalization_2d -> LayerNormalization)."""
    words = case.removeprefix("test_").split("_")
    table = _op_by_test_prefix()
    for end in range(len(words), 0, -1):
        op = table.get("_".join(words[:end]))
        if op:
            return op
    return None


def primary_ops(record: Record) -> list[str]:
    """The ops a node case is evidence for: the op it is named after when the graph holds it,
    else every op of the graph (an `_expanded` case tests the ops of the function body)."""
    ops = list(record.get("ops") or [])
    named = named_op(str(record.get("case", "")))
    return [named] if named in ops else ops


_UNSUPPORTED_OPS = re.compile(r"^  ([\w:.]+): nodes", re.M)


def blamed_ops(record: Record) -> list[str]:
    """The ops a failing node case counts against: those the importer named as unsupported,
    else its primary ops."""
    if record.get("status") == "unsupported":
        named = _UNSUPPORTED_OPS.findall(str(record.get("message") or ""))
        if named:
            return [op.split(":")[-1] for op in named]
    ops = list(record.get("ops") or [])
    named = named_op(str(record.get("case", "")))
    if named and named not in ops and len(ops) > 1:
        # An `_expanded` case that fails: the op whose function body it spells out is what
        # fails (the importer expands that same body), not each op of the body.
        return [named]
    return primary_ops(record)


def failure_reason(record: Record, expected: dict[str, str]) -> str:
    """The reviewed reason from the expected-failure file, else one generated from the record."""
    if record["case"] in expected:
        return expected[record["case"]]
    from .._suite import reason_for
    return reason_for({**record, "status": record.get("status", "error")})


# ---- suite totals ----------------------------------------------------------------------------
def suite_totals(spec: SuiteSpec, ctx: str, records: list[Record],
                 expected: dict[str, str]) -> dict[str, Any]:
    counts = Counter(r["status"] for r in records)
    failing = [r["case"] for r in records if r["status"] != "pass"]
    return {
        "suite": spec.name, "title": spec.title, "kind": spec.kind,
        "direction": spec.direction, "ctx": ctx, "total": len(records),
        "passed": counts.get("pass", 0),
        "counts": dict(sorted(counts.items())),
        "limitations": sum(counts.get(s, 0) for s in LIMITATION),
        "failures": sum(counts.get(s, 0) for s in FAILURE),
        "expected_failures": sum(c in expected for c in failing),
        "unexpected_failures": sum(c not in expected for c in failing),
    }


def _range_label(low: int, high: int | None, newest: int) -> str:
    return f"{low}–{high if high is not None else newest}"


def node_cases_by_range(records: list[Record], newest: int) -> list[dict[str, Any]]:
    rows = []
    for low, high in NODE_OPSET_RANGES:
        top = high if high is not None else newest
        chosen = [r for r in records if low <= int(r.get("opset") or 0) <= top]
        rows.append({"range": _range_label(low, high, newest), "passed":
                     sum(r["status"] == "pass" for r in chosen), "total": len(chosen)})
    other = [r for r in records if int(r.get("opset") or 0) < 1]
    if other:
        rows.append({"range": "other domains (ai.onnx.ml, training)",
                     "passed": sum(r["status"] == "pass" for r in other), "total": len(other)})
    return rows


# ---- import matrix (ONNX op x opset) ----------------------------------------------------------
def import_matrix(records: list[Record], coverage: ImportCoverage,
                  expected: dict[str, str]) -> dict[str, Any]:
    newest = coverage.max_opset
    opsets = list(range(1, newest + 1))
    # Evidence per (op, since_version): every case counted for the op, and the failing ones.
    evidence: dict[tuple[str, int], list[tuple[str, str, str | None, bool]]] = defaultdict(list)
    other_domain: Counter[str] = Counter()
    for record in records:
        opset = int(record.get("opset") or 0)
        passed = record["status"] == "pass"
        for op in (primary_ops(record) if passed else blamed_ops(record)):
            facts = schema_facts(op, opset) if opset > 0 else SchemaFacts(None, False, False)
            if facts.since is None:
                other_domain[op] += 1
                continue
            reason = None if passed else failure_reason(record, expected)
            # direct: the case tests this op (named after it, or the graph is this op alone);
            # otherwise the op only appears inside another op's test (a function body).
            direct = named_op(record["case"]) == op or record.get("ops") == [op]
            evidence[(op, facts.since)].append((record["case"], record["status"], reason,
                                                direct))

    rows = []
    for op in onnx_ops():
        supported = set(coverage.converters.get(op, ()))
        cells, groups = [], {}
        for opset in opsets:
            facts = schema_facts(op, opset)
            if facts.since is None or facts.deprecated:
                cells.append(UNDEFINED)
                continue
            cases = evidence.get((op, facts.since), [])
            failed = [c for c in cases if c[1] != "pass"]
            has_converter = facts.since in supported
            if not has_converter and not facts.has_function:
                code = NONE
            elif failed:
                code = PARTIAL
            elif not cases:
                code = UNTESTED if has_converter else EXPANDED
            else:
                code = PASS if has_converter else EXPANDED
            cells.append(code)
            if facts.since not in groups:
                groups[facts.since] = {"since": facts.since, "first_opset": opset,
                                       "last_opset": opset, "status": code,
                                       "cases": sorted(cases)}
            groups[facts.since]["last_opset"] = opset
        if all(c == UNDEFINED for c in cells):
            continue  # removed before opset 1 of this onnx, or only ever experimental
        all_cases = [c for g in groups.values() for c in g["cases"]]
        notes = []
        for group in groups.values():
            reasons = Counter(c[2] for c in group["cases"] if c[2])
            if reasons:
                ok = sum(c[1] == "pass" for c in group["cases"])
                notes.append(f"v{group['since']}: {ok}/{len(group['cases'])} cases pass; "
                             + "; ".join(f"{r} ({n})" if n > 1 else r
                                         for r, n in reasons.most_common(3)))
        rows.append({"op": op, "family": coverage.family(op) if supported else
                     ("function body" if any(c == EXPANDED for c in cells) else "unsupported"),
                     "cells": cells, "groups": list(groups.values()),
                     "passed": sum(c[1] == "pass" for c in all_cases), "total": len(all_cases),
                     "notes": notes})
    return {"opsets": opsets, "rows": rows, "other_domains": dict(sorted(other_domain.items())),
            "counts": dict(Counter(c for row in rows for c in row["cells"][-1:]))}


# ---- export matrix (MXNet op x opset) ---------------------------------------------------------
def export_matrix(records: list[Record], coverage: ExportCoverage) -> dict[str, Any]:
    opsets = list(range(coverage.min_opset, coverage.max_opset + 1))
    by_cell: dict[tuple[str, int], list[Record]] = defaultdict(list)
    for record in records:
        by_cell[(record["op"], int(record["opset"]))].append(record)
    ops = sorted(set(coverage.converters) | {r["op"] for r in records})
    rows = []
    for op in ops:
        cells, notes = [], {}
        for opset in opsets:
            cases = by_cell.get((op, opset), [])
            failed = [r for r in cases if r["status"] != "pass"]
            if not coverage.covers(op, opset):
                code = FAIL if failed else NONE
            elif failed:
                code = PARTIAL if len(failed) < len(cases) else FAIL
            else:
                code = PASS if cases else UNTESTED
            cells.append(code)
            for r in failed:
                note = f"{r['status']}: {str(r.get('message') or '')[:160]}".rstrip(": ")
                notes.setdefault(note, []).append(r["case"])
        cases = [r for (o, _), rs in by_cell.items() if o == op for r in rs]
        rows.append({"op": op, "family": coverage.family(op), "cells": cells,
                     "passed": sum(r["status"] == "pass" for r in cases), "total": len(cases),
                     "verified": bool(cases) and all(r["status"] == "pass" for r in cases)
                     and op in coverage.converters,
                     "notes": [f"{note} ({_case_span(ids)})" for note, ids in notes.items()]})
    return {"opsets": opsets, "rows": rows}


def coreml_export_matrix(records: list[Record], expected: dict[str, str] | None = None
                         ) -> dict[str, Any]:
    """MXNet op -> how its Core ML export is checked: by the oracle (the ONNX project's Core ML
    converter + onnxruntime), by the numpy layer check where the oracle is known wrong, or not
    at all; every registered converter appears."""
    from serde.coreml.export.registry import COREML_EXPORT_REGISTRY

    by_op: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_op[record["op"]].append(record)
    # ops one converter function serves (aliases, inference identities) share one row, named
    # by the op its cases build
    groups: dict[Any, list[str]] = defaultdict(list)
    for op in sorted(set(COREML_EXPORT_REGISTRY.keys()) | set(by_op)):
        conv = COREML_EXPORT_REGISTRY.lookup(op)
        groups[conv.fn if conv else op].append(op)
    rows, defects = [], Counter()
    for ops in sorted(groups.values(), key=lambda names: min(
            (n for n in names if n in by_op), default=names[0])):
        op = min((n for n in ops if n in by_op), default=ops[0])
        also = [n for n in ops if n != op]
        cases = [r for n in ops for r in by_op.get(n, [])]
        conv = COREML_EXPORT_REGISTRY.lookup(op)
        passed = [r for r in cases if r["status"] == "pass"]
        evaluators = sorted({r.get("evaluator") for r in passed if r.get("evaluator")})
        known = [r for r in cases if r["status"] != "pass" and r["case"] in (expected or {})]
        if conv is None:
            status = "unsupported"
        elif not cases:
            status = "untested"
        elif len(passed) + len(known) < len(cases) or not passed:
            status = "failing"
        elif evaluators == ["oracle"]:
            status = "verified"
        else:
            status = "verified (numpy layer check" + (" + oracle)" if "oracle" in evaluators
                                                      else ")")
        for record in cases:
            defects.update(record.get("oracle_defects") or [])
        rows.append({"op": op, "also": also, "family": conv.family if conv else "—",
                     "status": status,
                     "passed": len(passed), "total": len(cases),
                     "spec_versions": sorted({r["spec_version"] for r in cases
                                              if r.get("spec_version")}),
                     "failures": [f"{r['case']}: expected failure: {expected[r['case']]}"
                                  if r in known else
                                  f"{r['case']}: {r['status']}: {str(r.get('message') or '')[:120]}"
                                  for r in cases if r["status"] != "pass"]})
    from serde.coreml.importer.registry import ND_REGISTRY, supported_layers, supported_mil_ops

    return {"rows": rows, "oracle_defects": sorted(defects),
            "import_layers": supported_layers(),
            "import_nd_layers": sorted(set(ND_REGISTRY.keys()) - set(supported_layers())),
            "import_mil_ops": supported_mil_ops()}


def _case_span(case_ids: list[str]) -> str:
    """'conv2d@13..28' style summary of the cases a note applies to."""
    by_id: dict[str, list[int]] = defaultdict(list)
    for case in case_ids:
        name, _, opset = case.rpartition("@")
        by_id[name].append(int(opset) if opset.isdigit() else 0)
    parts = []
    for name, opsets in sorted(by_id.items()):
        opsets.sort()
        parts.append(f"{name}@{opsets[0]}" + (f"..{opsets[-1]}" if len(opsets) > 1 else ""))
    return ", ".join(parts[:4]) + (f" and {len(parts) - 4} more" if len(parts) > 4 else "")


# ---- accuracy per op -------------------------------------------------------------------------
def accuracy(records: list[Record], spec: SuiteSpec, op_of: Any, family_of: Any
             ) -> list[dict[str, Any]]:
    """Worst error per op over the cases that produced numbers, and the tolerance held to."""
    per_op: dict[str, dict[str, Any]] = {}
    for record in records:
        abs_err = _finite(record.get("max_abs_err"))
        if abs_err is None:
            continue
        rel_err = _finite(record.get("max_rel_err"))
        tolerance = spec.tolerance_style.read(record)
        for op in op_of(record):
            row = per_op.setdefault(op, {"op": op, "family": family_of(op), "cases": 0,
                                         "worst_abs": 0.0, "worst_abs_case": None,
                                         "worst_rel": None, "tolerance": None})
            row["cases"] += 1
            if abs_err >= row["worst_abs"]:
                row["worst_abs"], row["worst_abs_case"] = abs_err, record["case"]
                row["tolerance"] = spec.tolerance_style.describe(tolerance) if tolerance else None
            if rel_err is not None:
                row["worst_rel"] = max(row["worst_rel"] or 0.0, rel_err)
    return [per_op[op] for op in sorted(per_op)]


# ---- model zoo -------------------------------------------------------------------------------
def zoo_rows(spec: SuiteSpec, ctx: str, records: list[Record]) -> list[dict[str, Any]]:
    rows = []
    # Failures first: what a release engineer needs to see without scrolling.
    for r in sorted(records, key=lambda r: (r["status"] == "pass", str(r.get("family", "")),
                                            str(r.get("model", "")), int(r.get("opset") or 0))):
        status = r["status"]
        produced = status in ("pass", "wrong-result") or r.get("export_seconds") is not None
        message = str(r.get("message") or "")
        checker = "fail" if "onnx.checker" in message or "checker" in message.lower() \
            else ("pass" if produced else "—")
        rows.append({
            "suite": spec.name, "ctx": ctx, "case": r["case"], "status": status,
            "outcome": "pass" if status == "pass" else
                       ("limitation" if status in LIMITATION else "failure"),
            "model": r.get("model") or str(r["case"]).removeprefix("test_"),
            "family": r.get("family") or "—", "params": r.get("params"),
            "file_bytes": r.get("file_bytes"), "opset": r.get("opset"),
            "checker": checker, "converted": produced,
            "ran": status in ("pass", "wrong-result") or r.get("ort_seconds_batch4") is not None,
            "max_abs_err": _finite(r.get("max_abs_err")),
            "tolerance_ratio": _finite(r.get("tolerance_ratio")),
            "export_seconds": _finite(r.get("export_seconds")),
            "import_seconds": _finite(r.get("import_seconds")) if spec.direction != "import"
            else _finite(r.get("seconds")),
            "ort_seconds": _finite(r.get("ort_seconds_batch4", r.get("ort_seconds"))),
            "mx_seconds": _finite(r.get("mx_seconds_batch4", r.get("mx_seconds"))),
            "message": message[:200],
        })
    return rows


FUZZ_OUTCOMES = ("ok", "named-error", "raw-exception", "fails-forward", "crash", "hang",
                 "partial-file", "clobbered", "escape")


def _fuzz_table(records: list[Record]) -> dict[str, Any]:
    """The fuzz campaign by input kind and outcome (conformance/fuzz/campaign.py)."""
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        by_kind[str(r.get("kind"))][str(r.get("outcome"))] += 1
    rows = [{"kind": k, "cases": sum(c.values()), **{o: c.get(o, 0) for o in FUZZ_OUTCOMES}}
            for k, c in sorted(by_kind.items())]
    return {"outcomes": list(FUZZ_OUTCOMES), "rows": rows, "cases": len(records)}


def _add_coreml_columns(zoo: list[dict[str, Any]], results: ResultSet) -> None:
    """The vision zoo's Core ML results (same models, same context) beside its ONNX ones."""
    for table in zoo:
        if table["suite"] != "vision_zoo":
            continue
        coreml = {r.get("model"): r for r in results.get("coreml_vision", table["ctx"])}
        if not coreml:
            continue
        table["coreml_columns"] = True
        for row in table["rows"]:
            r = coreml.get(row["model"])
            row["coreml"] = None if r is None else {
                "status": r["status"], "tolerance_ratio": _finite(r.get("tolerance_ratio")),
                "evaluator": r.get("evaluator"),
                "export_seconds": _finite(r.get("export_seconds")),
                "roundtrip_max_abs_err": _finite(r.get("roundtrip_max_abs_err"))}


def family_counts(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per family: models, and how many pass every case, are limitations, or fail."""
    outcomes: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        outcomes[row["family"]][row["model"]].append(row["outcome"])
    table = []
    for family in sorted(outcomes):
        models = outcomes[family]
        worst = ["failure" if "failure" in v else "limitation" if "limitation" in v else "pass"
                 for v in models.values()]
        table.append({"family": family, "models": len(models), "pass": worst.count("pass"),
                      "limitation": worst.count("limitation"),
                      "failure": worst.count("failure")})
    return table


def models_passing(rows: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """(models whose every case passes, models)."""
    by_model: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        by_model[row["model"]].append(row["status"] == "pass")
    return sum(all(v) for v in by_model.values()), len(by_model)


# ---- the whole summary -------------------------------------------------------------------------
def _run_info(history: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """Date and versions of the newest recorded run: derived from history, never from now(),
    so regenerating the report from the same files gives the same bytes."""
    if history:
        return history[-1]["date"], history[-1].get("versions") or installed_versions()
    return "", installed_versions()


def last_run_date(history: list[dict[str, Any]], ctx: str) -> str | None:
    dates = [h["date"] for h in history if any(k.endswith(f"-{ctx}") for k in h.get("suites", {}))]
    return dates[-1] if dates else None


def build_summary(results: ResultSet, history: list[dict[str, Any]],
                  export_cov: ExportCoverage, import_cov: ImportCoverage) -> dict[str, Any]:
    date, versions = _run_info(history)
    ctx_info = {}
    for ctx in CTXS:
        ran = any(c == ctx for _, c in results.records)
        ctx_info[ctx] = {"run": ran, "last_run": last_run_date(history, ctx)}

    suites, expected_by_suite = [], {}
    for name, spec in SUITES.items():
        expected = read_expected_failures(name)
        expected_by_suite[name] = expected
        for ctx in CTXS:
            if (name, ctx) in results.records:
                suites.append(suite_totals(spec, ctx, results.get(name, ctx),
                                           expected.get(ctx, {})))

    def suites_of(kind: str, direction: str | None = None, fmt: str | None = "onnx"
                  ) -> list[SuiteSpec]:
        return [s for s in SUITES.values()
                if s.kind == kind and (direction is None or s.direction == direction)
                and (fmt is None or s.format == fmt)]

    # Matrices and accuracy are drawn from the CPU results (the reference run); GPU results add
    # their own columns to the summary, the accuracy table and the zoo tables.
    node_records = [r for s in suites_of("node") for r in results.get(s.name, "cpu")]
    node_expected = {c: why for s in suites_of("node")
                     for c, why in expected_by_suite[s.name].get("cpu", {}).items()}
    op_records = [r for s in suites_of("op", "export") for r in results.get(s.name, "cpu")]
    imports = import_matrix(node_records, import_cov, node_expected)
    exports = export_matrix(op_records, export_cov)

    headline = _headline(results, ctx_info, suites_of, export_cov, import_cov)
    accuracy_rows = {"export": {}, "import": {}}
    matrix_family = {row["op"]: row["family"] for row in imports["rows"]}
    for ctx in CTXS:
        ops = [r for s in suites_of("op", "export") for r in results.get(s.name, ctx)]
        nodes = [r for s in suites_of("node") for r in results.get(s.name, ctx)]
        if ops:
            accuracy_rows["export"][ctx] = accuracy(
                ops, suites_of("op", "export")[0], lambda r: [r["op"]], export_cov.family)
        if nodes:
            accuracy_rows["import"][ctx] = accuracy(
                [r for r in nodes if r["status"] == "pass"], suites_of("node")[0], primary_ops,
                lambda op: matrix_family.get(op, import_cov.family(op)))

    zoo = [{"suite": s.name, "title": s.title, "direction": s.direction, "ctx": ctx,
            "rows": zoo_rows(s, ctx, results.get(s.name, ctx))}
           for s in suites_of("model", fmt=None) for ctx in CTXS
           if (s.name, ctx) in results.records]
    coreml_records = [r for s in suites_of("op", "export", "coreml")
                      for r in results.get(s.name, "cpu")]
    _add_coreml_columns(zoo, results)

    return {
        "date": date, "versions": versions, "ctx": ctx_info, "suites": suites,
        "unregistered_results": results.unregistered,
        "headline": headline, "import_matrix": imports, "export_matrix": exports,
        "accuracy": accuracy_rows, "zoo": zoo,
        "fuzz": _fuzz_table(results.get("fuzz", "cpu")),
        "coreml_export_matrix": coreml_export_matrix(
            coreml_records, expected_by_suite.get("coreml_layers", {}).get("cpu", {})),
        "inventory": _inventory(),
        "families": _family_stats(results, export_cov, import_cov),
        "history": [{"date": h["date"], "suites": h.get("suites", {})} for h in history],
        "registries": {
            "export": {op: [[lo, hi] for lo, hi, _ in convs]
                       for op, convs in sorted(export_cov.converters.items())},
            "import": dict(sorted(import_cov.converters.items())),
        },
    }


def _headline(results: ResultSet, ctx_info: dict[str, Any], suites_of: Any,
              export_cov: ExportCoverage, import_cov: ImportCoverage) -> list[dict[str, Any]]:
    """Rows of (label, cpu value, gpu value); a value is {"passed", "total"} or {"text"}."""
    rows: list[dict[str, Any]] = []

    def not_run(ctx: str) -> dict[str, str]:
        last = ctx_info[ctx]["last_run"]
        return {"text": f"not run (last {ctx.upper()} run: {last})" if last
                else f"not run (last {ctx.upper()} run: never)"}

    def add(label: str, per_ctx: Any) -> None:
        row = {"label": label}
        for ctx in CTXS:
            row[ctx] = per_ctx(ctx) if ctx_info[ctx]["run"] else not_run(ctx)
        rows.append(row)

    for spec in suites_of("node"):
        for low, high in NODE_OPSET_RANGES:
            label = f"{spec.title}: cases passed, opset {_range_label(low, high, import_cov.max_opset)}"

            def node_range(ctx: str, spec: SuiteSpec = spec, low: int = low,
                           high: int | None = high) -> dict[str, Any]:
                records = results.get(spec.name, ctx)
                if not records:
                    return {"text": "not run"}
                top = high if high is not None else import_cov.max_opset
                chosen = [r for r in records if low <= int(r.get("opset") or 0) <= top]
                return {"passed": sum(r["status"] == "pass" for r in chosen),
                        "total": len(chosen)}
            add(label, node_range)

    def ops_verified(ctx: str) -> dict[str, Any]:
        records = [r for s in suites_of("op", "export") for r in results.get(s.name, ctx)]
        if not records:
            return {"text": "not run"}
        by_op: dict[str, list[bool]] = defaultdict(list)
        for r in records:
            if DYNAMIC_VARIANT not in str(r["case"]):
                by_op[r["op"]].append(r["status"] == "pass")
        verified = sum(bool(v) and all(v) for op, v in by_op.items()
                       if op in export_cov.converters)
        return {"passed": verified, "total": len(export_cov.converters)}
    add("MXNet ops exported and verified (every case at every opset passes)", ops_verified)

    def ops_dynamic(ctx: str) -> dict[str, Any]:
        records = [r for s in suites_of("op", "export") for r in results.get(s.name, ctx)
                   if DYNAMIC_VARIANT in str(r["case"])]
        if not records:
            return {"text": "not run"}
        by_op: dict[str, list[bool]] = defaultdict(list)
        for r in records:
            by_op[r["op"]].append(r["status"] == "pass")
        return {"passed": sum(all(v) for v in by_op.values()), "total": len(by_op)}
    add("… of those with a batch axis, also exact with a dynamic first axis", ops_dynamic)

    def importer_round_trip(ctx: str) -> dict[str, Any]:
        records = [r for s in suites_of("op", "export") for r in results.get(s.name, ctx)
                   if "roundtrip" in r]
        if not records:
            return {"text": "not run"}
        return {"passed": sum(r["roundtrip"] == "pass" for r in records),
                "total": len(records)}
    add("Single-op cases that also round-trip through our importer (newest opset)",
        importer_round_trip)

    for spec in suites_of("op", "export"):
        add(f"{spec.title}: cases passed (op × opset)",
            lambda ctx, spec=spec: _passed_total(results.get(spec.name, ctx)))
    for spec in suites_of("model"):
        verb = {"export": "exported and matching MXNet", "import": "imported and matching",
                "roundtrip": "round-tripped"}[spec.direction]

        def models(ctx: str, spec: SuiteSpec = spec) -> dict[str, Any]:
            rows = zoo_rows(spec, ctx, results.get(spec.name, ctx))
            if not rows:
                return {"text": "not run"}
            passed, total = models_passing(rows)
            return {"passed": passed, "total": total}
        add(f"{spec.title}: models {verb} (every opset)", models)
    if not suites_of("model", "roundtrip"):
        # Export zoo suites import their files back and record it as roundtrip_status.
        def round_tripped(ctx: str) -> dict[str, Any]:
            by_model: dict[str, list[bool]] = defaultdict(list)
            for spec in suites_of("model", "export"):
                for r in results.get(spec.name, ctx):
                    by_model[r.get("model", r["case"])].append(
                        r.get("roundtrip_status") == "pass")
            if not by_model:
                return {"text": "not run"}
            return {"passed": sum(all(v) for v in by_model.values()), "total": len(by_model)}
        add("Zoo models round-tripped (MXNet → ONNX → MXNet, both output formats)",
            round_tripped)
    # Core ML: its suites by kind, and the converters registered each way
    for spec in suites_of("op", "export", "coreml"):
        add(f"{spec.title}: cases passed (through the oracle, then back through our importer)",
            lambda ctx, spec=spec: _passed_total(results.get(spec.name, ctx))
            if ctx == "cpu" else {"text": "CPU only (onnxruntime oracle)"})
    for spec in suites_of("model", None, "coreml"):
        verb = {"export": "exported and matching MXNet", "import": "imported and matching"
                " torch"}.get(spec.direction, "round-tripped")

        def coreml_models(ctx: str, spec: SuiteSpec = spec) -> dict[str, Any]:
            if ctx != "cpu":
                return {"text": "CPU only (onnxruntime oracle)"}
            records = results.get(spec.name, ctx)
            if not records:
                return {"text": "not run"}
            return {"passed": sum(r["status"] == "pass" for r in records), "total": len(records)}
        add(f"{spec.title}: {verb}", coreml_models)
    rows.append({"label": "ONNX ops with an import converter (default domain, newest opset)",
                 **{ctx: {"passed": sum(1 for v in import_cov.converters.values() if v),
                          "total": sum(1 for op in onnx_ops()
                                       if not schema_facts(op, import_cov.max_opset).deprecated
                                       and schema_facts(op, import_cov.max_opset).since)}
                    for ctx in CTXS}})
    return rows


def _inventory() -> dict[str, Any] | None:
    """MXNet's canonical ops by export status (written by the single-op suite)."""
    from ..mxnet_inventory import read_inventory

    inventory = read_inventory()
    if inventory is None:
        return None
    counts = Counter(r["status"] for r in inventory["ops"])
    return {"counts": dict(sorted(counts.items())), "ops": inventory["ops"]}


def _passed_total(records: list[Record]) -> dict[str, Any]:
    if not records:
        return {"text": "not run"}
    return {"passed": sum(r["status"] == "pass" for r in records), "total": len(records)}


def _family_stats(results: ResultSet, export_cov: ExportCoverage,
                  import_cov: ImportCoverage) -> dict[str, Any]:
    """Pass counts and errors per op family (CPU), for the plots."""
    stats: dict[str, dict[str, dict[str, Any]]] = {"export": {}, "import": {}}

    def add(direction: str, family: str, record: Record) -> None:
        entry = stats[direction].setdefault(family, {"passed": 0, "total": 0, "errors": []})
        entry["total"] += 1
        entry["passed"] += record["status"] == "pass"
        err = _finite(record.get("max_abs_err"))
        if err is not None and record["status"] in ("pass", "wrong-result"):
            entry["errors"].append(err)

    for spec in SUITES.values():
        for record in results.get(spec.name, "cpu"):
            if spec.kind == "op":
                add("export", export_cov.family(record["op"]), record)
            elif spec.kind == "node":
                families = {import_cov.family(op) for op in primary_ops(record)}
                add("import", families.pop() if len(families) == 1 else "multi-op", record)
    return {d: dict(sorted(v.items())) for d, v in stats.items()}


# ---- coverage.json ---------------------------------------------------------------------------
def coverage_document(summary: dict[str, Any], results: ResultSet) -> dict[str, Any]:
    """The machine-readable scoreboard: case ids by outcome, counts, versions, registries."""
    suites = {}
    for totals in summary["suites"]:
        name, ctx = totals["suite"], totals["ctx"]
        expected = read_expected_failures(name).get(ctx, {})
        records = results.get(name, ctx)
        failing = [r for r in records if r["status"] != "pass"]
        suites[f"{name}-{ctx}"] = {
            **{k: totals[k] for k in ("title", "kind", "direction", "total", "passed",
                                      "counts", "limitations", "failures")},
            "passed_cases": sorted(r["case"] for r in records if r["status"] == "pass"),
            "failed_cases": sorted(r["case"] for r in failing if r["case"] not in expected),
            "expected_failure_cases": sorted(r["case"] for r in failing if r["case"] in expected),
        }
    return {
        "date": summary["date"], "versions": summary["versions"],
        "ctx": summary["ctx"],
        "headline": summary["headline"],
        "suites": suites,
        "import_matrix": {row["op"]: {"family": row["family"],
                                      "opsets": _runs(row["cells"], summary["import_matrix"]
                                                      ["opsets"])}
                          for row in summary["import_matrix"]["rows"]},
        "export_matrix": {row["op"]: {"family": row["family"], "verified": row["verified"],
                                      "opsets": _runs(row["cells"], summary["export_matrix"]
                                                      ["opsets"])}
                          for row in summary["export_matrix"]["rows"]},
        "registries": summary["registries"],
    }


def _runs(cells: list[str], opsets: list[int]) -> dict[str, str]:
    """{"13-17": "pass", "18-28": "partial"}: runs of equal cells, to keep the file readable."""
    out, start = {}, 0
    for i in range(1, len(cells) + 1):
        if i == len(cells) or cells[i] != cells[start]:
            if cells[start] != UNDEFINED:
                key = f"{opsets[start]}" if i - 1 == start else f"{opsets[start]}-{opsets[i - 1]}"
                out[key] = cells[start]
            start = i
    return out
