"""The twin gives every kept sample exactly what it saw in the main model's step: its own
dropout mask, its own padding and attention mask, and BatchNorm statistics without the
forgotten samples (SPEC.md, "Verification twin": same randomness for every kept sample)."""

import copy

import torch
from paper_fakes import TINY_BERT
from torch import nn
from torch.nn import functional as F
from window_fit import fit_window

from unlearn.callbacks import Unlearner
from unlearn.forget import RandomK
from unlearn.math.losses import TrainingObjective
from unlearn.models import MLP, DistilBertClassifier
from unlearn.module import UnlearnModule
from unlearn.runtime.rng import derive_seed, seeded_scope
from unlearn.twin import LockstepTwin

N_SAMPLES, D, H, C, B, T, LR, P = 30, 4, 8, 3, 8, 10, 0.5, 0.5  # 4 steps an epoch: 2.5 epochs


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_SAMPLES, D, generator=g, dtype=torch.float64)
    return x, torch.arange(N_SAMPLES) % C


def _mlp_forward(w, x, mask):
    """The dropout MLP written out: Linear → Tanh → dropout(mask) → Linear."""
    h = torch.tanh(x @ w["net.1.weight"].T + w["net.1.bias"]) * mask
    return h @ w["net.4.weight"].T + w["net.4.bias"]


def _replayed_twin(w0, stream, x, y, forget, aligned):
    """An independent twin: plain SGD over the kept samples of every step, each with the
    dropout mask drawn for its row of the full batch (`aligned`) or, as the defect did,
    a mask drawn afresh for the shorter batch."""
    w = {k: v.clone() for k, v in w0.items()}
    for s in range(T):
        idx = stream.indices(s)
        keep = ~torch.isin(idx, forget)
        if not keep.any():
            continue
        rows = len(idx) if aligned else int(keep.sum())
        with seeded_scope(derive_seed(0, 1, s)):
            mask = F.dropout(torch.ones(rows, H, dtype=torch.float64), P, training=True)
        mask = mask[keep] if aligned else mask
        leaves = {k: v.requires_grad_(True) for k, v in w.items()}
        logits = _mlp_forward(leaves, x[idx][keep], mask)
        loss = F.cross_entropy(logits, y[idx][keep], reduction="sum") / len(idx)
        grads = torch.autograd.grad(loss, list(leaves.values()))
        w = {k: (v - LR * g).detach() for (k, v), g in zip(leaves.items(), grads, strict=True)}
    return w


def _rel(a: dict, b: dict) -> float:
    num = sum((a[k] - b[k]).pow(2).sum() for k in a).sqrt()
    return float(num / sum(b[k].pow(2).sum() for k in b).sqrt())


def test_dropout_twin_matches_an_independently_aligned_twin_across_epochs():
    x, y = _data()
    torch.manual_seed(0)
    net = MLP(D, C, hidden=[H], dropout=P).double()
    w0 = {k: v.detach().clone() for k, v in net.named_parameters()}
    module = UnlearnModule(net, TrainingObjective(), lambda p: torch.optim.SGD(p, lr=LR), C)
    unlearner = Unlearner(forget=RandomK(k=6, seed=1), verify_every=T)
    stream = fit_window(module, x, y, T, [unlearner], B)
    forget = unlearner.forget_indices
    partial = [r for r in unlearner.records if 0 < int(r.mask.sum()) < B]
    assert len({r.step for r in partial}) >= 2 and max(r.step for r in partial) > 4  # 2 epochs

    twin = {k: v.detach() for k, v in unlearner.twin.net.named_parameters()}
    main = {k: v.detach() for k, v in net.named_parameters()}
    assert _rel(main, _replayed_twin(w0, stream, x, y, forget[:0], True)) <= 1e-12
    assert _rel(twin, _replayed_twin(w0, stream, x, y, forget, aligned=True)) <= 1e-6
    # the defect's twin (fresh masks for x[keep]) is far away: the test can tell them apart
    assert _rel(twin, _replayed_twin(w0, stream, x, y, forget, aligned=False)) > 1e-3


def test_batch_norm_statistics_leave_the_forgotten_samples_out():
    x, y = _data()
    x, y = x[:B], y[:B]
    forget = torch.tensor([1, 4, 5])
    mask = torch.isin(torch.arange(B), forget)
    torch.manual_seed(0)
    net = MLP(D, C, hidden=[H], batch_norm=True).double()
    module = UnlearnModule(net, TrainingObjective(), lambda p: torch.optim.SGD(p, lr=LR), C)
    twin = LockstepTwin(net, torch.optim.SGD(net.parameters(), lr=LR), module.loss_on)
    twin.step(x, y, mask, int(mask.sum()), seed=7)

    # the same step on a batch that never held the forgotten samples, normalised by b
    alone = copy.deepcopy(net)
    loss = F.cross_entropy(alone(x[~mask]), y[~mask], reduction="sum") / B
    grads = torch.autograd.grad(loss, list(alone.parameters()))
    with torch.no_grad():
        for p, g in zip(alone.parameters(), grads, strict=True):
            p -= LR * g
    expected = alone.state_dict()
    for name, a in twin.net.state_dict().items():
        b = expected[name]
        assert torch.allclose(a.double(), b.double(), rtol=1e-12, atol=1e-14), name
    bn = twin.net.net[2]
    assert isinstance(bn, nn.BatchNorm1d) and int(bn.num_batches_tracked) == 1
    with torch.no_grad():  # what the statistics would be with every sample in
        assert not torch.allclose(bn.running_mean, 0.1 * net.net[1](x).mean(0))
    assert "forward" not in vars(bn)  # the layer is itself again after the step


def test_distilbert_partial_batch_keeps_each_rows_padding_and_dropout():
    torch.manual_seed(0)
    net = DistilBertClassifier(num_classes=2, pretrained=None, config=TINY_BERT)  # train mode
    ids = torch.tensor(
        [[2, 7, 8, 9, 7, 8, 3], [2, 9, 3, 0, 0, 0, 0], [2, 7, 3, 0, 0, 0, 0], [2, 8, 9, 3, 0, 0, 0]]
    )
    y = torch.tensor([0, 1, 1, 0])
    mask = torch.tensor([True, False, False, False])  # the longest row is forgotten
    objective = TrainingObjective()
    module = UnlearnModule(net, objective, lambda p: torch.optim.SGD(p, lr=0.1), 2)
    twin = LockstepTwin(net, torch.optim.SGD(net.parameters(), lr=0.1), module.loss_on)
    seen: list[torch.Tensor] = []
    twin.net.register_forward_hook(lambda m, i, out: seen.append(out.detach()))

    with seeded_scope(11):
        main_logits = net(ids).detach()
    start = copy.deepcopy(twin.net)
    twin.step(ids, y, mask, 1, seed=11)
    assert torch.equal(seen[0][~mask], main_logits[~mask])  # bit for bit, row by row
    with seeded_scope(11):  # the defect: the shorter batch, trimmed shorter, new masks
        assert not torch.allclose(start(ids[~mask]), main_logits[~mask], atol=1e-4)

    # and the step is the gradient of exactly those rows' losses over the nominal b = 4
    with seeded_scope(11):
        logits = start(ids)
    loss = F.cross_entropy(logits[~mask], y[~mask], reduction="sum") / 4
    grads = torch.autograd.grad(loss, list(start.parameters()), allow_unused=True)
    for p0, g, p1 in zip(start.parameters(), grads, twin.net.parameters(), strict=True):
        expected = p0.detach() if g is None else p0.detach() - 0.1 * g
        assert torch.allclose(p1.detach(), expected, rtol=1e-6, atol=1e-7)
