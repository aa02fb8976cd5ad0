"""Registries of Core ML -> MXNet converters, both filled from ``importer/ops``:
- ``LAYER_REGISTRY`` by NeuralNetwork layer type (the ``NeuralNetworkLayer.layer`` oneof
  field: ``convolution``, ``pooling`` ...), converters ``(layer, ctx) -> [Symbol, ...]``;
- ``ND_REGISTRY`` by NeuralNetwork layer type too, for the rank-N walk (specification 4 on):
  the rank-N layers (``expandDims``, ``batchedMatmul`` ...) and the old layers whose rank-N
  meaning differs from "the last three axes are (C, H, W), the ones before are batch" (which
  ``LAYER_REGISTRY``'s converters keep through an adapter), converters
  ``(layer, ctx) -> [Symbol, ...]`` with ``ctx.shapes`` holding whole shapes;
- ``MIL_REGISTRY`` by ML Program op type (``conv``, ``linear`` ...), converters
  ``(op, ctx) -> [Symbol or numpy value, ...]``.
Each returns the outputs in order."""
from __future__ import annotations

from ..._registry import Converter, Registry

LAYER_REGISTRY = Registry("serde.coreml.importer.ops")
ND_REGISTRY = Registry("serde.coreml.importer.ops")
MIL_REGISTRY = Registry("serde.coreml.importer.ops")
converter = LAYER_REGISTRY.register
nd_converter = ND_REGISTRY.register
mil_converter = MIL_REGISTRY.register


def lookup(layer_type: str) -> Converter | None:
    return LAYER_REGISTRY.lookup(layer_type)


def supported_layers() -> list[str]:
    return LAYER_REGISTRY.keys()


def supported_nd_layers() -> list[str]:
    return sorted(set(ND_REGISTRY.keys()) | set(LAYER_REGISTRY.keys()))


def supported_mil_ops() -> list[str]:
    return MIL_REGISTRY.keys()
