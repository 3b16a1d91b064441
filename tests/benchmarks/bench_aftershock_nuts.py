"""NUTS for the aftershock-detection Stan program on the Miyagi 2003 sequence.

Run as a script (prints a table)::

    OMP_NUM_THREADS=1 PYTHONPATH=.:tests /work/main/.venv/bin/python \\
        tests/benchmarks/bench_aftershock_nuts.py [--prior gp|rw2] [--kernel matern52]
        [--n-latent 24] [--days 3] [--chains 4] [--draws 1000] [--warmup 1000]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_aftershock_nuts.py -m benchmark -s

Data: ``miyagi2003_aftershocks_sapp.csv`` (main shock M6.2 at t = 0; magnitude 0.0 =
undetermined, excluded), events with 0.01 <= t <= ``days``; the Stan data dict is built by
``tests/aftershock_reference.py`` (64 Gauss-Legendre panels of 8 nodes in log t, inducing
inputs equally spaced in log t).

1. Cost of one log density + gradient (what each leapfrog step costs): median of repeated
   calls of the compiled ``log_prob_grad`` through :class:`PystanLogDensity` at a point
   of the posterior.
2. NUTS (Stan's ``hmc_nuts_diag_e_adapt``, pystan; chains in 2 processes on the 2-core
   machine): wall time of ``PystanBackend.sample``, divergences, leapfrog steps, max
   R-hat and min bulk/tail ESS over all parameters (``z`` included), posterior medians.

``--reparam`` samples ``aftershock_detection_reparam.stan`` instead (an experiment, not the
family's program): the same posterior (log density equal to 1e-12 at corresponding points)
in coordinates ``log_rate = log K - beta (M0 - mu_0_loc)`` and ``mu_bar`` = mean of mu over
the events in place of ``K`` and ``mu_0``, which removes the two worst correlations of the
spec's parameterisation for a diagonal metric (K-beta -0.99; mu_0 against the GP level).

Timings depend on what else runs on the machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aftershock_reference as ref
from test_aftershock_stan import AftershockStanModel

from pystats.backends.pystan import PystanBackend
from pystats.model import PreparedData
from pystats.parameters import Parameter, ParameterSet

pytestmark = pytest.mark.benchmark

SHARED = Path(os.environ.get("PYSTATS_SHARED_DATA",
                             Path(__file__).resolve().parents[3] / "shared" / "data"))
M0 = 6.2
SCALARS = ("K", "c", "p", "beta", "sigma", "mu_0", "mu_slope")


REPARAM = Path(__file__).resolve().parent / "aftershock_detection_reparam.stan"


class ReparamModel(AftershockStanModel):
    """The experimental program: ``log_rate`` and ``mu_bar`` in place of ``K`` and ``mu_0``."""

    def parameters(self, data: PreparedData) -> ParameterSet:
        params = list(super().parameters(data))
        params[0] = Parameter("log_rate")
        params[5] = Parameter("mu_bar")
        return ParameterSet(params)

    def stan_program(self) -> Any:
        return REPARAM


def to_reparam(values: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Spec parameters -> the experiment's (log_rate, mu_bar)."""
    out = {k: v for k, v in values.items() if k not in ("K", "mu_0")}
    beta = float(np.ravel(values["beta"])[0])
    out["log_rate"] = math.log(float(np.ravel(values["K"])[0])) + beta * (data["M0"]
                                                                         - data["mu_0_loc"])
    scalars = {k: float(np.ravel(v)[0]) for k, v in values.items()
               if k != "z" and np.size(v)}
    scalars["z"] = np.asarray(values["z"], dtype=float)
    out["mu_bar"] = float(np.mean(ref.mu_of_s(data["s"], scalars, data)))
    return out


def miyagi_data(days: float, prior: str, kernel: str, n_latent: int) -> dict[str, Any]:
    df = pd.read_csv(SHARED / "catalogs" / "miyagi2003_aftershocks_sapp.csv")
    return ref.stan_data(df["time"].to_numpy(float), df["magnitude"].to_numpy(float), M0,
                         0.01, days, prior=prior, kernel=kernel, n_inducing=n_latent,
                         n_nodes=n_latent, missing_magnitude=0.0)


def initial_values(data: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Data-based starting values (jittered): K such that the expected number of detected
    events equals N under the linear mean mu_0_loc - 0.3 (s - s1), typical c, p, beta, sigma,
    the prior mode of the length-scale, z = 0."""
    p, c, beta, sigma = 1.05, 0.02, 2.2, 0.3
    mu_q = data["mu_0_loc"] - 0.3 * (data["s_q"] - data["s1"])
    rate = np.exp(-p * np.log(np.exp(data["s_q"]) + c) - beta * (mu_q - data["M0"])
                  + 0.5 * (beta * sigma) ** 2)
    out: dict[str, Any] = {
        "K": data["N"] / float(np.dot(data["w_q"], rate)) * np.exp(rng.normal(0, 0.1)),
        "c": c, "p": p, "beta": beta, "sigma": sigma,
        "mu_0": data["mu_0_loc"] + rng.normal(0, 0.05), "mu_slope": -0.3,
    }
    if data["prior"] == 1:
        out["gp_amplitude"] = [0.3]
        out["gp_lengthscale"] = [data["ls_beta"] / (data["ls_alpha"] + 1)]
        out["z"] = rng.normal(0, 0.1, data["n_latent"])
    else:
        out["rw_scale"] = [0.05]
        out["z"] = rng.normal(0, 0.1, data["n_latent"] - 2)
    return out


def gradient_cost(backend: PystanBackend, data: dict[str, Any], u: np.ndarray,
                  repeats: int = 300, model: AftershockStanModel | None = None) -> float:
    model = model or AftershockStanModel()
    density = backend.log_density(model, model.prepare(data), include_prior=True)
    density.value_and_grad(u, jacobian=True)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        density.value_and_grad(u, jacobian=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(prior: str = "gp", kernel: str = "matern52", n_latent: int = 24, days: float = 3.0,
        chains: int = 4, draws: int = 1000, warmup: int = 1000, seed: int = 20030726,
        adapt_delta: float = 0.8, reparam: bool = False) -> dict[str, Any]:
    import arviz as az

    backend = PystanBackend()
    data = miyagi_data(days, prior, kernel, n_latent)
    model = ReparamModel() if reparam else AftershockStanModel()
    print(f"program: {model.stan_program()}")
    print(f"Miyagi 2003, t in [0.01, {days}] d: N = {data['N']} events, Q = {data['Q']} "
          f"quadrature nodes, prior = {prior}, kernel = {kernel}, n_latent = {n_latent}")
    print(f"load average before: {os.getloadavg()}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    inits = [initial_values(data, rng) for _ in range(chains)]
    if reparam:
        inits = [to_reparam(i, data) for i in inits]
    res = backend.sample(model, model.prepare(data), chains=chains, draws=draws,
                         warmup=warmup, seed=seed, adapt_delta=adapt_delta, inits=inits)
    wall = time.perf_counter() - t0
    print(f"load average after: {os.getloadavg()}")
    extra = ("log_rate", "mu_bar") if reparam else ()
    names = [n for n in (*extra, *SCALARS, "gp_amplitude", "gp_lengthscale", "rw_scale", "z")
             if res.draws[n].size]
    idata = az.from_dict(posterior={n: res.draws[n] for n in names})
    rhat = az.rhat(idata)
    ess_bulk, ess_tail = az.ess(idata, method="bulk"), az.ess(idata, method="tail")
    max_rhat = max(float(np.max(rhat[n].values)) for n in names)
    min_bulk = min(float(np.min(ess_bulk[n].values)) for n in names)
    min_tail = min(float(np.min(ess_tail[n].values)) for n in names)
    stats = res.sample_stats
    print("  tree depth counts:", np.bincount(stats["tree_depth"].ravel()).tolist())
    out = {
        "N": data["N"], "wall_s": wall,
        "compile_s": res.info.get("compile_seconds", 0.0),
        "sample_s": res.info.get("sample_seconds", float("nan")),
        "divergences": int(np.sum(stats["diverging"])),
        "mean_leapfrog": float(np.mean(stats["n_steps"])),
        "max_tree_depth": int(np.max(stats["tree_depth"])),
        "step_size": float(np.mean(stats["step_size"][:, -1])),
        "max_rhat": max_rhat, "min_ess_bulk": min_bulk, "min_ess_tail": min_tail,
    }
    med = {n: float(np.median(res.draws[n])) for n in (*SCALARS, "b")}
    params = {n: float(np.median(res.draws[n])) for n in SCALARS}
    for n in ("gp_amplitude", "gp_lengthscale", "rw_scale"):
        if res.draws[n].size:
            params[n] = float(np.median(res.draws[n]))
    params["z"] = np.median(res.draws["z"].reshape(-1, res.draws["z"].shape[-1]), axis=0)
    u = ref.unconstrain(params, data)
    if reparam:
        u[0] = float(np.median(res.draws["log_rate"]))
        u[5] = float(np.median(res.draws["mu_bar"]))
    out["grad_ms"] = 1e3 * gradient_cost(backend, data, u, model=model)
    for k, v in out.items():
        print(f"  {k:>14}: {v:.4g}" if isinstance(v, float) else f"  {k:>14}: {v}")
    print("  posterior medians: " + ", ".join(f"{k}={v:.4g}" for k, v in med.items()))
    for n in names:
        r = float(np.max(rhat[n].values))
        e = float(np.min(ess_bulk[n].values))
        print(f"    {n:>15}: max R-hat {r:.4f}, min bulk ESS {e:.0f}")
    return out


def test_miyagi_nuts_benchmark() -> None:
    out = run()
    assert out["divergences"] == 0 and out["max_rhat"] < 1.01


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prior", default="gp", choices=["gp", "rw2"])
    ap.add_argument("--kernel", default="matern52", choices=sorted(ref.KERNELS))
    ap.add_argument("--n-latent", type=int, default=24)
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20030726)
    ap.add_argument("--adapt-delta", type=float, default=0.8)
    ap.add_argument("--reparam", action="store_true",
                    help="the experimental program with log_rate and mu_bar")
    a = ap.parse_args()
    run(a.prior, a.kernel, a.n_latent, a.days, a.chains, a.draws, a.warmup, a.seed,
        a.adapt_delta, a.reparam)


if __name__ == "__main__":
    main()
