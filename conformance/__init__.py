"""Conformance harness: suites that check serde against oracles it did not write
(onnxruntime, the ONNX backend test data, MXNet's own forward pass)."""
