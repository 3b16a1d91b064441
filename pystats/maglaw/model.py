"""The magnitude-law family: GR, tapered GR, gamma, exponential-in-moment, Weibull and
generalized-gamma size laws, with an optional detection probit.

``MagnitudeLaw(law=..., detection=False | True, mc=..., ...)`` fits one size law of
:mod:`pystats.maglaw.laws` to the magnitudes of a catalogue with every inference method of
pystats (``mle``, ``map``, ``laplace``, ``nuts``; torch likelihood).  The magnitudes are read,
gridded and cut exactly as by :class:`pystats.GutenbergRichter` (its ``prepare`` is reused:
bin-width inference, off-grid warnings, completeness, too-few-events errors).  With
``detection=True`` the recorded magnitudes above ``m_min`` have density
``∝ f(m) Φ((m - mu)/sigma)`` (Ogata & Katsura 1993), so the catalogue need not be cut at Mc.
With ``mu_trend="gp"`` as well, ``mu(t) = mu + f(t) - fbar`` follows a Hilbert-space GP in
time (:mod:`pystats.btime.hsgp`, the b(t) family's basis): events are grouped in
``n_time_bins`` bins of time sharing ``mu_g`` and each group's recorded range is normalised
on its own (``models/magnitude_laws.md`` §4); :meth:`MagnitudeLaw.mu_band` gives ``mu(t)``.

The likelihood of binned magnitudes is multinomial over the bins of the recorded range,
``sum_j n_j log P_j``, ``P_j = I_j / (sum_k I_k + I_tail)`` with ``I_j`` the Gauss–Legendre
bin mass of :func:`pystats.maglaw.laws.bin_log_mass` and ``I_tail`` the mass above the top
bin (``models/magnitude_laws.md`` §2–4).  Continuous magnitudes use the density.

References
----------
Kagan, Y. Y. (2002). Seismic moment distribution revisited: I. Statistical results.
Geophysical Journal International 148(3), 520-541.
https://doi.org/10.1046/j.1365-246x.2002.01594.x

Ogata, Y. and Katsura, K. (1993). Analysis of temporal and spatial heterogeneity of
magnitude frequency distribution inferred from earthquake catalogues. Geophysical Journal
International 113(3), 727-738. https://doi.org/10.1111/j.1365-246X.1993.tb04663.x
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._checks import check_prob, magnitude_array
from .._checks import number as _number
from ..cli_spec import Argument, CommandLine
from ..constraints import Booleans, Interval, Mappings, Option, Pair, StrOptions
from ..errors import DataError, OptionError
from ..gr.model import MC_METHODS
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from . import laws as L
from .commands import SIMULATE_COMMANDS

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit

__all__ = ["MagnitudeLaw"]

LN10 = math.log(10.0)
CONTINUOUS_PANEL = 0.05
"""Width of the normalising panels of the detection model for continuous magnitudes."""

_POS = Interval(Real, 0, None, closed="neither")
MU_ALPHA_SD = 0.5
"""Scale of the half-normal prior on the amplitude of the GP of ``mu(t)`` (magnitude units)."""
TREND_PARAMETERS = ("mu_alpha", "mu_ell", "mu_z")
"""Parameters of the GP of ``mu(t)`` (``mu_trend="gp"``), after ``mu`` and ``sigma``."""


class MagnitudeLaw(Model):
    """Size law of magnitudes from the generalized-gamma family of seismic moment.

    Parameters
    ----------
    law : {"generalized_gamma", "gr", "tapered_gr", "gamma", "exponential_moment", "weibull"}
        The law (``models/magnitude_laws.md`` §1): parameters ``b`` (``gr``, ``tapered_gr``,
        ``gamma``, ``generalized_gamma``), ``gamma`` (``weibull``, ``generalized_gamma``)
        and ``corner_magnitude`` (all but ``gr``).
    detection : bool
        Fit the law times the detection probability ``Phi((m - mu)/sigma)`` to every
        magnitude ``>= m_min`` (parameters ``mu``, ``sigma``); ``mc`` is then not allowed.
    mc : float or {"maxc", "gft", "mbs", "emr", "ks"}, optional
        Completeness magnitude (lowest bin centre) or an Mc method, as for
        :class:`pystats.GutenbergRichter`; required without detection.
    delta_m : float, optional
        Bin width; ``None`` infers it, ``0`` means continuous magnitudes.
    m_min : float, optional
        ``detection=True`` only: lowest magnitude modelled (default the smallest).
    mc_options : dict, optional
        Keyword arguments of the Mc method when ``mc`` names one.
    b_prior : (float, float)
        ``(mean, sd)`` of the normal prior on ``b`` (default ``(1, 1)``).
    gamma_prior : (float, float)
        ``(mean_log, sd_log)`` of the lognormal prior on ``gamma`` (default ``(0, 1)``).
    corner_bounds : (float, float), optional
        Bounds of ``corner_magnitude`` with a uniform prior; default
        ``(threshold - 4, max magnitude + 3)``.
    mu_prior, sigma_prior : (float, float), optional
        Detection priors as in :class:`pystats.GutenbergRichter`: ``mu`` normal (default
        ``(m_min, 1)``), ``sigma`` lognormal (default ``(log 0.25, 0.75)``).
    mu_trend : {None, "gp"}
        ``detection=True`` only: ``"gp"`` lets ``mu`` vary in time, ``mu(t) = mu + f(t) -
        fbar`` with ``f`` a squared-exponential GP (Hilbert-space basis of
        :mod:`pystats.btime.hsgp`; parameters ``mu_alpha``, ``mu_ell``, ``mu_z``) and ``mu``
        the mean of ``mu(t)`` over the events; the data need event times (a Catalog or a
        frame with a ``time`` column).  ``None`` (default): ``mu`` is constant.
    n_basis : int
        ``mu_trend="gp"``: basis functions of the GP (default 20).
    n_time_bins : int or None
        ``mu_trend="gp"``: equal bins of time whose events share ``mu_g`` (default 100);
        ``None`` gives one group per event.

    Raises
    ------
    OptionError
        An unknown option or a value that is not allowed (named, with what is allowed).

    Notes
    -----
    ``fit.predict(magnitudes=..., n_events=...)`` gives the exceedance probability of each
    magnitude under the size law and expected numbers; ``pystats.compare(fits)`` ranks
    fits of several laws to the same events by PSIS-LOO and AIC/BIC.

    Examples
    --------
    >>> import pystats
    >>> from pystats.maglaw.laws import simulate
    >>> m = simulate(3000, "tapered_gr", 1.95, {"b": 1.0, "corner_magnitude": 3.5},
    ...              rng=1, delta_m=0.1)
    >>> fit = pystats.MagnitudeLaw(law="tapered_gr", mc=2.0).fit(m, seed=1)
    >>> round(float(fit.estimate("b")), 1), round(float(fit.estimate("corner_magnitude")), 1)
    (1.0, 3.5)
    """

    family: ClassVar[str] = "magnitude_law"
    has_torch_likelihood: ClassVar[bool] = True
    batched_torch_likelihood: ClassVar[bool] = True
    """The likelihood and prior broadcast over a leading axis of draws (``_terms``), so the
    torch engine evaluates the Laplace fit's Pareto-k draws in batches, not row by row."""
    options_spec: ClassVar[dict[str, Option]] = {
        "law": Option("generalized_gamma", [StrOptions(L.LAWS)]),
        "detection": Option(False, [Booleans()]),
        "mc": Option(None, [None, Interval(Real), StrOptions(MC_METHODS)],
                     allowed=f"a finite number or one of {', '.join(MC_METHODS)}"),
        "delta_m": Option(None, [None, Interval(Real, 0, None)],
                          allowed="None (infer), 0 (continuous) or a bin width > 0"),
        "m_min": Option(None, [None, Interval(Real)]),
        "mc_options": Option(None, [None, Mappings()],
                             allowed="None or a dict of keyword arguments for estimate_mc"),
        "b_prior": Option((1.0, 1.0), [Pair(Interval(Real), _POS)],
                          allowed="(mean, sd) of a normal prior, sd > 0"),
        "gamma_prior": Option((0.0, 1.0), [Pair(Interval(Real), _POS)],
                              allowed="(mean_log, sd_log) of a lognormal prior, sd_log > 0"),
        "corner_bounds": Option(None, [None, Pair(Interval(Real), Interval(Real),
                                                  increasing=True)],
                                allowed="None or (lower, upper) magnitudes, lower < upper"),
        "mu_prior": Option(None, [None, Pair(Interval(Real), _POS)],
                           allowed="None or (mean, sd) of a normal prior, sd > 0"),
        "sigma_prior": Option((math.log(0.25), 0.75), [Pair(Interval(Real), _POS)],
                              allowed="(mean_log, sd_log) of a lognormal prior, sd_log > 0"),
        "mu_trend": Option(None, [None, StrOptions(("gp",))],
                           allowed="None (constant mu) or 'gp' (mu(t) a Gaussian process)"),
        "n_basis": Option(20, [Interval(int, 4, 200)]),
        "n_time_bins": Option(100, [None, Interval(int, 1, None)],
                              allowed="None (one group per event) or an integer >= 1"),
    }
    """The options (see Parameters); cross-field checks in :meth:`_validate_options`."""
    cli: ClassVar[CommandLine] = CommandLine(
        name="maglaw", title="Magnitude law", help="magnitude laws (generalized gamma family)",
        fit=(
            Argument("--law", choices=L.LAWS, help="size law (default: generalized_gamma)"),
            Argument("--detection", action="store_true",
                     help="fit a detection probit instead of cutting at mc"),
            Argument("--mc", type=float, help="completeness magnitude"),
            Argument("--delta-m", type=float, help="magnitude bin width (default: inferred)"),
            Argument("--mu-trend", choices=("gp",),
                     help="with --detection: mu(t) a Gaussian process in time"),
            Argument("--n-basis", type=int, help="--mu-trend gp: basis functions (default 20)"),
            Argument("--n-time-bins", type=int,
                     help="--mu-trend gp: time bins sharing mu (default 100)"),
        ),
        predict=(
            Argument("--n-events", type=float, help="number of future events above the threshold"),
        ),
        simulate=SIMULATE_COMMANDS,
    )

    # ------------------------------------------------------------------ options
    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        o = options
        if o["detection"]:
            if o["mc"] is not None:
                raise OptionError(
                    f"mc={o['mc']!r} is not allowed with detection=True: the detection model "
                    "covers every magnitude >= m_min; use m_min= to set the lowest magnitude"
                )
        else:
            if o["mc"] is None:
                raise OptionError(
                    "mc is required with detection=False: give the completeness magnitude "
                    f"or a method name, one of {', '.join(MC_METHODS)}"
                )
            for name in ("m_min", "mu_prior", "mu_trend"):
                if o[name] is not None:
                    raise OptionError(f"option {name}={o[name]!r} applies only to "
                                      "detection=True; this model has detection=False")
        if o["mc_options"] is not None and not isinstance(o["mc"], str):
            raise OptionError(f"mc_options={o['mc_options']!r} applies only when mc names a "
                              f"method ({', '.join(MC_METHODS)})")
        return o

    @property
    def trend(self) -> bool:
        """Whether ``mu`` follows a GP in time (``mu_trend="gp"``)."""
        return self.options["mu_trend"] is not None

    @property
    def law(self) -> str:
        """The size law (one of :data:`pystats.maglaw.laws.LAWS`)."""
        return self.options["law"]

    @property
    def nuts_defaults(self) -> Mapping[str, Any]:  # type: ignore[override]
        """NUTS with ``adapt_delta=0.95`` unless given when ``mu`` follows the GP in time
        (at 0.8: 9 divergent draws of 1 600 on a 3 000-event ramp, card §4), as b(t)'s GP."""
        return MappingProxyType({"adapt_delta": 0.95} if self.trend else {})

    # ------------------------------------------------------------------ prepare
    def prepare(self, data: Any) -> PreparedData:
        """Read, grid and cut the magnitudes as :class:`pystats.GutenbergRichter` does.

        Returns
        -------
        PreparedData
            ``values``: ``lo`` (lower bin edges of the recorded range, binned data) and
            ``count`` per bin, or ``m`` (continuous), ``width``, ``m_t`` (threshold:
            ``mc - delta_m/2`` or ``m_min - delta_m/2``), ``top`` (upper edge of the top
            bin or panel), ``n``; ``observed``: ``magnitude`` (the events modelled) and
            ``magnitude_all``; ``summary`` as the GR model's plus ``law``.
        """
        import pandas as pd

        from ..gr.model import GutenbergRichter

        o = self.options
        if self.trend and isinstance(data, Mapping) and not isinstance(data, pd.DataFrame):
            data = pd.DataFrame({k: np.asarray(v) for k, v in data.items()})
        if self.trend and isinstance(data, pd.DataFrame) and "time" in data.columns:
            data = data.sort_values("time", kind="stable")  # a sorted copy, as b(t)'s
        gr_opts: dict[str, Any] = {"delta_m": o["delta_m"]}
        if o["detection"]:
            gr_opts.update(kind="detection", m_min=o["m_min"])
        else:
            gr_opts.update(kind="tapered", mc=o["mc"], mc_options=o["mc_options"])
        gr = GutenbergRichter(**gr_opts).prepare(data)
        s = dict(gr.summary)
        dm = float(s["delta_m"])
        base = float(s["m_min"] if o["detection"] else s["mc"])
        m = np.asarray(gr.observed["magnitude"], dtype=float)
        m_t = base - dm / 2
        values: dict[str, Any] = {"m_t": m_t, "n": int(m.size), "binned": int(dm > 0)}
        if dm > 0:
            k = np.round((m - base) / dm).astype(np.int64)
            nb = int(k.max()) + 1
            values.update(lo=m_t + dm * np.arange(nb), count=np.bincount(k, minlength=nb)
                          .astype(float), width=dm, top=m_t + dm * nb, bin_of=k)
        else:
            width = CONTINUOUS_PANEL
            nb = max(1, math.ceil((float(m.max()) - m_t) / width + 1e-9))
            values.update(m=m, lo=m_t + width * np.arange(nb), width=width, top=m_t + width * nb)
        top_m = float(m.max())
        lower, upper = o["corner_bounds"] or (m_t - 4.0, top_m + 3.0)
        mu_prior = o["mu_prior"] if o["mu_prior"] is not None else (base, 1.0)
        values.update(
            corner_lower=float(lower), corner_upper=float(upper),
            b_prior_mean=float(o["b_prior"][0]), b_prior_sd=float(o["b_prior"][1]),
            gamma_prior_mu=float(o["gamma_prior"][0]),
            gamma_prior_sigma=float(o["gamma_prior"][1]),
            mu_prior_mean=float(mu_prior[0]), mu_prior_sd=float(mu_prior[1]),
            sigma_prior_mu=float(o["sigma_prior"][0]),
            sigma_prior_sigma=float(o["sigma_prior"][1]),
        )
        s.update(law=self.law, detection=bool(o["detection"]), threshold=m_t,
                 corner_bounds=(float(lower), float(upper)))
        for key in ("kind", "corner_bounds_gr"):
            s.pop(key, None)
        observed = {"magnitude": m, "magnitude_all": np.asarray(gr.observed["magnitude_all"])}
        if self.trend:
            times = self._event_times(data, observed["magnitude_all"], m, base, dm)
            values.update(self._trend_values(times, values))
            observed["time"] = times
            s.update(mu_trend=o["mu_trend"], n_basis=int(o["n_basis"]),
                     n_time_bins=o["n_time_bins"], n_groups=int(values["n_g"].size),
                     t_start=float(times.min()), t_end=float(times.max()))
        return PreparedData(values=values, observed=observed, summary=s)

    @staticmethod
    def _event_times(data: Any, m_all: np.ndarray, m: np.ndarray, base: float,
                     dm: float) -> np.ndarray:
        """Times of the events modelled (those of ``m``, in the same order)."""
        from ..gr.model import _read_input

        _, times, _ = _read_input(data)
        if times is None:
            raise DataError(
                "mu_trend='gp' needs event times: pass a pystats.Catalog or a frame with "
                "'time' and 'magnitude' columns (field 'time' is missing)")
        keep = np.round((m_all - base) / dm) >= 0 if dm > 0 else m_all >= base
        t = np.asarray(times, dtype=float)[keep]
        if t.size != m.size:  # pragma: no cover - the GR reader keeps the data order
            raise DataError("event times do not match the magnitudes modelled")
        return t

    def _trend_values(self, times: np.ndarray, v: Mapping[str, Any]) -> dict[str, Any]:
        """Time groups, their counts and the centred HSGP basis at their mean times.

        As :class:`pystats.btime.model.TimeVaryingB`: time scaled to ``[-1, 1]``,
        ``n_time_bins`` equal bins (empty ones dropped; ``None``: one per event), the basis
        of :func:`pystats.btime.hsgp.basis` on ``[-1.5, 1.5]`` at each group's mean scaled
        time, centred by its event-weighted mean (so ``mu`` is the mean of ``mu(t)`` over
        the events).
        """
        from ..btime import hsgp
        from ..btime.model import BOUNDARY, ell_minimum

        k = int(self.options["n_basis"])
        tg = hsgp.time_groups(times, self.options["n_time_bins"], k, BOUNDARY)
        group, n_g = tg.group, tg.count
        out: dict[str, Any] = {
            "group": group, "n_g": n_g, "phi": tg.phi, "phi_mean": tg.phi_mean,
            "sqrt_lambda": hsgp.sqrt_eigenvalues(k, BOUNDARY), "ell_min": ell_minimum(k),
            "time_centre": tg.centre, "time_half": tg.half, "mu_alpha_sd": MU_ALPHA_SD,
        }
        if v["binned"]:
            nb = int(np.asarray(v["lo"]).size)
            flat = group * nb + np.asarray(v["bin_of"])
            out["count_gk"] = np.bincount(flat, minlength=n_g.size * nb).reshape(
                n_g.size, nb).astype(float)
        return out

    # ------------------------------------------------------------------ parameters
    def parameters(self, data: PreparedData) -> ParameterSet:
        """The law's parameters (``b``, ``gamma``, ``corner_magnitude``), then ``mu``, ``sigma``."""
        v = data.values
        names = L.LAW_PARAMETERS[self.law]
        out = []
        if "b" in names:
            lower = 0.0 if self.law in ("gr", "tapered_gr") else -math.inf
            out.append(Parameter("b", lower=lower, description="b-value (b = 1.5 beta)"))
        if "gamma" in names:
            out.append(Parameter("gamma", lower=0.0, description="taper exponent in moment"))
        if "corner_magnitude" in names:
            out.append(Parameter("corner_magnitude", lower=v["corner_lower"],
                                 upper=v["corner_upper"],
                                 description="moment magnitude of the corner moment"))
        if self.options["detection"]:
            what = "mean over the events of mu(t)" if self.trend \
                else "magnitude detected with probability 1/2"
            out += [Parameter("mu", description=what),
                    Parameter("sigma", lower=0.0, description="width of the detection ramp")]
        if self.trend:
            out += [Parameter("mu_alpha", lower=0.0, description="GP amplitude of mu(t)"),
                    Parameter("mu_ell", lower=float(v["ell_min"]),
                              description="GP length scale of mu(t) (half time spans)"),
                    Parameter("mu_z", shape=(int(self.options["n_basis"]),),
                              description="HSGP basis weights of mu(t)")]
        return ParameterSet(out)

    # ------------------------------------------------------------------ likelihood
    def _terms(self, params: Mapping[str, Any], t: Mapping[str, Any]) -> tuple[Any, Any]:
        """Per-bin (or per-event) log terms and the log normaliser, for parameters of any
        leading batch shape ``B``: ``(B + (K,), B)``."""
        import torch

        if self.trend:
            return self._trend_terms(params, t)
        law = self.law
        names = L.LAW_PARAMETERS[law]

        def ex(x: Any, n: int) -> Any:
            x = torch.as_tensor(x, dtype=torch.float64)
            return x.reshape(x.shape + (1,) * n)

        p2 = {k: ex(params[k], 2) for k in names}
        p1 = {k: ex(params[k], 1) for k in names}
        p0 = {k: torch.as_tensor(params[k], dtype=torch.float64) for k in names}
        det = bool(self.options["detection"])
        mu2 = ex(params["mu"], 2) if det else None
        sg2 = ex(params["sigma"], 2) if det else None
        lo, width = t["lo"], float(t["width"])
        top = torch.as_tensor(float(t["top"]), dtype=torch.float64)
        m_t = torch.as_tensor(float(t["m_t"]), dtype=torch.float64)
        if det or t["binned"]:
            masses = L.bin_log_mass(law, lo, width, p2, mu2, sg2)
            tail = L.log_tail(law, top, p0)
            if det:
                tail = tail + torch.special.log_ndtr((top - params["mu"]) / params["sigma"])
            log_z = torch.logsumexp(torch.cat([masses, tail.unsqueeze(-1)], dim=-1), dim=-1)
        else:
            log_z = L.log_tail(law, m_t, p0)
        if t["binned"]:
            return masses, log_z
        m = t["m"]
        terms = L.log_kernel(law, m, p1)
        if det:
            z = (m - ex(params["mu"], 1)) / ex(params["sigma"], 1)
            terms = terms + torch.special.log_ndtr(z)
        return terms, log_z

    def mu_of_groups(self, params: Mapping[str, Any], t: Mapping[str, Any]) -> Any:
        """``mu_g = mu + phi_g (sqrt(S) * mu_z)`` at the basis rows ``t["phi"]``, for
        parameters of any leading batch shape ``B``: ``B + (G,)`` (torch)."""
        import torch

        from ..btime import hsgp

        def as_t(x: Any) -> Any:
            if isinstance(x, np.ndarray):
                x = np.array(x, dtype=float)  # a writable copy of read-only fit data
            return torch.as_tensor(x, dtype=torch.float64)

        sd = hsgp.spectral_sd(as_t(params["mu_alpha"])[..., None],
                              as_t(params["mu_ell"])[..., None], as_t(t["sqrt_lambda"]))
        f = ((sd * as_t(params["mu_z"]))[..., None, :] * as_t(t["phi"])).sum(-1)
        return as_t(params["mu"])[..., None] + f

    def _trend_terms(self, params: Mapping[str, Any], t: Mapping[str, Any]) -> tuple[Any, Any]:
        """``mu_trend="gp"``: per group and bin log masses ``B + (G, K)`` (binned) or per-event
        log terms ``B + (n,)`` (continuous), and the per-group log normalisers ``B + (G,)``
        of ``∫ f(m) Φ((m - mu_g)/sigma)`` over the recorded range (the quadrature of the
        constant-mu model, batched over the groups)."""
        import torch

        law = self.law
        names = L.LAW_PARAMETERS[law]

        def ex(x: Any, n: int) -> Any:
            x = torch.as_tensor(x, dtype=torch.float64)
            return x.reshape(x.shape + (1,) * n)

        mu_g = self.mu_of_groups(params, t)  # B + (G,)
        sigma = torch.as_tensor(params["sigma"], dtype=torch.float64)
        p3 = {k: ex(params[k], 3) for k in names}
        p0 = {k: torch.as_tensor(params[k], dtype=torch.float64) for k in names}
        masses = L.bin_log_mass(law, t["lo"], float(t["width"]), p3, mu_g[..., None, None],
                                ex(sigma, 3))
        top = torch.as_tensor(float(t["top"]), dtype=torch.float64)
        tail = L.log_tail(law, top, p0)[..., None] \
            + torch.special.log_ndtr((top - mu_g) / sigma[..., None])
        log_z = torch.logsumexp(torch.cat([masses, tail[..., None]], dim=-1), dim=-1)
        if t["binned"]:
            return masses, log_z
        m = t["m"]
        terms = L.log_kernel(law, m, {k: ex(params[k], 1) for k in names}) \
            + torch.special.log_ndtr((m - mu_g[..., t["group"]]) / sigma[..., None])
        return terms, log_z

    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Multinomial bin log likelihood (binned) or log density sum (continuous); with
        ``mu_trend`` summed over the time groups, each normalised on its own."""
        terms, log_z = self._terms(params, tensors)
        if self.trend:
            norm = (tensors["n_g"] * log_z).sum(-1)
            if tensors["binned"]:
                return (tensors["count_gk"] * terms).sum((-2, -1)) - norm
            return terms.sum(-1) - norm
        if tensors["binned"]:
            return (tensors["count"] * terms).sum(-1) - tensors["n"] * log_z
        return terms.sum(-1) - tensors["n"] * log_z

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Priors of the class docstring (corner uniform: a constant)."""
        from ..gr import likelihood as lk

        out = 0.0
        if "b" in params:
            out = out + lk.normal_logpdf(params["b"], tensors["b_prior_mean"],
                                         tensors["b_prior_sd"])
        if "gamma" in params:
            out = out + lk.lognormal_logpdf(params["gamma"], tensors["gamma_prior_mu"],
                                            tensors["gamma_prior_sigma"])
        if "corner_magnitude" in params:
            out = out - math.log(tensors["corner_upper"] - tensors["corner_lower"])
        if self.options["detection"]:
            out = out + lk.normal_logpdf(params["mu"], tensors["mu_prior_mean"],
                                         tensors["mu_prior_sd"])
            out = out + lk.lognormal_logpdf(params["sigma"], tensors["sigma_prior_mu"],
                                            tensors["sigma_prior_sigma"])
        if self.trend:  # half-normal amplitude, shifted lognormal length scale (as b(t))
            out = (out + lk.normal_logpdf(params["mu_alpha"], 0.0, tensors["mu_alpha_sd"])
                   + math.log(2.0)
                   + lk.lognormal_logpdf(params["mu_ell"] - tensors["ell_min"],
                                         math.log(0.3), 0.7)
                   + lk.normal_logpdf(params["mu_z"], 0.0, 1.0).sum(-1))
        return out

    def pointwise_log_likelihood(
        self, draws: Mapping[str, np.ndarray], data: PreparedData
    ) -> dict[str, np.ndarray]:
        """``magnitude``: log probability of each event's bin (or log density), per draw.

        The sum over events is the log likelihood of :meth:`log_likelihood_torch`.
        """
        import torch

        from ..backends.torch import to_tensors

        v = data.values
        params = self.parameters(data)
        names = params.names
        lead = np.shape(draws[names[0]])[:np.ndim(draws[names[0]]) - len(params[names[0]].shape)]
        flat = {k: torch.as_tensor(np.array(draws[k], dtype=float).reshape(
            (-1, *params[k].shape))) for k in names}
        t = to_tensors(dict(v), torch.device("cpu"))
        out = []
        step = 50 if self.trend else 500  # the trend's terms are (draws, groups, bins, nodes)
        with torch.no_grad():
            for start in range(0, flat[names[0]].shape[0], step):
                chunk = {k: x[start:start + step] for k, x in flat.items()}
                terms, log_z = self._terms(chunk, t)
                if self.trend:
                    group = t["group"]
                    if v["binned"]:
                        terms = terms[:, group, torch.as_tensor(np.array(v["bin_of"]))]
                    lp = terms - log_z[:, group]
                else:
                    lp = terms - log_z[:, None]
                    if v["binned"]:
                        lp = lp[:, torch.as_tensor(np.array(v["bin_of"]))]
                out.append(lp.numpy())
        lp = np.concatenate(out, axis=0) if out else np.empty((0, int(v["n"])))
        return {"magnitude": lp.reshape(*lead, int(v["n"]))}

    # ------------------------------------------------------------------ Stan
    def stan_program(self) -> str:
        """``maglaw_<law>.stan`` or ``maglaw_<law>_detection.stan`` (shared functions and
        data block included from ``maglaw_functions.stan`` and ``maglaw_data.stan``)."""
        suffix = "_detection_trend" if self.trend \
            else "_detection" if self.options["detection"] else ""
        return f"maglaw_{self.law}{suffix}.stan"

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """The data block of ``maglaw_data.stan``, quadrature nodes included (so that Stan
        sums the same terms as the torch likelihood)."""
        from .incgamma import GL_NODES, _exp_sinh, _panels, gauss_legendre

        v = data.values
        y, w = gauss_legendre(GL_NODES)
        es_s, es_lw = _exp_sinh()
        pn_off, pn_lw = _panels()
        m = np.asarray(v["m"], dtype=float) if not v["binned"] else np.empty(0)
        lo = np.asarray(v["lo"], dtype=float)
        count = np.asarray(v["count"], dtype=float) if v["binned"] else np.zeros(lo.size)
        keys = ("corner_lower", "corner_upper", "b_prior_mean", "b_prior_sd", "gamma_prior_mu",
                "gamma_prior_sigma", "mu_prior_mean", "mu_prior_sd", "sigma_prior_mu",
                "sigma_prior_sigma")
        return {
            "law": L.LAWS.index(self.law) + 1, "detection": int(self.options["detection"]),
            "K": int(lo.size), "lo": lo.tolist(), "count": count.tolist(),
            "width": float(v["width"]), "top": float(v["top"]), "m_t": float(v["m_t"]),
            "n": int(v["n"]), "binned": int(v["binned"]), "N_m": int(m.size), "m": m.tolist(),
            "J": int(y.size), "gl_y": y.tolist(), "gl_lw": np.log(w * float(v["width"])).tolist(),
            "J_es": int(es_s.size), "es_s": es_s.tolist(), "es_lw": es_lw.tolist(),
            "J_pn": int(pn_off.size), "pn_off": pn_off.tolist(), "pn_lw": pn_lw.tolist(),
            **{k: float(v[k]) for k in keys},
            **(self._trend_stan_data(v) if self.trend else {}),
        }

    @staticmethod
    def _trend_stan_data(v: Mapping[str, Any]) -> dict[str, Any]:
        """The data block of ``maglaw_trend_data.stan``: groups, basis, counts per group."""
        phi = np.asarray(v["phi"], dtype=float)
        g = int(phi.shape[0])
        k = int(np.asarray(v["lo"]).size)
        count_gk = np.asarray(v["count_gk"], dtype=float) if v["binned"] else np.zeros((g, k))
        group = np.asarray(v["group"], dtype=np.int64) + 1 if not v["binned"] \
            else np.zeros(0, dtype=np.int64)
        return {"G": g, "M": int(phi.shape[1]), "phi": phi.tolist(),
                "sqrt_lambda": np.asarray(v["sqrt_lambda"], dtype=float).tolist(),
                "ell_min": float(v["ell_min"]), "mu_alpha_sd": float(v["mu_alpha_sd"]),
                "n_g": np.asarray(v["n_g"], dtype=float).tolist(),
                "count_gk": count_gk.tolist(), "group": group.tolist()}

    # ------------------------------------------------------------------ starting values
    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """Aki-type b from the upper half of the data, corner near the largest event."""
        v = data.values
        m = np.asarray(data.observed["magnitude"], dtype=float)
        det = bool(self.options["detection"])
        start = float(np.median(m)) if det else float(v["m_t"])
        above = m[m >= start]
        mean_x = float(np.mean(above - start)) if above.size else 0.4
        b = 1.0 / (LN10 * max(mean_x, 0.05))
        out: dict[str, Any] = {}
        names = L.LAW_PARAMETERS[self.law]
        if "b" in names:
            out["b"] = float(min(b, 3.0) * math.exp(0.1 * rng.standard_normal()))
        if "gamma" in names:
            out["gamma"] = float(math.exp(0.2 * rng.standard_normal()))
        if "corner_magnitude" in names:
            lo, hi = v["corner_lower"], v["corner_upper"]
            margin = 0.02 * (hi - lo)
            out["corner_magnitude"] = float(np.clip(float(m.max()) + rng.uniform(-1.0, 0.5),
                                                    lo + margin, hi - margin))
        if det:
            vals, counts = np.unique(m, return_counts=True)
            out["mu"] = float(vals[np.argmax(counts)] - 0.2 + 0.1 * rng.standard_normal())
            out["sigma"] = float(0.25 * math.exp(0.3 * rng.standard_normal()))
        if self.trend:  # a nearly flat mu(t), as b(t)'s start
            out.update(mu_alpha=0.1, mu_ell=max(0.3, 1.2 * float(v["ell_min"])),
                       mu_z=0.1 * rng.standard_normal(int(self.options["n_basis"])))
        return out

    # ------------------------------------------------------------------ predictions
    def _draws(self, fit: Fit) -> dict[str, np.ndarray]:
        names = fit.parameters.names
        try:
            return {n: np.asarray(fit.variable(n), dtype=float) for n in names}
        except KeyError:
            return {n: np.asarray(fit.estimate(n), dtype=float)[None] for n in names}

    def mu_draws(self, fit: Fit, times: Any) -> np.ndarray:
        """Draws of the detection ``mu(t)`` at ``times`` (the catalogue's time axis, days):
        ``(n_draws, len(times))``; constant in time without ``mu_trend``.

        Raises
        ------
        OptionError
            The model has no detection, or ``times`` are not finite numbers.
        """
        import torch

        if not self.options["detection"]:
            raise OptionError("mu(t) needs detection=True; this model has detection=False")
        ts = np.atleast_1d(np.array(times, dtype=object))
        ts = np.array([_number("times", x, "finite numbers (days on the catalogue's axis)")
                       for x in ts], dtype=float)
        d = self._draws(fit)
        if not self.trend:
            return np.repeat(np.asarray(d["mu"], dtype=float)[:, None], ts.size, axis=1)
        from ..btime import hsgp
        from ..btime.model import BOUNDARY

        v = fit.data.values
        s = (ts - float(v["time_centre"])) / float(v["time_half"])
        phi = hsgp.basis(s, int(self.options["n_basis"]), BOUNDARY) - np.asarray(v["phi_mean"])
        with torch.no_grad():
            p = {k: torch.as_tensor(np.array(d[k], dtype=float)) for k in ("mu", *TREND_PARAMETERS)}
            mu = self.mu_of_groups(p, {"phi": phi, "sqrt_lambda": np.asarray(v["sqrt_lambda"])})
        return mu.numpy()

    def mu_band(self, fit: Fit, times: Any = None, prob: float = 0.9) -> pd.DataFrame:
        """The detection ``mu(t)`` at ``times`` (default 100 points over the catalogue):
        posterior mean, ``lower`` and ``upper`` of the equal-tailed ``prob`` interval.

        Returns
        -------
        pandas.DataFrame
            ``time``, ``mu``, ``lower``, ``upper``.
        """
        import pandas as pd

        check_prob(prob)
        if times is None:
            if not self.trend:
                raise OptionError("times are required: this model has no mu_trend (mu is "
                                  "constant)")
            times = np.linspace(fit.data.summary["t_start"], fit.data.summary["t_end"], 100)
        mu = self.mu_draws(fit, times)
        return pd.DataFrame({"time": np.atleast_1d(np.asarray(times, dtype=float)),
                             "mu": mu.mean(0),
                             "lower": np.quantile(mu, (1 - prob) / 2, axis=0),
                             "upper": np.quantile(mu, (1 + prob) / 2, axis=0)})

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """``mu_trend="gp"``: ``mu_start`` and ``mu_end``, ``mu(t)`` at the first and the
        last event."""
        if not self.trend:
            return {}
        from ..btime import hsgp
        from ..btime.model import BOUNDARY

        v = data.values
        phi = hsgp.basis(np.array([-1.0, 1.0]), int(self.options["n_basis"]), BOUNDARY) \
            - np.asarray(v["phi_mean"])
        alpha = np.asarray(draws["mu_alpha"], dtype=float)[..., None]
        ell = np.asarray(draws["mu_ell"], dtype=float)[..., None]
        sd = hsgp.spectral_sd(alpha, ell, np.asarray(v["sqrt_lambda"], dtype=float))
        mu = np.asarray(draws["mu"], dtype=float)[..., None] \
            + (sd * np.asarray(draws["mu_z"], dtype=float)) @ phi.T
        return {"mu_start": mu[..., 0], "mu_end": mu[..., 1]}

    def log_survival(self, params: Mapping[str, Any], magnitudes: Any, m_t: float) -> np.ndarray:
        """``log P(M >= m)`` of the size law above ``m_t``, ``(n_draws, len(m))`` (NumPy)."""
        import torch

        names = L.LAW_PARAMETERS[self.law]
        p = {k: torch.as_tensor(np.array(params[k], dtype=float).reshape(-1, 1)) for k in names}
        mm = torch.as_tensor(np.maximum(np.asarray(magnitudes, dtype=float), m_t))
        with torch.no_grad():
            mt = torch.as_tensor(float(m_t), dtype=torch.float64)
            tail_t = L.log_tail(self.law, mt, {k: x[:, 0] for k, x in p.items()})
            out = L.log_tail(self.law, mm, p) - tail_t[:, None]
        return out.numpy()

    def detected_fraction(self, fit: Fit, params: Mapping[str, Any] | None = None) -> np.ndarray:
        """Share of the events above the threshold that are recorded, per draw (1 without
        detection): ``∫ f Φ / ∫ f`` over ``m >= m_t``."""
        import torch

        from ..backends.torch import to_tensors

        params = self._draws(fit) if params is None else params
        n = np.asarray(params[fit.parameters.names[0]]).size
        if not self.options["detection"]:
            return np.ones(n)
        t = to_tensors(dict(fit.data.values), torch.device("cpu"))
        p = {k: torch.as_tensor(np.array(params[k], dtype=float).reshape(
            (n, *fit.parameters[k].shape))) for k in fit.parameters.names}
        step = 100 if self.trend else n  # the trend's masses are (draws, groups, bins, nodes)
        with torch.no_grad():
            log_z = torch.cat([self._terms({k: x[i:i + step] for k, x in p.items()},
                                           {**t, "binned": 1})[1] for i in range(0, n, step)])
            tail_t = L.log_tail(self.law, torch.as_tensor(float(t["m_t"]), dtype=torch.float64),
                                {k: p[k] for k in L.LAW_PARAMETERS[self.law]})
        if self.trend:  # n / (sum_g n_g / fraction_g): the share of all true events recorded
            frac_g = torch.exp(log_z - tail_t[:, None])
            return (t["n_g"].sum() / (t["n_g"] / frac_g).sum(-1)).numpy()
        return np.exp((log_z - tail_t).numpy())

    def predict(
        self,
        fit: Fit,
        magnitudes: Any = None,
        n_events: float | None = None,
        prob: float = 0.9,
    ) -> pd.DataFrame:
        """Exceedance probabilities of the size law and expected numbers, with intervals.

        Parameters
        ----------
        fit : Fit
            A fit of this model (its draws, or the point estimate).
        magnitudes : array_like, optional
            Magnitudes; default the threshold (``mc`` or ``m_min``) to the largest + 1 by 0.5.
        n_events : float, optional
            Number of future events above the threshold ``m_t``.  Default: the number
            observed, divided by the detected fraction with ``detection=True`` (the
            estimated number of true events above ``m_t``).
        prob : float
            Mass of the equal-tailed intervals (default 0.9).

        Returns
        -------
        pandas.DataFrame
            ``magnitude``; ``p_exceed`` (``P(M >= m)`` of a true magnitude above the
            threshold, continuous law), ``expected`` (``n_events p``) and ``p_at_least_one``
            (``1 - (1 - p)^n``), each the mean over draws with ``_lower``/``_upper``.
        """
        import pandas as pd

        check_prob(prob)
        v = fit.data.values
        m_t = float(v["m_t"])
        if magnitudes is None:
            top = float(np.max(fit.data.observed["magnitude"])) + 1.0
            magnitudes = np.round(np.arange(m_t, top + 1e-9, 0.5), 10)
        mags = magnitude_array(magnitudes)
        params = self._draws(fit)
        p = np.exp(self.log_survival(params, mags, m_t))
        if n_events is None:
            n = float(v["n"]) / self.detected_fraction(fit, params)[:, None]
        else:
            n = _number("n_events", n_events, "a number >= 0", nonneg=True)
        expected = n * p
        with np.errstate(divide="ignore"):
            at_least_one = -np.expm1(n * np.log1p(-np.minimum(p, 1.0)))
        lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
        table: dict[str, Any] = {"magnitude": mags}
        for key, arr in (("p_exceed", p), ("expected", expected), ("p_at_least_one", at_least_one)):
            table[key] = arr.mean(axis=0)
            table[f"{key}_lower"] = np.quantile(arr, lo_q, axis=0)
            table[f"{key}_upper"] = np.quantile(arr, hi_q, axis=0)
        df = pd.DataFrame(table)
        df.attrs.update({"n_events": n_events, "prob": prob, "law": self.law,
                         "threshold": m_t, "n_draws": int(p.shape[0])})
        return df

    # ------------------------------------------------------------------ figures
    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """The magnitude–frequency distribution with the fitted law and its band; with
        ``mu_trend`` also ``mu(t)`` with its band over the magnitudes in time."""
        from ..plots.maglaw import laws_figure, mu_of_t_figure

        out = [("Magnitude–frequency distribution", laws_figure({self.law: fit}))]
        if self.trend:
            out.append(("Detection threshold in time", mu_of_t_figure(fit)))
        return out
