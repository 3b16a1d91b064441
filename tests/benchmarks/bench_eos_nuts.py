"""NUTS for the liquid-iron EOS on the shared measurements (target: 4 x 1000 draws < 3 min).

Run as a script::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/benchmarks/bench_eos_nuts.py \
        [--chains 4] [--draws 1000] [--errors profile|marginal|latent] [--laplace]

(``--laplace``: a Laplace approximation, ``chains × draws`` draws, instead of NUTS: the
quick look at the CMB/ICB density excess.)

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_eos_nuts.py -m benchmark -s

Data: Assael et al. (2006) 1-bar densities, liquid Hugoniot points 240-500 GPa, shock
sound speeds, and P-V-T points SIMULATED from the Kuwayama (2020) EOS at the P-T conditions
of the Kuwayama runs (``vignettes/liquid_iron_eos.py`` builds the same table).  Prints the
wall time of ``fit`` (compile cached), the
machine's load (``uptime``) before and after,
leapfrog steps and tree depth, divergences, max R-hat and min bulk/tail ESS over every
row of the summary (parameters, latent states with ``--errors latent``, derived), and the
CMB/ICB density excess over PREM (and deficit, 1 - rho_PREM/rho_Fe) on the 4000 +- 300 K
adiabat.  Timings depend on what else
runs on the machine (2 shared cores): indicative only; the load figures say how busy it was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.eos.data import assemble_reference_data, simulate_static
from pystats.eos.forward import EOSParameters

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eos"


def _load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(chains: int = 4, draws: int = 1000, seed: int = 1,
        errors: str = "profile", laplace: bool = False) -> dict[str, float]:
    pt = pd.read_csv(DATA / "kuwayama2020_pt_conditions.csv", comment="#")
    static = simulate_static(EOSParameters.kuwayama2020(), pt["pressure_GPa"],
                             pt["temperature_K"], seed=2020, dataset="kuwayama2020_simulated")
    data = assemble_reference_data(DATA, static=static)
    model = pystats.LiquidIronEOS(errors=errors)
    if laplace:
        return _laplace(model, data, chains * draws, seed)
    model.fit(data, method="map", seed=seed)  # compiles (cached) outside the timing
    print("before:", _load(), "| OMP_NUM_THREADS =", os.environ.get("OMP_NUM_THREADS"))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.ConvergenceWarning)
        fit = model.fit(data, method="nuts", seed=seed, chains=chains, draws=draws,
                        warmup=draws)
    wall = time.perf_counter() - t
    print("after: ", _load())
    s = fit.summary()
    stats = fit.sample_stats
    out = {"wall_s": wall, "max_rhat": float(s["r_hat"].max()),
           "min_ess_bulk": float(s["ess_bulk"].min()),
           "min_ess_tail": float(s["ess_tail"].min()),
           "divergences": int(np.sum(stats["diverging"])),
           "mean_leapfrog": float(np.mean(stats["n_steps"])),
           "mean_tree_depth": float(np.mean(stats["tree_depth"]))}
    out.update(_excess(fit))
    print(s.head(9).to_string())
    for k, v in out.items():
        print(f"{k:32s} {v:.4g}")
    return out


def _excess(fit: pystats.Fit) -> dict[str, float]:
    prof = fit.predict(T_cmb=4000.0, T_cmb_sd=300.0, prem=DATA / "prem_outer_core.csv")
    out = {}
    for name, row in (("cmb", prof.iloc[0]), ("icb", prof.iloc[-1])):
        for q in ("excess", "deficit"):
            for end in ("", "_lower", "_upper"):
                out[f"{name}_density_{q}{end}"] = float(row[f"density_{q}{end}"])
    return out


def _laplace(model: pystats.LiquidIronEOS, data: pd.DataFrame, draws: int, seed: int
             ) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.PystatsWarning)
        fit = model.fit(data, method="laplace", seed=seed, draws=draws, chains=1, n_starts=2)
    print(fit.summary().head(9).to_string())
    out = _excess(fit)
    for k, v in out.items():
        print(f"{k:32s} {v:.4g}")
    return out


@pytest.mark.benchmark
def test_bench_eos_nuts() -> None:
    run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--errors", choices=("profile", "marginal", "latent"),
                        default="profile")
    parser.add_argument("--laplace", action="store_true",
                        help="Laplace approximation instead of NUTS")
    a = parser.parse_args()
    run(a.chains, a.draws, a.seed, a.errors, a.laplace)
