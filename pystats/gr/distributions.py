"""Magnitude distributions of the Gutenberg–Richter family, as plain NumPy/SciPy functions.

Conventions used throughout (see ``models/gutenberg_richter.md`` for the derivations):

* ``b`` is the Gutenberg–Richter b-value; ``beta = b * ln(10)`` is the rate of the
  exponential distribution of magnitudes.
* ``delta_m`` is the width of the magnitude bins (the rounding step of the catalog);
  ``delta_m = 0`` means continuous magnitudes.
* ``mc`` is the completeness magnitude.  For binned magnitudes it is the *centre* of the
  lowest bin used, so the bins are ``[mc + k*delta_m - delta_m/2, mc + k*delta_m + delta_m/2)``
  for ``k = 0, 1, ...``.

The binned Gutenberg–Richter law is then exactly geometric:
``k = (m - mc) / delta_m ~ Geometric``, ``P(k) = (1 - q) q**k`` with ``q = exp(-beta*delta_m)``.

All functions broadcast over their array arguments, never modify their inputs, and return
a NumPy scalar for scalar input.

References
----------
Aki, K. (1965). Maximum likelihood estimate of b in the formula log N = a - bM and its
confidence limits. Bulletin of the Earthquake Research Institute, 43, 237–239.

Hanks, T. C., & Kanamori, H. (1979). A moment magnitude scale. Journal of Geophysical
Research, 84(B5), 2348–2350. https://doi.org/10.1029/JB084iB05p02348

Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
Geophysical Journal International, 148(3), 520–541.
https://doi.org/10.1046/j.1365-246x.2002.01594.x

Ogata, Y., & Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
magnitude frequency distribution inferred from earthquake catalogues. Geophysical Journal
International, 113(3), 727–738. https://doi.org/10.1111/j.1365-246X.1993.tb04663.x

Tinti, S., & Mulargia, F. (1987). Confidence intervals of b values for grouped magnitudes.
Bulletin of the Seismological Society of America, 77(6), 2125–2134.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import log_ndtr

from .. import _checks
from .._warnings import warn as _warn
from ..errors import DataError, OffGridWarning, OptionError

__all__ = [
    "bin_magnitudes",
    "detection_cdf",
    "detection_logpdf",
    "detection_logpmf_binned",
    "detection_logsf",
    "gr_logpmf",
    "gr_survival",
    "infer_delta_m",
    "magnitude_from_moment",
    "moment_from_magnitude",
    "simulate_detection",
    "simulate_gr",
    "simulate_tapered_gr",
    "tapered_gr_logpdf",
    "tapered_gr_logpmf_binned",
    "tapered_gr_logsf",
    "tapered_gr_survival",
]

LN10 = math.log(10.0)
_LOG_HALF = math.log(0.5)
#: Magnitude steps tried by :func:`infer_delta_m`, largest first.
_CANDIDATE_STEPS = (1.0, 0.5, 0.25, 0.2, 0.1, 0.05, 0.025, 0.02, 0.01, 0.005, 0.002, 0.001)
#: Tolerance, in units of one bin, for "this value is on the grid" (float32 input included).
_GRID_TOL = 1e-4
#: Smallest fraction of the magnitudes that must lie on the grid inferred by infer_delta_m.
GRID_MAJORITY = 0.95


# ---------------------------------------------------------------------------- validation
def _out(x: np.ndarray) -> Any:
    """Return a NumPy scalar for 0-d arrays, the array otherwise."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def _as_float_array(x: ArrayLike, name: str, *, allow_inf: bool = False) -> np.ndarray:
    """Copy ``x`` into a float array; raise :class:`DataError` naming ``name`` on NaN/inf."""
    try:
        arr = np.array(x, dtype=float, copy=True)
    except (TypeError, ValueError) as e:
        raise DataError(f"{name} must be numeric; got {x!r}") from e
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if np.any(bad):
        idx = np.flatnonzero(bad.ravel())
        raise DataError(
            f"{name} contains {idx.size} non-finite value(s) (first at index {int(idx[0])}: "
            f"{arr.ravel()[idx[0]]}); all values must be finite numbers"
        )
    return arr


def _check_magnitudes(m: ArrayLike, name: str = "m") -> np.ndarray:
    """A finite, 1-D float copy of ``m`` (scalars are promoted to length 1)."""
    arr = _as_float_array(m, name)
    if arr.ndim > 1:
        raise DataError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return np.atleast_1d(arr)


def _check_delta_m(delta_m: float, name: str = "delta_m") -> float:
    try:
        dm = float(delta_m)
    except (TypeError, ValueError) as e:
        raise DataError(f"{name} must be a number >= 0; got {delta_m!r}") from e
    if not math.isfinite(dm) or dm < 0:
        raise DataError(f"{name} must be a finite number >= 0 (0 = continuous); got {delta_m!r}")
    return dm


def _check_scalar(x: float, name: str, *, positive: bool = False, allow_inf: bool = False) -> float:
    return _checks.real(name, x, low=0.0 if positive else None, low_open=positive,
                        allow_inf=allow_inf)


def _check_positive_param(x: ArrayLike, name: str) -> np.ndarray:
    """Array parameter (``b``, ``sigma``) that must be finite and > 0 everywhere."""
    if np.asarray(x).dtype == bool:
        raise OptionError(f"{name} must be finite and > 0; got {x!r} (a boolean, not a number)")
    arr = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise OptionError(f"{name} must be finite and > 0; got {x!r}")
    return arr


def _check_finite_param(x: ArrayLike, name: str) -> np.ndarray:
    if np.asarray(x).dtype == bool:
        raise OptionError(f"{name} must be finite; got {x!r} (a boolean, not a number)")
    arr = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise OptionError(f"{name} must be finite; got {x!r}")
    return arr


def _check_n(n: int) -> int:
    return _checks.integer("n", n, 0)


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    rng = _checks.seed(rng, "rng", generator=True)
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate everywhere (Mächler 2012)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _grid_index(m: np.ndarray, origin: ArrayLike, dm: float, name: str = "m") -> np.ndarray:
    """Integer bin index of ``m`` on the grid ``origin + k*dm``; DataError if off the grid."""
    k = (m - origin) / dm
    kr = np.round(k)
    off = np.abs(k - kr) > _GRID_TOL
    if np.any(off):
        first = np.broadcast_to(m, off.shape)[off][0]
        raise DataError(
            f"{name} contains values that are not on the magnitude grid of width {dm} through "
            f"{np.ravel(np.asarray(origin))[0]} (e.g. {first}); bin them first with "
            "bin_magnitudes(m, delta_m) or pass delta_m=0 for continuous magnitudes"
        )
    return kr


# ---------------------------------------------------------------------------- binning
def _distinct(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codes, values, counts)``: the distinct values of ``arr`` in order of first
    appearance, each element's index into them, and how often each occurs (a hash pass:
    the grid rules below then cost O(distinct values), not O(n), per candidate step)."""
    import pandas as pd

    codes, values = pd.factorize(arr)
    return codes, np.asarray(values, dtype=float), np.bincount(codes, minlength=values.size)


def _grid_fit_distinct(values: np.ndarray, counts: np.ndarray, step: float
                       ) -> tuple[float, np.ndarray]:
    """:func:`_grid_fit` on distinct ``values`` (first-appearance order) with ``counts``."""
    k = values / step
    frac = k - np.floor(k)
    q = np.round(frac * 1000.0).astype(np.int64) % 1000
    per_q = np.bincount(q, weights=counts, minlength=1000)
    top = np.flatnonzero(per_q == per_q.max())
    q_min = q[int(np.argmin(values))]
    mode = q_min if q_min in top else int(top[0])
    ref = float(frac[np.flatnonzero(q == mode)[0]])
    d = frac - ref
    d -= np.round(d)  # circular distance, in bins
    on = np.abs(d) < _GRID_TOL
    origin = float(values[on].min()) if np.any(on) else 0.0
    return origin, on


def _grid_fit(arr: np.ndarray, step: float) -> tuple[float, np.ndarray]:
    """Origin of the grid of width ``step`` holding most of ``arr``, and the on-grid mask.

    The position of each value within its bin, ``frac(m/step)``, is quantised to 1/1000 of
    a bin; the most common position (ties: the one of the smallest magnitude) is the grid's
    offset, measured from the first value (in ``arr``'s order) at that position.  A value is
    on the grid when it is within ``_GRID_TOL`` bins of it.
    """
    codes, values, counts = _distinct(arr)
    origin, on = _grid_fit_distinct(values, counts, step)
    return origin, on[codes]


def _infer_grid(arr: np.ndarray) -> tuple[float, float, np.ndarray]:
    """``(delta_m, origin, off_grid_mask)`` by the rule of :func:`infer_delta_m`."""
    codes, values, counts = _distinct(arr)
    if values.size < 2:
        raise DataError(
            f"m has {values.size} distinct value(s); at least 2 are needed to infer delta_m "
            "(pass delta_m explicitly)"
        )
    for step in _CANDIDATE_STEPS:
        origin, on = _grid_fit_distinct(values, counts, step)
        # the majority grid must also hold two distinct values (else any grid would do)
        if counts[on].sum() >= GRID_MAJORITY * arr.size and int(on.sum()) >= 2:
            return step, origin, ~on[codes]
    return 0.0, 0.0, np.zeros(arr.shape, dtype=bool)


def _off_grid_message(arr: np.ndarray, off: np.ndarray, step: float, origin: float) -> str:
    """``"N of M magnitudes are not on the grid ... (e.g. a, b, c)"``."""
    ex = ", ".join(f"{v:.10g}" for v in arr[off][:5])
    return (
        f"{int(off.sum())} of {arr.size} magnitudes are not on the grid of width "
        f"delta_m={step:g} through {origin:.10g} that the other "
        f"{arr.size - int(off.sum())} lie on (e.g. {ex})"
    )


def infer_delta_m(m: ArrayLike, *, warn: bool = True) -> float:
    """Detect the rounding step of binned magnitudes, robustly to a few stray values.

    The largest step among 1, 0.5, 0.25, 0.2, 0.1, 0.05, 0.025, 0.02, 0.01, 0.005, 0.002,
    0.001 such that at least ``GRID_MAJORITY`` (95 %) of the magnitudes lie on one grid of
    that step (any offset, so grids such as 2.05, 2.15, ... are recognised) and that grid
    holds at least two distinct values.  A few values off that grid (typos, a second
    resolution) therefore do not shrink the inferred step; they are reported with an
    :class:`~pystats.errors.OffGridWarning` naming how many there are, with examples.

    Parameters
    ----------
    m : array_like
        Magnitudes.
    warn : bool, optional
        Warn when some magnitudes are off the inferred grid (default True).

    Returns
    -------
    float
        The step, or ``0.0`` when no grid holds 95 % of the magnitudes (continuous).

    Raises
    ------
    DataError
        If ``m`` contains NaN or infinities, or fewer than two distinct values (the step
        cannot be inferred; pass ``delta_m`` explicitly).

    Warns
    -----
    OffGridWarning
        Some magnitudes (fewer than 5 %) are off the inferred grid.
    """
    arr = _check_magnitudes(m)
    step, origin, off = _infer_grid(arr)
    if warn and np.any(off):
        _warn(
            _off_grid_message(arr, off, step, origin)
            + f"; delta_m={step:g} is inferred from the majority. Check those values, or pass "
            "delta_m explicitly",
            OffGridWarning,
        )
    return step


def bin_magnitudes(m: ArrayLike, delta_m: float, *, origin: float = 0.0) -> np.ndarray:
    """Round magnitudes to the centres of bins of width ``delta_m``.

    A value ``x`` goes to the bin ``[c - delta_m/2, c + delta_m/2)`` with centre
    ``c = origin + k*delta_m``; halves round up (``1.65 -> 1.7`` for ``delta_m = 0.1``), and
    floating-point noise is removed (``2.3000000000000003 -> 2.3``).

    Parameters
    ----------
    m : array_like
        Magnitudes.
    delta_m : float
        Bin width; ``0`` returns a copy of ``m``.
    origin : float, optional
        A bin centre of the grid (default 0: centres are multiples of ``delta_m``).

    Returns
    -------
    numpy.ndarray
        New array of binned magnitudes (``m`` is not modified).

    Raises
    ------
    DataError
        If ``m`` contains NaN/inf or ``delta_m`` is negative.
    """
    arr = _as_float_array(m, "m")
    dm = _check_delta_m(delta_m)
    if dm == 0:
        return arr
    k = np.floor((arr - origin) / dm + 0.5 + 1e-9)
    return np.round(origin + k * dm, 10)


# ---------------------------------------------------------------------------- Gutenberg–Richter
def gr_logpmf(m: ArrayLike, b: ArrayLike, mc: float, delta_m: float) -> Any:
    """Log probability (binned) or log density (continuous) of the Gutenberg–Richter law.

    Binned (``delta_m > 0``): ``k = (m - mc)/delta_m`` and ``log P = log(1 - q) + k log q``
    with ``q = exp(-beta*delta_m)``.  Continuous (``delta_m = 0``): the exponential density
    ``log beta - beta*(m - mc)``.  Magnitudes below ``mc`` get ``-inf``.

    Parameters
    ----------
    m : array_like
        Magnitudes; for binned data they must lie on the grid ``mc + k*delta_m``.
    b : array_like
        b-value(s), > 0; broadcast against ``m``.
    mc : float
        Completeness magnitude (centre of the lowest bin when binned).
    delta_m : float
        Bin width, 0 for continuous magnitudes.

    Returns
    -------
    numpy.ndarray or numpy scalar
        Log probabilities (log densities when continuous).

    Raises
    ------
    DataError
        Non-finite magnitudes, ``delta_m < 0``, or binned magnitudes off the grid.
    OptionError
        ``b <= 0`` or non-finite ``mc``.

    References
    ----------
    Tinti, S., & Mulargia, F. (1987). Confidence intervals of b values for grouped
    magnitudes. Bulletin of the Seismological Society of America, 77(6), 2125–2134.
    """
    x = _as_float_array(m, "m")
    beta = LN10 * _check_positive_param(b, "b")
    mc = _check_scalar(mc, "mc")
    dm = _check_delta_m(delta_m)
    if dm == 0:
        with np.errstate(invalid="ignore"):
            out = np.where(x >= mc, np.log(beta) - beta * (x - mc), -np.inf)
        return _out(out)
    above = x >= mc - dm / 2
    k = _grid_index(np.where(above, x, mc), mc, dm)
    out = np.where(above, _log1mexp(-beta * dm) - beta * dm * k, -np.inf)
    return _out(out)


def gr_survival(m: ArrayLike, b: ArrayLike, mc: float, delta_m: float = 0.0) -> Any:
    """``P(M >= m)`` under the Gutenberg–Richter law above ``mc``.

    Continuous: ``exp(-beta*(m - mc))``.  Binned: ``q**k`` with ``k`` the index of the first
    bin centre ``>= m`` (so ``P(M >= m) = 1`` for ``m <= mc``).

    Parameters
    ----------
    m : array_like
        Magnitudes (need not lie on the grid).
    b : array_like
        b-value(s), > 0.
    mc : float
        Completeness magnitude.
    delta_m : float, optional
        Bin width, default 0 (continuous).

    Returns
    -------
    numpy.ndarray or numpy scalar
        Survival probabilities in ``[0, 1]``.

    Raises
    ------
    DataError, OptionError
        As for :func:`gr_logpmf`.
    """
    x = _as_float_array(m, "m")
    beta = LN10 * _check_positive_param(b, "b")
    mc = _check_scalar(mc, "mc")
    dm = _check_delta_m(delta_m)
    if dm == 0:
        return _out(np.exp(-beta * np.maximum(x - mc, 0.0)))
    k = np.maximum(np.ceil((x - mc) / dm - 1e-9), 0.0)
    return _out(np.exp(-beta * dm * k))


# ---------------------------------------------------------------------------- tapered GR
def moment_from_magnitude(m: ArrayLike) -> Any:
    """Seismic moment ``M0 = 10**(1.5*m + 9.1)`` in N m (Hanks & Kanamori 1979).

    References
    ----------
    Hanks, T. C., & Kanamori, H. (1979). A moment magnitude scale. Journal of Geophysical
    Research, 84(B5), 2348–2350. https://doi.org/10.1029/JB084iB05p02348
    """
    return _out(10.0 ** (1.5 * np.asarray(m, dtype=float) + 9.1))


def magnitude_from_moment(m0: ArrayLike) -> Any:
    """Moment magnitude ``(log10(M0) - 9.1) / 1.5`` of a seismic moment ``M0`` in N m."""
    m0 = np.asarray(m0, dtype=float)
    if np.any(~(m0 > 0)):
        raise DataError(f"seismic moment must be > 0; got {m0!r}")
    return _out((np.log10(m0) - 9.1) / 1.5)


def _tapered_logsf(x: np.ndarray, beta: np.ndarray, mt: float, cm: float) -> np.ndarray:
    """log S for x >= mt (caller handles x < mt); written so that 9.1 and M0 cancel."""
    with np.errstate(over="ignore"):
        taper = 10.0 ** (1.5 * (mt - cm)) - 10.0 ** (1.5 * (x - cm))
    return -beta * (x - mt) + taper


def tapered_gr_logsf(m: ArrayLike, b: ArrayLike, mc: float, corner_magnitude: float) -> Any:
    """Log survival ``log P(M >= m)`` of the tapered Gutenberg–Richter law (Kagan 2002).

    On seismic moment, ``S(M0) = (M0t/M0)**(2b/3) * exp((M0t - M0)/M0c)`` for ``M0 >= M0t``,
    with ``M0t`` the moment of ``mc`` and ``M0c`` that of ``corner_magnitude``.  In
    magnitude units this is ``-beta*(m - mc) + 10**(1.5*(mc - mcorner)) -
    10**(1.5*(m - mcorner))`` (the constant 9.1 cancels).

    Parameters
    ----------
    m : array_like
        Magnitudes.
    b : array_like
        b-value(s), > 0 (the Pareto index on moment is ``2b/3``).
    mc : float
        Threshold magnitude.
    corner_magnitude : float
        Corner magnitude; ``inf`` gives the pure Gutenberg–Richter law.

    Returns
    -------
    numpy.ndarray or numpy scalar
        ``log P(M >= m)`` (0 below ``mc``).

    References
    ----------
    Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
    Geophysical Journal International, 148(3), 520–541.
    https://doi.org/10.1046/j.1365-246x.2002.01594.x
    """
    x = _as_float_array(m, "m")
    beta = LN10 * _check_positive_param(b, "b")
    mc = _check_scalar(mc, "mc")
    cm = _check_scalar(corner_magnitude, "corner_magnitude", allow_inf=True)
    out = np.where(x >= mc, _tapered_logsf(np.maximum(x, mc), beta, mc, cm), 0.0)
    return _out(out)


def tapered_gr_survival(m: ArrayLike, b: ArrayLike, mc: float, corner_magnitude: float) -> Any:
    """``P(M >= m)`` of the tapered Gutenberg–Richter law; see :func:`tapered_gr_logsf`."""
    return _out(np.exp(tapered_gr_logsf(m, b, mc, corner_magnitude)))


def tapered_gr_logpdf(m: ArrayLike, b: ArrayLike, mc: float, corner_magnitude: float) -> Any:
    """Log density, in magnitude units, of the tapered Gutenberg–Richter law (Kagan 2002).

    ``f(m) = S(m) * 1.5 ln(10) * (2b/3 + M0(m)/M0c)`` for ``m >= mc``, ``-inf`` below.

    Parameters
    ----------
    m : array_like
        Magnitudes.
    b : array_like
        b-value(s), > 0.
    mc : float
        Threshold magnitude.
    corner_magnitude : float
        Corner magnitude (``inf``: pure Gutenberg–Richter).

    Returns
    -------
    numpy.ndarray or numpy scalar
        Log density.

    References
    ----------
    Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
    Geophysical Journal International, 148(3), 520–541.
    https://doi.org/10.1046/j.1365-246x.2002.01594.x
    """
    x = _as_float_array(m, "m")
    bb = _check_positive_param(b, "b")
    mc = _check_scalar(mc, "mc")
    cm = _check_scalar(corner_magnitude, "corner_magnitude", allow_inf=True)
    xc = np.maximum(x, mc)
    with np.errstate(over="ignore"):
        rate = 2.0 * bb / 3.0 + 10.0 ** (1.5 * (xc - cm))
    logf = _tapered_logsf(xc, LN10 * bb, mc, cm) + math.log(1.5 * LN10) + np.log(rate)
    return _out(np.where(x >= mc, logf, -np.inf))


def tapered_gr_logpmf_binned(
    m: ArrayLike, b: ArrayLike, mc: float, corner_magnitude: float, delta_m: float
) -> Any:
    """Log probability of binned magnitudes under the tapered Gutenberg–Richter law.

    The continuous tapered law starts at ``mc - delta_m/2`` (the lower edge of the lowest
    bin, centre ``mc``) and the bin with centre ``x`` has probability
    ``S(x - delta_m/2) - S(x + delta_m/2)``.  With ``corner_magnitude = inf`` this is the
    geometric law of :func:`gr_logpmf`; with ``delta_m = 0`` it is
    :func:`tapered_gr_logpdf`.

    Parameters
    ----------
    m : array_like
        Binned magnitudes on the grid ``mc + k*delta_m``.
    b : array_like
        b-value(s), > 0.
    mc : float
        Centre of the lowest bin.
    corner_magnitude : float
        Corner magnitude (``inf`` allowed).
    delta_m : float
        Bin width (0: continuous density).

    Returns
    -------
    numpy.ndarray or numpy scalar
        Log probabilities; ``-inf`` below ``mc``.

    References
    ----------
    Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
    Geophysical Journal International, 148(3), 520–541.
    https://doi.org/10.1046/j.1365-246x.2002.01594.x
    """
    dm = _check_delta_m(delta_m)
    if dm == 0:
        return tapered_gr_logpdf(m, b, mc, corner_magnitude)
    x = _as_float_array(m, "m")
    beta = LN10 * _check_positive_param(b, "b")
    mc = _check_scalar(mc, "mc")
    cm = _check_scalar(corner_magnitude, "corner_magnitude", allow_inf=True)
    above = x >= mc - dm / 2
    k = _grid_index(np.where(above, x, mc), mc, dm)
    lo = mc + (k - 0.5) * dm
    hi = lo + dm
    mt = mc - dm / 2
    log_lo = _tapered_logsf(lo, beta, mt, cm)
    # log S(hi) - log S(lo), computed without cancellation of large terms
    with np.errstate(over="ignore", invalid="ignore"):
        d = -beta * dm - (10.0 ** (1.5 * (hi - cm)) - 10.0 ** (1.5 * (lo - cm)))
    d = np.where(np.isnan(d), -np.inf, d)
    return _out(np.where(above, log_lo + _log1mexp(d), -np.inf))


# ---------------------------------------------------------------------------- detection model
def _det_zs(m: ArrayLike, b: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> tuple:
    x = np.asarray(m, dtype=float)
    bb = _check_positive_param(b, "b")
    mu = _check_finite_param(mu, "mu")
    sigma = _check_positive_param(sigma, "sigma")
    return (x - mu) / sigma, LN10 * bb * sigma, LN10 * bb


def _det_logsf_zs(z: np.ndarray, s: np.ndarray) -> np.ndarray:
    """log(1 - F) = log[Phi(-z-s) + exp(-s z - s^2/2) Phi(z)], both terms positive."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.logaddexp(log_ndtr(-z - s), -s * z - 0.5 * s * s + log_ndtr(z))
    return np.where(z == -np.inf, 0.0, np.where(z == np.inf, -np.inf, out))


def _det_logcdf_zs(z: np.ndarray, s: np.ndarray, logsf: np.ndarray | None = None) -> np.ndarray:
    """log F; the direct difference where F < 1/2, log1mexp(log S) elsewhere."""
    if logsf is None:
        logsf = _det_logsf_zs(z, s)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a = log_ndtr(z + s)
        r = -s * z - 0.5 * s * s + log_ndtr(z) - a
        direct = a + _log1mexp(np.minimum(r, -1e-300))
        other = _log1mexp(np.minimum(logsf, 0.0))
    out = np.where(logsf > _LOG_HALF, direct, other)
    return np.where(z == -np.inf, -np.inf, np.where(z == np.inf, 0.0, out))


def detection_logpdf(m: ArrayLike, b: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> Any:
    """Log density of detected magnitudes under the Ogata–Katsura (1993) detection model.

    Magnitudes follow the Gutenberg–Richter law over the whole real line and an event of
    magnitude ``m`` is detected with probability ``Phi((m - mu)/sigma)``.  The detected
    magnitudes have the normalised density

    ``f(m) = beta * exp(-beta*(m - mu) - beta**2 sigma**2 / 2) * Phi((m - mu)/sigma)``,

    the normaliser ``∫ exp(-beta m) Phi(...) dm = exp(-beta mu + beta^2 sigma^2/2) / beta``
    following from one integration by parts.  (Equivalently, ``M = X + E`` with
    ``X ~ Normal(mu - beta sigma^2, sigma)`` and ``E ~ Exponential(beta)``: an
    exponentially modified Gaussian.)

    Parameters
    ----------
    m : array_like
        Magnitudes.
    b : array_like
        b-value(s), > 0.
    mu : array_like
        Magnitude at which half of the events are detected.
    sigma : array_like
        Width (> 0) of the detection roll-off.

    Returns
    -------
    numpy.ndarray or numpy scalar
        Log density (computed with ``log_ndtr``; stable for large ``beta*sigma``).

    References
    ----------
    Ogata, Y., & Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
    magnitude frequency distribution inferred from earthquake catalogues. Geophysical
    Journal International, 113(3), 727–738.
    https://doi.org/10.1111/j.1365-246X.1993.tb04663.x
    """
    x = _as_float_array(m, "m")
    z, s, beta = _det_zs(x, b, mu, sigma)
    return _out(np.log(beta) - s * z - 0.5 * s * s + log_ndtr(z))


def detection_logsf(m: ArrayLike, b: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> Any:
    """Log survival ``log P(M > m)`` of the detection model (see :func:`detection_cdf`)."""
    x = _as_float_array(m, "m", allow_inf=True)
    z, s, _ = _det_zs(x, b, mu, sigma)
    return _out(_det_logsf_zs(z, s))


def detection_cdf(m: ArrayLike, b: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> Any:
    """Cumulative distribution function of the detection model of :func:`detection_logpdf`.

    With ``z = (m - mu)/sigma`` and ``s = beta*sigma``,

    ``F(m) = Phi(z + s) - exp(-s z - s**2/2) Phi(z)``,

    and the survival ``1 - F = Phi(-z - s) + exp(-s z - s**2/2) Phi(z)`` is a sum of two
    positive terms; both are evaluated in log space.

    Parameters
    ----------
    m : array_like
        Magnitudes (``±inf`` allowed).
    b, mu, sigma : array_like
        Model parameters as in :func:`detection_logpdf`.

    Returns
    -------
    numpy.ndarray or numpy scalar
        ``P(M <= m)``.

    References
    ----------
    Ogata, Y., & Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
    magnitude frequency distribution inferred from earthquake catalogues. Geophysical
    Journal International, 113(3), 727–738.
    https://doi.org/10.1111/j.1365-246X.1993.tb04663.x
    """
    x = _as_float_array(m, "m", allow_inf=True)
    z, s, _ = _det_zs(x, b, mu, sigma)
    return _out(np.exp(_det_logcdf_zs(z, s)))


def _det_log_interval(zlo: np.ndarray, zhi: np.ndarray, s: np.ndarray) -> np.ndarray:
    """log(F(hi) - F(lo)) in whichever tail keeps the difference accurate."""
    slo, shi = _det_logsf_zs(zlo, s), _det_logsf_zs(zhi, s)
    flo, fhi = _det_logcdf_zs(zlo, s, slo), _det_logcdf_zs(zhi, s, shi)
    return _det_log_mass(slo, shi, flo, fhi)


def _det_log_mass(slo: np.ndarray, shi: np.ndarray, flo: np.ndarray, fhi: np.ndarray) -> np.ndarray:
    """log(F(hi) - F(lo)) from log S and log F at both ends."""
    with np.errstate(invalid="ignore"):
        right = slo + _log1mexp(np.minimum(shi - slo, 0.0))
        diff = np.where(np.isneginf(flo), -np.inf, flo - fhi)
        left = fhi + _log1mexp(np.minimum(diff, 0.0))
    return np.where(slo <= _LOG_HALF, right, left)


def _det_log_bins(z_edges: np.ndarray, s: float) -> np.ndarray:
    """Log masses of the consecutive intervals between sorted standardised edges."""
    ls = _det_logsf_zs(z_edges, s)
    lf = _det_logcdf_zs(z_edges, s, ls)
    return _det_log_mass(ls[:-1], ls[1:], lf[:-1], lf[1:])


def detection_logpmf_binned(
    m: ArrayLike,
    b: ArrayLike,
    mu: ArrayLike,
    sigma: ArrayLike,
    delta_m: float,
    m_min: float | None,
) -> Any:
    """Log probability of catalog magnitudes under the detection model, binned and truncated.

    ``log[(F(x + dm/2) - F(x - dm/2)) / (1 - F(m_min - dm/2))]`` for a bin centre
    ``x >= m_min``: the form used for real catalogs, which are cut at a lowest reported
    magnitude ``m_min`` (a bin centre).  With ``delta_m = 0`` it is the continuous density
    conditioned on ``m >= m_min``.  Magnitudes below ``m_min`` get ``-inf``.

    Parameters
    ----------
    m : array_like
        Magnitudes (bin centres on the grid ``m_min + k*delta_m`` when binned).
    b, mu, sigma : array_like
        Model parameters as in :func:`detection_logpdf`.
    delta_m : float
        Bin width (0: continuous).
    m_min : float or None
        Lowest magnitude of the catalog (bin centre); ``None`` for no truncation.

    Returns
    -------
    numpy.ndarray or numpy scalar
        Log probabilities (log densities when continuous).

    Raises
    ------
    DataError
        Non-finite magnitudes, ``delta_m < 0``, binned magnitudes off the grid.
    OptionError
        Invalid ``b``, ``mu``, ``sigma`` or ``m_min``.

    References
    ----------
    Ogata, Y., & Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
    magnitude frequency distribution inferred from earthquake catalogues. Geophysical
    Journal International, 113(3), 727–738.
    https://doi.org/10.1111/j.1365-246X.1993.tb04663.x
    """
    x = _as_float_array(m, "m")
    dm = _check_delta_m(delta_m)
    lo_cut = -np.inf
    if m_min is not None:
        m_min = _check_scalar(m_min, "m_min")
        lo_cut = m_min - dm / 2
    z, s, beta = _det_zs(x, b, mu, sigma)
    mu_a = np.asarray(mu, dtype=float)
    sig_a = np.asarray(sigma, dtype=float)
    log_norm = 0.0 if m_min is None else _det_logsf_zs((lo_cut - mu_a) / sig_a, s)
    if dm == 0:
        logp = np.log(beta) - s * z - 0.5 * s * s + log_ndtr(z) - log_norm
        keep = x >= lo_cut
    else:
        keep = x >= lo_cut
        if m_min is not None:
            _grid_index(np.where(keep, x, m_min), m_min, dm)
        zlo = (x - dm / 2 - mu_a) / sig_a
        zhi = (x + dm / 2 - mu_a) / sig_a
        logp = _det_log_interval(zlo, zhi, s) - log_norm
    return _out(np.where(keep, logp, -np.inf))


# ---------------------------------------------------------------------------- samplers
def simulate_gr(
    n: int,
    b: float,
    mc: float,
    delta_m: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Draw ``n`` magnitudes from the Gutenberg–Richter law above ``mc``.

    Continuous: ``mc + Exponential(beta)``.  Binned: ``mc + k*delta_m`` with
    ``k ~ Geometric``, ``P(k) = (1 - q) q**k`` (the same as rounding continuous magnitudes
    above ``mc - delta_m/2`` to the grid); values are exactly on the grid (``2.0, 2.1, ...``).

    Parameters
    ----------
    n : int
        Number of magnitudes.
    b : float
        b-value, > 0.
    mc : float
        Completeness magnitude (lowest bin centre when binned).
    delta_m : float, optional
        Bin width, default 0 (continuous).
    rng : numpy.random.Generator, int or None, optional
        Random generator or seed.

    Returns
    -------
    numpy.ndarray
        ``n`` magnitudes.
    """
    n = _check_n(n)
    beta = LN10 * _check_scalar(b, "b", positive=True)
    mc = _check_scalar(mc, "mc")
    dm = _check_delta_m(delta_m)
    g = _rng(rng)
    if dm == 0:
        return mc + g.exponential(1.0 / beta, size=n)
    k = g.geometric(-math.expm1(-beta * dm), size=n) - 1
    return np.round(mc + k * dm, 10)


def simulate_tapered_gr(
    n: int,
    b: float,
    mc: float,
    corner_magnitude: float,
    delta_m: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Draw ``n`` magnitudes from the tapered Gutenberg–Richter law (Kagan 2002).

    Kagan's construction: the moment is the minimum of a Pareto variable (index ``2b/3``,
    from ``M0t``) and ``M0t`` plus an exponential variable (mean ``M0c``); the survival of
    the minimum is the product of the two survivals, which is the tapered law.  Binned
    magnitudes are drawn from the continuous law above ``mc - delta_m/2`` and rounded to
    the grid ``mc + k*delta_m``, matching :func:`tapered_gr_logpmf_binned`.

    Parameters
    ----------
    n : int
        Number of magnitudes.
    b : float
        b-value, > 0.
    mc : float
        Threshold (lowest bin centre when binned).
    corner_magnitude : float
        Corner magnitude (``inf``: pure Gutenberg–Richter).
    delta_m : float, optional
        Bin width, default 0 (continuous).
    rng : numpy.random.Generator, int or None, optional
        Random generator or seed.

    Returns
    -------
    numpy.ndarray
        ``n`` magnitudes.

    References
    ----------
    Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
    Geophysical Journal International, 148(3), 520–541.
    https://doi.org/10.1046/j.1365-246x.2002.01594.x
    """
    n = _check_n(n)
    beta = LN10 * _check_scalar(b, "b", positive=True)
    mc = _check_scalar(mc, "mc")
    cm = _check_scalar(corner_magnitude, "corner_magnitude", allow_inf=True)
    dm = _check_delta_m(delta_m)
    g = _rng(rng)
    mt = mc - dm / 2
    m_pareto = mt + g.exponential(1.0 / beta, size=n)
    if math.isinf(cm):
        x = m_pareto
    else:
        e = g.exponential(1.0, size=n)
        m_exp = cm + np.log10(10.0 ** (1.5 * (mt - cm)) + e) / 1.5
        x = np.minimum(m_pareto, m_exp)
    if dm == 0:
        return x
    return bin_magnitudes(x, dm, origin=mc)


def simulate_detection(
    n: int,
    b: float,
    mu: float,
    sigma: float,
    delta_m: float = 0.0,
    m_min: float | None = None,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Draw ``n`` detected magnitudes under the Ogata–Katsura detection model.

    Gutenberg–Richter magnitudes are thinned: each is kept with probability
    ``Phi((m - mu)/sigma)``; the kept ones above ``m_min`` are returned (exactly ``n``).
    Two exact constructions are used, whichever wastes fewer draws: (i) explicit thinning
    of GR magnitudes drawn above the floor ``m_min - delta_m/2``; (ii) the identity
    "detected magnitudes = ``Normal(mu - beta sigma^2, sigma) + Exponential(beta)``", with
    draws below the floor rejected.  (ii) is needed without ``m_min``, where the GR law has
    no lower end.  Binned values are rounded to the grid through ``m_min`` (multiples of
    ``delta_m`` when ``m_min`` is None).

    Parameters
    ----------
    n : int
        Number of detected events returned.
    b : float
        b-value, > 0.
    mu : float
        Magnitude detected with probability 1/2.
    sigma : float
        Width of the detection roll-off, > 0.
    delta_m : float, optional
        Bin width, default 0 (continuous).
    m_min : float, optional
        Lowest magnitude reported (a bin centre when binned); default: no truncation.
    rng : numpy.random.Generator, int or None, optional
        Random generator or seed.

    Returns
    -------
    numpy.ndarray
        ``n`` detected magnitudes (in no particular order; they are i.i.d.).

    References
    ----------
    Ogata, Y., & Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
    magnitude frequency distribution inferred from earthquake catalogues. Geophysical
    Journal International, 113(3), 727–738.
    https://doi.org/10.1111/j.1365-246X.1993.tb04663.x
    """
    n = _check_n(n)
    beta = LN10 * _check_scalar(b, "b", positive=True)
    mu = _check_scalar(mu, "mu")
    sigma = _check_scalar(sigma, "sigma", positive=True)
    dm = _check_delta_m(delta_m)
    g = _rng(rng)
    s = beta * sigma
    edge = -math.inf if m_min is None else _check_scalar(m_min, "m_min") - dm / 2
    # acceptance rates of the two exact constructions
    log_sf_edge = 0.0 if m_min is None else float(_det_logsf_zs(np.array((edge - mu) / sigma), s))
    log_p_emg = log_sf_edge
    log_p_thin = -math.inf if m_min is None else -beta * (mu - edge) + 0.5 * s * s + log_sf_edge
    use_thinning = log_p_thin > log_p_emg
    p = math.exp(max(log_p_thin, log_p_emg))
    if p < 1e-7:  # pragma: no cover - only for absurd settings
        raise OptionError(
            f"simulate_detection: acceptance rate {p:.3g} is too small for b={b}, mu={mu}, "
            f"sigma={sigma}, m_min={m_min}"
        )
    chunks: list[np.ndarray] = []
    have = 0
    while have < n:
        size = min(int((n - have) / p * 1.1) + 64, 5_000_000)
        if use_thinning:
            x = edge + g.exponential(1.0 / beta, size=size)
            x = x[g.random(size) < np.exp(log_ndtr((x - mu) / sigma))]
        else:
            x = g.normal(mu - beta * sigma * sigma, sigma, size=size)
            x += g.exponential(1.0 / beta, size=size)
            x = x[x >= edge]
        chunks.append(x)
        have += x.size
    out = np.concatenate(chunks)[:n] if chunks else np.empty(0)
    if dm == 0:
        return out
    return bin_magnitudes(out, dm, origin=0.0 if m_min is None else float(m_min))
