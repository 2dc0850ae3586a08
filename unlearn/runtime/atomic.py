"""Atomic file writes: a temporary file beside the target, fsync, then rename.

Readers (another sweep job, the analysis, a resumed run) never see half a file, and a
crash mid-write leaves the previous version in place. The file gets the mode an
ordinary ``open`` would give it (0666 less the umask, e.g. 0644), not mkstemp's 0600,
so that a cache or a sweep folder shared by a group stays readable. Temporary files
that a killed writer left beside the target are removed by the next write of it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would create


def _remove_stale(path: Path) -> None:
    """Temporary files of `path` left by a writer that was killed (SIGKILL, power loss)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def atomic_write(path: str | Path, write: Callable[[Path], None], mode: int | None = None) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it to `path`.

    Writers of one path are serialised by their callers (one job per output folder, a
    file lock per cache trajectory), so another writer's temporary file is a stale one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, FILE_MODE if mode is None else mode)
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
