"""Shared base class of the point-process families :class:`~pystats.etas.model.ETAS` and
:class:`~pystats.etas.model.OmoriUtsu`: options, priors (see :mod:`pystats.etas.model`),
parameter sets and helpers common to both.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _checks
from .._checks import magnitude_array
from .._checks import number as _number
from ..errors import DataError, OptionError
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from .productivity import ALPHA0, C0, P0

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit

LN10 = math.log(10.0)

_DEFAULT_PRIORS = {
    "c": (math.log(C0), 2.0),
    "alpha": (math.log(ALPHA0), 0.75),
    "p": (math.log(P0), 0.25),
}
_MU_PRIOR_SCALE = 2.0
_K_PRIOR_SCALE = 2.5

_DESCRIPTIONS = {
    "mu": "background rate (events per day with M >= mc)",
    "K": "productivity of an event of the reference magnitude (events day^(p-1))",
    "c": "Omori–Utsu time offset (days)",
    "alpha": "magnitude sensitivity of productivity (per magnitude unit)",
    "p": "Omori–Utsu decay exponent",
}


def _lognormal_pair(name: str, value: Any) -> tuple[float, float]:
    allowed = "(loc, scale) of a log-normal prior: numbers with scale > 0"
    if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
        raise OptionError(f"priors[{name!r}]={value!r} is not allowed; use {allowed}")
    return (
        _number(f"priors[{name!r}] loc", value[0], allowed),
        _number(f"priors[{name!r}] scale", value[1], allowed, positive=True),
    )


# ============================================================================ shared base
class _PointProcessModel(Model):
    """Shared option handling, priors and helpers of :class:`ETAS` and :class:`OmoriUtsu`."""

    has_torch_likelihood: ClassVar[bool] = True
    data_options: ClassVar[tuple[str, ...]] = ("t_start", "t_end")
    _names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any) -> None:
        # a deep copy: later changes to the caller's dicts do not reach the model
        super().__init__(**copy.deepcopy(options))

    # ------------------------------------------------------------------ options
    def _check_fixed(self, fixed: Any, allowed_names: tuple[str, ...]) -> dict[str, float]:
        if fixed is None:
            return {}
        if not isinstance(fixed, Mapping):
            raise OptionError(
                f"fixed={fixed!r} is not allowed; use a dict parameter name -> value, e.g. "
                "{'alpha': 1.2}"
            )
        out = {}
        for name, value in fixed.items():
            if name not in allowed_names:
                raise OptionError(
                    f"fixed has unknown parameter {name!r}; parameters that can be fixed are "
                    f"{', '.join(allowed_names)}"
                )
            strict = name in ("K", "c", "p")
            out[name] = _number(
                f"fixed[{name!r}]", value,
                "a finite number > 0" if strict else "a finite number >= 0",
                positive=strict, nonneg=not strict,
            )
        return out

    def _check_priors(self, priors: Any, free: tuple[str, ...]) -> dict[str, tuple[float, float]]:
        if priors is None:
            return {}
        if not isinstance(priors, Mapping):
            raise OptionError(
                f"priors={priors!r} is not allowed; use a dict parameter name -> (loc, scale) "
                "of a log-normal prior"
            )
        out = {}
        for name, value in priors.items():
            if name not in free:
                raise OptionError(
                    f"priors has {name!r}, which is not a free parameter of this model; free "
                    f"parameters are {', '.join(free)}"
                )
            out[name] = _lognormal_pair(name, value)
        return out

    @property
    def fixed(self) -> Mapping[str, float]:
        """Parameters held fixed (name -> value), read-only."""
        return self.options["fixed"]

    @property
    def free_parameters(self) -> tuple[str, ...]:
        """Names of the parameters to infer, in order."""
        return tuple(n for n in self._all_names() if n not in self.fixed)

    def _all_names(self) -> tuple[str, ...]:
        return self._names

    # ------------------------------------------------------------------ parameters
    def parameters(self, data: PreparedData) -> ParameterSet:
        """The free parameters, in the order of the contract with the Stan programs.

        ETAS: ``mu, K, c, alpha, p``; OmoriUtsu: ``mu`` (with a background), ``K, c, p``;
        fixed parameters are skipped.  All have lower bound 0.
        """
        return ParameterSet(
            [Parameter(n, lower=0.0, description=_DESCRIPTIONS[n]) for n in self.free_parameters]
        )

    def _full(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Free values merged with the fixed ones."""
        return {**dict(self.fixed), **{k: params[k] for k in self.free_parameters}}

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Sum of the log-normal log densities of the free parameters (module docstring)."""
        from ..gr.likelihood import lognormal_logpdf

        out = 0.0
        for name in self.free_parameters:
            out = out + lognormal_logpdf(
                params[name], tensors[f"{name}_prior_loc"], tensors[f"{name}_prior_scale"]
            )
        return out

    def _prior_entries(self, defaults: Mapping[str, tuple[float, float]]) -> dict[str, float]:
        given = self.options["priors"]
        out = {}
        for name in self.free_parameters:
            loc, scale = given.get(name, defaults[name])
            out[f"{name}_prior_loc"] = float(loc)
            out[f"{name}_prior_scale"] = float(scale)
        return out

    def _stan_parameter_entries(self, v: Mapping[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {k: float(x) for k, x in self.fixed.items()}
        for name in self.free_parameters:
            out[f"{name}_prior_loc"] = float(v[f"{name}_prior_loc"])
            out[f"{name}_prior_scale"] = float(v[f"{name}_prior_scale"])
        return out

    # ------------------------------------------------------------------ draws
    def _parameter_values(self, fit: Fit, max_draws: int | None = None,
                          rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
        """Full parameter values per draw ``(n,)``: draws of the free ones, fixed ones
        broadcast; the point estimate (one row) when the fit holds no draws."""
        names = fit.parameters.names
        if names and all(n in fit.draws for n in names):
            vals = {n: np.asarray(fit.variable(n), dtype=float).reshape(-1) for n in names}
            n = next(iter(vals.values())).size
            if max_draws is not None and n > max_draws:
                idx = (rng.choice(n, max_draws, replace=False) if rng is not None
                       else np.linspace(0, n - 1, max_draws).round().astype(int))
                vals = {k: a[idx] for k, a in vals.items()}
        else:
            vals = {n: np.atleast_1d(np.asarray(fit.estimate(n), dtype=float)) for n in names}
        size = next(iter(vals.values())).size if vals else 1
        for k, x in self.fixed.items():
            vals[k] = np.full(size, float(x))
        return vals

    def _point(self, fit: Fit) -> dict[str, float]:
        """Point estimate (posterior mean for sampled fits) with the fixed values."""
        out = {n: float(np.asarray(fit.estimate(n))) for n in fit.parameters.names}
        out.update({k: float(x) for k, x in self.fixed.items()})
        return out

    def _b_value(self, m: np.ndarray, mc: float) -> tuple[float, float, float]:
        from ..gr.distributions import infer_delta_m
        from ..gr.estimators import b_value

        o = self.options
        if o["delta_m"] is not None:
            delta_m = float(o["delta_m"])
        elif np.unique(m).size >= 2:
            delta_m = float(infer_delta_m(m))
        else:
            delta_m = 0.0
        if o["b"] is not None:
            return float(o["b"]), 0.0, delta_m
        try:
            res = b_value(m, mc, delta_m=delta_m)
        except DataError as e:
            raise DataError(
                f"the b-value of the target events could not be estimated ({e}); give it "
                f"with {type(self).__name__}(b=...)"
            ) from e
        return float(res.b), float(res.se), float(res.delta_m)

    def _b_draws(self, shape: tuple[int, ...], data: PreparedData) -> np.ndarray:
        v = data.values
        if not v["b_estimated"] or shape == () or v["b_se"] <= 0:
            return np.full(shape, float(v["b"]))
        rng = np.random.default_rng(int(data.hash[:12], 16))
        return np.clip(v["b"] + v["b_se"] * rng.standard_normal(shape), 1e-3, None)

    @staticmethod
    def _count(name: str, value: Any) -> int:
        return _checks.integer(name, value, 1)

    @staticmethod
    def _thresholds(magnitudes: Any, mc: float, fit: Fit) -> np.ndarray:
        if magnitudes is None:
            top = float(np.max(fit.data.observed["magnitude"]))
            return np.round(mc + np.arange(0.0, max(top - mc, 0.0) + 1e-9, 1.0), 10)
        mags = magnitude_array(magnitudes)
        if np.any(mags < mc - 1e-9):
            raise OptionError(
                f"magnitudes={mags.tolist()!r} is not allowed: the model only describes events "
                f"with M >= mc={mc:g}; use thresholds >= mc"
            )
        return mags

    @staticmethod
    def _count_table(mags: np.ndarray, counts: np.ndarray, prob: float) -> pd.DataFrame:
        import pandas as pd

        lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
        c = counts.astype(float)
        return pd.DataFrame({
            "magnitude": mags,
            "mean": c.mean(axis=0),
            "sd": c.std(axis=0, ddof=1) if c.shape[0] > 1 else np.full(mags.size, np.nan),
            "median": np.quantile(c, 0.5, axis=0, method="inverted_cdf"),
            "lower": np.quantile(c, lo_q, axis=0, method="inverted_cdf"),
            "upper": np.quantile(c, hi_q, axis=0, method="inverted_cdf"),
            "p_at_least_one": (counts >= 1).mean(axis=0),
        })

    def _check_fit(self, fit: Fit) -> None:
        if fit.model is not self and type(fit.model) is not type(self):
            raise OptionError(
                f"this fit is of a {type(fit.model).__name__} model, not {type(self).__name__}"
            )

