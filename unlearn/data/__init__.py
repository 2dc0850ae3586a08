"""Data modules and the seeded batch stream that every phase and the twin replay."""

from unlearn.data.arrays import ArrayDataModule, IndexedArrays
from unlearn.data.digits import DigitsDataModule
from unlearn.data.stream import BatchStream

__all__ = ["ArrayDataModule", "BatchStream", "DigitsDataModule", "IndexedArrays"]
