"""Figures of compositional process extraction (:mod:`pystats.compositional.processes`):
:func:`loadings_figure` (clr loadings with bootstrap intervals) and
:func:`directions_figure` (Harker-style: the data's clr coordinates of pairs of parts, with
the extracted directions drawn through the mean)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from ..compositional.processes import ProcessesResult

__all__ = ["directions_figure", "loadings_figure"]


def loadings_figure(result: ProcessesResult) -> Figure:
    """Bars of each component's clr loadings, with bootstrap intervals when available."""
    L = result.loadings
    K, D = L.shape
    fig = Figure(figsize=(7, 2.4 * K))
    axes = np.atleast_1d(fig.subplots(K, 1, sharex=True))
    for k, ax in enumerate(axes):
        v = L.iloc[k].to_numpy()
        err = None
        if np.all(np.isfinite(result.lower.iloc[k])):
            err = [v - result.lower.iloc[k].to_numpy(), result.upper.iloc[k].to_numpy() - v]
        ax.bar(range(D), v, yerr=err, color="C0", capsize=3)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylabel(f"{L.index[k]} ({result.explained[k]:.0%})")
    axes[-1].set_xticks(range(D), list(L.columns), rotation=45)
    fig.suptitle("clr loadings (which parts move together)")
    fig.tight_layout()
    return fig


def directions_figure(result: ProcessesResult, data: pd.DataFrame,
                      pairs: list[tuple[str, str]] | None = None) -> Figure:
    """clr coordinates of pairs of parts (default: the first part against the three with
    the largest loadings) with each direction drawn through the data's centre."""
    from ..compositional.transforms import clr

    parts = list(result.loadings.columns)
    y = clr(data[parts]).to_numpy()
    centre = y.mean(axis=0)
    if pairs is None:
        top = list(np.argsort(-np.abs(result.loadings.to_numpy()).max(axis=0)))
        pairs = [(parts[0], parts[j]) for j in top if parts[j] != parts[0]][:3]
    fig = Figure(figsize=(4 * len(pairs), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(pairs)))
    spread = float(np.std(y @ result.loadings.to_numpy().T, axis=0).max()) * 2.5
    for ax, (a, b) in zip(axes, pairs, strict=True):
        i, j = parts.index(a), parts.index(b)
        ax.scatter(y[:, i], y[:, j], s=4, color="0.6")
        for k, name in enumerate(result.loadings.index):
            v = result.loadings.iloc[k].to_numpy()
            ax.plot([centre[i] - spread * v[i], centre[i] + spread * v[i]],
                    [centre[j] - spread * v[j], centre[j] + spread * v[j]], lw=2,
                    color=f"C{k}", label=name)
        ax.set_xlabel(f"clr {a}")
        ax.set_ylabel(f"clr {b}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
