"""Summary tables of fits whose derived quantities are infinite (as the ETAS branching ratio
for alpha >= b ln 10): no RuntimeWarnings, and inf stays inf where the statistic has a value.

Fits are built from synthetic draws (tests/toy_models.py), so no engine runs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from toy_models import NormalModel, clean_stats, normal_data, normal_mle_fit, sampled_fit

from pystats.errors import OptionError
from pystats.fit import Fit
from pystats.model import PreparedData
from pystats.summary import summary_table, summary_text

N_CHAINS, N_DRAWS = 4, 500


class CappedModel(NormalModel):
    """:class:`NormalModel` with ``ratio = 1 / (cap - sigma)``, ``inf`` for ``sigma >= cap``."""

    family = "test_capped_normal"

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        cap = options.pop("cap", 1.0)
        if not isinstance(cap, int | float):
            raise OptionError(f"cap={cap!r} is not allowed; use a number")
        options = super()._validate_options(options)
        options["cap"] = float(cap)
        return options

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        sigma = np.asarray(draws["sigma"], dtype=float)
        gap = self.options["cap"] - sigma
        with np.errstate(divide="ignore"):
            return {"ratio": np.where(gap > 0, 1.0 / np.where(gap > 0, gap, 1.0), np.inf)}


@pytest.fixture(scope="module")
def y() -> np.ndarray:
    return normal_data(n=200, mu=1.5, sigma=0.7, seed=1)


def _mle_fit(y: np.ndarray, cap: float) -> Fit:
    base = normal_mle_fit(y, n_draws=N_DRAWS)
    model = CappedModel(cap=cap)
    draws = {k: base.draws[k] for k in ("mu", "sigma")}
    draws.update(model.derived(draws, base.data))
    return Fit(
        model=model, data=base.data, method="mle", backend=base.backend,
        parameters=base.parameters, point=base.point, cov=base.cov,
        cov_unconstrained=base.cov_unconstrained, draws=draws, optimizer=base.optimizer,
        metadata=base.metadata,
    )


def _sampled(y: np.ndarray, cap: float, method: str) -> Fit:
    rng = np.random.default_rng(2)
    draws = {
        "mu": rng.normal(1.5, 0.05, (N_CHAINS, N_DRAWS)),
        "sigma": np.exp(rng.normal(math.log(0.7), 0.05, (N_CHAINS, N_DRAWS))),
    }
    return sampled_fit(CappedModel(cap=cap), y, draws, method=method,
                       sample_stats=clean_stats(N_CHAINS, N_DRAWS) if method == "nuts" else None)


def _quiet(fn: Any, *args: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return fn(*args)


def test_all_infinite_derived_draws_mle(y: np.ndarray) -> None:
    fit = _mle_fit(y, cap=0.1)  # every sigma is above the cap
    row = _quiet(summary_table, fit).loc["ratio"]
    assert row["estimate"] == np.inf and row["lower"] == np.inf and row["upper"] == np.inf
    assert math.isnan(row["se"])  # the spread of a point mass at infinity is undefined
    assert "ratio" in _quiet(summary_text, fit)


def test_partly_infinite_derived_draws_mle(y: np.ndarray) -> None:
    sigma = np.asarray(_mle_fit(y, cap=10.0).draws["sigma"]).ravel()
    cap = float(np.quantile(sigma, 0.98))  # ~2 % of the draws are infinite
    fit = _mle_fit(y, cap=cap)
    row = _quiet(summary_table, fit).loc["ratio"]
    assert math.isfinite(row["estimate"]) and math.isfinite(row["lower"])
    # the delta method at the (finite) estimate: d/d log sigma of 1/(cap - sigma)
    s_hat, n = fit.point["sigma"], y.size
    exact = s_hat / (cap - s_hat) ** 2 / math.sqrt(2 * n)
    assert row["se"] == pytest.approx(exact, rel=1e-6)
    table = _quiet(summary_table, fit, 0.99)
    assert table.loc["ratio", "upper"] == np.inf  # the 99.5 % quantile is in the inf tail


@pytest.mark.parametrize("method", ["laplace", "nuts"])
def test_infinite_derived_draws_sampled(y: np.ndarray, method: str) -> None:
    fit = _sampled(y, cap=0.1, method=method)
    row = _quiet(summary_table, fit).loc["ratio"]
    assert row["mean"] == np.inf and math.isnan(row["sd"])
    assert row["hdi_lower"] == np.inf and row["hdi_upper"] == np.inf
    sigma = np.asarray(fit.draws["sigma"]).ravel()
    fit = _sampled(y, cap=float(np.quantile(sigma, 0.5)), method=method)  # half infinite
    table = _quiet(summary_table, fit)
    row = table.loc["ratio"]
    assert row["mean"] == np.inf and row["sd"] == np.inf
    assert math.isfinite(row["hdi_lower"]) and row["hdi_upper"] == np.inf
    # the parameters' rows are unaffected
    assert table.loc["sigma", "mean"] == pytest.approx(sigma.mean())


# ---------------------------------------------------------------------- issue #6/#7 points
def test_summary_is_a_plain_frame_rendered_on_demand(y: np.ndarray) -> None:
    fit = normal_mle_fit(y)
    table = fit.summary()
    assert table.attrs == {}
    table.loc["mu", "estimate"] = -99.0  # a copy: the fit's cached table is untouched
    assert fit.summary().loc["mu", "estimate"] == pytest.approx(y.mean())
    text = fit.summary_text()
    assert "NormalModel results" in text and "mu" in text
    html_ = fit.summary_html()
    assert html_ == fit._repr_html_() and "<table" in html_ and "pystats-summary" in html_


def test_diagnostics_computed_once_per_fit(y: np.ndarray, monkeypatch) -> None:
    import pystats.diagnostics as diagnostics

    calls = []
    original = diagnostics.run_checks
    monkeypatch.setattr(diagnostics, "run_checks",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    fit = _sampled(y, cap=10.0, method="nuts")
    for _ in range(3):
        fit.summary_text()
        fit.summary_html()
        fit.diagnose(warn=False)
    assert len(calls) == 1


def test_mle_header_does_not_read_like_mcmc(y: np.ndarray) -> None:
    text = normal_mle_fit(y, n_draws=1000).summary_text()
    assert "chains x" not in text
    assert "Uncertainty draws:" in text and "1000 from the asymptotic normal" in text
    nuts = _sampled(y, cap=10.0, method="nuts").summary_text()
    assert "Draws:" in nuts and f"{N_CHAINS} chains x {N_DRAWS} (posterior)" in nuts


def test_rhat_printed_with_the_digits_that_show_the_failure(y: np.ndarray) -> None:
    from pystats.summary import format_value, rhat_text

    assert rhat_text(1.010015) == "1.01002"
    assert rhat_text(1.0049) == "1.005" and rhat_text(1.234) == "1.234"
    assert format_value(1.010015, "r_hat") == "1.01002"
    # a fit whose worst R-hat is just above 1.01: the verdict shows why it failed
    fit = _sampled(y, cap=10.0, method="nuts")
    table = fit.summary(derived=False)
    table.loc["mu", "r_hat"] = 1.010015
    table.loc["sigma", "r_hat"] = 1.002
    from pystats.diagnostics import run_checks

    check = run_checks(fit, table).checks["r_hat"]
    assert check.passed is False and "max 1.01002" in check.verdict


def test_one_chain_nuts_rhat_not_computable(y: np.ndarray, caplog) -> None:
    rng = np.random.default_rng(3)
    draws = {"mu": rng.normal(1.5, 0.05, (1, 400)),
             "sigma": np.exp(rng.normal(math.log(0.7), 0.05, (1, 400)))}
    fit = sampled_fit(CappedModel(cap=10.0), y, draws, sample_stats=clean_stats(1, 400))
    with caplog.at_level("WARNING"):
        table = fit.summary()
        diag = fit.diagnose(warn=False)
    assert "Shape validation failed" not in caplog.text
    assert table["r_hat"].isna().all() and (table["ess_bulk"] > 200).all()
    check = diag.checks["r_hat"]
    assert check.passed is None
    assert "1 chain" in check.verdict and "constant" not in check.verdict
    assert "constant" not in fit.summary_text()


def test_etas_b_se_is_the_delta_method_value() -> None:
    """ETAS's derived ``b`` (Aki's estimate, independent of the ETAS parameters): its
    delta-method se is exactly Aki's se, not the spread of 4000 seeded normal draws."""
    from pystats.etas.model import ETAS
    from pystats.etas.simulate import simulate_etas

    truth = {"mu": 0.4, "K": 0.02, "c": 0.01, "alpha": 1.5, "p": 1.2}
    cat = simulate_etas(**truth, m_ref=3.0, t_end=400.0, mc=3.0, b=1.0, rng=5)
    model = ETAS(mc=3.0)
    data = model.prepare(cat)
    ps = model.parameters(data)
    point = {n: np.asarray(truth[n]) for n in ps.names}
    u0 = ps.unconstrain(point)
    cov_u = np.diag(np.full(u0.size, 0.01))
    u = np.random.default_rng(1).multivariate_normal(u0, cov_u, size=(4, 1000))
    draws = ps.constrain(u)
    draws.update(model.derived(draws, data))
    fit = Fit(model=model, data=data, method="mle", backend="synthetic", parameters=ps,
              point=point, cov_unconstrained=cov_u, draws=draws,
              optimizer={"converged": True, "hessian_pd": True})
    row = fit.summary().loc["b"]
    assert row["estimate"] == pytest.approx(data.values["b"])
    assert row["se"] == pytest.approx(data.values["b_se"], rel=1e-8)


class RootModel(NormalModel):
    """:class:`NormalModel` with ``root = sqrt(cap - sigma)``: NaN for ``sigma > cap``
    (a derived quantity with a restricted domain, as the EOS's states)."""

    family = "test_root_normal"

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        cap = options.pop("cap", 1.0)
        options = super()._validate_options(options)
        options["cap"] = float(cap)
        return options

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        with np.errstate(invalid="ignore"):
            return {"root": np.sqrt(self.options["cap"] - np.asarray(draws["sigma"], float))}


def _root_fit(y: np.ndarray, cap: float, with_draws: bool) -> Fit:
    base = normal_mle_fit(y, n_draws=N_DRAWS)
    model = RootModel(cap=cap)
    draws = {k: base.draws[k] for k in ("mu", "sigma")} if with_draws else {}
    if with_draws:
        draws.update(model.derived(draws, base.data))
    return Fit(
        model=model, data=base.data, method="mle", backend=base.backend,
        parameters=base.parameters, point=base.point, cov=base.cov,
        cov_unconstrained=base.cov_unconstrained, draws=draws, optimizer=base.optimizer,
        metadata=base.metadata,
    )


@pytest.mark.parametrize("with_draws", [False, True], ids=["no_draws", "nan_draws"])
def test_derived_interval_is_the_delta_method_without_usable_draws(y, with_draws) -> None:
    """Closed form: root = sqrt(cap - sigma), d root / d log sigma = -sigma / (2 root),
    var(log sigma) = 1/(2n).  Without draws, or with ~2 % of the draws outside the domain
    (NaN), the interval is root -+ z se (before: NaN bounds)."""
    sigma = np.asarray(normal_mle_fit(y, n_draws=N_DRAWS).draws["sigma"]).ravel()
    cap = float(np.quantile(sigma, 0.98)) if with_draws else 1.0
    fit = _root_fit(y, cap, with_draws)
    row = _quiet(summary_table, fit, 0.9).loc["root"]
    s_hat, n = fit.point["sigma"], y.size
    root = math.sqrt(cap - s_hat)
    se = s_hat / (2 * root) / math.sqrt(2 * n)
    assert row["estimate"] == pytest.approx(root, rel=1e-12)
    assert row["se"] == pytest.approx(se, rel=1e-6)
    z = 1.6448536269514722
    assert row["lower"] == pytest.approx(root - z * se, rel=1e-6)
    assert row["upper"] == pytest.approx(root + z * se, rel=1e-6)
