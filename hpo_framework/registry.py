"""The plugin manager: entry-point loading, name lookup, did-you-mean.

Every plugin, built-in or third-party, is a module listed in the ``hpo_framework``
entry-point group. Each entry point is loaded on its own: one that fails to import is
reported by name and the rest still work (``HPO_STRICT_PLUGINS=1`` makes it an error).
``HPO_DISABLE_PLUGINS=name,...`` skips entry points by name.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from .contracts import hookspecs
from .errors import HPOError, OptionError, PluginError, UnknownPluginError

GROUP = "hpo_framework"
KINDS = ("strategy", "backend", "evaluator", "dataset", "executor", "pruner")
_HOOK_OF_KIND = {
    "strategy": "register_strategies",
    "backend": "register_backends",
    "evaluator": "register_evaluators",
    "dataset": "register_datasets",
    "executor": "register_executors",
    "pruner": "register_pruners",
}
_PLURAL = {
    "strategy": "strategies",
    "backend": "backends",
    "evaluator": "evaluators",
    "dataset": "datasets",
    "executor": "executors",
    "pruner": "pruners",
}


_SUGGEST = {
    "strategy": "pip install hpo-bayes",
    "backend": "pip install hpo-sklearn",
    "dataset": "pip install hpo-sklearn (digits)",
}
_BASES = {"strategy": "Strategy", "backend": "Backend", "evaluator": "Evaluator",
          "executor": "Executor", "pruner": "Pruner"}


class PluginWarning(UserWarning):
    """A plugin could not be loaded; the others still work."""


def _check_kind(kind: str, name: str, obj: Any, plugin: str) -> None:
    """A registered class must be a subclass of its kind's base class (datasets may be
    loader functions or Dataset-returning classes)."""
    base_name = _BASES.get(kind)
    if base_name is None:  # a dataset: a DatasetLoader subclass, or a loader function
        if not callable(obj):
            raise PluginError(f"plugin '{plugin}' registered {kind} '{name}' as "
                              f"{type(obj).__name__}, not a loader")
        return
    import hpo_framework

    base = getattr(hpo_framework, base_name)
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise PluginError(f"plugin '{plugin}' registered {kind} '{name}' as {obj!r}, not a "
                          f"subclass of hpo_framework.{base_name}")
    wrong = _CONTRACT_CHECKS.get(kind, lambda cls: None)(obj)
    if wrong:
        raise PluginError(f"plugin '{plugin}' registered {kind} '{name}' whose {wrong}")


def _takes(method: Any, *names: str) -> bool:
    """True when ``method`` (a function of a class) accepts each of ``names`` as a keyword
    (or has ``**kwargs``)."""
    import inspect

    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):  # a builtin or C method: cannot tell, trust it
        return True
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return True
    return all(n in params and params[n].kind in (params[n].POSITIONAL_OR_KEYWORD,
                                                  params[n].KEYWORD_ONLY) for n in names)


def _executor_contract(cls: type) -> str | None:
    """One executor signature: start(objective, reporter), submit(number, params, resume)."""
    if not _takes(cls.start, "objective", "reporter"):
        return ("start() does not take (objective, reporter): the executor contract is "
                "start(self, objective, reporter=None)")
    if not _takes(cls.submit, "number", "params", "resume"):
        return ("submit() does not take (number, params, resume): the executor contract is "
                "submit(self, number, params, resume=None) (set resumes = False when it cannot "
                "resume a paused trial)")
    return None


def _backend_contract(cls: type) -> str | None:
    """A backend that says it is resumable takes the checkpoint in fit(resume=)."""
    if getattr(cls, "resumable", False) and not _takes(cls.fit, "resume"):
        return ("resumable = True but fit() takes no resume argument: add resume=None to "
                "fit() or drop resumable")
    return None


#: checks of a registered class's declared capabilities against its methods, run when the
#: plugin registers: a typo fails loudly instead of silently taking another path
_CONTRACT_CHECKS = {"executor": _executor_contract, "backend": _backend_contract}


def _where(exc: BaseException) -> str | None:
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None


def _validation_reason(exc: pluggy.PluginValidationError) -> str:
    """pluggy's own reason, and the nearest hook name for a misspelled one."""
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())

    match = re.search(r"unknown hook '([A-Za-z_0-9]+)'", text)
    if match:
        import difflib

        close = difflib.get_close_matches(match.group(1), [n for n in dir(hookspecs)
                                                          if not n.startswith("_")], n=1)
        if close:
            text += f"; did you mean '{close[0]}'?"
    return text


@dataclass
class Component:
    """One named thing a plugin registered."""

    name: str
    kind: str
    obj: Any
    plugin: str
    distribution: str | None = None
    version: str | None = None
    description: str = ""
    #: a default candidate for its kind: the highest installed one is the default
    default: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "description": self.description,
            "default": self.default,
        }


@dataclass
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "distribution": self.distribution, "version": self.version,
                "hooks": list(self.hooks)}


def _env_list(name: str) -> set[str]:
    return {p.strip() for p in os.environ.get(name, "").split(",") if p.strip()}


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _reason(exc: BaseException, strict: bool) -> str:
    """What went wrong in one line, with the file and line in strict or verbose mode."""
    reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if strict or _truthy("HPO_VERBOSE"):
        where = _where(exc)
        if where:
            reason += f" (at {where})"
    return reason


def _hook_failure(plugin: str, info: PluginInfo | None, hook: str, exc: BaseException,
                  strict: bool, then: str = "the plugin is left out") -> str:
    """One line naming the plugin whose hook raised (with the file and line in strict or
    verbose mode, for its author) and what happens next."""
    dist = info.distribution if info and info.distribution else "unknown distribution"
    msg = f"plugin '{plugin}' from {dist}: its {hook} hook raised {_reason(exc, strict)}"
    return msg if strict else f"{msg}; {then} (set HPO_STRICT_PLUGINS=1 to make this an error)"


# entry points -------------------------------------------------------------------------
# ``importlib.metadata`` costs ~30 ms to import (email, zipfile, ...) and parses every
# plugin's METADATA with the email package: more than a tenth of ``hpo-run --help``. The
# plugins are found here the way it finds them, for the layout it reads (directories on
# sys.path holding *.dist-info / *.egg-info), in its order and with its de-duplication;
# anything else (a zip or an egg on sys.path, another distribution finder, a file it
# would refuse) is handed to importlib.metadata itself, so the answer is always its answer.
# tests/test_cli_startup.py compares the two.

#: importlib.metadata's EntryPoint pattern (compiled on first use, as _HEADER)
_EP_PATTERN = (r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?"
               r"((?P<extras>\[.*\])\s*)?$")
#: what PathDistribution.read_text passes over (the file is absent or unreadable)
_UNREAD = (FileNotFoundError, IsADirectoryError, KeyError, NotADirectoryError,
           PermissionError)
#: a header line as the email package's feed parser knows one ("Key: value")
_HEADER = r"[\041-\071\073-\176]+:"


class _Fallback(Exception):
    """The layout is not the plain one this module reads: ask importlib.metadata."""


class EntryPoint:
    """One entry point of the group: its name and value, and the metadata directory of the
    distribution that declares it (``dist``: importlib.metadata's, on the fallback path)."""

    __slots__ = ("name", "value", "path", "_dist")

    def __init__(self, name: str, value: str, path: str | None, dist: Any = None) -> None:
        self.name, self.value, self.path, self._dist = name, value, path, dist

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, path={self.path!r})"

    def load(self) -> Any:
        """The module or object named by the value, as importlib.metadata loads it."""
        import functools
        import importlib

        match = re.match(_EP_PATTERN, self.value)
        module = importlib.import_module(match.group("module"))  # type: ignore[union-attr]
        attrs = filter(None, (match.group("attr") or "").split("."))  # type: ignore[union-attr]
        return functools.reduce(getattr, attrs, module)

    def distribution(self) -> tuple[str | None, str | None]:
        """The distribution's Name and Version (importlib.metadata's ``dist.metadata['Name']``
        and ``dist.version``)."""
        dist = self._dist
        if dist is None and self.path is not None:
            fields = _name_and_version(self.path)
            if fields is not None:
                return fields
            from importlib import metadata
            from pathlib import Path

            dist = metadata.PathDistribution(Path(self.path))
        if dist is None:
            return None, None
        return dist.metadata["Name"], dist.version


def _read(path: str, name: str) -> str | None:
    try:
        with open(os.path.join(path, name) if name else path, encoding="utf-8") as file:
            return file.read()
    except _UNREAD:
        return None


def _name_and_version(path: str) -> tuple[str, str] | None:
    """Name and Version from the header lines of METADATA (or PKG-INFO), or None where
    the email package could read them otherwise (folded, not plain ASCII, a line it would
    not take for a header or would split): importlib.metadata then reads them."""
    text = _read(path, "METADATA") or _read(path, "PKG-INFO") or _read(path, "")
    if not text:
        return None
    found: dict[str, str] = {}
    last = None
    for line in text.split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        if not line:
            break  # the end of the headers
        if "\r" in line or line.startswith("From "):
            return None
        if line[0] in " \t":  # a folded value
            if last is not None:
                return None
            continue
        if len(found) == 2:
            break  # the first Name and Version are read: nothing later changes them
        if not re.match(_HEADER, line):
            return None
        key, _, value = line.partition(":")
        last = key.lower()
        if last in ("name", "version") and last not in found:
            if not (value.isascii() and value.replace("\t", " ").isprintable()):
                return None
            found[last] = value.lstrip(" \t")
        else:
            last = None  # only the first Name and Version are read
    if len(found) != 2:
        return None
    return found["name"], found["version"]


def _normalize(name: str) -> str:
    """importlib.metadata's Prepared.normalize."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _scan(group: str) -> list[EntryPoint]:
    """The entry points of ``group``, found as importlib.metadata finds them on a plain
    layout; raises _Fallback on anything else."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is not None and finder is not PathFinder:
            raise _Fallback
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for root in sys.path:
        if not isinstance(root, str) or os.path.basename(root).lower().endswith(".egg"):
            raise _Fallback
        try:
            children = os.listdir(root or ".")
        except Exception:
            if os.path.isfile(root):  # a zip archive may hold distributions
                raise _Fallback from None
            continue
        # importlib.metadata's Lookup: by normalized name in first-seen order, a name's
        # first directory in listing order; then the first of each name on sys.path wins
        first: dict[str, str] = {}
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                key = _normalize(child.rpartition(".")[0].partition("-")[0])
                if not key or not child.endswith((".dist-info", ".egg-info")):
                    raise _Fallback  # its name would come from the metadata
                first.setdefault(key, os.path.join(root, child))
        for key, path in first.items():
            if key not in seen:
                seen.add(key)
                found.extend(_group_of(path, group))
    return found


def _group_of(path: str, group: str) -> list[EntryPoint]:
    """The entry points of ``group`` in a distribution's entry_points.txt (importlib.metadata's
    Sectioned reading; a line it would fail on: _Fallback, which fails the same way)."""
    text = _read(path, "entry_points.txt")
    out = []
    section = None
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section is None:
            continue
        name, eq, value = line.partition("=")
        if not eq:
            raise _Fallback
        if section == group:
            out.append(EntryPoint(name.strip(), value.strip(), path))
    return out


def entry_points(group: str) -> list[EntryPoint]:
    """The installed entry points of ``group``, in importlib.metadata's order and with its
    answers, without importing it where the installation is a plain one."""
    try:
        return _scan(group)
    except _Fallback:
        from importlib import metadata

        return [EntryPoint(ep.name, ep.value, None, ep.dist)
                for ep in metadata.entry_points(group=group)]


class Registry:
    """Wraps a pluggy PluginManager and the collections the register hooks fill."""

    def __init__(self, *, load_entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.failed: dict[str, str] = {}
        self._components: dict[str, dict[str, Component]] | None = None
        #: (kind, name) claimed by two plugins -> the message; only that name is refused
        self.conflicts: dict[tuple[str, str], str] = {}
        self._lifecycle: Lifecycle | None = None
        if load_entry_points:
            self.load_entry_points()

    # loading --------------------------------------------------------------------
    def load_entry_points(self) -> None:
        strict = _truthy("HPO_STRICT_PLUGINS")
        disabled = _env_list("HPO_DISABLE_PLUGINS")
        for ep in sorted(entry_points(GROUP), key=lambda e: e.name):
            if ep.name in disabled or ep.name in self.plugins:
                continue
            dist_name, version = ep.distribution()
            try:
                module = ep.load()
                self.register(module, name=ep.name, distribution=dist_name, version=version)
            except Exception as exc:  # a broken plugin must not break the others
                msg = (f"plugin '{ep.name}' from {dist_name or 'unknown distribution'} failed "
                       f"to load: {_reason(exc, strict)}")
                if strict:
                    raise PluginError(msg) from exc
                self.failed[ep.name] = msg
                warnings.warn(msg + " (set HPO_STRICT_PLUGINS=1 to make this an error)",
                              PluginWarning, stacklevel=2)
                continue
            if not self.plugins[ep.name].hooks:
                warnings.warn(
                    f"plugin '{ep.name}' from {dist_name or 'unknown distribution'} implements "
                    "no hook: mark its functions with @hookimpl (from hpo_framework import "
                    "hookimpl)", PluginWarning, stacklevel=2)

    def register(
        self,
        plugin: Any,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> str:
        """Register a module or object of ``@hookimpl`` functions (tests use this too)."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        if name in self.plugins:
            raise PluginError(f"a plugin named '{name}' is already registered")
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin '{name}': {_validation_reason(exc)}") from None
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            raise PluginError(f"plugin '{name}': {_validation_reason(exc)}") from None
        hooks = [h.name for h in self.pm.get_hookcallers(plugin) or []]
        self.plugins[name] = PluginInfo(name, distribution, version, sorted(hooks))
        self._components = None
        return name

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.plugins.pop(name, None)
        self._components = None

    # collections ----------------------------------------------------------------
    def _collect(self) -> dict[str, dict[str, Component]]:
        """Call every plugin's register hooks. A hook that raises (or registers something
        wrong) drops that plugin's registrations, every kind of them, with one warning
        naming it; the other plugins still work (``HPO_STRICT_PLUGINS=1``: raise)."""
        if self._components is not None:
            return self._components
        strict = _truthy("HPO_STRICT_PLUGINS")
        staged: list[Component] = []
        broken: dict[str, str] = {}
        for kind in KINDS:
            hook_name = _HOOK_OF_KIND[kind]
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                plugin_name = self.pm.get_name(impl.plugin) or "?"
                if plugin_name in broken:
                    continue
                info = self.plugins.get(plugin_name)
                mine: list[Component] = []

                def register(name: Any, obj: Any = None, description: str = "", *,
                             default: int | None = None, _kind: str = kind,
                             _plugin: str = plugin_name, _info: PluginInfo | None = info,
                             _mine: list[Component] = mine) -> None:
                    if isinstance(name, type) and (obj is None or isinstance(obj, str)):
                        # register(cls) or register(cls, "description"): the class's name
                        description = obj or description
                        name, obj = getattr(name, "name", ""), name
                    if not isinstance(name, str) or not name:
                        raise PluginError(f"plugin '{_plugin}' registered a {_kind} without a name")
                    _check_kind(_kind, name, obj, _plugin)
                    if not description:
                        doc = (getattr(obj, "__doc__", None) or "").strip()
                        description = doc.splitlines()[0] if doc else ""
                    _mine.append(Component(
                        name, _kind, obj, _plugin, _info.distribution if _info else None,
                        _info.version if _info else None, description, default))

                try:
                    impl.function(register=register)
                except Exception as exc:  # a broken plugin must not break the others
                    msg = str(exc) if isinstance(exc, PluginError) else _hook_failure(
                        plugin_name, info, hook_name, exc, strict)
                    if strict:
                        raise PluginError(msg) from exc
                    broken[plugin_name] = msg
                    continue
                staged.extend(mine)
        collected: dict[str, dict[str, Component]] = {k: {} for k in KINDS}
        conflicts: dict[tuple[str, str], str] = {}
        for comp in staged:
            if comp.plugin in broken or (comp.kind, comp.name) in conflicts:
                continue
            existing = collected[comp.kind].get(comp.name)
            if existing is not None:
                conflicts[(comp.kind, comp.name)] = (
                    f"{comp.kind} name '{comp.name}' is claimed by two plugins: "
                    f"'{existing.plugin}' and '{comp.plugin}'; uninstall one or block it "
                    f"with HPO_DISABLE_PLUGINS={comp.plugin}"
                )
                del collected[comp.kind][comp.name]
                continue
            collected[comp.kind][comp.name] = comp
        self._components = collected
        self.conflicts = conflicts
        for plugin_name, msg in broken.items():
            self.failed[plugin_name] = msg
            warnings.warn(msg, PluginWarning, stacklevel=2)
        for msg in conflicts.values():
            warnings.warn(msg, PluginWarning, stacklevel=2)
        return collected

    def components(self, kind: str) -> dict[str, Component]:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        return dict(self._collect()[kind])

    def all_components(self) -> list[Component]:
        return [c for kind in KINDS for c in self._collect()[kind].values()]

    def get(self, kind: str, name: str) -> Any:
        """The registered object, or an UnknownPluginError that lists what is installed."""
        found = self._collect()[kind]
        if name in found:
            return found[name].obj
        if (kind, name) in self.conflicts:
            raise PluginError(self.conflicts[(kind, name)])
        raise UnknownPluginError(unknown_message(kind, name, found))

    def default(self, kind: str) -> str:
        """The name of the preferred installed default candidate of ``kind``."""
        candidates = [c for c in self._collect()[kind].values() if c.default is not None]
        if not candidates:
            raise UnknownPluginError(
                f"no {kind} is installed that can be the default; name one (--{kind} NAME) or install one, e.g. "
                f"{_SUGGEST.get(kind, 'a plugin')}")
        return max(candidates, key=lambda c: (c.default, c.name)).name

    def resolve(self, kind: str, name: str | None) -> str:
        """``name``, or the default of ``kind`` when it is None."""
        return self.default(kind) if name is None else name

    # lifecycle hooks ------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """pluggy's unguarded hook caller (the CLI's register_commands uses it)."""
        return self.pm.hook

    def call_guarded(self, hook: str, then: str, reported: set[tuple[str, str]] | None = None,
                     **kwargs: Any) -> None:
        """Call each plugin's implementation of ``hook`` on its own (in pluggy's order):
        one that raises is named in one warning (once per plugin when ``reported`` is
        kept) and the others still run; ``HPO_STRICT_PLUGINS=1`` raises instead."""
        impls = getattr(self.pm.hook, hook).get_hookimpls()
        if not impls:  # called for every trial: nothing to guard when no plugin listens
            return
        strict = _truthy("HPO_STRICT_PLUGINS")
        for impl in reversed(impls):
            plugin = self.pm.get_name(impl.plugin) or "?"
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:
                msg = _hook_failure(plugin, self.plugins.get(plugin), hook, exc, strict, then)
                if strict:
                    raise PluginError(msg) from exc
                if reported is None or (plugin, hook) not in reported:
                    if reported is not None:
                        reported.add((plugin, hook))
                    warnings.warn(msg, PluginWarning, stacklevel=3)

    @property
    def lifecycle(self) -> Lifecycle:
        """The lifecycle hooks with each plugin's implementation guarded (what a Study
        calls): see :class:`Lifecycle`."""
        if self._lifecycle is None:
            self._lifecycle = Lifecycle(self)
        return self._lifecycle


#: the hooks a running study calls
LIFECYCLE_HOOKS = ("trial_started", "trial_finished", "study_finished")


class Lifecycle:
    """Calls ``trial_started``, ``trial_finished`` and ``study_finished`` one plugin at a
    time (in pluggy's order): an implementation that raises is reported once, in one
    warning naming its plugin, and the study goes on (``HPO_STRICT_PLUGINS=1``: raise)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._reported: set[tuple[str, str]] = set()

    def __getattr__(self, hook: str) -> Any:
        if hook not in LIFECYCLE_HOOKS:
            raise AttributeError(hook)

        def call(**kwargs: Any) -> None:
            self.call(hook, **kwargs)
        setattr(self, hook, call)  # made once: __getattr__ is not asked again
        return call

    def call(self, hook: str, **kwargs: Any) -> None:
        self._registry.call_guarded(hook, "the study goes on (reported once)",
                                    self._reported, **kwargs)


def unknown_message(kind: str, name: str, installed: Iterable[str]) -> str:
    import difflib

    installed = sorted(installed)
    msg = f"unknown {kind} '{name}'"
    close = difflib.get_close_matches(name, installed, n=1, cutoff=0.6)
    if close:
        msg += f": did you mean '{close[0]}'?"
    listing = ", ".join(installed) if installed else "none"
    msg += f" (installed {_PLURAL[kind]}: {listing})"
    return msg


_default: Registry | None = None


def make_executor(registry: Registry, name: str | None, n_jobs: int,
                  options: Mapping[str, Any] | None = None, isolated: bool = False) -> Any:
    """Resolve an executor: ``serial`` for one job, ``process`` for several (or for one
    job that must run outside the driver, ``isolated``: a trial timeout), unless named."""
    if name is None:
        name = "serial" if n_jobs <= 1 and not isolated else "process"
    try:
        cls = registry.get("executor", name)
    except UnknownPluginError:
        if n_jobs > 1 and name == "process":
            raise HPOError("n_jobs > 1 needs the 'process' executor plugin, which is not "
                           "installed") from None
        raise
    return cls(n_jobs=n_jobs, **dict(options or {}))


def make_pruner(registry: Registry, name: str | None, options: Mapping[str, Any] | None,
                seed: int | None) -> Any:
    if name is None:
        if options:
            raise OptionError("--pruner-option (pruner_options) needs --pruner NAME (pruner=NAME)")
        return None
    return registry.get("pruner", name)(seed=seed, **dict(options or {}))


def get_registry() -> Registry:
    """The process-wide registry, loaded from entry points on first use."""
    global _default
    if _default is None:
        _default = Registry()
    return _default


def reset_registry() -> None:
    """Forget the process-wide registry (tests, or after installing a plugin)."""
    global _default
    _default = None
