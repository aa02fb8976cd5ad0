"""Converter families; importing this package registers every converter."""
from . import activation, elementwise, logical, nn, quantize, reduce, resize, tensor  # noqa: F401
