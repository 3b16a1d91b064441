"""The b-positive estimator (van der Elst 2021) in moving windows of events: the robust
frequentist baseline of the time-varying b-value."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import integer

__all__ = ["b_positive_windows"]


def b_positive_windows(times: Any, magnitudes: Any, n_events: int = 400, step: int = 100,
                       delta_m: float | None = None, prob: float = 0.9) -> Any:
    """b-positive in windows of ``n_events`` consecutive events, every ``step`` events.

    Parameters
    ----------
    times, magnitudes : array_like
        Event times (numbers) and magnitudes; sorted by time here (inputs are not modified).
    n_events, step : int
        Window length and step, in events.
    delta_m : float, optional
        Bin width (``None``: inferred by :func:`pystats.gr.estimators.b_positive`).
    prob : float
        Mass of the normal-approximation interval.

    Returns
    -------
    pandas.DataFrame
        ``t_start``, ``t_end``, ``t_mid`` (median time of the window), ``b``, ``se``,
        ``lower``, ``upper``, ``n_differences``.
    """
    import pandas as pd
    from scipy.special import ndtri

    from ..gr.estimators import b_positive

    n_events = integer("n_events", n_events, 10)
    step = integer("step", step, 1)
    t = np.asarray(times, dtype=float)
    m = np.asarray(magnitudes, dtype=float)
    order = np.argsort(t, kind="stable")
    t, m = t[order], m[order]
    z = float(ndtri(0.5 + prob / 2))
    rows = []
    for start in range(0, max(1, t.size - n_events + 1), step):
        sl = slice(start, start + n_events)
        res = b_positive(m[sl], delta_m=delta_m)
        rows.append({"t_start": t[sl][0], "t_end": t[sl][-1], "t_mid": float(np.median(t[sl])),
                     "b": res.b, "se": res.se, "lower": res.b - z * res.se,
                     "upper": res.b + z * res.se, "n_differences": res.n})
    return pd.DataFrame(rows)
