"""Magnitude of completeness (Mc) from the frequency–magnitude distribution.

Each method returns a frozen :class:`McResult` whose ``mc`` is a bin centre of the grid
used, so it can be passed straight to the b-value estimators.

* ``"maxc"`` – maximum curvature (Wiemer & Wyss 2000) plus a correction (+0.2, Woessner &
  Wiemer 2005);
* ``"gft"`` – goodness-of-fit test (Wiemer & Wyss 2000);
* ``"mbs"`` – b-value stability (Cao & Gao 2002; Woessner & Wiemer 2005);
* ``"emr"`` – fit of the Ogata & Katsura (1993) detection model to the whole distribution;
  ``mc`` is the smallest bin centre where the fitted detection probability reaches
  ``detection_level`` (0.99 by default).

Bin width: the methods work on bins of width ``delta_m``.  By default (``delta_m=None``) it
is the catalog's rounding step, but at least 0.1 (the bin width of Wiemer & Wyss 2000), so
a catalog reported to 0.01 is analysed on 0.1-wide bins; the magnitudes are rounded to the
bins first (:func:`~pystats.gr.distributions.bin_magnitudes`).

References
----------
Cao, A., & Gao, S. S. (2002). Temporal variation of seismic b-values beneath northeastern
Japan island arc. Geophysical Research Letters, 29(9), 1334.
https://doi.org/10.1029/2001GL013775

Ogata, Y., & Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
magnitude frequency distribution inferred from earthquake catalogues. Geophysical Journal
International, 113(3), 727–738. https://doi.org/10.1111/j.1365-246X.1993.tb04663.x

Wiemer, S., & Wyss, M. (2000). Minimum magnitude of completeness in earthquake catalogs:
Examples from Alaska, the western United States, and Japan. Bulletin of the Seismological
Society of America, 90(4), 859–869. https://doi.org/10.1785/0119990114

Woessner, J., & Wiemer, S. (2005). Assessing the quality of earthquake catalogues:
Estimating the magnitude of completeness and its uncertainty. Bulletin of the
Seismological Society of America, 95(2), 684–698. https://doi.org/10.1785/0120040007
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri  # the normal quantile; scipy.stats costs ~0.4 s to import

from ..errors import ConvergenceWarning, DataError, DataWarning, FitError, OptionError
from .distributions import (
    _GRID_TOL,
    LN10,
    _check_delta_m,
    _check_magnitudes,
    _det_log_bins,
    _det_logsf_zs,
    bin_magnitudes,
    infer_delta_m,
)
from .estimators import b_aki_utsu, b_tinti_mulargia

__all__ = [
    "MC_METHODS",
    "McResult",
    "estimate_mc",
    "mc_emr",
    "mc_gft",
    "mc_maxc",
    "mc_mbs",
]

MC_METHODS = ("maxc", "gft", "mbs", "emr")
"""Names accepted by :func:`estimate_mc`."""

_B_ESTIMATORS: dict[str, Callable[..., Any]] = {
    "aki_utsu": b_aki_utsu,
    "tinti": b_tinti_mulargia,
}


@dataclass(frozen=True)
class McResult:
    """A magnitude-of-completeness estimate.

    Attributes
    ----------
    mc : float
        Completeness magnitude: a bin centre of the grid of width ``details["delta_m"]``.
    method : str
        ``"maxc"``, ``"gft"``, ``"mbs"`` or ``"emr"``.
    details : dict
        Method-specific diagnostics (bin width used, the curve searched, the criterion that
        selected ``mc``, fitted parameters, ...); documented in each function.
    """

    mc: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _FMD:
    """Binned magnitudes and their frequency–magnitude distribution."""

    m: np.ndarray  # binned magnitudes
    delta_m: float
    resolution: float  # rounding step found in the data (0 = continuous)
    centres: np.ndarray  # all bin centres from the lowest to the highest
    counts: np.ndarray  # events per bin
    cumulative: np.ndarray  # events at or above each centre


def _fmd(m: ArrayLike, delta_m: float | None) -> _FMD:
    arr = _check_magnitudes(m)
    if arr.size < 2:
        raise DataError(f"m must hold at least 2 magnitudes to estimate Mc; got {arr.size}")
    resolution = infer_delta_m(arr) if np.unique(arr).size >= 2 else 0.0
    if delta_m is None:
        dm = max(resolution, 0.1)
    else:
        dm = _check_delta_m(delta_m)
        if dm == 0:
            raise DataError("delta_m must be > 0 for Mc estimation (it is the FMD bin width)")
    # keep a grid the data are already on (e.g. 2.05, 2.15, ...) when it has this width
    lo = float(arr.min())
    k = (arr - lo) / dm
    origin = lo if np.all(np.abs(k - np.round(k)) < _GRID_TOL) else 0.0
    xb = bin_magnitudes(arr, dm, origin=origin)
    lo_b = float(xb.min())
    idx = np.round((xb - lo_b) / dm).astype(np.int64)
    counts = np.bincount(idx)
    centres = np.round(lo_b + dm * np.arange(counts.size), 10)
    cumulative = np.cumsum(counts[::-1])[::-1]
    return _FMD(xb, dm, resolution, centres, counts, cumulative)


def _check_level(x: float, name: str, lo: float, hi: float) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError) as e:
        raise OptionError(f"{name} must be a number in ({lo}, {hi}]; got {x!r}") from e
    if not (lo < v <= hi):
        raise OptionError(f"{name} must be in ({lo}, {hi}]; got {x!r}")
    return v


def _check_min_events(min_events: int) -> int:
    if isinstance(min_events, bool) or not isinstance(min_events, int | np.integer):
        raise OptionError(f"min_events must be an integer >= 2; got {min_events!r}")
    if min_events < 2:
        raise OptionError(f"min_events must be >= 2; got {min_events!r}")
    return int(min_events)


def _b_estimator(b_method: str) -> Callable[..., Any]:
    try:
        return _B_ESTIMATORS[b_method]
    except KeyError:
        raise OptionError(
            f"unknown b_method {b_method!r}; allowed: {', '.join(_B_ESTIMATORS)}"
        ) from None


def _candidate_curve(
    f: _FMD, min_events: int, b_method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate Mc (bin centres with >= min_events above), b(Mc), se(Mc), N(>= Mc)."""
    est = _b_estimator(b_method)
    keep = f.cumulative >= min_events
    if not np.any(keep):
        raise DataError(
            f"m has {f.m.size} magnitudes; at least min_events={min_events} are needed "
            "above a candidate Mc"
        )
    cands, bs, ses, ns = [], [], [], []
    for c, n in zip(f.centres[keep], f.cumulative[keep], strict=True):
        try:
            r = est(f.m, float(c), f.delta_m)
        except DataError:  # e.g. every event in the lowest bin
            continue
        cands.append(float(c))
        bs.append(r.b)
        ses.append(r.se)
        ns.append(int(n))
    if not cands:
        raise DataError("no candidate Mc leaves a usable magnitude distribution above it")
    return np.array(cands), np.array(bs), np.array(ses), np.array(ns)


# ---------------------------------------------------------------------------- methods
def mc_maxc(m: ArrayLike, delta_m: float | None = None, correction: float = 0.2) -> McResult:
    """Maximum-curvature Mc: the bin with the most events, plus ``correction``.

    Wiemer & Wyss (2000) take the magnitude bin with the highest frequency of events (the
    maximum of the first derivative of the cumulative curve); it underestimates Mc when the
    roll-off is gradual, so Woessner & Wiemer (2005) add 0.2.

    Parameters
    ----------
    m : array_like
        Magnitudes.
    delta_m : float, optional
        Bin width (default: the catalog's rounding step, at least 0.1).
    correction : float, optional
        Added to the modal bin centre (default 0.2; use a multiple of ``delta_m``).

    Returns
    -------
    McResult
        ``details``: ``delta_m``, ``correction``, ``mode_bin``, ``mode_count``, ``n``.

    Raises
    ------
    DataError
        NaN/inf or fewer than 2 magnitudes; ``delta_m`` negative or 0.
    OptionError
        Non-finite ``correction``.

    References
    ----------
    Wiemer, S., & Wyss, M. (2000). Minimum magnitude of completeness in earthquake
    catalogs: Examples from Alaska, the western United States, and Japan. Bulletin of the
    Seismological Society of America, 90(4), 859–869. https://doi.org/10.1785/0119990114

    Woessner, J., & Wiemer, S. (2005). Assessing the quality of earthquake catalogues:
    Estimating the magnitude of completeness and its uncertainty. Bulletin of the
    Seismological Society of America, 95(2), 684–698. https://doi.org/10.1785/0120040007
    """
    if not (isinstance(correction, int | float | np.floating) and math.isfinite(correction)):
        raise OptionError(f"correction must be a finite number; got {correction!r}")
    f = _fmd(m, delta_m)
    i = int(np.argmax(f.counts))
    mode = float(f.centres[i])
    return McResult(
        mc=round(mode + float(correction), 10),
        method="maxc",
        details={
            "delta_m": f.delta_m,
            "correction": float(correction),
            "mode_bin": mode,
            "mode_count": int(f.counts[i]),
            "n": int(f.m.size),
        },
    )


def mc_gft(
    m: ArrayLike,
    delta_m: float | None = None,
    level: float = 95.0,
    *,
    fallback_level: float = 90.0,
    min_events: int = 50,
    b_method: str = "aki_utsu",
) -> McResult:
    """Goodness-of-fit Mc (Wiemer & Wyss 2000).

    For each candidate ``Mc`` (a bin centre with at least ``min_events`` events at or
    above it) the b-value is estimated above ``Mc``, the a-value set so that the model
    reproduces ``N(>= Mc)``, and

    ``R(Mc) = 100 - 100 * sum_i |B_i - S_i| / sum_i B_i``

    over the bins ``M_i >= Mc``, with ``B_i`` the observed and ``S_i = 10**(a - b M_i)`` the
    modelled *cumulative* numbers of events.  ``mc`` is the first candidate with
    ``R >= level``, else the first with ``R >= fallback_level``, else the one with the
    largest ``R`` (``details["criterion"]`` says which).

    Parameters
    ----------
    m : array_like
        Magnitudes.
    delta_m : float, optional
        Bin width (default: the catalog's rounding step, at least 0.1).
    level : float, optional
        Required goodness of fit in percent (default 95).
    fallback_level : float, optional
        Used when no candidate reaches ``level`` (default 90).
    min_events : int, optional
        Smallest number of events above a candidate (default 50).
    b_method : {"aki_utsu", "tinti"}
        b-value estimator (default ``"aki_utsu"``, as Wiemer & Wyss).

    Returns
    -------
    McResult
        ``details``: ``delta_m``, ``criterion`` (``"R>=95"``, ``"R>=90"`` or ``"max R"``),
        ``R`` (percent, at ``mc``), ``b`` at ``mc``, and the arrays ``candidates``,
        ``R_curve``, ``b_curve``.

    Raises
    ------
    DataError
        Too few magnitudes; bad ``m`` or ``delta_m``.
    OptionError
        Levels outside (0, 100], bad ``min_events`` or ``b_method``.

    References
    ----------
    Wiemer, S., & Wyss, M. (2000). Minimum magnitude of completeness in earthquake
    catalogs: Examples from Alaska, the western United States, and Japan. Bulletin of the
    Seismological Society of America, 90(4), 859–869. https://doi.org/10.1785/0119990114
    """
    level = _check_level(level, "level", 0.0, 100.0)
    fallback_level = _check_level(fallback_level, "fallback_level", 0.0, 100.0)
    min_events = _check_min_events(min_events)
    f = _fmd(m, delta_m)
    cands, bs, _, ns = _candidate_curve(f, min_events, b_method)
    r_curve = np.empty(cands.size)
    for j, (c, b, n) in enumerate(zip(cands, bs, ns, strict=True)):
        sel = f.centres >= c - _GRID_TOL * f.delta_m
        obs = f.cumulative[sel]
        model = n * 10.0 ** (-b * (f.centres[sel] - c))
        r_curve[j] = 100.0 - 100.0 * np.sum(np.abs(obs - model)) / np.sum(obs)
    for lev in (level, fallback_level):
        hit = np.flatnonzero(r_curve >= lev)
        if hit.size:
            j, criterion = int(hit[0]), f"R>={lev:g}"
            break
    else:
        j, criterion = int(np.argmax(r_curve)), "max R"
    return McResult(
        mc=float(cands[j]),
        method="gft",
        details={
            "delta_m": f.delta_m,
            "criterion": criterion,
            "R": float(r_curve[j]),
            "b": float(bs[j]),
            "level": level,
            "fallback_level": fallback_level,
            "b_method": b_method,
            "candidates": cands,
            "R_curve": r_curve,
            "b_curve": bs,
        },
    )


def mc_mbs(
    m: ArrayLike,
    delta_m: float | None = None,
    *,
    window: float = 0.5,
    min_events: int = 50,
    b_method: str = "aki_utsu",
) -> McResult:
    """b-value-stability Mc (Cao & Gao 2002, as modified by Woessner & Wiemer 2005).

    For each candidate ``Mc`` the b-value ``b(Mc)`` and its Shi & Bolt (1982) uncertainty
    ``db(Mc)`` are computed, and ``b_avg(Mc)`` is the mean of ``b`` over the candidates
    ``Mc, Mc + delta_m, ..., Mc + window``.  ``mc`` is the smallest candidate with
    ``|b_avg - b| <= db``.  If none qualifies, the candidate with the smallest
    ``|b_avg - b| / db`` is returned with a :class:`~pystats.errors.DataWarning`.

    Parameters
    ----------
    m : array_like
        Magnitudes.
    delta_m : float, optional
        Bin width (default: the catalog's rounding step, at least 0.1).
    window : float, optional
        Magnitude range averaged (default 0.5, both ends included).
    min_events : int, optional
        Smallest number of events above a candidate (default 50).
    b_method : {"aki_utsu", "tinti"}
        b-value estimator; ``"aki_utsu"`` (default) uses the Shi–Bolt ``db``, ``"tinti"``
        its Fisher standard error.

    Returns
    -------
    McResult
        ``details``: ``delta_m``, ``criterion``, ``b``, ``db``, ``b_avg`` at ``mc`` and the
        arrays ``candidates``, ``b_curve``, ``db_curve``, ``b_avg_curve``.

    Raises
    ------
    DataError
        Too few magnitudes to fill one window; bad ``m`` or ``delta_m``.
    OptionError
        Bad ``window``, ``min_events`` or ``b_method``.

    Warns
    -----
    DataWarning
        When no candidate meets the stability criterion.

    References
    ----------
    Cao, A., & Gao, S. S. (2002). Temporal variation of seismic b-values beneath
    northeastern Japan island arc. Geophysical Research Letters, 29(9), 1334.
    https://doi.org/10.1029/2001GL013775

    Woessner, J., & Wiemer, S. (2005). Assessing the quality of earthquake catalogues:
    Estimating the magnitude of completeness and its uncertainty. Bulletin of the
    Seismological Society of America, 95(2), 684–698. https://doi.org/10.1785/0120040007

    Shi, Y., & Bolt, B. A. (1982). The standard error of the magnitude-frequency b value.
    Bulletin of the Seismological Society of America, 72(5), 1677–1687.
    """
    if not (isinstance(window, int | float | np.floating) and window > 0):
        raise OptionError(f"window must be a number > 0; got {window!r}")
    min_events = _check_min_events(min_events)
    f = _fmd(m, delta_m)
    cands, bs, ses, _ = _candidate_curve(f, min_events, b_method)
    n_win = round(window / f.delta_m) + 1
    # candidates are consecutive bins unless one was skipped; average over bins present
    n_ok = cands.size - n_win + 1
    if n_ok < 1:
        raise DataError(
            f"need {n_win} consecutive candidate bins with >= {min_events} events for a "
            f"{window}-wide window; only {cands.size} exist (lower min_events or window)"
        )
    b_avg = np.array([bs[j : j + n_win].mean() for j in range(n_ok)])
    diff = np.abs(b_avg - bs[:n_ok])
    ok = np.flatnonzero(diff <= ses[:n_ok])
    if ok.size:
        j, criterion = int(ok[0]), "|b_avg - b| <= db"
    else:
        j, criterion = int(np.argmin(diff / ses[:n_ok])), "min |b_avg - b| / db"
        warnings.warn(
            f"mc_mbs: b(Mc) is stable nowhere (|b_avg - b| > db at every candidate); returning "
            f"the most stable candidate Mc={cands[j]}",
            DataWarning,
            stacklevel=2,
        )
    return McResult(
        mc=float(cands[j]),
        method="mbs",
        details={
            "delta_m": f.delta_m,
            "criterion": criterion,
            "b": float(bs[j]),
            "db": float(ses[j]),
            "b_avg": float(b_avg[j]),
            "window": float(window),
            "b_method": b_method,
            "candidates": cands[:n_ok],
            "b_curve": bs[:n_ok],
            "db_curve": ses[:n_ok],
            "b_avg_curve": b_avg,
        },
    )


def _emr_nll(theta: np.ndarray, edges: np.ndarray, c: np.ndarray, dm: float, m_min: float) -> float:
    """Negative log-likelihood of the binned, truncated detection model; theta=(b, mu, sigma).

    ``edges`` are the bin edges of the contiguous grid from ``m_min - dm/2`` upwards and
    ``c`` the counts of its bins.
    """
    b, mu, sigma = theta
    if not (b > 0 and sigma > 0):
        return math.inf
    s = LN10 * b * sigma
    lp = _det_log_bins((edges - mu) / sigma, s)
    norm_ = _det_logsf_zs(np.array((m_min - dm / 2 - mu) / sigma), s)
    nz = c > 0
    val = -float(np.sum(c[nz] * (lp[nz] - norm_)))
    return val if math.isfinite(val) else math.inf


def _hessian(fun: Callable[[np.ndarray], float], x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Central finite-difference Hessian."""
    k = x.size
    hess = np.empty((k, k))
    f0 = fun(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        hess[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            v = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej)) / (
                4 * h[i] * h[j]
            )
            hess[i, j] = hess[j, i] = v
    return hess


def mc_emr(
    m: ArrayLike,
    delta_m: float | None = None,
    *,
    detection_level: float = 0.99,
) -> McResult:
    """Mc from a maximum-likelihood fit of the Ogata–Katsura (1993) detection model.

    All magnitudes (binned, truncated at the lowest bin ``m_min``) are fitted with
    ``f(m) ∝ exp(-beta m) Phi((m - mu)/sigma)`` (see
    :func:`~pystats.gr.distributions.detection_logpmf_binned`), maximising the likelihood
    over ``(b, mu, sigma)`` with scipy.  The detection probability ``Phi((m - mu)/sigma)``
    reaches ``detection_level`` at ``mu + sigma * Phi^-1(detection_level)``
    (``mu + 2.326 sigma`` for 0.99); ``mc`` is the smallest bin centre at or above that
    magnitude (and at least ``m_min``).  This uses the whole distribution, like the EMR
    method of Woessner & Wiemer (2005), but with the smooth detection model of Ogata &
    Katsura instead of a piecewise normal/GR fit.

    Parameters
    ----------
    m : array_like
        Magnitudes (all of them, including the incomplete range).
    delta_m : float, optional
        Bin width (default: the catalog's rounding step, at least 0.1).
    detection_level : float, optional
        Detection probability defining Mc (default 0.99).

    Returns
    -------
    McResult
        ``details``: ``delta_m``, ``m_min``, ``b``, ``mu``, ``sigma`` and their standard
        errors ``se_b``, ``se_mu``, ``se_sigma`` (inverse observed information, by finite
        differences), ``cov`` (3x3 in the order b, mu, sigma), ``mc_continuous`` =
        ``mu + sigma Phi^-1(level)`` and ``mc_continuous_se`` (delta method),
        ``detection_level``, ``loglik``, ``n``, ``complete_from_lowest_bin``.

    Raises
    ------
    DataError
        Bad ``m`` or ``delta_m``; fewer than 2 distinct bins.
    OptionError
        ``detection_level`` not in (0, 1).
    FitError
        If no starting point gives a finite likelihood.

    Warns
    -----
    DataWarning
        When the fitted detection probability at ``m_min`` already exceeds the level (the
        catalog looks complete from its lowest bin; ``mu`` and ``sigma`` are then poorly
        identified).
    ConvergenceWarning
        When the optimiser fails or the observed information is not positive definite
        (standard errors are then NaN).

    References
    ----------
    Ogata, Y., & Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
    magnitude frequency distribution inferred from earthquake catalogues. Geophysical
    Journal International, 113(3), 727–738.
    https://doi.org/10.1111/j.1365-246X.1993.tb04663.x

    Woessner, J., & Wiemer, S. (2005). Assessing the quality of earthquake catalogues:
    Estimating the magnitude of completeness and its uncertainty. Bulletin of the
    Seismological Society of America, 95(2), 684–698. https://doi.org/10.1785/0120040007
    """
    p = _check_level(detection_level, "detection_level", 0.0, 1.0)
    if p >= 1.0:
        raise OptionError(f"detection_level must be in (0, 1); got {detection_level!r}")
    f = _fmd(m, delta_m)
    dm = f.delta_m
    u, c = f.centres, f.counts.astype(float)
    if u.size < 2:
        raise DataError("m falls in a single magnitude bin; the detection model cannot be fitted")
    m_min = float(u[0])
    edges = np.append(u - dm / 2, u[-1] + dm / 2)

    # search box on (log b, mu, log sigma); outside it the objective is +inf
    lo_box = np.array([math.log(0.05), m_min - 5.0, math.log(1e-3)])
    hi_box = np.array([math.log(10.0), float(u[-1]), math.log(3.0)])

    def nll_t(t: np.ndarray) -> float:
        if np.any(t < lo_box) or np.any(t > hi_box):
            return math.inf
        return _emr_nll(np.array([math.exp(t[0]), t[1], math.exp(t[2])]), edges, c, dm, m_min)

    # starting values: b from the tail above the modal bin, mu near the mode.  Nelder-Mead
    # (derivative-free, cheap per step) from three starts, then a restart from the best.
    mode = float(f.centres[int(np.argmax(f.counts))])
    try:
        b0 = b_tinti_mulargia(f.m, round(mode + 2 * dm, 10), dm).b
    except DataError:
        b0 = 1.0
    b0 = min(max(b0, 0.3), 3.0)
    from scipy import optimize  # imported here: only mc_emr needs it

    nm = {"xatol": 1e-7, "fatol": 1e-9, "maxiter": 3000, "maxfev": 3000}
    best = None
    for mu0, s0 in ((mode, 0.1), (mode - 2 * dm, 0.3), (mode + 2 * dm, 0.2)):
        t0 = np.array([math.log(b0), mu0, math.log(s0)])
        if not math.isfinite(nll_t(t0)):
            continue
        res = optimize.minimize(nll_t, t0, method="Nelder-Mead", options=nm)
        if best is None or res.fun < best.fun:
            best = res
    if best is None:
        raise FitError("mc_emr: no starting point gives a finite likelihood")
    best = optimize.minimize(nll_t, best.x, method="Nelder-Mead", options=nm)
    if not best.success:
        warnings.warn(
            f"mc_emr: the optimiser reports no convergence ({best.message})",
            ConvergenceWarning,
            stacklevel=2,
        )
    theta = np.array([math.exp(best.x[0]), best.x[1], math.exp(best.x[2])])
    b, mu, sigma = (float(v) for v in theta)

    def nll(th: np.ndarray) -> float:
        return _emr_nll(th, edges, c, dm, m_min)

    h = 1e-3 * np.maximum(np.abs(theta), 0.05)
    h[2] = min(h[2], 0.25 * sigma)
    hess = _hessian(nll, theta, h)
    try:
        np.linalg.cholesky(hess)
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.full((3, 3), np.nan)
        warnings.warn(
            "mc_emr: the observed information is not positive definite at the optimum; "
            "standard errors are NaN (mu and sigma are probably not identified)",
            ConvergenceWarning,
            stacklevel=2,
        )
    zp = float(ndtri(p))
    mc_cont = mu + zp * sigma
    grad = np.array([0.0, 1.0, zp])
    mc_cont_se = float(math.sqrt(grad @ cov @ grad)) if np.all(np.isfinite(cov)) else math.nan
    k = math.ceil((mc_cont - m_min) / dm - _GRID_TOL)
    complete_low = k <= 0
    if complete_low:
        warnings.warn(
            f"mc_emr: the fitted detection probability at the lowest bin ({m_min}) is "
            f"already >= {p}; the catalog looks complete from its lowest magnitude and mu, "
            "sigma are poorly constrained",
            DataWarning,
            stacklevel=2,
        )
    mc = round(m_min + max(k, 0) * dm, 10)
    se = np.sqrt(np.diag(cov))
    return McResult(
        mc=mc,
        method="emr",
        details={
            "delta_m": dm,
            "m_min": m_min,
            "b": b,
            "mu": mu,
            "sigma": sigma,
            "se_b": float(se[0]),
            "se_mu": float(se[1]),
            "se_sigma": float(se[2]),
            "cov": cov,
            "mc_continuous": mc_cont,
            "mc_continuous_se": mc_cont_se,
            "detection_level": p,
            "loglik": -float(best.fun),
            "n": int(f.m.size),
            "complete_from_lowest_bin": bool(complete_low),
        },
    )


_MC_FUNCS: dict[str, Callable[..., McResult]] = {
    "maxc": mc_maxc,
    "gft": mc_gft,
    "mbs": mc_mbs,
    "emr": mc_emr,
}


def estimate_mc(
    m: ArrayLike, delta_m: float | None = None, method: str = "maxc", **kwargs: Any
) -> McResult:
    """Estimate the magnitude of completeness with the named method.

    Parameters
    ----------
    m : array_like
        Magnitudes.
    delta_m : float, optional
        Bin width (default: the catalog's rounding step, at least 0.1).
    method : {"maxc", "gft", "mbs", "emr"}
        :func:`mc_maxc` (default), :func:`mc_gft`, :func:`mc_mbs` or :func:`mc_emr`.
    **kwargs
        Passed to the method (e.g. ``correction=0.2`` for ``"maxc"``, ``level=95`` for
        ``"gft"``).

    Returns
    -------
    McResult

    Raises
    ------
    OptionError
        Unknown ``method`` (the message lists the allowed ones) or unknown keyword.
    """
    try:
        fn = _MC_FUNCS[method]
    except (KeyError, TypeError):
        raise OptionError(
            f"unknown Mc method {method!r}; allowed: {', '.join(MC_METHODS)}"
        ) from None
    try:
        return fn(m, delta_m, **kwargs)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            raise OptionError(f"estimate_mc(method={method!r}): {e}") from e
        raise
