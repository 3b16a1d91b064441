"""Parameter transforms: Stan's definitions, inverses and log-Jacobians."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from pystats.errors import OptionError
from pystats.parameters import Parameter, ParameterSet

BOUNDS = [(-math.inf, math.inf), (0.0, math.inf), (-math.inf, 2.0), (-1.0, 3.0)]


@pytest.mark.parametrize(("lower", "upper"), BOUNDS)
def test_round_trip_and_support(lower: float, upper: float) -> None:
    p = Parameter("x", lower=lower, upper=upper)
    u = np.linspace(-8, 8, 33)
    x = p.constrain(u)
    assert np.all(x > lower) and np.all(x < upper)
    np.testing.assert_allclose(p.unconstrain(x), u, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("lower", "upper"), BOUNDS)
def test_log_jacobian_matches_finite_differences(lower: float, upper: float) -> None:
    p = Parameter("x", lower=lower, upper=upper)
    u = np.linspace(-5, 5, 21)
    h = 1e-6
    numeric = np.log(np.abs((p.constrain(u + h) - p.constrain(u - h)) / (2 * h)))
    np.testing.assert_allclose(p.log_abs_det_jacobian(u), numeric, atol=1e-7)
    dnum = (p.log_abs_det_jacobian(u + h) - p.log_abs_det_jacobian(u - h)) / (2 * h)
    np.testing.assert_allclose(p.grad_log_abs_det_jacobian(u), dnum, atol=1e-6)


def test_stan_lower_upper_transform_definition() -> None:
    # Stan: x = L + (U - L) * inv_logit(u)
    p = Parameter("x", lower=-1.0, upper=3.0)
    assert p.constrain(np.array(0.0)) == pytest.approx(1.0)
    assert p.constrain(np.array(2.0)) == pytest.approx(-1 + 4 / (1 + math.exp(-2.0)))


def test_torch_and_numpy_agree() -> None:
    ps = ParameterSet([Parameter("a", lower=0.0), Parameter("v", lower=-1, upper=1, shape=(2, 3))])
    u = np.random.default_rng(0).normal(size=ps.dim)
    np_vals = ps.constrain(u)
    t_vals = ps.constrain(torch.tensor(u))
    for k in np_vals:
        np.testing.assert_allclose(np.asarray(np_vals[k]), t_vals[k].numpy(), rtol=1e-12)
    assert np_vals["v"].shape == (2, 3)
    np.testing.assert_allclose(
        float(ps.log_abs_det_jacobian(u)),
        float(ps.log_abs_det_jacobian(torch.tensor(u))),
        rtol=1e-12,
    )


def test_batched_split_and_unconstrain_roundtrip() -> None:
    ps = ParameterSet([Parameter("b", lower=0.0), Parameter("m", shape=(3,))])
    u = np.random.default_rng(1).normal(size=(5, ps.dim))
    vals = ps.constrain(u)
    assert vals["b"].shape == (5,) and vals["m"].shape == (5, 3)
    one = {k: v[2] for k, v in vals.items()}
    np.testing.assert_allclose(ps.unconstrain(one), u[2], rtol=1e-10)
    assert ps.element_names() == ["b", "m[0]", "m[1]", "m[2]"]


def test_bad_values_are_named() -> None:
    ps = ParameterSet([Parameter("b", lower=0.0)])
    with pytest.raises(OptionError, match=r"'b'.*-1.0.*support"):
        ps.unconstrain({"b": -1.0})
    with pytest.raises(OptionError, match="missing values for parameter"):
        ps.unconstrain({})
    with pytest.raises(OptionError, match="duplicate"):
        ParameterSet([Parameter("b"), Parameter("b")])
    with pytest.raises(KeyError, match="Available parameters are b"):
        ps["c"]


@pytest.mark.parametrize(
    ("lower", "upper", "ends"),
    [(0.0, math.inf, (0.0, math.inf)), (-math.inf, 2.0, (2.0, -math.inf)),
     (-1.0, 3.0, (-1.0, 3.0))],
)
def test_extreme_unconstrained_values_give_the_bounds_without_warnings(
    lower: float, upper: float, ends: tuple[float, float]
) -> None:
    p = Parameter("x", lower=lower, upper=upper)
    u = np.array([-1e4, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning would fail here
        x = p.constrain(u)
        assert p.constrain(1e4) == ends[1]
        assert np.all(np.isfinite(p.dconstrain(u)) | np.isposinf(p.dconstrain(u)))
        ps = ParameterSet([p])
        assert float(ps.constrain(u[1:])["x"]) == ends[1]
    np.testing.assert_array_equal(x, ends)
    xt = p.constrain(torch.tensor(u, dtype=torch.float64)).numpy()
    np.testing.assert_array_equal(xt, ends)
