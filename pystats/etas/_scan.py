"""Linear recursions over event times, vectorised, with their adjoints (internal).

For decay rates ``s_k`` and sorted distinct times ``u_0 < u_1 < ... < u_{G-1}`` the
history operator :math:`M_k` maps per-time amounts ``b`` to the decayed history strictly
before each time,

.. math:: (M_k b)_g = \\sum_{h < g} b_h e^{-s_k (u_g - u_h)},

computed by the recursion :math:`A_g = d_g (A_{g-1} + b_{g-1})` with
:math:`d_g = e^{-s_k (u_g - u_{g-1})} \\in [0, 1]`.  The recursion is evaluated block-wise
(:func:`affine_scan`): sequentially within blocks of 64 times, all blocks and rates at
once, then across blocks.  Every multiplier is a product of numbers in ``[0, 1]``, so
nothing overflows whatever the rates and gaps (underflow to zero is the correct limit),
and the work is ``O(K G)`` in place, with a Python loop of 64 steps instead of one over
events.

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
_CHUNK_ELEMENTS = 1 << 20  # rates x times per chunk (8 MiB per float64 array)


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

    def reversed(self) -> Timeline:
        """The time-reversed timeline: gap ``m`` of the reversal is ``gaps[G - m]``."""
        g = self.gaps
        return Timeline(rates=self.rates, gaps=torch.cat([g[:1], torch.flip(g, [0])[:-1]]))


def _to_blocks(v: torch.Tensor) -> torch.Tensor:
    """``(G,)`` -> ``(_BLOCK, n_blocks)``: element ``g`` at ``[g % _BLOCK, g // _BLOCK]``
    (zero-padded); consecutive times are consecutive rows, all blocks side by side."""
    g = v.shape[0]
    nb = -(-g // _BLOCK)
    if nb * _BLOCK > g:
        v = torch.cat([v, v.new_zeros(nb * _BLOCK - g)])
    # contiguous, so that arrays broadcast from it are laid out (position, rate, block)
    return v.view(nb, _BLOCK).t().contiguous()


def _from_blocks(v3: torch.Tensor, g: int) -> torch.Tensor:
    """Inverse of :func:`_to_blocks` for ``(_BLOCK, n_blocks)``."""
    return v3.t().reshape(-1)[:g]


def affine_scan(d: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``y_g = d_g y_{g-1} + beta_g`` (``y_{-1} = 0``) along the last axis of ``(K, G)``.

    ``d`` and ``beta`` are consumed (modified in place).  Used for the block carries
    (short sequences); the long scans go through :func:`_blocked_scan`.
    """
    k, g = beta.shape
    if g <= _BLOCK:
        for i in range(1, g):
            beta[:, i].addcmul_(d[:, i], beta[:, i - 1])
        return beta
    nb = -(-g // _BLOCK)
    pad = nb * _BLOCK - g
    if pad:
        d = torch.cat([d, d.new_ones(k, pad)], dim=1)
        beta = torch.cat([beta, beta.new_zeros(k, pad)], dim=1)
    d3 = d.view(k, nb, _BLOCK).permute(2, 0, 1).contiguous()
    y3 = beta.view(k, nb, _BLOCK).permute(2, 0, 1).contiguous()
    _blocked_scan(d3, y3)
    return y3.permute(1, 2, 0).reshape(k, nb * _BLOCK)[:, :g]


def _blocked_scan(d3: torch.Tensor, y3: torch.Tensor) -> None:
    """In place: the recursion ``y <- d y_prev + y`` over times laid out as
    ``(_BLOCK, K, n_blocks)`` (time ``g`` at ``[g % _BLOCK, :, g // _BLOCK]``).

    A Python loop over the position within a block runs the recursion on contiguous
    ``(K, n_blocks)`` slabs for all blocks at once (about 2 K G flops); the blocks are then
    joined by a scan over their end states, pushed into each block through the running
    products of its decays.  ``d3`` is consumed.
    """
    for i in range(1, _BLOCK):
        y3[i].addcmul_(d3[i], y3[i - 1])
    if y3.shape[2] == 1:
        return
    d3.cumprod_(0)  # decay from each block's start to every position in it
    carry = affine_scan(d3[-1].clone(), y3[-1].clone())  # state at the end of each block
    y3[:, :, 1:].addcmul_(d3[:, :, 1:], carry[None, :, :-1])


def _history(tl: Timeline, sl: slice, b: torch.Tensor) -> torch.Tensor:
    """``(M_k b)`` for the rates in ``sl``, in the block layout ``(_BLOCK, len, n_blocks)``."""
    gaps3 = _to_blocks(tl.gaps)
    d3 = torch.exp(tl.rates[sl][None, :, None] * (-gaps3[:, None, :]))
    d3[0, :, 0] = 0.0  # no predecessor for the first time
    b_prev = _to_blocks(torch.cat([b.new_zeros(1), b[:-1]]))
    y3 = d3 * b_prev[:, None, :]
    _blocked_scan(d3, y3)
    return y3


def _sum_forward(tl: Timeline, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out = None
    for sl in tl.rate_chunks():
        part = torch.matmul(w[sl], _history(tl, sl, b))  # (B, K, nb) -> (B, nb), no copy
        out = part if out is None else out + part
    return _from_blocks(out, tl.n_times) if out is not None else b.new_zeros(tl.n_times)


def _sum_t_forward(tl: Timeline, w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    # M_k^T z is the forward recursion on the time-reversed timeline, reversed back
    return torch.flip(_sum_forward(tl.reversed(), w, torch.flip(z, [0])), [0])


def _pair_forward(tl: Timeline, b: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    out = b.new_empty(tl.rates.shape[0])
    z3 = _to_blocks(z)
    for sl in tl.rate_chunks():
        out[sl] = torch.matmul(_history(tl, sl, b), z3[:, :, None]).sum(dim=(0, 2))
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
