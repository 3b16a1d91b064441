"""Validation of option and argument values shared by the model families (internal)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import OptionError


def number(name: str, value: Any, allowed: str, *, positive: bool = False,
           nonneg: bool = False) -> float:
    """A finite real ``value`` (``> 0`` with ``positive``, ``>= 0`` with ``nonneg``) as a
    float; otherwise :class:`OptionError` naming ``name``, the value and ``allowed``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise OptionError(f"{name}={value!r} is not allowed; use {allowed}")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0) or (nonneg and v < 0):
        raise OptionError(f"{name}={value!r} is not allowed; use {allowed}")
    return v


def check_prob(prob: Any) -> float:
    """``prob`` as a float in ``(0, 1)`` (an interval mass); :class:`OptionError` otherwise."""
    if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0 < prob < 1:
        raise OptionError(f"prob={prob!r} is not allowed; use a number in (0, 1)")
    return float(prob)


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
