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

from .._lazy import lazy_names

_WHERE = {
    "fmt": "format", "StudyView": "model", "as_view": "model", "load_study": "model",
    "open_storage": "model", "REPEAT_COLUMNS": "stats", "SUMMARY_COLUMNS": "stats",
    "aggregate": "stats", "best_so_far": "stats", "median": "stats", "summary": "stats",
    "trial_rows": "stats", "wall_time": "stats",
}
__all__ = sorted(_WHERE)
# names load on first use, so the CLI's start-up does not pay for the read model
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
