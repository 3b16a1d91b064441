"""Inference shared by every family: optimisation, Laplace approximation and NUTS.

``Model.fit`` validates its arguments and calls :func:`run`, which

1. resolves the backend (:func:`pystats.backends.resolve_backend`, logged);
2. for ``mle`` / ``map`` / ``laplace`` maximises the backend's :class:`LogDensity` on the
   unconstrained scale with L-BFGS from several starts, takes the Hessian at the optimum
   (exact autograd Hessian for torch, central differences of Stan's gradient otherwise)
   and derives covariances; ``mle`` with ``backend="auto"`` uses the family's closed form
   when it has one;
3. for ``nuts`` runs Stan's sampler;
4. adds the family's derived quantities, builds the immutable :class:`~pystats.fit.Fit`
   and runs :meth:`Fit.diagnose`, which warns (:class:`ConvergenceWarning`) on problems.

Conventions: ``mle`` maximises the likelihood, ``map`` the posterior density of the
constrained parameters (no Jacobian), ``laplace`` the posterior density of the
unconstrained parameters (with the Jacobian), whose Hessian defines the Gaussian
approximation there (as CmdStan's ``laplace`` method does).  The Laplace approximation's
quality is scored with the Pareto-k of importance ratios (Vehtari et al. 2024), from the
first :data:`PARETO_K_DRAWS` Gaussian draws (each costs one evaluation of the log density).

References
----------
Vehtari, A., Simpson, D., Gelman, A., Yao, Y. and Gabry, J. (2024). Pareto smoothed
importance sampling. Journal of Machine Learning Research 25(72), 1-58.
"""

from __future__ import annotations

import datetime as _dt
import logging
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import optimize as _opt

from .backends import get_backend, resolve_backend
from .diagnostics import OPTIMA_TOL, diagnose
from .errors import FitError
from .fit import Fit

if TYPE_CHECKING:
    from .backends.base import LogDensity
    from .model import Model, PreparedData
    from .parameters import ParameterSet

__all__ = ["OptimumResult", "maximize", "run"]

log = logging.getLogger("pystats")

BOUNDARY_U = 12.0
"""|u| beyond which a bounded parameter is reported as at its bound (exp(-12) ~ 6e-6)."""
PRECONDITION_REFRESH = 60
"""BFGS iterations between two Hessian whitenings of a preconditioned optimisation."""
PRECONDITION_DENSE_MAX = 200
"""Largest dimension for dense BFGS in whitened coordinates; above it L-BFGS runs there
(SciPy's dense BFGS update costs O(dim^3) per iteration: ~0.1 s at 490 parameters, more
than the rest of the MORB fit on 456 samples)."""
PRECONDITION_RETRIES = 2
"""Most extra whitenings per start of a preconditioned optimisation after a BFGS line search
failed short of convergence (having improved the objective)."""
PRECONDITION_STOP_DECREMENT = 1e-14
"""A preconditioned round stops at a point that passes the convergence test and whose
Newton decrement in the whitened coordinates, ``|g_w|^2 / 2`` (the log density still to
gain, for an exact whitening), is at most this times ``max(1, |log density|)``: below it
the log density's own rounding dominates, and further BFGS line searches only meet that
(on 1e5-event ETAS fits, log likelihood ~2e5, they spent ~30 evaluations there before
stopping with "precision loss")."""
PARETO_K_DRAWS = 1000
"""Largest number of Laplace draws at which the log density is evaluated for the Pareto-k
diagnostic (the other draws of the fit are unaffected).  Each costs one log-density
evaluation (for ETAS a full likelihood), hence the cap.  It is not lower because k-hat gets
noisy and biased up with fewer draws: Vehtari et al. (2024) trust k-hat only below
``1 - 1/log10(S)`` (0.67 at S = 1000, 0.63 at S = 500, against the 0.7 of ``diagnose``), and on
a normal model whose Laplace approximation is nearly exact, 500 draws gave k-hat > 0.7 in
1.3 % of 150 seeds (a false warning), 1000 and 2000 draws in none."""


@dataclass(frozen=True)
class OptimumResult:
    """Best optimum over several starts.

    Examples
    --------
    >>> import numpy as np
    >>> from pystats.backends.base import LogDensity
    >>> from pystats.inference import maximize
    >>> class Normal(LogDensity):
    ...     dim = 1
    ...     def value_and_grad(self, u, jacobian):
    ...         return -0.5 * float((u[0] - 3.0) ** 2), -(u - 3.0)
    >>> best = maximize(Normal(), [np.zeros(1), np.ones(1)], jacobian=False)
    >>> round(float(best.u[0]), 4), abs(best.log_density) < 1e-9, best.converged
    (3.0, True, True)
    >>> len(best.optima)  # one optimum per start
    2
    """

    u: np.ndarray
    log_density: float
    grad_norm: float
    converged: bool
    message: str
    optima: tuple[float, ...]
    n_evaluations: int


def _random_start(
    model: Model, data: PreparedData, params: ParameterSet, rng: np.random.Generator
) -> np.ndarray:
    try:
        return params.unconstrain(model.initial_values(data, rng))
    except NotImplementedError:
        # Stan's default: uniform(-2, 2) on the unconstrained scale
        return rng.uniform(-2.0, 2.0, size=params.dim)


def maximize(
    density: LogDensity,
    starts: list[np.ndarray],
    *,
    jacobian: bool,
    gtol: float = 1e-6,
    maxiter: int = 2000,
    early_stop: bool = True,
    progress: bool = False,
    label: str = "optimise",
    objective_name: str = "log density",
    precondition: bool = False,
    hessian0: np.ndarray | None = None,
) -> OptimumResult:
    """Maximise ``density`` from the starts with L-BFGS; return the best optimum.

    Starts run in turn; with ``early_stop`` the remaining ones are skipped as soon as two
    starts have reached the best log density found so far (within
    :data:`pystats.diagnostics.OPTIMA_TOL`): a second start confirming the optimum is the
    check multi-start exists for, and further ones would cost as much again (an ETAS fit
    of 37 581 events: ~45 evaluations of 0.3 s per start).

    Parameters
    ----------
    density : LogDensity
        Log density on the unconstrained scale.
    starts : list of ndarray
        Starting points (unconstrained).
    jacobian : bool
        Include the transform's log-Jacobian (``laplace``) or not (``mle``/``map``).
    gtol : float
        Convergence tolerance on the largest gradient component.
    maxiter : int
        Iteration limit per start.
    early_stop : bool
        Stop once two starts agree on the best optimum (see above).
    progress : bool
        Show a progress bar per start on stderr (tqdm): iterations, the current value of
        the objective and the number of evaluations.
    label, objective_name : str
        How the bar names the run (e.g. ``"mle"``) and the objective (e.g. ``"log-lik"``).
    precondition : bool
        Run dense BFGS (L-BFGS above :data:`PRECONDITION_DENSE_MAX` parameters) in
        coordinates whitened by the Hessian at the start (eigenvalues taken in absolute
        value and floored at 1e-8 of the largest):
        ``u = u0 + V |Λ|^{-1/2} y``, so that BFGS starts from the exact curvature and keeps
        updating all of it; re-whitened where it stands every :data:`PRECONDITION_REFRESH`
        iterations, and where a line search failed short of convergence after improving the
        objective (at most :data:`PRECONDITION_RETRIES` times per start).  A few Hessians buy
        far fewer iterations on ill-conditioned, curved densities (a model's
        :attr:`~pystats.model.Model.precondition_optimizer`; aftershock GP fit of 25 000
        events: ~170 evaluations and 3 Hessians per start, against ~235 evaluations and 7
        Hessians for L-BFGS re-whitened every 30 iterations, whose Hessians cost ~50
        evaluations each at that size; unwhitened L-BFGS took ~1 000-2 000 evaluations).

    Raises
    ------
    FitError
        If the log density is not finite at any start.
    """
    n_eval = 0
    penalty = 1e300

    transform: tuple[np.ndarray, np.ndarray] | None = None  # (u0, S): u = u0 + S y
    last: list[Any] = [None, None]  # the last point evaluated and its (value, gradient)

    def evaluate(u: np.ndarray) -> tuple[float, np.ndarray]:
        """``density.value_and_grad``, not repeated at the point just evaluated (L-BFGS-B
        starts with the point where the previous round, or the start check, stopped)."""
        nonlocal n_eval
        if last[0] is not None and np.array_equal(last[0], u):
            return last[1]
        n_eval += 1
        last[0], last[1] = np.array(u, dtype=float), density.value_and_grad(u, jacobian)
        return last[1]

    def objective(y: np.ndarray) -> tuple[float, np.ndarray]:
        u = y if transform is None else transform[0] + transform[1] @ y
        value, grad = evaluate(u)
        if not np.isfinite(value):
            return penalty, np.zeros_like(y)
        if transform is None:
            return -value, -grad
        g_w = transform[1].T @ grad
        if (0.5 * float(g_w @ g_w) <= PRECONDITION_STOP_DECREMENT * max(1.0, abs(value))
                and _converged(value, grad)):
            raise _Converged(np.array(y, dtype=float), value)
        return -value, -g_w

    results = []
    for i, u0 in enumerate(starts):
        if not np.isfinite(evaluate(np.asarray(u0, dtype=float))[0]):
            if progress:
                _progress_write(f"{label} start {i + 1}/{len(starts)}: {objective_name} is "
                                "not finite at the starting point; skipped")
            continue
        bar = _progress_bar(f"{label} start {i + 1}/{len(starts)}") if progress else None
        u_start, iterations, retries = np.asarray(u0, dtype=float), 0, 0
        whiten = precondition and u_start.size > 0
        callback = (_progress_callback(bar, objective_name, lambda: n_eval)
                    if bar is not None else None)
        try:
            while True:
                start_value = evaluate(u_start)[0]  # cached: the last point evaluated
                if whiten:
                    if hessian0 is not None:
                        h, hessian0 = hessian0, None
                    else:
                        h = density.hessian(u_start, jacobian)
                    transform = (u_start, _whitener(h))
                    rounds = min(PRECONDITION_REFRESH, maxiter - iterations)
                    try:
                        if u_start.size <= PRECONDITION_DENSE_MAX:
                            res = _opt.minimize(
                                objective, np.zeros_like(u_start), jac=True, method="BFGS",
                                options={"maxiter": rounds, "gtol": gtol}, callback=callback,
                            )
                        else:
                            res = _opt.minimize(
                                objective, np.zeros_like(u_start), jac=True,
                                method="L-BFGS-B",
                                options={"maxiter": rounds, "gtol": gtol, "ftol": 1e-13,
                                         "maxcor": 20},
                                callback=callback,
                            )
                    except _Converged as done:
                        res = _opt.OptimizeResult(
                            x=done.y, fun=-done.value, success=True, nit=1,
                            message="converged: Newton decrement in whitened coordinates "
                                    "at the rounding of the log density")
                    res.x = transform[0] + transform[1] @ res.x
                    transform = None
                else:
                    res = _opt.minimize(
                        objective, u_start, jac=True, method="L-BFGS-B",
                        options={"maxiter": maxiter, "gtol": gtol, "ftol": 1e-13,
                                 "maxcor": 20},
                        callback=callback,
                    )
                iterations += int(res.nit)
                if not whiten or res.success or iterations >= maxiter:
                    break
                if res.nit < rounds:  # a failed line search: re-whiten only if it helps
                    if (retries >= PRECONDITION_RETRIES or not -res.fun > start_value
                            or _converged(*evaluate(np.asarray(res.x, dtype=float)))):
                        break
                    retries += 1
                u_start = np.asarray(res.x, dtype=float)  # re-whiten where it stopped
        finally:
            if bar is not None:
                bar.close()
        results.append(res)
        if early_stop and len(results) >= 2:
            values = np.sort([-float(r.fun) for r in results])
            if values[-1] - values[-2] <= OPTIMA_TOL:
                break
    if not results:
        raise FitError(
            "the log density is not finite at any starting point; check the data and the "
            "model options (e.g. magnitudes far below the completeness magnitude)"
        )
    optima = tuple(float(-r.fun) for r in results)
    best = min(results, key=lambda r: r.fun)
    value, grad = evaluate(np.asarray(best.x, dtype=float))
    grad_norm = float(np.max(np.abs(grad))) if grad.size else 0.0
    converged = _converged(value, grad)
    return OptimumResult(
        u=np.asarray(best.x, dtype=float),
        log_density=float(value),
        grad_norm=grad_norm,
        converged=converged,
        message=str(best.message),
        optima=optima,
        n_evaluations=n_eval,
    )


class _Converged(Exception):  # a signal, not an error
    """Raised by a preconditioned objective at a point that is optimal to rounding."""

    def __init__(self, y: np.ndarray, value: float) -> None:
        super().__init__()
        self.y, self.value = y, value


def _converged(value: float, grad: np.ndarray) -> bool:
    """The convergence test of :func:`maximize`: a finite value and a largest gradient
    component below ``max(1e-3, 1e-6 |value|)``."""
    grad_norm = float(np.max(np.abs(grad))) if grad.size else 0.0
    return bool(np.isfinite(value)) and grad_norm < max(1e-3, 1e-6 * abs(value))


def _whitener(hessian: np.ndarray) -> np.ndarray:
    """``S = V |Λ|^{-1/2}`` from the eigen-decomposition of a (possibly indefinite) Hessian."""
    h = 0.5 * (hessian + hessian.T)
    if not np.all(np.isfinite(h)):
        return np.eye(h.shape[0])
    lam, vec = np.linalg.eigh(h)
    mag = np.abs(lam)
    mag = np.maximum(mag, 1e-8 * max(float(mag.max()), 1e-300))
    return vec / np.sqrt(mag)[None, :]


def _progress_bar(desc: str, total: int | None = None) -> Any:
    """A tqdm bar on stderr (the stream at call time, so tests can capture it)."""
    from tqdm import tqdm

    unit = "{n_fmt} iterations" if total is None else "{n_fmt}/{total_fmt}"
    return tqdm(total=total, desc=desc, file=sys.stderr, dynamic_ncols=True, mininterval=0.5,
                bar_format="{desc}: " + unit + " [{elapsed}{postfix}]")


def _progress_callback(bar: Any, objective_name: str, n_eval: Any) -> Any:
    """An L-BFGS callback advancing ``bar`` by one iteration, showing the objective."""

    # scipy passes the current iterate as an OptimizeResult to a sole parameter of this name
    def callback(intermediate_result: Any) -> None:
        bar.update(1)
        bar.set_postfix_str(
            f"{objective_name} {-float(intermediate_result.fun):.10g}, "
            f"{n_eval()} evaluations",
            refresh=False,
        )

    return callback


def _progress_write(text: str) -> None:
    """One line on stderr (through tqdm, so it does not break a running bar)."""
    from tqdm import tqdm

    tqdm.write(text, file=sys.stderr)


def _covariance(neg_hessian: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray]:
    """Inverse of the negative Hessian; PD flag; eigenvalues (ascending)."""
    eig = np.linalg.eigvalsh(neg_hessian) if neg_hessian.size else np.zeros(0)
    pd = bool(eig.size == 0 or eig[0] > 1e-10 * max(1.0, abs(eig[-1])))
    cov = np.linalg.inv(neg_hessian) if pd else np.linalg.pinv(neg_hessian)
    return 0.5 * (cov + cov.T), pd, eig


def _gaussian_draws(
    params: ParameterSet, u: np.ndarray, cov_u: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    return rng.multivariate_normal(u, cov_u, size=n, method="eigh")


def _shape_draws(params: ParameterSet, u_draws: np.ndarray, chains: int) -> dict[str, np.ndarray]:
    """Unconstrained draws ``(n, dim)`` -> constrained dict ``(chains, n/chains, *shape)``."""
    values = params.constrain(u_draws)
    per_chain = u_draws.shape[0] // chains
    return {
        k: np.asarray(v).reshape(chains, per_chain, *np.shape(v)[1:]) for k, v in values.items()
    }


def _pareto_k(log_ratios: np.ndarray) -> float:
    from .arviz_io import import_arviz

    _, k = import_arviz().psislw(log_ratios - np.max(log_ratios))
    return float(np.asarray(k))


def _at_boundary(params: ParameterSet, u: np.ndarray) -> list[str]:
    names = []
    for p, piece in zip(params, params.split(u).values(), strict=True):
        if np.isinf(p.lower) and np.isinf(p.upper):
            continue
        if np.any(np.abs(np.asarray(piece)) > BOUNDARY_U):
            names.append(p.name)
    return names


def _flat_directions(params: ParameterSet, eig_vectors: np.ndarray, small: np.ndarray) -> list[str]:
    elements = params.element_names()
    return sorted(
        {elements[int(np.argmax(np.abs(eig_vectors[:, i])))] for i in np.flatnonzero(small)}
    )


def _pilot_starts(
    model: Model, data: PreparedData, engine: Any, method: str, device: str,
    starts: list[np.ndarray], *, precondition: bool, progress: bool, objective_name: str,
) -> tuple[list[np.ndarray], np.ndarray | None, dict[str, Any] | None]:
    """Run the starts on the model's pilot problem (:meth:`Model.pilot`), if it has one:
    ``(starts for the full data, whitening Hessian or None, report or None)``.  A pilot
    whose log density is not finite at any start is skipped (the full data's starts run)."""
    pilot = model.pilot(data, method)
    if pilot is None:
        return starts, None, None
    jacobian = method == "laplace"
    density = engine.log_density(model, pilot.data, include_prior=method != "mle",
                                 device=device)
    try:
        popt = maximize(density, starts, jacobian=jacobian, progress=progress,
                        precondition=precondition, label=f"{method} (pilot)",
                        objective_name=objective_name)
    except FitError:
        log.info("%s: the pilot (%s) failed; starts run on the full data", method,
                 pilot.description)
        return starts, None, None
    hessian0 = pilot.scale * density.hessian(popt.u, jacobian) if precondition else None
    log.info("%s: starts run on a pilot (%s); %d evaluations", method, pilot.description,
             popt.n_evaluations)
    report = {"description": pilot.description, "optima": popt.optima,
              "n_evaluations": popt.n_evaluations}
    return [popt.u], hessian0, report


def run(
    model: Model,
    data: PreparedData,
    *,
    method: str,
    backend: str,
    device: str,
    seed: int | None,
    chains: int,
    draws: int,
    warmup: int,
    n_starts: int,
    max_tree_depth: int,
    adapt_delta: float,
    verbose: bool,
    progress: bool | None,
) -> Fit:
    """Run inference; see the module docstring.  Called by :meth:`Model.fit`."""
    from . import __version__

    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31 - 1))
    rng = np.random.default_rng(seed)
    params = model.parameters(data)
    started = time.perf_counter()
    metadata: dict[str, Any] = {
        "pystats_version": __version__,
        "family": model.family,
        "method": method,
        "seed": int(seed),
        "device": device,
        "data_hash": data.hash,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    show_progress = sys.stderr.isatty() if progress is None else bool(progress)
    point = cov = cov_u = None
    optimizer: dict[str, Any] = {}
    sample_stats: dict[str, np.ndarray] = {}
    n_total = chains * draws

    closed = model.closed_form(data) if (method == "mle" and backend == "auto") else None
    if closed is not None:
        backend_name = "closed_form"
        point, cov = closed
        u_hat = params.unconstrain(point)
        jac = params.dconstrain(u_hat)
        cov_u = np.asarray(cov) / np.outer(jac, jac)
        pd = bool(np.all(np.linalg.eigvalsh(cov_u) > 0)) if cov_u.size else True
        optimizer = {
            "converged": True,
            "log_density": float("nan"),
            "grad_norm": 0.0,
            "n_starts": 0,
            "optima": (),
            "hessian_pd": pd,
            "at_boundary": _at_boundary(params, u_hat),
            "flat_directions": [],
            "message": "closed-form maximum-likelihood estimate",
        }
        log.info("method='mle' used the closed-form estimator of %s", type(model).__name__)
        draws_u = _gaussian_draws(params, u_hat, cov_u, n_total, rng) if pd else None
        post = _shape_draws(params, draws_u, chains) if draws_u is not None else {}
        metadata.update(engine="closed_form")
    elif method in ("mle", "map", "laplace"):
        backend_name = resolve_backend(method, backend, model)
        engine = get_backend(backend_name)
        density = engine.log_density(model, data, include_prior=method != "mle", device=device)
        jacobian = method == "laplace"
        starts = [_random_start(model, data, params, rng) for _ in range(n_starts)]
        precondition = bool(getattr(model, "precondition_optimizer", False))
        objective_name = "log-lik" if method == "mle" else "log-post"
        starts, hessian0, pilot_report = _pilot_starts(
            model, data, engine, method, device, starts, precondition=precondition,
            progress=show_progress, objective_name=objective_name)
        opt = maximize(density, starts, jacobian=jacobian, progress=show_progress,
                       precondition=precondition, label=method,
                       objective_name=objective_name, hessian0=hessian0)
        if show_progress:
            _progress_write(f"{method}: {opt.log_density:.10g} at the optimum after "
                            f"{opt.n_evaluations} evaluations; computing the Hessian")
        neg_h = -density.hessian(opt.u, jacobian)
        cov_u, pd, _ = _covariance(neg_h)
        evals, evecs = np.linalg.eigh(neg_h) if neg_h.size else (np.zeros(0), np.zeros((0, 0)))
        small = evals <= 1e-8 * max(1.0, float(np.max(np.abs(evals))) if evals.size else 1.0)
        point = params.constrain(opt.u)
        point = {k: np.asarray(v) for k, v in point.items()}
        jac = params.dconstrain(opt.u)
        cov = cov_u * np.outer(jac, jac)
        optimizer = {
            "converged": opt.converged,
            "log_density": opt.log_density,
            "grad_norm": opt.grad_norm,
            "n_starts": len(opt.optima),
            "optima": opt.optima,
            "hessian_pd": pd,
            "at_boundary": _at_boundary(params, opt.u),
            "flat_directions": _flat_directions(params, evecs, small),
            "message": opt.message,
            "n_evaluations": opt.n_evaluations,
            **({"pilot": pilot_report} if pilot_report is not None else {}),
            "objective": {
                "mle": "log likelihood",
                "map": "log posterior (constrained)",
                "laplace": "log posterior (unconstrained, with Jacobian)",
            }[method],
        }
        if method == "mle":
            optimizer["log_likelihood"] = opt.log_density
        post = {}
        if pd:
            draws_u = _gaussian_draws(params, opt.u, cov_u, n_total, rng)
            post = _shape_draws(params, draws_u, chains if method != "laplace" else 1)
            if method == "laplace":
                # importance ratios target / proposal for the Pareto-k diagnostic, from at
                # most PARETO_K_DRAWS draws (one log-density evaluation each)
                n_k = min(n_total, PARETO_K_DRAWS)
                bar = _progress_bar("laplace: Pareto-k draws", n_k) if show_progress else None
                target = density.values(draws_u[:n_k], True)  # one engine call for all
                if bar is not None:
                    bar.update(n_k)
                    bar.close()
                diff = draws_u[: target.size] - opt.u
                prec = np.linalg.inv(cov_u)
                proposal = -0.5 * np.einsum("ij,jk,ik->i", diff, prec, diff)
                finite = np.isfinite(target)
                optimizer["pareto_k"] = _pareto_k(np.where(finite, target - proposal, -np.inf))
        metadata.update(getattr(density, "info", {}))
        metadata.update(engine=backend_name)
    else:  # nuts
        backend_name = resolve_backend(method, backend, model)
        engine = get_backend(backend_name)
        inits = [params_to_init(model, data, params, rng) for _ in range(chains)]
        # other sampler coordinates, if the family has them (its own random stream, so the
        # chains' initial values do not depend on it)
        coords = model.sampler_coordinates(data, np.random.default_rng([int(seed), 1]))
        if coords is not None:
            inits = [None if x is None else coords.to_sampler(x) for x in inits]
        result = engine.sample(
            model,
            data if coords is None else coords.data,
            chains=chains,
            draws=draws,
            warmup=warmup,
            seed=seed,
            inits=inits,
            max_tree_depth=max_tree_depth,
            adapt_delta=adapt_delta,
            verbose=verbose,
            progress=show_progress,
        )
        post = dict(result.draws)
        if coords is not None:
            post = dict(coords.from_sampler(post))
            metadata["sampler_coordinates"] = dict(coords.info)
        sample_stats = dict(result.sample_stats)
        max_tree_depth = result.max_tree_depth
        metadata.update(result.info)
        metadata.update(chains=chains, draws=draws, warmup=warmup, adapt_delta=adapt_delta)

    if post:
        missing = [n for n in params.names if n not in post]
        if missing:
            raise FitError(f"the engine returned no draws for parameter(s) {', '.join(missing)}")
        for name, value in model.derived({n: post[n] for n in params.names}, data).items():
            post.setdefault(name, np.asarray(value))
    if point is not None:
        point = dict(point)
        for name, value in model.derived(point, data).items():
            point.setdefault(name, np.asarray(value))
    metadata["backend"] = backend_name
    metadata["fit_seconds"] = time.perf_counter() - started
    fit = Fit(
        model=model,
        data=data,
        method=method,
        backend=backend_name,
        parameters=params,
        point=point,
        cov=cov,
        cov_unconstrained=cov_u,
        draws=post,
        sample_stats=sample_stats,
        optimizer=optimizer,
        max_tree_depth=max_tree_depth,
        metadata=metadata,
    )
    diagnose(fit, warn=True)  # the warning names the user's line (pystats._warnings)
    return fit


def params_to_init(
    model: Model, data: PreparedData, params: ParameterSet, rng: np.random.Generator
) -> dict[str, np.ndarray] | None:
    """Initial values for one chain (constrained), or ``None`` to let Stan choose."""
    try:
        values = model.initial_values(data, rng)
    except NotImplementedError:
        return None
    return {k: np.asarray(v, dtype=float) for k, v in values.items() if k in params.names}
