"""Membership-inference risk: the privacy risk score (Song & Mittal) and its shadow model."""

from unlearn.privacy.report import check_prs, privacy_risk
from unlearn.privacy.score import RiskTable, modified_entropy, modified_entropy_of_logits

__all__ = [
    "RiskTable",
    "check_prs",
    "modified_entropy",
    "modified_entropy_of_logits",
    "privacy_risk",
]
