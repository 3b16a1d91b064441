"""Productivity maths of the ETAS family (:mod:`pystats.etas.model`).

Mean productivity of Gutenberg–Richter magnitudes on a truncated and binned magnitude
range, the binned GR sampler of simulations, and the moment-matching ``K`` behind the
starting points and the ``K`` prior.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

C0 = 0.01
"""Reference ``c`` (days) of the priors and of the moment-matching start."""
P0 = 1.1
"""Reference ``p`` of the priors and of the moment-matching start."""
ALPHA0 = 1.5
"""Reference ``alpha`` of the priors and of the moment-matching start."""


def _mean_productivity_truncated(alpha: float, beta: float, mc: float, m_ref: float,
                                 delta_m: float, m_max: float | None) -> float:
    """``E[exp(alpha (M - m_ref))]`` for GR magnitudes in ``[mc, m_max]`` (binned or not)."""
    from .kernels import expm1_over_x
    from .simulate import mean_productivity

    if m_max is None:
        return float(mean_productivity(np.asarray(alpha), np.asarray(beta), mc, m_ref,
                                           delta_m))
    if delta_m > 0:
        k = np.arange(math.floor((m_max - mc) / delta_m + 1e-9) + 1)
        w = np.exp(-beta * delta_m * k)
        return float(np.sum(w * np.exp(alpha * (mc + k * delta_m - m_ref))) / np.sum(w))
    span = m_max - mc
    return float(math.exp(alpha * (mc - m_ref)) * beta * span
                 * expm1_over_x((alpha - beta) * span) / -math.expm1(-beta * span))


def _binned_gr_sampler(beta: float, mc: float, delta_m: float, m_max: float | None) -> Any:
    """``sampler(rng, n)``: GR magnitudes ``>= mc`` on the data's grid, below ``m_max``."""

    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        out = np.empty(0)
        while out.size < n:
            x = rng.exponential(1.0 / beta, size=max(n - out.size, 16))
            m = mc + (np.floor(x / delta_m + 1e-9) * delta_m if delta_m > 0 else x)
            if m_max is not None:
                m = m[m <= m_max + 1e-9]
            out = np.concatenate([out, m])
        return out[:n]

    return sample


def moment_matching_K(
    times: np.ndarray,
    mags: np.ndarray | None,
    t_start: float,
    t_end: float,
    m_ref: float,
    n_triggered: float,
    c: float = C0,
    p: float = P0,
    alpha: float = ALPHA0,
) -> float:
    """``K`` whose expected number of triggered events in the window is ``n_triggered``.

    ``K0 = n_triggered / Σ_i e^{alpha (M_i - M_ref)} ∫_{max(t_start, t_i)}^{t_end}
    (s - t_i + c)^{-p} ds`` over every event before ``t_end`` (history included): the
    method-of-moments value of ``K`` at given ``(c, p, alpha)``.  Used for starting points
    and for the median of the ``K`` prior.  ``mags=None`` gives the Omori–Utsu version
    (one main shock at ``t = 0``: ``K0 = n_triggered / ∫ (t + c)^(-p) dt``).

    Parameters
    ----------
    times, mags : ndarray
        Event times (sorted) and magnitudes; ``mags=None`` for Omori–Utsu.
    t_start, t_end : float
        Window.
    m_ref : float
        Reference magnitude.
    n_triggered : float
        Number of events to explain by triggering (> 0).
    c, p, alpha : float
        Kernel and productivity parameters.

    Returns
    -------
    float
    """
    from .kernels import kernel_integral

    if mags is None:
        total = float(kernel_integral(t_start, t_end, c, p))
    else:
        t = np.asarray(times, float)
        keep = t < t_end
        t, m = t[keep], np.asarray(mags, float)[keep]
        lo = np.maximum(t_start - t, 0.0)
        hi = t_end - t
        a = np.exp(alpha * (m - m_ref))
        total = float(np.sum(a * kernel_integral(lo, hi, c, p)))
    return float(n_triggered / max(total, 1e-300))
