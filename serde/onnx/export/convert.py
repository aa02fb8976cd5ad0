"""MXNet Symbol + parameters -> ONNX ModelProto."""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import mxnet as mx
import numpy as np
import onnx
from onnx import helper, numpy_helper

from ... import __version__
from ..._export import normalise_input_types
from ...errors import (
    ConversionError,
    InvalidModelError,
    SerdeError,
    UnsupportedOperatorError,
    mxnet_message,
)
from .context import ExportContext, MxNode
from .legalize import legalize_types
from .registry import (
    DEFAULT_EXPORT_OPSET,
    EXPORT_REGISTRY,
    MAX_EXPORT_OPSET,
    MIN_EXPORT_OPSET,
    ExportRegistry,
)

log = logging.getLogger(__name__)

#: Ops whose inputs beyond the first are training labels, unused at inference.
LOSS_OUTPUT_OPS = {"SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
                   "MAERegressionOutput", "SVMOutput"}
#: ONNX protobuf limit: larger models keep their weights as external data.
PROTOBUF_LIMIT_BYTES = 2**31 - 1


def _as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, mx.nd.NDArray):
        return value.asnumpy()
    return np.asarray(value)


def _normalise_shapes(input_shapes: Any, data_names: Sequence[str],
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


def _normalise_dynamic_axes(dynamic_axes: Any, dynamic_batch: bool,
                            data_names: Sequence[str]) -> dict[str, dict[int, str]]:
    axes: dict[str, dict[int, str]] = {}
    if dynamic_batch:
        for name in data_names:
            axes[name] = {0: "batch"}
    for name, spec in (dynamic_axes or {}).items():
        if name not in data_names:
            raise InvalidModelError(f"dynamic_axes names {name!r}, which is not a data input "
                                    f"of the model (inputs: {list(data_names)})")
        if isinstance(spec, Mapping):
            axes.setdefault(name, {}).update({int(k): str(v) for k, v in spec.items()})
        else:
            axes.setdefault(name, {}).update({int(k): f"{name}_dim{int(k)}" for k in spec})
    return axes


def _rename_duplicate_nodes(nodes: list[dict[str, Any]]) -> bool:
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


def _label_only_nodes(nodes: list[dict[str, Any]], heads: list[list[int]]) -> set[int]:
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


def symbol_to_onnx(sym: mx.sym.Symbol, arg_params: Mapping[str, Any],
                   aux_params: Mapping[str, Any] | None = None, *,
                   input_shapes: Any = None, input_types: Any = None,
                   opset_version: int | None = None, dynamic_axes: Any = None,
                   dynamic_batch: bool = False, model_name: str = "mxnet_model",
                   doc_string: str | None = None,
                   registry: ExportRegistry = EXPORT_REGISTRY,
                   check: bool = True) -> onnx.ModelProto:
    """Convert an MXNet Symbol and its parameters to an ONNX model.

    ``input_shapes`` maps each data input to its shape (a list in input order also works);
    ``dynamic_axes`` maps input names to ``{axis: dim_name}``; ``dynamic_batch`` marks axis 0 of
    every data input as ``"batch"``.
    """
    opset = DEFAULT_EXPORT_OPSET if opset_version is None else int(opset_version)
    if not MIN_EXPORT_OPSET <= opset <= MAX_EXPORT_OPSET:
        raise InvalidModelError(f"opset {opset} is outside the supported export range "
                                f"{MIN_EXPORT_OPSET}..{MAX_EXPORT_OPSET}")
    if not isinstance(sym, mx.sym.Symbol):
        raise InvalidModelError(f"expected an mxnet Symbol, got {type(sym).__name__}")
    aux_params = dict(aux_params or {})
    params = {**{k: _as_numpy(v) for k, v in arg_params.items()},
              **{k: _as_numpy(v) for k, v in aux_params.items()}}

    graph = json.loads(sym.tojson())
    if _rename_duplicate_nodes(graph["nodes"]):
        sym = mx.sym.load_json(json.dumps(graph))
    nodes = graph["nodes"]
    var_names = [n["name"] for n in nodes if n["op"] == "null"]
    label_only = _label_only_nodes(nodes, graph["heads"])

    # Classify variables: parameters, training labels (dropped), data inputs (in MXNet's order).
    labels = [nodes[i]["name"] for i in sorted(label_only)
              if nodes[i]["op"] == "null" and nodes[i]["name"] not in params]
    inputs_in_order = [n for n in sym.list_inputs() if n not in params]
    data_names = [n for n in inputs_in_order if n not in labels]
    if isinstance(input_shapes, Mapping) and set(data_names) <= set(input_shapes):
        # the caller's order (a block's arguments, a Module's data_names) over the graph's
        # order of first use: positional callers of the imported model expect it
        data_names = [n for n in input_shapes if n in set(data_names)]
    extra = sorted(set(params) - set(var_names))
    if extra:
        raise InvalidModelError(f"{len(extra)} parameter(s) are not used by the graph: "
                                f"{extra[:10]}{' ...' if len(extra) > 10 else ''}")
    shapes_in = _normalise_shapes(input_shapes, data_names, inputs_in_order)
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
    dyn = _normalise_dynamic_axes(dynamic_axes, dynamic_batch, data_names)
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
    # Index the internal outputs by node name, in output order.
    outputs_of: dict[str, list[str]] = {}
    for k, out_name in enumerate(out_names):
        outputs_of.setdefault(internals[k].name, []).append(out_name)

    ctx = ExportContext(opset=opset, dynamic_inputs=dyn)
    for name, shape, dtype in zip(out_names, shapes, dtypes, strict=True):
        ctx.reserve(name)
        if shape is not None:
            ctx.shapes[name] = tuple(shape)
        if dtype is not None:
            ctx.dtypes[name] = np.dtype(dtype)
    for name in var_names:
        ctx.reserve(name)
    # What the caller gave is authoritative (MXNet's inference rewrites some input shapes,
    # e.g. column_stack's 1-D inputs).
    ctx.shapes.update({n: tuple(s) for n, s in shapes_in.items()})

    # Report every unsupported operator at once, before converting anything.
    unsupported = [(n["op"], n["name"]) for i, n in enumerate(nodes)
                   if n["op"] != "null" and i not in label_only
                   and registry.lookup(n["op"], opset) is None]
    if unsupported:
        raise UnsupportedOperatorError(unsupported, opset=opset)

    # Parameters become initializers (never also graph inputs).
    for name in var_names:
        if name in params:
            array = params[name]
            ctx.initializers[name] = numpy_helper.from_array(array, name)
            ctx.constants[name] = array
            ctx.shapes[name] = tuple(array.shape)
            ctx.dtypes[name] = array.dtype

    tensor_of: dict[tuple[int, int], str] = {}
    convert_nodes(nodes, outputs_of, tensor_of, label_only, ctx, registry)

    # Graph outputs keep MXNet's output names.
    graph_outputs = []
    head_names = sym.list_outputs()
    for (src, idx, *_), out_name in zip(graph["heads"], head_names, strict=True):
        tensor = tensor_of[(src, idx)]
        # Graph outputs are node outputs of their own: a head that is a graph input, a
        # parameter, another head, or a tensor named otherwise gets an Identity.
        if tensor != out_name or tensor in ctx.initializers or tensor in shapes_in or \
                out_name in graph_outputs:
            if out_name in graph_outputs or out_name in shapes_in or out_name in ctx.initializers:
                out_name = ctx.unique_name(f"{out_name}_output")
            ctx.emit("Identity", [tensor], [out_name], name=f"{out_name}_identity")
            ctx.dtypes[out_name] = ctx.dtype(tensor)
            ctx.shapes.setdefault(out_name, ctx.shapes.get(tensor))
        graph_outputs.append(out_name)

    onnx_nodes, used = _prune(ctx.nodes, graph_outputs)
    inputs_vi = []
    for name in data_names:
        # Every data input stays an input, also those read only for their shape
        # (broadcast_like, reshape_like, slice_like ...): callers feed what MXNet takes.
        dims: list[Any] = list(shapes_in[name])
        for axis, dim_name in dyn.get(name, {}).items():
            if not -len(dims) <= axis < len(dims):
                raise InvalidModelError(f"dynamic axis {axis} is out of range for input "
                                        f"{name!r} of rank {len(dims)}")
            dims[axis] = dim_name
        inputs_vi.append(helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(types_in[name]), dims))
    outputs_vi = [helper.make_tensor_value_info(name, ctx.onnx_dtype(name), None)
                  for name in graph_outputs]
    initializers = [t for name, t in ctx.initializers.items() if name in used]
    onnx_graph = helper.make_graph(onnx_nodes, model_name, inputs_vi, outputs_vi, initializers)
    model = helper.make_model(
        onnx_graph, opset_imports=[helper.make_opsetid("", opset)],
        producer_name="mxnet-serde", producer_version=__version__,
        doc_string=doc_string or f"{model_name} exported from MXNet {mx.__version__} by mxnet-serde",
        ir_version=helper.find_min_ir_version_for([helper.make_opsetid("", opset)]))
    helper.set_model_props(model, {"source_framework": "mxnet",
                                   "source_framework_version": mx.__version__,
                                   "converter": f"mxnet-serde {__version__}"})
    legalize_types(model, {name: helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
                           for name, dtype in ctx.dtypes.items() if dtype is not None})
    _set_output_shapes(model, ctx, graph_outputs, dyn)
    if check and model_bytes(model) < PROTOBUF_LIMIT_BYTES:
        check_onnx_model(model)
    return model


def convert_nodes(nodes: list[dict[str, Any]], outputs_of: dict[str, list[str]],
                  tensor_of: dict[tuple[int, int], str], label_only: set[int],
                  ctx: ExportContext, registry: ExportRegistry = EXPORT_REGISTRY) -> None:
    """Convert MXNet graph nodes (JSON, topological order) into ``ctx``; ``tensor_of`` maps
    (node id, output index) to ONNX tensor names and may be pre-filled for variables."""
    opset = ctx.opset
    for node_id, node in enumerate(nodes):
        if node["op"] == "null":
            tensor_of.setdefault((node_id, 0), node["name"])
            continue
        if node_id in label_only:  # training-label plumbing: never converted, never read
            for i, out_name in enumerate(outputs_of.get(node["name"], [])):
                tensor_of[(node_id, i)] = out_name
            continue
        inputs = []
        for src, idx, *_ in node.get("inputs", []):
            key = (src, idx)
            if key not in tensor_of:
                raise InvalidModelError(f"node {node['name']!r} reads output {idx} of node "
                                        f"{nodes[src]['name']!r}, which is not visible")
            inputs.append(tensor_of[key])
        mx_node = MxNode(name=node["name"], op=node["op"], attrs=dict(node.get("attrs", {})),
                         inputs=inputs, outputs=list(outputs_of.get(node["name"], [])),
                         subgraphs=list(node.get("subgraphs", [])))
        converter = registry.lookup(node["op"], opset)
        if converter is None:
            raise UnsupportedOperatorError([(node["op"], node["name"])], opset=opset)
        try:
            produced = list(converter.fn(mx_node, ctx))
        except SerdeError:
            raise
        except Exception as err:  # a converter bug must still name the node
            raise ConversionError(f"{type(err).__name__}: {err}", node=node["name"],
                                  op=node["op"], opset=opset) from err
        if len(produced) < len(mx_node.outputs):
            raise ConversionError(f"converter produced {len(produced)} outputs, MXNet has "
                                  f"{len(mx_node.outputs)}", node=node["name"], op=node["op"],
                                  opset=opset)
        for i, (preferred, tensor) in enumerate(zip(mx_node.outputs, produced, strict=False)):
            tensor_of[(node_id, i)] = tensor
            if tensor != preferred:
                ctx.shapes.setdefault(tensor, ctx.shapes.get(preferred))
                ctx.dtypes.setdefault(tensor, ctx.dtypes.get(preferred, np.dtype(np.float32)))


def tensor_bytes(tensor: onnx.TensorProto) -> int:
    """Size of an initializer's data from its dims and dtype (protobuf's ByteSize walks the
    message and costs ~80 ms on a 400 MB tensor)."""
    itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    return int(np.prod(tensor.dims, dtype=np.int64)) * itemsize


def model_bytes(model: onnx.ModelProto) -> int:
    """An upper-bound-ish estimate of the serialised size: weights plus a margin for the graph."""
    graph = model.graph
    return sum(tensor_bytes(t) for t in graph.initializer) + 1024 * (len(graph.node) + 64)


def _subgraph_reads(node: onnx.NodeProto) -> set[str]:
    """Every tensor name read inside a node's subgraphs (Scan/If/Loop bodies)."""
    reads: set[str] = set()
    for attr in node.attribute:
        graphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
        for graph in graphs:
            for inner in graph.node:
                reads.update(i for i in inner.input if i)
                reads.update(_subgraph_reads(inner))
    return reads


def _prune(nodes: list[onnx.NodeProto], outputs: list[str]) -> tuple[list[onnx.NodeProto], set[str]]:
    """Drop nodes that do not reach a graph output; return kept nodes and used tensor names."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
            needed.update(_subgraph_reads(node))
    kept.reverse()
    return kept, needed


#: Initializers up to this size keep their values for shape inference (Reshape targets, Slice
#: bounds, Resize scales ... are small); larger ones, the weights, travel as typed inputs.
SHAPE_INFERENCE_KEEP_BYTES = 4096


def _without_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` whose large initializers are typed graph inputs without data: shape
    inference on it is as good and does not serialise hundreds of MB of weights."""
    graph = model.graph
    small = [t for t in graph.initializer if tensor_bytes(t) <= SHAPE_INFERENCE_KEEP_BYTES]
    weights = [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
               for t in graph.initializer if tensor_bytes(t) > SHAPE_INFERENCE_KEEP_BYTES]
    light_graph = helper.make_graph(list(graph.node), graph.name, list(graph.input) + weights,
                                    list(graph.output), small)
    return helper.make_model(light_graph, opset_imports=list(model.opset_import),
                             ir_version=model.ir_version)


def _set_output_shapes(model: onnx.ModelProto, ctx: ExportContext, outputs: list[str],
                       dyn: dict[str, dict[int, str]]) -> None:
    """Declare output shapes: ONNX shape inference propagates symbolic dims from the inputs;
    where it cannot, MXNet's static shapes are used when no axis is dynamic."""
    try:
        inferred = onnx.shape_inference.infer_shapes(_without_weights(model), strict_mode=False)
        by_name = {vi.name: vi for vi in inferred.graph.output}
    except Exception:  # inference is a nicety here; check_model reports real problems
        by_name = {}
    for vi in model.graph.output:
        source = by_name.get(vi.name)
        if source is not None and source.type.tensor_type.HasField("shape"):
            vi.type.tensor_type.shape.CopyFrom(source.type.tensor_type.shape)
        elif ctx.shapes.get(vi.name) is not None:
            # MXNet's static shape; with dynamic axes only the rank is certain
            dims = ctx.shapes[vi.name] if not any(dyn.values()) else \
                [None] * len(ctx.shapes[vi.name])
            shape = helper.make_tensor_value_info(vi.name, 1, dims)
            vi.type.tensor_type.shape.CopyFrom(shape.type.tensor_type.shape)


def check_onnx_model(model: onnx.ModelProto | str) -> None:
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise ConversionError(f"the exported model fails onnx.checker: {err}") from err
