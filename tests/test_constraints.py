"""The declared option constraints (pystats.constraints): what each accepts, what it
returns, and the message of what it refuses (the messages of pystats._checks)."""

from __future__ import annotations

import datetime as dt
import math
from numbers import Integral, Real

import numpy as np
import pytest

from pystats import _checks
from pystats.constraints import (
    ArrayLike,
    Booleans,
    Callables,
    DateTimes,
    Interval,
    Mappings,
    Option,
    Pair,
    StrOptions,
    describe,
    validate_params,
    validate_value,
)
from pystats.errors import OptionError, PystatsError


def _message(constraint, value, name: str = "x") -> str:
    with pytest.raises(OptionError) as err:
        constraint.convert(name, value)
    assert isinstance(err.value, PystatsError) and isinstance(err.value, ValueError)
    return str(err.value)


# ---------------------------------------------------------------------- Interval
@pytest.mark.parametrize(
    ("closed", "accepted", "refused", "allowed"),
    [
        ("both", [0, 0.5, 1], [-1e-9, 1.000001], "a number in [0, 1]"),
        ("left", [0, 0.999], [1, -0.1], "a number in [0, 1)"),
        ("right", [1, 1e-9], [0, 1.5], "a number in (0, 1]"),
        ("neither", [0.5], [0, 1], "a number in (0, 1)"),
    ],
)
def test_real_interval_bounds(closed, accepted, refused, allowed) -> None:
    c = Interval(Real, 0, 1, closed=closed)
    for v in accepted:
        out = c.convert("x", v)
        assert type(out) is float and out == v
    for v in refused:
        assert _message(c, v) == f"x={v!r} is not allowed; use {allowed}"
        assert not c.is_satisfied_by(v)


def test_real_interval_refuses_booleans_nan_inf_and_text() -> None:
    c = Interval(Real, 0, None, closed="neither")
    assert c.convert("b", np.float32(1.5)) == 1.5
    assert c.convert("b", np.array(2.0)) == 2.0  # a 0-d draw
    for bad in (True, np.bool_(True), float("nan"), math.inf, "1", None, [1.0]):
        assert _message(c, bad, "b") == f"b={bad!r} is not allowed; use a finite number > 0"
    # the same message as the shared validators
    with pytest.raises(OptionError) as err:
        _checks.number("b", -1, "a finite number > 0", positive=True)
    assert _message(c, -1, "b") == str(err.value)
    assert Interval(Real).describe() == "a finite number"
    assert Interval(Real, None, 3, closed="left").describe() == "a finite number < 3"


def test_integer_interval() -> None:
    c = Interval(Integral, 1, None)
    assert c.convert("chains", 4) == 4 and type(c.convert("chains", 2.0)) is int
    for bad in (0, 2.5, True, float("nan"), "3"):
        assert _message(c, bad, "chains") == (f"chains={bad!r} is not allowed; use an "
                                              "integer >= 1")
    assert _message(Interval(int, 0, 10), 11) == "x=11 is not allowed; use an integer in [0, 10]"
    with pytest.raises(ValueError, match="closed"):
        Interval(Integral, 0, None, closed="neither")
    with pytest.raises(TypeError):
        Interval(str, 0, 1)
    with pytest.raises(ValueError, match="closed='open'"):
        Interval(Real, 0, 1, closed="open")


# ---------------------------------------------------------------------- the others
def test_str_options() -> None:
    c = StrOptions(("auto", "exact", "fast"))
    assert c.convert("likelihood", "fast") == "fast"
    for bad in ("approx", "FAST", 1, None):
        assert _message(c, bad, "likelihood") == (
            f"likelihood={bad!r} is not allowed; use one of auto, exact, fast")
    assert StrOptions({"b", "a"}).describe() == "one of a, b"  # sets listed sorted


def test_booleans() -> None:
    c = Booleans()
    assert c.convert("background", np.bool_(True)) is True
    assert c.convert("background", False) is False
    for bad in (1, 0, "yes", None):
        assert _message(c, bad, "background") == (
            f"background={bad!r} is not allowed; use True or False")


def test_callables_mappings_datetimes() -> None:
    assert Callables().convert("f", len) is len
    assert _message(Callables(), 3, "f") == "f=3 is not allowed; use a callable"
    given = {"alpha": 1.2}
    out = Mappings().convert("fixed", given)
    assert out == given and out is not given
    assert _message(Mappings(), [1, 2], "fixed") == (
        "fixed=[1, 2] is not allowed; use a dict with string keys")
    assert not Mappings().is_satisfied_by({1: 2})
    when = dt.datetime(2020, 1, 1)
    assert DateTimes().convert("t", when) is when
    assert DateTimes().convert("t", "2020-01-01") == "2020-01-01"
    assert _message(DateTimes(), 3.0, "t") == "t=3.0 is not allowed; use a date-time"


def test_array_like_copies_and_freezes() -> None:
    given = [1, 2.5]
    arr = ArrayLike().convert("magnitudes", given)
    assert arr.tolist() == [1.0, 2.5] and not arr.flags.writeable
    source = np.array([1.0, 2.0])
    assert ArrayLike().convert("m", source) is not source
    for bad in ([], [1.0, np.nan], "12", [[1.0], [2.0]], ["a"]):
        assert _message(ArrayLike(), bad, "m").endswith(
            "is not allowed; use a non-empty 1-D array of finite numbers")
    assert ArrayLike(ndim=None).convert("m", [[1.0], [2.0]]).shape == (2, 1)


def test_pair() -> None:
    c = Pair(Interval(Real), Interval(Real, 0, None, closed="neither"),
             description="(mean_log, sd_log), sd_log > 0")
    assert c.convert("b_prior", [0, 1]) == (0.0, 1.0)  # a JSON list becomes a tuple
    for bad in ((0.0, -1.0), (0.0,), "ab", 1.0, (True, 1.0)):
        assert _message(c, bad, "b_prior") == (
            f"b_prior={bad!r} is not allowed; use (mean_log, sd_log), sd_log > 0")
    bounds = Pair(Interval(Real), Interval(Real), increasing=True)
    assert bounds.convert("corner_bounds", (4, 5)) == (4.0, 5.0)
    assert "with first < second" in _message(bounds, (5.0, 4.0))


# ---------------------------------------------------------------------- validate_*
def test_validate_value_tries_each_constraint_and_lists_them() -> None:
    constraints = [None, Interval(Real, 0, None, closed="neither"), StrOptions(("maxc",))]
    assert validate_value("mc", None, constraints) is None
    assert validate_value("mc", 2, constraints) == 2.0
    assert validate_value("mc", "maxc", constraints) == "maxc"
    with pytest.raises(OptionError, match=r"^mc='best' is not allowed; use None or a finite "
                       r"number > 0 or one of maxc$"):
        validate_value("mc", "best", constraints)
    with pytest.raises(OptionError, match=r"^mc=-1 is not allowed; use a number or a method$"):
        validate_value("mc", -1, constraints, allowed="a number or a method")
    assert describe([None, Booleans()]) == "None or True or False"


def test_validate_params_fills_defaults_converts_and_refuses() -> None:
    spec = {
        "kind": Option("gr", [StrOptions(("gr", "tapered"))]),
        "b": Option(None, [None, Interval(Real, 0, None, closed="neither")],
                    allowed="None (estimate it) or a number > 0"),
        "draws": Option(1000, [Interval(Integral, 1, None)]),
    }
    given = {"b": 1, "draws": 5.0}
    out = validate_params(spec, given, owner="Toy")
    assert out == {"kind": "gr", "b": 1.0, "draws": 5}
    assert list(out) == ["kind", "b", "draws"] and type(out["draws"]) is int
    assert given == {"b": 1, "draws": 5.0}  # not modified
    with pytest.raises(OptionError, match=r"^b=0 is not allowed; use None \(estimate it\) or "
                       r"a number > 0$"):
        validate_params(spec, {"b": 0}, owner="Toy")
    with pytest.raises(OptionError, match=r"^unknown option\(s\) 'colour', 'size' for Toy; "
                       r"allowed options are kind, b, draws$"):
        validate_params(spec, {"size": 1, "colour": "red"}, owner="Toy")
    assert validate_params(spec, {}, owner="Toy") == {"kind": "gr", "b": None, "draws": 1000}
