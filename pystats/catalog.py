"""The :class:`Catalog` data type: an immutable, validated earthquake catalogue.

A catalogue is a table of events with an origin time and a magnitude, optionally a
hypocentre (``latitude``, ``longitude`` in degrees, ``depth`` in km, positive down) and
any number of extra columns, which are kept as they are.  Times are either calendar
date-times (stored as UTC) or numbers of days relative to a reference time.  Every model
family reads its data from a catalogue through the same accessors (:attr:`Catalog.times`,
:attr:`Catalog.magnitudes`, :meth:`Catalog.column`), so checks are made once, here.

Nothing is ever modified in place: :meth:`Catalog.select` returns a new catalogue (pycsep
filters in place by default, which surprised its users: pycsep issue #80), and the frame
or arrays passed in are copied, never referenced.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import _checks
from .errors import DataError, OptionError

__all__ = ["TIME_UNITS", "Catalog"]

TIME_UNITS: Mapping[str, float] = {
    "days": 1.0,
    "hours": 1.0 / 24.0,
    "minutes": 1.0 / 1440.0,
    "seconds": 1.0 / 86400.0,
}
"""Units allowed for numeric times, with their length in days."""

_REQUIRED = ("time", "magnitude")
_SPATIAL = ("latitude", "longitude", "depth")
_CANONICAL = _REQUIRED + _SPATIAL
_ALIASES = {
    "time": ("origin_time", "origintime", "datetime", "date_time", "time_string", "date"),
    "magnitude": ("mag", "m", "ml", "mw"),
    "latitude": ("lat",),
    "longitude": ("lon", "long", "lng"),
    "depth": ("depth_km", "dep"),
}
_LIMIT = 5  # offending rows shown in a message; the rest are counted
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_ISO_EXAMPLES = (
    "ISO 8601 date-times such as '2019-07-06T03:19:53.04Z' or '2019-07-06 03:19:53+00:00' "
    "(naive ones are read as UTC)"
)


# ---------------------------------------------------------------------- messages
def _rows_text(positions: Any, rows: np.ndarray | None = None, values: Any = None) -> str:
    """``"rows 3, 17 ('x'), ... (12 rows in all)"`` for the offending positions."""
    pos = np.asarray(positions, dtype=np.int64)
    labels = pos if rows is None else np.asarray(rows)[pos]
    vals = None if values is None else list(values)
    shown = []
    for i, label in enumerate(labels[:_LIMIT]):
        text = str(int(label))
        if vals is not None:
            text += f" ({_short(vals[i])})"
        shown.append(text)
    out = ("row " if len(labels) == 1 else "rows ") + ", ".join(shown)
    if len(labels) > _LIMIT:
        out += f", ... ({len(labels)} rows in all)"
    return out


def _short(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    text = repr(value.strip() if isinstance(value, str) else value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------- conversions
def _to_timestamp(value: Any, what: str) -> pd.Timestamp:
    """A UTC :class:`pandas.Timestamp` from a string, datetime or numpy datetime64."""
    if isinstance(value, bool) or not isinstance(
        value, str | _dt.datetime | _dt.date | np.datetime64 | pd.Timestamp
    ):
        raise OptionError(
            f"{what}={value!r} is not allowed; use a date-time (string such as "
            f"'2019-07-06T03:19:53Z', datetime, numpy.datetime64 or pandas.Timestamp)"
        )
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as e:
        raise OptionError(
            f"{what}={value!r} could not be read as a date-time; use e.g. '2019-07-06T03:19:53Z'"
        ) from e
    if ts is pd.NaT:
        raise OptionError(f"{what} is NaT; use a date-time")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _as_utc(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC")
    return series.dt.tz_localize("UTC")


def _int_times(dt: pd.Series | pd.DatetimeIndex) -> tuple[np.ndarray, str]:
    """Integer time stamps of a UTC datetime column and their unit."""
    index = pd.DatetimeIndex(dt)
    return index.asi8, index.unit


def _days_since(dt: pd.Series, reference: pd.Timestamp) -> np.ndarray:
    values, unit = _int_times(dt)
    ref = int(reference.as_unit(unit).asm8.astype(np.int64))
    return (values - ref) / (86400.0 * _PER_SECOND[unit])


def _text_missing(series: pd.Series) -> np.ndarray:
    """NaN/None entries and empty strings."""
    obj = series.astype(object)
    empty = obj.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    return series.isna().to_numpy(dtype=bool) | empty


def _parse_datetimes(series: pd.Series, time_format: str | None) -> pd.Series:
    """UTC datetimes (NaT where an entry cannot be parsed); entries are parsed one by one
    only when the column as a whole does not fit pandas' nanosecond range."""
    fmt = time_format or "ISO8601"
    text = series.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    try:
        out = pd.to_datetime(text, utc=True, format=fmt, errors="coerce")
    except (ValueError, TypeError, OverflowError):
        out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    failed = np.flatnonzero(text.notna().to_numpy() & out.isna().to_numpy())
    if failed.size:
        redo = {}
        for i in failed:
            try:
                one = pd.to_datetime(pd.Series([text.iloc[i]]), utc=True, format=fmt)
            except (ValueError, TypeError, OverflowError):
                continue
            redo[i] = one.iloc[0]
        if redo:
            out = out.dt.as_unit("us")
            for i, ts in redo.items():
                out.iloc[i] = ts.as_unit("us")
    return out


def _parse_time_column(
    series: pd.Series,
    *,
    column: str = "time",
    rows: np.ndarray | None = None,
    time_format: str | None = None,
) -> tuple[str, pd.Series]:
    """Parse a time column into UTC datetimes or float numbers.

    Returns ``("datetime", Series[datetime64[..., UTC]])`` or ``("numeric", Series[float])``
    with a fresh 0..n-1 index. Raises :class:`DataError` naming the rows that are missing or
    cannot be parsed.
    """
    s = series.reset_index(drop=True)
    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        out = _as_utc(s)
        _raise_missing_times(out.isna().to_numpy(), column, rows)
        return "datetime", out
    if pd.api.types.is_bool_dtype(dtype):
        raise DataError(
            f"column {column!r} holds booleans; allowed: date-times or numbers of days"
        )
    if pd.api.types.is_timedelta64_dtype(dtype):
        _raise_missing_times(s.isna().to_numpy(), column, rows)
        return "numeric", s / pd.Timedelta(days=1)
    if pd.api.types.is_numeric_dtype(dtype):
        x = pd.Series(s.to_numpy(dtype="float64", na_value=np.nan))
        bad = np.flatnonzero(~np.isfinite(x.to_numpy()))
        if bad.size:
            raise DataError(
                f"column {column!r} has NaN or infinite times in {_rows_text(bad, rows)} "
                f"(0-based); allowed: finite numbers (days) or date-times"
            )
        return "numeric", x
    # text or Python objects
    missing = _text_missing(s)
    valid = s.where(~missing)
    numbers = pd.to_numeric(valid, errors="coerce") if time_format is None else None
    n_valid = int((~missing).sum())
    if numbers is not None and n_valid and int(numbers.notna().sum()) == n_valid:
        kind, parsed = "numeric", numbers.astype("float64")
    else:
        dates = _parse_datetimes(valid, time_format)
        if numbers is not None and int(numbers.notna().sum()) > int(dates.notna().sum()):
            kind, parsed = "numeric", numbers.astype("float64")
        else:
            kind, parsed = "datetime", dates
    bad = np.flatnonzero(~missing & parsed.isna().to_numpy())
    if bad.size:
        allowed = (
            "finite numbers (days)"
            if kind == "numeric"
            else (
                f"date-times in the format {time_format!r}"
                if time_format
                else f"{_ISO_EXAMPLES}; pass time_format= for other layouts"
            )
        )
        raise DataError(
            f"column {column!r}: {bad.size} time(s) could not be parsed, in "
            f"{_rows_text(bad, rows, s.iloc[bad[:_LIMIT]])} (0-based); allowed: {allowed}"
        )
    _raise_missing_times(missing, column, rows)
    if kind == "numeric":
        nonfinite = np.flatnonzero(~np.isfinite(parsed.to_numpy()))
        if nonfinite.size:
            raise DataError(
                f"column {column!r} has NaN or infinite times in "
                f"{_rows_text(nonfinite, rows)} (0-based); allowed: finite numbers (days)"
            )
    return kind, parsed.reset_index(drop=True)


def _raise_missing_times(missing: np.ndarray, column: str, rows: np.ndarray | None) -> None:
    where = np.flatnonzero(missing)
    if where.size:
        raise DataError(
            f"column {column!r} is empty (missing time) in {_rows_text(where, rows)} "
            f"(0-based); every event needs a time"
        )


def _numeric_column(
    series: pd.Series, column: str, rows: np.ndarray | None, *, allow_nan: bool = False
) -> np.ndarray:
    """A float64 copy of a numeric column; DataError for text, booleans, NaN or inf."""
    s = series.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s.dtype):
        raise DataError(f"column {column!r} holds booleans; allowed: numbers")
    if pd.api.types.is_numeric_dtype(s.dtype):
        x = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        missing = _text_missing(s)
        x = pd.to_numeric(s.where(~missing), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True
        )
        bad = np.flatnonzero(~missing & np.isnan(x))
        if bad.size:
            raise DataError(
                f"column {column!r} has {bad.size} entries that are not numbers, in "
                f"{_rows_text(bad, rows, s.iloc[bad[:_LIMIT]])} (0-based); allowed: numbers"
            )
    nonfinite = np.isinf(x) if allow_nan else ~np.isfinite(x)
    where = np.flatnonzero(nonfinite)
    if where.size:
        what = "infinite" if allow_nan else "NaN (missing) or infinite"
        raise DataError(
            f"column {column!r} has {what} values in {_rows_text(where, rows)} (0-based); "
            f"allowed: finite numbers"
            + (
                ". Drop those events first, or read the file with "
                "read_catalog(..., missing_magnitude=..., on_missing='drop')"
                if column == "magnitude"
                else ""
            )
        )
    return x


def _check_range(x: np.ndarray, column: str, low: float, high: float, rows: Any) -> None:
    bad = np.flatnonzero((x < low) | (x > high))
    if bad.size:
        raise DataError(
            f"column {column!r} is outside [{low:g}, {high:g}] in "
            f"{_rows_text(bad, rows, x[bad[:_LIMIT]])} (0-based); allowed: degrees in "
            f"[{low:g}, {high:g}]"
        )


def _readonly(x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=np.float64, copy=True)
    x.flags.writeable = False
    return x


def _in_polygon(x: np.ndarray, y: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Even-odd rule: True for the points (x, y) inside the polygon (boundary undefined)."""
    inside = np.zeros(x.shape, dtype=bool)
    xv, yv = vertices[:, 0], vertices[:, 1]
    for i in range(len(vertices)):
        x1, y1 = xv[i - 1], yv[i - 1]
        x2, y2 = xv[i], yv[i]
        crosses = (y1 > y) != (y2 > y)
        if y1 == y2 or not crosses.any():
            continue
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_cross)
    return inside


# ---------------------------------------------------------------------- the class
class Catalog:
    """An immutable, validated earthquake catalogue.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per event. Required columns: ``time`` and ``magnitude``. Optional:
        ``latitude`` (degrees, in [-90, 90]), ``longitude`` (degrees, in [-180, 360]) and
        ``depth`` (km, positive down; may contain NaN for unknown depths). Any other columns
        are kept unchanged. ``time`` holds either date-times (datetime64, tz-aware or naive,
        Python datetimes, or ISO 8601 strings; naive values are read as UTC, offsets are
        respected, everything is stored in UTC) or numbers (in ``time_unit``, relative to
        ``reference_time``). The frame is copied; it is never modified or referenced.
    reference_time : str, datetime or pandas.Timestamp, optional
        Time origin of :attr:`times`. For date-time catalogues the default is the time of
        the first event. For numeric times it is the calendar time of ``t = 0`` (default:
        unknown, and :attr:`datetimes` is then ``None``).
    time_unit : {"days", "hours", "minutes", "seconds"}
        Unit of numeric times; they are converted to days. Only for numeric times.
    name : str, optional
        Label shown in ``repr`` and reports.
    sort : bool
        Sort the events by time (stable sort). By default events must already be in
        non-decreasing time order and a :class:`~pystats.errors.DataError` is raised
        otherwise, so that a mixed-up file is noticed.

    Raises
    ------
    DataError
        Missing ``time`` or ``magnitude`` column, empty catalogue, unparsable, missing or
        non-finite times, NaN/infinite or non-numeric magnitudes, coordinates out of range,
        unsorted times (without ``sort=True``), duplicated column names. Messages name the
        column, the first offending rows (0-based positions in ``frame``) and their count.
    OptionError
        Unknown ``time_unit`` or unreadable ``reference_time``.

    See Also
    --------
    pystats.read_catalog : read a CSV file (ComCat, R ETAS, SAPP, PtProcess, ...).

    Notes
    -----
    Events at the same time are allowed; likelihoods that need strictly increasing times
    (ETAS, Omori) call :meth:`check_times`. Row numbers in error messages count from 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from pystats.catalog import Catalog
    >>> cat = Catalog(pd.DataFrame({"time": ["2019-07-06T03:19:53Z", "2019-07-06T04:00:00Z"],
    ...                             "magnitude": [7.1, 4.5]}))
    >>> len(cat), float(cat.magnitudes.max())
    (2, 7.1)
    >>> cat.times.round(4).tolist()
    [0.0, 0.0279]
    """

    __slots__ = ("_frame", "_kind", "_magnitudes", "_name", "_reference", "_times")

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        reference_time: Any = None,
        time_unit: str = "days",
        name: str | None = None,
        sort: bool = False,
    ) -> None:
        state = _validate(
            frame, reference_time=reference_time, time_unit=time_unit, sort=sort, rows=None
        )
        self._set_state(*state, name=name)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        times: Any,
        magnitudes: Any,
        latitude: Any = None,
        longitude: Any = None,
        depth: Any = None,
        *,
        reference_time: Any = None,
        time_unit: str = "days",
        name: str | None = None,
        sort: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> Catalog:
        """Build a catalogue from arrays (copied; the caller's arrays are not referenced).

        Parameters
        ----------
        times : array-like
            Numbers (in ``time_unit``, relative to ``reference_time``) or date-times.
        magnitudes : array-like of float
        latitude, longitude, depth : array-like of float, optional
            Degrees, degrees, km (positive down).
        reference_time, time_unit, name, sort
            As for :class:`Catalog`.
        extra : mapping of str to array-like, optional
            Extra columns, kept unchanged.

        Returns
        -------
        Catalog

        Raises
        ------
        DataError
            Arrays of different lengths or not one-dimensional, and everything
            :class:`Catalog` checks.
        """
        columns: dict[str, Any] = {"time": times, "magnitude": magnitudes}
        for key, value in (("latitude", latitude), ("longitude", longitude), ("depth", depth)):
            if value is not None:
                columns[key] = value
        for key, value in (extra or {}).items():
            if key in columns or key in _CANONICAL:
                raise OptionError(
                    f"extra column {key!r} clashes with a catalogue column; pass it as the "
                    f"argument of that name or rename it"
                )
            columns[key] = value
        arrays: dict[str, Any] = {}
        for key, value in columns.items():
            if isinstance(value, pd.Series | pd.Index):
                arr = value.to_numpy(copy=True)
            else:
                arr = np.array(value, copy=True)
            if arr.ndim != 1:
                raise DataError(
                    f"{key} must be one-dimensional; got an array of shape {arr.shape}"
                )
            arrays[key] = arr
        lengths = {k: len(v) for k, v in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise DataError(
                "arrays have different lengths: "
                + ", ".join(f"{k}={n}" for k, n in lengths.items())
                + "; every array needs one entry per event"
            )
        return cls(
            pd.DataFrame(arrays),
            reference_time=reference_time,
            time_unit=time_unit,
            name=name,
            sort=sort,
        )

    @classmethod
    def _create(
        cls,
        frame: pd.DataFrame,
        *,
        reference_time: Any = None,
        time_unit: str = "days",
        name: str | None = None,
        sort: bool = False,
        rows: np.ndarray | None = None,
    ) -> Catalog:
        """Like the constructor, but error messages name ``rows[i]`` for position ``i``
        (used by the readers to report the rows of the file)."""
        obj = object.__new__(cls)
        state = _validate(
            frame, reference_time=reference_time, time_unit=time_unit, sort=sort, rows=rows
        )
        obj._set_state(*state, name=name)
        return obj

    def _set_state(
        self, frame: pd.DataFrame, kind: str, reference: pd.Timestamp | None, *, name: str | None
    ) -> None:
        if kind == "datetime":
            times = _days_since(frame["time"], reference)
        else:
            times = frame["time"].to_numpy(dtype=np.float64)
        setter = object.__setattr__
        setter(self, "_frame", frame)
        setter(self, "_kind", kind)
        setter(self, "_reference", reference)
        setter(self, "_name", None if name is None else str(name))
        setter(self, "_times", _readonly(times))
        setter(self, "_magnitudes", _readonly(frame["magnitude"].to_numpy(dtype=np.float64)))

    def _subset(self, mask: np.ndarray) -> Catalog:
        obj = object.__new__(type(self))
        frame = self._frame.loc[mask].reset_index(drop=True)
        obj._set_state(frame, self._kind, self._reference, name=self._name)
        return obj

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            f"Catalog is immutable (cannot set {key!r}); select() and Catalog(...) return "
            f"new catalogues"
        )

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"Catalog is immutable (cannot delete {key!r})")

    def __getstate__(self) -> dict[str, Any]:
        return {"frame": self._frame, "kind": self._kind, "reference": self._reference,
                "name": self._name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._set_state(state["frame"], state["kind"], state["reference"], name=state["name"])

    # ------------------------------------------------------------------ accessors
    @property
    def name(self) -> str | None:
        """Label of the catalogue (``None`` if not given)."""
        return self._name

    @property
    def magnitudes(self) -> np.ndarray:
        """Magnitudes (float64, read-only), in time order."""
        return self._magnitudes

    @property
    def times(self) -> np.ndarray:
        """Times in days since :attr:`reference_time` (float64, read-only, non-decreasing).

        For numeric catalogues without a reference time these are the numbers given
        (converted to days).
        """
        return self._times

    @property
    def datetimes(self) -> pd.DatetimeIndex | None:
        """UTC date-times of the events, or ``None`` for numeric times with no reference."""
        if self._kind == "datetime":
            return pd.DatetimeIndex(self._frame["time"])
        if self._reference is None:
            return None
        return pd.DatetimeIndex(self._reference + pd.to_timedelta(self._times, unit="D"))

    @property
    def reference_time(self) -> pd.Timestamp | None:
        """UTC time of ``t = 0``; ``None`` for numeric times with no calendar anchor."""
        return self._reference

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names: the catalogue columns present, then the extra columns."""
        return tuple(self._frame.columns)

    def column(self, name: str) -> np.ndarray:
        """A read-only copy of one column as a NumPy array (float64 for numeric columns).

        Raises
        ------
        DataError
            If the column does not exist (the message lists the columns).
        """
        if name not in self._frame.columns:
            raise DataError(
                f"the catalogue has no column {name!r}; its columns are {', '.join(self.columns)}"
            )
        if name == "time":
            return self._times
        s = self._frame[name]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            arr = s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        else:
            arr = s.to_numpy(copy=True)
        arr.flags.writeable = False
        return arr

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the events as a DataFrame (see :meth:`to_frame`)."""
        return self.to_frame()

    def to_frame(self) -> pd.DataFrame:
        """A copy of the events as a DataFrame.

        ``time`` holds UTC date-times, or float days for numeric catalogues; ``magnitude``,
        ``latitude``, ``longitude``, ``depth`` (km) come next, then the extra columns.
        Changing the copy does not change the catalogue.
        """
        return self._frame.copy(deep=True)

    # ------------------------------------------------------------------ checks
    def check_times(self, *, strictly_increasing: bool = True) -> Catalog:
        """Check the event times; return ``self`` so calls can be chained.

        Times are always non-decreasing; with ``strictly_increasing=True`` events at the
        same time are an error. Likelihoods of self-exciting processes (ETAS, Omori) call
        this, because two events at the same instant make the intensity undefined.

        Parameters
        ----------
        strictly_increasing : bool
            Require every time to be later than the one before.

        Returns
        -------
        Catalog
            ``self``.

        Raises
        ------
        DataError
            Naming the rows (0-based, in time order) that share their time with the event
            before.
        """
        if strictly_increasing and len(self) > 1:
            key = self._time_key()
            ties = np.flatnonzero(key[1:] == key[:-1]) + 1
            if ties.size:
                shown = self._time_labels(ties[:_LIMIT])
                raise DataError(
                    f"column 'time' must be strictly increasing here, but {ties.size} event(s) "
                    f"have the same time as the event before, in "
                    f"{_rows_text(ties, values=shown)} (0-based, in time order); remove the "
                    f"duplicates or separate them (e.g. by a fraction of a second) first"
                )
        return self

    # ------------------------------------------------------------------ selection
    def select(
        self,
        min_magnitude: float | None = None,
        max_magnitude: float | None = None,
        start: Any = None,
        end: Any = None,
        region: Any = None,
        min_depth: float | None = None,
        max_depth: float | None = None,
    ) -> Catalog:
        """A new catalogue with the events that meet every criterion given.

        The reference time is kept, so :attr:`times` of the selection are comparable with
        those of the original catalogue. The catalogue itself is not changed.

        Parameters
        ----------
        min_magnitude, max_magnitude : float, optional
            Keep ``min_magnitude <= M <= max_magnitude``.
        start, end : str, datetime, pandas.Timestamp or float, optional
            Keep ``start <= t < end`` (half-open, so consecutive windows do not overlap).
            Date-times (strings are read as UTC unless they carry an offset) or numbers of
            days since :attr:`reference_time`.
        region : sequence, optional
            Either a box ``(lon_min, lon_max, lat_min, lat_max)`` (inclusive), or a polygon
            given as a sequence of at least three ``(lon, lat)`` vertices (even-odd rule;
            points exactly on an edge may fall on either side). Longitudes use the
            convention of the catalogue.
        min_depth, max_depth : float, optional
            Keep ``min_depth <= depth <= max_depth`` (km). Events with unknown (NaN) depth
            are left out when either is given.

        Returns
        -------
        Catalog

        Raises
        ------
        DataError
            If nothing is left (the message gives, for each criterion, how many events it
            keeps on its own), or a criterion needs a column the catalogue lacks.
        OptionError
            Bad bounds (``min > max``, non-numbers), unreadable dates, a malformed region,
            or date-time bounds for a numeric catalogue without a reference time.
        """
        n = len(self)
        criteria: list[tuple[str, np.ndarray]] = []
        m = self._magnitudes
        lo = _bound(min_magnitude, "min_magnitude")
        hi = _bound(max_magnitude, "max_magnitude")
        _ordered(lo, hi, "min_magnitude", "max_magnitude")
        if lo is not None:
            criteria.append((f"min_magnitude={lo:g}", m >= lo))
        if hi is not None:
            criteria.append((f"max_magnitude={hi:g}", m <= hi))
        t0 = self._time_bound(start, "start")
        t1 = self._time_bound(end, "end")
        if t0 is not None and t1 is not None and t0[1] >= t1[1]:
            raise OptionError(f"start={start!r} must be before end={end!r}")
        if t0 is not None:
            criteria.append((f"start={t0[0]}", self._compare_time(t0[1], ">=")))
        if t1 is not None:
            criteria.append((f"end={t1[0]}", self._compare_time(t1[1], "<")))
        if region is not None:
            criteria.append(self._region_mask(region))
        d_lo = _bound(min_depth, "min_depth")
        d_hi = _bound(max_depth, "max_depth")
        _ordered(d_lo, d_hi, "min_depth", "max_depth")
        if d_lo is not None or d_hi is not None:
            depth = self._require("depth", "min_depth/max_depth")
            with np.errstate(invalid="ignore"):
                if d_lo is not None:
                    criteria.append((f"min_depth={d_lo:g}", depth >= d_lo))
                if d_hi is not None:
                    criteria.append((f"max_depth={d_hi:g}", depth <= d_hi))
        keep = np.ones(n, dtype=bool)
        for _, mask in criteria:
            keep &= mask
        if not keep.any():
            parts = [f"{label} keeps {int(mask.sum())} of {n}" for label, mask in criteria]
            note = (
                " (each keeps some events, but no event meets them all)"
                if all(mask.any() for _, mask in criteria)
                else ""
            )
            raise DataError(
                f"select() left no events{self._label()}: " + "; ".join(parts) + note
            )
        return self._subset(keep)

    # ------------------------------------------------------------------ summaries
    def describe(self) -> dict[str, Any]:
        """Summary of the catalogue as a dict (same keys for every catalogue).

        Returns
        -------
        dict
            ``name``, ``n`` (events), ``reference_time``, ``start`` and ``end`` (UTC
            Timestamps, or days when there is no calendar time), ``time_span_days``,
            ``magnitude_min``, ``magnitude_max``, ``latitude_min``, ``latitude_max``,
            ``longitude_min``, ``longitude_max``, ``depth_min``, ``depth_max`` (``None``
            when the column is absent; depths ignore NaN), ``n_depth_missing``.
        """
        dts = self.datetimes
        t = self._times
        out: dict[str, Any] = {
            "name": self._name,
            "n": len(self),
            "reference_time": self._reference,
            "start": dts[0] if dts is not None else float(t[0]),
            "end": dts[-1] if dts is not None else float(t[-1]),
            "time_span_days": float(t[-1] - t[0]),
            "magnitude_min": float(self._magnitudes.min()),
            "magnitude_max": float(self._magnitudes.max()),
        }
        for col in _SPATIAL:
            if col in self._frame.columns:
                x = self._frame[col].to_numpy(dtype=np.float64)
                ok = x[np.isfinite(x)]
                out[f"{col}_min"] = float(ok.min()) if ok.size else None
                out[f"{col}_max"] = float(ok.max()) if ok.size else None
            else:
                out[f"{col}_min"] = out[f"{col}_max"] = None
        out["n_depth_missing"] = (
            int(self._frame["depth"].isna().sum()) if "depth" in self._frame.columns else None
        )
        return out

    def __repr__(self) -> str:
        label = "" if self._name is None else f"{self._name!r}, "
        dts = self.datetimes
        if dts is not None:
            fmt = "%Y-%m-%d %H:%M:%S"
            span = f"{dts[0].strftime(fmt)} to {dts[-1].strftime(fmt)} UTC"
        else:
            span = f"t = {self._times[0]:g} to {self._times[-1]:g} days"
        m = self._magnitudes
        events = "1 event" if len(self) == 1 else f"{len(self)} events"
        return f"Catalog({label}{events}, {span}, M {m.min():g} to {m.max():g})"

    # ------------------------------------------------------------------ helpers
    def _label(self) -> str:
        return "" if self._name is None else f" from catalogue {self._name!r}"

    def _time_key(self) -> np.ndarray:
        if self._kind == "datetime":
            return _int_times(self._frame["time"])[0]
        return self._times

    def _time_labels(self, positions: np.ndarray) -> list[Any]:
        if self._kind == "datetime":
            return [str(self._frame["time"].iloc[i]) for i in positions]
        return [float(self._times[i]) for i in positions]

    def _require(self, column: str, why: str) -> np.ndarray:
        if column not in self._frame.columns:
            raise DataError(
                f"{why} needs a {column!r} column, which the catalogue{self._label()} lacks; "
                f"its columns are {', '.join(self.columns)}"
            )
        return self._frame[column].to_numpy(dtype=np.float64)

    def _time_bound(self, value: Any, what: str) -> tuple[str, Any] | None:
        """``(label, bound)``: bound is float days or a UTC Timestamp."""
        if value is None:
            return None
        if isinstance(value, bool):
            raise OptionError(f"{what}={value!r} is not allowed; use a date-time or days")
        if isinstance(value, int | float | np.integer | np.floating):
            x = float(value)
            if not np.isfinite(x):
                raise OptionError(f"{what}={value!r} is not allowed; use a finite number of days")
            return f"{x:g} d", x
        ts = _to_timestamp(value, what)
        if self._kind == "numeric":
            if self._reference is None:
                raise OptionError(
                    f"{what}={value!r} is a date-time but the catalogue has numeric times "
                    f"with no reference_time; give {what} in days, or build the catalogue "
                    f"with reference_time="
                )
            return str(ts), float((ts - self._reference) / pd.Timedelta(days=1))
        return str(ts), ts

    def _compare_time(self, bound: Any, op: str) -> np.ndarray:
        if isinstance(bound, pd.Timestamp):
            values = pd.DatetimeIndex(self._frame["time"])
            return np.asarray(values >= bound if op == ">=" else values < bound)
        return self._times >= bound if op == ">=" else self._times < bound

    def _region_mask(self, region: Any) -> tuple[str, np.ndarray]:
        try:
            arr = np.asarray(region, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise OptionError(_REGION_HELP.format(region=region)) from e
        if arr.ndim == 1 and arr.shape[0] == 4:
            lon_min, lon_max, lat_min, lat_max = arr
            if not np.all(np.isfinite(arr)) or lon_min > lon_max or lat_min > lat_max:
                raise OptionError(
                    f"region={tuple(arr.tolist())} is not allowed: a box is "
                    f"(lon_min, lon_max, lat_min, lat_max) with finite numbers, "
                    f"lon_min <= lon_max and lat_min <= lat_max"
                )
            lon = self._require("longitude", "region")
            lat = self._require("latitude", "region")
            mask = (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)
            return f"region={tuple(arr.tolist())}", mask
        if arr.ndim == 2 and arr.shape[1] == 2 and arr.shape[0] >= 3:
            if not np.all(np.isfinite(arr)):
                raise OptionError("region polygon has non-finite vertices")
            lon = self._require("longitude", "region")
            lat = self._require("latitude", "region")
            return f"region=polygon with {arr.shape[0]} vertices", _in_polygon(lon, lat, arr)
        raise OptionError(_REGION_HELP.format(region=region))


_REGION_HELP = (
    "region={region!r} is not allowed; use a box (lon_min, lon_max, lat_min, lat_max) or a "
    "polygon given as at least three (lon, lat) vertices"
)


def _bound(value: Any, what: str) -> float | None:
    if value is None:
        return None
    return _checks.real(what, value)


def _ordered(lo: float | None, hi: float | None, lo_name: str, hi_name: str) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise OptionError(f"{lo_name}={lo:g} is above {hi_name}={hi:g}; use {lo_name} <= {hi_name}")


def _validate(
    frame: Any,
    *,
    reference_time: Any,
    time_unit: str,
    sort: bool,
    rows: np.ndarray | None,
) -> tuple[pd.DataFrame, str, pd.Timestamp | None]:
    """Check and copy ``frame``; return (canonical frame, time kind, reference time)."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"a Catalog is built from a pandas DataFrame; got {type(frame).__name__}. "
            f"Use Catalog.from_arrays(times, magnitudes, ...) for arrays"
        )
    if time_unit not in TIME_UNITS:
        raise OptionError(
            f"time_unit={time_unit!r} is not allowed; use one of {', '.join(TIME_UNITS)}"
        )
    if not isinstance(sort, bool | np.bool_):
        raise OptionError(f"sort={sort!r} is not allowed; use True or False")
    names = [str(c) for c in frame.columns]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise DataError(f"duplicated column name(s) {dup}; every column needs a unique name")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        lowered = {c.lower(): c for c in names}
        hints = [
            f"{lowered[a]!r} -> {req!r}"
            for req in missing
            for a in (req, *_ALIASES[req])
            if a in lowered
        ]
        hint = (
            f" Rename the columns ({'; '.join(hints)}), or read the file with "
            f"pystats.read_catalog, which recognises common column names."
            if hints
            else " Rename your columns, or read the file with pystats.read_catalog(..., "
            "columns={'time': ..., 'magnitude': ...})."
        )
        raise DataError(
            f"missing required column(s) {', '.join(repr(c) for c in missing)}; "
            f"columns found: {names if names else 'none'}.{hint}"
        )
    n = len(frame)
    if n == 0:
        raise DataError("the catalogue is empty (0 events); a catalogue needs at least one event")
    if rows is None:
        rows = np.arange(n)
    rows = np.asarray(rows)
    kind, time = _parse_time_column(frame["time"], rows=rows)
    if kind == "datetime" and time_unit != "days":
        raise OptionError(
            f"time_unit={time_unit!r} applies to numeric times only; column 'time' holds "
            f"date-times"
        )
    if kind == "numeric":
        time = time * TIME_UNITS[time_unit]
    data: dict[str, Any] = {"time": time.to_numpy(copy=True) if kind == "numeric" else time}
    data["magnitude"] = _numeric_column(frame["magnitude"], "magnitude", rows)
    for col in _SPATIAL:
        if col in frame.columns:
            x = _numeric_column(frame[col], col, rows, allow_nan=(col == "depth"))
            if col == "latitude":
                _check_range(x, col, -90.0, 90.0, rows)
            elif col == "longitude":
                _check_range(x, col, -180.0, 360.0, rows)
            data[col] = x
    out = pd.DataFrame(data)
    extras = [c for c in frame.columns if c not in _CANONICAL]
    if extras:
        rest = frame[extras].copy(deep=True).reset_index(drop=True)
        out = pd.concat([out, rest], axis=1)
    key = _int_times(out["time"])[0] if kind == "datetime" else out["time"].to_numpy()
    steps = np.flatnonzero(key[1:] < key[:-1]) + 1
    if steps.size:
        if not sort:
            shown = [
                f"{out['time'].iloc[i - 1]} then {out['time'].iloc[i]}" for i in steps[:_LIMIT]
            ]
            raise DataError(
                f"column 'time' is not in increasing order: {steps.size} event(s) are earlier "
                f"than the event before, in {_rows_text(steps, rows, shown)} (0-based). Pass "
                f"sort=True to sort the events by time"
            )
        order = np.argsort(key, kind="stable")
        out = out.take(order).reset_index(drop=True)
    if kind == "datetime":
        reference = (
            pd.Timestamp(out["time"].iloc[0])
            if reference_time is None
            else _to_timestamp(reference_time, "reference_time")
        )
    else:
        reference = (
            None if reference_time is None else _to_timestamp(reference_time, "reference_time")
        )
    return out, kind, reference

