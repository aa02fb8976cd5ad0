"""The conformance report and release gate, generated from the converter registries and the
JSON-lines results (never written by hand).

    python -m conformance.report [--record-run]      # reports/README.md, index.html, coverage.json
    python -m conformance.report.gate [--update-baseline]

Suites are registered in :mod:`conformance.report.suites`; a new suite of a known kind needs one
``register_suite`` line and its ``reports/results/<suite>-<ctx>.jsonl``.
"""
from __future__ import annotations

from .build import Report, collect, record_run, stale_outputs, write_report
from .suites import SUITES, SuiteSpec, register_suite

__all__ = ["Report", "collect", "record_run", "stale_outputs", "write_report", "SUITES",
           "SuiteSpec", "register_suite"]
