"""Benchmark: Gutenberg–Richter fits on the Ridgecrest 2019 catalog (not run by default).

Run::

    pytest tests/benchmarks/bench_gr.py -m benchmark -s

Prints the wall time of the first Stan fit in a fresh compile cache (compilation included),
of the same fit with the cache warm in a new process, and of the maximum-likelihood fits
(closed form, torch L-BFGS + autograd Hessian, pystan log-density + L-BFGS).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

CATALOG = "catalogs/ridgecrest2019_comcat_m1.5.csv"

STAN_FIT = textwrap.dedent(
    """
    import sys, time, warnings
    t0 = time.perf_counter()
    import pystats
    cat = pystats.read_catalog(sys.argv[1])
    fit = pystats.GutenbergRichter(mc="maxc").fit(cat, method="nuts", seed=1)
    print(f"{time.perf_counter() - t0:.2f} {fit.metadata.get('compile_seconds', 0.0):.2f} "
          f"{fit.metadata['fit_seconds']:.2f}")
    """
)


def _run_stan_fit(path: Path, cache: Path) -> tuple[float, float, float]:
    env = {**os.environ, "PYSTATS_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", STAN_FIT, str(path)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    total, compile_s, fit_s = (float(x) for x in out[-3:])
    return total, compile_s, fit_s


def test_stan_first_and_cached_fit(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / CATALOG
    first = _run_stan_fit(path, tmp_path / "cache")
    cached = _run_stan_fit(path, tmp_path / "cache")
    print("\nGR NUTS on Ridgecrest (4 chains x 1000 draws), seconds:")
    print(f"{'':>8} {'process':>8} {'compile':>8} {'fit':>8}")
    print(f"{'first':>8} {first[0]:8.2f} {first[1]:8.2f} {first[2]:8.2f}")
    print(f"{'cached':>8} {cached[0]:8.2f} {cached[1]:8.2f} {cached[2]:8.2f}")
    assert cached[1] < first[1]


def test_mle_fits(shared_data: Path) -> None:
    import pystats

    cat = pystats.read_catalog(shared_data / CATALOG)
    rows = []
    for label, model, backend in [
        ("closed form, kind=gr", pystats.GutenbergRichter(mc="maxc"), "auto"),
        ("torch, kind=gr", pystats.GutenbergRichter(mc="maxc"), "torch"),
        ("pystan, kind=gr", pystats.GutenbergRichter(mc="maxc"), "pystan"),
        ("closed form, b-positive", pystats.GutenbergRichter(mc="maxc", estimator="positive"),
         "auto"),
        ("torch, kind=tapered", pystats.GutenbergRichter(mc="maxc", kind="tapered"), "torch"),
    ]:
        model.fit(cat, method="mle", backend=backend, seed=1)  # warm-up (imports, compile)
        t0 = time.perf_counter()
        n = 5
        for _ in range(n):
            fit = model.fit(cat, method="mle", backend=backend, seed=1)
        rows.append((label, (time.perf_counter() - t0) / n, float(fit.estimate("b"))))
    print("\nGR maximum-likelihood fits on Ridgecrest (12,259 events), mean of 5:")
    for label, seconds, b in rows:
        print(f"  {label:<26} {seconds * 1000:9.1f} ms   b = {b:.4f}")
