"""The HTML report and the figures of :mod:`pystats.plots` (issue #6 point 19, #7 point 4).

Fits are built from synthetic draws or closed forms (tests/toy_models.py) or from models
prepared on simulated catalogues without running an optimiser, so no engine runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from scipy import stats
from toy_models import NormalModel, clean_stats, normal_data, normal_mle_fit, sampled_fit

from pystats.arviz_io import import_arviz, pointwise_log_likelihood_draws
from pystats.fit import Fit
from pystats.plots.prior import ImproperPriorError, marginal_prior_density
from pystats.report import describe_values, loo_summary, render_report, sampler_table

N_CHAINS, N_DRAWS = 4, 500


class PriorNormalModel(NormalModel):
    """:class:`NormalModel` with priors ``mu ~ Normal(1, 2)``, ``sigma ~ LogNormal(-0.5, 0.4)``
    (or, with ``flat=True``, a flat prior on ``mu``; with ``jeffreys=True``,
    ``p(sigma) ∝ sigma^-0.5``, both improper)."""

    family = "test_prior_normal"

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        flat = bool(options.pop("flat", False))
        jeffreys = bool(options.pop("jeffreys", False))
        options = super()._validate_options(options)
        options.update(flat=flat, jeffreys=jeffreys)
        return options

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        mu, sigma = params["mu"], params["sigma"]
        out = 0.0 * mu
        if not self.options["flat"]:
            out = out - 0.5 * ((mu - 1.0) / 2.0) ** 2 - math.log(2.0 * math.sqrt(2 * math.pi))
        if self.options["jeffreys"]:
            return out - 0.5 * sigma.log()
        ls = sigma.log()
        return (out - ls - math.log(0.4 * math.sqrt(2 * math.pi))
                - 0.5 * ((ls + 0.5) / 0.4) ** 2)


def _draws(seed: int = 0, n_chains: int = N_CHAINS) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "mu": rng.normal(1.5, 0.05, (n_chains, N_DRAWS)),
        "sigma": np.exp(rng.normal(math.log(0.7), 0.05, (n_chains, N_DRAWS))),
    }


@pytest.fixture(scope="module")
def y() -> np.ndarray:
    return normal_data(n=200, mu=1.5, sigma=0.7, seed=1)


@pytest.fixture(scope="module")
def nuts_fit(y: np.ndarray) -> Fit:
    stats_ = clean_stats(N_CHAINS, N_DRAWS)
    stats_["step_size"] = np.repeat([[0.3], [0.4], [0.5], [0.6]], N_DRAWS, axis=1)
    stats_["n_steps"][2, :10] = 31
    stats_["diverging"][1, :2] = True
    return sampled_fit(PriorNormalModel(), y, _draws(), sample_stats=stats_)


@pytest.fixture(scope="module")
def nuts_html(nuts_fit: Fit) -> str:
    return render_report(nuts_fit)


def _captions(text: str) -> list[str]:
    return re.findall(r"<figcaption>(.*?)</figcaption>", text)


# ---------------------------------------------------------------------- NUTS report
def test_nuts_report_has_the_standard_mcmc_figures(nuts_html: str) -> None:
    caps = " | ".join(_captions(nuts_html))
    for what in ("Traces", "Rank plots", "Autocorrelation per chain", "Forest plot", "Pairs",
                 "Energy", "Parameter correlations", "Prior (line) vs posterior"):
        assert what in caps, what
    assert "could not be drawn" not in nuts_html
    assert nuts_html.count("<img") == len(_captions(nuts_html))


def test_sampler_table_per_chain(nuts_fit: Fit, nuts_html: str) -> None:
    rows = sampler_table(nuts_fit)
    assert [r["chain"] for r in rows] == [0, 1, 2, 3]
    assert [r["step_size"] for r in rows] == pytest.approx([0.3, 0.4, 0.5, 0.6])
    acc = np.asarray(nuts_fit.sample_stats["acceptance_rate"]).mean(axis=1)
    assert [r["acceptance"] for r in rows] == pytest.approx(acc)
    assert [r["leapfrog_max"] for r in rows] == [7, 7, 31, 7]
    assert rows[2]["leapfrog_mean"] == pytest.approx((10 * 31 + 490 * 7) / 500)
    assert [r["divergences"] for r in rows] == [0, 2, 0, 0]
    assert "<h2>Sampler</h2>" in nuts_html and "leapfrog steps (mean)" in nuts_html


def test_psis_loo_matches_arviz_on_the_same_draws(nuts_fit: Fit, nuts_html: str) -> None:
    az = import_arviz()
    loo, n_used = loo_summary(nuts_fit)
    assert n_used == 1000  # thinned from 2000 draws
    ll = pointwise_log_likelihood_draws(nuts_fit, max_draws=1000)["y"]
    ref = az.loo(az.from_dict(posterior={"_": np.zeros(ll.shape[:2])},
                              log_likelihood={"y": ll}), pointwise=True)
    assert loo.elpd_loo == pytest.approx(ref.elpd_loo, rel=1e-12)
    # well-specified normal model: elpd close to the sum of log predictive densities
    assert loo.elpd_loo == pytest.approx(ll.reshape(-1, ll.shape[-1]).mean(0).sum(), abs=5)
    assert "<h2>PSIS-LOO</h2>" in nuts_html and f"{loo.elpd_loo:.2f}" in nuts_html
    assert "Pareto k" in nuts_html and "All Pareto k values are good" in nuts_html


def test_loo_skipped_with_reason(y: np.ndarray) -> None:
    mle = normal_mle_fit(y)
    assert "not posterior draws" in loo_summary(mle)

    class NoPointwise(PriorNormalModel):
        family = "test_no_pointwise"

        def pointwise_log_likelihood(self, draws: Mapping[str, np.ndarray], data: Any) -> dict:
            return {}

    fit = sampled_fit(NoPointwise(), y, _draws(), sample_stats=clean_stats(N_CHAINS, N_DRAWS))
    reason = loo_summary(fit)
    assert isinstance(reason, str) and "defines no pointwise log likelihood" in reason
    assert "defines no pointwise log likelihood" in render_report(fit)


def test_data_section_describes_values_not_dtypes(nuts_html: str, y: np.ndarray) -> None:
    assert "dtype" not in nuts_html
    q1, q2, q3 = np.quantile(y, [0.25, 0.5, 0.75])
    text = describe_values(y)
    assert text == (f"200 values: min {y.min():.6g}, quartiles {q1:.6g} / {q2:.6g} / "
                    f"{q3:.6g}, max {y.max():.6g}, mean {y.mean():.6g}")
    assert text in nuts_html
    assert describe_values(np.array([3, 0, 5])) .endswith("total 8")
    assert describe_values(np.asarray(1234)) == "1234"


def test_one_chain_report_has_no_rhat_failure(y: np.ndarray, caplog) -> None:
    fit = sampled_fit(PriorNormalModel(), y, _draws(n_chains=1),
                      sample_stats=clean_stats(1, N_DRAWS))
    with caplog.at_level("WARNING"):
        text = render_report(fit)
    assert "Shape validation failed" not in caplog.text
    assert "not computable from 1 chain" in text and "constant" not in text
    assert "could not be drawn" not in text


# ---------------------------------------------------------------------- priors
def test_marginal_prior_density_is_the_closed_form(nuts_fit: Fit) -> None:
    x = np.linspace(-3.0, 5.0, 9)
    np.testing.assert_allclose(marginal_prior_density(nuts_fit, "mu", x),
                               stats.norm(1.0, 2.0).pdf(x), rtol=1e-6)
    s = np.array([-1.0, 0.0, 0.2, 0.6, 1.5])  # outside the support: 0
    exact = stats.lognorm(0.4, scale=math.exp(-0.5)).pdf(np.clip(s, 1e-300, None)) * (s > 0)
    np.testing.assert_allclose(marginal_prior_density(nuts_fit, "sigma", s), exact, rtol=1e-6)


@pytest.mark.parametrize(("options", "label"), [({"flat": True}, "mu"),
                                                ({"jeffreys": True}, "sigma")])
def test_improper_prior_is_named_not_drawn(y: np.ndarray, options: dict, label: str) -> None:
    fit = sampled_fit(PriorNormalModel(**options), y, _draws(),
                      sample_stats=clean_stats(N_CHAINS, N_DRAWS))
    with pytest.raises(ImproperPriorError, match="improper"):
        marginal_prior_density(fit, label, np.array([0.5, 1.0]))
    assert f"Not drawn: {label}: the prior of {label} is improper" in render_report(fit)


# ---------------------------------------------------------------------- predictive checks
def test_scalar_check_is_a_histogram_with_the_observed_value() -> None:
    from pystats.plots.predictive import ppc_figure, ppc_tail_probability

    rep = np.random.default_rng(2).poisson(100, (4, 25))
    fig = ppc_figure("n_events", np.asarray(120), rep)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "n_events"
    marked = [ln for ln in ax.get_lines() if np.allclose(ln.get_xdata(), 120)]
    assert len(marked) == 1  # the observed value as a vertical line
    assert sum(p.get_height() for p in ax.patches) == rep.size  # every replicate counted
    assert ppc_tail_probability(2.0, np.array([1, 2, 3, 4])) == pytest.approx(0.625)
    assert f"{ppc_tail_probability(120, rep):.2f}" in ax.get_title()


def test_elements_plotted_against_the_family_coordinates() -> None:
    from pystats.gr import distributions as dist
    from pystats.gr.model import GutenbergRichter
    from pystats.plots.predictive import ppc_figure

    m = dist.simulate_gr(800, 1.0, 2.0, 0.1, rng=4)
    model = GutenbergRichter(mc=2.0, duration=10.0)
    data = model.prepare(m)
    coords = model.observed_coordinates(data)
    label, x = coords["magnitude_counts"]
    assert label.startswith("magnitude")
    obs = np.asarray(data.observed["magnitude_counts"])
    assert x.size == obs.size and x[0] == pytest.approx(2.0)  # the bin of M 2.0
    np.testing.assert_allclose(np.diff(x), data.values["ppc_width"])
    # counts by magnitude: observed bin j holds the magnitudes nearest x[j]
    j = 3
    assert obs[j] == np.sum(np.abs(m - x[j]) < data.values["ppc_width"] / 2 - 1e-9)
    rep = np.random.default_rng(1).poisson(obs + 1, (2, 20, obs.size))
    fig = ppc_figure("magnitude_counts", obs, rep, coords["magnitude_counts"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == label
    observed_points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    np.testing.assert_allclose(np.sort(np.concatenate([ln.get_xdata()
                                                       for ln in observed_points])), x)


def test_report_passes_coordinates_to_the_check(monkeypatch, y: np.ndarray) -> None:
    import pystats.plots.predictive as predictive

    seen = {}
    original = predictive.ppc_figure

    def spy(name, observed, replicated, coordinates=None):
        seen[name] = coordinates
        return original(name, observed, replicated, coordinates)

    class Indexed(PriorNormalModel):
        family = "test_indexed"

        def observed_coordinates(self, data: Any) -> dict:
            return {"y": ("time (days)", np.arange(data.values["n"]) * 0.5)}

    monkeypatch.setattr(predictive, "ppc_figure", spy)
    fit = sampled_fit(Indexed(), y[:50], _draws(), sample_stats=clean_stats(N_CHAINS, N_DRAWS))
    render_report(fit)
    assert seen["y"][0] == "time (days)" and seen["y"][1][-1] == pytest.approx(24.5)


# ---------------------------------------------------------------------- optimisation fits
def test_mle_report_has_correlations_and_no_prior_section(y: np.ndarray) -> None:
    from pystats.plots.diagnostic import correlation_matrix

    fit = normal_mle_fit(y)
    labels, corr = correlation_matrix(fit)
    assert labels == ["mu", "sigma"]
    np.testing.assert_allclose(corr, np.eye(2), atol=1e-12)  # mean and sd: uncorrelated
    text = render_report(fit)
    assert "Parameter correlations" in text and "Prior (line)" not in text
    assert "Uncertainty draws" in text and "chains x" not in text


def test_etas_mle_report_figures_include_b_and_correlations() -> None:
    from pystats.etas.model import ETAS
    from pystats.etas.simulate import simulate_etas
    from pystats.plots.diagnostic import correlation_matrix

    truth = {"mu": 0.4, "K": 0.02, "c": 0.01, "alpha": 1.5, "p": 1.2}
    cat = simulate_etas(**truth, m_ref=3.0, t_end=300.0, mc=3.0, b=1.0, rng=5)
    model = ETAS(mc=3.0)
    data = model.prepare(cat)
    ps = model.parameters(data)
    point = {n: np.asarray(truth[n]) for n in ps.names}
    u0 = ps.unconstrain(point)
    rho = 0.6
    cov_u = 0.01 * (np.eye(u0.size) + rho * (np.eye(u0.size, k=1) + np.eye(u0.size, k=-1)))
    jac = np.diag(ps.dconstrain(u0))
    fit = Fit(model=model, data=data, method="mle", backend="synthetic", parameters=ps,
              point=point, cov=jac @ cov_u @ jac.T, cov_unconstrained=cov_u,
              optimizer={"converged": True, "hessian_pd": True})
    labels, corr = correlation_matrix(fit)
    assert labels == list(ps.names) and corr[0, 1] == pytest.approx(rho)
    titles = [t for t, _ in model.report_figures(fit)]
    b_title = [t for t in titles if t.startswith("Magnitude–frequency")]
    assert len(b_title) == 1
    assert f"b = {data.values['b']:.3f} ± {data.values['b_se']:.3f}" in b_title[0]
    fig = dict(model.report_figures(fit))[b_title[0]]
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "magnitude"
    mags = np.asarray(data.observed["magnitude"])
    cum = next(ln for ln in ax.get_lines() if ln.get_label() == "observed, N(>= m)")
    assert cum.get_ydata()[0] == mags.size  # N(>= mc) is every target event


def test_figure_code_lives_in_pystats_plots() -> None:
    import importlib
    import inspect
    import pkgutil

    import pystats
    from pystats.plots import etas, gr

    outside = []
    for info in pkgutil.walk_packages(pystats.__path__, "pystats."):
        if info.name.startswith(("pystats.plots", "pystats.report")):
            continue
        mod = importlib.import_module(info.name)
        outside += [f"{info.name}.{n}" for n, f in vars(mod).items()
                    if n.endswith("_figure") and inspect.isfunction(f)
                    and f.__module__ == info.name]
    assert not outside, outside
    assert callable(gr.fmd_figure) and callable(gr.detection_figure)
    assert callable(etas.residual_figure) and callable(etas.magnitude_frequency_figure)


def test_forest_rows_on_their_own_scale_with_rhat_and_ess(nuts_fit: Fit) -> None:
    from pystats.plots._base import scalar_draws
    from pystats.plots.diagnostic import forest_figure
    from pystats.summary import format_value

    draws, _ = scalar_draws(nuts_fit, 10)
    frame = nuts_fit.summary()
    fig = forest_figure(draws, frame, 0.9)
    assert len(fig.axes) == 2
    for ax, label in zip(fig.axes, ("mu", "sigma"), strict=True):
        r = format_value(frame.loc[label, "r_hat"], "r_hat")
        assert ax.get_title(loc="left") == (
            f"{label} — R-hat {r}, bulk ESS {frame.loc[label, 'ess_bulk']:.0f}")
        lo, hi = ax.get_xlim()  # each row spans its own draws (mu ~ 1.5, sigma ~ 0.7)
        x = np.asarray(nuts_fit.variable(label))
        assert lo < np.quantile(x, 0.05) and hi > np.quantile(x, 0.95) and hi - lo < 1.0


def test_render_page_builds_a_page_from_blocks():
    """The generic page (results that are not a Fit): text escaped, tables, key-value
    pairs, figures (a failing one becomes a visible note), a bad block refused."""
    import matplotlib.figure
    import pandas as pd

    from pystats.report import render_page

    def broken():
        raise RuntimeError("no ink")

    fig = matplotlib.figure.Figure()
    fig.add_subplot().plot([0, 1])
    page = render_page("T <1>", [("S & more", ["a <b>", pd.DataFrame({"x": [1.5]},
                                                                      index=["r1"]),
                                               [("key", "v<")], ("good", fig),
                                               ("bad", broken)])])
    assert "<title>T &lt;1&gt;</title>" in page and "<h2>S &amp; more</h2>" in page
    assert "<p>a &lt;b&gt;</p>" in page and "r1" in page and "v&lt;" in page
    assert page.count("<img") == 1 and "could not be drawn: RuntimeError: no ink" in page
    with pytest.raises(TypeError, match="report item of type int"):
        render_page("t", [("s", [3])])
