"""serde.onnx.backend as an onnx.backend.base.Backend."""
import io
import unittest

import mxnet as mx
import numpy as np
import onnx.backend.test
import pytest
from onnx import TensorProto, helper

import serde.onnx.backend as backend


def test_supports_device():
    assert backend.supports_device("CPU")
    assert backend.supports_device("CUDA") == (mx.context.num_gpus() > 0)


def _reshape_model():
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6]),
         helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def test_prepare_run_specialises_on_static_inputs():
    rep = backend.prepare(_reshape_model(), "CPU")
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    (y,) = rep.run([x, np.array([3, 4])])
    np.testing.assert_array_equal(y, x.reshape(3, 4))
    (y,) = rep.run({"x": x, "shape": np.array([4, 3])})
    np.testing.assert_array_equal(y, x.reshape(4, 3))
    (y,) = rep.run([x + 1, np.array([3, 4])])
    np.testing.assert_array_equal(y, (x + 1).reshape(3, 4))
    assert rep.static == {"shape"}
    assert len(rep._cache) == 2   # one MXNet graph per distinct shape value


def test_run_model_new_input_shapes():
    graph = helper.make_graph(
        [helper.make_node("Softmax", ["x"], ["y"], axis=-1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    rep = backend.prepare(model)
    for n in (1, 5):
        x = np.random.default_rng(n).standard_normal((n, 4)).astype(np.float32)
        (y,) = rep.run([x])
        e = np.exp(x - x.max(axis=1, keepdims=True))
        np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-5)


def test_run_node():
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], alpha=2.0, transB=1)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((4, 3), np.float32)
    c = np.full((4,), 0.5, np.float32)
    (y,) = backend.run_node(node, [a, b, c])
    np.testing.assert_allclose(y, 2 * a @ b.T + c)


def test_missing_input_is_an_error():
    rep = backend.prepare(_reshape_model())
    with pytest.raises(serde_error()):
        rep.run({"x": np.zeros((2, 6), np.float32)})


def serde_error():
    from serde.errors import SerdeError
    return SerdeError


RUNNER_CASES = ["test_relu", "test_conv_with_strides_padding",
                "test_reduce_sum_default_axes_keepdims_example",
                "test_reshape_reordered_all_dims", "test_top_k", "test_resize_upsample_scales_linear"]


def test_onnx_backend_test_runner():
    """onnx's own runner drives the backend: BackendTest(serde.onnx.backend, __name__)."""
    suite_builder = onnx.backend.test.BackendTest(backend, __name__)
    for case in RUNNER_CASES:
        suite_builder.include(f"^{case}_cpu$")
    result = unittest.TextTestRunner(verbosity=0, stream=io.StringIO()).run(
        suite_builder.test_suite)
    assert result.wasSuccessful(), result.failures + result.errors
    assert result.testsRun - len(result.skipped) == len(RUNNER_CASES)
