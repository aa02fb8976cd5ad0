"""The suites the report knows: one registration per results file name.

A suite is summarised by its *kind*, not by its name, so a new suite of an existing kind (a full
MXNet-operator export suite, a GluonCV or GluonNLP zoo, a round-trip suite) only needs one
``register_suite(...)`` line here and a ``reports/results/<name>-<ctx>.jsonl`` file:

- ``node``:  ONNX test graphs through the importer; records carry ``ops`` (ONNX op types),
  ``opset``, ``status``, ``max_abs_err``, ``tolerance`` {rtol, atol}.
- ``op``:    one MXNet op exported alone; records carry ``op``, ``opset``, ``status``,
  ``max_abs_err``, ``max_rel_err``, ``rtol``, ``atol``.
- ``model``: whole models; records carry ``model``, ``family``, ``opset``, ``status``,
  ``params``, ``file_bytes``, ``export_seconds`` / ``import_seconds``, ``ort_seconds_batch4``,
  ``mx_seconds_batch4``, ``max_abs_err``, ``tolerance_ratio`` (< 1 passes) - whichever apply.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["node", "op", "model"]
Direction = Literal["import", "export", "roundtrip"]
Record = dict[str, Any]


# ---- tolerance styles: how the gate checks "the error grew past its tolerance" -------------
# Each style reads the tolerance a passing record was held to (stored in the baseline) and
# decides whether a new record's error is past that *baseline* tolerance. Checking against the
# baseline's tolerance, not the record's own, catches a tolerance loosened to hide a regression.
# Records keep only the worst errors, not the reference values, so the checks are the parts of
# the element-wise bound that can be decided from them; the gate applies them only to errors
# that also grew against the baseline, so a stable error never trips it.
def _tolerance_from_fields(record: Record) -> dict[str, float] | None:
    if record.get("rtol") is None or record.get("atol") is None:
        return None
    return {"rtol": float(record["rtol"]), "atol": float(record["atol"])}


def _past_fields_tolerance(record: Record, tolerance: dict[str, float]) -> bool:
    # allclose fails only where |d| > atol + rtol*|ref|, which needs both the absolute error to
    # exceed atol and the relative error to exceed rtol.
    abs_err, rel_err = _number(record.get("max_abs_err")), _number(record.get("max_rel_err"))
    if abs_err is None or rel_err is None:
        return False
    return abs_err > tolerance["atol"] and rel_err > tolerance["rtol"]


def _tolerance_from_dict(record: Record) -> dict[str, float] | None:
    tol = record.get("tolerance")
    return {k: float(v) for k, v in tol.items()} if isinstance(tol, dict) else None


def _past_dict_tolerance(record: Record, tolerance: dict[str, float]) -> bool:
    # Node records keep only the max absolute error: past atol + rtol it is past the bound for
    # any reference of magnitude <= 1 (larger references are left to the case's status).
    abs_err = _number(record.get("max_abs_err"))
    return abs_err is not None and abs_err > tolerance.get("atol", 0.0) + tolerance.get("rtol", 0.0)


def _tolerance_from_ratio(record: Record) -> dict[str, float] | None:
    return {"ratio": 1.0} if record.get("tolerance_ratio") is not None else None


def _past_ratio_tolerance(record: Record, tolerance: dict[str, float]) -> bool:
    ratio = _number(record.get("tolerance_ratio"))
    return ratio is not None and ratio >= tolerance["ratio"]


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return float("inf")  # "inf"/"nan" strings written by results._clean: treat as huge


@dataclass(frozen=True)
class ToleranceStyle:
    read: Callable[[Record], dict[str, float] | None]
    exceeded: Callable[[Record, dict[str, float]], bool]
    describe: Callable[[dict[str, float]], str]


TOLERANCE_STYLES: dict[str, ToleranceStyle] = {
    "fields": ToleranceStyle(_tolerance_from_fields, _past_fields_tolerance,
                             lambda t: f"rtol {t['rtol']:g}, atol {t['atol']:g}"),
    "dict": ToleranceStyle(_tolerance_from_dict, _past_dict_tolerance,
                           lambda t: f"rtol {t.get('rtol', 0):g}, atol {t.get('atol', 0):g}"),
    "ratio": ToleranceStyle(_tolerance_from_ratio, _past_ratio_tolerance,
                            lambda t: "|ort-mx| <= 1e-3|mx| + 1e-4 max|mx|"),
}


@dataclass(frozen=True)
class SuiteSpec:
    name: str  # the results file stem: reports/results/<name>-<ctx>.jsonl
    title: str
    kind: Kind
    direction: Direction
    tolerance: str  # a key of TOLERANCE_STYLES
    #: Conformance module that writes the results (documentation and the report's footnotes).
    module: str = ""
    #: The non-MXNet side: "onnx" or "coreml" (each format gets its own matrices).
    format: str = "onnx"

    @property
    def tolerance_style(self) -> ToleranceStyle:
        return TOLERANCE_STYLES[self.tolerance]


SUITES: dict[str, SuiteSpec] = {}


def register_suite(spec: SuiteSpec) -> SuiteSpec:
    if spec.tolerance not in TOLERANCE_STYLES:
        raise ValueError(f"suite {spec.name}: unknown tolerance style {spec.tolerance!r}")
    SUITES[spec.name] = spec
    return spec


register_suite(SuiteSpec("onnx_node", "ONNX backend node suite", "node", "import", "dict",
                         "conformance.onnx_node_suite"))
register_suite(SuiteSpec("onnx_light", "ONNX light models", "model", "import", "dict",
                         "conformance.light_models"))
register_suite(SuiteSpec("mxnet_ops", "Single-op export suite", "op", "export", "fields",
                         "conformance.mxnet_ops"))
register_suite(SuiteSpec("vision_zoo", "Vision model zoo export", "model", "export", "ratio",
                         "model_zoo_tests.vision"))
register_suite(SuiteSpec("gluon_zoo", "GluonCV / GluonNLP zoo: export, onnxruntime, import",
                         "model", "roundtrip", "ratio", "model_zoo_tests.zoo"))
register_suite(SuiteSpec("coreml_layers", "Core ML single-layer export suite", "op", "export",
                         "fields", "conformance.coreml_layers", format="coreml"))
register_suite(SuiteSpec("coreml_import", "Core ML import of third-party models (coremltools from "
                         "PyTorch)", "model", "import", "dict", "conformance.coreml_import",
                         format="coreml"))
register_suite(SuiteSpec("coreml_vision", "Vision model zoo export to Core ML", "model",
                         "export", "ratio", "model_zoo_tests.coreml_vision", format="coreml"))
register_suite(SuiteSpec("fuzz", "Fuzz campaign: hostile and broken inputs (pass = ok or a named "
                         "SerdeError)", "fuzz", "import", "fields", "conformance.fuzz.campaign"))
# Plugged in by registration alone once their result files exist, e.g.:
# register_suite(SuiteSpec("vision_zoo_roundtrip", "Vision zoo round trip", "model",
#                          "roundtrip", "ratio", "model_zoo_tests.roundtrip"))
