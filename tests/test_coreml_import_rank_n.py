"""Rank-N NeuralNetwork import (specification 4 on): third-party fixtures against torch, and
small coremltools-built models against numpy's reading of the layer as NeuralNetwork.proto
documents it."""
from __future__ import annotations

import mxnet as mx
import numpy as np
import pytest

import serde
from conformance import coreml_import

pytest.importorskip("coremltools")
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402

NEURAL_NETWORKS = [c for c in coreml_import.cases() if c[0].endswith("@neuralnetwork")]
RNG = np.random.default_rng(7)


@pytest.mark.parametrize("case", [c for c in NEURAL_NETWORKS if c[0].split("@")[0] in (
    "bidirectional_lstm", "transformer_encoder", "audio_conv1d", "mlp_layernorm_gelu",
    "deconv_pad_permute", "upsample_bilinear")], ids=lambda c: c[0])
def test_neural_network_fixture_matches_torch(case):
    record = coreml_import.run_case(*case)
    assert record["status"] == "pass", record
    assert record["max_abs_err"] < 1e-4


def test_loop_is_named_unsupported():
    source = next(m for name, m, _ in NEURAL_NETWORKS if name.startswith("gru"))
    with pytest.raises(serde.UnsupportedOperatorError, match="loop"):
        serde.import_model(str(source), input_format="coreml")


def _builder(inputs: dict[str, tuple[int, ...]]) -> NeuralNetworkBuilder:
    return NeuralNetworkBuilder([(n, datatypes.Array(*s)) for n, s in inputs.items()],
                                [("out", None)], disable_rank5_shape_mapping=True)


def _run(builder: NeuralNetworkBuilder, *arrays: np.ndarray) -> np.ndarray:
    block = serde.import_model(builder.spec, input_format="coreml")
    return block(*[mx.nd.array(a) for a in arrays]).asnumpy()


def test_shape_layers():
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    b = _builder({"x": x.shape})
    b.add_expand_dims("e", "x", "e", axes=[0, -1])  # (1, 2, 3, 4, 1)
    b.add_transpose("t", [4, 2, 1, 3, 0], "e", "t")  # (1, 3, 2, 4, 1)
    b.add_squeeze("s", "t", "s", axes=[0, -1])  # (3, 2, 4)
    b.add_slice_static("sl", "s", "sl", begin_ids=[0, 1, -1], end_ids=[3, 2, 0],
                       strides=[2, 1, -2], begin_masks=[False, False, False],
                       end_masks=[False, False, True], squeeze_masks=[False, True, False])
    b.add_flatten_to_2d("out", "sl", "out", axis=1)
    want = x.reshape(1, 2, 3, 4, 1).transpose(4, 2, 1, 3, 0).reshape(3, 2, 4)
    want = want[0:3:2, 1, -1::-2].reshape(2, -1)
    np.testing.assert_array_equal(_run(b, x), want)


def test_broadcasting_matmul_and_arithmetic():
    a = RNG.normal(size=(3, 1, 4, 5)).astype(np.float32)
    c = RNG.normal(size=(2, 6, 5)).astype(np.float32)
    b = _builder({"a": a.shape, "c": c.shape})
    b.add_batched_mat_mul("m", ["a", "c"], "m", transpose_b=True)  # (3, 2, 4, 6)
    b.add_load_constant_nd("k", "k", constant_value=np.arange(6, dtype=np.float32), shape=[6])
    b.add_subtract_broadcastable("d", ["m", "k"], "d")
    b.add_multiply_broadcastable("out", ["d", "m"], "out")
    m = np.matmul(a, np.swapaxes(c, -1, -2))
    np.testing.assert_allclose(_run(b, a, c), (m - np.arange(6)) * m, rtol=1e-5, atol=1e-5)


def test_weighted_matmul_reductions_split_concat():
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    w = RNG.normal(size=(4, 6)).astype(np.float32)
    bias = RNG.normal(size=(6,)).astype(np.float32)
    b = _builder({"x": x.shape})
    b.add_batched_mat_mul("m", ["x"], "m", weight_matrix_rows=4, weight_matrix_columns=6,
                          W=w, bias=bias)  # (2, 3, 6)
    b.add_split_nd("sp", "m", ["p", "q"], axis=-1, split_sizes=[2, 4])
    b.add_reduce_logsumexp("r1", "q", "r1", axes=[-1], keepdims=True)  # (2, 3, 1)
    b.add_reduce_mean("r2", "p", "r2", axes=[1], keepdims=False)  # (2, 2)
    b.add_reduce_l2("r3", "p", "r3", axes=[0, 1, 2], keepdims=True)  # (1, 1, 1)
    b.add_expand_dims("r2e", "r2", "r2e", axes=[1])  # (2, 1, 2)
    b.add_add_broadcastable("s", ["r2e", "r3"], "s")  # (2, 1, 2)
    b.add_concat_nd("c1", ["p", "r1"], "c1", axis=-1)  # (2, 3, 3)
    b.add_concat_nd("c2", ["p", "s"], "c2", axis=1)  # (2, 4, 2)
    b.add_flatten_to_2d("f1", "c1", "f1", axis=1)
    b.add_flatten_to_2d("f2", "c2", "f2", axis=1)
    b.add_concat_nd("out", ["f1", "f2"], "out", axis=1)
    m = x @ w + bias
    p, q = m[..., :2], m[..., 2:]
    lse = np.log(np.exp(q).sum(-1, keepdims=True))
    s_ = p.mean(1)[:, None, :] + np.sqrt((p ** 2).sum())
    want = np.concatenate([np.concatenate([p, lse], -1).reshape(2, -1),
                           np.concatenate([p, s_], 1).reshape(2, -1)], 1)
    np.testing.assert_allclose(_run(b, x), want, rtol=1e-5, atol=1e-5)


def test_old_layers_read_the_last_three_axes_as_chw():
    x = RNG.normal(size=(2, 3, 4, 4, 6)).astype(np.float32)
    b = _builder({"x": x.shape})
    b.add_softmax("sm", "x", "sm")  # over "channel": axis -3
    b.add_pooling("out", 2, 2, 2, 2, "MAX", "VALID", "sm", "out")  # over the last two axes
    e = np.exp(x - x.max(-3, keepdims=True))
    sm = e / e.sum(-3, keepdims=True)
    want = sm.reshape(2, 3, 4, 2, 2, 3, 2).max(axis=(-3, -1))
    np.testing.assert_allclose(_run(b, x), want, rtol=1e-5, atol=1e-6)


def _numpy_lstm(x, wx, wh, bias, h, c, reverse):
    """Core ML's LSTM (NeuralNetwork.proto): gates i, f, o, z from stacked (i, f, o, z)."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    steps = range(len(x))[::-1] if reverse else range(len(x))
    ys = [None] * len(x)
    for t in steps:
        i, f, o, z = np.split(x[t] @ wx.T + h @ wh.T + bias, 4, axis=-1)
        c = sig(f) * c + sig(i) * np.tanh(z)
        h = sig(o) * np.tanh(c)
        ys[t] = h
    return np.stack(ys), h, c


def test_reverse_lstm_with_forget_bias_and_states():
    seq, batch, width, hidden = 4, 2, 3, 5
    x = RNG.normal(size=(seq, batch, width, 1, 1)).astype(np.float32)
    h0 = RNG.normal(size=(1, batch, hidden, 1, 1)).astype(np.float32)
    c0 = RNG.normal(size=(1, batch, hidden, 1, 1)).astype(np.float32)
    wx = [RNG.normal(size=(hidden, width)).astype(np.float32) for _ in range(4)]  # i f o z
    wh = [RNG.normal(size=(hidden, hidden)).astype(np.float32) for _ in range(4)]
    bias = [RNG.normal(size=(hidden,)).astype(np.float32) for _ in range(4)]
    b = NeuralNetworkBuilder([("x", datatypes.Array(*x.shape)), ("h0", datatypes.Array(*h0.shape)),
                              ("c0", datatypes.Array(*c0.shape))],
                             [("y", None), ("h", None), ("c", None)],
                             disable_rank5_shape_mapping=True)
    b.add_unilstm("lstm", wh, wx, bias, hidden, width, ["x", "h0", "c0"], ["y", "h", "c"],
                  forget_bias=True, output_all=True, reverse_input=True)
    block = serde.import_model(b.spec, input_format="coreml")
    got = [v.asnumpy() for v in block(mx.nd.array(x), mx.nd.array(h0), mx.nd.array(c0))]
    fb = bias.copy()
    fb[1] = fb[1] + 1.0
    want = _numpy_lstm(x[..., 0, 0], np.concatenate(wx), np.concatenate(wh), np.concatenate(fb),
                       h0[0, ..., 0, 0], c0[0, ..., 0, 0], reverse=True)
    for value, ref in zip(got, want, strict=True):
        np.testing.assert_allclose(value.reshape(ref.shape), ref, rtol=1e-4, atol=1e-5)


UNARY = {"ceil": np.ceil, "floor": np.floor, "sign": np.sign, "round": np.round,
         "exp2": np.exp2, "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin,
         "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
         "tanh": np.tanh, "asinh": np.arcsinh, "atanh": np.arctanh}


@pytest.mark.parametrize("kind", sorted(UNARY))
def test_rank_n_unary_layers(kind):
    x = RNG.uniform(-0.9, 0.9, size=(2, 3, 5)).astype(np.float32)
    b = _builder({"x": x.shape})
    layer = b.spec.neuralNetwork.layers.add()  # a parameterless layer, written by hand
    layer.name, layer.input[:], layer.output[:] = kind, ["x"], ["out"]
    getattr(layer, kind).SetInParent()
    np.testing.assert_allclose(_run(b, x), UNARY[kind](x), rtol=1e-5, atol=1e-6)


def test_rank_n_acosh_erf_and_remaining_arithmetic():
    from math import erf

    x = RNG.uniform(1.1, 3.0, size=(2, 4)).astype(np.float32)
    y = RNG.uniform(0.5, 2.0, size=(4,)).astype(np.float32)
    b = _builder({"x": x.shape, "y": y.shape})
    for kind, inputs, out in [("acosh", ["x"], "a"), ("erf", ["y"], "e"),
                              ("powBroadcastable", ["x", "y"], "p"),
                              ("floorDivBroadcastable", ["x", "y"], "f"),
                              ("modBroadcastable", ["x", "y"], "m"),
                              ("maxBroadcastable", ["x", "y"], "mx"),
                              ("minBroadcastable", ["x", "y"], "mn"),
                              ("divideBroadcastable", ["x", "y"], "d")]:
        layer = b.spec.neuralNetwork.layers.add()
        layer.name, layer.input[:], layer.output[:] = kind, inputs, [out]
        getattr(layer, kind).SetInParent()
    b.add_concat_nd("c", ["a", "p", "f", "m", "mx", "mn", "d"], "c", axis=0)
    b.add_expand_dims("ee", "e", "ee", axes=[0])
    b.add_concat_nd("out", ["c", "ee"], "out", axis=0)
    want = np.concatenate([np.arccosh(x), x ** y, np.floor(x / y), np.mod(x, y),
                           np.maximum(x, y), np.minimum(x, y), x / y,
                           np.vectorize(erf)(y)[None]], axis=0)
    np.testing.assert_allclose(_run(b, x, y), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind,fn", [
    ("reduce_max", lambda v, a, k: v.max(a, keepdims=k)),
    ("reduce_min", lambda v, a, k: v.min(a, keepdims=k)),
    ("reduce_prod", lambda v, a, k: v.prod(a, keepdims=k)),
    ("reduce_sum", lambda v, a, k: v.sum(a, keepdims=k)),
    ("reduce_l1", lambda v, a, k: np.abs(v).sum(a, keepdims=k)),
    ("reduce_sumsquare", lambda v, a, k: (v * v).sum(a, keepdims=k)),
    ("reduce_logsum", lambda v, a, k: np.log(v.sum(a, keepdims=k)))])
def test_rank_n_reductions(kind, fn):
    x = RNG.uniform(0.5, 1.5, size=(2, 3, 4)).astype(np.float32)
    for axes, keep in (([1], False), ([0, 2], True), ([-1], True)):
        b = _builder({"x": x.shape})
        getattr(b, f"add_{kind}")("r", "x", "out", axes=axes, keepdims=keep)
        np.testing.assert_allclose(_run(b, x), fn(x, tuple(axes), keep), rtol=1e-5,
                                   atol=1e-6)
