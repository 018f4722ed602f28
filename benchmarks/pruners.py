"""Benchmark: early stopping on the notebook's problem (the keras backend's MLP and default
space on digits, 10 epochs), ours against Optuna's pruners and KerasTuner's Hyperband.

    nice .venv/bin/python benchmarks/pruners.py                       # the issue's sizes
    .venv/bin/python benchmarks/pruners.py --seeds 2 --trials 6      # a quick look
    .venv/bin/python benchmarks/make_mnist_like.py /tmp/mnist-like.npz --train 15000
    nice .venv/bin/python benchmarks/pruners.py --data-path /tmp/mnist-like.npz \
        --json benchmarks/results/pruners-mnist-like-runs.json       # MNIST-shaped data

``--data-path FILE.npz`` runs the same benchmark on a local MNIST-shaped file (x_train,
y_train, x_test, y_test, 28x28), read by the keras plugin's ``mnist`` dataset exactly as
``hpo-run --dataset mnist --data-path FILE.npz`` reads it. ``--reuse RUNS.json`` keeps the
seeds an earlier run of the same methods logged there (its ``--json``) and runs only the
missing ones; the target and budget columns are recomputed from the stored trial logs.
The results file is written between markers named after the dataset (or ``--section``),
so one file holds the tables of several datasets and the text around them.

``--trainer compiled`` (the default) trains OUR methods' trials with the keras backend's
default trainer (``KerasBackend.fit_one``, Keras 3 on JAX, one XLA program per epoch, the
trial's batches in the backend's numpy order), far faster than ``--trainer fit``: Keras's
``model.fit`` on TensorFlow with its own shuffle, how every run stored before this option
trained, and how the peers always train. Keras has one engine per process, so the peers
run only with ``--trainer fit`` (with ``compiled`` and no ``--methods`` they are left
out). The two trainers feed the batches in different orders, so a seed's curves differ
between them (not the model, the space or the split); wall times then compare different
trainers. ``--reuse`` keeps only our runs of the same trainer. ``--variant
'asha:reduction_factor=2'`` adds bayes + that pruner with those options over the
benchmark's own (repeatable); ``--first-seed`` starts the seeds elsewhere than 0 (fresh
seeds to confirm a choice made on others).

Methods: bayes with no pruner, bayes + median / asha / hyperband and random + asha
(through ``hpo_framework.optimize(objective, space, pruner=...)``, the objective reporting
one validation accuracy per epoch to its trial handle); Optuna TPE with its
SuccessiveHalvingPruner and HyperbandPruner (defaults; a report per epoch, steps 0-9 as
Optuna's Keras callback numbers them); KerasTuner's Hyperband (max_epochs 10, factor 3).
Every method trains the same Keras model (``KerasBackend.build``: the keras backend's MLP,
its default space) on the same rows: the hold-out split the framework's ``holdout``
evaluator makes for the seed (85 % train / 15 % validation of digits' training set), each
trial from the same Keras random seed. The best configuration of every run is retrained
on the whole training set for 10 epochs and scored on the test set, the same way for all.

Reported per method, median (min, max) over seeds: trials, epochs trained, wall time, the
best validation accuracy of a trial that trained to its end, that configuration's test
accuracy, the time to the first trial at or above ``--target``, and the best validation
accuracy within an equal budget of epochs (default: 40 % of the no-pruner run's epochs).
Peers run until they have trained at least that budget, so the budget column is fair to
them; our runs have ``--trials`` trials.

If ``optimize()`` takes no ``pruner`` yet (the core's plumbing not in), ``--mode auto``
falls back to ``inproc``: the objective asks the pruner itself after each epoch, with the
curves of the study's earlier trials as the history, and raises ``TrialPruned``; the
results file says which mode ran.
"""

from __future__ import annotations

import argparse
import fcntl
import inspect
import json
import os
import re
import shlex
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EPOCHS = 10
BATCH = 32
VALIDATION = 0.15


# the problem: data, model, training ------------------------------------------------------

class Problem:
    """The dataset (digits or a local MNIST-shaped .npz), one seed's hold-out split, the
    keras backend's model; counts epochs."""

    def __init__(self, seed: int, threads: int, data_path: str | None = None,
                 trainer: str = "fit") -> None:
        import numpy as np
        from hpo_keras import KerasBackend

        from hpo_framework.builtin.evaluators import holdout_split
        from hpo_framework.jobs.pipeline import load_dataset

        self.seed = seed
        self.trainer = trainer
        self.dataset = (load_dataset("mnist", {"path": data_path}) if data_path
                        else load_dataset("digits"))
        if trainer == "compiled":
            # the keras backend's own default: Keras 3 on JAX, one XLA program per epoch,
            # the trial's batches in the backend's numpy order (our methods only)
            self.backend = KerasBackend(seed=seed, epochs=EPOCHS, batch_size=BATCH,
                                        trainer="compiled")
        else:
            # Keras's model.fit on TensorFlow, as every method (KerasTuner's too) ran
            # before --trainer: the engine and trainer the peers need
            self.backend = KerasBackend(seed=seed, epochs=EPOCHS, keras_backend="tensorflow",
                                        trainer="fit")
        self.keras = self.backend.keras()
        _limit_threads(self.keras, threads)
        ds = self.dataset
        tr, va = holdout_split(ds.y_train, VALIDATION, seed, True)
        self.x_train = np.asarray(ds.x_train[tr], dtype=np.float32)
        self.y_train = np.asarray(ds.y_train[tr], dtype=np.int64)
        self.x_val = np.asarray(ds.x_train[va], dtype=np.float32)
        self.y_val = np.asarray(ds.y_train[va], dtype=np.int64)
        self.space = self.backend.default_space(ds)
        self.epochs = 0  # epochs trained in this run
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.log: list[dict[str, Any]] = []  # one entry per finished trial

    def reset(self) -> None:
        self.epochs, self.start, self.log = 0, time.perf_counter(), []
        self.cpu_start = time.process_time()

    def model(self, params: dict[str, Any]) -> Any:
        self.keras.backend.clear_session()
        self.keras.utils.set_random_seed(self.seed)
        return self.backend.build(dict(params), self.dataset)

    def val_accuracy(self, model: Any) -> float:
        import numpy as np

        out = self.backend.predict_proba(model, self.x_val)
        return float(np.mean(out.argmax(axis=1) == self.y_val))

    def train(self, params: dict[str, Any], on_epoch: Callable[[int, float], bool]
              ) -> tuple[list[float], bool]:
        """Train up to EPOCHS; ``on_epoch(epoch, val_accuracy)`` True stops. Returns the
        per-epoch validation accuracies and whether it was stopped."""
        if self.trainer == "compiled":
            return self._train_compiled(params, on_epoch)
        keras = self.keras
        model = self.model(params)
        accs: list[float] = []
        problem = self

        class Watch(keras.callbacks.Callback):
            stopped = False

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                problem.epochs += 1
                accs.append(problem.val_accuracy(self.model))
                if on_epoch(epoch + 1, accs[-1]) and epoch + 1 < EPOCHS:
                    Watch.stopped = True
                    self.model.stop_training = True

        model.fit(self.x_train, self.y_train, epochs=EPOCHS, batch_size=BATCH,
                  callbacks=[Watch()], verbose=0)
        self.backend.release(model)
        return accs, Watch.stopped

    def _train_compiled(self, params: dict[str, Any],
                        on_epoch: Callable[[int, float], bool]) -> tuple[list[float], bool]:
        """``train`` through the keras backend's compiled trainer (``fit_one``, as a study
        of the backend runs a trial): its per-epoch report scores the validation rows."""
        accs: list[float] = []

        class Stop(Exception):
            pass

        def report(epoch: int, values: dict[str, float]) -> None:
            self.epochs += 1
            accs.append(float(values["val_accuracy"]))
            if on_epoch(epoch, accs[-1]) and epoch < EPOCHS:
                raise Stop  # the trainer releases the model and lets it through

        try:
            model = self.backend.fit_one(dict(params), self.x_train, self.y_train,
                                         self.dataset, validation=(self.x_val, self.y_val),
                                         report=report)
        except Stop:
            return accs, True
        self.backend.release(model)
        return accs, False

    def train_pausing(self, params: dict[str, Any], trial: Any) -> list[float]:
        """Train a trial of a pausing pruner through the compiled trainer (as a study of
        the backend does): from ``trial.resume`` when it was paused, reporting to the
        study; a pause leaves with the backend's checkpoint and the accuracies so far.
        Returns the per-epoch validation accuracies of a trial that ran to its end."""
        from hpo_framework import TrialPaused, TrialPruned

        resume = trial.resume
        accs: list[float] = list(resume["accs"]) if resume is not None else []

        def report(epoch: int, values: dict[str, float]) -> None:
            self.epochs += 1
            accs.append(float(values["val_accuracy"]))
            trial.report(accs[-1], epoch)
            if trial.should_pause():
                raise TrialPaused()
            if trial.should_prune() and epoch < EPOCHS:
                raise TrialPruned(f"pruned at epoch {epoch}")

        try:
            model = self.backend.fit_one(dict(params), self.x_train, self.y_train,
                                         self.dataset, validation=(self.x_val, self.y_val),
                                         report=report,
                                         resume=None if resume is None else resume["backend"])
        except TrialPaused as exc:
            exc.checkpoint = {"backend": exc.checkpoint, "accs": accs}
            raise
        except TrialPruned as exc:
            exc.accs = accs  # type: ignore[attr-defined]
            raise
        self.backend.release(model)
        return accs

    def record(self, params: dict[str, Any], accs: list[float], complete: bool) -> None:
        self.log.append({"t": time.perf_counter() - self.start, "epochs": self.epochs,
                         "value": accs[-1] if complete and accs else None,
                         "params": dict(params), "steps": len(accs),
                         "curve": [round(a, 6) for a in accs]})

    def test_accuracy(self, params: dict[str, Any]) -> float:
        """Retrain on the whole training set for EPOCHS, score the test set."""
        import numpy as np

        ds = self.dataset
        if self.trainer == "compiled":
            model = self.backend.fit_one(dict(params), np.asarray(ds.x_train, dtype=np.float32),
                                         np.asarray(ds.y_train), ds)
        else:
            model = self.model(params)
            model.fit(np.asarray(ds.x_train, dtype=np.float32), np.asarray(ds.y_train),
                      epochs=EPOCHS, batch_size=BATCH, verbose=0)
        out = self.backend.predict_proba(model, np.asarray(ds.x_test, dtype=np.float32))
        self.backend.release(model)
        return float(np.mean(out.argmax(axis=1) == np.asarray(ds.y_test)))


def _limit_threads(keras: Any, threads: int) -> None:
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialized in this process: keep what it has
        pass


# our side --------------------------------------------------------------------------------

def core_takes_pruner() -> bool:
    from hpo_framework import optimize

    return "pruner" in inspect.signature(optimize).parameters


def run_ours(problem: Problem, strategy: str, pruner: str | None, options: dict[str, Any],
             trials: int, mode: str, strategy_options: dict[str, Any] | None = None) -> None:
    from hpo_framework import Trial, TrialPruned, TrialState, get_registry, optimize

    seed = problem.seed
    options = dict(options)
    # an experiment, not a feature: tell_pruned=last ends a stopped trial by returning its
    # last value (the study records it COMPLETE, the strategy is told that value) instead of
    # raising TrialPruned (PRUNED: bayes then counts it as the worst value seen)
    tell_last = options.pop("tell_pruned", None) == "last"
    if tell_last and mode != "core":
        raise ValueError("tell_pruned=last needs --mode core")
    if pruner is not None and get_registry().get("pruner", pruner)(**options).pauses:
        run_pausing(problem, strategy, pruner, options, trials, strategy_options)
        return
    if pruner is None or mode == "core":
        def objective(params: dict[str, Any], trial: Any) -> float:
            def on_epoch(epoch: int, acc: float) -> bool:
                trial.report(acc, epoch)
                return trial.should_prune()

            accs, stopped = problem.train(params, on_epoch)
            problem.record(params, accs, not stopped)
            if stopped and not tell_last:
                raise TrialPruned(f"pruned at epoch {len(accs)}")
            return accs[-1]

        extra = {} if pruner is None else {"pruner": pruner, "pruner_options": options}
        study = optimize(objective, problem.space, strategy=strategy, n_trials=trials,
                         seed=seed, direction="maximize", **extra, **(strategy_options or {}))
    else:  # inproc: the objective asks the pruner itself, as the driver would
        the_pruner = get_registry().get("pruner", pruner)(seed=seed, **options)
        history: list[Trial] = []

        def objective(params: dict[str, Any]) -> float:  # type: ignore[misc]
            me = Trial(number=len(history), params=dict(params), state=TrialState.RUNNING)
            history.append(me)

            def on_epoch(epoch: int, acc: float) -> bool:
                me.curve.append((epoch, -acc))
                return the_pruner.prune(me, [t for t in history if t is not me])

            accs, stopped = problem.train(params, on_epoch)
            problem.record(params, accs, not stopped)
            me.state = TrialState.PRUNED if stopped else TrialState.COMPLETE
            if stopped:
                raise TrialPruned(f"pruned at epoch {len(accs)}")
            me.loss = -accs[-1]
            return accs[-1]

        study = optimize(objective, problem.space, strategy=strategy, n_trials=trials,
                         seed=seed, direction="maximize", **(strategy_options or {}))
    states = [t.state.value for t in study.trials]
    if problem.log:  # what the study recorded, to check against what the objective saw
        problem.log[-1]["study_states"] = {s: states.count(s) for s in sorted(set(states))}


def run_pausing(problem: Problem, strategy: str, pruner: str, options: dict[str, Any],
                trials: int, strategy_options: dict[str, Any] | None) -> None:
    """A study with a pausing pruner (halving): its trials pause with the backend's
    checkpoint and go on from it; the log keeps one entry per trial, its last."""
    from hpo_framework import TrialPaused, TrialPruned, optimize

    if problem.trainer != "compiled":
        raise ValueError(f"pruner '{pruner}' runs with --trainer compiled")
    entries: dict[int, dict[str, Any]] = {}

    def objective(params: dict[str, Any], trial: Any) -> float:
        try:
            accs = problem.train_pausing(params, trial)
        except TrialPaused as exc:
            problem.record(params, exc.checkpoint["accs"], False)
            entries[trial.number] = problem.log.pop()
            raise
        except TrialPruned as exc:  # stopped for good (asha's hopeless_after)
            problem.record(params, exc.accs, False)
            entries[trial.number] = problem.log.pop()
            raise
        problem.record(params, accs, True)
        entries[trial.number] = problem.log.pop()
        return accs[-1]

    objective.resumable = True  # type: ignore[attr-defined]
    study = optimize(objective, problem.space, strategy=strategy, n_trials=trials,
                     seed=problem.seed, direction="maximize", pruner=pruner,
                     pruner_options=options, **(strategy_options or {}))
    problem.log = sorted(entries.values(), key=lambda e: e["t"])
    states = [t.state.value for t in study.trials]
    if problem.log:
        problem.log[-1]["study_states"] = {s: states.count(s) for s in sorted(set(states))}


# the peers -------------------------------------------------------------------------------

def run_optuna(problem: Problem, pruner_name: str, budget: int, max_trials: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = (optuna.pruners.SuccessiveHalvingPruner() if pruner_name == "sh"
              else optuna.pruners.HyperbandPruner())
    study = optuna.create_study(direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.TPESampler(seed=problem.seed))

    def objective(trial: Any) -> float:
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True),
            "num_dense_layers": trial.suggest_int("num_dense_layers", 0, 2),
            "num_dense_nodes": trial.suggest_int("num_dense_nodes", 5, 15),
            "optimizer": trial.suggest_categorical("optimizer", ["adam", "sgd"]),
        }

        def on_epoch(epoch: int, acc: float) -> bool:
            trial.report(acc, epoch - 1)
            return trial.should_prune()

        accs, stopped = problem.train(params, on_epoch)
        problem.record(params, accs, not stopped)
        if stopped:
            raise optuna.TrialPruned()
        return accs[-1]

    def enough(study: Any, trial: Any) -> None:
        if problem.epochs >= budget:
            study.stop()

    study.optimize(objective, n_trials=max_trials, callbacks=[enough])


def run_kerastuner(problem: Problem, budget: int) -> None:
    import keras_tuner as kt

    class MLP(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            params = {
                "learning_rate": hp.Float("learning_rate", 1e-3, 1e-1, sampling="log"),
                "num_dense_layers": hp.Int("num_dense_layers", 0, 2),
                "num_dense_nodes": hp.Int("num_dense_nodes", 5, 15),
                "optimizer": hp.Choice("optimizer", ["adam", "sgd"]),
            }
            model = problem.model(params)
            model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                          steps_per_execution=problem.backend.config["steps_per_execution"])
            return model

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            history = model.fit(*args, **kwargs)
            accs = [float(a) for a in history.history.get("val_accuracy", [])]
            problem.epochs += len(accs)
            params = {k: v for k, v in hp.values.items() if not k.startswith("tuner/")}
            problem.record(params, accs, True)
            if problem.epochs >= budget:  # KerasTuner has no epoch budget: end the search
                tuner.oracle.max_trials = len(tuner.oracle.trials)
            return history

    with tempfile.TemporaryDirectory() as tmp:
        tuner = kt.Hyperband(MLP(), objective="val_accuracy", max_epochs=EPOCHS, factor=3,
                             hyperband_iterations=1000, seed=problem.seed, directory=tmp,
                             project_name="kt", overwrite=True)
        # under TensorFlow it imports tensorboard in every trial only to patch TensorBoard
        # callbacks (we pass none); tensorboard is not installed here
        tuner._configure_tensorboard_dir = lambda *args, **kwargs: None
        tuner.search(problem.x_train, problem.y_train, validation_data=(
            problem.x_val, problem.y_val), batch_size=BATCH, verbose=0,
            callbacks=[])


# a run, its figures ----------------------------------------------------------------------

@dataclass
class Method:
    name: str
    run: Callable[[Problem, int, int, str], None]  # (problem, trials, budget, mode)
    ours: bool = True


def variant(text: str) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """``--variant PRUNER:KEY=VALUE,...`` -> (method name, pruner, its options, bayes's
    options): bayes with that pruner and those options over the benchmark's own ones for
    it (values read as JSON, else kept as strings; a key ``bayes.NAME`` is bayes's option
    NAME), named ``bayes + PRUNER (KEY=VALUE, ...)``."""
    pruner, _, rest = text.partition(":")
    pruner = pruner.strip()
    if pruner not in BASE_OPTIONS:
        raise ValueError(f"--variant {text!r}: the pruner is one of {', '.join(BASE_OPTIONS)}")
    given: dict[str, Any] = {}
    # items split at a comma that starts the next KEY=, so a value may hold commas
    # (halving's keep=0.5,0.5)
    for item in filter(None, (i.strip() for i in re.split(r",(?=\s*[\w.]+=)", rest))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"--variant {text!r}: {item!r} is not KEY=VALUE")
        try:
            given[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            given[key.strip()] = value.strip()
    label = ", ".join(f"{k}={v}" for k, v in given.items())
    strategy = {k.removeprefix("bayes."): v for k, v in given.items() if k.startswith("bayes.")}
    options = {k: v for k, v in given.items() if not k.startswith("bayes.")}
    return (f"bayes + {pruner} ({label})", pruner, {**BASE_OPTIONS[pruner], **options},
            strategy)


BASE_OPTIONS: dict[str, dict[str, Any]] = {
    "asha": {"min_resource": 1, "reduction_factor": 3},
    "hyperband": {"min_resource": 1, "max_resource": EPOCHS, "reduction_factor": 3},
    "median": {"n_startup_trials": 5, "n_warmup_steps": 1},
    "halving": {},
}


def methods(mode: str, variants: list[str] = ()) -> list[Method]:
    asha, hyperband, median = (BASE_OPTIONS[k] for k in ("asha", "hyperband", "median"))
    extra = []
    for text in variants:
        name, pruner, options, strategy = variant(text)
        extra.append(Method(name, lambda p, n, b, m, pruner=pruner, options=options,
                            strategy=strategy: run_ours(p, "bayes", pruner, options, n, m,
                                                        strategy)))
    return [
        Method("bayes", lambda p, n, b, m: run_ours(p, "bayes", None, {}, n, m)),
        Method("bayes + median", lambda p, n, b, m: run_ours(p, "bayes", "median", median, n, m)),
        Method("bayes + asha", lambda p, n, b, m: run_ours(p, "bayes", "asha", asha, n, m)),
        Method("bayes + hyperband",
               lambda p, n, b, m: run_ours(p, "bayes", "hyperband", hyperband, n, m)),
        Method("random + asha", lambda p, n, b, m: run_ours(p, "random", "asha", asha, n, m)),
        Method("bayes + halving", lambda p, n, b, m: run_ours(p, "bayes", "halving", {}, n, m)),
        Method("optuna TPE + SuccessiveHalving",
               lambda p, n, b, m: run_optuna(p, "sh", b, 20 * n), ours=False),
        Method("optuna TPE + Hyperband",
               lambda p, n, b, m: run_optuna(p, "hb", b, 20 * n), ours=False),
        Method("KerasTuner Hyperband", lambda p, n, b, m: run_kerastuner(p, b), ours=False),
        *extra,
    ]


@dataclass
class Result:
    method: str
    seed: int
    trials: int
    epochs: int
    wall: float
    best: float | None
    test: float | None
    to_target: float | None
    best_in_budget: float | None
    cpu: float | None = None  # CPU seconds of this process (all its threads)
    log: list[dict[str, Any]] = field(default_factory=list)
    load: list[float] | None = None  # the machine's 1-minute load average, start and end
    trainer: str = "fit"  # how its trials trained (runs stored before --trainer: fit)


def summarize_run(problem: Problem, name: str, wall: float, cpu: float, target: float,
                  budget: int, test: bool) -> Result:
    log = problem.log
    done = [e for e in log if e["value"] is not None]
    best = max(done, key=lambda e: e["value"]) if done else None
    hit = next((e["t"] for e in log if e["value"] is not None and e["value"] >= target), None)
    within = [e["value"] for e in log if e["value"] is not None and e["epochs"] <= budget]
    return Result(
        method=name, seed=problem.seed, trials=len(log), epochs=problem.epochs, wall=wall,
        best=best["value"] if best else None,
        test=problem.test_accuracy(best["params"]) if best and test else None,
        to_target=hit, best_in_budget=max(within) if within else None, cpu=cpu,
        log=list(log))


def fmt(values: list[float | None], digits: int = 4) -> str:
    real = [v for v in values if v is not None]
    if not real:
        return "-"
    mid = statistics.median(real)
    text = f"{mid:.{digits}f} ({min(real):.{digits}f}, {max(real):.{digits}f})"
    if len(real) < len(values):
        text += f" [{len(real)}/{len(values)}]"
    return text


def table(rows: dict[str, list[Result]], budget: int, target: float) -> str:
    lines = [
        f"| method | trials | epochs trained | wall s | CPU s | best val acc | its test acc | "
        f"s to val acc >= {target} | best val acc within {budget} epochs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, results in rows.items():
        lines.append(
            f"| {name} | {fmt([r.trials for r in results], 0)} | "
            f"{fmt([r.epochs for r in results], 0)} | {fmt([r.wall for r in results], 1)} | "
            f"{fmt([r.cpu for r in results], 1)} | "
            f"{fmt([r.best for r in results])} | {fmt([r.test for r in results])} | "
            f"{fmt([r.to_target for r in results], 1)} | "
            f"{fmt([r.best_in_budget for r in results])} |")
    return "\n".join(lines)


def trial_cost(rows: dict[str, list[Result]], ours: set[str]) -> list[str]:
    """What one trial of our pruned runs cost: wall seconds = fixed + per-epoch x epochs,
    fitted (least squares) within each run, over its trials but the first (that one
    includes the study's start); says whether epochs or the per-trial overhead dominate.
    Within a run, so that the load, which changes between runs, matters less."""
    fixed, per_epoch = [], []
    for name, results in rows.items():
        if name not in ours:
            continue
        for r in results:
            steps = [float(e["steps"]) for e in r.log[1:]]
            secs = [b["t"] - a["t"] for a, b in zip(r.log, r.log[1:], strict=False)]
            if len(set(steps)) > 1:
                slope, intercept = statistics.linear_regression(steps, secs)
                fixed.append(intercept)
                per_epoch.append(slope)
    if not fixed:
        return []
    f, e = statistics.median(fixed), statistics.median(per_epoch)
    return [f"- one trial of ours (wall, least squares within each of {len(fixed)} pruned "
            f"runs, medians): {f:.2f} s + {e:.2f} s per epoch (fixed {fmt(fixed, 2)}, per "
            f"epoch {fmt(per_epoch, 2)}); a {EPOCHS}-epoch trial {f + e * EPOCHS:.1f} s, "
            f"{e * EPOCHS / (f + e * EPOCHS):.0%} of it epochs; one stopped after 1 epoch "
            f"{f + e:.1f} s"]


def difference_interval(rows: dict[str, list[Result]], name: str) -> str:
    """``", 90 % interval [lo, hi]"`` of goal 1's difference (the median best of ``name``
    minus bayes's) over the seeds both ran: scipy's paired percentile bootstrap, seeds
    resampled with replacement, 2000 resamples, fixed random state. How far another set
    of as many seeds could move the difference; "" under 5 seeds."""
    import numpy as np
    from scipy.stats import bootstrap

    base = {r.seed: r.best for r in rows.get("bayes", []) if r.best is not None}
    pairs = [(r.best, base[r.seed]) for r in rows.get(name, [])
             if r.best is not None and r.seed in base]
    if len(pairs) < 5:
        return ""
    ours, theirs = (np.asarray(v, dtype=float) for v in zip(*pairs, strict=True))
    got = bootstrap((ours, theirs),
                    lambda a, b, axis: np.median(a, axis=axis) - np.median(b, axis=axis),
                    paired=True, vectorized=True, n_resamples=2000, confidence_level=0.9,
                    method="percentile", random_state=0).confidence_interval
    return f", 90 % interval [{got.low:+.4f}, {got.high:+.4f}]"


def goals(rows: dict[str, list[Result]], budget: int) -> list[str]:
    def med(name: str, attr: str) -> float | None:
        vals = [getattr(r, attr) for r in rows.get(name, []) if getattr(r, attr) is not None]
        return statistics.median(vals) if vals else None

    out = []
    base_best, base_epochs = med("bayes", "best"), med("bayes", "epochs")
    pruned = [n for n in rows if n.startswith("bayes + ")]
    if base_best is None or not pruned:
        return out
    for name in pruned:
        best, epochs = med(name, "best"), med(name, "epochs")
        if best is None or epochs is None:
            continue
        ok = best >= base_best - 0.005 and epochs <= 0.4 * base_epochs
        out.append(f"- {name}: median best {best:.4f} vs bayes {base_best:.4f} "
                   f"(diff {best - base_best:+.4f}{difference_interval(rows, name)}), "
                   f"median epochs {epochs:g} = {epochs / base_epochs:.1%} of bayes's "
                   f"{base_epochs:g}: goal 1 {'met' if ok else 'NOT met'}")
    for name in pruned + ["random + asha"]:
        # time: each seed's run against bayes's run of the same seed (the load changes)
        base = {r.seed: r for r in rows.get("bayes", [])}
        pairs = [(r, base[r.seed]) for r in rows.get(name, []) if r.seed in base]
        cpu = [r.cpu / b.cpu for r, b in pairs if r.cpu and b.cpu]
        wall = [r.wall / b.wall for r, b in pairs if r.cpu and b.cpu]
        if cpu:
            out.append(f"- {name}: CPU time {statistics.median(cpu):.0%} of bayes's, wall "
                       f"time {statistics.median(wall):.0%} (medians of the per-seed ratios, "
                       f"{len(cpu)} seeds with a CPU figure)")
    for name in pruned + ["random + asha"]:
        ours = med(name, "best_in_budget")
        for peer in ("optuna TPE + Hyperband", "KerasTuner Hyperband"):
            theirs = med(peer, "best_in_budget")
            if ours is None or theirs is None:
                continue
            out.append(f"- within {budget} epochs, {name} {ours:.4f} vs {peer} {theirs:.4f}: "
                       f"{'higher' if ours > theirs else 'NOT higher'}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=30, help="trials of our runs")
    parser.add_argument("--budget", type=int, default=None,
                        help="epochs for the equal-budget column (default: 40%% of "
                             "trials x 10, the goal's ceiling)")
    parser.add_argument("--target", type=float, default=0.96, help="validation accuracy")
    parser.add_argument("--methods", default=None,
                        help="comma-separated subset of the method names (default: all)")
    parser.add_argument("--mode", choices=("auto", "core", "inproc"), default="auto")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads")
    parser.add_argument("--no-test", action="store_true", help="skip the test-set retrain")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "pruners.md"))
    parser.add_argument("--json", default=None, help="also write every run's log here")
    parser.add_argument("--from-log", default=None,
                        help="no runs: the table from the stderr lines of an earlier run")
    parser.add_argument("--data-path", default=None,
                        help="a local MNIST-shaped .npz instead of digits (the keras "
                             "plugin's mnist dataset; benchmarks/make_mnist_like.py writes one)")
    parser.add_argument("--reuse", default=None,
                        help="a --json file of an earlier run: keep its seeds, run the rest")
    parser.add_argument("--trainer", choices=("compiled", "fit"), default="compiled",
                        help="how OUR methods train: compiled (the keras backend's default, "
                             "Keras 3 on JAX, one XLA program per epoch) or fit (Keras's "
                             "model.fit on TensorFlow). The peers always use model.fit on "
                             "TensorFlow, and Keras has one engine per process: run them "
                             "with --trainer fit")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--section", default=None,
                        help="the results file's section (markers) to write: default the "
                             "dataset's name")
    parser.add_argument("--variant", action="append", default=[],
                        help="one more method: bayes + PRUNER with options over the "
                             "benchmark's, e.g. 'asha:reduction_factor=2' (repeatable)")
    args = parser.parse_args(argv)
    if args.data_path and not Path(args.data_path).is_file():
        parser.error(f"--data-path {args.data_path}: no such file "
                     "(benchmarks/make_mnist_like.py writes one)")
    if args.reuse and not Path(args.reuse).is_file():
        parser.error(f"--reuse {args.reuse}: no such file")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.threads == 1:  # XLA's CPU threads, for trainer=compiled (before JAX starts)
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                           "intra_op_parallelism_threads=1")
    mode = args.mode
    if mode == "auto":
        mode = "core" if core_takes_pruner() else "inproc"
    elif mode == "core" and not core_takes_pruner():
        parser.error("optimize() takes no pruner yet: use --mode inproc")
    budget = args.budget or int(0.4 * args.trials * EPOCHS)
    try:
        chosen = methods(mode, args.variant)
    except ValueError as exc:
        parser.error(str(exc))
    if args.methods:
        wanted = [m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = [w for w in wanted if w not in {m.name for m in chosen}]
        if unknown:
            parser.error(f"unknown method {unknown[0]!r}: one of "
                         + ", ".join(m.name for m in chosen))
        chosen = [m for m in chosen if m.name in wanted or m.name in
                  {variant(v)[0] for v in args.variant}]
    peers = [m.name for m in chosen if not m.ours]
    reused = (read_runs(Path(args.reuse), args.target, budget, args.trainer)
              if args.reuse and not args.from_log else {})
    if args.trainer == "compiled" and peers and not args.methods:
        chosen = [m for m in chosen if m.ours]  # the default set, less the peers
    elif args.trainer == "compiled" and peers and not args.from_log:
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        missing = [p for p in peers if any(s not in reused.get(p, {}) for s in seeds)]
        if missing:  # peers stored by a --trainer fit run (in --reuse) may share the table
            parser.error(f"{missing[0]!r} trains with Keras's model.fit on TensorFlow, and "
                         "Keras has one engine per process: run the peers with --trainer "
                         "fit (and --reuse their --json file here), or choose only our "
                         "methods with --methods")
    command = "python benchmarks/pruners.py " + shlex.join(argv if argv is not None
                                                           else sys.argv[1:])
    if args.from_log:
        rows = read_log(Path(args.from_log))
        seeds = max((len(r) for r in rows.values()), default=0)
        write_report(args, rows, budget, mode, command.strip(), None, seeds)
        return 0
    rows: dict[str, list[Result]] = {m.name: [] for m in chosen}
    args.reused_seeds = set()
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        problem = None
        for method in chosen:
            kept = reused.get(method.name, {}).get(seed)
            if kept is not None:
                rows[method.name].append(kept)
                args.reused_seeds.add(seed)
                print(f"seed {seed} {method.name}: reused from {args.reuse}", file=sys.stderr)
                continue
            if problem is None:
                problem = Problem(seed, args.threads, args.data_path, args.trainer)
            problem.reset()
            load_start = os.getloadavg()[0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                method.run(problem, args.trials, budget, mode)
            wall = time.perf_counter() - problem.start
            cpu = time.process_time() - problem.cpu_start
            result = summarize_run(problem, method.name, wall, cpu, args.target, budget,
                                   not args.no_test)
            result.load = [round(load_start, 2), round(os.getloadavg()[0], 2)]
            result.trainer = args.trainer
            rows[method.name].append(result)
            print(f"seed {seed} {method.name} | trials {result.trials} epochs "
                  f"{result.epochs} wall {wall:.1f}s cpu {cpu:.1f}s best {result.best} test "
                  f"{result.test} to-target {result.to_target} in-budget "
                  f"{result.best_in_budget}", file=sys.stderr, flush=True)
        # after every seed, so that a run cut short still leaves its figures
        write_report(args, rows, budget, mode, command.strip(),
                     time.perf_counter() - started, seed + 1 - args.first_seed)
    return 0


def write_report(args: argparse.Namespace, rows: dict[str, list[Result]], budget: int,
                 mode: str, command: str, elapsed: float | None, seeds_done: int) -> None:
    took = f"{elapsed:.0f} s in all" if elapsed is not None else "figures read from its log"
    if len(getattr(args, "reused_seeds", ())) == seeds_done:
        took = (f"nothing trained by this command: the {seeds_done} seeds' runs read from "
                f"{Path(args.reuse).name}, the figures recomputed from them")
    elif getattr(args, "reused_seeds", None):
        took += (f" (seeds {', '.join(map(str, sorted(args.reused_seeds)))} not run again: "
                 f"read from {Path(args.reuse).name})")
    name = args.section or dataset_name(args.data_path)
    first = getattr(args, "first_seed", 0)
    trainer = getattr(args, "trainer", "fit")
    trained = ("**compiled** (the keras backend's default: Keras 3 on JAX, one XLA "
               "program per epoch, batches in the backend's numpy order)" if trainer ==
               "compiled" else "**fit** (Keras's model.fit on TensorFlow, its own shuffle)")
    text = "\n".join([
        f"<!-- pruners.py:{name} -->",
        f"## Pruner benchmark: keras MLP on {name}, 10 epochs",
        "",
        f"`{command}` — {took}, {seeds_done} of {args.seeds} seeds done (seeds {first}-"
        f"{first + args.seeds - 1}), our runs {args.trials} trials trained by {trained}, "
        f"peers (model.fit on TensorFlow) until {budget} epochs, threads "
        f"{args.threads}, {os.cpu_count()} CPUs, pruning mode: **{mode}** ("
        + ("decisions by the study's driver through `optimize(..., pruner=...)`" if mode == "core"
           else "the objective asks the pruner itself after each epoch: the core's plumbing "
                "was not in") + "). Median (min, max) over seeds; [k/n]: seeds that got "
        "a value at all.",
        "",
        table(rows, budget, args.target),
        "",
        *goals(rows, budget),
        *trial_cost(rows, {m.name for m in methods(mode, getattr(args, "variant", []))
                           if m.ours}),
        f"<!-- /pruners.py:{name} -->",
    ])
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a+", encoding="utf-8") as fh:  # two runs (two datasets) share the file
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        new = with_section(fh.read(), name, text)
        fh.seek(0)
        fh.truncate()
        fh.write(new)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {n: [r.__dict__ for r in rs] for n, rs in rows.items()}, default=str, indent=1),
            encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)


def dataset_name(data_path: str | None) -> str:
    return f"{Path(data_path).stem} (MNIST-shaped .npz)" if data_path else "digits"


def with_section(old: str, name: str, text: str) -> str:
    """``old`` with its section for ``name`` replaced by ``text`` (appended if none)."""
    start, end = f"<!-- pruners.py:{name} -->", f"<!-- /pruners.py:{name} -->"
    if start in old and end in old:
        head, rest = old.split(start, 1)
        return head + text + rest.split(end, 1)[1]
    return (old.rstrip("\n") + "\n\n" if old.strip() else "") + text + "\n"


def read_runs(path: Path, target: float, budget: int, trainer: str
              ) -> dict[str, dict[int, Result]]:
    """The results an earlier ``--json`` stored, by method and seed; the target and budget
    columns recomputed from each run's trial log for this run's ``--target``/``--budget``.
    Our runs of another trainer than ``trainer`` are left out (run again); the peers' are
    kept whatever ``--trainer`` says (they always train with model.fit)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    peers = {m.name for m in methods("core") if not m.ours}
    out: dict[str, dict[int, Result]] = {}
    for name, results in data.items():
        for raw in results:
            result = Result(**raw)
            if name not in peers and result.trainer != trainer:
                continue
            if result.log:
                log = result.log
                result.to_target = next((e["t"] for e in log if e["value"] is not None
                                         and e["value"] >= target), None)
                within = [e["value"] for e in log
                          if e["value"] is not None and e["epochs"] <= budget]
                result.best_in_budget = max(within) if within else None
            out.setdefault(name, {})[result.seed] = result
    return out


LOG_LINE = re.compile(
    r"^seed (?P<seed>\d+) (?P<method>.+?)\s*\|?\s+trials\s+(?P<trials>\d+) epochs\s+"
    r"(?P<epochs>\d+) wall\s+(?P<wall>[\d.]+)s(?: cpu (?P<cpu>[\d.]+)s)? best (?P<best>\S+) "
    r"test (?P<test>\S+) to-target (?P<to_target>\S+) in-budget (?P<in_budget>\S+)$")


def read_log(path: Path) -> dict[str, list[Result]]:
    """The per-run lines a run printed to stderr, back into results (no trial logs)."""
    def num(text: str | None) -> float | None:
        return None if text in (None, "None") else float(text)

    rows: dict[str, list[Result]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LOG_LINE.match(line.strip())
        if not m:
            continue
        rows.setdefault(m["method"], []).append(Result(
            method=m["method"], seed=int(m["seed"]), trials=int(m["trials"]),
            epochs=int(m["epochs"]), wall=float(m["wall"]), best=num(m["best"]),
            test=num(m["test"]), to_target=num(m["to_target"]),
            best_in_budget=num(m["in_budget"]), cpu=num(m["cpu"])))
    return rows


if __name__ == "__main__":
    sys.exit(main())
