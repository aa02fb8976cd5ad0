"""Helpers shared by the converter families."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..context import ExportContext, MxNode


def spatial(values: Sequence[int], rank: int, default: int) -> list[int]:
    """An MXNet per-spatial-axis tuple, filled to ``rank`` axes with ``default``."""
    values = list(values) or [default] * rank
    if len(values) == 1 and rank > 1:
        values = values * rank
    return [int(v) for v in values]


def scalar_const(ctx: ExportContext, node: MxNode, value: float, like: str, suffix: str) -> str:
    """A 0-d constant with the dtype of tensor ``like``."""
    return ctx.add_const(np.array(value, dtype=ctx.dtype(like)), f"{node.name}_{suffix}")


def axes_input_or_attr(ctx: ExportContext, node: MxNode, axes: Sequence[int], since: int
                       ) -> tuple[list[str], dict]:
    """ONNX moved ``axes`` from an attribute to an input at ``since``: give what the opset wants."""
    if ctx.opset >= since:
        return [ctx.add_int64(list(axes), f"{node.name}_axes")], {}
    return [], {"axes": list(axes)}
