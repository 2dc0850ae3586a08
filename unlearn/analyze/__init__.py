"""Read a sweep folder and rebuild the paper's tables, correlations and figures from it.

    python -m unlearn.analyze SWEEP_DIR

writes ``summary.csv`` (one row per run), ``report.md`` and ``figures/*.png`` into
SWEEP_DIR; it works on a half-finished sweep and on failed runs, and reports what is
missing. Sections are listed in `unlearn.analyze.sections.SECTIONS`.
"""

from unlearn.analyze.report import Analysis, analyze

__all__ = ["Analysis", "analyze"]
