"""The privacy risk score of Song & Mittal (USENIX Security 2021), as the paper uses it (§4.3).

A shadow model's softmax outputs on its own training samples (members) and on samples it
never saw (non-members) give, per class, histograms of the modified entropy

    Mentr(p, y) = −(1 − p_y) log p_y − Σ_{i≠y} p_i log(1 − p_i)      (their eq. 8)

The score of a sample with entropy m under class y is the posterior of membership with
equal priors, PRS = P_member(bin(m)) / (P_member(bin(m)) + P_nonmember(bin(m))) (eq. 13).
Entropy takes probabilities: feeding logits, as the paper's reference code did, is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

TINY = 1e-30  # floor inside log, as Song & Mittal
LOG_FLOOR = 1e-10  # floor before log-scale binning, as Song & Mittal


def modified_entropy(probs: Tensor, labels: Tensor) -> Tensor:
    """Mentr of each row of `probs` (rows sum to 1) with its true label, in float64."""
    p = probs.double()
    one_hot = torch.nn.functional.one_hot(labels.long(), p.shape[1]).bool()
    log_p = torch.log(p.clamp_min(TINY))
    log_not_p = torch.log((1.0 - p).clamp_min(TINY))
    terms = torch.where(one_hot, -(1.0 - p) * log_p, -p * log_not_p)
    return terms.sum(1)


def modified_entropy_of_logits(logits: Tensor, labels: Tensor) -> Tensor:
    """Mentr of softmax(logits): the outputs a model gives, turned into probabilities first."""
    return modified_entropy(torch.softmax(logits.double(), dim=1), labels)


def _bin(edges: Tensor, values: Tensor) -> Tensor:
    """Bin of each value; values beyond the edges go to the first or last bin."""
    last = len(edges) - 2
    return (torch.searchsorted(edges, values, right=True) - 1).clamp(0, last)


@dataclass
class RiskTable:
    """Per-class bin edges (C, bins+1) and member / non-member bin frequencies (C, bins)."""

    edges: Tensor
    member: Tensor
    nonmember: Tensor
    log_bins: bool

    @classmethod
    def fit(
        cls,
        member: tuple[Tensor, Tensor],
        nonmember: tuple[Tensor, Tensor],
        num_classes: int,
        bins: int = 5,
        log_bins: bool = True,
    ) -> RiskTable:
        """Histograms from (values, labels) of members and non-members, bins shared per class."""
        (m_val, m_lab), (n_val, n_lab) = member, nonmember
        m_val, n_val = cls._scale(m_val.double(), log_bins), cls._scale(n_val.double(), log_bins)
        edges = torch.full((num_classes, bins + 1), float("nan"), dtype=torch.float64)
        freq_m, freq_n = torch.zeros(2, num_classes, bins, dtype=torch.float64)
        for c in range(num_classes):
            mc, nc = m_val[m_lab == c], n_val[n_lab == c]
            if not len(mc) or not len(nc):
                continue  # no score for this class: it stays NaN
            lo, hi = float(torch.cat([mc, nc]).min()), float(torch.cat([mc, nc]).max())
            if hi == lo:
                lo, hi = lo - 0.5, hi + 0.5
            edges[c] = torch.linspace(lo, hi, bins + 1, dtype=torch.float64)
            freq_m[c] = torch.bincount(_bin(edges[c], mc), minlength=bins) / len(mc)
            freq_n[c] = torch.bincount(_bin(edges[c], nc), minlength=bins) / len(nc)
        return cls(edges, freq_m, freq_n, log_bins)

    @staticmethod
    def _scale(values: Tensor, log_bins: bool) -> Tensor:
        return torch.log(values.clamp_min(LOG_FLOOR)) if log_bins else values

    def bin_scores(self, c: int) -> Tensor:
        """PRS of each bin of class c; an empty bin borrows the nearest bin with mass,
        looking below first (Song & Mittal's order)."""
        m, n = self.member[c], self.nonmember[c]
        out = torch.empty_like(m)
        for k in range(len(m)):
            near = [k] + [j for d in range(1, len(m)) for j in (k - d, k + d) if 0 <= j < len(m)]
            j = next(j for j in near if m[j] + n[j] > 0)
            out[k] = m[j] / (m[j] + n[j])
        return out

    def score(self, values: Tensor, labels: Tensor) -> Tensor:
        """PRS of samples with these modified entropies and labels (NaN: class not fitted)."""
        values, labels = self._scale(values.double().cpu(), self.log_bins), labels.cpu()
        out = torch.full((len(values),), float("nan"), dtype=torch.float64)
        for c in labels.unique().tolist():
            if not 0 <= c < len(self.edges) or torch.isnan(self.edges[c, 0]):
                continue
            sel = labels == c
            out[sel] = self.bin_scores(c)[_bin(self.edges[c], values[sel])]
        return out
