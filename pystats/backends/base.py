"""The engine interface shared by every backend, and the backend registry.

A backend turns a :class:`~pystats.model.Model` plus prepared data into either

* a :class:`LogDensity` on the unconstrained scale (for ``mle``, ``map`` and ``laplace``,
  optimised by :mod:`pystats.inference`), or
* a :class:`SampleResult` of MCMC draws (for ``nuts``).

Registered backends (see :func:`get_backend`):

=============  ==========================================  ==================
name           engine                                      capabilities
=============  ==========================================  ==================
``torch``      the family's PyTorch likelihood, autograd   optimize, laplace
``pystan``     pystan 3 / httpstan (embedded, offline)     optimize, laplace, sample
``cmdstanpy``  CmdStan through cmdstanpy                    optimize, laplace, sample
``stan``       alias: ``cmdstanpy`` if that engine is usable, else ``pystan``
=============  ==========================================  ==================

``backend="auto"`` is resolved by :func:`resolve_backend` with a documented rule and the
choice is logged on the ``pystats`` logger.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._warnings import warn as _warn
from ..errors import (
    BackendUnavailableError,
    MethodNotSupportedError,
    OptionError,
    PystatsWarning,
)

if TYPE_CHECKING:
    from ..model import Model, PreparedData

__all__ = [
    "Backend",
    "LogDensity",
    "SampleResult",
    "available_backends",
    "get_backend",
    "register_backend",
    "resolve_backend",
]

log = logging.getLogger("pystats")

class LogDensity(ABC):
    """A log density (or log likelihood) on the flat unconstrained parameter vector ``u``.

    ``jacobian=True`` adds the log-Jacobian of the constraining transform (the density of
    ``u``, used by NUTS and the Laplace approximation); ``jacobian=False`` gives the
    density of the constrained parameters (used for MLE / MAP, so the optimum does not
    depend on the parameterisation).

    Examples
    --------
    A subclass only needs ``dim`` and :meth:`value_and_grad`; :meth:`value` and
    :meth:`hessian` (central differences) come with the base class:

    >>> import numpy as np
    >>> from pystats.backends.base import LogDensity
    >>> class Normal(LogDensity):
    ...     dim = 1
    ...     def value_and_grad(self, u, jacobian):
    ...         return -0.5 * float((u[0] - 3.0) ** 2), -(u - 3.0)
    >>> density = Normal()
    >>> density.value(np.array([1.0]), jacobian=False)
    -2.0
    >>> np.round(density.hessian(np.array([1.0]), jacobian=False), 6).tolist()
    [[-1.0]]
    """

    dim: int

    @abstractmethod
    def value_and_grad(self, u: np.ndarray, jacobian: bool) -> tuple[float, np.ndarray]:
        """Log density and its gradient at ``u``; ``-inf`` (and any gradient) outside support."""

    def value(self, u: np.ndarray, jacobian: bool) -> float:
        """Log density at ``u``."""
        return self.value_and_grad(u, jacobian)[0]

    def values(self, us: np.ndarray, jacobian: bool) -> np.ndarray:
        """Log density at each row of ``us`` (shape ``(n, dim)``); ``-inf`` outside support.

        The default calls :meth:`value` row by row; engines with a per-call overhead (one
        process per call for CmdStan) evaluate all rows at once.
        """
        us = np.asarray(us, dtype=float)
        if us.ndim != 2 or us.shape[1] != self.dim:
            raise OptionError(f"us has shape {us.shape}; expected (n, {self.dim})")
        return np.array([self.value(u, jacobian) for u in us], dtype=float)

    def hessian(self, u: np.ndarray, jacobian: bool) -> np.ndarray:
        """Hessian at ``u``; default: central differences of the gradient (symmetrised)."""
        u = np.asarray(u, dtype=float)
        n = u.size
        h = np.empty((n, n))
        for i in range(n):
            step = 1e-5 * max(1.0, abs(u[i]))
            up, dn = u.copy(), u.copy()
            up[i] += step
            dn[i] -= step
            h[:, i] = (
                self.value_and_grad(up, jacobian)[1] - self.value_and_grad(dn, jacobian)[1]
            ) / (2 * step)
        return 0.5 * (h + h.T)


@dataclass
class SampleResult:
    """MCMC output in engine-neutral form.

    Attributes
    ----------
    draws : dict
        Parameter and generated-quantity name -> array of shape ``(chain, draw, *shape)``
        (C order for array parameters).
    sample_stats : dict
        arviz sampler-statistic names (``lp``, ``acceptance_rate``, ``step_size``,
        ``tree_depth``, ``n_steps``, ``diverging``, ``energy``; see
        :data:`pystats.backends.stan_program.STAN_SAMPLE_STATS`) -> array ``(chain, draw)``.
    max_tree_depth : int
        The sampler's tree-depth limit (to count draws that hit it).
    info : dict
        Engine details for the metadata (engine version, program hash, timings, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from pystats.backends.base import SampleResult
    >>> rng = np.random.default_rng(0)
    >>> result = SampleResult(draws={"b": rng.normal(1.0, 0.05, size=(4, 250))},
    ...                       sample_stats={"diverging": np.zeros((4, 250), dtype=bool)})
    >>> result.draws["b"].shape, result.max_tree_depth
    ((4, 250), 10)
    """

    draws: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    max_tree_depth: int = 10
    info: dict[str, Any] = field(default_factory=dict)


class Backend(ABC):
    """One inference engine.  Subclasses register themselves with :func:`register_backend`.

    Examples
    --------
    >>> import pystats
    >>> from pystats.backends import Backend, get_backend, resolve_backend
    >>> backend = get_backend("torch")
    >>> isinstance(backend, Backend), backend.name, sorted(backend.capabilities)
    (True, 'torch', ['laplace', 'optimize'])
    >>> resolve_backend("mle", "auto", pystats.GutenbergRichter(mc=2.0))
    'torch'
    """

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]]  # subset of {"optimize", "laplace", "sample"}

    @classmethod
    @abstractmethod
    def check_available(cls) -> None:
        """Raise :class:`BackendUnavailableError` (chained to the cause) if unusable here."""

    @abstractmethod
    def log_density(
        self, model: Model, data: PreparedData, *, include_prior: bool, device: str = "cpu"
    ) -> LogDensity:
        """The model's log density on the unconstrained scale for these data."""

    def compile(
        self, model: Model, data: PreparedData, *, include_prior: bool, verbose: bool = False
    ) -> float:
        """Compile what fitting ``model`` to ``data`` needs into the compile cache, ahead of
        the fits (:func:`pystats.fit_many` calls it once in the client process, so that its
        workers load the compiled program instead of compiling it each).

        Returns the seconds spent compiling: 0 when it was in the cache already, or when
        the engine compiles nothing (the default, e.g. torch).
        """
        return 0.0

    def sample(
        self,
        model: Model,
        data: PreparedData,
        *,
        chains: int,
        draws: int,
        warmup: int,
        seed: int,
        inits: list[dict[str, np.ndarray]] | None = None,
        max_tree_depth: int = 10,
        adapt_delta: float = 0.8,
        verbose: bool = False,
        progress: bool = False,
    ) -> SampleResult:
        """Draw from the posterior with NUTS."""
        raise MethodNotSupportedError(f"backend {self.name!r} cannot sample (method='nuts')")


_REGISTRY: dict[str, Callable[[], Backend]] = {}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Register ``factory`` (a Backend class or a callable returning one) under ``name``."""
    _REGISTRY[name] = factory


def available_backends() -> dict[str, bool]:
    """Every registered backend name and whether it can be used on this machine."""
    out = {}
    for name, factory in _REGISTRY.items():
        try:
            factory().check_available()
            out[name] = True
        except BackendUnavailableError:
            out[name] = False
    return out


def get_backend(name: str) -> Backend:
    """Instantiate the backend ``name`` after checking it is usable here.

    Raises
    ------
    OptionError
        If no backend of that name exists (the message lists the ones that do).
    BackendUnavailableError
        If it exists but cannot be loaded; chained to the real cause.
    """
    if name == "stan":
        name = _stan_implementation("stan")
    if name not in _REGISTRY:
        raise OptionError(
            f"unknown backend {name!r}; available backends are "
            f"{', '.join(['auto', 'stan', *sorted(_REGISTRY)])}"
        )
    backend = _REGISTRY[name]()
    backend.check_available()
    return backend


def _stan_implementation(requested: str = "stan") -> str:
    """``cmdstanpy`` when that engine is usable here, else ``pystan``; logged.

    One rule (:func:`pystats.backends.cmdstan.cmdstan_status`) decides both this choice and
    what :func:`available_backends` reports.  When ``$CMDSTAN`` is set but the engine cannot
    use it (no such folder, not a CmdStan folder, cmdstanpy missing), the fall-back to
    pystan is announced with a :class:`~pystats.errors.PystatsWarning` naming ``CMDSTAN``:
    setting it says the user wants CmdStan.
    """
    from .cmdstan import cmdstan_status

    path, reason = cmdstan_status()
    if path is not None:
        log.info("backend=%r chose 'cmdstanpy' (CmdStan at %s)", requested, path)
        return "cmdstanpy"
    if os.environ.get("CMDSTAN"):
        _warn(
            f"CMDSTAN is set but the cmdstanpy engine cannot use it ({reason}); "
            f"backend={requested!r} falls back to 'pystan'",
            PystatsWarning,
        )
    log.info("backend=%r chose 'pystan' (cmdstanpy engine unavailable: %s)", requested, reason)
    return "pystan"


CAPABILITY_OF_METHOD = {
    "mle": "optimize",
    "map": "optimize",
    "laplace": "laplace",
    "nuts": "sample",
}


def resolve_backend(method: str, backend: str, model: Model) -> str:
    """Pick the backend name for ``method``.

    Rule for ``backend="auto"`` (logged at INFO level on the ``pystats`` logger):

    * ``nuts`` -> ``stan`` (``cmdstanpy`` if CmdStan is installed, else ``pystan``);
    * ``mle``, ``map``, ``laplace`` -> ``torch`` when the family has a torch likelihood,
      else ``stan``.

    An explicitly named backend is checked against the method and returned unchanged.
    """
    if backend != "auto":
        name = _stan_implementation("stan") if backend == "stan" else backend
        factory = _REGISTRY.get(name)
        if factory is not None and CAPABILITY_OF_METHOD[method] not in factory.capabilities:
            raise MethodNotSupportedError(
                f"backend {backend!r} cannot run method {method!r}; it supports "
                f"{', '.join(sorted(factory.capabilities))}"
            )
        return name
    if method == "nuts" or not model.has_torch_likelihood:
        choice = _stan_implementation("auto")
    else:
        choice = "torch"
    log.info("backend='auto' chose %r for method=%r (%s)", choice, method, type(model).__name__)
    return choice
