"""Work without a ceiling: a legal value far outside a sensible run runs after one warning
line, printed once per process and key (unlearn/config/ceilings.py)."""

from __future__ import annotations

from unlearn.config import ceilings
from unlearn.experiment.preflight import compose_run


def test_a_legal_but_huge_value_warns_once_in_one_line(capsys, monkeypatch):
    monkeypatch.setattr(ceilings, "_warned", set())
    cfg = compose_run(["spectrum.trace_probes=1000000", "unlearn=fine_tune", "unlearn.steps=10"])
    ceilings.check_ceilings(cfg, num_train=1437, n_params=10**6)
    ceilings.check_ceilings(cfg, num_train=1437, n_params=10**6)  # a multirun's next job
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "warning: spectrum.trace_probes=1000000: 1000000 Hessian-vector products per σ event, "
        "far above a sensible run (<= 1000); it runs as asked"
    ]


def test_sensible_values_say_nothing(capsys, monkeypatch):
    monkeypatch.setattr(ceilings, "_warned", set())
    ceilings.check_ceilings(compose_run([]), num_train=1437, n_params=10**6)
    assert capsys.readouterr().err == ""
