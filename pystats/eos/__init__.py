"""pystats.eos: the liquid-iron equation-of-state family.

:mod:`~pystats.eos.forward` (the EOS and its derived quantities, vectorised NumPy),
:mod:`~pystats.eos.anderson_ahrens` (the Anderson & Ahrens 1994 form, forward only),
:mod:`~pystats.eos.data` (the tidy observation table), :mod:`~pystats.eos.model`
(:class:`LiquidIronEOS`, fits and outer-core predictions).  See
``models/liquid_iron_eos.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"LiquidIronEOS": "pystats.eos.model", "EOSParameters": "pystats.eos.forward",
         "AndersonAhrensParameters": "pystats.eos.anderson_ahrens",
         "compare_isotherms": "pystats.eos.model"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'pystats.eos' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
