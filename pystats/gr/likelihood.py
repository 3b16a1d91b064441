"""PyTorch log-likelihoods of the Gutenberg–Richter family.

These are the likelihoods the torch engine differentiates; the Stan programs
``gr_binned.stan``, ``gr_tapered.stan`` and ``gr_detection.stan`` implement the same
formulas term for term, and the tests check both against the NumPy reference functions
of :mod:`pystats.gr.distributions`.

Notation: ``beta = b ln 10``; ``delta_m`` (or ``width``) is the magnitude bin width, 0 for
continuous magnitudes.  A binned magnitude ``m`` stands for the interval
``[m - delta_m/2, m + delta_m/2)`` of true magnitudes; the continuous law behind a binned
catalogue with completeness magnitude ``mc`` (a bin centre) starts at ``mc - delta_m/2``.

* **Gutenberg–Richter** (exponential law above the threshold): the excess ``x`` of a
  binned magnitude over ``mc`` is ``k delta_m`` with ``k`` geometric,
  ``P(k) = (1 - q) q^k``, ``q = exp(-beta delta_m)`` (Tinti & Mulargia 1987); for
  continuous magnitudes ``x`` is exponential with rate ``beta`` (Aki 1965).
* **Tapered Gutenberg–Richter** (Kagan 2002), survival above the threshold ``m_t``:
  ``S(m) = 10^{-b (m - m_t)} exp(10^{1.5 (m_t - m_c)} - 10^{1.5 (m - m_c)})`` with corner
  magnitude ``m_c`` (the seismic-moment ratio ``M0(m)/M0(m_c) = 10^{1.5 (m - m_c)}``).
* **Detection** (Ogata & Katsura 1993): density of recorded magnitudes
  ``f(m) ∝ beta exp(-beta (m - m0)) Phi((m - mu) / sigma)`` for ``m >= m0``; its
  un-normalised survival has the closed form ``S(x) = exp(-beta (x - m0)) Phi(z) +
  exp(beta (m0 - mu) + beta² sigma² / 2) Phi(-z - beta sigma)``, ``z = (x - mu) / sigma``;
  both terms are positive, so ``log S`` is a stable log-sum-exp of ``log Phi`` values.
* **Rate**: the number ``N`` of events above ``mc`` in time ``T`` is Poisson with mean
  ``rate T``: ``N log(rate T) - rate T``; :meth:`GutenbergRichter.log_likelihood_torch`
  adds the constant ``-log N!`` so the density is normalised, as ``poisson_lpmf`` is in Stan.

References
----------
Aki, K. (1965). Maximum likelihood estimate of b in the formula log N = a - bM and its
confidence limits. Bulletin of the Earthquake Research Institute 43, 237-239.

Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
Geophysical Journal International 148(3), 520-541.
https://doi.org/10.1046/j.1365-246x.2002.01594.x

Mächler, M. (2012). Accurately computing log(1 - exp(-|a|)). Assessed by the Rmpfr
package. CRAN vignette.

Ogata, Y. and Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
magnitude frequency distribution inferred from earthquake catalogues. Geophysical Journal
International 113(3), 727-738. https://doi.org/10.1111/j.1365-246X.1993.tb04663.x

Tinti, S. and Mulargia, F. (1987). Confidence intervals of b values for grouped
magnitudes. Bulletin of the Seismological Society of America 77(6), 2125-2134.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = [
    "detection_log_cdf",
    "detection_log_interval",
    "detection_log_survival",
    "detection_logp",
    "gr_logp",
    "log1mexp",
    "log_diff_exp",
    "lognormal_logpdf",
    "normal_logpdf",
    "poisson_rate_loglik",
    "tapered_log_survival",
    "tapered_logp",
]

LN10 = math.log(10.0)
LN2 = math.log(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def log1mexp(a: torch.Tensor) -> torch.Tensor:
    """``log(1 - exp(-a))`` for ``a > 0``, accurate for small and large ``a`` (Mächler 2012).

    The same branch point as Stan's ``log1m_exp(-a)``.
    """
    return torch.where(a <= LN2, torch.log(-torch.expm1(-a)), torch.log1p(-torch.exp(-a)))


def log_diff_exp(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``log(exp(a) - exp(b))`` for ``a > b`` (as Stan's ``log_diff_exp``)."""
    return a + log1mexp(a - b)


def gr_logp(b: torch.Tensor, x: torch.Tensor, width: float) -> torch.Tensor:
    """Elementwise Gutenberg–Richter log probability of excesses ``x >= 0``.

    Parameters
    ----------
    b : tensor
        b-value (> 0).
    x : tensor
        Excess of each magnitude over the threshold: ``m - mc`` (a multiple of ``width``
        for binned data).
    width : float
        Bin width of the geometric law; 0 for the exponential density.

    Returns
    -------
    tensor
        ``log(1 - q) - beta x`` (geometric, ``q = exp(-beta width)``) or
        ``log(beta) - beta x`` (exponential).
    """
    beta = b * LN10
    if width > 0:
        return log1mexp(beta * width) - beta * x
    return torch.log(beta) - beta * x


def poisson_rate_loglik(rate: torch.Tensor, n: float, duration: float) -> torch.Tensor:
    """Poisson log-likelihood of ``n`` events in ``duration`` at ``rate``, without ``-log n!``.

    The caller adds the constant where a normalised value is needed.
    """
    mean = rate * duration
    return n * torch.log(mean) - mean


def tapered_log_survival(
    m: torch.Tensor, b: torch.Tensor, corner: torch.Tensor, m_t: float
) -> torch.Tensor:
    """Log survival of the tapered Gutenberg–Richter law above the threshold ``m_t``."""
    return (
        -b * LN10 * (m - m_t)
        + torch.exp(1.5 * LN10 * (m_t - corner))
        - torch.exp(1.5 * LN10 * (m - corner))
    )


def tapered_logp(
    m: torch.Tensor, b: torch.Tensor, corner: torch.Tensor, mc: float, delta_m: float
) -> torch.Tensor:
    """Elementwise tapered-GR log density (``delta_m = 0``) or log bin probability.

    Parameters
    ----------
    m : tensor
        Magnitudes (bin centres on the grid ``mc + k delta_m`` when binned).
    b, corner : tensor
        b-value and corner magnitude.
    mc : float
        Completeness magnitude (lowest bin centre); the continuous law starts at
        ``mc - delta_m / 2``.
    delta_m : float
        Bin width, 0 for continuous magnitudes.
    """
    m_t = mc - delta_m / 2.0
    if delta_m > 0:
        lo = tapered_log_survival(m - delta_m / 2.0, b, corner, m_t)
        hi = tapered_log_survival(m + delta_m / 2.0, b, corner, m_t)
        return log_diff_exp(lo, hi)
    log_s = tapered_log_survival(m, b, corner, m_t)
    return log_s + torch.log(b * LN10 + 1.5 * LN10 * torch.exp(1.5 * LN10 * (m - corner)))


def detection_log_survival(
    x: torch.Tensor, b: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, m0: float
) -> torch.Tensor:
    """Log of the un-normalised survival ``S(x)`` of the detection model (module docstring)."""
    beta = b * LN10
    z = (x - mu) / sigma
    t1 = -beta * (x - m0) + torch.special.log_ndtr(z)
    t2 = beta * (m0 - mu) + 0.5 * (beta * sigma) ** 2 + torch.special.log_ndtr(-z - beta * sigma)
    return torch.logaddexp(t1, t2)


def detection_log_cdf(
    x: torch.Tensor, b: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, m0: float
) -> torch.Tensor:
    """Log of ``F(x) = T - S(x)``, the un-normalised mass below ``x`` (``T = S(-inf)``).

    ``F(x) = exp(-beta (x - m0)) [exp(s z + s²/2) Phi(z + s) - Phi(z)]`` with ``s = beta
    sigma``: accurate in the lower tail, where ``S(lo) - S(hi)`` cancels.
    """
    beta = b * LN10
    s = beta * sigma
    z = (x - mu) / sigma
    upper = s * z + 0.5 * s**2 + torch.special.log_ndtr(z + s)
    return -beta * (x - m0) + log_diff_exp(upper, torch.special.log_ndtr(z))


def detection_log_interval(
    lo: torch.Tensor,
    hi: torch.Tensor,
    b: torch.Tensor,
    mu: torch.Tensor,
    sigma: torch.Tensor,
    m0: float,
) -> torch.Tensor:
    """``log(S(lo) - S(hi))`` of the detection model, from whichever tail is accurate.

    The survival difference is used where ``S(lo) <= T/2`` (upper half of the law), the
    difference ``F(hi) - F(lo)`` of :func:`detection_log_cdf` elsewhere.  The branch not
    taken is fed harmless values so that its gradient cannot be NaN.
    """
    beta = b * LN10
    log_total = beta * (m0 - mu) + 0.5 * (beta * sigma) ** 2
    s_lo = detection_log_survival(lo, b, mu, sigma, m0)
    s_hi = detection_log_survival(hi, b, mu, sigma, m0)
    f_lo = detection_log_cdf(lo, b, mu, sigma, m0)
    f_hi = detection_log_cdf(hi, b, mu, sigma, m0)
    upper = s_lo - log_total <= -LN2
    d_upper = torch.where(upper, s_lo - s_hi, torch.ones_like(s_lo))
    d_lower = torch.where(upper, torch.ones_like(f_hi), f_hi - f_lo)
    return torch.where(upper, s_lo + log1mexp(d_upper), f_hi + log1mexp(d_lower))


def detection_logp(
    m: torch.Tensor,
    b: torch.Tensor,
    mu: torch.Tensor,
    sigma: torch.Tensor,
    m_min: float,
    delta_m: float,
) -> torch.Tensor:
    """Elementwise log density / log bin probability of the detection model above ``m_min``.

    Parameters
    ----------
    m : tensor
        Recorded magnitudes (bin centres when binned), all ``>= m_min``.
    b, mu, sigma : tensor
        b-value, magnitude of 50 % detection, width of the detection ramp.
    m_min : float
        Lowest modelled magnitude (lowest bin centre when binned); the continuous law is
        truncated at ``m_min - delta_m / 2``.
    delta_m : float
        Bin width, 0 for continuous magnitudes.
    """
    m0 = m_min - delta_m / 2.0
    log_norm = detection_log_survival(
        torch.as_tensor(m0, dtype=m.dtype, device=m.device), b, mu, sigma, m0
    )
    if delta_m > 0:
        return detection_log_interval(m - delta_m / 2.0, m + delta_m / 2.0, b, mu, sigma, m0) - (
            log_norm
        )
    beta = b * LN10
    return torch.log(beta) - beta * (m - m0) + torch.special.log_ndtr((m - mu) / sigma) - log_norm


def lognormal_logpdf(x: torch.Tensor, mean_log: float, sd_log: float) -> torch.Tensor:
    """Log density of the lognormal distribution (Stan's ``lognormal_lpdf``)."""
    lx = torch.log(x)
    return -_HALF_LOG_2PI - math.log(sd_log) - lx - 0.5 * ((lx - mean_log) / sd_log) ** 2


def normal_logpdf(x: Any, mean: float, sd: float) -> Any:
    """Log density of the normal distribution (Stan's ``normal_lpdf``)."""
    return -_HALF_LOG_2PI - math.log(sd) - 0.5 * ((x - mean) / sd) ** 2
