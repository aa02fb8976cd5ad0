"""Core ML side of serde: MXNet -> Core ML NeuralNetwork export (``export``) and the entry
points ``serde.export_model(..., output_format="coreml")`` reaches (``api``)."""
from __future__ import annotations
