"""The float32 noise floor of a zoo model: MXNet's own forward with oneDNN on against oneDNN off,
measured with the zoo's default tolerance. A looser tolerance in ``tolerances.toml`` is only
justified by a floor near it: a model that misses by far more than its floor is a bug.

``python -m model_zoo_tests.noise_floor NAME [NAME ...]`` prints each model's floor (the
worst tolerance ratio over its outputs at every test size and variant).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def _forward_outputs(name: str, out_file: str) -> None:
    """Child process: build ``name`` and save its outputs for every variant and feed."""
    import mxnet as mx

    from .zoo import mx_forward, registry

    model = registry()[name]
    net = model.build(mx.cpu())
    feeds = model.feeds(np.random.default_rng(20261202))
    saved = {}
    for variant in model.variants:
        if variant.configure is not None:
            variant.configure(net)
        for i, feed in enumerate(feeds):
            for k, out in enumerate(mx_forward(net, feed, mx.cpu())):
                saved[f"{variant.name}/{i}/{k}"] = out
    np.savez(out_file, **saved)


def noise_floor(name: str) -> float:
    from .compare import Tolerance, tolerance_ratio

    default = Tolerance()  # the floor is always measured against the default tolerance
    outputs = []
    with tempfile.TemporaryDirectory() as tmp:
        for onednn in ("1", "0"):
            path = str(Path(tmp) / f"out{onednn}.npz")
            env = {**os.environ, "MXNET_MKLDNN_ENABLED": onednn, "MXNET_SUBGRAPH_VERBOSE": "0",
                   "MXNET_STORAGE_FALLBACK_LOG_VERBOSE": "0"}
            subprocess.run([sys.executable, "-m", "model_zoo_tests.noise_floor", "--child",
                            name, path], check=True, env=env)
            with np.load(path) as data:
                outputs.append({k: data[k] for k in data.files})
    on, off = outputs
    return max((tolerance_ratio(on[k], off[k], default) for k in off), default=0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="+")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _forward_outputs(args.names[0], args.names[1])
        return 0
    for name in args.names:
        print(f"{name}: noise floor {noise_floor(name):.3g} (oneDNN on vs off, default "
              f"tolerance)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
