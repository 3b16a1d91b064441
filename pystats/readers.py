"""Read earthquake catalogues from CSV files into :class:`~pystats.catalog.Catalog`.

:func:`read_catalog` reads any CSV with a time and a magnitude column. It recognises the
layouts below by their header (``format="auto"``) and otherwise finds the columns by
their usual names; ``columns=`` names them explicitly. :func:`read_comcat` reads the CSV
served by the USGS ComCat search API.

Layouts (header names are matched case-insensitively):

``"comcat"``
    USGS ComCat search API CSV: ``time`` (ISO 8601, UTC), ``latitude``, ``longitude``,
    ``depth`` (km), ``mag``, ``magType``, ..., ``type`` (event type). Detected by
    ``time, latitude, longitude, depth, mag``.
``"etas-r"``
    Data sets of the R package ETAS (``japan.quakes``, ``italy.quakes``, ``iran.quakes``):
    ``date``, ``time`` (clock time), ``long``, ``lat``, ``mag`` [, ``depth``]. Date and
    clock time are joined.
``"sapp"``
    R package SAPP / SASeis (e.g. the 2003 Miyagi aftershocks): ``no.``, ``longitude``,
    ``latitude``, ``magnitude``, ``time`` (days after the main shock), ``depth`` (km, stored
    as negative numbers, returned positive down) [, ``year``, ``month``, ``day``].
    Magnitude 0.0 means "undetermined" (see ``missing_magnitude``).
``"ptprocess"``
    Data sets of the R package PtProcess (Tangshan, Ogata's simulated ETAS set): ``time``
    (days), ``magnitude`` stored as M minus a catalogue-specific offset [, ``latitude``,
    ``longitude``, ``year`` ... ``second``]. Needs ``magnitude_offset``. Detected by the
    full Tangshan header only.
``"pycsep"``
    pycsep CSV catalogues: ``lon``, ``lat``, ``M``, ``time_string`` (ISO 8601, UTC),
    ``depth`` (km), ``catalog_id``, ``event_id``.
``"earthquakenpp"``
    EarthquakeNPP data sets (ComCat Japan, QTM San Jacinto): ``time``, ``longitude``,
    ``latitude``, ``magnitude``, ``x``, ``y`` (projected km).
``"sed"``
    Swiss Seismological Service (SED) / SeismoStats export: ``event_type``, ``time`` (UTC),
    ``latitude``, ``longitude``, ``depth`` (**metres**, converted to km),
    ``evaluationmode``, ``magnitude``, ``magnitude_type``, ...
``"generic"``
    Any other CSV: the time from ``time``, ``origin_time``, ``origintime``, ``datetime``,
    ``date_time``, ``time_string``, ``timestamp``, ``event_time``, a ``date`` + ``time``
    (clock time) pair, or ``date`` alone; the magnitude from ``mag``, ``magnitude``, ``M``,
    ``ML``, ``Mw``; latitude from ``lat``, ``latitude``; longitude from ``lon``, ``long``,
    ``lng``, ``longitude``; depth (km) from ``depth``, ``depth_km``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _checks
from ._warnings import warn as _warn
from .catalog import Catalog, _numeric_column, _parse_time_column, _rows_text
from .errors import DataError, DataWarning, OptionError

__all__ = ["FORMATS", "read_catalog", "read_comcat"]

_ROLES = ("time", "date", "magnitude", "latitude", "longitude", "depth")
_ON_MISSING = ("error", "drop")
_CLOCK = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?\s*$")


@dataclass(frozen=True)
class _Layout:
    """A known CSV layout: how to find its columns and what its units are."""

    name: str
    roles: Mapping[str, tuple[str, ...]]
    detect: frozenset[str] = frozenset()
    depth_scale: float = 1.0
    missing_code: float | None = None
    needs_offset: bool = False
    event_type_column: str | None = None


_GENERIC = _Layout(
    "generic",
    roles={
        "time": ("time", "origin_time", "origintime", "datetime", "date_time", "time_string",
                 "timestamp", "event_time"),
        "date": ("date",),
        "magnitude": ("mag", "magnitude", "m", "ml", "mw"),
        "latitude": ("lat", "latitude"),
        "longitude": ("lon", "long", "lng", "longitude"),
        "depth": ("depth", "depth_km"),
    },
)

_LAYOUTS: dict[str, _Layout] = {
    lay.name: lay
    for lay in (
        _Layout(
            "sed",
            roles={"time": ("time",), "magnitude": ("magnitude",), "latitude": ("latitude",),
                   "longitude": ("longitude",), "depth": ("depth",)},
            detect=frozenset({"event_type", "time", "latitude", "longitude", "depth",
                              "evaluationmode", "magnitude"}),
            depth_scale=1e-3,
            event_type_column="event_type",
        ),
        _Layout(
            "comcat",
            roles={"time": ("time",), "magnitude": ("mag",), "latitude": ("latitude",),
                   "longitude": ("longitude",), "depth": ("depth",)},
            detect=frozenset({"time", "latitude", "longitude", "depth", "mag"}),
            event_type_column="type",
        ),
        _Layout(
            "etas-r",
            roles={"date": ("date",), "time": ("time",), "magnitude": ("mag",),
                   "latitude": ("lat",), "longitude": ("long",), "depth": ("depth",)},
            detect=frozenset({"date", "time", "long", "lat", "mag"}),
        ),
        _Layout(
            "sapp",
            roles={"time": ("time",), "magnitude": ("magnitude",), "latitude": ("latitude",),
                   "longitude": ("longitude",), "depth": ("depth",)},
            detect=frozenset({"no.", "longitude", "latitude", "magnitude", "time", "depth"}),
            depth_scale=-1.0,
            missing_code=0.0,
        ),
        _Layout(
            "ptprocess",
            roles={"time": ("time",), "magnitude": ("magnitude",), "latitude": ("latitude",),
                   "longitude": ("longitude",)},
            detect=frozenset({"latitude", "longitude", "magnitude", "year", "month", "day",
                              "hour", "minute", "second", "time"}),
            needs_offset=True,
        ),
        _Layout(
            "pycsep",
            roles={"time": ("time_string",), "magnitude": ("m",), "latitude": ("lat",),
                   "longitude": ("lon",), "depth": ("depth",)},
            detect=frozenset({"lon", "lat", "m", "time_string", "depth", "catalog_id",
                              "event_id"}),
        ),
        _Layout(
            "earthquakenpp",
            roles={"time": ("time",), "magnitude": ("magnitude",), "latitude": ("latitude",),
                   "longitude": ("longitude",)},
            detect=frozenset({"time", "longitude", "latitude", "magnitude", "x", "y"}),
        ),
    )
}
_LAYOUTS["generic"] = _GENERIC

FORMATS: tuple[str, ...] = ("auto", *_LAYOUTS)
"""Values allowed for ``format`` in :func:`read_catalog`."""


def read_catalog(
    path_or_buffer: Any,
    *,
    format: str = "auto",
    columns: Mapping[str, str | None] | None = None,
    missing_magnitude: float | None = None,
    on_missing: str = "error",
    reference_time: Any = None,
    sort: bool = False,
    magnitude_offset: float | None = None,
    depth_scale: float | None = None,
    event_types: Iterable[str] | None = None,
    time_unit: str = "days",
    time_format: str | None = None,
    name: str | None = None,
    **kw: Any,
) -> Catalog:
    """Read an earthquake catalogue from a CSV file.

    Parameters
    ----------
    path_or_buffer : str, path, file-like or pandas.DataFrame
        CSV file (anything :func:`pandas.read_csv` reads), or a DataFrame already read (it
        is not modified).
    format : str
        One of :data:`FORMATS`: ``"auto"`` (default) recognises the layouts listed in the
        module documentation by their header and reads anything else as ``"generic"``;
        naming a format skips detection. ``"generic"`` finds the columns by their usual
        names and raises :class:`~pystats.errors.DataError` when two columns could serve
        the same purpose (e.g. ``mag`` and ``ml``).
    columns : mapping, optional
        Column of the file to use for ``"time"``, ``"magnitude"``, ``"latitude"``,
        ``"longitude"``, ``"depth"`` (km) and ``"date"`` (with ``"time"`` holding the clock
        time), e.g. ``{"time": "origin_time", "magnitude": "mw"}``. Overrides the format's
        choice for the keys given; ``None`` leaves that column out. Names are matched
        exactly, else case-insensitively.
    missing_magnitude : float, optional
        A magnitude value that means "unknown" (e.g. ``0.0`` in SAPP files), compared with
        the value stored in the file (before ``magnitude_offset``). Empty or NaN magnitudes
        are always treated as missing.
    on_missing : {"error", "drop"}
        What to do with events whose magnitude is missing: ``"error"`` raises a
        :class:`~pystats.errors.DataError` naming the rows; ``"drop"`` removes them and
        issues a :class:`~pystats.errors.DataWarning` with their number. Nothing is ever
        dropped silently.
    reference_time : str, datetime or pandas.Timestamp, optional
        Origin of :attr:`Catalog.times`; for numeric times (SAPP, PtProcess, ...) the
        calendar time of ``t = 0``. See :class:`~pystats.catalog.Catalog`.
    sort : bool
        Sort events by time. Without it, a file whose times go up and down raises a
        DataError. A file in *decreasing* time order throughout (the default order of the
        ComCat and FDSN web services, and of the SED export) is reversed, which loses
        nothing.
    magnitude_offset : float, optional
        Added to every stored magnitude. Required for ``"ptprocess"``, whose files store
        M minus a catalogue-specific offset that pystats does not guess: the R package's
        Tangshan data store M - 4 (``magnitude_offset=4.0``) and Ogata's simulated ETAS set
        M - 3.5 (``magnitude_offset=3.5``); see the data's documentation.
    depth_scale : float, optional
        Factor turning stored depths into km, positive down. Defaults: ``0.001`` for
        ``"sed"`` (depths in metres), ``-1`` for ``"sapp"`` (depths stored as negative
        numbers), ``1`` otherwise. When every depth is <= 0 under the default factor 1 a
        :class:`~pystats.errors.DataWarning` suggests ``depth_scale=-1`` (the R ETAS
        ``japan.quakes`` file stores depths this way); pass ``depth_scale=1`` to keep them.
    event_types : iterable of str, optional
        Keep only events of these types (column ``type`` in ComCat, ``event_type`` in SED
        files; in generic files ``event_type``, else ``type``), e.g. ``("earthquake",)``.
        By default all events are kept, and a DataWarning counts those whose type is not
        ``"earthquake"`` (quarry blasts, explosions, ...) in ComCat, SED and generic files
        with an ``event_type`` column.
    time_unit : {"days", "hours", "minutes", "seconds"}
        Unit of numeric times.
    time_format : str, optional
        :func:`~datetime.datetime.strptime` format of the times when they are not ISO 8601.
    name : str, optional
        Name of the catalogue; default: the file name without extension.
    **kw
        Passed to :func:`pandas.read_csv`, e.g. ``sep=";"`` (other separators),
        ``comment="#"`` (comment lines) or ``encoding="latin-1"`` (files that are not
        UTF-8). A file that looks separated by ``;``, tabs or ``|``, or that starts with a
        comment line, gets this advice in the error it raises.

    Returns
    -------
    Catalog
        Columns ``time``, ``magnitude`` and, when present, ``latitude``, ``longitude``,
        ``depth`` (km), then every other column of the file (the columns merged into
        ``time`` are left out; a leftover column whose name clashes with one of these is
        renamed ``original_<name>``).

    Raises
    ------
    DataError
        Unreadable, empty or not UTF-8 (or ``encoding``) text file; missing, ambiguous or
        unparsable columns (rows are numbered from 0, header not counted); missing
        magnitudes without
        ``on_missing="drop"``; SAPP magnitudes of 0.0 without ``missing_magnitude``;
        unsorted times without ``sort=True``; anything :class:`Catalog` rejects.
    OptionError
        Unknown ``format``, ``on_missing``, ``encoding`` or ``columns`` key, or
        ``format="ptprocess"`` without ``magnitude_offset``.

    Notes
    -----
    Date-time strings are read as ISO 8601; times without an offset are taken as UTC
    (catalogues such as JMA's are in local time: pass ``time_format`` with ``%z`` or shift
    them yourself). Numeric times are days (see ``time_unit``) since ``reference_time``.

    References
    ----------
    .. [1] U.S. Geological Survey, Earthquake Hazards Program (2017). Advanced National
       Seismic System (ANSS) Comprehensive Catalog of Earthquake Events and Products.
       https://doi.org/10.5066/F7MS3QZH
    .. [2] Jalilian, A. (2019). ETAS: an R package for fitting the space-time ETAS model to
       earthquake data. Journal of Statistical Software, 88(CN1), 1-39.
       https://doi.org/10.18637/jss.v088.c01
    .. [3] Ogata, Y. (2006). Statistical Analysis of Seismicity - updated version
       (SASeis2006). Computer Science Monographs 33, The Institute of Statistical
       Mathematics, Tokyo.
    .. [4] Harte, D. (2010). PtProcess: an R package for modelling marked point processes
       indexed by time. Journal of Statistical Software, 35(8), 1-32.
       https://doi.org/10.18637/jss.v035.i08
    .. [5] Savran, W. H., Bayona, J. A., Iturrieta, P., et al. (2022). pyCSEP: a Python
       toolkit for earthquake forecast developers. Seismological Research Letters, 93(5),
       2858-2870. https://doi.org/10.1785/0220220033
    .. [6] Stockman, S., Lawson, D. J. and Werner, M. J. (2024). EarthquakeNPP: a benchmark
       for earthquake forecasting with neural point processes. arXiv:2410.08226.
    .. [7] Swiss Seismological Service (SED) at ETH Zurich (1983). National Seismic
       Networks of Switzerland. https://doi.org/10.12686/sed/networks/ch

    Examples
    --------
    >>> import io
    >>> from pystats.readers import read_catalog
    >>> text = "origin_time,mw,lat,lon\\n2019-07-06T03:19:53Z,7.1,35.77,-117.60\\n"
    >>> read_catalog(io.StringIO(text), columns={"magnitude": "mw"})
    Catalog(1 event, 2019-07-06 03:19:53 to 2019-07-06 03:19:53 UTC, M 7.1 to 7.1)
    """
    _check_options(format, on_missing, missing_magnitude, magnitude_offset, depth_scale)
    raw, default_name, hint = _read_frame(path_or_buffer, kw)
    header = {str(c).lower(): str(c) for c in raw.columns}
    layout = _detect(header) if format == "auto" else _LAYOUTS[format]
    if layout.needs_offset and magnitude_offset is None:
        raise OptionError(
            f"format {layout.name!r} stores magnitudes as M minus a catalogue-specific "
            f"offset, which pystats does not guess; pass magnitude_offset= (the R package "
            f"PtProcess's Tangshan data store M - 4: magnitude_offset=4.0; Ogata's simulated "
            f"ETAS set stores M - 3.5: magnitude_offset=3.5)"
        )
    try:
        roles = _resolve_columns(raw, header, layout, columns)
    except DataError as e:
        if not hint:
            raise
        raise DataError(f"{e}{hint}") from e
    n_rows = len(raw)
    if n_rows == 0:
        raise DataError(
            f"the file has a header ({', '.join(map(str, raw.columns))}) but no events"
        )
    rows = np.arange(n_rows)

    # times, on every row so that row numbers are those of the file
    if "date" in roles:
        date_col, time_col = roles["date"], roles["time"]
        combined = _join_date_time(raw[date_col], raw[time_col])
        kind, time = _parse_time_column(
            combined, column=f"{date_col} + {time_col}", rows=rows, time_format=time_format
        )
    else:
        kind, time = _parse_time_column(
            raw[roles["time"]], column=roles["time"], rows=rows, time_format=time_format
        )

    keep = np.ones(n_rows, dtype=bool)
    type_col = _event_type_column(header, layout, event_types is not None)
    keep &= _event_type_mask(raw, type_col, event_types)

    mag_col = roles["magnitude"]
    mags = _numeric_column(raw[mag_col], mag_col, rows, allow_nan=True)
    missing = np.isnan(mags)
    if missing_magnitude is not None:
        missing |= mags == float(missing_magnitude)
    elif layout.missing_code is not None:
        coded = np.flatnonzero(keep & (mags == layout.missing_code))
        if coded.size:
            raise DataError(
                f"column {mag_col!r}: {coded.size} event(s) have magnitude "
                f"{layout.missing_code:g}, which in {layout.name.upper()} files means "
                f"'undetermined', in {_rows_text(coded, rows)} (0-based). Pass "
                f"missing_magnitude={layout.missing_code!r} with on_missing='drop' to drop "
                f"them (a DataWarning reports how many), or format='generic' if "
                f"{layout.missing_code:g} is a real magnitude in this file"
            )
    missing &= keep
    if missing.any():
        where = np.flatnonzero(missing)
        what = "empty or NaN" + (
            "" if missing_magnitude is None else f" or equal to {float(missing_magnitude)!r}"
        )
        if on_missing == "error":
            raise DataError(
                f"column {mag_col!r}: magnitude missing ({what}) for {where.size} event(s), "
                f"in {_rows_text(where, rows)} (0-based); pass on_missing='drop' to drop "
                f"them, or fill them in"
            )
        _warn(
            f"dropped {where.size} of {int(keep.sum())} events whose magnitude is missing "
            f"({what}) in column {mag_col!r}",
            DataWarning,
        )
        keep &= ~missing
    if magnitude_offset is not None:
        mags = mags + float(magnitude_offset)

    data: dict[str, Any] = {"time": time, "magnitude": mags}
    for role in ("latitude", "longitude"):
        if role in roles:
            data[role] = raw[roles[role]].reset_index(drop=True)
    if "depth" in roles:
        depth = _numeric_column(raw[roles["depth"]], roles["depth"], rows, allow_nan=True)
        scale = layout.depth_scale if depth_scale is None else float(depth_scale)
        if depth_scale is None and scale == 1.0:
            _warn_negative_depths(depth, roles["depth"])
        data["depth"] = depth * scale
    frame = pd.DataFrame(data)
    used = set(roles.values())
    for col in raw.columns:
        if col in used:
            continue
        label = f"original_{col}" if col in data else col
        frame[label] = raw[col].reset_index(drop=True)

    frame = frame.loc[keep].reset_index(drop=True)
    rows = rows[keep]
    if len(frame) == 0:
        raise DataError(
            f"no events left: all {n_rows} were removed by event_types={event_types!r} "
            f"and the missing-magnitude rule"
        )
    frame, rows = _reverse_if_descending(frame, rows, kind)
    return Catalog._create(
        frame,
        reference_time=reference_time,
        time_unit=time_unit,
        name=default_name if name is None else name,
        sort=sort,
        rows=rows,
    )


def read_comcat(
    path_or_buffer: Any,
    *,
    event_types: Iterable[str] | None = None,
    missing_magnitude: float | None = None,
    on_missing: str = "error",
    reference_time: Any = None,
    sort: bool = False,
    name: str | None = None,
    **kw: Any,
) -> Catalog:
    """Read a CSV file from the USGS ComCat search API (``format=csv``).

    The layout is ``time`` (ISO 8601, UTC, e.g. ``2019-07-06T03:19:53.040Z``),
    ``latitude``, ``longitude``, ``depth`` (km), ``mag``, ``magType``, ``nst``, ``gap``,
    ``dmin``, ``rms``, ``net``, ``id``, ``updated``, ``place``, ``type``,
    ``horizontalError``, ``depthError``, ``magError``, ``magNst``, ``status``,
    ``locationSource``, ``magSource``; every column after the first five is kept. The
    service lists the newest event first; such files are reversed into time order.

    Parameters
    ----------
    path_or_buffer : str, path or file-like
    event_types : iterable of str, optional
        Keep only these values of column ``type`` (e.g. ``("earthquake",)``). By default
        every event is kept and a :class:`~pystats.errors.DataWarning` counts the events
        that are not earthquakes.
    missing_magnitude, on_missing, reference_time, sort, name, **kw
        As for :func:`read_catalog` (events without ``mag`` are missing magnitudes).

    Returns
    -------
    Catalog

    Raises
    ------
    DataError, OptionError
        As for :func:`read_catalog`.

    References
    ----------
    .. [1] U.S. Geological Survey, Earthquake Hazards Program (2017). Advanced National
       Seismic System (ANSS) Comprehensive Catalog of Earthquake Events and Products.
       https://doi.org/10.5066/F7MS3QZH
    """
    return read_catalog(
        path_or_buffer,
        format="comcat",
        event_types=event_types,
        missing_magnitude=missing_magnitude,
        on_missing=on_missing,
        reference_time=reference_time,
        sort=sort,
        name=name,
        **kw,
    )


# ---------------------------------------------------------------------- helpers
def _check_options(
    format: str,
    on_missing: str,
    missing_magnitude: Any,
    magnitude_offset: Any,
    depth_scale: Any,
) -> None:
    if format not in FORMATS:
        raise OptionError(f"format={format!r} is not allowed; use one of {', '.join(FORMATS)}")
    if on_missing not in _ON_MISSING:
        raise OptionError(
            f"on_missing={on_missing!r} is not allowed; use one of {', '.join(_ON_MISSING)}"
        )
    for what, value in (("missing_magnitude", missing_magnitude),
                        ("magnitude_offset", magnitude_offset), ("depth_scale", depth_scale)):
        if value is None:
            continue
        allowed = "a finite number" + (", not 0" if what == "depth_scale" else "")
        if _checks.real(what, value, allowed=allowed) == 0 and what == "depth_scale":
            raise OptionError(f"{what}={value!r} is not allowed; use {allowed}")


def _read_frame(source: Any, kw: dict[str, Any]) -> tuple[pd.DataFrame, str | None, str]:
    """The raw frame, the default catalogue name and advice on the file's layout (``""``
    or ``"; pass sep=';' ..."``, appended to messages about missing columns)."""
    if isinstance(source, pd.DataFrame):
        if kw:
            raise OptionError(
                f"options for pandas.read_csv ({', '.join(kw)}) cannot be used with a DataFrame"
            )
        frame = source.copy(deep=True)
        name, hint = None, ""
    elif isinstance(source, str | os.PathLike) or hasattr(source, "read"):
        what = _describe(source)
        hint = _layout_hint(_first_line(source, kw.get("encoding")), kw)
        encoding = kw.get("encoding") or "utf-8"
        try:
            frame = pd.read_csv(source, **kw)
        except pd.errors.EmptyDataError as e:
            raise DataError(f"{what} is empty: no header line and no events") from e
        except pd.errors.ParserError as e:
            raise DataError(
                f"{what} could not be read as CSV: {' '.join(str(e).split())}{hint}"
            ) from e
        except UnicodeDecodeError as e:
            raise DataError(
                f"{what} is not {encoding} text: byte 0x{e.object[e.start]:02x}"
                f"{_bad_line(source, encoding)} cannot be decoded; for ISO 8859-1 (Western "
                f"European) text pass encoding='latin-1', for Windows text pass "
                f"encoding='cp1252'"
            ) from e
        except LookupError as e:
            raise OptionError(
                f"encoding={kw.get('encoding')!r} is not allowed; use a Python codec name "
                f"such as 'utf-8', 'latin-1' or 'cp1252'"
            ) from e
        name = Path(source).stem if isinstance(source, str | os.PathLike) else None
        if hint and frame.shape[1] == 1:
            raise DataError(
                f"{what} has a single column {str(frame.columns[0])!r:.80}{hint}"
            )
    else:
        raise OptionError(
            f"path_or_buffer must be a file path, a file-like object or a DataFrame; got "
            f"{type(source).__name__}"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    return frame.reset_index(drop=True), name, hint


def _describe(source: Any) -> str:
    return f"file {str(source)!r}" if isinstance(source, str | os.PathLike) else "the input"


def _first_line(source: Any, encoding: str | None) -> str | None:
    """The first line of a file or seekable buffer (left where it was), else ``None``."""
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, encoding=encoding or "utf-8", errors="replace") as f:
                return f.readline(4096)
        if hasattr(source, "seek") and hasattr(source, "tell") and source.seekable():
            pos = source.tell()
            line = source.readline(4096)
            source.seek(pos)
            if isinstance(line, bytes):
                line = line.decode(encoding or "utf-8", errors="replace")
            return line
    except (OSError, ValueError, LookupError, AttributeError):
        return None
    return None


def _bad_line(source: Any, encoding: str) -> str:
    """`` on line N`` (1-based, header = line 1) of the first line of file ``source`` that
    does not decode, or ``""``."""
    if not isinstance(source, str | os.PathLike):
        return ""
    try:
        with open(source, "rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    return f" on line {number}"
    except (OSError, LookupError):
        return ""
    return ""


def _layout_hint(line: str | None, kw: Mapping[str, Any]) -> str:
    """Advice for a first line that is a comment or not separated by commas."""
    if not line or not line.strip():
        return ""
    line = line.strip()
    if line[0] in "#%" and not {"comment", "skiprows", "header"} & kw.keys():
        return (
            f"; the file starts with a comment line ({line:.60}): pass comment={line[0]!r} "
            f"to skip such lines"
        )
    if "," not in line and not {"sep", "delimiter"} & kw.keys():
        for sep in (";", "\t", "|"):
            if sep in line:
                return (
                    f"; its first line ({line:.60}) is separated by {sep!r}, not by commas: "
                    f"pass sep={sep!r}"
                )
    return ""


def _detect(header: Mapping[str, str]) -> _Layout:
    for layout in _LAYOUTS.values():
        if layout.detect and layout.detect <= header.keys():
            return layout
    return _GENERIC


def _resolve_columns(
    raw: pd.DataFrame,
    header: Mapping[str, str],
    layout: _Layout,
    columns: Mapping[str, str | None] | None,
) -> dict[str, str]:
    """Role -> column name of the file."""
    found = list(raw.columns)
    given: dict[str, str | None] = {}
    if columns is not None:
        if not isinstance(columns, Mapping):
            raise OptionError(
                f"columns must be a mapping such as {{'time': 'origin_time'}}; got "
                f"{type(columns).__name__}"
            )
        for role, col in columns.items():
            if role not in _ROLES:
                raise OptionError(
                    f"columns key {role!r} is not allowed; use {', '.join(_ROLES)}"
                )
            if col is None:
                given[role] = None
                continue
            if col in raw.columns:
                given[role] = col
            elif str(col).lower() in header:
                given[role] = header[str(col).lower()]
            else:
                raise DataError(
                    f"columns={{{role!r}: {col!r}}}: no column {col!r} in the file; columns "
                    f"found: {found}"
                )
    roles: dict[str, str] = {}
    for role in ("magnitude", "latitude", "longitude", "depth"):
        if role in given:
            if given[role] is not None:
                roles[role] = given[role]
            continue
        col = _candidate(role, layout, header, found)
        if col is not None:
            roles[role] = col
    # time, possibly from a date + clock-time pair
    if "time" in given or "date" in given:
        if given.get("time") is None:
            raise OptionError("columns must name a 'time' column (a 'date' alone is not enough)")
        roles["time"] = given["time"]
        if given.get("date") is not None:
            roles["date"] = given["date"]
    elif layout.name == "generic":
        _generic_time(raw, header, roles, found)
    else:
        roles["time"] = _candidate("time", layout, header, found)
        if "date" in layout.roles:
            roles["date"] = _candidate("date", layout, header, found)
    for role in ("time", "magnitude"):
        if roles.get(role) is None:
            names = (" or ".join(repr(c) for c in layout.roles[role]))
            raise DataError(
                f"no {role} column: format {layout.name!r} looks for {names}; columns found: "
                f"{found}. Pass columns={{{role!r}: '<column name>'}} to name it"
            )
    if "date" in roles and roles["date"] is None:
        del roles["date"]
    taken: dict[str, str] = {}
    for role, col in roles.items():
        if col in taken:
            raise OptionError(
                f"column {col!r} is used for both {taken[col]!r} and {role!r}; pass columns= "
                f"with one column per role"
            )
        taken[col] = role
    return roles


def _candidate(
    role: str, layout: _Layout, header: Mapping[str, str], found: list[str]
) -> str | None:
    hits = [header[c] for c in layout.roles.get(role, ()) if c in header]
    if len(hits) > 1:
        raise DataError(
            f"ambiguous {role} column: {', '.join(repr(h) for h in hits)} could all be the "
            f"{role}; pass columns={{{role!r}: <one of them>}} to choose"
        )
    return hits[0] if hits else None


def _generic_time(
    raw: pd.DataFrame, header: Mapping[str, str], roles: dict[str, str], found: list[str]
) -> None:
    hits = [header[c] for c in _GENERIC.roles["time"] if c in header]
    date = header.get("date")
    if date is not None and "time" in header and _is_clock(raw[header["time"]]):
        others = [h for h in hits if h != header["time"]]
        if others:
            raise DataError(
                f"ambiguous time columns: the pair {date!r} + {header['time']!r} and "
                f"{', '.join(repr(h) for h in others)}; pass columns={{'time': ...}} (and "
                f"'date' for a pair) to choose"
            )
        roles["date"], roles["time"] = date, header["time"]
        return
    if len(hits) > 1:
        raise DataError(
            f"ambiguous time column: {', '.join(repr(h) for h in hits)} could all be the time; "
            f"pass columns={{'time': <one of them>}} to choose"
        )
    if hits:
        roles["time"] = hits[0]
    elif date is not None:
        roles["time"] = date
    else:
        raise DataError(
            f"no time column: looked for {', '.join(_GENERIC.roles['time'])} or a date + time "
            f"pair; columns found: {found}. Pass columns={{'time': '<column name>'}}"
        )


def _is_clock(series: pd.Series) -> bool:
    values = series.dropna()
    if len(values) == 0 or pd.api.types.is_numeric_dtype(series.dtype):
        return False
    return bool(values.astype(str).map(lambda v: bool(_CLOCK.match(v))).all())


def _join_date_time(date: pd.Series, clock: pd.Series) -> pd.Series:
    """``"date time"`` strings; missing where either part is missing."""
    d = date.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    t = clock.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    bad = d.isna() | t.isna() | (d == "") | (t == "")
    joined = d.astype(str) + " " + t.astype(str)
    return joined.where(~bad, None).reset_index(drop=True)


def _event_type_column(
    header: Mapping[str, str], layout: _Layout, explicit: bool
) -> str | None:
    """The event-type column; in generic files ``event_type``, or ``type`` when the user
    asked for ``event_types`` (a bare ``type`` column may hold something else)."""
    if layout.event_type_column is not None:
        return header.get(layout.event_type_column)
    if layout.name == "generic":
        for name in ("event_type", "eventtype", *(("type",) if explicit else ())):
            if name in header:
                return header[name]
    return None


def _event_type_mask(
    raw: pd.DataFrame, column: str | None, event_types: Iterable[str] | None
) -> np.ndarray:
    n = len(raw)
    if event_types is None:
        if column is not None:
            types = raw[column].astype(object).fillna("(empty)").astype(str).str.strip()
            other = types[types.str.lower() != "earthquake"]
            if len(other):
                counts = ", ".join(f"{k}: {v}" for k, v in other.value_counts().items())
                _warn(
                    f"{len(other)} of {n} events are not earthquakes (column {column!r}: "
                    f"{counts}); they are kept. Pass event_types=('earthquake',) to keep "
                    f"earthquakes only",
                    DataWarning,
                )
        return np.ones(n, dtype=bool)
    wanted = (event_types,) if isinstance(event_types, str) else tuple(event_types)
    if not wanted or not all(isinstance(t, str) for t in wanted):
        raise OptionError(
            f"event_types={event_types!r} is not allowed; use strings such as ('earthquake',)"
        )
    if column is None:
        raise OptionError(
            f"event_types={event_types!r} needs an event-type column ('type' in ComCat files, "
            f"'event_type' in SED files); the file has none"
        )
    types = raw[column].astype(object).fillna("").astype(str).str.strip().str.lower()
    mask = types.isin([t.strip().lower() for t in wanted]).to_numpy(dtype=bool)
    if not mask.any():
        present = sorted(set(types))
        raise DataError(
            f"no event has a type in event_types={wanted!r} (column {column!r} holds "
            f"{present})"
        )
    return mask


def _warn_negative_depths(depth: np.ndarray, column: str) -> None:
    ok = depth[np.isfinite(depth)]
    if ok.size and np.all(ok <= 0) and np.any(ok < 0):
        _warn(
            f"every value of column {column!r} is <= 0 (from {ok.min():g} to {ok.max():g}); "
            f"if the file stores depth as negative numbers (as the R ETAS japan.quakes data "
            f"do), pass depth_scale=-1 to get depths in km, positive down; pass "
            f"depth_scale=1 to keep them as they are",
            DataWarning,
        )


def _reverse_if_descending(
    frame: pd.DataFrame, rows: np.ndarray, kind: str
) -> tuple[pd.DataFrame, np.ndarray]:
    if len(frame) < 2:
        return frame, rows
    if kind == "datetime":
        key = pd.DatetimeIndex(frame["time"]).asi8
    else:
        key = frame["time"].to_numpy(dtype=np.float64)
    diff = np.diff(key)
    if np.all(diff <= 0) and np.any(diff < 0):
        return frame.iloc[::-1].reset_index(drop=True), rows[::-1]
    return frame, rows


# ---------------------------------------------------------------------- model inputs
def missing_column(frame: pd.DataFrame, column: str, needs: str) -> DataError:
    """The error of a model given a DataFrame without ``column`` (shared by every family).

    Names the missing column, the columns the frame has, and ``needs`` (what the model
    accepts).
    """
    return DataError(
        f"the DataFrame has no {column!r} column; its columns are "
        f"{', '.join(map(str, frame.columns))}. {needs}"
    )


def event_arrays(data: Catalog | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Times (days) and magnitudes of a :class:`Catalog`, or of a DataFrame with columns
    ``time`` and ``magnitude`` (validated by :class:`Catalog`), as fresh float64 arrays.

    The one conversion of a catalogue into model input (GR and ETAS families): the arrays
    never share memory with the caller's data, so a model never modifies user inputs.

    Examples
    --------
    >>> frame = pd.DataFrame({"time": [0.5, 2.0], "magnitude": [3.1, 4.0]})
    >>> event_arrays(frame)
    (array([0.5, 2. ]), array([3.1, 4. ]))
    """
    cat = data if isinstance(data, Catalog) else Catalog(data[["time", "magnitude"]])
    return (np.array(cat.times, dtype=float, copy=True),
            np.array(cat.magnitudes, dtype=float, copy=True))


def finite_numbers(values: Any, name: str, what: str) -> np.ndarray:
    """A fresh 1-D float64 array of finite numbers from an array, list or Series.

    ``DataError`` naming ``name`` (``"magnitudes"``, ``"times"``), where they came from
    (``what``: ``"array"``, ``"Series"``, ...) and the offending rows for text, booleans,
    NaN or infinite values, or more than one dimension.
    """
    if isinstance(values, pd.Series):
        if pd.api.types.is_bool_dtype(values.dtype):
            raise DataError(f"{name} ({what}) are booleans; allowed: numbers")
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad_text = np.flatnonzero(values.notna().to_numpy() & np.isnan(arr))
        if bad_text.size:
            raise DataError(
                f"{name} ({what}) are not numbers in {_rows_text(bad_text)} "
                f"(0-based), e.g. {values.iloc[bad_text[0]]!r}; allowed: finite numbers"
            )
        arr = arr.copy()
    else:
        try:
            arr = np.array(values, dtype=float, copy=True)
        except (TypeError, ValueError) as e:
            raise DataError(f"{name} ({what}) must be numbers; got {values!r:.80}") from e
    if arr.ndim != 1:
        raise DataError(f"{name} ({what}) must be one-dimensional; got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataError(
            f"{name} ({what}) contain NaN or infinite values in {_rows_text(bad)} (0-based); "
            "allowed: finite numbers. Drop those events first"
        )
    return arr
