"""Magnitude of completeness (Mc) from the frequency–magnitude distribution.

Each method returns a frozen :class:`McResult` whose ``mc`` is a bin centre of the grid
used, so it can be passed straight to the b-value estimators.

* ``"maxc"`` – maximum curvature (Wiemer & Wyss 2000) plus a correction (+0.2, Woessner &
  Wiemer 2005);
* ``"gft"`` – goodness-of-fit test (Wiemer & Wyss 2000);
* ``"mbs"`` – b-value stability (Cao & Gao 2002; Woessner & Wiemer 2005);
* ``"emr"`` – fit of the Ogata & Katsura (1993) detection model to the whole distribution;
  ``mc`` is the smallest bin centre where the fitted detection probability reaches
  ``detection_level`` (0.99 by default);
* ``"ks"`` – the smallest Mc whose magnitudes pass a Kolmogorov–Smirnov test of the binned
  Gutenberg–Richter law, with a p-value from simulated samples (Clauset et al. 2009; the
  ``mc_ks`` method of SeismoStats, Mizrahi et al. 2021).

Every method takes ``n_boot`` (bootstrap replicates, default 0) and ``seed``: with
``n_boot > 0`` the events are resampled with replacement (multinomial counts of the binned
frequency–magnitude distribution, on which every method depends), the method is rerun on
each replicate (vectorised over replicates), and the result carries ``mc_std`` and the
percentile interval ``mc_interval`` (``boot_prob``, default 0.9).

An Mc with fewer than 1 % of the events (or fewer than 50, half of them for catalogs under
100 events) at or above it is flagged: ``McResult.reliable`` is False and a
:class:`~pystats.errors.DataWarning` says so.  ``GutenbergRichter(mc=<method>)`` refuses
such an Mc with a :class:`~pystats.errors.DataError`.

Bin width: the methods work on bins of width ``delta_m``.  By default (``delta_m=None``) it
is the catalog's rounding step, but at least 0.1 (the bin width of Wiemer & Wyss 2000), so
a catalog reported to 0.01 is analysed on 0.1-wide bins; the magnitudes are rounded to the
bins first (:func:`~pystats.gr.distributions.bin_magnitudes`).

References
----------
Cao, A., & Gao, S. S. (2002). Temporal variation of seismic b-values beneath northeastern
Japan island arc. Geophysical Research Letters, 29(9), 1334.
https://doi.org/10.1029/2001GL013775

Clauset, A., Shalizi, C. R., & Newman, M. E. J. (2009). Power-law distributions in
empirical data. SIAM Review, 51(4), 661–703. https://doi.org/10.1137/070710111

Mizrahi, L., Nandan, S., & Wiemer, S. (2021). The effect of declustering on the size
distribution of mainshocks. Seismological Research Letters, 92(4), 2333–2342.
https://doi.org/10.1785/0220200231

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri  # the normal quantile; scipy.stats costs ~0.4 s to import

from .. import _checks
from .._warnings import warn as _warn
from ..errors import ConvergenceWarning, DataError, DataWarning, FitError, OptionError
from .distributions import (
    _GRID_TOL,
    GRID_MAJORITY,
    LN10,
    _check_delta_m,
    _check_magnitudes,
    _det_log_bins,
    _det_log_mass,
    _det_logcdf_zs,
    _det_logsf_zs,
    _grid_fit,
    _infer_grid,
    _rng,
    bin_magnitudes,
)
from .estimators import b_tinti_mulargia

__all__ = [
    "MC_METHODS",
    "McResult",
    "estimate_mc",
    "mc_emr",
    "mc_gft",
    "mc_ks",
    "mc_maxc",
    "mc_mbs",
]

MC_METHODS = ("maxc", "gft", "mbs", "emr", "ks")
"""Names accepted by :func:`estimate_mc`."""

B_METHODS = ("aki_utsu", "tinti")
"""b-value estimators accepted as ``b_method`` by GFT and MBS."""

LOG10_E = 1.0 / LN10
MIN_ABOVE = 50
"""An Mc with fewer events at or above it (or fewer than 1 %) is flagged as unreliable."""
MIN_ABOVE_FRACTION = 0.01


@dataclass(frozen=True)
class McResult:
    """A magnitude-of-completeness estimate.

    Attributes
    ----------
    mc : float
        Completeness magnitude: a bin centre of the grid of width ``details["delta_m"]``.
    method : str
        ``"maxc"``, ``"gft"``, ``"mbs"``, ``"emr"`` or ``"ks"``.
    details : dict
        Method-specific diagnostics (bin width used, the curve searched, the criterion that
        selected ``mc``, fitted parameters, ...); documented in each function.  Always
        ``n`` (events), ``n_above`` (events at or above ``mc``) and, with a bootstrap,
        ``bootstrap`` (``n_boot``, ``mc`` per replicate, ``n_failed``, ``prob``).
    reliable : bool
        False when ``mc`` is above nearly all the data (fewer than 1 % of the events, or
        fewer than 50, at or above it) or the method's own criterion failed (``"ks"``: no
        candidate passes the test); a :class:`~pystats.errors.DataWarning` says why.
    mc_std : float or None
        Bootstrap standard deviation of ``mc`` (``n_boot > 0``).
    mc_interval : (float, float) or None
        Bootstrap percentile interval of ``mc`` with mass ``details["bootstrap"]["prob"]``
        (quantiles of the replicates, ``numpy.quantile(method="inverted_cdf")``: bin
        centres).
        selected ``mc``, fitted parameters, ...); documented in each function.

    Examples
    --------
    >>> import pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> result = pystats.estimate_mc(m, method="maxc")
    >>> result.method, round(result.mc, 1)
    ('maxc', 2.2)
    >>> result.details["mode_bin"], result.details["correction"]
    (2.0, 0.2)
    """

    mc: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)
    reliable: bool = True
    mc_std: float | None = None
    mc_interval: tuple[float, float] | None = None


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
    resolution = _infer_grid(arr)[0] if np.unique(arr).size >= 2 else 0.0
    if delta_m is None:
        dm = max(resolution, 0.1)
    else:
        dm = _check_delta_m(delta_m)
        if dm == 0:
            raise DataError("delta_m must be > 0 for Mc estimation (it is the FMD bin width)")
    # keep a grid (nearly all of) the data are already on (e.g. 2.05, 2.15, ...) when it has
    # this width
    origin, on = _grid_fit(arr, dm)
    if on.mean() < GRID_MAJORITY:
        origin = 0.0
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
    return _checks.integer("min_events", min_events, 2)


def _check_b_method(b_method: str) -> str:
    if b_method not in B_METHODS:
        raise OptionError(f"unknown b_method {b_method!r}; allowed: {', '.join(B_METHODS)}")
    return b_method


def _check_boot(n_boot: int, boot_prob: float) -> tuple[int, float]:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise OptionError(f"n_boot must be an integer >= 0 (0: no bootstrap); got {n_boot!r}")
    if n_boot == 1:
        raise OptionError("n_boot=1 is not allowed; use 0 (no bootstrap) or at least 2")
    p = _check_level(boot_prob, "boot_prob", 0.0, 1.0)
    if p >= 1.0:
        raise OptionError(f"boot_prob must be in (0, 1); got {boot_prob!r}")
    return int(n_boot), p


def _count_rows(f: _FMD, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Row 0: the observed counts per bin; rows 1..n_boot: bootstrap resamples of the events.

    Resampling the events with replacement gives multinomial counts over the bins.
    """
    obs = f.counts.astype(float)[None, :]
    if n_boot == 0:
        return obs
    n = int(f.counts.sum())
    boot = rng.multinomial(n, f.counts / n, size=n_boot).astype(float)
    return np.vstack([obs, boot])


def _revcumsum(x: np.ndarray) -> np.ndarray:
    return np.cumsum(x[..., ::-1], axis=-1)[..., ::-1]


def _b_curves(
    counts: np.ndarray, f: _FMD, min_events: int, b_method: str, se_method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """b(Mc), se(Mc) and N(>= Mc) at every bin centre, for each row of ``counts``.

    ``counts`` is ``(rows, bins)``; entries that are not candidates (fewer than
    ``min_events`` events at or above, or every event in the lowest bin) are NaN.  Same
    formulas as :func:`~pystats.gr.estimators.b_aki_utsu` and
    :func:`~pystats.gr.estimators.b_tinti_mulargia`, from the binned counts.
    """
    dm = f.delta_m
    u = f.centres - f.centres[0]
    n = _revcumsum(counts)
    s1 = _revcumsum(counts * u)
    s2 = _revcumsum(counts * u * u)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        excess = mean - u  # mean excess over the candidate's bin centre
        ss = np.maximum(s2 - s1 * mean, 0.0)
        ok = (n >= min_events) & (excess > _GRID_TOL * dm)
        if b_method == "aki_utsu":
            b = LOG10_E / (excess + dm / 2)
        else:
            b = np.log1p(dm / excess) / (LN10 * dm)
        if se_method == "shi_bolt":
            se = LN10 * b * b * np.sqrt(ss / (n * (n - 1)))
        elif b_method == "aki_utsu":
            se = b / np.sqrt(n)
        else:
            bd = LN10 * b * dm
            se = -np.expm1(-bd) / (dm * np.sqrt(n * np.exp(-bd))) / LN10
    b = np.where(ok, b, np.nan)
    se = np.where(ok, se, np.nan)
    return b, se, n


def _point_candidates(b: np.ndarray, f: _FMD, min_events: int) -> np.ndarray:
    """Indices of the candidate bins of the observed row; DataError if there are none."""
    if not np.any(f.cumulative >= min_events):
        raise DataError(
            f"m has {f.m.size} magnitudes; at least min_events={min_events} are needed "
            "above a candidate Mc"
        )
    idx = np.flatnonzero(np.isfinite(b[0]))
    if idx.size == 0:
        raise DataError("no candidate Mc leaves a usable magnitude distribution above it")
    return idx


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True of each row, -1 where none."""
    return np.where(mask.any(axis=1), np.argmax(mask, axis=1), -1)


def _n_above(f: _FMD, mc: float) -> int:
    return int(np.sum(f.m >= mc - f.delta_m / 2 - _GRID_TOL * f.delta_m))


def _result(
    f: _FMD,
    method: str,
    mc: float,
    details: dict[str, Any],
    boot_mc: np.ndarray | None,
    boot_prob: float,
    *,
    reliable: bool = True,
) -> McResult:
    """McResult with the flag for an Mc above nearly all data and the bootstrap summary."""
    n = int(f.m.size)
    n_above = _n_above(f, mc)
    details = {**details, "n": n, "n_above": n_above}
    floor = max(MIN_ABOVE_FRACTION * n, min(MIN_ABOVE, n / 2))
    if n_above < floor:
        reliable = False
        _warn(
            f"mc_{method}: Mc={mc:g} is above nearly all the data: only {n_above} of {n} "
            f"events ({100 * n_above / n:.2g} %) are at or above it. The method does not fit "
            "this catalogue; do not use this Mc (try another method or a more homogeneous "
            "part of the catalogue)",
            DataWarning,
        )
    std = interval = None
    if boot_mc is not None:
        good = boot_mc[np.isfinite(boot_mc)]
        details["bootstrap"] = {
            "n_boot": int(boot_mc.size),
            "mc": boot_mc,
            "n_failed": int(boot_mc.size - good.size),
            "prob": boot_prob,
        }
        if good.size >= 2:
            std = float(np.std(good, ddof=1))
            # sample quantiles that are replicate values (bin centres), not interpolations
            lo, hi = np.quantile(
                good, [(1 - boot_prob) / 2, (1 + boot_prob) / 2], method="inverted_cdf"
            )
            interval = (float(round(lo, 10)), float(round(hi, 10)))
    return McResult(
        mc=float(mc),
        method=method,
        details=details,
        reliable=reliable,
        mc_std=std,
        mc_interval=interval,
    )


_BOOT_DOC = """    n_boot : int, optional
        Bootstrap replicates (default 0: none): ``mc_std`` and ``mc_interval`` of the result
        (module docstring).
    boot_prob : float, optional
        Mass of the bootstrap percentile interval (default 0.9).
    seed : int or numpy.random.Generator, optional
        Random numbers of the bootstrap."""


def _doc(fn: Callable[..., McResult]) -> Callable[..., McResult]:
    fn.__doc__ = (fn.__doc__ or "").replace("    {boot}", _BOOT_DOC)
    return fn


# ---------------------------------------------------------------------------- methods
@_doc
def mc_maxc(
    m: ArrayLike,
    delta_m: float | None = None,
    correction: float = 0.2,
    *,
    n_boot: int = 0,
    boot_prob: float = 0.9,
    seed: int | np.random.Generator | None = None,
) -> McResult:
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
    {boot}

    Returns
    -------
    McResult
        ``details``: ``delta_m``, ``correction``, ``mode_bin``, ``mode_count``, ``n``,
        ``n_above``.

    Raises
    ------
    DataError
        NaN/inf or fewer than 2 magnitudes; ``delta_m`` negative or 0.
    OptionError
        Non-finite ``correction``; bad ``n_boot`` or ``boot_prob``.

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
    n_boot, boot_prob = _check_boot(n_boot, boot_prob)
    f = _fmd(m, delta_m)
    rows = _count_rows(f, n_boot, _rng(seed))
    modes = np.argmax(rows, axis=1)
    mcs = np.round(f.centres[modes] + float(correction), 10)
    i = int(modes[0])
    return _result(
        f,
        "maxc",
        float(mcs[0]),
        {
            "delta_m": f.delta_m,
            "correction": float(correction),
            "mode_bin": float(f.centres[i]),
            "mode_count": int(f.counts[i]),
        },
        mcs[1:] if n_boot else None,
        boot_prob,
    )


def _gft_r(rows: np.ndarray, b: np.ndarray, n: np.ndarray, f: _FMD) -> np.ndarray:
    """R(Mc) in percent for each row and candidate bin (NaN where b is NaN)."""
    r = np.full(b.shape, np.nan)
    c = f.centres
    for j in range(c.size):
        valid = np.isfinite(b[:, j])
        if not valid.any():
            continue
        obs = n[valid, j:]
        model = n[valid, j : j + 1] * 10.0 ** (-b[valid, j : j + 1] * (c[j:] - c[j]))
        r[valid, j] = 100.0 - 100.0 * np.abs(obs - model).sum(axis=1) / obs.sum(axis=1)
    return r


@_doc
def mc_gft(
    m: ArrayLike,
    delta_m: float | None = None,
    level: float = 95.0,
    *,
    fallback_level: float = 90.0,
    min_events: int = 50,
    b_method: str = "aki_utsu",
    n_boot: int = 0,
    boot_prob: float = 0.9,
    seed: int | np.random.Generator | None = None,
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
    {boot}

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
        Levels outside (0, 100], bad ``min_events``, ``b_method``, ``n_boot`` or
        ``boot_prob``.

    References
    ----------
    Wiemer, S., & Wyss, M. (2000). Minimum magnitude of completeness in earthquake
    catalogs: Examples from Alaska, the western United States, and Japan. Bulletin of the
    Seismological Society of America, 90(4), 859–869. https://doi.org/10.1785/0119990114
    """
    level = _check_level(level, "level", 0.0, 100.0)
    fallback_level = _check_level(fallback_level, "fallback_level", 0.0, 100.0)
    min_events = _check_min_events(min_events)
    _check_b_method(b_method)
    n_boot, boot_prob = _check_boot(n_boot, boot_prob)
    f = _fmd(m, delta_m)
    rows = _count_rows(f, n_boot, _rng(seed))
    b, _, n = _b_curves(rows, f, min_events, b_method, "fisher")
    idx = _point_candidates(b, f, min_events)
    r = _gft_r(rows, b, n, f)
    choice = _first_true(r >= level)
    fallback = _first_true(r >= fallback_level)
    choice = np.where(choice >= 0, choice, fallback)
    any_r = np.isfinite(r).any(axis=1)
    best = np.argmax(np.where(np.isfinite(r), r, -np.inf), axis=1)
    choice = np.where(choice >= 0, choice, np.where(any_r, best, -1))
    mcs = np.where(choice >= 0, f.centres[np.maximum(choice, 0)], np.nan)
    j = int(choice[0])
    if r[0, j] >= level:
        criterion = f"R>={level:g}"
    elif r[0, j] >= fallback_level:
        criterion = f"R>={fallback_level:g}"
    else:
        criterion = "max R"
    return _result(
        f,
        "gft",
        float(f.centres[j]),
        {
            "delta_m": f.delta_m,
            "criterion": criterion,
            "R": float(r[0, j]),
            "b": float(b[0, j]),
            "level": level,
            "fallback_level": fallback_level,
            "b_method": b_method,
            "candidates": f.centres[idx],
            "R_curve": r[0, idx],
            "b_curve": b[0, idx],
        },
        mcs[1:] if n_boot else None,
        boot_prob,
    )


@_doc
def mc_mbs(
    m: ArrayLike,
    delta_m: float | None = None,
    *,
    window: float = 0.5,
    min_events: int = 50,
    b_method: str = "aki_utsu",
    n_boot: int = 0,
    boot_prob: float = 0.9,
    seed: int | np.random.Generator | None = None,
) -> McResult:
    """b-value-stability Mc (Cao & Gao 2002, as modified by Woessner & Wiemer 2005).

    For each candidate ``Mc`` the b-value ``b(Mc)`` and its uncertainty ``db(Mc)`` are
    computed, and ``b_avg(Mc)`` is the mean of ``b`` over the candidates
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
        b-value estimator; ``"aki_utsu"`` (default) with the Shi & Bolt (1982) ``db`` (as
        Woessner & Wiemer), ``"tinti"`` with its Fisher standard error.
    {boot}

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
        Bad ``window``, ``min_events``, ``b_method``, ``n_boot`` or ``boot_prob``.

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
    _check_b_method(b_method)
    n_boot, boot_prob = _check_boot(n_boot, boot_prob)
    f = _fmd(m, delta_m)
    rows = _count_rows(f, n_boot, _rng(seed))
    se_method = "shi_bolt" if b_method == "aki_utsu" else "fisher"
    b, se, _ = _b_curves(rows, f, min_events, b_method, se_method)
    idx = _point_candidates(b, f, min_events)
    n_win = round(window / f.delta_m) + 1
    k = b.shape[1]
    n_ok = k - n_win + 1
    if n_ok < 1 or not np.isfinite(b[0, :n_win]).all():
        raise DataError(
            f"need {n_win} consecutive candidate bins with >= {min_events} events for a "
            f"{window}-wide window; only {idx.size} exist (lower min_events or window)"
        )
    # window means over bins j .. j + n_win - 1 (NaN when one of them is no candidate)
    csum = np.concatenate([np.zeros((b.shape[0], 1)), np.cumsum(b, axis=1)], axis=1)
    b_avg = (csum[:, n_win:] - csum[:, :n_ok]) / n_win
    with np.errstate(invalid="ignore"):
        diff = np.abs(b_avg - b[:, :n_ok])
        stable = diff <= se[:, :n_ok]
        ratio = np.where(np.isfinite(diff), diff / se[:, :n_ok], np.inf)
    choice = _first_true(stable)
    fallback = np.where(np.isfinite(ratio).any(axis=1), np.argmin(ratio, axis=1), -1)
    choice = np.where(choice >= 0, choice, fallback)
    mcs = np.where(choice >= 0, f.centres[np.maximum(choice, 0)], np.nan)
    ok0 = np.flatnonzero(np.isfinite(b_avg[0]))
    j = int(choice[0])
    if stable[0, j]:
        criterion = "|b_avg - b| <= db"
    else:
        criterion = "min |b_avg - b| / db"
        _warn(
            f"mc_mbs: b(Mc) is stable nowhere (|b_avg - b| > db at every candidate); returning "
            f"the most stable candidate Mc={f.centres[j]}",
            DataWarning,
        )
    return _result(
        f,
        "mbs",
        float(f.centres[j]),
        {
            "delta_m": f.delta_m,
            "criterion": criterion,
            "b": float(b[0, j]),
            "db": float(se[0, j]),
            "b_avg": float(b_avg[0, j]),
            "window": float(window),
            "b_method": b_method,
            "candidates": f.centres[ok0],
            "b_curve": b[0, ok0],
            "db_curve": se[0, ok0],
            "b_avg_curve": b_avg[0, ok0],
        },
        mcs[1:] if n_boot else None,
        boot_prob,
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


def _emr_nll_batch(t: np.ndarray, edges: np.ndarray, c: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """:func:`_emr_nll` for many rows: ``t = (log b, mu, log sigma)`` and counts ``c``.

    ``t`` is ``(P, 3)``, ``c`` is ``(P, K)`` over the bins between ``edges`` (``K + 1``);
    row ``i`` is truncated at the edge ``edges[lo[i]]`` (its lowest non-empty bin).
    Returns the negative log-likelihoods (``inf`` outside the search box of
    :func:`_emr_fit`).
    """
    b, mu, sigma = np.exp(t[:, 0]), t[:, 1], np.exp(t[:, 2])
    s = (LN10 * b * sigma)[:, None]
    z = (edges[None, :] - mu[:, None]) / sigma[:, None]
    ls = _det_logsf_zs(z, s)
    lf = _det_logcdf_zs(z, s, ls)
    lp = _det_log_mass(ls[:, :-1], ls[:, 1:], lf[:, :-1], lf[:, 1:])
    norm_ = np.take_along_axis(ls, lo[:, None], axis=1)
    with np.errstate(invalid="ignore"):
        val = -np.sum(np.where(c > 0, c * (lp - norm_), 0.0), axis=1)
    m_min = edges[lo] + 0.5 * (edges[1] - edges[0])
    inside = (
        (t[:, 0] >= math.log(0.05))
        & (t[:, 0] <= math.log(10.0))
        & (mu >= m_min - 5.0)
        & (mu <= edges[-1] - 0.5 * (edges[1] - edges[0]))
        & (t[:, 2] >= math.log(1e-3))
        & (t[:, 2] <= math.log(3.0))
    )
    return np.where(inside & np.isfinite(val), val, np.inf)


def _emr_newton_batch(
    t0: np.ndarray, u: np.ndarray, rows: np.ndarray, dm: float, iters: int = 40
) -> np.ndarray:
    """Maximum-likelihood ``(log b, mu, log sigma)`` of each row of counts, all at once.

    Damped Newton steps from ``t0`` (the estimate of the data) with finite-difference
    gradients and Hessians evaluated for every row in one batch; a step is halved up to
    four times until the likelihood improves, else the row stops.  Rows whose optimum
    is not found are NaN.
    """
    r = rows.shape[0]
    edges = np.append(u - dm / 2, u[-1] + dm / 2)
    lo = np.argmax(rows > 0, axis=1)
    x = np.tile(np.asarray(t0, dtype=float), (r, 1))
    h = 1e-4
    eye = np.eye(3) * h
    # stencil: centre, +-e_i, and +-e_i +-e_j (i < j)
    offs = [np.zeros(3)] + [sgn * eye[i] for i in range(3) for sgn in (1, -1)]
    pairs = [(i, j) for i in range(3) for j in range(i + 1, 3)]
    offs += [si * eye[i] + sj * eye[j] for i, j in pairs for si in (1, -1) for sj in (1, -1)]
    offs_arr = np.array(offs)  # (19, 3)
    active = np.ones(r, dtype=bool)
    fx = _emr_nll_batch(x, edges, rows, lo)
    for _ in range(iters):
        a = np.flatnonzero(active & np.isfinite(fx))
        if a.size == 0:
            break
        pts = (x[a, None, :] + offs_arr[None, :, :]).reshape(-1, 3)
        vals = _emr_nll_batch(pts, edges, np.repeat(rows[a], 19, axis=0), np.repeat(lo[a], 19))
        vals = vals.reshape(a.size, 19)
        f0 = vals[:, 0]
        g = np.stack([(vals[:, 1 + 2 * i] - vals[:, 2 + 2 * i]) / (2 * h) for i in range(3)], 1)
        hess = np.empty((a.size, 3, 3))
        for i in range(3):
            hess[:, i, i] = (vals[:, 1 + 2 * i] - 2 * f0 + vals[:, 2 + 2 * i]) / h**2
        for q, (i, j) in enumerate(pairs):
            pp, pm, mp, mm = (vals[:, 7 + 4 * q + k] for k in range(4))
            hess[:, i, j] = hess[:, j, i] = (pp - pm - mp + mm) / (4 * h * h)
        ok = np.isfinite(vals).all(axis=1)
        step = np.zeros((a.size, 3))
        try:
            lam = np.linalg.eigvalsh(hess[ok])
            pd = lam[:, 0] > 0
        except np.linalg.LinAlgError:
            pd = np.zeros(int(ok.sum()), dtype=bool)
        okpd = np.flatnonzero(ok)[pd]
        step[okpd] = -np.linalg.solve(hess[okpd], g[okpd][..., None])[..., 0]
        nopd = np.setdiff1d(np.arange(a.size), okpd)
        step[nopd] = -0.01 * g[nopd] / np.maximum(np.linalg.norm(g[nopd], axis=1), 1e-12)[:, None]
        step = np.clip(step, -0.5, 0.5)
        improved = np.zeros(a.size, dtype=bool)
        for alpha in (1.0, 0.5, 0.25, 0.125, 0.0625):
            todo = ~improved
            if not todo.any():
                break
            cand = x[a[todo]] + alpha * step[todo]
            fc = _emr_nll_batch(cand, edges, rows[a[todo]], lo[a[todo]])
            better = fc < fx[a[todo]]
            idx = a[todo][better]
            x[idx] = cand[better]
            fx[idx] = fc[better]
            improved[np.flatnonzero(todo)[better]] = True
        small = np.max(np.abs(step), axis=1) < 1e-6
        active[a[~improved | small]] = False
    x[~np.isfinite(fx)] = np.nan
    return x


_NM_TIGHT = {"xatol": 1e-7, "fatol": 1e-9, "maxiter": 3000, "maxfev": 3000}


def _emr_fit(
    u: np.ndarray,
    c: np.ndarray,
    dm: float,
    starts: list[np.ndarray],
    options: dict[str, Any],
) -> Any:
    """Nelder–Mead fit of the detection model to counts ``c`` at bin centres ``u``.

    Works on ``t = (log b, mu, log sigma)`` inside a search box (outside: +inf); returns
    the best scipy result over ``starts``, restarted once from its optimum, or ``None`` when
    no start has a finite likelihood.
    """
    m_min = float(u[0])
    edges = np.append(u - dm / 2, u[-1] + dm / 2)
    lo_box = np.array([math.log(0.05), m_min - 5.0, math.log(1e-3)])
    hi_box = np.array([math.log(10.0), float(u[-1]), math.log(3.0)])

    def nll_t(t: np.ndarray) -> float:
        if np.any(t < lo_box) or np.any(t > hi_box):
            return math.inf
        return _emr_nll(np.array([math.exp(t[0]), t[1], math.exp(t[2])]), edges, c, dm, m_min)

    from scipy import optimize  # imported here: only the EMR fit needs it

    best = None
    for t0 in starts:
        if not math.isfinite(nll_t(t0)):
            continue
        res = optimize.minimize(nll_t, t0, method="Nelder-Mead", options=options)
        if best is None or res.fun < best.fun:
            best = res
    if best is not None:
        best = optimize.minimize(nll_t, best.x, method="Nelder-Mead", options=options)
    return best


@_doc
def mc_emr(
    m: ArrayLike,
    delta_m: float | None = None,
    *,
    detection_level: float = 0.99,
    n_boot: int = 0,
    boot_prob: float = 0.9,
    seed: int | np.random.Generator | None = None,
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
    {boot}
        The replicates are refitted together, by damped Newton steps (finite-difference
        derivatives) from the estimate of the data.

    Returns
    -------
    McResult
        ``details``: ``delta_m``, ``m_min``, ``b``, ``mu``, ``sigma`` and their standard
        errors ``se_b``, ``se_mu``, ``se_sigma`` (inverse observed information, by finite
        differences), ``cov`` (3x3 in the order b, mu, sigma), ``mc_continuous`` =
        ``mu + sigma Phi^-1(level)`` and ``mc_continuous_se`` (delta method),
        ``detection_level``, ``loglik``, ``n``, ``n_above``, ``complete_from_lowest_bin``.

    Raises
    ------
    DataError
        Bad ``m`` or ``delta_m``; fewer than 2 distinct bins.
    OptionError
        ``detection_level`` not in (0, 1); bad ``n_boot`` or ``boot_prob``.
    FitError
        If no starting point gives a finite likelihood.

    Warns
    -----
    DataWarning
        When the fitted detection probability at ``m_min`` already exceeds the level (the
        catalog looks complete from its lowest bin; ``mu`` and ``sigma`` are then poorly
        identified), or when ``mc`` is above nearly all the data (``reliable=False``; e.g.
        JMA 1926–2007 M >= 4.5, where one roll-off fits the changing network badly and
        ``mc`` = 7.6 leaves 8 of 13 724 events).
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
    n_boot, boot_prob = _check_boot(n_boot, boot_prob)
    f = _fmd(m, delta_m)
    dm = f.delta_m
    u, c = f.centres, f.counts.astype(float)
    if u.size < 2:
        raise DataError("m falls in a single magnitude bin; the detection model cannot be fitted")
    m_min = float(u[0])

    # starting values: b from the tail above the modal bin, mu near the mode.  Nelder-Mead
    # (derivative-free, cheap per step) from three starts, then a restart from the best.
    mode = float(f.centres[int(np.argmax(f.counts))])
    try:
        b0 = b_tinti_mulargia(f.m, round(mode + 2 * dm, 10), dm).b
    except DataError:
        b0 = 1.0
    b0 = min(max(b0, 0.3), 3.0)
    starts = [
        np.array([math.log(b0), mu0, math.log(s0)])
        for mu0, s0 in ((mode, 0.1), (mode - 2 * dm, 0.3), (mode + 2 * dm, 0.2))
    ]
    best = _emr_fit(u, c, dm, starts, _NM_TIGHT)
    if best is None:
        raise FitError("mc_emr: no starting point gives a finite likelihood")
    if not best.success:
        _warn(
            f"mc_emr: the optimiser reports no convergence ({best.message})",
            ConvergenceWarning,
        )
    theta = np.array([math.exp(best.x[0]), best.x[1], math.exp(best.x[2])])
    b, mu, sigma = (float(v) for v in theta)
    edges = np.append(u - dm / 2, u[-1] + dm / 2)

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
        _warn(
            "mc_emr: the observed information is not positive definite at the optimum; "
            "standard errors are NaN (mu and sigma are probably not identified)",
            ConvergenceWarning,
        )
    zp = float(ndtri(p))
    mc_cont = mu + zp * sigma
    grad = np.array([0.0, 1.0, zp])
    mc_cont_se = float(math.sqrt(grad @ cov @ grad)) if np.all(np.isfinite(cov)) else math.nan
    k = math.ceil((mc_cont - m_min) / dm - _GRID_TOL)
    complete_low = k <= 0
    if complete_low:
        _warn(
            f"mc_emr: the fitted detection probability at the lowest bin ({m_min}) is "
            f"already >= {p}; the catalog looks complete from its lowest magnitude and mu, "
            "sigma are poorly constrained",
            DataWarning,
        )
    mc = round(m_min + max(k, 0) * dm, 10)
    boot_mc = None
    if n_boot:
        rows = _count_rows(f, n_boot, _rng(seed))[1:]
        t_hat = _emr_newton_batch(best.x, u, rows, dm)
        lo = np.argmax(rows > 0, axis=1)  # a replicate may miss the lowest bins
        mc_r = t_hat[:, 1] + zp * np.exp(t_hat[:, 2])
        k_r = np.ceil((mc_r - u[lo]) / dm - _GRID_TOL)
        boot_mc = np.round(u[lo] + np.maximum(k_r, 0) * dm, 10)
    se = np.sqrt(np.diag(cov))
    return _result(
        f,
        "emr",
        mc,
        {
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
            "complete_from_lowest_bin": bool(complete_low),
        },
        boot_mc,
        boot_prob,
    )


def _ks_distance(counts: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KS distance between the empirical CDF of binned counts and the geometric CDF.

    ``counts`` is ``(rows, L)`` over the bins ``k = 0 .. L-1`` above Mc, ``q`` the ratio
    ``exp(-beta delta_m)`` of each row; the GR CDF at bin ``k`` is ``1 - q**(k+1)``.  Above
    the last bin the empirical CDF is 1 and the distance only shrinks, so the maximum over
    these bins is the maximum over all.
    """
    n = counts.sum(axis=1, keepdims=True)
    ecdf = np.cumsum(counts, axis=1) / n
    k = np.arange(counts.shape[1]) + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = 1.0 - np.power(q[:, None], k)
    return np.max(np.abs(ecdf - cdf), axis=1)


def _ks_null(
    n: int, q: float, n_bins: int, n_sim: int, refit: bool, rng: np.random.Generator
) -> np.ndarray:
    """Sorted KS distances of ``n_sim`` samples of ``n`` binned GR magnitudes with ratio ``q``.

    Samples are multinomial counts over ``L`` bins (the last one collecting the tail, of
    probability below 1e-6/n when ``L`` is large enough); with ``refit`` each sample's own
    maximum-likelihood ``q`` is used, as for the data (Clauset et al. 2009).
    """
    tail = math.ceil(math.log(1e-6 / n) / math.log(q)) + 1 if 0 < q < 1 else 1
    size = max(n_bins, tail)
    k = np.arange(size, dtype=float)
    p = (1.0 - q) * q**k
    p[-1] = q ** (size - 1)
    sims = rng.multinomial(n, p / p.sum(), size=n_sim).astype(float)
    if refit:
        kbar = sims @ k / n
        qs = kbar / (1.0 + kbar)
    else:
        qs = np.full(n_sim, q)
    return np.sort(_ks_distance(sims, qs))


def _p_value(null: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Fraction of the (sorted) null distances at least as large as ``d``."""
    return (null.size - np.searchsorted(null, d, side="left")) / null.size


@_doc
def mc_ks(
    m: ArrayLike,
    delta_m: float | None = None,
    *,
    p_pass: float = 0.1,
    n_sim: int = 1000,
    refit: bool = True,
    min_events: int = 50,
    n_boot: int = 0,
    boot_prob: float = 0.9,
    seed: int | np.random.Generator | None = None,
) -> McResult:
    """Kolmogorov–Smirnov Mc: the smallest Mc where the GR law is not rejected.

    For each candidate ``Mc`` (a bin centre with at least ``min_events`` events at or
    above it), from the lowest up: ``b`` is estimated above it (Tinti & Mulargia), and the
    KS distance ``D`` between the empirical CDF of the binned magnitudes and the CDF of the
    fitted binned GR law, ``1 - q**(k + 1)`` at the bin ``k`` above Mc, is compared with the
    distances of ``n_sim`` samples of the same size simulated from the fitted law: the
    p-value is the fraction at least as large.  ``mc`` is the first candidate with
    ``p >= p_pass``.  This is the ``mc_ks`` method of SeismoStats (KS distance to the
    discrete GR law, p-value from simulated samples, first Mc passing, default
    ``p_pass=0.1``) with one difference, ``refit=True`` (default): each simulated sample gets
    its own fitted b, as the data do (Clauset et al. 2009; with a fixed b the simulated
    distances are too large and the test too lenient).  ``refit=False`` reproduces
    SeismoStats.  If no candidate passes, the one with the largest p-value is returned
    with ``reliable=False`` and a :class:`~pystats.errors.DataWarning`.

    Parameters
    ----------
    m : array_like
        Magnitudes.
    delta_m : float, optional
        Bin width (default: the catalog's rounding step, at least 0.1).
    p_pass : float, optional
        p-value at or above which a candidate passes (default 0.1).
    n_sim : int, optional
        Simulated samples per candidate (default 1000; the p-value's Monte Carlo sd is
        about ``sqrt(p (1 - p) / n_sim)``, 0.01 at 0.1).
    refit : bool, optional
        Refit b on each simulated sample (default True; False as SeismoStats).
    min_events : int, optional
        Smallest number of events above a candidate (default 50).
    {boot}
        The replicates reuse the simulated distances of the data at each candidate (an
        approximation: their sizes and b differ from the data's by sampling noise only).

    Returns
    -------
    McResult
        ``details``: ``delta_m``, ``criterion`` (``"p>=0.1"`` or ``"max p"``), ``b``,
        ``ks_distance`` and ``p_value`` at ``mc``, ``p_pass``, ``n_sim``, ``refit`` and the
        arrays ``candidates``, ``ks_curve``, ``p_curve`` over the candidates tested.

    Raises
    ------
    DataError
        Too few magnitudes; bad ``m`` or ``delta_m``.
    OptionError
        Bad ``p_pass``, ``n_sim``, ``min_events``, ``n_boot`` or ``boot_prob``.

    Warns
    -----
    DataWarning
        When no candidate passes, or ``mc`` is above nearly all the data.

    References
    ----------
    Clauset, A., Shalizi, C. R., & Newman, M. E. J. (2009). Power-law distributions in
    empirical data. SIAM Review, 51(4), 661–703. https://doi.org/10.1137/070710111

    Mizrahi, L., Nandan, S., & Wiemer, S. (2021). The effect of declustering on the size
    distribution of mainshocks. Seismological Research Letters, 92(4), 2333–2342.
    https://doi.org/10.1785/0220200231
    """
    p_pass = _check_level(p_pass, "p_pass", 0.0, 1.0)
    if isinstance(n_sim, bool) or not isinstance(n_sim, int | np.integer) or n_sim < 10:
        raise OptionError(f"n_sim must be an integer >= 10; got {n_sim!r}")
    min_events = _check_min_events(min_events)
    n_boot, boot_prob = _check_boot(n_boot, boot_prob)
    rng = _rng(seed)
    f = _fmd(m, delta_m)
    rows = _count_rows(f, n_boot, rng)
    b, _, n = _b_curves(rows, f, min_events, "tinti", "fisher")
    idx = _point_candidates(b, f, min_events)
    q = np.exp(-LN10 * b * f.delta_m)
    n_bins = f.centres.size
    nulls: dict[int, np.ndarray] = {}

    def null(j: int) -> np.ndarray:
        if j not in nulls:
            nulls[j] = _ks_null(int(n[0, j]), float(q[0, j]), n_bins - j, int(n_sim), refit, rng)
        return nulls[j]

    def distance(r: np.ndarray, j: int) -> np.ndarray:
        return _ks_distance(rows[r, j:], q[r, j])

    tested, d_curve, p_curve = [], [], []
    for j in idx:
        d = float(distance(np.array([0]), int(j))[0])
        pv = float(_p_value(null(int(j)), np.array([d]))[0])
        tested.append(int(j))
        d_curve.append(d)
        p_curve.append(pv)
        if pv >= p_pass:
            break
    p_arr = np.array(p_curve)
    passed = p_arr[-1] >= p_pass
    pos = len(tested) - 1 if passed else int(np.argmax(p_arr))
    j0 = tested[pos]
    if not passed:
        _warn(
            f"mc_ks: no candidate Mc passes the KS test at p >= {p_pass:g} (largest p-value "
            f"{p_arr[pos]:.3g} at Mc={f.centres[j0]:g}); the GR law does not fit above any "
            "Mc, so this Mc is not reliable",
            DataWarning,
        )
    boot_mc = None
    if n_boot:
        boot_mc = np.full(n_boot, np.nan)
        active = np.arange(1, n_boot + 1)
        for j in idx:
            j = int(j)
            r = active[np.isfinite(b[active, j])]
            if r.size:
                ok = _p_value(null(j), distance(r, j)) >= p_pass
                boot_mc[r[ok] - 1] = f.centres[j]
                active = np.setdiff1d(active, r[ok])
            if active.size == 0:
                break
    return _result(
        f,
        "ks",
        float(f.centres[j0]),
        {
            "delta_m": f.delta_m,
            "criterion": f"p>={p_pass:g}" if passed else "max p",
            "b": float(b[0, j0]),
            "ks_distance": d_curve[pos],
            "p_value": p_curve[pos],
            "p_pass": p_pass,
            "n_sim": int(n_sim),
            "refit": bool(refit),
            "candidates": f.centres[np.array(tested)],
            "ks_curve": np.array(d_curve),
            "p_curve": p_arr,
        },
        boot_mc,
        boot_prob,
        reliable=bool(passed),
    )


_MC_FUNCS: dict[str, Callable[..., McResult]] = {
    "maxc": mc_maxc,
    "gft": mc_gft,
    "mbs": mc_mbs,
    "emr": mc_emr,
    "ks": mc_ks,
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
    method : {"maxc", "gft", "mbs", "emr", "ks"}
        :func:`mc_maxc` (default), :func:`mc_gft`, :func:`mc_mbs`, :func:`mc_emr` or
        :func:`mc_ks`.
    **kwargs
        Passed to the method (e.g. ``correction=0.2`` for ``"maxc"``, ``level=95`` for
        ``"gft"``; ``n_boot``, ``boot_prob`` and ``seed`` for every method).

    Returns
    -------
    McResult
        Check ``reliable``: False when ``mc`` is above nearly all the data or the method's
        criterion failed.

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
