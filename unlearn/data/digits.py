"""scikit-learn's bundled digits (1,797 real 8×8 images, 10 classes): the offline default.

No download: the data ships inside scikit-learn. The train/test split is a fixed
function of `split_seed`, stratified by label.
"""

from __future__ import annotations

import math

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from unlearn.config.errors import ConfigError
from unlearn.data.arrays import ArrayDataModule, IndexedArrays


class DigitsDataModule(ArrayDataModule):
    """Digits as (1, 8, 8) float images scaled to [0, 1], standardised by the train mean/std.

    Args:
        test_fraction: share of the 1,797 images held out for testing.
        split_seed: seed of the stratified train/test split (fixed, not the run seed).
        flatten: give (64,) vectors instead of images (for MLPs and linear models).
    """

    num_classes = 10

    def __init__(
        self, test_fraction: float = 0.2, split_seed: int = 0, flatten: bool = False, **kw
    ) -> None:
        super().__init__(**kw)
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"data.test_fraction={test_fraction}; allowed: 0 < value < 1")
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        self.flatten = flatten

    def _check_split(self, n: int) -> None:
        """A stratified split needs every class on both sides: at least 10 images each
        (scikit-learn's own error names no key)."""
        test = math.ceil(self.test_fraction * n)
        if min(test, n - test) < self.num_classes:
            lo, hi = self.num_classes / n, 1 - self.num_classes / n
            raise ConfigError(
                f"data.test_fraction={self.test_fraction}: leaves {n - test} training and "
                f"{test} test images of {n}; allowed a share in [{lo:.4f}, {hi:.4f}] "
                f"({self.num_classes} images of each side at least)"
            )

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        digits = load_digits()
        x = digits.images.astype("float32") / 16.0
        y = digits.target.astype("int64")
        self._check_split(len(y))
        x_tr, x_te, y_tr, y_te = train_test_split(
            x, y, test_size=self.test_fraction, random_state=self.split_seed, stratify=y
        )
        mean, std = float(x_tr.mean()), float(x_tr.std())
        shape = (-1, 64) if self.flatten else (-1, 1, 8, 8)

        def to_tensor(a):  # noqa: ANN001, ANN202
            return torch.from_numpy((a - mean) / std).reshape(shape).contiguous()

        self.train_set = IndexedArrays(to_tensor(x_tr), torch.from_numpy(y_tr))
        self.test_set = IndexedArrays(to_tensor(x_te), torch.from_numpy(y_te))
