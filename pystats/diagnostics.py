"""Convergence and reliability checks of a :class:`~pystats.fit.Fit`.

``diagnose(fit)`` runs the checks that apply to the fit's method and returns a
:class:`Diagnostics`: one :class:`Check` per check (with a plain-language verdict) and one
:class:`Problem` per failed check.  When a check fails and ``warn=True`` a
:class:`~pystats.errors.ConvergenceWarning` lists the problems and what to try.

Checks
------
``nuts``
    * ``r_hat``: rank-normalised split R-hat above 1.01 (Vehtari et al. 2021);
    * ``ess_bulk``, ``ess_tail``: effective sample size below 100 per chain (ibid.);
    * ``divergences``: divergent transitions (Betancourt 2017);
    * ``tree_depth``: draws that hit the tree-depth limit ``fit.max_tree_depth``;
    * ``e_bfmi``: energy Bayesian fraction of missing information below 0.3 in a chain
      (Betancourt 2016).
``mle``, ``map``
    * ``converged``: the optimizer's own convergence flag;
    * ``hessian``: the Hessian at the optimum is negative definite (covariance exists);
    * ``boundary``: an estimate at or numerically at a bound of its support;
    * ``flat``: a nearly flat direction of the likelihood (correlation matrix of the
      unconstrained estimates close to singular, or an unconstrained standard error so
      large the data say nothing);
    * ``multiple_starts``: optimizer starts ending more than 1e-3 apart in log density.
``laplace``
    ``converged``, ``hessian``, ``multiple_starts`` and, when the engine reports it,
    ``pareto_k``: the Pareto-smoothed importance-sampling shape of the approximation
    above 0.7 (Vehtari et al. 2024).
every method
    the family's own checks, :class:`ModelCheck` objects returned by the model's
    :meth:`~pystats.model.Model.check_fit` hook (e.g. ETAS ``branching_ratio``: a
    supercritical, explosive fitted process).

References
----------
Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021).
Rank-normalization, folding, and localization: an improved R-hat for assessing convergence
of MCMC. Bayesian Analysis, 16(2), 667-718. https://doi.org/10.1214/20-BA1221

Betancourt, M. (2016). Diagnosing suboptimal cotangent disintegrations in Hamiltonian Monte
Carlo. arXiv:1604.00695.

Betancourt, M. (2017). A conceptual introduction to Hamiltonian Monte Carlo.
arXiv:1701.02434.

Vehtari, A., Simpson, D., Gelman, A., Yao, Y. and Gabry, J. (2024). Pareto smoothed
importance sampling. Journal of Machine Learning Research, 25(72), 1-58.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._warnings import warn as _warn
from .errors import ConvergenceWarning
from .summary import rhat_text

if TYPE_CHECKING:
    from .fit import Fit

__all__ = ["Check", "Diagnostics", "ModelCheck", "Problem", "diagnose", "e_bfmi", "run_checks"]

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100
EBFMI_MIN = 0.3
PARETO_K_MAX = 0.7
OPTIMA_TOL = 1e-3
FLAT_CORR_EIG_MIN = 1e-8
FLAT_LOG_SD_MAX = 100.0
FLAT_SD_REL_MAX = 1e6
BOUND_REL_TOL = 1e-8

@dataclass(frozen=True)
class Problem:
    """One failed check.

    Attributes
    ----------
    check : str
        Name of the check (``"r_hat"``, ``"divergences"``, ``"hessian"``, ...).
    message : str
        What was found and what to try.
    severity : {"warning", "error"}
        ``"error"``: the results should not be used as they are (R-hat, divergences,
        non-converged optimizer, no covariance); ``"warning"``: usable with care.

    Examples
    --------
    A fit whose checks all pass has no problems; each failed check adds one:

    >>> import pystats
    >>> from pystats.diagnostics import Problem
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> pystats.GutenbergRichter(mc=2.0).fit(m).diagnose().problems
    ()
    >>> problem = Problem("r_hat", "R-hat of b is 1.08 (> 1.01): run longer chains", "error")
    >>> problem.check, problem.severity
    ('r_hat', 'error')
    """

    check: str
    message: str
    severity: str = "warning"


@dataclass(frozen=True)
class Check:
    """Outcome of one check.

    Attributes
    ----------
    name : str
        Check name.
    label : str
        Short human name (``"R-hat"``).
    passed : bool or None
        ``None`` when the check could not be run (the verdict says why).
    verdict : str
        Plain-language verdict, e.g. ``"all <= 1.01 (max 1.003) — chains agree"``.
    value : float or None
        The statistic compared with ``threshold`` (max R-hat, min ESS, count, ...).
    threshold : float or None
        The limit used.

    Examples
    --------
    >>> import pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> check = pystats.GutenbergRichter(mc=2.0).fit(m).diagnose().checks["hessian"]
    >>> check.label, check.passed
    ('Hessian', True)
    >>> check.verdict  # doctest: +ELLIPSIS
    'negative definite at the optimum...'
    """

    name: str
    label: str
    passed: bool | None
    verdict: str
    value: float | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class ModelCheck:
    """A family-specific check, returned by :meth:`pystats.model.Model.check_fit`.

    Attributes
    ----------
    name, label, passed, verdict, value, threshold
        As in :class:`Check`.
    problem : str
        What was found and what to try, when ``passed`` is false (default: the verdict).
    severity : {"warning", "error"}
        As in :class:`Problem`.

    Examples
    --------
    What :meth:`pystats.ETAS.check_fit` returns for a supercritical fit:

    >>> from pystats.diagnostics import ModelCheck
    >>> check = ModelCheck("branching_ratio", "Branching ratio", False, "1.62 >= 1", 1.62, 1.0)
    >>> check.passed, check.severity
    (False, 'warning')
    """

    name: str
    label: str
    passed: bool | None
    verdict: str
    value: float | None = None
    threshold: float | None = None
    problem: str = ""
    severity: str = "warning"


@dataclass(frozen=True)
class Diagnostics:
    """Result of :func:`diagnose`.

    Attributes
    ----------
    method : str
        Inference method of the fit.
    problems : tuple of Problem
        One per failed check (empty when all passed).
    checks : dict
        Check name -> :class:`Check`, in the order run.

    Examples
    --------
    >>> import pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> diagnostics = pystats.GutenbergRichter(mc=2.0).fit(m).diagnose()
    >>> diagnostics.ok, diagnostics.method, diagnostics.problems
    (True, 'mle', ())
    >>> print(diagnostics)  # doctest: +ELLIPSIS
    Diagnostics (method=mle): all checks passed
      [ok]   Optimizer: converged ...
      [ok]   Hessian: negative definite at the optimum ...
    ...
    >>> diagnostics.to_frame().loc["hessian", "passed"]
    True
    """

    method: str
    problems: tuple[Problem, ...] = ()
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        """One row per check: ``label, passed, value, threshold, verdict, severity``."""
        severity = {p.check: p.severity for p in self.problems}
        rows = [
            {
                "check": c.name,
                "label": c.label,
                "passed": c.passed,
                "value": np.nan if c.value is None else float(c.value),
                "threshold": np.nan if c.threshold is None else float(c.threshold),
                "verdict": c.verdict,
                "severity": severity.get(c.name, ""),
            }
            for c in self.checks.values()
        ]
        columns = ["check", "label", "passed", "value", "threshold", "verdict", "severity"]
        return pd.DataFrame(rows, columns=columns).set_index("check")

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"Diagnostics (method={self.method}): " + (
            "all checks passed" if n == 0 else f"{n} problem{'s' if n > 1 else ''}"
        )
        lines = [head]
        for c in self.checks.values():
            tag = {True: "[ok]  ", False: "[FAIL]", None: "[n/a] "}[c.passed]
            lines.append(f"  {tag} {c.label}: {c.verdict}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """HTML list of verdicts, green for passed checks and red for failed ones (escaped)."""
        items = []
        for c in self.checks.values():
            cls = {True: "pass", False: "fail", None: "na"}[c.passed]
            mark = {True: "&#10004;", False: "&#10008;", None: "&ndash;"}[c.passed]
            items.append(
                f"<li class='diag-{cls}'><span class='diag-mark'>{mark}</span> "
                f"<b>{html.escape(c.label)}</b>: {html.escape(c.verdict)}</li>"
            )
        return "<ul class='pystats-diagnostics'>" + "".join(items) + "</ul>"


# ---------------------------------------------------------------------- helpers
def _names(names: list[str], limit: int = 5) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def _fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return str(v)
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return f"{v:.4g}"
    return f"{v:.3e}"


class _Collector:
    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}
        self.problems: list[Problem] = []

    def add(
        self,
        name: str,
        label: str,
        passed: bool | None,
        verdict: str,
        *,
        value: float | None = None,
        threshold: float | None = None,
        problem: str = "",
        severity: str = "warning",
    ) -> None:
        self.checks[name] = Check(name, label, passed, verdict, value, threshold)
        if passed is False:
            self.problems.append(Problem(name, problem or f"{label}: {verdict}", severity))


def e_bfmi(energy: np.ndarray) -> np.ndarray:
    """Energy Bayesian fraction of missing information of each chain (Betancourt 2016).

    Parameters
    ----------
    energy : ndarray
        Hamiltonian energy at each draw, shape ``(chain, draw)``.

    Returns
    -------
    ndarray
        ``mean(diff(E)^2) / var(E)`` per chain (the estimator used by Stan and arviz).
    """
    e = np.asarray(energy, dtype=float)
    if e.ndim == 1:
        e = e[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.square(np.diff(e, axis=1)).mean(axis=1) / np.var(e, axis=1)


# ---------------------------------------------------------------------- NUTS
def _nuts_checks(fit: Fit, table: pd.DataFrame, out: _Collector) -> None:
    params = table[table["kind"] == "parameter"]
    n_chains = max(fit.n_chains, 1)
    first = next(iter(fit.draws.values()))
    n_total = int(first.shape[0] * first.shape[1])

    rhat = params["r_hat"].to_numpy(dtype=float)
    bad = [n for n, r in zip(params.index, rhat, strict=True) if not (r <= RHAT_MAX)]
    finite = rhat[np.isfinite(rhat)]
    rmax = float(finite.max()) if finite.size else math.nan
    if fit.n_chains < 2:
        out.add("r_hat", "R-hat", None,
                f"not computable from {fit.n_chains} chain (R-hat compares chains; run at "
                "least 2, preferably 4)")
    elif not bad:
        out.add("r_hat", "R-hat", True,
                f"all <= {RHAT_MAX} (max {rhat_text(rmax, RHAT_MAX)}) — chains agree",
                value=rmax, threshold=RHAT_MAX)
    else:
        nan_names = [n for n, r in zip(params.index, rhat, strict=True) if not np.isfinite(r)]
        detail = f"max {rhat_text(rmax, RHAT_MAX)}" if finite.size else "not computable"
        if nan_names:
            detail += f"; not computable (non-finite or constant draws) for {_names(nan_names)}"
        out.add(
            "r_hat", "R-hat", False,
            f"{len(bad)} of {len(rhat)} above {RHAT_MAX} ({detail}) — chains disagree",
            value=rmax, threshold=RHAT_MAX, severity="error",
            problem=(
                f"R-hat above {RHAT_MAX} for {_names(bad)} ({detail}): the chains have not "
                "converged to the same distribution. Run longer (more warmup and draws), "
                "check for multimodality, or reparameterise the model."
            ),
        )

    threshold = ESS_PER_CHAIN_MIN * n_chains
    for col, label, use in (
        ("ess_bulk", "ESS bulk", "means and medians"),
        ("ess_tail", "ESS tail", "interval bounds"),
    ):
        ess = params[col].to_numpy(dtype=float)
        low = [n for n, e in zip(params.index, ess, strict=True) if not (e >= threshold)]
        finite = ess[np.isfinite(ess)]
        emin = float(finite.min()) if finite.size else math.nan
        if not low:
            out.add(col, label, True,
                    f"all >= {threshold} ({ESS_PER_CHAIN_MIN} per chain; min {emin:.0f}) — "
                    f"enough effective draws for {use}", value=emin, threshold=threshold)
        else:
            out.add(
                col, label, False,
                f"{len(low)} of {len(ess)} below {threshold} (min {emin:.0f}) — "
                f"too few effective draws for {use}",
                value=emin, threshold=threshold,
                problem=(
                    f"{label} below {threshold} ({ESS_PER_CHAIN_MIN} per chain) for "
                    f"{_names(low)} (min {emin:.0f}): {use} are imprecise. Draw more "
                    "iterations, or reparameterise to reduce autocorrelation."
                ),
            )

    stats = fit.sample_stats
    if "diverging" in stats:
        n_div = int(np.asarray(stats["diverging"]).astype(bool).sum())
        pct = 100.0 * n_div / max(n_total, 1)
        if n_div == 0:
            out.add("divergences", "Divergences", True,
                    f"none in {n_total} draws — no sign of regions the sampler cannot explore",
                    value=0, threshold=0)
        else:
            out.add(
                "divergences", "Divergences", False,
                f"{n_div} of {n_total} draws ({pct:.2g}%) — the sampler missed part of the "
                "posterior", value=n_div, threshold=0, severity="error",
                problem=(
                    f"{n_div} divergent transitions ({pct:.2g}% of {n_total} draws): the "
                    "posterior has regions of high curvature the sampler cannot explore, so "
                    "estimates may be biased. Increase adapt_delta (e.g. 0.95 or 0.99) or "
                    "reparameterise (e.g. non-centred)."
                ),
            )
    else:
        out.add("divergences", "Divergences", None, "not available (no 'diverging' statistic)")

    if "tree_depth" in stats:
        depth = np.asarray(stats["tree_depth"])
        n_sat = int((depth >= fit.max_tree_depth).sum())
        pct = 100.0 * n_sat / max(n_total, 1)
        if n_sat == 0:
            out.add("tree_depth", "Tree depth", True,
                    f"no draw hit the limit {fit.max_tree_depth} — trajectories ended naturally",
                    value=0, threshold=fit.max_tree_depth)
        else:
            out.add(
                "tree_depth", "Tree depth", False,
                f"{n_sat} of {n_total} draws ({pct:.2g}%) hit the limit "
                f"{fit.max_tree_depth} — sampling is inefficient",
                value=n_sat, threshold=fit.max_tree_depth,
                problem=(
                    f"{n_sat} draws ({pct:.2g}%) hit the maximum tree depth "
                    f"{fit.max_tree_depth}: the sampler is working hard and may explore "
                    "poorly. Raise max_tree_depth, or reparameterise to reduce posterior "
                    "correlations and scale differences."
                ),
            )
    else:
        out.add("tree_depth", "Tree depth", None, "not available (no 'tree_depth' statistic)")

    if "energy" in stats:
        bfmi = e_bfmi(np.asarray(stats["energy"]))
        low = [i for i, b in enumerate(bfmi) if not (b >= EBFMI_MIN)]
        bmin = float(np.nanmin(bfmi)) if np.any(np.isfinite(bfmi)) else math.nan
        if not low:
            out.add("e_bfmi", "E-BFMI", True,
                    f"all chains >= {EBFMI_MIN} (min {bmin:.2f}) — momentum resampling "
                    "explores the energy well", value=bmin, threshold=EBFMI_MIN)
        else:
            chains = ", ".join(str(i) for i in low)
            out.add(
                "e_bfmi", "E-BFMI", False,
                f"chain(s) {chains} below {EBFMI_MIN} (min {bmin:.2f}) — poor exploration of "
                "the energy distribution", value=bmin, threshold=EBFMI_MIN,
                problem=(
                    f"E-BFMI below {EBFMI_MIN} in chain(s) {chains} (min {bmin:.2f}): the "
                    "sampler explores the posterior's tails poorly (often heavy tails or "
                    "funnels). Reparameterise the model, or run more warmup."
                ),
            )
    else:
        out.add("e_bfmi", "E-BFMI", None, "not available (no 'energy' statistic)")


# ---------------------------------------------------------------------- optimisation
def _converged_check(fit: Fit, out: _Collector) -> None:
    opt = fit.optimizer
    if "converged" not in opt:
        out.add("converged", "Optimizer", None, "not reported by the engine")
        return
    msg = str(opt.get("message", "") or "")
    grad = opt.get("grad_norm")
    extra = f" (gradient norm {_fmt(float(grad))})" if grad is not None else ""
    if bool(opt["converged"]):
        out.add("converged", "Optimizer", True, f"converged{extra}")
    else:
        reason = f": {msg}" if msg else ""
        out.add(
            "converged", "Optimizer", False, f"did not converge{extra}{reason}",
            severity="error",
            problem=(
                f"The optimizer did not converge{extra}{reason}. The estimate is not an "
                "optimum: try more starts (n_starts), better initial values, rescaling the "
                "data, or method='nuts'."
            ),
        )


def _hessian_check(fit: Fit, out: _Collector) -> None:
    pd_flag = fit.optimizer.get("hessian_pd")
    cov_u = fit.cov_unconstrained
    if pd_flag is None:
        if cov_u is None:
            pd_flag = False
        else:
            with np.errstate(invalid="ignore"):
                ok = np.all(np.isfinite(cov_u))
                pd_flag = bool(ok and np.all(np.linalg.eigvalsh(0.5 * (cov_u + cov_u.T)) > 0))
    if pd_flag and cov_u is not None:
        out.add("hessian", "Hessian", True,
                "negative definite at the optimum — standard errors are available")
    else:
        out.add(
            "hessian", "Hessian", False,
            "not negative definite at the optimum — no valid covariance", severity="error",
            problem=(
                "The Hessian of the log density is not negative definite at the optimum, so "
                "standard errors and intervals are unavailable or wrong. The point may be a "
                "saddle or lie in a flat ridge (a parameter not identified by the data): try "
                "other starts, fix or reparameterise parameters, add priors (method='map'), "
                "or use method='nuts'."
            ),
        )


def _boundary_check(fit: Fit, out: _Collector) -> None:
    reported = [str(n) for n in (fit.optimizer.get("at_boundary") or ())]
    found: list[str] = []
    if fit.point is not None:
        x = fit.parameters.flatten(fit.point)
        start = 0
        labels = fit.parameters.element_names()
        for p in fit.parameters:
            for i in range(start, start + p.size):
                for bound in (p.lower, p.upper):
                    if math.isfinite(bound) and abs(x[i] - bound) <= BOUND_REL_TOL * max(
                        1.0, abs(bound)
                    ):
                        found.append(labels[i])
            start += p.size
    names = list(dict.fromkeys([*reported, *found]))
    if not names:
        out.add("boundary", "Bounds", True, "no estimate at a bound of its support")
        return
    out.add(
        "boundary", "Bounds", False, f"{_names(names)} at or near a bound",
        value=len(names),
        problem=(
            f"Estimate(s) of {_names(names)} at or near a bound of the support: the "
            "asymptotic-normal standard errors and intervals are unreliable there. Consider "
            "whether the model is too complex for the data, a profile likelihood, or "
            "method='nuts'."
        ),
    )


def _flat_check(fit: Fit, out: _Collector) -> None:
    cov_u = fit.cov_unconstrained
    flagged: list[str] = [str(n) for n in (fit.optimizer.get("flat_directions") or ())]
    if cov_u is None or not np.all(np.isfinite(cov_u)):
        if flagged:
            _flat_result(out, flagged, math.nan)
        else:
            out.add("flat", "Flat directions", None, "not checked (no finite covariance)")
        return
    cov_u = 0.5 * (np.asarray(cov_u, dtype=float) + np.asarray(cov_u, dtype=float).T)
    labels = fit.parameters.element_names()
    sd = np.sqrt(np.clip(np.diag(cov_u), 0.0, None))
    u = fit.parameters.unconstrain(fit.point) if _interior(fit) else None
    start = 0
    for p in fit.parameters:
        bounded = math.isfinite(p.lower) or math.isfinite(p.upper)
        for i in range(start, start + p.size):
            if bounded and sd[i] > FLAT_LOG_SD_MAX:
                flagged.append(labels[i])
            elif not bounded and u is not None and sd[i] > FLAT_SD_REL_MAX * max(1.0, abs(u[i])):
                flagged.append(labels[i])
        start += p.size
    min_eig = math.nan
    if sd.size > 1 and np.all(sd > 0):
        corr = cov_u / np.outer(sd, sd)
        eig, vec = np.linalg.eigh(corr)
        min_eig = float(eig[0])
        if min_eig < FLAT_CORR_EIG_MIN:
            load = np.abs(vec[:, 0])
            flagged += [labels[i] for i in np.argsort(-load) if load[i] > 0.3]
    _flat_result(out, list(dict.fromkeys(flagged)), min_eig)


def _flat_result(out: _Collector, flagged: list[str], min_eig: float) -> None:
    if not flagged:
        out.add("flat", "Flat directions", True,
                "none — every parameter is determined by the data",
                value=min_eig, threshold=FLAT_CORR_EIG_MIN)
        return
    out.add(
        "flat", "Flat directions", False,
        f"the log density is nearly flat along {_names(flagged)}",
        value=min_eig, threshold=FLAT_CORR_EIG_MIN,
        problem=(
            f"The log density is nearly flat along {_names(flagged)} (huge standard error "
            "or near-singular correlation): these parameters, or a combination of them, are "
            "barely identified by the data. Fix one of them, reparameterise, add informative "
            "priors (method='map' or 'nuts'), or collect more data."
        ),
    )


def _interior(fit: Fit) -> bool:
    try:
        fit.parameters.unconstrain(fit.point)
    except ValueError:
        return False
    return True


def _starts_check(fit: Fit, out: _Collector) -> None:
    optima = fit.optimizer.get("optima")
    pilot = fit.optimizer.get("pilot")
    where = ""
    if (optima is None or np.size(optima) < 2) and pilot and np.size(pilot.get("optima")) >= 2:
        # the starts ran on a pilot problem (Model.pilot): compare them there
        optima, where = pilot["optima"], f" on the pilot ({pilot.get('description', '')})"
    if optima is None or np.size(optima) < 2:
        out.add("multiple_starts", "Optimizer starts", None,
                "a single start (nothing to compare; use n_starts > 1)")
        return
    vals = np.asarray(optima, dtype=float).ravel()
    ok = np.isfinite(vals)
    if not np.any(ok):
        out.add("multiple_starts", "Optimizer starts", False, "no start reached a finite optimum",
                severity="error",
                problem="No optimizer start reached a finite log density; check the data "
                "and initial values.")
        return
    best = vals[ok].max()
    gap = best - vals
    far = int(np.sum(~ok | (gap > OPTIMA_TOL)))
    worst = float(np.max(np.where(ok, gap, np.inf)))
    if far == 0:
        out.add("multiple_starts", "Optimizer starts", True,
                f"all {vals.size} starts agree within {OPTIMA_TOL:g} in log density{where}",
                value=worst, threshold=OPTIMA_TOL)
        return
    out.add(
        "multiple_starts", "Optimizer starts", False,
        f"{far} of {vals.size} starts ended lower (by up to {_fmt(worst)}){where} — several "
        "optima",
        value=worst, threshold=OPTIMA_TOL,
        problem=(
            f"{far} of {vals.size} optimizer starts ended at a lower log density than the "
            f"best (by up to {_fmt(worst)}); the best was kept, but the log density may be "
            "multimodal. Use more starts (n_starts) and compare, or use method='nuts'."
        ),
    )


def _pareto_check(fit: Fit, out: _Collector) -> None:
    if "pareto_k" not in fit.optimizer:
        return
    k = float(fit.optimizer["pareto_k"])
    if k <= PARETO_K_MAX:
        out.add("pareto_k", "Pareto k", True,
                f"{k:.2f} <= {PARETO_K_MAX} — the Laplace approximation is adequate",
                value=k, threshold=PARETO_K_MAX)
    else:
        out.add(
            "pareto_k", "Pareto k", False,
            f"{k:.2f} > {PARETO_K_MAX} — the Laplace approximation is unreliable",
            value=k, threshold=PARETO_K_MAX,
            problem=(
                f"Pareto k = {k:.2f} > {PARETO_K_MAX}: the normal approximation at the mode "
                "differs strongly from the posterior (skewed or heavy tails). Use "
                "method='nuts'."
            ),
        )


# ---------------------------------------------------------------------- entry points
def run_checks(fit: Fit, table: pd.DataFrame | None = None) -> Diagnostics:
    """Run the checks for ``fit``'s method without warning.

    Parameters
    ----------
    fit : Fit
        Any fit.
    table : DataFrame, optional
        ``summary_table(fit)`` if already computed (saves recomputing R-hat and ESS).

    Returns
    -------
    Diagnostics
    """
    out = _Collector()
    if fit.method == "nuts":
        if not fit.draws:
            out.add("draws", "Draws", False, "the fit holds no draws", severity="error",
                    problem="The NUTS fit holds no draws.")
        else:
            if table is None or "r_hat" not in table.columns:
                from .summary import _table

                table = _table(fit, 0.9, False)
            _nuts_checks(fit, table, out)
    else:
        _converged_check(fit, out)
        _hessian_check(fit, out)
        if fit.method in ("mle", "map"):
            _boundary_check(fit, out)
            _flat_check(fit, out)
        _starts_check(fit, out)
        if fit.method == "laplace":
            _pareto_check(fit, out)
    for c in fit.model.check_fit(fit):
        out.add(c.name, c.label, c.passed, c.verdict, value=c.value, threshold=c.threshold,
                problem=c.problem, severity=c.severity)
    return Diagnostics(fit.method, tuple(out.problems), out.checks)


def diagnose(fit: Fit, warn: bool = True) -> Diagnostics:
    """Convergence and reliability diagnostics of ``fit``.

    Parameters
    ----------
    fit : Fit
        Any fit.
    warn : bool
        Issue a :class:`~pystats.errors.ConvergenceWarning` listing the problems, if any.

    Returns
    -------
    Diagnostics
        Per-check verdicts (``str(d)`` prints them) and the problems found.

    Warns
    -----
    ConvergenceWarning
        When ``warn`` is true and a check failed.
    """
    result = fit._diagnostics()  # computed once per fit (run_checks), then cached
    if warn and result.problems:
        _warn(warning_message(fit, result), ConvergenceWarning)
    return result


def warning_message(fit: Fit, result: Diagnostics) -> str:
    """The text of the :class:`ConvergenceWarning` for ``result``."""
    n = len(result.problems)
    lines = [
        f"{type(fit.model).__name__} fit (method={fit.method!r}, backend={fit.backend!r}) "
        f"failed {n} diagnostic check{'s' if n > 1 else ''}:"
    ]
    lines += [f"  {i}. [{p.severity}] {p.message}" for i, p in enumerate(result.problems, 1)]
    lines.append("See fit.diagnose() for every check and fit.report(path) for plots.")
    return "\n".join(lines)

