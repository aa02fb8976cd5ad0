"""The MXNet side every importer produces: parameters as NDArrays, a Gluon SymbolBlock, and the
arg/aux split ``Module`` needs."""
from __future__ import annotations

import contextlib
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


class _NumpyShapeSymbolBlock(mx.gluon.SymbolBlock):
    """A SymbolBlock whose forward runs with NumPy shape semantics: under MXNet's legacy ones a
    0-d or zero-size input reads as a shape still to infer, and the cached op fails."""

    def forward(self, x: Any, *args: Any) -> Any:
        with mx.util.np_shape(True):
            return super().forward(x, *args)


def symbol_block(sym: mx.sym.Symbol, inputs: Sequence[tuple[str, Any]],
                 params: Mapping[str, np.ndarray], ctx: Any = None, *,
                 numpy_shapes: bool = False) -> mx.gluon.SymbolBlock:
    """A SymbolBlock over ``sym`` taking ``inputs`` ((name, dtype) pairs, in calling order)
    with ``params`` loaded on ``ctx``; unused inputs stay, so positional calls line up.
    ``numpy_shapes`` (for graphs with 0-d or zero-size inputs) runs forward with NumPy shape
    semantics."""
    if not inputs:
        raise InvalidModelError(
            "the graph has no free input (the model declares none, or constant_inputs binds "
            "them all), and a Gluon block needs one to be called: import it with "
            "output_format='symbolic', or leave an input unbound")
    ctx = ctx or mx.cpu()
    block_type = _NumpyShapeSymbolBlock if numpy_shapes else mx.gluon.SymbolBlock
    block = block_type(outputs=sym,
                       inputs=[mx.sym.var(name, dtype=dtype) for name, dtype in inputs])
    block_params = block.collect_params()
    for name, value in params.items():
        param = block_params[name]
        param.shape = value.shape
        # the stored dtype is the graph's: a parameter no op constrains (a graph output that
        # folded to a constant) is otherwise inferred as float32
        param._load_init(mx.nd.array(value, ctx=ctx, dtype=value.dtype), ctx,
                         cast_dtype=True, dtype_source="saved")
    return block


def needs_numpy_shapes(shapes: Sequence[Any]) -> bool:
    """Whether inputs of these declared shapes (None for unknown rank) need NumPy shape
    semantics: a 0-d input, or a dim declared 0."""
    return any(shape is not None and (len(shape) == 0 or 0 in shape) for shape in shapes)


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
    # a dynamic leading (batch) axis is taken at 1, a size any batch axis accepts. Other
    # dynamic dims: first left unknown; where an op cannot infer without them (numpy ops
    # cannot), at 1. A failure is conclusive only when every other dim is static: with
    # dynamic ones, an op may just need sizes that no fixed guess gives (a pooling window
    # over an image of any size).
    def static(dim: Any) -> bool:
        return isinstance(dim, (int, np.integer)) and dim > 0

    def declared(dim: Any) -> bool:  # a size, or a 0 for a zero-size axis
        return isinstance(dim, (int, np.integer)) and dim >= 0

    used = [(name, tuple(1 if k == 0 and not declared(d) else d for k, d in enumerate(shape)),
             dtype) for name, shape, dtype in used]
    dynamic = any(not static(d) for _, shape, _ in used for d in shape)
    failure = None
    for unknown in (0, 1):
        trial = dict(shapes)
        for name, shape, _ in used:
            trial[name] = tuple(int(d) if static(d) else unknown for d in shape)
        try:
            sym.infer_shape_partial(**trial)
        except mx.base.MXNetError as err:
            failure = failure or err
            continue
        _check_axes(sym, trial)
        if not dynamic:
            _trial_forward(sym, used, params)
        return
    if dynamic:
        return
    raise InvalidModelError(f"the imported graph cannot run in MXNet on inputs of its "
                            f"declared shapes: {mxnet_message(failure)}") from failure


#: graphs up to this many elements (inputs and parameters) get a trial forward at import
TRIAL_FORWARD_ELEMENTS = 1_000_000
#: integer division by a zero input kills the process (SIGFPE) inside these MXNet kernels
_DIVIDING_OPS = re.compile(r"div|mod|remainder", re.IGNORECASE)


def _trial_forward(sym: mx.sym.Symbol, inputs: Sequence[tuple[str, Any, Any]],
                   params: Mapping[str, np.ndarray]) -> None:
    """Run a small graph once on zeros of its (static) declared shapes: some limits MXNet
    checks only in its kernels (broadcasting over more than 5 axes, transposes over more
    than 6), after shape inference has passed. Zeros index every non-empty axis; graphs
    that divide are not tried, since an integer division by zero is not an error but a
    crash in MXNet."""
    sizes = [int(np.prod(shape)) for _, shape, _ in inputs] + [v.size for v in params.values()]
    if sum(sizes) > TRIAL_FORWARD_ELEMENTS or _divides_integers(sym, inputs, params):
        return
    aux_names = set(sym.list_auxiliary_states())
    numpy_shapes = needs_numpy_shapes([shape for _, shape, _ in inputs])
    try:
        with mx.util.np_shape(True) if numpy_shapes else contextlib.nullcontext():
            arrays = {name: mx.nd.zeros(tuple(shape), dtype=np.dtype(dtype))
                      for name, shape, dtype in inputs}
            arrays.update({k: mx.nd.array(v, dtype=v.dtype) for k, v in params.items()})
            executor = sym.bind(mx.cpu(), grad_req="null",
                                 args={k: v for k, v in arrays.items() if k not in aux_names},
                                 aux_states={k: v for k, v in arrays.items() if k in aux_names})
            for out in executor.forward(is_train=False):
                out.wait_to_read()
    except mx.base.MXNetError as err:
        raise InvalidModelError(f"the imported graph fails in MXNet on inputs of its declared "
                                f"shapes: {mxnet_message(err)}") from err


def _by_node(internals: mx.sym.Symbol, values: Sequence[Any]) -> dict[str, list[Any]]:
    """``values`` (one per output of ``internals``: inferred shapes or dtypes) grouped by node
    name, in output order ("<node>_output" or "<node>_output<k>"; variables by name)."""
    grouped: dict[str, list[Any]] = {}
    for name, value in zip(internals.list_outputs(), values, strict=True):
        grouped.setdefault(re.sub(r"_output\d*$", "", name), []).append(value)
    return grouped


def _divides_integers(sym: mx.sym.Symbol, inputs: Sequence[tuple[str, Any, Any]],
                      params: Mapping[str, np.ndarray]) -> bool:
    nodes = json.loads(sym.tojson())["nodes"]
    dividing = [n for n in nodes if _DIVIDING_OPS.search(n["op"])]
    if not dividing:
        return False
    internals = sym.get_internals()
    dtypes = {k: v.dtype for k, v in params.items()}
    dtypes.update({name: np.dtype(dtype) for name, _, dtype in inputs})
    try:
        _, out_types, _ = internals.infer_type_partial(**dtypes)
    except mx.base.MXNetError:
        return True
    produced = _by_node(internals, out_types)
    for node in dividing:
        for src, index, *_ in node["inputs"]:
            types = produced.get(nodes[src]["name"], [])
            dtype = types[index] if index < len(types) else None
            if dtype is None or np.dtype(dtype).kind in "iu":
                return True
    return False


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
    outputs = {node: [tuple(shape or ()) for shape in shapes]
               for node, shapes in _by_node(internals, out_shapes).items()}
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
