"""The tidy observation table of the liquid-iron EOS family, its checks, a simulator and
the assembly of the public data sets in ``../shared/data/eos/``.

One row per observation, columns (units in the names' suffixes):

=============  ==========================================================================
``kind``       ``density`` (P–V–T point), ``sound_speed`` (V_P at P and T; on the
               Hugoniot when ``T_K`` is empty), ``hugoniot`` (shock P and ρ; T follows
               from the energy balance), ``density_1bar`` (ρ at 1 bar and T)
``dataset``    name of the data set (a pressure scale may be fitted per static data set)
``P_GPa``      pressure and its standard deviation ``P_sd`` (not for ``density_1bar``)
``T_K``        temperature and ``T_sd`` (static points and ``density_1bar``; empty for
               shock points)
``rho_g_cm3``  density and ``rho_sd`` (required for ``density``, ``hugoniot`` and
               ``density_1bar``; optional for ``sound_speed``)
``vp_km_s``    P-wave (bulk) sound speed and ``vp_sd`` (``sound_speed`` only; optional
               beside a density)
=============  ==========================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from . import forward as fw

__all__ = ["COLUMNS", "KINDS", "assemble_reference_data", "read_eos_table", "simulate_observations",
           "simulate_static"]

KINDS = ("density", "sound_speed", "hugoniot", "density_1bar")
"""Allowed values of the ``kind`` column."""
COLUMNS = ("kind", "dataset", "P_GPa", "P_sd", "T_K", "T_sd", "rho_g_cm3", "rho_sd",
           "vp_km_s", "vp_sd")
"""Columns of the table (``kind`` and ``dataset`` required; the others as needed)."""
_NUMERIC = COLUMNS[2:]
_REQUIRED = {
    "density": ("P_GPa", "P_sd", "T_K", "T_sd", "rho_g_cm3", "rho_sd"),
    "sound_speed": ("P_GPa", "P_sd", "vp_km_s", "vp_sd"),
    "hugoniot": ("P_GPa", "P_sd", "rho_g_cm3", "rho_sd"),
    "density_1bar": ("T_K", "rho_g_cm3", "rho_sd"),
}
_FORBIDDEN = {"hugoniot": ("T_K", "vp_km_s"), "density_1bar": ("P_GPa", "vp_km_s"),
              "density": ()}


def read_eos_table(data: Any) -> Any:
    """The observation table as a new, checked :class:`pandas.DataFrame`.

    Parameters
    ----------
    data : DataFrame, mapping of columns, or path of a CSV file (``#`` comments allowed)

    Returns
    -------
    pandas.DataFrame
        With every column of :data:`COLUMNS` (absent numeric columns as NaN), ``T_sd``
        of ``density_1bar`` rows 0 when empty.

    Raises
    ------
    DataError
        No rows; a missing ``kind``/``dataset`` column; an unknown kind; a value missing
        that the row's kind needs, present that it cannot use, non-numeric, or not
        positive where it must be (standard deviations, T, ρ, V_P) — each naming the
        column, the row and the value.
    """
    import pandas as pd

    if isinstance(data, str | Path):
        path = Path(data)
        if not path.is_file():
            raise DataError(f"EOS data {str(path)!r} (a str or path) is not a file; pass the "
                            "path of a CSV file or a DataFrame")
        df = pd.read_csv(path, comment="#", skipinitialspace=True)
    elif isinstance(data, pd.DataFrame):
        df = data.copy()
    elif isinstance(data, dict):
        df = pd.DataFrame(data)
    else:
        raise DataError(
            f"EOS data of type {type(data).__name__} is not allowed; use a pandas DataFrame, "
            "a dict of columns or the path of a CSV file with columns " + ", ".join(COLUMNS)
        )
    if len(df) == 0:
        raise DataError("the EOS data table is empty (no rows); it needs at least one "
                        "observation")
    for col in ("kind", "dataset"):
        if col not in df.columns:
            raise DataError(
                f"the EOS data table has no {col!r} column; its columns are "
                f"{', '.join(map(str, df.columns))}; required: kind, dataset, and "
                + ", ".join(_NUMERIC) + " as the kinds need"
            )
    unknown = sorted(set(df.columns) - set(COLUMNS))
    if unknown:
        raise DataError(f"unknown column(s) {', '.join(map(repr, unknown))} in the EOS data "
                        f"table; allowed columns are {', '.join(COLUMNS)}")
    for col in _NUMERIC:
        if col not in df.columns:
            df[col] = np.nan
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"column {col!r} row {i} holds {df[col].iloc[i]!r}, not a number")
        if np.isinf(values).any():
            i = int(np.flatnonzero(np.isinf(values.to_numpy()))[0])
            raise DataError(f"column {col!r} row {i} is {values.iloc[i]}; use a finite number "
                            "or leave it empty")
        df[col] = values.astype(float)
    df["kind"] = df["kind"].astype(str).str.strip()
    df["dataset"] = df["dataset"].astype(str).str.strip()
    bad_kind = ~df["kind"].isin(KINDS)
    if bad_kind.any():
        i = int(np.flatnonzero(bad_kind.to_numpy())[0])
        raise DataError(f"column 'kind' row {i} is {df['kind'].iloc[i]!r}; allowed kinds are "
                        + ", ".join(KINDS))
    for i, row in enumerate(df.itertuples(index=False)):
        kind = row.kind
        for col in _REQUIRED[kind]:
            if np.isnan(getattr(row, col)):
                raise DataError(f"row {i} (kind {kind!r}) has no {col!r}; a {kind} row needs "
                                + ", ".join(_REQUIRED[kind]))
        for col in _FORBIDDEN.get(kind, ()):
            if not np.isnan(getattr(row, col)):
                raise DataError(
                    f"row {i} (kind {kind!r}) has {col}={getattr(row, col)!r}, which a {kind} "
                    "row cannot use; leave it empty"
                    + (" (a shock state's temperature follows from the Hugoniot energy "
                       "balance)" if kind == "hugoniot" else "")
                )
        pairs = (("rho_g_cm3", "rho_sd"), ("vp_km_s", "vp_sd"), ("T_K", "T_sd"),
                 ("P_GPa", "P_sd"))
        for value_col, sd_col in pairs:
            if not np.isnan(getattr(row, value_col)) and np.isnan(getattr(row, sd_col)) \
                    and not (kind == "density_1bar" and sd_col == "T_sd"):
                raise DataError(f"row {i} has {value_col} but no {sd_col}; give its standard "
                                "deviation")
            if np.isnan(getattr(row, value_col)) and not np.isnan(getattr(row, sd_col)):
                raise DataError(f"row {i} has {sd_col} but no {value_col}; give the value or "
                                "leave both empty")
        if kind == "sound_speed" and not np.isnan(row.T_K) and np.isnan(row.T_sd):
            raise DataError(f"row {i} has T_K but no T_sd; give its standard deviation")
        for col in ("P_sd", "T_sd", "rho_sd", "vp_sd", "T_K", "rho_g_cm3", "vp_km_s"):
            value = getattr(row, col)
            if not np.isnan(value) and not value > 0 and not (col == "T_sd" and value == 0
                                                              and kind == "density_1bar"):
                raise DataError(f"column {col!r} row {i} is {value!r}; it must be > 0")
    df.loc[(df["kind"] == "density_1bar") & df["T_sd"].isna(), "T_sd"] = 0.0
    return df[list(COLUMNS)].reset_index(drop=True)


class _Normal:
    """Standard normal draws from ``numpy.random.default_rng(seed)``, or zeros (the same
    stream of seeds either way) when ``noise`` is false."""

    def __init__(self, seed: int | None, noise: bool) -> None:
        self._rng = np.random.default_rng(seed)
        self._noise = bool(noise)

    def standard_normal(self, n: int) -> np.ndarray:
        z = self._rng.standard_normal(n)
        return z if self._noise else np.zeros_like(z)

    def integers(self, high: int) -> int:
        return int(self._rng.integers(high))


def simulate_static(params: fw.EOSParameters, pressure: Any, temperature: Any, *,
                    rel_sd_rho: float = 0.005, rel_sd_p: float = 0.01, sd_t: float = 100.0,
                    dataset: str = "simulated", seed: int | None = None,
                    vp: bool = False, rel_sd_vp: float = 0.01, noise: bool = True) -> Any:
    """Simulated P–V–T (and optionally V_P) observations at true ``pressure``/``temperature``.

    True states are ``(P, T)``; observed are ``P (1 + rel_sd_p Z)``, ``T + sd_t Z`` and
    ``ρ (1 + rel_sd_rho Z)`` (and ``V_P (1 + rel_sd_vp Z)`` with ``vp=True``), with the
    standard deviations recorded at their true scale.  With ``noise=False`` the observed
    values are the true ones (the expected data set).  Returns the tidy table.
    """
    import pandas as pd

    rng = _Normal(seed, noise)
    P = np.asarray(pressure, dtype=float)
    T = np.asarray(temperature, dtype=float)
    s = fw.state(fw.volume(P, T, params), T, params)
    n = P.size
    out = pd.DataFrame({
        "kind": "sound_speed" if vp else "density", "dataset": dataset,
        "P_GPa": P * (1 + rel_sd_p * rng.standard_normal(n)), "P_sd": rel_sd_p * P,
        "T_K": T + sd_t * rng.standard_normal(n), "T_sd": np.full(n, sd_t),
        "rho_g_cm3": s["rho"] * (1 + rel_sd_rho * rng.standard_normal(n)),
        "rho_sd": rel_sd_rho * s["rho"],
        "vp_km_s": np.nan, "vp_sd": np.nan,
    })
    if vp:
        out["vp_km_s"] = s["V_P"] * (1 + rel_sd_vp * rng.standard_normal(n))
        out["vp_sd"] = rel_sd_vp * s["V_P"]
    return out


def assemble_reference_data(folder: str | Path, *, static: Any = None,
                            p_min_shock: float = 240.0, p_max_shock: float = 500.0,
                            rel_sd_1bar: float = 0.01, rel_sd_shock_p: float = 0.02,
                            rel_sd_shock_rho: float = 0.01, sd_vp_shock: float = 0.2) -> Any:
    """The tidy table of the public measurements in ``folder`` (``../shared/data/eos``).

    * ``assael2006``: 1-bar liquid densities (Assael et al. 2006), 1 % standard deviation
      (their stated uncertainty is of this order);
    * ``hugoniot_<ref>``: shock Hugoniot points of iron in the liquid range
      ``p_min_shock < P < p_max_shock`` GPa, one data set per source reference number
      (27 = Brown, Fritz & Hixson 2000), 2 % on P and 1 % on ρ (not in the file; typical
      of these experiments);
    * ``shock_sound_speed``: sound speeds behind the shock above ``p_min_shock`` (Brown &
      McQueen 1986; Al'tshuler et al. 1960), 0.2 km/s;
    * ``static``: an optional table of static points (e.g. :func:`simulate_static` at the
      Kuwayama run conditions, as the measured densities are not public).
    """
    import pandas as pd

    folder = Path(folder)
    a = pd.read_csv(folder / "assael2006_1bar_liquid_fe_density.csv", skipinitialspace=True)
    a.columns = [c.strip() for c in a.columns]
    rho = a["rho"].to_numpy(float) / 1000
    one_bar = pd.DataFrame({"kind": "density_1bar", "dataset": "assael2006",
                            "T_K": a["T"].to_numpy(float), "T_sd": 0.0, "rho_g_cm3": rho,
                            "rho_sd": rel_sd_1bar * rho})
    h = pd.read_csv(folder / "iron_hugoniot_above_200GPa.csv", comment="#")
    h = h[(h["m"] == 1.0) & (h["P_GPa"] > p_min_shock) & (h["P_GPa"] < p_max_shock)]
    hug = pd.DataFrame({"kind": "hugoniot",
                        "dataset": [f"hugoniot_ref{int(r)}" for r in h["ref"]],
                        "P_GPa": h["P_GPa"].to_numpy(float),
                        "P_sd": rel_sd_shock_p * h["P_GPa"].to_numpy(float),
                        "rho_g_cm3": h["rho_g_cm3"].to_numpy(float),
                        "rho_sd": rel_sd_shock_rho * h["rho_g_cm3"].to_numpy(float)})
    rows = []
    with open(folder / "iron_shock_sound_speed.txt") as fh:
        lines = fh.read().split("References:")[0].splitlines()
    for line in lines:
        parts = line.split()
        if len(parts) == 9:  # m U D Cs P R/R0 R E-E0 Ref (no remark in this table)
            try:
                m, _, _, cs, p, _, r, _, _ = (float(x) for x in parts)
            except ValueError:
                continue
            if m == 1.0 and p > p_min_shock:
                rows.append({"kind": "sound_speed", "dataset": "shock_sound_speed",
                             "P_GPa": p, "P_sd": rel_sd_shock_p * p, "rho_g_cm3": r,
                             "rho_sd": rel_sd_shock_rho * r, "vp_km_s": cs,
                             "vp_sd": sd_vp_shock})
    parts = [one_bar, hug, pd.DataFrame(rows)]
    if static is not None:
        parts.append(read_eos_table(static))
    return read_eos_table(pd.concat(parts, ignore_index=True))


def simulate_observations(params: fw.EOSParameters, *, static_P: Any = (), static_T: Any = (),
                          one_bar_T: Any = (), shock_rho: Any = (), sound_rho: Any = (),
                          seed: int | None = None, rel_sd_rho: float = 0.005,
                          rel_sd_p: float = 0.01, sd_t: float = 100.0,
                          rel_sd_1bar: float = 0.005, rel_sd_shock_p: float = 0.02,
                          rel_sd_shock_rho: float = 0.01, sd_vp: float = 0.1,
                          rho_initial: float = fw.RHO_SOLID_298K,
                          energy_reference: float = fw.ENTHALPY_LIQUID_1809K,
                          noise: bool = True) -> Any:
    """A tidy table of every kind simulated from ``params`` at given true conditions.

    Static points at true ``(static_P, static_T)`` (as :func:`simulate_static`), 1-bar
    densities at ``one_bar_T``, Hugoniot points and shock sound speeds at the true shock
    densities ``shock_rho`` / ``sound_rho`` (their pressure from the Hugoniot of
    ``params``).  Standard deviations are relative (``rel_*``) or absolute (``sd_*``) and
    recorded at their true scale.  With ``noise=False`` every observed value is the true
    one (the noise-free data set: where a consistent estimator's target lies).
    """
    import pandas as pd

    rng = _Normal(seed, noise)
    parts = []
    if np.size(static_P):
        parts.append(simulate_static(params, static_P, static_T, rel_sd_rho=rel_sd_rho,
                                     rel_sd_p=rel_sd_p, sd_t=sd_t, dataset="static",
                                     seed=int(rng.integers(2**31)), noise=noise))
    T1 = np.asarray(one_bar_T, dtype=float)
    if T1.size:
        rho = fw.density(1e-4, T1, params)
        parts.append(pd.DataFrame({
            "kind": "density_1bar", "dataset": "one_bar", "T_K": T1, "T_sd": 0.0,
            "rho_g_cm3": rho * (1 + rel_sd_1bar * rng.standard_normal(T1.size)),
            "rho_sd": rel_sd_1bar * rho}))
    for kind, rho_true in (("hugoniot", shock_rho), ("sound_speed", sound_rho)):
        rho_true = np.asarray(rho_true, dtype=float)
        if not rho_true.size:
            continue
        h = fw.hugoniot(fw.MOLAR_MASS_FE / rho_true, params, rho_initial=rho_initial,
                        energy_reference=energy_reference)
        n = rho_true.size
        frame = pd.DataFrame({
            "kind": kind, "dataset": "shock" if kind == "hugoniot" else "shock_vp",
            "P_GPa": h["P"] * (1 + rel_sd_shock_p * rng.standard_normal(n)),
            "P_sd": rel_sd_shock_p * h["P"],
            "rho_g_cm3": rho_true * (1 + rel_sd_shock_rho * rng.standard_normal(n)),
            "rho_sd": rel_sd_shock_rho * rho_true})
        if kind == "sound_speed":
            frame["vp_km_s"] = h["V_P"] + sd_vp * rng.standard_normal(n)
            frame["vp_sd"] = sd_vp
        parts.append(frame)
    return read_eos_table(pd.concat(parts, ignore_index=True))
