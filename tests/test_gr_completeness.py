"""Magnitude-of-completeness methods on simulated catalogs with known detection and on real data.

Synthetic truth: Ogata–Katsura detection with b = 1, mu = 1.0, sigma = 0.2.  The detection
probability Phi((m - mu)/sigma) reaches 0.99 at mu + 2.326 sigma = 1.465, so the smallest
0.1-bin centre that is 99% complete is 1.5; detection is 0.5 at 1.0 and 0.9987 at 1.6.

Stated tolerances (models/gutenberg_richter.md, "Validation"):
* EMR (the fitted model is the true one): mc = 1.5 ± 0.1 and (b, mu, sigma) within 3 SE;
* MAXC: the modal bin within one bin of the analytic mode of the detected density;
* MAXC+0.2, GFT-95 and MBS: in [mu, mu + 3 sigma] = [1.0, 1.6] — these methods are known to
  sit low for a gradual roll-off (Woessner & Wiemer 2005; Mignan & Woessner 2012).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from pystats.errors import ConvergenceWarning, DataError, DataWarning, OptionError
from pystats.gr.completeness import (
    MC_METHODS,
    McResult,
    estimate_mc,
    mc_emr,
    mc_gft,
    mc_ks,
    mc_maxc,
    mc_mbs,
)
from pystats.gr.distributions import simulate_detection, simulate_gr
from pystats.gr.estimators import b_positive, b_tinti_mulargia, b_value
from pystats.gr.model import GutenbergRichter

B, MU, SIGMA, DM = 1.0, 1.0, 0.2, 0.1
LN10 = math.log(10)


@pytest.fixture(scope="session")
def detected() -> np.ndarray:
    return simulate_detection(20_000, B, MU, SIGMA, DM, m_min=0.5, rng=np.random.default_rng(21))


@pytest.fixture(scope="session")
def detected_emr(detected: np.ndarray) -> McResult:
    return mc_emr(detected)


# ----------------------------------------------------------------------------- synthetic
def test_emr_recovers_detection_model(detected_emr: McResult) -> None:
    d = detected_emr.details
    assert abs(detected_emr.mc - 1.5) <= 0.1 + 1e-9
    for name, truth in (("b", B), ("mu", MU), ("sigma", SIGMA)):
        assert abs(d[name] - truth) < 3 * d[f"se_{name}"], name
    true_mc = MU + stats.norm.ppf(0.99) * SIGMA
    assert abs(d["mc_continuous"] - true_mc) < 3 * d["mc_continuous_se"]
    assert d["delta_m"] == DM and d["m_min"] == 0.5 and not d["complete_from_lowest_bin"]
    assert np.allclose(d["cov"], d["cov"].T)


def test_b_above_emr_mc_is_unbiased(detected: np.ndarray, detected_emr: McResult) -> None:
    r = b_tinti_mulargia(detected, detected_emr.mc, DM)
    assert abs(r.b - B) < 3 * r.se


def test_maxc_mode_matches_analytic_mode(detected: np.ndarray) -> None:
    # the detected density beta exp(-beta m) Phi(z) peaks where phi(z)/Phi(z) = beta sigma
    s = B * LN10 * SIGMA
    z = optimize.brentq(lambda t: stats.norm.pdf(t) / stats.norm.cdf(t) - s, -5, 10)
    mode = MU + SIGMA * z
    r = mc_maxc(detected)
    assert abs(r.details["mode_bin"] - mode) <= DM
    assert r.mc == pytest.approx(r.details["mode_bin"] + 0.2)
    assert r.details["mode_count"] == np.sum(np.isclose(detected, r.details["mode_bin"]))
    assert MU <= r.mc <= MU + 3 * SIGMA


def test_gft_definition_and_range(detected: np.ndarray) -> None:
    r = mc_gft(detected)
    d = r.details
    assert MU <= r.mc <= MU + 3 * SIGMA
    assert d["criterion"] == "R>=95"
    j = int(np.flatnonzero(np.isclose(d["candidates"], r.mc))[0])
    assert d["R_curve"][j] >= 95 and np.all(d["R_curve"][:j] < 95)
    # R recomputed by hand at the chosen Mc from cumulative counts
    x = detected[detected >= r.mc - DM / 2]
    bins = np.round(np.arange(r.mc, x.max() + DM / 2, DM), 10)
    obs = np.array([np.sum(x >= c - DM / 2) for c in bins])
    model = x.size * 10 ** (-d["b"] * (bins - r.mc))
    assert d["R"] == pytest.approx(100 - 100 * np.abs(obs - model).sum() / obs.sum())


def test_mbs_definition_and_range(detected: np.ndarray) -> None:
    r = mc_mbs(detected)
    d = r.details
    assert MU <= r.mc <= MU + 3 * SIGMA
    j = int(np.flatnonzero(np.isclose(d["candidates"], r.mc))[0])
    ok = np.abs(d["b_avg_curve"] - d["b_curve"]) <= d["db_curve"]
    assert ok[j] and not np.any(ok[:j])
    # b_avg is the mean over Mc .. Mc + 0.5 (6 bins of 0.1)
    assert d["b_avg"] == pytest.approx(np.mean(d["b_curve"][j : j + 6]))


@pytest.mark.parametrize("seed", [1, 2])
def test_complete_catalog(seed: int) -> None:
    """Pure GR above 2.0: no roll-off, so Mc is the lowest bin (MAXC adds its 0.2)."""
    m = simulate_gr(5000, 1.0, 2.0, 0.1, rng=seed)
    assert mc_maxc(m).mc == pytest.approx(2.2)
    assert mc_gft(m).mc == pytest.approx(2.0)
    assert mc_mbs(m).mc <= 2.2 + 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        e = mc_emr(m)
    assert e.mc <= 2.5 and abs(e.details["b"] - 1.0) < 3 * e.details["se_b"]


def test_emr_warns_when_complete_from_lowest_bin() -> None:
    m = simulate_detection(5000, 1.0, 1.0, 0.1, 0.1, m_min=1.8, rng=3)  # detection ~1 at 1.8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # mu, sigma are not identified
        with pytest.warns(DataWarning, match="complete from its lowest"):
            r = mc_emr(m)
    assert r.mc == 1.8 and r.details["complete_from_lowest_bin"]


@pytest.mark.slow
def test_emr_standard_errors_are_calibrated() -> None:
    """Two-sided check of the 90 % Wald intervals (|z| < 1.645) of b, mu and sigma over 1000
    catalogs of 2000 events: coverage must be in [0.875, 0.925].  Binomial sd is 0.95 % at
    90 %, so correct SEs fail with probability ~1 % per parameter, while a true coverage of
    85 % passes with probability ~1.4 % and 95 % with < 0.1 %.  Found (seed 22): 0.887,
    0.895, 0.898 (sd(z) 1.04, 1.00, 1.00).  About 3 min."""
    rng = np.random.default_rng(22)
    z = {"b": [], "mu": [], "sigma": []}
    for _ in range(1000):
        d = mc_emr(simulate_detection(2000, B, MU, SIGMA, DM, m_min=0.5, rng=rng)).details
        for name, truth in (("b", B), ("mu", MU), ("sigma", SIGMA)):
            z[name].append((d[name] - truth) / d[f"se_{name}"])
    for name, zs in z.items():
        assert 0.875 <= np.mean(np.abs(zs) < 1.645) <= 0.925, name


# ----------------------------------------------------------------------------- KS
def test_ks_distance_and_p_value_by_hand() -> None:
    """D = max |ECDF - (1 - q^(k+1))| over the bins above Mc, b by Tinti–Mulargia."""
    m = simulate_gr(400, 1.0, 2.0, 0.1, rng=31)
    r = mc_ks(m, min_events=50, seed=1)
    d = r.details
    x = m[m >= r.mc - 0.05]
    q = 10 ** (-b_tinti_mulargia(x, r.mc, 0.1).b * 0.1)
    k = np.arange(round((x.max() - r.mc) / 0.1) + 1)
    ecdf = np.array([np.mean(np.round((x - r.mc) / 0.1) <= kk) for kk in k])
    assert d["ks_distance"] == pytest.approx(np.max(np.abs(ecdf - (1 - q ** (k + 1)))))
    assert d["criterion"] == "p>=0.1" and d["p_value"] >= 0.1 and r.reliable
    assert np.all(d["p_curve"][:-1] < 0.1)  # the first candidate that passes


@pytest.mark.parametrize("refit", [True, False])
def test_ks_p_values_under_the_null(refit: bool) -> None:
    """Pure GR samples: with b refitted on each simulation (default, Clauset et al. 2009)
    the p-value is ~uniform, P(p < 0.1) ~ 0.1 and P(p < 0.5) ~ 0.5; with b fixed
    (SeismoStats) the p-values are too large, the test lenient (P(p < 0.5) = 0.25 here).
    300 catalogs: binomial sd 1.7 % at 0.1, 2.9 % at 0.5."""
    rng = np.random.default_rng(32)
    p = []
    for _ in range(300):
        m = simulate_gr(300, 1.0, 2.0, 0.1, rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # samples that fail the test
            r = mc_ks(m, n_sim=400, refit=refit, min_events=290, seed=rng)
        p.append(r.details["p_value"])
    p = np.array(p)
    if refit:
        assert 0.05 <= np.mean(p < 0.1) <= 0.15
        assert 0.41 <= np.mean(p < 0.5) <= 0.59
    else:
        assert np.mean(p < 0.5) < 0.35


def test_ks_finds_the_detection_roll_off(detected: np.ndarray) -> None:
    """Detection 0.99 at 1.465: the KS Mc is at or above mu + sigma and within 0.2 of 1.5."""
    r = mc_ks(detected, seed=3)
    assert 1.3 <= r.mc <= 1.7 and r.reliable
    assert abs(r.details["b"] - B) < 0.05


# ----------------------------------------------------------------------------- bootstrap
def _replicates(m: np.ndarray, n_boot: int, seed: int) -> list[np.ndarray]:
    """The bootstrap catalogs the methods use: events resampled with replacement, i.e.
    multinomial counts of the binned FMD (same random stream)."""
    rng = np.random.default_rng(seed)
    u, c = np.unique(np.round(m, 1), return_counts=True)
    centres = np.round(u.min() + 0.1 * np.arange(round((u.max() - u.min()) / 0.1) + 1), 10)
    counts = np.zeros(centres.size)
    counts[np.round((u - u.min()) / 0.1).astype(int)] = c
    draws = rng.multinomial(m.size, counts / m.size, size=n_boot)
    return [np.repeat(centres, row) for row in draws]


@pytest.mark.parametrize("fn", [mc_maxc, mc_gft, mc_mbs, mc_ks])
def test_vectorised_bootstrap_equals_rerunning_the_method(fn, detected: np.ndarray) -> None:
    m = detected[:4000]
    n_boot, kw = (12, {"n_sim": 300}) if fn is mc_ks else (30, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        r = fn(m, n_boot=n_boot, seed=8, **kw)
        reps = _replicates(m, n_boot, seed=8)
        ref = np.array([fn(x, seed=8, **kw).mc for x in reps])
    boot = r.details["bootstrap"]["mc"]
    if fn is mc_ks:
        # replicates reuse the data's simulated null distances, so their p-values differ
        # from a rerun's by Monte Carlo noise (sd ~0.017 at p = 0.1 with 300 samples each):
        # where the two Mc differ, the rerun's p-value at the other one is near p_pass
        for x, mb, mr in zip(reps, boot, ref, strict=True):
            if not np.isfinite(mb) or np.isclose(mb, mr):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                d = fn(x, seed=8, n_sim=300, p_pass=1.0).details  # every candidate's p
            p_at = float(d["p_curve"][np.flatnonzero(np.isclose(d["candidates"], min(mb, mr)))[0]])
            assert abs(p_at - 0.1) < 0.06
    else:
        np.testing.assert_allclose(boot, ref)
    good = boot[np.isfinite(boot)]
    assert r.details["bootstrap"]["n_failed"] == boot.size - good.size
    assert r.mc_std == pytest.approx(np.std(good, ddof=1))
    lo, hi = np.quantile(good, [0.05, 0.95], method="inverted_cdf")
    assert r.mc_interval == (pytest.approx(lo), pytest.approx(hi))
    assert r.mc == fn(m, seed=8, **kw).mc  # the bootstrap does not change the estimate


def test_emr_bootstrap_refits_each_replicate(detected: np.ndarray) -> None:
    """Batch Newton refits of the replicates agree with the Nelder–Mead fit of each."""
    m = detected[:4000]
    r = mc_emr(m, n_boot=8, seed=9)
    ref = np.array([mc_emr(x).mc for x in _replicates(m, 8, seed=9)])
    np.testing.assert_allclose(r.details["bootstrap"]["mc"], ref)
    # the spread covers the sampling noise of mc_continuous (delta method) in bins
    assert r.mc_std <= 3 * (r.details["mc_continuous_se"] + DM)


def test_bootstrap_options() -> None:
    m = simulate_gr(500, 1.0, 2.0, 0.1, rng=33)
    assert mc_maxc(m).mc_std is None and "bootstrap" not in mc_maxc(m).details
    r = estimate_mc(m, method="gft", n_boot=50, boot_prob=0.5, seed=1)
    assert r.details["bootstrap"]["prob"] == 0.5 and r.mc_interval[0] <= r.mc_interval[1]
    with pytest.raises(OptionError, match="n_boot"):
        mc_maxc(m, n_boot=-1)
    with pytest.raises(OptionError, match="n_boot=1"):
        mc_maxc(m, n_boot=1)
    with pytest.raises(OptionError, match="boot_prob"):
        mc_gft(m, n_boot=10, boot_prob=1.0)
    with pytest.raises(OptionError, match="n_sim"):
        mc_ks(m, n_sim=5)


# ----------------------------------------------------------------------------- flag
def test_mc_above_nearly_all_data_is_flagged() -> None:
    """A modal bin near the top (a few events at 2.0 and a pile of large ones): MAXC's Mc
    leaves < 1 % of the events, so it is flagged and the model refuses it."""
    m = np.concatenate([simulate_gr(3000, 1.0, 2.0, 0.1, rng=34), np.full(4000, 5.0)])
    with pytest.warns(DataWarning, match=r"above nearly all the data: only \d+ of 7000"):
        r = mc_maxc(m)
    assert r.mc == pytest.approx(5.2) and not r.reliable
    assert r.details["n_above"] == np.sum(m >= 5.15) < 70
    assert mc_maxc(simulate_gr(3000, 1.0, 2.0, 0.1, rng=34)).reliable
    with pytest.warns(DataWarning), pytest.raises(DataError, match="flags as unreliable"):
        GutenbergRichter(mc="maxc").fit(m)


# ----------------------------------------------------------------------------- options
def test_default_bin_width() -> None:
    rng = np.random.default_rng(4)
    cont = 1.0 + rng.exponential(1 / LN10, size=3000)
    assert mc_maxc(cont).details["delta_m"] == 0.1
    fine = np.round(cont, 2)
    r = mc_maxc(fine)
    assert r.details["delta_m"] == 0.1 and r.mc == pytest.approx(round(r.mc, 1))
    coarse = mc_gft(fine, 0.2)
    assert coarse.details["delta_m"] == 0.2
    assert abs(coarse.mc / 0.2 - round(coarse.mc / 0.2)) < 1e-9


def test_estimate_mc_dispatch(detected: np.ndarray) -> None:
    for name, fn in (("maxc", mc_maxc), ("gft", mc_gft), ("mbs", mc_mbs)):
        r = estimate_mc(detected, method=name)
        assert r.method == name and r.mc == fn(detected).mc
    assert estimate_mc(detected, method="maxc", correction=0.0).mc == pytest.approx(
        mc_maxc(detected).details["mode_bin"]
    )
    with pytest.raises(OptionError, match="allowed: maxc, gft, mbs, emr, ks"):
        estimate_mc(detected, method="kde")
    with pytest.raises(OptionError, match="unexpected keyword"):
        estimate_mc(detected, method="maxc", level=95)


def test_errors() -> None:
    m = simulate_gr(200, 1.0, 2.0, 0.1, rng=5)
    with pytest.raises(DataError, match="delta_m must be > 0"):
        mc_maxc(m, 0.0)
    with pytest.raises(DataError, match="m contains 1 non-finite"):
        mc_gft(np.append(m, np.nan))
    with pytest.raises(OptionError, match="level"):
        mc_gft(m, level=150)
    with pytest.raises(OptionError, match="min_events"):
        mc_mbs(m, min_events=1)
    with pytest.raises(DataError, match="min_events=500"):
        mc_gft(m, min_events=500)
    with pytest.raises(OptionError, match="b_method"):
        mc_gft(m, b_method="positive")
    with pytest.raises(OptionError, match="detection_level"):
        mc_emr(m, detection_level=1.0)
    with pytest.raises(OptionError, match="correction"):
        mc_maxc(m, correction=float("nan"))
    m0 = m.copy()
    for name in MC_METHODS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            estimate_mc(m, method=name)
    np.testing.assert_array_equal(m, m0)


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="session")
def ridgecrest(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "catalogs" / "ridgecrest2019_comcat_m1.5.csv")


@pytest.fixture(scope="session")
def jma(shared_data) -> pd.DataFrame:
    df = pd.read_csv(shared_data / "catalogs" / "japan_jma_1926_2007_m4.5_etasR.csv")
    df["year"] = pd.to_datetime(df["date"]).dt.year
    return df


def _mc_and_b(m: np.ndarray, methods: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    out = {}
    for name in methods:
        mc = estimate_mc(m, method=name).mc
        out[name] = (mc, b_value(m, mc).b)
    return out


def test_ridgecrest_mc_and_b_agree_across_methods(ridgecrest: pd.DataFrame) -> None:
    """ComCat Ridgecrest 2019, M >= 1.5 reported to 0.01 (Mc searched on 0.1 bins)."""
    m = ridgecrest["mag"].to_numpy()
    res = _mc_and_b(m, ("maxc", "gft", "emr"))
    mcs = [v[0] for v in res.values()]
    bs = [v[1] for v in res.values()]
    assert all(1.5 <= x <= 2.0 for x in mcs) and max(mcs) - min(mcs) <= 0.2 + 1e-9
    assert max(bs) - min(bs) < 0.05
    mc = res["maxc"][0]
    assert abs(b_value(m, mc, method="aki_utsu").b - b_value(m, mc).b) < 0.01
    e = mc_emr(m).details  # the detection model's own b agrees with the classical one
    assert abs(e["b"] - res["emr"][1]) < 0.05
    # MBS moves up to ~3.4 here, because b keeps drifting above M3 (mixed magnitude types
    # and early incompleteness); check it only against its own criterion
    r = mc_mbs(m)
    assert abs(r.details["b_avg"] - r.details["b"]) <= r.details["db"]


def test_ridgecrest_b_positive_is_robust_to_early_incompleteness(
    ridgecrest: pd.DataFrame,
) -> None:
    """Classical b of the whole sequence is biased low by short-term aftershock incompleteness
    after the M6.4 and M7.1 shocks (van der Elst 2021); b-positive on the whole sequence
    agrees with the classical b of the later, better-recorded part (days >= 5)."""
    m = ridgecrest["mag"].to_numpy()
    late = m[ridgecrest["days_since_start"].to_numpy() >= 5.0]
    late_res = _mc_and_b(late, MC_METHODS)
    late_b = [v[1] for v in late_res.values()]
    assert max(v[0] for v in late_res.values()) - min(v[0] for v in late_res.values()) <= 0.2
    assert max(late_b) - min(late_b) < 0.05
    full_b = b_value(m, mc_maxc(m).mc).b
    for dmc in (0.1, 0.2):
        pos = b_positive(m, 0.01, dmc)
        assert all(abs(pos.b - b) < 0.1 for b in late_b)
        assert pos.b - full_b > 0.15
        pos_late = b_positive(late, 0.01, dmc)
        assert abs(pos.b - pos_late.b) < 2 * math.hypot(pos.se, pos_late.se)


def test_jma_mc_and_b_agree_across_methods(jma: pd.DataFrame) -> None:
    """JMA 1926-2007, M >= 4.5: Mc by MAXC, GFT, MBS and b near 1 (within 0.15 of each other)."""
    m = jma["mag"].to_numpy()
    res = _mc_and_b(m, ("maxc", "gft", "mbs"))
    mcs = [v[0] for v in res.values()]
    bs = [v[1] for v in res.values()]
    assert all(4.5 <= x <= 5.3 for x in mcs)
    assert all(0.8 <= b <= 1.1 for b in bs) and max(bs) - min(bs) <= 0.15
    pos = b_positive(m, 0.1)
    assert all(abs(pos.b - b) <= 0.15 for b in bs)


def test_jma_emr_on_the_modern_catalog(jma: pd.DataFrame) -> None:
    """EMR on 1965-2007 (on 1926-2007 the changing network makes one roll-off a poor model)."""
    m = jma.loc[jma["year"] >= 1965, "mag"].to_numpy()
    r = mc_emr(m)
    d = r.details
    assert 4.5 <= r.mc <= 6.0
    assert 0.9 <= d["b"] <= 1.1
    classical = b_tinti_mulargia(m, r.mc, 0.1)
    assert abs(d["b"] - classical.b) < 2 * math.hypot(d["se_b"], classical.se)


def test_jma_emr_on_the_whole_catalog_is_flagged(jma: pd.DataFrame) -> None:
    """JMA 1926-2007: one roll-off fits the changing network badly (sigma ~ 1) and EMR's
    Mc = 7.6 leaves 8 of 13724 events: flagged, and GutenbergRichter(mc="emr") refuses it."""
    m = jma["mag"].to_numpy()
    with pytest.warns(DataWarning, match="above nearly all the data: only 8 of 13724"):
        r = mc_emr(m)
    assert r.mc == pytest.approx(7.6) and not r.reliable
    with pytest.warns(DataWarning), pytest.raises(DataError, match=r"Mc=7\.6.*unreliable"):
        GutenbergRichter(mc="emr").fit(m)
    ks = mc_ks(m, seed=1)  # the KS method is not fooled: Mc within the MAXC/GFT/MBS range
    assert ks.reliable and 4.5 <= ks.mc <= 5.3


def test_ridgecrest_ks_and_bootstrap(ridgecrest: pd.DataFrame) -> None:
    """ComCat Ridgecrest: b drifts with magnitude, so with 12 259 events the KS test rejects
    GR above every Mc up to ~3.5 and passes at 3.6 (329 events); the bootstrap spreads of
    MAXC and GFT are within a bin, MBS jumps between its two stable ranges."""
    m = ridgecrest["mag"].to_numpy()
    ks = mc_ks(m, seed=1)
    assert ks.reliable and 3.3 <= ks.mc <= 3.9 and ks.details["n_above"] >= 200
    assert np.all(ks.details["p_curve"][:-1] < 0.1)
    for fn, max_std in ((mc_maxc, 0.1), (mc_gft, 0.1), (mc_emr, 0.1)):
        r = fn(m, n_boot=100, seed=2)
        assert r.mc_std <= max_std and r.mc_interval[0] <= r.mc <= r.mc_interval[1], fn
