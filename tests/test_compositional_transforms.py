"""Log-ratio transforms: round trips, the Helmert basis, agreement with pyrolite, and
explicit errors on zeros / below-detection values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pystats.compositional import transforms as T
from pystats.errors import DataError, OptionError


@pytest.fixture(scope="module")
def comp() -> np.ndarray:
    rng = np.random.default_rng(3)
    return T.closure(rng.lognormal(0.0, 1.0, size=(40, 6)), total=100.0)


def test_closure_sums_and_keeps_ratios(comp):
    x = comp * np.arange(1, 41)[:, None]  # different row totals
    c = T.closure(x)
    np.testing.assert_allclose(c.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(c[:, 0] / c[:, 1], x[:, 0] / x[:, 1], rtol=1e-13)


@pytest.mark.parametrize("D", [2, 3, 5, 12])
def test_helmert_basis_orthonormal_and_egozcue_form(D):
    V = T.helmert_basis(D)
    np.testing.assert_allclose(V @ V.T, np.eye(D - 1), atol=1e-14)
    np.testing.assert_allclose(V.sum(axis=1), 0.0, atol=1e-14)
    # Egozcue et al. (2003): e_i = sqrt(i/(i+1)) (1/i, ..., 1/i, -1, 0, ...), i = 1..D-1
    for i in range(1, D):
        expected = np.zeros(D)
        expected[:i] = 1.0 / i
        expected[i] = -1.0
        np.testing.assert_allclose(V[i - 1], np.sqrt(i / (i + 1)) * expected, atol=1e-15)


def test_round_trips(comp):
    c = T.closure(comp)
    np.testing.assert_allclose(T.clr_inverse(T.clr(comp)), c, rtol=1e-12)
    np.testing.assert_allclose(T.ilr_inverse(T.ilr(comp)), c, rtol=1e-12)
    for ref in (0, 2, -1):
        np.testing.assert_allclose(T.alr_inverse(T.alr(comp, ref), ref), c, rtol=1e-12)
    np.testing.assert_allclose(T.clr(comp).sum(axis=1), 0.0, atol=1e-12)


def test_ilr_is_an_isometry(comp):
    """Aitchison distance = Euclidean distance of ilr coordinates = of clr coordinates."""
    z, y = T.ilr(comp), T.clr(comp)
    d_ilr = np.linalg.norm(z[0] - z[1:], axis=1)
    d_clr = np.linalg.norm(y[0] - y[1:], axis=1)
    np.testing.assert_allclose(d_ilr, d_clr, rtol=1e-12)


def test_alr_by_hand():
    x = np.array([[1.0, 2.0, 4.0]])
    np.testing.assert_allclose(T.alr(x, 0), [[np.log(2.0), np.log(4.0)]], rtol=1e-14)


def test_ilr_matches_pyrolite(comp):
    codata = pytest.importorskip("pyrolite.comp.codata")
    np.testing.assert_allclose(T.ilr(comp), codata.ILR(comp), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(T.clr(comp), codata.CLR(comp), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(T.helmert_basis(6), codata.helmert_basis(6), atol=1e-15)


def test_dataframes_keep_names_and_are_not_modified(comp):
    df = pd.DataFrame(comp, columns=list("ABCDEF"), index=[f"s{i}" for i in range(40)])
    before = df.copy()
    y = T.clr(df)
    assert list(y.columns) == list("ABCDEF") and list(y.index) == list(df.index)
    z = T.ilr(df)
    assert list(z.columns) == [f"ilr{i}" for i in range(1, 6)]
    a = T.alr(df, "C")
    assert list(a.columns) == ["A", "B", "D", "E", "F"]
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("bad, kind", [(0.0, "a zero"), (-0.01, "a negative value"),
                                       (np.nan, "a missing")])
@pytest.mark.parametrize("fn", [T.clr, T.ilr, T.alr, T.closure])
def test_zeros_and_below_detection_raise(comp, bad, kind, fn):
    df = pd.DataFrame(comp, columns=list("ABCDEF"))
    df.iloc[7, 3] = bad
    with pytest.raises(DataError, match=rf"{kind}.* row 7, column D.*replace_below_detection"):
        fn(df)


def test_replacement_is_explicit_and_keeps_total_and_ratios():
    x = pd.DataFrame({"A": [0.0, 30.0], "B": [40.0, -0.2], "C": [60.0, 70.0]})
    out = T.replace_below_detection(x, {"A": 0.1, "B": 0.2})
    assert out.loc[0, "A"] == pytest.approx(0.065) and out.loc[1, "B"] == pytest.approx(0.13)
    np.testing.assert_allclose(out.sum(axis=1), x.clip(lower=0).sum(axis=1), rtol=1e-14)
    assert out.loc[0, "B"] / out.loc[0, "C"] == pytest.approx(40 / 60, rel=1e-14)
    assert x.loc[0, "A"] == 0.0  # input untouched
    with pytest.raises(DataError, match="no detection limit"):
        T.replace_below_detection(x, {"A": 0.1})


def test_bad_options():
    with pytest.raises(OptionError, match="D=1"):
        T.helmert_basis(1)
    with pytest.raises(OptionError, match="reference='Z'"):
        T.alr(pd.DataFrame({"A": [1.0], "B": [2.0]}), "Z")
    with pytest.raises(OptionError, match="orthonormal"):
        T.ilr(np.ones((2, 3)), basis=np.ones((2, 3)))
