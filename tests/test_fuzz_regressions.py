"""Minimal reproducers of fuzz findings (conformance/fuzz): each was a crash, a raw exception or
a model that imported but failed its first forward, and is now a result or a named error."""
import mxnet as mx
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import serde
from serde.errors import InvalidModelError


def _save(tmp_path, nodes, inputs, outputs, inits=(), opset=17, name="m.onnx"):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    onnx.save(model, str(path))
    return str(path)


def _vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def _if_model(tmp_path, then_inits=()):
    then_g = helper.make_graph([helper.make_node("Add", ["x", "c" if then_inits else "x"],
                                                 ["y1"])], "then", [], [_vi("y1", [2])],
                               list(then_inits))
    else_g = helper.make_graph([helper.make_node("Sub", ["x", "x"], ["y2"])], "else", [],
                               [_vi("y2", [2])])
    return _save(tmp_path, [helper.make_node("If", ["cond"], ["y"], then_branch=then_g,
                                             else_branch=else_g)],
                 [_vi("cond", [], TensorProto.BOOL), _vi("x", [2])], [_vi("y", [2])])


@pytest.mark.parametrize("with_initializer", [False, True], ids=["plain", "branch_initializer"])
def test_runtime_if_on_a_0d_condition_runs_as_a_gluon_block(tmp_path, with_initializer):
    inits = [numpy_helper.from_array(np.full(2, 10, np.float32), "c")] if with_initializer else []
    path = _if_model(tmp_path, inits)
    block = serde.import_model(path)
    session = ort.InferenceSession(path)
    x = np.array([1, 2], np.float32)
    for cond in (True, False):
        got = block(mx.nd.array(np.array(cond), dtype="bool"), mx.nd.array(x)).asnumpy()
        want = session.run(None, {"cond": np.array(cond), "x": x})[0]
        np.testing.assert_allclose(got, want, rtol=0, atol=0)


def test_branch_initializer_does_not_leak_into_the_outer_graph(tmp_path):
    # the branch's "x" shadows the outer input "x" only inside the branch
    then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["y1"])], "then", [],
                               [_vi("y1", [2])],
                               [numpy_helper.from_array(np.full(2, 7, np.float32), "x")])
    else_g = helper.make_graph([helper.make_node("Identity", ["x"], ["y2"])], "else", [],
                               [_vi("y2", [2])])
    nodes = [helper.make_node("If", ["cond"], ["t"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Add", ["t", "x"], ["y"])]
    path = _save(tmp_path, nodes, [_vi("cond", [], TensorProto.BOOL), _vi("x", [2])],
                 [_vi("y", [2])])
    block = serde.import_model(path)
    session = ort.InferenceSession(path)
    x = np.array([1, 2], np.float32)
    for cond in (True, False):
        got = block(mx.nd.array(np.array(cond), dtype="bool"), mx.nd.array(x)).asnumpy()
        np.testing.assert_allclose(got, session.run(None, {"cond": np.array(cond), "x": x})[0])


def test_scalar_input_runs_as_a_gluon_block(tmp_path):
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [])],
                 [_vi("y", [])])
    out = serde.import_model(path)(mx.nd.array(np.array(-3.0)))
    assert out.shape == () and float(out.asnumpy()) == 0.0


def test_every_input_bound_by_constant_inputs_is_named_for_gluon(tmp_path):
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [2])],
                 [_vi("y", [2])])
    with pytest.raises(InvalidModelError, match="no free input"):
        serde.import_model(path, constant_inputs={"x": np.ones(2, np.float32)})
    sym, params = serde.import_model(path, output_format="symbolic",
                                     constant_inputs={"x": -np.ones(2, np.float32)})
    assert sym.list_inputs() == list(params)


@pytest.mark.parametrize("value, match", [
    (np.array(["a", "b"]), "numeric array"),
    (np.zeros((2, 3), np.float32), "has shape"),
    (object(), "numeric array"),
], ids=["strings", "wrong_shape", "not_an_array"])
def test_bad_constant_inputs_values(tmp_path, value, match):
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [2])],
                 [_vi("y", [2])])
    with pytest.raises(InvalidModelError, match=match):
        serde.import_model(path, constant_inputs={"x": value})


@pytest.mark.parametrize("shape", ["abc", (2, "b"), (2, 1.5)], ids=["string", "str_dim",
                                                                   "float_dim"])
def test_bad_input_shapes_values(tmp_path, shape):
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [2, 2])],
                 [_vi("y", [2, 2])])
    with pytest.raises(InvalidModelError, match="input_shapes"):
        serde.import_model(path, input_shapes={"x": shape})


def test_huge_declared_rank1_input_is_refused_before_shape_inference(tmp_path):
    # ONNX's data propagation materialised the declared 2^31-element int64 input (~17 GB)
    path = _save(tmp_path, [helper.make_node("Shape", ["y"], ["s"])],
                 [_vi("y", [2**31], TensorProto.INT64)], [_vi("s", [1], TensorProto.INT64)])
    with pytest.raises(InvalidModelError, match="declared"):
        serde.import_model(path)


@pytest.mark.parametrize("op, attrs, inputs", [
    ("LayerNormalization", {"axis": 2**31}, [("X", [2, 3]), ("W", [3]), ("B", [3])]),
    ("GatherND", {"batch_dims": -2**31 - 1}, [("X", [2, 3]), ("I", [2, 1])]),
], ids=["layernorm_axis", "gathernd_batch_dims"])
def test_axis_attribute_past_int32_is_named_not_a_segfault(tmp_path, op, attrs, inputs):
    infos = [_vi(n, s, TensorProto.INT64 if n == "I" else TensorProto.FLOAT) for n, s in inputs]
    path = _save(tmp_path, [helper.make_node(op, [n for n, _ in inputs], ["y"], **attrs)],
                 infos, [_vi("y", None)])
    with pytest.raises(InvalidModelError, match="axes"):
        serde.import_model(path)


def test_graph_without_outputs_is_named(tmp_path):
    path = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [2])], [])
    with pytest.raises(InvalidModelError, match="no outputs"):
        serde.import_model(path)


def test_broadcast_past_mxnets_rank_limit_is_refused_at_import(tmp_path):
    # shape inference accepts it; MXNet's kernel refuses more than 5 broadcast axes
    a, b = [2, 1, 2, 1, 2, 1, 2], [1, 2, 1, 2, 1, 2, 1]
    path = _save(tmp_path, [helper.make_node("Add", ["a", "b"], ["y"])],
                 [_vi("a", a), _vi("b", b)], [_vi("y", [2] * 7)])
    with pytest.raises(InvalidModelError, match="broadcast"):
        serde.import_model(path)


def test_bool_input_to_a_float_only_op_is_refused_at_import(tmp_path):
    path = _save(tmp_path, [helper.make_node("Sub", ["a", "a"], ["y"])],
                 [_vi("a", [2], TensorProto.BOOL)], [_vi("y", [2], TensorProto.BOOL)])
    with pytest.raises(InvalidModelError, match="boolean"):
        serde.import_model(path)


def test_weight_mismatch_behind_a_dynamic_batch_is_refused(tmp_path):
    # flattening 1x4x4 gives 16 features, the Gemm weight takes 8: with the batch dynamic the
    # graph was accepted (nothing else is dynamic: batch 1 is conclusive)
    w = numpy_helper.from_array(np.ones((8, 3), np.float32), "w")
    nodes = [helper.make_node("Flatten", ["x"], ["f"]),
             helper.make_node("Gemm", ["f", "w"], ["y"])]
    path = _save(tmp_path, nodes, [_vi("x", ["N", 1, 4, 4])], [_vi("y", ["N", 3])], [w])
    with pytest.raises(InvalidModelError, match="cannot run"):
        serde.import_model(path)


@pytest.mark.parametrize("aligned", [0, 1], ids=["output_half_pixel", "half_pixel"])
def test_roi_align_degenerate_boxes_and_batch_index_give_numbers(tmp_path, aligned):
    # MXNet's kernel aborted the process on a zero-size half-pixel ROI and read past the
    # batch for a batch index beyond it
    mode = "half_pixel" if aligned else "output_half_pixel"
    node = helper.make_node("RoiAlign", ["x", "rois", "idx"], ["y"], output_height=2,
                            output_width=2, sampling_ratio=2,
                            coordinate_transformation_mode=mode)
    path = _save(tmp_path, [node], [_vi("x", [1, 1, 4, 4]), _vi("rois", [3, 4]),
                                    _vi("idx", [3], TensorProto.INT64)],
                 [_vi("y", [3, 1, 2, 2])], opset=16)
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    rois = np.array([[1, 1, 1, 1], [2, 2, 1, 1], [0, 0, 3, 3]], np.float32)
    block = serde.import_model(path)
    out = block(mx.nd.array(x), mx.nd.array(rois), mx.nd.array(np.array([0, 0, 5]),
                                                                dtype="int64")).asnumpy()
    assert np.isfinite(out).all()
    # a well-formed ROI still matches onnxruntime
    want = ort.InferenceSession(path).run(None, {"x": x, "rois": rois,
                                                 "idx": np.zeros(3, np.int64)})[0]
    np.testing.assert_allclose(out[2], want[2], rtol=1e-5, atol=1e-5)


def test_graph_output_folded_to_an_integer_constant_runs_as_a_gluon_block(tmp_path):
    # Size of a static input folds to an int64 constant that no op constrains: the block
    # inferred it as float32 and refused its own parameter
    path = _save(tmp_path, [helper.make_node("Size", ["x"], ["n"]),
                            helper.make_node("Identity", ["n"], ["y"])],
                 [_vi("x", [2, 3])], [_vi("y", [], TensorProto.INT64)])
    out = serde.import_model(path)(mx.nd.ones((2, 3)))
    assert out.dtype == np.int64 and int(out.asnumpy()) == 6


def _dense_block():
    net = mx.gluon.nn.Dense(2)
    net.initialize()
    net.hybridize()
    net(mx.nd.ones((1, 3)))
    return net


@pytest.mark.parametrize("shapes, types, match", [
    ([(2**31, 2)], None, "elements"),
    ([(1, -3)], None, "dynamic"),
    (["abc"], None, "tuple of dims"),
    ([(1, 2.5)], None, "integers"),
    ([(1, 3)], ["complex64"], "no MXNet tensor type"),
    ([(1, 3)], [None], "is None"),
    ([(1, 3)], ["str"], "no MXNet tensor type"),
], ids=["huge", "negative", "string", "float_dim", "complex", "none_dtype", "str_dtype"])
def test_bad_export_options_are_named_before_mxnet_sees_them(tmp_path, shapes, types, match):
    with pytest.raises(InvalidModelError, match=match):
        serde.export_model(_dense_block(), input_shapes=shapes, input_types=types,
                           filename_prefix=str(tmp_path / "m"))
    assert not list(tmp_path.iterdir())
