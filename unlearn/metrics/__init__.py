"""The field's metrics of an unlearned model M'' beside the twin M' (docs/methods.md, "The
metrics"): accuracies on F, R and the test set and their gaps, membership-inference
efficacy on F, the output distance, and the cost. `scores` holds the pure functions,
`report` applies them to the models of a run."""

from unlearn.metrics.report import field_metrics
from unlearn.metrics.scores import accuracy, js_divergence, mia_efficacy, per_sample_loss

__all__ = ["accuracy", "field_metrics", "js_divergence", "mia_efficacy", "per_sample_loss"]
