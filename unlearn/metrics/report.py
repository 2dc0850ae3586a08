"""The field's metrics of one run: M'' (the method's weights) beside the twin M'.

Every number is computed the same way for every method (and for the twin, whose gaps to
itself are 0 by definition), on F, on a fixed seeded sample of R and on the test set.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.metrics.scores import accuracy, mean_js, mia_efficacy, per_sample_loss
from unlearn.privacy.score import modified_entropy_of_logits
from unlearn.runtime.rng import derive_seed

METRICS_STREAM = 5  # the fixed sample of R: apart from every training and method stream


def with_weights(net: nn.Module, weights: list[Tensor]) -> nn.Module:
    """A copy of `net` (buffers included) whose trainable parameters are `weights`."""
    out = copy.deepcopy(net)
    with torch.no_grad():
        for p, w in zip(trainable(out).values(), weights, strict=True):
            p.copy_(w.to(p.device))
    return out


@torch.no_grad()
def outputs(net: nn.Module, x: Tensor, batch: int = 512) -> Tensor:
    """net(x) in eval mode, on the host; the module's mode is restored."""
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        parts = [net(x[i : i + batch].to(device)).float().cpu() for i in range(0, len(x), batch)]
    finally:
        net.train(was_training)
    return torch.cat(parts) if parts else torch.empty(0)


def sample(pool: Tensor, size: int | None, seed: int, part: int = 0) -> Tensor:
    """Sorted indices of a fixed seeded sample of `pool` (all of it when size is None)."""
    if size is None or size >= len(pool):
        return pool
    gen = torch.Generator().manual_seed(derive_seed(seed, METRICS_STREAM, part))
    return pool[torch.randperm(len(pool), generator=gen)[:size]].sort().values


def retain_sample(num_train: int, forget: Tensor, size: int | None, seed: int) -> Tensor:
    """Sorted indices of a fixed seeded sample of R = D \\ F (all of R when size is None)."""
    keep = torch.ones(num_train, dtype=torch.bool)
    keep[forget.cpu().long()] = False
    return sample(keep.nonzero().flatten(), size, seed)


def _feature(kind: str, logits: Tensor, y: Tensor) -> Tensor:
    if len(y) == 0:  # forget=none: nothing to attack
        return torch.empty(0, dtype=torch.float64)
    return (
        modified_entropy_of_logits(logits, y) if kind == "entropy" else per_sample_loss(logits, y)
    )


def _scores(
    net: nn.Module, sets: dict[str, tuple[Tensor, Tensor]], mia: str, batch: int
) -> dict[str, Any]:
    logits = {k: outputs(net, x, batch) for k, (x, _) in sets.items()}
    finite = all(bool(torch.isfinite(x).all()) for x in logits.values())
    out: dict[str, Any] = {  # a diverged model (NaN or inf outputs) has no accuracy
        f"acc_{k}": accuracy(logits[k], sets[k][1]) if finite else math.nan for k in sets
    }
    out["outputs_finite"] = finite
    feats = {k: _feature(mia, logits[k], sets[k][1]) for k in sets}
    out["mia_forget"] = mia_efficacy(feats["retain"], feats["test"], feats["forget"])
    out["_logits"] = logits
    return out


def _sets(cfg: DictConfig, data: Any, forget: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
    """F, the fixed seeded sample of R and the test set (or its sample), as (x, y)."""
    train, test = data.train_set, data.test_set
    opts = cfg.get("metrics") or {}
    idx_r = retain_sample(len(train.y), forget, opts.get("retain_sample", 512), int(cfg.seed))
    idx_t = sample(torch.arange(len(test.y)), opts.get("test_sample"), int(cfg.seed), 1)
    idx_f = forget.cpu().long()
    return {
        "forget": (train.x[idx_f], train.y[idx_f]),
        "retain": (train.x[idx_r], train.y[idx_r]),
        "test": (test.x[idx_t], test.y[idx_t]),
    }


def original_accuracies(cfg: DictConfig, data: Any, net: nn.Module, forget: Tensor) -> dict:
    """``original_acc_{forget,retain,test}``: the model before unlearning (M_{N+t}) on the
    same F, R sample and test set as `field_metrics`, so the three models sit side by side."""
    batch = int(getattr(data, "test_batch_size", 512))
    sets = _sets(cfg, data, forget)
    return {f"original_acc_{k}": accuracy(outputs(net, x, batch), y) for k, (x, y) in sets.items()}


class TwinScores:
    """The twin's scores on F, the R sample and the test set, computed once per run: every
    method of a compared run is set beside the same M' (on CIFAR-10 each pass over the
    test set costs seconds)."""

    def __init__(self) -> None:
        self._found: dict[int, dict[str, Any]] = {}

    def of(self, twin_net: nn.Module, compute: Any) -> dict[str, Any]:
        key = id(twin_net)
        if key not in self._found:
            self._found[key] = compute()
        return self._found[key]


def field_metrics(
    cfg: DictConfig,
    data: Any,
    unlearned_net: nn.Module,
    twin_net: nn.Module,
    forget: Tensor,
    v: float,
    v_none: float,
    cost: dict[str, Any],
    twin_cost: dict[str, Any],
    stored_bytes: int,
    twin_scores: TwinScores | None = None,
) -> dict[str, Any]:
    """results.json's flat metric keys for M'' (no prefix) and M' (``twin_``), their gaps
    (M'' − M'), the output distance on F and on the test set, v/v_none and the cost.

    `twin_scores`, shared by the calls of one run, scores the twin once for all of them."""
    sets = _sets(cfg, data, forget)
    opts = cfg.get("metrics") or {}
    mia, batch = str(opts.get("mia_feature", "entropy")), int(getattr(data, "test_batch_size", 512))
    mine = _scores(unlearned_net, sets, mia, batch)
    scored = (twin_scores or TwinScores()).of(twin_net, lambda: _scores(twin_net, sets, mia, batch))
    twin = dict(scored)  # its own copy: "_logits" is popped below
    logits, twin_logits = mine.pop("_logits"), twin.pop("_logits")
    results: dict[str, Any] = {
        "v_ratio": v / v_none if v_none else float("nan"),
        "output_distance_forget": mean_js(logits["forget"], twin_logits["forget"]),
        "output_distance_test": mean_js(logits["test"], twin_logits["test"]),
        **mine,
        **{f"twin_{k}": x for k, x in twin.items()},
        **{f"gap_{k}": mine[k] - twin[k] for k in mine if k != "outputs_finite"},
        "retain_sample_size": len(sets["retain"][1]),
        "test_sample_size": len(sets["test"][1]),
    }
    results |= {f"cost_{k}": x for k, x in cost.items()}
    results["cost_stored_bytes"] = int(stored_bytes)
    results |= {f"twin_cost_{k}": x for k, x in twin_cost.items() if k != "steps_skipped"}
    return results
