"""A fast, deterministic sample of the ONNX node suite (the full run is
``python -m conformance.onnx_node_suite``): 100 cases that are expected to pass, compared with
their stored outputs the way onnx's runner compares them."""
import functools

import pytest

from conformance._cases import _normalize, compare
from conformance._suite import read_expected
from conformance.onnx_node_suite import EXPECTED_FILE

SAMPLE = 100


@functools.lru_cache(maxsize=1)
def _cases():
    import warnings

    from onnx.backend.test.case.node import collect_testcases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {c.name: c for c in collect_testcases(None)}


def _sample():
    expected = read_expected(EXPECTED_FILE)["cpu"]
    names = sorted(n for n in _cases() if n not in expected)
    step = max(1, len(names) // SAMPLE)
    return names[::step][:SAMPLE]


@pytest.mark.parametrize("name", _sample())
def test_node(name):
    import serde.onnx.backend as backend
    case = _cases()[name]
    rep = backend.prepare(case.model, "CPU")
    for inputs, outputs in case.data_sets:
        got = rep.run([_normalize(x) for x in inputs])
        compare(list(got), [_normalize(y) for y in outputs], case.rtol, case.atol)


def test_sample_is_broad():
    ops = {n.op_type for name in _sample() for n in _cases()[name].model.graph.node}
    assert len(ops) >= 40
