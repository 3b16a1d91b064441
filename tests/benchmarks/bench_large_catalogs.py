"""Gutenberg–Richter and Omori–Utsu fits, and ETAS simulation, at 1e6–1e7 events.

Run as a script (prints a table)::

    python tests/benchmarks/bench_large_catalogs.py [--sizes 1000000 10000000] [--threads 1]

or through pytest (not run by default; ``-m benchmark`` selects it, 1e6 only)::

    pytest tests/benchmarks/bench_large_catalogs.py -m benchmark -s

Every case runs in a fresh Python process, so that its peak resident memory (``ru_maxrss``:
the interpreter, torch and the simulated data included) is its own.  Cases:

* ``gr N``: ``GutenbergRichter(mc=3.0).fit(df, method="mle")`` on N magnitudes binned to
  0.1 (exponential above 2.95, b = 1): data preparation (bin-width inference, completeness
  cut) and the closed-form estimate with its standard error;
* ``omori N``: ``OmoriUtsu(mc=3.0, main_shock_time=0.0).fit(df, method="mle")`` on an
  Omori–Utsu sequence of about N events (``simulate_omori``: K set for N events over 1000
  days, c = 0.01 d, p = 1.0), torch L-BFGS from 2 starts plus the Hessian;
* ``etas-sim N``: ``simulate_etas`` of about N events (mu = 4/d, K = 0.02, c = 0.01 d,
  alpha = 1.5, p = 1.2, M_ref = mc = 3, b = 1: the catalogues of ``bench_etas_scale.py``;
  sizes up to 2e6, the simulator's default ``max_events``).

Reported: wall and CPU time of the step (the data simulated before the clock starts, except
for ``etas-sim``), the estimate and its standard error where there is one, the peak RSS and
the ``uptime`` load before the case (wall times under load are upper bounds).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.benchmark
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmarks

CASES = ("gr", "omori", "etas-sim")


def one(case: str, n: int, threads: int | None) -> dict:
    """Run one case in this process; return its figures."""
    import pandas as pd

    import pystats
    from pystats.etas.simulate import simulate_omori

    rng = np.random.default_rng(1)
    row: dict = {"case": case, "target_n": n}
    if case == "etas-sim":
        from bench_etas_likelihood import catalogue  # its window for about n events

        t0, c0 = time.perf_counter(), time.process_time()
        times, _, _ = catalogue(round(0.69 * n), seed=1)  # it overshoots by ~45 %
        row.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0,
                   n=int(times.size), estimate="", se="")
    else:
        if case == "omori":
            t = simulate_omori(n / np.log(1000.0 / 0.01), 0.01, 1.0, 0.0, 1000.0, rng)
        else:
            t = np.sort(rng.uniform(0.0, 1000.0, n))
        m = np.round(2.95 + rng.exponential(1.0 / np.log(10.0), t.size), 1)
        df = pd.DataFrame({"time": t, "magnitude": m})
        model = (pystats.GutenbergRichter(mc=3.0) if case == "gr"
                 else pystats.OmoriUtsu(mc=3.0, main_shock_time=0.0))
        name = "b" if case == "gr" else "p"
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = model.fit(df, method="mle", threads=threads)
        row.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0,
                   n=int(fit.data.summary["n"]), estimate=f"{name} {fit.estimate(name):.4f}",
                   se=f"{float(fit.summary().loc[name, 'se']):.2g}",
                   converged=bool(fit.optimizer.get("converged", True))
                   if fit.optimizer else True)
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def run_case(case: str, n: int, threads: int | None) -> dict:
    """Run :func:`one` in a fresh process (own peak RSS); add the load before it."""
    from bench_etas_scale import fresh_process

    args = ["--one", case, "--sizes", str(n)]
    return fresh_process(__file__, args + (["--threads", str(threads)] if threads else []))


def print_table(rows: list[dict]) -> None:
    print(f"{'case':>9} {'N':>9} {'wall s':>7} {'CPU s':>7} {'estimate':>10} {'se':>8} "
          f"{'RSS MB':>7} {'load before':>15}")
    for r in rows:
        print(f"{r['case']:>9} {r['n']:>9} {r['seconds']:7.2f} {r['cpu']:7.2f} "
              f"{r['estimate']:>10} {r['se']:>8} {r['peak_rss_mb']:7.0f} {r['load_before']:>15}")


def test_benchmark_large_catalogs() -> None:
    print_table([run_case(c, 1_000_000, 1) for c in CASES])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.sizes[0], args.threads)))
        return
    rows = []
    for n in args.sizes:
        for c in args.cases:
            if c == "etas-sim" and n > 2_000_000:
                continue  # the simulator's max_events; the issue asks for 1e6
            rows.append(run_case(c, n, args.threads))
            print_table(rows[-1:])
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
