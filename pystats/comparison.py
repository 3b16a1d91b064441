"""``pystats.compare``: rank fits of competing models of the same observations.

Information criteria from each fit's largest log likelihood (AIC, BIC) and, for fits with
posterior draws (``laplace``, ``nuts``), PSIS-LOO (Vehtari, Gelman & Gabry 2017) from the
family's pointwise log likelihood via :func:`arviz.loo`.  Any family with a
``pointwise_log_likelihood`` hook can be compared; the fits must model the same
observations (checked).  An unreliable LOO (Pareto k above 0.7, or an effective number of
parameters ``p_loo`` well above the model's) is flagged in the table and by a
:class:`LooWarning`.

References
----------
Akaike, H. (1974). A new look at the statistical model identification. IEEE Transactions
on Automatic Control 19(6), 716-723. https://doi.org/10.1109/TAC.1974.1100705

Schwarz, G. (1978). Estimating the dimension of a model. Annals of Statistics 6(2),
461-464. https://doi.org/10.1214/aos/1176344136

Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
leave-one-out cross-validation and WAIC. Statistics and Computing 27(5), 1413-1432.
https://doi.org/10.1007/s11222-016-9696-4
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._warnings import warn
from .errors import DataError, OptionError, PystatsWarning

if TYPE_CHECKING:
    import pandas as pd

    from .fit import Fit

__all__ = ["LooWarning", "compare", "psis_loo"]

PARETO_K_MAX = 0.7
"""Largest reliable Pareto k of PSIS (Vehtari et al. 2024, for the usual draw counts)."""
P_LOO_RATIO_MAX = 1.5
"""``p_loo`` above this multiple of the number of parameters flags the LOO as unreliable."""


class LooWarning(PystatsWarning):
    """PSIS-LOO of a fit is unreliable: Pareto k above 0.7, or ``p_loo`` well above the
    number of parameters (draws far from the posterior, e.g. Laplace draws on a curved
    posterior, or a badly misspecified model).

    Examples
    --------
    >>> import pystats
    >>> issubclass(pystats.LooWarning, pystats.PystatsWarning)
    True
    """


def _label(fit: Fit) -> str:
    o = fit.model.options
    return str(o.get("law", o.get("kind", type(fit.model).__name__)))


def compare(fits: Mapping[str, Fit] | Sequence[Fit], loo: bool = True) -> pd.DataFrame:
    """Compare fits of several models to the same data by AIC, BIC and PSIS-LOO.

    Parameters
    ----------
    fits : mapping or sequence of Fit
        Label -> fit, or fits (labelled by their ``law`` / ``kind`` option).
    loo : bool
        Compute PSIS-LOO for fits with posterior draws (default True).

    Returns
    -------
    pandas.DataFrame
        One row per fit, sorted by ``elpd_loo`` when every fit has draws (a NaN elpd, from
        PSIS weights that overflow, or a ``laplace`` fit without draws because its Hessian
        is not positive definite, last), else by ``aic``:
        ``method``, ``n_params``, ``n_obs``, ``log_lik``, ``aic``, ``bic``, ``d_aic``,
        ``d_bic``, ``aic_weight`` (Akaike weights), and where available ``elpd_loo``,
        ``se_elpd_loo``, ``p_loo``, ``d_elpd_loo``, ``max_pareto_k`` and ``loo_warning``.
        ``log_lik`` is the log likelihood at the point estimate or, for fits with draws,
        the largest of that and the draws' (a posterior mean can lie well below the maximum
        on a curved posterior ridge): a lower bound on the maximum, close to it for
        ``mle``, ``map`` and for a few thousand draws of a few parameters.
        ``loo_warning`` is True where ``max_pareto_k`` exceeds 0.7 or ``p_loo`` exceeds 1.5
        times ``n_params``; a ``laplace`` fit so flagged should be refitted with
        ``method="nuts"`` before its LOO is trusted.

    Warns
    -----
    LooWarning
        Once, naming the fits whose LOO is flagged.

    Raises
    ------
    OptionError
        Fewer than two fits, duplicate labels, or objects that are not fits.
    DataError
        Fits of different observations.

    Examples
    --------
    >>> import pystats
    >>> from pystats.maglaw.laws import simulate
    >>> m = simulate(2000, "gr", 1.95, {"b": 1.0}, rng=2, delta_m=0.1)
    >>> fits = {law: pystats.MagnitudeLaw(law=law, mc=2.0).fit(m, seed=1)
    ...         for law in ("gr", "tapered_gr")}
    >>> pystats.compare(fits).index[0]
    'gr'
    """
    import pandas as pd

    from .fit import Fit

    if not isinstance(fits, Mapping):
        fits = list(fits)
        labels = [_label(f) if isinstance(f, Fit) else str(i) for i, f in enumerate(fits)]
        if len(set(labels)) < len(labels):
            labels = [f"{lab}_{i}" for i, lab in enumerate(labels)]
        fits = dict(zip(labels, fits, strict=True))
    if len(fits) < 2:
        raise OptionError(f"compare needs at least 2 fits, got {len(fits)}")
    for k, f in fits.items():
        if not isinstance(f, Fit):
            raise OptionError(f"fits[{k!r}] is a {type(f).__name__}, not a pystats Fit")
    ref_label, ref = next(iter(fits.items()))
    rows: dict[str, dict[str, Any]] = {}
    for label, fit in fits.items():
        point = {n: np.asarray(fit.estimate(n), dtype=float) for n in fit.parameters.names}
        pw = fit.model.pointwise_log_likelihood(point, fit.data)
        if not pw:
            raise OptionError(f"{type(fit.model).__name__} has no pointwise log likelihood")
        obs = {k: np.asarray(fit.data.observed[k]) for k in pw}
        ref_obs = {k: np.asarray(ref.data.observed.get(k, np.empty(0))) for k in pw}
        if any(obs[k].shape != ref_obs[k].shape or not np.array_equal(obs[k], ref_obs[k])
               for k in pw):
            raise DataError(f"fits {ref_label!r} and {label!r} model different observations; "
                            "compare fits of the same events (same data, threshold and cut)")
        ll = float(sum(np.sum(v) for v in pw.values()))
        n_obs = int(sum(np.size(v) for v in pw.values()))
        k = fit.parameters.dim
        row: dict[str, Any] = {"method": fit.method, "n_params": k, "n_obs": n_obs}
        if loo and fit.is_sampled:
            # a Laplace fit whose Hessian is not positive definite holds no draws: its LOO
            # failed, as one with overflowing weights, and is ranked last (not an error)
            loo_row, best = _psis_loo(fit) if fit.n_chains else (_FAILED_LOO, -math.inf)
            row.update(loo_row)
            row["loo_warning"] = bool(not loo_row["max_pareto_k"] <= PARETO_K_MAX
                                      or not loo_row["p_loo"] <= P_LOO_RATIO_MAX * k)
            ll = max(ll, best)
        elif fit.is_sampled and fit.n_chains:
            ll = max(ll, _best_total(_log_lik_draws(fit)))
        row.update(log_lik=ll, aic=2 * k - 2 * ll, bic=k * math.log(n_obs) - 2 * ll)
        rows[label] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    flagged = [str(lab) for lab, r in rows.items() if r.get("loo_warning")]
    if flagged:
        warn(f"PSIS-LOO is unreliable for {', '.join(flagged)} (Pareto k > {PARETO_K_MAX} or "
             f"p_loo > {P_LOO_RATIO_MAX:g} x n_params; column loo_warning): refit laplace "
             "fits with method='nuts', or check the model", LooWarning)
    df["d_aic"] = df["aic"] - df["aic"].min()
    df["d_bic"] = df["bic"] - df["bic"].min()
    w = np.exp(-0.5 * df["d_aic"].to_numpy())
    df["aic_weight"] = w / w.sum()
    if all("elpd_loo" in r for r in rows.values()) and df["elpd_loo"].notna().any():
        # a NaN elpd (PSIS weights that overflow: log likelihoods of -1e300 in some draws,
        # max_pareto_k inf) is ranked last with a NaN difference
        df["d_elpd_loo"] = df["elpd_loo"].max() - df["elpd_loo"]
        df = df.sort_values("elpd_loo", ascending=False, na_position="last")
    else:
        df = df.sort_values("aic")
    return df


_FAILED_LOO = {"elpd_loo": math.nan, "se_elpd_loo": math.nan, "p_loo": math.nan,
               "max_pareto_k": math.inf}
"""The LOO columns of a fit with draws whose LOO failed (ranked last by :func:`compare`)."""


def _log_lik_draws(fit: Fit) -> np.ndarray:
    """Pointwise log likelihood of every draw, ``(draws, observations)``."""
    from .arviz_io import pointwise_log_likelihood_draws

    pw = pointwise_log_likelihood_draws(fit)
    if not pw:
        raise OptionError(f"{type(fit.model).__name__} has no pointwise log likelihood")
    return np.concatenate([v.reshape(v.shape[0] * v.shape[1], -1) for v in pw.values()],
                          axis=1)


def _best_total(ll: np.ndarray) -> float:
    """The largest finite total log likelihood of the draws ``ll`` ``(draws, observations)``."""
    total = ll.sum(axis=1)
    return float(np.max(np.where(np.isfinite(total), total, -np.inf)))


def _unique_columns(ll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the distinct columns of ``ll`` ``(S, n)`` and the count of each."""
    cols = np.ascontiguousarray(ll.T)
    keys = cols.view(np.dtype((np.void, cols.dtype.itemsize * cols.shape[1]))).ravel()
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    return first, counts


def _relative_efficiency(fit: Fit, n_samples: int) -> float:
    """``reff`` of :func:`arviz.loo`: 1 for one chain, else the mean ESS of the posterior
    (parameters and derived quantities, as in :meth:`Fit.to_arviz`) over the draws."""
    import arviz as az

    from .summary import LOG_LIKELIHOOD_NAMES, derived_draws

    post = {k: np.asarray(v) for k, v in fit.draws.items() if k not in LOG_LIKELIHOOD_NAMES}
    if next(iter(post.values())).shape[0] == 1:
        return 1.0
    for k, v in derived_draws(fit).items():
        post.setdefault(k, np.asarray(v))
    ess = az.ess(az.from_dict(posterior=post).posterior, method="mean")
    return float(np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean() / n_samples)


def psis_loo(fit: Fit) -> dict[str, float]:
    """PSIS-LOO of a fit with draws, as :func:`arviz.loo` on ``fit.to_arviz()``.

    Observations with identical pointwise log likelihoods in every draw (events in the same
    magnitude bin, repeated covariate patterns) have identical Pareto-smoothed weights, so
    PSIS runs once per distinct column and the sums are weighted by the multiplicities
    (1 000 binned events in 16 bins: 16 PSIS fits instead of 1 000).  The result equals
    ``arviz.loo`` (tested).

    Returns
    -------
    dict
        ``elpd_loo``, ``se_elpd_loo`` (``sqrt(n var(elpd_i))``), ``p_loo`` and
        ``max_pareto_k``.
    """
    return _psis_loo(fit)[0]


def _psis_loo(fit: Fit) -> tuple[dict[str, float], float]:
    """:func:`psis_loo` and the largest total log likelihood of the draws."""
    import warnings

    import arviz as az
    from scipy.special import logsumexp

    ll = _log_lik_draws(fit)
    best = _best_total(ll)
    n_samples = ll.shape[0]
    first, counts = _unique_columns(ll)
    llu = ll[:, first].T  # (distinct observations, draws)
    reff = _relative_efficiency(fit, n_samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log_w, k = az.psislw(-llu, reff)
    elpd_i = logsumexp(log_w + llu, axis=-1)
    lppd_i = logsumexp(llu, axis=-1) - math.log(n_samples)
    n = float(counts.sum())
    elpd = float(np.sum(counts * elpd_i))
    var = float(np.sum(counts * (elpd_i - elpd / n) ** 2) / n)
    return {"elpd_loo": elpd, "se_elpd_loo": math.sqrt(n * var),
            "p_loo": float(np.sum(counts * lppd_i)) - elpd,
            "max_pareto_k": float(np.max(k))}, best
