"""The shared inference engine (optimisation, Hessian SEs, Laplace) on models with known answers."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from toy_models import TorchNormalModel

from pystats.backends import resolve_backend
from pystats.backends.torch import resolve_device
from pystats.errors import (
    BackendUnavailableError,
    ConvergenceWarning,
    MethodNotSupportedError,
    OptionError,
)
from pystats.parameters import Parameter, ParameterSet

NormalModel = TorchNormalModel


class SumModel(NormalModel):
    """y ~ Normal(a + b, 1): a and b are not separately identified (a flat direction)."""

    family = "test_inference_sum"

    def parameters(self, data):
        return ParameterSet([Parameter("a"), Parameter("b")])

    def log_likelihood_torch(self, p, t):
        return torch.distributions.Normal(p["a"] + p["b"], 1.0).log_prob(t["y"]).sum()

    def initial_values(self, data, rng):
        return {"a": rng.normal(), "b": rng.normal()}

    def derived(self, draws, data):
        return {}


@pytest.fixture(scope="module")
def y() -> np.ndarray:
    return np.random.default_rng(42).normal(3.0, 2.0, size=400)


def test_mle_equals_closed_form_with_exact_standard_errors(y: np.ndarray) -> None:
    fit = NormalModel().fit(y, method="mle", seed=1)
    n, s = y.size, y.std()
    assert fit.backend == "torch"
    assert fit.point["mu"] == pytest.approx(y.mean(), rel=1e-7)
    assert fit.point["sigma"] == pytest.approx(s, rel=1e-7)
    # Fisher information of the normal: se(mu) = s/sqrt(n), se(sigma) = s/sqrt(2n)
    np.testing.assert_allclose(
        np.sqrt(np.diag(fit.cov)), [s / np.sqrt(n), s / np.sqrt(2 * n)], rtol=1e-5
    )
    assert fit.optimizer["converged"] and fit.optimizer["hessian_pd"]
    expected_ll = -0.5 * n * (np.log(2 * np.pi * s**2) + 1)
    assert fit.optimizer["log_likelihood"] == pytest.approx(expected_ll, rel=1e-9)
    assert fit.point["variance"] == pytest.approx(s**2, rel=1e-7)
    assert fit.draws["mu"].shape == (4, 1000)
    assert fit.draws["variance"].shape == (4, 1000)


def test_map_is_pulled_by_prior_and_laplace_is_calibrated(y: np.ndarray) -> None:
    mle = NormalModel().fit(y, method="mle", seed=1)
    mp = NormalModel().fit(y, method="map", seed=1)
    # the N(0, 10) prior pulls mu toward 0: at the MAP's sigma s, the mode in mu is the
    # precision-weighted mean (n ybar / s^2) / (n / s^2 + 1 / 100), exactly
    assert mp.point["mu"] < mle.point["mu"]
    prec = y.size / float(mp.point["sigma"]) ** 2
    assert mp.point["mu"] == pytest.approx(prec * y.mean() / (prec + 0.01), rel=1e-8)
    # and sigma at the MAP solves n s^2 + s^4 / 25 = sum (y - mu)^2 (HalfNormal(5) prior)
    s2 = float(mp.point["sigma"]) ** 2
    ss = float(np.sum((y - mp.point["mu"]) ** 2))
    assert y.size * s2 + s2**2 / 25 == pytest.approx(ss, rel=1e-7)
    lap = NormalModel().fit(y, method="laplace", seed=3, draws=1000, chains=4)
    assert lap.draws["mu"].shape == (1, 4000)
    mu = lap.variable("mu")
    assert mu.mean() == pytest.approx(y.mean(), abs=3 * y.std() / np.sqrt(y.size) / 20)
    assert mu.std() == pytest.approx(y.std() / np.sqrt(y.size), rel=0.1)
    assert 0 <= lap.optimizer["pareto_k"] < 0.5


def test_seed_reproducible_and_inputs_untouched(y: np.ndarray) -> None:
    original = y.copy()
    model = NormalModel()
    a = model.fit(y, method="laplace", seed=7)
    b = model.fit(y, method="laplace", seed=7)
    np.testing.assert_array_equal(a.draws["mu"], b.draws["mu"])
    np.testing.assert_array_equal(y, original)
    assert a.metadata["seed"] == 7
    assert a.data.values["y"] is not y
    with pytest.raises(ValueError):
        a.data.values["y"][0] = 1.0  # read-only
    with pytest.raises(AttributeError):
        a.method = "nuts"  # frozen


def test_flat_direction_is_reported_loudly() -> None:
    y = np.random.default_rng(0).normal(1.0, 1.0, size=50)
    with pytest.warns(ConvergenceWarning):
        fit = SumModel().fit(y, method="mle", seed=0)
    assert not fit.optimizer["hessian_pd"]
    assert set(fit.optimizer["flat_directions"]) <= {"a", "b"}
    assert fit.optimizer["flat_directions"]
    assert fit.point["a"] + fit.point["b"] == pytest.approx(y.mean(), rel=1e-6)


def test_clean_fit_does_not_warn(y: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        NormalModel().fit(y, method="mle", seed=1)


def test_bad_arguments_are_named(y: np.ndarray) -> None:
    model = NormalModel()
    with pytest.raises(OptionError, match="method='bayes' is not allowed"):
        model.fit(y, method="bayes")
    with pytest.raises(OptionError, match="chains=0"):
        model.fit(y, method="nuts", chains=0)
    with pytest.raises(OptionError, match="unknown backend 'jax'"):
        model.fit(y, method="mle", backend="jax")
    with pytest.raises(MethodNotSupportedError, match="cannot run method 'nuts'"):
        model.fit(y, method="nuts", backend="torch")
    with pytest.raises(OptionError, match="device='tpu'"):
        model.fit(y, method="mle", device="tpu")


def test_auto_backend_rule() -> None:
    model = NormalModel()
    assert resolve_backend("mle", "auto", model) == "torch"
    assert resolve_backend("laplace", "auto", model) == "torch"
    assert resolve_backend("nuts", "auto", model) in ("pystan", "cmdstanpy")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_request_without_cuda_is_a_clear_error() -> None:
    with pytest.raises(BackendUnavailableError, match="cuda"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


@pytest.mark.gpu
def test_torch_fit_on_cuda_matches_cpu(y: np.ndarray) -> None:
    cpu = NormalModel().fit(y, method="mle", seed=1)
    gpu = NormalModel().fit(y, method="mle", seed=1, device="cuda")
    assert gpu.point["mu"] == pytest.approx(cpu.point["mu"], rel=1e-9)
    np.testing.assert_allclose(gpu.cov, cpu.cov, rtol=1e-6)


def test_unknown_fit_argument_is_named(y: np.ndarray) -> None:
    with pytest.raises(
        OptionError, match=r"unknown argument\(s\) t_start; its data options are: none"
    ):
        NormalModel().fit(y, method="mle", t_start=0.0)


class _CountingQuadratic:
    """``-½ (u − a)ᵀ A (u − a)`` (ill-conditioned), recording every evaluated point."""

    dim = 3

    def __init__(self) -> None:
        self.a = np.array([1.0, -2.0, 0.5])
        self.A = np.diag([1.0, 30.0, 500.0])
        self.points: list[np.ndarray] = []
        self.hessians = 0

    def value_and_grad(self, u, jacobian):
        self.points.append(np.array(u, dtype=float))
        d = np.asarray(u) - self.a
        return -0.5 * float(d @ self.A @ d), -(self.A @ d)

    def hessian(self, u, jacobian):
        self.hessians += 1
        return -self.A


@pytest.mark.parametrize("precondition", [False, True])
def test_maximize_never_evaluates_the_same_point_twice_in_a_row(precondition) -> None:
    # the start check, L-BFGS-B's first call after each (re-)whitening and the final check
    # at the best point used to repeat the evaluation just made; n_evaluations counts the
    # density's evaluations
    from pystats.inference import maximize

    density = _CountingQuadratic()
    starts = [np.zeros(3), np.array([3.0, 1.0, -1.0])]
    best = maximize(density, starts, jacobian=False, precondition=precondition)
    np.testing.assert_allclose(best.u, density.a, atol=1e-6)
    pts = density.points
    assert all(not np.array_equal(p, q) for p, q in itertools.pairwise(pts))
    assert best.n_evaluations == len(pts)


class _ScaledRosenbrock:
    """Extended Rosenbrock log density in badly scaled, rotated coordinates ``x = M u``:
    curved (a Hessian valid only near where it is taken) and ill-conditioned; maximum at
    ``x = 1``.  Counts its Hessians."""

    def __init__(self, dim: int = 8) -> None:
        rng = np.random.default_rng(3)
        q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        self.dim = dim
        self.m = q @ np.diag(np.geomspace(1.0, 1e3, dim))
        self.optimum = np.linalg.solve(self.m, np.ones(dim))
        self.hessians = 0

    def value_and_grad(self, u, jacobian):
        x = self.m @ u
        a, b = x[0::2], x[1::2]
        value = -float(np.sum(100.0 * (b - a**2) ** 2 + (1.0 - a) ** 2))
        gx = np.empty_like(x)
        gx[0::2] = -400.0 * a * (b - a**2) - 2.0 * (1.0 - a)
        gx[1::2] = 200.0 * (b - a**2)
        return value, -(self.m.T @ gx)

    def hessian(self, u, jacobian):
        self.hessians += 1
        x = self.m @ u
        a, b = x[0::2], x[1::2]
        hx = np.zeros((self.dim, self.dim))
        i = np.arange(0, self.dim, 2)
        hx[i, i] = 1200.0 * a**2 - 400.0 * b + 2.0
        hx[i, i + 1] = hx[i + 1, i] = -400.0 * a
        hx[i + 1, i + 1] = 200.0
        return -(self.m.T @ hx @ self.m)


def test_preconditioned_maximize_takes_one_hessian_per_start_on_a_curved_density() -> None:
    # the whitening costs a Hessian (at 1e5 aftershock events ~35 evaluations); dense BFGS
    # from the whitened start keeps updating the curvature, where L-BFGS re-whitened every
    # 30 iterations took 3 Hessians for this density (and 18 for the 1e5 aftershock fit)
    from pystats.inference import maximize

    density = _ScaledRosenbrock()
    starts = [np.linalg.solve(density.m, np.full(8, -1.2)), np.zeros(8)]
    best = maximize(density, starts, jacobian=False, precondition=True)
    np.testing.assert_allclose(best.u, density.optimum, rtol=1e-5, atol=1e-8)
    assert best.converged and best.log_density > -1e-10
    assert len(best.optima) == 2 and density.hessians == 2
    plain = maximize(_ScaledRosenbrock(), starts, jacobian=False)
    assert best.n_evaluations < plain.n_evaluations


def test_preconditioned_maximize_re_whitens_every_refresh_iterations(monkeypatch) -> None:
    # a refresh shorter than the run: BFGS restarts from a fresh whitening where it stopped
    # and still reaches the optimum
    from pystats import inference

    monkeypatch.setattr(inference, "PRECONDITION_REFRESH", 5)
    density = _ScaledRosenbrock()
    start = [np.linalg.solve(density.m, np.full(8, -1.2))]
    best = inference.maximize(density, start, jacobian=False, precondition=True)
    np.testing.assert_allclose(best.u, density.optimum, rtol=1e-5, atol=1e-8)
    assert best.converged and density.hessians >= 3
