"""The magnitude laws of pystats.maglaw: incomplete gamma against mpmath, normalisation,
density = -dS/dm, special-case limits, the moment-magnitude map and the simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from pystats.maglaw import laws
from pystats.maglaw.incgamma import log_upper_gamma, log_upper_gamma_np

mpmath = pytest.importorskip("mpmath")

SHAPES = [-4.0, -3.0, -1.5, -1.0, -2 / 3, -0.3, -0.01, 0.0, 0.01, 0.2, 0.5, 1.0, 2.5, 5.0, 25.0]
XS = [1e-12, 1e-8, 1e-3, 0.1, 0.5, 0.99, 1.0, 1.01, 3.0, 10.0, 50.0, 200.0, 1e4, 1e6]

PARAMS = {
    "gr": {"b": 1.0},
    "tapered_gr": {"b": 0.9, "corner_magnitude": 3.0},
    "gamma": {"b": 0.8, "corner_magnitude": 2.5},
    "exponential_moment": {"corner_magnitude": 1.5},
    "weibull": {"gamma": 0.6, "corner_magnitude": 2.0},
    "generalized_gamma": {"b": 1.2, "gamma": 0.7, "corner_magnitude": 2.8},
}
M_T = 1.0


def test_log_upper_gamma_matches_mpmath_at_30_digits():
    mpmath.mp.dps = 30
    a, x = np.meshgrid(SHAPES, XS, indexing="ij")
    got = log_upper_gamma_np(a, x)
    ref = np.array([[float(mpmath.log(mpmath.gammainc(ai, xi, mpmath.inf)))
                     for ai, xi in zip(ra, rx, strict=True)] for ra, rx in zip(a, x, strict=True)])
    rel = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
    assert rel.max() < 1e-10, (a.ravel()[rel.argmax()], x.ravel()[rel.argmax()], rel.max())


def test_log_upper_gamma_below_the_panels_matches_mpmath():
    # x below x_0 ~ 1e-14 (a steep taper far above the threshold): the panels start at x_0
    # and the piece from x to x_0 is added in closed form; before, the value was garbage
    mpmath.mp.dps = 30
    shapes = [-4.0, -1.0, -0.3, -1e-10, 0.0, 1e-10, 0.4, 2.7, 25.0]
    xs = [1e-300, 1e-60, 1e-20, 1e-15, 4e-15, 1e-14]
    a, x = np.meshgrid(shapes, xs, indexing="ij")
    got = log_upper_gamma_np(a, x)
    ref = np.array([[float(_log_gamma_mp(ai, xi)) for ai, xi in zip(ra, rx, strict=True)]
                    for ra, rx in zip(a, x, strict=True)])
    rel = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
    assert rel.max() < 1e-10, (a.ravel()[rel.argmax()], x.ravel()[rel.argmax()], rel.max())
    for a0, x0 in [(-1.5, 1e-30), (0.5, 1e-30), (3.0, 1e-20)]:
        at = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
        xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        log_upper_gamma(at, xt).backward()
        da = float(mpmath.diff(lambda t, x0=x0: _log_gamma_mp(t, x0), a0))
        assert at.grad.item() == pytest.approx(da, rel=1e-7)
        dx = float(mpmath.diff(lambda t, a0=a0: _log_gamma_mp(a0, t), x0, h=x0 * 1e-8))
        assert xt.grad.item() == pytest.approx(dx, rel=1e-6)


def test_log_upper_gamma_from_log_x_where_x_underflows():
    # x = exp(w) underflows to 0 for w < -745 (a Laplace draw with a taper exponent of
    # hundreds); with log_x the value is the closed form, not NaN
    mpmath.mp.dps = 30
    for a0, w0 in [(-0.0012, -11000.0), (-1.5, -800.0), (0.7, -2000.0)]:
        got = float(log_upper_gamma(torch.tensor(a0, dtype=torch.float64),
                                    torch.exp(torch.tensor(w0, dtype=torch.float64)),
                                    log_x=torch.tensor(w0, dtype=torch.float64)))
        ref = float(_log_gamma_mp(a0, mpmath.exp(w0)))
        assert got == pytest.approx(ref, rel=1e-10)


def _log_gamma_mp(a, x):
    return mpmath.log(mpmath.gammainc(a, x, mpmath.inf))


def test_log_upper_gamma_gradients_match_mpmath():
    mpmath.mp.dps = 30
    for a0, x0 in [(-1.0, 1e-4), (-0.5, 0.3), (0.7, 0.2), (2.0, 5.0), (-2.0, 40.0)]:
        a = torch.tensor(a0, dtype=torch.float64, requires_grad=True)
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        log_upper_gamma(a, x).backward()
        da = float(mpmath.diff(lambda t, x0=x0: _log_gamma_mp(t, x0), a0))
        dx = float(mpmath.diff(lambda t, a0=a0: _log_gamma_mp(a0, t), x0))
        assert a.grad.item() == pytest.approx(da, rel=1e-7, abs=1e-9)
        assert x.grad.item() == pytest.approx(dx, rel=1e-7, abs=1e-9)


def test_closed_forms_of_log_upper_gamma():
    # Gamma(1, x) = e^-x; Gamma(0, x) = E1(x); Gamma(1/2, x) = sqrt(pi) erfc(sqrt x)
    from scipy.special import erfc, exp1

    x = np.array([1e-6, 0.01, 0.5, 2.0, 30.0])
    np.testing.assert_allclose(log_upper_gamma_np(1.0, x), -x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(log_upper_gamma_np(0.0, x), np.log(exp1(x)), rtol=1e-11)
    np.testing.assert_allclose(log_upper_gamma_np(0.5, x),
                               np.log(math.sqrt(math.pi) * erfc(np.sqrt(x))), rtol=1e-11)


@pytest.mark.parametrize("law", laws.LAWS)
def test_density_integrates_to_one_and_is_minus_survival_derivative(law):
    p = PARAMS[law]
    f = lambda m: math.exp(float(laws.log_density_np(law, m, M_T, p)))  # noqa: E731
    total, _ = integrate.quad(f, M_T, M_T + 40, limit=400, points=[M_T + 1, M_T + 3])
    assert total == pytest.approx(1.0, abs=1e-9)
    m = np.array([1.2, 2.0, 2.9, 3.6])
    h = 1e-6  # f = -S d(log S)/dm, by central differences of log S
    ls = laws.log_survival_np(law, m, M_T, p)
    up, down = laws.log_survival_np(law, m + h, M_T, p), laws.log_survival_np(law, m - h, M_T, p)
    dls = (up - down) / (2 * h)
    np.testing.assert_allclose(laws.log_density_np(law, m, M_T, p), ls + np.log(-dls), atol=1e-6)
    assert laws.log_survival_np(law, np.array([M_T]), M_T, p)[0] == pytest.approx(0.0, abs=1e-14)


def test_generalized_gamma_survival_against_mpmath_in_moment():
    """S(M) = Gamma(a, (M/Mc)^g) / Gamma(a, (Mt/Mc)^g), M from Mw = (2/3)(log10 M0 - 9.1)."""
    mpmath.mp.dps = 30
    b, g, mc = 1.2, 0.7, 2.8
    beta = b / 1.5
    a = -beta / g
    M0t = mpmath.mpf(10) ** (mpmath.mpf(1.5) * M_T + mpmath.mpf("9.1"))
    Mc = mpmath.mpf(10) ** (mpmath.mpf(1.5) * mc + mpmath.mpf("9.1"))
    for m in [1.0, 1.7, 2.8, 3.5, 4.5]:
        M0 = mpmath.mpf(10) ** (mpmath.mpf(1.5) * m + mpmath.mpf("9.1"))
        ref = mpmath.log(mpmath.gammainc(a, (M0 / Mc) ** g, mpmath.inf)
                         / mpmath.gammainc(a, (M0t / Mc) ** g, mpmath.inf))
        got = laws.log_survival_np("generalized_gamma", np.array([m]), M_T,
                                   {"b": b, "gamma": g, "corner_magnitude": mc})[0]
        assert got == pytest.approx(float(ref), rel=1e-10, abs=1e-12)


def test_special_cases_of_the_generalized_gamma():
    m = np.linspace(M_T, M_T + 4, 9)
    gg = lambda **p: laws.log_survival_np("generalized_gamma", m, M_T, p)  # noqa: E731
    # gamma = GG with gamma = 1
    np.testing.assert_allclose(
        gg(b=0.8, gamma=1.0, corner_magnitude=2.5),
        laws.log_survival_np("gamma", m, M_T, {"b": 0.8, "corner_magnitude": 2.5}), atol=1e-11)
    # Weibull = GG with beta = -gamma (b = -1.5 gamma)
    np.testing.assert_allclose(
        gg(b=-0.9, gamma=0.6, corner_magnitude=2.0),
        laws.log_survival_np("weibull", m, M_T, {"gamma": 0.6, "corner_magnitude": 2.0}),
        atol=1e-11)
    # exponential in moment = gamma with beta = -1 (b = -1.5)
    np.testing.assert_allclose(
        laws.log_survival_np("gamma", m, M_T, {"b": -1.5, "corner_magnitude": 1.5}),
        laws.log_survival_np("exponential_moment", m, M_T, {"corner_magnitude": 1.5}),
        atol=1e-11)
    # GR: corner far above the data
    np.testing.assert_allclose(gg(b=1.1, gamma=0.8, corner_magnitude=M_T + 14),
                               -1.1 * math.log(10) * (m - M_T), atol=1e-6)


def test_tapered_gr_is_the_gr_family_tapered_law():
    from pystats.gr.likelihood import tapered_log_survival

    m = torch.linspace(M_T, M_T + 3, 7, dtype=torch.float64)
    b, c = torch.tensor(0.9, dtype=torch.float64), torch.tensor(3.0, dtype=torch.float64)
    ref = tapered_log_survival(m, b, c, M_T)
    got = laws.log_survival("tapered_gr", m, M_T, {"b": b, "corner_magnitude": c})
    torch.testing.assert_close(got, ref, rtol=1e-13, atol=1e-13)


def test_bin_mass_sums_to_the_survival():
    p = {k: torch.tensor(v, dtype=torch.float64) for k, v in PARAMS["generalized_gamma"].items()}
    lo = torch.tensor(M_T + 0.1 * np.arange(30), dtype=torch.float64)
    mass = torch.exp(laws.bin_log_mass("generalized_gamma", lo, 0.1, p))
    t = lambda x: laws.log_tail("generalized_gamma", torch.tensor(x, dtype=torch.float64), p)  # noqa: E731
    assert float(mass.sum() + torch.exp(t(M_T + 3.0))) == pytest.approx(float(torch.exp(t(M_T))),
                                                                        rel=1e-12)


def test_moment_magnitude_map():
    assert laws.magnitude_from_moment(laws.moment_from_magnitude(6.0)) == pytest.approx(6.0)
    # Hanks & Kanamori: Mw 6.0 has M0 = 10^18.1 N m
    assert laws.moment_from_magnitude(6.0) == pytest.approx(10 ** 18.1)


@pytest.mark.parametrize("law", ["gr", "exponential_moment", "generalized_gamma"])
def test_simulated_magnitudes_follow_the_law(law):
    p = PARAMS[law]
    m = laws.simulate(4000, law, M_T, p, rng=3)
    cdf = lambda x: -np.expm1(laws.log_survival_np(law, np.maximum(x, M_T), M_T, p))  # noqa: E731
    assert stats.kstest(m, cdf).pvalue > 0.01
