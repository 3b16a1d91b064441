"""pystats: Bayesian and likelihood models for earthquake catalogs and solid-earth data.

One ``fit`` / ``predict`` API over every model family::

    import pystats
    cat = pystats.read_catalog("events.csv")
    fit = pystats.GutenbergRichter(mc="maxc").fit(cat, method="nuts")
    fit.summary(); fit.diagnose(); fit.report("gr.html")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("pystats")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "CompilationError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "FitError",
    "MethodNotSupportedError",
    "OptionError",
    "PystatsError",
    "PystatsWarning",
    "__version__",
]
