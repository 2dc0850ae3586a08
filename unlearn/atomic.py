"""Atomic file writes: a temporary file beside the target, fsync, then rename.

Readers (another sweep job, the analysis, a resumed run) never see half a file, and a
crash mid-write leaves the previous version in place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], None], mode: int | None = None) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        write(Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes, mode: int | None = None) -> None:
    """`data` to `path`, atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data), mode)


def write_text_atomic(path: str | Path, text: str) -> None:
    """`text` to `path`, atomically (results.json, summary.csv, report.md)."""
    atomic_write(path, lambda tmp: tmp.write_text(text))
