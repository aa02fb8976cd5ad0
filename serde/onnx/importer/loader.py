"""Loading and validating ONNX models before any conversion work is done.

Every way a model can be broken is reported here as a SerdeError: unreadable or truncated files,
external data that points outside the model's folder, cycles, dangling tensor names, operators
nobody knows, tensors of absurd size.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError

from ...errors import InvalidModelError
from . import dtypes

log = logging.getLogger(__name__)

# MXNet 1.9.1 wheels index tensors with int32: nothing bigger can be built.
MAX_ELEMENTS = 2**31 - 1
DEFAULT_DOMAINS = ("", "ai.onnx")


def load_model(model: Any) -> tuple[onnx.ModelProto, Path | None]:
    """A ModelProto (with external data loaded) from a path, bytes or a ModelProto."""
    if isinstance(model, onnx.ModelProto):
        proto = onnx.ModelProto()
        proto.CopyFrom(model)
        base = None
    elif isinstance(model, (bytes, bytearray)):
        proto, base = _parse(bytes(model), "<bytes>"), None
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise InvalidModelError(f"ONNX model file not found: {path}")
        proto, base = _parse(path.read_bytes(), str(path)), path.resolve().parent
    else:
        raise InvalidModelError("expected a path, bytes or an onnx.ModelProto, "
                                f"not {type(model).__name__}")
    if not proto.HasField("graph"):
        raise InvalidModelError("the ONNX model has no graph (empty, truncated or not an ONNX "
                                "file)")
    _load_external_data(proto, base)
    return proto, base


def _parse(data: bytes, where: str) -> onnx.ModelProto:
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as err:
        raise InvalidModelError(f"{where} is not a readable ONNX model (truncated or malformed "
                                f"file): {err}") from None
    return proto


def _all_tensors(graph: onnx.GraphProto) -> Iterable[onnx.TensorProto]:
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _all_tensors(attr.g)
            for sub in attr.graphs:
                yield from _all_tensors(sub)


def _load_external_data(proto: onnx.ModelProto, base: Path | None) -> None:
    external = [t for t in _all_tensors(proto.graph)
                if t.data_location == onnx.TensorProto.EXTERNAL]
    if not external:
        return
    if base is None:
        raise InvalidModelError("the model keeps tensors in external data files; import it from "
                                "its file path so the data can be found beside it")
    for tensor in external:
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        target = (base / location).resolve()
        if not location or Path(location).is_absolute() or not target.is_relative_to(base):
            raise InvalidModelError(f"tensor {tensor.name!r}: external data location "
                                    f"{location!r} leaves the model's folder {base}; refusing to "
                                    "read it")
        if not target.is_file():
            raise InvalidModelError(f"tensor {tensor.name!r}: external data file {location!r} "
                                    f"not found beside the model in {base}")
        offset, length = int(info.get("offset", 0) or 0), info.get("length")
        size = target.stat().st_size
        if offset > size or (length is not None and offset + int(length) > size):
            raise InvalidModelError(f"tensor {tensor.name!r}: external data range "
                                    f"[{offset}, +{length}) is outside {location!r} "
                                    f"({size} bytes)")
    try:
        onnx.external_data_helper.load_external_data_for_model(proto, str(base))
    except Exception as err:  # noqa: BLE001 - any reader failure is a bad model
        raise InvalidModelError(f"could not read external data: {err}") from None


def opsets(proto: onnx.ModelProto) -> dict[str, int]:
    found: dict[str, int] = {}
    for entry in proto.opset_import:
        domain = "" if entry.domain in DEFAULT_DOMAINS else entry.domain
        found[domain] = entry.version
    return found


def check_structure(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """Topologically ordered nodes; cycles and dangling tensor names raise InvalidModelError."""
    known = {v.name for v in graph.input} | {t.name for t in graph.initializer}
    known |= {t.name for t in graph.sparse_initializer}
    producer: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for out in node.output:
            if not out:
                continue
            if out in producer or out in known:
                raise InvalidModelError(f"tensor {out!r} is produced twice (node "
                                        f"{_label(node, index)}); ONNX graphs are SSA")
            producer[out] = index
    for index, node in enumerate(graph.node):
        for name in node.input:
            if name and name not in known and name not in producer:
                raise InvalidModelError(f"node {_label(node, index)} reads tensor {name!r}, "
                                        "which no graph input, initializer or node provides "
                                        "(dangling tensor name)")
    for out in graph.output:
        if out.name not in known and out.name not in producer:
            raise InvalidModelError(f"graph output {out.name!r} is not produced by any node, "
                                    "input or initializer")
    # Kahn's algorithm, stable with respect to the file's order
    deps = [{producer[n] for n in node.input if n in producer} for node in graph.node]
    users: dict[int, list[int]] = {}
    for index, dep in enumerate(deps):
        for d in dep:
            users.setdefault(d, []).append(index)
    pending = [len(d) for d in deps]
    ready = [i for i, p in enumerate(pending) if p == 0]
    order: list[int] = []
    import heapq
    heapq.heapify(ready)
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users.get(i, ()):
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(graph.node):
        stuck = [_label(graph.node[i], i) for i in range(len(graph.node)) if pending[i] > 0]
        raise InvalidModelError(f"the graph has a cycle through nodes {', '.join(stuck[:8])}"
                                + (f" and {len(stuck) - 8} more" if len(stuck) > 8 else ""))
    return [graph.node[i] for i in order]


def _label(node: onnx.NodeProto, index: int) -> str:
    return f"{node.name or f'#{index}'!r} ({node.op_type})"


def value_shape(value: onnx.ValueInfoProto) -> tuple[int | str | None, ...] | None:
    if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
        return None
    dims: list[int | str | None] = []
    for dim in value.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        elif dim.HasField("dim_param") and not dim.dim_param.startswith("unk__"):
            dims.append(dim.dim_param)  # a named dynamic dim (unk__N: inference gave up)
        else:
            dims.append(None)
    return tuple(dims)


def check_size(name: str, shape: Iterable[Any], where: str = "") -> None:
    """Refuse tensors MXNet cannot hold (and that would exhaust memory)."""
    total = 1
    for dim in shape:
        if isinstance(dim, (int, np.integer)):
            if dim < 0:
                raise InvalidModelError(f"tensor {name!r}{where} has a negative dimension "
                                        f"in shape {tuple(shape)}")
            total *= int(dim)
    if total > MAX_ELEMENTS:
        raise InvalidModelError(f"tensor {name!r}{where} would have {total:.3g} elements "
                                f"(shape {tuple(shape)}); MXNet 1.9.1 holds at most "
                                f"{MAX_ELEMENTS} elements per tensor")


def get_model_metadata(model: Any) -> dict[str, Any]:
    """Inputs, outputs (names, shapes, dtypes), opsets and producer of an ONNX model."""
    proto, _ = load_model(model)
    inits = {t.name for t in proto.graph.initializer}

    def describe(value: onnx.ValueInfoProto) -> dict[str, Any]:
        shape = value_shape(value)
        elem = value.type.tensor_type.elem_type if value.type.HasField("tensor_type") else 0
        np_type = dtypes.to_numpy(elem)
        return {"name": value.name, "shape": None if shape is None else list(shape),
                "dtype": np_type.name if np_type is not None else dtypes.elem_name(elem).lower()}

    return {
        "inputs": [describe(v) for v in proto.graph.input if v.name not in inits],
        "outputs": [describe(v) for v in proto.graph.output],
        "initializers": len(inits),
        "opsets": opsets(proto),
        "ir_version": proto.ir_version,
        "producer_name": proto.producer_name,
        "producer_version": proto.producer_version,
        "model_version": proto.model_version,
        "graph_name": proto.graph.name,
        "doc_string": proto.doc_string,
        "metadata_props": {p.key: p.value for p in proto.metadata_props},
    }
