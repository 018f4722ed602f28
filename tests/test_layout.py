"""The package's layout is its architecture: each folder (or top-level module) is a layer,
and every import, at module level or inside a function, points down the layers. No cycle
anywhere, the package root included. Plugins import only what hpo_framework declares
public (docs/plugins.md, "What a plugin may import"), and no plugin's modules import
each other in a circle."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "hpo_framework"
PLUGINS = ROOT / "plugins"

#: the modules a plugin may import (each with its submodules), besides the names in
#: ``hpo_framework.__all__``; the same list as docs/plugins.md's "What a plugin may import"
PUBLIC_MODULES = (
    "hpo_framework.contracts",  # what plugins implement and exchange
    "hpo_framework.errors", "hpo_framework.options", "hpo_framework.space",
    "hpo_framework.testing",  # the conformance suites
    "hpo_framework.results",  # the read-only results API: read model, stats, exports, figures
)

# bottom to top; a module may import its own layer and any layer listed before it
LAYERS = [
    "_lazy", "errors", "options", "space", "contracts", "registry", "builtin", "study",
    "results", "api", "jobs", "testing", "cli",
]


def module_name(path: Path, pkg: Path = PKG) -> str:
    parts = list(path.relative_to(pkg.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, top_level_only: bool, pkg: Path = PKG) -> set[str]:
    """The hpo_framework modules a file imports (at top level, or anywhere in it)."""
    tree = ast.parse(path.read_text())
    module = module_name(path, pkg)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] \
                if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {t for t in out if t.startswith("hpo_framework")}


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def layer_of(module: str) -> str | None:
    """The layer of a module; None for the package root (its names load lazily)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_folder_and_top_level_module_is_a_layer():
    found = {layer_of(m) for m in MODULES} - {None}
    assert found == set(LAYERS)
    # the architecture reads from the folder names
    folders = {p.name for p in PKG.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {"builtin", "cli", "contracts", "jobs", "results", "study", "testing"}


def upward_imports(pkg: Path) -> list[str]:
    modules = {module_name(p, pkg): p for p in pkg.rglob("*.py")}
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for module, path in modules.items():
        here = layer_of(module)
        for target in imports_of(path, False, pkg) & set(modules):
            there = layer_of(target)
            if here is not None and there is not None and rank[there] > rank[here]:
                upward.append(f"{module} imports {target}")
    return sorted(upward)


def test_imports_point_down_the_layers():
    assert upward_imports(PKG) == []


def test_the_check_catches_an_upward_import(tmp_path):
    # a contracts module importing the study layer inside a function is caught
    pkg = tmp_path / "hpo_framework"
    for name in ("contracts", "study"):
        (pkg / name).mkdir(parents=True)
        (pkg / name / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "study" / "storage.py").write_text("from ..contracts import strategy\n")
    (pkg / "contracts" / "strategy.py").write_text(
        "def f():\n    from ..study.storage import Storage\n")
    assert upward_imports(pkg) == [
        "hpo_framework.contracts.strategy imports hpo_framework.study.storage"]


def test_no_import_cycle_anywhere_in_the_package():
    """Module-level imports form no cycle, the package root included."""
    assert "hpo_framework.cli.report" in MODULES and "hpo_framework.results.html" in MODULES
    assert import_cycles(MODULES, True, PKG.parent) == []


# plugins ---------------------------------------------------------------------------------
def public_names(pkg: Path = PKG) -> set[str]:
    """``hpo_framework.__all__``: the keys of its ``_WHERE``."""
    tree = ast.parse((pkg / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_WHERE"
                                                for t in node.targets):
            return {k.value for k in node.value.keys}
    raise AssertionError("hpo_framework/__init__.py has no _WHERE")


def plugin_modules(plugins: Path = PLUGINS) -> dict[str, Path]:
    """Every module under plugins/ (not the build's *.egg-info), by its import name."""
    out = {}
    for path in sorted(plugins.rglob("*.py")):
        rel = path.relative_to(plugins)
        if any(part.endswith(".egg-info") or part in ("build", "__pycache__")
               for part in rel.parts):
            continue
        dist = plugins / rel.parts[0]  # plugins/hpo-NAME: the distribution's root
        out[module_name(path, dist / "x")] = path
    return out


def private_imports(plugins: Path = PLUGINS, pkg: Path = PKG) -> list[str]:
    """Imports of hpo_framework that are not public, anywhere in a plugin's module."""
    allowed = public_names(pkg)
    bad = []
    for module, path in plugin_modules(plugins).items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                targets = [node.module] if node.module != "hpo_framework" else \
                    [f"hpo_framework.{a.name}" for a in node.names if a.name not in allowed]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name != "hpo_framework"]
            else:
                continue
            for target in targets:
                if target.split(".")[0] == "hpo_framework" and not any(
                        target == m or target.startswith(m + ".") for m in PUBLIC_MODULES):
                    bad.append(f"{module} imports {target}")
    return sorted(bad)


def test_plugins_import_only_public_names():
    assert "hpo_keras.vectorized" in plugin_modules() and "hpo_dask" in plugin_modules()
    assert private_imports() == []


def test_the_check_catches_a_plugin_reaching_past_the_public_names(tmp_path):
    plugin = tmp_path / "hpo-mine"
    (plugin / "hpo_mine").mkdir(parents=True)
    (plugin / "hpo_mine.egg-info").mkdir()
    (plugin / "hpo_mine.egg-info" / "junk.py").write_text("from hpo_framework.cli import x\n")
    (plugin / "hpo_mine" / "__init__.py").write_text(
        "from hpo_framework import Strategy, hookimpl\n"
        "from hpo_framework.contracts.objective import evaluate\n")
    (plugin / "hpo_mine" / "executor.py").write_text(
        "from hpo_framework import Registry, _lazy\n"
        "def ship():\n    from hpo_framework.jobs.pipeline import datasets\n"
        "    import hpo_framework.study.storage\n")
    assert private_imports(tmp_path) == [
        "hpo_mine.executor imports hpo_framework._lazy",
        "hpo_mine.executor imports hpo_framework.jobs.pipeline",
        "hpo_mine.executor imports hpo_framework.study.storage"]


def import_cycles(modules: dict[str, Path], top_level_only: bool, root: Path) -> list[list[str]]:
    """The circles among ``modules`` (name -> file), following imports at module level only
    or anywhere (inside functions too); ``root``: the folder the names are relative to."""
    graph = {m: {t for t in imported(p, top_level_only, root, modules) if t != m}
             for m, p in modules.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])
    return cycles


def imported(path: Path, top_level_only: bool, root: Path, modules: dict[str, Path]
             ) -> set[str]:
    """The ``modules`` a file imports, relative imports resolved (``from . import b``
    imports the submodule b, not the package); ``root``: the folder its package lies in."""
    tree = ast.parse(path.read_text())
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    package = module.rsplit(".", 1)[0]

    def owner(name: str) -> str:  # a name defined in a module: that module
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    out = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            out.update(owner(f"{target}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(owner(a.name) for a in node.names)
    return out - {""}


def test_no_import_cycle_in_any_plugin():
    """A plugin's modules import each other one way, inside functions too."""
    by_dist: dict[Path, dict[str, Path]] = {}
    for name, path in plugin_modules().items():
        dist = PLUGINS / path.relative_to(PLUGINS).parts[0]
        by_dist.setdefault(dist, {})[name] = path
    assert PLUGINS / "hpo-keras" in by_dist
    cycles = [c for dist, modules in by_dist.items()
              for c in import_cycles(modules, False, dist)]
    assert cycles == []


def test_the_cycle_check_catches_a_circle_through_functions(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .a import f\n")
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from .b import g\n")
    (tmp_path / "pkg" / "b.py").write_text("def g():\n    from . import a\n")
    modules = {".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(
        ".__init__"): p for p in (tmp_path / "pkg").glob("*.py")}
    assert import_cycles(modules, False, tmp_path) == [["pkg.a", "pkg.b", "pkg.a"]]
    assert import_cycles(modules, True, tmp_path) == []
