"""Vinet against Birch–Murnaghan isotherms on the shared liquid-iron data by PSIS-LOO.

Run as a script::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/benchmarks/bench_eos_compare.py \
        [--chains 4] [--draws 1000]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_eos_compare.py -m benchmark -s

Two tables, each fitted with both isotherms by NUTS (:func:`pystats.eos.compare_isotherms`,
the default ``errors="profile"``; the model card's table was made with ``"marginal"``, the
default then):

* ``measured``: only the public measurements (Assael et al. 2006 1-bar densities, liquid
  Hugoniot points 240–500 GPa, shock sound speeds), the real-data comparison;
* ``benchmark``: the same plus the P–V–T points SIMULATED from the (Vinet) Kuwayama 2020
  EOS at the P–T conditions of the Kuwayama runs, the table of ``bench_eos_nuts.py`` (the
  simulated points favour Vinet by construction).

Prints :func:`pystats.compare`'s table (``elpd_loo``, its standard error, ``p_loo``,
``max_pareto_k``) and the standard error of the elpd difference from the pointwise
values (Vehtari, Gelman & Gabry 2017, eq. 24), the wall time and the load (``uptime``).
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


def tables() -> dict[str, pd.DataFrame]:
    """The ``measured`` and ``benchmark`` tables (module docstring)."""
    pt = pd.read_csv(DATA / "kuwayama2020_pt_conditions.csv", comment="#")
    static = simulate_static(EOSParameters.kuwayama2020(), pt["pressure_GPa"],
                             pt["temperature_K"], seed=2020, dataset="kuwayama2020_simulated")
    return {"measured": assemble_reference_data(DATA),
            "benchmark": assemble_reference_data(DATA, static=static)}


def se_difference(fits: dict[str, pystats.Fit]) -> float:
    """Standard error of elpd_loo(vinet) − elpd_loo(bm3) from the pointwise values."""
    import arviz as az

    pointwise = [np.asarray(az.loo(f.to_arviz(), pointwise=True).loo_i) for f in fits.values()]
    d = pointwise[0] - pointwise[1]
    return float(np.sqrt(d.size * np.var(d)))


def run(chains: int = 4, draws: int = 1000, seed: int = 1) -> dict[str, pd.DataFrame]:
    out = {}
    for name, data in tables().items():
        print(f"== {name}: {len(data)} rows;", _load())
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pystats.ConvergenceWarning)
            fits = {iso: pystats.LiquidIronEOS(isotherm=iso).fit(
                data, method="nuts", seed=seed, chains=chains, draws=draws, warmup=draws)
                for iso in ("vinet", "bm3")}
        table = pystats.compare(fits)
        wall = time.perf_counter() - t
        cols = ["elpd_loo", "se_elpd_loo", "p_loo", "d_elpd_loo", "max_pareto_k", "aic"]
        print(table[cols].to_string(float_format=lambda x: f"{x:.3f}"))
        rhat = max(float(f.summary()["r_hat"].max()) for f in fits.values())
        div = sum(int(np.sum(f.sample_stats["diverging"])) for f in fits.values())
        print(f"elpd(vinet) - elpd(bm3) = "
              f"{table.loc['vinet', 'elpd_loo'] - table.loc['bm3', 'elpd_loo']:.3f} "
              f"± {se_difference(fits):.3f} (se); max R-hat {rhat:.4f}; divergences {div}; "
              f"{wall:.0f} s;", _load())
        out[name] = table
    return out


@pytest.mark.benchmark
def test_bench_eos_compare() -> None:
    run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    a = parser.parse_args()
    run(a.chains, a.draws, a.seed)
