"""ONNX element types that the importer maps onto MXNet dtypes."""
from __future__ import annotations

import numpy as np
import onnx

# ONNX TensorProto elem_type -> numpy dtype MXNet 1.9.1 computes with.
SUPPORTED: dict[int, np.dtype] = {
    onnx.TensorProto.FLOAT: np.dtype("float32"),
    onnx.TensorProto.DOUBLE: np.dtype("float64"),
    onnx.TensorProto.FLOAT16: np.dtype("float16"),
    onnx.TensorProto.UINT8: np.dtype("uint8"),
    onnx.TensorProto.INT8: np.dtype("int8"),
    onnx.TensorProto.INT32: np.dtype("int32"),
    onnx.TensorProto.INT64: np.dtype("int64"),
    onnx.TensorProto.BOOL: np.dtype("bool"),
}
TO_ONNX: dict[np.dtype, int] = {v: k for k, v in SUPPORTED.items()}
FLOATS = {np.dtype("float16"), np.dtype("float32"), np.dtype("float64")}


def elem_name(elem_type: int) -> str:
    try:
        return onnx.TensorProto.DataType.Name(elem_type)
    except ValueError:
        return f"elem_type {elem_type}"


def to_numpy(elem_type: int) -> np.dtype | None:
    """The numpy dtype for an ONNX elem_type, None if MXNet cannot compute with it."""
    return SUPPORTED.get(elem_type)


def supported_names() -> str:
    return ", ".join(elem_name(t).lower() for t in SUPPORTED)
