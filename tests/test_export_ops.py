"""Every export converter, alone, checked in onnxruntime against MXNet's forward."""
import mxnet as mx
import onnx
import pytest

from conformance._suite import read_expected
from conformance.mxnet_ops import CASES, EXPECTED_FILE, all_cases, run_case
from serde.onnx import DEFAULT_EXPORT_OPSET, EXPORT_REGISTRY, MIN_EXPORT_OPSET

OPSETS = list(range(MIN_EXPORT_OPSET, DEFAULT_EXPORT_OPSET + 1))
#: The tests run each case at the oldest, a middle and the default opset (the conformance
#: suite runs every opset); the dynamic-first-axis variants and importer round trips too.
TEST_OPSETS = [MIN_EXPORT_OPSET, 17, DEFAULT_EXPORT_OPSET]
EXPECTED = read_expected(EXPECTED_FILE)["cpu"]
PARAMS = [pytest.param(c, o, id=f"{c.id}@{o}") for c in all_cases() for o in TEST_OPSETS
          if c.covers(o)]


@pytest.mark.parametrize("case,opset", PARAMS)
def test_op_matches_mxnet(case, opset):
    record = run_case(case, opset, mx.cpu(), roundtrip=opset == DEFAULT_EXPORT_OPSET)
    if record["case"] in EXPECTED:  # a documented limitation must still fail (strictly)
        assert record["status"] != "pass", f"unexpected pass: remove it from {EXPECTED_FILE}"
        return
    assert record["status"] == "pass", record.get("message")
    assert record["max_abs_err"] <= case.atol + case.rtol * 1e3  # sanity: errors are numbers


def test_every_converter_has_a_case():
    covered = {c.op for c in CASES}
    missing = sorted(set(EXPORT_REGISTRY.ops()) - covered)
    assert not missing, f"export converters without a single-op case: {missing}"


def test_every_case_op_has_a_converter_at_every_opset():
    for c in CASES:
        for opset in OPSETS:
            if c.covers(opset):
                assert EXPORT_REGISTRY.lookup(c.op, opset) is not None, (c.op, opset)


def test_default_opset_is_the_newest_onnx_defines():
    # Every case passes at the default (above); no newer opset exists to choose.
    assert DEFAULT_EXPORT_OPSET == onnx.defs.onnx_opset_version()


def test_reference_op_list_is_covered():
    """The ops MXNet 1.9.1's own exporter handles (a fact list in ../shared/reference)."""
    from pathlib import Path

    ref = Path(__file__).resolve().parents[2] / "shared" / "reference" / \
        "mx2onnx-1.9.1-exported-ops.txt"
    if not ref.exists():
        pytest.skip("reference op list not present beside this checkout")
    ops = [line.strip() for line in ref.read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    canonical = {op: _canonical(op) for op in ops}
    covered = [op for op, c in canonical.items() if EXPORT_REGISTRY.lookup(c, DEFAULT_EXPORT_OPSET)]
    # Coverage of the reference list is tracked, not yet complete: it must not shrink.
    assert len(covered) >= MIN_REFERENCE_COVERED, sorted(set(ops) - set(covered))


MIN_REFERENCE_COVERED = 141


def _canonical(op: str) -> str:
    """MXNet's canonical name for an op alias (what a graph's JSON holds)."""
    import json

    for namespace in (mx.sym, mx.sym._internal, mx.sym.contrib):
        fn = getattr(namespace, op, None)
        if fn is None:
            continue
        try:
            return json.loads(fn(mx.sym.var("a"), name="x").tojson())["nodes"][-1]["op"]
        except Exception:
            return op
    return op


def test_inventory_accounts_for_every_mxnet_op():
    """Every canonical MXNet op is exported, not applicable with a reason, or listed missing;
    at least 300 are exported and every exported op has its single-op cases."""
    from conformance.mxnet_inventory import build_inventory

    rows = build_inventory()["ops"]
    exported = {r["op"] for r in rows if r["status"] == "exported"}
    assert len(exported) >= 300
    assert exported == set(EXPORT_REGISTRY.ops())
    assert all(r["reason"] for r in rows if r["status"] == "not applicable")
    assert exported <= {c.op for c in CASES}


@pytest.mark.parametrize("n_images", [1, 2])
def test_roi_align_decomposition_never_copies_the_features_per_roi(tmp_path, n_images):
    """R-CNN pools 1,000 ROIs from one feature map: a per-ROI copy of it (R*C*H*W) took
    gigabytes and overflowed MXNet's broadcasting matmul. The opset-22+ decomposition keeps
    every intermediate below that, and still matches MXNet in onnxruntime and imported back."""
    import numpy as np
    import onnxruntime as ort

    import serde

    rois_n, channels, height, width = 200, 16, 24, 20
    data, rois = mx.sym.var("data"), mx.sym.var("rois")
    sym = mx.sym.contrib.ROIAlign(data, rois, pooled_size=(7, 7), spatial_scale=0.25,
                                  sample_ratio=2)
    path, model = serde.export_model(
        sym, {}, filename_prefix=tmp_path / "roi", opset_version=DEFAULT_EXPORT_OPSET,
        input_shapes={"data": (n_images, channels, height, width), "rois": (rois_n, 5)},
        return_model=True)
    inferred = onnx.shape_inference.infer_shapes(model)
    sizes = [int(np.prod([d.dim_value for d in vi.type.tensor_type.shape.dim]))
             for vi in inferred.graph.value_info]
    assert max(sizes) < rois_n * channels * height * width

    rng = np.random.default_rng(3)
    x = rng.standard_normal((n_images, channels, height, width)).astype(np.float32)
    corner = rng.random((rois_n, 2)) * [3 * width, 3 * height]
    boxes = np.concatenate([corner, corner + rng.random((rois_n, 2)) * 30 + 1], axis=1)
    r = np.concatenate([rng.integers(0, n_images, (rois_n, 1)), boxes], axis=1)
    r = r.astype(np.float32)
    want = sym.eval(data=mx.nd.array(x), rois=mx.nd.array(r))[0].asnumpy()
    got = ort.InferenceSession(str(path)).run(None, {"data": x, "rois": r})[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    block = serde.import_model(path)
    np.testing.assert_allclose(block(mx.nd.array(x), mx.nd.array(r)).asnumpy(), want,
                               rtol=1e-4, atol=1e-5)
