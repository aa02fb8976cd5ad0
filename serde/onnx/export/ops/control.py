"""Control flow: ``_foreach`` -> Scan, ``_cond`` -> If, ``_while_loop`` -> Loop.

MXNet keeps a control-flow op's bodies as graph JSON in the node (``subgraphs``) and maps the
node's inputs onto each body's inputs with ``*_locs`` attributes. Bodies are converted by the
same converters into ONNX subgraphs; a body input the op passes through unchanged (a weight,
a free variable) becomes a reference to the outer tensor, as ONNX scoping allows.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mxnet as mx
import numpy as np
import onnx
from onnx import helper

from ....errors import InvalidModelError, UnsupportedOperatorError, mxnet_message
from ..context import ExportContext, MxNode
from ..registry import EXPORT_REGISTRY, register


@dataclass
class Body:
    nodes: list[onnx.NodeProto]
    initializers: list[onnx.TensorProto]
    inputs: list[onnx.ValueInfoProto]  # the body's own inputs, in the order asked for
    outputs: list[str]  # tensor names of the body's heads
    ctx: ExportContext


def _locs(node: MxNode, key: str) -> list[int]:
    value = node.optional(key)
    return [int(v) for v in (value or ())]


def convert_body(node: MxNode, ctx: ExportContext, sub: dict[str, Any], label: str,
                 bound: dict[int, str], own: dict[int, tuple[tuple[int, ...], Any]]) -> Body:
    """Convert body ``sub`` of ``node``. ``bound`` maps body input positions to outer tensors
    (referenced from the outer scope); ``own`` maps the other positions to the (shape, dtype)
    of a body input. Node names get the op's name as prefix so they stay unique."""
    from ..convert import convert_nodes

    sub = json.loads(json.dumps(sub))
    nodes = sub["nodes"]
    prefix = f"{node.name}_{label}_"
    arg_ids = [i for i, n in enumerate(nodes) if n["op"] == "null"]
    for n in nodes:
        if n["op"] != "null":
            n["name"] = prefix + n["name"]
    input_names: dict[int, str] = {}
    for position, node_id in enumerate(arg_ids):
        if position in bound:
            input_names[node_id] = bound[position]
        else:
            nodes[node_id]["name"] = prefix + nodes[node_id]["name"]
            input_names[node_id] = nodes[node_id]["name"]
    sub.setdefault("attrs", {"mxnet_version": ["int", 10901]})
    try:
        sym = mx.sym.load_json(json.dumps(sub))
    except mx.base.MXNetError as err:
        raise InvalidModelError(f"the body of {node.name!r} cannot be read: "
                                f"{mxnet_message(err)}") from err
    shapes, dtypes = {}, {}
    for position, node_id in enumerate(arg_ids):
        name = nodes[node_id]["name"]
        if position in bound:
            outer = bound[position]
            shapes[name], dtypes[name] = ctx.shape(outer), ctx.dtype(outer)
        else:
            shapes[name], dtypes[name] = own[position][0], np.dtype(own[position][1])
    internals = sym.get_internals()
    try:
        _, out_shapes, _ = internals.infer_shape_partial(**shapes)
        _, out_types, _ = internals.infer_type(**dtypes)
    except mx.base.MXNetError as err:
        raise InvalidModelError(f"the body of {node.name!r} does not fit its inputs: "
                                f"{mxnet_message(err)}") from err
    child = ExportContext(opset=ctx.opset, dynamic_inputs=ctx.dynamic_inputs)
    child._used_names = ctx._used_names  # one namespace across scopes (SSA)
    child.shapes.update(ctx.shapes)
    child.dtypes.update(ctx.dtypes)
    child.constants.update(ctx.constants)
    outputs_of: dict[str, list[str]] = {}
    for k, out_name in enumerate(internals.list_outputs()):
        outputs_of.setdefault(internals[k].name, []).append(out_name)
        child.reserve(out_name)
        if out_shapes[k] is not None:
            child.shapes[out_name] = tuple(out_shapes[k])
        if out_types[k] is not None:
            child.dtypes[out_name] = np.dtype(out_types[k])
    unsupported = [(n["op"], n["name"]) for n in nodes if n["op"] != "null"
                   and EXPORT_REGISTRY.lookup(n["op"], ctx.opset) is None]
    if unsupported:
        raise UnsupportedOperatorError(unsupported, opset=ctx.opset)
    tensor_of = {(node_id, 0): input_names[node_id] for node_id in arg_ids}
    for node_id in arg_ids:
        name = input_names[node_id]
        child.reserve(name)
        child.shapes[name] = tuple(shapes[nodes[node_id]["name"]])
        child.dtypes[name] = np.dtype(dtypes[nodes[node_id]["name"]])
    convert_nodes(nodes, outputs_of, tensor_of, set(), child)
    heads = []
    for src, idx, *_ in sub["heads"]:
        tensor = tensor_of[(src, idx)]
        # a body output is a fresh tensor of the body (never an input or an outer name)
        out = child.emit1("Identity", [tensor], name=f"{prefix}out",
                          dtype=child.dtype(tensor))
        child.shapes[out] = child.shapes.get(tensor)
        heads.append(out)
    inputs = [helper.make_tensor_value_info(
        input_names[arg_ids[p]], helper.np_dtype_to_tensor_dtype(np.dtype(own[p][1])),
        list(own[p][0])) for p in sorted(own)]
    return Body(child.nodes, list(child.initializers.values()), inputs, heads, child)


def inline_condition(node: MxNode, ctx: ExportContext, sub: dict[str, Any], label: str,
                     bound: dict[int, str]) -> str:
    """Convert a condition body straight into ``ctx`` (no subgraph of its own) and return its
    value as the 0-d bool that If and Loop take."""
    condition = convert_body(node, ctx, sub, label, bound, {})
    ctx.nodes.extend(condition.nodes)
    for tensor in condition.initializers:
        ctx.initializers[tensor.name] = tensor
    flag = ctx.emit1("Cast", [condition.outputs[0]], name=f"{node.name}_{label}_flag",
                     to=onnx.TensorProto.BOOL, dtype=np.bool_)
    return ctx.emit1("Reshape", [flag, ctx.add_int64([], f"{node.name}_{label}_scalar")],
                     name=f"{node.name}_{label}_flag_scalar", dtype=np.bool_)


def _graph(body: Body, name: str, input_order: Sequence[onnx.ValueInfoProto]) -> onnx.GraphProto:
    outputs = [helper.make_tensor_value_info(t, body.ctx.onnx_dtype(t), None)
               for t in body.outputs]
    return helper.make_graph(body.nodes, name, list(input_order), outputs, body.initializers)


@register("_foreach")
def foreach(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet's foreach over axis 0 of its data inputs -> ONNX Scan (states carried, per-step
    outputs stacked)."""
    data_locs = _locs(node, "in_data_locs")
    state_locs = _locs(node, "in_state_locs")
    remain_locs = _locs(node, "remain_locs")
    n_data, n_states = len(data_locs), len(state_locs)
    data = node.inputs[:n_data]
    states = node.inputs[n_data:n_data + n_states]
    remain = node.inputs[n_data + n_states:]
    own: dict[int, tuple[tuple[int, ...], Any]] = {}
    for loc, tensor in zip(data_locs, data, strict=True):
        own[loc] = (tuple(ctx.shape(tensor)[1:]), ctx.dtype(tensor))
    for loc, tensor in zip(state_locs, states, strict=True):
        own[loc] = (tuple(ctx.shape(tensor)), ctx.dtype(tensor))
    bound = dict(zip(remain_locs, remain, strict=True))
    body = convert_body(node, ctx, node.subgraphs[0], "body", bound, own)
    n_out = node.int("num_out_data")
    by_loc = {vi.name: vi for vi in body.inputs}
    names = {loc: vi.name for loc, vi in zip(sorted(own), body.inputs, strict=True)}
    # Scan's body takes the states first, then the scanned slices; gives new states first.
    order = [by_loc[names[loc]] for loc in state_locs] + [by_loc[names[loc]] for loc in data_locs]
    outputs = body.outputs[n_out:] + body.outputs[:n_out]
    body.outputs = outputs
    graph = _graph(body, f"{node.name}_body", order)
    results = ctx.emit("Scan", list(states) + list(data), n_states + n_out, name=node.name,
                       body=graph, num_scan_inputs=n_data)
    final_states, stacked = results[:n_states], results[n_states:]
    for tensor, mx_name in zip(stacked + final_states, node.outputs, strict=False):
        ctx.dtypes[tensor] = ctx.dtype(mx_name)
        ctx.shapes[tensor] = ctx.shapes.get(mx_name)
    return stacked + final_states


@register("_cond")
def cond(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet's cond: the condition body is computed in the outer graph, then ONNX If takes
    the two branches (their inputs are outer tensors)."""
    from ..convert import convert_nodes  # noqa: F401  (bodies convert through it)

    cond_locs = _locs(node, "cond_input_locs")
    then_locs = _locs(node, "then_input_locs")
    else_locs = _locs(node, "else_input_locs")

    def bound(locs: list[int]) -> dict[int, str]:
        return {position: node.inputs[loc] for position, loc in enumerate(locs)}

    flag = inline_condition(node, ctx, node.subgraphs[0], "cond", bound(cond_locs))
    branches = [convert_body(node, ctx, node.subgraphs[k], label, bound(locs), {})
                for k, label, locs in ((1, "then", then_locs), (2, "else", else_locs))]
    graphs = [_graph(branch, f"{node.name}_{label}", [])
              for branch, label in zip(branches, ("then", "else"), strict=True)]
    outputs = ctx.emit("If", [flag], len(node.outputs), name=node.name,
                       then_branch=graphs[0], else_branch=graphs[1])
    for tensor, mx_name in zip(outputs, node.outputs, strict=True):
        ctx.dtypes[tensor] = ctx.dtype(mx_name)
        ctx.shapes[tensor] = ctx.shapes.get(mx_name)
    return outputs


@register("_while_loop")
def while_loop(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet's while_loop -> ONNX Loop: the condition is evaluated on the initial loop vars in
    the outer graph and again on the new ones inside the body; step outputs are stacked and
    zero-padded to ``max_iterations`` rows (MXNet's output shape; MXNet leaves those rows
    uninitialised)."""
    cond_locs = _locs(node, "cond_input_locs")
    func_locs = _locs(node, "func_input_locs")
    var_locs = _locs(node, "func_var_locs")
    n_vars = len(var_locs)
    n_out = node.int("num_out_data")
    max_iterations = node.int("max_iterations")
    loop_vars = node.inputs[:n_vars]
    var_of_func_input = {position: k for k, position in enumerate(var_locs)}

    def cond_bound(values: Sequence[str]) -> dict[int, str]:
        # cond body input j reads node input cond_locs[j], a loop var (or an outer tensor)
        return {j: (values[loc] if loc < n_vars else node.inputs[loc])
                for j, loc in enumerate(cond_locs)}

    start = inline_condition(node, ctx, node.subgraphs[0], "cond0", cond_bound(loop_vars))
    own = {position: (tuple(ctx.shape(loop_vars[k])), ctx.dtype(loop_vars[k]))
           for position, k in var_of_func_input.items()}
    bound = {position: node.inputs[loc] for position, loc in enumerate(func_locs)
             if position not in var_of_func_input}
    func = convert_body(node, ctx, node.subgraphs[1], "func", bound, own)
    step_outputs, new_vars = func.outputs[:n_out], func.outputs[n_out:]
    for tensor, var in zip(new_vars, loop_vars, strict=True):
        func.ctx.shapes[tensor] = tuple(ctx.shape(var))
    keep_going = inline_condition(node, func.ctx, node.subgraphs[0], "cond",
                                  cond_bound(new_vars))
    func.nodes = func.ctx.nodes
    func.initializers = list(func.ctx.initializers.values())
    iteration = ctx.unique_name(f"{node.name}_iteration")
    condition_in = ctx.unique_name(f"{node.name}_condition_in")
    by_position = {position: vi for position, vi in zip(sorted(own), func.inputs, strict=True)}
    body_inputs = [helper.make_tensor_value_info(iteration, onnx.TensorProto.INT64, []),
                   helper.make_tensor_value_info(condition_in, onnx.TensorProto.BOOL, [])]
    body_inputs += [by_position[position] for position in var_locs]
    func.outputs = [keep_going] + list(new_vars) + list(step_outputs)
    graph = _graph(func, f"{node.name}_body", body_inputs)
    results = ctx.emit("Loop", [ctx.add_int64(max_iterations, f"{node.name}_max"), start]
                       + list(loop_vars), n_vars + n_out, name=node.name, body=graph)
    final_vars, stacked = results[:n_vars], results[n_vars:]
    # MXNet's partial inference leaves a while_loop's output shapes unknown: take them from
    # the body (a step output stacked max_iterations times, the loop vars as they came in)
    for step, mx_name in zip(step_outputs, node.outputs[:n_out], strict=True):
        step_shape = func.ctx.shapes.get(step)
        if step_shape is not None:
            ctx.shapes[mx_name] = (max_iterations, *step_shape)
    for var, mx_name in zip(loop_vars, node.outputs[n_out:], strict=False):
        ctx.shapes[mx_name] = tuple(ctx.shape(var))
    padded = []
    for tensor, mx_name in zip(stacked, node.outputs[:n_out], strict=True):
        rank = len(ctx.shape(mx_name))
        rows = ctx.emit1("Slice", [ctx.emit1("Shape", [tensor], name=f"{node.name}_shape",
                                             dtype=np.int64),
                                   ctx.add_int64([0], f"{node.name}_r0"),
                                   ctx.add_int64([1], f"{node.name}_r1")],
                         name=f"{node.name}_rows", dtype=np.int64)
        missing = ctx.emit1("Sub", [ctx.add_int64([max_iterations], f"{node.name}_m"), rows],
                            name=f"{node.name}_missing", dtype=np.int64)
        zeros = ctx.add_int64([0] * rank, f"{node.name}_zeros")
        pads = ctx.emit1("Concat", [zeros, missing, ctx.add_int64([0] * (rank - 1),
                                                                  f"{node.name}_rest")],
                         name=f"{node.name}_pads", axis=0, dtype=np.int64)
        padded.append(ctx.emit1("Pad", [tensor, pads], name=f"{node.name}_pad",
                                dtype=ctx.dtype(mx_name)))
    outputs = padded + final_vars
    for tensor, mx_name in zip(outputs, node.outputs, strict=False):
        ctx.dtypes[tensor] = ctx.dtype(mx_name)
        ctx.shapes[tensor] = ctx.shapes.get(mx_name)
    return outputs
