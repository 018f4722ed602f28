"""The package's layout is its architecture: each folder (or top-level module) is a layer,
and every import, at module level or inside a function, points down the layers. No cycle
anywhere, the package root included."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "hpo_framework"

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
    graph = {m: {t for t in imports_of(p, top_level_only=True) if t in MODULES and t != m}
             for m, p in MODULES.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt in graph and not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node, [node])
    assert "hpo_framework.cli.report" in graph and "hpo_framework.results.html" in graph
    assert cycles == []
