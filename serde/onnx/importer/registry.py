"""The import registry: converters keyed by (domain, op_type, since_version).

A converter is a plain function ``(node, ctx) -> Symbol | list[Symbol]`` registered with
``@converter("Relu", 6, 13, 14)``: one function may serve several schema versions. At import time
the model's opset for the node's domain picks the schema in force
(``onnx.defs.get_schema(op, max_inclusive_version=opset, domain=...)``) and its
``since_version`` picks the converter, so every opset is handled on purpose: a schema version
without a registered converter is reported as unsupported, never silently converted by another
version's rules.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import onnx

Converter = Callable[[Any, Any], Any]

# (domain, op_type) -> {since_version: converter}
IMPORT_REGISTRY: dict[tuple[str, str], dict[int, Converter]] = {}

_DEFAULT_DOMAINS = ("", "ai.onnx")
#: ops the importer itself introduces (``fuse``), never read from a file
SERDE_DOMAIN = "ai.mxnet_serde"


def _norm_domain(domain: str) -> str:
    return "" if domain in _DEFAULT_DOMAINS else domain


def converter(op_type: str, *since_versions: int, domain: str = "") -> Callable[[Converter], Converter]:
    """Register ``fn`` for ``op_type`` at each listed schema ``since_version``."""
    if not since_versions:
        raise ValueError(f"converter for {op_type} needs at least one since_version")

    def register(fn: Converter) -> Converter:
        versions = IMPORT_REGISTRY.setdefault((_norm_domain(domain), op_type), {})
        for version in since_versions:
            if version in versions:
                raise ValueError(f"duplicate import converter for {op_type} v{version}")
            versions[version] = fn
        return fn

    return register


@functools.lru_cache(maxsize=4096)
def schema_version(op_type: str, opset: int, domain: str = "") -> int | None:
    """The since_version of the schema of ``op_type`` in force at ``opset`` (None if none)."""
    try:
        return onnx.defs.get_schema(op_type, max_inclusive_version=opset,
                                    domain=_norm_domain(domain)).since_version
    except onnx.defs.SchemaError:
        return None


def lookup(op_type: str, opset: int, domain: str = "") -> Converter | None:
    """The converter for ``op_type`` at the model's ``opset`` of ``domain``, or None."""
    versions = IMPORT_REGISTRY.get((_norm_domain(domain), op_type))
    if not versions:
        return None
    if _norm_domain(domain) == SERDE_DOMAIN:  # our own fused ops: no ONNX schema
        return versions[max(v for v in versions if v <= max(opset, 1))]
    since = schema_version(op_type, opset, domain)
    if since is None:
        return None
    return versions.get(since)


def supported_ops() -> dict[tuple[str, str], list[int]]:
    """Every registered (domain, op) with its since_versions: the single source of coverage."""
    _load_ops()
    return {key: sorted(versions) for key, versions in sorted(IMPORT_REGISTRY.items())}


def _load_ops() -> None:
    from . import ops  # noqa: F401  (registers the converters)
