"""Converters beyond the common families (recurrent layers, GridSample, CumProd), checked
against onnxruntime on attribute combinations the ONNX node suite does not cover."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

ort = pytest.importorskip("onnxruntime")

F = TensorProto.FLOAT


def _model(node, inputs, outputs, opset):
    graph = helper.make_graph([node], "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _ort(model, feeds):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _compare(model, feeds, rtol=1e-4, atol=1e-5, want=None):
    import serde.onnx.backend as backend
    want = _ort(model, feeds) if want is None else want
    rep = backend.prepare(model, "CPU")
    got = rep.run([feeds[i.name] for i in model.graph.input])
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        g = np.asarray(g)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def _rnn_case(op, gates, *, T=4, B=3, I=2, H=5, dirs=1, layout=0, seq_lens=None,  # noqa: E741
              extra_inputs=(), opset=14, **attrs):
    rng = np.random.default_rng(0)
    feeds = {"X": rng.standard_normal((T, B, I)).astype(np.float32),
             "W": (rng.standard_normal((dirs, gates * H, I)) * 0.5).astype(np.float32),
             "R": (rng.standard_normal((dirs, gates * H, H)) * 0.5).astype(np.float32),
             "B": (rng.standard_normal((dirs, 2 * gates * H)) * 0.5).astype(np.float32)}
    names = ["X", "W", "R", "B"]
    inputs = [_vi(n, feeds[n].shape) for n in names]
    if seq_lens is not None:
        feeds["sequence_lens"] = np.asarray(seq_lens, np.int32)
        inputs.append(_vi("sequence_lens", [B], TensorProto.INT32))
    names.append("sequence_lens" if seq_lens is not None else "")
    state = (B, dirs, H) if layout else (dirs, B, H)
    for name in extra_inputs:
        if name == "P":
            feeds[name] = rng.standard_normal((dirs, 3 * H)).astype(np.float32)
        else:
            feeds[name] = rng.standard_normal((dirs, B, H)).astype(np.float32)
        inputs.append(_vi(name, feeds[name].shape))
    order = ["initial_h", "initial_c", "P"] if op == "LSTM" else ["initial_h"]
    for name in order:
        names.append(name if name in extra_inputs else "")
    while names and not names[-1]:
        names.pop()
    outs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    direction = {1: "forward", 2: "bidirectional"}[dirs] if "direction" not in attrs else None
    if direction:
        attrs["direction"] = direction
    if layout:
        attrs["layout"] = layout
    node = helper.make_node(op, names, outs, hidden_size=H, **attrs)
    y = (B, T, dirs, H) if layout else (T, dirs, B, H)
    outputs = [_vi("Y", y)] + [_vi(o, state) for o in outs[1:]]
    model = _model(node, inputs, outputs, opset)
    if not layout:
        return model, feeds, None
    # onnxruntime has no batch-major recurrent kernels: the oracle is the time-major model
    # on the same numbers, its outputs transposed
    plain, _, _ = _rnn_case(op, gates, T=T, B=B, I=I, H=H, dirs=dirs, seq_lens=seq_lens,
                            extra_inputs=extra_inputs, opset=opset,
                            **{k: v for k, v in attrs.items() if k != "layout"})
    want = _ort(plain, feeds)
    want = [np.transpose(want[0], (2, 0, 1, 3))] + [np.transpose(w, (1, 0, 2))
                                                    for w in want[1:]]
    feeds = {k: (np.swapaxes(v, 0, 1) if k in ("X", "initial_h", "initial_c") else v)
             for k, v in feeds.items()}
    return model, feeds, want


@pytest.mark.parametrize("kwargs", [
    dict(dirs=2, seq_lens=[4, 2, 1], extra_inputs=("initial_h", "initial_c", "P")),
    dict(direction="reverse", seq_lens=[3, 4, 1], clip=0.7),
    dict(input_forget=1, extra_inputs=("initial_h",)),
    dict(layout=1, dirs=2, extra_inputs=("initial_h", "initial_c")),
    dict(activations=["HardSigmoid", "LeakyRelu", "Softsign"], activation_alpha=[0.3, 0.05],
         activation_beta=[0.4]),
])
def test_lstm_against_onnxruntime(kwargs):
    model, feeds, want = _rnn_case("LSTM", 4, **kwargs)
    _compare(model, feeds, want=want)


@pytest.mark.parametrize("kwargs", [
    dict(dirs=2, seq_lens=[4, 2, 1], extra_inputs=("initial_h",)),
    dict(linear_before_reset=1, direction="reverse", seq_lens=[2, 4, 3]),
    dict(linear_before_reset=1, layout=1, clip=0.5),
    dict(activations=["Sigmoid", "Relu", "Elu", "Tanh"], activation_alpha=[0.5], dirs=2),
])
def test_gru_against_onnxruntime(kwargs):
    model, feeds, want = _rnn_case("GRU", 3, **kwargs)
    _compare(model, feeds, want=want)


@pytest.mark.parametrize("kwargs", [
    dict(dirs=2, seq_lens=[1, 4, 3], extra_inputs=("initial_h",)),
    dict(activations=["Relu"], direction="reverse", layout=1),
    dict(activations=["Affine", "ScaledTanh"], activation_alpha=[0.5, 2.0],
         activation_beta=[0.1, 0.7], dirs=2),
])
def test_rnn_against_onnxruntime(kwargs):
    model, feeds, want = _rnn_case("RNN", 1, **kwargs)
    _compare(model, feeds, want=want)


def _grid_case(mode, padding, align, opset, spatial=(4, 5), out=(3, 6), ties=False):
    rng = np.random.default_rng(1)
    k = len(spatial)
    x = rng.standard_normal((2, 3) + spatial).astype(np.float32)
    grid = rng.uniform(-1.8, 1.8, (2,) + out + (k,)).astype(np.float32)
    if ties:   # coordinates landing exactly on pixel halves: round-half-to-even for nearest
        sizes = np.array(spatial[::-1], np.float32)
        steps = rng.integers(-2 * sizes.max(), 2 * sizes.max(), grid.shape).astype(np.float32)
        grid = (steps / sizes).astype(np.float32) if not align else \
            (steps / (2 * (sizes - 1)) * 2 / 2).astype(np.float32)
    node = helper.make_node("GridSample", ["X", "Grid"], ["Y"], mode=mode,
                            padding_mode=padding, align_corners=int(align))
    model = _model(node, [_vi("X", x.shape), _vi("Grid", grid.shape)],
                   [_vi("Y", (2, 3) + out)], opset)
    return model, {"X": x, "Grid": grid}


@pytest.mark.parametrize("mode", ["linear", "nearest", "cubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_gridsample_2d_against_onnxruntime(mode, padding, align):
    model, feeds = _grid_case(mode, padding, align, 20)
    want = None
    if mode == "cubic" and padding == "border":
        # onnxruntime clamps only the tap indices (PyTorch's way); the ONNX reference, which
        # produced the node-suite data, clamps the coordinate first: we follow the reference
        from onnx.reference import ReferenceEvaluator
        want = ReferenceEvaluator(model).run(None, feeds)
    _compare(model, feeds, want=want)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_gridsample_opset16_names(mode):
    _compare(*_grid_case(mode, "zeros", False, 16))


@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_gridsample_nearest_ties_against_onnxruntime(padding, align):
    _compare(*_grid_case("nearest", padding, align, 22, ties=True))


@pytest.mark.parametrize("mode", ["linear", "nearest"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_gridsample_3d_against_onnxruntime(mode, padding):
    _compare(*_grid_case(mode, padding, False, 20, spatial=(3, 4, 5), out=(2, 3, 4)))


def _np_cumprod(x, axis, exclusive, reverse):
    y = np.flip(x, axis) if reverse else x
    out = np.cumprod(y, axis=axis, dtype=x.dtype)
    if exclusive:
        ones = np.ones_like(np.take(out, [0], axis=axis))
        out = np.concatenate([ones, np.take(out, range(out.shape[axis] - 1), axis=axis)], axis)
    return np.flip(out, axis) if reverse else out


@pytest.mark.parametrize("dtype,elem", [(np.float32, TensorProto.FLOAT),
                                        (np.float64, TensorProto.DOUBLE),
                                        (np.int32, TensorProto.INT32),
                                        (np.int64, TensorProto.INT64)])
@pytest.mark.parametrize("shape,axis", [((1,), 0), ((17,), 0), ((3, 9, 2), 1), ((5, 4), -2),
                                        ((2, 3, 33), -1)])
@pytest.mark.parametrize("exclusive,reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_cumprod_against_numpy(dtype, elem, shape, axis, exclusive, reverse):
    import serde.onnx.backend as backend
    rng = np.random.default_rng(2)
    if np.dtype(dtype).kind == "i":   # large enough to wrap around: integer products are exact
        x = rng.integers(-9, 10, shape).astype(dtype)
    else:
        x = (rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)).astype(dtype)
    node = helper.make_node("CumProd", ["x", "axis"], ["y"], exclusive=exclusive,
                            reverse=reverse)
    axis_init = helper.make_tensor("axis", TensorProto.INT64, [], [axis])
    graph = helper.make_graph([node], "g", [_vi("x", shape, elem)], [_vi("y", shape, elem)],
                              initializer=[axis_init])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 26)])
    got = np.asarray(backend.prepare(model, "CPU").run([x])[0])
    want = _np_cumprod(x, axis, exclusive, reverse)
    assert got.dtype == want.dtype
    if np.dtype(dtype).kind == "i":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5)


def _np_dft(x, length, axis, inverse, onesided):
    sig = x[..., 0] + (1j * x[..., 1] if x.shape[-1] == 2 else 0)
    if inverse and onesided:
        return np.fft.irfft(sig, n=length, axis=axis)[..., None]
    y = (np.fft.ifft if inverse else np.fft.fft)(sig, n=length, axis=axis)
    if onesided:
        y = np.take(y, range(length // 2 + 1), axis=axis)
    return np.stack([y.real, y.imag], axis=-1)


# A onesided forward DFT takes a real signal: that combination is not a case.
@pytest.mark.parametrize("complex_in,inverse,onesided", [
    (c, i, o) for c in (False, True) for i, o in ((0, 0), (1, 0), (0, 1), (1, 1))
    if not (o and not i and c)])
@pytest.mark.parametrize("n,length", [(8, None), (7, None), (8, 5), (6, 11), (9, 9)])
@pytest.mark.parametrize("opset,axis", [(17, 1), (20, -2), (20, 0)])
def test_dft_against_numpy(complex_in, inverse, onesided, n, length, opset, axis):
    import serde.onnx.backend as backend
    rng = np.random.default_rng(3)
    shape = [3, 4, 2 if complex_in else 1]
    shape[axis % 3] = n
    x = rng.standard_normal(shape).astype(np.float32)
    inputs = ["x", "len" if length else ""]
    inits = [helper.make_tensor("len", TensorProto.INT64, [], [length])] if length else []
    attrs = dict(inverse=inverse, onesided=onesided)
    if opset == 17:
        attrs["axis"] = axis
    else:
        inputs.append("axis")
        inits.append(helper.make_tensor("axis", TensorProto.INT64, [], [axis]))
    eff = length or (2 * (n - 1) if inverse and onesided else n)
    want = _np_dft(x.astype(np.float64), eff, axis % 3, inverse, onesided).astype(np.float32)
    node = helper.make_node("DFT", inputs, ["y"], **attrs)
    graph = helper.make_graph([node], "g", [_vi("x", shape)], [_vi("y", want.shape)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    got = np.asarray(backend.prepare(model, "CPU").run([x])[0])
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("complex_in,onesided,step,frame,window", [
    (False, 1, 8, None, 16), (False, 0, 5, 12, None), (True, 0, 7, None, 10),
    (False, 1, 3, 9, 9)])
def test_stft_against_reference(complex_in, onesided, step, frame, window):
    from onnx.reference import ReferenceEvaluator

    import serde.onnx.backend as backend
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 64, 2 if complex_in else 1)).astype(np.float32)
    feeds = {"signal": x}
    inputs, inits = [_vi("signal", x.shape)], [
        helper.make_tensor("step", TensorProto.INT64, [], [step])]
    names = ["signal", "step", "", ""]
    if window:
        feeds["window"] = rng.uniform(0.1, 1, window).astype(np.float32)
        inputs.append(_vi("window", [window]))
        names[2] = "window"
    if frame:
        inits.append(helper.make_tensor("frame", TensorProto.INT64, [], [frame]))
        names[3] = "frame"
    length = frame or window
    out = (2, 1 + (64 - length) // step, length // 2 + 1 if onesided else length, 2)
    node = helper.make_node("STFT", [n for n in names if n] if not frame else names, ["y"],
                            onesided=onesided)
    graph = helper.make_graph([node], "g", inputs, [_vi("y", out)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    want = ReferenceEvaluator(model).run(None, feeds)
    got = backend.prepare(model, "CPU").run([feeds[i.name] for i in inputs])
    assert np.asarray(got[0]).shape == out
    np.testing.assert_allclose(np.asarray(got[0]), want[0], rtol=1e-4, atol=1e-4)


def _run_both(model, feeds, exact=False):
    """Our import against onnx.reference."""
    from onnx.reference import ReferenceEvaluator

    import serde.onnx.backend as backend
    want = ReferenceEvaluator(model).run(None, feeds)
    got = backend.prepare(model, "CPU").run([feeds[i.name] for i in model.graph.input])
    for g, w in zip(got, want, strict=True):
        g = np.asarray(g)
        assert g.shape == w.shape and g.dtype == w.dtype
        if exact:
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch_axis,time_axis", [(1, 0), (0, 1)])
def test_reverse_sequence(batch_axis, time_axis):
    rng = np.random.default_rng(5)
    shape = [0, 0, 3]
    shape[time_axis], shape[batch_axis] = 6, 5
    x = rng.standard_normal(shape).astype(np.float32)
    lens = np.array([6, 1, 0, 3, 5], np.int64)
    node = helper.make_node("ReverseSequence", ["x", "lens"], ["y"], batch_axis=batch_axis,
                            time_axis=time_axis)
    model = _model(node, [_vi("x", shape), _vi("lens", [5], TensorProto.INT64)],
                   [_vi("y", shape)], 10)
    _run_both(model, {"x": x, "lens": lens}, exact=True)


@pytest.mark.parametrize("a_zp,b_zp", [(None, None), ("scalar", "scalar"), ("row", "col")])
def test_matmul_integer(a_zp, b_zp):
    rng = np.random.default_rng(6)
    a = rng.integers(0, 256, (4, 7)).astype(np.uint8)
    b = rng.integers(-128, 128, (7, 3)).astype(np.int8)
    feeds = {"a": a, "b": b}
    inputs = [_vi("a", a.shape, TensorProto.UINT8), _vi("b", b.shape, TensorProto.INT8)]
    names = ["a", "b", "", ""]
    if a_zp:
        feeds["azp"] = (np.array(12, np.uint8) if a_zp == "scalar"
                        else rng.integers(0, 256, 4).astype(np.uint8))
        inputs.append(_vi("azp", feeds["azp"].shape, TensorProto.UINT8))
        names[2] = "azp"
    if b_zp:
        feeds["bzp"] = (np.array(-5, np.int8) if b_zp == "scalar"
                        else rng.integers(-128, 128, 3).astype(np.int8))
        inputs.append(_vi("bzp", feeds["bzp"].shape, TensorProto.INT8))
        names[3] = "bzp"
    while not names[-1]:
        names.pop()
    node = helper.make_node("MatMulInteger", names, ["y"])
    model = _model(node, inputs, [_vi("y", [4, 3], TensorProto.INT32)], 10)
    import serde.onnx.backend as backend
    got = np.asarray(backend.prepare(model, "CPU").run([feeds[i.name] for i in inputs])[0])
    a32 = a.astype(np.int32) - (feeds["azp"].astype(np.int32).reshape(-1, 1) if a_zp else 0)
    b32 = b.astype(np.int32) - (feeds["bzp"].astype(np.int32) if b_zp else 0)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, a32 @ b32)


@pytest.mark.parametrize("attrs", [dict(pads=[1, 0, 2, 1]), dict(strides=[2, 1], group=2),
                                   dict(auto_pad="SAME_UPPER", dilations=[2, 2])])
def test_conv_integer(attrs):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (2, 4, 6, 5)).astype(np.uint8)
    group = attrs.get("group", 1)
    w = rng.integers(0, 256, (6, 4 // group, 3, 3)).astype(np.uint8)
    feeds = {"x": x, "w": w, "xzp": np.array(100, np.uint8)}
    inputs = [_vi("x", x.shape, TensorProto.UINT8), _vi("w", w.shape, TensorProto.UINT8),
              _vi("xzp", [], TensorProto.UINT8)]
    node = helper.make_node("ConvInteger", ["x", "w", "xzp"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", inputs,
                              [_vi("y", ["n", "c", "h", "w"], TensorProto.INT32)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)])
    _run_both(model, feeds, exact=True)


def test_det_batched():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    node = helper.make_node("Det", ["x"], ["y"])
    model = _model(node, [_vi("x", x.shape)], [_vi("y", [2, 3])], 22)
    _run_both(model, {"x": x})


@pytest.mark.parametrize("qtype,elem", [(np.uint8, TensorProto.UINT8),
                                        (np.int8, TensorProto.INT8)])
@pytest.mark.parametrize("per_axis", [False, True])
def test_qlinear_matmul(qtype, elem, per_axis):
    rng = np.random.default_rng(9)
    info = np.iinfo(qtype)
    a = rng.integers(info.min, info.max + 1, (2, 4, 6)).astype(qtype)
    b = rng.integers(info.min, info.max + 1, (6, 3)).astype(qtype)
    m, n = (4, 3) if per_axis else (1, 1)
    feeds = {"a": a, "a_scale": rng.uniform(0.001, 0.01, m).astype(np.float32),
             "a_zp": rng.integers(info.min, info.max + 1, m).astype(qtype), "b": b,
             "b_scale": rng.uniform(0.001, 0.01, n).astype(np.float32),
             "b_zp": rng.integers(info.min, info.max + 1, n).astype(qtype),
             "y_scale": np.array([0.02], np.float32),
             "y_zp": np.array([3], qtype)}
    names = ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"]
    inputs = [_vi(k, feeds[k].shape, elem if feeds[k].dtype == qtype else F) for k in names]
    node = helper.make_node("QLinearMatMul", names, ["y"])
    model = _model(node, inputs, [_vi("y", [2, 4, 3], elem)], 21)
    import serde.onnx.backend as backend
    got = np.asarray(backend.prepare(model, "CPU").run([feeds[k] for k in names])[0])
    a32 = a.astype(np.int64) - feeds["a_zp"].astype(np.int64).reshape(-1, 1)
    b32 = b.astype(np.int64) - feeds["b_zp"].astype(np.int64)
    mult = feeds["a_scale"].reshape(-1, 1) * feeds["b_scale"] / feeds["y_scale"]
    want = np.clip(np.rint((a32 @ b32) * mult.astype(np.float64) + 3), info.min, info.max)
    assert got.dtype == qtype
    np.testing.assert_array_equal(got, want.astype(qtype))


@pytest.mark.parametrize("per_channel", [False, True])
def test_qlinear_conv(per_channel):
    rng = np.random.default_rng(10)
    x = rng.integers(0, 256, (1, 2, 5, 5)).astype(np.uint8)
    w = rng.integers(0, 256, (3, 2, 3, 3)).astype(np.uint8)
    c = 3 if per_channel else 1
    feeds = {"x": x, "x_scale": np.array(0.01, np.float32), "x_zp": np.array(120, np.uint8),
             "w": w, "w_scale": rng.uniform(0.001, 0.01, c).astype(np.float32),
             "w_zp": np.array(128, np.uint8) if not per_channel else
             rng.integers(100, 150, 3).astype(np.uint8),
             "y_scale": np.array(0.05, np.float32), "y_zp": np.array(128, np.uint8),
             "bias": rng.integers(-2000, 2000, 3).astype(np.int32)}
    names = list(feeds)
    types = {np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.float32): F,
             np.dtype(np.int32): TensorProto.INT32}
    inputs = [_vi(k, feeds[k].shape, types[feeds[k].dtype]) for k in names]
    node = helper.make_node("QLinearConv", names, ["y"], pads=[1, 1, 1, 1])
    model = _model(node, inputs, [_vi("y", [1, 3, 5, 5], TensorProto.UINT8)], 10)
    _run_both(model, feeds, exact=True)


@pytest.mark.parametrize("image,block,attrs", [
    ([5, 6], [2, 3], dict(strides=[2, 1], pads=[1, 0, 2, 1], dilations=[1, 2])),
    ([7, 5], [3, 2], dict(strides=[3, 2])),           # blocks leave the last rows uncovered
    ([4, 3, 5], [2, 2, 3], dict(pads=[0, 1, 1, 1, 0, 0])),
])
def test_col2im_against_reference(image, block, attrs):
    n = len(image)
    strides = attrs.get("strides", [1] * n)
    pads = attrs.get("pads", [0] * (2 * n))
    dil = attrs.get("dilations", [1] * n)
    blocks = [(image[i] + pads[i] + pads[n + i] - dil[i] * (block[i] - 1) - 1) // strides[i] + 1
              for i in range(n)]
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 2 * int(np.prod(block)), int(np.prod(blocks)))).astype(np.float32)
    inits = [helper.make_tensor("image", TensorProto.INT64, [n], image),
             helper.make_tensor("block", TensorProto.INT64, [n], block)]
    node = helper.make_node("Col2Im", ["x", "image", "block"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", [_vi("x", x.shape)], [_vi("y", [2, 2] + image)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    _run_both(model, {"x": x})


@pytest.mark.parametrize("attrs,out_shape", [
    (dict(kernel_shape=[2, 2], strides=[2, 2]), None),
    (dict(kernel_shape=[2, 3], strides=[1, 1]), None),   # overlapping windows
    (dict(kernel_shape=[2, 2], strides=[2, 2]), [2, 3, 9, 7]),
])
def test_max_unpool_against_reference(attrs, out_shape):
    from onnx.reference import ReferenceEvaluator
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    pool = helper.make_node("MaxPool", ["x"], ["p", "i"], **attrs)
    pmodel = helper.make_model(helper.make_graph(
        [pool], "g", [_vi("x", x.shape)],
        [_vi("p", ["a", "b", "c", "d"]), _vi("i", ["a", "b", "c", "d"], TensorProto.INT64)]),
        opset_imports=[helper.make_opsetid("", 22)])
    pooled, idx = ReferenceEvaluator(pmodel).run(None, {"x": x})
    feeds = {"p": pooled, "i": idx}
    inputs = [_vi("p", pooled.shape), _vi("i", idx.shape, TensorProto.INT64)]
    names = ["p", "i"]
    if out_shape:
        feeds["shape"] = np.array(out_shape, np.int64)
        inputs.append(_vi("shape", [4], TensorProto.INT64))
        names.append("shape")
    node = helper.make_node("MaxUnpool", names, ["y"], **attrs)
    model = _model(node, inputs, [_vi("y", ["a", "b", "c", "d"])], 22)
    _run_both(model, feeds, exact=True)


@pytest.mark.parametrize("reduction", ["mul", "max", "min"])
@pytest.mark.parametrize("dtype,elem", [(np.float32, F), (np.int32, TensorProto.INT32)])
def test_scatter_elements_reduction(reduction, dtype, elem):
    rng = np.random.default_rng(13)
    data = rng.integers(-5, 6, (4, 5)).astype(dtype)
    idx = rng.integers(-4, 4, (6, 5)).astype(np.int64)      # duplicates and negatives
    upd = rng.integers(-5, 6, (6, 5)).astype(dtype)
    node = helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], axis=0,
                            reduction=reduction)
    model = _model(node, [_vi("d", data.shape, elem), _vi("i", idx.shape, TensorProto.INT64),
                          _vi("u", upd.shape, elem)], [_vi("y", data.shape, elem)], 18)
    _run_both(model, {"d": data, "i": idx, "u": upd}, exact=True)


@pytest.mark.parametrize("reduction", ["mul", "max", "min"])
@pytest.mark.parametrize("idx_shape", [(5, 1), (3, 2, 2)])
def test_scatternd_reduction(reduction, idx_shape):
    rng = np.random.default_rng(14)
    data = rng.uniform(-2, 2, (3, 4, 2)).astype(np.float32)
    q = idx_shape[-1]
    idx = np.stack([rng.integers(0, d, idx_shape[:-1]) for d in data.shape[:q]], -1)
    upd = rng.uniform(-2, 2, idx_shape[:-1] + data.shape[q:]).astype(np.float32)
    node = helper.make_node("ScatterND", ["d", "i", "u"], ["y"], reduction=reduction)
    model = _model(node, [_vi("d", data.shape), _vi("i", idx.shape, TensorProto.INT64),
                          _vi("u", upd.shape)], [_vi("y", data.shape)], 18)
    _run_both(model, {"d": data, "i": idx.astype(np.int64), "u": upd})


@pytest.mark.parametrize("scales", [[1, 1, 2, 3], [1, 2, 1.5, 2.5], [1, 1, 1.7, 1]])
def test_upsample_nearest_against_onnxruntime(scales):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    out = [int(np.floor(d * s)) for d, s in zip(x.shape, scales, strict=True)]
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode="nearest")
    inits = [helper.make_tensor("scales", F, [4], scales)]
    graph = helper.make_graph([node], "g", [_vi("x", x.shape)], [_vi("y", out)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    _compare(model, {"x": x}, rtol=0, atol=0)


@pytest.mark.parametrize("dtype,elem", [(np.float32, F), (np.float64, TensorProto.DOUBLE)])
def test_mod_ieee_edge_cases_broadcast(dtype, elem):
    import serde.onnx.backend as backend
    x = np.array([0.0, -0.0, 3.0, -3.0, 5.5, -5.5, np.inf, np.nan, 1.0], dtype)[:, None]
    y = np.array([2.0, -2.0, 0.0, -0.0, np.inf, -np.inf, 1.5], dtype)[None, :]
    node = helper.make_node("Mod", ["x", "y"], ["z"])
    model = _model(node, [_vi("x", x.shape, elem), _vi("y", y.shape, elem)],
                   [_vi("z", [9, 7], elem)], 13)
    got = np.asarray(backend.prepare(model, "CPU").run([x, y])[0])
    with np.errstate(all="ignore"):
        want = np.mod(x, y)
    np.testing.assert_array_equal(got, want)
    real = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got)[real], np.signbit(want)[real])


def _np_shift(x, y, direction):
    bits = x.dtype.itemsize * 8
    out = np.zeros_like(x)
    for i, (a, s) in enumerate(zip(x.tolist(), y.tolist(), strict=True)):
        if s < 0 or s >= bits:
            out[i] = -1 if (direction == "RIGHT" and a < 0) else 0
        elif direction == "RIGHT":
            out[i] = a >> s
        else:
            v = (a << s) % (1 << bits)
            out[i] = v - (1 << bits) if x.dtype.kind == "i" and v >= 1 << (bits - 1) else v
    return out


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("dtype,elem", [(np.int8, TensorProto.INT8),
                                        (np.int32, TensorProto.INT32),
                                        (np.uint8, TensorProto.UINT8)])
def test_bitshift_against_spec(direction, dtype, elem):
    import serde.onnx.backend as backend
    rng = np.random.default_rng(16)
    info = np.iinfo(dtype)
    bits = info.bits
    x = np.concatenate([rng.integers(info.min, info.max + 1, 40),
                        [info.min, info.max, 0, 1]]).astype(dtype)
    y = rng.integers(-3 if info.min else 0, bits + 3, x.shape).astype(dtype)
    node = helper.make_node("BitShift", ["x", "y"], ["z"], direction=direction)
    opset = 28 if info.min else 11
    model = _model(node, [_vi("x", x.shape, elem), _vi("y", y.shape, elem)],
                   [_vi("z", x.shape, elem)], opset)
    got = np.asarray(backend.prepare(model, "CPU").run([x, y])[0])
    np.testing.assert_array_equal(got, _np_shift(x, y, direction))


def _if_model(cond_init=None):
    then_g = helper.make_graph([helper.make_node("Add", ["x", "y"], ["t"]),
                                helper.make_node("Relu", ["t"], ["t2"])], "then", [],
                               [_vi("t2", [2, 3])])
    else_g = helper.make_graph([helper.make_node("Sub", ["x", "y"], ["e"])], "else", [],
                               [_vi("e", [2, 3])])
    node = helper.make_node("If", ["c"], ["z"], then_branch=then_g, else_branch=else_g)
    inputs = [_vi("x", [2, 3]), _vi("y", [2, 3])]
    inits = []
    if cond_init is None:
        inputs.append(_vi("c", [], TensorProto.BOOL))
    else:
        inits.append(helper.make_tensor("c", TensorProto.BOOL, [], [cond_init]))
    graph = helper.make_graph([node], "g", inputs, [_vi("z", [2, 3])], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])


@pytest.mark.parametrize("cond", [True, False])
def test_if_runtime_condition(cond):
    rng = np.random.default_rng(17)
    feeds = {"x": rng.standard_normal((2, 3)).astype(np.float32),
             "y": rng.standard_normal((2, 3)).astype(np.float32), "c": np.array(cond)}
    _compare(_if_model(), feeds, rtol=0, atol=0)


@pytest.mark.parametrize("cond", [True, False])
def test_if_static_condition_inlines_one_branch(cond):
    import serde
    rng = np.random.default_rng(18)
    feeds = {"x": rng.standard_normal((2, 3)).astype(np.float32),
             "y": rng.standard_normal((2, 3)).astype(np.float32)}
    model = _if_model(cond)
    sym, _ = serde.import_model(model, output_format="symbolic")
    ops = {n["op"] for n in __import__("json").loads(sym.tojson())["nodes"]}
    assert ("_npi_subtract" in ops) != cond and ("_npi_add" in ops) == cond
    _compare(model, feeds, rtol=0, atol=0)
