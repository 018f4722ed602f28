"""The pruner conformance suite: checks that every pruner, built-in or third-party, passes.

Use it from pytest in one line per pruner::

    from hpo_framework.testing.pruners import check_pruner

    def test_my_pruner_conforms():
        check_pruner(MyPruner, patience=2)   # options go to the pruner

or subclass :class:`PrunerConformance` to get one test per check::

    class TestMyPruner(PrunerConformance):
        pruner_cls = MyPruner
        options = {"patience": 2}

Each check drives the pruner the way the study's driver does: trials report one loss per
step, ``prune(trial, history)`` is asked after every report, with every other trial
(finished and running) as the history, and a trial it stops is recorded PRUNED at that
step. The curves are fixed, so the checks are deterministic; failures raise
``AssertionError`` with a message that says what broke.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from ..contracts.pruner import PAUSE, Pruner
from ..contracts.trial import Trial, TrialState

Curve = list[tuple[int, float]]
#: the number of steps (epochs) of a whole trial in the checks
STEPS = 10


def learning_curve(final: float, start: float = 2.5, steps: Sequence[int] = range(1, STEPS + 1),
                   noise: float = 0.0, rng: random.Random | None = None) -> Curve:
    """A loss that falls from ``start`` towards ``final`` like a training curve."""
    out = []
    last = max(steps)
    for s in steps:
        loss = final + (start - final) * math.exp(-3.0 * s / last)
        if noise and rng is not None:
            loss += rng.uniform(-noise, noise)
        out.append((int(s), loss))
    return out


def ordinary_curves(n: int, seed: int = 0, steps: Sequence[int] = range(1, STEPS + 1)
                    ) -> list[Curve]:
    """``n`` plausible curves, finals spread over 0.2-1.2, a little noise."""
    rng = random.Random(seed)
    return [learning_curve(rng.uniform(0.2, 1.2), start=rng.uniform(2.0, 3.0), steps=steps,
                           noise=0.02, rng=rng) for _ in range(n)]


def hopeless_curve(steps: Sequence[int] = range(1, STEPS + 1)) -> Curve:
    """Far worse than every ordinary curve at every step (a diverged or stuck model)."""
    return [(int(s), 9.0) for s in steps]


def best_curve(steps: Sequence[int] = range(1, STEPS + 1)) -> Curve:
    """Better than every ordinary curve at every step."""
    return [(int(s), 0.1 * math.exp(-s / STEPS)) for s in steps]


def make_pruner(pruner_cls: type[Pruner], seed: int | None = 0, **options: Any) -> Pruner:
    return pruner_cls(seed=seed, **options)


def _view(trial: Trial) -> Trial:
    """What a pruner is handed: a copy, so a pruner that changes it cannot change the study."""
    return Trial(number=trial.number, params=dict(trial.params), state=trial.state,
                 value=trial.value, loss=trial.loss, curve=list(trial.curve))


def _ask(pruner: Pruner, trial: Trial, others: Sequence[Trial], where: str) -> bool | str:
    """The decision: a bool, or ``PAUSE`` from a pausing pruner (``pauses = True``)."""
    decision = pruner.prune(_view(trial), [_view(t) for t in others])
    if pruner.pauses and decision == PAUSE:
        return PAUSE
    assert isinstance(decision, bool), (
        f"{where}: prune() must return a bool{' or PAUSE' if pruner.pauses else ''}, got "
        f"{type(decision).__name__} {decision!r}")
    return decision


def _promote(pruner: Pruner, trials: Sequence[Trial], more: bool) -> list[int]:
    paused = [t for t in trials if t.state is TrialState.PAUSED]
    if not paused or not pruner.pauses:
        return []
    numbers = pruner.promote([_view(t) for t in paused], [_view(t) for t in trials], more=more)
    known = {t.number for t in paused}
    assert all(n in known for n in numbers), (
        f"promote() returned {numbers}, not all of them PAUSED (paused: {sorted(known)})")
    return list(numbers)


def simulate(
    pruner: Pruner | Callable[[], Pruner],
    curves: Sequence[Curve],
    *,
    parallel: int = 1,
    history: Sequence[Trial] = (),
) -> list[Trial]:
    """Run one trial per curve, ``parallel`` at a time, like a study with a pruner.

    Running trials report in turn, one step each, and the pruner is asked after every
    report with every other trial as the history (``history`` first: trials of an earlier
    sitting). ``pruner`` may be a factory, called before every decision (a pruner rebuilt
    from its seed and options, as after a resume). A trial the pruner stops is PRUNED with
    ``user_attrs["pruned_at"]`` = its last step; the others are COMPLETE with the last loss.
    A pausing pruner's PAUSE makes a trial PAUSED; before new trials start, ``promote``
    says which go on (from where they paused); those never resumed end PRUNED.
    Returns the history plus the new trials, in number order.
    """
    factory = pruner if callable(pruner) and not isinstance(pruner, Pruner) else None
    trials: list[Trial] = list(history)
    queue = [Trial(number=len(trials) + i, params={"curve": i}) for i in range(len(curves))]
    todo = {t.number: list(c) for t, c in zip(queue, curves, strict=True)}
    running: list[Trial] = []
    while True:
        current = factory() if factory is not None else pruner
        for number in _promote(current, trials, more=bool(queue))[:parallel - len(running)]:
            trial = next(t for t in trials if t.number == number)
            trial.state = TrialState.RUNNING
            running.append(trial)
        while queue and len(running) < parallel:
            trial = queue.pop(0)
            trial.state = TrialState.RUNNING
            trials.append(trial)
            running.append(trial)
        if not running:
            break
        for trial in list(running):
            rest = todo[trial.number]
            if not rest:
                _finish(trial, TrialState.COMPLETE)
                running.remove(trial)
                continue
            trial.curve.append(rest.pop(0))
            others = [t for t in trials if t.number != trial.number]
            current = factory() if factory is not None else pruner
            said = _ask(current, trial, others, f"trial {trial.number} at step "
                                                f"{trial.curve[-1][0]}")
            if said == PAUSE and rest:
                trial.state = TrialState.PAUSED
                running.remove(trial)
            elif said is True:
                _finish(trial, TrialState.PRUNED)
                running.remove(trial)
            elif not rest:
                _finish(trial, TrialState.COMPLETE)
                running.remove(trial)
    for trial in trials:
        if trial.state is TrialState.PAUSED:
            _finish(trial, TrialState.PRUNED)
    return sorted(trials, key=lambda t: t.number)


def _finish(trial: Trial, state: TrialState) -> None:
    trial.state = state
    if not trial.curve:
        return
    step, loss = trial.curve[-1]
    if state is TrialState.PRUNED:
        trial.user_attrs["pruned_at"] = step
    else:
        trial.value = trial.loss = loss


def decisions(trials: Sequence[Trial]) -> list[tuple[int, str, int | None]]:
    """(number, state, last step) per trial: what must be the same in two runs."""
    return [(t.number, t.state.value, t.curve[-1][0] if t.curve else None) for t in trials]


# the checks -----------------------------------------------------------------------------

def check_no_history(pruner_cls: type[Pruner], **options: Any) -> None:
    """The first trial of a study (nothing to compare with) is never stopped, whatever its
    curve; a trial with no report yet is kept."""
    for curve in (ordinary_curves(1)[0], hopeless_curve(), best_curve()):
        pruner = make_pruner(pruner_cls, **options)
        trial = Trial(number=0, params={}, state=TrialState.RUNNING)
        assert _ask(pruner, trial, [], "trial 0 before any report") is not True, (
            "a trial with no report yet was stopped")
        for point in curve:
            trial.curve.append(point)
            assert _ask(pruner, trial, [], f"trial 0 at step {point[0]}") is not True, (
                f"the only trial of a study was stopped at step {point[0]} with no history "
                f"to compare it with (curve {curve[:3]}...)")


def check_same_decisions(pruner_cls: type[Pruner], n_history: int = 30,
                         **options: Any) -> None:
    """Two pruners with one seed and the same curves decide the same, and asking twice
    gives the same answer (serial and 3 trials at a time)."""
    curves = ordinary_curves(n_history, seed=1) + [hopeless_curve()] + ordinary_curves(5, seed=2)
    for parallel in (1, 3):
        runs = [decisions(simulate(make_pruner(pruner_cls, seed=7, **options), curves,
                                   parallel=parallel)) for _ in range(2)]
        assert runs[0] == runs[1], (
            f"same seed and curves, different decisions ({parallel} at a time):\n"
            f"  {runs[0]}\n  {runs[1]}")
    pruner = make_pruner(pruner_cls, seed=7, **options)
    trials = simulate(pruner, curves)
    for t in trials:
        others = [o for o in trials if o.number != t.number]
        first = _ask(pruner, t, others, f"trial {t.number} asked again")
        again = _ask(pruner, t, others, f"trial {t.number} asked a third time")
        assert first == again, f"trial {t.number}: the same question answered {first}, then {again}"


def check_stops_hopeless(pruner_cls: type[Pruner], n_history: int = 30, **options: Any) -> None:
    """With ``n_history`` finished ordinary trials, a hopeless curve is stopped before its
    last step, at every one of several trial numbers (brackets, hashes), serial and with
    running trials in the history."""
    history = simulate(make_pruner(pruner_cls, **options), ordinary_curves(n_history, seed=3))
    for number in range(n_history, n_history + 6):
        pad = number - n_history
        trials = simulate(make_pruner(pruner_cls, **options),
                          ordinary_curves(pad, seed=4) + [hopeless_curve()], history=history)
        hopeless = trials[number]
        assert hopeless.state is TrialState.PRUNED, (
            f"a hopeless trial (loss 9.0 at every step, the others 0.2-3.0) numbered {number} "
            f"ran all {STEPS} steps after {len(trials) - 1} trials")
    trials = simulate(make_pruner(pruner_cls, **options),
                      ordinary_curves(4, seed=5) + [hopeless_curve()] + ordinary_curves(4, seed=6),
                      parallel=3, history=history)
    hopeless = trials[n_history + 4]
    assert hopeless.state is TrialState.PRUNED, (
        "a hopeless trial ran all its steps while 2 other trials ran beside it")


def check_keeps_best(pruner_cls: type[Pruner], n_history: int = 30, **options: Any) -> None:
    """A curve better than every other at every step is never stopped, wherever it comes
    in the study, serial or 3 at a time."""
    curves = ordinary_curves(n_history, seed=8)
    for position in (0, 1, 2, n_history // 2, n_history):
        for parallel in (1, 3):
            order = curves[:position] + [best_curve()] + curves[position:]
            trials = simulate(make_pruner(pruner_cls, **options), order, parallel=parallel)
            best = trials[position]
            assert best.state is TrialState.COMPLETE, (
                f"the best curve (trial {position}, {parallel} at a time) was stopped at step "
                f"{best.user_attrs.get('pruned_at')}")


def check_rebuilt(pruner_cls: type[Pruner], n_history: int = 30, **options: Any) -> None:
    """A pruner rebuilt from (seed, options) before every decision, or resumed with the
    first half as history, decides as one that lived through the whole study: state lives
    in the history, not in the object."""
    curves = ordinary_curves(n_history, seed=10) + [hopeless_curve()] + ordinary_curves(6, seed=11)
    for parallel in (1, 3):
        whole = decisions(simulate(make_pruner(pruner_cls, seed=5, **options), curves,
                                   parallel=parallel))
        rebuilt = decisions(simulate(lambda: make_pruner(pruner_cls, seed=5, **options), curves,
                                     parallel=parallel))
        assert rebuilt == whole, (
            f"a pruner rebuilt before every call decides differently ({parallel} at a time):"
            f"\n  once:    {whole}\n  rebuilt: {rebuilt}")
    if make_pruner(pruner_cls, **options).pauses:  # a sitting that ended its paused trials
        return  # is not a resume of them (a killed driver's is tested through the study)
    whole = decisions(simulate(make_pruner(pruner_cls, seed=5, **options), curves))
    cut = len(curves) // 2
    first = simulate(make_pruner(pruner_cls, seed=5, **options), curves[:cut])
    resumed = decisions(simulate(make_pruner(pruner_cls, seed=5, **options), curves[cut:],
                                 history=[_view(t) for t in first]))
    assert resumed == whole, (
        f"resumed after {cut} trials, the decisions differ:\n  once:    {whole}\n"
        f"  resumed: {resumed}")


def check_uneven_steps(pruner_cls: type[Pruner], n_history: int = 30, **options: Any) -> None:
    """Trials that report different steps (every step, every second one, from 0, a few):
    no error, the best still kept, a hopeless one on every second step still stopped."""
    even = range(2, STEPS + 1, 2)
    curves = (ordinary_curves(n_history // 3, seed=12)
              + ordinary_curves(n_history // 3, seed=13, steps=even)
              + ordinary_curves(n_history // 3, seed=14, steps=range(0, STEPS))
              + ordinary_curves(2, seed=15, steps=(1, 5, STEPS)))
    history = simulate(make_pruner(pruner_cls, **options), curves, parallel=2)
    trials = simulate(make_pruner(pruner_cls, **options),
                      [hopeless_curve(even), best_curve(even), hopeless_curve(range(0, STEPS))],
                      history=history)
    hopeless, best, hopeless0 = trials[-3:]
    assert hopeless.state is TrialState.PRUNED, (
        "a hopeless trial reporting steps 2, 4, ..., 10 ran to the end")
    assert hopeless0.state is TrialState.PRUNED, (
        "a hopeless trial reporting steps 0, 1, ..., 9 ran to the end")
    assert best.state is TrialState.COMPLETE, (
        f"the best trial reporting steps 2, 4, ... was stopped at {best.user_attrs.get('pruned_at')}")


def check_odd_history(pruner_cls: type[Pruner], **options: Any) -> None:
    """FAILED trials (with and without reports), NaN and infinite losses in the history or
    in the trial itself: answers are bools, no error, and a NaN trial does not stop others."""
    good = ordinary_curves(8, seed=16)
    history = simulate(make_pruner(pruner_cls, **options), good)
    odd = [
        Trial(number=len(history), params={}, state=TrialState.FAILED),
        Trial(number=len(history) + 1, params={}, state=TrialState.FAILED,
              curve=[(1, 2.0), (2, math.nan)]),
        Trial(number=len(history) + 2, params={}, state=TrialState.PRUNED,
              curve=[(1, math.inf)]),
        Trial(number=len(history) + 3, params={}, state=TrialState.COMPLETE,
              curve=[(s, math.nan) for s in range(1, STEPS + 1)]),
    ]
    history = history + odd
    trials = simulate(make_pruner(pruner_cls, **options),
                      [[(1, 2.4), (2, math.nan), (3, math.nan)], [(1, math.inf)], best_curve()],
                      history=history)
    assert trials[-1].state is TrialState.COMPLETE, (
        "the best curve was stopped in a history with failed, NaN and infinite trials")


CHECKS: dict[str, Callable[..., None]] = {
    "no_history": check_no_history,
    "same_decisions": check_same_decisions,
    "stops_hopeless": check_stops_hopeless,
    "keeps_best": check_keeps_best,
    "rebuilt": check_rebuilt,
    "uneven_steps": check_uneven_steps,
    "odd_history": check_odd_history,
}


def check_pruner(pruner_cls: type[Pruner], **options: Any) -> None:
    """Run every check; the first failure raises AssertionError naming the check."""
    for name, check in CHECKS.items():
        try:
            check(pruner_cls, **options)
        except AssertionError as exc:
            raise AssertionError(f"{pruner_cls.__name__} fails '{name}': {exc}") from None


class PrunerConformance:
    """Subclass in a test module (name it ``Test...``) to get one pytest test per check."""

    pruner_cls: type[Pruner]
    options: dict[str, Any] = {}

    def test_no_history(self) -> None:
        check_no_history(self.pruner_cls, **self.options)

    def test_same_decisions(self) -> None:
        check_same_decisions(self.pruner_cls, **self.options)

    def test_stops_hopeless(self) -> None:
        check_stops_hopeless(self.pruner_cls, **self.options)

    def test_keeps_best(self) -> None:
        check_keeps_best(self.pruner_cls, **self.options)

    def test_rebuilt(self) -> None:
        check_rebuilt(self.pruner_cls, **self.options)

    def test_uneven_steps(self) -> None:
        check_uneven_steps(self.pruner_cls, **self.options)

    def test_odd_history(self) -> None:
        check_odd_history(self.pruner_cls, **self.options)
