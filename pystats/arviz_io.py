"""Conversion of a :class:`~pystats.fit.Fit` to an arviz ``InferenceData``.

One converter serves every family and method.  The groups written are

* ``posterior``: parameters and derived quantities, ``(chain, draw, *shape)``, array
  parameters with dimensions ``<name>_dim_<i>``.  For ``mle``/``map`` fits these are draws
  from the asymptotic normal distribution of the estimator (built on the unconstrained
  scale), for ``laplace`` draws from the Laplace approximation; ``attrs["draws_kind"]``
  says which (``"posterior"``, ``"laplace"`` or ``"asymptotic_normal"``);
* ``sample_stats`` (``nuts`` only), with arviz's names (``lp``, ``diverging``, ...);
* ``log_likelihood``: the pointwise log likelihood, one value per observation and draw,
  for ``arviz.loo`` / ``arviz.waic``.  It is computed here, on demand, by the family's
  :meth:`~pystats.model.Model.pointwise_log_likelihood` hook from the parameter draws and
  is never stored with a fit (so saved fits of large catalogues stay small); each
  variable is named after the ``observed_data`` variable it belongs to and shares its
  dimension.  Families without the hook may instead write Stan's ``log_lik`` generated
  quantity into ``fit.draws``: such draws are used when the hook returns nothing, named
  after the observed variable when there is exactly one of matching shape.  The group
  is written for every fit with draws: for ``nuts`` they are posterior draws; for
  ``laplace`` draws of the Laplace approximation; for ``mle``/``map`` draws from the
  asymptotic normal distribution of the estimator, so that PSIS-LOO computed from them
  is only indicative (it treats that normal as a posterior under a flat prior; check its
  Pareto k values).  ``attrs["draws_kind"]`` of the group says which;
* ``observed_data``: ``fit.data.observed``;
* ``posterior_predictive``: when the family's ``posterior_predictive`` hook returns
  replicated data, drawn with a generator seeded from ``fit.metadata["seed"]`` so the
  conversion is reproducible;
* ``constant_data``: the numeric entries of ``fit.data.values`` that are not observed.

References
----------
Kumar, R., Carroll, C., Hartikainen, A. and Martin, O. (2019). ArviZ a unified library for
exploratory analysis of Bayesian models in Python. Journal of Open Source Software, 4(33),
1143. https://doi.org/10.21105/joss.01143
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import arviz as az

    from .fit import Fit

__all__ = [
    "draws_kind",
    "import_arviz",
    "pointwise_log_likelihood_draws",
    "posterior_predictive_draws",
    "to_inference_data",
]

_PPC_STREAM = 0x5059_5043  # "PYPC": spawn key separating the predictive stream from inference


def import_arviz() -> Any:
    """Import arviz without its import-time ``FutureWarning`` about the 1.0 refactor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


def draws_kind(fit: Fit) -> str:
    """What the draws of ``fit`` are: ``"posterior"``, ``"laplace"`` or ``"asymptotic_normal"``."""
    return {"nuts": "posterior", "laplace": "laplace"}.get(fit.method, "asymptotic_normal")


def predictive_rng(fit: Fit) -> np.random.Generator:
    """A generator for replicated data, fixed by the fit's seed (0 if none was recorded)."""
    seed = fit.metadata.get("seed")
    entropy = 0 if seed is None else int(seed)
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(_PPC_STREAM,)))


def parameter_draws(fit: Fit, max_draws: int | None = None) -> dict[str, np.ndarray]:
    """Draws of the parameters ``(chain, draw, *shape)``, optionally thinned per chain.

    With ``max_draws`` set, every chain keeps about ``max_draws / n_chains`` evenly spaced
    draws (at least one).
    """
    out = {}
    for name in fit.parameters.names:
        if name not in fit.draws:
            return {}
        arr = np.asarray(fit.draws[name])
        if max_draws is not None:
            n_chain, n_draw = arr.shape[:2]
            per_chain = max(1, max_draws // max(n_chain, 1))
            if per_chain < n_draw:
                idx = np.unique(np.linspace(0, n_draw - 1, per_chain).round().astype(int))
                arr = arr[:, idx]
        out[name] = arr
    return out


def posterior_predictive_draws(
    fit: Fit, max_draws: int | None = None
) -> dict[str, np.ndarray]:
    """Replicated data from the family's ``posterior_predictive`` hook (``{}`` if none).

    Parameters
    ----------
    fit : Fit
        A fit with draws.
    max_draws : int, optional
        Thin the draws to about this many in total first (the report uses a few hundred).

    Returns
    -------
    dict
        Name -> array ``(chain, draw, *shape)``; empty when the family defines no
        predictive distribution or the fit holds no draws.
    """
    draws = parameter_draws(fit, max_draws)
    if not draws:
        return {}
    pp = fit.model.posterior_predictive(draws, fit.data, predictive_rng(fit))
    return {k: np.asarray(v) for k, v in (pp or {}).items()}


def pointwise_log_likelihood_draws(
    fit: Fit, max_draws: int | None = None
) -> dict[str, np.ndarray]:
    """Pointwise log likelihood from the family's ``pointwise_log_likelihood`` hook.

    Parameters
    ----------
    fit : Fit
        A fit with draws.
    max_draws : int, optional
        Thin the draws to about this many in total first.

    Returns
    -------
    dict
        Observed-variable name -> array ``(chain, draw, n_observations)``; empty when
        the family defines no pointwise log likelihood or the fit holds no draws.

    Raises
    ------
    FitError
        If the hook returns an array whose leading axes are not the ``(chain, draw)``
        axes of the draws, or NaN values (a bug of the family, reported rather than
        passed on to ``arviz.loo``).
    """
    from .errors import FitError

    draws = parameter_draws(fit, max_draws)
    if not draws:
        return {}
    lead = next(iter(draws.values())).shape[:2]
    out = {}
    for name, value in (fit.model.pointwise_log_likelihood(draws, fit.data) or {}).items():
        arr = np.asarray(value, dtype=float)
        if arr.ndim != 3 or arr.shape[:2] != lead:
            raise FitError(
                f"{type(fit.model).__name__}.pointwise_log_likelihood returned {name!r} of "
                f"shape {arr.shape}; expected (chain, draw, n_observations) with "
                f"(chain, draw) = {lead}"
            )
        n_nan = int(np.isnan(arr).sum())
        if n_nan:
            raise FitError(
                f"{type(fit.model).__name__}.pointwise_log_likelihood returned {n_nan} NaN "
                f"value(s) in {name!r}; the pointwise log likelihood must be a number or "
                "-inf for every observation and draw"
            )
        out[str(name)] = arr
    return out


def _dims(name: str, value: np.ndarray, leading: tuple[str, ...]) -> list[str]:
    return [*leading, *(f"{name}_dim_{i}" for i in range(value.ndim - len(leading)))]


def _numeric(value: Any) -> bool:
    arr = np.asarray(value)
    return arr.dtype.kind in "biuf"


def to_inference_data(fit: Fit) -> az.InferenceData:
    """Convert ``fit`` to an arviz ``InferenceData``.

    Parameters
    ----------
    fit : Fit
        Any fit.  A fit without draws (an ``mle`` fit whose Hessian was not positive
        definite) gives an ``InferenceData`` without a ``posterior`` group.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior``, ``sample_stats`` (NUTS), ``log_likelihood`` (when the
        family defines a pointwise log likelihood; see the module docstring),
        ``observed_data``, ``posterior_predictive`` (when the family defines it) and
        ``constant_data``; ``attrs`` hold ``draws_kind``, ``method``, ``backend``,
        ``family`` and ``seed``.

    Raises
    ------
    FitError
        If the family's pointwise log likelihood has the wrong shape or NaN values.

    Examples
    --------
    PSIS-LOO of a NUTS fit (for ``mle``/``map`` fits only indicative)::

        import arviz as az
        loo = az.loo(fit.to_arviz())
    """
    from .summary import LOG_LIKELIHOOD_NAMES, derived_draws

    az = import_arviz()
    posterior: dict[str, np.ndarray] = {
        k: np.asarray(v) for k, v in fit.draws.items() if k not in LOG_LIKELIHOOD_NAMES
    }
    log_lik = pointwise_log_likelihood_draws(fit) if posterior else {}
    if not log_lik:  # Stan's ``log_lik`` generated quantity (families without the hook)
        log_lik = {
            k: np.asarray(v)
            for k, v in fit.draws.items()
            if k in LOG_LIKELIHOOD_NAMES and np.asarray(v).ndim > 2 and np.asarray(v).size
        }
    if posterior:
        for k, v in derived_draws(fit).items():
            posterior.setdefault(k, np.asarray(v))
    dims: dict[str, list[str]] = {
        k: _dims(k, v, ("chain", "draw"))[2:] for k, v in posterior.items()
    }

    sample_stats = None
    if fit.method == "nuts" and fit.sample_stats:
        sample_stats = {k: np.asarray(v) for k, v in fit.sample_stats.items()}
        if "diverging" in sample_stats:
            sample_stats["diverging"] = sample_stats["diverging"].astype(bool)

    observed = {k: np.asarray(v) for k, v in fit.data.observed.items()}
    for k, v in observed.items():
        dims[k] = _dims(k, v, ())
    if len(log_lik) == 1 and next(iter(log_lik)) in LOG_LIKELIHOOD_NAMES:
        # name Stan's log_lik after the one observed variable of its shape, as arviz expects
        value = next(iter(log_lik.values()))
        matches = [k for k, v in observed.items() if v.shape == value.shape[2:]]
        if len(matches) == 1:
            log_lik = {matches[0]: value}
    for k, v in log_lik.items():
        dims.setdefault(k, _dims(k, v, ("chain", "draw"))[2:])

    predictive = posterior_predictive_draws(fit) if posterior else {}
    for k, v in predictive.items():
        dims.setdefault(k, _dims(k, v, ("chain", "draw"))[2:])

    constant = {
        k: np.asarray(v)
        for k, v in fit.data.values.items()
        if k not in observed and k not in posterior and _numeric(v)
    }
    for k, v in constant.items():
        dims.setdefault(k, _dims(k, v, ()))

    attrs = {
        "draws_kind": draws_kind(fit),
        "method": fit.method,
        "backend": fit.backend,
        "family": str(getattr(type(fit.model), "family", type(fit.model).__name__)),
        "model": repr(fit.model),
    }
    for key in ("seed", "pystats_version", "engine", "engine_version", "data_hash"):
        if fit.metadata.get(key) is not None:
            attrs[key] = fit.metadata[key] if key == "seed" else str(fit.metadata[key])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        idata = az.from_dict(
            posterior=posterior or None,
            sample_stats=sample_stats,
            observed_data=observed or None,
            posterior_predictive=predictive or None,
            log_likelihood=log_lik or None,
            constant_data=constant or None,
            dims=dims,
            attrs=attrs,
            posterior_attrs={"draws_kind": attrs["draws_kind"]},
            log_likelihood_attrs={"draws_kind": attrs["draws_kind"]},
        )
    return idata

