"""Registry of MXNet -> ONNX converters, keyed by MXNet op name and ONNX opset range.

A converter is a small function ``(node, ctx) -> list[str]`` that emits ONNX nodes through the
context and returns the ONNX tensor names holding the MXNet node's visible outputs, in order.
The registry is the single source of truth for export coverage.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..._registry import import_submodules

if TYPE_CHECKING:
    from .context import ExportContext, MxNode

ConverterFn = Callable[["MxNode", "ExportContext"], Sequence[str]]

#: Opsets the exporter is designed and tested for. The default is the newest opset for which
#: onnxruntime has a kernel for every op we emit (``conformance/find_default_opset.py`` checks it).
MIN_EXPORT_OPSET = 13
DEFAULT_EXPORT_OPSET = 28
MAX_EXPORT_OPSET = 28


@dataclass(frozen=True)
class ExportConverter:
    op: str
    min_opset: int
    max_opset: int | None  # inclusive; None means "up to the newest"
    fn: ConverterFn
    family: str

    def covers(self, opset: int) -> bool:
        return self.min_opset <= opset and (self.max_opset is None or opset <= self.max_opset)


class ExportRegistry:
    def __init__(self, ops_package: str | None = None) -> None:
        self._converters: dict[str, list[ExportConverter]] = {}
        self._ops_package = ops_package
        self._loaded = ops_package is None

    def register(self, *ops: str, opset: tuple[int, int | None] = (MIN_EXPORT_OPSET, None)
                 ) -> Callable[[ConverterFn], ConverterFn]:
        """Decorator: register ``fn`` for each MXNet op name in ``ops`` over ``opset``."""
        low, high = opset

        def decorate(fn: ConverterFn) -> ConverterFn:
            family = fn.__module__.rsplit(".", 1)[-1]
            for op in ops:
                existing = self._converters.setdefault(op, [])
                for conv in existing:
                    if conv.covers(low) or (high is not None and conv.covers(high)):
                        raise ValueError(f"overlapping export converters for {op} at opset {low}")
                existing.append(ExportConverter(op, low, high, fn, family))
            return fn

        return decorate

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            import_submodules(self._ops_package)

    def lookup(self, op: str, opset: int) -> ExportConverter | None:
        self._load()
        for conv in self._converters.get(op, ()):
            if conv.covers(opset):
                return conv
        return None

    def ops(self) -> list[str]:
        self._load()
        return sorted(self._converters)

    def converters(self, op: str) -> list[ExportConverter]:
        self._load()
        return sorted(self._converters.get(op, ()), key=lambda c: c.min_opset)


EXPORT_REGISTRY = ExportRegistry("serde.onnx.export.ops")
register = EXPORT_REGISTRY.register
