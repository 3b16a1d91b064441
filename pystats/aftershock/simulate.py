"""Exact simulation of detected aftershock sequences by thinning.

A complete Omori–Utsu sequence ``K (t + c)^(−p)`` (rate of ``M >= M0``) with
Gutenberg–Richter magnitudes ``β e^{−β (M − M0)}`` is simulated on ``[t_start, t_end]``
down to ``m_min = min_t μ(t) − 6 σ``; each event is then kept (detected) with probability
``Φ((M − μ(t))/σ)``.  Events below ``m_min`` are not simulated: their share of the detected
events is at most ``Φ(−6 + β σ)`` (write detected magnitudes as ``N(μ − βσ², σ²) + Exp(β)``),
below 1e-6 for ``β σ <= 1.2``.

References
----------
Omi, T., Ogata, Y., Hirata, Y., & Aihara, K. (2013). Forecasting large aftershocks within
one day after the main shock. *Scientific Reports*, 3, 2218.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _checks
from ..errors import OptionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["simulate_detected", "simulate_detected_etas"]

MU_GRID = 4001
"""Points of the log-time grid on which ``min μ(t)`` is found."""


def simulate_detected(
    K: float,
    c: float,
    p: float,
    beta: float,
    sigma: float,
    mu_fn: Callable[[np.ndarray], Any],
    M0: float,
    t_start: float,
    t_end: float,
    seed: Any = None,
    *,
    complete: bool = False,
) -> pd.DataFrame:
    """Simulate an aftershock sequence and its detected part.

    Parameters
    ----------
    K, c, p : float
        Omori–Utsu rate ``K (t + c)^(−p)`` of aftershocks with ``M >= M0`` (per day).
    beta : float
        Gutenberg–Richter ``β = b ln 10``.
    sigma : float
        Width of the detection probability ``Φ((M − μ(t))/σ)``.
    mu_fn : callable
        ``μ(t)`` for an array of times (days); vectorised.
    M0 : float
        Main-shock magnitude.
    t_start, t_end : float
        Window (days since the main shock), ``0 <= t_start < t_end``.
    seed : int or numpy.random.Generator, optional
        Random seed.
    complete : bool
        Return every simulated event with a boolean column ``detected`` (else only the
        detected ones).

    Returns
    -------
    pandas.DataFrame
        ``time``, ``magnitude`` (and ``detected``), sorted by time; ``attrs`` has ``m_min``
        and the expected number of detected events ``expected_detected`` (quadrature).

    Examples
    --------
    >>> from pystats.aftershock import simulate_detected
    >>> cat = simulate_detected(0.05, 0.01, 1.1, 2.3, 0.3, lambda t: 2.0 - 0.3 * np.log(t),
    ...                         M0=6.0, t_start=0.01, t_end=1.0, seed=1)
    >>> list(cat.columns), cat.time.is_monotonic_increasing
    (['time', 'magnitude'], True)
    """
    import pandas as pd
    from scipy.special import ndtr

    from ..etas.simulate import simulate_omori

    K = _checks.number("K", K, "a finite number > 0", positive=True)
    c = _checks.number("c", c, "a finite number > 0", positive=True)
    p = _checks.number("p", p, "a finite number > 0", positive=True)
    beta = _checks.number("beta", beta, "a finite number > 0", positive=True)
    sigma = _checks.number("sigma", sigma, "a finite number > 0", positive=True)
    M0 = _checks.number("M0", M0, "a finite number")
    t_start = _checks.number("t_start", t_start, "a finite number >= 0", nonneg=True)
    t_end = _checks.number("t_end", t_end, "a finite number > t_start")
    if not t_start < t_end:
        raise OptionError(f"t_start={t_start!r} must be below t_end={t_end!r}")
    if not callable(mu_fn):
        raise OptionError(f"mu_fn={mu_fn!r} is not allowed; use a function of time (days)")
    rng = np.random.default_rng(_checks.seed(seed, generator=True))
    lo = max(t_start, 1e-6 * (t_end - t_start))
    grid = np.concatenate([[t_start] if t_start > 0 else [], np.geomspace(lo, t_end, MU_GRID)])
    mu_grid = np.asarray(mu_fn(grid), dtype=float)
    if mu_grid.shape != grid.shape or not np.all(np.isfinite(mu_grid)):
        raise OptionError("mu_fn must return one finite value per time")
    m_min = float(np.min(mu_grid) - 6.0 * sigma)
    k_all = K * math.exp(beta * (M0 - m_min))  # rate of M >= m_min at t + c = 1 d
    times = np.asarray(simulate_omori(K=k_all, c=c, p=p, t_start=t_start, t_end=t_end, rng=rng),
                       dtype=float)
    mags = m_min + rng.exponential(1.0 / beta, size=times.size)
    mu_t = np.asarray(mu_fn(times), dtype=float) if times.size else np.zeros(0)
    detected = rng.uniform(size=times.size) < ndtr((mags - mu_t) / sigma)
    from .likelihood import log_time_quadrature

    s_q, w_q = log_time_quadrature(max(t_start, lo), t_end, 128)
    t_q = np.exp(s_q)
    expected = float(np.sum(w_q * K * (t_q + c) ** (-p) * np.exp(
        -beta * (np.asarray(mu_fn(t_q), float) - M0) + 0.5 * (beta * sigma) ** 2)))
    df = pd.DataFrame({"time": times, "magnitude": mags})
    if complete:
        df["detected"] = detected
    else:
        df = df[detected].reset_index(drop=True)
    df.attrs.update({"m_min": m_min, "expected_detected": expected})
    return df


MAX_EVENTS = 2_000_000
"""Largest complete sequence :func:`simulate_detected_etas` builds (a supercritical guard)."""


def simulate_detected_etas(
    K: float,
    c: float,
    p: float,
    beta: float,
    sigma: float,
    mu_fn: Callable[[np.ndarray], Any],
    M0: float,
    t_start: float,
    t_end: float,
    K_s: float,
    alpha: float,
    seed: Any = None,
    *,
    complete: bool = False,
    max_events: int = MAX_EVENTS,
) -> pd.DataFrame:
    """Simulate the ``rate="etas"`` model: the main shock and the *detected* events trigger.

    Branching: generation 0 is the main shock's Omori–Utsu sequence on ``[t_start, t_end]``
    (as :func:`simulate_detected`, complete down to ``m_min = min μ − 6σ``); each event is
    detected with probability ``Φ((M − μ(t))/σ)``; every detected event ``j`` has
    ``Poisson(K_s e^{α(M_j − M0)} e^{β(M0 − m_min)} ∫_0^{t_end − t_j} (x + c)^{−p} dx)``
    offspring at ``t_j +`` Omori–Utsu delays with magnitudes ``m_min + Exp(β)``; repeated
    until a generation has no detected events.  This is exactly the conditional intensity
    of model card §1b (undetected events have no offspring).

    Parameters
    ----------
    K, c, p, beta, sigma, mu_fn, M0, t_start, t_end, seed, complete
        As :func:`simulate_detected`.
    K_s, alpha : float
        ETAS productivity ``K_s e^{α (M − M0)}`` of a detected event.
    max_events : int
        Largest number of simulated (complete) events before giving up.

    Returns
    -------
    pandas.DataFrame
        ``time``, ``magnitude`` (``detected`` with ``complete``), ``generation`` (0: the
        main shock's); ``attrs``: ``m_min``.

    Raises
    ------
    OptionError
        Bad arguments, or more than ``max_events`` events (supercritical triggering).

    Examples
    --------
    >>> from pystats.aftershock import simulate_detected_etas
    >>> cat = simulate_detected_etas(0.05, 0.01, 1.1, 2.3, 0.3, lambda t: 2.0 - 0.3 * np.log(t),
    ...                              M0=6.0, t_start=0.01, t_end=1.0, K_s=0.002, alpha=2.0,
    ...                              seed=1)
    >>> bool(cat.time.is_monotonic_increasing), int(cat.generation.max()) >= 1
    (True, True)
    """
    import pandas as pd
    from scipy.special import ndtr

    from ..etas.simulate import simulate_omori

    K_s = _checks.number("K_s", K_s, "a finite number > 0", positive=True)
    alpha = _checks.number("alpha", alpha, "a finite number >= 0", nonneg=True)
    max_events = _checks.integer("max_events", max_events, 1)
    base = simulate_detected(K, c, p, beta, sigma, mu_fn, M0, t_start, t_end, seed,
                             complete=True)
    rng = np.random.default_rng(_checks.seed(seed, generator=True))
    rng = np.random.default_rng(rng.integers(2**63))  # a stream apart from the base's
    m_min = float(base.attrs["m_min"])
    scale = K_s * math.exp(beta * (M0 - m_min))
    t_all = [base["time"].to_numpy()]
    m_all = [base["magnitude"].to_numpy()]
    d_all = [base["detected"].to_numpy()]
    g_all = [np.zeros(len(base), dtype=int)]
    parents_t, parents_m = t_all[0][d_all[0]], m_all[0][d_all[0]]
    gen, total = 0, len(base)
    while parents_t.size:
        gen += 1
        kids = []
        for tj, mj in zip(parents_t, parents_m, strict=True):
            if tj >= t_end:
                continue
            kj = scale * math.exp(alpha * (mj - M0))
            kids.append(tj + np.asarray(simulate_omori(K=kj, c=c, p=p, t_start=0.0,
                                                       t_end=t_end - tj, rng=rng), float))
        times = np.concatenate(kids) if kids else np.zeros(0)
        total += times.size
        if total > max_events:
            raise OptionError(f"more than {max_events} events: K_s={K_s!r}, alpha={alpha!r} "
                              "make the triggering supercritical over this window")
        mags = m_min + rng.exponential(1.0 / beta, size=times.size)
        mu_t = np.asarray(mu_fn(times), dtype=float) if times.size else np.zeros(0)
        det = rng.uniform(size=times.size) < ndtr((mags - mu_t) / sigma)
        t_all.append(times)
        m_all.append(mags)
        d_all.append(det)
        g_all.append(np.full(times.size, gen))
        parents_t, parents_m = times[det], mags[det]
    df = pd.DataFrame({"time": np.concatenate(t_all), "magnitude": np.concatenate(m_all),
                       "detected": np.concatenate(d_all), "generation": np.concatenate(g_all)})
    df = df.sort_values("time", kind="stable").reset_index(drop=True)
    if not complete:
        df = df[df["detected"]].drop(columns="detected").reset_index(drop=True)
    df.attrs.update({"m_min": m_min})
    return df
