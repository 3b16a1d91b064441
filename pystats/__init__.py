"""pystats: Bayesian and likelihood models for earthquake catalogs and solid-earth data.

One ``fit`` / ``predict`` API over every model family::

    import pystats
    cat = pystats.read_catalog("events.csv")
    fit = pystats.GutenbergRichter(mc="maxc").fit(cat, method="nuts")
    fit.summary(); fit.diagnose(); fit.report("gr.html")

Public names are imported on first use (``pystats.read_catalog`` imports the readers,
``pystats.ETAS`` the ETAS family), so ``import pystats`` is cheap and a script that only
reads a catalogue or computes a b-value never imports torch, matplotlib or arviz.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from .bridge import log_marginal_likelihood
    from .btime.model import TimeVaryingB
    from .catalog import Catalog
    from .comparison import LooWarning, compare
    from .compositional.isocon import GrantIsocon, SparseIsocon
    from .diagnostics import Diagnostics, Problem
    from .etas.model import ETAS, OmoriUtsu
    from .etas.simulate import branching_ratio, simulate_etas
    from .gr.completeness import McResult, estimate_mc
    from .gr.estimators import BValueResult, b_value
    from .gr.model import GutenbergRichter
    from .maglaw.model import MagnitudeLaw
    from .many import fit_many
    from .morb.model import MORBMelting
    from .persistence import load
    from .readers import read_catalog, read_comcat

_MODEL_FAMILIES = {
    "GutenbergRichter": "pystats.gr.model",
    "ETAS": "pystats.etas.model",
    "OmoriUtsu": "pystats.etas.model",
    "AftershockDetection": "pystats.aftershock.model",
    "GrantIsocon": "pystats.compositional.isocon",
    "SparseIsocon": "pystats.compositional.isocon",
    "LiquidIronEOS": "pystats.eos.model",
    "MagnitudeLaw": "pystats.maglaw.model",
    "TimeVaryingB": "pystats.btime.model",
    "MORBMelting": "pystats.morb.model",
}
"""The model families: class -> module.  One line here registers a family: the class is
exported (lazily) and its module imported by :func:`pystats.model.registered_families`, so
its declared command line (``pystats fit --model ...``) is offered."""

_LAZY = {
    **_MODEL_FAMILIES,
    "BValueResult": "pystats.gr.estimators",
    "Catalog": "pystats.catalog",
    "compare": "pystats.comparison",
    "LooWarning": "pystats.comparison",
    "Diagnostics": "pystats.diagnostics",
    "McResult": "pystats.gr.completeness",
    "Problem": "pystats.diagnostics",
    "b_value": "pystats.gr.estimators",
    "branching_ratio": "pystats.etas.simulate",
    "estimate_mc": "pystats.gr.completeness",
    "fit_many": "pystats.many",
    "load": "pystats.persistence",
    "log_marginal_likelihood": "pystats.bridge",
    "read_catalog": "pystats.readers",
    "read_comcat": "pystats.readers",
    "simulate_etas": "pystats.etas.simulate",
}
"""Public names imported on first access (module ``__getattr__``, PEP 562): ``import
pystats`` loads neither pandas nor scipy, and only what a script uses is imported (reading a
catalogue needs pandas, a b-value scipy.special; torch, matplotlib and arviz wait for a fit,
a figure or an arviz conversion)."""

_SUBMODULES = frozenset({
    "arviz_io", "backends", "btime", "catalog", "cli", "compositional", "diagnostics", "errors",
    "bridge", "etas", "fit", "gr", "maglaw", "morb",
    "inference", "many", "model", "parameters", "persistence", "readers", "report", "summary",
})
"""Subpackages and modules reachable as attributes (``pystats.gr.b_positive``) before any
import of them, as they were when ``__init__`` imported them eagerly."""


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("pystats")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            value = "0.0.0+unknown"
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'pystats' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES, "__version__"})


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
    "GrantIsocon",
    "GutenbergRichter",
    "LooWarning",
    "MORBMelting",
    "MagnitudeLaw",
    "McResult",
    "MethodNotSupportedError",
    "OffGridWarning",
    "OmoriUtsu",
    "OptionError",
    "Problem",
    "PystatsError",
    "PystatsWarning",
    "SparseIsocon",
    "TimeVaryingB",
    "__version__",
    "b_value",
    "branching_ratio",
    "compare",
    "estimate_mc",
    "fit_many",
    "load",
    "log_marginal_likelihood",
    "read_catalog",
    "read_comcat",
    "simulate_etas",
]
