"""What a converter sees: the MXNet node (``MxNode``, shared by every format) and the export
context (shapes, dtypes, constants, naming, and the ONNX nodes emitted so far)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..._graph import MxNode
from ...errors import ConversionError

__all__ = ["ExportContext", "MxNode"]

@dataclass
class ExportContext:
    """Carries shapes, dtypes, constants and naming while one MXNet graph is converted."""

    opset: int
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    dtypes: dict[str, np.dtype] = field(default_factory=dict)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: dict[str, onnx.TensorProto] = field(default_factory=dict)
    dynamic_inputs: dict[str, dict[int, str]] = field(default_factory=dict)
    _used_names: set[str] = field(default_factory=set)

    # --- what converters ask -------------------------------------------------------------
    def shape(self, tensor: str) -> tuple[int, ...]:
        if tensor not in self.shapes:
            raise ConversionError(f"shape of tensor {tensor!r} is unknown")
        return self.shapes[tensor]

    def dtype(self, tensor: str) -> np.dtype:
        return self.dtypes.get(tensor, np.dtype(np.float32))

    def onnx_dtype(self, tensor: str) -> int:
        return helper.np_dtype_to_tensor_dtype(self.dtype(tensor))

    def const(self, tensor: str) -> np.ndarray | None:
        """The value of a tensor known at export time (a parameter or a folded constant)."""
        return self.constants.get(tensor)

    @property
    def has_dynamic_axes(self) -> bool:
        return any(self.dynamic_inputs.values())

    @property
    def has_dynamic_non_batch_axes(self) -> bool:
        """Some input axis other than the first is dynamic (an image size, a sequence):
        sizes that shape-dependent constants (pooling windows, counts) cannot bake in."""
        return any(axis != 0 for axes in self.dynamic_inputs.values() for axis in axes)

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

    # --- what converters emit -----------------------------------------------------------
    def add_const(self, value: Any, base_name: str, dtype: Any = None) -> str:
        """Add a constant initializer; returns its (unique, deterministic) name."""
        array = np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)
        name = self.unique_name(base_name)
        self.initializers[name] = numpy_helper.from_array(array, name)
        self.constants[name] = array
        self.shapes[name] = tuple(array.shape)
        self.dtypes[name] = array.dtype
        return name

    def add_int64(self, values: Any, base_name: str) -> str:
        return self.add_const(np.asarray(values, dtype=np.int64), base_name)

    def emit(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1, *,
             name: str | None = None, domain: str = "", shape: tuple[int, ...] | None = None,
             dtype: Any = None, **attrs: Any) -> list[str]:
        """Append one ONNX node. ``outputs`` is a count (fresh names) or explicit names.

        ``shape``/``dtype`` record what the converter knows of its first output, so later
        converters can ask the context for them."""
        node_name = self.unique_name(name or op_type)
        if isinstance(outputs, int):
            outputs = [self.unique_name(f"{node_name}_out{i}" if i else f"{node_name}_out")
                       for i in range(outputs)]
        else:
            for out in outputs:
                if out:
                    self._used_names.add(out)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=node_name,
                                           domain=domain or None, **attrs))
        if shape is not None:
            self.shapes[outputs[0]] = tuple(shape)
        if dtype is not None:
            self.dtypes[outputs[0]] = np.dtype(dtype)
        elif inputs and inputs[0] in self.dtypes and outputs[0] not in self.dtypes:
            self.dtypes[outputs[0]] = self.dtypes[inputs[0]]
        return outputs

    def emit1(self, op_type: str, inputs: list[str], output: str | None = None, **kwargs: Any
              ) -> str:
        """``emit`` for the common one-output case; returns the output name."""
        return self.emit(op_type, inputs, [output] if output else 1, **kwargs)[0]
