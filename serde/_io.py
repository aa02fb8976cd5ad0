"""File helpers: atomic writes so a failed export never leaves or clobbers a file."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then move the temporary file onto ``path``.

    The temporary file lives in the destination folder so the final rename is atomic; on any
    error it is removed and an existing ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def check_target(path: str | os.PathLike) -> Path:
    """Refuse an output path that cannot be written as asked, before any work: its folder must
    exist (exports create no folders) and be writable, and the path must not be a folder."""
    from .errors import InvalidModelError

    text = os.fspath(path)
    if "\0" in text:
        raise InvalidModelError(f"output path {text!r} contains a NUL character")
    target = Path(text)
    parent = target.parent
    if not parent.exists():
        raise InvalidModelError(f"the output folder {str(parent)!r} does not exist: create it "
                                f"or choose another filename_prefix")
    if not parent.is_dir():
        raise InvalidModelError(f"the output folder {str(parent)!r} is a file")
    if target.is_dir():
        raise InvalidModelError(f"the output path {text!r} is a folder; choose another "
                                f"filename_prefix")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidModelError(f"the output folder {str(parent)!r} is not writable")
    return target
