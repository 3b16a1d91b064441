"""Bridge-sampling marginal likelihoods (pystats.bridge) against closed forms.

* The algorithm on exact posterior draws of conjugate models: normal means with a normal
  prior (3 dimensions) and the Gutenberg–Richter b-value with a gamma prior on
  ``beta = b ln 10`` (exponential magnitudes: closed-form marginal likelihood), sampled on
  the log scale with its Jacobian; a Bayes factor between two gamma priors; the reported
  error against the spread of repeated estimates.
* Through a NUTS fit (pystan): ``GutenbergRichter`` with lognormal priors on ``b`` and
  ``rate``, whose marginal likelihood factorises into two one-dimensional integrals
  (quadrature), and the Bayes factor between two ``b`` priors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats
from toy_models import NormalModel, sampled_fit

import pystats
from pystats.backends.stan_program import load_program
from pystats.bridge import (
    BridgeSamplingWarning,
    bridge_sampling,
    dropped_constant_statements,
    log_marginal_likelihood,
    unconstrained_draws,
)
from pystats.errors import FitError, MethodNotSupportedError, OptionError

LN10 = math.log(10.0)


# ----------------------------------------------------------------- conjugate models
def _normal_problem(seed: int = 0, n: int = 20, dim: int = 3, s0: float = 2.0):
    """y[i, j] ~ N(mu_j, 1), mu_j ~ N(0, s0²): density, exact posterior draws, log p(y)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(1.0, 1.0, (n, dim))
    prec = n + 1 / s0**2
    post_mean, post_sd = y.sum(0) / prec, prec**-0.5

    def log_density(u: np.ndarray) -> np.ndarray:
        return (stats.norm.logpdf(y[None], u[:, None, :], 1.0).sum((1, 2))
                + stats.norm.logpdf(u, 0.0, s0).sum(1))

    cov = np.eye(n) + s0**2  # y[:, j] ~ N(0, I + s0² 11ᵀ)
    exact = sum(stats.multivariate_normal(np.zeros(n), cov).logpdf(y[:, j]) for j in range(dim))

    def draws(chains: int, n_draws: int, draw_seed: int) -> np.ndarray:
        r = np.random.default_rng(draw_seed)
        return r.normal(post_mean, post_sd, (chains, n_draws, dim))

    return log_density, draws, exact


def _gr_gamma_problem(a: float, rate: float, seed: int = 1, n: int = 150, b: float = 1.0):
    """Magnitude excesses x ~ Exponential(beta), beta = b ln 10, prior beta ~ Gamma(a, rate):
    log p(x) = a log rate − lgamma(a) + lgamma(a + n) − (a + n) log(rate + Σx).  Sampled
    on u = log beta (log density with the Jacobian log beta = u)."""
    x = np.random.default_rng(seed).exponential(1 / (b * LN10), n)
    sx = float(x.sum())
    exact = (a * math.log(rate) - special.gammaln(a) + special.gammaln(a + n)
             - (a + n) * math.log(rate + sx))

    def log_density(u: np.ndarray) -> np.ndarray:
        beta = np.exp(u[:, 0])
        return (n * u[:, 0] - beta * sx + stats.gamma.logpdf(beta, a, scale=1 / rate)
                + u[:, 0])

    def draws(chains: int, n_draws: int, draw_seed: int) -> np.ndarray:
        r = np.random.default_rng(draw_seed)
        beta = r.gamma(a + n, 1 / (rate + sx), (chains, n_draws, 1))
        return np.log(beta)

    return log_density, draws, exact


def test_normal_means_match_closed_form() -> None:
    log_density, draws, exact = _normal_problem()
    r = bridge_sampling(log_density, draws(4, 1000, 5), seed=1)
    assert r.converged and r.iterations < 50
    assert r.n_posterior == 2000 and r.n_proposal == 2000
    assert 0 < r.error < 0.01
    assert abs(r.log_marginal_likelihood - exact) < 3 * r.error


def test_gr_b_value_gamma_prior_matches_closed_form() -> None:
    log_density, draws, exact = _gr_gamma_problem(a=2.0, rate=1.0)
    r = bridge_sampling(log_density, draws(4, 1000, 7), seed=2)
    assert r.converged
    assert abs(r.log_marginal_likelihood - exact) < 3 * r.error
    assert r.error < 0.01


def test_bayes_factor_between_gamma_priors() -> None:
    """Same magnitudes, prior Gamma(2, 1) (mean beta 2) against Gamma(50, 10) (mean 5, far
    from the data's beta ≈ 2.3): the log Bayes factor is known in closed form."""
    ld1, dr1, ex1 = _gr_gamma_problem(a=2.0, rate=1.0)
    ld2, dr2, ex2 = _gr_gamma_problem(a=50.0, rate=10.0)
    r1 = bridge_sampling(ld1, dr1(4, 1000, 11), seed=3)
    r2 = bridge_sampling(ld2, dr2(4, 1000, 12), seed=4)
    log_bf = r1.log_marginal_likelihood - r2.log_marginal_likelihood
    assert ex1 - ex2 > 2.0  # a clear preference, so the test checks a real difference
    assert abs(log_bf - (ex1 - ex2)) < 3 * math.hypot(r1.error, r2.error)


def test_reported_error_matches_spread_of_estimates() -> None:
    """Over 40 independent replicates (draws and proposal), the standard deviation of the
    estimates agrees with the mean reported error within a factor 1.6, and the estimates
    are unbiased (mean within 4 standard errors of the mean of the closed form)."""
    log_density, draws, exact = _normal_problem(dim=4)
    est, err = [], []
    for k in range(40):
        r = bridge_sampling(log_density, draws(2, 200, 100 + k), seed=k)
        est.append(r.log_marginal_likelihood)
        err.append(r.error)
    sd, mean_err = float(np.std(est, ddof=1)), float(np.mean(err))
    assert 1 / 1.6 < sd / mean_err < 1.6
    assert abs(np.mean(est) - exact) < 4 * sd / math.sqrt(len(est))


def test_autocorrelated_draws_inflate_the_error() -> None:
    """The posterior term uses the effective sample size: thinning-by-repetition (each draw
    repeated 5 times) leaves the estimate but raises the error."""
    log_density, draws, _ = _normal_problem()
    base = draws(4, 200, 9)
    sticky = np.repeat(base, 5, axis=1)
    r_base = bridge_sampling(log_density, base, seed=1, n_proposal=2000)
    r_sticky = bridge_sampling(log_density, sticky, seed=1, n_proposal=2000)
    assert r_sticky.ess_posterior < 0.4 * r_sticky.n_posterior
    assert r_sticky.error > 1.3 * bridge_sampling(log_density, draws(4, 1000, 9), seed=1,
                                                   n_proposal=2000).error
    assert r_base.ess_posterior > 0.7 * r_base.n_posterior


def test_warns_when_not_converged_or_error_large() -> None:
    log_density, draws, _ = _normal_problem()
    d = draws(2, 200, 3)
    with pytest.warns(BridgeSamplingWarning, match="did not converge in 1 iterations"):
        r = bridge_sampling(log_density, d, seed=1, maxiter=1)
    assert not r.converged and r.iterations == 1
    with pytest.warns(BridgeSamplingWarning, match="error of log p"):
        bridge_sampling(log_density, d, seed=1, max_error=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BridgeSamplingWarning)
        bridge_sampling(log_density, d, seed=1)  # converged, error < 0.1: silent


def test_bad_inputs_name_the_problem() -> None:
    log_density, draws, _ = _normal_problem()
    with pytest.raises(OptionError, match=r"draws has shape \(5,\)"):
        bridge_sampling(log_density, np.zeros(5))
    with pytest.raises(OptionError, match="needs at least 20 draws"):
        bridge_sampling(log_density, draws(1, 10, 1))
    with pytest.raises(FitError, match="not finite at 400 of 400 posterior draws"):
        bridge_sampling(lambda u: np.full(len(u), -np.inf), draws(2, 400, 1))
    with pytest.raises(OptionError, match="maxiter=0 is not allowed"):
        bridge_sampling(log_density, draws(2, 100, 1), maxiter=0)
    with pytest.raises(OptionError, match=r"tol=-1\.0 is not allowed"):
        bridge_sampling(log_density, draws(2, 100, 1), tol=-1.0)
    with pytest.raises(FitError, match="singular"):
        bridge_sampling(log_density, np.ones((2, 100, 3)))


# ----------------------------------------------------------------- normalising constants
def test_dropped_constants_are_found_in_stan_programs() -> None:
    """The programs this module is used with write every term as ``target += *_lpdf``;
    ``sparse_isocon.stan`` uses ``~`` (its log p(y) would lack constants)."""
    for name in ("liquid_iron_eos.stan", "liquid_iron_eos_latent.stan", "gr_binned.stan"):
        assert dropped_constant_statements(load_program(name).code) == [], name
    found = dropped_constant_statements(load_program("sparse_isocon.stan").code)
    assert found and all("~" in s or "_lup" in s for s in found)
    code = "model { // x ~ normal(0, 1) in a comment\n target += normal_lpdf(x | 0, 1);\n" \
           " y ~ poisson(lam);\n target += binomial_lupmf(k | n, p); }"
    assert dropped_constant_statements(code) == ["y ~ poisson(lam)",
                                                 "target += binomial_lupmf(k | n, p)"]


def test_refuses_fits_without_mcmc_draws_and_improper_priors() -> None:
    rng = np.random.default_rng(1)
    draws = {"mu": rng.normal(1, 0.1, (2, 100)), "sigma": rng.gamma(50, 0.02, (2, 100))}
    laplace = sampled_fit(NormalModel(), rng.normal(1, 1, 30), draws, method="laplace")
    with pytest.raises(MethodNotSupportedError, match="method='laplace'"):
        log_marginal_likelihood(laplace)
    gr = pystats.GutenbergRichter(mc=2.0)  # Jeffreys rate prior
    m = 2.0 + np.round(rng.exponential(1 / LN10, 300) / 0.1) * 0.1
    fit = sampled_fit(gr, m, {"b": rng.normal(1, 0.05, (2, 100)),
                              "rate": rng.normal(300, 15, (2, 100))})
    with pytest.raises(MethodNotSupportedError, match=r"improper prior.*rate"):
        log_marginal_likelihood(fit)
    assert pystats.GutenbergRichter(mc=2.0, rate_prior=(5.0, 1.0)).improper_priors(
        fit.data) == []
    assert pystats.LiquidIronEOS(errors="latent").improper_priors(None) == [
        "z_V_static", "z_T_static", "z_V_shock"]
    assert pystats.LiquidIronEOS().improper_priors(None) == []


def test_unconstrained_draws_follow_the_parameter_order() -> None:
    rng = np.random.default_rng(2)
    draws = {"mu": rng.normal(1, 0.1, (2, 50)), "sigma": rng.gamma(50, 0.02, (2, 50))}
    fit = sampled_fit(NormalModel(), rng.normal(1, 1, 30), draws)
    u = unconstrained_draws(fit)
    assert u.shape == (2, 50, 2)
    np.testing.assert_allclose(u[..., 0], draws["mu"])
    np.testing.assert_allclose(u[..., 1], np.log(draws["sigma"]))


# ----------------------------------------------------------------- through NUTS (pystan)
B_PRIORS = {"wide": (0.0, 0.5), "narrow_off": (math.log(1.4), 0.05)}
RATE_PRIOR = (math.log(300.0), 1.0)


@pytest.fixture(scope="module")
def gr_magnitudes() -> np.ndarray:
    from pystats.gr.distributions import simulate_gr

    return simulate_gr(300, b=1.0, mc=2.0, delta_m=0.1, rng=3)


@pytest.fixture(scope="module")
def gr_nuts_fits(gr_magnitudes: np.ndarray) -> dict[str, pystats.Fit]:
    pytest.importorskip("stan")
    out = {}
    for label, prior in B_PRIORS.items():
        model = pystats.GutenbergRichter(mc=2.0, b_prior=prior, rate_prior=RATE_PRIOR)
        out[label] = model.fit(gr_magnitudes, method="nuts", backend="pystan", seed=5,
                               chains=4, draws=1000)
    return out


def _gr_quadrature(fit: pystats.Fit) -> float:
    """log p(y) of gr_binned.stan by two one-dimensional quadratures (b and rate separate)."""
    v = fit.data.values
    x, width, n, n_rate = np.asarray(v["x"]), float(v["width"]), int(v["n"]), int(v["n_rate"])
    b_mu, b_sd = float(v["b_prior_mu"]), float(v["b_prior_sigma"])
    sx = float(x.sum())

    def log_b(b: float) -> float:
        beta = b * LN10
        return (n * math.log(-math.expm1(-beta * width)) - beta * sx
                + stats.lognorm.logpdf(b, b_sd, scale=math.exp(b_mu)))

    def log_rate(r: float) -> float:
        return (stats.poisson.logpmf(n_rate, r * float(v["duration"]))
                + stats.lognorm.logpdf(r, RATE_PRIOR[1], scale=math.exp(RATE_PRIOR[0])))

    out = 0.0
    for f, lo, hi in ((log_b, 0.3, 3.0), (log_rate, 150.0, 500.0)):
        grid = np.linspace(lo, hi, 401)
        values = [f(g) for g in grid]
        peak, mode = max(values), float(grid[int(np.argmax(values))])
        val, _ = integrate.quad(lambda t, f=f, peak=peak: math.exp(f(t) - peak), lo, hi,
                                points=[mode], limit=200, epsrel=1e-10)
        out += peak + math.log(val)
    return out


@pytest.fixture(scope="module")
def gr_bridge(gr_nuts_fits: dict[str, pystats.Fit]) -> dict[str, tuple[object, float]]:
    """label -> (bridge-sampling result, log p(y) by quadrature); no warning allowed."""
    out = {}
    for label, fit in gr_nuts_fits.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error", BridgeSamplingWarning)
            out[label] = (log_marginal_likelihood(fit), _gr_quadrature(fit))
    return out


def test_nuts_fit_matches_quadrature(gr_bridge: dict[str, tuple[object, float]]) -> None:
    for label, (r, exact) in gr_bridge.items():
        assert r.converged and r.notes == (), label
        assert r.error < 0.01, label
        # 4 se: the two fits' estimates are 1.0 and 2.6 se from the quadrature (seed 5)
        assert abs(r.log_marginal_likelihood - exact) < 4 * r.error, (label, r, exact)


def test_nuts_bayes_factor_between_b_priors(gr_nuts_fits: dict[str, pystats.Fit],
                                            gr_bridge: dict[str, tuple[object, float]]) -> None:
    (r1, ex1), (r2, ex2) = gr_bridge["wide"], gr_bridge["narrow_off"]
    true_bf = ex1 - ex2
    assert true_bf > 3.0  # the prior away from b = 1 loses clearly
    log_bf = r1.log_marginal_likelihood - r2.log_marginal_likelihood
    assert abs(log_bf - true_bf) < 3 * math.hypot(r1.error, r2.error)
    again = pystats.log_marginal_likelihood(gr_nuts_fits["wide"])  # the fit's seed
    assert again.log_marginal_likelihood == r1.log_marginal_likelihood


# ----------------------------------------------------------------- liquid-iron EOS
@pytest.mark.slow
def test_eos_isotherms_bridge_against_laplace_evidence(shared_data) -> None:
    """``compare_isotherms(bridge=True)`` on data simulated from the Vinet (Kuwayama) EOS
    (NUTS 2 × 500): each isotherm's log p(y) within 0.5 of the Laplace approximation of the
    evidence, ``log q(û) + d/2 log 2π + ½ log det Σ`` on the unconstrained scale (close
    for these near-normal posteriors), errors below 0.1, and ``log_bf`` the difference."""
    from test_eos_model import KUW, real_conditions

    from pystats.eos.data import simulate_observations

    data = simulate_observations(KUW, seed=11, **real_conditions(shared_data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.ConvergenceWarning)
        table = pystats.eos.compare_isotherms(data, method="nuts", seed=4, chains=2,
                                              draws=500, warmup=500, bridge=True,
                                              model_options={"errors": "marginal"})
    assert set(table.index) == {"vinet", "bm3"}
    assert float(table["log_ml_error"].max()) < 0.1
    np.testing.assert_allclose(table["log_bf"], table["log_ml"] - table["log_ml"].max())
    for iso in ("vinet", "bm3"):
        lap = pystats.LiquidIronEOS(isotherm=iso, errors="marginal").fit(
            data, method="laplace", seed=1)
        cov = np.asarray(lap.cov_unconstrained)
        evidence = (lap.optimizer["log_density"] + 0.5 * cov.shape[0] * math.log(2 * math.pi)
                    + 0.5 * np.linalg.slogdet(cov)[1])
        assert abs(table.loc[iso, "log_ml"] - evidence) < 0.5, (iso, table.loc[iso], evidence)
    with pytest.raises(OptionError, match="bridge=True needs method='nuts'"):
        pystats.eos.compare_isotherms(data, method="laplace", bridge=True)
    with pytest.raises(OptionError, match=r"errors.: .marginal.*got errors='profile'"):
        pystats.eos.compare_isotherms(data, method="nuts", bridge=True)
