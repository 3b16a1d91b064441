"""ETAS / Omori–Utsu simulation: sampling laws, expected counts, branching structure, guards."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

from pystats.errors import DataError, OptionError, PystatsWarning
from pystats.etas.kernels import kernel_integral
from pystats.etas.likelihood import etas_integral
from pystats.etas.omori import omori_integral
from pystats.etas.simulate import (
    branching_ratio,
    gr_mean_productivity,
    sample_kernel_delays,
    simulate_etas,
    simulate_omori,
)

SIM = {"mu": 2.0, "K": 0.035, "c": 0.05, "alpha": 1.5, "p": 1.2}


def expected_count(mu: float, K: float, c: float, alpha: float, p: float, b: float, mc: float,
                   m_ref: float, T: float, dt: float = 0.01) -> float:
    """E[N(0, T)] of ETAS without history: the renewal (Volterra) equation
    m(t) = mu + ∫_0^t K E[e^{α(M-M_ref)}] (t - s + c)^(-p) m(s) ds solved with cell-averaged
    exact kernel integrals (piecewise-constant m); converged to ~1e-9 relative at dt=0.01."""
    beta = b * math.log(10)
    amp = K * math.exp(alpha * (mc - m_ref)) * beta / (beta - alpha)

    def g2(x: float) -> float:  # ∫_0^x ∫_0^u (s + c)^(-p) ds du
        return (c ** (1 - p) * x - ((x + c) ** (2 - p) - c ** (2 - p)) / (2 - p)) / (p - 1)

    n = round(T / dt)
    G = np.array([g2(k * dt) for k in range(n + 2)])
    V = np.empty(n)
    V[0] = amp * G[1] / dt
    V[1:] = amp * (G[2:n + 1] - 2 * G[1:n] + G[0:n - 1]) / dt
    m = np.empty(n)
    for k in range(n):
        m[k] = (mu + (m[:k] @ V[k:0:-1] if k else 0.0)) / (1 - V[0])
    return float(m.sum() * dt)


# ----------------------------------------------------------------------------- laws
@pytest.mark.parametrize("p", [0.6, 1.0, 1.3, 2.5])
@pytest.mark.parametrize("lo", [0.0, 0.7])
def test_kernel_delays_follow_the_truncated_kernel(p: float, lo: float) -> None:
    rng = np.random.default_rng(5)
    c, hi = 0.02, 30.0
    x = sample_kernel_delays(np.full(20_000, lo), np.full(20_000, hi), c, p, rng)
    assert np.all((x >= lo) & (x <= hi))
    total = kernel_integral(lo, hi, c, p)
    cdf = lambda v: kernel_integral(np.full_like(v, lo), v, c, p) / total  # noqa: E731
    assert stats.kstest(x, cdf).pvalue > 1e-3


def test_branching_ratio_closed_forms() -> None:
    K, alpha, b, c, p, mc, mref = 0.02, 1.2, 1.0, 0.01, 1.15, 2.5, 3.0
    beta = b * math.log(10)
    e_a = quad(lambda m: beta * math.exp(-beta * (m - mc) + alpha * (m - mref)), mc, np.inf)[0]
    assert gr_mean_productivity(alpha, b, mc, mref) == pytest.approx(e_a, rel=1e-10)
    integral = quad(lambda t: (t + c) ** -p, 0, 100.0, limit=200)[0]
    assert branching_ratio(K, alpha, b, c, p, mc, mref, t_max=100.0) == pytest.approx(
        K * e_a * integral, rel=1e-9)
    assert branching_ratio(K, alpha, b, c, p, mc, mref) == pytest.approx(
        K * e_a * c ** (1 - p) / (p - 1), rel=1e-12)
    assert math.isinf(branching_ratio(K, alpha, b, c, 1.0, mc, mref))
    assert math.isinf(branching_ratio(K, 2.5, b, c, p, mc, mref))  # alpha >= b ln 10


# ----------------------------------------------------------------------------- Omori
def test_simulate_omori_count_and_law() -> None:
    rng = np.random.default_rng(2)
    K, c, p, ts, te = 30.0, 0.05, 1.1, 0.01, 20.0
    counts = np.array([simulate_omori(K, c, p, ts, te, rng).size for _ in range(300)])
    expected = float(omori_integral({"K": K, "c": c, "p": p}, ts, te))
    se = math.sqrt(expected / counts.size)  # Poisson
    assert abs(counts.mean() - expected) < 3 * se
    t = simulate_omori(K, c, p, ts, te, rng)
    cdf = lambda v: kernel_integral(np.full_like(v, ts), v, c, p) / kernel_integral(ts, te, c, p)  # noqa: E731
    assert np.all(np.diff(t) >= 0) and t[0] >= ts and t[-1] <= te
    assert stats.kstest(t, cdf).pvalue > 1e-3
    with pytest.raises(OptionError, match="0 <= t_start < t_end"):
        simulate_omori(K, c, p, 5.0, 1.0, rng)


# ----------------------------------------------------------------------------- ETAS
@pytest.fixture(scope="module")
def replicates() -> list:
    rng = np.random.default_rng(42)
    return [simulate_etas(**SIM, m_ref=3.0, t_end=50.0, mc=3.0, b=1.0, rng=rng)
            for _ in range(300)]


def test_expected_count_matches_renewal_theory(replicates) -> None:
    theory = expected_count(**SIM, b=1.0, mc=3.0, m_ref=3.0, T=50.0)
    n = np.array([len(r) for r in replicates])
    assert theory > 1.4 * SIM["mu"] * 50  # substantial clustering
    assert abs(n.mean() - theory) < 3 * n.std(ddof=1) / math.sqrt(n.size)


def test_counts_minus_compensator_have_mean_zero(replicates) -> None:
    """N(T) - Λ(0, T) is a zero-mean martingale: simulator and likelihood integral agree."""
    d = np.array([len(r) - float(etas_integral(SIM, r.times, r.magnitudes, 0.0, 50.0, 3.0))
                  for r in replicates])
    assert abs(d.mean()) < 3 * d.std(ddof=1) / math.sqrt(d.size)


def test_background_count_and_gr_magnitudes(replicates) -> None:
    bg = np.array([int(r.is_background.sum()) for r in replicates])
    assert abs(bg.mean() - SIM["mu"] * 50) < 3 * math.sqrt(SIM["mu"] * 50 / bg.size)
    excess = np.concatenate([r.magnitudes for r in replicates]) - 3.0
    assert excess.min() >= 0
    mean = 1 / math.log(10)
    assert abs(excess.mean() - mean) < 3 * mean / math.sqrt(excess.size)


def test_branching_structure_is_consistent(replicates) -> None:
    for r in replicates[:50]:
        assert np.all(np.diff(r.times) >= 0)
        assert np.all((r.times >= 0) & (r.times <= 50.0))
        kid = np.nonzero(r.parent >= 0)[0]
        par = r.parent[kid]
        assert np.all(r.times[par] <= r.times[kid])
        np.testing.assert_array_equal(r.generation[kid], r.generation[par] + 1)
        np.testing.assert_array_equal(r.generation == 0, (r.parent < 0) & (r.history_parent < 0))
    df = replicates[0].to_frame()
    assert list(df.columns) == ["time", "magnitude", "parent", "history_parent", "generation"]


def test_history_offspring_count_matches_its_integral() -> None:
    rng = np.random.default_rng(9)
    hist = ([-1.0, 0.0], [5.5, 6.0])
    P = {"mu": 0.0, "K": 0.01, "c": 0.02, "alpha": 1.0, "p": 1.1}
    n1 = []
    for _ in range(400):
        cat = simulate_etas(**P, m_ref=3.0, t_end=10.0, t_start=0.0, mc=3.0, b=1.0, rng=rng,
                            history=hist)
        n1.append(int((cat.history_parent >= 0).sum()))
        assert np.all(cat.generation[cat.history_parent >= 0] == 1)
    expected = sum(P["K"] * math.exp(P["alpha"] * (m - 3.0))
                   * float(kernel_integral(max(0.0 - t, 0.0), 10.0 - t, P["c"], P["p"]))
                   for t, m in zip(*hist, strict=True))
    n1 = np.array(n1)
    assert abs(n1.mean() - expected) < 3 * math.sqrt(expected / n1.size)


def test_custom_magnitude_sampler_and_reproducibility() -> None:
    def uniform_mags(rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(3.0, 4.0, n)

    a = simulate_etas(**SIM, m_ref=3.0, t_end=20.0, mc=3.0, magnitude_sampler=uniform_mags,
                      rng=123)
    b = simulate_etas(**SIM, m_ref=3.0, t_end=20.0, mc=3.0, magnitude_sampler=uniform_mags,
                      rng=123)
    np.testing.assert_array_equal(a.times, b.times)
    assert a.magnitudes.min() >= 3.0 and a.magnitudes.max() <= 4.0
    with pytest.raises(ValueError):
        a.times[0] = 1.0  # read-only


def test_supercritical_parameters_are_refused() -> None:
    P = dict(SIM, K=0.5)
    assert branching_ratio(0.5, 1.5, 1.0, 0.05, 1.2, 3.0, 3.0, t_max=50.0) > 1
    with pytest.raises(OptionError, match=r"branching ratio over the window is .* >= 1"):
        simulate_etas(**P, m_ref=3.0, t_end=50.0, mc=3.0, b=1.0, rng=0)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with pytest.raises(OptionError, match="max_events=500"):
            simulate_etas(**P, m_ref=3.0, t_end=50.0, mc=3.0, b=1.0, rng=0, max_events=500,
                          allow_supercritical=True)
    assert any(issubclass(w.category, PystatsWarning) for w in rec)


def test_bad_arguments() -> None:
    with pytest.raises(OptionError, match="exactly one of b"):
        simulate_etas(**SIM, m_ref=3.0, t_end=5.0, mc=3.0)
    with pytest.raises(OptionError, match="c=0"):
        simulate_etas(**dict(SIM, c=0), m_ref=3.0, t_end=5.0, mc=3.0, b=1.0)
    with pytest.raises(DataError, match="not be later than t_start"):
        simulate_etas(**SIM, m_ref=3.0, t_end=5.0, mc=3.0, b=1.0, history=([1.0], [5.0]))
    with pytest.raises(OptionError, match="rng="):
        simulate_etas(**SIM, m_ref=3.0, t_end=5.0, mc=3.0, b=1.0, rng="seed")
