"""Forget sets: each option removes exactly its samples from the twin's stream, and no other;
a set that cannot exist stops the run with one line before training."""

import pytest
import torch
from window_fit import fit_window

from unlearn.callbacks import Unlearner
from unlearn.config.checks import ConfigError
from unlearn.data.stream import BatchStream
from unlearn.experiment.run import run
from unlearn.forget import ClassLabel, FirstBatch, Indices, NoForget, RandomK
from unlearn.math.losses import TrainingObjective
from unlearn.models import Linear
from unlearn.module import UnlearnModule

N_SAMPLES, B, T = 30, 8, 10  # 4 steps per epoch: the window crosses two reshuffles


class Recording(UnlearnModule):
    """Records the sample indices (feature 0 of x) of every loss the twin takes (its kept rows)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.twin_batches: list[list[int]] = []

    def loss_on(self, net, x, y, nominal_size, seed, mask=None):
        if net is not self.net:
            kept = x if mask is None else x[mask]
            self.twin_batches.append(kept[:, 0].round().long().tolist())
        return super().loss_on(net, x, y, nominal_size, seed, mask)


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_SAMPLES, 4, generator=g, dtype=torch.float64)
    x[:, 0] = torch.arange(N_SAMPLES, dtype=torch.float64)  # the index, readable from x
    y = torch.arange(N_SAMPLES) % 3
    return x, y


def _twin_stream(forget):
    x, y = _data()
    torch.manual_seed(0)
    module = Recording(
        Linear(4, 3).double(), TrainingObjective(), lambda p: torch.optim.SGD(p, lr=1e-3), 3
    )
    unlearner = Unlearner(forget=forget, verify_every=T)
    stream = fit_window(module, x, y, T, [unlearner], B)
    return stream, y, unlearner, module.twin_batches


FIRST = BatchStream(N_SAMPLES, B, seed=0, stream_id=1).indices(0).tolist()
OPTIONS = [
    (FirstBatch(), set(FIRST)),
    (NoForget(), set()),
    (Indices([3, 17, 29, 3]), {3, 17, 29}),
    (RandomK(k=5, seed=0), None),  # drawn: checked for size and determinism
    (ClassLabel(label=2), {i for i in range(N_SAMPLES) if i % 3 == 2}),
]


@pytest.mark.parametrize("forget, expected", OPTIONS, ids=[f.name for f, _ in OPTIONS])
def test_twin_stream_loses_exactly_the_forget_set(forget, expected):
    stream, y, unlearner, twin_batches = _twin_stream(forget)
    chosen = set(unlearner.forget_indices.tolist())
    if expected is None:
        expected = set(RandomK(k=5, seed=0).resolve(torch.arange(1), y).tolist())
        assert len(expected) == 5
    assert chosen == expected
    kept_steps = []
    for step in range(T):
        batch = stream.indices(step).tolist()
        kept = [i for i in batch if i not in chosen]  # order kept, nothing else removed
        if kept:
            kept_steps.append(kept)
    assert twin_batches == kept_steps
    assert unlearner.twin.steps_skipped == T - len(kept_steps)
    assert len(unlearner.records) == sum(
        any(i in chosen for i in stream.indices(s).tolist()) for s in range(T)
    )


def test_random_forget_set_is_seeded():
    labels = torch.zeros(100, dtype=torch.long)
    first = torch.arange(4)
    a = RandomK(k=8, seed=1).resolve(first, labels)
    assert torch.equal(a, RandomK(k=8, seed=1).resolve(first, labels))
    assert not torch.equal(a, RandomK(k=8, seed=2).resolve(first, labels))
    assert len(a.unique()) == 8 and int(a.max()) < 100


BAD = [
    (["forget=indices", "forget.indices=[3,5000]"], "forget.indices=[5000]"),
    (["forget=indices"], "forget.indices=[]"),
    (["forget=random", "forget.k=100000"], "forget.k=100000"),
    (["forget=random", "forget.k=0"], "forget.k=0"),
    (["forget=class", "forget.label=11"], "forget.label=11"),
    (["unlearn.method=sisa"], "unlearn.method='sisa'"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_forget_sets_raise_one_line_before_training(make_cfg, tmp_path, overrides, message):
    with pytest.raises(ConfigError) as err:
        run(make_cfg(*overrides))
    text = str(err.value)
    assert message in text and "allowed" in text and "\n" not in text
    assert not (tmp_path / "results.json").exists()


def test_class_forget_set_needs_labels():
    with pytest.raises(ConfigError, match="forget.label=5"):
        ClassLabel(5).check(torch.tensor([0, 1, 1]))
    ClassLabel(1).check(torch.tensor([0, 1, 1]))
