"""Tests of pystats.readers: layouts, column detection, every bad-input path, real files."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from pystats.catalog import Catalog
from pystats.errors import DataError, DataWarning, OptionError
from pystats.readers import FORMATS, read_catalog, read_comcat


def csv(text: str) -> io.StringIO:
    return io.StringIO(text.strip() + "\n")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


COMCAT_HEADER = (
    "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type,"
    "horizontalError,depthError,magError,magNst,status,locationSource,magSource"
)
COMCAT_ROWS = [  # newest first, as the USGS service sends them
    "2019-07-06T03:47:53.420Z,35.9,-117.7,5.0,5.4,mw,50,30,0.1,0.2,ci,ci1,"
    "2019-08-01T00:00:00.000Z,\"10km W of Ridgecrest, CA\",earthquake,0.2,0.5,0.1,9,reviewed,ci,ci",
    "2019-07-06T03:19:53.040Z,35.7695,-117.5993333,8,7.1,mw,60,20,0.1,0.2,ci,ci2,"
    "2019-08-01T00:00:00.000Z,\"2km SW of Searles Valley, CA\",earthquake,0.2,0.5,0.1,9,"
    "reviewed,ci,ci",
    "2019-07-05T20:00:00.000Z,34.0,-117.0,0.0,1.9,ml,10,90,0.3,0.2,ci,ci3,"
    "2019-08-01T00:00:00.000Z,\"3km N of Quarry, CA\",quarry blast,0.4,0.9,0.2,5,reviewed,ci,ci",
]


def comcat_text(rows: list[str] = COMCAT_ROWS) -> io.StringIO:
    return csv("\n".join([COMCAT_HEADER, *rows]))


# ---------------------------------------------------------------------- generic layout
@pytest.mark.parametrize(("time", "mag", "lat", "lon", "depth"), [
    ("time", "mag", "lat", "lon", "depth"),
    ("origin_time", "magnitude", "latitude", "longitude", "depth_km"),
    ("datetime", "M", "Lat", "Long", "Depth"),
    ("time_string", "ML", "LATITUDE", "lng", "depth"),
])
def test_generic_detects_common_names(time, mag, lat, lon, depth):
    text = (f"{time},{mag},{lat},{lon},{depth},note\n"
            "2020-01-01T00:00:00Z,3.5,35.0,-117.0,8.0,a\n"
            "2020-01-01T12:00:00Z,2.5,35.5,-117.5,9.0,b\n")
    cat = read_catalog(csv(text))
    assert cat.columns == ("time", "magnitude", "latitude", "longitude", "depth", "note")
    np.testing.assert_array_equal(cat.times, [0.0, 0.5])
    np.testing.assert_array_equal(cat.magnitudes, [3.5, 2.5])
    np.testing.assert_array_equal(cat.column("latitude"), [35.0, 35.5])
    np.testing.assert_array_equal(cat.column("depth"), [8.0, 9.0])
    assert cat.name is None


def test_columns_mapping_and_leaving_a_column_out():
    text = ("when,mw,ml,y,x,z\n"
            "2020-01-01,5.0,4.8,10.0,20.0,3.0\n"
            "2020-01-02,4.0,3.9,11.0,21.0,4.0\n")
    cat = read_catalog(csv(text), columns={"time": "when", "magnitude": "MW", "latitude": "y",
                                           "longitude": "x", "depth": None})
    np.testing.assert_array_equal(cat.magnitudes, [5.0, 4.0])
    np.testing.assert_array_equal(cat.column("longitude"), [20.0, 21.0])
    assert "depth" not in cat.columns
    assert cat.columns[-2:] == ("ml", "z")


def test_mapped_column_clashing_with_a_leftover_column_is_renamed():
    text = "time,magnitude,mw\n0.0,1.0,1.2\n1.0,2.0,2.2\n"
    cat = read_catalog(csv(text), columns={"magnitude": "mw"})
    np.testing.assert_array_equal(cat.magnitudes, [1.2, 2.2])
    np.testing.assert_array_equal(cat.column("original_magnitude"), [1.0, 2.0])


@pytest.mark.parametrize(("header", "pattern"), [
    ("time,mag,ml", "ambiguous magnitude column: 'mag', 'ml'.*columns="),
    ("time,mag,lat,latitude", "ambiguous latitude column: 'lat', 'latitude'"),
    ("time,origin_time,mag", "ambiguous time column: 'time', 'origin_time'.*columns="),
])
def test_ambiguous_columns(header, pattern):
    n = header.count(",") + 1
    text = header + "\n" + ",".join(["1.0"] * n) + "\n"
    with pytest.raises(DataError, match=pattern):
        read_catalog(csv(text))


def test_ambiguity_resolved_by_columns():
    text = "time,mag,ml\n0.0,3.0,2.9\n1.0,4.0,3.9\n"
    cat = read_catalog(csv(text), columns={"magnitude": "ml"})
    np.testing.assert_array_equal(cat.magnitudes, [2.9, 3.9])


def test_missing_columns_list_what_was_found():
    with pytest.raises(DataError, match=r"no magnitude column.*\['time', 'size'\].*columns="):
        read_catalog(csv("time,size\n0.0,3.0\n"))
    with pytest.raises(DataError, match=r"no time column.*\['when', 'mag'\]"):
        read_catalog(csv("when,mag\n0.0,3.0\n"))


def test_bad_columns_option():
    with pytest.raises(DataError, match=r"no column 'zzz' in the file.*\['time', 'mag'\]"):
        read_catalog(csv("time,mag\n0.0,3.0\n"), columns={"magnitude": "zzz"})
    with pytest.raises(OptionError, match=r"columns key 'mag' is not allowed"):
        read_catalog(csv("time,mag\n0.0,3.0\n"), columns={"mag": "mag"})
    with pytest.raises(OptionError, match=r"must be a mapping"):
        read_catalog(csv("time,mag\n0.0,3.0\n"), columns=["time"])
    with pytest.raises(OptionError, match=r"used for both"):
        read_catalog(csv("time,mag\n0.0,3.0\n"), columns={"latitude": "mag"})
    with pytest.raises(OptionError, match=r"must name a 'time' column"):
        read_catalog(csv("d,t,mag\n2020-01-01,00:00,3.0\n"), columns={"date": "d"})


def test_date_and_time_pair():
    text = "date,time,mag\n2020-01-01,12:00:00,3.0\n2020-01-02,00:00,4.0\n"
    cat = read_catalog(csv(text))
    assert list(cat.datetimes) == [ts("2020-01-01 12:00"), ts("2020-01-02 00:00")]
    assert cat.columns == ("time", "magnitude")  # date and clock time merged into 'time'
    mapped = read_catalog(csv("d,t,mag\n2020-01-01,12:00:00,3.0\n"),
                          columns={"date": "d", "time": "t"})
    assert mapped.datetimes[0] == ts("2020-01-01 12:00")


def test_date_alone_is_the_time():
    cat = read_catalog(csv("date,mag\n2020-01-01,3.0\n2020-01-03,4.0\n"))
    np.testing.assert_array_equal(cat.times, [0.0, 2.0])


def test_utc_and_offsets():
    text = ("time,mag\n"
            "2020-01-01 00:00:00,1.0\n"          # naive: UTC
            "2020-01-01T02:00:00+01:00,1.0\n"    # 01:00 UTC
            "2020-01-01T02:00:00Z,1.0\n")
    cat = read_catalog(csv(text))
    np.testing.assert_allclose(cat.times * 24, [0.0, 1.0, 2.0])


def test_time_format_for_other_layouts():
    text = "time,mag\n06/07/2019 03:19,7.1\n07/07/2019 03:19,4.0\n"
    with pytest.raises(DataError, match=r"could not be parsed.*time_format="):
        read_catalog(csv(text))
    cat = read_catalog(csv(text), time_format="%d/%m/%Y %H:%M")
    assert cat.datetimes[0] == ts("2019-07-06 03:19")


def test_unparsable_times_name_rows_and_strings():
    text = "time,mag\n2020-01-01,1.0\n2020-13-01,2.0\n2020-01-03,3.0\nyesterday,4.0\n"
    with pytest.raises(DataError) as err:
        read_catalog(csv(text))
    msg = str(err.value)
    assert "column 'time': 2 time(s) could not be parsed" in msg
    assert "rows 1 ('2020-13-01'), 3 ('yesterday')" in msg


def test_empty_time_entries():
    with pytest.raises(DataError, match=r"'time' is empty \(missing time\) in row 1"):
        read_catalog(csv("time,mag\n2020-01-01,1.0\n,2.0\n"))
    with pytest.raises(DataError, match=r"'date \+ time' is empty.*row 1"):
        read_catalog(csv("date,time,mag\n2020-01-01,00:00,1.0\n,00:00,2.0\n"))


def test_numeric_times_are_days_and_time_unit():
    cat = read_catalog(csv("time,mag\n0.0,1.0\n36.0,2.0\n"), time_unit="hours")
    np.testing.assert_array_equal(cat.times, [0.0, 1.5])
    assert cat.reference_time is None
    anchored = read_catalog(csv("time,mag\n0.0,1.0\n1.0,2.0\n"), reference_time="2020-01-01")
    assert anchored.datetimes[1] == ts("2020-01-02")


def test_unsorted_file_raises_with_file_rows_unless_sort():
    text = "time,mag\n0.0,1.0\n2.0,2.0\n1.0,3.0\n"
    with pytest.raises(DataError, match=r"row 2 \('2.0 then 1.0'\).*sort=True"):
        read_catalog(csv(text))
    cat = read_catalog(csv(text), sort=True)
    np.testing.assert_array_equal(cat.magnitudes, [1.0, 3.0, 2.0])


def test_descending_file_is_reversed():
    cat = read_catalog(csv("time,mag\n2.0,1.0\n1.0,2.0\n1.0,2.5\n0.0,3.0\n"))
    np.testing.assert_array_equal(cat.times, [0.0, 1.0, 1.0, 2.0])
    np.testing.assert_array_equal(cat.magnitudes, [3.0, 2.5, 2.0, 1.0])


def test_row_numbers_refer_to_the_file_after_rows_are_dropped():
    text = "time,mag,lat\n0.0,,10.0\n1.0,2.0,10.0\n2.0,3.0,95.0\n"
    with pytest.warns(DataWarning, match=r"dropped 1 of 3"), \
            pytest.raises(DataError, match=r"'latitude' is outside .* row 2 \(95.0\)"):
        read_catalog(csv(text), on_missing="drop")


def test_bad_numbers_in_file_columns():
    with pytest.raises(DataError, match=r"'mag' has 1 entries that are not numbers.*row 1 \('x'"):
        read_catalog(csv("time,mag\n0.0,1.0\n1.0,x\n"))
    with pytest.raises(DataError, match=r"'depth' has 1 entries that are not numbers.*row 0"):
        read_catalog(csv("time,mag,depth\n0.0,1.0,deep\n"))


# ---------------------------------------------------------------------- missing magnitudes
def test_empty_magnitudes_raise_by_default():
    text = "time,mag\n0.0,1.0\n1.0,\n2.0,NaN\n3.0,2.0\n"
    with pytest.raises(DataError) as err:
        read_catalog(csv(text))
    msg = str(err.value)
    assert "magnitude missing (empty or NaN) for 2 event(s), in rows 1, 2" in msg
    assert "on_missing='drop'" in msg


def test_drop_missing_magnitudes_warns_with_count():
    text = "time,mag\n0.0,1.0\n1.0,\n2.0,-9\n3.0,2.0\n"
    with pytest.warns(DataWarning, match=r"dropped 2 of 4 events.*-9.0"):
        cat = read_catalog(csv(text), missing_magnitude=-9, on_missing="drop")
    np.testing.assert_array_equal(cat.times, [0.0, 3.0])
    with pytest.raises(DataError, match=r"equal to -9.0\) for 1 event\(s\), in row 1 "):
        read_catalog(csv("time,mag\n0.0,1.0\n2.0,-9\n"), missing_magnitude=-9)


def test_all_magnitudes_missing():
    with pytest.warns(DataWarning), pytest.raises(DataError, match=r"no events left"):
        read_catalog(csv("time,mag\n0.0,\n1.0,\n"), on_missing="drop")


SAPP = (
    "no.,longitude,latitude,magnitude,time,depth,year,month,day\n"
    "1.0,141.174,38.402,6.2,0.0,-11.87,2003.0,7.0,26.0\n"
    "2.0,141.193,38.415,0.0,0.00206,-12.36,2003.0,7.0,26.0\n"
    "3.0,141.167,38.456,4.5,0.00224,-11.62,2003.0,7.0,26.0\n"
    "4.0,141.167,38.456,0.0,0.0030,-1.5,2003.0,7.0,26.0\n"
)


def test_sapp_zero_magnitudes_need_the_explicit_option():
    with pytest.raises(DataError) as err:
        read_catalog(csv(SAPP))
    msg = str(err.value)
    assert "2 event(s) have magnitude 0" in msg and "'undetermined'" in msg
    assert "rows 1, 3" in msg
    assert "missing_magnitude=0.0 with on_missing='drop'" in msg
    with pytest.raises(DataError, match=r"equal to 0.0\) for 2 event\(s\), in rows 1, 3"):
        read_catalog(csv(SAPP), missing_magnitude=0.0)
    with pytest.warns(DataWarning, match=r"dropped 2 of 4 events"):
        cat = read_catalog(csv(SAPP), missing_magnitude=0.0, on_missing="drop")
    np.testing.assert_array_equal(cat.magnitudes, [6.2, 4.5])
    np.testing.assert_array_equal(cat.times, [0.0, 0.00224])
    np.testing.assert_array_equal(cat.column("depth"), [11.87, 11.62])  # positive down
    with pytest.warns(DataWarning, match=r"depth_scale=-1"):
        generic = read_catalog(csv(SAPP), format="generic")  # 0.0 taken as a real magnitude
    assert len(generic) == 4
    np.testing.assert_array_equal(generic.column("depth"), [-11.87, -12.36, -11.62, -1.5])


# ---------------------------------------------------------------------- named layouts
def test_ptprocess_needs_magnitude_offset():
    text = "magnitude,time\n1.9,40.3\n0.1,40.4\n"
    with pytest.raises(OptionError, match=r"magnitude_offset=.*Tangshan.*4.0.*3.5"):
        read_catalog(csv(text), format="ptprocess")
    cat = read_catalog(csv(text), format="ptprocess", magnitude_offset=3.5)
    np.testing.assert_allclose(cat.magnitudes, [5.4, 3.6])
    tangshan = ("latitude,longitude,magnitude,year,month,day,hour,minute,second,time\n"
                "39.5,119.32,0.9,1974.0,5.0,7.0,6.0,31.0,53.0,126.2721\n")
    with pytest.raises(OptionError, match=r"magnitude_offset"):
        read_catalog(csv(tangshan))  # detected from the header


def test_sed_depth_in_metres_event_types_and_descending_order():
    text = ("event_type,time,latitude,longitude,depth,evaluationmode,magnitude,magnitude_type\n"
            "earthquake,2023-12-31 23:48:15.845844,47.9,7.5,986.328125,manual,1.07,MLhc\n"
            "quarry blast,2023-06-01 10:00:00,46.0,7.0,-500.0,manual,1.5,MLhc\n"
            "earthquake,2023-01-01 09:52:48.788729,46.5,8.1,6518.554688,manual,0.72,MLhc\n")
    with pytest.warns(DataWarning, match=r"1 of 3 events are not earthquakes.*quarry blast: 1"):
        cat = read_catalog(csv(text))
    np.testing.assert_allclose(cat.column("depth"), [6.518554688, -0.5, 0.986328125])
    assert cat.datetimes[0] == ts("2023-01-01 09:52:48.788729")
    assert list(cat.column("event_type")) == ["earthquake", "quarry blast", "earthquake"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quakes = read_catalog(csv(text), event_types=["earthquake"])
    np.testing.assert_array_equal(quakes.magnitudes, [0.72, 1.07])


def test_read_comcat():
    with pytest.warns(DataWarning, match=r"1 of 3 events are not earthquakes"):
        cat = read_comcat(comcat_text())
    assert list(cat.datetimes) == [ts("2019-07-05 20:00"), ts("2019-07-06 03:19:53.04"),
                                   ts("2019-07-06 03:47:53.42")]
    np.testing.assert_array_equal(cat.magnitudes, [1.9, 7.1, 5.4])
    assert cat.column("place")[1] == "2km SW of Searles Valley, CA"
    assert cat.column("magType")[0] == "ml"
    quakes = read_comcat(comcat_text(), event_types="earthquake")
    assert len(quakes) == 2
    assert quakes.reference_time == ts("2019-07-06 03:19:53.04")
    auto = read_catalog(comcat_text(), event_types=("earthquake",))
    np.testing.assert_array_equal(auto.magnitudes, quakes.magnitudes)


def test_read_comcat_missing_magnitude():
    rows = [COMCAT_ROWS[0], COMCAT_ROWS[1].replace(",8,7.1,", ",8,,")]
    with pytest.raises(DataError, match=r"column 'mag': magnitude missing.*row 1"):
        read_comcat(comcat_text(rows))
    with pytest.warns(DataWarning, match=r"dropped 1 of 2"):
        cat = read_comcat(comcat_text(rows), on_missing="drop")
    np.testing.assert_array_equal(cat.magnitudes, [5.4])


def test_event_types_bad_uses():
    with pytest.raises(OptionError, match=r"needs an event-type column"):
        read_catalog(csv("time,mag\n0.0,1.0\n"), event_types=("earthquake",))
    with pytest.raises(OptionError, match=r"event_types=\[1\]"):
        read_comcat(comcat_text(), event_types=[1])
    with pytest.raises(DataError, match=r"no event has a type in.*'earthquake', 'quarry blast'"):
        read_comcat(comcat_text(), event_types=("explosion",))


def test_generic_event_type_columns():
    text = "time,mag,event_type\n0.0,1.0,earthquake\n1.0,2.0,explosion\n"
    with pytest.warns(DataWarning, match="1 of 2 events are not earthquakes.*explosion: 1"):
        read_catalog(csv(text))
    # a bare 'type' column (here a magnitude type) is only used when asked for
    typed = "time,mag,type\n0.0,1.0,ml\n1.0,2.0,earthquake\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_catalog(csv(typed))) == 2
    np.testing.assert_array_equal(
        read_catalog(csv(typed), event_types=["Earthquake"]).magnitudes, [2.0])


def test_etas_r_layout_and_negative_depths():
    text = ('"date","time","long","lat","mag","depth"\n'
            '"1926-01-08","00:00:00",142.5345,39.3433,4.6,0\n'
            '"1926-01-10","17:57:43",141.5225,35.8435,5.6,-24\n')
    with pytest.warns(DataWarning, match=r"every value of column 'depth' is <= 0.*depth_scale=-1"):
        cat = read_catalog(csv(text))
    assert cat.datetimes[1] == ts("1926-01-10 17:57:43")
    np.testing.assert_array_equal(cat.column("longitude"), [142.5345, 141.5225])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flipped = read_catalog(csv(text), depth_scale=-1)
        kept = read_catalog(csv(text), depth_scale=1)
    np.testing.assert_array_equal(flipped.column("depth"), [0.0, 24.0])
    np.testing.assert_array_equal(kept.column("depth"), [0.0, -24.0])


def test_pycsep_layout():
    text = ("lon,lat,M,time_string,depth,catalog_id,event_id\n"
            "-117.43017,35.616665,4.73,2019-07-06T03:22:35.630000,9.35,-1,\n"
            "-117.7365,35.891,4.64,2019-07-06T03:22:48.300000,9.1,-1,\n")
    cat = read_catalog(csv(text))
    assert cat.datetimes[0] == ts("2019-07-06 03:22:35.63")
    np.testing.assert_array_equal(cat.magnitudes, [4.73, 4.64])
    assert cat.columns[:5] == ("time", "magnitude", "latitude", "longitude", "depth")


def test_explicit_format_missing_its_columns():
    with pytest.raises(DataError, match=r"format 'comcat' looks for 'mag'"):
        read_catalog(csv("time,magnitude\n0.0,1.0\n"), format="comcat")


# ---------------------------------------------------------------------- inputs and options
def test_path_input_names_the_catalog(tmp_path):
    path = tmp_path / "my_events.csv"
    path.write_text("time,mag\n2020-01-01,3.0\n")
    assert read_catalog(path).name == "my_events"
    assert read_catalog(str(path), name="other").name == "other"
    with pytest.raises(FileNotFoundError):
        read_catalog(tmp_path / "absent.csv")


def test_read_csv_options_are_passed_on():
    cat = read_catalog(csv("# comment\ntime;mag\n0,5;1.0\n1,5;2.0\n"), sep=";", decimal=",",
                       comment="#")
    np.testing.assert_array_equal(cat.times, [0.5, 1.5])


def test_empty_and_header_only_files():
    with pytest.raises(DataError, match=r"empty: no header line"):
        read_catalog(io.StringIO(""))
    with pytest.raises(DataError, match=r"header \(time, mag\) but no events"):
        read_catalog(io.StringIO("time,mag\n"))


def test_dataframe_input_is_not_modified():
    frame = pd.DataFrame({"mag": [2.0, 1.0], "time": ["2020-01-02", "2020-01-01"]})
    before = frame.copy(deep=True)
    cat = read_catalog(frame, sort=True)
    pd.testing.assert_frame_equal(frame, before)
    np.testing.assert_array_equal(cat.magnitudes, [1.0, 2.0])
    with pytest.raises(OptionError, match=r"cannot be used with a DataFrame"):
        read_catalog(frame, sep=";")


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"format": "quakeml"}, "format='quakeml' is not allowed.*comcat"),
    ({"on_missing": "ignore"}, "on_missing='ignore'.*error, drop"),
    ({"missing_magnitude": "0"}, "missing_magnitude='0'"),
    ({"magnitude_offset": np.inf}, "magnitude_offset=inf"),
    ({"depth_scale": 0}, "depth_scale=0.*not 0"),
])
def test_bad_options(kwargs, pattern):
    with pytest.raises(OptionError, match=pattern):
        read_catalog(csv("time,mag\n0.0,1.0\n"), **kwargs)


def test_bad_source_type():
    with pytest.raises(OptionError, match=r"got int"):
        read_catalog(42)


def test_formats_constant():
    assert FORMATS[0] == "auto"
    assert {"generic", "comcat", "etas-r", "sapp", "ptprocess", "pycsep", "earthquakenpp",
            "sed"} == set(FORMATS[1:])


# ---------------------------------------------------------------------- real files
# (file, options, events, first time, last time, first M, last M); values from the data
# README (counts) and from the first and last lines of each file.
REAL = [
    ("iran_comcat_1973_2015_etasR.csv", {}, 5970,
     "1973-01-06 15:39:31", "2015-12-24 22:39:20.17", 4.2, 4.6),
    ("italy_iside_2005_2013_m3_etasR.csv", {}, 2158,
     "2005-04-16 12:27:54", "2013-11-01 04:44:33", 3.8, 3.1),
    ("japan_jma_1926_2007_m4.5_etasR.csv", {"depth_scale": -1}, 13724,
     "1926-01-08 00:00:00", "2007-12-29 04:32:23", 4.6, 4.6),
    ("japan_comcat_1990_2019_m2.5.csv", {}, 37581,
     "1990-01-01 09:03:12.880", "2019-12-31 17:10:14.848", 4.8, 4.7),
    ("sanjacinto_qtm_2008_2017_m1.csv", {}, 21291,
     "2008-01-01 05:19:47.961", "2017-12-31 16:35:59.302", 1.23, 1.84),
    ("ridgecrest2019_comcat_m1.5.csv", {}, 12259,
     "2019-07-04 16:13:43.37", "2019-08-03 22:43:49.13", 1.5, 2.12),
    ("ridgecrest2019_week_comcat_m2.5.csv", {}, 829,
     "2019-07-06 03:22:35.63", "2019-07-13 02:47:44.27", 4.73, 2.8),
    ("switzerland_sed_2023.csv", {"event_types": ("earthquake", "quarry blast", "landslide",
                                                  "sonic boom", "explosion")}, 1924,
     "2023-01-01 09:52:48.788729", "2023-12-31 23:48:15.845844", 0.7196727986, 1.069155483),
    ("synthetic_etas_with_detection_petai.csv", {}, 10888,
     "1970-01-01 15:40:17.007334799", "2019-12-29 02:44:50.504181", 2.6, 2.5),
]


@pytest.mark.parametrize(("file", "options", "n", "first", "last", "m_first", "m_last"), REAL,
                         ids=[r[0] for r in REAL])
def test_real_calendar_catalogs(shared_data, file, options, n, first, last, m_first, m_last):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # these files read without any warning
        cat = read_catalog(shared_data / "catalogs" / file, **options)
    assert len(cat) == n
    assert cat.datetimes[0] == ts(first)
    assert cat.datetimes[-1] == ts(last)
    assert cat.magnitudes[0] == pytest.approx(m_first)
    assert cat.magnitudes[-1] == pytest.approx(m_last)
    assert cat.reference_time == ts(first)
    assert cat.times[0] == 0.0
    assert np.all(np.diff(cat.times) >= 0)


def test_miyagi_sapp(shared_data):
    path = shared_data / "catalogs" / "miyagi2003_aftershocks_sapp.csv"
    with pytest.raises(DataError, match=r"355 event\(s\) have magnitude 0"):
        read_catalog(path)
    with pytest.warns(DataWarning, match=r"dropped 355 of 2305 events"):
        cat = read_catalog(path, missing_magnitude=0.0, on_missing="drop")
    assert len(cat) == 1950
    assert cat.times[0] == 0.0 and cat.magnitudes[0] == 6.2  # the M6.2 main shock at t = 0
    assert cat.times[-1] == 18.67735 and cat.magnitudes[-1] == 1.4
    assert cat.reference_time is None and cat.datetimes is None
    assert cat.magnitudes.min() > 0
    depth = cat.column("depth")
    assert depth[0] == 11.87 and depth.min() > 0  # stored as -11.87: positive down in km
    assert len(cat.select(min_magnitude=2.5, start=0.01, end=18.68)) > 0


def test_ptprocess_files(shared_data):
    folder = shared_data / "catalogs"
    with pytest.raises(OptionError, match=r"magnitude_offset"):
        read_catalog(folder / "tangshan_1974_1984_ptprocess.csv")
    tangshan = read_catalog(folder / "tangshan_1974_1984_ptprocess.csv", magnitude_offset=4.0)
    assert len(tangshan) == 455
    assert (tangshan.times[0], tangshan.times[-1]) == (126.2721, 4017.875)
    assert tangshan.magnitudes[0] == pytest.approx(4.9)
    assert tangshan.magnitudes[-1] == pytest.approx(4.1)
    assert tangshan.magnitudes.min() == pytest.approx(4.0)  # file holds M >= 4
    ogata = read_catalog(folder / "ogata_simulated_etas_ptprocess.csv", format="ptprocess",
                         magnitude_offset=3.5)
    assert len(ogata) == 100
    assert (ogata.times[0], ogata.times[-1]) == (40.34702, 799.99078)
    assert ogata.magnitudes[0] == pytest.approx(1.937 + 3.5)
    assert ogata.magnitudes.min() >= 3.5


def test_unsorted_real_file_needs_sort(shared_data):
    path = shared_data / "catalogs" / "synthetic_etas_california_known_params.csv"
    with pytest.raises(DataError, match=r"not in increasing order.*sort=True"):
        read_catalog(path)
    cat = read_catalog(path, sort=True)
    raw = pd.read_csv(path)
    when = pd.to_datetime(raw["time"], utc=True, format="ISO8601")
    assert len(cat) == 4454
    assert cat.datetimes[0] == when.min()
    assert cat.datetimes[-1] == when.max()
    assert cat.magnitudes[0] == raw["magnitude"][when.idxmin()]


def test_sed_real_file(shared_data):
    path = shared_data / "catalogs" / "switzerland_sed_2023.csv"
    with pytest.warns(DataWarning, match=r"402 of 1924 events are not earthquakes"):
        cat = read_catalog(path)
    assert len(cat) == 1924
    assert cat.column("depth")[0] == pytest.approx(6.518554688)  # 6518.554688 m
    quakes = read_catalog(path, event_types=("earthquake",))
    assert len(quakes) == 1522


def test_jma_negative_depths_warning(shared_data):
    path = shared_data / "catalogs" / "japan_jma_1926_2007_m4.5_etasR.csv"
    with pytest.warns(DataWarning, match=r"depth_scale=-1"):
        cat = read_catalog(path)
    assert cat.column("depth").max() == 0.0
    flipped = read_catalog(path, depth_scale=-1)
    assert flipped.column("depth").min() == 0.0
    assert len(flipped.select(max_depth=30)) < len(flipped)


def test_ridgecrest_times_match_the_files_own_day_counts(shared_data):
    cat = read_catalog(shared_data / "catalogs" / "ridgecrest2019_comcat_m1.5.csv")
    np.testing.assert_allclose(cat.times, cat.column("days_since_start"), atol=1e-6)
    # the M7.1 main shock at 2019-07-06 03:19:53 UTC
    big = cat.select(min_magnitude=7.0)
    assert len(big) == 1
    assert big.datetimes[0].floor("s") == ts("2019-07-06 03:19:53")


@pytest.mark.parametrize(("file", "ties"), [
    ("italy_iside_2005_2013_m3_etasR.csv", 2),
    ("ridgecrest2019_comcat_m1.5.csv", 3),
])
def test_real_files_with_equal_times(shared_data, file, ties):
    cat = read_catalog(shared_data / "catalogs" / file)
    with pytest.raises(DataError, match=f"but {ties} event\\(s\\) have the same time"):
        cat.check_times()


def test_catalog_type(shared_data):
    cat = read_catalog(shared_data / "catalogs" / "iran_comcat_1973_2015_etasR.csv")
    assert isinstance(cat, Catalog)
    assert cat.check_times() is cat


# ---------------------------------------------------------------------- file encoding and layout
def test_latin1_file_names_the_encoding_and_the_line(tmp_path):
    path = tmp_path / "swiss.csv"
    path.write_bytes("time,magnitude,place\n0.5,2.0,Basel\n1.0,2.3,Zürich\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"swiss\.csv.*not utf-8 text.*0xfc on line 3.*"
                                        r"encoding='latin-1'"):
        read_catalog(path)
    cat = read_catalog(path, encoding="latin-1")
    assert cat.to_frame()["place"].tolist() == ["Basel", "Zürich"]
    with pytest.raises(OptionError, match=r"encoding='no-such-codec' is not allowed"):
        read_catalog(path, encoding="no-such-codec")


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_separator_gets_a_hint(tmp_path, sep: str):
    path = tmp_path / "semi.csv"
    path.write_text(f"time{sep}magnitude\n0.5{sep}2.0\n1.0{sep}2.3\n")
    quoted = re.escape(repr(sep))
    with pytest.raises(DataError,
                       match=rf"single column.*separated by {quoted}.*pass sep={quoted}"):
        read_catalog(path)
    np.testing.assert_array_equal(read_catalog(path, sep=sep).magnitudes, [2.0, 2.3])


def test_semicolon_buffer_gets_a_hint_and_is_not_consumed():
    buffer = csv("time;magnitude\n0.5;2.0\n1.0;2.3")
    with pytest.raises(DataError, match=r"pass sep=';'"):
        read_catalog(buffer)


@pytest.mark.parametrize("comment", [
    "# catalogue of the 2019 sequence\n# times in days\n",  # no comma: a parser error
    "# catalogue, version 2\n",  # one comma: parsed, but the header is wrong
])
def test_commented_header_gets_a_hint(tmp_path, comment: str):
    path = tmp_path / "commented.csv"
    path.write_text(comment + "time,magnitude\n0.5,2.0\n1.0,2.3\n")
    with pytest.raises(DataError, match=r"comment line \(# catalogue.*pass comment='#'"):
        read_catalog(path)
    np.testing.assert_array_equal(read_catalog(path, comment="#").times, [0.5, 1.0])
