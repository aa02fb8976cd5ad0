"""Single-layer Core ML export cases: each MXNet op the Core ML exporter converts, built alone
with several attribute variants, exported to a NeuralNetwork spec and evaluated by the oracle
(the ONNX project's Core ML converter, then onnxruntime) against MXNet's forward, then imported
back by serde's Core ML importer and compared with MXNet's forward again. Specs holding
a layer the oracle evaluates wrongly (``coreml_numpy.oracle_defects``) are evaluated by the
numpy layer evaluation instead; the record names the evaluator.

``python -m conformance.coreml_layers [--filter REGEX]`` writes
``reports/results/coreml_layers-cpu.jsonl`` and exits non-zero when a case fails that
``expected_failures/coreml_layers.jsonc`` does not list (or a listed one passes).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from .mxnet_ops import OpCase, _fn, _split_params, make_inputs, mxnet_forward
from .results import error_stats, results_path, write_results

SUITE = "coreml_layers"
CASES: list[OpCase] = []
BATCH = 2  # every case runs at a batch other than 1: Core ML's batch axis is its own


def case(case_id: str, op: str, inputs: dict[str, Any], *, params: tuple[str, ...] = (),
         call: str | None = None, rtol: float = 1e-4, atol: float = 1e-5,
         first_output: bool = False, **attrs: Any) -> None:
    names = list(inputs)
    spec = {n: (v if isinstance(v[0], tuple) else (v, "normal")) for n, v in inputs.items()}

    def build(**vars_: mx.sym.Symbol) -> mx.sym.Symbol:
        sym = _fn(call or op)(*[vars_[n] for n in names], name="op", **attrs)
        return sym[0] if first_output else sym

    CASES.append(OpCase(case_id, op, build, spec, frozenset(params), rtol=rtol, atol=atol))


X4 = (BATCH, 3, 6, 7)
X2 = (BATCH, 6)

# --- nn -------------------------------------------------------------------------------------
case("conv2d", "Convolution", {"data": X4, "w": (8, 3, 3, 3), "b": (8,)}, params=("w", "b"),
     kernel=(3, 3), num_filter=8, pad=(1, 1))
case("conv2d_stride_dilate_nobias", "Convolution", {"data": (BATCH, 4, 11, 9),
     "w": (6, 4, 3, 3)}, params=("w",), kernel=(3, 3), num_filter=6, stride=(2, 1),
     dilate=(2, 2), no_bias=True)
case("conv2d_asymmetric_kernel_pad", "Convolution", {"data": X4, "w": (5, 3, 1, 3),
     "b": (5,)}, params=("w", "b"), kernel=(1, 3), num_filter=5, pad=(0, 2), stride=(1, 2))
case("conv2d_group", "Convolution", {"data": (BATCH, 4, 7, 7), "w": (8, 2, 3, 3)},
     params=("w",), kernel=(3, 3), num_filter=8, num_group=2, no_bias=True)
case("conv2d_depthwise", "Convolution", {"data": (BATCH, 4, 7, 7), "w": (4, 1, 3, 3),
     "b": (4,)}, params=("w", "b"), kernel=(3, 3), num_filter=4, num_group=4, pad=(1, 1))
case("conv1d", "Convolution", {"data": (BATCH, 3, 10), "w": (5, 3, 3), "b": (5,)},
     params=("w", "b"), kernel=(3,), num_filter=5, pad=(1,))
case("deconv2d", "Deconvolution", {"data": (BATCH, 4, 5, 5), "w": (4, 3, 3, 3)},
     params=("w",), kernel=(3, 3), num_filter=3, stride=(2, 2), pad=(1, 1), no_bias=True)
case("deconv2d_bias_adj", "Deconvolution", {"data": (BATCH, 4, 5, 5), "w": (4, 3, 3, 3),
     "b": (3,)}, params=("w", "b"), kernel=(3, 3), num_filter=3, stride=(2, 2), pad=(1, 1),
     adj=(1, 1), no_bias=False)
case("deconv2d_group", "Deconvolution", {"data": (BATCH, 4, 5, 5), "w": (4, 1, 2, 2)},
     params=("w",), kernel=(2, 2), num_filter=4, num_group=4, stride=(2, 2), no_bias=True)
BN = {"data": X4, "gamma": ((3,), "positive"), "beta": (3,), "mean": (3,),
      "var": ((3,), "positive")}
case("batchnorm", "BatchNorm", BN, params=("gamma", "beta", "mean", "var"), fix_gamma=False,
     eps=1e-3)
case("batchnorm_fix_gamma", "BatchNorm", BN, params=("gamma", "beta", "mean", "var"))
case("batchnorm_2d", "BatchNorm", {**BN, "data": (BATCH, 3)},
     params=("gamma", "beta", "mean", "var"), fix_gamma=False)
case("instancenorm", "InstanceNorm", {"data": X4, "gamma": (3,), "beta": (3,)},
     params=("gamma", "beta"), eps=1e-3, rtol=1e-3, atol=1e-4)
case("layernorm_2d", "LayerNorm", {"data": X2, "gamma": (6,), "beta": (6,)},
     params=("gamma", "beta"), rtol=1e-3, atol=1e-4)
case("fc_flatten", "FullyConnected", {"data": X4, "w": (5, 126), "b": (5,)}, params=("w", "b"),
     num_hidden=5)
case("fc_2d_nobias", "FullyConnected", {"data": X2, "w": (4, 6)}, params=("w",), num_hidden=4,
     no_bias=True)
case("fc_sequence_flatten_false", "FullyConnected", {"data": (BATCH, 5, 6), "w": (4, 6),
     "b": (4,)}, params=("w", "b"), num_hidden=4, flatten=False)
case("fc_2d_flatten_false", "FullyConnected", {"data": X2, "w": (4, 6), "b": (4,)},
     params=("w", "b"), num_hidden=4, flatten=False)
case("flatten", "Flatten", {"data": X4})
case("embedding", "Embedding", {"data": ((BATCH,), "range:0:10"), "w": (10, 4)}, params=("w",),
     input_dim=10, output_dim=4)
case("dropout", "Dropout", {"data": X4}, p=0.5)
for pool in ("max", "avg", "sum"):
    case(f"pool_{pool}", "Pooling", {"data": X4}, kernel=(2, 2), stride=(2, 2), pool_type=pool)
    case(f"pool_{pool}_pad", "Pooling", {"data": X4}, kernel=(3, 3), stride=(2, 2),
         pad=(1, 1), pool_type=pool)
    case(f"pool_{pool}_full", "Pooling", {"data": X4}, kernel=(3, 3), stride=(2, 2),
         pool_type=pool, pooling_convention="full")
    case(f"pool_{pool}_global", "Pooling", {"data": X4}, kernel=(1, 1), pool_type=pool,
         global_pool=True)
case("pool_avg_pad_exclude", "Pooling", {"data": X4}, kernel=(3, 3), stride=(1, 1),
     pad=(1, 1), pool_type="avg", count_include_pad=False)
case("pool_avg_full_pad", "Pooling", {"data": X4}, kernel=(3, 3), stride=(2, 2), pad=(1, 1),
     pool_type="avg", pooling_convention="full")
case("pool_max_full_pad", "Pooling", {"data": X4}, kernel=(2, 2), stride=(2, 2), pad=(1, 1),
     pool_type="max", pooling_convention="full")
case("pool_avg_full_exclude", "Pooling", {"data": X4}, kernel=(3, 3), stride=(2, 2),
     pool_type="avg", pooling_convention="full", count_include_pad=False)
case("pool_lp2", "Pooling", {"data": X4}, kernel=(2, 2), stride=(2, 2), pool_type="lp",
     p_value=2)
case("pool1d_max", "Pooling", {"data": (BATCH, 3, 10)}, kernel=(3,), stride=(2,),
     pool_type="max")
case("lrn", "LRN", {"data": (BATCH, 6, 5, 5)}, nsize=3, alpha=1e-3, beta=0.75, knorm=2.0)
case("l2norm_instance", "L2Normalization", {"data": X4}, mode="instance")
case("l2norm_instance_2d", "L2Normalization", {"data": X2}, mode="instance")
case("l2norm_channel", "L2Normalization", {"data": X4}, mode="channel", rtol=1e-3, atol=1e-5)
case("l2norm_spatial", "L2Normalization", {"data": X4}, mode="spatial", rtol=1e-3, atol=1e-5)

# --- activations ----------------------------------------------------------------------------
for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    case(f"activation_{act}", "Activation", {"data": X4}, act_type=act, rtol=1e-3, atol=1e-5)
case("activation_relu_2d", "Activation", {"data": X2}, act_type="relu")
for op in ("relu", "sigmoid", "tanh", "softsign"):
    case(f"{op}_op", op, {"data": X4}, rtol=1e-3, atol=1e-5)
case("leaky", "LeakyReLU", {"data": X4}, act_type="leaky", slope=0.1)
case("elu", "LeakyReLU", {"data": X4}, act_type="elu", slope=0.7, rtol=1e-3, atol=1e-5)
case("selu", "LeakyReLU", {"data": X4}, act_type="selu", rtol=1e-3, atol=1e-5)
case("rrelu_inference", "LeakyReLU", {"data": X4}, act_type="rrelu", first_output=True)
case("prelu_channel", "LeakyReLU", {"data": X4, "gamma": (3,)}, params=("gamma",),
     act_type="prelu")
case("prelu_shared", "LeakyReLU", {"data": X4, "gamma": (1,)}, params=("gamma",),
     act_type="prelu")
case("gelu", "LeakyReLU", {"data": X4}, act_type="gelu", rtol=1e-3, atol=1e-5)
case("clip", "clip", {"data": X4}, a_min=-0.5, a_max=0.7)
case("clip_relu6", "clip", {"data": X4}, a_min=0.0, a_max=6.0)
case("hard_sigmoid", "hard_sigmoid", {"data": X4}, alpha=0.3, beta=0.4)
case("softmax_2d", "softmax", {"data": X2})
case("softmax_channels", "softmax", {"data": X4}, axis=1)
case("log_softmax_2d", "log_softmax", {"data": X2}, rtol=1e-3, atol=1e-5)
case("softmax_output", "SoftmaxOutput", {"data": X2})
case("softmax_output_multi", "SoftmaxOutput", {"data": X4}, multi_output=True)
case("softmax_activation_channel", "SoftmaxActivation", {"data": X4}, mode="channel")

# --- elementwise ----------------------------------------------------------------------------
for op in ("elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div"):
    case(op, op, {"a": X4, "b": ((X4), "positive")})
for op in ("broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div"):
    case(f"{op}_channel", op, {"a": X4, "b": ((BATCH, 3, 1, 1), "positive")})
    case(f"{op}_spatial", op, {"a": X4, "b": ((BATCH, 1, 6, 7), "positive")})
    case(f"{op}_const", op, {"a": X4, "b": ((1, 3, 1, 1), "positive")}, params=("b",))
    case(f"{op}_const_first", op, {"b": ((1, 3, 6, 7), "positive"), "a": ((X4), "positive")},
         params=("b",))
case("broadcast_maximum", "broadcast_maximum", {"a": X4, "b": (BATCH, 3, 1, 1)})
case("broadcast_minimum", "broadcast_minimum", {"a": X4, "b": (BATCH, 1, 6, 7)})
case("add_n", "add_n", {"a": X4, "b": X4, "c": X4})
for op, value in (("_plus_scalar", 1.5), ("_minus_scalar", 0.5), ("_rminus_scalar", 2.0),
                  ("_mul_scalar", -3.0), ("_div_scalar", 4.0), ("_maximum_scalar", 0.2),
                  ("_minimum_scalar", -0.1)):
    case(op.strip("_"), op, {"data": X4}, scalar=value)
case("rdiv_scalar", "_rdiv_scalar", {"data": (X4, "positive")}, scalar=2.0)
case("power_scalar", "_power_scalar", {"data": (X4, "positive")}, scalar=1.7, rtol=1e-3)
for op, gen in (("exp", "normal"), ("log", "positive"), ("sqrt", "positive"),
                ("rsqrt", "positive"), ("abs", "normal"), ("reciprocal", "positive"),
                ("square", "normal"), ("negative", "normal")):
    case(op, op, {"data": (X4, gen)}, rtol=1e-3, atol=1e-5)

# --- tensor ---------------------------------------------------------------------------------
case("reshape_codes", "Reshape", {"data": X4}, shape=(0, -1, 7))
case("reshape_to_2d", "Reshape", {"data": X4}, shape=(0, -1))
case("reshape_to_4d", "Reshape", {"data": X2}, shape=(0, 3, 2, 1))
case("expand_dims", "expand_dims", {"data": X2}, axis=2)
case("squeeze", "squeeze", {"data": (BATCH, 3, 1, 5)}, axis=2)
case("transpose_hw", "transpose", {"data": X4}, axes=(0, 1, 3, 2))
case("transpose_chw", "transpose", {"data": X4}, axes=(0, 2, 3, 1))
case("swapaxes_channels_width", "SwapAxis", {"data": X4}, dim1=1, dim2=3)
for axis in (1, 2, 3):
    case(f"concat_axis{axis}", "Concat", {"a": X4, "b": X4}, dim=axis)
case("concat_2d", "Concat", {"a": X2, "b": (BATCH, 3)}, dim=1)
case("slice_axis_channel", "slice_axis", {"data": X4}, axis=1, begin=1, end=3)
case("slice_axis_to_end", "slice_axis", {"data": X4}, axis=3, begin=2, end=None)
case("slice_axis_negative", "slice_axis", {"data": X4}, axis=2, begin=-4, end=-1)
case("slice_hw", "slice", {"data": X4}, begin=(None, None, 1, 0), end=(None, None, 5, 6))
case("slice_strided", "slice", {"data": X4}, begin=(None, 0, 0, 1), end=(None, 3, 6, 7),
     step=(None, 2, 1, 2))
case("split_channels", "SliceChannel", {"data": (BATCH, 4, 3, 3)}, num_outputs=2)
case("split_width", "SliceChannel", {"data": (BATCH, 2, 3, 4)}, num_outputs=2, axis=3)
case("pad_constant", "Pad", {"data": X4}, mode="constant", constant_value=0.5,
     pad_width=(0, 0, 0, 0, 1, 2, 2, 1))
case("pad_edge", "Pad", {"data": X4}, mode="edge", pad_width=(0, 0, 0, 0, 1, 1, 2, 2))
case("pad_reflect", "Pad", {"data": X4}, mode="reflect", pad_width=(0, 0, 0, 0, 2, 1, 1, 2))
case("upsampling_nearest", "UpSampling", {"data": X4}, scale=2, sample_type="nearest")
case("bilinear_resize_x2", "_contrib_BilinearResize2D", {"data": X4}, height=12, width=14,
     rtol=1e-3, atol=1e-5)
case("bilinear_resize_x2_half_pixel", "_contrib_BilinearResize2D", {"data": X4}, height=12,
     width=14, align_corners=False, rtol=1e-3, atol=1e-5)
case("bilinear_resize_any", "_contrib_BilinearResize2D", {"data": X4}, height=9, width=10,
     rtol=1e-3, atol=1e-5)

# --- reduce ---------------------------------------------------------------------------------
for op in ("sum", "mean", "max", "min"):
    case(f"{op}_hw", op, {"data": X4}, axis=(2, 3))
    case(f"{op}_channels_keepdims", op, {"data": X4}, axis=1, keepdims=True)
case("mean_chw", "mean", {"data": X4}, axis=(1, 2, 3))
case("sum_exclude", "sum", {"data": X4}, axis=(0, 1), exclude=True, keepdims=True)
case("norm_channels", "norm", {"data": X4}, axis=1, rtol=1e-3)


# --- recurrent ------------------------------------------------------------------------------
def rnn_case(case_id: str, mode: str, *, layers: int = 1, bidirectional: bool = False,
             width: int = 4, hidden: int = 6, steps: int = 5, state_outputs: bool = False
             ) -> None:
    """The RNN op as Gluon's layout='NTC' layers call it: a batch-first (N, T, C) input with
    axes 0 and 1 swapped, zero initial states, the output swapped back."""
    gates = {"lstm": 4, "gru": 3}.get(mode, 1)
    directions = 2 if bidirectional else 1
    size = sum(directions * gates * hidden * ((width if k == 0 else directions * hidden)
                                              + hidden + 2) for k in range(layers))
    states = 2 if mode == "lstm" else 1

    def build(data: mx.sym.Symbol, params: mx.sym.Symbol) -> mx.sym.Symbol:
        zeros = [mx.sym.zeros((layers * directions, BATCH, hidden)) for _ in range(states)]
        out = mx.sym.RNN(mx.sym.SwapAxis(data, dim1=0, dim2=1), params, *zeros,
                         state_size=hidden, num_layers=layers, mode=mode,
                         bidirectional=bidirectional, state_outputs=state_outputs, name="op")
        return mx.sym.SwapAxis(out[0] if state_outputs else out, dim1=0, dim2=1)

    CASES.append(OpCase(case_id, "RNN", build,
                        {"data": ((BATCH, steps, width), "normal"),
                         "params": ((size,), "normal")}, frozenset({"params"}),
                        rtol=1e-4, atol=1e-5))


rnn_case("rnn_lstm", "lstm")
rnn_case("rnn_lstm_bidirectional", "lstm", bidirectional=True)
rnn_case("rnn_lstm_2_layers_states", "lstm", layers=2, state_outputs=True)
rnn_case("rnn_lstm_bidirectional_2_layers", "lstm", layers=2, bidirectional=True, steps=3)
rnn_case("rnn_tanh", "rnn_tanh", hidden=5)
rnn_case("rnn_relu_2_layers", "rnn_relu", layers=2)
rnn_case("rnn_gru", "gru")  # an honest failure: no Core ML layer computes MXNet's GRU


def evaluate(spec: Any, *feeds: dict[str, np.ndarray]
             ) -> tuple[list[dict[str, np.ndarray]], str, list[str]]:
    """The outputs of ``spec`` on each of ``feeds``, by the oracle unless it is known wrong
    for a layer in it; with the evaluator's name and the oracle's defects met."""
    from .coreml_numpy import oracle_defects, run_numpy
    from .coreml_oracle import OracleSession

    defects = oracle_defects(spec)
    if defects:
        return [run_numpy(spec, f) for f in feeds], "numpy", defects
    session = OracleSession(spec)
    return [session.run(f) for f in feeds], "oracle", []


def run_case(case_: OpCase, seed: int = 0) -> dict[str, Any]:
    import serde

    record: dict[str, Any] = {"suite": SUITE, "case": case_.id, "op": case_.op, "ctx": "cpu",
                              "rtol": case_.rtol, "atol": case_.atol, "dtype": "float32"}
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    try:
        sym = case_.build(**{n: mx.sym.var(n) for n in case_.inputs})
        values = make_inputs(case_, rng)
        expected = mxnet_forward(sym, values, mx.cpu())
        arg, aux, data = _split_params(case_, sym, values)
        spec = serde.to_coreml(sym, (arg, aux), input_shapes={n: v.shape for n, v in data.items()})
        record["spec_version"] = int(spec.specificationVersion)
        record["layers"] = sorted({layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers})
        (outputs,), record["evaluator"], record["oracle_defects"] = evaluate(spec, data)
        worst_abs = worst_rel = 0.0
        ok = True
        for feature, ref in zip(spec.description.output, expected, strict=True):
            got = np.asarray(outputs[feature.name]).reshape(ref.shape)
            abs_err, rel_err = error_stats(got, ref)
            worst_abs, worst_rel = max(worst_abs, abs_err), max(worst_rel, rel_err)
            ok &= bool(np.allclose(got, ref, rtol=case_.rtol, atol=case_.atol))
        # the round trip: our importer on the same spec, against MXNet's forward again
        block = serde.import_model(spec.SerializeToString(), input_format="coreml")
        back = block(*[mx.nd.array(data[f.name]) for f in spec.description.input])
        back = back if isinstance(back, (list, tuple)) else [back]
        roundtrip_ok, roundtrip_err = True, 0.0
        for got, ref in zip(back, expected, strict=True):
            got = got.asnumpy().reshape(ref.shape)
            roundtrip_err = max(roundtrip_err, error_stats(got, ref)[0])
            roundtrip_ok &= bool(np.allclose(got, ref, rtol=case_.rtol, atol=case_.atol))
        record.update(max_abs_err=worst_abs, max_rel_err=worst_rel,
                      roundtrip_max_abs_err=roundtrip_err,
                      status="pass" if ok and roundtrip_ok else "wrong-result")
        if not roundtrip_ok:
            record["message"] = f"round trip off by {roundtrip_err:.3g}"
    except Exception as err:  # noqa: BLE001 - every failure is a named record
        from serde.errors import UnsupportedOperatorError
        record["status"] = "unsupported" if isinstance(err, UnsupportedOperatorError) else "error"
        record["error_type"] = type(err).__name__
        record["message"] = str(err)[:2000]
    record["seconds"] = time.perf_counter() - start
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filter", default=None, help="regex on case names")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    cases = [c for c in CASES if args.filter is None or re.search(args.filter, c.id)]
    records = []
    for k, case_ in enumerate(cases, 1):
        record = run_case(case_)
        records.append(record)
        if record["status"] != "pass" or k % 25 == 0 or k == len(cases):
            print(f"[{k}/{len(cases)}] {record['status']:<12} {case_.id:<34} "
                  f"{record.get('evaluator', '')} {record.get('max_abs_err', '')} "
                  f"{record.get('message', '')[:200]}", flush=True)
    if args.filter is None or args.output:
        write_results(records, Path(args.output) if args.output else results_path(SUITE))
    from ._suite import EXPECTED_DIR, read_expected

    expected = read_expected(EXPECTED_DIR / f"{SUITE}.jsonc")["cpu"]
    ran = {r["case"] for r in records}
    failed = {r["case"] for r in records if r["status"] != "pass"}
    unexpected = sorted(failed - set(expected))
    fixed = sorted((set(expected) & ran) - failed)
    print(f"{len(records) - len(failed)}/{len(records)} Core ML single-layer cases pass "
          f"({sum(r.get('evaluator') == 'numpy' for r in records)} by the numpy layer check); "
          f"unexpected failures {unexpected or 'none'}; expected failures now passing "
          f"{fixed or 'none'}")
    return 1 if unexpected or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
