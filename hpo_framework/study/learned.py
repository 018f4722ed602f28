"""A study whose space is learned from the objective's ``trial.suggest_*`` calls.

The learned space is stored with the study (study attr ``learned_space``) and grows as
trials suggest new names; the strategy is rebuilt on the grown space from the history,
exactly as a resumed study rebuilds it, so an interrupted study asks what an
uninterrupted one would. A dimension is active in a trial iff the trial suggested it.
When a categorical parameter that every trial suggests explains which trials suggested
a dimension (``svc_c`` only when ``classifier`` is ``SVC``), the dimension gets that
condition, so strategies see it as a conditional dimension (absent elsewhere). What a
strategy is told of a trial is what it suggested, plus, for a dimension the space holds
active there that the objective did not suggest, the value that was proposed (so that a
strategy recognises its own proposal).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ..contracts.strategy import Strategy
from ..contracts.suggest import PAYLOAD, DefineByRun, SuggestTrial
from ..contracts.trial import Outcome, Trial, TrialState
from ..errors import HPOError, OptionError
from ..space import Categorical, Dimension, Space, dimension_from_spec
from .core import Study, _as_told
from .setup import StudySetup

#: the study attr that keeps the learned dimensions (a space dict)
LEARNED = "learned_space"
#: the trial user attr that keeps the proposed values the objective did not take as they
#: were (not suggested, or moved onto a step's grid)
UNUSED = "unused_proposal"


def empty_space() -> Space:
    """A space of no dimension (a study learns its own): Space() refuses one on purpose."""
    space = Space.__new__(Space)
    space.dimensions, space._by_name = [], {}
    return space


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class LearnedSpace:
    """The declared dimensions (maybe none) and the learned ones, in the order first seen."""

    def __init__(self, declared: Space, learned: Mapping[str, Any] | None = None) -> None:
        self.declared = declared
        self.dims: dict[str, Dimension] = {}
        for name, spec in dict(learned or {}).items():
            spec = {k: v for k, v in spec.items() if k != "condition"}
            self.dims[name] = dimension_from_spec(name, spec)

    def specs(self) -> dict[str, Any]:
        """Every known name's spec, for the trials' range checks (conditions left out)."""
        out = {d.name: {k: v for k, v in d.to_dict().items() if k != "condition"}
               for d in self.declared}
        out.update({n: d.to_dict() for n, d in self.dims.items()})
        return out

    def add(self, space: Mapping[str, Any]) -> str | None:
        """Learn a trial's suggested dimensions; a name already known with another range
        (two trials running at once) is one line, and learns nothing."""
        known = self.specs()
        for name, spec in space.items():
            if name in known and known[name] != spec and name not in self.declared:
                return (f"parameter '{name}' was suggested as {spec}, but the study knows it "
                        f"as {known[name]}: a name keeps one range")
        for name, spec in space.items():
            if name not in known:
                self.dims[name] = dimension_from_spec(name, spec)
        return None

    def space(self, trials: Sequence[Trial]) -> Space:
        """The space strategies search: the declared dimensions, then the learned ones
        with the conditions the finished trials show."""
        learned = [_conditioned(d, self, trials) for d in self.dims.values()]
        dims = [*self.declared, *learned]
        return Space(dims) if dims else empty_space()


def _conditioned(dim: Dimension, learned: LearnedSpace, trials: Sequence[Trial]) -> Dimension:
    """``dim`` with a condition on a categorical that every trial suggested, when its
    values split the trials that suggested ``dim`` from those that did not."""
    seen = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    used = [t for t in seen if dim.name in t.params]
    unused = [t for t in seen if dim.name not in t.params]
    if not used or not unused:
        return dim
    parents = [d for d in [*learned.declared, *learned.dims.values()]
               if isinstance(d, Categorical) and d.name != dim.name and not d.condition
               and all(d.name in t.params for t in seen)]
    for parent in parents:
        inside = {_key(t.params[parent.name]) for t in used}
        if inside.isdisjoint(_key(t.params[parent.name]) for t in unused):
            values = [c for c in parent.choices if _key(c) in inside]
            test = {"eq": values[0]} if len(values) == 1 else {"in": values}
            spec = {**dim.to_dict(), "condition": {parent.name: test}}
            return dimension_from_spec(dim.name, spec)
    return dim


class LearningStrategy(Strategy):
    """Runs the chosen strategy on the learned space, rebuilt whenever the space changes;
    proposes nothing (every value drawn in the trial) while the space is empty."""

    inner_cls: ClassVar[type[Strategy]]

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        return cls.inner_cls.validate(given)

    def __init__(self, space: Space, seed: int | None = None, **options: Any) -> None:
        super().__init__(space, seed=seed, **options)
        self.options = dict(options)
        self.inner: Strategy | None = None
        self.rebuild(space, [])

    def rebuild(self, space: Space, trials: Sequence[Trial]) -> None:
        """The inner strategy on ``space``, restored from ``trials`` (number order)."""
        self.space = space
        self.inner = self.inner_cls(space, seed=self.seed, **self.options) \
            if space.searchable else None
        self.restore(trials)

    def told(self, trial: Trial) -> Trial:
        extra = trial.user_attrs.get(UNUSED) or {}
        params = self.space.active({**trial.params, **extra}) if extra else trial.params
        return replace(trial, params=params, handle=None) if extra else trial

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        if self.inner is None:
            return [self.space.decode([]) for _ in range(n)]
        return self.inner.ask(n)

    def tell(self, trials: Sequence[Trial]) -> None:
        if self.inner is not None:
            self.inner.tell([self.told(t) for t in trials])

    def restore(self, trials: Sequence[Trial]) -> None:
        self.n_asked = len(trials)
        if self.inner is not None:
            self.inner.restore([self.told(t) for t in trials])
            self.inner.n_asked = len(trials)

    @property
    def done(self) -> bool:
        return self.inner is not None and self.inner.done

    def stats(self) -> dict[str, Any] | None:
        return None if self.inner is None else self.inner.stats()


def learning(inner_cls: type[Strategy]) -> type[LearningStrategy]:
    """``inner_cls`` on a learned space; a finite strategy (grid) is refused in one line."""
    if inner_cls.finite:
        raise HPOError(f"strategy '{inner_cls.name}' enumerates a declared space, and this "
                       "objective declares its parameters as it runs (trial.suggest_*): give "
                       "a space, or use random, bayes or genetic")
    return type(f"Learning{inner_cls.__name__}", (LearningStrategy,),
                {"name": inner_cls.name, "inner_cls": inner_cls,
                 "options": getattr(inner_cls, "options", {}),
                 "multi_objective": inner_cls.multi_objective,
                 "handles_constraints": inner_cls.handles_constraints,
                 "__module__": inner_cls.__module__})


class LearningStudy(Study):
    """A study that learns its space from the trials' suggestions (see the module)."""

    def __init__(self, **kwargs: Any) -> None:
        declared, storage, record = kwargs["space"], kwargs["storage"], kwargs["record"]
        self.learned = LearnedSpace(declared, storage.get_study_attrs(record.study_id)
                                    .get(LEARNED))
        trials = storage.load_trials(record.study_id, record.direction)  # its directions
        kwargs["space"] = self.learned.space(trials)
        kwargs["strategy"].rebuild(kwargs["space"], [])  # restored by Study.__init__
        super().__init__(**kwargs)

    def submission(self, trial: Trial) -> dict[str, Any]:
        return {**trial.params, PAYLOAD: {"space": self.learned.specs(), "seed": self.seed,
                                          "declared": self.learned.declared.names}}

    def _start(self, trial: Trial, new: bool) -> None:
        super()._start(trial, new)  # ask-and-tell: trial.suggest_* in the driver
        trial.handle.suggester = SuggestTrial(trial.handle, trial.params,
                                              self.submission(trial)[PAYLOAD])

    def finish(self, trial: Trial, outcome: Outcome) -> None:
        suggester = getattr(trial.handle, "suggester", None)
        if outcome.suggested is None and suggester is not None and suggester.params:
            outcome.suggested = {**suggester.record(), "user_attrs": {}}
        suggested = outcome.suggested
        if suggested is not None and outcome.state is not TrialState.PAUSED:
            with self._lock:
                self._learn(trial, outcome, suggested)
        super().finish(trial, outcome)

    def _learn(self, trial: Trial, outcome: Outcome, suggested: Mapping[str, Any]) -> None:
        declared = {k: v for k, v in trial.params.items() if k in self.learned.declared}
        params = {**declared, **dict(suggested.get("params") or {})}
        unused = {k: v for k, v in trial.params.items() if k not in params or params[k] != v}
        conflict = self.learned.add(dict(suggested.get("space") or {}))
        if conflict is not None and outcome.state is TrialState.COMPLETE:
            outcome.state, outcome.value, outcome.error = TrialState.FAILED, None, conflict
        trial.params = params
        attrs = {**dict(suggested.get("user_attrs") or {}), **({UNUSED: unused} if unused else {})}
        outcome.user_attrs = {**outcome.user_attrs, **attrs}
        trial.user_attrs = {**{k: v for k, v in trial.user_attrs.items() if k != UNUSED}, **attrs}
        finished = [t if t is not trial else replace(t, state=outcome.state)
                    for t in self.trials]
        space = self.learned.space(finished)
        if space.to_dict() != self.space.to_dict():
            self.set_attr(LEARNED, {n: d.to_dict() for n, d in
                                    ((d.name, d) for d in space if d.name in self.learned.dims)})
            self.space = space
            self.strategy.rebuild(space, _as_told(self.trials))

    def optimize(self, objective: Any, **kwargs: Any) -> Study:
        return super().optimize(wrap(objective), **kwargs)


def wrap(objective: Any) -> DefineByRun:
    """The objective as the executors call it: ``objective(trial)`` (one positional
    parameter), or ``objective(params, trial)`` with the declared space's params."""
    if isinstance(objective, DefineByRun):
        return objective
    from ..contracts.objective import calling_convention

    return DefineByRun(objective, with_params=calling_convention(objective))


@dataclass
class LearningSetup(StudySetup):
    """A :class:`StudySetup` whose study learns its space."""

    study_cls = LearningStudy
    marks = {"define_by_run": True}

    @classmethod
    def adapt(cls, name: str, strategy_cls: type[Strategy], space: Space | None,
              options: Mapping[str, Any]) -> tuple[type[Strategy], Space]:
        """The strategy on a learned space (``space``: the declared part, or None);
        ``grid`` is refused in one line."""
        strategy_cls = learning(strategy_cls)
        space = empty_space() if space is None else space
        if options.get("x0") is not None and not space.searchable:  # its names are not known yet
            raise OptionError(f"strategy '{name}': option 'x0' needs a declared space, and this "
                              "study learns its space as trials run: give the space "
                              "(optimize(objective, space, define_by_run=True)), or leave x0 out")
        return strategy_cls, space

