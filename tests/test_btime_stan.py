"""TimeVaryingB: the Stan programs (stan/btime_*.stan) and the torch likelihood agree at the
same inputs (value and gradient, with and without priors); NUTS recovers a known b(t)."""

from __future__ import annotations

import numpy as np
import pytest
from engines import assert_stan_equals_torch

import pystats
from pystats.btime.simulate import b_ramp, b_step, simulate_b_of_t


def _data(shape: str, n: int = 1500, seed: int = 2, delta_m: float = 0.1):
    law = ((lambda t: b_step(t, 1.2, 0.8, 500.0)) if shape == "step"
           else (lambda t: b_ramp(t, 1.3, 0.7, 0.0, 1000.0)))
    t, m = simulate_b_of_t(n, law, 2.0, delta_m, 1000.0, rng=seed)
    return {"time": t, "magnitude": m}, law


@pytest.mark.parametrize(("kind", "delta_m"), [
    ("gp", 0.1),  # compiles one program (~30 s)
    pytest.param("gp", 0.0, marks=pytest.mark.slow),
    pytest.param("changepoint", 0.1, marks=pytest.mark.slow),
])
def test_stan_and_torch_log_densities_agree(kind, delta_m):

    data_in, _ = _data("ramp", n=400, delta_m=delta_m)
    model = pystats.TimeVaryingB(kind=kind, mc=2.0, delta_m=delta_m, n_basis=10)
    data = model.prepare(data_in)
    params = model.parameters(data)
    rng = np.random.default_rng(5)
    points = [params.unconstrain(model.initial_values(data, rng)) for _ in range(3)]
    if kind == "gp":  # away from the small starting weights too
        points.append(points[0] + 0.5 * rng.standard_normal(points[0].size))
    for prior in (False, True):
        assert_stan_equals_torch(model, data, points, include_prior=prior, rel=1e-10,
                                 grad_rtol=1e-8)


@pytest.fixture(scope="module")
def nuts_fits():
    """One NUTS fit per kind on the same kind of catalogue (4 chains x 1000 draws)."""
    out = {}
    for kind, shape in (("gp", "ramp"), ("changepoint", "step")):
        data, law = _data(shape, n=2000, seed=7)
        model = pystats.TimeVaryingB(kind=kind, mc=2.0, n_basis=12)
        out[kind] = (model.fit(data, method="nuts", seed=3, chains=4, draws=1000,
                               warmup=1000), law)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gp", "changepoint"])
def test_nuts_recovers_a_known_b_of_t_with_clean_diagnostics(kind, nuts_fits):
    fit, law = nuts_fits[kind]
    diag = fit.diagnose(warn=False)
    assert fit.method == "nuts" and fit.backend in ("pystan", "cmdstanpy")
    assert {"r_hat", "ess_bulk", "divergences"} <= set(diag.checks)
    assert diag.checks["r_hat"].passed and diag.checks["ess_bulk"].passed, str(diag)
    # GP, seed 3: 16 divergent draws of 4000 at adapt_delta 0.8, 2 at 0.95 (nuts_defaults)
    assert diag.checks["divergences"].value <= 0.001 * 4000, str(diag)
    grid = np.linspace(50.0, 950.0, 19)
    band = fit.model.b_band(fit, grid)
    cover = (band["lower"] <= law(grid)) & (law(grid) <= band["upper"])
    # the GP rounds the step's corner, the change point's band is sharp: most points
    assert cover.mean() >= 0.8, band.assign(truth=law(grid))
    assert fit.model.p_decrease(fit, 100.0, 900.0) > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["step", "ramp"])
def test_gp_nuts_band_covers_a_step_and_a_ramp_on_1e4_events(shape):
    """The binned GP (1000 time bins) with NUTS on 1e4 events: clean diagnostics, the 90 %
    band covers the truth at >= 17 of 19 points (the step's corner may fall outside)."""
    data, law = _data(shape, n=10_000, seed=11)
    model = pystats.TimeVaryingB(kind="gp", mc=2.0)
    fit = model.fit(data, method="nuts", seed=2, chains=4, draws=500, warmup=500)
    diag = fit.diagnose(warn=False)
    assert diag.checks["r_hat"].passed, str(diag)
    assert diag.checks["divergences"].value <= 1, str(diag)
    grid = np.linspace(50.0, 950.0, 19)
    band = model.b_band(fit, grid)
    cover = (band["lower"] <= law(grid)) & (law(grid) <= band["upper"])
    assert cover.sum() >= 17, band.assign(truth=law(grid))
    assert model.p_decrease(fit, 100.0, 900.0) > 0.99
