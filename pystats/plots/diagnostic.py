"""Generic figures of a fit's draws and estimates, built on arviz where it has the plot.

MCMC (``nuts``): :func:`trace_figure`, :func:`rank_figure`, :func:`autocorr_figure`,
:func:`forest_figure` (per-chain intervals with R-hat and ESS), :func:`pair_figure`
(divergences highlighted), :func:`energy_figure`.  Any fit: :func:`marginal_figure`
(densities with the estimate and interval) and :func:`correlation_figure` (the parameter
correlation matrix, from the covariance of an optimisation fit or from the draws).

All take scalar draws ``label -> (chain, draw)`` (see :func:`pystats.plots._base.scalar_draws`)
and thin them where the plot does not need every draw, so a report of a long run stays fast.

References
----------
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021).
Rank-normalization, folding, and localization: an improved R-hat for assessing convergence
of MCMC. Bayesian Analysis, 16(2), 667-718. https://doi.org/10.1214/20-BA1221

Betancourt, M. (2016). Diagnosing suboptimal cotangent disintegrations in Hamiltonian Monte
Carlo. arXiv:1604.00695.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..arviz_io import import_arviz
from ._base import idata, new_figure, scalar_draws, thin

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..fit import Fit

__all__ = [
    "autocorr_figure",
    "correlation_figure",
    "correlation_matrix",
    "energy_figure",
    "forest_figure",
    "marginal_figure",
    "pair_figure",
    "rank_figure",
    "trace_figure",
]

MAX_TRACE_DRAWS = 4000
"""Draws (all chains together) drawn in trace plots; longer runs are thinned evenly."""
MAX_PAIR_DRAWS = 1000
MAX_AUTOCORR_LAG = 100
MAX_MARGINALS = 12


def trace_figure(draws: dict[str, np.ndarray]) -> Figure:
    """Per-chain densities (left) and traces (right) of each scalar; runs longer than
    :data:`MAX_TRACE_DRAWS` are thinned evenly (the x-axis keeps the draw numbers)."""
    az = import_arviz()
    k = len(draws)
    fig = new_figure(10, 1.8 * k + 0.4)
    axes = fig.subplots(k, 2, squeeze=False)
    n_draw = next(iter(draws.values())).shape[1]
    thinned = {n: thin(v, MAX_TRACE_DRAWS) for n, v in draws.items()}
    kept = next(iter(thinned.values())).shape[1]
    az.plot_trace(idata(thinned), axes=axes, compact=False, show=False)
    if kept < n_draw:
        idx = np.unique(np.linspace(0, n_draw - 1, kept).round().astype(int))
        for ax in axes[:, 1]:
            for line in ax.get_lines():
                if len(line.get_xdata()) == idx.size:
                    line.set_xdata(idx)
            ax.set_xlim(0, n_draw - 1)
        axes[-1, 1].set_xlabel(f"draw ({idx.size} of {n_draw} per chain shown)")
    return fig


def rank_figure(draws: dict[str, np.ndarray]) -> Figure:
    """Rank histograms per chain (uniform bars = chains sampling the same distribution)."""
    az = import_arviz()
    k = len(draws)
    ncol = min(k, 3)
    nrow = -(-k // ncol)
    fig = new_figure(3.3 * ncol, 2.4 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    az.plot_rank(idata(draws), kind="bars", ax=axes[:k], show=False)
    for ax in axes[k:]:
        ax.set_visible(False)
    return fig


def autocorr_figure(draws: dict[str, np.ndarray]) -> Figure:
    """Autocorrelation of each scalar up to lag 100, one line per chain (arviz's FFT
    estimator), with the lag at which it first drops below 0.05."""
    az = import_arviz()
    k = len(draws)
    ncol = min(k, 3)
    nrow = -(-k // ncol)
    fig = new_figure(3.3 * ncol, 2.3 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    for ax, (label, arr) in zip(axes, draws.items(), strict=False):
        n_lag = min(MAX_AUTOCORR_LAG, arr.shape[1] - 1) + 1
        mean_rho = np.zeros(n_lag)
        for c, chain in enumerate(np.asarray(arr, dtype=float)):
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = np.asarray(az.autocorr(chain))[:n_lag]
            mean_rho += rho / arr.shape[0]
            ax.plot(np.arange(n_lag), rho, lw=0.9, color=f"C{c % 10}", alpha=0.8)
        ax.axhline(0.0, color="0.5", lw=0.6)
        ax.axhspan(-0.05, 0.05, color="0.85", lw=0)
        below = np.flatnonzero(np.abs(mean_rho) < 0.05)
        where = f"< 0.05 from lag {int(below[0])}" if below.size else "> 0.05 up to lag 100"
        ax.set_title(f"{label} ({where})", fontsize=9)
        ax.set_ylim(-0.25, 1.02)
        ax.set_xlabel("lag", fontsize=8)
    for ax in axes[k:]:
        ax.set_visible(False)
    return fig


def forest_figure(draws: dict[str, np.ndarray], frame: pd.DataFrame | None = None,
                  prob: float = 0.9) -> Figure:
    """Per-chain intervals of every scalar, one row per scalar on its own scale.

    Thin line: the ``prob`` highest-density interval; thick line: the 50 % one; dot: the
    median.  Each row is titled with the scalar's R-hat and bulk ESS (from ``frame``, the
    summary table, when given), so chains that disagree stand out.
    """
    az = import_arviz()
    k = len(draws)
    fig = new_figure(8, 0.75 * k + 0.6)
    axes = fig.subplots(k, 1, squeeze=False)[:, 0]
    for ax, (label, arr) in zip(axes, draws.items(), strict=True):
        arr = np.asarray(arr, dtype=float)
        n_chain = arr.shape[0]
        for c in range(n_chain):
            x = arr[c][np.isfinite(arr[c])]
            if x.size < 4:
                continue
            lo, hi = az.hdi(x, hdi_prob=prob)
            q_lo, q_hi = az.hdi(x, hdi_prob=0.5)
            y = n_chain - 1 - c
            ax.hlines(y, lo, hi, color=f"C{c % 10}", lw=1.2)
            ax.hlines(y, q_lo, q_hi, color=f"C{c % 10}", lw=3.5)
            ax.plot(np.median(x), y, "o", color="white", mec=f"C{c % 10}", ms=4)
        ax.set_yticks(range(n_chain), [f"chain {c}" for c in range(n_chain)][::-1],
                      fontsize=7)
        ax.set_ylim(-0.6, n_chain - 0.4)
        ax.tick_params(axis="x", labelsize=8)
        stats = ""
        if frame is not None and label in frame.index:
            from ..summary import format_value

            row = frame.loc[label]
            names = {"r_hat": "R-hat", "ess_bulk": "bulk ESS"}
            parts = [f"{names[col]} {format_value(row[col], col)}"
                     for col in names if col in row.index]
            stats = " — " + ", ".join(parts) if parts else ""
        ax.set_title(f"{label}{stats}", fontsize=9, loc="left")
    return fig


def pair_figure(fit: Fit, draws: dict[str, np.ndarray]) -> Figure | None:
    """Scatter plots of pairs of scalars, divergent transitions in red (``None`` for one)."""
    az = import_arviz()
    k = len(draws)
    if k < 2:
        return None
    thinned = {n: thin(v, MAX_PAIR_DRAWS) for n, v in draws.items()}
    stats = None
    divergences = False
    if "diverging" in fit.sample_stats:
        div = np.asarray(fit.sample_stats["diverging"]).astype(bool)
        first = next(iter(draws.values()))
        if div.shape == first.shape:
            stats = {"diverging": thin(div, MAX_PAIR_DRAWS)}
            divergences = bool(stats["diverging"].any())
    size = min(max(2.2 * (k - 1) + 0.6, 4.0), 11.0)
    fig = new_figure(size, size)
    axes = fig.subplots(k - 1, k - 1, squeeze=False)
    az.plot_pair(idata(thinned, stats), kind="scatter", divergences=divergences, ax=axes,
                 scatter_kwargs={"alpha": 0.5, "s": 12}, show=False)
    return fig


def energy_figure(fit: Fit) -> Figure | None:
    """Marginal energy vs energy transitions (similar widths = good E-BFMI)."""
    if "energy" not in fit.sample_stats:
        return None
    az = import_arviz()
    energy = np.asarray(fit.sample_stats["energy"], dtype=float)
    fig = new_figure(6, 3.5)
    ax = fig.subplots()
    data = az.from_dict(posterior={"_": np.zeros(energy.shape)}, sample_stats={"energy": energy})
    az.plot_energy(data, ax=ax, show=False)
    return fig


def marginal_figure(fit: Fit, frame: pd.DataFrame) -> Figure | None:
    """Histogram of the draws of each scalar parameter with the estimate and interval."""
    draws, _ = scalar_draws(fit, MAX_MARGINALS)
    labels = list(frame.index[frame["kind"] == "parameter"])[:MAX_MARGINALS]
    if not labels:
        return None
    est_col, lo_col, hi_col = (
        ("estimate", "lower", "upper")
        if "estimate" in frame.columns
        else ("mean", "hdi_lower", "hdi_upper")
    )
    k = len(labels)
    ncol = min(k, 3)
    nrow = -(-k // ncol)
    fig = new_figure(3.3 * ncol, 2.4 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, label in zip(axes, labels, strict=False):
        row = frame.loc[label]
        if label in draws:
            ax.hist(np.ravel(draws[label]), bins=40, density=True, color="#8da0cb", alpha=0.8)
        if np.isfinite(row[lo_col]) and np.isfinite(row[hi_col]):
            ax.axvspan(row[lo_col], row[hi_col], color="#fc8d62", alpha=0.25, lw=0)
        if np.isfinite(row[est_col]):
            ax.axvline(row[est_col], color="#d95f02", lw=1.5)
        ax.set_title(label, fontsize=10)
        ax.set_yticks([])
    for ax in axes[k:]:
        ax.set_visible(False)
    return fig


def correlation_matrix(fit: Fit, limit: int = 30) -> tuple[list[str], np.ndarray] | None:
    """Correlations of the scalar parameters: from ``fit.cov`` for ``mle``/``map`` (the
    asymptotic covariance of the estimates), else from the draws; ``None`` for fewer than
    two parameters or without either."""
    labels = fit.parameters.element_names()[:limit]
    k = len(labels)
    if k < 2:
        return None
    if fit.method in ("mle", "map") and fit.cov is not None:
        cov = np.asarray(fit.cov, dtype=float)[:k, :k]
    else:
        draws, _ = scalar_draws(fit, limit)
        if len(draws) < 2:
            return None
        labels = list(draws)
        cov = np.cov(np.stack([np.ravel(v) for v in draws.values()]))
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
    if not np.any(np.isfinite(corr)):
        return None
    return labels, corr


def correlation_figure(fit: Fit) -> Figure | None:
    """Heat map of the parameter correlation matrix, each cell labelled with its value."""
    result = correlation_matrix(fit)
    if result is None:
        return None
    labels, corr = result
    k = len(labels)
    size = min(max(0.55 * k + 2.0, 3.5), 11.0)
    fig = new_figure(size + 1.0, size)
    ax = fig.subplots()
    image = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(k), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                if np.isfinite(corr[i, j]):
                    ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if abs(corr[i, j]) > 0.6 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="correlation")
    source = ("asymptotic covariance of the estimates" if fit.method in ("mle", "map")
              and fit.cov is not None else "draws")
    ax.set_title(f"Parameter correlations ({source})", fontsize=10)
    return fig
