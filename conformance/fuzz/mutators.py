"""Mutators: byte-level (flips, truncation, insertion, zeroed runs) for any file, structural
for ONNX models (dropped/duplicated nodes, dangling names, cycles, bad dims and dtypes, wrong
raw_data lengths, odd opsets, unknown domains and ops, wrong attribute types, huge declared
sizes, deep subgraphs, hostile external-data locations) and for MXNet symbol JSON / params
(bad attribute strings, out-of-range node inputs, unknown ops, missing, extra or misshaped
parameters). Every mutator is ``(value, rng) -> value`` and deterministic for its rng."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

# --- bytes ----------------------------------------------------------------------------------


def flip_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        k = int(rng.integers(0, len(out)))
        out[k] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[:int(rng.integers(0, max(len(data), 1)))]


def insert_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    k = int(rng.integers(0, len(data) + 1))
    return data[:k] + rng.bytes(int(rng.integers(1, 64))) + data[k:]


def zero_run(data: bytes, rng: np.random.Generator) -> bytes:
    k = int(rng.integers(0, max(len(data), 1)))
    n = int(rng.integers(1, 256))
    return data[:k] + b"\0" * min(n, len(data) - k) + data[k + n:]


BYTE_MUTATORS: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    "flip_bytes": flip_bytes, "truncate": truncate, "insert_bytes": insert_bytes,
    "zero_run": zero_run}

# --- ONNX structure -------------------------------------------------------------------------


def _pick(rng: np.random.Generator, items: Any) -> Any:
    items = list(items)
    return items[int(rng.integers(0, len(items)))] if items else None


def _all_nodes(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    nodes = []
    for node in graph.node:
        nodes.append(node)
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                nodes += _all_nodes(attr.g)
    return nodes


def drop_node(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    if m.graph.node:
        del m.graph.node[int(rng.integers(0, len(m.graph.node)))]
    return m


def duplicate_node(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    node = _pick(rng, m.graph.node)
    if node is not None:
        m.graph.node.insert(int(rng.integers(0, len(m.graph.node) + 1)), copy.deepcopy(node))
    return m


def dangling_input(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    node = _pick(rng, _all_nodes(m.graph))
    if node is not None and node.input:
        node.input[int(rng.integers(0, len(node.input)))] = "no_such_tensor"
    return m


def make_cycle(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    nodes = list(m.graph.node)
    if len(nodes) >= 2:
        i = int(rng.integers(0, len(nodes) - 1))
        if nodes[i].input and nodes[-1].output:
            nodes[i].input[0] = nodes[-1].output[0]  # an earlier node reads a later output
    return m


def bad_dims(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    values = [0, -1, -7, 2**31, 2**62, 1]
    for info in list(m.graph.input) + list(m.graph.output):
        dims = info.type.tensor_type.shape.dim
        if dims:
            dims[int(rng.integers(0, len(dims)))].dim_value = _pick(rng, values)
    return m


def bad_dtype(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    kinds = [0, 99, TensorProto.STRING, TensorProto.BOOL, TensorProto.COMPLEX64,
             TensorProto.FLOAT8E4M3FN, TensorProto.INT4, TensorProto.FLOAT16]
    target = _pick(rng, list(m.graph.input) + list(m.graph.output) + list(m.graph.initializer))
    if isinstance(target, onnx.TensorProto):
        target.data_type = _pick(rng, kinds)
    elif target is not None:
        target.type.tensor_type.elem_type = _pick(rng, kinds)
    return m


def raw_data_length(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    init = _pick(rng, m.graph.initializer)
    if init is not None and init.raw_data:
        raw = init.raw_data
        init.raw_data = raw[:int(rng.integers(0, len(raw)))] if rng.random() < 0.7 else \
            raw + rng.bytes(int(rng.integers(1, 16)))
    return m


def odd_opset(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    m.opset_import[0].version = _pick(rng, [0, -1, 1, 5, 999, 2**40])
    if rng.random() < 0.3:
        m.ir_version = _pick(rng, [0, 1, 99])
    return m


def unknown_domain_or_op(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    node = _pick(rng, _all_nodes(m.graph))
    if node is not None:
        if rng.random() < 0.5:
            node.domain = _pick(rng, ["com.example", "ai.onnx.ml", "ai.onnx.preview.training"])
        else:
            node.op_type = _pick(rng, ["NoSuchOp", "", "conv", "Relu6", "Loop"])
    return m


def attribute_type(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    node = _pick(rng, [n for n in _all_nodes(m.graph) if n.attribute])
    if node is None:
        return m
    attr = _pick(rng, node.attribute)
    choice = int(rng.integers(0, 6))
    name = attr.name
    node.attribute.remove(attr)
    value: Any = [["a", "b"], "text", 3.5, -(2**40), [1.5, 2.5], []][choice]
    if choice == 5:
        node.attribute.append(helper.make_attribute(name, [], attr_type=onnx.AttributeProto.INTS))
    else:
        node.attribute.append(helper.make_attribute(name, value))
    return m


def bad_attribute_value(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    node = _pick(rng, [n for n in _all_nodes(m.graph) if n.attribute])
    if node is not None:
        attr = _pick(rng, node.attribute)
        if attr.type == onnx.AttributeProto.INTS and attr.ints:
            attr.ints[int(rng.integers(0, len(attr.ints)))] = _pick(rng, [0, -5, 2**31, 10**6])
        elif attr.type == onnx.AttributeProto.INT:
            attr.i = _pick(rng, [0, -5, 2**31, 10**6])
        elif attr.type == onnx.AttributeProto.FLOAT:
            attr.f = _pick(rng, [float("nan"), float("inf"), -1e30])
    return m


def huge_initializer(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    init = _pick(rng, m.graph.initializer)
    if init is not None:
        del init.dims[:]
        init.dims.extend(_pick(rng, [[2**20, 2**20], [2**40], [0, 3], [-1, 4]]))
    return m


def deep_subgraph(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    """Identity nested in ``If`` depth times: recursion limits must hold."""
    depth = int(rng.integers(8, 32))  # protobuf parses at most 100 nested messages
    if not m.graph.output:
        return m
    out = m.graph.output[0].name
    inner = helper.make_graph([helper.make_node("Identity", [out], ["deep_0"])], "g0", [],
                              [helper.make_tensor_value_info("deep_0", TensorProto.FLOAT, None)])
    def leaf(k: int) -> onnx.GraphProto:  # the else branch: linear size, not 2^depth
        return helper.make_graph([helper.make_node("Identity", [out], [f"leaf_{k}"])],
                                 f"leaf{k}", [], [helper.make_tensor_value_info(
                                     f"leaf_{k}", TensorProto.FLOAT, None)])

    for k in range(1, depth):
        node = helper.make_node("If", ["deep_cond"], [f"deep_{k}"], then_branch=inner,
                                else_branch=leaf(k))
        inner = helper.make_graph([node], f"g{k}", [], [helper.make_tensor_value_info(
            f"deep_{k}", TensorProto.FLOAT, None)])
    m.graph.initializer.append(helper.make_tensor("deep_cond", TensorProto.BOOL, [], [True]))
    m.graph.node.append(helper.make_node("If", ["deep_cond"], ["deep_out"], then_branch=inner,
                                         else_branch=leaf(depth)))
    m.graph.output[0].name = "deep_out"
    return m


def long_chain(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    """Thousands of Identity nodes after the output: size limits, not minutes of work."""
    n = int(rng.integers(2000, 60000))
    if not m.graph.output:
        return m
    prev = m.graph.output[0].name
    for k in range(n):
        m.graph.node.append(helper.make_node("Identity", [prev], [f"chain_{k}"]))
        prev = f"chain_{k}"
    m.graph.output[0].name = prev
    return m


def duplicate_names(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    if len(m.graph.node) >= 2:
        a, b = rng.choice(len(m.graph.node), 2, replace=False)
        m.graph.node[int(b)].output[0] = m.graph.node[int(a)].output[0]
    return m


def drop_graph_io(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    target = m.graph.output if rng.random() < 0.5 else m.graph.input
    if len(target):
        del target[0]
    return m


# --- any protobuf (structure-aware) ---------------------------------------------------------

_INT_VALUES = [0, -1, 1, 3, 2**31 - 1, -2**31, 10**6]
_INT64_VALUES = [2**63 - 1, -2**63, 2**40]
_FLOAT_VALUES = [0.0, -1.0, float("nan"), float("inf"), -float("inf"), 1e30, 1e-30]
_STRING_VALUES = ["", "x", "../../outside", "\u00e9\u4e2d", "a" * 300, "0"]


def _fields(message: Any, limit: int = 20000) -> list[tuple[Any, Any]]:
    """(message, field descriptor) of every set field under ``message``, depth first."""
    found: list[tuple[Any, Any]] = []
    stack = [message]
    while stack and len(found) < limit:
        msg = stack.pop()
        for desc, value in msg.ListFields():
            if desc.type == desc.TYPE_MESSAGE and desc.message_type.GetOptions().map_entry:
                continue  # a map (metadata): not indexable as a list of messages
            found.append((msg, desc))
            if desc.type == desc.TYPE_MESSAGE:
                if desc.is_repeated:
                    stack.extend(list(value)[:200])
                else:
                    stack.append(value)
    return found


def proto_field(message: Any, rng: np.random.Generator) -> Any:
    """One field anywhere in a protobuf message set to a hostile value for its type: ints to
    0, -1 or past int32, floats to NaN or infinities, strings to empty or odd names, repeated
    fields cleared, shortened or grown, messages cleared, enums out of range."""
    fields = _fields(message)
    if not fields:
        return message
    msg, desc = fields[int(rng.integers(len(fields)))]
    name = desc.name
    repeated = desc.is_repeated
    if desc.type == desc.TYPE_MESSAGE:
        if repeated and len(getattr(msg, name)) and rng.random() < 0.5:
            del getattr(msg, name)[int(rng.integers(len(getattr(msg, name))))]
        else:
            msg.ClearField(name)
        return message
    if desc.type in (desc.TYPE_INT32, desc.TYPE_INT64, desc.TYPE_UINT32, desc.TYPE_UINT64,
                     desc.TYPE_SINT32, desc.TYPE_SINT64, desc.TYPE_ENUM):
        values = _INT_VALUES + (_INT64_VALUES if desc.type in (desc.TYPE_INT64,
                                                              desc.TYPE_SINT64) else [])
        if desc.type in (desc.TYPE_UINT32, desc.TYPE_UINT64):
            values = [v for v in values if v >= 0]
        if desc.type == desc.TYPE_ENUM:
            values = [0, 1, 999]
        if desc.type in (desc.TYPE_INT32, desc.TYPE_SINT32, desc.TYPE_ENUM):
            values = [v for v in values if -2**31 <= v < 2**31]
    elif desc.type in (desc.TYPE_FLOAT, desc.TYPE_DOUBLE):
        values = _FLOAT_VALUES
    elif desc.type == desc.TYPE_STRING:
        values = _STRING_VALUES
    elif desc.type == desc.TYPE_BYTES:
        current = getattr(msg, name)
        data = bytes(current[0]) if repeated and len(current) else \
            (bytes(current) if not repeated else b"")
        values = [data[: len(data) // 2], data * 2, b""]
    elif desc.type == desc.TYPE_BOOL:
        values = [True, False]
    else:
        return message
    value = values[int(rng.integers(len(values)))]
    try:
        if repeated:
            items = getattr(msg, name)
            choice = int(rng.integers(4))
            if choice == 0:
                msg.ClearField(name)
            elif choice == 1 and len(items):
                del items[-1]
            elif choice == 2:
                items.append(value)
            elif len(items):
                items[int(rng.integers(len(items)))] = value
        else:
            setattr(msg, name, value)
    except (TypeError, ValueError):  # not representable in the field: leave it
        pass
    return message


ONNX_MUTATORS: dict[str, Callable[[onnx.ModelProto, np.random.Generator], onnx.ModelProto]] = {
    "drop_node": drop_node, "duplicate_node": duplicate_node, "dangling_input": dangling_input,
    "make_cycle": make_cycle, "bad_dims": bad_dims, "bad_dtype": bad_dtype,
    "raw_data_length": raw_data_length, "odd_opset": odd_opset,
    "unknown_domain_or_op": unknown_domain_or_op, "attribute_type": attribute_type,
    "bad_attribute_value": bad_attribute_value, "huge_initializer": huge_initializer,
    "deep_subgraph": deep_subgraph, "long_chain": long_chain,
    "duplicate_names": duplicate_names, "drop_graph_io": drop_graph_io,
    "proto_field": proto_field}

#: Hostile ``location`` values of an external-data initializer ("{outside}" is a file next
#: to the model folder holding the same bytes, "{link}" a symlink to it inside the folder).
EXTERNAL_LOCATIONS = ["../outside.bin", "{outside}", "{link}", "/etc/passwd", "weights.bin\0x",
                      "", "sub/../../outside.bin", "missing.bin", "."]


def external_data(m: onnx.ModelProto, rng: np.random.Generator,
                  outside: str, link: str) -> onnx.ModelProto:
    """Point one external initializer somewhere hostile, or at bad offsets / lengths."""
    inits = [i for i in m.graph.initializer if i.data_location == TensorProto.EXTERNAL]
    init = _pick(rng, inits)
    if init is None:
        return m
    entries = {e.key: e for e in init.external_data}
    if rng.random() < 0.5:
        location = _pick(rng, EXTERNAL_LOCATIONS).format(outside=outside, link=link)
        entries["location"].value = location
    else:
        key = _pick(rng, ["offset", "length"])
        value = str(_pick(rng, [-1, 2**40, 10**9, 3, 0]))
        if key in entries:
            entries[key].value = value
        else:
            entry = init.external_data.add()
            entry.key, entry.value = key, value
    return m

# --- MXNet symbol JSON and params -----------------------------------------------------------


def _nodes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in doc.get("nodes", []) if n.get("op") != "null"]


def mx_bad_attribute(doc: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    node = _pick(rng, _nodes(doc))
    if node is not None:
        attrs = node.setdefault("attrs", {})
        key = _pick(rng, list(attrs) + ["num_group", "kernel", "num_filter", "act_type",
                                        "stride", "num_hidden", "axis"])
        attrs[key] = _pick(rng, ["0", "-1", "(a, b)", "(0, 0)", "(-3, 3)", "", "None",
                                 "1e400", "(1,", "[]", "999999999999", "relu6", "(3, 3, 3, 3)"])
    return doc


def mx_bad_input_index(doc: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    node = _pick(rng, [n for n in _nodes(doc) if n.get("inputs")])
    if node is not None:
        entry = node["inputs"][int(rng.integers(0, len(node["inputs"])))]
        k = int(rng.integers(0, 3))
        entry[k] = _pick(rng, [len(doc["nodes"]) + 5, -1, 7, 10**9])
    return doc


def mx_unknown_op(doc: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    node = _pick(rng, _nodes(doc))
    if node is not None:
        node["op"] = _pick(rng, ["NoSuchOp", "", "null", "_contrib_NoSuch", "Custom"])
    return doc


def mx_bad_heads(doc: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    doc["heads"] = _pick(rng, [[], [[len(doc["nodes"]) + 3, 0, 0]], [[0, 9, 0]], "x",
                               [[-1, 0, 0]]])
    return doc


def mx_drop_key(doc: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    key = _pick(rng, ["nodes", "heads", "arg_nodes", "node_row_ptr", "attrs"])
    doc.pop(key, None)
    return doc


MXNET_JSON_MUTATORS: dict[str, Callable[[dict[str, Any], np.random.Generator], dict[str, Any]]] = {
    "mx_bad_attribute": mx_bad_attribute, "mx_bad_input_index": mx_bad_input_index,
    "mx_unknown_op": mx_unknown_op, "mx_bad_heads": mx_bad_heads, "mx_drop_key": mx_drop_key}


def mx_params(params: dict[str, np.ndarray], rng: np.random.Generator
              ) -> dict[str, np.ndarray]:
    """Missing, extra, misshaped, NaN or oddly typed parameters."""
    out = dict(params)
    key = _pick(rng, sorted(out))
    choice = int(rng.integers(0, 6))
    if choice == 0:
        del out[key]
    elif choice == 1:
        out["arg:extra_weight"] = np.ones((2, 2), np.float32)
    elif choice == 2:
        out[key] = np.ones(tuple(d + 1 for d in out[key].shape) or (2,), np.float32)
    elif choice == 3:
        out[key] = np.full(out[key].shape, np.nan, np.float32)
    elif choice == 4:
        out[key] = out[key].astype(np.float16)
    else:
        out[key] = np.ones((0,), np.float32)
    return out


def mutate_json_text(text: str, rng: np.random.Generator) -> str:
    doc = json.loads(text)
    name = _pick(rng, sorted(MXNET_JSON_MUTATORS))
    return json.dumps(MXNET_JSON_MUTATORS[name](doc, rng))
