"""Gutenberg–Richter magnitude models: b-value, completeness, tapered and detection models.

See ``models/gutenberg_richter.md`` for the model card.
"""

from __future__ import annotations

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
