"""Figures of an ``AftershockDetection`` fit for use on their own (``plot_detection(fit,
ax=None)`` and the others); the code lives with the other families' figures in
:mod:`pystats.plots.aftershock`."""

from ..plots.aftershock import (
    fitted_cumulative_counts,
    plot_cumulative,
    plot_detection,
    plot_detection_probability,
    plot_forecast,
    report_figures,
)

__all__ = [
    "fitted_cumulative_counts",
    "plot_cumulative",
    "plot_detection",
    "plot_detection_probability",
    "plot_forecast",
    "report_figures",
]
