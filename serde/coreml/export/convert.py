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
from .context import CoremlContext, blob_shape
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
    unsupported = [(n["op"], n["name"]) for i, n in enumerate(mxg.nodes)
                   if n["op"] != "null" and i not in mxg.label_only
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
    for name, value in mxg.params.items():
        ctx.constants[name] = value
        ctx.shapes[name] = tuple(value.shape)

    tensor_of = _convert_nodes(mxg, ctx, registry)
    out_dims, mx_shapes = [], {n: mxg.input_shapes[n] for n in mxg.data_names}
    for (src, idx, *_), head in zip(mxg.heads, heads, strict=True):
        tensor = tensor_of[(src, idx)]
        if tensor not in ctx.blobs:
            raise ConversionError(f"output {head!r} is a constant: Core ML outputs are computed "
                                  f"by layers")
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


def _convert_nodes(mxg: MxGraph, ctx: CoremlContext, registry: Registry
                   ) -> dict[tuple[int, int], str]:
    tensor_of: dict[tuple[int, int], str] = {}
    for node_id, node in enumerate(mxg.nodes):
        if node["op"] == "null":
            tensor_of[(node_id, 0)] = node["name"]
            continue
        if node_id in mxg.label_only:
            continue
        inputs = [tensor_of[(src, idx)] for src, idx, *_ in node.get("inputs", [])]
        outputs = list(mxg.outputs_of.get(node["name"], []))
        mx_node = MxNode(name=node["name"], op=node["op"], attrs=dict(node.get("attrs", {})),
                         inputs=inputs, outputs=outputs)
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
    if blob not in ctx.blobs:
        return blob  # a constant passed through
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
