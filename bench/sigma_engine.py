"""σ engines at the same tolerance: Hessian-vector products per estimate and relative error.

Two sets, both deterministic (seeded; counts, no timings):
- `hard`: explicit symmetric operators (n = 400) whose λ₁ and λ₂ are 1-10 % apart, each
  estimated cold, from a warm start exactly on λ₂'s eigenvector, and from one near it
  (1 % of λ₁'s); at the default settings (max_iter 100, tol 1e-4). The case that made the
  old "relative change < tol" rule stop on λ₂ (issue 25).
- `workload`: a CIFAR-shaped small CNN trained for `events · gap` steps, σ at every `gap`
  steps, cold and warm-started from the previous estimate's vector, and pyhessian; error
  against a cold Lanczos run to 300 products.
`python bench/sigma_engine.py [hard]` prints the JSON (`hard`: the operator set only).
"""

from __future__ import annotations

import json
import statistics
import sys
from functools import partial

import torch

from unlearn.math.hessian import power_iteration
from unlearn.math.lanczos import lanczos

GAPS = (0.01, 0.02, 0.05, 0.10)
STARTS = ("cold", "on_lambda2", "near_lambda2")


def _operator(gap: float, seed: int, n: int = 400):
    """H = Q diag(10, 10(1 − gap), bulk in [−1, 8]) Qᵀ, and its first two eigenvectors."""
    eigs = torch.tensor([10.0, 10.0 * (1 - gap), *torch.linspace(-1.0, 8.0, n - 2).tolist()])
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64, generator=g))
    H = q @ torch.diag(eigs.double()) @ q.T
    return (lambda v: [H @ v[0]]), [torch.zeros(n, dtype=torch.float64)], q[:, 0], q[:, 1]


def measure_hard(seeds: int = 3, max_iter: int = 100, tol: float = 1e-4) -> dict:
    """Per engine: mean HVPs and max relative error over gaps × starts × seeds."""
    rows: dict[str, dict[str, list[float]]] = {}
    engines = {"lanczos": lanczos, "power": power_iteration}
    for gap in GAPS:
        for seed in range(seeds):
            hvp, like, v1, v2 = _operator(gap, seed)
            near = v2 + 0.01 * v1
            inits = {"cold": None, "on_lambda2": [v2], "near_lambda2": [near / near.norm()]}
            for start, init in inits.items():
                for name, engine in engines.items():
                    gen = torch.Generator().manual_seed(1000 + seed)
                    est = engine(hvp, like, max_iter, tol, gen, init)
                    for key in (name, f"{name}_{start}"):
                        row = rows.setdefault(key, {"hvps": [], "rel_error": []})
                        row["hvps"].append(est.iterations)
                        row["rel_error"].append(abs(est.norm.item() - 10.0) / 10.0)
    return {
        name: {
            "hvps_per_estimate": statistics.mean(r["hvps"]),
            "max_rel_error": max(r["rel_error"]),
            "estimates": len(r["hvps"]),
        }
        for name, r in rows.items()
    } | {"tolerance": tol, "max_iter": max_iter, "gaps": list(GAPS)}


def measure(events: int = 5, gap: int = 40, tol: float = 1e-4, max_iter: int = 200) -> dict:
    """The workload set (see the module docstring), and the hard set under `hard`."""
    from common import cifar_shaped_workload

    from unlearn.math.hessian import functional_loss, hessian_spectrum
    from unlearn.math.losses import TrainingObjective
    from unlearn.math.pyhessian_engine import pyhessian_spectrum

    work = cifar_shaped_workload(32)
    torch.manual_seed(0)
    net = work.make_net().train()
    objective = TrainingObjective()
    opt = torch.optim.SGD(net.parameters(), lr=work.lr)
    rows: dict[str, dict[str, list[float]]] = {}
    warm: dict[str, list | None] = {"power": None, "lanczos": None}
    for step, (x, y, _) in enumerate(work.loader(events * gap)):
        opt.zero_grad()
        objective.batch_loss(net(x), y, []).backward()
        opt.step()
        if (step + 1) % gap:
            continue
        loss = functional_loss(objective, x, y)
        ref = hessian_spectrum(net, loss, max_iter=300, tol=1e-10, method="lanczos").norm.item()
        kw = {"max_iter": max_iter, "tol": tol}
        runs = {
            "power_cold": partial(hessian_spectrum, net, loss, **kw),
            "power_warm": partial(hessian_spectrum, net, loss, **kw, init=warm["power"]),
            "lanczos_cold": partial(hessian_spectrum, net, loss, **kw, method="lanczos"),
            "lanczos_warm": partial(
                hessian_spectrum, net, loss, **kw, method="lanczos", init=warm["lanczos"]
            ),
            "pyhessian": partial(pyhessian_spectrum, net, objective, x, y, **kw),
        }
        for name, fn in runs.items():
            est = fn()
            if name.endswith("_warm"):
                warm[name.split("_")[0]] = est.vector
            row = rows.setdefault(name, {"hvps": [], "rel_error": []})
            row["hvps"].append(est.iterations)
            row["rel_error"].append(abs(est.norm.item() - ref) / ref)
    return {
        name: {
            "hvps_per_estimate": statistics.mean(r["hvps"]),
            "max_rel_error": max(r["rel_error"]),
            "median_rel_error": statistics.median(r["rel_error"]),
        }
        for name, r in rows.items()
    } | {"tolerance": tol, "events": events, "hard": measure_hard(tol=tol)}


if __name__ == "__main__":
    json.dump(measure_hard() if sys.argv[1:] == ["hard"] else measure(), sys.stdout, indent=2)
