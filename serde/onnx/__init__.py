"""ONNX side of serde: ``to_onnx`` (export) and, once it lands, the importer and backend."""
from __future__ import annotations

from .compat import export_model
from .export.convert import check_onnx_model, symbol_to_onnx
from .export.registry import (
    DEFAULT_EXPORT_OPSET,
    EXPORT_REGISTRY,
    MAX_EXPORT_OPSET,
    MIN_EXPORT_OPSET,
)
from .importer import IMPORT_REGISTRY, get_model_metadata, split_params

__all__ = ["export_model", "symbol_to_onnx", "to_onnx", "check_onnx_model", "save_onnx", "DEFAULT_EXPORT_OPSET",
           "MIN_EXPORT_OPSET", "MAX_EXPORT_OPSET", "EXPORT_REGISTRY", "IMPORT_REGISTRY",
           "get_model_metadata", "split_params"]


def __getattr__(name):
    # to_onnx / save_onnx live with the public API to avoid an import cycle
    if name in ("to_onnx", "save_onnx"):
        from .. import _api
        return getattr(_api, name)
    raise AttributeError(name)
