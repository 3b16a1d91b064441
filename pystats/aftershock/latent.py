"""The latent detection magnitude ``μ(t)``: inducing-point GP or second-order random walk.

``μ(s) = mu_0 + mu_slope (s − s1) + f(s)`` over ``s = log t`` (days), with ``f`` one of

* ``"gp"``: a subset-of-regressors Gaussian process (Quiñonero-Candela & Rasmussen 2005):
  inducing inputs ``Z`` (``m`` equally spaced points on ``[s0, s1]``), whitened
  coefficients ``z ~ N(0, I_m)``, ``L = chol(K_ZZ + jitter α² I)`` and
  ``f(s) = k(s, Z) L^{-T} z``, so ``u = f(Z)``-ish values ``L z ~ N(0, K_ZZ)`` and ``f`` is
  the Nyström (degenerate) GP.  The kernels are GPyTorch's ``MaternKernel(nu=2.5|1.5)`` and
  ``RBFKernel`` with their own length-scale fixed at 1, evaluated at inputs divided by
  ``ℓ`` (so autograd reaches ``ℓ``) and multiplied by ``α²``.  One evaluation costs
  ``O((N + Q) m + m³)``, or ``O(N + Q + m³)`` for the Matérn kernels, whose
  ``k(x, Z) v`` separates into two exponentials per point (:func:`separable_matvec`).
* ``"rw2"``: Omi et al.'s (2013) second-order random walk on nodes ``g_1..g_J``:
  ``f_1 = f_2 = 0``, ``f_j = 2 f_{j−1} − f_{j−2} + τ z_{j−2}`` (``z ~ N(0, I_{J−2})``),
  i.e. ``f = τ T z`` with ``T[j, k] = j − 1 − k`` for ``k <= j − 2`` (0-based), and ``f``
  linear between nodes.

All functions take torch tensors, keep the device and dtype of their inputs, and broadcast
over leading batch axes of the parameters (one row per parameter draw).

References
----------
Omi, T., Ogata, Y., Hirata, Y., & Aihara, K. (2013). Forecasting large aftershocks within
one day after the main shock. *Scientific Reports*, 3, 2218.

Quiñonero-Candela, J., & Rasmussen, C. E. (2005). A unifying view of sparse approximate
Gaussian process regression. *Journal of Machine Learning Research*, 6, 1939–1959.

Gardner, J. R., Pleiss, G., Bindel, D., Weinberger, K. Q., & Wilson, A. G. (2018).
GPyTorch: Blackbox matrix-matrix Gaussian process inference with GPU acceleration.
*Advances in Neural Information Processing Systems*, 31.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

__all__ = ["KERNELS", "PRIORS", "gp_f", "kernel_matrix", "latent_f", "mu_values", "rw2_f",
           "rw2_matrix", "separable_matvec", "unit_kernel_of_distance"]

KERNELS = ("matern52", "matern32", "rbf")
"""Kernel names; their 1-based position is the Stan data ``kernel``."""
PRIORS = ("gp", "rw2")
"""``mu_prior`` names; their 1-based position is the Stan data ``prior``."""


@functools.cache
def _gpytorch_kernel(name: str) -> Any:
    """A GPyTorch kernel module with unit length-scale, no trainable parameters, float64."""
    import gpytorch

    if name == "rbf":
        k = gpytorch.kernels.RBFKernel()
    else:
        k = gpytorch.kernels.MaternKernel(nu={"matern52": 2.5, "matern32": 1.5}[name])
    k = k.double()
    k.lengthscale = 1.0
    for prm in k.parameters():
        prm.requires_grad_(False)
    return k.eval()


@functools.cache
def _kernel_on(name: str, device: Any) -> Any:
    """The kernel module on ``device`` (its unit length-scale must live with the inputs)."""
    import copy

    return copy.deepcopy(_gpytorch_kernel(name)).to(device)


def kernel_matrix(x1: Any, x2: Any, kernel: str, amplitude: Any, lengthscale: Any) -> Any:
    """``α² k(|x1 − x2| / ℓ)`` with GPyTorch's kernel (``x1`` ``(*b, n)``, ``x2`` ``(*b, m)``).

    ``amplitude`` and ``lengthscale`` have the batch shape ``b`` (or are 0-d); the result
    has shape ``(*b, n, m)``.

    Examples
    --------
    >>> import torch
    >>> from pystats.aftershock.latent import kernel_matrix
    >>> x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> k = kernel_matrix(x, x, "rbf", torch.tensor(2.0), torch.tensor(1.0))
    >>> [round(float(v), 6) for v in k[0]]  # 4 exp(-1/2) off the diagonal
    [4.0, 2.426123]
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel={kernel!r}; use one of {', '.join(KERNELS)}")
    k = _kernel_on(kernel, x1.device)
    ell = lengthscale[..., None, None]
    a = x1[..., :, None] / ell
    b = x2[..., :, None] / ell
    if a.dim() != b.dim():
        a, b = (a, b.expand(*a.shape[:-2], *b.shape[-2:])) if a.dim() > b.dim() else (
            a.expand(*b.shape[:-2], *a.shape[-2:]), b)
    if a.shape[:-2] != b.shape[:-2]:
        shape = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        a = a.expand(*shape, *a.shape[-2:])
        b = b.expand(*shape, *b.shape[-2:])
    return k.forward(a, b) * (amplitude[..., None, None] ** 2)


_SQRT5, _SQRT3 = math.sqrt(5.0), math.sqrt(3.0)


def unit_kernel_of_distance(dist: Any, lengthscale: Any, kernel: str) -> Any:
    """``k(|x − x'| / ℓ)`` at unit amplitude from the distances ``|x − x'|`` (the hot path).

    The same functions as GPyTorch's ``MaternKernel(nu=2.5|1.5)`` and ``RBFKernel``
    (:func:`kernel_matrix`, the definition; equality of values and of the gradient in
    ``ℓ`` is tested), written with a few elementwise operations on the ``(n, m)``
    distance matrix: GPyTorch re-centres the inputs, forms ``cdist``, compares the inputs
    and clamps on every call, and its backward passes go through ``cdist``, which made the
    kernel ~2/3 of a log-density evaluation at 1e5 events.

    Parameters
    ----------
    dist : torch.Tensor
        ``(n, m)`` distances (data: no gradient needed).
    lengthscale : torch.Tensor
        Shape ``b`` (or 0-d).
    kernel : {"matern52", "matern32", "rbf"}

    Returns
    -------
    torch.Tensor
        ``(*b, n, m)``.
    """
    import torch

    inv = 1.0 / lengthscale[..., None, None]
    if kernel == "matern52":
        na = dist * (-_SQRT5 * inv)  # −a: (1 + a + a²/3) e^{−a}
        return (1.0 + na * (na * (1.0 / 3.0) - 1.0)) * torch.exp(na)
    if kernel == "matern32":
        na = dist * (-_SQRT3 * inv)  # −a: (1 + a) e^{−a}
        return (1.0 - na) * torch.exp(na)
    if kernel == "rbf":
        return torch.exp((dist * dist) * (-0.5 * inv * inv))
    raise ValueError(f"kernel={kernel!r}; use one of {', '.join(KERNELS)}")


def gp_f(x: Any, z: Any, amplitude: Any, lengthscale: Any, latent_x: Any, kernel: str,
         jitter: float) -> Any:
    """``f(x) = k(x, Z) L^{-T} z`` with ``L = chol(K_ZZ + jitter α² I)``; shape ``(*b, n)``.

    Computed at unit amplitude: with ``K = α² K₁``, ``L = α L₁`` (``L₁ = chol(K₁ + jitter
    I)``) and ``f = α K₁(x, Z) L₁^{-T} z`` — the amplitude scales an ``n``-vector, not the
    ``(n, m)`` matrix; the kernels are :func:`unit_kernel_of_distance`.  For the Matérn
    kernels ``K₁(x, Z) v`` is :func:`separable_matvec` (``O(n + m²)``, the same function),
    else the dense ``(n, m)`` matrix times ``v``.
    """

    v = whitened_coefficients(z, lengthscale, latent_x, kernel, jitter)
    if use_separable(x, latent_x, kernel):
        kxz_v = separable_matvec(x, latent_x, v[..., 0], lengthscale, kernel)
    else:
        d_xz = (x[..., :, None] - latent_x).abs()
        kxz_v = (unit_kernel_of_distance(d_xz, lengthscale, kernel) @ v)[..., 0]
    return amplitude[..., None] * kxz_v


def whitened_coefficients(z: Any, lengthscale: Any, latent_x: Any, kernel: str,
                          jitter: float) -> Any:
    """``v = L₁^{-T} z`` with ``L₁ = chol(K₁(Z, Z) + jitter I)`` (unit amplitude), shape
    ``(*b, m, 1)``: ``f(x) = α K₁(x, Z) v`` (:func:`gp_f`)."""
    import torch

    d_zz = (latent_x[:, None] - latent_x[None, :]).abs()
    kzz = unit_kernel_of_distance(d_zz, lengthscale, kernel)
    eye = torch.eye(latent_x.shape[-1], dtype=kzz.dtype, device=kzz.device)
    # cholesky_ex: a length-scale the kernel cannot use (0 or inf after a transform overflowed,
    # e.g. while a prior is swept over a wide grid) makes only its own batch row NaN
    chol, info = torch.linalg.cholesky_ex(kzz + jitter * eye)
    if bool((info != 0).any()):
        chol = torch.where((info != 0)[..., None, None], torch.nan, chol)
    # L1^{-T} z: solve L1^T v = z
    return torch.linalg.solve_triangular(chol.transpose(-1, -2), z[..., :, None], upper=True)


def use_separable(x: Any, latent_x: Any, kernel: str) -> bool:
    """Whether :func:`gp_f` takes :func:`separable_matvec`: a Matérn kernel, 1-d points and
    increasing inducing inputs (else the dense ``(n, m)`` kernel matrix).

    Measured (torch CPU, one thread, Miyagi day 1: 879 points, m = 24): value + gradient
    ~1 ms slower than the dense matrix (more, smaller operations), the 33 x 33 Hessian
    2.4x and 1 000 batched evaluations 6x faster; at 1e5 events value + gradient 2.2x faster.
    """
    if kernel not in _SEPARABLE or x.dim() != 1 or latent_x.dim() != 1:
        return False
    return bool((latent_x[1:] > latent_x[:-1]).all())


_SEPARABLE = {"matern52": _SQRT5, "matern32": _SQRT3}


def separable_matvec(x: Any, latent_x: Any, v: Any, lengthscale: Any, kernel: str) -> Any:
    """``K₁(x, Z) v`` for a Matérn kernel in ``O(n + m²)`` instead of ``O(n m)``.

    With ``a = c |x − Z_j|`` (``c = √5/ℓ`` or ``√3/ℓ``) a Matérn 5/2 or 3/2 kernel is a
    polynomial in ``a`` times ``e^{−a}``, and ``e^{−c(δ + D)} = e^{−cδ} e^{−cD}``.  For
    ``x`` between ``Z_k <= x < Z_{k+1}`` (``Z`` increasing), write ``x − Z_j = δ_L + (Z_k −
    Z_j)`` for ``j <= k`` and ``Z_j − x = δ_R + (Z_j − Z_{k+1})`` for ``j >= k + 1``
    (``δ_L = x − Z_k >= 0``, ``δ_R = Z_{k+1} − x >= 0``); then

    ``Σ_j k(|x − Z_j|) v_j = e^{−cδ_L} Σ_r δ_L^r P_r[k] + e^{−cδ_R} Σ_r δ_R^r Q_r[k + 1]``

    with ``P_r = tril(w_r(D) e^{−cD}) v`` and ``Q_r = triu(w_r(D) e^{−cD}) v`` built from the
    ``m x m`` distances ``D = |Z_k − Z_j|`` (:func:`_separable_coefficients`).  The same
    function as the dense ``unit_kernel_of_distance(|x − Z|, ℓ) @ v`` (the GPyTorch kernel),
    equal to rounding (tested, value and gradients), but each point costs two
    exponentials instead of ``m``: a 1e5-event likelihood, and the 1 000 batched
    evaluations of the Laplace approximation's Pareto-k diagnostic, no longer form an
    ``(n, m)`` matrix per parameter row.  All exponents are ``<= 0`` (no overflow).

    Parameters
    ----------
    x : torch.Tensor
        ``(n,)`` points (data).
    latent_x : torch.Tensor
        ``(m,)`` increasing inducing inputs.
    v : torch.Tensor
        ``(*b, m)`` coefficients.
    lengthscale : torch.Tensor
        Shape ``b`` (or 0-d).
    kernel : {"matern52", "matern32"}

    Returns
    -------
    torch.Tensor
        ``(*b, n)``.
    """
    import torch

    geo = _geometry(x, latent_x)
    c = _SEPARABLE[kernel] / lengthscale  # (*b)
    cc = c[..., None, None, None]
    e = torch.exp(geo["dist"] * -cc) * geo["powers"]  # (*b, 3, 2m, m): D^r e^{-cD}, masked
    s_r = (e @ v[..., None, :, None]).flatten(-3)  # (*b, 3 * 2m)
    # (*b, 3, 2n): left then right sums at each point; one flat gather (its backward is a
    # 1-d index_add) and unbind (no zero-filled gradient buffers, unlike slicing)
    s0, s1, s2 = s_r.index_select(-1, geo["flat_index"]).unflatten(-1, (3, -1)).unbind(-2)
    d = geo["delta"]  # (2n,)
    c1 = c[..., None]
    cd = c1 * d
    if kernel == "matern52":
        # Σ_j (1 + a + a²/3) e^{-a} v_j with a = c (δ + D_j), expanded in powers of D_j
        k3 = c1 * (1.0 / 3.0)
        total = (s0 * (1.0 + cd * (1.0 + cd * (1.0 / 3.0)))
                 + (c1 * s1) * (1.0 + cd * (2.0 / 3.0)) + (c1 * k3) * s2)
    else:  # matern32: (1 + a) e^{-a}
        total = s0 * (1.0 + cd) + c1 * s1
    total = total * (torch.exp(-cd) * geo["valid"])
    return total.unflatten(-1, (2, -1)).sum(-2)


_GEOMETRY: dict[tuple[int, int], tuple[Any, Any, int, int, dict[str, Any]]] = {}


def _geometry(x: Any, latent_x: Any) -> dict[str, Any]:
    """Data-only pieces of :func:`separable_matvec` for ``(x, latent_x)``, cached while
    both tensors are alive and unmodified (the log density evaluates the same data tensors
    thousands of times).

    ``flat_index`` (``3 x 2n``, flattened): for each power ``r`` and point the entry of its
    left sums (``k``, among the first ``m``) then of its right sums (``m + k + 1``) in the
    flattened ``(3, 2m)`` sums; ``delta`` (``2n``): ``δ_L`` then
    ``δ_R``; ``valid``: 0 where a point has no inducing input on that side; ``dist``
    ``(2m, m)``: ``|Z_k − Z_j|`` twice; ``powers`` ``(3, 2m, m)``: ``D^r`` (r = 0, 1, 2)
    masked to ``j <= k`` (first ``m`` rows) and ``j >= k`` (last ``m`` rows).
    """
    import weakref

    import torch

    key = (id(x), id(latent_x))
    hit = _GEOMETRY.get(key)
    if (hit is not None and hit[0]() is x and hit[1]() is latent_x
            and hit[2] == x._version and hit[3] == latent_x._version):
        return hit[4]
    m = latent_x.shape[-1]
    with torch.no_grad():
        xd, z = x.detach(), latent_x.detach()
        k = torch.searchsorted(z, xd, right=True) - 1  # Z_k <= x < Z_{k+1}; -1 .. m-1
        kl, kr = k.clamp(min=0), (k + 1).clamp(max=m - 1)
        dl = (xd - z[kl]).clamp(min=0.0)
        dr = (z[kr] - xd).clamp(min=0.0)
        dist = (z[:, None] - z[None, :]).abs()
        lower = torch.ones(m, m, dtype=torch.bool, device=x.device).tril()
        mask = torch.cat([lower, lower.T], 0).to(x.dtype)
        dist2 = torch.cat([dist, dist], 0)
        geo = {
            "flat_index": (torch.cat([kl, m + kr])
                           + 2 * m * torch.arange(3, device=x.device)[:, None]).flatten(),
            "delta": torch.cat([torch.where(k >= 0, dl, 0.0), torch.where(k + 1 < m, dr, 0.0)]),
            "valid": torch.cat([(k >= 0), (k + 1 < m)]).to(x.dtype),
            "dist": dist2,
            "powers": torch.stack([mask, mask * dist2, mask * dist2 * dist2]),
        }
    for stale in [k for k, v in _GEOMETRY.items() if v[0]() is None or v[1]() is None]:
        del _GEOMETRY[stale]  # data tensors gone: free their geometry
    if len(_GEOMETRY) > 16:
        _GEOMETRY.clear()
    _GEOMETRY[key] = (weakref.ref(x), weakref.ref(latent_x), x._version, latent_x._version,
                      geo)
    return geo


def rw2_matrix(n_nodes: int) -> np.ndarray:
    """``T`` with ``f = τ T z`` for the RW2 recursion (``(J, J − 2)``, 0-based
    ``T[j, k] = j − 1 − k`` for ``k <= j − 2``, else 0)."""
    j = np.arange(n_nodes)[:, None]
    k = np.arange(n_nodes - 2)[None, :]
    return np.where(k <= j - 2, j - 1 - k, 0).astype(float)


def rw2_f(x: Any, z: Any, rw_scale: Any, latent_x: Any) -> Any:
    """RW2 node values ``τ T z`` interpolated linearly at ``x``; shape ``(*b, n)``.

    Outside ``[g_1, g_J]`` the end segments are extended linearly (only at the window's
    ends, where ``x`` equals a node up to rounding).
    """
    import torch

    n_nodes = latent_x.shape[-1]
    tmat = torch.as_tensor(rw2_matrix(n_nodes), dtype=z.dtype, device=z.device)
    nodes = rw_scale[..., None] * (z @ tmat.T)  # (*b, J)
    g0 = latent_x[0]
    h = latent_x[1] - latent_x[0]
    pos = (x - g0) / h
    idx = torch.clamp(torch.floor(pos), 0, n_nodes - 2).long()
    w = pos - idx.to(pos.dtype)
    lo = torch.index_select(nodes, -1, idx)
    hi = torch.index_select(nodes, -1, idx + 1)
    return lo + w * (hi - lo)


def latent_f(x: Any, params: dict[str, Any], tensors: dict[str, Any], prior: str,
             kernel: str) -> Any:
    """``f(x)`` for the prior ``"gp"`` or ``"rw2"`` (parameters as in ``parameters()``)."""
    z = params["z"]
    if prior == "gp":
        return gp_f(x, z, params["gp_amplitude"][..., 0], params["gp_lengthscale"][..., 0],
                    tensors["latent_x"], kernel, float(tensors["jitter"]))
    return rw2_f(x, z, params["rw_scale"][..., 0], tensors["latent_x"])


def mu_values(x: Any, params: dict[str, Any], tensors: dict[str, Any], prior: str,
              kernel: str) -> Any:
    """``μ(s) = mu_0 + mu_slope (s − s1) + f(s)`` at ``x`` (``s`` values); ``(*b, n)``."""
    return (params["mu_0"][..., None] + params["mu_slope"][..., None] * (x - tensors["s1"])
            + latent_f(x, params, tensors, prior, kernel))
