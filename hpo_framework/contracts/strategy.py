"""The strategy contract: ask / tell, state rebuilt from the trial history."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from ..options import Configurable
from .trial import Trial

if TYPE_CHECKING:  # annotations only: hpo-run --help loads the strategy plugins
    from ..space import Space


class Strategy(Configurable):
    """Proposes configurations. Sees losses to minimize; never touches storage.

    A strategy must be deterministic given (space, seed, options, history): after
    :meth:`restore` with the trials of an interrupted run it must give the same next
    :meth:`ask` as the run that was never interrupted.
    """

    kind: ClassVar[str] = "strategy"
    #: True when the strategy can run out (a grid): a study may then run without a budget.
    #: This declares a capability; a strategy says it *has* run out with :attr:`done`.
    finite: ClassVar[bool] = False
    #: True when it can propose for several objectives (it then reads ``trial.losses``, one
    #: loss per objective, all minimized); a study with several objectives refuses a
    #: strategy that does not declare it, in one line
    multi_objective: ClassVar[bool] = False
    #: True when it takes constraints into account (``trial.constraints``, feasible when
    #: every value is <= 0; ``trial.feasible``); a constrained study refuses one that does
    #: not declare it. A strategy that ignores outcomes (random, grid) declares both.
    handles_constraints: ClassVar[bool] = False
    #: set by ``ask`` when the strategy has something to say about each configuration it
    #: returned (which model proposed it, what that cost): one dict per configuration, kept
    #: in that trial's ``user_attrs`` and so given back to :meth:`restore`
    proposal_attrs: list[dict[str, Any]] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "ask" in vars(cls):
            cls.ask = _counting(vars(cls)["ask"])

    def __init__(self, space: Space, seed: int | None = None, **options: Any) -> None:
        self.space = space
        self.seed = seed
        self.config = self.validate(options)
        self.n_asked = 0

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        """Up to ``n`` new configurations. Fewer (or none) only while trials it handed out
        are still running (a generation waits for its results) or when it is :attr:`done`.

        ``self.n_asked`` is kept for you: the framework sets it to the number of
        configurations handed out after every ``ask`` (during one, it is the count before
        it), also after :meth:`restore`."""
        raise NotImplementedError

    def tell(self, trials: Sequence[Trial]) -> None:
        """Finished trials (COMPLETE with ``loss``, FAILED or PRUNED with ``loss`` None).

        A trial may be told twice: one that a pausing pruner paused is told PRUNED (its
        ``curve`` so far) and, if it is resumed, again how it ended; the later telling
        replaces the earlier."""

    @property
    def done(self) -> bool:
        """True when there is nothing left to propose (an exhausted grid): the one way a
        strategy says it has run out. A study stops with ``strategy done``; an empty ask
        while nothing runs and the strategy is not done is an error, not an ending."""
        return False

    def restore(self, trials: Sequence[Trial]) -> None:
        """Rebuild state from a study's history, every trial in number order.

        The default counts every trial as asked and tells the finished ones; strategies
        whose state depends on the order of asks and tells override this.
        """
        self.n_asked = len(trials)
        finished = [t for t in trials if t.state.finished]
        if finished:
            self.tell(finished)

    def stats(self) -> dict[str, Any] | None:
        """Optional JSON-able state to store with the study (e.g. per-generation stats)."""
        return None


def _counting(ask: Any) -> Any:
    """Wrap a subclass's ``ask`` so that ``n_asked`` counts what it handed out. It sets
    the count (before + handed out), so a strategy that counts itself ends the same."""

    @functools.wraps(ask)
    def counted(self: Strategy, n: int = 1) -> list[dict[str, Any]]:
        before = self.n_asked
        out = ask(self, n)
        if isinstance(out, list | tuple):  # anything else is refused where the study asks
            self.n_asked = before + len(out)
        return out

    return counted


def derived_seed(seed: int | None, *keys: Any) -> int:
    """A seed for one step of a strategy, from its study seed and ``keys`` (how many
    configurations were asked, say): the same in every process and after a resume,
    unlike ``hash()`` or a generator that lived in a dead driver."""
    import hashlib  # here: hpo-run --help loads the strategy plugins
    import json

    blob = json.dumps([seed, *keys], sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "big")


class RebuildingStrategy(Strategy):
    """For wrapping a stateful optimizer (an Optuna sampler, a skopt ``Optimizer``): its
    state lives in memory, so a resumed study cannot continue it. Here it is rebuilt from
    the history before every ask, with a seed derived from (study seed, number asked):
    an interrupted study then asks exactly what an uninterrupted one would.

    Implement :meth:`propose`; ``n_asked`` and the history are kept for you, and what
    it proposes twice (an optimizer over a continuous encoding of a discrete space often
    does) is asked again, then filled with random untried configurations: the study's
    rule that no configuration is handed out twice while untried ones remain holds.
    """

    def __init__(self, space: Space, seed: int | None = None, **options: Any) -> None:
        super().__init__(space, seed=seed, **options)
        self.history: list[Trial] = []
        self._pending: list[dict[str, Any]] = []

    def propose(self, history: Sequence[Trial], pending: Sequence[dict[str, Any]], n: int,
                seed: int) -> list[dict[str, Any]]:
        """Up to ``n`` configurations, given the finished trials (number order), the
        configurations asked but not finished yet (``pending``), and a fresh seed."""
        raise NotImplementedError

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        import random

        key = self.space.key
        seen = {key(t.params) for t in self.history} | {key(p) for p in self._pending}
        asked: list[dict[str, Any]] = []
        for attempt in range(3):
            want = n - len(asked)
            if want <= 0:
                break
            proposed = self.propose(list(self.history), [*self._pending, *asked], want,
                                    derived_seed(self.seed, self.n_asked, attempt))
            for params in proposed[:want]:
                if key(params) not in seen:
                    seen.add(key(params))
                    asked.append(params)
        rng = random.Random(derived_seed(self.seed, self.n_asked, "fill"))
        for _ in range(100 * (n - len(asked))):
            if len(asked) >= n:
                break
            params = self.space.active(self.space.sample(rng))
            if key(params) not in seen:
                seen.add(key(params))
                asked.append(params)
        self._pending.extend(asked)
        return asked

    def tell(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            key = self.space.key(t.params)
            self._pending = [p for p in self._pending if self.space.key(p) != key]
        told = {t.number: t for t in [*self.history, *trials]}  # a later telling replaces
        self.history = sorted(told.values(), key=lambda t: t.number)

    def restore(self, trials: Sequence[Trial]) -> None:
        self.n_asked = len(trials)
        self.history = [t for t in trials if t.state.finished]
        self._pending = [dict(t.params) for t in trials if not t.state.finished]
