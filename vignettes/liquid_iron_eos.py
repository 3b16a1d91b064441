"""Vignette: the equation of state of liquid iron and the density deficit of the outer core.

Run from the repository root (the data are read from ``../shared/data``)::

    python vignettes/liquid_iron_eos.py [--output-dir DIR] [--data DIR] [--draws N]
                                        [--chains N] [--quick]

What it shows
-------------
1. The Kuwayama et al. (2020) EOS as a published parameter set: density and sound speed at
   core conditions, an adiabat, the Hugoniot against the measured shock points.
2. One tidy table of observations: measured 1-bar densities (Assael et al. 2006), liquid
   Hugoniot points (Brown, Fritz & Hixson 2000 and the older compilation, 240–500 GPa),
   shock sound speeds (Brown & McQueen 1986; Al'tshuler et al. 1960) and P–V–T points
   SIMULATED from the Kuwayama EOS at the P–T conditions of the Kuwayama runs (their
   measured densities are not public), with 0.5 % density, 1 % pressure and 100 K errors.
3. A MAP quick look, then Stan NUTS (``--chains`` × ``--draws``; ``--quick``: MAP only),
   its diagnostics, and the outer-core adiabat against PREM for T_CMB = 4000 ± 300 K:
   the density excess of pure liquid iron over PREM at the CMB and the ICB with 90 %
   intervals (published: 8–10 % at 3500–4200 K, Matsumura et al. 2021; ~8 %, Kuwayama
   et al. 2020).
4. The HTML report and a saved fit that ``pystats.load`` reads back.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import pystats
from pystats.eos.data import assemble_reference_data, simulate_static
from pystats.eos.forward import EOSParameters

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="MAP only (no NUTS)")
    args = parser.parse_args(argv)
    out = args.output_dir or Path(tempfile.mkdtemp(prefix="pystats-eos-"))
    out.mkdir(parents=True, exist_ok=True)
    eos_dir = args.data / "eos"

    # 1. the published EOS
    kuw = pystats.LiquidIronEOS.kuwayama2020()
    print(f"Kuwayama 2020: rho(135.75 GPa, 4000 K) = {float(kuw.density(135.751, 4000)):.3f} "
          f"g/cm3, V_P = {float(kuw.sound_speed(135.751, 4000)):.3f} km/s")
    prem = pd.read_csv(eos_dir / "prem_outer_core.csv", comment="#")
    a = kuw.adiabat(4000.0, prem["pressure_GPa"].to_numpy())
    excess = a["rho"] / prem["density_g_cm3"].to_numpy() - 1
    print(f"  4000 K adiabat: T_ICB = {a['T'][-1]:.0f} K; liquid Fe denser than PREM by "
          f"{100 * excess[0]:.1f} % (CMB), {100 * excess[-1]:.1f} % (ICB)")

    # 2. the data table
    pt = pd.read_csv(eos_dir / "kuwayama2020_pt_conditions.csv", comment="#")
    static = simulate_static(EOSParameters.kuwayama2020(), pt["pressure_GPa"],
                             pt["temperature_K"], seed=2020, dataset="kuwayama2020_simulated")
    data = assemble_reference_data(eos_dir, static=static)
    data.to_csv(out / "iron_eos_data.csv", index=False)
    print(data.groupby(["kind", "dataset"]).size().to_string())

    # 3. fits
    model = pystats.LiquidIronEOS()
    t = time.perf_counter()
    fit = model.fit(data, method="map", seed=1)
    print(f"MAP in {time.perf_counter() - t:.1f} s")
    if not args.quick:
        t = time.perf_counter()
        fit = model.fit(data, method="nuts", seed=1, chains=args.chains, draws=args.draws,
                        warmup=args.draws)
        wall = time.perf_counter() - t
        print(f"NUTS {args.chains} x {args.draws} draws in {wall:.0f} s")
    print(fit.summary().head(9).to_string())
    print(fit.diagnose())
    prof = fit.predict(T_cmb=4000.0, T_cmb_sd=300.0, prem=eos_dir / "prem_outer_core.csv")
    res = {}
    for name, row in (("CMB", prof.iloc[0]), ("ICB", prof.iloc[-1])):
        ex = 100 * row[["density_excess", "density_excess_lower", "density_excess_upper"]]
        print(f"{name}: P {row['P_GPa']:.1f} GPa, T {row['T']:.0f} K, rho_Fe {row['rho']:.3f} "
              f"[{row['rho_lower']:.3f}, {row['rho_upper']:.3f}] vs PREM {row['rho_prem']:.3f}:"
              f" excess {ex.iloc[0]:.2f} % [{ex.iloc[1]:.2f}, {ex.iloc[2]:.2f}], V_P "
              f"difference {100 * row['vp_difference']:.2f} %")
        res[f"excess_{name}"] = float(row["density_excess"])
    pred = fit.predict(P=[135.751, 328.85], T=[4000.0, 5500.0])
    print(pred[["P_GPa", "T_K", "rho", "rho_lower", "rho_upper", "V_P", "K_S"]].to_string())

    # 4. report and saved fit
    report = fit.report(out / "iron_eos_report.html")
    saved = fit.save(out / "iron_eos_fit.nc")
    again = pystats.load(saved)
    assert np.isclose(float(again.estimate("V0")), float(fit.estimate("V0")))
    print(f"report: {report}\nfit: {saved}")
    return res


if __name__ == "__main__":
    main()
