"""The project against the reference code's verification loop, re-stated here in plain PyTorch
from its definitions (SPEC.md, "The reference code's σ protocol"; paper §8.3):

- a fixed batch order, the same every epoch, so the forgotten first batch x̂_1 recurs;
- σ = sqrt of pyhessian's top eigenvalue, the model in eval mode, on one fixed batch;
- the rolling e(s) = η² ‖w_s − w_0‖ mean(σ so far) (s − 1)/2 at every tracking event;
- the twin skips x̂_1 wherever it comes; w'' = w_t + (epochs)·η·∇L(w_0; x̂_1);
- v = ‖w'_t − w''‖.

The project, with ``sigma=reference``, ``data.reshuffle=false``-style order,
``forget=first_batch`` and ``unlearn.w_ref=initial``, must give the same numbers.
"""

import copy
import importlib
import math

import pytest
import torch
from hydra.utils import instantiate
from torch import nn
from window_fit import fit_window

from unlearn.callbacks.hessian_spectrum import fixed_subset
from unlearn.math.losses import TrainingObjective
from unlearn.models import MLP
from unlearn.module import UnlearnModule
from unlearn.runtime.rng import derive_seed

N_SAMPLES, D, C, B, T, LR, EVERY, FIXED = 24, 4, 3, 8, 7, 0.2, 2, 16  # 3 steps an epoch


def _flat(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def _reference_loop(net0, x, y, order, fixed):
    """The reference verification loop's definitions, on plain PyTorch and pyhessian."""
    hessian = importlib.import_module("pyhessian.hessian").hessian
    ce = nn.CrossEntropyLoss()
    batches = [order[i : i + B] for i in range(0, len(order), B)]
    first = batches[0]

    def train(skip_first):
        net = copy.deepcopy(net0).train()
        opt = torch.optim.SGD(net.parameters(), lr=LR)
        sigmas, errors = [], []
        for s in range(1, T + 1):
            batch = batches[(s - 1) % len(batches)]
            if not (skip_first and batch is first):
                opt.zero_grad()
                ce(net(x[batch]), y[batch]).backward()
                opt.step()
            if skip_first or not (s % EVERY == 0 or s == T):
                continue
            torch.manual_seed(derive_seed(0, s))  # the start vector the project draws
            top = hessian(net, ce, data=(x[fixed], y[fixed]), cuda=False).eigenvalues(tol=1e-3)
            net.train()  # pyhessian left it in eval mode
            sigmas.append(math.sqrt(top[0][0]))
            drift = (_flat(net) - _flat(net0)).norm().item()
            errors.append(LR**2 * drift * (sum(sigmas) / len(sigmas)) * (s - 1) / 2)
        return net, sigmas, errors

    main, sigmas, errors = train(skip_first=False)
    twin, _, _ = train(skip_first=True)
    start = copy.deepcopy(net0).train()
    grads = torch.autograd.grad(ce(start(x[first]), y[first]), list(start.parameters()))
    epochs = sum(1 for s in range(T) if s % len(batches) == 0)
    w2 = _flat(main) + epochs * LR * torch.cat([g.flatten() for g in grads])
    return sigmas, errors, (_flat(twin) - w2).norm().item(), _flat(twin)


def test_project_with_sigma_reference_reproduces_the_reference_loop(tmp_path):
    from conftest import compose_config

    cfg = compose_config(
        [
            "sigma=reference",
            f"sigma.batch_size={FIXED}",
            f"track_every={EVERY}",
            "verify_every=1",
            "forget=first_batch",
            "unlearn.w_ref=initial",
            "gamma=0",
        ],
        tmp_path,
    )
    assert (cfg.sigma.engine, cfg.sigma.definition, cfg.sigma.mode, cfg.sigma.batch) == (
        "pyhessian",
        "sqrt_top_eig",
        "eval",
        "fixed",
    )
    assert cfg.sigma.tol == 1e-3
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_SAMPLES, D, generator=g)
    y = torch.arange(N_SAMPLES) % C
    torch.manual_seed(0)
    net = MLP(D, C, hidden=[6], batch_norm=True)  # eval mode matters: BatchNorm
    net0 = copy.deepcopy(net)
    module = UnlearnModule(net, TrainingObjective(), lambda p: torch.optim.SGD(p, lr=LR), C)
    callbacks = [instantiate(c) for c in cfg.callbacks.values()]
    stream = fit_window(module, x, y, T, callbacks, B, reshuffle=False, precision="32-true")
    drift, spectrum, error, unlearner = callbacks
    fixed = fixed_subset(N_SAMPLES, FIXED, cfg.seed)

    sigmas, errors, v, twin = _reference_loop(net0, x, y, stream.permutation(0), fixed)
    assert spectrum.steps == [2, 4, 6, 7] and len(unlearner.records) == 3  # x̂_1 came 3 times
    assert spectrum.values == pytest.approx(sigmas, rel=1e-5)
    assert error.values == pytest.approx(errors, rel=1e-5)
    assert torch.allclose(_flat(unlearner.twin.net), twin, rtol=1e-5, atol=1e-7)
    assert unlearner.values[-1] == pytest.approx(v, rel=1e-4)
    assert spectrum.protocol["mode"] == "eval" and spectrum.protocol["batch_size"] == FIXED
