"""Converter families; importing this package registers every converter."""
from . import activation, elementwise, logical, nn, reduce, tensor  # noqa: F401
