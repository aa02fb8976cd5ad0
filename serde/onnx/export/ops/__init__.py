"""MXNet -> ONNX converters, one module per operator family. Every module here is imported by
the registry on first use; adding an op means adding one decorated function."""
