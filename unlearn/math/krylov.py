"""What the top-eigenpair solvers share: the estimate they return, the start vector and the
dot product and norm of a vector held as a list of tensors (one per parameter).

Both `hessian.power_iteration` and `lanczos.lanczos` build on these, so they live below
both (the dispatcher in `hessian.py` imports `lanczos.py`, never the other way round).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

SigmaDefinition = Literal["spectral_norm", "sqrt_top_eig"]


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
