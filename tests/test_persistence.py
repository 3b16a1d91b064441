"""Damaged fit files: ``pystats.load`` and ``pystats predict`` name the file and the damage.

Each file is a real saved fit, then truncated, overwritten in the middle, or edited with
h5py (an attribute removed or garbled, a group removed, an array of the wrong shape).
Every case must end in :class:`pystats.errors.FitFileError` (a ``DataError``), never in a
raw ``OSError``, ``KeyError``, ``TypeError`` or ``AttributeError``, and the CLI must print
one line and exit with status 2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.cli import EXIT_USAGE, main
from pystats.errors import DataError, FitFileError


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Gutenberg-Richter MLE fit (closed form: no compile, no optimiser), saved once."""
    rng = np.random.default_rng(3)
    mags = 2.0 + np.round(rng.exponential(1 / np.log(10), 400) / 0.1) * 0.1
    times = np.sort(rng.uniform(0.0, 100.0, mags.size))
    frame = pd.DataFrame({"time": times, "magnitude": mags})
    fit = pystats.GutenbergRichter(mc=2.0).fit(frame, seed=1)
    path = tmp_path_factory.mktemp("fits") / "gr.nc"
    fit.save(path)
    return path


def _copy(saved: Path, tmp_path: Path, name: str = "damaged.nc") -> Path:
    path = tmp_path / name
    path.write_bytes(saved.read_bytes())
    return path


def test_every_error_class_is_public() -> None:
    import pystats.errors

    for name in pystats.errors.__all__:
        assert getattr(pystats, name) is getattr(pystats.errors, name)
    assert issubclass(FitFileError, DataError) and issubclass(FitFileError, ValueError)


def test_the_intact_file_loads_and_predicts(saved: Path) -> None:
    fit = pystats.load(saved)
    table = fit.predict(magnitudes=[3.0], duration=10.0)
    assert 0 < table["p_exceed"].iloc[0] < 1


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.9, 0.999])
def test_truncated_file(saved: Path, tmp_path: Path, fraction: float) -> None:
    data = saved.read_bytes()
    path = tmp_path / "truncated.nc"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(FitFileError, match=re.escape(str(path))):
        pystats.load(path).predict(magnitudes=[3.0], duration=10.0)


@pytest.mark.parametrize("where", [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
def test_bytes_overwritten_inside(saved: Path, tmp_path: Path, where: float) -> None:
    data = bytearray(saved.read_bytes())
    start = int(len(data) * where)
    data[start:start + 256] = bytes(b ^ 0xFF for b in data[start:start + 256])
    path = tmp_path / "flipped.nc"
    path.write_bytes(bytes(data))
    try:
        fit = pystats.load(path)
    except FitFileError as e:
        assert str(path) in str(e)
        return
    # the damage hit bytes that nothing reads back (padding, unused space): the fit is whole
    reference = pystats.load(saved)
    for name, values in reference.draws.items():
        np.testing.assert_array_equal(fit.draws[name], values)
    for name, value in reference.point.items():
        np.testing.assert_array_equal(fit.point[name], value)
    for name, value in reference.data.observed.items():
        np.testing.assert_array_equal(fit.data.observed[name], value)
    np.testing.assert_array_equal(fit.cov, reference.cov)
    assert fit.data.hash == reference.data.hash


def _set_attr(name: str, value: str) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        f.attrs[name] = value
    return edit


def _del_attr(name: str) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        del f.attrs[name]
    return edit


def _del_group(name: str) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        del f[name]
    return edit


def _replace_variable(group: str, name: str, value: np.ndarray) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        attrs = dict(f[group][name].attrs)
        del f[group][name]
        f[group][name] = value
        f[group][name].attrs["pystats_dtype"] = attrs.get("pystats_dtype", value.dtype.str)
    return edit


DAMAGE = {
    # attribute -> what the message must name
    "no parameters": (_del_attr("parameters"), "parameters"),
    "no family": (_del_attr("family"), "family"),
    "format version garbled": (_set_attr("pystats_format_version", "one"),
                               "pystats_format_version"),
    "options not JSON": (_set_attr("options", "{mc: 2"), "options"),
    "options a list": (_set_attr("options", "[2.0]"), "options"),
    "options unknown keyword": (_set_attr("options", '{"colour": "red"}'), "options"),
    "parameters not a list": (_set_attr("parameters", '{"b": 1}'), "parameters"),
    "parameter without a name": (_set_attr("parameters", '[{"lower": 0}]'), "parameters"),
    "parameter shape garbled": (
        _set_attr("parameters", '[{"name": "b", "lower": 0, "upper": 1, "shape": "x"}]'),
        "parameters"),
    "point a number": (_set_attr("point", "42"), "point"),
    "optimizer a list": (_set_attr("optimizer", "[]"), "optimizer"),
    "metadata a string": (_set_attr("metadata", '"x"'), "metadata"),
    "data summary a list": (_set_attr("data_summary", "[1]"), "data_summary"),
    "data scalars a list": (_set_attr("data_scalars", "[1]"), "data_scalars"),
    "data order a number": (_set_attr("data_order", "3"), "data_order"),
    "method unknown": (_set_attr("method", "bogus"), "method"),
    "tree depth garbled": (_set_attr("max_tree_depth", "deep"), "max_tree_depth"),
    "family unknown": (_set_attr("family", "no_such_family"), "no_such_family"),
    "no data group": (_del_group("pystats_data"), "data"),
    "no posterior group": (_del_group("posterior"), "posterior"),
    "no covariance group": (_del_group("pystats_covariance"), "pystats_covariance"),
    "draws of the wrong shape": (_replace_variable("posterior", "b", np.zeros((4, 3, 2))),
                                 "posterior"),
    "covariance not square": (_replace_variable("pystats_covariance", "cov", np.zeros((2, 3))),
                              "cov"),
    "draws not numbers": (_replace_variable("posterior", "b", np.array([b"x", b"y"])),
                          "posterior"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_content_names_file_and_field(saved: Path, tmp_path: Path, case: str) -> None:
    edit, field = DAMAGE[case]
    path = _copy(saved, tmp_path)
    with h5py.File(path, "r+") as f:
        edit(f)
    with pytest.raises(FitFileError) as exc:
        pystats.load(path).predict(magnitudes=[3.0], duration=10.0)
    message = str(exc.value)
    assert str(path) in message and field in message, message
    assert isinstance(exc.value, DataError)


@pytest.mark.parametrize("case", ["no posterior group", "options a list", "point a number"])
def test_cli_predict_on_a_damaged_file_is_one_line(
    saved: Path, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(saved, tmp_path)
    with h5py.File(path, "r+") as f:
        DAMAGE[case][0](f)
    assert main(["predict", str(path), "--duration", "10"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("pystats: error:") and "\n" not in err and str(path) in err


def test_cli_predict_on_a_truncated_file_is_one_line(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(saved.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = bytes(4096)
    path = tmp_path / "zeroed.nc"
    path.write_bytes(bytes(data))
    assert main(["predict", str(path), "--duration", "10"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("pystats: error:") and "\n" not in err and str(path) in err
