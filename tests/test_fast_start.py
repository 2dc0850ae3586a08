"""A start in seconds: `--help`, `--cfg`, a config error and a dry run import no Lightning,
torchvision or transformers (checked in `sys.modules` of a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("lightning", "torchvision", "transformers")

# runs `python -m unlearn ARGV` (or `-m unlearn.sweeps`) in this interpreter, then reports
PROBE = """
import json, runpy, sys
module, argv = sys.argv[1], sys.argv[2:]
sys.argv = [module, *argv]
code = 0
try:
    runpy.run_module(module, run_name="__main__")
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print("\\nPROBE " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _probe(module: str, *argv: str) -> tuple[int, set[str], str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, module, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("PROBE "))
    report = json.loads(line[len("PROBE ") :])
    return report["code"], {m.split(".")[0] for m in report["modules"]}, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("unlearn", "--help"),
        ("unlearn", "--cfg", "job"),
        ("unlearn", "lr=abc"),
        ("unlearn", "model=nope"),
        ("unlearn.sweeps", "fig9_t_mini"),
    ],
    ids=["help", "cfg", "type-error", "unknown-option", "dry-run"],
)
def test_answers_without_importing_the_heavy_libraries(argv):
    code, modules, out = _probe(*argv)
    assert not set(HEAVY) & modules, (set(HEAVY) & modules, out[-2000:])
    assert code in (0, 2, None), out[-2000:]


@pytest.fixture(scope="module")
def help_page() -> list[str]:
    code, _, out = _probe("unlearn", "--help")
    assert code in (0, None)
    return out.split("\nPROBE ")[0].rstrip().splitlines()


def test_help_lists_every_preset_with_its_whole_description(help_page):
    """One line per preset, under its kind's heading; the description is the file's first
    comment line, a whole sentence (it once stopped mid-sentence at the line's end)."""
    from unlearn.config.presets import HEADINGS, KINDS, description

    for how, folder in KINDS:
        heading = help_page.index(HEADINGS[how])
        for path in folder.glob("*.yaml"):
            text = description(path)
            assert text.endswith((".", "?")), f"{path.name}: {text!r} is not a whole sentence"
            line = next(x for x in help_page[heading:] if x.startswith(f"  {path.stem} "))
            assert line.endswith(f"  {text}")


def test_help_is_a_page_a_person_reads(help_page):
    """Short, no internal `schema/*` groups, every line whole and within 120 characters;
    the groups a user picks from and the main knobs are there, and where the docs are."""
    from unlearn.config.presets import GROUPS, KNOBS

    assert len(help_page) <= 90  # was 224: the composed config is `--cfg job`'s
    assert max(len(line) for line in help_page) <= 120
    assert not any("schema" in line for line in help_page)
    for group in GROUPS:
        assert any(line.startswith(f"  {group.ljust(10)} ") for line in help_page), group
    for knob in KNOBS:
        assert any(line.startswith(f"  {knob}=") for line in help_page), knob
    assert "  lr=0.01         η, constant (plain SGD, docs/quantities.md)" in help_page
    assert "  forget     the forget set F: first_batch (default), class, indices, none, random" in (
        help_page
    )
    assert any(line.startswith("Docs: README.md; docs/index.md") for line in help_page)
    for doc in ("index.md", "running.md", "methods.md", "bring-your-own.md"):
        assert (ROOT / "docs" / doc).is_file()
