"""``asha-promote``: the pruner setting the early-stopping benchmark measured best, by one
name (``asha`` keeps Optuna's decisions, one option away), recommended first in --help."""

from __future__ import annotations

from climbing import Climb
from clitools import run_cli

from hpo_framework import TrialState, optimize

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
STEPS = 10
MEASURED = {"pause": True, "max_resource": 10, "hopeless_after": 4}




def _run(pruner, options=None):
    study = optimize(Climb(0.3, 0.05, STEPS), SPACE, strategy="random", n_trials=20, seed=1,
                     direction="maximize", pruner=pruner, pruner_options=options)
    return [(t.state, [r["step"] for r in t.intermediate]) for t in study.trials]


def test_asha_promote_decides_as_asha_with_the_measured_options():
    promote = _run("asha-promote")
    assert promote == _run("asha", MEASURED)
    assert {s for s, _ in promote} == {TrialState.COMPLETE, TrialState.PRUNED}
    # no trial trains past its top rung's bar without finishing: rung 9 is not judged
    assert all(steps[-1] != 9 for _, steps in promote)
    assert promote != _run("asha")  # Optuna's decisions stay one name away


def test_help_recommends_it_first():
    out = " ".join(run_cli("--help", check=True).stdout.split())
    assert "Stop hopeless trials early: asha-promote (recommended" in out
    listed = run_cli("--list-plugins", check=True).stdout
    assert "pruner asha-promote: recommended: asha with the measured best setting" in listed
