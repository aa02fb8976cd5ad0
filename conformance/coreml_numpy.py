"""A numpy evaluation of Core ML NeuralNetwork layers as Apple's ``NeuralNetwork.proto``
documents them, for the layers where the ONNX project's Core ML converter (our oracle, see
``coreml_oracle``) is wrong: PReLU, bilinear upsampling, softmax and L2 normalisation over
(C, H, W) blobs, slices, recurrent layers on the sequence axis ... Only those layers and the
ones our single-layer cases place around them are evaluated; anything else raises, so a spec
is never half-evaluated.

Blobs are ``(N, C, H, W)`` arrays (Core ML's rank-5 ``[Seq, Batch, C, H, W]`` with Seq = 1),
or ``(Seq, N, C, H, W)`` arrays once a permute puts a sequence on Seq.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def _weights(params: Any) -> np.ndarray:
    return np.asarray(params.floatValue, dtype=np.float64)


def _activation(p: Any, x: np.ndarray) -> np.ndarray:
    kind = p.WhichOneof("NonlinearityType")
    channel = (1, -1, 1, 1)
    if kind == "linear":
        return p.linear.alpha * x + p.linear.beta
    if kind == "ReLU":
        return np.maximum(x, 0)
    if kind == "leakyReLU":
        return np.where(x >= 0, x, p.leakyReLU.alpha * x)
    if kind == "PReLU":
        alpha = _weights(p.PReLU.alpha)
        alpha = alpha.reshape(channel) if alpha.size > 1 else alpha[0]
        return np.where(x >= 0, x, alpha * x)
    if kind == "ELU":
        return np.where(x >= 0, x, p.ELU.alpha * (np.exp(x) - 1))
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if kind == "tanh":
        return np.tanh(x)
    if kind == "softplus":
        return np.logaddexp(0, x)
    if kind == "softsign":
        return x / (1 + np.abs(x))
    raise NotImplementedError(f"activation {kind}")


def _grid(size_in: int, size_out: int, mode: int) -> np.ndarray:
    """Sampling positions of UpsampleLayerParams.LinearUpsampleMode (0 DEFAULT, 1
    ALIGN_CORNERS_TRUE, 2 ALIGN_CORNERS_FALSE)."""
    i = np.arange(size_out, dtype=np.float64)
    if mode == 1:
        spacing = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        points = i * spacing
    elif mode == 2:
        spacing = size_in / size_out
        points = i * spacing + 0.5 * spacing - 0.5
    else:
        spacing = (size_in - size_in / size_out) / (size_out - 1) if size_out > 1 else 0.0
        points = i * spacing
    return np.clip(points, 0, size_in - 1)


def _linear_resize(x: np.ndarray, axis: int, points: np.ndarray) -> np.ndarray:
    low = np.floor(points).astype(int)
    high = np.minimum(low + 1, x.shape[axis] - 1)
    frac = (points - low).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    return np.take(x, low, axis) * (1 - frac) + np.take(x, high, axis) * frac


def _upsample(p: Any, x: np.ndarray) -> np.ndarray:
    fh, fw = (int(f) for f in p.scalingFactor) if p.scalingFactor else (1, 1)
    if p.mode == 0:  # nearest
        return x.repeat(fh, axis=2).repeat(fw, axis=3)
    out = _linear_resize(x, 2, _grid(x.shape[2], x.shape[2] * fh, p.linearUpsampleMode))
    return _linear_resize(out, 3, _grid(x.shape[3], x.shape[3] * fw, p.linearUpsampleMode))


def _unary(p: Any, x: np.ndarray) -> np.ndarray:
    y = p.scale * x + p.shift
    names = {0: lambda v: np.sqrt(v), 1: lambda v: 1 / np.sqrt(v + p.epsilon),
             2: lambda v: 1 / (v + p.epsilon), 3: lambda v: v ** p.alpha, 4: np.exp,
             5: lambda v: np.log(v + p.epsilon), 6: np.abs,
             7: lambda v: np.maximum(v, p.alpha)}
    return names[p.type](y)


_SLICE_AXIS = {0: 1, 1: 2, 2: 3}  # CHANNEL, HEIGHT, WIDTH of an (N, C, H, W) blob


def _slice(p: Any, x: np.ndarray) -> np.ndarray:
    axis = _SLICE_AXIS[p.axis]
    size = x.shape[axis]
    start = p.startIndex + size if p.startIndex < 0 else p.startIndex
    end = p.endIndex + size if p.endIndex < 0 else p.endIndex  # -1 denotes N-1 (exclusive)
    index = [slice(None)] * 4
    index[axis] = slice(start, end, int(p.stride) or 1)
    return x[tuple(index)]


def _pointwise(p: Any) -> bool:
    return (list(p.kernelSize) == [1, 1] and set(p.stride) <= {1} and p.nGroups <= 1
            and not p.isDeconvolution and p.WhichOneof("ConvolutionPaddingType") != "same"
            and not any(b.startEdgeSize or b.endEdgeSize
                        for b in p.valid.paddingAmounts.borderAmounts))


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _lstm_pass(w: Any, x: np.ndarray, hidden: int, reverse: bool) -> np.ndarray:
    """NeuralNetwork.proto's LSTM over x (T, B, C), zero initial states, default activations:
    i, f, o = sigmoid(W x + R h + b), z = tanh(...), c = f c + i z, h = o tanh(c)."""
    def gate(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        wx = _weights(getattr(w, f"{name}WeightMatrix")).reshape(hidden, -1)
        wh = _weights(getattr(w, f"{name}RecursionMatrix")).reshape(hidden, hidden)
        b = getattr(w, f"{name}BiasVector")
        return wx, wh, _weights(b) if len(b.floatValue) else np.zeros(hidden)

    gates = {g: gate(g) for g in ("inputGate", "forgetGate", "outputGate", "blockInput")}
    h = np.zeros((x.shape[1], hidden))
    c = np.zeros_like(h)
    out = np.zeros((x.shape[0], x.shape[1], hidden))
    for t in (range(len(x))[::-1] if reverse else range(len(x))):
        pre = {g: x[t] @ wx.T + h @ wh.T + b for g, (wx, wh, b) in gates.items()}
        c = _sigmoid(pre["forgetGate"]) * c + _sigmoid(pre["inputGate"]) * np.tanh(
            pre["blockInput"])
        h = _sigmoid(pre["outputGate"]) * np.tanh(c)
        out[t] = h
    return out


def _recurrent(kind: str, p: Any, x: np.ndarray) -> np.ndarray:
    """A recurrent layer on [Seq, Batch, C, 1, 1] (a 4-D array is one step)."""
    seq = x[None] if x.ndim == 4 else x
    steps = seq[:, :, :, 0, 0]
    hidden = int(p.outputVectorSize)
    if kind == "simpleRecurrent":
        wx = _weights(p.weightMatrix).reshape(hidden, -1)
        wh = _weights(p.recursionMatrix).reshape(hidden, hidden)
        b = _weights(p.biasVector) if p.hasBiasVector else np.zeros(hidden)
        act = {"tanh": np.tanh, "ReLU": lambda v: np.maximum(v, 0)}[
            p.activation.WhichOneof("NonlinearityType")]
        h, out = np.zeros((steps.shape[1], hidden)), []
        for t in range(len(steps)):
            h = act(steps[t] @ wx.T + h @ wh.T + b)
            out.append(h)
        y = np.stack(out)
    elif kind == "uniDirectionalLSTM":
        y = _lstm_pass(p.weightParams, steps, hidden, bool(p.reverseInput))
    else:
        y = np.concatenate([_lstm_pass(p.weightParams[0], steps, hidden, False),
                            _lstm_pass(p.weightParams[1], steps, hidden, True)], axis=-1)
    return y[:, :, :, None, None]


def _layer(layer: Any, inputs: list[np.ndarray]) -> np.ndarray:
    kind = layer.WhichOneof("layer")
    p = getattr(layer, kind)
    x = inputs[0]
    if kind == "activation":
        return _activation(p, x)
    if kind == "softmax":  # over C at every (H, W) position
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if kind == "l2normalize":  # over C, H and W together
        return x / np.sqrt((x * x).sum(axis=(1, 2, 3), keepdims=True) + p.epsilon)
    if kind == "upsample":
        return _upsample(p, x)
    if kind == "slice":
        return _slice(p, x)
    if kind == "unary":
        return _unary(p, x)
    if kind == "reshape":
        return x.reshape(x.shape[0], *[int(d) for d in p.targetShape[-3:]])
    if kind == "flatten":
        return x.reshape(x.shape[0], -1, 1, 1)
    if kind == "add":
        return sum(inputs[1:], inputs[0]) + (p.alpha if len(inputs) == 1 else 0)
    if kind == "multiply":
        out = inputs[0]
        for other in inputs[1:]:
            out = out * other
        return out
    if kind == "gelu":  # mode EXACT: x * Phi(x)
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    if kind == "resizeBilinear":  # STRICT_ALIGN_ENDPOINTS_MODE: corners aligned
        h, w = (int(d) for d in p.targetSize)
        out = _linear_resize(x, 2, _grid(x.shape[2], h, 1))
        return _linear_resize(out, 3, _grid(x.shape[3], w, 1))
    if kind == "mvn":
        axes = (1, 2, 3) if p.acrossChannels else (2, 3)
        centred = x - x.mean(axis=axes, keepdims=True)
        if not p.normalizeVariance:
            return centred
        return centred / np.sqrt((centred ** 2).mean(axis=axes, keepdims=True) + p.epsilon)
    if kind in ("scale", "bias"):
        shape = [int(d) for d in (p.shapeScale if kind == "scale" else p.shapeBias)]
        values = _weights(p.scale if kind == "scale" else p.bias)
        values = values.reshape([1] + shape + [1] * (3 - len(shape)))
        out = x * values if kind == "scale" else x + values
        if kind == "scale" and p.hasBias:
            out = out + _weights(p.bias).reshape([1] + [int(d) for d in p.shapeBias]
                                                 + [1] * (3 - len(p.shapeBias)))
        return out
    if kind == "embedding":  # a (1, 1, 1) index per sample -> (outputChannels, 1, 1)
        table = _weights(p.weights).reshape(int(p.outputChannels), int(p.inputDim))
        rows = table[:, x.reshape(x.shape[0]).astype(int)].T
        if p.hasBias:
            rows = rows + _weights(p.bias)
        return rows.reshape(x.shape[0], -1, 1, 1)
    if kind == "permute":  # axes (Seq, C, H, W); a 4-D array is a blob with Seq = 1
        full = x[None] if x.ndim == 4 else x  # [Seq, Batch, C, H, W]
        order = [(0, 2, 3, 4)[int(a)] for a in p.axis]
        out = full.transpose(order[0], 1, *order[1:])
        return out[0] if out.shape[0] == 1 else out
    if kind in ("uniDirectionalLSTM", "biDirectionalLSTM", "simpleRecurrent"):
        return _recurrent(kind, p, x)
    if kind == "innerProduct":  # (N, C_in, 1, 1) -> (N, C_out, 1, 1)
        w = _weights(p.weights).reshape(int(p.outputChannels), int(p.inputChannels))
        out = x.reshape(x.shape[0], -1) @ w.T + (_weights(p.bias) if p.hasBias else 0)
        return out.reshape(x.shape[0], -1, 1, 1)
    if kind == "convolution" and _pointwise(p):  # a 1x1 convolution: a product over C
        w = _weights(p.weights).reshape(int(p.outputChannels), int(p.kernelChannels))
        out = np.einsum("oc,nchw->nohw", w, x)
        return out + (_weights(p.bias).reshape(1, -1, 1, 1) if p.hasBias else 0)
    raise NotImplementedError(f"layer type {kind} is not in the numpy evaluation")


def run_numpy(spec: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate a NeuralNetwork spec on batch-first feeds; outputs by name, as (N, C, H, W)."""
    blobs: dict[str, np.ndarray] = {}
    for feature in spec.description.input:
        value = np.asarray(feeds[feature.name], np.float64)
        dims = list(feature.type.multiArrayType.shape)
        dims = dims + [1] * (3 - len(dims))
        blobs[feature.name] = value.reshape(value.shape[0], *dims)
    for layer in spec.neuralNetwork.layers:
        result = _layer(layer, [blobs[name] for name in layer.input])
        blobs[layer.output[0]] = result
    return {f.name: blobs[f.name] for f in spec.description.output}


def oracle_defects(spec: Any) -> list[str]:
    """The layers of ``spec`` the oracle is known to evaluate wrongly."""
    shapes: dict[str, tuple[int, ...]] = {}
    defects = []
    for feature in spec.description.input:
        dims = list(feature.type.multiArrayType.shape)
        shapes[feature.name] = tuple(dims + [1] * (3 - len(dims)))
    for layer in spec.neuralNetwork.layers:
        kind = layer.WhichOneof("layer")
        spatial = shapes.get(layer.input[0] if layer.input else "", (1, 1, 1))
        if kind == "activation" and layer.activation.WhichOneof("NonlinearityType") == "PReLU":
            defects.append("PReLU: does not broadcast in onnxruntime")
        elif kind == "upsample" and layer.upsample.mode == 1:
            defects.append("upsample BILINEAR: rejected by onnxruntime")
        elif kind in ("softmax", "l2normalize") and spatial[1] * spatial[2] > 1:
            defects.append(f"{kind} over (C, H, W): reduced over the wrong axes")
        elif kind == "slice":
            defects.append("slice: the last element is dropped, strides refused")
        elif kind == "mvn":
            defects.append("mvn: written with opset-1 attributes, onnxruntime normalises over "
                           "the batch")
        elif kind == "embedding":
            defects.append("embedding: gathers with the float indices of its input, which "
                           "onnxruntime refuses")
        elif kind == "gelu":
            defects.append("gelu: no converter in the oracle")
        elif kind == "resizeBilinear":
            defects.append("resizeBilinear: no shape calculator in the oracle")
        elif kind in ("uniDirectionalLSTM", "biDirectionalLSTM", "simpleRecurrent"):
            defects.append("recurrent layers: the oracle reads Core ML's sequence axis as "
                           "ONNX's batch (one sequence of length N)")
        elif kind == "permute" and int(layer.permute.axis[0]) != 0:
            defects.append("permute onto the sequence axis: the oracle has no sequence axis")
        shapes.update({out: _out_dims(layer, spatial) for out in layer.output})
    return sorted(set(defects))


def _out_dims(layer: Any, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """Enough of the output (C, H, W) to tell a (C, 1, 1) vector from a spatial blob."""
    kind = layer.WhichOneof("layer")
    if kind in ("flatten", "innerProduct"):
        return (0, 1, 1)
    if kind == "pooling" and layer.pooling.globalPooling:
        return (0, 1, 1)
    if kind == "reshape":
        dims = list(layer.reshape.targetShape)[-3:]
        return tuple(int(d) for d in dims)
    return spatial
