"""Helpers shared by the figure modules: figures outside pyplot, thinning, scalar draws."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..arviz_io import import_arviz
from ..summary import element_names, relabel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..fit import Fit

__all__ = ["idata", "new_figure", "scalar_draws", "thin"]


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    """A figure pyplot does not manage (no global state, nothing to close)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=layout)


def thin(arr: np.ndarray, max_draws: int) -> np.ndarray:
    """Keep about ``max_draws`` evenly spaced draws in total (axis 1), every chain alike."""
    n_chain, n_draw = arr.shape[:2]
    per_chain = max(1, max_draws // max(n_chain, 1))
    if per_chain >= n_draw:
        return arr
    idx = np.unique(np.linspace(0, n_draw - 1, per_chain).round().astype(int))
    return arr[:, idx]


def scalar_draws(fit: Fit, limit: int) -> tuple[dict[str, np.ndarray], int]:
    """The first ``limit`` scalar parameter elements as ``label -> (chain, draw)``.

    Labels are the rows of ``fit.summary()`` (the family's ``index_labels`` applied).
    Returns the draws and the total number of scalar parameter elements.
    """
    out: dict[str, np.ndarray] = {}
    total = fit.parameters.dim
    labels = fit.model.index_labels(fit.data)
    for p in fit.parameters:
        if p.name not in fit.draws:
            continue
        arr = np.asarray(fit.draws[p.name], dtype=float)
        flat = arr.reshape(arr.shape[0], arr.shape[1], -1)
        for i, label in enumerate(element_names(p.name, p.shape)):
            if len(out) >= limit:
                return out, total
            shown = relabel(label, labels)
            out[label if shown in out else shown] = flat[:, :, i]
    return out, total


def idata(posterior: dict[str, np.ndarray], stats: dict[str, np.ndarray] | None = None) -> Any:
    """An arviz ``InferenceData`` of scalar draws ``(chain, draw)`` (and sample stats)."""
    az = import_arviz()
    return az.from_dict(posterior=posterior, sample_stats=stats or None)
