"""Constant folding at import time.

Nodes whose inputs are all model constants (initializers, Constant nodes, folded results) or
whose result only depends on static shapes (Shape, Size) are evaluated once with onnx.reference
and become constants: shape sub-graphs (Shape -> Gather -> Concat -> Reshape), ConstantOfShape
weights, Range, ... This is how ops MXNet needs as static attributes get them. Values that
depend on ``constant_inputs`` are not folded here: the context evaluates them on demand, only
where a converter needs a static attribute, and the ops themselves still run in MXNet.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import onnx

from ...errors import ConversionError
from .context import NONDETERMINISTIC, evaluate_node
from .loader import check_size

log = logging.getLogger(__name__)

# above this many elements a folded result is not worth baking into the parameters
_FOLD_LIMIT = 1 << 28


def _has_subgraph(node: onnx.NodeProto) -> bool:
    return any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
               for a in node.attribute)


def fold_constants(nodes: Sequence[onnx.NodeProto], values: dict[str, np.ndarray],
                   shapes: dict[str, tuple | None],
                   opsets: dict[str, int]) -> list[onnx.NodeProto]:
    """Fold what can be folded into ``values``; return the nodes left to convert."""
    remaining: list[onnx.NodeProto] = []
    folded = 0
    for node in nodes:
        if node.op_type in NONDETERMINISTIC or _has_subgraph(node) or node.domain not in ("",
                                                                                          "ai.onnx"):
            remaining.append(node)
            continue
        feeds: dict[str, np.ndarray] | None = {}
        if node.op_type in ("Shape", "Size") and node.input[0] not in values:
            shape = shapes.get(node.input[0])
            if shape is None or not all(isinstance(d, int) for d in shape):
                feeds = None
            else:
                feeds[node.input[0]] = np.broadcast_to(np.zeros((), np.float32), shape)
        else:
            for name in node.input:
                if not name:
                    continue
                if name not in values:
                    feeds = None
                    break
                feeds[name] = values[name]
        if feeds is None:
            remaining.append(node)
            continue
        too_big = False
        for out in node.output:
            shape = shapes.get(out)
            if shape is not None:
                check_size(out, shape, f" (output of {node.op_type} node {node.name!r})")
                if all(isinstance(d, int) for d in shape) and int(np.prod(shape)) > _FOLD_LIMIT:
                    too_big = True
        if too_big:
            remaining.append(node)
            continue
        try:
            results = evaluate_node(node, feeds, opsets)
        except ConversionError as err:
            log.debug("not folding %s: %s", node.name or node.op_type, err)
            remaining.append(node)
            continue
        for out, value in zip(node.output, results, strict=False):
            if out:
                values[out] = value
        folded += 1
    if folded:
        log.debug("folded %d constant node(s); %d left to convert", folded, len(remaining))
    return remaining
