"""unlearn: train models that are easy to unlearn, unlearn them, and measure it.

From Python, the command line's job (docs/python-api.md)::

    import unlearn

    cfg = unlearn.compose("t=20", "logger=none")  # as `python -m unlearn t=20 logger=none`
    results = unlearn.run(cfg)
    print(unlearn.summary(results))

``import unlearn`` stays light (no torch, no Lightning): `compose`, `run` and `summary`
are imported on first use.
"""

from typing import Any

from unlearn.config.schema import register as _register_schemas

__all__ = ["compose", "run", "summary"]

_register_schemas()  # Hydra finds `schema` and `schema/<group>/*` wherever unlearn is imported


def __getattr__(name: str) -> Any:
    if name in __all__:  # lazily: the experiment layer brings torch and Lightning
        from unlearn.experiment import api

        return getattr(api, name)
    raise AttributeError(f"module 'unlearn' has no attribute {name!r}")
