"""run(cfg): pretrain N steps, then a tracked window of t steps with the twin; write results.json.

Pure with respect to the process: everything comes from `cfg`, nothing from Hydra's
global state, so tests call it in-process with a composed config.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from unlearn.callbacks import HessianSpectrum, Unlearner, UnlearningError, WeightDrift
from unlearn.callbacks.stop_on_signal import StopOnSignal
from unlearn.callbacks.trainer import make_trainer
from unlearn.callbacks.training_curve import TrainingCurve
from unlearn.config.checks import (
    check_data,
    check_model_fits,
    check_window,
    resolve_steps,
    validate,
)
from unlearn.data.arrays import ArrayDataModule
from unlearn.experiment import compare
from unlearn.experiment.checkpointing import (
    WindowCheckpoint,
    check_output_dir,
    checkpoint_dir,
    find_resume,
    identity,
    remove_checkpoints,
)
from unlearn.experiment.objective import objective_value
from unlearn.experiment.pretrain import curve_settings, pretrain
from unlearn.experiment.results import FinishedRunError, ResultsNotWritten, write_results
from unlearn.forget import check_forget
from unlearn.methods import check_method, check_retain
from unlearn.metrics import field_metrics
from unlearn.metrics.report import original_accuracies, with_weights
from unlearn.module import UnlearnModule
from unlearn.privacy import check_prs, privacy_risk
from unlearn.runtime import interrupt
from unlearn.runtime.determinism import prepare as prepare_determinism
from unlearn.runtime.rng import PRETRAIN_STREAM, WINDOW_STREAM
from unlearn.runtime.store import compute_material

log = logging.getLogger(__name__)
for _name in ("lightning.pytorch", "lightning.fabric", "lightning"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# Lightning's advice that does not apply here: one loader per phase, metrics sent by callbacks.
for _message in (
    ".*smaller than the logging interval.*",
    ".*does not have many workers.*",
    ".*LeafSpec.*is deprecated.*",
    ".*dataloader is not resumable.*",  # the window's sampler restarts at the restored step
    ".*The `srun` command is available on your system.*",  # sweeps reach SLURM via submitit
):
    warnings.filterwarnings("ignore", message=_message)


def _instantiate_dict(node: DictConfig | None) -> list[Any]:
    """Instantiate each entry of a name → config mapping (callbacks, loggers)."""
    if not node:
        return []
    return [instantiate(v) for v in node.values() if isinstance(v, DictConfig) and "_target_" in v]


def _first(callbacks: list, kind: type) -> Any:
    return next((cb for cb in callbacks if isinstance(cb, kind)), None)


def _curves(callbacks: list) -> dict[str, list]:
    drift, spectrum = _first(callbacks, WeightDrift), _first(callbacks, HessianSpectrum)
    error, unlearner = _first(callbacks, UnlearningError), _first(callbacks, Unlearner)
    return {
        "step": drift.steps if drift else [],
        "sigma": spectrum.values if spectrum else [],
        "weight_drift": drift.values if drift else [],
        "unlearning_error": error.values if error else [],
        "verify_step": unlearner.steps if unlearner else [],
        "verification_error": unlearner.values if unlearner else [],
        "verification_error_no_unlearning": unlearner.values_none if unlearner else [],
        **(spectrum.curves() if hasattr(spectrum, "curves") else {}),  # top-k, trace, density
    }


def _last(values: list[float]) -> float:
    return values[-1] if values else float("nan")


def _finish_restore(callbacks: list, trainer: L.Trainer, module: UnlearnModule) -> None:
    """What a resume at step t still needs: Lightning skips a finished loop, and with it
    the `on_train_start` hooks that hand the restored state to the twin."""
    for cb in callbacks:
        cb.on_train_start(trainer, module)
    unlearner = _first(callbacks, Unlearner)
    if unlearner and unlearner.final_unlearned is None and unlearner.twin is not None:
        unlearner.final_unlearned = [
            w.detach().clone() for w in unlearner.unlearned_weights(module)
        ]


def run(cfg: DictConfig) -> dict[str, Any]:
    """Run one job and return what it measured (also written to `paths.output_dir`)."""
    start = time.perf_counter()
    prepare_determinism()  # cuBLAS's reproducible workspace, before any CUDA work
    interrupt.at("setup")
    validate(cfg)
    check_method(cfg)
    compare.check(cfg)  # unlearn.compare: several methods on this window
    out_dir = Path(cfg.paths.output_dir)
    run_id = identity(cfg)
    finished = check_output_dir(out_dir, run_id)  # a finished run is returned, never rerun
    if finished is not None:
        return finished
    resume = find_resume(out_dir, run_id) if cfg.get("checkpoint_every") else None
    L.seed_everything(cfg.seed, workers=True, verbose=False)

    data: ArrayDataModule = instantiate(cfg.data)
    data.setup("fit")
    check_data(cfg, data.num_train)
    check_forget(cfg.forget, data.train_set.y)
    check_prs(cfg, data.train_set.y, data.test_set.y)
    pre_stream = data.stream(cfg.pretrain_batch_size, cfg.seed, PRETRAIN_STREAM)
    win_stream = data.stream(cfg.batch_size, cfg.seed, WINDOW_STREAM)
    N = resolve_steps(cfg.N, cfg.N_epochs, pre_stream.steps_per_epoch)
    t = resolve_steps(cfg.t, cfg.t_epochs, win_stream.steps_per_epoch)
    check_window(t, N)
    first_batch = win_stream.indices(0)
    forget = instantiate(cfg.forget).resolve(first_batch, data.train_set.y)
    check_retain(cfg, forget, data.num_train)
    compare.check_window(cfg, t, forget, data.num_train)

    module = UnlearnModule(
        net=instantiate(cfg.model),
        objective=instantiate(cfg.loss),
        optimizer=instantiate(cfg.optimizer),
        num_classes=data.num_classes,
        seed=cfg.seed,
        check_every=cfg.track_every,  # NaN/inf loss check on GPU: at tracking events only
    )
    check_model_fits(cfg, data, module.net)
    loggers = _instantiate_dict(cfg.logger)
    # a resumed run's weights come from its window checkpoint: pretraining is not repeated
    if resume:
        log.info("resumed at window step %d of %d (pretraining not repeated)", resume.step, t)
    pretrain_info = (
        resume.extra["pretrain"] if resume else pretrain(cfg, module, data, pre_stream, N, loggers)
    )

    if cfg.window_optimizer == "fresh":  # else the window continues pretraining's state
        module.optimizer_state = None
    callbacks = _instantiate_dict(cfg.callbacks)
    compare.attach(cfg, _first(callbacks, Unlearner))
    compare.add_order_twin(cfg, data, callbacks)  # twin.order_noise: v_order
    every, test_every = curve_settings(cfg)
    if every:  # test accuracy in the window only when asked: its end has its own test
        curve = TrainingCurve("window", every, 0, data.test_dataloader(), test_every)
        callbacks.insert(0, curve)
    ckpt = None
    if cfg.get("checkpoint_every"):  # last: it saves what the other callbacks hold at its step
        extra = {"pretrain": pretrain_info}
        ckpt = WindowCheckpoint(checkpoint_dir(out_dir), cfg.checkpoint_every, run_id, extra, start)
        callbacks.append(ckpt)
    stop = StopOnSignal("the window", t, save=ckpt.save_at if ckpt else None)
    module.begin_phase(WINDOW_STREAM)
    log.info("window: %d steps (twin, σ, drift, e and v tracked)", t)
    window = make_trainer(cfg, t, [*callbacks, stop], loggers or False, "window", 0)
    with interrupt.deferred():  # a signal stops at the end of a step, after its checkpoint
        window.fit(
            module,
            data.stream_loader(win_stream, 0, t, resume_at=resume.step if resume else 0),
            ckpt_path=resume.path if resume else None,
            weights_only=True,
        )
    if resume and resume.step >= t:  # resumed from the final checkpoint: no step was left
        _finish_restore(callbacks, window, module)
    interrupt.at("the test pass", t, t)
    test_acc = float(window.test(module, data.test_dataloader(), verbose=False)[0]["test_acc"])

    curves = _curves(callbacks)
    spectrum, unlearner = _first(callbacks, HessianSpectrum), _first(callbacks, Unlearner)
    results: dict[str, Any] = {
        "status": "ok",
        "N": N,
        "t": t,
        "lr": float(cfg.lr),
        "batch_size": int(cfg.batch_size),
        "pretrain_batch_size": int(cfg.pretrain_batch_size),
        "gamma": float(cfg.gamma),
        "seed": int(cfg.seed),
        "weight_drift": _last(curves["weight_drift"]),
        "sigma_avg": spectrum.sigma_avg if spectrum else float("nan"),
        "sigma_protocol": str(cfg.sigma.protocol),
        "sigma_settings": spectrum.protocol if spectrum else None,
        "window_optimizer": str(cfg.window_optimizer),
        "unlearning_error": _last(curves["unlearning_error"]),
        "verification_error": _last(curves["verification_error"]),
        "verification_error_no_unlearning": _last(curves["verification_error_no_unlearning"]),
        "test_acc": test_acc,
        "forget_size": int(unlearner.forget_indices.numel()) if unlearner else 0,
        "forget_steps": len(unlearner.records) if unlearner else 0,
        "unlearn_seconds": unlearner.unlearn_seconds if unlearner else float("nan"),
        "twin_seconds": unlearner.twin_seconds if unlearner else float("nan"),
        "sigma_iterations": spectrum.iterations if spectrum else [],
        "spectrum_products": getattr(spectrum, "products", None),
        "wall_time_s": ckpt.elapsed if ckpt else time.perf_counter() - start,
        "wall_time_this_attempt_s": time.perf_counter() - start,
        "deterministic": bool(cfg.get("deterministic", True)),
        "resumed_at_step": resume.step if resume else None,
        "checkpoint_seconds": sum(
            c.save_seconds for c in callbacks if isinstance(c, WindowCheckpoint)
        ),
        "config_hash": run_id,
        "compute": compute_material(str(cfg.trainer.accelerator)),  # what changes the bits
        "config": OmegaConf.to_container(cfg, resolve=True),
        "curves": curves,
        "window_curve": next((c.rows for c in callbacks if isinstance(c, TrainingCurve)), []),
        **pretrain_info,
        **(unlearner.summary() if unlearner else {}),
    }
    if unlearner and unlearner.final_unlearned is not None:  # the field's metrics
        assert unlearner.twin is not None and unlearner.forget_indices is not None
        results |= field_metrics(
            cfg, data, with_weights(module.net, unlearner.final_unlearned), unlearner.twin.net,
            unlearner.forget_indices, results["verification_error"],
            results["verification_error_no_unlearning"], unlearner.unlearn_cost.as_dict(),
            unlearner.twin_cost.as_dict(), unlearner.method.storage_bytes,
        )  # fmt: skip
        results |= original_accuracies(cfg, data, module.net, unlearner.forget_indices)
    results |= compare.order_results(callbacks, results)  # before the rows: v / v_order
    results |= compare.method_rows(cfg, data, module, unlearner, results)  # one row per method
    if cfg.get("prs") and unlearner and unlearner.final_unlearned is not None:
        epochs = N / pre_stream.steps_per_epoch + t / win_stream.steps_per_epoch
        assert unlearner.twin is not None and unlearner.forget_indices is not None
        results |= privacy_risk(
            cfg, data, module.net, unlearner.final_unlearned, unlearner.twin.net,
            unlearner.forget_indices, epochs,
        )  # fmt: skip
    results["objective"] = objective_value(cfg, results, run)  # for a searching sweeper
    with interrupt.deferred():  # a signal now waits until the finished results are on disk
        try:
            write_results(out_dir / "results.json", results)
        except FinishedRunError:
            raise
        except OSError as err:  # a full disk: the numbers still reach the caller
            raise ResultsNotWritten(results, err) from None
        remove_checkpoints(out_dir)
    return results
