import os

os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def small_net():
    """A small initialised Gluon HybridBlock with conv, BatchNorm, pooling and dense layers."""
    mx.random.seed(7)
    net = mx.gluon.nn.HybridSequential(prefix="small_")
    with net.name_scope():
        net.add(mx.gluon.nn.Conv2D(4, 3, padding=1), mx.gluon.nn.BatchNorm(),
                mx.gluon.nn.Activation("relu"), mx.gluon.nn.MaxPool2D(2),
                mx.gluon.nn.Dense(5))
    net.initialize(mx.init.Xavier())
    net(mx.nd.zeros((1, 3, 8, 8)))
    return net


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def ort_run(path_or_model, feed):
    import onnxruntime as ort

    source = path_or_model if isinstance(path_or_model, (str, os.PathLike)) else \
        path_or_model.SerializeToString()
    session = ort.InferenceSession(str(source) if isinstance(source, os.PathLike) else source,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, feed)
