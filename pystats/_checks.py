"""Validation of option and argument values, one set for the whole package (internal).

Every check raises :class:`~pystats.errors.OptionError` with a message naming the field,
the value given and what is allowed (``"chains=True is not allowed; use an integer >= 1"``)
and returns the value converted to a plain Python type. Booleans are never numbers here
(``True`` is an ``int`` to Python, but ``chains=True`` or ``b=True`` is a mistake).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .errors import OptionError

__all__ = ["SEED_MAX", "check_prob", "integer", "magnitude_array", "number", "probability",
           "real", "seed"]

SEED_MAX = 2**32 - 1
"""Largest seed: Stan and numpy seeds are unsigned 32-bit integers here."""


def _refuse(name: str, value: Any, allowed: str) -> OptionError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return OptionError(f"{name}={text} is not allowed; use {allowed}")


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _scalar(value: Any) -> Any:
    """A 0-d numeric numpy array (e.g. one parameter draw) as its scalar; else ``value``."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value[()]
    return value


def integer(name: str, value: Any, minimum: int = 0, *, maximum: int | None = None,
            allowed: str | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]``.

    Integral floats (``2.0``, ``1e4``) are accepted; booleans, fractions (``2.5``),
    NaN and infinities are not.
    """
    if allowed is None:
        allowed = (f"an integer >= {minimum}" if maximum is None
                   else f"an integer in [{minimum}, {maximum}]")
    value = _scalar(value)
    if not _is_real(value):
        raise _refuse(name, value, allowed)
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        x = float(value)
        if not math.isfinite(x) or not x.is_integer():
            raise _refuse(name, value, allowed)
        v = int(x)
    if v < minimum or (maximum is not None and v > maximum):
        raise _refuse(name, value, allowed)
    return v


def real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, allow_inf: bool = False,
         allowed: str | None = None) -> float:
    """``value`` as a ``float`` within the bounds given.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open``; NaN is refused, and
    infinities unless ``allow_inf`` (and the bounds allow them).
    """
    if allowed is None:
        parts = []
        if low is not None:
            parts.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            parts.append(f"{'<' if high_open else '<='} {high:g}")
        allowed = ("a number" if allow_inf else "a finite number") + (
            " " + " and ".join(parts) if parts else "")
    value = _scalar(value)
    if not _is_real(value):
        raise _refuse(name, value, allowed)
    x = float(value)
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise _refuse(name, value, allowed)
    if low is not None and (x < low or (low_open and x == low)):
        raise _refuse(name, value, allowed)
    if high is not None and (x > high or (high_open and x == high)):
        raise _refuse(name, value, allowed)
    return x


def number(name: str, value: Any, allowed: str, *, positive: bool = False,
           nonneg: bool = False) -> float:
    """A finite real ``value`` (``> 0`` with ``positive``, ``>= 0`` with ``nonneg``) as a
    float; otherwise :class:`OptionError` naming ``name``, the value and ``allowed``."""
    low = 0.0 if positive or nonneg else None
    return real(name, value, low=low, low_open=positive, allowed=allowed)


def probability(name: str, value: Any) -> float:
    """``value`` as a float strictly inside ``(0, 1)`` (a probability or interval mass)."""
    return real(name, value, low=0.0, high=1.0, low_open=True, high_open=True,
                allowed="a number in (0, 1)")


def check_prob(prob: Any) -> float:
    """``prob`` as a float in ``(0, 1)`` (an interval mass); :class:`OptionError` otherwise."""
    return probability("prob", prob)


def seed(value: Any, name: str = "seed", *, generator: bool = False) -> Any:
    """A random seed: ``None``, an integer in ``[0, 2**32 - 1]`` (returned as ``int``) or,
    with ``generator``, a :class:`numpy.random.Generator` (returned as is)."""
    if value is None or (generator and isinstance(value, np.random.Generator)):
        return value
    allowed = f"None or an integer in [0, 2**32 - 1]{' or a numpy Generator' if generator else ''}"
    if not _is_real(value) or not isinstance(value, numbers.Integral):
        raise _refuse(name, value, allowed)
    return integer(name, value, 0, maximum=SEED_MAX, allowed=allowed)


def magnitude_array(magnitudes: Any) -> np.ndarray:
    """``magnitudes`` as a new 1-D array of one or more finite floats.

    Raises
    ------
    OptionError
        Not numbers, empty, or not finite (the message quotes the value).
    """
    try:
        mags = np.array(magnitudes, dtype=float, copy=True).reshape(-1)
    except (TypeError, ValueError) as e:
        raise OptionError(f"magnitudes={magnitudes!r:.80} must be numbers") from e
    if mags.size == 0 or not np.all(np.isfinite(mags)):
        raise OptionError(
            f"magnitudes={magnitudes!r:.80} is not allowed; use one or more finite numbers"
        )
    return mags
