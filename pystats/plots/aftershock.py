"""Figures of the aftershock-detection family (``AftershockDetection.report_figures``), also
usable on their own.

Each ``plot_*`` function draws on ``ax`` (a matplotlib ``Axes``) or, with ``ax=None``, on a
new :class:`matplotlib.figure.Figure` that pyplot does not manage (``ax.figure``; works
under any backend, Agg included), and returns the ``Axes``:

* :func:`plot_detection`: the events in magnitude against log time with ``μ(t)``, the
  50 %-detection magnitude, and its 99.9 % band (the figure of Omi et al. 2013);
* :func:`plot_detection_probability`: ``q(M, t) = Φ((M − μ(t))/σ)`` on a grid;
* :func:`plot_cumulative`: observed against fitted cumulative counts of the detected
  events (:func:`fitted_cumulative_counts`);
* :func:`plot_forecast`: the forecast counts of ``M >= m`` events in a window, with their
  intervals and, given the catalogue, what happened.

:func:`report_figures` gives the four as ``(title, Figure)`` pairs for the HTML report.
The figures use only the family's public API (``detection_curve``,
``detection_probability``, ``Fit.predict``, the fit's estimates).

Examples
--------
>>> import numpy as np, pystats
>>> from pystats.aftershock import simulate_detected
>>> from pystats.plots.aftershock import plot_detection
>>> cat = simulate_detected(0.2, 0.01, 1.1, 2.3, 0.3, lambda t: 2.2 - 0.3 * np.log(t),
...                         M0=6.0, t_start=0.01, t_end=1.0, seed=3)
>>> model = pystats.AftershockDetection(mainshock_magnitude=6.0, n_inducing=8)
>>> fit = model.fit(cat, method="laplace", t_start=0.01, t_end=1.0, seed=1, draws=100,
...                 n_starts=1)  # doctest: +SKIP
>>> ax = plot_detection(fit)  # doctest: +SKIP
>>> ax.figure.savefig("detection.png")  # doctest: +SKIP

References
----------
Omi, T., Ogata, Y., Hirata, Y., & Aihara, K. (2013). Forecasting large aftershocks within
one day after the main shock. *Scientific Reports*, 3, 2218.
https://doi.org/10.1038/srep02218
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ._base import new_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..fit import Fit

__all__ = [
    "DETECTION_PROB",
    "TITLES",
    "fitted_cumulative_counts",
    "plot_cumulative",
    "plot_detection",
    "plot_detection_probability",
    "plot_forecast",
    "point_values",
    "report_figures",
]

DETECTION_PROB = 0.999
"""Mass of the ``μ(t)`` band (Omi et al. 2013 draw the 99.9 % band)."""
COUNT_PROB = 0.9
"""Mass of the pointwise Poisson interval around the fitted cumulative count."""
GL_NODES = 8
"""Gauss–Legendre nodes per log-time panel of :func:`fitted_cumulative_counts`."""
MIN_PANELS = 48
"""Fewest log-time panels of :func:`fitted_cumulative_counts` (its plotted points)."""
TITLES = {
    "detection": "Magnitude–time plot of the events with μ(t), the 50 %-detection magnitude",
    "probability": "Detection probability q(M, t) = Φ((M − μ(t)) / σ)",
    "cumulative": "Cumulative number of detected events: observed vs fitted",
    "forecast": "Forecast of the number of events M ≥ m (complete catalogue)",
}
"""The beginnings of the report's figure titles."""
_RATE_SCALARS = ("K", "c", "p", "beta", "sigma")


# ---------------------------------------------------------------------- helpers
def _axes(ax: Axes | None, width: float, height: float) -> Axes:
    if ax is not None:
        return ax
    return new_figure(width, height).add_subplot(1, 1, 1)


def _events(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Detected events in the window: days since the main shock, magnitudes."""
    v = fit.data.values
    return np.asarray(v["t"], dtype=float), np.asarray(v["m"], dtype=float)


def _window(fit: Fit) -> tuple[float, float]:
    v = fit.data.values
    return float(v["t_start"]), float(v["t_end"])


def point_values(fit: Fit) -> dict[str, float]:
    """``K, c, p, beta, sigma`` at the fit's point estimate.

    The optimum (``map``; the mode of a ``laplace`` fit, where ``detection_curve`` centres
    its ``μ``) with the model's fixed values and derived quantities at that point;
    without one (``nuts``) the posterior medians.
    """
    from ..summary import derived_draws

    fixed = {k: float(x) for k, x in dict(getattr(fit.model, "fixed", {}) or {}).items()}
    if fit.point is not None:
        point = {k: np.asarray(x, dtype=float) for k, x in fit.point.items()}
        values = {**dict(fit.model.derived(point, fit.data)), **point}
    else:
        draws = {**derived_draws(fit), **dict(fit.draws)}
        values = {k: np.median(np.asarray(draws[k], dtype=float), axis=(0, 1))
                  for k in _RATE_SCALARS if k in draws}
    values = {**values, **fixed}
    missing = [k for k in _RATE_SCALARS if k not in values]
    if missing:
        raise KeyError(f"the fit has no value of {', '.join(missing)}")
    return {k: float(np.asarray(values[k]).reshape(-1)[0]) for k in _RATE_SCALARS}


def _half_detection(fit: Fit, times: np.ndarray) -> np.ndarray:
    """The magnitude where ``detection_probability`` is 0.5 at each time (``map`` fits,
    which have no ``detection_curve``): linear interpolation of ``Φ⁻¹(q)`` in ``M``."""
    from scipy.special import ndtri

    _, m = _events(fit)
    m0 = float(fit.data.values["M0"])
    mags = np.arange(math.floor(float(m.min())) - 2.0, m0 + 0.5, 0.25)
    q = fit.model.detection_probability(fit, times=times, magnitudes=mags).to_numpy()
    z = ndtri(np.clip(q, 1e-15, 1 - 1e-15))
    return np.array([np.interp(0.0, row, mags) for row in np.maximum.accumulate(z, axis=1)])


def _mu_curve(fit: Fit, times: np.ndarray | None = None,
              prob: float = DETECTION_PROB) -> pd.DataFrame:
    """``detection_curve`` (``mu, lower, upper``); for a ``map`` fit the 50 % level of
    ``detection_probability`` with NaN bounds."""
    import pandas as pd

    if fit.method != "map":
        return fit.model.detection_curve(fit, times=times, prob=prob)
    ts, te = _window(fit)
    t = np.geomspace(ts, te, 200) if times is None else np.asarray(times, dtype=float)
    df = pd.DataFrame({"mu": _half_detection(fit, t), "lower": np.nan, "upper": np.nan},
                      index=pd.Index(t, name="time"))
    df.attrs["prob"] = None
    return df


def _rate_check(fit: Fit) -> None:
    rate = dict(fit.model.options).get("rate", "omori")
    if rate != "omori":
        from ..errors import MethodNotSupportedError

        raise MethodNotSupportedError(
            f"fitted cumulative counts are drawn for the Omori–Utsu rate; this fit has "
            f"rate={rate!r}")


# ---------------------------------------------------------------------- computations
def fitted_cumulative_counts(fit: Fit, prob: float = COUNT_PROB) -> pd.DataFrame:
    """Expected number of detected events in ``[t_start, t]`` at the point estimate.

    ``Λ(t) = ∫_{t_start}^{t} K (u + c)^(−p) exp(−β (μ(u) − M0) + β² σ²/2) du``, the time
    integral of the detected intensity (the magnitude integral in closed form), by
    8-node Gauss–Legendre quadrature in ``log u`` on at least 48 panels whose edges include
    the latent inducing inputs or nodes (where ``μ`` is not smooth), so the value at each
    panel edge is exact to rounding for a smooth ``μ`` between them.  ``μ(u)`` is
    ``detection_curve``'s ``mu`` (at the mode of a ``laplace`` fit, the posterior median for
    ``nuts``, the 50 % level of ``detection_probability`` for ``map``); the other
    parameters come from :func:`point_values`.

    Parameters
    ----------
    fit : Fit
        A fit of ``AftershockDetection``.
    prob : float
        Mass of the pointwise Poisson interval of the count given ``Λ(t)``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``time`` (days since the main shock, the panel edges from ``t_start``
        to ``t_end``); columns ``expected`` (``Λ``), ``lower``, ``upper`` (Poisson
        quantiles); ``attrs``: ``prob``, ``parameters``.
    """
    import pandas as pd
    from scipy.stats import poisson

    _rate_check(fit)
    ts, te = _window(fit)
    s0, s1 = math.log(ts), math.log(te)
    knots = np.asarray(fit.data.values.get("latent_x", [s0, s1]), dtype=float)
    knots = np.unique(np.clip(np.concatenate([[s0, s1], knots]), s0, s1))
    sub = max(1, math.ceil(MIN_PANELS / (knots.size - 1)))
    edges = np.concatenate([np.linspace(a, b, sub + 1)[:-1]
                            for a, b in itertools.pairwise(knots)] + [knots[-1:]])
    x, w = np.polynomial.legendre.leggauss(GL_NODES)
    half = 0.5 * np.diff(edges)[:, None]
    s = (0.5 * (edges[1:] + edges[:-1])[:, None] + half * x[None, :]).ravel()
    weights = (half * w[None, :]).ravel() * np.exp(s)  # dt = e^s ds
    t = np.exp(s)
    mu = _mu_curve(fit, times=t)["mu"].to_numpy()
    par = point_values(fit)
    m0 = float(fit.data.values["M0"])
    rate = par["K"] * (t + par["c"]) ** (-par["p"]) * np.exp(
        -par["beta"] * (mu - m0) + 0.5 * (par["beta"] * par["sigma"]) ** 2)
    per_panel = (weights * rate).reshape(-1, GL_NODES).sum(axis=1)
    expected = np.concatenate([[0.0], np.cumsum(per_panel)])
    times = np.exp(edges)
    times[0], times[-1] = ts, te
    df = pd.DataFrame({"expected": expected,
                       "lower": poisson.ppf((1 - prob) / 2, expected),
                       "upper": poisson.ppf((1 + prob) / 2, expected)},
                      index=pd.Index(times, name="time"))
    df.attrs.update({"prob": prob, "parameters": par})
    return df


# ---------------------------------------------------------------------- figures
def plot_detection(fit: Fit, ax: Axes | None = None, *, times: Any = None,
                   prob: float = DETECTION_PROB) -> Axes:
    """Magnitudes of the detected events against time since the main shock (log axis),
    with ``μ(t)`` and its ``prob`` band from ``detection_curve`` (for a ``map`` fit, which
    has no band, the 50 % level of ``detection_probability``).

    The line labelled ``"μ(t)"`` holds ``detection_curve(fit, times, prob)["mu"]``.
    """
    ax = _axes(ax, 8.0, 4.8)
    t, m = _events(fit)
    curve = _mu_curve(fit, times=times, prob=prob)
    x = curve.index.to_numpy(dtype=float)
    ax.scatter(t, m, s=5, color="0.35", alpha=0.6, lw=0, label=f"{t.size} detected events")
    if np.all(np.isfinite(curve["lower"])):
        ax.fill_between(x, curve["lower"], curve["upper"], color="tab:red", alpha=0.2, lw=0,
                        label=f"{curve.attrs['prob']:.1%} band")
    ax.plot(x, curve["mu"], color="tab:red", lw=1.6, label="μ(t)")
    ax.set_xscale("log")
    ax.set_xlabel("time since the main shock (days)")
    ax.set_ylabel("magnitude")
    how = ("map fit: the 50 % level of q(M, t), no band" if fit.method == "map"
           else f"{fit.method} fit")
    ax.set_title(f"50 %-detection magnitude μ(t) ({how})", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.2)
    return ax


def plot_detection_probability(fit: Fit, ax: Axes | None = None, *, times: Any = None,
                               magnitudes: Any = None, events: bool = True) -> Axes:
    """``q(M, t)`` from ``detection_probability`` as an image over log time and magnitude,
    with the 10, 50 and 90 % contours (and the events)."""
    ax = _axes(ax, 8.0, 4.8)
    t, m = _events(fit)
    ts, te = _window(fit)
    grid_t = np.geomspace(ts, te, 120) if times is None else np.asarray(times, dtype=float)
    if magnitudes is None:
        lo = math.floor(2.0 * float(m.min())) / 2.0 - 0.5
        hi = max(float(np.quantile(m, 0.99)) + 0.5, lo + 2.0)
        magnitudes = np.linspace(lo, hi, 100)
    q = fit.model.detection_probability(fit, times=grid_t, magnitudes=magnitudes)
    x = q.index.to_numpy(dtype=float)
    y = q.columns.to_numpy(dtype=float)
    mesh = ax.pcolormesh(x, y, q.to_numpy().T, vmin=0.0, vmax=1.0, cmap="viridis",
                         shading="auto")
    lines = ax.contour(x, y, q.to_numpy().T, levels=[0.1, 0.5, 0.9], colors="white",
                       linewidths=0.8)
    ax.clabel(lines, fmt="%.1f", fontsize=7)
    if events:
        ax.scatter(t, m, s=3, color="tab:red", alpha=0.5, lw=0, label="detected events")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_xscale("log")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_xlabel("time since the main shock (days)")
    ax.set_ylabel("magnitude M")
    ax.figure.colorbar(mesh, ax=ax, label="q(M, t)")
    ax.set_title("Probability that an event of magnitude M at time t is detected",
                 fontsize=10)
    return ax


def plot_cumulative(fit: Fit, ax: Axes | None = None, *, prob: float = COUNT_PROB) -> Axes:
    """Observed cumulative number of detected events against :func:`fitted_cumulative_counts`
    (line ``"fitted"``) with its pointwise Poisson ``prob`` interval."""
    ax = _axes(ax, 8.0, 4.6)
    t, _ = _events(fit)
    ts, te = _window(fit)
    fitted = fitted_cumulative_counts(fit, prob=prob)
    x = fitted.index.to_numpy(dtype=float)
    ax.step(np.concatenate([[ts], t, [te]]), np.concatenate([[0], np.arange(1, t.size + 1),
                                                             [t.size]]),
            where="post", color="0.15", lw=1.1, label="observed")
    ax.plot(x, fitted["expected"], color="tab:red", lw=1.3, label="fitted")
    ax.fill_between(x, fitted["lower"], fitted["upper"], color="tab:red", alpha=0.15, lw=0,
                    step=None, label=f"{prob:.0%} Poisson interval")
    ax.set_xscale("log")
    ax.set_xlabel("time since the main shock (days)")
    ax.set_ylabel("cumulative number of detected events")
    ax.set_title(f"{t.size} detected, {fitted['expected'].iloc[-1]:.1f} expected in "
                 f"[{ts:g}, {te:g}] d ({fit.method} fit)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, which="both", alpha=0.2)
    return ax


def _observed_counts(data: Any, t1: float, t2: float, mags: np.ndarray) -> np.ndarray:
    """Counts of events with ``M >= m`` and ``t1 <= t < t2`` (data's time axis)."""
    if isinstance(data, tuple) and len(data) == 2:
        times, mm = data
    elif hasattr(data, "times") and hasattr(data, "magnitudes"):
        times, mm = data.times, data.magnitudes
    else:
        times, mm = data["time"], data["magnitude"]
    times = np.asarray(times, dtype=float)
    mm = np.asarray(mm, dtype=float)
    inside = (times >= t1) & (times < t2)
    return np.array([int(np.sum(inside & (mm >= g))) for g in mags])


def plot_forecast(fit: Fit, ax: Axes | None = None, *, t1: Any = None, t2: Any = None,
                  magnitudes: Any = None, prob: float = 0.9, data: Any = None,
                  seed: int | None = None) -> Axes:
    """``Fit.predict`` counts of ``M >= m`` events in ``[t1, t2]`` (default: the day after
    the fitting window) with their ``prob`` intervals; ``data`` (a catalogue, a DataFrame
    with ``time`` and ``magnitude``, or ``(times, magnitudes)`` on the data's time axis)
    adds the observed counts."""
    ax = _axes(ax, 7.0, 4.6)
    _, m = _events(fit)
    m0 = float(fit.data.values["M0"])
    if magnitudes is None:
        start = min(math.floor(float(np.median(m))), math.floor(m0))
        magnitudes = np.arange(start, math.floor(m0) + 1e-9, 1.0)
    df = fit.predict(t1=t1, t2=t2, magnitudes=magnitudes, prob=prob, seed=seed)
    mags = df["magnitude"].to_numpy(dtype=float)
    mean = df["mean"].to_numpy(dtype=float)
    err = np.vstack([mean - df["lower"].to_numpy(float), df["upper"].to_numpy(float) - mean])
    ax.errorbar(mags, mean, yerr=np.maximum(err, 0.0), fmt="o", color="tab:blue", capsize=4,
                label=f"forecast mean, {prob:.0%} interval")
    if data is not None:
        obs = _observed_counts(data, float(df.attrs["t1"]), float(df.attrs["t2"]), mags)
        ax.plot(mags, obs, "x", color="tab:red", ms=8, mew=2, label="observed")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("magnitude threshold m")
    ax.set_ylabel("number of events M ≥ m")
    ax.set_title(f"[{df.attrs['t1']:g}, {df.attrs['t2']:g}] on the data's time axis "
                 f"({fit.method} fit)", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.2)
    return ax


def report_figures(fit: Fit) -> list[tuple[str, Figure]]:
    """The four figures of the family's report section as ``(title, Figure)`` pairs
    (titles begin with :data:`TITLES`); the cumulative counts are left out for a rate
    other than Omori–Utsu."""
    from ..errors import MethodNotSupportedError

    band = ("map fit: no band" if fit.method == "map"
            else f"{DETECTION_PROB:.1%} band (Omi et al. 2013)")
    out = [(f"{TITLES['detection']} ({band})", plot_detection(fit).figure),
           (TITLES["probability"], plot_detection_probability(fit).figure)]
    try:
        out.append((f"{TITLES['cumulative']} ({COUNT_PROB:.0%} Poisson interval of the "
                    "count given the fitted rate)", plot_cumulative(fit).figure))
    except MethodNotSupportedError:
        pass
    ax = plot_forecast(fit)
    out.append((f"{TITLES['forecast']}, the day after the fitting window, with 90 % "
                "intervals", ax.figure))
    return out
