"""The Anderson & Ahrens (1994) equation of state of liquid iron (forward only).

An E–V–S form: the principal isentrope through the 1-bar reference state ``(V0, T0)`` is a
fourth-order Birch–Murnaghan isentrope (``V0``, ``K_S``, ``K_S'``, ``K_S''``), the
temperature along it follows from their Grüneisen law ``γ = γ0 + γ' (ρ/ρ0)^n E``
(``dlnT/dlnρ = γ`` with ``E`` the isentrope's energy), and every other state is reached at
constant volume with their heat capacity ``C_V(V, T)`` (kinetic ``3nR/2``, electronic
``A (1 − Θ²/(Θ² + T²)) + B T^0.6`` and "potential" ``(λ T + ξ θ)/(θ + T)`` parts).  So

* ``E(V, T) = E_S(V) + ∫_{T_S(V)}^{T} C_V dT'``, ``S(V, T) = S0 + ∫_{T_S(V)}^{T} C_V/T' dT'``,
* ``F = E − T S`` is a Helmholtz free energy (``(∂E/∂T)_V = T (∂S/∂T)_V = C_V``), and
  ``P = −(∂F/∂V)_T`` (closed form below), ``(∂P/∂T)_V = (∂S/∂V)_T``;
* on the principal isentrope ``P = P_S(V)`` and ``T = T_S(V)`` exactly; elsewhere the
  Grüneisen parameter is the thermodynamic one, ``γ = V (∂P/∂T)_V / C_V``, which equals
  their law only on the principal isentrope (their Eq. 23 for the thermal pressure is not
  consistent with the free energy away from it; we follow the free energy, as BurnMan's
  ``AA`` class does).

Units as in :mod:`pystats.eos.forward`: ``V`` cm³/mol, ``P`` GPa, ``T`` K, energies J/mol,
``ρ`` g/cm³, sound speeds km/s.  The parameters are kept in the paper's units (per kg,
kg/MJ) and converted with the molar mass of iron.

Derivatives: ``P`` and ``(∂P/∂T)_V`` in closed form; ``K_T = −V (∂P/∂V)_T`` by a
complex-step derivative of the closed-form ``P`` (Squire & Trapp 1998: exact to rounding,
every function used is analytic); all three are checked against finite differences of the
free energy in ``tests/test_eos_anderson_ahrens.py``.

References
----------
Anderson, W. W. and Ahrens, T. J. (1994). An equation of state for liquid iron and
implications for the Earth's core. J. Geophys. Res. 99(B3), 4273–4284.
Squire, W. and Trapp, G. (1998). Using complex variables to estimate derivatives of real
functions. SIAM Review 40(1), 110–112.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .forward import (
    ENTHALPY_LIQUID_1809K,
    GAS_CONSTANT,
    J_PER_GPA_CM3,
    MOLAR_MASS_FE,
    RHO_SOLID_298K,
    _power_integral,
    _solve_volume,
)

__all__ = [
    "AndersonAhrensParameters",
    "adiabat",
    "density",
    "entropy",
    "heat_capacity_v",
    "hugoniot",
    "hugoniot_temperature",
    "internal_energy",
    "isentrope_energy",
    "isentrope_pressure",
    "isentrope_temperature",
    "pressure",
    "sound_speed",
    "state",
    "volume",
]


@dataclass(frozen=True)
class AndersonAhrensParameters:
    """Parameters of the Anderson & Ahrens (1994) liquid-iron EOS (their units).

    Parameters
    ----------
    V0 : float
        Molar volume at the reference state (1 bar, ``T0``), cm³/mol.
    KS0, KSp, KSpp : float
        Isentropic bulk modulus (GPa), its pressure derivative, and its second pressure
        derivative (1/GPa) at the reference state: the fourth-order Birch–Murnaghan
        principal isentrope.
    gamma0, gamma_prime, gamma_n : float
        Grüneisen law on the principal isentrope, ``γ = γ0 + γ' (ρ/ρ0)^n E`` with ``E``
        in MJ/kg and ``γ'`` in kg/MJ.
    a, b : tuple of float
        Electronic heat capacity ``A = a0 + a1 V/V0`` (J/(kg K)) and ``B = b0 + b1
        (V/V0)²`` (J/(kg K^1.6)).
    Theta : tuple of float
        ``Θ = Θ0 (V/V0)^(−Θ1)`` (K, dimensionless).
    theta : float
        ``θ`` of the potential heat capacity (K).
    lam : tuple of float
        ``λ = F(ρ) (l0 + l1 ρ/ρ0 + l2 (ρ/ρ0)^0.4)`` (J/(kg K)), the form that reproduces
        their Fig. 5 (see the model card).
    xi0 : float
        ``ξ = ξ0 (ρ/ρ0)^(−0.6)`` (J/(kg K)).
    D, Lambda : float
        ``F(ρ) = 1/(1 + exp((ρ − D)/Λ))`` (g/cm³).
    T0 : float
        Reference temperature (K).
    n : float
        Atoms per formula unit.

    Examples
    --------
    >>> from pystats.eos import anderson_ahrens as aa
    >>> p = aa.AndersonAhrensParameters.anderson_ahrens1994()
    >>> s = aa.state(p.V0, 1811.0, p)   # the reference state: 1 bar (P = 0), 1811 K
    >>> round(float(s["rho"]), 4), round(float(s["K_S"]), 2), round(float(s["gamma"]), 3)
    (7.019, 109.7, 1.735)
    """

    V0: float
    KS0: float
    KSp: float
    KSpp: float
    gamma0: float
    gamma_prime: float
    gamma_n: float
    a: tuple[float, float]
    b: tuple[float, float]
    Theta: tuple[float, float]
    theta: float
    lam: tuple[float, float, float]
    xi0: float
    D: float
    Lambda: float
    T0: float = 1811.0
    n: float = 1.0

    @classmethod
    def anderson_ahrens1994(cls) -> AndersonAhrensParameters:
        """Anderson & Ahrens (1994, JGR 99, 4273) values, **as transcribed in BurnMan**
        (``burnman/minerals/other.py``, class ``liquid_iron``): ρ0 7019 kg/m³ at 1811 K,
        K_S 109.7 GPa, K_S' 4.661, K_S'' −0.043 /GPa, γ0 1.735, γ' −0.130 kg/MJ, n −1.87,
        a (248.92, 289.48), b (0.4057, −1.1499), Θ (1747.3 K, 1.537), θ 5000 K,
        λ (−325.23, 302.07, 30.45), ξ0 282.67, D 7766 kg/m³, Λ 1146 kg/m³."""
        return cls(V0=MOLAR_MASS_FE / 7.019, KS0=109.7, KSp=4.661, KSpp=-0.043,
                   gamma0=1.735, gamma_prime=-0.130, gamma_n=-1.870,
                   a=(248.92, 289.48), b=(0.4057, -1.1499), Theta=(1747.3, 1.537),
                   theta=5000.0, lam=(-325.23, 302.07, 30.45), xi0=282.67,
                   D=7.766, Lambda=1.146, T0=1811.0)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return asdict(self)


_KG = MOLAR_MASS_FE / 1000.0  # kg/mol: per-kg heat capacities times this are per mol


# ---------------------------------------------------------------- principal isentrope
def _xi(p: AndersonAhrensParameters) -> tuple[float, float]:
    """The fourth-order Birch–Murnaghan coefficients ξ1, ξ2."""
    xi1 = 0.75 * (4.0 - p.KSp)
    xi2 = 0.375 * (p.KS0 * p.KSpp + p.KSp * (p.KSp - 7.0)) + 143.0 / 24.0
    return xi1, xi2


def _x2(V: Any, p: AndersonAhrensParameters) -> Any:
    """``x² = (V0/V)^(2/3)`` (complex-safe: no ``cbrt``)."""
    return (p.V0 / V) ** (2.0 / 3.0)


def isentrope_pressure(V: Any, p: AndersonAhrensParameters) -> Any:
    """Pressure on the principal isentrope (GPa): ``3K f (1+2f)^{5/2} [1 + 3/2 (K'−4) f +
    3/2 (K K'' + K'(K'−7) + 143/9) f²]`` with ``f = (x² − 1)/2``, ``x = (V0/V)^{1/3}``."""
    xi1, xi2 = _xi(p)
    x2 = _x2(V, p)
    u = x2 - 1.0
    return 1.5 * p.KS0 * u * x2 ** 2.5 * (1.0 - xi1 * u + xi2 * u * u)


def isentrope_energy(V: Any, p: AndersonAhrensParameters) -> Any:
    """``E_S(V) − E(V0, T0) = −∫_{V0}^{V} P_S dV`` (J/mol)."""
    xi1, xi2 = _xi(p)
    u = _x2(V, p) - 1.0
    poly = ((xi1 + 1.0) * u * u / 4.0 - xi1 * u * u * (2.0 * u + 3.0) / 12.0
            + xi2 * u**4 / 8.0)
    return 4.5 * p.V0 * p.KS0 * J_PER_GPA_CM3 * poly


def _gamma_prime_mol(p: AndersonAhrensParameters) -> float:
    """``γ'`` per (J/mol): kg/MJ → mol/J."""
    return p.gamma_prime * 1e-6 / _KG


def isentrope_grueneisen(V: Any, p: AndersonAhrensParameters) -> Any:
    """Their Grüneisen law on the principal isentrope, ``γ0 + γ' (ρ/ρ0)^n E_S(V)``."""
    return p.gamma0 + _gamma_prime_mol(p) * (p.V0 / V) ** p.gamma_n * isentrope_energy(V, p)


def isentrope_temperature(V: Any, p: AndersonAhrensParameters) -> Any:
    """``T_S(V)`` on the principal isentrope: ``ln(T_S/T0) = ∫ γ d ln ρ`` in closed form.

    With ``x = (ρ/ρ0)^{1/3}`` and ``E_S = 9/2 V0 K_S Σ c_k x^k`` (k = 0, 2, 4, 6, 8),
    ``∫_1^x γ 3 dx/x = 3γ0 ln x + 27/2 γ' V0 K_S Σ c_k (x^{3n+k} − 1)/(3n+k)``.
    """
    xi1, xi2 = _xi(p)
    coef = {8: xi2 / 8.0, 6: -(xi1 + 3.0 * xi2) / 6.0, 4: (1.0 + 2.0 * xi1 + 3.0 * xi2) / 4.0,
            2: -(1.0 + xi1 + xi2) / 2.0, 0: (6.0 + 4.0 * xi1 + 3.0 * xi2) / 24.0}
    x = (p.V0 / V) ** (1.0 / 3.0)
    s = 3.0 * p.gamma_n
    total = sum(c * _power_integral(x, s + k) for k, c in coef.items())
    scale = 13.5 * _gamma_prime_mol(p) * p.V0 * p.KS0 * J_PER_GPA_CM3
    return p.T0 * np.exp(3.0 * p.gamma0 * np.log(x) + scale * total)


# ---------------------------------------------------------------- heat capacity
def _coefficients(V: Any, p: AndersonAhrensParameters) -> dict[str, Any]:
    """``A, B, Θ, λ, ξ`` (J/mol units) at ``V`` and their derivatives in ``V``."""
    y = V / p.V0
    r = 1.0 / y
    A = _KG * (p.a[0] + p.a[1] * y)
    B = _KG * (p.b[0] + p.b[1] * y * y)
    Th = p.Theta[0] * y ** (-p.Theta[1])
    xi = _KG * p.xi0 * y**0.6
    rho = MOLAR_MASS_FE / V
    F = 1.0 / (1.0 + np.exp((rho - p.D) / p.Lambda))
    L = p.lam[0] + p.lam[1] * r + p.lam[2] * r**0.4
    lam = _KG * F * L
    dF = F * (1.0 - F) * rho / (p.Lambda * V)  # dF/dV = −F(1−F)/Λ · dρ/dV
    dL = -(p.lam[1] + 0.4 * p.lam[2] * r ** (-0.6)) * r / V
    return {"A": A, "B": B, "Th": Th, "lam": lam, "xi": xi,
            "A_V": _KG * p.a[1] / p.V0, "B_V": 2.0 * _KG * p.b[1] * y / p.V0,
            "Th_V": -p.Theta[1] * Th / V, "lam_V": _KG * (dF * L + F * dL),
            "xi_V": 0.6 * xi / V}


def _cv(c: dict[str, Any], T: Any, p: AndersonAhrensParameters) -> Any:
    Th2 = c["Th"] ** 2
    return (1.5 * p.n * GAS_CONSTANT + c["A"] * T * T / (Th2 + T * T) + c["B"] * T**0.6
            + (c["lam"] * T + c["xi"] * p.theta) / (p.theta + T))


def _G(c: dict[str, Any], T: Any, p: AndersonAhrensParameters) -> Any:
    """An antiderivative of ``C_V`` in ``T`` at fixed ``V`` (J/mol)."""
    Th = c["Th"]
    return (1.5 * p.n * GAS_CONSTANT * T + c["A"] * (T - Th * np.arctan(T / Th))
            + 0.625 * c["B"] * T**1.6 + c["lam"] * T
            + (c["xi"] - c["lam"]) * p.theta * np.log(p.theta + T))


def _H(c: dict[str, Any], T: Any, p: AndersonAhrensParameters) -> Any:
    """An antiderivative of ``C_V/T`` in ``T`` at fixed ``V`` (J/(mol K))."""
    return (1.5 * p.n * GAS_CONSTANT * np.log(T) + 0.5 * c["A"] * np.log(c["Th"] ** 2 + T * T)
            + c["B"] * T**0.6 / 0.6 + c["lam"] * np.log(p.theta + T)
            + c["xi"] * np.log(T / (p.theta + T)))


def _G_V(c: dict[str, Any], T: Any, p: AndersonAhrensParameters) -> Any:
    """``∂G/∂V`` at fixed ``T``."""
    Th = c["Th"]
    atan = np.arctan(T / Th)
    return (c["A_V"] * (T - Th * atan) - c["A"] * c["Th_V"] * (atan - T * Th / (Th**2 + T * T))
            + 0.625 * c["B_V"] * T**1.6 + c["lam_V"] * T
            + (c["xi_V"] - c["lam_V"]) * p.theta * np.log(p.theta + T))


def _H_V(c: dict[str, Any], T: Any, p: AndersonAhrensParameters) -> Any:
    """``∂H/∂V`` at fixed ``T``."""
    Th = c["Th"]
    return (0.5 * c["A_V"] * np.log(Th**2 + T * T) + c["A"] * Th * c["Th_V"] / (Th**2 + T * T)
            + c["B_V"] * T**0.6 / 0.6 + c["lam_V"] * np.log(p.theta + T)
            + c["xi_V"] * np.log(T / (p.theta + T)))


def heat_capacity_v(V: Any, T: Any, p: AndersonAhrensParameters) -> Any:
    """``C_V(V, T)`` (J/(mol K)): kinetic + electronic + potential (their A1, A15)."""
    return _cv(_coefficients(np.asarray(V), p), np.asarray(T), p)


def internal_energy(V: Any, T: Any, p: AndersonAhrensParameters) -> Any:
    """``E(V, T) − E(V0, T0)`` (J/mol)."""
    V, T = np.asarray(V), np.asarray(T)
    c = _coefficients(V, p)
    return isentrope_energy(V, p) + _G(c, T, p) - _G(c, isentrope_temperature(V, p), p)


def entropy(V: Any, T: Any, p: AndersonAhrensParameters) -> Any:
    """``S(V, T) − S(V0, T0)`` (J/(mol K))."""
    V, T = np.asarray(V), np.asarray(T)
    c = _coefficients(V, p)
    return _H(c, T, p) - _H(c, isentrope_temperature(V, p), p)


def helmholtz(V: Any, T: Any, p: AndersonAhrensParameters) -> Any:
    """``F = E − T S`` relative to the reference state (J/mol)."""
    return internal_energy(V, T, p) - np.asarray(T) * entropy(V, T, p)


# ---------------------------------------------------------------- pressure and derivatives
def pressure(V: Any, T: Any, p: AndersonAhrensParameters) -> Any:
    """``P = −(∂F/∂V)_T`` (GPa): ``P_S(V) + [T H_V − G_V]_{T_S}^{T} + γ_S C_V(V, T_S)
    (T − T_S)/V``, with ``γ_S`` their Grüneisen law on the principal isentrope."""
    V, T = np.asarray(V), np.asarray(T)
    c = _coefficients(V, p)
    Ts = isentrope_temperature(V, p)
    th = (T * _H_V(c, T, p) - _G_V(c, T, p)) - (T * _H_V(c, Ts, p) - _G_V(c, Ts, p))
    th = th + isentrope_grueneisen(V, p) * _cv(c, Ts, p) * (T - Ts) / V
    return isentrope_pressure(V, p) + th / J_PER_GPA_CM3


def dPdT(V: Any, T: Any, p: AndersonAhrensParameters) -> Any:
    """``(∂P/∂T)_V = (∂S/∂V)_T`` (GPa/K)."""
    V, T = np.asarray(V), np.asarray(T)
    c = _coefficients(V, p)
    Ts = isentrope_temperature(V, p)
    dsdv = (_H_V(c, T, p) - _H_V(c, Ts, p)
            + isentrope_grueneisen(V, p) * _cv(c, Ts, p) / V)
    return dsdv / J_PER_GPA_CM3


def bulk_modulus_t(V: Any, T: Any, p: AndersonAhrensParameters) -> Any:
    """``K_T = −V (∂P/∂V)_T`` (GPa), by a complex-step derivative of :func:`pressure`."""
    V = np.asarray(V, dtype=float)
    h = 1e-20 * V
    return -V * np.imag(pressure(V + 1j * h, np.asarray(T, dtype=float), p)) / h


# ---------------------------------------------------------------- states
def state(V: Any, T: Any, p: AndersonAhrensParameters) -> dict[str, np.ndarray]:
    """Every derived quantity at molar volume ``V`` and temperature ``T``: the keys of
    :func:`pystats.eos.forward.state` (``V``, ``T``, ``P``, ``rho``, ``K_T``, ``K_S``,
    ``alpha``, ``gamma``, ``C_V``, ``C_P``, ``V_P``, ``dPdT``) plus ``E`` (J/mol) and ``S``
    (J/(mol K)), both relative to the reference state."""
    V = np.asarray(V, dtype=float)
    T = np.asarray(T, dtype=float)
    P = pressure(V, T, p)
    kt = bulk_modulus_t(V, T, p)
    cv = heat_capacity_v(V, T, p)
    dpdt = dPdT(V, T, p)
    gam = V * dpdt * J_PER_GPA_CM3 / cv
    alpha = dpdt / kt
    ks = kt + gam * T * dpdt
    rho = MOLAR_MASS_FE / V
    return {"V": V, "T": T, "P": P, "rho": rho, "K_T": kt, "K_S": ks, "alpha": alpha,
            "gamma": gam, "C_V": cv, "C_P": cv * (1 + alpha * gam * T),
            "V_P": np.sqrt(np.maximum(ks, 0) / rho), "dPdT": dpdt,
            "E": internal_energy(V, T, p), "S": entropy(V, T, p)}


def volume(P: Any, T: Any, p: AndersonAhrensParameters, *, lower: float = 0.3,
           upper: float = 1.3, iterations: int = 80) -> np.ndarray:
    """Molar volume (cm³/mol) at ``P`` (GPa) and ``T`` (K): bisection of ``P(V, T) = P``
    on ``[lower V0, upper V0]`` then two Newton steps; NaN where the bracket holds no
    root."""
    P = np.asarray(P, dtype=float)
    T = np.asarray(T, dtype=float)
    shape = np.broadcast_shapes(P.shape, T.shape)
    lo = np.full(shape, lower * p.V0)
    hi = np.full(shape, upper * p.V0)
    with np.errstate(invalid="ignore", over="ignore"):
        return _solve_volume(P, T, p, lo, hi, pressure, bulk_modulus_t, iterations)


def density(P: Any, T: Any, p: AndersonAhrensParameters) -> np.ndarray:
    """Density (g/cm³) at ``P`` (GPa), ``T`` (K)."""
    return MOLAR_MASS_FE / volume(P, T, p)


def sound_speed(P: Any, T: Any, p: AndersonAhrensParameters) -> np.ndarray:
    """Bulk sound speed ``√(K_S/ρ)`` (km/s) at ``P`` (GPa), ``T`` (K)."""
    return state(volume(P, T, p), T, p)["V_P"]


def _temperature_at_entropy(V: Any, S: Any, p: AndersonAhrensParameters,
                            iterations: int = 20) -> Any:
    """``T`` with ``S(V, T) = S`` at fixed ``V``: Newton in ``ln T`` (``∂S/∂lnT = C_V``)
    from the principal isentrope's temperature."""
    lnT = np.log(isentrope_temperature(V, p)) * np.ones(np.broadcast_shapes(np.shape(V),
                                                                              np.shape(S)))
    for _ in range(iterations):
        T = np.exp(lnT)
        lnT = lnT - (entropy(V, T, p) - S) / heat_capacity_v(V, T, p)
    return np.exp(lnT)


def adiabat(T_anchor: Any, p: AndersonAhrensParameters, pressures: Any, *,
            P_anchor: float = 135.751, iterations: int = 30) -> dict[str, np.ndarray]:
    """The adiabat (constant entropy) through ``(P_anchor, T_anchor)`` at ``pressures``
    (GPa): :func:`state` there.  ``P_anchor`` defaults to PREM's CMB pressure.

    Solves ``P(V, T) = P``, ``S(V, T) = S_ref`` by Newton's method in ``(V, ln T)`` from
    the isotherm at ``T_anchor`` (Jacobian: ``∂P/∂V = −K_T/V``, ``∂P/∂lnT = T (∂P/∂T)_V``,
    ``∂S/∂V = (∂P/∂T)_V``, ``∂S/∂lnT = C_V``).
    """
    P = np.asarray(pressures, dtype=float)
    T_anchor = np.asarray(T_anchor, dtype=float)
    S_ref = entropy(volume(P_anchor, T_anchor, p), T_anchor, p)
    V = volume(P, T_anchor, p)
    lnT = np.log(T_anchor) * np.ones_like(V)
    for _ in range(iterations):
        T = np.exp(lnT)
        f1 = pressure(V, T, p) - P
        f2 = (entropy(V, T, p) - S_ref) / J_PER_GPA_CM3  # GPa cm³/(mol K)
        dpdt = dPdT(V, T, p)
        a, b = -bulk_modulus_t(V, T, p) / V, T * dpdt
        c, d = dpdt, heat_capacity_v(V, T, p) / J_PER_GPA_CM3
        det = a * d - b * c
        V = V - (d * f1 - b * f2) / det
        lnT = lnT - (a * f2 - c * f1) / det
    return state(V, np.exp(lnT), p)


# ---------------------------------------------------------------- Hugoniot
def hugoniot_temperature(V: Any, p: AndersonAhrensParameters, *,
                         rho_initial: float = RHO_SOLID_298K,
                         energy_reference: float = ENTHALPY_LIQUID_1809K,
                         iterations: int = 100) -> Any:
    """Temperature (K) of the principal Hugoniot state at ``V`` (Rankine–Hugoniot energy
    balance ``E(V, T) + ΔE_ref = ½ P(V, T) (V_00 − V)`` from solid iron at 1 bar, as
    :func:`pystats.eos.forward.hugoniot_temperature`): bisection in ``ln T`` on
    [300 K, 10⁵ K]; NaN where that range holds no root."""
    V = np.asarray(V, dtype=float)
    V00 = MOLAR_MASS_FE / rho_initial

    def balance(T: Any) -> Any:
        return (internal_energy(V, T, p) + energy_reference
                - 0.5 * pressure(V, T, p) * (V00 - V) * J_PER_GPA_CM3)

    lo = np.full(V.shape, np.log(300.0))
    hi = np.full(V.shape, np.log(1e5))
    ok = (balance(np.exp(lo)) < 0) & (balance(np.exp(hi)) > 0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        neg = balance(np.exp(mid)) < 0
        lo = np.where(neg, mid, lo)
        hi = np.where(neg, hi, mid)
    return np.where(ok, np.exp(0.5 * (lo + hi)), np.nan)


def hugoniot(V: Any, p: AndersonAhrensParameters, **kwargs: Any) -> dict[str, np.ndarray]:
    """:func:`state` on the principal Hugoniot at molar volumes ``V`` (keywords of
    :func:`hugoniot_temperature`)."""
    return state(V, hugoniot_temperature(V, p, **kwargs), p)
