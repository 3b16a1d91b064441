"""b-value estimators: closed forms, maximum likelihood, recovery, SE calibration, b-positive."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import optimize
from test_standard_errors import binomial_acceptance

from pystats.errors import DataError, DataWarning, OffGridWarning, OptionError
from pystats.gr.distributions import gr_logpmf, simulate_gr
from pystats.gr.estimators import (
    B_METHODS,
    BValueResult,
    a_value,
    b_aki_utsu,
    b_positive,
    b_tinti_mulargia,
    b_value,
)

LN10 = math.log(10)
B_VALUES = (0.8, 1.0, 1.3)


# ----------------------------------------------------------------------------- closed forms
def test_hand_computed_values() -> None:
    m = np.array([2.0, 2.0, 2.1, 2.3])  # mean 2.1
    # Tinti & Mulargia: ln(1 + 0.1/0.1) / (0.1 ln 10) = log10(2)/0.1
    t = b_tinti_mulargia(m, 2.0, 0.1)
    assert t.b == pytest.approx(math.log10(2) / 0.1, rel=1e-12)
    q = 10 ** (-t.b * 0.1)  # = 1/2
    assert t.se == pytest.approx((1 - q) / (0.1 * math.sqrt(4 * q)) / LN10, rel=1e-12)
    # Aki–Utsu: log10(e) / (2.1 - 1.95); Shi–Bolt with sum of squares 0.06
    a = b_aki_utsu(m, 2.0, 0.1)
    assert a.b == pytest.approx(math.log10(math.e) / 0.15, rel=1e-12)
    shi_bolt = LN10 * a.b**2 * math.sqrt(0.06 / 12)
    assert a.se_shi_bolt == pytest.approx(shi_bolt, rel=1e-10)
    # default: the Fisher SE of Aki's exponential likelihood, b/sqrt(n) (as the model's)
    assert a.se == a.se_fisher == a.se_aki == pytest.approx(a.b / 2)
    assert a.se_method == "fisher"
    sb = b_aki_utsu(m, 2.0, 0.1, se_method="shi_bolt")
    assert sb.se == pytest.approx(shi_bolt, rel=1e-10) and sb.se_method == "shi_bolt"
    assert b_value(m, 2.0, 0.1, se_method="shi_bolt").se_shi_bolt == pytest.approx(
        LN10 * t.b**2 * math.sqrt(0.06 / 12), rel=1e-10
    )
    with pytest.raises(OptionError, match="se_method='bootstrap' is not allowed"):
        b_value(m, 2.0, 0.1, se_method="bootstrap")
    assert a.a == pytest.approx(math.log10(4) + a.b * 2.0)


def test_aki_utsu_is_aki_on_the_lower_bin_edge() -> None:
    """Utsu's correction = Aki's continuous estimator with mc replaced by mc - delta_m/2."""
    m = simulate_gr(500, 1.0, 3.0, 0.1, rng=1)
    binned = b_aki_utsu(m, 3.0, 0.1)
    cont = b_aki_utsu(m, 2.95, 0.0)
    assert binned.b == pytest.approx(cont.b, rel=1e-12)


@pytest.mark.parametrize("b", B_VALUES)
def test_tinti_is_the_maximum_of_the_geometric_likelihood(b: float) -> None:
    m = simulate_gr(3000, b, 2.0, 0.1, rng=2)

    def nll(bb: float) -> float:
        return -float(np.sum(gr_logpmf(m, bb, 2.0, 0.1)))

    opt = optimize.minimize_scalar(
        nll, bounds=(0.2, 3.0), method="bounded", options={"xatol": 1e-10}
    )
    res = b_tinti_mulargia(m, 2.0, 0.1)
    assert res.b == pytest.approx(opt.x, abs=1e-6)
    # Fisher SE = 1/sqrt(observed information), which equals the expected one at the MLE
    h = 1e-4
    info = (nll(res.b + h) - 2 * nll(res.b) + nll(res.b - h)) / h**2
    assert res.se == pytest.approx(1 / math.sqrt(info), rel=1e-4)


def test_binned_estimators_agree_as_bins_shrink() -> None:
    """Tinti–Mulargia and Aki–Utsu differ by O(delta_m^2); both tend to Aki (1965)."""
    rng = np.random.default_rng(3)
    x = 2.0 + rng.exponential(1 / LN10, size=4000)
    cont = b_tinti_mulargia(x, 2.0, 0.0).b
    assert b_aki_utsu(x, 2.0, 0.0).b == pytest.approx(cont, rel=1e-12)
    for dm in (0.1, 0.01):
        xb = np.round(2.0 + dm * np.floor((x - 2.0) / dm + 0.5), 10)
        t, a = b_tinti_mulargia(xb, 2.0, dm).b, b_aki_utsu(xb, 2.0, dm).b
        assert abs(t - a) < 0.2 * (LN10 * dm) ** 2 * t  # (beta dm)^2/12 relative, roughly
        assert abs(t - cont) < 3 * dm


def test_a_value() -> None:
    assert a_value(1000, 1.0, 2.0) == pytest.approx(5.0)
    assert a_value(1000, 1.0, 2.0, duration=10.0) == pytest.approx(4.0)
    with pytest.raises(OptionError, match="n must"):
        a_value(0, 1.0, 2.0)
    with pytest.raises(OptionError, match="duration"):
        a_value(10, 1.0, 2.0, duration=0.0)


# ----------------------------------------------------------------------------- recovery
@pytest.mark.parametrize("b", B_VALUES)
@pytest.mark.parametrize("dm", [0.1, 0.0])
@pytest.mark.parametrize("method", B_METHODS)
def test_recovery_within_three_se(b: float, dm: float, method: str) -> None:
    seed = int(100 * b) + int(1000 * dm) + B_METHODS.index(method)
    m = simulate_gr(5000, b, 2.0, dm, rng=seed)
    r = b_value(m, 2.0, dm, method=method)
    assert r.method == method
    assert abs(r.b - b) < 3 * r.se
    if method == "positive":
        # P(D >= delta_m) = q / (1 + q) for i.i.d. geometric bins, 1/2 when continuous
        q = 10 ** (-b * dm)
        p = q / (1 + q) if dm > 0 else 0.5
        assert abs(r.n - 4999 * p) < 4 * math.sqrt(4999 * p * (1 - p)) * 1.5  # dependent pairs
    else:
        assert r.n == 5000
    lo, hi = r.ci(0.99)
    assert lo < r.b < hi


def test_delta_m_is_inferred() -> None:
    m = simulate_gr(2000, 1.0, 2.0, 0.1, rng=4)
    r = b_value(m, 2.0)
    assert r.delta_m == 0.1
    assert r.b == b_value(m, 2.0, 0.1).b


def _z_scores(method: str, dm: float, n_sim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = []
    for i in range(n_sim):
        b = B_VALUES[i % 3]
        r = b_value(simulate_gr(800, b, 2.0, dm, rng=rng), 2.0, dm, method=method)
        z.append((r.b - b) / r.se)
    return np.array(z)


@pytest.mark.parametrize("dm", [0.1, 0.0])
@pytest.mark.parametrize("method", B_METHODS)
def test_standard_errors_are_calibrated(dm: float, method: str) -> None:
    """|z| < 1.645 over 1000 catalogs: the count must lie in the two-sided binomial
    acceptance region of a 90 % coverage at alpha = 0.01, which a true coverage of 0.85
    leaves with probability 0.99 (400 catalogs in [0.855, 0.945] did so with
    probability 0.58)."""
    z = _z_scores(method, dm, 1000, seed=5)
    lo, hi = binomial_acceptance(1000)
    assert lo <= np.sum(np.abs(z) < 1.645) <= hi
    assert abs(np.mean(z)) < 0.2


@pytest.mark.parametrize("dm", [0.1, 0.0])
def test_shi_bolt_standard_errors_are_calibrated(dm: float) -> None:
    """The Shi–Bolt SE (se_method="shi_bolt") also covers 90 % at |z| < 1.645 (1000
    catalogs, two-sided binomial region as above)."""
    rng = np.random.default_rng(15)
    z = []
    for i in range(1000):
        b = B_VALUES[i % 3]
        m = simulate_gr(800, b, 2.0, dm, rng=rng)
        r = b_value(m, 2.0, dm, method="aki_utsu", se_method="shi_bolt")
        z.append((r.b - b) / r.se)
    lo, hi = binomial_acceptance(1000)
    assert lo <= np.sum(np.abs(z) < 1.645) <= hi


@pytest.mark.slow
@pytest.mark.parametrize("dm", [0.1, 0.0])
@pytest.mark.parametrize("method", B_METHODS)
def test_standard_error_spread_over_many_catalogs(dm: float, method: str) -> None:
    """sd(z) over 3000 catalogs is 1 when the SE is right (sd of the sd ~ 0.013).

    Aki–Utsu on 0.1 bins carries the O((beta delta_m)^2) bias of Utsu's correction: its mean
    z is about -0.15 at n = 800, still inside the bound below.
    """
    z = _z_scores(method, dm, 3000, seed=9)
    assert 0.95 <= np.std(z) <= 1.05
    assert abs(np.mean(z)) < 0.2


# ----------------------------------------------------------------------------- b-positive
def test_positive_binned_differences_are_geometric() -> None:
    """P(K1 - K2 = k | K1 - K2 >= 1) = (1 - q) q^(k - 1) for i.i.d. geometric K1, K2."""
    q = 10 ** (-0.1)
    kmax = 400
    pk = (1 - q) * q ** np.arange(kmax)
    diff = np.array([np.sum(pk[k:] * pk[: kmax - k]) for k in range(1, 30)])
    np.testing.assert_allclose(
        diff / diff.sum() * (1 - q**29), (1 - q) * q ** np.arange(29), rtol=1e-10
    )


def _stai_catalog(n: int, b: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Time-ordered GR catalog with short-term aftershock incompleteness.

    After each detected M >= 4 event the detection threshold jumps to M_big - 0.5 and decays
    back to 2.0 over ~100 events (a hard threshold, as in van der Elst 2021, Fig. 1).
    Returns (detected magnitudes, all magnitudes).
    """
    m = simulate_gr(n, b, 2.0, 0.1, rng=rng)
    keep = np.zeros(n, dtype=bool)
    thr, big, since = 2.0, 0.0, 10**9
    for i, mi in enumerate(m):
        thr = 2.0 + max(big - 2.5, 0.0) * math.exp(-since / 100.0)
        since += 1
        if mi >= thr - 1e-9:
            keep[i] = True
            if mi >= 4.0:
                big, since = mi, 0
    return m[keep], m


def test_b_positive_recovers_b_under_short_term_incompleteness() -> None:
    rng = np.random.default_rng(6)
    det, _ = _stai_catalog(60_000, 1.0, rng)
    classical = b_tinti_mulargia(det, 2.0, 0.1)
    assert 1.0 - classical.b > 3 * classical.se  # biased low by the missing small events
    for dmc in (0.1, 0.2, 0.3):
        pos = b_positive(det, 0.1, dmc)
        assert pos.method == "positive" and pos.dmc == pytest.approx(dmc)
        assert abs(pos.b - 1.0) < 3 * pos.se
        assert pos.n == int(np.sum(np.round(np.diff(det), 1) >= dmc - 1e-9))


def test_b_positive_options() -> None:
    m = simulate_gr(3000, 1.0, 2.0, 0.1, rng=7)
    fwd = b_positive(m, 0.1)
    rev = b_positive(m[::-1], 0.1, times=np.arange(m.size)[::-1])  # sorted back by time
    assert rev.b == fwd.b and rev.n == fwd.n
    assert b_positive(m, 0.1, 0.15).dmc == pytest.approx(0.2)  # rounded up to the grid
    cut = b_positive(m, 0.1, mc=2.5)
    kept = m[m >= 2.45]
    assert cut.mc == 2.5 and cut.n == int(np.sum(np.round(np.diff(kept), 1) >= 0.1 - 1e-9))
    via = b_value(m, 2.5, 0.1, method="positive")
    assert via.b == cut.b
    with pytest.raises(OptionError, match="dmc"):
        b_positive(m, 0.1, -0.1)
    with pytest.raises(DataError, match="times"):
        b_positive(m, 0.1, times=np.arange(3))
    with pytest.raises(DataError, match="at least 2"):
        b_positive([2.0, 2.1, 2.0], 0.1)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("est", [b_aki_utsu, b_tinti_mulargia])
def test_errors_name_the_field(est) -> None:
    m = np.array([2.0, 2.1, 2.5, 3.0])
    with pytest.raises(DataError, match="m contains 1 non-finite"):
        est(np.array([2.0, np.nan, 2.1]), 2.0, 0.1)
    with pytest.raises(DataError, match=r"mc=4\.0 is above every magnitude"):
        est(m, 4.0, 0.1)
    with pytest.raises(DataError, match="only 1 magnitude"):
        est(m, 3.0, 0.1)
    with pytest.raises(DataError, match="delta_m"):
        est(m, 2.0, -0.1)
    with pytest.raises(DataError, match="mc must be finite"):
        est(m, np.nan, 0.1)
    with pytest.raises(DataError, match="lowest bin"):
        est([2.0, 2.0, 2.0], 2.0, 0.1)
    with pytest.warns(DataWarning, match="not on the grid"):
        est([2.0, 2.03, 2.2], 2.0, 0.1)


@pytest.mark.parametrize("method", ["tinti", "aki_utsu", "positive"])
def test_a_few_off_grid_values_do_not_change_the_bin_width(method: str) -> None:
    """Issue #6.13: 3 of 2000 values off the 0.1 grid moved delta_m to 0.01 and b from
    1.010 to 1.122 (tinti) without a warning; now delta_m stays 0.1, the stray values are
    counted in their bins (so b is that of the binned catalogue) and a warning names them."""
    m = simulate_gr(2000, 1.0, 2.0, 0.1, rng=1)
    stray = m.copy()
    stray[[1, 2, 3]] = [2.03, 2.57, 3.14]
    binned = stray.copy()
    binned[[1, 2, 3]] = [2.0, 2.6, 3.1]
    with pytest.warns(OffGridWarning, match=r"3 of .* not on the grid .*2\.03, 2\.57, 3\.14"):
        r = b_value(stray, 2.0, method=method)
    ref = b_value(binned, 2.0, 0.1, method=method)
    assert r.delta_m == 0.1
    assert r.b == pytest.approx(ref.b, rel=1e-12) and r.n == ref.n
    assert abs(r.b - b_value(m, 2.0, method=method).b) < 0.01


def test_b_value_dispatch_errors() -> None:
    m = [2.0, 2.1, 2.5]
    with pytest.raises(OptionError, match="allowed: tinti, aki_utsu, positive"):
        b_value(m, 2.0, 0.1, method="ml")
    with pytest.raises(OptionError, match="dmc applies only"):
        b_value(m, 2.0, 0.1, method="tinti", dmc=0.2)


def test_result_is_frozen_and_input_untouched() -> None:
    m = simulate_gr(100, 1.0, 2.0, 0.1, rng=8)[::-1]
    before = m.copy()
    r = b_value(m, 2.0, 0.1)
    np.testing.assert_array_equal(m, before)
    assert isinstance(r, BValueResult)
    assert r.beta == pytest.approx(r.b * LN10) and r.se_beta == pytest.approx(r.se * LN10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.b = 2.0  # type: ignore[misc]
    with pytest.raises(OptionError, match="level"):
        r.ci(95)
