"""The wheel carries every config, and an installed wheel runs outside the checkout.

The wheel is built offline from this checkout (`pip wheel --no-build-isolation`),
installed with `pip install --no-deps --no-index --target`, and run from a folder
outside the repository, so nothing can come from the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pip(*args: str, cwd: Path = ROOT) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args, "-q"], cwd=cwd, check=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = tmp_path_factory.mktemp("build")  # keeps build/ out of the checkout
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation"]
        + ["--no-index", "-w", str(out), "-q"],
        cwd=build,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "BuildBackendWarning" not in built.stdout + built.stderr, built.stderr[-2000:]
    (whl,) = out.glob("unlearn-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("target")
    _pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel))
    return target


def _run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target), "OMP_NUM_THREADS": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_every_code_package_is_listed():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("unlearn", "hydra_plugins")
        for p in (ROOT / top).rglob("__init__.py")
    }
    missing = sorted(found - listed)
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_every_config_folder_is_listed():
    """A conf/ folder that is not a listed package makes setuptools print a
    BuildBackendWarning per folder on every `pip install .`."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(("unlearn", *d.relative_to(ROOT).parts))
        for d in [ROOT / "conf", *(ROOT / "conf").rglob("*")]
        if d.is_dir() and any(d.glob("*.yaml"))
    }
    missing = sorted(found - listed)
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_wheel_holds_every_config_and_sweep(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    want = {f"unlearn/{p.relative_to(ROOT)}" for p in (ROOT / "conf").rglob("*.yaml")}
    want |= {f"unlearn/{p.relative_to(ROOT)}" for p in (ROOT / "multirun_sweeps").glob("*.yaml")}
    assert want and not sorted(want - names)
    assert "hydra_plugins/unlearn_sweeper/union_sweeper.py" in names
    assert not any(n.startswith(("conf/", "multirun_sweeps/", "tests/")) for n in names)


def test_installed_wheel_composes_the_config_outside_the_checkout(installed, tmp_path):
    where = _run_installed(
        installed,
        tmp_path,
        "-c",
        "import unlearn.config.resources as r; print(r.CONF_DIR, r.SWEEP_DIR)",
    )
    assert where.stdout.split() == [
        str(installed / "unlearn" / "conf"),
        str(installed / "unlearn" / "multirun_sweeps"),
    ]
    job = _run_installed(installed, tmp_path, "-m", "unlearn", "--cfg", "job")
    assert job.returncode == 0, job.stderr
    assert "_target_: unlearn.data.DigitsDataModule" in job.stdout
    jobs = _run_installed(installed, tmp_path, "-m", "unlearn.sweeps", "fig9_t_mini")
    assert jobs.returncode == 0 and len(jobs.stdout.splitlines()) == 2, jobs.stderr


@pytest.mark.slow
def test_installed_wheel_runs_the_default_job(installed, tmp_path):
    run = _run_installed(
        installed, tmp_path, "-m", "unlearn", "logger=none", f"hydra.run.dir={tmp_path / 'run'}"
    )
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["status"] == "ok" and results["N"] == 450 and results["t"] == 45
