"""mxnet-serde: move Apache MXNet 1.9.1 models in and out of ONNX and Core ML.

    path = serde.export_model(net, input_format="gluon", filename_prefix="model",
                              input_shapes={"data": (1, 3, 224, 224)})
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import gluon, module, onnx  # noqa: E402
from ._api import export_model, import_model, save_onnx, to_onnx  # noqa: E402
from ._install import install  # noqa: E402
from .coreml.api import save_coreml, to_coreml  # noqa: E402
from .errors import ConversionError, InvalidModelError, SerdeError, UnsupportedOperatorError  # noqa: E402
from .onnx.importer import split_params  # noqa: E402

__all__ = ["export_model", "import_model", "split_params", "to_onnx", "save_onnx", "to_coreml", "save_coreml", "install",
           "SerdeError",
           "UnsupportedOperatorError", "InvalidModelError", "ConversionError", "__version__", "gluon", "module", "onnx"]
