"""Registry of the shared test battery (``tests/test_battery.py``).

Like scikit-learn's ``check_estimator``: every model family registered here is run through
``fit`` (each method it supports) / ``summary`` / ``diagnose`` / ``predict`` / ``save`` /
``pystats.load`` / ``report`` / the CLI round trip, and the standard bad inputs (empty data,
NaN, wrong type, unknown option, bad option value, bad seed, bad ``chains``).

A new family gets all of it with one registration at the end of this module::

    register(BatteryCase(name="myfamily", model=lambda: pystats.MyFamily(...),
                         simulate=_simulate_myfamily, cli_model="myfamily", ...))

where ``simulate(seed)`` returns a small simulated data set (a DataFrame, made with the
package's own simulator) and the true parameter values it was simulated from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

import pystats
from pystats.model import Model

__all__ = ["CASES", "BatteryCase", "register"]


def _write_csv(data: pd.DataFrame, path: Path) -> None:
    data.to_csv(path, index=False)  # full precision: times must stay distinct


@dataclass(frozen=True)
class BatteryCase:
    """One model family (with options) and a small simulated data set for the battery.

    Attributes
    ----------
    name : str
        Short id used in test names.
    model : callable
        ``() -> Model``: a fresh model with the options under test.
    simulate : callable
        ``(seed) -> (data, truth)``: a small simulated data set (a DataFrame the family's
        ``fit`` and ``pystats.read_catalog`` accept) and the true parameter values.
    fit_kwargs : mapping
        Data options of ``fit`` (e.g. ``t_start``, ``t_end``).
    predict_kwargs : mapping
        Keyword arguments of ``Fit.predict`` for a cheap prediction.
    predict_columns : tuple of str
        Columns the prediction table must have (its documented columns).
    sampler_kwargs : mapping
        Method -> ``chains``/``draws``/``warmup`` of ``fit``: enough for the ``diagnose``
        thresholds with a margin (R-hat <= 1.01 and 100 effective draws per chain for
        NUTS: 2 x 200 draws failed them for GR and Omori-Utsu with some seeds).
    allowed_warnings : mapping
        Method -> names of ``diagnose`` checks that may fail with severity ``"warning"`` on
        the battery's data set, for documented reasons (e.g. ``pareto_k`` of a Laplace
        approximation to a skewed posterior); every other check must pass.
    fast_methods : tuple of str
        Methods run in the default suite; the others are marked ``slow``.
    cli_model : str
        ``pystats fit --model`` name.
    cli_simulate : tuple of str or None
        ``pystats simulate`` arguments (without ``-o``) that write a catalog; ``None``:
        the CLI round trip writes the simulated data set with ``write_data``.
    cli_fit_args, cli_predict_args : tuple of str
        Extra arguments of ``pystats fit`` and ``pystats predict``.
    write_data : callable
        ``(data, path)``: writes the data set as a file ``pystats fit`` reads.
    bad_option : (str, object)
        An option name and a value of the right type that is not allowed.
    se_tolerance : float
        Recovery: ``|estimate - truth| <= se_tolerance * se``.
    """

    name: str
    model: Callable[[], Model]
    simulate: Callable[[int], tuple[pd.DataFrame, dict[str, float]]]
    cli_model: str
    bad_option: tuple[str, Any]
    fit_kwargs: Mapping[str, Any] = field(default_factory=dict)
    predict_kwargs: Mapping[str, Any] = field(default_factory=dict)
    predict_columns: tuple[str, ...] = ()
    sampler_kwargs: Mapping[str, Mapping[str, int]] = field(
        default_factory=lambda: {"laplace": {"chains": 2, "draws": 200},
                                 "nuts": {"chains": 2, "draws": 1000, "warmup": 500}}
    )
    allowed_warnings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fast_methods: tuple[str, ...] = ("mle",)
    cli_simulate: tuple[str, ...] | None = None
    cli_fit_args: tuple[str, ...] = ()
    cli_predict_args: tuple[str, ...] = ()
    write_data: Callable[[pd.DataFrame, Path], None] = _write_csv
    se_tolerance: float = 4.0

    def __post_init__(self) -> None:
        for name in ("fit_kwargs", "predict_kwargs", "sampler_kwargs", "allowed_warnings"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


CASES: dict[str, BatteryCase] = {}
"""Registered cases, by name."""


def register(case: BatteryCase) -> BatteryCase:
    """Add ``case`` to the battery (names must be unique)."""
    if case.name in CASES:
        raise ValueError(f"battery case {case.name!r} is registered twice")
    CASES[case.name] = case
    return case


# ------------------------------------------------------------------------ simulators
GR_TRUTH = {"b": 1.1, "rate": 1000 / 365.0}


def _simulate_gr(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """1000 binned GR magnitudes above Mc 2.0, times uniform over one year."""
    from pystats.gr.distributions import simulate_gr

    rng = np.random.default_rng(seed)
    m = simulate_gr(1000, GR_TRUTH["b"], 2.0, delta_m=0.1, rng=rng)
    t = np.sort(rng.uniform(0.0, 365.0, size=len(m)))
    return pd.DataFrame({"time": t, "magnitude": m}), dict(GR_TRUTH)


DETECTION_TRUTH = {"b": 1.0, "mu": 1.5, "sigma": 0.3}


def _simulate_detection(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """1500 binned magnitudes of a GR law thinned by a normal-CDF detection probability."""
    from pystats.gr.distributions import simulate_detection

    rng = np.random.default_rng(seed)
    t = DETECTION_TRUTH
    m = simulate_detection(1500, t["b"], t["mu"], t["sigma"], delta_m=0.1, rng=rng)
    times = np.sort(rng.uniform(0.0, 365.0, size=len(m)))
    return pd.DataFrame({"time": times, "magnitude": m}), dict(DETECTION_TRUTH)


ETAS_TRUTH = {"mu": 0.4, "K": 0.02, "c": 0.01, "alpha": 1.5, "p": 1.2}
ETAS_T_END = 300.0


def _simulate_etas(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """A temporal ETAS catalog, M >= 3, over 300 days (a few hundred events)."""
    t = ETAS_TRUTH
    sim = pystats.simulate_etas(t["mu"], t["K"], t["c"], t["alpha"], t["p"], m_ref=3.0,
                                t_end=ETAS_T_END, mc=3.0, b=1.0, rng=seed)
    return sim.to_frame()[["time", "magnitude"]], dict(ETAS_TRUTH)


OMORI_TRUTH = {"K": 50.0, "c": 0.05, "p": 1.1}


def _simulate_omori(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """An Omori-Utsu aftershock sequence over 30 days after the main shock (M 3.0 each)."""
    from pystats.etas.simulate import simulate_omori

    t = OMORI_TRUTH
    times = simulate_omori(t["K"], t["c"], t["p"], 0.0, 30.0, rng=seed)
    return pd.DataFrame({"time": times, "magnitude": 3.0}), dict(OMORI_TRUTH)


ETAS_SAMPLER = {"laplace": {"chains": 2, "draws": 200},
                "nuts": {"chains": 2, "draws": 1000, "warmup": 300}}
"""ETAS: 2 x 500 draws gave R-hat 1.007, 1.011, ... for seeds 1, 2 (c, K mix slowly)."""
POINT_PROCESS_WARNINGS = {"laplace": ("pareto_k",)}
"""Pareto k > 0.7 in ~1/4 of Laplace fits of a few hundred events (models/etas.md, 7)."""

# ------------------------------------------------------------------------ registrations
register(BatteryCase(
    name="gr",
    model=lambda: pystats.GutenbergRichter(mc=2.0),
    simulate=_simulate_gr,
    cli_model="gr",
    bad_option=("estimator", "bogus"),
    predict_kwargs={"magnitudes": [3.0, 4.0], "duration": 30.0},
    predict_columns=("magnitude", "p_exceed", "expected", "p_at_least_one"),
    cli_simulate=("gr", "-n", "1000", "--b", "1.1", "--mc", "2.0", "--seed", "5"),
    cli_fit_args=("--mc", "2.0"),
    cli_predict_args=("--magnitudes", "3", "4", "--duration", "30"),
))

register(BatteryCase(
    name="gr_detection",
    model=lambda: pystats.GutenbergRichter(kind="detection"),
    simulate=_simulate_detection,
    cli_model="gr",
    bad_option=("detection_probability", 1.5),
    # Pareto k of the Laplace fit on this data set: 0.77, 0.39, 0.54 for seeds 1, 2, 3
    # (0.70, 0.27, 0.53 with 1000 draws): noisy around the 0.7 threshold
    allowed_warnings={"laplace": ("pareto_k",)},
    predict_kwargs={"magnitudes": [3.0, 4.0], "n_events": 100},
    predict_columns=("magnitude", "p_exceed", "expected", "p_at_least_one"),
    cli_simulate=("detection", "-n", "1500", "--b", "1.0", "--mu", "1.5", "--sigma", "0.3",
                  "--seed", "5"),
    cli_fit_args=("--kind", "detection"),
    cli_predict_args=("--magnitudes", "3", "4", "--n-events", "100"),
))

register(BatteryCase(
    name="etas",
    model=lambda: pystats.ETAS(mc=3.0),
    simulate=_simulate_etas,
    cli_model="etas",
    bad_option=("likelihood", "bogus"),
    fit_kwargs={"t_start": 0.0, "t_end": ETAS_T_END},
    predict_kwargs={"t2": ETAS_T_END + 5.0, "magnitudes": [3.0, 4.0], "n_sims": 50, "seed": 1},
    predict_columns=("magnitude", "mean"),
    sampler_kwargs=ETAS_SAMPLER,
    allowed_warnings=POINT_PROCESS_WARNINGS,
    cli_simulate=("etas", "--t-end", str(ETAS_T_END), "--seed", "3"),
    cli_fit_args=("--mc", "3.0", "--t-start", "0", "--t-end", str(ETAS_T_END)),
    cli_predict_args=("--t2", str(ETAS_T_END + 5.0), "--n-sims", "50", "--seed", "1"),
))

register(BatteryCase(
    name="omori",
    model=lambda: pystats.OmoriUtsu(),
    simulate=_simulate_omori,
    cli_model="omori",
    bad_option=("main_shock_time", [1.0, 2.0]),
    fit_kwargs={"t_start": 0.0, "t_end": 30.0},
    predict_kwargs={"t2": 31.0, "n_sims": 200, "seed": 1},
    predict_columns=("magnitude", "mean"),
    allowed_warnings=POINT_PROCESS_WARNINGS,
    cli_fit_args=("--t-start", "0", "--t-end", "30"),
    cli_predict_args=("--t2", "31", "--n-sims", "200", "--seed", "1"),
))


MORB_ELEMENTS = ("Th", "Nb", "La", "Ce", "Nd", "Sm", "Zr", "Eu", "Gd", "Dy", "Y", "Er", "Yb",
                 "Lu")


def _simulate_morb(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """12 melts of DMM (aggregated fractional, F in [0.04, 0.16]), 14 elements, 5 % scatter."""
    from pystats.morb.simulate import simulate_morb

    data, truth = simulate_morb(12, MORB_ELEMENTS, sigma=0.05, rng=seed)
    el = list(MORB_ELEMENTS)
    out = {f"C0[{e}]": float(truth["C0"][el.index(e)]) for e in ("La", "Sm", "Yb")}
    out.update({f"F[{s}]": float(f) for s, f in zip(data["sample"][:3], truth["F"][:3],
                                                      strict=True)})
    return data, out


register(BatteryCase(
    name="morb",
    model=lambda: pystats.MORBMelting(),
    simulate=_simulate_morb,
    cli_model="morb",
    bad_option=("missing", "bogus"),
    fast_methods=("map",),
    predict_kwargs={"F": [0.05, 0.1]},
    predict_columns=("F", "element", "mean", "median", "lower", "upper"),
    sampler_kwargs={"laplace": {"chains": 2, "draws": 200},
                    "nuts": {"chains": 2, "draws": 1000, "warmup": 500}},
    cli_predict_args=("--F", "0.05", "--F", "0.1"),
))
