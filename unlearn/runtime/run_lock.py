"""One process per run folder (or sweep folder), held from the checks to the exit.

Two processes on one folder would both train, both write ``.hydra/config.yaml`` and race
on results.json; the second must instead stop at once. `hold(folder, key)` takes an
exclusive lock on ``<folder>/.run.lock`` (filelock's `FileLock`, i.e. ``flock(2)``) and
keeps it until the process exits; a second process gets a `FolderBusy` line naming the
holder (its pid, host, start time and command, from ``<folder>/.run.lock.json``).

Staleness: the kernel drops an ``flock`` when its holder dies, even by SIGKILL, so a dead
holder's lock is simply free and the next process takes it over (its owner record is
overwritten). On a file system without ``flock`` filelock falls back to a soft lock whose
own staleness test is the recorded pid, host and process start time. As a second guard
(a file system that accepts ``flock`` but does not enforce it across processes), a lock
we did get is still refused when the owner record names another *live* process on this
host: alive by ``os.kill(pid, 0)`` and with the same start time in ``/proc/<pid>/stat``
(so a recycled pid does not count). A holder on another host cannot be probed; there the
``flock`` alone decides.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from unlearn.config.errors import ConfigError
from unlearn.runtime.atomic import write_text_atomic

LOCK = ".run.lock"
OWNER = ".run.lock.json"

_held: dict[str, FileLock] = {}  # folder → its lock, held until this process exits


class FolderBusy(ConfigError):
    """Another live process holds the run folder (exit status 2, like any refused input)."""


def start_token(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat);
    None where /proc is not there. Together with the pid it names one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(pid: int, token: int | None) -> bool:
    """Whether process `pid` (started at `token`, when known) runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    now = start_token(pid)
    return token is None or now is None or now == token


def owner(folder: str | Path) -> dict[str, Any] | None:
    """The owner record of `folder`'s lock (whoever took it last), or None."""
    try:
        record = json.loads((Path(folder) / OWNER).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def describe(record: dict[str, Any] | None) -> str:
    """'pid 123 on host h since 2026-12-06 18:02:11 UTC' for a message (the command it
    runs is in the record, .run.lock.json)."""
    if not record:
        return "another process (no owner record)"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(record.get("since", 0))))
    return f"pid {record.get('pid')} on host {record.get('host')} since {since}"


def _busy(folder: Path, key: str, record: dict[str, Any] | None) -> FolderBusy:
    return FolderBusy(
        f"{key}={str(folder)!r}: in use by {describe(record)}; allowed one process per "
        f"folder: wait for it to end (or stop it), or choose another {key}"
    )


def _live_other(record: dict[str, Any] | None) -> bool:
    """The record names another process on this host that is still running."""
    if not record or record.get("host") != socket.gethostname():
        return False
    pid = int(record.get("pid", -1))
    return pid != os.getpid() and pid > 0 and alive(pid, record.get("start_token"))


def hold(folder: str | Path, key: str = "hydra.run.dir") -> None:
    """Lock `folder` for this process until it exits, or raise `FolderBusy` at once.

    `key` is the config key that named the folder (for the message). Taking a folder
    this process holds already is a no-op.
    """
    folder = Path(folder).expanduser()
    name = str(folder.resolve())
    if name in _held:
        return
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise _busy(folder, key, owner(folder)) from None
    previous = owner(folder)
    if _live_other(previous):  # flock granted but not enforced here: trust the live owner
        lock.release()
        raise _busy(folder, key, previous)
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "start_token": start_token(os.getpid()),
        "since": time.time(),
        "argv": ["python", "-m", "unlearn", *sys.argv[1:]],
    }
    write_text_atomic(folder / OWNER, json.dumps(record))
    if not _held:
        atexit.register(_release_all)
    _held[name] = lock


def _release_all() -> None:
    for folder in list(_held):
        release(folder)


def release(folder: str | Path) -> None:
    """Give `folder` back before the process ends (tests; the exit releases it anyway)."""
    lock = _held.pop(str(Path(folder).expanduser().resolve()), None)
    if lock is not None:
        with contextlib.suppress(OSError):
            (Path(folder) / OWNER).unlink()
        lock.release()
