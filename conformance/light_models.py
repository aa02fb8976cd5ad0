"""The 9 real models bundled in the onnx wheel (onnx/backend/test/data/light) through
serde.onnx.backend, against their stored outputs.

    python -m conformance.light_models [--ctx cpu|gpu] [--filter REGEX] [--jobs N]
                                       [--update-expected]

Inputs are made as onnx's runner makes them for these models (``Runner.generate_dummy_data``
with ``random=False``: ``arange(n).reshape(shape) / n`` in float32, for every graph input that is
not an initializer); expected outputs are ``light_<model>_output_<i>.pb``; tolerances are those
of ``onnx.backend.test.case.model``. The weights of these models are ConstantOfShape nodes, so
this also exercises constant folding. Results: reports/results/onnx_light-<ctx>.jsonl.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._suite import EXPECTED_DIR, run_suite

SUITE = "onnx_light"
EXPECTED_FILE = EXPECTED_DIR / "onnx_light.jsonc"
HEADER = """Expected failures of the onnx light models (python -m conformance.light_models).
One entry per case: "case name": "reason". The suite fails on an unexpected pass."""


def light_dir() -> Path:
    import onnx.backend.test
    return Path(onnx.backend.test.__file__).resolve().parent / "data" / "light"


def dummy_input(value: Any) -> Any:
    """Runner.generate_dummy_data(x, seed=0, random=False), reproduced."""
    import numpy as np
    tensor = value.type.tensor_type
    if tensor.elem_type != 1:
        raise ValueError(f"input {value.name!r}: only float inputs can be generated")
    shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in tensor.shape.dim)
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) / n).astype(np.float32)


def light_tasks(ctx: str = "cpu") -> list[dict[str, Any]]:
    import onnx
    from onnx import numpy_helper
    from onnx.backend.test.case.model import collect_testcases
    folder = light_dir()
    tasks = []
    for case in collect_testcases():
        if case.kind != "real" or not case.url or "/light/" not in case.url:
            continue
        path = folder / f"light_{case.model_name}.onnx"
        model = onnx.load(str(path))
        inits = {t.name for t in model.graph.initializer}
        inputs = [dummy_input(v) for v in model.graph.input if v.name not in inits]
        outputs = []
        for i in range(len(model.graph.output)):
            tensor = onnx.TensorProto()
            tensor.ParseFromString((folder / f"light_{case.model_name}_output_{i}.pb")
                                   .read_bytes())
            outputs.append(numpy_helper.to_array(tensor))
        tasks.append({
            "suite": SUITE, "case": case.name, "ctx": ctx,
            "ops": sorted({n.op_type for n in model.graph.node}),
            "opset": max([o.version for o in model.opset_import
                          if o.domain in ("", "ai.onnx")] or [0]),
            "model": model.SerializeToString(), "data_sets": [(inputs, outputs)],
            "rtol": case.rtol, "atol": case.atol,
            "device": "CUDA" if ctx == "gpu" else "CPU",
        })
    return tasks


def main(argv: Sequence[str] | None = None) -> int:
    return run_suite(suite=SUITE, description=__doc__.splitlines()[0], header=HEADER,
                     expected_file=EXPECTED_FILE, argv=argv, timeout=300.0,
                     make_tasks=lambda args: light_tasks(args.ctx))


if __name__ == "__main__":
    sys.exit(main())
