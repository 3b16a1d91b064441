"""Vinet against Birch–Murnaghan isotherms on the shared liquid-iron data by PSIS-LOO.

Run as a script::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/benchmarks/bench_eos_compare.py \
        [--chains 4] [--draws 1000] [--bridge]

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
values (Vehtari, Gelman & Gabry 2017, eq. 24), the wall time and the load (``uptime``);
with ``--bridge`` also each fit's log marginal likelihood by bridge sampling
(:func:`pystats.log_marginal_likelihood`) and the log Bayes factor Vinet : BM3.
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


def bridge_lines(fits: dict[str, pystats.Fit]) -> str:
    """Log marginal likelihood of each fit by bridge sampling and the log Bayes factor
    Vinet : BM3 with its error (the two errors added in quadrature)."""
    t = time.perf_counter()
    res = {iso: pystats.log_marginal_likelihood(f) for iso, f in fits.items()}
    lines = [f"log p(y) {iso}: {r.log_marginal_likelihood:.3f} ± {r.error:.3f} "
             f"({r.iterations} iterations, ESS {r.ess_posterior:.0f})" for iso, r in res.items()]
    v, b = res["vinet"], res["bm3"]
    lines.append(f"log BF vinet:bm3 = {v.log_marginal_likelihood - b.log_marginal_likelihood:.3f}"
                 f" ± {np.hypot(v.error, b.error):.3f}; bridge sampling "
                 f"{time.perf_counter() - t:.1f} s")
    return "\n".join(lines)


def laplace_evidence(seed: int = 1, errors: str = "marginal") -> None:
    """Print the Laplace approximation of each isotherm's log evidence on both tables,
    ``log q(û) + d/2 log 2π + ½ log det Σ`` (unconstrained scale, ``method="laplace"``):
    a check of the bridge-sampling values for these near-normal posteriors."""
    import math

    for name, data in tables().items():
        ev = {}
        for iso in ("vinet", "bm3"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pystats.ConvergenceWarning)
                lap = pystats.LiquidIronEOS(isotherm=iso, errors=errors).fit(
                    data, method="laplace", seed=seed)
            cov = np.asarray(lap.cov_unconstrained)
            ev[iso] = (lap.optimizer["log_density"] + 0.5 * cov.shape[0] * math.log(2 * math.pi)
                       + 0.5 * np.linalg.slogdet(cov)[1])
        print(f"{name}: Laplace log evidence vinet {ev['vinet']:.3f}, bm3 {ev['bm3']:.3f}, "
              f"log BF {ev['vinet'] - ev['bm3']:.3f}")


def run(chains: int = 4, draws: int = 1000, seed: int = 1,
        bridge: bool = False, errors: str = "marginal") -> dict[str, pd.DataFrame]:
    out = {}
    for name, data in tables().items():
        print(f"== {name}: {len(data)} rows;", _load())
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pystats.ConvergenceWarning)
            fits = {iso: pystats.LiquidIronEOS(isotherm=iso, errors=errors).fit(
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
        if bridge:
            print(bridge_lines(fits))
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
    parser.add_argument("--errors", default="marginal", choices=("marginal", "profile"),
                        help="LiquidIronEOS errors option (bridge sampling: marginal only)")
    parser.add_argument("--bridge", action="store_true",
                        help="also the log marginal likelihoods by bridge sampling")
    a = parser.parse_args()
    run(a.chains, a.draws, a.seed, a.bridge, a.errors)
