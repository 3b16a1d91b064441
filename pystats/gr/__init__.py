"""Gutenberg–Richter magnitude models: b-value, completeness, tapered and detection models.

See ``models/gutenberg_richter.md`` for the model card.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .completeness import MC_METHODS, McResult, estimate_mc, mc_emr, mc_gft, mc_maxc, mc_mbs
    from .distributions import (
        bin_magnitudes,
        detection_cdf,
        detection_logpdf,
        detection_logpmf_binned,
        gr_logpmf,
        gr_survival,
        infer_delta_m,
        magnitude_from_moment,
        moment_from_magnitude,
        simulate_detection,
        simulate_gr,
        simulate_tapered_gr,
        tapered_gr_logpdf,
        tapered_gr_logpmf_binned,
        tapered_gr_survival,
    )
    from .estimators import (
        B_METHODS,
        BValueResult,
        a_value,
        b_aki_utsu,
        b_positive,
        b_tinti_mulargia,
        b_value,
    )
    from .model import GutenbergRichter

_LAZY = {
    "BValueResult": "estimators",
    "B_METHODS": "estimators",
    "GutenbergRichter": "model",
    "MC_METHODS": "completeness",
    "McResult": "completeness",
    "a_value": "estimators",
    "b_aki_utsu": "estimators",
    "b_positive": "estimators",
    "b_tinti_mulargia": "estimators",
    "b_value": "estimators",
    "bin_magnitudes": "distributions",
    "detection_cdf": "distributions",
    "detection_logpdf": "distributions",
    "detection_logpmf_binned": "distributions",
    "estimate_mc": "completeness",
    "gr_logpmf": "distributions",
    "gr_survival": "distributions",
    "infer_delta_m": "distributions",
    "magnitude_from_moment": "distributions",
    "mc_emr": "completeness",
    "mc_gft": "completeness",
    "mc_maxc": "completeness",
    "mc_mbs": "completeness",
    "moment_from_magnitude": "distributions",
    "simulate_detection": "distributions",
    "simulate_gr": "distributions",
    "simulate_tapered_gr": "distributions",
    "tapered_gr_logpdf": "distributions",
    "tapered_gr_logpmf_binned": "distributions",
    "tapered_gr_survival": "distributions",
}
"""Public names imported from their module on first access (PEP 562), so that importing
one estimator does not import the others' dependencies (scipy.optimize for the Mc methods,
the model class)."""


_SUBMODULES = frozenset({"completeness", "distributions", "estimators", "likelihood", "model"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'pystats.gr' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})


__all__ = [
    "B_METHODS",
    "MC_METHODS",
    "BValueResult",
    "GutenbergRichter",
    "McResult",
    "a_value",
    "b_aki_utsu",
    "b_positive",
    "b_tinti_mulargia",
    "b_value",
    "bin_magnitudes",
    "detection_cdf",
    "detection_logpdf",
    "detection_logpmf_binned",
    "estimate_mc",
    "gr_logpmf",
    "gr_survival",
    "infer_delta_m",
    "magnitude_from_moment",
    "mc_emr",
    "mc_gft",
    "mc_maxc",
    "mc_mbs",
    "moment_from_magnitude",
    "simulate_detection",
    "simulate_gr",
    "simulate_tapered_gr",
    "tapered_gr_logpdf",
    "tapered_gr_logpmf_binned",
    "tapered_gr_survival",
]
