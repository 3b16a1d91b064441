"""Magnitude laws of the generalized-gamma family of seismic moment (torch, float64).

Every law is defined in seismic moment above a threshold and mapped to moment magnitude
with ``Mw = (2/3)(log10 M0 - 9.1)`` (``models/magnitude_laws.md`` §1–2).  In magnitude, with
the corner magnitude ``m_c``, ``L = 1.5 γ ln 10``, ``w = L (m - m_c)`` (``= log u``,
``u = (M0/M_c)^γ``) and ``a = -b / (1.5 γ)`` (``b = 1.5 β`` the b-value):

================== ============================ ===========================================
law                log kernel ``k(m)``           log tail ``T(m) = log ∫_m^∞ e^k``
================== ============================ ===========================================
gr                 ``log β - β m``               ``-β m`` (``β = b ln 10``)
tapered_gr         ``T(m) + log(β + 1.5 ln10 e^w)`` ``-β m - e^w`` (Kagan 2002, γ = 1)
gamma              ``log L + a w - e^w`` (γ = 1) ``log Γ(a, e^w)``
exponential_moment ``log L + w - e^w`` (γ = 1)   ``-e^w``
weibull            ``log L + w - e^w``           ``-e^w``
generalized_gamma  ``log L + a w - e^w``         ``log Γ(a, e^w)``
================== ============================ ===========================================

``k`` is the log density up to a constant that ``T`` shares, so ``f(m) = e^{k(m) - T(m_t)}``
and ``S(m) = e^{T(m) - T(m_t)}`` above the threshold ``m_t``.  Bin masses ``∫_bin e^{k}``
(times the detection probability ``Φ((m - μ)/σ)`` when there is one) are 8-point
Gauss–Legendre sums of ``k``: no difference of survivals, so no cancellation where a bin
holds a tiny share of the mass.

References
----------
Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
Geophysical Journal International 148(3), 520-541.
https://doi.org/10.1046/j.1365-246x.2002.01594.x

Hanks, T. C. and Kanamori, H. (1979). A moment magnitude scale. Journal of Geophysical
Research 84(B5), 2348-2350. https://doi.org/10.1029/JB084iB05p02348
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .incgamma import GL_NODES, gauss_legendre, log_upper_gamma

__all__ = [
    "LAWS",
    "LAW_PARAMETERS",
    "bin_log_mass",
    "log_density",
    "log_kernel",
    "log_survival",
    "log_tail",
    "magnitude_from_moment",
    "moment_from_magnitude",
    "simulate",
]

LN10 = math.log(10.0)
LAWS = ("gr", "tapered_gr", "gamma", "exponential_moment", "weibull", "generalized_gamma")
"""The laws of :class:`pystats.MagnitudeLaw`, from GR to the full generalized gamma."""
LAW_PARAMETERS: Mapping[str, tuple[str, ...]] = {
    "gr": ("b",),
    "tapered_gr": ("b", "corner_magnitude"),
    "gamma": ("b", "corner_magnitude"),
    "exponential_moment": ("corner_magnitude",),
    "weibull": ("gamma", "corner_magnitude"),
    "generalized_gamma": ("b", "gamma", "corner_magnitude"),
}
"""Size-law parameters of each law (detection adds ``mu`` and ``sigma``)."""


def moment_from_magnitude(m: Any) -> np.ndarray:
    """Seismic moment (N m) of moment magnitude ``m``: ``10^(1.5 m + 9.1)``."""
    return 10.0 ** (1.5 * np.asarray(m, dtype=float) + 9.1)


def magnitude_from_moment(m0: Any) -> np.ndarray:
    """Moment magnitude ``(2/3)(log10 M0 - 9.1)`` of seismic moment ``m0`` (N m)."""
    return (2.0 / 3.0) * (np.log10(np.asarray(m0, dtype=float)) - 9.1)


def _shape(law: str, p: Mapping[str, Any]) -> tuple[Any, Any]:
    """``(gamma, a)`` of a gamma-type law (``a = -b / (1.5 gamma)``)."""
    if law == "gamma":
        return 1.0, -p["b"] / 1.5
    if law in ("exponential_moment",):
        return 1.0, 1.0
    if law == "weibull":
        return p["gamma"], 1.0
    return p["gamma"], -p["b"] / (1.5 * p["gamma"])


def log_kernel(law: str, m: Any, p: Mapping[str, Any]) -> Any:
    """Log of the unnormalised magnitude density ``k(m)`` (module table); torch.

    Parameters
    ----------
    law : str
        One of :data:`LAWS`.
    m : tensor
        Magnitudes.
    p : mapping
        Parameters (tensors broadcasting against ``m``): those of ``LAW_PARAMETERS[law]``.
    """
    import torch

    if law == "gr":
        beta = p["b"] * LN10
        return torch.log(beta) - beta * m
    if law == "tapered_gr":
        beta = p["b"] * LN10
        e = torch.exp(1.5 * LN10 * (m - p["corner_magnitude"]))
        return -beta * m - e + torch.log(beta + 1.5 * LN10 * e)
    gamma, a = _shape(law, p)
    big_l = 1.5 * LN10 * gamma
    w = big_l * (m - p["corner_magnitude"])
    return torch.log(torch.as_tensor(big_l, dtype=torch.float64)) + a * w - torch.exp(w)


def log_tail(law: str, m: Any, p: Mapping[str, Any]) -> Any:
    """``T(m) = log ∫_m^∞ exp(k)``: the log survival up to the constant of :func:`log_kernel`."""
    import torch

    if law == "gr":
        return -p["b"] * LN10 * m
    if law == "tapered_gr":
        return -p["b"] * LN10 * m - torch.exp(1.5 * LN10 * (m - p["corner_magnitude"]))
    gamma, a = _shape(law, p)
    w = 1.5 * LN10 * gamma * (m - p["corner_magnitude"])
    if law in ("exponential_moment", "weibull"):
        return -torch.exp(w)
    return log_upper_gamma(a, torch.exp(w), log_x=w)


def log_survival(law: str, m: Any, m_t: float, p: Mapping[str, Any]) -> Any:
    """``log P(M >= m)`` above the threshold ``m_t`` (``m >= m_t``); torch."""
    import torch

    mt = torch.as_tensor(m_t, dtype=torch.float64)
    return log_tail(law, m, p) - log_tail(law, mt, p)


def log_density(law: str, m: Any, m_t: float, p: Mapping[str, Any]) -> Any:
    """Log density of magnitude ``m >= m_t``; torch."""
    import torch

    mt = torch.as_tensor(m_t, dtype=torch.float64)
    return log_kernel(law, m, p) - log_tail(law, mt, p)


def bin_log_mass(
    law: str,
    lo: Any,
    width: float,
    p: Mapping[str, Any],
    mu: Any = None,
    sigma: Any = None,
) -> Any:
    """``log ∫_lo^{lo+width} exp(k(m)) [Φ((m - μ)/σ)] dm`` per bin, 8-point Gauss–Legendre.

    Parameters
    ----------
    law : str
        One of :data:`LAWS`.
    lo : tensor
        Lower bin edges, shape ``(K,)``.
    width : float
        Bin width (> 0).
    p : mapping
        Size-law parameters (scalars).
    mu, sigma : tensor, optional
        Detection parameters; ``None`` for no detection.
    """
    import torch

    y, w = gauss_legendre(GL_NODES)
    yt = torch.as_tensor(y, dtype=torch.float64, device=lo.device)
    lw = torch.as_tensor(np.log(w * width), dtype=torch.float64, device=lo.device)
    nodes = lo.unsqueeze(-1) + width * yt
    g = log_kernel(law, nodes, p) + lw
    if mu is not None:
        g = g + torch.special.log_ndtr((nodes - mu) / sigma)
    return torch.logsumexp(g, dim=-1)


# ----------------------------------------------------------------------------- numpy
def _np_params(p: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    return {k: torch.as_tensor(np.asarray(v, dtype=float)) for k, v in p.items()}


def log_survival_np(law: str, m: Any, m_t: float, p: Mapping[str, Any]) -> np.ndarray:
    """NumPy front end of :func:`log_survival` (float64)."""
    import torch

    with torch.no_grad():
        return log_survival(law, torch.as_tensor(np.asarray(m, dtype=float)), m_t,
                            _np_params(p)).numpy()


def log_density_np(law: str, m: Any, m_t: float, p: Mapping[str, Any]) -> np.ndarray:
    """NumPy front end of :func:`log_density` (float64)."""
    import torch

    with torch.no_grad():
        return log_density(law, torch.as_tensor(np.asarray(m, dtype=float)), m_t,
                           _np_params(p)).numpy()


def simulate(
    n: int,
    law: str,
    m_t: float,
    params: Mapping[str, float],
    rng: Any = None,
    mu: float | None = None,
    sigma: float | None = None,
    delta_m: float = 0.0,
) -> np.ndarray:
    """``n`` magnitudes ``>= m_t`` of ``law`` (optionally thinned by detection, binned).

    Inverse-CDF sampling on a 0.0005-magnitude grid of :func:`log_survival` (linear
    interpolation of ``log S``), which is exact for ``gr`` and accurate to ~1e-7 in
    magnitude for the tapered laws.  With ``mu`` and ``sigma``, events are kept with
    probability ``Φ((m - mu)/sigma)`` until ``n`` are kept.  ``delta_m > 0`` rounds to bins
    centred on ``m_t + delta_m/2 + k delta_m``.

    Returns
    -------
    numpy.ndarray
        The magnitudes, shape ``(n,)``.
    """
    from scipy.special import ndtr

    rng = np.random.default_rng(rng)
    grid = m_t + np.arange(0, 30001) * 0.0005  # 15 magnitude units
    log_s = log_survival_np(law, grid, m_t, params)
    keep = np.isfinite(log_s) & (log_s > -700)
    grid, log_s = grid[keep], log_s[keep]
    out: list[np.ndarray] = []
    need = n
    while need > 0:
        batch = max(need * 2, 100)
        e = -rng.exponential(size=batch)  # log U
        e = np.maximum(e, log_s[-1])
        m = np.interp(-e, -log_s, grid)
        if mu is not None:
            m = m[rng.uniform(size=m.size) < ndtr((m - mu) / sigma)]
        out.append(m[:need])
        need -= out[-1].size
    m = np.concatenate(out)
    if delta_m > 0:
        m = np.round(m_t + delta_m / 2 + np.floor((m - m_t) / delta_m) * delta_m, 10)
    return m
