"""Where the configs live: inside the installed package, or in the source tree.

A wheel carries ``conf/`` and ``multirun_sweeps/`` as the data folders ``unlearn/conf``
and ``unlearn/multirun_sweeps`` (pyproject.toml maps them there); a checkout or an
editable install has them beside the package. Every place that needs a config folder
asks here, so both layouts run the same code.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # <checkout>/unlearn/config/resources.py


def _folder(name: str) -> Path:
    """``unlearn/<name>`` when installed from a wheel, else ``<checkout>/<name>``."""
    packaged = Path(str(files("unlearn") / name))
    return packaged if packaged.is_dir() else SOURCE_ROOT / name


CONF_DIR = _folder("conf")
SWEEP_DIR = _folder("multirun_sweeps")
