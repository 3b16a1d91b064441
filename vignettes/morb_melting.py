"""Vignette: mantle source and degrees of melting of mid-ocean-ridge basalts (Gale et al. 2013).

Run from the repository root (the data are read from ``../shared/data``)::

    python vignettes/morb_melting.py [--output-dir DIR] [--data DIR] [--draws N]

What it shows
-------------
1. The forward model: DMM (Workman & Hart 2005) melted 6 % by aggregated fractional and
   batch melting, beside Gale et al.'s mean N-MORB.
2. The inversion on the Gale et al. (2013) glasses with MgO >= 8 wt% and the REE, Nb, Zr,
   Y, Hf, Th, Sr all measured: MAP, then NUTS, with diagnostics (R-hat, divergences).
3. What the data constrain: the posterior correlation of log C0 and log F and the weakest
   direction (the ridge (C0, F) -> (k C0, k F)).
4. The samples the single-source model fits poorly (enriched, or fractionated), and the
   HTML report (spider diagram normalised to primitive mantle; F per sample).
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import pystats
from pystats.morb import melt, reference

ROOT = Path(__file__).resolve().parents[1]
ELEMENTS = ["La", "Ce", "Nd", "Sm", "Eu", "Gd", "Dy", "Er", "Yb", "Lu", "Nb", "Zr", "Y", "Hf",
            "Th", "Sr"]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    args = parser.parse_args(argv)
    out = args.output_dir or Path(tempfile.mkdtemp(prefix="pystats-vignette-"))
    out.mkdir(parents=True, exist_ok=True)

    # 1. forward model -------------------------------------------------------------------
    dmm, d = reference("DMM_WH2005"), reference("D_WH2005")
    nmorb = reference("NMORB_GALE2013")
    c0 = np.array([dmm[e] for e in ELEMENTS])
    dd = np.array([d[e] for e in ELEMENTS])
    forward = pd.DataFrame({
        "DMM": c0,
        "aggregated_fractional_6%": melt(c0, dd, 0.06, law="aggregated_fractional"),
        "batch_6%": melt(c0, dd, 0.06, law="batch"),
        "N-MORB (Gale 2013)": [nmorb[e] for e in ELEMENTS],
    }, index=ELEMENTS)
    print("1. DMM melted 6 % (ppm)\n", forward.round(3).to_string())

    # 2. the glasses ---------------------------------------------------------------------
    raw = pd.read_csv(args.data / "geochem" / "gale2013_morb_samples.csv")
    conc = raw[ELEMENTS].apply(pd.to_numeric, errors="coerce")
    keep = (raw["Material"] == "GL") & (pd.to_numeric(raw["MgO"], errors="coerce") >= 8) \
        & conc.gt(0).all(axis=1)
    glasses = raw.loc[keep, ["Sample", "MgO", *ELEMENTS]].reset_index(drop=True)
    print(f"\n2. {len(glasses)} glasses with MgO >= 8 wt% and all of {', '.join(ELEMENTS)}")
    model = pystats.MORBMelting(elements=ELEMENTS)
    fit_map = model.fit(glasses, method="map", seed=1)
    print("MAP:", "converged" if fit_map.diagnose(warn=False).ok else "NOT converged")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pystats.ConvergenceWarning)
        fit = model.fit(glasses, method="nuts", seed=1, chains=args.chains, draws=args.draws,
                        warmup=args.draws)
    print(fit.diagnose(warn=False))
    table = fit.summary()
    print(table.loc[[f"C0[{e}]" for e in ELEMENTS] + ["mu_F", "sigma_F"],
                    ["mean", "sd", "hdi_lower", "hdi_upper", "r_hat"]].round(4).to_string())
    f_mean = fit.variable("F").mean(axis=0)
    print(f"F over samples: median {np.median(f_mean):.3f}, 5-95 % "
          f"{np.quantile(f_mean, 0.05):.3f}-{np.quantile(f_mean, 0.95):.3f}")

    # 3. what the data constrain ---------------------------------------------------------
    corr = fit.model.correlations(fit)
    block = corr.loc[[i for i in corr.index if i.startswith("log_C0")],
                     [i for i in corr.columns if i.startswith("log_F")]]
    weak = fit.model.weak_directions(fit, n=1)
    print(f"\n3. mean posterior correlation of log C0 and log F: {block.to_numpy().mean():.2f};"
          f" weakest direction sd {weak['sd'].iloc[0]:.3f}, same sign on "
          f"{(np.sign(weak.iloc[0, 1:]) == np.sign(weak.iloc[0, 1])).mean():.0%} of its terms")

    # 4. poorly fitted samples and the report -------------------------------------------
    per_sample = fit.predict()
    poor = per_sample.groupby("sample")["poor_fit"].sum().sort_values(ascending=False)
    print(f"\n4. samples with >= 4 elements outside their 90 % predictive interval: "
          f"{int((poor >= 4).sum())} of {len(poor)}; e.g. {', '.join(poor.index[:5])}")
    report = fit.report(out / "morb_gale2013.html")
    fit.save(out / "morb_gale2013.nc")
    print(f"report: {report}")
    return {"max_r_hat": float(table["r_hat"].max()),
            "divergences": float(fit.sample_stats["diverging"].sum()),
            "F_median": float(np.median(f_mean))}


if __name__ == "__main__":
    main()
