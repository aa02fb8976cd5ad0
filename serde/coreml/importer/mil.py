"""Core ML ML Program (``.mlpackage``) -> MXNet Symbol + parameters. coremltools reads the
package back into a MIL program with numpy weights; each MIL op becomes MXNet ops through the
converters of ``registry.MIL_REGISTRY`` (``ops/mil_ops.py``)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from ...errors import ConversionError, InvalidModelError, UnsupportedOperatorError, call_converter
from .convert import group_outputs
from .registry import MIL_REGISTRY


@dataclass
class MilContext:
    values: dict[str, Any] = field(default_factory=dict)  # var name -> Symbol or numpy value
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def value(self, var: Any) -> Any:
        """A var's constant value (numpy) or its MXNet symbol."""
        if var.name in self.values:
            return self.values[var.name]
        if var.val is not None:
            return np.asarray(var.val)
        raise ConversionError(f"MIL var {var.name!r} is read before it is made")

    def const(self, op: Any, name: str, default: Any = None) -> Any:
        var = op.inputs.get(name)
        if var is None:
            return default
        value = var.val
        if value is None:
            raise ConversionError(f"input {name!r} must be a constant", node=op.name,
                                  op=op.op_type)
        return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value

    def sym(self, op: Any, name: str) -> mx.sym.Symbol:
        """An input as a symbol: constants become parameters of the block."""
        value = self.value(op.inputs[name])
        if isinstance(value, mx.sym.Symbol):
            return value
        array = np.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        if array.ndim == 0:  # MXNet parameters have a shape: (1,) broadcasts as a scalar
            array = array.reshape(1)
        param = f"{op.inputs[name].name}"
        self.params[param] = array
        return mx.sym.var(param, shape=array.shape, dtype=array.dtype)

    def fail(self, op: Any, message: str) -> ConversionError:
        return ConversionError(message, node=op.name, op=op.op_type)


@dataclass
class ImportedProgram:
    sym: mx.sym.Symbol
    params: dict[str, np.ndarray]
    inputs: list[tuple[str, Any]]
    outputs: list[str]


def load_program(path: Any) -> tuple[Any, Any]:
    """(spec, MIL program) of an ``.mlpackage`` directory."""
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto import load as milproto

    package = Path(path)
    if not (package / "Manifest.json").is_file():
        raise InvalidModelError(f"{str(package)!r} is not an .mlpackage (no Manifest.json)")
    try:
        spec = ct.utils.load_spec(str(package))
    except Exception as err:
        raise InvalidModelError(f"cannot read the ML package {str(package)!r}: {err}") from err
    if spec.WhichOneof("Type") != "mlProgram":
        return spec, None
    weights_dir = package / "Data" / "com.apple.CoreML" / "weights"
    try:
        program = milproto.load(spec, spec.specificationVersion, os.fspath(weights_dir))
    except Exception as err:  # missing or truncated weight blobs, unknown ops in the proto
        raise InvalidModelError(f"cannot read the ML Program of {str(package)!r} (missing or "
                                f"damaged weights?): {type(err).__name__}: {err}") from err
    return spec, program


def import_program(spec: Any, program: Any) -> ImportedProgram:
    function = program.functions.get("main")
    if function is None:
        raise InvalidModelError("the ML Program has no main function")
    operations = list(function.operations)
    unknown = [(op.op_type, op.name) for op in operations
               if MIL_REGISTRY.lookup(op.op_type) is None]
    if unknown:
        raise UnsupportedOperatorError(unknown, opset=None, direction="Core ML (ML Program) -> "
                                       "MXNet", hint="Replace these ops, or export the model "
                                       "from its source framework to ONNX instead.")
    ctx = MilContext()
    inputs = []
    for name, var in function.inputs.items():
        ctx.values[var.name] = mx.sym.var(name)
        inputs.append((name, np.float32))
    for op in operations:
        produced = call_converter(MIL_REGISTRY.lookup(op.op_type).fn, op, ctx,  # type: ignore[union-attr]
                                  node=op.name, op=op.op_type)
        for var, value in zip(op.outputs, produced, strict=False):
            ctx.values[var.name] = value
    names = [f.name for f in spec.description.output]
    if len(names) != len(function.outputs):
        raise InvalidModelError(f"the model describes {len(names)} output(s) but its main "
                                f"function returns {len(function.outputs)}")
    outputs = []
    for var, name in zip(function.outputs, names, strict=True):
        value = ctx.value(var)
        if not isinstance(value, mx.sym.Symbol):
            raise InvalidModelError(f"output {name!r} is a constant")
        outputs.append(mx.sym.identity(value, name=name))
    group = group_outputs(outputs)
    used = set(group.list_inputs())
    return ImportedProgram(group, {k: v for k, v in ctx.params.items() if k in used}, inputs,
                           names)
