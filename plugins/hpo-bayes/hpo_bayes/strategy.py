"""The ``bayes`` strategy: wires the GP, the acquisition and the history into ask/tell.

Every proposal is a function of (seed, options, history) (:mod:`.seeds`), so a resumed
study asks what the uninterrupted one would have asked. The GP is fitted on the finished
trials and conditioned on a "constant liar" value at each configuration still running,
which is how a batch for parallel trials is built (one fit per batch).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hpo_framework import Option, OptionError, SpaceError, Strategy, Trial

from . import gp as gp_model
from .acqf import log_ei
from .curve import CurveModel
from .history import History
from .initial import initial_points
from .multi import boxes, log_ehvi, log_pof, reference_point
from .optim_mixed import maximize
from .search_space import Features
from .seeds import digest as data_digest
from .seeds import rng as seeded_rng

#: options of the scikit-optimize path that left ``bayes`` for the ``skopt`` strategy
SKOPT_OPTIONS = ("acq_func", "base_estimator", "kappa", "acq_optimizer")


class BayesStrategy(Strategy):
    """Gaussian-process Bayesian optimisation with log expected improvement.

    Several objectives: by default ParEGO (a random augmented Chebyshev scalarization of
    the normalized losses per proposal, one GP, log-EI), or ``multi_objective=ehvi``,
    one GP per objective and exact log expected hypervolume improvement; constraints:
    one GP per constraint value, its log probability of feasibility added
    (:mod:`.multi`). One objective without constraints runs exactly the log-EI path it
    always did.
    """

    name = "bayes"
    multi_objective = True
    handles_constraints = True
    options = {
        "output_transform": Option("auto", str, choices=("auto", "standardize", "power"),
                                   nullable=False,
                                   help="losses standardized, or power-transformed first "
                                        "(HEBO: Box-Cox or Yeo-Johnson; heavy tails); "
                                        "auto: whichever gives the GP more evidence "
                                        "(several objectives: standardize)"),
        "categorical_encoding": Option("onehot", str, choices=("onehot", "ordinal"),
                                       nullable=False,
                                       help="categoricals with 3+ choices one-hot, or by "
                                            "their position"),
        "length_scale_prior": Option(True, bool, nullable=False,
                                     help="priors on the kernel's length scales, scale and "
                                          "noise (Optuna's)"),
        "local_points": Option(0.25, float, low=0.0, high=0.9, nullable=False,
                               help="share of candidates drawn near the best points so "
                                    "far (a local trust region)"),
        "xi": Option(0.0, float, low=0.0, nullable=False,
                     help="minimum improvement, in standardized loss units; larger "
                          "explores more"),
        "n_initial_points": Option(10, int, low=1, nullable=False,
                                   help="space-filling points before the model is used"),
        "initial_point_generator": Option("sobol", str,
                                          choices=("random", "sobol", "lhs", "halton"),
                                          nullable=False, help="how the initial points are drawn"),
        "x0": Option(None, (list, dict),
                     help="configuration(s) evaluated first, e.g. the known defaults"),
        "n_points": Option(1000, int, low=10, nullable=False,
                           help="random candidates scored per proposal"),
        "max_history": Option(300, int, low=0, nullable=False,
                              help="most finished trials each GP is fitted on (its fit "
                                   "is cubic in them): past that, the best tenth (several "
                                   "objectives: of the front; a constraint: also the "
                                   "values nearest 0), the latest quarter and a seeded "
                                   "random sample of the rest; 0: every trial (unbounded)"),
        "n_restarts_optimizer": Option(3, int, low=1, nullable=False,
                                       help="L-BFGS starts from the best candidates (and "
                                            "one from the best point so far)"),
        "kernel_restarts": Option(0, int, low=0, nullable=False,
                                  help="extra random starts of the kernel hyperparameter fit"),
        "liar": Option("cl_min", str, choices=("cl_min", "cl_mean", "cl_max", "kb"),
                       nullable=False,
                       help="value assumed for trials still running when a batch is asked "
                            "(kb: kriging believer, the GP's own mean; always kb with "
                            "several objectives or constraints)"),
        "pruned": Option("curve", str, choices=("curve", "offset", "worst"), nullable=False,
                         help="what the model is told for a PRUNED trial: a predicted final "
                              "loss, from a GP over (configuration, step) fitted on every "
                              "reported value (curve), or its loss at the step it stopped "
                              "plus the finished trials' median change from there to their "
                              "end (offset); or the worst loss seen, as a FAILED one (worst)"),
        "multi_objective": Option("parego", str, choices=("parego", "ehvi"), nullable=False,
                                  help="several objectives: ParEGO, one GP on a random "
                                       "augmented Chebyshev scalarization of the "
                                       "normalized losses per proposal and log-EI on it "
                                       "(measured better: benchmarks/bayes_mo.py), or "
                                       "exact log expected hypervolume improvement, one "
                                       "GP per objective (ehvi)"),
    }

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Options alone (before a study is written); x0's values are checked on the space."""
        for key in SKOPT_OPTIONS:
            if key in given:
                raise OptionError(f"strategy 'bayes': option '{key}' belongs to "
                                  "scikit-optimize's Optimizer: use --strategy skopt, or "
                                  "leave it out (bayes always runs log-EI on its own GP)")
        config = super().validate(given)
        if 0 < config["max_history"] < 10:
            raise OptionError("strategy 'bayes': max_history must be 0 (every trial) or at "
                              f"least 10, got {config['max_history']}")
        x0 = config["x0"]
        if x0 is not None:
            for i, p in enumerate([x0] if isinstance(x0, dict) else x0):
                if not isinstance(p, dict):
                    raise OptionError(f"strategy 'bayes': x0[{i}] must be a mapping of "
                                      f"parameter to value, got {p!r}")
        return config

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed, **options)
        cfg = self.config
        self._dims = len(space.searchable)
        self._x0 = self._check_x0(cfg["x0"])
        self._n_init = len(self._x0) + cfg["n_initial_points"]
        self._initial = (initial_points(cfg["initial_point_generator"],
                                        cfg["n_initial_points"], self._dims,
                                        self._rng("initial")) if self._dims else [])
        self._seen: set[str] = set()  # every configuration handed out or in the history
        self._pending: dict[str, list[float]] = {}  # asked, not yet told: key -> encoding
        self._history = History()
        self._curve = CurveModel()
        self._features = Features(space, cfg["categorical_encoding"] == "onehot")
        self._gp_fit: tuple[str, Any, Any] | None = None  # (data digest, GP, its targets)
        # several objectives / constraints: number -> (losses or None, constraints or None)
        self._outcomes: dict[int, tuple[list[float] | None, list[float] | None]] = {}
        self._fits: dict[tuple, tuple[Any, Any]] = {}  # (role, digest) -> (GP, targets)
        self.n_fits = 0
        self.seconds = 0.0

    def _check_x0(self, x0: Any) -> list[dict[str, Any]]:
        if x0 is None:
            return []
        out = []
        for i, p in enumerate([x0] if isinstance(x0, dict) else list(x0)):
            try:
                out.append(self.space.validate(p))
            except SpaceError as exc:
                raise OptionError(f"strategy 'bayes': x0[{i}]: {exc}") from None
        return out

    def _rng(self, *parts: Any) -> Any:
        return seeded_rng(self.seed, *parts)

    # the model --------------------------------------------------------------------
    def _data(self, numbers: Sequence[int] | None = None) -> tuple[list, list]:
        """Finished trials in number order, as the model is told them (:mod:`.history`)."""
        return self._history.data(self.config["pruned"], self._curve_predictions, numbers)

    def _curve_predictions(self, numbers: Sequence[int], complete: Sequence[int]
                           ) -> dict[int, float]:
        return self._curve.predict(self._history, numbers, complete, self._features,
                                   self._rng)

    def _model_candidates(self) -> list[list[float]]:
        if self._n_objectives() > 1 or self._constrained():
            return self._multi_candidates()
        xs, ys = self._data()
        # a model needs two different values: two finished trials, or one and a pruned
        # trial predicted worse (a study whose first trial set a high bar at every rung
        # may finish no other for long; random proposals then would be a random search)
        if self._history.n_complete(sorted(self._history.told)) < 2 and len(set(ys)) < 2:
            return []
        return self._log_ei_candidates(xs, ys, list(self._pending.values()))

    def _gp(self, xs: list, ys: list, digest: str, seed: int) -> tuple[Any, Any]:
        """The GP on exactly (xs, ys), and its targets; the last one is kept, so the
        proposals of one batch (the same finished trials, other running ones) fit it once."""
        import numpy as np

        if self._gp_fit is not None and self._gp_fit[0] == digest:
            return self._gp_fit[1], self._gp_fit[2]
        cfg = self.config
        gp, y = gp_model.fit(self._features(np.asarray(xs, dtype=float)), ys,
                             cfg["output_transform"], cfg["kernel_restarts"], seed,
                             cfg["length_scale_prior"])
        self._gp_fit = (digest, gp, y)
        self.n_fits += 1
        return gp, y

    def _log_ei_candidates(self, xs: list, ys: list, pending: list) -> list[list[float]]:
        """Fit the GP, maximize log-EI; candidates best first (the caller skips seen ones).

        ``pending`` (configurations still running): the GP, fitted on the finished trials
        alone, is conditioned on a lie at each (``liar``: the best, mean or worst
        transformed loss; ``kb``, the kriging believer: its own mean there).
        """
        import numpy as np
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        cfg, feats = self.config, self._features
        digest = data_digest((xs, ys))
        keep = subset(ys, cfg["max_history"], self._rng("subset", len(xs), digest))
        if keep is not None:
            xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
            digest = data_digest((xs, ys))
        rng = self._rng("acq", len(xs), digest)
        seed = int(rng.randint(2**31))  # the GP's: a function of its data alone
        if pending:  # believed points: the batch's other candidates
            rng = self._rng("acq", len(xs), digest, pending)
        # matrices of a few hundred rows: BLAS threads only add contention (4x slower here)
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp, y = self._gp(xs, ys, digest, seed)
            best = float(y.min()) - cfg["xi"]
            believed = lies = None
            if pending:  # conditioned on a lie there (kb: on the GP's own mean)
                liar = cfg["liar"]
                believed = feats(np.asarray(pending, dtype=float))
                if liar != "kb":
                    lies = np.full(len(pending), float(y.min() if liar == "cl_min" else
                                                       y.max() if liar == "cl_max" else y.mean()))
            predict = gp.posterior(believed, lies)

            def score(u: Any) -> Any:
                return log_ei(*predict(feats(u)), best)

            found = maximize(score, rng, feats, np.asarray(xs, dtype=float), y,
                             cfg["n_points"], cfg["local_points"], cfg["n_restarts_optimizer"])
        self.seconds += time.perf_counter() - started
        return found

    # several objectives, constraints ---------------------------------------------------
    def _n_objectives(self) -> int:
        return max((len(losses) for losses, _ in self._outcomes.values() if losses), default=1)

    def _constrained(self) -> bool:
        return any(cons is not None for _, cons in self._outcomes.values())

    def _fit_role(self, role: tuple, xs: list, ys: list, how: str) -> tuple[Any, Any]:
        """The GP of one objective or constraint on (xs, ys), seeded by its data alone;
        the fits of the latest data are kept for the rest of a batch."""
        import numpy as np

        digest = data_digest((role, xs, ys))
        if (role, digest) in self._fits:
            return self._fits[role, digest]
        cfg = self.config
        seed = int(self._rng("acq-mo", role, len(xs), digest).randint(2**31))
        fitted = gp_model.fit(self._features(np.asarray(xs, dtype=float)), ys, how,
                              cfg["kernel_restarts"], seed, cfg["length_scale_prior"])
        self._fits = {key: v for key, v in self._fits.items() if key[0] != role}
        self._fits[role, digest] = fitted
        self.n_fits += 1
        return fitted

    def _multi_candidates(self) -> list[list[float]]:
        """Candidates best first by :meth:`_multi_acquisition` (none before two trials
        are COMPLETE)."""
        import numpy as np
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        cfg = self.config
        # matrices of a few hundred rows: BLAS threads only add contention
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built = self._multi_acquisition()
            if built is None:
                return []
            score, xs, rank, rng = built
            # L-BFGS-B also climbs from up to 5 points of the front (ranked 0, in a
            # random order), as Optuna's GPSampler does; one objective: the best point
            front = int(np.sum(rank < 1.0)) if self._n_objectives() > 1 else 1
            found = maximize(score, rng, self._features, np.asarray(xs, dtype=float), rank,
                             cfg["n_points"], cfg["local_points"], cfg["n_restarts_optimizer"],
                             n_incumbents=max(1, min(5, front)))
        self.seconds += time.perf_counter() - started
        return found

    def _multi_acquisition(self) -> tuple[Any, list, Any, Any] | None:
        """(score, encodings of the trials the GPs were fitted on, their rank, rng) for
        several objectives and/or constraints (:mod:`.multi`): one GP per objective
        (a FAILED or PRUNED trial told each objective's worst loss; one objective: what
        :mod:`.history` tells; ParEGO, the default: one GP on the scalarized losses) and
        per constraint value (the trials that have them); log-EHVI (``ehvi``) or log-EI
        (one objective, ParEGO) on the feasible COMPLETE trials plus the log probability
        of feasibility. Trials still running: each GP conditioned on its own
        mean there (the kriging believer, whatever ``liar`` says: a lie per objective
        would put a point on the front that dominates it), and, with several
        objectives, those means join the front when predicted feasible. Past
        ``max_history`` trials each GP is fitted on a subset (:mod:`.bounded`)."""
        import numpy as np

        from . import bounded
        from .bounded import best_rows, front_ranks, pick, spread, units

        cfg, feats = self.config, self._features
        m = self._n_objectives()
        numbers = sorted(self._history.told)
        outs = [self._outcomes[k] for k in numbers]
        done = [i for i, (losses, _) in enumerate(outs) if losses is not None and len(losses) == m]
        if len(done) < 2:
            return None
        xs = [self._history.told[k][0] for k in numbers]
        if m == 1:
            _, ys = self._data()
            targets = [list(ys)]
        else:
            worst = np.max([outs[i][0] for i in done], axis=0)
            targets = [[float(losses[j]) if losses is not None and len(losses) == m
                        else float(worst[j]) for losses, _ in outs] for j in range(m)]
        pending = list(self._pending.values())
        digest = data_digest((xs, targets, [c for _, c in outs]))
        rng = self._rng("acq-mo", len(xs), digest, pending)
        parego = m > 1 and cfg["multi_objective"] == "parego"
        raw = np.asarray(targets, dtype=float).T  # (trials, objectives): the losses told
        if parego:
            targets, m = [_parego(raw, done, rng)], 1
        n_cons = max((len(c) for _, c in outs if c is not None), default=0)
        feasible = [i for i in done
                    if outs[i][1] is None or all(c <= 0 for c in outs[i][1])]
        # constrained non-dominated rank of the COMPLETE trials, unfinished ones last;
        # past the bound only the fronts that fill the subset's share are told apart
        limit = cfg["max_history"]
        past = bool(limit) and len(xs) > limit
        ranks = front_ranks([outs[i][0] for i in done], [outs[i][1] for i in done]
                            if self._constrained() else None,
                            need=max(limit // bounded.FRONT_SHARE, 5) if past else None)
        rank = np.full(len(xs), float(len(done) + 1))
        rank[done] = ranks
        keep = front = None  # None: every trial (at or below the bound)
        if past:
            losses_done = np.asarray([outs[i][0] for i in done], dtype=float)
            front = [done[i] for i in best_rows(ranks, losses_done,
                                                          limit // bounded.FRONT_SHARE)]
            if parego and feasible:  # the scalarized incumbent: log-EI's best value
                front.append(feasible[int(np.argmin([targets[0][i] for i in feasible]))])
            keep = pick(len(xs), limit, front, self._rng("subset-mo", len(xs), digest))
            xs = [xs[i] for i in keep]
            targets = [[t[i] for i in keep] for t in targets]
        believed = feats(np.asarray(pending, dtype=float)) if pending else None
        # hypervolume is invariant to an affine map of each loss, not to a power
        # transform: ``auto`` standardizes several objectives, so EHVI ranks candidates
        # as it would on the losses themselves
        how = ("standardize" if m > 1 and cfg["output_transform"] == "auto"
               else cfg["output_transform"])
        fits = [self._fit_role(("objective", j), xs, targets[j], how) for j in range(m)]
        predicts = [gp.posterior(believed) for gp, _ in fits]
        cons = []
        for i in range(n_cons):
            rows = [r for r, (_, c) in enumerate(outs)
                    if c is not None and len(c) == n_cons and math.isfinite(c[i])]
            if len(rows) < 2:
                continue
            if limit and len(rows) > limit:  # the front, the boundary, latest, a sample
                at = np.asarray([outs[r][1][i] for r in rows], dtype=float)
                index = {r: a for a, r in enumerate(rows)}
                near = np.argsort(np.abs(at), kind="stable")[:limit // 4]
                first = [index[r] for r in front or () if r in index] + near.tolist()
                rows = [rows[a] for a in pick(len(rows), limit, first,
                                              self._rng("subset-mo", i, len(rows), digest))]
            vals = np.asarray([outs[r][1][i] for r in rows], dtype=float)
            sd = float(vals.std()) or 1.0
            gp, _ = self._fit_role(("constraint", i), [self._history.told[numbers[r]][0]
                                                       for r in rows],
                                   vals.tolist(), "standardize")
            cons.append((gp.posterior(believed), -float(vals.mean()) / sd))

        def log_feasible(f: Any) -> Any:
            total = np.zeros(len(f))
            for predict, threshold in cons:
                total = total + log_pof(*predict(f), threshold)
            return total

        Y = np.column_stack([y for _, y in fits])
        is_feasible = set(feasible)
        fit_feasible = (feasible if keep is None else
                        [a for a, i in enumerate(keep) if i in is_feasible])
        best = lower = upper = None
        if feasible and m == 1:
            best = float(Y[fit_feasible, 0].min()) - cfg["xi"]
        elif feasible:
            if keep is None:
                front_y = Y[feasible]
                ref = reference_point(front_y)
            else:  # the whole history's feasible front, at most limit // 3 points
                maps = [units(targets[j], Y[:, j]) for j in range(m)]
                feas_raw = raw[feasible]
                on_front = feas_raw[rank[feasible] == 0]
                on_front = on_front[spread(on_front, limit // bounded.BOX_SHARE)]
                front_y = np.column_stack([maps[j](on_front[:, j]) for j in range(m)])
                ref = reference_point(np.column_stack([maps[j](feas_raw[:, j])
                                                       for j in range(m)]))
            if believed is not None:  # the running trials, as the GPs believe them
                guess = np.column_stack([p(believed)[0] for p in predicts])
                if cons:
                    guess = guess[log_feasible(believed) >= math.log(0.5)]
                front_y = np.vstack([front_y, guess])
            lower, upper = boxes(front_y, ref)

        def score(u: Any) -> Any:
            f = feats(u)
            total = log_feasible(f)
            if best is not None:
                total = total + log_ei(*predicts[0](f), best)
            elif lower is not None:
                post = [p(f) for p in predicts]
                total = total + log_ehvi(np.column_stack([mu for mu, _ in post]),
                                         np.column_stack([sd for _, sd in post]),
                                         lower, upper)
            return total

        # the points the local candidates gather around: constrained non-dominated
        # rank (ties in a random order), unfinished trials last
        if keep is not None:
            rank = rank[keep]
        rank += rng.uniform(0.0, 0.5, size=len(rank))
        return score, xs, rank, rng
    # the contract -----------------------------------------------------------------
    def _propose(self) -> dict[str, Any] | None:
        i = self.n_asked
        candidates: list[list[float]] = []
        fixed: dict[str, Any] | None = None
        if i < len(self._x0):
            fixed = self._x0[i]
        elif i < self._n_init and self._dims:
            candidates = [self._initial[i - len(self._x0)]]
        elif self._dims:
            candidates = self._model_candidates()
        if not self._dims:
            fixed = self.space.decode([])
        options = [fixed] if fixed is not None else [self.space.decode(u) for u in candidates]
        for params in options:
            if self.space.key(params) not in self._seen:
                return params
        if not self._dims:
            return None
        rng = self._rng("fill", i)  # a duplicate (or no model yet): an unseen random point
        for _ in range(200):
            params = self.space.decode(rng.uniform(size=self._dims).tolist())
            if self.space.key(params) not in self._seen:
                return params
        return None

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out = []
        started = time.perf_counter()
        fit_seconds = self.seconds
        for _ in range(n):
            params = self._propose()
            if params is None:
                break
            self.n_asked += 1
            key = self.space.key(params)
            self._seen.add(key)
            self._pending[key] = self.space.encode(params)
            out.append(params)
        self.seconds = fit_seconds + (time.perf_counter() - started)
        return out

    def tell(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            key = self.space.key(t.params)
            self._pending.pop(key, None)
            self._seen.add(key)
            self._history.record(t, self.space.encode(t.params))
            self._outcomes[t.number] = _outcome(t)

    def restore(self, trials: Sequence[Trial]) -> None:
        self.n_asked = len(trials)
        self._seen = {self.space.key(t.params) for t in trials}
        self._pending = {self.space.key(t.params): self.space.encode(t.params)
                         for t in trials if not t.state.finished}
        self.tell([t for t in trials if t.state.finished])

    @property
    def done(self) -> bool:
        return not self._dims and bool(self._seen)

    def stats(self) -> dict[str, Any]:
        return {"model_fits": self.n_fits, "strategy_seconds": round(self.seconds, 4)}


def subset(ys: Sequence[float], limit: int, rng: Any) -> list[int] | None:
    """Which of ``len(ys)`` finished trials the GP is fitted on when there are more than
    ``limit`` (``None``: all of them; ``limit`` 0: no bound), in number order: the
    ``limit // 10`` best losses (ties: the earlier trial), the ``limit // 4`` latest of
    the rest, and a sample of the others drawn by ``rng`` (a function of the seed and the
    data, so a resumed study keeps the same points). The incumbent and the latest
    points keep the acquisition where the search is; the sample, most of the subset,
    keeps the model's picture of the whole function: a subset made mostly of the best
    points (the best half, measured first) clusters them, the fitted length scales
    shrink and the search stalls (``benchmarks/bayes_scale.py``)."""
    n = len(ys)
    if not limit or n <= limit:
        return None
    import numpy as np

    from .bounded import pick

    order = np.argsort(np.asarray(ys, dtype=float), kind="stable")
    return pick(n, limit, order[:limit // 10], rng)


def _outcome(trial: Trial) -> tuple[list[float] | None, list[float] | None]:
    """(losses, constraints) as the model is told them: losses only for a COMPLETE trial
    whose every loss is finite; constraint values as recorded."""
    losses = trial.losses
    if losses is None and trial.loss is not None:
        losses = [trial.loss]
    done = trial.state.value == "COMPLETE"
    if not done or not losses or not all(math.isfinite(float(v)) for v in losses):
        losses = None
    cons = None if trial.constraints is None else [float(c) for c in trial.constraints]
    return (None if losses is None else [float(v) for v in losses]), cons


def _parego(losses: Any, done: list[int], rng: Any) -> list[float]:
    """ParEGO's scalar loss (Knowles 2006): each loss normalized to [0, 1] over the
    COMPLETE trials, then ``max_j w_j f_j + 0.05 sum_j w_j f_j`` with weights ``w`` drawn
    uniformly from the simplex (from ``rng``: a function of the data)."""
    import numpy as np

    lo, hi = losses[done].min(axis=0), losses[done].max(axis=0)
    f = (losses - lo) / np.where(hi > lo, hi - lo, 1.0)
    w = rng.dirichlet(np.ones(losses.shape[1]))
    return ((f * w).max(axis=1) + 0.05 * (f * w).sum(axis=1)).tolist()
