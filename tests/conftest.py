"""Shared fixtures.

Real data are read from ``../shared/data`` (never copied into the project).  When that
folder is missing the tests that need it are skipped locally but *fail* under
``CI=true``, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "PYSTATS_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder ``../shared/data`` (override with ``PYSTATS_SHARED_DATA``)."""
    if not SHARED_DATA.is_dir():
        msg = f"shared test data not found at {SHARED_DATA}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg + " (CI=true: real-data tests must not be skipped)")
        pytest.skip(msg)
    return SHARED_DATA


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """GPU tests are reported as skipped without CUDA; CmdStan tests without ``CMDSTAN``."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        has_cuda = False
    has_cmdstan = bool(os.environ.get("CMDSTAN"))
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device (none here)"))
        if "cmdstan" in item.keywords and not has_cmdstan:
            item.add_marker(pytest.mark.skip(reason="needs CmdStan (set CMDSTAN)"))
