"""Benchmark: Mc methods and their bootstrap on the Ridgecrest 2019 catalog (not run by default).

Run::

    pytest tests/benchmarks/bench_gr_mc.py -m benchmark -s

Prints, for each Mc method on the 12 259 ComCat events (0.01 magnitudes, 0.1 FMD bins), the
wall time of one estimate and of the estimate with ``n_boot=200`` bootstrap replicates (best
of 3), with the Mc, its bootstrap standard deviation and 90 % interval.  Target (issue #6.16):
each estimate under 1 s.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.benchmark

CATALOG = "catalogs/ridgecrest2019_comcat_m1.5.csv"


def _best_of(fn, n: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def test_mc_methods_and_bootstrap(shared_data: Path) -> None:
    from pystats.gr.completeness import MC_METHODS, estimate_mc

    m = pd.read_csv(shared_data / CATALOG)["mag"].to_numpy()
    estimate_mc(m, method="maxc")  # warm-up (imports)
    print(f"\nMc methods on Ridgecrest 2019 ({m.size} events), best of 3, seconds:")
    print(f"{'method':>6} {'Mc':>5} {'one':>7} {'200 boot':>9} {'sd':>6}  90 % interval")
    for name in MC_METHODS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t1, r = _best_of(lambda name=name: estimate_mc(m, method=name, seed=1))
            t2, rb = _best_of(lambda name=name: estimate_mc(m, method=name, n_boot=200, seed=1))
        print(f"{name:>6} {r.mc:5.1f} {t1:7.3f} {t2:9.3f} {rb.mc_std:6.3f}  {rb.mc_interval}")
