"""Registry of Core ML -> MXNet converters, keyed by NeuralNetwork layer type (the name of the
``NeuralNetworkLayer.layer`` oneof field: ``convolution``, ``pooling`` ...). A converter is
``(layer, ctx) -> list[mx.sym.Symbol]``, the layer's outputs in order."""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import mxnet as mx

    from .context import ImportContext

Converter = Callable[[Any, "ImportContext"], Sequence["mx.sym.Symbol"]]
_CONVERTERS: dict[str, Converter] = {}
_loaded = False


def converter(*layer_types: str) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for layer_type in layer_types:
            if layer_type in _CONVERTERS:
                raise ValueError(f"two Core ML import converters for {layer_type}")
            _CONVERTERS[layer_type] = fn
        return fn

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        package = importlib.import_module(f"{__package__}.ops")
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")


def lookup(layer_type: str) -> Converter | None:
    _load()
    return _CONVERTERS.get(layer_type)


def supported_layers() -> list[str]:
    _load()
    return sorted(_CONVERTERS)
