"""Collect, summarise, write: the steps behind ``nox -s report``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..results import REPO_ROOT
from .markdown import render_headline_block, render_markdown, replace_headline
from .sources import (
    HISTORY_PATH,
    REPORTS_DIR,
    ResultSet,
    append_history,
    export_coverage,
    import_coverage,
    installed_versions,
    load_results,
    now_stamp,
    read_history,
)
from .summary import build_summary, coverage_document

TOP_README = REPO_ROOT / "README.md"


@dataclass
class Report:
    summary: dict[str, Any]
    results: ResultSet

    @property
    def coverage(self) -> dict[str, Any]:
        return coverage_document(self.summary, self.results)

    def coverage_text(self) -> str:
        return json.dumps(self.coverage, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    def markdown(self) -> str:
        return render_markdown(self.summary)

    def headline_block(self) -> str:
        return render_headline_block(self.summary)

    def html(self) -> str:
        from .html import render_html
        from .plots import render_plots
        return render_html(self.summary, render_plots(self.summary))


def collect(results_dir: Path | None = None, history_path: Path | None = None,
            export_registry: Any = None) -> Report:
    results = load_results(results_dir)
    summary = build_summary(results, read_history(history_path),
                            export_coverage(export_registry), import_coverage())
    return Report(summary, results)


def history_entry(results: ResultSet, ctx: str = "cpu") -> dict[str, Any]:
    """One line of reports/history.jsonl: when, with what, and the counts of every suite run
    on ``ctx`` (result files of the other context are older runs, not this one)."""
    suites = {}
    for (suite, ctx_), records in sorted(results.records.items()):
        if ctx_ != ctx:
            continue
        passed = sum(r["status"] == "pass" for r in records)
        suites[f"{suite}-{ctx_}"] = {"total": len(records), "passed": passed,
                                    "failed": len(records) - passed}
    return {"date": now_stamp(), "versions": installed_versions(), "suites": suites}


def record_run(results_dir: Path | None = None, history_path: Path | None = None,
               ctx: str = "cpu") -> None:
    append_history(history_entry(load_results(results_dir), ctx), history_path or HISTORY_PATH)


def write_report(report: Report, out_dir: Path | None = None, readme: Path | None = TOP_README,
                 html: bool = True) -> list[Path]:
    out = out_dir or REPORTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("coverage.json", report.coverage_text()),
                       ("README.md", report.markdown())):
        (out / name).write_text(text)
        written.append(out / name)
    if html:
        (out / "index.html").write_text(report.html())
        written.append(out / "index.html")
    if readme is not None and readme.exists():
        readme.write_text(replace_headline(readme.read_text(), report.headline_block()))
        written.append(readme)
    return written


def stale_outputs(report: Report, out_dir: Path | None = None,
                  readme: Path | None = TOP_README) -> list[str]:
    """Committed outputs that differ from a regeneration in memory (the HTML is left out: its
    PNG bytes depend on the font stack; everything it shows comes from the same summary)."""
    out = out_dir or REPORTS_DIR
    stale = []
    for name, text in (("coverage.json", report.coverage_text()),
                       ("README.md", report.markdown())):
        path = out / name
        if not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT)
                             else path))
    if readme is not None:
        current = readme.read_text() if readme.exists() else ""
        try:
            if replace_headline(current, report.headline_block()) != current:
                stale.append(f"{readme.name} (headline block)")
        except ValueError:
            stale.append(f"{readme.name} (no headline block)")
    return stale
