"""Peak memory (resident set) of a default run and of a window with and without the twin,
each in a fresh process so that peaks do not mix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys
sys.path.insert(0, {bench!r})
mode = {mode!r}
if mode == "default":
    import tempfile
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict
    from unlearn.experiment.run import run
    with initialize_config_dir(version_base="1.3", config_dir={conf!r}):
        cfg = compose(config_name="config", overrides=["logger=none"])
    with open_dict(cfg):
        cfg.paths.output_dir = tempfile.mkdtemp()
    run(cfg)
else:
    from common import cifar_shaped_workload, fit_seconds_per_step
    from unlearn.callbacks import Unlearner
    cbs = [Unlearner(verify_every=100)] if mode == "twin" else []
    fit_seconds_per_step(cifar_shaped_workload(32), 200, cbs, 0)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child started by a big
# parent would report the parent's peak
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""


def peak_mib(mode: str) -> float:
    code = CHILD.format(bench=str(ROOT / "bench"), mode=mode, conf=str(ROOT / "conf"))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def measure() -> dict:
    return {
        "default_run_peak_mib": peak_mib("default"),
        "window_with_twin_peak_mib": peak_mib("twin"),
        "window_without_twin_peak_mib": peak_mib("plain"),
    }


if __name__ == "__main__":
    json.dump(measure(), sys.stdout, indent=2)
