"""ONNX -> MXNet importer: ``import_onnx`` builds a Gluon SymbolBlock or (Symbol, params)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mxnet as mx
import numpy as np

from ...errors import InvalidModelError
from .context import StaticValueRequired
from .convert import ImportedGraph, import_graph
from .loader import get_model_metadata
from .registry import IMPORT_REGISTRY, lookup, supported_ops

__all__ = ["import_onnx", "import_graph", "split_params", "get_model_metadata",
           "ImportedGraph", "StaticValueRequired", "IMPORT_REGISTRY", "lookup", "supported_ops",
           "to_ndarrays", "to_symbol_block"]

OUTPUT_FORMATS = ("gluon", "symbolic")


def to_ndarrays(params: Mapping[str, np.ndarray], ctx: Any = None) -> dict[str, mx.nd.NDArray]:
    ctx = ctx or mx.cpu()
    return {k: mx.nd.array(v, ctx=ctx, dtype=v.dtype) for k, v in params.items()}


def split_params(sym: Any, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a flat ``params`` dict into ``(arg_params, aux_params)`` for ``sym``.

    Keys may carry the ``arg:`` / ``aux:`` prefixes of MXNet ``.params`` files.
    """
    aux_names = set(sym.list_auxiliary_states())
    arg_names = set(sym.list_arguments())
    arg, aux = {}, {}
    for key, value in params.items():
        name = key.split(":", 1)[1] if key.startswith(("arg:", "aux:")) else key
        if name in aux_names:
            aux[name] = value
        elif name in arg_names:
            arg[name] = value
    return arg, aux


def to_symbol_block(graph: ImportedGraph, ctx: Any = None) -> mx.gluon.SymbolBlock:
    ctx = ctx or mx.cpu()
    # unused inputs stay (SymbolBlock ignores them): callers pass the ONNX inputs positionally
    inputs = [mx.sym.var(i.name, dtype=i.dtype) for i in (graph.signature or graph.inputs)]
    block = mx.gluon.SymbolBlock(outputs=graph.sym, inputs=inputs)
    params = block.collect_params()
    for name, value in graph.params.items():
        param = params[name]
        param.shape = value.shape
        param._load_init(mx.nd.array(value, ctx=ctx, dtype=value.dtype), ctx)
    return block


def import_onnx(model: Any, output_format: str = "gluon", *, ctx: Any = None,
                input_shapes: Mapping[str, Sequence[int]] | None = None,
                constant_inputs: Mapping[str, Any] | None = None) -> Any:
    """Import an ONNX model: a Gluon SymbolBlock, or ``(sym, params)`` for ``symbolic``."""
    if output_format not in OUTPUT_FORMATS:
        raise InvalidModelError(f"output_format must be one of {OUTPUT_FORMATS}, "
                                f"not {output_format!r}")
    graph = import_graph(model, input_shapes=input_shapes, constant_inputs=constant_inputs)
    if output_format == "symbolic":
        return graph.sym, to_ndarrays(graph.params, ctx)
    return to_symbol_block(graph, ctx)
