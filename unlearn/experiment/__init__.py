"""One job from a composed config to ``results.json``, and many jobs as a sweep.

Belongs here: ``run`` (pretrain, window, results), the isolated ``job`` around it,
the command-line ``preflight``, the pretrain cache and checkpoints, ``results.json``,
sweeps (``multirun_sweeps/*.yaml``), launcher checks and the search objective.
A new launcher check goes in ``launchers.py``; a new sweep is a YAML file, not code.
Uses the ML layer (module, twin, forget, callbacks, methods, metrics, privacy) and the
loggers; nothing below imports it.
"""
