"""Large-catalogue mechanisms of the ETAS fits (issue #13): the pilot starts
(``ETAS.pilot``: a subsample for the fast likelihood, the fast likelihood for the exact
one), the Hessian from one second-order jets pass (``etas_loglik_jets``) and the
Newton-decrement stop of preconditioned rounds — each against the plain computation
(same optimum, standard errors, derivatives)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pystats
from pystats.backends import get_backend
from pystats.etas import etas_family
from pystats.etas import likelihood as lik
from pystats.etas.simulate import simulate_etas

NAMES = ("mu", "K", "c", "alpha", "p")
TRUTH = {"mu": 0.5, "K": 0.02, "c": 0.01, "alpha": 1.4, "p": 1.15}


@pytest.fixture(scope="module")
def catalog() -> tuple[np.ndarray, np.ndarray]:
    """~2 500 simulated events (fast likelihood under ``likelihood="auto"``)."""
    sim = simulate_etas(**TRUTH, m_ref=3.0, t_end=3500.0, mc=3.0, b=1.0, rng=5)
    return np.array(sim.times), np.array(sim.magnitudes)


def _autograd(fn, t, m, ts, te, **kw) -> tuple[float, np.ndarray, np.ndarray]:
    x = torch.tensor([TRUTH[n] for n in NAMES], dtype=torch.float64, requires_grad=True)
    ll = fn(dict(zip(NAMES, x.unbind(), strict=True)), t, m, ts, te, 3.0, **kw)
    (g,) = torch.autograd.grad(ll, x, create_graph=True)
    h = torch.stack([torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(5)])
    return float(ll.detach()), g.detach().numpy(), h.numpy()


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_loglik_jets_equal_the_autograd_derivatives(catalog, method, monkeypatch) -> None:
    from pystats.etas import _pairs

    monkeypatch.setattr(_pairs, "DENSE_MAX_ENTRIES", 0)  # the tiled exact path
    monkeypatch.setattr(lik, "_INTEGRAL_CHUNK", 500)  # several compensator chunks
    t, m = catalog
    t, m = t[:1500], m[:1500]
    ts, te = float(t[40]), float(t[-1]) + 1.0  # history before the window
    fn = lik.etas_loglik_fast if method == "fast" else lik.etas_loglik_exact
    v_ref, g_ref, h_ref = _autograd(fn, t, m, ts, te)
    v, g, h = (x.numpy() for x in lik.etas_loglik_jets(TRUTH, t, m, ts, te, 3.0,
                                                         method=method))
    assert float(v) == pytest.approx(v_ref, rel=1e-13)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-11 * np.abs(g_ref).max())
    np.testing.assert_allclose(h, h_ref, rtol=1e-10, atol=1e-11 * np.abs(h_ref).max())


@pytest.mark.parametrize(("method", "options"), [("mle", {}),
                                                  ("laplace", {"fixed": {"alpha": 1.4}})])
def test_backend_hessian_from_jets_equals_autograd_hessian(catalog, method, options) -> None:
    """The torch engine's Hessian through the model's jets (prior, Jacobian, fixed
    parameters included) is the autograd Hessian of the log density."""
    model = pystats.ETAS(mc=3.0, reference_magnitude=3.0, **options)
    data = model.prepare(catalog)
    density = get_backend("torch").log_density(model, data, include_prior=method != "mle",
                                               device="cpu")
    params = model.parameters(data)
    u = params.unconstrain({k: TRUTH[k] for k in params.names})
    theta = params.constrain(torch.tensor(u))
    assert model.log_likelihood_jets_torch(theta, density.tensors) is not None
    jac = method == "laplace"
    h = density.hessian(u, jac)
    ut = torch.tensor(u, requires_grad=True)
    ref = density._hessian_rows(ut, jac, 0).detach().numpy()
    np.testing.assert_allclose(h, ref, rtol=1e-10, atol=1e-11 * np.abs(ref).max())


def _fit(model, data, pilot: bool, monkeypatch):
    with monkeypatch.context() as mp:
        if not pilot:
            mp.setattr(etas_family.ETAS, "pilot", lambda self, data, method: None)
        return model.fit(data, seed=3, n_starts=2)


def test_subsample_pilot_gives_the_plain_fit(catalog, monkeypatch) -> None:
    """Fast likelihood, many targets: starts on the last events, one polishing start on
    all of them — the same optimum and standard errors as the plain multi-start fit."""
    monkeypatch.setattr(etas_family, "PILOT_MIN_TARGETS", 1500)
    monkeypatch.setattr(etas_family, "PILOT_TARGETS", 900)
    monkeypatch.setattr(etas_family, "PILOT_HISTORY", 300)
    model = pystats.ETAS(mc=3.0, reference_magnitude=3.0)
    with_pilot = _fit(model, catalog, True, monkeypatch)
    plain = _fit(model, catalog, False, monkeypatch)
    opt = with_pilot.optimizer
    assert "last 900 target events" in opt["pilot"]["description"]
    assert len(opt["pilot"]["optima"]) == 2 and opt["n_starts"] == 1 and opt["converged"]
    assert "pilot" not in plain.optimizer
    a, b = with_pilot.summary(), plain.summary()
    for name in NAMES:
        assert a.loc[name, "estimate"] == pytest.approx(b.loc[name, "estimate"], rel=1e-5)
        assert a.loc[name, "se"] == pytest.approx(b.loc[name, "se"], rel=1e-5)
    assert opt["log_likelihood"] == pytest.approx(plain.optimizer["log_likelihood"],
                                                  abs=1e-6)
    check = with_pilot.diagnose(warn=False).checks["multiple_starts"]
    assert check.passed and "on the pilot" in check.verdict


def test_exact_fit_polishes_the_fast_pilot(catalog, monkeypatch) -> None:
    """``likelihood="exact"``: starts on the fast likelihood, the exact one only polishes
    (and gives the Hessian) — the same exact optimum and errors as exact starts."""
    data = (catalog[0][:1400], catalog[1][:1400])
    model = pystats.ETAS(mc=3.0, reference_magnitude=3.0, likelihood="exact")
    with_pilot = _fit(model, data, True, monkeypatch)
    plain = _fit(model, data, False, monkeypatch)
    assert with_pilot.data.summary["likelihood"] == "exact"
    assert "fast (SOE) likelihood" in with_pilot.optimizer["pilot"]["description"]
    assert with_pilot.optimizer["n_evaluations"] < plain.optimizer["n_evaluations"]
    a, b = with_pilot.summary(), plain.summary()
    for name in NAMES:
        assert a.loc[name, "estimate"] == pytest.approx(b.loc[name, "estimate"], rel=1e-5)
        assert a.loc[name, "se"] == pytest.approx(b.loc[name, "se"], rel=1e-5)
    assert with_pilot.optimizer["log_likelihood"] == pytest.approx(
        plain.optimizer["log_likelihood"], abs=1e-6)


def test_preconditioned_round_stops_at_rounding_level_decrement(monkeypatch) -> None:
    """A large log density (|f| ~ 1e6, as a 1e6-event ETAS fit) whose value and gradient
    carry rounding noise (the gradient's above ``gtol``): the round stops once the
    whitened decrement is at the rounding level instead of burning line searches on the
    noise."""
    from pystats import inference

    class Noisy:
        dim = 3
        a = np.array([1.0, -2.0, 0.5])
        scale = np.array([1e4, 1.0, 1e2])
        n = 0

        def value_and_grad(self, u, jacobian):
            self.n += 1
            d = u - self.a
            rng = np.random.default_rng(self.n)
            return (-1e6 - 0.5 * float(d @ (self.scale * d)) + rng.normal(0, 1e-9),
                    -self.scale * d + rng.normal(0, 1e-5, 3))

        def hessian(self, u, jacobian):
            return -np.diag(self.scale)

    best = inference.maximize(Noisy(), [np.zeros(3)], jacobian=False, precondition=True)
    np.testing.assert_allclose(best.u, Noisy.a, atol=1e-4)  # the noise: 1e-5 / curvature 1
    assert "rounding" in best.message and best.converged
    monkeypatch.setattr(inference, "PRECONDITION_STOP_DECREMENT", 0.0)
    plain = inference.maximize(Noisy(), [np.zeros(3)], jacobian=False, precondition=True)
    np.testing.assert_allclose(plain.u, Noisy.a, atol=1e-4)
    assert best.n_evaluations < plain.n_evaluations
