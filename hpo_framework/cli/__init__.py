"""hpo-run: the command line. Library errors become one-line messages here."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from ..errors import HPOError, OptionError

DEFAULTS_HELP = (
    "With no options it runs a useful job offline with the preferred installed plugins "
    "(with the plugins this project ships: the bayes strategy on the sklearn backend, an "
    "MLP, on scikit-learn's digits, hold-out evaluation), 20 trials, stored in ./hpo.db. "
    "Running the same command again resumes the study up to its budget. Every option can "
    "also be set through an HPO_* environment variable (HPO_STRATEGY, HPO_TRIALS, ...)."
)
#: what plugins' run options (register_run_options) set for the job: ctx.meta[JOB_META]
JOB_META = "hpo_framework.jobs.job"
_json_stdout: TextIO | None = None


@contextmanager
def quiet_stdout(active: bool) -> Iterator[None]:
    """With ``--json`` stdout carries one JSON object and nothing else: while a job runs,
    whatever trials, models and worker processes print (file descriptor 1, so native code
    and child processes too) goes to stderr; :func:`emit_json` writes to the real stdout."""
    global _json_stdout
    if not active or _json_stdout is not None:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    _json_stdout = os.fdopen(os.dup(saved), "w")
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        _json_stdout.close()
        _json_stdout = None


def emit_json(text: str) -> None:
    """The ``--json`` object, on the real stdout even inside :func:`quiet_stdout`."""
    if _json_stdout is None:
        click.echo(text)
    else:
        _json_stdout.write(text + "\n")
        _json_stdout.flush()


class PluginGroup(click.Group):
    """Loads subcommands that plugins add (register_commands) on first use."""

    _loaded = False

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # plugins may add options to hpo-run itself (the dask plugin's --scheduler): load
        # them before the arguments are parsed; --help shows them too
        try:
            self._load_plugin_commands()
        except HPOError as exc:  # HPO_STRICT_PLUGINS=1 and a broken plugin
            raise click.ClickException(str(exc)) from None
        return super().parse_args(ctx, args)

    def _load_plugin_commands(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from ..registry import get_registry

        get_registry().call_guarded("register_commands", "its commands and options are left "
                                    "out", cli=self)
        get_registry().call_guarded("register_run_options", "its options are left out",
                                    register=self.add_run_option)

    def add_run_option(self, flag: str, executor: str, option: str, help: str = "",
                       metavar: str | None = None) -> None:
        """A plugin's option (register_run_options): ``FLAG VALUE`` means ``--executor
        EXECUTOR -X OPTION=VALUE``."""
        if any(flag in p.opts for p in self.params):
            return  # added already (the registry was reloaded)

        def chosen(ctx: click.Context, param: Any, value: str | None) -> None:
            if value:
                meta = ctx.meta.setdefault(JOB_META, {})
                meta.update(executor=executor, option=flag)
                meta.setdefault("executor_options", {})[option] = value

        self.params.append(click.Option([flag], default=None, metavar=metavar or "VALUE",
                                        expose_value=False, callback=chosen, help=help))

    def invoke(self, ctx: click.Context) -> Any:
        # Ctrl-C while starting (before the loop's own handler) exits 130 as a Ctrl-C
        # during trials does, not click's "Aborted!" and 1
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ninterrupted (Ctrl-C); nothing recorded is lost: run the same "
                       "command to go on", err=True)
            sys.exit(130)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, Any]:
    from ..options import parse_pairs

    return parse_pairs(values, what)


@click.group(
    cls=PluginGroup,
    invoke_without_command=True,
    help="Tune hyperparameters with pluggable search strategies and model backends.\n\n"
    + DEFAULTS_HELP,
    context_settings={"auto_envvar_prefix": "HPO", "help_option_names": ["-h", "--help"],
                      "max_content_width": 100},
)
@click.option("--strategy", default=None,
              help="Search strategy (see --list-plugins); a comma list (grid,bayes,genetic) or "
                   "'all' compares them on the same problem, budget and seed. Default: the "
                   "preferred installed one (bayes).")
@click.option("--backend", default=None,
              help="Model builder: sklearn, keras, or a plugin's. Default: the preferred "
                   "installed one (sklearn).")
@click.option("--dataset", default=None,
              help="Dataset name, or a data file (.csv, .parquet, .npz: the 'file' dataset on "
                   "it, -D target=COLUMN). Default: the preferred installed one (digits).")
@click.option("--data-path", default=None, type=click.Path(dir_okay=False),
              help="A local data file (the 'file' dataset, or a local mnist.npz).")
@click.option("--evaluator", default=None, help="holdout (the default) or kfold.")
@click.option("--space", "space_file", default=None, type=click.Path(dir_okay=False),
              envvar="HPO_SPACE",
              help="Search space file (YAML, JSON or TOML); default: the backend's space.")
@click.option("--trials", "n_trials", default=20, show_default=True, type=int,
              envvar="HPO_TRIALS",
              help="Total trials of the study (a resumed study runs up to this number).")
@click.option("--timeout", default=None, type=float, help="Stop starting trials after SECONDS.")
@click.option("--seed", default=None, type=int, help="Seed for the strategy, splits and models.")
@click.option("--storage", default="hpo.db", show_default=True, help="SQLite file of the study.")
@click.option("--study", default=None,
              help="Study name; default STRATEGY-BACKEND-DATASET. An existing one resumes.")
@click.option("--new-study", is_flag=True,
              help="Start a new study (NAME-2, NAME-3, ...) instead of resuming NAME.")
@click.option("--metric", default=None,
              help="accuracy (default), balanced_accuracy, precision/recall/f1 (+_macro, "
                   "_weighted), roc_auc, log_loss; mse (default), rmse, mae, r2; any "
                   "scikit-learn scorer name; module:function or file.py:function (see "
                   "docs/metrics-and-data.md); measured: n_params, latency_ms, train_s. A "
                   "comma list (accuracy,n_params) records each; the first is the objective.")
@click.option("--direction", default=None, metavar="DIRECTION[,DIRECTION...]",
              help="Optional for one objective (it follows from the metric). A comma list "
                   "makes several objectives: --direction maximize,minimize optimizes the "
                   "first two --metric names for a Pareto front.")
@click.option("--constraint", "constraints", multiple=True, metavar="METRIC<=N",
              help="Keep trials feasible: n_params<=20000 or accuracy>=0.9 (repeatable, on any "
                   "metric, which is then recorded); infeasible trials are never best.")
@click.option("--model", default=None,
              help="A user model: module:function or path/to/file.py:function.")
@click.option("--executor", default=None, help="Where trials run: serial, process, dask, ...")
@click.option("--n-jobs", default=1, show_default=True, type=int,
              help="Trials run at once (more than 1: in worker processes).")
@click.option("--retries", default=0, show_default=True, type=int,
              help="Re-run a trial whose worker died up to N times before it counts as FAILED.")
@click.option("--trial-timeout", default=None, type=float, metavar="SECONDS",
              help="Stop a trial that runs longer and record it as FAILED (timeout).")
@click.option("--pruner", default=None,
              help="Stop hopeless trials early: asha-promote (recommended: the setting "
                   "measured best, it pauses trials and resumes the promising ones), median, "
                   "asha (Optuna's decisions), hyperband, halving, or a plugin's (see "
                   "--list-plugins). Default: none.")
@click.option("--strategy-option", "-S", multiple=True, metavar="KEY=VALUE",
              help="Option for the strategy, e.g. kappa=5 (repeatable).")
@click.option("--backend-option", "-B", multiple=True, metavar="KEY=VALUE",
              help="Option for the backend, e.g. epochs=5 (repeatable).")
@click.option("--evaluator-option", "-E", multiple=True, metavar="KEY=VALUE",
              help="Option for the evaluator, e.g. folds=3 (repeatable).")
@click.option("--dataset-option", "-D", multiple=True, metavar="KEY=VALUE",
              help="Option for the dataset (repeatable).")
@click.option("--executor-option", "-X", multiple=True, metavar="KEY=VALUE",
              help="Option for the executor (repeatable).")
@click.option("--pruner-option", "-P", multiple=True, metavar="KEY=VALUE",
              help="Option for the pruner, e.g. min_resource=2 (repeatable).")
@click.option("--final-test/--no-final-test", default=True, show_default=True,
              help="Retrain the best configuration on all training data and score the test set.")
@click.option("--save-model", default=None, type=click.Path(dir_okay=False),
              help="Save the retrained best model to PATH.")
@click.option("--repeats", default=1, show_default=True, type=int,
              help="Compare: run each strategy with N seeds (--seed, --seed+1, ...) and report "
                   "median, min and max.")
@click.option("--output", default=None, type=click.Path(file_okay=False),
              help="Write markdown, CSV, JSON, plots and report.html into DIR.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout, nothing else.")
@click.option("--list-plugins", is_flag=True, help="List installed plugins and exit.")
@click.version_option(None, "--version", package_name="hpo-framework",
                      message="hpo-run (hpo-framework) %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Let libraries (TensorFlow, ...) log.")
@click.pass_context
def cli(ctx: click.Context, **kw: Any) -> None:
    if ctx.invoked_subcommand is not None:
        return
    try:
        if kw["list_plugins"]:
            list_plugins(kw["as_json"])
            return
        from ..jobs.compare import is_comparison

        kw["job_meta"] = dict(ctx.meta.get(JOB_META, {}))
        if is_comparison(kw["strategy"] or "", kw["repeats"]):
            from .report import cli_compare

            cli_compare(config_from_options(kw), kw["strategy"], kw["repeats"], kw["output"],
                        kw["as_json"])
            return
        run_main(kw)
    except HPOError as exc:
        raise click.ClickException(str(exc)) from None


def list_plugins(as_json: bool) -> None:
    import json

    from ..registry import get_registry

    registry = get_registry()
    components = registry.all_components()
    plugins = [p.to_dict() for p in registry.plugins.values()]
    if as_json:
        click.echo(json.dumps({"components": [c.to_dict() for c in components],
                               "plugins": plugins, "failed": registry.failed,
                               "conflicts": list(registry.conflicts.values())}))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a pipe: one plain line each, never wrapped
        for c in components:
            default = " (default)" if c.default is not None else ""
            click.echo(f"{c.kind} {c.name}{default}: {c.description} [{c.plugin} "
                       f"{c.version or '-'}]")
        for p in plugins:
            click.echo(f"plugin {p['name']} {p['version'] or '-'}: hooks "
                       f"{', '.join(p['hooks']) or 'none'}")
    else:
        table = Table(title="installed components")
        for col in ("name", "kind", "plugin", "version", "description"):
            table.add_column(col)
        for c in components:
            table.add_row(c.name + (" *" if c.default is not None else ""), c.kind, c.plugin,
                          c.version or "-", c.description)
        console.print(table)
        console.print("* a default candidate: the highest installed one of its kind is used "
                      "when none is named", highlight=False)
        hooks = Table(title="loaded plugins")
        for col in ("plugin", "distribution", "version", "hooks"):
            hooks.add_column(col)
        for p in plugins:
            hooks.add_row(p["name"], p["distribution"] or "-", p["version"] or "-",
                          ", ".join(p["hooks"]) or "none")
        console.print(hooks)
    for msg in [*registry.failed.values(), *registry.conflicts.values()]:
        click.echo(f"failed: {msg}", err=not as_json)


def config_from_options(kw: dict[str, Any]) -> Any:
    from ..jobs.job import JobConfig

    dataset_options = _pairs(kw["dataset_option"], "--dataset-option")
    if kw["data_path"]:
        dataset_options["path"] = kw["data_path"]
    dataset, label = kw["dataset"], None
    if _is_data_file(dataset):  # --dataset path.csv: the file dataset on that file
        if kw["data_path"] and kw["data_path"] != dataset:
            raise OptionError(f"--dataset {dataset} is a data file and --data-path "
                              f"{kw['data_path']} another: give one of them")
        dataset_options["path"] = dataset
        dataset, label = "file", os.path.splitext(os.path.basename(dataset))[0] or "file"
    backend_options = _pairs(kw["backend_option"], "--backend-option")
    if kw["model"]:
        backend_options["model"] = kw["model"]
    executor = kw["executor"]
    executor_options = _pairs(kw["executor_option"], "--executor-option")
    meta = kw.get("job_meta") or {}
    if meta.get("executor"):  # a plugin's own option chose it (dask: --scheduler)
        if executor not in (None, meta["executor"]):
            raise OptionError(f"{meta.get('option', 'this option')} is for --executor "
                              f"{meta['executor']}, not '{executor}'")
        executor = meta["executor"]
    executor_options.update(meta.get("executor_options") or {})
    _check_study_name(kw["study"])
    return JobConfig(
        strategy=kw["strategy"], backend=kw["backend"], dataset=dataset, dataset_label=label,
        evaluator=kw["evaluator"], space_file=kw["space_file"], n_trials=kw["n_trials"],
        timeout=kw["timeout"], seed=kw["seed"], storage=kw["storage"], study=kw["study"],
        new_study=kw["new_study"], metric=kw["metric"], direction=kw["direction"],
        constraints=list(kw.get("constraints") or ()),
        executor=executor, n_jobs=kw["n_jobs"], final_test=kw["final_test"],
        retries=kw["retries"], trial_timeout=kw["trial_timeout"],
        save_model=kw["save_model"], verbose=kw["verbose"], output=kw["output"],
        pruner=kw["pruner"], pruner_options=_pairs(kw["pruner_option"], "--pruner-option"),
        strategy_options=_pairs(kw["strategy_option"], "--strategy-option"),
        backend_options=backend_options,
        dataset_options=dataset_options,
        evaluator_options=_pairs(kw["evaluator_option"], "--evaluator-option"),
        executor_options=executor_options,
    )


DATA_SUFFIXES = (".csv", ".parquet", ".pq", ".npz")


def _is_data_file(name: str | None) -> bool:
    """``--dataset`` names a data file (by its suffix, or an existing file) rather than
    a registered dataset."""
    if not name:
        return False
    return name.lower().endswith(DATA_SUFFIXES) or (
        any(c in name for c in "./" + os.sep) and os.path.isfile(name))


def _check_study_name(name: str | None) -> None:
    if name is None:
        return
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise OptionError("--study must be valid UTF-8 text; pick another name") from None
    if not name.strip() or any(ord(c) < 32 for c in name) or len(name) > 200:
        raise OptionError("--study must be 1 to 200 printable characters")


def run_main(kw: dict[str, Any]) -> None:
    from ..jobs.job import prepare

    config = config_from_options(kw)
    with quiet_stdout(kw["as_json"]):
        # resolve names, options and the space before any output
        prepared = prepare(config)
        try:
            _run_prepared(prepared, kw)
        finally:
            prepared.study.close()


def _run_prepared(prepared: Any, kw: dict[str, Any]) -> None:
    import json
    from contextlib import nullcontext

    from ..jobs.job import run_job
    from .display import Progress

    config, study, as_json = prepared.config, prepared.study, kw["as_json"]
    # say which plugins a bare command picked (the evaluator needs no saying)
    picked = {k: v for k, v in prepared.defaults.items() if k != "evaluator"}
    if picked and not as_json:
        chosen = ", ".join(f"{kind} {name}" for kind, name in picked.items())
        click.echo(f"using the preferred installed {chosen} (choose with --"
                   f"{next(iter(picked))} NAME, ...)", err=True)
    if study.note:  # a default name taken by another setup: this run has its own study
        click.echo(study.note, err=True)
    done = len(study.finished_trials)
    if config.n_trials is not None and done >= config.n_trials and not study.waiting:
        message = (f"study '{study.name}' in {study.storage.path} is already complete ({done} "
                   f"of {config.n_trials} trials); run more with --trials {done + config.n_trials}"
                   ", or start anew with --new-study")
        study.stop_reason = "already complete (no trial ran)"
        if as_json:
            emit_json(json.dumps(prepared.result().to_dict()))
            click.echo(message, err=True)
            return
        print_summary(prepared.result())
        click.echo(message, err=True)
        return
    progress = Progress(config.n_trials, study=study)
    if not as_json and prepared.executor.name == "serial":
        # trials run in this process, as they are: load the data and the backend's
        # libraries first (other executors may change the objective when they start)
        progress.warm_up(f"{config.backend} on {config.dataset}", prepared.objective.warm_up)
    try:
        with nullcontext() if as_json else progress:
            result = run_job(prepared, callbacks=[] if as_json else [progress])
    except KeyboardInterrupt:
        interrupted = prepared.result()  # what finished, before the stop
        if as_json:
            emit_json(json.dumps(interrupted.to_dict()))
        else:
            print_summary(interrupted)
        click.echo(f"\ninterrupted: {len(study.finished_trials)} finished trials are stored in "
                   f"{study.storage.path}; run the same command to resume", err=True)
        sys.exit(130)
    if kw.get("output"):
        from .report import write_study_output

        write_study_output(result.study, kw["output"], quiet=as_json)
    study.storage.check_file()  # never "stored in hpo.db" when that file was deleted
    if as_json:
        emit_json(json.dumps(result.to_dict()))
    else:
        print_summary(result)
        look = (f"look at it: hpo-run report --storage {study.storage.path} --study "
                f"'{study.name}' --html report.html")
        if "dashboard" in cli.commands:  # a plugin's command, loaded before parsing
            look += f", or live: hpo-run dashboard --storage {study.storage.path}"
        click.echo(look, err=True)
    if not result.study.complete_trials and result.study.trials:
        raise click.ClickException(f"no trial of study '{study.name}' completed; see their "
                                   "errors above (hpo-run report shows them too)")


def print_summary(result: Any) -> None:
    from .display import fmt, front_table, make_console, trials_table

    study = result.study
    console = make_console()
    metrics = list(getattr(result, "metrics", None) or [result.metric])
    k = len(study.directions)
    console.print(trials_table(study, result.metric, metrics, k))
    failed = sum(1 for t in study.trials if t.state.value == "FAILED")
    complete = study.complete_trials
    if not complete:
        console.print("no trial completed; see the errors above", style="red")
    elif not any(t.feasible for t in complete):
        console.print(f"no trial is feasible: each of the {len(complete)} COMPLETE ones "
                      f"violates {', '.join(result.constraints) or 'a constraint'}",
                      style="red", highlight=False)
    elif k > 1:
        console.print(front_table(study, metrics[:k], list(result.constraints)))
        front = len(study.best_trials)
        console.print(f"the Pareto front of {', '.join(metrics[:k])}: {front} "
                      f"trial{'' if front == 1 else 's'} no other trial beats on every "
                      "objective (its configurations: hpo-run report, or --json)",
                      highlight=False)
    else:
        best = study.best_trial
        console.print(f"best trial {best.number}: validation {result.metric} {fmt(best.value)}",
                      highlight=False)
        console.print(f"best configuration: {fmt(best.params)}", highlight=False)
    if k == 1 and len(metrics) > 1:
        extra = [m for m in metrics[1:] if m not in _constraint_metrics(result.constraints)]
        directions = ",".join(["maximize" if study.direction == "maximize" else "minimize",
                               *(_direction_word(m) for m in metrics[1:2])])
        recorded = f"recorded {', '.join(metrics[1:])} beside the objective {metrics[0]}"
        if extra:
            recorded += (f"; for a front of {metrics[0]} against {metrics[1]}: --metric "
                         f"{','.join(metrics)} --direction {directions}")
        console.print(recorded, highlight=False)
    if getattr(result, "final_skipped", None):
        console.print(result.final_skipped, highlight=False)
    if result.final is not None:
        scored = result.final.get("metric") or result.metric  # the evaluator's metric
        console.print(f"test {scored} of the best configuration retrained on all training "
                      f"data: {fmt(result.final['test_score'])}", highlight=False)
        if result.final.get("model_path"):
            console.print(f"model saved to {result.final['model_path']}", highlight=False)
    if result.final_error:
        console.print(f"final test failed: {result.final_error}", style="red", highlight=False)
    if failed:
        console.print(f"{failed} trial(s) failed; their errors are in the table and the storage",
                      highlight=False)
    pruned = sum(1 for t in study.trials if t.state.value == "PRUNED")
    if pruned:
        console.print(f"{pruned} trial(s) pruned (stopped early by the pruner); the step each "
                      "stopped at is in the table", highlight=False)
    said = _proposers(study)
    if said:
        console.print(said, highlight=False)
    console.print(f"stopped: {study.stop_reason or 'no trial ran'}; study '{study.name}' is stored in "
                  f"{study.storage.path}", highlight=False)


def _proposers(study: Any) -> str | None:
    """Which model proposed which trials and why, for a strategy that says so per trial
    (``auto``: ``user_attrs["proposed_by"]``, the hand-over's reason in its stats)."""
    runs: list[list[Any]] = []  # [model, first number, last number, count]
    for t in study.trials:
        model = (t.user_attrs or {}).get("proposed_by")
        if model is None:
            continue
        if runs and runs[-1][0] == model:
            runs[-1][2], runs[-1][3] = t.number, runs[-1][3] + 1
        else:
            runs.append([model, t.number, t.number, 1])
    if not runs:
        return None
    parts = [f"{m} for trials {a}-{b}" if a != b else f"{m} for trial {a}"
             for m, a, b, _ in runs]
    line = f"strategy {study.strategy.name}: " + ", then ".join(parts)
    stats = study.strategy.stats() or {}
    if stats.get("reason"):
        line += f" (handed over: {stats['reason']})"
    elif len(runs) == 1 and runs[0][0] == "bayes":
        line += " (a GP proposal stayed cheap against the trials)"
    return line


def _constraint_metrics(constraints: list[str]) -> set[str]:
    from ..jobs.pipeline import MetricConstraint

    return {MetricConstraint.parse(c).metric for c in constraints}


def _direction_word(metric: str) -> str:
    """A recorded metric's direction, for the hint that makes it an objective."""
    from ..contracts.measured import measured_direction
    from ..contracts.metrics import METRICS

    known = measured_direction(metric)
    if known is None and metric in METRICS:
        known = METRICS[metric].direction
    return known or "minimize"


from .report import report_command  # noqa: E402  (click only; the results load on use)

cli.add_command(report_command)


def _one_line_warning(message: Warning | str, category: type[Warning], *args: Any,
                      **kwargs: Any) -> str:
    return f"warning: {message}\n"


def main() -> None:
    import warnings

    # a user reads "warning: ...", not a source location and a class name
    warnings.formatwarning = _one_line_warning
    cli(prog_name="hpo-run")


if __name__ == "__main__":  # pragma: no cover
    main()
