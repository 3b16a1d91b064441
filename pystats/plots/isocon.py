"""Figures of the isocon families (called by ``GrantIsocon/SparseIsocon.report_figures``).

:func:`isocon_diagram`: Grant's diagram, mean altered vs protolith concentration on log
axes (each element scaled by the protolith so all fit one plot) with the isocon of slope
``M0/MA``; :func:`tau_figure`: ``tau`` (ΔC/C0) per element and sample with intervals;
:func:`immobile_figure`: the probability that each element is immobile (SparseIsocon).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from ..fit import Fit

__all__ = ["immobile_figure", "isocon_diagram", "isocon_figures", "tau_figure"]


def _values(fit: Fit, name: str) -> np.ndarray:
    return fit.model._draws_or_point(fit, name)


def isocon_diagram(fit: Fit) -> Figure:
    """``C_A / C_0`` of every element (geometric mean over samples) against the element,
    with the isocon (the mean mass ratio) and ±tolerance band."""
    y = np.asarray(fit.data.values["y"])
    elements = list(fit.data.summary["elements"])
    ratio = np.exp(y.mean(axis=0))
    mr = float(np.exp(np.mean(np.log(_values(fit, "mass_ratio")))))
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    order = np.argsort(ratio)
    ax.scatter(range(len(elements)), ratio[order], color="k", zorder=3)
    ax.set_xticks(range(len(elements)), [elements[i] for i in order], rotation=60, fontsize=8)
    ax.axhline(mr, color="C0", label=f"isocon: M0/MA = {mr:.3g}")
    ax.set_yscale("log")
    ax.set_ylabel("C_A / C_0 (geometric mean over samples)")
    ax.legend(loc="best", fontsize=8)
    ax.set_title("Isocon: elements on the line did not move")
    fig.tight_layout()
    return fig


def tau_figure(fit: Fit, prob: float = 0.9) -> Figure:
    """tau = ΔC/C0 per element (points: samples; bars: ``prob`` interval of the mean)."""
    tau = _values(fit, "tau")  # (draws, N, J)
    elements = list(fit.data.summary["elements"])
    N = tau.shape[-2]
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    mean_over_samples = tau.mean(axis=-2)
    lo, hi = np.quantile(mean_over_samples, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    x = np.arange(len(elements))
    ax.errorbar(x, mean_over_samples.mean(axis=0), yerr=[mean_over_samples.mean(axis=0) - lo,
                hi - mean_over_samples.mean(axis=0)], fmt="o", color="C1", capsize=3,
                label=f"mean over samples, {prob:.0%} interval")
    point = tau.mean(axis=0)
    for n in range(N):
        ax.plot(x + 0.15, point[n], ".", color="0.5", ms=3, label="samples" if n == 0 else None)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(x, elements, rotation=60, fontsize=8)
    ax.set_ylabel("tau = ΔC / C0")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def immobile_figure(fit: Fit) -> Figure | None:
    """Probability that each element is immobile (SparseIsocon fits only)."""
    model: Any = fit.model
    if not hasattr(model, "immobile_probability"):
        return None
    p = model.immobile_probability(fit)
    fig = Figure(figsize=(7, 3))
    ax = fig.subplots()
    ax.bar(range(p.size), p.to_numpy(), color=["C2" if v > 0.5 else "C3" for v in p])
    ax.set_xticks(range(p.size), list(p.index), rotation=60, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(immobile)")
    fig.tight_layout()
    return fig


def isocon_figures(fit: Fit) -> list[tuple[str, Figure]]:
    """The figures of an isocon fit, titled, for the report."""
    out = [("Isocon diagram", isocon_diagram(fit)), ("Mass transfer tau = ΔC/C0", tau_figure(fit))]
    imm = immobile_figure(fit)
    if imm is not None:
        out.append(("Probability of being immobile", imm))
    return out
