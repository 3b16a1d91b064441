"""Gutenberg–Richter distributions: closed forms, normalisation, samplers.

References used as independent checks:
* numerical integration (scipy.integrate.quad) of the densities;
* scipy.stats.exponnorm for the detection model, which is an exponentially modified
  Gaussian (shown in models/gutenberg_richter.md);
* mpmath (a dependency of torch via sympy) at 1200 digits for the far tails;
* Hanks & Kanamori (1979): M0 = 10**(1.5 Mw + 9.1) N m.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from pystats.errors import DataError, OffGridWarning, OptionError
from pystats.gr.distributions import (
    bin_magnitudes,
    detection_cdf,
    detection_logpdf,
    detection_logpmf_binned,
    detection_logsf,
    gr_logpmf,
    gr_survival,
    infer_delta_m,
    magnitude_from_moment,
    moment_from_magnitude,
    simulate_detection,
    simulate_gr,
    simulate_tapered_gr,
    tapered_gr_logpdf,
    tapered_gr_logpmf_binned,
    tapered_gr_logsf,
    tapered_gr_survival,
)

LN10 = math.log(10)
B_VALUES = (0.8, 1.0, 1.3)


def grid(lo: float, hi: float, dm: float) -> np.ndarray:
    return np.round(lo + dm * np.arange(round((hi - lo) / dm) + 1), 10)


# ----------------------------------------------------------------------------- binning
@pytest.mark.parametrize("dm", [1.0, 0.5, 0.2, 0.1, 0.05, 0.01])
def test_infer_delta_m_finds_the_grid(dm: float) -> None:
    rng = np.random.default_rng(0)
    m = np.round(2.0 + dm * rng.integers(0, 40, size=500), 10)
    assert infer_delta_m(m) == dm


def test_infer_delta_m_float_noise_offset_grid_and_float32() -> None:
    noisy = 2.0 + 0.1 * np.arange(30)  # 2.3000000000000003 and friends
    assert infer_delta_m(noisy) == 0.1
    assert infer_delta_m([2.05, 2.15, 2.45, 3.05]) == 0.1  # grid offset from zero
    assert infer_delta_m(np.array([2.3, 2.31, 2.47], dtype=np.float32)) == 0.01


def test_infer_delta_m_is_robust_to_a_few_off_grid_values() -> None:
    """Issue #6.13: 3 stray values among 2000 on a 0.1 grid used to give delta_m = 0.01."""
    m = simulate_gr(2000, 1.0, 2.0, 0.1, rng=1)
    stray = m.copy()
    stray[[1, 2, 3]] = [2.03, 2.57, 3.14]
    with pytest.warns(OffGridWarning, match=r"3 of 2000 .*\(e\.g\. 2\.03, 2\.57, 3\.14\)"):
        assert infer_delta_m(stray) == 0.1
    # an offset grid (2.05, 2.15, ...) whose smallest value is itself off the grid
    off = np.round(m + 0.05, 10)
    off[0] = 1.98
    with pytest.warns(OffGridWarning, match="1 of 2000 .* through 2.05"):
        assert infer_delta_m(off) == 0.1
    # 6 % off the 0.1 grid (more than 5 %): the finer grid that holds them all is the step
    fine = m.copy()
    fine[:120] = np.round(fine[:120] + 0.01, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OffGridWarning)
        assert infer_delta_m(fine) == 0.01


def test_infer_delta_m_continuous_and_errors() -> None:
    rng = np.random.default_rng(1)
    assert infer_delta_m(2 + rng.exponential(0.43, size=50)) == 0.0
    with pytest.raises(DataError, match="distinct"):
        infer_delta_m([2.0, 2.0])
    with pytest.raises(DataError, match="m contains 1 non-finite"):
        infer_delta_m([2.0, np.nan, 2.1])


def test_bin_magnitudes_rounds_half_up_without_float_noise() -> None:
    m = np.array([1.65, 1.649, 1.55, 2.3000000000000003, 0.04999])
    before = m.copy()
    out = bin_magnitudes(m, 0.1)
    np.testing.assert_array_equal(out, [1.7, 1.6, 1.6, 2.3, 0.0])
    np.testing.assert_array_equal(m, before)  # input untouched
    np.testing.assert_array_equal(bin_magnitudes([2.04, 2.11], 0.1, origin=0.05), [2.05, 2.15])
    out0 = bin_magnitudes(m, 0.0)
    np.testing.assert_array_equal(out0, m)
    assert out0 is not m
    with pytest.raises(DataError, match="delta_m"):
        bin_magnitudes(m, -0.1)


# ----------------------------------------------------------------------------- GR
@pytest.mark.parametrize("b", B_VALUES)
@pytest.mark.parametrize("dm", [0.1, 0.05])
def test_binned_gr_pmf_is_rounded_exponential_and_sums_to_one(b: float, dm: float) -> None:
    mc = 2.0
    x = grid(mc, mc + 30, dm)
    p = np.exp(gr_logpmf(x, b, mc, dm))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    # bin [x - dm/2, x + dm/2) of the exponential law started at mc - dm/2
    beta = b * LN10
    expected = np.exp(-beta * (x - mc)) - np.exp(-beta * (x - mc + dm))
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    # survival P(M >= x) = sum of the pmf from x upwards
    tail = np.cumsum(p[::-1])[::-1]
    np.testing.assert_allclose(gr_survival(x[:50], b, mc, dm), tail[:50], rtol=1e-10)


@pytest.mark.parametrize("b", B_VALUES)
def test_continuous_gr_density_and_survival(b: float) -> None:
    mc = 1.5
    total, _ = integrate.quad(lambda t: math.exp(gr_logpmf(t, b, mc, 0.0)), mc, np.inf)
    assert total == pytest.approx(1.0, rel=1e-9)
    for x in (1.5, 2.0, 3.7):
        tail, _ = integrate.quad(lambda t: math.exp(gr_logpmf(t, b, mc, 0.0)), x, np.inf)
        assert gr_survival(x, b, mc) == pytest.approx(tail, rel=1e-8)
    assert gr_logpmf(1.4, b, mc, 0.0) == -np.inf
    assert gr_survival(1.0, b, mc) == 1.0


def test_gr_logpmf_errors() -> None:
    with pytest.raises(DataError, match="not on the magnitude grid"):
        gr_logpmf([2.0, 2.03], 1.0, 2.0, 0.1)
    with pytest.raises(OptionError, match="b must be finite and > 0"):
        gr_logpmf([2.0], -1.0, 2.0, 0.1)
    with pytest.raises(DataError, match="delta_m"):
        gr_logpmf([2.0], 1.0, 2.0, -0.1)
    with pytest.raises(DataError, match="m contains"):
        gr_logpmf([2.0, np.inf], 1.0, 2.0, 0.1)
    assert gr_logpmf(1.9, 1.0, 2.0, 0.1) == -np.inf


# ----------------------------------------------------------------------------- tapered GR
def test_moment_magnitude_hanks_kanamori() -> None:
    # Hanks & Kanamori (1979): log10 M0 [N m] = 1.5 Mw + 9.1 (16.1 in dyne cm)
    assert moment_from_magnitude(7.0) == pytest.approx(10**19.6, rel=1e-12)
    assert moment_from_magnitude(6.0) == pytest.approx(1.2589e18, rel=1e-4)
    np.testing.assert_allclose(magnitude_from_moment(moment_from_magnitude([2.0, 9.1])), [2, 9.1])
    with pytest.raises(DataError, match="moment"):
        magnitude_from_moment(0.0)


@pytest.mark.parametrize("b", B_VALUES)
def test_tapered_survival_matches_moment_form(b: float) -> None:
    mc, corner = 4.0, 7.5
    m0t, m0c = moment_from_magnitude(mc), moment_from_magnitude(corner)
    x = np.array([4.0, 5.0, 6.5, 7.5, 8.2])
    m0 = moment_from_magnitude(x)
    kagan = (m0t / m0) ** (2 * b / 3) * np.exp((m0t - m0) / m0c)
    np.testing.assert_allclose(tapered_gr_survival(x, b, mc, corner), kagan, rtol=1e-10)
    assert tapered_gr_survival(3.0, b, mc, corner) == 1.0
    # no taper: pure GR
    np.testing.assert_allclose(
        tapered_gr_survival(x, b, mc, np.inf), gr_survival(x, b, mc), rtol=1e-12
    )


@pytest.mark.parametrize("b", B_VALUES)
def test_tapered_density_integrates_to_survival(b: float) -> None:
    mc, corner = 4.0, 6.5

    def pdf(t: float) -> float:
        return math.exp(tapered_gr_logpdf(t, b, mc, corner))

    total, _ = integrate.quad(pdf, mc, 12.0, points=[corner], limit=200)
    assert total == pytest.approx(1.0, rel=1e-9)
    for x in (4.5, 6.0, 7.0):
        tail, _ = integrate.quad(pdf, x, 12.0, limit=200)
        assert math.exp(tapered_gr_logsf(x, b, mc, corner)) == pytest.approx(tail, rel=1e-7)
    assert tapered_gr_logpdf(3.9, b, mc, corner) == -np.inf


@pytest.mark.parametrize("b", B_VALUES)
def test_binned_tapered_pmf(b: float) -> None:
    mc, corner, dm = 4.0, 6.0, 0.1
    x = grid(mc, 10.0, dm)
    p = np.exp(tapered_gr_logpmf_binned(x, b, mc, corner, dm))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    direct = tapered_gr_survival(x - dm / 2, b, mc - dm / 2, corner) - tapered_gr_survival(
        x + dm / 2, b, mc - dm / 2, corner
    )
    np.testing.assert_allclose(p, direct, rtol=1e-9, atol=1e-300)
    # corner at infinity: the geometric law
    np.testing.assert_allclose(
        tapered_gr_logpmf_binned(x, b, mc, np.inf, dm), gr_logpmf(x, b, mc, dm), rtol=1e-12
    )
    # delta_m = 0: the density
    assert tapered_gr_logpmf_binned(5.0, b, mc, corner, 0.0) == tapered_gr_logpdf(
        5.0, b, mc, corner
    )


# ----------------------------------------------------------------------------- detection model
DETECTION_CASES = [(1.0, 1.0, 0.2), (0.8, 2.5, 0.35), (1.3, 0.0, 0.1), (1.0, 3.0, 1.0)]


@pytest.mark.parametrize(("b", "mu", "sigma"), DETECTION_CASES)
def test_detection_normaliser_closed_form(b: float, mu: float, sigma: float) -> None:
    """∫ exp(-beta m) Phi((m-mu)/sigma) dm = exp(-beta mu + beta^2 sigma^2 / 2) / beta."""
    beta = b * LN10
    shift = mu  # integrate exp(-beta (m - mu)) Phi(...) to keep numbers O(1)
    val, _ = integrate.quad(
        lambda t: math.exp(-beta * (t - shift)) * stats.norm.cdf((t - mu) / sigma),
        mu - 40 * sigma - 10 * beta * sigma**2,
        mu + 60 / beta,
        points=[mu - beta * sigma**2, mu],
        limit=400,
    )
    closed = math.exp(-beta * (mu - shift) + 0.5 * beta**2 * sigma**2) / beta
    assert val == pytest.approx(closed, rel=1e-8)


@pytest.mark.parametrize(("b", "mu", "sigma"), DETECTION_CASES)
def test_detection_cdf_matches_integral_and_exponnorm(b: float, mu: float, sigma: float) -> None:
    beta = b * LN10
    lo = mu - beta * sigma**2 - 40 * sigma
    x = mu + sigma * np.array([-3.0, -1.0, 0.0, 0.7, 2.0, 5.0])
    for xi in x:
        num, _ = integrate.quad(
            lambda t: math.exp(detection_logpdf(t, b, mu, sigma)), lo, xi, limit=400
        )
        assert detection_cdf(xi, b, mu, sigma) == pytest.approx(num, rel=1e-7, abs=1e-14)
    # exponentially modified Gaussian: Normal(mu - beta sigma^2, sigma) + Exponential(beta)
    emg = stats.exponnorm(1 / (beta * sigma), loc=mu - beta * sigma**2, scale=sigma)
    np.testing.assert_allclose(detection_cdf(x, b, mu, sigma), emg.cdf(x), rtol=1e-9)
    np.testing.assert_allclose(detection_logpdf(x, b, mu, sigma), emg.logpdf(x), rtol=1e-9)
    np.testing.assert_allclose(
        np.exp(detection_logsf(x, b, mu, sigma)) + detection_cdf(x, b, mu, sigma), 1.0, rtol=1e-13
    )
    assert detection_cdf(np.inf, b, mu, sigma) == 1.0
    assert detection_cdf(-np.inf, b, mu, sigma) == 0.0


def _mp_cdf(x: float, b: float, mu: float, sigma: float) -> mpmath.mpf:
    """F(x) at 1200 digits from the closed form (1 - F stays exact down to e**-2000)."""
    mpmath.mp.dps = 1200
    z = (mpmath.mpf(x) - mu) / sigma
    s = mpmath.mpf(b) * mpmath.log(10) * sigma
    phi = lambda t: mpmath.ncdf(t)  # noqa: E731
    return phi(z + s) - mpmath.exp(-s * z - s * s / 2) * phi(z)


@pytest.mark.parametrize("s", [0.2, 2.0, 10.0, 40.0])
def test_detection_cdf_tails_are_accurate_for_large_beta_sigma(s: float) -> None:
    b, mu = 1.0, 2.0
    sigma = s / LN10
    for z in (-30.0, -8.0, 0.0, 3.0, 30.0):
        x = mu + z * sigma
        ref = _mp_cdf(x, b, mu, sigma)
        logf = math.log(detection_cdf(x, b, mu, sigma)) if ref > 1e-300 else None
        if logf is not None:
            assert logf == pytest.approx(float(mpmath.log(ref)), rel=1e-8, abs=1e-12)
        ref_sf = 1 - ref
        assert float(detection_logsf(x, b, mu, sigma)) == pytest.approx(
            float(mpmath.log(ref_sf)), rel=1e-8, abs=1e-12
        )


@pytest.mark.parametrize(("b", "mu", "sigma"), [*DETECTION_CASES, (1.0, 1.0, 8.0)])
@pytest.mark.parametrize("dm", [0.1, 0.01])
def test_detection_binned_truncated_pmf_sums_to_one(
    b: float, mu: float, sigma: float, dm: float
) -> None:
    m_min = round(mu - 1.0, 10)
    beta = b * LN10
    x = grid(m_min, max(mu, m_min) + 40 / beta + 10 * sigma, dm)
    logp = detection_logpmf_binned(x, b, mu, sigma, dm, m_min)
    assert np.all(np.isfinite(logp))
    assert np.exp(logp).sum() == pytest.approx(1.0, abs=1e-10)
    # bin masses equal differences of the CDF (direct formula, away from cancellation)
    norm_ = 1 - detection_cdf(m_min - dm / 2, b, mu, sigma)
    if norm_ > 1e-3:  # (sigma = 8: 1 - F(m_min) underflows in the naive form, not in ours)
        hi, lo = x[:20] + dm / 2, x[:20] - dm / 2
        f = detection_cdf(hi, b, mu, sigma) - detection_cdf(lo, b, mu, sigma)
        np.testing.assert_allclose(np.exp(logp[:20]), f / norm_, rtol=1e-7)
    assert detection_logpmf_binned(m_min - dm, b, mu, sigma, dm, m_min) == -np.inf
    # untruncated: the whole grid
    xall = grid(round(mu - beta * sigma**2 - 12 * sigma, 1), x[-1], dm)
    p_all = np.exp(detection_logpmf_binned(xall, b, mu, sigma, dm, None))
    assert p_all.sum() == pytest.approx(1.0, abs=1e-9)


def test_detection_continuous_truncated_density_integrates_to_one() -> None:
    b, mu, sigma, m_min = 1.0, 1.0, 0.2, 0.8
    total, _ = integrate.quad(
        lambda t: math.exp(detection_logpmf_binned(t, b, mu, sigma, 0.0, m_min)),
        m_min,
        30.0,
        limit=200,
    )
    assert total == pytest.approx(1.0, rel=1e-9)
    assert detection_logpmf_binned(0.7, b, mu, sigma, 0.0, m_min) == -np.inf


def test_detection_errors() -> None:
    with pytest.raises(OptionError, match="sigma"):
        detection_logpdf([1.0], 1.0, 1.0, 0.0)
    with pytest.raises(OptionError, match="mu"):
        detection_cdf([1.0], 1.0, np.nan, 0.2)
    with pytest.raises(DataError, match="not on the magnitude grid"):
        detection_logpmf_binned([1.0, 1.05], 1.0, 1.0, 0.2, 0.1, 1.0)


# ----------------------------------------------------------------------------- samplers
def _chi2_pvalue(sample: np.ndarray, support: np.ndarray, logp: np.ndarray) -> float:
    """Pearson chi-square goodness of fit, tail bins pooled to expected counts >= 5."""
    n = sample.size
    counts = np.array([np.sum(np.isclose(sample, v)) for v in support], dtype=float)
    exp_ = n * np.exp(logp)
    assert counts.sum() == n, "sample values off the support grid"
    # pool the upper tail
    cut = np.flatnonzero(exp_ < 5)
    k = int(cut[0]) if cut.size else exp_.size
    obs = np.append(counts[:k], counts[k:].sum())
    ex = np.append(exp_[:k], n - exp_[:k].sum())
    return float(stats.chisquare(obs, ex).pvalue)


@pytest.mark.parametrize("b", B_VALUES)
def test_simulate_gr_binned_on_grid_and_geometric(b: float) -> None:
    m = simulate_gr(20000, b, 2.0, 0.1, rng=np.random.default_rng(11))
    assert m.size == 20000
    assert set(np.unique(m)) <= {round(2.0 + 0.1 * k, 1) for k in range(200)}  # exact decimals
    support = grid(2.0, m.max(), 0.1)
    assert _chi2_pvalue(m, support, gr_logpmf(support, b, 2.0, 0.1)) > 1e-3


@pytest.mark.parametrize("b", B_VALUES)
def test_simulate_gr_continuous_is_exponential(b: float) -> None:
    m = simulate_gr(5000, b, 1.0, rng=np.random.default_rng(12))
    p = stats.kstest(m, lambda t: 1 - gr_survival(t, b, 1.0)).pvalue
    assert p > 1e-3


def test_simulate_gr_reproducible_and_validates() -> None:
    a = simulate_gr(10, 1.0, 2.0, 0.1, rng=5)
    np.testing.assert_array_equal(a, simulate_gr(10, 1.0, 2.0, 0.1, rng=5))
    with pytest.raises(OptionError, match="n=-1 is not allowed"):
        simulate_gr(-1, 1.0, 2.0)
    with pytest.raises(OptionError, match="rng"):
        simulate_gr(3, 1.0, 2.0, rng="seed")


@pytest.mark.parametrize("b", B_VALUES)
def test_simulate_tapered_gr_matches_survival(b: float) -> None:
    mc, corner = 4.0, 5.5
    m = simulate_tapered_gr(5000, b, mc, corner, rng=np.random.default_rng(13))
    p = stats.kstest(m, lambda t: 1 - tapered_gr_survival(t, b, mc, corner)).pvalue
    assert p > 1e-3
    mb = simulate_tapered_gr(20000, b, mc, corner, 0.1, rng=np.random.default_rng(14))
    support = grid(mc, mb.max(), 0.1)
    assert _chi2_pvalue(mb, support, tapered_gr_logpmf_binned(support, b, mc, corner, 0.1)) > 1e-3


def test_simulate_detection_emg_path_matches_cdf() -> None:
    b, mu, sigma = 1.0, 1.0, 0.2
    m = simulate_detection(5000, b, mu, sigma, rng=np.random.default_rng(15))
    assert m.size == 5000
    assert stats.kstest(m, lambda t: detection_cdf(t, b, mu, sigma)).pvalue > 1e-3


def test_simulate_detection_thinning_path_matches_truncated_cdf() -> None:
    # m_min well above mu: the thinning construction is the efficient one
    b, mu, sigma, m_min = 1.0, 1.0, 0.3, 1.6
    m = simulate_detection(5000, b, mu, sigma, m_min=m_min, rng=np.random.default_rng(16))
    assert m.min() >= m_min
    f0 = detection_cdf(m_min, b, mu, sigma)
    cdf = lambda t: (detection_cdf(t, b, mu, sigma) - f0) / (1 - f0)  # noqa: E731
    assert stats.kstest(m, cdf).pvalue > 1e-3


def test_detection_law_is_thinned_gr() -> None:
    """Independent construction in the test: GR above a floor, kept with probability Phi."""
    b, mu, sigma, m_min = 1.0, 1.0, 0.2, 0.6
    rng = np.random.default_rng(17)
    x = m_min + rng.exponential(1 / (b * LN10), size=200_000)
    kept = x[rng.random(x.size) < stats.norm.cdf((x - mu) / sigma)]
    f0 = detection_cdf(m_min, b, mu, sigma)
    cdf = lambda t: (detection_cdf(t, b, mu, sigma) - f0) / (1 - f0)  # noqa: E731
    assert stats.kstest(kept, cdf).pvalue > 1e-3


def test_simulate_detection_binned_matches_pmf() -> None:
    b, mu, sigma, dm, m_min = 1.0, 1.0, 0.2, 0.1, 0.5
    m = simulate_detection(20000, b, mu, sigma, dm, m_min=m_min, rng=np.random.default_rng(18))
    assert m.min() >= m_min
    support = grid(m_min, m.max(), dm)
    logp = detection_logpmf_binned(support, b, mu, sigma, dm, m_min)
    assert _chi2_pvalue(m, support, logp) > 1e-3
