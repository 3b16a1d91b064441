"""Figures of fits, drawn on :class:`matplotlib.figure.Figure` objects that pyplot does not
manage (the user's backend and open figures are left alone).

Generic figures (any family), built on arviz where it has the plot:

* :mod:`pystats.plots.diagnostic`: trace, rank, autocorrelation, forest, pair, energy,
  marginal densities and the parameter-correlation matrix;
* :mod:`pystats.plots.prior`: prior-versus-posterior overlays (with
  :func:`~pystats.plots.prior.marginal_prior_density`);
* :mod:`pystats.plots.predictive`: predictive checks (observed vs replicated data against
  what the observed vector is indexed by, scalar checks as histograms).

Family figures: :mod:`pystats.plots.gr` (frequency–magnitude distribution, detection
curve) and :mod:`pystats.plots.etas` (intensity, residuals, background probabilities,
Omori–Utsu rate, magnitude–frequency distribution of the target events),
:mod:`pystats.plots.isocon` (isocon diagram, mass transfer tau, immobile probabilities) and
:mod:`pystats.plots.aftershock` (``μ(t)`` with its band over the events, ``q(M, t)``,
observed vs fitted cumulative counts, the forecast; ``plot_*(fit, ax=None)`` functions that
return the ``Axes``, also as ``pystats.aftershock.plots``).

Every function returns a figure (or ``None`` when there is nothing to draw); the report
(:mod:`pystats.report`) embeds them.
"""

from __future__ import annotations

__all__ = [
    "aftershock", "diagnostic", "eos", "etas", "gr", "isocon", "predictive", "prior",
    "processes",
]
