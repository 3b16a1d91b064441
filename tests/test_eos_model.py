"""LiquidIronEOS: the data table, the Stan program against the NumPy likelihood, recovery
of the Kuwayama (2020) parameters from data simulated at real conditions, predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.eos import forward as fw
from pystats.eos.data import read_eos_table, simulate_observations
from pystats.eos.model import EOS_PARAMETERS

KUW = fw.EOSParameters.kuwayama2020()
TRUTH = {k: float(getattr(KUW, k)) for k in EOS_PARAMETERS}


def real_conditions(shared_data):
    """True conditions of the simulation: the Kuwayama run P-T, Assael's 1-bar
    temperatures, the liquid Hugoniot densities of Brown et al. (2000) and the shock
    sound-speed densities (Brown & McQueen 1986)."""
    eos = shared_data / "eos"
    pt = pd.read_csv(eos / "kuwayama2020_pt_conditions.csv", comment="#")
    a = pd.read_csv(eos / "assael2006_1bar_liquid_fe_density.csv", skipinitialspace=True)
    h = pd.read_csv(eos / "iron_hugoniot_above_200GPa.csv", comment="#")
    h = h[(h.ref == 27) & (h.P_GPa > 240)]
    return dict(static_P=pt.pressure_GPa.to_numpy(), static_T=pt.temperature_K.to_numpy(),
                one_bar_T=a.iloc[:, 0].to_numpy(float), shock_rho=h.rho_g_cm3.to_numpy(),
                sound_rho=np.array([12.4449, 12.4832, 12.9107]))


@pytest.fixture(scope="module")
def simulated(shared_data):
    return simulate_observations(KUW, seed=11, **real_conditions(shared_data))


# ---------------------------------------------------------------- data table
def _row(**kw):
    base = {"kind": "density", "dataset": "a", "P_GPa": 50.0, "P_sd": 0.5, "T_K": 3000.0,
            "T_sd": 100.0, "rho_g_cm3": 9.0, "rho_sd": 0.05}
    base.update(kw)
    return pd.DataFrame([base])


@pytest.mark.parametrize("change, message", [
    ({"kind": "densty"}, "column 'kind' row 0 is 'densty'; allowed kinds are density"),
    ({"rho_g_cm3": np.nan}, "row 0 (kind 'density') has no 'rho_g_cm3'"),
    ({"rho_sd": -1.0}, "column 'rho_sd' row 0 is -1.0; it must be > 0"),
    ({"P_GPa": "high"}, "column 'P_GPa' row 0 holds 'high', not a number"),
    ({"kind": "hugoniot"}, "row 0 (kind 'hugoniot') has T_K=3000.0, which a hugoniot row"),
])
def test_bad_rows_are_named(change, message):
    with pytest.raises(pystats.DataError) as err:
        read_eos_table(_row(**change))
    assert message in str(err.value)


def test_table_errors_for_columns_and_types():
    with pytest.raises(pystats.DataError, match="no 'kind' column"):
        read_eos_table(pd.DataFrame({"P_GPa": [1.0]}))
    with pytest.raises(pystats.DataError, match=r"unknown column.*'rho'"):
        read_eos_table(_row().assign(rho=1.0))
    with pytest.raises(pystats.DataError, match="empty"):
        read_eos_table(_row().iloc[:0])
    with pytest.raises(pystats.DataError, match="type list is not allowed"):
        read_eos_table([1, 2])


def test_input_not_modified_and_split(simulated):
    before = simulated.copy()
    data = pystats.LiquidIronEOS().prepare(simulated)
    pd.testing.assert_frame_equal(simulated, before)
    v = data.values
    assert (v["N_s"], v["N_h"], v["N_1"]) == (16, 16, 14)
    assert v["D"] == 0 and data.summary["n_observations"] == 46


def test_options_are_checked():
    with pytest.raises(pystats.OptionError, match="isotherm='bm4' is not allowed"):
        pystats.LiquidIronEOS(isotherm="bm4")
    with pytest.raises(pystats.OptionError, match="priors has unknown parameter 'K1'"):
        pystats.LiquidIronEOS(priors={"K1": (1.0, 1.0)})
    with pytest.raises(pystats.OptionError, match="no reference parameter values"):
        pystats.LiquidIronEOS().density(10.0, 2000.0)


def test_forward_methods_of_the_published_set():
    eos = pystats.LiquidIronEOS.kuwayama2020()
    assert float(eos.density(20.0, 2000.0)) == pytest.approx(8.149, rel=2e-4)
    a = eos.adiabat(4000.0)
    assert a["T"][0] == pytest.approx(4000.0) and a["P"][-1] == pytest.approx(328.85)


def test_kuwayama_outer_core_density_excess(shared_data):
    """Kuwayama et al. (2020): liquid iron ~8 % denser than PREM's outer core on a 4000 K
    adiabat (their abstract: 7.5-7.6 % at the CMB for 3600-4300 K ranges; we get 8.2 %)."""
    prem = pd.read_csv(shared_data / "eos" / "prem_outer_core.csv", comment="#")
    a = pystats.LiquidIronEOS.kuwayama2020().adiabat(4000.0, prem.pressure_GPa.to_numpy())
    excess = a["rho"] / prem.density_g_cm3.to_numpy() - 1
    assert excess[0] == pytest.approx(0.0823, abs=0.001)
    assert excess[-1] == pytest.approx(0.0818, abs=0.001)


# ---------------------------------------------------------------- Stan = NumPy
@pytest.fixture(scope="module")
def map_fit(simulated):
    return pystats.LiquidIronEOS().fit(simulated, method="map", seed=3, n_starts=2)


def test_stan_log_likelihood_equals_numpy(simulated, map_fit):
    """The Stan program's log likelihood (include_prior=0, no Jacobian) at the MAP point
    and at a perturbed point equals the sum of the NumPy pointwise log likelihood."""
    from pystats.backends import get_backend

    model = map_fit.model
    data = map_fit.data
    params = map_fit.parameters
    density = get_backend("pystan").log_density(model, data, include_prior=False)
    point = {k: np.asarray(map_fit.point[k]) for k in params.names}
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.02):
        u = params.unconstrain(point) + shift * rng.standard_normal(params.dim)
        values = params.constrain(u)
        stan = density.value_and_grad(u, False)[0]
        numpy = model.pointwise_log_likelihood(values, data)["rho_g_cm3"].sum()
        assert stan == pytest.approx(numpy, rel=1e-9, abs=1e-7)


@pytest.mark.parametrize("isotherm, errors", [("vinet", "marginal"), ("bm3", "marginal"),
                                               ("vinet", "profile"), ("bm3", "profile")])
def test_vectorised_stan_program_equals_numpy_on_every_branch(simulated, isotherm, errors):
    """The vectorised Stan program (shared powers of V/V0, data-only terms in transformed
    data) keeps the density of the scalar one, which its NumPy twin reproduced: at five
    points around the Kuwayama values, on a table with every kind of row (static points
    with and without V_P, two static data sets with their pressure scales, Hugoniot points
    with and without V_P, 1-bar densities), for both isotherms and both closed-form error
    models (``errors="marginal"``, ``"profile"``), constants included."""
    from pystats.backends import get_backend
    from pystats.eos.data import simulate_static

    with_vp = simulate_static(KUW, [30.0, 60.0, 90.0], [2500.0, 3200.0, 3800.0], seed=4,
                              vp=True, dataset="static_vp")
    table = pd.concat([simulated, with_vp], ignore_index=True)
    model = pystats.LiquidIronEOS(isotherm=isotherm, pressure_scale=True, errors=errors)
    data = model.prepare(table)
    assert data.values["D"] == 2 and sum(data.values["s_has_vp"]) == 3
    assert 0 < sum(data.values["h_has_vp"]) < data.values["N_h"]
    params = model.parameters(data)
    density = get_backend("pystan").log_density(model, data, include_prior=False)
    base = params.unconstrain({**TRUTH, "pressure_scale": np.array([0.01, -0.01])})
    rng = np.random.default_rng(1)
    for shift in (0.0, 0.01, 0.01, 0.03, 0.03):
        u = base + shift * rng.standard_normal(params.dim)
        stan = density.value_and_grad(u, False)[0]
        numpy = model.pointwise_log_likelihood(params.constrain(u), data)["rho_g_cm3"].sum()
        assert np.isfinite(numpy)
        assert stan == pytest.approx(numpy, rel=1e-9, abs=1e-7)


def test_map_recovers_kuwayama_parameters(map_fit):
    """The MAP's CMB and ICB densities lie within 0.5 % of the truth, inside their
    intervals (the parameters themselves: next test)."""
    pred = map_fit.predict(P=[135.751, 328.85], T=[4000.0, 5500.0])
    truth = fw.density(np.array([135.751, 328.85]), np.array([4000.0, 5500.0]), KUW)
    np.testing.assert_allclose(pred["rho"], truth, rtol=5e-3)
    assert np.all(pred["rho_lower"] < pred["rho"]) and np.all(pred["rho"] < pred["rho_upper"])


@pytest.fixture(scope="module")
def map_replicates(shared_data):
    """MAP and its standard errors on 12 data sets simulated from Kuwayama's parameters at
    the real conditions (seeds 100-111), and the MAP on the noise-free data set, where
    the estimator is centred, and the MLE there (no priors): a dict of arrays in the
    order of ``EOS_PARAMETERS``."""
    import warnings

    cond = real_conditions(shared_data)
    est, se = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.PystatsWarning)
        for s in range(12):
            fit = pystats.LiquidIronEOS().fit(simulate_observations(KUW, seed=100 + s, **cond),
                                              method="map", seed=3, n_starts=2)
            table = fit.summary()
            est.append([float(fit.estimate(k)) for k in EOS_PARAMETERS])
            se.append([float(table.loc[k, "se"]) for k in EOS_PARAMETERS])
        clean = simulate_observations(KUW, seed=11, noise=False, **cond)
        centre, mle = (pystats.LiquidIronEOS().fit(clean, method=m, seed=3, n_starts=2)
                       for m in ("map", "mle"))
    return {"est": np.array(est), "se": np.array(se),
            "centre": np.array([float(centre.estimate(k)) for k in EOS_PARAMETERS]),
            "mle": np.array([float(mle.estimate(k)) for k in EOS_PARAMETERS]),
            "mle_se": mle.summary().loc[list(EOS_PARAMETERS), "se"].to_numpy(float)}


def test_map_is_centred_on_its_noise_free_value_with_calibrated_errors(map_replicates):
    """The MAP (default ``errors="profile"``) estimates the Kuwayama parameters up to the
    priors' pull.

    * Without priors the noise-free data give back the truth exactly (the profile's
      quadratic form is zero there and its normaliser does not depend on θ): within 0.05
      of the MLE's SE.  (``errors="marginal"``: up to 0.56 SE off, K0p 5.937 and q 0.93,
      the θ-dependent normaliser's bias.)
    * With the priors the noise-free MAP, the centre, is K0p 5.84 (+0.23 SE), γ0 −0.4 SE,
      e0, g +0.4 SE towards their prior means (``"marginal"``: K0p 5.952, +1.3 SE).
    * Over 12 simulated data sets the mean of MAP − centre is 0 for every parameter
      (one-sample t-tests, each at level 0.001: 0.7 % family-wise), and for the
      data-dominated V0, K0, K0p the spread of the MAP matches the Hessian SE (ratio of
      sd to mean SE in [0.45, 1.8]: about ±2.5 sd of the ratio's sampling error at 12
      sets).  The prior-dominated γ0, q, e0, g vary less than their SE: the SE includes
      the prior's width."""
    from scipy.stats import ttest_1samp

    r = map_replicates
    est, centre = r["est"], r["centre"]
    truth = np.array([TRUTH[k] for k in EOS_PARAMETERS])
    se_mean = r["se"].mean(axis=0)
    assert np.all(np.abs(r["mle"] - truth) < 0.05 * r["mle_se"]), dict(
        zip(EOS_PARAMETERS, (r["mle"] - truth) / r["mle_se"], strict=True))
    k0p = EOS_PARAMETERS.index("K0p")
    assert abs(centre[k0p] - truth[k0p]) < 0.5 * se_mean[k0p]  # the priors' pull only
    pvalues = ttest_1samp(est - centre, 0.0, axis=0).pvalue
    assert np.all(pvalues > 1e-3), dict(zip(EOS_PARAMETERS, pvalues, strict=True))
    ratio = est.std(axis=0, ddof=1) / se_mean
    for k in ("V0", "K0", "K0p"):
        i = EOS_PARAMETERS.index(k)
        assert 0.45 < ratio[i] < 1.8, (k, ratio[i])
    assert np.all(ratio < 1.8), dict(zip(EOS_PARAMETERS, ratio, strict=True))


def test_predict_adiabat_against_prem(map_fit, shared_data):
    prem = shared_data / "eos" / "prem_outer_core.csv"
    df = map_fit.predict(T_cmb=4000.0, T_cmb_sd=300.0, prem=prem)
    assert len(df) == 24 and df["T"].iloc[0] == pytest.approx(4000.0, abs=60)
    assert 0.05 < df["density_excess"].iloc[0] < 0.11
    assert np.all(df["density_excess_lower"] < df["density_excess_upper"])
    with pytest.raises(pystats.OptionError, match="not both"):
        map_fit.predict(P=[100.0], T=[3000.0], T_cmb=4000.0)


def test_cli_fit_and_predict_round_trip(tmp_path, simulated, capsys):
    """``pystats fit --model iron-eos`` reads the tidy table with the family's declared
    reader; ``pystats predict`` takes --P/--T and --T-cmb/--prem."""
    from pystats.cli import main

    csv = tmp_path / "eos.csv"
    simulated.to_csv(csv, index=False)
    out = tmp_path / "eos.nc"
    assert main(["fit", str(csv), "--model", "iron-eos", "--method", "map", "--seed", "3",
                 "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["predict", str(out), "--P", "135.751", "--T", "4000"]) == 0
    text = capsys.readouterr().out
    rho = float(fw.density(135.751, 4000.0, KUW))
    value = float(text.split("\n")[1].split()[3])  # P_GPa, T_K, rho
    assert value == pytest.approx(rho, rel=5e-3)
    assert main(["predict", str(out), "--T-cmb", "4000"]) == 0
    bad = tmp_path / "bad.csv"
    simulated.assign(kind="densty").to_csv(bad, index=False)
    assert main(["fit", str(bad), "--model", "iron-eos", "--method", "map"]) == 2
    assert "allowed kinds are density" in capsys.readouterr().err


# ---------------------------------------------------------------- slow: NUTS
@pytest.mark.slow  # 99 s at load 14 on the shared 2-core machine (vectorised program)
def test_nuts_recovers_kuwayama_parameters(simulated):
    """NUTS on the data simulated at the real conditions: every EOS parameter within 3
    posterior sd of the truth, the CMB density (4000 K) within its 99 % interval, no
    divergences."""
    fit = pystats.LiquidIronEOS().fit(simulated, method="nuts", seed=5, chains=2, draws=400,
                                      warmup=400)
    s = fit.summary()
    for k in EOS_PARAMETERS:
        assert abs(s.loc[k, "mean"] - TRUTH[k]) < 3 * s.loc[k, "sd"], (k, s.loc[k].to_dict())
    assert int(np.sum(fit.sample_stats["diverging"])) == 0
    pred = fit.predict(P=[135.751], T=[4000.0], prob=0.99)
    rho = float(fw.density(135.751, 4000.0, KUW))
    assert pred["rho_lower"].iloc[0] < rho < pred["rho_upper"].iloc[0]


NEIGHBOURHOOD_PRIORS = {"V0": (np.log(7.94), 0.01), "K0": (np.log(82.1), 0.1),
                        "K0p": (5.8, 0.5), "gamma0": (np.log(2.02), 0.15), "q": (0.63, 0.5),
                        "e0": (np.log(6.8e-5), 0.5), "g": (-1.0, 0.7)}
"""Priors around the Kuwayama values (the model's families, narrower scales) for the SBC
check: used both to draw the truths and in the fits, as SBC requires."""


def _draw_prior(priors, rng):
    """One draw of the EOS parameters from ``priors`` (the model's families, truncated to
    its bounds by rejection, as the model truncates them)."""
    from pystats.eos.model import _BOUNDS, DEFAULT_PRIORS

    out = {}
    for k in EOS_PARAMETERS:
        loc, scale = priors[k]
        while True:
            x = rng.normal(loc, scale)
            x = float(np.exp(x)) if DEFAULT_PRIORS[k][0] == "lognormal" else float(x)
            if _BOUNDS[k][0] < x < _BOUNDS[k][1]:
                break
        out[k] = x
    return out


def simulate_at_observed_states(params, cond, rng):
    """Data from the fitted model's own generative story (``errors="marginal"``: flat
    priors on the true states, so given an observed state the true one is spread around
    it): the observed densities, temperatures and shock densities are the design (static
    densities from the Kuwayama EOS at the 16 run P-T, the Assael temperatures, the Brown
    et al. shock densities), the true states are observed + N(0, sd) (0.5 % in rho, 100 K,
    1 % in shock rho), and P, V_P are simulated at the true states (1 %, 2 %, 0.1 km/s
    errors; 1-bar densities 0.5 %).  Raises ``DataError`` where ``params`` has no
    Hugoniot at a true density."""
    M = fw.MOLAR_MASS_FE
    z = rng.standard_normal
    Ps, Ts = cond["static_P"], cond["static_T"]
    rho_s = fw.density(Ps, Ts, KUW)
    n = Ps.size
    T_true, rho_true = Ts + 100.0 * z(n), rho_s * (1 + 0.005 * z(n))
    rows = [pd.DataFrame({
        "kind": "density", "dataset": "static",
        "P_GPa": fw.pressure(M / rho_true, T_true, params) + 0.01 * Ps * z(n),
        "P_sd": 0.01 * Ps, "T_K": Ts, "T_sd": 100.0, "rho_g_cm3": rho_s,
        "rho_sd": 0.005 * rho_s})]
    T1 = cond["one_bar_T"]
    r1 = fw.density(1e-4, T1, params)
    rows.append(pd.DataFrame({"kind": "density_1bar", "dataset": "one_bar", "T_K": T1,
                              "T_sd": 0.0, "rho_g_cm3": r1 * (1 + 0.005 * z(T1.size)),
                              "rho_sd": 0.005 * r1}))
    for kind, rho_obs in (("hugoniot", cond["shock_rho"]), ("sound_speed", cond["sound_rho"])):
        m = rho_obs.size
        p_sd = 0.02 * fw.hugoniot(M / rho_obs, KUW)["P"]
        with np.errstate(invalid="ignore"):
            h = fw.hugoniot(M / (rho_obs * (1 + 0.01 * z(m))), params)
        frame = pd.DataFrame({"kind": kind, "dataset": kind, "P_GPa": h["P"] + p_sd * z(m),
                              "P_sd": p_sd, "rho_g_cm3": rho_obs, "rho_sd": 0.01 * rho_obs})
        if kind == "sound_speed":
            frame["vp_km_s"] = h["V_P"] + 0.1 * z(m)
            frame["vp_sd"] = 0.1
        rows.append(frame)
    return read_eos_table(pd.concat(rows, ignore_index=True))


def _sbc_ranks(errors, simulate, cond, rng):
    """SBC ranks (Talts et al. 2018) of 100 replicates for ``LiquidIronEOS(errors=errors)``
    with ``NEIGHBOURHOOD_PRIORS``: truths drawn from the priors, data from ``simulate(params,
    rng)`` (redrawn where the truth has no Hugoniot at the shock densities), rank of the
    truth among 99 Laplace draws for the seven parameters and ρ(CMB, 4000 K).  Returns the
    ranks and the number of fits without a positive-definite Hessian."""
    model = pystats.LiquidIronEOS(priors=NEIGHBOURHOOD_PRIORS, errors=errors)
    ranks, failed = [], 0
    for rep in range(100):
        while True:
            truth = _draw_prior(NEIGHBOURHOOD_PRIORS, rng)
            params = fw.EOSParameters(**truth)
            try:
                with np.errstate(invalid="ignore"):
                    data = simulate(params, rng)
                break
            except pystats.DataError:
                continue
        fit = model.fit(data, method="laplace", seed=rep, draws=99, chains=1, n_starts=2)
        if "V0" not in fit.draws:
            failed += 1
            continue
        draws = {k: np.asarray(fit.variable(k)) for k in EOS_PARAMETERS}
        rho = fw.density(135.751, 4000.0, fw.EOSParameters(**draws))
        ranks.append([int(np.sum(draws[k] < truth[k])) for k in EOS_PARAMETERS]
                     + [int(np.sum(rho < fw.density(135.751, 4000.0, params)))])
    return np.asarray(ranks), failed


@pytest.mark.slow  # 81 s of CPU (200 + 40 Laplace fits)
def test_sbc_ranks_and_coverage_of_the_kuwayama_truth(shared_data):
    """Simulation-based calibration (Talts et al. 2018) at the real conditions, each error
    model under the data-generating process it is exact for.

    * ``errors="marginal"`` (states integrated out under flat priors) with Berkson errors:
      data from the model's own story (:func:`simulate_at_observed_states`: observed
      states fixed, true = observed + error);
    * ``errors="profile"`` (the default: states profiled out, θ-free normaliser) with
      classical errors (:func:`pystats.eos.data.simulate_observations`: true states fixed,
      observations scattered around them).

    100 replicates each: parameters from ``NEIGHBOURHOOD_PRIORS`` (the fits' priors too),
    rank of the truth among 99 Laplace draws for the seven parameters and ρ(CMB, 4000 K);
    each rank histogram (10 bins) passes a chi-square test at level 0.001 (16 tests: 1.6 %
    family-wise; fixed seed), and at most 10 % of the Laplace fits fail (no positive-definite
    Hessian; 5 and 3 measured).  (``"marginal"`` under classical errors fails this check:
    K0p p 1e-4, q 0.002; model card, section 3.)

    Coverage of the Kuwayama truth, default priors, 20 data sets per design, 90 % intervals
    of ρ at the CMB and ICB and of K0p: ``"marginal"`` under Berkson errors at least 15 of
    20 (binomial(20, 0.9): fewer than 15 has probability 1 %; measured 20, 19, 18); the
    default ``"profile"`` under classical errors at least 13 of 20 (fewer: probability
    0.2 %; measured 15, 16, 13; ``"marginal"`` there: 11, 11, 9), with posterior means
    within 1 % (CMB) and 3 % (ICB) of the truth (measured 0.71 %, 2.3 %)."""
    import warnings

    from scipy.stats import chisquare

    from pystats.eos.data import simulate_observations as classical

    cond = real_conditions(shared_data)
    designs = {
        "marginal": lambda params, rng: simulate_at_observed_states(params, cond, rng),
        "profile": lambda params, rng: classical(params, seed=int(rng.integers(2**31)),
                                                 **cond),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.PystatsWarning)
        for errors, simulate in designs.items():
            ranks, failed = _sbc_ranks(errors, simulate, cond, np.random.default_rng(2024))
            assert failed <= 10, (errors, failed)
            for i, name in enumerate([*EOS_PARAMETERS, "rho_cmb"]):
                counts = np.bincount(ranks[:, i] // 10, minlength=10)
                assert chisquare(counts).pvalue > 1e-3, (errors, name, counts)

    P, T = np.array([135.751, 328.85]), np.array([4000.0, 5500.0])
    rho_true = fw.density(P, T, KUW)
    covered, error = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.PystatsWarning)
        for errors in ("marginal", "profile"):
            rng = np.random.default_rng(7)
            hits, errs = [], []
            for s in range(20):
                data = (simulate_at_observed_states(KUW, cond, rng) if errors == "marginal"
                        else classical(KUW, seed=500 + s, **cond))
                fit = pystats.LiquidIronEOS(errors=errors).fit(
                    data, method="laplace", seed=s, draws=1000, chains=1, n_starts=2)
                draws = {k: np.asarray(fit.variable(k))[:, None] for k in EOS_PARAMETERS}
                rho = fw.density(P, T, fw.EOSParameters(**draws))
                lo, hi = np.nanquantile(rho, [0.05, 0.95], axis=0)
                k_lo, k_hi = np.quantile(draws["K0p"], [0.05, 0.95])
                hits.append([*((lo < rho_true) & (rho_true < hi)), k_lo < 5.8 < k_hi])
                errs.append(np.abs(np.nanmean(rho, axis=0) / rho_true - 1))
            covered[errors] = np.sum(hits, axis=0)
            error[errors] = np.max(errs, axis=0)
    assert np.all(covered["marginal"] >= 15), covered
    assert np.all(covered["profile"] >= 13), covered
    assert error["profile"][0] < 0.01 and error["profile"][1] < 0.03, error


# ---------------------------------------------------------------- errors in variables
def _one_of_each():
    """A static density, a static sound speed, a Hugoniot point and a shock sound speed,
    each observed about 1 sd away from the Kuwayama (2020) EOS (real-data error sizes)."""
    st = fw.state(fw.volume(np.array([118.0, 60.0]), np.array([4100.0, 3000.0]), KUW),
                  np.array([4100.0, 3000.0]), KUW)
    sh = fw.hugoniot(fw.MOLAR_MASS_FE / np.array([12.75, 12.65]), KUW)
    return pd.DataFrame([
        {"kind": "density", "dataset": "s", "P_GPa": 118.0 + 1.2, "P_sd": 1.5,
         "T_K": 4100.0 - 120.0, "T_sd": 150.0, "rho_g_cm3": st["rho"][0] + 0.05,
         "rho_sd": 0.06},
        {"kind": "sound_speed", "dataset": "s", "P_GPa": 60.0 - 0.7, "P_sd": 0.8,
         "T_K": 3000.0 + 90.0, "T_sd": 100.0, "rho_g_cm3": st["rho"][1] - 0.04,
         "rho_sd": 0.05, "vp_km_s": st["V_P"][1] + 0.06, "vp_sd": 0.07},
        {"kind": "hugoniot", "dataset": "h", "P_GPa": sh["P"][0] - 5.0, "P_sd": 6.0,
         "rho_g_cm3": 12.75 + 0.1, "rho_sd": 0.13},
        {"kind": "sound_speed", "dataset": "h", "P_GPa": sh["P"][1] + 5.0, "P_sd": 5.7,
         "rho_g_cm3": 12.65 - 0.1, "rho_sd": 0.126, "vp_km_s": sh["V_P"][1] - 0.2,
         "vp_sd": 0.2},
    ])


def test_marginal_likelihood_is_the_integrated_latent_likelihood():
    """errors='marginal' (first-order effective variance) against the latent model's
    likelihood integrated numerically over the true states (flat priors): static points
    over (V, T) on a 2-d grid, shock points over V; log values within 0.05 (the
    linearisation error at real-data error sizes: 0.001-0.04)."""
    from scipy.stats import norm

    model = pystats.LiquidIronEOS(errors="marginal")
    df = _one_of_each()
    data = model.prepare(df)
    ll = model.pointwise_log_likelihood(dict(TRUTH), data)["rho_g_cm3"]
    M = fw.MOLAR_MASS_FE
    for i, row in df.iterrows():
        V_obs = M / row.rho_g_cm3
        sV = V_obs * row.rho_sd / row.rho_g_cm3
        V = np.linspace(V_obs - 8 * sV, V_obs + 8 * sV, 801)
        dens_rho = norm.pdf(row.rho_g_cm3, M / V, row.rho_sd)
        if row.kind == "density" or np.isfinite(row.T_K):
            T = np.linspace(row.T_K - 8 * row.T_sd, row.T_K + 8 * row.T_sd, 401)[:, None]
            st = fw.state(V[None, :], T, KUW)
            f = (norm.pdf(row.P_GPa, st["P"], row.P_sd) * dens_rho
                 * norm.pdf(row.T_K, T, row.T_sd))
            if np.isfinite(row.vp_km_s):
                f = f * norm.pdf(row.vp_km_s, st["V_P"], row.vp_sd)
            exact = np.trapezoid(np.trapezoid(f, V, axis=1), T[:, 0])
        else:
            h = fw.hugoniot(V, KUW)
            f = norm.pdf(row.P_GPa, h["P"], row.P_sd) * dens_rho
            if np.isfinite(row.vp_km_s):
                f = f * norm.pdf(row.vp_km_s, h["V_P"], row.vp_sd)
            exact = np.trapezoid(f, V)
        assert ll[i] == pytest.approx(np.log(exact), abs=0.05), (i, row.kind)


def test_profile_likelihood_is_the_maximised_latent_likelihood():
    """errors='profile' (the default) against the latent model's joint density of all the
    observations (P, ρ, T and V_P) maximised numerically over the true states on a grid:
    log values within 0.05 (the linearisation error; measured 0.0001 static, 0.018-0.023
    shock), where the marginal's differ by 2.0-3.3 (another normaliser)."""
    from scipy.stats import norm

    model = pystats.LiquidIronEOS()
    assert model.options["errors"] == "profile"
    df = _one_of_each()
    data = model.prepare(df)
    ll = model.pointwise_log_likelihood(dict(TRUTH), data)["rho_g_cm3"]
    M = fw.MOLAR_MASS_FE
    for i, row in df.iterrows():
        V_obs = M / row.rho_g_cm3
        sV = V_obs * row.rho_sd / row.rho_g_cm3
        V = np.linspace(V_obs - 6 * sV, V_obs + 6 * sV, 1201)
        log_rho = norm.logpdf(row.rho_g_cm3, M / V, row.rho_sd)
        if np.isfinite(row.T_K):
            T = np.linspace(row.T_K - 6 * row.T_sd, row.T_K + 6 * row.T_sd, 601)[:, None]
            st = fw.state(V[None, :], T, KUW)
            f = (norm.logpdf(row.P_GPa, st["P"], row.P_sd) + log_rho
                 + norm.logpdf(row.T_K, T, row.T_sd))
        else:
            st = fw.hugoniot(V, KUW)
            f = norm.logpdf(row.P_GPa, st["P"], row.P_sd) + log_rho
        if np.isfinite(row.vp_km_s):
            f = f + norm.logpdf(row.vp_km_s, st["V_P"], row.vp_sd)
        assert ll[i] == pytest.approx(np.max(f), abs=0.05), (i, row.kind)


def test_marginal_errors_need_a_density():
    df = _one_of_each()
    df.loc[1, ["rho_g_cm3", "rho_sd"]] = np.nan
    with pytest.raises(pystats.DataError, match=r"row 1 \(kind 'sound_speed'.*errors='latent'"):
        pystats.LiquidIronEOS().prepare(df)
    data = pystats.LiquidIronEOS(errors="latent").prepare(df)
    assert data.values["N_s"] == 2


@pytest.mark.slow
def test_compare_isotherms_by_psis_loo(simulated):
    """PSIS-LOO between the Vinet and BM3 isotherms on data simulated from the Vinet
    (Kuwayama) EOS, NUTS draws: every observation's Pareto k below 0.7 with the marginal
    likelihood (one latent state per observation gave k > 0.7 for most), both rows ranked.
    (Laplace draws in the tails leave the EOS's domain: -inf terms, no LOO.)"""
    table = pystats.eos.compare_isotherms(simulated, method="nuts", seed=4, chains=2,
                                          draws=250, warmup=250)
    assert set(table.index) == {"vinet", "bm3"}
    assert np.all(np.isfinite(table["elpd_loo"]))
    assert float(table["max_pareto_k"].max()) < 0.7
    with pytest.raises(pystats.OptionError, match="method='map' is not allowed"):
        pystats.eos.compare_isotherms(simulated, method="map")
