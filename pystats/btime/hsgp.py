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
from typing import Any

import numpy as np

__all__ = ["basis", "spectral_sd", "sqrt_eigenvalues"]


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
