"""Next-day forecasts of AftershockDetection from 6 h, 1 d and 3 d learning windows, against
what happened (issue 8, real-data acceptance).

Run as a script (prints markdown tables; about 2 min on the 2-core machine)::

    PYTHONPATH=. python tests/benchmarks/aftershock_windows.py [--methods laplace,nuts]

or through pytest (not run by default; ``-m benchmark`` selects it)::

    pytest tests/benchmarks/aftershock_windows.py -m benchmark -s

Catalogues (``../shared/data/catalogs``, override with ``PYSTATS_SHARED_DATA``):

* ``miyagi``: 2003 northern Miyagi, JMA via SAPP; main shock M6.2 at t = 0 (days);
  magnitude 0.0 = missing (dropped, counted in the table's notes);
* ``ridgecrest``: ComCat M >= 1.5 file; the M7.1 main shock is taken from the data (the row
  flagged ``is_mainshock``, also the largest magnitude): 2019-07-06 03:19:53.04 UTC, M 7.1;
* ``ridgecrest_week``: the pycsep ComCat M >= 2.5 extract of the first week (it starts 2.7
  min after the M7.1 and does not hold it), same main shock.

Learning windows ``[t_ms + 0.01 d, t_ms + W]`` for W = 6 h, 1 d, 3 d: ``t_start`` = 14.4 min,
the SAPP convention for Miyagi and the model's default, used for all three catalogues so that
the windows are comparable (the first minutes after a M7 are a coda with almost no located
events).  Events before the main shock — at Ridgecrest the M6.4 foreshock of July 4 and its
34 h of aftershocks — are not data of the model (``prepare`` drops them with a note); its
aftershocks that continue after the M7.1 cannot be told apart and are counted in the M7.1's
Omori–Utsu rate: the script prints their pre-M7.1 rate to show it is small.

Forecast: ``fit.predict(t1=t_ms + W, t2=t_ms + W + 1 d, magnitudes=...)`` (complete counts of
M >= m, Poisson mixed over the posterior draws), 90 % and 95 % intervals, against the number of
recorded events of M >= m in ``(t1, t2]``.  A recorded count is a complete count only where
the catalogue is complete in that day: ``complete`` is ``m >= Mc``, with ``Mc`` the largest
maximum-curvature estimate + 0.2 (Wiemer & Wyss 2000; Woessner & Wiemer 2005;
:func:`pystats.estimate_mc`) over consecutive blocks of 100 recorded events of the forecast
day (completeness must hold all day, and is worst at its start, where the blocks are short).
Rows with ``complete = no`` are printed but not scored (their recorded count is only a lower
bound).
``P(N<=obs)`` is the predictive probability of a count at most the one observed (near 0 or
1: a miss).

Public API only (``AftershockDetection``, ``fit``, ``predict``, ``detection_probability``,
``summary``, ``diagnose``, ``estimate_mc``), so the script runs unchanged after the
likelihood and parameterisation are reworked.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pystats

pytestmark = pytest.mark.benchmark

DATA = Path(os.environ.get(
    "PYSTATS_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
)) / "catalogs"
WINDOWS = {"6 h": 0.25, "1 d": 1.0, "3 d": 3.0}
T_START = 0.01
"""Start of every learning window, days after the main shock (14.4 min)."""
SUMMARY_PARAMS = ("K", "c", "p", "b", "sigma")
BLOCK = 100
"""Events per block of the next-day completeness estimate (:func:`completeness`)."""


@dataclass
class Case:
    """A catalogue with its main shock, thresholds and the fit's data keywords."""

    name: str
    frame: pd.DataFrame  # columns time, magnitude (as the model reads them)
    days: np.ndarray  # event times, days since the main shock
    mags: np.ndarray  # magnitudes, NaN where missing
    m0: float
    mainshock_time: Any  # on the data's time axis: days or a Timestamp
    thresholds: tuple[float, ...]
    fit_kw: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    foreshock_lag: float | None = None  # days from the largest foreshock to the main shock

    def at(self, days: float) -> Any:
        """``days`` after the main shock on the data's time axis."""
        if isinstance(self.mainshock_time, pd.Timestamp):
            return self.mainshock_time + pd.Timedelta(days=days)
        return self.mainshock_time + days


def _days(times: pd.Series, t0: pd.Timestamp) -> np.ndarray:
    ts = pd.to_datetime(times, format="ISO8601", utc=True)
    return ((ts - t0) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def catalogues(data: Path = DATA) -> list[Case]:
    """The three catalogues, read as the model reads them."""
    out = []
    mi = pd.read_csv(data / "miyagi2003_aftershocks_sapp.csv")
    mags = mi["magnitude"].to_numpy(dtype=float)
    out.append(Case(
        "miyagi", mi[["time", "magnitude"]], mi["time"].to_numpy(dtype=float),
        np.where(mags == 0.0, np.nan, mags), 6.2, 0.0, (2.0, 3.0, 4.0),
        {"missing_magnitude": 0.0},
        [f"{int(np.sum(mags == 0.0))} magnitudes 0.0 = missing, dropped"]))

    rc = pd.read_csv(data / "ridgecrest2019_comcat_m1.5.csv")
    main = rc.loc[rc["is_mainshock"]]
    if len(main) != 1 or main.index[0] != rc["mag"].idxmax():
        raise RuntimeError("the Ridgecrest file's flagged main shock is not its largest event")
    t_ms = pd.Timestamp(pd.to_datetime(main["time"].iloc[0], format="ISO8601", utc=True))
    m0 = float(main["mag"].iloc[0])
    days = _days(rc["time"], t_ms)
    fore = rc.loc[(days < 0)]
    big_fore = fore.loc[fore["mag"].idxmax()]
    pre = (days > -1.0) & (days < 0)
    n_ties = int(pd.to_datetime(rc["time"], format="ISO8601").duplicated().sum())
    rc_notes = [
        f"main shock from the data: {t_ms.isoformat()} M{m0:g} (the is_mainshock row, also "
        f"the largest magnitude); largest earlier event M{big_fore['mag']:g} at "
        f"{big_fore['time']} ({-days[fore['mag'].idxmax()]:.2f} d before)",
        f"{len(fore)} events before the M7.1 are not data; in its last 24 h the foreshock "
        f"sequence had {int(np.sum(pre & (rc['mag'] >= 2.5)))} events M>=2.5 and "
        f"{int(np.sum(pre & (rc['mag'] >= 3.0)))} M>=3",
        f"{n_ties} pairs of events share an origin time (kept)",
    ]
    out.append(Case("ridgecrest", rc.rename(columns={"mag": "magnitude"})[["time", "magnitude"]],
                    days, rc["mag"].to_numpy(dtype=float), m0, t_ms, (2.5, 3.0, 4.0),
                    notes=rc_notes, foreshock_lag=float(-days[fore["mag"].idxmax()])))

    wk = pd.read_csv(data / "ridgecrest2019_week_comcat_m2.5.csv")
    # times are UTC without a zone: read them as UTC, as ComCat gives them
    wk_times = pd.to_datetime(wk["time_string"], format="ISO8601").dt.tz_localize("UTC")
    frame = pd.DataFrame({"time": wk_times, "magnitude": wk["M"]})
    out.append(Case(
        "ridgecrest_week", frame, _days(wk_times, t_ms), wk["M"].to_numpy(dtype=float),
        m0, t_ms, (2.5, 3.0, 4.0),
        notes=[f"first event {(wk_times.iloc[0] - t_ms).total_seconds() / 60:.1f} min after "
               "the M7.1; magnitudes cut at 2.5 by the source"]))
    return out


def observed(case: Case, t1: float, t2: float, m: float) -> int:
    """Recorded events with magnitude >= m in ``(t1, t2]`` (days after the main shock)."""
    sel = (case.days > t1) & (case.days <= t2) & (case.mags >= m - 1e-9)
    return int(np.sum(sel))


def completeness(case: Case, t1: float, t2: float, block: int = BLOCK) -> float:
    """Largest MAXC + 0.2 Mc over consecutive blocks of ``block`` or more recorded events
    in ``(t1, t2]`` (one block when fewer than ``2 block`` events)."""
    sel = (case.days > t1) & (case.days <= t2) & np.isfinite(case.mags)
    mags = case.mags[sel]  # in time order
    parts = np.array_split(mags, max(1, mags.size // block))
    with warnings.catch_warnings():  # an Mc "above nearly all the data": incomplete anyway
        warnings.simplefilter("ignore")
        return max(float(pystats.estimate_mc(x, method="maxc", correction=0.2).mc)
                   for x in parts)


def foreshock_tail(case: Case, window: float, m: float = 2.5, p: float = 1.1) -> float | None:
    """Ridgecrest: the M6.4 sequence's M >= m count in the forecast day had it gone on
    undisturbed: its count in the 24 h before the M7.1 times the ratio of the Omori
    integrals ``∫ t^-p dt`` (t from the M6.4; c negligible a day on)."""
    if case.foreshock_lag is None:
        return None
    lag = case.foreshock_lag
    pre = (case.days > -1.0) & (case.days < 0) & (case.mags >= m)

    def integral(a: float, b: float) -> float:
        return (b ** (1 - p) - a ** (1 - p)) / (1 - p)

    ratio = integral(window + lag, window + 1 + lag) / integral(lag - 1, lag)
    return float(pre.sum() * ratio)


def fit_window(case: Case, window: float, method: str, seed: int = 1) -> tuple[Any, Any, float]:
    """The fit of ``[t_ms + T_START, t_ms + window]``; returns the model, the fit and its
    wall time."""
    model = pystats.AftershockDetection(mainshock_magnitude=case.m0,
                                        mainshock_time=case.mainshock_time)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(case.frame, method=method, t_start=case.at(T_START),
                        t_end=case.at(window), seed=seed, **case.fit_kw)
    return model, fit, time.perf_counter() - t0


def forecast_rows(case: Case, label: str, window: float, model: Any, fit: Any,
                  method: str, seed: int = 1) -> list[dict[str, Any]]:
    """One row per threshold: predicted median and intervals beside the observed count."""
    t1, t2 = case.at(window), case.at(window + 1.0)
    mags = list(case.thresholds)
    p90 = fit.predict(t1=t1, t2=t2, magnitudes=mags, prob=0.90, seed=seed)
    p95 = fit.predict(t1=t1, t2=t2, magnitudes=mags, prob=0.95, seed=seed)
    counts = np.asarray(p90.attrs["counts"])
    q = model.detection_probability(fit, times=[window], magnitudes=mags)
    mc = completeness(case, window, window + 1.0)
    rows = []
    for j, m in enumerate(mags):
        obs = observed(case, window, window + 1.0, m)
        complete = m >= mc - 1e-9
        lo90, hi90 = p90["lower"].iloc[j], p90["upper"].iloc[j]
        lo95, hi95 = p95["lower"].iloc[j], p95["upper"].iloc[j]
        rows.append({
            "catalogue": case.name, "window": label, "method": method,
            "n learned": fit.data.summary["n"], "M>=": m,
            "median": int(p90["median"].iloc[j]), "90 %": f"[{lo90:.0f}, {hi90:.0f}]",
            "95 %": f"[{lo95:.0f}, {hi95:.0f}]", "observed": obs,
            "P(N<=obs)": float(np.mean(counts[:, j] <= obs)),
            "Mc next day": mc, "q(m, t1)": float(q.iloc[0, j]),
            "complete": "yes" if complete else "no",
            "inside 90 %": ("yes" if lo90 <= obs <= hi90 else "NO") if complete else "—",
            "inside 95 %": ("yes" if lo95 <= obs <= hi95 else "NO") if complete else "—",
        })
    return rows


def parameter_row(case: Case, label: str, method: str, fit: Any, seconds: float
                  ) -> dict[str, Any]:
    """Posterior mean ± sd of K, c, p, b, sigma; Pareto k of a Laplace fit; wall time."""
    s = fit.summary()
    row: dict[str, Any] = {"catalogue": case.name, "window": label, "method": method,
                           "n learned": fit.data.summary["n"]}
    for k in SUMMARY_PARAMS:
        mean, sd = s.loc[k, "mean"], s.loc[k, "sd"]
        row[k] = (f"{mean:.2g} ± {sd:.1g}" if k in ("K", "c")  # span decades
                  else f"{mean:.2f} ± {sd:.2f}")
    checks = fit.diagnose().to_frame()
    row["Pareto k"] = (f"{checks.loc['pareto_k', 'value']:.2f}"
                       if "pareto_k" in checks.index else "")
    failed = checks.index[~checks["passed"].astype(bool)].tolist()
    row["failed checks"] = ", ".join(failed) or "none"
    row["fit s"] = round(seconds, 1)
    return row


def run(methods: tuple[str, ...] = ("laplace",), windows: dict[str, float] = WINDOWS,
        data: Path = DATA, seed: int = 1, only: tuple[str, ...] | None = None
        ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Catalogues (all, or those named in ``only``) x windows x methods: forecast table,
    parameter table, notes."""
    forecasts, params, notes = [], [], []
    for case in catalogues(data):
        if only is not None and case.name not in only:
            continue
        notes += [f"{case.name}: {n}" for n in case.notes]
        for label, window in windows.items():
            for method in methods:
                try:
                    model, fit, seconds = fit_window(case, window, method, seed)
                except Exception as e:  # e.g. NUTS without CmdStan: report it, go on
                    notes.append(f"{case.name} {label} {method}: not run ({type(e).__name__}: "
                                 f"{str(e).splitlines()[0][:120]})")
                    continue
                forecasts += forecast_rows(case, label, window, model, fit, method, seed)
                if method == methods[0]:
                    extra = []
                    n_miss = int(np.sum((case.days > window) & (case.days <= window + 1)
                                        & np.isnan(case.mags)))
                    if n_miss:
                        extra.append(f"{n_miss} events with a missing magnitude in the "
                                     "forecast day (not counted)")
                    tail = foreshock_tail(case, window)
                    if tail is not None:
                        extra.append(f"M6.4 sequence extrapolated undisturbed (p = 1.1): "
                                     f"{tail:.0f} M>=2.5 events in the forecast day")
                    if extra:
                        notes.append(f"{case.name} {label}: " + "; ".join(extra))
                params.append(parameter_row(case, label, method, fit, seconds))
                print(f"  {case.name} {label} {method}: {seconds:.1f} s", flush=True)
    return pd.DataFrame(forecasts), pd.DataFrame(params), notes


def markdown(df: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency)."""
    def cell(x: Any) -> str:
        if isinstance(x, float):
            return f"{x:.2f}" if abs(x) < 100 else f"{x:.0f}"
        return str(x)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines)


def report(forecasts: pd.DataFrame, params: pd.DataFrame, notes: list[str]) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent, check=False).stdout.strip()
    except OSError:
        commit = "?"
    scored = forecasts[forecasts["complete"] == "yes"]
    head = (f"pystats {pystats.__version__}, commit {commit or '?'}, "
            f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC; t_start = {T_START} d after "
            "the main shock; intervals from 4000 simulated counts (seed 1)")
    tally = (f"scored rows (complete): {len(scored)}; inside 90 %: "
             f"{int((scored['inside 90 %'] == 'yes').sum())}, inside 95 %: "
             f"{int((scored['inside 95 %'] == 'yes').sum())}")
    return "\n\n".join([head, markdown(forecasts), tally, markdown(params),
                        "\n".join(f"- {n}" for n in notes)])


def test_aftershock_windows() -> None:
    print("\n" + report(*run()))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="laplace",
                    help="comma-separated fit methods (laplace, nuts, map)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--catalogues", default=None,
                    help="comma-separated subset of miyagi, ridgecrest, ridgecrest_week")
    ap.add_argument("--windows", default=None, help="comma-separated subset of 6 h, 1 d, 3 d")
    args = ap.parse_args()
    wins = (WINDOWS if args.windows is None
            else {k: WINDOWS[k.strip()] for k in args.windows.split(",")})
    only = None if args.catalogues is None else tuple(args.catalogues.split(","))
    print(report(*run(tuple(args.methods.split(",")), wins, seed=args.seed, only=only)))
