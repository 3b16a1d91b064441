"""Forward melting laws of pystats.morb: closed forms, limits, the shared forward-check
file and a cross-check against pyMelt's chemistry module."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from pystats.errors import OptionError
from pystats.morb import melting as m
from pystats.morb.tables import ELEMENTS, reference

D = np.array([1e-6, 1e-3, 0.01, 0.05, 0.1, 0.3, 0.9, 1.0])
F = np.array([1e-4, 0.01, 0.06, 0.15, 0.3])[:, None]


def test_modal_closed_forms():
    """Modal melting: the textbook formulas with P = D."""
    np.testing.assert_allclose(m.batch(2.0, D, F), 2.0 / (D + F * (1 - D)), rtol=1e-13)
    np.testing.assert_allclose(m.instantaneous_fractional(2.0, D, F),
                               2.0 / D * (1 - F) ** (1 / D - 1), rtol=1e-10)
    np.testing.assert_allclose(m.aggregated_fractional(2.0, D, F),
                               2.0 / F * (1 - (1 - F) ** (1 / D)), rtol=1e-10)


def test_nonmodal_closed_forms_and_mass_balance():
    P = 0.5 * D + 0.02
    ok = P * F < D
    r = np.where(ok, 1 - P * F / D, 0.0)
    agg = m.aggregated_fractional(1.0, D, F, P)
    np.testing.assert_allclose(agg, np.where(ok, (1 - r ** (1 / P)) / F, 1 / F), rtol=1e-10)
    np.testing.assert_allclose(m.batch(1.0, D, F, P), 1 / (D + F * (1 - P)), rtol=1e-13)
    inst = m.instantaneous_fractional(1.0, D, F, P)
    np.testing.assert_allclose(inst, np.where(ok, 1 / D * r ** (1 / P - 1), 0.0), rtol=1e-10)
    # mass balance: melt + residue = source
    np.testing.assert_allclose(F * agg + (1 - F) * m.residue_fractional(1.0, D, F, P),
                               1.0, rtol=1e-12)
    # the aggregated melt is the mean of the instantaneous melts: integrate numerically
    f = np.linspace(0, 0.06, 20001)
    inst_f = m.instantaneous_fractional(1.0, 0.05, f, 0.2)
    np.testing.assert_allclose(np.trapezoid(inst_f, f) / 0.06,
                               m.aggregated_fractional(1.0, 0.05, 0.06, 0.2), rtol=1e-7)


def test_exhaustion_guard():
    """P F >= D0: the element is exhausted; aggregated melt C0/F, instantaneous 0, and
    continuity at the exhaustion point."""
    D0, P = 0.01, 0.2  # exhausted at F = 0.05
    assert m.instantaneous_fractional(1.0, D0, 0.06, P) == 0.0
    assert m.aggregated_fractional(1.0, D0, 0.06, P) == pytest.approx(1 / 0.06, rel=1e-14)
    below = m.aggregated_fractional(1.0, D0, 0.05 - 1e-9, P)
    assert below == pytest.approx(1 / 0.05, rel=1e-6)
    assert np.all(np.isfinite(m.aggregated_fractional(1.0, D0, np.linspace(0, 1, 11), P)))


def test_limits():
    # F -> 0: every law gives C0/D
    for law in ("batch", "instantaneous_fractional", "aggregated_fractional"):
        np.testing.assert_allclose(m.melt(1.0, D, 0.0, law=law), 1 / D, rtol=1e-12)
        np.testing.assert_allclose(m.melt(1.0, D, 1e-10, law=law), 1 / D, rtol=1e-3)
    # D -> 0: the melt carries everything, C0/F (batch and aggregated)
    np.testing.assert_allclose(m.batch(1.0, 1e-12, F), 1 / F, rtol=1e-7)
    np.testing.assert_allclose(m.aggregated_fractional(1.0, 1e-12, F), 1 / F, rtol=1e-7)
    # F -> 1: the melt is the source (batch; modal aggregated)
    np.testing.assert_allclose(m.batch(1.0, D, 1.0), 1.0, rtol=1e-13)
    np.testing.assert_allclose(m.aggregated_fractional(1.0, D, 1.0), 1.0, rtol=1e-13)
    # D = 1: no fractionation in any law
    for law in m.LAWS:
        np.testing.assert_allclose(m.melt(3.0, 1.0, F, law=law), 3.0, rtol=1e-12)
    # P -> 0 is continuous with the exp(-F/D) limit
    np.testing.assert_allclose(m.aggregated_fractional(1.0, 0.1, 0.06, 1e-12),
                               m.aggregated_fractional(1.0, 0.1, 0.06, 1e-7), rtol=1e-6)
    np.testing.assert_allclose(m.aggregated_fractional(1.0, 0.1, 0.06, 0.0),
                               (1 - np.exp(-0.6)) / 0.06, rtol=1e-13)


def test_continuous_limits():
    np.testing.assert_allclose(m.continuous(1.0, D, F, phi=0.0),
                               m.aggregated_fractional(1.0, D, F), rtol=1e-12)
    # below and at the threshold porosity it is batch melting
    np.testing.assert_allclose(m.continuous(1.0, D, 0.004, phi=0.01),
                               m.batch(1.0, D, 0.004), rtol=1e-13)
    np.testing.assert_allclose(m.continuous(1.0, D, 0.01 + 1e-12, phi=0.01),
                               m.batch(1.0, D, 0.01), rtol=1e-6)
    # closed form (Zou 1998) in the extracted fraction X; the extracted melt holds at
    # most the whole source (the retained melt keeps the rest): X * C < C0
    x, d_phi = (0.06 - 0.02) / 0.98, 0.02 + 0.98 * 1e-3
    c = m.continuous(1.0, 1e-3, 0.06, phi=0.02)
    assert c == pytest.approx((1 - (1 - x) ** (1 / d_phi)) / x, rel=1e-12)
    assert 0.8 < x * c < 1.0


def test_bulk_partition_and_bad_input():
    kd = {"olv": np.array([0.01, 0.02]), "cpx": np.array([0.5, 0.1]), "grt": 3.0}
    np.testing.assert_allclose(m.bulk_partition({"olv": 0.6, "cpx": 0.4, "grt": 0.0}, kd),
                               [0.206, 0.052])
    with pytest.raises(OptionError, match=r"modes\['cpx'\]=-0\.1"):
        m.bulk_partition({"cpx": -0.1}, kd)
    with pytest.raises(OptionError, match=r"law='eqm'"):
        m.melt(1.0, 0.1, 0.1, law="eqm")
    with pytest.raises(OptionError, match=r"F=1\.5"):
        m.batch(1.0, 0.1, 1.5)
    with pytest.raises(OptionError, match="D=0"):
        m.batch(1.0, 0.0, 0.1)
    x = np.array([0.1, 0.2])
    m.aggregated_fractional(1.0, x, 0.1)
    assert x.tolist() == [0.1, 0.2]


def test_tables_match_shared_files(shared_data):
    geo = shared_data / "geochem"
    refs = pd.read_csv(geo / "reference_compositions_ppm_table.csv", index_col=0)
    gg = pd.read_csv(geo / "partition_coefficients_gibson_geist2010.csv", index_col=0)
    for name, col in (("DMM_WH2005", refs["DMM_WorkmanHart2005"]),
                      ("PM_MS1995", refs["PM_McDonoughSun1995"]),
                      ("DM_SS2004", refs["DM_SaltersStracke2004"]),
                      ("D_WH2005", gg["workman05_D"])):
        table = reference(name)
        got = np.array([table[e] for e in ELEMENTS])
        np.testing.assert_allclose(got, col.loc[list(ELEMENTS)].to_numpy(float), rtol=1e-3)


def test_crystallisation_partition_matches_gibson_geist(shared_data):
    """The olivine, plagioclase and clinopyroxene D of the fractional-crystallisation factor
    are Gibson & Geist's (2010), and the bulk D_fc is their weighted sum."""
    from pystats.morb.crystallisation import FC_ASSEMBLAGE, KD_FC_GG2010, fc_partition

    gg = pd.read_csv(shared_data / "geochem" / "partition_coefficients_gibson_geist2010.csv",
                     index_col=0)
    els = list(KD_FC_GG2010)
    got = np.array([KD_FC_GG2010[e] for e in els])
    np.testing.assert_allclose(got, gg.loc[els, ["olv_D", "plg_D", "cpx_D"]].to_numpy(float),
                               rtol=1e-9)
    d = fc_partition()
    x = FC_ASSEMBLAGE
    want = x["olv"] * gg["olv_D"] + x["plg"] * gg["plg_D"] + x["cpx"] * gg["cpx_D"]
    np.testing.assert_allclose([d[e] for e in els], want.loc[els].to_numpy(float), rtol=1e-12)
    assert d["Sr"] > 1 > 0.5 > d["La"]  # plagioclase holds Sr


def test_dmm_check_file(shared_data):
    """DMM melted 6 % reproduces the shared forward-check file: modal (Workman & Hart D)
    and non-modal (Gibson & Geist D0 with McKenzie & O'Nions spinel modes, and P)."""
    geo = shared_data / "geochem"
    chk = pd.read_csv(geo / "dmm_aggregated_fractional_F0.06_check.csv", index_col=0)
    c0 = chk["C0_DMM_WH05"].to_numpy()
    d = chk["D_bulk_WH05"].to_numpy()
    np.testing.assert_allclose(m.melt(c0, d, 0.06, law="aggregated_fractional"),
                               chk["agg_frac_modal_WH05D_F0.06"],
                               rtol=1e-5, atol=5.1e-5)  # the file has 4 decimals
    np.testing.assert_allclose(m.melt(c0, d, 0.06, law="batch"),
                               chk["batch_modal_WH05D_F0.06"],
                               rtol=1e-5, atol=5.1e-5)  # the file has 4 decimals
    # D0 from the mineral table and modes
    gg = pd.read_csv(geo / "partition_coefficients_gibson_geist2010.csv", index_col=0)
    modes = pd.read_csv(geo / "mineral_proportions_pymelt.csv")
    spl = modes[modes.source.str.startswith("mo91") & (modes.field == "spn_field")].iloc[0]
    kd = {k: gg.loc[chk.index, f"{k}_D"].to_numpy() for k in ("olv", "opx", "cpx", "grt", "spn")}
    d0 = m.bulk_partition({k: float(spl[k]) for k in kd}, kd)
    np.testing.assert_allclose(d0, chk["D0_spl_GG10_MO91modes"], rtol=2e-2, atol=1e-5)
    d0, p = chk["D0_spl_GG10_MO91modes"].to_numpy(), chk["P_spl_pyMeltReaction"].to_numpy()
    # D0 and P are given to 5 decimals (relative rounding up to ~1e-4 for the HREE)
    np.testing.assert_allclose(m.melt(c0, d0, 0.06, law="aggregated_fractional", P=p),
                               chk["agg_frac_nonmodal_GG10_F0.06"], rtol=2e-4, atol=5.1e-5)
    np.testing.assert_allclose(m.melt(c0, d0, 0.06, law="batch", P=p),
                               chk["batch_nonmodal_GG10_F0.06"], rtol=2e-4, atol=5.1e-5)


def _pymelt_chemistry():
    spec = importlib.util.find_spec("pyMelt")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyMelt is not installed (pip install pymelt==2.3, the 'test' extra)")
    # pyMelt's package import fails with SciPy >= 1.15 (scipy.misc.derivative removed);
    # its chemistry module needs only numpy and pandas, so load it on its own
    path = f"{next(iter(spec.submodule_search_locations))}/chemistry.py"
    mod_spec = importlib.util.spec_from_file_location("_pymelt_chemistry", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("phi", [0.0, 0.005, 0.02])
def test_pymelt_cross_check(phi):
    """pyMelt 2.3: batchSpecies = batch; continuousSpecies_accumulated(phi) at melt
    fraction X = continuous at F = phi + (1 - phi) X; with phi = 0 they are fractional
    melting, and continuousSpecies_instantaneous is the instantaneous fractional melt."""
    chem = _pymelt_chemistry()
    for d in (1e-4, 0.01, 0.08, 0.4):
        for x in (0.01, 0.06, 0.2):
            state = pd.Series({"F": x, "P": 1.5, "T": 1350.0})
            acc = chem.continuousSpecies_accumulated("La", 0.2, d, phi=phi).composition(state)
            assert m.continuous(0.2, d, phi + (1 - phi) * x, phi=phi) == pytest.approx(
                acc, rel=1e-10)
            if phi == 0.0:
                assert m.aggregated_fractional(0.2, d, x) == pytest.approx(acc, rel=1e-10)
                inst = chem.continuousSpecies_instantaneous("La", 0.2, d, phi=0.0)
                assert m.instantaneous_fractional(0.2, d, x) == pytest.approx(
                    inst.composition(state), rel=1e-10)
                bat = chem.batchSpecies("La", 0.2, d).composition(state)
                assert m.batch(0.2, d, x) == pytest.approx(bat, rel=1e-12)
