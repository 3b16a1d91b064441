"""Slow: which law the criteria prefer on catalogues simulated from each law
(tests/maglaw_confusion.py; the tables of models/magnitude_laws.md §7.1).

* ``test_loo_*`` (slow, in CI): PSIS-LOO of Laplace fits on 10 catalogues of 1000 binned
  events per well-identified law (GR, exponential in moment, Weibull): 30 x 6 fits, about
  30 s of CPU on an idle core (the first 10 replicates of the recorded 50-replicate run).
* ``test_loo_separates_*`` (slow): the same on 2 catalogues of 50 000 binned events per law
  that 1 000 events confuse (TGR, gamma, generalized gamma): 6 x 6 fits, 37 s wall at load ~4.
* ``test_bic_*``, ``test_a_taper_*`` (long, by hand with ``-m long``): AIC and BIC of MLE fits,
  50 catalogues per law (1800 fits, a few minutes of CPU).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from maglaw_confusion import confusion

pytestmark = pytest.mark.slow

WELL_IDENTIFIED = ["gr", "exponential_moment", "weibull"]


@pytest.fixture(scope="module")
def loo_tables():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the script: fastest on a shared machine
    try:
        return confusion(10, 1000, "laplace", seed=0, truths=WELL_IDENTIFIED)
    finally:
        torch.set_num_threads(threads)


def test_loo_prefers_the_true_law_where_the_laws_differ(loo_tables):
    loo = loo_tables["loo"]
    assert (loo.sum(axis=1) == 10).all()
    for law in WELL_IDENTIFIED:
        row = loo.loc[law]
        assert row[law] == row.max(), row.to_dict()  # the diagonal dominates its row
        assert row[law] >= MIN_DIAGONAL[law], row.to_dict()
    # an exponential taper is never taken for GR, nor GR for the exponential law
    assert loo.loc[["exponential_moment", "weibull"], "gr"].sum() == 0
    assert loo.loc["gr", "exponential_moment"] == 0


MIN_DIAGONAL = {"gr": 8, "exponential_moment": 6, "weibull": 6}
"""Recorded (seed 0): see models/magnitude_laws.md §7.1."""

SEPARATED_AT_50K = ["tapered_gr", "gamma", "generalized_gamma"]
"""Laws that 1 000 events confuse (TGR with gamma; GG, whose third parameter is not
identified, with gamma) but 50 000 binned events separate (§7.1 (e))."""


@pytest.fixture(scope="module")
def loo_tables_50k():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:  # binned: a 50 000-event fit costs about as much as a 1 000-event one
        return confusion(2, 50_000, "laplace", seed=0, truths=SEPARATED_AT_50K)
    finally:
        torch.set_num_threads(threads)


def test_loo_separates_the_tapers_and_the_generalized_gamma_at_50000_events(loo_tables_50k):
    # the first 2 catalogues of the recorded run (e) per law: each preferred by LOO
    loo = loo_tables_50k["loo"]
    for law in SEPARATED_AT_50K:
        assert loo.loc[law, law] == 2, loo.loc[law].to_dict()


@pytest.fixture(scope="module")
def tables():
    return confusion(50, 1000, "mle", seed=0)


@pytest.mark.long
def test_bic_prefers_the_true_law_where_the_laws_differ(tables):
    bic = tables["bic"]
    assert (bic.sum(axis=1) == 50).all()
    assert bic.loc["gr", "gr"] >= 45
    assert bic.loc["exponential_moment", "exponential_moment"] >= 45
    assert bic.loc["weibull", "weibull"] >= 35
    assert bic.loc["tapered_gr", "tapered_gr"] >= 25
    assert bic.loc["gamma", "gamma"] >= 15


@pytest.mark.long
def test_a_taper_is_never_mistaken_for_gr_or_gr_for_exponential(tables):
    aic = tables["aic"]
    tapered = ["tapered_gr", "gamma", "weibull", "generalized_gamma"]
    assert aic.loc[tapered, "gr"].sum() == 0
    assert aic.loc[tapered, "exponential_moment"].sum() == 0
    assert aic.loc["gr", "exponential_moment"] == 0
