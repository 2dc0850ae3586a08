"""Fixtures of the tests against a real SLURM cluster (helpers: tests/slurm/cluster.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cluster import LIMITED, LONG, unlearn


@pytest.fixture
def job_name() -> str:
    """A name no other job has, to find this test's job in the queue."""
    return f"t{uuid.uuid4().hex[:8]}"


def _local(tmp_path_factory, name: str, args: list[str]) -> dict[str, Any]:
    out = tmp_path_factory.mktemp(name)
    return {"proc": unlearn(*args, "lr=0.01", f"hydra.run.dir={out}"), "out": out}


@pytest.fixture(scope="session")
def long_reference(tmp_path_factory) -> dict[str, Any]:
    """The LONG job run locally, once, as the reference of the signal tests (started in
    the background; `cluster.reference_results` waits for it)."""
    return _local(tmp_path_factory, "long_reference", LONG)


@pytest.fixture(scope="session")
def limited_reference(tmp_path_factory) -> dict[str, Any]:
    """The LIMITED job run locally, the reference of the time-limit test."""
    return _local(tmp_path_factory, "limited_reference", LIMITED)
