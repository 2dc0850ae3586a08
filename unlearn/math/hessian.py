"""Spectral norm σ = max |λ(H)| of the batch Hessian, by power iteration on Hessian-vector products.

The probe leaves no trace on training (docs/quantities.md, "σ: the Hessian's spectral norm"):
it runs the forward through `torch.func.functional_call` on detached leaves and cloned
buffers (so `.grad` and BatchNorm statistics stay put), inside a seeded RNG scope (so the
training stream does not move), and never touches the module's train/eval mode.

The gradient graph is built once per estimate (create_graph) and each power iteration
only differentiates it again, so one iteration costs one extra backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn
from torch.func import functional_call

from unlearn.math.krylov import SpectrumEstimate, _dot, _norm, start_vector
from unlearn.math.lanczos import lanczos
from unlearn.math.params import buffers_copy, trainable
from unlearn.runtime.rng import seeded_scope

LossFn = Callable[[nn.Module, dict[str, Tensor], dict[str, Tensor]], Tensor]


def power_iteration(
    hvp: Callable[[list[Tensor]], list[Tensor]],
    like: list[Tensor],
    max_iter: int = 100,
    tol: float = 1e-4,
    generator: torch.Generator | None = None,
    init: list[Tensor] | None = None,
) -> SpectrumEstimate:
    """Largest-magnitude eigenvalue of a symmetric operator given as a product with it.

    Stops on the residual of H² (whose top eigenspace holds both ±|λ|_max, so a ± pair
    converges too): ‖H²v − ‖Hv‖² v‖ ≤ tol · ‖Hv‖², read off the next product at no extra
    cost; or after `max_iter` products. A small change of ‖Hv‖ between iterations is no
    test: near a close λ₂ the iterate moves slowly while still far from λ₁.
    """
    v = start_vector(like, generator, init)
    hv = hvp(v)
    n = _norm(hv)
    it = 1
    while it < max_iter and float(n) > 0.0:
        v_next = torch._foreach_div(hv, n)
        hv_next = hvp(v_next)  # = H²v / ‖Hv‖
        it += 1
        residual = _norm(torch._foreach_sub(hv_next, [n * x for x in v]))  # ‖H²v − n²v‖ / n
        converged = float(residual) <= tol * float(n)
        v, hv, n = v_next, hv_next, _norm(hv_next)
        if converged:
            break
    rayleigh = _dot(v, hv)
    return SpectrumEstimate(norm=n.detach(), rayleigh=rayleigh.detach(), iterations=it, vector=v)


def hessian_spectrum(
    net: nn.Module,
    loss_fn: LossFn,
    params: dict[str, Tensor] | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-4,
    seed: int = 0,
    init: list[Tensor] | None = None,
    method: Literal["power", "lanczos"] = "power",
    first_check: int = 4,
) -> SpectrumEstimate:
    """σ of the Hessian of `loss_fn` at `params` (default: the current weights).

    Args:
        net: the module; its mode decides BatchNorm/dropout behaviour, as in training.
        loss_fn: ``loss_fn(net, params, buffers) -> scalar`` evaluating the batch objective
            with `torch.func.functional_call(net, (params, buffers), ...)`.
        params: the point to evaluate at; None means the current trainable parameters.
        max_iter: cap on Hessian-vector products.
        tol: relative residual at which an eigenpair counts as converged.
        seed: seeds both the start vector and any randomness in the forward (dropout).
        init: a warm start (a previous estimate's `vector`), mixed with seeded noise.
        method: ``power`` iteration or ``lanczos`` (same residual test, fewer products).
        first_check: Lanczos only: products before the first convergence check.
    """
    source = params if params is not None else trainable(net)
    leaves = {n: p.detach().requires_grad_(True) for n, p in source.items()}
    with seeded_scope(seed, next(iter(leaves.values())).device), torch.enable_grad():
        loss = loss_fn(net, leaves, buffers_copy(net))
        grads = torch.autograd.grad(loss, list(leaves.values()), create_graph=True)

    def hvp(v: list[Tensor]) -> list[Tensor]:
        return list(
            torch.autograd.grad(grads, list(leaves.values()), grad_outputs=v, retain_graph=True)
        )

    gen = torch.Generator().manual_seed(seed)
    if method == "lanczos":
        return lanczos(hvp, list(leaves.values()), max_iter, tol, gen, init, first_check)
    if method != "power":
        raise ValueError(f"method={method!r}; allowed: power, lanczos")
    return power_iteration(hvp, list(leaves.values()), max_iter, tol, gen, init)


def functional_loss(objective: nn.Module, x: Tensor, y: Tensor) -> LossFn:
    """A `LossFn` for a `TrainingObjective` on one batch (x, y)."""

    def loss_fn(net: nn.Module, params: dict[str, Tensor], buffers: dict[str, Tensor]) -> Tensor:
        outputs = functional_call(net, (params, buffers), (x,))
        return objective.batch_loss(outputs, y, params.values())

    return loss_fn
