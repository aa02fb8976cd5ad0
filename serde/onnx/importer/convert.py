"""ONNX graph -> MXNet Symbol + parameters.

Passes, in order, each failing with a SerdeError before any MXNet work is done:
load (truncated files, external data outside the model folder) -> structure (cycles, dangling
names) -> unknown operators (all listed at once) -> onnx.checker -> shape inference with the known
input shapes -> size guard -> constant folding -> missing converters (all listed at once) ->
conversion, node by node, through the registry.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mxnet as mx
import numpy as np
import onnx
import onnx.inliner
from onnx import numpy_helper

from ...errors import (
    ConversionError,
    InvalidModelError,
    SerdeError,
    UnsupportedOperatorError,
    mxnet_message,
)
from . import dtypes
from .context import ImportContext, Node, np_var
from .fold import fold_constants
from .fuse import fuse_nms_masks, prune_dead
from .loader import check_size, check_structure, load_model, opsets, value_shape
from .registry import _load_ops, lookup, schema_version

log = logging.getLogger(__name__)

DIRECTION = "ONNX -> MXNet"
_KNOWN_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview", "ai.onnx.preview.training")
# initializers above this many elements are left out of the copy used for shape inference
_INFER_KEEP = 4096


@dataclass
class TensorInfo:
    name: str
    shape: tuple | None
    dtype: np.dtype | None


@dataclass
class ImportedGraph:
    """The MXNet side of an imported model."""
    sym: Any                                   # legacy-typed Symbol (Group when >1 output)
    params: dict[str, np.ndarray]              # every arg and aux parameter, by name
    inputs: list[TensorInfo]                   # data inputs the symbol reads, graph order
    outputs: list[TensorInfo]
    opset: int
    constant_inputs: list[str] = field(default_factory=list)
    unused_inputs: list[str] = field(default_factory=list)
    #: every data input in graph order, used or not: a Gluon block's positional arguments
    signature: list[TensorInfo] = field(default_factory=list)

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.outputs]


def _elem_type(value: onnx.ValueInfoProto) -> int | None:
    if value.type.HasField("tensor_type"):
        return value.type.tensor_type.elem_type
    return None


def _unknown_ops(nodes: Sequence[onnx.NodeProto], ops: dict[str, int]) -> list[tuple[str, str]]:
    unknown = []
    for index, node in enumerate(nodes):
        domain = "" if node.domain in ("", "ai.onnx") else node.domain
        label = node.name or f"{node.op_type}_{index}"
        if domain not in ops and domain != "":
            unknown.append((f"{node.domain}::{node.op_type}", label))
        elif domain not in _KNOWN_DOMAINS or \
                schema_version(node.op_type, ops.get(domain, 1), domain) is None:
            unknown.append((node.op_type if not domain else f"{domain}::{node.op_type}", label))
    return unknown


def _infer_shapes(proto: onnx.ModelProto, input_shapes: Mapping[str, Sequence[int]],
                  static: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """Shape inference on a light copy: known input shapes set, big initializers as inputs."""
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    graph = copy.graph
    keep, drop = [], []
    for tensor in graph.initializer:
        (keep if int(np.prod(tensor.dims)) <= _INFER_KEEP else drop).append(tensor)
    declared = {v.name for v in graph.input}
    for tensor in drop:
        if tensor.name not in declared:
            graph.input.append(onnx.helper.make_tensor_value_info(
                tensor.name, tensor.data_type, list(tensor.dims)))
    del graph.initializer[:]
    graph.initializer.extend(keep)
    for name, value in static.items():
        graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    for value in graph.input:
        if value.name in input_shapes and value.type.HasField("tensor_type"):
            tt = value.type.tensor_type
            tt.ClearField("shape")
            tt.shape.SetInParent()
            for dim in input_shapes[value.name]:
                tt.shape.dim.add().dim_value = int(dim)
    try:
        return onnx.shape_inference.infer_shapes(copy, check_type=False, strict_mode=False,
                                                 data_prop=True)
    except Exception as err:  # noqa: BLE001 - inference is best effort; converters check
        log.warning("ONNX shape inference failed (%s); converting with declared shapes only",
                    err)
        return copy


def _shape_info(proto: onnx.ModelProto, input_shapes: Mapping[str, Sequence[int]],
                static: Mapping[str, np.ndarray]) -> tuple[dict[str, tuple | None],
                                                           dict[str, int]]:
    inferred = _infer_shapes(proto, input_shapes, static)
    shapes: dict[str, tuple | None] = {}
    elem_types: dict[str, int] = {}
    for value in list(inferred.graph.value_info) + list(inferred.graph.output) + \
            list(inferred.graph.input):
        elem = _elem_type(value)
        if elem:
            elem_types[value.name] = elem
        shapes[value.name] = value_shape(value)
    for name, dims in input_shapes.items():
        shapes[name] = tuple(int(d) for d in dims)
    for value in proto.graph.output:   # the declared output types win over inference
        elem = _elem_type(value)
        if elem:
            elem_types[value.name] = elem
    return shapes, elem_types


def _function_body(node: onnx.NodeProto, opset: int, shapes: Mapping[str, tuple | None],
                   elem_types: Mapping[str, int]) -> onnx.FunctionProto | None:
    """The schema's function body of ``node`` at ``opset`` (context-dependent ones too)."""
    try:
        schema = onnx.defs.get_schema(node.op_type, max_inclusive_version=opset, domain="")
    except onnx.defs.SchemaError:
        return None
    body = None
    if schema.has_function:
        versions = [v for v in schema.function_opset_versions if v <= opset]
        if versions:
            body = schema.get_function_with_opset_version(max(versions))
    elif schema.has_context_dependent_function:
        versions = [v for v in schema.context_dependent_function_opset_versions if v <= opset]
        types = []
        for name in node.input:
            if not name:
                types.append(onnx.TypeProto().SerializeToString())
                continue
            if name not in elem_types:
                return None
            shape = shapes.get(name)
            types.append(onnx.helper.make_tensor_type_proto(
                elem_types[name], None if shape is None else list(shape)).SerializeToString())
        if versions:
            try:
                body = schema.get_context_dependent_function_with_opset_version(
                    max(versions), node.SerializeToString(), types)
            except Exception as err:  # noqa: BLE001 - no body for this context
                log.debug("no function body for %s: %s", node.op_type, err)
                return None
    if not body:
        return None
    function = onnx.FunctionProto()
    function.ParseFromString(body)
    # defaults of attributes the node leaves out must travel with it into the body
    present = {a.name for a in node.attribute}
    for name, attr in schema.attributes.items():
        if name not in present and attr.default_value.type != 0:
            copy = onnx.AttributeProto()
            copy.CopyFrom(attr.default_value)
            copy.name = name
            node.attribute.append(copy)
    return function


_EXPAND_DOMAIN = "serde.expand"
_EXPAND_ROUNDS = 4


def _expand_functions(proto: onnx.ModelProto, ops: dict[str, int],
                      shapes: Mapping[str, tuple | None], elem_types: Mapping[str, int]) -> bool:
    """Inline the function body of every standard op that has no converter."""
    opset = ops.get("", 1)
    bodies = []
    for index, node in enumerate(proto.graph.node):
        if node.domain not in ("", "ai.onnx") or lookup(node.op_type, opset) is not None:
            continue
        function = _function_body(node, opset, shapes, elem_types)
        if function is None:
            continue
        name = f"{node.op_type}__{index}"
        function.name, function.domain = name, _EXPAND_DOMAIN
        node.op_type, node.domain = name, _EXPAND_DOMAIN
        bodies.append(function)
    if not bodies:
        return False
    proto.functions.extend(bodies)
    proto.opset_import.append(onnx.helper.make_opsetid(_EXPAND_DOMAIN, 1))
    try:
        inlined = onnx.inliner.inline_local_functions(proto)
    except Exception as err:  # noqa: BLE001
        raise ConversionError(f"could not expand function ops: {err}") from None
    proto.CopyFrom(inlined)
    keep = [o for o in proto.opset_import if o.domain != _EXPAND_DOMAIN]
    del proto.opset_import[:]
    proto.opset_import.extend(keep)
    log.debug("expanded %d function op(s) into their ONNX bodies", len(bodies))
    return True


def import_graph(model: Any, *, input_shapes: Mapping[str, Sequence[int]] | None = None,
                 constant_inputs: Mapping[str, Any] | None = None,
                 check: bool = True) -> ImportedGraph:
    """Convert an ONNX model (path, bytes or ModelProto) to an MXNet Symbol and parameters."""
    # a fresh NameManager: the same model gives byte-identical symbol JSON every time
    with mx.name.NameManager():
        return _import_graph(model, input_shapes=input_shapes,
                             constant_inputs=constant_inputs, check=check)


def _import_graph(model: Any, *, input_shapes: Mapping[str, Sequence[int]] | None,
                  constant_inputs: Mapping[str, Any] | None, check: bool) -> ImportedGraph:
    _load_ops()
    proto, _ = load_model(model)
    graph = proto.graph
    ops = opsets(proto)
    opset = ops.get("", 1)
    nodes = check_structure(graph)

    unknown = _unknown_ops(nodes, ops)
    if unknown:
        raise UnsupportedOperatorError(unknown, opset=opset, direction=DIRECTION)
    if check:
        try:
            if proto.ByteSize() < 2**31 - 1:
                onnx.checker.check_model(proto)
        except onnx.checker.ValidationError as err:
            raise InvalidModelError(f"the model fails onnx.checker: {err}") from None

    initializers: dict[str, np.ndarray] = {}
    for tensor in graph.initializer:
        check_size(tensor.name, tensor.dims, " (initializer)")
        try:
            initializers[tensor.name] = numpy_helper.to_array(tensor)
        except Exception as err:  # noqa: BLE001
            raise InvalidModelError(f"initializer {tensor.name!r} cannot be read: {err}") from None
    for sparse in graph.sparse_initializer:
        raise InvalidModelError(f"sparse initializer {sparse.values.name!r} is not supported")

    real_inputs = [v for v in graph.input if v.name not in initializers]
    real_names = [v.name for v in real_inputs]
    input_shapes = dict(input_shapes or {})
    for name in input_shapes:
        if name not in real_names:
            raise InvalidModelError(f"input_shapes names {name!r}, which is not a graph input "
                                    f"(inputs: {real_names})")
    static: dict[str, np.ndarray] = {}
    for name, value in (constant_inputs or {}).items():
        if name not in real_names:
            raise InvalidModelError(f"constant_inputs names {name!r}, which is not a graph "
                                    f"input (inputs: {real_names})")
        declared = next(v for v in real_inputs if v.name == name)
        elem = _elem_type(declared)
        want = dtypes.to_numpy(elem) if elem else None
        arr = value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)
        static[name] = arr.astype(want) if want is not None else arr

    shapes, elem_types = _shape_info(proto, input_shapes, static)
    for _ in range(_EXPAND_ROUNDS):   # function ops without a converter: inline their bodies
        if not _expand_functions(proto, ops, shapes, elem_types):
            break
        graph = proto.graph
        nodes = check_structure(graph)
        shapes, elem_types = _shape_info(proto, input_shapes, static)
    for name, shape in shapes.items():
        if shape is not None:
            check_size(name, shape)

    values = dict(initializers)
    remaining = fold_constants(nodes, values, shapes, ops)
    fused = fuse_nms_masks(remaining, values, shapes)
    if fused is not remaining:
        remaining = prune_dead(fused, [v.name for v in graph.output])

    missing = []
    for index, node in enumerate(remaining):
        domain = "" if node.domain in ("", "ai.onnx") else node.domain
        if lookup(node.op_type, ops.get(domain, 1), domain) is None:
            missing.append((node.op_type, node.name or f"{node.op_type}_{index}"))
    if missing:
        raise UnsupportedOperatorError(missing, opset=opset, direction=DIRECTION)

    producers = {out: node for node in remaining for out in node.output if out}
    ctx = ImportContext(opsets=ops, shapes=shapes, elem_types=elem_types, values=values,
                        static_values=static, producers=producers, graph_inputs=real_names,
                        input_shapes={v.name: shapes.get(v.name) for v in real_inputs
                                      if shapes.get(v.name) is not None})
    inputs: list[TensorInfo] = []
    for value in real_inputs:
        if value.name in static:
            continue
        elem = _elem_type(value)
        if elem is None:
            raise ConversionError(f"graph input {value.name!r} is a "
                                  f"{value.type.WhichOneof('value')}; only tensors are supported")
        dtype = ctx.check_elem(elem, value.name)
        shape = shapes.get(value.name)
        ctx.tensors[value.name] = np_var(value.name, dtype=dtype)
        inputs.append(TensorInfo(value.name, shape, dtype))

    for index, proto_node in enumerate(remaining):
        node = Node(proto_node, index)
        ctx.node = node
        domain = "" if node.domain in ("", "ai.onnx") else node.domain
        convert = lookup(node.op_type, ops.get(domain, 1), domain)
        try:
            result = convert(node, ctx)
        except SerdeError:
            raise
        except mx.base.MXNetError as err:
            raise ctx.error(f"MXNet refused the converted op: {mxnet_message(err)}") \
                from None
        except Exception as err:
            raise ctx.error(f"{type(err).__name__}: {err}") from err
        results = list(result) if isinstance(result, (list, tuple)) else [result]
        for k, out in enumerate(node.outputs):
            if not out:
                continue
            if k >= len(results) or results[k] is None:
                raise ctx.error(f"output {k} ({out!r}) is not supported by the converter")
            ctx.tensors[out] = results[k]
    ctx.node = None

    outputs: list[TensorInfo] = []
    out_syms = []
    for value in graph.output:
        sym = ctx.sym(value.name)
        elem = elem_types.get(value.name)
        dtype = ctx.check_elem(elem, value.name) if elem else None
        outputs.append(TensorInfo(value.name, shapes.get(value.name), dtype))
        out_syms.append(sym)
    out_syms = _fix_output_dtypes(out_syms, outputs)
    taken = set(ctx.params) | {i.name for i in inputs}
    named = []
    for sym, info in zip(out_syms, outputs, strict=False):
        name = info.name if info.name not in taken else f"{info.name}_out"
        named.append(mx.sym.identity(sym.as_nd_ndarray(), name=name))
    group = named[0] if len(named) == 1 else mx.sym.Group(named)
    used = set(group.list_inputs())
    unused = [i.name for i in inputs if i.name not in used]
    if unused:
        log.info("graph input(s) %s do not influence any output", unused)
    params = {k: v for k, v in ctx.params.items() if k in used}
    return ImportedGraph(sym=group, params=params,
                         inputs=[i for i in inputs if i.name in used], outputs=outputs,
                         opset=opset, constant_inputs=sorted(static), unused_inputs=unused,
                         signature=list(inputs))


def _fix_output_dtypes(syms: list[Any], outputs: list[TensorInfo]) -> list[Any]:
    """Cast outputs whose MXNet dtype differs from the ONNX-declared one."""
    group = mx.sym.Group([s.as_nd_ndarray() for s in syms])
    try:
        _, out_types, _ = group.infer_type_partial()
    except mx.base.MXNetError:
        return syms
    fixed = []
    for sym, info, found in zip(syms, outputs, out_types or [None] * len(syms), strict=False):
        if info.dtype is not None and found is not None and np.dtype(found) != info.dtype:
            log.debug("casting output %s from %s to %s", info.name, np.dtype(found), info.dtype)
            sym = sym.astype(info.dtype)
        fixed.append(sym)
    return fixed
