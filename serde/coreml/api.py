"""Core ML entry points behind ``serde.export_model`` / ``serde.import_model``."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import _export
from .._io import atomic_write
from ..errors import InvalidModelError, SerdeError, guarded

__all__ = ["to_coreml", "save_coreml", "export_coreml", "import_coreml"]

COREML_FORMATS = ("neuralnetwork",)


def _coremltools() -> Any:
    try:
        import coremltools
    except ImportError as err:
        raise SerdeError("Core ML needs coremltools: pip install 'mxnet-serde[coreml]'") from err
    return coremltools


@guarded
def to_coreml(obj: Any, params: Any = None, *, input_format: str | None = None,
              input_shapes: Any = None, input_types: Any = None,
              input_names: Sequence[str] | None = None, model_name: str | None = None,
              metadata: Mapping[str, str] | None = None) -> Any:
    """Convert a Symbol (+ params), a bound Module or a Gluon HybridBlock to a Core ML
    NeuralNetwork specification (``coremltools.proto.Model_pb2.Model``)."""
    _coremltools()
    from .export.convert import symbol_to_coreml

    model = _export.normalise(obj, params, input_format, input_shapes, input_types, input_names)
    return symbol_to_coreml(model.sym, model.arg_params, model.aux_params,
                            input_shapes=model.input_shapes, input_types=model.typed(input_types),
                            model_name=model_name or model.name, metadata=metadata)


@guarded
def save_coreml(spec: Any, path: str | os.PathLike) -> Path:
    """Check ``spec`` with coremltools and write it atomically."""
    ct = _coremltools()
    try:
        ct.models.MLModel(spec, skip_model_load=True)  # coremltools' own validation
    except Exception as err:
        raise InvalidModelError(f"coremltools rejects the Core ML model: {err}") from err
    return atomic_write(Path(path), lambda tmp: tmp.write_bytes(spec.SerializeToString(deterministic=True)))


def export_coreml(obj: Any, params: Any = None, *, input_format: str | None = None,
                  filename_prefix: str | os.PathLike, input_shapes: Any = None,
                  input_types: Any = None, input_names: Sequence[str] | None = None,
                  dynamic_batch: bool = False, return_model: bool = False,
                  coreml_format: str = "neuralnetwork",
                  metadata: Mapping[str, str] | None = None) -> Any:
    """Write ``<filename_prefix>.mlmodel``; returns the path, or ``(path, spec)``.

    The NeuralNetwork format's fixed-rank layers keep the batch on an axis of its own, so
    every exported model takes any batch size (``dynamic_batch`` needs nothing more).
    """
    if coreml_format not in COREML_FORMATS:
        raise InvalidModelError(f"coreml_format must be one of {COREML_FORMATS}, "
                                f"not {coreml_format!r}")
    spec = to_coreml(obj, params, input_format=input_format, input_shapes=input_shapes,
                     input_types=input_types, input_names=input_names,
                     model_name=Path(filename_prefix).name, metadata=metadata)
    path = save_coreml(spec, f"{os.fspath(filename_prefix)}.mlmodel")
    return (path, spec) if return_model else path


IMPORT_OUTPUT_FORMATS = ("gluon", "symbolic")


def import_coreml(path: Any, output_format: str = "gluon", *, ctx: Any = None) -> Any:
    """Import a Core ML model — a NeuralNetwork ``.mlmodel`` (path, bytes or spec) or an ML
    Program ``.mlpackage`` directory: a Gluon SymbolBlock, or ``(sym, params)``."""
    if output_format not in IMPORT_OUTPUT_FORMATS:
        raise InvalidModelError(f"output_format must be one of {IMPORT_OUTPUT_FORMATS}, "
                                f"not {output_format!r}")
    _coremltools()
    from .._import import check_runnable, needs_numpy_shapes, symbol_block, to_ndarrays
    from .importer.convert import import_spec

    if isinstance(path, (str, os.PathLike)) and Path(path).is_dir():
        from .importer.mil import import_program, load_program

        spec, program = load_program(path)
        graph = import_program(spec, program) if program is not None else import_spec(spec)
    else:
        graph = import_spec(path)
    shapes = getattr(graph, "input_shapes", {})
    check_runnable(graph.sym, [(name, shapes.get(name), dtype) for name, dtype in graph.inputs],
                   graph.params)
    if output_format == "symbolic":
        return graph.sym, to_ndarrays(graph.params, ctx)
    return symbol_block(graph.sym, graph.inputs, graph.params, ctx,
                        numpy_shapes=needs_numpy_shapes([shapes.get(n) for n, _ in graph.inputs]))
