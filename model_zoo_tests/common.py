"""Shared by the zoo suites: seeded model set-up, the scaled tolerance, timing helpers."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import mxnet as mx
import numpy as np

#: float32 whole-model tolerance: |ort - mx| <= REL * |mx| + ABS_OF_MAX * max|mx|, element-wise.
#: Scaled by the output's magnitude because deep random-init networks reach large activations and
#: float32 accumulation order differs between runtimes.
REL_TOL = 1e-3
ABS_OF_MAX_TOL = 1e-4


def tolerance_ratio(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |a - e| / (REL*|e| + ABS_OF_MAX*max|e|): below 1 passes."""
    from .compare import Tolerance
    from .compare import tolerance_ratio as ratio

    return ratio(actual, expected, Tolerance(REL_TOL, ABS_OF_MAX_TOL))


def calibrate_batchnorm(net: mx.gluon.Block, shapes: list[tuple[int, ...]], ctx: mx.Context,
                        rng: np.random.Generator) -> int:
    """Set every BatchNorm's running statistics to those of one random batch, so activations stay
    sane through deep random-init networks. Returns the number of BatchNorm layers."""
    layers: list[mx.gluon.nn.BatchNorm] = []
    net.apply(lambda block: layers.append(block)
              if isinstance(block, mx.gluon.nn.BatchNorm) else None)
    if not layers:
        return 0
    saved = [layer._kwargs["momentum"] for layer in layers]
    for layer in layers:
        layer._kwargs["momentum"] = 0.0  # running stat := this batch's stat
    try:
        batch = [mx.nd.array(rng.standard_normal((8,) + tuple(s[1:])), ctx=ctx) for s in shapes]
        with mx.autograd.record(train_mode=True):
            out = net(*batch)
        # MXNet updates BatchNorm's running statistics in the backward pass.
        mx.autograd.backward(list(out) if isinstance(out, (list, tuple)) else [out])
        mx.nd.waitall()
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer._kwargs["momentum"] = momentum
    return len(layers)


def normalise_layer_scales(net: mx.gluon.Block, shapes: list[tuple[int, ...]], ctx: mx.Context,
                           rng: np.random.Generator) -> int:
    """For networks without BatchNorm: rescale each conv/dense layer, in forward order, so its
    output has unit standard deviation on a random batch (layer-sequential unit variance).
    Without it, outputs of random-init SqueezeNet shrink to ~1e-5 and the check means little."""
    batch = [mx.nd.array(rng.standard_normal((2,) + tuple(s[1:])), ctx=ctx) for s in shapes]
    return unit_scale_layers(net, batch)


def _std(out: mx.nd.NDArray) -> float:
    # NDArray arithmetic, not asnumpy(): a oneDNN-layout 3-D conv output cannot be copied out
    # directly (MXNet 1.9.1: "Check failed: to.IsDefaultData()"); where even the arithmetic's
    # result cannot (C3D's later convolutions), a reshape lays the output out plainly first
    try:
        centred = out - out.mean()
        return float((centred * centred).mean().sqrt().asscalar())
    except mx.base.MXNetError:
        return float(out.reshape(-1).asnumpy().std())


def _scale(param: mx.gluon.Parameter, divisor: float) -> None:
    scaled = param.data() / divisor
    try:
        param.set_data(scaled)
    except mx.base.MXNetError:  # held in a oneDNN layout (3-D convs): fresh arrays instead
        param.initialize(mx.init.Constant(mx.nd.array(scaled.asnumpy())), ctx=param.list_ctx(),
                         force_reinit=True)


def unit_scale_layers(net: mx.gluon.Block, args: list[mx.nd.NDArray]) -> int:
    """Rescale each conv/dense layer, in forward order, to unit output std on ``args``."""
    layers: list[mx.gluon.Block] = []
    net.apply(lambda block: layers.append(block) if isinstance(
        block, (mx.gluon.nn.Conv2D, mx.gluon.nn.Conv3D, mx.gluon.nn.Dense)) else None)
    for layer in layers:
        seen: list[float] = []
        handle = layer.register_forward_hook(
            lambda _blk, _inp, out, seen=seen: seen.append(_std(out)))
        try:
            net(*args)
        finally:
            handle.detach()
        if seen and seen[0] > 0:
            _scale(layer.weight, seen[0])
            if layer.bias is not None:
                _scale(layer.bias, seen[0])
    return len(layers)


def damp_residual_branches(net: mx.gluon.Block, gamma: float = 0.5) -> int:
    """Set the last BatchNorm of each residual branch to ``gamma`` (the usual low/zero-gamma
    residual initialisation). With gamma=1, random-init ResNet-152 v1 is so ill-conditioned that
    MXNet's own float32 forward misses its float64 forward by 2.7x the zoo tolerance."""
    count = 0

    def visit(block: mx.gluon.Block) -> None:
        nonlocal count
        if not hasattr(block, "downsample"):
            return
        body = getattr(block, "body", None)
        if body is not None and len(body):  # MXNet's vision ResNet (and GluonCV's copy)
            last = body[len(body) - 1]
        else:  # GluonCV's ResNet-v1b family: conv1/bn1 ... conv3/bn3 as attributes
            last = getattr(block, "bn3", None) if hasattr(block, "conv3") else \
                getattr(block, "bn2", None)
        if isinstance(last, mx.gluon.nn.BatchNorm):
            last.gamma.set_data(mx.nd.full(last.gamma.shape, gamma, ctx=last.gamma.list_ctx()[0]))
            count += 1

    net.apply(visit)
    return count


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """Result of fn() and its best wall time over ``repeat`` runs."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def mx_context(name: str) -> mx.Context:
    return mx.gpu(0) if name == "gpu" else mx.cpu()


def gpu_available() -> bool:
    try:
        return mx.context.num_gpus() > 0
    except mx.base.MXNetError:
        return False
