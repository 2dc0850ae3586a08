"""A small CNN for 8×8 (digits) or 32×32 (CIFAR-shaped) images: fast on a laptop CPU."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F


class SmallCNN(nn.Module):
    """conv(16)-ReLU-pool → conv(32)-ReLU-pool → linear, optionally with BatchNorm and dropout.

    Args:
        num_classes: outputs.
        in_channels: image channels (1 for digits, 3 for CIFAR).
        width: channels of the first conv (the second has twice as many).
        batch_norm: BatchNorm after each conv.
        dropout: dropout before the classifier (0 disables it).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        width: int = 16,
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            return [*layers, nn.ReLU(), nn.MaxPool2d(2)]

        self.features = nn.Sequential(*block(in_channels, width), *block(width, 2 * width))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
            nn.Linear(2 * width * 4, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        h = self.features(x)
        # average down to 2×2 with a fixed kernel: AdaptiveAvgPool2d has no deterministic
        # CUDA backward, which `deterministic=true` would refuse (8×8 inputs: identity)
        return self.head(F.avg_pool2d(h, h.shape[-1] // 2))
