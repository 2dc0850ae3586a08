"""A forged or poisoned pretrain cache entry behind a valid sidecar is a miss, never used
(unlearn/experiment/fingerprint.py): its weights are checked for NaN/inf and must give
the logits recorded at save on a fixed probe batch, bit for bit on this CPU."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from test_resume import metrics

from unlearn.experiment import fingerprint
from unlearn.experiment.cache import write_entry
from unlearn.experiment.job import JobContext, run_job


def _entry(cache_dir: Path) -> tuple[Path, dict]:
    path = next((cache_dir / "pretrain").glob("*/step_*.pt"))
    return path, torch.load(path, weights_only=True)


def _forge(path: Path, payload: dict, edit) -> None:
    """Edit the weights and re-hash the sidecar, as a forger would (the key stays)."""
    weights = payload["net"]
    name = next(k for k, v in weights.items() if v.is_floating_point() and v.ndim > 1)
    edit(weights[name])
    key = f"{path.parent.name}:{int(payload['step'])}"
    write_entry(path, payload, key)


@pytest.fixture
def honest(make_cfg, tmp_path):
    cache_dir = tmp_path / "cache"
    cfg = make_cfg(f"paths.cache_dir={cache_dir}")
    first = run_job(cfg, JobContext())
    assert first["status"] == "ok" and first["pretrain_cache"] == "miss"
    return cache_dir, first


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda w: w.mul_(1.5), "do not give the logits recorded at save"),
        (lambda w: w.view(-1).__setitem__(0, float("nan")), "non-finite values in net."),
    ],
    ids=["scaled-x1.5", "nan"],
)
def test_a_forged_entry_is_a_miss_with_one_warning_and_the_run_is_the_honest_one(
    honest, make_cfg, tmp_path, caplog, edit, reason
):
    cache_dir, first = honest
    path, payload = _entry(cache_dir)
    _forge(path, payload, edit)
    cfg = make_cfg(f"paths.cache_dir={cache_dir}", f"paths.output_dir={tmp_path / 'again'}")
    with caplog.at_level(logging.WARNING, logger="unlearn.experiment.pretrain"):
        again = run_job(cfg, JobContext())
    warnings = [r.getMessage() for r in caplog.records if "fails its check" in r.getMessage()]
    assert len(warnings) == 1 and reason in warnings[0] and "\n" not in warnings[0]
    assert again["status"] == "ok" and again["pretrain_cache"] == "miss"  # rebuilt, not used
    assert metrics(again) == metrics(first)  # the honest numbers, bit for bit
    assert (
        fingerprint.mismatch(_entry(cache_dir)[1], _net(cfg, _entry(cache_dir)[1]), _probe(cfg))
        is None
    )


def test_an_entry_without_a_fingerprint_is_a_miss(honest, make_cfg, tmp_path):
    cache_dir, _ = honest
    path, payload = _entry(cache_dir)
    payload.pop("fingerprint")  # stripping the check must not bypass it
    write_entry(path, payload, f"{path.parent.name}:{int(payload['step'])}")
    cfg = make_cfg(f"paths.cache_dir={cache_dir}", f"paths.output_dir={tmp_path / 'again'}")
    assert run_job(cfg, JobContext())["pretrain_cache"] == "miss"


def test_an_honest_entry_is_a_hit(honest, make_cfg, tmp_path):
    cache_dir, first = honest
    cfg = make_cfg(f"paths.cache_dir={cache_dir}", f"paths.output_dir={tmp_path / 'again'}")
    again = run_job(cfg, JobContext())
    assert again["pretrain_cache"] == "hit"
    assert {**metrics(again), "pretrain_cache": "miss"} == metrics(first)


def _probe(cfg) -> torch.Tensor:
    from hydra.utils import instantiate

    data = instantiate(cfg.data)
    data.setup("fit")
    return fingerprint.probe_batch(data.train_set.x)


def _net(cfg, payload) -> torch.nn.Module:
    from hydra.utils import instantiate

    net = instantiate(cfg.model)
    net.load_state_dict(payload["net"])
    return net


def test_the_fingerprint_is_the_same_bits_with_any_thread_count_and_a_copy(make_cfg):
    cfg = make_cfg()
    torch.manual_seed(0)
    net, probe = _net_fresh(cfg), _probe(cfg)
    threads = torch.get_num_threads()
    first = fingerprint.fingerprint(net, probe)["logits"]
    torch.set_num_threads(2)
    try:
        again = fingerprint.fingerprint(net, probe)["logits"]
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(first, again) and torch.get_num_threads() == threads
    assert net.training  # the live network's mode is left as it was


def _net_fresh(cfg) -> torch.nn.Module:
    from hydra.utils import instantiate

    return instantiate(cfg.model).train()
