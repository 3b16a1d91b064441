"""The ETAS rate option of the aftershock detection model (``rate="etas"``).

Complete-catalogue rate with secondary triggering by the *detected* events,

.. math::

   \\lambda(t) = K (t + c)^{-p}
   + \\sum_{j:\\,t_j < t} K_s e^{\\alpha (M_j - M_0)} (t - t_j + c)^{-p},

the kernel of :mod:`pystats.etas.kernels` with the reference magnitude ``M0`` (model card
§1b).  Undetected events do not trigger (as in Omi et al. 2014).

The time integral ``∫ λ(t) E(t) dt``, ``E(t) = exp(−β (μ(t) − M0) + β²σ²/2)``, splits into
the main-shock term (the model's log-time panels) and, per parent ``j``, a *near part* (the
rest of the panel holding ``a_j = max(t_start, t_j)`` and the next ``NEAR_PANELS − 1``
panels, each by Gauss–Legendre in ``v = log(t − t_j)`` in panels of at most ``V_PANEL``
e-folds from ``log X_MIN``, plus a midpoint rule on ``[t_j, t_j + X_MIN]``) and a *far
part* (the global nodes of the later panels).  In ``v`` the kernel ``e^v (e^v + c)^{−p}`` is
analytic in ``|Im v| < π`` for every ``c``, so the near rule needs no knowledge of ``c``:
its nodes are data, the same in every engine.  :func:`secondary_geometry` builds them;
:func:`etas_loglik` evaluates the log likelihood (torch, batched over draws).

References
----------
Omi, T., Ogata, Y., Hirata, Y., & Aihara, K. (2014). Estimating the ETAS model from an
early aftershock sequence. *Geophysical Research Letters*, 41, 850–857.
https://doi.org/10.1002/2013GL058958

Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. *Journal of the American Statistical Association*, 83(401), 9–27.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..etas.productivity import ALPHA0
from .likelihood import GL_NODES, log_magnitude_integral, loglik

__all__ = ["ETAS_BOUNDS", "ETAS_DESCRIPTIONS", "ETAS_PRIORS", "ETAS_SCALARS", "NEAR_PANELS",
           "RATES", "V_PANEL", "X_MIN", "etas_entries", "etas_loglik", "etas_stan_data",
           "expected_counts",
           "secondary_geometry", "secondary_rate"]

RATES = ("omori", "etas")
"""``rate`` option values; their 1-based position would be a Stan data code."""
ETAS_SCALARS = ("K_s", "alpha")
"""Parameters of ``rate="etas"``: arrays of size 1 after ``z`` in ``parameters()`` (size 0
with ``rate="omori"``), as the Stan program declares them."""
ETAS_PRIORS: dict[str, tuple[str, float, float]] = {
    "K_s": ("log10-normal", -1.67, 1.0),
    "alpha": ("lognormal", math.log(ALPHA0), 0.75),
}
"""``K_s``: productivity of an ``M0`` event, the Reasenberg–Jones generic value as for ``K``;
``alpha``: the prior of :mod:`pystats.etas` (models/etas.md §9)."""
ETAS_BOUNDS = {"K_s": (0.0, math.inf), "alpha": (0.0, math.inf)}
ETAS_DESCRIPTIONS = {
    "K_s": "ETAS productivity K_s e^{alpha (M - M0)} of a detected aftershock at M = M0 "
           "(per day at t - t_j + c = 1 d)",
    "alpha": "ETAS magnitude sensitivity of the productivity",
}
X_MIN = 1e-8
"""Days: ``[t_j, t_j + X_MIN]`` is integrated by the midpoint rule."""
V_PANEL = 3.0
"""Largest near-rule panel, in e-folds of ``t − t_j``."""
NEAR_PANELS = 2
"""Global panels (from the one holding ``a_j``) integrated by the near rule."""


def _near_nodes(t_j: float, a: float, b: float, x_nodes: np.ndarray, x_w: np.ndarray,
                tiny: bool) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``t`` and weights of ``∫_a^b g(t) dt`` by Gauss–Legendre in ``v = log(t − t_j)``
    (equal panels of at most :data:`V_PANEL`); with ``tiny`` (``a = t_j``) the first
    ``X_MIN`` by the midpoint rule."""
    ts, ws = [], []
    lo = a - t_j
    if tiny:
        x0 = min(X_MIN, b - t_j)
        ts.append(np.array([t_j + 0.5 * x0]))
        ws.append(np.array([x0]))
        lo = x0
    hi = b - t_j
    if hi > lo:
        va, vb = math.log(lo), math.log(hi)
        n = max(1, math.ceil((vb - va) / V_PANEL))
        edges = np.linspace(va, vb, n + 1)
        half = 0.5 * np.diff(edges)[:, None]
        v = (0.5 * (edges[1:] + edges[:-1])[:, None] + half * x_nodes[None, :]).ravel()
        ts.append(t_j + np.exp(v))
        ws.append((half * x_w[None, :]).ravel() * np.exp(v))
    return np.concatenate(ts), np.concatenate(ws)


def secondary_geometry(t_parents: Any, m_parents: Any, n_hist: int, t_start: float,
                       t_end: float, s_q: Any, n_panels: int,
                       n_nodes: int = GL_NODES) -> dict[str, np.ndarray | int]:
    """Parameter-free tables of the ETAS terms (prepared data; numpy).

    Parameters
    ----------
    t_parents, m_parents : array_like
        Detected events after the main shock up to ``t_end`` (days since it), sorted; the
        first ``n_hist`` lie before ``t_start`` (history), the rest are the data events.
    t_start, t_end : float
        Window.
    s_q : array_like
        The model's global nodes in log time (panels of ``[log t_start, log t_end]``).
    n_panels : int
        Number of equal global panels in log time.

    Returns
    -------
    dict
        ``tp, mp`` (parents), ``ev_i, ev_j, ev_x`` (child, parent, ``t_i − t_j`` of every
        pair with ``t_j < t_i``; child indices count data events), ``gq_q, gq_j, gq_x``
        (global node, parent, ``t_q − t_j``: the far part), ``near_j, near_t, near_s,
        near_x, near_w`` (the near part: parent, node, its log, ``t − t_j``, weight) and
        ``n_hist``.
    """
    tp = np.asarray(t_parents, dtype=float)
    mp = np.asarray(m_parents, dtype=float)
    n_hist = int(n_hist)
    s_q = np.asarray(s_q, dtype=float)
    edges_s = np.linspace(math.log(t_start), math.log(t_end), int(n_panels) + 1)
    edges = np.exp(edges_s)
    edges[0], edges[-1] = t_start, t_end
    x_gl, w_gl = np.polynomial.legendre.leggauss(int(n_nodes))
    # parent-child pairs
    t_ev = tp[n_hist:]
    ii, jj = np.nonzero(tp[None, :] < t_ev[:, None])
    ev_x = t_ev[ii] - tp[jj]
    # the panel of each global node and of each a_j
    q_panel = np.clip(np.searchsorted(edges_s, s_q, side="right") - 1, 0, n_panels - 1)
    a = np.maximum(tp, t_start)
    k_a = np.clip(np.searchsorted(edges, a, side="right") - 1, 0, n_panels - 1)
    far = q_panel[None, :] >= (k_a + NEAR_PANELS)[:, None]
    gj, gq = np.nonzero(far)
    t_q = np.exp(s_q)
    near_j, near_t, near_w = [], [], []
    for j in range(tp.size):
        k = int(k_a[j])
        for kk in range(k, min(k + NEAR_PANELS, n_panels)):
            lo = a[j] if kk == k else edges[kk]
            hi = edges[kk + 1]
            if hi <= lo:
                continue
            tt, ww = _near_nodes(tp[j], lo, hi, x_gl, w_gl, tiny=(kk == k and tp[j] >= t_start))
            near_j.append(np.full(tt.size, j))
            near_t.append(tt)
            near_w.append(ww)
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))  # noqa: E731
    nj, nt, nw = cat(near_j, np.int64), cat(near_t, float), cat(near_w, float)
    return {
        "tp": tp, "mp": mp, "n_hist": n_hist, "n_parents": int(tp.size),
        "ev_i": ii.astype(np.int64), "ev_j": jj.astype(np.int64), "ev_x": ev_x,
        "gq_q": gq.astype(np.int64), "gq_j": gj.astype(np.int64), "gq_x": t_q[gq] - tp[gj],
        "near_j": nj, "near_t": nt, "near_s": np.log(nt), "near_x": nt - tp[nj] if nj.size
        else np.zeros(0), "near_w": nw,
    }


def etas_stan_data(values: Mapping[str, Any], rate: str) -> dict[str, Any]:
    """The Stan data of the rate (``rate``: 1 omori, 2 etas; 1-based indices; empty tables
    for ``"omori"``)."""
    if rate != "etas":
        empty: dict[str, Any] = {"n_parents": 0, "mp": [], "n_pairs": 0, "ev_i": [],
                                 "ev_j": [], "ev_x": [], "n_far": 0, "gq_q": [], "gq_j": [],
                                 "gq_x": [], "n_near": 0, "near_j": [], "near_s": [],
                                 "near_x": [], "near_w": []}
        return {"rate": 1, **empty}
    flt = lambda k: np.asarray(values[k], dtype=float).tolist()  # noqa: E731
    one = lambda k: (np.asarray(values[k], dtype=np.int64) + 1).tolist()  # noqa: E731
    return {"rate": 2, "n_parents": int(values["n_parents"]), "mp": flt("mp"),
            "n_pairs": len(values["ev_x"]), "ev_i": one("ev_i"), "ev_j": one("ev_j"),
            "ev_x": flt("ev_x"), "n_far": len(values["gq_x"]), "gq_q": one("gq_q"),
            "gq_j": one("gq_j"), "gq_x": flt("gq_x"), "n_near": len(values["near_x"]),
            "near_j": one("near_j"), "near_s": flt("near_s"), "near_x": flt("near_x"),
            "near_w": flt("near_w")}


def etas_entries(tensors: Mapping[str, Any]) -> int:
    """Entries per parameter row of the ETAS terms (for the caller's memory batching)."""
    n_lat = int(tensors.get("n_latent", 1))
    return (int(tensors["ev_x"].shape[-1]) + int(tensors["gq_x"].shape[-1])
            + int(tensors["near_x"].shape[-1]) * (n_lat + 1))


def secondary_rate(params: Mapping[str, Any], tensors: Mapping[str, Any]) -> Any:
    """``Σ_{j: t_j < t_i} K_s e^{α(M_j − M0)} (t_i − t_j + c)^{−p}`` at the data events;
    shape ``(*batch, N)``."""
    import torch

    from ..etas.kernels import kernel

    m0 = float(tensors["M0"])
    c, p = params["c"][..., None], params["p"][..., None]
    log_g = params["K_s"].log() + params["alpha"] * (tensors["mp"] - m0)
    contrib = log_g[..., tensors["ev_j"]].exp() * kernel(tensors["ev_x"], c, p)
    n = int(tensors["N"])
    out = torch.zeros((*contrib.shape[:-1], n), dtype=contrib.dtype, device=contrib.device)
    return out.index_add(-1, tensors["ev_i"], contrib)


def etas_loglik(params: Mapping[str, Any], tensors: Mapping[str, Any],
                mu_fn: Callable[[Any], Any]) -> Any:
    """Log likelihood of the ETAS-rate model (torch; batched over leading axes).

    ``mu_fn(x)`` gives ``μ`` at log-times ``x`` (shape ``(*batch, len(x))``).  The Omori
    part is :func:`pystats.aftershock.likelihood.loglik`; this adds
    ``Σ_i log(1 + sec_i / (K (t_i + c)^{−p}))`` and subtracts the secondary integral.
    """
    import torch

    n = int(tensors["N"])
    n_all = int(tensors["s_all"].shape[-1])
    mu = mu_fn(torch.cat([tensors["s_all"], tensors["near_s"]]))
    mu_ev, mu_q, mu_near = mu[..., :n], mu[..., n:n_all], mu[..., n_all:]
    base = loglik(dict(params), mu_ev, mu_q, dict(tensors))
    m0 = float(tensors["M0"])
    K, c, p = params["K"][..., None], params["c"][..., None], params["p"][..., None]
    beta, sigma = params["beta"][..., None], params["sigma"][..., None]
    sec = secondary_rate(params, tensors)
    main = (K.log() - p * (tensors["t"] + c).log()).exp()
    events = torch.log1p(sec / main).sum(-1)
    log_g = params["K_s"].log() + params["alpha"] * (tensors["mp"] - m0)
    lm_q = log_magnitude_integral(mu_q, beta, sigma, m0)
    far = (tensors["w_q"].log()[tensors["gq_q"]] + log_g[..., tensors["gq_j"]]
           - p * (tensors["gq_x"] + c).log() + lm_q[..., tensors["gq_q"]]).exp().sum(-1)
    near = (tensors["near_w"].log() + log_g[..., tensors["near_j"]]
            - p * (tensors["near_x"] + c).log()
            + log_magnitude_integral(mu_near, beta, sigma, m0)).exp().sum(-1)
    return base + events - far - near


def expected_counts(K: np.ndarray, c: np.ndarray, p: np.ndarray, K_s: np.ndarray,
                    alpha: np.ndarray, tp: np.ndarray, mp: np.ndarray, m0: float,
                    t1: float, t2: float) -> np.ndarray:
    """``K ∫_{t1}^{t2} (t + c)^{−p} dt + Σ_j K_s e^{α(M_j − M0)} ∫ (t − t_j + c)^{−p} dt``
    per draw (days since the main shock; parents before ``t2``): the first generation from
    the main shock and the observed parents, for ``M >= M0``."""
    from ..etas.kernels import kernel_integral

    out = K * kernel_integral(t1, t2, c, p)
    keep = tp < t2
    if np.any(keep):
        a = np.maximum(t1 - tp[keep], 0.0)[None, :]
        b = (t2 - tp[keep])[None, :]
        prod = K_s[:, None] * np.exp(alpha[:, None] * (mp[keep][None, :] - m0))
        out = out + np.sum(prod * kernel_integral(a, b, c[:, None], p[:, None]), axis=1)
    return out
