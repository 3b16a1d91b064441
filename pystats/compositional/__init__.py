"""Compositional geochemistry: log-ratio transforms, isocon mass balance (Grant's isocon
and the sparse Bayesian isocon) and process extraction by ilr-PCA/ICA.

Submodules: :mod:`~pystats.compositional.transforms` (closure, clr, ilr, alr and inverses,
explicit handling of values below detection), :mod:`~pystats.compositional.isocon`
(``GrantIsocon``, ``SparseIsocon``), :mod:`~pystats.compositional.processes`
(``CompositionalProcesses``).
"""

from .transforms import (
    alr,
    alr_inverse,
    closure,
    clr,
    clr_inverse,
    helmert_basis,
    ilr,
    ilr_inverse,
    replace_below_detection,
)

__all__ = [
    "alr",
    "alr_inverse",
    "closure",
    "clr",
    "clr_inverse",
    "helmert_basis",
    "ilr",
    "ilr_inverse",
    "replace_below_detection",
]
