"""ResNet-18 for 32×32 images as the paper used it: the kuangliu/pytorch-cifar variant.

It differs from torchvision's ImageNet ResNet-18 where CIFAR needs it: a 3×3 stride-1
stem and no max-pool, so the 32×32 input is only downsampled by the three strided
stages (32 → 16 → 8 → 4), then averaged over the 4×4 positions. About 11.2M parameters.

`width` is the stem's channel count (64 in the paper); the stages keep the 1 : 2 : 4 : 8
ratios, so a narrow ResNet-18 (width 16: 0.70M parameters) has the paper's architecture
and depth at about 1/16 of the compute, for CPU runs on real CIFAR-10.
"""

from __future__ import annotations

from torch import Tensor, nn


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with an identity (or 1×1 conv-BN projection) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet-18: stem conv3×3(64) → 4 stages of 2 BasicBlocks → avg-pool → linear.

    Args:
        num_classes: outputs (10 for CIFAR-10, 100 for CIFAR-100).
        in_channels: image channels.
        width: channels of the stem and the first stage (64: the paper's 11.2M model);
            the later stages have 2, 4 and 8 times as many.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        )
        stages: list[nn.Module] = []
        cin = width
        for scale, stride in ((1, 1), (2, 2), (4, 2), (8, 2)):
            cout = scale * width
            stages += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*stages)
        self.linear = nn.Linear(cin, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        # a plain mean, not AdaptiveAvgPool2d: its CUDA backward has no deterministic kernel
        return self.linear(self.layers(self.stem(x)).mean(dim=(2, 3)))
