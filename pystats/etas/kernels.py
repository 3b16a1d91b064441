"""The Omori–Utsu power-law kernel, its integrals, and its sum-of-exponentials approximation.

The temporal ETAS model (Ogata 1988) and the Omori–Utsu law share the kernel

.. math:: k(t) = (t + c)^{-p}, \\qquad t \\ge 0,\\ c > 0,\\ p > 0.

This module holds the pieces of arithmetic that the likelihood (:mod:`.likelihood`), the
simulator (:mod:`.simulate`) and the Omori–Utsu functions (:mod:`.omori`) share.  Every
function works on NumPy arrays and on torch tensors alike (the library is picked from the
argument types), so the same formula serves the NumPy simulator and the autograd-enabled
likelihood.

Closed-form integral, stable across ``p = 1``
---------------------------------------------
With :math:`u = a + c` and :math:`L = \\log\\frac{b + c}{a + c} = \\operatorname{log1p}
\\frac{b - a}{a + c}`,

.. math::

   \\int_a^b (s + c)^{-p}\\,ds = u^{1-p}\\, L\\, \\varphi\\bigl((1-p)L\\bigr),
   \\qquad \\varphi(q) = \\frac{\\operatorname{expm1}(q)}{q},\\ \\varphi(0) = 1.

For ``p = 1`` this is ``log((b + c) / (a + c))``; for ``p != 1`` it equals
``((a + c)^(1-p) - (b + c)^(1-p)) / (p - 1)``.  :func:`expm1_over_x` evaluates
:math:`\\varphi` by its Taylor series for ``|q| < 0.05`` so that the value and its first two
derivatives in ``p`` are smooth and accurate through ``p = 1`` (no ``0/0``, no NaN gradient).

Sum of exponentials (SOE)
-------------------------
From :math:`y^{-p} = \\Gamma(p)^{-1}\\int_0^\\infty s^{p-1}e^{-sy}\\,ds` and the substitution
:math:`s = e^x`,

.. math::

   (t + c)^{-p} = \\frac{1}{\\Gamma(p)}\\int_{-\\infty}^{\\infty} e^{px - e^x c}\\,
   e^{-e^x t}\\,dx \\approx \\sum_k w_k e^{-s_k t},\\quad
   s_k = e^{x_k},\\ w_k = \\frac{h}{\\Gamma(p)} e^{p x_k - s_k c},

the trapezoidal rule on the lattice :math:`x_k = k h`.  The integrand is analytic in the
strip :math:`|\\Im x| < \\pi/2`, so the relative error of the rule decays like
:math:`e^{-\\pi^2/h}` (more precisely the aliasing error is
:math:`2|\\Gamma(p + 2\\pi i/h)|/\\Gamma(p)`), uniformly in ``t``.  The lattice is cut at
``k_hi`` (nodes so fast that they are negligible even at ``t = 0``) and ``k_lo`` (nodes so
slow that :math:`e^{-s_k(t + c)} \\approx 1` over the whole time span); the dropped slow
nodes are summed in closed form into one rate-zero term
:math:`w_0 = h e^{p x_{lo}} / (\\Gamma(p)(e^{ph} - 1))`.  Only the weights depend on the
parameters (``c`` and ``p``), smoothly, so the likelihood built on the SOE is differentiable
in every parameter; the rates ``s_k`` are fixed numbers, so the history sum becomes a linear
recursion over events with parameter-free decay factors.

References
----------
Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. *Journal of the American Statistical Association*, 83(401), 9–27.
https://doi.org/10.1080/01621459.1988.10478560

Ogata, Y. (2006). Statistical Analysis of Seismicity – updated version (SASeis2006).
*Computer Science Monographs* 33, The Institute of Statistical Mathematics, Tokyo (the
``etasap`` program uses the same Gamma-integral representation, with a double-exponential
quadrature, for its approximate likelihood).

Trefethen, L. N., & Weideman, J. A. C. (2014). The exponentially convergent trapezoidal
rule. *SIAM Review*, 56(3), 385–458. https://doi.org/10.1137/130932132

Beylkin, G., & Monzón, L. (2010). Approximation by exponential sums revisited. *Applied and
Computational Harmonic Analysis*, 28(2), 131–149. https://doi.org/10.1016/j.acha.2009.08.011
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _checks
from ..errors import OptionError

__all__ = [
    "SOE_DEFAULT_RTOL",
    "SoeGrid",
    "expm1_over_x",
    "kernel",
    "kernel_integral",
    "kernel_integral_inf",
    "soe_aliasing_error",
    "soe_grid",
    "soe_weights",
]

SOE_DEFAULT_RTOL = 1e-10
"""Default target relative error of the SOE approximation of the kernel."""

_SERIES_CUT = 0.05
# 1/(n+1)! for n = 0..11: phi(q) = sum_n q^n / (n+1)!; the first dropped term at |q| = 0.05
# is 0.05^12 / 13! ~ 4e-26.
_SERIES_COEF = [1.0 / math.factorial(n + 1) for n in range(12)]


def _lib(x: Any) -> Any:
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def _pick(*xs: Any) -> Any:
    for x in xs:
        if type(x).__module__.startswith("torch"):
            import torch

            return torch
    return np


def expm1_over_x(q: Any) -> Any:
    """``expm1(q) / q`` with the removable singularity at ``q = 0`` filled in (value 1).

    Smooth (and autograd-safe: no NaN gradients) through ``q = 0``; a Taylor series is used
    for ``|q| < 0.05``.

    Parameters
    ----------
    q : ndarray or torch.Tensor

    Returns
    -------
    Same type as ``q``.
    """
    lib = _lib(q)
    small = lib.abs(q) < _SERIES_CUT
    q_safe = lib.where(small, lib.ones_like(q), q)
    direct = lib.expm1(q_safe) / q_safe
    series = q * 0.0 + _SERIES_COEF[-1]
    for coef in reversed(_SERIES_COEF[:-1]):
        series = series * q + coef
    return lib.where(small, series, direct)


def kernel(t: Any, c: Any, p: Any) -> Any:
    """The Omori–Utsu kernel ``(t + c)^(-p)``.

    Parameters
    ----------
    t : array or tensor
        Delays (``t >= 0``).
    c, p : float or tensor
        Kernel parameters (``c > 0``, ``p > 0``).

    Returns
    -------
    array or tensor
    """
    lib = _pick(t, c, p)
    return lib.exp(-p * lib.log(t + c))


def kernel_integral(a: Any, b: Any, c: Any, p: Any) -> Any:
    """``∫_a^b (s + c)^(-p) ds`` for ``0 <= a <= b``, in closed form, stable near ``p = 1``.

    Computed as ``u^(1-p) * L * expm1_over_x((1 - p) L)`` with ``u = a + c`` and
    ``L = log1p((b - a) / u)``; exact for every ``p > 0`` including ``p = 1`` (where it is
    ``L``), with no cancellation when ``b - a`` is small or ``p`` is close to 1.

    Parameters
    ----------
    a, b : array or tensor
        Lower and upper delay limits (broadcast together).
    c, p : float or tensor
        Kernel parameters.

    Returns
    -------
    array or tensor
        Same broadcast shape as ``a`` and ``b``.
    """
    lib = _pick(a, b, c, p)
    u = a + c
    big_l = lib.log1p((b - a) / u)
    one_minus_p = 1.0 - p
    return lib.exp(one_minus_p * lib.log(u)) * big_l * expm1_over_x(one_minus_p * big_l)


def kernel_integral_inf(a: Any, c: Any, p: Any) -> Any:
    """``∫_a^∞ (s + c)^(-p) ds = (a + c)^(1-p) / (p - 1)`` (``inf`` for ``p <= 1``).

    Parameters
    ----------
    a : array or tensor
        Lower delay limit.
    c, p : float
        Kernel parameters.

    Returns
    -------
    array or tensor
    """
    lib = _pick(a, c, p)
    if float(p) <= 1.0:
        return lib.full_like(a + c, math.inf) if lib is np else (a + c) * math.inf
    return lib.exp((1.0 - p) * lib.log(a + c)) / (p - 1.0)


@dataclass(frozen=True)
class SoeGrid:
    """Node set of the sum-of-exponentials approximation of ``(t + c)^(-p)``.

    Attributes
    ----------
    step : float
        Lattice step ``h`` in ``x = log s``.
    k_lo, k_hi : int
        Lattice indices kept: nodes ``x_k = k * step`` for ``k_lo <= k <= k_hi``.
    rates : ndarray
        ``s_k = exp(x_k)`` (length ``k_hi - k_lo + 1``), increasing.

    Examples
    --------
    >>> import numpy as np
    >>> from pystats.etas.kernels import soe_grid, soe_weights
    >>> grid = soe_grid(0.01, 1.2, t_span=1000.0)
    >>> w, w0 = soe_weights(grid, 0.01, 1.2)
    >>> t = np.array([0.0, 1.0, 1000.0])
    >>> approx = w0 + (w * np.exp(-np.outer(t, grid.rates))).sum(axis=1)
    >>> bool(np.allclose(approx, (t + 0.01) ** -1.2, rtol=1e-8))
    True
    >>> grid.n_terms == grid.rates.size + 1
    True
    """

    step: float
    k_lo: int
    k_hi: int
    rates: np.ndarray

    @property
    def n_terms(self) -> int:
        """Number of exponentials, the rate-zero tail term included."""
        return self.k_hi - self.k_lo + 2

    @property
    def nodes(self) -> np.ndarray:
        """Lattice points ``x_k = k * step``."""
        return np.arange(self.k_lo, self.k_hi + 1) * self.step


def soe_aliasing_error(p: float, step: float) -> float:
    """Relative error of the SOE trapezoidal rule from the lattice step (aliasing term).

    ``2 |Γ(p + 2πi/step)| / Γ(p)``: the leading term of the Poisson-summation error of the
    trapezoidal rule for the Gamma integral, the same for every delay ``t`` (it oscillates in
    ``log(t + c)`` with period ``step``).  It matches the measured maximum relative error of
    the approximation to two digits.

    Parameters
    ----------
    p : float
        Kernel exponent.
    step : float
        Lattice step in ``log s``.

    Returns
    -------
    float
    """
    from scipy.special import loggamma

    v = 2.0 * math.pi / step
    return float(2.0 * np.exp(np.real(loggamma(p + 1j * v)) - np.real(loggamma(p))))


def _step_for(p: float, rtol: float) -> float:
    # largest step of a fixed ladder whose aliasing error is below rtol; a ladder (not a
    # root) keeps the lattice fixed while an optimizer moves p, except at rare switch points
    for j in range(60):
        h = 0.6 * 0.9**j
        if soe_aliasing_error(p, h) <= rtol:
            return h
    raise OptionError(f"rtol={rtol!r} is too small for p={p!r}; use rtol >= 1e-15")


def soe_grid(
    c: float,
    p: float,
    t_span: float,
    *,
    rtol: float = SOE_DEFAULT_RTOL,
    step: float | None = None,
    n_terms: int | None = None,
) -> SoeGrid:
    """Choose the SOE nodes for kernel parameters ``(c, p)`` and delays up to ``t_span``.

    The nodes lie on a lattice ``x_k = k * step``; only the end indices depend on ``c``
    (and ``p``), and a node enters or leaves the set only where its weight is below
    ``rtol / 100`` relative, so the approximate likelihood changes by at most that much
    when an optimizer moves ``c`` or ``p`` across such a point.  The step is the largest of
    the ladder ``0.6 * 0.9**j`` whose :func:`soe_aliasing_error` is below ``rtol``.

    Parameters
    ----------
    c, p : float
        Kernel parameters (plain numbers: the grid itself is not differentiated).
    t_span : float
        Largest delay the approximation must cover (e.g. ``t_end - times[0]``).
    rtol : float
        Target maximum relative error of the approximation of ``(t + c)^(-p)`` over
        ``0 <= t <= t_span`` (default :data:`SOE_DEFAULT_RTOL`).
    step : float, optional
        Use this lattice step instead of the one chosen from ``rtol``.
    n_terms : int, optional
        Use this many exponentials instead (the rate-zero tail term included): the range
        needed for ``rtol`` is covered with ``step = range / (n_terms - 2)``; the error then
        follows :func:`soe_aliasing_error` of that step.

    Returns
    -------
    SoeGrid

    Raises
    ------
    OptionError
        For ``c <= 0``, ``p <= 0``, a negative span, a bad ``rtol`` or step, or
        ``n_terms < 3``.
    """
    from scipy.special import gammainccinv, gammaln

    c = float(c)
    p = float(p)
    t_span = float(t_span)
    if not (c > 0 and math.isfinite(c)):
        raise OptionError(f"c={c!r} is not allowed; the kernel needs 0 < c < inf")
    if not (p > 0 and math.isfinite(p)):
        raise OptionError(f"p={p!r} is not allowed; the kernel needs 0 < p < inf")
    if not (t_span >= 0 and math.isfinite(t_span)):
        raise OptionError(f"t_span={t_span!r} is not allowed; use a finite span >= 0")
    if not 1e-15 <= rtol < 1:
        raise OptionError(f"rtol={rtol!r} is not allowed; use 1e-15 <= rtol < 1")
    tol = rtol * 1e-2
    # fast end: drop nodes whose contribution is below tol even at the shortest delay (t=0):
    # the dropped mass is the upper regularised gamma Q(p, e^x c).
    u_hi = float(gammainccinv(p, tol))
    x_hi = math.log(u_hi / c)
    # slow end: the dropped nodes are summed as a rate-zero term; the error of that is about
    # (e^x y)^(p+1) / ((p+1) Γ(p)) at the longest delay y = t_span + c.
    log_u_lo = (math.log(tol) + math.log(p + 1.0) + float(gammaln(p))) / (p + 1.0)
    x_lo = log_u_lo - math.log(t_span + c)
    if n_terms is not None:
        n_terms = _checks.integer("n_terms", n_terms, 3)
        h = (x_hi - x_lo) / (int(n_terms) - 2)
        k_lo = math.floor(x_lo / h)
        k_hi = k_lo + int(n_terms) - 2
    else:
        if step is None:
            h = _step_for(p, rtol)
        else:
            h = float(step)
            if not (h > 0 and math.isfinite(h)):
                raise OptionError(f"step={step!r} is not allowed; use 0 < step < inf")
        k_lo = math.floor(x_lo / h)
        k_hi = math.ceil(x_hi / h)
    rates = np.exp(np.arange(k_lo, k_hi + 1) * h)
    rates.flags.writeable = False
    return SoeGrid(step=h, k_lo=k_lo, k_hi=k_hi, rates=rates)


def soe_weights(grid: SoeGrid, c: Any, p: Any) -> tuple[Any, Any]:
    """Weights of the SOE on ``grid`` at kernel parameters ``(c, p)`` (differentiable).

    ``(t + c)^(-p) ≈ w0 + Σ_k w[k] exp(-grid.rates[k] * t)`` for ``0 <= t <= t_span``.

    Parameters
    ----------
    grid : SoeGrid
        From :func:`soe_grid`.
    c, p : float or tensor
        Kernel parameters; with tensors the weights carry their autograd graph.

    Returns
    -------
    w : array or tensor
        Weights of the exponentials, one per rate.
    w0 : float or tensor
        Weight of the rate-zero term (the dropped slow nodes, summed in closed form).
    """
    lib = _pick(c, p)
    h = grid.step
    if lib is np:
        from scipy.special import gammaln

        lgam = gammaln(p)
        x = grid.nodes
        rates = grid.rates
    else:
        lgam = lib.lgamma(p)
        x = lib.tensor(grid.nodes)
        ref = p if hasattr(p, "device") else c
        x = x.to(device=ref.device, dtype=ref.dtype)
        rates = lib.tensor(np.array(grid.rates), device=ref.device, dtype=ref.dtype)
    log_w = math.log(h) - lgam + p * x - rates * c
    w = lib.exp(log_w)
    x_lo = grid.k_lo * h
    w0 = lib.exp(math.log(h) - lgam + p * x_lo) / lib.expm1(p * h)
    return w, w0
