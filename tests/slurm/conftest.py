"""Fixtures of the tests against a real SLURM cluster (helpers: tests/slurm/cluster.py)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from cluster import LONG, unlearn


@pytest.fixture
def job_name() -> str:
    """A name no other job has, to find this test's job in the queue."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def long_reference(tmp_path_factory) -> dict[str, Any]:
    """The LONG job run locally, once, as the reference of the signal tests (started at
    once in the background; waited for by the first test that reads it)."""
    out = tmp_path_factory.mktemp("long_reference")
    proc = unlearn(*LONG, "lr=0.01", f"hydra.run.dir={out}", env={**os.environ})
    return {"proc": proc, "out": out}
