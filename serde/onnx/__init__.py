"""ONNX side of serde: ``to_onnx`` / ``save_onnx`` (export), the importer and the backend."""
from __future__ import annotations

from .api import save_onnx, to_onnx
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

