"""ETAS-specific diagnostics (``ETAS.check_fit``, collected by ``fit.diagnose()``).

A fit whose branching ratio is at least 1 describes an explosive process; the generic
convergence checks cannot see that, so the family adds a ``branching_ratio`` check.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pystats
from pystats.errors import ConvergenceWarning, DataWarning
from pystats.etas.kernels import kernel_integral
from pystats.etas.model import ETAS
from pystats.etas.simulate import simulate_etas, simulate_omori


@pytest.fixture(scope="module")
def catalogue():
    # true branching ratio over the 1 000-day window: 0.02 * 2.30 / 0.80 * 11.3 = 0.65
    return simulate_etas(0.4, 0.02, 0.01, 1.5, 1.2, m_ref=3.0, t_end=1000.0, mc=3.0, b=1.0,
                         rng=11)


def test_supercritical_fit_is_flagged_by_diagnose(catalogue) -> None:
    # K, c, alpha, p held at values whose branching ratio is 1.6: only mu is fitted
    fixed = {"K": 0.05, "c": 0.01, "alpha": 1.5, "p": 1.2}
    with pytest.warns(ConvergenceWarning, match="branching ratio"):
        fit = ETAS(mc=3.0, fixed=fixed, b=1.0).fit(catalogue, seed=1)
    span = fit.data.values["t_end"] - fit.data.values["t_start"]  # first to last event
    expected = 0.05 * np.log(10) / (np.log(10) - 1.5) * float(kernel_integral(0.0, span, 0.01,
                                                                               1.2))
    assert float(fit.point["branching_ratio"]) == pytest.approx(expected, rel=1e-10)
    d = fit.diagnose(warn=False)
    check = d.checks["branching_ratio"]
    assert check.passed is False
    assert check.value == pytest.approx(expected, rel=1e-10) and check.threshold == 1.0
    assert "supercritical" in check.verdict and "P(n >= 1) = 1.00" in check.verdict
    (problem,) = [p for p in d.problems if p.check == "branching_ratio"]
    assert problem.severity == "warning" and "explodes" in problem.message
    with pytest.warns(ConvergenceWarning, match="branching ratio is 1.6"):
        fit.diagnose()


def test_infinite_branching_ratio_names_alpha_and_b(catalogue) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = ETAS(mc=3.0, fixed={"alpha": 2.5}, b=1.0).fit(catalogue, seed=1)
    d = fit.diagnose(warn=False)
    assert d.checks["branching_ratio"].passed is False
    (problem,) = [p for p in d.problems if p.check == "branching_ratio"]
    assert "infinite because alpha = 2.5 >= b ln 10 = 2.3" in problem.message
    assert "m_max=" in problem.message


def test_subcritical_fit_passes_with_its_interval(catalogue) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # nothing to warn about
        fit = ETAS(mc=3.0).fit(catalogue, seed=1)
    d = fit.diagnose(warn=False)
    assert d.ok
    check = d.checks["branching_ratio"]
    assert check.passed is True and check.value < 1
    lo, hi = np.quantile(fit.variable("branching_ratio"), [0.05, 0.95], method="inverted_cdf")
    assert f"{lo:.3g}–{hi:.3g}" in check.verdict and "subcritical" in check.verdict
    assert "Branching ratio" in str(d)


def test_omori_utsu_has_no_branching_check() -> None:
    t = simulate_omori(K=80.0, c=0.05, p=1.1, t_start=0.01, t_end=30.0, rng=4)
    fit = pystats.OmoriUtsu().fit(t, t_start=0.01, t_end=30.0, seed=1)
    assert "branching_ratio" not in fit.diagnose(warn=False).checks


@pytest.mark.slow
def test_jma_catalogue_is_supercritical(shared_data) -> None:
    """JMA 1926-2007, M >= 4.5, 13 724 events: the temporal ETAS MLE has branching ratio
    about 1.16 over the 82-year window (the catalogue mixes regions and completeness
    levels); ``diagnose`` must say so."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cat = pystats.read_catalog(shared_data / "catalogs" / "japan_jma_1926_2007_m4.5_etasR.csv")
    with pytest.warns(ConvergenceWarning, match="branching ratio"):
        fit = ETAS(mc=4.5).fit(cat, seed=1, n_starts=2)
    assert fit.data.summary["n"] == 13_724
    check = fit.diagnose(warn=False).checks["branching_ratio"]
    assert check.passed is False and 1.0 < check.value < 1.5
