"""The Gutenberg–Richter model family: b-value, rate, tapered law and detection model.

``GutenbergRichter(kind=..., mc=..., ...)`` fits the frequency–magnitude distribution of an
earthquake catalogue with every inference method of pystats (``mle``, ``map``,
``laplace``, ``nuts``) through one interface.  Three kinds of model are available:

``kind="gr"``
    The Gutenberg–Richter law above a completeness magnitude ``mc``: parameters ``b``
    and the Poisson ``rate`` of events at or above ``mc`` per unit time (per observation
    period when the data carry no times and no ``duration`` is given).  ``estimator``
    chooses the data of the b-value likelihood: ``"exact"`` (geometric law of binned
    magnitudes, Tinti & Mulargia 1987; exponential law for continuous magnitudes),
    ``"aki"`` (Aki's 1965 exponential approximation with Utsu's 1966 half-bin correction)
    or ``"positive"`` (positive differences of consecutive magnitudes, van der Elst 2021).
    ``mle`` has a closed form.
``kind="tapered"``
    The tapered Gutenberg–Richter law of Kagan (2002): parameters ``b`` and
    ``corner_magnitude``.
``kind="detection"``
    The Gutenberg–Richter law thinned by a cumulative-normal detection probability
    ``Phi((m - mu)/sigma)`` (Ogata & Katsura 1993), fitted to every magnitude at or above
    ``m_min``: parameters ``b``, ``mu``, ``sigma``; the completeness magnitude is derived,
    ``mc = mu + sigma * Phi^{-1}(detection_probability)``.

The likelihoods are in :mod:`pystats.gr.likelihood` (PyTorch) and in the Stan programs
``gr_binned.stan``, ``gr_tapered.stan`` and ``gr_detection.stan`` (normalised: the
Poisson term of the event count includes ``-log N!``); the pointwise log likelihood for
PSIS-LOO is computed on demand from :mod:`pystats.gr.distributions`
(:meth:`GutenbergRichter.pointwise_log_likelihood`); the priors are listed in
:class:`GutenbergRichter` and in ``models/gutenberg_richter.md``.

References
----------
Aki, K. (1965). Maximum likelihood estimate of b in the formula log N = a - bM and its
confidence limits. Bulletin of the Earthquake Research Institute 43, 237-239.

Jeffreys, H. (1946). An invariant form for the prior probability in estimation problems.
Proceedings of the Royal Society of London A 186(1007), 453-461.
https://doi.org/10.1098/rspa.1946.0056

Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
Geophysical Journal International 148(3), 520-541.
https://doi.org/10.1046/j.1365-246x.2002.01594.x

Marzocchi, W. and Sandri, L. (2003). A review and new insights on the estimation of the
b-value and its uncertainty. Annals of Geophysics 46(6), 1271-1282.
https://doi.org/10.4401/ag-3472

Ogata, Y. and Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
magnitude frequency distribution inferred from earthquake catalogues. Geophysical Journal
International 113(3), 727-738. https://doi.org/10.1111/j.1365-246X.1993.tb04663.x

Tinti, S. and Mulargia, F. (1987). Confidence intervals of b values for grouped
magnitudes. Bulletin of the Seismological Society of America 77(6), 2125-2134.

Utsu, T. (1966). A statistical significance test of the difference in b-value between two
earthquake groups. Journal of Physics of the Earth 14(2), 37-40.
https://doi.org/10.4294/jpe1952.14.37

van der Elst, N. J. (2021). B-positive: A robust estimator of aftershock magnitude
distribution in transiently incomplete catalogs. Journal of Geophysical Research: Solid
Earth 126(2), e2020JB021027. https://doi.org/10.1029/2020JB021027
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._checks import check_prob, magnitude_array
from .._checks import number as _number
from .._warnings import warn as _warn
from ..catalog import _rows_text as _rows
from ..cli_spec import Argument, CommandLine, number_or_text
from ..constraints import Interval, Mappings, Option, Pair, StrOptions
from ..errors import DataError, DataWarning, OffGridWarning, OptionError
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from .commands import SIMULATE_COMMANDS

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit

__all__ = ["ESTIMATORS", "KINDS", "MC_METHODS", "GutenbergRichter"]

KINDS = ("gr", "tapered", "detection")
"""Model kinds of :class:`GutenbergRichter`."""
ESTIMATORS = ("exact", "aki", "positive")
"""Data used by the b-value likelihood of ``kind="gr"``."""
MC_METHODS = ("maxc", "gft", "mbs", "emr", "ks")
"""Completeness-magnitude estimators accepted as ``mc=`` (see :mod:`pystats.gr.completeness`)."""

LN10 = math.log(10.0)
MIN_EVENTS = 2
"""Fewer b-value data than this raise :class:`DataError`."""
FEW_EVENTS = 50
"""Fewer b-value data than this give a :class:`DataWarning` (Marzocchi & Sandri 2003)."""
PPC_MAX_BINS = 200
"""Most bins of the replicated magnitude counts (``posterior_predictive``)."""

_GRID_TOL = 1e-4  # in units of one bin, as in pystats.gr.distributions
_STAN_PROGRAMS = {
    "gr": "gr_binned.stan",
    "tapered": "gr_tapered.stan",
    "detection": "gr_detection.stan",
}


# ============================================================================ options
def _same(value: Any, default: Any) -> bool:
    """``value`` equals ``default``, lists and tuples compared by their elements."""
    if isinstance(value, list | tuple) and isinstance(default, list | tuple):
        return tuple(value) == tuple(default)
    return value is None if default is None else bool(value == default)


# ============================================================================ data input
def _read_input(data: Any) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Magnitudes (copy), times in days or ``None``, and a description of the source."""
    import pandas as pd

    from ..catalog import Catalog
    from ..readers import event_arrays, finite_numbers, missing_column

    if isinstance(data, Catalog):
        times, mags = event_arrays(data)
        return mags, times, "Catalog"
    if isinstance(data, pd.DataFrame):
        if "magnitude" not in data.columns:
            raise missing_column(
                data, "magnitude", "Pass a frame with a 'magnitude' column (and optionally "
                "'time'), a Catalog, or a 1-D array of magnitudes"
            )
        if "time" in data.columns:
            times, mags = event_arrays(data)
            return mags, times, "DataFrame with times"
        mags = finite_numbers(data["magnitude"], "magnitudes", "column 'magnitude'")
        return mags, None, "DataFrame"
    if isinstance(data, pd.Series):
        return finite_numbers(data, "magnitudes", "Series"), None, "Series"
    if isinstance(data, np.ndarray | list | tuple):
        return finite_numbers(data, "magnitudes", "array"), None, "array"
    raise DataError(
        f"data of type {type(data).__name__} is not allowed; use a pystats.Catalog, a 1-D "
        "array (or list) of magnitudes, a pandas Series, or a DataFrame with a 'magnitude' "
        "column"
    )


def _jsonable(obj: Any) -> Any:
    """A JSON-friendly copy (numbers, strings, lists, dicts, numeric arrays) of ``obj``."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.copy() if obj.dtype.kind in "biuf" else None
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return {k: _jsonable(getattr(obj, k)) for k in obj.__dataclass_fields__}
    return str(obj)


# ============================================================================ the family
class GutenbergRichter(Model):
    """Gutenberg–Richter frequency–magnitude model (b-value, rate, taper, detection).

    Parameters
    ----------
    kind : {"gr", "tapered", "detection"}
        ``"gr"``: Gutenberg–Richter law above ``mc`` (parameters ``b`` and ``rate``);
        ``"tapered"``: Kagan's (2002) tapered law (``b``, ``corner_magnitude``);
        ``"detection"``: GR law times the detection probability ``Phi((m - mu)/sigma)``
        over all magnitudes ``>= m_min`` (``b``, ``mu``, ``sigma``; ``mc`` is derived).
    mc : float or {"maxc", "gft", "mbs", "emr", "ks"}, optional
        Completeness magnitude (the centre of the lowest bin used, for binned magnitudes),
        or the name of a method of :func:`pystats.gr.completeness.estimate_mc` to estimate
        it from the data (its result is kept in ``fit.data.summary["mc_estimate"]``).
        Required for ``kind="gr"`` and ``"tapered"``; not allowed for ``"detection"``.
    delta_m : float, optional
        Magnitude bin width (the catalogue's rounding step).  ``None`` infers it from the
        data with :func:`pystats.gr.distributions.infer_delta_m`; ``0`` treats the
        magnitudes as continuous.
    estimator : {"exact", "aki", "positive"}
        ``kind="gr"`` only.  ``"exact"``: geometric likelihood of binned magnitudes
        (Tinti & Mulargia 1987), exponential for continuous ones; ``"aki"``: exponential
        likelihood of ``m - (mc - delta_m/2)`` (Aki 1965, Utsu 1966), an approximation for
        binned data; ``"positive"``: positive differences of consecutive magnitudes
        ``>= dmc`` (van der Elst 2021), whose excess over ``dmc`` has the same geometric /
        exponential law with the same ``b``.  Events are taken in time order (a Catalog or
        a frame with a ``time`` column), else in the order given.
    dmc : float, optional
        ``estimator="positive"`` only: smallest magnitude difference used; default one bin
        (``delta_m``) for binned data and 0 for continuous data.  Must be a positive
        multiple of ``delta_m`` for binned data.
    duration : float, optional
        ``kind="gr"`` only: observation time, in the time unit of the catalogue (days for a
        :class:`~pystats.Catalog`), for the rate.  Default: the time span of the
        catalogue (last minus first event time).  Without times and duration, ``rate`` is
        the number of events per observation period (the duration is 1 period).
    m_min : float, optional
        ``kind="detection"`` only: lowest magnitude modelled (a bin centre); default the
        smallest magnitude in the data.
    mc_options : dict, optional
        Keyword arguments of the Mc method when ``mc`` names one (checked against its
        signature), e.g. ``{"n_boot": 200}`` for a bootstrap standard deviation and
        interval of Mc, ``{"p_pass": 0.05}`` for ``"ks"``.  ``seed`` defaults to 0 so
        that fits are reproducible.  An estimated Mc that the method flags as unreliable
        (above nearly all the data, or ``"ks"`` finding no Mc that passes) raises
        :class:`DataError`.
    b_prior : (float, float)
        ``(mean_log, sd_log)`` of the lognormal prior on ``b``; default ``(0, 0.5)``
        (median 1, 90 % prior interval 0.44-2.28).
    rate_prior : "jeffreys" or (float, float)
        Prior on ``rate``: Jeffreys' ``p(rate) ∝ rate^(-1/2)`` (default; posterior
        Gamma(N + 1/2, T)) or a lognormal ``(mean_log, sd_log)``.
    corner_bounds : (float, float), optional
        ``kind="tapered"`` only: bounds of ``corner_magnitude``, with a uniform prior
        between them; default ``(mc, max(mc + 6, max magnitude + 2))``.
    mu_prior : (float, float), optional
        ``kind="detection"`` only: ``(mean, sd)`` of the normal prior on ``mu``; default
        ``(m_min, 1)``.
    sigma_prior : (float, float)
        ``kind="detection"`` only: ``(mean_log, sd_log)`` of the lognormal prior on
        ``sigma``; default ``(log 0.25, 0.75)`` (90 % prior interval 0.07-0.86).
    detection_probability : float
        ``kind="detection"`` only: the derived ``mc`` is the magnitude detected with this
        probability, ``mu + sigma * Phi^{-1}(p)``; default 0.99.

    Raises
    ------
    OptionError
        For an unknown option or a value that is not allowed (the message names the
        option, the value and what is allowed).

    Notes
    -----
    ``fit.predict(magnitudes=..., duration=..., n_events=...)`` gives exceedance
    probabilities and expected numbers with intervals (:meth:`predict`).
    ``az.loo(fit.to_arviz())`` gives PSIS-LOO over the modelled magnitudes: the pointwise
    log likelihood is computed on demand (:meth:`pointwise_log_likelihood`), never stored
    with the fit or written by the Stan programs, so saved fits stay small.
    Priors (used by ``map``, ``laplace`` and ``nuts``, never by ``mle``): ``b`` lognormal
    (``b_prior``); ``rate`` Jeffreys or lognormal (``rate_prior``); ``corner_magnitude``
    uniform on ``corner_bounds``; ``mu`` normal (``mu_prior``); ``sigma`` lognormal
    (``sigma_prior``).

    Examples
    --------
    >>> import numpy as np, pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> fit = pystats.GutenbergRichter(mc=2.0).fit(m)      # closed-form MLE
    >>> round(float(fit.estimate("b")), 2)
    1.01
    """

    family: ClassVar[str] = "gutenberg_richter"
    has_torch_likelihood: ClassVar[bool] = True
    options_spec: ClassVar[dict[str, Option]] = {
        "kind": Option("gr", [StrOptions(KINDS)]),
        "mc": Option(None, [None, Interval(Real), StrOptions(MC_METHODS)],
                     allowed=f"a finite number or one of {', '.join(MC_METHODS)}"),
        "delta_m": Option(None, [None, Interval(Real, 0, None)],
                          allowed="None (infer), 0 (continuous) or a bin width > 0"),
        "estimator": Option("exact", [StrOptions(ESTIMATORS)]),
        "dmc": Option(None, [None, Interval(Real, 0, None)],
                      allowed="None or a number >= 0 (a multiple of delta_m)"),
        "duration": Option(None, [None, Interval(Real, 0, None, closed="neither")]),
        "m_min": Option(None, [None, Interval(Real)]),
        "mc_options": Option(None, [None, Mappings()],
                             allowed="None or a dict of keyword arguments for estimate_mc"),
        "b_prior": Option((0.0, 0.5), [Pair(Interval(Real), Interval(Real, 0, None,
                                                                     closed="neither"))],
                          allowed="(mean_log, sd_log) of a lognormal prior, sd_log > 0"),
        "rate_prior": Option("jeffreys", [StrOptions(("jeffreys",)), Pair(
            Interval(Real), Interval(Real, 0, None, closed="neither"))],
            allowed="'jeffreys' or (mean_log, sd_log) of a lognormal prior, sd_log > 0"),
        "corner_bounds": Option(None, [None, Pair(Interval(Real), Interval(Real),
                                                  increasing=True)],
                                allowed="None or (lower, upper) magnitudes with lower < upper"),
        "mu_prior": Option(None, [None, Pair(Interval(Real), Interval(Real, 0, None,
                                                                      closed="neither"))],
                           allowed="None or (mean, sd) of a normal prior, sd > 0"),
        "sigma_prior": Option((math.log(0.25), 0.75), [Pair(
            Interval(Real), Interval(Real, 0, None, closed="neither"))],
            allowed="(mean_log, sd_log) of a lognormal prior, sd_log > 0"),
        "detection_probability": Option(0.99, [Interval(Real, 0, 1, closed="neither")]),
    }
    """The options (see Parameters), checked by :func:`pystats.constraints.validate_params`;
    which option applies to which ``kind`` is checked in :meth:`_validate_options`."""
    cli: ClassVar[CommandLine] = CommandLine(
        name="gr", title="Gutenberg-Richter", help="Gutenberg-Richter", default=True,
        fit=(
            Argument("--mc", type=number_or_text,
                     help="completeness magnitude, or a method to estimate it: "
                     + ", ".join(MC_METHODS)),
            Argument("--delta-m", type=float, help="magnitude bin width (default: inferred)"),
            Argument("--kind", choices=KINDS, help="variant (default: gr)"),
            Argument("--estimator", choices=ESTIMATORS),
        ),
        predict=(
            Argument("--duration", type=float, help="forecast window (catalog time unit)"),
            Argument("--n-events", type=int, help="number of future events above Mc"),
        ),
        simulate=SIMULATE_COMMANDS,
    )

    # ------------------------------------------------------------------ options
    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        o = options  # every option, each allowed by options_spec
        kind = o["kind"]

        def only_for(name: str, kinds: tuple[str, ...]) -> None:
            # a default value is accepted for every kind (saved fits store all options)
            if not _same(o[name], self.options_spec[name].default) and kind not in kinds:
                raise OptionError(
                    f"option {name}={o[name]!r} applies only to kind="
                    f"{' or '.join(map(repr, kinds))}; this model has kind={kind!r}"
                )

        mc = o["mc"]
        if kind == "detection":
            if mc is not None:
                raise OptionError(
                    f"mc={mc!r} is not allowed for kind='detection': the detection model "
                    "covers every magnitude >= m_min and derives mc from mu and sigma; use "
                    "m_min= to set the lowest magnitude modelled"
                )
        elif mc is None:
            raise OptionError(
                f"mc is required for kind={kind!r}: give a number (the completeness "
                f"magnitude) or a method name, one of {', '.join(MC_METHODS)}"
            )
        only_for("estimator", ("gr",))
        if o["dmc"] is not None and o["estimator"] != "positive":
            raise OptionError(
                f"dmc={o['dmc']!r} applies only to estimator='positive'; this model has "
                f"estimator={o['estimator']!r}"
            )
        only_for("duration", ("gr",))
        only_for("m_min", ("detection",))
        if o["mc_options"] is not None:
            if not isinstance(mc, str):
                raise OptionError(
                    f"mc_options={o['mc_options']!r} applies only when mc names a method "
                    f"({', '.join(MC_METHODS)})"
                )
            import inspect

            from .completeness import _MC_FUNCS

            allowed = [
                k for k in inspect.signature(_MC_FUNCS[mc]).parameters if k not in ("m", "delta_m")
            ]
            bad = sorted(set(o["mc_options"]) - set(allowed))
            if bad:
                raise OptionError(
                    f"mc_options key(s) {', '.join(map(repr, bad))} are not options of "
                    f"mc={mc!r}; allowed: {', '.join(allowed)}"
                )
        only_for("rate_prior", ("gr",))
        only_for("corner_bounds", ("tapered",))
        only_for("mu_prior", ("detection",))
        only_for("sigma_prior", ("detection",))
        only_for("detection_probability", ("detection",))
        return o

    @property
    def kind(self) -> str:
        """``"gr"``, ``"tapered"`` or ``"detection"``."""
        return self.options["kind"]

    # ------------------------------------------------------------------ prepare
    def prepare(self, data: Any) -> PreparedData:
        """Validate and copy ``data``; select the magnitudes modelled.

        Parameters
        ----------
        data : Catalog, array_like, pandas.Series or pandas.DataFrame
            Magnitudes, with times when given as a :class:`~pystats.Catalog` or a frame
            with a ``time`` column.  Never modified.

        Returns
        -------
        PreparedData
            ``summary`` holds ``n`` (data used), ``n_input``, ``n_below_mc``, ``mc``,
            ``mc_method`` and ``mc_estimate``, ``delta_m`` (and whether it was inferred),
            the magnitude range, ``duration`` and notes.  ``observed`` holds
            ``magnitude`` (the magnitudes modelled, in data order), ``magnitude_all``,
            the binned counts of the predictive checks (``magnitude_counts`` or
            ``difference_counts``), for ``estimator="positive"``
            ``magnitude_difference`` (the positive differences used) and for kind gr
            ``n_events``.

        Raises
        ------
        DataError
            Unreadable input, NaN or infinite magnitudes (the rows are named), magnitudes
            off the ``delta_m`` grid, or too few events above ``mc``.
        OptionError
            ``mc`` (or ``m_min``, ``dmc``) off the magnitude grid.
        """
        o = self.options
        m_all, times, source = _read_input(data)
        if m_all.size == 0:
            raise DataError("the data hold no magnitudes; at least 2 events are needed")
        notes: list[str] = []

        # bin width and grid: the grid that (nearly) all magnitudes lie on
        from .distributions import GRID_MAJORITY, _grid_fit, _infer_grid, _off_grid_message

        if o["delta_m"] is None:
            if np.unique(m_all).size < 2:
                raise DataError(
                    f"all {m_all.size} magnitudes are equal ({m_all[0]}); the bin width cannot "
                    "be inferred and b cannot be estimated"
                )
            delta_m = float(_infer_grid(m_all)[0])
            dm_source = "inferred"
        else:
            delta_m = float(o["delta_m"])
            dm_source = "given"
        if delta_m > 0:
            origin, on = _grid_fit(m_all, delta_m)
            off = np.flatnonzero(~on)
            if off.size > (1 - GRID_MAJORITY) * m_all.size:
                raise DataError(
                    f"magnitudes are not on a grid of width delta_m={delta_m:g} (through "
                    f"{origin:g}) in {_rows(off)} (0-based), e.g. {m_all[off[0]]!r}; pass "
                    "delta_m=None to infer the catalogue's step, or delta_m=0 for continuous "
                    "magnitudes"
                )
            if off.size:
                msg = _off_grid_message(m_all, ~on, delta_m, origin)
                _warn(
                    f"{msg} ({_rows(off)}, 0-based); they are counted in the bin they fall in. "
                    "Check those values, or pass delta_m explicitly",
                    OffGridWarning,
                )
                notes.append(f"{msg}: counted in the bin they fall in")
            k_all = np.floor((m_all - origin) / delta_m + 0.5 + 1e-9)
            m_all = np.round(origin + k_all * delta_m, 10)
            summary_grid = {"n_off_grid": int(off.size)}
        else:
            summary_grid = {"n_off_grid": 0}
        anchor = float(np.min(m_all))

        def on_grid(name: str, value: float) -> float:
            if delta_m == 0:
                return value
            k = (value - anchor) / delta_m
            if abs(k - round(k)) > _GRID_TOL:
                lo = anchor + math.floor(k) * delta_m
                raise OptionError(
                    f"{name}={value!r} is not on the magnitude grid of the data (width "
                    f"delta_m={delta_m:g}, e.g. {lo:.10g} or {lo + delta_m:.10g})"
                )
            return round(anchor + round(k) * delta_m, 10)

        # completeness
        mc_estimate = None
        kind = o["kind"]
        if kind == "detection":
            m_min = anchor if o["m_min"] is None else on_grid("m_min", o["m_min"])
            threshold, mc, mc_method = m_min, None, "derived from mu and sigma"
        else:
            if isinstance(o["mc"], str):
                from .completeness import estimate_mc

                # Mc methods bin the FMD with a width of at least 0.1: the complete range
                # starts at the lower edge of the returned bin; on a finer data grid mc is
                # the first bin centre at or above that edge (the events the FMD bin holds).
                kw = {
                    "delta_m": max(delta_m, 0.1) if delta_m > 0 else None,
                    "seed": 0,
                    **(o["mc_options"] or {}),
                }
                res = estimate_mc(m_all, method=o["mc"], **kw)
                if not res.reliable:
                    n_above = res.details.get("n_above")
                    raise DataError(
                        f"mc={o['mc']!r} estimated Mc={res.mc:g}, which the method flags as "
                        f"unreliable ({n_above} of {m_all.size} events at or above it; "
                        f"criterion {res.details.get('criterion', 'met')!r}): the fit would "
                        "rest on a tail of the data. Give mc as a number, use another "
                        "method, or fit a more homogeneous part of the catalogue"
                    )
                mc_estimate = _jsonable(res)
                fmd_width = float(res.details.get("delta_m", kw["delta_m"] or 0.1))
                edge = float(res.mc) - fmd_width / 2
                if delta_m > 0:
                    k = math.ceil((edge - anchor) / delta_m - _GRID_TOL)
                    mc = round(anchor + k * delta_m, 10)
                else:
                    mc = edge
                mc_method = f"estimated ({o['mc']})"
            else:
                mc = on_grid("mc", float(o["mc"]))
                mc_method = "given"
            threshold = m_min = mc

        if delta_m > 0:
            k_sel = np.round((m_all - threshold) / delta_m).astype(np.int64)
            keep = k_sel >= 0
        else:
            keep = m_all >= threshold
        n_input = int(m_all.size)
        n_below = int(n_input - keep.sum())
        below_what = "m_min" if kind == "detection" else "mc"
        if n_below:
            notes.append(
                f"{n_below} of {n_input} events below {below_what}={threshold:g} were dropped"
            )
        m = m_all[keep]
        t = None if times is None else times[keep]

        # duration for the rate
        duration = None
        dur_source = None
        if kind == "gr":
            if o["duration"] is not None:
                duration, dur_source = float(o["duration"]), "option duration"
            elif times is not None and times.size >= 2 and times[-1] > times[0]:
                duration = float(times[-1] - times[0])
                dur_source = "time span of the catalogue (last minus first event)"
            else:
                notes.append(
                    "the data carry no event times and no duration= was given: "
                    "rate is the number of events at or above mc per observation "
                    "period (duration = 1 period)"
                )

        summary: dict[str, Any] = {
            "kind": kind,
            "source": source,
            "n_input": n_input,
            "n_below_mc" if kind != "detection" else "n_below_m_min": n_below,
            "mc": mc,
            "mc_method": mc_method,
            "mc_estimate": mc_estimate,
            "delta_m": delta_m,
            "delta_m_source": dm_source,
            **summary_grid,
            "magnitude_min": float(m.min()) if m.size else None,
            "magnitude_max": float(m.max()) if m.size else None,
            "duration": duration,
            "duration_source": dur_source,
        }
        if kind == "detection":
            summary["m_min"] = m_min
        observed: dict[str, np.ndarray] = {"magnitude": m, "magnitude_all": m_all}
        builder = {
            "gr": self._values_gr,
            "tapered": self._values_tapered,
            "detection": self._values_detection,
        }[kind]
        values = builder(m, t, delta_m, threshold, duration, summary, notes)
        n_data = int(summary["n"])
        if n_data < MIN_EVENTS:
            raise DataError(
                f"only {n_data} {summary['data_kind']} at or above {below_what}="
                f"{threshold:g} ({n_input} events in the data); at least {MIN_EVENTS} are "
                f"needed{'; lower mc' if kind != 'detection' else ''}"
            )
        if n_data < FEW_EVENTS:
            _warn(
                f"only {n_data} {summary['data_kind']} are used; b-value estimates from fewer "
                f"than {FEW_EVENTS} are unreliable (Marzocchi & Sandri 2003)",
                DataWarning,
            )
        # replicated-count bins for posterior predictive checks
        values.update(self._ppc_bins(values, summary))
        observed[values["ppc_name"]] = self._observed_counts(values)
        values.pop("ppc_name")
        if kind == "gr":
            if o["estimator"] == "positive":
                # the data of the b-value likelihood (pointwise_log_likelihood)
                diff = np.asarray(values["x"]) + summary["dmc"]
                observed["magnitude_difference"] = np.round(diff, 10) if delta_m > 0 else diff
            observed["n_events"] = np.asarray(values["n_rate"], dtype=np.int64)
        summary["notes"] = notes
        return PreparedData(values=values, observed=observed, summary=summary)

    def _prior_values(self) -> dict[str, Any]:
        o = self.options
        return {"b_prior_mu": o["b_prior"][0], "b_prior_sigma": o["b_prior"][1]}

    def _values_gr(
        self,
        m: np.ndarray,
        t: np.ndarray | None,
        delta_m: float,
        mc: float,
        duration: float | None,
        summary: dict[str, Any],
        notes: list[str],
    ) -> dict[str, Any]:
        o = self.options
        est = o["estimator"]
        n_rate = int(m.size)
        if est == "positive":
            if delta_m > 0:
                dmc = delta_m if o["dmc"] is None else float(o["dmc"])
                kd = dmc / delta_m
                if dmc <= 0 or abs(kd - round(kd)) > _GRID_TOL:
                    raise OptionError(
                        f"dmc={o['dmc']!r} is not allowed for binned magnitudes "
                        f"(delta_m={delta_m:g}): use a positive multiple of delta_m (ties, "
                        "difference 0, do not follow the geometric law)"
                    )
                kd = round(kd)
                dk = np.diff(np.round((m - mc) / delta_m).astype(np.int64))
                sel = dk[dk >= kd]
                x = (sel - kd) * delta_m
                dmc = kd * delta_m
            else:
                dmc = 0.0 if o["dmc"] is None else float(o["dmc"])
                d = np.diff(m)
                sel = d[d > 0] if dmc == 0 else d[d >= dmc]
                x = sel - dmc
            width = delta_m
            summary["dmc"] = dmc
            summary["data_kind"] = f"positive magnitude differences (>= dmc={dmc:g})"
            if t is None:
                notes.append("b-positive: magnitudes taken in the order given (no times)")
        elif est == "aki":
            k = np.round((m - mc) / delta_m) if delta_m > 0 else None
            x = (k * delta_m + delta_m / 2) if k is not None else m - mc
            width = 0.0
            summary["data_kind"] = "magnitudes"
        else:
            x = np.round((m - mc) / delta_m) * delta_m if delta_m > 0 else m - mc
            width = delta_m
            summary["data_kind"] = "magnitudes"
        x = np.asarray(x, dtype=float)
        summary["n"] = int(x.size)
        summary["estimator"] = est
        if x.size >= MIN_EVENTS and not np.sum(x) > 0:
            raise DataError(
                f"all {x.size} {summary['data_kind']} lie in the lowest bin "
                f"({'mc' if est != 'positive' else 'dmc'}); the b-value estimate is infinite. "
                "Lower mc or check delta_m"
            )
        o_rate = o["rate_prior"]
        values: dict[str, Any] = {
            "x": x,
            "n": int(x.size),
            "width": float(width),
            "mc": float(mc),
            "delta_m": float(delta_m),
            "duration_known": int(duration is not None),
            "n_rate": n_rate,
            "duration": float(duration) if duration is not None else 1.0,
            **self._prior_values(),
            "rate_prior_lognormal": int(o_rate != "jeffreys"),
            "rate_prior_mu": float(o_rate[0]) if o_rate != "jeffreys" else 0.0,
            "rate_prior_sigma": float(o_rate[1]) if o_rate != "jeffreys" else 1.0,
        }
        return values

    def _grouped(self, m: np.ndarray, summary: dict[str, Any]) -> dict[str, Any]:
        uniq, inverse, counts = np.unique(m, return_inverse=True, return_counts=True)
        summary["n"] = int(m.size)
        summary["data_kind"] = "magnitudes"
        return {
            "m": uniq.astype(float),
            "count": counts.astype(float),
            "bin_of": inverse.astype(np.int64),
            "n": int(m.size),
        }

    def _values_tapered(
        self,
        m: np.ndarray,
        t: np.ndarray | None,
        delta_m: float,
        mc: float,
        duration: float | None,
        summary: dict[str, Any],
        notes: list[str],
    ) -> dict[str, Any]:
        o = self.options
        values = self._grouped(m, summary)
        if o["corner_bounds"] is None:
            top = float(m.max()) if m.size else mc
            lower, upper = mc, max(mc + 6.0, top + 2.0)
        else:
            lower, upper = o["corner_bounds"]
        summary["corner_bounds"] = (lower, upper)
        values.update(
            {
                "delta_m": float(delta_m),
                "mc": float(mc),
                "corner_lower": float(lower),
                "corner_upper": float(upper),
                **self._prior_values(),
            }
        )
        return values

    def _values_detection(
        self,
        m: np.ndarray,
        t: np.ndarray | None,
        delta_m: float,
        m_min: float,
        duration: float | None,
        summary: dict[str, Any],
        notes: list[str],
    ) -> dict[str, Any]:
        from scipy.special import ndtri

        o = self.options
        values = self._grouped(m, summary)
        mu_prior = o["mu_prior"] if o["mu_prior"] is not None else (m_min, 1.0)
        summary["mu_prior"] = tuple(float(v) for v in mu_prior)
        values.update(
            {
                "delta_m": float(delta_m),
                "m_min": float(m_min),
                "mc_z": float(ndtri(o["detection_probability"])),
                **self._prior_values(),
                "mu_prior_mean": float(mu_prior[0]),
                "mu_prior_sd": float(mu_prior[1]),
                "sigma_prior_mu": float(o["sigma_prior"][0]),
                "sigma_prior_sigma": float(o["sigma_prior"][1]),
            }
        )
        return values

    # -------------------------------------------------------- predictive bins
    def _ppc_bins(self, values: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, Any]:
        """Bins of the replicated counts: ``ppc_lower + j * ppc_width``, the last one open."""
        kind = self.kind
        if kind == "gr":
            data = np.asarray(values["x"])
            lower = 0.0
            name = (
                "difference_counts"
                if self.options["estimator"] == "positive"
                else "magnitude_counts"
            )
        else:
            data = np.asarray(values["m"])
            lower = (values["mc"] if kind == "tapered" else values["m_min"]) - values["delta_m"] / 2
            name = "magnitude_counts"
        step = values["delta_m"] if values["delta_m"] > 0 else 0.1
        span = float(np.max(data)) - lower + 1e-9
        width = step * max(1, math.ceil(span / step / PPC_MAX_BINS))
        nbins = max(2, math.floor(span / width) + 2)
        return {
            "ppc_lower": float(lower),
            "ppc_width": float(width),
            "ppc_nbins": int(nbins),
            "ppc_name": name,
        }

    def _observed_counts(self, values: Mapping[str, Any]) -> np.ndarray:
        if self.kind == "gr":
            data = np.asarray(values["x"])
        else:
            data = np.repeat(np.asarray(values["m"]), np.asarray(values["count"]).astype(int))
        j = np.floor((data - values["ppc_lower"]) / values["ppc_width"] + 1e-9).astype(np.int64)
        j = np.clip(j, 0, values["ppc_nbins"] - 1)
        return np.bincount(j, minlength=values["ppc_nbins"]).astype(np.int64)

    # ------------------------------------------------------------------ parameters
    def parameters(self, data: PreparedData) -> ParameterSet:
        """Parameters of the kind, in the order of its Stan program.

        ``b, rate`` (gr); ``b, corner_magnitude``
        (tapered); ``b, mu, sigma`` (detection).
        """
        v = data.values
        b = Parameter("b", lower=0.0, description="Gutenberg–Richter b-value")
        if self.kind == "gr":
            per = "unit time" if v["duration_known"] else "observation period"
            return ParameterSet(
                [
                    b,
                    Parameter(
                        "rate",
                        lower=0.0,
                        description=f"rate of events with M >= mc={v['mc']:g} per {per}",
                    ),
                ]
            )
        if self.kind == "tapered":
            return ParameterSet(
                [
                    b,
                    Parameter(
                        "corner_magnitude",
                        lower=v["corner_lower"],
                        upper=v["corner_upper"],
                        description="corner magnitude of the tapered law (Kagan 2002)",
                    ),
                ]
            )
        return ParameterSet(
            [
                b,
                Parameter("mu", description="magnitude detected with probability 1/2"),
                Parameter("sigma", lower=0.0, description="width of the detection ramp"),
            ]
        )

    def improper_priors(self, data: PreparedData) -> list[str]:
        """``["rate"]`` with the (improper) Jeffreys rate prior, else ``[]``: the other
        priors are proper (lognormal, normal, uniform on bounds)."""
        return ["rate"] if self.kind == "gr" and self.options["rate_prior"] == "jeffreys" else []

    # ------------------------------------------------------------------ torch
    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Log likelihood at constrained ``params`` (see :mod:`pystats.gr.likelihood`).

        Normalised, as the Stan programs: for kind gr the Poisson term of the number of
        events includes its constant ``-log(n_rate!)``, so the value is the log
        probability of the data (and the AIC of an ``mle`` fit is the usual one).
        """
        from . import likelihood as lk

        b = params["b"]
        if self.kind == "gr":
            n_rate = tensors["n_rate"]
            return (
                lk.gr_logp(b, tensors["x"], tensors["width"]).sum()
                + lk.poisson_rate_loglik(params["rate"], n_rate, tensors["duration"])
                - math.lgamma(float(n_rate) + 1.0)
            )
        if self.kind == "tapered":
            lp = lk.tapered_logp(
                tensors["m"], b, params["corner_magnitude"], tensors["mc"], tensors["delta_m"]
            )
        else:
            lp = lk.detection_logp(
                tensors["m"], b, params["mu"], params["sigma"], tensors["m_min"], tensors["delta_m"]
            )
        return (tensors["count"] * lp).sum()

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Log prior density at constrained ``params`` (the priors of the class docstring)."""
        from . import likelihood as lk

        out = lk.lognormal_logpdf(params["b"], tensors["b_prior_mu"], tensors["b_prior_sigma"])
        if self.kind == "gr":
            rate = params["rate"]
            if tensors["rate_prior_lognormal"]:
                out = out + lk.lognormal_logpdf(
                    rate, tensors["rate_prior_mu"], tensors["rate_prior_sigma"]
                )
            else:
                out = out - 0.5 * rate.log()
        elif self.kind == "tapered":
            out = out - math.log(tensors["corner_upper"] - tensors["corner_lower"])
        else:
            out = out + lk.normal_logpdf(
                params["mu"], tensors["mu_prior_mean"], tensors["mu_prior_sd"]
            )
            out = out + lk.lognormal_logpdf(
                params["sigma"], tensors["sigma_prior_mu"], tensors["sigma_prior_sigma"]
            )
        return out

    # ------------------------------------------------------------------ Stan
    def stan_program(self) -> str:
        """``gr_binned.stan``, ``gr_tapered.stan`` or ``gr_detection.stan``."""
        return _STAN_PROGRAMS[self.kind]

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """The data block of the kind's Stan program (``include_prior`` is added by engines)."""
        v = data.values
        n = int(v["n"])
        common = {"b_prior_mu": v["b_prior_mu"], "b_prior_sigma": v["b_prior_sigma"]}
        if self.kind == "gr":
            keys = (
                "width",
                "mc",
                "n_rate",
                "duration",
                "rate_prior_lognormal",
                "rate_prior_mu",
                "rate_prior_sigma",
            )
            return {
                "N": n,
                "x": np.asarray(v["x"], dtype=float).tolist(),
                **{k: v[k] for k in keys},
                **common,
            }
        grouped = {
            "K": int(np.asarray(v["m"]).size),
            "m": np.asarray(v["m"], dtype=float).tolist(),
            "count": np.asarray(v["count"], dtype=float).tolist(),
            "delta_m": v["delta_m"],
        }
        if self.kind == "tapered":
            return {
                **grouped,
                "N": n,
                "mc": v["mc"],
                "corner_lower": v["corner_lower"],
                "corner_upper": v["corner_upper"],
                **common,
            }
        keys = (
            "m_min",
            "mc_z",
            "mu_prior_mean",
            "mu_prior_sd",
            "sigma_prior_mu",
            "sigma_prior_sigma",
        )
        return {**grouped, **{k: v[k] for k in keys}, **common}

    # ------------------------------------------------------------------ estimates
    def _b_closed(self, v: Mapping[str, Any]) -> tuple[float, float]:
        """Closed-form MLE of b and its Fisher-information standard error (kind gr)."""
        x = np.asarray(v["x"], dtype=float)
        n = x.size
        xbar = float(x.mean())
        w = float(v["width"])
        if w > 0:
            beta = math.log1p(w / xbar) / w
            q = math.exp(-beta * w)
            se_beta = -math.expm1(-beta * w) / (w * math.sqrt(n * q))
        else:
            beta = 1.0 / xbar
            se_beta = beta / math.sqrt(n)
        return beta / LN10, se_beta / LN10

    def closed_form(self, data: PreparedData) -> tuple[dict[str, Any], np.ndarray] | None:
        """Closed-form MLE for ``kind="gr"``; ``None`` for the other kinds.

        ``b``: Tinti & Mulargia (1987) for binned magnitudes (and b-positive
        differences), Aki (1965) for continuous ones and for ``estimator="aki"``, with the
        exact Fisher-information standard error (the inverse of the observed information,
        which is what the Hessian of the likelihood gives).  ``rate = N / T`` with standard
        error ``sqrt(N) / T``.  The covariance is diagonal (the likelihood factorises).
        """
        if self.kind != "gr":
            return None
        v = data.values
        b, se_b = self._b_closed(v)
        point = {"b": b, "rate": v["n_rate"] / v["duration"]}
        return point, np.diag([se_b**2, v["n_rate"] / v["duration"] ** 2])

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """Random starting point around a closed-form estimate (constrained scale)."""
        v = data.values

        def jitter(x: float, s: float = 0.15) -> float:
            return float(x * math.exp(s * rng.standard_normal()))

        if self.kind == "gr":
            b, _ = self._b_closed(v)
            return {"b": jitter(b), "rate": jitter(v["n_rate"] / v["duration"], 0.05)}
        m, count = np.asarray(v["m"]), np.asarray(v["count"])
        if self.kind == "tapered":
            b = self._b_grouped(m, count, v["mc"], v["delta_m"])
            lo, hi = v["corner_lower"], v["corner_upper"]
            # near the largest magnitude: far above it the likelihood is flat in the corner
            margin = 0.02 * (hi - lo)
            corner = np.clip(float(m.max()) + rng.uniform(-0.5, 1.0), lo + margin, hi - margin)
            return {"b": jitter(b), "corner_magnitude": float(corner)}
        mode = float(m[np.argmax(count)])
        above = m >= mode + 0.5
        b = (
            self._b_grouped(m[above], count[above], mode + 0.5, v["delta_m"])
            if count[above].sum() >= 10
            else 1.0
        )
        return {
            "b": jitter(b),
            "mu": float(mode - 0.2 + 0.1 * rng.standard_normal()),
            "sigma": jitter(0.25, 0.3),
        }

    @staticmethod
    def _b_grouped(m: np.ndarray, count: np.ndarray, mc: float, delta_m: float) -> float:
        if count.sum() == 0:
            return 1.0
        xbar = float(np.sum(count * (m - mc)) / np.sum(count))
        if not xbar > 0:
            return 1.0
        beta = math.log1p(delta_m / xbar) / delta_m if delta_m > 0 else 1.0 / xbar
        return beta / LN10

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """Derived quantities: ``a_value`` (gr, tapered) or ``mc`` (detection).

        ``a_value = log10(rate T) + b mc`` (``T`` the observation time) for kind gr,
        ``log10(N) + b mc`` for the tapered law: the a-value of the catalogue period,
        ``log10 N(>= mc) = a - b mc``.  Detection:
        ``mc = mu + sigma Phi^{-1}(detection_probability)``.
        """
        v = data.values
        b = np.asarray(draws["b"], dtype=float)
        if self.kind == "gr":
            count = np.asarray(draws["rate"], dtype=float) * v["duration"]
            return {"a_value": np.log10(count) + b * v["mc"]}
        if self.kind == "tapered":
            return {"a_value": math.log10(v["n"]) + b * v["mc"]}
        return {
            "mc": np.asarray(draws["mu"], dtype=float)
            + v["mc_z"] * np.asarray(draws["sigma"], dtype=float)
        }

    # ------------------------------------------------------------------ pointwise
    def pointwise_log_likelihood(
        self, draws: Mapping[str, np.ndarray], data: PreparedData
    ) -> dict[str, np.ndarray]:
        """Log likelihood of each modelled event for each draw, for PSIS-LOO and WAIC.

        Computed on demand (by :meth:`Fit.to_arviz <pystats.fit.Fit.to_arviz>`) with the
        NumPy functions of :mod:`pystats.gr.distributions`, never stored with a fit.

        Parameters
        ----------
        draws : mapping
            Parameter name -> values with any leading axes (e.g. ``(chain, draw)``).
        data : PreparedData
            The prepared data of this model.

        Returns
        -------
        dict
            One entry, named after the ``observed_data`` variable it belongs to, of shape
            ``(*leading axes, n)``:

            * ``magnitude`` (kinds gr with estimators ``exact``/``aki``, tapered,
              detection): one value per magnitude at or above ``mc`` (``m_min``), in the
              order of ``data.observed["magnitude"]``.  Binned magnitudes give the log
              probability of their bin, continuous ones the log density (``aki``: the
              exponential density of ``m - (mc - delta_m/2)``).  Tapered and detection
              models group equal magnitudes for the fit; here each event gets its own
              value, so the sum over events is the magnitude log likelihood.
            * ``magnitude_difference`` (``estimator="positive"``): one value per positive
              magnitude difference ``>= dmc`` used by b-positive.

        Notes
        -----
        The Poisson term of kind gr, ``log Poisson(n_events | rate * T)``, is left out: it
        is a single observation of the event count, not one per event, and leaving one
        event out does not remove it.  The full log likelihood used for fitting
        (:meth:`log_likelihood_torch`, the Stan programs) is the sum of the values
        returned here plus, for kind gr, ``scipy.stats.poisson.logpmf(n_rate, rate * T)``
        with ``T = data.values["duration"]``.  ``arviz.loo`` therefore compares models of
        the same magnitudes (b-value laws, tapers, detection ramps), not rate models.
        """
        from . import distributions as dist

        v = data.values
        b = np.asarray(draws["b"], dtype=float)
        lead = b.shape
        flat = {
            k: np.asarray(draws[k], dtype=float).reshape(-1, 1)
            for k in self.parameters(data).names
        }
        if self.kind == "gr":
            name = (
                "magnitude_difference" if self.options["estimator"] == "positive" else "magnitude"
            )
            # the excesses x take few distinct values when binned: evaluate those once
            uniq, index = np.unique(np.asarray(v["x"], dtype=float), return_inverse=True)
            lp = dist.gr_logpmf(uniq, flat["b"], 0.0, float(v["width"]))
        else:
            name = "magnitude"
            uniq, index = np.asarray(v["m"], dtype=float), np.asarray(v["bin_of"])
            dm = float(v["delta_m"])
            if self.kind == "tapered":
                # tapered_gr_logpmf_binned takes one corner magnitude: loop over draws
                rows = [
                    dist.tapered_gr_logpmf_binned(uniq, bi, v["mc"], ci, dm)
                    for bi, ci in zip(flat["b"][:, 0], flat["corner_magnitude"][:, 0], strict=True)
                ]
                lp = np.stack(rows) if rows else np.empty((0, uniq.size))
            else:
                lp = dist.detection_logpmf_binned(
                    uniq, flat["b"], flat["mu"], flat["sigma"], dm, v["m_min"]
                )
        lp = np.asarray(lp, dtype=float).reshape(-1, uniq.size)
        return {name: np.take(lp, np.ravel(index), axis=-1).reshape(*lead, index.size)}

    # ------------------------------------------------------------------ survival helpers
    def _log_survival(
        self, params: Mapping[str, np.ndarray], edges: np.ndarray, v: Mapping[str, Any]
    ) -> np.ndarray:
        """log P(M >= edge) of the continuous law behind the data, ``(*lead, len(edges))``.

        For ``kind="gr"`` the edges are excesses over the threshold (``x``); otherwise
        magnitudes.  Used for replicated counts, predictions and figures.
        """
        import torch

        from . import likelihood as lk

        def t(a: Any) -> Any:
            return torch.as_tensor(np.array(a, dtype=float, copy=True)[..., None])

        e = torch.as_tensor(np.array(edges, dtype=float, copy=True))
        with torch.no_grad():
            b = t(params["b"])
            if self.kind == "gr":
                out = -b * lk.LN10 * torch.clamp(e, min=0.0)
            elif self.kind == "tapered":
                m_t = v["mc"] - v["delta_m"] / 2
                out = lk.tapered_log_survival(
                    torch.clamp(e, min=m_t), b, t(params["corner_magnitude"]), m_t
                )
            else:
                m0 = v["m_min"] - v["delta_m"] / 2
                mu, sigma = t(params["mu"]), t(params["sigma"])
                ee = torch.clamp(e, min=m0)
                out = lk.detection_log_survival(ee, b, mu, sigma, m0) - lk.detection_log_survival(
                    torch.full_like(ee[..., :1], m0), b, mu, sigma, m0
                )
        return out.numpy()

    def _ppc_probabilities(
        self, params: Mapping[str, np.ndarray], v: Mapping[str, Any]
    ) -> np.ndarray:
        edges = v["ppc_lower"] + v["ppc_width"] * np.arange(v["ppc_nbins"] + 1)
        surv = np.exp(self._log_survival(params, edges, v))
        surv[..., 0] = 1.0
        surv[..., -1] = 0.0  # the last bin is open-ended
        p = np.clip(-np.diff(surv, axis=-1), 0.0, None)
        return p / p.sum(axis=-1, keepdims=True)

    def posterior_predictive(
        self, draws: Mapping[str, np.ndarray], data: PreparedData, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Replicated magnitude counts per bin (and event counts) for each draw.

        Returns
        -------
        dict
            ``magnitude_counts`` (or ``difference_counts`` for b-positive): multinomial
            counts of ``N`` replicated data in the bins ``ppc_lower + j * ppc_width`` of
            ``data.values`` (the last bin open-ended), matching the observed counts of the
            same name; ``n_events`` (kind gr): Poisson(``rate T``) replicated
            numbers of events at or above ``mc``.
        """
        v = data.values
        name = next(k for k in data.observed if k.endswith("_counts"))
        p = self._ppc_probabilities(draws, v)
        out = {name: rng.multinomial(int(v["n"]), p)}
        if self.kind == "gr":
            out["n_events"] = rng.poisson(np.asarray(draws["rate"]) * v["duration"])
        return out

    # ------------------------------------------------------------------ predictions
    def _exceedance(
        self, params: Mapping[str, np.ndarray], magnitudes: np.ndarray, v: Mapping[str, Any]
    ) -> np.ndarray:
        """P(M >= m) for a recorded (binned) magnitude of a modelled event, ``(n, len(m))``.

        Binned data: a recorded magnitude ``>= m`` is a bin centre ``base + k delta_m >= m``,
        i.e. a true magnitude ``>= base - delta_m/2 + k delta_m`` with ``k`` the first such
        bin; ``base`` is ``mc`` (``m_min`` for the detection model).  Below ``base`` the
        probability is 1.
        """
        dm = v["delta_m"]
        base = v["m_min"] if self.kind == "detection" else v["mc"]
        if dm > 0:
            k = np.maximum(np.ceil((magnitudes - base) / dm - 1e-9), 0.0)
            edges = k * dm if self.kind == "gr" else base - dm / 2 + k * dm
        else:
            edges = (
                np.maximum(magnitudes - base, 0.0)
                if self.kind == "gr"
                else np.maximum(magnitudes, base)
            )
        return np.exp(self._log_survival(params, edges, v))

    def predict(
        self,
        fit: Fit,
        magnitudes: Any = None,
        duration: float | None = None,
        n_events: float | None = None,
        prob: float = 0.9,
    ) -> pd.DataFrame:
        """Exceedance probabilities and expected numbers of events, with intervals.

        Parameters
        ----------
        fit : Fit
            A fit of this model (draws from the posterior, the Laplace approximation or
            the asymptotic normal distribution of the MLE are used; without draws, the
            point estimate).
        magnitudes : array_like, optional
            Magnitudes ``m`` (one row each); default ``mc``, ``mc + 0.5``, ... up to the
            largest magnitude + 1.
        duration : float, optional
            Forecast period (catalogue time unit) for the expected number
            ``rate * duration * P(M >= m)``; needs a ``rate`` parameter.
        n_events : float, optional
            Number of future events at or above ``mc`` (``m_min`` for the detection
            model) instead of a duration: expected number ``n_events * P(M >= m)``.
            Default (neither given): the observed duration (kind gr), else the observed
            number of events.  Without event times in the data the duration is counted in
            observation periods.
        prob : float
            Mass of the equal-tailed intervals (default 0.9).

        Returns
        -------
        pandas.DataFrame
            One row per magnitude: ``magnitude``; ``p_exceed`` (``P(M >= m)`` for one event
            of the modelled population; recorded, binned magnitudes for binned data, so
            ``10^(-b (m - mc))`` on the grid for ``kind="gr"``), ``expected`` (number of
            events with ``M >= m``) and ``p_at_least_one`` (probability of at least one:
            ``1 - exp(-expected)`` for a Poisson number of events over ``duration``,
            ``1 - (1 - p)^n_events`` for a fixed number), each as the mean over draws with
            ``_lower``/``_upper`` quantiles.  ``attrs`` record ``duration``, ``n_events``,
            ``prob`` and the kind of draws.

        Raises
        ------
        OptionError
            Bad ``magnitudes``, ``prob``, ``duration`` or ``n_events``; both of the latter;
            ``duration`` for a model without a rate.
        """
        import pandas as pd

        v = fit.data.values
        check_prob(prob)
        base = v["m_min"] if self.kind == "detection" else v["mc"]
        if magnitudes is None:
            top = float(np.max(fit.data.observed["magnitude"])) + 1.0
            magnitudes = np.round(np.arange(base, top + 1e-9, 0.5), 10)
        mags = magnitude_array(magnitudes)
        if duration is not None and n_events is not None:
            raise OptionError("give duration or n_events, not both")
        has_rate = "rate" in fit.parameters.names
        if duration is not None:
            duration = _number("duration", duration, "a number > 0", positive=True)
            if not has_rate:
                raise OptionError(
                    f"duration= needs a rate, and kind={self.kind!r} has no 'rate' parameter "
                    "(only kind='gr' has); pass n_events= instead"
                )
        elif n_events is not None:
            n_events = _number("n_events", n_events, "a number >= 0", nonneg=True)
        elif has_rate:
            duration = float(v["duration"])
        else:
            n_events = float(v["n"] if self.kind != "gr" else v["n_rate"])

        names = fit.parameters.names
        try:
            params = {n: np.asarray(fit.variable(n), dtype=float) for n in names}
        except KeyError:
            params = {n: np.atleast_1d(np.asarray(fit.estimate(n), dtype=float)) for n in names}
        p = self._exceedance(params, mags, v)
        if duration is not None:
            expected = np.asarray(params["rate"])[:, None] * duration * p
            at_least_one = -np.expm1(-expected)
        else:
            expected = n_events * p
            with np.errstate(divide="ignore"):
                at_least_one = -np.expm1(n_events * np.log1p(-np.minimum(p, 1.0)))
        lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
        table: dict[str, Any] = {"magnitude": mags}
        for key, arr in (("p_exceed", p), ("expected", expected), ("p_at_least_one", at_least_one)):
            table[key] = arr.mean(axis=0)
            table[f"{key}_lower"] = np.quantile(arr, lo_q, axis=0)
            table[f"{key}_upper"] = np.quantile(arr, hi_q, axis=0)
        df = pd.DataFrame(table)
        from ..arviz_io import draws_kind

        df.attrs.update(
            {
                "duration": duration,
                "n_events": n_events,
                "prob": prob,
                "draws_kind": draws_kind(fit),
                "n_draws": int(p.shape[0]),
            }
        )
        return df

    # ------------------------------------------------------------------ figures
    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """The frequency–magnitude distribution with the fitted law; the detection curve.

        Returns
        -------
        list of (str, matplotlib.figure.Figure)
        """
        from ..plots.gr import detection_figure, fmd_figure

        figs = [("Frequency–magnitude distribution", fmd_figure(self, fit))]
        if self.kind == "detection":
            figs.append(("Detection probability", detection_figure(self, fit)))
        return figs

    def observed_coordinates(self, data: PreparedData) -> dict[str, tuple[str, np.ndarray]]:
        """The replicated-count bins are indexed by their centre magnitude (or magnitude
        difference for b-positive); the last bin is open-ended."""
        v = data.values
        name = next((k for k in data.observed if k.endswith("_counts")), None)
        if name is None:
            return {}
        centres = v["ppc_lower"] + v["ppc_width"] * (np.arange(v["ppc_nbins"]) + 0.5)
        if self.kind == "gr":
            # kind gr bins x = (magnitude or difference) - origin, on the grid from 0
            origin = data.summary["dmc"] if name == "difference_counts" else v["mc"]
            centres = origin + centres - v["delta_m"] / 2
        what = "magnitude difference" if name == "difference_counts" else "magnitude"
        return {name: (f"{what} (bin centre; the last bin is open-ended)", centres)}
