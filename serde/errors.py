"""The one error hierarchy of serde: every failure a user can cause raises a SerdeError."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class SerdeError(Exception):
    """Base class of every error raised by serde."""


class InvalidModelError(SerdeError):
    """The input model, file or arguments are malformed or inconsistent."""


class ConversionError(SerdeError):
    """A node could not be converted although its operator is supported."""

    def __init__(self, message: str, *, node: str | None = None, op: str | None = None,
                 opset: int | None = None) -> None:
        where = []
        if node is not None:
            where.append(f"node {node!r}")
        if op is not None:
            where.append(f"op {op!r}")
        if opset is not None:
            where.append(f"opset {opset}")
        prefix = f"[{', '.join(where)}] " if where else ""
        super().__init__(prefix + message)
        self.node, self.op, self.opset = node, op, opset


class UnsupportedOperatorError(SerdeError):
    """One or more operators have no converter. Lists every one of them at once."""

    def __init__(self, unsupported: Iterable[tuple[str, str]], *, opset: int | None,
                 direction: str = "MXNet -> ONNX",
                 hint: str = "Convert with another opset, or replace these operators in the "
                             "model.") -> None:
        self.unsupported = sorted(set(unsupported), key=lambda item: (item[0], item[1]))
        self.opset = opset
        by_op: dict[str, list[str]] = {}
        for op, node in self.unsupported:
            by_op.setdefault(op, []).append(node)
        lines = [f"  {op}: nodes {', '.join(repr(n) for n in nodes[:8])}"
                 + (f" and {len(nodes) - 8} more" if len(nodes) > 8 else "")
                 for op, nodes in by_op.items()]
        target = f" at opset {opset}" if opset is not None else ""
        super().__init__(
            f"{len(by_op)} operator(s) have no {direction} converter{target}:\n"
            + "\n".join(lines)
            + f"\n{hint}"
        )

    @property
    def ops(self) -> list[str]:
        return sorted({op for op, _ in self.unsupported})


def call_converter(fn: Any, *args: Any, node: str, op: str | None,
                   opset: int | None = None) -> list[Any]:
    """``list(fn(*args))``: a SerdeError passes; any other error is a converter bug that must
    still name the node and op, as a ConversionError."""
    try:
        return list(fn(*args))
    except SerdeError:
        raise
    except Exception as err:
        raise ConversionError(f"{type(err).__name__}: {err}", node=node, op=op,
                              opset=opset) from err


def mxnet_message(err: BaseException) -> str:
    """The informative line of an MXNetError (its text starts with a C++ traceback)."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(("File ", "Traceback", "[bt]", "Stack trace")):
            return line
    return lines[-1] if lines else type(err).__name__


_BAD_INPUT = (TypeError, ValueError, KeyError, IndexError, AttributeError, LookupError,
              UnicodeError, OSError, RecursionError, OverflowError, AssertionError)


def _raised_by_mxnet(err: BaseException) -> bool:
    """A bare ``Exception`` raised in MXNet's own Python code (its shape inference raises one
    for tensors past 2^31 elements)."""
    import traceback

    frames = traceback.extract_tb(err.__traceback__) if err.__traceback__ else []
    return type(err) is Exception and bool(frames) and \
        "/mxnet/" in frames[-1].filename.replace("\\", "/")


def guarded(fn):  # type: ignore[no-untyped-def]
    """Public entry points raise only SerdeError: an MXNet error or a Python error raised on
    malformed input becomes an InvalidModelError naming the call and the cause (kept as
    ``__cause__``)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except SerdeError:
            raise
        except _BAD_INPUT as err:
            what = "cannot read or write a file" if isinstance(err, OSError) else \
                "the input is malformed"
            raise InvalidModelError(f"{fn.__name__}: {what}: {type(err).__name__}: {err}"
                                    ) from err
        except Exception as err:
            import mxnet as mx
            if isinstance(err, mx.base.MXNetError) or _raised_by_mxnet(err):
                raise InvalidModelError(f"{fn.__name__}: MXNet refused the model: "
                                        f"{mxnet_message(err)}") from err
            raise

    return wrapper
