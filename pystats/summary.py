"""Parameter tables of a :class:`~pystats.fit.Fit` as a DataFrame, plain text and HTML.

Rows are scalar elements (``b``, ``mu[0]``, ``mu[1]``, ...), parameters first, then
derived quantities; a ``kind`` column says which.  The columns depend on the method:

``mle``, ``map``
    ``estimate, se, lower, upper``.  ``se`` is the delta-method standard error from
    ``fit.cov``; ``[lower, upper]`` is the Wald interval built on the unconstrained scale
    (``u_hat +- z * sd(u)`` from ``fit.cov_unconstrained``) and mapped back through the
    parameter's transform, so it respects the bounds (positive parameters get positive
    bounds) and is not symmetric around the estimate.  Derived quantities are evaluated at
    the estimate; their ``se`` is the delta-method standard error (numerical Jacobian of the
    family's ``derived`` hook at the estimate, on the unconstrained scale of
    ``fit.cov_unconstrained``, plus the independent plug-in estimates the family lists in
    :meth:`~pystats.model.Model.derived_inputs`), and their interval is the equal-tailed
    interval of the asymptotic-normal draws in ``fit.draws``; without draws, or where some
    draws leave the derived function's domain (NaN quantiles), it is the delta-method
    (Wald) interval ``estimate -+ z se``.
``laplace``
    ``mean, sd, hdi_lower, hdi_upper`` of the Laplace-approximation draws.
``nuts``
    as ``laplace`` plus ``mcse_mean, ess_bulk, ess_tail, r_hat`` (rank-normalised split
    R-hat and ESS of Vehtari et al. 2021, computed by arviz).  R-hat needs at least two
    chains: with one chain it is NaN (``diagnose`` says why).

:func:`summary_table` returns a plain DataFrame; :func:`summary_text` and
:func:`summary_html` render it on demand (``Fit`` caches the table and the diagnostics).

Derived quantities may be infinite (the ETAS branching ratio for ``alpha >= b ln 10``):
their statistics raise no RuntimeWarning, a mean or quantile in an infinite tail is ``inf``,
the ``se``/``sd`` is ``inf`` when only some draws are infinite and NaN when all are.

References
----------
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021).
Rank-normalization, folding, and localization: an improved R-hat for assessing convergence
of MCMC. Bayesian Analysis, 16(2), 667-718. https://doi.org/10.1214/20-BA1221

Seabold, S. and Perktold, J. (2010). statsmodels: Econometric and statistical modeling with
Python. Proceedings of the 9th Python in Science Conference, 92-96.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ._checks import check_prob as _check_prob
from .arviz_io import draws_kind, import_arviz
from .errors import OptionError

if TYPE_CHECKING:
    from .fit import Fit

__all__ = [
    "LOG_LIKELIHOOD_NAMES",
    "delta_method_se",
    "derived_draws",
    "draws_items",
    "element_names",
    "format_value",
    "n_data_text",
    "relabel",
    "rhat_text",
    "summary_html",
    "summary_table",
    "summary_text",
    "table_html",
]

LOG_LIKELIHOOD_NAMES = frozenset({"log_lik", "log_likelihood"})
"""Draws of these names hold pointwise log-likelihoods (Stan's ``log_lik`` convention):
they go to arviz's ``log_likelihood`` group and are not derived quantities."""

OPTIMIZATION_COLUMNS = ("estimate", "se", "lower", "upper")
SAMPLING_COLUMNS = ("mean", "sd", "hdi_lower", "hdi_upper")
MCMC_COLUMNS = ("mcse_mean", "ess_bulk", "ess_tail", "r_hat")


# ---------------------------------------------------------------------- helpers
def element_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """Names of the scalar elements of ``name`` with ``shape`` (C order), as in ``Parameter``."""
    if shape == ():
        return [name]
    return [f"{name}[{','.join(str(i) for i in idx)}]" for idx in np.ndindex(*shape)]


def derived_draws(fit: Fit) -> dict[str, np.ndarray]:
    """Draws ``(chain, draw, *shape)`` of the derived quantities of ``fit``.

    By the :class:`~pystats.fit.Fit` contract every entry of ``fit.draws`` that is not a
    parameter is a derived quantity, except pointwise log-likelihoods
    (:data:`LOG_LIKELIHOOD_NAMES`).  Quantities the family's ``derived`` hook defines but
    that ``fit.draws`` lacks are computed from the parameter draws.

    Returns
    -------
    dict
        In the order of ``fit.draws``, then the hook's order; empty without draws.
    """
    names = fit.parameters.names
    if not fit.draws or any(n not in fit.draws for n in names):
        return {}
    out = {
        k: np.asarray(v)
        for k, v in fit.draws.items()
        if k not in names and k not in LOG_LIKELIHOOD_NAMES
    }
    probe = fit.model.derived({n: np.asarray(fit.draws[n])[:1, :1] for n in names}, fit.data)
    missing = [k for k in probe if k not in out and k not in names]
    if missing:
        computed = fit.model.derived({n: np.asarray(fit.draws[n]) for n in names}, fit.data)
        for k in missing:
            out[k] = np.asarray(computed[k])
    return out


def _stack(draws: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Flatten named draws ``(chain, draw, *shape)`` to element names and ``(chain, draw, K)``."""
    labels: list[str] = []
    pieces = []
    for name, arr in draws.items():
        arr = np.asarray(arr, dtype=float)
        labels += element_names(name, arr.shape[2:])
        pieces.append(arr.reshape(arr.shape[0], arr.shape[1], -1))
    if not pieces:
        return [], np.zeros((0, 0, 0))
    return labels, np.concatenate(pieces, axis=-1)


def _flat_value(value: Any) -> np.ndarray:
    return np.ravel(np.asarray(value, dtype=float))


# Derived quantities may be infinite (the ETAS branching ratio is +inf for alpha >= b ln 10):
# their statistics are computed without RuntimeWarnings, and an infinite value stays
# infinite where the statistic has a value (a mean, a quantile, the spread of draws only
# some of which are infinite), NaN where it has none (the sd of draws that are all +inf).
def _sd(flat: np.ndarray) -> np.ndarray:
    """Sample standard deviation (``ddof=1``) of each column of ``flat`` ``(n, k)``.

    ``inf`` for a column with infinite draws that are not all equal, NaN for fewer than two
    draws or with NaN draws.
    """
    if flat.shape[0] < 2:
        return np.full(flat.shape[1], np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        sd = flat.std(axis=0, ddof=1)
    spread_inf = (
        np.isinf(flat).any(axis=0)
        & ~np.isnan(flat).any(axis=0)
        & ~np.all(flat == flat[:1], axis=0)
    )
    return np.where(spread_inf, np.inf, sd)


def _mean(flat: np.ndarray) -> np.ndarray:
    """Column means of ``flat`` ``(n, k)`` (``inf`` with infinite draws of one sign)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return flat.mean(axis=0)


def _quantiles(flat: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Quantiles ``(len(probs), k)`` of the columns of ``flat``, linear interpolation.

    Where interpolation meets an infinite draw (``inf - inf`` or ``0 * inf``), the nearest
    order statistic is used instead, so a quantile in an infinite tail is ``inf``.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.quantile(flat, probs, axis=0)
        bad = np.isnan(q) & ~np.isnan(flat).any(axis=0)
        if np.any(bad):
            q = np.where(bad, np.quantile(flat, probs, axis=0, method="nearest"), q)
    return q


def _hdi_nonfinite(column: np.ndarray, prob: float) -> tuple[float, float]:
    """Highest-density interval of draws with infinite values (arviz's rule).

    The shortest window holding ``floor(prob * n) + 1`` sorted draws, where a window
    between two equal infinities has width 0 (a point mass at infinity), not NaN.
    """
    x = np.sort(column)
    n_in = int(np.floor(prob * x.size))
    with np.errstate(invalid="ignore", over="ignore"):
        width = x[n_in:] - x[: x.size - n_in]
    width = np.where(np.isnan(width), 0.0, width)
    i = int(np.argmin(width))
    return float(x[i]), float(x[i + n_in])


def rhat_text(value: float, threshold: float = 1.01) -> str:
    """R-hat with 3 decimals, or as many more as it takes to show it is above ``threshold``.

    ``1.010015`` is shown as ``1.01002`` (not ``1.010``), so a reader sees why a check
    against 1.01 failed.
    """
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    for digits in range(3, 10):
        text = f"{v:.{digits}f}"
        if v <= threshold or float(text) > threshold:
            return text
    return repr(v)


def format_value(value: Any, column: str = "") -> str:
    """Format one table cell: ESS as integers, R-hat by :func:`rhat_text`, else 4 decimals."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if column.startswith("ess"):
        return f"{v:.0f}"
    if column == "r_hat":
        return rhat_text(v)
    if v == 0 or 1e-3 <= abs(v) < 1e6:
        return f"{v:.4f}"
    return f"{v:.3e}"


# ---------------------------------------------------------------------- tables
def _interval_z(prob: float) -> float:
    return float(stats.norm.ppf(0.5 + prob / 2.0))


def _wald_bounds(fit: Fit, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval built on the unconstrained scale and mapped back, per flat element."""
    ps = fit.parameters
    x = ps.flatten(fit.point)
    lower = np.full(x.size, np.nan)
    upper = np.full(x.size, np.nan)
    if fit.cov_unconstrained is None:
        return lower, upper
    var_u = np.diag(fit.cov_unconstrained).astype(float)
    sd_u = np.where(np.isfinite(var_u) & (var_u >= 0), np.sqrt(np.abs(var_u)), np.nan)
    se = np.full(x.size, np.nan) if fit.cov is None else _se(fit.cov)
    start = 0
    for p in ps:
        sl = slice(start, start + p.size)
        start += p.size
        xv, sv = x[sl], sd_u[sl]
        inside = (xv > p.lower) & (xv < p.upper) & np.isfinite(xv)
        lo_p = np.full(p.size, np.nan)
        hi_p = np.full(p.size, np.nan)
        if np.any(inside):
            u = np.asarray(p.unconstrain(xv[inside]), dtype=float)
            a = np.asarray(p.constrain(u - z * sv[inside]), dtype=float)
            b = np.asarray(p.constrain(u + z * sv[inside]), dtype=float)
            lo_p[inside] = np.minimum(a, b)
            hi_p[inside] = np.maximum(a, b)
        on_bound = ~inside & np.isfinite(xv)
        if np.any(on_bound):
            # The estimate sits on a bound: the transform is singular there, so fall back to
            # the constrained-scale Wald interval clipped to the support (diagnose flags it).
            s = se[sl][on_bound]
            lo_p[on_bound] = np.clip(xv[on_bound] - z * s, p.lower, p.upper)
            hi_p[on_bound] = np.clip(xv[on_bound] + z * s, p.lower, p.upper)
        lower[sl], upper[sl] = lo_p, hi_p
    return lower, upper


def _se(cov: np.ndarray) -> np.ndarray:
    var = np.diag(np.asarray(cov, dtype=float))
    return np.where(np.isfinite(var) & (var >= 0), np.sqrt(np.abs(var)), np.nan)


def _derived_at(fit: Fit, u: np.ndarray, inputs: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Derived quantities (flat, by name) at unconstrained parameters ``u`` and plug-ins."""
    values = {k: np.asarray(v) for k, v in fit.parameters.constrain(np.asarray(u)).items()}
    values.update({k: np.asarray(float(x)) for k, x in inputs.items()})
    return {
        k: _flat_value(v)
        for k, v in fit.model.derived(values, fit.data).items()
        if k not in fit.parameters.names
    }


def delta_method_se(fit: Fit) -> dict[str, np.ndarray]:
    """Delta-method standard errors of the derived quantities of an optimisation fit.

    ``se(g) = sqrt(J Sigma J^T)``: ``J`` is the central-difference Jacobian of the family's
    ``derived`` hook at the estimate with respect to the unconstrained parameters (the scale
    of ``fit.cov_unconstrained``, ``Sigma``) and to the independent plug-in estimates of
    :meth:`~pystats.model.Model.derived_inputs` (each with its own variance).

    Returns
    -------
    dict
        Name -> flat array of standard errors; empty without an interior estimate or a
        covariance.  Elements whose derivative is not finite (an infinite branching ratio)
        get NaN.
    """
    if fit.point is None or fit.cov_unconstrained is None:
        return {}
    try:
        u0 = fit.parameters.unconstrain(fit.point)
    except ValueError:  # an estimate on a bound: the transform is singular there
        return {}
    plugins = {str(k): (float(v[0]), float(v[1]))
               for k, v in (fit.model.derived_inputs(fit.data) or {}).items()}
    x0 = np.concatenate([u0, [est for est, _ in plugins.values()]])
    n_u = u0.size
    names = list(plugins)
    cov = np.zeros((x0.size, x0.size))
    cov[:n_u, :n_u] = np.asarray(fit.cov_unconstrained, dtype=float)
    for i, (_, se) in enumerate(plugins.values()):
        cov[n_u + i, n_u + i] = se**2

    def g(x: np.ndarray) -> dict[str, np.ndarray]:
        return _derived_at(fit, x[:n_u], dict(zip(names, x[n_u:], strict=True)))

    base = g(x0)
    if not base:
        return {}
    jac = {k: np.zeros((v.size, x0.size)) for k, v in base.items()}
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for j in range(x0.size):
            h = 1e-5 * max(1.0, abs(x0[j]))
            up, down = x0.copy(), x0.copy()
            up[j] += h
            down[j] -= h
            g_up, g_down = g(up), g(down)
            for k in jac:
                jac[k][:, j] = (g_up[k] - g_down[k]) / (2 * h)
        out = {}
        for k, jk in jac.items():
            var = np.einsum("ij,jk,ik->i", jk, cov, jk)
            ok = np.all(np.isfinite(jk), axis=1) & np.isfinite(var) & (var >= 0)
            out[k] = np.where(ok, np.sqrt(np.abs(var)), np.nan)
    return out


def _optimization_table(fit: Fit, prob: float, derived: bool) -> pd.DataFrame:
    ps = fit.parameters
    names = ps.element_names()
    if fit.point is None:
        raise OptionError(
            f"fit with method={fit.method!r} has no point estimate; cannot build its summary"
        )
    est = ps.flatten(fit.point)
    se = np.full(est.size, np.nan) if fit.cov is None else _se(fit.cov)
    lower, upper = _wald_bounds(fit, _interval_z(prob))
    frame = pd.DataFrame(
        {"estimate": est, "se": se, "lower": lower, "upper": upper}, index=names
    )
    frame["kind"] = "parameter"
    if not derived:
        return frame
    ddraws = derived_draws(fit)
    params_at_point = {n: np.asarray(fit.point[n]) for n in ps.names}
    at_point = {k: v for k, v in fit.point.items() if k not in ps.names}
    for k, v in fit.model.derived(params_at_point, fit.data).items():
        at_point.setdefault(k, v)
    delta_se = delta_method_se(fit)
    rows = []
    alpha = (1.0 - prob) / 2.0
    for name in dict.fromkeys([*at_point, *ddraws]):
        if name in ps.names:
            continue
        if name in ddraws:
            arr = np.asarray(ddraws[name], dtype=float)
            flat = arr.reshape(arr.shape[0] * arr.shape[1], -1)
            shape = arr.shape[2:]
            sd = _sd(flat)
            lo, hi = _quantiles(flat, [alpha, 1.0 - alpha])
            point = _flat_value(at_point[name]) if name in at_point else _mean(flat)
        else:
            point = _flat_value(at_point[name])
            shape = np.shape(at_point[name])
            sd = lo = hi = np.full(point.size, np.nan)
        if name in delta_se and delta_se[name].size == point.size:
            # the delta method, not the spread of the asymptotic-normal draws (which
            # carries Monte Carlo error); NaN where the Jacobian is not finite keeps the
            # draws' value (e.g. inf for a partly infinite branching ratio)
            sd = np.where(np.isfinite(delta_se[name]), delta_se[name], sd)
            # no draws, or draws outside the derived function's domain (NaN quantiles):
            # the delta-method (Wald) interval estimate -+ z se
            z = _interval_z(prob)
            wald = np.isnan(lo) & np.isnan(hi) & np.isfinite(delta_se[name]) & np.isfinite(point)
            lo = np.where(wald, point - z * delta_se[name], lo)
            hi = np.where(wald, point + z * delta_se[name], hi)
        for i, label in enumerate(element_names(name, tuple(shape))):
            rows.append((label, point[i], sd[i], lo[i], hi[i]))
    if rows:
        extra = pd.DataFrame(
            [r[1:] for r in rows], index=[r[0] for r in rows], columns=list(OPTIMIZATION_COLUMNS)
        )
        extra["kind"] = "derived"
        frame = pd.concat([frame, extra])
    return frame


def _sampling_table(fit: Fit, prob: float, derived: bool) -> pd.DataFrame:
    import xarray as xr

    az = import_arviz()
    missing = [n for n in fit.parameters.names if n not in fit.draws]
    if missing:
        raise OptionError(
            f"fit with method={fit.method!r} has no draws of {', '.join(missing)}; "
            "cannot build its summary"
        )
    pdraws = {n: fit.draws[n] for n in fit.parameters.names}
    p_labels, p_arr = _stack(pdraws)
    labels, arr = p_labels, p_arr
    kinds = ["parameter"] * len(p_labels)
    if derived:
        d_labels, d_arr = _stack(derived_draws(fit))
        if d_labels:
            labels = [*p_labels, *d_labels]
            arr = np.concatenate([p_arr, d_arr], axis=-1)
            kinds += ["derived"] * len(d_labels)
    flat = arr.reshape(-1, arr.shape[-1])
    n = flat.shape[0]
    frame = pd.DataFrame({"mean": _mean(flat), "sd": _sd(flat)}, index=labels)
    ds = xr.Dataset({"x": (("chain", "draw", "element"), arr)})
    with np.errstate(invalid="ignore", over="ignore"):
        hdi = np.array(az.hdi(ds, hdi_prob=prob)["x"].values, dtype=float)
    if n > 1:
        for j in np.flatnonzero(np.isinf(flat).any(axis=0) & ~np.isnan(flat).any(axis=0)):
            hdi[j] = _hdi_nonfinite(flat[:, j], prob)
    frame["hdi_lower"] = hdi[:, 0]
    frame["hdi_upper"] = hdi[:, 1]
    if fit.method == "nuts":
        # MCMC statistics of quantities with non-finite draws (an infinite branching ratio)
        # are undefined: NaN, without asking arviz (which logs a warning for each)
        finite = np.flatnonzero(np.isfinite(flat).all(axis=0))
        sub = ds.isel(element=finite)
        for col in MCMC_COLUMNS:
            frame[col] = np.nan
        if finite.size:
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                cols = frame.columns.get_indexer(list(MCMC_COLUMNS))
                # R-hat compares chains: with one chain it is undefined (NaN; diagnose says
                # so) rather than arviz's "Shape validation failed" log message
                rhat = (az.rhat(sub)["x"].values if fit.n_chains >= 2
                        else np.full(finite.size, np.nan))
                frame.iloc[finite, cols] = np.column_stack([
                    az.mcse(sub, method="mean")["x"].values,
                    az.ess(sub, method="bulk")["x"].values,
                    az.ess(sub, method="tail")["x"].values,
                    rhat,
                ])
    frame["kind"] = kinds
    return frame


def _table(fit: Fit, prob: float, derived: bool) -> pd.DataFrame:
    if fit.method in ("nuts", "laplace"):
        frame = _sampling_table(fit, prob, derived)
    else:
        frame = _optimization_table(fit, prob, derived)
    frame.index.name = "name"
    return frame


def summary_table(fit: Fit, prob: float = 0.9, derived: bool = True) -> pd.DataFrame:
    """The parameter table of ``fit`` (see the module docstring for the columns).

    Computed afresh on each call; :meth:`Fit.summary` caches it on the (immutable) fit.

    Parameters
    ----------
    fit : Fit
        Any fit.
    prob : float
        Interval mass, ``0 < prob < 1``.
    derived : bool
        Append rows for derived quantities (``kind == "derived"``).

    Returns
    -------
    pandas.DataFrame
        A plain frame indexed by element name, point estimate in the first column,
        ``kind`` last; render it with :func:`summary_text` or :func:`summary_html`.

    Raises
    ------
    OptionError
        If ``prob`` is outside (0, 1).
    """
    _check_prob(prob)
    frame = _table(fit, prob, derived)
    labels = fit.model.index_labels(fit.data)
    if labels:
        frame.index = pd.Index([relabel(str(n), labels) for n in frame.index], name="name")
    return frame


def relabel(name: str, labels: Mapping[str, Sequence[Sequence[str | None]]]) -> str:
    """``"b[1,2]"`` as ``"b[s2,Ca]"`` with the family's axis labels
    (:meth:`pystats.model.Model.index_labels`); other names unchanged.

    A label ``None`` leaves its axis out of the name, and an element whose every axis is
    left out is named by the bare parameter name: ``{"a": ([None],)}`` names the single
    element of a size-1 array ``a``, not ``a[0]``.

    Examples
    --------
    >>> relabel("b[1,0]", {"b": (["s1", "s2"], ["Ca", "Na"])}), relabel("c[0]", {})
    ('b[s2,Ca]', 'c[0]')
    >>> relabel("a[0]", {"a": ([None],)}), relabel("d[0,1]", {"d": ([None], ["x", "y"])})
    ('a', 'd[y]')
    """
    base, sep, rest = name.partition("[")
    if not sep or base not in labels or not rest.endswith("]"):
        return name
    try:
        idx = [int(i) for i in rest[:-1].split(",")]
        axes = labels[base]
        if len(idx) != len(axes):
            return name
        shown = [str(axes[k][i]) for k, i in enumerate(idx) if axes[k][i] is not None]
        return f"{base}[{','.join(shown)}]" if shown else base
    except (ValueError, IndexError):
        return name


# ---------------------------------------------------------------------- renderings
def n_data_text(fit: Fit) -> str:
    """Number of data for the header: ``data.summary["n"]``-like entries, else observed sizes."""
    for key in ("n", "n_obs", "n_events", "n_data", "n_observations"):
        if key in fit.data.summary:
            return str(fit.data.summary[key])
    sizes = {k: int(np.size(v)) for k, v in fit.data.observed.items()}
    if not sizes:
        return "unknown"
    if len(sizes) == 1:
        return str(next(iter(sizes.values())))
    return f"{sum(sizes.values())} (" + ", ".join(f"{k}: {v}" for k, v in sizes.items()) + ")"


def draws_items(fit: Fit) -> list[tuple[str, str]]:
    """Header lines saying what the fit's draws are (none for a fit without draws).

    NUTS: ``Draws: 4 chains x 1000 (posterior)``; Laplace: ``Draws: 4000 from the Laplace
    approximation``; MLE/MAP: ``Uncertainty draws: 4000 from the asymptotic normal`` (they
    serve predictions and derived-quantity intervals, not MCMC).
    """
    if not fit.draws or not fit.n_chains:
        return []
    n_chain, n_draw = next(iter(fit.draws.values())).shape[:2]
    if fit.method == "nuts":
        return [("Draws", f"{n_chain} chain{'s' if n_chain > 1 else ''} x {n_draw} (posterior)")]
    total = n_chain * n_draw
    if fit.method == "laplace":
        return [("Draws", f"{total} from the Laplace approximation at the mode")]
    return [(
        "Uncertainty draws",
        f"{total} from the asymptotic normal of the estimator",
    )]


def _header_items(fit: Fit, frame: pd.DataFrame, prob: float) -> list[tuple[str, str]]:
    items = [
        ("Model", repr(fit.model)),
        ("Method", fit.method),
        ("Backend", fit.backend),
        ("No. data", n_data_text(fit)),
        ("No. parameters", str(fit.parameters.dim)),
    ]
    items += draws_items(fit)
    if fit.metadata.get("seed") is not None:
        items.append(("Seed", str(fit.metadata["seed"])))
    opt = fit.optimizer or {}
    logd = opt.get("log_likelihood", opt.get("log_density"))
    logd = float(logd) if logd is not None and math.isfinite(float(logd)) else None
    if logd is not None and fit.method == "mle":
        k = fit.parameters.dim
        items += [("Log-likelihood", format_value(logd)), ("AIC", format_value(2 * k - 2 * logd))]
    elif logd is not None and fit.method in ("map", "laplace"):
        items.append(("Log posterior at mode", format_value(logd)))
    if fit.method in ("mle", "map"):
        items.append(
            ("Intervals", f"{prob:.0%} Wald, built on the unconstrained scale")
        )
    else:
        items.append(("Intervals", f"{prob:.0%} highest density ({draws_kind(fit)} draws)"))
    return items


def _notes(fit: Fit) -> list[str]:
    return [p.message for p in fit.diagnose(warn=False).problems]


def _formatted(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        out[col] = [format_value(v, col) for v in frame[col]]
    return out


def table_html(frame: pd.DataFrame) -> str:
    """The formatted table alone as an HTML ``<table>`` (cells escaped)."""
    shown = _formatted(frame)
    shown.index.name = None
    return shown.to_html(escape=True, classes="pystats-table", border=0)


def _render_text(fit: Fit, frame: pd.DataFrame, notes: list[str], prob: float) -> str:
    body = _formatted(frame).to_string()
    width = max(78, max(len(line) for line in body.splitlines()))
    title = f"{type(fit.model).__name__} results"
    lines = [title.center(width), "=" * width]
    items = _header_items(fit, frame, prob)
    key_w = max(len(k) for k, _ in items) + 2
    lines += [f"{k + ':':<{key_w}}{v}" for k, v in items]
    lines += ["=" * width, body, "=" * width]
    if notes:
        lines.append("Notes:")
        lines += [f"[{i}] {note}" for i, note in enumerate(notes, start=1)]
    else:
        lines.append("Diagnostics: no problems detected.")
    return "\n".join(lines)


def _render_html(fit: Fit, frame: pd.DataFrame, notes: list[str], prob: float) -> str:
    esc = html.escape
    head = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _header_items(fit, frame, prob)
    )
    table = table_html(frame)
    if notes:
        note_html = "<ol class='pystats-notes'>" + "".join(
            f"<li>{esc(n)}</li>" for n in notes
        ) + "</ol>"
    else:
        note_html = "<p class='pystats-ok'>Diagnostics: no problems detected.</p>"
    return (
        "<div class='pystats-summary'>"
        f"<table class='pystats-header'>{head}</table>{table}{note_html}</div>"
    )


def summary_text(fit: Fit, prob: float = 0.9) -> str:
    """The summary as a statsmodels-like text block with numbered diagnostic notes.

    Parameters
    ----------
    fit : Fit
        Any fit.
    prob : float
        Interval mass, ``0 < prob < 1``.

    Returns
    -------
    str
        Header (model, method, backend, number of data, log-likelihood and AIC for MLE),
        the table, then one numbered note per problem found by ``diagnose(warn=False)``.
        The table and the diagnostics are the fit's cached ones.
    """
    _check_prob(prob)
    return _render_text(fit, fit.summary(prob=prob), _notes(fit), prob)


def summary_html(fit: Fit, prob: float = 0.9) -> str:
    """The summary as an HTML fragment (header, table, notes); all text is escaped."""
    _check_prob(prob)
    return _render_html(fit, fit.summary(prob=prob), _notes(fit), prob)
