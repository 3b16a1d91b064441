"""Prior-versus-posterior overlays.

:func:`marginal_prior_density` evaluates the prior density of one scalar parameter element
from the family's joint prior (:meth:`~pystats.model.Model.log_prior`), with the other
parameters held at their posterior means: the marginal prior whenever the priors are
independent across parameters, as in every pystats family (otherwise the conditional
prior).  It is normalised numerically on the unconstrained scale, where the integrand
``p(x(u)) |dx/du|`` decays in both directions for a proper prior; an improper prior (a
flat prior on an unbounded parameter, Jeffreys' ``1/sqrt(rate)``) is reported as such and
not drawn.

References
----------
Gabry, J., Simpson, D., Vehtari, A., Betancourt, M. and Gelman, A. (2019). Visualization in
Bayesian workflow. Journal of the Royal Statistical Society A, 182(2), 389-402.
https://doi.org/10.1111/rssa.12378
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.integrate import trapezoid

from ..errors import MethodNotSupportedError, OptionError
from ._base import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..fit import Fit

__all__ = ["ImproperPriorError", "marginal_prior_density", "prior_posterior_figure"]

_GRID_POINTS = 4001
_GRID_REACH = 1e6
"""The unconstrained grid reaches ``_GRID_REACH`` posterior standard deviations either side,
with sinh spacing (fine near the posterior, a constant relative step far from it)."""
_TAIL_MAX = 1e-8
"""Integrand at the grid's ends above this fraction of its maximum: the prior is improper."""


class ImproperPriorError(OptionError):
    """The prior of the element has no finite normalising constant (nothing to draw).

    Examples
    --------
    The default ``rate`` prior of :class:`~pystats.GutenbergRichter` is Jeffreys' (improper),
    so it has no density to draw in a prior-versus-posterior figure:

    >>> import numpy as np, pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> from pystats.plots.prior import ImproperPriorError, marginal_prior_density
    >>> m = simulate_gr(500, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> fit = pystats.GutenbergRichter(mc=2.0).fit(m)  # draws from the asymptotic law
    >>> try:
    ...     marginal_prior_density(fit, "rate", np.array([500.0]))
    ... except ImproperPriorError as e:
    ...     print(e)
    the prior of rate is improper (no density to draw)
    >>> bool(marginal_prior_density(fit, "b", np.array([1.0]))[0] > 0)
    True
    """


def _element(fit: Fit, label: str) -> tuple[str, int]:
    for p in fit.parameters:
        if label in p.element_names():
            return p.name, p.element_names().index(label)
    raise KeyError(f"Unknown parameter element: {label}")


def marginal_prior_density(fit: Fit, label: str, x: np.ndarray) -> np.ndarray:
    """Prior density of the scalar element ``label`` (``b``, ``mu[1]``) at values ``x``.

    Parameters
    ----------
    fit : Fit
        A fit with draws (the other elements are held at their draw means).
    label : str
        Element name as in the summary table.
    x : ndarray
        Values on the parameter scale; outside the support the density is 0.

    Returns
    -------
    ndarray
        Normalised density at ``x``.

    Raises
    ------
    MethodNotSupportedError
        If the family defines no prior density.
    ImproperPriorError
        If the prior of the element is improper.
    """
    name, index = _element(fit, label)
    param = fit.parameters[name]
    at = {p.name: np.asarray(np.mean(fit.variable(p.name), axis=0), dtype=float)
          for p in fit.parameters}
    centre = np.ravel(at[name])[index]
    draws = np.asarray(fit.variable(name), dtype=float).reshape(-1, param.size)[:, index]
    inside = (draws > param.lower) & (draws < param.upper)
    if not np.isfinite(centre) or not (param.lower < centre < param.upper):
        centre = float(np.median(draws[inside])) if inside.any() else 0.5 * (
            max(param.lower, -1.0) + min(param.upper, 1.0))
    u_draws = np.asarray(param.unconstrain(draws[inside])) if inside.sum() > 1 else np.zeros(2)
    u_c = float(param.unconstrain(np.asarray(centre)))
    scale = float(np.std(u_draws)) or 1.0
    reach = np.arcsinh(_GRID_REACH)
    t = np.linspace(-reach, reach, _GRID_POINTS)
    u = u_c + scale * np.sinh(t)

    def log_prior_at(values: np.ndarray) -> np.ndarray:
        batch = {}
        for p in fit.parameters:
            arr = np.broadcast_to(at[p.name], (values.size, *p.shape)).copy()
            if p.name == name:
                arr.reshape(values.size, -1)[:, index] = values
            batch[p.name] = arr
        return fit.model.log_prior(batch, fit.data)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lp_u = log_prior_at(np.asarray(param.constrain(u), dtype=float))
        log_integrand = lp_u + np.asarray(param.log_abs_det_jacobian(u), dtype=float)
    finite = np.isfinite(log_integrand)
    if not finite.any():
        raise ImproperPriorError(f"the prior density of {label} is zero or undefined")
    top = float(np.max(log_integrand[finite]))
    w = np.where(finite, np.exp(log_integrand - top), 0.0)
    ends = np.flatnonzero(finite)[[0, -1]]  # beyond them the transform overflowed
    if np.any(w[ends] > _TAIL_MAX):
        raise ImproperPriorError(f"the prior of {label} is improper (no density to draw)")
    # trapezoid rule in t, where the grid is uniform (spectrally accurate for smooth,
    # decaying integrands): du = scale cosh(t) dt
    z = float(trapezoid(w * scale * np.cosh(t), t))
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape)
    ok = (x > param.lower) & (x < param.upper) & np.isfinite(x)
    if ok.any():
        with np.errstate(over="ignore", invalid="ignore"):
            out[ok] = np.exp(log_prior_at(x[ok]) - top) / z
    return np.where(np.isfinite(out), out, 0.0)


def prior_posterior_figure(fit: Fit, labels: list[str]) -> tuple[Figure | None, list[str]]:
    """Posterior histogram of each element with its prior density drawn over it.

    Returns the figure (``None`` if no element has a drawable prior) and one note per
    element whose prior was not drawn, saying why.

    Raises
    ------
    MethodNotSupportedError
        If the family defines no prior density.
    """
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    notes: list[str] = []
    for label in labels:
        name, index = _element(fit, label)
        param = fit.parameters[name]
        d = np.asarray(fit.variable(name), dtype=float).reshape(-1, param.size)[:, index]
        d = d[np.isfinite(d)]
        if d.size < 2:
            continue
        lo, hi = np.quantile(d, [0.001, 0.999])
        pad = 0.5 * (hi - lo) or 1.0
        grid = np.linspace(max(lo - pad, param.lower), min(hi + pad, param.upper), 300)
        try:
            dens = marginal_prior_density(fit, label, grid)
        except ImproperPriorError as e:
            notes.append(f"{label}: {e}")
            continue
        except MethodNotSupportedError:
            raise
        curves[label] = (d, grid, dens)
    if not curves:
        return None, notes
    k = len(curves)
    ncol = min(k, 3)
    nrow = -(-k // ncol)
    fig = new_figure(3.4 * ncol, 2.5 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, (label, (d, grid, dens)) in zip(axes, curves.items(), strict=False):
        ax.hist(d, bins=40, density=True, color="#8da0cb", alpha=0.8, label="posterior")
        ax.plot(grid, dens, color="#d95f02", lw=1.8, label="prior")
        ax.set_title(label, fontsize=10)
        ax.set_yticks([])
    axes[0].legend(fontsize=8)
    for ax in axes[k:]:
        ax.set_visible(False)
    return fig, notes
