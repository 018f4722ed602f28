"""``-B score=best|last`` (issue 24, "Scoring a trial"): a trial scored by its best epoch's
validation value keeps that epoch's weights, records ``score_epoch``, and the final retrain
trains that many epochs; ``last`` (the default) is unchanged. Tiny models on digits, with
learning rates whose validation curves go down again before the last epoch."""

import pytest

from hpo_framework.builtin.evaluators import Holdout
from hpo_framework.contracts.metrics import get_metric
from hpo_framework.errors import OptionError, TrialPaused
from hpo_framework.jobs.pipeline import load_dataset

ACC = get_metric("accuracy", "classification")
LOG_LOSS = get_metric("log_loss", "classification")
SK_PARAMS = {"n_layers": 1, "units_1": 7, "solver": "adam", "learning_rate_init": 0.1}
KERAS_PARAMS = {"learning_rate": 0.3, "num_dense_layers": 0, "num_dense_nodes": 7,
                "optimizer": "sgd"}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def best_epoch(steps, key, maximize):
    """The first epoch with the best value of ``key``."""
    values = [s[key] for s in steps]
    best = max(values) if maximize else min(values)
    return steps[values.index(best)]["step"]


def check_best_and_last(make_backend, params, digits, metric, key, epochs_key):
    last = Holdout(seed=0).evaluate(make_backend("last"), dict(params), digits, metric)
    best = Holdout(seed=0).evaluate(make_backend("best"), dict(params), digits, metric)
    steps = best["intermediate"]
    assert steps == last["intermediate"]  # the same training, scored differently
    epoch = best_epoch(steps, key, metric.direction == "maximize")
    assert epoch < steps[-1]["step"]  # these settings: the best epoch is not the last
    # last: the last epoch's value, and no score_epoch
    assert last["value"] == pytest.approx(steps[-1][key])
    assert "score_epoch" not in last["metrics"]
    # best: the best epoch's value, from that epoch's weights (every metric agrees)
    assert best["metrics"]["score_epoch"] == epoch
    assert best["value"] == pytest.approx(steps[epoch - 1][key])
    assert best["metrics"]["accuracy"] == pytest.approx(steps[epoch - 1]["val_accuracy"])
    # the final retrain trains that many epochs; last keeps the params
    backend = make_backend("best")
    assert backend.final_params(dict(params), best["metrics"])[epochs_key] == epoch
    assert make_backend("last").final_params(dict(params), last["metrics"]) == params
    return best


def test_sklearn_score_best_by_accuracy_and_by_log_loss(digits):
    from hpo_sklearn import SklearnBackend

    def make(score):
        return SklearnBackend(seed=0, max_iter=6, score=score)

    by_acc = check_best_and_last(make, SK_PARAMS, digits, ACC, "val_accuracy", "max_iter")
    by_loss = check_best_and_last(make, SK_PARAMS, digits, LOG_LOSS, "val_log_loss",
                                  "max_iter")
    assert by_acc["metrics"]["score_epoch"] != by_loss["metrics"]["score_epoch"]
    # a space that names epochs: the retrain sets that name
    assert make("best").final_params({"epochs": 6}, {"score_epoch": 3.0}) == {"epochs": 3}


@pytest.mark.parametrize("pad", [True, False])
def test_keras_score_best_padded_and_compiled(digits, pad):
    from hpo_keras import KerasBackend

    made = []

    def make(score):
        backend = KerasBackend(seed=0, epochs=6, pad=pad, score=score)
        if made:  # the compiled programs of the same shapes, as one study's backend keeps
            backend.padded, backend.epoch_programs = made[-1].padded, made[-1].epoch_programs
        made.append(backend)
        return backend

    check_best_and_last(make, KERAS_PARAMS, digits, ACC, "val_accuracy", "epochs")


def test_a_paused_trial_remembers_its_best_epoch(digits):
    """Paused after its best epoch and resumed: the best epoch before the pause counts."""
    from hpo_sklearn import SklearnBackend

    backend = SklearnBackend(seed=0, max_iter=6, score="best")
    x, y, xv, yv = Holdout(seed=0).arrays(digits)
    seen = []

    def report(step, values, pause_at=None):
        seen.append((step, values["val_accuracy"]))
        if step == pause_at:
            raise TrialPaused()

    def pausing(step, values):
        report(step, values, pause_at=4)

    pausing.metric = report.metric = ACC
    with pytest.raises(TrialPaused) as paused:
        backend.fit(dict(SK_PARAMS), x, y, digits, validation=(xv, yv), report=pausing)
    model = backend.fit(dict(SK_PARAMS), x, y, digits, validation=(xv, yv), report=report,
                        resume=paused.value.checkpoint)
    assert [s for s, _ in seen] == [1, 2, 3, 4, 5, 6]
    epoch = best_epoch([{"step": s, "v": v} for s, v in seen], "v", True)
    assert epoch <= 4 and backend.score(model, xv, yv, digits)["score_epoch"] == epoch


def test_bad_score_values_are_one_line():
    from hpo_keras import KerasBackend
    from hpo_sklearn import SklearnBackend

    with pytest.raises(OptionError, match="^backend 'keras': option 'score' must be one of "
                                          "last, best, got 'middle'$"):
        KerasBackend(score="middle")
    with pytest.raises(OptionError, match="^backend 'sklearn': score=best .* --model"):
        SklearnBackend(score="best", model="sklearn.linear_model:LogisticRegression")
    with pytest.raises(OptionError, match="^backend 'sklearn': score=best .*solver=lbfgs"):
        SklearnBackend(score="best", solver="lbfgs")
