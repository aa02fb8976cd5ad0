"""Everything the report reads: result files, run history, expected failures, versions, and the
two converter registries. Nothing here formats anything."""
from __future__ import annotations

import json
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ..results import REPO_ROOT, RESULTS_DIR, read_results
from .suites import SUITES, Record

REPORTS_DIR = REPO_ROOT / "reports"
HISTORY_PATH = REPORTS_DIR / "history.jsonl"
EXPECTED_DIR = REPO_ROOT / "conformance" / "expected_failures"
CTXS = ("cpu", "gpu")
VERSIONED_PACKAGES = ("mxnet", "onnx", "onnxruntime")

_RESULT_NAME = re.compile(r"^(?P<suite>.+)-(?P<ctx>cpu|gpu)\.jsonl$")


def installed_versions() -> dict[str, str]:
    """Versions of the stack, read from package metadata (no import of mxnet needed)."""
    versions = {}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["python"] = platform.python_version()
    return versions


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class ResultSet:
    """Records of every registered suite, by (suite, ctx); files of unknown suites are listed."""
    records: dict[tuple[str, str], list[Record]] = field(default_factory=dict)
    unregistered: list[str] = field(default_factory=list)

    def ctxs(self) -> list[str]:
        return [c for c in CTXS if any(ctx == c for _, ctx in self.records)]

    def get(self, suite: str, ctx: str) -> list[Record]:
        return self.records.get((suite, ctx), [])


def load_results(results_dir: Path | None = None) -> ResultSet:
    folder = results_dir or RESULTS_DIR
    found = ResultSet()
    for path in sorted(folder.glob("*.jsonl")) if folder.exists() else []:
        match = _RESULT_NAME.match(path.name)
        if not match or match["suite"] not in SUITES:
            found.unregistered.append(path.name)
            continue
        found.records[(match["suite"], match["ctx"])] = list(read_results(path))
    return found


def read_history(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or HISTORY_PATH
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_history(entry: dict[str, Any], path: Path | None = None) -> None:
    path = path or HISTORY_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def read_expected_failures(suite: str, expected_dir: Path | None = None
                           ) -> dict[str, dict[str, str]]:
    """{ctx: {case: reason}} from conformance/expected_failures/<suite>.jsonc (may be absent)."""
    from .._suite import read_expected
    return read_expected((expected_dir or EXPECTED_DIR) / f"{suite}.jsonc")


# ---- registries ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportCoverage:
    """op -> [(min_opset, max_opset or None, family)] and the exporter's opset range."""
    converters: dict[str, list[tuple[int, int | None, str]]]
    min_opset: int
    max_opset: int

    def family(self, op: str) -> str:
        convs = self.converters.get(op)
        return convs[0][2] if convs else "unregistered"

    def covers(self, op: str, opset: int) -> bool:
        return any(low <= opset and (high is None or opset <= high)
                   for low, high, _ in self.converters.get(op, ()))


def export_coverage(registry: Any = None) -> ExportCoverage:
    from serde.onnx.export import registry as export_registry
    reg = registry or export_registry.EXPORT_REGISTRY
    return ExportCoverage(
        {op: [(c.min_opset, c.max_opset, c.family) for c in reg.converters(op)]
         for op in reg.ops()},
        export_registry.MIN_EXPORT_OPSET, export_registry.MAX_EXPORT_OPSET)


@dataclass(frozen=True)
class ImportCoverage:
    """ONNX default-domain op -> since_versions with a converter, plus onnx.defs' view of ops."""
    converters: dict[str, list[int]]
    families: dict[str, str]
    max_opset: int

    def family(self, op: str) -> str:
        return self.families.get(op, "unsupported")


def import_coverage() -> ImportCoverage:
    import onnx.defs

    from serde.onnx.importer import registry as import_registry
    supported = import_registry.supported_ops()
    converters = {op: versions for (domain, op), versions in supported.items() if domain == ""}
    families = {}
    for (domain, op), by_version in import_registry.IMPORT_REGISTRY.items():
        if domain == "" and by_version:
            fn = by_version[max(by_version)]
            families[op] = fn.__module__.rsplit(".", 1)[-1]
    return ImportCoverage(converters, families, onnx.defs.onnx_opset_version())
