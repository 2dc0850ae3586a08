"""Steps or epochs: the one given last on the command line wins (unlearn.config.checks)."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from unlearn.config.checks import prefer_given_unit


@pytest.mark.parametrize(
    "given, expected",
    [
        (["N"], {"N": 5, "N_epochs": None}),
        (["N_epochs"], {"N": None, "N_epochs": 1}),
        (["N_epochs", "N"], {"N": 5, "N_epochs": None}),
        (["N", "gamma", "N_epochs"], {"N": None, "N_epochs": 1}),
        (["+N_epochs", "N"], {"N": 5, "N_epochs": None}),
        ([], {"N": 5, "N_epochs": 1}),  # neither given: the config's own pair is kept
    ],
)
def test_the_later_of_a_pair_wins(given, expected):
    cfg = OmegaConf.create({"N": 5, "N_epochs": 1, "t": 3, "t_epochs": None})
    prefer_given_unit(cfg, given)
    assert {k: cfg[k] for k in ("N", "N_epochs")} == expected
    assert cfg.t == 3 and cfg.t_epochs is None


def test_a_sweep_line_shortened_by_appending_steps():
    cfg = OmegaConf.create({"N": 0, "N_epochs": 20, "t": 3, "t_epochs": 5})  # as composed
    line = "model=small_cnn N_epochs=20 t_epochs=5 track_every=10 +sweep=fig9_t_mini N=0 t=3"
    prefer_given_unit(cfg, [o.split("=", 1)[0] for o in line.split()])
    assert (cfg.N, cfg.N_epochs, cfg.t, cfg.t_epochs) == (0, None, 3, None)
