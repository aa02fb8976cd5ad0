"""Export speed of representative models (``nox -s bench``). Targets live here, not in tests."""
import mxnet as mx
import pytest

import serde
from model_zoo_tests.vision import build_model, input_shape


@pytest.fixture(scope="module", params=["resnet50_v1", "mobilenetv2_1.0", "densenet121"])
def zoo_net(request):
    net = build_model(request.param, mx.cpu())
    mx.nd.waitall()
    return request.param, net


def test_bench_to_onnx(benchmark, zoo_net):
    name, net = zoo_net
    model = benchmark.pedantic(serde.onnx.to_onnx, args=(net,),
                               kwargs={"input_shapes": {"data": input_shape(name)}},
                               rounds=3, iterations=1)
    assert len(model.graph.node) > 50


def test_bench_export_to_file(benchmark, zoo_net, tmp_path):
    name, net = zoo_net
    path = benchmark.pedantic(serde.export_model, args=(net,),
                              kwargs={"filename_prefix": tmp_path / name,
                                      "input_shapes": {"data": input_shape(name)}},
                              rounds=3, iterations=1)
    assert path.stat().st_size > 1_000_000
