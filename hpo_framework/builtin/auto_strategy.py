"""``auto``: the Gaussian process while its proposals are cheap against the trials, a
cheaper model once they are not.

``bayes`` (a GP) is the most sample-efficient strategy measured here, but a proposal costs
tens of milliseconds and grows with the history (cubic in the number of trials), so on a
cheap objective the proposals, not the trials, take the time. ``auto`` starts with
``bayes`` and hands over, once and for good, to ``tpe`` (one objective, no constraints) or
``genetic`` (NSGA-II: several objectives or constraints) when

* a GP proposal would cost more than ``gp_share`` of a trial (the median duration of the
  last finished trials against the larger of the last measured GP proposal and an
  estimate for this history size) and the GP's proposals so far took more than
  ``gp_allowance_s`` in all (so a short study of cheap trials keeps the GP), or
* ``gp_limit`` trials have finished (a GP over thousands of trials is cubic).

Every trial records which model proposed it and what the proposal cost
(``user_attrs["proposed_by"]``, ``["proposal_s"]``); the rule reads only stored trials,
so a resumed study replays the hand-over exactly where the uninterrupted one made it.
:meth:`stats` says what was picked and why.

Delegates are other installed strategy plugins, resolved by name through the registry
like any strategy: without hpo-bayes the first phase is ``random`` (what ``bayes`` starts
with anyway), without the target ``random`` takes over.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..contracts.hookspecs import hookimpl
from ..contracts.strategy import Strategy
from ..contracts.trial import Trial, TrialState
from ..errors import PluginError
from ..options import Option

#: a GP proposal's cost in seconds by history size, measured with ``bayes`` on a 3-D
#: problem on the 2-core reference machine (0.04 s at 20-40 trials, 0.11 s at 120): the
#: floor the rule assumes before a GP proposal was measured in this study. Proposals are
#: timed on the wall clock, as trials are (``Trial.duration``): on a loaded machine both
#: grow together, and the wall clock is what a user waits for
_GP_BASE_S, _GP_PER_TRIAL_S = 0.03, 0.0005


def gp_estimate(n_finished: int) -> float:
    return _GP_BASE_S + _GP_PER_TRIAL_S * n_finished


class AutoStrategy(Strategy):
    """``bayes`` while a proposal is cheap against a trial, then ``tpe`` (or ``genetic``
    for several objectives or constraints); see the module docstring."""

    name = "auto"
    multi_objective = True
    handles_constraints = True
    options = {
        "gp_share": Option(0.25, float, low=0.0, high=100.0,
                           help="the GP is used while one proposal costs at most this share "
                                "of a trial's duration"),
        "gp_allowance_s": Option(0.5, float, low=0.0,
                                 help="the GP is also kept while all its proposals so far "
                                      "took less than this many seconds: a short study of "
                                      "cheap trials still gets its sample efficiency"),
        "gp_limit": Option(300, int, low=0,
                           help="hand over after this many finished trials, whatever they cost"),
        "min_trials": Option(5, int, low=1,
                             help="finished trials needed before the rule looks at durations"),
        "then": Option(None, str, nullable=True,
                       help="the strategy to hand over to (default: tpe for one objective "
                            "without constraints, else genetic)"),
    }

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self._finished: dict[int, Trial] = {}
        self._pending: list[dict[str, Any]] = []
        self._gp_cost = 0.0  # the last measured GP proposal (seconds)
        self._gp_total = 0.0  # every GP proposal so far (seconds)
        self._several = False  # several objectives or constraints seen
        self.switched_at: int | None = None
        self.reason = ""
        self.proposal_attrs: list[dict[str, Any]] | None = None
        self._gp = self._make(self._first())
        self._then: Strategy | None = None

    # delegates ---------------------------------------------------------------------------
    @staticmethod
    def _installed(name: str) -> bool:
        from ..registry import get_registry

        return name in get_registry().components("strategy")

    def _first(self) -> str:
        """bayes; random (which ``bayes`` starts with anyway) when hpo-bayes is missing."""
        return "bayes" if self._installed("bayes") else "random"

    def _make(self, name: str) -> Strategy:
        from ..registry import get_registry

        try:
            cls = get_registry().get("strategy", name)
        except PluginError as exc:
            raise PluginError(f"strategy 'auto' needs the '{name}' strategy: {exc}") from None
        return cls(self.space, seed=self.seed)  # while it is bayes, auto asks what bayes does

    def _target(self) -> str:
        if self.config["then"]:
            return self.config["then"]
        wanted = "genetic" if self._several else "tpe"
        return wanted if self._installed(wanted) else "random"

    @property
    def model(self) -> str:
        return self._gp.name if self._then is None else self._then.name

    # the rule ----------------------------------------------------------------------------
    def _should_hand_over(self) -> str | None:
        n = len(self._finished)
        if n >= self.config["gp_limit"]:
            return f"{n} trials finished (gp_limit={self.config['gp_limit']}): a GP's cost grows " \
                   "with the cube of the history"
        durations = [t.duration for _, t in sorted(self._finished.items())
                     if t.state is TrialState.COMPLETE and t.duration is not None][-25:]
        if n < self.config["min_trials"] or not durations:
            return None
        import statistics  # here: hpo-run --help loads this module

        trial_s = statistics.median(durations)
        gp_s = max(self._gp_cost, gp_estimate(n))
        if gp_s <= self.config["gp_share"] * trial_s:
            return None
        if self._gp_total + gp_s <= self.config["gp_allowance_s"]:
            return None  # cheap trials, but the GP has cost little in all
        return (f"a trial takes {trial_s:.3g} s (median of the last {len(durations)}) and a "
                f"GP proposal about {gp_s:.2g} s, more than gp_share="
                f"{self.config['gp_share']:g} of a trial, and the GP's proposals took "
                f"{self._gp_total:.2g} s in all (gp_allowance_s="
                f"{self.config['gp_allowance_s']:g})")

    def _hand_over(self, reason: str) -> None:
        target = self._target()
        then = self._make(target)
        if self._several and not (then.multi_objective and then.handles_constraints):
            raise PluginError(f"strategy 'auto': then={target} cannot take several objectives "
                              "or constraints; choose one that can (genetic)")
        # what is still running becomes its pending, as after a resume
        known = sorted(self._finished.values(), key=lambda t: t.number)
        running = [Trial(number=-1 - i, params=dict(p), state=TrialState.RUNNING)
                   for i, p in enumerate(self._pending)]
        then.restore([*known, *running])
        then.n_asked = self.n_asked
        self._then = then
        self.switched_at = self.n_asked
        self.reason = reason

    # the contract ------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        if self._then is None:
            reason = self._should_hand_over()
            if reason is not None:
                self._hand_over(reason)
        sub = self._gp if self._then is None else self._then
        sub.n_asked = self.n_asked
        started = time.perf_counter()
        out = sub.ask(n)
        each = round((time.perf_counter() - started) / max(1, len(out)), 6)
        attrs: dict[str, Any] = {"proposed_by": sub.name, "proposal_s": each}
        if self._then is None and self.n_asked >= getattr(self._gp, "_n_init", 0) \
                and sub.name == "bayes":
            self._gp_cost = attrs["gp_s"] = each  # a model's proposal, not an initial draw
            for _ in out:  # as a restore sums the stored values, one per trial
                self._gp_total += each
        self._pending.extend(dict(p) for p in out)
        self.proposal_attrs = [dict(attrs) for _ in out]
        return out

    def tell(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            key = self.space.key(t.params)
            self._pending = [p for p in self._pending if self.space.key(p) != key]
        self._learn(trials)
        (self._gp if self._then is None else self._then).tell(trials)

    def _learn(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            if t.state.finished:
                self._finished[t.number] = t
                self._several = self._several or t.constraints is not None or (
                    t.losses is not None and len(t.losses) > 1)

    def restore(self, trials: Sequence[Trial]) -> None:
        """Replay from the stored trials: the first one another model proposed marks the
        hand-over; the GP's last measured cost is the last stored ``gp_s``."""
        self.n_asked = len(trials)
        self._finished, self._several, self._then = {}, False, None
        self._gp_cost, self._gp_total, self.switched_at, self.reason = 0.0, 0.0, None, ""
        handed = None
        for t in trials:
            attrs = t.user_attrs or {}
            if "gp_s" in attrs:
                self._gp_cost = float(attrs["gp_s"])
                self._gp_total += self._gp_cost
            if handed is None and attrs.get("proposed_by") not in (None, self._gp.name):
                handed = t
        self._learn(trials)
        self._pending = [dict(t.params) for t in trials if not t.state.finished]
        if handed is None:
            self._gp.restore(trials)
            return
        self._then = self._make(handed.user_attrs["proposed_by"])
        self._then.restore(trials)
        self.switched_at = handed.number
        self.reason = "replayed from the stored trials"

    @property
    def done(self) -> bool:
        return (self._gp if self._then is None else self._then).done

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model}
        if self._then is not None:
            out.update(switched_at=self.switched_at, reason=self.reason)
        return out


@hookimpl
def register_strategies(register):
    register("auto", AutoStrategy, "bayes while its proposals are cheap against the trials, "
             "then tpe (or genetic for several objectives/constraints)", default=200)
