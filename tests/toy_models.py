"""Small model families for testing the fit infrastructure without an inference engine.

``NormalModel``: ``y ~ Normal(mu, sigma)`` with ``sigma > 0``, with a pointwise log
likelihood (``pointwise_log_likelihood`` hook).
``TorchNormalModel``: the same model with a torch likelihood and proper priors
(``mu ~ N(0, 10)``, ``sigma ~ HalfNormal(5)``), for the optimisers and Laplace.
``GroupMeansModel``: ``y[j] ~ Normal(mu[group[j]], sigma)`` with an array parameter ``mu``
and no pointwise log likelihood hook.
``ToyExponentialModel``: exponential magnitude excesses, declaring its option table and
command line (``pystats fit --model toyexp``) and nothing else.

:func:`make_fit` builds :class:`~pystats.fit.Fit` objects directly from synthetic draws or
closed-form estimates, so the summary, diagnostics, arviz, persistence and report code can
be tested without Stan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any, ClassVar

import numpy as np
from matplotlib.figure import Figure

from pystats.cli_spec import Argument, CommandLine, SimulateCommand
from pystats.constraints import Interval, Option
from pystats.errors import DataError, OptionError
from pystats.fit import Fit
from pystats.model import Model, PreparedData
from pystats.parameters import Parameter, ParameterSet


class NormalModel(Model):
    """``y ~ Normal(mu, sigma)``; derived ``precision = 1 / sigma**2``."""

    family = "test_normal"

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        unknown = set(options) - {"label", "prior_scale"}
        if unknown:
            raise OptionError(f"unknown option(s) {sorted(unknown)}")
        options.setdefault("label", "normal")
        options.setdefault("prior_scale", 10.0)
        return options

    def prepare(self, data: Any) -> PreparedData:
        y = np.asarray(data, dtype=float)
        if y.ndim != 1 or y.size < 2 or not np.all(np.isfinite(y)):
            raise DataError("y must be a finite 1-d array with at least 2 values")
        return PreparedData(
            values={"y": y, "n": int(y.size)},
            observed={"y": y},
            summary={"n": int(y.size), "mean of y": float(y.mean())},
        )

    def parameters(self, data: PreparedData) -> ParameterSet:
        return ParameterSet(
            [
                Parameter("mu", description="mean"),
                Parameter("sigma", lower=0.0, description="standard deviation"),
            ]
        )

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        return {"precision": 1.0 / np.asarray(draws["sigma"]) ** 2}

    def pointwise_log_likelihood(
        self, draws: Mapping[str, np.ndarray], data: PreparedData
    ) -> dict[str, np.ndarray]:
        mu = np.asarray(draws["mu"], dtype=float)[..., None]
        sigma = np.asarray(draws["sigma"], dtype=float)[..., None]
        y = np.asarray(data.values["y"])
        return {"y": -0.5 * np.log(2 * np.pi * sigma**2) - (y - mu) ** 2 / (2 * sigma**2)}

    def posterior_predictive(
        self, draws: Mapping[str, np.ndarray], data: PreparedData, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        mu = np.asarray(draws["mu"])[..., None]
        sigma = np.asarray(draws["sigma"])[..., None]
        shape = (*mu.shape[:-1], data.values["n"])
        return {"y": mu + sigma * rng.standard_normal(shape)}

    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        fig = Figure(figsize=(4, 3))
        ax = fig.subplots()
        ax.hist(np.asarray(fit.data.values["y"]), bins=20)
        ax.set_xlabel("y")
        return [("Histogram of y <data>", fig)]


class TorchNormalModel(Model):
    """y ~ Normal(mu, sigma); priors mu ~ N(0, 10), sigma ~ HalfNormal(5); derived variance."""

    family = "test_inference_normal"
    has_torch_likelihood = True

    def prepare(self, data: Any) -> PreparedData:
        y = np.asarray(data, dtype=float)
        return PreparedData(values={"y": y}, observed={"y": y}, summary={"n": y.size})

    def parameters(self, data: PreparedData) -> ParameterSet:
        return ParameterSet([Parameter("mu"), Parameter("sigma", lower=0.0)])

    def log_likelihood_torch(self, p: dict[str, Any], t: dict[str, Any]) -> Any:
        import torch

        return torch.distributions.Normal(p["mu"], p["sigma"]).log_prob(t["y"]).sum()

    def log_prior_torch(self, p: dict[str, Any], t: dict[str, Any]) -> Any:
        import torch

        return torch.distributions.Normal(0.0, 10.0).log_prob(
            p["mu"]
        ) + torch.distributions.HalfNormal(5.0).log_prob(p["sigma"])

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        return {"mu": rng.normal(), "sigma": rng.uniform(0.5, 2.0)}

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        return {"variance": np.asarray(draws["sigma"]) ** 2}


class GroupMeansModel(Model):
    """``y ~ Normal(mu[group], sigma)``: an array parameter ``mu`` of shape ``(n_groups,)``."""

    family = "test_group_means"

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        n = options.get("n_groups", 3)
        if not isinstance(n, int) or n < 1:
            raise OptionError(f"n_groups={n!r} is not allowed; use an integer >= 1")
        options["n_groups"] = n
        return options

    def prepare(self, data: Any) -> PreparedData:
        y, group = (np.asarray(a) for a in data)
        return PreparedData(
            values={"y": y.astype(float), "group": group.astype(int)},
            observed={"y": y.astype(float)},
            summary={"n": int(y.size)},
        )

    def parameters(self, data: PreparedData) -> ParameterSet:
        return ParameterSet(
            [Parameter("mu", shape=(self.options["n_groups"],)), Parameter("sigma", lower=0.0)]
        )

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        mu = np.asarray(draws["mu"])
        return {"spread": mu.max(axis=-1) - mu.min(axis=-1)}


def normal_data(n: int = 200, mu: float = 1.5, sigma: float = 0.7, seed: int = 1) -> np.ndarray:
    """Simulated ``Normal(mu, sigma)`` sample."""
    return np.random.default_rng(seed).normal(mu, sigma, n)


def normal_mle_fit(y: np.ndarray, *, n_draws: int = 2000, seed: int = 3, **options: Any) -> Fit:
    """A closed-form ``mle`` fit of :class:`NormalModel`.

    MLE ``mu = mean(y)``, ``sigma = sqrt(mean((y - mu)^2))``; the inverse Fisher
    information on ``(mu, log sigma)`` is ``diag(sigma^2 / n, 1 / (2 n))``; the draws are
    the asymptotic normal on that scale mapped back, with the derived precision.
    """
    model = NormalModel(**options)
    data = model.prepare(y)
    ps = model.parameters(data)
    n = y.size
    mu, sigma = float(y.mean()), float(np.sqrt(np.mean((y - y.mean()) ** 2)))
    cov_u = np.diag([sigma**2 / n, 1.0 / (2 * n)])
    jac = np.diag([1.0, sigma])  # d(mu, sigma) / d(mu, log sigma)
    cov = jac @ cov_u @ jac.T
    rng = np.random.default_rng(seed)
    u = rng.multivariate_normal([mu, math.log(sigma)], cov_u, size=(1, n_draws))
    draws = ps.constrain(u)
    draws.update(model.derived(draws, data))
    loglik = float(np.sum(-0.5 * np.log(2 * np.pi * sigma**2) - (y - mu) ** 2 / (2 * sigma**2)))
    return Fit(
        model=model,
        data=data,
        method="mle",
        backend="closed_form",
        parameters=ps,
        point={"mu": mu, "sigma": sigma},
        cov=cov,
        cov_unconstrained=cov_u,
        draws=draws,
        optimizer={
            "converged": True,
            "log_density": loglik,
            "grad_norm": 0.0,
            "n_starts": 2,
            "optima": np.array([loglik, loglik]),
            "hessian_pd": True,
            "at_boundary": [],
            "message": "closed form",
        },
        metadata={"seed": seed, "pystats_version": "test", "data_hash": data.hash},
    )


def sampled_fit(
    model: Model,
    data_arg: Any,
    draws: Mapping[str, np.ndarray],
    *,
    method: str = "nuts",
    sample_stats: Mapping[str, np.ndarray] | None = None,
    max_tree_depth: int = 10,
    seed: int = 11,
    optimizer: Mapping[str, Any] | None = None,
) -> Fit:
    """A ``nuts`` or ``laplace`` fit holding the given synthetic draws ``(chain, draw, ...)``."""
    data = model.prepare(data_arg)
    ps = model.parameters(data)
    all_draws = dict(draws)
    all_draws.update(model.derived(draws, data))
    return Fit(
        model=model,
        data=data,
        method=method,
        backend="synthetic",
        parameters=ps,
        draws=all_draws,
        sample_stats=dict(sample_stats or {}),
        optimizer=dict(optimizer or {}),
        max_tree_depth=max_tree_depth,
        metadata={
            "seed": seed,
            "pystats_version": "test",
            "engine": "synthetic",
            "data_hash": data.hash,
            "fit_seconds": 0.5,
        },
    )


def clean_stats(n_chains: int, n_draws: int, seed: int = 5) -> dict[str, np.ndarray]:
    """Sample statistics of a healthy NUTS run: no divergences, depth 3, iid energies."""
    rng = np.random.default_rng(seed)
    shape = (n_chains, n_draws)
    return {
        "lp": rng.normal(-100, 1, shape),
        "acceptance_rate": rng.uniform(0.7, 1.0, shape),
        "step_size": np.full(shape, 0.5),
        "tree_depth": np.full(shape, 3),
        "n_steps": np.full(shape, 7),
        "diverging": np.zeros(shape, dtype=bool),
        "energy": rng.normal(100, 1.5, shape),
    }


class ToyExponentialModel(Model):
    """Magnitude excesses ``m - mc ~ Exponential(beta)`` (``beta = b ln 10``), a family that
    gets its option checks and its whole command line from its declarations alone.

    Options: ``mc`` (default: smallest magnitude) and ``scale`` (> 0: the magnitudes are
    divided by it before fitting).  ``fit(..., max_events=n)`` keeps the first ``n`` events.
    Closed-form MLE ``beta = 1 / mean(m - mc)`` with standard error ``beta / sqrt(n)``;
    ``predict(quantile=q)`` gives the magnitude quantile ``mc - log(1 - q) / beta``.
    """

    family = "test_toy_exponential"
    data_options = ("max_events",)
    options_spec: ClassVar[dict[str, Option]] = {
        "mc": Option(None, [None, Interval(Real)]),
        "scale": Option(1.0, [Interval(Real, 0, None, closed="neither")]),
    }
    cli = CommandLine(
        name="toyexp", title="Toy exponential", help="toy exponential excesses",
        fit=(
            Argument("--mc", type=float, help="threshold (default: smallest magnitude)"),
            Argument("--scale", type=float, help="divide the magnitudes by this"),
            Argument("--max-events", to="data", type=int, help="use the first events only"),
        ),
        predict=(Argument("--quantile", type=float, help="magnitude quantile"),),
        simulate=(SimulateCommand(
            name="toyexp", help="toy exponential magnitudes", description="Simulate them.",
            arguments=(Argument("--n", type=int, default=500), Argument("--beta", type=float),
                       Argument("--seed", type=int, default=0)),
            run="toy_models:simulate_toy_exponential"),),
    )

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if options["mc"] is not None and options["mc"] < 0:
            raise OptionError(f"mc={options['mc']!r} is below 0; the toy needs mc >= 0")
        return options

    def prepare(self, data: Any, max_events: int | None = None) -> PreparedData:
        from pystats.catalog import Catalog

        m = np.asarray(data.magnitudes if isinstance(data, Catalog) else data, dtype=float)
        m = m[:max_events] / self.options["scale"]
        mc = float(m.min()) if self.options["mc"] is None else self.options["mc"]
        m = m[m >= mc]
        return PreparedData(values={"x": m - mc, "mc": mc}, observed={"x": m - mc},
                            summary={"n": int(m.size), "mc": mc})

    def parameters(self, data: PreparedData) -> ParameterSet:
        return ParameterSet([Parameter("beta", lower=0.0, description="decay rate")])

    def closed_form(self, data: PreparedData) -> tuple[dict[str, Any], np.ndarray]:
        x = np.asarray(data.values["x"])
        beta = 1.0 / float(x.mean())
        return {"beta": beta}, np.array([[beta**2 / x.size]])

    def predict(self, fit: Fit, quantile: float = 0.5, **kwargs: Any) -> Any:
        import pandas as pd

        beta = float(fit.estimate("beta"))
        m = fit.data.values["mc"] - math.log(1.0 - quantile) / beta
        return pd.DataFrame({"quantile": [quantile], "magnitude": [m]})


def simulate_toy_exponential(args: Any) -> int:
    """``pystats simulate toyexp``: ``n`` magnitudes ``2 + Exponential(beta)``."""
    import pandas as pd

    rng = np.random.default_rng(args.seed)
    m = 2.0 + rng.exponential(1.0 / args.beta, args.n)
    pd.DataFrame({"time": np.arange(args.n, dtype=float), "magnitude": m}).to_csv(
        args.output, index=False)
    return 0
