"""Checks of MXNet files before MXNet reads them: MXNet's own loaders trust their input, and a
crafted symbol JSON (a node reading output #7 of a one-output node, a convolution in 0
groups) kills the interpreter, a corrupted ``.params`` header makes it allocate without
bound. Both are refused here with a named ``InvalidModelError``."""
from __future__ import annotations

import functools
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidModelError

#: integer attributes MXNet divides by or allocates from, by op: they must be positive
_POSITIVE_ATTRS = {
    "Convolution": ("num_group", "num_filter", "stride", "dilate", "kernel"),
    "Deconvolution": ("num_group", "num_filter", "stride", "dilate", "kernel"),
    "Pooling": ("stride", "kernel"),
    "SliceChannel": ("num_outputs",), "split": ("num_outputs",),
    "UpSampling": ("scale", "num_args"), "FullyConnected": ("num_hidden",),
    "_contrib_DeformableConvolution": ("num_group", "num_filter", "stride", "dilate",
                                       "kernel", "num_deformable_group"),
}


def _ints(text: str) -> list[int] | None:
    try:
        return [int(v) for v in str(text).strip("()[] ").split(",") if v.strip()]
    except ValueError:
        return None  # not integers: MXNet's own attribute parser names it


#: outputs an op may have beyond its visible ones (BatchNorm's mean and variance, Dropout's
#: mask ...): a graph entry may name them; MXNet has none with more
_HIDDEN_OUTPUTS = 3


def _outputs(node: dict[str, Any]) -> int | None:
    """How many outputs ``node``'s op may be read at: its visible outputs (from MXNet's own op
    registry, on the node alone) plus the hidden ones an op can have; None when MXNet cannot
    load the node (it then names it itself)."""
    attrs = node.get("attrs", node.get("param", {})) or {}
    try:
        key = json.dumps([node["op"], attrs, len(node.get("inputs") or [])], sort_keys=True)
    except (TypeError, ValueError):
        return None
    return _probe(key)


@functools.lru_cache(maxsize=4096)
def _probe(key: str) -> int | None:
    import mxnet as mx

    op, attrs, n_inputs = json.loads(key)
    nodes = [{"op": "null", "name": f"in{k}", "inputs": []} for k in range(n_inputs)]
    nodes.append({"op": op, "name": "probe", "attrs": attrs,
                  "inputs": [[k, 0, 0] for k in range(n_inputs)]})
    inputs = nodes[:-1]
    graph = {"nodes": nodes, "arg_nodes": list(range(len(inputs))),
             "heads": [[len(inputs), 0, 0]], "attrs": {"mxnet_version": ["int", 10901]}}
    try:
        return len(mx.sym.load_json(json.dumps(graph)).list_outputs()) + _HIDDEN_OUTPUTS
    except Exception:  # noqa: BLE001 - MXNet refuses the node alone: it names it when loading
        return None


def check_symbol_json(text: str | bytes, source: str = "the symbol JSON") -> None:
    """Refuse symbol JSON MXNet's loader would crash on; leave the rest to MXNet."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InvalidModelError(f"{source} is not UTF-8 text (corrupted file?): {err}"
                                    ) from err
    try:
        graph = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise InvalidModelError(f"{source} is not valid JSON: {err}") from err
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise InvalidModelError(f"{source} has no node list: not an MXNet symbol file")
    nodes = graph["nodes"]
    counts: list[int | None] = []
    for k, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("op"), str) or \
                not isinstance(node.get("name"), str):
            raise InvalidModelError(f"{source}: node #{k} is not an object with an op and a name")
        inputs = node.get("inputs", [])
        if not isinstance(inputs, list):
            raise InvalidModelError(f"{source}: node {node['name']!r} has malformed inputs")
        for entry in inputs:
            _check_entry(entry, k, nodes, counts, source, f"node {node['name']!r}")
        attrs = node.get("attrs", node.get("param", {})) or {}
        if not isinstance(attrs, dict) or not all(isinstance(v, str) for v in attrs.values()):
            raise InvalidModelError(f"{source}: node {node['name']!r} has malformed attributes "
                                    f"(MXNet's are strings)")
        for attr in _POSITIVE_ATTRS.get(node["op"], ()):
            values = _ints(attrs[attr]) if attr in attrs else None
            if values is not None and any(v <= 0 for v in values):
                raise InvalidModelError(f"{source}: node {node['name']!r} ({node['op']}) has "
                                        f"{attr}={attrs[attr]}; it must be positive")
        counts.append(1 if node["op"] == "null" else _outputs(node))
    heads = graph.get("heads", [])
    if not isinstance(heads, list) or not heads:
        raise InvalidModelError(f"{source} names no outputs (heads)")
    for entry in heads:
        _check_entry(entry, len(nodes), nodes, counts, source, "the outputs (heads)")


def _check_entry(entry: Any, limit: int, nodes: list[Any], counts: list[int | None],
                 source: str, what: str) -> None:
    if not isinstance(entry, list) or not 2 <= len(entry) <= 3 or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in entry):
        raise InvalidModelError(f"{source}: {what} reads {entry!r}, not [node, output, version]")
    src, index = entry[0], entry[1]
    if not 0 <= src < limit:
        raise InvalidModelError(f"{source}: {what} reads node #{src}, which does not come "
                                f"before it (the graph has {len(nodes)} nodes)")
    count = counts[src] if src < len(counts) else None
    if index < 0 or (count is not None and index >= count):
        visible = count if nodes[src]["op"] == "null" else count - _HIDDEN_OUTPUTS
        raise InvalidModelError(f"{source}: {what} reads output #{index} of node "
                                f"{nodes[src]['name']!r}, which has {visible} output(s)")


#: mshadow type flags -> bytes per element
_ITEM_SIZE = {0: 4, 1: 8, 2: 2, 3: 1, 4: 4, 5: 1, 6: 8, 7: 1, 8: 2, 9: 2, 10: 4, 11: 8, 12: 2}
_LIST_MAGIC = 0x112
_ARRAY_MAGICS = (0xF993FAC9, 0xF993FACA)  # NDArray V2, V3


def check_params_file(path: str | os.PathLike) -> None:
    """Refuse a ``.params`` file whose declared arrays do not fit in it (a corrupted header
    makes MXNet allocate without bound). Files in formats not understood here (sparse or
    older arrays) are left to MXNet."""
    data = Path(path).read_bytes() if Path(path).is_file() else None
    if data is None:
        return  # missing: the loader names it
    name = f"parameter file {str(path)!r}"

    def need(offset: int, size: int) -> None:
        if offset + size > len(data):
            raise InvalidModelError(f"{name} is truncated or corrupted: it ends at byte "
                                    f"{len(data)}, its contents need {offset + size}")

    need(0, 24)
    magic, _, count = struct.unpack_from("<QQQ", data, 0)
    if magic != _LIST_MAGIC:
        raise InvalidModelError(f"{name} is not an MXNet parameter file (magic {magic:#x})")
    offset = 24
    if count > len(data) // 16:
        raise InvalidModelError(f"{name} declares {count} arrays, more than it can hold")
    layout = None
    for k in range(count):
        need(offset, 12)
        array_magic, stype, ndim = struct.unpack_from("<IiI", data, offset)
        if layout is None and array_magic not in _ARRAY_MAGICS:
            return  # an older array layout: MXNet's own checks apply
        if array_magic != (layout or array_magic) or stype not in (0, 1, 2):  # dense, CSR, row
            raise InvalidModelError(f"{name} is corrupted: array #{k} starts at byte "
                                    f"{offset} with no array header")
        if stype != 0:
            return  # a sparse array: MXNet's own checks apply
        layout = array_magic
        offset += 12
        if ndim > 32:
            raise InvalidModelError(f"{name}: array #{k} declares {ndim} dimensions")
        need(offset, 8 * ndim)
        dims = struct.unpack_from(f"<{ndim}q", data, offset)
        offset += 8 * ndim
        if any(d < 0 for d in dims):
            raise InvalidModelError(f"{name}: array #{k} has negative dimensions {dims}")
        if ndim == 0:
            continue
        need(offset, 12)
        _, _, flag = struct.unpack_from("<iii", data, offset)
        offset += 12
        if flag not in _ITEM_SIZE:
            raise InvalidModelError(f"{name}: array #{k} has unknown dtype flag {flag}")
        size = _ITEM_SIZE[flag]
        for d in dims:
            size *= d
        need(offset, size)
        offset += size
    need(offset, 8)
    (names,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    if names not in (0, count):
        raise InvalidModelError(f"{name} is corrupted: {names} names for {count} arrays")
    for _ in range(names):
        need(offset, 8)
        (length,) = struct.unpack_from("<Q", data, offset)
        need(offset + 8, length)
        offset += 8 + length
    if offset != len(data):
        raise InvalidModelError(f"{name} is corrupted: {len(data) - offset} bytes after its "
                                f"last name")



def check_mxnet_inputs(obj: Any, params: Any) -> None:
    """The checks above on whatever files or JSON text an export call names: a symbol path,
    JSON text or checkpoint prefix (with its epoch), and a ``.params`` path."""
    if isinstance(obj, (str, os.PathLike)) and isinstance(params, int) and \
            not isinstance(params, bool):  # a Module checkpoint: (prefix, epoch)
        prefix = os.fspath(obj)
        obj, params = f"{prefix}-symbol.json", f"{prefix}-{params:04d}.params"
    if isinstance(obj, str) and obj.lstrip().startswith("{"):
        check_symbol_json(obj)
    elif isinstance(obj, (str, os.PathLike)) and Path(obj).is_file():
        try:
            text = Path(obj).read_bytes()
        except OSError as err:
            raise InvalidModelError(f"cannot read symbol file {str(obj)!r}: {err}") from err
        check_symbol_json(text, f"symbol file {str(obj)!r}")
    if isinstance(params, (str, os.PathLike)):
        try:
            check_params_file(params)
        except OSError as err:
            raise InvalidModelError(f"cannot read parameter file {str(params)!r}: {err}"
                                    ) from err


_MAX_ELEMENTS = 2**31 - 1  # MXNet 1.9.1 wheels index tensors with int32


_EXPORT_NEGATIVE_DIM = ("a dynamic axis is asked for with dynamic_batch=True or dynamic_axes, "
                        "not a negative dim")


def check_shape(where: str, shape: Any, negative: str = "dims are non-negative") -> None:
    """A shape given by a caller (``input_shapes`` of an export or an import): a tuple or list
    of non-negative integer dims that MXNet can hold; ``negative`` says what to do instead of
    a negative dim."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (list, tuple)):
        raise InvalidModelError(f"{where} must be a tuple of dims, not {shape!r}")
    total = 1
    for dim in shape:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise InvalidModelError(f"{where} has dim {dim!r}: dims are integers")
        if dim < 0:
            raise InvalidModelError(f"{where} has dim {dim}: {negative}")
        total *= int(dim)
    if total > _MAX_ELEMENTS:
        raise InvalidModelError(f"{where} {tuple(shape)} has {total:.3g} elements; MXNet "
                                f"1.9.1 holds at most {_MAX_ELEMENTS} per tensor")


def _check_dtype(where: str, value: Any) -> None:
    if value is None:
        raise InvalidModelError(f"{where} is None; give a dtype such as 'float32'")
    try:
        dtype = np.dtype(value)
    except TypeError as err:
        raise InvalidModelError(f"{where} {value!r} is not a dtype: {err}") from err
    if dtype.kind not in "biuf":
        raise InvalidModelError(f"{where} {dtype} has no MXNet tensor type (MXNet holds "
                                f"bool, integer and floating-point tensors)")


def check_export_options(input_shapes: Any, input_types: Any) -> None:
    """``input_shapes`` (a dict by input name, a list in input order, or one shape) and
    ``input_types`` (a dtype, a list or a dict of them) of an export call, checked before
    MXNet's shape inference sees them (it raises a bare Exception past 2^31 elements)."""
    if input_shapes is not None:
        if isinstance(input_shapes, dict):
            for name, shape in input_shapes.items():
                check_shape(f"input_shapes[{name!r}]", shape, _EXPORT_NEGATIVE_DIM)
        elif isinstance(input_shapes, (list, tuple)) and input_shapes and \
                all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                    for d in input_shapes):
            check_shape("input_shapes", input_shapes, _EXPORT_NEGATIVE_DIM)
        elif isinstance(input_shapes, (list, tuple)):
            for k, shape in enumerate(input_shapes):
                check_shape(f"input_shapes[{k}]", shape, _EXPORT_NEGATIVE_DIM)
        else:
            raise InvalidModelError(f"input_shapes must be a dict of shapes by input name or "
                                    f"a list of shapes, not {type(input_shapes).__name__}")
    if input_types is not None:
        if isinstance(input_types, dict):
            for name, value in input_types.items():
                _check_dtype(f"input_types[{name!r}]", value)
        elif isinstance(input_types, (list, tuple)):
            for k, value in enumerate(input_types):
                _check_dtype(f"input_types[{k}]", value)
        else:
            _check_dtype("input_types", input_types)
