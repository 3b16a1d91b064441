"""Inference engines behind one interface; see :mod:`pystats.backends.base`."""

from __future__ import annotations

from .base import (
    Backend,
    LogDensity,
    SampleResult,
    available_backends,
    get_backend,
    register_backend,
    resolve_backend,
)
from .cmdstan import CmdStanBackend
from .pystan import PystanBackend
from .torch import TorchBackend

register_backend("torch", TorchBackend)
register_backend("pystan", PystanBackend)
register_backend("cmdstanpy", CmdStanBackend)

__all__ = [
    "Backend",
    "CmdStanBackend",
    "LogDensity",
    "PystanBackend",
    "SampleResult",
    "TorchBackend",
    "available_backends",
    "get_backend",
    "register_backend",
    "resolve_backend",
]
