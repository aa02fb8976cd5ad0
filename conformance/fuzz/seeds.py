"""Small valid models the fuzzer mutates: ONNX models built with ``onnx.helper`` (a CNN, an
MLP, an ``If``, a model with external data), the ONNX backend node test models, MXNet symbol JSON + ``.params`` pairs, and a Core
ML model written by our own exporter. Each builder is deterministic."""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def _model(graph: onnx.GraphProto, opset: int = OPSET) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="mxnet-serde-fuzz")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _init(name: str, shape: tuple[int, ...], seed: int) -> onnx.TensorProto:
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)


def onnx_cnn() -> onnx.ModelProto:
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
                              name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1, name="fc")]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])],
        [_init("w", (4, 3, 3, 3), 1), _init("b", (4,), 2), _init("fw", (5, 64), 3),
         _init("fb", (5,), 4)])
    return _model(graph)


def onnx_mlp() -> onnx.ModelProto:
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
             helper.make_node("Add", ["h", "b1"], ["hb"], name="add1"),
             helper.make_node("Tanh", ["hb"], ["t"], name="tanh"),
             helper.make_node("MatMul", ["t", "w2"], ["o"], name="mm2"),
             helper.make_node("Reshape", ["o", "shape"], ["ro"], name="reshape"),
             helper.make_node("Softmax", ["ro"], ["y"], axis=-1, name="softmax")]
    shape = numpy_helper.from_array(np.array([-1, 3], np.int64), "shape")
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [_init("w1", (6, 8), 5), _init("b1", (8,), 6), _init("w2", (8, 3), 7), shape])
    return _model(graph)


def onnx_if() -> onnx.ModelProto:
    def branch(name: str, op: str) -> onnx.GraphProto:
        return helper.make_graph([helper.make_node(op, ["x"], [f"{name}_y"], name=f"{name}_op")],
                                 name, [], [helper.make_tensor_value_info(
                                     f"{name}_y", TensorProto.FLOAT, [2, 4])])
    nodes = [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0, name="sum"),
             helper.make_node("Greater", ["s", "zero"], ["cond"], name="greater"),
             helper.make_node("If", ["cond"], ["y"], name="if",
                              then_branch=branch("then", "Relu"),
                              else_branch=branch("else", "Neg"))]
    graph = helper.make_graph(
        nodes, "if", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [numpy_helper.from_array(np.array(0.0, np.float32), "zero")])
    return _model(graph)


def onnx_external(folder: Path) -> Path:
    """A model whose weights live in ``weights.bin`` beside it; returns the model path."""
    model = onnx_cnn()
    path = folder / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    return path


ONNX_SEEDS: dict[str, Callable[[], onnx.ModelProto]] = {
    "onnx_cnn": onnx_cnn, "onnx_mlp": onnx_mlp, "onnx_if": onnx_if}


@functools.lru_cache(maxsize=1)
def node_models() -> tuple[tuple[str, bytes, tuple[np.ndarray, ...]], ...]:
    """Every ONNX backend node test model whose inputs are plain tensors, with the inputs of
    its first data set: about 1,800 small models over every operator, most of them ones the
    hand-built seeds never reach. Built by the onnx package (no files), once per process."""
    import warnings

    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    found = []
    for case in sorted(cases, key=lambda c: c.name):
        graph_inputs = case.model.graph.input
        if not case.data_sets or not all(i.type.HasField("tensor_type") for i in graph_inputs):
            continue
        arrays = case.data_sets[0][0]
        if len(arrays) != len(graph_inputs) or \
                not all(isinstance(a, np.ndarray) for a in arrays):
            continue
        found.append((case.name, case.model.SerializeToString(), tuple(arrays)))
    return tuple(found)


@functools.lru_cache(maxsize=1)
def mxnet_op_cases() -> tuple[Any, ...]:
    """The cases of the single-op export suite (conformance.mxnet_ops): one MXNet op each,
    with attributes and input shapes that export."""
    from conformance.mxnet_ops import CASES

    return tuple(CASES)


def mxnet_net() -> tuple[str, dict[str, np.ndarray], tuple[int, ...]]:
    """Symbol JSON, parameters (``arg:``/``aux:`` keyed, as ``.params`` files are) and the
    data shape of a small conv net with batch norm."""
    import mxnet as mx

    data = mx.sym.var("data")
    x = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, pad=(1, 1), name="conv")
    x = mx.sym.BatchNorm(x, name="bn")
    x = mx.sym.Activation(x, act_type="relu", name="relu")
    x = mx.sym.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool")
    x = mx.sym.FullyConnected(x, num_hidden=3, name="fc")
    sym = mx.sym.softmax(x, name="prob")
    shape = (1, 3, 8, 8)
    args, _, auxs = sym.infer_shape(data=shape)
    rng = np.random.default_rng(11)
    params = {}
    for name, s in zip(sym.list_arguments(), args, strict=True):
        if name != "data":
            params[f"arg:{name}"] = rng.normal(size=s).astype(np.float32)
    for name, s in zip(sym.list_auxiliary_states(), auxs, strict=True):
        params[f"aux:{name}"] = np.abs(rng.normal(size=s)).astype(np.float32) + 0.5
    return sym.tojson(), params, shape


def save_params(params: dict[str, np.ndarray], path: Path) -> None:
    import mxnet as mx

    mx.nd.save(str(path), {k: mx.nd.array(v) for k, v in params.items()})


def coreml_bytes() -> bytes | None:
    """A small Core ML model from our exporter, or None without coremltools."""
    try:
        import coremltools  # noqa: F401
    except ImportError:
        return None
    import mxnet as mx

    import serde

    sym_json, params, shape = mxnet_net()
    sym = mx.sym.load_json(sym_json)
    arg = {k[4:]: mx.nd.array(v) for k, v in params.items() if k.startswith("arg:")}
    aux = {k[4:]: mx.nd.array(v) for k, v in params.items() if k.startswith("aux:")}
    return serde.to_coreml(sym, (arg, aux), input_shapes={"data": shape}).SerializeToString(
        deterministic=True)  # metadata is a map: its order varies between processes
