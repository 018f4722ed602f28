"""Users' own data: a CSV (or Parquet) table with -D target=, the task inferred, no test
rows with test_size=0 (k-fold over every row), and every refusal in one line."""

import dataclasses
import json
import textwrap

import numpy as np
import pytest
from clitools import run_cli

from hpo_framework.builtin.file_dataset import load_file
from hpo_framework.contracts import metrics as M
from hpo_framework.contracts.dataset import Dataset, require_test
from hpo_framework.errors import DatasetError, HPOError


def _one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert text and "\n" not in text and "Traceback" not in text
    return text


def _table(path, n=40, seed=0, target_text=True):
    """Columns a, label, b, c (the target in the middle, not last); label is yes/no."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    label = np.where(x[:, 0] + x[:, 1] > 1, "yes", "no")
    lines = ["a,label,b,c"] + [f"{r[0]:.4f},{lab if target_text else int(lab == 'yes')},"
                               f"{r[1]:.4f},{r[2]:.4f}" for r, lab in zip(x, label, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return x, label


def test_csv_target_column_task_inference_and_stratified_split(tmp_path):
    x, label = _table(tmp_path / "d.csv")
    d = load_file(str(tmp_path / "d.csv"), target="label")
    assert d.task == "classification" and d.n_classes == 2
    assert d.extra["classes"] == ["no", "yes"] and d.extra["features"] == ["a", "b", "c"]
    assert d.extra["task_inferred"] == "classification (target 'label': text)"
    assert len(d.x_train) + len(d.x_test) == 40 and len(d.x_test) == 8  # 20 %
    for part in ("train", "test"):  # both classes in both parts (stratified)
        assert set(getattr(d, f"y_{part}").tolist()) == {0, 1}
    # the rows are the file's rows, features in column order without the target
    all_x = np.concatenate([d.x_train, d.x_test])
    all_y = np.concatenate([d.y_train, d.y_test])
    expected = {(round(float(r[0]), 4), round(float(r[1]), 4), round(float(r[2]), 4)):
                int(lab == "yes") for r, lab in zip(x, label, strict=True)}
    got = {tuple(round(float(v), 4) for v in row): int(t) for row, t in zip(all_x, all_y,
                                                                             strict=True)}
    assert got == expected

    # default target: the last column (c: fractional values, so a regression)
    with pytest.raises(DatasetError) as exc:  # its features include the text column
        load_file(str(tmp_path / "d.csv"))
    assert "feature column 'label' is not numeric" in _one_line(exc)
    last = load_file(str(tmp_path / "d.csv"), drop="label")
    assert last.task == "regression" and last.extra["target"] == "c"
    assert last.extra["task_inferred"] == "regression (target 'c': fractional values)"
    kept = load_file(str(tmp_path / "d.csv"), target="b", drop="label")
    assert kept.extra["features"] == ["a", "c"] and kept.input_shape == (2,)
    # whole numbers with few values: classification; -D task= overrides
    _table(tmp_path / "n.csv", target_text=False)
    assert load_file(str(tmp_path / "n.csv"), target="label").task == "classification"
    reg = load_file(str(tmp_path / "n.csv"), target="label", task="regression")
    assert reg.task == "regression" and reg.y_train.dtype == np.float64


def test_test_size_zero_keeps_every_row_for_the_search(tmp_path):
    _table(tmp_path / "d.csv")
    d = load_file(str(tmp_path / "d.csv"), target="label", test_size=0.0)
    assert len(d.x_train) == 40 and d.x_test.shape == (0, 3) and d.y_test.shape == (0,)
    assert not d.has_test and d.shape_values() == {"n_features": 3, "n_rows": 40,
                                                   "n_classes": 2}
    with pytest.raises(DatasetError) as exc:
        require_test(d)
    assert _one_line(exc) == ("dataset 'd' has no test rows (test_size=0), so there is no "
                              "final test: add --no-final-test")
    require_test(load_file(str(tmp_path / "d.csv"), target="label"))  # has test rows
    # the former option name still works, and both at once must agree
    assert not load_file(str(tmp_path / "d.csv"), target="label", test_fraction=0.0).has_test
    with pytest.raises(DatasetError) as exc:
        load_file(str(tmp_path / "d.csv"), target="label", test_size=0.3, test_fraction=0.1)
    assert "give one" in _one_line(exc)


def test_bundled_datasets_take_test_size_zero():
    from hpo_framework.registry import get_registry

    iris = get_registry().get("dataset", "iris")(test_size=0.0).load()
    assert len(iris.x_train) == 150 and not iris.has_test and iris.n_classes == 3
    with pytest.raises(HPOError) as exc:
        get_registry().get("dataset", "iris")(test_size=0.005).load()
    assert _one_line(exc).startswith("dataset 'iris': test_size=0.005 holds out 1 of 150 rows, "
                                     "fewer than the 3 classes")
    with pytest.raises(HPOError) as exc:
        get_registry().get("dataset", "iris")(test_size=-0.1)
    assert "test_size" in _one_line(exc)


def test_every_table_refusal_is_one_line(tmp_path):
    cases = {
        "a,b,y\n1,2,0\n3,4,1\n5,6,0\n": ({"target": "label"},
                                         "no column 'label' for -D target= (columns: a, b, y)"),
        "a,b,y\n1,x2,0\n3,4,1\n5,6,0\n": ({}, "feature column 'b' is not numeric (data row 1: "
                                          "'x2'); encode it as numbers or leave it out with "
                                          "-D drop=b"),
        "a,b,y\n1,2,0\n3,,1\n5,6,0\n": ({}, "feature column 'b' is empty in data row 2; fill or "
                                        "drop missing values (or -D drop=b)"),
        "a,b,y\n1,2,0\n3,4\n5,6,0\n": ({}, "line 3 has 2 values but the header has 3 columns"),
        "a,a,y\n1,2,0\n3,4,1\n5,6,0\n": ({}, "column 'a' appears twice in the header; rename "
                                         "one"),
        "a,b,y\n1,2,0\n3,4,0\n5,6,0\n": ({}, "target 'y' has one value only (0); a "
                                         "classification needs two classes or more"),
        "a,b,y\n1,2,p\n3,4,q\n5,6,r\n": ({}, "target 'y' has 3 distinct values in 3 rows, too "
                                         "many to be classes; name the target with -D "
                                         "target=COLUMN, or -D task=regression for a numeric "
                                         "one"),
        "a,b,y\n1,2,p\n3,4,q\n5,6,p\n7,8,q\n": ({"task": "regression"},
                                                "target column 'y' is not numeric (data row 1: "
                                                "'p')"),
        "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n": ({"drop": "a,zz"},
                                                "no column 'zz' to drop (columns: a, b, y)"),
        "a,y\n1,0\n3,1\n5,0\n7,1\n": ({"drop": "a"},
                                      "no feature columns left besides the target 'y'"),
        "a,b,y\n1,2,0\n": ({}, "needs a header row and at least two data rows"),
    }
    for i, (text, (options, line)) in enumerate(cases.items()):
        path = tmp_path / f"t{i}.csv"
        path.write_text(text)
        with pytest.raises(DatasetError) as exc:
            load_file(str(path), **options)
        assert _one_line(exc) == f"{path}: {line}"
    np.savez(tmp_path / "s.npz", x_train=np.ones((4, 2)), y_train=np.array([0, 1, 0, 1]),
             x_test=np.ones((2, 2)), y_test=np.array([0, 1]))
    assert load_file(str(tmp_path / "s.npz")).has_test
    for option in ({"target": "y"}, {"test_size": 0.0}, {"drop": "a"}, {"seed": 3}):
        with pytest.raises(DatasetError) as exc:  # an option that would be ignored
            load_file(str(tmp_path / "s.npz"), **option)
        assert _one_line(exc) == (f"{tmp_path / 's.npz'}: -D {next(iter(option))}= is for a "
                                  ".csv or .parquet table; an .npz holds its own split "
                                  "(x_train, y_train, x_test, y_test)")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(DatasetError) as exc:
        load_file(str(tmp_path / "t.xlsx"))
    assert _one_line(exc).endswith("unsupported file type '.xlsx' (use .csv, .parquet or .npz)")
    with pytest.raises(DatasetError) as exc:
        load_file(str(tmp_path / "none.csv"))
    assert _one_line(exc) == f"dataset file not found: {tmp_path / 'none.csv'}"


def test_parquet_is_read_with_pandas_or_refused_in_one_line(tmp_path, monkeypatch):
    import pandas as pd

    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    frame = pd.DataFrame({"a": np.arange(20.0), "kind": ["x", "y"] * 10,
                          "b": np.linspace(0, 1, 20)})
    monkeypatch.setattr(pd, "read_parquet", lambda p: frame)  # no Parquet engine needed
    d = load_file(str(path), target="kind", test_size=0.25)
    assert d.task == "classification" and d.extra["classes"] == ["x", "y"]
    assert len(d.x_train) == 15 and len(d.x_test) == 5 and d.input_shape == (2,)

    def no_engine(p):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow'.\nmore")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    with pytest.raises(DatasetError) as exc:
        load_file(str(path))
    assert _one_line(exc).startswith(f"{path}: reading Parquet needs pandas and pyarrow (pip "
                                     "install pandas pyarrow), or save the table as .csv")


def test_no_test_set_is_said_with_none_and_empty_test_arrays_stay_refused():
    x = np.ones((4, 2))
    d = Dataset("m", x, np.array([0, 1, 0, 1]), None, None)
    assert d.x_test.shape == (0, 2) and not d.has_test and d.n_classes == 2
    again = dataclasses.replace(d, description="kept")  # a copy stays without a test set
    assert not again.has_test and again.description == "kept"
    with pytest.raises(DatasetError) as exc:  # a file that lost its test rows
        Dataset("m", x, np.array([0, 1, 0, 1]), x[:0], np.array([]))
    assert _one_line(exc) == ("dataset 'm': x_test has no rows; the test set needs at least "
                              "one")
    with pytest.raises(DatasetError) as exc:
        Dataset("m", x, np.array([0, 1, 0, 1]), x, np.array([0, 1, 0, 1]), has_test=False)
    assert _one_line(exc) == "dataset 'm': has_test=False but x_test has 4 rows"
    with pytest.raises(DatasetError) as exc:
        Dataset("m", np.ones((0, 2)), [], None, None)
    assert _one_line(exc) == "dataset 'm': x_train has no rows; the train set needs at least one"


FAST = ["--strategy", "random", "--backend", "sklearn", "--trials", "1", "--seed", "0",
        "-B", "max_iter=5", "--json"]


def test_kfold_over_every_row_with_test_size_zero_and_a_file_metric(tmp_path):
    """test_size=0 + --no-final-test + kfold: the folds cover every row of the CSV, counted
    by a file.py:function metric (the rows it scored in each fold)."""
    _table(tmp_path / "d.csv", n=43)
    (tmp_path / "count.py").write_text(textwrap.dedent("""
        def rows(y_true, y_pred):
            return len(y_true)
        rows.direction = "maximize"
    """))
    proc = run_cli(*FAST, "--dataset", "file", "--data-path", "d.csv", "-D", "target=label",
                   "-D", "test_size=0", "--no-final-test", "--evaluator", "kfold",
                   "-E", "folds=4", "--metric", "count.py:rows", cwd=tmp_path, check=True)
    data = json.loads(proc.stdout)
    trial = data["trials"][0]
    assert trial["state"] == "COMPLETE" and data["metric"] == "count.py:rows"
    assert sum(trial["metrics"]["folds"]) == 43  # every row validated exactly once
    assert sorted(trial["metrics"]["folds"]) == [10, 11, 11, 11]
    assert 0 <= trial["metrics"]["accuracy"] <= 1  # the defaults are recorded too
    assert "test_score" not in data or data["test_score"] is None

    # the same run with the final test on: one line before anything runs or is written
    refused = run_cli(*FAST, "--dataset", "file", "--data-path", "d.csv", "-D", "target=label",
                      "-D", "test_size=0", "--evaluator", "kfold", "--storage", "other.db",
                      cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("Error: dataset 'd' has no test rows (test_size=0), so "
                                      "there is no final test: add --no-final-test")
    assert not (tmp_path / "other.db").exists()


def test_a_missing_target_column_through_hpo_run_is_one_line(tmp_path):
    _table(tmp_path / "d.csv")
    proc = run_cli(*FAST, "--dataset", "file", "--data-path", "d.csv", "-D", "target=Label",
                   cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("Error: d.csv: no column 'Label' for -D target= (columns: "
                                   "a, label, b, c)")
    M.forget_requested()
