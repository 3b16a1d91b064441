"""How ``pytest -n`` groups tests for its workers (``tests/conftest.py``)."""

from __future__ import annotations

import pytest
from conftest import worker_group


@pytest.mark.parametrize(
    ("nodeid", "group"),
    [
        ("tests/test_etas_fit.py::test_mle[1-exact]", "tests/test_etas_fit.py"),
        ("tests/test_etas_fit.py::TestX::test_y", "tests/test_etas_fit.py"),
        ("pystats/gr/model.py::pystats.gr.model.GutenbergRichter", "pystats/gr/model.py"),
        ("tests/test_battery.py::test_fit_recovers[gr_detection-mle]",
         "tests/test_battery.py::gr_detection"),
        ("tests/test_battery.py::test_bad_input[gr_detection-negative_time]",
         "tests/test_battery.py::gr_detection"),
        ("tests/test_battery.py::test_cli_round_trip[sparse_isocon]",
         "tests/test_battery.py::sparse_isocon"),
        ("tests/test_battery.py::test_every_family", "tests/test_battery.py"),
    ],
)
def test_one_group_per_file_and_per_battery_family(nodeid: str, group: str) -> None:
    assert worker_group(nodeid) == group


def test_the_battery_session_cache_is_keyed_by_family_first() -> None:
    """Grouping by family keeps every fit of the battery's cache in one worker."""
    from battery import CASES

    assert all("-" not in name for name in CASES)
