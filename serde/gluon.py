"""Gluon-flavoured wrappers (the design note's ``mx.gluon.import_from`` / ``export``)."""
from __future__ import annotations

import os
from typing import Any

from ._api import export_model, import_model


def export(net: Any, output_format: str = "onnx", *, filename_prefix: str | os.PathLike,
           **kwargs: Any) -> Any:
    """Export an initialised Gluon HybridBlock; see ``serde.export_model`` for the options."""
    return export_model(net, input_format="gluon", output_format=output_format,
                        filename_prefix=filename_prefix, **kwargs)


def import_from(path: Any, input_format: str = "onnx", **kwargs: Any) -> Any:
    """Import a model as a Gluon ``SymbolBlock``."""
    return import_model(path, input_format=input_format, output_format="gluon", **kwargs)
