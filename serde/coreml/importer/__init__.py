"""Core ML -> MXNet importer: NeuralNetwork models (``.mlmodel``) as a Gluon SymbolBlock or
``(Symbol, params)``."""
from __future__ import annotations
