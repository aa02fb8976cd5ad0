"""The public entry points: ``export_model`` and ``import_model`` pick the format's exporter or
importer from a small table; every format converts from the same MXNet-side normalisation
(``serde._export``)."""
from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Sequence
from typing import Any

from ._io import check_target
from ._validate import check_export_options, check_mxnet_inputs
from .errors import InvalidModelError, SerdeError, guarded
from .onnx.api import save_onnx, to_onnx

# format -> (module, exporter, importer); imported on first use so a format's dependencies
# (coremltools for Core ML) are only needed by those who use it.
FORMATS: dict[str, tuple[str, str, str]] = {
    "onnx": ("serde.onnx.api", "export_onnx", "import_onnx"),
    "coreml": ("serde.coreml.api", "export_coreml", "import_coreml"),
}
OUTPUT_FORMATS = tuple(FORMATS)
_SUFFIXES = {"onnx": ".onnx", "coreml": ".mlmodel"}
_FORMAT_NAMES = {"onnx": "ONNX", "coreml": "Core ML"}

__all__ = ["export_model", "import_model", "to_onnx", "save_onnx", "OUTPUT_FORMATS"]


def _entry_point(fmt: Any, which: int, role: str) -> Callable[..., Any]:
    if fmt not in FORMATS:
        raise InvalidModelError(f"{role} must be one of {OUTPUT_FORMATS}, not {fmt!r}")
    module_name, *functions = FORMATS[fmt]
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        if (err.name or "").startswith("serde"):
            raise SerdeError(f"{_FORMAT_NAMES[fmt]} is not available in this version of "
                             f"mxnet-serde") from err
        raise SerdeError(f"{_FORMAT_NAMES[fmt]} needs a package that is not installed "
                         f"({err.name or err}): pip install 'mxnet-serde[{fmt}]'") from err
    return getattr(module, functions[which])


_EXPORT_ARGUMENTS = {"input_format", "filename_prefix", "input_shapes", "input_types",
                     "input_names", "dynamic_batch", "return_model"}
_IMPORT_ARGUMENTS = {"ctx"}


def _check_options(fn: Callable[..., Any], options: dict[str, Any], fmt: str,
                   common: set[str]) -> None:
    """Options of another format are refused by name, not as a TypeError deep inside."""
    accepted = {name for name, p in inspect.signature(fn).parameters.items()
                if p.kind is p.KEYWORD_ONLY} - common
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InvalidModelError(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
                                f"not an option of the {fmt} format; it takes "
                                f"{', '.join(sorted(accepted))}")


@guarded
def export_model(obj: Any, params: Any = None, *, input_format: str | None = None,
                 output_format: str = "onnx", filename_prefix: str | os.PathLike,
                 input_shapes: Any = None, input_types: Any = None,
                 input_names: Sequence[str] | None = None, dynamic_batch: bool = False,
                 return_model: bool = False, **format_options: Any) -> Any:
    """Export an MXNet model and write ``<filename_prefix>.onnx`` (or ``.mlmodel``).

    ``obj`` is a Symbol (or a ``-symbol.json`` path) with ``params`` (a dict, an (arg, aux) pair
    or a ``.params`` path), a bound ``Module``, or an initialised Gluon ``HybridBlock``.
    Returns the written path, or ``(path, model)`` with ``return_model=True``. Options of the
    output format go by keyword: ONNX takes ``opset_version``, ``dynamic_axes`` and
    ``external_data_threshold``; Core ML takes ``coreml_format`` and its metadata.
    """
    exporter = _entry_point(output_format, 0, "output_format")
    _check_options(exporter, format_options, output_format, _EXPORT_ARGUMENTS)
    check_mxnet_inputs(obj, params)
    check_export_options(input_shapes, input_types)
    suffix = ".mlpackage" if format_options.get("coreml_format") == "mlprogram" else \
        _SUFFIXES[output_format]
    check_target(f"{os.fspath(filename_prefix)}{suffix}")
    return exporter(obj, params, input_format=input_format, filename_prefix=filename_prefix,
                    input_shapes=input_shapes, input_types=input_types,
                    input_names=input_names, dynamic_batch=dynamic_batch,
                    return_model=return_model, **format_options)


@guarded
def import_model(path: Any, input_format: str = "onnx", output_format: str = "gluon", *,
                 ctx: Any = None, **format_options: Any) -> Any:
    """Import an ONNX (or Core ML) model as a Gluon SymbolBlock or a (Symbol, params) pair.

    ``path`` is a file path, bytes or the format's in-memory model. ``output_format="gluon"``
    gives a ``SymbolBlock`` with its parameters on ``ctx``; ``"symbolic"`` gives ``(sym,
    params)`` with every arg and aux parameter by name (``split_params`` separates them for
    ``Module``). ONNX also takes ``input_shapes`` (fixing dynamic input dims) and
    ``constant_inputs`` (graph inputs MXNet needs as static attributes, baked into the graph).
    """
    importer = _entry_point(input_format, 1, "input_format")
    _check_options(importer, format_options, input_format, _IMPORT_ARGUMENTS)
    return importer(path, output_format, ctx=ctx, **format_options)
