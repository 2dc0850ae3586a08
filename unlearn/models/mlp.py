"""Fully connected models: an MLP and a plain linear map (for exact least-squares checks)."""

from __future__ import annotations

from torch import Tensor, nn


class MLP(nn.Module):
    """Flatten → [Linear → (BatchNorm) → Tanh] × len(hidden) → Linear.

    Tanh keeps the Hessian smooth, which the exact σ tests need.
    """

    def __init__(
        self,
        in_features: int = 64,
        num_classes: int = 10,
        hidden: tuple[int, ...] | list[int] = (32,),
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.Tanh())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Linear(nn.Module):
    """y = W·flatten(x) + c: SGD on a quadratic loss is then affine in the weights."""

    def __init__(self, in_features: int = 64, num_classes: int = 10, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, num_classes, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x.flatten(1))
