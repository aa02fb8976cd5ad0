"""Registry of MXNet -> Core ML converters, keyed by MXNet op name, the same shape as the ONNX
exporter's: a converter is ``(node, ctx) -> list[str]``, adds Core ML layers through the
context and returns the Core ML blob names holding the node's visible outputs, in order.
"""
from __future__ import annotations

from ..._registry import Registry

COREML_EXPORT_REGISTRY = Registry("serde.coreml.export.ops")
register = COREML_EXPORT_REGISTRY.register
