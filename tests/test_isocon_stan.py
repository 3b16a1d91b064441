"""Sparse isocon by Stan (horseshoe and Laplace priors) and coverage over replicates.

Slow: the Stan program compiles once (~25 s, cached); a NUTS fit of 10 x 12 takes
~20-60 s on a shared 2-core machine.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pystats
from pystats.compositional.simulate import simulate_isocon

pytestmark = pytest.mark.slow


def test_stan_collapsed_likelihood_matches_python():
    """The Stan program's likelihood (include_prior = 0, no Jacobian) equals
    ``collapsed_log_likelihood`` (itself checked against the dense Gaussian in
    tests/test_isocon_collapsed.py) at random points, without and with shared transfers."""
    from pystats.backends.pystan import PystanBackend
    from pystats.compositional.isocon import collapsed_log_likelihood, horseshoe_scale2

    sim = simulate_isocon(n_samples=5, n_elements=6, n_mobile=2, seed=4)
    assert 0 < pystats.SparseIsocon()._centred(
        pystats.SparseIsocon().prepare(sim.altered, protolith=sim.protolith)).sum() < 6
    rng = np.random.default_rng(0)
    for shared in (False, True):
        model = pystats.SparseIsocon(shared_transfers=shared)
        data = model.prepare(sim.altered, protolith=sim.protolith)
        params = model.parameters(data)
        density = PystanBackend().log_density(model, data, include_prior=False)
        v = data.values
        for _ in range(3):
            u = rng.normal(-1.0, 1.0, params.dim)
            x = {k: np.squeeze(val, 0) for k, val in params.constrain(u[None]).items()}
            lam = np.where(model._centred(data), x["kappa"] / x["tau_g"], x["kappa"])
            expected = collapsed_log_likelihood(
                np.asarray(v["y"]), np.asarray(v["e"]), np.asarray(v["s"]),
                horseshoe_scale2(lam, x["tau_g"], x["caux"]), x["sigma"],
                shared=shared)
            assert density.value(u, False) == pytest.approx(float(np.squeeze(expected)),
                                                            rel=1e-9, abs=1e-9)


def _truth_mask(sim):
    truth = np.ones(len(sim.elements), dtype=bool)
    truth[sim.mobile] = False
    return truth


@pytest.mark.parametrize("prior", ["horseshoe", "laplace"])
def test_nuts_recovers_immobile_set_mass_change_and_tau(prior):
    sim = simulate_isocon(n_samples=10, n_elements=12, n_mobile=4, seed=1)
    fit = pystats.SparseIsocon(prior=prior).fit(sim.altered, protolith=sim.protolith,
                                                method="nuts", seed=1, adapt_delta=0.95)
    p = fit.model.immobile_probability(fit)
    np.testing.assert_array_equal(p.to_numpy() > 0.5, _truth_mask(sim))
    s = fit.summary(prob=0.95)
    mr = s.loc[[f"mass_ratio[{n}]" for n in sim.altered.index]]
    inside = (mr["hdi_lower"] <= sim.mass_ratio) & (sim.mass_ratio <= mr["hdi_upper"])
    assert inside.mean() >= 0.8
    tau = s.loc[[f"tau[{n},{el}]" for n in sim.altered.index for el in sim.elements]]
    t = sim.tau.ravel()
    assert np.mean((tau["hdi_lower"] <= t) & (t <= tau["hdi_upper"])) >= 0.85
    assert int(np.sum(fit.sample_stats["diverging"])) == 0
    assert float(s["r_hat"].max()) < 1.01


def test_nuts_on_the_failure_case_is_flagged():
    """Seven of ten elements leached alike: the horseshoe fit cannot tell the groups apart;
    the identifiability check must fire (share of immobile elements, second isocon or
    disagreeing chains)."""
    s = simulate_isocon(n_samples=8, n_elements=10, n_mobile=0, seed=2)
    y = np.log(s.altered.to_numpy())
    y[:, 3:] += np.log(0.5)
    import pandas as pd

    altered = pd.DataFrame(np.exp(y), index=s.altered.index, columns=s.altered.columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = pystats.SparseIsocon().fit(altered, protolith=s.protolith, method="nuts",
                                         seed=3, adapt_delta=0.95)
    assert fit.model.identifiability(fit)["problems"]
    assert any(issubclass(w.category, pystats.compositional.isocon.IsoconIdentifiabilityWarning)
               for w in caught)


def test_fast_path_coverage_over_60_replicates():
    """Coverage of the fast path's 90 % intervals over 60 simulated suites: the immobile
    set is found in >= 90 % of them, and the mass ratio and the mobile elements' tau fall
    inside their intervals at close to the nominal rate (two-sided binomial band for
    60 x 10 mass ratios, allowing for the correlation within a suite through the shared
    protolith error: [0.80, 0.99])."""
    found, mr_in, tau_in = 0, [], []
    for rep in range(60):
        sim = simulate_isocon(n_samples=10, n_elements=15, n_mobile=5, seed=1000 + rep,
                              protolith_error=0.03)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pystats.PystatsWarning)
            fit = pystats.SparseIsocon(protolith_error=0.03).fit(
                sim.altered, protolith=sim.protolith, method="map", seed=rep)
        p = fit.model.immobile_probability(fit)
        truth = _truth_mask(sim)
        found += int(np.array_equal(np.isin(sim.elements, fit.data.summary["immobile"]),
                                    truth))
        s = fit.summary(prob=0.9)
        mr = s.loc[[f"mass_ratio[{n}]" for n in sim.altered.index]]
        mr_in.extend((mr["lower"] <= sim.mass_ratio) & (sim.mass_ratio <= mr["upper"]))
        mob = [el for el, imm in zip(sim.elements, truth, strict=True) if not imm]
        for n_i, n in enumerate(sim.altered.index):
            for el in mob:
                t = sim.tau[n_i, sim.elements.index(el)]
                row = s.loc[f"tau[{n},{el}]"]
                tau_in.append(row["lower"] <= t <= row["upper"])
        assert p.size == 15
    print(f"\nfast path, 60 suites: immobile set exact in {found}/60, mass-ratio coverage "
          f"{np.mean(mr_in):.3f}, mobile tau coverage {np.mean(tau_in):.3f} (nominal 0.90)")
    assert found >= 54
    assert 0.80 <= np.mean(mr_in) <= 0.99
    assert 0.80 <= np.mean(tau_in) <= 0.99


def test_nuts_coverage_over_50_replicates():
    """Coverage of the horseshoe NUTS fit's 90 % intervals over 50 simulated suites (8
    samples x 10 elements, 3 mobile, errors 0.03; 2 chains x 500 draws of the collapsed
    program): the immobile set (probability > 0.5) is found in >= 90 % of the suites, and
    the mass ratios (400) and every tau (4 000; the mobile elements' 1 200 separately) fall
    inside their intervals at close to the nominal rate.  The band [0.80, 0.99] allows for
    the correlation within a suite (the shared protolith error moves all its mass ratios
    together) and for the simulator's transfers not being drawn from the prior."""
    found, mr_in, tau_in, mobile_in = 0, [], [], []
    for rep in range(50):
        sim = simulate_isocon(n_samples=8, n_elements=10, n_mobile=3, seed=2000 + rep,
                              protolith_error=0.03)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pystats.PystatsWarning)
            fit = pystats.SparseIsocon(protolith_error=0.03).fit(
                sim.altered, protolith=sim.protolith, method="nuts", seed=rep, chains=2,
                draws=500, warmup=500, adapt_delta=0.95)
        truth = _truth_mask(sim)
        found += int(np.array_equal(fit.model.immobile_probability(fit).to_numpy() > 0.5,
                                    truth))
        mr = fit.draws["mass_ratio"].reshape(-1, 8)
        lo, hi = np.quantile(mr, [0.05, 0.95], axis=0)
        mr_in.extend((lo <= sim.mass_ratio) & (sim.mass_ratio <= hi))
        tau = fit.draws["tau"].reshape(-1, 8, 10)
        lo, hi = np.quantile(tau, [0.05, 0.95], axis=0)
        inside = (lo <= sim.tau) & (sim.tau <= hi)
        tau_in.extend(inside.ravel())
        mobile_in.extend(inside[:, ~truth].ravel())
    print(f"\nNUTS, 50 suites: immobile set exact in {found}/50, coverage of 90 % intervals: "
          f"mass ratio {np.mean(mr_in):.3f}, tau {np.mean(tau_in):.3f}, mobile tau "
          f"{np.mean(mobile_in):.3f}")
    assert found >= 45
    for share in (mr_in, tau_in, mobile_in):
        assert 0.80 <= np.mean(share) <= 0.99
