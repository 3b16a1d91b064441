"""The Omori–Utsu law for a single aftershock sequence (PyTorch, float64).

Times are measured from the main shock (``t = 0``); the aftershock rate is

.. math:: \\lambda(t) = \\mu + K (t + c)^{-p}, \\qquad K > 0,\\ c > 0,\\ p > 0,\\ \\mu \\ge 0,

a non-stationary Poisson process (Utsu 1961; Ogata 1983).  On a window
``[t_start, t_end]`` (``t_start >= 0``; early aftershocks are often incomplete, so
``t_start > 0`` is common)

.. math::

   \\log L = \\sum_{t_start \\le t_j \\le t_end} \\log\\lambda(t_j)
      - \\mu (t_end - t_start) - K \\int_{t_start}^{t_end} (t + c)^{-p} dt,

with the integral in closed form, stable through ``p = 1``
(:func:`pystats.etas.kernels.kernel_integral`).  For ``mu = 0`` the MLE of ``K`` given
``(c, p)`` is ``n / ∫ (t + c)^(-p) dt`` (:func:`omori_profile_K`).

References
----------
Utsu, T. (1961). A statistical study on the occurrence of aftershocks. *Geophysical
Magazine*, 30, 521–605.

Ogata, Y. (1983). Estimation of the parameters in the modified Omori formula for aftershock
frequencies by the maximum likelihood procedure. *Journal of Physics of the Earth*, 31(2),
115–124. https://doi.org/10.4294/jpe1952.31.115

Utsu, T., Ogata, Y., & Matsu'ura, R. S. (1995). The centenary of the Omori formula for a
decay law of aftershock activity. *Journal of Physics of the Earth*, 43(1), 1–33.
https://doi.org/10.4294/jpe1952.43.1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..errors import OptionError
from .kernels import kernel_integral

__all__ = [
    "OMORI_PARAMETERS",
    "omori_integral",
    "omori_intensity",
    "omori_loglik",
    "omori_profile_K",
]

OMORI_PARAMETERS = ("K", "c", "p")
"""Required parameter names of the Omori–Utsu law (``mu`` is optional, default 0)."""


def _prepare(
    params: Mapping[str, Any], device: Any
) -> tuple[dict[str, torch.Tensor], torch.device]:
    from ..backends.torch import resolve_device
    from .likelihood import _params

    dev = resolve_device(device)
    full = dict(params) if isinstance(params, Mapping) else params
    if isinstance(full, dict):
        full.setdefault("mu", 0.0)
    return _params(full, ("mu", *OMORI_PARAMETERS), dev), dev


def _window(t_start: Any, t_end: Any) -> tuple[float, float]:
    from .likelihood import _window as window

    ts, te = window(t_start, t_end)
    if ts < 0:
        raise OptionError(
            f"t_start={ts!r} is not allowed; Omori–Utsu times count from the main shock, "
            f"use t_start >= 0"
        )
    return ts, te


def omori_intensity(
    params: Mapping[str, Any], t: Any, *, device: Any = "cpu"
) -> torch.Tensor:
    """Rate ``mu + K (t + c)^(-p)`` at times ``t >= 0`` since the main shock.

    Parameters
    ----------
    params : dict
        ``K``, ``c``, ``p`` and optionally ``mu`` (default 0): floats or 0-d tensors.
    t : array-like or tensor
        Times since the main shock.
    device : str or torch.device
        Where to compute.

    Returns
    -------
    torch.Tensor
        float64, same length as ``t``.

    Raises
    ------
    DataError, OptionError
        Non-finite times, bad parameters.
    """
    from .likelihood import _as_1d

    ps, dev = _prepare(params, device)
    tt = _as_1d("t", t, dev)
    return ps["mu"] + ps["K"] * torch.exp(-ps["p"] * torch.log(tt + ps["c"]))


def omori_integral(
    params: Mapping[str, Any], t_start: float, t_end: float, *, device: Any = "cpu"
) -> torch.Tensor:
    """Expected number of events ``∫_{t_start}^{t_end} (mu + K (t + c)^(-p)) dt``.

    Parameters
    ----------
    params : dict
        ``K``, ``c``, ``p`` and optionally ``mu``.
    t_start, t_end : float
        Window, ``0 <= t_start < t_end``.
    device : str or torch.device
        Where to compute.

    Returns
    -------
    torch.Tensor
        0-d float64 tensor, differentiable in the parameters.

    Raises
    ------
    OptionError
        Bad parameters or window.
    """
    ps, dev = _prepare(params, device)
    ts, te = _window(t_start, t_end)
    a = torch.tensor(ts, dtype=torch.float64, device=dev)
    b = torch.tensor(te, dtype=torch.float64, device=dev)
    return ps["mu"] * (te - ts) + ps["K"] * kernel_integral(a, b, ps["c"], ps["p"])


def omori_loglik(
    params: Mapping[str, Any],
    times: Any,
    t_start: float,
    t_end: float,
    *,
    device: Any = "cpu",
) -> torch.Tensor:
    """Log-likelihood of the Omori–Utsu law on ``[t_start, t_end]``.

    Parameters
    ----------
    params : dict
        ``K`` (> 0), ``c`` (> 0), ``p`` (> 0) and optionally ``mu`` (>= 0, default 0):
        floats or 0-d tensors.
    times : array-like or tensor
        Sorted event times since the main shock; only those in the window are used.
    t_start, t_end : float
        Window, ``0 <= t_start < t_end``.
    device : str or torch.device
        Where to compute.

    Returns
    -------
    torch.Tensor
        0-d float64 tensor (differentiable: gradients and Hessians by autograd).

    Raises
    ------
    DataError
        Unsorted or non-finite times.
    OptionError
        Bad parameters or window.

    References
    ----------
    Ogata, Y. (1983). Estimation of the parameters in the modified Omori formula for
    aftershock frequencies by the maximum likelihood procedure. *J. Phys. Earth*, 31(2),
    115–124. https://doi.org/10.4294/jpe1952.31.115
    """
    from .likelihood import _events

    ps, dev = _prepare(params, device)
    ts, te = _window(t_start, t_end)
    t, _ = _events(times, None, dev)
    return _omori_loglik(ps, t[(t >= ts) & (t <= te)], ts, te)


def _omori_loglik(ps: Mapping[str, Any], t: torch.Tensor, ts: float, te: float,
                  weight: float = 1.0) -> torch.Tensor:
    """:func:`omori_loglik` on checked inputs: ``t`` (tensor) already in ``[ts, te]``.

    ``weight`` multiplies the event sum (a systematic subsample of every ``weight``-th event
    then estimates the full sum: the families' pilot problems).
    """
    lam = ps["mu"] + ps["K"] * torch.exp(-ps["p"] * torch.log(t + ps["c"]))
    a = torch.tensor(ts, dtype=torch.float64, device=t.device)
    b = torch.tensor(te, dtype=torch.float64, device=t.device)
    integral = ps["mu"] * (te - ts) + ps["K"] * kernel_integral(a, b, ps["c"], ps["p"])
    return weight * torch.log(lam).sum() - integral


def _omori_loglik_jets(ps: Mapping[str, Any], t: torch.Tensor, ts: float, te: float,
                       weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, gradient and Hessian of :func:`_omori_loglik` in ``(mu, K, c, p)``.

    The event sum in closed form, one pass over the events: with ``g = (t + c)^(-p)`` and
    ``lambda = mu + K g``, ``d2 log(lambda) = d2(lambda) / lambda - d(lambda) d(lambda)^T /
    lambda^2``; the compensator (four scalars) by autograd.  Used for the fits' Hessians of
    large catalogues, where the autograd double backward over every event dominates.
    """
    mu, K, c, p = (torch.as_tensor(ps[n], dtype=torch.float64, device=t.device).detach()
                   for n in ("mu", "K", "c", "p"))
    x = t + c
    L = torch.log(x)
    g = torch.exp(-p * L)
    lam = mu + K * g
    inv = 1.0 / lam
    gc = -p * g / x
    gp = -L * g
    d1 = [torch.ones_like(g), g, K * gc, K * gp]  # d lambda / d(mu, K, c, p)
    d2 = {(1, 2): gc, (1, 3): gp, (2, 2): K * p * (p + 1.0) * g / (x * x),
          (2, 3): K * g * (p * L - 1.0) / x, (3, 3): K * L * L * g}
    r = [d * inv for d in d1]
    grad = torch.stack([ri.sum() for ri in r])
    hess = torch.empty((4, 4), dtype=torch.float64, device=t.device)
    for i in range(4):
        for j in range(i, 4):
            h = -(r[i] * r[j]).sum()
            if (i, j) in d2:
                h = h + (d2[(i, j)] * inv).sum()
            hess[i, j] = hess[j, i] = h
    value = torch.log(lam).sum()

    def compensator(theta: torch.Tensor) -> torch.Tensor:
        a = torch.tensor(ts, dtype=torch.float64, device=t.device)
        b = torch.tensor(te, dtype=torch.float64, device=t.device)
        return theta[0] * (te - ts) + theta[1] * kernel_integral(a, b, theta[2], theta[3])

    theta = torch.stack([mu, K, c, p])
    with torch.enable_grad():
        cg = torch.autograd.functional.jacobian(compensator, theta)
        ch = torch.autograd.functional.hessian(compensator, theta)
    return (weight * value - compensator(theta), weight * grad - cg, weight * hess - ch)


def omori_profile_K(
    c: Any, p: Any, n_events: int, t_start: float, t_end: float
) -> Any:
    """MLE of ``K`` for given ``(c, p)`` when ``mu = 0``: ``n / ∫ (t + c)^(-p) dt``.

    Parameters
    ----------
    c, p : float or tensor
        Kernel parameters.
    n_events : int
        Number of events in the window.
    t_start, t_end : float
        Window, ``0 <= t_start < t_end``.

    Returns
    -------
    float or tensor
        Same kind as ``c`` / ``p``.

    Raises
    ------
    OptionError
        Bad window.
    """
    ts, te = _window(t_start, t_end)
    if isinstance(c, torch.Tensor) or isinstance(p, torch.Tensor):
        ref = c if isinstance(c, torch.Tensor) else p
        a = torch.tensor(ts, dtype=torch.float64, device=ref.device)
        b = torch.tensor(te, dtype=torch.float64, device=ref.device)
        return n_events / kernel_integral(a, b, c, p)
    return n_events / float(kernel_integral(float(ts), float(te), float(c), float(p)))
