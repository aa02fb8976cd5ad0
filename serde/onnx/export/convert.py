"""MXNet Symbol + parameters -> ONNX ModelProto."""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import mxnet as mx
import numpy as np
import onnx
from onnx import helper, numpy_helper

from ... import __version__
from ..._graph import MxNode, analyse
from ...errors import (
    ConversionError,
    InvalidModelError,
    SerdeError,
    UnsupportedOperatorError,
)
from .context import ExportContext
from .legalize import legalize_types
from .registry import (
    DEFAULT_EXPORT_OPSET,
    EXPORT_REGISTRY,
    MAX_EXPORT_OPSET,
    MIN_EXPORT_OPSET,
    ExportRegistry,
)

log = logging.getLogger(__name__)

#: ONNX protobuf limit: larger models keep their weights as external data.
PROTOBUF_LIMIT_BYTES = 2**31 - 1


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
    mxg = analyse(sym, arg_params, aux_params, input_shapes=input_shapes,
                  input_types=input_types)
    sym, nodes, params, label_only = mxg.sym, mxg.nodes, mxg.params, mxg.label_only
    var_names, data_names, outputs_of = mxg.var_names, mxg.data_names, mxg.outputs_of
    shapes_in, types_in = mxg.input_shapes, mxg.input_types
    dyn = _normalise_dynamic_axes(dynamic_axes, dynamic_batch, data_names)

    ctx = ExportContext(opset=opset, dynamic_inputs=dyn)
    for name in mxg.out_names:
        ctx.reserve(name)
    ctx.shapes.update(mxg.shapes)
    ctx.dtypes.update(mxg.dtypes)
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
    for (src, idx, *_), out_name in zip(mxg.heads, head_names, strict=True):
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
