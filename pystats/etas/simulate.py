"""Simulation of temporal ETAS catalogues and Omori–Utsu sequences (NumPy).

ETAS catalogues are drawn by the branching (cluster) construction (Hawkes & Oakes 1974;
Zhuang, Ogata & Vere-Jones 2004): background events form a Poisson process of rate ``mu``
on ``[t_start, t_end]``; every event ``i`` (background, offspring, or a given *history*
event before ``t_start``) has ``Poisson(K e^{alpha (M_i - M_ref)} ∫ (s + c)^{-p} ds)``
direct offspring, the integral over the part of the window after it, at delays drawn by
inverse-CDF sampling of the normalised kernel truncated to that part; offspring magnitudes
are i.i.d. (Gutenberg–Richter above ``mc`` or any callable law); generations are drawn until
one is empty.

The mean number of direct offspring of an event (the branching ratio) is

.. math::

   n = K\\, E[e^{\\alpha (M - M_{ref})}] \\int_0^{t_{max}} (t + c)^{-p} dt,\\qquad
   E[e^{\\alpha (M - M_{ref})}] = e^{\\alpha (m_c - M_{ref})} \\frac{\\beta}{\\beta - \\alpha}
   \\ (\\alpha < \\beta = b \\ln 10),

infinite for ``alpha >= beta`` and, over infinite time, for ``p <= 1``.  The simulator
refuses parameters with ``n >= 1`` over the window (the expected catalogue size then grows
geometrically with the generations) unless ``allow_supercritical=True``.

References
----------
Hawkes, A. G., & Oakes, D. (1974). A cluster process representation of a self-exciting
process. *Journal of Applied Probability*, 11(3), 493–503. https://doi.org/10.2307/3212693

Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. *JASA*, 83(401), 9–27. https://doi.org/10.1080/01621459.1988.10478560

Zhuang, J., Ogata, Y., & Vere-Jones, D. (2004). Analyzing earthquake clustering features by
using stochastic reconstruction. *Journal of Geophysical Research*, 109, B05301.
https://doi.org/10.1029/2003JB002879
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _checks
from .._warnings import warn as _warn
from ..errors import DataError, OptionError, PystatsWarning
from .kernels import kernel_integral

__all__ = [
    "SimulatedCatalog",
    "branching_ratio",
    "gr_mean_productivity",
    "mean_productivity",
    "sample_kernel_delays",
    "simulate_etas",
    "simulate_omori",
]

MagnitudeSampler = Callable[[np.random.Generator, int], np.ndarray]


@dataclass(frozen=True)
class SimulatedCatalog:
    """A simulated ETAS catalogue (events in ``[t_start, t_end]``, sorted by time).

    Attributes
    ----------
    times, magnitudes : ndarray
        Event times and magnitudes.
    parent : ndarray of int
        Index (into these arrays) of the direct parent; ``-1`` for background events and
        for offspring of history events.
    history_parent : ndarray of int
        Index into the given history of the parent of offspring of history events, else
        ``-1``.
    generation : ndarray of int
        0 for background events, ``g + 1`` for offspring of a generation-``g`` event;
        offspring of history events have generation 1.
    t_start, t_end : float
        The simulated window.
    params : dict
        The parameters used (``mu``, ``K``, ``c``, ``alpha``, ``p``, ``m_ref``).

    Examples
    --------
    >>> import numpy as np
    >>> from pystats.etas.simulate import simulate_etas
    >>> sim = simulate_etas(0.4, 0.02, 0.01, 1.5, 1.2, m_ref=3.0, t_end=300.0, mc=3.0, b=1.0,
    ...                     rng=3)
    >>> len(sim.times), int(sim.is_background.sum())
    (244, 102)
    >>> bool(np.all(np.diff(sim.times) >= 0)), bool(sim.magnitudes.min() >= 3.0)
    (True, True)
    >>> list(sim.to_frame().columns)
    ['time', 'magnitude', 'parent', 'history_parent', 'generation']
    """

    times: np.ndarray
    magnitudes: np.ndarray
    parent: np.ndarray
    history_parent: np.ndarray
    generation: np.ndarray
    t_start: float
    t_end: float
    params: Mapping[str, float]

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def is_background(self) -> np.ndarray:
        """Boolean mask of background (generation-0) events."""
        return self.generation == 0

    def to_frame(self) -> Any:
        """The events as a :class:`pandas.DataFrame` (columns as the attributes)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "time": self.times,
                "magnitude": self.magnitudes,
                "parent": self.parent,
                "history_parent": self.history_parent,
                "generation": self.generation,
            }
        )


def _rng(rng: Any) -> np.random.Generator:
    rng = _checks.seed(rng, "rng", generator=True)
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _positive(name: str, v: Any, *, allow_zero: bool = False) -> float:
    return _checks.real(name, v, low=0.0, low_open=not allow_zero)


def _finite(name: str, v: Any) -> float:
    return _checks.real(name, v)


def mean_productivity(alpha: Any, beta: Any, mc: float, m_ref: float,
                      delta_m: float = 0.0) -> np.ndarray:
    """``E[exp(alpha (M - m_ref))]`` for GR magnitudes ``>= mc`` (vectorised).

    ``beta = b ln 10``.  Continuous magnitudes (``delta_m = 0``, ``M - mc ~
    Exponential(beta)``): ``exp(alpha (mc - m_ref)) beta / (beta - alpha)``; binned ones
    (width ``delta_m``, geometric law on the grid): ``exp(alpha (mc - m_ref))
    (1 - e^{-beta delta_m}) / (1 - e^{(alpha - beta) delta_m})``; ``inf`` where
    ``alpha >= beta``.

    Parameters
    ----------
    alpha, beta : array_like
        Productivity exponent and ``b ln 10`` (broadcast together).
    mc, m_ref : float
        Completeness and reference magnitudes.
    delta_m : float
        Magnitude bin width (0: continuous).

    Returns
    -------
    ndarray
    """
    alpha, beta = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float))
    out = np.full(alpha.shape, np.inf)
    ok = alpha < beta
    a, b = alpha[ok], beta[ok]
    if delta_m > 0:
        ratio = -np.expm1(-b * delta_m) / -np.expm1((a - b) * delta_m)
    else:
        ratio = b / (b - a)
    out[ok] = np.exp(a * (mc - m_ref)) * ratio
    return out


def gr_mean_productivity(alpha: float, b: float, mc: float, m_ref: float) -> float:
    """``E[exp(alpha (M - M_ref))]`` for Gutenberg–Richter magnitudes ``M >= mc``.

    ``M - mc ~ Exponential(beta)`` with ``beta = b ln 10``, so the mean is
    ``exp(alpha (mc - m_ref)) beta / (beta - alpha)`` for ``alpha < beta`` and infinite
    otherwise.

    Parameters
    ----------
    alpha : float
        Productivity exponent.
    b : float
        Gutenberg–Richter b-value (> 0).
    mc, m_ref : float
        Completeness and reference magnitudes.

    Returns
    -------
    float
    """
    beta = _positive("b", b) * math.log(10.0)
    return float(mean_productivity(_finite("alpha", alpha), beta, _finite("mc", mc),
                                   _finite("m_ref", m_ref)))


def branching_ratio(
    K: float,
    alpha: float,
    b: float,
    c: float,
    p: float,
    mc: float,
    m_ref: float,
    t_max: float = math.inf,
) -> float:
    """Mean number of direct offspring per event, ``K E[e^{alpha(M-M_ref)}] ∫_0^t_max k``.

    Parameters
    ----------
    K, alpha, c, p : float
        ETAS parameters.
    b : float
        Gutenberg–Richter b-value of the magnitudes (above ``mc``).
    mc, m_ref : float
        Completeness and reference magnitudes.
    t_max : float
        Length of time over which offspring are counted (``inf``: the stationary branching
        ratio, infinite for ``p <= 1``).

    Returns
    -------
    float
        ``inf`` when ``alpha >= b ln 10`` or (``t_max = inf`` and ``p <= 1``).

    Raises
    ------
    OptionError
        Out-of-range arguments.
    """
    K = _positive("K", K, allow_zero=True)
    c = _positive("c", c)
    p = _positive("p", p)
    t_max = float(t_max)
    if not t_max > 0:
        raise OptionError(f"t_max={t_max!r} is not allowed; use t_max > 0 (or inf)")
    prod = gr_mean_productivity(alpha, b, mc, m_ref)
    if math.isinf(t_max):
        integral = math.inf if p <= 1 else c ** (1.0 - p) / (p - 1.0)
    else:
        integral = float(kernel_integral(0.0, t_max, c, p))
    if K == 0:
        return 0.0
    return K * prod * integral


def _log1p_over_x(r: np.ndarray) -> np.ndarray:
    small = np.abs(r) < 1e-6
    r_safe = np.where(small, 1.0, r)
    return np.where(small, 1.0 - r / 2.0 + r * r / 3.0, np.log1p(r_safe) / r_safe)


def sample_kernel_delays(
    lo: np.ndarray, hi: np.ndarray, c: float, p: float, rng: np.random.Generator
) -> np.ndarray:
    """Delays with density proportional to ``(s + c)^(-p)`` on ``[lo, hi]`` (inverse CDF).

    With ``u = lo + c`` and the target mass ``I = U ∫_lo^hi (s + c)^(-p) ds``, the delay
    solves ``∫_lo^x (s + c)^(-p) ds = I``:
    ``x + c = u exp(I u^(p-1) log1p(r) / r)``, ``r = (1 - p) I u^(p-1)``, exact for all
    ``p`` (``p = 1`` included) without cancellation.

    Parameters
    ----------
    lo, hi : ndarray
        Delay limits (``0 <= lo < hi``), one pair per draw.
    c, p : float
        Kernel parameters.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray
        One delay per pair, in ``[lo, hi]``.
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    mass = rng.uniform(size=lo.shape) * kernel_integral(lo, hi, c, p)
    u = lo + c
    scaled = mass * np.exp((p - 1.0) * np.log(u))
    r = (1.0 - p) * scaled
    x = u * np.exp(scaled * _log1p_over_x(r)) - c
    return np.clip(x, lo, hi)


def _magnitudes(
    n: int, rng: np.random.Generator, b: float | None, mc: float, sampler: MagnitudeSampler | None
) -> np.ndarray:
    if n == 0:
        return np.zeros(0)
    if sampler is not None:
        m = np.asarray(sampler(rng, n), dtype=float)
        if m.shape != (n,) or not np.all(np.isfinite(m)):
            raise OptionError(
                f"magnitude_sampler(rng, {n}) must return {n} finite magnitudes; got shape "
                f"{m.shape}"
            )
        return m
    return mc + rng.exponential(1.0 / (b * math.log(10.0)), size=n)


def _history(history: Any, t_start: float) -> tuple[np.ndarray, np.ndarray]:
    if history is None:
        return np.zeros(0), np.zeros(0)
    if isinstance(history, Mapping):
        try:
            ht, hm = history["times"], history["mags"]
        except KeyError as e:
            raise DataError(
                f"history must have keys 'times' and 'mags'; got {sorted(history)}"
            ) from e
    else:
        try:
            ht, hm = history
        except (TypeError, ValueError) as e:
            raise DataError("history must be a pair (times, mags) or a dict with those keys") from e
    ht = np.array(ht, dtype=float, copy=True).reshape(-1)
    hm = np.array(hm, dtype=float, copy=True).reshape(-1)
    if ht.shape != hm.shape:
        raise DataError(f"history has {ht.size} times but {hm.size} magnitudes")
    if not (np.all(np.isfinite(ht)) and np.all(np.isfinite(hm))):
        raise DataError("history times and magnitudes must be finite (no missing values)")
    late = np.nonzero(ht > t_start)[0]
    if late.size:
        raise DataError(
            f"history events must not be later than t_start={t_start!r}; history time "
            f"{ht[late[0]]!r} at index {int(late[0])}"
        )
    return ht, hm


def simulate_etas(
    mu: float,
    K: float,
    c: float,
    alpha: float,
    p: float,
    m_ref: float,
    t_end: float,
    *,
    mc: float,
    b: float | None = None,
    magnitude_sampler: MagnitudeSampler | None = None,
    rng: Any = None,
    history: Any = None,
    t_start: float = 0.0,
    max_events: int = 2_000_000,
    allow_supercritical: bool = False,
) -> SimulatedCatalog:
    """Simulate a temporal ETAS catalogue on ``[t_start, t_end]`` by branching.

    Parameters
    ----------
    mu : float
        Background rate (>= 0), events per time unit.
    K, c, alpha, p : float
        Triggering parameters: ``K e^{alpha (M - m_ref)} (t + c)^{-p}``.
    m_ref : float
        Reference magnitude.
    t_end : float
        End of the window.
    mc : float
        Completeness (minimum) magnitude of the Gutenberg–Richter law.
    b : float, optional
        Gutenberg–Richter b-value: magnitudes are ``mc + Exponential(b ln 10)``.
    magnitude_sampler : callable, optional
        ``sampler(rng, n) -> n magnitudes`` for any other magnitude law (give ``b`` or
        this, not both; ``mc`` is then only used as given).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.
    history : (times, mags) or dict, optional
        Events at or before ``t_start`` (e.g. the main shock) whose offspring fall in the
        window; they are not part of the returned catalogue.
    t_start : float
        Start of the window.
    max_events : int
        Stop with an error if the catalogue grows beyond this.
    allow_supercritical : bool
        Simulate even when the branching ratio over the window is >= 1 (with a warning).

    Returns
    -------
    SimulatedCatalog

    Raises
    ------
    OptionError
        Bad parameters; branching ratio over the window >= 1 (unless allowed); catalogue
        larger than ``max_events``.
    DataError
        Bad history.

    References
    ----------
    Zhuang, J., Ogata, Y., & Vere-Jones, D. (2004). Analyzing earthquake clustering features
    by using stochastic reconstruction. *JGR*, 109, B05301.
    https://doi.org/10.1029/2003JB002879
    """
    gen = _rng(rng)
    mu = _positive("mu", mu, allow_zero=True)
    K = _positive("K", K, allow_zero=True)
    c = _positive("c", c)
    p = _positive("p", p)
    alpha = _finite("alpha", alpha)
    m_ref = _finite("m_ref", m_ref)
    mc = _finite("mc", mc)
    t_start = _finite("t_start", t_start)
    t_end = _finite("t_end", t_end)
    if not t_start < t_end:
        raise OptionError(f"t_start={t_start!r} must be below t_end={t_end!r}")
    if (b is None) == (magnitude_sampler is None):
        raise OptionError("give exactly one of b (Gutenberg–Richter) or magnitude_sampler")
    if b is not None:
        b = _positive("b", b)
    elif not callable(magnitude_sampler):
        raise OptionError(f"magnitude_sampler={magnitude_sampler!r} is not callable")
    max_events = _checks.integer("max_events", max_events, 1)
    ht, hm = _history(history, t_start)

    span = t_end - t_start
    if b is not None:
        prod = gr_mean_productivity(alpha, b, mc, m_ref)
    else:
        draws = _magnitudes(100_000, gen, None, mc, magnitude_sampler)
        prod = float(np.mean(np.exp(alpha * (draws - m_ref))))
    n_window = K * prod * float(kernel_integral(0.0, span, c, p)) if K > 0 else 0.0
    if n_window >= 1:
        msg = (
            f"branching ratio over the window is {n_window:.3g} >= 1 (K={K}, alpha={alpha}, "
            f"c={c}, p={p}, window {span}): each event has on average at least one offspring "
            f"and the catalogue size explodes"
        )
        if not allow_supercritical:
            raise OptionError(msg + "; pass allow_supercritical=True to simulate anyway")
        _warn(msg, PystatsWarning)

    times: list[np.ndarray] = []
    mags: list[np.ndarray] = []
    parent: list[np.ndarray] = []
    hparent: list[np.ndarray] = []
    generation: list[np.ndarray] = []
    n_total = 0

    def add(t: np.ndarray, par: np.ndarray, hpar: np.ndarray, g: int) -> tuple[np.ndarray, ...]:
        nonlocal n_total
        if n_total + t.size > max_events:
            raise OptionError(
                f"the simulated catalogue exceeded max_events={max_events} (branching ratio "
                f"over the window {n_window:.3g}); raise max_events or check the parameters"
            )
        m = _magnitudes(t.size, gen, b, mc, magnitude_sampler)
        idx = np.arange(n_total, n_total + t.size, dtype=np.int64)
        n_total += t.size
        times.append(t)
        mags.append(m)
        parent.append(par.astype(np.int64))
        hparent.append(hpar.astype(np.int64))
        generation.append(np.full(t.size, g, dtype=np.int64))
        return t, m, idx

    def offspring(pt: np.ndarray, pm: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, ...]:
        hi = t_end - pt
        ok = hi > lo
        mean = np.zeros(pt.size)
        mean[ok] = K * np.exp(alpha * (pm[ok] - m_ref)) * kernel_integral(lo[ok], hi[ok], c, p)
        counts = gen.poisson(mean)
        src = np.repeat(np.arange(pt.size), counts)
        delays = sample_kernel_delays(lo[src], hi[src], c, p, gen)
        return pt[src] + delays, src

    n_bg = int(gen.poisson(mu * span)) if mu > 0 else 0
    none = np.full(n_bg, -1)
    level_t, level_m, level_idx = add(gen.uniform(t_start, t_end, size=n_bg), none, none, 0)
    level = 0
    while K > 0:
        batches = []
        if level_t.size:
            ct, src = offspring(level_t, level_m, np.zeros(level_t.size))
            batches.append(add(ct, level_idx[src], np.full(ct.size, -1), level + 1))
        if level == 0 and ht.size:
            ct, src = offspring(ht, hm, t_start - ht)
            batches.append(add(ct, np.full(ct.size, -1), src, 1))
        level_t = np.concatenate([x[0] for x in batches]) if batches else np.zeros(0)
        if level_t.size == 0:
            break
        level_m = np.concatenate([x[1] for x in batches])
        level_idx = np.concatenate([x[2] for x in batches])
        level += 1

    all_t = np.concatenate(times) if times else np.zeros(0)
    all_m = np.concatenate(mags) if mags else np.zeros(0)
    all_p = np.concatenate(parent) if parent else np.zeros(0, dtype=np.int64)
    all_h = np.concatenate(hparent) if hparent else np.zeros(0, dtype=np.int64)
    all_g = np.concatenate(generation) if generation else np.zeros(0, dtype=np.int64)
    order = np.argsort(all_t, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    sorted_parent = all_p[order]
    has = sorted_parent >= 0
    sorted_parent[has] = rank[sorted_parent[has]]
    out = {
        "times": all_t[order],
        "magnitudes": all_m[order],
        "parent": sorted_parent,
        "history_parent": all_h[order],
        "generation": all_g[order],
    }
    for v in out.values():
        v.flags.writeable = False
    return SimulatedCatalog(
        **out,
        t_start=t_start,
        t_end=t_end,
        params={"mu": mu, "K": K, "c": c, "alpha": alpha, "p": p, "m_ref": m_ref},
    )


def simulate_omori(
    K: float,
    c: float,
    p: float,
    t_start: float,
    t_end: float,
    rng: Any = None,
    *,
    mu: float = 0.0,
) -> np.ndarray:
    """Simulate an Omori–Utsu sequence ``mu + K (t + c)^(-p)`` on ``[t_start, t_end]``.

    A non-stationary Poisson process: ``Poisson(K ∫ (t + c)^(-p) dt)`` aftershocks at
    inverse-CDF times plus ``Poisson(mu (t_end - t_start))`` uniform background events.

    Parameters
    ----------
    K, c, p : float
        Omori–Utsu parameters (> 0).
    t_start, t_end : float
        Window, times since the main shock (``0 <= t_start < t_end``).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.
    mu : float
        Background rate (>= 0).

    Returns
    -------
    ndarray
        Sorted event times.

    Raises
    ------
    OptionError
        Bad parameters or window.
    """
    gen = _rng(rng)
    K = _positive("K", K)
    c = _positive("c", c)
    p = _positive("p", p)
    mu = _positive("mu", mu, allow_zero=True)
    t_start = _finite("t_start", t_start)
    t_end = _finite("t_end", t_end)
    if not 0 <= t_start < t_end:
        raise OptionError(
            f"window [{t_start!r}, {t_end!r}] is not allowed; use 0 <= t_start < t_end"
        )
    n = int(gen.poisson(K * float(kernel_integral(t_start, t_end, c, p))))
    t = sample_kernel_delays(np.full(n, t_start), np.full(n, t_end), c, p, gen)
    n_bg = int(gen.poisson(mu * (t_end - t_start))) if mu > 0 else 0
    t = np.concatenate([t, gen.uniform(t_start, t_end, size=n_bg)])
    return np.sort(t)
