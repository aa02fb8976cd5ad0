"""Detection helpers from mx.contrib: box_decode."""
from __future__ import annotations

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import scalar_const


def _half(ctx: ExportContext, node: MxNode, tensor: str, start: int, label: str) -> str:
    """Columns start:start+2 of the last axis."""
    return ctx.emit1("Slice", [tensor, ctx.add_int64([start], f"{node.name}_{label}_start"),
                               ctx.add_int64([start + 2], f"{node.name}_{label}_end"),
                               ctx.add_int64([-1], f"{node.name}_{label}_axis")],
                     name=f"{node.name}_{label}")


@register("_contrib_box_decode")
def box_decode(node: MxNode, ctx: ExportContext) -> list[str]:
    """Offsets (dx, dy, dw, dh) against anchors -> corner boxes (x1, y1, x2, y2)."""
    data, anchors = node.inputs[:2]
    fmt = node.str("format", "center")
    if fmt not in ("center", "corner"):
        raise node.fail(f"box_decode format {fmt!r} is not supported")
    dtype = ctx.dtype(data)
    std = ctx.add_const(np.array([node.float(f"std{i}", 1.0) for i in range(4)], dtype),
                        f"{node.name}_std")
    scaled = ctx.emit1("Mul", [data, std], name=f"{node.name}_scaled")
    d_xy, d_wh = _half(ctx, node, scaled, 0, "d_xy"), _half(ctx, node, scaled, 2, "d_wh")
    two = scalar_const(ctx, node, 2.0, data, "two")
    if fmt == "corner":
        a_min, a_max = _half(ctx, node, anchors, 0, "a_min"), _half(ctx, node, anchors, 2, "a_max")
        a_wh = ctx.emit1("Sub", [a_max, a_min], name=f"{node.name}_a_wh")
        a_xy = ctx.emit1("Add", [a_min, ctx.emit1("Div", [a_wh, two], name=f"{node.name}_a_half")],
                         name=f"{node.name}_a_xy")
    else:
        a_xy, a_wh = _half(ctx, node, anchors, 0, "a_xy"), _half(ctx, node, anchors, 2, "a_wh")
    centre = ctx.emit1("Add", [ctx.emit1("Mul", [d_xy, a_wh], name=f"{node.name}_shift"), a_xy],
                       name=f"{node.name}_centre")
    clip = node.float("clip", -1.0)
    if clip > 0:
        d_wh = ctx.emit1("Min", [d_wh, scalar_const(ctx, node, clip, data, "clip")],
                         name=f"{node.name}_clipped")
    size = ctx.emit1("Mul", [ctx.emit1("Exp", [d_wh], name=f"{node.name}_exp"), a_wh],
                     name=f"{node.name}_size")
    half = ctx.emit1("Div", [size, two], name=f"{node.name}_half")
    low = ctx.emit1("Sub", [centre, half], name=f"{node.name}_low")
    high = ctx.emit1("Add", [centre, half], name=f"{node.name}_high")
    return ctx.emit("Concat", [low, high], node.outputs[:1], name=node.name, axis=-1)
