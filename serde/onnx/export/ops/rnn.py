"""Recurrent layers: MXNet's fused RNN op (vanilla relu/tanh, LSTM, GRU; one or two directions;
any number of layers) as a stack of ONNX RNN/LSTM/GRU nodes, and _rnn_param_concat.

MXNet packs every weight in one flat vector: first the weights of each layer and direction
(W_i2h of shape (gates*H, input), then W_h2h of shape (gates*H, H)), then the biases in the same
order (b_i2h, b_h2h). Gate order differs: MXNet LSTM is i,f,g,o (ONNX i,o,f,c) and MXNet GRU is
r,z,n (ONNX z,r,h); MXNet's GRU applies the reset gate after the recurrent product, which is ONNX
GRU's linear_before_reset=1.
"""
from __future__ import annotations

import numpy as np

from ..context import ExportContext, MxNode
from ..registry import register

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}
_ONNX_OP = {"rnn_relu": "RNN", "rnn_tanh": "RNN", "lstm": "LSTM", "gru": "GRU"}
#: For each ONNX gate position, the MXNet gate it comes from.
_GATE_ORDER = {"rnn_relu": [0], "rnn_tanh": [0], "lstm": [0, 3, 1, 2], "gru": [1, 0, 2]}


@register("_rnn_param_concat")
def rnn_param_concat(node: MxNode, ctx: ExportContext) -> list[str]:
    axis = node.int("dim", 0)
    values = [ctx.const(x) for x in node.inputs]
    if all(v is not None for v in values):  # parameters: fold, so RNN sees a constant
        return [ctx.add_const(np.concatenate(values, axis=axis), f"{node.name}_folded")]
    return ctx.emit("Concat", node.inputs, node.outputs[:1], name=node.name, axis=axis)


class _FlatParams:
    """Pieces of MXNet's flat parameter vector, as constants when it is known at export time
    and as Slice/Concat nodes otherwise."""

    def __init__(self, node: MxNode, ctx: ExportContext, tensor: str) -> None:
        self.node, self.ctx, self.tensor = node, ctx, tensor
        self.value = ctx.const(tensor)
        self.count = 0

    def take(self, chunks: list[tuple[int, int]], shape: list[int], label: str) -> str:
        ctx, name = self.ctx, f"{self.node.name}_{label}"
        if self.value is not None:
            flat = self.value.reshape(-1)
            return ctx.add_const(np.concatenate([flat[o:o + n] for o, n in chunks]).reshape(shape),
                                 name)
        pieces = []
        for i, (offset, length) in enumerate(chunks):
            pieces.append(ctx.emit1("Slice", [self.tensor,
                                              ctx.add_int64([offset], f"{name}_start{i}"),
                                              ctx.add_int64([offset + length], f"{name}_end{i}")],
                                    name=f"{name}_slice{i}"))
        joined = pieces[0] if len(pieces) == 1 else ctx.emit1("Concat", pieces,
                                                              name=f"{name}_concat", axis=0)
        return ctx.emit1("Reshape", [joined, ctx.add_int64(shape, f"{name}_shape")], name=name)


def _gate_chunks(offset: int, gates: int, hidden: int, cols: int, order: list[int]
                 ) -> list[tuple[int, int]]:
    block = hidden * cols
    return [(offset + g * block, block) for g in order][:gates]


def _layer_state(ctx: ExportContext, node: MxNode, tensor: str, layer: int, dirs: int,
                 layers: int, label: str) -> str:
    """Layer ``layer``'s rows of an initial state of shape (layers * dirs, batch, hidden)."""
    if layers == 1:
        return tensor
    name = f"{node.name}_l{layer}_{label}"
    return ctx.emit1("Slice", [tensor, ctx.add_int64([layer * dirs], f"{name}_start"),
                               ctx.add_int64([(layer + 1) * dirs], f"{name}_end"),
                               ctx.add_int64([0], f"{name}_axis")], name=name)


@register("RNN")
def rnn(node: MxNode, ctx: ExportContext) -> list[str]:
    mode = node.str("mode")
    if mode not in _GATES:
        raise node.fail(f"RNN mode {mode!r} is not supported")
    for key in ("projection_size", "lstm_state_clip_min", "lstm_state_clip_max"):
        if node.has(key):
            raise node.fail(f"RNN with {key} has no ONNX equivalent")
    data, params, state = node.inputs[:3]
    cell = node.inputs[3] if mode == "lstm" else None
    lengths = ""
    if node.bool("use_sequence_length", False):
        # MXNet's CPU kernel ignores the lengths (its cuDNN kernel honours them, as ONNX's
        # sequence_lens does): no export can match both, so say so.
        raise node.fail("RNN with use_sequence_length: MXNet 1.9.1 computes it differently "
                        "on CPU (lengths ignored) and GPU (cuDNN honours them); mask the "
                        "outputs with SequenceMask instead")
    seq, batch, input_size = ctx.shape(data)
    hidden = node.int("state_size")
    layers = node.int("num_layers")
    dirs = 2 if node.bool("bidirectional", False) else 1
    gates, order = _GATES[mode], _GATE_ORDER[mode]
    flat = _FlatParams(node, ctx, params)

    # Offsets of every (layer, direction) block in the flat vector.
    weight_offsets, offset = [], 0
    for layer in range(layers):
        cols = input_size if layer == 0 else dirs * hidden
        for _ in range(dirs):
            weight_offsets.append((offset, cols))
            offset += gates * hidden * (cols + hidden)
    bias_offsets = []
    for _ in range(layers * dirs):
        bias_offsets.append(offset)
        offset += 2 * gates * hidden
    expected = int(np.prod(ctx.shape(params)))
    if offset != expected:
        raise node.fail(f"RNN parameter vector has {expected} values, the layout needs {offset}")

    attrs: dict = {"hidden_size": hidden,
                   "direction": "bidirectional" if dirs == 2 else "forward"}
    if mode == "gru":
        attrs["linear_before_reset"] = 1
    elif mode != "lstm":
        attrs["activations"] = ["Relu" if mode == "rnn_relu" else "Tanh"] * dirs
    want_states = node.bool("state_outputs", False)
    x, final_h, final_c = data, [], []
    for layer in range(layers):
        tag = f"l{layer}"
        w_chunks, r_chunks, b_chunks = [], [], []
        for d in range(dirs):
            w_off, cols = weight_offsets[layer * dirs + d]
            w_chunks += _gate_chunks(w_off, gates, hidden, cols, order)
            r_chunks += _gate_chunks(w_off + gates * hidden * cols, gates, hidden, hidden, order)
            b_off = bias_offsets[layer * dirs + d]
            b_chunks += _gate_chunks(b_off, gates, hidden, 1, order)
            b_chunks += _gate_chunks(b_off + gates * hidden, gates, hidden, 1, order)
        cols = weight_offsets[layer * dirs][1]
        w = flat.take(w_chunks, [dirs, gates * hidden, cols], f"{tag}_W")
        r = flat.take(r_chunks, [dirs, gates * hidden, hidden], f"{tag}_R")
        b = flat.take(b_chunks, [dirs, 2 * gates * hidden], f"{tag}_B")
        inputs = [x, w, r, b, lengths,
                  _layer_state(ctx, node, state, layer, dirs, layers, "h0")]
        if mode == "lstm":
            inputs.append(_layer_state(ctx, node, cell, layer, dirs, layers, "c0"))
        n_out = 3 if mode == "lstm" else 2
        outs = ctx.emit(_ONNX_OP[mode], inputs, n_out, name=f"{node.name}_{tag}", **attrs)
        final_h.append(outs[1])
        if mode == "lstm":
            final_c.append(outs[2])
        # (seq, dirs, batch, hidden) -> (seq, batch, dirs * hidden)
        moved = ctx.emit1("Transpose", [outs[0]], name=f"{node.name}_{tag}_transpose",
                          perm=[0, 2, 1, 3])
        last = layer == layers - 1
        x = ctx.emit1("Reshape", [moved, ctx.add_int64([0, 0, -1], f"{node.name}_{tag}_shape")],
                      node.outputs[0] if last else None,
                      name=node.name if last else f"{node.name}_{tag}_out")
    results = [x]
    if want_states:
        for label, parts, out in (("h", final_h, 1), ("c", final_c, 2)):
            if not parts or out >= len(node.outputs):
                continue
            if len(parts) == 1:
                results.append(ctx.emit1("Identity", [parts[0]], node.outputs[out],
                                         name=f"{node.name}_{label}n"))
            else:
                results.append(ctx.emit1("Concat", parts, node.outputs[out],
                                         name=f"{node.name}_{label}n", axis=0))
    return results
