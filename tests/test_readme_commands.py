"""Every command that README.md and docs/ show in a code block still works as shown.

Fast checks go through what the command runs first, in-process: a run's command line
through `unlearn.experiment.preflight.preflight` (types, keys, ranges, the data, the model on the
data, the output folder), or, where it needs data or a GPU this machine may lack, through
`compose_run` (the config composes, every key exists); a sweep's jobs through
`unlearn.sweeps`; a make target through ``make -n``. A few commands run for real, scaled
down with ``N=0 t=3 logger=none``; the sweep-and-analyse sequence of docs/reproduce.md is
a slow test.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from unlearn.experiment import sweeps
from unlearn.experiment.preflight import compose_run, preflight

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"^(\.venv/bin/)?python |^make |^PYTHONPATH=\S+ python |^git |^pip ")
NOT_RUN_HERE = ("git clone", "make install", "pip ")  # need the network
SMALL = ["N=0", "t=3", "logger=none"]


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```\w*\n(.*?)```", path.read_text(), re.S)


def commands(path: Path) -> list[str]:
    """The shell commands in the page's code blocks (continuations joined, comments cut)."""
    found = []
    for block in _blocks(path):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.split(r"\s{2,}#", line)[0].strip()
            if COMMAND.match(line):
                found.append(" ".join(line.split()))
    return found


ALL = [(p.relative_to(ROOT).as_posix(), c) for p in PAGES for c in commands(p)]


def _argv(command: str) -> tuple[str, list[str]]:
    """(module, arguments) of a ``python -m MODULE ...`` command (``python bench/X.py ...``:
    module ``bench/X.py``)."""
    words = shlex.split(os.path.expandvars(command.replace("$PWD", "PWD")))
    words = [w for w in words if not w.startswith("PYTHONPATH=")]
    if "-m" not in words and words[1].startswith("bench/"):
        return words[1], words[2:]
    at = words.index("-m")
    return words[at + 1], words[at + 2 :]


def _needs_data_or_gpu(args: list[str]) -> bool:
    home = os.path.expanduser("~")
    return any(a.startswith(("+experiment", "data=")) or home in a for a in args)


def test_the_pages_show_commands():
    pages = {page for page, _ in ALL}
    assert {"README.md", "docs/reproduce.md", "docs/bring-your-own.md"} <= pages
    assert len(ALL) >= 20


@pytest.mark.parametrize("page, command", ALL, ids=[f"{p}: {c[:60]}" for p, c in ALL])
def test_command_is_accepted(page, command, tmp_path, monkeypatch, capsys):
    if command.startswith(NOT_RUN_HERE):
        pytest.skip("needs the network")
    if command.startswith("make "):
        target = shlex.split(command)[1:]
        run = subprocess.run(["make", "-n", "-C", str(ROOT), *target], capture_output=True)
        assert run.returncode == 0, run.stderr
        return
    module, args = _argv(command)
    if "PWD" in " ".join(args):  # docs/bring-your-own.md: its own files, written from the page
        _write_bring_your_own(tmp_path)
        monkeypatch.chdir(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        args = [a.replace("PWD", str(tmp_path)) for a in args]
    if module == "unlearn.sweeps":
        assert sweeps.main(args) == 0
    elif module == "unlearn.analyze":
        pytest.skip("analyses the folder the previous command wrote: test_reproduce_sequence")
    elif module == "unlearn.sync":  # offline: a sweep folder holding one offline run, listed only
        from unlearn.loggers import sync

        (tmp_path / "0" / "wandb" / "offline-run-20261201_080000-abc").mkdir(parents=True)
        if "--dashboard" in args:  # and a job that logged to W&B, for the dashboards
            from test_dashboard import _sweep_folder

            _sweep_folder(tmp_path / "1", [["gamma=0"]])
        rest = [a for a in args[1:] if a != "--dry-run"]
        assert sync.main([str(tmp_path), *rest, "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "1 offline runs" in out and " sync " in out and "offline-run-" in out
    elif module.startswith("bench/"):  # a benchmark takes the run's overrides: they compose
        assert (ROOT / module).is_file(), module
        compose_run([a for a in args if a != "-m"])
    elif module != "unlearn":
        pytest.fail(f"unexpected module {module}")
    elif "-m" in args and any(a.startswith("+sweep=") for a in args):
        name = next(a for a in args if a.startswith("+sweep=")).split("=", 1)[1]
        rest = [a for a in args if a != "-m" and not a.startswith("+sweep=")]
        assert sweeps.list_jobs(name, rest)
    elif _needs_data_or_gpu(args):
        compose_run([a for a in args if a != "-m"])
    else:
        preflight([*args, f"hydra.run.dir={tmp_path / 'run'}"])


def _write_bring_your_own(folder: Path) -> None:
    """Write the files docs/bring-your-own.md shows (a block whose first line names it)."""
    for block in _blocks(ROOT / "docs" / "bring-your-own.md"):
        first, _, body = block.partition("\n")
        name = re.fullmatch(r"# (\S+\.(py|yaml))", first.strip())
        if name:
            target = folder / name.group(1)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)


def test_bring_your_own_files_are_complete(tmp_path):
    _write_bring_your_own(tmp_path)
    for name in ("mypkg/__init__.py", "mypkg/blobs.py", "my_conf/model/tiny.yaml"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "my_conf" / "data" / "blobs.yaml").is_file()


def _python(*args: str, cwd: Path, extra_path: str = "") -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (extra_path, str(ROOT)) if p)
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_noise_floor_command_prints_a_dash_for_the_undefined_ratio(tmp_path):
    """docs/twin.md: `python -m unlearn forget=none`, scaled down."""
    run = _python("-m", "unlearn", "forget=none", *SMALL, "hydra.run.dir=run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    ratio = next(line for line in run.stdout.splitlines() if "v / v_none" in line)
    assert ratio.split()[-1] == "—" and "nan" not in run.stdout
    for name in ("method", "forget set", "model", "data"):
        assert re.search(rf"^ {name}\s+\S", run.stdout, re.M), name


def test_make_help_lists_the_sweeps():
    out = subprocess.run(["make", "-C", str(ROOT), "help"], capture_output=True, text=True)
    assert out.returncode == 0
    for name in sweeps.sweep_names():
        assert f"    {name}\n" in out.stdout


def test_make_sweep_analyses_the_folder_given_in_args():
    out = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "sweep-fig9_t_mini", "ARGS=hydra.sweep.dir=/x/y lr=0.1"],
        capture_output=True,
        text=True,
    )
    lines = out.stdout.splitlines()
    assert any("+sweep=fig9_t_mini hydra.sweep.dir=/x/y lr=0.1" in line for line in lines)
    assert any(line.endswith("-m unlearn.analyze /x/y") for line in lines)


@pytest.mark.slow
def test_reproduce_sequence_and_bring_your_own_run(tmp_path):
    """docs/reproduce.md's first block in order, scaled down; then the make target; then
    docs/bring-your-own.md's last command."""
    block = next(b for b in _blocks(ROOT / "docs" / "reproduce.md") if "unlearn.sweeps" in b)
    for command in commands_of(block):
        if command.startswith("make "):
            continue
        module, args = _argv(command)
        if module == "unlearn":
            args = [*args, *SMALL]
        if module == "unlearn.analyze":
            args = [*args, "--no-wandb"]
        run = _python("-m", module, *args, cwd=tmp_path)
        assert run.returncode == 0, (command, run.stderr[-2000:])
    assert (tmp_path / "multirun" / "fig9" / "report.md").is_file()
    where = tmp_path / "via_make"
    make = subprocess.run(
        ["make", "-C", str(ROOT), f"PY={sys.executable}", "sweep-fig9_t_mini"]
        + [f"ARGS=hydra.sweep.dir={where} {' '.join(SMALL)}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )
    assert make.returncode == 0, make.stderr[-2000:]
    assert (where / "report.md").is_file() and (where / "summary.csv").is_file()
    _write_bring_your_own(tmp_path)
    byo = [c for c in commands(ROOT / "docs" / "bring-your-own.md") if "PWD" in c][-1]
    _, args = _argv(byo)
    args = [a.replace("PWD", str(tmp_path)) for a in args]
    run = _python(
        "-m", "unlearn", *args, *SMALL, "hydra.run.dir=byo", cwd=tmp_path, extra_path=str(tmp_path)
    )
    assert run.returncode == 0, run.stderr[-2000:]


def commands_of(block: str) -> list[str]:
    lines = block.replace("\\\n", " ").splitlines()
    return [" ".join(re.split(r"\s{2,}#", x)[0].split()) for x in lines if COMMAND.match(x.strip())]
