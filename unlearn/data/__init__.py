"""Data modules and the seeded batch stream that every phase and the twin replay."""

from unlearn.data.arrays import ArrayDataModule, IndexedArrays
from unlearn.data.cifar import CIFARDataModule
from unlearn.data.digits import DigitsDataModule
from unlearn.data.imdb import IMDBDataModule
from unlearn.data.stream import BatchStream

__all__ = [
    "ArrayDataModule",
    "BatchStream",
    "CIFARDataModule",
    "DigitsDataModule",
    "IMDBDataModule",
    "IndexedArrays",
]
