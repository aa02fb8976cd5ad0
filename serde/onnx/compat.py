"""A drop-in for MXNet 1.9.1's ``mx.onnx.export_model``: the same signature and meaning, so an
existing script changes one import line (``from serde.onnx import export_model``)."""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._io import check_target
from .._validate import check_export_options, check_mxnet_inputs
from ..errors import InvalidModelError, guarded

log = logging.getLogger(__name__)


def _dynamic_axes(in_shapes: Sequence[Sequence[int]] | None,
                  dynamic_input_shapes: Sequence[Sequence[Any]] | None) -> list[dict[int, str]]:
    """Per data input (in order), ``{axis: dim_name}`` from MXNet's ``dynamic_input_shapes``:
    a ``None`` dim is dynamic and gets a generated name, a string dim is dynamic under that
    name. Without ``dynamic_input_shapes`` every dim of every input is dynamic (MXNet's rule)."""
    if dynamic_input_shapes is None:
        if in_shapes is None:
            raise InvalidModelError("dynamic=True needs in_shapes (and optionally "
                                    "dynamic_input_shapes)")
        dynamic_input_shapes = [[None] * len(shape) for shape in in_shapes]
    axes = []
    for index, shape in enumerate(dynamic_input_shapes):
        if shape is None:
            axes.append({})
            continue
        spec = {}
        for axis, dim in enumerate(shape):
            if dim is None:
                spec[axis] = "batch" if axis == 0 else f"input{index}_dim{axis}"
            elif isinstance(dim, str):
                spec[axis] = dim
            elif not isinstance(dim, (int, np.integer)):
                raise InvalidModelError(f"dynamic_input_shapes[{index}] holds {dim!r}: each dim "
                                        f"is an int, None (dynamic) or a name (dynamic)")
        axes.append(spec)
    return axes


@guarded
def export_model(sym: Any, params: Any, in_shapes: Sequence[Sequence[int]] | None = None,
                 in_types: Any = np.float32, onnx_file_path: str | os.PathLike = "model.onnx",
                 verbose: bool = False, dynamic: bool = False,
                 dynamic_input_shapes: Sequence[Sequence[Any]] | None = None,
                 run_shape_inference: bool = False, input_type: Any = None,
                 input_shape: Sequence[Sequence[int]] | None = None, large_model: bool = False,
                 *, opset_version: int | None = None) -> str:
    """Export ``sym`` (a Symbol or a ``-symbol.json`` path) with ``params`` (a dict with or
    without ``arg:``/``aux:`` prefixes, an ``[arg, aux]`` pair or a ``.params`` path) to
    ``onnx_file_path``, as ``mx.onnx.export_model`` does; returns the path.

    ``in_shapes`` lists the data inputs' shapes in the symbol's input order; ``in_types`` is one
    dtype for all or a list; ``dynamic=True`` makes the dims given as ``None`` (or a name) in
    ``dynamic_input_shapes`` dynamic (all dims when it is None). ``input_type``/``input_shape``
    are the old names of ``in_types``/``in_shapes``. ``large_model=True`` keeps the weights as
    external data beside the file. ``opset_version`` defaults to serde's default opset.
    """
    import onnx

    from .. import _export
    from .api import save_onnx
    from .export.convert import PROTOBUF_LIMIT_BYTES, symbol_to_onnx

    if input_type is not None:
        in_types = input_type
    if input_shape is not None:
        in_shapes = input_shape
    if verbose:
        logging.getLogger("serde").setLevel(logging.INFO)
    check_mxnet_inputs(sym, params)
    check_export_options(None, in_types)  # in_shapes may name dynamic dims (None)
    check_target(onnx_file_path)
    model = _export.from_symbol(sym, params, None)
    data_names = model_data_names(model.sym, model.arg_params, model.aux_params)
    shapes = None if in_shapes is None else _in_shapes_by_name(in_shapes, data_names)
    dynamic_axes = None
    if dynamic:
        per_input = _dynamic_axes(in_shapes, dynamic_input_shapes)
        dynamic_axes = {n: a for n, a in zip(data_names, per_input, strict=False) if a}
    proto = symbol_to_onnx(model.sym, model.arg_params, model.aux_params,
                           input_shapes=shapes if shapes is not None else in_shapes,
                           input_types=in_types, opset_version=opset_version,
                           dynamic_axes=dynamic_axes,
                           model_name=os.path.splitext(os.path.basename(
                               os.fspath(onnx_file_path)))[0] or "mxnet_model")
    if run_shape_inference:
        try:
            proto = onnx.shape_inference.infer_shapes(proto)
        except Exception as err:  # inference adds value_info only; the model is checked already
            log.info("shape inference on the exported model failed: %s", err)
    threshold = 0 if large_model else PROTOBUF_LIMIT_BYTES
    return str(save_onnx(proto, onnx_file_path, external_data_threshold=threshold))


def model_data_names(sym: Any, arg_params: dict[str, Any], aux_params: dict[str, Any]
                     ) -> list[str]:
    """The data inputs of a Symbol in MXNet's order (parameters and output labels left out)."""
    import json

    from .._graph import label_only_nodes

    graph = json.loads(sym.tojson())
    label_only = label_only_nodes(graph["nodes"], graph["heads"])
    labels = {graph["nodes"][i]["name"] for i in label_only}
    params = set(arg_params) | set(aux_params)
    return [n for n in sym.list_inputs() if n not in params and n not in labels]


def _in_shapes_by_name(in_shapes: Any, data_names: list[str]) -> Any:
    """MXNet zips ``in_shapes`` with the data inputs; a list that also holds labels' shapes is
    left to ``symbol_to_onnx``, which knows the labels."""
    if isinstance(in_shapes, dict):
        return in_shapes
    shapes = list(in_shapes)
    if shapes and all(isinstance(d, (int, np.integer)) for d in shapes):
        shapes = [shapes]
    if len(shapes) == len(data_names):
        return dict(zip(data_names, shapes, strict=True))
    return shapes
