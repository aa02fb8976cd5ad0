"""serde.import_model: Gluon and symbolic outputs, the Module flow of the design note, metadata."""
from collections import namedtuple

import mxnet as mx
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import serde
import serde.onnx


def small_cnn(opset=13):
    """Conv(+bias) -> BatchNorm -> Relu -> GlobalAveragePool -> Flatten -> Gemm."""
    rng = np.random.default_rng(0)
    inits = {
        "conv_w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "conv_b": rng.standard_normal(4).astype(np.float32),
        "bn_scale": rng.uniform(0.5, 1.5, 4).astype(np.float32),
        "bn_bias": rng.standard_normal(4).astype(np.float32),
        "bn_mean": rng.standard_normal(4).astype(np.float32),
        "bn_var": rng.uniform(0.5, 1.5, 4).astype(np.float32),
        "fc_w": rng.standard_normal((5, 4)).astype(np.float32),
        "fc_b": rng.standard_normal(5).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["data", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1],
                         name="conv0"),
        helper.make_node("BatchNormalization", ["conv", "bn_scale", "bn_bias", "bn_mean",
                                                "bn_var"], ["bn"], name="bn0"),
        helper.make_node("Relu", ["bn"], ["relu"], name="relu0"),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"], name="pool0"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flat0"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["prob"], transB=1, name="fc0"),
    ]
    graph = helper.make_graph(
        nodes, "small_cnn",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 5])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="serde-tests")
    return model, inits


def reference(inits, x):
    """The same network in numpy, written independently of the importer."""
    w, b = inits["conv_w"], inits["conv_b"]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], 4, 8, 8), np.float64)
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + 8, j:j + 8], w[:, :, i, j])
    out += b[None, :, None, None]
    a = inits["bn_scale"] / np.sqrt(inits["bn_var"] + 1e-5)
    out = out * a[None, :, None, None] + (inits["bn_bias"] - inits["bn_mean"] * a)[None, :,
                                                                                   None, None]
    out = np.maximum(out, 0).mean(axis=(2, 3))
    return out @ inits["fc_w"].T + inits["fc_b"]


@pytest.fixture
def cnn_file(tmp_path):
    model, inits = small_cnn()
    path = tmp_path / "cnn.onnx"
    onnx.save(model, str(path))
    return path, inits


def test_gluon_block_is_callable_and_matches_numpy(cnn_file, rng):
    path, inits = cnn_file
    net = serde.import_model(str(path))
    assert isinstance(net, mx.gluon.SymbolBlock)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    out = net(mx.nd.array(x)).asnumpy()
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out, reference(inits, x), rtol=1e-4, atol=1e-4)
    # parameters keep their ONNX names
    assert {"conv_w", "conv_b", "fc_w", "fc_b"} <= set(net.collect_params().keys())


def test_gluon_wrapper_and_dynamic_batch(cnn_file, rng):
    path, inits = cnn_file
    net = serde.gluon.import_from(str(path))
    for batch in (1, 3):
        x = rng.standard_normal((batch, 3, 8, 8)).astype(np.float32)
        np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), reference(inits, x),
                                   rtol=1e-4, atol=1e-4)


def test_symbolic_module_flow(cnn_file, rng):
    """The last example of the design note: bind a Module, set_params, forward a batch."""
    path, inits = cnn_file
    sym, params = serde.import_model(str(path), output_format="symbolic")
    assert set(params) == set(inits)
    assert all(isinstance(v, mx.nd.NDArray) for v in params.values())
    arg_params, aux_params = serde.split_params(sym, params)
    assert set(arg_params) | set(aux_params) == set(params)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    Batch = namedtuple("Batch", ["data"])
    mod = mx.mod.Module(symbol=sym, data_names=["data"], context=mx.cpu(), label_names=None)
    mod.bind(for_training=False, data_shapes=[("data", x.shape)], label_shapes=None)
    mod.set_params(arg_params=arg_params, aux_params=aux_params, allow_missing=True)
    mod.forward(Batch([mx.nd.array(x)]))
    out = mod.get_outputs()[0].asnumpy()
    np.testing.assert_allclose(out, reference(inits, x), rtol=1e-4, atol=1e-4)
    assert sym.list_outputs() == ["prob_output"]


def test_module_wrapper_and_proto_input(rng):
    model, inits = small_cnn(opset=11)
    sym, params = serde.module.import_from(model)
    arg, aux = serde.split_params(sym, params)
    exe = sym.bind(mx.cpu(), {"data": mx.nd.array(np.ones((1, 3, 8, 8), np.float32)), **arg},
                   aux_states=aux)
    np.testing.assert_allclose(exe.forward()[0].asnumpy(),
                               reference(inits, np.ones((1, 3, 8, 8), np.float32)),
                               rtol=1e-4, atol=1e-4)


def test_split_params_accepts_prefixed_keys(cnn_file):
    path, _ = cnn_file
    sym, params = serde.import_model(str(path), output_format="symbolic")
    aux_names = set(sym.list_auxiliary_states())
    assert aux_names, "BatchNorm statistics import as MXNet auxiliary states"
    saved = {f"{'aux' if k in aux_names else 'arg'}:{k}": v for k, v in params.items()}
    arg, aux = serde.split_params(sym, saved)
    assert set(aux) == aux_names and set(arg) | set(aux) == set(params)
    assert not set(arg) & set(aux)


def test_metadata(cnn_file):
    path, _ = cnn_file
    meta = serde.onnx.get_model_metadata(str(path))
    assert meta["inputs"] == [{"name": "data", "shape": ["N", 3, 8, 8], "dtype": "float32"}]
    assert meta["outputs"] == [{"name": "prob", "shape": ["N", 5], "dtype": "float32"}]
    assert meta["opsets"] == {"": 13}
    assert meta["producer_name"] == "serde-tests"
    assert meta["initializers"] == 8


def test_bad_output_format(cnn_file):
    with pytest.raises(serde.InvalidModelError, match="output_format"):
        serde.import_model(str(cnn_file[0]), output_format="pytorch")


def test_format_options_go_through_by_name(cnn_file, rng):
    # ONNX's own options reach its importer; another format's, or a typo, are named
    net = serde.import_model(str(cnn_file[0]), input_shapes={"data": (1, 3, 8, 8)}, ctx=mx.cpu())
    assert isinstance(net, mx.gluon.SymbolBlock)
    with pytest.raises(serde.InvalidModelError, match="input_shape is not an option of the "
                                                      "onnx format.*input_shapes"):
        serde.import_model(str(cnn_file[0]), input_shape={"data": (1, 3, 8, 8)})
    with pytest.raises(serde.InvalidModelError, match="input_format must be one of"):
        serde.import_model(str(cnn_file[0]), input_format="tflite")


def _reshape_model():
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape0")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6]),
         helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def test_dynamic_static_input_names_the_input():
    with pytest.raises(serde.ConversionError, match=r"'shape'.*constant_inputs"):
        serde.import_model(_reshape_model())


def test_constant_inputs_bake_the_value():
    net = serde.import_model(_reshape_model(), constant_inputs={"shape": np.array([3, 4])})
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    out = net(mx.nd.array(x)).asnumpy()
    np.testing.assert_array_equal(out, x.reshape(3, 4))


@pytest.mark.parametrize("dtype,onnx_type", [
    (np.float16, TensorProto.FLOAT16), (np.float64, TensorProto.DOUBLE),
    (np.int32, TensorProto.INT32), (np.int64, TensorProto.INT64), (np.uint8, TensorProto.UINT8),
    (np.int8, TensorProto.INT8)], ids=lambda v: getattr(v, "__name__", str(v)))
def test_dtypes_and_bool_outputs(dtype, onnx_type):
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Less", ["a", "b"], ["lt"]),
         helper.make_node("ReduceSum", ["a"], ["total"], keepdims=0)], "g",
        [helper.make_tensor_value_info("a", onnx_type, [3]),
         helper.make_tensor_value_info("b", onnx_type, [3])],
        [helper.make_tensor_value_info("s", onnx_type, [3]),
         helper.make_tensor_value_info("lt", TensorProto.BOOL, [3]),
         helper.make_tensor_value_info("total", onnx_type, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    import serde.onnx.backend as backend
    a, b = np.array([1, 5, 3], dtype), np.array([2, 4, 3], dtype)
    s, lt, total = backend.run_model(model, [a, b])
    assert s.dtype == dtype and lt.dtype == np.bool_ and total.dtype == dtype
    assert total.shape == ()   # 0-d results stay 0-d
    np.testing.assert_array_equal(s, np.array([3, 9, 6], dtype))
    np.testing.assert_array_equal(lt, [True, False, False])
    assert total == 9


def test_unsupported_dtype_is_a_clear_error():
    graph = helper.make_graph(
        [helper.make_node("Abs", ["a"], ["b"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.UINT16, [3])],
        [helper.make_tensor_value_info("b", TensorProto.UINT16, [3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(serde.ConversionError, match="UINT16.*cannot compute"):
        serde.import_model(model)


def test_constant_folding_of_shape_chains():
    """Shape -> Gather -> Concat -> Reshape folds to a static reshape; ConstantOfShape weights."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
        helper.make_node("Concat", ["n", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"]),
        helper.make_node("ConstantOfShape", ["wshape"], ["w"],
                         value=numpy_helper.from_array(np.array([0.5], np.float32))),
        helper.make_node("MatMul", ["flat", "w"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.array([0], np.int64), "zero"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
             numpy_helper.from_array(np.array([12, 2], np.int64), "wshape")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    sym, params = serde.import_model(model, output_format="symbolic")
    assert set(params) == {"w"}   # the shape chain left nothing behind, the weight is folded
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out = sym.bind(mx.cpu(), {"x": mx.nd.array(x), **params}).forward()[0].asnumpy()
    np.testing.assert_allclose(out, x.reshape(2, 12) @ np.full((12, 2), 0.5), rtol=1e-6)


def test_old_ir_initializers_listed_as_inputs(rng):
    model, inits = small_cnn(opset=9)
    for name, value in inits.items():
        model.graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                               value.shape))
    model.ir_version = 3
    net = serde.import_model(model)
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), reference(inits, x), rtol=1e-4,
                               atol=1e-4)


def test_optional_inputs_omitted():
    graph = helper.make_graph(
        [helper.make_node("Clip", ["x", "", "hi"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
        [numpy_helper.from_array(np.array(1.5, np.float32), "hi")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    net = serde.import_model(model)
    out = net(mx.nd.array([-3.0, 0.5, 1.0, 7.0])).asnumpy()
    np.testing.assert_array_equal(out, [-3.0, 0.5, 1.0, 1.5])


def test_registry_is_keyed_by_schema_version():
    from serde.onnx.importer.registry import lookup, supported_ops
    ops = supported_ops()
    assert ops[("", "ReduceSum")] == [1, 11, 13]
    assert lookup("ReduceSum", 12) is lookup("ReduceSum", 11)
    assert lookup("ReduceSum", 13) is not lookup("ReduceSum", 11)
    assert lookup("Relu", 5) is None   # Relu-1 (consumed_inputs) is not converted on purpose


def test_import_is_deterministic():
    model, _ = small_cnn()
    first = serde.import_model(model, output_format="symbolic")[0].tojson()
    mx.sym.var("unrelated") + 1   # moves MXNet's global name counters
    assert serde.import_model(model, output_format="symbolic")[0].tojson() == first
