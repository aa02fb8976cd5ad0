"""The GluonCV zoo (gluoncv 0.10.5): classifiers, detectors, segmenters, pose and action nets,
each built by ``gluoncv.model_zoo.get_model`` with random weights and fixed seeds.

Input sizes are each family's usual deployment size, or smaller where the network is size-agnostic
(global pooling) and the usual size would only make the run slower (video nets, segmenters).
"""
from __future__ import annotations

import contextlib
import re
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import mxnet as mx
import numpy as np

from .common import damp_residual_branches
from .spec import (
    DENSE,
    Feed,
    Variant,
    ZooInit,
    ZooModel,
    batch_axis,
    calibrate_norm_statistics,
    image_feeds,
    no_network,
    unit_scale_layers,
)

SEED = 20261201

#: Not classifiers: everything in the zoo list that another family (or no family) covers.
_NOT_CLASSIFIER = re.compile(
    r"ssd_|yolo3_|faster_rcnn|mask_rcnn|center_net|rcnn|^fcn_|^psp_|deeplab|icnet|fastscnn|danet"
    r"|pose|kinetics|ucf101|hmdb51|sthsthv2|siamrpn|monodepth|smot|_int8|vgg16_atrous$|_custom$"
    r"|^hrnet_.*_s$")
#: Classifiers outside ``pretrained_model_list()`` that the issue names (residual attention,
#: NASNet, SE-ResNet, ...), one or two of each architecture.
_EXTRA_CLASSIFIERS = [
    "se_resnet18_v1", "se_resnet50_v2", "xception71", "resnet50_v1e", "shufflenet_v1",
    "shufflenet_v2", "nasnet_4_1056", "nasnet_5_1538", "residualattentionnet56",
    "residualattentionnet92", "cifar_residualattentionnet56", "cifar_resnext29_32x4d",
]


def _pretrained_names() -> list[str]:
    from gluoncv import model_zoo
    return list(model_zoo.pretrained_model_list())


@contextlib.contextmanager
def _reset_ctx_skips_uninitialised() -> Iterator[None]:
    """GluonCV 0.10's TSN builders (inceptionv1/v3_kinetics400, vgg16_ucf101, ...) move every
    parameter to ``ctx`` before returning, which fails for a base left uninitialised by
    ``pretrained_base=False``; those parameters are initialised right after, on ``ctx``."""
    saved = mx.gluon.Parameter.reset_ctx

    def reset_ctx(param: mx.gluon.Parameter, ctx: Any) -> None:
        if param._data is None and param._deferred_init == ():
            return
        saved(param, ctx)

    mx.gluon.Parameter.reset_ctx = reset_ctx  # type: ignore[method-assign]
    try:
        yield
    finally:
        mx.gluon.Parameter.reset_ctx = saved  # type: ignore[method-assign]


def build_gluoncv(name: str, ctx: mx.Context, feed: Feed, kwargs: dict[str, Any],
                  configure: Callable[[mx.gluon.HybridBlock], None] | None = None
                  ) -> mx.gluon.HybridBlock:
    """``get_model(name, pretrained=False, ...)`` with seeded Xavier weights and BatchNorm
    statistics taken from a random batch (or unit-scaled layers where there is no BatchNorm)."""
    from gluoncv import model_zoo

    mx.random.seed(SEED)
    np.random.seed(SEED)
    with no_network(), _reset_ctx_skips_uninitialised(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = model_zoo.get_model(name, pretrained=False, **kwargs)
        net.collect_params().initialize(ZooInit(magnitude=2.0), ctx=ctx)
        net.collect_params().reset_ctx(ctx)
    args = [mx.nd.array(v, ctx=ctx, dtype=v.dtype) for v in feed.values()]
    net(*args)  # finish deferred initialisation
    if not calibrate_norm_statistics(net, feed, ctx):
        unit_scale_layers(net, feed, ctx)
    # residual branches end at gamma 0.5, as the vision zoo's do: at gamma 1 random-init
    # ResNet-152 v1 is ill-conditioned beyond float32 (MXNet's own fp32 vs fp64 forward)
    damp_residual_branches(net)
    if configure is not None:
        configure(net)
    net.hybridize(static_alloc=True)
    return net


def _model(name: str, family: str, feeds: Callable[[np.random.Generator], list[Feed]],
           dynamic_axes: dict | None = None, kwargs: dict[str, Any] | None = None,
           variants: tuple[Variant, ...] = DENSE, **extra: Any) -> ZooModel:
    kwargs = dict(kwargs or {})

    axes = dynamic_axes or batch_axis("data")

    def build(ctx: mx.Context) -> mx.gluon.HybridBlock:
        sample = feeds(np.random.default_rng(SEED))
        # BatchNorm statistics from several images where the batch is free: after global
        # pooling (SE and split-attention blocks) one image gives each channel one value, a
        # zero variance, and a 300x gain on float32 noise
        batched = all(axes.get(k, {}).get(0) == "batch" for k in sample[0])
        calibration = {k: np.concatenate([f[k] for f in sample]) for k in sample[0]} \
            if batched else sample[0]
        return build_gluoncv(name, ctx, calibration, kwargs)

    return ZooModel(name=name, family=family, source="gluoncv", build=build, feeds=feeds,
                    dynamic_axes=axes, variants=variants,
                    extra={"build_kwargs": kwargs}, **extra)


# --- classification ------------------------------------------------------------------------


def _classifier_side(name: str) -> int:
    if name.startswith("cifar_"):
        return 32
    if name.startswith(("inceptionv3", "xception")):
        return 299
    return 224


#: What CI runs (nox -s conformance): one model per family and architecture style, each
#: verified end to end. Not in it yet (see issue 8's notes): R-CNN (~11 GiB, minutes a check).
CI_MODELS = {"resnet50_v1d", "mobilenetv3_small", "cifar_resnet20_v1", "se_resnext50_32x4d",
             "densenet121", "resnest14", "ssd_300_vgg16_atrous_voc", "simple_pose_resnet18_v1b",
             "yolo3_mobilenet1.0_voc", "center_net_resnet18_v1b_dcnv2_voc", "fastscnn_citys",
             "i3d_resnet50_v1_kinetics400"}


def classifiers() -> list[ZooModel]:
    from gluoncv import model_zoo

    buildable = set(model_zoo.get_model_list())
    # the pretrained list names HRNet classifiers "*_cls"; get_model knows them as "*_c"
    names = [n[:-2] if n.endswith("_cls") and n not in buildable and n[:-2] in buildable else n
             for n in _pretrained_names() if not _NOT_CLASSIFIER.search(n)]
    names += [n for n in _EXTRA_CLASSIFIERS if n not in names]
    return [_model(n, "classification", image_feeds((3, _classifier_side(n),
                                                      _classifier_side(n))),
                   ci=n in CI_MODELS) for n in names]


# --- detection -----------------------------------------------------------------------------


def _nms_off(net: mx.gluon.HybridBlock) -> None:
    """NMS off and every score kept: SSD's decoder marks scores under 0.01 invalid, and with
    random weights and 81 classes the softmax sits right at that threshold."""
    net.set_nms(nms_thresh=0)
    decoder = getattr(net, "cls_decoder", None)
    if decoder is not None and hasattr(decoder, "_thresh"):
        decoder._thresh = -1.0


#: NMS off: the decoded head outputs for every anchor, compared element-wise. Runs after the
#: deployed form (``final``), since it changes the network.
RAW = Variant("raw", "dense", _nms_off)
DETECTIONS = Variant("final", "detections")
DETECTOR_OUTPUTS = ("ids", "scores", "bboxes")


def _rpn_min_size_one(net: mx.gluon.HybridBlock) -> None:
    """The RPN's proposal filter at Mask R-CNN's own min_size of 1. Faster R-CNN's 16 sits
    on the extent of anchors that random near-zero deltas barely move, so a proposal
    straddles it within float32 noise (measured: 15.99998 in MXNet, 16.0003 in
    onnxruntime) and the two runtimes keep different proposal sets."""
    proposer = getattr(getattr(net, "rpn", None), "region_proposer", None)
    if proposer is not None and getattr(proposer, "_min_size", 1) > 1:
        proposer._min_size = 1
        net._clear_cached_op()


class _SymbolsWithoutBoxCodecs:
    """``mx.sym`` as GluonCV's FPN sees it under MXNet < 1.6: no ``contrib.box_encode``."""

    def __init__(self, F: Any) -> None:
        self._F = F
        self.contrib = types.SimpleNamespace(**{
            k: v for k, v in vars(F.contrib).items() if k not in ("box_encode", "box_decode")})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._F, name)


@contextlib.contextmanager
def _defined_pyramid_pooling(net: mx.gluon.HybridBlock) -> Iterator[None]:
    """GluonCV's FPN pools every level with the other levels' ROIs masked to batch index -1,
    and MXNet 1.9.1's CPU ROIAlign leaves the rows of such ROIs uninitialised (it zeroes flat
    element n of the output instead of row n), so MXNet's own forward sums whatever the memory
    held. The reference pools all ROIs on every level and zeroes the other levels' rows with
    ``where``: GluonCV's older path, the function the masked one means, and what the export
    computes."""
    if not hasattr(net, "_pyramid_roi_feats"):
        yield
        return
    pyramid = type(net)._pyramid_roi_feats

    def defined(self: Any, F: Any, *args: Any, **kwargs: Any) -> Any:
        return pyramid(self, _SymbolsWithoutBoxCodecs(F), *args, **kwargs)

    net._pyramid_roi_feats = types.MethodType(defined, net)
    net._clear_cached_op()
    try:
        yield
    finally:
        del net._pyramid_roi_feats
        net._clear_cached_op()


#: R-CNN as deployed, with a tie-free proposal filter
RCNN_DETECTIONS = Variant("final", "detections", _rpn_min_size_one,
                          reference=_defined_pyramid_pooling)


def detectors() -> list[ZooModel]:
    models = []
    for name in _pretrained_names() + ["ssd_512_resnet18_v1_voc", "yolo3_mobilenet0.25_voc",
                                       "center_net_dla34_voc", "ssd_300_mobilenet0.25_voc"]:
        if name.startswith("ssd_") and "int8" not in name and "bifpn" not in name:
            side = int(name.split("_")[1])
            models.append(_model(name, "detection", image_feeds((3, side, side)),
                                 kwargs={"pretrained_base": False},
                                 variants=(DETECTIONS, RAW), output_names=DETECTOR_OUTPUTS,
                                 ci=name in CI_MODELS))
        elif name.startswith("yolo3_"):
            models.append(_model(name, "detection", image_feeds((3, 320, 320)),
                                 kwargs={"pretrained_base": False},
                                 variants=(DETECTIONS, RAW), output_names=DETECTOR_OUTPUTS,
                                 ci=name in CI_MODELS))
        elif name.startswith("center_net_"):
            models.append(_model(name, "detection", image_feeds((3, 512, 512)),
                                 kwargs={"pretrained_base": False},
                                 variants=(DETECTIONS,), output_names=DETECTOR_OUTPUTS,
                                 ci=name in CI_MODELS))
        elif name.startswith(("faster_rcnn_", "mask_rcnn_")):
            # MXNet's R-CNN graphs run one image at a time: the dynamic axes are the image size.
            def feeds(rng: np.random.Generator) -> list[Feed]:
                return [{"data": rng.standard_normal(s).astype(np.float32)}
                        for s in ((1, 3, 384, 512), (1, 3, 448, 384))]
            outputs = DETECTOR_OUTPUTS + (("masks",) if name.startswith("mask") else ())
            models.append(_model(name, "detection", feeds,
                                 dynamic_axes={"data": {2: "height", 3: "width"}},
                                 kwargs={"pretrained_base": False},
                                 variants=(RCNN_DETECTIONS,), output_names=outputs,
                                 ci=name in CI_MODELS, heavy=True))
    seen: set[str] = set()
    return [m for m in models if not (m.name in seen or seen.add(m.name))]


# --- segmentation, pose, action ------------------------------------------------------------

_SEGMENTER = re.compile(r"^(fcn|psp|deeplab|icnet|fastscnn|danet)_")


def segmenters() -> list[ZooModel]:
    side = 256
    return [_model(n, "segmentation", image_feeds((3, side, side)),
                   kwargs={"pretrained_base": False, "crop_size": side, "base_size": side},
                   ci=n in CI_MODELS)
            for n in _pretrained_names() if _SEGMENTER.search(n) and "int8" not in n]



def pose_nets() -> list[ZooModel]:
    models = []
    for n in _pretrained_names():
        if "pose" not in n or "posenet" in n or "int8" in n:
            continue
        shape = (3, 320, 256) if n.startswith("alpha_pose") else (3, 256, 192)
        models.append(_model(n, "pose", image_feeds(shape), kwargs={"pretrained_base": False},
                             ci=n in CI_MODELS))
    return models


_ACTION = re.compile(r"kinetics|ucf101|hmdb51|sthsthv2")


def _action_shape(name: str) -> tuple[int, ...]:
    """(C, [T,] H, W) per clip: 2-D (TSN-style) nets take frames, 3-D nets take clips."""
    if name.startswith("slowfast_4x16"):
        return (3, 36, 112, 112)  # 32 fast + 4 slow frames, concatenated on T
    if name.startswith("slowfast_"):
        return (3, 40, 112, 112)  # 32 fast + 8 slow
    if name.startswith(("c3d", "r2plus1d", "p3d")):
        return (3, 16, 112, 112)
    if name.startswith("i3d"):
        return (3, 8, 112, 112)
    side = 299 if name.startswith("inceptionv3") else 224
    return (3, side, side)


def action_nets() -> list[ZooModel]:
    return [_model(n, "action", image_feeds(_action_shape(n)),
                   kwargs={"pretrained_base": False}, ci=n in CI_MODELS)
            for n in _pretrained_names() if _ACTION.search(n) and "int8" not in n]


def all_models() -> list[ZooModel]:
    return classifiers() + detectors() + segmenters() + pose_nets() + action_nets()
