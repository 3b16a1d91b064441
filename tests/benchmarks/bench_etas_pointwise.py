"""Wall time and memory of the ETAS pointwise log likelihood (the input of PSIS-LOO / WAIC).

Run as a script (prints a line per case)::

    python tests/benchmarks/bench_etas_pointwise.py [--draws 4000] [--events 1000] [--exact]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_etas_pointwise.py -m benchmark -s

Case: 4 000 parameter draws (spread as a posterior would be: c over a factor ~3, p over
±0.15) of a simulated 1 000-event catalogue, through
:meth:`pystats.ETAS.pointwise_log_likelihood` (what ``Fit.to_arviz`` calls).  Target:
under 5 s (the former loop over draws, exact sums per draw, took over 10 minutes for a
907-event NUTS fit).  Peak memory is measured with ``tracemalloc`` (NumPy allocations):
the result itself is ``draws x events x 8`` bytes (32 MB), the working set a few
``512 x K_soe`` blocks.  ``--exact`` also times the exact pair sums
(``likelihood="exact"``) on a tenth of the draws.

Measured (2-core shared machine, NumPy single thread): 4 000 x 1 000, SOE (83
exponentials): 1.7 s at load average ~2, 3.6 s at ~8; peak 41 MB (result 31 MB).  Exact
pairs, 400 x 1 000: 63 s at load ~10 (about 150 ns per draw and pair).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np
import pytest

from pystats.etas.model import ETAS
from pystats.etas.simulate import simulate_etas

pytestmark = pytest.mark.benchmark


def case(n_draws: int, n_events: int) -> tuple[ETAS, object, dict[str, np.ndarray]]:
    cat = simulate_etas(0.4, 0.02, 0.01, 1.5, 1.2, m_ref=3.0, t_end=1.4 * n_events, mc=3.0,
                        b=1.0, rng=3)
    t = np.asarray(cat.times)[:n_events]
    m = np.round(np.asarray(cat.magnitudes), 1)[:n_events]
    rng = np.random.default_rng(1)
    draws = {"mu": 0.4 * np.exp(0.1 * rng.standard_normal(n_draws)),
             "K": 0.02 * np.exp(0.1 * rng.standard_normal(n_draws)),
             "c": 0.01 * np.exp(0.3 * rng.standard_normal(n_draws)),
             "alpha": 1.5 + 0.1 * rng.standard_normal(n_draws),
             "p": 1.2 + 0.05 * rng.standard_normal(n_draws)}
    return ETAS(mc=3.0, reference_magnitude=3.0), (t, m), draws


def measure(n_draws: int, n_events: int, likelihood: str = "auto") -> dict:
    model, data, draws = case(n_draws, n_events)
    model = ETAS(mc=3.0, reference_magnitude=3.0, likelihood=likelihood)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = model.prepare(data)
    draws = {k: v.reshape(4, -1) for k, v in draws.items()}
    tracemalloc.start()
    t0 = time.perf_counter()
    out = model.pointwise_log_likelihood(draws, prepared)["time"]
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"draws": n_draws, "events": prepared.summary["n"], "likelihood": likelihood,
            "wall_s": wall, "peak_mb": peak / 2**20, "result_mb": out.nbytes / 2**20}


def show(r: dict) -> None:
    print(f"{r['draws']} draws x {r['events']} events ({r['likelihood']}): {r['wall_s']:.2f} s, "
          f"peak {r['peak_mb']:.0f} MB (result {r['result_mb']:.0f} MB)")


def test_benchmark_pointwise_4000_draws_1000_events() -> None:
    r = measure(4000, 1000)
    show(r)
    assert r["wall_s"] < 5.0
    assert r["peak_mb"] < 2 * r["result_mb"] + 64


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=4000)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--exact", action="store_true")
    args = ap.parse_args()
    show(measure(args.draws, args.events))
    if args.exact:
        show(measure(max(4, args.draws // 10), args.events, "exact"))


if __name__ == "__main__":
    main()
