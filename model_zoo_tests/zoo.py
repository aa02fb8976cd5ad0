"""The GluonCV and GluonNLP model zoos, exported to ONNX, run by onnxruntime and imported back.

For every model (random weights, fixed seeds) and every opset: export with the dynamic axes of its
registry entry, ``onnx.checker.check_model(full_check=True)``, run onnxruntime at two input sizes
(two batch sizes, two image sizes or two sequence lengths) against MXNet's forward, import the
file back with serde as a Symbol (run by a Module) and as a Gluon block, and compare those with
MXNet too. Detectors are checked twice: NMS off (head outputs, element-wise) and as deployed
(detections as IoU-matched sets). Tolerances and documented limitations live in
``tolerances.toml``.

``python -m model_zoo_tests.zoo [--models ci|all|family:NAME|NAME,...] [--opsets 13,28]
[--jobs N] [--force] [--check-fresh]`` writes ``reports/results/gluon_zoo-<ctx>.jsonl``. A run
of ``all`` skips models whose records are still fresh (measured with the converters as they
are), so an interrupted run resumes where it stopped; ``--force`` re-measures everything.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fnmatch
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import tomllib
import traceback
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from conformance.results import read_results, results_path, write_results

from .compare import Tolerance, dense_ratio, match_detections, max_abs_err
from .spec import Feed, NetworkDisabled, ZooModel

SUITE = "gluon_zoo"
TOLERANCES_FILE = Path(__file__).with_name("tolerances.toml")
#: seconds one model (all its opsets and variants) may take before its worker is stopped
MODEL_TIMEOUT = 3600.0
LATENCY_RUNS = 5


@cache
def registry() -> dict[str, ZooModel]:
    from . import gluoncv_models

    models = gluoncv_models.all_models()
    try:
        from . import gluonnlp_models
    except ImportError:  # gluonnlp registry not present
        pass
    else:
        models += gluonnlp_models.all_models()
    return {m.name: m for m in models}


@cache
def expectations() -> dict[str, Any]:
    with open(TOLERANCES_FILE, "rb") as handle:
        return tomllib.load(handle)


def _entry(table: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A model's entry: its own name, else the first glob pattern that matches it."""
    if name in table:
        return table[name]
    return next((v for k, v in table.items() if any(c in k for c in "*?[")
                 and fnmatch.fnmatchcase(name, k)), None)


def tolerance_for(name: str) -> tuple[Tolerance, str]:
    data = expectations()
    default = Tolerance(**{k: float(v) for k, v in data["default"].items()})
    entry = _entry(data.get("models", {}), name)
    if not entry:
        return default, ""
    tol = default.scaled(float(entry.get("factor", 1.0)))
    tol = dataclasses.replace(tol, unmatched=float(entry.get("unmatched", 0.0)))
    return tol, str(entry.get("reason", ""))


def limitation_of(name: str, opset: int | None = None) -> str | None:
    """The documented reason ``name`` fails (at ``opset``, where the entry names opsets)."""
    entry = _entry(expectations().get("limitations", {}), name)
    if not entry or (opset is not None and "opsets" in entry
                     and opset not in entry["opsets"]):
        return None
    return str(entry["reason"])


# --- running the three runtimes --------------------------------------------------------------


def _as_list(out: Any) -> list[Any]:
    if isinstance(out, (list, tuple)):
        return [x for item in out for x in _as_list(item)]
    return [out]


def mx_forward(net: Any, feed: Feed, ctx: Any) -> list[np.ndarray]:
    import mxnet as mx

    out = net(*[mx.nd.array(v, ctx=ctx, dtype=v.dtype) for v in feed.values()])
    return [o.asnumpy() for o in _as_list(out)]


def _layout(rank: int, batch_axis: int | None) -> str | None:
    """A DataDesc layout naming the batch axis (Module checks batch sizes along 'N')."""
    if batch_axis in (None, 0):
        return None  # MXNet's default: batch first
    letters = [c for c in "ABCDEFGHIJKLM"][:rank]
    letters[batch_axis] = "N"
    return "".join(letters)


def module_forward(sym: Any, arg_params: dict, aux_params: dict, feed: Feed, ctx: Any,
                   dynamic_axes: Any = None) -> list[np.ndarray]:
    """The design note's Module flow: bind, set_params, forward. Inputs whose batch axis is
    not the first (time-major language models) say so in their layout."""
    import mxnet as mx

    def batch_axis(name: str) -> int | None:
        axes = (dynamic_axes or {}).get(name, {})
        return next((a for a, n in axes.items() if n == "batch"), None)

    descs = []
    for k, v in feed.items():
        layout = _layout(v.ndim, batch_axis(k))
        descs.append(mx.io.DataDesc(k, v.shape, v.dtype, **({"layout": layout} if layout
                                                            else {})))
    module = mx.mod.Module(symbol=sym, data_names=list(feed), label_names=None, context=ctx)
    module.bind(for_training=False, data_shapes=descs)
    module.set_params(arg_params, aux_params, allow_missing=False)
    module.forward(mx.io.DataBatch([mx.nd.array(v, ctx=ctx, dtype=v.dtype)
                                    for v in feed.values()]), is_train=False)
    return [o.asnumpy() for o in module.get_outputs()]


def export_for_zoo(net: Any, model: ZooModel, feed: Feed, prefix: Path,
                   opset: int | None = None, **kwargs: Any) -> Any:
    """``serde.export_model`` as the zoo exports: the first feed's shapes and dtypes, the
    registry entry's dynamic axes."""
    import serde

    return serde.export_model(net, filename_prefix=prefix,
                              input_shapes={k: v.shape for k, v in feed.items()},
                              input_types={k: v.dtype for k, v in feed.items()},
                              opset_version=opset,
                              dynamic_axes={k: dict(v) for k, v in model.dynamic_axes.items()},
                              **kwargs)


def ort_session(path: Path, threads: int = 1, arena: bool = True) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # the arena keeps every peak allocation: a COCO R-CNN then holds 12 GB instead of 5.5
    options.enable_cpu_mem_arena = arena
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def median_seconds(fn: Any, runs: int = LATENCY_RUNS) -> float:
    fn()  # warm-up
    times = []
    budget = time.perf_counter() + 60.0  # slow models take fewer runs
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if time.perf_counter() > budget and len(times) >= 1:
            break
    return statistics.median(times)


# --- one model ------------------------------------------------------------------------------


def _compare(variant_compare: str, got: list[np.ndarray], want: list[np.ndarray],
             tol: Tolerance) -> tuple[bool, float, str, float]:
    """(ok, ratio, why-not, unmatched fraction) for one output set."""
    if variant_compare == "detections":
        match = match_detections(got, want, tol)
        ratio = max(match.get("score_ratio", 0.0), match.get("mask_ratio", 0.0))
        structural = not match["ok"] and ratio <= 1.0  # counts or matching failed
        return bool(match["ok"]), float("inf") if structural else float(ratio), \
            str(match.get("reason", "")), float(match.get("unmatched_fraction", 0.0))
    ratio = dense_ratio(got, want, tol)
    return ratio <= 1.0, ratio, "" if ratio <= 1.0 else f"ratio {ratio:.3g}", 0.0


def _graph_ops(model: Any) -> list[str]:
    ops: set[str] = set()

    def visit(graph: Any) -> None:
        for node in graph.node:
            ops.add(f"{node.domain}:{node.op_type}" if node.domain else node.op_type)
            for attr in node.attribute:
                if attr.g.node:
                    visit(attr.g)
                for sub in attr.graphs:
                    visit(sub)
    visit(model.graph)
    return sorted(ops)


def _mx_ops(net: Any, names: list[str]) -> list[str]:
    import mxnet as mx

    sym = net(*[mx.sym.var(n) for n in names])
    if isinstance(sym, (list, tuple)):
        sym = mx.sym.Group(_as_list(sym))
    nodes = json.loads(sym.tojson())["nodes"]
    return sorted({n["op"] for n in nodes if n["op"] != "null"})


def check_variant(model: ZooModel, net: Any, variant: Any, opsets: list[int], ctx: Any,
                  tmp: Path, records: dict[int, dict[str, Any]]) -> None:
    """Export one variant at each opset and fill the per-opset records."""
    import onnx

    import serde

    tol, _ = tolerance_for(model.name)
    feeds = model.feeds(np.random.default_rng(20261202))
    with variant.reference(net) if variant.reference else contextlib.nullcontext():
        refs = [mx_forward(net, f, ctx) for f in feeds]
        mx_seconds = median_seconds(lambda: mx_forward(net, feeds[0], ctx))
    mx_ops = _mx_ops(net, list(feeds[0]))
    tag = variant.name
    for opset in opsets:
        rec = records[opset]
        checks = rec.setdefault("checks", {})
        failed = rec.setdefault("_failed", [])

        def record(key: str, got: list[np.ndarray], want: list[np.ndarray],
                   rec: dict[str, Any] = rec, checks: dict[str, Any] = checks,
                   failed: list[str] = failed) -> None:
            """One comparison into the record: its ratio, unmatched share, failure."""
            ok, ratio, why, unmatched = _compare(variant.compare, got, want, tol)
            checks[key] = ratio
            if unmatched:
                rec.setdefault("unmatched_fraction", {})[key] = unmatched
            if not ok:
                failed.append(f"{key}: {why}")

        rec["mx_ops"] = sorted(set(rec.get("mx_ops", [])) | set(mx_ops))
        rec[f"{tag}_mx_ms"] = 1e3 * mx_seconds
        try:
            prefix = tmp / f"{tag}-{opset}"
            start = time.perf_counter()
            path, onnx_model = export_for_zoo(net, model, feeds[0], prefix, opset,
                                              return_model=True)
            rec[f"{tag}_export_seconds"] = time.perf_counter() - start
            rec[f"{tag}_node_count"] = len(onnx_model.graph.node)
            rec[f"{tag}_file_bytes"] = sum(p.stat().st_size for p in Path(tmp).glob(
                f"{prefix.name}*"))
            rec["onnx_ops"] = sorted(set(rec.get("onnx_ops", [])) | set(_graph_ops(onnx_model)))
            del onnx_model
            onnx.checker.check_model(str(path), full_check=True)
            session = ort_session(path, arena=not model.heavy)
            names = [i.name for i in session.get_inputs()]
            for i, (feed, ref) in enumerate(zip(feeds, refs, strict=True)):
                got = session.run(None, {n: feed[n] for n in names})
                record(f"{tag}/ort_size{i}", got, ref)
                rec["max_abs_err"] = max(rec.get("max_abs_err", 0.0), max_abs_err(got, ref)) \
                    if variant.compare == "dense" else rec.get("max_abs_err", 0.0)
            first = {n: feeds[0][n] for n in names}
            rec[f"{tag}_ort_ms"] = 1e3 * median_seconds(
                lambda s=session, f=first: s.run(None, f))
            del session
            start = time.perf_counter()
            sym, params = serde.import_model(path, output_format="symbolic", ctx=ctx,
                                             input_shapes={k: v.shape for k, v in feeds[0].items()})
            rec[f"{tag}_import_seconds"] = time.perf_counter() - start
            arg_params, aux_params = serde.split_params(sym, params)
            got = module_forward(sym, arg_params, aux_params, feeds[0], ctx,
                                 model.dynamic_axes)
            record(f"{tag}/import_symbolic_size0", got, refs[0])
            del sym, params, arg_params, aux_params
            block = serde.import_model(path, output_format="gluon", ctx=ctx)
            got = mx_forward(block, feeds[-1], ctx)
            record(f"{tag}/import_gluon_size1", got, refs[-1])
            del block
        except serde.UnsupportedOperatorError as err:
            rec.setdefault("_errors", []).append(("unsupported", f"{tag}: {err}"))
        except Exception as err:  # every failure is recorded with its cause, never hidden
            rec.setdefault("_errors", []).append(
                ("error", f"{tag}: {type(err).__name__}: {err}"))
        for stale in Path(tmp).glob("*"):
            stale.unlink()
        gc.collect()


def _finish(rec: dict[str, Any], name: str) -> dict[str, Any]:
    from .freshness import fingerprint

    errors = rec.pop("_errors", [])
    failed = rec.pop("_failed", [])
    if errors:
        rec["status"] = errors[0][0]
        rec["message"] = "; ".join(m for _, m in errors)[:800]
    elif failed:
        rec["status"] = "wrong-result"
        rec["message"] = "; ".join(failed)[:800]
    else:
        rec["status"] = "pass"
    checks = rec.get("checks", {})
    finite = [v for v in checks.values() if isinstance(v, float)]
    rec["tolerance_ratio"] = max(finite) if finite else float("nan")
    rec["export_seconds"] = sum(v for k, v in rec.items() if k.endswith("_export_seconds"))
    rec["import_seconds"] = sum(v for k, v in rec.items() if k.endswith("_import_seconds"))
    rec["ort_seconds"] = rec.get("final_ort_ms", float("nan")) / 1e3  # batch 1, one thread
    rec["mx_seconds"] = rec.get("final_mx_ms", float("nan")) / 1e3
    rec["file_bytes"] = rec.get("final_file_bytes", 0)
    rec["node_count"] = rec.get("final_node_count", 0)
    reason = limitation_of(name, rec.get("opset"))
    if reason and rec["status"] != "pass":
        rec["failure_status"] = rec["status"]
        rec["status"] = "limitation"
        rec["limitation"] = reason
    if "mx_ops" in rec:
        rec["fingerprint"] = fingerprint(rec["mx_ops"], rec.get("onnx_ops", ()), rec["opset"])
    return rec


def check_model(name: str, opsets: list[int], ctx_name: str = "cpu") -> list[dict[str, Any]]:
    """Every check of one model at each opset: one record per opset."""
    from .common import mx_context

    model = registry()[name]
    ctx = mx_context(ctx_name)
    base = {"suite": SUITE, "model": name, "family": model.family, "source": model.source,
            "ctx": ctx_name}
    records = {o: {**base, "case": f"{name}@{o}", "opset": o} for o in opsets}
    start = time.perf_counter()
    try:
        net = model.build(ctx)
        n_params = int(sum(np.prod(p.shape) for p in net.collect_params().values()))
    except Exception as err:  # a model the zoo cannot build here is reported, not hidden
        status = "limitation" if isinstance(err, NetworkDisabled) else "error"
        message = f"model set-up failed: {type(err).__name__}: {err}"
        out = []
        for rec in records.values():
            rec.update(status=status, message=message[:800])
            reason = limitation_of(name, rec["opset"])
            if reason:
                rec.update(failure_status=rec["status"], status="limitation", limitation=reason)
            out.append(rec)
        return out
    build_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        for variant in model.variants:
            if variant.configure is not None:
                variant.configure(net)
            check_variant(model, net, variant, opsets, ctx, Path(tmp), records)
    out = []
    for rec in records.values():
        rec.update(params=n_params, build_seconds=build_seconds,
                   seconds=time.perf_counter() - start)
        out.append(_finish(rec, name))
    return out


def run_task(task: tuple[str, list[int], str]) -> list[dict[str, Any]]:
    """Worker entry point (conformance._isolate)."""
    name, opsets, ctx_name = task
    try:
        return check_model(name, opsets, ctx_name)
    except Exception as err:
        model = registry().get(name)
        out = []
        for o in opsets:
            rec = {"suite": SUITE, "model": name, "family": getattr(model, "family", None),
                   "source": getattr(model, "source", None), "case": f"{name}@{o}",
                   "opset": o, "ctx": ctx_name, "status": "error",
                   "message": f"{type(err).__name__}: {err}\n{traceback.format_exc()[-400:]}"}
            reason = limitation_of(name, o)
            if reason:
                rec.update(failure_status="error", status="limitation", limitation=reason)
            out.append(rec)
        return out


# --- selection, freshness, CLI ---------------------------------------------------------------


def select_models(spec: str) -> list[str]:
    models = registry()
    if spec == "all":
        return list(models)
    if spec == "ci":
        return [n for n, m in models.items() if m.ci]
    names: list[str] = []
    for part in (s.strip() for s in spec.split(",")):
        if part.startswith("family:"):
            names += [n for n, m in models.items() if m.family == part[7:]]
        elif part in models:
            names.append(part)
        elif part:
            raise SystemExit(f"unknown model {part!r}; see --list")
    return names


def stale_records(path: Path) -> list[dict[str, Any]]:
    """Committed records measured with converters that have changed since."""
    from .freshness import is_fresh

    if not path.exists():
        return []
    return [r for r in read_results(path)
            if r.get("status") in ("pass", "wrong-result", "limitation")
            and "mx_ops" in r and not is_fresh(r)]


def main(argv: list[str] | None = None) -> int:
    from conformance._isolate import run_isolated
    from serde.onnx import DEFAULT_EXPORT_OPSET

    from .common import gpu_available

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="ci")
    parser.add_argument("--opsets", default=f"{DEFAULT_EXPORT_OPSET},13")
    parser.add_argument("--ctx", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--timeout", type=float, default=MODEL_TIMEOUT)
    parser.add_argument("--force", action="store_true", help="re-measure fresh records too")
    parser.add_argument("--check-fresh", action="store_true",
                        help="fail first if committed records are stale")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    if args.list:
        for name, m in registry().items():
            print(f"{m.family:<15} {name}{'  [ci]' if m.ci else ''}")
        return 0
    if args.ctx == "gpu" and not gpu_available():
        print("no GPU visible to MXNet: the gpu run of the GluonCV/GluonNLP zoo is skipped")
        return 0
    path = Path(args.output) if args.output else results_path(SUITE, args.ctx)
    if args.check_fresh:
        stale = stale_records(path)
        if stale:
            models = sorted({r["model"] for r in stale})
            print(f"{len(models)} committed zoo results are older than the converters they use: "
                  f"{', '.join(models[:20])}{' ...' if len(models) > 20 else ''}\n"
                  f"re-measure them with `nox -s model_zoo` (it reruns only stale models)")
            return 1
        print(f"committed zoo results are fresh ({path.name})")
    opsets = [int(o) for o in args.opsets.split(",")]
    names = select_models(args.models)
    existing = {r["case"]: r for r in read_results(path)} if path.exists() else {}
    if not args.force and args.models == "all":
        from .freshness import is_fresh

        def done(name: str) -> bool:
            recs = [existing.get(f"{name}@{o}") for o in opsets]
            return all(r is not None and (is_fresh(r) or "mx_ops" not in r
                                          and r["status"] in ("error", "limitation"))
                       for r in recs)
        skipped = [n for n in names if done(n)]
        names = [n for n in names if n not in skipped]
        if skipped:
            print(f"{len(skipped)} models have fresh results and are skipped (--force re-runs)")

    def lost(task: tuple, kind: str, seconds: float) -> list[dict[str, Any]]:
        name = task[0]
        return [{"suite": SUITE, "model": name, "family": registry()[name].family,
                 "source": registry()[name].source, "case": f"{name}@{o}", "opset": o,
                 "ctx": args.ctx, "status": kind, "seconds": seconds,
                 "message": f"worker {kind} after {seconds:.0f}s"} for o in task[1]]

    start = time.monotonic()
    fresh: list[dict[str, Any]] = []
    models = registry()
    light = [(n, opsets, args.ctx) for n in names if not models[n].heavy]
    heavy = [(n, opsets, args.ctx) for n in names if models[n].heavy]
    tasks = light + heavy
    print(f"{len(tasks)} models x opsets {opsets}, {args.jobs} jobs "
          f"({len(heavy)} memory-heavy ones after the rest, one at a time)")

    def batches() -> Any:
        if light:
            yield from run_isolated(light, "model_zoo_tests.zoo:run_task", jobs=args.jobs,
                                    timeout=args.timeout, on_lost=lost, max_cases=4)
        if heavy:
            yield from run_isolated(heavy, "model_zoo_tests.zoo:run_task", jobs=1,
                                    timeout=args.timeout, on_lost=lost, max_cases=1)

    for i, records in enumerate(batches(), 1):
        fresh.extend(records)
        for r in records:
            existing[r["case"]] = r
        write_results(existing.values(), path)  # after every model: a stopped run resumes
        elapsed = time.monotonic() - start
        eta = elapsed / i * (len(tasks) - i)
        for r in records:
            print(f"[{i}/{len(tasks)} {elapsed / 60:.1f}m eta {eta / 60:.0f}m] "
                  f"{r['status']:>12} {r['case']:<44} ratio={r.get('tolerance_ratio', 0):.3g} "
                  f"{r.get('seconds', 0):.0f}s {r.get('message', '')[:300]}", flush=True)
    bad = [r for r in fresh if r["status"] not in ("pass", "limitation")]
    counts = {s: sum(r["status"] == s for r in fresh) for s in sorted({r["status"] for r in fresh})}
    print(f"{len(fresh)} records: {counts} in {(time.monotonic() - start) / 60:.1f} min ({path})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
