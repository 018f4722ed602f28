"""Results: what a study's trials mean, read from storage, and the ways to show them.

One package, importing downwards only (trial, space, errors, storage; never the study
loop, jobs or the CLI):

- :mod:`.model`: the read model (``StudyView``) and read-only opening of a storage file;
- :mod:`.stats`: best so far, summaries, per-seed aggregates, trial rows;
- :mod:`.importance`: parameter importances;
- :mod:`.exports`: markdown, CSV, JSON and the files of ``--output DIR``;
- :mod:`.figures`: PNG plots (matplotlib); :mod:`.interactive`: the same figures as
  Plotly specs, shared by the HTML report and the dashboard; :mod:`.html`: the
  self-contained HTML report.

Heavy libraries (matplotlib, numpy, scikit-learn) are imported inside functions only.
"""

from .format import fmt
from .model import StudyView, as_view, load_study, open_storage
from .stats import (
    REPEAT_COLUMNS,
    SUMMARY_COLUMNS,
    aggregate,
    best_so_far,
    median,
    summary,
    trial_rows,
    wall_time,
)

__all__ = [
    "REPEAT_COLUMNS", "SUMMARY_COLUMNS", "StudyView", "aggregate", "as_view", "best_so_far",
    "fmt", "load_study", "median", "open_storage", "summary", "trial_rows", "wall_time",
]
