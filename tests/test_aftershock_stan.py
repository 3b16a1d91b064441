"""The aftershock-detection Stan program (stan/aftershock_detection.stan).

Stan's log density (through the pystan engine's :class:`LogDensity`) is compared with the
independent numpy/scipy reference of ``tests/aftershock_reference.py``, written from the
contract in notes/aftershock_spec.md: values to 1e-8 relative at random unconstrained points
for the GP prior with each kernel and for the RW2 prior (likelihood alone, and with priors
and Stan's log-Jacobian), gradients against central finite differences of the reference,
and the far lower tail of log Phi (events 25 and 45 sigma below mu); the program samples
log_rate, mu_bar, mu_slope_bar in place of K, mu_0, mu_slope (the reference's
``to_natural``, Jacobian K) and the family's torch engine gives the same density in those
coordinates.  One program is compiled (once per machine, the compile cache) and each data
set is bound once per module.  A short NUTS run on a simulated sequence checks recovery of
K, c, p, beta, sigma and convergence (slow).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import aftershock_reference as ref
import numpy as np
import pytest
from scipy import stats

from pystats.backends.pystan import PystanBackend
from pystats.model import Model, PreparedData
from pystats.parameters import Parameter, ParameterSet

PROGRAM = "aftershock_detection.stan"
RTOL = 1e-8
M0 = 6.0
T_START, T_END = 0.01, 2.0
TRUTH = {"K": 0.05, "c": 0.02, "p": 1.1, "beta": 2.1, "sigma": 0.3}
CASES = [("gp", "matern52"), ("gp", "matern32"), ("gp", "rbf"), ("rw2", "matern52")]
CASE_IDS = ["gp-matern52", "gp-matern32", "gp-rbf", "rw2"]


def true_mu(t: np.ndarray) -> np.ndarray:
    """Decaying 50 %-detection magnitude with a bump near t = 0.1 d."""
    s = np.log(t)
    return 2.2 - 0.3 * s + 0.4 * np.exp(-0.5 * ((s + 2.3) / 0.5) ** 2)


class AftershockStanModel(Model):
    """The smallest Model that hands the program and a ready data dict to the engine.

    Its parameters are declared exactly as in the program: the prior-specific ones are
    arrays of size 1 (present) or 0 (absent).
    """

    def prepare(self, data: Mapping[str, Any]) -> PreparedData:
        return PreparedData(values=dict(data))

    def parameters(self, data: PreparedData) -> ParameterSet:
        gp = int(data.values["prior"]) == 1
        n = int(data.values["n_latent"])
        return ParameterSet([
            Parameter("log_rate"), Parameter("c", lower=0.0),
            Parameter("p", lower=0.2, upper=3.0), Parameter("beta", lower=0.0),
            Parameter("sigma", lower=0.01), Parameter("mu_bar"),
            Parameter("mu_slope_bar"),
            Parameter("gp_amplitude", lower=0.0, shape=(int(gp),)),
            Parameter("gp_lengthscale", lower=0.0, shape=(int(gp),)),
            Parameter("rw_scale", lower=0.0, shape=(int(not gp),)),
            Parameter("z", shape=(n if gp else n - 2,)),
            *[Parameter(name, lower=0.0, shape=(int(data.values.get("rate", 1) == 2),))
              for name in ("K_s", "alpha")],
        ])

    def stan_program(self) -> str:
        return PROGRAM

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        return {k: v for k, v in data.values.items() if k not in ("include_prior", "tp")}


def random_point(data: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """A plausible point on Stan's unconstrained scale (reference layout)."""
    gp = int(data["prior"]) == 1
    n_z = int(data["n_latent"]) - (0 if gp else 2)
    params: dict[str, Any] = {
        "K": TRUTH["K"] * math.exp(rng.normal(0, 0.5)),
        "c": TRUTH["c"] * math.exp(rng.normal(0, 0.5)),
        "p": float(rng.uniform(0.8, 1.4)),
        "beta": float(rng.uniform(1.6, 2.6)),
        "sigma": float(rng.uniform(0.15, 0.5)),
        "mu_0": float(data["mu_0_loc"] + rng.normal(0, 0.3)),
        "mu_slope": float(rng.normal(-0.3, 0.2)),
        "z": rng.normal(0, 1, n_z),
    }
    if gp:
        params["gp_amplitude"] = float(rng.uniform(0.1, 0.8))
        params["gp_lengthscale"] = float(rng.uniform(0.5, 4.0))
    else:
        params["rw_scale"] = float(rng.uniform(0.02, 0.3))
    if int(data.get("rate", 1)) == 2:
        params["K_s"] = 0.004 * math.exp(rng.normal(0, 0.5))
        params["alpha"] = float(rng.uniform(1.2, 2.5))
    return ref.unconstrain(params, data)


def smooth_point(data: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """:func:`random_point` with no event's z within 0.05 of the guard's switch at -20.

    The guard is continuous there to rounding; keeping away from the switch only keeps the
    finite differences on one formula.
    """
    while True:
        u = random_point(data, rng)
        params, _ = ref.constrain(u, data)
        z = (np.asarray(data["m"]) - ref.mu_of_t(data["t"], params, data)) / params["sigma"]
        if np.min(np.abs(z - ref.TAIL_Z)) > 0.05:
            return u


def fd_grad(fn: Any, u: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central differences (4th order) of ``fn`` at ``u``; a wide step because the RBF
    kernel matrix is ill-conditioned (condition ~1e7), which makes small steps noisy."""
    g = np.empty_like(u)
    for i in range(u.size):
        e = np.zeros_like(u)
        e[i] = h
        g[i] = (8 * (fn(u + e) - fn(u - e)) - (fn(u + 2 * e) - fn(u - 2 * e))) / (12 * h)
    return g


def assert_grad_close(g: np.ndarray, g_ref: np.ndarray, rtol: float = 1e-6) -> None:
    scale = np.maximum(np.abs(g_ref), 1e-3 * np.max(np.abs(g_ref)))
    np.testing.assert_array_less(np.abs(g - g_ref) / scale, rtol)


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def backend() -> PystanBackend:
    return PystanBackend()


@pytest.fixture(scope="module")
def sequence() -> tuple[np.ndarray, np.ndarray]:
    t, m = ref.simulate_detected(**TRUTH, mu_fn=true_mu, M0=M0, t_start=T_START, t_end=T_END,
                                 seed=2013)
    assert 250 < t.size < 800
    return t, m


class Bound:
    """A data dict bound to the program: Stan's log density and the reference's."""

    def __init__(self, backend: PystanBackend, data: dict[str, Any]) -> None:
        self.data = data
        self.model = AftershockStanModel()
        prepared = self.model.prepare(data)
        self.with_prior = backend.log_density(self.model, prepared, include_prior=True)
        self.likelihood = backend.log_density(self.model, prepared, include_prior=False)

    def ref(self, u: np.ndarray, prior: bool = True) -> float:
        return ref.log_density_unconstrained(u, self.data, include_prior=prior, jacobian=prior)


@pytest.fixture(scope="module")
def bound(backend: PystanBackend, sequence: tuple) -> dict[str, Bound]:
    t, m = sequence
    out = {}
    for (prior, kernel), case in zip(CASES, CASE_IDS, strict=True):
        # fewer latent points than the defaults keep the finite differences cheap
        data = ref.stan_data(t, m, M0, T_START, T_END, prior=prior, kernel=kernel,
                             n_inducing=12, n_nodes=14, n_panels=26)
        out[case] = Bound(backend, data)
    return out


# ---------------------------------------------------------------------------- values
@pytest.mark.parametrize("case", CASE_IDS)
def test_log_density_equals_reference(bound: dict[str, Bound], case: str) -> None:
    b = bound[case]
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    for _ in range(4):
        u = random_point(b.data, rng)
        assert b.likelihood.value(u, jacobian=False) == pytest.approx(b.ref(u, False),
                                                                      rel=RTOL)
        assert b.with_prior.value(u, jacobian=True) == pytest.approx(b.ref(u, True), rel=RTOL)


def test_priors_are_normalised_and_jacobian_is_stans(bound: dict[str, Bound]) -> None:
    """With prior minus without prior = the reference's normalised log prior (+ log-Jacobian)."""
    for case in ("gp-matern52", "rw2"):
        b = bound[case]
        u = random_point(b.data, np.random.default_rng(3))
        params, logj = ref.constrain(u, b.data)
        diff = b.with_prior.value(u, jacobian=False) - b.likelihood.value(u, jacobian=False)
        assert diff == pytest.approx(ref.log_prior_sampled(params, b.data), rel=1e-10,
                                     abs=1e-10)
        assert (b.with_prior.value(u, jacobian=True) - b.with_prior.value(u, jacobian=False)
                == pytest.approx(logj, rel=1e-10, abs=1e-10))


@pytest.mark.parametrize("case", ["gp-matern52", "gp-rbf", "rw2"])
def test_gradient_equals_finite_differences_of_reference(bound: dict[str, Bound],
                                                         case: str) -> None:
    b = bound[case]
    u = smooth_point(b.data, np.random.default_rng(11))
    v, g = b.with_prior.value_and_grad(u, jacobian=True)
    assert v == pytest.approx(b.ref(u), rel=RTOL)
    assert_grad_close(g, fd_grad(b.ref, u))


@pytest.mark.parametrize("kernel", ["matern52", "matern32"])
def test_events_on_inducing_inputs_and_at_the_window_end(backend: PystanBackend,
                                                         sequence: tuple, kernel: str) -> None:
    """The separable Matern evaluation (events exactly on inducing inputs, the first and the
    last included) equals the reference's kernel matrix product."""
    t, m = sequence
    data = ref.stan_data(t, m, M0, T_START, T_END, kernel=kernel, n_inducing=9, n_panels=18)
    times = np.array(data["t"], dtype=float)
    times[[0, 5, 50, -1]] = np.exp(data["latent_x"][[0, 2, 4, 8]])
    data = {**data, "t": times, "s": np.log(times)}
    b = Bound(backend, data)
    rng = np.random.default_rng(17)
    for _ in range(3):
        u = random_point(data, rng)
        assert b.with_prior.value(u, jacobian=True) == pytest.approx(b.ref(u), rel=RTOL)


@pytest.mark.parametrize("kernel", ["matern52", "matern32"])
def test_events_outside_the_inducing_inputs(backend: PystanBackend, sequence: tuple,
                                            kernel: str) -> None:
    """Events below the first and above the last inducing input (no inducing input on one
    side: the torch engine's ``valid`` mask) still give the reference's dense kernel product,
    value and gradient."""
    t, m = sequence
    data = ref.stan_data(t, m, M0, T_START, T_END, kernel=kernel, n_inducing=9, n_panels=18)
    times = np.array(data["t"], dtype=float)
    z = np.asarray(data["latent_x"])
    times[[0, 1, -1]] = np.exp([z[0] - 0.7, z[0] - 0.05, z[-1] + 0.4])
    data = {**data, "t": times, "s": np.log(times)}
    b = Bound(backend, data)
    rng = np.random.default_rng(23)
    for _ in range(3):
        u = random_point(data, rng)
        assert b.with_prior.value(u, jacobian=True) == pytest.approx(b.ref(u), rel=RTOL)
    u = smooth_point(data, rng)
    _, g = b.with_prior.value_and_grad(u, jacobian=True)
    assert_grad_close(g, fd_grad(b.ref, u))


@pytest.mark.parametrize("prior", ["gp", "rw2"])
def test_torch_engine_equals_stan_in_the_sampled_coordinates(backend: PystanBackend,
                                                             sequence: tuple, prior: str) -> None:
    """The family's torch log density (log_rate, mu_bar in place of K, mu_0; log K added
    with the prior) equals the Stan program's at the same unconstrained points, value (up
    to the truncation constants of p and beta that the torch prior leaves out) and gradient;
    and K, mu_0 of the family's map equal the reference's."""
    from scipy.stats import norm

    from pystats import AftershockDetection
    from pystats.backends.torch import TorchBackend

    t, m = sequence
    model = AftershockDetection(mainshock_magnitude=M0, mu_prior=prior, n_inducing=12,
                                n_nodes=14, n_panels=26)
    data = model.prepare((t, m), t_start=T_START, t_end=T_END)
    params = model.parameters(data)
    stan = backend.log_density(model, data, include_prior=True)
    torch_d = TorchBackend().log_density(model, data, include_prior=True)
    const = (math.log(norm.cdf(3.0, 1.1, 0.3) - norm.cdf(0.2, 1.1, 0.3))
             + math.log(norm.sf(0.0, math.log(10), 0.5 * math.log(10))))
    sd = {**model.stan_data(data), "include_prior": 1}
    rng = np.random.default_rng(8)
    for _ in range(3):
        u = random_point(sd, rng)
        v_s, g_s = stan.value_and_grad(u, jacobian=True)
        v_t, g_t = torch_d.value_and_grad(u, jacobian=True)
        assert v_t - const == pytest.approx(v_s, rel=1e-10)
        np.testing.assert_allclose(g_t, g_s, rtol=1e-7, atol=1e-7 * np.max(np.abs(g_s)))
        nat, _ = ref.constrain(u, sd)
        draws = {k: np.asarray(x)[None] for k, x in params.constrain(u).items()}
        got = model.derived(draws, data)
        assert float(got["K"][0]) == pytest.approx(nat["K"], rel=1e-12)
        assert float(got["mu_0"][0]) == pytest.approx(nat["mu_0"], rel=1e-12)


# ---------------------------------------------------------------------------- log Phi tail
def test_tail_guard_far_below_mu(backend: PystanBackend, sequence: tuple) -> None:
    """Events 25 sigma (and one 45 sigma, where Stan's std_normal_lcdf is -inf) below mu:
    the density is finite and equals the reference, the gradient is right."""
    t, m = sequence
    data = ref.stan_data(t, m, M0, T_START, T_END, n_inducing=10, n_panels=20)
    u = smooth_point(data, np.random.default_rng(5))
    params, _ = ref.constrain(u, data)
    mu = ref.mu_of_t(data["t"], params, data)
    mags = np.array(data["m"], dtype=float)
    idx = [3, data["N"] // 2, data["N"] - 2]
    mags[idx] = mu[idx] - 25.0 * params["sigma"]
    mags[7] = mu[7] - 45.0 * params["sigma"]
    data = {**data, "m": mags}
    z = (mags - mu) / params["sigma"]
    assert np.isclose(z.min(), -45.0) and np.sum(z < -24.9) == 4
    b = Bound(backend, data)
    v, g = b.with_prior.value_and_grad(u, jacobian=True)
    assert math.isfinite(v)
    assert v == pytest.approx(b.ref(u), rel=RTOL)
    assert_grad_close(g, fd_grad(b.ref, u))


def test_reference_log_phi_matches_scipy_above_the_guard() -> None:
    from scipy.special import log_ndtr

    z = np.linspace(-20.0, 8.0, 301)
    np.testing.assert_array_equal(ref.log_phi(z), log_ndtr(z))
    # below -20 the guard's asymptotic series equals log Phi to rounding
    zt = np.linspace(-60.0, -20.0001, 200)
    assert np.max(np.abs(ref.log_phi(zt) - log_ndtr(zt)) / np.abs(log_ndtr(zt))) < 1e-14
    assert abs(ref.log_phi(np.nextafter(-20.0, -np.inf)) - log_ndtr(-20.0)) < 1e-12


# ---------------------------------------------------------------------------- NUTS
@pytest.mark.slow
def test_nuts_recovers_the_simulated_parameters(backend: PystanBackend,
                                                sequence: tuple) -> None:
    """4 chains x (400 warmup + 400 draws) on the simulated sequence (8 inducing inputs,
    16 quadrature panels, to keep it short): no divergences, R-hat < 1.01 over every sampled
    parameter (z included) and K, mu_0, every rate parameter's truth inside its central
    99 % interval, and the generated quantities K, mu_0, mu_slope, b and mu_at_events equal
    the reference's map from the sampled coordinates (log_rate, mu_bar, mu_slope_bar)."""
    import arviz as az

    t, m = sequence
    data = ref.stan_data(t, m, M0, T_START, T_END, n_inducing=8, n_panels=16)
    model = AftershockStanModel()
    res = backend.sample(model, model.prepare(data), chains=4, draws=400, warmup=400,
                         seed=20130726)
    assert not res.sample_stats["diverging"].any()
    names = [p.name for p in model.parameters(model.prepare(data)) if p.size] + ["K", "mu_0"]
    rhat = az.rhat(az.from_dict(posterior={k: res.draws[k] for k in names}))
    assert max(float(rhat[k].max()) for k in names) < 1.01, {k: float(rhat[k].max())
                                                              for k in names}
    for name, truth in TRUTH.items():
        lo, hi = np.quantile(res.draws[name], [0.005, 0.995])
        assert lo < truth < hi, (name, truth, lo, hi)
    np.testing.assert_allclose(res.draws["b"], res.draws["beta"] / math.log(10), rtol=1e-12)
    for chain, draw in ((0, 0), (3, 399)):
        sampled = {k: (res.draws[k][chain, draw] if k == "z"
                       else float(np.ravel(res.draws[k][chain, draw])[0]))
                   for k in ("log_rate", "c", "p", "beta", "sigma", "mu_bar", "mu_slope_bar",
                             "gp_amplitude", "gp_lengthscale", "z")}
        nat = ref.to_natural(sampled, data)
        for k in ("K", "mu_0", "mu_slope"):
            assert float(res.draws[k][chain, draw]) == pytest.approx(nat[k], rel=1e-6, abs=1e-9)
        np.testing.assert_allclose(res.draws["mu_at_events"][chain, draw],
                                   ref.mu_of_t(data["t"], nat, data), rtol=1e-6)


# ---------------------------------------------------------------------------- rate="etas"
@pytest.mark.parametrize("prior", ["gp", "rw2"])
def test_etas_rate_log_density_equals_reference(backend: PystanBackend, sequence: tuple,
                                                prior: str) -> None:
    """rate = 2: Stan (pair sums, near/far tables) vs the reference (double loop, quad per
    parent, history parents before t_start), with priors and Jacobian: relative 1e-9."""
    t, m = sequence
    data = ref.stan_data(t, m, M0, 0.02, 0.3, prior=prior, n_inducing=10, n_nodes=12,
                         n_panels=22, rate="etas")
    assert data["n_parents"] > data["N"] > 30
    b = Bound(backend, data)
    rng = np.random.default_rng(5)
    for _ in range(2):
        u = smooth_point(data, rng)
        assert b.with_prior.value(u, jacobian=True) == pytest.approx(b.ref(u), rel=1e-9)
        assert b.likelihood.value(u, jacobian=False) == pytest.approx(b.ref(u, False),
                                                                      rel=1e-9)


def test_etas_rate_torch_and_stan_engines_agree_with_gradient(backend: PystanBackend,
                                                             sequence: tuple) -> None:
    """The family itself on both engines (same parameters(), same unconstrained point),
    rate="etas": the log likelihood and its gradient to 1e-9 / 1e-7; with priors and
    Jacobian the gradients to 1e-7 (the values differ by the constant normalising masses of
    the truncated p and beta priors, which the torch prior leaves out: model card §2)."""
    import pandas as pd

    from pystats.aftershock import AftershockDetection
    from pystats.backends.torch import TorchBackend

    t, m = sequence
    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", n_inducing=10,
                                n_panels=20)
    data = model.prepare(pd.DataFrame({"time": t, "magnitude": m}), t_start=0.02, t_end=0.3)
    rng = np.random.default_rng(9)
    params = model.parameters(data)
    us = [params.unconstrain(model.initial_values(data, rng)) for _ in range(2)]
    const = (math.log(stats.norm.cdf(3.0, 1.1, 0.3) - stats.norm.cdf(0.2, 1.1, 0.3))
             + math.log(stats.norm.sf(0.0, math.log(10), 0.5 * math.log(10))))
    for prior in (False, True):
        stan = backend.log_density(model, data, include_prior=prior)
        torch_ld = TorchBackend().log_density(model, data, include_prior=prior)
        for u in us:
            v_s, g_s = stan.value_and_grad(u, jacobian=prior)
            v_t, g_t = torch_ld.value_and_grad(u, jacobian=prior)
            assert v_s == pytest.approx(v_t - (const if prior else 0.0), rel=1e-9)
            np.testing.assert_allclose(g_s, g_t, rtol=1e-7, atol=1e-7 * np.max(np.abs(g_t)))
