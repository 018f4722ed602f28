"""docs/tutorial.md stays true: its numbers are those scripts/tutorial.py recorded.

The script ran the tutorial's commands and wrote docs/tutorial/results.json; this checks
the doc against that file, both through the script's own rendering and independently,
by reading the doc's tables. It runs nothing heavy: rerun `make tutorial` after a change
to a strategy or backend, and this test tells whether the doc was regenerated."""

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "tutorial.md").read_text()
RESULTS = json.loads((ROOT / "docs" / "tutorial" / "results.json").read_text())


def _script():
    spec = importlib.util.spec_from_file_location("tutorial", ROOT / "scripts" / "tutorial.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables(text):
    """Every markdown table of the doc: a list of rows, each a dict by header."""
    out, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            out.append([dict(zip(block[0], row, strict=True)) for row in block[2:]])
            block = []
    return out


def _g(value):
    return "-" if value is None else f"{value:.4g}"


def test_the_doc_is_what_the_script_renders_from_the_recorded_results():
    assert _script().render(RESULTS) == DOC
    assert "{{" not in DOC


def test_every_study_row_in_the_doc_equals_the_recorded_report():
    tables = _tables(DOC)
    sections = RESULTS["sections"]
    expected = []
    for key, prefix in (("keras12", "compare-keras-digits-"), ("keras54", "full-grid-"),
                        ("small", "small-budget-")):
        expected.append({name[len(prefix):]: r for name, r in sections[key]["studies"].items()})
    study_tables = [t for t in tables if t and "best validation accuracy" in t[0]]
    assert len(study_tables) == 3
    for table, reports in zip(study_tables, expected, strict=True):
        assert [row["strategy"] for row in table] == list(reports)
        for row in table:
            report = reports[row["strategy"]]
            assert row["best validation accuracy"] == _g(report["best_validation"])
            assert row["test accuracy (best config retrained)"] == _g(report["test_score"])
            assert row["trials"] == str(report["trials"])
            assert row["failed"] == str(report["failed"])
            for name, value in report["best_config"].items():
                assert f"{name}={_g(value) if isinstance(value, float) else value}" in \
                    row["best configuration"]
    (repeats,) = [t for t in tables if t and "best validation: median [min, max]" in t[0]]
    for row, agg in zip(repeats, sections["repeats"]["printed"]["by_strategy"], strict=True):
        assert row["strategy"] == agg["strategy"] and row["runs"] == str(agg["runs"])
        assert row["best validation: median [min, max]"] == (
            f"{_g(agg['best_validation_median'])} [{_g(agg['best_validation_min'])}, "
            f"{_g(agg['best_validation_max'])}]")


def test_the_doc_shows_the_recorded_commands_and_existing_figures():
    blocks = [re.sub(r"\s*\\\n\s*", " ", b).strip()
              for b in re.findall(r"```\n(hpo-run .*?)```", DOC, flags=re.S)]
    for section in RESULTS["sections"].values():
        assert section["command"] in blocks
    figures = re.findall(r"!\[[^\]]*\]\((tutorial/[^)]+)\)", DOC)
    assert len(figures) == 7
    for figure in figures:
        assert (ROOT / "docs" / figure).stat().st_size > 10_000
