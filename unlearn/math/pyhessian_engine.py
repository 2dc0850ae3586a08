"""pyhessian as a reference σ engine, fenced so that it leaves no trace on training.

pyhessian switches the model to eval mode, leaves create_graph gradients in `.grad`
and draws its start vector from the global RNG. The fence keeps the mode, restores
`.grad` and the buffers, and runs it in a seeded RNG scope.
"""

from __future__ import annotations

import importlib
import warnings

import torch
from torch import Tensor, nn

from unlearn.math.krylov import SpectrumEstimate
from unlearn.runtime.rng import seeded_scope


class _ModeLocked(nn.Module):
    """Forwards to `net` and ignores `train()`/`eval()`, so pyhessian cannot flip the mode."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def train(self, mode: bool = True) -> _ModeLocked:  # noqa: ARG002 - mode is ignored on purpose
        return self

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def pyhessian_spectrum(
    net: nn.Module,
    objective: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    max_iter: int = 100,
    tol: float = 1e-4,
    seed: int = 0,
) -> SpectrumEstimate:
    """Top eigenpair of the batch Hessian by pyhessian's power iteration (σ = |λ|)."""
    # the module, not the class of the same name that pyhessian/__init__ exports
    pyhessian_module = importlib.import_module("pyhessian.hessian")

    products = 0
    original_hvp = pyhessian_module.hessian_vector_product

    def counted_hvp(*args: object) -> list[Tensor]:
        nonlocal products
        products += 1
        return original_hvp(*args)

    params = [p for p in net.parameters() if p.requires_grad]
    saved_grads = [p.grad for p in params]
    saved_buffers = {n: b.clone() for n, b in net.named_buffers()}
    try:
        pyhessian_module.hessian_vector_product = counted_hvp  # count its products
        for p in params:
            p.grad = None
        with seeded_scope(seed, x.device), torch.enable_grad():

            def criterion(outputs: Tensor, targets: Tensor) -> Tensor:
                return objective.batch_loss(outputs, targets, params)

            with warnings.catch_warnings():  # its backward(create_graph=True); .grad is restored
                warnings.filterwarnings("ignore", message=".*create_graph=True.*")
                engine = pyhessian_module.hessian(
                    _ModeLocked(net), criterion, data=(x, y), cuda=x.is_cuda
                )
                values, vectors = engine.eigenvalues(maxIter=max_iter, tol=tol, top_n=1)
    finally:
        pyhessian_module.hessian_vector_product = original_hvp
        for p, g in zip(params, saved_grads, strict=True):
            p.grad = g
        with torch.no_grad():
            for n, b in net.named_buffers():
                b.copy_(saved_buffers[n])
    lam = torch.tensor(values[0], dtype=x.dtype if x.is_floating_point() else torch.float32)
    return SpectrumEstimate(
        norm=lam.abs(), rayleigh=lam, iterations=products, vector=[v.detach() for v in vectors[0]]
    )
