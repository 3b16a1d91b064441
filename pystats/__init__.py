"""pystats: Bayesian and likelihood models for earthquake catalogs and solid-earth data.

One ``fit`` / ``predict`` API over every model family::

    import pystats
    cat = pystats.read_catalog("events.csv")
    fit = pystats.GutenbergRichter(mc="maxc").fit(cat, method="nuts")
    fit.summary(); fit.diagnose(); fit.report("gr.html")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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
    MethodNotSupportedError,
    OptionError,
    PystatsError,
    PystatsWarning,
)
from .gr.completeness import McResult, estimate_mc
from .gr.estimators import BValueResult, b_value
from .gr.model import GutenbergRichter
from .persistence import load
from .readers import read_catalog, read_comcat

try:
    __version__ = version("pystats")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
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
    "GutenbergRichter",
    "McResult",
    "MethodNotSupportedError",
    "OptionError",
    "Problem",
    "PystatsError",
    "PystatsWarning",
    "__version__",
    "b_value",
    "estimate_mc",
    "load",
    "read_catalog",
    "read_comcat",
]
