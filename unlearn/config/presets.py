"""``python -m unlearn --help``: a page a person reads, built from the config files.

Three parts, each a resolver Hydra's help template (conf/hydra/help/unlearn.yaml) shows,
registered on import: the main knobs (``${unlearn_knobs:}``: top-level keys of
conf/config.yaml with their default and comment), the config groups a user picks from
(``${unlearn_groups:}``: one line each, the default first; the internal ``schema/*``
groups and Hydra's own are left out), and every preset (``${unlearn_presets:}``).
A preset's description is the first comment line of its YAML file, a whole sentence
(a test checks): experiments (``+experiment=``), sweeps (``-m +sweep=``), searches
(``-m +search=``) and the debug preset (``debug=``).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from omegaconf import OmegaConf

from unlearn.config.resources import CONF_DIR, SWEEP_DIR

KINDS = (  # (how a command line picks it, folder)
    ("+experiment", CONF_DIR / "experiment"),
    ("debug", CONF_DIR / "debug"),
    ("-m +sweep", SWEEP_DIR),
    ("-m +search", CONF_DIR / "search"),
)
HEADINGS = {  # what each kind of preset is, above its presets
    "+experiment": "One run with a paper setting (+experiment=NAME):",
    "debug": "Any command for a few steps on a tiny subset (debug=NAME):",
    "-m +sweep": "A grid of jobs (-m +sweep=NAME; list them: python -m unlearn.sweeps NAME):",
    "-m +search": "A search instead of a grid (-m +search=NAME):",
}
GROUPS = {  # the groups a user picks from (group=option), in the order a run uses them
    "data": "the data set",
    "model": "the network",
    "loss": "the training objective",
    "optimizer": "the optimiser (η is lr)",
    "forget": "the forget set F",
    "unlearn": "the unlearning method (docs/methods.md)",
    "sigma": "how σ is estimated (docs/fidelity.md)",
    "callbacks": "what the window tracks",
    "trainer": "where it runs",
    "logger": "where the numbers go (W&B is offline)",
}
KNOBS = ("seed", "lr", "batch_size", "gamma", "N", "N_epochs", "t", "t_epochs")
KNOBS += ("track_every", "verify_every", "prs")
WIDTH = 100  # the groups' lines wrap here; a preset's line stays whole (at most 120)


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
    """Every preset under its kind's heading: '  cifar10_resnet18   CIFAR-10 × ResNet-18: ...'."""
    lines: list[str] = []
    for how, folder in KINDS:
        rows = [(p.stem, description(p)) for p in sorted(folder.glob("*.yaml"))]
        width = max((len(name) for name, _ in rows), default=0)  # per kind: a narrower page
        lines.append(HEADINGS[how])
        lines += [f"  {name.ljust(width)}  {text}".rstrip() for name, text in rows]
    return lines


def group_lines() -> list[str]:
    """'  data       the data set: digits (default), cifar10, cifar100, imdb', wrapped."""
    defaults = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "config.yaml").defaults)
    chosen = {k: v for item in defaults if isinstance(item, dict) for k, v in item.items()}
    lines = []
    for group, what in GROUPS.items():
        options = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
        default = chosen.get(group)
        if default in options:
            options = [f"{default} (default)", *(o for o in options if o != default)]
        text = f"  {group.ljust(10)} {what}: {', '.join(options)}"
        lines += textwrap.wrap(text, WIDTH, subsequent_indent=" " * 13, break_on_hyphens=False)
    return lines


def knob_lines() -> list[str]:
    """'  lr=0.01            η, constant (plain SGD, docs/quantities.md)' from conf/config.yaml."""
    found = {}
    for line in (CONF_DIR / "config.yaml").read_text().splitlines():
        match = re.match(r"^(\w+): *([^#]*?) *(?:# *(.*))?$", line)
        if match and match.group(1) in KNOBS:
            found[match.group(1)] = (match.group(2), match.group(3) or "")
    rows = [(f"{k}={found[k][0]}", found[k][1] or "run seed") for k in KNOBS if k in found]
    width = max(len(r[0]) for r in rows)
    return [f"  {key.ljust(width)}  {text}".rstrip() for key, text in rows]


def _block(lines: list[str]) -> str:
    return "\n".join(lines).replace("$", "$$")  # the template is a string.Template


OmegaConf.register_new_resolver("unlearn_presets", lambda: _block(preset_lines()), replace=True)
OmegaConf.register_new_resolver("unlearn_groups", lambda: _block(group_lines()), replace=True)
OmegaConf.register_new_resolver("unlearn_knobs", lambda: _block(knob_lines()), replace=True)
