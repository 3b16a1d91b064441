"""Figures of the liquid-iron EOS family (called by ``LiquidIronEOS.report_figures``).

:func:`p_rho_figure`: observations in the pressure–density plane, one marker per data set,
with the fitted isotherms/Hugoniot at the posterior mean; :func:`residual_figure`:
(observed − fitted)/σ per observation; :func:`outer_core_figure`: density and V_P along
the outer-core adiabat with 90 % bands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from ..eos import forward as fw
from ._base import new_figure

if TYPE_CHECKING:
    from ..eos.model import LiquidIronEOS
    from ..fit import Fit

__all__ = ["outer_core_figure", "p_rho_figure", "residual_figure"]


def p_rho_figure(model: LiquidIronEOS, fit: Fit) -> Figure:
    """Observed (P, ρ) per data set with fitted values and the mean EOS's isotherms."""
    fig = new_figure(7.0, 4.8)
    ax = fig.add_subplot()
    obs = fit.data.observed
    P = np.asarray(obs["P_GPa"], dtype=float)
    P = np.where(np.isnan(P), 1e-4, P)
    rho = np.asarray(obs["rho_g_cm3"], dtype=float)
    names = np.asarray(fit.data.summary["dataset_of_row"])
    fitted = model.fitted_values(fit)
    for name in dict.fromkeys(names):
        m = (names == name) & np.isfinite(rho)
        if m.any():
            ax.plot(P[m], rho[m], "o", ms=4, label=name)
    ax.plot(fitted["P"], fitted["rho"], "k+", ms=6, label="fitted (posterior mean)")
    p = model._draw_parameters(fit, max_draws=200)
    mean = fw.EOSParameters.from_mapping({k: np.mean(getattr(p, k)) for k in
                                          ("V0", "K0", "K0p", "gamma0", "q", "e0", "g")},
                                         T0=p.T0, isotherm=p.isotherm)
    grid = np.linspace(0.0, max(float(np.nanmax(P)), 150.0), 120)
    for T in (2000.0, 4000.0, 6000.0):
        ax.plot(grid, fw.density(grid, T, mean), lw=0.8, alpha=0.7, label=f"isotherm {T:.0f} K")
    ax.set_xlabel("pressure (GPa)")
    ax.set_ylabel("density (g/cm³)")
    ax.legend(fontsize=6, ncol=2)
    return fig


def residual_figure(model: LiquidIronEOS, fit: Fit) -> Figure:
    """Normalised residuals (observed − fitted)/σ of density and pressure per observation."""
    fig = new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    obs = fit.data.observed
    fitted = model.fitted_values(fit)
    rho = np.asarray(obs["rho_g_cm3"], dtype=float)
    rho_sd = np.asarray(fit.data.summary["rho_sd"], dtype=float)
    P = np.asarray(obs["P_GPa"], dtype=float)
    P_sd = np.asarray(fit.data.summary["P_sd"], dtype=float)
    idx = np.arange(rho.size)
    ax.axhline(0, color="k", lw=0.6)
    ax.plot(idx, (rho - fitted["rho"]) / rho_sd, "o", ms=4, label="density")
    ax.plot(idx, (P - fitted["P"]) / P_sd, "s", ms=3, label="pressure")
    ax.set_xlabel("observation (static, shock, 1 bar)")
    ax.set_ylabel("(observed − fitted) / σ")
    ax.legend(fontsize=7)
    return fig


def outer_core_figure(model: LiquidIronEOS, fit: Fit, T_cmb: float = 4000.0,
                      T_cmb_sd: float = 300.0) -> Figure:
    """Density and V_P of liquid iron along the adiabat through the outer core (90 % band)."""
    fig = new_figure(7.0, 3.6)
    df = model.predict(fit, T_cmb=T_cmb, T_cmb_sd=T_cmb_sd)
    for i, (key, label) in enumerate((("rho", "density (g/cm³)"), ("V_P", "V_P (km/s)"))):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.fill_between(df["P_GPa"], df[f"{key}_lower"], df[f"{key}_upper"], alpha=0.3)
        ax.plot(df["P_GPa"], df[key], label="liquid Fe (adiabat)")
        ax.set_xlabel("pressure (GPa)")
        ax.set_ylabel(label)
    return fig
