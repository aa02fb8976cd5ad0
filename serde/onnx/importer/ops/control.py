"""If: a condition known at import time inlines the taken branch; a run-time condition converts
both branches (they are side-effect free) and selects with ``where``, which needs both to give
outputs of one shape and type."""
from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from ..context import NONDETERMINISTIC, Node, StaticValueRequired
from ..registry import converter, lookup
from ._helpers import npm


def _has_subgraph(proto) -> bool:
    import onnx
    return any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
               for a in proto.attribute)


def _convert_branch(node, ctx, graph) -> list:
    outer = ctx.node
    # a branch's own initializers are constants of its scope (they may shadow outer names,
    # so outer values come back afterwards)
    shadowed = {}
    for init in graph.initializer:
        shadowed.setdefault(init.name, (ctx.values.get(init.name), ctx.tensors.get(init.name)))
        try:
            ctx.values[init.name] = numpy_helper.to_array(init)
        except Exception as err:  # noqa: BLE001 - a malformed tensor of a crafted file
            raise ctx.error(f"branch initializer {init.name!r} cannot be read: {err}") from err
        ctx.tensors.pop(init.name, None)
    for proto in graph.node:        # lets ctx.value() fold branch-internal constants
        for out in proto.output:
            if out:
                ctx.producers.setdefault(out, proto)
    try:
        for index, proto in enumerate(graph.node):
            if proto.op_type not in NONDETERMINISTIC and not _has_subgraph(proto) and \
                    all(out and ctx.has_value(out) for out in proto.output):
                continue
            sub = Node(proto, index)
            sub.name = f"{outer.name}/{sub.name}"
            domain = "" if proto.domain in ("", "ai.onnx") else proto.domain
            convert = lookup(proto.op_type, ctx.opsets.get(domain, 1), domain)
            if convert is None:
                raise ctx.error(f"branch op {proto.op_type} has no converter")
            ctx.node = sub
            result = convert(sub, ctx)
            results = list(result) if isinstance(result, (list, tuple)) else [result]
            for k, out in enumerate(proto.output):
                if out:
                    if k >= len(results) or results[k] is None:
                        raise ctx.error(f"branch output {out!r} is not supported")
                    ctx.tensors[out] = results[k]
        return [ctx.sym(o.name) for o in graph.output]
    finally:
        ctx.node = outer
        for name, (value, tensor) in shadowed.items():
            for table, old in ((ctx.values, value), (ctx.tensors, tensor)):
                if old is None:
                    table.pop(name, None)
                else:
                    table[name] = old


@converter("If", 1, 11, 13, 16, 19, 21, 23, 24, 25)
def if_(node, ctx):
    then_g, else_g = node.attrs["then_branch"], node.attrs["else_branch"]
    try:
        cond = bool(np.asarray(ctx.input_value(node, 0)).ravel()[0])
    except StaticValueRequired:
        cond = None
    if cond is not None:
        return _convert_branch(node, ctx, then_g if cond else else_g)
    then_out = _convert_branch(node, ctx, then_g)
    else_out = _convert_branch(node, ctx, else_g)
    flag = npm.reshape(ctx.input(node, 0), ()).astype("bool")
    outs = []
    for k, (t_name, e_name) in enumerate(zip((o.name for o in then_g.output),
                                             (o.name for o in else_g.output), strict=True)):
        t_shape, e_shape = ctx.shape(t_name), ctx.shape(e_name)
        if t_shape is None or t_shape != e_shape or None in t_shape:
            raise ctx.error(f"a run-time If needs both branches to give output {k} one static "
                            f"shape (then {t_shape}, else {e_shape})")
        if ctx.dtype(t_name) != ctx.dtype(e_name):
            raise ctx.error(f"the branches give output {k} different types")
        outs.append(npm.where(flag, then_out[k], else_out[k]))
    return outs
