"""AftershockDetection: recovery of known truth on simulated sequences, the API, options,
the Stan data contract and devices."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.aftershock import AftershockDetection, simulate_detected
from pystats.errors import DataError, DataWarning, OptionError

M0 = 6.0
TRUTH = {"K": 0.08, "c": 0.02, "p": 1.1, "beta": 2.2, "sigma": 0.3}
WINDOW = (0.01, 2.0)


def mu_decaying(t):
    """50 %-detection magnitude decaying from ~4 to ~2 (not of the model's mean form)."""
    return 2.0 + 2.0 * np.exp(-np.asarray(t) / 0.08)


def mu_bump(t):
    """Linear in log time with a bump of 0.8 around t = 0.15 d (a second large event)."""
    s = np.log(np.asarray(t))
    return 2.2 - 0.3 * s + 0.8 * np.exp(-0.5 * ((s - math.log(0.15)) / 0.35) ** 2)


def _fit(mu_fn, seed, **kw):
    cat = simulate_detected(**TRUTH, mu_fn=mu_fn, M0=M0, t_start=WINDOW[0], t_end=WINDOW[1],
                            seed=seed)
    model = AftershockDetection(mainshock_magnitude=M0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.ConvergenceWarning)  # Pareto-k (see the card)
        fit = model.fit(cat, method="laplace", t_start=WINDOW[0], t_end=WINDOW[1], seed=seed,
                        chains=1, draws=400, n_starts=2)
    return cat, model, fit


@pytest.fixture(scope="module")
def decaying():
    return _fit(mu_decaying, 21)


@pytest.fixture(scope="module")
def bump():
    return _fit(mu_bump, 22)


def _z_scores(fit):
    out = {}
    for name, truth in TRUTH.items():
        draws = np.asarray(fit.variable(name), dtype=float)
        out[name] = (float(np.mean(draws)) - truth) / float(np.std(draws))
    return out


@pytest.mark.parametrize("case", ["decaying", "bump"])
def test_laplace_recovers_each_scalar_within_its_uncertainty(case, request):
    cat, _, fit = request.getfixturevalue(case)
    assert len(cat) > 800
    z = _z_scores(fit)
    assert all(abs(v) < 3.0 for v in z.values()), z
    b = fit.variable("b")
    assert abs(b.mean() - TRUTH["beta"] / math.log(10)) < 3 * b.std()


@pytest.mark.parametrize("case", ["decaying", "bump"])
def test_detection_band_covers_the_true_curve(case, request):
    _, model, fit = request.getfixturevalue(case)
    mu_fn = mu_decaying if case == "decaying" else mu_bump
    times = np.geomspace(WINDOW[0], WINDOW[1], 60)
    curve = model.detection_curve(fit, times=times, prob=0.95)
    assert curve.index.name == "time" and curve.attrs["prob"] == 0.95
    assert np.all(curve.lower < curve.mu) and np.all(curve.mu < curve.upper)
    inside = (curve.lower.to_numpy() <= mu_fn(times)) & (mu_fn(times) <= curve.upper.to_numpy())
    assert inside.mean() >= 0.8
    # and informative: the 95 % band is narrower than 1.2 magnitude units at most times
    # (its width is mostly the K–μ trade-off, see the model card)
    assert np.median(curve.upper - curve.lower) < 1.2


def test_detection_probability_is_phi_of_the_curve(decaying):
    _, model, fit = decaying
    q = model.detection_probability(fit, times=[0.02, 1.0], magnitudes=[1.0, 3.0, 6.0])
    assert q.index.name == "time" and q.columns.name == "magnitude"
    assert np.all((q.to_numpy() > 0) & (q.to_numpy() <= 1))
    assert np.all(np.diff(q.to_numpy(), axis=1) > 0)  # larger events detected more often
    assert q.loc[1.0, 3.0] > q.loc[0.02, 3.0]  # detection improves with time
    assert q.loc[1.0, 6.0] > 0.999


def test_predict_is_the_closed_form_poisson_mixture(decaying):
    _, _, fit = decaying
    pred = fit.predict(t1=2.0, t2=3.0, magnitudes=[3.0, 4.0], n_sims=20000, seed=5)
    assert list(pred.columns) == ["magnitude", "mean", "sd", "median", "lower", "upper",
                                  "p_at_least_one"]
    lam = pred.attrs["expected"]
    K, c, p, beta = (fit.variable(n) for n in ("K", "c", "p", "beta"))
    integral = ((2.0 + c) ** (1 - p) - (3.0 + c) ** (1 - p)) / (p - 1)
    mean3 = np.mean(K * integral * np.exp(-beta * (3.0 - M0)))
    assert lam[:, 0].mean() == pytest.approx(mean3, rel=0.03)
    assert pred["mean"].iloc[0] == pytest.approx(lam[:, 0].mean(), rel=0.03)
    # Poisson mixture: variance = E[Λ] + Var[Λ]
    var = lam[:, 0].mean() + lam[:, 0].var()
    assert pred["sd"].iloc[0] ** 2 == pytest.approx(var, rel=0.1)
    # truth: the complete catalogue's count of M >= 3 in [2, 3] d
    true = TRUTH["K"] * ((2.02) ** -0.1 - (3.02) ** -0.1) / 0.1 * math.exp(-2.2 * (3 - M0))
    assert pred["lower"].iloc[0] <= true <= pred["upper"].iloc[0]


def test_map_fit_has_no_band(decaying):
    cat, model, _ = decaying
    fit = model.fit(cat, method="map", t_start=WINDOW[0], t_end=WINDOW[1], seed=3, chains=1,
                    draws=10)
    with pytest.raises(OptionError, match="method='laplace'"):
        model.detection_curve(fit)
    # MAP and the Laplace mode agree on the well-identified scalars
    assert float(fit.estimate("sigma")) == pytest.approx(0.3, abs=0.05)


def test_parameters_follow_the_stan_contract(decaying):
    _, _, fit = decaying
    names = fit.parameters.names
    assert names == ["log_rate", "c", "p", "beta", "sigma", "mu_bar", "mu_slope_bar",
                     "gp_amplitude", "gp_lengthscale", "rw_scale", "z", "K_s", "alpha"]
    shapes = {p.name: p.shape for p in fit.parameters}
    assert shapes["gp_amplitude"] == (1,) and shapes["rw_scale"] == (0,)
    assert shapes["z"] == (24,) and shapes["K_s"] == shapes["alpha"] == (0,)
    rw = AftershockDetection(mainshock_magnitude=M0, mu_prior="rw2", n_nodes=12)
    params = rw.parameters(rw.prepare(pd.DataFrame({"time": np.linspace(0.02, 1, 50),
                                                    "magnitude": 2.5}), t_end=1.0))
    assert {p.name: p.shape for p in params}["z"] == (10,)
    assert {p.name: p.shape for p in params}["gp_lengthscale"] == (0,)


def test_stan_data_is_exactly_the_contract(decaying):
    _, model, fit = decaying
    d = model.stan_data(fit.data)
    assert set(d) == {"N", "t", "s", "m", "M0", "Q", "s_q", "w_q", "s1", "prior", "kernel",
                      "n_latent", "latent_x", "jitter", "mu_0_loc", "ls_alpha", "ls_beta",
                      "rate", "n_parents", "mp", "n_pairs", "ev_i", "ev_j", "ev_x", "n_far",
                      "gq_q", "gq_j", "gq_x", "n_near", "near_j", "near_s", "near_x", "near_w"}
    assert d["rate"] == 1 and d["n_pairs"] == d["n_near"] == 0
    assert d["N"] == len(d["t"]) == len(d["m"]) and d["Q"] == len(d["s_q"]) == 69 * 8
    assert d["prior"] == 1 and d["kernel"] == 1 and d["n_latent"] == 24
    np.testing.assert_allclose(d["s"], np.log(d["t"]))
    assert d["mu_0_loc"] == pytest.approx(float(np.median(d["m"])))
    assert model.stan_program() == "aftershock_detection.stan"
    with pytest.raises(OptionError, match="backend='torch'"):
        AftershockDetection(mainshock_magnitude=M0, fixed={"c": 0.02}).stan_data(fit.data)


def test_lengthscale_prior_tails():
    from scipy.stats import invgamma

    from pystats.aftershock.model import lengthscale_prior

    s0, s1 = math.log(0.01), math.log(2.0)
    a, b = lengthscale_prior(s0, s1, 24)
    assert invgamma.cdf(2 * (s1 - s0) / 24, a, scale=b) == pytest.approx(0.01, rel=1e-6)
    assert invgamma.sf(2 * (s1 - s0), a, scale=b) == pytest.approx(0.01, rel=1e-6)


def test_rw2_prior_fits_and_recovers(decaying):
    cat, _, _ = decaying
    model = AftershockDetection(mainshock_magnitude=M0, mu_prior="rw2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.ConvergenceWarning)
        fit = model.fit(cat, method="laplace", t_start=WINDOW[0], t_end=WINDOW[1], seed=4,
                        chains=1, draws=300, n_starts=2)
    z = _z_scores(fit)
    assert all(abs(v) < 3.0 for v in z.values()), z
    curve = model.detection_curve(fit, times=np.geomspace(0.01, 2.0, 40), prob=0.95)
    inside = (curve.lower <= mu_decaying(curve.index)) & (mu_decaying(curve.index) <= curve.upper)
    assert inside.mean() >= 0.8


# ---------------------------------------------------------------- data and options
def test_missing_magnitudes_are_dropped_with_a_warning():
    df = pd.DataFrame({"time": np.linspace(0.0, 1.0, 60), "magnitude": 2.5})
    df.loc[[5, 7], "magnitude"] = 0.0
    df.loc[9, "magnitude"] = np.nan
    before = df.copy()
    model = AftershockDetection(mainshock_magnitude=6.0)
    with pytest.warns(DataWarning, match="3 event"):
        data = model.prepare(df, t_end=1.0, missing_magnitude=0.0)
    pd.testing.assert_frame_equal(df, before)  # not modified
    assert data.summary["n_missing_magnitude"] == 3
    assert data.summary["t_start"] == pytest.approx(0.01)  # default t_start, stated
    assert data.values["N"] == int(np.sum(np.delete(df.time.to_numpy(), [5, 7, 9]) >= 0.01))
    with pytest.raises(DataError, match="magnitude"):  # NaN without missing_magnitude
        model.prepare(df, t_end=1.0)


def test_events_at_the_same_time_are_kept_with_a_note():
    # an inhomogeneous Poisson process (not self-exciting): ties are data, as in ComCat's
    # Ridgecrest 2019 file; they used to raise "must be strictly increasing"
    t = np.linspace(0.02, 1.0, 40)
    t = np.sort(np.concatenate([t, t[[5, 30]]]))
    df = pd.DataFrame({"time": t, "magnitude": 2.5})
    data = AftershockDetection(mainshock_magnitude=6.0).prepare(df, t_end=1.0)
    assert data.values["N"] == 42
    assert any("2 event(s) in the window share their time" in n for n in data.summary["notes"])
    assert np.all(np.isfinite(data.values["s"]))


@pytest.mark.parametrize(("kw", "match"), [
    ({"mu_prior": "spline"}, "mu_prior='spline'"),
    ({"kernel": "matern12"}, "kernel='matern12'"),
    ({"n_inducing": 2}, "n_inducing=2"),
    ({"n_panels": 0}, "n_panels=0"),
    ({"fixed": {"alpha": 1.0}}, "alpha"),
    ({"fixed": {"p": 5.0}}, "fixed\\['p'\\]"),
    ({"priors": {"gp_amplitude": (1.0, 0.5)}}, "loc 0"),
    ({"priors": {"rw_scale": (0.0, 0.1)}}, "rw_scale"),
    ({"color": "red"}, "unknown option"),
])
def test_bad_options_name_the_field(kw, match):
    with pytest.raises(OptionError, match=match):
        AftershockDetection(mainshock_magnitude=6.0, **kw)


def test_mainshock_magnitude_is_required_and_window_checked():
    with pytest.raises(OptionError, match="mainshock_magnitude"):
        AftershockDetection()
    model = AftershockDetection(mainshock_magnitude=6.0)
    df = pd.DataFrame({"time": np.linspace(0.02, 1.0, 40), "magnitude": 2.5})
    with pytest.raises(OptionError, match="t_start"):
        model.prepare(df, t_start=0.0)
    with pytest.raises(DataError, match="at least 10"):
        model.prepare(df.iloc[:5], t_end=1.0)


def test_family_is_registered_and_exported():
    from pystats.model import family_class

    assert pystats.AftershockDetection is AftershockDetection
    assert family_class("aftershock") is AftershockDetection
    assert AftershockDetection.methods == ("map", "laplace", "nuts")


def test_k_mu_0_mu_slope_are_reported_from_the_sampled_coordinates(decaying):
    """K = exp(log_rate − β (M0 − m_ref)) per draw and at the mode; μ(t) built from the
    reported mu_0, mu_slope has mean mu_bar and least-squares slope mu_slope_bar over the
    events; K, mu_0, mu_slope are in the summary by name."""
    _, model, fit = decaying
    v = fit.data.values
    shift = M0 - v["mu_0_prior_loc"]
    np.testing.assert_allclose(fit.variable("K"),
                               np.exp(fit.variable("log_rate") - fit.variable("beta") * shift),
                               rtol=1e-12)
    assert float(fit.point["K"]) == pytest.approx(
        math.exp(float(fit.point["log_rate"]) - float(fit.point["beta"]) * shift), rel=1e-12)
    vals = model._draw_values(fit)
    mu = model._mu_draws(fit, np.asarray(v["t"]), {k: a[:50] for k, a in vals.items()})
    np.testing.assert_allclose(mu.mean(axis=1), fit.variable("mu_bar")[:50], atol=1e-10)
    d = np.log(v["t"]) - np.mean(np.log(v["t"]))
    np.testing.assert_allclose(mu @ d / (d @ d), fit.variable("mu_slope_bar")[:50], atol=1e-10)
    rows = fit.summary().index
    assert {"K", "mu_0", "mu_slope", "b"} <= set(rows)


def test_nuts_uses_the_family_default_adapt_delta_unless_given(decaying, monkeypatch):
    """AftershockDetection.nuts_defaults (adapt_delta 0.95) reaches the sampler through
    Model.fit; an explicit adapt_delta wins; max_tree_depth keeps the global default."""
    import pystats.inference

    cat, model, _ = decaying
    seen = []
    monkeypatch.setattr(pystats.inference, "run", lambda model, data, **kw: seen.append(kw))
    model.fit(cat, method="nuts", t_start=WINDOW[0], t_end=WINDOW[1], seed=1)
    model.fit(cat, method="nuts", t_start=WINDOW[0], t_end=WINDOW[1], seed=1, adapt_delta=0.9)
    assert [(k["adapt_delta"], k["max_tree_depth"]) for k in seen] == [(0.95, 10), (0.9, 10)]


# ---------------------------------------------------------------- devices
def test_device_cpu_is_honoured(decaying):
    _, _, fit = decaying
    assert fit.metadata["device"] == "cpu" and fit.backend == "torch"


@pytest.mark.gpu
def test_cuda_log_density_matches_cpu(decaying):
    from pystats.backends.torch import TorchBackend

    _, model, fit = decaying
    u = fit.parameters.unconstrain({k: fit.point[k] for k in fit.parameters.names})
    cpu = TorchBackend().log_density(model, fit.data, include_prior=True, device="cpu")
    gpu = TorchBackend().log_density(model, fit.data, include_prior=True, device="cuda")
    v_cpu, g_cpu = cpu.value_and_grad(u, True)
    v_gpu, g_gpu = gpu.value_and_grad(u, True)
    assert v_gpu == pytest.approx(v_cpu, rel=1e-10)
    np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-7, atol=1e-8)
    assert gpu.tensors["t"].device.type == "cuda"


def test_batched_values_equal_row_by_row(decaying):
    from pystats.backends.base import LogDensity
    from pystats.backends.torch import TorchBackend

    _, model, fit = decaying
    density = TorchBackend().log_density(model, fit.data, include_prior=True)
    rng = np.random.default_rng(0)
    us = np.stack([fit.parameters.unconstrain(model.initial_values(fit.data, rng))
                   for _ in range(5)])
    np.testing.assert_allclose(density.values(us, True), LogDensity.values(density, us, True),
                               rtol=1e-12)



@pytest.mark.parametrize("vmapped", [True, False])
def test_hessian_equals_the_per_row_autograd_hessian(decaying, vmapped, monkeypatch):
    # TorchLogDensity.hessian (one gradient graph; all rows in one vmapped backward pass,
    # or row by row above VMAP_HESSIAN_MAX) against torch.autograd.functional.hessian
    # without vectorisation (one backward pass per row from scratch), at a point off the mode
    import torch

    import pystats.backends.torch as tb

    _, model, fit = decaying
    if not vmapped:
        monkeypatch.setattr(tb, "VMAP_HESSIAN_MAX", 0)
    density = tb.TorchBackend().log_density(model, fit.data, include_prior=True)
    u = fit.parameters.unconstrain(model.initial_values(fit.data, np.random.default_rng(3)))
    got = density.hessian(u, True)
    ref = torch.autograd.functional.hessian(
        lambda x: density._log_density(x, True), torch.as_tensor(u)).numpy()
    assert got.shape == (fit.parameters.dim, fit.parameters.dim)
    np.testing.assert_allclose(got, 0.5 * (ref + ref.T), rtol=1e-9,
                               atol=1e-10 * np.abs(ref).max())
    assert np.abs(ref).max() > 1.0  # a real curvature, not zeros



@pytest.mark.parametrize("budget", [10, 3_000_000])
def test_batched_values_with_rows_larger_than_the_memory_budget(decaying, budget, monkeypatch):
    # one parameter row above BATCH_ENTRIES (a 1e5-event Laplace fit's Pareto-k draws) used
    # to recurse without end; every budget gives the row-by-row values
    import pystats.aftershock.model as am
    from pystats.backends.base import LogDensity
    from pystats.backends.torch import TorchBackend

    _, model, fit = decaying
    monkeypatch.setattr(am, "BATCH_ENTRIES", budget)
    density = TorchBackend().log_density(model, fit.data, include_prior=True)
    rng = np.random.default_rng(7)
    us = np.stack([fit.parameters.unconstrain(model.initial_values(fit.data, rng))
                   for _ in range(4)])
    np.testing.assert_allclose(density.values(us, True), LogDensity.values(density, us, True),
                               rtol=1e-12)


# ---------------------------------------------------------------- coverage (slow)
@pytest.mark.slow
def test_detection_band_coverage_over_repeated_simulations():
    """Achieved coverage of the 90 % μ(t) band over 12 simulated sequences (bump case),
    at 30 times each; figures in models/aftershock_detection.md."""
    times = np.geomspace(WINDOW[0], WINDOW[1], 30)
    covered, z = [], []
    for seed in range(100, 112):
        _, model, fit = _fit(mu_bump, seed)
        curve = model.detection_curve(fit, times=times, prob=0.9)
        truth = mu_bump(times)
        covered.append(np.mean((curve.lower <= truth) & (truth <= curve.upper)))
        z.append(list(_z_scores(fit).values()))
    achieved = float(np.mean(covered))
    print(f"\nnominal 0.90, achieved {achieved:.3f} (per sequence {np.round(covered, 2)}); "
          f"scalar z-scores mean {np.mean(z, axis=0).round(2)}, sd {np.std(z, axis=0).round(2)}")
    assert 0.8 <= achieved <= 0.97


def test_preconditioned_lbfgs_solves_an_ill_conditioned_problem_in_fewer_evaluations():
    """The opt-in Hessian whitening of pystats.inference.maximize (used by this family)."""
    from pystats.backends.base import LogDensity
    from pystats.inference import maximize

    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    prec = q @ np.diag(np.geomspace(1.0, 1e6, 30)) @ q.T
    centre = rng.standard_normal(30)

    class Quadratic(LogDensity):
        dim = 30

        def value_and_grad(self, u, jacobian):
            d = u - centre
            return -0.5 * float(d @ prec @ d), -(prec @ d)

        def hessian(self, u, jacobian):
            return -prec

    start = [np.zeros(30)]
    plain = maximize(Quadratic(), start, jacobian=False)
    whitened = maximize(Quadratic(), start, jacobian=False, precondition=True)
    np.testing.assert_allclose(whitened.u, centre, atol=1e-6)
    assert whitened.converged and whitened.n_evaluations < plain.n_evaluations / 5
