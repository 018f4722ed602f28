"""A genetic algorithm on DEAP: the notebook's ``eaSimpleWithElitism``, one generation at a time.

The genome is the core's unit-cube encoding of the space (integers and categoricals are
binned by ``Space.decode``, the notebook's floor trick). Each generation: tournament
selection, bounded simulated-binary crossover, bounded polynomial mutation, then the
hall of fame (elites) joins the offspring. ``ask`` hands out the current generation's
configurations that were never evaluated, so a whole generation runs in parallel; an
individual that decodes to an evaluated configuration takes its fitness from the history.

At the budgets users run (40-50 trials) a GA must stay ahead of random search: unless
set, the population is sized from the number of parameters (a budget is not known to a
strategy), the first generation is a Latin hypercube, and a population whose best stalls
or whose parents collapse to one point restarts beside its elites
(``benchmarks/genetic_small.py``).

Several objectives (``trial.losses``): NSGA-II (Deb et al. 2002). The parents of the next
generation are the best ``population_size`` of the last parents and children by
non-dominated sorting, the last front cut by crowding distance (elitist mu + lambda);
each child comes from two crowded binary tournaments among them, crossed (``cxpb``) and
mutated by DEAP's operators. Their defaults differ from one objective's where measured
better at 50-100 evaluations (``benchmarks/genetic_mo.py``, fresh seeds): uniform
crossover instead of SBX (good genes of different parents combine; SBX's children stay
near one pair), every child mutated (``mutpb`` 1.0) with wider polynomial steps
(``mutation_eta`` 3); given options are used as given. At least 8 parents and children
per generation after the first. ``contracts.pareto.nondominated_sort`` sorts rather than DEAP's
``selNSGA2``: that one ranks by ``Fitness.dominates`` and groups individuals of equal
fitness values, so constrained domination would need the violation folded into a custom
``Fitness`` (its equality and hash too); the shared sort takes constraints as they are.

Constraints (``trial.constraints``, feasible when all ``<= 0``): Deb's constrained
domination. With several objectives, feasible before infeasible, infeasible by their total
violation, feasible by Pareto dominance; with one objective the fitness is (violation,
loss) compared in that order, so tournaments, the hall of fame and the archive never
prefer an infeasible individual to a feasible one. A FAILED or PRUNED trial comes after
every finished one (infinite violation), as Optuna's NSGA-II leaves failed trials out of
its populations. Without constraints and with one objective, every ask is what it was
before several objectives existed.

Every generation is built from (seed, generation number, fitnesses known so far) with
DEAP's operators run under a per-generation seed of ``random``, so a resumed study
rebuilds the same generations from its history and asks what an uninterrupted run would.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from hpo_framework import Option, OptionError, Strategy, Trial, hookimpl
from hpo_framework.contracts.pareto import nondominated_sort, violation

# the fitness is (constraint violation, loss), both minimized and compared in that order:
# Deb's rule for one objective (feasible first, then the smaller violation, then the
# loss); without constraints the violation is always 0 and the loss alone decides
_FITNESS, _INDIVIDUAL = "HPOFitnessViolationLoss", "HPOIndividual"
FAILED = (math.inf, math.inf)  # a FAILED or PRUNED trial: behind every finished one
STALL = 3  # generations with nothing new before the non-elite population is re-seeded
GIVE_UP = 200  # ... and after this many, the reachable space is taken as exhausted
# defaults of the options left None: one objective (the notebook's), several objectives
# (NSGA-II at 50-100 evaluations: every child mutated, wider mutation steps and uniform
# crossover measured ahead of the one-objective settings on ZDT and DTLZ2,
# benchmarks/results/genetic_mo-operators.json)
ONE = {"mutpb": 0.2, "mutation_eta": 10.0, "crossover": "sbx"}
SEVERAL = {"mutpb": 1.0, "mutation_eta": 3.0, "crossover": "uniform"}


def _creator() -> tuple[Any, Any]:
    """DEAP's creator classes, made once per process (creating twice warns and overwrites)."""
    from deap import base, creator

    if not hasattr(creator, _FITNESS):
        creator.create(_FITNESS, base.Fitness, weights=(-1.0, -1.0))
    if not hasattr(creator, _INDIVIDUAL):
        creator.create(_INDIVIDUAL, list, fitness=getattr(creator, _FITNESS))
    return getattr(creator, _FITNESS), getattr(creator, _INDIVIDUAL)


@contextmanager
def _seeded(*parts: Any):
    """Run DEAP (which draws from the global ``random``) under a derived seed."""
    state = random.getstate()
    random.seed(repr(parts))
    try:
        yield
    finally:
        random.setstate(state)


class GeneticStrategy(Strategy):
    """Generational GA with elitism over the unit-cube encoding (DEAP); NSGA-II with
    several objectives, Deb's constrained domination with constraints."""

    name = "genetic"
    multi_objective = True
    handles_constraints = True
    options = {
        "population_size": Option(None, int, low=2,
                                  help="individuals per generation (default: from the "
                                       "number of parameters d, 6 + d/4; with several "
                                       "objectives at least 8 after the first)"),
        "hall_of_fame": Option(1, int, low=0, nullable=False,
                               help="elites carried into every next generation (one "
                                    "objective; NSGA-II keeps its own)"),
        "tournament_size": Option(3, int, low=1, nullable=False,
                                  help="selection pressure (the notebook: 2; several "
                                       "objectives: NSGA-II's binary tournaments)"),
        "cxpb": Option(0.8, float, low=0.0, high=1.0, nullable=False,
                       help="probability that a pair is crossed"),
        "mutpb": Option(None, float, low=0.0, high=1.0,
                        help="probability that an individual is mutated (default 0.2; "
                             "several objectives: 1.0)"),
        "crossover": Option(None, str, choices=("sbx", "uniform"),
                            help="sbx: bounded simulated-binary crossover (crossover_eta); "
                                 "uniform: each gene from either parent (default sbx; "
                                 "several objectives: uniform)"),
        "crossover_eta": Option(10.0, float, low=0.0, nullable=False,
                                help="SBX crowding degree (large: children near parents)"),
        "mutation_eta": Option(None, float, low=0.0,
                               help="polynomial mutation crowding degree (default the "
                                    "notebook's 10; several objectives: 3)"),
        "indpb": Option(None, float, low=0.0, high=1.0,
                        help="per-gene mutation probability (default 1/dimensions)"),
        "parents": Option("archive", str, choices=("archive", "population"), nullable=False,
                          help="archive: tournaments among the best population_size "
                               "individuals of all generations so far (mu + lambda); "
                               "population: among the last generation only (the notebook); "
                               "several objectives: always NSGA-II's parents and children"),
        "fresh": Option(True, bool, nullable=False,
                        help="a child that decodes to a configuration some generation "
                             "already had is mutated again (up to 10 times), so each "
                             "generation spends its budget on new configurations"),
        "initial": Option("latin", str, choices=("latin", "random"), nullable=False,
                          help="latin: the first generation (and a restart's) is a Latin "
                               "hypercube, one individual per stratum of every gene; "
                               "random: uniform draws (the notebook)"),
        "restart_after": Option(12, int, low=0, nullable=False,
                                help="generations without a better best (or a parent pool "
                                     "collapsed to one point) before the population is "
                                     "re-drawn around the kept elites; 0: never (one "
                                     "objective)"),
    }

    @classmethod
    def validate(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        config = super().validate(given)
        if config["population_size"] is not None and (
                config["hall_of_fame"] >= config["population_size"]):
            raise OptionError("strategy 'genetic': option 'hall_of_fame' must be smaller than "
                              f"population_size ({config['population_size']}), "
                              f"got {config['hall_of_fame']}")
        return config

    def __init__(self, space, seed=None, **options: Any) -> None:
        super().__init__(space, seed, **options)
        self._dims = max(1, len(space.searchable))
        self.size = self.config["population_size"] or max(
            6 + self._dims // 4, self.config["hall_of_fame"] + 2)
        # several objectives: parents kept and children bred per generation (NSGA-II's
        # mu = lambda); small, as for one objective: at 100 evaluations, 6 to 12 all
        # measured ahead of Optuna's 50 (benchmarks/genetic_mo.py)
        self.mo_size = self.config["population_size"] or max(8, self.size)
        self._known: dict[str, float] = {}  # key -> loss (inf for failed trials)
        # key -> (violation, losses): losses None for FAILED/PRUNED trials
        self._outcome: dict[str, tuple[float, tuple[float, ...] | None]] = {}
        self._values: dict[str, float] = {}  # key -> objective value (complete trials)
        self._asked: set[str] = set()  # keys handed out or in the history
        self._reset()

    def _reset(self) -> None:
        self.generation = 0
        self._stale = 0
        self._flat = 0  # generations since the best got better
        self._best = FAILED
        self.restarts = 0
        self._exhausted = False
        self._hof: Any = None
        self.logbook: list[dict[str, Any]] = []
        self._claimed: set[str] = set()  # configurations some generation already needed
        self._archive: dict[str, Any] = {}  # key -> individual, every generation's, scored
        self._parents: list[Any] = []  # several objectives: NSGA-II's parent population
        self._parents_seen: list[Any] = []  # what the current generation was bred from
        self._population = self._initial_population()
        self._new_keys = self._claim_new()

    # DEAP ---------------------------------------------------------------------------
    def _setting(self, name: str, several: bool) -> Any:
        """An option as given, else its default for one objective or for several (the
        defaults for several measured with benchmarks/genetic_mo.py)."""
        given = self.config[name]
        if given is not None:
            return given
        return (SEVERAL if several else ONE)[name]

    def _toolbox(self, several: bool = False) -> Any:
        from deap import base, tools

        cfg = self.config
        toolbox = base.Toolbox()
        toolbox.register("select", tools.selTournament, tournsize=cfg["tournament_size"])
        if self._setting("crossover", several) == "uniform":
            toolbox.register("mate", tools.cxUniform, indpb=0.5)
        else:
            toolbox.register("mate", tools.cxSimulatedBinaryBounded, low=0.0, up=1.0,
                             eta=cfg["crossover_eta"])
        indpb = cfg["indpb"] if cfg["indpb"] is not None else 1.0 / self._dims
        toolbox.register("mutate", tools.mutPolynomialBounded, low=0.0, up=1.0,
                         eta=self._setting("mutation_eta", several), indpb=indpb)
        return toolbox

    def _random_individuals(self, n: int) -> list[Any]:
        """Uniform draws, or a Latin hypercube: every gene covers its n strata once, so a
        small generation spreads over the space instead of clumping (as random draws do)."""
        _, individual = _creator()
        if self.config["initial"] == "random":
            return [individual(random.random() for _ in range(self._dims)) for _ in range(n)]
        strata = [random.sample(range(n), n) for _ in range(self._dims)]
        return [individual((col[i] + random.random()) / n for col in strata)
                for i in range(n)]

    def _initial_population(self) -> list[Any]:
        with _seeded("genetic", self.seed, 0):
            return self._random_individuals(self.size)

    def _key(self, ind: Any) -> str:
        return self.space.key(self._decode(ind))

    def _decode(self, ind: Any) -> dict[str, Any]:
        return self.space.decode(list(ind)[: len(self.space.searchable)])

    def _claim_new(self) -> list[str]:
        """The current generation's configurations no earlier generation needed, in order.

        Decided by the generations alone, not by which results have arrived, so a
        replay from the history finds the same ones as the uninterrupted run.
        """
        out: list[str] = []
        for ind in self._population:
            key = self._key(ind)
            if key not in self._claimed:
                self._claimed.add(key)
                out.append(key)
        return out

    def _complete(self) -> bool:
        return all(self._key(ind) in self._known for ind in self._population)

    def _advance(self) -> None:
        """Score the finished generation, log it, breed the next one."""
        from deap import algorithms, tools

        cfg = self.config
        if self._objectives() > 1:
            self._advance_nsga2()
            return
        for ind in self._population:
            ind.fitness.values = self._fitness(self._key(ind))
            self._archive.setdefault(self._key(ind), ind)
        self.logbook.append(self._record())
        self._stale = 0 if self._new_keys else self._stale + 1
        best = min(ind.fitness.values for ind in self._population)
        self._flat = 0 if best < self._best else self._flat + 1
        self._best = min(best, self._best)
        if self._stale >= GIVE_UP:
            self._exhausted = True
            return
        n_elite = cfg["hall_of_fame"]
        if self._hof is None and n_elite:
            self._hof = tools.HallOfFame(n_elite)
        if self._hof is not None:
            self._hof.update(self._population)
        self.generation += 1
        size = self.size
        pool = self._population
        if cfg["parents"] == "archive":  # sorted is stable: ties keep their age order
            pool = sorted(self._archive.values(), key=lambda ind: ind.fitness.values)[:size]
        self._parents_seen = pool
        with _seeded("genetic", self.seed, self.generation):
            toolbox = self._toolbox()
            if self._stale and self._stale % STALL == 0:  # stuck: fresh blood
                offspring = self._random_individuals(size - n_elite)
            elif self._converged(pool):  # restart: a new population, the elites kept
                self.restarts += 1
                self._flat = 0
                self._archive = {self._key(i): i for i in (self._hof.items if self._hof
                                                           else [])}
                offspring = self._random_individuals(size - n_elite)
            else:
                offspring = toolbox.select(pool, size - n_elite)
                offspring = algorithms.varAnd(offspring, toolbox, cfg["cxpb"],
                                              self._setting("mutpb", False))
            if cfg["fresh"]:
                self._refresh(offspring, toolbox)
        if self._hof is not None:
            offspring.extend(self._hof.items)
        self._population = offspring
        self._new_keys = self._claim_new()

    # outcomes ---------------------------------------------------------------------------
    def _fitness(self, key: str) -> tuple[float, float]:
        """One objective: (violation, loss), so a feasible individual beats every
        infeasible one in tournaments, the hall of fame and the archive (Deb 2000)."""
        cv, losses = self._outcome[key]
        return FAILED if losses is None else (cv, losses[0])

    def _objectives(self) -> int:
        """How many objectives the study has, as the trials of this generation and its
        parents tell (a strategy is not told; the later history is not read, so a replay
        decides as the uninterrupted run did): 1 while none of them completed."""
        keys = {self._key(ind) for ind in (*self._population, *self._parents)}
        return max((len(self._outcome[k][1] or ()) for k in keys), default=1) or 1

    def _record(self) -> dict[str, Any]:
        """This generation's line of the logbook: its new evaluations and the spread of
        its (first objective's) values."""
        values = [self._values[k] for k in {self._key(i) for i in self._population}
                  if k in self._values]
        record: dict[str, Any] = {"generation": self.generation,
                                  "evaluations": len(self._new_keys)}
        if values:
            import statistics  # here: hpo-run --help loads this module

            record.update(max=max(values), mean=statistics.fmean(values), min=min(values))
        return record

    # several objectives: NSGA-II --------------------------------------------------------
    def _advance_nsga2(self) -> None:
        """Score the finished generation, keep the best ``size`` of parents and children
        by constrained non-dominated sorting and crowding (NSGA-II's elitist mu + lambda),
        breed the next children from them by crowded binary tournaments, DEAP's SBX and
        polynomial mutation."""
        cfg = self.config
        n_obj = self._objectives()
        seen: dict[str, Any] = {}
        for ind in [*self._parents, *self._population]:  # parents first: the older wins ties
            seen.setdefault(self._key(ind), ind)
        keys = list(seen)
        fronts = self._sort(keys, n_obj)
        record = self._record()
        first = [k for k in fronts[0] if self._outcome[k][1] is not None
                 and self._outcome[k][0] == 0.0] if fronts else []
        record["front"] = len(first)
        self.logbook.append(record)
        self._stale = 0 if self._new_keys else self._stale + 1
        if self._stale >= GIVE_UP:
            self._exhausted = True
            return
        size = self.mo_size
        chosen: list[str] = []
        rank: dict[str, tuple[int, float]] = {}
        for r, front in enumerate(fronts):
            crowd = self._crowding(front, n_obj)
            for k in front:
                rank[k] = (r, -crowd[k])
            if len(chosen) + len(front) <= size:
                chosen.extend(front)
            else:  # sorted is stable: equal crowding keeps the parents-first order
                chosen.extend(sorted(front, key=lambda k: -crowd[k])[: size - len(chosen)])
            if len(chosen) >= size:
                break
        self._parents = self._parents_seen = [seen[k] for k in chosen]
        self.generation += 1
        with _seeded("genetic", self.seed, self.generation):
            toolbox = self._toolbox(several=True)
            if self._stale and self._stale % STALL == 0:  # nothing new lately: fresh blood
                offspring = self._random_individuals(size)
            else:
                offspring = [self._child(toolbox, rank) for _ in range(size)]
            if cfg["fresh"]:
                self._refresh(offspring, toolbox, several=True)
        self._population = offspring
        self._new_keys = self._claim_new()

    def _tournament(self, rank: dict[str, tuple[int, float]], other: Any = None) -> Any:
        """A crowded binary tournament (Deb et al. 2002): of two parents drawn at random,
        the better front, then the larger crowding distance; ``other`` is not drawn."""
        pool = [p for p in self._parents if p is not other] or self._parents
        a, b = random.sample(pool, 2) if len(pool) > 1 else (pool[0], pool[0])
        return b if rank[self._key(b)] < rank[self._key(a)] else a

    def _child(self, toolbox: Any, rank: dict[str, tuple[int, float]]) -> Any:
        """One child: a tournament winner, crossed (``cxpb``) with a second winner, then
        mutated (``mutpb``) by the polynomial mutation."""
        first = self._tournament(rank)
        child = toolbox.clone(first)
        if random.random() < self.config["cxpb"]:
            toolbox.mate(child, toolbox.clone(self._tournament(rank, other=first)))
        if random.random() < self._setting("mutpb", True):
            toolbox.mutate(child)
        del child.fitness.values
        return child

    def _sort(self, keys: list[str], n_obj: int) -> list[list[str]]:
        """Fronts of keys, best first, by Deb's constrained domination (feasible first,
        then the smaller violation; a failed trial after every finished one)."""
        points = [self._losses(k, n_obj) for k in keys]
        constraints = [[self._outcome[k][0]] for k in keys]  # the violation itself
        return [[keys[i] for i in front] for front in nondominated_sort(points, constraints)]

    def _losses(self, key: str, n_obj: int) -> list[float]:
        losses = self._outcome[key][1]
        return [math.inf] * n_obj if losses is None else list(losses)

    def _crowding(self, front: list[str], n_obj: int) -> dict[str, float]:
        """NSGA-II's crowding distance: per objective, the gap between the neighbours
        relative to the front's range; the extremes infinite (always kept)."""
        crowd = dict.fromkeys(front, 0.0)
        points = {k: self._losses(k, n_obj) for k in front}
        if len(front) < 3 or any(not math.isfinite(x) for p in points.values() for x in p):
            return dict.fromkeys(front, math.inf) if len(front) < 3 else crowd
        for m in range(n_obj):
            order = sorted(front, key=lambda k: points[k][m])
            low, high = points[order[0]][m], points[order[-1]][m]
            if high <= low:
                continue
            crowd[order[0]] = crowd[order[-1]] = math.inf
            for i in range(1, len(order) - 1):
                gap = points[order[i + 1]][m] - points[order[i - 1]][m]
                crowd[order[i]] += gap / (high - low)
        return crowd

    def _converged(self, pool: list[Any]) -> bool:
        """No better best for ``restart_after`` generations, or the parents all (nearly)
        one point: breeding would only circle what is known, so start over."""
        patience = self.config["restart_after"]
        if not patience:
            return False
        spread = max(max(genes) - min(genes) for genes in zip(*pool, strict=True))
        return self._flat >= patience or (len(pool) > 1 and spread < 1e-3)

    def _refresh(self, offspring: list[Any], toolbox: Any, several: bool = False) -> None:
        """Mutate again the children that would repeat a configuration already claimed.

        The notebook's polynomial mutation first; when that keeps landing on known
        configurations (a converged population on an integer grid), every gene mutates
        with ever wider steps, so the generation still brings new configurations.
        """
        from deap import tools

        seen = set(self._claimed)
        eta = self._setting("mutation_eta", several)
        for ind in offspring:
            for attempt in range(20):
                if self._key(ind) not in seen:
                    break
                if attempt < 3:
                    toolbox.mutate(ind)
                else:
                    tools.mutPolynomialBounded(ind, eta=eta / 2 ** (attempt - 2), low=0.0,
                                               up=1.0, indpb=1.0)
                del ind.fitness.values
            seen.add(self._key(ind))

    def _sync(self) -> None:
        """Move on while the current generation is fully known (deterministic)."""
        while not self._exhausted and self._complete():
            self._advance()

    # the contract -------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        self._sync()
        out = []
        for key in self._new_keys:
            if len(out) >= n:
                break
            if key in self._asked or key in self._known:
                continue
            ind = next(i for i in self._population if self._key(i) == key)
            self._asked.add(key)
            out.append(self._decode(ind))
        self.n_asked += len(out)
        return out

    def tell(self, trials: Sequence[Trial]) -> None:
        for t in trials:
            key = self.space.key(t.params)
            self._asked.add(key)
            losses = t.losses if t.losses is not None else (
                None if t.loss is None else [t.loss])
            complete = t.state.value == "COMPLETE" and bool(losses)
            self._known[key] = float(losses[0]) if complete else math.inf
            self._outcome[key] = ((violation(t.constraints),
                                   tuple(float(x) for x in losses)) if complete
                                  else (math.inf, None))
            if complete and t.value is not None:
                self._values[key] = float(t.value)
        self._sync()  # a generation just completed is logged (and stored) right away

    def restore(self, trials: Sequence[Trial]) -> None:
        self.n_asked = len(trials)
        self._known.clear()
        self._outcome.clear()
        self._values.clear()
        self._asked = {self.space.key(t.params) for t in trials}
        self.tell([t for t in trials if t.state.finished])
        self._reset()
        self._sync()

    @property
    def parents(self) -> list[dict[str, Any]]:
        """The configurations the current generation was bred from (before a restart's
        or a stall's fresh draws): with several objectives NSGA-II's parents in the order
        chosen (fronts best first), with one the tournament pool (best first with
        ``parents="archive"``). Empty for the first generation."""
        return [self._decode(ind) for ind in self._parents_seen]

    @property
    def done(self) -> bool:
        return self._exhausted

    def stats(self) -> dict[str, Any]:
        return {"population_size": self.size, "generation": self.generation,
                "restarts": self.restarts, "generations": list(self.logbook)}


@hookimpl
def register_strategies(register):
    register("genetic", GeneticStrategy, "genetic algorithm with elitism (DEAP)")
