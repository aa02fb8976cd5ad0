"""What the zoo runner needs to know about one model: how to build it with random weights, what
its inputs look like at each test size, which axes are dynamic, and how to compare its outputs.

The GluonCV and GluonNLP registries (``gluoncv_models``, ``gluonnlp_models``) are lists of these.
"""
from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mxnet as mx
import numpy as np

#: (input name -> array) for one test size
Feed = dict[str, np.ndarray]


@dataclass(frozen=True)
class Variant:
    """One exported form of a model. Detectors export twice: ``raw`` with NMS switched off (head
    outputs compared element-wise) and ``final`` as deployed (detections compared as sets)."""

    name: str
    compare: str = "dense"  # "dense" | "detections"
    configure: Callable[[mx.gluon.HybridBlock], None] | None = None
    #: MXNet's reference forward runs inside this context (an equivalent, well-defined graph
    #: where the exported one leans on undefined MXNet behaviour); the export is the network's
    #: own graph either way
    reference: Callable[[mx.gluon.HybridBlock], contextlib.AbstractContextManager] | None = None


DENSE = (Variant("final"),)


@dataclass(frozen=True)
class ZooModel:
    name: str
    family: str  # classification | detection | segmentation | pose | action | nlp
    source: str  # gluoncv | gluonnlp
    build: Callable[[mx.Context], mx.gluon.HybridBlock]
    #: the feeds to test with, one per size (two batch sizes, or two sequence lengths)
    feeds: Callable[[np.random.Generator], list[Feed]]
    dynamic_axes: Mapping[str, Mapping[int, str]]
    variants: Sequence[Variant] = DENSE
    #: output names of detector outputs in MXNet's order, for reports
    output_names: Sequence[str] = ()
    #: in the CI subset (one per family and architecture style)
    ci: bool = False
    #: needs most of the machine's memory (R-CNN: ~11 GiB): run one at a time
    heavy: bool = False
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def input_names(self) -> list[str]:
        return list(self.feeds(np.random.default_rng(0))[0])


class ZooInit(mx.init.Xavier):
    """Xavier for weights; vectors that would get Xavier (their builder's own, or this one as
    the global default) get what their name says instead: Xavier needs 2-D arrays, and norm
    layers built from symbols (SSD's and FPN's feature expanders) leave theirs unset."""

    _VECTOR_DEFAULTS = (("running_var", 1.0), ("moving_var", 1.0), ("gamma", 1.0))

    def __call__(self, desc: mx.init.InitDesc, arr: mx.nd.NDArray) -> None:
        given = desc.attrs.get("__init__", "")
        xavier = isinstance(given, mx.init.Xavier) or "xavier" in str(given).lower()
        if len(arr.shape) < 2 and xavier:
            name = str(desc)
            arr[:] = next((v for suffix, v in self._VECTOR_DEFAULTS if name.endswith(suffix)),
                          0.0)  # means, betas, biases
            return
        super().__call__(desc, arr)


class NetworkDisabled(RuntimeError):
    pass


#: what a refused weight fetch returns: loading it is skipped (see ``no_network``)
SKIPPED_WEIGHTS = "<random-init: weights not downloaded>"


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Builders must not download anything (random init only). Some GluonCV builders fetch base
    weights even with ``pretrained_base=False``; this turns every fetch into an error, in the
    test only."""
    import mxnet.gluon.utils as gluon_utils

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise NetworkDisabled("the zoo tests build models with random weights: no downloads")

    def no_weights(*_args: Any, **_kwargs: Any) -> str:
        return SKIPPED_WEIGHTS

    saved_download = gluon_utils.download
    saved_connect = socket.socket.connect
    patched: list[tuple[Any, str, Any]] = []
    # Some builders ignore pretrained_base=False and load base weights anyway (GluonCV 0.10's
    # resnet*_v1b_kinetics400): their fetch yields no file and the load is skipped, so the
    # base keeps its random init.
    saved_load = mx.gluon.Block.load_parameters

    def load_parameters(block: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
        if filename == SKIPPED_WEIGHTS:  # random weights where the file would have gone
            ctx = kwargs.get("ctx") or (args[0] if args else None)
            block.collect_params().initialize(ZooInit(magnitude=2.0), ctx=ctx)
            return None
        return saved_load(block, filename, *args, **kwargs)

    patched.append((mx.gluon.Block, "load_parameters", saved_load))
    mx.gluon.Block.load_parameters = load_parameters  # type: ignore[method-assign]
    try:
        import gluoncv.model_zoo.model_store as cv_store
        patched.append((cv_store, "get_model_file", cv_store.get_model_file))
        cv_store.get_model_file = no_weights
        import gluoncv.utils as cv_utils
        patched.append((cv_utils, "download", cv_utils.download))
        cv_utils.download = refuse
    except ImportError:
        pass
    gluon_utils.download = refuse
    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        gluon_utils.download = saved_download
        socket.socket.connect = saved_connect  # type: ignore[method-assign]
        for owner, attr, value in patched:
            setattr(owner, attr, value)


def calibrate_norm_statistics(net: mx.gluon.Block, feed: Feed, ctx: mx.Context) -> int:
    """One imperative forward in which every BatchNorm first takes its running mean and variance
    from its own input: activations stay near unit scale through deep random-init networks
    without a training-mode pass (which detectors cannot do without ground truth).
    Returns the number of BatchNorm layers calibrated."""
    layers: list[mx.gluon.nn.BatchNorm] = []
    net.apply(lambda b: layers.append(b) if isinstance(b, mx.gluon.nn.BatchNorm) else None)
    if not layers:
        return 0

    def take_statistics(block: mx.gluon.nn.BatchNorm, args: tuple) -> None:
        x = args[0]
        axis = block._kwargs.get("axis", 1) % x.ndim
        axes = tuple(i for i in range(x.ndim) if i != axis)
        mean = x.mean(axis=axes)
        shape = [1] * x.ndim
        shape[axis] = -1
        var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
        block.running_mean.set_data(mean)
        block.running_var.set_data(var)

    handles = [layer.register_forward_pre_hook(take_statistics) for layer in layers]
    try:
        net(*[mx.nd.array(v, ctx=ctx, dtype=v.dtype) for v in feed.values()])
        mx.nd.waitall()
    finally:
        for handle in handles:
            handle.detach()
    return len(layers)


def unit_scale_layers(net: mx.gluon.Block, feed: Feed, ctx: mx.Context) -> int:
    """For networks without BatchNorm: layer-sequential unit variance on the feed."""
    from .common import unit_scale_layers as scale

    return scale(net, [mx.nd.array(v, ctx=ctx, dtype=v.dtype) for v in feed.values()])


def image_feeds(shape: tuple[int, ...], batches: Sequence[int] = (1, 2),
                name: str = "data") -> Callable[[np.random.Generator], list[Feed]]:
    """Feeds of standard-normal images of ``shape`` (without the batch axis) at each batch."""
    def make(rng: np.random.Generator) -> list[Feed]:
        return [{name: rng.standard_normal((b, *shape)).astype(np.float32)} for b in batches]
    return make


def batch_axis(*names: str) -> dict[str, dict[int, str]]:
    return {n: {0: "batch"} for n in names}
