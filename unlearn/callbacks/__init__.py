"""Window callbacks: each is one idea, usable in any Lightning project whose batches are
``(x, y, idx)`` and whose module has what they read (`contract.UnlearnableModule`): the
framework's `unlearn.module.UnlearnModule`, or your own module with a ``net`` and a
``loss`` that inherits `Unlearnable` (docs/bring-your-own.md, examples/own_module.py).
Each callback checks the module at ``setup`` and names what is missing."""

from unlearn.callbacks.contract import ModuleContractError, UnlearnableModule
from unlearn.callbacks.hessian_curvature import HessianCurvature
from unlearn.callbacks.hessian_spectrum import HessianSpectrum
from unlearn.callbacks.unlearnable import Unlearnable
from unlearn.callbacks.unlearner import Unlearner
from unlearn.callbacks.unlearning_error import UnlearningError
from unlearn.callbacks.weight_drift import WeightDrift

__all__ = [
    "HessianCurvature",
    "HessianSpectrum",
    "ModuleContractError",
    "Unlearnable",
    "UnlearnableModule",
    "Unlearner",
    "UnlearningError",
    "WeightDrift",
]
