"""Forward functions of the liquid-iron equation of state (Kuwayama et al. 2020 form).

Vectorised NumPy: every function broadcasts its arguments, and the parameters may be arrays
(e.g. posterior draws of shape ``(S, 1)`` against a grid of shape ``(n,)``).  Units: molar
volume ``V`` in cm³/mol, pressure in GPa, temperature in K, energy in J/mol, density in
g/cm³, sound speed in km/s.  ``1 GPa · cm³/mol = 1000 J/mol``: energies are divided by
:data:`J_PER_GPA_CM3` to become pressures.

The equation of state (the model card ``models/liquid_iron_eos.md`` gives the details):

* isotherm at ``T0`` (Vinet, or third-order Birch–Murnaghan with ``isotherm="bm3"``),
  ``P_ref(V)`` with ``V0``, ``K0`` (isothermal, GPa) and ``K0p``;
* thermal energy ``E(V, T) = 3 n R (T + e(V) T²)`` with ``e(V) = e0 (V/V0)^g``;
* Grüneisen parameter ``γ(V) = γ0 (V/V0)^q``;
* ``P(V, T) = P_ref(V) + γ(V)/V · [E(V, T) − E(V, T0)]`` (Mie–Grüneisen).

Derived: ``(∂P/∂T)_V = γ C_V / V`` with ``C_V = 3nR (1 + 2 e(V) T)``,
``K_T = −V (∂P/∂V)_T`` (closed form), ``α = (∂P/∂T)_V / K_T``,
``K_S = K_T + γ T (∂P/∂T)_V``, ``C_P = C_V (1 + α γ T)``, ``V_P = √(K_S/ρ)``;
adiabats ``T(V) = T_ref exp(−(γ0/q)(y^q − y_ref^q))`` (``dlnT/dlnV = −γ``) and the
Rankine–Hugoniot curve from solid iron at 1 bar and 298 K.

References
----------
Kuwayama, Y., et al. (2020). Equation of state of liquid iron under extreme conditions.
Phys. Rev. Lett. 124, 165701.
Vinet, P., Ferrante, J., Rose, J. H. and Smith, J. R. (1987). Compressibility of solids.
J. Geophys. Res. 92(B9), 9319-9325.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "ENTHALPY_LIQUID_1809K",
    "GAS_CONSTANT",
    "J_PER_GPA_CM3",
    "MOLAR_MASS_FE",
    "RHO_SOLID_298K",
    "EOSParameters",
    "adiabat",
    "adiabat_temperature",
    "density",
    "hugoniot",
    "hugoniot_temperature",
    "hugoniot_volume",
    "internal_energy",
    "pressure",
    "state",
    "volume",
]

MOLAR_MASS_FE = 55.845
"""Molar mass of iron, g/mol (IUPAC standard atomic weight)."""
GAS_CONSTANT = 8.314462618
"""Molar gas constant R, J/(mol K) (CODATA 2018, exact)."""
J_PER_GPA_CM3 = 1000.0
"""1 GPa · cm³ = 1e9 Pa · 1e-6 m³ = 1000 J."""
RHO_SOLID_298K = 7.873
"""Density of bcc iron at 1 bar, room temperature (g/cm³): the initial state of the shock
Hugoniot compilation (``iron_hugoniot_above_200GPa.csv``, R0 = 7.873 g/cc)."""
ENTHALPY_LIQUID_1809K = 72.4e3
"""H(liquid, 1809 K) − H(bcc, 298.15 K) of iron at 1 bar, J/mol (NIST-JANAF, Chase 1998):
the internal energy of the EOS reference state (V0, T0) above the Hugoniot's initial state
(the P ΔV term at 1 bar is negligible)."""


@dataclass(frozen=True)
class EOSParameters:
    """Parameters of the liquid-iron EOS.

    Parameters
    ----------
    V0 : float
        Molar volume at 1 bar and ``T0`` (cm³/mol); ``ρ0 = 55.845 / V0`` g/cm³.
    K0 : float
        Isothermal bulk modulus at 1 bar and ``T0`` (GPa).
    K0p : float
        Its pressure derivative (dimensionless).
    gamma0 : float
        Grüneisen parameter at ``V0``.
    q : float
        ``γ = γ0 (V/V0)^q``.
    e0 : float
        Electronic-like heat-capacity coefficient (1/K): ``E = 3nR (T + e0 (V/V0)^g T²)``.
    g : float
        Volume exponent of ``e``.
    T0 : float
        Reference temperature (K).
    n : float
        Atoms per formula unit (1 for Fe).
    isotherm : {"vinet", "bm3"}
        Form of the reference isotherm.

    Examples
    --------
    >>> from pystats.eos.forward import EOSParameters, density
    >>> p = EOSParameters.kuwayama2020()
    >>> round(float(density(20.0, 2000.0, p)), 4)   # Kuwayama et al. 2020 Table SII: 8.149
    8.1482
    """

    V0: Any
    K0: Any
    K0p: Any
    gamma0: Any
    q: Any
    e0: Any
    g: Any
    T0: float = 1811.0
    n: float = 1.0
    isotherm: str = "vinet"

    @classmethod
    def kuwayama2020(cls) -> EOSParameters:
        """Kuwayama et al. (2020, PRL 124, 165701): V0 7.94 cm³/mol at T0 1811 K, K_T0
        82.1 GPa, K' 5.80, γ0 2.02, q 0.63, e0 0.68e-4 /K, g −1.0 (Vinet isotherm)."""
        return cls(V0=7.94, K0=82.1, K0p=5.80, gamma0=2.02, q=0.63, e0=0.68e-4, g=-1.0,
                   T0=1811.0)

    @classmethod
    def matsumura2021(cls) -> EOSParameters:
        """Matsumura et al. (2021, JGR Solid Earth 126, e2021JB023062) posterior point
        values as transcribed in the public ``corefe`` code (Y.-Q. Wong 2022,
        ``src/modelinit.m``): ρ0 7.19 g/cm³ (V0 = 55.845/7.19 cm³/mol), K_T0 83.12 GPa,
        K' 5.73, γ0 2.26, q (``b`` there) 0.86, e0 1.27e-4 /K, g −1.01, with the code's
        reference temperature T0 = 2000 K (not checked against the paper, which could not
        be consulted; see the model card).  Vinet isotherm."""
        return cls(V0=MOLAR_MASS_FE / 7.19, K0=83.12, K0p=5.73, gamma0=2.26, q=0.86,
                   e0=1.27e-4, g=-1.01, T0=2000.0)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], **fixed: Any) -> EOSParameters:
        """From a mapping holding (at least) the seven fitted parameters."""
        names = ("V0", "K0", "K0p", "gamma0", "q", "e0", "g")
        return cls(**{k: np.asarray(values[k], dtype=float) for k in names}, **fixed)


def _p(p: EOSParameters | Mapping[str, Any], name: str) -> Any:
    return getattr(p, name) if not isinstance(p, Mapping) else p[name]


def _power_integral(y: Any, s: Any) -> Any:
    """``∫_1^y t^(s-1) dt = (y^s − 1)/s`` (``log y`` at ``s = 0``), stable near 0."""
    s = np.asarray(s, dtype=float)
    ly = np.log(y)
    small = np.abs(s * ly) < 1e-8
    s_safe = np.where(np.abs(s) < 1e-300, 1.0, s)
    return np.where(small, ly * (1 + 0.5 * s * ly), np.expm1(s * ly) / s_safe)


# ---------------------------------------------------------------- reference isotherm
def isotherm_pressure(V: Any, p: EOSParameters) -> Any:
    """Pressure of the reference isotherm at ``T0`` (GPa)."""
    y = np.asarray(V, dtype=float) / p.V0
    if p.isotherm == "bm3":
        f = 0.5 * (y ** (-2.0 / 3.0) - 1.0)
        return 3.0 * p.K0 * f * (1 + 2 * f) ** 2.5 * (1 + 1.5 * (p.K0p - 4) * f)
    x = np.cbrt(y)
    eta = 1.5 * (p.K0p - 1.0)
    return 3.0 * p.K0 * (1 - x) / x**2 * np.exp(eta * (1 - x))


def isotherm_bulk_modulus(V: Any, p: EOSParameters) -> Any:
    """``−V dP_ref/dV`` of the reference isotherm (GPa)."""
    y = np.asarray(V, dtype=float) / p.V0
    if p.isotherm == "bm3":
        f = 0.5 * (y ** (-2.0 / 3.0) - 1.0)
        a = 1.5 * (p.K0p - 4)
        # P = 3 K0 f (1+2f)^(5/2) (1 + a f); -V df/dV = (1+2f)/3
        dPdf = 3 * p.K0 * ((1 + 2 * f) ** 2.5 * (1 + 2 * a * f)
                           + 5 * f * (1 + 2 * f) ** 1.5 * (1 + a * f))
        return dPdf * (1 + 2 * f) / 3.0
    x = np.cbrt(y)
    eta = 1.5 * (p.K0p - 1.0)
    return p.K0 / x**2 * np.exp(eta * (1 - x)) * (2 - x + eta * x * (1 - x))


def isotherm_energy(V: Any, p: EOSParameters) -> Any:
    """``−∫_{V0}^{V} P_ref dV`` (J/mol): the isothermal work of compression from ``V0``."""
    y = np.asarray(V, dtype=float) / p.V0
    if p.isotherm == "bm3":
        f = 0.5 * (y ** (-2.0 / 3.0) - 1.0)
        F = 4.5 * p.K0 * p.V0 * f**2 * (1 + (p.K0p - 4) * f)
    else:
        x = np.cbrt(y)
        eta = 1.5 * (p.K0p - 1.0)
        F = 9.0 * p.K0 * p.V0 / eta**2 * (1 + (eta * (1 - x) - 1) * np.exp(eta * (1 - x)))
    return F * J_PER_GPA_CM3


# ---------------------------------------------------------------- thermal part
def grueneisen(V: Any, p: EOSParameters) -> Any:
    """``γ(V) = γ0 (V/V0)^q``."""
    return p.gamma0 * (np.asarray(V, dtype=float) / p.V0) ** p.q


def _e(V: Any, p: EOSParameters) -> Any:
    return p.e0 * (np.asarray(V, dtype=float) / p.V0) ** p.g


def heat_capacity_v(V: Any, T: Any, p: EOSParameters) -> Any:
    """``C_V = (∂E/∂T)_V = 3nR (1 + 2 e(V) T)`` (J/(mol K))."""
    return 3 * p.n * GAS_CONSTANT * (1 + 2 * _e(V, p) * np.asarray(T, dtype=float))


def _phi(V: Any, T: Any, p: EOSParameters) -> Any:
    """``[E(V,T) − E(V,T0)] / (3nR)`` (K)."""
    T = np.asarray(T, dtype=float)
    return (T - p.T0) + _e(V, p) * (T**2 - p.T0**2)


def thermal_pressure(V: Any, T: Any, p: EOSParameters) -> Any:
    """``γ/V [E(V,T) − E(V,T0)]`` (GPa)."""
    V = np.asarray(V, dtype=float)
    return grueneisen(V, p) / V * 3 * p.n * GAS_CONSTANT * _phi(V, T, p) / J_PER_GPA_CM3


def pressure(V: Any, T: Any, p: EOSParameters) -> Any:
    """``P(V, T)`` (GPa)."""
    return isotherm_pressure(V, p) + thermal_pressure(V, T, p)


def dPdT(V: Any, T: Any, p: EOSParameters) -> Any:
    """``(∂P/∂T)_V = γ C_V / V`` (GPa/K)."""
    V = np.asarray(V, dtype=float)
    return grueneisen(V, p) * heat_capacity_v(V, T, p) / V / J_PER_GPA_CM3


def bulk_modulus_t(V: Any, T: Any, p: EOSParameters) -> Any:
    """``K_T = −V (∂P/∂V)_T`` (GPa), closed form."""
    V = np.asarray(V, dtype=float)
    T = np.asarray(T, dtype=float)
    y = V / p.V0
    c = 3 * p.n * GAS_CONSTANT * p.gamma0 / p.V0 / J_PER_GPA_CM3
    # P_th = c [y^(q-1) (T - T0) + e0 y^(q+g-1) (T² - T0²)];  -V dP_th/dV = -y dP_th/dy
    kth = -c * ((p.q - 1) * y ** (p.q - 1) * (T - p.T0)
                + p.e0 * (p.q + p.g - 1) * y ** (p.q + p.g - 1) * (T**2 - p.T0**2))
    return isotherm_bulk_modulus(V, p) + kth


def internal_energy(V: Any, T: Any, p: EOSParameters) -> Any:
    """``E(V, T) − E(V0, T0)`` (J/mol), consistent with the Mie–Grüneisen pressure.

    Along the ``T0`` isotherm ``dE = (T0 (∂P/∂T)_V − P) dV``, then the thermal energy at
    fixed ``V``: ``E = −∫P_ref dV + 3nRγ0T0[(y^q−1)/q + 2e0T0 (y^(q+g)−1)/(q+g)]
    + 3nR[(T−T0) + e(V)(T²−T0²)]``.
    """
    y = np.asarray(V, dtype=float) / p.V0
    r = 3 * p.n * GAS_CONSTANT
    iso_heat = r * p.gamma0 * p.T0 * (_power_integral(y, p.q)
                                      + 2 * p.e0 * p.T0 * _power_integral(y, p.q + p.g))
    return isotherm_energy(V, p) + iso_heat + r * _phi(V, T, p)


# ---------------------------------------------------------------- inverse: V(P, T)
def volume(P: Any, T: Any, p: EOSParameters, *, lower: float = 0.25,
           upper: float = 1.6, iterations: int = 80) -> np.ndarray:
    """Molar volume (cm³/mol) at pressure ``P`` (GPa) and temperature ``T`` (K).

    Solves ``P(V, T) = P`` by bisection in ``V`` on ``[lower V0, upper V0]`` (vectorised;
    80 halvings reach double precision), then two Newton steps with the closed-form
    ``K_T``.  NaN where the bracket holds no root (e.g. beyond the liquid's spinodal).
    """
    P = np.asarray(P, dtype=float)
    T = np.asarray(T, dtype=float)
    V0 = np.asarray(p.V0, dtype=float)
    shape = np.broadcast_shapes(P.shape, T.shape, *(np.shape(_p(p, k)) for k in
                                                    ("V0", "K0", "K0p", "gamma0", "q", "e0",
                                                     "g")))
    lo = np.broadcast_to(lower * V0, shape).copy()
    hi = np.broadcast_to(upper * V0, shape).copy()
    return _solve_volume(P, T, p, lo, hi, pressure, bulk_modulus_t, iterations)


def _solve_volume(P: np.ndarray, T: np.ndarray, p: Any, lo: np.ndarray, hi: np.ndarray,
                 pressure_fn: Any, bulk_modulus_fn: Any, iterations: int) -> np.ndarray:
    """``V`` with ``pressure_fn(V, T, p) = P`` in the bracket ``[lo, hi]`` (arrays of the
    broadcast shape): vectorised bisection, then two Newton steps with
    ``bulk_modulus_fn`` (``K_T``); NaN where the bracket holds no root.  Shared by the
    EOS forms (:func:`volume`, :func:`pystats.eos.anderson_ahrens.volume`)."""
    ok = (pressure_fn(lo, T, p) - P >= 0) & (pressure_fn(hi, T, p) - P <= 0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = (pressure_fn(mid, T, p) - P) > 0  # pressure too high: the root is at larger V
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    V = 0.5 * (lo + hi)
    for _ in range(2):
        V = V + (pressure_fn(V, T, p) - P) * V / bulk_modulus_fn(V, T, p)
    return np.where(ok, V, np.nan)


def density(P: Any, T: Any, p: EOSParameters) -> np.ndarray:
    """Density (g/cm³) at ``P`` (GPa), ``T`` (K)."""
    return MOLAR_MASS_FE / volume(P, T, p)


def state(V: Any, T: Any, p: EOSParameters) -> dict[str, np.ndarray]:
    """Every derived quantity at molar volume ``V`` and temperature ``T``.

    Returns
    -------
    dict
        ``V`` (cm³/mol), ``T`` (K), ``P`` (GPa), ``rho`` (g/cm³), ``K_T``, ``K_S`` (GPa),
        ``alpha`` (1/K), ``gamma``, ``C_V``, ``C_P`` (J/(mol K)), ``V_P`` (km/s; √(GPa /
        (g/cm³)) = km/s), ``dPdT`` (GPa/K).
    """
    V = np.asarray(V, dtype=float)
    T = np.asarray(T, dtype=float)
    P = pressure(V, T, p)
    kt = bulk_modulus_t(V, T, p)
    gam = grueneisen(V, p)
    cv = heat_capacity_v(V, T, p)
    dpdt = gam * cv / V / J_PER_GPA_CM3
    alpha = dpdt / kt
    ks = kt + gam * T * dpdt
    rho = MOLAR_MASS_FE / V
    return {"V": V, "T": T, "P": P, "rho": rho, "K_T": kt, "K_S": ks, "alpha": alpha,
            "gamma": gam, "C_V": cv, "C_P": cv * (1 + alpha * gam * T),
            "V_P": np.sqrt(np.maximum(ks, 0) / rho), "dPdT": dpdt}


def sound_speed(P: Any, T: Any, p: EOSParameters) -> np.ndarray:
    """Bulk sound speed ``√(K_S/ρ)`` (km/s) at ``P`` (GPa), ``T`` (K)."""
    return state(volume(P, T, p), T, p)["V_P"]


# ---------------------------------------------------------------- adiabats
def adiabat_temperature(V: Any, V_ref: Any, T_ref: Any, p: EOSParameters) -> Any:
    """Temperature on the adiabat through ``(V_ref, T_ref)``: ``dlnT/dlnV = −γ(V)``, so
    ``T = T_ref exp(−γ0 [(y^q − 1)/q − (y_ref^q − 1)/q])``."""
    y = np.asarray(V, dtype=float) / p.V0
    y_ref = np.asarray(V_ref, dtype=float) / p.V0
    return T_ref * np.exp(-p.gamma0 * (_power_integral(y, p.q) - _power_integral(y_ref, p.q)))


def adiabat(T_anchor: Any, p: EOSParameters, pressures: Any, *,
            P_anchor: float = 135.751, iterations: int = 80) -> dict[str, np.ndarray]:
    """The adiabat through ``(P_anchor, T_anchor)``, evaluated at ``pressures`` (GPa).

    ``P_anchor`` defaults to PREM's core–mantle-boundary pressure (135.751 GPa), so
    ``T_anchor`` is a CMB temperature.  Returns :func:`state` on the adiabat (``T`` from
    :func:`adiabat_temperature`, ``V`` by bisection of ``P(V, T(V)) = P``).
    """
    P = np.asarray(pressures, dtype=float)
    V_ref = volume(P_anchor, T_anchor, p)
    V_ref_b = np.asarray(V_ref)[..., None] if np.ndim(V_ref) else V_ref
    T_b = np.asarray(T_anchor, dtype=float)
    T_b = T_b[..., None] if T_b.ndim and np.ndim(V_ref) else T_b

    def p_on(V: Any) -> Any:
        return pressure(V, adiabat_temperature(V, V_ref_b, T_b, p), p)

    V0 = np.asarray(p.V0, dtype=float)
    shape = np.broadcast_shapes(P.shape, np.shape(V_ref_b), np.shape(V0))
    lo = np.broadcast_to(0.25 * V0, shape).copy()
    hi = np.broadcast_to(np.asarray(V_ref_b) * 1.2, shape).copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = p_on(mid) > P
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    V = 0.5 * (lo + hi)
    return state(V, adiabat_temperature(V, V_ref_b, T_b, p), p)


# ---------------------------------------------------------------- Hugoniot
def hugoniot_temperature(V: Any, p: EOSParameters, *, rho_initial: float = RHO_SOLID_298K,
                         energy_reference: float = ENTHALPY_LIQUID_1809K) -> Any:
    """Temperature (K) of the shock state at molar volume ``V`` on the principal Hugoniot.

    Rankine–Hugoniot energy balance from solid iron at 1 bar (``V_00 = 55.845/rho_initial``):
    ``E(V, T) + ΔE_ref = ½ P(V, T) (V_00 − V)``, where ``ΔE_ref`` (J/mol) is the energy of
    the EOS reference state (liquid, ``V0``, ``T0``) above the initial state.  Both sides
    are quadratic in ``T`` through ``φ = (T − T0) + e(V)(T² − T0²)``, solved in closed form.
    NaN where no positive solution exists.
    """
    V = np.asarray(V, dtype=float)
    V00 = MOLAR_MASS_FE / rho_initial
    r = 3 * p.n * GAS_CONSTANT
    half_dv = 0.5 * (V00 - V) * J_PER_GPA_CM3  # J/mol per GPa
    e_cold = internal_energy(V, p.T0, p) + energy_reference
    denom = r * (1 - grueneisen(V, p) / V * 0.5 * (V00 - V))
    phi = (half_dv * isotherm_pressure(V, p) - e_cold) / denom
    e = _e(V, p)
    c = phi + p.T0 + e * p.T0**2  # e T² + T − c = 0
    with np.errstate(invalid="ignore"):
        T = 2 * c / (1 + np.sqrt(1 + 4 * e * c))
    return np.where(T > 0, T, np.nan)


def hugoniot_volume(P: Any, p: EOSParameters, *, iterations: int = 80,
                    **kwargs: Any) -> np.ndarray:
    """Molar volume on the principal Hugoniot at shock pressure ``P`` (GPa): bisection of
    ``P_H(V) = P`` on ``[0.35 V0, 0.85 V0]`` (keywords of :func:`hugoniot_temperature`)."""
    P = np.asarray(P, dtype=float)
    V0 = np.asarray(p.V0, dtype=float)
    shape = np.broadcast_shapes(P.shape, *(np.shape(_p(p, k)) for k in
                                           ("V0", "K0", "K0p", "gamma0", "q", "e0", "g")))
    lo = np.broadcast_to(0.35 * V0, shape).copy()
    hi = np.broadcast_to(0.85 * V0, shape).copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        pm = pressure(mid, hugoniot_temperature(mid, p, **kwargs), p)
        above = ~(pm <= P)  # too high (or undefined): the root is at larger V
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def hugoniot_slope(V: Any, p: EOSParameters, *, rho_initial: float = RHO_SOLID_298K,
                   energy_reference: float = ENTHALPY_LIQUID_1809K) -> Any:
    """``dP_H/dV`` (GPa per cm³/mol) along the principal Hugoniot at molar volume ``V``.

    ``(∂P/∂V)_T + (∂P/∂T)_V dT_H/dV`` with ``dT_H/dV = −F_V/F_T`` from the energy balance
    ``F = E(V, T) + ΔE_ref − ½ P (V_00 − V) = 0`` (implicit-function theorem), where
    ``(∂E/∂V)_T`` is the derivative of :func:`internal_energy` in closed form.
    """
    V = np.asarray(V, dtype=float)
    T = hugoniot_temperature(V, p, rho_initial=rho_initial,
                             energy_reference=energy_reference)
    V00 = MOLAR_MASS_FE / rho_initial
    r = 3 * p.n * GAS_CONSTANT
    y = V / np.asarray(p.V0)
    e = _e(V, p)
    P = pressure(V, T, p)
    p_v = -bulk_modulus_t(V, T, p) / V
    p_t = dPdT(V, T, p)
    e_v = (-J_PER_GPA_CM3 * isotherm_pressure(V, p)
           + r * p.gamma0 * p.T0 * (y ** (p.q - 1) + 2 * p.e0 * p.T0 * y ** (p.q + p.g - 1))
           / p.V0 + r * p.g * e / V * (T**2 - p.T0**2))
    half = 0.5 * J_PER_GPA_CM3
    f_v = e_v - half * (p_v * (V00 - V) - P)
    f_t = r * (1 + 2 * e * T) - half * p_t * (V00 - V)
    return p_v - p_t * f_v / f_t


def hugoniot(V: Any, p: EOSParameters, **kwargs: Any) -> dict[str, np.ndarray]:
    """:func:`state` on the principal Hugoniot at molar volumes ``V`` (keywords of
    :func:`hugoniot_temperature`)."""
    return state(V, hugoniot_temperature(V, p, **kwargs), p)
