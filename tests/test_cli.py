import mxnet as mx
import numpy as np
import onnx

from serde.cli import main

from .conftest import ort_run


def _save_model(tmp_path):
    data = mx.sym.var("data")
    sym = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    arg = {"fc_weight": mx.nd.array(np.arange(12).reshape(3, 4) / 10),
           "fc_bias": mx.nd.array([1.0, 2.0, 3.0])}
    sym.save(str(tmp_path / "m-symbol.json"))
    mx.nd.save(str(tmp_path / "m-0000.params"), {f"arg:{k}": v for k, v in arg.items()})
    return arg


def test_cli_export_and_inspect(tmp_path, capsys):
    arg = _save_model(tmp_path)
    out = tmp_path / "m.onnx"
    rc = main(["export", str(tmp_path / "m-symbol.json"), str(tmp_path / "m-0000.params"),
               "-o", str(out), "--opset", "17", "--input-shape", "data:2,4", "--dynamic-batch"])
    assert rc == 0 and out.exists()
    model = onnx.load(out)
    assert model.opset_import[0].version == 17
    x = np.ones((5, 4), dtype=np.float32)
    (y,) = ort_run(out, {"data": x})
    np.testing.assert_allclose(y, x @ arg["fc_weight"].asnumpy().T + arg["fc_bias"].asnumpy(),
                               rtol=1e-6)
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "data: float[batch, 4]" in text and "Gemm" in text and "mxnet-serde" in text


def test_cli_reports_errors(tmp_path, capsys):
    _save_model(tmp_path)
    rc = main(["export", str(tmp_path / "m-symbol.json"), str(tmp_path / "m-0000.params"),
               "-o", str(tmp_path / "m.onnx"), "--input-shape", "data:2,5"])
    assert rc == 2
    assert "do not fit" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_cli_import_round_trip(tmp_path, capsys):
    arg = _save_model(tmp_path)
    onnx_path = tmp_path / "m.onnx"
    assert main(["export", str(tmp_path / "m-symbol.json"), str(tmp_path / "m-0000.params"),
                 "-o", str(onnx_path), "--input-shape", "data:2,4"]) == 0
    assert main(["import", str(onnx_path), "-o", str(tmp_path / "back")]) == 0
    sym = mx.sym.load(str(tmp_path / "back-symbol.json"))
    saved = mx.nd.load(str(tmp_path / "back-0000.params"))
    assert all(k.startswith(("arg:", "aux:")) for k in saved)
    mod = mx.mod.Module(sym, data_names=["data"], label_names=None)
    mod.bind(for_training=False, data_shapes=[("data", (2, 4))])
    mod.set_params({k[4:]: v for k, v in saved.items() if k.startswith("arg:")},
                   {k[4:]: v for k, v in saved.items() if k.startswith("aux:")})
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    expected = x @ arg["fc_weight"].asnumpy().T + arg["fc_bias"].asnumpy()
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), expected, rtol=1e-6)


def test_cli_import_reports_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07not a model")
    assert main(["import", str(bad), "-o", str(tmp_path / "x")]) == 2
    assert "serde: error" in capsys.readouterr().err
    assert not (tmp_path / "x-symbol.json").exists()
