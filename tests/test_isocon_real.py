"""Isocon families on real data: the Fraser Experimental Forest soils (Bergstrom et al.
2019) against the published tau, and the Toorongo majors-only profile (Lipp et al. 2020)
as the identifiability failure case."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.compositional.isocon import IsoconIdentifiabilityWarning

ELEMENTS = ["Al_ppm", "Ca_ppm", "Fe_ppm", "K_ppm", "Mg_ppm", "Na_ppm", "Ti_ppm", "Zr_ppm"]
PUBLISHED = {"Al_ppm": "tau_Al", "Ca_ppm": "tau_ca", "Fe_ppm": "tau_Fe", "K_ppm": "tau_K",
             "Mg_ppm": "tau_Mg", "Na_ppm": "tau_Na"}
# In these two pedons the published horizon values do not follow the rule below with the
# deepest C horizon as parent (FU1: 0.00/0.01/0.04 against 0.81/0.60/0.09 for Ca); left out.
NOT_REPRODUCED = {"FU1", "IL3"}


def fraser_pedons(shared_data):
    h = pd.read_csv(shared_data / "geochem" / "fraser_soils_bergstrom2019_horizons.csv")
    h[ELEMENTS] = h[ELEMENTS].apply(pd.to_numeric, errors="coerce")  # one '^<.0000' cell
    for pedon, g in h.groupby("Pedon"):
        g = g.sort_values("top")
        parent, horizons = g.iloc[-1], g.iloc[:-1].dropna(subset=ELEMENTS)
        if horizons.empty or parent[ELEMENTS].isna().any():
            continue
        horizons = horizons.set_index(horizons["name"] + "@" + horizons["top"].astype(str))
        yield pedon, parent, horizons


def test_fraser_tau_with_ti_immobile_reproduces_published(shared_data):
    """The published horizon tau (Bergstrom et al. 2019, via aqp) are depth-weighted
    contributions to the pedon-integrated tau: tau_h * thickness_h / solum thickness
    (they sum to the sites file's tau_pedon); Grant's isocon with Ti immobile and the
    deepest C horizon as parent reproduces them to their 2-decimal rounding (90 % of
    values; 97 % within 0.03)."""
    diffs, pedon_diffs = [], []
    sites = pd.read_csv(shared_data / "geochem" / "fraser_soils_bergstrom2019_sites.csv",
                        encoding="utf-8-sig").set_index("pedon")
    for pedon, parent, horizons in fraser_pedons(shared_data):
        if pedon in NOT_REPRODUCED:
            continue
        fit = pystats.GrantIsocon(immobile=["Ti_ppm"]).fit(horizons[ELEMENTS],
                                                          protolith=parent[ELEMENTS])
        est = fit.summary()["estimate"]
        share = horizons["thickness"] / horizons["thickness"].sum()
        for el, col in PUBLISHED.items():
            ours = np.array([est[f"tau[{h},{el}]"] for h in horizons.index]) * share
            pub = horizons[col].to_numpy(dtype=float)
            ok = np.isfinite(pub)
            diffs.extend(np.abs(ours[ok] - pub[ok]))
        # and their sum is the published pedon-integrated tau for Ca (sites file)
        ca = np.array([est[f"tau[{h},Ca_ppm]"] for h in horizons.index]) * share
        pedon_diffs.append(abs(ca.sum() - sites.loc[pedon, "tau_pedon_Ca"]))
    diffs = np.array(diffs)
    assert diffs.size >= 500  # 30 pedons x ~3 horizons x 6 elements
    # rounding to 2 decimals: |diff| <= 0.005; a few of the published values sit one
    # rounding unit further off (e.g. BL1 Bw1 Na: 0.3446 vs 0.35)
    assert np.mean(diffs <= 0.0051) >= 0.9, np.mean(diffs <= 0.0051)
    assert np.mean(diffs <= 0.03) >= 0.97, np.mean(diffs <= 0.03)
    assert np.median(pedon_diffs) <= 0.01, pedon_diffs


def test_fraser_zr_as_immobile_within_spread(shared_data):
    """With Zr instead of Ti, horizon tau differ by the Ti/Zr disagreement; the
    median over horizons of |tau_Zr - tau_Ti| for Ca is stated here, not hidden: it is
    below the spread (sd) of the published Ti-based values."""
    diffs, ti_taus = [], []
    for _, parent, horizons in fraser_pedons(shared_data):
        t = {}
        for ref in ("Ti_ppm", "Zr_ppm"):
            est = pystats.GrantIsocon(immobile=[ref]).fit(horizons[ELEMENTS],
                                                         protolith=parent[ELEMENTS]).summary()
            t[ref] = np.array([est.loc[f"tau[{h},Ca_ppm]", "estimate"] for h in horizons.index])
        diffs.extend(np.abs(t["Zr_ppm"] - t["Ti_ppm"]))
        ti_taus.extend(t["Ti_ppm"])
    assert np.median(diffs) < np.std(ti_taus)


def test_toorongo_majors_only_warns(shared_data):
    """Toorongo granodiorite (Lipp et al. 2020): 10 majors, most of which leach; the sparse
    fit must say that it cannot tell which elements were immobile."""
    t = pd.read_csv(shared_data / "geochem" / "weathering_profile_toorongo_lipp2020.csv")
    t = t.set_index("Sample")
    for seed in (1, 2, 3):
        with pytest.warns(IsoconIdentifiabilityWarning, match="not identified"):
            fit = pystats.SparseIsocon().fit(t.iloc[1:], protolith=t.iloc[0], method="map",
                                             seed=seed)
        assert fit.model.identifiability(fit)["problems"]
        assert not fit.diagnose(warn=False).ok


def test_sparse_on_fraser_states_its_choice(shared_data):
    """Fraser pedons with >= 3 horizons: the sparse fit's immobile set, next to the
    authors' Ti.  Ti or Zr is selected in most pedons (stated: the share is checked)."""
    chosen = {}
    for pedon, parent, horizons in fraser_pedons(shared_data):
        if len(horizons) < 3:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pystats.PystatsWarning)
            fit = pystats.SparseIsocon().fit(horizons[ELEMENTS], protolith=parent[ELEMENTS],
                                             method="map", seed=1)
        chosen[pedon] = fit.data.summary["immobile"]
    share = np.mean([("Ti_ppm" in c) or ("Zr_ppm" in c) for c in chosen.values()])
    assert len(chosen) >= 10 and share >= 0.5, chosen
