"""σ engines at the same tolerance: Hessian-vector products and seconds per estimate for the
own power iteration and Lanczos (cold and warm-started from the previous top vector) and
pyhessian, and their error against a tight reference estimate."""

from __future__ import annotations

import json
import statistics
import sys
import time
from functools import partial

import torch
from common import cifar_shaped_workload

from unlearn.math.hessian import functional_loss, hessian_spectrum
from unlearn.math.losses import TrainingObjective
from unlearn.math.pyhessian_engine import pyhessian_spectrum


def measure(events: int = 5, gap: int = 40, tol: float = 1e-4, max_iter: int = 200) -> dict:
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
            start = time.perf_counter()
            est = fn()
            seconds = time.perf_counter() - start
            if name.endswith("_warm"):
                warm[name.split("_")[0]] = est.vector
            row = rows.setdefault(name, {"hvps": [], "seconds": [], "rel_error": []})
            row["hvps"].append(est.iterations)
            row["seconds"].append(seconds)
            row["rel_error"].append(abs(est.norm.item() - ref) / ref)
    return {
        name: {
            "hvps_per_estimate": statistics.mean(r["hvps"]),
            "seconds_per_estimate": statistics.median(r["seconds"]),
            "max_rel_error": max(r["rel_error"]),
            "median_rel_error": statistics.median(r["rel_error"]),
        }
        for name, r in rows.items()
    } | {"tolerance": tol, "events": events}


if __name__ == "__main__":
    json.dump(measure(), sys.stdout, indent=2)
