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
    assert row["se"] == np.inf  # some draws are infinite: an unbounded spread
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
