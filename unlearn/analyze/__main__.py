"""`python -m unlearn.analyze SWEEP_DIR [--wandb MODE | --no-wandb]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unlearn.analyze.collect import collect
from unlearn.analyze.report import analyze


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m unlearn.analyze",
        description="Write summary.csv, report.md and figures/ into a sweep folder.",
    )
    parser.add_argument("sweep_dir", type=Path, help="a folder holding runs (searched deeply)")
    parser.add_argument(
        "--wandb",
        choices=("offline", "online", "disabled"),
        default=None,
        help="log the analysis to W&B (default: as the jobs did, if they used W&B)",
    )
    parser.add_argument("--no-wandb", action="store_true", help="never log to W&B")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        print(
            f"error: sweep_dir={str(args.sweep_dir)!r}: allowed an existing folder", file=sys.stderr
        )
        return 2
    if not collect(args.sweep_dir):  # nothing to analyse: say so, write no empty report
        print(
            f"error: sweep_dir={str(args.sweep_dir)!r}: no results.json or jobs.json below it; "
            "allowed a sweep or run folder",
            file=sys.stderr,
        )
        return 2
    analysis = analyze(args.sweep_dir)
    if not args.no_wandb:
        from unlearn.analyze.to_wandb import log_analysis  # wandb: only when it logs

        log_analysis(analysis, args.wandb)
        loggers = [(r.get("config") or {}).get("logger") or {} for r in analysis.rows]
        if any(node.get("dashboard") for node in loggers):  # the W&B workspace and report
            from unlearn.loggers.dashboard import after_analysis

            after_analysis(args.sweep_dir)
    counts: dict[str, int] = {}
    for row in analysis.rows:
        counts[row.get("status", "?")] = counts.get(row.get("status", "?"), 0) + 1
    print(f"{len(analysis.rows)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    print(f"summary: {analysis.summary}")
    print(f"report:  {analysis.report} ({len(analysis.figures)} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
