"""Dynamic sequence axes, as NLP models need them: recurrent layers whose sequence length is
only known at run time (imported as MXNet's fused RNN operator, checked against onnxruntime),
and the exporter's reverse reshapes, broadcasts and sequence masks under dynamic axes, checked
against MXNet's own forward at sizes other than the one exported."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import serde


def _recurrent_model(kind: str, direction: str, layout: int, with_states: bool,
                     hidden: int = 5, features: int = 3, **attrs) -> tuple[onnx.ModelProto,
                                                                           dict]:
    rng = np.random.default_rng(7)
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    dirs = 2 if direction == "bidirectional" else 1
    weights = {
        "W": rng.standard_normal((dirs, gates * hidden, features)).astype(np.float32) * 0.5,
        "R": rng.standard_normal((dirs, gates * hidden, hidden)).astype(np.float32) * 0.5,
        "B": rng.standard_normal((dirs, 2 * gates * hidden)).astype(np.float32) * 0.5,
    }
    x_dims = ["batch", "seq", features] if layout else ["seq", "batch", features]
    state_dims = ["batch", dirs, hidden] if layout else [dirs, "batch", hidden]
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_dims)]
    names = ["X", "W", "R", "B", ""]
    if with_states:
        inputs.append(helper.make_tensor_value_info("h0", TensorProto.FLOAT, state_dims))
        names.append("h0")
        if kind == "LSTM":
            inputs.append(helper.make_tensor_value_info("c0", TensorProto.FLOAT, state_dims))
            names.append("c0")
    outputs = ["Y", "Y_h"] + (["Y_c"] if kind == "LSTM" else [])
    node = helper.make_node(kind, names, outputs, hidden_size=hidden, direction=direction,
                            layout=layout, **attrs)
    graph = helper.make_graph(
        [node], "rnn", inputs,
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, [None] * (4 if o == "Y" else 3))
         for o in outputs],
        [onnx.numpy_helper.from_array(v, k) for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    return model, {"dirs": dirs, "hidden": hidden, "features": features}


@pytest.mark.parametrize("kind,attrs", [("LSTM", {}), ("GRU", {"linear_before_reset": 1}),
                                        ("RNN", {}),
                                        ("RNN", {"activations": ["Relu", "Relu"]})])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("layout,with_states", [(0, True), (1, True), (0, False)])
def test_recurrent_layer_with_dynamic_sequence_matches_onnxruntime(kind, attrs, direction,
                                                                   layout, with_states):
    if kind == "RNN" and "activations" in attrs and direction != "bidirectional":
        attrs = {"activations": ["Relu"]}
    model, info = _recurrent_model(kind, direction, layout, with_states, **attrs)
    block = serde.import_model(model, output_format="gluon")
    # onnxruntime runs only layout 0: the batch-first model is checked against its twin
    twin, _ = _recurrent_model(kind, direction, 0, with_states, **attrs)
    session = ort.InferenceSession(twin.SerializeToString(),
                                   providers=["CPUExecutionProvider"])

    def reference(feed):
        if not layout:
            return session.run(None, feed)
        seq_first = {k: np.swapaxes(v, 0, 1) for k, v in feed.items()}
        y, *states = session.run(None, seq_first)
        return [np.transpose(y, (2, 0, 1, 3))] + [np.swapaxes(s, 0, 1) for s in states]

    rng = np.random.default_rng(11)
    for steps, batch in ((4, 2), (9, 3)):  # two sequence lengths, never given to the importer
        shape = (batch, steps, info["features"]) if layout else (steps, batch, info["features"])
        feed = {"X": rng.standard_normal(shape).astype(np.float32)}
        if with_states:
            state = (batch, info["dirs"], info["hidden"]) if layout else \
                (info["dirs"], batch, info["hidden"])
            feed["h0"] = rng.standard_normal(state).astype(np.float32)
            if kind == "LSTM":
                feed["c0"] = rng.standard_normal(state).astype(np.float32)
        want = reference(feed)
        got = block(*[mx.nd.array(v) for v in feed.values()])
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g.asnumpy(), w, rtol=1e-4, atol=1e-5)


def test_recurrent_layer_the_fused_operator_cannot_run_names_the_fix():
    model, _ = _recurrent_model("LSTM", "forward", 0, True, clip=0.5)
    with pytest.raises(serde.SerdeError, match="input_shapes"):
        serde.import_model(model, output_format="gluon")


def _round_trip(sym: mx.sym.Symbol, shapes: dict, dynamic: dict, feeds: list[dict],
                tmp_path) -> None:
    path = serde.export_model(sym, {}, filename_prefix=tmp_path / "m", input_shapes=shapes,
                              dynamic_axes=dynamic)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    block = serde.import_model(path, output_format="gluon")
    for feed in feeds:
        want = sym.eval(**{k: mx.nd.array(v) for k, v in feed.items()})[0].asnumpy()
        np.testing.assert_allclose(session.run(None, feed)[0], want, rtol=1e-6, atol=1e-6)
        got = block(*[mx.nd.array(feed[i.name]) for i in session.get_inputs()])
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6, atol=1e-6)


def test_reverse_reshape_stays_dynamic(tmp_path):
    data = mx.sym.var("data")
    sym = mx.sym.reshape(data, shape=(-1, 0), reverse=True)  # merge all but the last axis
    rng = np.random.default_rng(0)
    _round_trip(sym, {"data": (2, 3, 4)}, {"data": {0: "batch", 1: "seq"}},
                [{"data": rng.standard_normal(s).astype(np.float32)}
                 for s in ((2, 3, 4), (5, 7, 4))], tmp_path)


def test_broadcast_axis_and_like_stay_dynamic(tmp_path):
    data, like = mx.sym.var("data"), mx.sym.var("like")
    wide = mx.sym.broadcast_axis(mx.sym.expand_dims(data, axis=1), axis=1, size=4)
    sym = mx.sym.broadcast_like(wide, like, lhs_axes=(2,), rhs_axes=(1,)) * 2
    rng = np.random.default_rng(1)
    feeds = [{"data": rng.standard_normal((b, 1)).astype(np.float32),
              "like": rng.standard_normal((b, t)).astype(np.float32)}
             for b, t in ((2, 3), (3, 6))]
    _round_trip(sym, {"data": (2, 1), "like": (2, 3)},
                {"data": {0: "batch"}, "like": {0: "batch", 1: "seq"}}, feeds, tmp_path)


def test_sequence_mask_over_a_dynamic_time_axis(tmp_path):
    data, lengths = mx.sym.var("data"), mx.sym.var("lengths")
    sym = mx.sym.SequenceMask(data, lengths, use_sequence_length=True, axis=1, value=-3.0)
    rng = np.random.default_rng(2)
    feeds = [{"data": rng.standard_normal((b, t, 2)).astype(np.float32),
              "lengths": rng.integers(1, t + 1, (b,)).astype(np.float32)}
             for b, t in ((2, 5), (3, 9))]
    _round_trip(sym, {"data": (2, 5, 2), "lengths": (2,)},
                {"data": {0: "batch", 1: "seq"}, "lengths": {0: "batch"}}, feeds, tmp_path)


def test_merged_leading_dims_from_runtime_shape_import_without_shapes(tmp_path):
    """Reshape(x, Concat([-1], Shape(x)[2:])) merges the leading dims: the copies come from
    dims 2 and 3 of a rank-4 input, not from their own positions."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["a", "b", "c", 4])
    nodes = [helper.make_node("Shape", ["x"], ["s"], start=2),
             helper.make_node("Constant", [], ["m1"], value=onnx.numpy_helper.from_array(
                 np.array([-1], np.int64))),
             helper.make_node("Concat", ["m1", "s"], ["t"], axis=0),
             helper.make_node("Reshape", ["x", "t"], ["y"])]
    graph = helper.make_graph(nodes, "merge", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                             [None] * 3)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    block = serde.import_model(model, output_format="gluon")
    for shape in ((2, 3, 5, 4), (1, 4, 2, 4)):
        value = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        np.testing.assert_array_equal(block(mx.nd.array(value)).asnumpy(),
                                      value.reshape(-1, *shape[2:]))


def test_gluon_export_keeps_the_blocks_argument_order(tmp_path):
    class TwoInputs(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, first, second):
            return F.broadcast_add(second * 2, first)  # second is used first

    block = TwoInputs()
    path, model = serde.export_model(block, filename_prefix=tmp_path / "two",
                                     input_shapes={"first": (1, 3), "second": (2, 3)},
                                     return_model=True)
    assert [i.name for i in model.graph.input] == ["first", "second"]
    imported = serde.import_model(path, output_format="gluon")
    a, b = np.ones((1, 3), np.float32), np.full((2, 3), 3.0, np.float32)
    np.testing.assert_array_equal(imported(mx.nd.array(a), mx.nd.array(b)).asnumpy(),
                                  block(mx.nd.array(a), mx.nd.array(b)).asnumpy())


@pytest.mark.parametrize("pool_type,include_pad,kernel,stride,pad", [
    ("avg", False, (2, 2), (2, 2), (0, 0)),   # ResNet-v1d's downsampling
    ("avg", True, (3, 3), (2, 2), (1, 1)),
    ("max", True, (3, 3), (2, 2), (1, 1)),
    ("lp", True, None, None, None),           # global L2 pooling
])
def test_full_convention_pooling_over_dynamic_image_sizes(tmp_path, pool_type, include_pad,
                                                          kernel, stride, pad):
    data = mx.sym.var("data")
    if kernel is None:
        sym = mx.sym.Pooling(data, pool_type=pool_type, global_pool=True, p_value=2,
                             kernel=(1, 1))
    else:
        sym = mx.sym.Pooling(data, pool_type=pool_type, kernel=kernel, stride=stride, pad=pad,
                             pooling_convention="full", count_include_pad=include_pad)
    rng = np.random.default_rng(4)
    feeds = [{"data": rng.standard_normal((1, 2, h, w)).astype(np.float32)}
             for h, w in ((8, 9), (11, 6))]  # even and odd sizes: ceil windows at the edge
    _round_trip(sym, {"data": (1, 2, 8, 9)}, {"data": {2: "height", 3: "width"}}, feeds,
                tmp_path)


@pytest.mark.parametrize("ranges", [dict(lhs_begin=2, lhs_end=None, rhs_begin=1, rhs_end=None),
                                    dict(lhs_begin=-2, lhs_end=None, rhs_begin=-1,
                                         rhs_end=None)])
def test_reshape_like_with_ranges_stays_dynamic(tmp_path, ranges):
    """DANet's attention reshapes: lhs dims from 2 on take rhs's last dim, batch dynamic."""
    lhs, rhs = mx.sym.var("lhs"), mx.sym.var("rhs")
    sym = mx.sym.reshape_like(lhs, rhs, **ranges)
    rng = np.random.default_rng(6)
    feeds = [{"lhs": rng.standard_normal((b, 3, 4, 5)).astype(np.float32),
              "rhs": rng.standard_normal((7, 20)).astype(np.float32)} for b in (2, 5)]
    _round_trip(sym, {"lhs": (2, 3, 4, 5), "rhs": (7, 20)}, {"lhs": {0: "batch"}}, feeds,
                tmp_path)
