"""Type legalisation of an exported graph: ONNX ops accept fewer dtypes than MXNet's do
(ReduceSum has no int8/uint8, many math ops no integers, ...). Where a node's input dtype is
outside its schema's type constraint, the node computes in the nearest allowed dtype between
two Casts, so the graph keeps MXNet's dtypes at every tensor a user sees."""
from __future__ import annotations

from typing import Any

import onnx
from onnx import TensorProto, helper

#: Preferred stand-ins, in order, for a dtype an op does not take.
_WIDER = {
    TensorProto.INT8: [TensorProto.INT32, TensorProto.INT64, TensorProto.FLOAT],
    TensorProto.UINT8: [TensorProto.INT32, TensorProto.INT64, TensorProto.FLOAT],
    TensorProto.INT16: [TensorProto.INT32, TensorProto.INT64, TensorProto.FLOAT],
    TensorProto.INT32: [TensorProto.INT64, TensorProto.FLOAT, TensorProto.DOUBLE],
    TensorProto.INT64: [TensorProto.DOUBLE, TensorProto.FLOAT],
    TensorProto.FLOAT16: [TensorProto.FLOAT, TensorProto.DOUBLE],
    TensorProto.BOOL: [TensorProto.INT32, TensorProto.FLOAT],
    TensorProto.DOUBLE: [TensorProto.FLOAT],
}
#: onnxruntime (1.32, CPU) lacks kernels the schema allows: those nodes compute in the
#: stand-in dtype too (float64 ones in float32, within what the suites' tolerances allow).
_NO_DOUBLE_KERNEL = {
    "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Cosh", "Sinh", "Tan", "Elu", "Erf",
    "HardSigmoid", "HardSwish", "LeakyRelu", "Selu", "Softplus", "Softsign", "Mish", "Gelu",
    "ThresholdedRelu", "AveragePool", "LpPool", "GlobalMaxPool", "GlobalAveragePool", "LRN",
    "MeanVarianceNormalization", "Conv", "ConvTranspose", "Col2Im", "Det", "GridSample",
    "PRelu", "RNN", "LSTM", "GRU", "Resize", "DeformConv", "RoiAlign", "MaxRoiPool"}
_RUNTIME_GAPS = {
    ("ReduceProd", TensorProto.INT8), ("ReduceProd", TensorProto.UINT8),
    ("ReduceMean", TensorProto.INT8), ("ReduceMean", TensorProto.UINT8),
    ("ReduceSum", TensorProto.INT8), ("ReduceSum", TensorProto.UINT8),
    ("Floor", TensorProto.INT32), ("Ceil", TensorProto.INT32),
} | {(op, TensorProto.DOUBLE) for op in _NO_DOUBLE_KERNEL}


def _type_of(value_info: onnx.ValueInfoProto) -> int | None:
    kind = value_info.type.WhichOneof("value")
    if kind != "tensor_type":
        return None
    return value_info.type.tensor_type.elem_type or None


def legalize_types(model: onnx.ModelProto, known: dict[str, int]) -> int:
    """Rewrite ``model`` in place; ``known`` maps tensor names to ONNX dtypes (inputs,
    initializers, node outputs). Returns how many nodes were wrapped in Casts."""
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset is None:
        return 0
    types: dict[str, int] = {}
    try:
        light = helper.make_model(
            helper.make_graph(list(graph.node), graph.name,
                              list(graph.input) + [helper.make_tensor_value_info(
                                  t.name, t.data_type, list(t.dims)) for t in graph.initializer],
                              list(graph.output)),
            opset_imports=list(model.opset_import), ir_version=model.ir_version)
        inferred = onnx.shape_inference.infer_shapes(light, strict_mode=False)
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
            elem = _type_of(vi)
            if elem:
                types.setdefault(vi.name, elem)
    except Exception:  # inference is a help here; the checker reports real problems later
        pass
    for vi in graph.input:
        if _type_of(vi):
            types[vi.name] = _type_of(vi)
    for tensor in graph.initializer:
        types[tensor.name] = tensor.data_type
    for name, elem in known.items():  # what the converters recorded, where inference is silent
        types.setdefault(name, elem)
    names = {o for n in graph.node for o in n.output} | {i.name for i in graph.input} | \
        {t.name for t in graph.initializer}
    rewritten: list[onnx.NodeProto] = []
    wrapped = 0

    def fresh(base: str) -> str:
        name, k = base, 1
        while name in names:
            name = f"{base}_{k}"
            k += 1
        names.add(name)
        return name

    for node in graph.node:
        fixes = _stand_ins(node, opset, types)
        if not fixes:
            rewritten.append(node)
            continue
        wrapped += 1
        new_inputs = list(node.input)
        new_outputs = list(node.output)
        casts_back: list[onnx.NodeProto] = []
        for params, stand_in in fixes:
            _wrap(node, params, stand_in, new_inputs, new_outputs, casts_back, rewritten,
                  types, fresh)
        del node.input[:]
        node.input.extend(new_inputs)
        del node.output[:]
        node.output.extend(new_outputs)
        rewritten.append(node)
        rewritten.extend(casts_back)
    if wrapped:
        del graph.node[:]
        graph.node.extend(rewritten)
    return wrapped


def _wrap(node: onnx.NodeProto, params: dict, stand_in: int, new_inputs: list[str],
          new_outputs: list[str], casts_back: list[onnx.NodeProto],
          rewritten: list[onnx.NodeProto], types: dict[str, int], fresh: Any) -> None:
    """Casts of one type parameter's inputs to ``stand_in`` and of its outputs back."""
    suffix = TensorProto.DataType.Name(stand_in).lower()
    for pos, name in enumerate(node.input):
        if name and pos in params["inputs"] and types.get(name) != stand_in:
            cast = fresh(f"{name}_as_{suffix}")
            rewritten.append(helper.make_node("Cast", [name], [cast], to=stand_in,
                                              name=fresh(f"{node.name}_cast_in{pos}")))
            types[cast] = stand_in
            new_inputs[pos] = cast
    for pos, name in enumerate(node.output):
        if name and pos in params["outputs"]:
            original = types.get(name, params["dtype"])
            inner = fresh(f"{name}_{suffix}")
            new_outputs[pos] = inner
            types[inner] = stand_in
            casts_back.append(helper.make_node("Cast", [inner], [name], to=original,
                                               name=fresh(f"{node.name}_cast_out{pos}")))


def _stand_ins(node: onnx.NodeProto, opset: int, types: dict[str, int]
               ) -> list[tuple[dict, int]]:
    """For each type parameter of a node whose dtype its op does not take: (the parameter's
    input/output positions and dtype, the dtype to compute in)."""
    fixes: list[tuple[dict, int]] = []
    if node.domain not in ("", "ai.onnx") or node.op_type == "Cast":
        return fixes
    try:
        schema = onnx.defs.get_schema(node.op_type, opset)
    except onnx.defs.SchemaError:
        return fixes
    allowed = {}
    for constraint in schema.type_constraints:
        allowed[constraint.type_param_str] = {
            helper.tensor_dtype_to_string(getattr(TensorProto, s[len("tensor("):-1].upper()))
            for s in constraint.allowed_type_strs
            if s.startswith("tensor(") and hasattr(TensorProto, s[len("tensor("):-1].upper())}
    for param, ok in allowed.items():
        inputs = [i for i, f in enumerate(schema.inputs) if f.type_str == param]
        if schema.inputs and schema.inputs[-1].option == onnx.defs.OpSchema.FormalParameterOption.Variadic \
                and schema.inputs[-1].type_str == param:
            inputs += list(range(len(schema.inputs), len(node.input)))
        outputs = [i for i, f in enumerate(schema.outputs) if f.type_str == param]
        present = [types.get(node.input[i]) for i in inputs if i < len(node.input)
                   and node.input[i]]
        if not present or present[0] is None:
            continue
        dtype = present[0]
        name = helper.tensor_dtype_to_string(dtype)
        if name in ok and (node.op_type, dtype) not in _RUNTIME_GAPS:
            continue
        for candidate in _WIDER.get(dtype, []):
            if helper.tensor_dtype_to_string(candidate) in ok and \
                    (node.op_type, candidate) not in _RUNTIME_GAPS:
                fixes.append(({"inputs": set(inputs), "outputs": set(outputs), "dtype": dtype},
                              candidate))
                break
    return fixes
