"""Module/Symbol-flavoured wrappers (the design note's ``mx.mod.Module.import_from`` / ``export``)."""
from __future__ import annotations

import os
from typing import Any

from ._api import export_model, import_model


def export(module_or_symbol: Any, params: Any = None, output_format: str = "onnx", *,
           filename_prefix: str | os.PathLike, **kwargs: Any) -> Any:
    """Export a bound Module, or a Symbol with its params; see ``serde.export_model``."""
    return export_model(module_or_symbol, params, input_format="symbolic",
                        output_format=output_format, filename_prefix=filename_prefix, **kwargs)


def import_from(path: Any, input_format: str = "onnx", **kwargs: Any) -> Any:
    """Import a model as ``(sym, params)``."""
    return import_model(path, input_format=input_format, output_format="symbolic", **kwargs)
