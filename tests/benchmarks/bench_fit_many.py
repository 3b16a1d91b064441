"""Throughput of :func:`pystats.fit_many` on a 2-worker ``LocalCluster`` against a plain loop.

Run as a script (prints a table; ``uptime`` first, as the figures need an idle machine)::

    python tests/benchmarks/bench_fit_many.py [--gr 200] [--etas 50] [--workers 2]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_fit_many.py -m benchmark -s

Cases (simulated data, fixed seeds):

* ``--gr`` Gutenberg–Richter fits (method ``mle``: closed form, about a millisecond each, so
  this measures fit_many's overhead per fit) of 2 000-magnitude catalogues;
* ``--etas`` ETAS maximum-likelihood fits (torch, ``n_starts=2``) of catalogues simulated
  with mu = 0.4, K = 0.02, c = 0.01, alpha = 1.5, p = 1.2 on [0, 1000] days (~900 events).

For each case, after one warm-up fit here and on each worker (imports): the plain loop in
this process (``fit_many(..., client="sequential")``: ``model.fit``, then the row's summary
and diagnostics, one fit after the other), then ``fit_many`` on an already running
``LocalCluster(n_workers, threads_per_worker=1)`` of worker processes (the cluster's
start-up is reported on its own), the throughput ratio (loop time / cluster time; the ideal
is the number of workers on an idle machine), whether both gave the same table (they must:
same seeds), and the peak resident memory of each worker process (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time

import numpy as np
import pytest

import pystats
from pystats.etas.simulate import simulate_etas
from pystats.gr.distributions import simulate_gr
from pystats.many import spawn_seeds

pytestmark = pytest.mark.benchmark

ETAS_TRUTH = {"mu": 0.4, "K": 0.02, "c": 0.01, "alpha": 1.5, "p": 1.2}


def gr_case(n: int) -> tuple[str, pystats.GutenbergRichter, list, dict]:
    rng = np.random.default_rng(1)
    data = [simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=rng) for _ in range(n)]
    return "GR mle (closed form)", pystats.GutenbergRichter(mc=2.0), data, {}


def etas_case(n: int) -> tuple[str, pystats.ETAS, list, dict]:
    data = []
    for i in range(n):
        cat = simulate_etas(**ETAS_TRUTH, m_ref=3.0, t_end=1000.0, mc=3.0, b=1.0, rng=100 + i)
        data.append((cat.times, cat.magnitudes))
    return ("ETAS mle (torch)", pystats.ETAS(mc=3.0), data,
            {"t_start": 0.0, "t_end": 1000.0, "n_starts": 2})


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: tuple, client, seed: int = 1) -> dict:
    label, model, data, kwargs = case
    seeds = spawn_seeds(seed, len(data))
    # warm-up outside the timings: imports (torch, scipy) on this process and on each worker
    model.fit(data[0], seed=0, threads=1, **kwargs)
    n_workers = len(client.scheduler_info()["workers"])
    pystats.fit_many(model, data[:n_workers], seed=0, client=client, progress=False, **kwargs)
    t0 = time.perf_counter()
    loop = pystats.fit_many(model, data, seed=seed, client="sequential", progress=False,
                            **kwargs)
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = pystats.fit_many(model, data, seed=seed, client=client, progress=False, **kwargs)
    t_many = time.perf_counter() - t0
    assert list(table["seed"]) == seeds
    columns = [c for c in table.columns if c not in ("wall_seconds", "fit_seconds")]
    same = table[columns].equals(loop[columns])
    rss = client.run(_peak_rss_mb)
    return {
        "case": label, "fits": len(data), "loop_s": t_loop, "fit_many_s": t_many,
        "ratio": t_loop / t_many, "fits_per_s": len(data) / t_many, "same": bool(same),
        "failed": int((~table["ok"]).sum()), "worker_peak_mb": sorted(rss.values()),
    }


def main(n_gr: int = 200, n_etas: int = 50, workers: int = 2) -> list[dict]:
    from distributed import Client, LocalCluster

    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"cpus={os.cpu_count()}  workers={workers} x 1 thread (processes)")
    built = [make(n) for make, n in ((gr_case, n_gr), (etas_case, n_etas)) if n > 0]
    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        print(f"cluster start-up: {time.perf_counter() - t0:.1f} s")
        rows = [run_case(case, client) for case in built]
    print(f"{'case':24s} {'fits':>5s} {'loop s':>8s} {'fit_many s':>10s} {'ratio':>6s} "
          f"{'fits/s':>7s} {'same':>5s} {'failed':>6s}  worker peak RSS (MB)")
    for r in rows:
        print(f"{r['case']:24s} {r['fits']:5d} {r['loop_s']:8.2f} {r['fit_many_s']:10.2f} "
              f"{r['ratio']:6.2f} {r['fits_per_s']:7.1f} {r['same']!s:>5s} {r['failed']:6d}  "
              + ", ".join(f"{m:.0f}" for m in r["worker_peak_mb"]))
    print(f"this process peak RSS: {_peak_rss_mb():.0f} MB")
    return rows


def test_fit_many_benchmark() -> None:
    rows = main()
    assert all(r["same"] and r["failed"] == 0 for r in rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gr", type=int, default=200, help="GR fits (default 200)")
    parser.add_argument("--etas", type=int, default=50, help="ETAS fits (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    main(args.gr, args.etas, args.workers)
