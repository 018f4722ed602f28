"""One way to set up a study (hpo_framework.study.setup): the API and hpo-run resolve,
check and open a study through it, and each check runs once."""

import pytest

import hpo_framework as hpo
from hpo_framework.jobs.job import JobConfig, prepare, run_job
from hpo_framework.registry import get_registry

SPACE = {"x": [1, 2, 3], "y": {"type": "int", "low": 0, "high": 3}}


@pytest.fixture
def grid_constructions(monkeypatch):
    """Count how often the grid strategy is built."""
    cls = get_registry().get("strategy", "grid")
    built = []
    original = cls.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("seed"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__init__", counting)
    return built


def test_optimize_builds_the_strategy_once_to_check_it_and_once_to_run(grid_constructions, tmp_path):
    study = hpo.optimize(lambda p: p["x"] + p["y"], SPACE, strategy="grid", n_trials=3, seed=5,
                         storage=tmp_path / "g.db")
    assert len(study.trials) == 3
    assert grid_constructions == [0, 5]  # the dry run, then the study's own
    grid_constructions.clear()
    hpo.create_study(SPACE, strategy="grid", seed=5, storage=tmp_path / "g.db", name="ask").close()
    assert grid_constructions == [0, 5]


def test_hpo_run_builds_the_strategy_once_to_check_it_and_once_to_run(grid_constructions, tmp_path):
    config = JobConfig(strategy="grid", backend="sklearn", dataset="digits", n_trials=2, seed=3,
                       storage=str(tmp_path / "j.db"), final_test=False,
                       backend_options={"max_iter": 2}, executor="serial",
                       space_file=None)
    prepared = prepare(config)
    try:
        assert grid_constructions == [0, 3]
        result = run_job(prepared)
    finally:
        prepared.study.close()
    assert [t.state.value for t in result.study.trials] == ["COMPLETE", "COMPLETE"]
    assert grid_constructions == [0, 3]  # running it builds nothing more


def test_a_refusal_of_how_the_study_runs_writes_nothing(tmp_path):
    with pytest.raises(hpo.OptionError) as err:
        hpo.optimize(lambda p: p["x"], SPACE, strategy="random", n_trials=2,
                     executor="serial", trial_timeout=5, storage=tmp_path / "t.db")
    assert str(err.value) == (
        "--trial-timeout (trial_timeout) needs trials outside the driver; executor 'serial' "
        "runs them inside it: use the process executor, or leave the executor to the default")
    assert not (tmp_path / "t.db").exists()


@pytest.mark.parametrize("objective, takes", [
    (lambda params: 0.0, False),
    (lambda params, trial: 0.0, True),
    (lambda params, t=None: 0.0, True),  # two positional parameters: the trial is passed
])
def test_one_calling_convention_by_the_number_of_positional_parameters(objective, takes):
    from hpo_framework.contracts.objective import calling_convention

    assert calling_convention(objective) is takes


def test_an_objective_of_another_shape_is_refused_before_the_first_trial(tmp_path):
    def three(params, trial, extra):
        return 0.0

    with pytest.raises(hpo.OptionError) as err:
        hpo.optimize(three, SPACE, strategy="random", n_trials=2, storage=tmp_path / "o.db")
    assert str(err.value) == ("the objective takes (params, trial, extra): write "
                              "objective(params) or objective(params, trial) (or set "
                              "objective.takes_trial)")
    assert not (tmp_path / "o.db").exists()

    class Explicit:
        takes_trial = False

        def __call__(self, params, trial=None):
            assert trial is None  # the flag decides, not the signature
            return float(params["x"])

    assert hpo.optimize(Explicit(), SPACE, strategy="random", n_trials=2, seed=0).best_value \
        is not None


def test_a_default_name_taken_by_another_setup_gives_the_api_a_fresh_study(tmp_path):
    db = tmp_path / "a.db"

    def objective(p):
        return float(p["x"])

    first = hpo.optimize(objective, SPACE, strategy="random", n_trials=2, seed=1, storage=db)
    with pytest.warns(UserWarning) as said:
        other = hpo.optimize(objective, {"x": [1, 2]}, strategy="random", n_trials=2, seed=1,
                             storage=db)
    assert (first.name, other.name) == ("random-objective", "random-objective-2")
    assert [str(w.message) for w in said if "this run is study" in str(w.message)] == [
        f"study 'random-objective' in {db} was run with another space: parameter 'x': choices: "
        "this run drops 3; parameter 'y' is only in the stored space; this run is study "
        "'random-objective-2' (name=NAME chooses one)"]
    # a name given is the user's: a mismatch is refused, in the API's words
    with pytest.raises(hpo.StudyMismatchError) as err:
        hpo.optimize(objective, {"x": [1, 2]}, strategy="random", n_trials=2, seed=1,
                     storage=db, study="random-objective")
    assert str(err.value).endswith("use another study=NAME, or new_study=True to start a new "
                                   "one")
