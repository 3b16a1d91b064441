"""AftershockDetection: report figures (pystats.plots.aftershock) and summary rows of the
latent hyperparameters (arrays of size 0 or 1)."""

from __future__ import annotations

import html
import itertools
import math
import warnings

import numpy as np
import pytest

import pystats
from pystats.aftershock import AftershockDetection, simulate_detected
from pystats.plots.aftershock import (
    TITLES,
    fitted_cumulative_counts,
    plot_cumulative,
    plot_detection,
    plot_forecast,
)

M0 = 6.0
WINDOW = (0.01, 1.0)


def _catalog(seed: int = 3):
    return simulate_detected(0.05, 0.01, 1.1, 2.3, 0.3, lambda t: 2.2 - 0.3 * np.log(t),
                             M0=M0, t_start=WINDOW[0], t_end=WINDOW[1], seed=seed)


def _fit(method: str, **options):
    model = AftershockDetection(mainshock_magnitude=M0, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.ConvergenceWarning)  # Pareto-k (see the card)
        return model.fit(_catalog(), method=method, t_start=WINDOW[0], t_end=WINDOW[1],
                         seed=5, chains=1, draws=200, n_starts=1)


@pytest.fixture(scope="module")
def gp_fit():
    return _fit("laplace", n_inducing=10)


@pytest.fixture(scope="module")
def rw2_fit():
    return _fit("map", mu_prior="rw2", n_nodes=12)


# ---------------------------------------------------------------- summary rows
@pytest.mark.parametrize(("case", "present", "absent"), [
    ("gp_fit", ("gp_amplitude", "gp_lengthscale"), ("rw_scale",)),
    ("rw2_fit", ("rw_scale",), ("gp_amplitude", "gp_lengthscale")),
])
def test_size_one_hyperparameters_are_scalar_rows_and_size_zero_ones_absent(
        case, present, absent, request):
    fit = request.getfixturevalue(case)
    table = fit.summary()
    rows = list(table.index)
    for name in present:
        assert name in rows and f"{name}[0]" not in rows
        draws = np.asarray(fit.variable(name), dtype=float)
        assert draws.shape[1:] == (1,)  # still an array of size 1 (the Stan contract)
        expected = fit.point[name][0] if fit.method == "map" else draws.mean()
        assert table.loc[name].iloc[0] == pytest.approx(float(expected), rel=1e-12)
    assert not any(r.startswith(absent) for r in rows)
    assert all("[" not in r for r in rows if not r.startswith("z["))
    text = fit.summary_text()
    assert all(f"{n}[" not in text for n in (*present, *absent))


# ---------------------------------------------------------------- figures
def test_report_has_the_four_family_figures(gp_fit, tmp_path):
    text = gp_fit.report(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>AftershockDetection figures</h2>" in text
    for title in TITLES.values():
        assert html.escape(title) in text, title
    assert "could not be drawn" not in text
    assert "99.9% band" in text
    # the size-1 hyperparameters read as scalars in the report's table too
    assert "gp_amplitude[0]" not in text and "gp_amplitude" in text


def test_map_fit_report_figures_draw(rw2_fit):
    figs = rw2_fit.model.report_figures(rw2_fit)
    assert len(figs) == 4
    assert all(t.startswith(v) for (t, _), v in zip(figs, TITLES.values(), strict=True))
    assert "map fit: no band" in figs[0][0]
    (line,) = [ln for ln in figs[0][1].axes[0].get_lines() if ln.get_label() == "μ(t)"]
    # without detection_curve (map), μ(t) is where q(M, t) = 1/2
    t, mu = line.get_xdata()[::40], line.get_ydata()[::40]
    q = rw2_fit.model.detection_probability(rw2_fit, times=t, magnitudes=[0.0])
    for ti, mi in zip(t, mu, strict=True):
        qi = rw2_fit.model.detection_probability(rw2_fit, times=[ti], magnitudes=[mi])
        assert float(qi.iloc[0, 0]) == pytest.approx(0.5, abs=0.01)
    assert q.shape == (t.size, 1)


def test_plotted_mu_line_is_the_detection_curve(gp_fit):
    ax = plot_detection(gp_fit)
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "μ(t)"]
    curve = gp_fit.model.detection_curve(gp_fit)
    np.testing.assert_allclose(line.get_xdata(), curve.index.to_numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(line.get_ydata(), curve["mu"].to_numpy(), rtol=1e-12)
    band = [c for c in ax.collections if c.get_label() == "99.9% band"]
    assert len(band) == 1
    t, m = gp_fit.data.values["t"], gp_fit.data.values["m"]
    assert ax.get_xscale() == "log" and ax.collections[0].get_offsets().shape == (t.size, 2)
    assert np.allclose(ax.collections[0].get_offsets()[:, 1], m)


def test_fitted_cumulative_count_is_the_integral_of_the_detected_intensity(gp_fit):
    from scipy.integrate import fixed_quad

    model, point = gp_fit.model, gp_fit.point
    K, c, p = (float(point[k]) for k in ("K", "c", "p"))
    beta, sigma = float(point["beta"]), float(point["sigma"])

    def detected_rate(t: np.ndarray) -> np.ndarray:  # ∫ dM of ν(t, M), closed form
        mu = model.detection_curve(gp_fit, times=t)["mu"].to_numpy()
        return K * (t + c) ** (-p) * np.exp(-beta * (mu - M0) + 0.5 * (beta * sigma) ** 2)

    # Gauss–Legendre in t (not log t) between the inducing inputs, where μ is smooth;
    # two orders agree to 1e-10, so the reference is exact to far better than 1e-6
    edges = np.exp(np.asarray(gp_fit.data.values["latent_x"]))
    edges[0], edges[-1] = WINDOW

    def reference(n: int) -> float:
        return sum(fixed_quad(detected_rate, a, b, n=n)[0]
                   for a, b in itertools.pairwise(edges))

    truth = reference(40)
    assert reference(30) == pytest.approx(truth, rel=1e-10)
    fitted = fitted_cumulative_counts(gp_fit)
    assert fitted.index[0] == WINDOW[0] and fitted.index[-1] == WINDOW[1]
    assert fitted["expected"].iloc[0] == 0.0
    assert fitted["expected"].iloc[-1] == pytest.approx(truth, rel=1e-6)
    assert np.all(np.diff(fitted["expected"]) > 0)
    # the fit's own balance: the expected count of detected events is close to the number
    n = gp_fit.data.values["N"]
    assert abs(truth - n) < 4 * math.sqrt(n)
    ax = plot_cumulative(gp_fit)
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "fitted"]
    np.testing.assert_allclose(line.get_ydata(), fitted["expected"].to_numpy())


def test_forecast_plot_shows_predict_and_the_observed_counts(gp_fit):
    later = simulate_detected(0.05, 0.01, 1.1, 2.3, 0.3, lambda t: 2.0 + 0 * t, M0=M0,
                              t_start=1.0, t_end=2.0, seed=9)
    ax = plot_forecast(gp_fit, magnitudes=[2.0, 3.0], data=later, seed=1)
    (obs,) = [ln for ln in ax.get_lines() if ln.get_label() == "observed"]
    times, mags = later["time"].to_numpy(), later["magnitude"].to_numpy()
    expected = [int(np.sum((times >= 1.0) & (times < 2.0) & (mags >= g))) for g in (2.0, 3.0)]
    assert list(obs.get_ydata()) == expected
    pred = gp_fit.predict(t1=1.0, t2=2.0, magnitudes=[2.0, 3.0], seed=1)
    (bars,) = [c for c in ax.containers]
    np.testing.assert_array_equal(bars.lines[0].get_ydata(), pred["mean"].to_numpy())


def test_standalone_module_is_the_same_code():
    import pystats.aftershock.plots as ap

    assert ap.plot_detection is plot_detection and ap.plot_forecast is plot_forecast


# ---------------------------------------------------------------- vignette
@pytest.mark.slow
def test_miyagi_vignette_runs(shared_data, tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "vignettes" / "aftershock_miyagi.py"
    spec = importlib.util.spec_from_file_location("aftershock_miyagi", path)
    vignette = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vignette)
    res = vignette.main(["--data", str(shared_data), "--output-dir", str(tmp_path)])
    assert "gp_amplitude" in res["summary"].index and "could not be drawn" not in (
        res["report"].read_text(encoding="utf-8"))
    curve = res["curve"]
    # detection improves over the first day (μ falls), and the band holds the estimate
    assert curve["mu"].iloc[0] > curve["mu"].iloc[-1]
    assert np.all((curve["lower"] < curve["mu"]) & (curve["mu"] < curve["upper"]))
    q = res["q"].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)  # q increases with magnitude
    fc = res["forecast"]
    assert list(fc["magnitude"]) == [2.0, 3.0, 4.0]
    assert np.all(np.diff(fc["mean"]) < 0) and fc["observed"].iloc[0] > 0
    assert res["figure"].stat().st_size > 10_000
    assert "Forecast of N(M >= m)" in capsys.readouterr().out
