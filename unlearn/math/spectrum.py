"""The Hessian spectrum beyond σ, from Hessian-vector products only.

- `top_k`: the k eigenpairs of largest |λ| by Lanczos with full reorthogonalisation.
- `hutchinson_trace`: tr(H) ≈ mean of zᵀHz over seeded Rademacher probes z, with the
  standard error of that mean.
- `spectral_density`: stochastic Lanczos quadrature (Ubaru, Chen and Saad 2017; the
  method pyhessian's `density` uses): for each seeded unit probe, m Lanczos steps give
  nodes (the Ritz values) and weights (squared first components of the Ritz vectors)
  with Σ w f(node) = vᵀ f(H) v; averaged over probes, a quadrature of the density.

Pure functions on an `hvp(v) -> Hv` callable (see `unlearn.math.hvp.BatchHessian`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from unlearn.math.hessian import start_vector
from unlearn.math.hvp import Vector, dot

HVP = Callable[[Vector], Vector]


def _norm(v: Vector) -> Tensor:
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(v)))


def _rademacher(like: Vector, gen: torch.Generator) -> Vector:
    return [
        (torch.randint(0, 2, x.shape, generator=gen) * 2 - 1).to(x.dtype).to(x.device) for x in like
    ]


def _tridiagonal(alphas: list[Tensor], betas: list[Tensor]) -> np.ndarray:
    a = torch.stack(alphas).double().cpu().numpy()
    T = np.diag(a)
    if len(a) > 1:
        b = torch.stack(betas[: len(a) - 1]).double().cpu().numpy()
        T += np.diag(b, 1) + np.diag(b, -1)
    return T


class _Lanczos:
    """Lanczos with full reorthogonalisation from a unit start vector `q`."""

    def __init__(self, hvp: HVP, q: Vector) -> None:
        self.hvp, self.q = hvp, q
        self.basis: list[Vector] = []
        self.alphas: list[Tensor] = []
        self.betas: list[Tensor] = []

    def step(self) -> float:
        """One product; returns β (0 when the Krylov space became invariant)."""
        q = self.q
        self.basis.append(q)
        r = self.hvp(q)
        self.alphas.append(dot(q, r))
        for _ in range(2):  # twice is enough (Parlett's rule)
            for b in self.basis:
                torch._foreach_add_(r, b, alpha=-dot(b, r))
        beta = _norm(r)
        self.betas.append(beta)
        self.q = torch._foreach_div(r, beta) if float(beta) > 0 else r
        return float(beta)

    def ritz(self) -> tuple[np.ndarray, np.ndarray]:
        return np.linalg.eigh(_tridiagonal(self.alphas, self.betas))

    def vector(self, coefs: np.ndarray) -> Vector:
        out = [torch.zeros_like(x) for x in self.basis[0]]
        for c, b in zip(coefs.tolist(), self.basis, strict=True):
            torch._foreach_add_(out, b, alpha=c)
        torch._foreach_div_(out, _norm(out))
        return out


@dataclass(frozen=True)
class TopK:
    """The k eigenpairs of largest |λ|, largest first, and the products spent."""

    values: list[float]
    vectors: list[Vector]
    products: int


def top_k(
    hvp: HVP,
    like: Vector,
    k: int = 1,
    max_iter: int = 100,
    tol: float = 1e-4,
    seed: int = 0,
    init: Vector | None = None,
) -> TopK:
    """Lanczos until each of the k largest-|λ| Ritz pairs has residual ‖Hq − θq‖ ≤ tol · |θ|
    (an invariant Krylov space: all 0), or `max_iter` products (at least k + 1). `init`, a
    warm start, is mixed with seeded noise (`start_vector`: never the whole start)."""
    gen = torch.Generator().manual_seed(seed)
    lz = _Lanczos(hvp, start_vector(like, gen, init))
    cap = max(max_iter, k + 1)
    while True:
        beta = lz.step()
        n = len(lz.basis)
        if n < min(k + 1, cap) and beta > 0:
            continue
        values, vectors = lz.ritz()
        order = np.argsort(-np.abs(values))[:k]
        top = values[order]
        residuals = np.abs(beta * vectors[-1, order])
        if n >= cap or bool(np.all(residuals <= tol * np.abs(top))):
            break
    return TopK(
        values=[float(v) for v in top],
        vectors=[lz.vector(vectors[:, i]) for i in order],
        products=len(lz.basis),
    )


@dataclass(frozen=True)
class Trace:
    """Hutchinson's estimate, its standard error and the products spent."""

    value: float
    standard_error: float
    products: int


def hutchinson_trace(hvp: HVP, like: Vector, probes: int = 20, seed: int = 0) -> Trace:
    """tr(H) ≈ (1/n) Σ zᵀHz, z Rademacher (seeded); SE = sample std / √n."""
    if probes < 1:
        raise ValueError(f"probes={probes}; allowed: >= 1")
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(probes):
        z = _rademacher(like, gen)
        samples.append(dot(z, hvp(z)))
    s = torch.stack(samples).double().cpu()
    se = float(s.std(correction=1)) / math.sqrt(probes) if probes > 1 else float("nan")
    return Trace(float(s.mean()), se, probes)


@dataclass(frozen=True)
class Density:
    """SLQ quadrature: per probe, nodes and weights (each probe's weights sum to 1)."""

    nodes: list[list[float]]
    weights: list[list[float]]
    products: int

    def smoothed(self, grid: np.ndarray, width: float) -> np.ndarray:
        """The density on `grid`, each node a Gaussian of std `width`, averaged over probes."""
        out = np.zeros_like(grid, dtype=float)
        for nodes, weights in zip(self.nodes, self.weights, strict=True):
            for x, w in zip(nodes, weights, strict=True):
                out += w * np.exp(-((grid - x) ** 2) / (2 * width**2))
        return out / (len(self.nodes) * width * math.sqrt(2 * math.pi))


def spectral_density(
    hvp: HVP, like: Vector, steps: int = 30, probes: int = 1, seed: int = 0
) -> Density:
    """Stochastic Lanczos quadrature with `probes` seeded Rademacher starts of `steps` each."""
    if steps < 1 or probes < 1:
        raise ValueError(f"steps={steps}, probes={probes}; allowed: >= 1")
    gen = torch.Generator().manual_seed(seed)
    nodes, weights, products = [], [], 0
    for _ in range(probes):
        q = _rademacher(like, gen)
        torch._foreach_div_(q, _norm(q))
        lz = _Lanczos(hvp, q)
        while len(lz.basis) < steps and lz.step() > 0:
            pass
        values, vectors = lz.ritz()
        products += len(lz.basis)
        nodes.append(values.tolist())
        weights.append((vectors[0, :] ** 2).tolist())
    return Density(nodes, weights, products)
