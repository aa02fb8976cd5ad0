"""Import-time fusion of ONNX idioms MXNet cannot run op by op.

``NonMaxSuppression`` returns a data-dependent number of index rows, which MXNet's symbolic
executors cannot bind. The usual use of those rows, scattering them into a dense (batch, box)
keep mask (as exported detectors do for MXNet's ``box_nms``), has a static shape though: that
chain becomes one ``ai.mxnet_serde::NMSKeepMask`` node, converted with MXNet's own ``box_nms``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import onnx

from .registry import SERDE_DOMAIN


def _consumers(nodes: Sequence[onnx.NodeProto]) -> dict[str, list[onnx.NodeProto]]:
    out: dict[str, list[onnx.NodeProto]] = {}
    for node in nodes:
        for name in node.input:
            if name:
                out.setdefault(name, []).append(node)
    return out


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(onnx.helper.get_attribute_value(a))
    return default


def _all_ones(name: str, values: Mapping[str, np.ndarray],
              producers: Mapping[str, onnx.NodeProto]) -> bool:
    """``name`` is a vector of ones: a constant, or ConstantOfShape with value 1."""
    if name in values:
        return bool(np.all(values[name] == 1))
    node = producers.get(name)
    if node is None or node.op_type != "ConstantOfShape":
        return False
    for a in node.attribute:
        if a.name == "value":
            return bool(np.all(onnx.numpy_helper.to_array(a.t) == 1))
    return False


def _all_zeros(name: str, values: Mapping[str, np.ndarray],
               producers: Mapping[str, onnx.NodeProto]) -> bool:
    if name in values:
        return not np.any(values[name])
    node = producers.get(name)
    if node is None or node.op_type != "ConstantOfShape":
        return False
    value = [onnx.numpy_helper.to_array(a.t) for a in node.attribute if a.name == "value"]
    return not value or not np.any(value[0])


def _counts_boxes(name: str, boxes: str, producers: Mapping[str, onnx.NodeProto]) -> bool:
    """``name`` is the runtime box count: a dim of ``Shape(boxes)`` (through Gather, Slice,
    Reshape, Squeeze, Unsqueeze, Cast)."""
    node = producers.get(name)
    while node is not None and node.op_type in ("Gather", "Slice", "Reshape", "Squeeze",
                                                  "Unsqueeze", "Cast", "Identity"):
        node = producers.get(node.input[0])
    return node is not None and node.op_type == "Shape" and node.input[0] == boxes


def fuse_nms_masks(nodes: list[onnx.NodeProto], values: Mapping[str, np.ndarray],
                   shapes: Mapping[str, tuple | None]) -> list[onnx.NodeProto]:
    """Replace NonMaxSuppression -> Gather(cols 0, 2) -> ScatterND(zeros, ., ones) chains of
    one-class NMS by ``NMSKeepMask(boxes, scores, iou_threshold, score_threshold)``."""
    if not any(n.op_type == "NonMaxSuppression" for n in nodes):
        return nodes
    consumers = _consumers(nodes)
    producers = {o: n for n in nodes for o in n.output if o}
    replaced: dict[int, onnx.NodeProto] = {}
    for nms in nodes:
        if nms.op_type != "NonMaxSuppression" or len(nms.input) < 4:
            continue
        boxes, scores = nms.input[0], nms.input[1]
        iou = nms.input[3]
        score_thr = nms.input[4] if len(nms.input) > 4 else ""
        if iou not in values or (score_thr and score_thr not in values):
            continue
        score_shape = shapes.get(scores)
        if score_shape is None or len(score_shape) != 3 or score_shape[1] != 1:
            continue  # one class only: the mask is (batch, box)
        limit = nms.input[2] if len(nms.input) > 2 else ""
        # A per-class cap k: box_nms compares only the k best boxes, which selects the same
        # boxes whenever at most k pass the score threshold (exporters that bound the
        # candidates, as mxnet-serde's box_nms does, state it so).
        cap = int(values[limit].reshape(-1)[0]) if limit in values else -1
        if limit and limit not in values and not _counts_boxes(limit, boxes, producers):
            continue
        selected = nms.output[0]
        scatters = []
        for user in consumers.get(selected, []):
            if user.op_type == "Shape":
                continue  # counts the rows for the ones vector
            if user.op_type != "Gather" or _attr(user, "axis", 0) != 1 or \
                    user.input[1] not in values or \
                    values[user.input[1]].reshape(-1).tolist() != [0, 2]:
                scatters = []
                break
            for target in consumers.get(user.output[0], []):
                if target.op_type == "ScatterND" and target.input[1] == user.output[0] and \
                        _all_zeros(target.input[0], values, producers) and \
                        _all_ones(target.input[2], values, producers):
                    scatters.append(target)
                else:
                    scatters = []
                    break
        for target in scatters:
            fused = onnx.helper.make_node(
                "NMSKeepMask", [boxes, scores, iou, score_thr], list(target.output),
                name=f"{nms.name or 'nms'}_keep_mask", domain=SERDE_DOMAIN,
                center_point_box=_attr(nms, "center_point_box", 0), topk=cap)
            replaced[id(target)] = fused
    if not replaced:
        return nodes
    return [replaced.get(id(n), n) for n in nodes]


def _subgraph_inputs(node: onnx.NodeProto) -> Iterable[str]:
    for a in node.attribute:
        graphs = [a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs)
        for g in graphs:
            for inner in g.node:
                yield from inner.input
                yield from _subgraph_inputs(inner)


def prune_dead(nodes: list[onnx.NodeProto], outputs: Iterable[str]) -> list[onnx.NodeProto]:
    """Nodes that contribute to ``outputs`` (graph outputs), in their order."""
    needed = set(outputs)
    keep: list[onnx.NodeProto] = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output if o):
            keep.append(node)
            needed.update(i for i in node.input if i)
            needed.update(_subgraph_inputs(node))
    return keep[::-1]
