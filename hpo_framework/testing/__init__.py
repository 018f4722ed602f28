"""The strategy conformance suite: checks that every strategy, built-in or third-party, passes.

Use it from pytest in one line per strategy::

    from hpo_framework.testing import check_strategy

    def test_my_strategy_conforms():
        check_strategy(MyStrategy, n_initial_points=3)   # options go to the strategy

or subclass :class:`StrategyConformance` to get one test per check::

    class TestMyStrategy(StrategyConformance):
        strategy_cls = MyStrategy
        options = {"n_initial_points": 3}

Each check drives the strategy the way :class:`hpo_framework.Study` does (ask, evaluate a
cheap deterministic objective, tell each finished trial) and raises ``AssertionError``
with a message that says what broke. No mocks: the resume check runs real studies on a
real SQLite file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..contracts.strategy import Strategy
from ..contracts.trial import Trial, TrialState
from ..space import Space

#: every kind of dimension, a constant included
MIXED_SPACE: dict[str, Any] = {
    "x": {"type": "float", "low": -5.0, "high": 10.0},
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "n": {"type": "int", "low": 1, "high": 8},
    "kind": ["a", "b", "c"],
    "flag": [True, False],
    "epochs": 7,
}

#: parameters that exist only when a parent has some value
CONDITIONAL_SPACE: dict[str, Any] = {
    "n_layers": {"type": "int", "low": 1, "high": 3},
    "units_1": {"type": "int", "low": 4, "high": 64, "log": True},
    "units_2": {"type": "int", "low": 4, "high": 64, "log": True,
                "condition": {"n_layers": {"ge": 2}}},
    "units_3": {"type": "int", "low": 4, "high": 64, "log": True,
                "condition": {"n_layers": {"ge": 3}}},
    "optimizer": ["adam", "sgd"],
    "momentum": {"type": "float", "low": 0.0, "high": 0.99, "condition": {"optimizer": "sgd"}},
}

#: 4 x 3 = 12 configurations: repeats are likely unless a strategy avoids them
SMALL_SPACE: dict[str, Any] = {
    "a": {"type": "int", "low": 0, "high": 3},
    "b": ["x", "y", "z"],
}

PLAIN_TYPES = (int, float, str, bool)


def toy_loss(space: Space, params: Mapping[str, Any]) -> float:
    """A smooth, deterministic loss over the unit-cube encoding (minimum near 0.3)."""
    u = space.encode(params)
    return float(sum((x - 0.3) ** 2 * (1 + i) for i, x in enumerate(u)))


def toy_losses(space: Space, params: Mapping[str, Any], objectives: int) -> list[float]:
    """``objectives`` conflicting losses: :func:`toy_loss`, then distances to other corners."""
    u = space.encode(params)
    out = [toy_loss(space, params)]
    for k in range(1, objectives):
        out.append(float(sum((x - (0.3 + 0.4 * k / objectives)) ** 2 for x in u)))
    return out


def toy_constraint(space: Space, params: Mapping[str, Any]) -> float:
    """Feasible (<= 0) on the lower half of the first encoded coordinate."""
    return float(space.encode(params)[0] - 0.5)


def make_strategy(strategy_cls: type[Strategy], space: Mapping[str, Any] | Space,
                  seed: int | None = 0, **options: Any) -> Strategy:
    return strategy_cls(Space.from_dict(space), seed=seed, **options)


def simulate(
    strategy: Strategy,
    n_trials: int,
    *,
    batch: int = 1,
    fail: Callable[[int], bool] = lambda number: False,
    history: list[Trial] | None = None,
    prune: Callable[[int], bool] = lambda number: False,
    objectives: int = 1,
    constrained: bool = False,
) -> list[Trial]:
    """Run ``n_trials`` (counting ``history``) like a study: ask ``batch``, tell each trial.

    ``fail(number)`` marks trials FAILED (loss None). Every other trial reports a curve of
    two steps, ``[(1, loss + 1), (2, loss)]``; ``prune(number)`` stops it after the first
    (PRUNED, loss None, curve ``[(1, loss + 1)]``). With ``objectives`` > 1 a COMPLETE
    trial's ``losses`` are :func:`toy_losses` (``loss`` the first); ``constrained`` gives
    it one constraint value, :func:`toy_constraint`. Returns the whole history.
    """
    trials = list(history or [])
    while len(trials) < n_trials and not strategy.done:
        asked = strategy.ask(min(batch, n_trials - len(trials)))
        assert isinstance(asked, list), f"ask() must return a list, got {type(asked).__name__}"
        if not asked:
            break
        assert len(asked) <= batch, f"ask({batch}) returned {len(asked)} configurations"
        new = []
        said = getattr(strategy, "proposal_attrs", None) or [{}] * len(asked)
        for params, attrs in zip(asked, said, strict=False):
            trial = Trial(number=len(trials), params=strategy.space.active(params),
                          user_attrs={**attrs, "asked": params})
            trials.append(trial)
            new.append((trial, params))
        for trial, params in new:
            loss = toy_loss(strategy.space, params)
            if fail(trial.number):
                trial.state, trial.error = TrialState.FAILED, "failed on purpose"
            elif prune(trial.number):
                trial.state, trial.curve = TrialState.PRUNED, [(1, loss + 1.0)]
            else:
                losses = toy_losses(strategy.space, params, objectives)
                trial.state, trial.value, trial.loss = TrialState.COMPLETE, loss, loss
                trial.values, trial.losses = list(losses), list(losses)
                if constrained:
                    trial.constraints = [toy_constraint(strategy.space, params)]
                trial.curve = [(1, loss + 1.0), (2, loss)]
            strategy.tell([trial])
    return trials


def _check_params(space: Space, params: Any, where: str) -> None:
    assert isinstance(params, dict), f"{where}: a configuration must be a dict, got {params!r}"
    for key, value in params.items():
        assert type(value) in PLAIN_TYPES, (
            f"{where}: {key}={value!r} is a {type(value).__module__}.{type(value).__name__}, "
            "not a plain int/float/str/bool"
        )
    try:
        valid = space.validate(params)
    except Exception as exc:
        raise AssertionError(f"{where}: {params!r} is not in the space: {exc}") from None
    searchable = {d.name for d in space.searchable}
    extra = sorted(k for k in set(params) - set(valid) if k in searchable)
    assert not extra, f"{where}: inactive parameter(s) {extra} handed out in {params!r}"


# the checks -----------------------------------------------------------------------------

def check_asks_in_space(strategy_cls: type[Strategy], n_trials: int = 12,
                        **options: Any) -> None:
    """Every configuration validates, with plain Python values, on a mixed space."""
    strategy = make_strategy(strategy_cls, MIXED_SPACE, **options)
    trials = simulate(strategy, n_trials, batch=2)
    assert trials, "the strategy proposed nothing"
    for t in trials:
        _check_params(strategy.space, t.user_attrs["asked"], f"trial {t.number}")


def check_conditional_space(strategy_cls: type[Strategy], n_trials: int = 12,
                            **options: Any) -> None:
    """Conditional parameters appear exactly when their condition holds."""
    strategy = make_strategy(strategy_cls, CONDITIONAL_SPACE, **options)
    asked = [t.user_attrs["asked"] for t in simulate(strategy, n_trials, batch=2)]
    assert asked, "the strategy proposed nothing"
    for i, params in enumerate(asked):
        _check_params(strategy.space, params, f"ask {i}")
        layers = params["n_layers"]
        for k in (2, 3):
            assert (f"units_{k}" in params) == (layers >= k), (
                f"ask {i}: units_{k} must be given exactly when n_layers >= {k}: {params!r}")
        assert ("momentum" in params) == (params["optimizer"] == "sgd"), (
            f"ask {i}: momentum must be given exactly when optimizer is sgd: {params!r}")


def check_same_seed_same_trials(strategy_cls: type[Strategy], n_trials: int = 12,
                                **options: Any) -> None:
    """Two runs with one seed propose the same sequence."""
    runs = []
    for _ in range(2):
        strategy = make_strategy(strategy_cls, MIXED_SPACE, seed=7, **options)
        runs.append([t.params for t in simulate(strategy, n_trials, batch=2)])
    for i, (a, b) in enumerate(zip(*runs, strict=False)):
        assert a == b, f"same seed, different trial {i}: {a!r} != {b!r}"
    assert len(runs[0]) == len(runs[1]), "same seed, different number of trials"


def check_failed_trials(strategy_cls: type[Strategy], n_trials: int = 12,
                        **options: Any) -> None:
    """FAILED trials (loss None) are accepted, and the strategy keeps proposing."""
    strategy = make_strategy(strategy_cls, MIXED_SPACE, **options)
    trials = simulate(strategy, n_trials, fail=lambda number: number % 3 == 1)
    assert any(t.state is TrialState.FAILED for t in trials), "no trial failed: check is void"
    assert len(trials) == n_trials or strategy.done, (
        f"the strategy stopped proposing after {len(trials)} trials with failures")
    for t in trials:
        _check_params(strategy.space, t.user_attrs["asked"], f"trial {t.number}")
    # all failures: still no crash
    strategy = make_strategy(strategy_cls, MIXED_SPACE, **options)
    simulate(strategy, min(n_trials, 6), fail=lambda number: True)


def check_pruned_trials(strategy_cls: type[Strategy], n_trials: int = 12,
                        **options: Any) -> None:
    """PRUNED trials (loss None, a partial ``curve``) are accepted, the strategy keeps
    proposing, and a restore of a history with pruned trials asks what the uninterrupted
    run asks."""
    def prune(number: int) -> bool:
        return number % 3 == 2

    strategy = make_strategy(strategy_cls, MIXED_SPACE, seed=3, **options)
    trials = simulate(strategy, n_trials, prune=prune)
    assert any(t.state is TrialState.PRUNED for t in trials), "no trial pruned: check is void"
    assert len(trials) == n_trials or strategy.done, (
        f"the strategy stopped proposing after {len(trials)} trials with pruned ones")
    _check_history_and_restore(strategy_cls, strategy, trials, 1, 3, "with pruned ones",
                               options)


def _check_history_and_restore(strategy_cls: type[Strategy], whole: Strategy,
                               history: list[Trial], batch: int, seed: int, what: str,
                               options: Mapping[str, Any]) -> None:
    """Every asked configuration is in the space, and a fresh strategy restored from
    ``history`` asks what the uninterrupted ``whole`` asks next."""
    for t in history:
        _check_params(whole.space, t.user_attrs["asked"], f"{what}, trial {t.number}")
    if whole.done:
        return
    expected = whole.ask(batch)
    resumed = make_strategy(strategy_cls, MIXED_SPACE, seed=seed, **options)
    resumed.restore([_copy(t) for t in history])
    got = resumed.ask(batch)
    assert got == expected, (f"after restore of {len(history)} trials ({what}) the next ask "
                             f"is {got!r}, the uninterrupted run asks {expected!r}")


def check_no_duplicates(strategy_cls: type[Strategy], n_trials: int = 10,
                        **options: Any) -> None:
    """No configuration is handed out twice in a study while the space has untried ones
    (a 12-point space, 10 trials, batches of 3; its dimensions in both orders, so that a
    low-discrepancy sequence whose bases happen to fit one order is still caught)."""
    for space in (SMALL_SPACE, dict(reversed(list(SMALL_SPACE.items())))):
        strategy = make_strategy(strategy_cls, space, **options)
        trials = simulate(strategy, n_trials, batch=3)
        keys = [strategy.space.key(t.params) for t in trials]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        assert not dupes, (f"configuration(s) handed out twice in one study over "
                           f"{list(space)}: {dupes}")


def check_batch_asks(strategy_cls: type[Strategy], **options: Any) -> None:
    """ask(n) gives at most n distinct configurations, twice in a row without a tell."""
    strategy = make_strategy(strategy_cls, MIXED_SPACE, **options)
    simulate(strategy, 6)
    first = strategy.ask(4)
    second = strategy.ask(3)
    assert len(first) <= 4 and len(second) <= 3, "ask(n) returned more than n"
    keys = [strategy.space.key(p) for p in first + second]
    assert len(set(keys)) == len(keys), f"pending asks repeat a configuration: {first + second}"
    for p in first + second:
        _check_params(strategy.space, p, "batch ask")


def check_restore(strategy_cls: type[Strategy], n_trials: int = 12, **options: Any) -> None:
    """restore(history) then ask() equals the uninterrupted run's next ask (serial and batch)."""
    for batch in (1, 3):
        for cut in sorted({3, n_trials // 2, n_trials}):
            cut = cut - cut % batch
            if cut <= 0:
                continue
            whole = make_strategy(strategy_cls, MIXED_SPACE, seed=3, **options)
            history = simulate(whole, cut, batch=batch, fail=lambda number: number == 1)
            if whole.done:
                continue
            expected = whole.ask(batch)
            resumed = make_strategy(strategy_cls, MIXED_SPACE, seed=3, **options)
            resumed.restore([_copy(t) for t in history])
            got = resumed.ask(batch)
            assert got == expected, (
                f"after restore of {len(history)} trials (batches of {batch}) the next ask is "
                f"{got!r}, the uninterrupted run asks {expected!r}")


def check_resume_study(strategy_cls: type[Strategy], n_trials: int = 10,
                       **options: Any) -> None:
    """A study run in two sittings on SQLite has the same trials as one run in one sitting."""
    from ..registry import Registry
    from ..study.core import Study
    from ..study.storage import Storage

    space = Space.from_dict(MIXED_SPACE)

    def objective(params: dict[str, Any]) -> float:
        return toy_loss(space, params)

    def run(path: Path, budgets: list[int]) -> list[dict[str, Any]]:
        for budget in budgets:
            storage = Storage(path)
            try:
                study = Study.open(storage=storage, name="conformance", space=space,
                                   strategy_cls=strategy_cls, strategy_options=options,
                                   seed=11, hooks=Registry(load_entry_points=False).lifecycle)
                study.optimize(objective, n_trials=budget)
                params = [t.params for t in study.trials]
            finally:
                close = getattr(storage, "close", None)
                if close:
                    close()
        return params

    with tempfile.TemporaryDirectory() as tmp:
        once = run(Path(tmp) / "once.db", [n_trials])
        twice = run(Path(tmp) / "twice.db", [max(1, n_trials // 2), n_trials])
    assert once == twice, (
        f"resumed study differs from an uninterrupted one:\n  once:  {once}\n  twice: {twice}")


def check_finite_runs_out(strategy_cls: type[Strategy], **options: Any) -> None:
    """A ``finite`` strategy reports ``done`` after a bounded number of asks."""
    if not strategy_cls.finite:
        return
    strategy = make_strategy(strategy_cls, SMALL_SPACE, **options)
    trials = simulate(strategy, 10_000)
    assert strategy.done, f"finite strategy not done after {len(trials)} trials"
    assert strategy.ask(1) == [], "an exhausted strategy must return []"


def check_several_objectives(strategy_cls: type[Strategy], n_trials: int = 12,
                             **options: Any) -> None:
    """What a strategy declares (``multi_objective``, ``handles_constraints``) it does:
    with two objectives and/or a constraint its asks stay in the space and a restore asks
    what the uninterrupted run asks. A strategy that declares neither is refused by the
    study and has nothing to check here."""
    kinds = [(2 if strategy_cls.multi_objective else 1, strategy_cls.handles_constraints)]
    if strategy_cls.multi_objective and strategy_cls.handles_constraints:
        kinds.append((2, False))
    for objectives, constrained in kinds:
        if objectives == 1 and not constrained:
            continue
        what = f"{objectives} objective(s){', constrained' if constrained else ''}"
        whole = make_strategy(strategy_cls, MIXED_SPACE, seed=5, **options)
        history = simulate(whole, n_trials, batch=2, objectives=objectives,
                           constrained=constrained, fail=lambda number: number == 2)
        assert history, f"{what}: the strategy proposed nothing"
        _check_history_and_restore(strategy_cls, whole, history, 2, 5, what, options)


def _copy(trial: Trial) -> Trial:
    return Trial(number=trial.number, params=dict(trial.params), state=trial.state,
                 value=trial.value, loss=trial.loss, error=trial.error,
                 curve=list(trial.curve), user_attrs=dict(trial.user_attrs),
                 values=None if trial.values is None else list(trial.values),
                 losses=None if trial.losses is None else list(trial.losses),
                 constraints=None if trial.constraints is None else list(trial.constraints))


CHECKS: dict[str, Callable[..., None]] = {
    "asks_in_space": check_asks_in_space,
    "conditional_space": check_conditional_space,
    "same_seed_same_trials": check_same_seed_same_trials,
    "failed_trials": check_failed_trials,
    "pruned_trials": check_pruned_trials,
    "no_duplicates": check_no_duplicates,
    "batch_asks": check_batch_asks,
    "restore": check_restore,
    "resume_study": check_resume_study,
    "finite_runs_out": check_finite_runs_out,
    "several_objectives": check_several_objectives,
}


def check_strategy(strategy_cls: type[Strategy], **options: Any) -> None:
    """Run every check; the first failure raises AssertionError naming the check."""
    for name, check in CHECKS.items():
        try:
            check(strategy_cls, **options)
        except AssertionError as exc:
            raise AssertionError(f"{strategy_cls.__name__} fails '{name}': {exc}") from None


class StrategyConformance:
    """Subclass in a test module (name it ``Test...``) to get one pytest test per check:
    ``test_<name>`` for each entry of :data:`CHECKS` (the list :func:`check_strategy`
    runs), so both forms always run the same checks."""

    strategy_cls: type[Strategy]
    options: dict[str, Any] = {}


def _conformance_test(check: Callable[..., None]) -> Callable[[StrategyConformance], None]:
    def test(self: StrategyConformance) -> None:
        check(self.strategy_cls, **self.options)

    test.__doc__ = check.__doc__
    return test


for _name, _check in CHECKS.items():
    setattr(StrategyConformance, f"test_{_name}", _conformance_test(_check))
