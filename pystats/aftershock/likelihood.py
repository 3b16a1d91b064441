"""Log density of the aftershock detection model (torch) and its numerical pieces.

Detected intensity (Omi et al. 2013)

.. math::

   \\nu(t, M) = K (t + c)^{-p}\\, \\beta e^{-\\beta (M - M_0)}\\,
   \\Phi\\big((M - \\mu(t)) / \\sigma\\big),

with the closed-form magnitude integral
``∫ β e^{−β (M − M0)} Φ((M − μ)/σ) dM = exp(−β (μ − M0) + β² σ² / 2)``, so that

.. math::

   \\log L = \\sum_i \\big[\\log K - p \\log(t_i + c) + \\log\\beta - \\beta (M_i - M_0)
   + \\log\\Phi((M_i - \\mu(t_i))/\\sigma)\\big]
   - \\int_{t_s}^{t_e} K (t + c)^{-p} e^{-\\beta(\\mu(t) - M_0) + \\beta^2\\sigma^2/2}\\,dt .

The time integral is Gauss–Legendre quadrature in ``s = log t`` (:func:`log_time_quadrature`);
``log Φ`` is :func:`log_ndtr_guarded` (identical formula in the Stan program).  Every
function broadcasts over leading batch axes of the parameters (one row per parameter draw).

References
----------
Omi, T., Ogata, Y., Hirata, Y., & Aihara, K. (2013). Forecasting large aftershocks within
one day after the main shock. *Scientific Reports*, 3, 2218.
https://doi.org/10.1038/srep02218
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "GL_NODES",
    "LOG_PHI_TAIL_Z",
    "detected_log_intensity",
    "log_magnitude_integral",
    "log_ndtr_guarded",
    "log_time_quadrature",
    "loglik",
    "panel_count",
]

LOG_PHI_TAIL_Z = -20.0
"""Below this ``z`` :func:`log_ndtr_guarded` uses the asymptotic series (both engines)."""
LOG_PHI_SERIES = (-1.0, 3.0, -15.0, 105.0, -945.0, 10395.0, -135135.0)
"""Coefficients ``(−1)^k (2k − 1)!!`` of ``z^{−2k}``, k = 1..7, in the asymptotic series."""
GL_NODES = 8
"""Gauss–Legendre nodes per quadrature panel."""
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _series(iz2: Any) -> Any:
    """``Σ_k (−1)^k (2k − 1)!! iz2^k`` (k = 1..7) by Horner's rule."""
    acc = LOG_PHI_SERIES[-1]
    for coef in LOG_PHI_SERIES[-2::-1]:
        acc = coef + iz2 * acc
    return iz2 * acc


def log_ndtr_guarded(z: Any) -> Any:
    """``log Φ(z)``: torch's ``log_ndtr`` above ``-20``, the asymptotic series below.

    For ``z < −20``

    ``log Φ(z) = −z²/2 − log(−z) − ½ log 2π
    + log(1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸ − 945/z¹⁰ + 10395/z¹² − 135135/z¹⁴)``

    (Abramowitz & Stegun 26.2.12), the same formula as the Stan program uses, where
    ``std_normal_lcdf`` is ``-inf`` below ``z = −37.5``.  The truncation error is below the
    next term, ``2027025/z¹⁶ < 3.1e-15`` at ``z = −20`` (and its derivative below
    ``2.5e-15``), so the value is continuous across the switch to within rounding (tested
    < 1e-12).  Above the switch torch's ``log_ndtr`` is accurate to rounding in value and
    gradient (it is computed through ``erfcx`` in the lower tail).  The gradient is NaN-free
    everywhere (each branch sees only its own range of ``z``).

    Parameters
    ----------
    z : torch.Tensor

    Returns
    -------
    torch.Tensor
        Same shape as ``z``.

    References
    ----------
    Abramowitz, M., & Stegun, I. A. (1964). *Handbook of Mathematical Functions*, 26.2.12.
    National Bureau of Standards.

    Examples
    --------
    >>> import torch
    >>> from pystats.aftershock.likelihood import log_ndtr_guarded
    >>> z = torch.tensor([-30.0, 0.0, 3.0], dtype=torch.float64)
    >>> [round(float(v), 6) for v in log_ndtr_guarded(z)]
    [-454.321244, -0.693147, -0.001351]
    """
    import torch

    tail = z < LOG_PHI_TAIL_Z
    zt = torch.clamp(z, max=LOG_PHI_TAIL_Z)  # tail branch sees z <= -20 only
    zm = torch.clamp(z, min=LOG_PHI_TAIL_Z)  # main branch sees z >= -20 only
    asym = -0.5 * zt * zt - torch.log(-zt) - _HALF_LOG_2PI + torch.log1p(_series(1.0 / (zt * zt)))
    return torch.where(tail, asym, torch.special.log_ndtr(zm))


def log_magnitude_integral(mu: Any, beta: Any, sigma: Any, m0: float) -> Any:
    """``log ∫ β e^{−β (M − M0)} Φ((M − μ)/σ) dM = −β (μ − M0) + β² σ² / 2``."""
    return -beta * (mu - m0) + 0.5 * (beta * sigma) ** 2


def panel_count(n_panels: int, n_latent: int) -> int:
    """Quadrature panels: the smallest multiple of ``n_latent − 1`` that is ``>= n_panels``.

    Panel edges then include every inducing input (GP) or node (RW2), where ``μ(s)`` is
    not smooth (Matérn kernels have a kink in a higher derivative at ``s = Z_j``; the RW2
    interpolant a kink in the first), so the integrand is analytic inside each panel.
    """
    k = max(1, n_latent - 1)
    return int(math.ceil(n_panels / k) * k)


def log_time_quadrature(t_start: float, t_end: float, n_panels: int,
                        n_nodes: int = GL_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes ``s_q`` and weights ``w_q`` for ``∫_{t_start}^{t_end} g(t) dt``.

    With ``t = e^s``: ``∫ g(t) dt = ∫_{s0}^{s1} g(e^s) e^s ds ≈ Σ_q w_q g(e^{s_q})``, where
    ``[s0, s1] = [log t_start, log t_end]`` is split into ``n_panels`` equal panels of
    ``n_nodes`` Legendre nodes each and ``w_q`` already includes the factor ``e^{s_q}``.

    Examples
    --------
    >>> import numpy as np
    >>> from pystats.aftershock.likelihood import log_time_quadrature
    >>> s, w = log_time_quadrature(0.01, 1.0, 4)
    >>> round(float(np.sum(w / np.exp(s))), 12)  # ∫ dt / t over [0.01, 1] = log 100
    4.605170185988
    """
    if not 0 < t_start < t_end:
        raise ValueError(f"need 0 < t_start < t_end; got {t_start!r}, {t_end!r}")
    x, w = np.polynomial.legendre.leggauss(int(n_nodes))
    edges = np.linspace(math.log(t_start), math.log(t_end), int(n_panels) + 1)
    half = 0.5 * np.diff(edges)[:, None]
    mid = 0.5 * (edges[1:] + edges[:-1])[:, None]
    s = (mid + half * x[None, :]).ravel()
    weights = (half * w[None, :]).ravel() * np.exp(s)
    return s, weights


def detected_log_intensity(t: Any, m: Any, mu: Any, params: dict[str, Any], m0: float) -> Any:
    """``log ν(t_i, M_i)`` per event; ``mu`` is ``μ(t_i)``; broadcasts over batch axes."""
    K, c, p = params["K"][..., None], params["c"][..., None], params["p"][..., None]
    beta, sigma = params["beta"][..., None], params["sigma"][..., None]
    return (K.log() - p * (t + c).log() + beta.log() - beta * (m - m0)
            + log_ndtr_guarded((m - mu) / sigma))


def loglik(params: dict[str, Any], mu_events: Any, mu_nodes: Any, tensors: dict[str, Any]) -> Any:
    """Log likelihood given ``μ`` at the events and at the quadrature nodes.

    ``params`` holds ``K, c, p, beta, sigma`` (shape ``batch``); ``mu_events`` has shape
    ``(*batch, N)``, ``mu_nodes`` ``(*batch, Q)``; ``tensors`` has ``t, m, M0, t_q, w_q``.
    Returns shape ``batch``.
    """
    m0 = float(tensors["M0"])
    t, m = tensors["t"], tensors["m"]
    events = detected_log_intensity(t, m, mu_events, params, m0).sum(-1)
    K, c, p = params["K"][..., None], params["c"][..., None], params["p"][..., None]
    beta, sigma = params["beta"][..., None], params["sigma"][..., None]
    log_g = -p * (tensors["t_q"] + c).log() + log_magnitude_integral(mu_nodes, beta, sigma, m0)
    integral = K[..., 0] * (tensors["w_q"] * log_g.exp()).sum(-1)
    return events - integral
