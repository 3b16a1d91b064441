"""The base class every model family derives from.

A model holds options, never fitted values (statsmodels' rule): ``Model(**options)``
validates and freezes its options, ``fit(data, ...)`` returns a new immutable
:class:`~pystats.fit.Fit` and may be called again with other data or settings.

A family implements a handful of hooks (``prepare``, ``parameters``, and either a torch
likelihood or a Stan program, or both); :mod:`pystats.inference` does the rest the same
way for every family.
"""

from __future__ import annotations

import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from . import _checks
from .constraints import validate_params
from .errors import MethodNotSupportedError, OptionError
from .parameters import ParameterSet

if TYPE_CHECKING:
    import pandas as pd

    from .cli_spec import CommandLine
    from .constraints import Option
    from .diagnostics import ModelCheck
    from .fit import Fit

__all__ = ["METHODS", "Model", "Pilot", "PreparedData", "SamplerCoordinates", "family_class",
           "registered_families"]

METHODS = ("mle", "map", "laplace", "nuts")
"""Inference methods, the same names in every family."""

_FAMILIES: dict[str, type[Model]] = {}
"""Family name -> class; every subclass setting ``family`` is added (``__init_subclass__``)."""


def registered_families() -> dict[str, type[Model]]:
    """Every registered family (name -> class): the package's own first, in the order of
    ``pystats._MODEL_FAMILIES`` (their modules are imported here), then the others in the
    order their modules were imported.
    """
    import pystats

    ordered = [getattr(importlib.import_module(module), name)
               for name, module in pystats._MODEL_FAMILIES.items()]
    out = {cls.family: cls for cls in ordered}
    out.update((k, v) for k, v in _FAMILIES.items() if k not in out)
    return out


def family_class(name: str) -> type[Model]:
    """The model class registered under ``family`` name ``name`` (used by ``pystats.load``)."""
    try:
        return _FAMILIES[name]
    except KeyError:
        raise OptionError(
            f"unknown model family {name!r}; known families are {', '.join(sorted(_FAMILIES))}"
        ) from None


def _check_cli_declaration(cls: type[Model]) -> None:
    """A declared ``pystats fit`` option must set a declared model option or data option."""
    for arg in cls.cli.fit:  # type: ignore[union-attr]
        if arg.to == "data":
            known, what = cls.data_options, "data_options"
        elif cls.options_spec is not None:
            known, what = tuple(cls.options_spec), "options_spec"
        else:
            continue  # options checked by _validate_options alone
        if arg.target not in known:
            raise TypeError(
                f"{cls.__name__}.cli declares {arg.flag} for {arg.target!r}, which is not in "
                f"{cls.__name__}.{what} ({', '.join(known) or 'empty'})"
            )


@dataclass(frozen=True)
class PreparedData:
    """Validated, read-only data in the form the engines use.

    Attributes
    ----------
    values : mapping
        Name -> numpy array or Python scalar: everything a likelihood or Stan program reads.
        Arrays are private read-only copies; the caller's objects are never referenced.
    observed : mapping
        Name -> array, stored as arviz ``observed_data`` (e.g. the magnitudes fitted).
    summary : mapping
        Human-readable facts for reports (number of events, time span, Mc used, ...).

    Examples
    --------
    Arrays are copied and made read-only, so later changes to the caller's data do not
    reach a fit:

    >>> import numpy as np
    >>> from pystats.model import PreparedData
    >>> x = np.array([2.0, 2.5])
    >>> data = PreparedData({"magnitudes": x, "mc": 2.0}, summary={"n": 2})
    >>> x[0] = 9.0
    >>> data.values["magnitudes"].tolist(), data.values["magnitudes"].flags.writeable
    ([2.0, 2.5], False)
    >>> len(data.hash)  # SHA-256, stored in fit metadata
    64
    """

    values: Mapping[str, Any]
    observed: Mapping[str, np.ndarray] = field(default_factory=dict)
    summary: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        vals = {k: _frozen(v) for k, v in self.values.items()}
        obs = {k: _frozen(v) for k, v in self.observed.items()}
        object.__setattr__(self, "values", MappingProxyType(vals))
        object.__setattr__(self, "observed", MappingProxyType(obs))
        object.__setattr__(self, "summary", MappingProxyType(dict(self.summary)))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (for other processes, e.g. :func:`pystats.fit_many`'s workers) as the
        constructor call; the read-only views are rebuilt when it is loaded."""
        return (type(self), (dict(self.values), dict(self.observed), dict(self.summary)))

    @property
    def hash(self) -> str:
        """SHA-256 of the values (names, dtypes, shapes and bytes), for provenance."""
        h = hashlib.sha256()
        for k in sorted(self.values):
            v = self.values[k]
            arr = np.ascontiguousarray(np.asarray(v))
            h.update(k.encode())
            h.update(str(arr.dtype).encode())
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())
        return h.hexdigest()


def _rebuild_model(cls: type[Model], options: dict[str, Any]) -> Model:
    """Unpickle a model (see :meth:`Model.__reduce__`)."""
    return cls(**options)


def _frozen(v: Any) -> Any:
    if isinstance(v, np.ndarray) or isinstance(v, list | tuple):
        arr = np.array(v, copy=True)
        arr.flags.writeable = False
        return arr
    return v


@dataclass(frozen=True)
class SamplerCoordinates:
    """Other coordinates for NUTS on the same posterior (:meth:`Model.sampler_coordinates`).

    The engine samples the family's Stan program with :attr:`data`, whose entries select an
    equivalent parameterisation (same posterior, other unconstrained coordinates, e.g.
    one that removes a strong correlation the diagonal metric cannot follow).

    Attributes
    ----------
    data : PreparedData
        What the engine is given instead of the fit's data.
    to_sampler : callable
        Initial values of :meth:`Model.parameters` (constrained, one chain's dict) -> those
        of the program's parameters under :attr:`data`.
    from_sampler : callable
        The engine's draws (name -> ``(chain, draw, ...)`` arrays) -> draws of
        :meth:`Model.parameters` (and nothing the fit should not report).
    info : dict
        What was chosen, recorded in ``fit.metadata["sampler_coordinates"]`` (JSON-ready
        values).

    Examples
    --------
    Families without other coordinates return ``None`` (the default hook); ETAS samples its
    productivity at a pivot magnitude (``pystats.ETAS(k_pivot=...)``):

    >>> from pystats import GutenbergRichter
    >>> GutenbergRichter(mc=2.0).sampler_coordinates(None, None) is None
    True
    >>> same = SamplerCoordinates(PreparedData({"x": 1.0}), dict, dict, {"what": "identity"})
    >>> same.to_sampler({"K": 2.0}), same.info["what"]
    ({'K': 2.0}, 'identity')
    """

    data: PreparedData
    to_sampler: Any
    from_sampler: Any
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pilot:
    """A cheaper problem whose optimum starts a large fit (:meth:`Model.pilot`).

    Attributes
    ----------
    data : PreparedData
        The pilot data (e.g. a subsample of a large catalogue, or the same data with a
        fast approximate likelihood).
    scale : float
        About how much larger the full log density's Hessian is than the pilot's near the
        optimum (e.g. the ratio of the numbers of observations; 1 for the same data): the
        pilot's Hessian times ``scale`` whitens the first optimiser round of the full fit.
    description : str
        What the pilot is, for the fit's optimizer report.

    Examples
    --------
    A family without a cheaper problem returns ``None`` (the default hook); ETAS returns a
    pilot of its last 20 000 events for large catalogues (:meth:`Model.pilot`):

    >>> from pystats import GutenbergRichter
    >>> GutenbergRichter(mc=2.0).pilot(None, "mle") is None
    True
    >>> Pilot(data=None, scale=5.0, description="the last 20 000 events").scale
    5.0
    """

    data: PreparedData
    scale: float
    description: str


class Model(ABC):
    """Base class of the model families.

    Subclasses set :attr:`family`, :attr:`methods`, and implement the hooks below.  Options
    are passed as keyword arguments, checked against the declared table
    :attr:`options_spec` (:func:`pystats.constraints.validate_params`), then by the
    cross-field hook :meth:`_validate_options`, and exposed read-only as :attr:`options`.
    :attr:`cli` declares what the family offers on the command line.

    A family declares its table on the class (here for a new family)::

        from numbers import Real
        from pystats.cli_spec import Argument, CommandLine
        from pystats.constraints import Interval, Option, StrOptions

        class AftershockDetection(Model):
            family = "aftershock_detection"
            options_spec = {
                "mc": Option(None, [None, Interval(Real)]),
                "window": Option(1.0, [Interval(Real, 0, None, closed="neither")],
                                 doc="detection window (days)"),
                "method": Option("ratio", [StrOptions(("ratio", "likelihood"))]),
            }
            cli = CommandLine(
                name="detect", title="Aftershock detection", help="aftershock detection",
                fit=(Argument("--window", type=float, help="detection window (days)"),),
            )

            def _validate_options(self, options):  # cross-field checks, if any
                if options["method"] == "likelihood" and options["mc"] is None:
                    raise OptionError("method='likelihood' needs mc")
                return options

    and registers it with one line in ``_MODEL_FAMILIES`` of ``pystats/__init__.py``
    (``"AftershockDetection": "pystats.detection.model",``), which also exports it.

    Examples
    --------
    Every family is a ``Model``; options are validated once and read-only:

    >>> import pystats
    >>> from pystats.model import Model
    >>> model = pystats.GutenbergRichter(mc=2.0)
    >>> isinstance(model, Model), model.family
    (True, 'gutenberg_richter')
    >>> model
    GutenbergRichter(mc=2.0)
    >>> try:
    ...     model.options["mc"] = 3.0
    ... except TypeError:
    ...     print("read-only")
    read-only
    """

    family: ClassVar[str]
    """Registry name of the family, e.g. ``"gutenberg_richter"``."""
    methods: ClassVar[tuple[str, ...]] = METHODS
    """Inference methods this family supports."""
    data_options: ClassVar[tuple[str, ...]] = ()
    """Keyword arguments of ``fit`` that describe the data (e.g. ``t_start``, ``t_end``);
    they are passed on to :meth:`prepare`."""
    options_spec: ClassVar[Mapping[str, Option] | None] = None
    """The options: name -> :class:`~pystats.constraints.Option` (default and constraints),
    in the order to list them.  ``None``: :meth:`_validate_options` does all the checking."""
    cli: ClassVar[CommandLine | None] = None
    """What the family offers on the command line (:class:`~pystats.cli_spec.CommandLine`);
    ``None``: not on the command line."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.cli is not None:
            _check_cli_declaration(cls)
        if "family" in cls.__dict__:
            _FAMILIES[cls.family] = cls

    def __init__(self, **options: Any) -> None:
        self._init_options = MappingProxyType(dict(options))
        checked = dict(options)
        if self.options_spec is not None:
            checked = validate_params(self.options_spec, checked, owner=type(self).__name__)
        self._options = MappingProxyType(self._validate_options(checked))

    # ------------------------------------------------------------------ options
    @property
    def options(self) -> Mapping[str, Any]:
        """The validated options (read-only)."""
        return self._options

    @property
    def init_options(self) -> Mapping[str, Any]:
        """The options exactly as passed to the constructor (used to rebuild the model)."""
        return self._init_options

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Cross-field checks of the options; raise :class:`OptionError` naming the bad one.

        With :attr:`options_spec`, ``options`` holds every declared option, each checked
        against its constraints (defaults filled in); without it, the options as given,
        which this hook checks and completes.  Returns the options to keep (a new dict or
        ``options`` itself, which is a copy).
        """
        return options

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._init_options.items())
        return f"{type(self).__name__}({args})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the constructor call ``type(model)(**init_options)``: a model holds
        options only (as ``save``/``load`` rebuild it), so a pickled model is small and
        the copy is validated again where it is loaded (:func:`pystats.fit_many`)."""
        return (_rebuild_model, (type(self), dict(self._init_options)))

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def prepare(self, data: Any, **data_options: Any) -> PreparedData:
        """Validate ``data`` and return :class:`PreparedData` (never modify ``data``).

        ``data_options`` are the keyword arguments of ``fit`` named in
        :attr:`data_options` (e.g. the fitting window ``t_start``, ``t_end``).
        """

    @abstractmethod
    def parameters(self, data: PreparedData) -> ParameterSet:
        """The parameters to infer, in the order of the Stan program's parameters block."""

    nuts_defaults: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    """The family's defaults of :meth:`fit`'s NUTS settings ``max_tree_depth`` and
    ``adapt_delta`` (otherwise 10 and 0.8), used where the caller gives none, e.g.
    ``{"adapt_delta": 0.95}`` for a posterior whose curvature varies."""

    precondition_optimizer: ClassVar[bool] = False
    """Whiten each optimizer start by the Hessian there (``pystats.inference.maximize``);
    worth one Hessian per start for ill-conditioned posteriors (e.g. latent GP values)."""

    def hessian_structure(self, data: PreparedData) -> tuple[np.ndarray, np.ndarray] | None:
        """Sparsity of the log density's Hessian on the unconstrained scale, or ``None``.

        ``(pattern, colours)``: a boolean ``(dim, dim)`` matrix that is ``True`` wherever the
        Hessian may be non-zero, and an integer colour per coordinate such that every
        non-zero ``(i, j)`` is the only one of its colour in row ``i`` or in row ``j``.  The
        torch engine then takes the exact Hessian from one Hessian-vector product per
        colour instead of one per coordinate (Powell & Toint 1979), e.g. 35 in place of 490
        for a hierarchy of 456 conditionally independent local parameters and 34 global
        ones.  A third element ``T`` (``(dim, dim)``, invertible) says the pattern holds
        in the coordinates ``w = T u`` (a reparameterised hierarchy whose centred form is
        sparse): the engine then takes the products along ``T^{-1} v`` and returns
        ``T^T H_w T``.  Default ``None``: the dense Hessian.
        """
        return None

    def pilot(self, data: PreparedData, method: str) -> Pilot | None:
        """A cheaper problem to run the optimiser's starts on, or ``None`` (default).

        When a family returns one (large data), ``mle`` / ``map`` / ``laplace`` run the
        random starts on the pilot (early stop once two agree, as usual), then a single
        start on the full data from the pilot's best optimum, whitened by the pilot's
        Hessian times :attr:`Pilot.scale`; the optimum, its convergence check and the
        Hessian are those of the full data, the starts' agreement is checked on the pilot
        (``fit.optimizer["pilot"]``).  ``method`` is the fit's method.
        """
        return None

    def sampler_coordinates(self, data: PreparedData, rng: np.random.Generator
                            ) -> SamplerCoordinates | None:
        """Coordinates for ``nuts`` other than those of :meth:`parameters`, or ``None``.

        Called by ``fit(method="nuts")`` before sampling (after the chains' initial
        values are drawn); ``rng`` is for any pilot computation.  The posterior must be the
        same: only the sampler's unconstrained coordinates may change, and the fit's draws,
        summaries and diagnostics are those of :meth:`parameters`
        (:attr:`SamplerCoordinates.from_sampler`).  Default ``None``: sample
        :meth:`parameters` as declared.
        """
        return None

    batched_torch_likelihood: ClassVar[bool] = False
    """True when :meth:`log_likelihood_torch` and :meth:`log_prior_torch` broadcast over a
    leading axis of the parameters (one row per draw): the torch engine then evaluates many
    points per call (e.g. the Laplace fit's Pareto-k draws)."""

    has_torch_likelihood: ClassVar[bool] = False
    """True when :meth:`log_likelihood_torch` is implemented."""

    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Log likelihood (a 0-d torch tensor) at constrained ``params``.

        ``tensors`` holds ``data.values`` as torch tensors (float64) on the fit's device.
        """
        raise MethodNotSupportedError(f"{type(self).__name__} has no torch likelihood")

    def log_likelihood_jets_torch(self, params: dict[str, Any], tensors: dict[str, Any]
                                  ) -> tuple[Any, Any, Any] | None:
        """Value, gradient and Hessian of the log likelihood in the constrained parameters,
        computed by the family without autograd, or ``None`` (default: autograd).

        Gradient and Hessian are over the parameters in :meth:`parameters` order, each
        flattened (torch tensors).  The torch engine then takes the Hessian on the
        unconstrained scale (prior and Jacobian included) by autograd through a quadratic
        with these coefficients, which has the same first and second derivatives at the
        point: worth it where the likelihood's own double backward is costly (ETAS at
        1e6 events).
        """
        return None

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        """Log prior density at constrained ``params`` (used by ``map``/``laplace``/torch)."""
        raise MethodNotSupportedError(f"{type(self).__name__} has no torch prior")

    def log_prior(self, values: Mapping[str, Any], data: PreparedData) -> np.ndarray:
        """Log prior density (numpy) at constrained ``values``, batched over leading axes.

        ``values`` maps every parameter name to an array ``(*batch, *shape)``; the result
        has shape ``batch``.  Evaluates :meth:`log_prior_torch` on the CPU without
        gradients, so every family with a torch prior has it.

        Raises
        ------
        MethodNotSupportedError
            If the family defines no prior density.
        """
        import torch

        from .backends.torch import to_tensors

        tensors = to_tensors(dict(data.values), torch.device("cpu"))
        params = {k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in values.items()}
        batch = np.broadcast_shapes(
            *(np.shape(values[p.name])[: np.ndim(values[p.name]) - len(p.shape)]
              for p in self.parameters(data))
        )
        with torch.no_grad():
            out = self.log_prior_torch(params, tensors)
        out = out.numpy() if isinstance(out, torch.Tensor) else np.asarray(out, dtype=float)
        return np.broadcast_to(out, batch).astype(float)

    def improper_priors(self, data: PreparedData) -> list[str] | None:
        """Names of the parameters whose prior is improper (flat, Jeffreys) for these data.

        ``[]`` when every prior is proper, ``None`` (the default) when the family does not
        say.  A marginal likelihood (:func:`pystats.bridge.log_marginal_likelihood`) is
        defined only with proper priors: it refuses a non-empty list and notes ``None``.
        """
        return None

    def stan_program(self) -> str | None:
        """File name of the Stan program in ``pystats.stan`` (``None`` if there is none).

        Conventions for the program: parameters are declared in the order and with the
        bounds of :meth:`parameters`; the data block ends with
        ``int<lower=0, upper=1> include_prior;`` which the engines set (0 for ``mle``).
        """
        return None

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        """The Stan data dict (without ``include_prior``, which the engines add)."""
        raise MethodNotSupportedError(f"{type(self).__name__} has no Stan program")

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """A random starting point (constrained scale) for optimisation and sampling."""
        raise MethodNotSupportedError(f"{type(self).__name__} defines no initial values")

    def closed_form(self, data: PreparedData) -> tuple[dict[str, Any], np.ndarray] | None:
        """Closed-form MLE and its covariance on the flat constrained scale, if one exists."""
        return None

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """Derived quantities (e.g. the a-value) computed from parameter values or draws.

        ``draws`` maps names to arrays whose trailing axes are the parameter shapes; the
        result must broadcast the same way.
        """
        return {}

    def derived_inputs(self, data: PreparedData) -> dict[str, tuple[float, float]]:
        """Independent plug-in estimates that :meth:`derived` reads besides the parameters.

        Name -> ``(estimate, standard error)``, e.g. ETAS's ``b`` from Aki's estimator.
        :meth:`derived` must use ``draws[name]`` when given; the delta-method standard
        errors of ``Fit.summary`` treat these as independent of the parameters.
        """
        return {}

    def pointwise_log_likelihood(
        self, draws: Mapping[str, np.ndarray], data: PreparedData
    ) -> dict[str, np.ndarray]:
        """Log likelihood of each observation for each draw, for PSIS-LOO / WAIC.

        Computed on demand (by :meth:`Fit.to_arviz`), never stored with the fit, so fits
        of large catalogs stay small.  Returns observed-variable name -> array
        ``(*leading axes of draws, n_observations)``; empty if the family has none.
        """
        return {}

    def posterior_predictive(
        self, draws: Mapping[str, np.ndarray], data: PreparedData, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Replicated data, one per draw (leading axes of ``draws``), for predictive checks."""
        return {}

    def observed_coordinates(self, data: PreparedData) -> dict[str, tuple[str, np.ndarray]]:
        """What each observed vector is indexed by, for predictive-check plots.

        Observed-variable name -> ``(axis label, values)`` with one value per element (e.g.
        the magnitude of each count bin).  Variables not listed are plotted against their
        element index.
        """
        return {}

    def index_labels(self, data: PreparedData) -> dict[str, tuple[list[str | None], ...]]:
        """Labels of the axes of array parameters and derived quantities, for the rows of
        ``Fit.summary()``: name -> one list of labels per axis (``{"a": (["s1", "s2"],)}``
        names the rows ``a[s1]``, ``a[s2]`` instead of ``a[0]``, ``a[1]``).  A label
        ``None`` drops its axis from the name: ``{"h": ([None],)}`` names a size-1 array's
        row ``h``, as a scalar (:func:`pystats.summary.relabel`).  Default: none (rows keep
        their integer indices)."""
        return {}

    def predict(self, fit: Fit, **kwargs: Any) -> pd.DataFrame:
        """Model-specific predictions with uncertainty (called by :meth:`Fit.predict`)."""
        raise MethodNotSupportedError(f"{type(self).__name__} has no predictions")

    def check_fit(self, fit: Fit) -> list[ModelCheck]:
        """Family-specific checks of a fitted model, run by :func:`pystats.diagnostics.diagnose`.

        For findings that the generic convergence checks cannot see, e.g. estimates that
        describe an explosive process.  Each :class:`~pystats.diagnostics.ModelCheck` is
        listed and warned about like the other checks.  Default: none.
        """
        return []

    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """Family-specific ``(title, matplotlib Figure)`` pairs for :meth:`Fit.report`."""
        return []

    # ------------------------------------------------------------------ fitting
    def resolve_method(self, method: str | None) -> str:
        """The inference method :meth:`fit` runs for ``method``: ``None`` gives ``"mle"``
        where the family has it, else its first method.

        Raises
        ------
        OptionError
            ``method`` is not one of :data:`METHODS`.
        MethodNotSupportedError
            The family cannot be fitted with it.
        """
        if method is None:
            return "mle" if "mle" in self.methods else self.methods[0]
        if method not in METHODS:
            raise OptionError(f"method={method!r} is not allowed; use one of {', '.join(METHODS)}")
        if method not in self.methods:
            raise MethodNotSupportedError(
                f"{type(self).__name__} cannot be fitted with method={method!r}; "
                f"it supports {', '.join(self.methods)}"
            )
        return method

    def fit(
        self,
        data: Any,
        *,
        method: str | None = None,
        backend: str = "auto",
        device: str = "cpu",
        seed: int | None = None,
        chains: int = 4,
        draws: int = 1000,
        warmup: int = 1000,
        n_starts: int = 4,
        max_tree_depth: int | None = None,
        adapt_delta: float | None = None,
        verbose: bool = False,
        progress: bool | None = None,
        threads: int | None = None,
        **data_options: Any,
    ) -> Fit:
        """Fit the model to ``data``.

        Parameters
        ----------
        data
            What the family accepts (a :class:`~pystats.Catalog`, arrays, frames, ...).
            It is validated and copied, never modified.
        method : {"mle", "map", "laplace", "nuts"}, optional
            Default ``mle``, or the first of :attr:`methods` for a family without it.
            ``mle``: maximum likelihood with standard errors from the Hessian;
            ``map``: posterior mode (with priors) and Hessian standard errors;
            ``laplace``: Gaussian approximation at the posterior mode on the unconstrained
            scale, with draws; ``nuts``: Stan's HMC sampler.
        backend : {"auto", "torch", "stan", "pystan", "cmdstanpy"}
            Engine; ``auto`` follows :func:`pystats.backends.resolve_backend`.
        device : {"cpu", "cuda", "cuda:N", "auto"} or torch.device
            Torch device for the torch backend (:func:`pystats.backends.torch.resolve_device`).
        seed : int, optional
            Random seed, an integer in ``[0, 2**32 - 1]``; recorded in the fit's metadata.
            Drawn at random if omitted.
        chains, draws, warmup : int
            NUTS settings (``draws`` is also the number of Laplace / MLE-covariance draws
            per chain).
        n_starts : int
            Largest number of optimizer starts (the best optimum is kept; disagreement is
            reported by ``diagnose``).  Starts stop early once two of them reach the same
            best log density (``fit.optimizer["optima"]`` lists those run).
        max_tree_depth, adapt_delta
            NUTS settings (default 10 and 0.8, or the family's :attr:`nuts_defaults`).
        verbose : bool
            Show engine output (compiler, sampler).
        progress : bool, optional
            Progress bars for long runs (optimisation, sampling) on stderr; default: on for
            interactive terminals only, so scripts stay quiet.
        threads : int, optional
            Torch threads for this fit (default: ``$PYSTATS_NUM_THREADS``, else chosen by
            the rule of :mod:`pystats.backends.threads`: one thread, more only for fits
            running over a second with idle cores).  Torch's global setting is restored
            afterwards.
        **data_options
            Family-specific description of the data, listed in :attr:`data_options`
            (e.g. ``t_start`` and ``t_end`` for ETAS).

        Returns
        -------
        Fit

        Raises
        ------
        OptionError
            An argument out of range (``seed=-1``, ``chains=True``, ``draws=2.5``, ...); the
            message names it, its value and what is allowed.
        """
        method = self.resolve_method(method)
        seed = _checks.seed(seed)
        chains = _checks.integer("chains", chains, 1)
        draws = _checks.integer("draws", draws, 1)
        warmup = _checks.integer("warmup", warmup, 0)
        n_starts = _checks.integer("n_starts", n_starts, 1)
        nuts = {"max_tree_depth": 10, "adapt_delta": 0.8, **self.nuts_defaults}
        if max_tree_depth is None:
            max_tree_depth = nuts["max_tree_depth"]
        if adapt_delta is None:
            adapt_delta = nuts["adapt_delta"]
        max_tree_depth = _checks.integer("max_tree_depth", max_tree_depth, 1)
        adapt_delta = _checks.probability("adapt_delta", adapt_delta)
        unknown = sorted(set(data_options) - set(self.data_options))
        if unknown:
            allowed = ", ".join(self.data_options) or "none"
            raise OptionError(
                f"{type(self).__name__}.fit() got unknown argument(s) {', '.join(unknown)}; "
                f"its data options are: {allowed}"
            )
        from .backends.threads import fit_threads

        # numpy/scipy work here is on small vectors; OpenBLAS threads spinning beside torch's
        # OpenMP threads made an optimiser's fit 2-3x slower on 2 cores (measured on ETAS).
        # Torch's own threads follow the rule of pystats.backends.threads (restored on exit).
        with threadpool_limits(limits=1, user_api="blas"), fit_threads(threads):
            return self._run(data, data_options, method=method, backend=backend,
                             device=device, seed=seed, chains=chains, draws=draws,
                             warmup=warmup, n_starts=n_starts, max_tree_depth=max_tree_depth,
                             adapt_delta=adapt_delta, verbose=verbose, progress=progress)

    def _run(self, data: Any, data_options: Mapping[str, Any], *, chains: int, draws: int,
             warmup: int, n_starts: int, max_tree_depth: int, adapt_delta: float,
             **kwargs: Any) -> Fit:
        from .inference import run

        return run(
            self,
            self.prepare(data, **data_options),
            chains=int(chains),
            draws=int(draws),
            warmup=int(warmup),
            n_starts=int(n_starts),
            max_tree_depth=int(max_tree_depth),
            adapt_delta=float(adapt_delta),
            **kwargs,
        )
