"""Torch threads during fits: torch's default against the rule of ``pystats.backends.threads``.

Run as a script (prints a table)::

    python tests/benchmarks/bench_threads.py [--repeats 2] [--evals 4] [--cases miyagi exact]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_threads.py -m benchmark -s

Two workloads, each timed idle and with one CPU kept busy by a background busy-loop process
that the benchmark starts (a Python busy loop) and stops:

* ``miyagi``: the README's ETAS MLE of the 2003 northern Miyagi aftershocks (SAPP's example:
  ``ETAS(mc=2.5, reference_magnitude=6.2, mu=0).fit(cat, t_start=0.01, t_end=18.68)``);
* ``exact``: ``--evals`` evaluations of the exact (all pairs, ``O(N^2)``) ETAS log-likelihood
  and its gradient on the 13 724-event JMA catalogue (1926-2007, M >= 4.5), at parameter
  values 10 % apart, through the torch log density a fit builds.

and two behaviours:

* ``old``: torch's default number of threads (one per core), as before the rule;
* ``new``: the rule (one thread; more only after a second of fitting with idle CPUs).
  For the ``exact`` workload the log density is built inside ``fit_threads(None)``, the
  context ``Model.fit`` runs in, so the rule adapts as it would in a fit.

The table gives the best wall time of ``--repeats`` runs, the threads the rule used, and
the ratio busy / idle; the target is a ratio under ~1.5 for the new rule (the old one was
3-15x on 2 cores).  The load average is printed before and after: other processes on the
machine change every figure.  Reads ``../shared/data/catalogs`` (see its README).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import pystats
from pystats.backends.threads import ENV_VAR, fit_threads
from pystats.backends.torch import TorchLogDensity
from pystats.errors import DataWarning

pytestmark = pytest.mark.benchmark

DATA = Path(os.environ.get(
    "PYSTATS_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
)) / "catalogs"
DEFAULT_THREADS = torch.get_num_threads()
"""Torch's default in this process (before anything changed it)."""


BUSY_LOOP = """
import os
parent = os.getppid()
while os.getppid() == parent:  # spin; stop if the benchmark dies without stopping us
    for _ in range(1_000_000):
        pass
"""


@contextlib.contextmanager
def busy_core(on: bool) -> Iterator[None]:
    """A background process spinning on one CPU while the block runs (if ``on``)."""
    if not on:
        yield
        return
    loop = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        time.sleep(0.5)  # let it get going
        yield
    finally:
        loop.kill()
        loop.wait()


def _read(name: str, **kw) -> pystats.Catalog:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return pystats.read_catalog(DATA / name, **kw)


def miyagi_case() -> Callable[[str], int]:
    """Run the Miyagi MLE with the ``old`` or ``new`` behaviour; return the threads used."""
    cat = _read("miyagi2003_aftershocks_sapp.csv", missing_magnitude=0.0, on_missing="drop")
    model = pystats.ETAS(mc=2.5, reference_magnitude=6.2, mu=0)

    def run(behaviour: str) -> int:
        threads = DEFAULT_THREADS if behaviour == "old" else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = model.fit(cat, t_start=0.01, t_end=18.68, seed=1, progress=False,
                            threads=threads)
        assert abs(fit.optimizer["log_likelihood"] - 1806.1607) < 1e-3
        return int(fit.metadata["torch_threads"])

    return run


def exact_case(evals: int) -> Callable[[str], int]:
    """``evals`` exact value + gradient evaluations on the JMA catalogue (13 724 events)."""
    cat = _read("japan_jma_1926_2007_m4.5_etasR.csv")
    model = pystats.ETAS(mc=4.5, likelihood="exact")
    data = model.prepare(cat, t_start=float(cat.times.min()), t_end=float(cat.times.max()))
    params = model.parameters(data)
    u0 = params.unconstrain(model.initial_values(data, np.random.default_rng(0)))
    points = [u0 * (1 + 0.1 * k) for k in range(evals)]

    def evaluate() -> None:
        density = TorchLogDensity(model, data, params, include_prior=False,
                                  device=torch.device("cpu"))
        for u in points:
            value, grad = density.value_and_grad(u, False)
            assert np.isfinite(value) and np.all(np.isfinite(grad))

    def run(behaviour: str) -> int:
        if behaviour == "old":
            torch.set_num_threads(DEFAULT_THREADS)
            evaluate()
            return DEFAULT_THREADS
        with fit_threads(None) as policy:
            evaluate()
        return max(policy.used)

    return run


def measure(run: Callable[[str], int], repeats: int, name: str = ""
            ) -> dict[tuple[str, bool], tuple[float, int]]:
    """Best wall time and threads used for each (behaviour, busy) combination."""
    out = {}
    run("new")  # warm-up: imports, caches
    for busy in (False, True):
        with busy_core(busy):
            for behaviour in ("old", "new"):
                best, used = np.inf, 0
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    used = run(behaviour)
                    best = min(best, time.perf_counter() - t0)
                out[(behaviour, busy)] = (best, used)
                print(f"  {name} {behaviour} {'busy' if busy else 'idle'}: {best:.2f} s, "
                      f"{used} threads (load average {_load()})", flush=True)
    return out


def run_all(cases: list[str], repeats: int, evals: int) -> dict[str, dict]:
    os.environ.pop(ENV_VAR, None)
    factories = {"miyagi": miyagi_case, "exact": lambda: exact_case(evals)}
    results = {}
    for name in cases:
        results[name] = measure(factories[name](), repeats, name)
        torch.set_num_threads(DEFAULT_THREADS)
    return results


def print_table(results: dict[str, dict]) -> None:
    print(f"\ncpus {len(os.sched_getaffinity(0))}, torch {torch.__version__}, default threads "
          f"{DEFAULT_THREADS}")
    print(f"{'case':<8} {'rule':<4} | {'idle s':>8} {'thr':>3} | {'busy s':>8} {'thr':>3} | "
          f"{'busy/idle':>9}")
    for name, res in results.items():
        for behaviour in ("old", "new"):
            (ti, ni), (tb, nb) = res[(behaviour, False)], res[(behaviour, True)]
            print(f"{name:<8} {behaviour:<4} | {ti:8.2f} {ni:3d} | {tb:8.2f} {nb:3d} | "
                  f"{tb / ti:9.2f}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def test_benchmark_threads() -> None:
    print(f"\nload average before: {_load()}")
    results = run_all(["miyagi", "exact"], repeats=2, evals=4)
    print_table(results)
    print(f"load average after: {_load()}")
    for res in results.values():
        idle, busy = res[("new", False)][0], res[("new", True)][0]
        assert busy <= 1.5 * idle + 0.2, "the rule is more than 1.5x slower under load"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["miyagi", "exact"],
                    choices=["miyagi", "exact"])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--evals", type=int, default=4,
                    help="exact value + gradient evaluations per run of the `exact` case")
    args = ap.parse_args()
    print(f"load average before: {_load()}")
    print_table(run_all(args.cases, args.repeats, args.evals))
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
