"""A scikit-learn model that holds a study mid-run, for the Ctrl-C and kill tests.

Once ``$HPO_TEST_GATE_AFTER`` fits (default 2) have finished (each leaves a ``done-*`` file
in the directory ``$HPO_TEST_GATE``), every further fit waits until ``$HPO_TEST_GATE/go``
exists. A driver running it therefore stops with finished trials and running ones, and
stays so until the test opens the gate: tests act on that state, never after some time.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from sklearn.linear_model import LogisticRegression

SPACE = "C: {type: float, low: 0.01, high: 10, log: true}\n"


class GatedLogisticRegression(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        gate = Path(os.environ["HPO_TEST_GATE"])
        if len(list(gate.glob("done-*"))) >= int(os.environ.get("HPO_TEST_GATE_AFTER", "2")):
            while not (gate / "go").exists():
                time.sleep(0.01)
        fitted = super().fit(X, y, sample_weight)
        (gate / f"done-{uuid.uuid4().hex}").touch()
        return fitted


def build(params, input_shape, n_classes):
    return GatedLogisticRegression(C=params["C"], max_iter=300)


def gated_run(tmp_path: Path, after: int = 2) -> tuple[list[str], dict[str, str], Path]:
    """hpo-run options that train this model (with its space file), the environment that
    sets the gate, and the gate directory (touch ``gate / "go"`` to let fits through)."""
    gate, space = tmp_path / "gate", tmp_path / "gated-space.yaml"
    gate.mkdir(exist_ok=True)
    space.write_text(SPACE)
    env = {**os.environ, "HPO_TEST_GATE": str(gate), "HPO_TEST_GATE_AFTER": str(after)}
    here = Path(__file__).resolve().parent
    return ["--model", f"{here / 'gated_model.py'}:build", "--space", str(space)], env, gate
