"""Marginal likelihoods by bridge sampling, for Bayes factors between models of the same data.

:func:`log_marginal_likelihood` takes a NUTS fit of any family and returns
``log p(y) = log ∫ p(y | θ) p(θ) dθ`` with an approximate error; :func:`bridge_sampling`
is the algorithm on its own (a log density and posterior draws on an unconstrained scale).

Method (Meng & Wong 1996; Gronau et al. 2017, the R package ``bridgesampling``): the draws
of each chain are split in half.  A multivariate normal ``g`` is fitted (mean and covariance)
to the first halves on the unconstrained scale (the warp-free normal proposal of Overstall &
Forster 2010); the second halves (``N1`` draws) and ``N2`` draws from ``g`` enter the
iterative estimator

``r ← [1/N2 Σ_j ℓ2_j / (s1 ℓ2_j + s2 r)] / [1/N1 Σ_i 1 / (s1 ℓ1_i + s2 r)]``,

``ℓ = q/g`` with ``q`` the unnormalised posterior density (likelihood × prior × Jacobian of
the constraining transform), ``s1 = N1/(N1+N2)``, ``s2 = N2/(N1+N2)``, iterated on the log
scale until ``log r`` changes by less than ``tol``.  Its error is the relative mean-squared
error of Frühwirth-Schnatter (2004, eq. 15), with the posterior term inflated by the
autocorrelation of the draws (divided by their effective sample size instead of ``N1``):
``error = sqrt(RE²)`` is approximately the standard error of ``log p(y)``.

Where it is well defined
------------------------
The log density must be *normalised*: every prior and likelihood term with all its
constants, and the log-Jacobian of the transform to the unconstrained scale.

* Improper priors (flat, Jeffreys) make ``p(y)`` arbitrary: a family that declares such
  priors (:meth:`pystats.model.Model.improper_priors`) is refused.
* Stan's ``~`` statements and ``*_lupdf`` / ``*_lupmf`` calls drop constants
  (``log_prob`` is ``propto=true`` for them), so a program using them gives ``log p(y)``
  shifted by the dropped constants.  A Bayes factor is then still right only if both models
  drop the same constants; pystats warns (:class:`BridgeSamplingWarning`) and names the
  statements (:func:`dropped_constant_statements`).  Write ``target += *_lpdf(...)``.
* Priors truncated by parameter bounds without the ``*_lcdf`` normalisation are short of
  one by the prior mass outside the bounds (negligible when the bounds are far in the tails).

References
----------
Frühwirth-Schnatter, S. (2004). Estimating marginal likelihoods for mixture and Markov
switching models using bridge sampling techniques. The Econometrics Journal 7(1), 143-167.
https://doi.org/10.1111/j.1368-423X.2004.00125.x

Gronau, Q. F., Sarafoglou, A., Matzke, D., Ly, A., Boehm, U., Marsman, M., Leslie, D. S.,
Forster, J. J., Wagenmakers, E.-J. and Steingroever, H. (2017). A tutorial on bridge
sampling. Journal of Mathematical Psychology 81, 80-97.
https://doi.org/10.1016/j.jmp.2017.09.005

Meng, X.-L. and Wong, W. H. (1996). Simulating ratios of normalizing constants via a simple
identity: a theoretical exploration. Statistica Sinica 6(4), 831-860.

Overstall, A. M. and Forster, J. J. (2010). Default Bayesian model determination methods
for generalised linear mixed models. Computational Statistics & Data Analysis 54(12),
3269-3288. https://doi.org/10.1016/j.csda.2010.03.008
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import logsumexp

from ._warnings import warn as _warn
from .errors import FitError, MethodNotSupportedError, OptionError, PystatsWarning

if TYPE_CHECKING:
    from .fit import Fit

__all__ = [
    "BridgeResult",
    "BridgeSamplingWarning",
    "bridge_sampling",
    "dropped_constant_statements",
    "log_marginal_likelihood",
    "unconstrained_draws",
]

MAX_ERROR = 0.1
"""Default largest approximate standard error of ``log p(y)`` before a warning (a Bayes
factor known to about ±10 %)."""


class BridgeSamplingWarning(PystatsWarning):
    """A bridge-sampling estimate is unreliable: the iteration did not converge, its error
    is large, or the log density drops normalising constants.

    Examples
    --------
    >>> import pystats
    >>> from pystats.bridge import BridgeSamplingWarning
    >>> issubclass(BridgeSamplingWarning, pystats.PystatsWarning)
    True
    """


@dataclass(frozen=True)
class BridgeResult:
    """Result of :func:`bridge_sampling` / :func:`log_marginal_likelihood`.

    Attributes
    ----------
    log_marginal_likelihood : float
        Estimate of ``log p(y)``.
    error : float
        Approximate standard error of it: ``sqrt`` of the relative mean-squared error of
        ``p(y)`` (Frühwirth-Schnatter 2004).
    relative_mse : float
        That relative mean-squared error.
    iterations : int
        Iterations of the Meng–Wong scheme.
    converged : bool
        Whether ``log r`` changed by less than ``tol`` before ``maxiter``.
    n_posterior, n_proposal : int
        Posterior draws in the estimator (``N1``) and proposal draws (``N2``).
    ess_posterior : float
        Effective sample size of the posterior term (it sets the error's second part).
    notes : tuple of str
        Caveats (dropped constants, undeclared priors, ...).

    Examples
    --------
    >>> r = BridgeResult(-12.5, 0.01, 1e-4, 7, True, 2000, 2000, 1800.0)
    >>> float(r), r.error
    (-12.5, 0.01)
    """

    log_marginal_likelihood: float
    error: float
    relative_mse: float
    iterations: int
    converged: bool
    n_posterior: int
    n_proposal: int
    ess_posterior: float
    notes: tuple[str, ...] = ()

    def __float__(self) -> float:
        return float(self.log_marginal_likelihood)


def _mvn_logpdf(x: np.ndarray, mean: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Log density of N(mean, L Lᵀ) at the rows of ``x``."""
    from scipy.linalg import solve_triangular

    z = solve_triangular(chol, (x - mean).T, lower=True)
    half_logdet = float(np.sum(np.log(np.diag(chol))))
    return -0.5 * np.sum(z * z, axis=0) - half_logdet - 0.5 * mean.size * math.log(2 * math.pi)


def _ess(values: np.ndarray) -> float:
    """Effective sample size of ``values`` shaped ``(chain, draw)`` (arviz's ``ess``)."""
    from .arviz_io import import_arviz

    if values.shape[1] < 4 or np.ptp(values) == 0:
        return float(values.size)
    return float(import_arviz().ess(np.asarray(values, dtype=float), method="mean"))


def bridge_sampling(
    log_density: Callable[[np.ndarray], np.ndarray],
    draws: np.ndarray,
    *,
    n_proposal: int | None = None,
    seed: int | np.random.Generator | None = None,
    tol: float = 1e-10,
    maxiter: int = 1000,
    max_error: float = MAX_ERROR,
    notes: tuple[str, ...] = (),
) -> BridgeResult:
    """Log normalising constant of ``exp(log_density)`` by iterative bridge sampling.

    Parameters
    ----------
    log_density : callable
        Rows ``(n, dim)`` -> ``(n,)``: the *normalised* log prior + log likelihood + log
        Jacobian on the scale of ``draws`` (``-inf`` outside the support).
    draws : ndarray
        Posterior draws on that scale, ``(chain, draw, dim)`` (or ``(draw, dim)``: one
        chain).  The first half of each chain fits the normal proposal, the second half
        enters the estimator.
    n_proposal : int, optional
        Proposal draws ``N2`` (default: as many as the posterior draws used, ``N1``).
    seed : int or numpy Generator, optional
        For the proposal draws.
    tol : float
        Convergence tolerance on ``log r`` (the estimate of ``log p(y)``).
    maxiter : int
        Iteration limit.
    max_error : float
        Warn when the approximate standard error of ``log p(y)`` exceeds it.
    notes : tuple of str
        Caveats to carry into the result.

    Returns
    -------
    BridgeResult

    Raises
    ------
    OptionError
        For draws of the wrong shape or too few of them.
    FitError
        When the log density is not finite at a posterior draw (the density does not belong
        to these draws) or the proposal covariance is singular.

    Warns
    -----
    BridgeSamplingWarning
        If the iteration did not converge or the error exceeds ``max_error``.

    Examples
    --------
    The normalising constant of ``exp(-x²/2)`` is ``sqrt(2π)``:

    >>> import math
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> draws = rng.standard_normal((4, 500, 1))
    >>> r = bridge_sampling(lambda u: -0.5 * u[:, 0] ** 2, draws, seed=2)
    >>> round(r.log_marginal_likelihood, 4), round(0.5 * math.log(2 * math.pi), 4), r.converged
    (0.9189, 0.9189, True)
    >>> r.error < 0.01, r.n_posterior  # the second halves of the chains
    (True, 1000)
    """
    arr = np.asarray(draws, dtype=float)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise OptionError(f"draws has shape {np.shape(draws)}; expected (chain, draw, dim) "
                          "or (draw, dim)")
    chains, n_draw, dim = arr.shape
    half = n_draw // 2
    if dim == 0:
        raise OptionError("draws has no parameters (dim 0): the marginal likelihood is the "
                          "likelihood itself")
    if chains * half < max(20, 2 * dim + 2):
        raise OptionError(f"draws has {chains} chain(s) of {n_draw} draws; bridge sampling "
                          f"needs at least {max(20, 2 * dim + 2)} draws in the second halves "
                          f"of the chains for {dim} parameter(s)")
    if not np.all(np.isfinite(arr)):
        raise OptionError("draws contains non-finite values")
    if not (isinstance(maxiter, int | np.integer) and maxiter >= 1):
        raise OptionError(f"maxiter={maxiter!r} is not allowed; use an integer >= 1")
    if not tol > 0:
        raise OptionError(f"tol={tol!r} is not allowed; use a number > 0")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    fit_part = arr[:, :half].reshape(-1, dim)
    post = arr[:, n_draw - half:]  # (chain, half, dim)
    n1 = chains * half
    n2 = int(n1 if n_proposal is None else n_proposal)
    if n2 < 2:
        raise OptionError(f"n_proposal={n_proposal!r} is not allowed; use an integer >= 2")

    mean = fit_part.mean(axis=0)
    cov = np.atleast_2d(np.cov(fit_part, rowvar=False))
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as e:
        raise FitError("the covariance of the posterior draws (first halves of the chains) is "
                       "singular; a parameter does not vary") from e
    gen = mean + rng.standard_normal((n2, dim)) @ chol.T

    post_flat = post.reshape(-1, dim)
    q11 = np.asarray(log_density(post_flat), dtype=float)
    if q11.shape != (n1,):
        raise OptionError(f"log_density returned shape {q11.shape} for {n1} rows")
    if not np.all(np.isfinite(q11)):
        bad = int(np.sum(~np.isfinite(q11)))
        raise FitError(f"the log density is not finite at {bad} of {n1} posterior draws; it "
                       "is not the density these draws come from")
    q21 = np.asarray(log_density(gen), dtype=float)
    q21 = np.where(np.isnan(q21), -np.inf, q21)  # outside the support
    q12 = _mvn_logpdf(post_flat, mean, chol)
    q22 = _mvn_logpdf(gen, mean, chol)
    l1 = q11 - q12
    l2 = q21 - q22
    ls1, ls2 = math.log(n1 / (n1 + n2)), math.log(n2 / (n1 + n2))

    log_r = float(np.median(l1))
    converged = False
    iterations = 0
    for iterations in range(1, maxiter + 1):  # noqa: B007 - the count is reported
        num = logsumexp(l2 - np.logaddexp(ls1 + l2, ls2 + log_r)) - math.log(n2)
        den = logsumexp(-np.logaddexp(ls1 + l1, ls2 + log_r)) - math.log(n1)
        new = float(num - den)
        if not math.isfinite(new):
            raise FitError("the bridge-sampling iteration diverged (no proposal draw has a "
                           "finite log density)")
        change = abs(new - log_r)
        log_r = new
        if change < tol:
            converged = True
            break

    # Frühwirth-Schnatter (2004): RE² = Var_g(f1)/(N2 E_g(f1)²) + Var_p(f2)/(ESS E_p(f2)²)
    f1 = np.exp((q21 - log_r) - np.logaddexp(ls1 + q21 - log_r, ls2 + q22))
    f2 = np.exp(q12 - np.logaddexp(ls1 + q11 - log_r, ls2 + q12))
    ess = _ess(f2.reshape(chains, half))
    re2 = float(np.var(f1, ddof=1) / (n2 * np.mean(f1) ** 2)
                + np.var(f2, ddof=1) / (ess * np.mean(f2) ** 2))
    error = math.sqrt(re2)
    result = BridgeResult(log_marginal_likelihood=log_r, error=error, relative_mse=re2,
                          iterations=iterations, converged=converged, n_posterior=n1,
                          n_proposal=n2, ess_posterior=ess, notes=tuple(notes))
    if not converged:
        _warn(f"bridge sampling did not converge in {maxiter} iterations (last change of "
              f"log p(y) {change:.3g} > tol={tol:g}); log p(y) = {log_r:.4f} is unreliable",
              BridgeSamplingWarning)
    elif not error <= max_error:
        _warn(f"bridge-sampling error of log p(y) is {error:.3g} (> max_error={max_error:g}): "
              "draw more (or better mixing) posterior samples; the normal proposal may fit "
              "the posterior poorly", BridgeSamplingWarning)
    return result


_LU = re.compile(r"\b\w+_lup[dm]f\s*\(")


def dropped_constant_statements(code: str) -> list[str]:
    """Statements of a Stan program that drop normalising constants.

    ``~`` statements and ``*_lupdf`` / ``*_lupmf`` calls add an unnormalised density to
    ``target`` (Stan Users Guide, "Proportionality constants"); ``target += *_lpdf(...)``
    keeps every constant.

    Parameters
    ----------
    code : str
        Program text (comments are ignored).

    Returns
    -------
    list of str
        The offending statements, stripped, in program order.

    Examples
    --------
    >>> code = '''model {
    ...   y ~ normal(mu, sigma);  // drops -log(sqrt(2 pi))
    ...   target += normal_lpdf(mu | 0, 10);
    ...   target += exponential_lupdf(sigma | 1);
    ... }'''
    >>> dropped_constant_statements(code)
    ['y ~ normal(mu, sigma)', 'target += exponential_lupdf(sigma | 1)']
    """
    from .backends.stan_program import _strip_comments

    out = []
    for statement in _strip_comments(code).split(";"):
        text = " ".join(statement.split())
        text = text.rsplit("{", 1)[-1].rsplit("}", 1)[-1].strip()
        if "~" in text or _LU.search(text):
            out.append(text)
    return out


def log_marginal_likelihood(
    fit: Fit,
    *,
    seed: int | None = None,
    n_proposal: int | None = None,
    tol: float = 1e-10,
    maxiter: int = 1000,
    max_error: float = MAX_ERROR,
    device: str = "cpu",
) -> BridgeResult:
    """Log marginal likelihood ``log p(y)`` of a NUTS fit by bridge sampling.

    The log density is the one the fit's engine sampled (:meth:`Backend.log_density` with
    the prior and the Jacobian, on the unconstrained scale); the draws are the fit's,
    mapped to that scale.  The difference of two fits' values is the log Bayes factor;
    its error is ``sqrt(e1² + e2²)``.

    Parameters
    ----------
    fit : Fit
        A ``method="nuts"`` fit (Laplace draws come from an approximation, not the
        posterior, and MLE/MAP have none).
    seed : int, optional
        For the proposal draws (default: the fit's seed).
    n_proposal, tol, maxiter, max_error
        As in :func:`bridge_sampling`.
    device : str
        Device of the torch engine's log density (other engines ignore it).

    Returns
    -------
    BridgeResult

    Raises
    ------
    MethodNotSupportedError
        For a fit without MCMC draws, or a family whose priors are improper
        (:meth:`pystats.model.Model.improper_priors`).

    Warns
    -----
    BridgeSamplingWarning
        The program drops normalising constants (``~`` statements), the iteration did not
        converge, or the error exceeds ``max_error``.

    Examples
    --------
    >>> import pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(300, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> model = pystats.GutenbergRichter(mc=2.0, rate_prior=(5.7, 1.0))
    >>> fit = model.fit(m, method="nuts", seed=1)  # doctest: +SKIP
    >>> log_marginal_likelihood(fit)  # doctest: +SKIP
    BridgeResult(log_marginal_likelihood=-345.6..., error=0.00..., ...)
    """
    from .backends import get_backend

    if fit.method != "nuts" or not fit.draws:
        raise MethodNotSupportedError(
            f"bridge sampling needs MCMC draws from the posterior (method='nuts'); this fit "
            f"has method={fit.method!r}")
    improper = fit.model.improper_priors(fit.data)
    if improper:
        raise MethodNotSupportedError(
            f"the marginal likelihood is not defined: {type(fit.model).__name__} has improper "
            f"prior(s) on {', '.join(improper)} here; give them proper priors")
    notes: list[str] = []
    if improper is None:
        notes.append(f"{type(fit.model).__name__} does not declare whether its priors are "
                     "proper; log p(y) is meaningful only if they are")
    engine = get_backend(fit.backend)
    program_ref = fit.model.stan_program() if hasattr(engine, "program") else None
    if program_ref is not None:
        dropped = dropped_constant_statements(engine.program(program_ref).code)
        if dropped:
            msg = (f"the Stan program drops normalising constants in {len(dropped)} "
                   f"statement(s) ({'; '.join(dropped[:3])}{'; ...' if len(dropped) > 3 else ''}"
                   "): log p(y) is off by them, and a Bayes factor is right only if both "
                   "models drop the same constants; write target += *_lpdf(...)")
            notes.append(msg)
            _warn(msg, BridgeSamplingWarning)
    density = engine.log_density(fit.model, fit.data, include_prior=True, device=device)
    u = unconstrained_draws(fit)
    return bridge_sampling(
        lambda rows: density.values(rows, True), u,
        n_proposal=n_proposal, tol=tol, maxiter=maxiter, max_error=max_error,
        seed=fit.metadata.get("seed") if seed is None else seed, notes=tuple(notes),
    )


def unconstrained_draws(fit: Fit) -> np.ndarray:
    """The fit's parameter draws on the unconstrained scale, ``(chain, draw, dim)`` in the
    order of ``fit.parameters`` (C order within array parameters).

    Raises
    ------
    FitError
        If a draw lies on a bound (its unconstrained value would be infinite).
    """
    pieces = []
    for p in fit.parameters:
        x = np.asarray(fit.draws[p.name], dtype=float)
        chains, n = x.shape[:2]
        with np.errstate(divide="ignore", invalid="ignore"):
            try:
                u = p.unconstrain(x)
            except OptionError as e:
                raise FitError(f"a draw of {p.name!r} lies on or outside its bounds "
                               f"({p.lower}, {p.upper})") from e
        pieces.append(np.asarray(u, dtype=float).reshape(chains, n, -1))
    return np.concatenate(pieces, axis=-1)

