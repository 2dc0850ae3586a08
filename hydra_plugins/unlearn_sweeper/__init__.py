"""Hydra plugin: the `union` sweeper (a union of Cartesian grids) used by unlearn's sweeps."""
