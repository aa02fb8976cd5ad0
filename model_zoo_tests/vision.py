"""Every model of ``mxnet.gluon.model_zoo.vision``, random-init with a fixed seed, exported at
opset 13 and at the default opset, run by onnxruntime against MXNet's forward: at batch 1 from a
static export, and at batch 4 from a dynamic-batch export. Then the round trip: both files are
imported back by serde (symbolic output through the Module flow, Gluon output called directly)
and compared with the original MXNet forward.

``python -m model_zoo_tests.vision [--models ci|all|NAME,...] [--opsets 13,28] [--ctx cpu|gpu]``
writes ``reports/results/vision_zoo-<ctx>.jsonl`` and exits non-zero when a model fails.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from conformance.results import read_results, results_path, write_results

from .common import (
    calibrate_batchnorm,
    damp_residual_branches,
    gpu_available,
    mx_context,
    normalise_layer_scales,
    timed,
    tolerance_ratio,
)

VISION_MODELS = [
    "resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
    "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2",
    "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "alexnet", "densenet121", "densenet161", "densenet169", "densenet201",
    "squeezenet1.0", "squeezenet1.1", "inceptionv3",
    "mobilenet1.0", "mobilenet0.75", "mobilenet0.5", "mobilenet0.25",
    "mobilenetv2_1.0", "mobilenetv2_0.75", "mobilenetv2_0.5", "mobilenetv2_0.25",
]
#: One model of each family (plus both resnet versions): what CI runs.
CI_MODELS = ["resnet18_v1", "resnet18_v2", "vgg11_bn", "alexnet", "densenet121",
             "squeezenet1.1", "inceptionv3", "mobilenet0.25", "mobilenetv2_0.25"]
SEED = 20260101


def family(name: str) -> str:
    for prefix in ("resnet", "vgg", "alexnet", "densenet", "squeezenet", "inception",
                   "mobilenetv2", "mobilenet"):
        if name.startswith(prefix):
            return prefix
    return "other"


def input_shape(name: str, batch: int = 1) -> tuple[int, int, int, int]:
    side = 299 if name.startswith("inception") else 224
    return (batch, 3, side, side)


def build_model(name: str, ctx: mx.Context, seed: int = SEED) -> mx.gluon.HybridBlock:
    """The zoo model with seeded random weights and calibrated BatchNorm statistics."""
    from mxnet.gluon.model_zoo import vision

    mx.random.seed(seed)
    rng = np.random.default_rng(seed)
    net = vision.get_model(name, pretrained=False)
    net.initialize(mx.init.Xavier(magnitude=2.0), ctx=ctx)
    net(mx.nd.zeros(input_shape(name), ctx=ctx))  # finish deferred initialisation
    damp_residual_branches(net)
    if not calibrate_batchnorm(net, [input_shape(name)], ctx, rng):
        normalise_layer_scales(net, [input_shape(name)], ctx, rng)
    net.hybridize(static_alloc=True)
    return net


def _ort_run(path: Path, x: np.ndarray) -> tuple[np.ndarray, float]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, (os.cpu_count() or 2))
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x}
    session.run(None, feed)  # warm-up
    out, seconds = timed(lambda: session.run(None, feed)[0])
    return out, seconds


#: MXNet -> ONNX -> MXNet must reproduce MXNet's own forward to this tolerance.
ROUND_TRIP_RTOL, ROUND_TRIP_ATOL = 1e-4, 1e-5


def _module_forward(sym: mx.sym.Symbol, arg_params: dict, aux_params: dict, x: np.ndarray,
                    ctx: mx.Context) -> np.ndarray:
    """The design note's Module flow: bind, set_params, forward on a batch."""
    module = mx.mod.Module(symbol=sym, data_names=["data"], label_names=None, context=ctx)
    module.bind(for_training=False, data_shapes=[("data", x.shape)])
    module.set_params(arg_params, aux_params)
    module.forward(mx.io.DataBatch([mx.nd.array(x, ctx=ctx)]), is_train=False)
    return module.get_outputs()[0].asnumpy()


def _original_module_forward(net: mx.gluon.HybridBlock, x: np.ndarray, ctx: mx.Context
                             ) -> np.ndarray:
    """The original model run by MXNet's Module executor. MXNet's own Module and Gluon executors
    differ by up to ~1e-4 on deep nets, so each imported form is compared with the original run
    by the same executor."""
    sym = net(mx.sym.var("data"))
    params = {name: p.data(ctx) for name, p in net.collect_params().items()}
    aux_names = set(sym.list_auxiliary_states())
    return _module_forward(sym, {k: v for k, v in params.items() if k not in aux_names},
                           {k: v for k, v in params.items() if k in aux_names}, x, ctx)


def _round_trip(record: dict[str, Any], net: mx.gluon.HybridBlock, path: Path, dyn_path: Path,
                x1: np.ndarray, x4: np.ndarray, ref4: np.ndarray, ctx: mx.Context) -> list[str]:
    """Import the exported files back with serde, in both output formats, and compare with the
    original MXNet forward. Returns the names of the checks that failed."""
    import serde

    start = time.perf_counter()
    sym, params = serde.import_model(path, output_format="symbolic", ctx=ctx)
    record["import_seconds"] = time.perf_counter() - start
    arg_params, aux_params = serde.split_params(sym, params)
    out_symbolic = _module_forward(sym, arg_params, aux_params, x1, ctx)
    ref1 = _original_module_forward(net, x1, ctx)
    block = serde.import_model(dyn_path, output_format="gluon", ctx=ctx)
    out_gluon = block(mx.nd.array(x4, ctx=ctx)).asnumpy()
    failed = []
    for label, got, want in (("roundtrip_symbolic_batch1", out_symbolic, ref1),
                             ("roundtrip_gluon_batch4_dynamic", out_gluon, ref4)):
        ok = got.shape == want.shape and np.allclose(got, want, rtol=ROUND_TRIP_RTOL,
                                                     atol=ROUND_TRIP_ATOL)
        record[f"{label}_max_abs_err"] = float(np.abs(got - want).max()) \
            if got.shape == want.shape else float("inf")
        if not ok:
            failed.append(label)
    record["roundtrip_status"] = "wrong-result" if failed else "pass"
    return failed


def check_model(name: str, opsets: list[int], ctx_name: str = "cpu",
                workdir: Path | None = None, roundtrip: bool = True) -> list[dict[str, Any]]:
    """Export ``name`` at each opset and compare onnxruntime with MXNet; with ``roundtrip``,
    import the files back and compare with MXNet too. One record per opset."""
    import serde

    ctx = mx_context(ctx_name)
    records = []
    base = {"suite": "vision_zoo", "model": name, "family": family(name), "ctx": ctx_name}
    try:
        net = build_model(name, ctx)
        rng = np.random.default_rng(SEED + 1)
        x1 = rng.standard_normal(input_shape(name, 1)).astype(np.float32)
        x4 = rng.standard_normal(input_shape(name, 4)).astype(np.float32)
        ref1 = net(mx.nd.array(x1, ctx=ctx)).asnumpy()
        ref4, mx_seconds = timed(lambda: net(mx.nd.array(x4, ctx=ctx)).asnumpy(), repeat=2)
        n_params = int(sum(np.prod(p.shape) for p in net.collect_params().values()))
    except Exception as err:  # a zoo model MXNet itself cannot build is reported, not hidden
        return [{**base, "case": f"{name}@{o}", "opset": o, "status": "error",
                 "message": f"model set-up failed: {type(err).__name__}: {err}"[:500]}
                for o in opsets]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for opset in opsets:
            record = {**base, "case": f"{name}@{opset}", "opset": opset, "params": n_params,
                      "mx_seconds_batch4": mx_seconds}
            start = time.perf_counter()
            try:
                prefix = Path(tmp) / f"{name}-{opset}"
                path, model = serde.export_model(
                    net, filename_prefix=prefix, input_shapes={"data": input_shape(name)},
                    opset_version=opset, return_model=True)
                record["export_seconds"] = time.perf_counter() - start
                record["node_count"] = len(model.graph.node)
                record["file_bytes"] = path.stat().st_size
                del model
                out1, _ = _ort_run(path, x1)
                dyn_path = serde.export_model(net, filename_prefix=f"{prefix}-dyn",
                                              input_shapes={"data": input_shape(name)},
                                              opset_version=opset, dynamic_batch=True)
                out4, ort_seconds = _ort_run(dyn_path, x4)
                record["ort_seconds_batch4"] = ort_seconds
                ratios = {"batch1": tolerance_ratio(out1, ref1),
                          "batch4_dynamic": tolerance_ratio(out4, ref4)}
                record["max_abs_err"] = float(max(np.abs(out1 - ref1).max(),
                                                  np.abs(out4 - ref4).max()))
                record["max_rel_err"] = float(max(
                    (np.abs(out1 - ref1) / np.maximum(np.abs(ref1), 1e-12)).max(),
                    (np.abs(out4 - ref4) / np.maximum(np.abs(ref4), 1e-12)).max()))
                record["output_abs_max"] = float(np.abs(ref4).max())
                record["tolerance_ratio"] = max(ratios.values())
                bad = [k for k, r in ratios.items() if not r <= 1.0]
                if roundtrip:
                    bad += _round_trip(record, net, path, dyn_path, x1, x4, ref4, ctx)
                record["status"] = "wrong-result" if bad else "pass"
                if bad:
                    record["message"] = "out of tolerance: " + ", ".join(
                        f"{k} (ratio {ratios[k]:.3g})" if k in ratios else k for k in bad)
            except serde.UnsupportedOperatorError as err:
                record.update(status="unsupported", message=str(err)[:500])
            except Exception as err:
                record.update(status="error", message=f"{type(err).__name__}: {err}"[:500])
            records.append(record)
            gc.collect()
    return records


def select_models(spec: str) -> list[str]:
    if spec == "all":
        return list(VISION_MODELS)
    if spec == "ci":
        return list(CI_MODELS)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in VISION_MODELS]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; known: {VISION_MODELS}")
    return names


def main(argv: list[str] | None = None) -> int:
    from serde.onnx import DEFAULT_EXPORT_OPSET

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="ci", help="ci, all, or comma-separated names")
    parser.add_argument("--opsets", default=f"13,{DEFAULT_EXPORT_OPSET}")
    parser.add_argument("--ctx", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--output", default=None, help="results file (default reports/results)")
    args = parser.parse_args(argv)
    if args.ctx == "gpu" and not gpu_available():
        print("no GPU: the gpu run of the vision zoo is skipped")
        return 0
    opsets = [int(o) for o in args.opsets.split(",")]
    from tqdm import tqdm

    records = []
    progress = tqdm(select_models(args.models), desc="vision zoo", unit="model")
    for name in progress:
        progress.set_postfix_str(name)
        records.extend(check_model(name, opsets, args.ctx))
    path = Path(args.output) if args.output else results_path("vision_zoo", args.ctx)
    # A subset run refreshes its own models and keeps the committed records of the others.
    fresh = {r["case"] for r in records}
    kept = [r for r in read_results(path) if r["case"] not in fresh] if path.exists() else []
    write_results(kept + records, path)
    failed = [r for r in records if r["status"] != "pass"]
    for r in records:
        print(f"{r['status']:>12}  {r['case']:<24} ratio={r.get('tolerance_ratio', float('nan')):.3g} "
              f"max_abs={r.get('max_abs_err', float('nan')):.3g} "
              f"export={r.get('export_seconds', float('nan')):.2f}s  {r.get('message', '')}")
    print(f"{len(records) - len(failed)} passed, {len(failed)} failed ({path})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
