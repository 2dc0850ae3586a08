"""Models, each with `num_classes` (or outputs) so data and model compose from config."""

from unlearn.models.mlp import MLP, Linear
from unlearn.models.small_cnn import SmallCNN

__all__ = ["MLP", "Linear", "SmallCNN"]
