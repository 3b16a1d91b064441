"""Benchmark: MagnitudeLaw fits (not run by default).

Run::

    pytest tests/benchmarks/bench_maglaw.py -m benchmark -s

Prints the wall time of the MLE of every law on 1e5 binned events, without and with the
detection probit (target < 1 s each), and of NUTS (pystan, 4 x 1000 draws after 1000
warm-up, compile time excluded: the program is compiled by a first fit) on 1e4 events
(target < 1 min) for every law and for the time-varying b (``TimeVaryingB``, GP with 20
basis functions and change point).  Select with ``-k``, e.g. ``-k "nuts and gr"``.
"""

from __future__ import annotations

import os
import time

import numpy as np
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


@pytest.mark.parametrize("law", LAWS)
def test_mle_with_detection_of_every_law_on_1e5_events(law: str) -> None:
    m = simulate(100_000, law, 0.95, TRUTH[law], rng=1, delta_m=0.1, mu=1.5, sigma=0.3)
    model = pystats.MagnitudeLaw(law=law, detection=True)
    model.fit(m[:1000], seed=1)  # imports and first-call set-up
    t0 = time.perf_counter()
    fit = model.fit(m, seed=1)
    seconds = time.perf_counter() - t0
    print(f"\nMLE {law} + detection: {seconds:.3f} s on 1e5 events "
          f"({', '.join(f'{k}={float(fit.estimate(k)):.3f}' for k in fit.parameters.names)})")


@pytest.mark.parametrize("law", LAWS)
def test_nuts_on_1e4_events(law: str) -> None:
    m = simulate(10_000, law, 1.95, TRUTH[law], rng=2, delta_m=0.1)
    model = pystats.MagnitudeLaw(law=law, mc=2.0)
    model.fit(m[:500], method="nuts", seed=1, chains=1, draws=10, warmup=10)  # compile
    t0 = time.perf_counter()
    fit = model.fit(m, method="nuts", seed=1)
    seconds = time.perf_counter() - t0
    print(f"\nNUTS {law}: {seconds:.1f} s on 1e4 events, 4 x 1000 draws; "
          f"max R-hat {float(fit.summary()['r_hat'].max()):.3f}, min bulk / tail ESS "
          f"{float(fit.summary()['ess_bulk'].min()):.0f} / "
          f"{float(fit.summary()['ess_tail'].min()):.0f}; problems: "
          f"{'; '.join(p.message for p in fit.diagnose(warn=False).problems) or 'none'}")


@pytest.mark.parametrize("kind", ["gp", "changepoint"])
def test_time_varying_b_nuts_on_1e4_events(kind: str) -> None:
    from pystats.btime.simulate import b_ramp, simulate_b_of_t

    t, m = simulate_b_of_t(10_000, lambda t: b_ramp(t, 1.3, 0.7, 0.0, 1000.0), 2.0, rng=2)
    data = {"time": t, "magnitude": m}
    model = pystats.TimeVaryingB(kind=kind, mc=2.0)
    model.fit({"time": t[:500], "magnitude": m[:500]}, method="nuts", seed=1, chains=1,
              draws=10, warmup=10)  # compile
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    fit = model.fit(data, method="nuts", seed=1)
    seconds = time.perf_counter() - t0
    diag = fit.diagnose(warn=False)
    stats = {k: float(np.mean(fit.sample_stats[k])) for k in ("tree_depth", "n_steps",
                                                               "step_size")}
    print(f"\nNUTS TimeVaryingB({kind}): {seconds:.1f} s on 1e4 events, 4 x 1000 draws "
          f"(load average {load:.1f} -> {os.getloadavg()[0]:.1f}); "
          f"max R-hat {float(fit.summary()['r_hat'].max()):.3f}, "
          f"divergences {diag.checks['divergences'].value}; mean tree depth "
          f"{stats['tree_depth']:.2f}, leapfrog steps {stats['n_steps']:.0f}, step size "
          f"{stats['step_size']:.3f}; problems: "
          f"{'; '.join(p.message for p in diag.problems) or 'none'}")
