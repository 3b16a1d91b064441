"""Exact power-law pair sums over sorted times, tiled, with closed-form derivatives (internal).

For sorted query times ``q_j`` and sorted history times ``h_i`` with ``x_ij = q_j - h_i + c``
(only pairs with ``h_i < q_j``), the *moments*

.. math:: F_{k,l}(a)_j = \\sum_{i:\\,h_i<q_j} a_i\\, x_{ij}^{-(p+k)} (\\log x_{ij})^l,
          \\qquad T_{k,l}(g)_i = \\sum_{j:\\,h_i<q_j} g_j\\, x_{ij}^{-(p+k)} (\\log x_{ij})^l

are closed under differentiation:

* ``∂F_{k,l}/∂a`` is ``T_{k,l}`` (adjoint), and vice versa;
* ``∂/∂c`` of ``x^{-(p+k)} L^l`` is ``x^{-(p+k+1)} (l L^{l-1} - (p+k) L^l)``, i.e. moments
  ``(k+1, l-1)`` and ``(k+1, l)``;
* ``∂/∂p`` of it is ``-x^{-(p+k)} L^{l+1}``, moment ``(k, l+1)``.

So :func:`pair_moment` is an autograd function whose backward pass is again made of
``pair_moment`` / its adjoint, and gradients and Hessians of anything built on it are exact
to rounding, with no autograd graph over the ``N^2`` pairs: every evaluation streams over
equal-size tiles in no-grad mode, so memory stays at a few tiles plus ``O(N)``
(equal-size tiles also let the allocator reuse freed blocks; ever-growing blocks fragmented
glibc's heap by gigabytes in an earlier checkpoint-based version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

_TILE_ENTRIES = 1 << 16
"""Entries per tile (rows x history columns): 512 KiB of float64."""

DENSE_MAX_ENTRIES = 1 << 22
"""Up to this many (query, history) entries (32 MiB of float64 per array, N ~ 2,000
events), all pairs are one tile and ``log x`` and ``x^-p`` are kept between the moments of
one evaluation (value, gradient and Hessian share them): the small-catalogue fast path,
where per-tile Python overhead dominated."""


@dataclass(frozen=True)
class PairSet:
    """Sorted queries and history, split into row blocks and equal-size column tiles."""

    tq: torch.Tensor
    th: torch.Tensor
    blocks: tuple[tuple[int, int, int, int], ...]  # (j0, j1, width, n_before)
    tile_cols: int
    dense: bool = False
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def build(tq: torch.Tensor, th: torch.Tensor, rows: int,
              geometry: dict | None = None, *, dense: bool = True) -> PairSet:
        """Blocks of ``rows`` queries; ``width``: history strictly before the last query of
        the block, ``n_before``: history strictly before its first query (no mask needed).

        Small problems (at most :data:`DENSE_MAX_ENTRIES` pairs; unless ``dense`` is false)
        are one dense tile; their
        parameter-free part (time differences and the causal mask) is kept in ``geometry``
        when given, so repeated evaluations on the same times (an optimiser) reuse it.
        """
        widths = torch.searchsorted(th, tq, side="left").tolist()
        nq = len(widths)
        if dense and nq and nq * max(1, widths[-1]) <= DENSE_MAX_ENTRIES:
            width = widths[-1]
            cache = geometry if geometry is not None else {}
            key = (nq, width, tq.device)
            if cache.get("shape") != key:
                dt = tq[:, None] - th[None, :width]
                mask = (dt > 0).to(dt.dtype)  # float multiplies beat where / bool masks
                cache.clear()
                cache.update(shape=key, dt=dt.clamp_min_(0.0), mask=mask)  # masked: x = c
            return PairSet(tq=tq, th=th, blocks=((0, nq, width, widths[0]),),
                           tile_cols=max(1, width), dense=True, _cache=cache)
        blocks = []
        for j0 in range(0, nq, rows):
            j1 = min(nq, j0 + rows)
            blocks.append((j0, j1, widths[j1 - 1], widths[j0]))
        cols = max(256, _TILE_ENTRIES // max(1, min(rows, nq)))
        return PairSet(tq=tq, th=th, blocks=tuple(blocks), tile_cols=cols)

    def _tiles(self):  # yields (j0, j1, k0, k1, masked)
        for j0, j1, width, n_before in self.blocks:
            for k0 in range(0, width, self.tile_cols):
                k1 = min(width, k0 + self.tile_cols)
                yield j0, j1, k0, k1, k1 > n_before

    def _values(
        self, j0: int, j1: int, k0: int, k1: int, masked: bool, c: torch.Tensor,
        p: torch.Tensor, k: int, l_pow: int,
    ) -> torch.Tensor:
        if self.dense:
            return self._dense_values(c, p, k, l_pow)
        q = self.tq[j0:j1]
        if masked:
            dt = q[:, None] - self.th[None, k0:k1]
            mask = dt > 0
            x = torch.where(mask, dt, torch.ones((), dtype=dt.dtype, device=dt.device)) + c
        else:
            x = (q + c)[:, None] - self.th[None, k0:k1]
        lx = torch.log(x)
        # exp(-p log x) is several times faster than pow(x, -p) on CPU
        val = torch.exp(lx * (-(p + k)))
        for _ in range(l_pow):
            val.mul_(lx)
        if masked:
            val.mul_(mask)
        return val

    def _dense_values(self, c: torch.Tensor, p: torch.Tensor, k: int,
                      l_pow: int) -> torch.Tensor:
        """All pairs at once.  ``x``, ``log x`` and ``x^-p`` live in preallocated buffers
        (fresh multi-MiB arrays cost page faults that took longer than the arithmetic),
        valid for the ``(c, p)`` recorded with them and shared by the moments of value,
        gradient and Hessian; derivative moments are written to one scratch buffer, used
        at once by the caller's matrix-vector product."""
        g = self._cache
        key = (float(c), float(p))
        if g.get("cp") != key:
            if "x" not in g:
                g.update(x=torch.empty_like(g["dt"]), lx=torch.empty_like(g["dt"]),
                         base=torch.empty_like(g["dt"]), scratch=torch.empty_like(g["dt"]))
            torch.add(g["dt"], c.to(g["dt"].dtype), out=g["x"])
            torch.log(g["x"], out=g["lx"])
            torch.mul(g["lx"], -p, out=g["base"]).exp_().mul_(g["mask"])
            g["cp"] = key
        if k == 0 and l_pow == 0:
            return g["base"]
        val = g["scratch"]
        if k == 0:
            torch.mul(g["base"], g["lx"], out=val)
            l_pow -= 1
        elif k == 1:
            torch.div(g["base"], g["x"], out=val)
        else:
            torch.mul(g["lx"], -k, out=val).exp_().mul_(g["base"])
        for _ in range(l_pow):
            val.mul_(g["lx"])
        return val

    def moments(self, a: torch.Tensor, c: torch.Tensor, p: torch.Tensor, k: int,
                l_pow: int) -> torch.Tensor:
        """``F_{k,l}(a)``, one value per query."""
        out = a.new_zeros(self.tq.shape[0])
        for j0, j1, k0, k1, masked in self._tiles():
            out[j0:j1] += self._values(j0, j1, k0, k1, masked, c, p, k, l_pow) @ a[k0:k1]
        return out

    def moments_t(self, g: torch.Tensor, c: torch.Tensor, p: torch.Tensor, k: int,
                  l_pow: int) -> torch.Tensor:
        """``T_{k,l}(g)``, one value per history time."""
        out = g.new_zeros(self.th.shape[0])
        for j0, j1, k0, k1, masked in self._tiles():
            out[k0:k1] += g[j0:j1] @ self._values(j0, j1, k0, k1, masked, c, p, k, l_pow)
        return out


class _Moment(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, a: torch.Tensor, c: torch.Tensor, p: torch.Tensor, ps: PairSet,
                k: int, l_pow: int) -> torch.Tensor:
        ctx.save_for_backward(a, c, p)
        ctx.meta = (ps, k, l_pow)
        return ps.moments(a.detach(), c.detach(), p.detach(), k, l_pow)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        a, c, p = ctx.saved_tensors
        ps, k, l_pow = ctx.meta
        ga = gc = gp = None
        if ctx.needs_input_grad[0]:
            ga = pair_moment_t(g, c, p, ps, k, l_pow)
        if ctx.needs_input_grad[1]:
            d = -(p + k) * pair_moment(a, c, p, ps, k + 1, l_pow)
            if l_pow:
                d = d + l_pow * pair_moment(a, c, p, ps, k + 1, l_pow - 1)
            gc = (g * d).sum()
        if ctx.needs_input_grad[2]:
            gp = -(g * pair_moment(a, c, p, ps, k, l_pow + 1)).sum()
        return ga, gc, gp, None, None, None


class _MomentT(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, g: torch.Tensor, c: torch.Tensor, p: torch.Tensor, ps: PairSet,
                k: int, l_pow: int) -> torch.Tensor:
        ctx.save_for_backward(g, c, p)
        ctx.meta = (ps, k, l_pow)
        return ps.moments_t(g.detach(), c.detach(), p.detach(), k, l_pow)

    @staticmethod
    def backward(ctx: Any, h: torch.Tensor) -> tuple[Any, ...]:
        g, c, p = ctx.saved_tensors
        ps, k, l_pow = ctx.meta
        gg = gc = gp = None
        if ctx.needs_input_grad[0]:
            gg = pair_moment(h, c, p, ps, k, l_pow)
        if ctx.needs_input_grad[1]:
            d = -(p + k) * pair_moment_t(g, c, p, ps, k + 1, l_pow)
            if l_pow:
                d = d + l_pow * pair_moment_t(g, c, p, ps, k + 1, l_pow - 1)
            gc = (h * d).sum()
        if ctx.needs_input_grad[2]:
            gp = -(h * pair_moment_t(g, c, p, ps, k, l_pow + 1)).sum()
        return gg, gc, gp, None, None, None


def pair_moment(a: torch.Tensor, c: torch.Tensor, p: torch.Tensor, ps: PairSet, k: int = 0,
                l_pow: int = 0) -> torch.Tensor:
    """``F_{k,l}(a)`` (one value per query), differentiable to any order in ``a, c, p``."""
    return _Moment.apply(a, c, p, ps, k, l_pow)


def pair_moment_t(g: torch.Tensor, c: torch.Tensor, p: torch.Tensor, ps: PairSet, k: int = 0,
                  l_pow: int = 0) -> torch.Tensor:
    """``T_{k,l}(g)`` (one value per history time), the adjoint of :func:`pair_moment`."""
    return _MomentT.apply(g, c, p, ps, k, l_pow)


# ----------------------------------------------------------------------------- jets
_KERNEL_CHANNELS = {
    # kernel row (x^-p, d/dc, d/dp, d2/dc2, d2/dcdp, d2/dp2) -> amount channels using it
    0: {0: (0,)},
    1: {0: (0, 1), 1: (0,), 2: (0,)},
    2: {0: (0, 1, 2), 1: (0, 1), 2: (0, 1), 3: (0,), 4: (0,), 5: (0,)},
}
"""Which amount channels (``a dm^r``) each kernel derivative meets, by order; the output
rows follow :data:`pystats.etas._soejet._LAYOUT` (channel 0 with every kernel row, channel
1 with the first three, channel 2 with the first)."""


def kernel_jets(x: torch.Tensor, p: float, order: int,
                mask: torch.Tensor | None = None) -> list[torch.Tensor]:
    """``x^-p`` and its derivatives in ``c`` and ``p`` (``x = t + c``): rows ``k, k_c, k_p``
    and, for ``order >= 2``, ``k_cc, k_cp, k_pp``; zero where ``mask`` (float) is."""
    lx = torch.log(x)
    base = torch.exp(lx * (-p))
    if mask is not None:
        base.mul_(mask)
    if order == 0:
        return [base]
    over_x = base / x
    out = [base, over_x * (-p), -lx * base]
    if order >= 2:
        out += [over_x / x * (p * (p + 1.0)), over_x * (lx * p - 1.0), lx * lx * base]
    return out


def _row_index(order: int) -> dict[tuple[int, int], int]:
    """Output row of (kernel row, channel), in the order of ``_soejet._LAYOUT``."""
    rows = {}
    n_k = {0: 1, 1: 3, 2: 6}[order]
    for ch in range(order + 1):
        for r in range(n_k if ch == 0 else (3 if ch == 1 and order == 2 else 1)):
            rows[(r, ch)] = len(rows)
    return rows


def pair_jets(ps: PairSet, c: float, p: float, amounts: torch.Tensor,
              order: int) -> torch.Tensor:
    """History sums ``Σ_i a_i dm_i^r x_ij^-p`` and their ``(c, p)`` derivatives, one pass.

    ``amounts``: ``(n_history, order + 1)``, column ``r`` holding ``a_i dm_i^r``.  Returns
    ``(rows, n_queries)`` in the row order of :func:`pystats.etas._soejet.soe_jets` (so the
    same autograd wrapper serves both): one ``log`` and one ``exp`` per pair for the value
    and the whole gradient (or Hessian), where reverse mode through :func:`pair_moment`
    makes four (or a dozen) passes, each with its own ``log`` and ``exp``.
    """
    index = _row_index(order)
    use = _KERNEL_CHANNELS[order]
    out = amounts.new_zeros(len(index), ps.tq.shape[0])
    for j0, j1, k0, k1, masked in ps._tiles():
        mask = None
        if ps.dense:
            x = ps._cache["dt"] + c
            mask = ps._cache["mask"]
        elif masked:
            dt = ps.tq[j0:j1, None] - ps.th[None, k0:k1]
            mask = (dt > 0).to(dt.dtype)
            x = dt.clamp_min_(0.0).add_(c)
        else:
            x = (ps.tq[j0:j1] + c)[:, None] - ps.th[None, k0:k1]
        kers = kernel_jets(x, p, order, mask)
        for r, chans in use.items():
            part = kers[r] @ amounts[k0:k1, : max(chans) + 1]  # (rows, channels)
            for ch in chans:
                out[index[(r, ch)], j0:j1] += part[:, ch]
    return out


@dataclass(frozen=True)
class PairProblem:
    """Exact pair sums for :func:`pystats.etas._soejet.soe_history` (same ``jets``)."""

    ps: PairSet
    dm: torch.Tensor  # M_i - M_ref per history event

    def jets(self, c: torch.Tensor, p: torch.Tensor, alpha: torch.Tensor,
             order: int) -> torch.Tensor:
        with torch.no_grad():
            cols = [torch.exp(float(alpha) * self.dm)]
            for _ in range(order):
                cols.append(cols[-1] * self.dm)
            return pair_jets(self.ps, float(c), float(p), torch.stack(cols, 1), order)
