"""Whether a recorded zoo result still describes the converters: each record names the MXNet ops
it exported and the ONNX ops it imported, and carries a hash of the source of every converter
module (and the shared plumbing) those go through. A record whose hash no longer matches was
measured against converters that have changed since: stale.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Iterable
from functools import cache
from pathlib import Path

#: Plumbing every export or import goes through, whatever the ops.
CORE_MODULES = (
    "serde._export", "serde._graph", "serde.onnx.api", "serde.onnx.export.convert", "serde.onnx.export.context",
    "serde.onnx.export.legalize", "serde.onnx.export.ops._helpers",
    "serde.onnx.importer.convert", "serde.onnx.importer.context", "serde.onnx.importer.loader",
    "serde.onnx.importer.fold", "serde.onnx.importer.ops._helpers",
)


@cache
def _module_digest(module: str) -> str:
    source = Path(inspect.getsourcefile(importlib.import_module(module)) or "").read_bytes()
    return hashlib.sha256(source).hexdigest()


def converter_modules(mx_ops: Iterable[str], onnx_ops: Iterable[str], opset: int) -> list[str]:
    """The modules holding the export converters of ``mx_ops`` and the import converters of
    ``onnx_ops`` (``domain:op`` or ``op``), plus the core plumbing."""
    from serde.onnx.export.registry import EXPORT_REGISTRY
    from serde.onnx.importer import registry as import_registry

    import_registry.supported_ops()  # loads the import converter modules
    modules = set(CORE_MODULES)
    for op in mx_ops:
        conv = EXPORT_REGISTRY.lookup(op, opset)
        if conv is not None:
            modules.add(conv.fn.__module__)
    for qualified in onnx_ops:
        domain, _, op = qualified.rpartition(":")
        fn = import_registry.lookup(op, opset, domain)
        if fn is not None:
            modules.add(fn.__module__)
    return sorted(modules)


def fingerprint(mx_ops: Iterable[str], onnx_ops: Iterable[str], opset: int) -> str:
    digest = hashlib.sha256()
    for module in converter_modules(mx_ops, onnx_ops, opset):
        digest.update(f"{module}={_module_digest(module)}\n".encode())
    return digest.hexdigest()[:16]


def is_fresh(record: dict) -> bool:
    """True when ``record`` was measured with the converters as they are now."""
    if "fingerprint" not in record or "mx_ops" not in record:
        return False
    return record["fingerprint"] == fingerprint(record["mx_ops"], record.get("onnx_ops", ()),
                                                int(record["opset"]))
