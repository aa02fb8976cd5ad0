"""What runs inside a worker: one backend test case through serde.onnx.backend, compared the way
onnx's own runner compares (output count, shape, dtype, then assert_allclose)."""
from __future__ import annotations

import time
import traceback
from typing import Any

import numpy as np

from .results import error_stats


def _normalize(value: Any) -> Any:
    import onnx
    from onnx import numpy_helper
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    return value


def classify(err: BaseException) -> str:
    from serde.errors import SerdeError
    if isinstance(err, AssertionError):
        return "wrong-result"
    if isinstance(err, SerdeError):
        return "unsupported"
    return "error"


def compare(outputs: list[Any], expected: list[Any], rtol: float, atol: float) -> float:
    """Raise AssertionError on a mismatch; return the max abs error."""
    if len(outputs) != len(expected):
        raise AssertionError(f"{len(outputs)} outputs, expected {len(expected)}")
    worst = 0.0
    for i, (out, ref) in enumerate(zip(outputs, expected, strict=False)):
        if isinstance(ref, (list, tuple)) or ref is None:
            raise AssertionError(f"output {i}: sequence/optional outputs are not supported")
        ref = np.asarray(ref)
        out = np.asarray(out)
        if out.shape != ref.shape:
            raise AssertionError(f"output {i} has shape {out.shape}, expected {ref.shape}")
        if out.dtype != ref.dtype:
            raise AssertionError(f"output {i} has dtype {out.dtype}, expected {ref.dtype}")
        if ref.dtype != object and ref.size:
            abs_err, _ = error_stats(out, ref)
            worst = max(worst, abs_err) if np.isfinite(abs_err) else worst
            np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol,
                                       err_msg=f"output {i}")
    return worst


def run_case(task: dict[str, Any]) -> dict[str, Any]:
    """task: name, model (bytes), data_sets [(inputs, outputs)], rtol, atol, device."""
    import onnx
    started = time.monotonic()
    record = {k: task[k] for k in ("suite", "case", "ctx", "ops", "opset")}
    record.update(status="pass", max_abs_err=None, tolerance={"rtol": task["rtol"],
                                                              "atol": task["atol"]})
    try:
        import serde.onnx.backend as backend
        model = onnx.ModelProto()
        model.ParseFromString(task["model"])
        rep = backend.prepare(model, task["device"])
        worst = 0.0
        for inputs, outputs in task["data_sets"]:
            got = rep.run([_normalize(x) for x in inputs])
            worst = max(worst, compare(list(got), [_normalize(y) for y in outputs],
                                       task["rtol"], task["atol"]))
        record["max_abs_err"] = worst
    except Exception as err:  # noqa: BLE001 - every failure is a result
        record["status"] = classify(err)
        record["error_type"] = type(err).__name__
        message = str(err).strip() or repr(err)
        record["message"] = message[:1000]
        if record["status"] == "error":
            record["traceback"] = "".join(traceback.format_exception(err)[-3:])[-2000:]
    record["seconds"] = round(time.monotonic() - started, 4)
    return record
