"""The MXNet side every output format converts from: one Symbol's JSON graph analysed once —
data inputs in the caller's order, parameters, training labels that inference never reads,
every internal tensor's shape and dtype from MXNet's own inference — and ``MxNode``, the typed
view of one operator node that format converters read."""
from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mxnet as mx
import numpy as np

from ._export import normalise_input_types
from .errors import ConversionError, InvalidModelError, mxnet_message

#: Ops whose inputs beyond the first are training labels, unused at inference.
LOSS_OUTPUT_OPS = {"SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
                   "MAERegressionOutput", "SVMOutput"}

_MISSING = object()


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


@dataclass
class MxNode:
    """One MXNet operator node, with its inputs resolved to the target format's tensor names."""

    name: str
    op: str
    attrs: dict[str, str]
    inputs: list[str]
    outputs: list[str]  # preferred names of the visible outputs (MXNet's own names)
    subgraphs: list[dict] = field(default_factory=list)  # control flow: the bodies' JSON

    def _raw(self, key: str, default: Any) -> Any:
        if key not in self.attrs:
            if default is _MISSING:
                raise ConversionError(f"missing attribute {key!r}", node=self.name, op=self.op)
            return default
        return self.attrs[key]

    def has(self, key: str) -> bool:
        return key in self.attrs and self.attrs[key] not in ("None", "")

    def str(self, key: str, default: Any = _MISSING) -> Any:
        value = self._raw(key, default)
        return value if value is default else str(value)

    def bool(self, key: str, default: Any = _MISSING) -> Any:
        value = self._raw(key, default)
        if value is default:
            return value
        return str(value).strip().lower() in ("true", "1")

    def int(self, key: str, default: Any = _MISSING) -> Any:
        value = self._raw(key, default)
        if value is default or value == "None":
            return default if value == "None" and default is not _MISSING else value
        return int(float(value))

    def float(self, key: str, default: Any = _MISSING) -> Any:
        value = self._raw(key, default)
        if value is default or value == "None":
            return default if value == "None" and default is not _MISSING else value
        return float(value)

    def tuple(self, key: str, default: Any = _MISSING) -> Any:
        value = self._raw(key, default)
        if value is default:
            return value
        parsed = _literal(str(value))
        if parsed is None:
            return default if default is not _MISSING else ()
        if isinstance(parsed, (int, float)):
            return (parsed,)
        return tuple(parsed)

    def optional(self, key: str) -> Any:
        """The literal value of ``key``, or None when absent or 'None'."""
        if not self.has(key):
            return None
        return _literal(self.attrs[key])

    def fail(self, message: str, opset: int | None = None) -> ConversionError:
        return ConversionError(message, node=self.name, op=self.op, opset=opset)


def as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, mx.nd.NDArray):
        return value.asnumpy()
    return np.asarray(value)


def normalise_shapes(input_shapes: Any, data_names: Sequence[str],
                     inputs_with_labels: Sequence[str] = ()) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` from a dict, or from a list in data-input order (MXNet's ``in_shapes``;
    a list that also holds the labels' shapes, in ``list_inputs`` order, is accepted too)."""
    if input_shapes is None:
        return {}
    try:
        if isinstance(input_shapes, Mapping):
            return {str(k): tuple(int(d) for d in v) for k, v in input_shapes.items()}
        shapes = list(input_shapes)
        if shapes and all(isinstance(d, (int, np.integer)) for d in shapes):
            shapes = [shapes]  # a single shape for a single input
        shapes = [tuple(int(d) for d in s) for s in shapes]
    except (TypeError, ValueError) as err:
        raise InvalidModelError(f"input shapes must be a dict {{name: shape}} or a list of "
                                f"shapes (tuples of ints), not {input_shapes!r}") from err
    if len(shapes) == len(inputs_with_labels) != len(data_names):
        return dict(zip(inputs_with_labels, shapes, strict=True))
    if len(shapes) != len(data_names):
        raise InvalidModelError(
            f"{len(shapes)} input shape(s) given for {len(data_names)} data input(s) "
            f"{list(data_names)}; pass a dict {{name: shape}} to be explicit")
    return dict(zip(data_names, shapes, strict=True))


def rename_duplicate_nodes(nodes: list[dict[str, Any]]) -> bool:
    """Give operator nodes that share a name (a Gluon block called twice) unique names,
    deterministically: the second ``dropout0`` becomes ``dropout0_1``. Returns whether any
    name changed."""
    taken = {n["name"] for n in nodes}
    seen: set[str] = set()
    changed = False
    for node in nodes:
        name = node["name"]
        if name in seen and node["op"] != "null":
            k = 1
            while f"{name}_{k}" in taken:
                k += 1
            node["name"] = f"{name}_{k}"
            taken.add(node["name"])
            changed = True
        seen.add(node["name"])
    return changed


def label_only_nodes(nodes: list[dict[str, Any]], heads: list[list[int]]) -> set[int]:
    """Nodes whose every use ends in the label input of an output layer (``softmax_label``,
    also through a Reshape or one_hot): training plumbing that inference never reads."""
    consumers: dict[int, list[tuple[int, int]]] = {}
    for node_id, node in enumerate(nodes):
        for pos, (src, *_rest) in enumerate(node.get("inputs", [])):
            consumers.setdefault(src, []).append((node_id, pos))
    head_ids = {src for src, *_ in heads}
    label_only: set[int] = set()
    for node_id in reversed(range(len(nodes))):
        uses = consumers.get(node_id, [])
        if node_id in head_ids or not uses:
            continue
        if all((nodes[c]["op"] in LOSS_OUTPUT_OPS and pos >= 1) or c in label_only
               for c, pos in uses):
            label_only.add(node_id)
    return label_only


@dataclass
class MxGraph:
    """One Symbol analysed for conversion (see ``analyse``)."""

    sym: mx.sym.Symbol
    nodes: list[dict[str, Any]]  # the JSON nodes, topological order, unique names
    heads: list[list[int]]
    params: dict[str, np.ndarray]  # arg and aux parameters by name
    var_names: list[str]  # every variable node
    label_only: set[int]  # node ids inference never reads
    data_names: list[str]  # the data inputs, in the caller's order
    input_shapes: dict[str, tuple[int, ...]]
    input_types: dict[str, np.dtype]
    out_names: list[str]  # every internal output, in MXNet's order
    shapes: dict[str, tuple[int, ...]]  # of internal outputs MXNet could infer
    dtypes: dict[str, np.dtype]
    outputs_of: dict[str, list[str]]  # node name -> its internal output names

    @property
    def head_names(self) -> list[str]:
        return self.sym.list_outputs()


def analyse(sym: mx.sym.Symbol, arg_params: Mapping[str, Any],
            aux_params: Mapping[str, Any] | None = None, *, input_shapes: Any = None,
            input_types: Any = None) -> MxGraph:
    """Check a Symbol against its parameters and the given input shapes/dtypes and infer every
    internal tensor's shape and dtype, naming what is wrong when they do not fit."""
    if not isinstance(sym, mx.sym.Symbol):
        raise InvalidModelError(f"expected an mxnet Symbol, got {type(sym).__name__}")
    params = {**{k: as_numpy(v) for k, v in arg_params.items()},
              **{k: as_numpy(v) for k, v in dict(aux_params or {}).items()}}

    graph = json.loads(sym.tojson())
    if rename_duplicate_nodes(graph["nodes"]):
        sym = mx.sym.load_json(json.dumps(graph))
    nodes = graph["nodes"]
    var_names = [n["name"] for n in nodes if n["op"] == "null"]
    label_only = label_only_nodes(nodes, graph["heads"])

    # Classify variables: parameters, training labels (dropped), data inputs (in MXNet's order).
    labels = [nodes[i]["name"] for i in sorted(label_only)
              if nodes[i]["op"] == "null" and nodes[i]["name"] not in params]
    inputs_in_order = [n for n in sym.list_inputs() if n not in params]
    data_names = [n for n in inputs_in_order if n not in labels]
    if isinstance(input_shapes, Mapping) and set(data_names) <= set(input_shapes):
        # the caller's order (a block's arguments, a Module's data_names) over the graph's
        # order of first use: positional callers of the converted model expect it
        data_names = [n for n in input_shapes if n in set(data_names)]
    extra = sorted(set(params) - set(var_names))
    if extra:
        raise InvalidModelError(f"{len(extra)} parameter(s) are not used by the graph: "
                                f"{extra[:10]}{' ...' if len(extra) > 10 else ''}")
    shapes_in = normalise_shapes(input_shapes, data_names, inputs_in_order)
    for label in labels:  # a label's shape may be given, as MXNet's exporter allowed; unused
        shapes_in.pop(label, None)
    unknown = sorted(set(shapes_in) - set(data_names))
    if unknown:
        raise InvalidModelError(f"input_shapes names {unknown}, which are not data inputs of the "
                                f"graph (data inputs: {data_names}; parameters are given by params)")
    missing = [n for n in data_names if n not in shapes_in]
    if missing:
        raise InvalidModelError(
            f"no shape for graph variable(s) {missing}: give input_shapes for data inputs, "
            f"or pass the missing parameters")
    given_types = normalise_input_types(input_types, data_names)
    types_in = {n: given_types.get(n, np.dtype(np.float32)) for n in data_names}

    # Shapes and dtypes of every internal output, from MXNet's own inference.
    internals = sym.get_internals()
    out_names = internals.list_outputs()
    known_shapes = {**shapes_in, **{k: v.shape for k, v in params.items()}}
    known_types = {**types_in, **{k: v.dtype for k, v in params.items()}}
    for label in labels:
        known_types.setdefault(label, np.dtype(np.float32))
    try:
        _, shapes, _ = internals.infer_shape_partial(**known_shapes)
        _, dtypes, _ = internals.infer_type(**known_types)
    except mx.base.MXNetError as err:
        raise InvalidModelError("the given shapes/dtypes do not fit the graph: "
                                f"{mxnet_message(err)}") from err
    outputs_of: dict[str, list[str]] = {}
    for k, out_name in enumerate(out_names):
        outputs_of.setdefault(internals[k].name, []).append(out_name)
    return MxGraph(sym=sym, nodes=nodes, heads=graph["heads"], params=params,
                   var_names=var_names, label_only=label_only, data_names=data_names,
                   input_shapes=shapes_in, input_types=types_in, out_names=out_names,
                   shapes={n: tuple(s) for n, s in zip(out_names, shapes, strict=True)
                           if s is not None},
                   dtypes={n: np.dtype(d) for n, d in zip(out_names, dtypes, strict=True)
                           if d is not None},
                   outputs_of=outputs_of)
