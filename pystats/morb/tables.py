"""Reference compositions and bulk partition coefficients used by the MORB inversion.

The values are the published ones (ppm), as tabulated by pyrolite and pyMelt; the tests
check them against the copies in the shared data folder.

* ``DMM_WH2005``: depleted MORB mantle, Workman & Hart (2005), with their bulk D
  (``D_WH2005``, spinel-field modal melting).
* ``DM_SS2004``: depleted mantle, Salters & Stracke (2004).
* ``PM_MS1995``: primitive mantle, McDonough & Sun (1995) (spider-diagram normalisation).
* ``NMORB_GALE2013``: mean N-MORB of Gale et al. (2013) (no Ti in that table: NaN).

Examples
--------
>>> from pystats.morb.tables import reference
>>> reference("DMM_WH2005")["La"], reference("D_WH2005")["Lu"]
(0.192, 0.12)

References
----------
Gale, A. et al. (2013). The mean composition of ocean ridge basalts. G-cubed 14, 489-518.
https://doi.org/10.1029/2012GC004334

McDonough, W. F. and Sun, S.-s. (1995). The composition of the Earth. Chemical Geology
120, 223-253. https://doi.org/10.1016/0009-2541(94)00140-4

Salters, V. J. M. and Stracke, A. (2004). Composition of the depleted mantle. G-cubed 5,
Q05B07. https://doi.org/10.1029/2003GC000597

Workman, R. K. and Hart, S. R. (2005). Major and trace element composition of the depleted
MORB mantle (DMM). EPSL 231, 53-72. https://doi.org/10.1016/j.epsl.2004.12.005
"""

from __future__ import annotations

import math

from ..errors import OptionError

__all__ = ["ELEMENTS", "REFERENCES", "reference"]

_NAN = math.nan

# element: (DMM WH2005, bulk D WH2005, PM MS1995, DM SS2004, N-MORB Gale 2013)
_TABLE = {
    "Rb": (0.05, 1e-05, 0.6, 0.088, 1.84),
    "Ba": (0.563, 0.00012, 6.6, 1.2, 19.6),
    "Th": (0.0079, 0.001, 0.0795, 0.0137, 0.252),
    "U": (0.0032, 0.0011, 0.0203, 0.0047, 0.083),
    "Nb": (0.1485, 0.0034, 0.658, 0.21, 3.62),
    "Ta": (0.0096, 0.0034, 0.037, 0.0138, 0.24),
    "La": (0.192, 0.01, 0.648, 0.234, 4.19),
    "Ce": (0.55, 0.022, 1.675, 0.772, 12.42),
    "Pb": (0.018, 0.014, 0.15, 0.0232, 0.51),
    "Pr": (0.107, 0.027, 0.254, 0.131, 1.98),
    "Nd": (0.581, 0.031, 1.25, 0.713, 10.66),
    "Sr": (7.664, 0.025, 19.9, 9.8, 128.0),
    "Zr": (5.082, 0.033, 10.5, 7.95, 101.9),
    "Hf": (0.157, 0.035, 0.283, 0.199, 2.46),
    "Sm": (0.239, 0.045, 0.406, 0.27, 3.48),
    "Eu": (0.096, 0.05, 0.154, 0.107, 1.26),
    "Ti": (716.3, 0.058, 1205, 798, _NAN),
    "Gd": (0.358, 0.056, 0.544, 0.395, 4.55),
    "Tb": (0.07, 0.068, 0.099, 0.075, 0.82),
    "Dy": (0.505, 0.079, 0.674, 0.531, 5.5),
    "Ho": (0.115, 0.084, 0.149, 0.122, 1.18),
    "Y": (3.328, 0.088, 4.3, 4.07, 33.2),
    "Er": (0.348, 0.097, 0.438, 0.371, 3.42),
    "Yb": (0.365, 0.115, 0.441, 0.401, 3.28),
    "Lu": (0.058, 0.12, 0.0675, 0.063, 0.48),
}

ELEMENTS = tuple(_TABLE)
"""Elements with a DMM composition and a bulk D, in spider-diagram order (most
incompatible first)."""

REFERENCES = ("DMM_WH2005", "D_WH2005", "PM_MS1995", "DM_SS2004", "NMORB_GALE2013")
"""Names accepted by :func:`reference`."""


def reference(name: str) -> dict[str, float]:
    """The table ``name`` (one of :data:`REFERENCES`) as element -> value (a new dict)."""
    if name not in REFERENCES:
        raise OptionError(f"reference {name!r} is not known; use one of {', '.join(REFERENCES)}")
    column = REFERENCES.index(name)
    return {e: float(row[column]) for e, row in _TABLE.items()}
