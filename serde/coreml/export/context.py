"""What a Core ML converter sees: the MXNet node (``MxNode``, shared with ONNX) and the export
context (MXNet shapes, constants, naming, the Core ML blobs made so far and the builder).

Core ML's fixed-rank layers (specification 1, iOS 11) work on rank-5 blobs ``[Seq, Batch, C,
H, W]``; batch-first MXNet tensors map onto them by ``blob_shape``: ``(N, C, H, W)`` is
``(C, H, W)``, ``(N, C)`` is ``(C, 1, 1)`` and ``(N, A, B)`` is ``(A, 1, B)`` (a 1-D
convolution's ``(N, C, W)``), always with the batch on Core ML's batch axis.

Recurrent layers read sequences on Core ML's sequence axis, ``[T, Batch, C, 1, 1]``: the
``(T, N, C)`` tensor MXNet's RNN op takes (a batch-first ``(N, T, C)`` with axes 0 and 1
swapped, as Gluon's ``layout="NTC"`` layers do) is such a *sequence-major* blob, with
``(C, 1, 1)`` in ``blobs`` and T in ``sequence_major``; only ``SEQUENCE_OPS`` read one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._graph import MxNode
from ...errors import ConversionError

__all__ = ["CoremlContext", "MxNode", "blob_shape", "AXIS_NAMES", "SEQUENCE_OPS"]

#: MXNet ops that read sequence-major (T, N, C) blobs.
SEQUENCE_OPS = frozenset({"RNN", "SwapAxis", "swapaxes", "Dropout"})

#: The Core ML axis that holds MXNet axis k of a batch-first tensor, by MXNet rank.
AXIS_NAMES: dict[int, tuple[str | None, ...]] = {
    1: ("batch",), 2: ("batch", "C"), 3: ("batch", "C", "W"), 4: ("batch", "C", "H", "W")}


def blob_shape(shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """The ``(C, H, W)`` of the rank-5 blob holding a batch-first MXNet tensor, or None."""
    rest = tuple(int(d) for d in shape[1:])
    if len(shape) == 1:
        return (1, 1, 1)
    if len(shape) == 2:
        return (rest[0], 1, 1)
    if len(shape) == 3:
        return (rest[0], 1, rest[1])
    if len(shape) == 4:
        return rest  # type: ignore[return-value]
    return None


@dataclass
class CoremlContext:
    """Carries shapes, constants and naming while one MXNet graph becomes Core ML layers."""

    builder: Any  # coremltools NeuralNetworkBuilder
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # MXNet shapes
    dtypes: dict[str, np.dtype] = field(default_factory=dict)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    blobs: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # Core ML (C, H, W)
    sequence_major: dict[str, int] = field(default_factory=dict)  # blob -> its length T
    spec_version: int = 1  # the lowest Core ML specification the layers need
    _used_names: set[str] = field(default_factory=set)

    # --- what converters ask -------------------------------------------------------------
    def shape(self, tensor: str) -> tuple[int, ...]:
        if tensor not in self.shapes:
            raise ConversionError(f"shape of tensor {tensor!r} is unknown")
        return self.shapes[tensor]

    def const(self, tensor: str) -> np.ndarray | None:
        """The value of a tensor known at export time (a parameter)."""
        return self.constants.get(tensor)

    def weight(self, node: MxNode, index: int, what: str) -> np.ndarray:
        """Input ``index`` of ``node`` as a constant: Core ML layers take weights in the layer."""
        if index >= len(node.inputs):
            raise node.fail(f"has no {what} input")
        value = self.const(node.inputs[index])
        if value is None:
            raise node.fail(f"its {what} ({node.inputs[index]!r}) is computed in the graph; "
                            f"Core ML takes a {node.op}'s {what} as a constant (give it in params)")
        return np.asarray(value, dtype=np.float32)

    def blob(self, tensor: str) -> tuple[int, int, int]:
        if tensor not in self.blobs:
            raise ConversionError(f"tensor {tensor!r} has no Core ML blob")
        return self.blobs[tensor]

    def axis(self, node: MxNode, tensor: str, mx_axis: int) -> str:
        """The Core ML axis (``"C"``, ``"H"`` or ``"W"``) of a batch-first tensor's axis."""
        rank = len(self.shape(tensor))
        k = mx_axis + rank if mx_axis < 0 else mx_axis
        names = AXIS_NAMES.get(rank)
        if names is None or not 0 <= k < rank:
            raise node.fail(f"axis {mx_axis} of a rank-{rank} tensor has no Core ML axis")
        if names[k] == "batch":
            raise node.fail("works on the batch axis, which Core ML's layers do not see; "
                            "only axes after the batch can be converted")
        return names[k]  # type: ignore[return-value]

    # --- naming ---------------------------------------------------------------------------
    def reserve(self, name: str) -> None:
        self._used_names.add(name)

    def unique_name(self, base: str) -> str:
        name, k = base, 1
        while name in self._used_names:
            name = f"{base}_{k}"
            k += 1
        self._used_names.add(name)
        return name

    # --- what converters make -----------------------------------------------------------
    def require(self, version: int) -> None:
        self.spec_version = max(self.spec_version, version)

    def made(self, tensor: str, chw: tuple[int, ...]) -> str:
        """Record the Core ML shape of a blob a converter made; returns its name."""
        self._used_names.add(tensor)
        self.blobs[tensor] = tuple(int(d) for d in chw)  # type: ignore[assignment]
        return tensor

    def layer(self, method: str, base: str, out: str | None, chw: tuple[int, ...],
              **kwargs: Any) -> str:
        """Call ``builder.<method>`` for one layer with a unique name writing blob ``out``
        (a fresh name when None); records the blob's (C, H, W)."""
        name = self.unique_name(base)
        out = out or self.unique_name(f"{name}_out")
        getattr(self.builder, method)(name=name, output_name=out, **kwargs)
        return self.made(out, chw)

    def last_layer(self) -> Any:
        return self.builder.spec.neuralNetwork.layers[-1]

    def linear(self, tensor: str, alpha: float, beta: float, base: str,
               out: str | None = None) -> str:
        """``alpha * x + beta`` elementwise."""
        return self.layer("add_activation", base, out, self.blob(tensor),
                          non_linearity="LINEAR", input_name=tensor, params=[alpha, beta])

    def rename_blob(self, old: str, new: str) -> str:
        """Rename the blob the last layers wrote (before any other converter read it)."""
        for layer in reversed(self.builder.spec.neuralNetwork.layers):
            outputs = list(layer.output)
            if old in outputs:
                layer.output[outputs.index(old)] = new
                break
        else:
            raise ConversionError(f"no layer writes blob {old!r}")
        self.blobs[new] = self.blobs.pop(old)
        if old in self.shapes:
            self.shapes[new] = self.shapes[old]
        return new


#: An empty 4-D (or 2-D) weight for the builder, whose per-element ``extend`` takes minutes on a
#: VGG's 100 M weights; ``fill_floats`` then writes the real values in one packed field.
NO_WEIGHTS_4D = np.empty((0, 0, 0, 0), dtype=np.float32)
NO_WEIGHTS_2D = np.empty((0, 0), dtype=np.float32)


def fill_floats(weights: Any, values: np.ndarray) -> None:
    """Set ``WeightParams.floatValue`` (field 1, packed little-endian floats) from ``values``."""
    data = np.ascontiguousarray(values, dtype="<f4").tobytes()
    length, header = len(data), bytearray(b"\x0a")
    while True:  # the length as a protobuf varint
        byte, length = length & 0x7F, length >> 7
        header.append(byte | (0x80 if length else 0))
        if not length:
            break
    weights.ClearField("floatValue")
    weights.MergeFromString(bytes(header) + data)
