"""The temporal ETAS family (Ogata 1988); overview, priors and references in
:mod:`pystats.etas.model`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterator, Mapping
from numbers import Real
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _checks
from .._checks import check_prob
from .._checks import number as _number
from .._warnings import warn as _warn
from ..cli_spec import Argument, CommandLine, fix_argument, forecast_window, number_or_text
from ..constraints import Interval, Mappings, Option, StrOptions
from ..errors import DataError, DataWarning, OptionError, PystatsError
from ..model import Pilot, PreparedData, SamplerCoordinates
from .commands import SIMULATE_COMMANDS
from .inputs import FEW_EVENTS, MIN_EVENTS, _read_events, _time_value, _too_few
from .point_process import (
    _DEFAULT_PRIORS,
    _K_PRIOR_SCALE,
    _MU_PRIOR_SCALE,
    LN10,
    _PointProcessModel,
)
from .productivity import (
    ALPHA0,
    C0,
    P0,
    _binned_gr_sampler,
    _mean_productivity_truncated,
    moment_matching_K,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..diagnostics import ModelCheck
    from ..fit import Fit
    from .residuals import ResidualAnalysis
    from .simulate import SimulatedCatalog

__all__ = ["ETAS", "ETAS_PARAMETER_NAMES", "LIKELIHOODS"]

ETAS_PARAMETER_NAMES = ("mu", "K", "c", "alpha", "p")
"""ETAS parameters in Ogata's (and the Stan programs') order."""
LIKELIHOODS = ("auto", "exact", "fast")
"""Values of the ETAS ``likelihood`` option."""

STAN_SOE_C_RANGE = (1e-6, 10.0)
"""Range of ``c`` (time units of the data) covered by the fixed SOE lattice passed to Stan
(:func:`pystats.etas.stan.etas_history_stan_data`)."""
STAN_SOE_P_RANGE = (0.3, 3.0)
"""Range of ``p`` covered by the fixed SOE lattice passed to Stan."""
STAN_EXACT_MAX_EVENTS = 300
"""``likelihood="auto"`` gives Stan the exact ``O(N^2)`` history sums up to this many
events, the SOE ones above.  Lower than the torch switch (1 200): Stan's reverse-mode
autodiff records every pair, so the exact sums cost far more per gradient there (the
Miyagi NUTS fit, 553 events: ~86 s with SOE, over 15 minutes exact)."""

PILOT_MIN_TARGETS = 40_000
"""With the fast likelihood and at least this many target events, the optimiser's starts
run on a pilot subsample (:meth:`ETAS.pilot`)."""
PILOT_TARGETS = 20_000
"""Target events of the pilot subsample: the last ones of the window."""
PILOT_HISTORY = 10_000
"""Events before the pilot's targets kept as its history (they excite, not fitted)."""
PIVOT_STEP = 0.5
"""``k_pivot="auto"`` (:meth:`ETAS._auto_pivot`): spacing of the points on the posterior
ridge, in Laplace standard deviations of ``log alpha``."""
PIVOT_LOG_TAIL = math.log(100.0)
"""... walked outwards from the mode until the approximate marginal density of ``alpha`` is
below ``exp(-PIVOT_LOG_TAIL)`` (1 %) of its value at the mode (the slope is sensitive to
how far into the right tail the points go: SAPP's Miyagi sequence gives M 5.80, 5.83, 5.88,
5.97 for 13.5 %, 5 %, 1 %, 0.1 %; its NUTS draws give 5.87-5.91) ..."""
PIVOT_MAX_STEPS = 24
"""... or for at most this many steps on each side."""
PIVOT_MIN_LINEARITY = 0.5
"""``k_pivot="auto"`` keeps ``K`` at ``M_ref`` when the ridge slope is below this fraction of
the slope at the mode: a strongly curved ridge (a long right tail of ``alpha``, weakly
identified) is not straightened by a linear pivot, and sampling got worse with one
(a simulated 209-event sequence: ratio 0.16; Miyagi: 0.65; ``models/etas.md``)."""


class ETAS(_PointProcessModel):
    """Temporal ETAS model (Ogata 1988) with Gutenberg–Richter magnitudes.

    Parameters
    ----------
    mc : float, optional
        Magnitude threshold (completeness magnitude): events below it are dropped, history
        included.  Default: the smallest magnitude in the data.
    reference_magnitude : float, optional
        ``M_ref`` of the productivity ``K exp(alpha (M - M_ref))``; default ``mc``.  Use
        the main-shock magnitude to compare with SAPP's aftershock examples
        (``reference`` argument of ``etasap``).
    mu : float, optional
        ``None`` (default): the background rate is estimated.  A number fixes it, e.g.
        ``mu=0`` for a single aftershock sequence (SAPP's convention); then the first
        event of the fitting window needs earlier events (the main shock) to excite it.
    fixed : dict, optional
        Other parameters held fixed, e.g. ``{"alpha": 1.2}`` (``K``, ``c``, ``p`` > 0;
        ``alpha`` >= 0).  ``mu`` may be given here or as ``mu=``, not both.
    b : float, optional
        Gutenberg–Richter b-value of the magnitudes.  ``None`` (default) estimates it
        from the target events with :func:`pystats.gr.estimators.b_value` (Tinti &
        Mulargia 1987 for binned magnitudes, Aki 1965 for continuous ones); its standard
        error is propagated into the derived quantities and forecasts.
    delta_m : float, optional
        Magnitude bin width; ``None`` infers it (0 for continuous magnitudes).
    likelihood : {"auto", "exact", "fast"}
        Evaluation of the log-likelihood (:func:`pystats.etas.likelihood.etas_loglik`):
        ``exact`` (all pairs, ``O(N^2)``), ``fast`` (sum of exponentials, ``O(N)``,
        relative error ~1e-10), ``auto``: exact up to 1 200 events before ``t_end`` in
        torch, up to :data:`STAN_EXACT_MAX_EVENTS` (300) in Stan (``use_soe``), whose
        autodiff makes exact sums costlier; ``exact`` or ``fast`` apply to both.
    priors : dict, optional
        Replace default priors: parameter name -> ``(loc, scale)`` of a log-normal prior
        (``loc`` is the log of the median); see the module docstring for the defaults.
    k_pivot : "auto", float or None
        ``method="nuts"`` only: the magnitude at which the sampler's ``K`` coordinate is
        defined (the posterior, the prior on ``K`` and every reported value are
        unchanged: ``K`` is always the productivity at ``reference_magnitude``).  With
        ``M_ref`` far from where the data pin the productivity down (e.g. the main shock of
        a sequence) ``log K`` and ``alpha`` are strongly correlated, which NUTS' diagonal
        metric pays for in leapfrog steps.  ``"auto"`` (default): the magnitude where they
        are uncorrelated, the slope of ``log K`` on ``alpha`` along the posterior ridge
        from the torch engine (:meth:`sampler_coordinates`; 2-4 s of CPU for 550 events,
        against a minute of sampling; SAPP's Miyagi sequence: 1.7x fewer leapfrog steps),
        within the data's magnitudes (``M_ref`` when that ridge is too curved for a linear
        pivot to help, :data:`PIVOT_MIN_LINEARITY`); a number: that magnitude; ``None``:
        sample ``K`` at ``M_ref``.  Ignored when ``K`` or ``alpha`` is fixed.  The choice is in
        ``fit.metadata["sampler_coordinates"]``.

    Raises
    ------
    OptionError
        Unknown options or values that are not allowed (the message names them).

    Notes
    -----
    ``fit(data, method=..., t_start=..., t_end=...)``: ``data`` is a
    :class:`~pystats.Catalog`, a DataFrame with ``time`` and ``magnitude`` columns, a pair
    of arrays or a :class:`~pystats.etas.simulate.SimulatedCatalog`; times must be
    strictly increasing (:meth:`Catalog.check_times`).  The window defaults to the first
    and last event times; events before ``t_start`` (e.g. the main shock) excite the rate
    but are not targets (SAPP's ``tstart``); events after ``t_end`` are ignored.  Times
    are in days for a Catalog (its :attr:`~pystats.Catalog.times`); the window bounds may
    be date-times when the catalogue has a reference time.

    Derived quantities: ``branching_ratio``, the mean number of direct offspring, within
    the window length ``T``, of an event with GR magnitude ``>= mc``:
    ``K E[e^{alpha (M - M_ref)}] ∫_0^T (t + c)^(-p) dt`` (``inf`` for ``alpha >= b ln 10``;
    over an infinite time it diverges for ``p <= 1``, so the window is used), and ``b``
    when it is estimated (draws from its asymptotic normal law, independent of the ETAS
    parameters because the likelihood factorises).

    Examples
    --------
    >>> import pystats
    >>> from pystats.etas.simulate import simulate_etas
    >>> cat = simulate_etas(0.4, 0.02, 0.01, 1.5, 1.2, m_ref=3.0, t_end=1000.0, mc=3.0,
    ...                     b=1.0, rng=3)
    >>> fit = pystats.ETAS(mc=3.0).fit(cat, seed=1)
    >>> fit.summary().loc["p", ["estimate", "lower", "upper"]].round(1).tolist()  # true p = 1.2
    [1.3, 1.1, 1.5]
    """

    family: ClassVar[str] = "etas"
    _names: ClassVar[tuple[str, ...]] = ETAS_PARAMETER_NAMES
    precondition_optimizer: ClassVar[bool] = True
    """Optimise in coordinates whitened by the Hessian at the start (a Hessian costs about
    two evaluations here): the JMA fit (13 724 events) takes ~44 evaluations for two starts
    against ~67 with plain L-BFGS, and ends closer to the optimum."""
    options_spec: ClassVar[dict[str, Option]] = {
        "mc": Option(None, [None, Interval(Real)],
                     allowed="None (smallest magnitude) or a finite number"),
        "reference_magnitude": Option(None, [None, Interval(Real)],
                                      allowed="None (= mc) or a finite number"),
        "mu": Option(None, [None, Interval(Real, 0, None)],
                     allowed="None (estimate it) or a finite number >= 0"),
        "fixed": Option(None, [None, Mappings()],
                        allowed="None or a dict parameter name -> value, e.g. {'alpha': 1.2}"),
        "b": Option(None, [None, Interval(Real, 0, None, closed="neither")],
                    allowed="None (estimate it) or a number > 0"),
        "delta_m": Option(None, [None, Interval(Real, 0, None)],
                          allowed="None (infer), 0 (continuous) or a bin width > 0"),
        "likelihood": Option("auto", [StrOptions(LIKELIHOODS)]),
        "priors": Option(None, [None, Mappings()], allowed="None or a dict parameter name "
                         "-> (loc, scale) of a log-normal prior"),
        "k_pivot": Option("auto", [None, StrOptions(("auto",)), Interval(Real)],
                          allowed="'auto', None (sample K at reference_magnitude) or a "
                          "finite magnitude"),
    }
    """The options (see Parameters); ``fixed`` and ``priors`` entries are checked in
    :meth:`_validate_options`."""
    cli: ClassVar[CommandLine] = CommandLine(
        name="etas", title="ETAS", help="temporal ETAS",
        fit=(
            Argument("--mc", type=number_or_text, help="completeness magnitude (default: "
                     "smallest magnitude)"),
            Argument("--delta-m", type=float, help="magnitude bin width (default: inferred)"),
            Argument("--reference-magnitude", type=float,
                     help="M_ref of the productivity K exp(alpha (M - M_ref)) (default: mc)"),
            Argument("--mu", type=float, help="fix the background rate (events/day), e.g. 0 "
                     "for one aftershock sequence (default: estimated)"),
            Argument("--b", type=float,
                     help="Gutenberg-Richter b-value of the magnitudes (default: estimated)"),
            fix_argument("alpha=1.2"),
            Argument("--likelihood", choices=LIKELIHOODS, help="evaluation"),
            Argument("--t-start", to="data", type=number_or_text,
                     help="start of the fitting window (days or ISO date); earlier events "
                     "excite the rate but are not fitted (default: first event)"),
            Argument("--t-end", to="data", type=number_or_text,
                     help="end of the fitting window (default: last event)"),
        ),
        predict=(
            *forecast_window(),
            Argument("--n-sims", type=int, help="number of simulations (default 1000)"),
            Argument("--m-max", type=float, help="largest simulated magnitude; needed when "
                     "alpha >= b ln 10"),
            Argument("--allow-supercritical", action="store_true",
                     help="forecast even from a supercritical estimate"),
        ),
        simulate=SIMULATE_COMMANDS,
    )

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        o = options  # every option, each allowed by options_spec
        fixed = self._check_fixed(o["fixed"], ETAS_PARAMETER_NAMES)
        if o["mu"] is not None:
            if "mu" in fixed:
                raise OptionError("mu is given both as mu= and in fixed=; give it once")
            fixed["mu"] = o["mu"]
        if len(fixed) == len(ETAS_PARAMETER_NAMES):
            raise OptionError("every ETAS parameter is fixed; leave at least one free")
        o["fixed"] = MappingProxyType(dict(sorted(fixed.items(),
                                                  key=lambda kv: self._names.index(kv[0]))))
        free = tuple(n for n in ETAS_PARAMETER_NAMES if n not in fixed)
        o["priors"] = MappingProxyType(self._check_priors(o["priors"], free))
        return o

    # ------------------------------------------------------------------ prepare
    def prepare(self, data: Any, t_start: Any = None, t_end: Any = None) -> PreparedData:
        """Validate and copy ``data``; select the events and the fitting window.

        Parameters
        ----------
        data : Catalog, DataFrame, (times, magnitudes) or SimulatedCatalog
            Events with strictly increasing times; never modified.
        t_start, t_end : float or date-time, optional
            Fitting window (default: first and last event at or above ``mc``).

        Returns
        -------
        PreparedData
            ``values``: ``t``, ``m`` (events at or above ``mc`` up to ``t_end``, history
            first), ``first`` (0-based index of the first target), window, ``m_ref``,
            ``mc``, ``b``, ``b_se``, ``delta_m``, ``use_soe``, ``stan_use_soe`` and the prior
            hyperparameters; ``observed``: ``time``, ``magnitude`` of the targets;
            ``summary``: counts, window, b-value and notes.

        Raises
        ------
        DataError
            Unreadable data, unsorted or duplicated times, missing magnitudes, fewer than
            2 events in the window, or ``mu = 0`` with no event before the first target.
        OptionError
            ``t_start >= t_end`` or unreadable bounds.
        """
        o = self.options
        ev = _read_events(data, need_magnitudes=True, family="ETAS")
        times, mags = ev["times"], ev["magnitudes"]
        notes: list[str] = []
        n_input = int(times.size)
        if o["mc"] is None:
            mc, mc_source = float(np.min(mags)), "smallest magnitude in the data"
        else:
            mc, mc_source = float(o["mc"]), "given"
        keep = mags >= mc - 1e-9
        n_below = int(n_input - keep.sum())
        if n_below:
            notes.append(f"{n_below} of {n_input} events below mc={mc:g} were dropped")
        times, mags = times[keep], mags[keep]
        if times.size == 0:
            raise DataError(f"no event has a magnitude at or above mc={mc:g}")
        if times.size < MIN_EVENTS:
            raise DataError(_too_few(
                "ETAS", int(times.size), mc,
                f" ({n_below} of {n_input} are below mc={mc:g})" if n_below else ""))
        ref = ev["reference_time"]
        ts = float(times[0]) if t_start is None else _time_value("t_start", t_start, ref)
        te = float(times[-1]) if t_end is None else _time_value("t_end", t_end, ref)
        if not ts < te:
            raise OptionError(f"t_start={ts!r} must be below t_end={te!r} (the fitting window)")
        n_after = int(np.sum(times > te))
        if n_after:
            notes.append(f"{n_after} events after t_end={te:g} were ignored")
        keep = times <= te
        times, mags = times[keep], mags[keep]
        first = int(np.searchsorted(times, ts, side="left"))
        n_targets = int(times.size - first)
        if n_targets < MIN_EVENTS:
            bounds = ("the default window (first to last event)"
                      if t_start is None and t_end is None else "the window")
            raise DataError(
                f"only {n_targets} event(s) with M >= mc={mc:g} lie in {bounds} "
                f"[{ts:g}, {te:g}]; ETAS needs at least {MIN_EVENTS} target events (and "
                f"{FEW_EVENTS} or more for usable estimates): widen the window or lower mc"
            )
        if n_targets < FEW_EVENTS:
            _warn(
                f"only {n_targets} events in the window: ETAS estimates from so few events are "
                "unreliable (consider fixing parameters, e.g. alpha, or method='nuts')",
                DataWarning,
            )
        mu_fixed = self.fixed.get("mu")
        if mu_fixed == 0.0 and first == 0:
            raise DataError(
                f"mu is fixed at 0 but no event precedes the first event of the window "
                f"(t={times[0]:g}), whose intensity is then 0; start the window after the main "
                "shock (t_start > its time, SAPP's tstart) or let mu be estimated"
            )
        m_ref = mc if o["reference_magnitude"] is None else float(o["reference_magnitude"])
        targets_m = mags[first:]
        b, b_se, delta_m = self._b_value(targets_m, mc)
        span = te - ts
        lik = o["likelihood"]
        from .likelihood import AUTO_EXACT_MAX_EVENTS

        lik_stan = lik
        if lik == "auto":
            lik = "exact" if times.size <= AUTO_EXACT_MAX_EVENTS else "fast"
            lik_stan = "exact" if times.size <= STAN_EXACT_MAX_EVENTS else "fast"
        # priors
        n_trig = self._triggered_share(n_targets, span)
        fx = self.fixed
        k0 = moment_matching_K(times, mags, ts, te, m_ref, n_trig, c=fx.get("c", C0),
                               p=fx.get("p", P0), alpha=fx.get("alpha", ALPHA0))
        defaults = {
            **_DEFAULT_PRIORS,
            "mu": (math.log(n_targets / span) - math.log(2.0), _MU_PRIOR_SCALE),
            "K": (math.log(k0), _K_PRIOR_SCALE),
        }
        values: dict[str, Any] = {
            "t": times,
            "m": mags,
            "first": first,
            "n_targets": n_targets,
            "t_start": ts,
            "t_end": te,
            "m_ref": m_ref,
            "mc": mc,
            "b": b if o["b"] is None else float(o["b"]),
            "b_se": b_se if o["b"] is None else 0.0,
            "b_estimated": int(o["b"] is None),
            "delta_m": delta_m,
            "use_soe": int(lik == "fast"),
            "stan_use_soe": int(lik_stan == "fast"),
            **self._prior_entries(defaults),
        }
        summary = {
            "n": n_targets,
            "n_history": first,
            "n_input": n_input,
            "n_below_mc": n_below,
            "source": ev["source"],
            "reference_time": ref,
            "mc": mc,
            "mc_source": mc_source,
            "reference_magnitude": m_ref,
            "t_start": ts,
            "t_end": te,
            "window_length": span,
            "b": values["b"],
            "b_se": values["b_se"],
            "b_source": "estimated from the target events" if o["b"] is None else "given",
            "delta_m": delta_m,
            "likelihood": lik,
            "stan_likelihood": lik_stan,
            "fixed": dict(self.fixed),
            "notes": notes,
        }
        observed = {"time": times[first:], "magnitude": targets_m}
        return PreparedData(values=values, observed=observed, summary=summary)

    def pilot(self, data: PreparedData, method: str) -> Pilot | None:
        """Where the optimiser's starts run for large fits (:meth:`pystats.model.Model.pilot`).

        * ``likelihood="exact"`` beyond :data:`~pystats.etas.likelihood.AUTO_EXACT_MAX_EVENTS`
          events: the same data with the fast (SOE) likelihood, which agrees with the exact
          one to ~1e-12 relative; the exact fit then starts at that optimum, whitened by its
          Hessian, and only polishes it (JMA, 13 724 events: 132 exact evaluations before).
        * fast likelihood with at least :data:`PILOT_MIN_TARGETS` target events: the last
          :data:`PILOT_TARGETS` target events of the window, with the
          :data:`PILOT_HISTORY` events before them as history (a window of the same
          process, so its optimum is near the full one; the earlier history it lacks only
          shifts it a little); Hessian scale ``n_targets / PILOT_TARGETS``.
        """
        v = data.values
        n, first = int(v["n_targets"]), int(v["first"])
        from .likelihood import AUTO_EXACT_MAX_EVENTS

        if not int(v["use_soe"]):
            if n + first <= AUTO_EXACT_MAX_EVENTS:
                return None
            return Pilot(PreparedData({**v, "use_soe": 1}, data.observed, data.summary), 1.0,
                         "the same events with the fast (SOE) likelihood")
        if n < PILOT_MIN_TARGETS:
            return None
        t, m = np.asarray(v["t"]), np.asarray(v["m"])
        j1 = t.size - PILOT_TARGETS
        j0 = max(j1 - PILOT_HISTORY, 0)
        values = {**v, "t": t[j0:], "m": m[j0:], "first": j1 - j0,
                  "n_targets": PILOT_TARGETS, "t_start": float(t[j1])}
        pilot = PreparedData(values, {"time": t[j1:], "magnitude": m[j1:]},
                             {"n": PILOT_TARGETS, "n_history": j1 - j0})
        return Pilot(pilot, n / PILOT_TARGETS,
                     f"the last {PILOT_TARGETS} target events (from t = {t[j1]:g}) with "
                     f"{j1 - j0} events of history")

    def _triggered_share(self, n_targets: int, span: float) -> float:
        mu = self.fixed.get("mu")
        if mu is None:
            return 0.5 * n_targets
        return max(n_targets - mu * span, 0.1 * n_targets)

    # ------------------------------------------------------------------ likelihood
    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """ETAS log-likelihood on the window (:func:`pystats.etas.likelihood.etas_loglik`)."""
        from .likelihood import etas_loglik

        t = tensors["t"]
        # the parameter-free geometry is kept with these data for the optimiser's calls
        return etas_loglik(self._full(params), t, tensors["m"], tensors["t_start"],
                           tensors["t_end"], tensors["m_ref"],
                           method="fast" if int(tensors["use_soe"]) else "exact",
                           device=t.device, cache=tensors.setdefault("_geometry", {}))

    def log_likelihood_jets_torch(self, params: dict[str, Any], tensors: dict[str, Any]
                                  ) -> tuple[Any, Any, Any] | None:
        """Value, gradient and Hessian in the free parameters from one second-order pass
        (:func:`pystats.etas.likelihood.etas_loglik_jets`), for the fit's Hessians; ``None``
        (autograd) for the dense exact path of small catalogues."""
        from .likelihood import etas_loglik_jets

        t = tensors["t"]
        out = etas_loglik_jets(self._full(params), t, tensors["m"], tensors["t_start"],
                               tensors["t_end"], tensors["m_ref"],
                               method="fast" if int(tensors["use_soe"]) else "exact",
                               device=t.device, cache=tensors.setdefault("_geometry", {}))
        if out is None:
            return None
        value, grad, hess = out
        idx = [ETAS_PARAMETER_NAMES.index(n) for n in self.free_parameters]
        return value, grad[idx], hess[idx][:, idx]

    # ------------------------------------------------------------------ Stan
    def stan_program(self) -> Any:
        """The generated program for this set of fixed parameters
        (:func:`pystats.etas.stan.etas_stan_program`)."""
        from .stan import etas_stan_program

        return etas_stan_program(tuple(self.fixed))

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """The Stan data of the ETAS/Stan contract (without ``include_prior``)."""
        from .stan import etas_history_stan_data

        v = data.values
        t = np.asarray(v["t"], dtype=float)
        # the SOE lattice is data in Stan: it covers every (c, p) the sampler may visit
        history = etas_history_stan_data(
            int(t.size), max(float(v["t_end"]) - float(t[0]), 1e-9),
            method="soe" if int(v["stan_use_soe"]) else "exact",
            c_range=STAN_SOE_C_RANGE, p_range=STAN_SOE_P_RANGE,
        )
        history = {k: (np.asarray(x, dtype=float).tolist() if isinstance(x, np.ndarray) else x)
                   for k, x in history.items()}
        return {
            "N": int(t.size),
            "t": t.tolist(),
            "m": np.asarray(v["m"], dtype=float).tolist(),
            "first": int(v["first"]) + 1,
            "t_start": float(v["t_start"]),
            "t_end": float(v["t_end"]),
            "m_ref": float(v["m_ref"]),
            "m_pivot": float(v.get("m_pivot", v["m_ref"])),
            **history,
            **self._stan_parameter_entries(v),
        }

    def sampler_coordinates(self, data: PreparedData, rng: np.random.Generator
                            ) -> SamplerCoordinates | None:
        """NUTS samples ``K`` at the pivot magnitude of the ``k_pivot`` option (see the class).

        The Stan program's ``K`` is then the productivity at ``m_pivot``, its generated
        ``K_ref`` the model's ``K`` (:mod:`pystats.etas.stan`): initial values are mapped
        with ``K_piv = K e^{-alpha (M_ref - m_pivot)}``, and the fit's ``K`` draws are
        ``K_ref``.  With ``k_pivot=None`` or ``alpha`` fixed the pivot is ``M_ref`` (the
        plain coordinates; ``K_ref`` is still dropped from the draws); ``None`` when ``K``
        is fixed (the program then has no ``K_ref``).
        """
        if "K" in self.fixed:
            return None
        option = self.options["k_pivot"]
        v = data.values
        m_ref = float(v["m_ref"])
        if option is None or "alpha" in self.fixed:
            m_pivot, info = m_ref, {"source": "none: K sampled at reference_magnitude"}
        elif option == "auto":
            try:
                m_pivot, info = self._auto_pivot(data, rng)
            except (PystatsError, ArithmeticError, ValueError, np.linalg.LinAlgError) as e:
                m_pivot, info = m_ref, {"source": f"auto failed ({type(e).__name__}: {e}); K "
                                                  "sampled at reference_magnitude"}
        else:
            m_pivot, info = float(option), {"source": "given (k_pivot)"}
        shift = m_ref - m_pivot

        def to_sampler(values: Mapping[str, Any]) -> dict[str, Any]:
            out = dict(values)
            if "K" in out and shift != 0:
                alpha = float(np.asarray(out.get("alpha", ALPHA0)))
                out["K"] = np.asarray(out["K"], dtype=float) * math.exp(-alpha * shift)
            return out

        def from_sampler(draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            out = dict(draws)
            out["K"] = out.pop("K_ref")  # the program's K is K(m_pivot); K_ref is K(M_ref)
            return out

        values = {**v, "m_pivot": m_pivot}
        return SamplerCoordinates(
            PreparedData(values, data.observed, data.summary), to_sampler, from_sampler,
            {"k_pivot": m_pivot, "reference_magnitude": m_ref, **info},
        )

    def _auto_pivot(self, data: PreparedData, rng: np.random.Generator
                    ) -> tuple[float, dict[str, Any]]:
        """``k_pivot="auto"``: the least-squares slope of ``log K`` on ``alpha`` along the
        posterior ridge (:func:`pystats.etas.stan.decorrelating_pivot`).

        The posterior mode and Laplace covariance on the unconstrained scale (torch
        engine) give the scale ``s`` of ``log alpha``; at ``log alpha = mode + z s``, ``z``
        in steps of :data:`PIVOT_STEP` outwards from the mode until the weight is
        negligible (:data:`PIVOT_LOG_TAIL`), the other parameters are maximised
        (warm-started from the previous point), and the points ``(alpha, log K)`` are
        weighted by the Laplace approximation of the marginal posterior of ``alpha``
        there.  The ridge is curved (SAPP's Miyagi sequence: slope 0.8 below the mode,
        0.3 above) and ``alpha``'s posterior right-skewed, so the Laplace covariance alone
        (the slope at the mode) over-corrects.  When the ridge slope is below
        :data:`PIVOT_MIN_LINEARITY` times the slope at the mode, no pivot (``M_ref``).
        """
        from scipy.optimize import minimize

        from ..backends import get_backend
        from ..inference import _covariance, _random_start, maximize
        from .stan import decorrelating_pivot

        v = data.values
        m_ref = float(v["m_ref"])
        m = np.asarray(v["m"], dtype=float)
        params = self.parameters(data)
        names = list(self.free_parameters)
        i_k, i_a = names.index("K"), names.index("alpha")
        density = get_backend("torch").log_density(self, data, include_prior=True)
        starts = [_random_start(self, data, params, rng) for _ in range(2)]
        opt = maximize(density, starts, jacobian=True, precondition=True, label="k_pivot")
        cov_u, pd, _ = _covariance(-density.hessian(opt.u, True))
        if not (opt.converged and pd):
            return m_ref, {"source": "auto: the posterior mode or its Hessian failed; K "
                                     "sampled at reference_magnitude"}
        corr = float(cov_u[i_k, i_a] / math.sqrt(cov_u[i_k, i_k] * cov_u[i_a, i_a]))
        scale = math.sqrt(cov_u[i_a, i_a])
        others = [i for i in range(len(names)) if i != i_a]

        def ridge(z: float, x0: np.ndarray) -> tuple[np.ndarray, float]:
            u = opt.u.copy()
            u[i_a] = opt.u[i_a] + z * scale

            def f(x: np.ndarray) -> tuple[float, np.ndarray]:
                u[others] = x
                val, grad = density.value_and_grad(u, True)
                if not np.isfinite(val):
                    return math.inf, np.zeros(len(others))
                return -float(val), -np.asarray(grad, dtype=float)[others]

            res = minimize(f, x0, jac=True, method="L-BFGS-B")
            u[others] = res.x
            return u.copy(), -float(res.fun)

        def marginal(u: np.ndarray, value: float) -> float:
            # the marginal posterior of alpha, Laplace over the other parameters (Tierney &
            # Kadane 1986): the profile times det(-H_others)^(-1/2) at the ridge point
            h = -np.asarray(density.hessian(u, True), dtype=float)[np.ix_(others, others)]
            sign, logdet = np.linalg.slogdet(h)
            return value - 0.5 * logdet if sign > 0 and np.isfinite(value) else -math.inf

        points = [(opt.u.copy(), marginal(opt.u, float(opt.log_density)))]
        for step in (PIVOT_STEP, -PIVOT_STEP):  # outwards until the marginal is negligible
            x0, z = opt.u[others], 0.0
            for _ in range(PIVOT_MAX_STEPS):
                z += step
                u, value = ridge(z, x0)
                points.append((u, marginal(u, value)))
                if not points[-1][1] > points[0][1] - PIVOT_LOG_TAIL:
                    break
                x0 = u[others]
        us = np.array([p[0] for p in points])
        logp = np.array([p[1] for p in points])
        weights = np.exp(logp - logp[0])
        pivot = decorrelating_pivot(m_ref, us[:, i_k], np.exp(us[:, i_a]), weights=weights,
                                    m_range=(float(m.min()), float(m.max())))
        # the slope at the mode alone, cov(log K, log a) / (a var(log a))
        laplace = m_ref - cov_u[i_k, i_a] / (float(np.exp(opt.u[i_a])) * cov_u[i_a, i_a])
        ratio = (m_ref - pivot) / (m_ref - laplace) if laplace != m_ref else 0.0
        if not ratio >= PIVOT_MIN_LINEARITY:
            return m_ref, {"source": f"auto: the ridge of log K on alpha is too curved (slope "
                                     f"ratio {ratio:.2f} < {PIVOT_MIN_LINEARITY}) for a "
                                     "linear pivot; K sampled at reference_magnitude",
                           "corr_logK_logalpha_at_reference": corr,
                           "k_pivot_ridge": float(pivot), "k_pivot_laplace": float(laplace)}
        return pivot, {"source": "auto: posterior ridge of log K on alpha, weighted by the "
                                 "Laplace marginal of alpha",
                       "corr_logK_logalpha_at_reference": corr,
                       "k_pivot_laplace": float(laplace)}

    # ------------------------------------------------------------------ values
    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """Random start around the moment-matching point (constrained scale).

        ``c``, ``p``, ``alpha`` are drawn around 0.01 d, 1.1 and 1.5 (or the fixed values),
        ``mu`` around half the mean rate, and ``K`` by :func:`moment_matching_K` so that the
        expected number of events equals the observed one: starts are never absurd.
        """
        v = data.values
        fx = self.fixed
        span = v["t_end"] - v["t_start"]
        n = v["n_targets"]

        def jit(x: float, s: float) -> float:
            return float(x * math.exp(s * rng.standard_normal()))

        c = fx.get("c", min(jit(C0, 0.7), 0.1 * span))
        p = fx.get("p", float(np.clip(jit(P0, 0.08), 0.6, 2.5)))
        alpha = fx.get("alpha", float(np.clip(jit(ALPHA0, 0.25), 0.2, 4.0)))
        mu = fx.get("mu", jit(0.5 * n / span, 0.3))
        n_trig = max(n - mu * span, 0.1 * n)
        K = fx.get("K", moment_matching_K(np.asarray(v["t"]), np.asarray(v["m"]), v["t_start"],
                                          v["t_end"], v["m_ref"], n_trig, c, p, alpha))
        if "K" in fx and "mu" not in fx:
            trig = K / moment_matching_K(np.asarray(v["t"]), np.asarray(v["m"]), v["t_start"],
                                         v["t_end"], v["m_ref"], 1.0, c, p, alpha)
            mu = max(n - trig, 0.1 * n) / span
        full = {"mu": mu, "K": K, "c": c, "alpha": alpha, "p": p}
        return {k: full[k] for k in self.free_parameters}

    def derived_inputs(self, data: PreparedData) -> dict[str, tuple[float, float]]:
        """``{"b": (b, se)}`` when ``b`` is estimated from the target magnitudes."""
        v = data.values
        if not v["b_estimated"] or v["b_se"] <= 0:
            return {}
        return {"b": (float(v["b"]), float(v["b_se"]))}

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """``branching_ratio`` (window length) and, when estimated, ``b``; see the class.

        ``b`` is read from ``draws["b"]`` when given (:meth:`derived_inputs`), else drawn
        from its sampling distribution for each draw (the estimate for a single point)."""
        from .kernels import kernel_integral
        from .simulate import mean_productivity

        v = data.values
        full = {k: np.asarray(x, dtype=float) for k, x in self._full(draws).items()}
        shape = np.broadcast_shapes(*(np.shape(x) for x in full.values()))
        full = {k: np.broadcast_to(x, shape) for k, x in full.items()}
        b = (np.broadcast_to(np.asarray(draws["b"], dtype=float), shape) if "b" in draws
             else self._b_draws(shape, data))
        prod = mean_productivity(full["alpha"], b * LN10, v["mc"], v["m_ref"], v["delta_m"])
        span = v["t_end"] - v["t_start"]
        integral = kernel_integral(0.0, span, full["c"], full["p"])
        with np.errstate(invalid="ignore", over="ignore"):
            ratio = np.where(np.isinf(prod), np.inf, full["K"] * prod * integral)
        out: dict[str, Any] = {"branching_ratio": ratio}
        if v["b_estimated"]:
            out["b"] = b
        return out

    def pointwise_log_likelihood(self, draws: Mapping[str, np.ndarray],
                                 data: PreparedData) -> dict[str, np.ndarray]:
        """``log λ(t_j) - Λ(t_{j-1}, t_j)`` per target event (the last also ``- Λ(t_n, t_end)``).

        The sequential decomposition of the point-process log likelihood (each term is the
        log density of the next event time given the past; ``t_0 = t_start``); the terms sum
        to the log likelihood.  All draws are evaluated together (no loop over draws,
        :mod:`pystats.etas._pointwise`): with the sum-of-exponentials kernel on one lattice
        covering the draws' ``(c, p)`` (relative error below 1e-10 for every draw, far
        below what PSIS-LOO resolves), ``O(draws × events × ~100)`` work and
        ``O(draws × n_targets)`` memory — 4 000 draws × 1 000 events in about 2-4 s
        (``tests/benchmarks/bench_etas_pointwise.py``).  With ``likelihood="exact"`` the
        pair sums are exact, ``O(draws × events^2)`` (about 150 ns per draw and pair).
        Computed on demand by ``Fit.to_arviz``.  Returns ``{"time": (*leading axes,
        n_targets)}``.
        """
        from ._pointwise import pointwise_exact, pointwise_soe

        v = data.values
        full = {k: np.asarray(x, dtype=float) for k, x in self._full(draws).items()}
        lead = np.broadcast_shapes(*(np.shape(x) for x in full.values()))
        flat = {k: np.broadcast_to(x, lead).reshape(-1) for k, x in full.items()}
        fn = pointwise_exact if self.options["likelihood"] == "exact" else pointwise_soe
        out = fn(flat, np.asarray(v["t"], dtype=float), np.asarray(v["m"], dtype=float),
                 float(v["t_start"]), float(v["t_end"]), float(v["m_ref"]))
        return {"time": out.reshape(*lead, out.shape[-1])}

    # ------------------------------------------------------------------ diagnostics
    def check_fit(self, fit: Fit) -> list[ModelCheck]:
        """``branching_ratio``: a fitted process that is supercritical (explosive).

        Fails when the branching ratio (see the class; the mean number of direct
        offspring within the window length) is at least 1 at the estimate — the optimum,
        or the posterior median for NUTS — and gives its 90 % interval and ``P(n >= 1)``
        over the fit's draws.  Such a fit describes a catalogue that explodes; forecasts
        by simulation refuse it (:meth:`predict`) unless magnitudes are capped.  Run by
        ``fit.diagnose()`` (and so at the end of every fit).
        """
        from ..arviz_io import draws_kind
        from ..diagnostics import ModelCheck

        name = "branching_ratio"
        point = fit.point if fit.point is not None and name in fit.point else None
        draws = fit.variable(name).reshape(-1) if name in fit.draws else None
        if point is None and draws is None:
            return []
        if point is not None:
            est, what = float(np.asarray(point[name])), "estimate"
        else:
            est, what = float(np.quantile(draws, 0.5, method="inverted_cdf")), "posterior median"
        detail = ""
        if draws is not None and draws.size > 1:
            lo, hi = np.quantile(draws, [0.05, 0.95], method="inverted_cdf")
            detail = (f" (90 % of the {draws_kind(fit).replace('_', ' ')} draws: "
                      f"{lo:.3g}–{hi:.3g}; P(n >= 1) = {np.mean(draws >= 1):.2f})")
        label = "Branching ratio"
        if est < 1:
            return [ModelCheck(name, label, True, f"{what} {est:.3g}{detail} < 1 — subcritical",
                               value=est, threshold=1.0)]
        v = fit.data.values
        alpha, beta = self._point(fit)["alpha"], float(v["b"]) * LN10
        if math.isinf(est):
            cause = (f"it is infinite because alpha = {alpha:.3g} >= b ln 10 = {beta:.3g}: with "
                     "unbounded Gutenberg–Richter magnitudes the mean productivity diverges "
                     "(forecasts and simulations need a largest magnitude, m_max=)")
        else:
            cause = ("each event triggers on average at least one direct offspring within the "
                     "window, so the fitted process explodes instead of settling to a "
                     "stationary rate (forecasts by simulation refuse it unless "
                     "allow_supercritical=True or m_max= is given)")
        return [ModelCheck(
            name, label, False, f"{what} {est:.3g}{detail} >= 1 — supercritical (explosive)",
            value=est, threshold=1.0,
            problem=(
                f"The branching ratio is {est:.3g}{detail}, at least 1: {cause}. Common "
                "causes are an incomplete catalogue (mc too low, missing early aftershocks), "
                "a non-stationary background, or alpha poorly constrained; check the "
                "magnitude of completeness, try fixing alpha, or cap magnitudes."
            ),
        )]

    def residuals(self, fit: Fit) -> ResidualAnalysis:
        """Transformed-time residual analysis (Ogata 1988) at the fit's estimate.

        ``τ_j = Λ(t_start, t_j)`` of the target events should form a unit-rate Poisson
        process; the result holds the KS tests of the gaps (vs Exp(1)) and of ``τ / Λ``
        (vs uniform) and a Poisson test of the count.  Uses the point estimate (the
        posterior mean for sampled fits); p-values assume known parameters (conservative
        after fitting).

        Returns
        -------
        pystats.etas.residuals.ResidualAnalysis
        """
        from .residuals import etas_residuals

        self._check_fit(fit)
        v = fit.data.values
        return etas_residuals(self._point(fit), np.asarray(v["t"]), np.asarray(v["m"]),
                              v["t_start"], v["t_end"], v["m_ref"], method=self._method(v))

    def background_probabilities(self, fit: Fit) -> pd.DataFrame:
        """Probability that each target event is a background event, ``mu / λ(t_j)``.

        Stochastic declustering (Zhuang, Ogata & Vere-Jones 2002) at the point estimate
        (posterior mean for sampled fits); ``1 - p_background`` is the probability that
        the event was triggered.  All zero when ``mu`` is fixed at 0.

        Returns
        -------
        pandas.DataFrame
            Columns ``time``, ``magnitude``, ``p_background``; ``attrs["expected_background"]``
            is their sum.
        """
        import pandas as pd

        from .residuals import background_probabilities

        self._check_fit(fit)
        v = fit.data.values
        prob = background_probabilities(self._point(fit), np.asarray(v["t"]), np.asarray(v["m"]),
                                        v["t_start"], v["t_end"], v["m_ref"],
                                        method=self._method(v))
        df = pd.DataFrame({"time": np.asarray(fit.data.observed["time"]),
                           "magnitude": np.asarray(fit.data.observed["magnitude"]),
                           "p_background": prob})
        df.attrs["expected_background"] = float(prob.sum())
        return df

    @staticmethod
    def _method(v: Mapping[str, Any]) -> str:
        return "fast" if int(v["use_soe"]) else "exact"

    # ------------------------------------------------------------------ predictions
    def predict(
        self,
        fit: Fit,
        t1: Any = None,
        t2: Any = None,
        magnitudes: Any = None,
        n_sims: int = 1000,
        prob: float = 0.9,
        seed: int | None = None,
        m_max: float | None = None,
        allow_supercritical: bool = False,
        max_events: int = 1_000_000,
    ) -> pd.DataFrame:
        """Forecast of the number of events ``M >= m`` in ``[t1, t2]`` given the history.

        Each of ``n_sims`` simulations takes one parameter draw (posterior, Laplace, or the
        asymptotic normal law of the MLE; the point estimate when the fit has no draws)
        and one b-value (its estimate, or a draw from its standard error), and simulates
        the ETAS branching process (:func:`pystats.etas.simulate.simulate_etas`) from
        ``min(t1, t_end)`` to ``t2``, excited by every observed event at or above ``mc``
        before that time; events between the end of the data and ``t1`` are simulated too.
        Magnitudes are GR on the data's magnitude grid.

        Parameters
        ----------
        fit : Fit
            A fit of this model.
        t1, t2 : float or date-time, optional
            Forecast window on the data's time axis (days); default ``t1`` = ``t_end`` of
            the fit and ``t2 = t1 + 1`` day.
        magnitudes : array_like, optional
            Thresholds ``m >= mc`` (one row each); default ``mc, mc + 1, ...`` up to the
            largest observed magnitude.
        n_sims : int
            Number of simulations (default 1000).
        prob : float
            Mass of the equal-tailed interval of the count (default 0.9).
        seed : int, optional
            Random seed; default: derived from the fit's seed (reproducible).
        m_max : float, optional
            Largest magnitude of simulated events (truncated GR).  Needed when
            ``alpha >= b ln 10``, where the untruncated productivity is infinite.
        allow_supercritical : bool
            Forecast even when the point estimate is supercritical over the simulated
            span (branching ratio ``>= 1``: each event has at least one direct offspring
            on average before ``t2``, so catalogues explode); by default that raises
            :class:`OptionError`.  Supercritical draws in the tail of a subcritical fit
            are always simulated (their number is in ``attrs["n_supercritical"]``).
        max_events : int
            Largest simulated catalogue (a larger one raises :class:`OptionError`).

        Returns
        -------
        pandas.DataFrame
            One row per magnitude: ``magnitude``, ``mean``, ``sd``, ``median``, ``lower``,
            ``upper`` (quantiles of the count, interval mass ``prob``), ``p_at_least_one``
            (``P(N >= 1)``).  ``attrs``: ``t1``, ``t2``, ``n_sims``, ``prob``,
            ``draws_kind``, ``n_history``, ``n_supercritical``, ``counts`` (the simulated
            counts, ``(n_sims, n_magnitudes)``).

        Raises
        ------
        OptionError
            Bad window, magnitudes below ``mc``, ``n_sims``, ``prob``; a supercritical
            point estimate without ``allow_supercritical``; a simulated catalogue larger
            than ``max_events``.
        """
        from ..arviz_io import draws_kind

        self._check_fit(fit)
        v = fit.data.values
        ref = fit.data.summary.get("reference_time")
        t1 = float(v["t_end"]) if t1 is None else _time_value("t1", t1, ref)
        t2 = t1 + 1.0 if t2 is None else _time_value("t2", t2, ref)
        if not t1 < t2:
            raise OptionError(f"t1={t1!r} must be below t2={t2!r} (the forecast window)")
        mags = self._thresholds(magnitudes, float(v["mc"]), fit)
        check_prob(prob)
        counts = np.zeros((self._count("n_sims", n_sims), mags.size), dtype=np.int64)
        info: dict[str, Any] = {}
        for s, sim in enumerate(self._simulations(
                fit, t1, t2, n_sims, seed, m_max, allow_supercritical, max_events, info)):
            sm = sim.magnitudes[sim.times >= t1]
            counts[s] = (sm[:, None] >= mags[None, :] - 1e-9).sum(axis=0)
        df = self._count_table(mags, counts, prob)
        df.attrs.update({
            "t1": t1, "t2": t2, "n_sims": int(counts.shape[0]), "prob": prob,
            "draws_kind": draws_kind(fit) if info["n_draws"] > 1 else "point",
            "n_history": info["n_history"], "n_supercritical": info["n_supercritical"],
            "counts": counts,
        })
        return df

    def simulate(
        self,
        fit: Fit,
        t2: Any = None,
        n_catalogs: int = 1,
        seed: int | None = None,
        m_max: float | None = None,
        allow_supercritical: bool = False,
        max_events: int = 1_000_000,
    ) -> list[SimulatedCatalog]:
        """Catalogues continuing the observed one to ``t2``, from the fit's parameter draws.

        Each catalogue takes one parameter draw (posterior, Laplace, or the asymptotic
        normal law of the MLE; the point estimate when the fit has no draws) and one
        b-value, and simulates the ETAS branching process from the end of the data to
        ``t2``, excited by every observed event (as :meth:`predict` does, which summarises
        such catalogues as counts).  For catalogues with given parameters use
        :func:`pystats.simulate_etas`.

        Parameters
        ----------
        fit : Fit
            A fit of this model.
        t2 : float or date-time, optional
            End of the simulated window (days on the data's time axis); default one day
            after the end of the data.
        n_catalogs : int
            Number of catalogues (default 1).
        seed, m_max, allow_supercritical, max_events
            As in :meth:`predict`.

        Returns
        -------
        list of SimulatedCatalog
            Events in ``[t_end, t2]`` of each catalogue (the observed history excites
            them and is not repeated); ``params`` holds the draw used and its ``b``.

        Raises
        ------
        OptionError
            Bad window or count; a supercritical point estimate without
            ``allow_supercritical``; a catalogue larger than ``max_events``.
        """
        self._check_fit(fit)
        v = fit.data.values
        t_end = float(v["t_end"])
        t2 = t_end + 1.0 if t2 is None else _time_value(
            "t2", t2, fit.data.summary.get("reference_time"))
        if not t_end < t2:
            raise OptionError(f"t2={t2!r} must be after the end of the data ({t_end:g})")
        n_catalogs = self._count("n_catalogs", n_catalogs)
        return list(self._simulations(fit, t_end, t2, n_catalogs, seed, m_max,
                                      allow_supercritical, max_events, {}))

    def _simulations(
        self, fit: Fit, t1: float, t2: float, n_sims: Any, seed: int | None,
        m_max: Any, allow_supercritical: bool, max_events: int, info: dict[str, Any],
    ) -> Iterator[SimulatedCatalog]:
        """Simulations from ``min(t1, t_end)`` to ``t2``, one parameter draw each (see
        :meth:`predict`); fills ``info`` with ``n_draws``, ``n_history`` and
        ``n_supercritical`` (complete once exhausted)."""
        from ..arviz_io import predictive_rng
        from .kernels import kernel_integral
        from .simulate import simulate_etas

        v = fit.data.values
        mc, dm = float(v["mc"]), float(v["delta_m"])
        n_sims = self._count("n_sims", n_sims)
        if m_max is not None:
            m_max = _number("m_max", m_max, "None or a number above mc")
            if m_max <= mc:
                raise OptionError(f"m_max={m_max!r} must be above mc={mc:g}")
        rng = (np.random.default_rng(_checks.seed(seed)) if seed is not None
               else predictive_rng(fit))
        params = self._parameter_values(fit)
        n_draws = params["K"].size
        idx = rng.choice(n_draws, size=n_sims, replace=n_sims > n_draws)
        if "b" in fit.draws and n_draws > 1:
            b = np.asarray(fit.variable("b"), dtype=float).reshape(-1)
        else:
            b = np.full(n_draws, float(v["b"]))
        t_all, m_all = np.asarray(v["t"]), np.asarray(v["m"])
        t0 = min(t1, float(v["t_end"]))
        hist = t_all <= t0
        history = (t_all[hist], m_all[hist])
        m_ref = float(v["m_ref"])
        pt = self._point(fit)
        n_point = pt["K"] * _mean_productivity_truncated(
            pt["alpha"], float(v["b"]) * LN10, mc, m_ref, dm, m_max
        ) * float(kernel_integral(0.0, t2 - t0, pt["c"], pt["p"]))
        if n_point >= 1 and not allow_supercritical:
            raise OptionError(
                f"the estimate is supercritical over the simulated span [{t0:g}, {t2:g}]: "
                f"branching ratio {n_point:.3g} >= 1 (alpha={pt['alpha']:.3g}, "
                f"b ln 10={float(v['b']) * LN10:.3g}), so simulated catalogues explode; pass "
                "m_max= (a largest magnitude), forecast a shorter window, or pass "
                "allow_supercritical=True"
            )
        info.update(n_draws=n_draws, n_history=int(hist.sum()), n_supercritical=0)
        for s, i in enumerate(idx):
            beta = float(b[i]) * LN10
            kw: dict[str, Any] = {}
            if dm == 0 and m_max is None:
                kw["b"] = float(b[i])
            else:
                kw["magnitude_sampler"] = _binned_gr_sampler(beta, mc, dm, m_max)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    sim = simulate_etas(
                        params["mu"][i], params["K"][i], params["c"][i], params["alpha"][i],
                        params["p"][i], m_ref, t2, mc=mc, rng=rng, history=history,
                        t_start=t0, max_events=max_events, allow_supercritical=True, **kw,
                    )
                except OptionError as e:
                    raise OptionError(
                        f"simulation {s} (parameter draw {int(i)}) failed: {e}"
                    ) from e
            info["n_supercritical"] += int(any("branching ratio" in str(w.message)
                                               for w in caught))
            yield dataclasses.replace(sim, params={**sim.params, "b": float(b[i])})

    # ------------------------------------------------------------------ figures
    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """Intensity with the data, transformed-time residuals (with the KS statistic),
        with a background the histogram of background probabilities, and the target events'
        magnitude–frequency distribution with the b-value used (:mod:`pystats.plots.etas`)."""
        from ..plots.etas import (
            background_figure,
            etas_intensity_figure,
            magnitude_frequency_figure,
            magnitude_frequency_title,
            residual_figure,
            residual_title,
        )

        figs = [("Conditional intensity and events", etas_intensity_figure(self, fit))]
        res = self.residuals(fit)
        figs.append((residual_title(res), residual_figure(res, "ETAS")))
        if self.fixed.get("mu") != 0.0:
            bg = self.background_probabilities(fit)
            figs.append((
                f"Background probabilities (expected background events "
                f"{bg.attrs['expected_background']:.1f} of {len(bg)})",
                background_figure(bg),
            ))
        figs.append((magnitude_frequency_title(fit), magnitude_frequency_figure(fit)))
        return figs

