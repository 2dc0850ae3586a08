"""Deterministic-op audit: every ATen op our models, losses and σ probes run is allowed on
CUDA under ``torch.use_deterministic_algorithms(True)``, by PyTorch's documented list."""

from __future__ import annotations

import os

import pytest
import torch
from paper_fakes import TINY_BERT

from unlearn.math.hessian import functional_loss, hessian_spectrum
from unlearn.math.losses import TrainingObjective
from unlearn.models import MLP, VGG19, DistilBertClassifier, ResNet18, SmallCNN
from unlearn.runtime import determinism


def _images(channels: int = 3, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(4, channels, size, size, generator=g), torch.tensor([0, 1, 2, 1])


def _tokens() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([[2, 7, 8, 3, 0], [2, 9, 3, 0, 0], [2, 8, 8, 3, 0], [2, 7, 3, 0, 0]]), (
        torch.tensor([0, 1, 1, 0])
    )


MODELS = {
    "resnet18": (lambda: ResNet18(num_classes=10, width=4), _images),
    "vgg19": (lambda: VGG19(num_classes=10, width=4), _images),
    "small_cnn": (lambda: SmallCNN(10, in_channels=3, batch_norm=True, dropout=0.5), _images),
    "mlp": (lambda: MLP(48, 10, hidden=[8], batch_norm=True, dropout=0.5), lambda: _images(3, 4)),
    "distilbert": (lambda: DistilBertClassifier(2, pretrained=None, config=TINY_BERT), _tokens),
}


def _step_and_sigma(name: str) -> set[str]:
    """The ops of one training step (CE + SD + ℓ2, backward) and a Lanczos σ probe."""
    torch.manual_seed(0)
    build, batch = MODELS[name]
    net, (x, y) = build(), batch()
    objective = TrainingObjective(gamma=5.0, l2_lambda=1e-4)

    def work() -> None:
        loss = objective.batch_loss(net(x), y, list(net.parameters()))
        loss.backward()
        hessian_spectrum(
            net, functional_loss(objective, x, y), max_iter=3, method="lanczos", first_check=2
        )

    return determinism.record_ops(work)


@pytest.fixture(scope="module")
def ops() -> dict[str, set[str]]:
    return {name: _step_and_sigma(name) for name in MODELS}


def test_every_transcribed_entry_is_in_the_installed_docstring():
    doc = torch.use_deterministic_algorithms.__doc__ or ""
    alternative, raises = doc.split("normally-nondeterministic operations will throw")[:2]
    alternative = alternative.split("normally-nondeterministic operations will act")[1]
    for entry in determinism.CUDA_RAISES.values():
        assert f":class:`{entry}`" in raises or f":func:`{entry}`" in raises, entry
    for entry in determinism.CUDA_SLOWER.values():
        assert f":class:`{entry}`" in alternative or f":func:`{entry}`" in alternative, entry


@pytest.mark.parametrize("name", sorted(MODELS))
def test_no_op_of_ours_raises_on_cuda_when_deterministic(ops, name):
    raising, _ = determinism.flagged(ops[name])
    assert raising == {}, f"{name} runs ops without a deterministic CUDA kernel: {raising}"


def test_the_audit_sees_what_it_should(ops):
    """The recorder catches backward and double-backward ops, and the known findings hold:
    cross-entropy is the per-sample 1-D nll_loss, never the raising nll_loss2d; ResNet's
    pool is a plain mean; the slower-but-deterministic kernels are the expected ones."""
    for name in MODELS:
        assert {"nll_loss_forward", "nll_loss_backward"} <= ops[name]
        assert "nll_loss2d_forward" not in ops[name]
    assert "convolution_backward" in ops["resnet18"] and "mean" in ops["resnet18"]
    assert not any("adaptive" in op for op in ops["resnet18"])
    assert "max_pool2d_with_indices_backward" in ops["vgg19"]
    _, slower = determinism.flagged(ops["vgg19"])
    assert "gather" in slower  # max-pool's double backward inside the σ probe
    _, slower = determinism.flagged(ops["distilbert"])
    assert "embedding_dense_backward" in slower


def test_an_adaptive_pool_would_be_caught():
    """(AdaptiveAvgPool2d(1) would pass: PyTorch computes a 1×1 output as a mean.)"""
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.AdaptiveAvgPool2d(2))
    x = torch.randn(2, 3, 8, 8)
    found = determinism.record_ops(lambda: net(x).sum().backward())
    raising, _ = determinism.flagged(found)
    assert raising == {"_adaptive_avg_pool2d_backward": "torch.nn.AdaptiveAvgPool2d"}


def test_prepare_sets_the_cublas_workspace_unless_given(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    determinism.prepare()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    determinism.prepare()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
