"""Large-catalogue mechanisms of the Omori–Utsu fits (issue #13): the closed-form value,
gradient and Hessian (``OmoriUtsu.log_likelihood_jets_torch``) and the pilot on a weighted
systematic subsample (``OmoriUtsu.pilot``) — each against the plain computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import pystats
from pystats.etas import omori_family
from pystats.etas.omori import _omori_loglik, _omori_loglik_jets, omori_loglik
from pystats.etas.simulate import simulate_omori

NAMES = ("mu", "K", "c", "p")


@pytest.fixture(scope="module")
def times() -> np.ndarray:
    return simulate_omori(300.0, 0.02, 1.1, 0.0, 200.0, np.random.default_rng(3), mu=0.5)


@pytest.mark.parametrize(("mu", "weight"), [(0.0, 1.0), (0.5, 1.0), (0.5, 7.0)])
def test_jets_equal_the_autograd_derivatives(times, mu, weight) -> None:
    t = torch.as_tensor(times)
    x = torch.tensor([mu, 300.0, 0.02, 1.1], dtype=torch.float64)

    def f(th: torch.Tensor) -> torch.Tensor:
        return _omori_loglik(dict(zip(NAMES, th.unbind(), strict=True)), t, 0.0, 200.0, weight)

    v, g, h = _omori_loglik_jets(dict(zip(NAMES, x.unbind(), strict=True)), t, 0.0, 200.0,
                                 weight)
    assert float(v) == pytest.approx(float(f(x)), rel=1e-14)
    g_ref = torch.autograd.functional.jacobian(f, x)
    h_ref = torch.autograd.functional.hessian(f, x)
    np.testing.assert_allclose(g.numpy(), g_ref.numpy(), rtol=1e-10,
                               atol=1e-12 * float(g_ref.abs().max()))
    np.testing.assert_allclose(h.numpy(), h_ref.numpy(), rtol=1e-10,
                               atol=1e-12 * float(h_ref.abs().max()))
    if weight == 1.0:  # the private kernel is the public likelihood
        params = dict(zip(NAMES, x.tolist(), strict=True))
        assert float(omori_loglik(params, times, 0.0, 200.0)) == pytest.approx(float(v),
                                                                              rel=1e-14)


def test_pilot_fit_equals_the_plain_fit(monkeypatch) -> None:
    """With the pilot (a weighted subsample of every k-th event) the optimum, standard
    errors and log likelihood are those of the fit that runs its starts on all events."""
    t = simulate_omori(4000.0, 0.01, 1.05, 0.0, 500.0, np.random.default_rng(4))
    data = pd.DataFrame({"time": t})
    model = pystats.OmoriUtsu(main_shock_time=0.0)
    plain = model.fit(data, method="mle", seed=2)
    assert "pilot" not in plain.optimizer
    monkeypatch.setattr(omori_family, "PILOT_MIN_EVENTS", 10_000)
    monkeypatch.setattr(omori_family, "PILOT_EVENTS", 3_000)
    piloted = model.fit(data, method="mle", seed=2)
    k = -(-t.size // 3_000)
    assert t.size > 20_000
    assert f"one event in {k} (" in piloted.optimizer["pilot"]["description"]
    assert piloted.diagnose().ok
    for name in ("K", "c", "p"):
        assert piloted.estimate(name) == pytest.approx(plain.estimate(name), rel=1e-5)
        assert piloted.summary().loc[name, "se"] == pytest.approx(
            plain.summary().loc[name, "se"], rel=1e-4)
    assert piloted.optimizer["log_likelihood"] == pytest.approx(
        plain.optimizer["log_likelihood"], abs=1e-6)
