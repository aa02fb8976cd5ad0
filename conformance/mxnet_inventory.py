"""Every canonical operator MXNet 1.9.1 registers (aliases resolved through the op handle),
sorted into: exported (a converter), not applicable (with the reason), and missing.

Written by ``python -m conformance.mxnet_ops`` to ``reports/mxnet_op_inventory.json``; the
report reads it (rendering the report needs no MXNet).
"""
from __future__ import annotations

import ctypes
import json
from pathlib import Path
from typing import Any

from .results import REPO_ROOT

INVENTORY_PATH = REPO_ROOT / "reports" / "mxnet_op_inventory.json"


def canonical_ops() -> dict[str, list[str]]:
    """{canonical op name (what graph JSON holds): [aliases]} from MXNet's op registry."""
    from mxnet.base import _LIB, c_str, check_call, py_str

    size = ctypes.c_uint()
    names_ptr = ctypes.POINTER(ctypes.c_char_p)()
    check_call(_LIB.MXListAllOpNames(ctypes.byref(size), ctypes.byref(names_ptr)))
    by_handle: dict[int, list[str]] = {}
    for i in range(size.value):
        name = py_str(names_ptr[i])
        handle = ctypes.c_void_p()
        check_call(_LIB.NNGetOpHandle(c_str(name), ctypes.byref(handle)))
        by_handle.setdefault(handle.value, []).append(name)
    canonical: dict[str, list[str]] = {}
    for handle, names in by_handle.items():
        real = ctypes.c_char_p()
        desc, kv, ret = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_char_p()
        count = ctypes.c_uint()
        arg_names = ctypes.POINTER(ctypes.c_char_p)()
        arg_types = ctypes.POINTER(ctypes.c_char_p)()
        arg_descs = ctypes.POINTER(ctypes.c_char_p)()
        check_call(_LIB.MXSymbolGetAtomicSymbolInfo(
            ctypes.c_void_p(handle), ctypes.byref(real), ctypes.byref(desc),
            ctypes.byref(count), ctypes.byref(arg_names), ctypes.byref(arg_types),
            ctypes.byref(arg_descs), ctypes.byref(kv), ctypes.byref(ret)))
        op = py_str(real.value)
        canonical[op] = sorted(n for n in names if n != op)
    return dict(sorted(canonical.items()))


def build_inventory() -> dict[str, Any]:
    from serde.onnx.export.not_applicable import not_applicable_reason
    from serde.onnx.export.registry import EXPORT_REGISTRY

    exported = set(EXPORT_REGISTRY.ops())
    rows = []
    for op, aliases in canonical_ops().items():
        if op in exported:
            status, reason = "exported", None
        else:
            reason = not_applicable_reason(op)
            status = "not applicable" if reason else "missing"
        rows.append({"op": op, "aliases": aliases, "status": status, "reason": reason})
    return {"ops": rows}


def write_inventory(path: Path | None = None) -> Path:
    path = path or INVENTORY_PATH
    path.write_text(json.dumps(build_inventory(), indent=1, sort_keys=True) + "\n")
    return path


def read_inventory(path: Path | None = None) -> dict[str, Any] | None:
    path = path or INVENTORY_PATH
    return json.loads(path.read_text()) if path.exists() else None
