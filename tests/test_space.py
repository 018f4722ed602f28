"""Search spaces: schema, validation errors, sampling, grids, encoding, files."""

import json
import random

import pytest

from hpo_framework import Categorical, Constant, Float, Int, Space, SpaceError

NOTEBOOK_GA = {
    "n_layers": {"type": "int", "low": 1, "high": 4},
    "units_1": {"type": "int", "low": 5, "high": 15},
    "units_2": {"type": "int", "low": 5, "high": 15, "condition": {"n_layers": {"ge": 2}}},
    "units_3": {"type": "int", "low": 5, "high": 15, "condition": {"n_layers": {"ge": 3}}},
    "units_4": {"type": "int", "low": 5, "high": 15, "condition": {"n_layers": {"ge": 4}}},
    "learning_rate_init": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "solver": ["sgd", "adam"],
    "max_iter": 10,
}


def test_dict_schema_builds_each_dimension_type():
    space = Space.from_dict(NOTEBOOK_GA)
    assert isinstance(space["n_layers"], Int)
    assert isinstance(space["learning_rate_init"], Float) and space["learning_rate_init"].log
    assert isinstance(space["solver"], Categorical) and space["solver"].choices == ["sgd", "adam"]
    assert isinstance(space["max_iter"], Constant) and space["max_iter"].value == 10
    assert [d.name for d in space.searchable] == [n for n in NOTEBOOK_GA if n != "max_iter"]


def test_samples_are_in_space_plain_types_and_respect_conditions():
    space = Space.from_dict(NOTEBOOK_GA)
    rng = random.Random(0)
    seen_layers = set()
    for _ in range(300):
        p = space.sample(rng)
        assert space.validate(p) == p
        assert all(type(v) in (int, float, str) for v in p.values())
        n = p["n_layers"]
        seen_layers.add(n)
        for k in range(1, 5):
            assert (f"units_{k}" in p) == (k <= n)
        assert 1e-3 <= p["learning_rate_init"] <= 1e-1
    assert seen_layers == {1, 2, 3, 4}


def test_log_float_sampling_is_uniform_in_log_space():
    space = Space.from_dict({"lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True}})
    rng = random.Random(1)
    small = sum(space.sample(rng)["lr"] < 1e-2 for _ in range(2000))
    assert 900 < small < 1100  # half of the decades lie below 1e-2


def test_encode_decode_round_trip():
    space = Space.from_dict(NOTEBOOK_GA)
    rng = random.Random(2)
    for _ in range(100):
        p = space.sample(rng)
        u = space.encode(p)
        assert len(u) == len(space.searchable)
        assert all(0.0 <= x <= 1.0 for x in u)
        back = space.decode(u)
        assert back["n_layers"] == p["n_layers"]
        assert back["solver"] == p["solver"]
        assert back["learning_rate_init"] == pytest.approx(p["learning_rate_init"], rel=1e-9)


def test_int_decode_uses_equal_bins():
    dim = Int("n", 1, 3)
    assert [dim.decode(u) for u in (0.0, 0.33, 0.34, 0.66, 0.67, 1.0)] == [1, 1, 2, 2, 3, 3]


def test_grid_expansion_log_points_and_conditions():
    space = Space.from_dict({
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
        "optimizer": ["sgd", "adam"],
        "momentum": {"type": "float", "low": 0.0, "high": 0.9, "values": [0.0, 0.9],
                     "condition": {"optimizer": "sgd"}},
    })
    assert space["lr"].grid(3) == [0.001, 0.01, 0.1]
    grid = space.grid(3)
    # sgd: 3 lr x 2 momentum; adam: 3 lr, momentum inactive, does not multiply
    assert len(grid) == 9
    assert sum("momentum" in p for p in grid) == 6
    assert len({json.dumps(p, sort_keys=True) for p in grid}) == 9


def test_condition_forms():
    space = Space.from_dict({
        "a": ["x", "y", "z"],
        "b": {"type": "int", "low": 0, "high": 3, "condition": {"a": ["x", "y"]}},
        "c": {"type": "int", "low": 0, "high": 3, "condition": {"a": "z"}},
    })
    assert "b" in space.active({"a": "x", "b": 1, "c": 2})
    assert "c" not in space.active({"a": "x", "b": 1, "c": 2})
    assert space.active({"a": "z", "b": 1, "c": 2}) == {"a": "z", "c": 2}


def test_children_are_ordered_after_parents():
    space = Space.from_dict({
        "units_2": {"type": "int", "low": 1, "high": 2, "condition": {"n": {"ge": 2}}},
        "n": {"type": "int", "low": 1, "high": 2},
    })
    assert space.names == ["n", "units_2"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"lr": {"type": "float", "low": 0.1, "high": 0.001}}, "parameter 'lr': low (0.1) must be less than high"),
        ({"lr": {"type": "float", "low": 0, "high": 1, "log": True}}, "parameter 'lr': a log scale needs low > 0"),
        ({"opt": {"type": "categorical", "choices": []}}, "parameter 'opt': 'choices' must be a non-empty list"),
        ({"x": {"type": "complex", "low": 0, "high": 1}}, "parameter 'x': unknown type 'complex'"),
        ({"x": {"type": "int", "low": 0, "high": 1, "stride": 2}}, "parameter 'x': unknown key 'stride'"),
        ({"x": {"type": "int", "low": 0, "high": 1, "step": 2}},
         "parameter 'x': 'step' (2) is larger than high - low (1)"),
        ({"x": {"type": "int", "low": 0, "high": 3, "condition": {"nope": 1}}},
         "parameter 'x': condition on unknown parameter 'nope'"),
        ({"x": {"type": "int", "low": 0.5, "high": 3}}, "parameter 'x': 'low' must be an integer"),
        ({"x": {"low": 0, "high": 3}}, "parameter 'x': missing 'type'"),
        ({}, "the search space is empty"),
        ({"a": {"type": "int", "low": 0, "high": 3, "condition": {"b": 1}},
          "b": {"type": "int", "low": 0, "high": 3, "condition": {"a": 1}}}, "conditions form a cycle"),
    ],
)
def test_invalid_spaces_are_refused_with_one_line(spec, message):
    with pytest.raises(SpaceError) as info:
        Space.from_dict(spec)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_space_files_in_three_formats_give_the_same_space(tmp_path, suffix):
    texts = {
        ".yaml": "lr: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}\noptimizer: [adam, sgd]\n",
        ".json": '{"lr": {"type": "float", "low": 0.001, "high": 0.1, "log": true}, "optimizer": ["adam", "sgd"]}',
        ".toml": 'optimizer = ["adam", "sgd"]\n[lr]\ntype = "float"\nlow = 0.001\nhigh = 0.1\nlog = true\n',
    }
    path = tmp_path / f"space{suffix}"
    path.write_text(texts[suffix])
    space = Space.from_file(path)
    assert set(space.names) == {"lr", "optimizer"}
    assert space["lr"].log and space["lr"].low == 0.001


def test_bad_space_file_error_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("lr: {type: float, low: 1, high: 0}\n")
    with pytest.raises(SpaceError, match=r"space file .*bad\.yaml: parameter 'lr'"):
        Space.from_file(path)
    path.write_text("lr: [unclosed\n")
    with pytest.raises(SpaceError, match="cannot parse bad.yaml"):
        Space.from_file(path)


def test_validate_rejects_out_of_range_and_unknown_params():
    space = Space.from_dict(NOTEBOOK_GA)
    with pytest.raises(SpaceError, match="unknown parameter 'bogus'"):
        space.validate({"bogus": 1})
    with pytest.raises(SpaceError, match="parameter 'units_1': 99 is outside"):
        space.validate({"n_layers": 1, "units_1": 99, "learning_rate_init": 0.01, "solver": "sgd"})


def test_numpy_values_become_plain_python():
    np = pytest.importorskip("numpy")
    space = Space.from_dict({"n": {"type": "int", "low": 1, "high": 5}, "c": [1, 2]})
    out = space.validate({"n": np.int64(3), "c": np.int64(2)})
    assert type(out["n"]) is int and type(out["c"]) is int
