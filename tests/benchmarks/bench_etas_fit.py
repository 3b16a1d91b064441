"""Wall time of ETAS maximum-likelihood fits through the public API, on real catalogues.

Run as a script (prints a table)::

    /work/venv/bin/python tests/benchmarks/bench_etas_fit.py [--repeats 3] [--nuts exact fast]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_etas_fit.py -m benchmark -s

Fits, with default settings (``n_starts=4``, stopping once two starts agree; exact
likelihood up to 1 200 events, sum of exponentials above):

* the 2003 northern Miyagi aftershocks (SAPP's example: M >= 2.5, window [0.01, 18.68] d,
  reference magnitude 6.2, mu = 0; 536 target events) — target under 1 s;
* the Japan ComCat catalogue 1990–2019, all 37 581 events (mc = 2.7) — target under 30 s;
* optionally (``--nuts``) the Miyagi fit by NUTS, 4 chains x 1000 draws after 1000 warmup
  (target under 2 minutes, R-hat < 1.01, no divergences), with the exact or the SOE history
  sums in Stan; the compile time (cached after the first run) is reported separately.

Reads ``../shared/data/catalogs`` (see its README for provenance and licences).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import pytest
import torch

import pystats
from pystats.errors import DataWarning

pytestmark = pytest.mark.benchmark

DATA = Path(os.environ.get(
    "PYSTATS_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
)) / "catalogs"


def _read(name: str, **kw) -> pystats.Catalog:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return pystats.read_catalog(DATA / name, **kw)


def cases() -> list[tuple[str, object, pystats.Catalog, dict]]:
    miyagi = _read("miyagi2003_aftershocks_sapp.csv", missing_magnitude=0.0, on_missing="drop")
    japan = _read("japan_comcat_1990_2019_m2.5.csv")
    return [
        ("Miyagi 2003 (SAPP example)", pystats.ETAS(mc=2.5, reference_magnitude=6.2, mu=0.0),
         miyagi, {"t_start": 0.01, "t_end": 18.68}),
        ("Japan ComCat 1990-2019, all events", pystats.ETAS(mc=2.7), japan, {}),
    ]


def run(repeats: int) -> list[dict]:
    rows = []
    for label, model, cat, window in cases():
        times = []
        for i in range(repeats):
            t0 = time.perf_counter()
            fit = model.fit(cat, seed=i, **window)
            times.append(time.perf_counter() - t0)
        rows.append({
            "case": label, "n": fit.data.summary["n"], "likelihood": fit.data.summary["likelihood"],
            "best_s": min(times), "times": times, "starts": len(fit.optimizer["optima"]),
            "evals": fit.optimizer["n_evaluations"], "loglik": fit.optimizer["log_likelihood"],
            "converged": fit.optimizer["converged"],
        })
    return rows


def nuts_miyagi(likelihood: str) -> dict:
    """Miyagi NUTS, 4 chains x 1000 draws after 1000 warmup, through ``ETAS.fit``."""
    import numpy as np

    cat = cases()[0][2]
    model = pystats.ETAS(mc=2.5, reference_magnitude=6.2, mu=0.0, likelihood=likelihood)
    t0 = time.perf_counter()
    fit = model.fit(cat, method="nuts", seed=1, chains=4, draws=1000, warmup=1000,
                    t_start=0.01, t_end=18.68)
    wall = time.perf_counter() - t0
    table = fit.summary()
    names = fit.parameters.names
    return {
        "likelihood": likelihood, "wall_s": wall,
        "compile_s": float(fit.metadata.get("compile_seconds", float("nan"))),
        "max_rhat": float(table.loc[names, "r_hat"].max()),
        "min_ess_bulk": float(table.loc[names, "ess_bulk"].min()),
        "divergences": int(np.asarray(fit.sample_stats["diverging"]).sum()),
    }


def print_table(rows: list[dict]) -> None:
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads")
    for r in rows:
        runs = ", ".join(f"{t:.2f}" for t in r["times"])
        print(f"{r['case']}: N = {r['n']} ({r['likelihood']}), best {r['best_s']:.2f} s "
              f"(runs: {runs}); {r['starts']} starts, {r['evals']} evaluations, "
              f"log L = {r['loglik']:.3f}, converged = {r['converged']}")


def test_benchmark_etas_fit() -> None:
    rows = run(repeats=2)
    print_table(rows)
    assert all(r["converged"] for r in rows)
    r = nuts_miyagi("auto")
    print(r)
    assert r["max_rhat"] < 1.01 and r["divergences"] == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--nuts", nargs="*", default=[], choices=["auto", "exact", "fast"],
                    help="also time the Miyagi NUTS fit with these likelihood paths")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.repeats:
        print_table(run(args.repeats))
    for lik in args.nuts:
        r = nuts_miyagi(lik)
        print(f"Miyagi NUTS 4 x 1000 ({r['likelihood']}): {r['wall_s']:.1f} s wall "
              f"(compile {r['compile_s']:.1f} s), max R-hat {r['max_rhat']:.4f}, "
              f"min bulk ESS {r['min_ess_bulk']:.0f}, {r['divergences']} divergences")


if __name__ == "__main__":
    main()
