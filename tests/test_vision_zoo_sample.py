"""A fast sample of the vision-zoo export suite (the whole zoo runs in `nox -s model_zoo`)."""
import numpy as np
import pytest

from model_zoo_tests.common import tolerance_ratio
from model_zoo_tests.vision import VISION_MODELS, check_model
from serde.onnx import DEFAULT_EXPORT_OPSET


def test_zoo_list_is_mxnets_own():
    from mxnet.gluon.model_zoo import vision

    for name in VISION_MODELS:
        assert vision.get_model(name, pretrained=False) is not None
    assert len(VISION_MODELS) == 34


@pytest.mark.parametrize("name", ["squeezenet1.1", "mobilenetv2_0.25", "resnet18_v2"])
def test_zoo_model_exports_and_matches(name, tmp_path):
    (record,) = check_model(name, [DEFAULT_EXPORT_OPSET], workdir=tmp_path)
    assert record["status"] == "pass", record.get("message")
    assert record["tolerance_ratio"] < 1.0
    assert record["output_abs_max"] > 0.1  # activations are sane, so the check means something
    assert record["node_count"] > 10 and record["file_bytes"] > 10_000


def test_tolerance_ratio_bites():
    expected = np.array([1.0, -2.0, 100.0])
    assert tolerance_ratio(expected, expected) == 0.0
    assert tolerance_ratio(expected + 0.02, expected) > 1.0  # 0.02 > 1e-3*1 + 1e-4*100
    assert tolerance_ratio(expected[:2], expected) == float("inf")
