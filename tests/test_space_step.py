"""Spaces that say what users mean (issue 24): ``step`` on int and float dimensions,
``values`` honoured by every strategy, a ``bool`` type, and bounds that name the data's
shape (``high: n_features``)."""

from __future__ import annotations

import json
import random
import sqlite3
import warnings
from collections import Counter

import pytest

import hpo_framework as hpo
from hpo_framework.errors import SpaceError
from hpo_framework.registry import get_registry
from hpo_framework.space import Bool, Float, Int, Space, SpaceWarning
from hpo_framework.testing import make_strategy, simulate

ODD = [3, 5, 7, 9]
UNITS = list(range(32, 513, 32))
DROP = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
RATES = [0.001, 0.01, 0.1]

SPACE = {
    "odd": {"type": "int", "values": ODD},
    "units": {"type": "int", "low": 32, "high": 512, "step": 32},
    "drop": {"type": "float", "low": 0.1, "high": 0.9, "step": 0.1},
    "lr": {"type": "float", "values": RATES, "log": True},
    "flag": {"type": "bool"},
    "wide": {"type": "int", "low": 0, "high": 10, "values": [2, 8]},  # values inside a range
}
ALLOWED = {"odd": ODD, "units": UNITS, "drop": DROP, "lr": RATES, "flag": [False, True],
           "wide": [2, 8]}
TYPES = {"odd": int, "units": int, "drop": float, "lr": float, "flag": bool, "wide": int}

#: options that make the model-based strategies leave their initial design within 8 trials
OPTIONS = {"bayes": {"n_initial_points": 3}, "skopt": {"n_initial_points": 3},
           "tpe": {"n_startup_trials": 3}, "genetic": {"population_size": 4}}
STRATEGIES = ["random", "grid", "bayes", "genetic", "tpe", "skopt"]


def objective(p):
    return ((p["odd"] - 6) ** 2 + abs(p["units"] - 200) / 100 + (p["drop"] - 0.33) ** 2
            + (0 if p["flag"] else 1) + abs(p["wide"] - 5))


def _check_allowed(params, where):
    for name, allowed in ALLOWED.items():
        value = params[name]
        assert type(value) is TYPES[name], f"{where}: {name}={value!r} is not {TYPES[name]}"
        assert value in allowed, f"{where}: {name}={value!r} is not one of {allowed}"
        assert repr(value) in map(repr, allowed), f"{where}: {name}={value!r} off by rounding"


def _installed(name):
    try:
        get_registry().get("strategy", name)
    except hpo.HPOError:
        pytest.skip(f"strategy '{name}' is not installed")


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_keeps_to_values_steps_and_bools(name):
    _installed(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # grid: most of the grid is skipped
        study = hpo.optimize(objective, SPACE, strategy=name, n_trials=8, seed=0,
                             **OPTIONS.get(name, {}))
    assert len(study.trials) == 8
    for t in study.trials:
        _check_allowed(t.params, f"{name} trial {t.number}")


@pytest.mark.parametrize("name", ["bayes", "genetic", "tpe", "skopt", "random"])
def test_strategies_propose_allowed_values_themselves(name):
    """Without the Study's snap: what ask() returns is already on the steps and values
    (so a strategy never counts two proposals as new that the snap makes one)."""
    _installed(name)
    strategy = make_strategy(get_registry().get("strategy", name), SPACE, seed=1,
                             **OPTIONS.get(name, {}))
    trials = simulate(strategy, 8, batch=2)
    assert len(trials) == 8
    for t in trials:
        _check_allowed(t.user_attrs["asked"], f"{name} ask for trial {t.number}")


# step ----------------------------------------------------------------------------------

def test_step_dimensions_list_exactly_their_values():
    space = Space.from_dict(SPACE)
    assert space["units"].grid() == UNITS
    assert space["drop"].grid(points=3) == DROP  # a step's values, whatever `points` says
    assert [repr(v) for v in space["drop"].grid()] == [repr(v) for v in DROP]
    assert space["odd"].grid() == ODD
    assert space.grid_size() == 4 * 16 * 9 * 3 * 2 * 2
    assert Int("n", 0, 10, step=5).grid() == [0, 5, 10]
    assert Float("x", 0.05, 0.35, step=0.1).grid() == [0.05, 0.15, 0.25, 0.35]


def test_sampling_is_uniform_over_the_allowed_values():
    space = Space.from_dict(SPACE)
    rng = random.Random(0)
    draws = [space.sample(rng) for _ in range(3600)]
    for name in ("units", "drop", "odd"):
        counts = Counter(d[name] for d in draws)
        assert set(counts) == set(ALLOWED[name])
        expected = len(draws) / len(ALLOWED[name])
        assert all(0.75 * expected < c < 1.25 * expected for c in counts.values()), counts


def test_snap_moves_a_proposal_to_the_nearest_allowed_value():
    space = Space.from_dict(SPACE)
    snapped = space.snap({"odd": 6.2, "units": 50, "drop": 0.34, "lr": 0.004, "flag": True,
                          "wide": 4})
    assert snapped == {"odd": 7, "units": 64, "drop": 0.3, "lr": 0.01, "flag": True,
                       "wide": 2}
    assert repr(snapped["drop"]) == "0.3"
    # nearest on the log scale (linearly 0.004 is nearer 0.001, 0.04 nearer 0.01)
    assert space.snap({"lr": 0.004})["lr"] == 0.01 and space.snap({"lr": 0.04})["lr"] == 0.1
    assert space.snap({"units": 47})["units"] == 32 and space.snap({"units": 49})["units"] == 64
    # what no value is near is left for validate() to refuse
    assert space.snap({"units": 9999, "drop": "x"}) == {"units": 9999, "drop": "x"}


def test_validate_refuses_a_value_off_the_step_and_names_the_nearest():
    space = Space.from_dict(SPACE)
    good = {"odd": 5, "units": 64, "drop": 0.30000000000000004, "lr": 0.01, "flag": False,
            "wide": 8}
    assert space.validate(good)["drop"] == 0.3
    assert space.validate({**good, "drop": 0.1 + 0.8})["drop"] == 0.9  # 0.9000000000000001
    assert space.snap({"drop": 0.1 + 0.8}) == {"drop": 0.9}
    cases = [({"units": 50}, "parameter 'units': 50 is not on its step 32 from 32 (nearest: 64)"),
             ({"drop": 0.35}, "parameter 'drop': 0.35 is not on its step 0.1 from 0.1"),
             ({"odd": 4}, "parameter 'odd': 4 is not one of its values [3, 5, 7, 9] (nearest: 3)"),
             ({"flag": 1}, "parameter 'flag': 1 is not true or false"),
             ({"wide": 5}, "parameter 'wide': 5 is not one of its values [2, 8]")]
    for change, message in cases:
        with pytest.raises(SpaceError) as info:
            space.validate({**good, **change})
        assert message in str(info.value)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(("spec", "message"), [
    ({"type": "int", "low": 0, "high": 10, "step": 0}, "'step' must be a number > 0, got 0"),
    ({"type": "float", "low": 0, "high": 1, "step": -0.1}, "'step' must be a number > 0"),
    ({"type": "int", "low": 0, "high": 10, "step": 2.5}, "'step' must be an integer, got 2.5"),
    ({"type": "float", "low": 0.1, "high": 1, "step": 0.1, "log": True},
     "give 'step' or 'log: true', not both"),
    ({"type": "int", "low": 1, "high": 64, "step": 2, "log": True},
     "give 'step' or 'log: true', not both"),
    ({"type": "int", "low": 0, "high": 10, "step": 20}, "'step' (20) is larger than high - low (10)"),
    ({"type": "int", "values": [1, 2], "step": 1}, "give 'step' or 'values', not both"),
    ({"type": "float", "low": 0, "high": 1, "step": "big"}, "'step' must be a number > 0"),
    ({"type": "float", "low": 0, "high": 1e300, "step": 1e-10},
     "'step' (1e-10) gives more than 2**53 values from 0.0 to 1e+300; use a larger step"),
    ({"type": "bool", "values": [True]}, "unknown key 'values' for type bool"),
])
def test_bad_steps_are_one_line(spec, message):
    with pytest.raises(SpaceError) as info:
        Space.from_dict({"x": spec})
    assert f"parameter 'x': {message}" in str(info.value)
    assert "\n" not in str(info.value)


def test_a_high_off_the_step_is_lowered_to_the_last_step_with_a_note():
    with pytest.warns(SpaceWarning, match=r"parameter 'u': high \(500\) is not on the step 32 "
                                          r"from low \(32\); the last value is 480"):
        space = Space.from_dict({"u": {"type": "int", "low": 32, "high": 500, "step": 32}})
    assert space["u"].high == 480 and space["u"].grid()[-1] == 480
    with pytest.warns(SpaceWarning, match="the last value is 0.9"):
        space = Space.from_dict({"f": {"type": "float", "low": 0.1, "high": 0.95, "step": 0.1}})
    assert space["f"].high == 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0.1 + 8 * 0.1 is 0.9 up to rounding: no note
        assert Float("f", 0.1, 0.9, step=0.1).high == 0.9


def test_step_and_bool_round_trip_and_change_the_identity(tmp_path):
    space = Space.from_dict(SPACE)
    stored = json.loads(json.dumps(space.to_dict()))
    assert stored["units"] == {"type": "int", "low": 32, "high": 512, "step": 32}
    assert stored["flag"] == {"type": "bool"}
    assert Space.from_dict(stored) == space
    assert isinstance(Space.from_dict(stored)["flag"], Bool)
    assert "step" not in Space.from_dict({"n": {"type": "int", "low": 1, "high": 4}}).to_dict()["n"]
    other = {**SPACE, "units": {**SPACE["units"], "step": 16}}
    assert Space.from_dict(other).describe_difference(space) == (
        "parameter 'units': step is 32 in the stored space, 16 in this run")
    db = tmp_path / "s.db"
    hpo.optimize(objective, SPACE, strategy="random", n_trials=2, seed=0, storage=db, study="s")
    with pytest.raises(hpo.StudyMismatchError, match="parameter 'units': step is 32 in the "
                                                     "stored space, 16 in this run"):
        hpo.optimize(objective, other, strategy="random", n_trials=3, seed=0, storage=db,
                     study="s")
    with sqlite3.connect(db) as con:
        rows = [json.loads(r[0]) for r in con.execute("SELECT params FROM trials")]
        text = " ".join(r[0] for r in con.execute("SELECT params FROM trials"))
    assert rows and all(type(r["flag"]) is bool for r in rows)
    assert '"flag": true' in text or '"flag": false' in text


def test_bool_is_a_choice_of_two_everywhere():
    space = Space.from_dict({"flag": {"type": "boolean"},
                             "x": {"type": "int", "low": 0, "high": 3, "condition": {"flag": True}}})
    assert space["flag"].grid() == [False, True]
    assert len(space.grid()) == 5  # false, and true with 4 values of x
    assert {space.decode([0.2, 0.5])["flag"], space.decode([0.8, 0.5])["flag"]} == {False, True}
    assert space.validate({"flag": False}) == {"flag": False}
    with pytest.raises(SpaceError, match="parameter 'flag': 'yes' is not true or false"):
        space.validate({"flag": "yes"})


def test_grid_strategy_enumerates_steps_values_and_bools():
    strategy = make_strategy(get_registry().get("strategy", "grid"),
                             {"u": {"type": "int", "low": 0, "high": 20, "step": 10},
                              "f": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.25},
                              "b": {"type": "bool"}})
    points = strategy.ask(100)
    assert strategy.done and len(points) == 3 * 3 * 2
    assert {(p["u"], p["f"], p["b"]) for p in points} == {
        (u, f, b) for u in (0, 10, 20) for f in (0.0, 0.25, 0.5) for b in (False, True)}
    # spread: the first 3 already hold every value of u and f
    assert {p["u"] for p in points[:3]} == {0, 10, 20}
    assert {p["f"] for p in points[:3]} == {0.0, 0.25, 0.5}


# the data's shape ----------------------------------------------------------------------

def test_bounds_may_name_the_data_shape():
    spec = {"k": {"type": "int", "low": 1, "high": "n_features"},
            "half": {"type": "int", "low": 1, "high": "n_features // 2", "step": 1},
            "leaf": {"type": "int", "values": [1, "n_classes", "n_classes * 2"]},
            "frac": {"type": "float", "low": "1 / n_rows", "high": 0.5}}
    space = Space.from_dict(spec, context={"n_features": 64, "n_classes": 3, "n_rows": 200})
    assert space["k"].high == 64 and space["half"].high == 32
    assert space["leaf"].values == [1, 3, 6]
    assert space["frac"].low == 0.005
    assert space.to_dict()["k"] == {"type": "int", "low": 1, "high": 64}  # stored resolved


def test_shape_names_are_one_line_when_unknown(tmp_path):
    with pytest.raises(SpaceError) as info:
        Space.from_dict({"k": {"type": "int", "low": 1, "high": "n_features"}})
    assert str(info.value) == (
        "parameter 'k': 'high' is 'n_features', and 'n_features' is known only where hpo-run "
        "builds the space with its dataset; give a number, or Space.from_dict(..., "
        "context={'n_features': ...})")
    with pytest.raises(SpaceError, match=r"parameter 'k': 'high' refers to unknown name "
                                         r"'n_feature' \(did you mean 'n_features'\? known: "
                                         r"n_features, n_rows\)"):
        Space.from_dict({"k": {"type": "int", "low": 1, "high": "n_feature"}},
                        context={"n_features": 4, "n_rows": 10})
    with pytest.raises(SpaceError, match=r"only a name of the data's shape, numbers and"):
        Space.from_dict({"k": {"type": "int", "low": 1, "high": "n_features ** 9"}},
                        context={"n_features": 4})
    with pytest.raises(SpaceError, match="'low' must be a number, got '1e-3'"):  # text stays text
        Space.from_dict({"k": {"type": "float", "low": "1e-3", "high": 3}},
                        context={"n_features": 4})
    path = tmp_path / "s.yaml"
    path.write_text("k: {type: int, low: 2, high: n_features}\n")
    assert Space.from_file(path, context={"n_features": 9})["k"].high == 9
    with pytest.raises(SpaceError, match=rf"space file {path}: parameter 'k': 'high' is"):
        Space.from_file(path)


def test_a_dataset_gives_the_shape_names():
    import numpy as np

    from hpo_framework.contracts.dataset import Dataset

    data = Dataset("d", np.zeros((10, 4, 2)), np.arange(10) % 3, np.zeros((5, 4, 2)),
                   np.arange(5) % 3)
    space = Space.from_dict({"k": {"type": "int", "low": "n_classes", "high": "n_features"},
                             "b": {"type": "int", "low": 1, "high": "n_rows"}},
                            context=data.shape_values())
    assert (space["k"].low, space["k"].high, space["b"].high) == (3, 8, 10)


@pytest.mark.parametrize("spec", [
    {"type": "int", "low": -7, "high": 50, "step": 3},
    {"type": "int", "low": 1, "high": 64, "log": True},
    {"type": "int", "values": [64, 1, 8, 8], "log": True},
    {"type": "float", "low": -1.0, "high": 1.0, "step": 0.25},
    {"type": "float", "low": 0.0, "high": 1.0, "step": 1 / 3},
    {"type": "float", "low": 0.05, "high": 0.95, "step": 0.1},
    {"type": "float", "values": [0.5, 1e-4, 0.01]},
    {"type": "bool"},
])
def test_every_allowed_value_round_trips(spec):
    """Each listed value is contained, left alone by snap, and decodes from its encoding;
    the encoding gives each an equal bin."""
    dim = Space.from_dict({"x": spec})["x"]
    values = sorted(set(dim.grid()))
    for v in values:
        assert dim.contains(v) and dim.snap(v) == v and type(dim.snap(v)) is type(v)
        assert dim.decode(dim.encode(v)) == v
    if not getattr(dim, "log", False) or getattr(dim, "levels", None) is not None:
        positions = sorted(dim.encode(v) for v in values)
        n = len(values)
        assert positions == pytest.approx([(i + 0.5) / n for i in range(n)])


def test_a_bool_is_shown_as_true_or_false_in_the_report(tmp_path):
    from tests.clitools import run_cli

    db = tmp_path / "b.db"
    study = hpo.optimize(lambda p: (0 if p["flag"] else 1) + p["x"] ** 2,
                     {"flag": {"type": "bool"}, "x": {"type": "float", "low": -1, "high": 1}},
                     strategy="random", n_trials=6, seed=0, storage=str(db), study="b")
    assert {t.params["flag"] for t in study.trials} == {True, False}
    text = run_cli("report", "--study", "b", "--storage", db, check=True).stdout
    rows = [line for line in text.splitlines() if "COMPLETE" in line]
    assert len(rows) == 6 and all(("true" in r) != ("false" in r) for r in rows)
    assert "best configuration: flag=" in text
    assert "True" not in text and "False" not in text
