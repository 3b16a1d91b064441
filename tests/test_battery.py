"""The shared test battery: every registered family through every supported method.

The families and their small simulated data sets are registered in ``tests/battery.py``
(one ``register(...)`` call each).  Per (family x method): the fit recovers the simulated
truth, ``summary`` / ``diagnose`` / ``predict`` have their documented structure with finite
values, ``save`` -> ``pystats.load`` round-trips exactly, ``report`` writes the parameters
and diagnostics, and ``fit`` leaves the model and the data untouched.  Per family: the CLI
``simulate`` / ``fit`` / ``predict`` / ``report`` round trip, methods a family does not
support, and the standard bad inputs.  Only the ``fast_methods`` of a case (``mle`` by
default) run in the default suite; the other methods are marked ``slow``.
"""

from __future__ import annotations

import html
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from battery import CASES, BatteryCase

import pystats
from pystats.cli import EXIT_OK, main
from pystats.diagnostics import Check, Diagnostics
from pystats.errors import ConvergenceWarning, MethodNotSupportedError, PystatsError
from pystats.model import METHODS
from pystats.summary import relabel

SEED = 1
"""Seed of every simulated data set and fit of the battery."""

SMALL = 60
"""Number of events of the data set used by the checks of bad arguments."""


CHECKS_BY_METHOD = {
    "mle": {"converged", "hessian"},
    "map": {"converged", "hessian"},
    "laplace": {"converged", "hessian"},
    "nuts": {"r_hat", "ess_bulk", "ess_tail", "divergences", "tree_depth", "e_bfmi"},
}
"""Checks ``diagnose`` documents for each method (``pystats.diagnostics``)."""


def _fit_params() -> list[Any]:
    out = []
    for case in CASES.values():
        for method in case.model().methods:
            marks = () if method in case.fast_methods else (pytest.mark.slow,)
            if method in case.long_methods:
                marks = (*marks, pytest.mark.long)
            out.append(pytest.param(case.name, method, id=f"{case.name}-{method}", marks=marks))
    return out


FIT_PARAMS = _fit_params()


def _snapshot(model: Any) -> str:
    """The model's options and constructor options, as text (options may hold arrays)."""
    with np.printoptions(threshold=sys.maxsize, precision=17):
        return repr((dict(model.options), dict(model.init_options), vars(model)))


class _Fitted:
    """One battery fit with what was checked around it."""

    def __init__(self, case: BatteryCase, method: str) -> None:
        self.case = case
        self.data, self.truth = case.simulate(SEED)
        self.model = case.model()
        data_before = self.data.copy(deep=True)
        options_before = _snapshot(self.model)
        kwargs = dict(case.sampler_kwargs.get(method, {}))
        with warnings.catch_warnings(record=True) as self.warnings:
            warnings.simplefilter("always")
            self.fit = self.model.fit(self.data, method=method, seed=SEED, **kwargs,
                                      **case.fit_kwargs)
        self.data_unchanged = self.data.equals(data_before)
        self.options_unchanged = _snapshot(self.model) == options_before


@pytest.fixture(scope="session")
def battery_fit() -> Callable[[str, str], _Fitted]:
    """``(case name, method) -> _Fitted``, each fit run once per session."""
    cache: dict[tuple[str, str], _Fitted] = {}

    def get(name: str, method: str) -> _Fitted:
        if (name, method) not in cache:
            cache[name, method] = _Fitted(CASES[name], method)
        return cache[name, method]

    return get


# ============================================================================ per method
@pytest.mark.parametrize(("name", "method"), FIT_PARAMS)
def test_fit_recovers_the_simulated_truth(name: str, method: str, battery_fit) -> None:
    f = battery_fit(name, method)
    assert f.fit.method == method
    table = f.fit.summary()
    tol = f.case.se_tolerance
    for param, truth in f.truth.items():
        est, se = table.loc[param].iloc[0], table.loc[param].iloc[1]
        assert abs(est - truth) <= tol * se, (param, est, se, truth)


@pytest.mark.parametrize(("name", "method"), FIT_PARAMS)
def test_summary_has_one_finite_row_per_parameter(name: str, method: str, battery_fit) -> None:
    fit = battery_fit(name, method).fit
    table = fit.summary()
    assert isinstance(table, pd.DataFrame)
    params = table[table["kind"] == "parameter"]
    labels = fit.model.index_labels(fit.data)  # array elements named by the family
    assert list(params.index) == [relabel(n, labels) for n in fit.parameters.element_names()]
    assert not table.index.duplicated().any()
    # the point estimate is the first column, its standard error (or sd) the second
    values = params.iloc[:, :2].to_numpy(dtype=float)
    assert np.all(np.isfinite(values)) and np.all(values[:, 1] > 0), params
    lower, upper = params.iloc[:, 2].to_numpy(float), params.iloc[:, 3].to_numpy(float)
    assert np.all(lower <= values[:, 0]) and np.all(values[:, 0] <= upper)
    assert fit.summary(prob=0.5).iloc[:, 3].le(table.iloc[:, 3]).all()  # narrower interval
    text = fit.summary_text()
    assert all(p.name in text for p in fit.parameters if p.size)  # size-0 arrays: no row


@pytest.mark.parametrize(("name", "method"), FIT_PARAMS)
def test_diagnose_structure_and_clean_fit_converges(name: str, method: str, battery_fit) -> None:
    f = battery_fit(name, method)
    allowed = set(f.case.allowed_warnings.get(method, ()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        diag = f.fit.diagnose()
    assert isinstance(diag, Diagnostics) and diag.method == method
    assert CHECKS_BY_METHOD[method] <= set(diag.checks), sorted(diag.checks)
    assert all(isinstance(c, Check) for c in diag.checks.values())
    # a clean fit: every check passes (or could not run), but the documented warnings
    unexpected = [p for p in diag.problems if p.check not in allowed or p.severity != "warning"]
    assert not unexpected, str(diag)
    assert all(c.passed is not False for k, c in diag.checks.items() if k not in allowed)
    assert all(diag.checks[k].passed for k in CHECKS_BY_METHOD[method] - allowed)
    assert diag.ok == (not diag.problems)
    assert len([w for w in caught if issubclass(w.category, ConvergenceWarning)]) == (
        1 if diag.problems else 0
    )
    frame = diag.to_frame()
    assert list(frame.columns) == ["label", "passed", "value", "threshold", "verdict",
                                   "severity"]
    assert list(frame.index) == list(diag.checks)


@pytest.mark.parametrize(("name", "method"), FIT_PARAMS)
def test_predict_returns_the_documented_finite_table(name: str, method: str,
                                                     battery_fit) -> None:
    f = battery_fit(name, method)
    table = f.fit.predict(**f.case.predict_kwargs)
    assert isinstance(table, pd.DataFrame) and len(table) > 0
    missing = set(f.case.predict_columns) - set(table.columns)
    assert not missing, (missing, list(table.columns))
    numeric = table.select_dtypes("number").to_numpy(dtype=float)
    assert numeric.size and np.all(np.isfinite(numeric)), table
    if "magnitudes" in f.case.predict_kwargs:
        np.testing.assert_allclose(table["magnitude"], f.case.predict_kwargs["magnitudes"])


@pytest.mark.parametrize(("name", "method"), FIT_PARAMS)
def test_save_load_round_trip_is_exact(name: str, method: str, battery_fit,
                                       tmp_path: Path) -> None:
    fit = battery_fit(name, method).fit
    path = fit.save(tmp_path / "fit.nc")
    again = pystats.load(path)
    assert type(again.model) is type(fit.model)
    assert repr(dict(again.model.options)) == repr(dict(fit.model.options))
    assert (again.method, again.backend) == (fit.method, fit.backend)
    assert again.data.hash == fit.data.hash
    assert set(again.draws) == set(fit.draws)
    for k, v in fit.draws.items():
        np.testing.assert_array_equal(again.draws[k], v, err_msg=k)
    if fit.point is not None:
        for k, v in fit.point.items():
            np.testing.assert_array_equal(again.point[k], v, err_msg=k)
    pd.testing.assert_frame_equal(again.summary(), fit.summary())
    assert again.metadata["seed"] == fit.metadata["seed"]


@pytest.mark.parametrize(("name", "method"), FIT_PARAMS)
def test_report_names_the_parameters_and_diagnostics(name: str, method: str, battery_fit,
                                                     tmp_path: Path) -> None:
    fit = battery_fit(name, method).fit
    path = fit.report(tmp_path / "report.html")
    text = Path(path).read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    assert all(p.name in text for p in fit.parameters if p.size)  # size-0 arrays: no row
    assert "<h2>Diagnostics</h2>" in text
    labels = [c.label for c in fit.diagnose(warn=False).checks.values()]
    assert labels and all(html.escape(label) in text for label in labels)


@pytest.mark.parametrize(("name", "method"), FIT_PARAMS)
def test_fit_leaves_the_model_and_the_data_untouched(name: str, method: str,
                                                     battery_fit) -> None:
    f = battery_fit(name, method)
    assert f.data_unchanged and f.options_unchanged
    assert f.fit.model is f.model  # the fit keeps the (unchanged) model it was given


# ============================================================================ per family
NAMES = list(CASES)


def test_every_family_of_the_package_is_in_the_battery() -> None:
    from pystats.model import registered_families  # imports every family of the package

    registered_families()  # imports every family of the package's registration line
    package = {getattr(pystats, name).family for name in pystats._MODEL_FAMILIES}
    covered = {type(case.model()).family for case in CASES.values()}
    assert package <= covered, f"register a BatteryCase in tests/battery.py for {package - covered}"
    assert {"gutenberg_richter", "etas", "omori_utsu"} <= covered


@pytest.mark.parametrize("name", NAMES)
def test_unsupported_methods_raise_method_not_supported(name: str) -> None:
    case = CASES[name]
    model = case.model()
    data, _ = case.simulate(SEED)
    for method in sorted(set(METHODS) - set(model.methods)):  # none for a complete family
        with pytest.raises(MethodNotSupportedError, match=method):
            model.fit(data, method=method, **case.fit_kwargs)
    # the same refusal for a variant declaring fewer methods, before any work is done
    restricted = type(f"MleOnly{type(model).__name__}", (type(model),), {"methods": ("mle",)})
    with pytest.raises(MethodNotSupportedError, match=r"method='nuts'.*supports mle") as err:
        restricted(**model.init_options).fit(data, method="nuts", **case.fit_kwargs)
    assert isinstance(err.value, NotImplementedError)
    # a backend that cannot run the method (for a family that samples at all)
    with pytest.raises(MethodNotSupportedError,
                       match="torch" if "nuts" in model.methods else "nuts"):
        model.fit(data, method="nuts", backend="torch", **case.fit_kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_cli_simulate_fit_predict_report_round_trip(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    cat = tmp_path / "catalog.csv"
    data, truth = case.simulate(SEED)
    if case.cli_simulate is not None:
        assert main(["simulate", *case.cli_simulate, "-o", str(cat)]) == EXIT_OK
    else:
        case.write_data(data, cat)
    fitted, table_csv = tmp_path / "fit.nc", tmp_path / "s.csv"
    assert main(["fit", str(cat), "--model", case.cli_model, *case.cli_fit_args,
                 "--seed", str(SEED), "-q", "-o", str(fitted), "--summary-csv",
                 str(table_csv)]) == EXIT_OK
    table = pd.read_csv(table_csv, index_col=0)
    for param, value in truth.items():
        est, se = table.loc[param].iloc[0], table.loc[param].iloc[1]
        assert abs(est - value) <= case.se_tolerance * se, (param, est, se, value)

    pred = tmp_path / "pred.csv"
    assert main(["predict", str(fitted), *case.cli_predict_args, "-o", str(pred)]) == EXIT_OK
    frame = pd.read_csv(pred)
    assert set(case.predict_columns) <= set(frame.columns), list(frame.columns)
    assert np.all(np.isfinite(frame.select_dtypes("number").to_numpy(float)))

    report = tmp_path / "report.html"
    assert main(["report", str(fitted), "-o", str(report)]) == EXIT_OK
    text = report.read_text(encoding="utf-8")
    assert "<h2>Diagnostics</h2>" in text and all(p in text for p in truth)
    capsys.readouterr()


# ---------------------------------------------------------------------------- bad inputs
def _with_nan(data: pd.DataFrame, column: str) -> pd.DataFrame:
    bad = data.copy()
    bad.loc[bad.index[len(bad) // 2], column] = np.nan
    return bad


ANY_VALUE = (TypeError, ValueError)
BAD_INPUTS: dict[str, tuple[str, Any, tuple[type, ...], str]] = {
    "empty data": ("data", "empty", (ValueError,), r"empty|0 events|no event"),
    "wrong type of data": ("data", "not data", ANY_VALUE, r"\bstr\b"),
    "unknown option": ("option", {"bogus_option": 1}, ANY_VALUE, "bogus_option"),
    "bad option value": ("option", None, ANY_VALUE, ""),  # the case's bad_option
    "unknown method": ("fit", {"method": "bogus"}, (ValueError,), "method"),
    "unknown fit argument": ("fit", {"bogus_argument": 1}, ANY_VALUE, "bogus_argument"),
    "seed=-1": ("fit", {"seed": -1}, (ValueError,), "seed"),
    "seed=1.5": ("fit", {"seed": 1.5}, ANY_VALUE, "seed"),
    "chains=0": ("fit", {"chains": 0}, (ValueError,), "chains"),
    "chains=True": ("fit", {"chains": True}, ANY_VALUE, "chains"),
}
"""Kind -> (where: bad ``data``, model ``option`` or ``fit`` argument; the bad value;
builtin exception types allowed; regex the message must match)."""


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        pytest.param(n, k, id=f"{n}-{k}")
        for n in NAMES
        for k in BAD_INPUTS
    ],
)
def test_bad_input_raises_a_pystats_error_naming_the_field(name: str, kind: str) -> None:
    case = CASES[name]
    data, _ = case.simulate(SEED)
    where, value, builtins, pattern = BAD_INPUTS[kind]
    model = case.model()
    with pytest.raises(PystatsError) as err:
        if where == "data":
            model.fit(data.iloc[:0] if value == "empty" else value,
                      method=case.fast_methods[0], **case.fit_kwargs)
        elif where == "option":
            value = dict([case.bad_option]) if value is None else value
            pattern = pattern or re.escape(case.bad_option[0])
            type(model)(**{**model.init_options, **value})
        else:  # on the first events only: cheap even when the argument is not refused
            model.fit(data.iloc[:SMALL],
                      **{"method": case.fast_methods[0], **case.fit_kwargs, **value})
    assert isinstance(err.value, builtins), type(err.value).__mro__
    assert re.search(pattern, str(err.value)), str(err.value)


@pytest.mark.parametrize("name", NAMES)
def test_nan_in_any_column_raises_a_data_error_naming_it(name: str) -> None:
    case = CASES[name]
    data, _ = case.simulate(SEED)
    columns = list(data.select_dtypes("number").columns)
    assert columns
    for column in columns:
        bad = _with_nan(data, column)
        with pytest.raises(pystats.DataError, match=re.escape(column)) as err:
            case.model().fit(bad, method=case.fast_methods[0], **case.fit_kwargs)
        assert isinstance(err.value, ValueError)
        # the caller's frame is not cleaned in place (tidy tables may hold empty cells)
        assert bad[column].isna().sum() == data[column].isna().sum() + 1
