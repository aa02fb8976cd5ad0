"""The MXNet side every importer produces: parameters as NDArrays, a Gluon SymbolBlock, and the
arg/aux split ``Module`` needs."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mxnet as mx
import numpy as np


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


def symbol_block(sym: mx.sym.Symbol, inputs: Sequence[tuple[str, Any]],
                 params: Mapping[str, np.ndarray], ctx: Any = None) -> mx.gluon.SymbolBlock:
    """A SymbolBlock over ``sym`` taking ``inputs`` ((name, dtype) pairs, in calling order)
    with ``params`` loaded on ``ctx``; unused inputs stay, so positional calls line up."""
    ctx = ctx or mx.cpu()
    block = mx.gluon.SymbolBlock(outputs=sym,
                                 inputs=[mx.sym.var(name, dtype=dtype) for name, dtype in inputs])
    block_params = block.collect_params()
    for name, value in params.items():
        param = block_params[name]
        param.shape = value.shape
        param._load_init(mx.nd.array(value, ctx=ctx, dtype=value.dtype), ctx)
    return block
