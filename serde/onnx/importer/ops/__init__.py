"""Converter families; importing this package registers every converter."""
from . import (  # noqa: F401
    activation,
    control,
    detection,
    elementwise,
    logical,
    misc,
    nn,
    quantize,
    recurrent,
    reduce,
    resize,
    roi,
    sampling,
    spectral,
    tensor,
)
