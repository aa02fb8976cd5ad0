"""Neural-network layers: convolution, pooling, normalisation, fully connected, dropout."""
from __future__ import annotations

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register
from ._helpers import Builder, axes_input_or_attr, spatial


def _check_layout(node: MxNode, rank: int) -> None:
    layout = node.str("layout", "None")
    if layout not in ("None", "NCW", "NCHW", "NCDHW"):
        raise node.fail(f"layout {layout} is not supported; only channels-first layouts "
                        f"map to ONNX (rank {rank})")


def _conv_common(node: MxNode, default_no_bias: bool) -> tuple[int, list[str], list[int], dict]:
    """What Convolution and Deconvolution share: rank, inputs, symmetric pads, and the
    kernel/stride/dilation/group attributes."""
    kernel = node.tuple("kernel")
    rank = len(kernel)
    _check_layout(node, rank)
    inputs = node.inputs[:2] if node.bool("no_bias", default_no_bias) else node.inputs[:3]
    pads = spatial(node.tuple("pad", ()), rank, 0)
    attrs = dict(kernel_shape=list(kernel), strides=spatial(node.tuple("stride", ()), rank, 1),
                 dilations=spatial(node.tuple("dilate", ()), rank, 1),
                 group=node.int("num_group", 1))
    return rank, inputs, pads, attrs


@register("Convolution", "Convolution_v1")
def convolution(node: MxNode, ctx: ExportContext) -> list[str]:
    _, inputs, pads, attrs = _conv_common(node, default_no_bias=False)
    return ctx.emit("Conv", inputs, node.outputs, name=node.name, pads=pads + pads, **attrs)


@register("Deconvolution")
def deconvolution(node: MxNode, ctx: ExportContext) -> list[str]:
    rank, inputs, pads, attrs = _conv_common(node, default_no_bias=True)
    adj = spatial(node.tuple("adj", ()), rank, 0)
    target = [int(v) for v in node.tuple("target_shape", ())]
    if target and any(target):
        # MXNet derives the padding from target_shape; the inferred output shape says it all.
        attrs["output_shape"] = list(ctx.shape(node.outputs[0])[2:])
    else:
        attrs["pads"] = pads + pads
        if any(adj):
            attrs["output_padding"] = adj
    return ctx.emit("ConvTranspose", inputs, node.outputs, name=node.name, **attrs)


@register("BatchNorm", "BatchNorm_v1", "_contrib_SyncBatchNorm", "_contrib_BatchNormWithReLU")
def batch_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    data, gamma, beta, mean, var = node.inputs[:5]
    axis = node.int("axis", 1)
    rank = len(ctx.shape(data))
    if axis not in (1, 1 - rank):
        raise node.fail(f"BatchNorm over axis {axis} is not supported (ONNX normalises axis 1)")
    if node.bool("fix_gamma", True):
        # MXNet ignores gamma and uses 1 when fix_gamma is set.
        channels = ctx.shape(gamma)[0]
        gamma = ctx.add_const(np.ones(channels, dtype=ctx.dtype(gamma)), f"{node.name}_ones")
    fused_relu = node.op == "_contrib_BatchNormWithReLU"
    outs = ctx.emit("BatchNormalization", [data, gamma, beta, mean, var],
                    1 if fused_relu else [node.outputs[0]], name=node.name,
                    epsilon=node.float("eps", 1e-3), momentum=node.float("momentum", 0.9))
    if fused_relu:
        outs = ctx.emit("Relu", outs, [node.outputs[0]], name=f"{node.name}_relu")
    # Inference-mode BatchNorm exposes the saved mean and variance as its extra outputs.
    return outs + [mean, var][: len(node.outputs) - 1]


def _full_convention(node: MxNode, ctx: ExportContext, rank: int) -> bool:
    convention = node.str("pooling_convention", "valid")
    if convention not in ("valid", "full"):
        raise node.fail(f"pooling_convention {convention} is not supported")
    return convention == "full"


def _full_window_counts(node: MxNode, in_sizes: list[int], out_sizes: list[int],
                        kernel: list[int], strides: list[int], pads: list[int]) -> np.ndarray:
    """MXNet's average-pooling divisor for every output position of the ``full`` convention:
    the window clipped at the padded extent (count_include_pad) or to the data, never 0."""
    include_pad = node.bool("count_include_pad", True)
    per_axis = []
    for n, o, k, s, p in zip(in_sizes, out_sizes, kernel, strides, pads, strict=True):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        per_axis.append(np.maximum(end - start, 1))
    counts = per_axis[0]
    for axis_counts in per_axis[1:]:
        counts = np.multiply.outer(counts, axis_counts)
    return counts.reshape((1, 1) + tuple(out_sizes))


def _signed_lp_root(node: MxNode, ctx: ExportContext, summed: str, p: int, out: str) -> str:
    """MXNet's Lp pooling is (sum x^p)^(1/p) without absolute values: a plain sum for p=1
    and a signed cube root for p=3."""
    if p == 1:
        return ctx.emit1("Identity", [summed], out, name=node.name)
    sign = ctx.emit1("Sign", [summed], name=f"{node.name}_sign")
    magnitude = ctx.emit1("Abs", [summed], name=f"{node.name}_abs")
    exponent = ctx.add_const(np.array(1.0 / p, dtype=ctx.dtype(summed)), f"{node.name}_inv_p")
    root = ctx.emit1("Pow", [magnitude, exponent], name=f"{node.name}_root")
    return ctx.emit1("Mul", [sign, root], out, name=node.name)


def _lp_powered(node: MxNode, ctx: ExportContext, data: str, p: int) -> str:
    if p == 1:
        return data
    exponent = ctx.add_const(np.array(p, dtype=ctx.dtype(data)), f"{node.name}_p")
    return ctx.emit1("Pow", [data, exponent], name=f"{node.name}_powered")


@register("Pooling", "Pooling_v1")
def pooling(node: MxNode, ctx: ExportContext) -> list[str]:
    pool_type = node.str("pool_type", "max")
    if pool_type not in ("max", "avg", "sum", "lp"):
        raise node.fail(f"pool_type {pool_type} is not supported")
    data = node.inputs[0]
    in_shape = ctx.shape(data)
    rank = len(in_shape) - 2
    _check_layout(node, rank)
    out = node.outputs[0]
    p_value = node.int("p_value", 2) if pool_type == "lp" else 2
    signed_lp = pool_type == "lp" and p_value != 2
    if signed_lp:  # computed as a sum pooling of x^p, then the root
        data = _lp_powered(node, ctx, data, p_value)
    target = None if signed_lp else out
    name = f"{node.name}_sum" if signed_lp else node.name

    if node.bool("global_pool", False):
        if pool_type == "lp" and not signed_lp:
            # onnxruntime has no GlobalLpPool kernel from opset 22: an LpPool over the whole
            # (static) spatial extent computes the same; over dynamic extents, the L2 norm.
            if ctx.has_dynamic_non_batch_axes:
                extra, attrs = axes_input_or_attr(ctx, node, list(range(2, rank + 2)), 18)
                squares = ctx.emit1("ReduceSumSquare", [data, *extra], name=f"{node.name}_sq",
                                    keepdims=1, **attrs)
                return ctx.emit("Sqrt", [squares], [out], name=node.name)
            return ctx.emit("LpPool", [data], [out], name=node.name,
                            kernel_shape=list(in_shape[2:]), p=2)
        if pool_type in ("sum", "lp"):
            extra, attrs = axes_input_or_attr(ctx, node, list(range(2, rank + 2)), 13)
            pooled = ctx.emit1("ReduceSum", [data, *extra], target, name=name, keepdims=1,
                               **attrs)
        else:
            ops = {"max": "GlobalMaxPool", "avg": "GlobalAveragePool"}
            pooled = ctx.emit1(ops[pool_type], [data], target, name=name)
        return [_signed_lp_root(node, ctx, pooled, p_value, out) if signed_lp else pooled]

    kernel = spatial(node.tuple("kernel"), rank, 1)
    strides = spatial(node.tuple("stride", ()), rank, 1)
    pad = spatial(node.tuple("pad", ()), rank, 0)
    full = _full_convention(node, ctx, rank)
    attrs = dict(kernel_shape=kernel, strides=strides, pads=pad + pad)
    dtype = ctx.dtype(node.inputs[0])
    if full and ctx.has_dynamic_non_batch_axes:
        # Sizes unknown here: ONNX's ceil_mode is MXNet's ``full`` convention wherever no
        # window can start in the end padding (pad <= kernel - stride on every axis), the
        # windows ceil_mode drops; averages then divide by the same clipped counts.
        if any(p > k - s for p, k, s in zip(pad, kernel, strides, strict=True)):
            raise node.fail("pooling_convention='full' with pad > kernel - stride needs "
                            "static spatial sizes; export without dynamic spatial axes")
        attrs["ceil_mode"] = 1
        full = False
    if full:
        # MXNet's ``full`` convention keeps windows that ONNX's ceil_mode drops (those that
        # start in the end padding) and clips the average's divisor at the padded extent:
        # pad the input explicitly (with the lowest value for max, zeros otherwise) and
        # divide averages by MXNet's own window counts.
        mx_sizes = list(ctx.shape(node.outputs[0])[2:])
        ends = [max((o - 1) * s + k - n - p, 0) for o, s, k, n, p in
                zip(mx_sizes, strides, kernel, in_shape[2:], pad, strict=True)]
        fill = 0.0
        if pool_type == "max":
            fill = np.finfo(dtype).min if np.issubdtype(dtype, np.floating) \
                else np.iinfo(dtype).min
        data = ctx.emit1("Pad", [data, ctx.add_int64([0, 0] + pad + [0, 0] + ends,
                                                     f"{node.name}_input_pads"),
                                 ctx.add_const(np.array(fill, dtype=dtype), f"{node.name}_fill")],
                         name=f"{node.name}_pad_input", mode="constant")
        attrs["pads"] = [0] * (2 * rank)
    if pool_type == "max":
        return ctx.emit("MaxPool", [data], [out], name=node.name, **attrs)
    if pool_type == "avg" and not full:
        return ctx.emit("AveragePool", [data], [out], name=node.name,
                        count_include_pad=int(node.bool("count_include_pad", True)), **attrs)
    if pool_type == "lp" and not signed_lp:
        return ctx.emit("LpPool", [data], [out], name=node.name, p=2, **attrs)
    # A sum: average pooling (counting padding) times the window size.
    avg = ctx.emit1("AveragePool", [data], name=f"{node.name}_avg", count_include_pad=1, **attrs)
    if pool_type == "avg":  # full convention: sum / MXNet's window counts
        counts = _full_window_counts(node, list(in_shape[2:]), list(ctx.shape(out)[2:]),
                                     kernel, strides, pad)
        scale = ctx.add_const((np.prod(kernel) / counts).astype(dtype), f"{node.name}_scale")
        return ctx.emit("Mul", [avg, scale], [out], name=node.name)
    window = ctx.add_const(np.array(np.prod(kernel), dtype=dtype), f"{node.name}_window")
    summed = ctx.emit1("Mul", [avg, window], target, name=name)
    return [_signed_lp_root(node, ctx, summed, p_value, out) if signed_lp else summed]


@register("FullyConnected")
def fully_connected(node: MxNode, ctx: ExportContext) -> list[str]:
    data, weight = node.inputs[:2]
    bias = None if node.bool("no_bias", False) else node.inputs[2]
    if node.bool("flatten", True):
        if len(ctx.shape(data)) != 2:
            data = ctx.emit1("Flatten", [data], name=f"{node.name}_flatten", axis=1)
        inputs = [data, weight] + ([bias] if bias else [])
        return ctx.emit("Gemm", inputs, node.outputs, name=node.name, transB=1)
    weight_t = ctx.emit1("Transpose", [weight], name=f"{node.name}_weight_t", perm=[1, 0])
    if bias is None:
        return ctx.emit("MatMul", [data, weight_t], node.outputs, name=node.name)
    matmul = ctx.emit1("MatMul", [data, weight_t], name=f"{node.name}_matmul")
    return ctx.emit("Add", [matmul, bias], node.outputs, name=node.name)


@register("Dropout")
def dropout(node: MxNode, ctx: ExportContext) -> list[str]:
    # Exported models are for inference, where MXNet's Dropout is the identity (unless mode=always).
    if node.str("mode", "training") == "always":
        raise node.fail("Dropout with mode='always' is random at inference; ONNX has no match")
    return [node.inputs[0]] + [node.inputs[0]] * (len(node.outputs) - 1)


@register("LRN")
def lrn(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("LRN", node.inputs[:1], node.outputs[:1], name=node.name,
                    alpha=node.float("alpha", 1e-4), beta=node.float("beta", 0.75),
                    bias=node.float("knorm", 2.0), size=node.int("nsize"))


@register("InstanceNorm")
def instance_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    return ctx.emit("InstanceNormalization", node.inputs[:3], node.outputs[:1], name=node.name,
                    epsilon=node.float("eps", 1e-3))


@register("LayerNorm")
def layer_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet normalises over the one axis ``axis``; ONNX's LayerNormalization (opset 17)
    normalises from ``axis`` to the end, so it is used for the last axis only, and the
    normalisation is spelled out otherwise (older opsets, another axis, mean/std outputs)."""
    data, gamma, beta = node.inputs[:3]
    rank = len(ctx.shape(data))
    axis = node.int("axis", -1) % rank
    eps = node.float("eps", 1e-5)
    with_stats = node.bool("output_mean_var", False)
    if ctx.opset >= 17 and axis == rank - 1 and not with_stats:
        return ctx.emit("LayerNormalization", [data, gamma, beta], node.outputs[:1],
                        name=node.name, axis=-1, epsilon=eps)
    extra, attrs = axes_input_or_attr(ctx, node, [axis], 18)
    mean = ctx.emit1("ReduceMean", [data, *extra], name=f"{node.name}_mean", keepdims=1,
                     **attrs)
    centred = ctx.emit1("Sub", [data, mean], name=f"{node.name}_centred")
    square = ctx.emit1("Mul", [centred, centred], name=f"{node.name}_square")
    var = ctx.emit1("ReduceMean", [square, *extra], name=f"{node.name}_var", keepdims=1, **attrs)
    eps_c = ctx.add_const(np.array(eps, dtype=ctx.dtype(data)), f"{node.name}_eps")
    std = ctx.emit1("Sqrt", [ctx.emit1("Add", [var, eps_c], name=f"{node.name}_var_eps")],
                    node.outputs[2] if with_stats and len(node.outputs) > 2 else None,
                    name=f"{node.name}_std")
    normed = ctx.emit1("Div", [centred, std], name=f"{node.name}_normed")
    if axis != rank - 1:  # gamma/beta run along ``axis``; ONNX broadcasts from the right
        shape = ctx.add_int64([-1] + [1] * (rank - 1 - axis), f"{node.name}_param_shape")
        gamma = ctx.emit1("Reshape", [gamma, shape], name=f"{node.name}_gamma")
        beta = ctx.emit1("Reshape", [beta, shape], name=f"{node.name}_beta")
    scaled = ctx.emit1("Mul", [normed, gamma], name=f"{node.name}_scaled")
    out = ctx.emit1("Add", [scaled, beta], node.outputs[0], name=node.name)
    if with_stats:
        if len(node.outputs) > 1:
            mean = ctx.emit1("Identity", [mean], node.outputs[1], name=f"{node.name}_mean_out")
        return [out, mean, std][: len(node.outputs)]
    return [out]


@register("L2Normalization")
def l2_normalization(node: MxNode, ctx: ExportContext) -> list[str]:
    """x / sqrt(sum(x^2) + eps) over all but the batch axis (instance), the channel axis
    (channel) or the spatial axes (spatial)."""
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    mode = node.str("mode", "instance")
    axes = {"instance": list(range(1, rank)), "channel": [1],
            "spatial": list(range(2, rank))}.get(mode)
    if axes is None:
        raise node.fail(f"L2Normalization mode {mode!r} is not supported")
    extra, attrs = axes_input_or_attr(ctx, node, axes, 18)
    squares = ctx.emit1("ReduceSumSquare", [data, *extra], name=f"{node.name}_sumsq",
                        keepdims=1, **attrs)
    eps = ctx.add_const(np.array(node.float("eps", 1e-10), dtype=ctx.dtype(data)),
                        f"{node.name}_eps")
    norm = ctx.emit1("Sqrt", [ctx.emit1("Add", [squares, eps], name=f"{node.name}_add_eps")],
                     name=f"{node.name}_norm")
    return ctx.emit("Div", [data, norm], node.outputs[:1], name=node.name)


@register("GroupNorm")
def group_norm(node: MxNode, ctx: ExportContext) -> list[str]:
    """MXNet normalises (N, G, C/G * spatial) groups and scales per group (gamma, beta of
    shape (num_groups,))."""
    b = Builder(node, ctx)
    data, gamma, beta = node.inputs[:3]
    shape = list(ctx.shape(data))
    groups = node.int("num_groups", 1)
    dtype = ctx.dtype(data)
    grouped = b("Reshape", data, b.i64([0, groups, -1]))
    extra, attrs = axes_input_or_attr(ctx, node, [2], 18)
    mean = b("ReduceMean", grouped, *extra, keepdims=1, **attrs)
    centred = b("Sub", grouped, mean)
    var = b("ReduceMean", b("Mul", centred, centred), *extra, keepdims=1, **attrs)
    std = b("Sqrt", b("Add", var, b.const(node.float("eps", 1e-5), dtype, "eps")))
    normed = b("Div", centred, std)
    scale_shape = b.i64([1, groups, 1])
    scaled = b("Add", b("Mul", normed, b("Reshape", gamma, scale_shape)),
               b("Reshape", beta, scale_shape))
    out = b("Reshape", scaled, b("Shape", data, dtype=np.int64), out=node.outputs[0])
    del shape
    if node.bool("output_mean_var", False):
        return [out, b("Reshape", mean, b.i64([-1, groups])),
                b("Reshape", std, b.i64([-1, groups]))][: len(node.outputs)]
    return [out]


def _mxnet_deform_offsets(node: MxNode, ctx: ExportContext, offset: str, pads: list[int]
                          ) -> str:
    """Offsets that make DeformConv sample as MXNet does. MXNet samples a point only when
    0 <= y < H and 0 <= x < W (DeformConv: -1 < y < H) and clamps y in [H-1, H) to row H-1
    (DeformConv blends it with a zero row): such points are moved to the last row/column
    exactly, and invalid ones far outside, where DeformConv reads zeros."""
    b = Builder(node, ctx)
    _, _, height, width = ctx.shape(node.inputs[0])
    _, channels, out_h, out_w = ctx.shape(offset)
    kh, kw = (int(k) for k in node.tuple("kernel"))
    sh, sw = spatial(node.tuple("stride", ()), 2, 1)
    dh, dw = spatial(node.tuple("dilate", ()), 2, 1)
    groups = channels // (2 * kh * kw)
    dtype = ctx.dtype(offset)
    taps = np.arange(kh * kw)
    base_y = (np.arange(out_h)[None, :, None] * sh - pads[0]
              + (taps // kw)[:, None, None] * dh).astype(dtype)
    base_x = (np.arange(out_w)[None, None, :] * sw - pads[1]
              + (taps % kw)[:, None, None] * dw).astype(dtype)
    pairs = b("Reshape", offset, b.i64([-1, groups, kh * kw, 2, out_h, out_w]))

    def fix(axis: int, base: np.ndarray, size: int) -> str:
        delta = b("Squeeze", b("Slice", pairs, b.i64([axis]), b.i64([axis + 1]), b.i64([3])),
                  b.i64([3]))
        origin = b.const(np.broadcast_to(base, (kh * kw, out_h, out_w)), dtype, "base")
        position = b("Add", delta, origin)
        last = b.const(float(size - 1), dtype, "last")
        clamped = b("Where", b("Less", position, last, dtype=np.bool_), delta,
                    b("Sub", last, origin), dtype=dtype)
        valid = b("And", b("Not", b("Less", position, b.const(0.0, dtype, "zero"),
                                    dtype=np.bool_), dtype=np.bool_),
                  b("Less", position, b.const(float(size), dtype, "size"), dtype=np.bool_),
                  dtype=np.bool_)
        return b("Where", valid, clamped, b.const(-1e5, dtype, "far"), dtype=dtype), valid

    dy, valid_y = fix(0, base_y, height)
    dx, valid_x = fix(1, base_x, width)
    both = b("And", valid_y, valid_x, dtype=np.bool_)
    far = b.const(-1e5, dtype, "far")
    dy = b("Where", both, dy, far, dtype=dtype)
    dx = b("Where", both, dx, far, dtype=dtype)
    stacked = b("Concat", b.unsqueeze(dy, [3]), b.unsqueeze(dx, [3]), axis=3)
    return b("Reshape", stacked, b.i64([-1, channels, out_h, out_w]))


@register("_contrib_DeformableConvolution", "_contrib_ModulatedDeformableConvolution",
          opset=(19, None))
def deformable_convolution(node: MxNode, ctx: ExportContext) -> list[str]:
    """ONNX DeformConv (opset 19): offsets in MXNet's (y, x) pair order; the modulated
    version's mask is DeformConv's mask input."""
    modulated = node.op == "_contrib_ModulatedDeformableConvolution"
    data, offset = node.inputs[:2]
    rest = node.inputs[2:]
    mask = None
    if modulated:
        mask, rest = rest[0], rest[1:]
    weight = rest[0]
    bias = None if node.bool("no_bias", False) or len(rest) < 2 else rest[1]
    kernel = node.tuple("kernel")
    rank = len(kernel)
    pads = spatial(node.tuple("pad", ()), rank, 0)
    if not modulated:  # the modulated (v2) kernel samples as DeformConv does already
        offset = _mxnet_deform_offsets(node, ctx, offset, pads)
    inputs = [data, weight, offset, bias or "", mask or ""]
    while inputs and not inputs[-1]:
        inputs.pop()
    return ctx.emit("DeformConv", inputs, node.outputs[:1], name=node.name,
                    kernel_shape=list(kernel), strides=spatial(node.tuple("stride", ()), rank, 1),
                    dilations=spatial(node.tuple("dilate", ()), rank, 1), pads=pads + pads,
                    group=node.int("num_group", 1),
                    offset_group=node.int("num_deformable_group", 1))


@register("im2col")
def im2col(node: MxNode, ctx: ExportContext) -> list[str]:
    """(N, C, H, W) -> (N, C*kh*kw, L) patches: a grouped convolution with one-hot kernels."""
    b = Builder(node, ctx)
    data = node.inputs[0]
    _, channels, *_ = ctx.shape(data)
    kernel = [int(k) for k in node.tuple("kernel")]
    rank = len(kernel)
    taps = int(np.prod(kernel))
    weight = np.zeros((channels * taps, 1, *kernel), ctx.dtype(data))
    for c in range(channels):
        for t in range(taps):
            weight[c * taps + t, 0].flat[t] = 1
    pads = spatial(node.tuple("pad", ()), rank, 0)
    patches = b("Conv", data, b.const(weight, ctx.dtype(data), "one_hot"), kernel_shape=kernel,
                strides=spatial(node.tuple("stride", ()), rank, 1),
                dilations=spatial(node.tuple("dilate", ()), rank, 1), pads=pads + pads,
                group=channels)
    return [b("Reshape", patches, b.i64([0, channels * taps, -1]))]


@register("col2im", opset=(18, None))
def col2im(node: MxNode, ctx: ExportContext) -> list[str]:
    b = Builder(node, ctx)
    kernel = [int(k) for k in node.tuple("kernel")]
    rank = len(kernel)
    pads = spatial(node.tuple("pad", ()), rank, 0)
    return [b("Col2Im", node.inputs[0], b.i64([int(v) for v in node.tuple("output_size")]),
              b.i64(kernel), strides=spatial(node.tuple("stride", ()), rank, 1),
              dilations=spatial(node.tuple("dilate", ()), rank, 1), pads=pads + pads)]
