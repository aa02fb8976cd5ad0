"""The MXNet side every importer produces: parameters as NDArrays, a Gluon SymbolBlock, and the
arg/aux split ``Module`` needs."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import mxnet as mx
import numpy as np

from .errors import InvalidModelError, mxnet_message


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


def check_runnable(sym: mx.sym.Symbol, inputs: Sequence[tuple[str, Any, Any]],
                   params: Mapping[str, np.ndarray]) -> None:
    """Refuse a graph MXNet cannot run on inputs of their declared shapes and dtypes (an
    attribute or shape the importer accepted but an MXNet op rejects), so that a model that
    imports is one that runs. ``inputs`` are (name, shape or None, dtype) triples; unknown
    dims are left for MXNet to infer, and nothing is checked when an input's rank is
    unknown."""
    known = set(sym.list_inputs())
    used = [(n, shape, dtype) for n, shape, dtype in inputs if n in known]
    if any(shape is None or dtype is None for _, shape, dtype in used):
        return  # an input of unknown rank or dtype: MXNet's partial inference would guess
    shapes = {k: tuple(v.shape) for k, v in params.items() if k in known}
    dtypes = {k: np.dtype(v.dtype) for k, v in params.items() if k in known}
    for name, _, dtype in used:
        dtypes[name] = np.dtype(dtype)
    try:
        sym.infer_type(**dtypes)
    except mx.base.MXNetError as err:
        raise InvalidModelError(f"the imported graph cannot run in MXNet on inputs of its "
                                f"declared dtypes: {mxnet_message(err)}") from err
    # dynamic dims: first left unknown; where an op cannot infer without them (numpy ops
    # cannot), at 1. A failure is conclusive only when every declared dim is static: with
    # dynamic ones, an op may just need sizes that no fixed guess gives (a pooling window
    # over an image of any size).
    dynamic = any(not (isinstance(d, (int, np.integer)) and d > 0)
                  for _, shape, _ in used for d in shape)
    failure = None
    for unknown in (0, 1):
        trial = dict(shapes)
        for name, shape, _ in used:
            trial[name] = tuple(int(d) if isinstance(d, (int, np.integer)) and d > 0
                                else unknown for d in shape)
        try:
            sym.infer_shape_partial(**trial)
        except mx.base.MXNetError as err:
            failure = failure or err
            continue
        _check_axes(sym, trial)
        return
    if dynamic:
        return
    raise InvalidModelError(f"the imported graph cannot run in MXNet on inputs of its "
                            f"declared shapes: {mxnet_message(failure)}") from failure


#: MXNet ops whose ``axis`` attribute indexes their first input's axes, which MXNet checks
#: only when the op runs (shape inference lets an out-of-range axis through).
_AXIS_OPS = frozenset({
    "softmax", "log_softmax", "softmin", "slice_axis", "SliceChannel", "split", "take",
    "topk", "argmax", "argmin", "sort", "argsort", "pick", "sum", "mean", "max", "min", "prod",
    "nansum", "nanprod", "norm", "LayerNorm", "squeeze", "reverse", "flip", "cumsum",
    "_npi_cumsum", "broadcast_axis", "one_hot", "_contrib_arange_like", "L2Normalization"})


def _check_axes(sym: mx.sym.Symbol, shapes: Mapping[str, tuple[int, ...]]) -> None:
    internals = sym.get_internals()
    try:
        _, out_shapes, _ = internals.infer_shape_partial(**shapes)
    except mx.base.MXNetError:
        return  # already accepted by the whole graph's inference
    # each node's outputs in order ("<node>_output" or "<node>_output<k>"; variables by name)
    outputs: dict[str, list[tuple[int, ...]]] = {}
    for name, shape in zip(internals.list_outputs(), out_shapes, strict=True):
        outputs.setdefault(re.sub(r"_output\d*$", "", name), []).append(tuple(shape or ()))
    nodes = json.loads(sym.tojson())["nodes"]
    for node in nodes:
        axis = node.get("attrs", {}).get("axis")
        if node["op"] not in _AXIS_OPS or axis in (None, "None", "()") or not node["inputs"]:
            continue
        src, index = node["inputs"][0][:2]
        produced = outputs.get(nodes[src]["name"], [])
        rank = len(produced[index]) if index < len(produced) else 0
        try:
            values = [int(v) for v in axis.strip("()[] ").split(",") if v.strip()]
        except ValueError:
            continue  # not integers: MXNet's own parser names it
        if rank and any(not -rank <= v < rank for v in values):
            raise InvalidModelError(f"node {node['name']!r} (MXNet {node['op']}) takes axis "
                                    f"{axis} of a rank-{rank} input: the graph would fail at "
                                    f"its first forward")
