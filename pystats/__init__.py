"""pystats: Bayesian and likelihood models for earthquake catalogs and solid-earth data.

One ``fit`` / ``predict`` API over every model family::

    import pystats
    cat = pystats.read_catalog("events.csv")
    fit = pystats.GutenbergRichter(mc="maxc").fit(cat, method="nuts")
    fit.summary(); fit.diagnose(); fit.report("gr.html")

The ETAS and Omori–Utsu families (``ETAS``, ``OmoriUtsu``, ``simulate_etas``,
``branching_ratio``) are imported on first use, so ``import pystats`` stays as fast as it
was without them.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .catalog import Catalog
from .diagnostics import Diagnostics, Problem
from .errors import (
    BackendError,
    BackendUnavailableError,
    CompilationError,
    ConvergenceWarning,
    DataError,
    DataWarning,
    FitError,
    FitFileError,
    MethodNotSupportedError,
    OffGridWarning,
    OptionError,
    PystatsError,
    PystatsWarning,
)
from .gr.completeness import McResult, estimate_mc
from .gr.estimators import BValueResult, b_value
from .gr.model import GutenbergRichter
from .persistence import load
from .readers import read_catalog, read_comcat

if TYPE_CHECKING:
    from .etas.model import ETAS, OmoriUtsu
    from .etas.simulate import branching_ratio, simulate_etas

_LAZY = {
    "ETAS": "pystats.etas.model",
    "OmoriUtsu": "pystats.etas.model",
    "branching_ratio": "pystats.etas.simulate",
    "simulate_etas": "pystats.etas.simulate",
}
"""Public names imported on first access (module ``__getattr__``, PEP 562)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pystats' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

try:
    __version__ = version("pystats")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "ETAS",
    "BValueResult",
    "BackendError",
    "BackendUnavailableError",
    "Catalog",
    "CompilationError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "Diagnostics",
    "FitError",
    "FitFileError",
    "GutenbergRichter",
    "McResult",
    "MethodNotSupportedError",
    "OffGridWarning",
    "OmoriUtsu",
    "OptionError",
    "Problem",
    "PystatsError",
    "PystatsWarning",
    "__version__",
    "b_value",
    "branching_ratio",
    "estimate_mc",
    "load",
    "read_catalog",
    "read_comcat",
    "simulate_etas",
]
