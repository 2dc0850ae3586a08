"""CIFAR-10 and CIFAR-100: from torchvision (downloaded when the network is there) or a `.npz`.

Images are scaled to [0, 1] and normalised per channel with the standard means and
standard deviations of each training set; no augmentation (the paper's regime: augmentation would
put several copies of a forgotten sample into training). The whole set is held in
memory as float32 tensors (about 0.6 GB for CIFAR's 50,000 training images), so a batch
is one indexing op. Without network and without a local copy, `setup` raises a one-line
`ConfigError` that names ``data.npz=PATH``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import torch

from unlearn.config.checks import ConfigError
from unlearn.config.errors import EnvironmentProblem
from unlearn.data.arrays import ArrayDataModule, IndexedArrays
from unlearn.data.npz import check_image_arrays, load_image_npz
from unlearn.data.subset import subset_indices
from unlearn.runtime.hub import reachable

NUM_CLASSES = {"cifar10": 10, "cifar100": 100}


def _torchvision_arrays(dataset: str, data_dir: str, download: bool) -> dict[str, np.ndarray]:
    from torchvision.datasets import CIFAR10, CIFAR100

    cls = CIFAR10 if dataset == "cifar10" else CIFAR100
    hint = "allowed a folder that holds it, or a local copy: data.npz=PATH"
    try:
        sets = [cls(data_dir, train=train, download=False) for train in (True, False)]
    except RuntimeError:  # "Dataset not found or corrupted"
        if not download:
            raise EnvironmentProblem(
                f"data.data_dir={data_dir!r}: no {dataset} there and data.download=false; {hint}"
            ) from None
        if not reachable(cls.url):
            raise EnvironmentProblem(
                f"data.data_dir={data_dir!r}: no {dataset} there and "
                f"{urlsplit(cls.url).netloc} is unreachable (no network?); {hint}"
            ) from None
        try:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            sets = [cls(data_dir, train=train, download=True) for train in (True, False)]
        except Exception as err:  # noqa: BLE001 - a failed download is the user's to fix
            raise EnvironmentProblem(
                f"data.data_dir={data_dir!r}: downloading {dataset} failed "
                f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); {hint}"
            ) from None
    train, test = sets
    return {
        "x_train": np.asarray(train.data, dtype=np.uint8),
        "y_train": np.asarray(train.targets, dtype=np.int64),
        "x_test": np.asarray(test.data, dtype=np.uint8),
        "y_test": np.asarray(test.targets, dtype=np.int64),
    }


class CIFARDataModule(ArrayDataModule):
    """CIFAR-10 or CIFAR-100 as (3, 32, 32) float images, normalised per channel.

    Args:
        dataset: ``cifar10`` or ``cifar100``.
        data_dir: torchvision's folder for the data set (downloaded into it if missing).
        npz: a local `.npz` copy instead of torchvision (see `unlearn.data.npz`).
        download: allow the download when `data_dir` lacks the data set.
        mean: per-channel mean of the training images in [0, 1].
        std: per-channel standard deviation of the training images in [0, 1].
        train_subset: keep a fixed random subset of this many training images (None: all).
        test_subset: the same for the test set.
        subset_seed: seed of those subsets (fixed, not the run seed).
    """

    def __init__(
        self,
        dataset: str = "cifar10",
        data_dir: str = "data",
        npz: str | None = None,
        download: bool = True,
        mean: Sequence[float] = (0.4914, 0.4822, 0.4465),
        std: Sequence[float] = (0.2470, 0.2435, 0.2616),
        train_subset: int | None = None,
        test_subset: int | None = None,
        subset_seed: int = 0,
        **kw,
    ) -> None:
        super().__init__(**kw)
        self.dataset = dataset
        self.data_dir = data_dir
        self.npz = npz
        self.download = download
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.train_subset = train_subset
        self.test_subset = test_subset
        self.subset_seed = subset_seed
        self.num_classes = NUM_CLASSES.get(dataset, 0)

    def _check(self) -> None:
        """Values only setup can report as a ConfigError (instantiate would wrap it)."""
        if self.dataset not in NUM_CLASSES:
            raise ConfigError(f"data.dataset={self.dataset!r}: allowed cifar10, cifar100")
        for key, value in (("mean", self.mean), ("std", self.std)):
            if len(value) != 3:
                raise ConfigError(f"data.{key}={list(value)}: allowed three numbers (R, G, B)")
        if min(self.std) <= 0:
            raise ConfigError(f"data.std={list(self.std)}: allowed numbers > 0")
        for key in ("train_subset", "test_subset"):
            size = getattr(self, key)
            if size is not None and not (isinstance(size, int) and size >= 1):
                raise ConfigError(f"data.{key}={size!r}: allowed null or an integer >= 1")

    def _to_tensors(self, x: np.ndarray, y: np.ndarray) -> IndexedArrays:
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        images = torch.from_numpy(x).permute(0, 3, 1, 2).float().div_(255.0)
        images = images.sub_(mean).div_(std).contiguous()
        return IndexedArrays(images, torch.from_numpy(y.astype(np.int64)))

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        self._check()
        self.full_sizes: dict[str, int] = {}
        if self.npz:
            arrays = load_image_npz(self.npz, self.num_classes)
        else:
            arrays = _torchvision_arrays(self.dataset, self.data_dir, self.download)
            check_image_arrays(arrays, self.num_classes, self.data_dir, key="data.data_dir")
        for split, size in (("train", self.train_subset), ("test", self.test_subset)):
            self.full_sizes[split] = len(arrays[f"y_{split}"])  # before the subset (ceilings)
            keep = subset_indices(len(arrays[f"y_{split}"]), size, self.subset_seed)
            if keep is not None:
                arrays[f"x_{split}"] = arrays[f"x_{split}"][keep]
                arrays[f"y_{split}"] = arrays[f"y_{split}"][keep]
        self.train_set = self._to_tensors(arrays["x_train"], arrays["y_train"])
        self.test_set = self._to_tensors(arrays["x_test"], arrays["y_test"])
