"""The old home of the plots; they live in :mod:`hpo_framework.results` now
(PNG figures in ``results.figures``, the HTML report in ``results.html``)."""

from __future__ import annotations

from .results.figures import (
    best_so_far_figure,
    best_so_far_plot,
    generation_stats,
    generations_figure,
    generations_plot,
    heatmap_figure,
    heatmap_plot,
    parallel_figure,
    parallel_plot,
    params_figure,
    params_plot,
    study_plots,
)
from .results.html import comparison_html, html_table, study_html

__all__ = [
    "best_so_far_figure", "best_so_far_plot", "comparison_html", "generation_stats",
    "generations_figure", "generations_plot", "heatmap_figure", "heatmap_plot", "html_table",
    "parallel_figure", "parallel_plot", "params_figure", "params_plot", "study_html",
    "study_plots",
]
