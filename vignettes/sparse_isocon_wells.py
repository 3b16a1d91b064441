"""Vignette: the sparse isocon on two deep weathering wells with trace elements (LP_Well1,
LP_Well2 of the WeatheringTrends example data), where Zr, Hf, Nb, Th and the heavy REE/Y
are expected to come out immobile.

Run from the repository root (the data are read from ``../shared/data``)::

    python vignettes/sparse_isocon_wells.py [--data DIR] [--deepest K] [--seed S]

Choices (stated in ``models/sparse_isocon.md`` §6)
--------------------------------------------------
* Protolith: the deepest ``K`` rows of each well (default 5; the data README: deep samples
  = parent), passed as ``K`` analyses, so the isocon uses their geometric mean and their
  spread as the protolith error.  Altered: every shallower row; rows whose whole
  composition repeats the row above (the soil horizons analysed as one sample) are kept once.
* Elements: the 10 majors and the 19 trace elements, less any that is zero (below
  detection) in some row of that well (Na2O in both wells, Cu in LP_Well2): the isocon
  works on logs and this script does not impute.
* ``method="map"`` (penalised fast path); the immobile probability is its bootstrap
  selection frequency.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import pandas as pd

import pystats

ROOT = Path(__file__).resolve().parents[1]
FILE = Path("geochem") / "weathering_wells_LP_weatheringtrends.csv"
MAJORS = ["Na2O", "MgO", "Al2O3", "SiO2", "K2O", "CaO", "TiO2", "MnO", "Fe2O3", "P2O5"]
TRACES = [f"{el}_ppm" for el in ("Ba Ce Co Cr Cu Hf La Nb Nd Ni Pb Rb Sc Sr Th V Y Zn "
                                 "Zr").split()]
WELLS = ("LP_Well1", "LP_Well2")


def well_data(data: Path, well: str, deepest: int = 5
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(altered, protolith, depth in cm of the altered rows' tops) for one well."""
    d = pd.read_csv(data / FILE)
    g = d[d["Site"] == well].sort_values("voTop")
    elements = [el for el in MAJORS + TRACES if (g[el] > 0).all()]
    g = g.dropna(subset=elements)
    g = g.set_index(g["voTop"].map(lambda v: f"{v:g}cm"))
    protolith, altered = g.iloc[-deepest:][elements], g.iloc[:-deepest]
    altered = altered[~altered[elements].duplicated()]  # repeated horizon analyses: once
    return altered[elements], protolith, altered["voTop"]


def fit_well(data: Path, well: str, deepest: int = 5, seed: int = 1):
    altered, protolith, depth = well_data(data, well, deepest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.PystatsWarning)
        fit = pystats.SparseIsocon().fit(altered, protolith=protolith, method="map", seed=seed)
    return fit, depth


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--deepest", type=int, default=5, help="rows averaged as protolith")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result: dict[str, object] = {}
    for well in WELLS:
        fit, depth = fit_well(args.data, well, args.deepest, args.seed)
        p = fit.model.immobile_probability(fit)
        est = fit.summary()["estimate"]
        ratio = pd.Series([est[f"mass_ratio[{s}]"] for s in fit.data.summary["samples"]],
                          index=depth.to_numpy())
        print(f"\n{well}: {len(depth)} altered rows, protolith = deepest {args.deepest}; "
              f"immobile set: {', '.join(fit.data.summary['immobile'])}")
        print("immobile probability (bootstrap selection frequency):")
        print(p.sort_values(ascending=False).round(2).to_string())
        print("mass ratio M0/MA by depth (cm): "
              f"{ratio.min():.2f}-{ratio.max():.2f}; shallowest 10 rows "
              f"{ratio.iloc[:10].round(2).tolist()}")
        print("identifiability:", fit.model.identifiability(fit)["problems"] or "ok")
        result[well] = {"p_immobile": p, "mass_ratio": ratio,
                        "immobile": list(fit.data.summary["immobile"])}
    return result


if __name__ == "__main__":
    main()
