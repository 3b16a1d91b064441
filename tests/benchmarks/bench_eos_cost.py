"""Load-independent cost of NUTS for the liquid-iron EOS: gradient evaluations and CPU.

Run as a script::

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/benchmarks/bench_eos_cost.py \
        [--chains 4] [--draws 1000] [--program PATH]

``--program`` samples another version of ``liquid_iron_eos.stan`` on the same data (e.g.
``git show <commit>:stan/liquid_iron_eos.stan > /tmp/old.stan``) to compare versions;
the posterior means and sds are printed for that comparison.  The data are those of
``bench_eos_nuts.py``.  Unlike the wall time, the numbers it reports do not depend on what
else runs on the machine: leapfrog steps (= gradient evaluations) of warmup and sampling,
tree depth, step size, and the CPU seconds of the sampler processes and of the Python
process (pystan's message handling), from which the idle 2-core wall time of the 4-chain
fit is about their sum / 2.

The program is built by pystats' pystan engine (its compile cache), then sampled by
pystan directly with the warmup draws saved (``fit.sample_stats`` of pystats keeps the
post-warmup iterations only); aiohttp's 5-minute client timeout is lifted so that a
compile on a busy machine does not fail.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "eos"
NAMES = ["V0", "K0", "K0p", "gamma0", "q", "e0", "g"]


def _children_cpu() -> float:
    """CPU seconds (user + system) of the running child processes (pystan's samplers)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run(chains: int = 4, draws: int = 1000, seed: int = 1,
        program: str | Path | None = None) -> dict[str, float]:
    import aiohttp.client

    aiohttp.client.DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None)
    import pystats
    from pystats.backends import pystan as engine
    from pystats.eos.data import assemble_reference_data, simulate_static
    from pystats.eos.forward import EOSParameters

    pt = pd.read_csv(DATA / "kuwayama2020_pt_conditions.csv", comment="#")
    static = simulate_static(EOSParameters.kuwayama2020(), pt["pressure_GPa"],
                             pt["temperature_K"], seed=2020, dataset="kuwayama2020_simulated")
    class Program(pystats.LiquidIronEOS):
        def stan_program(self) -> str | Path:
            return Path(program).resolve() if program else super().stan_program()

    model = Program()
    prep = model.prepare(assemble_reference_data(DATA, static=static))
    built = engine.PystanBackend()._built(model, prep, True, seed, False)[0].model
    inits = [{k: float(v) for k, v in model.initial_values(prep, np.random.default_rng(c))
              .items()} for c in range(chains)]
    c0, t0 = time.process_time(), time.perf_counter()
    kwargs = {"num_chains": chains, "num_samples": draws, "num_warmup": draws,
              "save_warmup": True, "init": inits}
    fit, error, text = engine._on_stan_thread(engine._sample, built, kwargs, True, True)
    if error is not None:
        raise RuntimeError(f"{error}\n{text[-2000:]}")
    wall = time.perf_counter() - t0
    cpu_main, cpu_samplers = time.process_time() - c0, _children_cpu()
    n = draws * chains  # pystan: warmup iterations first, chains interleaved
    leap = np.asarray(fit["n_leapfrog__"]).ravel()
    depth = np.asarray(fit["treedepth__"]).ravel()
    out = {"wall_s": wall, "cpu_samplers_s": cpu_samplers, "cpu_python_s": cpu_main,
           "gradients_total": float(leap.sum()), "gradients_warmup": float(leap[:n].sum()),
           "mean_leapfrog_sampling": float(leap[n:].mean()),
           "mean_tree_depth_sampling": float(depth[n:].mean()),
           "mean_step_size": float(np.mean(np.unique(np.asarray(fit["stepsize__"])[..., n:]))),
           "divergences": float(np.asarray(fit["divergent__"]).ravel()[n:].sum()),
           "cpu_us_per_gradient": 1e6 * cpu_samplers / float(leap.sum())}
    for k, v in out.items():
        print(f"{k:28s} {v:.4g}")
    post = fit.to_frame().tail(n)[NAMES]
    print(post.agg(["mean", "std"]).to_string())
    return out


@pytest.mark.benchmark
def test_bench_eos_cost() -> None:
    run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--program", default=None)
    a = parser.parse_args()
    run(a.chains, a.draws, a.seed, a.program)
