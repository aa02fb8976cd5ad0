"""The float32 noise floor of a zoo model, measured with the zoo's default tolerance two ways:
MXNet's own forward with oneDNN on against oneDNN off, and MXNet's float32 forward against the
same network cast to float64 (the exact answer, up to float64 rounding). A looser tolerance in
``tolerances.toml`` is only justified by a floor near it: a model that misses by far more than
its floor is a bug.

``python -m model_zoo_tests.noise_floor NAME [NAME ...]`` prints each model's floors (the
worst tolerance ratio over its outputs at every test size and variant).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def _forward_outputs(name: str, out_file: str, dtype: str = "float32") -> None:
    """Child process: build ``name`` and save its outputs for every variant and feed, with the
    network (and float inputs) cast to ``dtype``; dtype "onnx" saves onnxruntime's outputs of
    the float32 network exported at the default opset instead."""
    import mxnet as mx

    from .zoo import mx_forward, registry

    model = registry()[name]
    net = model.build(mx.cpu())
    feeds = model.feeds(np.random.default_rng(20261202))
    if dtype not in ("float32", "onnx"):
        net.cast(dtype)
        feeds = [{k: v.astype(dtype) if v.dtype == np.float32 else v for k, v in f.items()}
                 for f in feeds]
    saved = {}
    for variant in model.variants:
        if variant.configure is not None:
            variant.configure(net)
        run = (lambda feed: mx_forward(net, feed, mx.cpu())) if dtype != "onnx" else \
            _exported(net, model, feeds[0], Path(out_file).with_suffix(f".{variant.name}"))
        for i, feed in enumerate(feeds):
            for k, out in enumerate(run(feed)):
                saved[f"{variant.name}/{i}/{k}"] = out
    np.savez(out_file, **saved)


def _exported(net: Any, model: Any, feed: dict[str, np.ndarray], prefix: Path) -> Any:
    """onnxruntime's forward of ``net`` exported as the zoo run exports it."""
    from .zoo import export_for_zoo, ort_session

    path = export_for_zoo(net, model, feed, prefix)
    session = ort_session(path, arena=not model.heavy)
    names = [i.name for i in session.get_inputs()]
    return lambda f: session.run(None, {n: f[n] for n in names})


def _run_child(name: str, path: str, onednn: str, dtype: str) -> dict[str, np.ndarray]:
    env = {**os.environ, "MXNET_MKLDNN_ENABLED": onednn, "MXNET_SUBGRAPH_VERBOSE": "0",
           "MXNET_STORAGE_FALLBACK_LOG_VERBOSE": "0"}
    subprocess.run([sys.executable, "-m", "model_zoo_tests.noise_floor", "--child", name,
                    path, dtype], check=True, env=env)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def noise_floors(name: str, onnx: bool = False) -> dict[str, float]:
    """{"onednn": on-vs-off ratio, "float64": float32-vs-float64 ratio}, and with ``onnx``
    "onnxruntime_float64": onnxruntime's float32 run of the export against MXNet's float64
    forward (how far onnxruntime's own float32 arithmetic lands from the exact answer)."""
    from .compare import Tolerance, tolerance_ratio

    default = Tolerance()  # the floor is always measured against the default tolerance
    with tempfile.TemporaryDirectory() as tmp:
        on = _run_child(name, str(Path(tmp) / "on.npz"), "1", "float32")
        off = _run_child(name, str(Path(tmp) / "off.npz"), "0", "float32")
        exact = _run_child(name, str(Path(tmp) / "f64.npz"), "1", "float64")
        ort = _run_child(name, str(Path(tmp) / "ort.npz"), "1", "onnx") if onnx else None

    def worst(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
        return max((tolerance_ratio(a[k].astype(b[k].dtype) if a[k].dtype.kind == "f" else a[k],
                                    b[k], default) for k in b), default=0.0)
    floors = {"onednn": worst(on, off), "float64": worst(on, exact)}
    if ort is not None:
        floors["onnxruntime_float64"] = worst(ort, exact)
    return floors


def noise_floor(name: str) -> float:
    """The larger of the two floors."""
    return max(noise_floors(name).values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="+")
    parser.add_argument("--onnx", action="store_true",
                        help="also onnxruntime's float32 run of the export against float64")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _forward_outputs(*args.names[:3])
        return 0
    for name in args.names:
        floors = noise_floors(name, onnx=args.onnx)
        extra = f", onnxruntime vs float64 {floors['onnxruntime_float64']:.3g}" \
            if args.onnx else ""
        print(f"{name}: noise floor {max(floors['onednn'], floors['float64']):.3g} (oneDNN on "
              f"vs off {floors['onednn']:.3g}, float32 vs float64 {floors['float64']:.3g}"
              f"{extra}; default tolerance)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
