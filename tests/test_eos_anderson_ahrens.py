"""The Anderson & Ahrens (1994) liquid-iron EOS (forward only): the paper's reference
values, the principal isentrope, thermodynamic identities by finite differences, adiabats,
the Hugoniot, and agreement with the Birch–Murnaghan form of ``pystats.eos.forward``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.eos import anderson_ahrens as aa
from pystats.eos import forward as fw

AA = aa.AndersonAhrensParameters.anderson_ahrens1994()
# states from 1 bar to the inner-core boundary, hot and near the isentrope
V = np.array([4.4, 5.0, 5.8, 6.6, 7.4, 7.956, 8.3])
T = np.array([6500.0, 5200.0, 4000.0, 3000.0, 2300.0, 1811.0, 2400.0])


def test_reference_state_is_the_papers():
    """1 bar, 1811 K: ρ 7019 kg/m³ (the issue's reference value), K_S 109.7 GPa and the
    sound speed √(K_S/ρ) = 3.9534 km/s, γ 1.735, all parameters of the paper; C_P within
    1 % of the measured 46.0 J/(mol K) of liquid iron (Barin 1995, via BurnMan)."""
    eos = pystats.LiquidIronEOS.anderson_ahrens1994()
    rho = float(eos.density(1e-4, 1811.0))
    assert rho * 1000 == pytest.approx(7019.0, rel=2e-6)  # 1e-4 GPa / K_S of compression
    s = eos.state(0.0, 1811.0)
    assert float(s["rho"]) == pytest.approx(7.019, rel=1e-12)
    assert float(s["K_S"]) == pytest.approx(109.7, rel=1e-10)
    assert float(s["gamma"]) == pytest.approx(1.735, rel=1e-10)
    assert float(eos.sound_speed(0.0, 1811.0)) == pytest.approx(np.sqrt(109.7 / 7.019),
                                                                rel=1e-10)
    assert float(s["C_P"]) == pytest.approx(46.02, rel=0.01)
    assert float(s["E"]) == 0.0 and float(s["S"]) == 0.0


def test_ks_derivatives_along_the_principal_isentrope():
    """Along the principal isentrope K_S = −V dP_S/dV, and dK_S/dP = K_S' = 4.661,
    d²K_S/dP² = K_S'' = −0.043 /GPa at the reference state (finite differences of the
    BM4 isentrope); the thermal machinery's K_S = K_T + γ T (∂P/∂T)_V equals −V dP_S/dV
    on it."""
    def ks_of_v(v):
        h = 1e-6 * v
        return -v * (aa.isentrope_pressure(v + h, AA) - aa.isentrope_pressure(v - h, AA)) / (2 * h)

    dv = 1e-3 * AA.V0
    vs = AA.V0 + np.array([-dv, 0.0, dv])
    ks, ps = ks_of_v(vs), aa.isentrope_pressure(vs, AA)
    assert ks[1] == pytest.approx(109.7, rel=1e-8)
    assert (ks[2] - ks[0]) / (ps[2] - ps[0]) == pytest.approx(4.661, rel=1e-4)
    # second derivative on a nonuniform P grid: fit a quadratic in P
    dk2 = np.polyfit(ps, ks, 2)[0] * 2
    assert dk2 == pytest.approx(-0.043, abs=2e-3)
    Ts = aa.isentrope_temperature(V, AA)
    s = aa.state(V, Ts, AA)
    np.testing.assert_allclose(s["P"], aa.isentrope_pressure(V, AA), rtol=1e-12)
    np.testing.assert_allclose(s["K_S"], ks_of_v(V), rtol=1e-7)
    np.testing.assert_allclose(s["S"], 0.0, atol=1e-9)


def test_isentrope_temperature_integrates_their_grueneisen_law():
    """T_S(V) in closed form against an ODE integration of dlnT/dlnρ = γ0 + γ'(ρ/ρ0)^n E_S
    (their Eq. 15 on the isentrope), and the thermodynamic γ = V(∂P/∂T)_V/C_V equals that
    law on the isentrope."""
    from scipy.integrate import solve_ivp

    def rhs(lr, lt):
        return aa.isentrope_grueneisen(AA.V0 * np.exp(-lr), AA)

    lr = np.log(AA.V0 / V)  # ln(ρ/ρ0), both signs: integrate from 0 each way
    for sel in (lr >= 0, lr < 0):
        sol = solve_ivp(rhs, (0.0, lr[sel][np.argmax(np.abs(lr[sel]))]), [np.log(AA.T0)],
                        rtol=1e-12, atol=1e-12, dense_output=True)
        np.testing.assert_allclose(aa.isentrope_temperature(V[sel], AA),
                                   np.exp(sol.sol(lr[sel])[0]), rtol=1e-8)
    s = aa.state(V, aa.isentrope_temperature(V, AA), AA)
    np.testing.assert_allclose(s["gamma"], aa.isentrope_grueneisen(V, AA), rtol=1e-9)


def test_pressure_and_derivatives_against_finite_differences_of_the_free_energy():
    """P = −(∂F/∂V)_T, (∂P/∂T)_V, K_T = −V(∂P/∂V)_T (complex step), C_V = (∂E/∂T)_V =
    T(∂S/∂T)_V and −(∂E/∂V)_S = P, each against central differences."""
    h = 1e-6 * V
    p_fd = -(aa.helmholtz(V + h, T, AA) - aa.helmholtz(V - h, T, AA)) / (2 * h) / 1000
    np.testing.assert_allclose(aa.pressure(V, T, AA), p_fd, rtol=1e-7, atol=1e-6)
    kt_fd = -V * (aa.pressure(V + h, T, AA) - aa.pressure(V - h, T, AA)) / (2 * h)
    np.testing.assert_allclose(aa.bulk_modulus_t(V, T, AA), kt_fd, rtol=1e-7)
    dt = 1e-3
    dpdt_fd = (aa.pressure(V, T + dt, AA) - aa.pressure(V, T - dt, AA)) / (2 * dt)
    np.testing.assert_allclose(aa.dPdT(V, T, AA), dpdt_fd, rtol=1e-7)
    cv = aa.heat_capacity_v(V, T, AA)
    e_fd = (aa.internal_energy(V, T + dt, AA) - aa.internal_energy(V, T - dt, AA)) / (2 * dt)
    s_fd = (aa.entropy(V, T + dt, AA) - aa.entropy(V, T - dt, AA)) / (2 * dt)
    np.testing.assert_allclose(e_fd, cv, rtol=1e-7)
    np.testing.assert_allclose(T * s_fd, cv, rtol=1e-7)
    # dE = -P dV at constant entropy: move V, find T with the same S
    s0 = aa.entropy(V, T, AA)
    t_p = aa._temperature_at_entropy(V + h, s0, AA)
    t_m = aa._temperature_at_entropy(V - h, s0, AA)
    de = (aa.internal_energy(V + h, t_p, AA) - aa.internal_energy(V - h, t_m, AA)) / (2 * h)
    np.testing.assert_allclose(-de / 1000, aa.pressure(V, T, AA), rtol=1e-6, atol=1e-5)


def test_thermodynamic_identities():
    """K_S/K_T = C_P/C_V = 1 + αγT and γ = α K_T V / C_V."""
    s = aa.state(V, T, AA)
    ratio = 1 + s["alpha"] * s["gamma"] * s["T"]
    np.testing.assert_allclose(s["K_S"] / s["K_T"], ratio, rtol=1e-12)
    np.testing.assert_allclose(s["C_P"] / s["C_V"], ratio, rtol=1e-12)
    np.testing.assert_allclose(s["alpha"] * s["K_T"] * V * 1000 / s["C_V"], s["gamma"],
                               rtol=1e-12)
    assert np.all(s["K_T"] > 0) and np.all(s["C_V"] > 1.5 * fw.GAS_CONSTANT)


def test_adiabat_conserves_entropy_and_dlnT_dlnV_is_minus_gamma():
    """The adiabat through the CMB at 4000 K: pressures hit, entropy constant, and
    dlnT/dlnV = −γ (the thermodynamic γ) by central differences along it."""
    eos = pystats.LiquidIronEOS.anderson_ahrens1994()
    pressures = np.array([135.751, 200.0, 250.0, 328.85])
    a = eos.adiabat(4000.0, pressures)
    np.testing.assert_allclose(a["P"], pressures, rtol=1e-9)
    assert a["T"][0] == pytest.approx(4000.0, rel=1e-9)
    np.testing.assert_allclose(a["S"], a["S"][0], atol=1e-9)
    b = eos.adiabat(4000.0, np.array([249.9, 250.1]))
    slope = np.diff(np.log(b["T"]))[0] / np.diff(np.log(b["V"]))[0]
    assert slope == pytest.approx(-float(a["gamma"][2]), rel=1e-5)


def test_hugoniot_energy_balance_and_measured_shock_pressures(shared_data):
    """The principal Hugoniot satisfies the Rankine–Hugoniot energy balance, and (A&A
    fitted shock data) predicts the liquid Hugoniot of Brown, Fritz & Hixson (2000) at
    the measured densities within 7 % in pressure (max 6.2 %; Kuwayama's: 10 %) and
    without bias (mean deviation −0.3 %)."""
    eos = pystats.LiquidIronEOS.anderson_ahrens1994()
    h = pd.read_csv(shared_data / "eos" / "iron_hugoniot_above_200GPa.csv", comment="#")
    h = h[(h.ref == 27) & (h.P_GPa > 250)]
    s = eos.hugoniot(h.rho_g_cm3.to_numpy())
    V00 = fw.MOLAR_MASS_FE / fw.RHO_SOLID_298K
    np.testing.assert_allclose(s["E"] + fw.ENTHALPY_LIQUID_1809K,
                               0.5 * s["P"] * (V00 - s["V"]) * 1000, rtol=1e-9)
    rel = s["P"] / h.P_GPa.to_numpy() - 1
    assert np.all(np.abs(rel) < 0.07), rel
    assert abs(np.mean(rel)) < 0.02, rel


def test_isentrope_reduces_to_the_bm3_isotherm_of_the_kuwayama_module():
    """With K'' = the value implied by third order (K K'' = −K'(K'−7) − 143/9, so ξ2 = 0)
    the fourth-order isentrope's P and energy equal the BM3 isotherm of
    ``pystats.eos.forward`` with K0 = K_S, K0p = K_S' (the forms coincide there)."""
    ksp = AA.KSp
    kspp = (-ksp * (ksp - 7.0) - 143.0 / 9.0) / AA.KS0
    p3 = aa.AndersonAhrensParameters(**{**AA.as_dict(), "KSpp": kspp})
    bm3 = fw.EOSParameters(V0=AA.V0, K0=AA.KS0, K0p=ksp, gamma0=1.0, q=1.0, e0=0.0, g=0.0,
                           isotherm="bm3")
    np.testing.assert_allclose(aa.isentrope_pressure(V, p3), fw.isotherm_pressure(V, bm3),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(aa.isentrope_energy(V, p3), fw.isotherm_energy(V, bm3),
                               rtol=1e-11, atol=1e-9)


def test_forward_methods_broadcast_and_agree_with_kuwayama_in_the_outer_core():
    """Arrays in, arrays out; at the CMB (4000 K) the two published forms agree on ρ to
    1.5 % and V_P to 2 % (A&A 10.82 g/cm³, 7.69 km/s; Kuwayama 10.72, 7.78)."""
    a = pystats.LiquidIronEOS.anderson_ahrens1994()
    k = pystats.LiquidIronEOS.kuwayama2020()
    P = np.array([135.751, 328.85])
    Tk = np.array([4000.0, 5500.0])
    rho_a, rho_k = a.density(P, Tk), k.density(P, Tk)
    assert rho_a.shape == (2,)
    np.testing.assert_allclose(a.state(P, Tk)["P"], P, rtol=1e-10)
    np.testing.assert_allclose(rho_a, rho_k, rtol=0.015)
    np.testing.assert_allclose(a.sound_speed(P, Tk), k.sound_speed(P, Tk), rtol=0.02)
    assert float(a.adiabat(4000.0)["P"][-1]) == pytest.approx(328.85)


def test_anderson_ahrens_form_is_forward_only(tmp_path):
    eos = pystats.LiquidIronEOS.anderson_ahrens1994()
    table = pd.DataFrame([{"kind": "density_1bar", "dataset": "a", "T_K": 1900.0,
                           "rho_g_cm3": 7.0, "rho_sd": 0.05}])
    with pytest.raises(pystats.OptionError, match="form='anderson_ahrens1994' is forward only"):
        eos.fit(table, method="map")
    with pytest.raises(pystats.OptionError, match=r"reference=\.\.\. is not allowed"):
        pystats.LiquidIronEOS(form="anderson_ahrens1994", reference={"V0": 7.9})
    with pytest.raises(pystats.OptionError, match=r"T0=2000\.0 is not allowed"):
        pystats.LiquidIronEOS.anderson_ahrens1994(T0=2000.0)
    with pytest.raises(pystats.OptionError, match="form='bm4' is not allowed"):
        pystats.LiquidIronEOS(form="bm4")
