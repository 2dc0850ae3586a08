"""``python -m unlearn.sync SWEEP_DIR``: upload every offline W&B run under a folder.

A sweep on an offline node leaves one ``wandb/offline-run-*`` folder per job (and one per
analysis) scattered over its job folders. This finds them all and runs one ``wandb sync``
over them, oldest first, so that a job resumed after a crash (two offline folders with
the same run id) is appended to its one W&B run. Copy the sweep folder anywhere first:
the runs hold copies of their files, not symlinks.

    python -m unlearn.sync multirun/grid160/2026-12-01_08-00-00            # upload
    python -m unlearn.sync multirun/grid160/2026-12-01_08-00-00 --dry-run  # only list
    make sync SWEEP=multirun/grid160/2026-12-01_08-00-00
    python -m unlearn.sync multirun/grid160/2026-12-01_08-00-00 --dashboard  # + W&B views

``--dashboard`` then saves the sweep's W&B workspace and report (unlearn/loggers/dashboard.py;
one line and exit status 3 when W&B cannot be reached). Extra arguments after the folder go
to ``wandb sync`` (e.g. ``--entity myteam``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def offline_runs(root: str | Path) -> list[Path]:
    """Every ``offline-run-<time>-<id>`` folder under `root`, oldest first."""
    runs = [p for p in Path(root).rglob("offline-run-*") if p.is_dir()]
    return sorted(runs, key=lambda p: (p.name.split("-")[2:3], str(p)))  # YYYYMMDD_HHMMSS


def sync_command(runs: list[Path], extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``wandb sync`` command line that uploads `runs`."""
    wandb = shutil.which("wandb") or str(Path(sys.executable).with_name("wandb"))
    return [wandb, "sync", *extra, *(str(r) for r in runs)]


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(
            "usage: python -m unlearn.sync SWEEP_DIR [--dry-run] [--dashboard] [wandb sync options]"
        )
        return 2
    root, rest = argv[0], argv[1:]
    dry = "--dry-run" in rest
    extra = [a for a in rest if a not in ("--dry-run", "--dashboard")]
    if not Path(root).is_dir():
        print(f"error: {root}: not a folder", file=sys.stderr)
        return 2
    if "--dashboard" in rest:
        from unlearn.loggers import dashboard

        return dashboard.main(root, extra, lambda: upload(root, extra, dry), dry)
    return upload(root, extra, dry)


def upload(root: str, extra: list[str], dry: bool) -> int:
    """Sync every offline run under `root` (only list them when `dry`)."""
    runs = offline_runs(root)
    if not runs:
        print(f"no offline W&B runs under {root}")
        return 0
    command = sync_command(runs, extra)
    print(f"{len(runs)} offline runs under {root}")
    if dry:
        print(" ".join(command))
        return 0
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
