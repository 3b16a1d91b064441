"""Time-varying b-value: a Hilbert-space GP prior on log b(t), or one change point.

``TimeVaryingB(kind="gp" | "changepoint", mc=..., delta_m=...)`` models the magnitudes at or
above ``mc`` with the Gutenberg–Richter law whose b-value depends on the event time: each
binned magnitude has the geometric log probability of :func:`pystats.gr.likelihood.gr_logp`
(exponential for continuous magnitudes) at ``b(t_i)``.

``kind="gp"``
    ``log b(t) = log b0 + f(t) - fbar``, ``f`` a squared-exponential GP (amplitude ``alpha``,
    length scale ``ell`` in units of the half time span) by the Hilbert-space basis
    approximation of :mod:`pystats.btime.hsgp` with ``n_basis`` functions on ``[-1.5, 1.5]``
    (time scaled to ``[-1, 1]``), non-centred weights ``z``; ``fbar`` is the mean of ``f``
    over the events (the basis is centred over them), so ``b0`` is the geometric mean of b
    over the events and does not trade off with the slow weights.  Priors: ``b0``
    lognormal(0, 0.5), ``alpha`` half-normal(0, 0.3), ``ell - ell_min`` lognormal(log 0.3,
    0.7) with ``ell_min = 1.75 * 1.5 / n_basis`` the shortest length scale the basis
    resolves (:func:`ell_minimum`), ``z`` standard normal.
    The likelihood is computed from sufficient statistics: events are grouped into
    ``n_time_bins`` equal bins of time (default 1000; ``None``: one group per event, the
    exact per-event likelihood), all events of a bin share b at the bin's mean event time,
    and a bin's GR log likelihood ``n_g A(b_g) - beta_g sum_g(m - mc)`` depends only on its
    count and sum of excesses (exact given ``b_g``).  The approximation is b constant within
    a bin: on 1e4 events at ``alpha = 0.3, ell = 0.5`` b varies by < 1e-3 within a bin and
    the log likelihood differs from the per-event one by < 0.05 (tested).
``kind="changepoint"``
    ``b(t) = b1`` before the change point and ``b2`` after it, the change point uniform over
    the gaps between consecutive events and **summed out** exactly (log-sum-exp over the
    ``n - 1`` positions), so the likelihood is smooth in ``b1, b2``.  Priors: lognormal(0, 0.5)
    on both.

Methods: ``map`` and ``laplace`` (torch likelihood), ``nuts`` (Stan programs
``stan/btime_gp.stan`` and ``stan/btime_changepoint.stan``, the same log density term for
term).  ``b_band(fit, times)`` gives b(t) with its band, ``p_decrease(fit, t1, t2)`` the
posterior probability that ``b(t2) < b(t1)``, ``fit.predict(...)`` b(t) and exceedance
probabilities at chosen times; the GP's summary has the derived ``b_start`` and ``b_end``
(b at the first and last event).  Command line: ``pystats fit --model btime``.

References
----------
Riutort-Mayol, G., Bürkner, P.-C., Andersen, M. R., Solin, A. and Vehtari, A. (2023).
Practical Hilbert space approximate Bayesian Gaussian processes for probabilistic
programming. Statistics and Computing 33, 17. https://doi.org/10.1007/s11222-022-10167-2

van der Elst, N. J. (2021). B-positive: a robust estimator of aftershock magnitude
distribution in transiently incomplete catalogs. JGR Solid Earth 126, e2020JB021027.
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
from ..constraints import Interval, Option, StrOptions
from ..errors import DataError, OptionError
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from . import hsgp
from .commands import SIMULATE_COMMANDS

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit

__all__ = ["TimeVaryingB"]

BOUNDARY = 1.5
LN10 = math.log(10.0)


def ell_minimum(n_basis: int) -> float:
    """Shortest GP length scale the basis resolves, ``1.75 L / n_basis`` (half time spans).

    Riutort-Mayol et al. (2023, eq. 14 with ``c = L = 1.5``): ``m`` functions reproduce the
    squared-exponential kernel for ``ell >= 1.75 c / m``.  Below it the basis cannot follow
    ``f`` and the amplitude and the length scale trade off freely (a funnel for NUTS), so
    the length scale is bounded below by it.
    """
    return 1.75 * BOUNDARY / int(n_basis)


class TimeVaryingB(Model):
    """b-value as a function of time: HSGP prior or a single (marginalised) change point.

    Parameters
    ----------
    kind : {"gp", "changepoint"}
        The prior on b(t) (module docstring).
    mc : float
        Completeness magnitude (lowest bin centre).
    delta_m : float, optional
        Bin width; ``None`` infers it, 0 means continuous.
    n_basis : int
        Basis functions of the GP approximation (default 20).
    n_time_bins : int or None
        GP: time bins of the likelihood's sufficient statistics (default 1000); ``None``
        gives one term per event.

    Examples
    --------
    >>> import numpy as np
    >>> from pystats.btime.model import TimeVaryingB
    >>> rng = np.random.default_rng(1)
    >>> t = np.sort(rng.uniform(0, 100, 2000))
    >>> m = np.round(1.95 + rng.exponential(1 / (np.where(t < 50, 1.2, 0.8) * np.log(10))), 1)
    >>> fit = TimeVaryingB(kind="changepoint", mc=2.0).fit(
    ...     {"time": t, "magnitude": np.floor((m - 1.95) / 0.1) * 0.1 + 2.0}, method="map")
    >>> round(float(fit.estimate("b1")), 1), round(float(fit.estimate("b2")), 1)
    (1.2, 0.8)
    """

    family: ClassVar[str] = "time_varying_b"
    methods: ClassVar[tuple[str, ...]] = ("map", "laplace", "nuts")
    has_torch_likelihood: ClassVar[bool] = True
    nuts_defaults: ClassVar[Mapping[str, Any]] = MappingProxyType({"adapt_delta": 0.95})
    """The GP's hyperparameters (amplitude, length scale) curve the posterior: 0.4 % of
    draws diverged at the default 0.8 (2000 events, step in b)."""
    options_spec: ClassVar[dict[str, Option]] = {
        "kind": Option("gp", [StrOptions(("gp", "changepoint"))]),
        "mc": Option(None, [Interval(Real)], allowed="a finite number"),
        "delta_m": Option(None, [None, Interval(Real, 0, None)],
                          allowed="None (infer), 0 (continuous) or a bin width > 0"),
        "n_basis": Option(20, [Interval(int, 4, 200)]),
        "n_time_bins": Option(1000, [None, Interval(int, 10, None)],
                              allowed="None (one term per event) or an integer >= 10"),
    }
    cli: ClassVar[CommandLine] = CommandLine(
        name="btime", title="Time-varying b",
        help="time-varying b-value (Hilbert-space GP or one change point)",
        fit=(
            Argument("--kind", choices=("gp", "changepoint"),
                     help="prior on b(t): gp (default) or changepoint"),
            Argument("--mc", type=float, help="completeness magnitude"),
            Argument("--delta-m", type=float, help="magnitude bin width (default: inferred)"),
            Argument("--n-basis", type=int, help="GP basis functions (default 20)"),
            Argument("--n-time-bins", type=int,
                     help="GP: time bins of the likelihood's sufficient statistics "
                     "(default 1000)"),
        ),
        predict=(
            Argument("--time", keyword="times", type=float, action="append",
                     help="time (days on the catalogue's axis) of b(t) and the exceedance "
                     "probabilities (repeatable; default: the last event)"),
            Argument("--n-events", type=float,
                     help="number of future events above the threshold"),
        ),
        simulate=SIMULATE_COMMANDS,
    )

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if options["mc"] is None:
            raise OptionError("mc is required: give the completeness magnitude (the centre "
                              "of the lowest magnitude bin fitted), e.g. mc=2.0")
        return options

    # ------------------------------------------------------------------ data
    def prepare(self, data: Any) -> PreparedData:
        """Times and magnitudes (``dict``/``DataFrame`` with ``time`` and ``magnitude``, or a
        Catalog) at or above ``mc``, sorted by time."""
        import pandas as pd

        from ..gr.distributions import infer_delta_m
        from ..gr.model import _read_input

        if isinstance(data, Mapping) and not isinstance(data, pd.DataFrame):
            data = pd.DataFrame({k: np.asarray(v) for k, v in data.items()})
        if isinstance(data, pd.DataFrame) and "time" in data.columns:
            data = data.sort_values("time", kind="stable")  # a sorted copy
        m, t, _ = _read_input(data)
        if t is None:
            raise DataError("TimeVaryingB needs event times: pass a Catalog or a frame with "
                            "'time' and 'magnitude' columns")
        dm = infer_delta_m(m, warn=False) if self.options["delta_m"] is None \
            else float(self.options["delta_m"])
        mc = float(self.options["mc"])
        keep = m >= mc - dm / 2 + 1e-9 if dm > 0 else m >= mc
        order = np.argsort(t[keep], kind="stable")
        t, m = t[keep][order], m[keep][order]
        if m.size < 20:
            raise DataError(f"only {m.size} events at or above mc={mc:g}; at least 20 needed")
        x = np.round((m - mc) / dm) * dm if dm > 0 else m - mc
        t0, t1 = float(t[0]), float(t[-1])
        centre, half = (t0 + t1) / 2, max((t1 - t0) / 2, 1e-12)
        values: dict[str, Any] = {"x": x, "width": dm, "n": int(m.size), "time": t,
                                  "centre": centre, "half": half}
        if self.options["kind"] == "gp":
            k = int(self.options["n_basis"])
            # equal-width bins of the scaled time (None: one group per event, the exact
            # per-event likelihood); the basis centred over the events: f averages to 0
            # over them, so b0 is the geometric mean of b over the events and does not
            # trade off with the slow basis weights
            tg = hsgp.time_groups(t, self.options["n_time_bins"], k, BOUNDARY)
            values.update(phi=tg.phi, phi_mean=tg.phi_mean,
                          sqrt_lambda=hsgp.sqrt_eigenvalues(k, BOUNDARY), count=tg.count,
                          sum_x=np.bincount(tg.group, weights=x), group=tg.group,
                          ell_min=ell_minimum(k))
        summary = {"n": int(m.size), "mc": mc, "delta_m": dm, "t_start": t0, "t_end": t1}
        return PreparedData(values=values, observed={"magnitude": m, "time": t}, summary=summary)

    def parameters(self, data: PreparedData) -> ParameterSet:
        """``b0, alpha, ell, z[n_basis]`` (gp) or ``b1, b2`` (changepoint)."""
        if self.options["kind"] == "changepoint":
            return ParameterSet([Parameter("b1", lower=0.0, description="b before the change"),
                                 Parameter("b2", lower=0.0, description="b after the change")])
        k = int(self.options["n_basis"])
        return ParameterSet([
            Parameter("b0", lower=0.0,
                      description="geometric mean of b over the events"),
            Parameter("alpha", lower=0.0, description="GP amplitude of log b"),
            Parameter("ell", lower=float(data.values["ell_min"]),
                      description="GP length scale (half time spans)"),
            Parameter("z", shape=(k,), description="HSGP basis weights"),
        ])

    # ------------------------------------------------------------------ likelihood
    def _pointwise(self, params: Mapping[str, Any], t: Mapping[str, Any]) -> Any:
        from ..gr.likelihood import gr_logp

        x, w = t["x"], float(t["width"])
        if self.options["kind"] == "changepoint":
            lp1 = gr_logp(params["b1"][..., None], x, w)
            lp2 = gr_logp(params["b2"][..., None], x, w)
            return lp1, lp2
        # per time bin g: n_g events sharing b_g, so sum_i (A - beta x_i) = n_g (A - beta xbar_g)
        count = t["count"]
        return count * gr_logp(self._b_of_events(params, t), t["sum_x"] / count, w)

    def _b_of_events(self, params: Mapping[str, Any], t: Mapping[str, Any]) -> Any:
        """b at the scaled times whose basis is ``t["phi"]`` (the time bins in fitting)."""
        sd = hsgp.spectral_sd(params["alpha"][..., None], params["ell"][..., None],
                              t["sqrt_lambda"])
        f = ((sd * params["z"]) [..., None, :] * t["phi"]).sum(-1)
        return params["b0"][..., None] * f.exp()

    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Sum of the GR log probabilities at ``b(t_i)``; change point summed out."""
        import torch

        if self.options["kind"] == "changepoint":
            lp1, lp2 = self._pointwise(params, tensors)
            c1 = torch.cumsum(lp1, -1)[..., :-1]  # events 1..k before the change, k=1..n-1
            c2 = lp2.sum(-1, keepdim=True) - torch.cumsum(lp2, -1)[..., :-1]
            n = lp1.shape[-1]
            return torch.logsumexp(c1 + c2, -1) - math.log(n - 1)
        return self._pointwise(params, tensors).sum(-1)

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """The priors of the module docstring."""
        from ..gr.likelihood import lognormal_logpdf, normal_logpdf

        if self.options["kind"] == "changepoint":
            return lognormal_logpdf(params["b1"], 0.0, 0.5) + lognormal_logpdf(params["b2"], 0.0,
                                                                               0.5)
        return (lognormal_logpdf(params["b0"], 0.0, 0.5) + normal_logpdf(params["alpha"], 0.0, 0.3)
                + math.log(2.0)
                + lognormal_logpdf(params["ell"] - float(tensors["ell_min"]), math.log(0.3), 0.7)
                + normal_logpdf(params["z"], 0.0, 1.0).sum(-1))

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """b from the Tinti–Mulargia formula; small GP weights."""
        v = data.values
        xbar = float(np.mean(v["x"]))
        w = float(v["width"])
        beta = math.log1p(w / xbar) / w if w > 0 else 1.0 / xbar
        b = beta / LN10 * math.exp(0.05 * rng.standard_normal())
        if self.options["kind"] == "changepoint":
            return {"b1": b, "b2": b * math.exp(0.05 * rng.standard_normal())}
        k = int(self.options["n_basis"])
        return {"b0": b, "alpha": 0.1, "ell": max(0.3, 1.2 * float(v["ell_min"])),
                "z": 0.1 * rng.standard_normal(k)}

    # ------------------------------------------------------------------ outputs
    def _change_positions(self, p: Mapping[str, Any], t: Mapping[str, Any],
                          mode: bool = False) -> np.ndarray:
        """Change positions ``k`` (events ``0..k`` before the change, 0-based) of the draws
        ``p["b1"], p["b2"]`` (1-d tensors), each drawn from its conditional posterior given
        ``b1, b2`` (the softmax of the per-position log likelihoods) with a fixed seed, so
        that :meth:`b_draws` and :meth:`pointwise_log_likelihood` use the same positions;
        ``mode=True``: the most probable position instead."""
        import torch

        lp1, lp2 = self._pointwise(p, t)
        c1 = torch.cumsum(lp1, -1)[..., :-1]
        c2 = lp2.sum(-1, keepdim=True) - torch.cumsum(lp2, -1)[..., :-1]
        if mode:
            return torch.argmax(c1 + c2, -1).numpy()
        prob = torch.softmax(c1 + c2, -1).numpy()
        u = np.random.default_rng(0).uniform(size=(prob.shape[0], 1))
        return np.minimum((np.cumsum(prob, -1) < u).sum(-1), prob.shape[-1] - 1)

    def b_draws(self, fit: Fit, times: Any) -> np.ndarray:
        """Draws of ``b(t)`` at ``times`` (catalogue time unit): ``(n_draws, len(times))``.

        Change point: each draw's change position is drawn from its conditional posterior
        given ``b1, b2`` (the softmax of the per-position log likelihoods).
        """
        import torch

        from ..backends.torch import to_tensors

        v = fit.data.values
        times = np.asarray(times, dtype=float)
        names = fit.parameters.names
        try:
            d = {n: np.array(fit.variable(n), dtype=float) for n in names}
        except KeyError:  # no draws: the point estimate
            d = {n: np.array(fit.estimate(n), dtype=float)[None] for n in names}
        tt = to_tensors(dict(v), torch.device("cpu"))
        with torch.no_grad():
            p = {k: torch.as_tensor(a) for k, a in d.items()}
            if self.options["kind"] == "changepoint":
                k = self._change_positions(p, tt)  # change after event k (0-based)
                tv = np.asarray(v["time"])
                tau = (tv[k] + tv[np.minimum(k + 1, tv.size - 1)]) / 2
                return np.where(times[None, :] < tau[:, None], d["b1"][:, None], d["b2"][:, None])
            s = (times - float(v["centre"])) / float(v["half"])
            phi = torch.as_tensor(hsgp.basis(s, int(self.options["n_basis"]), BOUNDARY)
                                  - np.asarray(v["phi_mean"]))
            return self._b_of_events(p, {"sqrt_lambda": tt["sqrt_lambda"], "phi": phi}).numpy()

    def b_band(self, fit: Fit, times: Any = None, prob: float = 0.9) -> pd.DataFrame:
        """b(t) at ``times`` (default 100 points over the catalogue): mean and band."""
        import pandas as pd

        v = fit.data.values
        if times is None:
            times = np.linspace(v["time"][0], v["time"][-1], 100)
        b = self.b_draws(fit, times)
        return pd.DataFrame({"time": np.asarray(times, dtype=float), "b": b.mean(0),
                             "lower": np.quantile(b, (1 - prob) / 2, axis=0),
                             "upper": np.quantile(b, (1 + prob) / 2, axis=0)})

    def p_decrease(self, fit: Fit, t1: float, t2: float) -> float:
        """Posterior probability that ``b(t2) < b(t1)``."""
        b = self.b_draws(fit, [t1, t2])
        return float(np.mean(b[:, 1] < b[:, 0]))

    # ------------------------------------------------------------------ Stan
    def stan_program(self) -> str:
        """``btime_gp.stan`` or ``btime_changepoint.stan``."""
        return f"btime_{self.options['kind']}.stan"

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """Change point: the excesses (time order) and the bin width.  GP: per time bin the
        count and the sum of the excesses, and the basis at the bin's mean event time."""
        v = data.values
        if self.options["kind"] == "changepoint":
            return {"N": int(v["n"]), "x": np.asarray(v["x"], dtype=float).tolist(),
                    "width": float(v["width"])}
        phi = np.asarray(v["phi"], dtype=float)
        return {"G": int(phi.shape[0]), "count": np.asarray(v["count"], dtype=float).tolist(),
                "sum_x": np.asarray(v["sum_x"], dtype=float).tolist(),
                "width": float(v["width"]), "M": int(phi.shape[1]), "phi": phi.tolist(),
                "sqrt_lambda": np.asarray(v["sqrt_lambda"], dtype=float).tolist(),
                "ell_min": float(v["ell_min"])}

    # ------------------------------------------------------------------ derived
    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """GP: ``b_start`` and ``b_end``, b(t) at the first and the last event."""
        if self.options["kind"] != "gp":
            return {}
        v = data.values
        k = int(self.options["n_basis"])
        phi = hsgp.basis(np.array([-1.0, 1.0]), k, BOUNDARY) - np.asarray(v["phi_mean"])
        alpha = np.asarray(draws["alpha"], dtype=float)[..., None]
        ell = np.asarray(draws["ell"], dtype=float)[..., None]
        sd = hsgp.spectral_sd(alpha, ell, np.asarray(v["sqrt_lambda"], dtype=float))
        f = (sd * np.asarray(draws["z"], dtype=float)) @ phi.T
        b = np.asarray(draws["b0"], dtype=float)[..., None] * np.exp(f)
        return {"b_start": b[..., 0], "b_end": b[..., 1]}

    def pointwise_log_likelihood(
        self, draws: Mapping[str, np.ndarray], data: PreparedData
    ) -> dict[str, np.ndarray]:
        """The GR log probability of each event (for PSIS-LOO and ``pystats.compare``).

        GP: at the b of the event's time bin (the likelihood fitted, so the terms sum to it).
        Change point: the position is summed out of the likelihood, which therefore does
        not factor over events; the terms here are **conditional on a position per draw**,
        drawn from its conditional posterior given the draw's ``b1, b2`` (the same positions
        as :meth:`b_draws`), and sum to the log likelihood at that position.  PSIS-LOO then
        estimates the predictive density of each left-out event given the others and the
        change position: the position is treated as one more parameter of the draw (its
        posterior is conditioned on the event left out as well).  At a point estimate (no
        draws) the most probable position is used.
        """
        import torch

        from ..backends.torch import to_tensors
        from ..gr.likelihood import gr_logp

        v = data.values
        k = int(self.options["n_basis"])
        names = ("b1", "b2") if self.options["kind"] == "changepoint" \
            else ("b0", "alpha", "ell", "z")
        lead = np.shape(draws[names[0]])
        flat = {name: torch.as_tensor(np.array(draws[name], dtype=float).reshape(
            (-1,) + ((k,) if name == "z" else ()))) for name in names}
        t = to_tensors(dict(v), torch.device("cpu"))
        with torch.no_grad():
            if self.options["kind"] == "changepoint":
                lp1, lp2 = self._pointwise(flat, t)
                pos = self._change_positions(flat, t, mode=len(lead) == 0)
                before = np.arange(int(v["n"]))[None, :] <= pos[:, None]
                lp = np.where(before, lp1.numpy(), lp2.numpy())
            else:
                out = []
                for start in range(0, flat["b0"].shape[0], 200):
                    chunk = {name: x[start:start + 200] for name, x in flat.items()}
                    b = self._b_of_events(chunk, t)[..., t["group"]]
                    out.append(gr_logp(b, t["x"], float(v["width"])).numpy())
                lp = np.concatenate(out, axis=0)
        return {"magnitude": lp.reshape(*lead, int(v["n"]))}

    # ------------------------------------------------------------------ predictions
    def predict(self, fit: Fit, magnitudes: Any = None, times: Any = None,
                n_events: float | None = None, prob: float = 0.9) -> pd.DataFrame:
        """b(t) and exceedance probabilities of magnitudes at chosen times, with intervals.

        Parameters
        ----------
        fit : Fit
            A fit of this model (its draws; the point estimate without draws).
        magnitudes : array_like, optional
            Magnitudes ``m``; default ``mc``, ``mc + 0.5``, ... up to the largest + 1.
        times : array_like, optional
            Times on the catalogue's axis (days); default the last event (the current b).
        n_events : float, optional
            Number of future events at or above ``mc`` at that time (default: the number
            fitted): expected number ``n_events * P(M >= m)``.
        prob : float
            Mass of the equal-tailed intervals (default 0.9).

        Returns
        -------
        pandas.DataFrame
            One row per time and magnitude (times outer): ``time``, ``magnitude``; ``b``
            (b(t)), ``p_exceed`` (``P(M >= m)`` of an event at or above ``mc`` at that time:
            ``10^(-b(t)(m - mc))``, on the grid for binned data), ``expected`` and
            ``p_at_least_one`` (``1 - (1 - p)^n_events``), each the mean over draws with
            ``_lower``/``_upper`` quantiles.

        Raises
        ------
        OptionError
            Bad ``magnitudes``, ``times``, ``n_events`` or ``prob``.
        """
        import pandas as pd

        check_prob(prob)
        v = fit.data.values
        mc = float(fit.data.summary["mc"])
        if magnitudes is None:
            top = float(np.max(fit.data.observed["magnitude"])) + 1.0
            magnitudes = np.round(np.arange(mc, top + 1e-9, 0.5), 10)
        mags = magnitude_array(magnitudes)
        if times is None:
            times = [float(v["time"][-1])]
        ts = np.atleast_1d(np.array(times, dtype=object))
        ts = np.array([_number("times", t, "finite numbers (days on the catalogue's axis)")
                       for t in ts], dtype=float)
        n = (float(v["n"]) if n_events is None
             else _number("n_events", n_events, "a number >= 0", nonneg=True))
        b = self.b_draws(fit, ts)  # (draws, times)
        x = np.maximum(mags - mc, 0.0)
        p = np.exp(-LN10 * b[:, :, None] * x[None, None, :])  # (draws, times, magnitudes)
        with np.errstate(divide="ignore"):
            at_least_one = -np.expm1(n * np.log1p(-np.minimum(p, 1.0)))
        lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
        table: dict[str, Any] = {"time": np.repeat(ts, mags.size),
                                 "magnitude": np.tile(mags, ts.size)}
        arrays = (("b", np.repeat(b, mags.size, axis=1)), ("p_exceed", p),
                  ("expected", n * p), ("p_at_least_one", at_least_one))
        for key, arr in arrays:
            arr = arr.reshape(arr.shape[0], -1)
            table[key] = arr.mean(axis=0)
            table[f"{key}_lower"] = np.quantile(arr, lo_q, axis=0)
            table[f"{key}_upper"] = np.quantile(arr, hi_q, axis=0)
        df = pd.DataFrame(table)
        df.attrs.update({"n_events": n, "prob": prob, "kind": self.options["kind"],
                         "n_draws": int(b.shape[0])})
        return df

    # ------------------------------------------------------------------ figures
    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """b(t) with its band, the b-positive windows and the magnitudes in time."""
        from ..plots.btime import b_of_t_figure

        return [("b-value in time", b_of_t_figure(fit))]
