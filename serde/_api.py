"""The public entry points: export_model, import_model and their ONNX building blocks."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import onnx

from . import _export
from ._io import atomic_write
from .errors import InvalidModelError, SerdeError, guarded
from .onnx.export.convert import PROTOBUF_LIMIT_BYTES, check_onnx_model, model_bytes, symbol_to_onnx

OUTPUT_FORMATS = ("onnx", "coreml")


@guarded
def to_onnx(obj: Any, params: Any = None, *, input_format: str | None = None,
            input_shapes: Any = None, input_types: Any = None,
            input_names: Sequence[str] | None = None, opset_version: int | None = None,
            dynamic_axes: Mapping[str, Any] | None = None, dynamic_batch: bool = False,
            model_name: str | None = None, check: bool = True) -> onnx.ModelProto:
    """Convert a Symbol (+ params), a bound Module or a Gluon HybridBlock to an ONNX model."""
    fmt = input_format or _export.detect_input_format(obj)
    if fmt == "gluon":
        if params is not None:
            raise InvalidModelError("a Gluon block carries its own parameters; params must be None")
        model = _export.from_gluon(obj, input_shapes, input_names, input_types)
        default_name = type(obj).__name__
    elif fmt == "symbolic":
        import mxnet as mx
        if isinstance(obj, mx.mod.BaseModule):
            model = _export.from_module(obj, params, input_shapes)
        else:
            model = _export.from_symbol(obj, params, input_shapes)
        default_name = "mxnet_model"
    else:
        raise InvalidModelError(f"input_format must be 'symbolic' or 'gluon', not {fmt!r}")
    # A Symbol's data inputs are only known inside symbol_to_onnx, which reads a list of types
    # in their order; a Module or Gluon block already named its inputs.
    types = input_types if not model.input_types else {
        **model.input_types, **_export.normalise_input_types(input_types, list(model.input_types))}
    return symbol_to_onnx(model.sym, model.arg_params, model.aux_params,
                          input_shapes=model.input_shapes, input_types=types,
                          opset_version=opset_version, dynamic_axes=dynamic_axes,
                          dynamic_batch=dynamic_batch, model_name=model_name or default_name,
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


@guarded
def export_model(obj: Any, params: Any = None, *, input_format: str | None = None,
                 output_format: str = "onnx", filename_prefix: str | os.PathLike,
                 input_shapes: Any = None, input_types: Any = None,
                 input_names: Sequence[str] | None = None, opset_version: int | None = None,
                 dynamic_axes: Mapping[str, Any] | None = None, dynamic_batch: bool = False,
                 return_model: bool = False,
                 external_data_threshold: int = PROTOBUF_LIMIT_BYTES) -> Any:
    """Export an MXNet model and write ``<filename_prefix>.onnx``.

    ``obj`` is a Symbol (or a ``-symbol.json`` path) with ``params`` (a dict, an (arg, aux) pair
    or a ``.params`` path), a bound ``Module``, or an initialised Gluon ``HybridBlock``.
    Returns the written path, or ``(path, ModelProto)`` with ``return_model=True``.
    """
    if output_format not in OUTPUT_FORMATS:
        raise InvalidModelError(f"output_format must be one of {OUTPUT_FORMATS}, "
                                f"not {output_format!r}")
    if output_format == "coreml":
        raise SerdeError("Core ML export is not available yet in this version of mxnet-serde")
    model = to_onnx(obj, params, input_format=input_format, input_shapes=input_shapes,
                    input_types=input_types, input_names=input_names,
                    opset_version=opset_version, dynamic_axes=dynamic_axes,
                    dynamic_batch=dynamic_batch, model_name=Path(filename_prefix).name)
    path = save_onnx(model, f"{os.fspath(filename_prefix)}.onnx", external_data_threshold)
    return (path, model) if return_model else path


@guarded
def import_model(path: Any, input_format: str = "onnx", output_format: str = "gluon", *,
                 ctx: Any = None, input_shapes: Mapping[str, Sequence[int]] | None = None,
                 constant_inputs: Mapping[str, Any] | None = None) -> Any:
    """Import an ONNX (or Core ML) model as a Gluon SymbolBlock or a (Symbol, params) pair.

    ``path`` is a file path, bytes or an ``onnx.ModelProto``. ``output_format="gluon"`` gives a
    ``SymbolBlock`` with its parameters on ``ctx``; ``"symbolic"`` gives ``(sym, params)`` with
    every arg and aux parameter by name (``split_params`` separates them for ``Module``).
    ``input_shapes`` fixes dynamic input dims; ``constant_inputs`` bakes graph inputs that MXNet
    needs as static attributes (a Reshape target, Slice starts, TopK k ...) into the graph.
    """
    if input_format == "coreml":
        raise SerdeError("Core ML import is not available yet in this version of mxnet-serde")
    if input_format != "onnx":
        raise InvalidModelError(f"input_format must be 'onnx' or 'coreml', not {input_format!r}")
    from .onnx.importer import import_onnx
    return import_onnx(path, output_format, ctx=ctx, input_shapes=input_shapes,
                       constant_inputs=constant_inputs)
