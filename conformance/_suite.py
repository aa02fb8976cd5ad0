"""The shared driver of the ONNX backend suites: CLI, isolation, results, expected failures."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._isolate import run_isolated
from .results import results_path, write_results

EXPECTED_DIR = Path(__file__).resolve().parent / "expected_failures"


def parse_args(description: str, argv: Sequence[str] | None, timeout: float) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ctx", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--filter", default=None, help="regex on case names")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=timeout,
                        help="seconds per case before its worker is killed")
    parser.add_argument("--update-expected", action="store_true",
                        help="rewrite the expected-failure file from this run")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def gpu_available() -> bool:
    import subprocess
    probe = "import mxnet as mx; print(mx.context.num_gpus())"
    try:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "MXNET_SUBGRAPH_VERBOSE": "0"})
        return int(out.stdout.strip().splitlines()[-1]) > 0
    except Exception:  # noqa: BLE001 - no usable MXNet GPU either way
        return False


# ---- expected failures: one JSONC file, {case: reason} ----------------------------------
def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def read_expected(path: Path) -> dict[str, dict[str, str]]:
    """{"cpu": {case: reason}, "gpu": {case: reason}}; a missing file is empty."""
    if not path.exists():
        return {"cpu": {}, "gpu": {}}
    data = json.loads(_strip_comments(path.read_text()))
    return {"cpu": dict(data.get("cpu", {})), "gpu": dict(data.get("gpu", {}))}


def write_expected(path: Path, expected: dict[str, dict[str, str]], header: str) -> None:
    lines = [f"// {line}" if line else "//" for line in header.splitlines()]
    body = json.dumps({k: dict(sorted(v.items())) for k, v in sorted(expected.items())},
                      indent=2, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + body + "\n")


def reason_for(record: dict[str, Any]) -> str:
    """A one-line reason generated from a failing record (humans may refine it)."""
    raw = record.get("message") or ""
    ops = re.findall(r"^  ([\w:.]+): nodes", raw, flags=re.M)
    if record.get("error_type") == "UnsupportedOperatorError" and ops:
        opset = re.search(r"at opset (\d+)", raw)
        return (f"unsupported: no ONNX -> MXNet converter for {', '.join(ops)}"
                + (f" at opset {opset.group(1)}" if opset else ""))
    dtype = re.search(r"has type (\w+), which MXNet 1.9.1 cannot compute with", raw)
    if dtype:
        return f"unsupported: MXNet 1.9.1 has no {dtype.group(1)} tensors"
    message = re.sub(r"\s+", " ", raw.replace("\n", " ")).strip()
    message = re.sub(r"^\[[^\]]*\] ", "", message)   # drop the [node, op, opset] prefix
    message = re.sub(r"^Traceback \(most recent call last\): File \S+ line \d+ ", "", message)
    kind = record.get("error_type") or record["status"]
    return f"{record['status']}: {kind}: {message[:140]}".rstrip(": ")


def run_suite(*, suite: str, description: str, header: str, expected_file: Path,
              make_tasks: Callable[[argparse.Namespace], list[dict[str, Any]]],
              argv: Sequence[str] | None = None, timeout: float = 60.0) -> int:
    args = parse_args(description, argv, timeout)
    if args.ctx == "gpu" and not gpu_available():
        print(f"{suite}: no GPU: skipped (MXNet sees no GPU on this machine)")
        return 0
    started = time.monotonic()
    tasks = make_tasks(args)
    if args.filter:
        pattern = re.compile(args.filter)
        tasks = [t for t in tasks if pattern.search(t["case"])]
    if not tasks:
        print(f"{suite}: no case matches the filter")
        return 1

    def lost(task: dict[str, Any], status: str, seconds: float) -> dict[str, Any]:
        record = {k: task[k] for k in ("suite", "case", "ctx", "ops", "opset")}
        record.update(status=status, seconds=round(seconds, 3), error_type=status,
                      message="worker process died" if status == "crash"
                      else f"no result after {args.timeout:.0f} s")
        return record

    records = []
    progress = None
    if not args.no_progress:
        from tqdm import tqdm
        progress = tqdm(total=len(tasks), desc=f"{suite} [{args.ctx}]", unit="case",
                        file=sys.stderr)
    for record in run_isolated(tasks, "conformance._cases:run_case", jobs=args.jobs,
                               timeout=args.timeout, on_lost=lost):
        records.append(record)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(passed=sum(r["status"] == "pass" for r in records))
    if progress is not None:
        progress.close()
    elapsed = time.monotonic() - started

    out_path = results_path(suite, args.ctx, args.results_dir)
    if args.filter and out_path.exists():   # a filtered run updates its rows only
        from .results import read_results
        ran = {r["case"] for r in records}
        records = [r for r in read_results(out_path) if r["case"] not in ran] + records
    write_results(records, out_path)

    ran = {t["case"] for t in tasks}
    expected = read_expected(expected_file)
    known = expected[args.ctx]
    this_run = [r for r in records if r["case"] in ran]
    failing = {r["case"]: r for r in this_run if r["status"] != "pass"}
    unexpected_fail = sorted(c for c in failing if c not in known)
    unexpected_pass = sorted(c for c in ran if c in known and c not in failing)

    counts = Counter(r["status"] for r in this_run)
    print(f"\n{suite} [{args.ctx}]: {len(this_run)} cases in {elapsed:.0f} s: "
          + ", ".join(f"{counts[s]} {s}" for s in sorted(counts, key=lambda s: -counts[s])))
    print(f"results: {out_path}")

    if args.update_expected:
        kept = {c: r for c, r in known.items() if c not in ran or c in failing}
        for case in unexpected_fail:
            kept[case] = reason_for(failing[case])
        expected[args.ctx] = kept
        write_expected(expected_file, expected, header)
        print(f"expected failures rewritten: {expected_file} ({len(kept)} entries for "
              f"{args.ctx}; {len(unexpected_fail)} added, {len(unexpected_pass)} removed)")
        return 0
    status = 0
    if unexpected_fail:
        status = 1
        print(f"\n{len(unexpected_fail)} UNEXPECTED FAILURE(S):")
        for case in unexpected_fail[:50]:
            print(f"  {case}: {reason_for(failing[case])}")
    if unexpected_pass:
        status = 1
        print(f"\n{len(unexpected_pass)} UNEXPECTED PASS(ES) - remove them from "
              f"{expected_file.name} (or run with --update-expected):")
        for case in unexpected_pass[:50]:
            print(f"  {case}")
    if status == 0:
        print(f"OK: every failure is listed in {expected_file.name} with a reason")
    return status
