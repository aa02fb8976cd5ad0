"""Single-operator export cases: each MXNet op we export, built alone, run by MXNet (the oracle)
and by onnxruntime on the exported model, at every opset asked for.

``python -m conformance.mxnet_ops [--opsets 13,17,28] [--ctx cpu]`` writes
``reports/results/mxnet_ops-<ctx>.jsonl`` and exits non-zero when a case fails.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mxnet as mx
import numpy as np

from .results import error_stats, results_path, write_results

Gen = str  # how input values are drawn: normal | positive | unit | int | small_int | binary | above1


@dataclass(frozen=True)
class OpCase:
    id: str
    op: str  # canonical MXNet op name, as the graph JSON holds it
    build: Callable[..., mx.sym.Symbol]
    inputs: dict[str, tuple[tuple[int, ...], Gen]]
    params: frozenset[str] = frozenset()  # inputs that are parameters (initializers)
    min_opset: int = 13
    input_dtype: str = "float32"
    rtol: float = 1e-4
    atol: float = 1e-5
    dynamic_batch: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)


def _fn(op: str) -> Callable[..., mx.sym.Symbol]:
    for namespace in (mx.sym, mx.sym._internal, mx.sym.contrib):
        if hasattr(namespace, op):
            return getattr(namespace, op)
    raise KeyError(op)


CASES: list[OpCase] = []


def case(case_id: str, op: str, inputs: dict[str, Any], *, params: tuple[str, ...] = (),
         call: str | None = None, **kwargs: Any) -> None:
    """Register a case calling ``mx.sym.<call or op>(*vars, **attrs)``."""
    options = {k: kwargs.pop(k) for k in list(kwargs)
               if k in ("min_opset", "input_dtype", "rtol", "atol", "dynamic_batch", "tags")}
    attrs = kwargs
    names = list(inputs)
    spec = {n: (v if isinstance(v[0], tuple) else (v, "normal")) for n, v in inputs.items()}

    def build(**vars_: mx.sym.Symbol) -> mx.sym.Symbol:
        return _fn(call or op)(*[vars_[n] for n in names], name="op", **attrs)

    CASES.append(OpCase(case_id, op, build, spec, frozenset(params), **options))


X4 = (2, 3, 5, 6)
X2 = (4, 6)

# --- nn -------------------------------------------------------------------------------------
case("conv2d", "Convolution", {"data": X4, "w": (8, 3, 3, 3), "b": (8,)}, params=("w", "b"),
     kernel=(3, 3), num_filter=8, pad=(1, 1))
case("conv2d_stride_dilate_nobias", "Convolution", {"data": (1, 4, 11, 9), "w": (6, 4, 3, 3)},
     params=("w",), kernel=(3, 3), num_filter=6, stride=(2, 1), dilate=(2, 2), no_bias=True)
case("conv2d_group", "Convolution", {"data": (1, 4, 7, 7), "w": (4, 1, 3, 3)}, params=("w",),
     kernel=(3, 3), num_filter=4, num_group=4, no_bias=True)
case("conv1d", "Convolution", {"data": (2, 3, 10), "w": (5, 3, 3), "b": (5,)}, params=("w", "b"),
     kernel=(3,), num_filter=5, pad=(1,))
case("conv3d", "Convolution", {"data": (1, 2, 5, 6, 7), "w": (3, 2, 2, 3, 3), "b": (3,)},
     params=("w", "b"), kernel=(2, 3, 3), num_filter=3)
case("deconv2d", "Deconvolution", {"data": (1, 4, 5, 5), "w": (4, 3, 3, 3)}, params=("w",),
     kernel=(3, 3), num_filter=3, stride=(2, 2), pad=(1, 1), adj=(1, 1))
case("deconv2d_bias", "Deconvolution", {"data": (2, 4, 5, 5), "w": (4, 2, 4, 4), "b": (2,)},
     params=("w", "b"), kernel=(4, 4), num_filter=2, stride=(2, 2), pad=(1, 1), no_bias=False)
for fix_gamma in (True, False):
    case(f"batchnorm_fix_gamma_{fix_gamma}", "BatchNorm",
         {"data": X4, "gamma": ((3,), "positive"), "beta": (3,), "mean": (3,),
          "var": ((3,), "positive")}, params=("gamma", "beta", "mean", "var"),
         fix_gamma=fix_gamma, eps=1e-3)
for pool_type in ("max", "avg", "sum", "lp"):
    p_value = {"p_value": 2} if pool_type == "lp" else {}
    case(f"pool_{pool_type}", "Pooling", {"data": (1, 3, 9, 8)}, kernel=(3, 3), stride=(2, 2),
         pad=(1, 1), pool_type=pool_type, **p_value)
    if pool_type != "sum":
        case(f"pool_global_{pool_type}", "Pooling", {"data": X4}, kernel=(1, 1),
             global_pool=True, pool_type=pool_type, **p_value)
case("pool_max_full", "Pooling", {"data": (1, 2, 10, 10)}, kernel=(3, 3), stride=(2, 2),
     pool_type="max", pooling_convention="full")
case("pool_avg_full", "Pooling", {"data": (1, 2, 10, 10)}, kernel=(3, 3), stride=(2, 2),
     pool_type="avg", pooling_convention="full")
case("pool_avg_exclude_pad", "Pooling", {"data": (1, 2, 7, 7)}, kernel=(3, 3), pad=(1, 1),
     pool_type="avg", count_include_pad=False)
case("pool_max_1d", "Pooling", {"data": (2, 3, 10)}, kernel=(3,), stride=(2,), pool_type="max")
case("fc_flatten", "FullyConnected", {"data": X4, "w": (7, 90), "b": (7,)}, params=("w", "b"),
     num_hidden=7)
case("fc_2d_nobias", "FullyConnected", {"data": X2, "w": (5, 6)}, params=("w",), num_hidden=5,
     no_bias=True)
case("fc_no_flatten", "FullyConnected", {"data": (2, 3, 6), "w": (5, 6), "b": (5,)},
     params=("w", "b"), num_hidden=5, flatten=False)
case("fc_no_flatten_nobias", "FullyConnected", {"data": (2, 3, 6), "w": (5, 6)}, params=("w",),
     num_hidden=5, flatten=False, no_bias=True)
case("dropout", "Dropout", {"data": X4}, p=0.5)
case("lrn", "LRN", {"data": X4}, nsize=3, alpha=1e-3, beta=0.75, knorm=2.0)
case("instance_norm", "InstanceNorm", {"data": X4, "gamma": (3,), "beta": (3,)},
     params=("gamma", "beta"), eps=1e-3)
case("layer_norm", "LayerNorm", {"data": (2, 3, 6), "gamma": (6,), "beta": (6,)},
     params=("gamma", "beta"), min_opset=17)

# --- activations ------------------------------------------------------------------------------
for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    case(f"activation_{act}", "Activation", {"data": X4}, act_type=act)
for op in ("relu", "sigmoid", "tanh", "softsign"):
    case(op, op, {"data": X4})
for act, extra in (("leaky", {"slope": 0.1}), ("elu", {"slope": 0.3}), ("selu", {}),
                   ("gelu", {})):
    case(f"leaky_relu_{act}", "LeakyReLU", {"data": X4}, act_type=act, **extra)
case("leaky_relu_prelu", "LeakyReLU", {"data": X4, "gamma": ((3,), "positive")},
     params=("gamma",), act_type="prelu")
case("softmax", "softmax", {"data": X4}, axis=1)
case("softmax_last_temperature", "softmax", {"data": X2}, temperature=2.0)
case("log_softmax", "log_softmax", {"data": X2}, axis=-1)
case("softmax_activation", "SoftmaxActivation", {"data": X2})
case("softmax_activation_channel", "SoftmaxActivation", {"data": X4}, mode="channel")
case("softmax_output", "SoftmaxOutput", {"data": X2})
case("softmax_output_4d", "SoftmaxOutput", {"data": X4})
case("softmax_output_multi", "SoftmaxOutput", {"data": X4}, multi_output=True)
case("logistic_regression_output", "LogisticRegressionOutput", {"data": X2})
case("linear_regression_output", "LinearRegressionOutput", {"data": X2})
case("mae_regression_output", "MAERegressionOutput", {"data": X2})
case("clip", "clip", {"data": X4}, a_min=-0.5, a_max=0.7)
case("hard_sigmoid", "hard_sigmoid", {"data": X4}, alpha=0.3, beta=0.4)

# --- elementwise ----------------------------------------------------------------------------
BCAST = {"a": (2, 3, 4), "b": (3, 1)}
for op in ("elemwise_add", "elemwise_sub", "elemwise_mul"):
    case(op, op, {"a": X4, "b": X4})
case("elemwise_div", "elemwise_div", {"a": X4, "b": (X4, "positive")})
for op in ("broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_maximum",
           "broadcast_minimum"):
    case(op, op, BCAST)
case("broadcast_div", "broadcast_div", {"a": (2, 3, 4), "b": ((3, 1), "positive")})
case("broadcast_power", "broadcast_power", {"a": ((2, 3, 4), "positive"), "b": (3, 1)})
case("_power", "_power", {"a": (X4, "positive"), "b": X4})
case("_maximum", "_maximum", {"a": X4, "b": X4})
case("_minimum", "_minimum", {"a": X4, "b": X4})
case("broadcast_mod", "broadcast_mod", {"a": ((2, 3, 4), "positive"), "b": ((3, 1), "positive")},
     rtol=1e-3, atol=1e-4)
case("_mod_int", "_mod", {"a": ((3, 4), "int"), "b": ((3, 4), "positive_int")}, input_dtype="int32")
for op in ("broadcast_equal", "broadcast_not_equal", "broadcast_greater", "broadcast_lesser",
           "broadcast_greater_equal", "broadcast_lesser_equal"):
    case(op, op, {"a": ((2, 3, 4), "small_int"), "b": ((3, 1), "small_int")})
for op in ("_equal", "_not_equal", "_greater", "_lesser", "_greater_equal", "_lesser_equal"):
    case(op, op, {"a": ((3, 4), "small_int"), "b": ((3, 4), "small_int")})
for op in ("broadcast_logical_and", "broadcast_logical_or", "broadcast_logical_xor"):
    case(op, op, {"a": ((2, 3, 4), "binary"), "b": ((3, 1), "binary")})
for op in ("_logical_and", "_logical_or", "_logical_xor"):
    case(op, op, {"a": ((3, 4), "binary"), "b": ((3, 4), "binary")})
case("logical_not", "logical_not", {"data": ((3, 4), "binary")})
for op in ("_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar",
           "_maximum_scalar", "_minimum_scalar"):
    case(op, op, {"data": X4}, scalar=0.7)
case("_rdiv_scalar", "_rdiv_scalar", {"data": (X4, "positive")}, scalar=2.0)
case("_power_scalar", "_power_scalar", {"data": (X4, "positive")}, scalar=1.7)
case("_rpower_scalar", "_rpower_scalar", {"data": X4}, scalar=1.5)
for op in ("_equal_scalar", "_not_equal_scalar", "_greater_scalar", "_lesser_scalar",
           "_greater_equal_scalar", "_lesser_equal_scalar"):
    case(op, op, {"data": ((3, 4), "small_int")}, scalar=1.0)
for op, gen in (("abs", "normal"), ("negative", "normal"), ("exp", "normal"),
                ("log", "positive"), ("sqrt", "positive"), ("ceil", "normal"),
                ("floor", "normal"), ("sin", "normal"), ("cos", "normal"), ("tan", "unit"),
                ("arcsin", "unit"), ("arccos", "unit"), ("arctan", "normal"), ("sinh", "unit"),
                ("cosh", "unit"), ("arcsinh", "normal"), ("arccosh", "above1"),
                ("arctanh", "unit"), ("reciprocal", "positive"), ("sign", "normal"),
                ("erf", "normal"), ("round", "normal"), ("_copy", "normal"),
                ("BlockGrad", "normal"), ("make_loss", "normal"), ("MakeLoss", "normal"),
                ("square", "normal"), ("rsqrt", "positive"), ("log2", "positive"),
                ("log10", "positive"), ("log1p", "positive"), ("expm1", "unit")):
    case(op, op, {"data": (X4, gen)})
case("add_n", "add_n", {"a": X4, "b": X4, "c": X4})

# --- tensor ---------------------------------------------------------------------------------
case("flatten", "Flatten", {"data": X4})
case("flatten_dynamic_batch", "Flatten", {"data": X4}, dynamic_batch=True)
case("concat", "Concat", {"a": X4, "b": (2, 2, 5, 6)}, dim=1)
case("stack", "stack", {"a": X2, "b": X2}, axis=1)
case("reshape", "Reshape", {"data": X4}, shape=(0, -1, 6))
case("reshape_special", "Reshape", {"data": X4}, shape=(-3, -2))
case("reshape_dynamic_batch", "Reshape", {"data": X4}, shape=(0, -1), dynamic_batch=True)
case("reshape_like", "reshape_like", {"a": (2, 3, 4), "b": (6, 4)})
case("transpose", "transpose", {"data": X4}, axes=(0, 2, 3, 1))
case("transpose_default", "transpose", {"data": (2, 3, 4)})
case("swap_axis", "SwapAxis", {"data": X4}, dim1=1, dim2=3)
case("expand_dims", "expand_dims", {"data": X2}, axis=-1)
case("squeeze", "squeeze", {"data": (2, 1, 3, 1)}, axis=(1, 3))
case("squeeze_all", "squeeze", {"data": (2, 1, 3, 1)})
case("slice_axis", "slice_axis", {"data": X4}, axis=2, begin=1, end=4)
case("slice_axis_open_end", "slice_axis", {"data": X4}, axis=-1, begin=-3, end=None)
case("slice", "slice", {"data": X4}, begin=(0, 1, None), end=(None, 3, 4))
case("slice_step", "slice", {"data": X4}, begin=(None, None, 4), end=(None, None, 0),
     step=(1, 2, -2))
case("slice_like", "slice_like", {"a": X4, "b": (1, 2, 3, 4)})
case("slice_channel", "SliceChannel", {"data": X4}, num_outputs=3, axis=1)
case("slice_channel_squeeze", "SliceChannel", {"data": X4}, num_outputs=3, axis=1,
     squeeze_axis=True)
case("split_v2", "_split_v2", {"data": X4}, indices=(0, 2, 5), axis=2)
case("cast_float16", "Cast", {"data": X4}, dtype="float16")
case("cast_int32", "Cast", {"data": (X4, "small_int")}, dtype="int32")
case("amp_cast", "amp_cast", {"data": X4}, dtype="float16")
case("tile", "tile", {"data": (2, 3)}, reps=(2, 1, 3))
case("tile_short_reps", "tile", {"data": (2, 3, 4)}, reps=(2, 2))
case("broadcast_to", "broadcast_to", {"data": (1, 3, 1)}, shape=(2, 3, 4))
case("broadcast_axis", "broadcast_axis", {"data": (1, 3, 1)}, axis=(0, 2), size=(2, 4))
case("broadcast_like", "broadcast_like", {"a": (1, 3, 1), "b": (2, 3, 4)})
case("zeros_like", "zeros_like", {"data": X4})
case("ones_like", "ones_like", {"data": X4})
case("shape_array", "shape_array", {"data": X4})
case("size_array", "size_array", {"data": X4})
case("reverse", "reverse", {"data": X4}, axis=(1, 3))
case("depth_to_space", "depth_to_space", {"data": (1, 8, 2, 3)}, block_size=2)
case("space_to_depth", "space_to_depth", {"data": (1, 2, 4, 6)}, block_size=2)


def make_inputs(case_: OpCase, rng: np.random.Generator, batch: int | None = None
                ) -> dict[str, np.ndarray]:
    values = {}
    for name, (shape, gen) in case_.inputs.items():
        if batch is not None and name not in case_.params:
            shape = (batch,) + tuple(shape[1:])
        if gen == "positive":
            value = rng.uniform(0.5, 2.0, shape)
        elif gen == "unit":
            value = rng.uniform(-0.9, 0.9, shape)
        elif gen == "above1":
            value = rng.uniform(1.1, 3.0, shape)
        elif gen == "int":
            value = rng.integers(-20, 20, shape)
        elif gen == "positive_int":
            value = rng.integers(1, 7, shape)
        elif gen == "small_int":
            value = rng.integers(-2, 3, shape)
        elif gen == "binary":
            value = rng.integers(0, 2, shape)
        else:
            value = rng.standard_normal(shape)
        if gen == "normal" and case_.op in ("round", "ceil", "floor"):
            value = np.round(value * 4) / 4 + 0.1  # keep away from .5 ties
        values[name] = value.astype(case_.input_dtype)
    return values


def build_symbol(case_: OpCase) -> mx.sym.Symbol:
    sym = case_.build(**{n: mx.sym.var(n) for n in case_.inputs})
    return sym


def mxnet_forward(sym: mx.sym.Symbol, values: dict[str, np.ndarray], ctx: mx.Context
                  ) -> list[np.ndarray]:
    aux_names = set(sym.list_auxiliary_states())
    args = {n: mx.nd.array(v, ctx=ctx, dtype=v.dtype) for n, v in values.items()
            if n not in aux_names}
    # Training-only inputs (loss labels) are fed zeros of their inferred shape.
    arg_shapes, _, _ = sym.infer_shape_partial(**{n: v.shape for n, v in values.items()})
    for name, shape in zip(sym.list_arguments(), arg_shapes, strict=True):
        if name not in args:
            args[name] = mx.nd.zeros(shape, ctx=ctx)
    aux = {n: mx.nd.array(v, ctx=ctx, dtype=v.dtype) for n, v in values.items() if n in aux_names}
    exe = sym.bind(ctx, args=args, aux_states=aux, grad_req="null")
    return [o.asnumpy() for o in exe.forward(is_train=False)]


def _split_params(case_: OpCase, sym: mx.sym.Symbol, values: dict[str, np.ndarray]):
    aux_names = set(sym.list_auxiliary_states())
    arg = {n: v for n, v in values.items() if n in case_.params and n not in aux_names}
    aux = {n: v for n, v in values.items() if n in aux_names}
    data = {n: v for n, v in values.items() if n not in case_.params and n not in aux_names}
    return arg, aux, data


def run_case(case_: OpCase, opset: int, ctx: mx.Context, seed: int = 0) -> dict[str, Any]:
    """Export one case at ``opset`` and compare onnxruntime with MXNet's forward."""
    import onnxruntime as ort

    from serde.onnx import symbol_to_onnx

    record: dict[str, Any] = {"suite": "mxnet_ops", "case": f"{case_.id}@{opset}", "op": case_.op,
                              "opset": opset, "dtype": case_.input_dtype, "rtol": case_.rtol,
                              "atol": case_.atol}
    start = time.perf_counter()
    try:
        rng = np.random.default_rng(seed)
        sym = build_symbol(case_)
        values = make_inputs(case_, rng)
        arg, aux, data = _split_params(case_, sym, values)
        model = symbol_to_onnx(sym, arg, aux, input_shapes={n: v.shape for n, v in data.items()},
                               input_types={n: v.dtype for n, v in data.items()},
                               opset_version=opset, dynamic_batch=case_.dynamic_batch)
        if case_.dynamic_batch:  # check a batch other than the traced one
            values = make_inputs(case_, rng, batch=5)
            arg, aux, data = _split_params(case_, sym, values)
        expected = mxnet_forward(sym, values, ctx)
        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        feed = {i.name: data[i.name] for i in session.get_inputs()}
        actual = session.run(None, feed)
    except Exception as err:
        from serde.errors import UnsupportedOperatorError
        status = "unsupported" if isinstance(err, UnsupportedOperatorError) else "error"
        record.update(status=status, message=f"{type(err).__name__}: {err}"[:500],
                      seconds=time.perf_counter() - start)
        return record
    record["seconds"] = time.perf_counter() - start
    problems, worst_abs, worst_rel = [], 0.0, 0.0
    if len(actual) != len(expected):
        problems.append(f"{len(actual)} outputs, MXNet has {len(expected)}")
    for i, (got, want) in enumerate(zip(actual, expected, strict=False)):
        if got.shape != want.shape:
            problems.append(f"output {i}: shape {got.shape}, MXNet {want.shape}")
            continue
        if got.dtype != want.dtype:
            problems.append(f"output {i}: dtype {got.dtype}, MXNet {want.dtype}")
        abs_err, rel_err = error_stats(got, want)
        worst_abs, worst_rel = max(worst_abs, abs_err), max(worst_rel, rel_err)
        if not np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=case_.rtol,
                           atol=case_.atol, equal_nan=True):
            problems.append(f"output {i}: max abs error {abs_err:.3g}")
    record.update(max_abs_err=worst_abs, max_rel_err=worst_rel,
                  status="wrong-result" if problems else "pass")
    if problems:
        record["message"] = "; ".join(problems)[:500]
    return record


def main(argv: list[str] | None = None) -> int:
    from serde.onnx.export.registry import DEFAULT_EXPORT_OPSET, MIN_EXPORT_OPSET

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--opsets", default="all",
                        help="comma-separated opsets, or 'all' (13..default)")
    parser.add_argument("--ctx", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--filter", default="", help="substring of case ids to run")
    args = parser.parse_args(argv)
    if args.ctx == "gpu" and mx.context.num_gpus() == 0:
        print("no GPU: the gpu run of mxnet_ops is skipped")
        return 0
    ctx = mx.gpu() if args.ctx == "gpu" else mx.cpu()
    opsets = (list(range(MIN_EXPORT_OPSET, DEFAULT_EXPORT_OPSET + 1)) if args.opsets == "all"
              else [int(o) for o in args.opsets.split(",")])
    from tqdm import tqdm
    work = [(c, o) for c in CASES if args.filter in c.id for o in opsets if o >= c.min_opset]
    records = [run_case(c, o, ctx) for c, o in tqdm(work, desc="mxnet ops", unit="case")]
    for r in records:
        r["ctx"] = args.ctx
    path = write_results(records, results_path("mxnet_ops", args.ctx))
    failed = [r for r in records if r["status"] != "pass"]
    for r in failed:
        print(f"FAIL {r['case']}: {r['status']}: {r.get('message', '')}")
    print(f"{len(records) - len(failed)} passed, {len(failed)} failed ({path})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
