"""Figures of the ETAS and Omori–Utsu families (called by their ``report_figures``).

:func:`etas_intensity_figure` (magnitudes, conditional intensity and cumulative counts vs
time), :func:`residual_figure` (transformed-time residuals with the Kolmogorov–Smirnov
band, Ogata 1988), :func:`background_figure` (stochastic declustering),
:func:`omori_rate_figure` (aftershock rate vs time since the main shock) and
:func:`magnitude_frequency_figure` (the target events' magnitude–frequency distribution
with the Gutenberg–Richter law of the ``b`` used by the model).

References
----------
Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. Journal of the American Statistical Association, 83(401), 9-27.

Zhuang, J., Ogata, Y. and Vere-Jones, D. (2002). Stochastic declustering of space-time
earthquake occurrences. Journal of the American Statistical Association, 97(458), 369-380.

Aki, K. (1965). Maximum likelihood estimate of b in the formula log N = a - bM and its
confidence limits. Bulletin of the Earthquake Research Institute, 43, 237-239.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    import pandas as pd

    from ..etas.model import ETAS, OmoriUtsu
    from ..etas.residuals import ResidualAnalysis
    from ..fit import Fit

__all__ = [
    "background_figure",
    "etas_intensity_figure",
    "magnitude_frequency_figure",
    "omori_rate_figure",
    "residual_figure",
    "residual_title",
]


def residual_title(res: ResidualAnalysis) -> str:
    return (
        f"Transformed-time residuals (Ogata 1988): KS D = {res.ks_uniform_statistic:.3f} "
        f"(p = {res.ks_uniform_pvalue:.3g}); gaps vs Exp(1) D = {res.ks_gaps_statistic:.3f} "
        f"(p = {res.ks_gaps_pvalue:.3g}); {res.n} events, {res.total:.1f} expected"
    )


def residual_figure(res: ResidualAnalysis, label: str) -> Figure:
    """Cumulative number of events vs transformed time, with the 95 % KS band."""
    tau = np.asarray(res.transformed_times)
    n = tau.size
    fig = Figure(figsize=(7.0, 4.6))
    ax = fig.add_subplot(1, 1, 1)
    ax.step(np.concatenate([[0.0], tau]), np.arange(n + 1), where="post", color="0.15",
            lw=1.2, label="observed")
    x = np.array([0.0, res.total])
    band = 1.36 * math.sqrt(n)
    ax.plot(x, x * n / res.total, color="tab:red", lw=1, label=f"{label} model (slope n / Λ)")
    ax.fill_between(x, x * n / res.total - band, x * n / res.total + band, color="tab:red",
                    alpha=0.15, lw=0, label="95% Kolmogorov–Smirnov band")
    ax.set_xlabel("transformed time τ = Λ(t_start, t)")
    ax.set_ylabel("cumulative number of events")
    ax.set_title(f"KS D = {res.ks_uniform_statistic:.3f}, p = {res.ks_uniform_pvalue:.3g}; "
                 f"count p = {res.count_pvalue:.3g}", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, alpha=0.2)
    fig.tight_layout()
    return fig


def etas_intensity_figure(model: ETAS, fit: Fit) -> Figure:
    """Top: magnitudes vs time; middle: λ(t) (log scale); bottom: cumulative counts
    observed vs expected (the compensator)."""
    import torch

    from ..etas.likelihood import etas_compensator, etas_intensity
    from ..etas.model import ETAS

    v = fit.data.values
    t, m = np.asarray(v["t"]), np.asarray(v["m"])
    ts, te = float(v["t_start"]), float(v["t_end"])
    params = model._point(fit)
    grid = np.linspace(ts, te, 1500)
    tq = np.sort(np.concatenate([grid, t[(t >= ts)], np.minimum(t[t >= ts] + 1e-6 * (te - ts),
                                                                    te)]))
    method = ETAS._method(v)
    with torch.no_grad():
        lam = etas_intensity(params, t, m, tq, v["m_ref"], method=method).numpy()
        tau = etas_compensator(params, t, m, ts, v["m_ref"], t_end=te, method=method).numpy()
    tt = t[t >= ts]
    fig = Figure(figsize=(8.0, 7.0))
    ax0, ax1, ax2 = fig.subplots(3, 1, sharex=True, height_ratios=[1, 1.4, 1.2])
    ax0.vlines(tt, float(v["mc"]), m[t >= ts], color="0.3", lw=0.6)
    if ts > t[0]:
        th = t[t < ts]
        ax0.vlines(th, float(v["mc"]), m[t < ts], color="tab:blue", lw=0.6,
                   label="history (before t_start)")
        ax0.legend(fontsize=8, loc="upper right")
    ax0.set_ylabel("magnitude")
    ax0.set_title(f"ETAS ({fit.method}): {tt.size} events M >= {v['mc']:g} in "
                  f"[{ts:g}, {te:g}] d", fontsize=10)
    pos = lam > 0
    ax1.semilogy(tq[pos], lam[pos], color="tab:red", lw=0.8, label="λ(t) at the estimate")
    if params["mu"] > 0:
        ax1.axhline(params["mu"], color="k", ls="--", lw=0.8, label=f"μ = {params['mu']:.3g}")
    ax1.set_ylabel("events / day")
    ax1.legend(fontsize=8, loc="upper right")
    ax2.step(tt, np.arange(1, tt.size + 1), where="post", color="0.15", lw=1.0,
             label="observed")
    ax2.plot(tt, tau, color="tab:red", lw=1.0, label="expected, Λ(t_start, t)")
    ax2.set_xlabel("time (days)")
    ax2.set_ylabel("cumulative number")
    ax2.legend(fontsize=8, loc="upper left")
    for ax in (ax0, ax1, ax2):
        ax.grid(True, alpha=0.2)
    fig.tight_layout()
    return fig


def background_figure(bg: pd.DataFrame) -> Figure:
    fig = Figure(figsize=(7.0, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(bg["p_background"], bins=np.linspace(0, 1, 26), color="tab:blue", alpha=0.8)
    ax.set_xlabel("probability of being a background event, μ / λ(t_j)")
    ax.set_ylabel("number of events")
    ax.set_title("Stochastic declustering (Zhuang, Ogata & Vere-Jones 2002)", fontsize=10)
    ax.grid(True, alpha=0.2)
    fig.tight_layout()
    return fig


def omori_rate_figure(model: OmoriUtsu, fit: Fit) -> Figure:
    """Event rate in log-spaced bins vs time since the main shock, with the fitted law."""
    from ..etas.kernels import kernel_integral

    v = fit.data.values
    t = np.asarray(v["t"])
    s0, s1 = float(v["t_start"]), float(v["t_end"])
    lo = max(s0, float(t[0]) * 0.5, 1e-6)
    edges = np.geomspace(lo, s1, max(8, min(40, int(math.sqrt(t.size)) + 2)))
    edges[0] = max(s0, 0.0) if s0 > 0 else edges[0]
    counts = np.histogram(t, bins=edges)[0]
    widths = np.diff(edges)
    mids = np.sqrt(edges[:-1] * edges[1:]) if edges[0] > 0 else 0.5 * (edges[:-1] + edges[1:])
    params = model._full(model._point(fit))
    grid = np.geomspace(lo, s1, 300)
    rate = params["mu"] + params["K"] * (grid + params["c"]) ** (-params["p"])
    expected = (params["mu"] * widths
                + params["K"] * kernel_integral(edges[:-1], edges[1:], params["c"], params["p"]))
    fig = Figure(figsize=(7.0, 4.6))
    ax = fig.add_subplot(1, 1, 1)
    shown = counts > 0
    ax.errorbar(mids[shown], counts[shown] / widths[shown],
                yerr=np.sqrt(counts[shown]) / widths[shown], fmt="o", ms=3.5, color="0.2",
                label="observed rate (± Poisson sd)")
    ax.loglog(grid, rate, color="tab:red", label="fitted λ(t)")
    ax.loglog(mids, expected / widths, ":", color="tab:red", lw=0.8, label="expected bin mean")
    ax.set_xlabel("time since the main shock (days)")
    ax.set_ylabel("events / day")
    ax.set_title(f"Omori–Utsu ({fit.method}): K = {params['K']:.3g}, c = {params['c']:.3g}, "
                 f"p = {params['p']:.3f}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    return fig


def magnitude_frequency_title(fit: Fit) -> str:
    """Caption of :func:`magnitude_frequency_figure`: the b-value, its se and source."""
    summ = fit.data.summary
    b, se = float(fit.data.values["b"]), float(fit.data.values["b_se"])
    spread = f" ± {se:.3f}" if se > 0 else ""
    return (f"Magnitude–frequency distribution of the target events: b = {b:.3f}{spread} "
            f"({summ.get('b_source', 'given')})")


def magnitude_frequency_figure(fit: Fit) -> Figure:
    """Cumulative and per-bin counts of the target magnitudes (log scale) with the
    Gutenberg–Richter law ``N(>= m) = n 10^(-b (m - mc))`` of the model's ``b`` and, when
    ``b`` was estimated, its 90 % band (``b ± 1.645 se``, Aki 1965)."""
    v = fit.data.values
    m = np.asarray(fit.data.observed["magnitude"], dtype=float)
    mc, b, se = float(v["mc"]), float(v["b"]), float(v["b_se"])
    dm = float(v["delta_m"])
    width = dm if dm > 0 else 0.1
    half = dm / 2
    grid = mc + width * np.arange(math.floor((m.max() - mc) / width + 1e-9) + 1)
    cum = np.array([(m >= g - half - 1e-9).sum() for g in grid], dtype=float)
    per_bin = -np.diff(np.append(cum, 0.0))
    fine = np.linspace(mc, grid[-1] + width, 200)

    def law(bv: float) -> np.ndarray:
        return m.size * 10.0 ** (-bv * (fine - mc))

    fig = Figure(figsize=(7.0, 4.6))
    ax = fig.add_subplot(1, 1, 1)
    shown = cum > 0
    ax.semilogy(grid[shown], cum[shown], "o", ms=3.5, color="0.2", label="observed, N(>= m)")
    shown = per_bin > 0
    ax.semilogy(grid[shown], per_bin[shown], "s", ms=3.5, mfc="none", color="tab:blue",
                label=f"observed, per {width:g} bin")
    ax.plot(fine, law(b), color="tab:red", label=f"Gutenberg–Richter, b = {b:.3f}")
    if se > 0:
        z = 1.6448536269514722
        lo, hi = law(b + z * se), law(b - z * se)
        ax.fill_between(fine, np.minimum(lo, hi), np.maximum(lo, hi), color="tab:red",
                        alpha=0.2, lw=0, label="90% band of b")
    ax.axvline(mc, color="k", ls="--", lw=1, label=f"mc = {mc:g}")
    ax.set_ylim(bottom=0.5)
    ax.set_xlabel("magnitude")
    ax.set_ylabel("number of events")
    ax.set_title(f"{m.size} target events; b enters the branching ratio and forecasts",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    return fig
