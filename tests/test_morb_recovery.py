"""MORBMelting by NUTS on simulated data: recovery of C0 and F, the Stan program against
the torch density, and the ridge (C0, F) -> (k C0, k F) when only highly incompatible
elements are used.  Interval coverage for N = 10, 50, 200 is ``slow``; single large-N
recoveries and the longer coverage study are ``long``."""

from __future__ import annotations

import numpy as np
import pytest

import pystats
from pystats.morb.simulate import simulate_morb

FULL = ["Th", "Nb", "La", "Ce", "Nd", "Sr", "Zr", "Hf", "Sm", "Eu", "Gd", "Dy", "Y", "Er",
        "Yb", "Lu"]
INCOMPATIBLE = ["Rb", "Ba", "Th", "Nb", "La"]
NUTS = {"chains": 2, "draws": 800, "warmup": 600}
"""Short chains for the default suite (R-hat checked at 1.03 for 2 chains); the real-data
benchmark runs 4 x 1000 and checks R-hat < 1.01."""


def _nuts(n: int, elements: list[str], seed: int, **kw):
    data, truth = simulate_morb(n, elements, sigma=0.05, rng=seed)
    fit = pystats.MORBMelting().fit(data, method="nuts", seed=seed, **{**NUTS, **kw})
    return data, truth, fit


def _in_interval(fit, data, truth, elements, prob=0.9):
    table = fit.summary(prob=prob)
    el = fit.data.summary["elements"]
    c0 = table.loc[[f"C0[{e}]" for e in el]]
    f = table.loc[[f"F[{s}]" for s in data["sample"]]]
    c0_true = np.array([truth["C0"][elements.index(e)] for e in el])
    return (np.r_[(c0["hdi_lower"] <= c0_true) & (c0_true <= c0["hdi_upper"]),
                  (f["hdi_lower"] <= truth["F"]) & (truth["F"] <= f["hdi_upper"])])


@pytest.fixture(scope="module")
def nuts_full():
    return _nuts(10, FULL, seed=5)


@pytest.fixture(scope="module")
def nuts_incompatible():
    # the common level is fixed by the priors alone and the ridge bends (d log F / d logit F
    # = 1 - F / F_max): 17 of 1600 transitions diverged at the default adapt_delta 0.8
    return _nuts(10, INCOMPATIBLE, seed=5, adapt_delta=0.9)


def test_nuts_recovers_c0_and_f(nuts_full):
    data, truth, fit = nuts_full
    diag = fit.diagnose(warn=False)
    assert fit.sample_stats["diverging"].sum() == 0
    assert diag.checks["divergences"].passed, diag
    r_hat = fit.summary()["r_hat"]
    assert r_hat.max() < 1.03, r_hat.sort_values().tail()
    inside = _in_interval(fit, data, truth, FULL)
    # 26 quantities; 90 % intervals: fewer than 21 inside has probability < 1 % if the
    # intervals are calibrated (binomial(26, 0.9)), allowing for their correlation
    assert inside.sum() >= 20, inside
    table = fit.summary()
    rel = np.abs(table.loc["C0[Yb]", "mean"] / truth["C0"][FULL.index("Yb")] - 1)
    assert rel < 0.3


@pytest.mark.parametrize("melting", ["aggregated_fractional", "batch", "continuous"])
@pytest.mark.parametrize("with_sd", [False, True])
@pytest.mark.parametrize("options", [{}, {"d_uncertainty": 0.7},
                                     {"d_uncertainty": 0.7, "fractional_crystallisation": True}])
def test_stan_program_matches_the_torch_density(melting, with_sd, options):
    """The Stan program and the torch likelihood + prior are the same density (same
    normalisation), with and without the prior, at random points: each melting law, with
    given uncertainties (``<element>_sd`` columns) and a missing value, and without; with
    fixed and with uncertain D (``d_uncertainty``), with fractional crystallisation."""
    from pystats.backends import get_backend
    from pystats.backends.torch import TorchLogDensity

    data, _ = simulate_morb(9, FULL, sigma=0.05, rng=3)
    if with_sd:
        data = data.assign(La_sd=0.03 * data["La"], Yb_sd=0.05 * data["Yb"])
        data.loc[4, "Th"] = np.nan
    model = pystats.MORBMelting(melting=melting, missing="omit", **options)
    prep = model.prepare(data)
    assert (float(np.max(prep.values["tau"])) > 0) == with_sd
    params = model.parameters(prep)
    rng = np.random.default_rng(0)
    for include_prior in (True, False):
        stan = get_backend("pystan").log_density(model, prep, include_prior=include_prior)
        torch_d = TorchLogDensity(model, prep, params, include_prior=include_prior,
                                  device="cpu")
        for _ in range(3):
            u = params.unconstrain(model.initial_values(prep, rng))
            u = u + 0.3 * rng.standard_normal(u.size)
            v_s, g_s = stan.value_and_grad(u, True)
            v_t, g_t = torch_d.value_and_grad(u, True)
            assert v_s == pytest.approx(v_t, rel=1e-10, abs=1e-8)
            np.testing.assert_allclose(g_s, g_t, rtol=1e-8, atol=1e-8)


def test_ridge_with_only_incompatible_elements(nuts_full, nuts_incompatible):
    """With Rb, Ba, Th, Nb, La only (D << F) the melt is ~C0/F: log C0 and log F move
    together along (k C0, k F); the posterior correlation is close to +1 and log F is
    barely constrained. Elements with D ~ F (HREE, Y) narrow the ridge."""
    corr = {}
    sd_log_f = {}
    for name, (_, _, fit) in (("full", nuts_full), ("incompatible", nuts_incompatible)):
        c = fit.model.correlations(fit)
        block = c.loc[[i for i in c.index if i.startswith("log_C0")],
                      [i for i in c.columns if i.startswith("log_F")]]
        corr[name] = float(block.to_numpy().mean())
        sd_log_f[name] = float(np.log(fit.variable("F")).std(axis=0).mean())
        assert fit.sample_stats["diverging"].sum() == 0, name
        weak = fit.model.weak_directions(fit, n=1).iloc[0, 1:].to_numpy()
        assert np.all(weak > 0) or np.all(weak < 0), name  # the ridge direction leads
    assert corr["incompatible"] > 0.97, corr
    assert corr["full"] < corr["incompatible"]
    assert sd_log_f["incompatible"] > 2 * sd_log_f["full"], sd_log_f


@pytest.mark.slow
@pytest.mark.long  # N = 50/200 coverage, not yet run to completion: -m long
@pytest.mark.parametrize("n", [50, 200])
def test_nuts_recovery_larger_n(n):
    data, truth, fit = _nuts(n, FULL, seed=n, chains=2, draws=500, warmup=500)
    assert fit.sample_stats["diverging"].sum() == 0
    inside = _in_interval(fit, data, truth, FULL)
    assert inside.mean() >= 0.8, inside.mean()
    f_hat = fit.summary().loc[[f"F[{s}]" for s in data["sample"]], "mean"].to_numpy()
    assert np.corrcoef(f_hat, truth["F"])[0, 1] > 0.95


COVERAGE_ELEMENTS = ["Th", "Nb", "La", "Ce", "Nd", "Sm", "Eu", "Gd", "Dy", "Y", "Er", "Yb"]


def _prior_draw(n: int, rng: np.random.Generator, seed: int):
    """A data set whose truth is drawn (nearly) from the model's prior: C0 = DMM x
    lognormal(0, 0.5), logit(F / 0.3) ~ N(-1, 0.6) (the prior's median F 0.08), per-element
    error lognormal(log 0.1, 0.3)."""
    from pystats.morb.tables import reference

    el = COVERAGE_ELEMENTS
    dmm = np.array([reference("DMM_WH2005")[e] for e in el])
    c0 = dmm * np.exp(0.5 * rng.standard_normal(len(el)))
    F = 0.3 / (1 + np.exp(1.0 - 0.6 * rng.standard_normal(n)))
    sigma = np.exp(np.log(0.1) + 0.3 * rng.standard_normal(len(el)))
    return simulate_morb(n, el, c0=c0, F=F, sigma=sigma, rng=seed)


@pytest.mark.slow
def test_interval_coverage_n_10_50_200():
    """90 % intervals of C0 and F cover the truth at about the nominal rate for N = 10, 50
    and 200 samples (7 data sets drawn from the prior: 4 of N = 10, 2 of 50, 1 of 200;
    12 elements; 2 x 400 draws).  The intervals of one data set are correlated (the
    common level along the ridge moves all F and all C0 together), so the bands are wide:
    calibrated intervals give 0.9 on average; intervals half as wide as they should be give
    about 0.6, which fails."""
    rng = np.random.default_rng(10)
    per_n: dict[int, list[np.ndarray]] = {}
    for n, reps in ((10, 4), (50, 2), (200, 1)):
        for rep in range(reps):
            data, truth = _prior_draw(n, rng, seed=100 * n + rep)
            fit = pystats.MORBMelting().fit(data, method="nuts", seed=rep, chains=2,
                                            draws=400, warmup=400)
            assert fit.sample_stats["diverging"].sum() == 0
            per_n.setdefault(n, []).append(_in_interval(fit, data, truth, COVERAGE_ELEMENTS))
    rates = {n: float(np.concatenate(h).mean()) for n, h in per_n.items()}
    pooled = float(np.mean(list(rates.values())))
    assert 0.8 <= pooled <= 0.97, rates
    assert all(0.7 <= r <= 1.0 for r in rates.values()), rates
    # C0 alone over the 7 data sets (84 intervals)
    c0 = np.concatenate([h[:len(COVERAGE_ELEMENTS)] for hs in per_n.values() for h in hs])
    assert 0.75 <= c0.mean() <= 1.0, c0.mean()


@pytest.mark.slow
@pytest.mark.long  # the longer version of test_interval_coverage_n_10_50_200: -m long
def test_interval_coverage():
    """Coverage of the 90 % intervals of C0 and F over 16 data sets drawn from the prior
    of the model's C0 (DMM x lognormal(0, 0.5)) and F: two-sided, 16 x 22 intervals."""
    rng = np.random.default_rng(2024)
    elements = ["Th", "Nb", "La", "Ce", "Nd", "Sm", "Eu", "Gd", "Dy", "Y", "Er", "Yb"]
    from pystats.morb.tables import reference

    dmm = np.array([reference("DMM_WH2005")[e] for e in elements])
    hits = []
    for rep in range(16):
        c0 = dmm * np.exp(0.5 * rng.standard_normal(len(elements)))
        logit = -1.0 + 0.6 * rng.standard_normal(10)
        F = 0.3 / (1 + np.exp(-logit))
        data, truth = simulate_morb(10, elements, c0=c0, F=F,
                                    sigma=np.exp(np.log(0.1) + 0.3 * rng.standard_normal()),
                                    rng=rep)
        fit = pystats.MORBMelting().fit(data, method="nuts", seed=rep, chains=2, draws=400,
                                        warmup=400)
        hits.append(_in_interval(fit, data, truth, elements))
    coverage = float(np.concatenate(hits).mean())
    assert 0.82 <= coverage <= 0.97, coverage


@pytest.mark.slow
@pytest.mark.long  # passes since the centred reparameterisation (7 Dec 2026, 133 s wall at load ~9)
def test_nuts_mixes_with_many_informative_samples():
    """100 samples x 16 elements, 4 x 1000 draws: R-hat < 1.01 everywhere, no divergence
    (the issue's real-data criterion on synthetic data of the same shape)."""
    data, truth, fit = _nuts(100, FULL, seed=7, chains=4, draws=1000, warmup=1000)
    assert fit.sample_stats["diverging"].sum() == 0
    table = fit.summary()
    assert table["r_hat"].max() < 1.01, table["r_hat"].sort_values().tail()
    f_hat = table.loc[[f"F[{s}]" for s in data["sample"]], "mean"].to_numpy()
    assert np.corrcoef(np.log(f_hat), np.log(truth["F"]))[0, 1] > 0.95
