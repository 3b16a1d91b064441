"""Vignette: which size law does tectonic tremor follow?  World Tremor Database, 8 regions.

Run from the repository root (the data are read from ``../shared/data``)::

    python vignettes/magnitude_laws_tremor.py [--output-dir DIR] [--data DIR] [--regions ...]

What it does (``models/magnitude_laws.md`` §9 has the table it prints)
----------------------------------------------------------------------
1. Reads the tremor catalogue (Idehara, Ide & Obara 2014) region by region, following its
   README row: Manawatu has no magnitudes (dropped); Cascadia's 12 Mw >= 4 values are
   outliers (cut at Mw < 4) and its magnitudes are given to 0.1 in 2013-2014 and to 0.01
   before, so Cascadia is binned at 0.1 throughout (each value put in its 0.1 bin; the other
   regions keep their 0.01 step); Guerrero-GGAP rows with location residual >= 1.5 s (beyond
   the documented limit) are dropped; regions are never pooled (their Mw scales differ).
2. Fits every law of ``pystats.maglaw.laws.LAWS`` by maximum likelihood, (a) above the Mc of
   MAXC and (b) over every magnitude with the detection probit, and ranks them by AIC and BIC
   with ``pystats.compare``.
3. Draws the magnitude–frequency figure of Cascadia with every law and its band.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import pystats
from pystats.maglaw.laws import LAWS

ROOT = Path(__file__).resolve().parents[1]
FILE = "catalogs/tremor_wtd_idehara_2004_2014_9regions.csv"


def read_regions(data_dir: Path) -> dict[str, np.ndarray]:
    """Magnitudes per region, cleaned as the data README says (module docstring)."""
    d = pd.read_csv(data_dir / FILE)
    out: dict[str, np.ndarray] = {}
    for region, g in d.groupby("region"):
        if region == "Manawatu":
            continue  # Mw is 0.00 in every row: missing
        if region == "Guerrero-GGAP":
            g = g[g["residual_s"] < 1.5]
        m = g["mw"].to_numpy(dtype=float)
        if region == "Cascadia":
            m = m[m < 4.0]
            m = np.round(np.floor(m * 10 + 0.5 + 1e-9) / 10, 1)  # 0.1 bins throughout
        out[str(region)] = m
    return out


def fit_region(m: np.ndarray, detection: bool) -> tuple[pd.DataFrame, dict]:
    """MLE of every law: the ``pystats.compare`` table and the fits."""
    fits = {}
    for law in LAWS:
        model = (pystats.MagnitudeLaw(law=law, detection=True) if detection
                 else pystats.MagnitudeLaw(law=law, mc="maxc"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[law] = model.fit(m, seed=1)
    return pystats.compare(fits), fits


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output-dir", type=Path, default=Path("."))
    parser.add_argument("--regions", nargs="*")
    args = parser.parse_args(argv)
    rows = []
    regions = read_regions(args.data)
    for region, m in regions.items():
        if args.regions and region not in args.regions:
            continue
        for detection in (False, True):
            try:
                table, fits = fit_region(m, detection)
            except pystats.DataError as err:  # e.g. an Mc that MAXC flags as unreliable
                rows.append({"region": region, "detection": detection, "n": m.size,
                             "best_aic": f"not fitted: {str(err)[:60]}"})
                print(rows[-1], flush=True)
                continue
            best = table.index[0]
            fit = fits[best]
            rows.append({
                "region": region, "detection": detection, "n": int(table["n_obs"].iloc[0]),
                "threshold": round(float(fit.data.values["m_t"]), 3),
                "best_aic": best, "best_bic": table["bic"].idxmin(),
                "d_aic_gr": round(float(table.loc["gr", "d_aic"]), 1),
                "d_aic_exponential_moment": round(float(table.loc["exponential_moment",
                                                                  "d_aic"]), 1),
                "estimates": ", ".join(f"{k}={float(fit.estimate(k)):.2f}"
                                       for k in fit.parameters.names),
            })
            print(rows[-1], flush=True)
            if region == "Cascadia" and not detection:
                from pystats.plots.maglaw import laws_figure

                fig = laws_figure(fits)
                fig.savefig(args.output_dir / "tremor_cascadia_laws.png", dpi=120)
    out = pd.DataFrame(rows)
    print(out.to_string(index=False))
    return out


if __name__ == "__main__":
    main()
