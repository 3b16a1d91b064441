"""MORB melting inversion: forward melting laws and the :class:`MORBMelting` family.

The forward functions are public on their own: ``pystats.morb.melt(c0, D, F,
law="aggregated_fractional")``, :func:`batch`, :func:`aggregated_fractional`, ... (see
:mod:`pystats.morb.melting`); the reference tables are in :mod:`pystats.morb.tables`.
"""

from __future__ import annotations

from .melting import (
    LAWS,
    aggregated_fractional,
    batch,
    bulk_partition,
    continuous,
    instantaneous_fractional,
    melt,
    residue_fractional,
)
from .tables import ELEMENTS, REFERENCES, reference

__all__ = [
    "ELEMENTS",
    "LAWS",
    "REFERENCES",
    "aggregated_fractional",
    "batch",
    "bulk_partition",
    "continuous",
    "instantaneous_fractional",
    "melt",
    "reference",
    "residue_fractional",
]
