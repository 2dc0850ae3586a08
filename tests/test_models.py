"""The paper's models: kuangliu's CIFAR ResNet-18 and VGG-19-BN, and the DistilBERT wrappers."""

from __future__ import annotations

import pytest
import torch
from paper_fakes import TINY_BERT
from torch import nn

from unlearn.config.checks import ConfigError
from unlearn.models import VGG19, DistilBertClassifier, FeatureHead, ResNet18
from unlearn.models.distilbert import build_distilbert, trim_padding


@pytest.mark.parametrize(
    ("cls", "classes", "params"),
    [
        (ResNet18, 10, 11_173_962),  # kuangliu/pytorch-cifar's ResNet18(): 11.17M
        (ResNet18, 100, 11_220_132),
        (VGG19, 10, 20_040_522),  # kuangliu's VGG('VGG19'): 20.04M
        (VGG19, 100, 20_086_692),
    ],
)
def test_parameter_counts_and_outputs(cls, classes, params):
    net = cls(num_classes=classes)
    assert sum(p.numel() for p in net.parameters()) == params
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, classes)


def _resnet18_count(w: int, classes: int = 10) -> int:
    """ResNet-18's parameters by hand: convs without bias, BN affine (2 per channel)."""
    total = 3 * w * 9 + 2 * w  # stem
    cin = w
    for cout, stride in ((w, 1), (2 * w, 2), (4 * w, 2), (8 * w, 2)):
        for block_in, block_stride in ((cin, stride), (cout, 1)):
            total += block_in * cout * 9 + cout * cout * 9 + 4 * cout
            if block_stride != 1 or block_in != cout:
                total += block_in * cout + 2 * cout  # 1×1 projection + BN
        cin = cout
    return total + 8 * w * classes + classes


def _vgg19_count(w: int, classes: int = 10) -> int:
    """VGG-19-BN's parameters by hand: 16 convs with bias, BN affine, one linear layer."""
    widths = [w] * 2 + [2 * w] * 2 + [4 * w] * 4 + [8 * w] * 8
    total, cin = 0, 3
    for cout in widths:
        total += cin * cout * 9 + cout + 2 * cout
        cin = cout
    return total + 8 * w * classes + classes


@pytest.mark.parametrize("width", [8, 16, 32, 64])
def test_width_scales_every_stage_and_64_is_the_paper_model(width):
    for cls, by_hand, paper in (
        (ResNet18, _resnet18_count, 11_173_962),
        (VGG19, _vgg19_count, 20_040_522),
    ):
        net = cls(num_classes=10, width=width)
        assert sum(p.numel() for p in net.parameters()) == by_hand(width)
        convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
        assert convs[0].out_channels == width and max(c.out_channels for c in convs) == 8 * width
        assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
        if width == 64:
            assert by_hand(64) == paper
            assert cls(num_classes=10).state_dict().keys() == net.state_dict().keys()


def test_width_reaches_the_model_from_config(tmp_path):
    from conftest import compose_config
    from hydra.utils import instantiate

    cfg = compose_config(["model=resnet18", "model.width=8"], tmp_path)
    assert sum(p.numel() for p in instantiate(cfg.model).parameters()) == _resnet18_count(8)
    with pytest.raises(ConfigError, match=r"^model.width=0: allowed an integer >= 1 and <= 4096$"):
        from unlearn.config.checks import validate

        validate(compose_config(["model=vgg19", "model.width=0"], tmp_path))


def test_resnet_stem_is_cifar_style():
    net = ResNet18()
    conv = net.stem[0]
    assert conv.kernel_size == (3, 3) and conv.stride == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in net.modules())


def test_vgg_has_batchnorm_after_every_conv():
    layers = list(VGG19().features)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    assert len(convs) == 16
    assert all(isinstance(layers[i + 1], nn.BatchNorm2d) for i in convs)


def test_trim_padding_drops_only_all_pad_columns():
    ids = torch.tensor([[2, 7, 3, 0, 0, 0], [2, 7, 8, 9, 3, 0]])
    trimmed, mask = trim_padding(ids, pad_id=0)
    assert trimmed.tolist() == [[2, 7, 3, 0, 0], [2, 7, 8, 9, 3]]
    assert mask.tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]


def test_distilbert_logits_do_not_depend_on_padding_length():
    torch.manual_seed(0)
    net = DistilBertClassifier(num_classes=2, pretrained=None, config=TINY_BERT).eval()
    short = torch.tensor([[2, 7, 8, 3, 0], [2, 9, 3, 0, 0]])
    long = torch.cat([short, torch.zeros(2, 11, dtype=torch.long)], dim=1)
    assert torch.allclose(net(short), net(long), atol=1e-6)
    assert net.model.config._attn_implementation == "eager"  # σ needs a double backward


def test_distilbert_takes_a_double_backward():
    torch.manual_seed(0)
    net = DistilBertClassifier(pretrained=None, config=TINY_BERT)
    loss = net(torch.tensor([[2, 7, 8, 3], [2, 9, 3, 0]])).logsumexp(1).mean()
    params = [p for p in net.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, create_graph=True)
    hv = torch.autograd.grad(sum((g * g).sum() for g in grads), params, allow_unused=True)
    assert any(h is not None and h.abs().sum() > 0 for h in hv)


def test_feature_head_is_one_linear_layer():
    head = FeatureHead(in_features=16, num_classes=2, frozen_encoder={"pretrained": "x"})
    assert head(torch.randn(3, 16)).shape == (3, 2)
    assert sum(p.numel() for p in head.parameters()) == 16 * 2 + 2


def test_seeded_encoder_is_reproducible():
    a = build_distilbert("encoder", None, TINY_BERT, "k", seed=3)
    b = build_distilbert("encoder", None, TINY_BERT, "k", seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_unavailable_checkpoint_is_one_config_error(monkeypatch, tmp_path):
    monkeypatch.setattr("unlearn.runtime.hub.reachable", lambda url: False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        DistilBertClassifier(pretrained="distilbert-base-uncased")
    msg = str(err.value)
    assert msg.startswith("model.pretrained='distilbert-base-uncased'") and "PATH" in msg
    assert "\n" not in msg
    with pytest.raises(ConfigError, match="no config"):
        DistilBertClassifier(pretrained=None, config=None)
