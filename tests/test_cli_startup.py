"""`hpo-run --help` stays fast (docs: under 0.2 s; benchmarks/cli_startup.py times it):
the registry finds the plugins without importing importlib.metadata, and the modules
`--help` loads import what they use inside the functions that use it. These tests check
the answers stay importlib.metadata's and which modules `--help` imports; no timing."""

import sys
import textwrap
import zipfile
from importlib import metadata

import pytest
from clitools import modules_after

from hpo_framework import registry
from hpo_framework.registry import GROUP


def reference(group):
    """What the registry read before: importlib.metadata's entry points of ``group``."""
    return [(ep.name, ep.value, ep.dist.metadata["Name"], ep.dist.version)
            for ep in metadata.entry_points(group=group)]


def ours(group):
    return [(ep.name, ep.value, *ep.distribution()) for ep in registry.entry_points(group)]


def falls_back_with(entry):
    """The scan hands this layout to importlib.metadata, and the answer, with ``entry`` in
    it, is importlib.metadata's."""
    with pytest.raises(registry._Fallback):
        registry._scan(GROUP)
    mine = ours(GROUP)
    assert entry in mine
    assert mine == reference(GROUP)


def test_the_installed_plugins_are_found_as_importlib_metadata_finds_them(plain_meta_path):
    found = registry._scan(GROUP)  # the plain layout of a venv: no fall-back
    assert {ep.name for ep in found} >= {"bayes", "dask", "dashboard", "random", "serial"}
    assert ours(GROUP) == reference(GROUP)


@pytest.fixture
def plain_meta_path(monkeypatch):
    """The distribution finders of a fresh ``hpo-run``, whose layout the scan reads without
    importlib.metadata. Importing dask imports the importlib_metadata backport, which
    deletes PathFinder.find_distributions and adds its own finder (an earlier test of the
    same run may have): the stdlib's is put back and the backport's left out here."""
    from importlib.machinery import PathFinder

    if getattr(PathFinder, "find_distributions", None) is None:
        monkeypatch.setattr(PathFinder, "find_distributions",
                            metadata.MetadataPathFinder.find_distributions, raising=False)
    monkeypatch.setattr(sys, "meta_path", [
        f for f in sys.meta_path
        if f is PathFinder or getattr(f, "find_distributions", None) is None])


def test_the_importlib_metadata_backport_takes_over_and_gets_its_answer():
    # the backport (dask imports it) deletes PathFinder.find_distributions and finds the
    # distributions itself, reading odd headers its own way: the scan asks it
    backport = pytest.importorskip("importlib_metadata")
    assert any(isinstance(f, backport.MetadataPathFinder) for f in sys.meta_path)
    with pytest.raises(registry._Fallback):
        registry._scan(GROUP)
    assert ours(GROUP) == reference(GROUP)


def test_another_distribution_finder_goes_to_importlib_metadata(tmp_path, monkeypatch):
    dist(tmp_path, "elsewhere-1.0.dist-info", "Name: elsewhere\nVersion: 1.0\n",
         "[hpo_framework]\nfar = elsewhere\n")

    class Elsewhere:  # distributions from a place sys.path does not list
        @staticmethod
        def find_distributions(context=None):
            if context is None or context.name in (None, "elsewhere"):
                yield metadata.PathDistribution(tmp_path / "elsewhere-1.0.dist-info")

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Elsewhere])
    falls_back_with(("far", "elsewhere", "elsewhere", "1.0"))


def dist(site, dirname, metadata_text, entry_points=None, filename="METADATA"):
    info = site / dirname
    info.mkdir(parents=True)
    info.joinpath(filename).write_text(textwrap.dedent(metadata_text).lstrip(), encoding="utf-8")
    if entry_points is not None:
        info.joinpath("entry_points.txt").write_text(textwrap.dedent(entry_points).lstrip())


def test_order_shadowing_sections_and_headers_as_importlib_metadata(tmp_path, monkeypatch,
                                                                  plain_meta_path):
    first, second = tmp_path / "first", tmp_path / "second"
    dist(first, "Pkg.A-1.0.dist-info", """
        Metadata-Version: 2.1
        Summary: a summary
         folded over two lines
        Author: Zoë Ünicode
        Name:   Pkg.A
        Version: 1.0
        Name: ignored-second-name
        """, """
        # a comment
        [console_scripts]
        a = pkg_a:main

        [hpo_framework]
        a-one = pkg_a.plugin
        ; not a comment for importlib.metadata = x
        a-two=pkg_a:obj.attr [extra]
        [other]
        x = y
        """)
    # an egg-info without a version in its name, read from PKG-INFO
    dist(first, "pkg_b.egg-info", "Metadata-Version: 1.1\nName: pkg-b\nVersion: 0.3\n",
         "[hpo_framework]\nb = pkg_b\n", filename="PKG-INFO")
    # a folded Name: importlib.metadata reads it (the fall-back for the header only)
    dist(first, "pkg_c-2.0.dist-info", "Name: pkg-\n c\nVersion: 2.0\n",
         "[hpo_framework]\nc = pkg_c\n")
    # shadowed by the first directory's pkg_a (same normalized name): not read
    dist(second, "pkg_a-9.0.dist-info", "Name: pkg-a\nVersion: 9.0\n",
         "[hpo_framework]\nshadowed = nowhere\n")
    # no entry points here, but it still shadows the second directory's pkg_d
    dist(first, "pkg_d-1.0.dist-info", "Name: pkg-d\nVersion: 1.0\n")
    dist(second, "pkg_d-2.0.dist-info", "Name: pkg-d\nVersion: 2.0\n",
         "[hpo_framework]\nd = pkg_d\n")
    dist(second, "pkg_e-1.0.dist-info", "Name: pkg-e\nVersion: 1.0\n", "[hpo_framework]\ne = e\n")
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second),
                                      *sys.path])
    registry._scan(GROUP)  # read without importlib.metadata
    assert registry._name_and_version(str(first / "pkg_c-2.0.dist-info")) is None
    mine = ours(GROUP)
    assert mine == reference(GROUP)
    names = {m[0]: m for m in mine}
    assert names["a-one"] == ("a-one", "pkg_a.plugin", "Pkg.A", "1.0")
    assert names["a-two"][1] == "pkg_a:obj.attr [extra]"
    assert names["b"][2:] == ("pkg-b", "0.3") and names["c"][3] == "2.0"
    assert "shadowed" not in names and "d" not in names and "e" in names


def test_a_layout_it_does_not_read_goes_to_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
        zf.writestr("zipped-1.0.dist-info/entry_points.txt", "[hpo_framework]\nz = zipped\n")
    monkeypatch.setattr(sys, "path", [str(archive), *sys.path])
    falls_back_with(("z", "zipped", "zipped", "1.0"))


@pytest.mark.parametrize("dirname", ["Odd-1.0.Dist-Info", "-1.0.dist-info"])
def test_a_name_it_would_read_from_the_metadata_goes_to_importlib_metadata(tmp_path, monkeypatch,
                                                                        dirname):
    dist(tmp_path, dirname, "Name: odd\nVersion: 1.0\n", "[hpo_framework]\nodd = odd\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    falls_back_with(("odd", "odd", "odd", "1.0"))


def test_an_entry_points_file_importlib_metadata_refuses_is_refused_the_same(tmp_path,
                                                                            monkeypatch):
    dist(tmp_path, "broken-1.0.dist-info", "Name: broken\nVersion: 1.0\n",
         "[hpo_framework]\nno equals sign here\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    with pytest.raises(Exception) as theirs:
        reference(GROUP)
    with pytest.raises(type(theirs.value)) as mine:
        ours(GROUP)
    assert str(mine.value) == str(theirs.value)


def test_an_entry_point_loads_as_importlib_metadata_loads_it():
    ep = registry.EntryPoint("x", "hpo_framework.registry:Registry.register", None)
    assert ep.load() is registry.Registry.register
    assert registry.EntryPoint("x", "hpo_framework.errors", None).load().__name__ == \
        "hpo_framework.errors"


#: what `hpo-run --help` no longer imports (each was measured on its path: the entry-point
#: scan, the executors, the strategies' and backends' implementation modules)
NOT_AT_HELP = (
    "importlib.metadata", "email", "zipfile", "difflib",  # the registry's entry-point scan
    "json",  # the CLI's --json and the strategies' derived seeds
    "multiprocessing", "concurrent.futures", "hashlib",  # process/serial/dask executors
    "hpo_bayes.strategy", "hpo_bayes.gp", "hpo_tpe.strategy",  # strategy implementations
    "hpo_keras.backend", "hpo_keras.datasets", "hpo_sklearn.backend", "hpo_sklearn.datasets",
    "hpo_boosting.lgbm", "hpo_boosting.xgb", "hpo_pruners.asha", "hpo_pruners.median",
    "statistics", "hpo_framework.space",  # backends', pruners' and strategies' modules
)


def test_help_imports_none_of_the_modules_made_lazy():
    out, modules = modules_after("--help")
    # the plugins were loaded and their commands and options listed ...
    assert {"hpo_bayes", "hpo_boosting", "hpo_dask", "hpo_dashboard", "hpo_pruners",
            "hpo_framework.builtin.process"} <= modules
    assert "dashboard" in out and "--scheduler" in out
    # ... and what only a run needs was not imported
    loaded = sorted(m for m in NOT_AT_HELP
                    if any(n == m or n.startswith(m + ".") for n in modules))
    assert loaded == []
