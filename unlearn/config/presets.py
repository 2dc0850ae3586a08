"""Every preset with its one-line description, for ``python -m unlearn --help``.

A preset's description is the first comment line of its YAML file (each file opens with
one): experiments (``+experiment=``), sweeps (``-m +sweep=``), searches (``-m +search=``)
and the debug preset (``debug=``). Hydra's help template (conf/hydra/help/unlearn.yaml)
shows them through the resolver ``${unlearn_presets:}``, registered on import.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from unlearn.config.resources import CONF_DIR, SWEEP_DIR

KINDS = (  # (how a command line picks it, folder): the checkout's or the installed wheel's
    ("+experiment", CONF_DIR / "experiment"),
    ("debug", CONF_DIR / "debug"),
    ("-m +sweep", SWEEP_DIR),
    ("-m +search", CONF_DIR / "search"),
)


def description(path: Path) -> str:
    """The first comment line of a YAML file that is not a ``# @package`` line."""
    for line in path.read_text().splitlines():
        text = line.strip()
        if text.startswith("#") and not text.startswith("# @package"):
            return text.lstrip("# ").strip()
        if text and not text.startswith("#"):
            break
    return ""


def preset_lines() -> list[str]:
    """'  +experiment=cifar10_resnet18   CIFAR-10 × ResNet-18: ...' for every preset."""
    rows = [
        (f"{how}={p.stem}", description(p))
        for how, folder in KINDS
        for p in sorted(folder.glob("*.yaml"))
    ]
    width = max((len(r[0]) for r in rows), default=0)
    return [f"  {name.ljust(width)}  {text}".rstrip() for name, text in rows]


def _help_text() -> str:
    return "\n".join(preset_lines()).replace("$", "$$")  # the template is a string.Template


OmegaConf.register_new_resolver("unlearn_presets", _help_text, replace=True)
