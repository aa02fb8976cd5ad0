"""Neural-network layers: Conv/ConvTranspose, pooling, normalisations, Gemm/MatMul, Dropout."""
from __future__ import annotations

import numpy as np

from ..registry import converter
from ._helpers import cast, is_float, norm_axis, npm, npx, pad_constant, slice_axis


def _spatial_pads(node, ctx, in_shape, kernel, strides, dilations):
    """(begin, end) pads per spatial axis, resolving auto_pad with the static input shape."""
    n = len(kernel)
    auto = node.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if in_shape is None or any(d is None for d in in_shape[2:]):
            raise ctx.error(f"auto_pad={auto} needs static spatial input dims")
        begin, end = [], []
        for i in range(n):
            size = in_shape[2 + i]
            out = -(-size // strides[i])
            total = max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size, 0)
            small = total // 2
            begin.append(small if auto == "SAME_UPPER" else total - small)
            end.append(total - begin[-1])
        return begin, end
    if auto == "VALID":
        return [0] * n, [0] * n
    pads = list(node.attr("pads", [0] * (2 * n)))
    return pads[:n], pads[n:]


def _pad_input(x, begin, end, value=0.0):
    return pad_constant(x, ((0, 0), (0, 0)) + tuple(zip(begin, end, strict=False)), value)


def _conv_geometry(node, ctx, w_index=1):
    in_shape = ctx.in_shape(node, 0)
    w_shape = ctx.static_shape(node, w_index)
    kernel = tuple(node.attr("kernel_shape", w_shape[2:]))
    n = len(kernel)
    strides = tuple(node.attr("strides", [1] * n))
    dilations = tuple(node.attr("dilations", [1] * n))
    return in_shape, w_shape, kernel, strides, dilations


@converter("Conv", 1, 11, 22)
def conv(node, ctx):
    x, w = ctx.input(node, 0), ctx.input(node, 1)
    b = ctx.optional_input(node, 2)
    in_shape, w_shape, kernel, strides, dilations = _conv_geometry(node, ctx)
    if len(kernel) not in (1, 2, 3):
        raise ctx.error(f"{len(kernel)}-D convolution is not supported by MXNet")
    begin, end = _spatial_pads(node, ctx, in_shape, kernel, strides, dilations)
    dtype = ctx.in_dtype(node, 0)
    if dtype == np.dtype("float16"):   # MXNet has no float16 gemm on CPU
        x, w = cast(x, "float32"), cast(w, "float32")
        b = None if b is None else cast(b, "float32")
    if begin != end:
        x = _pad_input(x, begin, end)
        pad = (0,) * len(kernel)
    else:
        pad = tuple(begin)
    out = npx.convolution(x, w, b, kernel=kernel, stride=strides, dilate=dilations, pad=pad,
                          num_filter=w_shape[0], num_group=int(node.attr("group", 1)),
                          no_bias=b is None)
    return cast(out, dtype) if dtype == np.dtype("float16") else out


@converter("DeformConv", 19, 22)
def deform_conv(node, ctx):
    """MXNet's ModulatedDeformableConvolution samples as DeformConv does (offsets as (y, x)
    pairs per kernel tap, bilinear with zeros outside, the mask scaling each tap); without a
    mask every tap weighs 1."""
    import mxnet as mx

    from ._helpers import legacy

    x, w, offset = ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)
    b = ctx.optional_input(node, 3)
    mask = ctx.optional_input(node, 4)
    w_shape = ctx.static_shape(node, 1)
    kernel = tuple(node.attr("kernel_shape") or w_shape[2:])
    n = len(kernel)
    if n != 2:
        raise ctx.error(f"{n}-D DeformConv is not supported by MXNet (2-D only)")
    pads = list(node.attr("pads") or [0] * (2 * n))
    if pads[:n] != pads[n:]:
        raise ctx.error(f"asymmetric DeformConv pads {pads} are not supported by MXNet")
    offset_group = int(node.attr("offset_group", 1))
    if mask is None:  # every tap at weight 1: ones shaped like one offset channel per tap
        taps = offset_group * kernel[0] * kernel[1]
        one_channel = npm.ones_like(slice_axis(offset, 1, 0, 1))
        mask = npm.concatenate([one_channel] * taps, axis=1) if taps > 1 else one_channel
    dtype = ctx.in_dtype(node, 0)
    if dtype != np.dtype("float32"):
        x, w, offset, mask = (cast(v, "float32") for v in (x, w, offset, mask))
        b = None if b is None else cast(b, "float32")
    args = [x, offset, mask, w] + ([b] if b is not None else [])
    out = legacy(mx.sym.contrib.ModulatedDeformableConvolution, *args, kernel=kernel,
                 stride=tuple(node.attr("strides") or (1,) * n),
                 dilate=tuple(node.attr("dilations") or (1,) * n), pad=tuple(pads[:n]),
                 num_filter=int(w_shape[0]), num_group=int(node.attr("group", 1)),
                 num_deformable_group=offset_group, no_bias=b is None)
    return cast(out, dtype) if dtype != np.dtype("float32") else out


@converter("ConvTranspose", 1, 11, 22)
def conv_transpose(node, ctx):
    x, w = ctx.input(node, 0), ctx.input(node, 1)
    b = ctx.optional_input(node, 2)
    in_shape, w_shape, kernel, strides, dilations = _conv_geometry(node, ctx)
    n = len(kernel)
    if in_shape is None or any(d is None for d in in_shape[2:]):
        raise ctx.error("ConvTranspose needs static spatial input dims")
    group = int(node.attr("group", 1))
    out_pad = list(node.attr("output_padding", [0] * n))
    full = [strides[i] * (in_shape[2 + i] - 1) + (kernel[i] - 1) * dilations[i] + 1
            for i in range(n)]
    auto = node.attr("auto_pad", "NOTSET")
    output_shape = node.attr("output_shape")
    if output_shape is not None:
        output_shape = list(output_shape)[-n:]
        begin, end = [], []
        for i in range(n):
            total = full[i] + out_pad[i] - output_shape[i]
            if auto == "SAME_UPPER":
                begin.append(total // 2)
            else:
                begin.append(total - total // 2)
            end.append(total - begin[-1])
    elif auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i in range(n):
            target = in_shape[2 + i] * strides[i]
            total = full[i] + out_pad[i] - target
            begin.append(total // 2 if auto == "SAME_UPPER" else total - total // 2)
            end.append(total - begin[-1])
    elif auto == "VALID":
        begin, end = [0] * n, [0] * n
    else:
        pads = list(node.attr("pads", [0] * (2 * n)))
        begin, end = pads[:n], pads[n:]
    dtype = ctx.in_dtype(node, 0)
    if dtype == np.dtype("float16"):
        x, w = cast(x, "float32"), cast(w, "float32")
        b = None if b is None else cast(b, "float32")
    out = npx.deconvolution(x, w, kernel=kernel, stride=strides, dilate=dilations,
                            pad=(0,) * n, num_filter=w_shape[1] * group, num_group=group,
                            no_bias=True)
    for i in range(n):
        axis = 2 + i
        grow = [max(-begin[i], 0), out_pad[i] + max(-end[i], 0)]
        if any(grow):   # output_padding and negative pads add cells no input reaches
            out = npm.pad(out, pad_width=tuple(grow if a == axis else (0, 0)
                                               for a in range(2 + n)), mode="constant")
        size = full[i] + sum(grow)
        cut = [max(begin[i], 0), max(end[i], 0)]
        if any(cut):
            out = slice_axis(out, axis, cut[0], size - cut[1])
    if b is not None:
        out = out + npm.reshape(b, (-1,) + (1,) * n)
    return cast(out, dtype) if dtype == np.dtype("float16") else out


def _tap_pool(ctx, x, kernel, strides, dilations, begin, end, in_shape, out_shape,
              pool_type, include_pad, dtype):
    """Pooling as a max/sum over kernel taps (strided slices of the padded input): exact ONNX
    semantics for dilations, asymmetric pads, ceil mode and both count_include_pad modes."""
    n = len(kernel)
    spatial_in, spatial_out = in_shape[2:], out_shape[2:]
    need = [(spatial_out[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
            for i in range(n)]
    extra = [max(0, need[i] - (spatial_in[i] + begin[i] + end[i])) for i in range(n)]
    if pool_type == "max":
        low = float(np.finfo(dtype).min) if is_float(dtype) else float(np.iinfo(dtype).min)
    else:
        low = 0.0
    xp = _pad_input(x, begin, [end[i] + extra[i] for i in range(n)], low)
    out = None
    for offsets in np.ndindex(*kernel):
        starts = [offsets[i] * dilations[i] for i in range(n)]
        tap = npx.slice(xp, begin=(None, None) + tuple(starts),
                        end=(None, None) + tuple(starts[i] + (spatial_out[i] - 1) * strides[i] + 1
                                                 for i in range(n)),
                        step=(None, None) + tuple(strides))
        if out is None:
            out = tap
        else:
            out = npm.maximum(out, tap) if pool_type == "max" else out + tap
    if pool_type in ("max", "sum"):
        return out
    counts = np.ones((), dtype=np.float64)
    for i in range(n):
        pos = (np.arange(spatial_out[i])[:, None] * strides[i] - begin[i]
               + np.arange(kernel[i])[None, :] * dilations[i])
        lo, hi = (-begin[i], spatial_in[i] + end[i]) if include_pad else (0, spatial_in[i])
        per_axis = ((pos >= lo) & (pos < hi)).sum(axis=1).astype(np.float64)
        counts = np.multiply.outer(counts, per_axis)
    counts = np.maximum(counts, 1.0).astype(dtype)
    return out / ctx.const(counts, dtype, "count")


def _native_pool(x, node, kernel, strides, dilations, begin, end, ceil, pool_type, dtype):
    """MXNet's own pooling, which needs no static sizes, where its semantics are ONNX's:
    symmetric pads, no dilation, and under ceil_mode no window that can start in the end
    padding (pad <= kernel - stride: ONNX drops such windows, MXNet's ``full`` keeps them)."""
    if list(begin) != list(end) or any(d != 1 for d in dilations) or len(kernel) > 3 or \
            not is_float(dtype):
        return None
    if ceil and any(p > k - s for p, k, s in zip(begin, kernel, strides, strict=True)):
        return None
    return npx.pooling(x, kernel=kernel, stride=strides, pad=tuple(begin), pool_type=pool_type,
                       pooling_convention="full" if ceil else "valid",
                       count_include_pad=bool(node.attr("count_include_pad", 0)))


def _pool(node, ctx, pool_type):
    x = ctx.input(node, 0)
    in_shape = ctx.in_shape(node, 0)
    kernel = tuple(node.attr("kernel_shape"))
    n = len(kernel)
    strides = tuple(node.attr("strides", [1] * n))
    dilations = tuple(node.attr("dilations", [1] * n))
    if len(node.outputs) > 1 and node.outputs[1]:
        raise ctx.error("the Indices output of MaxPool is not supported")
    begin, end = _spatial_pads(node, ctx, in_shape, kernel, strides, dilations)
    dtype = ctx.in_dtype(node, 0)
    ceil = bool(node.attr("ceil_mode", 0))
    convention = "full" if ceil else "valid"
    out_shape = ctx.out_shape(node)
    simple = not any(begin) and not any(end) and not ceil and all(d == 1 for d in dilations)
    if not simple or n > 3:
        static = in_shape is not None and out_shape is not None and \
            all(d is not None for d in in_shape[2:]) and all(d is not None for d in out_shape[2:])
        if not static:
            native = _native_pool(x, node, kernel, strides, dilations, begin, end, ceil,
                                  pool_type, dtype)
            if native is None:
                raise ctx.error("pooling with asymmetric pads, dilations, or ceil_mode windows "
                                "that can start in the end padding, needs static shapes; give "
                                "input_shapes")
            return native
        if pool_type == "max" and not is_float(dtype):
            out = _tap_pool(ctx, cast(x, "float64"), kernel, strides, dilations, begin, end,
                            in_shape, out_shape, pool_type, False, np.dtype("float64"))
            return cast(out, dtype)
        return _tap_pool(ctx, x, kernel, strides, dilations, begin, end, in_shape, out_shape,
                         pool_type, bool(node.attr("count_include_pad", 0)), dtype)
    if pool_type == "max" and not is_float(dtype):   # MXNet pools floating point only
        work = "float64" if dtype.itemsize >= 4 else "float32"
        return cast(npx.pooling(cast(x, work), kernel=kernel, stride=strides, pad=(0,) * n,
                                pool_type="max", pooling_convention=convention), dtype)
    return npx.pooling(x, kernel=kernel, stride=strides, pad=(0,) * n, pool_type=pool_type,
                       pooling_convention=convention, count_include_pad=True)


@converter("MaxPool", 1, 8, 10, 11, 12, 22)
def max_pool(node, ctx):
    return _pool(node, ctx, "max")


@converter("AveragePool", 7, 10, 11, 19, 22)
def average_pool(node, ctx):
    return _pool(node, ctx, "avg")


@converter("LpPool", 11, 18, 22)
def lp_pool(node, ctx):
    x = ctx.input(node, 0)
    p = float(node.attr("p", 2))
    in_shape, out_shape = ctx.static_shape(node, 0), ctx.out_shape(node)
    kernel = tuple(node.attr("kernel_shape"))
    n = len(kernel)
    strides = tuple(node.attr("strides", [1] * n))
    dilations = tuple(node.attr("dilations", [1] * n))
    begin, end = _spatial_pads(node, ctx, in_shape, kernel, strides, dilations)
    if out_shape is None or any(d is None for d in out_shape):
        raise ctx.error("LpPool needs static shapes")
    total = _tap_pool(ctx, npm.power(npm.abs(x), p), kernel, strides, dilations, begin, end,
                      in_shape, out_shape, "sum", False, ctx.in_dtype(node, 0))
    return npm.power(total, 1.0 / p)


def _global(node, ctx, fn):
    rank = ctx.rank(node, 0)
    return fn(ctx.input(node, 0), axis=tuple(range(2, rank)), keepdims=True)


@converter("GlobalAveragePool", 1, 22)
def global_average_pool(node, ctx):
    return _global(node, ctx, npm.mean)


@converter("GlobalMaxPool", 1, 22)
def global_max_pool(node, ctx):
    return _global(node, ctx, npm.max)


@converter("GlobalLpPool", 2, 22)
def global_lp_pool(node, ctx):
    p = float(node.attr("p", 2))
    rank = ctx.rank(node, 0)
    x = npm.power(npm.abs(ctx.input(node, 0)), p)
    return npm.power(npm.sum(x, axis=tuple(range(2, rank)), keepdims=True), 1.0 / p)


def _channel(sym, rank):
    return npm.reshape(sym, (-1,) + (1,) * (rank - 2))


@converter("BatchNormalization", 7, 9, 14, 15)
def batch_norm(node, ctx):
    x = ctx.input(node, 0)
    scale, bias, mean, var = (ctx.input(node, i) for i in range(1, 5))
    rank = ctx.rank(node, 0)
    eps = float(node.attr("epsilon", 1e-5))
    dtype = ctx.in_dtype(node, 0)
    pdtype = ctx.in_dtype(node, 1)
    if pdtype != dtype:
        scale, bias = cast(scale, dtype), cast(bias, dtype)
    if ctx.in_dtype(node, 3) != dtype:
        mean, var = cast(mean, dtype), cast(var, dtype)
    training = bool(node.attr("training_mode", 0))
    if not training:
        if any(o for o in node.outputs[1:]):
            raise ctx.error("running statistics outputs need training_mode=1")
        if _native_batch_norm_fits(node, ctx, dtype):
            # MXNet's own BatchNorm kernel: an MXNet -> ONNX -> MXNet round trip then computes
            # exactly what the original model computed.
            return npx.batch_norm(x, scale, bias, mean, var, eps=eps, fix_gamma=False,
                                  use_global_stats=True, axis=1)
        a = scale / npm.sqrt(var + eps)
        return x * _channel(a, rank) + _channel(bias - mean * a, rank)
    axes = (0,) + tuple(range(2, rank))
    bmean = npm.mean(x, axis=axes)
    bvar = npm.mean(npm.square(x - _channel(bmean, rank)), axis=axes)
    a = scale / npm.sqrt(bvar + eps)
    y = x * _channel(a, rank) + _channel(bias - bmean * a, rank)
    momentum = float(node.attr("momentum", 0.9))
    rmean = mean * momentum + bmean * (1 - momentum)
    rvar = var * momentum + bvar * (1 - momentum)
    if ctx.in_dtype(node, 3) != dtype:
        rmean, rvar = cast(rmean, ctx.in_dtype(node, 3)), cast(rvar, ctx.in_dtype(node, 3))
    return [y, rmean, rvar]


def _native_batch_norm_fits(node, ctx, dtype) -> bool:
    """MXNet's BatchNorm takes the statistics as auxiliary variables (so they must be model
    constants) of the input's float32/float64 dtype."""
    if dtype not in (np.dtype("float32"), np.dtype("float64")) or ctx.rank(node, 0) < 2:
        return False
    return all(ctx.in_dtype(node, i) == dtype and node.inputs[i] in ctx.values
               for i in range(1, 5))


@converter("InstanceNormalization", 6, 22)
def instance_norm(node, ctx):
    x, scale, bias = (ctx.input(node, i) for i in range(3))
    rank = ctx.rank(node, 0)
    eps = float(node.attr("epsilon", 1e-5))
    axes = tuple(range(2, rank))
    mean = npm.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = npm.mean(npm.square(centered), axis=axes, keepdims=True)
    return centered / npm.sqrt(var + eps) * _channel(scale, rank) + _channel(bias, rank)


def _normalisation_inputs(node, ctx):
    """What LayerNormalization and RMSNormalization share: the input cast to stash_type, the
    scale, the normalised axis, rank, epsilon, and the input and stash dtypes."""
    x, scale = ctx.input(node, 0), ctx.input(node, 1)
    rank = ctx.rank(node, 0)
    axis = norm_axis(node.attr("axis", -1), rank)
    eps = float(node.attr("epsilon", 1e-5))
    dtype = ctx.in_dtype(node, 0)
    stash = ctx.check_elem(node.attr("stash_type", 1), node.outputs[0])
    xs = cast(x, stash) if stash != dtype else x
    return xs, scale, axis, rank, eps, dtype, stash


@converter("LayerNormalization", 17)
def layer_norm(node, ctx):
    xs, scale, axis, rank, eps, dtype, stash = _normalisation_inputs(node, ctx)
    bias = ctx.optional_input(node, 2)
    axes = tuple(range(axis, rank))
    mean = npm.mean(xs, axis=axes, keepdims=True)
    centered = xs - mean
    var = npm.mean(npm.square(centered), axis=axes, keepdims=True)
    inv = 1.0 / npm.sqrt(var + eps)
    y = centered * inv
    if stash != dtype:
        y = cast(y, dtype)
    y = y * scale
    if bias is not None:
        y = y + bias
    return [y, mean, inv]


@converter("GroupNormalization", 18, 21)
def group_norm(node, ctx):
    x, scale, bias = (ctx.input(node, i) for i in range(3))
    shape = ctx.static_shape(node, 0)
    rank = len(shape)
    groups = int(node.attr("num_groups"))
    eps = float(node.attr("epsilon", 1e-5))
    grouped = npm.reshape(x, (shape[0], groups, -1))
    mean = npm.mean(grouped, axis=2, keepdims=True)
    centered = grouped - mean
    var = npm.mean(npm.square(centered), axis=2, keepdims=True)
    y = npm.reshape(centered / npm.sqrt(var + eps), shape)
    if ctx.opset < 21:
        per = shape[1] // groups
        scale = npm.repeat(scale, per)
        bias = npm.repeat(bias, per)
    return y * _channel(scale, rank) + _channel(bias, rank)


@converter("RMSNormalization", 23)
def rms_norm(node, ctx):
    xs, scale, axis, rank, eps, dtype, stash = _normalisation_inputs(node, ctx)
    ms = npm.mean(npm.square(xs), axis=tuple(range(axis, rank)), keepdims=True)
    y = xs / npm.sqrt(ms + eps)
    if stash != dtype:
        y = cast(y, dtype)
    return y * scale


@converter("MeanVarianceNormalization", 9, 13)
def mvn(node, ctx):
    x = ctx.input(node, 0)
    rank = ctx.rank(node, 0)
    axes = tuple(norm_axis(a, rank) for a in node.attr("axes", [0, 2, 3]))
    mean = npm.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = npm.mean(npm.square(centered), axis=axes, keepdims=True)
    return centered / (npm.sqrt(var) + 1e-9)


@converter("LRN", 1, 13)
def lrn(node, ctx):
    x = ctx.input(node, 0)
    shape = ctx.static_shape(node, 0)
    size = int(node.attr("size"))
    alpha, beta = float(node.attr("alpha", 1e-4)), float(node.attr("beta", 0.75))
    bias = float(node.attr("bias", 1.0))
    # square_sum over the window [c - floor((size-1)/2), c + ceil((size-1)/2)]
    lo, hi = (size - 1) // 2, -(-(size - 1) // 2)
    sq = npm.square(x)
    width = ((0, 0), (lo, hi)) + ((0, 0),) * (len(shape) - 2)
    sq = npm.pad(sq, pad_width=width, mode="constant", constant_values=0)
    total = None
    for k in range(size):
        part = slice_axis(sq, 1, k, k + shape[1])
        total = part if total is None else total + part
    return x / npm.power(total * (alpha / size) + bias, beta)


def _matmul_dtype(a, b, dtype):
    if dtype == np.dtype("float16") or not is_float(dtype):
        work = "float32" if dtype == np.dtype("float16") else "float64"
        return cast(a, work), cast(b, work), True
    return a, b, False


@converter("MatMul", 1, 9, 13)
def matmul(node, ctx):
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    dtype = ctx.out_dtype(node)
    a, b, recast = _matmul_dtype(a, b, dtype)
    out = npm.matmul(a, b)
    return cast(out, dtype) if recast else out


@converter("Gemm", 7, 9, 11, 13)
def gemm(node, ctx):
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    c = ctx.optional_input(node, 2)
    dtype = ctx.out_dtype(node)
    if _native_fully_connected_fits(node, ctx, dtype):
        # MXNet's FullyConnected (x @ W^T + b): the kernel an exported MXNet model used.
        units = ctx.static_shape(node, 1)[0]
        return npx.fully_connected(a, b, c, num_hidden=units, no_bias=c is None, flatten=False)
    a, b, recast = _matmul_dtype(a, b, dtype)
    if node.attr("transA", 0):
        a = npm.transpose(a)
    if node.attr("transB", 0):
        b = npm.transpose(b)
    out = npm.matmul(a, b)
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    if alpha != 1.0:
        out = out * alpha
    if c is not None:
        if recast:
            c = cast(c, "float32" if dtype == np.dtype("float16") else "float64")
        out = out + (c * beta if beta != 1.0 else c)
    return cast(out, dtype) if recast else out


def _native_fully_connected_fits(node, ctx, dtype) -> bool:
    if dtype not in (np.dtype("float32"), np.dtype("float64")):
        return False
    if node.attr("transA", 0) or not node.attr("transB", 0):
        return False
    if float(node.attr("alpha", 1.0)) != 1.0 or float(node.attr("beta", 1.0)) != 1.0:
        return False
    if ctx.in_shape(node, 1) is None or len(ctx.static_shape(node, 1)) != 2:
        return False
    units = ctx.static_shape(node, 1)[0]
    if not node.has_input(2):
        return True
    bias_shape = ctx.in_shape(node, 2)
    return ctx.in_dtype(node, 2) == dtype and bias_shape == (units,)


@converter("Einsum", 12, 28)
def einsum(node, ctx):
    operands = [ctx.input(node, i) for i in range(len(node.inputs))]
    dtype = ctx.out_dtype(node)
    equation = node.attr("equation").replace(" ", "")
    if not is_float(dtype) or dtype == np.dtype("float16"):
        work = "float32" if dtype == np.dtype("float16") else "float64"
        return cast(npm.einsum(equation, *[cast(o, work) for o in operands]), dtype)
    return npm.einsum(equation, *operands)


def _mask(ctx, node, x):
    return npm.logical_not(npm.zeros_like(x).astype("bool"))


@converter("Dropout", 7, 10, 12, 13, 22)
def dropout(node, ctx):
    x = ctx.input(node, 0)
    if ctx.opset >= 12 and node.has_input(2):
        training = ctx.input_value(node, 2, " (Dropout training_mode)")
        if bool(np.asarray(training).ravel()[0]):
            ratio = ctx.optional_value(node, 1) if node.has_input(1) else 0.5
            if ratio is not None and float(np.asarray(ratio).ravel()[0]) != 0.0:
                raise ctx.error("Dropout in training mode is random; only inference is "
                                "supported")
    outs = [npm.copy(x)]
    if len(node.outputs) > 1 and node.outputs[1]:
        outs.append(_mask(ctx, node, x))
    return outs


@converter("Flatten", 1, 9, 11, 13, 21, 23, 24, 25)
def flatten(node, ctx):
    x = ctx.input(node, 0)
    shape = ctx.in_shape(node, 0)
    if shape is None:
        raise ctx.error("Flatten needs the input rank")
    axis = norm_axis(node.attr("axis", 1), len(shape))
    front, tail = shape[:axis], shape[axis:]
    if all(d is not None for d in tail):
        return npm.reshape(x, (-1, int(np.prod(tail, dtype=np.int64))))
    if all(d is not None for d in front):
        return npm.reshape(x, (int(np.prod(front, dtype=np.int64)), -1))
    raise ctx.error("Flatten needs static dims on one side of the axis")




@converter("LpNormalization", 1, 22)
def lp_normalization(node, ctx):
    x = ctx.input(node, 0)
    axis = norm_axis(node.attr("axis", -1), ctx.rank(node, 0))
    p = int(node.attr("p", 2))
    if p == 1:
        norm = npm.sum(npm.abs(x), axis=axis, keepdims=True)
    elif p == 2:
        norm = npm.sqrt(npm.sum(npm.square(x), axis=axis, keepdims=True))
    else:
        raise ctx.error(f"LpNormalization with p={p} (ONNX allows 1 or 2)")
    return npm.where(norm == 0, npm.zeros_like(x), x / npm.where(norm == 0, npm.ones_like(norm),
                                                                 norm))
