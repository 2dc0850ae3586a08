"""HessianSpectrum: σ_i, the spectral norm of the batch Hessian of the training objective.

Probes at steps k, 2k, … and the last step, on the batch of that step, at the weights
after it (`at="current"`) or at w_0 (`at="initial"`, as eq. 6 literally reads). The
probe leaves no trace on training: see `unlearn.math.hessian`.

Example:
    >>> trainer = L.Trainer(callbacks=[HessianSpectrum(every_n_steps=400)])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Literal

import lightning as L
from torch import Tensor
from typing_extensions import override

from unlearn.callbacks.schedule import is_event, log_to_loggers, window_step
from unlearn.math.hessian import (
    SigmaDefinition,
    SpectrumEstimate,
    functional_loss,
    hessian_spectrum,
)
from unlearn.math.params import snapshot
from unlearn.math.pyhessian_engine import pyhessian_spectrum
from unlearn.rng import derive_seed

ENGINES = ("power", "lanczos", "pyhessian")
DEFINITIONS = ("spectral_norm", "sqrt_top_eig")
AT = ("current", "initial")


class HessianSpectrum(L.Callback):
    """Logs ``sigma`` and keeps σ_avg, the mean of the σ_i sampled so far.

    Args:
        every_n_steps: k ≥ 1.
        engine: ``power`` (own double-backward power iteration), ``lanczos`` (own, same
            tolerance test, fewer Hessian-vector products) or ``pyhessian`` (reference).
        definition: ``spectral_norm`` (max |λ|) or ``sqrt_top_eig`` (the reference code's).
        at: ``current`` weights or ``initial`` (w_0).
        max_iter: cap on Hessian-vector products per estimate.
        tol: relative tolerance of the power iteration.
        warm_start: start each estimate from the previous top vector (own engine).
        seed: seed of the probe's own randomness.
    """

    def __init__(
        self,
        every_n_steps: int = 1,
        engine: Literal["power", "lanczos", "pyhessian"] = "lanczos",
        definition: SigmaDefinition = "spectral_norm",
        at: Literal["current", "initial"] = "current",
        max_iter: int = 100,
        tol: float = 1e-4,
        warm_start: bool = True,
        seed: int = 0,
    ) -> None:
        for key, value, allowed in (
            ("engine", engine, ENGINES),
            ("definition", definition, DEFINITIONS),
            ("at", at, AT),
        ):
            if value not in allowed:
                raise ValueError(f"sigma.{key}={value!r}; allowed: {', '.join(allowed)}")
        if every_n_steps < 1 or max_iter < 1 or tol <= 0:
            raise ValueError(
                f"every_n_steps={every_n_steps}, max_iter={max_iter}, tol={tol}; "
                "allowed: every_n_steps >= 1, max_iter >= 1, tol > 0"
            )
        self.every_n_steps = every_n_steps
        self.engine = engine
        self.definition = definition
        self.at = at
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.seed = seed
        self.w0: dict[str, Tensor] = {}
        self.steps: list[int] = []
        self.values: list[float] = []
        self.iterations: list[int] = []
        self._vector: list[Tensor] | None = None

    @property
    def state_key(self) -> str:
        return f"HessianSpectrum[every_n_steps={self.every_n_steps},engine={self.engine}]"

    @property
    def sigma_avg(self) -> float:
        """Mean of the σ_i sampled so far (NaN before the first)."""
        return sum(self.values) / len(self.values) if self.values else float("nan")

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.at == "initial" and trainer.global_step == 0:  # resumed: w_0 is restored
            self.w0 = snapshot(pl_module.net)

    def estimate(
        self, pl_module: L.LightningModule, x: Tensor, y: Tensor, step: int
    ) -> SpectrumEstimate:
        """One σ estimate on batch (x, y) for the configured engine and point."""
        seed = derive_seed(self.seed, step)
        if self.engine == "pyhessian":
            if self.at == "initial":
                raise ValueError("sigma.engine=pyhessian supports only sigma.at=current")
            return pyhessian_spectrum(
                pl_module.net,
                pl_module.objective,
                x,
                y,
                max_iter=self.max_iter,
                tol=self.tol,
                seed=seed,
            )
        return hessian_spectrum(
            pl_module.net,
            functional_loss(pl_module.objective, x, y),
            self.w0 if self.at == "initial" else None,
            max_iter=self.max_iter,
            tol=self.tol,
            seed=seed,
            init=self._vector if self.warm_start else None,
            method=self.engine,
            first_check=max(2, self.iterations[-1] - 2) if self.iterations else 4,
        )

    @override
    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = window_step(trainer)
        if not is_event(step, self.every_n_steps, trainer.max_steps):
            return
        x, y = batch[0], batch[1]
        est = self.estimate(pl_module, x, y, step)
        self._vector = est.vector
        sigma = float(est.value(self.definition))
        self.steps.append(step)
        self.values.append(sigma)
        self.iterations.append(est.iterations)
        log_to_loggers(trainer, {"sigma": sigma, "sigma_avg": self.sigma_avg}, step)

    @override
    def state_dict(self) -> dict[str, Any]:
        return {
            "w0": self.w0,
            "steps": self.steps,
            "values": self.values,
            "iterations": self.iterations,
            "vector": self._vector,
        }

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.w0 = state_dict["w0"]
        self.steps = state_dict["steps"]
        self.values = state_dict["values"]
        self.iterations = state_dict["iterations"]
        self._vector = state_dict["vector"]
