"""HessianSpectrum: σ_i, the spectral norm of the batch Hessian of the training objective.

Probes at steps k, 2k, … and the last step, on the batch of that step (`batch="current"`)
or on one seeded fixed subset of the training set (`batch="fixed"`, the reference code's
512 samples), at the weights after it (`at="current"`) or at w_0 (`at="initial"`, as eq. 6
literally reads), with the model in its training mode (`mode="train"`) or in eval mode
(`mode="eval"`: BatchNorm on its running statistics, no dropout; the module's modes are
restored after the probe). The probe leaves no trace on training: see `unlearn.math.hessian`.

Example:
    >>> trainer = L.Trainer(callbacks=[HessianSpectrum(every_n_steps=400)])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor, nn
from typing_extensions import override

from unlearn.callbacks.contract import check_module
from unlearn.callbacks.schedule import is_event, log_to_loggers, window_step
from unlearn.config.schema import DEFINITIONS, ENGINES  # the choices, declared beside the fields
from unlearn.config.schema import SIGMA_AT as AT
from unlearn.config.schema import SIGMA_BATCHES as BATCHES
from unlearn.config.schema import SIGMA_MODES as MODES
from unlearn.math.hessian import functional_loss, hessian_spectrum
from unlearn.math.krylov import SigmaDefinition, SpectrumEstimate
from unlearn.math.params import snapshot
from unlearn.math.pyhessian_engine import pyhessian_spectrum
from unlearn.runtime.rng import derive_seed

FIXED_BATCH_STREAM = 0x51  # separates the fixed batch's draw from every other seed of the run


@contextlib.contextmanager
def eval_mode(net: nn.Module, on: bool) -> Iterator[None]:
    """`net` in eval mode within the scope when `on`; every submodule's own mode after it."""
    if not on:
        yield
        return
    modes = [(m, m.training) for m in net.modules()]
    net.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def fixed_subset(num_samples: int, size: int, seed: int) -> Tensor:
    """`size` sample indices drawn once from the training set (all of it when smaller)."""
    gen = torch.Generator().manual_seed(derive_seed(seed, FIXED_BATCH_STREAM))
    return torch.randperm(num_samples, generator=gen)[: min(size, num_samples)]


class HessianSpectrum(L.Callback):
    """Logs ``sigma`` and keeps σ_avg, the mean of the σ_i sampled so far.

    Args:
        every_n_steps: k ≥ 1.
        engine: ``power`` (own double-backward power iteration), ``lanczos`` (own, same
            residual test, fewer Hessian-vector products) or ``pyhessian`` (reference).
        definition: ``spectral_norm`` (max |λ|) or ``sqrt_top_eig`` (the reference code's).
        at: ``current`` weights or ``initial`` (w_0).
        mode: ``train`` (the module's own mode) or ``eval`` (the reference code's).
        batch: ``current`` (the step's batch) or ``fixed`` (`batch_size` training samples,
            drawn once with `seed`, the same at every event).
        batch_size: size of the fixed batch.
        max_iter: cap on Hessian-vector products per estimate.
        tol: an eigenpair counts as converged when ‖Hq − θq‖ ≤ tol·|θ| (own engines;
            pyhessian's own test: relative change of its eigenvalue).
        warm_start: start each estimate from the previous top vector mixed with seeded
            noise, half and half in squared norm (own engines; never the whole start).
        seed: seed of the probe's own randomness.
    """

    def __init__(
        self,
        every_n_steps: int = 1,
        engine: Literal["power", "lanczos", "pyhessian"] = "lanczos",
        definition: SigmaDefinition = "spectral_norm",
        at: Literal["current", "initial"] = "current",
        mode: Literal["train", "eval"] = "train",
        batch: Literal["current", "fixed"] = "current",
        batch_size: int = 512,
        max_iter: int = 100,
        tol: float = 1e-4,
        warm_start: bool = True,
        seed: int = 0,
    ) -> None:
        for key, value, allowed in (
            ("engine", engine, ENGINES),
            ("definition", definition, DEFINITIONS),
            ("at", at, AT),
            ("mode", mode, MODES),
            ("batch", batch, BATCHES),
        ):
            if value not in allowed:
                raise ValueError(f"sigma.{key}={value!r}; allowed: {', '.join(allowed)}")
        if every_n_steps < 1 or max_iter < 1 or tol <= 0 or batch_size < 1:
            raise ValueError(
                f"every_n_steps={every_n_steps}, max_iter={max_iter}, tol={tol}, "
                f"batch_size={batch_size}; allowed: every_n_steps >= 1, max_iter >= 1, "
                "tol > 0, batch_size >= 1"
            )
        self.every_n_steps = every_n_steps
        self.engine = engine
        self.definition = definition
        self.at = at
        self.mode = mode
        self.batch = batch
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.seed = seed
        self.w0: dict[str, Tensor] = {}
        self.steps: list[int] = []
        self.values: list[float] = []
        self.iterations: list[int] = []
        self._vector: list[Tensor] | None = None
        self._fixed: tuple[Tensor, Tensor] | None = None

    @property
    def state_key(self) -> str:
        return f"HessianSpectrum[every_n_steps={self.every_n_steps},engine={self.engine}]"

    @property
    def sigma_avg(self) -> float:
        """Mean of the σ_i sampled so far (NaN before the first)."""
        return sum(self.values) / len(self.values) if self.values else float("nan")

    @override
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        check_module(pl_module, type(self).__name__)  # what is missing, before any step

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.at == "initial" and trainer.global_step == 0:  # resumed: w_0 is restored
            self.w0 = snapshot(pl_module.net)
        if self.batch == "fixed":
            dataset = trainer.train_dataloader.dataset
            idx = fixed_subset(len(dataset), self.batch_size, self.seed)
            x, y, _ = dataset.__getitems__(idx.tolist())
            self._fixed = (x.to(pl_module.device), y.to(pl_module.device))

    @property
    def protocol(self) -> dict[str, Any]:
        """How σ was estimated, for results.json."""
        size = None if self._fixed is None else int(self._fixed[1].shape[0])
        return {
            "engine": self.engine,
            "definition": self.definition,
            "at": self.at,
            "mode": self.mode,
            "batch": self.batch,
            "batch_size": size,
            "max_iter": self.max_iter,
            "tol": self.tol,
        }

    def estimate(
        self, pl_module: L.LightningModule, x: Tensor, y: Tensor, step: int
    ) -> SpectrumEstimate:
        """One σ estimate on batch (x, y) for the configured engine, point and mode."""
        with eval_mode(pl_module.net, self.mode == "eval"):
            return self._estimate(pl_module, x, y, derive_seed(self.seed, step))

    def _estimate(
        self, pl_module: L.LightningModule, x: Tensor, y: Tensor, seed: int
    ) -> SpectrumEstimate:
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
        x, y = self._fixed if self._fixed is not None else (batch[0], batch[1])
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
