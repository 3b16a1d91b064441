"""The Omori–Utsu kernel: closed-form integrals (stable at p = 1) and the SOE approximation."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch

from pystats.errors import OptionError
from pystats.etas.kernels import (
    expm1_over_x,
    kernel,
    kernel_integral,
    kernel_integral_inf,
    soe_aliasing_error,
    soe_grid,
    soe_weights,
)

mpmath.mp.dps = 40


def _mp_integral(a: float, b: float, c: float, p: float) -> float:
    """High-precision reference: the antiderivative evaluated in 40-digit arithmetic."""
    a, b, c, p = (mpmath.mpf(x) for x in (a, b, c, p))
    if p == 1:
        return float(mpmath.log((b + c) / (a + c)))
    return float(((a + c) ** (1 - p) - (b + c) ** (1 - p)) / (p - 1))


@pytest.mark.parametrize("p", [0.3, 0.8, 1.0 - 1e-9, 1.0, 1.0 + 1e-12, 1.05, 1.6, 3.0])
@pytest.mark.parametrize(("a", "b", "c"), [(0.0, 1.0, 0.01), (0.0, 1e4, 1e-4),
                                           (2.5, 2.5 + 1e-7, 0.3), (0.99, 18.67, 0.04)])
def test_kernel_integral_matches_high_precision(a: float, b: float, c: float, p: float) -> None:
    got = float(kernel_integral(a, b, c, p))
    assert got == pytest.approx(_mp_integral(a, b, c, p), rel=1e-13)


def test_kernel_integral_matches_quadrature_torch() -> None:
    from scipy.integrate import quad

    a = torch.tensor([0.0, 0.5, 3.0], dtype=torch.float64)
    b = torch.tensor([2.0, 0.75, 30.0], dtype=torch.float64)
    got = kernel_integral(a, b, torch.tensor(0.05, dtype=torch.float64),
                          torch.tensor(1.3, dtype=torch.float64))
    for ai, bi, gi in zip(a.tolist(), b.tolist(), got.tolist(), strict=True):
        ref = quad(lambda s: (s + 0.05) ** -1.3, ai, bi, epsabs=0, epsrel=1e-13)[0]
        assert gi == pytest.approx(ref, rel=1e-11)


@pytest.mark.parametrize("p0", [1.0 - 0.06, 1.0 - 1e-3, 1.0 - 1e-7, 1.0, 1.0 + 1e-9, 1.0 + 2e-5,
                                1.0 + 0.04, 1.0 + 0.06])
def test_kernel_integral_derivatives_in_p_are_exact_through_p_equal_one(p0: float) -> None:
    """Value, d/dp and d²/dp² by autograd match 40-digit references on both sides of p = 1.

    The points straddle the switch between the Taylor series and expm1 (|(1-p) L| = 0.05)
    and p = 1 itself, where the p != 1 formula is 0/0.
    """
    big_l = mpmath.log(mpmath.mpf(100.01) / mpmath.mpf("0.01"))

    def f(q: mpmath.mpf) -> mpmath.mpf:
        x = (1 - q) * big_l
        phi = mpmath.expm1(x) / x if x != 0 else mpmath.mpf(1)
        return mpmath.mpf("0.01") ** (1 - q) * big_l * phi

    p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    v = kernel_integral(torch.tensor(0.0, dtype=torch.float64),
                        torch.tensor(100.0, dtype=torch.float64), 0.01, p)
    (g,) = torch.autograd.grad(v, p, create_graph=True)
    (h,) = torch.autograd.grad(g, p)
    got = [float(v.detach()), float(g.detach()), float(h)]
    q0 = mpmath.mpf(p0)
    want = [float(f(q0)), float(mpmath.diff(f, q0)), float(mpmath.diff(f, q0, 2))]
    # the derivatives are differences of terms of size L^k log(c)^m: compare on that scale
    scale = [float(big_l), float(big_l) ** 2, float(big_l) ** 3]
    for gi, wi, si in zip(got, want, scale, strict=True):
        assert math.isfinite(gi)
        assert abs(gi - wi) <= 1e-12 * si


def test_expm1_over_x_series_and_direct_agree_at_the_switch() -> None:
    q = np.array([-0.0500001, -0.0499999, 0.0, 0.0499999, 0.0500001])
    ref = np.array([float(mpmath.expm1(mpmath.mpf(x)) / x) if x else 1.0 for x in q])
    np.testing.assert_allclose(expm1_over_x(q), ref, rtol=5e-16, atol=0)


def test_kernel_integral_inf() -> None:
    assert float(kernel_integral_inf(np.array(0.0), 0.1, 1.5)) == pytest.approx(0.1**-0.5 / 0.5)
    assert math.isinf(float(kernel_integral_inf(np.array(0.0), 0.1, 1.0)))


@pytest.mark.parametrize("rtol", [1e-6, 1e-10])
@pytest.mark.parametrize("p", [0.3, 0.8, 1.0, 1.2, 1.6, 2.5])
@pytest.mark.parametrize("c", [1e-5, 1e-3, 1.0])
def test_soe_relative_error_is_below_rtol(rtol: float, p: float, c: float) -> None:
    span = 2e4
    grid = soe_grid(c, p, span, rtol=rtol)
    w, w0 = soe_weights(grid, c, p)
    t = np.concatenate([[0.0], np.logspace(-9, np.log10(span), 2000)])
    approx = w0 + np.exp(-np.outer(t, grid.rates)) @ w
    err = np.max(np.abs(approx / kernel(t, c, p) - 1.0))
    assert err < rtol
    # the a-priori aliasing estimate of the chosen step is what the rule delivers
    assert soe_aliasing_error(p, grid.step) <= rtol


def test_soe_weights_are_differentiable_and_match_numpy() -> None:
    grid = soe_grid(0.02, 1.1, 100.0)
    c = torch.tensor(0.02, dtype=torch.float64, requires_grad=True)
    p = torch.tensor(1.1, dtype=torch.float64, requires_grad=True)
    w, w0 = soe_weights(grid, c, p)
    wn, w0n = soe_weights(grid, 0.02, 1.1)
    np.testing.assert_allclose(w.detach().numpy(), wn, rtol=1e-14)
    assert float(w0.detach()) == pytest.approx(float(w0n), rel=1e-14)
    # d/dc of the SOE at t = 0.3 is the derivative of the kernel, -p (t + c)^(-p-1)
    rates = torch.tensor(np.array(grid.rates), dtype=torch.float64)
    value = w0 + (w * torch.exp(-rates * 0.3)).sum()
    gc, gp = torch.autograd.grad(value, (c, p))
    assert float(gc) == pytest.approx(-1.1 * 0.32**-2.1, rel=1e-8)
    assert float(gp) == pytest.approx(-math.log(0.32) * 0.32**-1.1, rel=1e-8)


def test_soe_grid_n_terms_and_errors() -> None:
    grid = soe_grid(0.01, 1.2, 1000.0, n_terms=40)
    assert grid.n_terms == 40
    with pytest.raises(OptionError, match="c="):
        soe_grid(0.0, 1.2, 10.0)
    with pytest.raises(OptionError, match="p="):
        soe_grid(0.1, -1.0, 10.0)
    with pytest.raises(OptionError, match="n_terms"):
        soe_grid(0.1, 1.0, 10.0, n_terms=2)
    with pytest.raises(OptionError, match="rtol"):
        soe_grid(0.1, 1.0, 10.0, rtol=0.0)
