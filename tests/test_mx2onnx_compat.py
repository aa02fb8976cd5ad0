"""serde.onnx.export_model, the drop-in for mx.onnx.export_model, and the graph interface of
exports: the forms MXNet's own tools write and accept, checked in onnxruntime against MXNet."""
import json

import mxnet as mx
import numpy as np
import onnx
import pytest

import serde
from serde.onnx import export_model

from .conftest import ort_run


def _mx_forward(sym, feed, params=None):
    args = {k: mx.nd.array(v, dtype=v.dtype) for k, v in feed.items()}
    args.update(params or {})
    arg_shapes, _, _ = sym.infer_shape_partial(**{k: v.shape for k, v in args.items()})
    for name, shape in zip(sym.list_arguments(), arg_shapes, strict=True):
        args.setdefault(name, mx.nd.zeros(shape))
    exe = sym.bind(mx.cpu(), args=args, grad_req="null")
    return [o.asnumpy() for o in exe.forward(is_train=False)]


def _inputs(path):
    return [i.name for i in onnx.load(str(path)).graph.input]


def _mlp(rng):
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
    out = mx.sym.SoftmaxOutput(fc, name="softmax")
    params = {"arg:fc_weight": mx.nd.array(rng.standard_normal((4, 3))),
              "arg:fc_bias": mx.nd.array(rng.standard_normal(4))}
    return out, params


def test_files_written_by_mxnet_for_a_graph_without_parameters(tmp_path, rng):
    a, b = mx.sym.var("a"), mx.sym.var("b")
    sym = mx.sym.broadcast_like(a, b) * 2 + 1
    sym.save(str(tmp_path / "m-symbol.json"))
    mx.nd.save(str(tmp_path / "m-0000.params"), {})  # MXNet writes an empty list
    path = export_model(str(tmp_path / "m-symbol.json"), str(tmp_path / "m-0000.params"),
                        [(1, 3), (2, 3)], [np.float32, np.float32],
                        str(tmp_path / "m.onnx"))
    assert path == str(tmp_path / "m.onnx")
    # b is read only for its shape, and still an input a caller feeds
    assert _inputs(path) == ["a", "b"]
    feed = {"a": rng.standard_normal((1, 3)).astype(np.float32),
            "b": rng.standard_normal((2, 3)).astype(np.float32)}
    np.testing.assert_allclose(ort_run(path, feed)[0], _mx_forward(sym, feed)[0], rtol=1e-6)


@pytest.mark.parametrize("prefixed", [True, False], ids=["arg-aux-prefixes", "plain-names"])
def test_params_dict_forms_and_label_dropped(tmp_path, rng, prefixed):
    sym, params = _mlp(rng)
    if not prefixed:
        params = {k.split(":", 1)[1]: v for k, v in params.items()}
    path = export_model(sym, params, in_shapes=[(2, 3)], in_types=np.float32,
                        onnx_file_path=str(tmp_path / "mlp.onnx"))
    assert _inputs(path) == ["data"]  # softmax_label is training-only
    x = rng.standard_normal((2, 3)).astype(np.float32)
    plain = {k.split(":")[-1]: v for k, v in params.items()}
    np.testing.assert_allclose(ort_run(path, {"data": x})[0],
                               _mx_forward(sym, {"data": x}, plain)[0], rtol=1e-5, atol=1e-6)


def test_params_as_arg_aux_list_and_old_names(tmp_path, rng):
    sym, params = _mlp(rng)
    arg = {k[4:]: v for k, v in params.items()}
    path = export_model(sym, [arg, {}], input_shape=[(2, 3)], input_type=[np.float32],
                        onnx_file_path=str(tmp_path / "mlp.onnx"))
    assert _inputs(path) == ["data"]


def test_dynamic_input_shapes_with_none_and_names(tmp_path, rng):
    sym, params = _mlp(rng)
    path = export_model(sym, params, [(2, 3)], np.float32, str(tmp_path / "d.onnx"),
                        dynamic=True, dynamic_input_shapes=[(None, 3)])
    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and dims[1].dim_value == 3
    x = rng.standard_normal((7, 3)).astype(np.float32)
    plain = {k[4:]: v for k, v in params.items()}
    np.testing.assert_allclose(ort_run(path, {"data": x})[0],
                               _mx_forward(sym, {"data": x}, plain)[0], rtol=1e-5, atol=1e-6)
    named = export_model(sym, params, [(2, 3)], np.float32, str(tmp_path / "n.onnx"),
                         dynamic=True, dynamic_input_shapes=[("N", 3)])
    assert onnx.load(named).graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"


def test_label_reaching_its_output_layer_through_a_reshape(tmp_path, rng):
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=5, name="fc", no_bias=True)
    label = mx.sym.Reshape(mx.sym.var("softmax_label"), shape=(-1,))
    sym = mx.sym.SoftmaxOutput(fc, label, name="softmax")
    params = {"fc_weight": mx.nd.array(rng.standard_normal((5, 3)))}
    path = export_model(sym, params, [(4, 3)], onnx_file_path=str(tmp_path / "b.onnx"))
    assert _inputs(path) == ["data"]
    # a list that also gives the label's shape, in list_inputs order, is accepted too
    export_model(sym, params, [(4, 3), (4,)], onnx_file_path=str(tmp_path / "b2.onnx"))


def test_output_that_is_an_input_and_duplicate_outputs(tmp_path, rng):
    a = mx.sym.var("a")
    sym = mx.sym.Group([a, mx.sym.zeros((2, 2)), a * 3, a])
    path = export_model(sym, {}, [(1, 3)], onnx_file_path=str(tmp_path / "p.onnx"))
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    names = [o.name for o in model.graph.output]
    assert len(set(names)) == 4 and "a" not in names
    x = rng.standard_normal((1, 3)).astype(np.float32)
    got = ort_run(path, {"a": x})
    for g, w in zip(got, _mx_forward(sym, {"a": x}), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_block_called_twice_gets_unique_deterministic_names(tmp_path, rng):
    class Twice(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__(prefix="twice_")
            with self.name_scope():
                self.dense = mx.gluon.nn.Dense(3, in_units=3)
                self.drop = mx.gluon.nn.Dropout(0.5)

        def hybrid_forward(self, F, x):
            return self.drop(self.dense(self.drop(self.dense(x))))

    net = Twice()
    net.initialize(mx.init.Xavier())
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = serde.export_model(net, filename_prefix=tmp_path / "a" / "m", input_shapes=[(2, 3)])
    second = serde.export_model(net, filename_prefix=tmp_path / "b" / "m", input_shapes=[(2, 3)])
    assert first.read_bytes() == second.read_bytes()
    nodes = [n.name for n in onnx.load(str(first)).graph.node]
    assert len(nodes) == len(set(nodes))
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(ort_run(first, {"data": x})[0], net(mx.nd.array(x)).asnumpy(),
                               rtol=1e-5, atol=1e-6)


def test_module_checkpoint_prefix_and_epoch(tmp_path, rng):
    sym, _ = _mlp(rng)
    mod = mx.mod.Module(sym, data_names=["data"], label_names=["softmax_label"])
    mod.bind([("data", (2, 3))], [("softmax_label", (2,))])
    mod.init_params(mx.init.Xavier())
    prefix = str(tmp_path / "ck")
    mod.save_checkpoint(prefix, 3)
    path = serde.export_model(prefix, 3, filename_prefix=tmp_path / "ck",
                              input_shapes=[(2, 3)])
    x = rng.standard_normal((2, 3)).astype(np.float32)
    arg, _ = mod.get_params()
    np.testing.assert_allclose(ort_run(path, {"data": x})[0],
                               _mx_forward(sym, {"data": x}, arg)[0], rtol=1e-5, atol=1e-6)


def test_old_symbol_json_is_upgraded(tmp_path):
    # MXNet 0.x JSON: "param" instead of "attrs", no mxnet_version
    old = {"nodes": [{"op": "null", "name": "data", "inputs": []},
                     {"op": "Activation", "name": "act", "param": {"act_type": "relu"},
                      "inputs": [[0, 0]]}],
           "arg_nodes": [0], "heads": [[1, 0]]}
    (tmp_path / "old-symbol.json").write_text(json.dumps(old))
    path = serde.export_model(str(tmp_path / "old-symbol.json"), None,
                              filename_prefix=tmp_path / "old", input_shapes=[(2, 2)])
    x = np.array([[-1, 2], [3, -4]], np.float32)
    np.testing.assert_allclose(ort_run(path, {"data": x})[0], np.maximum(x, 0))


@pytest.mark.parametrize("types", [np.int64, [np.int64], {"idx": "int64"}],
                         ids=["single", "list", "dict"])
def test_input_types_forms_keep_int64(tmp_path, types):
    idx = mx.sym.var("idx")
    table = mx.sym.var("table")
    sym = mx.sym.take(table, idx)
    params = {"table": mx.nd.array(np.arange(12).reshape(4, 3))}
    _, model = serde.export_model(sym, params, filename_prefix=tmp_path / "t",
                                  input_shapes=[(5,)], input_types=types, return_model=True)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    got = ort_run(model, {"idx": np.array([0, 3, 1, 2, 2], np.int64)})[0]
    np.testing.assert_allclose(got, np.arange(12).reshape(4, 3)[[0, 3, 1, 2, 2]])


def test_bad_input_types_is_a_named_error(tmp_path):
    with pytest.raises(serde.InvalidModelError, match="input type"):
        serde.export_model(mx.sym.var("x") + 1, {}, filename_prefix=tmp_path / "x",
                           input_shapes=[(2,)], input_types=[np.float32, np.float32])
    with pytest.raises(serde.InvalidModelError, match="input_types"):
        serde.export_model(mx.sym.var("x") + 1, {}, filename_prefix=tmp_path / "x",
                           input_shapes=[(2,)], input_types=object())


def test_bad_targets_and_files_are_named_serde_errors(tmp_path):
    sym = mx.sym.var("x") + 1
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(serde.SerdeError, match="is a file"):
        serde.export_model(sym, {}, filename_prefix=blocker / "m", input_shapes=[(2,)])
    (tmp_path / "bad-symbol.json").write_bytes(b"\xff\xfe{not json")
    with pytest.raises(serde.SerdeError):
        export_model(str(tmp_path / "bad-symbol.json"), None, [(2,)],
                     onnx_file_path=str(tmp_path / "b.onnx"))
    with pytest.raises(serde.SerdeError):
        export_model(sym, {}, in_shapes=[("a", "b")], onnx_file_path=str(tmp_path / "c.onnx"))
    assert not (tmp_path / "b.onnx").exists() and not (tmp_path / "c.onnx").exists()
