"""The latent detection magnitude ``μ(t)``: inducing-point GP or second-order random walk.

``μ(s) = mu_0 + mu_slope (s − s1) + f(s)`` over ``s = log t`` (days), with ``f`` one of

* ``"gp"``: a subset-of-regressors Gaussian process (Quiñonero-Candela & Rasmussen 2005):
  inducing inputs ``Z`` (``m`` equally spaced points on ``[s0, s1]``), whitened
  coefficients ``z ~ N(0, I_m)``, ``L = chol(K_ZZ + jitter α² I)`` and
  ``f(s) = k(s, Z) L^{-T} z``, so ``u = f(Z)``-ish values ``L z ~ N(0, K_ZZ)`` and ``f`` is
  the Nyström (degenerate) GP.  The kernels are GPyTorch's ``MaternKernel(nu=2.5|1.5)`` and
  ``RBFKernel`` with their own length-scale fixed at 1, evaluated at inputs divided by
  ``ℓ`` (so autograd reaches ``ℓ``) and multiplied by ``α²``.  One evaluation costs
  ``O((N + Q) m + m³)``.
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
           "rw2_matrix", "unit_kernel_of_distance"]

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
    ``(n, m)`` matrix; the kernels are :func:`unit_kernel_of_distance`.
    """
    import torch

    d_zz = (latent_x[:, None] - latent_x[None, :]).abs()
    kzz = unit_kernel_of_distance(d_zz, lengthscale, kernel)
    eye = torch.eye(latent_x.shape[-1], dtype=kzz.dtype, device=kzz.device)
    chol = torch.linalg.cholesky(kzz + jitter * eye)
    # L1^{-T} z: solve L1^T v = z
    v = torch.linalg.solve_triangular(chol.transpose(-1, -2), z[..., :, None], upper=True)
    d_xz = (x[..., :, None] - latent_x).abs()
    kxz = unit_kernel_of_distance(d_xz, lengthscale, kernel)
    return amplitude[..., None] * (kxz @ v)[..., 0]


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
