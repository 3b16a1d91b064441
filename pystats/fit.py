"""The immutable result of ``Model.fit``.

One class serves every family and every method; what differs is which fields are set:

============  =========================  ===========================================
method        point / cov                draws
============  =========================  ===========================================
``mle``       maximum-likelihood point,  draws from the asymptotic normal (on the
``map``       Hessian covariance         unconstrained scale), used for predictions
``laplace``   posterior mode             draws from the Laplace approximation
``nuts``      ``None``                   MCMC draws, with ``sample_stats``
============  =========================  ===========================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_prob

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

    from .diagnostics import Diagnostics
    from .model import Model, PreparedData
    from .parameters import ParameterSet

__all__ = ["Fit"]


def _readonly(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    out = {}
    for k, v in (mapping or {}).items():
        if isinstance(v, np.ndarray):
            v = v.copy()
            v.flags.writeable = False
        out[k] = v
    return MappingProxyType(out)


@dataclass(frozen=True, eq=False)
class Fit:
    """Result of ``Model.fit``: estimates, draws, diagnostics and provenance.

    Attributes
    ----------
    model : Model
        The (immutable) model that was fitted.
    data : PreparedData
        The validated data used.
    method : str
        ``"mle"``, ``"map"``, ``"laplace"`` or ``"nuts"``.
    backend : str
        Engine that ran (``"torch"``, ``"pystan"``, ``"cmdstanpy"`` or ``"closed_form"``).
    parameters : ParameterSet
        The inferred parameters.
    point : mapping or None
        Point estimate (MLE / MAP / posterior mode) on the parameter scale.
    cov : ndarray or None
        Covariance of the flat constrained parameters (delta method from the Hessian).
    cov_unconstrained : ndarray or None
        Inverse negative Hessian on the unconstrained scale.
    draws : mapping
        Name -> array ``(chain, draw, *shape)`` for parameters and derived quantities.
    sample_stats : mapping
        NUTS statistics (arviz names) -> ``(chain, draw)``; empty for other methods.
    optimizer : mapping
        Optimizer report: ``converged``, ``log_density``, ``grad_norm``, ``n_starts``,
        ``optima`` (log density of each start), ``hessian_pd``, ``at_boundary`` (names),
        ``message``; for large fits whose starts ran on a pilot problem
        (:meth:`~pystats.model.Model.pilot`) also ``pilot``: its ``description``,
        ``optima`` and ``n_evaluations``.
    max_tree_depth : int
        NUTS tree-depth limit used.
    metadata : mapping
        Provenance: ``pystats_version``, ``engine``/``engine_version``,
        ``stan_program``/``stan_program_hash``, ``data_hash``, ``seed``, timings
        (``fit_seconds``, ``compile_seconds``), ``created``.

    Examples
    --------
    A closed-form maximum-likelihood fit of simulated magnitudes:

    >>> import pathlib, tempfile, pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> fit = pystats.GutenbergRichter(mc=2.0).fit(m)
    >>> fit.method, fit.backend, fit.parameters.names
    ('mle', 'closed_form', ['b', 'rate'])
    >>> fit.summary().loc["b", ["estimate", "se", "lower", "upper"]].round(2).tolist()
    [1.01, 0.02, 0.97, 1.05]
    >>> fit.diagnose().ok
    True
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     again = pystats.load(fit.save(pathlib.Path(tmp, "gr.nc")))
    ...     print(round(float(again.estimate("b")), 2))
    1.01

    Draws are shaped ``(chain, draw)``; for ``mle`` and ``map`` they come from the
    asymptotic normal law of the estimate, for ``laplace`` and ``nuts`` from the posterior:

    >>> fit.is_sampled, fit.draws["b"].shape
    (False, (4, 1000))
    >>> post = pystats.GutenbergRichter(mc=2.0).fit(m, method="nuts", seed=1)  # doctest: +SKIP
    """

    model: Model
    data: PreparedData
    method: str
    backend: str
    parameters: ParameterSet
    point: Mapping[str, Any] | None = None
    cov: np.ndarray | None = None
    cov_unconstrained: np.ndarray | None = None
    draws: Mapping[str, np.ndarray] = field(default_factory=dict)
    sample_stats: Mapping[str, np.ndarray] = field(default_factory=dict)
    optimizer: Mapping[str, Any] = field(default_factory=dict)
    max_tree_depth: int = 10
    metadata: Mapping[str, Any] = field(default_factory=dict)
    _cache: dict[Any, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Summary tables and diagnostics, computed once (the fit never changes)."""

    def __post_init__(self) -> None:
        for name in ("point", "draws", "sample_stats", "optimizer", "metadata"):
            value = getattr(self, name)
            object.__setattr__(self, name, None if value is None else _readonly(value))
        for name in ("cov", "cov_unconstrained"):
            value = getattr(self, name)
            if value is not None:
                value = np.array(value, dtype=float, copy=True)
                value.flags.writeable = False
                object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (for other processes, e.g. :func:`pystats.fit_many`'s workers) as the
        constructor call; read-only views are rebuilt, cached tables recomputed on use."""
        state = {
            f.name: dict(v) if isinstance(v := getattr(self, f.name), MappingProxyType) else v
            for f in fields(self) if f.init
        }
        return (_rebuild_fit, (type(self), state))

    # ------------------------------------------------------------ accessors
    @property
    def is_sampled(self) -> bool:
        """True for posterior draws (``nuts``, ``laplace``)."""
        return self.method in ("nuts", "laplace")

    @property
    def n_chains(self) -> int:
        """Number of chains in :attr:`draws` (0 if there are none)."""
        first = next(iter(self.draws.values()), None)
        return 0 if first is None else first.shape[0]

    def variable(self, name: str) -> np.ndarray:
        """Draws of one parameter or derived quantity, chains flattened: ``(n, *shape)``.

        Raises
        ------
        KeyError
            Naming the available variables.
        """
        if name not in self.draws:
            raise KeyError(
                f"Unknown variable name: {name}. Available variables are {', '.join(self.draws)}"
            )
        arr = self.draws[name]
        return arr.reshape(arr.shape[0] * arr.shape[1], *arr.shape[2:])  # size-0 shapes too

    def estimate(self, name: str) -> Any:
        """Point estimate of ``name``: the optimum for optimisation methods, else the mean."""
        if self.point is not None and name in self.point:
            return self.point[name]
        return self.variable(name).mean(axis=0)

    def __repr__(self) -> str:
        est = ", ".join(
            f"{n}={np.asarray(self.estimate(n)).round(4).tolist()}" for n in self.parameters.names
        )
        return (
            f"<Fit {type(self.model).__name__} method={self.method} backend={self.backend}: {est}>"
        )

    # ------------------------------------------------------------ delegated
    def summary(self, *, prob: float = 0.9, derived: bool = True) -> pd.DataFrame:
        """Parameter table indexed by parameter name; the point estimate is the first column.

        Columns: MLE/MAP -> ``estimate, se, lower, upper`` (Wald interval built on the
        unconstrained scale; delta-method ``se`` for derived quantities); NUTS/Laplace ->
        ``mean, sd, hdi_lower, hdi_upper`` plus ``mcse_mean, ess_bulk, ess_tail, r_hat``
        for NUTS.  ``prob`` is the interval mass.  A plain DataFrame (a copy of the table
        cached on the fit); render it with :meth:`summary_text` or :meth:`summary_html`.
        """
        check_prob(prob)
        key = ("summary", float(prob), bool(derived))
        if key not in self._cache:
            from .summary import summary_table

            self._cache[key] = summary_table(self, prob=prob, derived=derived)
        return self._cache[key].copy()

    def summary_text(self, *, prob: float = 0.9) -> str:
        """The summary as plain text, with numbered notes on detected problems."""
        from .summary import summary_text

        return summary_text(self, prob=prob)

    def summary_html(self, *, prob: float = 0.9) -> str:
        """The summary as an HTML fragment (header, table, numbered notes)."""
        from .summary import summary_html

        return summary_html(self, prob=prob)

    def _repr_html_(self) -> str:
        return self.summary_html()

    def diagnose(self, *, warn: bool = True) -> Diagnostics:
        """Convergence diagnostics; issues a :class:`ConvergenceWarning` if any check fails.

        The checks run once per fit; later calls reuse the result (and warn again).
        """
        from .diagnostics import diagnose

        return diagnose(self, warn=warn)

    def _diagnostics(self) -> Diagnostics:
        """The fit's diagnostics, computed on first use from the cached summary table."""
        if "diagnostics" not in self._cache:
            from .diagnostics import run_checks

            table = self.summary(derived=False) if self.method == "nuts" and self.draws else None
            self._cache["diagnostics"] = run_checks(self, table)
        return self._cache["diagnostics"]

    def to_arviz(self) -> az.InferenceData:
        """arviz ``InferenceData``: posterior, sample_stats, observed and predictive data."""
        from .arviz_io import to_inference_data

        return to_inference_data(self)

    def predict(self, **kwargs: Any) -> pd.DataFrame:
        """Family-specific predictions with uncertainty (see the family's ``predict``)."""
        return self.model.predict(self, **kwargs)

    def report(self, path: str | Path) -> Path:
        """Write a self-contained HTML posterior diagnostic report to ``path``."""
        from .report import write_report

        return write_report(self, Path(path))

    def save(self, path: str | Path) -> Path:
        """Save to NetCDF (draws, data, estimates and metadata); reload with ``pystats.load``."""
        from .persistence import save_fit

        return save_fit(self, Path(path))


def _rebuild_fit(cls: type[Fit], state: dict[str, Any]) -> Fit:
    """Unpickle a fit (see :meth:`Fit.__reduce__`)."""
    return cls(**state)
