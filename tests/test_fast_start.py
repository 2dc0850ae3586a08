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


def test_help_lists_every_preset_with_its_description():
    from unlearn.config.presets import KINDS, description

    code, _, out = _probe("unlearn", "--help")
    assert code in (0, None)
    for how, folder in KINDS:
        for path in folder.glob("*.yaml"):
            line = next(x for x in out.splitlines() if f"{how}={path.stem} " in x)
            assert description(path) and description(path) in line
