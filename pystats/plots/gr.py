"""Figures of the Gutenberg–Richter family (called by ``GutenbergRichter.report_figures``).

:func:`fmd_figure`: the frequency–magnitude distribution (cumulative and per bin, log
scale) with the fitted law and its 90 % band; :func:`detection_figure`: the detection
probability of ``kind="detection"`` with the empirical detected fraction.

References
----------
Ogata, Y. and Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
magnitude frequency distribution inferred from earthquake catalogues. Geophysical Journal
International, 113(3), 727-738. https://doi.org/10.1111/j.1365-246X.1993.tb04663.x
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ..gr.model import LN10

if TYPE_CHECKING:
    from ..fit import Fit
    from ..gr.model import GutenbergRichter

__all__ = ["detection_figure", "fmd_figure", "thinned_params"]


def thinned_params(fit: Fit, max_draws: int = 400) -> dict[str, np.ndarray]:
    """Parameter draws ``(n,)`` thinned evenly to ``max_draws`` (the estimate without draws)."""
    names = fit.parameters.names
    try:
        params = {n: np.asarray(fit.variable(n), dtype=float) for n in names}
    except KeyError:
        return {n: np.atleast_1d(np.asarray(fit.estimate(n), dtype=float)) for n in names}
    n = next(iter(params.values())).shape[0]
    idx = np.unique(np.linspace(0, n - 1, min(n, max_draws)).round().astype(int))
    return {k: a[idx] for k, a in params.items()}


def fmd_figure(model: GutenbergRichter, fit: Fit) -> Figure:
    """Cumulative and non-cumulative counts (log scale) with the fitted law and its band."""
    v = fit.data.values
    m_all = np.asarray(fit.data.observed["magnitude_all"], dtype=float)
    dm = v["delta_m"]
    w = dm * max(1, math.ceil(0.1 / dm - 1e-9)) if dm > 0 else 0.1
    anchor = float(m_all.min())
    centres = anchor + w * np.arange(math.floor((m_all.max() - anchor) / w + 1e-9) + 2)
    half = dm / 2
    cum = np.array([(m_all >= c - half - 1e-9).sum() for c in centres], dtype=float)
    noncum = -np.diff(cum)
    centres_n = centres[:-1]

    base = v["m_min"] if model.kind == "detection" else v["mc"]
    n_model = v["n_rate"] if model.kind == "gr" else v["n"]
    params = thinned_params(fit)
    grid = centres[centres >= base - 1e-9]
    p = model._exceedance(params, grid, v)
    exp_cum = n_model * p
    exp_non = n_model * (p[:, :-1] - p[:, 1:])
    q = (5, 50, 95)
    c_lo, c_med, c_hi = np.percentile(exp_cum, q, axis=0)
    n_lo, n_med, n_hi = np.percentile(exp_non, q, axis=0)

    fig = Figure(figsize=(7.0, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    shown = cum > 0
    ax.semilogy(centres[shown], cum[shown], "o", ms=3.5, color="0.2", label="observed, cumulative")
    shown = noncum > 0
    ax.semilogy(
        centres_n[shown],
        noncum[shown],
        "s",
        ms=3.5,
        mfc="none",
        color="tab:blue",
        label=f"observed, per {w:g} bin",
    )
    ax.plot(grid, c_med, "-", color="tab:red", label="fitted law, cumulative")
    ax.fill_between(grid, c_lo, c_hi, color="tab:red", alpha=0.25, lw=0, label="90% band")
    ax.plot(grid[:-1], n_med, "-", color="tab:orange", label="fitted law, per bin")
    ax.fill_between(grid[:-1], n_lo, n_hi, color="tab:orange", alpha=0.25, lw=0)
    if model.kind == "detection":
        mc_hat = float(np.mean(model.derived(params, fit.data)["mc"]))
        ax.axvline(mc_hat, color="k", ls="--", lw=1, label=f"derived Mc = {mc_hat:.2f}")
        ax.axvline(base, color="0.5", ls=":", lw=1, label=f"m_min = {base:g}")
    else:
        ax.axvline(
            base,
            color="k",
            ls="--",
            lw=1,
            label=f"Mc = {base:g} ({fit.data.summary.get('mc_method', '')})",
        )
    ax.set_ylim(bottom=0.5)
    ax.set_xlabel("magnitude")
    ax.set_ylabel("number of events")
    b_hat = float(np.asarray(fit.estimate("b")))
    ax.set_title(f"Frequency–magnitude distribution ({model.kind}, {fit.method}): b = {b_hat:.3f}")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    return fig


def detection_figure(model: GutenbergRichter, fit: Fit) -> Figure:
    """Detection probability ``Phi((m - mu)/sigma)`` with its band and empirical ratios."""
    import torch
    from scipy.special import ndtr

    from ..gr import likelihood as lk

    v = fit.data.values
    params = thinned_params(fit)
    mu, sigma = params["mu"], params["sigma"]
    mc_hat = float(np.mean(model.derived(params, fit.data)["mc"]))
    lo = min(v["m_min"], float(np.mean(mu) - 3 * np.mean(sigma))) - 0.2
    grid = np.linspace(lo, max(mc_hat, v["m_min"]) + 1.0, 200)
    curve = ndtr((grid[None, :] - mu[:, None]) / sigma[:, None])
    q_lo, q_med, q_hi = np.percentile(curve, (5, 50, 95), axis=0)

    # empirical detection ratio: observed counts / counts expected from the latent GR law
    m = np.repeat(np.asarray(v["m"]), np.asarray(v["count"]).astype(int))
    dm = v["delta_m"]
    w = dm * max(1, math.ceil(0.1 / dm - 1e-9)) if dm > 0 else 0.1
    m0 = v["m_min"] - dm / 2
    edges = m0 + w * np.arange(math.floor((mc_hat + 1.0 - m0) / w) + 2)
    counts = np.histogram(m, bins=edges)[0]
    point = {
        k: np.atleast_1d(np.asarray(fit.estimate(k), dtype=float)) for k in ("b", "mu", "sigma")
    }
    beta = float(point["b"][0]) * LN10
    # detected fraction of the latent GR events above m0 is S(m0) (likelihood module)
    with torch.no_grad():
        s0 = float(
            lk.detection_log_survival(
                torch.tensor(m0, dtype=torch.float64),
                torch.tensor(point["b"][0]),
                torch.tensor(point["mu"][0]),
                torch.tensor(point["sigma"][0]),
                m0,
            )
        )
    latent_n = len(m) * math.exp(-s0)
    expected = latent_n * (np.exp(-beta * (edges[:-1] - m0)) - np.exp(-beta * (edges[1:] - m0)))
    ratio = counts / expected
    mids = 0.5 * (edges[:-1] + edges[1:])

    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(grid, q_med, color="tab:red", label="fitted detection probability")
    ax.fill_between(grid, q_lo, q_hi, color="tab:red", alpha=0.25, lw=0, label="90% band")
    ax.plot(
        mids, ratio, "o", ms=3.5, color="0.2", label="observed / latent GR counts (point estimate)"
    )
    ax.axvline(
        mc_hat,
        color="k",
        ls="--",
        lw=1,
        label=f"derived Mc = {mc_hat:.2f} (detection probability "
        f"{model.options['detection_probability']:g})",
    )
    ax.set_ylim(0, 1.3)
    ax.set_xlabel("magnitude")
    ax.set_ylabel("detection probability")
    ax.set_title("Detection model (Ogata & Katsura 1993)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, alpha=0.2)
    fig.tight_layout()
    return fig
