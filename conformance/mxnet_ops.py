"""Single-operator export cases: each MXNet op we export, built alone, run by MXNet (the oracle)
and by onnxruntime on the exported model, at every opset asked for.

``python -m conformance.mxnet_ops [--opsets 13,17,28] [--ctx cpu]`` writes
``reports/results/mxnet_ops-<ctx>.jsonl`` and exits non-zero when a case fails.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from .results import error_stats, results_path, write_results

# How input values are drawn: normal | positive | unit | int | small_int | binary | above1 |
# range:LO:HI (integers in [LO, HI)) | probs (rows summing to 1 along the last axis) |
# rois:BATCH:SIZE (boxes [batch_index, x1, y1, x2, y2] inside a SIZE x SIZE image) | distinct
Gen = str


@dataclass(frozen=True)
class OpCase:
    id: str
    op: str  # canonical MXNet op name, as the graph JSON holds it
    build: Callable[..., mx.sym.Symbol]
    inputs: dict[str, tuple[tuple[int, ...], Gen]]
    params: frozenset[str] = frozenset()  # inputs that are parameters (initializers)
    min_opset: int = 13
    max_opset: int | None = None  # newest opset the op exports at (None: every opset)
    input_dtype: str = "float32"
    rtol: float = 1e-4
    atol: float = 1e-5
    dynamic_batch: bool = False
    check_batch: int = 5  # the batch a dynamic-batch export is checked at
    #: Only these opsets (the dtype variants run at the oldest, a middle and the default).
    only_opsets: tuple[int, ...] | None = None
    #: Whether dtype variants are generated (off for ops MXNet crashes on in other dtypes).
    dtype_variants: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: How outputs are compared with MXNet's: "values" (allclose), or, for random ops whose
    #: values cannot match, "distribution" (shape, dtype and a two-sample Kolmogorov-Smirnov
    #: test of each output against MXNet's samples of the same distribution).
    compare: str = "values"

    def covers(self, opset: int) -> bool:
        if self.only_opsets is not None and opset not in self.only_opsets:
            return False
        return self.min_opset <= opset and (self.max_opset is None or opset <= self.max_opset)


def _fn(op: str) -> Callable[..., mx.sym.Symbol]:
    if op.startswith("json:"):  # ops whose Symbol function cannot build them
        return _json_op(op[5:])
    for namespace in (mx.sym, mx.sym._internal, mx.sym.contrib, mx.sym.random):
        if hasattr(namespace, op):
            return getattr(namespace, op)
    return _json_op(op)


def _json_op(op: str) -> Callable[..., mx.sym.Symbol]:
    """Ops with no legacy-Symbol function (the numpy interface's _npi_*/_np_*): the graph
    JSON MXNet itself would write, loaded by MXNet."""
    import json

    def build(*inputs: mx.sym.Symbol, name: str = "op", **attrs: Any) -> mx.sym.Symbol:
        nodes = [{"op": "null", "name": v.name, "inputs": []} for v in inputs]
        nodes.append({"op": op, "name": name, "attrs": {k: str(v) for k, v in attrs.items()},
                      "inputs": [[i, 0, 0] for i in range(len(inputs))]})
        graph = {"nodes": nodes, "arg_nodes": list(range(len(inputs))),
                 "heads": [[len(inputs), 0, 0]], "attrs": {"mxnet_version": ["int", 10901]}}
        sym = mx.sym.load_json(json.dumps(graph))
        internals = sym.get_internals()
        outputs = [n for n in internals.list_outputs() if n.startswith(f"{name}_output")]
        return sym if len(outputs) <= 1 else mx.sym.Group([internals[n] for n in outputs])

    return build


CASES: list[OpCase] = []


def case(case_id: str, op: str, inputs: dict[str, Any], *, params: tuple[str, ...] = (),
         call: str | None = None, **kwargs: Any) -> None:
    """Register a case calling ``mx.sym.<call or op>(*vars, **attrs)``."""
    options = {k: kwargs.pop(k) for k in list(kwargs)
               if k in ("min_opset", "max_opset", "input_dtype", "rtol", "atol", "dynamic_batch",
                        "tags", "compare", "dtype_variants")}
    by_name = kwargs.pop("by_name", False)  # inputs passed as keywords (aux states by name)
    first_output = kwargs.pop("first_output", False)  # compare output 0 only
    attrs = kwargs
    names = list(inputs)
    spec = {n: (v if isinstance(v[0], tuple) else (v, "normal")) for n, v in inputs.items()}

    def build(**vars_: mx.sym.Symbol) -> mx.sym.Symbol:
        if by_name:
            sym = _fn(call or op)(name="op", **vars_, **attrs)
        else:
            sym = _fn(call or op)(*[vars_[n] for n in names], name="op", **attrs)
        return sym[0] if first_output else sym

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
# full convention: windows that start in the end padding (MXNet keeps them, ONNX drops them)
for pool_type in ("max", "avg", "sum", "lp"):
    case(f"pool_{pool_type}_full_pad_window", "Pooling", {"data": (1, 2, 5, 7)}, kernel=(2, 2),
         stride=(2, 2), pad=(1, 1), pool_type=pool_type, pooling_convention="full", p_value=2)
    case(f"pool_{pool_type}_full_1d", "Pooling", {"data": (2, 3, 9)}, kernel=(3,), stride=(2,),
         pad=(1,), pool_type=pool_type, pooling_convention="full", p_value=1)
case("pool_avg_full_exclude_pad", "Pooling", {"data": (1, 2, 5, 5)}, kernel=(3, 3),
     stride=(2, 2), pad=(1, 1), pool_type="avg", pooling_convention="full",
     count_include_pad=False)
for p_value in (1, 3):
    case(f"pool_lp_p{p_value}", "Pooling", {"data": (1, 3, 9, 8)}, kernel=(3, 3),
         stride=(2, 2), pad=(1, 1), pool_type="lp", p_value=p_value, rtol=1e-3, atol=1e-4)
    case(f"pool_global_lp_p{p_value}", "Pooling", {"data": X4}, kernel=(1, 1),
         global_pool=True, pool_type="lp", p_value=p_value, rtol=1e-3, atol=1e-4)
case("pool_global_sum", "Pooling", {"data": X4}, kernel=(1, 1), global_pool=True,
     pool_type="sum")
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
     params=("gamma", "beta"))
case("layer_norm_axis1", "LayerNorm", {"data": (2, 3, 4, 5), "gamma": (3,), "beta": (3,)},
     params=("gamma", "beta"), axis=1, eps=1e-3)
case("layer_norm_mean_var", "LayerNorm", {"data": (2, 3, 6), "gamma": (6,), "beta": (6,)},
     params=("gamma", "beta"), output_mean_var=True)
case("layer_norm_dynamic_batch", "LayerNorm", {"data": (2, 3, 6), "gamma": (6,), "beta": (6,)},
     params=("gamma", "beta"), dynamic_batch=True)

# --- activations ------------------------------------------------------------------------------
for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
    case(f"activation_{act}", "Activation", {"data": X4}, act_type=act)
for op in ("relu", "sigmoid", "tanh", "softsign"):
    case(op, op, {"data": X4})
for act, extra in (("leaky", {"slope": 0.1}), ("elu", {"slope": 0.3}), ("selu", {}),
                   ("gelu", {})):
    case(f"leaky_relu_{act}", "LeakyReLU", {"data": X4}, act_type=act, **extra)
case("leaky_relu_rrelu", "LeakyReLU", {"data": X4}, act_type="rrelu", lower_bound=0.1,
     upper_bound=0.3, first_output=True)  # MXNet leaves its mask output uninitialised
case("leaky_relu_prelu", "LeakyReLU", {"data": X4, "gamma": ((3,), "positive")},
     params=("gamma",), act_type="prelu")
case("softmax", "softmax", {"data": X4}, axis=1)
case("softmax_last_temperature", "softmax", {"data": X2}, temperature=2.0)
case("log_softmax", "log_softmax", {"data": X2}, axis=-1)
case("softmax_use_length", "softmax", {"data": X2, "length": ((4,), "range:0:7", "int32")},
     axis=-1, use_length=True)
case("softmax_use_length_axis1", "softmax",
     {"data": (2, 5, 3), "length": ((2, 3), "range:1:6", "int64")}, axis=1, use_length=True,
     temperature=0.5)
case("softmax_use_length_dynamic", "softmax",
     {"data": (2, 4, 6), "length": ((2, 4), "range:1:7", "int32")}, use_length=True,
     dynamic_batch=True)
case("softmax_activation", "SoftmaxActivation", {"data": X2})
case("softmax_activation_channel", "SoftmaxActivation", {"data": X4}, mode="channel")
case("softmax_output", "SoftmaxOutput", {"data": X2})
case("softmax_output_4d", "SoftmaxOutput", {"data": X4})
case("softmax_output_multi", "SoftmaxOutput", {"data": X4}, multi_output=True)
case("logistic_regression_output", "LogisticRegressionOutput", {"data": X2})
case("linear_regression_output", "LinearRegressionOutput", {"data": X2})
case("mae_regression_output", "MAERegressionOutput", {"data": X2})
case("svm_output", "SVMOutput", {"data": X2})
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
case("reshape_codes_dynamic", "Reshape", {"data": (2, 6, 4, 5)}, shape=(-3, -4, 2, -1, -2),
     dynamic_batch=True)
case("reshape_fixed_leading_dynamic", "Reshape", {"data": (2, 3, 4)}, shape=(2, -1),
     dynamic_batch=True)
case("reshape_reverse", "Reshape", {"data": (2, 3, 5)}, shape=(-1, 0), reverse=True)
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

# --- reductions -------------------------------------------------------------------------------
for op in ("sum", "mean", "max", "min", "prod"):
    case(f"{op}_all", op, {"data": (2, 3, 4)})
    case(f"{op}_axis_keepdims", op, {"data": X4}, axis=(1, -1), keepdims=True)
    case(f"{op}_exclude", op, {"data": X4}, axis=(0, 2), exclude=True)
case("sum_axis_neg", "sum", {"data": X4}, axis=-2)
case("sum_all_keepdims", "sum", {"data": (2, 3, 4)}, keepdims=True)
case("sum_axis_alias", "sum", {"data": X4}, call="sum_axis", axis=1)
case("sum_exclude_everything", "sum", {"data": (2, 3)}, axis=(0, 1), exclude=True)
case("mean_int", "mean", {"data": ((3, 4), "int")}, axis=1, input_dtype="int32")
for order in (1, 2):
    case(f"norm_ord{order}", "norm", {"data": X4}, ord=order)
    case(f"norm_ord{order}_axis_keepdims", "norm", {"data": X4}, ord=order, axis=(1,),
         keepdims=True)
case("norm_axes", "norm", {"data": X4}, axis=(2, 3))
for op in ("argmax", "argmin"):
    case(f"{op}_axis", op, {"data": (X4, "distinct")}, axis=1)
    case(f"{op}_keepdims", op, {"data": (X4, "distinct")}, axis=-1, keepdims=True)
    case(f"{op}_flat", op, {"data": ((3, 4), "distinct")})
case("argmax_flat_keepdims", "argmax", {"data": ((3, 4), "distinct")}, keepdims=True)
case("argmax_float64", "argmax", {"data": ((3, 4), "distinct")}, axis=0, input_dtype="float64")

# --- indexing ---------------------------------------------------------------------------------
case("take", "take", {"a": (5, 3), "idx": ((2, 4), "range:0:5")})
case("take_axis_clip", "take", {"a": (2, 6, 3), "idx": ((7,), "range:-4:10")}, axis=1)
case("take_wrap", "take", {"a": (2, 6, 3), "idx": ((2, 3), "range:-9:14")}, axis=-1,
     mode="wrap")
case("take_raise", "take", {"a": (4, 3), "idx": ((5,), "range:0:4")}, mode="raise")
case("take_int_indices", "take", {"a": (5, 3), "idx": ((4,), "range:0:5")},
     input_dtype="int32")
case("embedding", "Embedding", {"data": ((2, 5), "range:-2:12"), "w": (10, 4)}, params=("w",),
     input_dim=10, output_dim=4)
case("gather_nd", "gather_nd", {"data": (3, 4, 5), "idx": ((2, 6), "range:0:3")})
case("gather_nd_partial", "gather_nd", {"data": (3, 4, 5), "idx": ((1, 2, 2), "range:0:3")})
case("one_hot", "one_hot", {"idx": ((2, 5), "range:-2:7")}, depth=6)
case("one_hot_values_int32", "one_hot", {"idx": ((6,), "range:0:4")}, depth=4, on_value=5,
     off_value=-1, dtype="int32")
case("one_hot_float16", "one_hot", {"idx": ((6,), "range:0:4")}, depth=4, dtype="float16")
case("where", "where", {"c": (X4, "binary"), "x": X4, "y": X4})
case("where_rows", "where", {"c": ((2,), "binary"), "x": (2, 3, 4), "y": (2, 3, 4)})
case("where_int", "where", {"c": ((3, 4), "small_int"), "x": ((3, 4), "int"),
                            "y": ((3, 4), "int")}, input_dtype="int32")
for ret in ("value", "indices", "both", "mask"):
    case(f"topk_{ret}", "topk", {"data": (X4, "distinct")}, k=2, axis=1, ret_typ=ret)
case("topk_default", "topk", {"data": ((3, 5), "distinct")})
case("topk_ascend_int32", "topk", {"data": (X4, "distinct")}, k=3, axis=-1, ret_typ="both",
     is_ascend=True, dtype="int32")
case("topk_flat", "topk", {"data": ((3, 5), "distinct")}, k=4, axis=None, ret_typ="both")
case("topk_flat_mask", "topk", {"data": ((3, 5), "distinct")}, k=4, axis=None, ret_typ="mask")
case("topk_k0_all", "topk", {"data": ((3, 5), "distinct")}, k=0, ret_typ="value")
case("argsort", "argsort", {"data": (X4, "distinct")})
case("argsort_desc_axis", "argsort", {"data": (X4, "distinct")}, axis=1, is_ascend=False,
     dtype="int64")
case("argsort_flat", "argsort", {"data": ((3, 5), "distinct")}, axis=None)
case("repeat_axis", "repeat", {"data": (2, 3, 4)}, repeats=3, axis=1)
case("repeat_neg_axis", "repeat", {"data": (2, 3, 4)}, repeats=2, axis=-1)
case("repeat_flat", "repeat", {"data": (2, 3)}, repeats=2)

# --- linear algebra ---------------------------------------------------------------------------
case("dot", "dot", {"a": (3, 4), "b": (4, 5)})
case("dot_nd", "dot", {"a": (2, 3, 4), "b": (4, 5, 2)})
case("dot_transpose_a", "dot", {"a": (4, 3, 2), "b": (4, 5)}, transpose_a=True)
case("dot_transpose_b", "dot", {"a": (2, 3, 4), "b": (6, 4)}, transpose_b=True)
case("dot_transpose_both", "dot", {"a": (4, 3), "b": (5, 4)}, transpose_a=True,
     transpose_b=True)
case("dot_vectors", "dot", {"a": (5,), "b": (5,)})
case("dot_param", "dot", {"a": (3, 4), "w": (4, 6)}, params=("w",))
case("batch_dot", "batch_dot", {"a": (2, 3, 4), "b": (2, 4, 5)})
case("batch_dot_transpose", "batch_dot", {"a": (2, 4, 3), "b": (2, 5, 4)}, transpose_a=True,
     transpose_b=True)
case("batch_dot_4d", "batch_dot", {"a": (2, 2, 3, 4), "b": (2, 2, 4, 5)})
case("linalg_gemm2", "_linalg_gemm2", {"a": (2, 3, 4), "b": (2, 4, 5)}, call="linalg_gemm2")
case("linalg_gemm2_alpha_transpose", "_linalg_gemm2", {"a": (2, 4, 3), "b": (2, 5, 4)},
     call="linalg_gemm2", transpose_a=True, transpose_b=True, alpha=0.5)
case("div_sqrt_dim", "_contrib_div_sqrt_dim", {"data": (2, 3, 16)}, call="div_sqrt_dim")
case("selfatt_qk", "_contrib_interleaved_matmul_selfatt_qk", {"qkv": (5, 2, 24)},
     call="interleaved_matmul_selfatt_qk", heads=2)
case("selfatt_valatt", "_contrib_interleaved_matmul_selfatt_valatt",
     {"qkv": (5, 2, 24), "att": (4, 5, 5)}, call="interleaved_matmul_selfatt_valatt", heads=2)

# --- creation ---------------------------------------------------------------------------------
case("zeros", "_zeros", {}, call="zeros", shape=(2, 3))
case("ones_int32", "_ones", {}, call="ones", shape=(3, 1, 2), dtype="int32")
case("arange", "_arange", {}, call="arange", start=1.5, stop=7, step=0.5)
case("arange_stop_none", "_arange", {}, call="arange", start=6)  # means 0 .. 5
case("arange_stop_none_step", "_arange", {}, call="arange", start=7, step=2, dtype="int64")
case("arange_repeat_int", "_arange", {}, call="arange", start=-2, stop=5, repeat=2,
     dtype="int32")
# (no float16 variants: MXNet 1.9.1's float16 arange_like returns `start` everywhere)
case("arange_like", "_contrib_arange_like", {"data": (2, 3, 4)}, call="arange_like",
     start=1.0, step=0.5, dtype_variants=False)
case("arange_like_axis_repeat", "_contrib_arange_like", {"data": (2, 6, 4)},
     call="arange_like", axis=1, repeat=2, start=-1.0, step=2.0)
case("arange_like_dynamic_batch", "_contrib_arange_like", {"data": (2, 3)},
     call="arange_like", axis=0, dynamic_batch=True)

# --- sequences --------------------------------------------------------------------------------
case("sequence_mask", "SequenceMask", {"data": (5, 3, 4), "len": ((3,), "range:1:6")},
     use_sequence_length=True, value=-1.5)
case("sequence_mask_axis1", "SequenceMask", {"data": (3, 5, 2), "len": ((3,), "range:0:6")},
     use_sequence_length=True, axis=1)
case("sequence_mask_2d", "SequenceMask", {"data": (5, 3), "len": ((3,), "range:1:6")},
     use_sequence_length=True)
case("sequence_mask_off", "SequenceMask", {"data": (5, 3, 4)})
case("sequence_reverse", "SequenceReverse", {"data": (5, 3, 4), "len": ((3,), "range:1:6")},
     use_sequence_length=True)
case("sequence_reverse_2d", "SequenceReverse", {"data": (5, 3), "len": ((3,), "range:1:6")},
     use_sequence_length=True)
case("sequence_reverse_off", "SequenceReverse", {"data": (5, 3, 4)})

# --- spatial ----------------------------------------------------------------------------------
case("pad_constant", "Pad", {"data": X4}, mode="constant", pad_width=(0, 0, 0, 0, 1, 2, 3, 0),
     constant_value=1.5)
case("pad_edge", "Pad", {"data": X4}, mode="edge", pad_width=(0, 0, 0, 0, 2, 1, 1, 2))
case("pad_reflect_5d", "Pad", {"data": (1, 2, 3, 4, 5)}, mode="reflect",
     pad_width=(0, 0, 0, 0, 1, 1, 2, 0, 0, 3))
case("upsampling_nearest", "UpSampling", {"data": X4}, scale=2, sample_type="nearest")
case("upsampling_nearest_multi", "UpSampling", {"a": (1, 3, 4, 4), "b": (1, 2, 8, 8)},
     scale=2, sample_type="nearest", num_args=2)
case("upsampling_nearest_multi_sum", "UpSampling", {"a": (1, 3, 4, 4), "b": (1, 3, 2, 2)},
     scale=3, sample_type="nearest", num_args=2, multi_input_mode="sum")
for scale in (2, 3):
    case(f"upsampling_bilinear_x{scale}", "UpSampling", {"data": (1, 3, 5, 4),
                                                        "w": (3, 1, 2 * scale - scale % 2,
                                                              2 * scale - scale % 2)},
         params=("w",), scale=scale, sample_type="bilinear", num_filter=3, num_args=2)
case("crop_offset", "Crop", {"data": (2, 3, 9, 8)}, offset=(2, 1), h_w=(4, 5), num_args=1)
case("crop_center", "Crop", {"data": (2, 3, 9, 8)}, h_w=(4, 5), center_crop=True, num_args=1)
case("crop_like", "Crop", {"data": (2, 3, 9, 8), "like": (2, 3, 5, 6)}, center_crop=True,
     num_args=2)
for mode in ("instance", "channel", "spatial"):
    case(f"l2_normalization_{mode}", "L2Normalization", {"data": X4}, mode=mode)
case("l2_normalization_3d", "L2Normalization", {"data": (2, 3, 5)}, eps=1e-3)
case("bilinear_resize", "_contrib_BilinearResize2D", {"data": (1, 2, 5, 6)},
     call="BilinearResize2D", height=9, width=4)
case("bilinear_resize_no_align", "_contrib_BilinearResize2D", {"data": (1, 2, 5, 6)},
     call="BilinearResize2D", height=8, width=13, align_corners=False)
case("bilinear_resize_scale", "_contrib_BilinearResize2D", {"data": (2, 2, 5, 6)},
     call="BilinearResize2D", scale_height=1.6, scale_width=0.5)
case("bilinear_resize_like", "_contrib_BilinearResize2D",
     {"data": (1, 2, 5, 6), "like": (1, 1, 7, 3)}, call="BilinearResize2D", mode="like")
case("bilinear_resize_odd_scale", "_contrib_BilinearResize2D", {"data": (1, 2, 5, 6)},
     call="BilinearResize2D", scale_height=2.0, scale_width=2.0, mode="odd_scale",
     align_corners=False)
case("bilinear_resize_dynamic_batch", "_contrib_BilinearResize2D", {"data": (2, 2, 5, 6)},
     call="BilinearResize2D", height=7, width=7, dynamic_batch=True)
case("adaptive_avg_pool_global", "_contrib_AdaptiveAvgPooling2D", {"data": X4},
     call="AdaptiveAvgPooling2D")
case("adaptive_avg_pool_even", "_contrib_AdaptiveAvgPooling2D", {"data": (1, 2, 6, 8)},
     call="AdaptiveAvgPooling2D", output_size=(3, 4))
case("adaptive_avg_pool_uneven", "_contrib_AdaptiveAvgPooling2D", {"data": (2, 3, 7, 5)},
     call="AdaptiveAvgPooling2D", output_size=(3, 4))
case("adaptive_avg_pool_int", "_contrib_AdaptiveAvgPooling2D", {"data": (1, 2, 7, 9)},
     call="AdaptiveAvgPooling2D", output_size=4)
# ROI ops: onnxruntime runs MaxRoiPool/RoiAlign up to opset 21; from 22 they are decomposed.
case("roi_pooling", "ROIPooling", {"data": (2, 3, 12, 12), "rois": ((5, 5), "rois:2:24")},
     pooled_size=(3, 2), spatial_scale=0.5)
case("roi_pooling_negative_index", "ROIPooling",
     {"data": (2, 3, 12, 12), "rois": ((6, 5), "rois:-1:2:24")}, pooled_size=(2, 2),
     spatial_scale=0.5)
case("roi_pooling_big_bins", "ROIPooling", {"data": (1, 2, 9, 11), "rois": ((4, 5), "rois:1:11")},
     pooled_size=(4, 5), spatial_scale=1.0)
case("roi_align", "_contrib_ROIAlign", {"data": (2, 3, 12, 12), "rois": ((5, 5), "rois:2:24")},
     call="ROIAlign", pooled_size=(3, 2), spatial_scale=0.5, sample_ratio=2)
# (No ROIAlign case with padding rois, index -1: MXNet's CPU kernel leaves their rows
# uninitialised and zeroes element n of the output instead; the export gives zeros there.)
case("roi_align_outside", "_contrib_ROIAlign",
     {"data": (1, 2, 8, 8), "rois": ((5, 5), "rois:1:20")}, call="ROIAlign",
     pooled_size=(2, 3), spatial_scale=0.5, sample_ratio=3)
case("roi_align_adaptive", "_contrib_ROIAlign",
     {"data": (2, 3, 12, 12), "rois": ((4, 5), "rois:2:12")}, call="ROIAlign",
     pooled_size=(2, 2), spatial_scale=1.0, max_opset=21)
case("roi_align_aligned", "_contrib_ROIAlign",
     {"data": (2, 3, 12, 12), "rois": ((4, 5), "rois:2:24")}, call="ROIAlign",
     pooled_size=(3, 3), spatial_scale=0.5, sample_ratio=2, aligned=True)
# dynamic batch: the per-ROI feature copies; static: two plain products (one image and two)
case("roi_align_dynamic_batch", "_contrib_ROIAlign",
     {"data": (2, 3, 12, 12), "rois": ((5, 5), "rois:2:24")}, call="ROIAlign",
     pooled_size=(3, 2), spatial_scale=0.5, sample_ratio=2, dynamic_batch=True)
case("roi_align_position_sensitive", "_contrib_ROIAlign",
     {"data": (2, 8, 10, 10), "rois": ((3, 5), "rois:2:20")}, call="ROIAlign",
     pooled_size=(2, 2), spatial_scale=0.5, sample_ratio=2, position_sensitive=True)

RPN = {"cls_prob": ((1, 6, 4, 5), "probs_axis1"), "bbox_pred": ((1, 12, 4, 5), "small"),
       "im_info": ((1, 3), "im_info:64:80")}
case("proposal", "_contrib_Proposal", RPN, call="Proposal", rpn_pre_nms_top_n=30,
     rpn_post_nms_top_n=12, threshold=0.5, rpn_min_size=4, scales=(2.0,), ratios=(0.5, 1, 2),
     feature_stride=16, output_score=True, dtype_variants=False)
case("proposal_cycled", "_contrib_Proposal", RPN, call="Proposal", rpn_pre_nms_top_n=40,
     rpn_post_nms_top_n=30, threshold=0.3, rpn_min_size=8, scales=(1.0, 2.0, 4.0), ratios=(1.0,),
     feature_stride=16, dtype_variants=False)
case("multi_proposal", "_contrib_MultiProposal",
     {"cls_prob": ((2, 6, 4, 5), "probs_axis1"), "bbox_pred": ((2, 12, 4, 5), "small"),
      "im_info": ((2, 3), "im_info:64:80")}, call="MultiProposal", rpn_pre_nms_top_n=30,
     rpn_post_nms_top_n=10, threshold=0.5, rpn_min_size=4, scales=(2.0,), ratios=(0.5, 1, 2),
     feature_stride=16, output_score=True, dtype_variants=False)
case("psroi_pooling", "_contrib_PSROIPooling",
     {"data": (2, 18, 10, 12), "rois": ((4, 5), "rois:2:20")}, call="PSROIPooling",
     spatial_scale=0.5, output_dim=2, pooled_size=3)
case("psroi_pooling_groups", "_contrib_PSROIPooling",
     {"data": (1, 12, 8, 8), "rois": ((3, 5), "rois:1:16")}, call="PSROIPooling",
     spatial_scale=0.5, output_dim=3, pooled_size=4, group_size=2)

# --- recurrent --------------------------------------------------------------------------------


def _rnn_param_count(mode: str, inputs: int, hidden: int, layers: int, dirs: int) -> int:
    gates = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}[mode]
    count = 0
    for layer in range(layers):
        cols = inputs if layer == 0 else dirs * hidden
        count += dirs * gates * hidden * (cols + hidden + 2)
    return count


for mode in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
    for layers, bidir in ((1, False), (1, True), (2, False), (2, True)):
        dirs = 2 if bidir else 1
        states = {"h0": (layers * dirs, 3, 5)}
        if mode == "lstm":
            states["c0"] = (layers * dirs, 3, 5)
        case(f"rnn_{mode}_l{layers}{'_bidir' if bidir else ''}", "RNN",
             {"data": (4, 3, 6), "params": ((_rnn_param_count(mode, 6, 5, layers, dirs),),
                                            "unit"), **states},
             params=("params",), mode=mode, state_size=5, num_layers=layers,
             bidirectional=bidir, state_outputs=True, rtol=1e-3, atol=1e-4)
case("rnn_lstm_no_state_outputs", "RNN",
     {"data": (4, 3, 6), "params": ((_rnn_param_count("lstm", 6, 5, 1, 1),), "unit"),
      "h0": (1, 3, 5), "c0": (1, 3, 5)}, params=("params",), mode="lstm", state_size=5,
     num_layers=1, rtol=1e-3, atol=1e-4)
case("rnn_gru_params_as_input", "RNN",
     {"data": (4, 3, 6), "params": ((_rnn_param_count("gru", 6, 5, 2, 1),), "unit"),
      "h0": (2, 3, 5)}, mode="gru", state_size=5, num_layers=2, state_outputs=True,
     rtol=1e-3, atol=1e-4)
case("rnn_param_concat", "_rnn_param_concat", {"a": (6,), "b": (4,), "c": (3,)},
     call="_rnn_param_concat", dim=0, num_args=3)
case("rnn_param_concat_params", "_rnn_param_concat", {"x": (2, 3), "a": (2, 3), "b": (2, 1)},
     params=("a", "b"), call="_rnn_param_concat", dim=1, num_args=3)
case("rnn_param_concat_folded", "_rnn_param_concat", {"a": (2, 3), "b": (2, 1)},
     params=("a", "b"), call="_rnn_param_concat", dim=1, num_args=2)

# --- numpy interface (_npi_*, _np_*, _npx_*) ------------------------------------------------------
NP_UNARY = {"absolute": "normal", "arccos": "unit", "arccosh": "above1", "arcsin": "unit",
            "arcsinh": "normal", "arctan": "normal", "arctanh": "unit", "cos": "normal",
            "cosh": "unit", "exp": "normal", "log": "positive", "negative": "normal",
            "reciprocal": "positive", "sign": "normal", "sin": "normal", "sinh": "unit",
            "sqrt": "positive", "tan": "unit", "tanh": "normal", "ceil": "normal",
            "floor": "normal", "rint": "normal", "trunc": "normal", "fix": "normal",
            "expm1": "unit", "log1p": "positive", "log2": "positive", "log10": "positive",
            "square": "normal", "cbrt": "normal", "degrees": "normal", "radians": "normal"}
for name, gen in NP_UNARY.items():
    case(f"np_{name}", f"_npi_{name}", {"data": (X4, gen)})
case("np_sqrt_int", "_npi_sqrt", {"data": ((3, 4), "range:0:9")}, input_dtype="int32")
case("np_floor_int", "_npi_floor", {"data": ((3, 4), "int")}, input_dtype="int32")
case("np_absolute_int64", "_npi_absolute", {"data": ((3, 4), "int")}, input_dtype="int64")
case("npx_relu", "_npx_relu", {"data": X4})
case("npx_sigmoid", "_npx_sigmoid", {"data": X4})
case("np_copy", "_np_copy", {"data": X4})
case("np_logical_not", "_npi_logical_not", {"data": ((3, 4), "binary")})
for name in ("isnan", "isinf", "isposinf", "isneginf", "isfinite"):
    case(f"np_{name}", f"_npi_{name}", {"data": ((3, 4), "specials")})
case("np_isfinite_int", "_npi_isfinite", {"data": ((3, 4), "int")}, input_dtype="int32")
case("np_bitwise_not", "_npi_bitwise_not", {"data": ((3, 4), "int")}, input_dtype="int32",
     min_opset=18)
NP_BCAST = {"a": (2, 3, 4), "b": (3, 1)}
for name in ("add", "subtract", "multiply", "hypot", "arctan2", "copysign"):
    case(f"np_{name}", f"_npi_{name}", NP_BCAST)
case("np_true_divide", "_npi_true_divide", {"a": (2, 3, 4), "b": ((3, 1), "positive")})
case("np_true_divide_int", "_npi_true_divide",
     {"a": ((3, 4), "int"), "b": ((3, 4), "positive_int")}, input_dtype="int32")
case("np_power", "_npi_power", {"a": ((2, 3, 4), "positive"), "b": (3, 1)})
case("np_mod", "_npi_mod", {"a": ((2, 3, 4), "int"), "b": ((3, 1), "int")},
     input_dtype="float32", rtol=1e-4, atol=1e-4)
case("np_mod_int", "_npi_mod", {"a": ((3, 4), "int"), "b": ((3, 4), "int")},
     input_dtype="int32")
case("np_ldexp", "_npi_ldexp", {"a": (2, 3), "b": ((2, 3), "small_int")})
case("np_add_mixed_dtypes", "_npi_add", {"a": ((2, 3), "normal", "float32"),
                                         "b": ((2, 3), "int", "int32")})
case("np_multiply_int64", "_npi_multiply", {"a": ((2, 3), "int"), "b": ((3,), "int")},
     input_dtype="int64")
for name in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
    case(f"np_{name}", f"_npi_{name}", {"a": ((2, 3, 4), "small_int"), "b": ((4,), "small_int")})
    case(f"np_{name}_scalar", f"_npi_{name}_scalar", {"data": ((3, 4), "small_int")},
         scalar=1.0)
for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    case(f"np_{name}", f"_npi_{name}", {"a": ((3, 4), "int"), "b": ((4,), "int")},
         input_dtype="int32", min_opset=18)
    case(f"np_{name}_scalar", f"_npi_{name}_scalar", {"data": ((3, 4), "int")},
         input_dtype="int32", scalar=6, is_int=True, min_opset=18)
for name in ("add", "subtract", "rsubtract", "multiply", "true_divide", "power",
             "arctan2", "rarctan2", "copysign", "rcopysign", "ldexp", "rldexp"):
    case(f"np_{name}_scalar", f"_npi_{name}_scalar", {"data": (X4, "positive")}, scalar=1.5,
         is_int=False)
case("np_rtrue_divide_scalar", "_npi_rtrue_divide_scalar", {"data": (X4, "positive")},
     scalar=2.0, is_int=False)
case("np_rpower_scalar", "_npi_rpower_scalar", {"data": X4}, scalar=1.5, is_int=False)
case("np_mod_scalar", "_npi_mod_scalar", {"data": ((3, 4), "int")}, scalar=3.0, is_int=False,
     atol=1e-4)
case("np_rmod_scalar", "_npi_rmod_scalar", {"data": ((3, 4), "int")}, scalar=7.0,
     is_int=False, atol=1e-4)
case("np_add_scalar_int", "_npi_add_scalar", {"data": ((3, 4), "int")}, scalar=2, is_int=True,
     input_dtype="int32")
case("np_multiply_scalar_int_by_float", "_npi_multiply_scalar", {"data": ((3, 4), "int")},
     scalar=0.5, is_int=False, input_dtype="int32")
for op in ("_np_sum", "_np_max", "_np_min", "_np_prod", "_npi_mean"):
    short = op.split("_")[-1]
    case(f"np_{short}_all", op, {"data": (2, 3, 4)})
    case(f"np_{short}_axes_keepdims", op, {"data": X4}, axis=(1, -1), keepdims=True)
    case(f"np_{short}_axis", op, {"data": X4}, axis=2)
case("np_sum_int_dtype", "_np_sum", {"data": ((3, 4), "int")}, axis=0, dtype="int64",
     input_dtype="int32")
case("np_mean_0d", "_npi_mean", {"data": ((), "normal")})
for op in ("_np_all", "_np_any"):
    case(f"{op}_all", op, {"data": ((3, 4), "binary")})
    case(f"{op}_axis", op, {"data": ((3, 4, 2), "binary")}, axis=1, keepdims=True)
for op in ("_npi_std", "_npi_var"):
    case(f"{op}", op, {"data": X4}, axis=(1, 2))
    case(f"{op}_ddof_all", op, {"data": (3, 4)}, ddof=1)
for op in ("_npi_argmax", "_npi_argmin"):
    case(f"{op}_axis", op, {"data": (X4, "distinct")}, axis=1)
    case(f"{op}_flat", op, {"data": ((3, 4), "distinct")})
    case(f"{op}_keepdims", op, {"data": (X4, "distinct")}, axis=-1, keepdims=True)
case("np_average", "_npi_average", {"data": (3, 4), "w": ((4,), "positive")}, axis=1)
case("np_average_unweighted", "_npi_average", {"data": (3, 4)}, weighted=False)
case("np_reshape", "_np_reshape", {"data": X4}, newshape=(6, -1))
case("np_reshape_dynamic", "_np_reshape", {"data": X4}, newshape=(2, -1), dynamic_batch=True)
case("npx_reshape_codes", "_npx_reshape", {"data": X4}, newshape=(-2, -1))
case("npx_reshape_split", "_npx_reshape", {"data": (2, 6, 5)}, newshape=(-2, -6, 2, 3, -2))
case("npx_reshape_dynamic", "_npx_reshape", {"data": (2, 6, 1, 5)},
     newshape=(-2, -6, -1, 3, -3, -2), dynamic_batch=True)
case("npx_reshape_merge_dynamic", "_npx_reshape", {"data": (2, 3, 4)}, newshape=(-5, -4),
     dynamic_batch=True)
case("np_transpose", "_np_transpose", {"data": X4}, axes=(0, 2, 3, 1))
case("np_transpose_default", "_np_transpose", {"data": (2, 3, 4)})
case("np_squeeze", "_np_squeeze", {"data": (2, 1, 3, 1)}, axis=1)
case("np_squeeze_all", "_np_squeeze", {"data": (2, 1, 3, 1)})
case("np_moveaxis", "_np_moveaxis", {"data": X4}, source=(0, 1), destination=(3, 2))
case("np_roll", "_np_roll", {"data": X4}, shift=(2, -1), axis=(1, 3))
case("np_roll_flat", "_np_roll", {"data": (3, 4)}, shift=5)
case("np_flip", "_npi_flip", {"data": X4}, axis=(0, 2))
case("np_concatenate", "_npi_concatenate", {"a": (2, 3), "b": (4, 3)}, axis=0, num_args=2)
case("np_concatenate_flat", "_npi_concatenate", {"a": (2, 3), "b": (4,)}, axis=None,
     num_args=2)
case("np_stack", "_npi_stack", {"a": (2, 3), "b": (2, 3)}, axis=-1, num_args=2)
for op in ("_npi_vstack", "_npi_hstack", "_npi_dstack", "_npi_column_stack"):
    case(f"{op}_1d", op, {"a": (3,), "b": (3,)}, num_args=2)
    case(f"{op}_2d", op, {"a": (3, 2), "b": (3, 2)}, num_args=2)
for op in ("_np_atleast_1d", "_np_atleast_2d", "_np_atleast_3d"):
    case(op, op, {"a": ((), "normal"), "b": (3,), "c": (2, 3)}, num_args=3)
case("np_broadcast_to", "_npi_broadcast_to", {"data": (3, 1)}, shape=(2, 3, 4))
case("np_tril", "_npi_tril", {"data": (3, 4, 5)}, k=1)
case("np_where", "_npi_where", {"c": ((2, 3), "binary"), "x": (2, 3), "y": (3,)})
case("np_where_lscalar", "_npi_where_lscalar", {"c": ((2, 3), "binary"), "y": (2, 3)},
     scalar=2.5)
case("np_where_rscalar", "_npi_where_rscalar", {"c": ((2, 3), "binary"), "x": (2, 3)},
     scalar=-1.0)
case("np_where_scalar2", "_npi_where_scalar2", {"c": ((2, 3), "binary")}, x=1.5, y=-2.0)
case("np_cumsum", "_np_cumsum", {"data": X4}, axis=2)
case("np_cumsum_flat", "_np_cumsum", {"data": (3, 4)})
case("np_matmul", "_npi_matmul", {"a": (2, 3, 4), "b": (4, 5)})
case("np_matmul_batched", "_npi_matmul", {"a": (2, 1, 3, 4), "b": (3, 4, 2)})
case("np_dot_nd", "_np_dot", {"a": (2, 3, 4), "b": (5, 4, 2)})
case("np_dot_vec", "_np_dot", {"a": (2, 3, 4), "b": (4,)})
case("np_dot_2d", "_np_dot", {"a": (3, 4), "b": (4, 2)})
case("np_tensordot", "_npi_tensordot", {"a": (3, 4, 5), "b": (4, 3, 2)}, a_axes_summed=(0, 1),
     b_axes_summed=(1, 0))
case("np_tensordot_int", "_npi_tensordot_int_axes", {"a": (3, 4, 5), "b": (4, 5, 2)}, axes=2)
case("np_einsum", "_npi_einsum", {"a": (2, 3, 4), "b": (2, 4, 5)}, subscripts="bij,bjk->bik",
     num_args=2)
case("np_pad_constant", "_npi_pad", {"data": (2, 3)}, pad_width=((1, 2), (0, 1)),
     mode="constant", constant_value=0.5)
case("np_pad_edge", "_npi_pad", {"data": (2, 3, 4)}, pad_width=((0, 0), (1, 1), (2, 0)),
     mode="edge")
case("np_pad_reflect", "_npi_pad", {"data": (1, 4, 5)}, pad_width=((0, 0), (2, 1), (1, 2)),
     mode="reflect")
case("np_diff", "_npi_diff", {"data": (3, 6)}, n=2, axis=1)
case("np_diag_matrix", "_np_diag", {"data": (4, 5)}, k=1)
case("np_diag_vector", "_np_diag", {"data": (3,)}, k=-1)
case("np_diagonal", "_np_diagonal", {"data": (2, 4, 3)}, offset=-1, axis1=1, axis2=2)
case("np_trace", "_np_trace", {"data": (2, 4, 4)}, offset=1, axis1=1, axis2=2)
for k in (1, 2, 3):
    case(f"np_rot90_k{k}", "_npi_rot90", {"data": (2, 3, 4)}, k=k, axes=(1, 2))
case("np_hsplit", "_npi_hsplit", {"data": (3, 6)}, indices=(0, 2, 5), axis=1, sections=0,
     squeeze_axis=False)
case("np_dsplit", "_npi_dsplit", {"data": (2, 3, 6)}, indices=(), axis=2, sections=3,
     squeeze_axis=False)
case("np_zeros", "_npi_zeros", {}, shape=(2, 3), dtype="float32")
case("np_ones_int", "_npi_ones", {}, shape=(3,), dtype="int32")
case("np_identity", "_npi_identity", {}, shape=(3, 3), dtype="float32")
case("np_eye", "_npi_eye", {}, N=3, M=4, k=1, dtype="float32")
case("np_arange", "_npi_arange", {}, start=2, stop=8, step=1.5, dtype="float32")
case("np_indices", "_npi_indices", {}, dimensions=(2, 3), dtype="int32")
for op in ("_npi_hanning", "_npi_hamming", "_npi_blackman"):
    case(op, op, {}, M=7, dtype="float32")
case("np_logspace", "_npi_logspace", {}, start=0, stop=2, num=5, endpoint=True, base=10.0,
     dtype="float32")
case("np_full_like", "_npi_full_like", {"data": (2, 3)}, fill_value=3.5)
case("np_full_like_dynamic", "_npi_full_like", {"data": (2, 3)}, fill_value=-1,
     dynamic_batch=True)

# --- math without a single ONNX op ---------------------------------------------------------------
case("gamma", "gamma", {"data": ((3, 4), "gamma_args")}, rtol=1e-4, atol=1e-5)
case("gammaln", "gammaln", {"data": ((3, 4), "gamma_args")}, rtol=1e-4, atol=1e-4)
case("erfinv", "erfinv", {"data": ((4, 5), "unit")}, rtol=1e-4, atol=1e-5)
case("erfinv_tails", "erfinv", {"data": ((2, 4), "near_one")}, rtol=1e-3, atol=1e-4)
for op in ("cbrt", "rcbrt", "degrees", "radians", "fix", "trunc", "rint"):
    case(op, op, {"data": (X4, "normal")})
case("hypot", "_hypot", {"a": X4, "b": X4})
case("broadcast_hypot", "broadcast_hypot", {"a": (2, 3, 4), "b": (3, 1)})
case("hypot_scalar", "_hypot_scalar", {"data": X4}, scalar=1.5)
case("broadcast_mod_signs", "broadcast_mod", {"a": ((2, 3, 4), "int"), "b": ((3, 1), "int")},
     atol=1e-4)
case("mod_int_zero_divisor", "_mod", {"a": ((3, 4), "int"), "b": ((3, 4), "small_int")},
     input_dtype="int32")
case("mod_scalar", "_mod_scalar", {"data": ((3, 4), "int")}, scalar=-3.0, atol=1e-4)
case("rmod_scalar", "_rmod_scalar", {"data": ((3, 4), "int")}, scalar=7.0, atol=1e-4)
for op in ("_logical_and_scalar", "_logical_or_scalar", "_logical_xor_scalar"):
    case(op, op, {"data": ((3, 4), "small_int")}, scalar=1.0)
    case(f"{op}_zero", op, {"data": ((3, 4), "small_int")}, scalar=0.0)
case("smooth_l1", "smooth_l1", {"data": X4}, scalar=1.5)
case("moments", "moments", {"data": X4}, axes=(1, 2))
case("moments_keepdims", "moments", {"data": X4}, axes=(0,), keepdims=True)
case("nansum", "nansum", {"data": ((3, 4), "specials_nan")}, axis=1)
case("nanprod_all", "nanprod", {"data": ((3, 4), "specials_nan")})
case("khatri_rao", "khatri_rao", {"a": (2, 3), "b": (4, 3), "c": (2, 3)})
case("quadratic", "_contrib_quadratic", {"data": X4}, call="quadratic", a=0.5, b=-1.0, c=2.0)
case("gradientmultiplier", "_contrib_gradientmultiplier", {"data": X4}, scalar=0.3)
case("round_ste", "_contrib_round_ste", {"data": X4})
case("sign_ste", "_contrib_sign_ste", {"data": X4})
case("identity_kl_sparse_reg", "IdentityAttachKLSparseReg",
     {"data": ((3, 4), "unit"), "moving_avg": ((4,), "positive")}, params=("moving_avg",),
     by_name=True)
case("all_finite", "all_finite", {"data": ((3, 4), "specials")})
case("all_finite_clean", "all_finite", {"data": (3, 4)})
# --- indexing, sorting, sequences --------------------------------------------------------------
case("pick", "pick", {"data": (3, 4, 5), "idx": ((3, 5), "range:0:4")}, axis=1)
case("pick_keepdims_wrap", "pick", {"data": (3, 4), "idx": ((3,), "range:-6:9")}, axis=-1,
     keepdims=True, mode="wrap")
case("batch_take", "batch_take", {"data": (4, 5), "idx": ((4,), "range:0:5", "int32")})
case("argmax_channel", "argmax_channel", {"data": ((2, 3, 4), "distinct")})
case("sort", "sort", {"data": (X4, "distinct")}, axis=1)
case("sort_desc_flat", "sort", {"data": ((3, 4), "distinct")}, axis=None, is_ascend=False)
case("ravel_multi_index", "_ravel_multi_index", {"data": ((2, 5), "range:0:3")},
     call="ravel_multi_index", shape=(3, 4))
case("unravel_index", "_unravel_index", {"data": ((6,), "range:0:12")},
     call="unravel_index", shape=(3, 4))
case("diag_matrix", "diag", {"data": (3, 4)}, k=-1)
case("diag_vector", "diag", {"data": (4,)}, k=2)
case("diag_axes", "diag", {"data": (2, 3, 3)}, axis1=1, axis2=2)
case("sequence_last", "SequenceLast", {"data": (5, 3, 4), "len": ((3,), "range:1:6")},
     use_sequence_length=True)
case("sequence_last_axis1", "SequenceLast", {"data": (3, 5, 2), "len": ((3,), "range:1:6")},
     use_sequence_length=True, axis=1)
case("sequence_last_off", "SequenceLast", {"data": (5, 3, 4)})
case("softmin", "softmin", {"data": X2}, axis=-1)
case("softmin_temperature", "softmin", {"data": X4}, axis=1, temperature=2.0)
case("softmax_cross_entropy", "softmax_cross_entropy",
     {"data": (4, 6), "label": ((4,), "range:0:6")})
# amp_multicast: MXNet's CPU executor refuses float16/float64 inputs (MKLDNN), so only the
# float32 pass-through can be checked against it.
case("amp_multicast", "amp_multicast", {"a": (2, 3), "b": (2, 3)}, num_outputs=2)
# --- nn extras -----------------------------------------------------------------------------
case("group_norm", "GroupNorm", {"data": (2, 4, 3, 3), "gamma": (2,), "beta": (2,)},
     params=("gamma", "beta"), num_groups=2)
case("group_norm_one_group", "GroupNorm", {"data": (2, 6, 5), "gamma": (1,), "beta": (1,)},
     params=("gamma", "beta"), eps=1e-3)
case("convolution_v1", "Convolution_v1", {"data": X4, "w": (4, 3, 3, 3), "b": (4,)},
     params=("w", "b"), kernel=(3, 3), num_filter=4, pad=(1, 1))
case("pooling_v1", "Pooling_v1", {"data": (1, 3, 9, 8)}, kernel=(3, 3), stride=(2, 2),
     pool_type="max")
case("batchnorm_v1", "BatchNorm_v1",
     {"data": X4, "gamma": ((3,), "positive"), "beta": (3,), "moving_mean": (3,),
      "moving_var": ((3,), "positive")}, params=("gamma", "beta", "moving_mean", "moving_var"),
     fix_gamma=False, by_name=True)
case("batchnorm_with_relu", "_contrib_BatchNormWithReLU",
     {"data": X4, "gamma": ((3,), "positive"), "beta": (3,), "mean": (3,),
      "var": ((3,), "positive")}, params=("gamma", "beta", "mean", "var"),
     call="BatchNormWithReLU", fix_gamma=False)
case("sync_batchnorm", "_contrib_SyncBatchNorm",
     {"data": X4, "gamma": ((3,), "positive"), "beta": (3,), "mean": (3,),
      "var": ((3,), "positive")}, params=("gamma", "beta", "mean", "var"), call="SyncBatchNorm",
     fix_gamma=False, key="bn")
case("deformable_conv", "_contrib_DeformableConvolution",
     {"data": (1, 4, 7, 7), "offset": ((1, 18, 5, 5), "unit"), "w": (6, 4, 3, 3), "b": (6,)},
     params=("w", "b"), call="DeformableConvolution", kernel=(3, 3), num_filter=6, min_opset=19,
     rtol=1e-3, atol=1e-4)
case("deformable_conv_groups", "_contrib_DeformableConvolution",
     {"data": (1, 4, 6, 6), "offset": ((1, 36, 6, 6), "unit"), "w": (4, 2, 3, 3)},
     params=("w",), call="DeformableConvolution", kernel=(3, 3), num_filter=4, pad=(1, 1),
     num_group=2, num_deformable_group=2, no_bias=True, min_opset=19, rtol=1e-3, atol=1e-4)
case("modulated_deformable_conv", "_contrib_ModulatedDeformableConvolution",
     {"data": (1, 2, 6, 6), "offset": ((1, 18, 4, 4), "unit"),
      "mask": ((1, 9, 4, 4), "probs"), "w": (3, 2, 3, 3), "b": (3,)}, params=("w", "b"),
     call="ModulatedDeformableConvolution", kernel=(3, 3), num_filter=3, min_opset=19,
     rtol=1e-3, atol=1e-4)
case("im2col", "im2col", {"data": (2, 3, 6, 5)}, kernel=(3, 2), stride=(2, 1), pad=(1, 0))
case("col2im", "col2im", {"data": (2, 12, 20)}, output_size=(5, 6), kernel=(2, 2), min_opset=18)
case("grid_generator_affine", "GridGenerator", {"data": ((2, 6), "unit")},
     transform_type="affine", target_shape=(4, 5))
case("grid_generator_warp", "GridGenerator", {"data": (2, 2, 4, 5)}, transform_type="warp")
case("bilinear_sampler", "BilinearSampler", {"data": (2, 3, 6, 7), "grid": ((2, 2, 4, 5),
                                                                            "unit")},
     min_opset=16, rtol=1e-4, atol=1e-5)
case("spatial_transformer", "SpatialTransformer",
     {"data": (2, 3, 6, 7), "loc": ((2, 6), "unit")}, target_shape=(5, 4),
     transform_type="affine", sampler_type="bilinear", min_opset=16)
# --- linear algebra extras ----------------------------------------------------------------------
case("encdec_qk", "_contrib_interleaved_matmul_encdec_qk", {"q": (4, 2, 12), "kv": (5, 2, 24)},
     call="interleaved_matmul_encdec_qk", heads=3)
case("encdec_valatt", "_contrib_interleaved_matmul_encdec_valatt",
     {"kv": (5, 2, 24), "att": (6, 4, 5)}, call="interleaved_matmul_encdec_valatt", heads=3)
case("linalg_gemm", "_linalg_gemm", {"a": (2, 3, 4), "b": (2, 5, 4), "c": (2, 3, 5)},
     call="linalg_gemm", transpose_b=True, alpha=0.5, beta=2.0)
case("linalg_syrk", "_linalg_syrk", {"a": (2, 3, 4)}, call="linalg_syrk", alpha=1.5)
case("linalg_syrk_t", "_linalg_syrk", {"a": (3, 4)}, call="linalg_syrk", transpose=True)
case("linalg_trmm", "_linalg_trmm", {"a": (2, 3, 3), "b": (2, 3, 4)}, call="linalg_trmm",
     alpha=2.0)
case("linalg_trmm_right_upper_t", "_linalg_trmm", {"a": (3, 3), "b": (4, 3)},
     call="linalg_trmm", rightside=True, lower=False, transpose=True)
case("linalg_det", "_linalg_det", {"a": (2, 3, 3)}, call="linalg_det", rtol=1e-3, atol=1e-4)
case("linalg_slogdet", "_linalg_slogdet", {"a": (2, 3, 3)}, call="linalg_slogdet", rtol=1e-3,
     atol=1e-4)
case("linalg_sumlogdiag", "_linalg_sumlogdiag", {"a": ((2, 3, 3), "positive")},
     call="linalg_sumlogdiag")
case("linalg_extractdiag", "_linalg_extractdiag", {"a": (2, 4, 4)}, call="linalg_extractdiag",
     offset=1)
case("linalg_makediag", "_linalg_makediag", {"a": (2, 3)}, call="linalg_makediag", offset=-1)
case("linalg_extracttrian", "_linalg_extracttrian", {"a": (2, 4, 4)},
     call="linalg_extracttrian")
case("linalg_extracttrian_upper", "_linalg_extracttrian", {"a": (4, 4)},
     call="linalg_extracttrian", lower=False, offset=1)
case("linalg_maketrian", "_linalg_maketrian", {"a": (2, 6)}, call="linalg_maketrian")
case("linalg_maketrian_upper", "_linalg_maketrian", {"a": (6,)}, call="linalg_maketrian",
     lower=False, offset=1)
case("boolean_mask", "_contrib_boolean_mask", {"data": (5, 3), "index": ((5,), "binary")},
     call="boolean_mask")
case("scatter_nd", "scatter_nd", {"data": (4, 3), "idx": ((2, 4), "distinct_cells:3:5")},
     shape=(3, 5, 3))
case("np_around", "_npi_around", {"data": X4}, decimals=2, atol=1e-4)
case("np_around_0", "_npi_around", {"data": X4})
case("np_diagflat", "_np_diagflat", {"data": (2, 2)}, k=1)
case("np_norm_fro", "_npi_norm", {"data": (3, 4)}, ord=2, flag=-2)
case("np_norm_axis_fro", "_npi_norm", {"data": (2, 3, 4)}, ord=2, axis=(1, 2), flag=1)
for order in (1, 2, 3):
    case(f"np_norm_vector_ord{order}", "_npi_norm", {"data": (3, 4)}, ord=order, axis=(1,),
         flag=0, keepdims=True)

# --- quantization boundaries (MXNet's oneDNN CPU semantics) -----------------------------------
for out_type, (low, high) in (("int8", (-1.5, 2.5)), ("int8", (0.5, 2.0)), ("uint8", (-1.5, 2.5)),
                              ("uint8", (0.5, 2.0)), ("auto", (0.2, 2.0)), ("auto", (-1.0, 3.0))):
    case(f"quantize_v2_{out_type}_{low}_{high}", "_contrib_quantize_v2", {"data": (3, 7)},
         call="quantize_v2", out_type=out_type, min_calib_range=low, max_calib_range=high,
         dtype_variants=False)
for out_type in ("int8", "uint8"):
    case(f"quantize_v2_{out_type}_from_data", "_contrib_quantize_v2", {"data": (3, 7)},
         call="quantize_v2", out_type=out_type, dtype_variants=False)
    case(f"dequantize_{out_type}", "_contrib_dequantize",
         {"data": ((3, 7), "range:-127:128" if out_type == "int8" else "range:0:256", out_type),
          "min": ((1,), "unit", "float32"), "max": ((1,), "above1", "float32")},
         call="dequantize", dtype_variants=False)
case("requantize", "_contrib_requantize",
     {"data": ((3, 7), "range:-2000000000:2000000000", "int32"),
      "min": ((1,), "unit", "float32"), "max": ((1,), "above1", "float32")},
     call="requantize", min_calib_range=-2.0, max_calib_range=2.5, dtype_variants=False)

# --- creation by MXNet's own evaluation ------------------------------------------------------------
case("full", "_full", {}, call="full", shape=(2, 3), val=1.5)
case("eye", "_eye", {}, call="eye", N=3, M=4, k=-1)
case("linspace", "_linspace", {}, call="linspace", start=0.0, stop=1.0, num=5)
case("index_array", "_contrib_index_array", {"data": (2, 3, 4)}, call="index_array", axes=(0, 2))

# --- control flow: bodies as ONNX subgraphs ----------------------------------------------------


def _foreach_rnn(data: mx.sym.Symbol, h: mx.sym.Symbol, w: mx.sym.Symbol) -> mx.sym.Symbol:
    def step(x, states):
        new = mx.sym.tanh(mx.sym.FullyConnected(x, w, num_hidden=4, no_bias=True) + states[0])
        return [new * 2, mx.sym.sum(x, axis=-1)], [new]
    outs, states = mx.sym.contrib.foreach(step, data, [h], name="op")
    return mx.sym.Group(list(outs) + list(states))


def _foreach_two_states(a: mx.sym.Symbol, b: mx.sym.Symbol, s0: mx.sym.Symbol,
                        s1: mx.sym.Symbol) -> mx.sym.Symbol:
    def step(xs, states):
        x, y = xs
        total = states[0] + x * y
        return [total - states[1]], [total, states[1] * 0.5 + y]
    outs, states = mx.sym.contrib.foreach(step, [a, b], [s0, s1], name="op")
    return mx.sym.Group(list(outs) + list(states))


def _cond_branch(x: mx.sym.Symbol, y: mx.sym.Symbol) -> mx.sym.Symbol:
    return mx.sym.contrib.cond(mx.sym.sum(x) > mx.sym.sum(y), lambda: x * 2 + y,
                               lambda: mx.sym.exp(x) - y, name="op")


def control_case(case_id: str, op: str, build: Callable[..., mx.sym.Symbol],
                 inputs: dict[str, Any], params: tuple[str, ...] = (), **options: Any) -> None:
    names = list(inputs)
    spec = {n: (v if isinstance(v[0], tuple) else (v, "normal")) for n, v in inputs.items()}
    CASES.append(OpCase(case_id, op, lambda **vars_: build(*[vars_[n] for n in names]), spec,
                        frozenset(params), dtype_variants=False, **options))


control_case("foreach", "_foreach", _foreach_rnn, {"data": (5, 2, 3), "h": (2, 4),
                                                   "w": ((4, 3), "unit")}, params=("w",))
control_case("foreach_two_data_two_states", "_foreach", _foreach_two_states,
             {"a": (4, 3), "b": (4, 3), "s0": (3,), "s1": (3,)})
control_case("cond_true", "_cond", _cond_branch, {"x": ((2, 3), "positive"), "y": ((2, 3),
                                                                                 "unit")})
control_case("cond_false", "_cond", _cond_branch, {"x": ((2, 3), "unit"), "y": ((2, 3),
                                                                               "above1")})


def _while_full(i: mx.sym.Symbol, s: mx.sym.Symbol, w: mx.sym.Symbol) -> mx.sym.Symbol:
    # the condition holds for every step: all max_iterations rows are MXNet's own
    outs, states = mx.sym.contrib.while_loop(
        lambda i, s: mx.sym.sum(i) < 100,
        lambda i, s: ([s * w, i * 2], [i + 1, s + mx.sym.broadcast_mul(w, i)]),
        [i, s], max_iterations=5, name="op")
    return mx.sym.Group(list(outs) + list(states))


def _while_early_exit(i: mx.sym.Symbol, s: mx.sym.Symbol) -> mx.sym.Symbol:
    # stops after 3 steps; MXNet leaves the step-output rows past them uninitialised, so the
    # case compares the final loop variables
    _, states = mx.sym.contrib.while_loop(
        lambda i, s: mx.sym.sum(i) < 4,
        lambda i, s: ([s * 2], [i + 1, mx.sym.broadcast_add(s * 0.5, i)]),
        [i, s], max_iterations=8, name="op")
    return mx.sym.Group(list(states))


control_case("while_loop", "_while_loop", _while_full,
             {"i": ((1,), "range:0:2"), "s": (2, 3), "w": (2, 3)}, params=("w",))
control_case("while_loop_early_exit", "_while_loop", _while_early_exit,
             {"i": ((1,), "range:1:2"), "s": (3,)})

# --- random: values cannot match MXNet's, so each output's distribution is compared ------------
RANDOM = {"compare": "distribution"}  # at 22+ built on Dropout's random bits
# Large samples: the KS test then detects a 5% error in scale or a 0.05-sigma shift.
case("random_normal", "_random_normal", {}, call="random_normal", loc=1.5, scale=0.5,
     shape=(400, 500), **RANDOM)
case("random_normal_float64", "_random_normal", {}, call="random_normal", shape=(200000,),
     dtype="float64", **RANDOM)
case("random_uniform", "_random_uniform", {}, call="random_uniform", low=-1.0, high=3.0,
     shape=(500, 400), **RANDOM)
case("random_uniform_like", "_random_uniform_like", {"data": (400, 500)},
     call="uniform_like", low=2.0, high=2.5, **RANDOM)
case("sample_multinomial", "_sample_multinomial", {"data": ((3, 5), "probs")},
     call="sample_multinomial", shape=(200, 350), **RANDOM)
case("sample_multinomial_prob", "_sample_multinomial", {"data": ((2, 4), "probs")},
     call="sample_multinomial", shape=(100000,), get_prob=True, dtype="float32", **RANDOM)
case("sample_multinomial_single", "_sample_multinomial", {"data": ((100000, 3), "probs")},
     call="sample_multinomial", **RANDOM)
# --- contrib detection ------------------------------------------------------------------------
case("box_decode_center", "_contrib_box_decode",
     {"data": (2, 6, 4), "anchors": ((1, 6, 4), "positive")}, call="box_decode",
     std0=0.1, std1=0.1, std2=0.2, std3=0.2)
case("box_nms", "_contrib_box_nms", {"data": ((2, 12, 6), "detections:3")}, call="box_nms",
     overlap_thresh=0.4, valid_thresh=0.1, coord_start=2, score_index=1, id_index=0)
case("box_nms_defaults", "_contrib_box_nms", {"data": ((1, 10, 5), "detections:0")},
     call="box_nms", coord_start=1, score_index=0)
case("box_nms_force_topk", "_contrib_box_nms", {"data": ((2, 12, 6), "detections:3")},
     call="box_nms", overlap_thresh=0.3, topk=5, coord_start=2, score_index=1, id_index=0,
     force_suppress=True)
case("box_nms_background", "_contrib_box_nms", {"data": ((2, 12, 6), "detections:3")},
     call="box_nms", overlap_thresh=0.5, coord_start=2, score_index=1, id_index=0,
     background_id=0)
case("box_nms_center_formats", "_contrib_box_nms", {"data": ((1, 3, 8, 7), "detections:2")},
     call="box_nms", overlap_thresh=0.45, coord_start=2, score_index=1, id_index=0,
     in_format="center", out_format="corner")
case("box_nms_corner_to_center", "_contrib_box_nms", {"data": ((2, 9, 6), "detections:2")},
     call="box_nms", overlap_thresh=0.45, coord_start=2, score_index=1, id_index=0,
     out_format="center")
case("box_nms_dynamic_batch", "_contrib_box_nms", {"data": ((2, 10, 6), "detections:2")},
     call="box_nms", overlap_thresh=0.5, coord_start=2, score_index=1, id_index=0,
     dynamic_batch=True)
case("multibox_prior", "_contrib_MultiBoxPrior", {"data": (1, 3, 4, 5)}, call="MultiBoxPrior",
     sizes=(0.5, 0.25), ratios=(1, 2, 0.5))
case("multibox_prior_steps_clip", "_contrib_MultiBoxPrior", {"data": (2, 3, 3, 3)},
     call="MultiBoxPrior", sizes=(0.7,), ratios=(2, 1), steps=(0.3, 0.25), offsets=(0.2, 0.6),
     clip=True)
MBOX = {"cls_prob": ((2, 4, 10), "probs_axis1"), "loc_pred": ((2, 40), "unit"),
        "anchor": ((1, 10, 4), "anchors")}
case("multibox_detection", "_contrib_MultiBoxDetection", MBOX, call="MultiBoxDetection",
     nms_threshold=0.3)
case("multibox_detection_force_topk", "_contrib_MultiBoxDetection", MBOX,
     call="MultiBoxDetection", nms_threshold=0.3, force_suppress=True, nms_topk=4,
     threshold=0.2, clip=False)
case("multibox_detection_no_nms", "_contrib_MultiBoxDetection", MBOX,
     call="MultiBoxDetection", nms_threshold=0.0, threshold=0.3,
     variances=(0.2, 0.2, 0.1, 0.1))
case("box_iou", "_contrib_box_iou", {"a": ((2, 5, 4), "anchors"), "b": ((3, 4), "anchors")},
     call="box_iou")
case("box_iou_center", "_contrib_box_iou", {"a": ((6, 4), "positive"), "b": ((4, 4), "positive")},
     call="box_iou", format="center")
case("box_encode", "_contrib_box_encode",
     {"samples": ((2, 6), "range:-1:2"), "matches": ((2, 6), "range:0:3"),
      "anchors": ((2, 6, 4), "anchors"), "refs": ((2, 3, 4), "anchors"),
      "means": (4,), "stds": ((4,), "positive")}, call="box_encode", rtol=1e-3, atol=1e-4)
case("box_decode_corner_clip", "_contrib_box_decode",
     {"data": ((2, 6, 4), "int"), "anchors": ((1, 6, 4), "positive")}, call="box_decode",
     format="corner", clip=0.5, rtol=1e-3)


def make_inputs(case_: OpCase, rng: np.random.Generator, batch: int | None = None
                ) -> dict[str, np.ndarray]:
    values = {}
    for name, (shape, gen, *dtype) in case_.inputs.items():
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
        elif gen.startswith("range:"):
            low, high = (int(v) for v in gen.split(":")[1:])
            value = rng.integers(low, high, shape)
        elif gen == "probs":
            value = rng.uniform(0.1, 1.0, shape)
            value = value / value.sum(axis=-1, keepdims=True)
        elif gen.startswith("rois:"):
            *low, batch, size = (int(v) for v in gen.split(":")[1:])
            corners = np.sort(rng.uniform(0, size - 1, shape[:-1] + (2, 2)), axis=-2)
            value = np.concatenate([rng.integers(low[0] if low else 0, batch,
                                                 shape[:-1] + (1,)),
                                    corners[..., 0, :], corners[..., 1, :]], axis=-1)
        elif gen.startswith("detections:"):
            # [id, score, x1, y1, x2, y2, ...] rows around a few centres, so boxes overlap;
            # distinct scores (no ties); with 0 classes, [score, x1, y1, x2, y2]
            classes = int(gen.split(":")[1])
            value = rng.uniform(0, 1, shape)
            cols = 1 if classes else 0
            if classes:
                value[..., 0] = rng.integers(0, classes, shape[:-1])
            value[..., cols] = rng.permutation(int(np.prod(shape[:-1]))).reshape(
                shape[:-1]) / np.prod(shape[:-1]) * 0.9 + 0.05
            centre = rng.choice(np.array([[2.0, 2.0], [5.0, 4.0], [3.0, 6.0]]), shape[:-1])
            low = centre + rng.uniform(-1.5, 0.0, shape[:-1] + (2,))
            value[..., cols + 1:cols + 3] = low
            value[..., cols + 3:cols + 5] = low + rng.uniform(0.8, 3.0, shape[:-1] + (2,))
        elif gen.startswith("distinct_cells:"):
            # (ndim, M) indices of M different cells of an (a, b) grid (no scatter collisions)
            rows, cols = (int(v) for v in gen.split(":")[1:])
            cells = rng.permutation(rows * cols)[: shape[1]]
            value = np.stack([cells // cols, cells % cols])
        elif gen == "small":
            value = rng.normal(0.0, 0.1, shape)
        elif gen.startswith("im_info:"):  # [height, width, scale] per image
            h, w = (int(v) for v in gen.split(":")[1:])
            value = np.tile(np.array([[h, w, 1.0]]), (shape[0], 1))
            value[:, :2] -= rng.integers(0, 12, (shape[0], 2))
        elif gen == "anchors":  # corner boxes in [0, 1], overlapping
            low = rng.uniform(0.0, 0.6, shape[:-1] + (2,))
            value = np.concatenate([low, low + rng.uniform(0.1, 0.4, shape[:-1] + (2,))], -1)
        elif gen == "specials":  # finite values with NaN and +-inf among them
            value = rng.standard_normal(shape)
            flat = value.reshape(-1)
            flat[:: 5] = np.nan
            flat[1:: 7] = np.inf
            flat[2:: 9] = -np.inf
        elif gen == "specials_nan":  # finite values with NaN among them
            value = rng.standard_normal(shape)
            value.reshape(-1)[::3] = np.nan
        elif gen == "gamma_args":  # away from the poles, both signs
            value = rng.uniform(0.1, 6.0, shape) * rng.choice([1, -1], shape) + 0.05
            value = np.where(np.abs(value - np.round(value)) < 0.1, value + 0.3, value)
        elif gen == "near_one":  # erfinv's tails
            value = rng.uniform(0.9, 0.9999, shape) * rng.choice([1, -1], shape)
        elif gen == "probs_axis1":
            value = rng.uniform(0.05, 1.0, shape)
            value = value / value.sum(axis=1, keepdims=True)
        elif gen == "distinct":  # no ties, for sorting
            value = rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0
        else:
            value = rng.standard_normal(shape)
        if gen == "normal" and case_.op in ("round", "ceil", "floor"):
            value = np.round(value * 4) / 4 + 0.1  # keep away from .5 ties
        values[name] = value.astype(dtype[0] if dtype else case_.input_dtype)
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


def ks_two_sample(a: np.ndarray, b: np.ndarray, alpha: float = 1e-6) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic of two samples and its critical value at
    significance ``alpha`` (a false failure is that unlikely when both follow one law)."""
    a = np.sort(np.asarray(a, np.float64).ravel())
    b = np.sort(np.asarray(b, np.float64).ravel())
    if a.size == 0 or b.size == 0:
        return (0.0, 0.0) if a.size == b.size else (1.0, 0.0)
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    stat = float(np.max(np.abs(cdf_a - cdf_b)))
    limit = float(np.sqrt(-0.5 * np.log(alpha / 2)) * np.sqrt((a.size + b.size) /
                                                               (a.size * b.size)))
    return stat, limit


def run_case(case_: OpCase, opset: int, ctx: mx.Context, seed: int = 0,
             roundtrip: bool = False) -> dict[str, Any]:
    """Export one case at ``opset`` and compare onnxruntime with MXNet's forward."""
    import onnxruntime as ort

    from serde.onnx import symbol_to_onnx

    record: dict[str, Any] = {"suite": "mxnet_ops", "case": f"{case_.id}@{opset}", "op": case_.op,
                              "opset": opset, "dtype": case_.input_dtype, "rtol": case_.rtol,
                              "atol": case_.atol, "compare": case_.compare}
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
            params = {**arg, **aux}  # exported as initializers: keep their values
            values = {**make_inputs(case_, rng, batch=case_.check_batch), **params}
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
        if case_.compare == "distribution":
            stat, limit = ks_two_sample(got, want)
            if not stat <= limit:
                problems.append(f"output {i}: KS statistic {stat:.3g} > {limit:.3g}, the "
                                f"samples do not follow MXNet's distribution")
            continue
        abs_err, rel_err = error_stats(got, want)
        worst_abs, worst_rel = max(worst_abs, abs_err), max(worst_rel, rel_err)
        if not np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=case_.rtol,
                           atol=case_.atol, equal_nan=True):
            problems.append(f"output {i}: max abs error {abs_err:.3g}")
    record.update(max_abs_err=worst_abs, max_rel_err=worst_rel,
                  status="wrong-result" if problems else "pass")
    if problems:
        record["message"] = "; ".join(problems)[:500]
    elif roundtrip and case_.compare == "values":
        record.update(roundtrip_through_importer(case_, model, data, expected, ctx))
    return record


def roundtrip_through_importer(case_: OpCase, model: Any, data: dict[str, np.ndarray],
                               expected: list[np.ndarray], ctx: mx.Context) -> dict[str, Any]:
    """The second check: our importer's MXNet graph of the exported file, run by MXNet,
    against the original MXNet forward (same tolerance)."""
    import serde

    try:
        # the feed's shapes fix the dynamic dims, as a caller of import_model would
        sym, params = serde.import_model(model, output_format="symbolic",
                                         input_shapes={n: v.shape for n, v in data.items()})
        arg, aux = serde.split_params(sym, params)
        args = {**{k: v.as_in_context(ctx) for k, v in arg.items()},
                **{n: mx.nd.array(v, ctx=ctx, dtype=v.dtype) for n, v in data.items()
                   if n in sym.list_arguments()}}
        exe = sym.bind(ctx, args=args, aux_states={k: v.as_in_context(ctx)
                                                   for k, v in aux.items()}, grad_req="null")
        got = [o.asnumpy() for o in exe.forward(is_train=False)]
    except Exception as err:
        return {"roundtrip": "error", "roundtrip_message": f"{type(err).__name__}: {err}"[:300]}
    worst = 0.0
    for g, w in zip(got, expected, strict=False):
        if g.shape != w.shape or not np.allclose(g.astype(np.float64), w.astype(np.float64),
                                                 rtol=case_.rtol, atol=case_.atol,
                                                 equal_nan=True):
            return {"roundtrip": "wrong-result",
                    "roundtrip_message": f"shape {g.shape} vs {w.shape}" if g.shape != w.shape
                    else f"max abs error {error_stats(g, w)[0]:.3g}"}
        worst = max(worst, error_stats(g, w)[0])
    if len(got) != len(expected):
        return {"roundtrip": "wrong-result",
                "roundtrip_message": f"{len(got)} outputs, MXNet has {len(expected)}"}
    return {"roundtrip": "pass", "roundtrip_max_abs_err": worst}


def _batch_variant(case_: OpCase) -> OpCase | None:
    """The same case exported with a dynamic first axis and run at another batch, where MXNet
    itself accepts that batch (a fixed reshape may not)."""
    import dataclasses

    data = {n: spec for n, spec in case_.inputs.items() if n not in case_.params}
    if case_.dynamic_batch or not data or any(len(spec[0]) == 0 for spec in data.values()):
        return None
    first = next(iter(data.values()))[0][0]
    for batch in (first + 1, 2 * first, first + 2):
        shapes = {n: ((batch,) + tuple(spec[0][1:])) if n in data else tuple(spec[0])
                  for n, spec in case_.inputs.items()}
        try:
            sym = build_symbol(case_)
            # MXNet prints failed inferences and warns about partial ones: a probe, not news
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, out_shapes, _ = sym.infer_shape(**shapes)
        except Exception:
            continue
        if not out_shapes or any(s is None for s in out_shapes):
            continue
        variant = dataclasses.replace(case_, id=f"{case_.id}~dynamic_batch", dynamic_batch=True,
                                      check_batch=batch)
        try:  # MXNet itself must run it at that batch (inference may accept what runs refuse)
            mxnet_forward(sym, make_inputs(variant, np.random.default_rng(0), batch=batch),
                          mx.cpu())
        except Exception:
            continue
        return variant
    return None


_FLOAT_GENS = ("normal", "positive", "unit", "above1")
_INT_GENS = ("int", "small_int", "binary", "positive_int")
DTYPE_VARIANT_OPSETS = (13, 17, 28)


def _dtype_variants(case_: OpCase) -> list[OpCase]:
    """The case in the other dtypes MXNet runs it in: float16/float64 for float inputs,
    int32/int64 (and uint8 for non-negative values) for integer-valued inputs."""
    import dataclasses

    if not case_.dtype_variants or case_.compare != "values" or \
            case_.input_dtype != "float32" or not case_.inputs or \
            any(len(spec) > 2 for spec in case_.inputs.values()):
        return []
    gens = [spec[1] for spec in case_.inputs.values()]
    if all(g in _FLOAT_GENS for g in gens):
        dtypes = ["float16", "float64"]
    elif all(g in _INT_GENS or g.startswith("range:") for g in gens):
        dtypes = ["int32", "int64"]
        if all(g in ("binary", "positive_int") or (g.startswith("range:") and
                                                     int(g.split(":")[1]) >= 0) for g in gens):
            dtypes.append("uint8")
    else:
        return []
    variants = []
    for dtype in dtypes:
        loose = dtype == "float16"
        variant = dataclasses.replace(
            case_, id=f"{case_.id}~{dtype}", input_dtype=dtype, only_opsets=DTYPE_VARIANT_OPSETS,
            rtol=max(case_.rtol, 1e-2) if loose else case_.rtol,
            atol=max(case_.atol, 1e-2) if loose else case_.atol)
        try:  # MXNet itself must run the op in this dtype (many CPU kernels are float32 only)
            values = make_inputs(variant, np.random.default_rng(0))
            outputs = mxnet_forward(build_symbol(variant), values, mx.cpu())
        except Exception:
            continue
        if all(np.all(np.isfinite(o.astype(np.float64))) for o in outputs):
            variants.append(variant)
    return variants


#: Every case, the dynamic-first-axis variant of each case that has a batch to vary, and the
#: dtype variants MXNet can run.
ALL_CASES: list[OpCase] = []


def all_cases() -> list[OpCase]:
    if not ALL_CASES:
        for c in CASES:
            ALL_CASES.append(c)
            variant = _batch_variant(c)
            if variant is not None:
                ALL_CASES.append(variant)
            ALL_CASES.extend(_dtype_variants(c))
    return ALL_CASES


EXPECTED_FILE = Path(__file__).resolve().parent / "expected_failures" / "mxnet_ops.jsonc"
EXPECTED_HEADER = """Expected failures of the single-op export suite (python -m conformance.mxnet_ops).
One entry per case@opset: "case": "reason". The suite fails on an unexpected failure and on
an unexpected pass; --update-expected keeps existing reasons and adds generated ones."""


def main(argv: list[str] | None = None) -> int:
    from serde.onnx.export.registry import DEFAULT_EXPORT_OPSET, MIN_EXPORT_OPSET

    from ._suite import read_expected, reason_for, write_expected

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--opsets", default="all",
                        help="comma-separated opsets, or 'all' (13..default)")
    parser.add_argument("--ctx", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--filter", default="", help="regular expression on case ids")
    parser.add_argument("--update-expected", action="store_true",
                        help="rewrite the expected-failure file from this run")
    args = parser.parse_args(argv)
    if args.ctx == "gpu" and mx.context.num_gpus() == 0:
        print("no GPU: the gpu run of mxnet_ops is skipped")
        return 0
    ctx = mx.gpu() if args.ctx == "gpu" else mx.cpu()
    opsets = (list(range(MIN_EXPORT_OPSET, DEFAULT_EXPORT_OPSET + 1)) if args.opsets == "all"
              else [int(o) for o in args.opsets.split(",")])
    from tqdm import tqdm
    pattern = re.compile(args.filter)
    work = [(c, o) for c in all_cases() if pattern.search(c.id) for o in opsets if c.covers(o)]
    # One round trip through our importer per case, at the newest opset it runs at.
    newest = {c.id: max(o for cc, o in work if cc.id == c.id) for c, _ in work}
    records = [run_case(c, o, ctx, roundtrip=o == newest[c.id])
               for c, o in tqdm(work, desc="mxnet ops", unit="case", mininterval=5.0)]
    for r in records:
        r["ctx"] = args.ctx
    path = write_results(records, results_path("mxnet_ops", args.ctx))
    from .mxnet_inventory import write_inventory
    write_inventory()
    expected = read_expected(EXPECTED_FILE)
    known = expected.setdefault(args.ctx, {})
    failing = {r["case"]: r for r in records if r["status"] != "pass"}
    ran = {r["case"] for r in records}
    unexpected_fail = sorted(c for c in failing if c not in known)
    unexpected_pass = sorted(c for c in ran if c in known and c not in failing)
    trips = [r for r in records if "roundtrip" in r]
    trip_pass = sum(r["roundtrip"] == "pass" for r in trips)
    print(f"{len(records) - len(failing)} passed, {len(failing)} failed "
          f"({len(failing) - len(unexpected_fail)} expected); importer round trip "
          f"{trip_pass}/{len(trips)} ({path})")
    if args.update_expected:
        # a full run owns the whole file; a partial one keeps what it did not run
        full = not args.filter and args.opsets == "all"
        kept = {c: why for c, why in known.items()
                if c in failing or (c not in ran and not full)}
        for case_id in unexpected_fail:
            kept[case_id] = reason_for(failing[case_id])
        expected[args.ctx] = kept
        write_expected(EXPECTED_FILE, expected, EXPECTED_HEADER)
        print(f"expected failures rewritten: {EXPECTED_FILE} ({len(kept)} entries)")
        return 0
    for case_id in unexpected_fail[:60]:
        r = failing[case_id]
        print(f"UNEXPECTED FAIL {case_id}: {r['status']}: {r.get('message', '')[:200]}")
    for case_id in unexpected_pass[:60]:
        print(f"UNEXPECTED PASS {case_id}: remove it from {EXPECTED_FILE.name}")
    return 1 if unexpected_fail or unexpected_pass else 0


if __name__ == "__main__":
    sys.exit(main())
