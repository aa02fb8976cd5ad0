"""Every model of ``mxnet.gluon.model_zoo.vision`` exported to Core ML (NeuralNetwork format)
and evaluated by the independent oracle (the ONNX project's Core ML converter + onnxruntime,
``conformance.coreml_oracle``) against MXNet's forward with the zoo tolerance, at batch 1 and
at batch 3 (Core ML's batch axis is flexible in every exported model); then imported back by
serde's Core ML importer (round trip) and compared with MXNet's forward at batch 3. Models whose spec holds
a layer the oracle evaluates wrongly are evaluated by ``conformance.coreml_numpy``.

``python -m model_zoo_tests.coreml_vision [--models ci|all|NAME,...]`` writes
``reports/results/coreml_vision-cpu.jsonl`` and exits non-zero when a model fails.
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from conformance.results import read_results, results_path, write_results

from .common import tolerance_ratio
from .vision import CI_MODELS, SEED, VISION_MODELS, build_model, family, input_shape

SUITE = "coreml_vision"


def check_model(name: str, workdir: Path | None = None) -> dict[str, Any]:
    import serde
    from conformance.coreml_layers import evaluate

    ctx = mx.cpu()
    record: dict[str, Any] = {"suite": SUITE, "case": name, "model": name,
                              "family": family(name), "ctx": "cpu"}
    began = time.perf_counter()
    try:
        net = build_model(name, ctx)
        rng = np.random.default_rng(SEED + 1)
        feeds = {batch: rng.standard_normal(input_shape(name, batch)).astype(np.float32)
                 for batch in (1, 3)}
        refs = {batch: net(mx.nd.array(x, ctx=ctx)).asnumpy() for batch, x in feeds.items()}
        record["params"] = int(sum(np.prod(p.shape) for p in net.collect_params().values()))
        record["weight_bytes"] = 4 * record["params"]
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            start = time.perf_counter()
            path, spec = serde.export_model(net, output_format="coreml",
                                            filename_prefix=Path(tmp) / name,
                                            input_shapes={"data": input_shape(name)},
                                            return_model=True)
            record["export_seconds"] = time.perf_counter() - start
            record["file_bytes"] = path.stat().st_size
        record["spec_version"] = int(spec.specificationVersion)
        record["layer_count"] = len(spec.neuralNetwork.layers)
        ratios, worst = {}, 0.0
        start = time.perf_counter()
        evaluated, record["evaluator"], record["oracle_defects"] = evaluate(
            spec, *[{"data": x} for x in feeds.values()])
        record["oracle_seconds"] = time.perf_counter() - start
        for (batch, _), outputs in zip(feeds.items(), evaluated, strict=True):
            got = next(iter(outputs.values())).reshape(refs[batch].shape)
            ratios[f"batch{batch}"] = tolerance_ratio(got, refs[batch])
            worst = max(worst, float(np.abs(got - refs[batch]).max()))
        start = time.perf_counter()
        block = serde.import_model(spec, input_format="coreml")
        record["import_seconds"] = time.perf_counter() - start
        back = block(mx.nd.array(feeds[3])).asnumpy().reshape(refs[3].shape)
        ratios["roundtrip_batch3"] = tolerance_ratio(back, refs[3])
        record["roundtrip_max_abs_err"] = float(np.abs(back - refs[3]).max())
        record["max_abs_err"] = worst
        record["output_abs_max"] = float(np.abs(refs[3]).max())
        record["tolerance_ratio"] = max(ratios.values())
        bad = [f"{k} (ratio {r:.3g})" for k, r in ratios.items() if not r <= 1.0]
        record["status"] = "wrong-result" if bad else "pass"
        if bad:
            record["message"] = "out of tolerance: " + ", ".join(bad)
    except serde.UnsupportedOperatorError as err:
        record.update(status="unsupported", message=str(err)[:500])
    except Exception as err:  # noqa: BLE001 - every failure is a named record
        record.update(status="error", message=f"{type(err).__name__}: {err}"[:500])
    record["seconds"] = time.perf_counter() - began
    gc.collect()
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="ci", help="ci, all, or comma-separated names")
    parser.add_argument("--output", default=None, help="results file (default reports/results)")
    args = parser.parse_args(argv)
    names = {"all": VISION_MODELS, "ci": CI_MODELS}.get(args.models) or [
        n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in VISION_MODELS]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; known: {VISION_MODELS}")
    records = []
    for k, name in enumerate(names, 1):
        r = check_model(name)
        records.append(r)
        print(f"[{k}/{len(names)}] {r['status']:>12}  {name:<20} "
              f"ratio={r.get('tolerance_ratio', float('nan')):.3g} "
              f"max_abs={r.get('max_abs_err', float('nan')):.3g} "
              f"export={r.get('export_seconds', float('nan')):.2f}s "
              f"({r.get('weight_bytes', 0) / 2**20:.0f} MiB of weights) "
              f"{r.get('evaluator', '')} {r.get('message', '')}", flush=True)
    path = Path(args.output) if args.output else results_path(SUITE)
    fresh = {r["case"] for r in records}
    kept = [r for r in read_results(path) if r["case"] not in fresh] if path.exists() else []
    write_results(kept + records, path)
    failed = [r for r in records if r["status"] != "pass"]
    print(f"{len(records) - len(failed)} passed, {len(failed)} failed ({path})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
