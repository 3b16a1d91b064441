"""Benchmark: MagnitudeLaw fits (not run by default).

Run::

    pytest tests/benchmarks/bench_maglaw.py -m benchmark -s

Prints the wall time of the MLE of every law on 1e5 binned events (target < 1 s each) and
of NUTS (pystan, 4 x 1000 draws after 1000 warm-up, compile time excluded: the program is
compiled by a first fit) on 1e4 events (target < 1 min).
"""

from __future__ import annotations

import time

import pytest

import pystats
from pystats.maglaw.laws import LAWS, simulate

pytestmark = pytest.mark.benchmark

TRUTH = {
    "gr": {"b": 1.0},
    "tapered_gr": {"b": 1.0, "corner_magnitude": 4.0},
    "gamma": {"b": 0.8, "corner_magnitude": 4.0},
    "exponential_moment": {"corner_magnitude": 3.0},
    "weibull": {"gamma": 0.5, "corner_magnitude": 3.0},
    "generalized_gamma": {"b": 0.9, "gamma": 0.6, "corner_magnitude": 4.0},
}


@pytest.mark.parametrize("law", LAWS)
def test_mle_of_every_law_on_1e5_events(law: str) -> None:
    m = simulate(100_000, law, 1.95, TRUTH[law], rng=1, delta_m=0.1)
    model = pystats.MagnitudeLaw(law=law, mc=2.0)
    model.fit(m[:1000], seed=1)  # imports and first-call set-up
    t0 = time.perf_counter()
    fit = model.fit(m, seed=1)
    seconds = time.perf_counter() - t0
    print(f"\nMLE {law}: {seconds:.3f} s on 1e5 events "
          f"({', '.join(f'{k}={float(fit.estimate(k)):.3f}' for k in fit.parameters.names)})")


@pytest.mark.parametrize("law", ["tapered_gr", "generalized_gamma"])
def test_nuts_on_1e4_events(law: str) -> None:
    m = simulate(10_000, law, 1.95, TRUTH[law], rng=2, delta_m=0.1)
    model = pystats.MagnitudeLaw(law=law, mc=2.0)
    model.fit(m[:500], method="nuts", seed=1, chains=1, draws=10, warmup=10)  # compile
    t0 = time.perf_counter()
    fit = model.fit(m, method="nuts", seed=1)
    seconds = time.perf_counter() - t0
    print(f"\nNUTS {law}: {seconds:.1f} s on 1e4 events, 4 x 1000 draws; "
          f"max R-hat {float(fit.summary()['r_hat'].max()):.3f}")
