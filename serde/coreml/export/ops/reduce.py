"""Reductions over the axes after the batch."""
from __future__ import annotations

from ..context import CoremlContext, MxNode
from ..registry import register

_MODES = {"sum": "sum", "mean": "avg", "max": "max", "min": "min", "prod": "prod",
          "norm": "L2", "nansum": "sum"}


@register(*_MODES)
def reduce(node: MxNode, ctx: CoremlContext) -> list[str]:
    shape = ctx.shape(node.inputs[0])
    rank = len(shape)
    given = node.optional("axis")
    axes = set(range(rank)) if given is None or given == () else {
        int(a) % rank for a in ((given,) if isinstance(given, int) else given)}
    if node.bool("exclude", False):
        axes = set(range(rank)) - axes
    if node.op == "norm" and node.int("ord", 2) != 2:
        raise node.fail("Core ML reduces with the L2 norm only")
    names = "".join(sorted((ctx.axis(node, node.inputs[0], a) for a in axes),
                           key="CHW".index))
    if names not in ("C", "H", "W", "HW", "CHW"):
        raise node.fail(f"reduces axes {sorted(axes)}; Core ML reduces C, H, W, H+W or all")
    c, h, w = ctx.blob(node.inputs[0])
    chw = (1 if "C" in names else c, 1 if "H" in names else h, 1 if "W" in names else w)
    return [ctx.layer("add_reduce", node.name, node.outputs[0], chw, input_name=node.inputs[0],
                      axis=names, mode=_MODES[node.op])]
