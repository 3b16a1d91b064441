"""How ETAS maximum-likelihood fits scale with N: wall time, evaluations, peak memory.

Run as a script (prints a table and the log-log slopes)::

    python tests/benchmarks/bench_etas_scale.py [--sizes 10000 100000 1000000] [--jma]
        [--jma-exact] [--threads 1] [--evals 5]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_etas_scale.py -m benchmark -s

Every case runs in a fresh Python process, so that its peak resident memory (``ru_maxrss``
of that process: the interpreter and torch included, ~300 MB) is its own:

* ``N``: simulated catalogues of about ``N`` events (mu = 4/d, K = 0.02, c = 0.01 d,
  alpha = 1.5, p = 1.2, M_ref = mc = 3: the catalogues of ``bench_etas_likelihood.py``),
  fitted by ``ETAS(mc=3, reference_magnitude=3).fit(cat, seed=0)`` (``likelihood="auto"``);
* ``--jma``: the 13 724-event JMA catalogue 1926-2007, M >= 4.5 (``ETAS(mc=4.5)``), with
  ``likelihood="auto"``; ``--jma-exact`` also with ``likelihood="exact"`` (all pairs).

Reported per case: the wall time of ``fit`` (best of ``--repeats``, run ``i`` with
``seed=i``; the first fit in a process also pays one-off imports) and its CPU time, the
number of log-likelihood evaluations (value + gradient) the optimiser made on the full data
(and, per run, on the pilot problem of large fits: ``ETAS.pilot``), the CPU time of one
value + gradient evaluation at the optimum and of one Hessian on **one** thread (median
of ``--evals``; with the number of evaluations, the figures that load changes least),
the peak RSS, and the ``uptime`` load average before the case (wall times taken while
other processes run are upper bounds).  The log-log slopes of fit time and of
per-evaluation time against N are fitted over the simulated sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.benchmark

DATA = Path(os.environ.get(
    "PYSTATS_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
)) / "catalogs"
JMA = "japan_jma_1926_2007_m4.5_etasR.csv"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path(
        "/proc/loadavg").exists() else "?"


def _case_data(case: str):
    import pystats
    from pystats.errors import DataWarning

    if case.startswith("jma"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            cat = pystats.read_catalog(DATA / JMA)
        lik = "exact" if case == "jma-exact" else "auto"
        return pystats.ETAS(mc=4.5, likelihood=lik), cat
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_etas_likelihood import catalogue

    t, m, _ = catalogue(round(0.79 * int(case)))  # the simulator overshoots by ~27 %
    return pystats.ETAS(mc=3.0, reference_magnitude=3.0), (t, m)


def one(case: str, repeats: int, evals: int, threads: int | None) -> dict:
    """Fit one case in this process; return its figures."""
    import torch

    from pystats.backends import get_backend

    model, data = _case_data(case)
    times, cpu, n_evals, pilot_evals = [], [], [], []
    fit = None
    for i in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = model.fit(data, seed=i, threads=threads)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        n_evals.append(int(fit.optimizer["n_evaluations"]))
        pilot_evals.append(int(fit.optimizer.get("pilot", {}).get("n_evaluations", 0)))
    prepared = model.prepare(data)
    density = get_backend("torch").log_density(model, prepared, include_prior=False,
                                               device="cpu")
    params = model.parameters(prepared)
    u = params.unconstrain({k: float(fit.estimate(k)) for k in params.names})
    torch.set_num_threads(1)
    density.value_and_grad(u, False)  # warm: geometry cache
    per_eval = []
    for _ in range(evals):
        t0 = time.process_time()  # CPU time on one thread: what load changes least
        density.value_and_grad(u, False)
        per_eval.append(time.process_time() - t0)
    t0 = time.process_time()
    density.hessian(u, False)
    hess = time.process_time() - t0
    return {
        "case": case, "N": int(fit.data.summary["n"]),
        "likelihood": fit.data.summary["likelihood"], "fit_s": min(times), "runs": times,
        "fit_cpu_s": cpu[times.index(min(times))],
        "evaluations": int(fit.optimizer["n_evaluations"]),
        "runs_cpu": cpu, "runs_evaluations": n_evals, "runs_pilot_evaluations": pilot_evals,
        "starts": len(fit.optimizer["optima"]), "converged": bool(fit.optimizer["converged"]),
        "loglik": float(fit.optimizer["log_likelihood"]),
        "eval_1thread_s": statistics.median(per_eval), "hessian_1thread_s": hess,
        "threads": fit.metadata.get("torch_threads", 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def fresh_process(script: str, args: list[str]) -> dict:
    """Run ``script args`` in a fresh Python process (its own peak RSS) and return the JSON
    row of its last output line, with the load average before it (``load_before``)."""
    before = load()
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                         env=env, check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["load_before"] = before
    return row


def run_case(case: str, repeats: int, evals: int, threads: int | None) -> dict:
    """Run :func:`one` in a fresh process (own peak RSS); add the load before it."""
    args = ["--one", case, "--repeats", str(repeats), "--evals", str(evals)]
    return fresh_process(__file__, args + (["--threads", str(threads)] if threads else []))


def slope(ns: list[float], ts: list[float]) -> float:
    if len(ns) < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def print_table(rows: list[dict]) -> None:
    print(f"{'case':>10} {'N':>8} {'lik':>5} {'fit s':>7} {'CPU s':>7} {'evals':>5} {'starts':>6} "
          f"{'eval 1thr':>9} {'hess 1thr':>9} {'RSS MB':>7} {'load before':>15}")
    for r in rows:
        print(f"{r['case']:>10} {r['N']:>8} {r['likelihood']:>5} {r['fit_s']:7.2f} "
              f"{r['fit_cpu_s']:7.2f} "
              f"{r['evaluations']:>5} {r['starts']:>6} {r['eval_1thread_s'] * 1e3:7.1f}ms "
              f"{r['hessian_1thread_s']:8.2f}s {r['peak_rss_mb']:7.0f} {r['load_before']:>15}"
              f"  (runs {', '.join(f'{t:.2f}' for t in r['runs'])}; CPU "
              f"{', '.join(f'{t:.2f}' for t in r['runs_cpu'])}; evaluations "
              f"{', '.join(map(str, r['runs_evaluations']))} + pilot "
              f"{', '.join(map(str, r['runs_pilot_evaluations']))}; "
              f"log L {r['loglik']:.6f})")
    sim = [r for r in rows if not r["case"].startswith("jma")]
    if len(sim) >= 2:
        ns = [r["N"] for r in sim]
        print(f"log-log slope vs N ({ns[0]} -> {ns[-1]}): fit time "
              f"{slope(ns, [r['fit_s'] for r in sim]):.2f}, one evaluation (1 thread) "
              f"{slope(ns, [r['eval_1thread_s'] for r in sim]):.2f}")


def test_benchmark_etas_scale() -> None:
    rows = [run_case(c, 1, 3, None) for c in ("jma", "10000", "100000")]
    print_table(rows)
    assert all(r["converged"] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--jma", action="store_true", help="also the JMA file (likelihood auto)")
    ap.add_argument("--jma-exact", action="store_true", help="also JMA with likelihood exact")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--evals", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads for the fits (default: pystats' rule)")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.repeats, args.evals, args.threads)))
        return
    cases = (["jma"] if args.jma else []) + (["jma-exact"] if args.jma_exact else [])
    cases += [str(n) for n in args.sizes]
    rows = []
    for c in cases:
        rows.append(run_case(c, args.repeats, args.evals, args.threads))
        print_table(rows[-1:])
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
