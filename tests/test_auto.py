"""The ``auto`` strategy: the GP (``bayes``) while a proposal is cheap against a trial, then
``tpe`` (``genetic`` for several objectives or constraints), recorded on every trial and
replayed exactly on resume. Trial cost is told (``tell(..., duration=)``), so the rule's
input is the same on a busy machine and a quiet one."""

from __future__ import annotations

import hpo_framework as hpo

SPACE = {"x": {"type": "float", "low": -5, "high": 5},
         "y": {"type": "float", "low": -5, "high": 5},
         "n": {"type": "int", "low": 1, "high": 9}}


def f(p):
    return (p["x"] - 1) ** 2 + (p["y"] + 2) ** 2 + abs(p["n"] - 4)


def run(study, n, seconds):
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, f(trial.params), duration=seconds)
    return study


def by(study):
    return [t.user_attrs.get("proposed_by") for t in study.trials]


def test_cheap_trials_hand_over_to_tpe_and_every_trial_says_which_model_proposed_it():
    study = run(hpo.create_study(SPACE, strategy="auto", seed=0, gp_allowance_s=0), 20, 0.001)
    models = by(study)
    assert models[:5] == ["bayes"] * 5 and set(models[5:]) == {"tpe"}
    stats = study.strategy.stats()
    assert stats["model"] == "tpe" and stats["switched_at"] == 5
    assert "gp_share" in stats["reason"] and "gp_allowance_s=0" in stats["reason"]
    assert all(t.user_attrs["proposal_s"] >= 0 for t in study.trials)


def test_a_short_study_of_cheap_trials_keeps_the_gp_within_its_allowance():
    # an allowance no run can spend: the GP stays, as for expensive trials
    study = run(hpo.create_study(SPACE, strategy="auto", seed=0, gp_allowance_s=1e6), 14,
                0.001)
    assert set(by(study)) == {"bayes"}
    gp = [t.user_attrs["gp_s"] for t in study.trials if "gp_s" in t.user_attrs]
    assert len(gp) == 4  # the proposals after bayes's 10 initial draws are the GP's


def test_expensive_trials_keep_the_gp_until_gp_limit():
    study = run(hpo.create_study(SPACE, strategy="auto", seed=0), 14, 30.0)
    assert set(by(study)) == {"bayes"} and study.strategy.stats() == {"model": "bayes"}
    bayes = run(hpo.create_study(SPACE, strategy="bayes", seed=0), 14, 30.0)
    assert [t.params for t in study.trials] == [t.params for t in bayes.trials]  # bayes's own
    limited = run(hpo.create_study(SPACE, strategy="auto", seed=0, gp_limit=8), 12, 30.0)
    assert by(limited) == ["bayes"] * 8 + ["tpe"] * 4
    assert "gp_limit=8" in limited.strategy.stats()["reason"]


def test_a_count_only_hand_over_repeats_whatever_the_trials_cost():
    # the docs' recipe for a study that repeats from its seed: no timed rule, gp_limit only
    fast = run(hpo.create_study(SPACE, strategy="auto", seed=5, gp_allowance_s=1e9,
                                gp_limit=8), 12, 0.0001)
    slow = run(hpo.create_study(SPACE, strategy="auto", seed=5, gp_allowance_s=1e9,
                                gp_limit=8), 12, 30.0)
    assert by(fast) == by(slow) == ["bayes"] * 8 + ["tpe"] * 4
    assert [t.params for t in fast.trials] == [t.params for t in slow.trials]
    timed = run(hpo.create_study(SPACE, strategy="auto", seed=5, gp_allowance_s=0), 12, 0.0001)
    assert by(timed) != by(fast)  # the timed rule would have handed over earlier


def test_a_resumed_study_hands_over_where_the_uninterrupted_one_did(tmp_path):
    whole = run(hpo.create_study(SPACE, strategy="auto", seed=3, gp_allowance_s=0), 16, 0.001)
    db = str(tmp_path / "auto.db")
    with hpo.create_study(SPACE, strategy="auto", seed=3, storage=db, name="a",
                          gp_allowance_s=0) as first:
        run(first, 4, 0.001)  # stopped before the hand-over
    with hpo.create_study(SPACE, strategy="auto", seed=3, storage=db, name="a",
                          gp_allowance_s=0) as second:
        run(second, 5, 0.001)  # stopped after it
    with hpo.create_study(SPACE, strategy="auto", seed=3, storage=db, name="a",
                          gp_allowance_s=0) as third:
        run(third, 7, 0.001)
        assert [t.params for t in third.trials] == [t.params for t in whole.trials]
        assert by(third) == by(whole)
        assert third.strategy.stats()["switched_at"] == 5


def test_several_objectives_hand_over_to_genetic():
    study = hpo.create_study(SPACE, strategy="auto", seed=0, gp_allowance_s=0,
                             directions=["minimize", "minimize"])
    for _ in range(12):
        trial = study.ask()
        p = trial.params
        study.tell(trial, [f(p), (p["x"] + 1) ** 2 + p["n"]], duration=0.001)
    assert set(by(study)[5:]) == {"genetic"}
    assert len(study.best_trials) >= 1


def test_without_bayes_and_tpe_it_falls_back_to_random(monkeypatch):
    from hpo_framework.registry import reset_registry

    monkeypatch.setenv("HPO_DISABLE_PLUGINS", "bayes,tpe")
    reset_registry()
    try:
        study = run(hpo.create_study(SPACE, strategy="auto", seed=0), 8, 0.001)
        assert set(by(study)) == {"random"}
    finally:
        monkeypatch.delenv("HPO_DISABLE_PLUGINS")
        reset_registry()


def test_hpo_run_says_which_model_proposed_which_trials_and_why(tmp_path):
    from tests.clitools import run_cli

    # gp_share=0: any proposal costs more than no share of a trial, whatever the machine
    proc = run_cli("--strategy", "auto", "-S", "gp_share=0", "-S", "gp_allowance_s=0",
                   "-S", "min_trials=3",
                   "--trials", "6", "-B", "max_iter=1", "--no-final-test", "--storage",
                   tmp_path / "a.db", check=True)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("strategy auto:"))
    assert line.startswith("strategy auto: bayes for trials 0-2, then tpe for trials 3-5 "
                           "(handed over: a trial takes ")
    assert "more than gp_share=0 of a trial" in line
