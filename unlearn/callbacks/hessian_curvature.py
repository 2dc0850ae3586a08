"""HessianCurvature: σ and, at the same events, the rest of the Hessian's spectrum.

A `HessianSpectrum` (σ, σ_avg, same schedule, batch and point) that also logs the top-k
eigenvalues (Lanczos; with k = 1 they are σ's own estimate, with k > 1 σ is read off the
top-k run, so nothing is computed twice), the trace (Hutchinson, seeded, with its
standard error) and the spectral density (stochastic Lanczos quadrature). The latest
top-k eigenpairs are what `damped_gradient` damps along (`latest_top_k`). Every product
is counted (`products`). Math in `unlearn.math.spectrum`; pyhessian is the cross-check
(tests/test_spectrum.py).

Example:
    >>> curvature = HessianCurvature(10, top_k=5, trace_probes=10)
    >>> trainer = L.Trainer(callbacks=[curvature])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import Tensor
from typing_extensions import override

from unlearn.callbacks.hessian_spectrum import HessianSpectrum
from unlearn.callbacks.schedule import log_to_loggers
from unlearn.math.hessian import functional_loss
from unlearn.math.hvp import BatchHessian, Vector
from unlearn.math.krylov import SpectrumEstimate
from unlearn.math.params import trainable
from unlearn.math.spectrum import hutchinson_trace, spectral_density, top_k
from unlearn.runtime.rng import derive_seed


class HessianCurvature(HessianSpectrum):
    """Args (beside `HessianSpectrum`'s):
    top_k: eigenpairs of largest |λ| per event (k ≥ 1).
    trace_probes: Rademacher probes of the trace (0: no trace).
    density_steps: Lanczos steps per density probe (0: no density).
    density_probes: independent probes of the density.
    """

    def __init__(
        self,
        *args: Any,
        top_k: int = 1,
        trace_probes: int = 0,
        density_steps: int = 0,
        density_probes: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if top_k < 1 or trace_probes < 0 or density_steps < 0 or density_probes < 1:
            raise ValueError(
                f"top_k={top_k}, trace_probes={trace_probes}, density_steps={density_steps}, "
                f"density_probes={density_probes}; allowed: top_k >= 1, trace_probes >= 0, "
                "density_steps >= 0, density_probes >= 1"
            )
        if top_k > 1 and self.engine != "lanczos":
            raise ValueError(f"spectrum.top_k={top_k} needs sigma.engine=lanczos")
        self.top_k = top_k
        self.trace_probes = trace_probes
        self.density_steps = density_steps
        self.density_probes = density_probes
        self.event_steps: list[int] = []
        self.top_values: list[list[float]] = []
        self.traces: list[float] = []
        self.trace_errors: list[float] = []
        self.densities: list[dict[str, list[list[float]]]] = []
        self.products = 0  # all Hessian-vector products of this callback (σ's included)
        self._top: tuple[list[float], list[Vector]] | None = None

    def latest_top_k(self) -> tuple[list[float], list[Vector]] | None:
        """(λ_1..λ_k, v_1..v_k) of the latest event, largest |λ| first; None before the first."""
        return self._top

    def _hessian(self, pl_module: L.LightningModule, x: Tensor, y: Tensor, seed: int):
        point = self.w0 if self.at == "initial" else trainable(pl_module.net)
        loss = functional_loss(pl_module.objective, x, y)
        return BatchHessian(pl_module.net, loss, point, seed)

    @override
    def estimate(
        self, pl_module: L.LightningModule, x: Tensor, y: Tensor, step: int
    ) -> SpectrumEstimate:
        seed = derive_seed(self.seed, step)
        hessian = None
        if self.top_k > 1:
            hessian = self._hessian(pl_module, x, y, seed)
            init = self._vector if self.warm_start else None
            top = top_k(hessian, hessian.leaves, self.top_k, self.max_iter, self.tol, seed, init)
            lam = torch.tensor(top.values[0], dtype=torch.float64)
            est = SpectrumEstimate(lam.abs(), lam, top.products, top.vectors[0])
            values, vectors = top.values, top.vectors
        else:
            est = super().estimate(pl_module, x, y, step)
            self.products += est.iterations
            values, vectors = [float(est.rayleigh)], [est.vector]
        self._top = (values, vectors)
        metrics = {f"hessian_eig_{i + 1}": v for i, v in enumerate(values)}
        if self.trace_probes or self.density_steps:
            hessian = hessian or self._hessian(pl_module, x, y, seed)
        if self.trace_probes:
            trace = hutchinson_trace(hessian, hessian.leaves, self.trace_probes, seed + 1)
            self.traces.append(trace.value)
            self.trace_errors.append(trace.standard_error)
            metrics |= {"hessian_trace": trace.value, "hessian_trace_se": trace.standard_error}
        if self.density_steps:
            density = spectral_density(
                hessian, hessian.leaves, self.density_steps, self.density_probes, seed + 2
            )
            self.densities.append({"nodes": density.nodes, "weights": density.weights})
        if hessian is not None:
            self.products += hessian.products
        self.event_steps.append(step)
        self.top_values.append(values)
        log_to_loggers(pl_module.trainer, metrics, step)
        return est

    def curves(self) -> dict[str, list]:
        """results.json curves: per event, the top-k eigenvalues, trace (± SE), density."""
        return {
            "spectrum_step": self.event_steps,
            "hessian_top_eigenvalues": self.top_values,
            "hessian_trace": self.traces,
            "hessian_trace_se": self.trace_errors,
            "hessian_density": self.densities,
        }

    @override
    def state_dict(self) -> dict[str, Any]:
        extra = {k: getattr(self, k) for k in _STATE}
        return {**super().state_dict(), "curvature": extra, "top": self._top}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for k, v in state_dict.get("curvature", {}).items():
            setattr(self, k, v)
        self._top = state_dict.get("top")


_STATE = ("event_steps", "top_values", "traces", "trace_errors", "densities", "products")
