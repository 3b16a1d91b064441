"""Log-likelihood, intensity and compensator of the temporal ETAS model (PyTorch, float64).

Model (Ogata 1988): the conditional intensity is

.. math::

   \\lambda(t) = \\mu + \\sum_{i:\\, t_i < t} K e^{\\alpha (M_i - M_{ref})} (t - t_i + c)^{-p},

with ``mu >= 0``, ``K > 0``, ``c > 0``, ``p > 0`` and real ``alpha``.  On a fitting window
``[t_start, t_end]`` every event before ``t_end`` excites the rate (also those before
``t_start``, e.g. a main shock: SAPP's ``tstart``), but only the events in the window enter
the log-sum:

.. math::

   \\log L = \\sum_{t_start \\le t_j \\le t_end} \\log \\lambda(t_j) - \\Lambda(t_start, t_end),
   \\qquad
   \\Lambda = \\mu (t_end - t_start)
      + K \\sum_{t_i \\le t_end} e^{\\alpha (M_i - M_{ref})}
        \\int_{\\max(t_start, t_i)}^{t_end} (s - t_i + c)^{-p} ds,

the integral in closed form (:func:`pystats.etas.kernels.kernel_integral`, stable through
``p = 1``).  Events at equal times do not excite each other (``t_i < t`` strictly).

Two evaluations of the history sum:

* :func:`etas_loglik_exact` — all pairs, ``O(N^2)`` work, vectorised in chunks of target
  events so memory stays bounded;
* :func:`etas_loglik_fast` — the kernel replaced by a sum of ``K_soe`` exponentials
  (:func:`pystats.etas.kernels.soe_grid`, about 60–130 terms), so the history becomes a linear
  recursion over events evaluated by a parallel prefix scan: ``O(N K_soe)`` work, relative
  error of the log-likelihood below ``rtol`` (default 1e-10; measured well below 1e-9);
  value, gradient and Hessian from single passes (:mod:`pystats.etas._soejet`).

:func:`etas_loglik` picks one (``method="auto"``: exact up to :data:`AUTO_EXACT_MAX_EVENTS`
events).  Every function takes ``device=`` and accepts NumPy arrays or tensors; parameters
are a dict of floats or 0-d tensors and the results carry their autograd graph, so
gradients and Hessians come from ``torch.autograd``.

References
----------
Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. *Journal of the American Statistical Association*, 83(401), 9–27.
https://doi.org/10.1080/01621459.1988.10478560

Ogata, Y. (1998). Space-time point-process models for earthquake occurrences. *Annals of the
Institute of Statistical Mathematics*, 50(2), 379–402. https://doi.org/10.1023/A:1003403601725
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.checkpoint import checkpoint

from .. import _checks
from ..backends.torch import resolve_device
from ..errors import DataError, OptionError
from . import _pairs, _scan, _soejet
from .kernels import SOE_DEFAULT_RTOL, kernel_integral, soe_grid, soe_weights
from .omori import omori_loglik

__all__ = [
    "AUTO_EXACT_MAX_EVENTS",
    "ETAS_PARAMETERS",
    "etas_compensator",
    "etas_integral",
    "etas_intensity",
    "etas_loglik",
    "etas_loglik_exact",
    "etas_loglik_fast",
    "etas_loglik_jets",
    "omori_loglik",
]

ETAS_PARAMETERS = ("mu", "K", "c", "alpha", "p")
"""Parameter names of the temporal ETAS model, in Ogata's order."""

AUTO_EXACT_MAX_EVENTS = 1200
"""``method="auto"`` uses the exact likelihood up to this many events (up to ``t_end``).

Measured on one CPU thread (value + gradient, dense exact path with its ``cache``): exact
3.8 ms vs fast 7.2 ms at 700 events, 7.8 vs 12.6 ms at 1 100, 14.7 vs 18.0 ms at 1 600;
beyond the dense limit (~2 000 events) the tiled exact path is 3-4x slower than the fast
one and the gap grows linearly (28x at 11 000 events, 250x at 130 000).  The fast path is
accurate to ~1e-10 relative (observed ~1e-13)."""

_DEFAULT_ROWS = 64
"""Target events per block of the exact pair sums (``chunk_size`` default)."""


# ----------------------------------------------------------------------------- inputs
def _as_1d(name: str, x: Any, dev: torch.device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach().to(device=dev, dtype=torch.float64)
    else:
        try:
            arr = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as e:
            raise DataError(f"{name} must be a 1-D array of numbers; got {type(x).__name__}") from e
        t = torch.tensor(np.ascontiguousarray(arr), dtype=torch.float64, device=dev)
    if t.ndim != 1:
        raise DataError(f"{name} must be 1-D; got shape {tuple(t.shape)}")
    bad = ~torch.isfinite(t)
    if bool(bad.any()):
        idx = torch.nonzero(bad).flatten()[:5].tolist()
        raise DataError(
            f"{name} contains non-finite values (NaN or inf) at index {idx}; drop or fill "
            f"missing values first (e.g. magnitudes recorded as 0.0 for 'undetermined')"
        )
    return t


def _events(
    times: Any, mags: Any | None, dev: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    t = _as_1d("times", times, dev)
    if t.numel() > 1:
        back = torch.nonzero(t[1:] < t[:-1]).flatten()
        if back.numel():
            i = int(back[0]) + 1
            raise DataError(
                f"times must be sorted (non-decreasing); times[{i}]={float(t[i])!r} < "
                f"times[{i - 1}]={float(t[i - 1])!r}"
            )
    if mags is None:
        return t, None
    m = _as_1d("mags", mags, dev)
    if m.shape != t.shape:
        raise DataError(f"mags has {m.numel()} values but times has {t.numel()}; they must match")
    return t, m


def _scalar(name: str, x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError) as e:
        raise OptionError(f"{name}={x!r} is not allowed; use a finite number") from e
    if not math.isfinite(v):
        raise OptionError(f"{name}={x!r} is not allowed; use a finite number")
    return v


def _window(t_start: Any, t_end: Any) -> tuple[float, float]:
    ts = _scalar("t_start", t_start)
    te = _scalar("t_end", t_end)
    if not ts < te:
        raise OptionError(f"t_start={ts!r} must be below t_end={te!r}")
    return ts, te


_BOUNDS = {
    "mu": (0.0, False),
    "K": (0.0, True),
    "c": (0.0, True),
    "p": (0.0, True),
}


def _params(
    params: Mapping[str, Any], names: tuple[str, ...], dev: torch.device
) -> dict[str, torch.Tensor]:
    if not isinstance(params, Mapping):
        raise OptionError(f"params must be a dict with keys {', '.join(names)}; got {params!r}")
    missing = [n for n in names if n not in params]
    if missing:
        raise OptionError(
            f"params is missing {', '.join(missing)}; expected keys {', '.join(names)}"
        )
    out = {}
    for n in names:
        v = params[n]
        if isinstance(v, torch.Tensor):
            if v.numel() != 1:
                raise OptionError(f"parameter {n!r} must be a scalar; got shape {tuple(v.shape)}")
            v = v.reshape(()).to(device=dev, dtype=torch.float64)
        else:
            v = torch.tensor(_scalar(n, v), dtype=torch.float64, device=dev)
        val = float(v.detach())
        if not math.isfinite(val):
            raise OptionError(f"parameter {n}={val!r} is not allowed; use a finite value")
        if n in _BOUNDS:
            lo, strict = _BOUNDS[n]
            if val < lo or (strict and val == lo):
                op = ">" if strict else ">="
                raise OptionError(
                    f"parameter {n}={val!r} is not allowed; the model needs {n} {op} 0"
                )
        out[n] = v
    return out


def _needs_grad(ps: Mapping[str, torch.Tensor]) -> bool:
    return torch.is_grad_enabled() and any(v.requires_grad for v in ps.values())


def _default_chunk(chunk_size: int | None) -> int:
    if chunk_size is None:
        return _DEFAULT_ROWS
    return _checks.integer("chunk_size", chunk_size, 1)


# ----------------------------------------------------------------------------- exact sums
def _pair_integral_block(
    tq: torch.Tensor,
    th: torch.Tensor,
    lo: torch.Tensor,
    log_a: torch.Tensor,
    c: torch.Tensor,
    p: torch.Tensor,
    j0: int,
    j1: int,
    width: int,
    tile_cols: int,
) -> torch.Tensor:
    """``Σ_{i: th_i < tq_j} exp(log_a_i) ∫_{lo_i}^{tq_j - th_i} (s + c)^(-p) ds``, queries
    ``j0 <= j < j1`` (full tensors are passed and sliced here: slices passed into
    ``torch.utils.checkpoint`` would be kept alive by it)."""
    q = tq[j0:j1]
    zero = torch.zeros((), dtype=q.dtype, device=q.device)
    out = q.new_zeros(j1 - j0) + 0.0 * c
    for k0 in range(0, width, tile_cols):
        k1 = min(width, k0 + tile_cols)
        lo_w = lo[None, k0:k1]
        dt = q[:, None] - th[None, k0:k1]
        mask = dt > lo_w
        hi = torch.where(mask, dt, lo_w.expand_as(dt))
        val = torch.where(mask, kernel_integral(lo_w, hi, c, p), zero)
        out = out + val @ torch.exp(log_a[k0:k1])
    return out


def _exact_history(
    tq: torch.Tensor,
    th: torch.Tensor,
    log_a: torch.Tensor,
    c: torch.Tensor,
    p: torch.Tensor,
    chunk_size: int | None,
    use_checkpoint: bool,
    lo: torch.Tensor | None = None,
    geometry: dict | None = None,
) -> torch.Tensor:
    """Pair sums for sorted queries ``tq`` over sorted history ``th`` (strictly earlier).

    Without ``lo``: ``Σ a_i (tq_j - th_i + c)^(-p)`` through :func:`._pairs.pair_moment`
    (tiled, closed-form derivatives of any order, memory independent of N).  With ``lo``:
    the kernel integrals ``∫_{lo_i}^{tq_j - th_i}`` of the compensator, by plain autograd
    (recomputed per block through ``torch.utils.checkpoint`` when gradients are needed).
    """
    rows = _default_chunk(chunk_size)
    if lo is None:
        ps = _pairs.PairSet.build(tq, th, rows, geometry)
        return _pairs.pair_moment(torch.exp(log_a), c, p, ps)
    ps = _pairs.PairSet.build(tq, th, rows, dense=False)
    use_checkpoint = use_checkpoint and len(ps.blocks) > 1
    parts = []
    for j0, j1, width, _ in ps.blocks:
        args = (tq, th, lo, log_a, c, p, j0, j1, width, ps.tile_cols)
        if use_checkpoint:
            parts.append(checkpoint(_pair_integral_block, *args, use_reentrant=False))
        else:
            parts.append(_pair_integral_block(*args))
    return torch.cat(parts) if parts else tq.new_zeros(0) + 0.0 * c


# ----------------------------------------------------------------------------- SOE sums
def _timeline(
    t_events: torch.Tensor, t_queries: torch.Tensor, rates: torch.Tensor
) -> tuple[_scan.Timeline, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Distinct times of events and queries, and where each event / query lands."""
    u, inv = torch.unique(torch.cat([t_events, t_queries]), sorted=True, return_inverse=True)
    gaps = torch.zeros_like(u)
    gaps[1:] = u[1:] - u[:-1]
    n = int(t_events.shape[0])
    return _scan.Timeline(rates=rates, gaps=gaps), u, inv[:n], inv[n:]


def _soe(
    c: torch.Tensor, p: torch.Tensor, t_span: float, rtol: float, n_terms: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rates (rate zero first) and differentiable weights of the SOE kernel."""
    grid = soe_grid(float(c.detach()), float(p.detach()), t_span, rtol=rtol, n_terms=n_terms)
    w, w0 = soe_weights(grid, c, p)
    rates = torch.tensor(np.array(grid.rates), dtype=torch.float64, device=c.device)
    rates = torch.cat([rates.new_zeros(1), rates])
    return rates, torch.cat([w0.reshape(1), w])


def _soe_history(
    t_events: torch.Tensor,
    a: torch.Tensor,
    t_queries: torch.Tensor,
    c: torch.Tensor,
    p: torch.Tensor,
    rtol: float,
    n_terms: int | None,
    geometry: dict | None = None,
) -> torch.Tensor:
    """``Σ_{i: t_i < q} a_i (q - t_i + c)^(-p)`` at each query ``q`` via the SOE scan.

    ``geometry`` (a dict kept by the caller for repeated calls on the same times) holds the
    parameter-free timeline (distinct times, where events and queries land)."""
    if t_events.numel() == 0 or t_queries.numel() == 0:
        return t_queries.new_zeros(t_queries.shape[0]) + 0.0 * c
    key = (int(t_events.shape[0]), int(t_queries.shape[0]), t_events.device)
    if geometry is not None and geometry.get("soe_key") == key:
        span, gaps, inv_e, inv_q = geometry["soe_timeline"]
        rates, w = _soe(c, p, span, rtol, n_terms)
        tl = _scan.Timeline(rates=rates, gaps=gaps)
    else:
        lo = min(float(t_events[0]), float(t_queries.min()))
        span = float(t_queries.max()) - lo
        rates, w = _soe(c, p, span, rtol, n_terms)
        tl, _, inv_e, inv_q = _timeline(t_events, t_queries, rates)
        if geometry is not None:
            geometry.update(soe_key=key, soe_timeline=(span, tl.gaps, inv_e, inv_q))
    b = a.new_zeros(tl.n_times).index_add(0, inv_e, a)
    return _scan.soe_sum(w, b, tl)[inv_q]


def _soe_history_jets(
    t_events: torch.Tensor,
    dm: torch.Tensor,
    t_queries: torch.Tensor,
    ps: Mapping[str, torch.Tensor],
    rtol: float,
    n_terms: int | None,
    geometry: dict | None = None,
) -> torch.Tensor:
    """``Σ_{i: t_i < q} exp(alpha dm_i) (q - t_i + c)^(-p)`` at each query ``q`` by the
    one-pass SOE recursion of :mod:`._soejet` (value, gradient and Hessian in ``c``, ``p``,
    ``alpha`` from passes over ``2 K`` / ``3 K`` recursions instead of reverse-mode scans).

    ``geometry`` (kept by the caller for repeated calls on the same data) holds the
    parameter-free layout and, while they fit, the decay factors."""
    c, p, alpha = ps["c"], ps["p"], ps["alpha"]
    if t_events.numel() == 0 or t_queries.numel() == 0:
        return t_queries.new_zeros(t_queries.shape[0]) + 0.0 * (c + p + alpha)
    prob = _soe_problem(t_events, dm, t_queries, ps, rtol, n_terms, geometry)
    return _soejet.soe_history(c, p, alpha, prob)


def _soe_problem(
    t_events: torch.Tensor,
    dm: torch.Tensor,
    t_queries: torch.Tensor,
    ps: Mapping[str, torch.Tensor],
    rtol: float,
    n_terms: int | None,
    geometry: dict | None,
) -> _soejet.Problem:
    """The one-pass SOE problem (layout kept in ``geometry``, lattice for ``c``, ``p``)."""
    key = (int(t_events.shape[0]), int(t_queries.shape[0]), t_events.device)
    if geometry is not None and geometry.get("jet_key") == key:
        geom = geometry["jet_geometry"]
    else:
        geom = _soejet.Geometry.build(t_events, t_queries)
        if geometry is not None:
            geometry.update(jet_key=key, jet_geometry=geom)
    grid = soe_grid(float(ps["c"].detach()), float(ps["p"].detach()), geom.span, rtol=rtol,
                    n_terms=n_terms)
    return _soejet.Problem(geom, grid, dm)


def etas_loglik_jets(
    params: Mapping[str, Any],
    times: Any,
    mags: Any,
    t_start: float,
    t_end: float,
    m_ref: float,
    *,
    method: str,
    rtol: float = SOE_DEFAULT_RTOL,
    n_terms: int | None = None,
    device: Any = "cpu",
    cache: dict | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """Value, gradient and Hessian of the ETAS log-likelihood in ``(mu, K, c, alpha, p)``,
    from one second-order pass over the history sums, without an autograd graph.

    With ``lambda_j = mu + K h_j`` and the history jets ``h, h_c, ..., h_alpha alpha`` of
    :func:`pystats.etas._soejet.soe_jets` (``method="fast"``) or of the exact tiled pair
    sums (``method="exact"``), the log-sum's derivatives are
    ``Σ lambda_θ / lambda`` and ``Σ (lambda_θθ' / lambda - lambda_θ lambda_θ' / lambda^2)``
    (``lambda_mu = 1``, ``lambda_K = h``, ``lambda_x = K h_x``, ``lambda_Kx = h_x``,
    ``lambda_xy = K h_xy`` for ``x, y`` in ``c, alpha, p``); the compensator's by autograd
    over its ``O(N)`` closed form.  Same values as the autograd Hessian of
    :func:`etas_loglik` (to rounding) at a fraction of the time and memory: at 1e6 events
    no graph of the ``O(N)`` terms is kept for double backward.

    Parameters are as in :func:`etas_loglik_exact` / :func:`etas_loglik_fast`
    (``method`` is ``"fast"`` or ``"exact"``).

    Returns
    -------
    tuple of torch.Tensor or None
        ``(value, grad (5,), hessian (5, 5))`` in the order of :data:`ETAS_PARAMETERS`;
        ``None`` where this path does not apply (the dense exact path of small catalogues,
        no target or no history): use autograd there.
    """
    dev = resolve_device(device)
    with torch.no_grad():
        ps = _params({k: float(v) for k, v in params.items()}, ETAS_PARAMETERS, dev)
        t, m = _events(times, mags, dev)
        ts, te = _window(t_start, t_end)
        m_ref = _scalar("m_ref", m_ref)
        keep = t <= te
        t, m = t[keep], m[keep]
        j0 = _targets(t, ts)
        if j0 >= t.numel() or t.numel() < 2:
            return None
        dm = m - m_ref
        if method == "fast":
            prob = _soe_problem(t, dm, t[j0:], ps, rtol, n_terms, cache)
        elif method == "exact":
            pairs = _pairs.PairSet.build(t[j0:], t, _DEFAULT_ROWS, cache)
            if pairs.dense:
                return None
            prob = _pairs.PairProblem(pairs, dm)
        else:
            raise OptionError(f"method={method!r} is not allowed; use 'fast' or 'exact'")
        jets = prob.jets(ps["c"], ps["p"], ps["alpha"], 2)
        # rows: 0 h, 1 h_c, 2 h_p, 3 h_cc, 4 h_cp, 5 h_pp, 6 h_a, 7 h_ac, 8 h_ap, 9 h_aa
        k = ps["K"]
        lam = ps["mu"] + k * jets[0]
        inv = 1.0 / lam
        # first derivatives of lambda in (mu, K, c, alpha, p), divided by lambda
        d1 = torch.stack([inv, jets[0] * inv, k * jets[1] * inv, k * jets[6] * inv,
                          k * jets[2] * inv])
        grad = d1.sum(1)
        s = jets[1:] @ inv  # Σ h_x / lambda for rows 1..9
        sec = torch.zeros(5, 5, dtype=lam.dtype, device=dev)
        ic, ia, ip = 2, 3, 4
        sec[1, ic] = sec[ic, 1] = s[0]
        sec[1, ip] = sec[ip, 1] = s[1]
        sec[1, ia] = sec[ia, 1] = s[5]
        sec[ic, ic] = k * s[2]
        sec[ic, ip] = sec[ip, ic] = k * s[3]
        sec[ip, ip] = k * s[4]
        sec[ic, ia] = sec[ia, ic] = k * s[6]
        sec[ip, ia] = sec[ia, ip] = k * s[7]
        sec[ia, ia] = k * s[8]
        hess = sec - d1 @ d1.T
        value = torch.log(lam).sum()
    integral, g_int, h_int = _integral_jets(ps, t, m, ts, te, m_ref)
    return value - integral, grad - g_int, hess - h_int


_INTEGRAL_CHUNK = 1 << 16
"""Events per autograd pass of :func:`_integral_jets` (bounds its graph's memory)."""


def _integral_jets(
    ps: Mapping[str, torch.Tensor], t: torch.Tensor, m: torch.Tensor, ts: float, te: float,
    m_ref: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value, gradient and Hessian of :func:`_integral` in ``(mu, K, c, alpha, p)`` by
    autograd over chunks of events (the double-backward graph of all 1e6 terms at once
    held ~0.8 GB)."""
    x = torch.stack([ps[n] for n in ETAS_PARAMETERS]).detach().requires_grad_(True)
    value = x.new_zeros(())
    grad = x.new_zeros(5)
    hess = x.new_zeros(5, 5)
    n = int(t.numel())
    for i0 in range(0, n, _INTEGRAL_CHUNK):
        sl = slice(i0, min(n, i0 + _INTEGRAL_CHUNK))
        with torch.enable_grad():
            part = dict(zip(ETAS_PARAMETERS, x.unbind(), strict=True))
            if i0:  # mu (te - ts) once
                part["mu"] = part["mu"] * 0.0
            f = _integral(part, t[sl], m[sl], ts, te, m_ref)
            (g,) = torch.autograd.grad(f, x, create_graph=True)
            rows = [torch.autograd.grad(g[i], x, retain_graph=i < 4, allow_unused=True,
                                        materialize_grads=True)[0] for i in range(5)]
        value += f.detach()
        grad += g.detach()
        hess += torch.stack(rows)
    return value, grad, hess


# ----------------------------------------------------------------------------- public
def etas_integral(
    params: Mapping[str, Any],
    times: Any,
    mags: Any,
    t_start: float,
    t_end: float,
    m_ref: float,
    *,
    device: Any = "cpu",
) -> torch.Tensor:
    """Compensator ``Λ(t_start, t_end) = ∫ λ(t) dt`` over the window, in closed form.

    Parameters
    ----------
    params : dict
        ``mu``, ``K``, ``c``, ``alpha``, ``p`` (floats or 0-d tensors).
    times, mags : array-like or tensor
        Sorted event times and magnitudes; events before ``t_start`` count as history,
        events after ``t_end`` are ignored.
    t_start, t_end : float
        Window.
    m_ref : float
        Reference magnitude ``M_ref``.
    device : str or torch.device
        Where to compute.

    Returns
    -------
    torch.Tensor
        0-d float64 tensor (differentiable in the parameters).

    Raises
    ------
    DataError, OptionError
        Bad data or parameters.
    """
    dev = resolve_device(device)
    ps = _params(params, ETAS_PARAMETERS, dev)
    t, m = _events(times, mags, dev)
    ts, te = _window(t_start, t_end)
    m_ref = _scalar("m_ref", m_ref)
    keep = t <= te
    return _integral(ps, t[keep], m[keep], ts, te, m_ref)


def _integral(
    ps: Mapping[str, torch.Tensor], t: torch.Tensor, m: torch.Tensor, ts: float, te: float,
    m_ref: float,
) -> torch.Tensor:
    lo = torch.clamp(ts - t, min=0.0)
    hi = te - t
    a = torch.exp(ps["alpha"] * (m - m_ref))
    trig = (a * kernel_integral(lo, hi, ps["c"], ps["p"])).sum()
    return ps["mu"] * (te - ts) + ps["K"] * trig


def _targets(t: torch.Tensor, ts: float) -> int:
    """Index of the first event with ``t >= t_start`` (times sorted)."""
    return int(torch.searchsorted(t, torch.tensor([ts], dtype=t.dtype, device=t.device))[0])


def _log_sum(ps: Mapping[str, torch.Tensor], hist: torch.Tensor) -> torch.Tensor:
    lam = ps["mu"] + ps["K"] * hist
    return torch.log(lam).sum()


def etas_loglik_exact(
    params: Mapping[str, Any],
    times: Any,
    mags: Any,
    t_start: float,
    t_end: float,
    m_ref: float,
    chunk_size: int | None = None,
    *,
    device: Any = "cpu",
    cache: dict | None = None,
) -> torch.Tensor:
    """Exact ETAS log-likelihood on ``[t_start, t_end]`` (all pairs, tiled).

    The history sum of every target event ``j`` (``t_start <= t_j <= t_end``) runs over
    all events with ``t_i < t_j`` (before ``t_start`` included).  Target events are processed
    in blocks of ``chunk_size`` (default 64); since the times are sorted a block only reads
    the history before its last event, and the history before its first event needs no
    mask.  Each block streams over the history in equal-size tiles of
    ``max(chunk_size x 256, 2**16)`` pairs, each summed by a matrix-vector product.

    Small catalogues (at most :data:`pystats.etas._pairs.DENSE_MAX_ENTRIES` = 4 194 304
    pairs of targets and history, about 2 000 events) take all pairs in one dense tile
    (6 arrays of 32 MiB at the limit, of 11 MiB at 1 200 events), ``log x`` and ``x^-p``
    being shared by value, gradient and Hessian; several times faster than tiles there.

    Memory bound (larger catalogues): at most about six tile-sized float64 arrays are alive
    at once (3 MiB with the default ``chunk_size``; ``48 * max(256 * chunk_size, 2**16)``
    bytes in general) plus ``O(N)`` vectors, whatever ``N`` — also for gradients and
    Hessians: the pair sums are an autograd function whose derivatives in ``(a_i, c, p)``
    are again exact pair sums (moments ``Σ a_i x^-(p+k) log(x)^l``), so no graph over the
    ``N^2`` pairs is stored.
    Measured: +24 MiB for value and gradient at N = 35 000.  Work: ``N^2 / 2`` kernel
    evaluations per pass (value: 1 pass; gradient: 3 more).

    Parameters
    ----------
    params : dict
        ``mu`` (>= 0), ``K`` (> 0), ``c`` (> 0), ``alpha`` (real), ``p`` (> 0): floats or
        0-d tensors (use ``requires_grad=True`` tensors for gradients).
    times : array-like or tensor
        Event times, sorted (non-decreasing), e.g. days since the main shock.
    mags : array-like or tensor
        Magnitudes, same length (no missing values).
    t_start, t_end : float
        Fitting window; earlier events excite but are not targets; later ones are ignored.
    m_ref : float
        Reference magnitude ``M_ref`` of the productivity ``K exp(alpha (M - M_ref))``.
    chunk_size : int, optional
        Target events per block (see above; default 64).
    device : str or torch.device
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    cache : dict, optional
        An empty dict to be passed again with the *same* times, magnitudes and window
        (an optimiser's repeated calls): the parameter-free pair geometry of the dense path
        is kept in it.  Never pass one dict for different data.

    Returns
    -------
    torch.Tensor
        0-d float64 tensor; ``-inf`` if the intensity vanishes at a target event (``mu = 0``
        and an event without history).

    Raises
    ------
    DataError
        Times unsorted or not finite, magnitudes missing or of another length.
    OptionError
        Missing or out-of-range parameters, ``t_start >= t_end``, bad ``chunk_size``.

    References
    ----------
    Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis
    for point processes. *JASA*, 83(401), 9–27. https://doi.org/10.1080/01621459.1988.10478560
    """
    dev = resolve_device(device)
    ps = _params(params, ETAS_PARAMETERS, dev)
    t, m = _events(times, mags, dev)
    ts, te = _window(t_start, t_end)
    m_ref = _scalar("m_ref", m_ref)
    _default_chunk(chunk_size)
    keep = t <= te
    t, m = t[keep], m[keep]
    j0 = _targets(t, ts)
    pairs = _pairs.PairSet.build(t[j0:], t, _default_chunk(chunk_size), cache)
    if pairs.dense:  # small: the dense moments share kept log x, x^-p buffers (3-4x faster)
        hist = _pairs.pair_moment(torch.exp(ps["alpha"] * (m - m_ref)), ps["c"], ps["p"],
                                  pairs)
    else:  # tiles: value and gradient from one pass, one log and one exp per pair
        hist = _soejet.soe_history(ps["c"], ps["p"], ps["alpha"],
                                   _pairs.PairProblem(pairs, m - m_ref))
    return _log_sum(ps, hist) - _integral(ps, t, m, ts, te, m_ref)


def etas_loglik_fast(
    params: Mapping[str, Any],
    times: Any,
    mags: Any,
    t_start: float,
    t_end: float,
    m_ref: float,
    n_terms: int | None = None,
    *,
    rtol: float = SOE_DEFAULT_RTOL,
    device: Any = "cpu",
    cache: dict | None = None,
) -> torch.Tensor:
    """ETAS log-likelihood with the kernel as a sum of exponentials: ``O(N K_soe)``.

    ``(t + c)^(-p)`` is replaced by ``w0 + Σ_k w_k exp(-s_k t)`` (trapezoidal rule for the
    Gamma-integral representation on a log-spaced lattice of rates, see
    :mod:`pystats.etas.kernels`), with weights that are smooth functions of ``c`` and ``p``
    and rates that do not depend on the parameters.  The history of each event is then the
    linear recursion ``A_k(j) = exp(-s_k (t_j - t_{j-1})) (A_k(j-1) + a_{j-1})`` (ties
    grouped), evaluated for all events at once by a blocked parallel prefix scan in torch
    (no overflow: every factor is in ``[0, 1]``).  The derivatives of the history in
    ``c``, ``p`` and ``alpha`` are again such sums (other weights, amounts ``a_i dm_i``),
    so value and gradient come from one pass over ``2 K_soe`` recursions that share the
    parameter-free decay factors (kept in ``cache`` while they fit in 256 MiB, about 1.4e5
    events), and the Hessian from one pass over ``3 K_soe`` (:mod:`pystats.etas._soejet`);
    memory is ``O(N)`` plus a ``32 MiB`` work chunk.  The integral term is exact.

    The relative error of the kernel is below ``rtol`` for every delay up to the catalogue
    span, for all ``p > 0`` and ``c > 0``; the log-likelihood error is about
    ``rtol * N / |log L|`` relative at most, typically far less (errors oscillate in sign).

    Parameters
    ----------
    params, times, mags, t_start, t_end, m_ref
        As in :func:`etas_loglik_exact`.
    n_terms : int, optional
        Force the number of exponentials (default: as many as ``rtol`` needs, typically
        60–130); fewer terms are faster but less accurate (see
        :func:`pystats.etas.kernels.soe_aliasing_error`).
    rtol : float
        Target relative error of the kernel approximation.
    device : str or torch.device
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    cache : dict, optional
        As in :func:`etas_loglik_exact`: an empty dict passed again with the same times,
        magnitudes and window keeps the parameter-free timeline between calls.

    Returns
    -------
    torch.Tensor
        0-d float64 tensor.

    Raises
    ------
    DataError, OptionError
        As in :func:`etas_loglik_exact`.

    References
    ----------
    Ogata, Y. (2006). Statistical Analysis of Seismicity – updated version (SASeis2006).
    *Computer Science Monographs* 33, Institute of Statistical Mathematics (same Gamma
    representation in ``etasap``'s approximate likelihood).

    Blelloch, G. E. (1990). Prefix sums and their applications. Technical report
    CMU-CS-90-190, Carnegie Mellon University.
    """
    dev = resolve_device(device)
    ps = _params(params, ETAS_PARAMETERS, dev)
    t, m = _events(times, mags, dev)
    ts, te = _window(t_start, t_end)
    m_ref = _scalar("m_ref", m_ref)
    keep = t <= te
    t, m = t[keep], m[keep]
    j0 = _targets(t, ts)
    hist = _soe_history_jets(t, m - m_ref, t[j0:], ps, rtol, n_terms, geometry=cache)
    return _log_sum(ps, hist) - _integral(ps, t, m, ts, te, m_ref)


def _pick_method(method: str, n: int) -> str:
    if method not in ("auto", "exact", "fast"):
        raise OptionError(f"method={method!r} is not allowed; use 'auto', 'exact' or 'fast'")
    if method == "auto":
        return "exact" if n <= AUTO_EXACT_MAX_EVENTS else "fast"
    return method


def etas_loglik(
    params: Mapping[str, Any],
    times: Any,
    mags: Any,
    t_start: float,
    t_end: float,
    m_ref: float,
    *,
    method: str = "auto",
    device: Any = "cpu",
    **kwargs: Any,
) -> torch.Tensor:
    """ETAS log-likelihood, exact or fast.

    Parameters
    ----------
    params, times, mags, t_start, t_end, m_ref
        As in :func:`etas_loglik_exact`.
    method : {"auto", "exact", "fast"}
        ``auto``: :func:`etas_loglik_exact` when at most :data:`AUTO_EXACT_MAX_EVENTS`
        (1 200) events lie before ``t_end``, else :func:`etas_loglik_fast`.
    device : str or torch.device
        Where to compute.
    **kwargs
        ``chunk_size`` (exact) or ``n_terms`` / ``rtol`` (fast).

    Returns
    -------
    torch.Tensor
        0-d float64 tensor.

    Raises
    ------
    DataError, OptionError
        Bad data, parameters or options.
    """
    t, _ = _events(times, None, torch.device("cpu") if not isinstance(times, torch.Tensor)
                   else times.device)
    n = int((t <= _scalar("t_end", t_end)).sum())
    chosen = _pick_method(method, n)
    allowed = {"exact": {"chunk_size", "cache"}, "fast": {"n_terms", "rtol", "cache"}}[chosen]
    extra = set(kwargs) - allowed
    if extra:
        raise OptionError(
            f"option(s) {', '.join(sorted(extra))} not allowed with method={chosen!r}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    fn = etas_loglik_exact if chosen == "exact" else etas_loglik_fast
    return fn(params, times, mags, t_start, t_end, m_ref, device=device, **kwargs)


def etas_intensity(
    params: Mapping[str, Any],
    times: Any,
    mags: Any,
    t_grid: Any,
    m_ref: float,
    *,
    method: str = "auto",
    device: Any = "cpu",
    **kwargs: Any,
) -> torch.Tensor:
    """Conditional intensity ``λ(t)`` at arbitrary times (e.g. a plotting grid).

    ``λ(t) = mu + Σ_{t_i < t} K exp(alpha (M_i - M_ref)) (t - t_i + c)^(-p)``: the history
    is strictly before ``t`` (at an event time, the intensity that event had).

    Parameters
    ----------
    params, times, mags, m_ref
        As in :func:`etas_loglik_exact`.
    t_grid : array-like or tensor
        Query times, any order.
    method : {"auto", "exact", "fast"}
        Pair sums or SOE scan (``auto``: exact when ``len(times) * len(t_grid)`` is at most
        ``AUTO_EXACT_MAX_EVENTS ** 2``).
    device : str or torch.device
        Where to compute.
    **kwargs
        ``chunk_size`` (exact) or ``n_terms`` / ``rtol`` (fast).

    Returns
    -------
    torch.Tensor
        float64, same length and order as ``t_grid`` (differentiable in the parameters; use
        ``.detach().cpu().numpy()`` for plots).

    Raises
    ------
    DataError, OptionError
        Bad data, parameters or options.
    """
    dev = resolve_device(device)
    ps = _params(params, ETAS_PARAMETERS, dev)
    t, m = _events(times, mags, dev)
    q = _as_1d("t_grid", t_grid, dev)
    m_ref = _scalar("m_ref", m_ref)
    pairs = int(t.numel()) * int(q.numel())
    method = _pick_method(method, 0 if pairs <= AUTO_EXACT_MAX_EVENTS**2 else pairs)
    order = torch.argsort(q, stable=True)
    qs = q[order]
    if method == "exact":
        hist = _exact_history(qs, t, ps["alpha"] * (m - m_ref), ps["c"], ps["p"],
                              kwargs.get("chunk_size"), _needs_grad(ps))
    else:
        a = torch.exp(ps["alpha"] * (m - m_ref))
        hist = _soe_history(t, a, qs, ps["c"], ps["p"], kwargs.get("rtol", SOE_DEFAULT_RTOL),
                            kwargs.get("n_terms"))
    lam_sorted = ps["mu"] + ps["K"] * hist
    lam = torch.empty_like(lam_sorted)
    return lam.index_copy(0, order, lam_sorted)


def etas_compensator(
    params: Mapping[str, Any],
    times: Any,
    mags: Any,
    t_start: float,
    m_ref: float,
    *,
    t_end: float | None = None,
    method: str = "auto",
    device: Any = "cpu",
    **kwargs: Any,
) -> torch.Tensor:
    """Compensator ``Λ(t_start, t_j) = ∫_{t_start}^{t_j} λ(t) dt`` at each event ``t_j >= t_start``.

    These are Ogata's (1988) transformed times: under the model they form a unit-rate
    Poisson process (see :mod:`pystats.etas.residuals`).

    Parameters
    ----------
    params, times, mags, m_ref
        As in :func:`etas_loglik_exact`.
    t_start : float
        Origin of the transformed time axis; earlier events are history.
    t_end : float, optional
        Last event time to include (default: all events).
    method : {"auto", "exact", "fast"}
        ``exact``: closed-form kernel integrals over all pairs (``O(N^2)``, tiled; with
        gradients the tiles are recomputed in the backward pass by
        ``torch.utils.checkpoint``, whose memory can grow through heap fragmentation — use
        ``fast`` for gradients on large catalogues); ``fast``: SOE scan (``O(N K_soe)``,
        relative error about ``rtol``, ``O(N)`` memory); ``auto``: exact up to
        :data:`AUTO_EXACT_MAX_EVENTS` events.
    device : str or torch.device
        Where to compute.
    **kwargs
        ``chunk_size`` (exact) or ``n_terms`` / ``rtol`` (fast).

    Returns
    -------
    torch.Tensor
        float64, one value per event with ``t_start <= t_j (<= t_end)``, in time order.

    Raises
    ------
    DataError, OptionError
        Bad data, parameters or options.
    """
    dev = resolve_device(device)
    ps = _params(params, ETAS_PARAMETERS, dev)
    t, m = _events(times, mags, dev)
    ts = _scalar("t_start", t_start)
    m_ref = _scalar("m_ref", m_ref)
    if t_end is not None:
        te = _scalar("t_end", t_end)
        keep = t <= te
        t, m = t[keep], m[keep]
    method = _pick_method(method, int(t.numel()))
    j0 = _targets(t, ts)
    tq = t[j0:]
    log_a = ps["alpha"] * (m - m_ref)
    if method == "exact":
        lo = torch.clamp(ts - t, min=0.0)
        trig = _exact_history(tq, t, log_a, ps["c"], ps["p"], kwargs.get("chunk_size"),
                              _needs_grad(ps), lo=lo)
    else:
        trig = _soe_compensator(t, torch.exp(log_a), tq, ts, ps["c"], ps["p"],
                                kwargs.get("rtol", SOE_DEFAULT_RTOL), kwargs.get("n_terms"))
    return ps["mu"] * (tq - ts) + ps["K"] * trig


def _soe_compensator(
    t: torch.Tensor,
    a: torch.Tensor,
    tq: torch.Tensor,
    ts: float,
    c: torch.Tensor,
    p: torch.Tensor,
    rtol: float,
    n_terms: int | None,
) -> torch.Tensor:
    """``Σ_{t_i < q} a_i ∫_{max(ts, t_i)}^{q} k(s - t_i) ds`` at sorted queries ``q >= ts``.

    With ``T(q) = Σ_{t_i < q} a_i ∫_0^{q - t_i} k`` the result is ``T(q) - T(ts)``, and with
    the SOE ``∫_0^x k ≈ w0 x + Σ_k (w_k / s_k)(1 - exp(-s_k x))``, so
    ``T(q) = W B(q) - S(q) + w0 Σ_{t_i<q} a_i (q - t_i)`` where ``B`` is the cumulative
    amount, ``W = Σ w_k / s_k`` and ``S`` the scan with weights ``w_k / s_k``.
    """
    if tq.numel() == 0:
        return tq.new_zeros(0) + 0.0 * c
    anchor = torch.tensor([ts], dtype=t.dtype, device=t.device)
    queries = torch.cat([anchor, tq])
    lo = min(float(t[0]) if t.numel() else ts, ts)
    span = float(tq[-1]) - lo
    rates, w = _soe(c, p, span, rtol, n_terms)
    tl, u, inv_e, inv_q = _timeline(t, queries, rates)
    b = a.new_zeros(tl.n_times).index_add(0, inv_e, a)
    w_over_s = w[1:] / rates[1:]
    tl_pos = _scan.Timeline(rates=rates[1:], gaps=tl.gaps)
    s_hist = _scan.soe_sum(w_over_s, b, tl_pos)
    cum_b = torch.cumsum(b, 0) - b  # amount strictly before each time
    shifted = u - ts
    cum_bu = torch.cumsum(b * shifted, 0) - b * shifted
    total = w_over_s.sum() * cum_b - s_hist + w[0] * (shifted * cum_b - cum_bu)
    big_t = total[inv_q]
    return big_t[1:] - big_t[0]
