"""Input reading of the point-process families (:mod:`pystats.etas.model`).

Data of :class:`~pystats.etas.model.ETAS` and :class:`~pystats.etas.model.OmoriUtsu` to
event times (days) and magnitudes, validated by :class:`~pystats.Catalog`, and time bounds
given as numbers or date-times.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from .._checks import number as _number
from ..errors import DataError, OptionError

MIN_EVENTS = 2
"""Fewer target events than this raise :class:`DataError`."""
FEW_EVENTS = 30
"""Fewer target events than this give a :class:`DataWarning`."""


# ============================================================================ helpers
def _time_value(name: str, value: Any, reference: str | None) -> float:
    """A time bound as days on the catalogue's axis: a number, or a date-time."""
    import pandas as pd

    from ..catalog import _to_timestamp

    if isinstance(value, str | _dt.datetime | pd.Timestamp | np.datetime64):
        if reference is None:
            raise OptionError(
                f"{name}={value!r} is a date-time, but the data have numeric times with no "
                "reference time; give a number on the data's time axis (days)"
            )
        ts = _to_timestamp(value, name)
        return float((ts - pd.Timestamp(reference)) / pd.Timedelta(days=1))
    return _number(name, value, "a finite number (days on the data's time axis) or a date-time")



def _too_few(family: str, n: int, mc: float | None, dropped: str = "") -> str:
    """Message for data with fewer than :data:`MIN_EVENTS` usable events."""
    above = f" with M >= mc={mc:g}" if mc is not None else ""
    return (
        f"{family} needs at least {MIN_EVENTS} events{above} to fit (and {FEW_EVENTS} or more "
        f"for usable estimates); the data have {n}{dropped}. Give a longer catalogue"
        + (" or lower mc" if mc is not None else "")
    )


def _read_events(data: Any, *, need_magnitudes: bool, family: str,
                 strictly_increasing: bool = True) -> dict[str, Any]:
    """Times (days) and magnitudes of ``data``, validated by :class:`~pystats.Catalog`.

    Returns a dict with ``times``, ``magnitudes`` (or ``None``), ``source`` and
    ``reference_time`` (ISO string or ``None``).  Times must be strictly increasing
    (:meth:`Catalog.check_times`), or only non-decreasing with
    ``strictly_increasing=False`` (families whose rate does not depend on past events).
    """
    import pandas as pd

    from ..catalog import Catalog
    from ..readers import event_arrays, finite_numbers, missing_column

    allowed = (
        "a pystats.Catalog, a DataFrame with columns 'time' and 'magnitude', a pair "
        "(times, magnitudes) of arrays, or a simulated catalogue (pystats.etas.simulate)"
    )
    if not need_magnitudes:
        allowed += ", or a 1-D array of times"
    mags_given = True
    if isinstance(data, Catalog):
        cat, source = data, "Catalog"
    elif isinstance(data, pd.DataFrame):
        if "time" not in data.columns:
            raise missing_column(data, "time", f"{family} needs {allowed}")
        if "magnitude" in data.columns:
            cat = Catalog(data[["time", "magnitude"]])
        elif need_magnitudes:
            raise missing_column(data, "magnitude", f"{family} needs times and magnitudes")
        else:
            cat = Catalog(pd.DataFrame({"time": data["time"], "magnitude": 0.0}))
            mags_given = False
        source = "DataFrame"
    elif hasattr(data, "times") and hasattr(data, "magnitudes"):
        cat = Catalog.from_arrays(np.asarray(data.times), np.asarray(data.magnitudes))
        source = type(data).__name__
    elif isinstance(data, tuple) and len(data) == 2:
        cat = Catalog.from_arrays(data[0], data[1])
        source = "arrays (times, magnitudes)"
    elif not need_magnitudes and isinstance(data, np.ndarray | list | pd.Series):
        times = finite_numbers(data, "times", "Series" if isinstance(data, pd.Series) else "array")
        cat = Catalog.from_arrays(times, np.zeros(times.size))
        source, mags_given = "array of times", False
    else:
        raise DataError(f"data of type {type(data).__name__} is not allowed; use {allowed}")
    cat.check_times(strictly_increasing=strictly_increasing)
    ref = cat.reference_time
    times, mags = event_arrays(cat)
    return {
        "times": times,
        "magnitudes": mags if mags_given else None,
        "source": source,
        "reference_time": None if ref is None else ref.isoformat(),
    }
