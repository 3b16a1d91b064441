"""The pointwise ETAS log likelihood (PSIS-LOO / WAIC input), vectorised over draws.

``ETAS.pointwise_log_likelihood`` evaluates every draw at once
(:mod:`pystats.etas._pointwise`).  Checked here against the per-draw computation it
replaced (one intensity, compensator and integral call of :mod:`pystats.etas.likelihood`
per draw, exact pair sums), and on a real 906-event NUTS fit (slow), whose ``to_arviz``
used to run for over ten minutes.  Speed: ``tests/benchmarks/bench_etas_pointwise.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import pystats
from pystats.errors import DataWarning
from pystats.etas._pointwise import pointwise_exact, pointwise_soe
from pystats.etas.likelihood import (
    etas_compensator,
    etas_integral,
    etas_intensity,
    etas_loglik_exact,
)
from pystats.etas.model import ETAS
from pystats.etas.simulate import simulate_etas

M_REF = 3.0


def per_draw(flat: dict, t: np.ndarray, m: np.ndarray, ts: float, te: float) -> np.ndarray:
    """The former implementation: a Python loop over draws, exact sums each time."""
    targets = t[np.searchsorted(t, ts):]
    out = np.empty((flat["K"].size, targets.size))
    with torch.no_grad():
        for i in range(flat["K"].size):
            ps = {k: float(a[i]) for k, a in flat.items()}
            lam = etas_intensity(ps, t, m, targets, M_REF, method="exact").numpy()
            tau = etas_compensator(ps, t, m, ts, M_REF, t_end=te, method="exact").numpy()
            total = float(etas_integral(ps, t, m, ts, te, M_REF))
            row = np.log(lam) - np.diff(tau, prepend=0.0)
            row[-1] -= total - tau[-1]
            out[i] = row
    return out


@pytest.fixture(scope="module")
def catalogue() -> tuple[np.ndarray, np.ndarray]:
    cat = simulate_etas(0.4, 0.02, 0.01, 1.5, 1.2, m_ref=M_REF, t_end=300.0, mc=3.0, b=1.0,
                        rng=3)
    # magnitudes on a 0.1 grid, as catalogues give them
    return np.asarray(cat.times), np.round(np.asarray(cat.magnitudes), 1)


@pytest.fixture(scope="module")
def draws() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    n = 7
    out = {"mu": 0.4 * np.exp(0.1 * rng.standard_normal(n)),
           "K": 0.02 * np.exp(0.1 * rng.standard_normal(n)),
           "c": 0.01 * np.exp(0.5 * rng.standard_normal(n)),
           "alpha": 1.5 + 0.1 * rng.standard_normal(n),
           "p": 1.2 + 0.1 * rng.standard_normal(n)}
    out["p"][0] = 1.0  # the closed forms have a removable singularity there
    return out


@pytest.mark.parametrize("case", ["plain", "ties", "t_start_at_an_event", "t_end_at_last"])
def test_vectorised_pointwise_equals_the_per_draw_computation(catalogue, draws, case) -> None:
    t, m = catalogue
    t = t.copy()
    ts, te = 5.0, 300.0
    if case == "ties":  # equal times do not excite each other
        t[10] = t[9]
        t[21] = t[22] = t[20]
    elif case == "t_start_at_an_event":
        ts = float(t[40])
    elif case == "t_end_at_last":
        te = float(t[-1])
    ref = per_draw(draws, t, m, ts, te)
    exact = pointwise_exact(draws, t, m, ts, te, M_REF)
    soe = pointwise_soe(draws, t, m, ts, te, M_REF)
    assert exact.shape == soe.shape == ref.shape == (7, int(np.sum(t >= ts)))
    np.testing.assert_allclose(exact, ref, rtol=0, atol=1e-11)
    # the SOE kernel's relative error is below 1e-10 for every draw on the common lattice
    np.testing.assert_allclose(soe, ref, rtol=0, atol=2e-10)
    for i in range(7):
        ll = float(etas_loglik_exact({k: float(v[i]) for k, v in draws.items()}, t, m, ts, te,
                                     M_REF))
        assert exact[i].sum() == pytest.approx(ll, abs=1e-10)


def test_exact_blocks_of_draws_give_the_same_values(catalogue, draws) -> None:
    t, m = catalogue
    whole = pointwise_exact(draws, t, m, 5.0, 300.0, M_REF)
    blocked = pointwise_exact(draws, t, m, 5.0, 300.0, M_REF, max_elements=1)  # one at a time
    np.testing.assert_array_equal(whole, blocked)
    soe = pointwise_soe(draws, t, m, 5.0, 300.0, M_REF)
    np.testing.assert_allclose(pointwise_soe(draws, t, m, 5.0, 300.0, M_REF, chunk=2), soe,
                               rtol=0, atol=1e-13)


def test_model_hook_keeps_the_draw_axes_and_follows_the_likelihood_option(catalogue,
                                                                         draws) -> None:
    t, m = catalogue
    lead = {k: v[:6].reshape(2, 3) for k, v in draws.items()}
    ref = per_draw({k: v[:6] for k, v in draws.items()}, t, m, 5.0, 300.0).reshape(2, 3, -1)
    for lik, tol in (("auto", 2e-10), ("exact", 1e-11)):
        model = ETAS(mc=3.0, reference_magnitude=M_REF, likelihood=lik)
        data = model.prepare((t, m), t_start=5.0, t_end=300.0)
        out = model.pointwise_log_likelihood(lead, data)["time"]
        assert out.shape == (2, 3, data.summary["n"])
        np.testing.assert_allclose(out, ref, rtol=0, atol=tol)
    # a fixed parameter is broadcast to the draws of the free ones
    model = ETAS(mc=3.0, reference_magnitude=M_REF, fixed={"alpha": 1.5})
    data = model.prepare((t, m), t_start=5.0, t_end=300.0)
    free = {k: v for k, v in lead.items() if k != "alpha"}
    out = model.pointwise_log_likelihood(free, data)["time"]
    fixed = {**{k: v[:6] for k, v in draws.items()}, "alpha": np.full(6, 1.5)}
    np.testing.assert_allclose(out, per_draw(fixed, t, m, 5.0, 300.0).reshape(2, 3, -1),
                               rtol=0, atol=2e-10)


@pytest.mark.slow
def test_real_906_event_nuts_fit_to_arviz_and_loo(shared_data) -> None:
    """The 2003 Miyagi aftershocks at M >= 2.1: 906 events up to 18.68 d (17 of them,
    the M6.2 main shock first, before t_start = 0.01 d), 4 chains x 1000 NUTS draws.
    ``to_arviz`` (pointwise log likelihood of 4 000 draws x 889 targets) used to run for
    over ten minutes."""
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cat = pystats.read_catalog(shared_data / "catalogs" / "miyagi2003_aftershocks_sapp.csv",
                                   missing_magnitude=0.0, on_missing="drop")
    model = ETAS(mc=2.1, reference_magnitude=6.2, mu=0.0)
    fit = model.fit(cat, method="nuts", t_start=0.01, t_end=18.68, seed=3)
    v = fit.data.values
    assert (np.asarray(v["t"]).size, fit.data.summary["n"]) == (906, 889)
    assert int(v["stan_use_soe"]) == 1  # the fit used the fast (SOE) sums in Stan
    idata = fit.to_arviz()
    ll = idata.log_likelihood["time"]
    assert ll.shape == (4, 1000, 889)
    # each draw's terms sum to its exact log likelihood (independent torch evaluation)
    for c, d in ((0, 0), (1, 500), (3, 999)):
        ps = {"mu": 0.0, **{k: float(fit.draws[k][c, d]) for k in ("K", "c", "alpha", "p")}}
        ref = float(etas_loglik_exact(ps, v["t"], v["m"], 0.01, 18.68, 6.2))
        assert float(ll[c, d].sum()) == pytest.approx(ref, abs=1e-6)
    loo = az.loo(idata, pointwise=True)
    assert np.isfinite(loo.elpd_loo)
    assert float(np.max(loo.pareto_k)) < 0.7
