"""Vignette: time-varying b-value of the 2019 Ridgecrest sequence and the 2023 Swiss catalogue.

Run from the repository root (the data are read from ``../shared/data``)::

    python vignettes/btime_ridgecrest_swiss.py [--data DIR] [--method nuts] [--only ridgecrest]
        [--figures DIR]

For each catalogue: b(t) with a Hilbert-space GP prior (``TimeVaryingB(kind="gp")``, Laplace
approximation by default, ``--method nuts`` for Stan's sampler), the change-point
alternative, b-positive in moving windows (the robust
baseline), and the posterior probability that b decreased over a window.  Ridgecrest:
M >= 3.0 (above the short-term incompleteness of most of the sequence; b-positive uses every
M >= 2.5 event), time in days from 2019-07-04 16:13 UTC (M6.4 at 0.056 d, M7.1 at 1.46 d);
the window is [0.1, 1.4] d, the foreshock sequence before the M7.1.  Switzerland 2023:
ML >= 1.3, times in days of 2023, window [30, 330] d.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import pandas as pd

from pystats.btime.model import TimeVaryingB
from pystats.btime.windows import b_positive_windows

ROOT = Path(__file__).resolve().parents[1]


def catalogues(data: Path) -> dict[str, tuple[dict, float, float, float, float]]:
    """name -> (data, mc, delta_m, window start, window end)."""
    r = pd.read_csv(data / "catalogs" / "ridgecrest2019_comcat_m1.5.csv")
    rid = {"time": r["days_since_start"].to_numpy(float), "magnitude": r["mag"].to_numpy(float)}
    s = pd.read_csv(data / "catalogs" / "switzerland_sed_2023.csv")
    s = s[s["event_type"] == "earthquake"]
    t = pd.to_datetime(s["time"], format="mixed")
    days = ((t - pd.Timestamp("2023-01-01")).dt.total_seconds() / 86400.0).to_numpy()
    swiss = {"time": days, "magnitude": s["magnitude"].to_numpy(float)}
    return {"ridgecrest": (rid, 3.0, 0.01, 0.1, 1.4), "switzerland": (swiss, 1.3, 0.0, 30, 330)}


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--method", default="laplace", choices=("laplace", "nuts"))
    parser.add_argument("--only", choices=("ridgecrest", "switzerland"))
    parser.add_argument("--figures", type=Path, help="write the b(t) figure of each fit here")
    args = parser.parse_args(argv)
    rows = []
    for name, (d, mc, dm, t1, t2) in catalogues(args.data).items():
        if args.only not in (None, name):
            continue
        for kind in ("gp", "changepoint"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = TimeVaryingB(kind=kind, mc=mc, delta_m=dm).fit(d, method=args.method,
                                                                     seed=1)
            band = fit.model.b_band(fit, [t1, t2])
            diag = fit.diagnose(warn=False)
            if args.figures is not None:
                from pystats.plots.btime import b_of_t_figure

                args.figures.mkdir(parents=True, exist_ok=True)
                b_of_t_figure(fit).savefig(args.figures / f"btime_{name}_{kind}.png", dpi=110)
            rows.append({"catalogue": name, "model": kind, "method": args.method,
                         "n": fit.data.summary["n"],
                         "b(t1)": f"{band['b'][0]:.2f} [{band['lower'][0]:.2f}, "
                                  f"{band['upper'][0]:.2f}]",
                         "b(t2)": f"{band['b'][1]:.2f} [{band['lower'][1]:.2f}, "
                                  f"{band['upper'][1]:.2f}]",
                         "P(b decreased)": round(fit.model.p_decrease(fit, t1, t2), 3),
                         "problems": "; ".join(p.check for p in diag.problems) or "none"})
            print(rows[-1], flush=True)
        keep = d["magnitude"] >= (2.5 if name == "ridgecrest" else 1.0)
        w = b_positive_windows(d["time"][keep], d["magnitude"][keep], n_events=300, step=150,
                               delta_m=dm)
        print(f"b-positive windows, {name}:\n", w[["t_mid", "b", "lower", "upper"]].round(3)
              .to_string(index=False), flush=True)
    out = pd.DataFrame(rows)
    print(out.to_string(index=False))
    return out


if __name__ == "__main__":
    main()
