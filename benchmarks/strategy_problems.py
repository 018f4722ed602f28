"""The problems of the strategy benchmark (``benchmarks/strategies.py``).

Every problem is minimized and written in the core's space schema; the peers get the same
space through their own APIs (the benchmark translates it). Characters covered: smooth
and separable, ill-conditioned, multimodal, plateaus, noisy, high-valued (heavy-tailed
losses), 2 to 10 dimensions, integers, log scales, categoricals, conditional parameters,
and real scikit-learn tuning problems on its bundled datasets (six models, four datasets).
The list was fixed before ``bayes`` was tuned on it; nothing was dropped for its results.

A noisy problem returns a noisy value to the optimizer; its ``truth`` (the noiseless
value) is what the benchmark reports for the configuration the optimizer found best.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Problem:
    name: str
    character: str
    space: dict[str, Any]
    loss: Callable[[dict[str, Any]], float]
    truth: Callable[[dict[str, Any]], float] | None = None
    quick: bool = False  # part of --quick
    extra: dict[str, Any] = field(default_factory=dict)


def _floats(names: list[str], low: float, high: float) -> dict[str, Any]:
    return {n: {"type": "float", "low": low, "high": high} for n in names}


def _vec(p: dict[str, Any], d: int) -> np.ndarray:
    return np.array([p[f"x{i}"] for i in range(d)], dtype=float)


def _xs(d: int) -> list[str]:
    return [f"x{i}" for i in range(d)]


def _noise(p: dict[str, Any], scale: float) -> float:
    """A fixed Gaussian draw per configuration (the same configuration, the same value)."""
    digest = hashlib.sha256(repr(sorted(p.items())).encode()).digest()
    return scale * float(np.random.default_rng(int.from_bytes(digest[:8], "little"))
                         .standard_normal())


# synthetic functions ------------------------------------------------------------------

def sphere(x: np.ndarray) -> float:
    return float(np.sum((x - 1.3) ** 2))


def ellipsoid(x: np.ndarray) -> float:
    w = 10.0 ** (6.0 * np.arange(len(x)) / (len(x) - 1))
    return float(np.sum(w * (x - 1.0) ** 2))


_ROT = np.linalg.qr(np.random.default_rng(7).standard_normal((10, 10)))[0]


def rotated_ellipsoid(x: np.ndarray) -> float:
    w = 10.0 ** (3.0 * np.arange(len(x)) / (len(x) - 1))
    z = _ROT[: len(x), : len(x)] @ (x - 0.5)
    return float(np.sum(w * z ** 2))


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(-20 * math.exp(-0.2 * math.sqrt(np.sum(x ** 2) / d))
                 - math.exp(np.sum(np.cos(2 * math.pi * x)) / d) + 20 + math.e)


def rastrigin(x: np.ndarray) -> float:
    return float(10 * len(x) + np.sum(x ** 2 - 10 * np.cos(2 * math.pi * x)))


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    return float(math.sin(math.pi * w[0]) ** 2
                 + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
                 + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2))


def styblinski_tang(x: np.ndarray) -> float:
    return float(np.sum(x ** 4 - 16 * x ** 2 + 5 * x) / 2)


def schwefel(x: np.ndarray) -> float:
    return float(418.9829 * len(x) - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


def michalewicz(x: np.ndarray) -> float:
    i = np.arange(1, len(x) + 1)
    return float(-np.sum(np.sin(x) * np.sin(i * x ** 2 / math.pi) ** 20))


def step(x: np.ndarray) -> float:
    return float(np.sum(np.floor(x - 0.7 + 0.5) ** 2))


def branin(x: np.ndarray) -> float:
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return float((x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10)


def goldstein_price(x: np.ndarray) -> float:
    x1, x2 = x
    a = 1 + (x1 + x2 + 1) ** 2 * (19 - 14 * x1 + 3 * x1 ** 2 - 14 * x2 + 6 * x1 * x2
                                  + 3 * x2 ** 2)
    b = 30 + (2 * x1 - 3 * x2) ** 2 * (18 - 32 * x1 + 12 * x1 ** 2 + 48 * x2 - 36 * x1 * x2
                                       + 27 * x2 ** 2)
    return float(a * b)


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547],
                         [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann(x: np.ndarray) -> float:
    a, p = (_H3_A, _H3_P) if len(x) == 3 else (_H6_A, _H6_P)
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(a * (x - p) ** 2, axis=1))))


def _synthetic(name: str, character: str, fn: Callable[[np.ndarray], float], d: int,
               low: float, high: float, noise: float = 0.0, quick: bool = False) -> Problem:
    def truth(p: dict[str, Any]) -> float:
        return fn(_vec(p, d))

    loss = truth if not noise else (lambda p: truth(p) + _noise(p, noise))
    return Problem(name, character, _floats(_xs(d), low, high), loss,
                   truth if noise else None, quick)


# mixed synthetic spaces ---------------------------------------------------------------

_OFFSET = {"a": 0.8, "b": 0.0, "c": 0.5, "d": 1.5}


def mixed(p: dict[str, Any]) -> float:
    """float + log float + log int + int + categorical, with interactions."""
    shift = {"a": 0.5, "b": -1.0, "c": 0.0, "d": 2.0}[p["kind"]]
    return ((p["x"] - shift) ** 2 + (math.log10(p["lr"]) + 2.5) ** 2
            + 0.3 * (math.log2(p["width"]) - 5) ** 2 + 0.2 * abs(p["depth"] - 7)
            + _OFFSET[p["kind"]] + 0.5 * (p["x"] - shift) * (math.log10(p["lr"]) + 2.5))


MIXED_SPACE = {"x": {"type": "float", "low": -3.0, "high": 3.0},
               "lr": {"type": "float", "low": 1e-6, "high": 1.0, "log": True},
               "width": {"type": "int", "low": 1, "high": 512, "log": True},
               "depth": {"type": "int", "low": 1, "high": 12},
               "kind": ["a", "b", "c", "d"]}


def conditional(p: dict[str, Any]) -> float:
    """Three model families, each with its own parameters (active only for it)."""
    if p["family"] == "linear":
        return 1.0 + (math.log10(p["reg"]) + 1) ** 2
    if p["family"] == "tree":
        return 0.3 + 0.05 * abs(p["depth"] - 9) + (p["frac"] - 0.7) ** 2 * 2
    return (0.1 + (math.log10(p["gamma"]) + 2) ** 2 * 0.5 + (math.log10(p["c"]) - 1) ** 2 * 0.3
            + (0.4 if p["kernel"] == "poly" else 0.0))


CONDITIONAL_SPACE = {
    "family": ["linear", "tree", "kernel"],
    "reg": {"type": "float", "low": 1e-4, "high": 10.0, "log": True,
            "condition": {"family": "linear"}},
    "depth": {"type": "int", "low": 1, "high": 20, "condition": {"family": "tree"}},
    "frac": {"type": "float", "low": 0.1, "high": 1.0, "condition": {"family": "tree"}},
    "gamma": {"type": "float", "low": 1e-5, "high": 10.0, "log": True,
              "condition": {"family": "kernel"}},
    "c": {"type": "float", "low": 1e-3, "high": 1e3, "log": True,
          "condition": {"family": "kernel"}},
    "kernel": {"type": "categorical", "choices": ["rbf", "poly"],
               "condition": {"family": "kernel"}},
}


def integer_quadratic(p: dict[str, Any]) -> float:
    n = np.array([p[f"n{i}"] for i in range(5)], dtype=float)
    w = np.array([1.0, 3.0, 10.0, 30.0, 100.0])
    return float(np.sum(w * (n - np.array([3, 17, 8, 41, 25])) ** 2))


INTEGER_SPACE = {f"n{i}": {"type": "int", "low": 0, "high": 50} for i in range(5)}


# scikit-learn tuning problems on bundled datasets --------------------------------------

_DATA: dict[str, Any] = {}


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name not in _DATA:
        from sklearn import datasets
        from sklearn.preprocessing import StandardScaler

        x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        if name == "digits":  # a fixed subsample keeps one trial near 0.1 s
            idx = np.random.default_rng(0).permutation(len(y))[:600]
            x, y = x[idx] / 16.0, y[idx]
        else:
            x = StandardScaler().fit_transform(x)
        _DATA[name] = (x, y)
    return _DATA[name]


def _cv(model: Any, dataset: str, scoring: str = "accuracy") -> float:
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    x, y = _data(dataset)
    splitter = (KFold if scoring != "accuracy" else StratifiedKFold)(3, shuffle=True,
                                                                     random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            score = float(np.mean(cross_val_score(model, x, y, cv=splitter, scoring=scoring,
                                                  error_score="raise")))
        except (ValueError, ArithmeticError):
            score = math.nan
    if not math.isfinite(score):  # a diverged fit: the same penalty for every method
        return 1.0 if scoring == "accuracy" else 1e5
    return 1.0 - score if scoring == "accuracy" else min(-score, 1e5)


def mlp_digits(p: dict[str, Any]) -> float:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(p["units"],) * p["n_layers"], solver=p["solver"],
                          learning_rate_init=p["learning_rate_init"], alpha=p["alpha"],
                          momentum=p.get("momentum", 0.9), max_iter=8, random_state=0)
    return _cv(model, "digits")


MLP_SPACE = {"n_layers": {"type": "int", "low": 1, "high": 3},
             "units": {"type": "int", "low": 4, "high": 64, "log": True},
             "solver": ["sgd", "adam"],
             "learning_rate_init": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
             "alpha": {"type": "float", "low": 1e-6, "high": 1.0, "log": True},
             "momentum": {"type": "float", "low": 0.0, "high": 0.99,
                          "condition": {"solver": "sgd"}}}


def svc_cancer(p: dict[str, Any]) -> float:
    from sklearn.svm import SVC

    model = SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"], degree=p.get("degree", 3),
                max_iter=20000)
    return _cv(model, "breast_cancer")


SVC_SPACE = {"C": {"type": "float", "low": 1e-3, "high": 1e3, "log": True},
             "gamma": {"type": "float", "low": 1e-5, "high": 10.0, "log": True},
             "kernel": ["rbf", "poly", "sigmoid"],
             "degree": {"type": "int", "low": 2, "high": 5, "condition": {"kernel": "poly"}}}


def knn_wine(p: dict[str, Any]) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(n_neighbors=p["n_neighbors"], weights=p["weights"], p=p["p"])
    return _cv(model, "wine")


KNN_SPACE = {"n_neighbors": {"type": "int", "low": 1, "high": 60},
             "weights": ["uniform", "distance"],
             "p": {"type": "float", "low": 1.0, "high": 4.0}}


def trees_cancer(p: dict[str, Any]) -> float:
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    cls = RandomForestClassifier if p["forest"] == "random" else ExtraTreesClassifier
    model = cls(n_estimators=p["n_estimators"], max_depth=p["max_depth"],
                min_samples_leaf=p["min_samples_leaf"], max_features=p["max_features"],
                criterion=p["criterion"], random_state=0)
    return _cv(model, "breast_cancer")


TREES_SPACE = {"forest": ["random", "extra"],
               "n_estimators": {"type": "int", "low": 3, "high": 25, "log": True},
               "max_depth": {"type": "int", "low": 1, "high": 12},
               "min_samples_leaf": {"type": "int", "low": 1, "high": 20},
               "max_features": {"type": "float", "low": 0.05, "high": 1.0},
               "criterion": ["gini", "entropy"]}


def kernel_ridge_diabetes(p: dict[str, Any]) -> float:
    from sklearn.kernel_ridge import KernelRidge

    model = KernelRidge(alpha=p["alpha"], kernel=p["kernel"], gamma=p["gamma"],
                        degree=p.get("degree", 3), coef0=1.0)
    return _cv(model, "diabetes", "neg_mean_squared_error")


KRR_SPACE = {"alpha": {"type": "float", "low": 1e-4, "high": 100.0, "log": True},
             "gamma": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
             "kernel": ["rbf", "laplacian", "polynomial"],
             "degree": {"type": "int", "low": 2, "high": 4,
                        "condition": {"kernel": "polynomial"}}}


def gbr_diabetes(p: dict[str, Any]) -> float:
    from sklearn.ensemble import GradientBoostingRegressor

    model = GradientBoostingRegressor(n_estimators=p["n_estimators"],
                                      learning_rate=p["learning_rate"], max_depth=p["max_depth"],
                                      subsample=p["subsample"],
                                      min_samples_leaf=p["min_samples_leaf"], random_state=0)
    return _cv(model, "diabetes", "neg_mean_squared_error")


GBR_SPACE = {"n_estimators": {"type": "int", "low": 5, "high": 60, "log": True},
             "learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
             "max_depth": {"type": "int", "low": 1, "high": 6},
             "subsample": {"type": "float", "low": 0.3, "high": 1.0},
             "min_samples_leaf": {"type": "int", "low": 1, "high": 40}}


def logreg_wine(p: dict[str, Any]) -> float:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=p["C"], l1_ratio=p["l1_ratio"], solver="saga", max_iter=200)
    return _cv(model, "wine")


LOGREG_SPACE = {"C": {"type": "float", "low": 1e-4, "high": 1e2, "log": True},
                "l1_ratio": {"type": "float", "low": 0.0, "high": 1.0}}


def problems() -> list[Problem]:
    s = _synthetic
    return [
        s("sphere-5", "smooth, separable", sphere, 5, -5.0, 5.0, quick=True),
        s("ellipsoid-8", "ill-conditioned (1e6), high-valued", ellipsoid, 8, -5.0, 5.0),
        s("rot-ellipsoid-10", "ill-conditioned, rotated, 10-d", rotated_ellipsoid, 10, -1.0, 2.0),
        s("rosenbrock-4", "curved valley", rosenbrock, 4, -2.0, 2.0, quick=True),
        s("rosenbrock-6-wide", "heavy-tailed (values to 1e7)", rosenbrock, 6, -5.0, 10.0),
        s("goldstein-price-2", "heavy-tailed (values to 1e6)", goldstein_price, 2, -2.0, 2.0,
          quick=True),
        s("branin-2", "smooth, three minima", branin, 2, -5.0, 15.0),
        s("hartmann-3", "multimodal, smooth", hartmann, 3, 0.0, 1.0),
        s("hartmann-6", "multimodal, smooth", hartmann, 6, 0.0, 1.0, quick=True),
        s("ackley-5", "multimodal, flat outer region", ackley, 5, -32.768, 32.768, quick=True),
        s("ackley-10", "multimodal, 10-d", ackley, 10, -32.768, 32.768),
        s("rastrigin-4", "highly multimodal", rastrigin, 4, -5.12, 5.12),
        s("levy-6", "multimodal", levy, 6, -10.0, 10.0),
        s("styblinski-tang-8", "multimodal, separable, 8-d", styblinski_tang, 8, -5.0, 5.0),
        s("schwefel-4", "deceptive (optimum at the edge)", schwefel, 4, -500.0, 500.0),
        s("michalewicz-5", "plateaus with narrow valleys", michalewicz, 5, 0.0, math.pi),
        s("step-5", "plateaus (piecewise constant)", step, 5, -5.0, 5.0),
        s("noisy-hartmann-6", "noisy (sd 0.1 of a 3.3 range)", hartmann, 6, 0.0, 1.0,
          noise=0.1, quick=True),
        s("noisy-sphere-4", "noisy (sd 1)", sphere, 4, -5.0, 5.0, noise=1.0),
        Problem("mixed-5", "float, log float, log int, int, categorical", MIXED_SPACE, mixed,
                quick=True),
        Problem("conditional-7", "conditional: three families with their own parameters",
                CONDITIONAL_SPACE, conditional, quick=True),
        Problem("integer-5", "integers only, ill-conditioned", INTEGER_SPACE, integer_quadratic),
        Problem("mlp-digits", "sklearn MLP on digits (600): 1 - 3-fold accuracy, conditional",
                MLP_SPACE, mlp_digits, quick=True),
        Problem("svc-cancer", "sklearn SVC on breast cancer: 1 - accuracy, conditional",
                SVC_SPACE, svc_cancer),
        Problem("knn-wine", "sklearn k-NN on wine: 1 - accuracy", KNN_SPACE, knn_wine),
        Problem("trees-cancer", "sklearn random/extra trees on breast cancer: 1 - accuracy",
                TREES_SPACE, trees_cancer),
        Problem("krr-diabetes", "sklearn kernel ridge on diabetes: 3-fold MSE, conditional",
                KRR_SPACE, kernel_ridge_diabetes, quick=True),
        Problem("gbr-diabetes", "sklearn gradient boosting on diabetes: 3-fold MSE",
                GBR_SPACE, gbr_diabetes),
        Problem("logreg-wine", "sklearn elastic-net logistic regression on wine",
                LOGREG_SPACE, logreg_wine),
    ]
