"""pyhessian's top-k eigenvalues, trace and density, fenced: the cross-check of
`unlearn.math.spectrum` (tests compare both with an exact eigendecomposition).

The fence is `pyhessian_engine`'s: the module's mode is locked, `.grad` and the buffers
are restored and the randomness is seeded. pyhessian's `density` calls `torch.eig`,
which torch removed (a stub that raises); inside the fence it gets `torch.linalg.eigh` in the old
calling convention (the tridiagonal is symmetric, so nothing is lost).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.math.pyhessian_engine import _ModeLocked
from unlearn.runtime.rng import seeded_scope


def _old_eig(T: Tensor, eigenvectors: bool = False) -> tuple[Tensor, Tensor]:
    values, vectors = torch.linalg.eigh(T)
    return torch.stack([values, torch.zeros_like(values)], 1), vectors


@contextlib.contextmanager
def fenced_pyhessian(
    net: nn.Module, objective: nn.Module, x: Tensor, y: Tensor, seed: int = 0
) -> Iterator[Any]:
    """A `pyhessian.hessian` on batch (x, y) that leaves no trace on `net` or the RNG."""
    module = importlib.import_module("pyhessian.hessian")
    params = [p for p in net.parameters() if p.requires_grad]
    saved_grads = [p.grad for p in params]
    saved_buffers = {n: b.clone() for n, b in net.named_buffers()}
    original_eig = getattr(torch, "eig", None)
    try:
        torch.eig = _old_eig  # type: ignore[attr-defined]
        for p in params:
            p.grad = None
        with seeded_scope(seed, x.device), torch.enable_grad():

            def criterion(outputs: Tensor, targets: Tensor) -> Tensor:
                return objective.batch_loss(outputs, targets, params)

            yield module.hessian(_ModeLocked(net), criterion, data=(x, y), cuda=x.is_cuda)
    finally:
        if original_eig is None:
            del torch.eig  # type: ignore[attr-defined]
        else:
            torch.eig = original_eig  # type: ignore[attr-defined]
        for p, g in zip(params, saved_grads, strict=True):
            p.grad = g
        with torch.no_grad():
            for n, b in net.named_buffers():
                b.copy_(saved_buffers[n])


def pyhessian_curvature(
    net: nn.Module,
    objective: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    top_k: int = 1,
    trace_iter: int = 100,
    density_steps: int = 30,
    density_probes: int = 1,
    tol: float = 1e-3,
    seed: int = 0,
) -> dict[str, Any]:
    """pyhessian's answers: ``top`` eigenvalues, ``trace`` (mean of its vᵀHv samples),
    ``trace_se`` and ``trace_samples``, density ``nodes`` and ``weights`` per probe."""
    with fenced_pyhessian(net, objective, x, y, seed) as engine:
        top, _ = engine.eigenvalues(maxIter=100, tol=tol, top_n=top_k)
        samples = engine.trace(maxIter=trace_iter, tol=tol)
        nodes, weights = engine.density(iter=density_steps, n_v=density_probes)
    s = torch.tensor(samples, dtype=torch.float64)
    se = float(s.std(correction=1) / len(s) ** 0.5) if len(s) > 1 else float("nan")
    return {
        "top": [float(v) for v in top],
        "trace": float(s.mean()),
        "trace_se": se,
        "trace_samples": len(s),
        "nodes": [[float(v) for v in run] for run in nodes],
        "weights": [[float(v) for v in run] for run in weights],
    }
