"""The Omori–Utsu family (modified Omori law of an aftershock sequence; Utsu 1961, Ogata
1983); overview, priors and references in :mod:`pystats.etas.model`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _checks
from .._checks import check_prob
from .._warnings import warn as _warn
from ..cli_spec import Argument, CommandLine, fix_argument, forecast_window, number_or_text
from ..constraints import Booleans, DateTimes, Interval, Mappings, Option
from ..errors import DataError, DataWarning, OptionError
from ..model import Pilot, PreparedData
from .inputs import FEW_EVENTS, MIN_EVENTS, _read_events, _time_value, _too_few
from .point_process import (
    _DEFAULT_PRIORS,
    _K_PRIOR_SCALE,
    _MU_PRIOR_SCALE,
    LN10,
    _PointProcessModel,
)
from .productivity import (
    C0,
    P0,
    moment_matching_K,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit
    from .residuals import ResidualAnalysis

__all__ = ["OMORI_PARAMETER_NAMES", "OmoriUtsu"]

OMORI_PARAMETER_NAMES = ("mu", "K", "c", "p")
"""Omori–Utsu parameters in the Stan program's order (``mu`` only with a background)."""


PILOT_MIN_EVENTS = 200_000
"""Above this many events the optimiser's starts run on a subsample (:meth:`OmoriUtsu.pilot`)."""

PILOT_EVENTS = 50_000
"""About how many events the pilot subsample keeps."""


class OmoriUtsu(_PointProcessModel):
    """Modified Omori (Omori–Utsu) law of an aftershock sequence.

    ``λ(t) = mu + K (t + c)^(-p)`` with ``t`` the time since the main shock (Utsu 1961;
    Ogata 1983); the background ``mu`` only with ``background=True``.

    Parameters
    ----------
    mc : float, optional
        Magnitude threshold: events below it are dropped (needs magnitudes).  Default:
        every event is used.
    background : bool
        Add a constant background rate ``mu`` (a free parameter unless fixed).
    main_shock_time : float or date-time
        Time of the main shock on the data's time axis (default 0: times are already
        counted from the main shock, as in SAPP files).  Events at or before it are not
        aftershocks and are dropped.
    fixed : dict, optional
        Parameters held fixed, e.g. ``{"c": 0.01}``.
    b : float, optional
        Gutenberg–Richter b-value for forecasts of larger magnitudes; default: estimated
        from the magnitudes (when the data carry them).
    delta_m : float, optional
        Magnitude bin width; ``None`` infers it.
    priors : dict, optional
        Parameter name -> ``(loc, scale)`` of a log-normal prior (module docstring).

    Notes
    -----
    ``fit(data, t_start=..., t_end=...)``: the window on the data's time axis (default:
    from the main shock to the last event); ``data`` is as for :class:`ETAS` or a 1-D
    array of times.  For ``mu`` absent the MLE of ``K`` given ``(c, p)`` is
    ``n / ∫ (t + c)^(-p) dt`` (:func:`pystats.etas.omori.omori_profile_K`).

    Examples
    --------
    Fit a simulated aftershock sequence (times in days since the main shock):

    >>> import pystats
    >>> from pystats.etas.simulate import simulate_omori
    >>> times = simulate_omori(K=50.0, c=0.05, p=1.1, t_start=0.0, t_end=100.0, rng=2)
    >>> fit = pystats.OmoriUtsu().fit(times, t_end=100.0)
    >>> {k: round(float(fit.estimate(k)), 1) for k in ("K", "p")}  # true K = 50, p = 1.1
    {'K': 48.5, 'p': 1.1}
    >>> residuals = fit.model.residuals(fit)
    >>> residuals.n == times.size
    True
    """

    family: ClassVar[str] = "omori_utsu"
    options_spec: ClassVar[dict[str, Option]] = {
        "mc": Option(None, [None, Interval(Real)], allowed="None or a finite number"),
        "background": Option(False, [Booleans()]),
        "main_shock_time": Option(0.0, [Interval(Real), DateTimes()],
                                  allowed="a number or a date-time"),
        "fixed": Option(None, [None, Mappings()],
                        allowed="None or a dict parameter name -> value, e.g. {'c': 0.01}"),
        "b": Option(None, [None, Interval(Real, 0, None, closed="neither")],
                    allowed="None or a number > 0"),
        "delta_m": Option(None, [None, Interval(Real, 0, None)],
                          allowed="None, 0 or a bin width > 0"),
        "priors": Option(None, [None, Mappings()], allowed="None or a dict parameter name "
                         "-> (loc, scale) of a log-normal prior"),
    }
    """The options (see Parameters); ``fixed`` and ``priors`` entries are checked in
    :meth:`_validate_options`."""
    cli: ClassVar[CommandLine] = CommandLine(
        name="omori", title="Omori-Utsu", help="Omori-Utsu law",
        fit=(
            Argument("--mc", type=number_or_text,
                     help="magnitude threshold (default: every event)"),
            Argument("--delta-m", type=float, help="magnitude bin width (default: inferred)"),
            Argument("--b", type=float,
                     help="Gutenberg-Richter b-value of the magnitudes (default: estimated)"),
            fix_argument("alpha=1.2"),
            Argument("--background", action="store_true", help="add a background rate mu"),
            Argument("--main-shock-time", type=number_or_text,
                     help="main-shock time (days or ISO date; default 0: times count from it)"),
            Argument("--t-start", to="data", type=number_or_text,
                     help="start of the fitting window (days or ISO date; default: the main "
                     "shock)"),
            Argument("--t-end", to="data", type=number_or_text,
                     help="end of the fitting window (default: last event)"),
        ),
        predict=(
            *forecast_window(),
            Argument("--n-sims", type=int, help="number of simulations (default 4000)"),
        ),
    )

    def _all_names(self) -> tuple[str, ...]:
        return OMORI_PARAMETER_NAMES if self.options["background"] else ("K", "c", "p")

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        o = options  # every option, each allowed by options_spec
        names = OMORI_PARAMETER_NAMES if o["background"] else ("K", "c", "p")
        if o["fixed"] is not None and "mu" in o["fixed"] and not o["background"]:
            raise OptionError("fixed['mu'] needs background=True (no background rate otherwise)")
        fixed = self._check_fixed(o["fixed"], names)
        if len(fixed) == len(names):
            raise OptionError("every Omori–Utsu parameter is fixed; leave at least one free")
        o["fixed"] = MappingProxyType(
            dict(sorted(fixed.items(), key=lambda kv: names.index(kv[0])))
        )
        free = tuple(n for n in names if n not in fixed)
        o["priors"] = MappingProxyType(self._check_priors(o["priors"], free))
        return o

    def prepare(self, data: Any, t_start: Any = None, t_end: Any = None) -> PreparedData:
        """Validate ``data``; keep the aftershocks in the window, times since the main shock.

        Returns
        -------
        PreparedData
            ``values``: ``t`` (times since the main shock of the events in the window),
            ``t_start``, ``t_end`` (same axis), ``n``, ``b``/``b_se``/``mc``/``delta_m``
            (``b = nan`` without magnitudes) and the prior hyperparameters; ``observed``:
            ``time`` (on the data's axis) and ``n_events``.

        Raises
        ------
        DataError
            Unreadable data, unsorted or duplicated times, fewer than 2 events.
        OptionError
            Bad window (``t_start >= t_end``, or before the main shock), ``mc`` without
            magnitudes.
        """
        o = self.options
        ev = _read_events(data, need_magnitudes=o["mc"] is not None, family="OmoriUtsu")
        times, mags = ev["times"], ev["magnitudes"]
        ref = ev["reference_time"]
        notes: list[str] = []
        n_input = int(times.size)
        mc = o["mc"]
        if mc is not None:
            keep = mags >= mc - 1e-9
            if int(n_input - keep.sum()):
                notes.append(f"{int(n_input - keep.sum())} events below mc={mc:g} were dropped")
            times, mags = times[keep], mags[keep]
        t_ms = _time_value("main_shock_time", o["main_shock_time"], ref)
        after = times > t_ms
        if int((~after).sum()):
            notes.append(f"{int((~after).sum())} events at or before the main shock "
                         f"(t={t_ms:g}) are not aftershocks and were dropped")
        times = times[after]
        mags = None if mags is None else mags[after]
        if times.size == 0:
            raise DataError(f"no event after the main shock (t={t_ms:g})")
        if times.size < MIN_EVENTS:
            n_out = n_input - int(times.size)
            raise DataError(_too_few(
                "OmoriUtsu", int(times.size), mc,
                f" ({n_out} of {n_input} are below mc or not after the main shock)"
                if n_out else ""))
        ts = t_ms if t_start is None else _time_value("t_start", t_start, ref)
        te = float(times[-1]) if t_end is None else _time_value("t_end", t_end, ref)
        if not ts < te:
            raise OptionError(f"t_start={ts!r} must be below t_end={te!r} (the fitting window)")
        if ts < t_ms:
            raise OptionError(
                f"t_start={ts!r} is before the main shock (main_shock_time={t_ms!r}); "
                "Omori–Utsu times count from the main shock"
            )
        sel = (times >= ts) & (times <= te)
        t = times[sel] - t_ms
        n = int(t.size)
        if n < MIN_EVENTS:
            raise DataError(
                f"only {n} event(s) lie in the window [{ts:g}, {te:g}]; at least {MIN_EVENTS} "
                "are needed"
            )
        if n < FEW_EVENTS:
            _warn(f"only {n} events in the window: Omori–Utsu estimates are unreliable",
                  DataWarning)
        s0, s1 = ts - t_ms, te - t_ms
        if mags is not None:
            mm = mags[sel]
            mc_used = float(np.min(mm)) if mc is None else float(mc)
            try:
                b, b_se, delta_m = self._b_value(mm, mc_used)
            except DataError as e:  # the Omori–Utsu fit itself does not need b
                b, b_se, delta_m = math.nan, 0.0, 0.0
                notes.append(f"no b-value (forecasts only for M >= mc): {e}")
        else:
            mc_used, b, b_se, delta_m = math.nan, math.nan, 0.0, 0.0
            if o["b"] is not None:
                b = float(o["b"])
        fx = self.fixed
        mu_share = 0.0 if not o["background"] else fx.get("mu", 0.1 * n / (s1 - s0)) * (s1 - s0)
        n_trig = max(n - mu_share, 0.1 * n)
        k0 = moment_matching_K(None, None, s0, s1, 0.0, n_trig,
                               c=fx.get("c", C0), p=fx.get("p", P0))
        defaults = {
            **_DEFAULT_PRIORS,
            "mu": (math.log(n / (s1 - s0)) - math.log(10.0), _MU_PRIOR_SCALE),
            "K": (math.log(k0), _K_PRIOR_SCALE),
        }
        values = {
            "t": t, "n": n, "t_start": s0, "t_end": s1, "main_shock_time": t_ms,
            "mc": mc_used, "b": b, "b_se": b_se,
            "b_estimated": int(o["b"] is None and mags is not None), "delta_m": delta_m,
            **self._prior_entries(defaults),
        }
        summary = {
            "n": n, "n_input": n_input, "source": ev["source"], "reference_time": ref,
            "main_shock_time": t_ms, "t_start": ts, "t_end": te, "window_length": s1 - s0,
            "mc": None if mc is None else mc, "b": b, "b_se": b_se,
            "background": o["background"], "fixed": dict(fx), "notes": notes,
        }
        observed = {"time": times[sel], "n_events": np.asarray(n, dtype=np.int64)}
        return PreparedData(values=values, observed=observed, summary=summary)

    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Omori–Utsu log-likelihood (:func:`pystats.etas.omori.omori_loglik`; the times
        were checked and windowed by :meth:`prepare`).  A pilot problem (:meth:`pilot`)
        weights its subsample's event sum."""
        from .omori import _omori_loglik, _prepare

        t = tensors["t"]
        ps, _ = _prepare(self._full(params), t.device)
        return _omori_loglik(ps, t, float(tensors["t_start"]), float(tensors["t_end"]),
                             float(tensors.get("pilot_weight", 1.0)))

    def log_likelihood_jets_torch(self, params: dict[str, Any], tensors: dict[str, Any]
                                  ) -> tuple[Any, Any, Any] | None:
        """Value, gradient and Hessian in the free parameters in one pass over the events
        (:func:`pystats.etas.omori._omori_loglik_jets`), for the fits' Hessians."""
        from .omori import _omori_loglik_jets, _prepare

        t = tensors["t"]
        ps, _ = _prepare(self._full(params), t.device)
        value, grad, hess = _omori_loglik_jets(
            ps, t, float(tensors["t_start"]), float(tensors["t_end"]),
            float(tensors.get("pilot_weight", 1.0)))
        idx = [OMORI_PARAMETER_NAMES.index(n) for n in self.free_parameters]
        return value, grad[idx], hess[idx][:, idx]

    def pilot(self, data: PreparedData, method: str) -> Pilot | None:
        """A systematic subsample for large fits (:meth:`pystats.model.Model.pilot`).

        With more than :data:`PILOT_MIN_EVENTS` events, the optimiser's starts run on every
        ``k``-th event in time (about :data:`PILOT_EVENTS` of them) with the event sum of
        the log likelihood weighted by ``k``, an unbiased estimate of the full sum with the
        same window and compensator, so its optimum is near the full one on every
        parameter's own scale; the full fit then only polishes it.  Hessian scale 1.
        """
        n = int(data.values["n"])
        if n < PILOT_MIN_EVENTS:
            return None
        k = -(-n // PILOT_EVENTS)
        t = np.asarray(data.values["t"])[k // 2::k]
        values = {**data.values, "t": t, "n": int(t.size), "pilot_weight": float(k)}
        return Pilot(PreparedData(values, {"time": t, "n_events": np.asarray(t.size)},
                                  {"n": int(t.size)}), 1.0,
                     f"one event in {k} ({t.size} of {n}), log intensities weighted by {k}")

    def stan_program(self) -> Any:
        """The generated program (:func:`pystats.etas.stan.omori_stan_program`)."""
        from .stan import omori_stan_program

        return omori_stan_program(tuple(self.fixed), self.options["background"])

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """The Stan data of the contract (without ``include_prior``)."""
        v = data.values
        return {
            "N": int(v["n"]),
            "t": np.asarray(v["t"], dtype=float).tolist(),
            "t_start": float(v["t_start"]),
            "t_end": float(v["t_end"]),
            **self._stan_parameter_entries(v),
        }

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """Random start: ``c``, ``p`` around 0.01 d and 1.1, ``K`` by moment matching."""
        v = data.values
        fx = self.fixed
        span = v["t_end"] - v["t_start"]
        n = v["n"]
        c = fx.get("c", float(min(C0 * math.exp(0.7 * rng.standard_normal()), 0.1 * span)))
        p = fx.get("p", float(np.clip(P0 * math.exp(0.08 * rng.standard_normal()), 0.6, 2.5)))
        mu = fx.get("mu", 0.05 * n / span * math.exp(0.3 * rng.standard_normal()))
        bg = mu * span if self.options["background"] else 0.0
        unit = moment_matching_K(None, None, v["t_start"], v["t_end"], 0.0, 1.0, c, p)
        K = fx.get("K", max(n - bg, 0.1 * n) * unit)
        full = {"mu": mu, "K": K, "c": c, "p": p}
        return {k: full[k] for k in self.free_parameters}

    def _full(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._full(params)
        if not self.options["background"]:
            out["mu"] = 0.0
        return out

    def _expected(self, vals: Mapping[str, np.ndarray], a: float, b: float) -> np.ndarray:
        from .kernels import kernel_integral

        return vals["mu"] * (b - a) + vals["K"] * kernel_integral(a, b, vals["c"], vals["p"])

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """``expected_events``: the expected number of events in the window, ``Λ``."""
        v = data.values
        full = {k: np.asarray(x, dtype=float) for k, x in self._full(draws).items()}
        return {"expected_events": self._expected(full, v["t_start"], v["t_end"])}

    def pointwise_log_likelihood(self, draws: Mapping[str, np.ndarray],
                                 data: PreparedData) -> dict[str, np.ndarray]:
        """``log λ(t_j) - Λ(t_{j-1}, t_j)`` per event (the last one also ``- Λ(t_n, t_end)``).

        The sequential decomposition of the point-process likelihood (each term is the
        log density of the next event time given the past), which sums to the full log
        likelihood.  Returns ``{"time": (*leading, n)}``.
        """
        from .kernels import kernel_integral

        v = data.values
        full = {k: np.asarray(x, dtype=float)[..., None] for k, x in self._full(draws).items()}
        t = np.asarray(v["t"], dtype=float)
        lead = np.broadcast_shapes(*(np.shape(x)[:-1] for x in full.values()))
        full = {k: np.broadcast_to(x, (*lead, 1)) for k, x in full.items()}
        lam = full["mu"] + full["K"] * np.exp(-full["p"] * np.log(t + full["c"]))
        prev = np.concatenate([[v["t_start"]], t[:-1]])
        comp = full["mu"] * (t - prev) + full["K"] * kernel_integral(prev, t, full["c"], full["p"])
        out = np.log(lam) - comp
        tail = full["mu"][..., 0] * (v["t_end"] - t[-1]) + full["K"][..., 0] * kernel_integral(
            t[-1], v["t_end"], full["c"][..., 0], full["p"][..., 0])
        out[..., -1] -= tail
        return {"time": out}

    def posterior_predictive(self, draws: Mapping[str, np.ndarray], data: PreparedData,
                             rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n_events``: Poisson(``Λ``) replicated numbers of events in the window."""
        v = data.values
        full = {k: np.asarray(x, dtype=float) for k, x in self._full(draws).items()}
        return {"n_events": rng.poisson(self._expected(full, v["t_start"], v["t_end"]))}

    def residuals(self, fit: Fit) -> ResidualAnalysis:
        """Transformed-time residual analysis at the estimate (SAPP's ``respoi``)."""
        from .residuals import omori_residuals

        self._check_fit(fit)
        v = fit.data.values
        return omori_residuals(self._point(fit), np.asarray(v["t"]), v["t_start"], v["t_end"])

    def predict(
        self,
        fit: Fit,
        t1: Any = None,
        t2: Any = None,
        magnitudes: Any = None,
        n_sims: int = 4000,
        prob: float = 0.9,
        seed: int | None = None,
    ) -> pd.DataFrame:
        """Forecast of the number of aftershocks ``M >= m`` in ``[t1, t2]``.

        The count is Poisson with mean ``(mu (t2 - t1) + K ∫_{t1}^{t2} (t + c)^(-p) dt)
        10^(-b (m - mc))`` (a thinned non-stationary Poisson process), mixed over the
        parameter draws (and the b-value's uncertainty).

        Parameters
        ----------
        fit : Fit
            A fit of this model.
        t1, t2 : float or date-time, optional
            Window on the data's time axis; default the end of the fit window and one day
            later.
        magnitudes : array_like, optional
            Thresholds ``>= mc`` (need magnitudes in the data); default ``[mc]`` (all
            events of the modelled population).
        n_sims : int
            Number of simulated counts.
        prob : float
            Interval mass.
        seed : int, optional
            Random seed (default: from the fit's seed).

        Returns
        -------
        pandas.DataFrame
            As :meth:`ETAS.predict`.
        """
        from ..arviz_io import draws_kind, predictive_rng

        self._check_fit(fit)
        v = fit.data.values
        ref = fit.data.summary.get("reference_time")
        t_ms = float(v["main_shock_time"])
        t1 = float(v["t_end"]) + t_ms if t1 is None else _time_value("t1", t1, ref)
        t2 = t1 + 1.0 if t2 is None else _time_value("t2", t2, ref)
        if not t_ms <= t1 < t2:
            raise OptionError(
                f"the forecast window [{t1!r}, {t2!r}] is not allowed; use "
                f"main_shock_time={t_ms!r} <= t1 < t2"
            )
        n_sims = self._count("n_sims", n_sims)
        check_prob(prob)
        has_b = math.isfinite(float(v["b"]))
        if magnitudes is None:
            mags = np.array([float(v["mc"])])
        elif not has_b or not math.isfinite(float(v["mc"])):
            raise OptionError(
                "magnitudes= needs magnitudes in the data (or b= and mc=): this fit has none"
            )
        else:
            mags = self._thresholds(magnitudes, float(v["mc"]), fit)
        rng = (np.random.default_rng(_checks.seed(seed)) if seed is not None
               else predictive_rng(fit))
        vals = self._parameter_values(fit)
        n_draws = vals["K"].size
        vals.setdefault("mu", np.zeros(n_draws))
        idx = rng.choice(n_draws, size=n_sims, replace=n_sims > n_draws)
        vals = {k: a[idx] for k, a in vals.items()}
        lam = self._expected(vals, t1 - t_ms, t2 - t_ms)
        if has_b:
            # P(M >= m) = 10^(-b (m - mc)): exact on the magnitude grid for binned data
            b = self._b_draws((n_sims,), fit.data)
            shift = np.where(np.isfinite(mags), mags - float(v["mc"]), 0.0)
            frac = np.exp(-b[:, None] * LN10 * shift[None, :])
        else:
            frac = np.ones((n_sims, 1))
        counts = rng.poisson(lam[:, None] * frac)
        df = self._count_table(mags, counts, prob)
        df.attrs.update({"t1": t1, "t2": t2, "n_sims": n_sims, "prob": prob,
                         "draws_kind": draws_kind(fit) if n_draws > 1 else "point",
                         "counts": counts})
        return df

    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """Event rate vs time with the fitted law, and the transformed-time residuals."""
        from ..plots.etas import omori_rate_figure, residual_figure, residual_title

        res = self.residuals(fit)
        return [
            ("Aftershock rate and the fitted Omori–Utsu law", omori_rate_figure(self, fit)),
            (residual_title(res), residual_figure(res, "Omori–Utsu")),
        ]
