"""Isocon families: Grant's isocon reproduced exactly, the sparse fast path's recovery of
a known immobile set, mass change and transfers, options and data errors, labels, the
identifiability warning, save/load, report and the command line."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.compositional.isocon import (
    IsoconIdentifiabilityWarning,
    grant_estimate,
    penalised_isocon,
)
from pystats.compositional.simulate import simulate_isocon
from pystats.errors import DataError, MethodNotSupportedError, OptionError

# Grant (2005)-style hand example: one immobile element (TiO2)
PARENT = pd.Series({"TiO2": 0.80, "Al2O3": 15.0, "CaO": 5.0, "Na2O": 3.5, "SiO2": 62.0})
ALTERED = pd.DataFrame(
    {"TiO2": [1.00, 1.20], "Al2O3": [18.0, 21.0], "CaO": [2.0, 0.9], "Na2O": [1.2, 0.5],
     "SiO2": [60.0, 55.0]}, index=["w1", "w2"])


def test_grant_one_immobile_element_is_grants_isocon_exactly():
    fit = pystats.GrantIsocon(immobile=["TiO2"]).fit(ALTERED, protolith=PARENT)
    est = fit.summary()["estimate"]
    for s in ALTERED.index:
        slope = ALTERED.loc[s, "TiO2"] / PARENT["TiO2"]  # the isocon's slope M0/MA
        assert est[f"mass_ratio[{s}]"] == pytest.approx(slope, rel=1e-13)
        for el in PARENT.index:
            # Grant (1986): C_A = (M0/MA)(C_0 + dC)  =>  dC/C_0 = C_A/(slope C_0) - 1
            tau = ALTERED.loc[s, el] / (slope * PARENT[el]) - 1.0
            assert est[f"tau[{s},{el}]"] == pytest.approx(tau, rel=1e-12, abs=1e-13)


def test_grant_several_immobile_elements_geometric_mean_slope():
    fit = pystats.GrantIsocon(immobile=["TiO2", "Al2O3"]).fit(ALTERED, protolith=PARENT)
    est = fit.summary()["estimate"]
    r = ALTERED[["TiO2", "Al2O3"]] / PARENT[["TiO2", "Al2O3"]]
    expected = np.sqrt(r["TiO2"] * r["Al2O3"])  # equal errors -> geometric mean ratio
    for s in ALTERED.index:
        assert est[f"mass_ratio[{s}]"] == pytest.approx(expected[s], rel=1e-13)


def test_grant_covariance_matches_monte_carlo():
    """The closed-form covariance (analytical errors independent, protolith error shared
    by samples) against the spread of estimates over simulated measurement errors."""
    rng = np.random.default_rng(4)
    N, J = 3, 5
    y0 = rng.normal(0, 0.5, (N, J))
    e, s = np.full(J, 0.03), np.full(J, 0.05)
    imm = np.array([0, 1])
    a0, b0, cov = grant_estimate(y0, e, s, imm)
    # the estimate is linear in y: apply it to 20000 noisy copies at once through its
    # weights, read off grant_estimate's own point estimates of unit perturbations
    base = np.concatenate([a0, b0.ravel()])
    L = np.empty((base.size, N * J))
    for k in range(N * J):
        dy = np.zeros(N * J)
        dy[k] = 1.0
        a1, b1, _ = grant_estimate(y0 + dy.reshape(N, J), e, s, imm)
        L[:, k] = np.concatenate([a1, b1.ravel()]) - base
    noise = rng.normal(0, 1, (20000, N, J)) * e + rng.normal(0, 1, (20000, 1, J)) * s
    emp = np.cov((noise.reshape(20000, -1) @ L.T).T)
    np.testing.assert_allclose(np.sqrt(np.diag(emp)), np.sqrt(np.diag(cov)), rtol=0.03)
    np.testing.assert_allclose(emp, cov, atol=0.03 * np.max(np.diag(cov)))


def test_penalised_solver_meets_its_optimality_conditions():
    """KKT of the group lasso: zero groups have ||sqrt(w) r|| <= lambda, the others
    sqrt(w) r = lambda b / ||b|| per element; a is the weighted mean."""
    rng = np.random.default_rng(2)
    y = rng.normal(0, 0.05, (6, 7))
    y[:, 5:] += [0.8, -1.0]
    w = np.full(7, 100.0)
    lam = 3.0
    a, b, _ = penalised_isocon(y, w, lam)
    r = y - a[:, None] - b
    np.testing.assert_allclose(r @ w, 0.0, atol=1e-7)
    for j in range(7):
        g = np.sqrt(w[j]) * r[:, j] * np.sqrt(w[j])  # gradient of the loss w.r.t. b
        if np.all(b[:, j] == 0):
            assert np.linalg.norm(g) <= lam * np.sqrt(w[j]) * (1 + 1e-6)
        else:
            np.testing.assert_allclose(g, lam * np.sqrt(w[j]) * b[:, j] / np.linalg.norm(
                b[:, j]), atol=1e-6)
    assert np.all(b[:, :5] == 0) and np.all(b[:, 5:] != 0)


@pytest.fixture(scope="module")
def sim():
    return simulate_isocon(n_samples=12, n_elements=15, n_mobile=5, seed=11)


@pytest.fixture(scope="module")
def map_fit(sim):
    return pystats.SparseIsocon().fit(sim.altered, protolith=sim.protolith, method="map",
                                      seed=3)


def test_sparse_map_recovers_immobile_set_mass_and_tau(sim, map_fit):
    p = map_fit.model.immobile_probability(map_fit)
    truth = np.ones(len(sim.elements), dtype=bool)
    truth[sim.mobile] = False
    np.testing.assert_array_equal(p.to_numpy() > 0.5, truth)
    s = map_fit.summary(prob=0.99)
    mr = s.loc[[f"mass_ratio[{n}]" for n in sim.altered.index]]
    inside = (mr["lower"] <= sim.mass_ratio) & (sim.mass_ratio <= mr["upper"])
    assert inside.mean() >= 0.9
    tau = s.loc[[f"tau[{n},{el}]" for n in sim.altered.index for el in sim.elements]]
    t = sim.tau.ravel()
    mobile = ~np.tile(truth, len(sim.altered))
    # transfers of mobile elements inside their 99 % intervals; the immobile elements'
    # tau is their scatter about the isocon, within the tolerance
    assert np.mean(((tau["lower"] <= t) & (t <= tau["upper"]))[mobile]) >= 0.95
    assert np.all(np.abs(tau["estimate"].to_numpy()[~mobile]) < 0.2)
    assert np.all(np.abs(tau["estimate"].to_numpy() - t) <= 0.15 * (1 + np.abs(t)))


def test_sparse_map_is_silent_when_identified(sim):
    with warnings.catch_warnings():
        warnings.simplefilter("error", pystats.PystatsWarning)
        fit = pystats.SparseIsocon().fit(sim.altered, protolith=sim.protolith, method="map",
                                         seed=5)
    assert fit.diagnose(warn=False).ok


def test_most_elements_moving_warns():
    """Seven of ten elements leached alike, three immobile (the majors-only situation):
    the largest common-ratio group is the leached one, so the sparse fit takes it as the
    isocon -- wrong, and it must say that the data do not decide."""
    s = simulate_isocon(n_samples=10, n_elements=10, n_mobile=0, seed=2)
    y = np.log(s.altered.to_numpy())
    y[:, 3:] += np.log(0.5)  # 7 elements lose half, in every sample
    altered = pd.DataFrame(np.exp(y), index=s.altered.index, columns=s.altered.columns)
    with pytest.warns(IsoconIdentifiabilityWarning, match="second group of 3 elements"):
        fit = pystats.SparseIsocon().fit(altered, protolith=s.protolith, method="map",
                                         seed=1)
    assert not fit.diagnose(warn=False).ok
    # the selected "isocon" is the leached group: a mass ratio off by the factor 2
    est = fit.summary()["estimate"]
    ratio = est[[f"mass_ratio[{n}]" for n in altered.index]].to_numpy() / s.mass_ratio
    np.testing.assert_allclose(ratio, 0.5, rtol=0.1)


def test_summary_rows_named_by_sample_and_element(map_fit, sim):
    idx = map_fit.summary().index
    assert f"mass_ratio[{sim.altered.index[0]}]" in idx
    assert f"tau[{sim.altered.index[-1]},{sim.elements[-1]}]" in idx


def test_inputs_not_modified_and_refit_identical(sim):
    alt, prot = sim.altered.copy(), sim.protolith.copy()
    m = pystats.SparseIsocon()
    f1 = m.fit(sim.altered, protolith=sim.protolith, method="map", seed=9)
    f2 = m.fit(sim.altered, protolith=sim.protolith, method="map", seed=9)
    pd.testing.assert_frame_equal(sim.altered, alt)
    pd.testing.assert_frame_equal(sim.protolith, prot)
    pd.testing.assert_frame_equal(f1.summary(), f2.summary())


@pytest.mark.parametrize("kwargs, match", [
    ({"prior": "cauchy"}, "prior='cauchy'"),
    ({"immobile_tolerance": 0.0}, "immobile_tolerance=0.0"),
    ({"analytical_error": -0.1}, "analytical_error=-0.1"),
    ({"cv_folds": 1}, "cv_folds=1"),
])
def test_bad_sparse_options(kwargs, match):
    with pytest.raises(OptionError, match=match):
        pystats.SparseIsocon(**kwargs)


def test_bad_grant_options_and_data():
    with pytest.raises(OptionError, match="needs immobile"):
        pystats.GrantIsocon()
    with pytest.raises(OptionError, match="immobile=\\[1\\]"):
        pystats.GrantIsocon(immobile=[1])
    with pytest.raises(DataError, match="element\\(s\\) \\['Zr'\\]"):
        pystats.GrantIsocon(immobile=["Zr"]).fit(ALTERED, protolith=PARENT)
    with pytest.raises(DataError, match="protolith is missing"):
        pystats.GrantIsocon(immobile=["TiO2"]).fit(ALTERED)
    bad = ALTERED.copy()
    bad.loc["w2", "CaO"] = 0.0
    with pytest.raises(DataError, match="zero in row 1, column CaO"):
        pystats.GrantIsocon(immobile=["TiO2"]).fit(bad, protolith=PARENT)
    with pytest.raises(DataError, match="protolith has no column"):
        pystats.GrantIsocon(immobile=["TiO2"]).fit(ALTERED, protolith=PARENT.drop("CaO"),
                                                   elements=list(ALTERED.columns))
    with pytest.raises(MethodNotSupportedError):
        pystats.GrantIsocon(immobile=["TiO2"]).fit(ALTERED, protolith=PARENT, method="nuts")
    with pytest.raises(MethodNotSupportedError):
        pystats.SparseIsocon().fit(ALTERED, protolith=PARENT, method="mle")


def test_save_load_report_predict(map_fit, tmp_path):
    again = pystats.load(map_fit.save(tmp_path / "iso.nc"))
    pd.testing.assert_frame_equal(again.summary(), map_fit.summary())
    np.testing.assert_array_equal(again.model.immobile_probability(again),
                                  map_fit.model.immobile_probability(map_fit))
    table = map_fit.predict(prob=0.8)
    assert set(table.columns) >= {"sample", "element", "mass_ratio", "tau", "tau_lower",
                                  "tau_upper", "delta_c"}
    assert np.all(table["tau_lower"] <= table["tau_upper"])
    html = map_fit.report(tmp_path / "iso.html").read_text()
    assert "Isocon diagram" in html and "Probability of being immobile" in html


def test_cli_fit_with_protolith_file(tmp_path, sim, capsys):
    from pystats.cli import main

    alt, prot = tmp_path / "altered.csv", tmp_path / "protolith.csv"
    sim.altered.to_csv(alt, index_label="sample")
    sim.protolith.to_csv(prot, index=False)
    out = tmp_path / "summary.csv"
    rc = main(["fit", str(alt), "--model", "isocon", "--protolith", str(prot), "--method",
               "map", "--seed", "3", "--summary-csv", str(out)])
    assert rc == 0
    table = pd.read_csv(out, index_col=0)
    api = pystats.SparseIsocon().fit(sim.altered, protolith=sim.protolith, method="map",
                                     seed=3).summary()
    np.testing.assert_allclose(table.loc[api.index, "estimate"], api["estimate"], rtol=1e-9)
    rc = main(["fit", str(alt), "--model", "grant", "--immobile", "E00,E01", "--protolith",
               str(prot), "--summary-csv", str(out)])
    assert rc == 0 and "mass_ratio[s00]" in pd.read_csv(out, index_col=0).index
    rc = main(["fit", str(alt), "--model", "gr", "--protolith", str(prot)])
    assert rc == 2 and "--protolith is an option of --model" in capsys.readouterr().err


def test_shared_transfers_fast_path():
    """Replicates of one alteration state: one transfer per element (b[n, j] = b_j)."""
    sim = simulate_isocon(n_samples=6, n_elements=10, n_mobile=3, seed=4)
    y = np.log(sim.altered.to_numpy())
    # make the transfers common to all samples: use sample 0's transfer everywhere
    common = np.log1p(sim.tau[0])
    y = y - np.log1p(sim.tau) + common[None, :]
    altered = pd.DataFrame(np.exp(y), index=sim.altered.index, columns=sim.elements)
    fit = pystats.SparseIsocon(shared_transfers=True).fit(altered, protolith=sim.protolith,
                                                         method="map", seed=2)
    truth = np.ones(10, dtype=bool)
    truth[sim.mobile] = False
    np.testing.assert_array_equal(np.isin(sim.elements, fit.data.summary["immobile"]), truth)
    est = fit.summary()["estimate"]
    for el in np.array(sim.elements)[sim.mobile]:
        j = sim.elements.index(el)
        assert est[f"tau[s03,{el}]"] == pytest.approx(sim.tau[0, j], abs=0.1 * (1 + abs(
            sim.tau[0, j])))
