"""Benchmark: sparse isocon on 50 samples x 30 elements (not run by default).

Run::

    pytest tests/benchmarks/bench_isocon.py -m benchmark -s

Targets (issue #12): the penalised fast path (``method="map"``: cross-validated lambda,
stability selection, Grant refit and its covariance) under 1 s; NUTS (4 chains x 1000
draws, warm compile cache) under 2 minutes with R-hat < 1.01 and no divergences.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

import pystats
from pystats.compositional.simulate import simulate_isocon

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def suite():
    return simulate_isocon(n_samples=50, n_elements=30, n_mobile=10, seed=7)


def test_map_50x30_under_one_second(suite):
    model = pystats.SparseIsocon()
    model.fit(suite.altered, protolith=suite.protolith, method="map", seed=1)  # warm imports
    times = []
    for seed in range(5):
        t0 = time.perf_counter()
        fit = model.fit(suite.altered, protolith=suite.protolith, method="map", seed=seed)
        times.append(time.perf_counter() - t0)
    print(f"\nSparseIsocon map, 50 x 30: median {np.median(times):.3f} s, "
          f"max {np.max(times):.3f} s over 5 fits")
    p = fit.model.immobile_probability(fit)
    truth = np.ones(30, dtype=bool)
    truth[suite.mobile] = False
    assert np.array_equal(p.to_numpy() > 0.5, truth)
    assert np.median(times) < 1.0


def test_nuts_50x30_under_two_minutes(suite):
    model = pystats.SparseIsocon()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.PystatsWarning)
        # compile outside the timing (cached afterwards)
        model.fit(suite.altered.iloc[:3], protolith=suite.protolith, method="nuts", seed=1,
                  chains=1, draws=10, warmup=10)
    t0 = time.perf_counter()
    fit = model.fit(suite.altered, protolith=suite.protolith, method="nuts", seed=1,
                    adapt_delta=0.95)
    elapsed = time.perf_counter() - t0
    table = fit.summary()
    rhat = float(table["r_hat"].max())
    div = int(np.sum(fit.sample_stats["diverging"]))
    print(f"\nSparseIsocon nuts, 50 x 30, 4 x 1000 draws: {elapsed:.1f} s, max R-hat "
          f"{rhat:.4f}, {div} divergences")
    assert elapsed < 120 and rhat < 1.01 and div == 0
