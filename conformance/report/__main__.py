"""``python -m conformance.report [--record-run] [--check]``: regenerate reports/ from the
converter registries and reports/results/*.jsonl (what ``nox -s report`` runs)."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .build import collect, record_run, stale_outputs, write_report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record-run", action="store_true",
                        help="append this run's counts to reports/history.jsonl first "
                             "(the conformance session does; a plain re-render does not)")
    parser.add_argument("--ctx", choices=("cpu", "gpu"), default="cpu",
                        help="the context of the run --record-run records")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the committed report is stale")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument("--no-html", action="store_true")
    args = parser.parse_args(argv)
    if args.record_run and not args.check:
        record_run(args.results_dir, ctx=args.ctx)
    report = collect(args.results_dir)
    if args.check:
        stale = stale_outputs(report, args.out_dir)
        for item in stale:
            print(f"stale: {item} (regenerate with `nox -s report`)")
        return 1 if stale else 0
    for path in write_report(report, args.out_dir, html=not args.no_html):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
