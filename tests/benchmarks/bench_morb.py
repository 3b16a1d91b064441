"""Benchmark: MORB melting inversion of the Gale et al. (2013) glasses (not run by default).

Run::

    pytest tests/benchmarks/bench_morb.py -m benchmark -s

or, for the NUTS part alone (wall and CPU time with the chains' processes, load average,
R-hat, ESS, divergences, tree depth; ``--n 80 --chains 2 --draws 500`` for a subset)::

    PYTHONPATH=. nice python tests/benchmarks/bench_morb.py [--n N] [--chains C] [--draws D]

The glasses with MgO >= 8 wt% and La, Ce, Nd, Sm, Eu, Gd, Dy, Er, Yb, Lu, Nb, Zr, Y, Hf,
Th, Sr all measured (456 samples x 16 elements); prints the wall and CPU time of MAP
(torch, target < 5 s; the first fit in a process also imports torch) and of NUTS 4 x 1000
(pystan, compile cached; target < 3 min), with R-hat, divergences and ESS.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

ELEMENTS = ["La", "Ce", "Nd", "Sm", "Eu", "Gd", "Dy", "Er", "Yb", "Lu", "Nb", "Zr", "Y", "Hf",
            "Th", "Sr"]


def gale_glasses(shared_data: Path):
    """Gale et al. (2013) glasses (Material GL), MgO >= 8 wt%, all of ELEMENTS > 0."""
    import pandas as pd

    d = pd.read_csv(shared_data / "geochem" / "gale2013_morb_samples.csv")
    mgo = pd.to_numeric(d["MgO"], errors="coerce")
    conc = d[ELEMENTS].apply(pd.to_numeric, errors="coerce")
    keep = (d["Material"] == "GL") & (mgo >= 8) & conc.gt(0).all(axis=1)
    return d.loc[keep, ["Sample", "MgO", *ELEMENTS]].reset_index(drop=True)


def run_nuts(data, chains: int = 4, draws: int = 1000, seed: int = 1) -> None:
    """NUTS ``chains x draws`` (warmup ``draws``) on ``data``, compile excluded; prints the
    figures of the model card (models/morb_melting.md section 4)."""
    import os

    import numpy as np
    import psutil

    import pystats

    def child_cpu() -> dict[int, float]:  # the chains run in httpstan's worker processes
        out = {}
        for p in psutil.Process().children(recursive=True):
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        return out

    model = pystats.MORBMelting(elements=ELEMENTS)
    model.fit(data.iloc[:5], method="nuts", seed=1, chains=1, draws=10, warmup=10)  # compile
    load0 = os.getloadavg()
    cpu0 = child_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(data, method="nuts", seed=seed, chains=chains, draws=draws,
                        warmup=draws)
    wall, own = time.perf_counter() - t0, time.process_time() - c0
    children = sum(t - cpu0.get(pid, 0.0) for pid, t in child_cpu().items())
    table = fit.summary()
    ss = fit.sample_stats
    print(f"Gale glasses: {len(data)} samples x {len(ELEMENTS)} elements; NUTS {chains} x "
          f"{draws} (warmup {draws}): {wall:.1f} s wall, CPU {own:.1f} s in this process + "
          f"{children:.1f} s in the chains' processes; load average {load0} -> "
          f"{os.getloadavg()}")
    print(f"max R-hat {table['r_hat'].max():.4f}; min ESS bulk {table['ess_bulk'].min():.0f},"
          f" tail {table['ess_tail'].min():.0f}; divergences {int(ss['diverging'].sum())}; "
          f"tree depth mean {float(np.mean(ss['tree_depth'])):.2f}, max "
          f"{int(np.max(ss['tree_depth']))}; step size {float(np.mean(ss['step_size'])):.3f}")
    print(table.sort_values("ess_bulk").head(5)[["mean", "sd", "r_hat", "ess_bulk"]])
    print(table.loc[["mu_F", "sigma_F", "L_mean", "C0[La]", "C0[Yb]"],
                    ["mean", "sd", "r_hat", "ess_bulk"]])


def test_map_and_nuts_on_gale_glasses(shared_data: Path) -> None:
    import pystats

    data = gale_glasses(shared_data)
    model = pystats.MORBMelting(elements=ELEMENTS)
    t0, c0 = time.perf_counter(), time.process_time()
    fit_map = model.fit(data, method="map", seed=1)  # cold: includes importing torch
    t_cold, c_cold = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    fit_map = model.fit(data, method="map", seed=2)
    t_map, c_map = time.perf_counter() - t0, time.process_time() - c0
    model.fit(data.iloc[:5], method="nuts", seed=1, chains=1, draws=10, warmup=10)  # compile
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(data, method="nuts", seed=1, chains=4, draws=1000, warmup=1000)
    t_nuts = time.perf_counter() - t0
    table = fit.summary()
    div = int(fit.sample_stats["diverging"].sum())
    print(f"\nGale glasses: {len(data)} samples x {len(ELEMENTS)} elements")
    print(f"MAP: {t_map:.2f} s wall, {c_map:.2f} s CPU (first in process: {t_cold:.2f} s "
          f"wall, {c_cold:.2f} s CPU); {fit_map.optimizer['n_evaluations']} evaluations, "
          f"converged={fit_map.diagnose(warn=False).ok}")
    print(f"NUTS 4 x 1000: {t_nuts:.1f} s; max R-hat {table['r_hat'].max():.4f}; "
          f"min ESS bulk {table['ess_bulk'].min():.0f}; divergences {div}")
    print(table.loc[[f"C0[{e}]" for e in ELEMENTS], ["mean", "sd", "hdi_lower", "hdi_upper",
                                                     "r_hat"]].to_string())
    assert div == 0
    assert table["r_hat"].max() < 1.01


if __name__ == "__main__":
    import argparse
    import os

    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=0, help="random subset of n glasses")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    shared = Path(os.environ.get("PYSTATS_SHARED_DATA",
                                 Path(__file__).resolve().parents[2].parent / "shared" / "data"))
    glasses = gale_glasses(shared)
    if 0 < args.n < len(glasses):
        pick = np.random.default_rng(0).choice(len(glasses), args.n, replace=False)
        glasses = glasses.iloc[pick].reset_index(drop=True)
    run_nuts(glasses, chains=args.chains, draws=args.draws)
