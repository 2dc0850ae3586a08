"""The adversary's shadow model (§4.3): the target's recipe, trained on half the training set.

Members are a seeded, label-stratified half of the training set; non-members a seeded,
stratified half of the test set. The shadow trains with the target's model, loss,
optimiser and batch size for as many epochs as the target saw (or `privacy.shadow_epochs`),
from its own seeded initialisation and step seeds, so it never touches the run's RNG.
Its weights are cached like a pretrained model (`unlearn.runtime.store`), under
`paths.cache_dir/shadow/`, keyed by everything that shapes them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import Tensor, nn

from unlearn.callbacks.trainer import make_trainer
from unlearn.data.arrays import ArrayDataModule, IndexedArrays
from unlearn.data.stream import BatchStream
from unlearn.module import UnlearnModule
from unlearn.runtime.rng import derive_seed, seeded_scope
from unlearn.runtime.store import digest, locked, read_entry, trajectory_material, write_entry

log = logging.getLogger(__name__)
SHADOW_STREAM = 100  # apart from the run's pretrain (0), window (1) and forget (3) streams


def stratified_half(labels: Tensor, seed: int, part: int) -> Tensor:
    """Sorted indices of floor(n_c / 2) samples of each class c, seeded by (seed, part)."""
    gen = torch.Generator().manual_seed(derive_seed(seed, SHADOW_STREAM, part))
    chosen = []
    for c in labels.unique().tolist():
        idx = (labels == c).nonzero().flatten()
        chosen.append(idx[torch.randperm(len(idx), generator=gen)[: len(idx) // 2]])
    return torch.cat(chosen).sort().values if chosen else labels.new_empty(0)


def _material(cfg: DictConfig, members: IndexedArrays, steps: int) -> dict[str, Any]:
    """What the shadow's weights are a function of (the pretrain cache's recipe, and more)."""
    return {
        **trajectory_material(cfg, members.x, members.y),
        "role": "shadow",
        "stream": SHADOW_STREAM,
        "steps": steps,
    }


def _train(cfg: DictConfig, members: IndexedArrays, num_classes: int, steps: int) -> nn.Module:
    with seeded_scope(derive_seed(cfg.seed, SHADOW_STREAM)):
        net = instantiate(cfg.model)
    module = UnlearnModule(
        net, instantiate(cfg.loss), instantiate(cfg.optimizer), num_classes, seed=cfg.seed
    )
    module.begin_phase(SHADOW_STREAM)
    subset = ArrayDataModule()
    subset.train_set = members
    stream = BatchStream(len(members), cfg.pretrain_batch_size, cfg.seed, SHADOW_STREAM)
    log.info("shadow model for PRS: %d steps on %d member samples", steps, len(members))
    trainer = make_trainer(cfg, steps, [], False, phase="shadow")
    trainer.fit(module, subset.stream_loader(stream, 0, steps))
    return module.net


def shadow_model(
    cfg: DictConfig, data: ArrayDataModule, members: Tensor, steps: int
) -> tuple[nn.Module, bool]:
    """The shadow net trained `steps` steps on training samples `members`; (net, from cache).

    Cached through `unlearn.runtime.store` (verified entries, one lock per shadow), so parallel
    sweep jobs train each shadow once, and different shadows at the same time.
    """
    assert data.train_set is not None
    subset = IndexedArrays(data.train_set.x[members], data.train_set.y[members])
    if not cfg.privacy.get("cache", True):
        return _train(cfg, subset, data.num_classes, steps), False
    key = digest(_material(cfg, subset, steps))
    directory = Path(cfg.paths.cache_dir).expanduser() / "shadow"
    path = directory / f"{key}.pt"
    with locked(directory, key):  # one lock per shadow: parallel jobs build different ones
        entry = read_entry(path, key)
        if entry is not None:
            log.info("shadow model for PRS: cache hit (%s)", key[:12])
            with seeded_scope(derive_seed(cfg.seed, SHADOW_STREAM)):
                net = instantiate(cfg.model)
            net.load_state_dict(entry["net"])
            return net, True
        net = _train(cfg, subset, data.num_classes, steps)
        state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        write_entry(path, {"net": state, "steps": steps}, key)
    return net, False
