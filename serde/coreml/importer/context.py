"""What a Core ML import converter sees: the layer (protobuf) and the context — MXNet symbols
of the blobs made so far, their static ``(C, H, W)`` shapes, and the parameters collected.

Fixed-rank NeuralNetwork blobs are rank-5 ``[Seq, Batch, C, H, W]`` with Seq = 1; each becomes
an MXNet ``(N, C, H, W)`` symbol and ``shapes`` holds its ``(C, H, W)``. In the rank-N walk
(specification 4 on) a blob is an MXNet symbol of the blob's own shape, which ``shapes`` holds
whole (``rank_n`` is set).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mxnet as mx
import numpy as np

from ...errors import ConversionError


def weights(params: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A ``WeightParams`` as a float32 array (float32 or float16 storage)."""
    if len(params.floatValue):
        values = np.asarray(params.floatValue, dtype=np.float32)
    elif params.float16Value:
        values = np.frombuffer(params.float16Value, dtype="<f2").astype(np.float32)
    elif params.rawValue or params.int8RawValue:
        raise ConversionError("quantized Core ML weights are not imported")
    else:
        values = np.zeros(0, dtype=np.float32)
    if shape is not None:
        if values.size != int(np.prod(shape)):
            raise ConversionError(f"weights hold {values.size} values, the layer needs "
                                  f"{int(np.prod(shape))} ({shape})")
        values = values.reshape(shape)
    return values


@dataclass
class ImportContext:
    symbols: dict[str, mx.sym.Symbol] = field(default_factory=dict)
    shapes: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # (C, H, W)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    #: the model inputs' MXNet shapes, for static shape inference
    sources: dict[str, tuple[int, ...]] = field(default_factory=dict)
    rank_n: bool = False

    def input(self, layer: Any, k: int = 0) -> mx.sym.Symbol:
        return self.symbols[layer.input[k]]

    def shape(self, layer: Any, k: int = 0) -> tuple[int, int, int]:
        return self.shapes[layer.input[k]]

    def param(self, layer: Any, suffix: str, value: np.ndarray) -> mx.sym.Symbol:
        name = f"{layer.name}_{suffix}"
        self.params[name] = np.ascontiguousarray(value, dtype=np.float32)
        return mx.sym.var(name, shape=value.shape, dtype="float32")

    def infer(self, sym: mx.sym.Symbol, layer: Any) -> tuple[int, ...]:
        """The static shape of ``sym``'s first output, from the inputs' and parameters'."""
        known = {**self.sources, **{k: v.shape for k, v in self.params.items()}}
        names = set(sym.list_inputs())
        try:
            _, out, _ = sym.infer_shape_partial(**{k: v for k, v in known.items() if k in names})
        except mx.base.MXNetError as err:
            raise ConversionError(f"the layer does not fit its input shapes: "
                                  f"{str(err).splitlines()[0]}", node=layer.name,
                                  op=layer.WhichOneof("layer")) from err
        shape = tuple(int(d) for d in (out[0] or ()))
        if not shape or 0 in shape:
            raise ConversionError("the layer's output shape cannot be inferred",
                                  node=layer.name, op=layer.WhichOneof("layer"))
        return shape

    def fail(self, layer: Any, message: str) -> ConversionError:
        return ConversionError(message, node=layer.name, op=layer.WhichOneof("layer"))
