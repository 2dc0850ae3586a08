"""Window callbacks: each is one idea, usable in any Lightning project whose module exposes
``net`` and ``objective`` and whose batches are ``(x, y, idx)``."""

from unlearn.callbacks.hessian_curvature import HessianCurvature
from unlearn.callbacks.hessian_spectrum import HessianSpectrum
from unlearn.callbacks.unlearner import Unlearner
from unlearn.callbacks.unlearning_error import UnlearningError
from unlearn.callbacks.weight_drift import WeightDrift

__all__ = ["HessianCurvature", "HessianSpectrum", "Unlearner", "UnlearningError", "WeightDrift"]
