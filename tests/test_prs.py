"""Privacy risk score (Song & Mittal): the modified entropy of softmax outputs, per-class
histograms on a constructed case with known scores, and the `prs=true` run."""

import math

import pytest
import torch
from torch import nn

from unlearn.config.checks import ConfigError
from unlearn.experiment.run import run
from unlearn.privacy import RiskTable, modified_entropy, modified_entropy_of_logits
from unlearn.privacy.report import _mentr


def test_modified_entropy_by_hand():
    probs = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.6, 0.3]], dtype=torch.float64)
    labels = torch.tensor([0, 2])
    want = [
        -0.5 * math.log(0.5) - 2 * 0.25 * math.log(0.75),
        -0.7 * math.log(0.3) - 0.1 * math.log(0.9) - 0.6 * math.log(0.4),
    ]
    assert modified_entropy(probs, labels).tolist() == pytest.approx(want, rel=1e-12)
    # a confident right answer has ~0 entropy, a confident wrong one a large one
    sure = torch.tensor([[1.0, 0.0, 0.0]])
    assert modified_entropy(sure, torch.tensor([0])).item() == 0.0
    assert modified_entropy(sure, torch.tensor([1])).item() == pytest.approx(-2 * math.log(1e-30))


class Shifted(nn.Module):
    """Fixed logits plus a constant: softmax, hence PRS, cannot see the constant."""

    def __init__(self, logits: torch.Tensor, shift: float) -> None:
        super().__init__()
        self.logits = nn.Parameter(logits + shift)

    def forward(self, x):
        return self.logits[x.long()]


def test_softmax_not_logits_enters_the_entropy():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.3, 0.2, -4.0]], dtype=torch.float64)
    labels = torch.tensor([0, 1])
    softmaxed = modified_entropy(torch.softmax(logits, 1), labels)
    assert torch.equal(modified_entropy_of_logits(logits, labels), softmaxed)
    x = torch.arange(2)
    a = _mentr(Shifted(logits, 0.0), x, labels)
    b = _mentr(Shifted(logits, 7.0), x, labels)
    assert torch.allclose(a, softmaxed, rtol=1e-12) and torch.allclose(b, softmaxed, rtol=1e-12)
    # the reference code's reading (entropy of raw logits) is something else entirely
    assert not torch.allclose(modified_entropy(logits, labels), softmaxed)


def test_scores_on_known_histograms():
    # class 0: members 1,1,2,3 and non-members 3,4,4,4 over edges [1, 2, 3, 4]
    # member freq [.5, .25, .25], non-member [0, 0, 1]: scores per bin [1, 1, 0.2]
    # class 1: members 0,0 and non-members 10 over edges [0,2,4,6,8,10]: bins 1-3 empty
    members = torch.tensor([1.0, 1.0, 2.0, 3.0, 0.0, 0.0]), torch.tensor([0, 0, 0, 0, 1, 1])
    nonmembers = torch.tensor([3.0, 4.0, 4.0, 4.0, 10.0]), torch.tensor([0, 0, 0, 0, 1])
    table = RiskTable.fit(members, nonmembers, num_classes=3, bins=3, log_bins=False)
    assert table.member[0].tolist() == [0.5, 0.25, 0.25]
    assert table.nonmember[0].tolist() == [0.0, 0.0, 1.0]
    values = torch.tensor([1.5, 2.5, 3.5, 10.0, -5.0])
    assert table.score(values, torch.zeros(5, dtype=torch.long)).tolist() == [1, 1, 0.2, 0.2, 1]

    table5 = RiskTable.fit(members, nonmembers, num_classes=3, bins=5, log_bins=False)
    # value 5 is in empty bin 2: bins 1 and 3 are empty too, bin 0 (below) wins over bin 4
    # value 7 is in empty bin 3: bin 4 (above, distance 1) beats bin 1 (empty) and bin 0
    got = table5.score(torch.tensor([5.0, 7.0, 1.0]), torch.tensor([1, 1, 2]))
    assert got[:2].tolist() == [1.0, 0.0] and math.isnan(got[2])  # class 2 has no data


def test_log_bins_are_linear_bins_of_the_log():
    g = torch.Generator().manual_seed(0)
    m, n = torch.rand(50, generator=g) * 3, torch.rand(40, generator=g) * 5 + 0.2
    lm, ln = torch.randint(0, 2, (50,), generator=g), torch.randint(0, 2, (40,), generator=g)
    q, lq = torch.rand(30, generator=g) * 6, torch.randint(0, 2, (30,), generator=g)
    a = RiskTable.fit((m, lm), (n, ln), 2, bins=5, log_bins=True).score(q, lq)
    b = RiskTable.fit((m.log(), lm), (n.log(), ln), 2, bins=5, log_bins=False).score(q.log(), lq)
    assert torch.equal(a, b)


def test_prs_run_reports_before_after_and_caches_the_shadow(make_cfg, tmp_path):
    # σ is not under test; one cache for all three, so that they share M_N
    quick = ("unlearn=amnesiac", "sigma.max_iter=3", f"paths.cache_dir={tmp_path / 'cache'}")
    common = ("prs=true", *quick)
    first = run(make_cfg(*common))
    again = run(make_cfg(*common))
    plain = run(make_cfg(*quick))
    assert first["prs_info"]["shadow_cached"] is False and again["prs_info"]["shadow_cached"]
    for key in ("prs_before", "prs_after", "prs_twin"):
        scores = first[key]["per_sample"]
        assert len(scores) == first["forget_size"] and all(0.0 <= s <= 1.0 for s in scores)
        assert first[key] == again[key]
    assert first["verification_error"] == plain["verification_error"]  # PRS leaves no trace
    assert "prs_before" not in plain


def test_prs_needs_a_training_set_to_split(make_cfg, tmp_path):
    cfg = make_cfg("prs=true", "data.test_fraction=0.98", "batch_size=4", "pretrain_batch_size=20")
    with pytest.raises(ConfigError) as err:
        run(cfg)
    assert str(err.value).startswith("prs=true: allowed") and "\n" not in str(err.value)
    assert not (tmp_path / "results.json").exists()


def _row(method, gamma, v, e, before, after):
    steps = [5, 10, 15]
    return {
        "status": "ok",
        "method": method,
        "model": "small_cnn",
        "data": "digits",
        "gamma": gamma,
        "N": 100,
        "t": 15,
        "verification_error": v,
        "unlearning_error": e,
        "prs_before": {"mean": before, "per_sample": [before]},
        "prs_after": {"mean": after, "per_sample": [after]},
        "curves": {
            "step": steps,
            "unlearning_error": [e * s / 15 for s in steps],
            "verify_step": steps,
            "verification_error": [v * (s / 15) ** 2 for s in steps],
        },
    }


def test_privacy_section_draws_figures_2_13_14_15(tmp_path):
    from unlearn.analyze.privacy import privacy_report

    rows = [
        _row("amnesiac", g, 0.1 * (g + 1), 0.2 * (g + 1), 0.6, 0.5 - 0.01 * g) for g in range(4)
    ]
    rows += [_row("single_gradient", g, 0.1, 0.2, 0.6 - 0.05 * g, 0.3 + 0.01 * g) for g in range(4)]
    text = privacy_report(rows, tmp_path)
    for fig in ("fig2_prs_vs_v", "fig13_prs_vs_gamma", "fig14_e_vs_v_amnesiac", "fig15"):
        assert list((tmp_path / "figures").glob(f"{fig}*.png")), fig
    assert "| small_cnn on digits | -1.000" in text  # Figure 2: PRS falls as v grows
    assert "| small_cnn on digits | 1.000" in text  # Figure 14: e and v in step
    # Figure 13: ρ(γ, before) = −1, ρ(γ, after) = +1, after/before at γ = 0 is 0.3 / 0.6
    assert "| small_cnn on digits | 4 | -1.000 | 1.000 | 0.500 |" in text
    assert "−0.29" in text and "0.91" in text  # the paper's numbers beside ours
