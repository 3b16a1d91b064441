"""Wall time of AftershockDetection MAP and Laplace fits (torch engine, CPU).

Run as a script (prints a table)::

    PYTHONPATH=. python tests/benchmarks/bench_aftershock.py [--repeats 3] [--large 100000]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_aftershock.py -m benchmark -s

Cases, default settings (GP prior, Matérn 5/2, 24 inducing inputs, 69 x 8 quadrature nodes,
``n_starts=4`` stopping once two starts agree):

* the first day of the 2003 northern Miyagi aftershocks (SAPP file, main shock M6.2 at
  t = 0, magnitude 0.0 = missing, window [0.01, 1] d: 327 events) — MAP + Laplace target
  under 1 s;
* a simulated sequence of ~1e5 detected events — target under 30 s.

Each fit is timed in a warm process (one untimed fit first: imports of arviz and of torch's
vmap machinery cost several seconds once per process), ``--repeats`` times; the best and
the median are printed, with the number of log-density evaluations.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.aftershock import AftershockDetection, simulate_detected

pytestmark = pytest.mark.benchmark

DATA = Path(os.environ.get(
    "PYSTATS_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
)) / "catalogs"


def miyagi() -> pd.DataFrame:
    return pd.read_csv(DATA / "miyagi2003_aftershocks_sapp.csv")[["time", "magnitude"]]


def large(n_target: int, seed: int = 1) -> pd.DataFrame:
    """A simulated sequence with about ``n_target`` detected events in [0.01, 3] d."""
    mu_fn = lambda t: 2.0 + 1.5 * np.exp(-np.asarray(t) / 0.1)  # noqa: E731
    cat = simulate_detected(1.0, 0.02, 1.1, 2.2, 0.3, mu_fn, M0=7.0, t_start=0.01,
                            t_end=3.0, seed=seed)
    scale = n_target / len(cat)
    return simulate_detected(scale, 0.02, 1.1, 2.2, 0.3, mu_fn, M0=7.0, t_start=0.01,
                             t_end=3.0, seed=seed + 1)


def timed(model, data, method, repeats, **kw):
    times, cpu, fit = [], [], None
    for i in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = model.fit(data, method=method, seed=i, **kw)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    timed.cpu = cpu  # type: ignore[attr-defined]
    return fit, times


def run(repeats: int, n_large: int) -> list[dict]:
    rows = []
    m = miyagi()
    model = AftershockDetection(mainshock_magnitude=6.2)
    kw = {"t_start": 0.01, "t_end": 1.0, "missing_magnitude": 0.0}
    timed(model, m, "laplace", 1, **kw)  # warm-up: imports
    for method in ("map", "laplace"):
        fit, t = timed(model, m, method, repeats, **kw)
        rows.append({"case": f"Miyagi day 1 ({fit.data.summary['n']} events)", "method": method,
                     "best_s": min(t), "median_s": statistics.median(t),
                     "cpu_s": min(timed.cpu), "load": os.getloadavg()[0],
                     "evaluations": fit.optimizer["n_evaluations"],
                     "starts": fit.optimizer["n_starts"]})
        print(rows[-1], flush=True)
    if n_large:
        big = large(n_large)
        model = AftershockDetection(mainshock_magnitude=7.0)
        for method in ("map", "laplace"):
            fit, t = timed(model, big, method, 1, t_start=0.01, t_end=3.0)
            rows.append({"case": f"simulated ({len(big)} events)", "method": method,
                         "best_s": min(t), "median_s": statistics.median(t),
                     "cpu_s": min(timed.cpu), "load": os.getloadavg()[0],
                         "evaluations": fit.optimizer["n_evaluations"],
                         "starts": fit.optimizer["n_starts"]})
            print(rows[-1], flush=True)
    return rows


def test_bench_aftershock() -> None:
    print("\n" + pd.DataFrame(run(3, 100_000)).to_string(index=False))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--large", type=int, default=100_000, help="0 skips the large case")
    args = ap.parse_args()
    print(pd.DataFrame(run(args.repeats, args.large)).to_string(index=False))
    print(f"pystats {pystats.__version__}")
