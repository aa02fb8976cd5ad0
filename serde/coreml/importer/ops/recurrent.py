"""NeuralNetwork recurrent layers on rank-5 blobs ``[Seq, Batch, C, 1, 1]`` (the rank-N
walk) as MXNet's fused RNN op, layout TNC.

Core ML's GRU is not MXNet's: it applies the reset gate before the recurrent product of the
candidate (``R_o (r * h)``), MXNet (as cuDNN) after it (``r * (R_o h + b)``), so ``gru`` is
left unconverted rather than converted wrongly."""
from __future__ import annotations

from typing import Any

import mxnet as mx
import numpy as np

from ..context import ImportContext, weights
from ..registry import nd_converter

#: Core ML's LSTM gates in MXNet's order [input, forget, cell (block input), output].
_GATES = ("inputGate", "forgetGate", "blockInput", "outputGate")


def _check(layer: Any, ctx: ImportContext, activations: list[Any], params: Any) -> None:
    kinds = [a.WhichOneof("NonlinearityType") for a in activations]
    if kinds and kinds != ["sigmoid", "tanh", "tanh"]:
        raise ctx.fail(layer, f"LSTM activations {kinds} are not imported (MXNet's LSTM uses "
                              f"sigmoid, tanh, tanh)")
    if params.hasPeepholeVectors or params.coupledInputAndForgetGate:
        raise ctx.fail(layer, "LSTMs with peepholes or coupled input and forget gates are not "
                              "imported")
    # cellClipThreshold is not applied: a cell state grows by at most 1 per step, so clipping
    # changes nothing for sequences shorter than the threshold (Core ML's default is 50,
    # coremltools writes 500).


def _direction(w: Any, hidden: int, width: int, forget_bias: bool, has_bias: bool
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One direction's MXNet weights [W_ih, W_hh] and biases [b_ih, b_hh], gates reordered."""
    w_ih = np.concatenate([weights(getattr(w, f"{g}WeightMatrix"), (hidden, width))
                           for g in _GATES])
    w_hh = np.concatenate([weights(getattr(w, f"{g}RecursionMatrix"), (hidden, hidden))
                           for g in _GATES])
    if has_bias:
        bias = np.concatenate([weights(getattr(w, f"{g}BiasVector"), (hidden,))
                               for g in _GATES])
    else:
        bias = np.zeros(4 * hidden, np.float32)
    if forget_bias:  # "a vector of 1s is added to the forget gate bias"
        bias[hidden:2 * hidden] += 1.0
    return [w_ih.ravel(), w_hh.ravel()], [bias, np.zeros_like(bias)]


def _lstm(layer: Any, ctx: ImportContext, p: Any, weight_params: list[Any], directions: int
          ) -> list[mx.sym.Symbol]:
    hidden, width = int(p.outputVectorSize), int(p.inputVectorSize)
    seq, batch, channels = ctx.shape(layer)[:3]
    if channels != width or ctx.shape(layer)[3:] != (1, 1):
        raise ctx.fail(layer, f"input {ctx.shape(layer)} is not [Seq, Batch, {width}, 1, 1]")
    params = p.params
    packed_w: list[np.ndarray] = []
    packed_b: list[np.ndarray] = []
    for w in weight_params:
        ws, bs = _direction(w, hidden, width, params.forgetBias, params.hasBiasVectors)
        packed_w += ws
        packed_b += bs
    name = f"{layer.name}_parameters"
    ctx.params[name] = np.concatenate(packed_w + packed_b).astype(np.float32)
    x = mx.sym.reshape(ctx.input(layer), (seq, batch, width))
    reverse = directions == 1 and bool(getattr(p, "reverseInput", False))
    if reverse:
        x = mx.sym.reverse(x, axis=0)

    def initial(k: int) -> mx.sym.Symbol:  # [1, B, H, 1, 1] inputs, forward then backward
        if len(layer.input) <= k:
            return mx.sym.zeros((1, batch, hidden))
        return mx.sym.reshape(ctx.symbols[layer.input[k]], (1, batch, hidden))

    if directions == 2:
        h0 = mx.sym.concat(initial(1), initial(3), dim=0)
        c0 = mx.sym.concat(initial(2), initial(4), dim=0)
    else:
        h0, c0 = initial(1), initial(2)
    out = mx.sym.RNN(x, mx.sym.var(name, shape=ctx.params[name].shape), h0, c0,
                     state_size=hidden, num_layers=1, mode="lstm",
                     bidirectional=directions == 2, state_outputs=True)
    y = mx.sym.reverse(out[0], axis=0) if reverse else out[0]
    if not params.sequenceOutput:  # the final hidden state of each direction, side by side
        y = mx.sym.transpose(out[1], axes=(1, 0, 2))
    y = mx.sym.reshape(y, (-1, batch, directions * hidden, 1, 1))
    states = []
    for d in range(directions):  # h then c of each direction, [1, B, H, 1, 1]
        for k in (1, 2):
            state = mx.sym.slice_axis(out[k], axis=0, begin=d, end=d + 1)
            states.append(mx.sym.reshape(state, (1, batch, hidden, 1, 1)))
    return [y, *states][:len(layer.output)]


@nd_converter("uniDirectionalLSTM")
def unidirectional_lstm(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.uniDirectionalLSTM
    _check(layer, ctx, list(p.activations), p.params)
    return _lstm(layer, ctx, p, [p.weightParams], 1)


@nd_converter("biDirectionalLSTM")
def bidirectional_lstm(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    p = layer.biDirectionalLSTM
    for acts in (p.activationsForwardLSTM, p.activationsBackwardLSTM):
        _check(layer, ctx, list(acts), p.params)
    if len(p.weightParams) != 2:
        raise ctx.fail(layer, f"a bidirectional LSTM needs 2 weight sets, it has "
                              f"{len(p.weightParams)}")
    return _lstm(layer, ctx, p, list(p.weightParams), 2)
