"""Checks on a loaded ONNX model that run before any conversion work: they only refuse a model
(with a named error), never change how an accepted one converts.

ONNX's own shape inference materialises tensors while propagating data, so a model declaring a
tensor larger than MXNet can hold must be refused before inference runs, not after: one
declared input of 2^31 int64 elements otherwise takes ~17 GB before any check sees it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx

from ..._validate import check_shape
from ...errors import InvalidModelError
from .loader import check_size, value_shape


def _graphs(graph: onnx.GraphProto) -> list[onnx.GraphProto]:
    found = [graph]
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                found += _graphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    found += _graphs(sub)
    return found


def check_declared_sizes(proto: onnx.ModelProto,
                         input_shapes: Mapping[str, Sequence[Any]] | None = None) -> None:
    """Refuse a model whose declared tensors (inputs, outputs, value_info, in every subgraph;
    ``input_shapes`` overriding the declared inputs) could not exist in MXNet."""
    overrides = dict(input_shapes or {})
    for name, shape in overrides.items():
        check_shape(f"input_shapes[{name!r}]", shape)
    for graph in _graphs(proto.graph):
        for value in (*graph.input, *graph.output, *graph.value_info):
            if value.name in overrides and graph is proto.graph:
                continue
            shape = value_shape(value)
            if shape is not None:
                check_size(value.name, shape, " (declared)")


def check_constant_inputs(proto: onnx.ModelProto,
                          constant_inputs: Mapping[str, Any] | None) -> None:
    """Refuse ``constant_inputs`` values that are not numeric arrays fitting their input's
    declared shape (an input of the graph that a value binds for good)."""
    declared = {v.name: v for v in proto.graph.input}
    for name, value in (constant_inputs or {}).items():
        if name not in declared:
            continue  # named by the importer, with the graph's inputs
        try:
            array = value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)
        except Exception as err:  # noqa: BLE001 - whatever the caller passed
            raise InvalidModelError(f"constant_inputs[{name!r}] is not an array: "
                                    f"{type(err).__name__}: {err}") from err
        if array.dtype.kind not in "biuf":
            raise InvalidModelError(f"constant_inputs[{name!r}] holds {array.dtype} values; "
                                    f"give a numeric array (numpy or MXNet)")
        shape = value_shape(declared[name])
        if shape is None:
            continue
        if len(shape) != array.ndim or any(isinstance(d, int) and d != n
                                           for d, n in zip(shape, array.shape, strict=True)):
            raise InvalidModelError(f"constant_inputs[{name!r}] has shape {array.shape}, but "
                                    f"the model declares input {name!r} as "
                                    f"{tuple(d if isinstance(d, int) else '?' for d in shape)}")


#: attributes that index a tensor's axes; no tensor has this many (MXNet: 32), and ONNX's
#: own shape inference crashes the process on some values past int32 (LayerNormalization's
#: ``axis``, GatherND's ``batch_dims``), so they are refused before it runs
AXIS_ATTRIBUTES = frozenset({"axis", "axes", "batch_dims"})
MAX_AXIS = 64


def check_axis_attributes(proto: onnx.ModelProto) -> None:
    for graph in _graphs(proto.graph):
        for index, node in enumerate(graph.node):
            for attr in node.attribute:
                if attr.name not in AXIS_ATTRIBUTES:
                    continue
                values = [attr.i] if attr.type == onnx.AttributeProto.INT else \
                    list(attr.ints) if attr.type == onnx.AttributeProto.INTS else []
                for value in values:
                    if abs(value) > MAX_AXIS:
                        raise InvalidModelError(
                            f"node {node.name or f'#{index}'!r} ({node.op_type}) has "
                            f"{attr.name}={value}: no tensor has that many axes; the model "
                            f"is corrupt")


def check_interface(proto: onnx.ModelProto) -> None:
    """Refuse a model without outputs (nothing to compute) or with an opset version no ONNX
    release can have (onnx's schema lookup takes a 32-bit int)."""
    if not proto.graph.output:
        raise InvalidModelError("the graph declares no outputs: nothing to import (the model "
                                "is truncated or was saved without its outputs)")
    for entry in proto.opset_import:
        if not 0 <= entry.version < 2**31:
            raise InvalidModelError(f"opset_import gives domain {entry.domain or 'ai.onnx'!r} "
                                    f"version {entry.version}, which no ONNX release has")


def check_model(proto: onnx.ModelProto, input_shapes: Mapping[str, Sequence[Any]] | None = None,
                constant_inputs: Mapping[str, Any] | None = None) -> None:
    """Every check of this module, cheapest first."""
    check_interface(proto)
    check_axis_attributes(proto)
    check_declared_sizes(proto, input_shapes)
    check_constant_inputs(proto, constant_inputs)
