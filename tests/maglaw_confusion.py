"""Which law do PSIS-LOO, AIC and BIC prefer on catalogues simulated from each law?

``python tests/maglaw_confusion.py [n_rep] [n_events] [method] [--detection]
[--laws LAW ...] [--seed S] [--out FILE.csv]`` simulates ``n_rep`` catalogues of
``n_events`` binned magnitudes (threshold 1.95, bin 0.1) from each law of :data:`TRUTH`
(with ``--detection`` thinned by the probit of :data:`DETECTION` and fitted with
``detection=True``), fits every law with ``method`` (``laplace``: LOO, AIC and BIC;
``mle``: AIC and BIC only; ``nuts``: AIC and BIC of MLE fits, LOO of NUTS fits of the laws
within ``--screen`` log-likelihood units of the best, with ``--chains``, ``--draws``,
``--warmup``, ``--adapt-delta``) and prints the confusion tables (rows: true law, columns:
preferred law).  ``--out`` writes one row per catalogue (the preferred law by each
criterion, the LOO margin and the z-scores of the true law's fit against the truth),
appended as the run goes; ``--from-csv FILE ...`` prints the Markdown tables of such logs
(several runs, e.g. two seeds, are pooled) and the share of |z| < 2.  ``--iw-loo`` adds
PSIS-LOO with the Laplace draws importance-weighted to the posterior; ``--truth LAW
NAME=VALUE ...`` replaces a truth; ``--start-rep R`` resumes a cut-short run on the same
streams; ``--separation N`` prints the expected log-likelihood ratio per 10 000 events
between the laws (:func:`separation`) instead of running.  The slow tests in
``tests/test_maglaw_recovery.py`` run smaller versions; the tables in
``models/magnitude_laws.md`` §7 come from this script.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import pystats
from pystats.maglaw.laws import LAWS, simulate

TRUTH = {
    "gr": {"b": 1.0},
    "tapered_gr": {"b": 1.0, "corner_magnitude": 3.0},
    "gamma": {"b": 0.8, "corner_magnitude": 3.0},
    "exponential_moment": {"corner_magnitude": 2.5},
    "weibull": {"gamma": 0.5, "corner_magnitude": 2.5},
    "generalized_gamma": {"b": 0.9, "gamma": 0.6, "corner_magnitude": 3.0},
}
DETECTION = {"mu": 2.3, "sigma": 0.2}
"""Detection probit of the ``--detection`` catalogues (half detected at 2.3)."""
LAPLACE_DRAWS = 100
"""Laplace draws per chain (4 chains: 400 draws for PSIS)."""
N_STARTS = 2
"""Optimizer starts per fit (the model default is 4; 2 halve the cost of the tables)."""


def confusion(n_rep: int, n_events: int, method: str = "laplace", seed: int = 0,
              detection: bool = False, truths: list[str] | None = None,
              out: Path | None = None, verbose: bool = False,
              truth: dict[str, dict[str, float]] | None = None,
              iw_loo: bool = False, start_rep: int = 0, screen: float = 20.0,
              nuts: dict[str, int] | None = None) -> dict[str, pd.DataFrame]:
    """Counts of the preferred law by criterion (``aic``, ``bic``, and ``loo`` with draws).

    Every true law gets its own random stream (``seed``, law index), so a subset of laws
    reproduces the rows of the full run; replicates are the outer loop.  ``truth`` replaces
    the parameters of some laws of :data:`TRUTH` (e.g. a second generalized-gamma truth).
    ``iw_loo`` adds the criterion ``iw_loo`` (:func:`importance_weighted_loo`, Laplace only).
    ``start_rep`` resumes a cut-short run: the earlier catalogues are simulated (to advance
    the streams) but not fitted.  ``method="nuts"`` samples only the laws within ``screen``
    log-likelihood units of the best MLE (:func:`_nuts_fits`; ``nuts``: ``chains``,
    ``draws``, ``warmup``), and takes AIC and BIC from the MLE fits.
    """
    truth_of = {**TRUTH, **(truth or {})}
    crits = ("aic", "bic", "loo") if method in ("laplace", "nuts") else ("aic", "bic")
    iw_loo = iw_loo and method == "laplace"
    crits += ("iw_loo",) if iw_loo else ()
    truths = list(TRUTH) if truths is None else list(truths)
    tables = {c: pd.DataFrame(0, index=truths, columns=list(LAWS)) for c in crits}
    det = DETECTION if detection else {}
    rngs = {true: np.random.default_rng([seed, list(TRUTH).index(true)]) for true in truths}
    for rep in range(n_rep):  # replicates outermost: a cut-short run is balanced
        for true in truths:
            rng = rngs[true]
            t0 = time.perf_counter()
            m = simulate(n_events, true, 1.95, truth_of[true], rng=rng, delta_m=0.1, **det)
            if rep < start_rep:
                rng.integers(1 << 30, size=len(LAWS))  # the fits' seeds
                continue
            fits = {}
            seeds = {law: int(rng.integers(1 << 30)) for law in LAWS}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if method == "nuts":
                    fits, ic = _nuts_fits(m, detection, seeds, screen, nuts or {})
                    table = pystats.compare(fits) if len(fits) > 1 else None
                else:
                    for law in LAWS:
                        kw = {"draws": LAPLACE_DRAWS} if method == "laplace" else {}
                        fits[law] = _model(law, detection).fit(
                            m, method=method, seed=seeds[law], n_starts=N_STARTS, **kw)
                    ic = table = pystats.compare(fits)
            row = {"true": true, "rep": rep, "n_events": n_events, "detection": detection,
                   "aic": ic["aic"].idxmin(), "bic": ic["bic"].idxmin()}
            tables["aic"].loc[true, row["aic"]] += 1
            tables["bic"].loc[true, row["bic"]] += 1
            if method == "nuts":
                row.update(fitted=" ".join(fits),
                           divergences=sum(int(np.sum(f.sample_stats["diverging"]))
                                           for f in fits.values()),
                           max_rhat=max(_max_rhat(f) for f in fits.values()),
                           true_divergences=(int(np.sum(fits[true].sample_stats["diverging"]))
                                             if true in fits else -1))
                if table is None:  # one law within the screen: it is the LOO choice
                    only = next(iter(fits))
                    table = pd.DataFrame({"elpd_loo": [0.0], "max_pareto_k": [0.0],
                                          "loo_warning": [False]},
                                         index=[only]).reindex(list(LAWS))
                    table["elpd_loo"] = table["elpd_loo"].fillna(-np.inf)
            if "loo" in tables:
                elpd = table["elpd_loo"].reindex(list(LAWS)).fillna(-np.inf)
                elpd = elpd.sort_values(ascending=False)
                row.update(loo=elpd.index[0], loo_margin=float(elpd.iloc[0] - elpd.iloc[1]),
                           loo_true_gap=float(elpd.iloc[0] - elpd[true]),
                           max_pareto_k=float(table["max_pareto_k"].max()),
                           loo_flagged=" ".join(table.index[table["loo_warning"].fillna(False)
                                                            .astype(bool)]))
                tables["loo"].loc[true, row["loo"]] += 1
            if iw_loo:
                iw = {law: importance_weighted_loo(f) for law, f in fits.items()}
                elpd = pd.Series({law: v[0] for law, v in iw.items()}).sort_values(
                    ascending=False, na_position="last")
                row.update(iw_loo=elpd.index[0], iw_loo_margin=float(elpd.iloc[0] - elpd.iloc[1]),
                           iw_loo_true_gap=float(elpd.iloc[0] - elpd[true]),
                           iw_max_pareto_k=max(v[1] for v in iw.values()),
                           iw_weight_k_true=iw[true][2])
                tables["iw_loo"].loc[true, row["iw_loo"]] += 1
            row.update(recovery_z(fits[true], {**truth_of[true], **det}))
            row["seconds"] = round(time.perf_counter() - t0, 2)
            row["load1"] = round(os.getloadavg()[0], 2)
            if out is not None:
                pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)
            if verbose:
                print(row, flush=True)
    return tables


def _model(law: str, detection: bool):
    return (pystats.MagnitudeLaw(law=law, detection=True) if detection
            else pystats.MagnitudeLaw(law=law, mc=2.0))


def _max_rhat(fit) -> float:
    summ = fit.summary()
    return float(summ["r_hat"].max()) if "r_hat" in summ else float("nan")


def _nuts_fits(m: np.ndarray, detection: bool, seeds: dict[str, int], screen: float,
               nuts: dict[str, int]) -> tuple[dict, pd.DataFrame]:
    """NUTS fits of the laws whose maximum log likelihood is within ``screen`` of the best.

    Every law is first fitted by maximum likelihood: AIC and BIC come from these fits (a
    NUTS fit's log likelihood at its posterior mean is below the maximum, far below on a
    curved posterior ridge).  A law more than ``screen`` log-likelihood units below the best
    cannot be preferred by LOO (its ``elpd_loo`` is at most its ``lppd``, which exceeds
    its maximum log likelihood by about its number of parameters), so only the others are
    sampled.  Returns the NUTS fits and the MLE comparison table.
    """
    mle = {law: _model(law, detection).fit(m, method="mle", seed=seeds[law], n_starts=N_STARTS)
           for law in LAWS}
    ic = pystats.compare(mle)
    near = ic.index[ic["log_lik"] >= ic["log_lik"].max() - screen]
    fits = {law: _model(law, detection).fit(m, method="nuts", seed=seeds[law], **nuts)
            for law in LAWS if law in near}
    return fits, ic


def importance_weighted_loo(fit) -> tuple[float, float, float]:
    """PSIS-LOO of a Laplace fit with its draws weighted to the posterior.

    The Gaussian draws ``θ_s ~ q`` get the log weights ``log p(θ_s | y) - log q(θ_s)``
    (posterior with the Jacobian, on the unconstrained scale, up to a constant), and PSIS
    smooths the ratios ``w_s / p(y_i | θ_s)`` (Vehtari et al. 2024, §6; Magnusson et al.
    2019): where the Gaussian is wider than the posterior (a banana-shaped or flat
    direction), the draws that the likelihood rejects no longer count as posterior draws.

    Returns
    -------
    tuple
        ``elpd_loo``, the largest Pareto k of the LOO ratios, and the Pareto k of the
        weights alone (> 0.7: the Gaussian is a poor proposal for this posterior).
    """
    import arviz as az
    from scipy.special import logsumexp

    from pystats.backends import get_backend
    from pystats.bridge import unconstrained_draws
    from pystats.comparison import _log_lik_draws, _unique_columns

    if not fit.n_chains:  # Hessian not positive definite: no draws, a failed LOO
        return float("nan"), float("inf"), float("inf")
    u = unconstrained_draws(fit)
    u = u.reshape(-1, u.shape[-1])
    density = get_backend(fit.backend).log_density(fit.model, fit.data, include_prior=True)
    u_hat = fit.parameters.unconstrain({k: fit.point[k] for k in fit.parameters.names})
    d = u - u_hat
    log_q = -0.5 * np.einsum("ij,jk,ik->i", d, -density.hessian(u_hat, True), d)
    log_w = density.values(u, True) - log_q
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    ll = _log_lik_draws(fit)
    first, counts = _unique_columns(ll)
    llu = ll[:, first].T  # distinct observations (bins) x draws
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lw, k = az.psislw(log_w[None, :] - llu, 1.0)
        _, k_w = az.psislw(log_w[None, :].copy(), 1.0)
    elpd = float(np.sum(counts * logsumexp(lw + llu, axis=-1)))
    return elpd, float(np.max(k)), float(np.ravel(k_w)[0])


def separation(n_events: int = 2_000_000, detection: bool = False, seed: int = 0,
               truths: list[str] | None = None,
               truth: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """Expected log-likelihood ratio per 10 000 events of each true law over every law.

    One very large binned catalogue per true law stands for its distribution: the MLE of
    each law on it is (close to) that law's member nearest to the truth (smallest KL
    divergence), and ``(ll_true_law - ll_law) / n * 1e4`` is the expected log-likelihood
    ratio of a 10 000-event catalogue, ``1e4 KL`` (0: the truth is a member of that law).
    With one more parameter than its nearest rival, a law is preferred by AIC (and about
    so by LOO) on average when twice this ratio, scaled to the catalogue size, exceeds 2.
    """
    truth_of = {**TRUTH, **(truth or {})}
    truths = list(TRUTH) if truths is None else list(truths)
    det = DETECTION if detection else {}
    out = pd.DataFrame(np.nan, index=truths, columns=list(LAWS))
    for true in truths:
        rng = np.random.default_rng([seed, list(TRUTH).index(true), n_events])
        m = simulate(n_events, true, 1.95, truth_of[true], rng=rng, delta_m=0.1, **det)
        ll = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for law in LAWS:
                model = (pystats.MagnitudeLaw(law=law, detection=True) if detection
                         else pystats.MagnitudeLaw(law=law, mc=2.0))
                fit = model.fit(m, method="mle", seed=1, n_starts=4)
                table = pystats.compare({law: fit, "_": fit}, loo=False)
                ll[law] = float(table.loc[law, "log_lik"])
        for law in LAWS:
            out.loc[true, law] = (ll[true] - ll[law]) / n_events * 1e4
    return out


Z_COLUMNS = ("b", "gamma", "corner_magnitude", "mu", "sigma")
"""Every parameter of any law and of the probit: the fixed ``z_*`` columns of the logs."""


def recovery_z(fit, truth: dict[str, float]) -> dict[str, float]:
    """``z_<name>`` = (estimate - truth) / posterior sd (or SE) of the true law's fit.

    The estimate is the fit's point (the mode for ``laplace``, the optimum for ``mle``); the
    parameters a law lacks are NaN, so every log row has the same columns.
    """
    summ = fit.summary()
    scale = "sd" if "sd" in summ.columns else "se"
    z = {f"z_{k}": float("nan") for k in Z_COLUMNS}
    for k, v in truth.items():
        z[f"z_{k}"] = (float(fit.estimate(k)) - v) / float(summ.loc[k, scale])
    return z


def coverage_table(logs: list[Path], limit: float = 2.0) -> str:
    """Markdown table: per true law, the share of catalogues with ``|z| < limit``, by parameter."""
    d = pd.concat([pd.read_csv(p) for p in logs], ignore_index=True)
    cols = [f"z_{k}" for k in Z_COLUMNS if f"z_{k}" in d]
    if not cols:
        return ""
    truths = [t for t in TRUTH if t in set(d["true"])]
    lines = ["| true law | n | " + " | ".join(c[2:] for c in cols) + " |",
             "|---" * (len(cols) + 2) + "|"]
    for true in truths:
        g = d[d["true"] == true]
        cells = [f"{(g[c].abs() < limit).mean():.2f}" if g[c].notna().any() else "–"
                 for c in cols]
        lines.append(f"| {true} | {len(g)} | " + " | ".join(cells) + " |")
    return f"Share of catalogues with |z| < {limit:g} (true law's fit):\n\n" + "\n".join(lines)


SHORT = {"exponential_moment": "exp. moment", "generalized_gamma": "gen. gamma"}


def markdown_tables(logs: list[Path]) -> str:
    """Markdown confusion tables (AIC, BIC, LOO) of the ``--out`` logs, pooled."""
    d = pd.concat([pd.read_csv(p) for p in logs], ignore_index=True)
    truths = [t for t in TRUTH if t in set(d["true"])]
    out = []
    for crit in ("loo", "iw_loo", "aic", "bic"):
        if crit not in d:
            continue
        t = pd.crosstab(d["true"], d[crit]).reindex(index=truths, columns=list(LAWS),
                                                      fill_value=0)
        lines = ["| true \\ preferred | " + " | ".join(SHORT.get(c, c) for c in LAWS)
                 + " | n |", "|---" * (len(LAWS) + 2) + "|"]
        for true in truths:
            cells = [f"**{t.loc[true, c]}**" if c == true else str(t.loc[true, c])
                     for c in LAWS]
            lines.append(f"| {true} | " + " | ".join(cells) + f" | {int(t.loc[true].sum())} |")
        name = "importance-weighted LOO" if crit == "iw_loo" else crit.upper()
        out.append(f"By {name}:\n\n" + "\n".join(lines))
    cov = coverage_table(logs)
    return "\n\n".join(out + ([cov] if cov else []))


def parse_truth(tokens: list[str] | None) -> dict[str, dict[str, float]]:
    """``["generalized_gamma", "b=0.9", "gamma=2", ...]`` -> ``{law: {name: value}}``."""
    out: dict[str, dict[str, float]] = {}
    law = None
    for tok in tokens or []:
        if "=" not in tok:
            if tok not in TRUTH:
                raise SystemExit(f"--truth: unknown law {tok!r}; allowed: {', '.join(TRUTH)}")
            law = tok
            out[law] = dict(TRUTH[law])
            continue
        name, value = tok.split("=", 1)
        if law is None or name not in TRUTH[law]:
            raise SystemExit(f"--truth: {tok!r} is not a parameter of {law!r}")
        out[law][name] = float(value)
    return out


def main(argv: list[str] | None = None) -> dict[str, pd.DataFrame]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_rep", type=int, nargs="?", default=50)
    parser.add_argument("n_events", type=int, nargs="?", default=1000)
    parser.add_argument("method", nargs="?", default="laplace")
    parser.add_argument("--detection", action="store_true")
    parser.add_argument("--laws", nargs="*", choices=list(TRUTH))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth", nargs="+", metavar="LAW|NAME=VALUE",
                        help="replace a law's true parameters, e.g. --truth generalized_gamma "
                             "b=0.9 gamma=2 corner_magnitude=3")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1 is fastest on a shared machine)")
    parser.add_argument("--separation", type=int, metavar="N",
                        help="print the expected log-likelihood ratio per 10 000 events "
                             "(one catalogue of N events per true law) instead of running")
    parser.add_argument("--start-rep", type=int, default=0,
                        help="resume a cut-short run at this replicate (same streams)")
    parser.add_argument("--iw-loo", action="store_true",
                        help="add importance-weighted PSIS-LOO of the Laplace draws")
    parser.add_argument("--from-csv", nargs="+", type=Path,
                        help="print the Markdown tables of --out logs instead of running")
    parser.add_argument("--screen", type=float, default=20.0,
                        help="nuts: sample only the laws within this many log-likelihood "
                             "units of the best MLE")
    parser.add_argument("--chains", type=int, default=4, help="nuts chains")
    parser.add_argument("--draws", type=int, default=1000, help="nuts draws per chain")
    parser.add_argument("--warmup", type=int, default=1000, help="nuts warm-up per chain")
    parser.add_argument("--adapt-delta", type=float, default=0.8, help="nuts adapt_delta")
    args = parser.parse_args(argv)
    if args.from_csv:
        print(markdown_tables(args.from_csv))
        return {}
    import torch

    torch.set_num_threads(args.threads)
    if args.separation:
        table = separation(args.separation, args.detection, args.seed, args.laws,
                           parse_truth(args.truth))
        print(table.round(2).to_string())
        return {"separation": table}
    tables = confusion(args.n_rep, args.n_events, args.method, seed=args.seed,
                       detection=args.detection, truths=args.laws, out=args.out,
                       verbose=args.out is not None, truth=parse_truth(args.truth),
                       iw_loo=args.iw_loo, start_rep=args.start_rep, screen=args.screen,
                       nuts={"chains": args.chains, "draws": args.draws,
                             "warmup": args.warmup, "adapt_delta": args.adapt_delta})
    for crit, table in tables.items():
        print(f"\n{crit} ({args.n_rep} replicates of {args.n_events} events per true law, "
              f"{args.method}{', detection' if args.detection else ''})")
        print(table.to_string())
    return tables


if __name__ == "__main__":
    main()
