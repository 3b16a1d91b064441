"""Benchmark: MORB melting inversion of the Gale et al. (2013) glasses (not run by default).

Run::

    pytest tests/benchmarks/bench_morb.py -m benchmark -s

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
