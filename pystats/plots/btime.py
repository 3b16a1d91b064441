"""Figure of the time-varying-b family: b(t) with its band, the b-positive baseline in
moving windows, and the magnitudes in time (``TimeVaryingB.report_figures``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ._base import new_figure

if TYPE_CHECKING:
    from ..fit import Fit

__all__ = ["b_of_t_figure"]


def b_of_t_figure(fit: Fit, prob: float = 0.9) -> Figure:
    """b(t) (mean and ``prob`` band) over the catalogue, the b-positive estimate in windows
    of events (van der Elst 2021; with its normal-approximation interval) and, below, the
    magnitudes fitted against time.

    Parameters
    ----------
    fit : Fit
        A fit of :class:`pystats.btime.model.TimeVaryingB`.
    prob : float
        Mass of the band.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..btime.windows import b_positive_windows

    v = fit.data.values
    t = np.asarray(v["time"], dtype=float)
    m = np.asarray(fit.data.observed["magnitude"], dtype=float)
    band = fit.model.b_band(fit, np.linspace(t[0], t[-1], 200), prob=prob)
    fig = new_figure(6.4, 5.2)
    ax, ax_m = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    ax.fill_between(band["time"], band["lower"], band["upper"], color="C0", alpha=0.25,
                    label=f"{prob:.0%} band")
    ax.plot(band["time"], band["b"], "C0", lw=1.4, label=f"b(t), {fit.method}")
    n_win = int(min(400, max(50, t.size // 5)))
    if t.size >= 2 * n_win:
        w = b_positive_windows(t, m, n_events=n_win, step=max(1, n_win // 2),
                               delta_m=float(v["width"]) or None, prob=prob)
        ax.errorbar(w["t_mid"], w["b"], yerr=[w["b"] - w["lower"], w["upper"] - w["b"]],
                    fmt="k.", ms=4, lw=0.8, label=f"b-positive, {n_win} events")
    ax.set_ylabel("b-value")
    ax.set_title(f"b-value in time ({fit.model.options['kind']})")
    ax.legend(fontsize=8)
    ax_m.plot(t, m, "k.", ms=1.5)
    ax_m.set_xlabel("time (days)")
    ax_m.set_ylabel("magnitude")
    return fig
