"""Core ML export through the public API, checked by the independent oracle (the ONNX
project's Core ML converter + onnxruntime) against MXNet's forward, and its failure modes."""
from __future__ import annotations

import os
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

import serde
from conformance import coreml_layers
from conformance.coreml_oracle import run_coreml

SHAPE = (1, 3, 16, 16)


@pytest.fixture(scope="module")
def small_net():
    mx.random.seed(3)
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(8, 3, padding=1), mx.gluon.nn.BatchNorm(),
            mx.gluon.nn.Activation("relu"), mx.gluon.nn.MaxPool2D(2),
            mx.gluon.nn.Conv2D(8, 3, groups=8, padding=1), mx.gluon.nn.LeakyReLU(0.1),
            mx.gluon.nn.GlobalAvgPool2D(), mx.gluon.nn.Dense(5))
    net.initialize(mx.init.Xavier())
    net(mx.nd.zeros(SHAPE))
    return net


def _forward(net, x):
    return net(mx.nd.array(x)).asnumpy()


@pytest.mark.parametrize("batch", [1, 4])
def test_gluon_export_matches_mxnet_through_the_oracle(small_net, tmp_path, batch):
    path, spec = serde.export_model(small_net, output_format="coreml",
                                    filename_prefix=tmp_path / "net", input_shapes=[SHAPE],
                                    return_model=True)
    assert path.name == "net.mlmodel" and path.stat().st_size > 0
    assert spec.specificationVersion == 1  # fixed-rank layers only: iOS 11
    x = np.random.default_rng(batch).standard_normal((batch, *SHAPE[1:])).astype(np.float32)
    ref = _forward(small_net, x)
    got = next(iter(run_coreml(spec, {"data": x}).values())).reshape(ref.shape)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_metadata_and_names(small_net, tmp_path):
    _, spec = serde.export_model(small_net, output_format="coreml", filename_prefix=tmp_path / "m",
                                 input_shapes={"data": SHAPE}, return_model=True,
                                 metadata={"dataset": "none"})
    meta = spec.description.metadata
    assert meta.author.startswith("mxnet-serde")
    assert mx.__version__ in meta.shortDescription
    assert meta.userDefined["source_framework_version"] == mx.__version__
    assert meta.userDefined["dataset"] == "none"
    assert [i.name for i in spec.description.input] == ["data"]
    assert list(spec.description.input[0].type.multiArrayType.shape) == [3, 16, 16]
    assert list(spec.description.output[0].type.multiArrayType.shape) == [5]


def test_symbol_and_module_wrappers(small_net, tmp_path):
    small_net.hybridize()
    small_net(mx.nd.zeros(SHAPE))
    small_net.export(str(tmp_path / "ckpt"))
    path = serde.module.export(str(tmp_path / "ckpt-symbol.json"),
                               str(tmp_path / "ckpt-0000.params"), "coreml",
                               filename_prefix=tmp_path / "sym", input_shapes=[SHAPE])
    assert path.suffix == ".mlmodel"
    sym, arg, aux = mx.model.load_checkpoint(str(tmp_path / "ckpt"), 0)
    mod = mx.mod.Module(sym, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", SHAPE)], for_training=False)
    mod.set_params(arg, aux)
    _, spec = serde.export_model(mod, output_format="coreml", filename_prefix=tmp_path / "mod",
                                 return_model=True)
    x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    got = next(iter(run_coreml(spec, {"data": x}).values()))
    np.testing.assert_allclose(got.reshape(1, -1), _forward(small_net, x), rtol=1e-4, atol=1e-5)
    assert serde.gluon.export(small_net, "coreml", filename_prefix=tmp_path / "g",
                              input_shapes=[SHAPE]).exists()


def test_softmax_output_label_is_dropped(tmp_path):
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
    sym = mx.sym.SoftmaxOutput(fc, name="softmax")
    rng = np.random.default_rng(1)
    params = {"fc_weight": mx.nd.array(rng.standard_normal((4, 6))),
              "fc_bias": mx.nd.array(rng.standard_normal(4))}
    spec = serde.to_coreml(sym, params, input_shapes={"data": (2, 6)})
    assert [i.name for i in spec.description.input] == ["data"]
    x = rng.standard_normal((2, 6)).astype(np.float32)
    z = x @ params["fc_weight"].asnumpy().T + params["fc_bias"].asnumpy()
    ref = np.exp(z - z.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    got = run_coreml(spec, {"data": x})["softmax_output"].reshape(2, 4)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)


def test_unsupported_ops_are_listed_at_once_and_leave_no_file(tmp_path):
    data = mx.sym.var("data")
    sym = mx.sym.topk(mx.sym.sort(mx.sym.cumsum(data, axis=1), axis=1), k=2, axis=1)
    with pytest.raises(serde.UnsupportedOperatorError) as info:
        serde.export_model(sym, {}, output_format="coreml", filename_prefix=tmp_path / "bad",
                           input_shapes={"data": (1, 5)})
    assert {"sort", "topk", "_np_cumsum"} <= set(info.value.ops)
    assert "Core ML" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_rank5_and_batch_changing_graphs_are_named_errors(tmp_path):
    data = mx.sym.var("data")
    with pytest.raises(serde.SerdeError, match="rank 1 to 4"):
        serde.to_coreml(mx.sym.relu(data), {}, input_shapes={"data": (1, 2, 3, 4, 5)})
    with pytest.raises(serde.ConversionError, match="batch"):
        serde.to_coreml(mx.sym.Reshape(data, shape=(-1,)), {}, input_shapes={"data": (2, 3)})
    with pytest.raises(serde.ConversionError, match="constant"):
        w = mx.sym.var("w")
        serde.to_coreml(mx.sym.Convolution(data, w, kernel=(1, 1), num_filter=2, no_bias=True),
                        {}, input_shapes={"data": (1, 3, 4, 4), "w": (2, 3, 1, 1)})


def test_other_formats_options_are_refused_by_name(small_net, tmp_path):
    with pytest.raises(serde.InvalidModelError, match="opset_version is not an option of the "
                                                      "coreml format"):
        serde.export_model(small_net, output_format="coreml", filename_prefix=tmp_path / "m",
                           input_shapes=[SHAPE], opset_version=13)
    with pytest.raises(serde.InvalidModelError, match="coreml_format"):
        serde.export_model(small_net, output_format="onnx", filename_prefix=tmp_path / "m",
                           input_shapes=[SHAPE], coreml_format="neuralnetwork")
    with pytest.raises(serde.InvalidModelError, match="output_format must be one of"):
        serde.export_model(small_net, output_format="tflite", filename_prefix=tmp_path / "m",
                           input_shapes=[SHAPE])
    assert list(tmp_path.iterdir()) == []


def test_unwritable_target_is_a_serde_error(small_net, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(serde.SerdeError):
        serde.export_model(small_net, output_format="coreml", filename_prefix=blocker / "m",
                           input_shapes=[SHAPE])
    assert blocker.read_text() == "x"


def test_cli_exports_coreml(small_net, tmp_path):
    small_net.hybridize()
    small_net(mx.nd.zeros(SHAPE))
    small_net.export(str(tmp_path / "cli"))
    out = subprocess.run([sys.executable, "-m", "serde", "export", str(tmp_path / "cli-symbol.json"),
                          str(tmp_path / "cli-0000.params"), "-o", str(tmp_path / "cli.mlmodel"),
                          "--to", "coreml", "--input-shape", "data:1,3,16,16"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "cli.mlmodel").stat().st_size > 0
    back = subprocess.run([sys.executable, "-m", "serde", "import", str(tmp_path / "cli.mlmodel"),
                           "-o", str(tmp_path / "back")], capture_output=True, text=True,
                          timeout=300)
    assert back.returncode == 0, back.stderr
    block = mx.gluon.SymbolBlock.imports(str(tmp_path / "back-symbol.json"), ["data"],
                                         str(tmp_path / "back-0000.params"))
    x = mx.nd.array(np.random.default_rng(1).normal(size=SHAPE))
    got = block(x).asnumpy()
    np.testing.assert_allclose(got.reshape(-1), small_net(x).asnumpy().reshape(-1), rtol=1e-4,
                               atol=1e-5)
    bad = tmp_path / "bad.mlmodel"
    bad.write_bytes(b"\x0a\x05trunc")
    err = subprocess.run([sys.executable, "-m", "serde", "import", str(bad), "-o",
                          str(tmp_path / "x")], capture_output=True, text=True, timeout=300)
    assert err.returncode == 2 and "Traceback" not in err.stderr
    assert not list(tmp_path.glob("x-*"))


# A sample of the single-layer suite (the whole suite runs in nox -s conformance).
SAMPLE = ["conv2d_group", "deconv2d_bias_adj", "pool_avg_full_pad", "pool_sum_full",
          "prelu_channel", "softmax_channels", "broadcast_sub_const_first", "concat_axis2",
          "slice_strided", "bilinear_resize_x2", "l2norm_channel", "layernorm_2d"]


@pytest.mark.parametrize("case_id", SAMPLE)
def test_single_layer_sample(case_id):
    case_ = next(c for c in coreml_layers.CASES if c.id == case_id)
    record = coreml_layers.run_case(case_)
    assert record["status"] == "pass", record
    assert record["max_abs_err"] <= case_.atol + case_.rtol * 10


# --- import ---------------------------------------------------------------------------------
def test_round_trip_both_output_formats(small_net, tmp_path):
    path = serde.export_model(small_net, output_format="coreml", filename_prefix=tmp_path / "rt",
                              input_shapes=[SHAPE])
    x = np.random.default_rng(5).standard_normal((3, *SHAPE[1:])).astype(np.float32)
    ref = _forward(small_net, x)
    block = serde.import_model(str(path), input_format="coreml")
    np.testing.assert_allclose(block(mx.nd.array(x)).asnumpy(), ref, rtol=1e-4, atol=1e-5)
    sym, params = serde.import_model(path, input_format="coreml", output_format="symbolic")
    arg, aux = serde.split_params(sym, params)
    mod = mx.mod.Module(sym, data_names=["data"], label_names=None)
    mod.bind(data_shapes=[("data", x.shape)], for_training=False)
    mod.set_params(arg, aux)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage\xff" * 10, b"\x08\x01"])
def test_malformed_files_are_named(tmp_path, content):
    bad = tmp_path / "bad.mlmodel"
    bad.write_bytes(content)
    with pytest.raises(serde.InvalidModelError, match="not a Core ML model"):
        serde.import_model(str(bad), input_format="coreml")


def test_truncated_model_is_an_error(small_net, tmp_path):
    path = serde.export_model(small_net, output_format="coreml", filename_prefix=tmp_path / "t",
                              input_shapes=[SHAPE])
    cut = tmp_path / "cut.mlmodel"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(serde.SerdeError):
        serde.import_model(str(cut), input_format="coreml")


def test_missing_file_directory_and_non_network_models(tmp_path):
    with pytest.raises(serde.InvalidModelError, match="does not exist"):
        serde.import_model(str(tmp_path / "nope.mlmodel"), input_format="coreml")
    with pytest.raises(serde.InvalidModelError, match="not an .mlpackage"):
        serde.import_model(str(tmp_path), input_format="coreml")
    from coremltools.proto import Model_pb2
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    spec.glmRegressor.weights.add().value.extend([1.0, 2.0])
    with pytest.raises(serde.UnsupportedOperatorError, match="glmRegressor"):
        serde.import_model(spec.SerializeToString(), input_format="coreml")


def test_unknown_layers_are_listed_and_new_spec_versions_refused(small_net):
    spec = serde.to_coreml(small_net, input_shapes=[SHAPE])
    spec.neuralNetwork.layers[1].custom.className = "MyLayer"
    spec.neuralNetwork.layers[3].custom.className = "MyLayer"
    with pytest.raises(serde.UnsupportedOperatorError) as info:
        serde.import_model(spec, input_format="coreml")
    assert info.value.ops == ["custom"] and len(info.value.unsupported) == 2
    newer = serde.to_coreml(small_net, input_shapes=[SHAPE])
    newer.specificationVersion = 99
    with pytest.raises(serde.InvalidModelError, match="newer"):
        serde.import_model(newer, input_format="coreml")


def test_image_input_preprocessing_becomes_ops():
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    builder = NeuralNetworkBuilder([("image", datatypes.Array(3, 4, 5))], [("out", None)])
    builder.add_activation("copy", "LINEAR", "image", "out", params=[1.0, 0.0])
    builder.set_pre_processing_parameters(image_input_names=["image"], is_bgr=False,
                                          red_bias=-1.0, green_bias=-2.0, blue_bias=-3.0,
                                          image_scale=0.5)
    spec = builder.spec
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 4, 5)).astype(np.float32)
    block = serde.import_model(spec, input_format="coreml")
    expected = x * 0.5 + np.array([-1.0, -2.0, -3.0], np.float32).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(block(mx.nd.array(x)).asnumpy().reshape(x.shape), expected,
                               rtol=1e-6)


# --- third-party ML Programs -------------------------------------------------------------------
from conformance import coreml_import  # noqa: E402

ML_PROGRAMS = [c for c in coreml_import.cases() if c[0].endswith("@mlprogram")]


@pytest.mark.parametrize("case", [c for c in ML_PROGRAMS if c[0].split("@")[0] in (
    "residual_block", "transformer_encoder", "upsample_bilinear", "audio_conv1d",
    "deconv_pad_permute")], ids=lambda c: c[0])
def test_ml_program_fixture_matches_torch(case):
    record = coreml_import.run_case(*case)
    assert record["status"] == "pass", record
    assert record["max_abs_err"] < 1e-4


def test_ml_package_without_weights_is_named(tmp_path):
    import shutil

    source = next(m for name, m, _ in ML_PROGRAMS if name.startswith("plain_cnn"))
    broken = tmp_path / "broken.mlpackage"
    shutil.copytree(source, broken)
    for blob in broken.rglob("weight.bin"):
        blob.unlink()
    with pytest.raises(serde.InvalidModelError, match="weights"):
        serde.import_model(str(broken), input_format="coreml")
    with pytest.raises(serde.InvalidModelError, match="not an .mlpackage"):
        serde.import_model(str(tmp_path), input_format="coreml")


def test_unsupported_mil_ops_are_listed():
    source = next(m for name, m, _ in ML_PROGRAMS if name.startswith("gru"))
    with pytest.raises(serde.UnsupportedOperatorError, match="while_loop"):
        serde.import_model(str(source), input_format="coreml")


# --- recurrent ---------------------------------------------------------------------------------
class _Tagger(mx.gluon.HybridBlock):
    """A sequence tagger as Gluon users write one: LSTM (layout NTC) + per-step Dense."""

    def __init__(self, mode: str = "lstm", **kwargs):
        super().__init__()
        cls = {"lstm": mx.gluon.rnn.LSTM, "gru": mx.gluon.rnn.GRU}[mode]
        self.rnn = cls(6, input_size=4, layout="NTC", **kwargs)
        self.out = mx.gluon.nn.Dense(3, flatten=False, in_units=6 * (
            2 if kwargs.get("bidirectional") else 1))

    def hybrid_forward(self, F, x):
        return self.out(self.rnn(x))


def test_gluon_lstm_tagger_matches_mxnet_by_the_layer_check_and_round_trip(tmp_path):
    from conformance.coreml_numpy import oracle_defects, run_numpy

    mx.random.seed(3)
    net = _Tagger(num_layers=2, bidirectional=True)
    net.initialize(mx.init.Uniform(0.5))
    net.hybridize()
    x = np.random.default_rng(3).normal(size=(2, 7, 4)).astype(np.float32)
    expected = net(mx.nd.array(x)).asnumpy()
    path = serde.export_model(net, output_format="coreml", filename_prefix=str(tmp_path / "tag"),
                              input_shapes=[x.shape])
    spec = serde.to_coreml(net, input_shapes=[x.shape])
    kinds = [layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers]
    assert kinds.count("biDirectionalLSTM") == 2 and spec.specificationVersion == 1
    assert any("recurrent" in d for d in oracle_defects(spec))
    (got,) = run_numpy(spec, {spec.description.input[0].name: x}).values()
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-4, atol=1e-5)
    back = serde.import_model(path, input_format="coreml")
    np.testing.assert_allclose(back(mx.nd.array(x)).asnumpy().reshape(expected.shape), expected,
                               rtol=1e-5, atol=1e-6)
    # the batch stays free: batch 5 through the same imported block
    x5 = np.random.default_rng(4).normal(size=(5, 7, 4)).astype(np.float32)
    np.testing.assert_allclose(back(mx.nd.array(x5)).asnumpy().reshape(5, 7, 3),
                               net(mx.nd.array(x5)).asnumpy(), rtol=1e-5, atol=1e-6)


def test_recurrent_models_core_ml_cannot_hold_are_named(tmp_path):
    gru = _Tagger("gru")
    gru.initialize()
    gru.hybridize()
    gru(mx.nd.ones((2, 5, 4)))
    with pytest.raises(serde.ConversionError, match="gru.*reset gate"):
        serde.export_model(gru, output_format="coreml", filename_prefix=str(tmp_path / "g"),
                           input_shapes=[(2, 5, 4)])
    assert not list(tmp_path.iterdir())
    data = mx.sym.var("data")  # a (T, N, C) input: Core ML's batch axis is not the sequence
    lstm = mx.sym.RNN(data, mx.sym.var("p"), mx.sym.zeros((1, 2, 3)), mx.sym.zeros((1, 2, 3)),
                      state_size=3, num_layers=1, mode="lstm")
    with pytest.raises(serde.ConversionError, match="layout='NTC'"):
        serde.to_coreml(lstm, ({"p": mx.nd.ones((4 * 3 * (4 + 3 + 2),))}, {}),
                        input_shapes={"data": (5, 2, 4)})


def test_the_same_model_gives_a_byte_identical_file(small_net, tmp_path):
    # the metadata is a protobuf map, whose order follows the process's string hashing
    small_net.hybridize()
    small_net(mx.nd.zeros(SHAPE))
    small_net.export(str(tmp_path / "net"))
    written = []
    for seed in ("1", "2"):
        (tmp_path / seed).mkdir()
        target = tmp_path / seed / "net.mlmodel"  # the file name is the model's name
        out = subprocess.run([sys.executable, "-m", "serde", "export",
                              str(tmp_path / "net-symbol.json"), str(tmp_path / "net-0000.params"),
                              "-o", str(target), "--to", "coreml",
                              "--input-shape", "data:1,3,16,16"],
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.returncode == 0, out.stderr
        written.append(target.read_bytes())
    assert written[0] == written[1]
