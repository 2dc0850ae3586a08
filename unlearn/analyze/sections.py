"""The report's sections, in order: the one list to edit to add a section.

A section is a function ``render(rows, out_dir) -> str`` (or ``render(rows) -> str``)
that returns a markdown block starting with its own ``## `` heading and may write figures
into ``out_dir/figures/``. Rows are the runs as `unlearn.analyze.collect` reads them
(results.json plus where the run sits in its sweep); by default a section gets only the
runs that finished with status ok, with ``rows="all"`` also the diverged, failed,
missing and unreadable ones. An ``optional`` section is skipped while its module does
not exist, so a feature can ship its section in its own file.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Section:
    """Where a section's render function lives and which rows it reads."""

    target: str  # "package.module:function"
    rows: str = "ok"  # "ok" | "all"
    optional: bool = False

    def load(self) -> Callable[..., str] | None:
        """The render function; None for an optional section whose module is absent."""
        module_name, function = self.target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if self.optional and err.name == module_name:
                return None
            raise
        return getattr(module, function)

    def render(self, rows: list[dict[str, Any]], out_dir: Path) -> str | None:
        """Call the section on its rows; None when it is skipped."""
        fn = self.load()
        if fn is None:
            return None
        chosen = rows if self.rows == "all" else [r for r in rows if r.get("status") == "ok"]
        takes_dir = len(inspect.signature(fn).parameters) >= 2
        return fn(chosen, out_dir) if takes_dir else fn(chosen)


SECTIONS: list[Section] = [
    Section("unlearn.analyze.status:render", rows="all"),
    Section("unlearn.analyze.tables:render"),
    Section("unlearn.analyze.correlation:render"),
    Section("unlearn.analyze.ratio:render"),
    Section("unlearn.analyze.crossing:render"),
    Section("unlearn.analyze.curves:render"),
    Section("unlearn.analyze.curvature:render", optional=True),
    Section("unlearn.analyze.privacy:privacy_report", optional=True),
    Section("unlearn.analyze.sisa:sisa_report", optional=True),
    Section("unlearn.analyze.leaderboard:render", optional=True),
]
