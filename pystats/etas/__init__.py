"""pystats.etas: the ETAS and Omori–Utsu point-process families.

One module per thing: :mod:`~pystats.etas.point_process` (the shared base class),
:mod:`~pystats.etas.etas_family` and :mod:`~pystats.etas.omori_family` (the two families),
:mod:`~pystats.etas.productivity` (productivity maths), :mod:`~pystats.etas.inputs` (input
reading); :mod:`~pystats.etas.model` re-exports the public names and documents the priors.
``pystats.etas.ETAS`` and ``pystats.etas.OmoriUtsu`` are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"ETAS": "pystats.etas.etas_family", "OmoriUtsu": "pystats.etas.omori_family"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'pystats.etas' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
