"""Process plumbing that any layer may use: nothing here knows about unlearning.

Belongs here: atomic file writes, output folders, signal handling (SIGTERM/SIGINT),
GPU slots, seeding, deterministic kernels, downloads (local copy or hub) and the
divergence guard. A new piece of operating-system or framework glue goes here.
Imports only ``unlearn.config``.
"""
