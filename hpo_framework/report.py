"""The old home of tables and exports; they live in :mod:`hpo_framework.results` now.

Kept so that ``from hpo_framework.report import load_study, summary`` goes on working.
"""

from __future__ import annotations

from .results.exports import (
    comparison_markdown,
    study_report,
    to_csv,
    to_json,
    to_markdown,
    write_comparison,
    write_study_files,
    write_study_output,
)
from .results.format import fmt
from .results.model import StudyView, as_view, load_study, open_storage
from .results.stats import (
    REPEAT_COLUMNS,
    SUMMARY_COLUMNS,
    aggregate,
    best_so_far,
    summary,
    trial_rows,
    wall_time,
)

__all__ = [
    "REPEAT_COLUMNS", "SUMMARY_COLUMNS", "StudyView", "aggregate", "as_view", "best_so_far",
    "comparison_markdown", "fmt", "load_study", "open_storage", "study_report", "summary",
    "to_csv", "to_json", "to_markdown", "trial_rows", "wall_time", "write_comparison",
    "write_study_files", "write_study_output",
]
