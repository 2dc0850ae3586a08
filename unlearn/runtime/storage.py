"""A file the run could not write (a full disk, a quota, a folder made read-only): one
true line that says what failed, what is kept on disk and the command that resumes.

Such a failure is the machine's, not the code's: no traceback helps, and a run that
stopped for it resumes once there is room. `WriteFailed` carries the facts from where
the write failed (`unlearn.experiment.checkpointing.WindowCheckpoint.save`) to the line
`python -m unlearn` prints (`line`), exit status 1.
"""

from __future__ import annotations

import errno
import os

# errno values that mean "the disk or the folder refuses the write", not a bug
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
)


def is_storage(err: BaseException) -> bool:
    """True for an OSError whose cause is the disk or the folder (full, read-only, ...)."""
    return isinstance(err, OSError) and err.errno in STORAGE_ERRNOS


def reason(err: BaseException) -> str:
    """'No space left on device' (the OS's words for the errno), else the message."""
    if isinstance(err, OSError) and err.errno is not None:
        return os.strerror(err.errno)
    return str(err)


class WriteFailed(OSError):  # noqa: N818 (an OSError that says what it means for the run)
    """`what` could not be written because of `cause`; `kept` is what a rerun finds."""

    def __init__(self, what: str, cause: OSError, kept: str) -> None:
        self.failure = f"{what} not written ({reason(cause)})"
        super().__init__(cause.errno, f"{self.failure}; kept: {kept}")
        self.what, self.cause, self.kept = what, cause, kept


def line(failure: str, kept: str, resume: str) -> str:
    """The one line: what failed, what is kept, the command that resumes."""
    return f"error: {failure}; kept: {kept}; free space (or make it writable), then: {resume}"


def message(results: dict, out_dir: str, resume: str) -> str | None:
    """The line for a job a failed write stopped, or whose results.json is missing (the
    facts `unlearn.experiment.job` recorded: ``storage``, ``write_reason``, ``kept``); None if
    every write went through."""
    failure, unwritten = results.get("storage"), results.get("write_reason")
    if not failure and not unwritten:
        return None
    if failure:
        text = f"{failure}{', nor results.json' if unwritten else ''}"
    else:
        text = f"{out_dir}/results.json not written ({unwritten})"
        if results.get("status") == "ok":
            text += "; the numbers above are the run's"
    return line(text, str(results.get("kept") or "what was there before"), resume)
