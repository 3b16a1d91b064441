"""``EventSums`` (pystats.aftershock.event_sums) and ``AftershockDetection.derived``: the
per-draw event sums ``Σ_i ω_i f(s_i)`` from data-only summaries equal the direct evaluation
of ``f`` at every event (a dense GPyTorch-kernel reference, the latent functions' own
``gp_f``/``rw2_f``, and the model's brute-force ``_natural``)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch

from pystats.aftershock import AftershockDetection, simulate_detected
from pystats.aftershock.event_sums import SUB_BINS, TAU_MAX, EventSums, series_terms
from pystats.aftershock.latent import kernel_matrix, rw2_f, whitened_coefficients

JITTER = 1e-6


def _t(x):
    return torch.as_tensor(np.asarray(x, dtype=float))


def _points(rng, zx, n):
    """Random points over the inducing range, some exactly on inducing inputs and ends."""
    x = np.sort(rng.uniform(zx[0], zx[-1], n))
    x[:2], x[-1], x[n // 3] = zx[0], zx[-1], zx[5]
    return np.sort(x)


def _dense_gp_sums(x, weights, zx, kernel, z, amp, ell):
    """Reference: f = α K₁(x, Z) L₁^{-T} z with GPyTorch's kernel matrices (numpy Cholesky)."""
    out = []
    for zi, a, lsc in zip(z, amp, ell, strict=True):
        kzz = kernel_matrix(_t(zx), _t(zx), kernel, _t(1.0), _t(lsc)).numpy()
        chol = np.linalg.cholesky(kzz + JITTER * np.eye(zx.size))
        v = np.linalg.solve(chol.T, zi)
        kxz = kernel_matrix(_t(x), _t(zx), kernel, _t(1.0), _t(lsc)).numpy()
        out.append(weights @ (a * (kxz @ v)))
    return np.array(out)


@pytest.mark.parametrize("kernel", ["matern52", "matern32", "rbf"])
def test_gp_sums_equal_the_dense_reference(kernel):
    rng = np.random.default_rng(3)
    zx = np.linspace(math.log(0.01), math.log(3.0), 12)
    x = _points(rng, zx, 150)
    weights = np.stack([np.ones_like(x), x - x.mean()])
    n = 40  # length-scales from far below the series' range (direct path) to very smooth
    ell = np.exp(np.linspace(math.log(0.02), math.log(20.0), n))
    z, amp = rng.standard_normal((n, zx.size)), rng.uniform(0.1, 1.0, n)
    sums = EventSums(x, weights, zx, "gp", kernel, JITTER)
    got = sums({"z": z, "gp_amplitude": amp[:, None], "gp_lengthscale": ell[:, None]})
    ref = _dense_gp_sums(x, weights, zx, kernel, z, amp, ell)
    # the reference's own rounding: K_ZZ + 1e-6 I has condition number up to ~1e6
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-10 * np.abs(ref).max())
    if kernel != "rbf":
        c = {"matern52": math.sqrt(5.0), "matern32": math.sqrt(3.0)}[kernel] / ell
        tau = c * (zx[1] - zx[0]) / (2 * SUB_BINS)  # bin half-width
        assert (tau > TAU_MAX).any() and (tau < 0.1).any()  # both paths are exercised


@pytest.mark.parametrize("kernel", ["matern52", "matern32"])
def test_series_equals_direct_evaluation_to_rounding(kernel):
    """Same whitened coefficients: the series against ``gp_f`` at every point, at a few
    thousand events, including ``τ`` up to ``TAU_MAX`` (the most terms)."""
    rng = np.random.default_rng(5)
    zx = np.linspace(math.log(0.01), math.log(3.0), 24)
    x = _points(rng, zx, 3000)
    weights = np.stack([np.ones_like(x), x - x.mean(), rng.standard_normal(x.size)])
    sums = EventSums(x, weights, zx, "gp", kernel, JITTER)
    assert sums.series
    c_max = TAU_MAX / ((zx[1] - zx[0]) / (2 * SUB_BINS))
    c = np.exp(np.linspace(math.log(0.05), math.log(c_max * 0.999), 30))
    ell = {"matern52": math.sqrt(5.0), "matern32": math.sqrt(3.0)}[kernel] / c
    z, amp = rng.standard_normal((ell.size, zx.size)), rng.uniform(0.1, 1.0, ell.size)
    # one draw per call: each gets the number of terms its own τ needs (a block takes the
    # number of its largest τ)
    got = np.concatenate([sums._gp_block(z[i:i + 1], amp[i:i + 1], ell[i:i + 1])
                          for i in range(ell.size)])
    direct = sums._direct(z, amp, ell)
    # rounding scale of Σ_i ω_i α Σ_j K₁(x_i, Z_j) v_j: the sum of absolute terms (v is
    # large where K_ZZ is ill-conditioned, ℓ large, and the sum cancels)
    v = whitened_coefficients(_t(z), _t(ell), _t(zx), kernel, JITTER)[..., 0].numpy()
    kxz = np.stack([kernel_matrix(_t(x), _t(zx), kernel, _t(1.0), _t(lsc)).numpy()
                    for lsc in ell])
    scale = amp[:, None] * np.einsum("wn,dnm,dm->dw", np.abs(weights), kxz, np.abs(v))
    assert np.max(np.abs(got - direct) / scale) < 1e-14


def test_series_terms_bound_the_remainder():
    for tau in (1e-3, 0.1, 0.5, 1.0, TAU_MAX):
        t = series_terms(tau)
        with mpmath.workdps(40):  # the truncated series in exact-enough arithmetic
            for eta in (-1.0, -0.5, 0.3, 1.0):
                x = mpmath.mpf(-tau * eta)
                partial = mpmath.fsum(x ** n / mpmath.factorial(n) for n in range(t + 1))
                assert abs(partial / mpmath.exp(x) - 1) < 2.0 ** -56
        if t > 0:  # one term fewer is not enough for the stated bound
            factor = math.exp(2 * tau) * (1 + 2 * tau + 4 * tau * tau / 3)
            assert tau ** t / math.factorial(t) * factor > 2.0 ** -56
    with pytest.raises(ValueError, match="tau"):
        series_terms(30.0)


def test_rw2_sums_equal_the_interpolated_walk():
    rng = np.random.default_rng(7)
    nodes = np.linspace(math.log(0.01), math.log(3.0), 40)
    x = _points(rng, nodes, 500)
    weights = np.stack([np.ones_like(x), x - x.mean()])
    z, tau = rng.standard_normal((8, 38)), rng.uniform(0.01, 0.2, 8)
    got = EventSums(x, weights, nodes, "rw2", "matern52", JITTER)(
        {"z": z, "rw_scale": tau[:, None]})
    ref = np.array([weights @ rw2_f(_t(x), _t(zi), _t(ti), _t(nodes)).numpy()
                    for zi, ti in zip(z, tau, strict=True)])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13 * np.abs(ref).max())


def _brute_force_derived(model, draws, data):
    """The former ``derived``: ``f`` at every event for every draw (``_natural``)."""
    from pystats.backends.torch import to_tensors

    tensors = to_tensors(dict(data.values), torch.device("cpu"))
    with torch.no_grad():
        part = {k: torch.as_tensor(np.asarray(v, dtype=float)) for k, v in draws.items()}
        nat = model._natural(model._full(part, part["z"][..., 0]), tensors)
    return {k: nat[k].numpy() for k in ("K", "mu_0", "mu_slope") if k in nat}


@pytest.mark.parametrize(("options", "n_events"), [
    ({}, 150), ({}, 3000), ({"kernel": "matern32"}, 3000), ({"kernel": "rbf"}, 150),
    ({"mu_prior": "rw2"}, 3000), ({"fixed": {"gp_lengthscale": 0.8}}, 150),
])
def test_derived_equals_the_brute_force_computation(options, n_events):
    """Draws spread like a wide posterior (length-scales over two decades) give the same
    ``K``, ``mu_0``, ``mu_slope`` as evaluating ``f`` at every event."""
    mu = lambda t: 2.2 - 0.3 * np.log(t)  # noqa: E731
    cat = simulate_detected(0.02 * n_events / 355, 0.01, 1.1, 2.3, 0.3, mu, M0=6.0,
                            t_start=0.01, t_end=2.0, seed=11)
    model = AftershockDetection(mainshock_magnitude=6.0, **options)
    data = model.prepare(cat, t_start=0.01, t_end=2.0)
    assert abs(data.values["N"] - n_events) < 0.3 * n_events
    rng = np.random.default_rng(2)
    draws = {}
    for p in model.parameters(data):
        shape = (3, 50, *p.shape)  # (chains, draws, ...): leading axes are kept
        x = rng.standard_normal(shape)
        draws[p.name] = np.exp(0.3 * x) if p.lower == 0.0 else 0.5 * x
    if draws.get("gp_lengthscale", np.zeros((0,))).size:
        draws["gp_lengthscale"] = np.exp(rng.uniform(math.log(0.05), math.log(5.0),
                                                     (3, 50, 1)))
    got = model.derived(draws, data)
    ref = _brute_force_derived(model, draws, data)
    assert set(ref) <= set(got)
    for k, r in ref.items():
        assert got[k].shape == (3, 50)
        np.testing.assert_allclose(got[k], r, rtol=1e-10, atol=1e-10, err_msg=k)
