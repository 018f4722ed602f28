"""Several strategies on the same problem, side by side (the notebook's comparison).

Studies with several objectives are ranked by the hypervolume of their feasible Pareto
front, all against one reference point computed over every run (see
:func:`hpo_framework.results.stats.common_hypervolume`).

Every strategy runs on the same backend, dataset, evaluator, budget and seed, each as
its own study in the same storage, so the comparison can be resumed and reported on
later. ``repeats`` runs each strategy with seeds ``seed, seed+1, ...``: one seed says
little about a search method.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OptionError
from ..results.model import StudyView
from ..results.stats import aggregate, common_hypervolume, summary, verdict

#: comparison mode is reproducible by default, so running the same command resumes it
DEFAULT_SEED = 0


def installed_strategies(registry: Any = None) -> list[str]:
    if registry is None:
        from ..registry import get_registry

        registry = get_registry()
    # by name: the core ranks no plugin above another (name a list to choose the order)
    return sorted(registry.components("strategy"))


def parse_strategies(text: str, registry: Any = None) -> list[str]:
    """``grid,bayes,genetic`` or ``all`` -> strategy names, each checked to be installed."""
    if registry is None:
        from ..registry import get_registry

        registry = get_registry()
    if text.strip() == "all":
        names = installed_strategies(registry)
    else:
        names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise OptionError(f"--strategy {text!r} names no strategy")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise OptionError(f"--strategy lists '{dupes[0]}' twice")
    for name in names:
        registry.get("strategy", name)  # an unknown name fails before anything runs
    return names


def is_comparison(strategy: str, repeats: int = 1) -> bool:
    """True for ``--strategy a,b``, ``--strategy all`` or ``--repeats N`` (N > 1)."""
    if repeats < 1:
        raise OptionError("--repeats must be at least 1")
    return "," in strategy or strategy.strip() == "all" or repeats > 1


def split_strategy_options(options: dict[str, Any], strategies: Sequence[str]
                           ) -> dict[str, dict[str, Any]]:
    """``-S kappa=5`` goes to every strategy; ``-S bayes.kappa=5`` only to bayes."""
    out: dict[str, dict[str, Any]] = {s: {} for s in strategies}
    for key, value in options.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix in out:
            out[prefix][rest] = value
        elif dot and prefix not in out:
            raise OptionError(f"--strategy-option {key}: '{prefix}' is not among the compared "
                              f"strategies ({', '.join(strategies)})")
        else:
            for s in strategies:
                out[s][key] = value
    return out


@dataclass
class Comparison:
    """The runs of a comparison: one summary row and one stored study per (strategy, seed)."""

    strategies: list[str]
    seeds: list[int]
    rows: list[dict[str, Any]] = field(default_factory=list)
    views: list[StudyView] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def repeats(self) -> int:
        return len(self.seeds)

    def by_strategy(self) -> list[dict[str, Any]]:
        return aggregate(self.rows)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"strategies": self.strategies, "seeds": self.seeds,
                               "runs": self.rows}
        if self.repeats > 1:
            out["by_strategy"] = self.by_strategy()
        if self.errors:
            out["final_test_errors"] = self.errors
        # the best validation decides (both scores shown); several objectives: the largest
        # hypervolume against the common reference point
        out["winner"] = verdict(self.rows)
        return out

    def write(self, directory: str | Path) -> list[Path]:
        from ..results.exports import write_comparison

        return write_comparison(self.rows, self.views, directory, self.repeats)


def study_name(base: str, strategy: str, seed: int, repeats: int) -> str:
    name = f"{base}-{strategy}"
    return f"{name}-seed{seed}" if repeats > 1 else name


def _save_path(path: str | None, strategy: str, seed: int, repeats: int) -> str | None:
    if not path:
        return None
    p = Path(path)
    tag = f"-{strategy}" + (f"-seed{seed}" if repeats > 1 else "")
    return str(p.with_name(p.stem + tag + p.suffix))


def run_comparison(
    config: Any,
    strategies: Sequence[str],
    repeats: int = 1,
    *,
    callbacks: Callable[[str, int, int, int], Sequence[Any]] | None = None,
) -> Comparison:
    """Run each strategy (``repeats`` seeds each) from one :class:`~hpo_framework.jobs.job.JobConfig`.

    ``callbacks(strategy, seed, index, total)`` returns the study callbacks for one run
    (a progress display, say). Study names are ``BASE-STRATEGY[-seedN]`` where BASE is
    ``--study`` or ``compare-BACKEND-DATASET``.
    """
    from ..registry import get_registry
    from .job import prepare, run_job

    if repeats < 1:
        raise OptionError("--repeats must be at least 1")
    config = dataclasses.replace(config.resolved(), strategy=None)
    strategies = list(strategies)
    options = split_strategy_options(dict(config.strategy_options), strategies)
    registry = get_registry()
    for name in strategies:  # every option checked before the first trial runs
        registry.get("strategy", name).validate(options[name])
    base_seed = DEFAULT_SEED if config.seed is None else config.seed
    seeds = [base_seed + r for r in range(repeats)]
    base = config.study or f"compare-{config.backend}-{config.dataset}"
    result = Comparison(strategies, seeds)
    total = len(strategies) * repeats
    index = 0
    for seed in seeds:
        for name in strategies:
            index += 1
            job = dataclasses.replace(
                config, strategy=name, seed=seed, study=study_name(base, name, seed, repeats),
                strategy_options=options[name],
                save_model=_save_path(config.save_model, name, seed, repeats),
            )
            prepared = prepare(job)
            study = prepared.study
            try:
                before = len(study.finished_trials)
                started = time.monotonic()
                cbs = list(callbacks(name, seed, index, total)) if callbacks else []
                outcome = run_job(prepared, callbacks=cbs)
                elapsed = time.monotonic() - started
                previous = study.attrs.get("wall_time_s")
                if isinstance(previous, int | float) and len(study.finished_trials) == before:
                    elapsed = float(previous)  # nothing new ran: keep the search's time
                elif isinstance(previous, int | float):
                    elapsed += float(previous)  # a resumed study: add this run's time
                study.set_attr("wall_time_s", round(elapsed, 3))
            finally:
                study.close()
            view = StudyView.from_study(study)
            row = summary(view)
            if outcome.final_error:
                result.errors[study.name] = outcome.final_error
            result.rows.append(row)
            result.views.append(view)
    # several objectives: every run's hypervolume against one reference point (the worst
    # feasible value of each objective over all runs + 10% of its range), so they rank
    common_hypervolume(result.rows, result.views)
    return result
