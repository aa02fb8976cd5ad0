"""MXNet Symbol + parameters -> Core ML NeuralNetwork specification."""
from __future__ import annotations
