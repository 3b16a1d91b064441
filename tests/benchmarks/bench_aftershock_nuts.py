"""NUTS for AftershockDetection (the Stan program) on the Miyagi 2003 sequence.

Run as a script (prints a table)::

    OMP_NUM_THREADS=1 PYTHONPATH=.:tests /work/main/.venv/bin/python \\
        tests/benchmarks/bench_aftershock_nuts.py [--prior gp|rw2] [--kernel matern52]
        [--n-latent 24] [--n-panels 64] [--days 3] [--chains 4] [--draws 1000]
        [--warmup 1000] [--adapt-delta D]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_aftershock_nuts.py -m benchmark -s

Data: ``miyagi2003_aftershocks_sapp.csv`` (main shock M6.2 at t = 0; magnitude 0.0 =
undetermined, dropped), events with 0.01 <= t <= ``days``.

1. NUTS through the family's public API,
   ``AftershockDetection(mainshock_magnitude=6.2, ...).fit(df, method="nuts",
   t_start=0.01, t_end=days, missing_magnitude=0.0, seed=...)`` with the family's default
   sampler settings unless ``--adapt-delta`` is given (pystan; chains in 2 processes on the
   2-core machine): wall time and CPU time (this process and its finished children, the
   chains) of the fit, divergences, leapfrog steps, max R-hat and min
   bulk/tail ESS over all sampled parameters (``z`` included) and over ``K`` and ``mu_0``,
   posterior medians.
2. CPU per leapfrog step (one log density + gradient): the fit's CPU time over the
   leapfrog steps, warmup counted at the sampling phase's rate (an estimate).  (The
   engine's ``log_prob_grad`` for optimisers rebuilds the model from its data on every call,
   so timing it would not measure a leapfrog step.)

Timings depend on what else runs on the machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pystats

pytestmark = pytest.mark.benchmark

SHARED = Path(os.environ.get("PYSTATS_SHARED_DATA",
                             Path(__file__).resolve().parents[3] / "shared" / "data"))
M0 = 6.2
REPORTED = ("K", "c", "p", "beta", "b", "sigma", "mu_0", "mu_slope", "gp_amplitude",
            "gp_lengthscale", "rw_scale")


def miyagi() -> pd.DataFrame:
    return pd.read_csv(SHARED / "catalogs" / "miyagi2003_aftershocks_sapp.csv")[
        ["time", "magnitude"]]


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children (the chains: alive
    ones through psutil, finished ones through getrusage)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return total + kids.ru_utime + kids.ru_stime


def run(prior: str = "gp", kernel: str = "matern52", n_latent: int = 24, n_panels: int = 64,
        days: float = 3.0, chains: int = 4, draws: int = 1000, warmup: int = 1000,
        seed: int = 20030726, adapt_delta: float | None = None) -> dict[str, Any]:
    import arviz as az

    model = pystats.AftershockDetection(mainshock_magnitude=M0, mu_prior=prior, kernel=kernel,
                                        n_inducing=n_latent, n_nodes=n_latent,
                                        n_panels=n_panels)
    kw = {} if adapt_delta is None else {"adapt_delta": adapt_delta}
    df = miyagi()
    print(f"{model!r}, Miyagi 2003, t in [0.01, {days}] d; chains={chains}, draws={draws}, "
          f"warmup={warmup}, {kw or 'family sampler defaults'}")
    print(f"load average before: {os.getloadavg()}")
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.DataWarning)
        fit = model.fit(df, method="nuts", t_start=0.01, t_end=days, missing_magnitude=0.0,
                        seed=seed, chains=chains, draws=draws, warmup=warmup, **kw)
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0  # before the pool's chain processes go away
    print(f"load average after: {os.getloadavg()}")
    names = [n for n in fit.parameters.names if fit.draws[n].size]
    names += [n for n in ("K", "mu_0") if n in fit.draws]
    idata = az.from_dict(posterior={n: fit.draws[n] for n in names})
    rhat = az.rhat(idata)
    ess_bulk, ess_tail = az.ess(idata, method="bulk"), az.ess(idata, method="tail")
    stats = fit.sample_stats
    print("  tree depth counts:", np.bincount(np.asarray(stats["tree_depth"]).ravel()).tolist())
    out = {
        "N": int(fit.data.values["N"]), "Q": int(fit.data.values["Q"]), "wall_s": wall,
        "cpu_s": cpu, "cpu_s_per_core_of_2": cpu / 2,
        "adapt_delta": fit.metadata.get("adapt_delta"),
        "divergences": int(np.sum(stats["diverging"])),
        "mean_leapfrog": float(np.mean(stats["n_steps"])),
        "max_tree_depth": int(np.max(stats["tree_depth"])),
        "step_size": float(np.mean(np.asarray(stats["step_size"])[:, -1])),
        "max_rhat": max(float(np.max(rhat[n].values)) for n in names),
        "min_ess_bulk": min(float(np.min(ess_bulk[n].values)) for n in names),
        "min_ess_tail": min(float(np.min(ess_tail[n].values)) for n in names),
    }
    # warmup leapfrog steps are not recorded: count them at the sampling phase's rate
    steps = float(np.sum(stats["n_steps"])) * (draws + warmup) / draws
    out["cpu_ms_per_leapfrog"] = 1e3 * cpu / steps
    for k, v in out.items():
        print(f"  {k:>14}: {v:.4g}" if isinstance(v, float) else f"  {k:>14}: {v}")
    med = {n: float(np.median(fit.variable(n))) for n in REPORTED
           if n in fit.draws and fit.draws[n].size}
    print("  posterior medians: " + ", ".join(f"{k}={v:.4g}" for k, v in med.items()))
    for n in names:
        r = float(np.max(rhat[n].values))
        e = float(np.min(ess_bulk[n].values))
        t = float(np.min(ess_tail[n].values))
        print(f"    {n:>15}: max R-hat {r:.4f}, min bulk ESS {e:.0f}, min tail ESS {t:.0f}")
    print(f"uptime: {os.popen('uptime').read().strip()}")
    return out


def test_miyagi_nuts_benchmark() -> None:
    out = run()
    assert out["divergences"] == 0 and out["max_rhat"] < 1.01 and out["wall_s"] < 300


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prior", default="gp", choices=["gp", "rw2"])
    ap.add_argument("--kernel", default="matern52", choices=["matern52", "matern32", "rbf"])
    ap.add_argument("--n-latent", type=int, default=24)
    ap.add_argument("--n-panels", type=int, default=64)
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20030726)
    ap.add_argument("--adapt-delta", type=float, default=None,
                    help="default: the family's (fit's) default")
    ap.add_argument("--stan-program", default=None,
                    help="path of another version of aftershock_detection.stan to sample")
    a = ap.parse_args()
    if a.stan_program:  # compare program versions (e.g. the previous commit's file)
        program = str(Path(a.stan_program).resolve())
        pystats.AftershockDetection.stan_program = lambda self: program
    run(a.prior, a.kernel, a.n_latent, a.n_panels, a.days, a.chains, a.draws, a.warmup,
        a.seed, a.adapt_delta)


if __name__ == "__main__":
    main()
