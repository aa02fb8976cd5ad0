"""Dynamic axes through the importer: shape arithmetic on runtime shapes (partial values),
and detectors' NMS (NonMaxSuppression chains fused into one box_nms), checked against MXNet's
own forward at batch sizes other than the one exported."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

import serde


def _records(rng: np.random.Generator, batch: int, n: int, classes: int = 3) -> np.ndarray:
    ids = rng.integers(0, classes, (batch, n, 1)).astype(np.float32)
    scores = rng.random((batch, n, 1)).astype(np.float32)
    xy = rng.random((batch, n, 2)).astype(np.float32) * 50
    wh = rng.random((batch, n, 2)).astype(np.float32) * 30 + 1
    return np.concatenate([ids, scores, xy, xy + wh], axis=-1)


@pytest.mark.parametrize("topk", [-1, 20])
@pytest.mark.parametrize("output_format", ["gluon", "symbolic"])
def test_box_nms_round_trip_at_other_batches(tmp_path, topk, output_format):
    data = mx.sym.var("data")
    sym = mx.sym.contrib.box_nms(data, overlap_thresh=0.3, valid_thresh=0.2, topk=topk,
                                 id_index=0, score_index=1, coord_start=2)
    path = serde.export_model(sym, {}, filename_prefix=tmp_path / "nms",
                              input_shapes={"data": (2, 64, 6)}, dynamic_batch=True)
    rng = np.random.default_rng(3)
    for batch in (1, 3):
        x = _records(rng, batch, 64)
        want = sym.eval(data=mx.nd.array(x))[0].asnumpy()
        if output_format == "gluon":
            block = serde.import_model(path, output_format="gluon")
            got = block(mx.nd.array(x)).asnumpy()
        else:
            isym, params = serde.import_model(path, output_format="symbolic",
                                              input_shapes={"data": x.shape})
            got = isym.eval(data=mx.nd.array(x), **{k: mx.nd.array(v) if not isinstance(
                v, mx.nd.NDArray) else v for k, v in params.items()})[0].asnumpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_reshape_with_copied_batch_stays_dynamic(tmp_path):
    data = mx.sym.var("data")
    sym = mx.sym.reshape(mx.sym.transpose(data, axes=(0, 2, 1)), shape=(0, -1, 4))
    path = serde.export_model(sym, {}, filename_prefix=tmp_path / "r",
                              input_shapes={"data": (1, 8, 6)}, dynamic_batch=True)
    block = serde.import_model(path, output_format="gluon")
    x = np.arange(5 * 8 * 6, dtype=np.float32).reshape(5, 8, 6)
    np.testing.assert_array_equal(block(mx.nd.array(x)).asnumpy(),
                                  sym.eval(data=mx.nd.array(x))[0].asnumpy())


def test_partial_shape_values_fold_static_dims(tmp_path):
    """TopK's k and a Range bound taken from a runtime shape whose dims are static, and an
    Expand to a shape with a dynamic batch element, import without input_shapes."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 7])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 7])
    pos = helper.make_tensor_value_info("pos", TensorProto.INT64, [7])
    big = helper.make_tensor_value_info("big", TensorProto.FLOAT, ["batch", 3, 7])
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "one"], ["n"], axis=0),
        helper.make_node("Reshape", ["n", "one_vec"], ["k"]),
        helper.make_node("TopK", ["x", "k"], ["out", "idx"], axis=1),
        helper.make_node("Range", ["zero", "n", "one"], ["pos"]),
        helper.make_node("Gather", ["shape", "zero_vec"], ["b"], axis=0),
        helper.make_node("Concat", ["b", "three", "seven"], ["target"], axis=0),
        helper.make_node("Unsqueeze", ["x", "one_vec"], ["x3"]),
        helper.make_node("Expand", ["x3", "target"], ["big"]),
    ]
    inits = [helper.make_tensor("one", TensorProto.INT64, [], [1]),
             helper.make_tensor("zero", TensorProto.INT64, [], [0]),
             helper.make_tensor("one_vec", TensorProto.INT64, [1], [1]),
             helper.make_tensor("zero_vec", TensorProto.INT64, [1], [0]),
             helper.make_tensor("three", TensorProto.INT64, [1], [3]),
             helper.make_tensor("seven", TensorProto.INT64, [1], [7])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [out, pos, big], inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, tmp_path / "m.onnx")
    block = serde.import_model(tmp_path / "m.onnx", output_format="gluon")
    data = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)
    got_out, got_pos, got_big = (o.asnumpy() for o in block(mx.nd.array(data)))
    np.testing.assert_allclose(got_out, -np.sort(-data, axis=1), rtol=1e-6)
    np.testing.assert_array_equal(got_pos, np.arange(7))
    np.testing.assert_array_equal(got_big, np.broadcast_to(data[:, None, :], (4, 3, 7)))


def test_slice_like_on_a_dynamic_axis(tmp_path):
    data, ref = mx.sym.var("data"), mx.sym.var("ref")
    sym = mx.sym.slice_like(data, ref, axes=(0, 2))
    path = serde.export_model(sym, {}, filename_prefix=tmp_path / "s",
                              input_shapes={"data": (4, 3, 9), "ref": (2, 3, 5)},
                              dynamic_axes={"data": {0: "b"}, "ref": {0: "b2"}})
    block = serde.import_model(path, output_format="gluon")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 9)).astype(np.float32)
    r = rng.standard_normal((3, 3, 5)).astype(np.float32)
    np.testing.assert_array_equal(block(mx.nd.array(x), mx.nd.array(r)).asnumpy(), x[:3, :, :5])


@pytest.mark.parametrize("pool", ["align", "max"])
def test_roi_pooling_follows_a_dynamic_feature_map(tmp_path, pool):
    """R-CNN feature maps follow the image size: ROI pooling exported with dynamic H/W runs
    in onnxruntime, and imports back, at a size other than the one exported."""
    import onnxruntime as ort

    data, rois = mx.sym.var("data"), mx.sym.var("rois")
    if pool == "align":
        sym = mx.sym.contrib.ROIAlign(data, rois, pooled_size=(3, 2), spatial_scale=0.5,
                                      sample_ratio=2)
    else:
        sym = mx.sym.ROIPooling(data, rois, pooled_size=(3, 2), spatial_scale=0.5)
    hw = {2: "height", 3: "width"}
    path = serde.export_model(sym, {}, filename_prefix=tmp_path / "roi",
                              input_shapes={"data": (2, 3, 10, 12), "rois": (4, 5)},
                              dynamic_axes={"data": hw}, opset_version=28)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    block = serde.import_model(path, output_format="gluon")
    rng = np.random.default_rng(5)
    for h, w in ((10, 12), (17, 9)):
        x = rng.standard_normal((2, 3, h, w)).astype(np.float32)
        corner = rng.random((4, 2)) * [2 * w - 6, 2 * h - 6]
        boxes = np.concatenate([corner, corner + rng.random((4, 2)) * 6 + 1], axis=1)
        r = np.concatenate([[[0], [1], [1], [0]], boxes], axis=1).astype(np.float32)
        want = sym.eval(data=mx.nd.array(x), rois=mx.nd.array(r))[0].asnumpy()
        np.testing.assert_allclose(session.run(None, {"data": x, "rois": r})[0], want,
                                   rtol=1e-4, atol=1e-5)
        got = block(mx.nd.array(x), mx.nd.array(r)).asnumpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
