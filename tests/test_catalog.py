"""Tests of pystats.catalog.Catalog: construction, validation, immutability, selection."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from pystats.catalog import Catalog
from pystats.errors import DataError, OptionError

UTC = "UTC"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


@pytest.fixture
def grid() -> Catalog:
    """100 events, one a day from 2020-01-01: event i has magnitude 0.5*(i % 10),
    longitude i % 10, latitude i // 10 and depth i km."""
    i = np.arange(100)
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2020-01-01", periods=100, freq="D", tz=UTC),
            "magnitude": 0.5 * (i % 10),
            "latitude": (i // 10).astype(float),
            "longitude": (i % 10).astype(float),
            "depth": i.astype(float),
            "event_id": [f"ev{k}" for k in i],
        }
    )
    return Catalog(frame, name="grid")


# ---------------------------------------------------------------------- construction
def test_datetime_catalog_times_are_days_since_first_event():
    cat = Catalog(
        pd.DataFrame(
            {"time": ["2019-07-06T03:19:53Z", "2019-07-06 15:19:53", "2019-07-08T05:19:53+02:00"],
             "magnitude": [7.1, 4.5, 3.0]}
        )
    )
    assert len(cat) == 3
    assert cat.reference_time == ts("2019-07-06 03:19:53")
    # naive strings are UTC; +02:00 is respected (03:19:53 UTC two days later)
    np.testing.assert_allclose(cat.times, [0.0, 0.5, 2.0], atol=1e-12)
    assert list(cat.datetimes) == [ts("2019-07-06 03:19:53"), ts("2019-07-06 15:19:53"),
                                   ts("2019-07-08 03:19:53")]
    assert str(cat.datetimes.tz) == "UTC"
    np.testing.assert_array_equal(cat.magnitudes, [7.1, 4.5, 3.0])


def test_explicit_reference_time_and_negative_times():
    frame = pd.DataFrame({"time": ["2020-01-02", "2020-01-04"], "magnitude": [3.0, 4.0]})
    cat = Catalog(frame, reference_time="2020-01-03T00:00:00Z")
    np.testing.assert_allclose(cat.times, [-1.0, 1.0])
    assert cat.reference_time == ts("2020-01-03")


def test_tz_aware_and_naive_datetime64_columns_are_utc():
    local = pd.date_range("2020-01-01 09:00", periods=2, freq="h", tz="Asia/Tokyo")
    cat = Catalog(pd.DataFrame({"time": local, "magnitude": [1.0, 2.0]}))
    assert cat.datetimes[0] == ts("2020-01-01 00:00")
    naive = pd.date_range("2020-01-01 09:00", periods=2, freq="h")
    cat = Catalog(pd.DataFrame({"time": naive, "magnitude": [1.0, 2.0]}))
    assert cat.datetimes[0] == ts("2020-01-01 09:00")
    np.testing.assert_allclose(cat.times, [0.0, 1.0 / 24.0])


def test_numeric_times_have_no_calendar_unless_a_reference_is_given():
    frame = pd.DataFrame({"time": [0.0, 0.5, 2.0], "magnitude": [6.0, 3.0, 2.5]})
    cat = Catalog(frame)
    np.testing.assert_array_equal(cat.times, [0.0, 0.5, 2.0])
    assert cat.reference_time is None
    assert cat.datetimes is None
    anchored = Catalog(frame, reference_time="2003-07-25T22:13:00Z")
    np.testing.assert_array_equal(anchored.times, [0.0, 0.5, 2.0])
    assert anchored.datetimes[1] == ts("2003-07-26 10:13:00")
    assert anchored.datetimes[2] == ts("2003-07-27 22:13:00")


@pytest.mark.parametrize(("unit", "factor"), [("hours", 24.0), ("minutes", 1440.0),
                                              ("seconds", 86400.0), ("days", 1.0)])
def test_time_unit_converts_to_days(unit, factor):
    cat = Catalog(pd.DataFrame({"time": [0.0, factor], "magnitude": [1.0, 1.0]}), time_unit=unit)
    np.testing.assert_allclose(cat.times, [0.0, 1.0])


def test_bad_time_unit_and_time_unit_with_datetimes():
    frame = pd.DataFrame({"time": [0.0, 1.0], "magnitude": [1.0, 1.0]})
    with pytest.raises(OptionError, match=r"time_unit='years'.*days, hours"):
        Catalog(frame, time_unit="years")
    dated = pd.DataFrame({"time": ["2020-01-01", "2020-01-02"], "magnitude": [1.0, 1.0]})
    with pytest.raises(OptionError, match=r"numeric times only"):
        Catalog(dated, time_unit="hours")


def test_numeric_strings_are_numeric_times():
    cat = Catalog(pd.DataFrame({"time": ["0.25", "1.5"], "magnitude": [1.0, 2.0]}))
    np.testing.assert_array_equal(cat.times, [0.25, 1.5])
    assert cat.datetimes is None


def test_timedelta_times_are_days():
    cat = Catalog(pd.DataFrame({"time": pd.to_timedelta([0, 36], unit="h"),
                                "magnitude": [1.0, 2.0]}))
    np.testing.assert_allclose(cat.times, [0.0, 1.5])


def test_extra_columns_are_kept_and_canonical_columns_come_first(grid):
    assert grid.columns == ("time", "magnitude", "latitude", "longitude", "depth", "event_id")
    assert grid.column("event_id")[3] == "ev3"
    np.testing.assert_array_equal(grid.column("depth")[:3], [0.0, 1.0, 2.0])
    with pytest.raises(DataError, match=r"no column 'x'.*time, magnitude"):
        grid.column("x")


def test_from_arrays():
    cat = Catalog.from_arrays(
        [0.0, 1.0, 2.0], [3.0, 4.0, 5.0], latitude=[1.0, 2.0, 3.0], longitude=[4.0, 5.0, 6.0],
        depth=[10.0, 11.0, 12.0], extra={"id": ["a", "b", "c"]}, name="arr",
    )
    assert cat.columns == ("time", "magnitude", "latitude", "longitude", "depth", "id")
    assert cat.name == "arr"
    np.testing.assert_array_equal(cat.column("latitude"), [1.0, 2.0, 3.0])
    dated = Catalog.from_arrays(np.array(["2020-01-01", "2020-01-03"], dtype="datetime64[s]"),
                                [1.0, 2.0])
    np.testing.assert_allclose(dated.times, [0.0, 2.0])


def test_from_arrays_bad_inputs():
    with pytest.raises(DataError, match=r"different lengths: time=3, magnitude=2"):
        Catalog.from_arrays([0.0, 1.0, 2.0], [1.0, 2.0])
    with pytest.raises(DataError, match=r"magnitude must be one-dimensional.*\(2, 2\)"):
        Catalog.from_arrays([0.0, 1.0], [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(OptionError, match=r"extra column 'depth' clashes"):
        Catalog.from_arrays([0.0], [1.0], extra={"depth": [1.0]})


# ---------------------------------------------------------------------- validation
def test_not_a_dataframe():
    with pytest.raises(DataError, match=r"pandas DataFrame; got dict.*from_arrays"):
        Catalog({"time": [0.0], "magnitude": [1.0]})


def test_missing_required_column_lists_columns_and_hints_aliases():
    frame = pd.DataFrame({"time": [0.0], "mag": [1.0], "lat": [0.0]})
    with pytest.raises(DataError) as err:
        Catalog(frame)
    msg = str(err.value)
    assert "missing required column(s) 'magnitude'" in msg
    assert "['time', 'mag', 'lat']" in msg
    assert "'mag' -> 'magnitude'" in msg
    with pytest.raises(DataError, match=r"'time', 'magnitude'.*columns found: \['x'\]"):
        Catalog(pd.DataFrame({"x": [1.0]}))


def test_empty_catalog():
    with pytest.raises(DataError, match=r"empty \(0 events\)"):
        Catalog(pd.DataFrame({"time": [], "magnitude": []}))


def test_unparsable_times_name_rows_values_and_count():
    times = ["2020-01-01"] + [f"not a date {k}" for k in range(7)]
    frame = pd.DataFrame({"time": times, "magnitude": np.ones(8)})
    with pytest.raises(DataError) as err:
        Catalog(frame)
    msg = str(err.value)
    assert "column 'time': 7 time(s) could not be parsed" in msg
    assert "rows 1 ('not a date 0'), 2 ('not a date 1')" in msg
    assert "(7 rows in all)" in msg
    assert "ISO 8601" in msg


def test_one_unparsable_time_among_numbers():
    frame = pd.DataFrame({"time": ["0.5", "1.5", "soon"], "magnitude": [1.0, 1.0, 1.0]})
    with pytest.raises(DataError, match=r"row 2 \('soon'\).*finite numbers \(days\)"):
        Catalog(frame)


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_missing_time_entries(empty):
    frame = pd.DataFrame({"time": ["2020-01-01", empty, "2020-01-03"],
                          "magnitude": [1.0, 1.0, 1.0]})
    with pytest.raises(DataError, match=r"column 'time' is empty \(missing time\) in row 1"):
        Catalog(frame)


def test_missing_datetime64_entries():
    frame = pd.DataFrame({"time": pd.to_datetime(["2020-01-01", None]), "magnitude": [1.0, 1.0]})
    with pytest.raises(DataError, match=r"missing time.*row 1"):
        Catalog(frame)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_numeric_times(bad):
    frame = pd.DataFrame({"time": [0.0, bad, 2.0], "magnitude": [1.0, 1.0, 1.0]})
    with pytest.raises(DataError, match=r"NaN or infinite times in row 1"):
        Catalog(frame)


def test_boolean_times():
    with pytest.raises(DataError, match=r"holds booleans"):
        Catalog(pd.DataFrame({"time": [True, False], "magnitude": [1.0, 1.0]}))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_magnitudes(bad):
    frame = pd.DataFrame({"time": [0.0, 1.0, 2.0], "magnitude": [1.0, 2.0, bad]})
    with pytest.raises(DataError, match=r"column 'magnitude' has NaN.*row 2.*on_missing='drop'"):
        Catalog(frame)


def test_non_numeric_magnitudes():
    frame = pd.DataFrame({"time": [0.0, 1.0], "magnitude": ["2.5", "big"]})
    with pytest.raises(DataError, match=r"'magnitude' has 1 entries that are not numbers.*"
                                        r"row 1 \('big'\)"):
        Catalog(frame)


def test_unsorted_times_raise_unless_sort_true():
    frame = pd.DataFrame({"time": [0.0, 2.0, 1.0, 3.0, 3.0, 2.5],
                          "magnitude": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                          "tag": list("abcdef")})
    with pytest.raises(DataError) as err:
        Catalog(frame)
    msg = str(err.value)
    assert "not in increasing order: 2 event(s)" in msg
    assert "rows 2 ('2.0 then 1.0'), 5 ('3.0 then 2.5')" in msg
    assert "sort=True" in msg
    cat = Catalog(frame, sort=True)
    np.testing.assert_array_equal(cat.times, [0.0, 1.0, 2.0, 2.5, 3.0, 3.0])
    # magnitudes and extra columns travel with their times; ties keep their order
    np.testing.assert_array_equal(cat.magnitudes, [1.0, 3.0, 2.0, 6.0, 4.0, 5.0])
    assert list(cat.column("tag")) == list("acbfde")


def test_unsorted_datetimes_raise():
    frame = pd.DataFrame({"time": ["2020-01-02", "2020-01-01"], "magnitude": [1.0, 1.0]})
    with pytest.raises(DataError, match=r"row 1 .*2020-01-02.*then.*2020-01-01.*sort=True"):
        Catalog(frame)
    cat = Catalog(frame, sort=True)
    assert cat.reference_time == ts("2020-01-01")


def test_check_times_flags_duplicate_times():
    frame = pd.DataFrame({"time": ["2020-01-01", "2020-01-02", "2020-01-02", "2020-01-03"],
                          "magnitude": [1.0, 2.0, 3.0, 4.0]})
    cat = Catalog(frame)  # ties are allowed by default
    assert cat.check_times(strictly_increasing=False) is cat
    with pytest.raises(DataError) as err:
        cat.check_times()
    msg = str(err.value)
    assert "strictly increasing" in msg
    assert "1 event(s)" in msg and "row 2 ('2020-01-02 00:00:00+00:00')" in msg
    distinct = Catalog(pd.DataFrame({"time": [0.0, 1e-6, 2.0], "magnitude": [1.0, 1.0, 1.0]}))
    assert distinct.check_times() is distinct


@pytest.mark.parametrize(("column", "values", "bad_row"), [
    ("latitude", [0.0, 90.5, -10.0], 1),
    ("latitude", [0.0, 10.0, -90.01], 2),
    ("longitude", [-180.5, 0.0, 10.0], 0),
    ("longitude", [0.0, 360.5, 10.0], 1),
])
def test_coordinates_out_of_range(column, values, bad_row):
    frame = pd.DataFrame({"time": [0.0, 1.0, 2.0], "magnitude": [1.0, 1.0, 1.0], column: values})
    with pytest.raises(DataError, match=f"'{column}' is outside .* row {bad_row} "):
        Catalog(frame)


def test_longitudes_up_to_360_and_range_edges_are_allowed():
    frame = pd.DataFrame({"time": [0.0, 1.0, 2.0], "magnitude": [1.0, 1.0, 1.0],
                          "longitude": [-180.0, 359.9, 360.0], "latitude": [-90.0, 0.0, 90.0]})
    assert len(Catalog(frame)) == 3


def test_missing_coordinates_are_errors_but_missing_depths_are_allowed():
    frame = pd.DataFrame({"time": [0.0, 1.0], "magnitude": [1.0, 1.0], "latitude": [1.0, np.nan]})
    with pytest.raises(DataError, match=r"'latitude' has NaN.*row 1"):
        Catalog(frame)
    frame = pd.DataFrame({"time": [0.0, 1.0], "magnitude": [1.0, 1.0], "depth": [np.nan, 5.0]})
    cat = Catalog(frame)
    assert cat.describe()["n_depth_missing"] == 1
    assert cat.describe()["depth_max"] == 5.0
    with pytest.raises(DataError, match=r"'depth' has infinite"):
        Catalog(pd.DataFrame({"time": [0.0], "magnitude": [1.0], "depth": [np.inf]}))


def test_duplicated_column_names():
    frame = pd.DataFrame([[0.0, 1.0, 2.0]], columns=["time", "magnitude", "magnitude"])
    with pytest.raises(DataError, match=r"duplicated column name.*'magnitude'"):
        Catalog(frame)


@pytest.mark.parametrize("ref", [5.0, "not a date", True])
def test_bad_reference_time(ref):
    with pytest.raises(OptionError, match=r"reference_time"):
        Catalog(pd.DataFrame({"time": [0.0], "magnitude": [1.0]}), reference_time=ref)


def test_bad_sort_option():
    with pytest.raises(OptionError, match=r"sort='yes'"):
        Catalog(pd.DataFrame({"time": [0.0], "magnitude": [1.0]}), sort="yes")


# ---------------------------------------------------------------------- immutability
def test_input_frame_is_neither_modified_nor_aliased():
    mags = np.array([3.0, 1.0, 2.0])
    frame = pd.DataFrame({"time": [2.0, 0.0, 1.0], "magnitude": mags, "id": ["c", "a", "b"]},
                         copy=False)
    before = frame.copy(deep=True)
    cat = Catalog(frame, sort=True)
    pd.testing.assert_frame_equal(frame, before)
    mags[:] = -1.0  # change the caller's array behind the frame
    frame.loc[0, "id"] = "zzz"
    np.testing.assert_array_equal(cat.magnitudes, [1.0, 2.0, 3.0])
    assert list(cat.column("id")) == ["a", "b", "c"]


def test_from_arrays_copies_its_inputs():
    t = np.array([0.0, 1.0])
    m = np.array([2.0, 3.0])
    lat = np.array([10.0, 11.0])
    cat = Catalog.from_arrays(t, m, latitude=lat)
    t[:] = 99.0
    m[:] = 99.0
    lat[:] = 0.0
    np.testing.assert_array_equal(cat.times, [0.0, 1.0])
    np.testing.assert_array_equal(cat.magnitudes, [2.0, 3.0])
    np.testing.assert_array_equal(cat.column("latitude"), [10.0, 11.0])
    assert not np.shares_memory(cat.magnitudes, m)


def test_accessors_are_read_only(grid):
    with pytest.raises(ValueError, match=r"read-only"):
        grid.magnitudes[0] = 9.0
    with pytest.raises(ValueError, match=r"read-only"):
        grid.times[0] = 9.0
    with pytest.raises(ValueError, match=r"read-only"):
        grid.column("depth")[0] = 9.0
    with pytest.raises(AttributeError, match=r"immutable"):
        grid.name = "other"
    with pytest.raises(AttributeError):
        grid.magnitudes = np.zeros(100)


def test_frame_is_a_copy(grid):
    frame = grid.frame
    frame.loc[0, "magnitude"] = 99.0
    frame["new"] = 1
    other = grid.to_frame()
    assert other.loc[0, "magnitude"] == 0.0
    assert "new" not in other.columns
    assert grid.magnitudes[0] == 0.0
    assert isinstance(other["time"].dtype, pd.DatetimeTZDtype)


def test_pickle_round_trip(grid):
    back = pickle.loads(pickle.dumps(grid))
    np.testing.assert_array_equal(back.times, grid.times)
    np.testing.assert_array_equal(back.magnitudes, grid.magnitudes)
    assert back.reference_time == grid.reference_time
    assert back.name == "grid"
    with pytest.raises(AttributeError):
        back.name = "x"


# ---------------------------------------------------------------------- selection
def test_select_magnitudes(grid):
    assert len(grid.select(min_magnitude=2.0)) == 60  # i % 10 >= 4
    assert len(grid.select(max_magnitude=1.0)) == 30  # i % 10 <= 2
    assert len(grid.select(min_magnitude=1.0, max_magnitude=1.0)) == 10
    assert len(grid) == 100  # unchanged


def test_select_time_window_half_open_with_dates_or_days(grid):
    by_date = grid.select(start="2020-01-11", end="2020-01-21")
    by_days = grid.select(start=10.0, end=20)
    assert len(by_date) == len(by_days) == 10
    np.testing.assert_array_equal(by_date.times, np.arange(10.0, 20.0))
    np.testing.assert_array_equal(by_days.magnitudes, by_date.magnitudes)
    # the reference time is kept so that times stay comparable
    assert by_date.reference_time == grid.reference_time
    assert by_date.datetimes[0] == ts("2020-01-11")
    with_tz = grid.select(start=pd.Timestamp("2020-01-11 09:00", tz="Asia/Tokyo"))
    assert len(with_tz) == 90  # 00:00 UTC on 11 January


def test_select_region_box_and_polygons(grid):
    box = grid.select(region=(2, 4, 3, 5))
    assert len(box) == 9
    assert set(box.column("longitude")) == {2.0, 3.0, 4.0}
    assert set(box.column("latitude")) == {3.0, 4.0, 5.0}
    square = [(1.5, 1.5), (4.5, 1.5), (4.5, 3.5), (1.5, 3.5)]
    assert len(grid.select(region=square)) == 6
    # concave L-shape: the row lat=0, lon 0..3, and the column lon=0, lat 1..3
    ell = [(-0.5, -0.5), (3.5, -0.5), (3.5, 0.5), (0.5, 0.5), (0.5, 3.5), (-0.5, 3.5)]
    sel = grid.select(region=np.array(ell))
    pairs = set(zip(sel.column("longitude"), sel.column("latitude"), strict=True))
    assert pairs == {(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0),
                     (0.0, 1.0), (0.0, 2.0), (0.0, 3.0)}
    closed = [*square, square[0]]  # a repeated first vertex changes nothing
    assert len(grid.select(region=closed)) == 6


def test_select_depth_and_combinations(grid):
    assert len(grid.select(min_depth=10, max_depth=19.5)) == 10
    both = grid.select(min_magnitude=2.0, region=(2, 4, 3, 5))  # lon 4 only
    assert len(both) == 3
    np.testing.assert_array_equal(both.column("longitude"), [4.0, 4.0, 4.0])


def test_select_returns_a_new_catalog(grid):
    everything = grid.select()
    assert everything is not grid
    assert len(everything) == len(grid)
    sub = grid.select(min_magnitude=4.5)
    assert sub.name == grid.name
    assert len(grid) == 100


def test_empty_selection_names_the_criteria(grid):
    with pytest.raises(DataError) as err:
        grid.select(min_magnitude=10.0, start="2020-02-01")
    msg = str(err.value)
    assert "select() left no events from catalogue 'grid'" in msg
    assert "min_magnitude=10 keeps 0 of 100" in msg
    assert "start=2020-02-01 00:00:00+00:00 keeps 69 of 100" in msg
    with pytest.raises(DataError, match=r"no event meets them all"):
        grid.select(max_magnitude=0.0, region=(5, 9, 0, 9))


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"min_magnitude": 3.0, "max_magnitude": 2.0}, "min_magnitude=3 is above max_magnitude=2"),
    ({"min_depth": 5.0, "max_depth": 1.0}, "min_depth=5 is above"),
    ({"min_magnitude": "3"}, "use a finite number"),
    ({"min_magnitude": np.nan}, "finite"),
    ({"start": "2020-02-01", "end": "2020-01-01"}, "must be before"),
    ({"start": True}, "start=True"),
    ({"end": "no date"}, "end='no date' could not be read"),
    ({"region": (1, 0, 0, 1)}, "lon_min <= lon_max"),
    ({"region": (0, 1, 2)}, "box .* or a polygon"),
    ({"region": [(0, 0), (1, 1)]}, "at least three"),
    ({"region": "Japan"}, "region='Japan'"),
])
def test_select_bad_options(grid, kwargs, pattern):
    with pytest.raises(OptionError, match=pattern):
        grid.select(**kwargs)


def test_select_needs_columns():
    cat = Catalog(pd.DataFrame({"time": [0.0, 1.0], "magnitude": [1.0, 2.0]}))
    with pytest.raises(DataError, match=r"region needs a 'longitude' column.*time, magnitude"):
        cat.select(region=(0, 1, 0, 1))
    with pytest.raises(DataError, match=r"needs a 'depth' column"):
        cat.select(max_depth=10)


def test_select_numeric_catalog_with_dates():
    frame = pd.DataFrame({"time": [0.0, 1.0, 2.0], "magnitude": [1.0, 2.0, 3.0]})
    with pytest.raises(OptionError, match=r"no reference_time"):
        Catalog(frame).select(start="2020-01-01")
    anchored = Catalog(frame, reference_time="2020-01-01")
    sel = anchored.select(start="2020-01-02")
    np.testing.assert_array_equal(sel.times, [1.0, 2.0])
    assert sel.reference_time == ts("2020-01-01")


# ---------------------------------------------------------------------- summaries
def test_describe(grid):
    d = grid.describe()
    assert d["n"] == 100
    assert d["name"] == "grid"
    assert d["start"] == ts("2020-01-01")
    assert d["end"] == ts("2020-04-09")
    assert d["time_span_days"] == 99.0
    assert (d["magnitude_min"], d["magnitude_max"]) == (0.0, 4.5)
    assert (d["latitude_min"], d["latitude_max"]) == (0.0, 9.0)
    assert (d["longitude_min"], d["longitude_max"]) == (0.0, 9.0)
    assert (d["depth_min"], d["depth_max"], d["n_depth_missing"]) == (0.0, 99.0, 0)
    numeric = Catalog(pd.DataFrame({"time": [1.0, 3.5], "magnitude": [2.0, 1.0]})).describe()
    assert (numeric["start"], numeric["end"], numeric["time_span_days"]) == (1.0, 3.5, 2.5)
    assert numeric["latitude_min"] is None and numeric["reference_time"] is None
    assert set(numeric) == set(d)


def test_repr(grid):
    text = repr(grid)
    assert text.startswith("Catalog('grid', 100 events, 2020-01-01 00:00:00 to 2020-04-09")
    assert text.endswith("M 0 to 4.5)")
    numeric = Catalog(pd.DataFrame({"time": [0.0], "magnitude": [2.0]}))
    assert repr(numeric) == "Catalog(1 event, t = 0 to 0 days, M 2 to 2)"
