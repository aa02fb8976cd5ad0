"""MXNet Symbol + parameters -> Core ML NeuralNetwork specification (``Model_pb2.Model``)."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import mxnet as mx
import numpy as np

from ... import __version__
from ..._graph import MxGraph, MxNode, analyse
from ..._registry import Registry
from ...errors import ConversionError, InvalidModelError, UnsupportedOperatorError, call_converter
from .context import SEQUENCE_OPS, CoremlContext, blob_shape
from .registry import COREML_EXPORT_REGISTRY

log = logging.getLogger(__name__)

#: Core ML blobs are float32 (MultiArray FLOAT32) in the NeuralNetwork format.
_INPUT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16))


def _output_shape(chw: tuple[int, int, int], mx_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The declared output MultiArray shape: ``(C,)`` for MXNet vectors, else ``(C, H, W)``."""
    return (chw[0],) if len(mx_shape) <= 2 else chw


def symbol_to_coreml(sym: mx.sym.Symbol, arg_params: Mapping[str, Any],
                     aux_params: Mapping[str, Any] | None = None, *, input_shapes: Any = None,
                     input_types: Any = None, model_name: str = "mxnet_model",
                     metadata: Mapping[str, str] | None = None,
                     registry: Registry = COREML_EXPORT_REGISTRY) -> Any:
    """Convert an MXNet Symbol and its parameters to a Core ML NeuralNetwork spec at the lowest
    specification version its layers allow. Core ML's batch axis is always flexible."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    mxg = analyse(sym, arg_params, aux_params, input_shapes=input_shapes,
                  input_types=input_types)
    folded = _fold_constants(mxg)
    unsupported = [(n["op"], n["name"]) for i, n in enumerate(mxg.nodes)
                   if n["op"] != "null" and i not in mxg.label_only and i not in folded
                   and registry.lookup(n["op"]) is None]
    if unsupported:
        raise UnsupportedOperatorError(
            unsupported, opset=None, direction="MXNet -> Core ML",
            hint="Replace these operators in the model, or export to ONNX instead.")
    inputs = []
    for name in mxg.data_names:
        shape, dtype = mxg.input_shapes[name], mxg.input_types[name]
        chw = blob_shape(shape)
        if chw is None:
            raise InvalidModelError(f"input {name!r} has shape {shape}: Core ML's NeuralNetwork "
                                    f"layers take inputs of rank 1 to 4 (batch first)")
        if dtype not in _INPUT_DTYPES:
            raise InvalidModelError(f"input {name!r} is {dtype}: Core ML NeuralNetwork inputs "
                                    f"are float arrays")
        # Inputs are declared (C, H, W) even for vectors: what Core ML's rank-5 mapping makes
        # of a (C,) array anyway, stated so every reader sees one layout.
        inputs.append((name, datatypes.Array(*chw)))
    heads = mxg.head_names
    builder = NeuralNetworkBuilder(inputs, [(h, None) for h in heads])
    ctx = CoremlContext(builder=builder)
    ctx.shapes.update(mxg.shapes)
    ctx.dtypes.update(mxg.dtypes)
    ctx.shapes.update(mxg.input_shapes)
    for name in mxg.out_names + mxg.var_names:
        ctx.reserve(name)
    for name in mxg.data_names:
        ctx.made(name, blob_shape(mxg.input_shapes[name]))  # type: ignore[arg-type]
    for name, value in {**mxg.params, **folded_values(mxg, folded)}.items():
        ctx.constants[name] = value
        ctx.shapes[name] = tuple(value.shape)

    tensor_of = _convert_nodes(mxg, ctx, registry, folded)
    out_dims, mx_shapes = [], {n: mxg.input_shapes[n] for n in mxg.data_names}
    for (src, idx, *_), head in zip(mxg.heads, heads, strict=True):
        tensor = tensor_of[(src, idx)]
        if tensor not in ctx.blobs:
            raise ConversionError(f"output {head!r} is a constant: Core ML outputs are computed "
                                  f"by layers")
        if tensor in ctx.sequence_major:
            raise ConversionError(f"output {head!r} is sequence-major (T, N, C): Core ML's "
                                  f"outputs are batch-first; swap its axes 0 and 1 back")
        mx_shapes[head] = ctx.shapes.get(head) or ctx.shapes.get(tensor, ())
        if tensor != head:  # a head that is an input, another head or renamed gets a copy
            ctx.linear(tensor, 1.0, 0.0, f"{head}_identity", out=head)
        out_dims.append(_output_shape(ctx.blob(head), mx_shapes[head]))
    spec = builder.spec
    from coremltools.proto import FeatureTypes_pb2

    for feature, dims in zip(spec.description.output, out_dims, strict=True):
        array = feature.type.multiArrayType
        array.ClearField("shape")
        array.shape.extend(dims)
        array.dataType = FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    for feature in spec.description.input:
        feature.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    spec.specificationVersion = ctx.spec_version
    description = spec.description.metadata
    description.author = f"mxnet-serde {__version__}"
    description.shortDescription = (f"{model_name} exported from MXNet {mx.__version__} by "
                                    f"mxnet-serde")
    description.versionString = __version__
    # MXNet's per-sample shapes (Core ML blobs drop the rank): the importer restores them
    for name, shape in mx_shapes.items():
        if shape:
            description.userDefined[f"mxnet_shape:{name}"] = ",".join(str(d) for d in shape[1:])
    description.userDefined.update({"source_framework": "mxnet",
                                    "source_framework_version": mx.__version__,
                                    "converter": f"mxnet-serde {__version__}",
                                    **dict(metadata or {})})
    return spec


#: Ops that create values from nothing but their attributes and may not be folded: random.
_NOT_FOLDED = ("_random_", "_sample_", "random_", "sample_", "_npi_random", "_shuffle")


def _fold_constants(mxg: MxGraph) -> set[int]:
    """Nodes computed from parameters and attributes alone (weight reshapes, Gluon's RNN
    parameter concatenation, zero initial states ...): Core ML layers take such values as
    constants, so they are evaluated at export time instead of converted."""
    constant = set(mxg.params)
    folded: set[int] = set()
    for node_id, node in enumerate(mxg.nodes):
        if node["op"] == "null" or node_id in mxg.label_only or \
                node["op"].startswith(_NOT_FOLDED):
            continue
        sources = [mxg.nodes[src] for src, *_ in node.get("inputs", [])]
        names = [s["name"] if s["op"] == "null" else None for s in sources]
        if all((n is not None and n in constant) or (n is None and src_id in folded)
               for n, (src_id, *_) in zip(names, node.get("inputs", []), strict=True)):
            outputs = mxg.outputs_of.get(node["name"], [])
            if outputs and all(o in mxg.shapes for o in outputs):
                folded.add(node_id)
    return folded


def folded_values(mxg: MxGraph, folded: set[int]) -> dict[str, np.ndarray]:
    """The values of the folded nodes' outputs, by MXNet's forward on the parameters."""
    if not folded:
        return {}
    internals = mxg.sym.get_internals()
    values: dict[str, np.ndarray] = {}
    for node_id in sorted(folded):
        node = mxg.nodes[node_id]
        for out in mxg.outputs_of[node["name"]]:
            part = internals[out]
            args = {k: mx.nd.array(mxg.params[k], dtype=mxg.params[k].dtype)
                    for k in part.list_inputs()}
            try:
                value = part.eval(ctx=mx.cpu(), **args)[0].asnumpy()
            except mx.base.MXNetError:
                # a creation op whose shape MXNet left to inference (Gluon's begin states,
                # (L, 0, H)): its value at the inferred shape
                attrs = node.get("attrs", {})
                if node["op"] not in ("_zeros", "zeros_like", "_ones", "ones_like", "_full"):
                    raise
                fill = {"_zeros": 0.0, "zeros_like": 0.0, "_ones": 1.0, "ones_like": 1.0}.get(
                    node["op"], float(attrs.get("value", 0.0)))
                value = np.full(mxg.shapes[out], fill, np.float32)
            values[out] = value
    return values


def _convert_nodes(mxg: MxGraph, ctx: CoremlContext, registry: Registry, folded: set[int]
                   ) -> dict[tuple[int, int], str]:
    tensor_of: dict[tuple[int, int], str] = {}
    for node_id, node in enumerate(mxg.nodes):
        if node["op"] == "null":
            tensor_of[(node_id, 0)] = node["name"]
            continue
        if node_id in mxg.label_only:
            continue
        outputs = list(mxg.outputs_of.get(node["name"], []))
        if node_id in folded:
            for i, out in enumerate(outputs):
                tensor_of[(node_id, i)] = out
            continue
        inputs = [tensor_of[(src, idx)] for src, idx, *_ in node.get("inputs", [])]
        mx_node = MxNode(name=node["name"], op=node["op"], attrs=dict(node.get("attrs", {})),
                         inputs=inputs, outputs=outputs)
        if node["op"] not in SEQUENCE_OPS and any(t in ctx.sequence_major for t in inputs):
            raise mx_node.fail("reads a sequence-major (T, N, C) tensor; in Core ML only the "
                               "RNN op and the swap of axes 0 and 1 back to batch-first do")
        converter = registry.lookup(node["op"])
        assert converter is not None  # checked for every node before converting
        produced = call_converter(converter.fn, mx_node, ctx, node=node["name"], op=node["op"])
        if len(produced) < len(outputs):
            raise ConversionError(f"converter produced {len(produced)} outputs, MXNet has "
                                  f"{len(outputs)}", node=node["name"], op=node["op"])
        for i, (preferred, blob) in enumerate(zip(outputs, produced, strict=False)):
            tensor_of[(node_id, i)] = _conform(mx_node, ctx, blob, preferred)
    return tensor_of


def _conform(node: MxNode, ctx: CoremlContext, blob: str, preferred: str) -> str:
    """A blob whose Core ML (C, H, W) is not the one its MXNet shape maps to (a reduction that
    kept an axis MXNet dropped ...) is reshaped to it, so every converter reads one layout."""
    if blob not in ctx.blobs or blob in ctx.sequence_major:
        return blob  # a constant passed through, or a sequence on Core ML's sequence axis
    mx_shape = ctx.shapes.get(preferred) or ctx.shapes.get(blob)
    if mx_shape is None:
        return blob
    ctx.shapes.setdefault(blob, mx_shape)
    want = blob_shape(mx_shape)
    if want is None:
        raise node.fail(f"makes a rank-{len(mx_shape)} tensor {tuple(mx_shape)}; Core ML's "
                        f"NeuralNetwork layers hold tensors of rank 1 to 4 (batch first)")
    have = ctx.blob(blob)
    if have == want:
        return blob
    if int(np.prod(have)) != int(np.prod(want)):
        raise node.fail(f"made a Core ML blob of shape {have}, MXNet's output {tuple(mx_shape)} "
                        f"needs {want}")
    if blob == preferred:  # the MXNet name goes to the reshaped blob, which later layers read
        blob = ctx.rename_blob(blob, ctx.unique_name(f"{blob}_coreml"))
    reshaped = ctx.layer("add_reshape", f"{node.name}_to_mxnet_shape", preferred, want,
                         input_name=blob, target_shape=want, mode=0)
    ctx.shapes[reshaped] = mx_shape
    return reshaped
