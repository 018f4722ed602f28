"""The ``keras`` backend: the notebook's Bayesian-search MLP on Keras 3.

Each trial starts from a clean Keras session (memory stays flat over a long study) and,
with a seed, from the same initial weights and batches, drawn by numpy: repeatable, and
the same for both trainers on both engines. Per-epoch validation loss and accuracy go to
the core through ``report``. Trainers: ``compiled`` (the default: each epoch one XLA
program on JAX, see padded.py and trainer.py) and ``fit`` (Keras's ``model.fit``,
where ``steps_per_execution`` runs many batches per call into the graph).

The plugin's modules import one way: network (what the trainers share) <- trainer,
padded <- backend <- vectorized (the executor).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from typing import Any

from hpo_framework.contracts.backend import Backend, BestEpoch, Report, scored
from hpo_framework.contracts.dataset import Dataset
from hpo_framework.contracts.metrics import Metric
from hpo_framework.contracts.user_model import call_model_function, load_model_function
from hpo_framework.errors import OptionError
from hpo_framework.options import Option

from .network import (
    KNOWN_PARAMS,
    RANGES,
    checkpoint_of,
    count_params,
    layer_units,
    load_checkpoint,
    renamed_hint,
    rescaled,
    restore_best,
    values_from_output,
    weights_of,
)
from .runtime import ENGINES, check_engine, default_trainer, import_keras, use_compile_cache

TRAINERS = ("fit", "compiled")

PREDICT_BATCH = 8192
STREAMS = ("weights", "shuffle")


class KerasBackend(Backend):
    """A Sequential MLP (flatten, Dense layers, softmax); ``model=`` trains your own."""

    name = "keras"
    reports_intermediate = True
    resumable = True
    options = {
        "epochs": Option(10, int, low=1, help="used when the space has no 'epochs'"),
        "batch_size": Option(32, int, low=1, help="used when the space has no 'batch_size'"),
        "optimizer": Option("adam", str, choices=("adam", "sgd", "rmsprop"),
                            help="used when the space has no 'optimizer'"),
        "learning_rate": Option(0.001, float, low=0.0),
        "momentum": Option(0.9, float, low=0.0, high=1.0, help="sgd only (the notebook's 0.9)"),
        "nesterov": Option(True, bool, help="sgd only (the notebook's Nesterov momentum)"),
        "activation": Option("relu", str),
        "dropout": Option(0.0, float, low=0.0, high=0.95, help="after each hidden layer"),
        "num_dense_layers": Option(0, int, low=0, help="hidden layers after the first, "
                                                       "when the space sets none"),
        "num_dense_nodes": Option(15, int, low=1, help="units of each hidden layer, when the "
                                                      "space sets none"),
        "steps_per_execution": Option(64, int, low=1,
                                      help="batches per graph call; 1 = plain model.fit"),
        "jit_compile": Option(None, bool, help="XLA-compile the train step (default: Keras's "
                                               "choice: off for TensorFlow on CPU, on for JAX)"),
        "keras_backend": Option(None, str, choices=ENGINES,
                                help="Keras engine for trainer=fit; tensorflow picks "
                                     "trainer=fit (default: $KERAS_BACKEND or tensorflow)"),
        "trainer": Option(None, str, choices=TRAINERS,
                          help="compiled: each epoch one XLA program (Keras on JAX, stateless "
                               "API), compiles shared by same shapes; fit: Keras's model.fit "
                               "(default: compiled, or fit when TensorFlow is asked for)"),
        # (str, bool): -B compile_cache=off reads as YAML's false, which means off too
        "compile_cache": Option(None, (str, bool),
                                help="trainer=compiled: JAX's persistent compilation cache "
                                     "directory, 'off' for none (default: "
                                     "~/.cache/hpo-framework/jax)"),
        "pad": Option(True, bool,
                      help="trainer=compiled, built-in MLP: pad widths (to a multiple of 16) "
                           "and depth, so trials of other sizes share one compile"),
        "score": Option("last", str, choices=("last", "best"),
                        help="the epoch that scores a trial: the last, or the best on the "
                             "validation rows (its weights are kept; recorded as "
                             "score_epoch, and the final retrain trains that many epochs)"),
        "model": Option(None, str, help="module:function or file.py:function returning a "
                                        "compiled Keras model"),
    }

    #: the vectorized executor that drives this backend sets itself here (and clears it):
    #: the fit calls of its batch's members go to it, to be trained together
    batcher: Any = None

    def __init__(self, **kwargs: Any) -> None:
        for name in kwargs:
            if renamed_hint(name):
                raise OptionError(f"backend 'keras': {renamed_hint(name)}")
        super().__init__(**kwargs)
        self.padded: Any = None  # the padded program of this backend's trials (padded.py)
        self.epoch_programs: Any = None  # its unpadded compiled programs (trainer.py)
        self.engine = self.config["keras_backend"]
        if self.config["trainer"] is None:
            self.config["trainer"] = default_trainer(self.engine)
        if self.config["trainer"] == "compiled":
            use_compile_cache(self.config["compile_cache"])
            if self.engine == "tensorflow":
                raise OptionError("backend 'keras': trainer=compiled runs on JAX; leave "
                                  "keras_backend unset (or use trainer=fit on tensorflow)")
            self.engine = "jax"
        check_engine(self.engine)
        if self.config["model"]:
            # a model file that imports keras at its top would import it loudly, on
            # whatever engine: import it first, quietly, on the engine picked here
            import_keras(self.engine, self.verbose)
            load_model_function(self.config["model"])  # fail now, not in every trial

    def default_space(self, dataset: Dataset) -> dict[str, Any]:
        """The notebook's Bayesian space."""
        return {
            "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
            "num_dense_layers": {"type": "int", "low": 0, "high": 2},
            "num_dense_nodes": {"type": "int", "low": 5, "high": 15},
            "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
        }

    def parameters(self) -> set[str] | None:
        """The built-in MLP's parameter names; any for a ``--model`` network."""
        return None if self.config["model"] else set(KNOWN_PARAMS)

    def parameter_ranges(self) -> dict[str, str]:
        """The built-in MLP's bounds (``network.RANGES``); none for a ``--model`` network."""
        return {} if self.config["model"] else dict(RANGES)

    def warm_up(self) -> None:
        """Import Keras (and TensorFlow or JAX) when a worker starts, not in its first trial."""
        self.keras()

    def keras(self) -> Any:
        """The keras module, imported (quietly) on this backend's engine."""
        return import_keras(self.engine, self.verbose)

    def _value(self, params: dict[str, Any], name: str) -> Any:
        return params.get(name, self.config[name])

    def rng(self, stream: str) -> Any:
        """A numpy generator for this trial's ``weights`` or ``shuffle``: from the seed, the
        same on every engine and for every trainer (two streams, so that members of a
        vectorized batch with other shapes still share their shuffles); fresh without one."""
        import numpy as np

        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([int(self.seed), STREAMS.index(stream)])

    # building ---------------------------------------------------------------------------
    def build(self, params: dict[str, Any], dataset: Dataset) -> Any:
        """A compiled model for ``params`` (the user's, or the MLP)."""
        unknown = [] if self.config["model"] else sorted(set(params) - KNOWN_PARAMS)
        if unknown:
            raise ValueError(renamed_hint(unknown[0]) or f"the keras backend has no parameter "
                             f"'{unknown[0]}' (use --model for your own network)")
        keras = self.keras()
        regression = dataset.task == "regression"
        if self.config["model"]:
            fn = load_model_function(self.config["model"])
            model = call_model_function(fn, params, input_shape=dataset.input_shape,
                                        n_classes=dataset.n_classes, task=dataset.task)
            if not isinstance(model, keras.Model) or getattr(model, "optimizer", None) is None:
                raise TypeError(f"--model {self.config['model']} must return a compiled "
                                f"keras.Model, got {type(model).__name__}")
            return model
        layers = [keras.Input(shape=dataset.input_shape), keras.layers.Flatten()]
        activation = str(self._value(params, "activation"))
        dropout = float(self._value(params, "dropout"))
        drawn = DrawnWeights(self.rng("weights"))

        def dense(units: int, activation: str | None = None) -> Any:
            return keras.layers.Dense(units, activation=activation,
                                      kernel_initializer=drawn.glorot_uniform,
                                      bias_initializer=drawn.zeros)

        for units in layer_units(params, self.config["num_dense_layers"],
                                 self.config["num_dense_nodes"]):
            layers.append(dense(units, activation))
            if dropout > 0:
                layers.append(keras.layers.Dropout(dropout))
        layers.append(dense(1) if regression else dense(int(dataset.n_classes), "softmax"))
        model = keras.Sequential(layers)  # built here: the Input gives the shapes
        for layer in model.layers:  # saved and cloned models name Keras's own defaults
            if isinstance(layer, keras.layers.Dense):
                layer.kernel_initializer = keras.initializers.GlorotUniform()
                layer.bias_initializer = keras.initializers.Zeros()
        model.compile(
            optimizer=self._optimizer(keras, params),
            loss="mse" if regression else "sparse_categorical_crossentropy",
            steps_per_execution=self.config["steps_per_execution"],
            jit_compile="auto" if self.config["jit_compile"] is None else self.config["jit_compile"],
        )
        return model

    def _optimizer(self, keras: Any, params: dict[str, Any]) -> Any:
        name = str(self._value(params, "optimizer")).lower()  # the notebook's 'Adam' works too
        lr = float(self._value(params, "learning_rate"))
        if name == "sgd":
            return keras.optimizers.SGD(learning_rate=lr,
                                        momentum=float(self._value(params, "momentum")),
                                        nesterov=bool(self._value(params, "nesterov")))
        if name == "adam":
            return keras.optimizers.Adam(learning_rate=lr)
        if name == "rmsprop":
            return keras.optimizers.RMSprop(learning_rate=lr)
        raise ValueError(f"unknown optimizer '{name}' (use adam, sgd or rmsprop)")

    # training ---------------------------------------------------------------------------
    def fit(self, params: dict[str, Any], x: Any, y: Any, dataset: Dataset, *,
            validation: tuple[Any, Any] | None = None, report: Report | None = None,
            resume: Any = None) -> Any:
        """``resume``: a paused fit's checkpoint (the model's and optimizer's variables,
        the epoch and the shuffle's random state): training goes on from it, as it would
        have had it never paused."""
        if self.batcher is not None and resume is None:  # a member of a vectorized batch?
            model = self.batcher.fit(self, params, x, y, dataset, validation, report)
            if model is not None:
                return model
        return self.fit_one(params, x, y, dataset, validation=validation, report=report,
                            resume=resume)

    def prepared(self, params: dict[str, Any], y: Any, dataset: Dataset) -> tuple[Any, Any]:
        """A fresh session, the seed, the model; the target as the model trains on it."""
        import numpy as np

        keras = self.keras()
        compiled = self.config["trainer"] == "compiled"
        # a full collection costs ~0.2 s: the compiled trainer leaves cycles to Python's gc
        keras.backend.clear_session(free_memory=not compiled)
        if self.seed is not None:
            set_seed(keras, int(self.seed))
        model = self.build(params, dataset)
        y = np.asarray(y, dtype=np.float32 if dataset.task == "regression" else np.int64)
        if dataset.task == "regression" and not self.config["model"]:
            # train on a standardized target, predict on the original scale
            scale = (float(y.mean()), float(y.std()) or 1.0)
            y = (y - scale[0]) / scale[1]
            model._hpo_target_scale = scale
        return model, y

    def fit_one(self, params: dict[str, Any], x: Any, y: Any, dataset: Dataset, *,
                validation: tuple[Any, Any] | None = None, report: Report | None = None,
                resume: Any = None) -> Any:
        """One trial with this backend's trainer."""
        import numpy as np

        from hpo_framework.errors import TrialPaused

        keras = self.keras()
        padded = resume is None or bool(resume.get("padded"))
        if self.config["trainer"] == "compiled" and self.config["pad"] and padded:
            if self.padded is None:
                from .padded import PaddedMLP

                self.padded = PaddedMLP()
            trained = self.padded.fit_alone(self, params, np.asarray(x, dtype=np.float32), y,
                                            dataset, validation, report, resume)
            if trained is not None:
                return trained
        model, y = self.prepared(params, y, dataset)
        batch_size = int(self._value(params, "batch_size"))
        epochs = int(self._value(params, "epochs"))
        x = np.asarray(x, dtype=np.float32)
        if self.config["trainer"] == "compiled":
            from .trainer import EpochPrograms, compiled_fit

            if self.epoch_programs is None:
                self.epoch_programs = EpochPrograms()
            try:
                return compiled_fit(self, keras, model, x, y, dataset,
                                    programs=self.epoch_programs, epochs=epochs,
                                    batch_size=batch_size, validation=validation,
                                    report=report, resume=resume)
            except BaseException:  # diverged, pruned (TrialPruned propagates), interrupted
                self.release(model)
                raise
        best = self.best_epoch(report, validation, resume)
        watch = _epoch_watch(keras, self, dataset, validation, report, best)
        # no validation_data: the callback scores the validation rows with one eager call per
        # epoch, so Keras traces no test function (seconds per trial on small data, and
        # memory TensorFlow never gives back). One call per epoch, on the rows in this
        # trial's numpy order: the compiled trainer's batches, on either engine
        shuffle = self.rng("shuffle")
        first = 0
        if resume is not None:
            first = load_checkpoint(keras, model, shuffle, resume)
        for epoch in range(first, epochs):
            order = shuffle.permutation(len(x))
            try:
                model.fit(x[order], y[order], initial_epoch=epoch, epochs=epoch + 1,
                          batch_size=batch_size, shuffle=False, callbacks=[watch],
                          verbose=2 if self.verbose else 0)
            except TrialPaused as exc:
                exc.checkpoint = {**checkpoint_of(keras, model, shuffle, epoch + 1),
                                  **best.state()}
                self.release(model)
                raise
            if watch.diverged is not None or model.stop_training:
                break
        if watch.diverged is not None:
            epoch, loss = watch.diverged
            self.release(model)
            raise RuntimeError(f"diverged: loss became {loss} at epoch {epoch}")
        restore_best(model, best)
        return model

    def best_epoch(self, report: Report | None, validation: Any, resume: Any = None
                   ) -> BestEpoch:
        """``score=best``'s tracker of one trial (inactive for ``score=last`` or without
        per-epoch validation); a resumed trial's from its checkpoint."""
        return BestEpoch(report, self.config["score"] == "best" and validation is not None,
                         state=resume)

    def final_params(self, params: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
        """With ``score=best`` the final retrain trains as many epochs as the best trial's
        best epoch (``score_epoch``; its mean over k-fold's folds, rounded)."""
        if self.config["score"] != "best" or not metrics.get("score_epoch"):
            return params
        return {**params, "epochs": max(1, int(round(float(metrics["score_epoch"]))))}

    def n_params(self, model: Any) -> int | None:
        """Trainable parameters: the sizes of the model's trainable weights (Keras's
        ``count_params`` of them), the built-in MLP's or a ``--model`` network's."""
        return count_params(model)

    def predict_proba(self, model: Any, x: Any) -> Any | None:
        """Class probabilities (or regression outputs), computed in large batches."""
        import numpy as np

        keras = self.keras()
        last = getattr(model, "_hpo_last_output", None)
        if last is not None and last[0] is x:  # scored just now, after the last epoch
            return rescaled(model, last[1])
        x = np.asarray(x, dtype=np.float32)
        parts = [keras.ops.convert_to_numpy(model(x[i:i + PREDICT_BATCH], training=False))
                 for i in range(0, len(x), PREDICT_BATCH)]
        out = np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)
        return rescaled(model, out)

    def predict(self, model: Any, x: Any) -> Any:
        out = self.predict_proba(model, x)
        return out.reshape(len(out)) if out.shape[-1] == 1 else out.argmax(axis=1)

    def score(self, model: Any, x: Any, y: Any, dataset: Dataset,
              metrics: Sequence[Metric] = ()) -> dict[str, float]:
        """Every metric of the task and each of ``metrics``, from one forward pass; with
        ``score=best`` also ``score_epoch``, the epoch whose weights the model has."""
        from hpo_framework.contracts.metrics import score_all

        out = self.predict_proba(model, x)
        if dataset.task == "regression":
            pred, proba = out.reshape(len(out)), None
        else:
            pred, proba = out.argmax(axis=1), out
        scores = score_all(dataset.task, y, pred, proba)
        scores.update(scored(metrics, y, pred, proba, skip=scores))
        epoch = getattr(model, "_hpo_score_epoch", None)
        if epoch is not None:
            scores["score_epoch"] = float(epoch)
        return scores

    def save(self, model: Any, path: str) -> str:
        if not path.endswith((".keras", ".h5")):
            path += ".keras"
        model.save(path)
        return path

    def release(self, model: Any) -> None:
        """Drop the graph, the optimizer state and the weights of this trial."""
        del model
        keras = self.keras()
        if self.config["trainer"] == "compiled":
            keras.backend.clear_session(free_memory=False)
            gc.collect(1)  # the young generations: what one trial left, in milliseconds
            return
        keras.backend.clear_session()
        gc.collect()
        if keras.backend.backend() == "tensorflow":
            # TensorFlow keeps every trial's compiled kernels: most of what a long study
            # would otherwise grow by (tensorflow#61791). JAX's memory stays flat as it is.
            try:
                from tensorflow.python.eager import context

                context.context().clear_kernel_cache()
            except Exception:  # a private API: losing it costs memory, not correctness
                pass


class DrawnWeights:
    """Keras's default initial weights of a Dense layer (Glorot-uniform kernel, zero bias)
    drawn with numpy: the same numbers on TensorFlow and on JAX, and no XLA compile per new
    weight shape (Keras on JAX compiles its random initializers, about 0.4 s each)."""

    def __init__(self, rng: Any) -> None:
        self.rng = rng

    def glorot_uniform(self, shape: Any, dtype: Any = None) -> Any:
        import numpy as np

        fan_in, fan_out = (int(np.prod(shape[:-1])), int(shape[-1])) if len(shape) > 1 \
            else (int(shape[0]), int(shape[0]))
        limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
        return self.rng.uniform(-limit, limit, size=tuple(shape)).astype(np.float32)

    def zeros(self, shape: Any, dtype: Any = None) -> Any:
        import numpy as np

        return np.zeros(tuple(shape), dtype=np.float32)


def set_seed(keras: Any, seed: int) -> None:
    """``keras.utils.set_random_seed`` without importing TensorFlow on JAX (it seeds TF too,
    when installed: seconds of import and a larger heap for every later collection)."""
    if keras.backend.backend() != "jax":
        keras.utils.set_random_seed(seed)
        return
    import random

    import numpy as np

    try:
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils

        global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    except (ImportError, AttributeError):  # Keras moved its internals: the public way
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)


def validation_values(backend: KerasBackend, model: Any, validation: tuple[Any, Any],
                      task: str, epsilon: float, report: Report | None = None
                      ) -> dict[str, float]:
    """val_loss, val_accuracy (and the study's metrics, for ``report``) from one forward
    pass over the validation rows."""
    xv, yv = validation
    return values_from_output(backend.predict_proba(model, xv), yv, task, epsilon, report)


_CALLBACK_CLASS: Any = None


def _epoch_watch(keras: Any, backend: KerasBackend, dataset: Dataset,
                 validation: tuple[Any, Any] | None, report: Report | None,
                 best: BestEpoch | None = None) -> Any:
    """A callback that reports validation values per epoch and stops training on a NaN or
    infinite loss (``diverged`` then holds the epoch and the loss). The class is made once:
    Keras is imported lazily, and a new class per trial would be one more thing to keep."""
    global _CALLBACK_CLASS
    if _CALLBACK_CLASS is None:
        class EpochWatch(keras.callbacks.Callback):
            def __init__(self, report: Report | None, values: Any, best: Any) -> None:
                super().__init__()
                self.report, self.values, self.best = report, values, best
                self.diverged: tuple[int, float] | None = None

            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                loss = float((logs or {}).get("loss", 0.0))
                if not math.isfinite(loss):
                    self.diverged = (epoch + 1, loss)
                    self.model.stop_training = True
                    return
                if self.report is not None and self.values is not None:
                    values = self.values(self.model)
                    if self.best is not None:
                        self.best.update(epoch + 1, values,
                                         lambda: weights_of(keras, self.model))
                    self.report(epoch + 1, values)

        _CALLBACK_CLASS = EpochWatch
    values = None
    if validation is not None and report is not None:
        import numpy as np

        xv = np.asarray(validation[0], dtype=np.float32)
        yv = np.asarray(validation[1])
        eps = float(keras.config.epsilon())

        def values(model: Any) -> dict[str, float]:
            return validation_values(backend, model, (xv, yv), dataset.task, eps, report)

    return _CALLBACK_CLASS(report, values, best)
