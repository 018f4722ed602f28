"""The protocols executors ask of an objective (contracts/pipeline.py), on the objective
hpo-run builds: its dataset travels to a process that has no data file."""

import pickle
import subprocess
import sys

import hpo_framework as hpo
from hpo_framework.jobs.pipeline import JobSpec, PipelineObjective

CHILD = r"""
import pickle, sys
objective, dataset = pickle.load(open(sys.argv[1], "rb"))
if dataset is not None:
    objective.use_dataset(dataset)
print("VALUE", objective({"alpha": 0.01})["value"])
"""


def _objective(tmp_path):
    rows = ["a,b,y"] + [f"{i % 7},{(3 * i) % 5},{int(i % 7 > 3)}" for i in range(120)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    return PipelineObjective(JobSpec(backend="sklearn", dataset="file", seed=0,
                                     dataset_options={"path": str(tmp_path / "data.csv")},
                                     backend_options={"max_iter": 5}))


def _run_elsewhere(tmp_path, objective, dataset):
    (tmp_path / "shipped.pkl").write_bytes(pickle.dumps((objective, dataset)))
    return subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "shipped.pkl")],
                          capture_output=True, text=True, timeout=300)


def test_the_pipeline_objective_implements_both_protocols(tmp_path):
    objective = _objective(tmp_path)
    assert isinstance(objective, hpo.DatasetObjective)
    assert isinstance(objective, hpo.BackendObjective)
    assert not isinstance(lambda params: 0.0, hpo.DatasetObjective)
    assert objective.backend_class().name == "sklearn"
    objective.set_backend_options(max_iter=7)
    assert objective.backend_options["max_iter"] == 7
    assert objective.backend().config["max_iter"] == 7


def test_a_shipped_dataset_needs_no_data_file_where_it_lands(tmp_path):
    objective = _objective(tmp_path)
    dataset = objective.dataset()
    (tmp_path / "data.csv").unlink()  # the worker's machine has no such file
    with_data = _run_elsewhere(tmp_path, objective, dataset)
    assert with_data.returncode == 0, with_data.stderr[-2000:]
    assert 0.0 <= float(with_data.stdout.split("VALUE")[1]) <= 1.0
    alone = _run_elsewhere(tmp_path, objective, None)  # without it the worker must load it
    assert alone.returncode != 0 and "data.csv" in alone.stderr
