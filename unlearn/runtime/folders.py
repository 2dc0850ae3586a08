"""Output folders, checked before Hydra writes into them: the run, the sweep, the cache.

Hydra creates ``hydra.run.dir`` (or ``hydra.sweep.dir``) and writes ``.hydra/`` there
before the task starts, so a folder that is a file, lies under a file or under /proc,
or is read-only ends in a Hydra traceback; an empty path writes into the current folder.
`check_folder` finds all of these first: it creates what is missing, writes a probe
file, and removes what it created.

A sweep folder that already holds a sweep (its ``jobs.json``) is reused only for the
same grid: rerunning the same command continues it (finished jobs print their stored
results and run nothing; an interrupted one resumes). Another grid is refused, so the
finished jobs' ``.hydra/`` files and ``jobs.json`` never come to contradict their
results.json. (Hydra's own overrides, ``hydra.*``, do not count: they say where and
how, not what.)
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from unlearn.config.errors import ConfigError


def check_folder(path: Any, key: str) -> None:
    """One-line `ConfigError` unless `path` is (or can be made) a writable folder."""
    text = "" if path is None else str(path)
    if not text.strip():
        raise ConfigError(
            f"{key}={text!r}: allowed a folder path (an empty one would write into the "
            "current folder)"
        )
    folder = Path(text).expanduser()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is a file" if existing == folder else f"lies under the file {existing}"
        raise ConfigError(f"{key}={text!r}: {what}; allowed a folder that can be created")
    created: list[Path] = []
    try:
        for part in reversed([folder, *folder.parents]):
            if not part.exists():
                part.mkdir()
                created.append(part)
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"probe")
            probe.flush()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(
            f"{key}={text!r}: cannot create or write there ({reason}); allowed a writable folder"
        ) from None
    finally:
        for part in reversed(created):
            with contextlib.suppress(OSError):
                part.rmdir()


def _what(jobs: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each job's overrides without Hydra's own (``hydra.*``, ``hydra/...``), sorted."""
    return [sorted(o for o in job if not o.lstrip("+~").startswith("hydra")) for job in jobs]


def check_sweep_folder(sweep_dir: Any, jobs: Sequence[Sequence[str]]) -> None:
    """One-line `ConfigError` if `sweep_dir` holds a sweep of another grid than `jobs`."""
    check_folder(sweep_dir, "hydra.sweep.dir")
    jobs_file = Path(str(sweep_dir)).expanduser() / "jobs.json"
    if not jobs_file.exists():
        return
    try:
        old = [j["overrides"] for j in json.loads(jobs_file.read_text())]
    except (OSError, ValueError, TypeError, KeyError):
        old = None
    if old is None or _what(old) != _what(jobs):
        held = f"another grid ({len(old)} jobs)" if old is not None else "an unreadable jobs.json"
        raise ConfigError(
            f"hydra.sweep.dir={str(sweep_dir)!r}: holds {held}; its finished jobs are never "
            "touched; allowed the same sweep command (it continues), or a new hydra.sweep.dir"
        )
