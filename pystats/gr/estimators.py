"""Closed-form b-value estimators of the Gutenberg–Richter law.

Each estimator returns a frozen :class:`BValueResult`.  ``b_value`` dispatches on
``method``:

* ``"tinti"`` – :func:`b_tinti_mulargia`, the exact maximum-likelihood estimator for binned
  magnitudes (geometric law; default);
* ``"aki_utsu"`` – :func:`b_aki_utsu`, Aki's (1965) estimator with Utsu's (1966) half-bin
  correction;
* ``"positive"`` – :func:`b_positive`, the b-positive estimator of van der Elst (2021), from
  positive differences of consecutive magnitudes.

Standard errors (``se_method``, the same default everywhere, including
:class:`~pystats.gr.model.GutenbergRichter`): ``"fisher"`` (default) is the inverse Fisher
information of the estimator's own likelihood – geometric for ``tinti`` and ``positive``,
exponential for ``aki_utsu``, where it is Aki's (1965) ``b/sqrt(n)``; ``"shi_bolt"`` is Shi &
Bolt's (1982) ``ln(10) b**2 sqrt(sum((m - mean)**2) / (n (n - 1)))``, the delta method with
the sample variance of the data (as ``shi_bolt_confidence`` of SeismoStats and ZMAP).  Both
are always reported (``se_fisher``, ``se_shi_bolt``).

See ``models/gutenberg_richter.md`` for the derivations and the names other tools use.

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
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri  # the normal quantile; scipy.stats costs ~0.4 s to import

from .._warnings import warn as _warn
from ..errors import DataError, OffGridWarning, OptionError
from .distributions import (
    _GRID_TOL,
    LN10,
    _check_delta_m,
    _check_magnitudes,
    _infer_grid,
    _off_grid_message,
)

__all__ = [
    "B_METHODS",
    "SE_METHODS",
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
SE_METHODS = ("fisher", "shi_bolt")
"""Standard errors accepted as ``se_method``."""


@dataclass(frozen=True)
class BValueResult:
    """A b-value estimate.

    Attributes
    ----------
    b : float
        Estimated b-value.
    se : float
        Its standard error: ``se_fisher`` or ``se_shi_bolt`` (``se_method`` says which).
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
        ``"fisher"`` (inverse Fisher information of the estimator's likelihood) or
        ``"shi_bolt"`` (Shi & Bolt 1982).
    a : float or None
        ``log10(N) + b*mc`` (see :func:`a_value`); ``None`` for b-positive.
    se_aki : float or None
        Aki's (1965) ``b / sqrt(n)`` (equal to ``se_fisher`` for ``aki_utsu``).
    dmc : float or None
        Difference threshold of b-positive.
    se_fisher : float or None
        Inverse Fisher information of the estimator's own likelihood.
    se_shi_bolt : float or None
        Shi & Bolt's (1982) ``ln(10) b**2 sqrt(sum((x - mean)**2) / (n (n - 1)))`` over the
        data ``x`` of the estimator (magnitudes, or differences for b-positive).

    Examples
    --------
    >>> import pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> result = pystats.b_value(m, mc=2.0)
    >>> round(result.b, 2), round(result.se, 3), result.n, result.method
    (1.01, 0.023, 2000, 'tinti')
    >>> [round(x, 2) for x in result.ci(0.95)]
    [0.97, 1.05]
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
    se_fisher: float | None = None
    se_shi_bolt: float | None = None

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


def _delta_m(arr: np.ndarray, delta_m: float | None) -> float:
    """``delta_m`` checked, or inferred from the majority grid of ``arr`` (no warning)."""
    if delta_m is not None:
        return _check_delta_m(delta_m)
    return _infer_grid(arr)[0] if np.unique(arr).size >= 2 else 0.0


def _snap(x: np.ndarray, origin: float, dm: float, what: str) -> np.ndarray:
    """``x`` on the grid ``origin + k*dm`` (a new array).

    Values off the grid give an :class:`~pystats.errors.OffGridWarning` and are counted in
    the bin they fall in.
    """
    if dm == 0 or x.size == 0:
        return x
    k = (x - origin) / dm
    off = np.abs(k - np.round(k)) > _GRID_TOL
    if np.any(off):
        _warn(
            _off_grid_message(x, off, dm, origin)
            + f"; {what} assume magnitudes on that grid, so they are counted in the bin they "
            "fall in (bin the magnitudes with bin_magnitudes, or pass the catalog's own "
            "resolution as delta_m)",
            OffGridWarning,
        )
    return np.round(origin + np.floor(k + 0.5 + 1e-9) * dm, 10)


def _above_mc(m: ArrayLike, mc: float, delta_m: float | None) -> tuple[np.ndarray, float, float]:
    """Magnitudes at or above ``mc`` on the ``delta_m`` grid (order kept), ``mc``, ``delta_m``.

    ``delta_m=None`` infers the bin width from the grid that most magnitudes lie on
    (:func:`~pystats.gr.distributions.infer_delta_m`); values off the grid through ``mc``
    give an :class:`~pystats.errors.OffGridWarning` and are counted in their bin.
    """
    arr = _check_magnitudes(m)
    mc = _check_mc(mc)
    dm = _delta_m(arr, delta_m)
    if arr.size == 0 or mc - dm / 2 > arr.max() + 1e-9 * max(1.0, abs(mc)):
        top = "no data" if arr.size == 0 else f"the largest magnitude is {arr.max()}"
        raise DataError(f"mc={mc} is above every magnitude in m ({top})")
    cut = mc - dm / 2 - _GRID_TOL * dm if dm > 0 else mc
    x = arr[arr >= cut]
    if x.size < 2:
        raise DataError(
            f"only {x.size} magnitude(s) in m are at or above mc={mc}; at least 2 are needed"
        )
    return _snap(x, mc, dm, "the binned estimators"), mc, dm


def _check_se_method(se_method: str) -> str:
    if se_method not in SE_METHODS:
        raise OptionError(
            f"se_method={se_method!r} is not allowed; use one of {', '.join(SE_METHODS)}"
        )
    return se_method


def _shi_bolt(b: float, x: np.ndarray) -> float:
    """Shi & Bolt (1982): ``ln(10) b**2 sqrt(sum((x - mean)**2) / (n (n - 1)))``."""
    n = x.size
    return LN10 * b * b * math.sqrt(float(np.sum((x - x.mean()) ** 2)) / (n * (n - 1)))


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
def b_aki_utsu(
    m: ArrayLike, mc: float, delta_m: float | None = None, *, se_method: str = "fisher"
) -> BValueResult:
    """Aki (1965) maximum-likelihood b-value with Utsu's (1966) binning correction.

    ``b = log10(e) / (mean(m) - (mc - delta_m/2))`` over the magnitudes ``>= mc``: the MLE
    of the exponential law started at the lower bin edge.  Standard errors: ``"fisher"``
    (default), that likelihood's ``b/sqrt(n)`` (Aki 1965; also ``se_aki``), or
    ``"shi_bolt"``, Shi & Bolt's (1982)
    ``ln(10) b**2 sqrt(sum((m - mean)**2) / (n (n - 1)))`` (they round ``ln 10`` to 2.30).
    Both are in the result (``se_fisher``, ``se_shi_bolt``).

    Parameters
    ----------
    m : array_like
        Magnitudes (any order).
    mc : float
        Completeness magnitude (lowest bin centre when binned).
    delta_m : float, optional
        Bin width; ``None`` infers it with :func:`~pystats.gr.distributions.infer_delta_m`,
        0 means continuous.
    se_method : {"fisher", "shi_bolt"}
        Which standard error is ``se`` (default ``"fisher"``, ``b/sqrt(n)``).

    Returns
    -------
    BValueResult
        ``method="aki_utsu"``.

    Raises
    ------
    DataError
        NaN/inf in ``m``, non-finite ``mc``, ``delta_m < 0``, ``mc`` above all magnitudes,
        fewer than 2 magnitudes at or above ``mc``, or no spread above the threshold.
    OptionError
        Unknown ``se_method``.

    Warns
    -----
    OffGridWarning
        If some magnitudes are not on the ``delta_m`` grid through ``mc`` (they are counted
        in the bin they fall in).

    References
    ----------
    Aki, K. (1965). Maximum likelihood estimate of b in the formula log N = a - bM and its
    confidence limits. Bulletin of the Earthquake Research Institute, 43, 237–239.

    Utsu, T. (1966). A statistical significance test of the difference in b-value between
    two earthquake groups. Journal of Physics of the Earth, 14(2), 37–40.

    Shi, Y., & Bolt, B. A. (1982). The standard error of the magnitude-frequency b value.
    Bulletin of the Seismological Society of America, 72(5), 1677–1687.
    """
    _check_se_method(se_method)
    x, mc, dm = _above_mc(m, mc, delta_m)
    _check_spread(x, mc, dm)
    n = x.size
    excess = float(x.mean()) - (mc - dm / 2)
    b = LOG10_E / excess
    ses = {"fisher": b / math.sqrt(n), "shi_bolt": _shi_bolt(b, x)}
    return BValueResult(
        b=b,
        se=ses[se_method],
        n=n,
        mc=mc,
        delta_m=dm,
        method="aki_utsu",
        se_method=se_method,
        a=a_value(n, b, mc),
        se_aki=b / math.sqrt(n),
        se_fisher=ses["fisher"],
        se_shi_bolt=ses["shi_bolt"],
    )


def b_tinti_mulargia(
    m: ArrayLike, mc: float, delta_m: float | None = None, *, se_method: str = "fisher"
) -> BValueResult:
    """Exact maximum-likelihood b-value for binned magnitudes (Tinti & Mulargia 1987).

    Binned Gutenberg–Richter magnitudes are geometric: ``k = (m - mc)/delta_m`` has
    ``P(k) = (1 - q) q**k`` with ``q = exp(-beta delta_m)``.  The MLE is

    ``b = ln(1 + delta_m/(mean(m) - mc)) / (ln(10) delta_m)``

    and the Fisher information gives ``se_beta = (1 - q)/(delta_m sqrt(n q))``,
    ``se_b = se_beta/ln(10)``.  For ``delta_m = 0`` it is the continuous MLE
    ``log10(e)/(mean(m) - mc)`` with ``se = b/sqrt(n)``.  ``se_method="shi_bolt"`` gives
    Shi & Bolt's (1982) formula instead (see :func:`b_aki_utsu`).

    Parameters
    ----------
    m : array_like
        Magnitudes (any order).
    mc : float
        Completeness magnitude (lowest bin centre when binned).
    delta_m : float, optional
        Bin width; ``None`` infers it, 0 means continuous.
    se_method : {"fisher", "shi_bolt"}
        Which standard error is ``se`` (default ``"fisher"``).

    Returns
    -------
    BValueResult
        ``method="tinti"``.

    Raises
    ------
    DataError
        As :func:`b_aki_utsu`; also when every magnitude equals ``mc`` (the MLE is
        infinite).
    OptionError
        Unknown ``se_method``.

    Warns
    -----
    OffGridWarning
        If some magnitudes are not on the ``delta_m`` grid through ``mc`` (they are counted
        in the bin they fall in).

    References
    ----------
    Tinti, S., & Mulargia, F. (1987). Confidence intervals of b values for grouped
    magnitudes. Bulletin of the Seismological Society of America, 77(6), 2125–2134.
    """
    _check_se_method(se_method)
    x, mc, dm = _above_mc(m, mc, delta_m)
    _check_spread(x, mc, dm)
    n = x.size
    excess = float(x.mean()) - mc
    beta, se_beta = _geometric_mle(excess, n, dm)
    b = beta / LN10
    ses = {"fisher": se_beta / LN10, "shi_bolt": _shi_bolt(b, x)}
    return BValueResult(
        b=b,
        se=ses[se_method],
        n=n,
        mc=mc,
        delta_m=dm,
        method="tinti",
        se_method=se_method,
        a=a_value(n, b, mc),
        se_aki=b / math.sqrt(n),
        se_fisher=ses["fisher"],
        se_shi_bolt=ses["shi_bolt"],
    )


def b_positive(
    m: ArrayLike,
    delta_m: float | None = None,
    dmc: float | None = None,
    *,
    mc: float | None = None,
    times: ArrayLike | None = None,
    se_method: str = "fisher",
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
    se_method : {"fisher", "shi_bolt"}
        Which standard error is ``se`` (default ``"fisher"``); Shi–Bolt is computed over
        the differences used.

    Returns
    -------
    BValueResult
        ``method="positive"``, ``n`` = number of differences used, ``dmc`` the threshold;
        ``se_fisher`` treats the differences as independent.

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
    _check_se_method(se_method)
    arr = _check_magnitudes(m)
    if times is not None:
        t = np.asarray(times)
        if t.shape != arr.shape:
            raise DataError(
                f"times must have the same length as m ({arr.size}); got shape {t.shape}"
            )
        arr = arr[np.argsort(t, kind="stable")]
    dm = _delta_m(arr, delta_m)
    if dm > 0 and np.unique(arr).size >= 2:
        arr = _snap(arr, _infer_grid(arr)[1], dm, "b-positive differences")
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
    b = beta / LN10
    ses = {"fisher": se_beta / LN10, "shi_bolt": _shi_bolt(b, pos)}
    return BValueResult(
        b=b,
        se=ses[se_method],
        n=n,
        mc=mcv,
        delta_m=dm,
        method="positive",
        se_method=se_method,
        dmc=thr,
        se_aki=b / math.sqrt(n),
        se_fisher=ses["fisher"],
        se_shi_bolt=ses["shi_bolt"],
    )


def b_value(
    m: ArrayLike,
    mc: float,
    delta_m: float | None = None,
    method: str = "tinti",
    *,
    dmc: float | None = None,
    se_method: str = "fisher",
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
    se_method : {"fisher", "shi_bolt"}
        Which standard error is ``se``: the inverse Fisher information of the estimator's
        likelihood (default; ``b/sqrt(n)`` for ``aki_utsu``) or Shi & Bolt (1982).  Both
        are reported (``se_fisher``, ``se_shi_bolt``).

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
        return b_tinti_mulargia(m, mc, delta_m, se_method=se_method)
    if method == "aki_utsu":
        return b_aki_utsu(m, mc, delta_m, se_method=se_method)
    return b_positive(m, delta_m, dmc, mc=mc, se_method=se_method)
