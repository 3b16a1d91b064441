"""The collapsed sparse isocon (``stan/sparse_isocon.stan``): the likelihood with the mass
changes, transfers (element mean + sample deviation) and protolith errors integrated out,
and their conditional draws, against the dense Gaussian of ``y`` by brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pystats.compositional.isocon import (
    collapsed_conditional,
    collapsed_log_likelihood,
    horseshoe_scale2,
)


def _dense(N, J, e, s, scale2, sigma, shared, a_scale=1.0):
    """The model as a linear map from the latent ``x = (a, mu, eta, delta)`` (``eta``
    absent when shared) to ``vec(y)`` (row-major), the latent's prior variances, the
    noise variances, and the map ``T`` from ``x`` to ``(a, vec(b), delta)``."""
    v = e**2 + sigma**2
    ne = 0 if shared else N * J
    K = N + J + ne + J
    A = np.zeros((N * J, K))
    T = np.zeros((N + N * J + J, K))
    prior = np.concatenate([np.full(N, a_scale**2), scale2, np.tile(scale2, N)[:ne], s**2])
    T[:N, :N] = np.eye(N)
    T[N + N * J:, N + J + ne:] = np.eye(J)
    for n in range(N):
        for j in range(J):
            i = n * J + j
            A[i, [n, N + j, N + J + ne + j]] = 1.0
            T[N + i, N + j] = 1.0
            if not shared:
                A[i, N + J + i] = 1.0
                T[N + i, N + J + i] = 1.0
    noise = np.tile(v, N)
    cov = A @ np.diag(prior) @ A.T + np.diag(noise)
    return cov, A, prior, noise, T


CASES = [(False, 1), (True, 2)]


@pytest.mark.parametrize(("shared", "seed"), CASES)
def test_collapsed_likelihood_is_the_dense_gaussian_marginal(shared, seed):
    rng = np.random.default_rng(seed)
    N, J = 4, 5
    y = rng.normal(0, 0.5, (N, J))
    e, s = rng.uniform(0.02, 0.06, J), rng.uniform(0.02, 0.08, J)
    for _ in range(3):
        scale2 = horseshoe_scale2(rng.lognormal(0, 1, J), 0.3 * rng.lognormal(), 1.5)
        sigma = 0.05 * rng.lognormal()
        cov, *_ = _dense(N, J, e, s, scale2, sigma, shared)
        expected = stats.multivariate_normal(np.zeros(N * J), cov).logpdf(y.ravel())
        got = collapsed_log_likelihood(y, e, s, scale2, np.asarray(sigma), shared=shared)
        assert got - 0.5 * N * J * np.log(2 * np.pi) == pytest.approx(expected, rel=1e-10)


def test_collapsed_likelihood_vectorises_over_draws():
    rng = np.random.default_rng(3)
    y = rng.normal(0, 0.5, (3, 4))
    e, s = np.full(4, 0.03), np.full(4, 0.05)
    scale2 = rng.lognormal(-2, 1, (2, 5, 4))
    sigma = rng.uniform(0.01, 0.1, (2, 5))
    batch = collapsed_log_likelihood(y, e, s, scale2, sigma)
    one = collapsed_log_likelihood(y, e, s, scale2[1, 3], sigma[1, 3])
    assert batch.shape == (2, 5)
    assert batch[1, 3] == pytest.approx(float(one), rel=1e-12)


@pytest.mark.parametrize(("shared", "seed"), CASES)
def test_conditional_mean_and_draws_match_the_dense_gaussian_posterior(shared, seed):
    """Mean (rng=None) exactly, and the covariance of 40 000 draws, of (a, b, delta) given
    the scales: the Gaussian posterior of the latent in the linear model y = A x + noise."""
    rng = np.random.default_rng(10 + seed)
    N, J = 3, 4
    y = rng.normal(0, 0.4, (N, J))
    e, s = np.full(J, 0.03), rng.uniform(0.02, 0.08, J)
    scale2 = horseshoe_scale2(rng.lognormal(0, 1, J), 0.2, 1.0)
    sigma = 0.04
    _, A, prior, noise, T = _dense(N, J, e, s, scale2, sigma, shared)
    post_prec = A.T @ np.diag(1 / noise) @ A + np.diag(1 / prior)
    latent_cov = np.linalg.inv(post_prec)
    post_mean = T @ latent_cov @ A.T @ (y.ravel() / noise)
    post_cov = T @ latent_cov @ T.T
    a, b, delta = collapsed_conditional(y, e, s, scale2, np.asarray(sigma), shared=shared)
    np.testing.assert_allclose(np.concatenate([a, b.ravel(), delta]), post_mean, atol=1e-10)
    M = 40_000
    a, b, delta = collapsed_conditional(y, e, s, np.broadcast_to(scale2, (M, J)),
                                        np.full(M, sigma), shared=shared,
                                        rng=np.random.default_rng(seed))
    if shared:
        np.testing.assert_array_equal(b[:, 0], b[:, -1])  # one transfer per element
    x = np.concatenate([a, b.reshape(M, -1), delta], axis=1)
    sd = np.sqrt(np.diag(post_cov))
    np.testing.assert_allclose(x.mean(axis=0), post_mean, atol=4 * sd.max() / np.sqrt(M))
    np.testing.assert_allclose(x.std(axis=0), sd, rtol=0.03)
    corr = np.cov(x.T) / np.outer(sd, sd)
    np.testing.assert_allclose(corr, post_cov / np.outer(sd, sd), atol=0.03)


def test_mobile_elements_mean_transfer_does_not_pull_the_mass_change():
    """Mobile elements that moved the same way in every sample (here: leached or enriched
    throughout, as ``simulate_isocon`` makes them) must not shift the mass changes: with the
    immobile elements' scales ~0 and the mobile ones' at their mean-square transfer, the
    conditional mean of ``a`` is Grant's isocon on the true immobile set to within 0.2 of
    its standard error.  (A zero-mean prior on the transfers, without the element's mean
    transfer ``mu``, misses by 0.5 standard errors on this suite and covered 21 of its 50
    mass ratios with NUTS.)"""
    from pystats.compositional.isocon import grant_estimate
    from pystats.compositional.simulate import simulate_isocon

    sim = simulate_isocon(n_samples=50, n_elements=30, n_mobile=10, seed=7)
    immobile = np.setdiff1d(np.arange(30), sim.mobile)
    y = np.log(sim.altered.to_numpy()) - np.log(sim.protolith.to_numpy()[0])
    e, s = np.full(30, 0.03), np.full(30, 0.05)
    a_grant, _, cov = grant_estimate(y, e, s, immobile)
    scale2 = np.full(30, 1e-8)
    scale2[sim.mobile] = np.mean((y - a_grant[:, None])[:, sim.mobile] ** 2, axis=0)
    a, _, _ = collapsed_conditional(y, e, s, scale2, np.asarray(0.0))
    assert np.max(np.abs(a - a_grant) / np.sqrt(np.diag(cov)[:50])) < 0.2
