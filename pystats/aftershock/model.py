"""``AftershockDetection``: Omori–Utsu × Gutenberg–Richter × time-varying detection.

The model of Omi et al. (2013, 2014) with the detection magnitude ``μ(t)`` given a
Gaussian-process prior over log time (Morikawa et al. 2021) or Omi's second-order random
walk; the maths, priors and their reasons are in ``models/aftershock_detection.md``.

``AftershockDetection(mainshock_magnitude=6.2).fit(cat, method="laplace", t_end=1.0)``
fits the first day of a sequence; ``detection_curve`` gives ``μ(t)`` with its band,
``detection_probability`` the detection probability ``q(M, t)`` and ``fit.predict`` the
forecast counts of the complete catalogue.

References
----------
Omi, T., Ogata, Y., Hirata, Y., & Aihara, K. (2013). Forecasting large aftershocks within
one day after the main shock. *Scientific Reports*, 3, 2218.

Omi, T., Ogata, Y., Hirata, Y., & Aihara, K. (2014). Estimating the ETAS model from an
early aftershock sequence. *Geophysical Research Letters*, 41, 850–857.

Morikawa, K., Nagao, H., Ito, S., Terada, Y., Sakai, S., & Hirata, N. (2021). Forecasting
temporal variation of aftershocks immediately after a main shock using Gaussian process
regression. *Geophysical Journal International*, 226(2), 1018–1035.

Reasenberg, P. A., & Jones, L. M. (1989). Earthquake hazard after a mainshock in
California. *Science*, 243(4895), 1173–1176.
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _checks
from .._warnings import warn as _warn
from ..cli_spec import Argument, CommandLine, fix_argument, forecast_window, number_or_text
from ..constraints import DateTimes, Interval, Mappings, Option, StrOptions
from ..errors import DataError, DataWarning, OptionError
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from .event_sums import EventSums
from .latent import KERNELS, PRIORS, latent_f, mu_values, use_separable
from .likelihood import log_time_quadrature, loglik, panel_count
from .rate import (
    ETAS_BOUNDS,
    ETAS_DESCRIPTIONS,
    ETAS_PRIORS,
    ETAS_SCALARS,
    RATES,
    etas_entries,
    etas_loglik,
    etas_stan_data,
    expected_counts,
    secondary_geometry,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..diagnostics import ModelCheck
    from ..fit import Fit

__all__ = ["DEFAULT_PRIORS", "SCALARS", "AftershockDetection"]

LN10 = math.log(10.0)
SCALARS = ("K", "c", "p", "beta", "sigma", "mu_0", "mu_slope")
"""The model's scalar parameters (reported, fixable, with priors); ``parameters()`` and the
Stan program sample them in this order with ``K``, ``mu_0``, ``mu_slope`` replaced
(:data:`SAMPLED`)."""
SAMPLED = {"K": "log_rate", "mu_0": "mu_bar", "mu_slope": "mu_slope_bar"}
"""Sampled coordinate in place of a model scalar: ``log_rate = log K + beta (M0 − m_ref)``
(log rate of ``M >= m_ref`` events, ``m_ref`` = ``mu_0``'s prior location, the median
magnitude), ``mu_bar`` = the mean of ``μ`` over the events and ``mu_slope_bar`` = the
least-squares slope of ``μ(t_i)`` on ``log t_i`` (model card §2: the ``K``–``beta``,
``mu_0``–GP-level and ``mu_slope``–GP-trend trade-offs)."""
HYPER = {"gp": ("gp_amplitude", "gp_lengthscale"), "rw2": ("rw_scale",)}
"""Latent hyperparameters per ``mu_prior`` (declared in Stan as arrays of size 0 or 1)."""
HYPER_ALL = ("gp_amplitude", "gp_lengthscale", "rw_scale")
MIN_EVENTS = 10
"""Fewer detected events in the window than this raise :class:`DataError`."""
FEW_EVENTS = 100
"""Fewer than this give a :class:`DataWarning`."""
JITTER = 1e-6
"""Relative diagonal jitter of ``K_ZZ`` (times ``α²``)."""
BATCH_ENTRIES = 2_000_000
"""Largest ``draws x points x latent`` block of one batched likelihood call (~16 MB)."""
_LAST_NATURAL = threading.local()
"""Per thread: the last ``(params, natural values)`` of the torch likelihood.  The engines
call the prior with the same ``params`` dict right after the likelihood, which then needs
no second evaluation of the latent function for ``mu_0`` and ``mu_slope`` (matched by
identity of the dict; not stored on the model, which fits leave untouched)."""
LS_TAIL = 0.01
"""Prior mass of ``gp_lengthscale`` below ``2 (s1 − s0)/m`` and above ``2 (s1 − s0)``."""

DEFAULT_PRIORS: dict[str, tuple[str, float, float]] = {
    "K": ("log10-normal", -1.67, 1.0),
    "c": ("lognormal", math.log(0.01), 1.5),
    "p": ("normal", 1.1, 0.3),
    "beta": ("normal", LN10, 0.5 * LN10),
    "sigma": ("lognormal", math.log(0.3), 0.6),
    "mu_0": ("normal", math.nan, 2.0),  # loc: the median observed magnitude (data)
    "mu_slope": ("normal", -0.3, 0.5),
    "gp_amplitude": ("half-normal", 0.0, 0.5),
    "rw_scale": ("half-normal", 0.0, 0.2),
}
"""Prior family, location and scale of each scalar (``gp_lengthscale``: inverse gamma
solved from the window, see :func:`lengthscale_prior`)."""

_MODEL_NAME = {v: k for k, v in SAMPLED.items()}
_BOUNDS = {"K": (0.0, math.inf), "log_rate": (-math.inf, math.inf),
           "mu_bar": (-math.inf, math.inf), "mu_slope_bar": (-math.inf, math.inf),
           "c": (0.0, math.inf), "p": (0.2, 3.0),
           "beta": (0.0, math.inf), "sigma": (0.01, math.inf), "mu_0": (-math.inf, math.inf),
           "mu_slope": (-math.inf, math.inf), "gp_amplitude": (0.0, math.inf),
           "gp_lengthscale": (0.0, math.inf), "rw_scale": (0.0, math.inf)}
_DESCRIPTIONS = {
    "K": "Omori–Utsu rate of M >= M0 aftershocks at t + c = 1 d (per day)",
    "log_rate": "log rate of M >= m_ref aftershocks at t + c = 1 d (m_ref: median magnitude)",
    "mu_bar": "mean 50 %-detection magnitude over the events",
    "mu_slope_bar": "least-squares slope of μ over the events per e-fold of time",
    "c": "Omori–Utsu time offset (days)",
    "p": "Omori–Utsu decay exponent",
    "beta": "Gutenberg–Richter slope b ln 10",
    "sigma": "width of the detection probability (magnitude units)",
    "mu_0": "50 %-detection magnitude at the end of the window (mean part)",
    "mu_slope": "slope of the mean of μ per e-fold of time",
    "gp_amplitude": "GP amplitude of μ (magnitude units)",
    "gp_lengthscale": "GP length-scale of μ (e-folds of time)",
    "rw_scale": "RW2 step scale of μ (magnitude units per node)",
    "z": "whitened latent coefficients of μ",
}

_BOUNDS.update(ETAS_BOUNDS)
_DESCRIPTIONS.update(ETAS_DESCRIPTIONS)
_PRIORS_ALL = {**DEFAULT_PRIORS, **ETAS_PRIORS}
_SCALAR_NAMES = SCALARS
"""Scalar parameters (fixed values broadcast as scalars; the rest are arrays of size 0/1)."""


def lengthscale_prior(s0: float, s1: float, n_inducing: int,
                      tail: float = LS_TAIL) -> tuple[float, float]:
    """Inverse-gamma ``(shape, scale)`` with ``tail`` mass below ``2 (s1 − s0)/m`` and above
    ``2 (s1 − s0)``.

    With ``ℓ ~ InvGamma(a, b)``, ``b/ℓ ~ Gamma(a, 1)``: the ratio of its ``1 − tail`` and
    ``tail`` quantiles must equal ``hi / lo = m``, which fixes ``a`` (root-finding), then
    ``b = lo · q_{1−tail}(a)``.

    Examples
    --------
    >>> from pystats.aftershock.model import lengthscale_prior
    >>> a, b = lengthscale_prior(0.0, 4.0, 24)
    >>> from scipy.stats import invgamma
    >>> [round(float(invgamma.cdf(x, a, scale=b)), 4) for x in (8 / 24, 8.0)]
    [0.01, 0.99]
    """
    from scipy.optimize import brentq
    from scipy.stats import gamma

    lo, hi = 2.0 * (s1 - s0) / n_inducing, 2.0 * (s1 - s0)
    ratio = hi / lo

    def gap(log_a: float) -> float:
        a = math.exp(log_a)
        return math.log(gamma.ppf(1 - tail, a) / gamma.ppf(tail, a)) - math.log(ratio)

    a = math.exp(brentq(gap, math.log(1e-2), math.log(1e4)))
    return a, lo * float(gamma.ppf(1 - tail, a))


# ------------------------------------------------------------------ option validation
def _pair(name: str, value: Any) -> tuple[float, float]:
    allowed = "(loc, scale) of the parameter's prior family: numbers with scale > 0"
    if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
        raise OptionError(f"priors[{name!r}]={value!r} is not allowed; use {allowed}")
    return (_checks.number(f"priors[{name!r}] loc", value[0], allowed),
            _checks.number(f"priors[{name!r}] scale", value[1], allowed, positive=True))


class AftershockDetection(Model):
    """Aftershock rate with a time-varying detection probability (Omi et al. 2013).

    Detected intensity ``ν(t, M) = K (t + c)^(−p) β e^{−β (M − M0)} Φ((M − μ(t))/σ)`` with
    ``μ(s) = mu_0 + mu_slope (s − s1) + f(s)`` over ``s = log t`` and ``f`` an
    inducing-point Gaussian process (``mu_prior="gp"``; Morikawa et al. 2021) or a
    second-order random walk (``"rw2"``; Omi et al. 2013).  Magnitudes need no completeness
    cut-off: the detection model explains the missing small events.

    Parameters
    ----------
    mainshock_magnitude : float
        ``M0``; ``K`` is the rate of aftershocks with ``M >= M0``.
    mainshock_time : float or date-time
        Time of the main shock on the data's time axis (default 0); times become days since it.
    mu_prior : {"gp", "rw2"}
        Prior of ``f``.
    kernel : {"matern52", "matern32", "rbf"}
        GP kernel (GPyTorch's).
    n_inducing : int
        Inducing inputs of the GP (equally spaced over ``[log t_start, log t_end]``).
    n_nodes : int
        RW2 nodes.
    n_panels : int
        Quadrature panels of 8 Gauss–Legendre nodes in log time (rounded up to a multiple
        of the latent intervals, so panel edges include every inducing input or node).
    rate : {"omori", "etas"}
        Complete-catalogue rate: Omori–Utsu ``K (t + c)^(−p)`` (default) or, with
        ``"etas"``, plus secondary triggering by the detected events
        ``Σ_{t_j < t} K_s e^{α (M_j − M0)} (t − t_j + c)^(−p)`` (parameters ``K_s``,
        ``alpha``, arrays of size 1; model card §1b; both engines; O(N²) pairs: for up to
        a few thousand events).
    priors : dict, optional
        ``name -> (loc, scale)`` replacing a default of :data:`DEFAULT_PRIORS` (same family;
        ``K``: of ``log10 K``; half-normal: ``loc`` must be 0). Torch engine only: the Stan
        program's data fix the defaults.
    fixed : dict, optional
        Scalars held fixed, e.g. ``{"c": 0.01}`` (torch engine only).

    Examples
    --------
    >>> import numpy as np, pystats
    >>> from pystats.aftershock import simulate_detected
    >>> cat = simulate_detected(0.2, 0.01, 1.1, 2.3, 0.3,
    ...                         lambda t: 2.2 - 0.3 * np.log(t), M0=6.0,
    ...                         t_start=0.01, t_end=2.0, seed=3)
    >>> model = pystats.AftershockDetection(mainshock_magnitude=6.0)
    >>> fit = model.fit(cat, method="laplace", t_start=0.01, t_end=2.0, seed=1)
    >>> curve = model.detection_curve(fit, times=[0.1, 1.0], prob=0.9)
    >>> list(curve.columns)
    ['mu', 'lower', 'upper']
    """

    family: ClassVar[str] = "aftershock"
    methods: ClassVar[tuple[str, ...]] = ("map", "laplace", "nuts")
    has_torch_likelihood: ClassVar[bool] = True
    nuts_defaults: ClassVar[Mapping[str, Any]] = MappingProxyType({"adapt_delta": 0.95})
    """NUTS with ``adapt_delta=0.95`` unless given: at 0.8 the step size adapted on Miyagi
    left divergences in the GP hyperparameters' funnel (model card §7)."""
    precondition_optimizer: ClassVar[bool] = True
    batched_torch_likelihood: ClassVar[bool] = True
    data_options: ClassVar[tuple[str, ...]] = ("t_start", "t_end", "missing_magnitude")
    options_spec: ClassVar[dict[str, Option]] = {
        "mainshock_magnitude": Option(None, [None, Interval(Real)],
                                      allowed="a finite number (the main shock's magnitude)"),
        "mainshock_time": Option(0.0, [Interval(Real), DateTimes()],
                                 allowed="a number or a date-time"),
        "mu_prior": Option("gp", [StrOptions(PRIORS)]),
        "kernel": Option("matern52", [StrOptions(KERNELS)]),
        "n_inducing": Option(24, [Interval(Integral, 3, 1000)]),
        "n_nodes": Option(40, [Interval(Integral, 4, 2000)]),
        "n_panels": Option(64, [Interval(Integral, 1, 100000)]),
        "rate": Option("omori", [StrOptions(RATES)]),
        "priors": Option(None, [None, Mappings()], allowed="None or a dict parameter name "
                         "-> (loc, scale) of its prior family"),
        "fixed": Option(None, [None, Mappings()],
                        allowed="None or a dict parameter name -> value, e.g. {'c': 0.01}"),
    }
    """The options (see Parameters); ``fixed`` and ``priors`` entries and the required
    ``mainshock_magnitude`` are checked in :meth:`_validate_options`."""
    cli: ClassVar[CommandLine] = CommandLine(
        name="aftershock", title="Aftershock detection",
        help="aftershock rate with time-varying detection (Omi et al. 2013)",
        fit=(
            Argument("--mainshock-magnitude", type=float, required=False,
                     help="magnitude M0 of the main shock (required with --model aftershock)"),
            Argument("--mainshock-time", type=number_or_text,
                     help="time of the main shock (days or ISO date; default 0)"),
            Argument("--mu-prior", choices=PRIORS,
                     help="prior of the detection magnitude mu(t) (default gp)"),
            Argument("--kernel", choices=KERNELS, help="GP kernel (default matern52)"),
            Argument("--n-inducing", type=int, help="GP inducing points (default 24)"),
            Argument("--n-nodes", type=int, help="RW2 nodes (default 40)"),
            Argument("--n-panels", type=int,
                     help="quadrature panels in log time (default 64)"),
            Argument("--rate", choices=RATES,
                     help="complete-catalogue rate: omori (default) or etas (secondary "
                     "triggering by the detected events)"),
            fix_argument("c=0.01"),
            Argument("--t-start", to="data", type=number_or_text,
                     help="start of the fitting window (days after the main shock or ISO "
                     "date; default 0.01 d after it)"),
            Argument("--t-end", to="data", type=number_or_text,
                     help="end of the fitting window (default: last event)"),
        ),
        predict=(
            *forecast_window(),
            Argument("--n-sims", type=int, help="number of simulated counts (default 4000)"),
        ),
    )

    def __init__(self, mainshock_magnitude: Any = None, **options: Any) -> None:
        super().__init__(mainshock_magnitude=mainshock_magnitude, **copy.deepcopy(options))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.init_options.items()
                         if not (k == "mainshock_magnitude" and v is None))
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ options
    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        o = options  # every option, each allowed by options_spec
        if o["mainshock_magnitude"] is None:
            raise OptionError("mainshock_magnitude=None is not allowed; give the main shock's "
                              "magnitude M0, e.g. AftershockDetection(mainshock_magnitude=6.2)"
                              " (--mainshock-magnitude 6.2 on the command line)")
        latent = HYPER[o["mu_prior"]]
        free_names = (*SCALARS, *latent, *(ETAS_SCALARS if o["rate"] == "etas" else ()))
        fixed = o["fixed"] or {}
        if not isinstance(fixed, Mapping):
            raise OptionError(f"fixed={fixed!r} is not allowed; use a dict name -> value, "
                              "e.g. {'c': 0.01}")
        out_fixed = {}
        for name, value in fixed.items():
            if name not in free_names:
                raise OptionError(f"fixed has unknown parameter {name!r}; parameters that can "
                                  f"be fixed are {', '.join(free_names)}")
            lo, hi = _BOUNDS[name]
            x = _checks.real(f"fixed[{name!r}]", value, low=lo if math.isfinite(lo) else None,
                             high=hi if math.isfinite(hi) else None,
                             low_open=True, high_open=True)
            out_fixed[name] = x
        o["fixed"] = MappingProxyType(out_fixed)
        priors = o["priors"] or {}
        if not isinstance(priors, Mapping):
            raise OptionError(f"priors={priors!r} is not allowed; use a dict name -> "
                              "(loc, scale)")
        out_priors = {}
        for name, value in priors.items():
            if name not in _PRIORS_ALL or name not in free_names or name in out_fixed:
                allowed = [n for n in free_names if n in _PRIORS_ALL and n not in out_fixed]
                raise OptionError(f"priors has {name!r}, which is not a free parameter with a "
                                  f"settable prior; use one of {', '.join(allowed)}")
            loc, scale = _pair(name, value)
            if _PRIORS_ALL[name][0] == "half-normal" and loc != 0.0:
                raise OptionError(f"priors[{name!r}]={value!r}: a half-normal prior has loc 0")
            out_priors[name] = (loc, scale)
        o["priors"] = MappingProxyType(out_priors)
        return o

    @property
    def fixed(self) -> Mapping[str, float]:
        """Parameters held fixed (name -> value)."""
        return self.options["fixed"]

    # ------------------------------------------------------------------ data
    def prepare(self, data: Any, t_start: Any = None, t_end: Any = None,
                missing_magnitude: Any = None) -> PreparedData:
        """Validate ``data``: events after the main shock in ``[t_start, t_end]``.

        ``t_start`` defaults to 0.01 d after the main shock, ``t_end`` to the last event.
        With ``missing_magnitude`` given, events whose magnitude is NaN or equal to it are
        dropped with a :class:`DataWarning` giving their number; without it a NaN magnitude
        is a :class:`DataError` (nothing is dropped silently).  Events at the same time
        are kept (the Omori–Utsu rate is not self-exciting; a note counts them).

        Returns
        -------
        PreparedData
            ``values``: everything in :meth:`stan_data` plus ``t_q`` (``e^{s_q}``),
            ``s_all`` (events then nodes), ``s0``, ``t_start``, ``t_end``,
            ``main_shock_time``, the prior codes; ``observed``: ``time``, ``magnitude``.

        Raises
        ------
        DataError
            Unreadable data, or fewer than 10 events in the window.
        OptionError
            A bad window.
        """
        _read_events, _time_value = _etas_inputs()

        o = self.options
        frame, n_missing = _drop_missing(data, missing_magnitude)
        # events at the same time are allowed: the Omori–Utsu rate does not depend on past
        # events (catalogues such as ComCat's Ridgecrest 2019 hold a few same-time pairs)
        ev = _read_events(frame, need_magnitudes=True, family="AftershockDetection",
                          strictly_increasing=False)
        times, mags, ref = ev["times"], ev["magnitudes"], ev["reference_time"]
        notes: list[str] = []
        if n_missing:
            msg = (f"{n_missing} event(s) with a missing magnitude (NaN"
                   + ("" if missing_magnitude is None else f" or {missing_magnitude!r}")
                   + ") were dropped")
            notes.append(msg)
            _warn(msg, DataWarning)
        t_ms = _time_value("mainshock_time", o["mainshock_time"], ref)
        ts = t_ms + 0.01 if t_start is None else _time_value("t_start", t_start, ref)
        after = times > t_ms
        if not np.any(after):
            raise DataError(f"no event after the main shock (t={t_ms:g})")
        te = float(times[after][-1]) if t_end is None else _time_value("t_end", t_end, ref)
        if not t_ms < ts < te:
            raise OptionError(
                f"the window t_start={ts!r}, t_end={te!r} is not allowed; use "
                f"mainshock_time={t_ms!r} < t_start < t_end (log time needs t_start > 0)")
        n_before = int(np.sum(~after))
        if n_before:
            notes.append(f"{n_before} event(s) at or before the main shock (t={t_ms:g}) are "
                         "not data")
        sel = (times >= ts) & (times <= te)
        t, m = times[sel] - t_ms, mags[sel]
        n = int(t.size)
        n_ties = int(np.sum(np.diff(t) == 0))
        if n_ties:
            notes.append(f"{n_ties} event(s) in the window share their time with the event "
                         "before (kept: the rate is not self-exciting)")
        if n < MIN_EVENTS:
            raise DataError(f"only {n} event(s) lie in the window [{ts:g}, {te:g}]; "
                            f"AftershockDetection needs at least {MIN_EVENTS} "
                            f"(and {FEW_EVENTS} or more for usable estimates)")
        if n < FEW_EVENTS:
            _warn(f"only {n} events in the window: detection estimates are unreliable",
                  DataWarning)
        m0 = float(o["mainshock_magnitude"])
        if np.any(m > m0):
            notes.append(f"{int(np.sum(m > m0))} aftershock(s) larger than the main shock")
        s0, s1 = math.log(ts - t_ms), math.log(te - t_ms)
        prior = o["mu_prior"]
        n_latent = o["n_inducing"] if prior == "gp" else o["n_nodes"]
        latent_x = np.linspace(s0, s1, n_latent)
        n_panels = panel_count(o["n_panels"], n_latent)
        s_q, w_q = log_time_quadrature(ts - t_ms, te - t_ms, n_panels)
        ls_a, ls_b = lengthscale_prior(s0, s1, o["n_inducing"])
        s = np.log(t)
        values = {
            "N": n, "t": t, "s": s, "m": m, "M0": m0, "Q": int(s_q.size), "s_q": s_q,
            "w_q": w_q, "s1": s1, "prior": PRIORS.index(prior) + 1,
            "kernel": KERNELS.index(o["kernel"]) + 1, "n_latent": n_latent,
            "latent_x": latent_x, "jitter": JITTER,
            "mu_0_loc": float(np.median(m)), "ls_alpha": ls_a, "ls_beta": ls_b,
            # torch only
            "t_q": np.exp(s_q), "s_all": np.concatenate([s, s_q]), "s0": s0,
            "t_start": ts - t_ms, "t_end": te - t_ms, "main_shock_time": t_ms,
            "n_panels": n_panels,
        }
        if o["rate"] == "etas":  # parents: detected events after the main shock up to t_end
            par = after & (times <= te)
            values.update(secondary_geometry(
                times[par] - t_ms, mags[par], int(np.sum(par & (times < ts))), ts - t_ms,
                te - t_ms, s_q, n_panels))
        for name, (_, loc, scale) in (_PRIORS_ALL if o["rate"] == "etas"
                                      else DEFAULT_PRIORS).items():
            loc, scale = self.options["priors"].get(name, (loc, scale))
            if name == "mu_0" and name not in self.options["priors"]:
                loc = values["mu_0_loc"]
            values[f"{name}_prior_loc"], values[f"{name}_prior_scale"] = float(loc), float(scale)
        summary = {
            "n": n, "n_input": int(times.size + n_missing), "n_missing_magnitude": n_missing,
            "source": ev["source"], "reference_time": ref, "main_shock_time": t_ms,
            "mainshock_magnitude": m0, "t_start": ts, "t_end": te,
            "t_start_default": t_start is None, "mu_prior": prior, "kernel": o["kernel"],
            "n_latent": n_latent, "n_quadrature": int(s_q.size), "notes": notes,
            "rate": o["rate"],
        }
        return PreparedData(values=values, observed={"time": times[sel], "magnitude": m},
                            summary=summary)

    # ------------------------------------------------------------------ parameters
    def parameters(self, data: PreparedData) -> ParameterSet:
        """``log_rate, c, p, beta, sigma, mu_bar, mu_slope_bar, gp_amplitude,
        gp_lengthscale, rw_scale, z``: the sampled coordinates (:data:`SAMPLED`); ``K``,
        ``mu_0`` and ``mu_slope`` are derived (:meth:`derived`, and generated quantities of
        the Stan program).

        The three latent hyperparameters are arrays of size 1 (present for the prior) or 0
        (absent), as the Stan program declares them; ``z`` has ``n_latent`` elements (gp)
        or ``n_latent − 2`` (rw2).  Fixed parameters are left out (a fixed ``K``, ``mu_0``
        or ``mu_slope`` removes its sampled coordinate).
        """
        prior = self.options["mu_prior"]
        out = [Parameter(SAMPLED.get(n, n), *_BOUNDS[SAMPLED.get(n, n)],
                         description=_DESCRIPTIONS[SAMPLED.get(n, n)])
               for n in SCALARS if n not in self.fixed]
        for n in HYPER_ALL:
            if n in self.fixed:
                continue
            size = 1 if n in HYPER[prior] else 0
            out.append(Parameter(n, *_BOUNDS[n], shape=(size,), description=_DESCRIPTIONS[n]))
        n_z = int(data.values["n_latent"]) - (2 if prior == "rw2" else 0)
        out.append(Parameter("z", shape=(n_z,), description=_DESCRIPTIONS["z"]))
        size = 1 if self.options["rate"] == "etas" else 0  # arrays, as the Stan program
        out += [Parameter(n, *_BOUNDS[n], shape=(size,), description=_DESCRIPTIONS[n])
                for n in ETAS_SCALARS if n not in self.fixed]
        return ParameterSet(out)

    def index_labels(self, data: PreparedData) -> dict[str, tuple[list[str | None], ...]]:
        """The latent hyperparameters (arrays of size 1 or 0, the Stan contract) read as
        scalars in summaries: ``gp_amplitude``, not ``gp_amplitude[0]``; size 0: no row.
        The same for ``K_s`` and ``alpha`` (``rate="etas"``)."""
        return {name: ([None],) for name in (*HYPER_ALL, *ETAS_SCALARS)}

    def _full(self, params: Mapping[str, Any], like: Any) -> dict[str, Any]:
        """Free values with the fixed ones (as tensors/arrays shaped like ``like``)."""
        out = dict(params)
        for k, v in self.fixed.items():
            if k in _SCALAR_NAMES:
                out[k] = like * 0.0 + v
            else:
                out[k] = (like * 0.0 + v)[..., None]
        return out

    def _mu(self, x: Any, params: Mapping[str, Any], tensors: Mapping[str, Any]) -> Any:
        return mu_values(x, dict(params), dict(tensors), self.options["mu_prior"],
                         self.options["kernel"])

    def _natural(self, full: Mapping[str, Any], tensors: Mapping[str, Any],
                 f_events: Any = None, known: Mapping[str, Any] | None = None,
                 f_sums: Any = None) -> dict[str, Any]:
        """The model's ``K``, ``mu_0``, ``mu_slope`` from the sampled ``log_rate``,
        ``mu_bar``, ``mu_slope_bar`` (:data:`SAMPLED`; fixed values as given), batched like
        the parameters.

        ``K = exp(log_rate − beta (M0 − m_ref))``, ``mu_slope = mu_slope_bar − Σ_i w_i f(s_i)``
        (``w_i = (s_i − s̄)/Σ_j (s_j − s̄)²``),
        ``mu_0 = mu_bar − mean_i f(s_i) − mu_slope mean_i (s_i − s1)``, with ``f_events`` the
        latent function at the events (computed when needed and not given; ``known``: values
        of ``mu_0`` and ``mu_slope`` already computed at these parameters; ``f_sums``: instead
        of ``f_events``, the sums ``(Σ_i f(s_i), Σ_i (s_i − s̄) f(s_i))``, e.g. from
        :class:`~pystats.aftershock.event_sums.EventSums`).  The map is triangular with
        determinant ``K`` (:meth:`log_prior_torch` adds ``log K``).
        """
        import torch

        out = dict(full)
        if "log_rate" in out:
            shift = float(tensors["M0"]) - float(tensors["mu_0_prior_loc"])
            out["K"] = torch.exp(out.pop("log_rate") - out["beta"] * shift)
        if known is not None:
            for name in ("mu_0", "mu_slope"):
                if SAMPLED[name] in out:
                    out.pop(SAMPLED[name])
                    out[name] = known[name]
            return out
        if "mu_bar" not in out and "mu_slope_bar" not in out:
            return out
        s = tensors["s"]
        d = s - s.mean()
        if f_sums is not None:  # (Σ f, Σ d f) -> (mean f, Σ d f)
            mean_f, sum_df = f_sums[0] / s.shape[-1], f_sums[1]
        else:
            if f_events is None:
                f_events = latent_f(s, out, dict(tensors), self.options["mu_prior"],
                                    self.options["kernel"])
            mean_f, sum_df = f_events.mean(-1), (f_events * d).sum(-1)
        if "mu_slope_bar" in out:
            out["mu_slope"] = out.pop("mu_slope_bar") - sum_df / (d * d).sum()
        if "mu_bar" in out:
            x_bar = (s - tensors["s1"]).mean()
            out["mu_0"] = out.pop("mu_bar") - mean_f - out["mu_slope"] * x_bar
        return out

    def _natural_mu(self, full: Mapping[str, Any], tensors: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], Any]:
        """:meth:`_natural` and ``μ`` at ``s_all`` (events, then quadrature nodes), from one
        evaluation of the latent function."""
        x = tensors["s_all"]
        f = latent_f(x, dict(full), dict(tensors), self.options["mu_prior"],
                     self.options["kernel"])
        nat = self._natural(full, tensors, f[..., :int(tensors["N"])])
        mu = nat["mu_0"][..., None] + nat["mu_slope"][..., None] * (x - tensors["s1"]) + f
        return nat, mu

    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Log likelihood (module :mod:`pystats.aftershock.likelihood`); batched over
        leading axes of the parameters."""
        import torch

        full = self._full(params, params["z"][..., 0])
        n = int(tensors["N"])
        z = full["z"]
        rows = int(np.prod(z.shape[:-1])) if z.dim() > 1 else 1
        per_row = int(tensors["s_all"].shape[-1]) * _entries_per_point(self.options, tensors)
        etas = self.options["rate"] == "etas"
        if etas:
            per_row += etas_entries(tensors)
        if z.dim() == 2 and rows > 1 and rows * per_row > BATCH_ENTRIES:  # bounded memory
            step = max(1, BATCH_ENTRIES // per_row)
            return torch.cat([
                self.log_likelihood_torch({k: x[i:i + step] for k, x in full.items()}, tensors)
                for i in range(0, rows, step)])
        nat, mu = self._natural_mu(full, tensors)
        _LAST_NATURAL.value = (params, nat)  # reused by log_prior_torch at the same params
        if etas:
            return etas_loglik(nat, tensors, lambda x: self._mu(x, nat, tensors))
        # split, not slices: its backward concatenates (no zero-filled (N + Q) buffers)
        mu_events, mu_nodes = mu.split([n, mu.shape[-1] - n], -1)
        return loglik(nat, mu_events, mu_nodes, tensors)

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Sum of the priors of :data:`DEFAULT_PRIORS` (normalised like Stan's ``_lpdf``;
        the constant of ``p``'s truncation to (0.2, 3) is left out), as the density of the
        sampled coordinates: the priors of ``K`` and ``mu_0`` at their values
        (:meth:`_natural`) plus ``log K``, the log-Jacobian of ``log_rate -> K``."""
        import torch

        full = self._full(params, params["z"][..., 0])
        last = getattr(_LAST_NATURAL, "value", None)  # the likelihood's, at the same params?
        nat = self._natural(full, tensors,
                            known=last[1] if last is not None and last[0] is params else None)
        total = -0.5 * (params["z"] ** 2).sum(-1) - 0.5 * math.log(2 * math.pi) * params[
            "z"].shape[-1]
        for sampled, value in params.items():
            if sampled == "z" or value.shape[-1:] == (0,):
                continue
            name = _MODEL_NAME.get(sampled, sampled)
            x = nat[name] if name in SCALARS else value[..., 0]
            if name == "gp_lengthscale":
                a, b = float(tensors["ls_alpha"]), float(tensors["ls_beta"])
                total = total + (a * math.log(b) - math.lgamma(a) - (a + 1) * x.log() - b / x)
                continue
            family = _PRIORS_ALL[name][0]
            loc = float(tensors[f"{name}_prior_loc"])
            scale = float(tensors[f"{name}_prior_scale"])
            if name == "K":  # log10-normal on K, in log K; + log K (Jacobian) cancels -log K
                shift = float(tensors["M0"]) - float(tensors["mu_0_prior_loc"])
                y, extra = value - full["beta"] * shift, 0.0
                loc, scale = loc * LN10, scale * LN10
            elif family == "log10-normal":  # K_s
                y, extra, loc, scale = x.log(), -x.log(), loc * LN10, scale * LN10
            elif family == "lognormal":
                y, extra = x.log(), -x.log()
            elif family == "half-normal":
                y, extra = x, math.log(2.0)
            else:
                y, extra = x, 0.0
            total = total + (-0.5 * ((y - loc) / scale) ** 2 - math.log(scale)
                             - 0.5 * math.log(2 * math.pi) + extra)
        return torch.as_tensor(total)

    # ------------------------------------------------------------------ Stan
    def stan_program(self) -> str:
        """``aftershock_detection.stan`` (one program for both priors)."""
        return "aftershock_detection.stan"

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """The Stan data dictionary of the family's contract (without ``include_prior``).

        Raises
        ------
        OptionError
            With ``fixed`` parameters or ``priors`` other than ``mu_0``'s location: the
            Stan program's data do not carry them.
        """
        extra = [k for k in self.options["priors"] if k != "mu_0"]
        if self.fixed or extra or self.options["priors"].get("mu_0", (0, 2.0))[1] != 2.0:
            raise OptionError(
                "the Stan program of AftershockDetection uses the default priors and no "
                "fixed parameters; fit with backend='torch' (method 'map' or 'laplace') for "
                "fixed=/priors= other than priors['mu_0'] = (loc, 2.0)")
        v = data.values
        vec = lambda k: np.asarray(v[k], dtype=float).tolist()  # noqa: E731
        return {
            "N": int(v["N"]), "t": vec("t"), "s": vec("s"), "m": vec("m"), "M0": float(v["M0"]),
            "Q": int(v["Q"]), "s_q": vec("s_q"), "w_q": vec("w_q"), "s1": float(v["s1"]),
            "prior": int(v["prior"]), "kernel": int(v["kernel"]),
            "n_latent": int(v["n_latent"]), "latent_x": vec("latent_x"),
            "jitter": float(v["jitter"]), "mu_0_loc": float(v["mu_0_prior_loc"]),
            "ls_alpha": float(v["ls_alpha"]), "ls_beta": float(v["ls_beta"]),
            **etas_stan_data(v, self.options["rate"]),
        }

    # ------------------------------------------------------------------ starts
    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """A start near the data: ``μ`` from the mean magnitudes in three log-time bins
        (detected magnitudes are ``N(μ − βσ², σ²) + Exp(β)``, mean ``μ − βσ² + 1/β``),
        ``K`` by matching the expected number of detected events, small jitter; returned in
        the sampled coordinates (``log_rate``, ``mu_bar``, ``mu_slope_bar`` from that ``K``
        and the linear ``μ``, leaving out the start's small ``f``)."""
        v = data.values
        s, m = np.asarray(v["s"]), np.asarray(v["m"])
        s0, s1 = float(v["s0"]), float(v["s1"])
        jit = lambda x, sd: float(x * math.exp(sd * rng.standard_normal()))  # noqa: E731
        fx = self.fixed
        beta = fx.get("beta", jit(LN10, 0.1))
        sigma = fx.get("sigma", jit(0.3, 0.2))
        edges = np.linspace(s0, s1, 4)
        centres, means = [], []
        for a, b in itertools.pairwise(edges):
            sel = (s >= a) & (s <= b)
            if sel.sum() >= 3:
                centres.append(0.5 * (a + b) - s1)
                means.append(np.mean(m[sel]) + beta * sigma**2 - 1.0 / beta)
        if len(centres) >= 2:
            slope, icpt = np.polyfit(centres, means, 1)
        else:
            slope, icpt = -0.3, np.mean(m) + beta * sigma**2 - 1.0 / beta
        mu_0 = fx.get("mu_0", float(icpt) + 0.1 * rng.standard_normal())
        mu_slope = fx.get("mu_slope", float(np.clip(slope, -2.0, 1.0)))
        c = fx.get("c", jit(0.01, 0.5))
        p = fx.get("p", float(np.clip(jit(1.1, 0.05), 0.5, 2.0)))
        tq, wq = np.asarray(v["t_q"]), np.asarray(v["w_q"])
        mu_q = mu_0 + mu_slope * (np.asarray(v["s_q"]) - s1)
        unit = np.sum(wq * (tq + c) ** (-p) * np.exp(-beta * (mu_q - v["M0"])
                                                     + 0.5 * (beta * sigma) ** 2))
        K = fx.get("K", float(v["N"]) / float(unit))
        out: dict[str, Any] = {
            "log_rate": math.log(K) + beta * (float(v["M0"]) - float(v["mu_0_prior_loc"])),
            "c": c, "p": p, "beta": beta, "sigma": sigma,
            "mu_bar": mu_0 + mu_slope * float(np.mean(s - s1)), "mu_slope_bar": mu_slope}
        prior = self.options["mu_prior"]
        hyper = {"gp_amplitude": jit(0.3, 0.2), "gp_lengthscale": jit((s1 - s0) / 4, 0.2),
                 "rw_scale": jit(0.02, 0.2)}
        for name in HYPER_ALL:
            out[name] = np.array([hyper[name]] if name in HYPER[prior] else [])
        n_z = int(v["n_latent"]) - (2 if prior == "rw2" else 0)
        out["z"] = 0.1 * rng.standard_normal(n_z)
        if self.options["rate"] == "etas":  # half the events to the main shock, weak triggering
            k_main = fx.get("K", 0.5 * K)
            out["log_rate"] = math.log(k_main) + beta * (float(v["M0"])
                                                          - float(v["mu_0_prior_loc"]))
            out["alpha"] = np.array([float(np.clip(jit(1.5, 0.2), 0.5, 3.0))])
            out["K_s"] = np.array([0.1 * k_main])
        else:
            out["K_s"], out["alpha"] = np.zeros(0), np.zeros(0)
        fixed_sampled = {SAMPLED.get(k, k) for k in fx}
        return {k: x for k, x in out.items() if k not in fixed_sampled}

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """``K``, ``mu_0``, ``mu_slope`` from the sampled ``log_rate``, ``mu_bar``,
        ``mu_slope_bar`` (:meth:`_natural`; absent when fixed) and ``b = beta / ln 10``;
        batched over leading axes.  The event sums of ``f`` that ``mu_0`` and ``mu_slope``
        need come from :class:`~pystats.aftershock.event_sums.EventSums` (``O(m²)`` per
        draw from data-only bin moments, equal to evaluating ``f`` at every event to
        rounding), not from ``f`` at all ``N`` events per draw."""
        import torch

        from ..backends.torch import to_tensors

        beta = draws.get("beta", self.fixed.get("beta"))
        out: dict[str, Any] = {}
        wanted = [k for k, v in SAMPLED.items() if v in draws]
        if wanted:
            params = self.parameters(data)
            batch = np.shape(draws["z"])[:-1]
            rows = int(np.prod(batch))
            flat = {p.name: np.asarray(draws[p.name], dtype=float).reshape(rows, *p.shape)
                    for p in params}
            tensors = to_tensors(dict(data.values), torch.device("cpu"))
            sums = None
            if "mu_0" in wanted or "mu_slope" in wanted:  # O(m²) per draw, not O(N)
                full = self._full(flat, flat["z"][..., 0])
                sums = self._event_sums(data)(full)
            with torch.no_grad():
                part = {k: torch.as_tensor(a) for k, a in flat.items()}
                nat = self._natural(self._full(part, part["z"][..., 0]), tensors,
                                    f_sums=None if sums is None else
                                    tuple(torch.as_tensor(sums[:, k]) for k in range(2)))
            out.update({k: nat[k].numpy().reshape(batch) for k in wanted})
        out["b"] = np.asarray(beta, dtype=float) / LN10
        return out

    def _event_sums(self, data: PreparedData) -> EventSums:
        """:class:`EventSums` of ``Σ_i f(s_i)`` and ``Σ_i (s_i − s̄) f(s_i)`` for ``data``
        (data-only set-up, once per call of :meth:`derived`)."""
        v = data.values
        s = np.asarray(v["s"], dtype=float)
        weights = np.stack([np.ones_like(s), s - s.mean()])
        return EventSums(s, weights, np.asarray(v["latent_x"], dtype=float),
                         self.options["mu_prior"], self.options["kernel"], float(v["jitter"]))

    # ------------------------------------------------------------------ fitted values
    def _check_fit(self, fit: Fit) -> None:
        if not isinstance(fit.model, AftershockDetection):
            raise OptionError(f"this fit is of a {type(fit.model).__name__} model, not "
                              "AftershockDetection")

    def _draw_values(self, fit: Fit, max_draws: int | None = None) -> dict[str, np.ndarray]:
        """Parameter values per draw ``(n, *shape)`` (fixed ones broadcast; ``K`` and
        ``mu_0`` included); the point when the fit has no draws."""
        names = [*fit.parameters.names, *(k for k in SAMPLED if k not in self.fixed)]
        if names and all(n in fit.draws for n in names):
            vals = {n: np.asarray(fit.variable(n), dtype=float) for n in names}
            n = next(iter(vals.values())).shape[0]
            if max_draws is not None and n > max_draws:
                idx = np.linspace(0, n - 1, max_draws).round().astype(int)
                vals = {k: a[idx] for k, a in vals.items()}
        else:
            vals = {n: np.asarray(fit.estimate(n), dtype=float)[None, ...] for n in names}
        size = next(iter(vals.values())).shape[0]
        for k, x in self.fixed.items():
            vals[k] = (np.full(size, float(x)) if k in _SCALAR_NAMES
                       else np.full((size, 1), float(x)))
        return vals

    def _mu_draws(self, fit: Fit, times: np.ndarray, vals: Mapping[str, np.ndarray],
                  chunk: int = 256) -> np.ndarray:
        """``μ(t)`` per draw at ``times`` (days since the main shock); ``(n_draws, T)``."""
        import torch

        from ..backends.torch import to_tensors

        tensors = to_tensors(dict(fit.data.values), torch.device("cpu"))
        x = torch.as_tensor(np.log(times), dtype=torch.float64)
        n = next(iter(vals.values())).shape[0]
        out = np.empty((n, times.size))
        with torch.no_grad():
            for i in range(0, n, chunk):
                part = {k: torch.as_tensor(a[i:i + chunk]) for k, a in vals.items()}
                out[i:i + chunk] = self._mu(x, part, tensors).numpy()
        return out

    def _mu_linearised(self, fit: Fit, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``μ(t)`` at the mode and its linearised Laplace standard deviation
        ``sqrt(J Σ_u Jᵀ)``, ``J = ∂μ(t)/∂u`` (u: unconstrained parameters)."""
        import torch

        from ..backends.torch import to_tensors

        params = fit.parameters
        if fit.point is None or fit.cov_unconstrained is None:
            raise OptionError("this fit has no mode and covariance for a Laplace band")
        u = torch.as_tensor(params.unconstrain({k: fit.point[k] for k in params.names}))
        tensors = to_tensors(dict(fit.data.values), torch.device("cpu"))
        x = torch.as_tensor(np.log(times), dtype=torch.float64)

        def mu_of(ut: Any) -> Any:
            full = self._natural(self._full(params.constrain(ut), ut[0]), tensors)
            return self._mu(x, full, tensors)

        jac = torch.autograd.functional.jacobian(mu_of, u, vectorize=True).numpy()
        with torch.no_grad():
            mode = mu_of(u).numpy()
        var = np.einsum("ij,jk,ik->i", jac, np.asarray(fit.cov_unconstrained), jac)
        return mode, np.sqrt(np.maximum(var, 0.0))

    def _times(self, fit: Fit, times: Any) -> np.ndarray:
        v = fit.data.values
        if times is None:
            return np.geomspace(v["t_start"], v["t_end"], 200)
        t = np.array(times, dtype=float, copy=True).reshape(-1)
        if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise OptionError(f"times={times!r:.80} is not allowed; use finite times > 0 "
                              "(days since the main shock)")
        return t

    def detection_curve(self, fit: Fit, times: Any = None, prob: float = 0.999
                        ) -> pd.DataFrame:
        """``μ(t)``, the 50 %-detection magnitude, with an equal-tailed band at ``prob``.

        Parameters
        ----------
        fit : Fit
            A ``laplace`` or ``nuts`` fit of this model.
        times : array_like, optional
            Days since the main shock (default: 200 log-spaced times over the window).
        prob : float
            Band mass (default 0.999, as in Omi et al. 2013).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``time``; columns ``mu``, ``lower``, ``upper``; ``attrs["prob"]``.
            NUTS: posterior median and equal-tailed quantiles of the draws.  Laplace: ``μ``
            at the mode ± the normal quantile times ``sqrt(J Σ Jᵀ)``, the Laplace covariance
            pushed through the linearised map ``u -> μ(t)`` (Gaussian draws pushed through
            the exact map over-cover: the α·z product inflates their spread; model card §5).

        Raises
        ------
        OptionError
            For a ``map`` fit (no posterior draws): refit with ``method="laplace"``.
        """
        import pandas as pd

        self._check_fit(fit)
        prob = _checks.check_prob(prob)
        if fit.method == "map":
            raise OptionError("detection_curve needs posterior draws; a method='map' fit has "
                              "none: fit with method='laplace' (or 'nuts')")
        t = self._times(fit, times)
        if fit.method == "laplace":
            from scipy.stats import norm

            med, sd = self._mu_linearised(fit, t)
            half = norm.ppf((1 + prob) / 2) * sd
            lo, hi = med - half, med + half
        else:
            mu = self._mu_draws(fit, t, self._draw_values(fit))
            lo, med, hi = np.quantile(mu, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
        df = pd.DataFrame({"mu": med, "lower": lo, "upper": hi},
                          index=pd.Index(t, name="time"))
        df.attrs["prob"] = prob
        return df

    def detection_probability(self, fit: Fit, times: Any = None, magnitudes: Any = None
                              ) -> pd.DataFrame:
        """``q(M, t) = Φ((M − μ(t))/σ)``, averaged over the posterior draws.

        Returns
        -------
        pandas.DataFrame
            Index ``time`` (days since the main shock), one column per magnitude
            (``columns.name = "magnitude"``).
        """
        import pandas as pd
        from scipy.special import ndtr

        self._check_fit(fit)
        t = self._times(fit, times)
        if magnitudes is None:
            mags = np.round(np.arange(0.0, float(fit.data.values["M0"]) + 1e-9, 0.5), 10)
        else:
            mags = _checks.magnitude_array(magnitudes)
        if fit.method == "laplace":
            # E Φ((M − μ)/σ) over μ ~ N(μ̂, sd²) is Φ((M − μ̂)/sqrt(σ² + sd²))
            mode, sd = self._mu_linearised(fit, t)
            sig = float(fit.point["sigma"]) if "sigma" in fit.point else self.fixed["sigma"]
            q = ndtr((mags[None, :] - mode[:, None]) / np.sqrt(sig**2 + sd[:, None] ** 2))
            return pd.DataFrame(q, index=pd.Index(t, name="time"),
                                columns=pd.Index(mags, name="magnitude"))
        vals = self._draw_values(fit, max_draws=1000)
        mu = self._mu_draws(fit, t, vals)
        sigma = vals["sigma"].reshape(-1, 1, 1)
        q = ndtr((mags[None, None, :] - mu[:, :, None]) / sigma).mean(axis=0)
        return pd.DataFrame(q, index=pd.Index(t, name="time"),
                            columns=pd.Index(mags, name="magnitude"))

    def predict(self, fit: Fit, t1: Any = None, t2: Any = None, magnitudes: Any = None,
                prob: float = 0.9, n_sims: int = 4000, seed: int | None = None
                ) -> pd.DataFrame:
        """Forecast of the number of aftershocks ``M >= m`` in ``[t1, t2]`` (complete
        catalogue, detected or not).

        Per parameter draw the expected count is
        ``Λ(m) = K e^{−β (m − M0)} ∫_{t1}^{t2} (t + c)^(−p) dt`` (closed form); counts are
        Poisson(``Λ``) mixed over the draws.

        Parameters
        ----------
        t1, t2 : float or date-time, optional
            Window on the data's time axis (default: the end of the fit window, one day on).
        magnitudes : array_like, optional
            Thresholds (default: whole magnitudes from 3 to ``M0``).
        prob : float
            Interval mass.
        n_sims : int
            Simulated counts.
        seed : int, optional
            Random seed (default: from the fit's seed).

        Returns
        -------
        pandas.DataFrame
            ``magnitude, mean, sd, median, lower, upper, p_at_least_one`` (the ETAS form);
            ``attrs``: ``t1``, ``t2``, ``prob``, ``n_sims``, ``expected`` (``Λ`` per draw).
        """
        import pandas as pd

        from ..arviz_io import predictive_rng
        from ..etas.kernels import kernel_integral

        _, _time_value = _etas_inputs()

        self._check_fit(fit)
        v = fit.data.values
        ref = fit.data.summary.get("reference_time")
        t_ms = float(v["main_shock_time"])
        t1 = float(v["t_end"]) + t_ms if t1 is None else _time_value("t1", t1, ref)
        t2 = t1 + 1.0 if t2 is None else _time_value("t2", t2, ref)
        if not t_ms <= t1 < t2:
            raise OptionError(f"the forecast window [{t1!r}, {t2!r}] is not allowed; use "
                              f"mainshock_time={t_ms!r} <= t1 < t2")
        prob = _checks.check_prob(prob)
        n_sims = _checks.integer("n_sims", n_sims, 1)
        m0 = float(v["M0"])
        mags = (np.arange(3.0, m0 + 1e-9, 1.0) if magnitudes is None
                else _checks.magnitude_array(magnitudes))
        if mags.size == 0:
            mags = np.array([m0])
        rng = (np.random.default_rng(_checks.seed(seed)) if seed is not None
               else predictive_rng(fit))
        vals = self._draw_values(fit)
        n_draws = vals["K"].shape[0]
        idx = rng.choice(n_draws, size=n_sims, replace=n_sims > n_draws)
        K, c, p, beta = (vals[k][idx] for k in ("K", "c", "p", "beta"))
        if self.options["rate"] == "etas":  # first generation of the main shock + parents
            base = expected_counts(K, c, p, vals["K_s"][idx, 0], vals["alpha"][idx, 0],
                                   np.asarray(v["tp"]), np.asarray(v["mp"]), m0,
                                   t1 - t_ms, t2 - t_ms)
        else:
            base = K * kernel_integral(t1 - t_ms, t2 - t_ms, c, p)
        lam = base[:, None] * np.exp(-beta[:, None] * (mags[None, :] - m0))
        counts = rng.poisson(lam)
        lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
        cf = counts.astype(float)
        df = pd.DataFrame({
            "magnitude": mags, "mean": cf.mean(axis=0),
            "sd": cf.std(axis=0, ddof=1) if n_sims > 1 else np.full(mags.size, np.nan),
            "median": np.quantile(cf, 0.5, axis=0, method="inverted_cdf"),
            "lower": np.quantile(cf, lo_q, axis=0, method="inverted_cdf"),
            "upper": np.quantile(cf, hi_q, axis=0, method="inverted_cdf"),
            "p_at_least_one": (counts >= 1).mean(axis=0),
        })
        df.attrs.update({"t1": t1, "t2": t2, "prob": prob, "n_sims": n_sims,
                         "expected": lam, "counts": counts})
        return df

    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """μ(t) with its band over the events, q(M, t), observed vs fitted cumulative counts
        and the next day's forecast (:mod:`pystats.plots.aftershock`)."""
        from ..plots.aftershock import report_figures

        return report_figures(fit)

    def check_fit(self, fit: Fit) -> list[ModelCheck]:
        """``detection_below_mainshock``: the fitted ``μ(t)`` stays below ``M0``.

        A 50 %-detection magnitude above the main shock's magnitude means events as large
        as the main shock would mostly be missed — a sign that ``K`` and ``μ`` traded off
        (too few events, or a window too short).
        """
        from ..diagnostics import ModelCheck

        if fit.point is None and not fit.draws:
            return []
        v = fit.data.values
        times = np.geomspace(v["t_start"], v["t_end"], 50)
        vals = {n: np.asarray(fit.estimate(n), dtype=float)[None, ...]
                for n in (*fit.parameters.names, *(k for k in SAMPLED if k not in self.fixed))}
        for k, x in self.fixed.items():
            vals[k] = np.full(1, float(x)) if k in _SCALAR_NAMES else np.full((1, 1), float(x))
        top = float(np.max(self._mu_draws(fit, times, vals)))
        m0 = float(v["M0"])
        label = "Detection magnitude below the main shock"
        if top < m0:
            return [ModelCheck("detection_below_mainshock", label, True,
                               f"max μ(t) = {top:.2f} < M0 = {m0:g}", value=top, threshold=m0)]
        return [ModelCheck(
            "detection_below_mainshock", label, False, f"max μ(t) = {top:.2f} >= M0 = {m0:g}",
            value=top, threshold=m0,
            problem=(f"The fitted 50 %-detection magnitude reaches {top:.2f}, at least the "
                     f"main shock's M0 = {m0:g}: K and μ(t) are not separated by these data "
                     "(too few events or too short a window); use a longer window."))]


SEPARABLE_ENTRIES_PER_POINT = 16
"""Memory of one parameter row per point of :func:`~pystats.aftershock.latent.separable_matvec`
(temporaries of ``2n`` entries), against ``n_latent`` for the dense kernel matrix."""


def _entries_per_point(options: Mapping[str, Any], tensors: Mapping[str, Any]) -> int:
    """Entries per point and parameter row of one likelihood call (for ``BATCH_ENTRIES``)."""
    if options["mu_prior"] == "gp" and use_separable(tensors["s_all"], tensors["latent_x"],
                                                     options["kernel"]):
        return SEPARABLE_ENTRIES_PER_POINT
    return int(tensors["n_latent"])


def _etas_inputs() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The ETAS input reader and time-bound parser (one reader for the point-process
    families): ``pystats.etas.inputs`` after the ETAS module split, ``pystats.etas.model``
    before it."""
    try:
        from ..etas.inputs import _read_events, _time_value
    except ImportError:
        from ..etas.model import _read_events, _time_value
    return _read_events, _time_value


def _drop_missing(data: Any, missing_magnitude: Any) -> tuple[Any, int]:
    """``data`` without events whose magnitude is NaN (or ``missing_magnitude``), and their
    number; the caller's object is not modified.  Without ``missing_magnitude`` nothing
    is dropped (the reader then refuses NaN magnitudes, naming the column)."""
    import pandas as pd

    if missing_magnitude is None:
        return data, 0
    code = None if missing_magnitude is None else _checks.number(
        "missing_magnitude", missing_magnitude, "None or a finite number")
    if isinstance(data, Mapping) and not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(dict(data))
    if isinstance(data, tuple) and len(data) == 2:
        times = np.array(data[0], dtype=float, copy=True)
        mags = np.array(data[1], dtype=float, copy=True)
        if times.shape != mags.shape:
            raise DataError(f"times and magnitudes differ in length ({times.size} vs "
                            f"{mags.size})")
        bad = np.isnan(mags) | (mags == code if code is not None else False)
        return (times[~bad], mags[~bad]), int(bad.sum())
    if isinstance(data, pd.DataFrame) and "magnitude" in data.columns:
        mags = pd.to_numeric(data["magnitude"], errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(mags) & data["magnitude"].isna().to_numpy()
        if code is not None:
            bad |= mags == code
        return (data.loc[~bad].reset_index(drop=True) if bad.any() else data), int(bad.sum())
    if code is not None and hasattr(data, "magnitudes"):
        mags = np.asarray(data.magnitudes, dtype=float)
        bad = mags == code
        if bad.any():
            raise DataError(f"the data hold {int(bad.sum())} magnitude(s) equal to "
                            f"missing_magnitude={code!r}; read the catalogue with "
                            "pystats.read_catalog(..., missing_magnitude=..., "
                            "on_missing='drop') instead")
    return data, 0
