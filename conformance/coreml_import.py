"""Third-party Core ML models through serde's Core ML importer: the fixtures of
``conformance/coreml_fixtures`` (PyTorch modules converted by coremltools' own converter, in
the NeuralNetwork and the ML Program format) imported as Gluon blocks and compared with the
PyTorch outputs saved beside them (rtol 1e-3, atol 1e-4).

``python -m conformance.coreml_import`` writes ``reports/results/coreml_import-cpu.jsonl`` and
exits non-zero when a case fails that ``expected_failures/coreml_import.jsonc`` does not list.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from ._suite import EXPECTED_DIR, read_expected
from .results import error_stats, results_path, write_results

SUITE = "coreml_import"
FIXTURES = Path(__file__).resolve().parent / "coreml_fixtures"
RTOL, ATOL = 1e-3, 1e-4
FORMATS = {".mlmodel": "neuralnetwork", ".mlpackage": "mlprogram"}


def cases() -> list[tuple[str, Path, Path]]:
    found = []
    for npz in sorted(FIXTURES.glob("*.npz")):
        for suffix, fmt in FORMATS.items():
            model = npz.with_suffix(suffix)
            if model.exists():
                found.append((f"{npz.stem}@{fmt}", model, npz))
    return found


def run_case(case: str, model: Path, npz: Path) -> dict[str, Any]:
    import serde

    name, _, fmt = case.partition("@")
    record: dict[str, Any] = {"suite": SUITE, "case": case, "model": name, "family": fmt,
                              "ctx": "cpu", "tolerance": {"rtol": RTOL, "atol": ATOL},
                              "source": "coremltools 9.0 from PyTorch 2.13"}
    start = time.perf_counter()
    try:
        data = np.load(npz)
        inputs = [data[k] for k in sorted(k for k in data.files if k.startswith("input_"))]
        expected = [data[k] for k in data.files if k.startswith("output_")]
        block = serde.import_model(str(model), input_format="coreml")
        record["import_seconds"] = time.perf_counter() - start
        got = block(*[mx.nd.array(x) for x in inputs])
        got = got if isinstance(got, (list, tuple)) else [got]
        worst, ok = 0.0, True
        for value, ref in zip(got, expected, strict=True):
            value = value.asnumpy().reshape(ref.shape)
            worst = max(worst, error_stats(value, ref)[0])
            ok &= bool(np.allclose(value, ref, rtol=RTOL, atol=ATOL))
        record.update(max_abs_err=worst, status="pass" if ok else "wrong-result")
    except Exception as err:  # noqa: BLE001 - every failure is a named record
        unsupported = isinstance(err, serde.UnsupportedOperatorError) or "not imported yet" in \
            str(err)
        record.update(status="unsupported" if unsupported else "error",
                      error_type=type(err).__name__, message=str(err)[:1000])
    record["seconds"] = time.perf_counter() - start
    return record


def main(argv: list[str] | None = None) -> int:
    expected = read_expected(EXPECTED_DIR / f"{SUITE}.jsonc")["cpu"]
    records = [run_case(*c) for c in cases()]
    for r in records:
        print(f"{r['status']:>12}  {r['case']:<36} {r.get('max_abs_err', '')} "
              f"{str(r.get('message', ''))[:160]}", flush=True)
    write_results(records, results_path(SUITE))
    failing = {r["case"] for r in records if r["status"] != "pass"}
    unexpected = sorted(failing - set(expected))
    fixed = sorted(set(expected) - failing)
    passed = len(records) - len(failing)
    by_format = {fmt: sum(r["status"] == "pass" for r in records if r["family"] == fmt)
                 for fmt in FORMATS.values()}
    print(f"{passed}/{len(records)} Core ML fixtures import and match torch ({by_format}); "
          f"unexpected failures {unexpected or 'none'}; now passing {fixed or 'none'}")
    return 1 if unexpected or fixed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
