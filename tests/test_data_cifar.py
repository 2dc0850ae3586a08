"""CIFAR data: the .npz path, normalisation, fixed subsets, and one-line errors offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from paper_fakes import write_cifar_npz

from unlearn.config.checks import ConfigError
from unlearn.data import CIFARDataModule


def _module(npz, **kw) -> CIFARDataModule:
    data = CIFARDataModule(npz=str(npz), **kw)
    data.setup("fit")
    return data


def test_npz_gives_normalised_chw_images(tmp_path):
    npz = write_cifar_npz(tmp_path / "c.npz")
    raw = np.load(npz)
    data = _module(npz)
    assert data.num_classes == 10 and data.num_train == 60 and len(data.test_set) == 20
    x = data.train_set.x
    assert x.shape == (60, 3, 32, 32) and x.dtype == torch.float32
    # pixel (row 1, col 2, channel 0) of image 5, by hand: (v / 255 − mean) / std
    want = (raw["x_train"][5, 1, 2, 0] / 255.0 - 0.4914) / 0.2470
    assert x[5, 0, 1, 2].item() == pytest.approx(want, rel=1e-6)
    assert torch.equal(data.train_set.y, torch.from_numpy(raw["y_train"]))


def test_cifar100_uses_its_own_statistics(tmp_path):
    npz = write_cifar_npz(tmp_path / "c100.npz", num_classes=100, n_train=200)
    data = _module(
        npz, dataset="cifar100", mean=(0.5071, 0.4865, 0.4409), std=(0.2673, 0.2564, 0.2762)
    )
    assert data.num_classes == 100
    raw = np.load(npz)["x_train"][0, 0, 0, 2] / 255.0
    assert data.train_set.x[0, 2, 0, 0].item() == pytest.approx((raw - 0.4409) / 0.2762, rel=1e-6)


def test_subsets_are_fixed_and_independent_of_the_run_seed(tmp_path):
    npz = write_cifar_npz(tmp_path / "c.npz")
    a = _module(npz, train_subset=16, test_subset=8)
    b = _module(npz, train_subset=16, test_subset=8)
    assert a.num_train == 16 and len(a.test_set) == 8
    assert torch.equal(a.train_set.x, b.train_set.x)
    assert not torch.equal(a.train_set.x, _module(npz, train_subset=16, subset_seed=1).train_set.x)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda a: a.pop("y_test"), "missing y_test"),
        (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "x_train is float32"),
        (lambda a: a.update(x_test=a["x_test"][:, :16]), "x_test is uint8 (20, 16, 32, 3)"),
        (lambda a: a.update(y_train=a["y_train"][:-1]), "y_train is int64 (59,) for 60 images"),
        (lambda a: a.update(y_test=a["y_test"] + 10), "y_test spans"),
    ],
    ids=["missing-key", "dtype", "shape", "length", "labels"],
)
def test_a_malformed_npz_is_one_config_error(tmp_path, mutate, message):
    arrays = dict(np.load(write_cifar_npz(tmp_path / "ok.npz")))
    mutate(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ConfigError, match="data.npz=") as err:
        _module(tmp_path / "bad.npz")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_cifar10_file_is_not_taken_for_cifar100(tmp_path):
    with pytest.raises(ConfigError, match="10 distinct labels, the data set 100"):
        _module(write_cifar_npz(tmp_path / "c.npz"), dataset="cifar100")


def test_missing_file_names_the_option(tmp_path):
    with pytest.raises(ConfigError, match=r"data.npz='.*nope.npz': no such file"):
        _module(tmp_path / "nope.npz")


def test_no_network_and_no_local_copy_is_one_line_naming_data_npz(tmp_path, monkeypatch):
    monkeypatch.setattr("unlearn.data.cifar.reachable", lambda url: False)
    data = CIFARDataModule(data_dir=str(tmp_path / "empty"))
    with pytest.raises(ConfigError) as err:
        data.setup("fit")
    msg = str(err.value)
    assert "unreachable" in msg and "data.npz=PATH" in msg and "\n" not in msg


def test_download_disabled_says_so(tmp_path):
    data = CIFARDataModule(data_dir=str(tmp_path), download=False)
    with pytest.raises(ConfigError, match="data.download=false"):
        data.setup("fit")


def test_bad_values_are_config_errors(tmp_path):
    npz = write_cifar_npz(tmp_path / "c.npz")
    with pytest.raises(ConfigError, match="data.dataset='cifar1000'"):
        _module(npz, dataset="cifar1000")
    with pytest.raises(ConfigError, match="data.std="):
        _module(npz, std=(0.2, 0.0, 0.2))
    with pytest.raises(ConfigError, match="data.train_subset=0"):
        _module(npz, train_subset=0)
