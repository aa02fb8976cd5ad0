"""The public export API: input kinds, naming, metadata, determinism, files, bad input."""
import json
from pathlib import Path

import mxnet as mx
import numpy as np
import onnx
import pytest

import serde
from serde.onnx import DEFAULT_EXPORT_OPSET

from .conftest import ort_run

SHAPE = (1, 3, 8, 8)


def _mx_out(net, x):
    return net(mx.nd.array(x)).asnumpy()


@pytest.mark.parametrize("hybridize", [False, True], ids=["imperative", "hybridized"])
def test_gluon_block_exports_and_matches(small_net, tmp_path, rng, hybridize):
    if hybridize:
        small_net.hybridize()
    x = rng.standard_normal(SHAPE).astype(np.float32)
    path = serde.export_model(small_net, filename_prefix=tmp_path / "net",
                              input_shapes={"data": SHAPE})
    assert path == tmp_path / "net.onnx" and path.exists()
    (out,) = ort_run(path, {"data": x})
    np.testing.assert_allclose(out, _mx_out(small_net, x), rtol=1e-4, atol=1e-5)


def test_names_are_kept_and_weights_are_not_inputs(small_net, tmp_path):
    _, model = serde.export_model(small_net, filename_prefix=tmp_path / "net",
                                  input_shapes={"data": SHAPE}, return_model=True)
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    assert [i.name for i in graph.input] == ["data"]
    assert not initializers & {i.name for i in graph.input}
    param_names = set(small_net.collect_params().keys())
    assert param_names == initializers - {n for n in initializers if n.endswith("_ones")}
    assert [o.name for o in graph.output] == ["small_dense0_fwd_output"]


def test_metadata_and_checker(small_net, tmp_path):
    _, model = serde.export_model(small_net, filename_prefix=tmp_path / "net",
                                  input_shapes={"data": SHAPE}, return_model=True)
    assert model.producer_name == "mxnet-serde"
    assert model.producer_version == serde.__version__
    props = {p.key: p.value for p in model.metadata_props}
    assert props["source_framework"] == "mxnet"
    assert props["source_framework_version"] == mx.__version__
    assert model.doc_string
    assert model.opset_import[0].version == DEFAULT_EXPORT_OPSET
    onnx.checker.check_model(model, full_check=True)


def test_export_is_byte_identical(small_net, tmp_path):
    a = serde.export_model(small_net, filename_prefix=tmp_path / "a", input_shapes=[SHAPE])
    b = serde.export_model(small_net, filename_prefix=tmp_path / "a2", input_shapes=[SHAPE])
    model_a, model_b = onnx.load(a), onnx.load(b)
    # the graph name follows the file name; everything else must be identical
    model_b.graph.name = model_a.graph.name
    model_b.doc_string = model_a.doc_string
    assert model_a.SerializeToString() == model_b.SerializeToString()
    (tmp_path / "c").mkdir()
    c = serde.export_model(small_net, filename_prefix=tmp_path / "c" / "a", input_shapes=[SHAPE])
    assert a.read_bytes() == c.read_bytes()


def test_exports_write_only_where_asked(small_net, tmp_path):
    """No folders are made: a missing, read-only or file-shaped folder, or a folder where the
    file should go, is a named error before any work, and leaves nothing behind."""
    import os

    (tmp_path / "a_file").write_text("x")
    (tmp_path / "m.onnx").mkdir()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    cases = {tmp_path / "missing" / "m": "does not exist", tmp_path / "a_file" / "m": "is a file",
             tmp_path / "m": "is a folder", tmp_path / "nul\0m": "NUL"}
    if os.geteuid() != 0:  # root writes anywhere
        cases[locked / "m"] = "not writable"
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for prefix, message in cases.items():
        with pytest.raises(serde.InvalidModelError, match=message):
            serde.export_model(small_net, filename_prefix=prefix, input_shapes=[SHAPE])
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_to_onnx_returns_model_without_writing(small_net, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = serde.onnx.to_onnx(small_net, input_shapes={"data": SHAPE})
    assert isinstance(model, onnx.ModelProto)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("opset", [13, 17, DEFAULT_EXPORT_OPSET])
def test_dynamic_batch(small_net, tmp_path, rng, opset):
    path = serde.export_model(small_net, filename_prefix=tmp_path / "net",
                              input_shapes={"data": SHAPE}, dynamic_batch=True,
                              opset_version=opset)
    model = onnx.load(path)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for batch in (1, 3):
        x = rng.standard_normal((batch,) + SHAPE[1:]).astype(np.float32)
        (out,) = ort_run(path, {"data": x})
        np.testing.assert_allclose(out, _mx_out(small_net, x), rtol=1e-4, atol=1e-5)


def test_named_dynamic_axes(tmp_path, rng):
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(2, 3, padding=1), mx.gluon.nn.GlobalAvgPool2D(),
            mx.gluon.nn.Flatten())
    net.initialize()
    path = serde.export_model(net, filename_prefix=tmp_path / "net",
                              input_shapes={"data": (1, 3, 8, 8)},
                              dynamic_axes={"data": {0: "n", 2: "h", 3: "w"}})
    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["n", 3, "h", "w"]
    x = rng.standard_normal((2, 3, 5, 11)).astype(np.float32)
    (out,) = ort_run(path, {"data": x})
    np.testing.assert_allclose(out, _mx_out(net, x), rtol=1e-4, atol=1e-5)


def _symbol_model():
    data = mx.sym.var("data")
    conv = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv")
    bn = mx.sym.BatchNorm(conv, fix_gamma=False, name="bn")
    fc = mx.sym.FullyConnected(mx.sym.Activation(bn, act_type="relu"), num_hidden=3, name="fc")
    sym = mx.sym.SoftmaxOutput(fc, name="softmax")
    mod = mx.mod.Module(sym, data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=[("data", SHAPE)], label_shapes=[("softmax_label", (1,))],
             for_training=False)
    mx.random.seed(3)
    mod.init_params(mx.init.Xavier())
    return sym, mod


def _module_out(mod, x):
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    return mod.get_outputs()[0].asnumpy()


def test_module_export(tmp_path, rng):
    sym, mod = _symbol_model()
    x = rng.standard_normal(SHAPE).astype(np.float32)
    path = serde.module.export(mod, filename_prefix=tmp_path / "mod")
    model = onnx.load(path)
    assert [i.name for i in model.graph.input] == ["data"]  # the label is training-only
    (out,) = ort_run(path, {"data": x})
    np.testing.assert_allclose(out, _module_out(mod, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("params_kind", ["dict", "pair", "file", "prefixed_dict"])
def test_symbol_and_params_forms(tmp_path, rng, params_kind):
    sym, mod = _symbol_model()
    arg, aux = mod.get_params()
    sym_file = tmp_path / "m-symbol.json"
    sym.save(str(sym_file))
    prefixed = {**{f"arg:{k}": v for k, v in arg.items()}, **{f"aux:{k}": v for k, v in aux.items()}}
    if params_kind == "dict":
        params = {**arg, **aux}
    elif params_kind == "pair":
        params = (arg, aux)
    elif params_kind == "prefixed_dict":
        params = prefixed
    else:
        params = tmp_path / "m-0000.params"
        mx.nd.save(str(params), prefixed)
    obj = sym_file if params_kind == "file" else sym
    path = serde.export_model(obj, params, filename_prefix=tmp_path / "m",
                              input_shapes={"data": SHAPE})
    x = rng.standard_normal(SHAPE).astype(np.float32)
    (out,) = ort_run(path, {"data": x})
    np.testing.assert_allclose(out, _module_out(mod, x), rtol=1e-4, atol=1e-5)


def test_external_data_for_large_models(small_net, tmp_path, rng):
    path = serde.export_model(small_net, filename_prefix=tmp_path / "big",
                              input_shapes={"data": SHAPE}, external_data_threshold=1)
    data_file = tmp_path / "big.onnx.data"
    assert data_file.exists() and data_file.stat().st_size > 0
    model = onnx.load(path, load_external_data=False)
    assert any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    onnx.checker.check_model(str(path), full_check=True)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    (out,) = ort_run(path, {"data": x})
    np.testing.assert_allclose(out, _mx_out(small_net, x), rtol=1e-4, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.onnx", "big.onnx.data"]


# --- bad input ----------------------------------------------------------------------------------

def test_unsupported_ops_are_all_listed():
    data = mx.sym.var("data")
    x = mx.sym.Correlation(data, data, name="corr1")
    y = mx.sym.Correlation(x, x, name="corr2")
    z = mx.sym.contrib.count_sketch(mx.sym.flatten(y), mx.sym.var("h"), mx.sym.var("s"),
                                    out_dim=4, name="sketch")
    with pytest.raises(serde.UnsupportedOperatorError) as info:
        serde.onnx.to_onnx(z, {}, input_shapes={"data": (1, 2, 9, 9), "h": (1, 225),
                                                "s": (1, 225)})
    message = str(info.value)
    assert info.value.ops == ["Correlation", "_contrib_count_sketch"]
    for name in ("corr1", "corr2", "sketch"):
        assert name in message
    assert f"opset {DEFAULT_EXPORT_OPSET}" in message


def test_unbound_module_is_rejected():
    sym, _ = _symbol_model()
    mod = mx.mod.Module(sym, data_names=["data"], label_names=["softmax_label"])
    with pytest.raises(serde.InvalidModelError, match="not bound"):
        serde.onnx.to_onnx(mod)


def test_missing_params_are_named():
    sym, mod = _symbol_model()
    arg, aux = mod.get_params()
    del arg["fc_weight"]
    with pytest.raises(serde.SerdeError, match="fc_weight"):
        serde.onnx.to_onnx(sym, (arg, aux), input_shapes={"data": SHAPE})


def test_extra_params_are_named():
    sym, mod = _symbol_model()
    arg, aux = mod.get_params()
    arg["stray_weight"] = mx.nd.ones((2,))
    with pytest.raises(serde.InvalidModelError, match="stray_weight"):
        serde.onnx.to_onnx(sym, (arg, aux), input_shapes={"data": SHAPE})


def test_shapes_that_do_not_fit():
    sym, mod = _symbol_model()
    with pytest.raises(serde.InvalidModelError, match="do not fit"):
        serde.onnx.to_onnx(sym, mod.get_params(), input_shapes={"data": (1, 5, 8, 8)})


def test_missing_input_shapes():
    sym, mod = _symbol_model()
    with pytest.raises(serde.InvalidModelError, match="data"):
        serde.onnx.to_onnx(sym, mod.get_params())


def test_uninitialised_block():
    net = mx.gluon.nn.Dense(3)
    with pytest.raises(serde.InvalidModelError, match="not initialised"):
        serde.onnx.to_onnx(net, input_shapes={"data": (1, 4)})


def test_deferred_init_block_is_completed():
    net = mx.gluon.nn.Dense(3)
    net.initialize()
    model = serde.onnx.to_onnx(net, input_shapes={"data": (2, 4)})
    assert {t.name for t in model.graph.initializer} == {"dense0_weight", "dense0_bias"} or \
        len(model.graph.initializer) == 2


@pytest.mark.parametrize("opset", [12, DEFAULT_EXPORT_OPSET + 1])
def test_opset_out_of_range(small_net, opset):
    with pytest.raises(serde.InvalidModelError, match="opset"):
        serde.onnx.to_onnx(small_net, input_shapes={"data": SHAPE}, opset_version=opset)


def test_failed_export_leaves_no_file_and_keeps_existing(tmp_path):
    target = tmp_path / "m.onnx"
    target.write_bytes(b"precious")
    data = mx.sym.var("data")
    bad = mx.sym.Correlation(data, data, name="corr")
    with pytest.raises(serde.UnsupportedOperatorError):
        serde.export_model(bad, {}, filename_prefix=tmp_path / "m",
                           input_shapes={"data": (1, 2, 5, 5)})
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_atomic_write_cleans_up_on_error(tmp_path, small_net, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(onnx.ModelProto, "SerializeToString", boom)
    with pytest.raises(serde.SerdeError, match="disk full") as info:
        serde.export_model(small_net, filename_prefix=tmp_path / "m", input_shapes=[SHAPE])
    assert isinstance(info.value.__cause__, OSError)
    assert list(tmp_path.iterdir()) == []


def test_not_a_model():
    with pytest.raises(serde.InvalidModelError):
        serde.onnx.to_onnx(42)


def test_missing_symbol_file(tmp_path):
    with pytest.raises(serde.InvalidModelError, match="does not exist"):
        serde.onnx.to_onnx(tmp_path / "nope-symbol.json", {}, input_shapes={"data": (1,)})


def test_install_attaches_without_replacing():
    added = serde.install()
    assert mx.serde is serde
    assert mx.gluon.import_from is serde.gluon.import_from
    assert callable(mx.mod.Module.export_to)
    assert serde.install() == []  # idempotent, never replaces
    assert set(added) <= {"mx.serde", "mx.gluon.import_from", "mx.gluon.export_to",
                          "mx.mod.Module.import_from", "mx.mod.Module.export_to"}


def test_module_export_to_via_install(tmp_path):
    serde.install()
    _, mod = _symbol_model()
    path = mod.export_to("onnx", filename_prefix=tmp_path / "viamx")
    assert Path(path).exists()


@pytest.mark.parametrize("broken", ["symbol", "params"])
def test_malformed_mxnet_files(tmp_path, broken):
    sym, mod = _symbol_model()
    sym_file, params_file = tmp_path / "m-symbol.json", tmp_path / "m-0000.params"
    sym.save(str(sym_file))
    arg, aux = mod.get_params()
    mx.nd.save(str(params_file), {**{f"arg:{k}": v for k, v in arg.items()},
                                  **{f"aux:{k}": v for k, v in aux.items()}})
    target = sym_file if broken == "symbol" else params_file
    target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 2])  # truncated
    with pytest.raises(serde.InvalidModelError, match=f"{broken if broken == 'symbol' else 'parameter'} file .*m-") as info:
        serde.export_model(sym_file, params_file, filename_prefix=tmp_path / "m",
                           input_shapes={"data": SHAPE})
    assert "Traceback" not in str(info.value)
    assert not (tmp_path / "m.onnx").exists()


# Regression cases of the fuzz campaign: files MXNet's own loaders crash the interpreter on.
def _saved_model(tmp_path):
    sym, mod = _symbol_model()
    arg, aux = mod.get_params()
    params = tmp_path / "m-0000.params"
    mx.nd.save(str(params), {**{f"arg:{k}": v for k, v in arg.items()},
                             **{f"aux:{k}": v for k, v in aux.items()}})
    return json.loads(sym.tojson()), params


@pytest.mark.parametrize("mutation", ["output_index", "huge_output_index", "num_group_0",
                                      "stride_0", "non_string_attr", "node_before_input",
                                      "no_heads"])
def test_symbol_json_mxnet_would_crash_on_is_named(tmp_path, mutation):
    import subprocess
    import sys

    graph, params = _saved_model(tmp_path)
    ops = [k for k, n in enumerate(graph["nodes"]) if n["op"] != "null"]
    first, last = graph["nodes"][ops[0]], graph["nodes"][ops[-1]]
    if mutation == "output_index":
        last["inputs"][0][1] = 7  # output #7 of a one-output node: a segfault in MXNet
    elif mutation == "huge_output_index":
        last["inputs"][0][1] = 10**9
    elif mutation in ("num_group_0", "stride_0"):
        conv = next(n for n in graph["nodes"] if n["op"] in ("Convolution", "FullyConnected"))
        conv["op"] = "Convolution"
        conv.setdefault("attrs", {}).update({"kernel": "(1, 1)", "num_filter": "2"})
        conv["attrs"]["num_group" if mutation == "num_group_0" else "stride"] = \
            "0" if mutation == "num_group_0" else "(0, 1)"
    elif mutation == "non_string_attr":
        first.setdefault("attrs", {})["num_hidden"] = 3
    elif mutation == "node_before_input":
        first["inputs"][0][0] = len(graph["nodes"]) + 2
    else:
        graph["heads"] = []
    sym_file = tmp_path / "m-symbol.json"
    sym_file.write_text(json.dumps(graph))
    # in a child: a crash must show as a dead child, not take the test run down
    code = (f"import serde\ntry:\n    serde.export_model({str(sym_file)!r}, {str(params)!r}, "
            f"filename_prefix={str(tmp_path / 'm')!r}, input_shapes={{'data': {SHAPE}}})\n"
            f"except serde.InvalidModelError as e:\n    print('NAMED', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "NAMED" in out.stdout, (out.returncode, out.stderr[-500:])
    assert not (tmp_path / "m.onnx").exists()


def test_corrupted_params_header_is_named_before_mxnet_reads_it(tmp_path):
    _, params = _saved_model(tmp_path)
    raw = params.read_bytes()
    for k, broken in enumerate([raw[:40] + bytes(range(37)) + raw[40:],  # a shifted array
                                raw + b"\x00" * 9, raw[:-3]]):
        path = tmp_path / f"b{k}.params"
        path.write_bytes(broken)
        with pytest.raises(serde.InvalidModelError, match="corrupted|truncated"):
            serde.export_model(_symbol_model()[0], path, filename_prefix=tmp_path / "m",
                               input_shapes={"data": SHAPE})
