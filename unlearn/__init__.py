"""unlearn: train models that are easy to unlearn, unlearn them, and measure it."""

from unlearn.config.schema import register as _register_schemas

_register_schemas()  # Hydra finds `schema` and `schema/<group>/*` wherever unlearn is imported
