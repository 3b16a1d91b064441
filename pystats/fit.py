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
from dataclasses import dataclass, field
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
        ``message``.
    max_tree_depth : int
        NUTS tree-depth limit used.
    metadata : mapping
        Provenance: ``pystats_version``, ``engine``/``engine_version``,
        ``stan_program``/``stan_program_hash``, ``data_hash``, ``seed``, timings
        (``fit_seconds``, ``compile_seconds``), ``created``.
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
        return arr.reshape(-1, *arr.shape[2:])

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
        unconstrained scale); NUTS/Laplace -> ``mean, sd, hdi_lower, hdi_upper`` plus
        ``mcse_mean, ess_bulk, ess_tail, r_hat`` for NUTS.  ``prob`` is the interval mass.
        ``.attrs["text"]``/``["html"]`` hold renderings; see also :meth:`summary_text`.
        """
        from .summary import summary_table

        check_prob(prob)
        return summary_table(self, prob=prob, derived=derived)

    def summary_text(self, *, prob: float = 0.9) -> str:
        """The summary as plain text, with numbered notes on detected problems."""
        from .summary import summary_text

        return summary_text(self, prob=prob)

    def diagnose(self, *, warn: bool = True) -> Diagnostics:
        """Convergence diagnostics; issues a :class:`ConvergenceWarning` if any check fails."""
        from .diagnostics import diagnose

        return diagnose(self, warn=warn)

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
