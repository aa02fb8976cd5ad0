"""Recurrent layers: LSTM, GRU, RNN, unrolled over the sequence length where it is static, and
as MXNet's fused ``RNN`` operator where it is dynamic (for the layers that operator computes).

Each time step is built from ``mx.sym.np`` ops with the ONNX equations as written (gate orders
iofc / zrh, peepholes, ``clip`` on the gate pre-activations, ``input_forget``,
``linear_before_reset``, custom activations with their alpha/beta), so results match the
reference exactly up to float rounding. ``sequence_lens`` is honoured the way onnxruntime does:
steps at or past a batch entry's length leave its state unchanged and write zeros to ``Y``; the
reverse direction therefore starts at each entry's last valid step.
"""
from __future__ import annotations

import numpy as np

from ..registry import converter
from ._helpers import cast, npm, npx, slice_axis

# activation -> (uses alpha, uses beta, default alpha, default beta), as onnxruntime reads them
_ACTIVATIONS = {
    "relu": (False, False, 0.0, 0.0),
    "tanh": (False, False, 0.0, 0.0),
    "sigmoid": (False, False, 0.0, 0.0),
    "affine": (True, True, 1.0, 0.0),
    "leakyrelu": (True, False, 0.01, 0.0),
    "thresholdedrelu": (True, False, 1.0, 0.0),
    "scaledtanh": (True, True, 1.0, 1.0),
    "hardsigmoid": (True, True, 0.2, 0.5),
    "elu": (True, False, 1.0, 0.0),
    "softsign": (False, False, 0.0, 0.0),
    "softplus": (False, False, 0.0, 0.0),
}


def _activation(name: str, alpha: float, beta: float):
    if name == "relu":
        return lambda x: npm.maximum(x, 0)
    if name == "tanh":
        return npm.tanh
    if name == "sigmoid":
        return lambda x: npx.sigmoid(x)
    if name == "affine":
        return lambda x: x * alpha + beta
    if name == "leakyrelu":
        return lambda x: npm.where(x >= 0, x, x * alpha)
    if name == "thresholdedrelu":
        return lambda x: npm.where(x > alpha, x, npm.zeros_like(x))
    if name == "scaledtanh":
        return lambda x: npm.tanh(x * beta) * alpha
    if name == "hardsigmoid":
        return lambda x: npm.clip(x * alpha + beta, 0, 1)
    if name == "elu":
        return lambda x: npm.where(x >= 0, x, (npm.exp(x) - 1) * alpha)
    if name == "softsign":
        return lambda x: x / (npm.abs(x) + 1)
    if name == "softplus":
        return lambda x: npm.log(npm.exp(x) + 1)
    raise AssertionError(name)


def _activations(node, ctx, defaults: list[str], num_dirs: int):
    names = node.attr("activations")
    if names is None:
        names = defaults * num_dirs
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    if len(names) != len(defaults) * num_dirs:
        raise ctx.error(f"activations needs {len(defaults) * num_dirs} entries, got {names}")
    alphas = list(node.attr("activation_alpha", []) or [])
    betas = list(node.attr("activation_beta", []) or [])
    funcs = []
    for name in names:
        key = name.lower()
        if key not in _ACTIVATIONS:
            raise ctx.error(f"activation {name!r} is not supported")
        use_a, use_b, alpha, beta = _ACTIVATIONS[key]
        if use_a and alphas:
            alpha = float(alphas.pop(0))
        if use_b and betas:
            beta = float(betas.pop(0))
        funcs.append(_activation(key, alpha, beta))
    per = len(defaults)
    return [funcs[d * per:(d + 1) * per] for d in range(num_dirs)]


def _take(sym, index):
    """``sym[index]`` on axis 0."""
    return npm.squeeze(slice_axis(sym, 0, index, index + 1), axis=0)


def _gate(sym, k, hidden):
    return slice_axis(sym, 1, k * hidden, (k + 1) * hidden)


def _recurrent(node, ctx, kind: str):
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    defaults = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"],
                "RNN": ["Tanh"]}[kind]
    direction = node.attr("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ctx.error(f"unknown direction {direction!r}")
    num_dirs = 2 if direction == "bidirectional" else 1
    layout = int(node.attr("layout", 0))
    x_shape = ctx.in_shape(node, 0)
    if x_shape is None or x_shape[1 if layout else 0] is None:
        fused = _fused_recurrent(node, ctx, kind, num_dirs)
        if fused is not None:
            return fused
        raise ctx.error("the sequence length of X must be static for this layer (clip, "
                        "peepholes, sequence_lens or non-default activations are unrolled); "
                        "give input_shapes")
    steps = int(x_shape[1 if layout else 0])
    r_shape = ctx.static_shape(node, 2)
    hidden = int(node.attr("hidden_size", r_shape[-1]))
    clip = node.attr("clip")
    acts = _activations(node, ctx, defaults, num_dirs)
    dtype = ctx.in_dtype(node, 0)
    work = np.dtype("float32") if dtype == np.dtype("float16") else dtype

    x, w, r = cast(ctx.input(node, 0), work), cast(ctx.input(node, 1), work), \
        cast(ctx.input(node, 2), work)
    b = ctx.optional_input(node, 3)
    b = None if b is None else cast(b, work)
    lens = ctx.optional_input(node, 4)
    h0 = ctx.optional_input(node, 5)
    h0 = None if h0 is None else cast(h0, work)
    c0 = p = None
    if kind == "LSTM":
        c0 = ctx.optional_input(node, 6)
        c0 = None if c0 is None else cast(c0, work)
        p = ctx.optional_input(node, 7)
        p = None if p is None else cast(p, work)
    if layout:
        x = npm.transpose(x, (1, 0, 2))
        h0 = None if h0 is None else npm.transpose(h0, (1, 0, 2))
        c0 = None if c0 is None else npm.transpose(c0, (1, 0, 2))
    # zeros of shape [batch, hidden], built from X so a dynamic batch works
    zero_state = npm.zeros_like(slice_axis(_take(x, 0), 1, 0, 1)) * npm.zeros((1, hidden),
                                                                               dtype=work)
    lens_col = None if lens is None else npm.reshape(lens, (-1, 1))

    def clipped(v):
        return v if clip is None else npm.clip(v, -float(clip), float(clip))

    ys, hs, cs = [], [], []
    for d in range(num_dirs):
        reverse = direction == "reverse" or d == 1
        f_act = acts[d][0]
        wd, rd = _take(w, d), _take(r, d)
        xw = npm.matmul(x, npm.transpose(wd))                 # [T, B, G*h]
        rt = npm.transpose(rd)
        wb = rb = None
        if b is not None:
            bd = _take(b, d)
            wb, rb = slice_axis(bd, 0, 0, gates * hidden), slice_axis(bd, 0, gates * hidden, None)
            if kind != "GRU":
                xw = xw + wb + rb
                wb = rb = None
            else:
                xw = xw + wb
        h = zero_state if h0 is None else _take(h0, d)
        c = None
        if kind == "LSTM":
            c = zero_state if c0 is None else _take(c0, d)
            pd = None if p is None else _take(p, d)
        outs = [None] * steps
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        for t in order:
            xt = _take(xw, t)
            if kind == "RNN":
                h_new = f_act(clipped(xt + npm.matmul(h, rt)))
            elif kind == "LSTM":
                g_act, h_act = acts[d][1], acts[d][2]
                pre = xt + npm.matmul(h, rt)
                pi, po, pf, pc = (_gate(pre, k, hidden) for k in range(4))
                if pd is not None:
                    pi = pi + slice_axis(pd, 0, 0, hidden) * c
                    pf = pf + slice_axis(pd, 0, 2 * hidden, 3 * hidden) * c
                i_g = f_act(clipped(pi))
                f_g = 1 - i_g if node.attr("input_forget", 0) else f_act(clipped(pf))
                c_new = f_g * c + i_g * g_act(clipped(pc))
                if pd is not None:
                    po = po + slice_axis(pd, 0, hidden, 2 * hidden) * c_new
                o_g = f_act(clipped(po))
                h_new = o_g * h_act(c_new)
            else:
                g_act = acts[d][1]
                hr = npm.matmul(h, rt)
                if rb is not None:
                    hr = hr + rb
                z = f_act(clipped(_gate(xt, 0, hidden) + _gate(hr, 0, hidden)))
                rg = f_act(clipped(_gate(xt, 1, hidden) + _gate(hr, 1, hidden)))
                if node.attr("linear_before_reset", 0):
                    hh = _gate(xt, 2, hidden) + rg * _gate(hr, 2, hidden)
                else:
                    rh = npm.matmul(rg * h, npm.transpose(slice_axis(rd, 0, 2 * hidden,
                                                                     3 * hidden)))
                    if rb is not None:
                        rh = rh + slice_axis(rb, 0, 2 * hidden, 3 * hidden)
                    hh = _gate(xt, 2, hidden) + rh
                h_tilde = g_act(clipped(hh))
                h_new = (1 - z) * h_tilde + z * h
            if lens_col is not None:
                valid = lens_col > t
                outs[t] = npm.where(valid, h_new, npm.zeros_like(h_new))
                h = npm.where(valid, h_new, h)
                if kind == "LSTM":
                    c = npm.where(valid, c_new, c)
            else:
                outs[t] = h = h_new
                if kind == "LSTM":
                    c = c_new
        ys.append(npm.stack(outs, axis=0))                   # [T, B, h]
        hs.append(h)
        cs.append(c)
    y = npm.stack(ys, axis=1)                                 # [T, D, B, h]
    y_h = npm.stack(hs, axis=0)                               # [D, B, h]
    y_c = npm.stack(cs, axis=0) if kind == "LSTM" else None
    if layout:
        y = npm.transpose(y, (2, 0, 1, 3))
        y_h = npm.transpose(y_h, (1, 0, 2))
        y_c = None if y_c is None else npm.transpose(y_c, (1, 0, 2))
    outs = [y, y_h] + ([y_c] if kind == "LSTM" else [])
    return [o if o is None or work == dtype else cast(o, dtype) for o in outs]


#: ONNX gate blocks in the order MXNet's fused RNN operator keeps them: LSTM iofc -> ifco,
#: GRU zrh -> rzh
_MX_GATE_ORDER = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2), "RNN": (0,)}


def _fused_recurrent(node, ctx, kind: str, num_dirs: int):
    """The layer as MXNet's own ``RNN`` operator, which runs any sequence length: used where
    the sequence axis is dynamic (unrolling needs its length) and the layer is one that
    operator computes (default activations, no clip, peepholes, input_forget or
    sequence_lens; GRU with linear_before_reset, as cuDNN's). None otherwise."""
    names = [str(n.decode() if isinstance(n, bytes) else n).lower()
             for n in (node.attr("activations") or [])]
    defaults = {"LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"]}
    if kind == "RNN":
        acts = set(names) or {"tanh"}
        if len(acts) != 1 or not acts <= {"tanh", "relu"}:
            return None
        mode = f"rnn_{acts.pop()}"
    else:
        if names and names != defaults[kind] * num_dirs:
            return None
        if kind == "GRU" and not node.attr("linear_before_reset", 0):
            return None
        mode = kind.lower()
    if node.attr("clip") is not None or node.attr("input_forget", 0) or \
            node.attr("activation_alpha") or node.attr("activation_beta") or \
            node.has_input(4) or (kind == "LSTM" and node.has_input(7)):
        return None
    direction = node.attr("direction", "forward")
    layout = int(node.attr("layout", 0))
    dtype = ctx.in_dtype(node, 0)
    if dtype != np.dtype("float32"):
        return None
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    hidden = int(node.attr("hidden_size", ctx.static_shape(node, 2)[-1]))
    x, w, r = ctx.input(node, 0), ctx.input(node, 1), ctx.input(node, 2)
    b = ctx.optional_input(node, 3)
    if layout:
        x = npm.transpose(x, (1, 0, 2))
    if direction == "reverse":
        x = npm.flip(x, axis=0)

    def reorder(weights):  # (G*h, ...) in ONNX gate order -> MXNet's
        return npm.concatenate([slice_axis(weights, 0, k * hidden, (k + 1) * hidden)
                                for k in _MX_GATE_ORDER[kind]], axis=0) if gates > 1 \
            else weights

    pieces, biases = [], []
    for d in range(num_dirs):
        pieces += [npm.reshape(reorder(_take(w, d)), (-1,)),
                   npm.reshape(reorder(_take(r, d)), (-1,))]
        if b is None:
            zeros = npm.zeros((2 * gates * hidden,), dtype=dtype)
            biases += [zeros]
        else:
            bd = _take(b, d)
            biases += [reorder(slice_axis(bd, 0, 0, gates * hidden)),
                       reorder(slice_axis(bd, 0, gates * hidden, None))]
    params = npm.concatenate(pieces + biases, axis=0)

    h0 = ctx.optional_input(node, 5)
    c0 = ctx.optional_input(node, 6) if kind == "LSTM" else None
    zero = None
    if h0 is None or (kind == "LSTM" and c0 is None):
        # (D, batch, hidden) zeros with X's (possibly dynamic) batch
        column = slice_axis(slice_axis(x, 0, 0, 1), 2, 0, 1)          # (1, B, 1)
        zero = npm.zeros_like(column) * npm.zeros((num_dirs, 1, hidden), dtype=dtype)
    h0 = zero if h0 is None else (npm.transpose(h0, (1, 0, 2)) if layout else h0)
    args = [x, params, h0]
    if kind == "LSTM":
        c0 = zero if c0 is None else (npm.transpose(c0, (1, 0, 2)) if layout else c0)
        args.append(c0)
    outs = npx.rnn(*args, state_size=hidden, num_layers=1,
                   bidirectional=num_dirs == 2, mode=mode, state_outputs=True)
    y, y_h = outs[0], outs[1]
    y_c = outs[2] if kind == "LSTM" else None
    if direction == "reverse":
        y = npm.flip(y, axis=0)
    # (T, B, D*h) -> ONNX's (T, D, B, h)
    y = npm.transpose(npx.reshape(y, (-2, -2, num_dirs, hidden)), (0, 2, 1, 3))
    if layout:
        y = npm.transpose(y, (2, 0, 1, 3))
        y_h = npm.transpose(y_h, (1, 0, 2))
        y_c = None if y_c is None else npm.transpose(y_c, (1, 0, 2))
    return [y, y_h] + ([y_c] if kind == "LSTM" else [])


@converter("LSTM", 7, 14, 22)
def lstm(node, ctx):
    return _recurrent(node, ctx, "LSTM")


@converter("GRU", 7, 14, 22)
def gru(node, ctx):
    return _recurrent(node, ctx, "GRU")


@converter("RNN", 7, 14, 22)
def rnn(node, ctx):
    return _recurrent(node, ctx, "RNN")
