"""Closed-form b-value estimators of the Gutenberg–Richter law.

Each estimator returns a frozen :class:`BValueResult`.  ``b_value`` dispatches on
``method``:

* ``"tinti"`` – :func:`b_tinti_mulargia`, the exact maximum-likelihood estimator for binned
  magnitudes (geometric law), with its Fisher-information standard error (default);
* ``"aki_utsu"`` – :func:`b_aki_utsu`, Aki's (1965) estimator with Utsu's (1966) half-bin
  correction and the Shi & Bolt (1982) standard error;
* ``"positive"`` – :func:`b_positive`, the b-positive estimator of van der Elst (2021), from
  positive differences of consecutive magnitudes.

See ``models/gutenberg_richter.md`` for the derivations.

References
----------
Aki, K. (1965). Maximum likelihood estimate of b in the formula log N = a - bM and its
confidence limits. Bulletin of the Earthquake Research Institute, 43, 237–239.

Shi, Y., & Bolt, B. A. (1982). The standard error of the magnitude-frequency b value.
Bulletin of the Seismological Society of America, 72(5), 1677–1687.

Tinti, S., & Mulargia, F. (1987). Confidence intervals of b values for grouped magnitudes.
Bulletin of the Seismological Society of America, 77(6), 2125–2134.

Utsu, T. (1966). A statistical significance test of the difference in b-value between two
earthquake groups. Journal of Physics of the Earth, 14(2), 37–40.
https://doi.org/10.4294/jpe1952.14.37

van der Elst, N. J. (2021). B-positive: A robust estimator of aftershock magnitude
distribution in transiently incomplete catalogs. Journal of Geophysical Research: Solid
Earth, 126(2), e2020JB021027. https://doi.org/10.1029/2020JB021027
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri  # the normal quantile; scipy.stats costs ~0.4 s to import

from ..errors import DataError, DataWarning, OptionError
from .distributions import (
    _GRID_TOL,
    LN10,
    _check_delta_m,
    _check_magnitudes,
    infer_delta_m,
)

__all__ = [
    "B_METHODS",
    "BValueResult",
    "a_value",
    "b_aki_utsu",
    "b_positive",
    "b_tinti_mulargia",
    "b_value",
]

LOG10_E = 1.0 / LN10
B_METHODS = ("tinti", "aki_utsu", "positive")
"""Names accepted by :func:`b_value`."""


@dataclass(frozen=True)
class BValueResult:
    """A b-value estimate.

    Attributes
    ----------
    b : float
        Estimated b-value.
    se : float
        Its standard error (``se_method`` says which formula).
    n : int
        Number of magnitudes used (number of positive differences for b-positive).
    mc : float or None
        Completeness magnitude used (lowest bin centre when binned); ``None`` for
        b-positive without a magnitude cut.
    delta_m : float
        Bin width (0: continuous).
    method : str
        ``"tinti"``, ``"aki_utsu"`` or ``"positive"``.
    se_method : str
        ``"fisher"`` (exact geometric/exponential Fisher information) or ``"shi_bolt"``.
    a : float or None
        ``log10(N) + b*mc`` (see :func:`a_value`); ``None`` for b-positive.
    se_aki : float or None
        Aki's (1965) ``b / sqrt(n)`` (reported by ``aki_utsu``).
    dmc : float or None
        Difference threshold of b-positive.
    """

    b: float
    se: float
    n: int
    mc: float | None
    delta_m: float
    method: str
    se_method: str = "fisher"
    a: float | None = None
    se_aki: float | None = None
    dmc: float | None = None

    @property
    def beta(self) -> float:
        """``b * ln(10)``, the rate of the exponential magnitude distribution."""
        return self.b * LN10

    @property
    def se_beta(self) -> float:
        """Standard error of :attr:`beta`."""
        return self.se * LN10

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Wald interval ``b ± z * se`` at confidence ``level`` (in (0, 1))."""
        if not 0 < level < 1:
            raise OptionError(f"level must be in (0, 1); got {level!r}")
        z = float(ndtri(0.5 + level / 2))
        return (self.b - z * self.se, self.b + z * self.se)


# ---------------------------------------------------------------------------- helpers
def _check_mc(mc: float) -> float:
    try:
        v = float(mc)
    except (TypeError, ValueError) as e:
        raise DataError(f"mc must be a number; got {mc!r}") from e
    if not math.isfinite(v):
        raise DataError(f"mc must be finite; got {mc!r}")
    return v


def _above_mc(m: ArrayLike, mc: float, delta_m: float | None) -> tuple[np.ndarray, float, float]:
    """Validated magnitudes at or above ``mc`` (order kept), ``mc`` and ``delta_m``."""
    arr = _check_magnitudes(m)
    mc = _check_mc(mc)
    if delta_m is None:
        dm = infer_delta_m(arr) if np.unique(arr).size >= 2 else 0.0
    else:
        dm = _check_delta_m(delta_m)
    if arr.size == 0 or mc - dm / 2 > arr.max() + 1e-9 * max(1.0, abs(mc)):
        top = "no data" if arr.size == 0 else f"the largest magnitude is {arr.max()}"
        raise DataError(f"mc={mc} is above every magnitude in m ({top})")
    cut = mc - dm / 2 - _GRID_TOL * dm if dm > 0 else mc
    x = arr[arr >= cut]
    if x.size < 2:
        raise DataError(
            f"only {x.size} magnitude(s) in m are at or above mc={mc}; at least 2 are needed"
        )
    if dm > 0:
        k = (x - mc) / dm
        if np.any(np.abs(k - np.round(k)) > _GRID_TOL):
            warnings.warn(
                f"m is not on the grid of width delta_m={dm} through mc={mc}; the binned "
                "estimators assume it is (bin the magnitudes with bin_magnitudes, or pass the "
                "catalog's own resolution as delta_m)",
                DataWarning,
                stacklevel=3,
            )
    return x, mc, dm


def _check_spread(x: np.ndarray, mc: float, dm: float) -> None:
    """DataError when every magnitude is in the lowest bin (at ``mc``): b is infinite."""
    tol = _GRID_TOL * dm if dm > 0 else 1e-12 * max(1.0, abs(mc))
    if np.all(x - mc <= tol):
        raise DataError(
            f"all {x.size} magnitudes at or above mc={mc} lie in the lowest bin (equal mc): "
            "the maximum-likelihood b-value is infinite"
        )


def _geometric_mle(excess: float, n: int, dm: float) -> tuple[float, float]:
    """MLE of beta and its Fisher SE from the mean excess ``mean(m) - threshold``.

    Binned: ``K = excess/dm`` has mean ``q/(1-q)``, so ``beta = ln(1 + dm/excess)/dm`` and
    ``se_beta = (1 - q)/(dm sqrt(n q))``.  Continuous: ``beta = 1/excess``,
    ``se_beta = beta/sqrt(n)``.
    """
    if dm == 0:
        beta = 1.0 / excess
        return beta, beta / math.sqrt(n)
    beta = math.log1p(dm / excess) / dm
    q = math.exp(-beta * dm)
    return beta, -math.expm1(-beta * dm) / (dm * math.sqrt(n * q))


def a_value(n: int, b: float, mc: float, duration: float | None = None) -> float:
    """Gutenberg–Richter a-value ``a = log10(N) + b*mc`` (per unit time with ``duration``).

    Parameters
    ----------
    n : int
        Number of events at or above ``mc`` (> 0).
    b : float
        b-value.
    mc : float
        Completeness magnitude (lowest bin centre when binned).
    duration : float, optional
        Length of the observation period; then ``a = log10(N/duration) + b*mc`` is the
        a-value of the annual (or per-unit-time) rate.

    Returns
    -------
    float
        The a-value, so that ``log10 N(>= m) = a - b*m``.

    Raises
    ------
    OptionError
        ``n <= 0``, non-finite ``b``/``mc`` or ``duration <= 0``.

    References
    ----------
    Gutenberg, B., & Richter, C. F. (1944). Frequency of earthquakes in California. Bulletin
    of the Seismological Society of America, 34(4), 185–188.
    """
    if not n > 0:
        raise OptionError(f"n must be a positive number of events; got {n!r}")
    if not (math.isfinite(b) and math.isfinite(mc)):
        raise OptionError(f"b and mc must be finite; got b={b!r}, mc={mc!r}")
    rate = float(n)
    if duration is not None:
        if not (math.isfinite(duration) and duration > 0):
            raise OptionError(f"duration must be finite and > 0; got {duration!r}")
        rate /= duration
    return math.log10(rate) + b * mc


# ---------------------------------------------------------------------------- estimators
def b_aki_utsu(m: ArrayLike, mc: float, delta_m: float | None = None) -> BValueResult:
    """Aki (1965) maximum-likelihood b-value with Utsu's (1966) binning correction.

    ``b = log10(e) / (mean(m) - (mc - delta_m/2))`` over the magnitudes ``>= mc``.  The
    standard error is Shi & Bolt's (1982)
    ``ln(10) b**2 sqrt(sum((m - mean)**2) / (n (n - 1)))`` (they round ``ln 10`` to 2.30);
    Aki's ``b/sqrt(n)`` is reported as ``se_aki``.

    Parameters
    ----------
    m : array_like
        Magnitudes (any order).
    mc : float
        Completeness magnitude (lowest bin centre when binned).
    delta_m : float, optional
        Bin width; ``None`` infers it with :func:`~pystats.gr.distributions.infer_delta_m`,
        0 means continuous.

    Returns
    -------
    BValueResult
        ``method="aki_utsu"``, ``se_method="shi_bolt"``.

    Raises
    ------
    DataError
        NaN/inf in ``m``, non-finite ``mc``, ``delta_m < 0``, ``mc`` above all magnitudes,
        fewer than 2 magnitudes at or above ``mc``, or no spread above the threshold.

    Warns
    -----
    DataWarning
        If the magnitudes are not on the ``delta_m`` grid through ``mc``.

    References
    ----------
    Aki, K. (1965). Maximum likelihood estimate of b in the formula log N = a - bM and its
    confidence limits. Bulletin of the Earthquake Research Institute, 43, 237–239.

    Utsu, T. (1966). A statistical significance test of the difference in b-value between
    two earthquake groups. Journal of Physics of the Earth, 14(2), 37–40.

    Shi, Y., & Bolt, B. A. (1982). The standard error of the magnitude-frequency b value.
    Bulletin of the Seismological Society of America, 72(5), 1677–1687.
    """
    x, mc, dm = _above_mc(m, mc, delta_m)
    _check_spread(x, mc, dm)
    n = x.size
    mean = float(x.mean())
    excess = mean - (mc - dm / 2)
    b = LOG10_E / excess
    se = LN10 * b * b * math.sqrt(float(np.sum((x - mean) ** 2)) / (n * (n - 1)))
    return BValueResult(
        b=b,
        se=se,
        n=n,
        mc=mc,
        delta_m=dm,
        method="aki_utsu",
        se_method="shi_bolt",
        a=a_value(n, b, mc),
        se_aki=b / math.sqrt(n),
    )


def b_tinti_mulargia(m: ArrayLike, mc: float, delta_m: float | None = None) -> BValueResult:
    """Exact maximum-likelihood b-value for binned magnitudes (Tinti & Mulargia 1987).

    Binned Gutenberg–Richter magnitudes are geometric: ``k = (m - mc)/delta_m`` has
    ``P(k) = (1 - q) q**k`` with ``q = exp(-beta delta_m)``.  The MLE is

    ``b = ln(1 + delta_m/(mean(m) - mc)) / (ln(10) delta_m)``

    and the Fisher information gives ``se_beta = (1 - q)/(delta_m sqrt(n q))``,
    ``se_b = se_beta/ln(10)``.  For ``delta_m = 0`` it is the continuous MLE
    ``log10(e)/(mean(m) - mc)`` with ``se = b/sqrt(n)``.

    Parameters
    ----------
    m : array_like
        Magnitudes (any order).
    mc : float
        Completeness magnitude (lowest bin centre when binned).
    delta_m : float, optional
        Bin width; ``None`` infers it, 0 means continuous.

    Returns
    -------
    BValueResult
        ``method="tinti"``, ``se_method="fisher"``.

    Raises
    ------
    DataError
        As :func:`b_aki_utsu`; also when every magnitude equals ``mc`` (the MLE is
        infinite).

    Warns
    -----
    DataWarning
        If the magnitudes are not on the ``delta_m`` grid through ``mc``.

    References
    ----------
    Tinti, S., & Mulargia, F. (1987). Confidence intervals of b values for grouped
    magnitudes. Bulletin of the Seismological Society of America, 77(6), 2125–2134.
    """
    x, mc, dm = _above_mc(m, mc, delta_m)
    _check_spread(x, mc, dm)
    n = x.size
    excess = float(x.mean()) - mc
    beta, se_beta = _geometric_mle(excess, n, dm)
    b = beta / LN10
    return BValueResult(
        b=b,
        se=se_beta / LN10,
        n=n,
        mc=mc,
        delta_m=dm,
        method="tinti",
        se_method="fisher",
        a=a_value(n, b, mc),
    )


def b_positive(
    m: ArrayLike,
    delta_m: float | None = None,
    dmc: float | None = None,
    *,
    mc: float | None = None,
    times: ArrayLike | None = None,
) -> BValueResult:
    """b-positive estimator (van der Elst 2021) from differences of consecutive magnitudes.

    With magnitudes in time order, the differences ``d_i = m_{i+1} - m_i`` at or above a
    threshold ``dmc > 0`` follow the same law as magnitudes above a completeness level
    ``dmc``: for continuous magnitudes ``d - dmc ~ Exponential(beta)`` (the difference of
    two i.i.d. exponentials is Laplace), and for binned magnitudes ``(d - dmc)/delta_m`` is
    geometric with the same ``q = exp(-beta delta_m)`` (proved in the model card).  So the
    Tinti–Mulargia formula applies with ``mc`` replaced by ``dmc``:
    ``b = ln(1 + delta_m/(mean(d) - dmc)) / (ln(10) delta_m)``.  Because only the *later*
    event of each pair needs to be detected, the estimate is robust to short-term
    incompleteness after large events.

    Parameters
    ----------
    m : array_like
        Magnitudes **in time order** (or pass ``times``).
    delta_m : float, optional
        Bin width; ``None`` infers it, 0 means continuous.
    dmc : float, optional
        Smallest difference used; default ``delta_m`` (one bin) for binned data and 0 for
        continuous data.  For binned data it is rounded up to a multiple of ``delta_m``.
    mc : float, optional
        If given, magnitudes below ``mc`` are dropped before differencing.
    times : array_like, optional
        Event times (numbers or datetimes, same length as ``m``); the magnitudes are put in
        time order first (stable sort).

    Returns
    -------
    BValueResult
        ``method="positive"``, ``n`` = number of differences used, ``dmc`` the threshold;
        ``se`` is the Fisher standard error treating the differences as independent.

    Raises
    ------
    DataError
        NaN/inf in ``m``, ``delta_m < 0``, ``times`` of the wrong length, or fewer than 2
        differences at or above ``dmc``.
    OptionError
        ``dmc < 0``.

    References
    ----------
    van der Elst, N. J. (2021). B-positive: A robust estimator of aftershock magnitude
    distribution in transiently incomplete catalogs. Journal of Geophysical Research: Solid
    Earth, 126(2), e2020JB021027. https://doi.org/10.1029/2020JB021027
    """
    arr = _check_magnitudes(m)
    if times is not None:
        t = np.asarray(times)
        if t.shape != arr.shape:
            raise DataError(
                f"times must have the same length as m ({arr.size}); got shape {t.shape}"
            )
        arr = arr[np.argsort(t, kind="stable")]
    if delta_m is None:
        dm = infer_delta_m(arr) if np.unique(arr).size >= 2 else 0.0
    else:
        dm = _check_delta_m(delta_m)
    if mc is not None:
        mcv = _check_mc(mc)
        arr = arr[arr >= (mcv - dm / 2 - _GRID_TOL * dm if dm > 0 else mcv)]
    else:
        mcv = None
    if dmc is None:
        thr = dm
    else:
        try:
            thr = float(dmc)
        except (TypeError, ValueError) as e:
            raise OptionError(f"dmc must be a number >= 0; got {dmc!r}") from e
        if not (math.isfinite(thr) and thr >= 0):
            raise OptionError(f"dmc must be a finite number >= 0; got {dmc!r}")
        if dm > 0:
            thr = math.ceil(thr / dm - _GRID_TOL) * dm
    d = np.diff(arr)
    if dm > 0:
        k = d / dm
        if np.any(np.abs(k - np.round(k)) > _GRID_TOL):
            warnings.warn(
                f"m is not on a grid of width delta_m={dm}; b-positive assumes magnitude "
                "differences are multiples of delta_m (bin the magnitudes with bin_magnitudes, "
                "or pass the catalog's own resolution as delta_m)",
                DataWarning,
                stacklevel=2,
            )
        d = np.round(k) * dm  # differences are multiples of dm; drop float noise
        pos = d[d >= thr - _GRID_TOL * dm]
    else:
        pos = d[d > thr] if thr == 0 else d[d >= thr]
    n = pos.size
    if n < 2:
        raise DataError(
            f"only {n} difference(s) of consecutive magnitudes in m are >= dmc={thr}; at "
            "least 2 are needed"
        )
    excess = float(pos.mean()) - thr
    if not excess > 1e-12:
        raise DataError(
            f"all {n} positive differences equal dmc={thr}: the b-positive estimate is infinite"
        )
    beta, se_beta = _geometric_mle(excess, n, dm)
    return BValueResult(
        b=beta / LN10,
        se=se_beta / LN10,
        n=n,
        mc=mcv,
        delta_m=dm,
        method="positive",
        se_method="fisher",
        dmc=thr,
    )


def b_value(
    m: ArrayLike,
    mc: float,
    delta_m: float | None = None,
    method: str = "tinti",
    *,
    dmc: float | None = None,
) -> BValueResult:
    """Estimate the b-value of magnitudes at or above ``mc``.

    Parameters
    ----------
    m : array_like
        Magnitudes (in time order for ``method="positive"``).
    mc : float
        Completeness magnitude (lowest bin centre when binned).
    delta_m : float, optional
        Bin width; ``None`` infers it from ``m``; 0 for continuous magnitudes.
    method : {"tinti", "aki_utsu", "positive"}
        Estimator: :func:`b_tinti_mulargia` (default), :func:`b_aki_utsu` or
        :func:`b_positive` (which drops magnitudes below ``mc`` before differencing).
    dmc : float, optional
        Difference threshold for ``method="positive"``.

    Returns
    -------
    BValueResult

    Raises
    ------
    OptionError
        Unknown ``method``, or ``dmc`` given for another method.
    DataError
        See the estimators.
    """
    if method not in B_METHODS:
        raise OptionError(f"unknown b-value method {method!r}; allowed: {', '.join(B_METHODS)}")
    if dmc is not None and method != "positive":
        raise OptionError(f"dmc applies only to method='positive'; got method={method!r}")
    if method == "tinti":
        return b_tinti_mulargia(m, mc, delta_m)
    if method == "aki_utsu":
        return b_aki_utsu(m, mc, delta_m)
    return b_positive(m, delta_m, dmc, mc=mc)
