"""MXNet's fused RNN op as Core ML recurrent layers on the sequence axis, and the axis swap
that moves a batch-first (N, T, C) tensor onto it (Gluon's ``layout="NTC"`` layers wrap the
RNN op in two ``SwapAxis(0, 1)``).

LSTMs become ``uniDirectionalLSTM`` / ``biDirectionalLSTM`` layers, one per MXNet layer;
``rnn_tanh`` / ``rnn_relu`` become ``simpleRecurrent`` (both compute f(W x + R h + b)).
MXNet's GRU has no Core ML layer: Core ML's ``gru`` applies the reset gate before the
recurrent product of the candidate (``R_o (r * h)``), MXNet after it (``r * (R_o h + b)``)."""
from __future__ import annotations

import numpy as np

from ..context import CoremlContext, MxNode
from ..registry import register
from .tensor import transpose

#: Core ML permute indices of the rank-5 blob's (Seq, C, H, W) axes (batch stays).
_ONTO_SEQUENCE = (1, 3, 2, 0)  # blob (T, 1, C) of (N, T, C) -> [T, N, C, 1, 1]
_OFF_SEQUENCE = (3, 0, 2, 1)  # [T, N, C, 1, 1] -> blob (T, 1, C) of (N, T, C)

#: MXNet's gate blocks per mode, and Core ML's order of the same gates.
_GATES = {"lstm": 4, "rnn_tanh": 1, "rnn_relu": 1}
_LSTM_TO_COREML = (0, 1, 3, 2)  # MXNet [i, f, g, o] -> Core ML [i, f, o, z]
#: MXNet's LSTM does not clip its cell state (its clip attributes act only under cuDNN).
_NO_CLIP = float(np.finfo(np.float32).max)


@register("SwapAxis", "swapaxes")
def swap_axes(node: MxNode, ctx: CoremlContext) -> list[str]:
    data = node.inputs[0]
    rank = len(ctx.shape(data))
    dims = sorted(int(node.attrs.get(k, d)) % rank for k, d in (("dim1", 0), ("dim2", 0)))
    if dims != [0, 1]:  # within the axes after the batch: a transpose
        axes = list(range(rank))
        axes[dims[0]], axes[dims[1]] = axes[dims[1]], axes[dims[0]]
        return transpose(MxNode(name=node.name, op="transpose", attrs={"axes": str(tuple(axes))},
                                inputs=node.inputs, outputs=node.outputs), ctx)
    if rank != 3:
        raise node.fail(f"swaps the batch axis of a rank-{rank} tensor; Core ML moves only "
                        f"(N, T, C) sequences onto its sequence axis")
    c, h, w = ctx.blob(data)
    if data in ctx.sequence_major:  # back to batch-first: (T, N, C) -> (N, T, C)
        return [ctx.layer("add_permute", node.name, node.outputs[0], (ctx.sequence_major[data],
                          1, c), input_name=data, dim=_OFF_SEQUENCE)]
    out = ctx.layer("add_permute", node.name, node.outputs[0], (w, 1, 1), input_name=data,
                    dim=_ONTO_SEQUENCE)
    ctx.sequence_major[out] = c  # the blob (T, 1, C) held T on C
    return [out]


def _unpack(params: np.ndarray, mode: str, layers: int, directions: int, width: int,
            hidden: int) -> list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """MXNet's flat RNN parameters -> per layer, per direction (W_ih, W_hh, b_ih + b_hh):
    every weight matrix first (layer by layer, direction by direction), then every bias."""
    gates = _GATES[mode]
    shapes, offset = [], 0
    for layer in range(layers):
        size_in = width if layer == 0 else directions * hidden
        for _ in range(directions):
            shapes.append(((gates * hidden, size_in), (gates * hidden, hidden)))
    weights = []
    for ih, hh in shapes:
        w_ih = params[offset:offset + ih[0] * ih[1]].reshape(ih)
        offset += ih[0] * ih[1]
        w_hh = params[offset:offset + hh[0] * hh[1]].reshape(hh)
        offset += hh[0] * hh[1]
        weights.append((w_ih, w_hh))
    biases = []
    for _ in shapes:
        b_ih = params[offset:offset + gates * hidden]
        b_hh = params[offset + gates * hidden:offset + 2 * gates * hidden]
        offset += 2 * gates * hidden
        biases.append(b_ih + b_hh)
    if offset != params.size:
        raise ValueError(f"the RNN's parameter vector holds {params.size} values, "
                         f"{offset} expected")
    packed = [(w_ih, w_hh, b) for (w_ih, w_hh), b in zip(weights, biases, strict=True)]
    return [packed[k * directions:(k + 1) * directions] for k in range(layers)]


def _lstm_gates(matrix: np.ndarray) -> list[np.ndarray]:
    blocks = np.split(matrix, 4, axis=0)
    return [np.ascontiguousarray(blocks[k]) for k in _LSTM_TO_COREML]


@register("RNN")
def rnn(node: MxNode, ctx: CoremlContext) -> list[str]:
    mode = node.str("mode")
    if mode not in _GATES:
        raise node.fail(f"mode {mode!r} has no Core ML layer: Core ML's GRU applies the reset "
                        f"gate before the recurrent product, MXNet's after it" if mode == "gru"
                        else f"mode {mode!r} is not converted")
    if node.bool("use_sequence_length", False) or node.str("projection_size", "None") != "None":
        raise node.fail("RNNs with sequence lengths or projections are not converted")
    data = node.inputs[0]
    if data not in ctx.sequence_major:
        raise node.fail("its input must be a batch-first (N, T, C) tensor with axes 0 and 1 "
                        "swapped (Gluon's layout='NTC'); Core ML's batch axis is its own")
    steps, (width, _, _) = ctx.sequence_major[data], ctx.blob(data)
    hidden, layers = node.int("state_size"), node.int("num_layers", 1)
    directions = 2 if node.bool("bidirectional", False) else 1
    params = ctx.weight(node, 1, "parameters").reshape(-1)
    for k in range(2, len(node.inputs)):  # initial states: Core ML's start at zero
        state = ctx.const(node.inputs[k])
        if state is None or np.any(state):
            raise node.fail("initial states other than zeros are not converted")
    per_layer = _unpack(params, mode, layers, directions, width, hidden)
    x = data
    for layer, weights in enumerate(per_layer):
        size_in = width if layer == 0 else directions * hidden
        name = ctx.unique_name(f"{node.name}_l{layer}")
        y = node.outputs[0] if layer == layers - 1 else ctx.unique_name(f"{name}_out")
        # Core ML's final states, which nothing reads
        states = [ctx.unique_name(f"{name}_{s}") for s in ("h", "c", "h_back", "c_back")]
        common = dict(name=name, hidden_size=hidden, input_size=size_in, input_names=[x],
                      output_all=True)
        if mode != "lstm":
            if directions == 2:
                raise node.fail("bidirectional rnn_tanh / rnn_relu has no Core ML layer")
            w_ih, w_hh, b = weights[0]
            ctx.builder.add_simple_rnn(W_h=w_hh, W_x=w_ih, b=b, output_names=[y, states[0]],
                                       activation="TANH" if mode == "rnn_tanh" else "RELU",
                                       **common)
        elif directions == 1:
            w_ih, w_hh, b = weights[0]
            ctx.builder.add_unilstm(W_h=_lstm_gates(w_hh), W_x=_lstm_gates(w_ih),
                                    b=_lstm_gates(b), output_names=[y, *states[:2]],
                                    cell_clip_threshold=_NO_CLIP, **common)
        else:
            (fw_ih, fw_hh, fb), (bw_ih, bw_hh, bb) = weights
            ctx.builder.add_bidirlstm(W_h=_lstm_gates(fw_hh), W_x=_lstm_gates(fw_ih),
                                      b=_lstm_gates(fb), W_h_back=_lstm_gates(bw_hh),
                                      W_x_back=_lstm_gates(bw_ih), b_back=_lstm_gates(bb),
                                      output_names=[y, *states], cell_clip_threshold=_NO_CLIP,
                                      **common)
        x = ctx.made(y, (directions * hidden, 1, 1))
        ctx.sequence_major[x] = steps
    # the final states (L*D, N, H) are not batch-first: later layers cannot read them
    return [x, *[f"{node.name}_state_{k}" for k in range(1, len(node.outputs))]]
