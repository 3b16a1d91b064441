"""Summary, diagnostics, arviz conversion, save/load and report of ``Fit`` objects.

Fits are built directly from synthetic draws (tests/toy_models.py), so no engine runs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from toy_models import (
    GroupMeansModel,
    NormalModel,
    clean_stats,
    normal_data,
    normal_mle_fit,
    sampled_fit,
)

from pystats.diagnostics import Diagnostics, Problem, diagnose, e_bfmi
from pystats.errors import ConvergenceWarning, DataError, OptionError
from pystats.fit import Fit
from pystats.persistence import load, save_fit
from pystats.summary import summary_html, summary_table, summary_text

N_CHAINS, N_DRAWS = 4, 1000


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def y() -> np.ndarray:
    return normal_data(n=200, mu=1.5, sigma=0.7, seed=1)


def _iid_draws(seed: int = 0, shift: tuple[float, ...] = (0, 0, 0, 0)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = rng.normal(1.5, 0.05, (N_CHAINS, N_DRAWS)) + np.asarray(shift)[:, None]
    sigma = np.exp(rng.normal(math.log(0.7), 0.05, (N_CHAINS, N_DRAWS)))
    return {"mu": mu, "sigma": sigma}


@pytest.fixture(scope="module")
def nuts_fit(y: np.ndarray) -> Fit:
    return sampled_fit(NormalModel(), y, _iid_draws(), sample_stats=clean_stats(N_CHAINS, N_DRAWS))


@pytest.fixture(scope="module")
def mle_fit(y: np.ndarray) -> Fit:
    return normal_mle_fit(y)


@pytest.fixture(scope="module")
def group_fit() -> Fit:
    rng = np.random.default_rng(4)
    group = np.arange(90) % 3
    yy = rng.normal(np.array([0.0, 1.0, 2.0])[group], 1.0)
    draws = {
        "mu": rng.normal([0.0, 1.0, 2.0], 0.2, (N_CHAINS, N_DRAWS, 3)),
        "sigma": np.exp(rng.normal(0.0, 0.08, (N_CHAINS, N_DRAWS))),
    }
    return sampled_fit(GroupMeansModel(n_groups=3), (yy, group), draws,
                       sample_stats=clean_stats(N_CHAINS, N_DRAWS))


def _with_stats(fit: Fit, **changes: np.ndarray) -> Fit:
    stats_ = dict(fit.sample_stats)
    stats_.update(changes)
    return Fit(
        model=fit.model, data=fit.data, method=fit.method, backend=fit.backend,
        parameters=fit.parameters, draws=fit.draws, sample_stats=stats_,
        max_tree_depth=fit.max_tree_depth, metadata=fit.metadata,
    )


def _replace(fit: Fit, **changes: object) -> Fit:
    fields = {
        k: getattr(fit, k)
        for k in ("model", "data", "method", "backend", "parameters", "point", "cov",
                  "cov_unconstrained", "draws", "sample_stats", "optimizer", "max_tree_depth",
                  "metadata")
    }
    fields.update(changes)
    return Fit(**fields)


def _no_warning(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------- summary
def test_nuts_summary_columns_and_moments(nuts_fit: Fit) -> None:
    df = nuts_fit.summary()
    assert list(df.columns) == ["mean", "sd", "hdi_lower", "hdi_upper", "mcse_mean",
                                "ess_bulk", "ess_tail", "r_hat", "kind"]
    assert list(df.index) == ["mu", "sigma", "precision"]
    assert list(df["kind"]) == ["parameter", "parameter", "derived"]
    for name in ("mu", "sigma"):
        x = np.asarray(nuts_fit.draws[name]).ravel()
        assert df.loc[name, "mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert df.loc[name, "sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    precision = 1.0 / np.asarray(nuts_fit.draws["sigma"]).ravel() ** 2
    assert df.loc["precision", "mean"] == pytest.approx(precision.mean(), rel=1e-12)
    # independent draws: ESS close to the number of draws, R-hat close to 1
    assert df.loc["mu", "ess_bulk"] > 0.8 * N_CHAINS * N_DRAWS
    assert abs(df.loc["mu", "r_hat"] - 1) < 0.01
    # MCSE of the mean of iid draws is sd / sqrt(n)
    assert df.loc["mu", "mcse_mean"] == pytest.approx(
        df.loc["mu", "sd"] / math.sqrt(N_CHAINS * N_DRAWS), rel=0.15
    )
    assert df.attrs == {}  # a plain frame: renderings are summary_text() / summary_html()


def test_hdi_is_the_shortest_interval(nuts_fit: Fit) -> None:
    df = nuts_fit.summary(prob=0.8)
    x = np.sort(np.asarray(nuts_fit.draws["sigma"]).ravel())
    inc = math.floor(0.8 * x.size)
    widths = x[inc:] - x[: x.size - inc]
    i = int(np.argmin(widths))
    assert df.loc["sigma", "hdi_lower"] == pytest.approx(x[i])
    assert df.loc["sigma", "hdi_upper"] == pytest.approx(x[i + inc])


def test_array_parameter_rows(group_fit: Fit) -> None:
    df = group_fit.summary()
    assert list(df.index) == ["mu[0]", "mu[1]", "mu[2]", "sigma", "spread"]
    mu = np.asarray(group_fit.draws["mu"])
    for j in range(3):
        assert df.loc[f"mu[{j}]", "mean"] == pytest.approx(mu[..., j].mean(), rel=1e-12)
    assert df.loc["spread", "kind"] == "derived"
    assert not group_fit.summary(derived=False).index.isin(["spread"]).any()


def test_derived_computed_when_missing_from_draws(y: np.ndarray) -> None:
    model = NormalModel()
    data = model.prepare(y)
    draws = _iid_draws(seed=3)
    fit = Fit(model=model, data=data, method="laplace", backend="synthetic",
              parameters=model.parameters(data), draws=draws)
    df = fit.summary()
    assert list(df.columns) == ["mean", "sd", "hdi_lower", "hdi_upper", "kind"]
    assert df.loc["precision", "mean"] == pytest.approx(np.mean(1 / draws["sigma"] ** 2))


def test_mle_summary_wald_interval_on_unconstrained_scale(mle_fit: Fit, y: np.ndarray) -> None:
    df = mle_fit.summary(prob=0.9)
    assert list(df.columns) == ["estimate", "se", "lower", "upper", "kind"]
    n = y.size
    mu_hat = y.mean()
    s_hat = math.sqrt(np.mean((y - mu_hat) ** 2))
    z = stats.norm.ppf(0.95)
    # closed forms: se(mu) = s/sqrt(n); se(sigma) = s/sqrt(2n) by the delta method
    assert df.loc["mu", "estimate"] == pytest.approx(mu_hat)
    assert df.loc["mu", "se"] == pytest.approx(s_hat / math.sqrt(n))
    assert df.loc["sigma", "se"] == pytest.approx(s_hat / math.sqrt(2 * n))
    assert df.loc["mu", "lower"] == pytest.approx(mu_hat - z * s_hat / math.sqrt(n))
    sd_log = 1 / math.sqrt(2 * n)
    assert df.loc["sigma", "lower"] == pytest.approx(s_hat * math.exp(-z * sd_log))
    assert df.loc["sigma", "upper"] == pytest.approx(s_hat * math.exp(z * sd_log))
    # the truth (1.5, 0.7) is recovered within 3 standard errors
    assert abs(df.loc["mu", "estimate"] - 1.5) < 3 * df.loc["mu", "se"]
    assert abs(df.loc["sigma", "estimate"] - 0.7) < 3 * df.loc["sigma", "se"]
    # derived: evaluated at the estimate, delta-method se (precision = exp(-2 log sigma):
    # |d/d log sigma| = 2 / s^2, sd(log sigma) = 1 / sqrt(2n)), interval from the draws
    assert df.loc["precision", "estimate"] == pytest.approx(1 / s_hat**2)
    prec = 1 / np.asarray(mle_fit.draws["sigma"]).ravel() ** 2
    assert df.loc["precision", "se"] == pytest.approx(2 / s_hat**2 / math.sqrt(2 * n), rel=1e-7)
    assert df.loc["precision", "lower"] == pytest.approx(np.quantile(prec, 0.05))


def test_mle_interval_of_positive_parameter_stays_positive(mle_fit: Fit) -> None:
    # sigma small and poorly determined: a constrained-scale Wald interval would go negative
    cov_u = np.diag([0.01, 1.0])
    fit = _replace(mle_fit, point={"mu": 1.0, "sigma": 0.05}, cov_unconstrained=cov_u,
                   cov=np.diag([0.01, 0.05**2]))
    df = fit.summary(prob=0.95)
    z = stats.norm.ppf(0.975)
    assert df.loc["sigma", "estimate"] - z * df.loc["sigma", "se"] < 0
    assert df.loc["sigma", "lower"] == pytest.approx(0.05 * math.exp(-z))
    assert df.loc["sigma", "lower"] > 0
    assert df.loc["sigma", "upper"] == pytest.approx(0.05 * math.exp(z))


def test_summary_rejects_bad_prob(nuts_fit: Fit) -> None:
    with pytest.raises(OptionError, match="prob"):
        summary_table(nuts_fit, prob=1.5)
    with pytest.raises(OptionError, match="prob"):
        summary_text(nuts_fit, prob=0)


def test_summary_text_mle(mle_fit: Fit) -> None:
    text = mle_fit.summary_text()
    loglik = mle_fit.optimizer["log_density"]
    assert "NormalModel" in text and "mle" in text and "closed_form" in text
    assert f"{loglik:.4f}" in text
    assert f"{2 * 2 - 2 * loglik:.4f}" in text  # AIC = 2k - 2 logL, k = 2
    assert "No. data:" in text and "200" in text
    for name in ("mu", "sigma", "precision"):
        assert re.search(rf"^{re.escape(name)}\s", text, re.MULTILINE)
    assert "no problems detected" in text


def test_summary_text_lists_problems_as_numbered_notes(y: np.ndarray) -> None:
    fit = sampled_fit(NormalModel(), y, _iid_draws(shift=(0, 0, 0.5, 0.5)),
                      sample_stats=clean_stats(N_CHAINS, N_DRAWS))
    text = fit.summary_text()
    assert "Notes:" in text and "[1] R-hat above 1.01" in text
    html_ = summary_html(fit)
    assert "<ol class='pystats-notes'>" in html_ and "R-hat above 1.01" in html_


# ---------------------------------------------------------------------- diagnostics
def test_clean_chains_pass_without_warning(nuts_fit: Fit) -> None:
    d = _no_warning(nuts_fit.diagnose)
    assert isinstance(d, Diagnostics) and d.ok and d.problems == ()
    assert set(d.checks) == {"r_hat", "ess_bulk", "ess_tail", "divergences", "tree_depth",
                             "e_bfmi"}
    assert all(c.passed for c in d.checks.values())
    text = str(d)
    assert "R-hat: all <= 1.01" in text and "chains agree" in text
    frame = d.to_frame()
    assert frame.loc["r_hat", "passed"] and frame.loc["r_hat", "value"] < 1.01


def test_rhat_flags_chains_with_different_means(y: np.ndarray) -> None:
    fit = sampled_fit(NormalModel(), y, _iid_draws(shift=(0, 0, 0.3, 0.3)),
                      sample_stats=clean_stats(N_CHAINS, N_DRAWS))
    assert fit.summary().loc["mu", "r_hat"] > 1.5
    with pytest.warns(ConvergenceWarning, match="R-hat above 1.01 for mu") as record:
        d = fit.diagnose()
    assert "more warmup" in str(record[0].message)
    assert not d.ok
    problem = next(p for p in d.problems if p.check == "r_hat")
    assert isinstance(problem, Problem) and problem.severity == "error"
    assert "sigma" not in problem.message  # sigma's chains agree
    assert d.checks["r_hat"].passed is False


def test_ess_flags_autocorrelated_chains(y: np.ndarray) -> None:
    rng = np.random.default_rng(8)
    eps = rng.normal(size=(N_CHAINS, N_DRAWS))
    ar = np.empty_like(eps)
    ar[:, 0] = eps[:, 0]
    for t in range(1, N_DRAWS):  # AR(1), phi = 0.99: ESS about n (1-phi)/(1+phi) = 20
        ar[:, t] = 0.99 * ar[:, t - 1] + math.sqrt(1 - 0.99**2) * eps[:, t]
    draws = _iid_draws(seed=9)
    draws["mu"] = 1.5 + 0.05 * ar
    fit = sampled_fit(NormalModel(), y, draws, sample_stats=clean_stats(N_CHAINS, N_DRAWS))
    d = diagnose(fit, warn=False)
    flagged = {p.check for p in d.problems}
    assert "ess_bulk" in flagged and "ess_tail" in flagged
    assert d.checks["ess_bulk"].threshold == 100 * N_CHAINS
    assert d.checks["ess_bulk"].value < 100 * N_CHAINS


def test_divergences_counted(nuts_fit: Fit) -> None:
    div = np.zeros((N_CHAINS, N_DRAWS), dtype=bool)
    div[1, :7] = True
    div[3, 100:103] = True
    fit = _with_stats(nuts_fit, diverging=div)
    with pytest.warns(ConvergenceWarning, match="adapt_delta"):
        d = fit.diagnose()
    assert d.checks["divergences"].value == 10
    msg = next(p.message for p in d.problems if p.check == "divergences")
    assert "10 divergent transitions" in msg and "0.25%" in msg


def test_tree_depth_saturation_counted(nuts_fit: Fit) -> None:
    depth = np.full((N_CHAINS, N_DRAWS), 4)
    depth[0, :25] = 10
    d = diagnose(_with_stats(nuts_fit, tree_depth=depth), warn=False)
    assert d.checks["tree_depth"].passed is False and d.checks["tree_depth"].value == 25
    fit12 = _replace(_with_stats(nuts_fit, tree_depth=depth), max_tree_depth=12)
    assert diagnose(fit12, warn=False).checks["tree_depth"].passed is True


def test_e_bfmi_detects_random_walk_energy(nuts_fit: Fit) -> None:
    rng = np.random.default_rng(2)
    energy = rng.normal(0, 1, (N_CHAINS, N_DRAWS))
    # iid energies: E[(E_t - E_t-1)^2] / Var(E) = 2
    assert e_bfmi(energy) == pytest.approx(np.full(N_CHAINS, 2.0), abs=0.15)
    energy[2] = np.cumsum(rng.normal(0, 1, N_DRAWS))  # random walk: tiny E-BFMI
    d = diagnose(_with_stats(nuts_fit, energy=energy), warn=False)
    problem = next(p for p in d.problems if p.check == "e_bfmi")
    assert "chain(s) 2 " in problem.message
    assert d.checks["e_bfmi"].value < 0.3


def test_mle_clean_fit_passes(mle_fit: Fit) -> None:
    d = _no_warning(mle_fit.diagnose)
    assert d.ok
    assert {"converged", "hessian", "boundary", "flat", "multiple_starts"} <= set(d.checks)


@pytest.mark.parametrize(
    ("changes", "check", "severity"),
    [
        ({"optimizer": {"converged": False, "message": "ABNORMAL_TERMINATION"}},
         "converged", "error"),
        ({"optimizer": {"converged": True, "hessian_pd": False}, "cov": None,
          "cov_unconstrained": None}, "hessian", "error"),
        ({"optimizer": {"converged": True, "at_boundary": ["sigma"]}}, "boundary", "warning"),
        ({"optimizer": {"converged": True, "optima": (-10.0, -10.0005, -12.0)}},
         "multiple_starts", "warning"),
        ({"cov_unconstrained": np.array([[1.0, 1 - 1e-10], [1 - 1e-10, 1.0]]) * 1e-2},
         "flat", "warning"),
        ({"cov_unconstrained": np.diag([1e-3, 1e6])}, "flat", "warning"),
    ],
)
def test_mle_problems_detected(mle_fit: Fit, changes: dict, check: str, severity: str) -> None:
    fit = _replace(mle_fit, **changes)
    with pytest.warns(ConvergenceWarning):
        d = fit.diagnose()
    problem = next(p for p in d.problems if p.check == check)
    assert problem.severity == severity
    assert d.checks[check].passed is False


def test_optima_spread_counts_only_distant_starts(mle_fit: Fit) -> None:
    fit = _replace(mle_fit, optimizer={"converged": True, "optima": (-10.0, -10.0005, -12.0)})
    problem = next(p for p in diagnose(fit, warn=False).problems if p.check == "multiple_starts")
    assert problem.message.startswith("1 of 3 optimizer starts")


def test_laplace_pareto_k(y: np.ndarray, mle_fit: Fit) -> None:
    base = dict(converged=True, hessian_pd=True)
    good = sampled_fit(NormalModel(), y, _iid_draws(), method="laplace",
                       optimizer={**base, "pareto_k": 0.3})
    good = _replace(good, cov_unconstrained=mle_fit.cov_unconstrained)
    assert _no_warning(good.diagnose).ok
    bad = _replace(good, optimizer={**base, "pareto_k": 0.9})
    with pytest.warns(ConvergenceWarning, match="Pareto k"):
        d = bad.diagnose()
    assert [p.check for p in d.problems] == ["pareto_k"]


# ---------------------------------------------------------------------- arviz
def test_to_arviz_groups_nuts(nuts_fit: Fit) -> None:
    idata = nuts_fit.to_arviz()
    assert {"posterior", "sample_stats", "observed_data", "posterior_predictive",
            "constant_data"} <= set(idata.groups())
    assert set(idata.posterior.data_vars) == {"mu", "sigma", "precision"}
    np.testing.assert_array_equal(idata.posterior["mu"].values, nuts_fit.draws["mu"])
    assert idata.sample_stats["diverging"].dtype == bool
    assert idata.posterior.attrs["draws_kind"] == "posterior"
    assert idata.attrs["seed"] == nuts_fit.metadata["seed"]
    np.testing.assert_array_equal(idata.observed_data["y"].values, nuts_fit.data.observed["y"])
    pp = idata.posterior_predictive["y"]
    assert pp.shape == (N_CHAINS, N_DRAWS, 200)
    assert pp.dims[2] == idata.observed_data["y"].dims[0]
    # reproducible: the generator is derived from the fit's seed
    np.testing.assert_array_equal(nuts_fit.to_arviz().posterior_predictive["y"].values, pp.values)
    # replicated data follow the model: mean of replicates close to the draws of mu
    assert float(np.abs(pp.values.mean(axis=-1) - nuts_fit.draws["mu"]).max()) < 0.5


def test_to_arviz_array_parameter_dims(group_fit: Fit) -> None:
    idata = group_fit.to_arviz()
    assert idata.posterior["mu"].dims == ("chain", "draw", "mu_dim_0")
    assert idata.posterior.sizes["mu_dim_0"] == 3
    assert "group" in idata.constant_data


def test_to_arviz_mle_is_asymptotic_normal(mle_fit: Fit) -> None:
    idata = mle_fit.to_arviz()
    assert "sample_stats" not in idata.groups()
    assert idata.attrs["draws_kind"] == "asymptotic_normal"
    assert idata.posterior.attrs["draws_kind"] == "asymptotic_normal"


def test_stored_log_lik_draws_go_to_log_likelihood_group() -> None:
    # a family without the pointwise hook whose Stan program writes log_lik
    rng = np.random.default_rng(12)
    group = np.arange(60) % 3
    yy = rng.normal(np.array([0.0, 1.0, 2.0])[group], 1.0)
    draws = {
        "mu": rng.normal([0.0, 1.0, 2.0], 0.2, (N_CHAINS, N_DRAWS, 3)),
        "sigma": np.exp(rng.normal(0.0, 0.1, (N_CHAINS, N_DRAWS))),
    }
    mu = np.take(draws["mu"], group, axis=-1)
    draws["log_lik"] = stats.norm.logpdf(yy, mu, draws["sigma"][..., None])
    fit = sampled_fit(GroupMeansModel(n_groups=3), (yy, group), draws,
                      sample_stats=clean_stats(N_CHAINS, N_DRAWS))
    assert list(fit.summary().index) == ["mu[0]", "mu[1]", "mu[2]", "sigma", "spread"]
    idata = fit.to_arviz()
    assert "log_lik" not in idata.posterior
    # named after the one observed variable of its shape, as arviz.loo expects
    np.testing.assert_array_equal(idata.log_likelihood["y"].values, draws["log_lik"])
    assert idata.log_likelihood["y"].dims[2] == idata.observed_data["y"].dims[0]


def test_pointwise_hook_gives_log_likelihood_group_and_loo(nuts_fit: Fit, y: np.ndarray) -> None:
    import arviz as az

    assert "log_lik" not in nuts_fit.draws  # nothing pointwise is stored with the fit
    idata = nuts_fit.to_arviz()
    ll = idata.log_likelihood["y"]
    assert ll.dims == ("chain", "draw", idata.observed_data["y"].dims[0])
    mu, sigma = nuts_fit.draws["mu"][..., None], nuts_fit.draws["sigma"][..., None]
    np.testing.assert_allclose(ll.values, stats.norm.logpdf(y, mu, sigma), rtol=1e-12)
    assert idata.log_likelihood.attrs["draws_kind"] == "posterior"
    loo = az.loo(idata)
    # the draws are those of the posterior of (mu, sigma) for n = 200: two effective
    # parameters (Vehtari, Gelman & Gabry 2017), every Pareto k good
    assert abs(loo.p_loo - 2.0) < 0.6
    assert not loo.warning


def test_pointwise_hook_takes_precedence_over_stored_log_lik(y: np.ndarray) -> None:
    draws = _iid_draws(seed=13)
    draws["log_lik"] = np.zeros((N_CHAINS, N_DRAWS, y.size))
    fit = sampled_fit(NormalModel(), y, draws)
    ll = fit.to_arviz().log_likelihood
    assert list(ll.data_vars) == ["y"]
    assert np.all(ll["y"].values < 0)  # the hook's values, not the stored zeros


def test_mle_log_likelihood_from_asymptotic_draws(mle_fit: Fit) -> None:
    import arviz as az

    idata = mle_fit.to_arviz()
    assert idata.log_likelihood.attrs["draws_kind"] == "asymptotic_normal"
    assert idata.log_likelihood["y"].shape == (1, 2000, 200)
    # indicative only, but for a regular model elpd_loo ~ log L(MLE) - k (Stone 1977)
    loo = az.loo(idata)
    assert abs(loo.elpd_loo - (mle_fit.optimizer["log_density"] - 2)) < 0.6


@pytest.mark.parametrize(
    ("returned", "match"),
    [
        (lambda draws, n: np.zeros((n,)), r"shape \(200,\); expected \(chain, draw"),
        (lambda draws, n: np.full((*np.shape(draws["mu"]), n), np.nan), "NaN"),
    ],
)
def test_bad_pointwise_hook_raises(y: np.ndarray, monkeypatch, returned, match) -> None:
    from pystats.errors import FitError

    fit = sampled_fit(NormalModel(), y, _iid_draws(seed=14))
    monkeypatch.setattr(
        NormalModel,
        "pointwise_log_likelihood",
        lambda self, draws, data: {"y": returned(draws, data.values["n"])},
    )
    with pytest.raises(FitError, match=match):
        fit.to_arviz()


# ---------------------------------------------------------------------- persistence
def _assert_same(a, b, where: str = "") -> None:
    """Equal values of equal types, recursively (NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert type(a) is type(b) and a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b)
        return
    assert type(a) is type(b), where
    if isinstance(a, dict | list | tuple):
        assert len(a) == len(b), where
        if isinstance(a, dict):
            assert list(a) == list(b), where
            for k in a:
                _assert_same(a[k], b[k], f"{where}[{k!r}]")
        else:
            for i, (x, z) in enumerate(zip(a, b, strict=True)):
                _assert_same(x, z, f"{where}[{i}]")
        return
    assert a == b or (a != a and b != b), where


def _assert_same_mapping(a, b) -> None:
    _assert_same(dict(a), dict(b))


def _assert_same_fit(a: Fit, b: Fit) -> None:
    assert type(a.model) is type(b.model)
    assert dict(a.model.options) == dict(b.model.options)
    assert (a.method, a.backend, a.max_tree_depth) == (b.method, b.backend, b.max_tree_depth)
    assert a.parameters == b.parameters
    _assert_same_mapping(a.data.values, b.data.values)
    _assert_same_mapping(a.data.observed, b.data.observed)
    assert dict(a.data.summary) == dict(b.data.summary)
    assert a.data.hash == b.data.hash
    _assert_same_mapping(a.draws, b.draws)
    _assert_same_mapping(a.sample_stats, b.sample_stats)
    if a.point is None:
        assert b.point is None
    else:
        _assert_same_mapping(a.point, b.point)
    for name in ("cov", "cov_unconstrained"):
        x, z = getattr(a, name), getattr(b, name)
        assert (x is None) == (z is None)
        if x is not None:
            np.testing.assert_array_equal(x, z)
    _assert_same_mapping(a.optimizer, b.optimizer)
    _assert_same_mapping(a.metadata, b.metadata)
    pd.testing.assert_frame_equal(a.summary(), b.summary())
    assert a.summary_text() == b.summary_text()


def test_save_load_round_trip_nuts(nuts_fit: Fit, tmp_path) -> None:
    path = nuts_fit.save(tmp_path / "fit.nc")
    assert path.is_file()
    loaded = load(path)
    _assert_same_fit(nuts_fit, loaded)
    # the pointwise log likelihood is recomputed identically from the loaded fit
    np.testing.assert_array_equal(
        loaded.to_arviz().log_likelihood["y"].values,
        nuts_fit.to_arviz().log_likelihood["y"].values,
    )


def test_save_load_round_trip_mle_with_rich_metadata(mle_fit: Fit, tmp_path) -> None:
    fit = _replace(
        mle_fit,
        point={"mu": np.asarray(1.25), "sigma": 0.5, "precision": np.float32(4.0)},
        metadata={**mle_fit.metadata, "created": "2024-01-01T00:00:00+00:00",
                  "when": dt.datetime(2024, 5, 1, 12, 30), "shape": (2, 3),
                  "nested": {"a": [1, 2.5, None], "b": np.arange(3)}, "nan": float("nan"),
                  "program": Path("stan/normal.stan"),
                  "fit_seconds": 0.125},
    )
    before = {k: v for k, v in fit.metadata.items()}
    _assert_same_fit(fit, load(save_fit(fit, tmp_path / "mle.nc")))
    _assert_same_mapping(before, fit.metadata)  # saving did not modify the fit


def test_save_load_round_trip_array_parameter(group_fit: Fit, tmp_path) -> None:
    loaded = load(group_fit.save(tmp_path / "groups.nc"))
    _assert_same_fit(group_fit, loaded)
    assert loaded.data.values["group"].dtype == group_fit.data.values["group"].dtype


def test_save_keeps_fit_unchanged(nuts_fit: Fit, tmp_path) -> None:
    draws = {k: np.array(v) for k, v in nuts_fit.draws.items()}
    metadata = dict(nuts_fit.metadata)
    nuts_fit.save(tmp_path / "x.nc")
    _assert_same_mapping(draws, nuts_fit.draws)
    assert dict(nuts_fit.metadata) == metadata
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_load_rejects_files_that_are_not_fits(tmp_path) -> None:
    text = tmp_path / "notes.nc"
    text.write_text("hello")
    with pytest.raises(DataError, match=re.escape(str(text))):
        load(text)
    import xarray as xr

    other = tmp_path / "other.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(other, engine="h5netcdf")
    with pytest.raises(DataError, match="not a pystats fit file"):
        load(other)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.nc")


def test_save_rejects_non_json_option(y: np.ndarray, tmp_path) -> None:
    fit = sampled_fit(NormalModel(label=object()), y, _iid_draws())
    with pytest.raises(OptionError, match="'label'"):
        fit.save(tmp_path / "bad.nc")
    assert not (tmp_path / "bad.nc").exists()


class _SelfRejectingModel(NormalModel):
    """Its validation adds an option that it then refuses: options do not round-trip."""

    family = "test_self_rejecting"

    def _validate_options(self, options):
        if "internal" in options:
            raise OptionError("option 'internal' is not allowed")
        return {**super()._validate_options(options), "internal": True}


def test_save_rebuilds_the_model_from_the_arguments_given(y: np.ndarray, tmp_path) -> None:
    # validation output need not be valid input: the model is rebuilt from init_options
    model = _SelfRejectingModel(label="kept")
    with pytest.raises(OptionError, match="'internal'"):
        _SelfRejectingModel(**model.options)
    fit = sampled_fit(model, y, _iid_draws())
    loaded = load(fit.save(tmp_path / "y.nc"))
    assert dict(loaded.model.options) == dict(model.options)
    assert dict(loaded.model.init_options) == {"label": "kept"}


def test_arviz_reads_saved_draws(nuts_fit: Fit, tmp_path) -> None:
    import arviz as az

    path = nuts_fit.save(tmp_path / "fit.nc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = az.from_netcdf(path)
    np.testing.assert_array_equal(idata.posterior["sigma"].values, nuts_fit.draws["sigma"])


# ---------------------------------------------------------------------- report
def _check_self_contained(text: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", text)
    assert "<script" not in text.lower() and "<link" not in text.lower()


def test_report_nuts(y: np.ndarray, tmp_path) -> None:
    evil = "<script>alert('x')</script>"
    st = clean_stats(N_CHAINS, N_DRAWS)
    st["diverging"][0, :3] = True
    fit = sampled_fit(NormalModel(label=evil), y, _iid_draws(), sample_stats=st)
    path = fit.report(tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    _check_self_contained(text)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "Histogram of y &lt;data&gt;" in text  # family figure title escaped
    for name in ("mu", "sigma", "precision"):
        assert f">{name}<" in text
    # trace, rank, autocorrelation, forest, pair, energy, correlation, predictive check,
    # family figure (the toy model has no prior: the overlay is skipped with its reason)
    assert text.count("<img") == 9
    assert "NormalModel defines no prior density" in text
    assert "could not be drawn" not in text
    assert "class='diag-fail'" in text and "3 divergent transitions" in text
    assert fit.metadata["data_hash"] in text


def test_report_mle_and_failing_family_figure(mle_fit: Fit, tmp_path, monkeypatch) -> None:
    text = mle_fit.report(tmp_path / "mle.html").read_text(encoding="utf-8")
    _check_self_contained(text)
    assert text.count("<img") == 4  # marginals, correlations, predictive check, family
    assert "Wald" in text and "class='diag-pass'" in text and "class='diag-fail'" not in text

    def broken(self, fit):
        raise RuntimeError("no <figure> today")

    monkeypatch.setattr(NormalModel, "report_figures", broken)
    text = mle_fit.report(tmp_path / "mle2.html").read_text(encoding="utf-8")
    assert "no &lt;figure&gt; today" in text and text.count("<img") == 3


def test_report_many_array_elements_limits_plots(tmp_path) -> None:
    rng = np.random.default_rng(6)
    draws = {"mu": rng.normal(0, 1, (2, 200, 10)), "sigma": np.exp(rng.normal(0, 0.1, (2, 200)))}
    fit = sampled_fit(GroupMeansModel(n_groups=10), (np.zeros(20), np.arange(20) % 10), draws,
                      sample_stats=clean_stats(2, 200))
    text = fit.report(tmp_path / "big.html").read_text(encoding="utf-8")
    assert "the first 6 of 11 scalar parameters" in text
    assert ">mu[9]<" in text  # the table still lists every element
    assert "could not be drawn" not in text
