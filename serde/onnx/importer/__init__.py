"""ONNX -> MXNet importer: ``import_onnx`` builds a Gluon SymbolBlock or (Symbol, params)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mxnet as mx

from ..._import import check_runnable, needs_numpy_shapes, split_params, symbol_block, to_ndarrays
from ...errors import InvalidModelError
from .context import StaticValueRequired
from .convert import ImportedGraph, import_graph
from .loader import get_model_metadata, load_model
from .registry import IMPORT_REGISTRY, lookup, supported_ops
from .validate import check_model

__all__ = ["import_onnx", "import_graph", "split_params", "get_model_metadata",
           "ImportedGraph", "StaticValueRequired", "IMPORT_REGISTRY", "lookup", "supported_ops",
           "to_ndarrays", "to_symbol_block"]

OUTPUT_FORMATS = ("gluon", "symbolic")


def to_symbol_block(graph: ImportedGraph, ctx: Any = None) -> mx.gluon.SymbolBlock:
    # unused inputs stay (SymbolBlock ignores them): callers pass the ONNX inputs positionally
    return symbol_block(graph.sym, [(i.name, i.dtype) for i in (graph.signature or graph.inputs)],
                        graph.params, ctx,
                        numpy_shapes=needs_numpy_shapes([i.shape for i in graph.inputs]))


def import_onnx(model: Any, output_format: str = "gluon", *, ctx: Any = None,
                input_shapes: Mapping[str, Sequence[int]] | None = None,
                constant_inputs: Mapping[str, Any] | None = None) -> Any:
    """Import an ONNX model: a Gluon SymbolBlock, or ``(sym, params)`` for ``symbolic``."""
    if output_format not in OUTPUT_FORMATS:
        raise InvalidModelError(f"output_format must be one of {OUTPUT_FORMATS}, "
                                f"not {output_format!r}")
    proto, _ = load_model(model)
    check_model(proto, input_shapes, constant_inputs)
    graph = import_graph(proto, input_shapes=input_shapes, constant_inputs=constant_inputs)
    del proto  # the graph holds what it needs: free the model before the checks
    check_runnable(graph.sym, [(i.name, i.shape, i.dtype) for i in graph.inputs], graph.params)
    if output_format == "symbolic":
        return graph.sym, to_ndarrays(graph.params, ctx)
    return to_symbol_block(graph, ctx)
