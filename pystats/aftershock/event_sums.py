"""Weighted sums of the latent function over the events, ``Σ_i ω_i f(s_i)``, for many draws.

The derived parameters ``mu_0`` and ``mu_slope`` (model card §2) need, for every parameter
draw, ``Σ_i f(s_i)`` and ``Σ_i (s_i − s̄) f(s_i)`` over all ``N`` events.  Evaluating ``f`` at
every event costs ``O(N)`` per draw: 4 000 draws of a 1e5-event fit took ~22 s.  The sums are
linear in the latent coefficients, so :class:`EventSums` reduces the data once per fit to
``O(m)``-sized summaries and then costs ``O(m²)`` per draw, whatever ``N``:

* ``"rw2"``: ``f = τ R T z`` with ``R`` the (data-only) linear interpolation matrix, so
  ``Σ_i ω_i f(s_i) = τ (ωᵀ R T) z``: exact, one dot product per draw.
* ``"gp"`` with a Matérn kernel: ``f = α K₁(s, Z; ℓ) v`` with ``v = L₁^{-T} z``
  (:func:`~pystats.aftershock.latent.gp_f`), so the sum is ``α aᵀ v`` with
  ``a_j(ℓ) = Σ_i ω_i k₁(|s_i − Z_j| / ℓ)``, which depends on the draw's length-scale.  The
  events are grouped in bins (each gap between inducing inputs cut in :data:`SUB_BINS`
  equal parts; ``Z`` only at bin edges), with centre ``γ_b`` and half-width ``ρ_b``.  For an
  event ``s = γ_b + ρ_b η`` (``|η| <= 1``) and ``u = |γ_b − Z_j|``, ``σ = sign(γ_b − Z_j)``,
  ``|s − Z_j| = u + σ ρ_b η`` exactly; a Matérn kernel is ``poly(c r) e^{−c r}``
  (``c = √5/ℓ`` or ``√3/ℓ``), so with ``y = c u``, ``τ = c ρ_b``

  ``Σ_{i∈b} ω_i k₁ = e^{−y} [A₀(y) E₀ + σ τ A₁(y) E₁ + τ² A₂ E₂]``,
  ``E_p = Σ_{i∈b} ω_i η_i^p e^{−σ τ η_i} = Σ_n (−σ τ)^n / n! M_{b, p+n}``

  with the data-only moments ``M_{b,q} = Σ_{i∈b} ω_i η_i^q`` (``A₀ = 1 + y + y²/3``,
  ``A₁ = 1 + 2y/3``, ``A₂ = 1/3`` for Matérn 5/2; ``1 + y``, ``1``, ``0`` for 3/2).  The
  series is truncated after ``T`` terms chosen per block of draws so that the remainder,
  relative to each event's term, is below ``2^-56`` (bound
  ``τ^{T+1}/(T+1)! · e^{2τ} · (1 + 2τ + 4τ²/3)``); draws with ``τ > TAU_MAX`` (a
  length-scale under about a quarter of the bin width, far in the prior's tail) and the
  RBF kernel take the direct ``O(N)`` evaluation.  Results equal the direct evaluation to
  rounding (tested against a dense reference).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .latent import _SEPARABLE, latent_f, rw2_matrix, whitened_coefficients

__all__ = ["SUB_BINS", "TAU_MAX", "EventSums", "series_terms"]

SUB_BINS = 1
"""Bins per gap between consecutive inducing inputs (``τ = c ρ_b`` halves with each doubling;
one bin: the least work per draw, ``τ <= 0.56`` for length-scales above the prior's 1 %
quantile ``2 (s1 − s0)/m``, ~16 terms)."""
TAU_MAX = 2.0
"""Largest ``τ = c ρ_b`` summed by the series (rounding of its terms grows like ``e^{2τ}``:
``~1e-14`` relative at 2); draws beyond it take the direct evaluation."""
_TERMS_MAX = 40
_TOL = 2.0 ** -56


def series_terms(tau: float) -> int:
    """Smallest ``T`` with ``τ^{T+1}/(T+1)! · e^{2τ} (1 + 2τ + 4τ²/3) <= 2^-56``: the
    truncation error of ``E_p`` relative to each event's term (the Taylor remainder of
    ``e^{−στη}``, ``|η| <= 1``, is at most ``τ^{T+1}/(T+1)! e^τ``, the term at least
    ``e^{−τ}``, and the kernel polynomial's coefficients at most ``poly(y + τ) <=
    poly(y − τ) (1 + 2τ + 4τ²/3)``)."""
    if tau <= 0.0:
        return 0
    factor = math.exp(2.0 * tau) * (1.0 + 2.0 * tau + 4.0 * tau * tau / 3.0)
    term = factor
    for t in range(_TERMS_MAX + 1):
        term *= tau / (t + 1)  # τ^{t+1}/(t+1)! · factor
        if term <= _TOL:
            return t
    raise ValueError(f"tau={tau!r} needs more than {_TERMS_MAX} terms; use tau <= {TAU_MAX}")


class EventSums:
    """``Σ_i ω_{w,i} f(x_i)`` per parameter draw, for data points ``x`` and weight rows ``ω``.

    Parameters
    ----------
    x : array_like
        ``(n,)`` points (log times of the events).
    weights : array_like
        ``(W, n)`` weights.
    latent_x : array_like
        ``(m,)`` increasing inducing inputs (``"gp"``) or equally spaced nodes (``"rw2"``).
    prior : {"gp", "rw2"}
    kernel : {"matern52", "matern32", "rbf"}
    jitter : float
        Relative diagonal jitter of ``K_ZZ``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from pystats.aftershock.event_sums import EventSums
    >>> from pystats.aftershock.latent import gp_f
    >>> x, zx = np.linspace(0.0, 1.0, 50), np.linspace(0.0, 1.0, 6)
    >>> sums = EventSums(x, np.ones((1, 50)), zx, "gp", "matern52", 1e-6)
    >>> prm = {"z": np.ones((1, 6)), "gp_amplitude": np.full((1, 1), 0.5),
    ...        "gp_lengthscale": np.full((1, 1), 0.3)}
    >>> t = lambda a: torch.as_tensor(np.asarray(a, dtype=float))
    >>> f = gp_f(t(x), t(prm["z"][0]), t(0.5), t(0.3), t(zx), "matern52", 1e-6)
    >>> bool(abs(sums(prm)[0, 0] - float(f.sum())) < 1e-12)  # Σ_i f(x_i)
    True
    """

    def __init__(self, x: Any, weights: Any, latent_x: Any, prior: str, kernel: str,
                 jitter: float) -> None:
        self.x = np.array(x, dtype=float)  # copies: the data arrays are read-only
        self.weights = np.atleast_2d(np.asarray(weights, dtype=float))
        self.latent_x = np.array(latent_x, dtype=float)
        self.prior, self.kernel, self.jitter = prior, kernel, float(jitter)
        if prior == "rw2":
            self._rw2_rows = self._rw2_setup()
        elif kernel in _SEPARABLE and np.all(np.diff(self.latent_x) > 0):
            self._bins_setup()
        self.series = prior == "gp" and kernel in _SEPARABLE and hasattr(self, "_half")

    # ------------------------------------------------------------------ set-up (data only)
    def _rw2_setup(self) -> np.ndarray:
        """``ωᵀ R T``, ``(W, J − 2)``: ``R`` the interpolation of :func:`rw2_f`."""
        z = self.latent_x
        n_nodes = z.size
        pos = (self.x - z[0]) / (z[1] - z[0])
        idx = np.clip(np.floor(pos), 0, n_nodes - 2).astype(int)
        w = pos - idx
        rows = np.zeros((self.weights.shape[0], n_nodes))
        for k in range(rows.shape[0]):
            rows[k] = (np.bincount(idx, self.weights[k] * (1.0 - w), n_nodes)
                       + np.bincount(idx + 1, self.weights[k] * w, n_nodes))
        return rows @ rw2_matrix(n_nodes)

    def _bins_setup(self) -> None:
        """Bins, their centres and half-widths, the scaled offsets ``η`` and the geometry
        ``u_{bj}``, ``σ_{bj}`` (module docstring); moments on demand (:meth:`_moments`)."""
        x, z = self.x, self.latent_x
        knots = np.unique(np.concatenate([z, [x.min(), x.max()]]))
        if knots.size < 2:  # all points on one inducing input: a zero-width bin
            knots = np.array([knots[0], knots[0] + 1.0])
        frac = np.arange(SUB_BINS) / SUB_BINS
        edges = np.append((knots[:-1, None] + np.diff(knots)[:, None] * frac).ravel(),
                          knots[-1])
        b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
        order = np.argsort(b, kind="stable")
        b = b[order]
        used, starts = np.unique(b, return_index=True)
        centre = 0.5 * (edges[used] + edges[used + 1])
        half = 0.5 * (edges[used + 1] - edges[used])
        slot = np.repeat(np.arange(used.size), np.diff(np.append(starts, b.size)))
        self._eta = np.clip((x[order] - centre[slot]) / half[slot], -1.0, 1.0)
        self._sorted_weights = self.weights[:, order]
        self._starts = starts
        self._moment_cache = np.zeros((self.weights.shape[0], used.size, 0))
        self._half = half  # (B,)
        diff = centre[:, None] - z[None, :]
        self._u = np.abs(diff)  # (B, m), >= half: Z only at bin edges
        plus = diff > 0  # σ_bj = +1 (Z_j left of the bin)
        n_pow = 3 if self.kernel == "matern52" else 2
        # [σ_bj = σ] u_bj^q for σ = +1, −1 and q < n_pow: (2 n_pow, B, m)
        self._u_powers = np.stack([np.where(mask, self._u ** q, 0.0)
                                   for mask in (plus, ~plus) for q in range(n_pow)])

    def _moments(self, n_q: int) -> np.ndarray:
        """``M_{w,b,q} = Σ_{i∈b} ω_{w,i} η_i^q`` for ``q < n_q``, ``(W, B, n_q)``."""
        if self._moment_cache.shape[-1] < n_q:
            out = np.empty((*self._moment_cache.shape[:2], n_q))
            term = self._sorted_weights.copy()
            for q in range(n_q):
                out[:, :, q] = np.add.reduceat(term, self._starts, axis=1)
                term *= self._eta
            self._moment_cache = out
        return self._moment_cache[..., :n_q]

    # ------------------------------------------------------------------ per draw
    def __call__(self, params: dict[str, Any], chunk: int = 256) -> np.ndarray:
        """The sums per draw, ``(rows, W)``; ``params`` (numpy, leading axis = draws): ``z``
        and ``gp_amplitude``, ``gp_lengthscale`` (``"gp"``) or ``rw_scale`` (``"rw2"``),
        the hyperparameters with a trailing axis of size 1."""
        z = np.asarray(params["z"], dtype=float)
        if self.prior == "rw2":
            tau = np.asarray(params["rw_scale"], dtype=float)[..., 0]
            return tau[:, None] * (z @ self._rw2_rows.T)
        rows = z.shape[0]
        out = np.empty((rows, self.weights.shape[0]))
        amp = np.asarray(params["gp_amplitude"], dtype=float)[..., 0]
        ell = np.asarray(params["gp_lengthscale"], dtype=float)[..., 0]
        for i in range(0, rows, chunk):
            sl = slice(i, i + chunk)
            out[sl] = self._gp_block(z[sl], amp[sl], ell[sl])
        return out

    def _gp_block(self, z: np.ndarray, amp: np.ndarray, ell: np.ndarray) -> np.ndarray:
        import torch

        out = np.full((z.shape[0], self.weights.shape[0]), np.nan)
        if self.series:
            c = _SEPARABLE[self.kernel] / ell
            with np.errstate(invalid="ignore", over="ignore"):
                ok = np.isfinite(c) & (c * self._half.max() <= TAU_MAX)
        else:
            ok = np.zeros(z.shape[0], dtype=bool)
        if ok.any():
            zt = torch.as_tensor(z[ok])
            with torch.no_grad():
                v = whitened_coefficients(zt, torch.as_tensor(ell[ok]),
                                          torch.as_tensor(self.latent_x), self.kernel,
                                          self.jitter)[..., 0].numpy()  # (d, m)
            a = self._series(c[ok])  # (d, W, m)
            out[ok] = amp[ok, None] * np.einsum("dwm,dm->dw", a, v)
        if not ok.all():
            out[~ok] = self._direct(z[~ok], amp[~ok], ell[~ok])
        return out

    def _series(self, c: np.ndarray) -> np.ndarray:
        """``a_{w,j}(c) = Σ_i ω_{w,i} k₁(|x_i − Z_j|)``, ``(d, W, m)``."""
        tau = c[:, None] * self._half[None, :]  # (d, B)
        n_t = series_terms(float(tau.max())) + 1
        # τ^n / n! by a running product, then (−σ τ)^n / n! for σ = +1 and −1: (B, 2d, T)
        steps = np.concatenate([np.ones((*tau.shape, 1)),
                                tau[..., None] / np.arange(1, n_t)], -1)
        pos = np.cumprod(steps, -1)
        alt = pos * np.where(np.arange(n_t) % 2 == 1, -1.0, 1.0)
        coef = np.concatenate([alt, pos], 0).transpose(1, 0, 2)  # σ = +1: e^{−τη}; −1: e^{+τη}
        mom = self._moments(n_t + 2)  # (W, B, Q)
        shifted = np.stack([mom[..., p:p + n_t] for p in range(3)], 1)  # (W, 3, B, T)
        hankel = shifted.transpose(2, 3, 0, 1).reshape(tau.shape[1], n_t, -1)  # (B, T, 3W)
        e = np.matmul(coef, hankel)  # (B, 2d, W·3): E_p for σ = +1 (first d rows), −1
        n_b, n_d, n_w = tau.shape[1], tau.shape[0], self.weights.shape[0]
        e = e.reshape(n_b, 2, n_d, n_w, 3).transpose(1, 4, 2, 3, 0)  # (2, 3, d, W, B)
        # poly(y + στη) = A₀ + A₁ στη + A₂ (τη)², A's polynomials in y = c u: regroup by
        # powers of u, Σ_q F_q u^q, with F_q^σ from the E's (d, W, B)
        st = np.stack([tau, -tau])[:, :, None, :]  # (2, d, 1, B): στ
        cc = c[:, None, None]
        e0, e1, e2 = e[:, 0], e[:, 1], e[:, 2]  # (2, d, W, B)
        if self.kernel == "matern52":  # A₀ = 1 + y + y²/3, A₁ = 1 + 2y/3, A₂ = 1/3
            f = [e0 + st * e1 + (st * st / 3.0) * e2, cc * (e0 + (2.0 / 3.0) * st * e1),
                 (cc * cc / 3.0) * e0]
        else:  # matern32: A₀ = 1 + y, A₁ = 1
            f = [e0 + st * e1, cc * e0]
        f_all = np.stack(f, 1).transpose(2, 3, 0, 1, 4).reshape(n_d, n_w, -1)  # (d, W, 2QB)
        ey = np.exp(-(c[:, None, None] * self._u[None]))  # (d, B, m)
        g = (ey[:, None] * self._u_powers[None]).reshape(n_d, -1, ey.shape[-1])  # (d, 2QB, m)
        return np.matmul(f_all, g)  # (d, W, m)

    def _direct(self, z: np.ndarray, amp: np.ndarray, ell: np.ndarray) -> np.ndarray:
        """The sums from ``f`` evaluated at every point (:func:`latent_f`)."""
        import torch

        xt = torch.as_tensor(self.x)
        tensors = {"latent_x": torch.as_tensor(self.latent_x), "jitter": self.jitter}
        out = np.empty((z.shape[0], self.weights.shape[0]))
        step = max(1, 2_000_000 // (self.x.size * self.latent_x.size))
        with torch.no_grad():
            for i in range(0, z.shape[0], step):
                sl = slice(i, i + step)
                prm = {"z": torch.as_tensor(z[sl]),
                       "gp_amplitude": torch.as_tensor(amp[sl])[:, None],
                       "gp_lengthscale": torch.as_tensor(ell[sl])[:, None]}
                f = latent_f(xt, prm, tensors, self.prior, self.kernel).numpy()
                out[sl] = f @ self.weights.T
        return out
