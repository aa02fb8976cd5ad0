"""The one object a converter talks to while a graph is converted.

It carries what the passes before conversion learned (shapes, element types, constant values)
and what conversion has built so far (MXNet symbols by ONNX tensor name, parameters). Converters
ask it; they never re-infer shapes or evaluate constants themselves.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import mxnet as mx
import numpy as np
import onnx
from onnx import helper

from ...errors import ConversionError, InvalidModelError
from . import dtypes
from .loader import check_size

log = logging.getLogger(__name__)

# ops whose value is not a function of their inputs: never evaluated ahead of time
NONDETERMINISTIC = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
                    "Multinomial", "Bernoulli"}


#: sizes at which dynamic input dims are probed by MXNet's shape inference (5 and 7 times 64)
_SHAPE_PROBES = (320, 448)


class StaticValueRequired(ConversionError):
    """A converter needs a tensor's value at import time but it depends on graph inputs.

    ``inputs`` lists those graph inputs: pass them in ``constant_inputs`` (the backend does that
    by itself, specialising the MXNet graph on their values).
    """

    def __init__(self, tensor: str, inputs: Sequence[str], *, node: str | None = None,
                 op: str | None = None, opset: int | None = None, why: str = "") -> None:
        self.tensor, self.inputs = tensor, sorted(set(inputs))
        names = ", ".join(repr(n) for n in self.inputs)
        super().__init__(
            f"MXNet needs the value of {tensor!r}{why} when the graph is built, but it depends "
            f"on graph input(s) {names}; import with constant_inputs={{{names}: <array>}} (or "
            "use serde.onnx.backend, which does this for you)", node=node, op=op, opset=opset)


class Node:
    """A NodeProto with parsed attributes and a stable label for messages and names."""

    __slots__ = ("proto", "op_type", "domain", "name", "inputs", "outputs", "attrs")

    def __init__(self, proto: onnx.NodeProto, index: int) -> None:
        self.proto = proto
        self.op_type = proto.op_type
        self.domain = proto.domain
        self.name = proto.name or f"{proto.op_type}_{index}"
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self.attrs = {a.name: helper.get_attribute_value(a) for a in proto.attribute}

    def attr(self, name: str, default: Any = None) -> Any:
        value = self.attrs.get(name, default)
        if isinstance(value, bytes):
            return value.decode()
        return value

    def has_input(self, index: int) -> bool:
        return index < len(self.inputs) and bool(self.inputs[index])


def np_var(name: str, shape: Sequence[int] | None = None, dtype: Any = None) -> Any:
    kwargs: dict[str, Any] = {}
    if shape is not None:
        kwargs["shape"] = tuple(int(d) for d in shape)
    if dtype is not None:
        kwargs["dtype"] = np.dtype(dtype)
    return mx.sym.var(name, **kwargs).as_np_ndarray()


#: (values, known mask, per-element (tensor, axis) source or None), see partial_value
Partial = tuple[np.ndarray, np.ndarray, np.ndarray]


class ImportContext:
    def __init__(self, *, opsets: dict[str, int], shapes: dict[str, tuple | None],
                 elem_types: dict[str, int], values: dict[str, np.ndarray],
                 static_values: dict[str, np.ndarray], producers: dict[str, onnx.NodeProto],
                 graph_inputs: Sequence[str],
                 input_shapes: dict[str, tuple] | None = None) -> None:
        self.opsets = opsets
        self.opset = opsets.get("", 1)
        self.shapes = shapes
        self.elem_types = elem_types
        self.values = values                  # model constants: initializers, folded sub-graphs
        self.static_values = static_values    # constant_inputs, and values derived from them
        self.producers = producers
        self.graph_inputs = set(graph_inputs)
        # unknown (dynamic) dims as -1: MXNet's np-shape inference takes them as unknown
        self.input_shapes = {k: tuple(d if isinstance(d, int) else -1 for d in v)
                             for k, v in (input_shapes or {}).items()}
        self.tensors: dict[str, Any] = {}
        self.params: dict[str, np.ndarray] = {}
        self.node: Node | None = None
        self._taken: set[str] = set()
        self._partials: dict[str, Partial] = {}
        self._asked_mxnet: set[str] = set()
        self._unevaluable: dict[str, set[str]] = {}

    # ---- errors -------------------------------------------------------------------------
    def error(self, message: str) -> ConversionError:
        node = self.node
        return ConversionError(message, node=node.name if node else None,
                               op=node.op_type if node else None, opset=self.opset)

    # ---- symbols ------------------------------------------------------------------------
    def sym(self, name: str) -> Any:
        """The MXNet symbol of tensor ``name``; constants become parameters on first use."""
        found = self.tensors.get(name)
        if found is not None:
            return found
        value = self.values.get(name)
        if value is None:
            value = self.static_values.get(name)
        if value is None:
            raise self.error(f"tensor {name!r} is not available (internal ordering error)")
        found = self.param(name, value)
        self.tensors[name] = found
        return found

    def input(self, node: Node, index: int) -> Any:
        if not node.has_input(index):
            raise self.error(f"input {index} is required but was omitted")
        return self.sym(node.inputs[index])

    def optional_input(self, node: Node, index: int) -> Any | None:
        return self.sym(node.inputs[index]) if node.has_input(index) else None

    def unique_name(self, hint: str) -> str:
        name, k = hint, 1
        while name in self._taken or name in self.graph_inputs:
            name = f"{hint}_{k}"
            k += 1
        self._taken.add(name)
        return name

    def param(self, hint: str, value: np.ndarray) -> Any:
        """A parameter holding ``value``; a 0-d value is stored with shape (1,) and reshaped,
        because the legacy shape semantics of Module / SymbolBlock cannot bind 0-d arguments."""
        value = np.asarray(value)
        dtype = self.check_dtype(value.dtype, hint)
        name = self.unique_name(hint)
        stored = value.reshape(1) if value.ndim == 0 else value
        self.params[name] = np.ascontiguousarray(stored, dtype=dtype)
        var = np_var(name, stored.shape, dtype)
        return mx.sym.np.reshape(var, ()) if value.ndim == 0 else var

    def const(self, value: Any, dtype: Any, hint: str = "const") -> Any:
        base = self.node.name if self.node else "serde"
        return self.param(f"{base}_{hint}", np.asarray(value, dtype=dtype))

    # ---- static facts -------------------------------------------------------------------
    def shape(self, name: str) -> tuple | None:
        """Inferred shape (ints, None for unknown dims) or None when even the rank is unknown."""
        if name in self.values:
            return tuple(self.values[name].shape)
        if name in self.static_values:
            return tuple(self.static_values[name].shape)
        shape = self.shapes.get(name)
        # dims ONNX names (dim_param) are dynamic for sure; only unknown ones are worth asking
        if (shape is None or any(d is None for d in shape)) and name in self.tensors and \
                name not in self._asked_mxnet:
            self._asked_mxnet.add(name)  # once per tensor: each ask infers the whole graph
            found = self._mx_shape(name)
            if found is not None:
                self.shapes[name] = shape = found
        if shape is None:
            return None
        return tuple(d if isinstance(d, int) else None for d in shape)

    def _mx_shape(self, name: str) -> tuple | None:
        """Ask MXNet when ONNX shape inference left a tensor unknown. Dynamic input dims are
        probed at two sizes (MXNet's inference does not take unknown dims everywhere): the
        output dims that move with them are dynamic (None), the others static. The probe
        sizes are multiples of 64 whose quotients differ at every stride up to 64, so a dim
        behind a downsampling network still moves."""
        sym = self.tensors.get(name)
        if sym is None:
            return None
        args = set(sym.list_arguments())
        probes = []
        for probe in _SHAPE_PROBES:
            known = {k: tuple(probe if d < 0 else d for d in v)
                     for k, v in self.input_shapes.items() if k in args}
            try:
                with mx.util.np_shape(True):
                    _, outs, _ = sym.as_nd_ndarray().infer_shape_partial(**known)
            except mx.base.MXNetError:
                return None
            if not outs or outs[0] is None:
                return None
            probes.append(tuple(outs[0]))
            if not any(d < 0 for v in known.values() for d in v) and \
                    all(d >= 0 for v in self.input_shapes.values() for d in v):
                break  # nothing dynamic: one inference says it all
        first = probes[0]
        if any(len(p) != len(first) for p in probes):
            return None
        return tuple(int(d) if d >= 0 and all(p[i] == d for p in probes) else None
                     for i, d in enumerate(first))

    def in_shape(self, node: Node, index: int) -> tuple | None:
        return self.shape(node.inputs[index]) if node.has_input(index) else None

    def rank(self, node: Node, index: int) -> int:
        shape = self.in_shape(node, index)
        if shape is None:
            raise self.error(f"the rank of input {node.inputs[index]!r} is unknown; give "
                             "input_shapes when importing")
        return len(shape)

    def static_shape(self, node: Node, index: int) -> tuple[int, ...]:
        shape = self.in_shape(node, index)
        if shape is None or any(d is None for d in shape):
            raise self.error(f"the shape of {node.inputs[index]!r} must be static (it is "
                             f"{shape}); give input_shapes when importing")
        return tuple(shape)

    def out_shape(self, node: Node, index: int = 0) -> tuple | None:
        return self.shape(node.outputs[index]) if index < len(node.outputs) else None

    def dtype(self, name: str) -> np.dtype:
        if name in self.values:
            return self.values[name].dtype
        if name in self.static_values:
            return self.static_values[name].dtype
        elem = self.elem_types.get(name)
        if elem is None and name in self.tensors:
            try:
                _, outs, _ = self.tensors[name].as_nd_ndarray().infer_type_partial()
                if outs and outs[0] is not None:
                    elem = dtypes.TO_ONNX.get(np.dtype(outs[0]))
            except mx.base.MXNetError:
                elem = None
        if elem is None:
            raise self.error(f"the element type of {name!r} is unknown")
        return self.check_elem(elem, name)

    def in_dtype(self, node: Node, index: int) -> np.dtype:
        return self.dtype(node.inputs[index])

    def out_dtype(self, node: Node, index: int = 0) -> np.dtype:
        return self.dtype(node.outputs[index])

    def check_elem(self, elem: int, name: str) -> np.dtype:
        found = dtypes.to_numpy(elem)
        if found is None:
            raise self.error(f"tensor {name!r} has type {dtypes.elem_name(elem)}, which MXNet "
                             f"1.9.1 cannot compute with (supported: {dtypes.supported_names()})")
        return found

    def check_dtype(self, dtype: np.dtype, name: str) -> np.dtype:
        dtype = np.dtype(dtype)
        if dtype not in dtypes.TO_ONNX:
            raise self.error(f"tensor {name!r} has dtype {dtype}, which MXNet 1.9.1 cannot "
                             f"compute with (supported: {dtypes.supported_names()})")
        return dtype

    # ---- values known at import time ----------------------------------------------------
    def has_value(self, name: str) -> bool:
        try:
            self.value(name)
            return True
        except StaticValueRequired:
            return False

    def value(self, name: str, why: str = "") -> np.ndarray:
        """The value of ``name`` at import time: a model constant, a constant input, or a
        function of those (evaluated here, on demand, with onnx.reference)."""
        if name in self.values:
            return self.values[name]
        if name in self.static_values:
            return self.static_values[name]
        missing: set[str] = set()
        self._evaluate(name, missing, depth=0)
        if missing or name not in self.static_values:
            partial = self.partial_value(name)
            if partial is not None and partial[1].all():
                return partial[0]
            node = self.node
            raise StaticValueRequired(name, missing, node=node.name if node else None,
                                      op=node.op_type if node else None, opset=self.opset,
                                      why=why)
        return self.static_values[name]

    def input_value(self, node: Node, index: int, why: str = "") -> np.ndarray:
        return self.value(node.inputs[index], why)

    def optional_value(self, node: Node, index: int, why: str = "") -> np.ndarray | None:
        return self.value(node.inputs[index], why) if node.has_input(index) else None

    def _evaluate(self, name: str, missing: set[str], depth: int) -> None:
        if name in self.values or name in self.static_values:
            return
        known_missing = self._unevaluable.get(name)
        if known_missing is None:  # memoised: shape sub-graphs share ancestors (a DAG)
            known_missing = set()
            self._evaluate_once(name, known_missing, depth)
            if known_missing:
                self._unevaluable[name] = known_missing
        missing.update(known_missing)

    def _evaluate_once(self, name: str, missing: set[str], depth: int) -> None:
        producer = self.producers.get(name)
        if producer is None:
            missing.add(name)
            return
        if depth > 200 or producer.op_type in NONDETERMINISTIC or \
                any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                    for a in producer.attribute):
            missing.update(self._ancestor_inputs(name))
            return
        feeds: dict[str, np.ndarray] = {}
        if producer.op_type in ("Shape", "Size"):
            shape = self.shape(producer.input[0])
            if shape is not None and all(d is not None for d in shape):
                feeds[producer.input[0]] = np.zeros(0)  # only its shape is used, see below
        for inp in producer.input:
            if not inp or inp in feeds:
                continue
            self._evaluate(inp, missing, depth + 1)
            if not missing:
                feeds[inp] = self.values.get(inp, self.static_values.get(inp))
        if missing:
            return
        if producer.op_type in ("Shape", "Size") and producer.input[0] not in self.values \
                and producer.input[0] not in self.static_values:
            shape = self.shape(producer.input[0])
            feeds[producer.input[0]] = np.broadcast_to(np.zeros((), np.float32), shape)
        for out, value in zip(producer.output, evaluate_node(producer, feeds, self.opsets), strict=False):
            if out:
                self.static_values[out] = value

    def partial_value(self, name: str, depth: int = 0) -> Partial | None:
        """(values, known, sources) of a small integer tensor built from runtime shapes: with
        dynamic axes, ``Gather(Shape(x), 1)`` is still known when axis 1 of ``x`` is static,
        and an unknown element copied from a shape says which (tensor, axis) it is. Shape
        arithmetic (Shape, Gather, Slice, Concat, Unsqueeze, Squeeze, Reshape, Cast, Identity,
        Add, Sub, Mul, Div) is followed element by element; None when it cannot be."""
        if name in self.values or name in self.static_values:
            value = np.asarray(self.values.get(name, self.static_values.get(name)))
            return value, np.ones(value.shape, bool), _no_sources(value.shape)
        if name in self._partials:
            return self._partials[name]
        producer = self.producers.get(name)
        if producer is None or depth > 64 or producer.op_type not in _PARTIAL_OPS:
            return None
        result = _partial_eval(self, producer, depth)
        if result is not None and result[0].size <= 64:
            self._partials[name] = result
            return result
        return None

    def _ancestor_inputs(self, name: str) -> set[str]:
        found, stack, seen = set(), [name], set()
        while stack:
            cur = stack.pop()
            if cur in seen or cur in self.values:
                continue
            seen.add(cur)
            producer = self.producers.get(cur)
            if producer is None:
                if cur in self.graph_inputs:
                    found.add(cur)
                continue
            stack.extend(i for i in producer.input if i)
        return found


_PARTIAL_OPS = frozenset({"Shape", "Gather", "Slice", "Concat", "Unsqueeze", "Squeeze",
                          "Reshape", "Cast", "Identity", "Add", "Sub", "Mul", "Div"})


def _no_sources(shape: tuple) -> np.ndarray:
    return np.full(shape, None, dtype=object)


def _partial_eval(ctx: ImportContext, node: onnx.NodeProto, depth: int) -> Partial | None:
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    op = node.op_type
    if op == "Shape":
        shape = ctx.shape(node.input[0])
        if shape is None:
            return None
        start = attrs.get("start", 0)
        start = start + len(shape) if start < 0 else start
        dims = list(shape)[slice(start, attrs.get("end"))]
        sources = np.empty(len(dims), dtype=object)
        for i in range(len(dims)):
            sources[i] = (node.input[0], start + i)
        return (np.array([d if d is not None else 0 for d in dims], np.int64),
                np.array([d is not None for d in dims], bool), sources)
    ins = [ctx.partial_value(i, depth + 1) if i else None for i in node.input]
    if not ins or ins[0] is None:
        return None

    def known(index: int) -> np.ndarray | None:  # an input that must be fully known
        part = ins[index] if index < len(ins) else None
        return part[0] if part is not None and part[1].all() else None

    value, mask, sources = ins[0]
    if op in ("Identity", "Cast"):
        if op == "Cast":
            from . import dtypes
            value = value.astype(dtypes.to_numpy(attrs["to"]))
        return value, mask, sources
    if op == "Gather":
        idx = known(1)
        if idx is None:
            return None
        axis = attrs.get("axis", 0)
        picked = np.take(np.arange(sources.size).reshape(sources.shape), idx, axis=axis)
        taken = np.empty(np.shape(picked), dtype=object)
        for where, flat in np.ndenumerate(picked):
            taken[where] = sources.flat[flat]
        return np.take(value, idx, axis=axis), np.take(mask, idx, axis=axis), taken
    if op == "Slice":
        if value.ndim != 1:
            return None
        starts, ends = known(1), known(2)
        axes = known(3) if len(ins) > 3 and ins[3] is not None else np.array([0])
        steps = known(4) if len(ins) > 4 and ins[4] is not None else np.array([1])
        if starts is None or ends is None or axes is None or steps is None or \
                axes.reshape(-1).tolist() not in ([0], [-1]):
            return None
        sel = slice(int(starts.reshape(-1)[0]), int(max(min(ends.reshape(-1)[0], 2**62),
                                                       -2**62)), int(steps.reshape(-1)[0]))
        return value[sel], mask[sel], sources[sel]
    if op == "Concat":
        if any(p is None for p in ins):
            return None
        axis = attrs.get("axis", 0)
        return tuple(np.concatenate([p[k] for p in ins], axis=axis) for k in range(3))
    if op in ("Unsqueeze", "Squeeze", "Reshape"):
        if op == "Reshape":
            target = known(1)
            if target is None:
                return None
            shape = [int(t) if t != 0 else value.shape[i] for i, t in enumerate(target)]
        else:
            axes = attrs.get("axes")
            if axes is None and len(ins) > 1:
                axes = known(1)
            if op == "Unsqueeze":
                if axes is None:
                    return None
                axes = tuple(int(a) for a in np.ravel(axes))
                return tuple(np.expand_dims(a, axes) for a in (value, mask, sources))
            shape = [d for i, d in enumerate(value.shape) if d != 1 or (
                axes is not None and i not in [int(a) % value.ndim for a in np.ravel(axes)])]
        return value.reshape(shape), mask.reshape(shape), sources.reshape(shape)
    # Add, Sub, Mul, Div
    if len(ins) < 2 or ins[1] is None:
        return None
    other, other_mask, _ = ins[1]
    with np.errstate(all="ignore"):
        if op == "Add":
            out = value + other
        elif op == "Sub":
            out = value - other
        elif op == "Mul":
            out = value * other
        elif np.issubdtype(value.dtype, np.integer):
            out = np.trunc(value / np.where(other == 0, 1, other)).astype(value.dtype)
        else:
            out = value / other
    return (out, np.broadcast_to(mask, out.shape) & np.broadcast_to(other_mask, out.shape),
            _no_sources(out.shape))


def evaluate_node(proto: onnx.NodeProto, feeds: dict[str, np.ndarray],
                  opsets: dict[str, int]) -> list[np.ndarray]:
    """Evaluate one node with onnx.reference (import time only: constant folding)."""
    from onnx.reference import ReferenceEvaluator

    if proto.op_type == "ConstantOfShape":
        shape = feeds[proto.input[0]] if proto.input else np.zeros(0, np.int64)
        check_size(proto.output[0], [int(d) for d in np.asarray(shape).ravel()],
                   f" (ConstantOfShape node {proto.name!r})")
    if proto.op_type == "Shape" and len(proto.attribute) == 0:
        return [np.array(np.shape(feeds[proto.input[0]]), dtype=np.int64)]
    try:
        ev = ReferenceEvaluator(proto, opsets={("" if k == "ai.onnx" else k): v
                                               for k, v in opsets.items()})
        results = ev.run(None, {k: v for k, v in feeds.items() if k})
    except InvalidModelError:
        raise
    except Exception as err:  # noqa: BLE001 - report any evaluation failure as a model error
        raise ConversionError(f"could not evaluate the constant sub-graph at import time: "
                              f"{type(err).__name__}: {err}", node=proto.name or None,
                              op=proto.op_type) from None
    out = []
    for value in results:
        value = np.asarray(value)
        check_size(proto.output[0], value.shape)
        out.append(value)
    return out
