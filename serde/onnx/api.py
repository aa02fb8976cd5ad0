"""ONNX entry points behind ``serde.export_model`` / ``serde.import_model``: ``to_onnx`` builds
the ModelProto, ``save_onnx`` writes it, ``export_onnx`` does both."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import onnx

from .. import _export
from .._io import atomic_write
from ..errors import guarded
from .export.convert import PROTOBUF_LIMIT_BYTES, check_onnx_model, model_bytes, symbol_to_onnx
from .importer import import_onnx

__all__ = ["to_onnx", "save_onnx", "export_onnx", "import_onnx"]


@guarded
def to_onnx(obj: Any, params: Any = None, *, input_format: str | None = None,
            input_shapes: Any = None, input_types: Any = None,
            input_names: Sequence[str] | None = None, opset_version: int | None = None,
            dynamic_axes: Mapping[str, Any] | None = None, dynamic_batch: bool = False,
            model_name: str | None = None, check: bool = True) -> onnx.ModelProto:
    """Convert a Symbol (+ params), a bound Module or a Gluon HybridBlock to an ONNX model."""
    model = _export.normalise(obj, params, input_format, input_shapes, input_types, input_names)
    return symbol_to_onnx(model.sym, model.arg_params, model.aux_params,
                          input_shapes=model.input_shapes, input_types=model.typed(input_types),
                          opset_version=opset_version, dynamic_axes=dynamic_axes,
                          dynamic_batch=dynamic_batch, model_name=model_name or model.name,
                          check=check)


@guarded
def save_onnx(model: onnx.ModelProto, path: str | os.PathLike,
              external_data_threshold: int = PROTOBUF_LIMIT_BYTES) -> Path:
    """Write ``model`` atomically. Models whose size passes ``external_data_threshold`` keep
    their weights in ``<name>.data`` beside the file (ONNX external data)."""
    target = Path(path)
    size = model_bytes(model)
    if size < external_data_threshold and size < PROTOBUF_LIMIT_BYTES:
        return atomic_write(target, lambda tmp: tmp.write_bytes(model.SerializeToString()))
    target.parent.mkdir(parents=True, exist_ok=True)
    data_name = f"{target.name}.data"
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        onnx.save_model(copy, str(staging / target.name), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data_name, size_threshold=1024)
        check_onnx_model(str(staging / target.name))
        os.replace(staging / data_name, target.parent / data_name)
        os.replace(staging / target.name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def export_onnx(obj: Any, params: Any = None, *, input_format: str | None = None,
                filename_prefix: str | os.PathLike, input_shapes: Any = None,
                input_types: Any = None, input_names: Sequence[str] | None = None,
                dynamic_batch: bool = False, return_model: bool = False,
                opset_version: int | None = None, dynamic_axes: Mapping[str, Any] | None = None,
                external_data_threshold: int = PROTOBUF_LIMIT_BYTES) -> Any:
    """Write ``<filename_prefix>.onnx``; returns the path, or ``(path, ModelProto)``."""
    model = to_onnx(obj, params, input_format=input_format, input_shapes=input_shapes,
                    input_types=input_types, input_names=input_names,
                    opset_version=opset_version, dynamic_axes=dynamic_axes,
                    dynamic_batch=dynamic_batch, model_name=Path(filename_prefix).name)
    path = save_onnx(model, f"{os.fspath(filename_prefix)}.onnx", external_data_threshold)
    return (path, model) if return_model else path
