"""Figures of the MORB melting inversion (called by ``MORBMelting.report_figures``).

:func:`spider_figure`: the posterior of the source composition C0 normalised to primitive
mantle (McDonough & Sun 1995), with DMM (Workman & Hart 2005) and DM (Salters & Stracke
2004) for comparison; :func:`f_figure`: the degree of melting per sample with intervals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._base import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..fit import Fit

__all__ = ["f_figure", "spider_figure"]


def _intervals(x: np.ndarray, prob: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = (1 - prob) / 2, (1 + prob) / 2
    return np.median(x, axis=0), np.quantile(x, lo, axis=0), np.quantile(x, hi, axis=0)


def spider_figure(fit: Fit, prob: float = 0.9) -> Figure:
    """C0 / primitive mantle per element (posterior median and ``prob`` interval) with the
    reference mantles."""
    from ..morb.tables import reference

    draws = fit.model._draws(fit)  # type: ignore[attr-defined]
    elements = list(fit.data.summary["elements"])
    pm = reference("PM_MS1995")
    norm = np.array([pm[e] for e in elements])
    med, lo, hi = _intervals(draws["C0"] / norm)
    x = np.arange(len(elements))
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.fill_between(x, lo, hi, color="C0", alpha=0.25, label=f"C0 posterior {prob:.0%}")
    ax.plot(x, med, "o-", color="C0", label="C0 posterior median")
    prior = np.exp(np.asarray(fit.data.values["log_c0_ref"])) / norm
    ax.plot(x, prior, "s--", color="0.4", ms=4, label="prior centre")
    for name, style in (("DMM_WH2005", "k:"), ("DM_SS2004", "C3:")):
        ref = reference(name)
        ax.plot(x, [ref.get(e, np.nan) / pm[e] for e in elements], style, label=name)
    ax.set_yscale("log")
    ax.set_xticks(x, elements)
    ax.set_ylabel("source / primitive mantle")
    ax.legend(fontsize=8)
    return fig


def f_figure(fit: Fit, prob: float = 0.9, max_samples: int = 500) -> Figure:
    """F per sample (posterior median and ``prob`` interval), samples sorted by F."""
    draws = fit.model._draws(fit)  # type: ignore[attr-defined]
    med, lo, hi = _intervals(draws["F"])
    order = np.argsort(med)[:max_samples]
    fig = new_figure(7.0, 3.5)
    ax = fig.add_subplot()
    idx = np.arange(order.size)
    ax.vlines(idx, lo[order], hi[order], color="C1", alpha=0.5)
    ax.plot(idx, med[order], ".", color="C1")
    ax.set_xlabel(f"sample (sorted by F; {order.size} of {med.size})")
    ax.set_ylabel(f"F (median, {prob:.0%} interval)")
    if med.size <= 30:
        ids = fit.data.summary["sample_ids"]
        ax.set_xticks(idx, [ids[i] for i in order], rotation=90, fontsize=7)
    return fig
