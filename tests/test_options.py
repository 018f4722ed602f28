"""Declared options: defaults, null, non-finite numbers, ints written as floats, NAME=VALUE."""

import math

import pytest

from hpo_framework import Option, OptionError
from hpo_framework.options import Configurable, parse_pairs, parse_scalar, validate_options

SPEC = {
    "n": Option(10, int, low=1, help="an int with a real default"),
    "rate": Option(0.5, float, low=0.0, high=1.0),
    "mode": Option("a", str, choices=("a", "b")),
    "threads": Option(None, int, low=1, help="None means: let the plugin decide"),
    "x0": Option(None, (list, dict)),
    "untyped": Option(3, low=1),
}
OWNER = "strategy 'demo'"


def test_nullable_defaults_to_whether_the_default_is_none():
    assert Option(10, int).nullable is False
    assert Option("adam", str).nullable is False
    assert Option(None, int).nullable is True
    assert Option(None, str).nullable is True
    assert Option(10, int, nullable=True).nullable is True  # an explicit choice wins
    assert Option(None, int, nullable=False).nullable is False


def test_defaults_fill_what_is_not_given():
    assert validate_options(OWNER, SPEC, {}) == {
        "n": 10, "rate": 0.5, "mode": "a", "threads": None, "x0": None, "untyped": 3}


def test_good_values_pass_and_ints_become_floats_for_float_options():
    out = validate_options(OWNER, SPEC, {"n": 3, "rate": 1, "threads": None, "x0": [1, 2.5]})
    assert out["n"] == 3 and out["rate"] == 1.0 and type(out["rate"]) is float
    assert out["threads"] is None and out["x0"] == [1, 2.5]


BAD_OPTIONS = [
    ({"n": None}, "option 'n' needs a value (int); leave it out for the default (10)"),
    ({"mode": None}, "option 'mode' needs a value (a|b); leave it out for the default ('a')"),
    ({"rate": math.nan}, "option 'rate' must be a finite number, got nan"),
    ({"rate": math.inf}, "option 'rate' must be a finite number, got inf"),
    ({"rate": -math.inf}, "option 'rate' must be a finite number, got -inf"),
    ({"n": math.nan}, "option 'n' must be a finite number, got nan"),
    ({"x0": [1.0, math.nan]}, "option 'x0' must hold finite numbers only, got nan"),
    ({"x0": {"lr": math.inf}}, "option 'x0' must hold finite numbers only, got inf"),
    ({"n": 1e20}, "option 'n' must be an integer, got 1e+20: write a whole number without "
                  "'.' or an exponent"),
    ({"n": 5.0}, "option 'n' must be an integer, got 5.0: write a whole number without "
                 "'.' or an exponent"),
    ({"n": 10**30}, "option 'n' is too large (1000000000000000000000000000000): integers must "
                    "fit in 64 bits (at most 9223372036854775807)"),
    ({"rate": 10**400}, "option 'rate' is too large for a float, got an integer of 1329 bits"),
    ({"n": True}, "option 'n' must be int, got True"),
    ({"n": "abc"}, "option 'n' must be int, got 'abc'"),
    ({"n": "\udcff"}, "option 'n' must be int, got '\\udcff'"),  # a non-UTF-8 argv byte
    ({"n": 0}, "option 'n' must be >= 1, got 0"),
    ({"rate": 2.0}, "option 'rate' must be <= 1.0, got 2.0"),
    ({"mode": "c"}, "option 'mode' must be one of a, b, got 'c'"),
    ({"untyped": "abc"}, "option 'untyped' must be a number, got 'abc'"),
    ({"nope": 1}, "unknown option 'nope' (accepted: n (int), rate (float), mode (a|b), "
                  "threads (int), x0 (list|dict), untyped (value))"),
]


@pytest.mark.parametrize(("given", "message"), BAD_OPTIONS, ids=[m[:40] for _, m in BAD_OPTIONS])
def test_bad_option_values_are_one_line_option_errors(given, message):
    with pytest.raises(OptionError) as info:
        validate_options(OWNER, SPEC, given)
    assert str(info.value) == f"{OWNER}: {message}"
    assert "\n" not in str(info.value)


def test_null_is_accepted_where_the_default_is_none():
    assert validate_options(OWNER, SPEC, {"threads": None, "x0": None})["threads"] is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("5", 5), ("1e-3", 0.001), ("1e20", 1e20), ("-2.5E+3", -2500.0), ("true", True),
     ("[1, 2]", [1, 2]), ("adam", "adam"), ("file.py:build", "file.py:build"),
     ("[1, 2", "[1, 2"), ("null", None), ("", "")],
)
def test_parse_scalar_reads_yaml_1_2_numbers(text, value):
    assert parse_scalar(text) == value


def test_parse_scalar_reads_nan_so_that_validation_can_refuse_it():
    assert math.isnan(parse_scalar(".nan")) and parse_scalar(".inf") == math.inf


BAD_PAIRS = [
    (["kappa"], "-S 'kappa' must look like NAME=VALUE"),
    (["=5"], "-S '=5' has no NAME: write NAME=VALUE"),
    (["kappa=1", "kappa=2"], "-S 'kappa' is given twice: give it once"),
    (["x0=&a [1, *a]"], "-S 'x0': line 1, column 1: YAML aliases are not allowed (the value "
                        "anchored at line 1 is used again): write each value out"),
    (["bad\nname"], "-S 'bad\\nname' must look like NAME=VALUE"),
    (["\udcff=1", "\udcff=2"], "-S '\\udcff' is given twice: give it once"),
]


@pytest.mark.parametrize(("pairs", "message"), BAD_PAIRS, ids=[m[:30] for _, m in BAD_PAIRS])
def test_parse_pairs_errors_are_one_line(pairs, message):
    with pytest.raises(OptionError) as info:
        parse_pairs(pairs, "-S")
    assert str(info.value) == message


def test_parse_pairs_turns_dashes_into_underscores():
    assert parse_pairs(["n-initial-points=5", "acq_func=EI"], "-S") == {
        "n_initial_points": 5, "acq_func": "EI"}


def _declared() -> list:
    from hpo_framework.registry import KINDS, get_registry

    registry = get_registry()
    found = []
    for kind in KINDS:
        for name in sorted(registry.components(kind)):
            obj = registry.get(kind, name)
            if isinstance(obj, type) and issubclass(obj, Configurable) and obj.options:
                found.append(pytest.param(obj, id=f"{kind}-{name}"))
    return found


def test_the_installed_plugins_declare_options():
    names = {p.id for p in _declared()}
    assert {"strategy-random", "strategy-bayes", "evaluator-kfold", "backend-sklearn"} <= names


@pytest.mark.parametrize("cls", _declared())
def test_every_declared_option_takes_its_default_and_refuses_null_unless_it_is_the_default(cls):
    defaults = cls.validate({})
    assert defaults == {k: o.default for k, o in cls.options.items()}
    for key, opt in cls.options.items():
        if opt.default is None:
            assert cls.validate({key: None})[key] is None
            continue
        assert cls.validate({key: opt.default})[key] == opt.default
        with pytest.raises(OptionError, match=f"option '{key}' needs a value"):
            cls.validate({key: None})
        if isinstance(opt.default, float):
            with pytest.raises(OptionError, match=f"option '{key}' must be a finite number"):
                cls.validate({key: math.nan})
