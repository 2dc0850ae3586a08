"""σ of one trained CPU-preset model under the choices that separate the two σ protocols.

docs/fidelity.md: the paper's e came from the reference code's σ — sqrt of the signed top
eigenvalue, eval mode, a fixed 512-sample batch, tolerance 1e-3 — while the default is
the spectral norm on the current batch in train mode. This script brings a preset's
model to M_N (through the pretrain cache, as a run would), then estimates σ on the first
window batch in train and in eval mode (|λ| and sqrt(λ_top) from the same estimate), and
on a seeded fixed 512-sample subset in eval mode at tol 1e-3, and prints one JSON line.
The mode is switched on a deep copy, so nothing here touches the model a run would train.

    python bench/sigma_protocols.py +experiment=cifar10_small_resnet18 data.npz=/path/to/cifar10.npz
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import torch
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from unlearn.config.checks import resolve_steps  # noqa: E402
from unlearn.experiment.preflight import compose_run  # noqa: E402
from unlearn.experiment.pretrain import PRETRAIN_STREAM, WINDOW_STREAM, pretrain  # noqa: E402
from unlearn.math.hessian import functional_loss, hessian_spectrum  # noqa: E402
from unlearn.module import UnlearnModule  # noqa: E402


def main(overrides: list[str]) -> dict:
    cfg = compose_run([*overrides, "logger=none"])
    data = instantiate(cfg.data)
    data.setup("fit")
    pre = data.stream(cfg.pretrain_batch_size, cfg.seed, PRETRAIN_STREAM)
    N = resolve_steps(cfg.N, cfg.N_epochs, pre.steps_per_epoch)
    module = UnlearnModule(
        net=instantiate(cfg.model),
        objective=instantiate(cfg.loss),
        optimizer=instantiate(cfg.optimizer),
        num_classes=data.num_classes,
        seed=cfg.seed,
    )
    info = pretrain(cfg, module, data, pre, N)
    objective = module.objective
    x, y, _ = data.batch(data.stream(cfg.batch_size, cfg.seed, WINDOW_STREAM).indices(0))
    g = torch.Generator().manual_seed(cfg.seed)
    fixed = torch.randperm(data.num_train, generator=g)[:512]
    x512, y512, _ = data.batch(fixed)
    out: dict = {"N": N, "pretrain_cache": info["pretrain_cache"]}
    settings = [
        ("current_batch_train", x, y, True, float(cfg.sigma.tol)),
        ("current_batch_eval", x, y, False, float(cfg.sigma.tol)),
        ("fixed512_eval_tol1e-3", x512, y512, False, 1e-3),
    ]
    for name, bx, by, train, tol in settings:
        net = copy.deepcopy(module.net).train(train)
        est = hessian_spectrum(
            net, functional_loss(objective, bx, by), max_iter=100, tol=tol, method="lanczos"
        )
        out[name] = {
            "spectral_norm": float(est.value("spectral_norm")),
            "sqrt_top_eig": float(est.value("sqrt_top_eig")),
            "iterations": est.iterations,
        }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
