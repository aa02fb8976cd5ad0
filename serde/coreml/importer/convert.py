"""Core ML NeuralNetwork specification -> MXNet Symbol + parameters."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from ...errors import ConversionError, InvalidModelError, UnsupportedOperatorError, call_converter
from .context import ImportContext
from .registry import LAYER_REGISTRY, ND_REGISTRY, lookup

#: Model types that are neural networks (a classifier/regressor wraps one with labels).
_NETWORK_TYPES = ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor")
#: The newest specification version whose fields this importer knows (coremltools 9.0 writes
#: up to 9).
MAX_SPEC_VERSION = 9


@dataclass
class ImportedCoreml:
    sym: mx.sym.Symbol
    params: dict[str, np.ndarray]
    inputs: list[tuple[str, Any]]  # (name, dtype) in the model's input order
    outputs: list[str]
    #: the inputs' MXNet shapes at batch 1 (Core ML's batch is the caller's)
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)


def load_spec(model: Any) -> Any:
    """A ``Model_pb2.Model`` from a path, bytes or a spec; malformed input is named."""
    from coremltools.proto import Model_pb2

    if isinstance(model, Model_pb2.Model):
        return model
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if path.is_dir():
            raise InvalidModelError(f"{str(path)!r} is a directory: import an .mlpackage "
                                    f"through serde.import_model")
        if not path.is_file():
            raise InvalidModelError(f"Core ML model file {str(path)!r} does not exist")
        data = path.read_bytes()
    elif isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
    else:
        raise InvalidModelError(f"expected a Core ML model path, bytes or a Model spec, not "
                                f"{type(model).__name__}")
    spec = Model_pb2.Model()
    try:
        spec.ParseFromString(data)
    except Exception as err:  # protobuf's DecodeError and friends
        raise InvalidModelError(f"not a Core ML model (truncated or another format): "
                                f"{type(err).__name__}: {err}") from err
    if not spec.WhichOneof("Type") or not spec.specificationVersion:
        raise InvalidModelError("not a Core ML model: no model type or specification version "
                                "(truncated, or another format)")
    return spec


def _check_output_count(layer: Any, kind: str, produced: list[Any]) -> None:
    if len(layer.output) != len(produced):
        raise ConversionError(f"the layer names {len(layer.output)} output(s) but a {kind} "
                              f"layer gives {len(produced)}", node=layer.name, op=kind)


def group_outputs(outputs: list[Any]) -> Any:
    """The model's outputs as one symbol; a model that declares none is refused."""
    if not outputs:
        raise InvalidModelError("the model declares no outputs: nothing to import")
    return outputs[0] if len(outputs) == 1 else mx.sym.Group(outputs)


def _network(spec: Any) -> Any:
    kind = spec.WhichOneof("Type")
    if kind not in _NETWORK_TYPES:
        raise UnsupportedOperatorError([(kind or "empty model", "model")], opset=None,
                                       direction="Core ML -> MXNet",
                                       hint="Only neural network models import into MXNet.")
    if spec.specificationVersion > MAX_SPEC_VERSION:
        raise InvalidModelError(f"Core ML specification version {spec.specificationVersion} "
                                f"is newer than this importer reads (<= {MAX_SPEC_VERSION})")
    return getattr(spec, kind)


def _input_shape(feature: Any) -> tuple[int, int, int]:
    kind = feature.type.WhichOneof("Type")
    if kind == "multiArrayType":
        dims = [int(d) for d in feature.type.multiArrayType.shape]
        if not dims:
            ranges = feature.type.multiArrayType.shapeRange.sizeRanges
            dims = [int(r.lowerBound) for r in ranges]
    elif kind == "imageType":
        image = feature.type.imageType
        channels = 1 if image.colorSpace == 10 else 3  # GRAYSCALE = 10
        dims = [channels, int(image.height), int(image.width)]
    else:
        raise InvalidModelError(f"input {feature.name!r} is a {kind}; MXNet imports "
                                f"multi-array and image inputs")
    if len(dims) == 1:
        return (dims[0], 1, 1)
    if len(dims) == 3:
        return tuple(dims)  # type: ignore[return-value]
    if len(dims) == 5:  # [Seq, Batch, C, H, W]
        return tuple(dims[2:])  # type: ignore[return-value]
    raise InvalidModelError(f"input {feature.name!r} has shape {dims}: under the rank-5 "
                            f"input mapping an input has rank 1, 3 or 5")


def _preprocess(network: Any, feature: Any, x: mx.sym.Symbol, ctx: ImportContext
                ) -> mx.sym.Symbol:
    """An image input's preprocessing as ops: the scale, then one bias per channel in the
    image's channel order."""
    for step in network.preprocessing:
        if step.featureName not in ("", feature.name):
            continue
        kind = step.WhichOneof("preprocessor")
        if kind == "meanImage":
            raise InvalidModelError("mean-image preprocessing is not imported yet")
        if kind != "scaler":
            continue
        p = step.scaler
        space = feature.type.imageType.colorSpace  # 10 GRAYSCALE, 20 RGB, 30 BGR
        biases = {10: [p.grayBias], 20: [p.redBias, p.greenBias, p.blueBias]}.get(
            space, [p.blueBias, p.greenBias, p.redBias])
        name = f"{feature.name}_preprocess_bias"
        ctx.params[name] = np.asarray(biases, np.float32).reshape(1, -1, 1, 1)
        scaled = x * (p.channelScale if p.channelScale else 1.0)
        return mx.sym.broadcast_add(scaled, mx.sym.var(name, shape=ctx.params[name].shape))
    return x


def _needs_rank_n(network: Any) -> bool:
    """Whether the model needs the rank-N walk: an exact (rank-N) input shape mapping, or a
    layer only the rank-N walk converts (the specification 4 layers, and the recurrent
    layers, which read Core ML's sequence axis)."""
    if network.arrayInputShapeMapping or network.imageInputShapeMapping:
        return True
    return any(LAYER_REGISTRY.lookup(layer.WhichOneof("layer") or "") is None
               and ND_REGISTRY.lookup(layer.WhichOneof("layer") or "") is not None
               for layer in network.layers)


def import_spec(model: Any) -> ImportedCoreml:
    spec = load_spec(model)
    network = _network(spec)
    rank_n = _needs_rank_n(network)
    unknown = [(layer.WhichOneof("layer") or "unset", layer.name) for layer in network.layers
               if lookup(layer.WhichOneof("layer") or "") is None
               and not (rank_n and ND_REGISTRY.lookup(layer.WhichOneof("layer") or ""))]
    if unknown:
        raise UnsupportedOperatorError(unknown, opset=None, direction="Core ML -> MXNet",
                                       hint="Replace these layers, or export the model from "
                                            "its source framework to ONNX instead.")
    if rank_n:
        return _import_rank_n(spec, network)
    ctx = ImportContext()
    inputs = []
    for feature in spec.description.input:
        chw = _input_shape(feature)
        data = mx.sym.var(feature.name)
        # any batch-first input of the blob's per-sample size: (N, C) for a (C, 1, 1) blob,
        # (N, C, W) for a (C, 1, W) one, as the exporting framework's tensors were
        x = mx.sym.reshape(data, (0, *chw))
        if feature.type.WhichOneof("Type") == "imageType":
            x = _preprocess(network, feature, x, ctx)
        ctx.symbols[feature.name] = x
        ctx.shapes[feature.name] = chw
        ctx.sources[feature.name] = (1, *_source_dims(spec, feature.name, chw))
        inputs.append((feature.name, np.float32))
    for layer in network.layers:
        kind = layer.WhichOneof("layer")
        produced = call_converter(lookup(kind).fn, layer, ctx, node=layer.name, op=kind)  # type: ignore[union-attr]
        _check_output_count(layer, kind, produced)
        for out_name, sym in zip(layer.output, produced, strict=True):
            ctx.symbols[out_name] = sym
            ctx.shapes[out_name] = _fixed_rank_shape(ctx.infer(sym, layer), layer)
    outputs = []
    for feature in spec.description.output:
        if feature.name not in ctx.symbols:
            raise InvalidModelError(f"output {feature.name!r} is made by no layer")
        sym = ctx.symbols[feature.name]
        dims = _source_dims(spec, feature.name, list(feature.type.multiArrayType.shape)
                            if feature.type.WhichOneof("Type") == "multiArrayType" else [])
        have = ctx.shapes[feature.name]
        if dims and list(dims) != list(have) and np.prod(dims) == np.prod(have):
            sym = mx.sym.reshape(sym, (0, *dims))  # (C,) -> (N, C) and the like
        outputs.append(mx.sym.identity(sym, name=feature.name))
    group = group_outputs(outputs)
    return ImportedCoreml(group, ctx.params, inputs, [f.name for f in spec.description.output],
                          dict(ctx.sources))


def _source_dims(spec: Any, name: str, declared: Any) -> tuple[int, ...]:
    """The per-sample shape the exporting framework gave a feature: mxnet-serde records
    MXNet's in the metadata (``mxnet_shape:<name>``); otherwise the declared shape."""
    recorded = spec.description.metadata.userDefined.get(f"mxnet_shape:{name}")
    if recorded is not None:
        try:
            return tuple(int(d) for d in recorded.split(",") if d.strip())
        except ValueError:
            pass  # a malformed hint: the declared shape
    return tuple(int(d) for d in declared)


def _fixed_rank_shape(shape: tuple[int, ...], layer: Any) -> tuple[int, int, int]:
    if len(shape) != 4:
        raise ConversionError(f"made a rank-{len(shape)} tensor where Core ML's fixed-rank "
                              f"layers hold rank 5", node=layer.name,
                              op=layer.WhichOneof("layer"))
    return shape[1:]  # type: ignore[return-value]


# -- the rank-N walk (specification 4 on) -------------------------------------------------

def _rank_n_input(network: Any, feature: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """An input's MXNet shape (what the caller passes, batch 1 where Core ML has none) and its
    blob's shape as the layers see it, by the network's input shape mapping."""
    kind = feature.type.WhichOneof("Type")
    if kind == "imageType":
        chw = _input_shape(feature)
        blob = (1, *chw) if network.imageInputShapeMapping == 1 else (1, 1, *chw)  # RANK4
        return (1, *chw), blob
    if kind != "multiArrayType":
        raise InvalidModelError(f"input {feature.name!r} is a {kind}; MXNet imports "
                                f"multi-array and image inputs")
    array = feature.type.multiArrayType
    dims = tuple(int(d) for d in array.shape) or tuple(
        int(r.lowerBound) for r in array.shapeRange.sizeRanges)
    if not dims:
        raise InvalidModelError(f"input {feature.name!r} declares no shape")
    if network.arrayInputShapeMapping == 1:  # EXACT_ARRAY_MAPPING: the blob is the array
        return dims, dims
    chw = _input_shape(feature)  # RANK5_ARRAY_MAPPING: [Seq, Batch, C, H, W]
    return (1, *dims), (1, 1, *chw)


def on_trailing_axes(fn: Any, layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    """An old (fixed-rank) layer in the rank-N walk. Core ML reads a blob's last three axes as
    (C, H, W) and the ones before as batch, so its fixed-rank converter runs on the inputs
    folded to (N, C, H, W) and its outputs are unfolded to the input's leading axes."""
    first = ctx.shapes[layer.input[0]] if layer.input else ()
    lead, rank = first[:-3], len(first)
    saved: dict[str, tuple[mx.sym.Symbol, tuple[int, ...]]] = {}
    for name in dict.fromkeys(layer.input):
        shape = ctx.shapes[name]
        if shape[:-3] != lead:
            raise ctx.fail(layer, f"inputs of shapes {first} and {shape} differ before their "
                                  f"last three axes")
        chw = (1,) * (3 - len(shape)) + tuple(shape[-3:])
        saved[name] = (ctx.symbols[name], shape)
        ctx.symbols[name] = mx.sym.reshape(ctx.symbols[name], (-1, *chw))
        ctx.shapes[name] = chw
    try:
        produced = fn(layer, ctx)
    finally:
        for name, (sym, shape) in saved.items():
            ctx.symbols[name], ctx.shapes[name] = sym, shape
    keep = min(rank, 3) if rank else 3
    return [mx.sym.reshape(sym, (*_unfold(lead), *ctx.infer(sym, layer)[1:][3 - keep:]))
            for sym in produced]


def _unfold(lead: tuple[int, ...]) -> tuple[int, ...]:
    """Reshape codes that split a folded batch back into ``lead``, leaving the batch (the
    last leading axis: Core ML's Batch of [Seq, Batch, C, H, W]) to the input's size."""
    if len(lead) == 1:
        return (-1,)
    if len(lead) == 2:
        return (-4, lead[0], -1)
    return lead


def _import_rank_n(spec: Any, network: Any) -> ImportedCoreml:
    ctx = ImportContext(rank_n=True)
    inputs = []
    for feature in spec.description.input:
        source, blob = _rank_n_input(network, feature)
        x = mx.sym.var(feature.name)
        if feature.type.WhichOneof("Type") == "imageType":
            x = _preprocess(network, feature, mx.sym.reshape(x, (-1, *source[1:])), ctx)
        if blob != source:  # a rank-5 mapped input: batch-first onto [1, Batch, C, H, W]
            x = mx.sym.reshape(x, (1, -1, *blob[2:]))
        ctx.symbols[feature.name] = x
        ctx.sources[feature.name] = source
        ctx.shapes[feature.name] = blob
        inputs.append((feature.name, np.float32))
    for layer in network.layers:
        kind = layer.WhichOneof("layer")
        nd = ND_REGISTRY.lookup(kind)
        if nd is not None:
            produced = call_converter(nd.fn, layer, ctx, node=layer.name, op=kind)
        else:
            produced = call_converter(on_trailing_axes, lookup(kind).fn, layer, ctx,  # type: ignore[union-attr]
                                      node=layer.name, op=kind)
        _check_output_count(layer, kind, produced)
        for out_name, sym in zip(layer.output, produced, strict=True):
            ctx.symbols[out_name] = sym
            ctx.shapes[out_name] = ctx.infer(sym, layer)
    outputs = []
    for feature in spec.description.output:
        if feature.name not in ctx.symbols:
            raise InvalidModelError(f"output {feature.name!r} is made by no layer")
        sym, have = ctx.symbols[feature.name], ctx.shapes[feature.name]
        dims = _source_dims(spec, feature.name, list(feature.type.multiArrayType.shape)
                            if feature.type.WhichOneof("Type") == "multiArrayType" else [])
        if dims and tuple(dims) != have and int(np.prod(have)) % max(int(np.prod(dims)), 1) == 0:
            # a rank-5 mapped blob [1, Batch, C, 1, 1] as the declared (C,) per sample
            sym = mx.sym.reshape(sym, (-1, *dims))
        outputs.append(mx.sym.identity(sym, name=feature.name))
    group = group_outputs(outputs)
    return ImportedCoreml(group, ctx.params, inputs, [f.name for f in spec.description.output],
                          dict(ctx.sources))
