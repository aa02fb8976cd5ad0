"""The fuzz campaign: mutated ONNX models, MXNet symbol/params pairs, Core ML models and
hostile export targets fed to serde's public entry points, each case in a child process with a
time limit (``conformance._isolate``), classified as

- ``ok``: converted; an imported model also ran one forward on inputs of its declared shapes;
- ``named-error``: a ``SerdeError`` (what bad input must give);
- ``raw-exception``: any other exception escaped;
- ``fails-forward``: imported, but MXNet could not run it;
- ``crash`` / ``hang``: the child died or ran over its time limit;
- ``partial-file`` / ``clobbered``: a failed export left a new file or changed an existing one;
- ``escape``: a file outside the model's folder was opened.

``python -m conformance.fuzz.campaign --cases 10000`` resumes ``reports/results/fuzz-cpu.jsonl``
(case ids are deterministic) and writes the summary table ``reports/fuzz.md``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..results import RESULTS_DIR, read_results, results_path, write_results

REPORTS_DIR = RESULTS_DIR.parent

SUITE = "fuzz"
GOOD = ("ok", "named-error")
KINDS = ("onnx_bytes", "onnx_struct", "onnx_external", "mxnet_json", "mxnet_json_bytes",
         "mxnet_params", "mxnet_params_bytes", "export_path", "coreml_bytes", "onnx_node",
         "mxnet_op", "coreml_struct")
ONNX_KINDS = ("onnx_bytes", "onnx_struct", "onnx_external", "onnx_node")
#: declared inputs larger than this are not run forward (the fuzzer's memory, not serde's)
MAX_FORWARD_ELEMENTS = 10_000_000

#: the results file's status of each outcome (its own vocabulary: conformance.results)
_STATUS = {"ok": "pass", "named-error": "pass", "crash": "crash", "hang": "timeout"}

_AUDIT = {"root": None, "allowed": (), "escapes": []}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or _AUDIT["root"] is None or not args or not isinstance(
            args[0], (str, bytes, os.PathLike)):
        return
    try:
        path = os.path.realpath(os.fsdecode(args[0]))
    except (TypeError, ValueError):
        return
    root = _AUDIT["root"]
    if path.startswith(root) and not any(path.startswith(a) for a in _AUDIT["allowed"]):
        _AUDIT["escapes"].append(path)


def _tasks(count: int, seed: int, kinds: tuple[str, ...] = KINDS) -> list[tuple]:
    return [(f"{seed}-{i:06d}-{kinds[i % len(kinds)]}", kinds[i % len(kinds)], seed, i)
            for i in range(count)]


def _onnx_inputs(model: Any) -> list[np.ndarray] | None:
    """Arrays of the declared input shapes (dynamic dims as 1) and dtypes; None where the
    declaration gives no array numpy can hold (then no forward is checked)."""
    import math

    from onnx import helper

    inits = {i.name for i in model.graph.initializer}
    arrays = []
    for info in model.graph.input:
        if info.name in inits:
            continue
        t = info.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
                for d in t.shape.dim]
        if math.prod(dims) > MAX_FORWARD_ELEMENTS:
            return None
        try:
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type))
        except (KeyError, TypeError, ValueError):
            return None
        arrays.append(_synthetic(dims, dtype))
    return arrays


def _synthetic(shape: Sequence[int], dtype: np.dtype) -> np.ndarray:
    """A forward input of ``shape``: seeded normals for floats, ones for the rest (valid
    indices and divisors)."""
    if dtype.kind == "f":
        return np.random.default_rng(0).normal(size=tuple(shape)).astype(dtype)
    return np.ones(tuple(shape), dtype)


def _forward(block: Any, arrays: list[np.ndarray], numpy_shapes: bool = False) -> None:
    import contextlib

    import mxnet as mx

    # a symbolic graph over 0-d or zero-size inputs runs with NumPy shape semantics, as its
    # user would run it (an imported Gluon block switches them on itself)
    with mx.util.np_shape(True) if numpy_shapes else contextlib.nullcontext():
        out = block(*[mx.nd.array(a, dtype=a.dtype) for a in arrays])
        for o in (out if isinstance(out, (list, tuple)) else [out]):
            o.wait_to_read()


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_case(task: tuple) -> dict[str, Any]:
    """One case (in a worker process): build the input, call serde, classify."""
    import onnx

    import serde

    from . import mutators as mu
    from . import seeds

    case_id, kind, seed, index = task
    rng = np.random.default_rng([seed, index])
    record: dict[str, Any] = {"suite": SUITE, "case": case_id, "kind": kind, "ctx": "cpu"}
    if not getattr(run_case, "_hooked", False):  # audit hooks cannot be removed: one per worker
        sys.addaudithook(_audit)
        run_case._hooked = True  # type: ignore[attr-defined]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="serde-fuzz-") as tmp:
        root = Path(os.path.realpath(tmp))
        folder = root / "model"
        folder.mkdir()
        out_dir = root / "out"
        out_dir.mkdir()
        (root / "outside.bin").write_bytes(b"secret" * 1000)
        forward: list[np.ndarray] | None = None
        options: dict[str, Any] = {}
        action = None
        existing: dict[str, str] = {}
        try:
            if kind == "onnx_node":
                path = folder / "model.onnx"
                options, forward = _node_case(rng, record, path)
                fmt = "gluon" if rng.random() < 0.8 else "symbolic"
                record["output_format"] = fmt

                def action() -> Any:
                    return serde.import_model(str(path), input_format="onnx",
                                              output_format=fmt, **options)
            elif kind in ("onnx_bytes", "onnx_struct", "onnx_external"):
                if kind == "onnx_external":
                    path = seeds.onnx_external(folder)
                    model = onnx.load(str(path), load_external_data=False)
                    try:
                        os.symlink(root / "outside.bin", folder / "link.bin")
                    except OSError:
                        pass
                    model = mu.external_data(model, rng, str(root / "outside.bin"), "link.bin")
                    record["mutators"] = ["external_data"]
                else:
                    name, names = _plan(kind, rng)
                    model = seeds.ONNX_SEEDS[name]()
                    record["seed"] = name
                    for m in names:
                        model = mu.ONNX_MUTATORS[m](model, rng)
                    if names:
                        record["mutators"] = names
                    path = folder / "model.onnx"
                data = model.SerializeToString()
                if kind == "onnx_bytes":
                    m = mu._pick(rng, sorted(mu.BYTE_MUTATORS))
                    data = mu.BYTE_MUTATORS[m](data, rng)
                    record["mutators"] = [m]
                path.write_bytes(data)
                try:
                    forward = _onnx_inputs(onnx.load_from_string(data))
                except Exception:  # noqa: BLE001 - unreadable by onnx too: no forward
                    forward = None
                fmt = "gluon" if rng.random() < 0.8 else "symbolic"
                record["output_format"] = fmt

                def action() -> Any:
                    return serde.import_model(str(path), input_format="onnx",
                                              output_format=fmt)
            elif kind in ("coreml_bytes", "coreml_struct"):
                data = seeds.coreml_bytes()
                if data is None:
                    record.update(outcome="ok", note="coremltools not installed")
                    return record
                path = folder / "model.mlmodel"
                if kind == "coreml_bytes":
                    m = mu._pick(rng, sorted(mu.BYTE_MUTATORS))
                    path.write_bytes(mu.BYTE_MUTATORS[m](data, rng))
                    record["mutators"] = [m]
                else:
                    from coremltools.proto import Model_pb2

                    spec = Model_pb2.Model()
                    spec.ParseFromString(data)
                    count = int(rng.integers(1, 4))
                    for _ in range(count):
                        spec = mu.proto_field(spec, rng)
                    path.write_bytes(spec.SerializeToString())
                    record["mutators"] = ["proto_field"] * count

                def action() -> Any:
                    return serde.import_model(str(path), input_format="coreml")
            elif kind == "mxnet_op":
                existing = _snapshot(out_dir)
                export = _mxnet_op_case(rng, record, folder, out_dir / "exported")

                def action() -> Any:
                    return serde.export_model(*export[0], **export[1])
            else:
                sym_json, params, shape = seeds.mxnet_net()
                prefix = out_dir / "exported"
                shapes: Any = {"data": shape}
                if kind == "mxnet_json":
                    sym_json = mu.mutate_json_text(sym_json, rng)
                    record["mutators"] = ["json_structure"]
                elif kind == "mxnet_json_bytes":
                    m = mu._pick(rng, sorted(mu.BYTE_MUTATORS))
                    sym_bytes = mu.BYTE_MUTATORS[m](sym_json.encode(), rng)
                    (folder / "net-symbol.json").write_bytes(sym_bytes)
                    record["mutators"] = [m]
                elif kind == "mxnet_params":
                    params = mu.mx_params(params, rng)
                    record["mutators"] = ["params"]
                elif kind == "export_path":
                    prefix, note = _hostile_prefix(root, out_dir, rng)
                    record["mutators"] = [note]
                if kind != "mxnet_json_bytes":
                    (folder / "net-symbol.json").write_text(sym_json)
                seeds.save_params(params, folder / "net-0000.params")
                if kind == "mxnet_params_bytes":
                    m = mu._pick(rng, sorted(mu.BYTE_MUTATORS))
                    raw = (folder / "net-0000.params").read_bytes()
                    (folder / "net-0000.params").write_bytes(mu.BYTE_MUTATORS[m](raw, rng))
                    record["mutators"] = [m]
                existing = _snapshot(out_dir)
                fmt = "onnx" if rng.random() < 0.85 or not _has_coremltools() else "coreml"
                record["output_format"] = fmt

                def action() -> Any:
                    return serde.export_model(str(folder / "net-symbol.json"),
                                              str(folder / "net-0000.params"),
                                              output_format=fmt, filename_prefix=str(prefix),
                                              input_shapes=shapes)
            _AUDIT.update(root=str(root), allowed=(str(folder), str(out_dir)), escapes=[])
            try:
                result = action()
            finally:
                _AUDIT["root"] = None
            record["outcome"] = "ok"
            if kind in (*ONNX_KINDS, "coreml_bytes", "coreml_struct"):
                record.update(_check_forward(
                    result, forward, kind, path, bound=list(options.get("constant_inputs", {})),
                    synthetic=record.get("inputs") != "test data"))
        except serde.SerdeError as err:
            record.update(outcome="named-error", error_type=type(err).__name__,
                          message=str(err)[:300])
            cause = err.__cause__
            if cause is not None and not isinstance(cause, serde.SerdeError) and \
                    ": the input is malformed: " in str(err):
                # named only by the entry points' last-resort guard: a Python error that no
                # check saw coming (listed, so each gets a check of its own)
                record["guarded"] = type(cause).__name__
                record["where"] = traceback.extract_tb(cause.__traceback__)[-1].name \
                    if cause.__traceback__ else None
        except BaseException as err:  # noqa: BLE001 - the finding itself
            _AUDIT["root"] = None
            record.update(outcome="raw-exception", error_type=type(err).__name__,
                          message=str(err)[:300],
                          where=traceback.extract_tb(err.__traceback__)[-1].name
                          if err.__traceback__ else None,
                          traceback=[f"{f.filename.rsplit('site-packages/', 1)[-1]}:{f.lineno} "
                                     f"{f.name}" for f in
                                     traceback.extract_tb(err.__traceback__)[-6:]])
        if _AUDIT["escapes"]:
            record.update(outcome="escape", opened=sorted(set(_AUDIT["escapes"]))[:5])
        if kind.startswith("mxnet") or kind == "export_path":
            after = _snapshot(out_dir) if out_dir.exists() else {}
            changed = [k for k, v in existing.items() if after.get(k) != v]
            new = sorted(set(after) - set(existing))
            if changed and record["outcome"] != "ok":  # a failed export touched a file
                record.update(outcome="clobbered", files=changed)
            elif record["outcome"] != "ok" and new:
                record.update(outcome="partial-file", files=new)
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def _dynamic_beyond_batch(path: Path) -> bool:
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    inits = {t.name for t in graph.initializer}
    return any(k > 0 and not (d.HasField("dim_value") and d.dim_value > 0)
               for i in graph.input if i.name not in inits
               for k, d in enumerate(i.type.tensor_type.shape.dim))


def _check_forward(result: Any, arrays: list[np.ndarray] | None, kind: str, path: Path,
                   bound: Sequence[str] = (), synthetic: bool = True) -> dict[str, Any]:
    """An imported model must run: one forward on inputs of its declared shapes."""
    import mxnet as mx

    if isinstance(result, tuple):  # symbolic: bind through a SymbolBlock of the same graph
        sym, params = result
        params = {k: v if isinstance(v, mx.nd.NDArray) else mx.nd.array(v)
                  for k, v in params.items()}
        inputs = [n for n in sym.list_inputs() if n not in params]
        if not inputs:  # a constant graph: an executor over its parameters
            try:
                aux = set(sym.list_auxiliary_states())
                sym.bind(mx.cpu(), args={k: v for k, v in params.items() if k not in aux},
                         aux_states={k: v for k, v in params.items() if k in aux}).forward()
                mx.nd.waitall()
            except Exception as err:  # noqa: BLE001 - the finding
                return {"outcome": "fails-forward", "error_type": type(err).__name__,
                        "message": str(err).strip().splitlines()[-1][:300]}
            return {"forward": "ran"}
        if kind in ONNX_KINDS and arrays is not None:
            # the arrays are the ONNX graph's free inputs in order; the symbol reads those
            # it uses (one that no output depends on is not among its inputs)
            import onnx

            graph = onnx.load(str(path), load_external_data=False).graph
            inits = {t.name for t in graph.initializer}
            names = [i.name for i in graph.input if i.name not in inits and i.name not in bound]
            feed = dict(zip(names, arrays, strict=False))
            inputs = [n for n in names if n in inputs] + [n for n in inputs if n not in names]
            if any(n not in feed for n in inputs):
                return {"forward": "skipped"}
            arrays = [feed[n] for n in inputs]
        block = mx.gluon.SymbolBlock(sym, [mx.sym.var(n) for n in inputs])
        block.collect_params().load_dict(params, ignore_extra=True, allow_missing=False,
                                         cast_dtype=True, dtype_source="saved")
    else:
        block = result
    if kind in ("coreml_bytes", "coreml_struct"):
        from coremltools.proto import Model_pb2

        spec = Model_pb2.Model()
        spec.ParseFromString(path.read_bytes())
        shapes = [(1, *[int(d) for d in f.type.multiArrayType.shape])
                  for f in spec.description.input]
        if any(d <= 0 for s in shapes for d in s) or \
                sum(math.prod(s) for s in shapes) > MAX_FORWARD_ELEMENTS:
            return {"forward": "skipped"}
        arrays = [_synthetic(s, np.dtype(np.float32)) for s in shapes]
    if arrays is None:
        return {"forward": "skipped"}
    try:
        _forward(block, arrays, numpy_shapes=isinstance(result, tuple) and any(
            a.ndim == 0 or 0 in a.shape for a in arrays))
    except Exception as err:  # noqa: BLE001 - the finding
        message = str(err).strip().splitlines()[-1][:300] if str(err).strip() else ""
        if synthetic and kind in ONNX_KINDS and _dynamic_beyond_batch(path):
            # a dynamic non-batch dim taken at 1: the model may need another size there (a
            # channel count, a pooling window), as the importer's own check allows
            return {"forward": "inconclusive", "forward_error": message}
        return {"outcome": "fails-forward", "error_type": type(err).__name__,
                "message": message}
    return {"forward": "ran"}


def _has_coremltools() -> bool:
    try:
        import coremltools  # noqa: F401
    except ImportError:
        return False
    return True


def _hostile_prefix(root: Path, out_dir: Path, rng: np.random.Generator) -> tuple[Path, str]:
    choice = int(rng.integers(0, 6))
    if choice == 0:
        return out_dir / "missing" / "deeper" / "exported", "missing_folder"
    if choice == 1:
        locked = out_dir / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return locked / "exported", "read_only_folder"
    if choice == 2:
        (out_dir / "exported.onnx").mkdir()
        return out_dir / "exported", "target_is_directory"
    if choice == 3:
        (out_dir / "exported.onnx").write_bytes(b"precious")
        return out_dir / "exported", "existing_file"
    if choice == 4:
        (out_dir / "file").write_bytes(b"x")
        return out_dir / "file" / "exported", "parent_is_file"
    return Path(str(out_dir / "exp") + "\0orted"), "nul_in_name"


def _plan(kind: str, rng: np.random.Generator) -> tuple[str, list[str]]:
    """The seed and structural mutators of an ONNX case: the case's first draws, so the
    parent can name them for a case whose worker died."""
    from . import mutators as mu
    from . import seeds

    name = mu._pick(rng, sorted(seeds.ONNX_SEEDS))
    if kind != "onnx_struct":
        return name, []
    return name, [mu._pick(rng, sorted(mu.ONNX_MUTATORS))
                  for _ in range(int(rng.integers(1, 4)))]


def _node_plan(rng: np.random.Generator) -> tuple[int, list[str]]:
    """The node test model (index) and structural mutators of an ``onnx_node`` case: a third
    of the cases run the model unmutated, so what they check is the import options and that
    a valid model that imports also runs on its test inputs."""
    from . import mutators as mu
    from . import seeds

    index = int(rng.integers(len(seeds.node_models())))
    count = int(rng.choice([0, 1, 1, 2]))
    return index, [mu._pick(rng, sorted(mu.ONNX_MUTATORS)) for _ in range(count)]


def _node_case(rng: np.random.Generator, record: dict[str, Any], path: Path
               ) -> tuple[dict[str, Any], list[np.ndarray] | None]:
    """Write an ``onnx_node`` case's model to ``path`` and draw its import options: inputs bound by ``constant_inputs``
    (their test data, or a value of the wrong shape or type) and ``input_shapes`` (the real
    shapes, or wrong ones). Returns the options and the arrays of the forward check."""
    import onnx

    from . import mutators as mu
    from . import seeds

    index, names = _node_plan(rng)
    name, data, real = seeds.node_models()[index]
    record["seed"] = name
    if names:
        record["mutators"] = names
    model = onnx.load_from_string(data)
    for m in names:
        model = mu.ONNX_MUTATORS[m](model, rng)
    path.write_bytes(model.SerializeToString())
    inputs = [i.name for i in model.graph.input
              if i.name not in {t.name for t in model.graph.initializer}]
    test_data = not names and len(inputs) == len(real)
    arrays = list(real) if test_data else _onnx_inputs(model)
    record["inputs"] = "test data" if test_data else "synthetic"
    options: dict[str, Any] = {}
    if inputs and arrays is not None and rng.random() < 0.25:
        k = int(rng.integers(len(inputs)))
        value, how = arrays[k], "test data"
        draw = rng.random()
        if draw < 0.2:
            value, how = np.zeros((*value.shape, 2), value.dtype), "wrong shape"
        elif draw < 0.3:
            value, how = np.array(["x"] * max(1, value.size)), "strings"
        elif draw < 0.35:
            value, how = object(), "not an array"
        options["constant_inputs"] = {inputs[k]: value}
        record["options"] = f"constant_inputs {inputs[k]} ({how})"
        arrays = arrays[:k] + arrays[k + 1:]
    elif inputs and arrays is not None and rng.random() < 0.25:
        k = int(rng.integers(len(inputs)))
        shape, how = tuple(arrays[k].shape), "real shape"
        draw = rng.random()
        if draw < 0.3:
            shape, how = (*shape, 3), "extra axis"
        elif draw < 0.5 and shape:
            shape, how = tuple(d + 1 for d in shape), "each dim + 1"
        elif draw < 0.6:
            shape, how = (-7, *shape[1:]), "negative dim"
        elif draw < 0.65:
            shape, how = "abc", "a string"
        options["input_shapes"] = {inputs[k]: shape}
        record["options"] = f"input_shapes {inputs[k]} ({how})"
        if how != "a string" and all(isinstance(d, int) and d > 0 for d in shape):
            arrays[k] = _synthetic(shape, arrays[k].dtype)
            record["inputs"] = "synthetic"
    return options, arrays


def _mxnet_op_plan(rng: np.random.Generator) -> tuple[int, str]:
    """The single-op export case (index into the suite's cases) and the mutation of an
    ``mxnet_op`` case: the case's first draws."""
    from . import seeds

    index = int(rng.integers(len(seeds.mxnet_op_cases())))
    return index, str(rng.choice(["none", "json", "json", "params", "input_shapes",
                                  "input_types"]))


def _mxnet_op_case(rng: np.random.Generator, record: dict[str, Any], folder: Path,
                   prefix: Path) -> tuple[tuple, dict[str, Any]]:
    """Write an ``mxnet_op`` case's symbol JSON and ``.params`` (one op of the export suite,
    mutated or not) and return export_model's arguments."""
    from conformance.mxnet_ops import _split_params, build_symbol, make_inputs

    from . import mutators as mu
    from . import seeds

    index, how = _mxnet_op_plan(rng)
    case_ = seeds.mxnet_op_cases()[index]
    record["seed"], record["mutators"] = case_.id, [how]
    sym = build_symbol(case_)
    values = make_inputs(case_, np.random.default_rng(0))
    arg, aux, data = _split_params(case_, sym, values)
    params = {f"arg:{k}": v for k, v in arg.items()} | {f"aux:{k}": v for k, v in aux.items()}
    sym_json = sym.tojson()
    shapes: Any = {k: v.shape for k, v in data.items()}
    types: Any = [v.dtype for v in data.values()] if rng.random() < 0.5 else None
    if how == "json":
        sym_json = mu.mutate_json_text(sym_json, rng)
    elif how == "params" and params:
        params = mu.mx_params(params, rng)
    elif how == "input_shapes" and shapes:
        name = mu._pick(rng, sorted(shapes))
        shapes[name] = mu._pick(rng, [(), (0,), (-1, 2), (2**31, 2), "x", (1.5,),
                                      (*shapes[name], 1), tuple(shapes[name])[:-1]])
    elif how == "input_types" and data:
        types = [mu._pick(rng, ["complex64", "float16", "int8", "bool", "str", None, 3])
                 for _ in data]
    (folder / "op-symbol.json").write_text(sym_json)
    seeds.save_params(params, folder / "op-0000.params")
    kwargs: dict[str, Any] = {"filename_prefix": str(prefix), "input_shapes": shapes}
    if types is not None:
        kwargs["input_types"] = types
    return (str(folder / "op-symbol.json"), str(folder / "op-0000.params")), kwargs


def _lost(task: tuple, kind: str, seconds: float) -> dict[str, Any]:
    record = {"suite": SUITE, "case": task[0], "kind": task[1], "ctx": "cpu",
              "outcome": "hang" if kind == "timeout" else "crash", "seconds": seconds}
    if task[1] in ("onnx_bytes", "onnx_struct"):
        record["seed"], record["mutators"] = _plan(task[1], np.random.default_rng(task[2:]))
    elif task[1] == "mxnet_op":
        from . import seeds

        index, how = _mxnet_op_plan(np.random.default_rng(task[2:]))
        record["seed"], record["mutators"] = seeds.mxnet_op_cases()[index].id, [how]
    elif task[1] == "onnx_node":
        from . import seeds

        index, names = _node_plan(np.random.default_rng(task[2:]))
        record["seed"], record["mutators"] = seeds.node_models()[index][0], names
    return record


def run(tasks: list[tuple], *, jobs: int, timeout: float, progress: bool = True
        ) -> list[dict[str, Any]]:
    from .._isolate import run_isolated

    records = []
    start = time.monotonic()
    for k, record in enumerate(run_isolated(tasks, "conformance.fuzz.campaign:run_case",
                                            jobs=jobs, timeout=timeout, on_lost=_lost,
                                            max_cases=200), 1):
        record["status"] = _STATUS.get(record["outcome"], "error")
        records.append(record)
        if progress and (k % 200 == 0 or k == len(tasks)):
            counts = Counter(r["outcome"] for r in records)
            print(f"[{k}/{len(tasks)} {(time.monotonic() - start) / 60:.1f}m] "
                  f"{dict(sorted(counts.items()))}", flush=True)
    return records


def summary_markdown(records: list[dict[str, Any]]) -> str:
    outcomes = ["ok", "named-error", "raw-exception", "fails-forward", "crash", "hang",
                "partial-file", "clobbered", "escape"]
    by_kind: dict[str, Counter] = {}
    for r in records:
        by_kind.setdefault(r["kind"], Counter())[r["outcome"]] += 1
    total = Counter(r["outcome"] for r in records)
    lines = ["# Fuzz campaign", "",
             f"{len(records)} cases (`python -m conformance.fuzz.campaign`); each case in a "
             "child process with a time limit. Good outcomes: ok (an imported model also ran "
             "a forward) and named-error (a SerdeError).", "",
             "| kind | cases | " + " | ".join(outcomes) + " |",
             "|---|---|" + "---|" * len(outcomes)]
    for kind in sorted(by_kind):
        c = by_kind[kind]
        lines.append(f"| {kind} | {sum(c.values())} | "
                     + " | ".join(str(c.get(o, 0)) for o in outcomes) + " |")
    lines.append(f"| **all** | {len(records)} | "
                 + " | ".join(str(total.get(o, 0)) for o in outcomes) + " |")
    bad = [r for r in records if r["outcome"] not in GOOD]
    if bad:
        lines += ["", "## Findings (first of each kind, error and place)", ""]
        seen = set()
        for r in bad:
            key = (r["outcome"], r.get("error_type"), r.get("where"), r["kind"])
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"- `{r['case']}` {r['outcome']} {r.get('error_type') or ''} "
                         f"in `{r.get('where') or '—'}` ({', '.join(r.get('mutators') or [])}): "
                         f"{str(r.get('message') or '')[:160]}")
            if len(seen) >= 60:
                break
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--output", default=None)
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"comma-separated input kinds (default all: {', '.join(KINDS)})")
    parser.add_argument("--replay", default=None, metavar="CASE[,CASE]",
                        help="run these cases (ids as in the results, seed-index-kind) in this "
                             "process and print their records (a crash shows its stack)")
    args = parser.parse_args(argv)
    if args.replay:
        import faulthandler

        faulthandler.enable()
        for case in args.replay.split(","):
            seed, index, kind = case.split("-", 2)
            print(json.dumps(run_case((case, kind, int(seed), int(index))), indent=1))
        return 0
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kinds {unknown}; choose from {KINDS}")
    path = Path(args.output) if args.output else results_path(SUITE)
    done = {r["case"]: r for r in read_results(path)} if path.exists() else {}
    tasks = [t for t in _tasks(args.cases, args.seed, kinds) if t[0] not in done]
    print(f"{len(tasks)} cases to run ({len(done)} done), {args.jobs} jobs")
    records = list(done.values())
    for chunk in range(0, len(tasks), 500):  # written every 500 cases: a stopped run resumes
        records += run(tasks[chunk:chunk + 500], jobs=args.jobs, timeout=args.timeout)
        write_results(records, path)
    # a side run (--output) keeps its summary beside its results, not in reports/
    summary = path.with_suffix(".md") if args.output else REPORTS_DIR / "fuzz.md"
    summary.write_text(summary_markdown(records))
    counts = Counter(r["outcome"] for r in records)
    print(json.dumps(dict(sorted(counts.items()))))
    return 0 if all(r["outcome"] in GOOD for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
