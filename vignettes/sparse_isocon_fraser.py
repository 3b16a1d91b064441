"""Vignette: mass transfer in the Fraser Experimental Forest soils, by Grant's isocon and
the sparse isocon.

Run from the repository root (the data are read from ``../shared/data``)::

    python vignettes/sparse_isocon_fraser.py [--output-dir DIR] [--data DIR] [--nuts]

What it shows
-------------
1. One pedon (BL1): Grant's isocon with Ti immobile (the authors' choice, Bergstrom et al.
   2019) and with Zr; tau = ΔC/C0 per horizon and element, and the published
   depth-weighted tau it reproduces.
2. The sparse isocon's own choice of immobile elements, pedon by pedon, next to Ti.
3. The failure case: the Toorongo majors-only profile (Lipp et al. 2020), where the sparse
   fit warns that the immobile set is not identified.
4. (``--nuts``) the Bayesian horseshoe fit of one pedon: posterior immobile probabilities.
5. The HTML report and a saved fit.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import pandas as pd

import pystats

ROOT = Path(__file__).resolve().parents[1]
ELEMENTS = ["Al_ppm", "Ca_ppm", "Fe_ppm", "K_ppm", "Mg_ppm", "Na_ppm", "Ti_ppm", "Zr_ppm"]


def pedons(data: Path):
    h = pd.read_csv(data / "geochem" / "fraser_soils_bergstrom2019_horizons.csv")
    h[ELEMENTS] = h[ELEMENTS].apply(pd.to_numeric, errors="coerce")
    for pedon, g in h.groupby("Pedon"):
        g = g.sort_values("top")
        parent, hz = g.iloc[-1], g.iloc[:-1].dropna(subset=ELEMENTS)
        if len(hz) and not parent[ELEMENTS].isna().any():
            yield pedon, parent, hz.set_index(hz["name"])


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--nuts", action="store_true", help="also run the Stan horseshoe fit")
    args = parser.parse_args(argv)
    out = args.output_dir or Path(tempfile.mkdtemp(prefix="pystats-vignette-"))
    out.mkdir(parents=True, exist_ok=True)
    all_pedons = list(pedons(args.data))

    # 1. Grant's isocon on BL1 ----------------------------------------------------------
    _, parent, hz = next(p for p in all_pedons if p[0] == "BL1")
    for ref in ("Ti_ppm", "Zr_ppm"):
        fit = pystats.GrantIsocon(immobile=[ref]).fit(hz[ELEMENTS], protolith=parent[ELEMENTS])
        est = fit.summary()["estimate"]
        table = pd.DataFrame({el: [est[f"tau[{h},{el}]"] for h in hz.index]
                              for el in ELEMENTS}, index=hz.index)
        print(f"BL1, tau with {ref} immobile:\n{table.round(2)}")
    share = hz["thickness"] / hz["thickness"].sum()
    ti = pystats.GrantIsocon(immobile=["Ti_ppm"]).fit(hz[ELEMENTS], protolith=parent[ELEMENTS])
    est = ti.summary()["estimate"]
    print("published (depth-weighted) tau_Ca:", hz["tau_ca"].tolist(), " ours:",
          [round(est[f"tau[{h},Ca_ppm]"] * share[h], 3) for h in hz.index])

    # 2. the sparse isocon's choice ---------------------------------------------------
    choices = {}
    for pedon, parent, hz in all_pedons:
        if len(hz) < 3:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pystats.PystatsWarning)
            fit = pystats.SparseIsocon().fit(hz[ELEMENTS], protolith=parent[ELEMENTS],
                                             method="map", seed=1)
        choices[pedon] = ", ".join(fit.data.summary["immobile"])
    print("sparse isocon immobile sets (the authors use Ti):")
    print(pd.Series(choices).to_string())

    # 3. the failure case ---------------------------------------------------------------
    t = pd.read_csv(args.data / "geochem" / "weathering_profile_toorongo_lipp2020.csv")
    t = t.set_index("Sample")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bad = pystats.SparseIsocon().fit(t.iloc[1:], protolith=t.iloc[0], method="map", seed=1)
    print("Toorongo:", [str(w.message).splitlines()[0][:160] for w in caught
                        if issubclass(w.category, pystats.PystatsWarning)])

    # 4. Bayesian fit -----------------------------------------------------------------
    result: dict[str, object] = {"choices": choices}
    if args.nuts:
        _, parent, hz = next(p for p in all_pedons if p[0] == "BL1")
        post = pystats.SparseIsocon().fit(hz[ELEMENTS], protolith=parent[ELEMENTS],
                                          method="nuts", seed=1, adapt_delta=0.95)
        print(post.model.immobile_probability(post).round(2))
        result["nuts_p_immobile"] = post.model.immobile_probability(post).to_dict()

    # 5. report and saved fit -----------------------------------------------------------
    report = ti.report(out / "fraser_bl1_isocon.html")
    saved = ti.save(out / "fraser_bl1_isocon.nc")
    print(f"report: {report}\nsaved fit: {saved}\nToorongo report: "
          f"{bad.report(out / 'toorongo_isocon.html')}")
    return result


if __name__ == "__main__":
    main()
