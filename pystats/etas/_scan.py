"""Linear recursions over event times, vectorised, with their adjoints (internal).

For decay rates ``s_k`` and sorted distinct times ``u_0 < u_1 < ... < u_{G-1}`` the
history operator :math:`M_k` maps per-time amounts ``b`` to the decayed history strictly
before each time,

.. math:: (M_k b)_g = \\sum_{h < g} b_h e^{-s_k (u_g - u_h)},

computed by the recursion :math:`A_g = d_g (A_{g-1} + b_{g-1})` with
:math:`d_g = e^{-s_k (u_g - u_{g-1})} \\in [0, 1]`.  The recursion is evaluated with a
blocked Hillis–Steele parallel prefix scan of the affine maps ``y -> d y + beta``: every
multiplier is a product of numbers in ``[0, 1]``, so nothing overflows whatever the rates
and gaps (underflow to zero is the correct limit), and the work is
``O(K G log(block))`` vectorised torch operations instead of a Python loop over events.

Three bilinear maps built on :math:`M_k` are exposed as autograd functions whose backward
passes are again these maps, so gradients *and* Hessians (double backward) work while
memory stays ``O(chunk K × G)`` — no ``K × G`` tensor is kept for backward:

* ``soe_sum(w, b)   = Σ_k w_k M_k b``    (the history sum of the SOE kernel),
* ``soe_sum_t(w, z) = Σ_k w_k M_kᵀ z``   (its adjoint in ``b``),
* ``soe_pair(b, z)_k = zᵀ M_k b``        (its adjoint in ``w``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

_BLOCK = 64
_CHUNK_ELEMENTS = 1 << 19  # rates x times per chunk (4 MB per float64 array)


@dataclass(frozen=True)
class Timeline:
    """Distinct sorted times (as gaps) and the decay rates of the operators ``M_k``."""

    rates: torch.Tensor  # (K,)
    gaps: torch.Tensor  # (G,), gaps[0] unused (no predecessor)

    @property
    def n_times(self) -> int:
        return int(self.gaps.shape[0])

    def rate_chunks(self) -> list[slice]:
        k = int(self.rates.shape[0])
        step = max(1, _CHUNK_ELEMENTS // max(1, self.n_times))
        return [slice(i, min(k, i + step)) for i in range(0, k, step)]

    def decays(self, sl: slice) -> torch.Tensor:
        """``d[k, g] = exp(-s_k gap_g)`` for the rates in ``sl``; ``d[:, 0] = 0``."""
        d = torch.exp(-self.rates[sl, None] * self.gaps[None, :])
        d[:, 0] = 0.0
        return d


def _hillis_steele(d: torch.Tensor, y: torch.Tensor) -> None:
    """In-place inclusive scan of ``y_g = d_g y_{g-1} + y_g`` along the last axis.

    On return ``d`` holds the running products of the decays within the scanned axis.
    """
    n = y.shape[-1]
    off = 1
    while off < n:
        y_new = torch.addcmul(y[..., off:], d[..., off:], y[..., :-off])
        d_new = d[..., off:] * d[..., :-off]
        y[..., off:] = y_new
        d[..., off:] = d_new
        off *= 2


def affine_scan(d: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``y_g = d_g y_{g-1} + beta_g`` (``y_{-1} = 0``) along the last axis of ``(K, G)``.

    ``d`` and ``beta`` are consumed (modified in place).
    """
    k, g = beta.shape
    if g <= _BLOCK:
        _hillis_steele(d, beta)
        return beta
    nb = -(-g // _BLOCK)
    pad = nb * _BLOCK - g
    if pad:
        d = torch.cat([d, d.new_ones(k, pad)], dim=1)
        beta = torch.cat([beta, beta.new_zeros(k, pad)], dim=1)
    d3 = d.view(k, nb, _BLOCK)
    y3 = beta.view(k, nb, _BLOCK)
    _hillis_steele(d3, y3)
    # carry across blocks: state at the end of block b, then push it into block b + 1
    carry = affine_scan(d3[:, :, -1].clone(), y3[:, :, -1].clone())
    y3[:, 1:, :].addcmul_(d3[:, 1:, :], carry[:, :-1, None])
    return y3.reshape(k, nb * _BLOCK)[:, :g]


def _history(tl: Timeline, sl: slice, b: torch.Tensor) -> torch.Tensor:
    """``(M_k b)`` for the rates in ``sl``: shape ``(len, G)``."""
    d = tl.decays(sl)
    beta = torch.zeros_like(d)
    beta[:, 1:] = d[:, 1:] * b[None, :-1]
    return affine_scan(d, beta)


def _history_t(tl: Timeline, sl: slice, z: torch.Tensor) -> torch.Tensor:
    """``(M_kᵀ z)`` for the rates in ``sl``: a reverse-time scan, shape ``(len, G)``."""
    d = tl.decays(sl)
    # reversed recursion r_h = d_{h+1} (r_{h+1} + z_{h+1}); in reversed index m = G-1-h the
    # decay applied at step m is d_{G-m}.
    dr = torch.zeros_like(d)
    dr[:, 1:] = torch.flip(d, dims=[1])[:, :-1]
    zr = torch.flip(z, dims=[0])
    beta = torch.zeros_like(dr)
    beta[:, 1:] = dr[:, 1:] * zr[None, :-1]
    return torch.flip(affine_scan(dr, beta), dims=[1])


def _sum_forward(tl: Timeline, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = b.new_zeros(tl.n_times)
    for sl in tl.rate_chunks():
        out += w[sl] @ _history(tl, sl, b)
    return out


def _sum_t_forward(tl: Timeline, w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    out = z.new_zeros(tl.n_times)
    for sl in tl.rate_chunks():
        out += w[sl] @ _history_t(tl, sl, z)
    return out


def _pair_forward(tl: Timeline, b: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    out = b.new_empty(tl.rates.shape[0])
    for sl in tl.rate_chunks():
        out[sl] = _history(tl, sl, b) @ z
    return out


class _SoeSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, w: torch.Tensor, b: torch.Tensor, tl: Timeline) -> torch.Tensor:
        ctx.save_for_backward(w, b)
        ctx.tl = tl
        return _sum_forward(tl, w.detach(), b.detach())

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, Any, None]:
        w, b = ctx.saved_tensors
        gw = soe_pair(b, g, ctx.tl) if ctx.needs_input_grad[0] else None
        gb = soe_sum_t(w, g, ctx.tl) if ctx.needs_input_grad[1] else None
        return gw, gb, None


class _SoeSumT(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, w: torch.Tensor, z: torch.Tensor, tl: Timeline) -> torch.Tensor:
        ctx.save_for_backward(w, z)
        ctx.tl = tl
        return _sum_t_forward(tl, w.detach(), z.detach())

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, Any, None]:
        w, z = ctx.saved_tensors
        gw = soe_pair(g, z, ctx.tl) if ctx.needs_input_grad[0] else None
        gz = soe_sum(w, g, ctx.tl) if ctx.needs_input_grad[1] else None
        return gw, gz, None


class _SoePair(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, b: torch.Tensor, z: torch.Tensor, tl: Timeline) -> torch.Tensor:
        ctx.save_for_backward(b, z)
        ctx.tl = tl
        return _pair_forward(tl, b.detach(), z.detach())

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, Any, None]:
        b, z = ctx.saved_tensors
        gb = soe_sum_t(g, z, ctx.tl) if ctx.needs_input_grad[0] else None
        gz = soe_sum(g, b, ctx.tl) if ctx.needs_input_grad[1] else None
        return gb, gz, None


def soe_sum(w: torch.Tensor, b: torch.Tensor, tl: Timeline) -> torch.Tensor:
    """``Σ_k w_k (M_k b)``, shape ``(G,)``; differentiable in ``w`` and ``b`` (any order)."""
    return _SoeSum.apply(w, b, tl)


def soe_sum_t(w: torch.Tensor, z: torch.Tensor, tl: Timeline) -> torch.Tensor:
    """``Σ_k w_k (M_kᵀ z)``, shape ``(G,)``; differentiable in ``w`` and ``z``."""
    return _SoeSumT.apply(w, z, tl)


def soe_pair(b: torch.Tensor, z: torch.Tensor, tl: Timeline) -> torch.Tensor:
    """``zᵀ M_k b`` for every rate, shape ``(K,)``; differentiable in ``b`` and ``z``."""
    return _SoePair.apply(b, z, tl)
