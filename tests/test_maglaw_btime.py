"""Time-varying b (pystats.btime): a step and a ramp in b recovered by the HSGP and the
change-point models (band covers the truth, P(b decreased) high), b-positive windows."""

from __future__ import annotations

import numpy as np
import pytest

from pystats.btime.model import TimeVaryingB
from pystats.btime.windows import b_positive_windows


def _catalogue(b_of_t, n=3000, seed=1):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, 1000.0, n))
    m = 1.95 + rng.exponential(1.0 / (b_of_t(t) * np.log(10.0)))
    return {"time": t, "magnitude": np.round(np.floor((m - 1.95) / 0.1) * 0.1 + 2.0, 1)}


def step(t):
    return np.where(t < 500.0, 1.2, 0.8)


def ramp(t):
    return 1.3 - 0.6 * t / 1000.0


GRID = np.linspace(50.0, 950.0, 19)


def test_changepoint_recovers_a_step():
    fit = TimeVaryingB(kind="changepoint", mc=2.0).fit(_catalogue(step), method="laplace",
                                                       seed=1)
    s = fit.summary()
    for name, truth in (("b1", 1.2), ("b2", 0.8)):
        assert abs(s.loc[name, "mean"] - truth) < 3 * s.loc[name, "sd"]
    band = fit.model.b_band(fit, [100.0, 400.0, 600.0, 900.0])
    assert np.all((band["lower"] <= step(band["time"])) & (step(band["time"]) <= band["upper"]))
    assert fit.model.p_decrease(fit, 100.0, 900.0) > 0.99
    # no change: P(decrease) is not confidently high
    flat = TimeVaryingB(kind="changepoint", mc=2.0).fit(
        _catalogue(lambda t: np.full_like(t, 1.0), seed=3), method="laplace", seed=1)
    assert flat.model.p_decrease(flat, 100.0, 900.0) < 0.95


@pytest.mark.parametrize("truth", [step, ramp], ids=["step", "ramp"])
def test_gp_band_covers_a_step_and_a_ramp(truth):
    fit = TimeVaryingB(kind="gp", mc=2.0, n_basis=12).fit(_catalogue(truth, seed=2),
                                                          method="laplace", seed=1)
    band = fit.model.b_band(fit, GRID)
    cover = (band["lower"] <= truth(GRID)) & (truth(GRID) <= band["upper"])
    # a smooth GP rounds the step's corner: the points next to it may fall outside
    assert cover.mean() >= 0.8, band.assign(truth=truth(GRID))
    assert fit.model.p_decrease(fit, 100.0, 900.0) > 0.95


def test_b_positive_windows_follow_a_step():
    d = _catalogue(step, n=4000, seed=4)
    w = b_positive_windows(d["time"], d["magnitude"], n_events=800, step=400)
    early, late = w[w["t_end"] < 500.0], w[w["t_start"] > 500.0]
    assert np.all(np.abs(early["b"] - 1.2) < 3 * early["se"])
    assert np.all(np.abs(late["b"] - 0.8) < 3 * late["se"])


def test_mc_is_required_and_named():
    import pystats

    with pytest.raises(pystats.OptionError, match=r"mc is required"):
        TimeVaryingB(kind="gp")


def test_predict_gives_b_and_exceedance_at_each_time():
    fit = TimeVaryingB(kind="changepoint", mc=2.0).fit(_catalogue(step, seed=5), method="map",
                                                       seed=1)
    table = fit.predict(times=[100.0, 900.0], magnitudes=[2.0, 3.0, 4.0], n_events=50)
    assert list(table["time"]) == [100.0] * 3 + [900.0] * 3
    b = table["b"].to_numpy()
    assert abs(b[0] - 1.2) < 0.15 and abs(b[3] - 0.8) < 0.1
    # P(M >= mc) = 1; P(M >= m) = 10^(-b (m - mc)) per draw, so its mean is >= 10^(-mean b ...)
    np.testing.assert_allclose(table["p_exceed"][table["magnitude"] == 2.0], 1.0)
    p_at_b = 10.0 ** (-b * (table["magnitude"].to_numpy() - 2.0))
    np.testing.assert_allclose(table["p_exceed"], p_at_b, rtol=0.05)
    np.testing.assert_allclose(table["expected"], 50 * table["p_exceed"])
    assert (table["p_exceed_lower"] <= table["p_exceed"]).all()
    assert (table["p_exceed"] <= table["p_exceed_upper"]).all()
    # default: the last event's time
    last = fit.predict(magnitudes=[3.0])
    assert last["time"].iloc[0] == pytest.approx(float(fit.data.values["time"][-1]))


def test_gp_derived_b_at_the_ends_is_b_of_t_there():
    fit = TimeVaryingB(kind="gp", mc=2.0, n_basis=8).fit(_catalogue(ramp, n=1000, seed=6),
                                                         method="map", seed=1, n_starts=1)
    t = fit.data.values["time"]
    ends = fit.model.b_draws(fit, [t[0], t[-1]])
    np.testing.assert_allclose(fit.variable("b_start"), ends[:, 0], rtol=1e-10)
    np.testing.assert_allclose(fit.variable("b_end"), ends[:, 1], rtol=1e-10)


def _gp_b_per_event(t, params, n_basis):
    """b(t_i) of the HSGP written out here (basis centred over the events)."""
    from pystats.btime import hsgp

    s = (t - (t[0] + t[-1]) / 2) / ((t[-1] - t[0]) / 2)
    sd = hsgp.spectral_sd(params["alpha"], params["ell"], hsgp.sqrt_eigenvalues(n_basis, 1.5))
    f = hsgp.basis(s, n_basis, 1.5) @ (sd * params["z"])
    return params["b0"] * np.exp(f - f.mean())


def test_gp_time_bins_approximate_the_per_event_likelihood():
    """Sufficient statistics per time bin: exact for per-event groups, within 0.05 nats
    (b constant within a bin to 1e-3) for 1000 bins on 1e4 events; the pointwise terms
    (for LOO) sum to the likelihood fitted."""
    import torch

    from pystats.backends.torch import to_tensors
    from pystats.btime.simulate import b_ramp, simulate_b_of_t

    t, m = simulate_b_of_t(10_000, lambda t: b_ramp(t, 1.3, 0.7, 0.0, 1000.0), 2.0, rng=2)
    params = {"b0": 1.0, "alpha": 0.3, "ell": 0.5,
              "z": np.random.default_rng(0).standard_normal(20)}
    beta = np.log(10.0) * _gp_b_per_event(t, params, 20)
    per_event = float(np.sum(np.log1p(-np.exp(-0.1 * beta)) - beta * (m - 2.0)))
    tp = {k: torch.as_tensor(np.asarray(v, dtype=float)) for k, v in params.items()}
    for bins, tol in ((None, 1e-8), (1000, 0.05)):
        model = TimeVaryingB(kind="gp", mc=2.0, n_time_bins=bins)
        data = model.prepare({"time": t, "magnitude": m})
        ll = float(model.log_likelihood_torch(tp, to_tensors(dict(data.values), "cpu")))
        assert abs(ll - per_event) < tol, (bins, ll - per_event)
        pw = model.pointwise_log_likelihood(params, data)["magnitude"]
        assert pw.shape == (10_000,) and float(pw.sum()) == pytest.approx(ll, abs=1e-6)
    assert data.values["phi"].shape == (1000, 20)
    b_bin = model._b_of_events(tp, to_tensors(dict(data.values), "cpu")).numpy()
    b_event = _gp_b_per_event(t, params, 20)
    assert np.max(np.abs(b_bin[data.values["group"]] / b_event - 1)) < 1e-3


def test_gp_length_scale_is_bounded_by_the_basis_resolution():
    model = TimeVaryingB(kind="gp", mc=2.0, n_basis=20)
    data = model.prepare(_catalogue(ramp, n=500))
    assert model.parameters(data)["ell"].lower == pytest.approx(1.75 * 1.5 / 20)


@pytest.fixture(scope="module")
def step_fits():
    d = _catalogue(step, seed=8)
    return {k: TimeVaryingB(kind=k, mc=2.0, n_basis=12).fit(d, method="laplace", seed=1)
            for k in ("gp", "changepoint")}


def test_changepoint_pointwise_log_likelihood_is_conditional_on_the_drawn_position(step_fits):
    """Each draw's terms are the GR log probabilities at the b that ``b_draws`` gives each
    event (same sampled position) and sum to the log likelihood at that position."""
    fit = step_fits["changepoint"]
    draws = {n: np.asarray(fit.draws[n]) for n in ("b1", "b2")}
    pw = fit.model.pointwise_log_likelihood(draws, fit.data)["magnitude"]
    assert pw.shape == (*draws["b1"].shape, 3000)
    v = fit.data.values
    b = fit.model.b_draws(fit, v["time"])  # (draws, events)
    beta = np.log(10.0) * b
    expect = np.log1p(-np.exp(-0.1 * beta)) - beta * v["x"]
    np.testing.assert_allclose(pw.reshape(-1, 3000), expect, rtol=1e-10, atol=1e-10)
    # the total at each draw is the log likelihood of one change position
    x, beta1, beta2 = v["x"], np.log(10.0) * draws["b1"].ravel(), np.log(10.0) * draws["b2"].ravel()
    k = (b == draws["b1"].ravel()[:, None]).sum(1)  # events before the change
    cx = np.concatenate([[0.0], np.cumsum(x)])
    total = (k * np.log1p(-np.exp(-0.1 * beta1)) - beta1 * cx[k]
             + (3000 - k) * np.log1p(-np.exp(-0.1 * beta2)) - beta2 * (cx[-1] - cx[k]))
    np.testing.assert_allclose(pw.reshape(-1, 3000).sum(1), total, rtol=1e-10)


def test_compare_ranks_the_change_point_first_on_a_step(step_fits):
    import pystats

    table = pystats.compare(step_fits)
    assert list(table.index) == ["changepoint", "gp"]
    assert table.loc["gp", "d_elpd_loo"] > 2.0
    assert np.isfinite(table["elpd_loo"]).all()
