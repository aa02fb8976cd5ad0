"""The independent Core ML evaluator: the ONNX project's Core ML converter (``onnxmltools``
1.16.0, ``convert_coreml``) turns a NeuralNetwork ``.mlmodel`` into ONNX and onnxruntime runs it.
Core ML itself only predicts on macOS.

onnxmltools 1.16.0 does not import on current onnx; ``load_oracle`` repairs four things at import
time (test-only, never in ``serde/``):
- ``find_type_conversion`` is missing from ``onnxmltools.convert.common.data_types``
  (onnx/onnxmltools#735): the two conversions a Core ML model's inputs need are restored;
- ``onnx.onnx_proto`` no longer exists: it is ``onnx`` itself;
- ``check_input_and_output_numbers`` / ``_types`` moved from ``common.utils`` to
  ``common.shape_calculator``;
- the converter and shape-calculator registration modules are never imported.

Known defects of this oracle (not of Core ML), each checked instead by ``coreml_numpy`` (the
layer evaluated in numpy as ``NeuralNetwork.proto`` documents it): PReLU does not broadcast in
onnxruntime, upsample mode BILINEAR is rejected, softmax and l2normalize over (C, H, W) blobs
reduce over the wrong axes, slice drops the last element (and slices other axes too), strided
slice is refused; measured here as well: MVN is written with opset-1 attributes, so onnxruntime
normalises over the batch; embedding gathers with float indices, which onnxruntime refuses; GELU
and resizeBilinear have no converter; a model output that also
feeds another layer is dropped from the outputs.
"""
from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

import numpy as np

#: Use opset 9: from 10 up, onnxmltools' average-pool conversion breaks.
ORACLE_OPSET = 9


@cache
def load_oracle() -> Any:
    """``onnxmltools.convert_coreml``, repaired for current onnx."""
    import onnx
    import onnxmltools.convert.common.data_types as data_types
    import onnxmltools.convert.common.shape_calculator as shape_calculator
    import onnxmltools.convert.common.utils as utils

    if not hasattr(onnx, "onnx_proto"):
        onnx.onnx_proto = onnx  # type: ignore[attr-defined]

    def find_type_conversion(source_type: Any, target_type: Any) -> str:
        if type(source_type) is type(target_type):
            return "identity"
        if isinstance(target_type, data_types.FloatTensorType):
            return "imageToFloatTensor"
        raise ValueError(f"no conversion from {source_type} to {target_type}")

    if not hasattr(data_types, "find_type_conversion"):
        data_types.find_type_conversion = find_type_conversion
    for name in ("check_input_and_output_numbers", "check_input_and_output_types"):
        if not hasattr(utils, name):
            setattr(utils, name, getattr(shape_calculator, name))
    for package in ("onnxmltools.convert.coreml.operator_converters",
                    "onnxmltools.convert.coreml.shape_calculators"):
        for sub in (package, f"{package}.neural_network"):
            module = importlib.import_module(sub)
            for info in pkgutil.iter_modules(module.__path__):
                importlib.import_module(f"{sub}.{info.name}")
    from onnxmltools import convert_coreml

    return convert_coreml


def oracle_available() -> bool:
    try:
        load_oracle()
    except ImportError:
        return False
    return True


def coreml_to_onnx(spec: Any) -> Any:
    """The oracle's ONNX model of a Core ML spec (inputs get a leading batch axis)."""
    return load_oracle()(spec, target_opset=ORACLE_OPSET)


class OracleSession:
    """One spec converted by the oracle once (its ONNX model takes any batch), run on many
    batch-first feeds (``(N, C, H, W)``, ``(N, C)``); outputs by name, batch first."""

    def __init__(self, spec: Any) -> None:
        import onnxruntime as ort

        model = coreml_to_onnx(spec)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(model.SerializeToString(), options,
                                            providers=["CPUExecutionProvider"])

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        wanted = {i.name: i for i in self.session.get_inputs()}
        inputs = {}
        for name, value in feeds.items():
            rank = len(wanted[name].shape)
            inputs[name] = np.asarray(value, np.float32).reshape(value.shape[0], *_blob_dims(
                value.shape, rank))
        outputs = self.session.run(None, inputs)
        return {o.name: v for o, v in zip(self.session.get_outputs(), outputs, strict=True)}


def run_coreml(spec: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate a NeuralNetwork spec on batch-first ``feeds`` through the oracle."""
    return OracleSession(spec).run(feeds)


def _blob_dims(shape: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """The non-batch dims onnxmltools declares for a batch-first MXNet tensor."""
    rest = tuple(shape[1:])
    if rank == 2:
        return (int(np.prod(rest)),)
    if len(rest) == 2:  # (N, A, B) lives as (A, 1, B)
        return (rest[0], 1, rest[1])
    if len(rest) == 1:
        return (rest[0], 1, 1)
    return rest
