"""Hilbert-space approximate Gaussian process (Solin & Särkkä 2020; Riutort-Mayol et al. 2023).

A zero-mean GP with squared-exponential kernel (amplitude ``alpha``, length scale ``ell``) on
``x`` in ``[-1, 1]`` is approximated by ``f(x) = sum_j phi_j(x) sqrt(S(sqrt(lambda_j))) z_j``,
``z_j ~ N(0, 1)``, with the Laplacian eigenfunctions of ``[-L, L]``
``phi_j(x) = sin(pi j (x + L) / (2 L)) / sqrt(L)``, ``sqrt(lambda_j) = pi j / (2 L)`` and the
spectral density ``S(w) = alpha^2 sqrt(2 pi) ell exp(-ell^2 w^2 / 2)``.  Plain torch (not
GPyTorch: the aftershock family's GPyTorch kernels had not landed when this was written);
the basis matrix is data, so a Stan program would compute the same sums.

References
----------
Riutort-Mayol, G., Bürkner, P.-C., Andersen, M. R., Solin, A. and Vehtari, A. (2023).
Practical Hilbert space approximate Bayesian Gaussian processes for probabilistic
programming. Statistics and Computing 33, 17. https://doi.org/10.1007/s11222-022-10167-2

Solin, A. and Särkkä, S. (2020). Hilbert space methods for reduced-rank Gaussian process
regression. Statistics and Computing 30, 419-446. https://doi.org/10.1007/s11222-019-09886-w
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TimeGroups", "basis", "spectral_sd", "sqrt_eigenvalues", "time_groups"]


def sqrt_eigenvalues(m: int, boundary: float) -> np.ndarray:
    """``sqrt(lambda_j) = pi j / (2 L)``, ``j = 1..m``."""
    return math.pi * np.arange(1, m + 1) / (2.0 * boundary)


def basis(x: Any, m: int, boundary: float) -> np.ndarray:
    """Eigenfunctions ``phi_j(x)``, shape ``(len(x), m)``, for ``x`` in ``[-L, L]``."""
    x = np.asarray(x, dtype=float)[:, None]
    return np.sin(sqrt_eigenvalues(m, boundary)[None, :] * (x + boundary)) / math.sqrt(boundary)


def spectral_sd(alpha: Any, ell: Any, sqrt_lambda: Any) -> Any:
    """``sqrt(S(sqrt(lambda_j)))`` of the squared-exponential kernel (torch or NumPy)."""
    return alpha * (2.0 * math.pi) ** 0.25 * ell**0.5 * (-0.25 * (ell * sqrt_lambda) ** 2).exp() \
        if hasattr(ell, "exp") else \
        alpha * (2.0 * math.pi) ** 0.25 * np.sqrt(ell) * np.exp(-0.25 * (ell * sqrt_lambda) ** 2)


@dataclass(frozen=True)
class TimeGroups:
    """Events grouped in time for a GP over time (:func:`time_groups`).

    Attributes
    ----------
    centre, half : float
        Time ``t`` maps to ``s = (t - centre) / half`` in ``[-1, 1]``.
    group : numpy.ndarray
        Group of each event (int64).
    count : numpy.ndarray
        Events per group.
    phi : numpy.ndarray
        ``(groups, m)`` basis at each group's mean ``s``, centred by its event-weighted
        mean (so the GP averages to 0 over the events).
    phi_mean : numpy.ndarray
        The subtracted mean, per basis function.

    Examples
    --------
    >>> tg = time_groups([0.0, 1.0, 2.0, 10.0], 2, 3, 1.5)
    >>> tg.group.tolist(), tg.count.tolist(), tg.phi.shape
    ([0, 0, 0, 1], [3.0, 1.0], (2, 3))
    >>> bool(abs(tg.count @ tg.phi).max() < 1e-12)  # centred over the events
    True
    """

    centre: float
    half: float
    group: np.ndarray
    count: np.ndarray
    phi: np.ndarray
    phi_mean: np.ndarray


def time_groups(times: Any, n_bins: int | None, m: int, boundary: float) -> TimeGroups:
    """Scale ``times`` to ``[-1, 1]``, group them in ``n_bins`` equal bins of time (empty
    ones dropped; ``None``: one group per event) and evaluate the ``m`` basis functions at
    each group's mean scaled time, centred over the events (the b(t) family's and the
    magnitude laws' detection ``mu(t)``)."""
    t = np.asarray(times, dtype=float)
    t0, t1 = float(t.min()), float(t.max())
    centre, half = (t0 + t1) / 2, max((t1 - t0) / 2, 1e-12)
    s = (t - centre) / half
    if n_bins is None:
        group = np.arange(t.size)
    else:
        raw = np.minimum(np.floor((s + 1.0) / 2.0 * int(n_bins)), int(n_bins) - 1).astype(int)
        group = np.unique(raw, return_inverse=True)[1]
    count = np.bincount(group).astype(float)
    phi = basis(np.bincount(group, weights=s) / count, m, boundary)
    phi_mean = count @ phi / count.sum()
    return TimeGroups(centre, half, group.astype(np.int64), count, phi - phi_mean, phi_mean)
