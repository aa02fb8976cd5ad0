"""Command line: ``serde export``, ``serde import``, ``serde inspect``."""
from __future__ import annotations

import argparse
import collections
import logging
import sys
from pathlib import Path


def _shape_arg(text: str) -> tuple[str, tuple[int, ...]]:
    try:
        name, dims = text.split(":", 1)
        return name, tuple(int(d) for d in dims.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected NAME:D1,D2,..., got {text!r}") from err


def _cmd_export(args: argparse.Namespace) -> int:
    import serde

    output = Path(args.output)
    suffix = {"onnx": ".onnx", "coreml": ".mlmodel"}[args.to]
    prefix = output.with_suffix("") if output.suffix == suffix else output
    shapes = dict(args.input_shape) if args.input_shape else None
    options = {"opset_version": args.opset} if args.to == "onnx" else {}
    if args.to == "coreml" and args.opset is not None:
        from .errors import InvalidModelError
        raise InvalidModelError("--opset is an ONNX option; Core ML exports take none")
    path = serde.export_model(args.symbol, args.params, input_format="symbolic",
                              output_format=args.to, filename_prefix=prefix,
                              input_shapes=shapes, dynamic_batch=args.dynamic_batch, **options)
    print(f"wrote {path}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    import mxnet as mx

    import serde

    from ._io import atomic_write, check_target

    prefix = args.output
    for suffix in ("-0000.params", "-symbol.json"):  # before the work: where it will write
        check_target(f"{prefix}{suffix}")
    fmt = args.input_format or ("coreml" if str(args.model).rstrip("/\\").endswith(
        (".mlmodel", ".mlpackage")) else "onnx")
    sym, params = serde.import_model(args.model, input_format=fmt, output_format="symbolic")
    arg_params, aux_params = serde.split_params(sym, params)
    saved = {**{f"arg:{k}": v for k, v in arg_params.items()},
             **{f"aux:{k}": v for k, v in aux_params.items()}}
    atomic_write(f"{prefix}-0000.params", lambda tmp: mx.nd.save(str(tmp), saved))
    atomic_write(f"{prefix}-symbol.json", lambda tmp: sym.save(str(tmp)))
    print(f"wrote {prefix}-symbol.json and {prefix}-0000.params")
    return 0


def _describe(value_info) -> str:
    import onnx

    tensor = value_info.type.tensor_type
    dims = [d.dim_param or str(d.dim_value) if (d.dim_param or d.HasField("dim_value")) else "?"
            for d in tensor.shape.dim]
    return f"{value_info.name}: {onnx.TensorProto.DataType.Name(tensor.elem_type).lower()}" \
           f"[{', '.join(dims)}]"


def _cmd_inspect(args: argparse.Namespace) -> int:
    import onnx

    from .errors import InvalidModelError

    try:
        model = onnx.load(args.model, load_external_data=False)
    except Exception as err:
        raise InvalidModelError(f"cannot read ONNX model {args.model!r}: {err}") from err
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    print(f"model:    {args.model}")
    print(f"producer: {model.producer_name} {model.producer_version}".rstrip())
    print(f"ir:       {model.ir_version}")
    print("opsets:   " + ", ".join(f"{o.domain or 'ai.onnx'}={o.version}"
                                   for o in model.opset_import))
    print("inputs:")
    for vi in graph.input:
        if vi.name not in initializers:
            print(f"  {_describe(vi)}")
    print("outputs:")
    for vi in graph.output:
        print(f"  {_describe(vi)}")
    print(f"initializers: {len(graph.initializer)}")
    histogram = collections.Counter(n.op_type for n in graph.node)
    print(f"nodes: {len(graph.node)}")
    for op, count in sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {op:<28}{count}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serde", description="MXNet <-> ONNX conversion")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    exp = sub.add_parser("export", help="MXNet symbol + params -> ONNX (or Core ML)")
    exp.add_argument("symbol", help="model-symbol.json")
    exp.add_argument("params", help="model-0000.params")
    exp.add_argument("-o", "--output", required=True, help="output .onnx (.mlmodel) path")
    exp.add_argument("--to", choices=("onnx", "coreml"), default="onnx",
                     help="output format (default onnx)")
    exp.add_argument("--opset", type=int, default=None)
    exp.add_argument("--input-shape", type=_shape_arg, action="append",
                     help="NAME:D1,D2,... (repeat per input)")
    exp.add_argument("--dynamic-batch", action="store_true",
                     help="make axis 0 of every input dynamic")
    exp.set_defaults(func=_cmd_export)

    imp = sub.add_parser("import", help="ONNX (or Core ML) -> MXNet symbol + params")
    imp.add_argument("model", help="model.onnx, model.mlmodel or model.mlpackage")
    imp.add_argument("-o", "--output", required=True, help="output prefix")
    imp.add_argument("--from", dest="input_format", choices=("onnx", "coreml"), default=None,
                     help="input format (default: by the file name, else onnx)")
    imp.set_defaults(func=_cmd_import)

    ins = sub.add_parser("inspect", help="summarise an ONNX model")
    ins.add_argument("model")
    ins.set_defaults(func=_cmd_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    from .errors import SerdeError

    try:
        return args.func(args)
    except SerdeError as err:
        print(f"serde: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
