"""The SOE history sum of the ETAS likelihood with its parameter derivatives, in one pass.

For events at sorted times with productivities ``a_i = exp(alpha dm_i)``
(``dm_i = M_i - M_ref``) and the sum-of-exponentials kernel
``(t + c)^-p ≈ Σ_k w_k(c, p) exp(-s_k t)`` (:mod:`.kernels`; rate ``s_0 = 0`` carries the
tail weight ``w0``), the history at event ``j`` is

.. math:: h_j = \\sum_k w_k H_{jk}, \\qquad
          H^{(r)}_{jk} = \\sum_{i:\\,t_i<t_j} a_i\\, dm_i^r\\, e^{-s_k (t_j - t_i)} .

The rates ``s_k`` do not depend on the parameters, so every derivative of ``h`` in
``(c, p, alpha)`` is again such a sum: ``∂^{m+n}/∂c^m ∂p^n`` acts on the weights only
(closed form, :func:`weight_jets`) and ``∂^r/∂alpha^r`` replaces the amounts ``a_i`` by
``a_i dm_i^r`` (channel ``r``).  :func:`soe_jets` runs the linear recursion of
:mod:`._scan` once for the needed channels together (they share the decay factors
``exp(-s_k Δt)``, which are parameter-free and kept between calls while they fit in
:data:`DECAY_CACHE_BYTES`) and projects each channel on the needed weight derivatives.
So the value and the full gradient cost one pass of ``2 × K`` recursions, and the Hessian
one of ``3 × K``, where reverse-mode autograd through the scan (:func:`._scan.soe_sum`)
needs three passes (value, adjoint in ``a``, adjoint in ``w``) each recomputing the decays.

:func:`soe_history` wraps this as an autograd function of ``(c, p, alpha)``: its backward
is a dot product with the saved Jacobian; under ``create_graph`` (Hessians) it is
differentiable once more through a second-order pass.  Memory is ``O(N)`` per output row
plus one work chunk (and the decay cache when it fits).  The wrapper only needs a
``prob.jets(c, p, alpha, order)`` with the row layout of :func:`soe_jets`, so the exact
pair sums use it too (:class:`._pairs.PairProblem`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from . import _scan
from .kernels import SoeGrid

_BLOCK = _scan._BLOCK
_CHUNK_ELEMENTS = 1 << 22
"""Rates x times x channels per work chunk (32 MiB of float64)."""

DECAY_CACHE_BYTES = 256 << 20
"""Largest size of the kept decay factors (two float64 arrays of rates x distinct times):
up to about 1.4e5 distinct times with 95 rates.  Larger catalogues recompute them at every
evaluation (one ``exp`` per rate and time)."""

_CACHE_MARGIN = 3
"""Extra lattice rates kept on each side of the requested range, so that small moves of
``c`` do not force a rebuild."""


@dataclass
class Geometry:
    """Parameter-free layout of one catalogue: distinct times, gaps, where events land."""

    n_times: int
    gaps3: torch.Tensor  # (_BLOCK, n_blocks), gap to the previous distinct time; inf first
    inv_e: torch.Tensor  # event -> distinct time
    inv_q: torch.Tensor  # query -> distinct time
    span: float
    decays: dict = field(default_factory=dict)
    scratch: dict = field(default_factory=dict)

    @staticmethod
    def build(t_events: torch.Tensor, t_queries: torch.Tensor) -> Geometry:
        u, inv = torch.unique(torch.cat([t_events, t_queries]), sorted=True,
                              return_inverse=True)
        gaps = torch.empty_like(u)
        gaps[0] = math.inf  # no predecessor: decay 0
        gaps[1:] = u[1:] - u[:-1]
        n = int(t_events.shape[0])
        lo = min(float(t_events[0]), float(t_queries.min()))
        span = float(t_queries.max()) - lo
        return Geometry(n_times=int(u.shape[0]), gaps3=_scan._to_blocks(gaps),
                        inv_e=inv[:n], inv_q=inv[n:], span=span)

    def work(self, shape: tuple[int, ...]) -> torch.Tensor:
        """A kept scratch array of this shape (fresh multi-MiB arrays cost page faults at
        every evaluation, as much as the arithmetic on them)."""
        n = math.prod(shape)
        buf = self.scratch.get("work")
        if buf is None or buf.numel() < n:
            buf = torch.empty(n, dtype=torch.float64, device=self.gaps3.device)
            self.scratch["work"] = buf
        return buf[:n].view(shape)

    # ------------------------------------------------------------------ decays
    def _decays(self, rates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``d3[i, k, b] = exp(-s_k gap)`` (0 at the first time) and its running product
        within each block, shape ``(_BLOCK, len(rates), n_blocks)`` (rates > 0)."""
        d3 = torch.exp(rates[None, :, None] * (-self.gaps3[:, None, :]))
        return d3, torch.cumprod(d3, 0)

    def decays_for(self, grid: SoeGrid, dev: torch.device
                   ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Kept decays for the lattice rates of ``grid``, or ``None`` when they do not fit
        in :data:`DECAY_CACHE_BYTES`."""
        k_lo, k_hi = grid.k_lo, grid.k_hi
        c = self.decays
        same = c.get("step") == grid.step
        if same and c["k_lo"] <= k_lo and k_hi <= c["k_hi"]:
            i0 = k_lo - c["k_lo"]
            return c["d3"][:, i0:i0 + k_hi - k_lo + 1], c["p3"][:, i0:i0 + k_hi - k_lo + 1]
        lo = (min(k_lo, c["k_lo"]) if same else k_lo) - _CACHE_MARGIN
        hi = (max(k_hi, c["k_hi"]) if same else k_hi) + _CACHE_MARGIN
        c.clear()  # free the old arrays before building new ones
        if 2 * 8 * (hi - lo + 1) * _BLOCK * self.gaps3.shape[1] > DECAY_CACHE_BYTES:
            return None
        rates = torch.tensor(np.exp(np.arange(lo, hi + 1) * grid.step), dtype=torch.float64,
                             device=dev)
        d3, p3 = self._decays(rates)
        c.update(step=grid.step, k_lo=lo, k_hi=hi, d3=d3, p3=p3)
        return self.decays_for(grid, dev)


# ----------------------------------------------------------------------------- weights
def weight_jets(grid: SoeGrid, c: float, p: float, order: int) -> np.ndarray:
    """Weights of the SOE (rate 0 first) and their derivatives in ``(c, p)``.

    Rows: ``w``; with ``order >= 1`` also ``∂w/∂c``, ``∂w/∂p``; with ``order >= 2`` also
    ``∂²w/∂c²``, ``∂²w/∂c∂p``, ``∂²w/∂p²``.  From ``log w_k = log h - lgamma(p) + p x_k -
    s_k c`` and ``log w_0 = log h - lgamma(p) + p x_lo - log expm1(p h)``.
    """
    from scipy.special import gammaln, polygamma, psi

    h = grid.step
    x = grid.nodes
    s = grid.rates
    x_lo = grid.k_lo * h
    lw = math.log(h) - float(gammaln(p)) + p * x - s * c
    w = np.exp(lw)
    w0 = math.exp(math.log(h) - float(gammaln(p)) + p * x_lo) / math.expm1(p * h)
    rows = [np.concatenate([[w0], w])]
    if order >= 1:
        dg = float(psi(p))
        e = math.exp(p * h)
        em1 = math.expm1(p * h)
        d0 = x_lo - dg - h * e / em1
        dp = x - dg
        rows += [np.concatenate([[0.0], -s * w]), np.concatenate([[d0 * w0], dp * w])]
        if order >= 2:
            tg = float(polygamma(1, p))
            d0p = -tg + h * h * e / (em1 * em1)
            rows += [np.concatenate([[0.0], s * s * w]),
                     np.concatenate([[0.0], -s * dp * w]),
                     np.concatenate([[(d0 * d0 + d0p) * w0], (dp * dp - tg) * w])]
    return np.stack(rows)


# ----------------------------------------------------------------------------- the pass
# (channel r = alpha-derivative order, rows of weight_jets used) per output row, by order
_LAYOUT = {
    0: [(0, (0,))],
    1: [(0, (0, 1, 2)), (1, (0,))],
    2: [(0, (0, 1, 2, 3, 4, 5)), (1, (0, 1, 2)), (2, (0,))],
}


def _blocked_scan(d3: torch.Tensor, p3: torch.Tensor, y4: torch.Tensor) -> None:
    """In place, all channels at once: ``y <- d y_prev + y`` over times laid out as
    ``(channels, _BLOCK, K, n_blocks)`` (see :func:`._scan._blocked_scan`); ``d3`` and its
    running product ``p3`` within blocks are ``(_BLOCK, K, n_blocks)`` and not modified."""
    ys = y4.unbind(1)
    ds = d3.unbind(0)
    for i in range(1, _BLOCK):
        ys[i].addcmul_(ds[i], ys[i - 1])
    nch, _, k, nb = y4.shape
    if nb == 1:
        return
    carry = _scan.affine_scan(p3[-1].expand(nch, k, nb).reshape(nch * k, nb).clone(),
                              ys[-1].reshape(nch * k, nb).clone()).reshape(nch, 1, k, nb)
    y4[:, :, :, 1:].addcmul_(p3[None, :, :, 1:], carry[:, :, :, :-1])


def soe_jets(geom: Geometry, grid: SoeGrid, c: float, p: float, amounts: list[torch.Tensor],
             order: int) -> torch.Tensor:
    """History sums and derivatives at the queries, shape ``(rows, n_queries)``.

    ``amounts[r]``: ``a_i dm_i^r`` per event (``r = 0 .. order``).  Rows, by ``order``:
    0: ``h``; 1: ``h, h_c, h_p, h_alpha``; 2: ``h, h_c, h_p, h_cc, h_cp, h_pp, h_alpha,
    h_alpha c, h_alpha p, h_alpha alpha``.
    """
    dev = geom.gaps3.device
    layout = _LAYOUT[order]
    nch = len(layout)
    wj = torch.tensor(weight_jets(grid, c, p, order), dtype=torch.float64, device=dev)
    wrows = [wj[list(rows)] for _, rows in layout]
    n_out = sum(len(r) for _, r in layout)
    g = geom.n_times
    # amount per distinct time, shifted by one (the recursion adds the previous time's)
    bprev = torch.zeros(nch, g, dtype=torch.float64, device=dev)
    for r in range(nch):
        bprev[r, 1:] = amounts[r].new_zeros(g).index_add_(0, geom.inv_e, amounts[r])[:-1]
    b4 = torch.stack([_scan._to_blocks(bprev[r]) for r in range(nch)])  # (nch, _BLOCK, nb)
    nb = b4.shape[2]
    n_rates = wj.shape[1] - 1
    cached = geom.decays_for(grid, dev)
    rates = None
    if cached is None:
        rates = torch.tensor(grid.rates, dtype=torch.float64, device=dev)
    outs = [wj.new_zeros(_BLOCK, w.shape[0], nb) for w in wrows]
    step = max(1, _CHUNK_ELEMENTS // max(1, g * nch))
    for k0 in range(0, n_rates, step):
        k1 = min(n_rates, k0 + step)
        if cached is None:
            d3, p3 = geom._decays(rates[k0:k1])
        else:
            d3, p3 = cached[0][:, k0:k1], cached[1][:, k0:k1]
        y4 = geom.work((nch, _BLOCK, k1 - k0, nb))
        torch.mul(d3[None], b4[:, :, None, :], out=y4)  # (nch, _BLOCK, k, nb)
        _blocked_scan(d3, p3, y4)
        for ch in range(nch):
            outs[ch].add_(torch.matmul(wrows[ch][:, 1 + k0:1 + k1], y4[ch]))
        del y4, d3, p3
    out = torch.cat(outs, 1).permute(1, 2, 0).reshape(n_out, nb * _BLOCK)[:, :g]
    # rate 0 (the tail term): decay 1, the amount strictly before each time
    out += torch.cat([w[:, :1] * torch.cumsum(bprev[ch], 0)[None]
                      for ch, w in enumerate(wrows)])
    return out[:, geom.inv_q]


# ----------------------------------------------------------------------------- autograd
@dataclass(frozen=True)
class Problem:
    """What the pass needs besides ``(c, p, alpha)``: layout, lattice, magnitudes."""

    geom: Geometry
    grid: SoeGrid
    dm: torch.Tensor  # M_i - M_ref per event

    def amounts(self, alpha: float, order: int) -> list[torch.Tensor]:
        a = torch.exp(alpha * self.dm)
        out = [a]
        for _ in range(order):
            out.append(out[-1] * self.dm)
        return out

    def jets(self, c: torch.Tensor, p: torch.Tensor, alpha: torch.Tensor,
             order: int) -> torch.Tensor:
        with torch.no_grad():
            return soe_jets(self.geom, self.grid, float(c), float(p),
                            self.amounts(float(alpha), order), order)


class _History(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, c: torch.Tensor, p: torch.Tensor, alpha: torch.Tensor,
                prob: Problem) -> torch.Tensor:
        order = 1 if any(ctx.needs_input_grad[:3]) else 0
        jets = prob.jets(c, p, alpha, order)
        ctx.prob = prob
        ctx.save_for_backward(c, p, alpha, jets[1:4] if order else jets[:0])
        return jets[0]

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        c, p, alpha, jac = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: a Hessian is on its way
            jac = _Jacobian.apply(c, p, alpha, ctx.prob)
        d = jac @ g
        return d[0], d[1], d[2], None


class _Jacobian(torch.autograd.Function):
    """``(h_c, h_p, h_alpha)`` at the queries, differentiable once (second-order pass)."""

    @staticmethod
    def forward(ctx: Any, c: torch.Tensor, p: torch.Tensor, alpha: torch.Tensor,
                prob: Problem) -> torch.Tensor:
        jets = prob.jets(c, p, alpha, 2)
        # rows: 0 h, 1 h_c, 2 h_p, 3 h_cc, 4 h_cp, 5 h_pp, 6 h_a, 7 h_ac, 8 h_ap, 9 h_aa
        ctx.save_for_backward(jets[3:6], jets[7:10])
        return torch.stack([jets[1], jets[2], jets[6]])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        cpp, acc = ctx.saved_tensors
        h_cc, h_cp, h_pp = cpp
        h_ac, h_ap, h_aa = acc
        gc, gp, ga = g
        dc = (gc * h_cc + gp * h_cp + ga * h_ac).sum()
        dp = (gc * h_cp + gp * h_pp + ga * h_ap).sum()
        da = (gc * h_ac + gp * h_ap + ga * h_aa).sum()
        return dc, dp, da, None


def soe_history(c: torch.Tensor, p: torch.Tensor, alpha: torch.Tensor,
                prob: Any) -> torch.Tensor:
    """``h_j`` at the queries, differentiable in ``(c, p, alpha)`` (twice); ``prob`` is a
    :class:`Problem` (SOE) or a :class:`._pairs.PairProblem` (exact pairs)."""
    return _History.apply(c, p, alpha, prob)
