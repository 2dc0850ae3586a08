"""Command-line checks Hydra would report as multi-line errors: unknown config-group options."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from unlearn.config import ConfigError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def group_options(group: str, conf_dir: Path = CONF_DIR) -> list[str]:
    """Option names of a config group (the YAML files in its folder)."""
    return sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))


def check_group_choices(argv: Iterable[str], conf_dir: Path = CONF_DIR) -> None:
    """Raise a one-line `ConfigError` for `group=option` where the option does not exist."""
    for arg in argv:
        if "=" not in arg or arg.startswith("-"):
            continue
        key, value = arg.split("=", 1)
        group = key.lstrip("+~")
        if group.startswith("hydra") or "." in group or not (conf_dir / group).is_dir():
            continue
        options = group_options(group, conf_dir)
        for choice in value.split(","):  # multirun lists: model=a,b
            if choice and choice != "null" and choice not in options:
                raise ConfigError(
                    f"{group}={choice!r}: allowed {', '.join(options) or '(no options)'}"
                )
