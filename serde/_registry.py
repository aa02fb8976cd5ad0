"""Converter registries keyed by name (an MXNet op, a Core ML layer type, a MIL op): small
functions registered by decorator from one package of family modules, loaded on first use."""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def import_submodules(package: str) -> None:
    """Import every module of ``package``, so their decorators register their converters."""
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        importlib.import_module(f"{package}.{info.name}")


@dataclass(frozen=True)
class Converter:
    key: str
    fn: Callable[..., Any]
    family: str  # the module it lives in: one module per family


class Registry:
    def __init__(self, package: str) -> None:
        self._converters: dict[str, Converter] = {}
        self._package = package
        self._loaded = False

    def register(self, *keys: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            family = fn.__module__.rsplit(".", 1)[-1]
            for key in keys:
                if key in self._converters:
                    raise ValueError(f"two converters for {key!r} in {self._package}")
                self._converters[key] = Converter(key, fn, family)
            return fn

        return decorate

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            import_submodules(self._package)

    def lookup(self, key: str) -> Converter | None:
        self._load()
        return self._converters.get(key)

    def keys(self) -> list[str]:
        self._load()
        return sorted(self._converters)
