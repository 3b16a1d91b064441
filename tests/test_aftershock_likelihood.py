"""Closed-form checks of the aftershock-detection maths (pystats.aftershock: likelihood,
latent, simulate)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, special

from pystats.aftershock import simulate_detected
from pystats.aftershock.latent import gp_f, kernel_matrix, rw2_f, rw2_matrix
from pystats.aftershock.likelihood import (
    LOG_PHI_TAIL_Z,
    log_magnitude_integral,
    log_ndtr_guarded,
    log_time_quadrature,
    panel_count,
)

T64 = torch.float64


def t64(x):
    return torch.as_tensor(np.asarray(x, dtype=float), dtype=T64)


# ---------------------------------------------------------------- magnitude integral
@pytest.mark.parametrize(("mu", "beta", "sigma", "m0"),
                         [(2.0, 2.3, 0.3, 6.2), (0.5, 1.5, 0.8, 7.1), (3.5, 3.0, 0.05, 5.0)])
def test_magnitude_integral_matches_numerical_integration(mu, beta, sigma, m0):
    f = lambda m: beta * math.exp(-beta * (m - m0)) * special.ndtr((m - mu) / sigma)  # noqa: E731
    lo = mu - 12 * sigma
    num = integrate.quad(f, lo, mu + 12 * sigma, epsabs=0, epsrel=1e-13, limit=200)[0]
    num += integrate.quad(f, mu + 12 * sigma, np.inf, epsabs=0, epsrel=1e-13)[0]
    closed = math.exp(float(log_magnitude_integral(t64(mu), t64(beta), t64(sigma), m0)))
    assert closed == pytest.approx(num, rel=1e-9)


# ---------------------------------------------------------------- quadrature
def _mu_fn(prior, kernel, bump):
    """μ(s) with decaying mean (slope -0.5 per e-fold) and optionally a bump, as a function
    of s (torch) built from the model's own latent representation."""
    s0, s1 = math.log(0.01), math.log(1.0)
    m = 24 if prior == "gp" else 40
    zx = t64(np.linspace(s0, s1, m))
    n_z = m if prior == "gp" else m - 2
    idx = np.arange(n_z)
    z = 0.3 * np.sin(idx) + (2.5 * np.exp(-0.5 * ((idx - n_z / 2) / 1.5) ** 2) if bump else 0)

    def mu(s):
        x = t64(np.atleast_1d(s))
        if prior == "gp":
            f = gp_f(x, t64(z), t64(0.4), t64(0.6), zx, kernel, 1e-6)
        else:
            f = rw2_f(x, t64(z), t64(0.05), zx)
        return (2.0 - 0.5 * (x - s1) + f).numpy()

    return mu, (s0, s1), zx.numpy()


@pytest.mark.parametrize(("prior", "kernel"), [("gp", "matern52"), ("gp", "matern32"),
                                              ("gp", "rbf"), ("rw2", "matern52")])
@pytest.mark.parametrize("bump", [False, True])
def test_time_quadrature_matches_scipy_quad(prior, kernel, bump):
    K, c, p, beta, sigma, m0 = 0.05, 0.02, 1.1, 2.2, 0.3, 6.2
    mu, _, latent_x = _mu_fn(prior, kernel, bump)

    def g(t):
        return K * (t + c) ** (-p) * math.exp(
            float(-beta * (mu(math.log(t))[0] - m0) + 0.5 * (beta * sigma) ** 2))

    ref = integrate.quad(g, 0.01, 1.0, points=np.exp(latent_x[1:-1]), epsabs=0,
                         epsrel=1e-13, limit=2000)[0]
    s_q, w_q = log_time_quadrature(0.01, 1.0, panel_count(64, latent_x.size))
    t_q = np.exp(s_q)
    quad = np.sum(w_q * K * (t_q + c) ** (-p) * np.exp(
        -beta * (mu(s_q) - m0) + 0.5 * (beta * sigma) ** 2))
    assert abs(quad / ref - 1) < 1e-8


def test_panels_align_with_latent_inputs():
    assert panel_count(64, 24) == 69 and panel_count(64, 40) == 78 and panel_count(64, 3) == 64
    s_q, w_q = log_time_quadrature(0.01, 1.0, 69)
    assert s_q.size == 69 * 8 and np.all(np.diff(s_q) > 0)
    assert np.sum(w_q) == pytest.approx(0.99, rel=1e-14)  # ∫ dt over [0.01, 1]


# ---------------------------------------------------------------- log Φ
Z_GRID = np.concatenate([np.linspace(-40, -20.0001, 400), np.linspace(-19.9999, 8, 600)])


def test_log_ndtr_guarded_values():
    got = log_ndtr_guarded(t64(Z_GRID)).numpy()
    ref = special.log_ndtr(Z_GRID)
    assert np.all(np.isfinite(got))
    # both branches agree with scipy's double-precision log_ndtr to rounding
    assert np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)) < 1e-13


def test_log_ndtr_guarded_is_continuous_across_the_switch():
    # the last double below the switch (asymptotic series) and the switch itself (log_ndtr):
    # one ulp apart, so the slope contributes ~7e-14
    z0 = LOG_PHI_TAIL_Z
    pair = t64([np.nextafter(z0, -np.inf), z0]).requires_grad_(True)
    val = log_ndtr_guarded(pair)
    (grad,) = torch.autograd.grad(val.sum(), pair)
    assert float(pair[0]) < z0 and abs(float(val[1] - val[0])) < 1e-12
    assert abs(float(grad[1] - grad[0])) < 1e-10


def test_log_ndtr_guarded_gradient_matches_scipy_differences():
    z = t64(Z_GRID).requires_grad_(True)
    (grad,) = torch.autograd.grad(log_ndtr_guarded(z).sum(), z)
    h = 1e-6
    fd = (special.log_ndtr(Z_GRID + h) - special.log_ndtr(Z_GRID - h)) / (2 * h)
    g = grad.numpy()
    assert np.all(np.isfinite(g))
    assert np.max(np.abs(g - fd) / np.abs(fd)) < 1e-6


def test_log_ndtr_guarded_has_no_nan_gradient_at_the_switch_or_far_out():
    z = t64([-1e4, -37.6, LOG_PHI_TAIL_Z, 0.0, 40.0]).requires_grad_(True)
    val = log_ndtr_guarded(z)
    (grad,) = torch.autograd.grad(val.sum(), z)
    assert torch.all(torch.isfinite(val)) and torch.all(torch.isfinite(grad))


# ---------------------------------------------------------------- latent priors
def test_gpytorch_kernels_match_closed_forms():
    x = t64(np.linspace(0, 3, 7))
    r = np.abs(np.subtract.outer(x.numpy(), x.numpy())) / 0.7
    forms = {
        "matern52": (1 + math.sqrt(5) * r + 5 * r**2 / 3) * np.exp(-math.sqrt(5) * r),
        "matern32": (1 + math.sqrt(3) * r) * np.exp(-math.sqrt(3) * r),
        "rbf": np.exp(-0.5 * r**2),
    }
    for name, ref in forms.items():
        k = kernel_matrix(x, x, name, t64(1.5), t64(0.7)).numpy()
        np.testing.assert_allclose(k, 1.5**2 * ref, rtol=1e-12, atol=1e-14)


def test_gp_whitened_prior_is_the_nystrom_gp():
    """With z ~ N(0, I), Cov f(x) = K_xZ (K_ZZ + jitter)^{-1} K_Zx (subset of regressors)."""
    zx = t64(np.linspace(-4, 0, 12))
    x = t64(np.linspace(-4.5, 0.3, 30))
    amp, ell, jit = t64(0.7), t64(0.9), 1e-6
    eye = torch.eye(12, dtype=T64)
    basis = torch.stack([gp_f(x, eye[j], amp, ell, zx, "matern52", jit) for j in range(12)], 1)
    cov = (basis @ basis.T).numpy()
    kxz = kernel_matrix(x, zx, "matern52", amp, ell).numpy()
    kzz = kernel_matrix(zx, zx, "matern52", amp, ell).numpy() + jit * 0.49 * np.eye(12)
    np.testing.assert_allclose(cov, kxz @ np.linalg.solve(kzz, kxz.T), rtol=1e-8, atol=1e-12)
    # at the inducing inputs the prior variance is the kernel's, α² (up to the jitter)
    at_z = torch.stack([gp_f(zx, eye[j], amp, ell, zx, "matern52", jit) for j in range(12)], 1)
    np.testing.assert_allclose(np.diag((at_z @ at_z.T).numpy()), 0.49, rtol=1e-5)


def test_gp_gradient_reaches_hyperparameters_without_nan():
    zx = t64(np.linspace(-4, 0, 8))
    amp = t64(0.5).requires_grad_(True)
    ell = t64(0.8).requires_grad_(True)
    z = t64(np.linspace(-1, 1, 8))
    f = gp_f(zx, z, amp, ell, zx, "matern52", 1e-6)  # x equal to Z: zero distances
    ga, gl = torch.autograd.grad((f**2).sum(), [amp, ell])
    assert torch.isfinite(ga) and torch.isfinite(gl) and float(gl.abs()) > 0


def test_rw2_recursion_and_interpolation():
    rng = np.random.default_rng(4)
    n, tau = 9, 0.3
    z = rng.standard_normal(n - 2)
    f = np.zeros(n)
    for j in range(2, n):
        f[j] = 2 * f[j - 1] - f[j - 2] + tau * z[j - 2]
    np.testing.assert_allclose(tau * rw2_matrix(n) @ z, f, atol=1e-13)
    g = t64(np.linspace(-2, 0, n))
    at_nodes = rw2_f(g, t64(z), t64(tau), g).numpy()
    np.testing.assert_allclose(at_nodes, f, atol=1e-13)
    mid = 0.5 * (g[3] + g[4])
    assert float(rw2_f(mid[None], t64(z), t64(tau), g)[0]) == pytest.approx(0.5 * (f[3] + f[4]))
    # prior covariance τ² T Tᵀ: Var f_j = τ² Σ_{k<=j-2} (j-1-k)²
    var = tau**2 * np.sum(rw2_matrix(n) ** 2, axis=1)
    assert var[2] == pytest.approx(tau**2) and var[4] == pytest.approx(tau**2 * (9 + 4 + 1))


# ---------------------------------------------------------------- simulation
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_detected_counts_are_poisson_with_the_model_mean(seed):
    mu_fn = lambda t: 2.4 - 0.4 * np.log(t) + 0.5 * np.exp(-0.5 * ((np.log(t) + 2) / 0.4) ** 2)  # noqa: E731
    args = dict(K=0.05, c=0.02, p=1.1, beta=2.2, sigma=0.3, mu_fn=mu_fn, M0=6.0,
                t_start=0.01, t_end=1.0)
    rng = np.random.default_rng(seed)
    counts = np.array([len(simulate_detected(**args, seed=rng)) for _ in range(200)])
    expected = simulate_detected(**args, seed=0).attrs["expected_detected"]
    assert 50 < expected < 400
    assert abs(counts.mean() - expected) < 4.5 * math.sqrt(expected / counts.size)
    ratio = counts.var(ddof=1) / expected  # Poisson: 1, sd ~ sqrt(2 / 199) = 0.1
    assert 0.6 < ratio < 1.4


def test_simulated_detected_magnitudes_follow_the_closed_form():
    """Detected magnitudes at constant μ are N(μ − βσ², σ²) + Exp(β)."""
    mu, beta, sigma = 2.5, 2.0, 0.4
    cat = simulate_detected(0.5, 0.01, 1.0, beta, sigma, lambda t: np.full_like(t, mu),
                            M0=6.0, t_start=0.01, t_end=5.0, seed=11, complete=True)
    det = cat.magnitude[cat.detected].to_numpy()
    assert det.size > 3000
    mean = mu - beta * sigma**2 + 1 / beta
    var = sigma**2 + 1 / beta**2
    assert abs(det.mean() - mean) < 4 * math.sqrt(var / det.size)
    # complete catalogue: GR above m_min, which is μ − 6σ
    assert cat.attrs["m_min"] == pytest.approx(mu - 6 * sigma)
    full = cat.magnitude.to_numpy() - cat.attrs["m_min"]
    assert abs(full.mean() - 1 / beta) < 4 / beta / math.sqrt(full.size)


@pytest.mark.parametrize("name", ["matern52", "matern32", "rbf"])
def test_fast_kernel_equals_gpytorch_kernel_values_and_gradient(name):
    # the hot path (explicit formula on distances) against GPyTorch's kernel, the definition,
    # batched over two length-scales, with the gradient in the length-scale
    from pystats.aftershock.latent import unit_kernel_of_distance

    x, zx = t64(np.linspace(-4.6, 1.1, 37)), t64(np.linspace(-4.6, 1.1, 9))
    ell = t64([0.3, 1.7]).requires_grad_(True)
    ref = kernel_matrix(x, zx, name, torch.ones(2, dtype=T64), ell)
    got = unit_kernel_of_distance((x[:, None] - zx).abs(), ell, name)
    assert got.shape == ref.shape == (2, 37, 9)
    np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-13,
                               atol=1e-15)
    w = t64(np.random.default_rng(1).standard_normal((37, 9)))
    (g_ref,) = torch.autograd.grad((ref * w).sum(), ell)
    (g_got,) = torch.autograd.grad((got * w).sum(), ell)
    np.testing.assert_allclose(g_got.numpy(), g_ref.numpy(), rtol=1e-12)


def test_gp_f_equals_the_gpytorch_definition():
    # f = k(x, Z) (K_ZZ + jitter α² I)^{-1/2}-whitened z with GPyTorch's kernel matrices
    x, zx = t64(np.linspace(-4.6, 1.1, 41)), t64(np.linspace(-4.6, 1.1, 10))
    z = t64(np.random.default_rng(2).standard_normal(10))
    amp, ell, jit = t64(0.7), t64(0.9), 1e-6
    kzz = kernel_matrix(zx, zx, "matern52", amp, ell) + jit * 0.49 * torch.eye(10, dtype=T64)
    chol = torch.linalg.cholesky(kzz)
    v = torch.linalg.solve_triangular(chol.T, z[:, None], upper=True)
    ref = (kernel_matrix(x, zx, "matern52", amp, ell) @ v)[:, 0]
    np.testing.assert_allclose(gp_f(x, z, amp, ell, zx, "matern52", jit).numpy(), ref.numpy(),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["matern52", "matern32"])
@pytest.mark.parametrize("batch", [(), (3,)])
def test_separable_matvec_equals_the_gpytorch_kernel_matrix(name, batch):
    # the O(n) form of K(x, Z) v against GPyTorch's (n, m) kernel matrix, the definition:
    # points between, on and just outside the inducing inputs, unsorted; value and the
    # gradients in v and in the length-scale
    from pystats.aftershock.latent import _geometry, separable_matvec, use_separable

    rng = np.random.default_rng(5)
    zx = t64(np.linspace(-4.6, 0.0, 12))
    x = t64(np.concatenate([rng.uniform(-4.6, 0.0, 200), np.linspace(-4.6, 0.0, 12),
                            [-4.6 - 1e-13, 1e-13, -2.0]]))
    assert use_separable(x, zx, name) and not use_separable(x, zx, "rbf")
    assert not use_separable(x, zx.flip(0), name)  # needs increasing inducing inputs
    v = t64(rng.standard_normal((*batch, 12))).requires_grad_(True)
    ell = t64(rng.uniform(0.2, 2.0, batch)).requires_grad_(True)
    ref = (kernel_matrix(x, zx, name, torch.ones(batch, dtype=T64), ell)
           @ v[..., :, None])[..., 0]
    got = separable_matvec(x, zx, v, ell, name)
    assert got.shape == ref.shape == (*batch, x.shape[0])
    np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                               atol=1e-13)
    w = t64(rng.standard_normal(ref.shape))
    g_ref = torch.autograd.grad((ref * w).sum(), (v, ell))
    g_got = torch.autograd.grad((got * w).sum(), (v, ell))
    for a, b in zip(g_got, g_ref, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-11, atol=1e-12)
    # the data-only geometry is cached per tensor and rebuilt when the tensor changes
    assert _geometry(x, zx) is _geometry(x, zx)
    before = _geometry(x, zx)
    x[-1] = -1.0  # in place: version counter moves
    assert _geometry(x, zx) is not before
    ref2 = (kernel_matrix(x, zx, name, torch.ones(batch, dtype=T64), ell) @ v[..., :, None])
    np.testing.assert_allclose(separable_matvec(x, zx, v, ell, name).detach().numpy(),
                               ref2[..., 0].detach().numpy(), rtol=1e-12, atol=1e-13)


def test_gp_f_hessian_same_with_separable_and_dense_kernel(monkeypatch):
    # the likelihood's Hessian through gp_f (vmapped autograd) is the same whichever form
    # of K(x, Z) v is used
    import pystats.aftershock.latent as latent

    x, zx = t64(np.linspace(-4.6, 0.0, 300)), t64(np.linspace(-4.6, 0.0, 8))
    w = t64(np.random.default_rng(3).standard_normal(300))

    def fn(theta):
        f = gp_f(x, theta[2:], theta[0].exp(), theta[1].exp(), zx, "matern52", 1e-6)
        return (torch.sin(f) * w).sum() + (f ** 2).sum()

    theta = t64(np.r_[-0.3, 0.2, np.random.default_rng(4).standard_normal(8)])
    h_sep = torch.autograd.functional.hessian(fn, theta, vectorize=True)
    monkeypatch.setattr(latent, "use_separable", lambda *a: False)
    h_dense = torch.autograd.functional.hessian(fn, theta)
    np.testing.assert_allclose(h_sep.numpy(), h_dense.numpy(), rtol=1e-9,
                               atol=1e-9 * float(h_dense.abs().max()))


@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
def test_gp_f_unusable_lengthscale_gives_nan_in_its_row_only(kernel):
    # a prior swept over a wide grid reaches length-scales of 0 or inf; the batch row with
    # such a value is NaN (the density there is undefined), not a LinAlgError for the batch
    zx = torch.linspace(-4.0, 0.0, 8, dtype=torch.float64)
    x = torch.linspace(-4.0, 0.0, 30, dtype=torch.float64)
    z = torch.ones(3, 8, dtype=torch.float64)
    ell = torch.tensor([0.7, 0.0, 1.3], dtype=torch.float64)
    f = gp_f(x, z, torch.ones(3, dtype=torch.float64), ell, zx, kernel, 1e-6)
    assert torch.isnan(f[1]).all()
    assert torch.isfinite(f[[0, 2]]).all()
    for row in (0, 2):
        one = gp_f(x, z[row], torch.tensor(1.0, dtype=torch.float64), ell[row], zx, kernel, 1e-6)
        torch.testing.assert_close(f[row], one, rtol=1e-12, atol=1e-12)
