"""Bad search spaces and options: each is one line that says what to do, never a traceback,
a hang or a MemoryError; through the API and, for a few, through hpo-run in a subprocess."""

import math
import os
import sqlite3
import time
import tracemalloc

import pytest
from clitools import run_cli

from hpo_framework import Space, SpaceError
from hpo_framework.space import MAX_GRID_SIZE, describe_space_difference

INT_RANGE = ("beyond the int range of ±9007199254740992 (2**53); use smaller bounds, or a "
             "float with log: true for a range that wide")
BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)
ALIAS = ("YAML aliases are not allowed (the value anchored at line 1 is used again): "
         "write each value out")

# (file name, content, the message after "space file NAME: ")
BAD_FILES = [
    ("s.yaml", "n: {type: int, low: .nan, high: 3}\n", "parameter 'n': 'low' must be finite, got nan"),
    ("s.yaml", "n: {type: int, low: 1, high: .inf}\n", "parameter 'n': 'high' must be finite, got inf"),
    ("s.yaml", "n: {type: int, low: 1, high: 1e29}\n",
     f"parameter 'n': 'high' is 1e+29 (written as a float), {INT_RANGE}"),
    ("s.json", '{"n": {"type": "int", "low": -1e20, "high": 3}}',
     f"parameter 'n': 'low' is -1e+20 (written as a float), {INT_RANGE}"),
    ("s.yaml", "n: {type: int, low: 1, high: 99999999999999999999}\n",
     f"parameter 'n': 'high' is 99999999999999999999, {INT_RANGE}"),
    ("s.yaml", "n: {type: int, low: 1, high: 2.5}\n", "parameter 'n': 'high' must be an integer, got 2.5"),
    ("s.yaml", "x: {type: float, low: -1e308, high: 1e308}\n",
     "parameter 'x': the range -1e+308..1e+308 is too wide (high - low overflows a float); "
     "narrow it, or use log: true with low > 0"),
    ("s.yaml", "x: {type: float, low: 0, high: .inf}\n", "parameter 'x': 'high' must be finite, got inf"),
    ("s.yaml", "x: {type: float, low: 0, high: 1, values: [0.5, .nan]}\n",
     "parameter 'x': 'values' must be finite, got nan"),
    ("s.yaml", "epochs: .nan\n", "parameter 'epochs': a const value must be finite, got nan"),
    ("s.yaml", "epochs: {type: const, value: [1, -.inf]}\n",
     "parameter 'epochs': a const value must be finite, got -inf"),
    ("s.json", '{"epochs": NaN}', "parameter 'epochs': a const value must be finite, got nan"),
    ("s.toml", "opt = [1.0, nan]\n", "parameter 'opt': choices must be finite, got nan"),
    ("s.yaml", "a: [1, 2]\nb: {type: int, low: 1, high: 2, condition: {a: {ge: .nan}}}\n",
     "parameter 'b': the condition on 'a' must be finite, got nan"),
    ("s.yaml", "day: 2020-01-01\n",
     "parameter 'day': a const value must be a string, number, boolean, null or a list or "
     "mapping of them, got datetime.date(2020, 1, 1) (date); quote it to make it text"),
    ("s.yaml", "a: &a [1, 2]\nb: *a\n", f"cannot parse s.yaml: line 1, column 4: {ALIAS}"),
    ("s.yaml", BOMB, f"cannot parse s.yaml: line 1, column 4: {ALIAS}"),
    ("s.yaml", "lr: [1, 2]\nlr: [3]\n", "cannot parse s.yaml: line 2, column 1: key 'lr' is given twice: keep one"),
    ("s.json", '{"lr": [1], "lr": [2]}', "cannot parse s.json: key 'lr' is given twice: keep one"),
    ("s.yaml", "lr: [1, 2\nopt: [a]\n",
     "cannot parse s.yaml: line 2, column 4: did not find expected ',' or ']'"),
    ("s.json", '{"lr": [1, 2,\n]}', "cannot parse s.json: line 2, column 1: Expecting value"),
    ("s.toml", "lr = [1,\nopt =", "cannot parse s.toml: line 2, column 1: Invalid value"),
    ("s.yaml", "x: !!python/object:os.system {}\n",
     "cannot parse s.yaml: line 1, column 4: could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object:os.system'"),
    ("s.yaml", "x: " + "9" * 5000 + "\n", "cannot parse s.yaml: a number has more than 4300 digits"),
    ("s.json", "[" * 100_000 + "]" * 100_000, "cannot parse s.json: nested too deeply"),
    ("s.yaml", b"opt: [adam, \xff]\n", "is not UTF-8 text (byte 0xff at line 1, column 13); save it as UTF-8"),
    ("s.yaml", b"opt: [adam]\nlr: \xe9\n", "is not UTF-8 text (byte 0xe9 at line 2, column 5); save it as UTF-8"),
    ("s.yaml", "x: [" + ", ".join(map(str, range(60_000))) + "]\n",
     "is larger than 256 KiB, too large for a space file; give int and float ranges instead of "
     "long value lists"),
    ("s.txt", "x: [1, 2]\n", "unsupported file type '.txt' (use .yaml, .yml, .json or .toml)"),
    ("s.yaml", "- a\n- b\n", "a search space must be a mapping of parameter name to its definition"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES,
                         ids=[f"{n}:{m[:50]}" for n, _, m in BAD_FILES])
def test_bad_space_files_are_one_line_space_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SpaceError) as info:
            Space.from_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == f"space file {path}: {message}"
    assert time.monotonic() - started < 10  # generous on a loaded machine; a bomb takes minutes
    assert peak < 64 * 2**20


@pytest.mark.parametrize(
    ("target", "kind"),
    [("/dev/zero", "a character device"), (".", "a directory"), ("fifo.yaml", "a pipe")],
)
def test_devices_pipes_and_directories_are_not_space_files(tmp_path, monkeypatch, target,
                                                           kind):
    monkeypatch.chdir(tmp_path)
    if target == "fifo.yaml":
        os.mkfifo(target)  # opening it for reading would wait for a writer forever
    with pytest.raises(SpaceError) as info:
        Space.from_file(target)
    assert str(info.value) == (f"space file {target}: is {kind}, not a regular space file; "
                               "give a .yaml, .json or .toml file")


def test_a_missing_file_says_no_such_file(tmp_path):
    with pytest.raises(SpaceError) as info:
        Space.from_file(tmp_path / "nope.yaml")
    assert str(info.value) == f"space file {tmp_path / 'nope.yaml'}: no such file: {tmp_path / 'nope.yaml'}"


def test_yaml_1_2_numbers_read_as_numbers_like_json_and_toml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("lr: {type: float, low: 1e-4, high: 1E-1, log: true}\n"
                    "n: {type: int, low: 1, high: 1e3}\nopt: [adam, '1e3']\n")
    space = Space.from_file(path)
    assert space["lr"].low == 1e-4 and space["lr"].high == 0.1
    assert space["n"].high == 1000 and type(space["n"].high) is int
    assert space["opt"].choices == ["adam", "1e3"]  # quoted text stays text


BAD_DICTS = [
    ({"n": {"type": "int", "low": math.nan, "high": 3}}, "parameter 'n': 'low' must be finite, got nan"),
    ({"n": {"type": "int", "low": 0, "high": 2**60}},
     f"parameter 'n': 'high' is {2**60}, {INT_RANGE}"),
    ({"x": {"type": "float", "low": 0, "high": 10**400}},
     "parameter 'x': 'high' is an integer of 1329 bits, too large for a float"),
    ({"c": ["a", math.inf]}, "parameter 'c': choices must be finite, got inf"),
    ({"c": {"type": "const", "value": {"lr": math.nan}}},
     "parameter 'c': a const value must be finite, got nan"),
    ({"c": {"type": "const", "value": object}},
     "parameter 'c': a const value must be a string, number, boolean, null or a list or mapping "
     "of them, got <class 'object'> (type); quote it to make it text"),
    ({"a": [1, 2], "b": {"type": "int", "low": 0, "high": 1, "condition": {"a": [1, math.nan]}}},
     "parameter 'b': the condition on 'a' must be finite, got nan"),
]


@pytest.mark.parametrize(("spec", "message"), BAD_DICTS, ids=[m[:50] for _, m in BAD_DICTS])
def test_bad_space_dicts_are_one_line_space_errors(spec, message):
    with pytest.raises(SpaceError) as info:
        Space.from_dict(spec)
    assert str(info.value) == message


def test_a_huge_grid_is_refused_before_it_is_built():
    space = Space.from_dict({"n": {"type": "int", "low": 1, "high": 10**15}, "opt": ["a", "b"]})
    tracemalloc.start()
    try:
        with pytest.raises(SpaceError) as info:
            space.grid()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"the grid would have more than {MAX_GRID_SIZE} points (parameter 'n' alone has "
        f"{10**15} values); give int and float parameters a 'values' list, use fewer grid "
        "points, or another strategy (random, bayes)")
    assert peak < 2**20


def test_a_grid_that_grows_too_large_by_multiplying_is_refused_too():
    space = Space.from_dict({k: {"type": "int", "low": 1, "high": 100} for k in "abcd"})
    with pytest.raises(SpaceError, match=r"\(100000000 once parameter 'd' is added\)"):
        space.grid()
    assert space.grid_size(points=3, limit=10**9) == 100**4


def test_grid_size_counts_conditional_branches_exactly():
    space = Space.from_dict({
        "n_layers": {"type": "int", "low": 1, "high": 3},
        "units_2": {"type": "int", "low": 1, "high": 10, "condition": {"n_layers": {"ge": 2}}},
        "units_3": {"type": "int", "low": 1, "high": 10, "condition": {"n_layers": {"ge": 3}}},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    })
    assert space.grid_size(4) == len(space.grid(4)) == (1 + 10 + 100) * 4


def test_describe_difference_names_parameter_field_and_both_values():
    stored = Space.from_dict({
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
        "opt": ["sgd", "adam"],
        "epochs": 10,
    }).to_dict()
    given = Space.from_dict({
        "lr": {"type": "float", "low": 1e-3, "high": 0.5, "log": True},
        "opt": ["sgd", "adam", "rmsprop"],
        "batch": 32,
    })
    assert given.describe_difference(stored) == (
        "parameter 'lr': high is 0.1 in the stored space, 0.5 in this run; "
        "parameter 'opt': choices: this run adds 'rmsprop'; "
        "parameter 'epochs' is only in the stored space; "
        "parameter 'batch' is only in this run")
    assert given.describe_difference(given.to_dict()) is None


def test_describe_difference_counts_what_it_leaves_out():
    old = Space.from_dict({f"p{i}": [1, 2] for i in range(8)})
    new = Space.from_dict({f"p{i}": [1, 3] for i in range(8)})
    assert old.describe_difference(new).endswith(
        "parameter 'p4': choices: this run adds 2, drops 3; and 3 more")


def test_describe_difference_shows_a_late_difference_in_a_long_list():
    long = [f"choice_{i}" for i in range(200)]
    old = Space.from_dict({"c": long})
    new = Space.from_dict({"c": [*long[:-1], "choice_x"]})
    assert describe_space_difference(old, new, old_label="run A", new_label="run B") == (
        "parameter 'c': choices: run B adds 'choice_x', drops 'choice_199'")


# --- through hpo-run: one line, non-zero exit, nothing written ------------------------

FAST = ["--strategy", "random", "--backend", "sklearn", "--dataset", "digits", "--seed", "0",
        "--trials", "1", "--no-final-test", "--storage", "hpo.db"]
CLI_CASES = [
    (["--space", "/dev/zero"], None,
     "Error: space file /dev/zero: is a character device, not a regular space file; give a "
     ".yaml, .json or .toml file"),
    (["--space", "s.yaml"], "n_layers: 1\nunits_1: {type: int, low: 1, high: 1e29}\n",
     f"Error: space file s.yaml: parameter 'units_1': 'high' is 1e+29 (written as a float), "
     f"{INT_RANGE}"),
    (["--space", "s.yaml"], BOMB, f"Error: space file s.yaml: cannot parse s.yaml: line 1, "
                                  f"column 4: {ALIAS}"),
    (["--space", "s.yaml"], b"solver: [sgd, \xff]\n",
     "Error: space file s.yaml: is not UTF-8 text (byte 0xff at line 1, column 15); save it "
     "as UTF-8"),
    (["-S", "max_retries=null"], None,
     "Error: strategy 'random': option 'max_retries' needs a value (int); leave it out for the "
     "default (100)"),
    (["--evaluator", "kfold", "-E", "folds=null"], None,
     "Error: evaluator 'kfold': option 'folds' needs a value (int); leave it out for the "
     "default (5)"),
    (["-B", "alpha=.inf"], None, "Error: backend 'sklearn': option 'alpha' must be a finite "
                                 "number, got inf"),
]


def _rows(db):
    if not db.exists():
        return None
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("studies", "trials") if t in tables}


@pytest.mark.parametrize(("args", "content", "line"), CLI_CASES,
                         ids=[line[7:50] for _, _, line in CLI_CASES])
def test_hpo_run_refuses_bad_input_with_one_line_and_writes_nothing(tmp_path, args, content,
                                                                     line):
    if isinstance(content, bytes):
        (tmp_path / "s.yaml").write_bytes(content)
    elif content is not None:
        (tmp_path / "s.yaml").write_text(content)
    proc = run_cli(*FAST, *args, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [line]
    assert proc.stdout == ""
    assert _rows(tmp_path / "hpo.db") in (None, {"studies": 0, "trials": 0})


def test_hpo_run_refuses_a_grid_too_large_to_build(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "n_layers: 1\nunits_1: {type: int, low: 1, high: 1e15}\nsolver: [sgd, adam]\n")
    args = [a if a != "random" else "grid" for a in FAST]
    proc = run_cli(*args, "--space", "s.yaml", cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"Error: the grid would have more than {MAX_GRID_SIZE} points (parameter 'units_1' "
        f"alone has {10**15} values); give int and float parameters a 'values' list, use fewer "
        "grid points, or another strategy (random, bayes)"]
    assert _rows(tmp_path / "hpo.db") in (None, {"studies": 0, "trials": 0})
