"""A self-contained HTML report of a :class:`~pystats.fit.Fit`.

One file, no external resources: figures are embedded as base64 PNG (drawn by
:mod:`pystats.plots` on :class:`matplotlib.figure.Figure` objects that pyplot does not
manage, so the user's backend and open figures are left alone), styles are inline and
every piece of text that comes from the model, the data or the engine is escaped with
:func:`html.escape`.

Sections: header (model, method, backend, seed, versions, timings, data hash); data
summary (each observed variable described by its size, range, quartiles and mean);
parameters and the summary table; convergence diagnostics with plain-language verdicts;
for ``nuts`` the sampler parameters per chain (step size, acceptance, leapfrog steps, tree
depth, divergences, E-BFMI); figures: for ``nuts`` trace, rank, autocorrelation, forest
(per-chain intervals with R-hat and ESS), pair and energy plots, for the other methods
marginal densities, for every fit the parameter-correlation matrix and, where the fit
uses priors (not ``mle``), prior-versus-posterior overlays; PSIS-LOO with Pareto-k counts
(``nuts`` and ``laplace``, from the family's pointwise log likelihood); a predictive check
when the family defines ``posterior_predictive`` (against what the family says each
observed vector is indexed by, ``Model.observed_coordinates``); the family's own figures
(``Model.report_figures``).  Whatever is skipped is named with the reason.

Long runs are thinned for the figures that do not need every draw (traces, pairs, LOO,
predictive checks), so writing a report stays fast.  A figure that fails to draw is
replaced by a visible red note naming the error (and logged on the ``pystats`` logger);
the rest of the report is still written.

References
----------
Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
leave-one-out cross-validation and WAIC. Statistics and Computing, 27, 1413-1432.
https://doi.org/10.1007/s11222-016-9696-4

Gabry, J., Simpson, D., Vehtari, A., Betancourt, M. and Gelman, A. (2019). Visualization in
Bayesian workflow. Journal of the Royal Statistical Society A, 182(2), 389-402.
https://doi.org/10.1111/rssa.12378
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import logging
import os
import platform
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .arviz_io import (
    draws_kind,
    import_arviz,
    pointwise_log_likelihood_draws,
    posterior_predictive_draws,
)
from .plots._base import scalar_draws
from .summary import LOG_LIKELIHOOD_NAMES, draws_items, format_value, table_html

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .fit import Fit

__all__ = ["render_page", "write_page", "write_report"]

log = logging.getLogger("pystats")

MAX_PLOT_PARAMETERS = 6
"""Scalar parameters shown in trace, rank, autocorrelation and pair plots (the first ones)."""
MAX_FOREST_PARAMETERS = 30
"""Scalar parameters shown in the forest plot and the prior-versus-posterior overlays."""
MAX_PPC_DRAWS = 100
MAX_LOO_DRAWS = 1000
"""Draws (all chains together) used for PSIS-LOO; fewer when the data are large."""
LOO_CELLS = 4_000_000
"""Most pointwise log-likelihood values (draws x observations) computed for PSIS-LOO."""
DPI = 80

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.4}
h1{font-size:1.6em;border-bottom:2px solid #446;padding-bottom:.2em}
h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{padding:.2em .7em;text-align:right;border-bottom:1px solid #e4e4ee}
table.kv th{text-align:left;color:#446}table.kv td{text-align:left;font-family:monospace}
.pystats-header th{text-align:left}
ul.pystats-diagnostics{list-style:none;padding-left:0}
ul.pystats-diagnostics li{padding:.25em .6em;margin:.2em 0;border-radius:4px}
li.diag-pass{background:#e7f6e7;color:#145214}li.diag-fail{background:#fbe3e3;color:#7a1111}
li.diag-na{background:#f1f1f4;color:#555}
.verdict-ok{color:#145214;font-weight:bold}.verdict-bad{color:#7a1111;font-weight:bold}
.error{background:#fbe3e3;color:#7a1111;padding:.4em .8em;border-radius:4px}
figure{margin:1em 0}figcaption{color:#446;font-weight:bold;margin-bottom:.3em}
img{max-width:100%}
.note{color:#555;font-size:.9em}
table.sampler td:first-child{text-align:left}
"""


# ---------------------------------------------------------------------- helpers
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _kv_table(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in items)
    return f"<table class='kv'>{rows}</table>"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    # constrained-layout figures are laid out already; "tight" would draw them twice
    tight = fig.get_layout_engine() is None
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight" if tight else None)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _close(fig: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)  # no-op for figures pyplot does not manage


def _figure_html(
    title: str,
    make: Callable[[], Figure | None],
    reraise: tuple[type[BaseException], ...] = (),
) -> str:
    """Draw with ``make`` and embed; a failure becomes a visible note (``reraise``: errors
    passed on to the caller instead)."""
    fig = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # arviz on new matplotlib
            fig = make()
            if fig is None:
                return ""
            data = _png(fig)
    except reraise:
        raise
    except Exception as e:  # a broken plot must not lose the rest of the report
        log.warning("report figure %r failed: %s: %s", title, type(e).__name__, e)
        return (
            f"<figure><figcaption>{_esc(title)}</figcaption><p class='error'>This figure "
            f"could not be drawn: {_esc(type(e).__name__)}: {_esc(e)}</p></figure>"
        )
    finally:
        if fig is not None:
            _close(fig)
    return (
        f"<figure><figcaption>{_esc(title)}</figcaption>"
        f"<img alt='{_esc(title)}' src='data:image/png;base64,{data}'></figure>"
    )


# ---------------------------------------------------------------------- sections
def _header(fit: Fit) -> str:
    import matplotlib

    import pystats

    md = dict(fit.metadata)
    az = import_arviz()
    items: list[tuple[str, Any]] = [
        ("Model", repr(fit.model)),
        ("Family", getattr(type(fit.model), "family", type(fit.model).__name__)),
        ("Method", fit.method),
        ("Backend", fit.backend),
        *(draws_items(fit) or [("Draws", "none")]),
        ("Seed", md.get("seed", "not recorded")),
    ]
    if fit.method == "nuts":
        items.append(("Max tree depth", fit.max_tree_depth))
    for key in ("engine", "engine_version", "stan_program", "stan_program_hash"):
        if md.get(key) is not None:
            items.append((key.replace("_", " ").capitalize(), md[key]))
    items.append(("Data hash (SHA-256)", md.get("data_hash", fit.data.hash)))
    for key, value in md.items():
        if key.endswith("_seconds"):
            v = f"{value:.2f} s" if isinstance(value, int | float) else value
            items.append((key.replace("_", " ").capitalize(), v))
    if md.get("created") is not None:
        items.append(("Fitted at", md["created"]))
    versions = {
        "pystats (fit)": md.get("pystats_version", "unknown"),
        "pystats (report)": getattr(pystats, "__version__", "unknown"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "arviz": az.__version__,
        "matplotlib": matplotlib.__version__,
    }
    items.append(("Versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    items.append(("Report written", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")))
    return f"<h2>Fit</h2>{_kv_table(items)}"


def describe_values(value: Any) -> str:
    """A one-line numeric description of an observed variable.

    A scalar is shown as is; a vector by its size, range, quartiles and mean (integer data
    also by their total), e.g. ``2000 values: min 2.5, quartiles 2.6 / 2.8 / 3.1, max 6.2,
    mean 2.93``.
    """
    arr = np.asarray(value)
    if arr.size == 0:
        return "empty"
    if arr.dtype.kind not in "biuf":
        return f"{arr.size} values of type {arr.dtype}"
    x = arr.astype(float).ravel()
    if arr.size == 1:
        return format_value(x[0]) if arr.dtype.kind == "f" else str(int(x[0]))
    finite = x[np.isfinite(x)]
    shape = f" (shape {'x'.join(map(str, arr.shape))})" if arr.ndim > 1 else ""
    if finite.size == 0:
        return f"{arr.size} values{shape}, none finite"
    q1, q2, q3 = np.quantile(finite, [0.25, 0.5, 0.75])

    def f(v: float) -> str:
        return f"{v:.6g}"

    text = (f"{arr.size} values{shape}: min {f(finite.min())}, quartiles {f(q1)} / {f(q2)} / "
            f"{f(q3)}, max {f(finite.max())}, mean {f(finite.mean())}")
    if arr.dtype.kind in "biu":
        text += f", total {int(finite.sum())}"
    if finite.size < x.size:
        text += f" ({x.size - finite.size} non-finite)"
    return text


def _data_section(fit: Fit) -> str:
    items = [(k, v) for k, v in fit.data.summary.items()]
    observed = [(k, describe_values(v)) for k, v in fit.data.observed.items()]
    body = _kv_table(items) if items else "<p class='note'>No data summary.</p>"
    if observed:
        body += "<p class='note'>Observed data:</p>" + _kv_table(observed)
    return f"<h2>Data</h2>{body}"


def _parameter_section(fit: Fit, frame: Any, prob: float) -> str:
    defs = "".join(
        f"<tr><th>{_esc(p.name)}</th><td>{_esc(p.shape if p.shape else 'scalar')}</td>"
        f"<td>{_esc(_support(p.lower, p.upper))}</td><td style='text-align:left'>"
        f"{_esc(p.description)}</td></tr>"
        for p in fit.parameters
    )
    how = (
        f"{prob:.0%} Wald intervals built on the unconstrained scale and mapped back; "
        "standard errors of derived quantities by the delta method"
        if "estimate" in frame.columns
        else f"{prob:.0%} highest-density intervals of the {draws_kind(fit)} draws"
    )
    return (
        "<h2>Parameters</h2>"
        "<table><tr><th>name</th><th>shape</th><th>support</th><th>description</th></tr>"
        f"{defs}</table><p class='note'>{_esc(how)}.</p>{table_html(frame)}"
    )


def _support(lower: float, upper: float) -> str:
    lo = "-inf" if not np.isfinite(lower) else f"{lower:g}"
    hi = "inf" if not np.isfinite(upper) else f"{upper:g}"
    return f"({lo}, {hi})"


def _diagnostics_section(fit: Fit) -> str:
    diag = fit.diagnose(warn=False)
    verdict = (
        "<p class='verdict-ok'>All checks passed.</p>"
        if diag.ok
        else f"<p class='verdict-bad'>{len(diag.problems)} check(s) failed.</p>"
    )
    problems = ""
    if diag.problems:
        problems = "<ol>" + "".join(
            f"<li class='verdict-bad'>{_esc(p.message)}</li>" for p in diag.problems
        ) + "</ol>"
    return f"<h2>Diagnostics</h2>{verdict}{diag.to_html()}{problems}"


def sampler_table(fit: Fit) -> list[dict[str, Any]]:
    """Per-chain NUTS sampler parameters from ``fit.sample_stats``.

    Returns
    -------
    list of dict
        One row per chain with ``chain``, ``step_size`` (the adapted step size),
        ``acceptance`` (mean acceptance statistic), ``leapfrog_mean``/``leapfrog_max``
        (leapfrog steps per draw), ``tree_depth_mean``/``tree_depth_max``,
        ``divergences`` and ``e_bfmi``; statistics the engine did not report are
        missing from the rows.
    """
    from .diagnostics import e_bfmi

    st = {k: np.asarray(v) for k, v in fit.sample_stats.items()}
    if not st:
        return []
    n_chain = next(iter(st.values())).shape[0]
    bfmi = e_bfmi(st["energy"]) if "energy" in st else None
    rows = []
    for c in range(n_chain):
        row: dict[str, Any] = {"chain": c}
        if "step_size" in st:
            row["step_size"] = float(np.median(st["step_size"][c]))
        if "acceptance_rate" in st:
            row["acceptance"] = float(np.mean(st["acceptance_rate"][c]))
        if "n_steps" in st:
            row["leapfrog_mean"] = float(np.mean(st["n_steps"][c]))
            row["leapfrog_max"] = int(np.max(st["n_steps"][c]))
        if "tree_depth" in st:
            row["tree_depth_mean"] = float(np.mean(st["tree_depth"][c]))
            row["tree_depth_max"] = int(np.max(st["tree_depth"][c]))
        if "diverging" in st:
            row["divergences"] = int(st["diverging"][c].astype(bool).sum())
        if bfmi is not None:
            row["e_bfmi"] = float(bfmi[c])
        rows.append(row)
    return rows


_SAMPLER_COLUMNS = {
    "chain": "chain",
    "step_size": "step size",
    "acceptance": "mean acceptance",
    "leapfrog_mean": "leapfrog steps (mean)",
    "leapfrog_max": "leapfrog steps (max)",
    "tree_depth_mean": "tree depth (mean)",
    "tree_depth_max": "tree depth (max)",
    "divergences": "divergences",
    "e_bfmi": "E-BFMI",
}


def _sampler_section(fit: Fit) -> str:
    if fit.method != "nuts":
        return ""
    rows = sampler_table(fit)
    if not rows:
        return ("<h2>Sampler</h2><p class='note'>The engine reported no sampler statistics."
                "</p>")
    cols = [c for c in _SAMPLER_COLUMNS if c in rows[0]]
    head = "".join(f"<th>{_esc(_SAMPLER_COLUMNS[c])}</th>" for c in cols)

    def cell(v: Any) -> str:
        return str(v) if isinstance(v, int) else f"{v:.4g}"

    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(cell(r[c]))}</td>" for c in cols) + "</tr>" for r in rows
    )
    note = (f"Max tree depth {fit.max_tree_depth}; the step size is the one adapted in warmup; "
            "acceptance is Stan's accept_stat (target adapt_delta).")
    return (f"<h2>Sampler</h2><table class='sampler'><tr>{head}</tr>{body}</table>"
            f"<p class='note'>{_esc(note)}</p>")


def _figures_section(fit: Fit, frame: Any, prob: float) -> str:
    from .plots import diagnostic as dp

    parts = []
    if fit.method == "nuts" and fit.draws:
        draws, total = scalar_draws(fit, MAX_PLOT_PARAMETERS)
        shown = (
            f"the first {len(draws)} of {total} scalar parameters"
            if total > len(draws)
            else "all parameters"
        )
        parts.append(f"<p class='note'>Trace, rank, autocorrelation and pair plots show "
                     f"{_esc(shown)}.</p>")
        parts.append(_figure_html("Traces (left: per-chain densities; right: draws)",
                                  lambda: dp.trace_figure(draws)))
        parts.append(_figure_html("Rank plots (uniform bars = well-mixed chains)",
                                  lambda: dp.rank_figure(draws)))
        parts.append(_figure_html("Autocorrelation per chain",
                                  lambda: dp.autocorr_figure(draws)))
        forest, _ = scalar_draws(fit, MAX_FOREST_PARAMETERS)
        parts.append(_figure_html(
            f"Forest plot: per-chain {prob:.0%} (thin) and 50% (thick) highest-density "
            "intervals, with R-hat and bulk ESS",
            lambda: dp.forest_figure(forest, frame, prob)))
        parts.append(_figure_html("Pairs (divergent transitions highlighted)",
                                  lambda: dp.pair_figure(fit, draws)))
        parts.append(_figure_html("Energy: marginal vs transition (similar = good E-BFMI)",
                                  lambda: dp.energy_figure(fit)))
    else:
        what = {
            "laplace": "Laplace-approximation draws",
            "mle": "asymptotic-normal draws",
            "map": "asymptotic-normal draws",
        }.get(fit.method, "draws")
        parts.append(_figure_html(
            f"Marginal densities ({what}) with estimate and interval",
            lambda: dp.marginal_figure(fit, frame),
        ))
    parts.append(_figure_html("Parameter correlations", lambda: dp.correlation_figure(fit)))
    parts.append(_prior_part(fit))
    return "<h2>Figures</h2>" + "".join(parts)


def _prior_part(fit: Fit) -> str:
    from .errors import MethodNotSupportedError
    from .plots.prior import prior_posterior_figure

    title = {
        "map": "Prior (line) vs the normal approximation at the mode (histogram)",
        "laplace": "Prior (line) vs the Laplace approximation (histogram)",
    }.get(fit.method, "Prior (line) vs posterior (histogram)")
    if fit.method == "mle":
        return ""  # no priors in a maximum-likelihood fit
    if not fit.draws:
        return f"<p class='note'>{_esc(title)}: skipped, the fit holds no draws.</p>"
    labels = fit.parameters.element_names()[:MAX_FOREST_PARAMETERS]
    notes: list[str] = []

    def make() -> Figure | None:
        fig, why = prior_posterior_figure(fit, labels)
        notes.extend(why)
        return fig

    try:
        out = _figure_html(title, make, reraise=(MethodNotSupportedError,))
    except MethodNotSupportedError:
        return (f"<p class='note'>{_esc(title)}: skipped, {_esc(type(fit.model).__name__)} "
                "defines no prior density.</p>")
    if notes:
        out += "<p class='note'>Not drawn: " + _esc("; ".join(notes)) + ".</p>"
    return out


def loo_summary(fit: Fit) -> tuple[Any, int] | str:
    """PSIS-LOO of ``fit`` (arviz's ``ELPDData``) and the number of draws used, or the
    reason it was skipped.

    Uses the family's pointwise log likelihood (or stored ``log_lik`` draws) on at most
    :data:`MAX_LOO_DRAWS` draws, fewer when draws x observations would exceed
    :data:`LOO_CELLS`.  Only for ``nuts`` and ``laplace``: the draws of ``mle``/``map``
    fits are not posterior draws.
    """
    if fit.method not in ("nuts", "laplace"):
        return (f"skipped: the {draws_kind(fit).replace('_', '-')} draws of a "
                f"{fit.method!r} fit are not posterior draws")
    if not fit.draws:
        return "skipped: the fit holds no draws"
    n_obs = sum(int(np.size(v)) for v in fit.data.observed.values()) or 1
    max_draws = int(min(MAX_LOO_DRAWS, max(100, LOO_CELLS // n_obs)))
    log_lik = pointwise_log_likelihood_draws(fit, max_draws=max_draws)
    if not log_lik:
        from .plots._base import thin

        log_lik = {k: thin(np.asarray(v, dtype=float), max_draws) for k, v in fit.draws.items()
                   if k in LOG_LIKELIHOOD_NAMES and np.ndim(v) > 2}
    if not log_lik:
        return (f"skipped: {type(fit.model).__name__} defines no pointwise log likelihood "
                "(Model.pointwise_log_likelihood)")
    if len(log_lik) > 1:
        return (f"skipped: the log likelihood has {len(log_lik)} observed variables "
                f"({', '.join(log_lik)}); LOO needs one")
    az = import_arviz()
    name, value = next(iter(log_lik.items()))
    value = value.reshape(*value.shape[:2], -1)
    data = az.from_dict(posterior={"_": np.zeros(value.shape[:2])}, log_likelihood={name: value})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(data, pointwise=True)
    return loo, int(value.shape[0] * value.shape[1])


def loo_verdict(n_bad_k: int, good: float, p_loo: float, n_params: int, method: str) -> str:
    """The report's reading of a PSIS-LOO: Pareto k, then ``p_loo`` against the number of
    parameters (the rules of :func:`pystats.compare`'s ``loo_warning``).

    Examples
    --------
    >>> loo_verdict(0, 0.7, 3.9, 5, "nuts")
    'All Pareto k values are good: the PSIS-LOO estimate is reliable.'
    >>> loo_verdict(0, 0.7, 11.0, 5, "laplace").split(":")[0]
    'p_loo 11.0 is above 1.5 x the 5 parameters'
    """
    from .comparison import P_LOO_RATIO_MAX

    if n_bad_k:
        return (f"{n_bad_k} observation(s) with Pareto k above {good:.2f}: their LOO terms "
                "are unreliable (influential observations or a misfitting model); consider "
                "exact LOO for them or K-fold cross-validation.")
    if p_loo > P_LOO_RATIO_MAX * n_params:
        cause = ("the Laplace draws are far from the posterior (a curved or flat posterior): "
                 "refit with method='nuts' before trusting this LOO" if method == "laplace"
                 else "the model may be badly misspecified, so this LOO is unreliable")
        return (f"p_loo {p_loo:.1f} is above {P_LOO_RATIO_MAX:g} x the {n_params} "
                f"parameters: {cause} (Vehtari et al. 2017).")
    return "All Pareto k values are good: the PSIS-LOO estimate is reliable."


def _loo_section(fit: Fit) -> str:
    head = "<h2>PSIS-LOO</h2>"
    try:
        result = loo_summary(fit)
    except Exception as e:
        log.warning("PSIS-LOO failed: %s: %s", type(e).__name__, e)
        return (f"{head}<p class='error'>PSIS-LOO could not be computed: "
                f"{_esc(type(e).__name__)}: {_esc(e)}</p>")
    if isinstance(result, str):
        return f"{head}<p class='note'>{_esc(result)}.</p>"
    loo, n_draws = result
    k = np.asarray(loo.pareto_k, dtype=float).ravel()
    good = float(getattr(loo, "good_k", 0.7) or 0.7)
    bins = [
        (f"(-inf, {good:.2f}] good", int(np.sum(k <= good))),
        (f"({good:.2f}, 1] bad", int(np.sum((k > good) & (k <= 1)))),
        ("(1, inf) very bad", int(np.sum(k > 1))),
    ]
    items = [
        ("elpd_loo", f"{loo.elpd_loo:.2f} (se {loo.se:.2f})"),
        ("p_loo (effective number of parameters)", f"{loo.p_loo:.2f}"),
        ("observations", k.size),
        ("draws used", n_draws),
    ]
    rows = "".join(f"<tr><td>{_esc(a)}</td><td>{n}</td><td>{100 * n / max(k.size, 1):.1f}%"
                   "</td></tr>" for a, n in bins)
    n_params = fit.parameters.dim
    verdict = loo_verdict(bins[1][1] + bins[2][1], good, float(loo.p_loo), n_params,
                          fit.method)
    return (f"{head}{_kv_table(items)}<table><tr><th>Pareto k</th><th>count</th><th>share</th>"
            f"</tr>{rows}</table><p class='note'>{_esc(verdict)}</p>")


def _ppc_section(fit: Fit) -> str:
    from .plots.predictive import ppc_figure

    if not fit.draws:
        return ""
    try:
        replicated = posterior_predictive_draws(fit, max_draws=MAX_PPC_DRAWS)
        coords = dict(fit.model.observed_coordinates(fit.data) or {})
    except Exception as e:  # shown in the report, like a failed figure
        log.warning("posterior predictive draws failed: %s: %s", type(e).__name__, e)
        return (
            "<h2>Predictive check</h2><p class='error'>Replicated data could not be drawn: "
            f"{_esc(type(e).__name__)}: {_esc(e)}</p>"
        )
    if not replicated:
        return ""
    parts = []
    for name, rep in replicated.items():
        if name not in fit.data.observed:
            continue
        observed = np.asarray(fit.data.observed[name])
        if rep.shape[2:] != observed.shape:
            parts.append(
                f"<p class='note'>{_esc(name)}: replicated shape {_esc(rep.shape[2:])} differs "
                f"from the observed shape {_esc(observed.shape)}; not compared.</p>"
            )
            continue
        parts.append(_figure_html(
            f"{name}: observed vs replicated ({draws_kind(fit)} draws)",
            lambda name=name, rep=rep, observed=observed: ppc_figure(
                name, observed, rep, coords.get(name)),
        ))
    if not parts:
        return ""
    return "<h2>Predictive check</h2>" + "".join(parts)


def _family_section(fit: Fit) -> str:
    try:
        figures = list(fit.model.report_figures(fit) or [])
    except Exception as e:
        log.warning("report_figures failed: %s: %s", type(e).__name__, e)
        return (
            f"<h2>{_esc(type(fit.model).__name__)} figures</h2><p class='error'>The family's "
            f"figures could not be drawn: {_esc(type(e).__name__)}: {_esc(e)}</p>"
        )
    if not figures:
        return ""
    parts = [_figure_html(str(title), lambda fig=fig: fig) for title, fig in figures]
    return f"<h2>{_esc(type(fit.model).__name__)} figures</h2>" + "".join(parts)


# ---------------------------------------------------------------------- entry point
def render_report(fit: Fit, prob: float = 0.9) -> str:
    """The report of ``fit`` as one HTML document (string)."""
    frame = fit.summary(prob=prob, derived=True)
    title = f"pystats report: {type(fit.model).__name__} ({fit.method}, {fit.backend})"
    body = "".join(
        [
            f"<h1>{_esc(title)}</h1>",
            _header(fit),
            _data_section(fit),
            _parameter_section(fit, frame, prob),
            _diagnostics_section(fit),
            _sampler_section(fit),
            _figures_section(fit, frame, prob),
            _loo_section(fit),
            _ppc_section(fit),
            _family_section(fit),
        ]
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )


def write_report(fit: Fit, path: str | os.PathLike[str]) -> Path:
    """Write the self-contained HTML report of ``fit`` to ``path``.

    Parameters
    ----------
    fit : Fit
        Any fit.
    path : str or path-like
        Destination file (``*.html``); parent folders must exist.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    document = render_report(fit)
    path.write_text(document, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- generic pages
def render_page(title: str, sections: list[tuple[str, list[Any]]]) -> str:
    """A self-contained HTML page in the report style from plain building blocks.

    For results that are not a :class:`~pystats.fit.Fit` (e.g. a decomposition).
    ``sections`` are ``(heading, items)``; each item is a ``str`` (a paragraph, escaped),
    a :class:`pandas.DataFrame` (a table, formatted like the summaries), a list of
    ``(key, value)`` pairs (a key-value table) or a ``(caption, figure)`` pair with a
    matplotlib figure or a callable returning one (embedded as PNG; a failure becomes a
    visible note).
    """
    import pandas as pd

    body = [f"<h1>{_esc(title)}</h1>"]
    for heading, items in sections:
        body.append(f"<h2>{_esc(heading)}</h2>")
        for item in items:
            if isinstance(item, str):
                body.append(f"<p>{_esc(item)}</p>")
            elif isinstance(item, pd.DataFrame):
                body.append(table_html(item))
            elif isinstance(item, tuple) and len(item) == 2:
                caption, fig = item
                body.append(_figure_html(str(caption), fig if callable(fig)
                                         else (lambda fig=fig: fig)))
            elif isinstance(item, list):
                body.append(_kv_table(item))
            else:
                raise TypeError(f"report item of type {type(item).__name__} is not allowed; "
                                "use str, DataFrame, list of (key, value) or (caption, figure)")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>{''.join(body)}"
        "</body></html>"
    )


def write_page(path: str | os.PathLike[str], title: str,
               sections: list[tuple[str, list[Any]]]) -> Path:
    """Write :func:`render_page` ``(title, sections)`` to ``path``; returns the path."""
    path = Path(path)
    path.write_text(render_page(title, sections), encoding="utf-8")
    return path
