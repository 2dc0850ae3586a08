"""`make gpu-check`'s script (bench/gpu_check.py) on the CPU: its stages, its one JSON and
its verdict, with the jobs and timings stubbed (fast) and for real at tiny sizes (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import gpu_check  # noqa: E402

TABLE = {
    f"{m}/b{b}/{mode}": {"s_per_step": 0.01, "s_per_epoch": 10.0}
    for m in ("resnet18", "vgg19")
    for b in (32, 128)
    for mode in ("plain", "twin", "twin+tracking")
}


def _stub(monkeypatch, floor: float) -> list[tuple[str, list[str]]]:
    calls: list[tuple[str, list[str]]] = []

    def run_job(name, overrides, work):  # noqa: ANN001, ANN202
        calls.append((name, overrides))
        v = floor if name.startswith("noise") else 0.5
        return {"status": "ok", "verification_error": v, "verification_error_no_unlearning": v}

    monkeypatch.setattr(gpu_check, "run_job", run_job)
    import gpu

    monkeypatch.setattr(gpu, "timings", lambda *a, **k: TABLE)
    return calls


@pytest.mark.parametrize(("floor", "status"), [(0.0, 0), (1e-7, 1)])
def test_stages_write_one_json_and_the_floor_decides(monkeypatch, tmp_path, floor, status):
    calls = _stub(monkeypatch, floor)
    out = tmp_path / "check.json"
    argv = ["gpu_check.py", "--device", "cpu", "--tiny", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    assert gpu_check.main() == status
    report = json.loads(out.read_text())
    assert report["stages_done"] == ["noise_floor", "real_window", "timings"]
    assert report["noise_floor"]["deterministic_is_exact"] is (floor == 0.0)
    assert report["grid160"]["jobs"] == 160 and report["per_epoch"] == TABLE
    assert report["cublas_workspace_config"] in (":4096:8", ":16:8")
    names = [name for name, _ in calls]
    assert names == ["noise_deterministic", "noise_nondeterministic", "real_window"]
    det, nondet, real = (ov for _, ov in calls)
    assert "deterministic=true" in det and "deterministic=false" in nondet
    assert "forget=none" in det and "forget=none" in nondet and "forget=none" not in real
    assert all("trainer=cpu" in ov for ov in (det, nondet, real))


def test_cuda_without_a_gpu_is_one_line(monkeypatch, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.setattr(sys, "argv", ["gpu_check.py", "--device", "cuda"])
    assert gpu_check.main() == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_generated_images_are_cifar_shaped(tmp_path):
    path = gpu_check.fake_cifar(tmp_path / "x.npz", n_train=30, n_test=20)
    with np.load(path) as npz:
        assert npz["x_train"].shape == (30, 32, 32, 3) and npz["x_train"].dtype == np.uint8
        assert set(npz["y_train"].tolist()) == set(range(10))


@pytest.mark.slow
def test_make_gpu_check_on_the_cpu_runs_every_stage(tmp_path):
    proc = subprocess.run(
        ["make", "--no-print-directory", "gpu-check", "DEVICE=cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**__import__("os").environ, "OUT": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["noise_floor"]["deterministic"]["verification_error"] == 0.0
    assert report["real_window"]["status"] == "ok"
    assert report["real_window"]["verification_error"] > 0
