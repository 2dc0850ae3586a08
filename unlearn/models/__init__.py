"""Models, each with `num_classes` (or outputs) so data and model compose from config."""

from unlearn.models.distilbert import DistilBertClassifier, FeatureHead
from unlearn.models.mlp import MLP, Linear
from unlearn.models.resnet import ResNet18
from unlearn.models.small_cnn import SmallCNN
from unlearn.models.vgg import VGG19

__all__ = ["MLP", "DistilBertClassifier", "FeatureHead", "Linear", "ResNet18", "SmallCNN", "VGG19"]
