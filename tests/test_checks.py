"""One set of argument checks (pystats._checks) and warnings that name the caller's line."""

from __future__ import annotations

import inspect
import io
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats import _checks
from pystats.errors import ConvergenceWarning, DataWarning, OptionError
from pystats.etas.simulate import branching_ratio, simulate_etas
from pystats.gr.distributions import gr_survival, simulate_gr
from pystats.model import Model, PreparedData
from pystats.parameters import Parameter, ParameterSet
from pystats.readers import read_catalog


# ---------------------------------------------------------------------- the validators
@pytest.mark.parametrize(("value", "minimum", "expected"), [
    (3, 1, 3), (np.int64(5), 0, 5), (2.0, 1, 2), (1e4, 1, 10_000), (0, 0, 0),
])
def test_integer_accepts(value, minimum: int, expected: int) -> None:
    out = _checks.integer("n", value, minimum)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.5, math.nan, math.inf, "3",
                                   None, [3], 0, -1])
def test_integer_refuses_with_name_value_and_rule(value) -> None:
    with pytest.raises(OptionError) as exc:
        _checks.integer("chains", value, 1)
    assert str(exc.value) == f"chains={value!r} is not allowed; use an integer >= 1"


@pytest.mark.parametrize("value", [True, math.nan, math.inf, -math.inf, "1.0", None, 0.0, -2])
def test_real_refuses_bools_nan_and_out_of_bounds(value) -> None:
    with pytest.raises(OptionError, match=r"^b=.* is not allowed; use a finite number > 0$"):
        _checks.real("b", value, low=0.0, low_open=True)


def test_real_bounds_inclusive_and_open() -> None:
    assert _checks.real("x", 0, low=0.0) == 0.0
    assert _checks.real("x", np.float32(0.5), high=0.5) == 0.5
    with pytest.raises(OptionError, match=r"x=0.5 is not allowed; use a finite number < 0.5"):
        _checks.real("x", 0.5, high=0.5, high_open=True)
    assert _checks.real("t", math.inf, allow_inf=True) == math.inf


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, -0.1, 1.5, True, math.nan, "0.9", None])
def test_probability_is_inside_zero_one(value) -> None:
    with pytest.raises(OptionError, match=r"use a number in \(0, 1\)"):
        _checks.probability("prob", value)
    assert _checks.probability("prob", 0.9) == 0.9


@pytest.mark.parametrize("value", [-1, 1.5, 1.0, True, 2**32, "7", np.float64(3.0)])
def test_seed_refuses(value) -> None:
    with pytest.raises(OptionError, match=r"seed=.* is not allowed; use None or an integer in "
                                          r"\[0, 2\*\*32 - 1\]"):
        _checks.seed(value)


def test_seed_accepts() -> None:
    assert _checks.seed(None) is None
    assert _checks.seed(np.uint32(2**32 - 1)) == 2**32 - 1
    gen = np.random.default_rng(1)
    assert _checks.seed(gen, "rng", generator=True) is gen
    with pytest.raises(OptionError, match="rng="):
        _checks.seed(gen, "rng")


# ---------------------------------------------------------------------- where they are used
@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    mags = 2.0 + np.round(rng.exponential(1 / np.log(10), 300) / 0.1) * 0.1
    return pd.DataFrame({"time": np.sort(rng.uniform(0, 100, mags.size)), "magnitude": mags})


@pytest.mark.parametrize(("argument", "value", "allowed"), [
    ("seed", -1, "None or an integer in [0, 2**32 - 1]"),
    ("seed", 1.5, "None or an integer in [0, 2**32 - 1]"),
    ("seed", True, "None or an integer in [0, 2**32 - 1]"),
    ("seed", 2**32, "None or an integer in [0, 2**32 - 1]"),
    ("chains", True, "an integer >= 1"),
    ("chains", 0, "an integer >= 1"),
    ("draws", 2.5, "an integer >= 1"),
    ("warmup", -1, "an integer >= 0"),
    ("n_starts", False, "an integer >= 1"),
    ("max_tree_depth", 0, "an integer >= 1"),
    ("adapt_delta", 1.0, "a number in (0, 1)"),
    ("adapt_delta", True, "a number in (0, 1)"),
])
def test_fit_arguments_are_checked_alike(catalog, argument: str, value, allowed: str) -> None:
    model = pystats.GutenbergRichter(mc=2.0)
    with pytest.raises(OptionError) as exc:
        model.fit(catalog, **{argument: value})
    assert str(exc.value) == f"{argument}={value!r} is not allowed; use {allowed}"


def test_fit_takes_integral_floats_and_numpy_integers(catalog) -> None:
    a = pystats.GutenbergRichter(mc=2.0).fit(catalog, seed=np.int64(3), chains=2.0, draws=50)
    b = pystats.GutenbergRichter(mc=2.0).fit(catalog, seed=3, chains=2, draws=50)
    assert a.draws["b"].shape == (2, 50)
    np.testing.assert_array_equal(a.draws["b"], b.draws["b"])


def test_numbers_refuse_booleans_everywhere() -> None:
    with pytest.raises(OptionError, match="b"):
        gr_survival(3.0, True, 2.0)
    with pytest.raises(OptionError, match="b=True"):
        branching_ratio(0.1, 1.0, True, 0.01, 1.1, 3.0, 3.0)
    with pytest.raises(OptionError, match="b=True"):
        pystats.ETAS(b=True)
    with pytest.raises(OptionError, match="mc=True"):
        gr_survival(3.0, 1.0, True)
    with pytest.raises(OptionError, match="rng=-1"):
        simulate_gr(5, 1.0, 2.0, rng=-1)
    with pytest.raises(OptionError, match=r"rng=1\.5"):
        simulate_etas(0.1, 0.0, 0.01, 1.0, 1.1, 3.0, 10.0, mc=3.0, b=1.0, rng=1.5)
    with pytest.raises(OptionError, match=r"max_events=2\.5"):
        simulate_etas(0.1, 0.0, 0.01, 1.0, 1.1, 3.0, 10.0, mc=3.0, b=1.0, rng=1,
                      max_events=2.5)


def test_detection_probability_and_prob_use_one_check(catalog) -> None:
    with pytest.raises(OptionError, match=r"detection_probability=True is not allowed; use a "
                                          r"number in \(0, 1\)"):
        pystats.GutenbergRichter(kind="detection", detection_probability=True)
    fit = pystats.GutenbergRichter(mc=2.0).fit(catalog, seed=1)
    for call in (fit.summary, fit.summary_text):
        with pytest.raises(OptionError, match=r"prob=True is not allowed; use a number in "
                                              r"\(0, 1\)"):
            call(prob=True)
    with pytest.raises(OptionError, match=r"prob=1.0 is not allowed"):
        fit.predict(magnitudes=[3.0], duration=1.0, prob=1.0)


# ---------------------------------------------------------------------- warnings
class FlatModel(Model):
    """y ~ Normal(a + b, 1): a flat direction, so every fit warns (ConvergenceWarning)."""

    family = "test_checks_flat"
    has_torch_likelihood = True

    def prepare(self, data):
        y = np.asarray(data, dtype=float)
        return PreparedData(values={"y": y}, observed={"y": y}, summary={"n": y.size})

    def parameters(self, data):
        return ParameterSet([Parameter("a"), Parameter("b")])

    def log_likelihood_torch(self, p, t):
        import torch

        return torch.distributions.Normal(p["a"] + p["b"], 1.0).log_prob(t["y"]).sum()

    def initial_values(self, data, rng):
        return {"a": rng.normal(), "b": rng.normal()}


def _line_of(marker: str) -> int:
    lines, start = inspect.getsourcelines(test_warnings_name_the_callers_line)
    return start + next(i for i, text in enumerate(lines) if marker in text)


def test_warnings_name_the_callers_line(catalog) -> None:
    y = np.random.default_rng(0).normal(1.0, 1.0, size=50)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = FlatModel().fit(y, seed=0)  # flat fit
        fit.diagnose()  # diagnose
        pystats.GutenbergRichter(mc=2.0).fit(catalog.iloc[:20], seed=1)  # few events
        read_catalog(io.StringIO("time,magnitude\n1,2.0\n2,\n"), on_missing="drop")  # read
    seen = {(w.category, w.lineno) for w in caught if w.filename == __file__}
    assert (ConvergenceWarning, _line_of("# flat fit")) in seen, seen
    assert (ConvergenceWarning, _line_of("# diagnose")) in seen, seen
    assert (DataWarning, _line_of("# few events")) in seen, seen
    assert (DataWarning, _line_of("# read")) in seen, seen
    assert all(w.filename == __file__ for w in caught), [(w.filename, w.message) for w in caught]


def test_zero_dimensional_arrays_are_numbers() -> None:
    assert _checks.real("K", np.array(0.25), low=0.0) == 0.25
    assert _checks.integer("n", np.array(3), 1) == 3
    with pytest.raises(OptionError, match="K=array"):
        _checks.real("K", np.array([0.25]))
    with pytest.raises(OptionError, match="flag=array"):
        _checks.real("flag", np.array(True))
