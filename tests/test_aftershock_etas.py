"""AftershockDetection(rate="etas"): secondary triggering by the detected events
(model card §1b) — the near/far quadrature against scipy's quad, the torch log likelihood
against the independent reference (tests/aftershock_reference.py), the Omori limit,
options, forecasts, and recovery of K, c, p, K_s, alpha from a branching simulation."""

from __future__ import annotations

import math
import warnings

import aftershock_reference as ref
import numpy as np
import pytest
import torch

import pystats
from pystats.aftershock import AftershockDetection, simulate_detected_etas
from pystats.aftershock.likelihood import log_time_quadrature, panel_count
from pystats.aftershock.rate import NEAR_PANELS, secondary_geometry
from pystats.errors import OptionError

M0 = 6.0
TRUTH = {"K": 0.08, "c": 0.02, "p": 1.1, "beta": 2.2, "sigma": 0.3, "K_s": 0.004,
         "alpha": 2.0}
RECOVERY = {**TRUTH, "K": 0.1, "K_s": 0.006}
"""Truth of the recovery test: ~600 detected events in [0.01, 0.5] d, ~25 % of them
offspring of detected aftershocks."""
WINDOW = (0.01, 1.0)


def t64(x):
    return torch.as_tensor(x, dtype=torch.float64)


def mu_decaying(t):
    return 2.0 + 2.0 * np.exp(-np.asarray(t) / 0.08)


def _latent_params(data, rng):
    """A μ(t) with a decaying mean and a bump, in the reference's parameterisation."""
    gp = int(data["prior"]) == 1
    n_z = int(data["n_latent"]) - (0 if gp else 2)
    idx = np.arange(n_z)
    params = {"mu_0": 2.2, "mu_slope": -0.5,
              "z": 0.3 * np.sin(idx) + 2.5 * np.exp(-0.5 * ((idx - n_z / 2) / 1.5) ** 2)}
    if gp:
        params.update(gp_amplitude=0.4, gp_lengthscale=0.6)
    else:
        params["rw_scale"] = 0.05
    return params


# ---------------------------------------------------------------- quadrature
def _quadrature_error(prior, kernel, cps):
    t_start, t_end = WINDOW
    data = ref.stan_data(np.geomspace(0.02, 0.9, 12), np.full(12, 3.0), M0, t_start, t_end,
                         prior=prior, kernel=kernel, n_inducing=24, n_nodes=40,
                         n_panels=panel_count(64, 24 if prior == "gp" else 40))
    n_panels = data["Q"] // 8
    edges = np.exp(np.linspace(math.log(t_start), math.log(t_end), n_panels + 1))
    # history, just before the window, at its start, inside, 1e-9 d below a panel edge
    # (and so below a latent input), on an edge, near the end
    tp = np.array([0.003, 0.0099999, t_start, 0.0537, edges[23] - 1e-9, edges[40], 0.5,
                   t_end - 1e-4])
    geo = secondary_geometry(tp, np.full(tp.size, 3.0), 2, t_start, t_end, data["s_q"],
                             n_panels)
    params = {"beta": 2.2, "sigma": 0.3, **_latent_params(data, None)}
    beta, sigma = params["beta"], params["sigma"]

    def e_of(t):
        mu = ref.mu_of_s(np.log(t), params, data)
        return np.exp(-beta * (mu - M0) + 0.5 * (beta * sigma) ** 2)

    e_near, e_q = e_of(geo["near_t"]), e_of(np.exp(data["s_q"]))
    worst = 0.0
    for c, p in cps:
            for j, tj in enumerate(tp):
                sel, far = geo["near_j"] == j, geo["gq_j"] == j
                q = geo["gq_q"][far]
                ours = (np.sum(geo["near_w"][sel] * (geo["near_x"][sel] + c) ** (-p)
                               * e_near[sel])
                        + np.sum(data["w_q"][q] * (geo["gq_x"][far] + c) ** (-p) * e_q[q]))
                exact = ref._secondary_integral(tj, max(tj, t_start), t_end, c, p, params, data)
                worst = max(worst, abs(ours - exact) / exact)
    return worst


@pytest.mark.parametrize(("prior", "kernel"), [("gp", "matern32"), ("rw2", "matern52")])
def test_secondary_quadrature_matches_scipy_quad(prior, kernel):
    """Near (log-distance Gauss–Legendre) + far (global nodes) parts of every parent's
    ``∫ (t − t_j + c)^{−p} E(t) dt`` against quad split at t_j + c 10^k and the latent
    inputs (c = 1e-5 d with p = 0.8, c = 0.05 d with p = 1.6): relative error < 1e-9."""
    assert _quadrature_error(prior, kernel, [(1e-5, 0.8), (0.05, 1.6)]) < 1e-9


@pytest.mark.slow
@pytest.mark.parametrize(("prior", "kernel"), [("gp", "matern52"), ("gp", "matern32"),
                                               ("gp", "rbf"), ("rw2", "matern52")])
def test_secondary_quadrature_matches_scipy_quad_everywhere(prior, kernel):
    """As above for c in {1e-5, 1e-3, 0.05} d x p in {0.8, 1.1, 1.6}, each latent type."""
    cps = [(c, p) for c in (1e-5, 1e-3, 0.05) for p in (0.8, 1.1, 1.6)]
    assert _quadrature_error(prior, kernel, cps) < 1e-9


def test_geometry_splits_each_parent_into_near_and_far_panels():
    t_start, t_end = WINDOW
    s_q, _ = log_time_quadrature(t_start, t_end, 69)
    tp = np.array([0.005, 0.02, 0.3])
    geo = secondary_geometry(tp, np.array([3.0, 4.0, 2.5]), 1, t_start, t_end, s_q, 69)
    edges = np.exp(np.linspace(math.log(t_start), math.log(t_end), 70))
    edges[0], edges[-1] = t_start, t_end
    for j, tj in enumerate(tp):
        a = max(tj, t_start)
        k = np.searchsorted(edges, a, side="right") - 1
        near = geo["near_t"][geo["near_j"] == j]
        far = np.exp(s_q[geo["gq_q"][geo["gq_j"] == j]])
        assert near.min() > a and near.max() < edges[k + NEAR_PANELS]
        assert far.min() > edges[k + NEAR_PANELS] and far.size == (69 - k - NEAR_PANELS) * 8
    # every ordered pair of data events, once
    np.testing.assert_array_equal(geo["ev_i"], [0, 1, 1])  # events 0.02 and 0.3
    np.testing.assert_allclose(geo["ev_x"], [0.02 - 0.005, 0.3 - 0.005, 0.3 - 0.02])


# ---------------------------------------------------------------- log density
@pytest.fixture(scope="module")
def small_sequence():
    cat = simulate_detected_etas(**{k: v for k, v in TRUTH.items()}, mu_fn=mu_decaying, M0=M0,
                                 t_start=0.003, t_end=0.3, seed=8)
    return cat


@pytest.mark.parametrize("prior", ["gp", "rw2"])
def test_torch_log_likelihood_equals_reference(small_sequence, prior):
    """Torch engine (near/far rule, pair sums) vs the reference (direct double loop, quad
    per parent), history parents before t_start included: relative 1e-9."""
    cat = small_sequence
    t_start, t_end = 0.01, 0.3
    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", mu_prior=prior,
                                n_inducing=10, n_nodes=12, n_panels=20)
    data = model.prepare(cat, t_start=t_start, t_end=t_end)
    assert data.values["n_hist"] > 0 and data.values["N"] > 40
    d = ref.stan_data(cat["time"], cat["magnitude"], M0, t_start, t_end, prior=prior,
                      n_inducing=10, n_nodes=12, n_panels=int(data.values["n_panels"]))
    np.testing.assert_allclose(d["s_q"], data.values["s_q"], rtol=1e-14)
    rng = np.random.default_rng(3 if prior == "gp" else 4)
    for _ in range(1):
        params = {"K": 0.05 * math.exp(rng.normal(0, 0.3)), "c": 10 ** rng.uniform(-4, -1.5),
                  "p": rng.uniform(0.9, 1.3), "beta": rng.uniform(1.8, 2.6),
                  "sigma": rng.uniform(0.2, 0.4), "K_s": 0.004 * math.exp(rng.normal(0, 0.3)),
                  "alpha": rng.uniform(1.2, 2.4), **_latent_params(d, rng)}
        params["mu_0"] = 2.5 + rng.normal(0, 0.2)
        par = data.values
        expected = ref.log_likelihood_etas(params, d, par["tp"], par["mp"])
        tensors = {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else v)
                   for k, v in par.items()}
        tp = {k: torch.as_tensor(np.asarray(v, dtype=float)) for k, v in params.items()}
        for name in ("gp_amplitude", "gp_lengthscale", "rw_scale", "K_s", "alpha"):
            tp[name] = tp[name].reshape(1) if name in tp else torch.zeros(0)
        got = float(model.log_likelihood_torch(tp, tensors))
        assert got == pytest.approx(expected, rel=1e-9)


def test_vanishing_secondary_productivity_is_the_omori_model(small_sequence):
    cat = small_sequence
    kw = {"mainshock_magnitude": M0, "n_inducing": 10, "n_panels": 20}
    om, et = AftershockDetection(**kw), AftershockDetection(rate="etas", **kw)
    d_om = om.prepare(cat, t_start=0.01, t_end=0.3)
    d_et = et.prepare(cat, t_start=0.01, t_end=0.3)
    rng = np.random.default_rng(0)
    start = om.initial_values(d_om, rng)
    tens = lambda d: {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else v)  # noqa: E731
                      for k, v in d.values.items()}
    th = {k: torch.as_tensor(np.asarray(v, dtype=float)) for k, v in start.items()}
    lo = float(om.log_likelihood_torch(th, tens(d_om)))
    th_e = {**th, "K_s": t64([1e-300]), "alpha": t64([1.0])}
    assert float(et.log_likelihood_torch(th_e, tens(d_et))) == pytest.approx(lo, rel=1e-13)
    th_e["K_s"] = t64([0.01])
    assert float(et.log_likelihood_torch(th_e, tens(d_et))) != pytest.approx(lo, rel=1e-6)


def test_batched_etas_log_likelihood_equals_row_by_row(small_sequence):
    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", n_inducing=10,
                                n_panels=20)
    data = model.prepare(small_sequence, t_start=0.01, t_end=0.3)
    params = model.parameters(data)
    tensors = {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else v)
               for k, v in data.values.items()}
    rng = np.random.default_rng(1)
    u = torch.as_tensor(np.stack([params.unconstrain(model.initial_values(data, rng))
                                  for _ in range(3)]))
    batch = model.log_likelihood_torch(params.constrain(u), tensors)
    rows = [float(model.log_likelihood_torch(params.constrain(u[i]), tensors)) for i in range(3)]
    np.testing.assert_allclose(batch.numpy(), rows, rtol=1e-12)


# ---------------------------------------------------------------- options and API
def test_rate_option_is_validated_and_adds_the_etas_parameters(small_sequence):
    with pytest.raises(OptionError, match="rate='hawkes'"):
        AftershockDetection(mainshock_magnitude=M0, rate="hawkes")
    with pytest.raises(OptionError, match="alpha"):  # not a parameter of the Omori rate
        AftershockDetection(mainshock_magnitude=M0, fixed={"alpha": 1.5})
    with pytest.raises(OptionError, match="K_s"):
        AftershockDetection(mainshock_magnitude=M0, priors={"K_s": (-2.0, 1.0)})
    with pytest.raises(OptionError, match="fixed\\['alpha'\\]"):
        AftershockDetection(mainshock_magnitude=M0, rate="etas", fixed={"alpha": -1.0})
    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", fixed={"alpha": 1.5},
                                priors={"K_s": (-2.0, 0.5)})
    data = model.prepare(small_sequence, t_start=0.01, t_end=0.3)
    names = model.parameters(data).names
    assert names[-1] == "K_s" and "alpha" not in names
    assert model.parameters(data)["K_s"].shape == (1,)
    assert data.values["K_s_prior_loc"] == -2.0 and data.values["K_s_prior_scale"] == 0.5
    om = AftershockDetection(mainshock_magnitude=M0, rate="omori")
    assert om.parameters(om.prepare(small_sequence, t_start=0.01, t_end=0.3)).names == [
        "log_rate", "c", "p", "beta", "sigma", "mu_bar", "mu_slope_bar", "gp_amplitude",
        "gp_lengthscale", "rw_scale", "z", "K_s", "alpha"]
    assert om.parameters(om.prepare(small_sequence, t_start=0.01, t_end=0.3))["K_s"].shape \
        == (0,)
    sd = AftershockDetection(mainshock_magnitude=M0, rate="etas").stan_data(data)
    assert sd["rate"] == 2 and sd["n_pairs"] == len(sd["ev_x"]) > 0
    assert min(sd["ev_j"]) == 1 and max(sd["near_j"]) == sd["n_parents"]


def test_etas_prior_is_the_documented_one(small_sequence):
    from scipy import stats

    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", n_inducing=10)
    data = model.prepare(small_sequence, t_start=0.01, t_end=0.3)
    tensors = {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else v)
               for k, v in data.values.items()}
    start = {k: torch.as_tensor(np.asarray(v, dtype=float))
             for k, v in model.initial_values(data, np.random.default_rng(0)).items()}
    base = float(model.log_prior_torch(start, tensors))
    moved = {**start, "K_s": t64([0.03]), "alpha": t64([2.5])}
    diff = float(model.log_prior_torch(moved, tensors)) - base
    lp = lambda ks, a: (stats.norm.logpdf(math.log10(ks), -1.67, 1.0)  # noqa: E731
                        - math.log(ks * math.log(10))
                        + stats.lognorm.logpdf(a, s=0.75, scale=1.5))
    expected = lp(0.03, 2.5) - lp(float(start["K_s"][0]), float(start["alpha"][0]))
    assert diff == pytest.approx(expected, rel=1e-10)


# ---------------------------------------------------------------- simulation and recovery
def mu_sloping(t):
    return 2.4 - 0.2 * np.log(np.asarray(t))


@pytest.fixture(scope="module")
def etas_fit():
    cat = simulate_detected_etas(**RECOVERY, mu_fn=mu_sloping, M0=M0, t_start=0.01,
                                 t_end=0.5, seed=31)
    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", n_inducing=12,
                                n_panels=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.ConvergenceWarning)  # Pareto-k (see the card)
        fit = model.fit(cat, method="laplace", t_start=0.01, t_end=0.5, seed=31,
                        chains=1, draws=400, n_starts=2)
    return cat, model, fit


@pytest.fixture(scope="module")
def etas_map(small_sequence):
    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", n_inducing=10,
                                n_panels=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.DataWarning)
        fit = model.fit(small_sequence, method="map", t_start=0.01, t_end=0.3, seed=2,
                        n_starts=1)
    return small_sequence, model, fit


def test_simulation_has_secondary_generations():
    cat = simulate_detected_etas(**RECOVERY, mu_fn=mu_sloping, M0=M0, t_start=0.01,
                                 t_end=0.5, seed=31, complete=True)
    det = cat[cat["detected"]]
    share = float((det["generation"] > 0).mean())
    assert 0.1 < share < 0.5 and cat["time"].is_monotonic_increasing
    # offspring start after their parents: no generation-g event precedes the first
    # detected event of generation g - 1
    for g in range(1, int(cat["generation"].max()) + 1):
        first_parent = det.loc[det["generation"] == g - 1, "time"].min()
        assert cat.loc[cat["generation"] == g, "time"].min() > first_parent
    with pytest.raises(OptionError, match="supercritical"):
        simulate_detected_etas(**{**RECOVERY, "K_s": 0.2}, mu_fn=mu_sloping, M0=M0,
                               t_start=0.01, t_end=0.5, seed=1, max_events=20_000)


@pytest.mark.slow
def test_laplace_recovers_the_etas_parameters_within_uncertainty(etas_fit):
    """Seed 31 (637 events): z = 0.38, 0.30, -0.25, 0.48, -0.01, 0.24, 0.57 for K, c, p,
    beta, sigma, K_s, alpha (K_s, alpha are weakly determined: sd 0.031 and 1.35)."""
    _, _, fit = etas_fit
    z = {}
    for name, truth in RECOVERY.items():
        draws = np.asarray(fit.variable(name), dtype=float)
        z[name] = (float(np.mean(draws)) - truth) / float(np.std(draws))
    assert all(abs(v) < 3 for v in z.values()), z


def test_etas_forecast_is_the_first_generation_closed_form(etas_map):
    from scipy import integrate

    _, model, fit = etas_map
    fc = fit.predict(t1=1.0, t2=2.0, magnitudes=[3.0], n_sims=50, seed=1)
    v = fit.data.values
    lam = fc.attrs["expected"][:, 0]
    assert np.all(lam > 0) and fc.loc[0, "mean"] > 0
    # one draw by quadrature of lambda(t) e^{-beta (3 - M0)}
    draws = model._draw_values(fit)
    n = draws["K"].shape[0]
    rng = np.random.default_rng(1)
    idx = rng.choice(n, size=50, replace=50 > n)
    i = int(idx[0])
    k, c, p, b = (float(draws[x][i]) for x in ("K", "c", "p", "beta"))
    ks, a = float(draws["K_s"][i, 0]), float(draws["alpha"][i, 0])
    tp, mp = np.asarray(v["tp"]), np.asarray(v["mp"])

    def lam_t(t):
        return k * (t + c) ** (-p) + np.sum(ks * np.exp(a * (mp - M0)) * (t - tp + c) ** (-p))

    quad = integrate.quad(lam_t, 1.0, 2.0, epsrel=1e-12)[0] * math.exp(-b * (3.0 - M0))
    assert lam[0] == pytest.approx(quad, rel=1e-8)


def test_cli_passes_the_rate_option(capsys):
    from pystats.cli import _model_options, build_parser

    args = build_parser().parse_args(["fit", "cat.csv", "--model", "aftershock",
                                      "--mainshock-magnitude", "6", "--rate", "etas"])
    opts, _ = _model_options(args)
    assert opts["rate"] == "etas"
    assert AftershockDetection(**opts).options["rate"] == "etas"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "cat.csv", "--model", "aftershock", "--rate", "x"])
    assert "invalid choice: 'x'" in capsys.readouterr().err


@pytest.mark.gpu
def test_cuda_etas_log_density_matches_cpu(small_sequence):
    from pystats.backends.torch import TorchBackend

    model = AftershockDetection(mainshock_magnitude=M0, rate="etas", n_inducing=10,
                                n_panels=20)
    data = model.prepare(small_sequence, t_start=0.01, t_end=0.3)
    u = model.parameters(data).unconstrain(model.initial_values(data,
                                                                np.random.default_rng(0)))
    cpu = TorchBackend().log_density(model, data, include_prior=True, device="cpu")
    gpu = TorchBackend().log_density(model, data, include_prior=True, device="cuda")
    v_cpu, g_cpu = cpu.value_and_grad(u, True)
    v_gpu, g_gpu = gpu.value_and_grad(u, True)
    assert v_gpu == pytest.approx(v_cpu, rel=1e-10)
    np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-7, atol=1e-8)


def test_etas_fit_summary_report_and_round_trip(etas_map, tmp_path):
    _, _, fit = etas_map
    table = fit.summary()
    assert {"K_s", "alpha"} <= set(table.index)  # scalar rows (index_labels)
    assert np.isfinite(table.loc["alpha"].iloc[0]) and table.loc["K_s"].iloc[0] > 0
    path = tmp_path / "etas_fit.nc"
    fit.save(path)
    again = pystats.load(path)
    assert again.model.options["rate"] == "etas"
    np.testing.assert_allclose(np.asarray(again.estimate("K_s")),
                               np.asarray(fit.estimate("K_s")), rtol=1e-12)
    fit.report(tmp_path / "report.html")
    assert "K_s" in (tmp_path / "report.html").read_text(encoding="utf-8")
