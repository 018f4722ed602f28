"""What an executor may ask of an objective built from named plugins.

An objective is any callable (see :mod:`.objective`). The one that ``hpo-run`` and
``optimize(backend=...)`` build (a backend trained and scored on a dataset by an
evaluator) can do more, and executors that need more ask for it by protocol, never by
reading its attributes: ``isinstance(objective, DatasetObjective)``. Both protocols are
runtime-checkable; an objective of your own may implement them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .backend import Backend
from .dataset import Dataset


@runtime_checkable
class DatasetObjective(Protocol):
    """An objective that evaluates on a dataset it loads itself. A remote executor loads
    the dataset once on the driver and hands it to each worker's copy of the objective, so
    that workers neither need the data file nor spend the time to load it (the Dask
    executor does)."""

    def dataset(self) -> Dataset:
        """The dataset, loaded once in this process."""
        ...

    def use_dataset(self, dataset: Dataset) -> None:
        """Evaluate on ``dataset`` (loaded elsewhere, by :meth:`dataset`) instead of loading
        it; called before the first trial in the process, and again harmlessly."""
        ...


@runtime_checkable
class BackendObjective(Protocol):
    """An objective that trains one registered backend. An executor that needs other
    backend options may read and set them before the first trial (the vectorized executor
    needs the keras backend's compiled trainer), and may reach the backend instance the
    trials of this process use."""

    @property
    def backend_options(self) -> Mapping[str, Any]:
        """The backend's options as the user gave them (a copy)."""
        ...

    def backend_class(self) -> type[Backend]:
        """The registered backend class, not built yet."""
        ...

    def set_backend_options(self, **options: Any) -> None:
        """Change backend options before the first trial; what was built is built again."""
        ...

    def backend(self) -> Backend:
        """The backend instance this process's trials use, built (and warmed up) once."""
        ...
