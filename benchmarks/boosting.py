"""Benchmark: tuning XGBoost and LightGBM, ours against Optuna TPE with its pruning callbacks.

    .venv/bin/pip install -c constraints.txt -r benchmarks/requirements.txt   # the peers
    nice .venv/bin/python benchmarks/boosting.py                     # the issue's sizes
    .venv/bin/python benchmarks/boosting.py --seeds 2 --trials 10    # a quick look

Datasets (none downloaded): scikit-learn's ``breast_cancer`` (log-loss) and ``diabetes``
(regression, RMSE), registered by hpo-sklearn with their 20 % test split, and
``generated``: ``make_classification(2000 rows, 20 features, 8 informative, 5 % flipped
labels, random_state=0)`` split the same way (log-loss).

Methods, each on the same rows (the ``holdout`` evaluator's split of the training set for
the seed: 85 % train, 15 % validation), the same default space (the backend's, Grinsztajn
et al. 2022 for XGBoost, Optuna's LightGBMTuner ranges for LightGBM, 50-500 rounds) and
the same trial budget:

- ``bayes``, ``bayes+asha``, ``random+asha``: ours, ``hpo_framework.jobs`` as ``hpo-run``
  runs a job (the serial executor: one process, as Optuna runs), asha with its defaults;
  any ``STRATEGY+PRUNER[:KEY=INT,...]`` in ``--methods`` runs ours with those options
  (``bayes+asha:min_resource=10``, ``bayes+median``);
- ``tpe``: Optuna's TPESampler (seeded), no pruning;
- ``tpe+sha`` / ``tpe+median``: TPE with ``XGBoostPruningCallback`` /
  ``LightGBMPruningCallback`` from optuna-integration and Optuna's SuccessiveHalvingPruner
  (defaults) or MedianPruner(n_warmup_steps=5) (Optuna's XGBoost example).

Peers train the library's scikit-learn estimator directly, with the same parameters, seed
and threads (1) as the backend. Reported per method, median (min, max) over seeds: the best
validation score, the test score of the best configuration retrained on the whole
training set (the same retrain for every method: the backend's ``fit``), the boosting
rounds trained in the study (all trials, pruned ones up to where they stopped) and the
wall time of the study (the retrain excluded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
METRIC = {"breast_cancer": "log_loss", "diabetes": "rmse", "generated": "log_loss"}
OURS = ("bayes", "bayes+asha", "random+asha")
PEERS = ("tpe", "tpe+sha", "tpe+median")


# --- data -----------------------------------------------------------------------------------

def register_generated() -> None:
    """``generated``: a make_classification set, registered in this process only."""
    import hpo_framework as hpo
    from hpo_framework.registry import get_registry

    class Generated(hpo.DatasetLoader):
        name = "generated"
        options: dict[str, Any] = {}

        def load(self) -> hpo.Dataset:
            import numpy as np
            from sklearn.datasets import make_classification
            from sklearn.model_selection import train_test_split

            x, y = make_classification(n_samples=2000, n_features=20, n_informative=8,
                                       flip_y=0.05, random_state=0)
            xt, xs, yt, ys = train_test_split(x.astype(np.float32), y, test_size=0.2,
                                              random_state=0, stratify=y)
            return hpo.Dataset("generated", xt, yt, xs, ys, task="classification")

    class Plugin:
        @hpo.hookimpl
        def register_datasets(self, register):
            register("generated", Generated, "make_classification, 2000 rows (benchmark)")

    get_registry().register(Plugin(), name="boosting-benchmark-data")


def parts(backend: str, dataset_name: str, seed: int) -> tuple[Any, Any, tuple, Any]:
    from hpo_framework.builtin.evaluators import Holdout
    from hpo_framework.contracts.metrics import get_metric
    from hpo_framework.jobs.pipeline import load_dataset
    from hpo_framework.registry import get_registry

    dataset = load_dataset(dataset_name)
    b = get_registry().get("backend", backend)(seed=seed, n_jobs=1)
    return b, dataset, Holdout(seed=seed).arrays(dataset), get_metric(METRIC[dataset_name],
                                                                      dataset.task)


def test_score(backend: str, dataset_name: str, seed: int, params: dict[str, Any]) -> float:
    """The best configuration retrained on the whole training set, scored on the test set."""
    b, dataset, _, metric = parts(backend, dataset_name, seed)
    model = b.fit(dict(params), dataset.x_train, dataset.y_train, dataset)
    return b.score(model, dataset.x_test, dataset.y_test, dataset)[metric.name]


# --- ours -----------------------------------------------------------------------------------

def run_ours(method: str, backend: str, dataset_name: str, seed: int, trials: int) -> dict:
    from hpo_framework.jobs.job import JobConfig, prepare, run_job

    strategy, _, pruner = method.partition("+")
    pruner, _, given = pruner.partition(":")  # bayes+asha:min_resource=10
    options = dict(kv.split("=", 1) for kv in given.split(",") if kv)
    config = JobConfig(strategy=strategy, backend=backend, dataset=dataset_name,
                       n_trials=trials, seed=seed, storage=":memory:", executor="serial",
                       pruner=pruner or None, metric=METRIC[dataset_name], final_test=False,
                       backend_options={"n_jobs": 1}, new_study=True,
                       pruner_options={k: int(v) for k, v in options.items()})
    prepared = prepare(config)
    start = time.perf_counter()
    try:
        result = run_job(prepared)
        wall = time.perf_counter() - start
        study = result.study
        rounds = sum(int(t.intermediate[-1]["step"]) for t in study.trials if t.intermediate)
        best = study.best_trial
        return {"best_val": best.value, "params": dict(best.params), "rounds": rounds,
                "wall_s": wall, "pruned": sum(t.state.value == "PRUNED" for t in study.trials)}
    finally:
        prepared.study.close()


# --- Optuna ---------------------------------------------------------------------------------

def suggest(trial: Any, space: dict[str, Any]) -> dict[str, Any]:
    """The backend's space, asked of an Optuna trial (int and float, log where it is)."""
    out = {}
    for name, spec in space.items():
        if spec["type"] == "int":
            out[name] = trial.suggest_int(name, spec["low"], spec["high"])
        else:
            out[name] = trial.suggest_float(name, spec["low"], spec["high"],
                                            log=spec.get("log", False))
    return out


def peer_estimator(backend: str, task: str, params: dict[str, Any], seed: int, metric: str,
                   callbacks: list) -> Any:
    """The library's estimator as an Optuna user writes it (eval metric = the signal)."""
    if backend == "xgboost":
        import xgboost

        cls = xgboost.XGBClassifier if task == "classification" else xgboost.XGBRegressor
        return cls(**params, n_jobs=1, random_state=seed, callbacks=callbacks or None,
                   eval_metric="logloss" if metric == "log_loss" else "rmse")
    import lightgbm

    cls = lightgbm.LGBMClassifier if task == "classification" else lightgbm.LGBMRegressor
    return cls(**params, subsample_freq=1, n_jobs=1, random_state=seed, verbose=-1,
               metric="binary_logloss" if metric == "log_loss" else "rmse")


def run_peer(method: str, backend: str, dataset_name: str, seed: int, trials: int) -> dict:
    import warnings

    import numpy as np
    import optuna
    from optuna_integration import LightGBMPruningCallback, XGBoostPruningCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", message=".*eval_set.*")  # LightGBM 4.7's deprecation
    b, dataset, (xt, yt, xv, yv), metric = parts(backend, dataset_name, seed)
    space = b.default_space(dataset)
    pruner = {"tpe": optuna.pruners.NopPruner(),
              "tpe+sha": optuna.pruners.SuccessiveHalvingPruner(),
              "tpe+median": optuna.pruners.MedianPruner(n_warmup_steps=5)}[method]
    study = optuna.create_study(direction=metric.direction,
                                sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    classification = dataset.task == "classification"

    def objective(trial: Any) -> float:
        params = suggest(trial, space)
        callbacks = []
        if method != "tpe":
            if backend == "xgboost":
                key = "validation_0-" + ("logloss" if classification else "rmse")
                callbacks.append(XGBoostPruningCallback(trial, key))
            else:
                key = "binary_logloss" if classification else "rmse"
                callbacks.append(LightGBMPruningCallback(trial, key))
        est = peer_estimator(backend, dataset.task, params, seed, metric.name, callbacks)
        fit = {"eval_set": [(xv, yv)]}
        if backend == "xgboost":
            fit["verbose"] = False
        else:
            fit["callbacks"] = callbacks
        est.fit(xt, yt, **fit)
        if classification:
            proba = est.predict_proba(xv)
            return metric.fn(np.searchsorted(est.classes_, yv), proba.argmax(axis=1), proba)
        return metric.fn(yv, est.predict(xv))

    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    wall = time.perf_counter() - start
    rounds = 0
    for t in study.trials:
        if t.intermediate_values:
            rounds += max(t.intermediate_values) + 1  # steps are 0-based rounds
        else:
            rounds += int(t.params["n_estimators"])  # no callback: every round trained
    return {"best_val": study.best_value, "params": dict(study.best_params), "rounds": rounds,
            "wall_s": wall,
            "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)}


# --- the report -----------------------------------------------------------------------------

def med(values: list[float], digits: int = 4) -> str:
    """median (min, max), to ``digits`` decimals."""
    if not values:
        return "-"
    f = f"{{:.{digits}f}}".format
    return f"{f(statistics.median(values))} ({f(min(values))}, {f(max(values))})"


def table(runs: list[dict], backend: str, dataset: str, methods: list[str]) -> list[str]:
    mine = [r for r in runs if r["backend"] == backend and r["dataset"] == dataset]
    base = {r["seed"]: r["rounds"] for r in mine if r["method"] == "bayes"}
    lines = [f"### {backend} on {dataset} ({METRIC[dataset]}, "
             f"{'higher' if METRIC[dataset] == 'roc_auc' else 'lower'} is better)", "",
             "| method | best validation | test | rounds | rounds / bayes's | pruned trials "
             "| wall s |", "|---|---|---|---|---|---|---|"]
    for m in methods:
        rs = [r for r in mine if r["method"] == m]
        if not rs:
            continue
        share = [r["rounds"] / base[r["seed"]] for r in rs if r["seed"] in base]
        d = 2 if METRIC[dataset] == "rmse" else 4
        lines.append(f"| {m} | {med([r['best_val'] for r in rs], d)} | "
                     f"{med([r['test'] for r in rs], d)} | "
                     f"{med([r['rounds'] for r in rs], 0)} | {med(share, 2)} | "
                     f"{med([r['pruned'] for r in rs], 0)} | "
                     f"{med([r['wall_s'] for r in rs], 1)} |")
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="breast_cancer,diabetes,generated")
    ap.add_argument("--backends", default="xgboost,lightgbm")
    ap.add_argument("--methods", default=",".join(OURS + PEERS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--json", default=str(ROOT / "benchmarks/results/boosting-runs.json"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/boosting.md"))
    ap.add_argument("--report-only", action="store_true",
                    help="write the tables from the runs in --json, run nothing")
    args = ap.parse_args()
    methods = args.methods.split(",")
    runs: list[dict] = json.loads(Path(args.json).read_text()) if args.report_only else []
    if not args.report_only:
        register_generated()
        measure(args, methods, runs)
    write_report(args, methods, runs)


def measure(args: argparse.Namespace, methods: list[str], runs: list[dict]) -> None:
    for backend in args.backends.split(","):
        for dataset in args.datasets.split(","):
            for seed in range(args.seeds):
                for method in methods:
                    run = (run_peer if method in PEERS else run_ours)(method, backend, dataset,
                                                                      seed, args.trials)
                    run.update(method=method, backend=backend, dataset=dataset, seed=seed,
                               test=test_score(backend, dataset, seed, run["params"]))
                    runs.append(run)
                    print(json.dumps({k: v for k, v in run.items() if k != "params"}),
                          flush=True)
                    Path(args.json).write_text(json.dumps(runs, indent=1))  # as it goes


def write_report(args: argparse.Namespace, methods: list[str], runs: list[dict]) -> None:
    import os

    lines = [f"# Boosting: ours against Optuna TPE ({args.trials} trials, seeds "
             f"0-{args.seeds - 1})", "",
             f"Written by `benchmarks/boosting.py --seeds {args.seeds} --trials "
             f"{args.trials}`; median (min, max) over seeds. Runs: `{Path(args.json).name}`. "
             f"Machine: {os.cpu_count()} cores, no GPU, shared with other jobs (wall times "
             "are noisy; compare them within a table). Rounds: boosting rounds trained in "
             "the study, pruned trials up to where they stopped; `rounds / bayes's`: over "
             "the unpruned `bayes` run of the same seed.", ""]
    for backend in args.backends.split(","):
        for dataset in args.datasets.split(","):
            lines += table(runs, backend, dataset, methods)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
