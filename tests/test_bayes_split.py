"""``bayes`` proposes exactly what the single-module plugin proposed before it became a package.

``tests/data/bayes_proposals.json`` was recorded by the 883-line ``hpo_bayes.py`` (commit
a772c17) with ``python tests/test_bayes_split.py --record``: ask/tell loops with a
deterministic loss on mixed spaces (int, log-int, log-float, categoricals, a conditional
branch), batches of ``ask(3)`` with a trial left running, failed and pruned trials (with
their curves), a restore, and the options of the default path. The loops run in a child
process with OpenBLAS pinned to one thread and its AVX2 (Haswell) kernels: an AVX-512
machine would otherwise round the kernel fit differently and drift after a dozen trials.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).parent / "data" / "bayes_proposals.json"

MIXED = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "units": {"type": "int", "low": 8, "high": 256, "log": True},
    "layers": {"type": "int", "low": 1, "high": 4},
    "act": ["relu", "tanh", "elu"],
    "bn": [True, False],
}
CONDITIONAL = {
    "family": ["linear", "tree", "kernel"],
    "reg": {"type": "float", "low": 1e-4, "high": 10.0, "log": True,
            "condition": {"family": "linear"}},
    "depth": {"type": "int", "low": 1, "high": 20, "condition": {"family": "tree"}},
    "gamma": {"type": "float", "low": 1e-3, "high": 1.0, "log": True,
              "condition": {"family": "kernel"}},
    "x": {"type": "float", "low": -1.0, "high": 1.0},
}
DISCRETE = {"a": {"type": "int", "low": 0, "high": 30}, "b": ["p", "q", "r", "s"],
            "c": {"type": "int", "low": 1, "high": 1000, "log": True}}
SPACES = {"mixed": MIXED, "conditional": CONDITIONAL, "discrete": DISCRETE}
QUICK = {"n_initial_points": 4, "n_points": 300, "n_restarts_optimizer": 2}

#: (name, space, seed, loop, options); loop: serial / batch / pruned / restore
CASES = [
    ("mixed-serial-0", "mixed", 0, "serial", {}),
    ("mixed-serial-1", "mixed", 1, "serial", {}),
    ("mixed-batch", "mixed", 2, "batch", {}),
    ("mixed-pruned", "mixed", 3, "pruned", {}),
    ("mixed-pruned-offset", "mixed", 3, "pruned", {"pruned": "offset"}),
    ("mixed-restore", "mixed", 4, "restore", {}),
    ("conditional-serial", "conditional", 0, "serial", {}),
    ("conditional-batch-kb", "conditional", 1, "batch", {"liar": "kb"}),
    ("discrete-serial", "discrete", 0, "serial", {}),
    ("mixed-standardize-ordinal", "mixed", 5, "serial",
     {"output_transform": "standardize", "categorical_encoding": "ordinal",
      "initial_point_generator": "lhs", "x0": {"lr": 0.01, "units": 64, "layers": 2,
                                               "act": "relu", "bn": True}}),
]


def loss(params: dict[str, Any]) -> float:
    """A deterministic loss over every space above (only the parameters present count)."""
    v = 0.0
    if "lr" in params:
        v += (math.log10(params["lr"]) + 2.3) ** 2 + (math.log2(params["units"]) - 6.5) ** 2 / 4
        v += 0.3 * abs(params["layers"] - 2) + {"relu": 0.0, "tanh": 0.4, "elu": 0.2}[params["act"]]
        v += 0.1 if params["bn"] else 0.0
    if "family" in params:
        v += {"linear": 0.5, "tree": 0.2, "kernel": 0.0}[params["family"]] + params["x"] ** 2
        v += (math.log10(params["reg"]) + 1) ** 2 / 5 if "reg" in params else 0.0
        v += (params["depth"] - 7) ** 2 / 40 if "depth" in params else 0.0
        v += (math.log10(params["gamma"]) + 2) ** 2 / 3 if "gamma" in params else 0.0
    if "a" in params:
        v += (params["a"] - 17) ** 2 / 30 + {"p": 0.3, "q": 0.0, "r": 0.2, "s": 0.5}[params["b"]]
        v += (math.log10(params["c"]) - 2) ** 2
    return v


def _curve(params: dict[str, Any], steps: int) -> list[tuple[int, float]]:
    """A learning curve ending at the loss: slow starters (layers > 2) start high."""
    final = loss(params)
    start = final + (3.0 if params.get("layers", 0) > 2 else 1.0)
    return [(s, final + (start - final) / s) for s in range(1, steps + 1)]


def run_case(space_name: str, seed: int, loop: str, options: dict[str, Any]) -> list[Any]:
    """The proposals of one case, in order (and a batch's as one list)."""
    from hpo_framework import Space, Trial, TrialState, get_registry

    cls = get_registry().get("strategy", "bayes")
    space = Space.from_dict(SPACES[space_name])
    strat = cls(space, seed=seed, **{**QUICK, **options})
    out: list[Any] = []
    history: list[Any] = []

    def finish(params: dict[str, Any], state: Any = TrialState.COMPLETE,
               steps: int = 0) -> Any:
        value = loss(params) if state == TrialState.COMPLETE else None
        t = Trial(number=len(history), params=params, state=state, value=value, loss=value,
                  curve=_curve(params, steps) if steps else [])
        history.append(t)
        return t

    if loop == "serial" or loop == "restore":
        for i in range(14):
            params = strat.ask(1)[0]
            out.append(params)
            strat.tell([finish(params, TrialState.FAILED if i == 6 else TrialState.COMPLETE)])
        if loop == "restore":
            again = cls(space, seed=seed, **{**QUICK, **options})
            again.restore(history)
            out.append(again.ask(2))
    elif loop == "batch":
        running = None
        for _ in range(5):
            batch = strat.ask(3)
            out.append(batch)
            # the last of each batch is still running at the next ask
            done = [finish(p) for p in ([running] if running else []) + batch[:-1]]
            running = batch[-1]
            strat.tell(done)
    elif loop == "pruned":
        for i in range(16):
            params = strat.ask(1)[0]
            out.append(params)
            pruned = i >= 4 and i % 3 == 0
            strat.tell([finish(params, TrialState.PRUNED if pruned else TrialState.COMPLETE,
                               steps=2 if pruned else 8)])
    return out


def record() -> dict[str, Any]:
    return {name: run_case(space, seed, loop, options)
            for name, space, seed, loop, options in CASES}


def _pinned_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_CORETYPE="Haswell", PYTHONHASHSEED="0")
    return env


def test_bayes_proposals_are_those_before_the_split(tmp_path):
    out = tmp_path / "now.json"
    subprocess.run([sys.executable, __file__, "--record", str(out)], check=True,
                   env=_pinned_env(), timeout=600)
    before, now = json.loads(FIXTURE.read_text()), json.loads(out.read_text())
    assert sorted(now) == sorted(before)
    for name in before:
        assert now[name] == before[name], name


def test_bayes_replays_a_stored_benchmark_run_exactly():
    """``benchmarks/results/strategies-bayes-runs.jsonl`` holds runs made on another machine
    before the split; on the integer problem (its proposals are bins, so float rounding of
    other CPUs does not move them) its first 60 evaluations come back exactly."""
    from hpo_framework import optimize

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "benchmarks"))
    try:
        from strategy_problems import problems
    finally:
        sys.path.remove(str(root / "benchmarks"))
    problem = next(p for p in problems() if p.name == "integer-5")
    runs = root / "benchmarks" / "results" / "strategies-bayes-runs.jsonl"
    stored = next(r for r in map(json.loads, runs.read_text().splitlines())
                  if r["problem"] == "integer-5" and r["seed"] == 0)
    observed: list[float] = []

    def loss(params: dict[str, Any]) -> float:
        observed.append(problem.loss(params))
        return observed[-1]

    optimize(loss, problem.space, strategy="bayes", n_trials=60, seed=0)
    assert observed == stored["observed"][:60]


# the scikit-optimize path: options that left bayes, and the skopt strategy -------------

@pytest.mark.parametrize("option,value", [("acq_func", "EI"), ("acq_func", "logEI"),
                                          ("base_estimator", "RF"), ("kappa", 2.0),
                                          ("acq_optimizer", "sampling")])
def test_an_option_of_skopts_path_given_to_bayes_points_to_skopt(option, value):
    from hpo_framework import OptionError, Space, get_registry

    cls = get_registry().get("strategy", "bayes")
    with pytest.raises(OptionError) as info:
        cls(Space.from_dict(DISCRETE), seed=0, **{option: value})
    message = str(info.value)
    assert "\n" not in message
    assert f"option '{option}'" in message and "use --strategy skopt" in message


def test_the_cli_answers_bayes_acq_func_with_one_line(cli_run, tmp_path):
    proc = cli_run("--strategy", "bayes", "-S", "acq_func=EI", "--trials", "2",
                   "--storage", tmp_path / "hpo.db", cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: strategy 'bayes': option 'acq_func'")
    assert "--strategy skopt" in last
    assert not (tmp_path / "hpo.db").exists()


SKOPT_QUICK = {"n_initial_points": 3, "n_points": 200}


def _skopt():
    from hpo_framework import get_registry

    return get_registry().get("strategy", "skopt")


@pytest.mark.parametrize("estimator", ["GP", "GBRT", "RF", "ET"])
def test_skopt_models_propose_after_the_initial_design(estimator):
    """GBRT included: skopt's is rejected by scikit-learn 1.9 unless the plugin fixes it."""
    from hpo_framework import Space
    from hpo_framework.testing import simulate

    strat = _skopt()(Space.from_dict(MIXED), seed=0, base_estimator=estimator, **SKOPT_QUICK)
    history = simulate(strat, 5)
    assert len({loss for t in history if (loss := t.loss) is not None}) >= 2
    # past the design: a proposal comes from the model (the random fill is ask()'s)
    proposed = strat.propose(history, [], 2, seed=1)
    assert len(proposed) == 2
    for params in proposed:
        assert strat.space.validate(params) == params


@pytest.mark.parametrize("options, message", [
    ({"acq_func": "EI", "kappa": 3.0}, "option 'kappa' has no effect"),
    ({"acq_func": "LCB", "xi": 0.1}, "option 'xi' has no effect"),
    ({"base_estimator": "ET", "kernel_restarts": 2}, "option 'kernel_restarts' has no effect"),
    ({"base_estimator": "RF", "acq_optimizer": "lbfgs"}, "has no gradients"),
    ({"acq_func": "gp_hedge"}, "must be one of EI, PI, LCB"),
])
def test_skopt_refuses_an_option_its_settings_would_ignore(options, message):
    from hpo_framework import OptionError

    with pytest.raises(OptionError) as info:
        _skopt().validate(options)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.slow
@pytest.mark.parametrize("check", ["asks_in_space", "conditional_space", "same_seed_same_trials",
                                   "failed_trials", "pruned_trials", "no_duplicates",
                                   "batch_asks", "restore"])
def test_skopt_conformance(check):
    from hpo_framework.testing import CHECKS

    CHECKS[check](_skopt(), n_restarts_optimizer=1, **SKOPT_QUICK)


if __name__ == "__main__":  # python tests/test_bayes_split.py --record PATH
    import warnings

    warnings.simplefilter("ignore")
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else FIXTURE
    target.write_text(json.dumps(record(), indent=1) + "\n")
