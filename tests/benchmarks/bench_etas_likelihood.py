"""Speed of the ETAS log-likelihood: exact (all pairs) vs fast (sum of exponentials).

Run as a script (prints a table)::

    /work/venv/bin/python tests/benchmarks/bench_etas_likelihood.py [--sizes 1000 10000 100000]
        [--threads 1] [--exact-max 20000] [--mle-max 200000] [--exact-mle-max 20000]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/bench_etas_likelihood.py -m benchmark -s

For each catalogue size ``N`` (simulated ETAS catalogues), it reports evaluations per second
of the log-likelihood value and of value + gradient (autograd), the relative difference
fast vs exact, the wall time of a maximum-likelihood fit (L-BFGS on log-parameters), and the
log-log slope of time against ``N`` (about 2 for exact, about 1 for fast).  Exact timings for
``N > --exact-max`` are extrapolated from the slope rather than measured (an exact value at
``N = 1e5`` is ~5e9 kernel evaluations).
"""

from __future__ import annotations

import argparse
import functools
import math
import time

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from pystats.etas.likelihood import etas_loglik_exact, etas_loglik_fast
from pystats.etas.simulate import branching_ratio, simulate_etas

pytestmark = pytest.mark.benchmark

TRUE = {"mu": 4.0, "K": 0.02, "c": 0.01, "alpha": 1.5, "p": 1.2}
NAMES = ("mu", "K", "c", "alpha", "p")


def catalogue(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """A simulated catalogue of about ``n`` events (window chosen from the branching ratio)."""
    t_end = n / TRUE["mu"]
    for _ in range(5):
        br = branching_ratio(TRUE["K"], TRUE["alpha"], 1.0, TRUE["c"], TRUE["p"], 3.0, 3.0,
                             t_max=t_end)
        t_end = n * (1 - 0.85 * br) / TRUE["mu"]
    cat = simulate_etas(**TRUE, m_ref=3.0, t_end=t_end, mc=3.0, b=1.0, rng=seed,
                        max_events=max(2_000_000, 3 * n))  # 1e7 for the GPU table
    return np.array(cat.times), np.array(cat.magnitudes), t_end


def _time(fn, min_time: float = 1.0, max_reps: int = 20) -> float:
    """Best-of wall time of ``fn()`` (seconds); at least one run, more while cheap."""
    best = math.inf
    total = 0.0
    reps = 0
    while reps < max_reps and (reps < 2 or total < min_time):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        total += dt
        reps += 1
        if dt > 30:
            break
    return best


def _value_and_grad(loglik, t, m, t_end) -> None:
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in TRUE.items()}
    ll = loglik(P, t, m, 0.0, t_end, 3.0)
    torch.autograd.grad(ll, list(P.values()))


def mle(loglik, t, m, t_end) -> tuple[float, int]:
    """Wall time and number of evaluations of an L-BFGS MLE from a perturbed start."""
    calls = [0]

    def f(x: np.ndarray) -> tuple[float, np.ndarray]:
        calls[0] += 1
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        P = {n: (xt[i] if n == "alpha" else torch.exp(xt[i])) for i, n in enumerate(NAMES)}
        ll = loglik(P, t, m, 0.0, t_end, 3.0)
        (g,) = torch.autograd.grad(ll, xt)
        return -float(ll.detach()), -g.numpy()

    start = {"mu": 2.0, "K": 0.04, "c": 0.03, "alpha": 1.2, "p": 1.1}
    x0 = np.array([start[n] if n == "alpha" else math.log(start[n]) for n in NAMES])
    t0 = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):  # as Model.fit does
        minimize(f, x0, jac=True, method="L-BFGS-B")
    return time.perf_counter() - t0, calls[0]


def slope(ns: list[int], ts: list[float]) -> float:
    ok = [(n, t) for n, t in zip(ns, ts, strict=True) if np.isfinite(t)]
    if len(ok) < 2:
        return math.nan
    x = np.log([n for n, _ in ok])
    y = np.log([t for _, t in ok])
    return float(np.polyfit(x, y, 1)[0])


def run(sizes: list[int], exact_max: int, mle_max: int, exact_mle_max: int,
        device: str = "cpu") -> list[dict]:
    rows = []
    for n in sizes:
        t, m, t_end = catalogue(n)
        row = {"N": len(t)}
        # as the model classes call them: a cache dict per catalogue keeps the
        # parameter-free geometry (dense pair differences / SOE timeline) between calls
        paths = (("exact", functools.partial(etas_loglik_exact, cache={}, device=device)),
                 ("fast", functools.partial(etas_loglik_fast, cache={}, device=device)))
        for name, fn in paths:
            if name == "exact" and len(t) > exact_max:
                row.update({f"{name}_value_s": math.nan, f"{name}_grad_s": math.nan,
                            f"{name}_mle_s": math.nan, f"{name}_mle_evals": 0})
                continue
            with torch.no_grad():
                row[f"{name}_value_s"] = _time(
                    lambda fn=fn, t=t, m=m, te=t_end: fn(TRUE, t, m, 0.0, te, 3.0))
            row[f"{name}_grad_s"] = _time(
                lambda fn=fn, t=t, m=m, te=t_end: _value_and_grad(fn, t, m, te))
            if len(t) <= (exact_mle_max if name == "exact" else mle_max):
                row[f"{name}_mle_s"], row[f"{name}_mle_evals"] = mle(fn, t, m, t_end)
            else:
                row[f"{name}_mle_s"], row[f"{name}_mle_evals"] = math.nan, 0
        if len(t) <= exact_max:
            with torch.no_grad():
                ve = float(etas_loglik_exact(TRUE, t, m, 0.0, t_end, 3.0))
                vf = float(etas_loglik_fast(TRUE, t, m, 0.0, t_end, 3.0))
            row["rel_diff"] = abs(vf - ve) / abs(ve)
        else:
            row["rel_diff"] = math.nan
        rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"\ntorch {torch.__version__}, threads {torch.get_num_threads()}")
    head = (f"{'N':>8} | {'exact val/s':>11} {'exact v+g/s':>11} {'exact MLE s':>11} | "
            f"{'fast val/s':>10} {'fast v+g/s':>10} {'fast MLE s':>10} | {'|rel diff|':>10}")
    print(head)
    print("-" * len(head))
    for r in rows:
        def rate(x: float) -> str:
            return f"{1 / x:11.3g}" if np.isfinite(x) else f"{'-':>11}"

        def sec(x: float, evals: int) -> str:
            return f"{x:7.3g} ({evals})" if np.isfinite(x) else f"{'-':>11}"

        print(f"{r['N']:>8} | {rate(r['exact_value_s'])} {rate(r['exact_grad_s'])} "
              f"{sec(r['exact_mle_s'], r['exact_mle_evals']):>11} | "
              f"{rate(r['fast_value_s'])[1:]} {rate(r['fast_grad_s'])[1:]} "
              f"{sec(r['fast_mle_s'], r['fast_mle_evals']):>10} | {r['rel_diff']:10.2g}")
    ns = [r["N"] for r in rows]
    for key in ("exact_value_s", "exact_grad_s", "fast_value_s", "fast_grad_s"):
        print(f"log-log slope of {key[:-2]} time vs N: {slope(ns, [r[key] for r in rows]):.2f}")


def test_benchmark_etas_likelihood() -> None:
    rows = run([1000, 10_000, 100_000], exact_max=20_000, mle_max=200_000, exact_mle_max=20_000)
    print_table(rows)
    for r in rows:
        if np.isfinite(r["rel_diff"]):
            assert r["rel_diff"] < 1e-6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu", help='"cpu" or "cuda" (e.g. --sizes 100000 '
                    '1000000 --exact-max 0 on a GPU)')
    ap.add_argument("--exact-max", type=int, default=20_000)
    ap.add_argument("--mle-max", type=int, default=200_000, help="largest N for the fast MLE")
    ap.add_argument("--exact-mle-max", type=int, default=20_000,
                    help="largest N for the exact MLE")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device: {args.device}")
    print_table(run(args.sizes, args.exact_max, args.mle_max, args.exact_mle_max,
                    args.device))


if __name__ == "__main__":
    main()
