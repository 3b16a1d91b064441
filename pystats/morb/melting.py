"""Forward trace-element melting laws (vectorised NumPy).

Every function broadcasts its arguments (elements along one axis, samples along another),
returns a new array and never modifies its inputs.  ``D`` is the bulk solid/melt partition
coefficient of the source (``D0``), ``P`` that of the melting reaction (``None``: modal
melting, ``P = D0``), ``F`` the melt fraction.  The formulas and their limits are in
``models/morb_melting.md``.

Examples
--------
>>> import numpy as np
>>> from pystats.morb.melting import melt
>>> c = melt(1.0, np.array([1e-5, 0.1, 1.0]), 0.06, law="aggregated_fractional")
>>> np.round(c, 4).tolist()
[16.6667, 7.6897, 1.0]

References
----------
Shaw, D. M. (1970). Trace element fractionation during anatexis. Geochimica et
Cosmochimica Acta 34, 237-243. https://doi.org/10.1016/0016-7037(70)90009-8

Zou, H. (1998). Trace element fractionation during modal and nonmodal dynamic melting and
open-system melting: a mathematical treatment. Geochimica et Cosmochimica Acta 62,
1937-1945. https://doi.org/10.1016/S0016-7037(98)00115-X
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import OptionError

__all__ = [
    "LAWS",
    "aggregated_fractional",
    "batch",
    "bulk_partition",
    "continuous",
    "instantaneous_fractional",
    "melt",
    "residue_fractional",
]

LAWS = ("batch", "instantaneous_fractional", "aggregated_fractional", "continuous")
"""Melting laws of :func:`melt`."""

_SMALL_P = 1e-9


def _arrays(c0: Any, D: Any, F: Any, P: Any) -> tuple[np.ndarray, ...]:
    c0 = np.asarray(c0, dtype=float)
    D = np.asarray(D, dtype=float)
    F = np.asarray(F, dtype=float)
    P = D if P is None else np.asarray(P, dtype=float)
    for name, arr, low, high in (("D", D, 0.0, np.inf), ("F", F, 0.0, 1.0),
                                 ("P", P, 0.0, np.inf)):
        bad = ~np.isfinite(arr) | (arr < low) | (arr > high)
        if np.any(bad):
            value = arr[bad].ravel()[0] if arr.ndim else float(arr)
            raise OptionError(f"{name}={value!r} is not allowed; use numbers in "
                              f"[{low:g}, {high:g}]")
    if np.any(D <= 0):
        raise OptionError("D=0 is not allowed; use bulk partition coefficients > 0 "
                          "(an exactly incompatible element: a small D such as 1e-6)")
    return c0, D, F, P


def _residual_power(D: np.ndarray, F: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``(1 - P F / D)^(1/P)``, clamped at exhaustion (``P F >= D``: 0) and stable as
    ``P -> 0`` (``exp(-F/D)``)."""
    ratio = np.clip(P * F / D, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_p = np.where(P > _SMALL_P, P, 1.0)
        power = np.where(P > _SMALL_P, np.exp(np.log1p(-ratio) / safe_p), np.exp(-F / D))
    return np.where(ratio >= 1.0, 0.0, power)


def batch(c0: Any, D: Any, F: Any, P: Any = None) -> np.ndarray:
    """Batch (equilibrium) melting, Shaw (1970): ``C0 / (D + F (1 - P))``.

    Examples
    --------
    >>> float(batch(1.0, 0.1, 0.0)), float(batch(1.0, 0.1, 1.0))
    (10.0, 1.0)
    """
    c0, D, F, P = _arrays(c0, D, F, P)
    return c0 / (D + F * (1.0 - P))


def instantaneous_fractional(c0: Any, D: Any, F: Any, P: Any = None) -> np.ndarray:
    """Instantaneous melt of fractional melting: ``(C0/D)(1 - P F/D)^(1/P - 1)``.

    Zero once the element is exhausted from the residue (``P F >= D``, non-modal melting).

    Examples
    --------
    >>> float(instantaneous_fractional(1.0, 0.5, 0.0))
    2.0
    """
    c0, D, F, P = _arrays(c0, D, F, P)
    ratio = np.clip(P * F / D, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_p = np.where(P > _SMALL_P, P, 1.0)
        log_term = np.where(P > _SMALL_P, np.log1p(-ratio) * (1.0 / safe_p - 1.0), -F / D)
        out = c0 / D * np.exp(log_term)
    return np.where(ratio >= 1.0, 0.0, out)


def aggregated_fractional(c0: Any, D: Any, F: Any, P: Any = None) -> np.ndarray:
    """Aggregated (accumulated) melt of fractional melting:
    ``(C0/F)(1 - (1 - P F/D)^(1/P))``; ``C0/D`` at ``F = 0``.

    Once the element is exhausted (``P F >= D``) the aggregated melt holds all of it,
    ``C0/F``.

    Examples
    --------
    >>> float(aggregated_fractional(1.0, 0.1, 1.0))
    1.0
    """
    c0, D, F, P = _arrays(c0, D, F, P)
    remaining = _residual_power(D, F, P)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = c0 * (1.0 - remaining) / F
    return np.where(F > 0, out, c0 / D)


def residue_fractional(c0: Any, D: Any, F: Any, P: Any = None) -> np.ndarray:
    """Residual solid of fractional melting: ``C0 (1 - P F/D)^(1/P) / (1 - F)``.

    Mass balance: ``F * aggregated + (1 - F) * residue = C0``.
    """
    c0, D, F, P = _arrays(c0, D, F, P)
    with np.errstate(divide="ignore", invalid="ignore"):
        return c0 * _residual_power(D, F, P) / (1.0 - F)


def continuous(c0: Any, D: Any, F: Any, phi: float = 0.005) -> np.ndarray:
    """Aggregated melt of continuous (dynamic) melting with residual mass porosity ``phi``
    (modal; Zou 1998): ``(C0/X)(1 - (1 - X)^(1/D_phi))`` with ``D_phi = phi + (1 - phi) D``
    and extracted melt fraction ``X = (F - phi)/(1 - phi)``; batch melting for
    ``F <= phi``.

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.isclose(continuous(1.0, 0.05, 0.1, phi=0.0),
    ...                 aggregated_fractional(1.0, 0.05, 0.1)))
    True
    """
    if not (isinstance(phi, int | float | np.floating) and 0.0 <= float(phi) < 1.0):
        raise OptionError(f"phi={phi!r} is not allowed; use a number in [0, 1)")
    c0, D, F, _ = _arrays(c0, D, F, None)
    d_phi = phi + (1.0 - phi) * D
    X = np.clip((F - phi) / (1.0 - phi), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg = c0 * -np.expm1(np.log1p(-X) / d_phi) / X
    before = c0 / (D + F * (1.0 - D))  # batch up to the threshold porosity
    return np.where(X > 0, agg, before)


def melt(c0: Any, D: Any, F: Any, *, law: str = "aggregated_fractional", P: Any = None,
         phi: float = 0.005) -> np.ndarray:
    """Melt composition by the melting law ``law`` (one of :data:`LAWS`).

    Parameters
    ----------
    c0 : array_like
        Source concentrations (any unit; the melt has the same unit).
    D : array_like
        Bulk partition coefficients of the source (> 0).
    F : array_like
        Melt fractions in [0, 1].
    law : {"batch", "instantaneous_fractional", "aggregated_fractional", "continuous"}
    P : array_like, optional
        Bulk partition coefficients of the melting reaction (non-modal melting); default
        modal (``P = D``).  Not used by ``"continuous"`` (modal).
    phi : float
        Residual mass porosity of ``"continuous"``.

    Returns
    -------
    numpy.ndarray
        The broadcast shape of ``c0``, ``D``, ``F``.

    Examples
    --------
    >>> import numpy as np
    >>> melt([1.0, 1.0], [0.01, 0.3], 0.1, law="batch").round(3).tolist()
    [9.174, 2.703]
    """
    if law == "batch":
        return batch(c0, D, F, P)
    if law == "instantaneous_fractional":
        return instantaneous_fractional(c0, D, F, P)
    if law == "aggregated_fractional":
        return aggregated_fractional(c0, D, F, P)
    if law == "continuous":
        if P is not None:
            raise OptionError("P is not allowed with law='continuous' (modal melting)")
        return continuous(c0, D, F, phi)
    raise OptionError(f"law={law!r} is not allowed; use one of {', '.join(LAWS)}")


def bulk_partition(modes: Mapping[str, float], kd: Mapping[str, Any]) -> np.ndarray:
    """Bulk partition coefficient ``sum_k x_k D_k`` of a mineral assemblage.

    Parameters
    ----------
    modes : mapping
        Mineral -> mass proportion (melting-reaction proportions give ``P``).  They must
        be >= 0; they are used as given (not renormalised).
    kd : mapping
        Mineral -> mineral/melt partition coefficient(s), scalars or arrays over elements.

    Examples
    --------
    >>> round(float(bulk_partition({"olv": 0.6, "cpx": 0.4}, {"olv": 0.01, "cpx": 0.5})), 6)
    0.206
    """
    total: np.ndarray = np.asarray(0.0)
    for mineral, x in modes.items():
        if not (np.isfinite(x) and x >= 0):
            raise OptionError(f"modes[{mineral!r}]={x!r} is not allowed; use a proportion >= 0")
        if x == 0:
            continue
        if mineral not in kd:
            raise OptionError(f"no partition coefficient for mineral {mineral!r}; kd has "
                              f"{', '.join(kd)}")
        total = total + x * np.asarray(kd[mineral], dtype=float)
    return np.asarray(total, dtype=float)
