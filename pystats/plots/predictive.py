"""Predictive checks: observed data against data replicated from the fit's draws.

How a variable is shown depends on its size:

* a scalar (a number of events): a histogram of the replicated values with the observed
  value marked and the predictive tail probability ``P(rep >= obs)``;
* a short vector (binned counts, a few measurements): each observed value against the
  90 % interval and median of its replicates, plotted against what the family says the
  vector is indexed by (:meth:`~pystats.model.Model.observed_coordinates`, e.g. the
  magnitude of each bin), else against the element index;
* a long vector (a catalogue's magnitudes): replicated and observed distributions overlaid
  (``arviz.plot_ppc``).

References
----------
Gelman, A., Meng, X.-L. and Stern, H. (1996). Posterior predictive assessment of model
fitness via realized discrepancies. Statistica Sinica, 6(4), 733-760.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..arviz_io import import_arviz
from ._base import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ppc_figure", "ppc_tail_probability"]

MAX_DENSITY_DRAWS = 50
"""Replicated data sets overlaid as densities (each is a kernel density estimate)."""
MAX_PPC_ELEMENTS = 100
"""Observed vectors with at most this many values are checked value by value."""


def ppc_tail_probability(observed: float, replicated: np.ndarray) -> float:
    """``P(rep >= obs)`` over the replicated values (ties count half)."""
    rep = np.ravel(np.asarray(replicated, dtype=float))
    return float(np.mean(rep > observed) + 0.5 * np.mean(rep == observed))


def ppc_figure(
    name: str,
    observed: np.ndarray,
    replicated: np.ndarray,
    coordinates: tuple[str, np.ndarray] | None = None,
) -> Figure:
    """The predictive check of one observed variable (see the module docstring).

    Parameters
    ----------
    name : str
        Observed-variable name.
    observed : ndarray
        The observed values.
    replicated : ndarray
        ``(chain, draw, *observed.shape)``.
    coordinates : (str, ndarray), optional
        Axis label and one value per observed element.
    """
    observed = np.asarray(observed)
    if observed.size == 1:
        return _scalar_figure(name, float(observed.ravel()[0]), replicated)
    if observed.size <= MAX_PPC_ELEMENTS:
        return _elements_figure(name, observed, replicated, coordinates)
    return _density_figure(name, observed, replicated)


def _scalar_figure(name: str, observed: float, replicated: np.ndarray) -> Figure:
    rep = np.ravel(np.asarray(replicated, dtype=float))
    fig = new_figure(6, 3.3)
    ax = fig.subplots()
    values = np.unique(rep)
    if values.size <= 60 and np.all(values == np.round(values)):
        edges = np.arange(values.min() - 0.5, values.max() + 1.5)
    else:
        edges = 30
    ax.hist(rep, bins=edges, color="#8da0cb", alpha=0.85, label=f"replicated ({rep.size})")
    p = ppc_tail_probability(observed, rep)
    ax.axvline(observed, color="#d62728", lw=2, label=f"observed = {observed:g}")
    ax.set_xlabel(name)
    ax.set_ylabel("replications")
    ax.set_title(f"{name}: P(replicated >= observed) = {p:.2f}", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _elements_figure(
    name: str,
    observed: np.ndarray,
    replicated: np.ndarray,
    coordinates: tuple[str, np.ndarray] | None,
) -> Figure:
    obs = np.ravel(observed).astype(float)
    rep = np.asarray(replicated, dtype=float).reshape(-1, obs.size)
    lo, med, hi = np.quantile(rep, [0.05, 0.5, 0.95], axis=0)
    if coordinates is not None and np.size(coordinates[1]) == obs.size:
        xlabel, x = coordinates[0], np.ravel(np.asarray(coordinates[1], dtype=float))
    else:
        xlabel, x = f"{name} (element index)", np.arange(obs.size, dtype=float)
    outside = (obs < lo) | (obs > hi)
    fig = new_figure(7, 3.6)
    ax = fig.subplots()
    ax.fill_between(x, lo, hi, step="mid", color="#8da0cb", alpha=0.5,
                    label="replicated 90% interval")
    ax.step(x, med, where="mid", color="#3b4cc0", lw=1, label="replicated median")
    ax.plot(x[~outside], obs[~outside], "o", color="black", ms=3, label="observed")
    if outside.any():
        ax.plot(x[outside], obs[outside], "o", color="#d62728", ms=4,
                label=f"observed outside interval ({int(outside.sum())} of {obs.size})")
    positive = obs[obs > 0]
    if np.all(obs >= 0) and positive.size and positive.max() > 100 * positive.min():
        ax.set_yscale("symlog", linthresh=1.0)  # counts over orders of magnitude
    ax.set_xlabel(xlabel)
    ax.set_ylabel(name)
    ax.legend(fontsize=8)
    return fig


def _density_figure(name: str, observed: np.ndarray, replicated: np.ndarray) -> Figure:
    az = import_arviz()
    dims = [f"{name}_dim_{i}" for i in range(observed.ndim)]
    data = az.from_dict(
        posterior_predictive={name: replicated},
        observed_data={name: observed},
        dims={name: dims},
    )
    fig = new_figure(6, 3.5)
    ax = fig.subplots()
    az.plot_ppc(data, var_names=[name], ax=ax, num_pp_samples=MAX_DENSITY_DRAWS, show=False)
    return fig
