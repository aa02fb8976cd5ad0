"""NeuralNetwork recurrent layers on rank-5 blobs ``[Seq, Batch, C, 1, 1]`` (the rank-N
walk) as MXNet's fused RNN op, layout TNC: uni- and bidirectional LSTMs, simple recurrent
layers.

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


def _input(layer: Any, ctx: ImportContext, width: int) -> mx.sym.Symbol:
    shape = ctx.shape(layer)
    if len(shape) != 5 or shape[2] != width or shape[3:] != (1, 1):
        raise ctx.fail(layer, f"input {shape} is not [Seq, Batch, {width}, 1, 1]")
    # MXNet's reshape code 0 keeps an axis: the batch stays the caller's
    return mx.sym.reshape(ctx.input(layer), (0, 0, -1))


def _fused(layer: Any, ctx: ImportContext, mode: str, hidden: int, packed: list[np.ndarray],
           x: mx.sym.Symbol, directions: int, reverse: bool, sequence_output: bool
           ) -> list[mx.sym.Symbol]:
    """MXNet's RNN op over (T, B, C) ``x``: the output [Seq, B, D*H, 1, 1], then each
    direction's final states [1, B, H, 1, 1] (h, and c for an LSTM), as Core ML orders them."""
    name = f"{layer.name}_parameters"
    ctx.params[name] = np.concatenate(packed).astype(np.float32)
    if reverse:
        x = mx.sym.reverse(x, axis=0)
    lstm = mode == "lstm"

    def initial(k: int) -> mx.sym.Symbol:  # [1, B, H, 1, 1] inputs, forward then backward
        if len(layer.input) <= k or not layer.input[k]:
            first = mx.sym.slice_axis(x, axis=0, begin=0, end=1)  # (1, B, width)
            return mx.sym.broadcast_like(mx.sym.zeros((1, 1, hidden)), first, lhs_axes=(1,),
                                         rhs_axes=(1,))
        return mx.sym.reshape(ctx.symbols[layer.input[k]], (0, 0, -1))

    per_direction = 2 if lstm else 1  # Core ML's state inputs per direction
    h0 = [initial(1 + per_direction * d) for d in range(directions)]
    states = [mx.sym.concat(*h0, dim=0) if directions == 2 else h0[0]]
    if lstm:
        c0 = [initial(2 + per_direction * d) for d in range(directions)]
        states.append(mx.sym.concat(*c0, dim=0) if directions == 2 else c0[0])
    out = mx.sym.RNN(x, mx.sym.var(name, shape=ctx.params[name].shape), *states,
                     state_size=hidden, num_layers=1, mode=mode,
                     bidirectional=directions == 2, state_outputs=True)
    if sequence_output:
        y = mx.sym.reverse(out[0], axis=0) if reverse else out[0]
    else:  # the final hidden state of each direction, side by side: (1, B, D*H)
        y = mx.sym.expand_dims(mx.sym.reshape(mx.sym.transpose(out[1], axes=(1, 0, 2)),
                                              (0, -1)), axis=0)
    finals = []
    for d in range(directions):
        for k in range(1, 2 + lstm):
            state = mx.sym.slice_axis(out[k], axis=0, begin=d, end=d + 1)
            finals.append(mx.sym.reshape(state, (0, 0, 0, 1, 1)))
    return [mx.sym.reshape(y, (0, 0, -1, 1, 1)), *finals][:len(layer.output)]


def _lstm(layer: Any, ctx: ImportContext, p: Any, weight_params: list[Any], directions: int
          ) -> list[mx.sym.Symbol]:
    hidden, width = int(p.outputVectorSize), int(p.inputVectorSize)
    x = _input(layer, ctx, width)
    packed_w: list[np.ndarray] = []
    packed_b: list[np.ndarray] = []
    for w in weight_params:
        ws, bs = _direction(w, hidden, width, p.params.forgetBias, p.params.hasBiasVectors)
        packed_w += ws
        packed_b += bs
    reverse = directions == 1 and bool(getattr(p, "reverseInput", False))
    return _fused(layer, ctx, "lstm", hidden, packed_w + packed_b, x, directions, reverse,
                  p.params.sequenceOutput)


@nd_converter("simpleRecurrent")
def simple_recurrent(layer: Any, ctx: ImportContext) -> list[mx.sym.Symbol]:
    """h_t = f(W x_t + R h_(t-1) + b), f tanh or ReLU: MXNet's rnn_tanh / rnn_relu."""
    p = layer.simpleRecurrent
    kind = p.activation.WhichOneof("NonlinearityType")
    modes = {"tanh": "rnn_tanh", "ReLU": "rnn_relu"}
    if kind not in modes:
        raise ctx.fail(layer, f"simple recurrent activation {kind!r} is not imported (MXNet's "
                              f"are tanh and ReLU)")
    hidden, width = int(p.outputVectorSize), int(p.inputVectorSize)
    x = _input(layer, ctx, width)
    bias = weights(p.biasVector, (hidden,)) if p.hasBiasVector else np.zeros(hidden, np.float32)
    packed = [weights(p.weightMatrix, (hidden, width)).ravel(),
              weights(p.recursionMatrix, (hidden, hidden)).ravel(), bias, np.zeros_like(bias)]
    return _fused(layer, ctx, modes[kind], hidden, packed, x, 1, bool(p.reverseInput),
                  p.sequenceOutput)


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
