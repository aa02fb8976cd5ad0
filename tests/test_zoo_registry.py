"""The zoo registries and their data: every family is registered, builders that fetch base
weights despite pretrained_base=False still build (with random weights, no network), and
tolerance entries resolve by name or pattern, each with a reason."""
from __future__ import annotations

import socket

import mxnet as mx
import numpy as np
import pytest

from model_zoo_tests import zoo
from model_zoo_tests.spec import no_network


def test_every_family_and_the_ci_subset_are_registered():
    models = zoo.registry()
    families = {m.family for m in models.values()}
    assert families == {"classification", "detection", "segmentation", "pose", "action", "nlp"}
    ci = {n for n, m in models.items() if m.ci}
    assert {models[n].family for n in ci} >= {"classification", "detection", "segmentation",
                                              "pose", "action", "nlp"}
    assert not any(models[n].heavy for n in ci)  # CI stays within its memory and time


def test_a_builder_that_fetches_base_weights_builds_with_random_ones():
    model = zoo.registry()["resnet18_v1b_kinetics400"]  # ignores pretrained_base=False
    net = model.build(mx.cpu())
    weights = [p.data().asnumpy() for p in net.collect_params().values()]
    assert weights and all(np.isfinite(w).all() for w in weights)
    out = zoo.mx_forward(net, model.feeds(np.random.default_rng(0))[0], mx.cpu())
    assert out[0].shape == (1, 400)


def test_no_network_refuses_connections():
    with no_network(), pytest.raises(Exception, match="no downloads"):
        socket.create_connection(("127.0.0.1", 9))


def test_tolerances_resolve_by_name_and_pattern_with_reasons():
    tol, reason = zoo.tolerance_for("faster_rcnn_resnet50_v1b_voc")
    assert tol.unmatched == 0.01 and reason
    tol, reason = zoo.tolerance_for("alpha_pose_resnet101_v1b_coco")
    assert tol.rel > zoo.tolerance_for("resnet50_v1d")[0].rel and "7.26" in reason
    assert zoo.tolerance_for("resnet50_v1d") == (zoo.tolerance_for("resnet50_v1d")[0], "")
    assert "gluonnlp 0.10.0" in zoo.limitation_of("gpt2_117m")
    assert zoo.limitation_of("resnet50_v1d") is None
    data = zoo.expectations()
    for table in ("models", "limitations"):
        for name, entry in data.get(table, {}).items():
            assert entry.get("reason"), f"{table}.{name} has no reason"


def test_mxnet_roi_align_leaves_masked_rois_undefined_so_fpn_references_avoid_them():
    """Why FPN R-CNNs get a reference graph of their own: MXNet 1.9.1's CPU ROIAlign, given a
    ROI with batch index -1 (how GluonCV's FPN masks the other levels' ROIs), zeroes flat
    element n of the output instead of row n, and leaves row n as the memory was."""
    from model_zoo_tests.gluoncv_models import RCNN_DETECTIONS, _SymbolsWithoutBoxCodecs

    x = mx.nd.random.uniform(1, 2, shape=(1, 2, 8, 8))
    rois = mx.nd.array([[0, 1, 1, 6, 6], [-1, 1, 1, 6, 6], [-1, 2, 2, 7, 7]])
    out = mx.nd.contrib.ROIAlign(x, rois, pooled_size=(2, 2), spatial_scale=1.0,
                                 sample_ratio=2).asnumpy()
    valid = mx.nd.contrib.ROIAlign(x, rois[:1], pooled_size=(2, 2), spatial_scale=1.0,
                                   sample_ratio=2).asnumpy()
    assert (valid.ravel()[:3] > 1).all()  # a valid ROI of values in [1, 2] pools to them
    assert (out.ravel()[1:3] == 0).all()  # ... but its elements 1 and 2 were zeroed
    # the reference hides GluonCV's box codecs, which switches its FPN to pooling every ROI
    # and zeroing the other levels' rows with where
    symbols = _SymbolsWithoutBoxCodecs(mx.sym)
    assert "box_encode" not in vars(symbols.contrib) and symbols.contrib.ROIAlign
    assert symbols.where is mx.sym.where and RCNN_DETECTIONS.reference is not None
