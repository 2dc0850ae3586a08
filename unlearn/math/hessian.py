"""Spectral norm σ = max |λ(H)| of the batch Hessian, by power iteration on Hessian-vector products.

The probe leaves no trace on training (docs/quantities.md, "σ: the Hessian's spectral norm"):
it runs the forward through `torch.func.functional_call` on detached leaves and cloned
buffers (so `.grad` and BatchNorm statistics stay put), inside a seeded RNG scope (so the
training stream does not move), and never touches the module's train/eval mode.

The gradient graph is built once per estimate (create_graph) and each power iteration
only differentiates it again, so one iteration costs one extra backward pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn
from torch.func import functional_call

from unlearn.math.params import buffers_copy, trainable
from unlearn.rng import seeded_scope

SigmaDefinition = Literal["spectral_norm", "sqrt_top_eig"]
LossFn = Callable[[nn.Module, dict[str, Tensor], dict[str, Tensor]], Tensor]


@dataclass(frozen=True)
class SpectrumEstimate:
    """One power-iteration result.

    Attributes:
        norm: ‖H‖₂ = |λ_dominant|, estimated as ‖Hv‖ for the converged unit v.
        rayleigh: vᵀHv, the signed dominant eigenvalue.
        iterations: Hessian-vector products used.
        vector: the converged unit vector (for warm starts).
    """

    norm: Tensor
    rayleigh: Tensor
    iterations: int
    vector: list[Tensor]

    def value(self, definition: SigmaDefinition = "spectral_norm") -> Tensor:
        """σ under the chosen definition; `sqrt_top_eig` is NaN when the top eigenvalue < 0."""
        if definition == "spectral_norm":
            return self.norm
        if definition == "sqrt_top_eig":
            return torch.sqrt(self.rayleigh)  # NaN for a negative eigenvalue, as it should be
        raise ValueError(f"sigma definition={definition!r}; allowed: spectral_norm, sqrt_top_eig")


def _dot(a: list[Tensor], b: list[Tensor]) -> Tensor:
    return torch.stack([(x * y).sum() for x, y in zip(a, b, strict=True)]).sum()


def _norm(a: list[Tensor]) -> Tensor:
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(a)))


WARM_NOISE = 0.5
"""Share of a warm start's squared norm given to seeded Gaussian noise. Why: the previous
event's top vector can sit on what is now λ₂'s eigenvector, with (almost) nothing along λ₁'s;
a Krylov space grown from it holds a converged λ₂ pair long before λ₁ appears, and no
stopping test can see a pair the space does not contain. The noise gives λ₁ its share."""


def start_vector(
    like: list[Tensor], generator: torch.Generator | None, init: list[Tensor] | None
) -> list[Tensor]:
    """A unit start vector: seeded Gaussian noise shaped like `like`, mixed with `init` (a
    warm start) when given, so that a warm start is never the whole start (`WARM_NOISE`)."""
    noise = [torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device) for x in like]
    torch._foreach_div_(noise, _norm(noise))
    if init is None:
        return noise
    v = [x.detach().clone() for x in init]
    torch._foreach_mul_(v, math.sqrt(1.0 - WARM_NOISE) / _norm(v))
    torch._foreach_add_(v, noise, alpha=math.sqrt(WARM_NOISE))
    torch._foreach_div_(v, _norm(v))
    return v


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
        from unlearn.math.lanczos import lanczos

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
