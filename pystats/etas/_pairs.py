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
