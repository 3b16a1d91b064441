"""Time-varying b-value: a Hilbert-space GP prior on log b(t), or one change point.

``TimeVaryingB(kind="gp" | "changepoint", mc=..., delta_m=...)`` models the magnitudes at or
above ``mc`` with the Gutenberg–Richter law whose b-value depends on the event time: each
binned magnitude has the geometric log probability of :func:`pystats.gr.likelihood.gr_logp`
(exponential for continuous magnitudes) at ``b(t_i)``.

``kind="gp"``
    ``log b(t) = log b0 + f(t)``, ``f`` a squared-exponential GP (amplitude ``alpha``, length
    scale ``ell`` in units of the half time span) by the Hilbert-space basis approximation of
    :mod:`pystats.btime.hsgp` with ``n_basis`` functions on ``[-1.5, 1.5]`` (time scaled to
    ``[-1, 1]``).  Priors: ``b0`` lognormal(0, 0.5), ``alpha`` half-normal(0, 0.3) (as
    lognormal-free: a normal on the positive half line), ``ell`` lognormal(log 0.3, 0.7),
    ``z`` standard normal.
``kind="changepoint"``
    ``b(t) = b1`` before the change point and ``b2`` after it, the change point uniform over
    the gaps between consecutive events and **summed out** exactly (log-sum-exp over the
    ``n - 1`` positions), so the likelihood is smooth in ``b1, b2``.  Priors: lognormal(0, 0.5)
    on both.

Methods: ``map`` and ``laplace`` (torch).  NUTS needs a Stan program, which is not written
yet (``models/magnitude_laws.md`` §8 lists what is missing).  ``b_band(fit, times)`` gives
b(t) with its band and ``p_decrease(fit, t1, t2)`` the posterior probability that
``b(t2) < b(t1)``.

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
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..constraints import Interval, Option, StrOptions
from ..errors import DataError
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from . import hsgp

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit

__all__ = ["TimeVaryingB"]

BOUNDARY = 1.5
LN10 = math.log(10.0)


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
    methods: ClassVar[tuple[str, ...]] = ("map", "laplace")
    has_torch_likelihood: ClassVar[bool] = True
    options_spec: ClassVar[dict[str, Option]] = {
        "kind": Option("gp", [StrOptions(("gp", "changepoint"))]),
        "mc": Option(None, [Interval(Real)], allowed="a finite number"),
        "delta_m": Option(None, [None, Interval(Real, 0, None)],
                          allowed="None (infer), 0 (continuous) or a bin width > 0"),
        "n_basis": Option(20, [Interval(int, 4, 200)]),
    }

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
        s = (t - centre) / half
        values: dict[str, Any] = {"x": x, "width": dm, "n": int(m.size), "time": t,
                                  "centre": centre, "half": half}
        if self.options["kind"] == "gp":
            k = int(self.options["n_basis"])
            values.update(phi=hsgp.basis(s, k, BOUNDARY),
                          sqrt_lambda=hsgp.sqrt_eigenvalues(k, BOUNDARY))
        summary = {"n": int(m.size), "mc": mc, "delta_m": dm, "t_start": t0, "t_end": t1}
        return PreparedData(values=values, observed={"magnitude": m, "time": t}, summary=summary)

    def parameters(self, data: PreparedData) -> ParameterSet:
        """``b0, alpha, ell, z[n_basis]`` (gp) or ``b1, b2`` (changepoint)."""
        if self.options["kind"] == "changepoint":
            return ParameterSet([Parameter("b1", lower=0.0, description="b before the change"),
                                 Parameter("b2", lower=0.0, description="b after the change")])
        k = int(self.options["n_basis"])
        return ParameterSet([
            Parameter("b0", lower=0.0, description="b at f = 0"),
            Parameter("alpha", lower=0.0, description="GP amplitude of log b"),
            Parameter("ell", lower=0.0, description="GP length scale (half time spans)"),
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
        return gr_logp(self._b_of_events(params, t), x, w)

    def _b_of_events(self, params: Mapping[str, Any], t: Mapping[str, Any]) -> Any:
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
                + math.log(2.0) + lognormal_logpdf(params["ell"], math.log(0.3), 0.7)
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
        return {"b0": b, "alpha": 0.1, "ell": 0.3, "z": 0.1 * rng.standard_normal(k)}

    # ------------------------------------------------------------------ outputs
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
        d = {n: np.array(fit.variable(n), dtype=float) for n in names}
        tt = to_tensors(dict(v), torch.device("cpu"))
        with torch.no_grad():
            p = {k: torch.as_tensor(a) for k, a in d.items()}
            if self.options["kind"] == "changepoint":
                lp1, lp2 = self._pointwise(p, tt)
                c1 = torch.cumsum(lp1, -1)[..., :-1]
                c2 = lp2.sum(-1, keepdim=True) - torch.cumsum(lp2, -1)[..., :-1]
                prob = torch.softmax(c1 + c2, -1).numpy()
                rng = np.random.default_rng(0)
                u = rng.uniform(size=(prob.shape[0], 1))
                k = (np.cumsum(prob, -1) < u).sum(-1)  # change after event k (0-based)
                tv = np.asarray(v["time"])
                tau = (tv[k] + tv[np.minimum(k + 1, tv.size - 1)]) / 2
                return np.where(times[None, :] < tau[:, None], d["b1"][:, None], d["b2"][:, None])
            s = (times - float(v["centre"])) / float(v["half"])
            phi = torch.as_tensor(hsgp.basis(s, int(self.options["n_basis"]), BOUNDARY))
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
