"""Figure of the magnitude-law family: the magnitude–frequency distribution with every
fitted law and its 90 % band on one figure (``MagnitudeLaw.report_figures``,
:func:`pystats.compare`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ._base import new_figure
from .gr import thinned_params

if TYPE_CHECKING:
    from ..fit import Fit

__all__ = ["laws_figure", "mu_of_t_figure"]


def laws_figure(fits: Mapping[str, Fit], prob: float = 0.9) -> Figure:
    """Observed ``N(>= m)`` and, for each fit, ``n_true S(m)`` with its ``prob`` band.

    Parameters
    ----------
    fits : mapping
        Label -> fit of :class:`pystats.MagnitudeLaw` (the same events).
    prob : float
        Mass of the band.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(6.4, 4.4)
    ax = fig.add_subplot(1, 1, 1)
    first = next(iter(fits.values()))
    m = np.sort(np.asarray(first.data.observed["magnitude"], dtype=float))
    uniq, idx = np.unique(m, return_index=True)
    ax.semilogy(uniq, m.size - idx, "k.", ms=3, label="observed N(≥m)")
    grid = np.linspace(float(first.data.values["m_t"]), float(m.max()) + 0.5, 200)
    lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
    for label, fit in fits.items():
        model = fit.model
        params = thinned_params(fit)
        v = fit.data.values
        surv = np.exp(model.log_survival(params, grid, float(v["m_t"])))
        n_true = float(v["n"]) / model.detected_fraction(fit, params)
        curve = n_true[:, None] * surv
        line, = ax.semilogy(grid, np.median(curve, axis=0), lw=1.3, label=label)
        if curve.shape[0] > 1:
            ax.fill_between(grid, np.quantile(curve, lo_q, axis=0),
                            np.quantile(curve, hi_q, axis=0), color=line.get_color(), alpha=0.2)
    ax.set_ylim(0.5, 3.0 * m.size)
    ax.set_xlabel("magnitude m")
    ax.set_ylabel("number of events with magnitude ≥ m")
    ax.set_title(f"Magnitude–frequency distribution and fitted laws ({prob:.0%} bands)")
    ax.legend(fontsize=8)
    return fig


def mu_of_t_figure(fit: Fit, prob: float = 0.9) -> Figure:
    """The detection ``mu(t)`` of a ``MagnitudeLaw(detection=True, mu_trend="gp")`` fit
    (mean and ``prob`` band) over the recorded magnitudes against time.

    Parameters
    ----------
    fit : Fit
        A fit of :class:`pystats.MagnitudeLaw` with ``mu_trend="gp"``.
    prob : float
        Mass of the band.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.asarray(fit.data.observed["time"], dtype=float)
    m = np.asarray(fit.data.observed["magnitude"], dtype=float)
    band = fit.model.mu_band(fit, np.linspace(t.min(), t.max(), 200), prob=prob)
    fig = new_figure(6.4, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(t, m, "k.", ms=1.5, alpha=0.4, label="recorded magnitudes")
    ax.fill_between(band["time"], band["lower"], band["upper"], color="C1", alpha=0.3,
                    label=f"{prob:.0%} band")
    ax.plot(band["time"], band["mu"], "C1", lw=1.6, label=f"mu(t), {fit.method}")
    ax.set_xlabel("time (days)")
    ax.set_ylabel("magnitude")
    ax.set_title("Detection: magnitude recorded with probability 1/2")
    ax.legend(fontsize=8)
    return fig
