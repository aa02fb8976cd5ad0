"""Registry of MXNet -> Core ML converters, keyed by MXNet op name, the same shape as the ONNX
exporter's: a converter is ``(node, ctx) -> list[str]``, adds Core ML layers through the
context and returns the Core ML blob names holding the node's visible outputs, in order.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..._graph import MxNode
    from .context import CoremlContext

ConverterFn = Callable[["MxNode", "CoremlContext"], Sequence[str]]


@dataclass(frozen=True)
class CoremlConverter:
    op: str
    fn: ConverterFn
    family: str


class CoremlRegistry:
    def __init__(self, ops_package: str) -> None:
        self._converters: dict[str, CoremlConverter] = {}
        self._ops_package = ops_package
        self._loaded = False

    def register(self, *ops: str) -> Callable[[ConverterFn], ConverterFn]:
        def decorate(fn: ConverterFn) -> ConverterFn:
            family = fn.__module__.rsplit(".", 1)[-1]
            for op in ops:
                if op in self._converters:
                    raise ValueError(f"two Core ML converters for {op}")
                self._converters[op] = CoremlConverter(op, fn, family)
            return fn

        return decorate

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            package = importlib.import_module(self._ops_package)
            for info in pkgutil.iter_modules(package.__path__):
                importlib.import_module(f"{self._ops_package}.{info.name}")

    def lookup(self, op: str) -> CoremlConverter | None:
        self._load()
        return self._converters.get(op)

    def ops(self) -> list[str]:
        self._load()
        return sorted(self._converters)


COREML_EXPORT_REGISTRY = CoremlRegistry("serde.coreml.export.ops")
register = COREML_EXPORT_REGISTRY.register
