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

import tempfile
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
    long_methods : tuple of str
        Methods too long for CI on this case: marked ``long`` (run by hand, ``-m long``).
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
    long_methods: tuple[str, ...] = ()

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


MAGLAW_TRUTH = {"b": 1.0, "corner_magnitude": 3.5}


def _simulate_maglaw(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """1500 binned magnitudes of Kagan's tapered GR law above Mc 2.0 (MagnitudeLaw)."""
    from pystats.maglaw.laws import simulate

    rng = np.random.default_rng(seed)
    m = simulate(1500, "tapered_gr", 1.95, MAGLAW_TRUTH, rng=rng, delta_m=0.1)
    times = np.sort(rng.uniform(0.0, 365.0, size=len(m)))
    return pd.DataFrame({"time": times, "magnitude": m}), dict(MAGLAW_TRUTH)


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


# ------------------------------------------------------------------------ isocon
def _isocon_suite(seed: int):
    from pystats.compositional.simulate import simulate_isocon

    return simulate_isocon(n_samples=8, n_elements=10, n_mobile=3, seed=seed)


ISOCON_PROTOLITH = _isocon_suite(1).protolith
"""The protolith of the battery's isocon suite (the battery simulates with seed 1)."""
_ISOCON_DIR = Path(tempfile.mkdtemp(prefix="pystats-battery-isocon-"))
ISOCON_PROTOLITH_CSV = _ISOCON_DIR / "protolith.csv"
ISOCON_PROTOLITH.to_csv(ISOCON_PROTOLITH_CSV, index=False)


def _simulate_isocon(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """8 altered samples of 10 elements, 3 mobile (ISOCON_PROTOLITH is seed 1's parent)."""
    sim = _isocon_suite(seed)
    mobile = sim.elements[int(sim.mobile[0])]
    truth = {f"mass_ratio[{s}]": float(sim.mass_ratio[i])
             for i, s in enumerate(sim.altered.index[:3])}
    truth[f"tau[s00,{mobile}]"] = float(sim.tau[0, sim.mobile[0]])
    return sim.altered, truth


def _write_isocon(data: pd.DataFrame, path: Path) -> None:
    data.to_csv(path, index_label="sample")


register(BatteryCase(
    name="grant_isocon",
    model=lambda: pystats.GrantIsocon(immobile=["E00", "E01"]),
    simulate=_simulate_isocon,
    cli_model="grant",
    bad_option=("analytical_error", -1.0),
    fit_kwargs={"protolith": ISOCON_PROTOLITH},
    predict_kwargs={"prob": 0.8},
    predict_columns=("sample", "element", "mass_ratio", "tau", "tau_lower", "tau_upper"),
    cli_fit_args=("--immobile", "E00,E01", "--protolith", str(ISOCON_PROTOLITH_CSV)),
    write_data=_write_isocon,
))

register(BatteryCase(
    name="sparse_isocon",
    model=lambda: pystats.SparseIsocon(),
    simulate=_simulate_isocon,
    cli_model="isocon",
    bad_option=("prior", "cauchy"),
    fit_kwargs={"protolith": ISOCON_PROTOLITH},
    predict_kwargs={"prob": 0.8},
    predict_columns=("sample", "element", "mass_ratio", "tau", "tau_lower", "tau_upper"),
    fast_methods=("map",),
    # With the collapsed horseshoe program (only the J + 3 scales sampled) the Laplace
    # approximation is adequate on this suite (Pareto k 0.59 at the defaults with seed 1; it
    # was ~160 with the transfers sampled), and NUTS on 50 x 30 stays at tree depth <= 6;
    # the allowances stay for other seeds (k is near the 0.7 threshold; see
    # models/sparse_isocon.md).
    allowed_warnings={"laplace": ("pareto_k", "isocon_identifiability"),
                      "nuts": ("tree_depth", "ess_bulk")},
    sampler_kwargs={"laplace": {"chains": 2, "draws": 200},
                    "nuts": {"chains": 4, "draws": 1000, "warmup": 1000,
                             "adapt_delta": 0.95}},
    cli_fit_args=("--method", "map", "--protolith", str(ISOCON_PROTOLITH_CSV)),
    write_data=_write_isocon,
))


EOS_TRUTH = {"V0": 7.94, "K0": 82.1, "K0p": 5.8}


def _simulate_eos(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Liquid-iron observations of every kind from the Kuwayama (2020) EOS: 8 one-bar
    densities, 24 static points with density and sound speed (16-116 GPa, 2200-4300 K),
    8 Hugoniot points and 3 shock sound speeds (truth: ``EOS_TRUTH``, Kuwayama's thermal
    parameters).  The static rows are in the middle, where the NaN check edits a row."""
    from pystats.eos.data import simulate_observations, simulate_static
    from pystats.eos.forward import EOSParameters

    p = EOSParameters.kuwayama2020()
    P = np.linspace(16.0, 116.0, 24)
    static = simulate_static(p, P, 2200.0 + 18.0 * P, vp=True, dataset="static", seed=seed)
    rest = simulate_observations(p, one_bar_T=np.linspace(1850.0, 2500.0, 8),
                                 shock_rho=np.linspace(12.4, 13.7, 8),
                                 sound_rho=np.array([12.44, 12.48, 12.91]), seed=seed + 1)
    one_bar = rest[rest["kind"] == "density_1bar"]
    data = pd.concat([one_bar, static, rest[rest["kind"] != "density_1bar"]],
                     ignore_index=True)
    return data, dict(EOS_TRUTH)


register(BatteryCase(
    name="iron_eos",
    # NUTS not yet run to completion on this case: run by hand, -m long
    long_methods=("nuts",),
    # the Laplace approximation of the latent states is mildly off (Pareto k 0.76)
    allowed_warnings={"laplace": ("pareto_k",)},
    model=lambda: pystats.LiquidIronEOS(pressure_scale=True),
    simulate=_simulate_eos,
    cli_model="iron-eos",
    bad_option=("isotherm", "bm4"),
    fast_methods=("map",),
    predict_kwargs={"P": [135.751, 328.85], "T": [4000.0, 5500.0]},
    predict_columns=("P_GPa", "T_K", "rho", "rho_lower", "rho_upper", "K_S", "V_P"),
    cli_fit_args=("--method", "map", "--pressure-scale"),
    cli_predict_args=("--P", "135.751", "--T", "4000"),
))


register(BatteryCase(
    name="maglaw",
    model=lambda: pystats.MagnitudeLaw(law="tapered_gr", mc=2.0),
    simulate=_simulate_maglaw,
    cli_model="maglaw",
    bad_option=("law", "bogus"),
    predict_kwargs={"magnitudes": [3.0, 4.0], "n_events": 100},
    predict_columns=("magnitude", "p_exceed", "expected", "p_at_least_one"),
    cli_simulate=("maglaw", "-n", "1500", "--law", "tapered_gr", "--b", "1.0",
                  "--corner-magnitude", "3.5", "--mc", "2.0", "--seed", "5"),
    cli_fit_args=("--law", "tapered_gr", "--mc", "2.0"),
    cli_predict_args=("--magnitudes", "3", "4", "--n-events", "100"),
))


# ------------------------------------------------------------------------ aftershock detection
AFTERSHOCK_TRUTH = {"K": 0.2, "c": 0.01, "p": 1.1, "beta": 2.3, "sigma": 0.3}
AFTERSHOCK_M0 = 6.0


def _simulate_aftershock(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """One day of a detected aftershock sequence (main shock M6.0; μ(t) = 2.2 − 0.3 ln t)."""
    from pystats.aftershock import simulate_detected

    cat = simulate_detected(*AFTERSHOCK_TRUTH.values(), lambda t: 2.2 - 0.3 * np.log(t),
                            M0=AFTERSHOCK_M0, t_start=0.01, t_end=1.0, seed=seed)
    return cat[["time", "magnitude"]].reset_index(drop=True), dict(AFTERSHOCK_TRUTH)


register(BatteryCase(
    name="aftershock",
    # NUTS: reparameterised (log_rate, mu_bar, mu_slope_bar; models/aftershock_detection.md
    # §2) but not yet re-run as a battery case (a 2 x 1500-iteration fit here); -m long
    long_methods=("nuts",),
    model=lambda: pystats.AftershockDetection(mainshock_magnitude=AFTERSHOCK_M0, n_inducing=12),
    simulate=_simulate_aftershock,
    cli_model="aftershock",
    bad_option=("mu_prior", "rw3"),
    fast_methods=("laplace",),
    # The Laplace approximation of the latent GP is poor (Pareto k ~2-8 on one day; the
    # card says so and advises NUTS): a documented warning, not a failure of the battery.
    allowed_warnings={"laplace": ("pareto_k",), "nuts": ("ess_bulk", "ess_tail")},
    fit_kwargs={"t_start": 0.01, "t_end": 1.0},
    predict_kwargs={"t1": 1.0, "t2": 2.0, "magnitudes": [3.0, 4.0]},
    predict_columns=("magnitude", "mean", "lower", "upper"),
    cli_fit_args=("--method", "laplace", "--mainshock-magnitude", str(AFTERSHOCK_M0),
                  "--n-inducing", "12",
                  "--t-start", "0.01", "--t-end", "1.0"),
    cli_predict_args=("--t1", "1.0", "--t2", "2.0", "--seed", "1"),
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
    # Laplace of the per-sample F along the (C0, F) ridge: Pareto k ~1 (the card says so)
    allowed_warnings={"laplace": ("pareto_k",)},
    cli_predict_args=("--F", "0.05", "--F", "0.1"),
))


# ------------------------------------------------------------------------ time-varying b
BTIME_STEP = {"b1": 1.2, "b2": 0.8}
BTIME_RAMP = {"b_start": 1.3, "b_end": 0.7}


def _simulate_btime_step(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """1500 binned GR magnitudes above Mc 2.0 over 1000 days, b 1.2 -> 0.8 at day 500."""
    from pystats.btime.simulate import b_step, simulate_b_of_t

    t, m = simulate_b_of_t(1500, lambda t: b_step(t, 1.2, 0.8, 500.0), 2.0, 0.1, 1000.0,
                           rng=seed)
    return pd.DataFrame({"time": t, "magnitude": m}), dict(BTIME_STEP)


def _simulate_btime_ramp(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """1000 binned GR magnitudes above Mc 2.0 over 1000 days, b ramping 1.3 -> 0.7; the
    truth is b at the first and last event (the GP's derived ``b_start``, ``b_end``)."""
    from pystats.btime.simulate import b_ramp, simulate_b_of_t

    t, m = simulate_b_of_t(1000, lambda t: b_ramp(t, 1.3, 0.7, 0.0, 1000.0), 2.0, 0.1,
                           1000.0, rng=seed)
    truth = {"b_start": float(b_ramp(t[0], 1.3, 0.7, 0.0, 1000.0)),
             "b_end": float(b_ramp(t[-1], 1.3, 0.7, 0.0, 1000.0))}
    return pd.DataFrame({"time": t, "magnitude": m}), truth


register(BatteryCase(
    name="btime_changepoint",
    model=lambda: pystats.TimeVaryingB(kind="changepoint", mc=2.0),
    simulate=_simulate_btime_step,
    cli_model="btime",
    bad_option=("kind", "spline"),
    fast_methods=("map",),
    predict_kwargs={"magnitudes": [3.0, 4.0], "n_events": 100},
    predict_columns=("time", "magnitude", "b", "b_lower", "b_upper", "p_exceed", "expected",
                     "p_at_least_one"),
    cli_simulate=("btime", "-n", "1500", "--b1", "1.2", "--b2", "0.8", "--shape", "step",
                  "--seed", "5"),
    cli_fit_args=("--kind", "changepoint", "--mc", "2.0"),
    cli_predict_args=("--magnitudes", "3", "4", "--time", "100", "--time", "900"),
))

register(BatteryCase(
    name="btime_gp",
    model=lambda: pystats.TimeVaryingB(kind="gp", mc=2.0, n_basis=8),
    simulate=_simulate_btime_ramp,
    cli_model="btime",
    bad_option=("n_basis", 2),
    fast_methods=("map",),
    # one optimizer start: further starts wander along the flat (alpha, ell) directions
    # of the GP hyperparameters for ~10 s and end at the same mode
    # adapt_delta 0.99: at the family's default 0.95, 2 of these 2 000 draws diverged
    # (a GP's funnel between its amplitude and the basis weights)
    sampler_kwargs={"map": {"n_starts": 1}, "laplace": {"chains": 2, "draws": 200},
                    "nuts": {"chains": 2, "draws": 1000, "warmup": 1000,
                             "adapt_delta": 0.99}},
    # the Laplace approximation of the GP hyperparameters is poor (Pareto k ~1)
    allowed_warnings={"laplace": ("pareto_k",)},
    predict_kwargs={"magnitudes": [3.0, 4.0], "n_events": 100},
    predict_columns=("time", "magnitude", "b", "b_lower", "b_upper", "p_exceed", "expected",
                     "p_at_least_one"),
    cli_fit_args=("--kind", "gp", "--mc", "2.0", "--n-basis", "8"),
    cli_predict_args=("--magnitudes", "3", "4", "--time", "100"),
))
