"""Transformed-time residuals and stochastic declustering on data simulated from the model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pystats.errors import DataError
from pystats.etas.residuals import (
    background_probabilities,
    etas_residuals,
    omori_residuals,
    residual_analysis,
)
from pystats.etas.simulate import simulate_etas, simulate_omori

SIM = {"mu": 1.0, "K": 0.03, "c": 0.02, "alpha": 1.4, "p": 1.25}


@pytest.fixture(scope="module")
def catalogs() -> list:
    rng = np.random.default_rng(2024)
    return [simulate_etas(**SIM, m_ref=3.0, t_end=150.0, mc=3.0, b=1.0, rng=rng)
            for _ in range(60)]


def test_residual_analysis_of_a_true_poisson_process() -> None:
    rng = np.random.default_rng(0)
    tau = np.cumsum(rng.exponential(size=500))
    res = residual_analysis(tau, tau[-1] + rng.exponential())
    assert res.n == 500
    assert res.ks_gaps_pvalue > 1e-3 and res.ks_uniform_pvalue > 1e-3
    np.testing.assert_allclose(res.gaps.sum(), tau[-1])
    assert res.to_frame().shape == (1, 7)
    with pytest.raises(DataError, match="non-decreasing"):
        residual_analysis(tau[::-1], tau[-1])
    with pytest.raises(DataError, match="at least 2"):
        residual_analysis([1.0], 2.0)


def test_residual_pvalues_are_uniform_under_the_model(catalogs) -> None:
    """With the true parameters, the KS p-values over replicates are Uniform(0, 1)."""
    results = [etas_residuals(SIM, c.times, c.magnitudes, 0.0, 150.0, 3.0) for c in catalogs]
    p_gaps = np.array([r.ks_gaps_pvalue for r in results])
    p_unif = np.array([r.ks_uniform_pvalue for r in results])
    assert stats.kstest(p_gaps, "uniform").pvalue > 1e-3
    assert stats.kstest(p_unif, "uniform").pvalue > 1e-3
    # counts: Σ (n - Λ) has mean zero (martingale)
    d = np.array([r.n - r.total for r in results])
    assert abs(d.mean()) < 3 * d.std(ddof=1) / math.sqrt(d.size)


def test_residuals_detect_a_wrong_model(catalogs) -> None:
    cat = max(catalogs, key=len)
    wrong = dict(SIM, p=2.0, K=0.2)  # decays far too fast
    res = etas_residuals(wrong, cat.times, cat.magnitudes, 0.0, 150.0, 3.0)
    assert min(res.ks_uniform_pvalue, res.ks_gaps_pvalue) < 1e-4
    fast = etas_residuals(SIM, cat.times, cat.magnitudes, 0.0, 150.0, 3.0, method="fast")
    exact = etas_residuals(SIM, cat.times, cat.magnitudes, 0.0, 150.0, 3.0, method="exact")
    np.testing.assert_allclose(fast.transformed_times, exact.transformed_times, rtol=1e-8)


def test_background_probabilities_recover_the_branching_labels(catalogs) -> None:
    diffs, hits_bg, hits_tr = [], [], []
    for cat in catalogs:
        phi = background_probabilities(SIM, cat.times, cat.magnitudes, 0.0, 150.0, 3.0)
        assert phi.shape == cat.times.shape and np.all((phi >= 0) & (phi <= 1))
        # E[Σ φ_j] = E[number of background events]
        diffs.append(phi.sum() - cat.is_background.sum())
        hits_bg.append(phi[cat.is_background].mean())
        hits_tr.append(phi[~cat.is_background].mean())
    diffs = np.array(diffs)
    assert abs(diffs.mean()) < 3 * diffs.std(ddof=1) / math.sqrt(diffs.size)
    assert np.mean(hits_bg) > np.mean(hits_tr) + 0.2


def test_omori_residuals_are_uniform_under_the_model() -> None:
    rng = np.random.default_rng(8)
    P = {"K": 50.0, "c": 0.03, "p": 1.05}
    pv = []
    for _ in range(40):
        t = simulate_omori(P["K"], P["c"], P["p"], 0.01, 30.0, rng)
        pv.append(omori_residuals(P, t, 0.01, 30.0).ks_uniform_pvalue)
    assert stats.kstest(pv, "uniform").pvalue > 1e-3
    t = simulate_omori(P["K"], P["c"], P["p"], 0.01, 30.0, rng)
    assert omori_residuals(dict(P, p=1.6), t, 0.01, 30.0).ks_uniform_pvalue < 1e-4
