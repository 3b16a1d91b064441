"""Slow: which law AIC and BIC prefer over 50 catalogues per true law (the confusion table
of models/magnitude_laws.md §7.1, by tests/maglaw_confusion.py with its seed 0).

50 x 6 catalogues of 1000 binned events, 6 MLE fits each (1800 fits: ~30 min on 2 shared
cores at load 14, a few minutes on an idle machine)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from maglaw_confusion import confusion

pytestmark = [pytest.mark.slow, pytest.mark.long]  # ~30 min: run by hand (-m long)


@pytest.fixture(scope="module")
def tables():
    return confusion(50, 1000, "mle", seed=0)


def test_bic_prefers_the_true_law_where_the_laws_differ(tables):
    bic = tables["bic"]
    assert (bic.sum(axis=1) == 50).all()
    # recorded: gr 50, exponential_moment 50, weibull 43, tapered_gr 35, gamma 25 of 50
    assert bic.loc["gr", "gr"] >= 45
    assert bic.loc["exponential_moment", "exponential_moment"] >= 45
    assert bic.loc["weibull", "weibull"] >= 35
    assert bic.loc["tapered_gr", "tapered_gr"] >= 25
    assert bic.loc["gamma", "gamma"] >= 15


def test_a_taper_is_never_mistaken_for_gr_or_gr_for_exponential(tables):
    aic = tables["aic"]
    tapered = ["tapered_gr", "gamma", "weibull", "generalized_gamma"]
    assert aic.loc[tapered, "gr"].sum() == 0
    assert aic.loc[tapered, "exponential_moment"].sum() == 0
    assert aic.loc["gr", "exponential_moment"] == 0
