"""Fractional crystallisation of MORB melts: mineral/melt partition coefficients of olivine,
plagioclase and clinopyroxene and the bulk ``D`` of a low-pressure crystallising assemblage,
for the optional per-sample Rayleigh factor of :class:`pystats.MORBMelting`
(``fractional_crystallisation=True``).

Rayleigh fractionation of a melt that has crystallised a mass fraction ``X`` with bulk
``D_fc``: ``C = C_primary (1 - X)^(D_fc - 1)``.

References
----------
Gibson, S. A. and Geist, D. (2010). Geochemical and geophysical estimates of lithospheric
thickness variation beneath Galapagos. EPSL 300, 275-286.
https://doi.org/10.1016/j.epsl.2010.10.002 (the mineral/melt ``D`` below, the table of
pyMelt; ``shared/data/geochem/partition_coefficients_gibson_geist2010.csv``).

Grove, T. L., Kinzler, R. J. and Bryan, W. B. (1992). Fractionation of mid-ocean ridge
basalt (MORB). In Mantle Flow and Melt Generation at Mid-Ocean Ridges, Geophysical
Monograph 71, AGU, 281-310 (low-pressure ol + plag + cpx crystallisation of MORB).
"""

from __future__ import annotations

from typing import Final

from .melting import bulk_partition

__all__ = ["FC_ASSEMBLAGE", "KD_FC_GG2010", "fc_partition"]

KD_FC_GG2010: Final[dict[str, tuple[float, float, float]]] = {
    # element: (olivine, plagioclase, clinopyroxene) mineral/melt D, Gibson & Geist (2010)
    "Rb": (0.0003, 0.03, 0.0004), "Ba": (5e-06, 0.33, 0.0004), "Th": (5e-05, 0.05, 0.0059),
    "U": (0.00038, 0.11, 0.0094), "Nb": (0.0005, 0.01, 0.015), "Ta": (0.0005, 0.0, 0.015),
    "La": (0.0005, 0.27, 0.049), "Ce": (0.0005, 0.2, 0.08), "Pb": (0.003, 0.36, 0.012),
    "Pr": (0.0008, 0.17, 0.126), "Nd": (0.00042, 0.14, 0.178), "Sr": (4e-05, 2.0, 0.091),
    "Zr": (0.0033, 0.01, 0.119), "Hf": (0.0022, 0.01, 0.284), "Sm": (0.0011, 0.11, 0.293),
    "Eu": (0.0016, 0.73, 0.335), "Ti": (0.015, 0.04, 0.35), "Gd": (0.0011, 0.066, 0.35),
    "Tb": (0.0015, 0.06, 0.403), "Dy": (0.0027, 0.055, 0.4), "Ho": (0.0016, 0.048, 0.427),
    "Y": (0.0099, 0.03, 0.426), "Er": (0.013, 0.01, 0.42), "Yb": (0.02, 0.031, 0.4),
    "Lu": (0.02, 0.025, 0.376),
}
"""Mineral/melt partition coefficients (olivine, plagioclase, clinopyroxene)."""

FC_ASSEMBLAGE: Final[dict[str, float]] = {"olv": 0.2, "plg": 0.5, "cpx": 0.3}
"""Mass proportions of the crystallising assemblage: an olivine-plagioclase-clinopyroxene
gabbro, the low-pressure cotectic of MORB (Grove et al. 1992) with some olivine-only and
olivine-plagioclase crystallisation before it (an assumed average; give
``fc_partition=`` to :class:`pystats.MORBMelting` for another)."""


def fc_partition(modes: dict[str, float] | None = None) -> dict[str, float]:
    """Bulk crystal/melt ``D_fc`` per element of the crystallising assemblage.

    Parameters
    ----------
    modes : dict, optional
        ``olv``, ``plg``, ``cpx`` mass proportions (default :data:`FC_ASSEMBLAGE`).

    Examples
    --------
    >>> d = fc_partition()
    >>> round(d["Sr"], 3), round(d["La"], 3), round(d["Yb"], 3)
    (1.027, 0.15, 0.139)
    """
    modes = dict(FC_ASSEMBLAGE if modes is None else modes)
    out = {}
    for element, (olv, plg, cpx) in KD_FC_GG2010.items():
        out[element] = float(bulk_partition(modes, {"olv": olv, "plg": plg, "cpx": cpx}))
    return out
