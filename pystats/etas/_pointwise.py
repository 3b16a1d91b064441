"""Pointwise ETAS log-likelihoods for many parameter draws at once (internal).

The sequential decomposition of the point-process log likelihood (Ogata 1988) gives one
term per target event ``j``,

.. math::

   \\ell_j = \\log \\lambda(t_j) - \\Lambda(t_{j-1}, t_j), \\qquad t_0 = t_{start},

the last one also ``- Λ(t_n, t_end)``; the terms sum to the log likelihood and are what
PSIS-LOO and WAIC read (:meth:`pystats.etas.model.ETAS.pointwise_log_likelihood`).

Both functions take the parameters as arrays of draws and evaluate all draws together,
with no Python loop over draws:

* :func:`pointwise_exact` — all pairs of (target, earlier event) in closed form, draws
  processed in blocks so that a block holds at most ``max_elements`` pair values;
  ``O(D N^2)`` work.
* :func:`pointwise_soe` — the kernel as a sum of exponentials on *one* lattice that
  covers the ``(c, p)`` range of the draws (:func:`pystats.etas.stan.soe_grid_covering`,
  relative error below ``rtol`` for every draw); the history is carried through the
  distinct event times by the linear recursion of :mod:`pystats.etas._scan` (written out
  here with a draw axis), one step per time for a block of draws and all rates at once,
  and the compensator increments come from the same states in closed form.
  ``O(D N K_soe)`` work and ``O(chunk K_soe)`` working memory besides the
  ``(D, n_targets)`` result.

References
----------
Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. *Journal of the American Statistical Association*, 83(401), 9–27.
https://doi.org/10.1080/01621459.1988.10478560

Vehtari, A., Gelman, A., & Gabry, J. (2017). Practical Bayesian model evaluation using
leave-one-out cross-validation and WAIC. *Statistics and Computing*, 27(5), 1413–1432.
https://doi.org/10.1007/s11222-016-9696-4
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .kernels import SOE_DEFAULT_RTOL, kernel_integral

__all__ = ["MAX_ELEMENTS", "pointwise_exact", "pointwise_soe"]

MAX_ELEMENTS = 1 << 21
"""Largest number of (draw, pair) values held at once by :func:`pointwise_exact`
(about six arrays of this many float64 values, 16 MiB each)."""


_TINY = 1e-200
"""SOE weights below this are set to 0 (nothing relative to any intensity); with
``_TINY_DECAY`` this keeps subnormal numbers, ~100x slower on CPUs, out of the recursion
in practice."""
_TINY_DECAY = 1e-100
"""Decay factors below this are set to 0."""


def pointwise_exact(
    params: Mapping[str, np.ndarray],
    times: np.ndarray,
    mags: np.ndarray,
    t_start: float,
    t_end: float,
    m_ref: float,
    *,
    max_elements: int = MAX_ELEMENTS,
) -> np.ndarray:
    """Pointwise log likelihood ``(D, n_targets)`` with exact pair sums.

    Parameters
    ----------
    params : mapping
        ``mu``, ``K``, ``c``, ``alpha``, ``p``: 1-D arrays of ``D`` draws each.
    times, mags : ndarray
        Sorted event times (all ``<= t_end``; those before ``t_start`` are history) and
        magnitudes.
    t_start, t_end : float
        Fitting window.
    m_ref : float
        Reference magnitude.
    max_elements : int
        Largest ``draws x pairs`` block (memory bound).

    Returns
    -------
    ndarray
        ``(D, n_targets)``.
    """
    from threadpoolctl import threadpool_limits

    t = np.asarray(times, dtype=float)
    dm = np.asarray(mags, dtype=float) - m_ref
    ps = {k: np.ascontiguousarray(params[k], dtype=float) for k in ("mu", "K", "c", "alpha", "p")}
    d_all = ps["K"].size
    j0 = int(np.searchsorted(t, t_start, side="left"))
    tq = t[j0:]
    n_t = tq.size
    # pairs (target j, event i) with t_i < t_j, grouped by target, then the tail row
    # (every event, from the last target to t_end); the first n_hist pairs enter λ
    n_before = np.searchsorted(t, tq, side="left")
    prev = np.concatenate([[t_start], tq[:-1]])
    rows = np.repeat(np.arange(n_t), n_before)
    cols = np.concatenate([np.arange(n) for n in n_before] + [np.arange(t.size)])
    n_hist = rows.size
    last = tq[-1] if n_t else t_start
    hi = np.concatenate([tq[rows], np.full(t.size, t_end)]) - t[cols]
    lo = np.maximum(np.concatenate([prev[rows], np.full(t.size, last)]) - t[cols], 0.0)
    counts = np.append(n_before, t.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    starts_ok = np.minimum(starts, cols.size - 1)
    empty = counts == 0
    dm_pairs = dm[cols]
    hist = np.empty((d_all, n_t))
    comp = np.empty((d_all, n_t + 1))
    step = max(1, int(max_elements) // max(1, cols.size))
    with threadpool_limits(limits=1, user_api="blas"):
        for d0 in range(0, d_all, step):
            sl = slice(d0, min(d_all, d0 + step))
            c, p = ps["c"][sl, None], ps["p"][sl, None]
            a = np.exp(ps["alpha"][sl, None] * dm_pairs[None, :])
            part = a * kernel_integral(lo[None, :], hi[None, :], c, p)
            comp[sl] = np.add.reduceat(part, starts_ok, axis=1)
            part = a[:, :n_hist] * np.exp(-p * np.log(hi[None, :n_hist] + c))
            hist[sl] = np.add.reduceat(part, starts_ok[:-1], axis=1) if n_hist else 0.0
    comp[:, empty] = 0.0
    hist[:, empty[:-1]] = 0.0
    mu, k = ps["mu"][:, None], ps["K"][:, None]
    widths = np.append(tq - prev, t_end - last)
    total = mu * widths[None, :] + k * comp
    total[:, -2] += total[:, -1]
    with np.errstate(divide="ignore"):
        return np.log(mu + k * hist) - total[:, :-1]


def pointwise_soe(
    params: Mapping[str, np.ndarray],
    times: np.ndarray,
    mags: np.ndarray,
    t_start: float,
    t_end: float,
    m_ref: float,
    *,
    rtol: float = SOE_DEFAULT_RTOL,
    chunk: int = 512,
) -> np.ndarray:
    """Pointwise log likelihood ``(D, n_targets)`` with the SOE kernel (see the module).

    Draws are processed in blocks of ``chunk``; for each block a loop over the distinct
    times carries the state ``(K_soe, chunk)`` (NumPy, one thread: the work per step is a
    few passes over a block that stays in cache).

    Parameters
    ----------
    params, times, mags, t_start, t_end, m_ref
        As in :func:`pointwise_exact`.
    rtol : float
        Relative error of the kernel on the common lattice, for every draw.
    chunk : int
        Draws per block.

    Returns
    -------
    ndarray
        ``(D, n_targets)``.
    """
    from scipy.special import gammaln
    from threadpoolctl import threadpool_limits

    from .stan import soe_grid_covering

    t = np.asarray(times, dtype=float)
    dm = np.asarray(mags, dtype=float) - m_ref
    ps = {k: np.ascontiguousarray(params[k], dtype=float) for k in ("mu", "K", "c", "alpha", "p")}
    d_all = ps["K"].size
    span = max(t_end - min(float(t[0]), t_start), 1e-12)
    grid = soe_grid_covering((ps["c"].min(), ps["c"].max()), (ps["p"].min(), ps["p"].max()),
                             span, rtol=rtol)
    h, x = grid.step, grid.nodes
    s = np.asarray(grid.rates, dtype=float)
    log_norm = math.log(h) - gammaln(ps["p"])
    # weights (K_soe, D) and the rate-zero weight (D,); tiny ones dropped: no subnormals
    w = np.exp(log_norm[None, :] + x[:, None] * ps["p"][None, :] - s[:, None] * ps["c"][None, :])
    w[w < _TINY] = 0.0
    w0 = np.exp(log_norm + ps["p"] * grid.k_lo * h) / np.expm1(ps["p"] * h)
    # distinct times (events, t_start, t_end); events of group g are bounds[g]:bounds[g + 1]
    u, inv = np.unique(np.concatenate([t, [t_start, t_end]]), return_inverse=True)
    g_start, g_end = int(inv[t.size]), int(inv[t.size + 1])
    bounds = np.searchsorted(inv[:t.size], np.arange(u.size + 1), side="left")
    gaps = np.diff(u, prepend=u[0])
    decay = np.exp(-np.outer(gaps, s))  # (G, K_soe): state factor over each gap
    decay[decay < _TINY_DECAY] = 0.0
    # [decay, ∫_0^gap exp(-s τ) dτ] per gap: history and compensator from one product
    ef = np.stack([decay, -np.expm1(-np.outer(gaps, s)) / s], axis=1)  # (G, 2, K_soe)
    j0 = int(np.searchsorted(t, t_start, side="left"))
    n_t = t.size - j0
    out = np.empty((d_all, n_t))
    with threadpool_limits(limits=1, user_api="blas"):
        for d0 in range(0, d_all, chunk):
            sl = slice(d0, min(d_all, d0 + chunk))
            out[sl] = _soe_block({k: a[sl] for k, a in ps.items()}, np.ascontiguousarray(w[:, sl]),
                                 w0[sl], dm, u, gaps, bounds, ef, g_start, g_end, j0, n_t,
                                 t_start, t_end)
    return out


def _soe_block(ps: Mapping[str, np.ndarray], w: np.ndarray, w0: np.ndarray, dm: np.ndarray,
               u: np.ndarray, gaps: np.ndarray, bounds: np.ndarray, ef: np.ndarray,
               g_start: int, g_end: int, j0: int, n_t: int, t_start: float,
               t_end: float) -> np.ndarray:
    """:func:`pointwise_soe` for one block of draws: returns ``(n_draws, n_targets)``."""
    mu, k, alpha = ps["mu"], ps["K"], ps["alpha"]
    n_d = mu.size
    res = np.empty((n_t, n_d))
    state = np.zeros_like(w)  # w_k × amounts decayed to the previous time, (K_soe, n_d)
    tmp = np.empty_like(w)
    amount = np.zeros(n_d)  # undecayed amounts (the rate-zero term)
    cum = np.zeros(n_d)  # triggered compensator since the previous target (or t_start)
    prev_t = t_start
    with np.errstate(divide="ignore"):
        for g in range(g_end + 1):
            i0, i1 = int(bounds[g]), int(bounds[g + 1])
            if g:
                r = ef[g] @ state
                hist = r[0] + w0 * amount
                if g > g_start:
                    cum += r[1] + gaps[g] * (w0 * amount)
                state *= ef[g, 0][:, None]
            else:
                hist = amount
            if i1 > i0:
                if g >= g_start:
                    log_lam = np.log(mu + k * hist)
                    res[i0 - j0] = log_lam - (mu * (u[g] - prev_t) + k * cum)
                    res[i0 + 1 - j0:i1 - j0] = log_lam  # ties: no time elapsed between them
                    cum[:] = 0.0
                    prev_t = float(u[g])
                b = np.exp(alpha * dm[i0]) if i1 == i0 + 1 else \
                    np.exp(np.outer(dm[i0:i1], alpha)).sum(axis=0)
                np.multiply(w, b, out=tmp)
                state += tmp
                amount += b
    if n_t:
        res[-1] -= mu * (t_end - prev_t) + k * cum
    return res.T
