"""VGG-19 for 32×32 images with BatchNorm after every convolution (kuangliu/pytorch-cifar).

Sixteen 3×3 conv-BN-ReLU layers in five blocks, each block closed by a 2×2 max-pool
(32 → 1 pixel), then one linear classifier on the 512 channels. About 20.0M parameters.

`width` is the first block's channel count (64 in the paper); every conv's channels
scale by width / 64, so width 16 (1.25M parameters) keeps the architecture at about 1/16
of the compute.
"""

from __future__ import annotations

from torch import Tensor, nn

# Channels per conv; "M" is a 2×2 max-pool. VGG-19 = configuration E of Simonyan & Zisserman.
VGG19_LAYERS: tuple[int | str, ...] = (
    64, 64, "M",
    128, 128, "M",
    256, 256, 256, 256, "M",
    512, 512, 512, 512, "M",
    512, 512, 512, 512, "M",
)  # fmt: skip


class VGG19(nn.Module):
    """VGG-19-BN for CIFAR.

    Args:
        num_classes: outputs (10 for CIFAR-10, 100 for CIFAR-100).
        in_channels: image channels.
        width: channels of the first block (64: the paper's 20.0M model); the later blocks
            have 2, 4, 8 and 8 times as many.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for spec in VGG19_LAYERS:
            if spec == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            assert isinstance(spec, int)
            cout = spec * width // 64
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x).flatten(1))
