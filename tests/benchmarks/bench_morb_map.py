"""Benchmark: MAP of the MORB melting inversion on the Gale et al. (2013) glasses (issue #10:
under 5 s), without the NUTS part of ``bench_morb.py``.

Run as a script (three fits with seeds 1, 2, 3 in one fresh process; the first also pays
the import of torch)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/benchmarks/bench_morb_map.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_morb

import pystats

SHARED = Path(os.environ.get("PYSTATS_SHARED_DATA",
                             Path(__file__).resolve().parents[2].parent / "shared" / "data"))

if __name__ == "__main__":
    print("load average before:", os.getloadavg())
    data = bench_morb.gale_glasses(SHARED)
    model = pystats.MORBMelting(elements=bench_morb.ELEMENTS)
    for seed in (1, 2, 3):
        t0, c0 = time.perf_counter(), time.process_time()
        fit = model.fit(data, method="map", seed=seed)
        print(f"seed {seed}: {time.perf_counter() - t0:.2f} s wall, "
              f"{time.process_time() - c0:.2f} s CPU, {fit.optimizer['n_evaluations']} "
              f"evaluations, {len(data)} samples x {len(bench_morb.ELEMENTS)} elements, "
              f"converged={fit.diagnose(warn=False).ok}")
    print("load average after:", os.getloadavg())
