"""`prs=true`: the privacy risk score of each forgotten sample on M (before unlearning), on
M'' (after) and on the twin M' (exact retraining), for results.json (§4.3, §8.4).

Runs after the window; the shadow model and all scoring stay off the run's RNG streams,
so a run's weights and v are the same with `prs` on or off.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from unlearn.config.checks import ConfigError
from unlearn.data.arrays import ArrayDataModule
from unlearn.math.params import trainable
from unlearn.privacy.score import RiskTable, modified_entropy_of_logits
from unlearn.privacy.shadow import shadow_model, stratified_half


def check_prs(cfg: DictConfig, train_labels: Tensor, test_labels: Tensor) -> None:
    """One-line `ConfigError` for PRS settings that cannot work on this data (the ranges of
    `privacy.*` themselves are the schema's, unlearn/config/schema.py)."""
    if not cfg.get("prs", False):
        return
    members = len(stratified_half(train_labels, cfg.seed, 0))
    nonmembers = len(stratified_half(test_labels, cfg.seed, 1))
    need = max(2, int(cfg.pretrain_batch_size))
    if members < need or nonmembers < 1:
        raise ConfigError(
            f"prs=true: allowed with a training set whose half holds >= {need} samples "
            f"(pretrain_batch_size) and a test set to halve (halves: {members} train, "
            f"{nonmembers} test)"
        )


@torch.no_grad()
def _mentr(net: nn.Module, x: Tensor, y: Tensor, batch: int = 512) -> Tensor:
    """Modified entropy of softmax(net(x)) in eval mode; the module's mode is restored."""
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        logits = torch.cat(
            [net(x[i : i + batch].to(device)).cpu() for i in range(0, len(x), batch)]
        )
    finally:
        net.train(was_training)
    return modified_entropy_of_logits(logits, y)


def _with_weights(net: nn.Module, weights: list[Tensor]) -> nn.Module:
    """A copy of `net` (buffers included) whose trainable parameters are `weights`."""
    out = copy.deepcopy(net)
    with torch.no_grad():
        for p, w in zip(trainable(out).values(), weights, strict=True):
            p.copy_(w.to(p.device))
    return out


def _summary(scores: Tensor) -> dict[str, Any]:
    return {"mean": float(scores.nanmean()), "per_sample": scores.tolist()}


def privacy_risk(
    cfg: DictConfig,
    data: ArrayDataModule,
    net: nn.Module,
    unlearned: list[Tensor],
    twin_net: nn.Module,
    forget_indices: Tensor,
    target_epochs: float,
) -> dict[str, Any]:
    """prs_before (M), prs_after (M''), prs_twin (M') of the forgotten samples, and facts."""
    assert data.train_set is not None and data.test_set is not None
    opts = cfg.privacy
    members = stratified_half(data.train_set.y, cfg.seed, 0)
    nonmembers = stratified_half(data.test_set.y, cfg.seed, 1)
    epochs = opts.get("shadow_epochs") or target_epochs
    per_epoch = -(-len(members) // int(cfg.pretrain_batch_size))
    steps = max(1, round(float(epochs) * per_epoch))
    shadow, cached = shadow_model(cfg, data, members, steps)

    train, test = data.train_set, data.test_set
    table = RiskTable.fit(
        (_mentr(shadow, train.x[members], train.y[members]), train.y[members]),
        (_mentr(shadow, test.x[nonmembers], test.y[nonmembers]), test.y[nonmembers]),
        data.num_classes,
        bins=int(opts.bins),
        log_bins=bool(opts.log_bins),
    )
    idx = forget_indices.cpu()
    x, y = train.x[idx], train.y[idx]

    def scores(model: nn.Module) -> Tensor:
        return table.score(_mentr(model, x, y), y)

    return {
        "prs_before": _summary(scores(net)),
        "prs_after": _summary(scores(_with_weights(net, unlearned))),
        "prs_twin": _summary(scores(twin_net)),
        "prs_info": {
            "indices": idx.tolist(),
            "bins": int(opts.bins),
            "log_bins": bool(opts.log_bins),
            "shadow_members": len(members),
            "shadow_nonmembers": len(nonmembers),
            "shadow_steps": steps,
            "shadow_cached": cached,
            "train_mean": float(table.score(_mentr(net, train.x, train.y), train.y).nanmean()),
            "test_mean": float(table.score(_mentr(net, test.x, test.y), test.y).nanmean()),
        },
    }
