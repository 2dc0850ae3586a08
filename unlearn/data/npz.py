"""A CIFAR-shaped `.npz` file: the offline copy of an image data set, checked before use.

Expected arrays: ``x_train`` (n, 32, 32, 3) uint8, ``y_train`` (n,) integer labels,
``x_test`` and ``y_test`` likewise. Anything else is a one-line `ConfigError` naming
`data.npz`, what was found and what is allowed, raised before any training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unlearn.config.checks import ConfigError
from unlearn.config.errors import EnvironmentProblem

KEYS = ("x_train", "y_train", "x_test", "y_test")
ALLOWED = "a .npz with uint8 x_train/x_test of shape (n, 32, 32, 3) and integer y_train/y_test (n,)"


def _fail(path: str, problem: str, key: str = "data.npz") -> ConfigError:
    return ConfigError(f"{key}={path!r}: {problem}; allowed {ALLOWED}")


def check_image_arrays(
    arrays: dict[str, np.ndarray], num_classes: int, path: str, key: str = "data.npz"
) -> None:
    """Shapes, dtypes, label range, and that the labels are those of `num_classes` classes.

    `path` and `key` name the source in the error (the file, or `data.data_dir`)."""
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
            raise _fail(path, f"x_{split} is {x.dtype} {x.shape}", key)
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),):
            raise _fail(path, f"y_{split} is {y.dtype} {y.shape} for {len(x)} images", key)
        if len(x) == 0:
            raise _fail(path, f"x_{split} is empty", key)
        if y.min() < 0 or y.max() >= num_classes:
            raise _fail(
                path, f"y_{split} spans {y.min()}..{y.max()}, not 0..{num_classes - 1}", key
            )
    found = len(np.unique(arrays["y_train"]))
    if found != num_classes:
        raise _fail(path, f"y_train has {found} distinct labels, the data set {num_classes}", key)


def load_image_npz(path: str, num_classes: int) -> dict[str, np.ndarray]:
    """The four arrays of the file at `path`, checked (see `check_image_arrays`)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise EnvironmentProblem(str(_fail(path, "no such file")))
    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise _fail(path, f"missing {', '.join(missing)} (has {', '.join(npz.files)})")
            arrays = {k: npz[k] for k in KEYS}
    except ConfigError:
        raise
    except Exception as err:  # noqa: BLE001 - unreadable in any way: say so in one line
        raise _fail(path, f"unreadable ({type(err).__name__})") from None
    check_image_arrays(arrays, num_classes, path)
    return arrays
