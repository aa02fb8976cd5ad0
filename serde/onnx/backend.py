"""serde.onnx.backend: an ``onnx.backend.base.Backend`` running ONNX models in MXNet.

``prepare`` validates the model (and converts it once when it can); ``run`` converts on first
use for each distinct set of input shapes/dtypes and binds an MXNet executor, cached. Inputs that
MXNet needs as static attributes (a Reshape target, Slice starts, TopK k, reduce axes fed as
graph inputs) are detected during conversion: the graph is specialised on their values, one
cached MXNet graph per distinct value. All computation runs in MXNet.

    import serde.onnx.backend as backend
    rep = backend.prepare(model, device="CPU")
    outputs = rep.run([x])
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import mxnet as mx
import numpy as np
import onnx
import onnx.numpy_helper
from onnx.backend.base import Backend, BackendRep, Device, DeviceType

from ..errors import InvalidModelError, SerdeError, mxnet_message
from .importer import StaticValueRequired, import_graph, to_ndarrays
from .importer.dtypes import to_numpy
from .importer.loader import load_model
from .importer.validate import check_model

log = logging.getLogger(__name__)

_MAX_SPECIALISATIONS = 64


def _context(device: str) -> Any:
    kind = Device(device).type
    if kind == DeviceType.CUDA:
        if mx.context.num_gpus() == 0:
            raise SerdeError("device CUDA was asked for but MXNet sees no GPU")
        return mx.gpu(Device(device).device_id)
    return mx.cpu()


class _Bound:
    """One specialised MXNet graph, bound once and reused for every run with the same key."""

    def __init__(self, graph: Any, shapes: Mapping[str, tuple], ctx: Any) -> None:
        self.graph = graph
        self.input_names = graph.input_names
        with mx.util.np_shape(True):   # 0-d and zero-size tensors need numpy shape semantics
            args = to_ndarrays(graph.params, ctx)
            for info in graph.inputs:
                args[info.name] = mx.nd.zeros(shapes[info.name], ctx=ctx, dtype=info.dtype)
            # BatchNorm statistics are MXNet auxiliary states, bound separately.
            aux_names = set(graph.sym.list_auxiliary_states())
            aux = {name: args.pop(name) for name in list(args) if name in aux_names}
            self.args = args
            self.executor = graph.sym.bind(ctx, args=args, aux_states=aux, grad_req="null")

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        try:
            with mx.util.np_shape(True):
                for name in self.input_names:
                    self.args[name][:] = feeds[name]
                outputs = self.executor.forward(is_train=False)
                return [out.asnumpy() for out in outputs]
        except mx.base.MXNetError as err:  # the backend raises SerdeErrors only
            raise InvalidModelError(f"MXNet could not run the converted model on these "
                                    f"inputs: {mxnet_message(err)}") from err


class MXNetBackendRep(BackendRep):
    """A prepared model: converted per input signature, executors cached."""

    def __init__(self, model: onnx.ModelProto, device: str = "CPU") -> None:
        super().__init__()
        self.model = model
        self.ctx = _context(device)
        inits = {t.name for t in model.graph.initializer}
        self.inputs = [v for v in model.graph.input if v.name not in inits]
        self.input_names = [v.name for v in self.inputs]
        self.static: set[str] = set()
        self._cache: dict[Any, _Bound] = {}

    def _feeds(self, inputs: Any) -> dict[str, np.ndarray]:
        if isinstance(inputs, Mapping):
            named = dict(inputs)
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            inputs = list(inputs)
            if len(inputs) > len(self.input_names):
                raise InvalidModelError(f"{len(inputs)} inputs given, the model takes "
                                        f"{len(self.input_names)}: {self.input_names}")
            named = dict(zip(self.input_names, inputs, strict=False))
        feeds = {}
        for value in self.inputs:
            if value.name not in named:
                raise InvalidModelError(f"input {value.name!r} was not given")
            arr = named[value.name]
            if isinstance(arr, onnx.TensorProto):
                arr = onnx.numpy_helper.to_array(arr)
            arr = arr.asnumpy() if hasattr(arr, "asnumpy") else np.asarray(arr)
            if value.type.HasField("tensor_type"):
                want = to_numpy(value.type.tensor_type.elem_type)
                if want is not None and arr.dtype != want:
                    arr = arr.astype(want)
            feeds[value.name] = arr
        return feeds

    def _key(self, feeds: Mapping[str, np.ndarray]) -> tuple:
        key = [(n, a.shape, a.dtype.str) for n, a in feeds.items()]
        for name in sorted(self.static):
            key.append((name, hashlib.sha1(np.ascontiguousarray(feeds[name]).tobytes())
                        .hexdigest()))
        return tuple(key)

    def _build(self, feeds: Mapping[str, np.ndarray]) -> _Bound:
        shapes = {n: a.shape for n, a in feeds.items()}
        while True:
            try:
                graph = import_graph(self.model, input_shapes=shapes,
                                     constant_inputs={n: feeds[n] for n in self.static})
                break
            except StaticValueRequired as err:
                new = set(err.inputs) - self.static
                if not err.inputs or not new or not new <= set(self.input_names):
                    raise
                log.debug("specialising on the value of %s", sorted(new))
                self.static |= new
        return _Bound(graph, shapes, self.ctx)

    def run(self, inputs: Any, **kwargs: Any) -> tuple[np.ndarray, ...]:
        feeds = self._feeds(inputs)
        key = self._key(feeds)
        bound = self._cache.get(key)
        if bound is None:
            bound = self._build(feeds)
            key = self._key(feeds)   # the static set may have grown while building
            if len(self._cache) >= _MAX_SPECIALISATIONS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = bound
        return tuple(bound.run(feeds))


class MXNetBackend(Backend):
    """ONNX backend running models through serde's importer and MXNet."""

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> bool:
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model: Any, device: str = "CPU", **kwargs: Any) -> MXNetBackendRep:
        proto, _ = load_model(model)
        check_model(proto)
        super().prepare(proto, device, **kwargs)
        rep = MXNetBackendRep(proto, device)
        declared = {}
        for value in rep.inputs:
            shape = value.type.tensor_type.shape if value.type.HasField("tensor_type") else None
            if shape is None or not all(d.HasField("dim_value") for d in shape.dim):
                declared = None
                break
            declared[value.name] = tuple(d.dim_value for d in shape.dim)
        # convert once up front: fails early on unsupported ops and bad models
        try:
            import_graph(proto, input_shapes=declared or None)
        except StaticValueRequired as err:
            rep.static |= set(err.inputs) & set(rep.input_names)
        return rep

    @classmethod
    def run_model(cls, model: Any, inputs: Any, device: str = "CPU",
                  **kwargs: Any) -> tuple[np.ndarray, ...]:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: onnx.NodeProto, inputs: Any, device: str = "CPU",
                 outputs_info: Sequence[tuple[Any, Any]] | None = None,
                 **kwargs: Any) -> tuple[np.ndarray, ...]:
        arrays = [np.asarray(a.asnumpy() if hasattr(a, "asnumpy") else a) for a in inputs]
        names = [n for n in node.input if n]
        values = [onnx.helper.make_tensor_value_info(
            n, onnx.helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in zip(names, arrays, strict=False)]
        outputs = [onnx.helper.make_empty_tensor_value_info(n) for n in node.output if n]
        opset = kwargs.get("opset_version", onnx.defs.onnx_opset_version())
        graph = onnx.helper.make_graph([node], "run_node", values, outputs)
        model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("",
                                                                                      opset)])
        inferred = onnx.shape_inference.infer_shapes(model)
        del model.graph.output[:]
        known = {v.name: v for v in inferred.graph.output}
        model.graph.output.extend(known[n] for n in node.output if n)
        return cls.run_model(model, arrays, device)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        kind = Device(device).type
        if kind == DeviceType.CPU:
            return True
        if kind == DeviceType.CUDA:
            return mx.context.num_gpus() > 0
        return False


prepare = MXNetBackend.prepare
run_model = MXNetBackend.run_model
run_node = MXNetBackend.run_node
supports_device = MXNetBackend.supports_device
is_compatible = MXNetBackend.is_compatible
