"""Simulated catalogues with a known b(t): a step or a ramp of the b-value in time."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _checks

__all__ = ["b_ramp", "b_step", "simulate_b_of_t"]


def b_step(t: Any, b1: float, b2: float, t_change: float) -> np.ndarray:
    """``b1`` before ``t_change``, ``b2`` from it on."""
    return np.where(np.asarray(t, dtype=float) < t_change, b1, b2)


def b_ramp(t: Any, b1: float, b2: float, t_start: float, t_end: float) -> np.ndarray:
    """Linear from ``b1`` at ``t_start`` to ``b2`` at ``t_end``."""
    s = (np.asarray(t, dtype=float) - t_start) / (t_end - t_start)
    return b1 + (b2 - b1) * s


def simulate_b_of_t(n: int, b_of_t: Any, mc: float, delta_m: float = 0.1,
                    duration: float = 1000.0, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` events, times uniform on ``[0, duration]``, GR magnitudes with b-value ``b(t)``.

    Parameters
    ----------
    n : int
        Number of events.
    b_of_t : callable
        ``times -> b`` (vectorised, values > 0).
    mc : float
        Centre of the lowest magnitude bin (the threshold is ``mc - delta_m / 2``).
    delta_m : float
        Bin width (0: continuous magnitudes above ``mc``).
    duration : float
        Length of the time window (days).
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    (times, magnitudes) : tuple of numpy.ndarray
        Sorted times and the magnitudes (on the grid ``mc + k delta_m`` when binned).

    Examples
    --------
    >>> t, m = simulate_b_of_t(5, lambda t: np.full_like(t, 1.0), 2.0, rng=1)
    >>> bool(np.all(m >= 2.0)), bool(np.all(np.diff(t) >= 0))
    (True, True)
    """
    n = _checks.integer("n", n, 1)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    t = np.sort(rng.uniform(0.0, float(duration), n))
    beta = np.asarray(b_of_t(t), dtype=float) * math.log(10.0)
    if delta_m > 0:  # geometric number of bins above mc: exactly the binned GR law
        k = np.floor(rng.exponential(1.0 / beta) / delta_m)
        return t, np.round(mc + k * delta_m, 10)
    return t, mc + rng.exponential(1.0 / beta)
