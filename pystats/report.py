"""A self-contained HTML report of a :class:`~pystats.fit.Fit`.

One file, no external resources: figures are embedded as base64 PNG (drawn on
:class:`matplotlib.figure.Figure` objects that pyplot does not manage, so the user's
backend and open figures are left alone), styles are inline and every piece of text that
comes from the model, the data or the engine is escaped with :func:`html.escape`.

Sections: header (model, method, backend, seed, versions, timings, data hash); data
summary; parameters and the summary table; convergence diagnostics with plain-language
verdicts; for ``nuts`` rank plots, pair plot and energy plot, for the other methods
marginal densities and intervals; a predictive check when the family defines
``posterior_predictive``; the family's own figures (``Model.report_figures``).

A figure that fails to draw is replaced by a visible red note naming the error (and
logged on the ``pystats`` logger); the rest of the report is still written.

References
----------
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

from .arviz_io import draws_kind, import_arviz, posterior_predictive_draws
from .summary import element_names, summary_table, table_html

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .fit import Fit

__all__ = ["write_report"]

log = logging.getLogger("pystats")

MAX_PLOT_PARAMETERS = 6
"""Scalar parameters shown in trace/rank and pair plots (the first ones, in order)."""
MAX_MARGINALS = 12
"""Scalar parameters shown as marginal densities for optimisation / Laplace fits."""
MAX_PAIR_DRAWS = 1000
MAX_PPC_DRAWS = 100
MAX_PPC_ELEMENTS = 100
"""Observed variables with at most this many values (binned counts, a few measurements) are
checked value by value against their replicated intervals; larger ones (a catalogue's
magnitudes) by overlaying replicated and observed distributions (``arviz.plot_ppc``)."""
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
"""


# ---------------------------------------------------------------------- helpers
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _kv_table(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in items)
    return f"<table class='kv'>{rows}</table>"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _close(fig: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)  # no-op for figures pyplot does not manage


def _figure_html(title: str, make: Callable[[], Figure | None]) -> str:
    """Draw with ``make`` and embed; a failure becomes a visible note."""
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


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _scalar_draws(fit: Fit, limit: int) -> tuple[dict[str, np.ndarray], int]:
    """The first ``limit`` scalar parameter elements as ``label -> (chain, draw)``."""
    out: dict[str, np.ndarray] = {}
    total = fit.parameters.dim
    for p in fit.parameters:
        if p.name not in fit.draws:
            continue
        arr = np.asarray(fit.draws[p.name], dtype=float)
        flat = arr.reshape(arr.shape[0], arr.shape[1], -1)
        for i, label in enumerate(element_names(p.name, p.shape)):
            if len(out) >= limit:
                return out, total
            out[label] = flat[:, :, i]
    return out, total


def _thin(arr: np.ndarray, max_draws: int) -> np.ndarray:
    n_chain, n_draw = arr.shape[:2]
    per_chain = max(1, max_draws // max(n_chain, 1))
    if per_chain >= n_draw:
        return arr
    idx = np.unique(np.linspace(0, n_draw - 1, per_chain).round().astype(int))
    return arr[:, idx]


def _idata(posterior: dict[str, np.ndarray], stats: dict[str, np.ndarray] | None = None) -> Any:
    az = import_arviz()
    return az.from_dict(posterior=posterior, sample_stats=stats or None)


# ---------------------------------------------------------------------- figures
def _rank_figure(fit: Fit, draws: dict[str, np.ndarray]) -> Figure:
    az = import_arviz()
    k = len(draws)
    fig = _new_figure(10, 1.9 * k + 0.4)
    axes = fig.subplots(k, 2, squeeze=False)
    az.plot_trace(_idata(draws), kind="rank_bars", axes=axes, compact=False, show=False)
    return fig


def _pair_figure(fit: Fit, draws: dict[str, np.ndarray]) -> Figure | None:
    az = import_arviz()
    k = len(draws)
    if k < 2:
        return None
    thinned = {n: _thin(v, MAX_PAIR_DRAWS) for n, v in draws.items()}
    stats = None
    divergences = False
    if "diverging" in fit.sample_stats:
        div = np.asarray(fit.sample_stats["diverging"]).astype(bool)
        first = next(iter(draws.values()))
        if div.shape == first.shape:
            stats = {"diverging": _thin(div, MAX_PAIR_DRAWS)}
            divergences = bool(stats["diverging"].any())
    size = min(max(2.2 * (k - 1) + 0.6, 4.0), 11.0)
    fig = _new_figure(size, size)
    axes = fig.subplots(k - 1, k - 1, squeeze=False)
    az.plot_pair(
        _idata(thinned, stats),
        kind="scatter",
        divergences=divergences,
        ax=axes,
        scatter_kwargs={"alpha": 0.5, "s": 12},
        show=False,
    )
    return fig


def _energy_figure(fit: Fit) -> Figure | None:
    if "energy" not in fit.sample_stats:
        return None
    az = import_arviz()
    energy = np.asarray(fit.sample_stats["energy"], dtype=float)
    fig = _new_figure(6, 3.5)
    ax = fig.subplots()
    idata = az.from_dict(posterior={"_": np.zeros(energy.shape)}, sample_stats={"energy": energy})
    az.plot_energy(idata, ax=ax, show=False)
    return fig


def _marginal_figure(fit: Fit, frame: Any) -> Figure | None:
    draws, _ = _scalar_draws(fit, MAX_MARGINALS)
    labels = [n for n in frame.index[frame["kind"] == "parameter"]][:MAX_MARGINALS]
    if not labels:
        return None
    est_col, lo_col, hi_col = (
        ("estimate", "lower", "upper")
        if "estimate" in frame.columns
        else ("mean", "hdi_lower", "hdi_upper")
    )
    k = len(labels)
    ncol = min(k, 3)
    nrow = -(-k // ncol)
    fig = _new_figure(3.3 * ncol, 2.4 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, label in zip(axes, labels, strict=False):
        row = frame.loc[label]
        if label in draws:
            ax.hist(np.ravel(draws[label]), bins=40, density=True, color="#8da0cb", alpha=0.8)
        if np.isfinite(row[lo_col]) and np.isfinite(row[hi_col]):
            ax.axvspan(row[lo_col], row[hi_col], color="#fc8d62", alpha=0.25, lw=0)
        if np.isfinite(row[est_col]):
            ax.axvline(row[est_col], color="#d95f02", lw=1.5)
        ax.set_title(label, fontsize=10)
        ax.set_yticks([])
    for ax in axes[k:]:
        ax.set_visible(False)
    return fig


def _ppc_figure(fit: Fit, name: str, replicated: np.ndarray) -> Figure:
    observed = np.asarray(fit.data.observed[name])
    if observed.size <= MAX_PPC_ELEMENTS:
        return _ppc_elements_figure(name, observed, replicated)
    return _ppc_density_figure(name, observed, replicated)


def _ppc_elements_figure(name: str, observed: np.ndarray, replicated: np.ndarray) -> Figure:
    """Each observed value against the 90 % interval and median of its replicates."""
    obs = np.ravel(observed).astype(float)
    rep = np.asarray(replicated, dtype=float).reshape(-1, obs.size)
    lo, med, hi = np.quantile(rep, [0.05, 0.5, 0.95], axis=0)
    x = np.arange(obs.size)
    outside = (obs < lo) | (obs > hi)
    fig = _new_figure(7, 3.5)
    ax = fig.subplots()
    ax.fill_between(x, lo, hi, step="mid", color="#8da0cb", alpha=0.5,
                    label="replicated 90% interval")
    ax.step(x, med, where="mid", color="#3b4cc0", lw=1, label="replicated median")
    ax.plot(x[~outside], obs[~outside], "o", color="black", ms=3, label="observed")
    if outside.any():
        ax.plot(x[outside], obs[outside], "o", color="#d62728", ms=4,
                label=f"observed outside interval ({int(outside.sum())} of {obs.size})")
    ax.set_xlabel(f"{name} (element index)")
    ax.legend(fontsize=8)
    return fig


def _ppc_density_figure(name: str, observed: np.ndarray, replicated: np.ndarray) -> Figure:
    az = import_arviz()
    dims = [f"{name}_dim_{i}" for i in range(observed.ndim)]
    idata = az.from_dict(
        posterior_predictive={name: replicated},
        observed_data={name: observed},
        dims={name: dims},
    )
    fig = _new_figure(6, 3.5)
    ax = fig.subplots()
    az.plot_ppc(idata, var_names=[name], ax=ax, num_pp_samples=MAX_PPC_DRAWS, show=False)
    return fig


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
        ("Draws", draws_kind(fit) if fit.draws else "none"),
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


def _data_section(fit: Fit) -> str:
    items = [(k, v) for k, v in fit.data.summary.items()]
    observed = [
        (k, f"shape {tuple(np.shape(v))}, dtype {np.asarray(v).dtype}")
        for k, v in fit.data.observed.items()
    ]
    body = _kv_table(items) if items else "<p class='note'>No data summary.</p>"
    if observed:
        body += "<p class='note'>Observed data:</p>" + _kv_table(observed)
    return f"<h2>Data</h2>{body}"


def _parameter_section(fit: Fit, frame: Any) -> str:
    defs = "".join(
        f"<tr><th>{_esc(p.name)}</th><td>{_esc(p.shape if p.shape else 'scalar')}</td>"
        f"<td>{_esc(_support(p.lower, p.upper))}</td><td style='text-align:left'>"
        f"{_esc(p.description)}</td></tr>"
        for p in fit.parameters
    )
    prob = frame.attrs.get("prob", 0.9)
    how = (
        f"{prob:.0%} Wald intervals built on the unconstrained scale and mapped back"
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


def _diagnostics_section(fit: Fit, frame: Any) -> str:
    from .diagnostics import run_checks

    diag = run_checks(fit, frame)
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


def _figures_section(fit: Fit, frame: Any) -> str:
    parts = []
    if fit.method == "nuts" and fit.draws:
        draws, total = _scalar_draws(fit, MAX_PLOT_PARAMETERS)
        shown = (
            f"the first {len(draws)} of {total} scalar parameters"
            if total > len(draws)
            else "all parameters"
        )
        parts.append(f"<p class='note'>Plots show {_esc(shown)}.</p>")
        parts.append(_figure_html("Rank plots (uniform bars = well-mixed chains)",
                                  lambda: _rank_figure(fit, draws)))
        parts.append(_figure_html("Pairs (divergent transitions highlighted)",
                                  lambda: _pair_figure(fit, draws)))
        parts.append(_figure_html("Energy: marginal vs transition (similar = good E-BFMI)",
                                  lambda: _energy_figure(fit)))
    else:
        what = {
            "laplace": "Laplace-approximation draws",
            "mle": "asymptotic-normal draws",
            "map": "asymptotic-normal draws",
        }.get(fit.method, "draws")
        parts.append(_figure_html(
            f"Marginal densities ({what}) with estimate and interval",
            lambda: _marginal_figure(fit, frame),
        ))
    return "<h2>Figures</h2>" + "".join(parts)


def _ppc_section(fit: Fit) -> str:
    if not fit.draws:
        return ""
    try:
        replicated = posterior_predictive_draws(fit, max_draws=MAX_PPC_DRAWS)
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
        if rep.shape[2:] != np.shape(fit.data.observed[name]):
            parts.append(
                f"<p class='note'>{_esc(name)}: replicated shape {_esc(rep.shape[2:])} differs "
                f"from the observed shape {_esc(np.shape(fit.data.observed[name]))}; not "
                "compared.</p>"
            )
            continue
        parts.append(_figure_html(
            f"{name}: observed vs replicated ({draws_kind(fit)} draws)",
            lambda name=name, rep=rep: _ppc_figure(fit, name, rep),
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
def render_report(fit: Fit) -> str:
    """The report of ``fit`` as one HTML document (string)."""
    frame = summary_table(fit, prob=0.9, derived=True)
    title = f"pystats report: {type(fit.model).__name__} ({fit.method}, {fit.backend})"
    body = "".join(
        [
            f"<h1>{_esc(title)}</h1>",
            _header(fit),
            _data_section(fit),
            _parameter_section(fit, frame),
            _diagnostics_section(fit, frame),
            _figures_section(fit, frame),
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
