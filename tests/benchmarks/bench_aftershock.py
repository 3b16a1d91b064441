"""Wall and CPU time of AftershockDetection MAP and Laplace fits (torch engine, CPU): the two
speed targets of issue #8, idle and with one core kept busy.

Run as a script (prints a table)::

    PYTHONPATH=. python tests/benchmarks/bench_aftershock.py [--repeats 3] [--large 100000]
        [--busy both|no|yes] [--large-laplace] [--only-large] [--device cpu|cuda]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_aftershock.py -m benchmark -s

Cases, default settings (GP prior, Matérn 5/2, 24 inducing inputs, 69 x 8 quadrature nodes,
``n_starts=4`` stopping once two starts agree, the fit's thread rule):

* (a) the first day of the 2003 northern Miyagi aftershocks (SAPP file, main shock M6.2 at
  t = 0, magnitude 0.0 = missing, window [0.01, 1] d: 327 events) — MAP and Laplace (the
  Laplace fit is the whole thing: its optimisation, the Hessian at the mode and the 1 000
  Pareto-k evaluations) — target under 1 s;
* (b) a simulated sequence of ~1e5 detected events (:func:`large`) — MAP target under 30 s
  (``--large-laplace`` adds its Laplace fit).

Each fit is timed in a warm process (one untimed fit first: imports of arviz and of torch's
vmap machinery cost several seconds once per process), ``--repeats`` times (the large case
once); the best wall time, its median, the best CPU time of this process (all its threads),
the number of log-density evaluations, of starts and the torch threads used are printed.
``--busy yes`` (and ``both``, the default) repeats every case with one core kept busy by a
Python busy loop that this benchmark starts and stops, the situation of a shared machine.
The output starts with ``uptime`` (the load average says how idle "idle" was).
``--device cuda`` runs every fit's torch likelihood on the GPU (float64), for the CPU-vs-GPU
table of issue #8 (run it once with each device on the same machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bench_threads import busy_core  # one core kept busy while a block runs

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


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"load average {os.getloadavg()}"


def timed(model, data, method, repeats, **kw) -> tuple[pystats.Fit, list[float], list[float]]:
    wall, cpu, fit = [], [], None
    for i in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = model.fit(data, method=method, seed=i, **kw)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return fit, wall, cpu


def row(case, method, busy, fit, wall, cpu) -> dict:
    out = {"case": case, "method": method, "busy_core": busy,
           "wall_best_s": round(min(wall), 3), "wall_median_s": round(statistics.median(wall), 3),
           "cpu_best_s": round(min(cpu), 3), "load1": round(os.getloadavg()[0], 2),
           "evaluations": fit.optimizer["n_evaluations"], "starts": fit.optimizer["n_starts"],
           "threads": fit.metadata.get("torch_threads", "-")}
    print(out, flush=True)
    return out


def run(repeats: int, n_large: int, busy: str = "both", large_laplace: bool = False,
        only_large: bool = False, device: str = "cpu") -> list[dict]:
    print(uptime(), flush=True)
    rows = []
    m = miyagi()
    model = AftershockDetection(mainshock_magnitude=6.2)
    kw = {"t_start": 0.01, "t_end": 1.0, "missing_magnitude": 0.0, "device": device}
    timed(model, m, "laplace", 1, **kw)  # warm-up: imports
    settings = {"both": (False, True), "no": (False,), "yes": (True,)}[busy]
    big = large(n_large) if n_large else None
    for on in settings:
        with busy_core(on):
            for method in () if only_large else ("map", "laplace"):
                fit, wall, cpu = timed(model, m, method, repeats, **kw)
                rows.append(row(f"Miyagi day 1 ({fit.data.summary['n']} events)", method, on,
                                fit, wall, cpu))
            if big is not None:
                big_model = AftershockDetection(mainshock_magnitude=7.0)
                for method in ("map", "laplace") if large_laplace else ("map",):
                    fit, wall, cpu = timed(big_model, big, method, 1, t_start=0.01, t_end=3.0,
                                           device=device)
                    rows.append(row(f"simulated ({len(big)} events)", method, on, fit, wall,
                                    cpu))
    print(uptime(), flush=True)
    return rows


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def test_bench_aftershock() -> None:
    print("\n" + pd.DataFrame(run(3, 100_000)).to_string(index=False))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--large", type=int, default=100_000, help="0 skips the large case")
    ap.add_argument("--busy", choices=("both", "no", "yes"), default="both",
                    help="time with one core kept busy (yes), idle (no), or both")
    ap.add_argument("--large-laplace", action="store_true",
                    help="also time the Laplace fit of the large case")
    ap.add_argument("--only-large", action="store_true",
                    help="time only the large case (the Miyagi warm-up fit still runs)")
    ap.add_argument("--device", default="cpu", help='torch device of the fits: "cpu" or "cuda"')
    args = ap.parse_args()
    table = pd.DataFrame(run(args.repeats, args.large, args.busy, args.large_laplace,
                             args.only_large, args.device))
    print(table.to_string(index=False))
    print(f"pystats {pystats.__version__}, torch threads at start {_threads()}, "
          f"device {args.device}")
