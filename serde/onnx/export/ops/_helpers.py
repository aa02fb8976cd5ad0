"""Helpers shared by the converter families."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from onnx import helper

from ..context import ExportContext, MxNode

INT64 = np.dtype(np.int64)


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


class Builder:
    """Terse emission for the long node chains of this family: ``b("Add", x, y)``."""

    def __init__(self, node: MxNode, ctx: ExportContext) -> None:
        self.node, self.ctx = node, ctx

    def __call__(self, op_type: str, *inputs: str, out: str | None = None,
                 dtype: Any = None, **attrs: Any) -> str:
        return self.ctx.emit1(op_type, list(inputs), out, name=f"{self.node.name}_{op_type}",
                              dtype=dtype, **attrs)

    def const(self, value: Any, dtype: Any, label: str = "c") -> str:
        return self.ctx.add_const(np.asarray(value, dtype=dtype), f"{self.node.name}_{label}")

    def i64(self, value: Any, label: str = "i") -> str:
        return self.ctx.add_int64(value, f"{self.node.name}_{label}")

    def cols(self, tensor: str, start: int, count: int = 1) -> str:
        """Columns start..start+count of the last axis (the axis kept)."""
        return self("Slice", tensor, self.i64([start]), self.i64([start + count]),
                    self.i64([-1]))

    def col(self, tensor: str, index: int) -> str:
        """Column ``index`` of the last axis, the axis dropped."""
        return self("Gather", tensor, self.i64(index), axis=-1)

    def cast(self, tensor: str, dtype: Any) -> str:
        dtype = np.dtype(dtype)
        return self("Cast", tensor, to=helper.np_dtype_to_tensor_dtype(dtype), dtype=dtype)

    def unsqueeze(self, tensor: str, axes: Sequence[int]) -> str:
        return self("Unsqueeze", tensor, self.i64(list(axes)))

    def positions(self, count: str) -> str:
        """0 .. count-1 as int64, ``count`` a 0-d int64 tensor."""
        return self("Range", self.i64(0), count, self.i64(1), dtype=INT64)

    def dim(self, tensor: str, axis: int) -> str:
        """Size of ``axis`` as a 0-d int64 tensor (runtime, so dynamic axes stay dynamic)."""
        return self("Gather", self("Shape", tensor, dtype=INT64), self.i64(axis), axis=0,
                    dtype=INT64)

    def batch_gather(self, data: str, order: str) -> str:
        """``data[b, order[b, i], ...]`` for (B, N, K) data and (B, M) int64 order."""
        index = self.unsqueeze(order, [-1])
        index = self("Expand", index, self("Concat", self("Shape", order, dtype=INT64),
                                           self("Slice", self("Shape", data, dtype=INT64),
                                                self.i64([2]), self.i64([3])),
                                           axis=0, dtype=INT64), dtype=INT64)
        return self("GatherElements", data, index, axis=1)
