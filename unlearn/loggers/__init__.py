"""Where a run's numbers go besides ``results.json``: Weights & Biases.

Belongs here: starting and finishing a W&B run from plain values (``wandb_run.py``), the
Lightning logger (``wandb_logger.py``) and syncing offline runs (``sync.py``). A new
logger goes here, with its ``conf/logger/<name>.yaml``. Loggers receive plain values
(names, dicts, paths), never the experiment's classes, so they sit below ``experiment``.
"""
