"""Model-zoo conformance: whole models exported by serde, run by onnxruntime and compared with
MXNet's own forward pass (and, once the importer exists, imported back)."""
