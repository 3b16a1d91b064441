"""Vignette: which size law does tectonic tremor follow?  World Tremor Database, 8 regions.

Run from the repository root (the data are read from ``../shared/data``)::

    python vignettes/magnitude_laws_tremor.py [--output-dir DIR] [--data DIR] [--regions ...]
        [--method mle|laplace|nuts] [--table FILE.csv]

What it does (``models/magnitude_laws.md`` §9 has the table it prints)
----------------------------------------------------------------------
1. Reads the tremor catalogue (Idehara, Ide & Obara 2014) region by region, following its
   README row: Manawatu has no magnitudes (dropped); Cascadia's 12 Mw >= 4 values are
   outliers (cut at Mw < 4) and its magnitudes are given to 0.1 in 2013-2014 and to 0.01
   before, so Cascadia is binned at 0.1 throughout (each value put in its 0.1 bin; the other
   regions keep their 0.01 step); Guerrero-GGAP rows with location residual >= 1.5 s (beyond
   the documented limit) are dropped; regions are never pooled (their Mw scales differ).
2. Fits every law of ``pystats.maglaw.laws.LAWS`` (``--method mle``, the default;
   ``laplace``: the posterior mode with the priors of the card and 250 Gaussian draws; or
   ``nuts``: 4 chains of 500 draws after 500 warm-up, the LOO to trust where the laws are
   close, card §6), (a) above the Mc of MAXC and (b) over every magnitude with the
   detection probit, and ranks them by AIC and BIC, and with draws by PSIS-LOO, with
   ``pystats.compare`` (``loo_flagged``: the laws whose LOO it flags as unreliable).
3. Draws the magnitude–frequency figure of Cascadia with every law and its band
   (``tremor_cascadia_laws.png``) and the preference figure of every region
   (``tremor_law_preference.png``: ΔLOO, or ΔAIC with ``mle``, of each law to the best) in
   ``--output-dir``.
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


def fit_region(m: np.ndarray, detection: bool, method: str = "mle") -> tuple[pd.DataFrame, dict]:
    """Every law fitted by ``method``: the ``pystats.compare`` table and the fits."""
    fits = {}
    for law in LAWS:
        model = (pystats.MagnitudeLaw(law=law, detection=True) if detection
                 else pystats.MagnitudeLaw(law=law, mc="maxc"))
        kw = {"laplace": {"draws": 250}, "nuts": {"draws": 500, "warmup": 500}}.get(method, {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[law] = model.fit(m, method=method, seed=1, **kw)
    return pystats.compare(fits), fits


def preference_figure(deltas: pd.DataFrame, label: str):
    """Heat map of ``deltas`` (rows ``region, fit``; columns laws; 0 = the best law)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 0.45 * len(deltas) + 1.6))
    ax = fig.add_subplot(1, 1, 1)
    shown = np.log10(1.0 + deltas.to_numpy(dtype=float))
    im = ax.imshow(shown, cmap="viridis_r", aspect="auto", vmin=0.0, vmax=max(3.0, 1e-9))
    ax.set_xticks(range(deltas.shape[1]), [c.replace("_", " ") for c in deltas.columns],
                  rotation=30, ha="right")
    ax.set_yticks(range(deltas.shape[0]), [f"{r} ({f})" for r, f in deltas.index])
    for i in range(deltas.shape[0]):
        for j in range(deltas.shape[1]):
            d = deltas.iat[i, j]
            txt = f"{d:.1f}" if d < 100 else (f"{d:.0f}" if d < 1e5 else f"{d:.0e}")
            ax.text(j, i, "best" if d == 0 else txt,
                    ha="center", va="center", fontsize=7,
                    color="black" if shown[i, j] < 1.5 else "white")
    fig.colorbar(im, ax=ax, label=f"log10(1 + {label})")
    ax.set_title(f"Tremor size laws by region: {label} to the best law (0 = preferred)")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output-dir", type=Path, default=Path("."))
    parser.add_argument("--regions", nargs="*")
    parser.add_argument("--method", choices=("mle", "laplace", "nuts"), default="mle")
    parser.add_argument("--table", type=Path, help="also write the table (CSV)")
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    crit = "d_elpd_loo" if args.method in ("laplace", "nuts") else "d_aic"
    rows, deltas = [], {}
    regions = read_regions(args.data)
    for region, m in regions.items():
        if args.regions and region not in args.regions:
            continue
        for detection in (False, True):
            fit_label = "det." if detection else "cut"
            try:
                table, fits = fit_region(m, detection, args.method)
            except pystats.DataError as err:  # e.g. an Mc that MAXC flags as unreliable
                rows.append({"region": region, "detection": detection, "n": m.size,
                             "best_aic": f"not fitted: {str(err)[:60]}"})
                print(rows[-1], flush=True)
                continue
            best_aic = table["aic"].idxmin()
            best = table.index[0]  # by LOO with laplace, by AIC with mle
            fit = fits[best]
            row = {
                "region": region, "detection": detection, "n": int(table["n_obs"].iloc[0]),
                "threshold": round(float(fit.data.values["m_t"]), 3),
                "best_aic": best_aic, "best_bic": table["bic"].idxmin(),
                "d_aic_gr": round(float(table.loc["gr", "d_aic"]), 1),
                "d_aic_exponential_moment": round(float(table.loc["exponential_moment",
                                                                  "d_aic"]), 1),
            }
            if "elpd_loo" in table:
                ranked = table["elpd_loo"].dropna().sort_values(ascending=False)
                row.update(
                    best_loo=best,
                    loo_margin=round(float(ranked.iloc[0] - ranked.iloc[1]), 1),
                    loo_margin_se=round(float(_diff_se(fits, ranked.index[0],
                                                       ranked.index[1])), 1),
                    second_loo=ranked.index[1],
                    d_loo_gr=round(float(table.loc["gr", "d_elpd_loo"]), 1),
                    d_loo_exponential_moment=round(float(
                        table.loc["exponential_moment", "d_elpd_loo"]), 1),
                    max_pareto_k_best=round(float(table.loc[best, "max_pareto_k"]), 2),
                    loo_flagged=" ".join(table.index[table["loo_warning"]]),
                )
            row["estimates"] = ", ".join(f"{k}={float(fit.estimate(k)):.2f}"
                                         for k in fit.parameters.names)
            rows.append(row)
            deltas[(region, fit_label)] = table[crit].reindex(list(LAWS))
            print(rows[-1], flush=True)
            if region == "Cascadia" and not detection:
                from pystats.plots.maglaw import laws_figure

                fig = laws_figure(fits)
                fig.savefig(args.output_dir / "tremor_cascadia_laws.png", dpi=120)
    out = pd.DataFrame(rows)
    if deltas:
        d = pd.DataFrame(deltas).T
        label = "ΔLOO (elpd)" if crit == "d_elpd_loo" else "ΔAIC"
        preference_figure(d, label).savefig(args.output_dir / "tremor_law_preference.png",
                                            dpi=120)
    if args.table is not None:
        out.to_csv(args.table, index=False)
    print(out.to_string(index=False))
    return out


def _diff_se(fits: dict, first: str, second: str) -> float:
    """Standard error of the elpd difference of two fits (paired over the events)."""
    import arviz as az
    from scipy.special import logsumexp

    from pystats.arviz_io import pointwise_log_likelihood_draws

    def loo_i(fit) -> np.ndarray:
        ll = next(iter(pointwise_log_likelihood_draws(fit).values()))
        ll = ll.reshape(-1, ll.shape[-1])
        first_col, inverse = np.unique(ll.T, axis=0, return_inverse=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lw, _ = az.psislw(-first_col, 1.0)
        return logsumexp(lw + first_col, axis=-1)[inverse.ravel()]

    diff = loo_i(fits[first]) - loo_i(fits[second])
    return float(np.sqrt(diff.size * np.var(diff)))


if __name__ == "__main__":
    main()
