"""Normalise what users hand to export (Symbol + params, a Module, a Gluon block) into a
Symbol, its parameters and its input signature."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

from .errors import InvalidModelError, SerdeError, mxnet_message


@dataclass
class SymbolicModel:
    sym: mx.sym.Symbol
    arg_params: dict[str, mx.nd.NDArray]
    aux_params: dict[str, mx.nd.NDArray]
    input_shapes: dict[str, tuple[int, ...]] | None = None
    input_types: dict[str, np.dtype] = field(default_factory=dict)
    name: str = "mxnet_model"

    def typed(self, input_types: Any) -> Any:
        """The input dtypes to convert with: a Symbol's data inputs are only known once the
        graph is walked (so a list stays a list, in their order); a Module or Gluon block
        already named its inputs, and ``input_types`` overrides them by name or position."""
        if not self.input_types:
            return input_types
        return {**self.input_types, **normalise_input_types(input_types, list(self.input_types))}


def normalise(obj: Any, params: Any, input_format: str | None, input_shapes: Any,
              input_types: Any, input_names: Sequence[str] | None) -> SymbolicModel:
    """What every output format converts from: a Symbol (+ params, a checkpoint prefix and
    epoch, or file paths), a bound Module or a Gluon HybridBlock as one SymbolicModel."""
    fmt = input_format or detect_input_format(obj)
    if fmt == "gluon":
        if params is not None:
            raise InvalidModelError("a Gluon block carries its own parameters; params must be None")
        model = from_gluon(obj, input_shapes, input_names, input_types)
        model.name = type(obj).__name__
        return model
    if fmt == "symbolic":
        if isinstance(obj, mx.mod.BaseModule):
            return from_module(obj, params, input_shapes)
        return from_symbol(obj, params, input_shapes)
    raise InvalidModelError(f"input_format must be 'symbolic' or 'gluon', not {fmt!r}")


def detect_input_format(obj: Any) -> str:
    if isinstance(obj, mx.gluon.Block):
        return "gluon"
    if isinstance(obj, (mx.sym.Symbol, mx.mod.BaseModule, str, os.PathLike)):
        return "symbolic"
    raise InvalidModelError(f"cannot export a {type(obj).__name__}: expected an mxnet Symbol "
                            f"(or a -symbol.json path), a Module, or a Gluon HybridBlock")


def _load_mxnet_file(path: str | os.PathLike, load: Any, kind: str) -> Any:
    """``load(path)`` with a missing or unreadable file reported as an InvalidModelError."""
    path = Path(path)
    if not path.is_file():
        raise InvalidModelError(f"{kind} file {str(path)!r} does not exist")
    try:
        return load(str(path))
    except mx.base.MXNetError as err:
        raise InvalidModelError(f"cannot read {kind} file {str(path)!r}: "
                                f"{mxnet_message(err)}") from err


def load_params(params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accept a dict (optionally with arg:/aux: keys), an (arg, aux) pair, or a .params path."""
    if params is None:
        return {}, {}
    if isinstance(params, (str, os.PathLike)):
        path = Path(params)
        params = _load_mxnet_file(path, mx.nd.load, "parameter")
        if isinstance(params, list) and not params:
            return {}, {}  # MXNet saves the parameters of a graph without any as an empty list
        if not isinstance(params, dict):
            raise InvalidModelError(f"parameter file {str(path)!r} holds {len(params)} unnamed "
                                    f"arrays; a model's .params file maps names to arrays "
                                    f"(save it with mx.nd.save(path, dict))")
    if isinstance(params, (tuple, list)) and len(params) == 2 and all(
            p is None or isinstance(p, Mapping) for p in params):
        arg, aux = load_params(dict(params[0] or {}))  # prefixes are allowed here too
        return arg, {**aux, **dict(params[1] or {})}
    if not isinstance(params, Mapping):
        raise InvalidModelError(f"params must be a dict, an (arg, aux) pair or a path, "
                                f"not {type(params).__name__}")
    arg, aux = {}, {}
    for key, value in params.items():
        if key.startswith("arg:"):
            arg[key[4:]] = value
        elif key.startswith("aux:"):
            aux[key[4:]] = value
        else:
            arg[key] = value
    return arg, aux


def normalise_input_types(input_types: Any, names: Sequence[str]) -> dict[str, np.dtype]:
    """Input dtypes as MXNet's exporter takes them: a dict by name, one dtype for every input,
    or a list in data-input order. Inputs not named default to float32."""
    if input_types is None:
        return {}
    try:
        if isinstance(input_types, Mapping):
            return {str(k): np.dtype(v) for k, v in input_types.items()}
        if isinstance(input_types, (list, tuple)):
            if len(input_types) != len(names):
                raise InvalidModelError(f"{len(input_types)} input type(s) given for "
                                        f"{len(names)} data input(s) {list(names)}")
            return {n: np.dtype(t) for n, t in zip(names, input_types, strict=True)}
        dtype = np.dtype(input_types)
    except TypeError as err:
        raise InvalidModelError(f"input_types {input_types!r} is not a dtype, a list of dtypes "
                                f"or a dict of them: {err}") from err
    return {n: dtype for n in names}


def _is_checkpoint(sym: Any, params: Any) -> bool:
    return (isinstance(sym, (str, os.PathLike)) and isinstance(params, (int, np.integer))
            and not isinstance(params, bool))


def load_symbol(sym: Any) -> mx.sym.Symbol:
    """A Symbol, a -symbol.json path, or the JSON text itself (old MXNet versions' JSON is
    upgraded by MXNet's own loader)."""
    if isinstance(sym, mx.sym.Symbol):
        return sym
    if isinstance(sym, str) and sym.lstrip().startswith("{"):
        try:
            return mx.sym.load_json(sym)
        except mx.base.MXNetError as err:
            raise InvalidModelError(f"cannot read the symbol JSON: {mxnet_message(err)}") from err
    if isinstance(sym, (str, os.PathLike)):
        return _load_mxnet_file(sym, mx.sym.load, "symbol")
    raise InvalidModelError(f"expected an mxnet Symbol or a -symbol.json path, not "
                            f"{type(sym).__name__}")


def from_symbol(sym: Any, params: Any, input_shapes: Any) -> SymbolicModel:
    if _is_checkpoint(sym, params):
        # A Module checkpoint: (prefix, epoch) as mx.model.load_checkpoint takes them.
        prefix, epoch = os.fspath(sym), int(params)
        sym = f"{prefix}-symbol.json"
        params = f"{prefix}-{epoch:04d}.params"
    sym = load_symbol(sym)
    arg, aux = load_params(params)
    # Parameters given without arg/aux split are sorted by the symbol's own lists.
    aux_names = set(sym.list_auxiliary_states())
    for name in list(arg):
        if name in aux_names:
            aux[name] = arg.pop(name)
    return SymbolicModel(sym, arg, aux, input_shapes)


def from_module(module: mx.mod.BaseModule, params: Any, input_shapes: Any) -> SymbolicModel:
    if not module.binded:
        raise InvalidModelError("the Module is not bound: call module.bind(data_shapes=...) "
                                "and initialise or set its parameters before exporting")
    if params is None:
        if not module.params_initialized:
            raise InvalidModelError("the Module's parameters are not initialised: call "
                                    "init_params() or set_params(), or pass params")
        arg, aux = module.get_params()
    else:
        arg, aux = load_params(params)
    shapes = input_shapes or {d.name: tuple(d.shape) for d in module.data_shapes}
    types = {d.name: np.dtype(d.dtype) for d in module.data_shapes}
    return SymbolicModel(module.symbol, dict(arg), dict(aux), shapes, types)


def from_gluon(block: mx.gluon.Block, input_shapes: Any, input_names: Sequence[str] | None,
               input_types: Mapping[str, Any] | None) -> SymbolicModel:
    if not isinstance(block, mx.gluon.HybridBlock):
        raise InvalidModelError(f"{type(block).__name__} is a Block, not a HybridBlock: only "
                                f"hybridizable blocks have a graph to export")
    if input_shapes is None:
        raise InvalidModelError("exporting a Gluon block needs input_shapes, e.g. "
                                "input_shapes={'data': (1, 3, 224, 224)}")
    if isinstance(input_shapes, Mapping):
        names = list(input_shapes)
        shapes = [tuple(input_shapes[n]) for n in names]
    else:
        shapes = list(input_shapes)
        if shapes and all(isinstance(d, (int, np.integer)) for d in shapes):
            shapes = [tuple(shapes)]
        names = list(input_names) if input_names else (
            ["data"] if len(shapes) == 1 else [f"data{i}" for i in range(len(shapes))])
        if len(names) != len(shapes):
            raise InvalidModelError(f"{len(names)} input names for {len(shapes)} input shapes")
    given_types = normalise_input_types(input_types, names)
    types = {n: given_types.get(n, np.dtype(np.float32)) for n in names}
    params = block.collect_params()
    uninitialised = [p.name for p in params.values() if p._data is None and p._deferred_init == ()]
    if uninitialised:
        raise InvalidModelError(f"the block's parameters are not initialised "
                                f"({uninitialised[:5]}...): call block.initialize() or load "
                                f"parameters before exporting")
    deferred = [p.name for p in params.values() if p._data is None]
    if deferred:  # shapes are only known after one forward pass
        ctx = next(iter(params.values()))._deferred_init[1][0]
        try:
            block(*[mx.nd.zeros(s, ctx=ctx, dtype=types[n]) for n, s in zip(names, shapes, strict=True)])
        except Exception as err:
            raise InvalidModelError(f"the block could not run on input shapes {shapes}: "
                                    f"{err}") from err
    inputs = [mx.sym.var(n) for n in names]
    try:
        out = block(*inputs)
    except SerdeError:
        raise
    except Exception as err:
        raise InvalidModelError(f"tracing {type(block).__name__} symbolically failed: "
                                f"{type(err).__name__}: {err}") from err
    if isinstance(out, (list, tuple)):
        out = mx.sym.Group(list(_flatten(out)))
    var_names = set(out.list_inputs())
    aux_names = set(out.list_auxiliary_states())
    arg, aux = {}, {}
    for param in params.values():
        if param.name not in var_names:
            continue
        value = param.data(param.list_ctx()[0])
        (aux if param.name in aux_names else arg)[param.name] = value
    return SymbolicModel(out, arg, aux, dict(zip(names, shapes, strict=True)), types)


def _flatten(items: Any):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item
