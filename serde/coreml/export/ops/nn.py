"""Convolution, deconvolution, normalisation, pooling and dense layers."""
from __future__ import annotations

import numpy as np

from ..context import NO_WEIGHTS_2D, NO_WEIGHTS_4D, CoremlContext, MxNode, blob_shape, fill_floats
from ..registry import register


def _spatial(node: MxNode, key: str, rank: int, default: int) -> tuple[int, int]:
    """A 1-D or 2-D window attribute as Core ML's (height, width); 1-D windows run along W."""
    values = node.tuple(key, ()) or (default,) * (rank - 2)
    values = tuple(int(v) for v in values)
    if len(values) == 1:
        return (0 if key == "pad" else 1, values[0])
    if len(values) != 2:
        raise node.fail(f"{key}={values}: Core ML's NeuralNetwork layers have 1-D and 2-D "
                        f"windows")
    return values  # type: ignore[return-value]


def _out_chw(ctx: CoremlContext, node: MxNode) -> tuple[int, int, int]:
    chw = blob_shape(ctx.shape(node.outputs[0]))
    if chw is None:
        raise node.fail("output shape has no Core ML blob")
    return chw


def _bias(ctx: CoremlContext, node: MxNode, index: int, size: int) -> np.ndarray | None:
    if node.bool("no_bias", False) or len(node.inputs) <= index:
        return None
    return ctx.weight(node, index, "bias").reshape(size)


@register("Convolution")
def convolution(node: MxNode, ctx: CoremlContext) -> list[str]:
    rank = len(ctx.shape(node.inputs[0]))
    if rank not in (3, 4) or node.str("layout", "None") not in ("None", "NCHW", "NCW"):
        raise node.fail("Core ML converts 1-D and 2-D convolutions in NC(H)W layout")
    weight = ctx.weight(node, 1, "weight")
    if weight.ndim == 3:
        weight = weight[:, :, None, :]
    out_channels, kernel_channels, kh, kw = weight.shape
    sh, sw = _spatial(node, "stride", rank, 1)
    dh, dw = _spatial(node, "dilate", rank, 1)
    ph, pw = _spatial(node, "pad", rank, 0)
    bias = _bias(ctx, node, 2, out_channels)
    out = ctx.layer("add_convolution", node.name, node.outputs[0], _out_chw(ctx, node),
                    input_name=node.inputs[0], kernel_channels=kernel_channels,
                    output_channels=out_channels, height=kh, width=kw, stride_height=sh,
                    stride_width=sw, border_mode="valid", groups=node.int("num_group", 1),
                    W=NO_WEIGHTS_4D, b=bias, has_bias=bias is not None,
                    dilation_factors=[dh, dw], padding_top=ph, padding_bottom=ph,
                    padding_left=pw, padding_right=pw)
    # Core ML stores convolution weights as (out, in / groups, kh, kw): MXNet's own layout
    fill_floats(ctx.last_layer().convolution.weights, weight)
    return [out]


@register("Deconvolution")
def deconvolution(node: MxNode, ctx: CoremlContext) -> list[str]:
    rank = len(ctx.shape(node.inputs[0]))
    if rank not in (3, 4) or node.str("layout", "None") not in ("None", "NCHW", "NCW"):
        raise node.fail("Core ML converts 1-D and 2-D deconvolutions in NC(H)W layout")
    weight = ctx.weight(node, 1, "weight")  # (in, out / groups, kh, kw)
    if weight.ndim == 3:
        weight = weight[:, :, None, :]
    in_channels, out_per_group, kh, kw = weight.shape
    groups = node.int("num_group", 1)
    sh, sw = _spatial(node, "stride", rank, 1)
    dh, dw = _spatial(node, "dilate", rank, 1)
    ph, pw = _spatial(node, "pad", rank, 0)
    chw = _out_chw(ctx, node)
    bias = _bias(ctx, node, 2, out_per_group * groups)
    out = ctx.layer("add_convolution", node.name, node.outputs[0], chw,
                    input_name=node.inputs[0], kernel_channels=in_channels,
                    output_channels=out_per_group * groups, height=kh, width=kw,
                    stride_height=sh, stride_width=sw, border_mode="valid", groups=groups,
                    W=NO_WEIGHTS_4D, b=bias, has_bias=bias is not None,
                    is_deconv=True, output_shape=(chw[1], chw[2]), dilation_factors=[dh, dw],
                    padding_top=ph, padding_bottom=ph, padding_left=pw, padding_right=pw)
    # deconvolution weights are stored (in, out / groups, kh, kw): MXNet's layout again
    fill_floats(ctx.last_layer().convolution.weights, weight)
    return [out]


@register("BatchNorm")
def batch_norm(node: MxNode, ctx: CoremlContext) -> list[str]:
    shape = ctx.shape(node.inputs[0])
    if node.int("axis", 1) not in (1, 1 - len(shape)) or len(shape) < 2:
        raise node.fail("Core ML normalises over the channel axis (axis=1) only")
    channels = shape[1]
    gamma = ctx.weight(node, 1, "gamma")
    if node.bool("fix_gamma", True):
        gamma = np.ones_like(gamma)
    return [ctx.layer("add_batchnorm", node.name, node.outputs[0], ctx.blob(node.inputs[0]),
                      input_name=node.inputs[0], channels=channels, gamma=gamma,
                      beta=ctx.weight(node, 2, "beta"), mean=ctx.weight(node, 3, "moving mean"),
                      variance=ctx.weight(node, 4, "moving variance"),
                      epsilon=node.float("eps", 1e-3))]


@register("InstanceNorm")
def instance_norm(node: MxNode, ctx: CoremlContext) -> list[str]:
    shape = ctx.shape(node.inputs[0])
    return [ctx.layer("add_batchnorm", node.name, node.outputs[0], ctx.blob(node.inputs[0]),
                      input_name=node.inputs[0], channels=shape[1],
                      gamma=ctx.weight(node, 1, "gamma"), beta=ctx.weight(node, 2, "beta"),
                      compute_mean_var=True, instance_normalization=True,
                      epsilon=node.float("eps", 1e-3))]


@register("LayerNorm")
def layer_norm(node: MxNode, ctx: CoremlContext) -> list[str]:
    shape = ctx.shape(node.inputs[0])
    axis = node.int("axis", -1)
    if len(shape) != 2 or axis not in (1, -1):
        raise node.fail("Core ML's fixed-rank layers normalise (N, C) inputs over C; other "
                        "layer norms are not converted yet")
    channels = shape[1]
    normed = ctx.layer("add_mvn", f"{node.name}_mvn", None, ctx.blob(node.inputs[0]),
                       input_name=node.inputs[0], across_channels=True, normalize_variance=True,
                       epsilon=node.float("eps", 1e-5))
    return [ctx.layer("add_scale", node.name, node.outputs[0], ctx.blob(node.inputs[0]),
                      input_name=normed, W=ctx.weight(node, 1, "gamma"),
                      b=ctx.weight(node, 2, "beta"), has_bias=True, shape_scale=(channels,),
                      shape_bias=(channels,))]


@register("FullyConnected")
def fully_connected(node: MxNode, ctx: CoremlContext) -> list[str]:
    data = node.inputs[0]
    weight = ctx.weight(node, 1, "weight")
    hidden, width = weight.shape
    if len(ctx.shape(data)) > 2:
        if not node.bool("flatten", True):
            return [_dense_over_last_axis(node, ctx, weight)]
        data = ctx.layer("add_flatten", f"{node.name}_flatten", None, (width, 1, 1),
                         input_name=data, mode=0)
    bias = _bias(ctx, node, 2, hidden)
    out = ctx.layer("add_inner_product", node.name, node.outputs[0], (hidden, 1, 1),
                    input_name=data, W=NO_WEIGHTS_2D, b=bias, input_channels=width,
                    output_channels=hidden, has_bias=bias is not None)
    fill_floats(ctx.last_layer().innerProduct.weights, weight)  # (out, in), as MXNet's
    return [out]


def _dense_over_last_axis(node: MxNode, ctx: CoremlContext, weight: np.ndarray) -> str:
    """flatten=False over (N, T, C) (a sequence model's per-step dense layer): the blob
    (T, 1, C) permuted to (C, 1, T), a 1x1 convolution over C, permuted back."""
    data = node.inputs[0]
    if len(ctx.shape(data)) != 3:
        raise node.fail("flatten=False over a rank-4 input has no fixed-rank Core ML layer")
    hidden, width = weight.shape
    steps = ctx.blob(data)[0]
    bias = _bias(ctx, node, 2, hidden)
    swapped = ctx.layer("add_permute", f"{node.name}_to_channels", None, (width, 1, steps),
                        input_name=data, dim=(0, 3, 2, 1))
    conv = ctx.layer("add_convolution", f"{node.name}_per_step", None, (hidden, 1, steps),
                     input_name=swapped, kernel_channels=width, output_channels=hidden,
                     height=1, width=1, stride_height=1, stride_width=1, border_mode="valid",
                     groups=1, W=NO_WEIGHTS_4D, b=bias, has_bias=bias is not None)
    fill_floats(ctx.last_layer().convolution.weights, weight.reshape(hidden, width, 1, 1))
    return ctx.layer("add_permute", node.name, node.outputs[0], (steps, 1, hidden),
                     input_name=conv, dim=(0, 3, 2, 1))


@register("Flatten", "flatten")
def flatten(node: MxNode, ctx: CoremlContext) -> list[str]:
    if len(ctx.shape(node.inputs[0])) <= 2:
        return [node.inputs[0]]
    size = int(np.prod(ctx.blob(node.inputs[0])))
    return [ctx.layer("add_flatten", node.name, node.outputs[0], (size, 1, 1),
                      input_name=node.inputs[0], mode=0)]


@register("Dropout", "identity", "_copy", "BlockGrad", "stop_gradient", "make_loss",
          "MakeLoss", "_contrib_quantize_asym")
def identity(node: MxNode, ctx: CoremlContext) -> list[str]:
    """Inference-time identities: no layer, the input blob is the output."""
    if node.op == "_contrib_quantize_asym":
        raise node.fail("quantisation is not converted")
    return [node.inputs[0]]


@register("Pooling")
def pooling(node: MxNode, ctx: CoremlContext) -> list[str]:
    rank = len(ctx.shape(node.inputs[0]))
    if rank not in (3, 4) or node.str("layout", "None") not in ("None", "NCHW", "NCW"):
        raise node.fail("Core ML pools 1-D and 2-D NC(H)W inputs")
    pool_type = node.str("pool_type", "max")
    is_global = node.bool("global_pool", False)
    kh, kw = (1, 1) if is_global else _spatial(node, "kernel", rank, 1)
    sh, sw = _spatial(node, "stride", rank, 1)
    ph, pw = _spatial(node, "pad", rank, 0)
    convention = node.str("pooling_convention", "valid")
    include_pad = node.bool("count_include_pad", True)
    if pool_type == "lp":
        if node.int("p_value", 2) != 2:
            raise node.fail("Core ML has L2 pooling only (p_value=2)")
        kind = "L2"
    elif pool_type in ("max", "avg", "sum"):
        kind = "MAX" if pool_type == "max" else "AVERAGE"
    else:
        raise node.fail(f"pool_type {pool_type!r} has no Core ML pooling")
    if convention not in ("valid", "full", "same"):
        raise node.fail(f"pooling_convention {convention!r} has no Core ML padding type")
    chw = _out_chw(ctx, node)
    source = node.inputs[0]
    _, in_h, in_w = ctx.blob(source)
    # MXNet's "full" windows may overhang the padded input at the bottom/right; MXNet clips
    # them there. Core ML's explicit (asymmetric) valid padding with the overhang as extra
    # end padding, excluded from averages, computes exactly that.
    extra_h = extra_w = 0
    if not is_global and convention != "same":
        extra_h = max(0, (chw[1] - 1) * sh + kh - (in_h + 2 * ph))
        extra_w = max(0, (chw[2] - 1) * sw + kw - (in_w + 2 * pw))
    exclude = True
    if kind != "AVERAGE" and (ph + extra_h >= kh or pw + extra_w >= kw):
        # Padding as wide as the window (which ONNX-based runtimes refuse as pooling pads) is
        # padded explicitly with what never wins: the lowest float for max, zero for L2.
        fill = float(np.finfo(np.float32).min) if kind == "MAX" else 0.0
        source = ctx.layer("add_padding", f"{node.name}_pad", None,
                           (chw[0], in_h + 2 * ph + extra_h, in_w + 2 * pw + extra_w),
                           input_name=source, top=ph, bottom=ph + extra_h, left=pw,
                           right=pw + extra_w, value=fill)
        ph = pw = extra_h = extra_w = 0
    if pool_type == "sum":
        exclude = False  # zeros add nothing: the average over the whole window times its size
    elif pool_type == "avg" and include_pad:
        if (ph or pw) and (extra_h or extra_w):  # the symmetric padding counts, the overhang not
            source = ctx.layer("add_padding", f"{node.name}_pad", None,
                               (chw[0], in_h + 2 * ph, in_w + 2 * pw), input_name=source,
                               top=ph, bottom=ph, left=pw, right=pw, value=0.0)
            ph = pw = 0
        else:
            exclude = bool(extra_h or extra_w)
    out = node.outputs[0] if pool_type != "sum" else None
    pooled = ctx.layer("add_pooling", node.name, out, chw, input_name=source, height=kh,
                       width=kw, stride_height=sh, stride_width=sw, layer_type=kind,
                       padding_type="SAME" if convention == "same" else "VALID",
                       exclude_pad_area=exclude, is_global=is_global, padding_top=ph,
                       padding_bottom=ph + extra_h, padding_left=pw,
                       padding_right=pw + extra_w)
    if pool_type != "sum":
        return [pooled]
    window = in_h * in_w if is_global else kh * kw
    return [ctx.linear(pooled, float(window), 0.0, f"{node.name}_sum", out=node.outputs[0])]


@register("LRN")
def lrn(node: MxNode, ctx: CoremlContext) -> list[str]:
    return [ctx.layer("add_lrn", node.name, node.outputs[0], ctx.blob(node.inputs[0]),
                      input_name=node.inputs[0], alpha=node.float("alpha", 1e-4),
                      beta=node.float("beta", 0.75), local_size=node.int("nsize"),
                      k=node.float("knorm", 2.0))]


@register("L2Normalization")
def l2_normalization(node: MxNode, ctx: CoremlContext) -> list[str]:
    mode = node.str("mode", "instance")
    eps = node.float("eps", 1e-10)
    chw = ctx.blob(node.inputs[0])
    if mode == "instance":
        return [ctx.layer("add_l2_normalize", node.name, node.outputs[0], chw,
                          input_name=node.inputs[0], epsilon=eps)]
    axes = {"channel": ("C", (1, chw[1], chw[2])), "spatial": ("HW", (chw[0], 1, 1))}
    if mode not in axes:
        raise node.fail(f"mode {mode!r} is not an L2Normalization mode")
    axis, reduced = axes[mode]
    squares = ctx.layer("add_reduce", f"{node.name}_sumsquare", None, reduced,
                        input_name=node.inputs[0], axis=axis, mode="sumsquare")
    norm = ctx.layer("add_unary", f"{node.name}_rsqrt", None, reduced, input_name=squares,
                     mode="rsqrt", shift=eps, epsilon=1e-30)
    return [ctx.layer("add_elementwise", node.name, node.outputs[0], chw,
                      input_names=[node.inputs[0], norm], mode="MULTIPLY")]


@register("Embedding")
def embedding(node: MxNode, ctx: CoremlContext) -> list[str]:
    """One index per sample, (N,) -> (N, D): Core ML's embedding reads a (1, 1, 1) blob."""
    if len(ctx.shape(node.inputs[0])) != 1:
        raise node.fail("Core ML's fixed-rank embedding takes one index per sample ((N,) "
                        "indices); sequences of indices have no fixed-rank layout")
    weight = ctx.weight(node, 1, "weight")  # (input_dim, output_dim)
    vocab, dim = weight.shape
    out = ctx.layer("add_embedding", node.name, node.outputs[0], (dim, 1, 1),
                    input_name=node.inputs[0], W=NO_WEIGHTS_2D, b=None, input_dim=vocab,
                    output_channels=dim, has_bias=False)
    fill_floats(ctx.last_layer().embedding.weights, weight.T)  # stored (output, input)
    return [out]
