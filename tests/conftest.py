"""Shared fixtures.

Real data are read from ``../shared/data`` (never copied into the project).  When that
folder is missing the tests that need it are skipped locally but *fail* under
``CI=true``, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under ``pytest -n 2`` two test processes share the cores: one torch (and BLAS) thread
    # each, since torch's default threads collapse when another process holds a core
    # (pystats.backends.threads).  Set before torch is imported; tests that need another
    # number set it themselves.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

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


def cmdstan_unusable_reason() -> str | None:
    """Why the cmdstanpy engine cannot run here, or ``None`` when it can.

    The engine's own rule (:func:`pystats.backends.cmdstan.cmdstan_status`), so that tests
    marked ``cmdstan`` run exactly when ``backend="stan"``/``"auto"`` would use CmdStan
    (``~/.cmdstan`` counts; ``CMDSTAN`` pointing at a non-CmdStan folder or a missing
    cmdstanpy does not).  Install the engine with ``pip install -e ".[test,cmdstan]"`` and
    ``python -m cmdstanpy.install_cmdstan``.
    """
    from pystats.backends.cmdstan import cmdstan_status

    path, reason = cmdstan_status()
    return None if path is not None else reason


def worker_group(nodeid: str) -> str:
    """The group of tests that one ``pytest -n`` worker runs together.

    One group per test file, so that a file's module and session fixtures (shared fits,
    compiled programs) are built once, as with ``--dist loadfile``; the shared battery, the
    largest file, is split by family (the first part of its parameter ids; its session cache
    of fits is keyed by family and method), so that its families spread over the workers
    instead of bounding the run's tail on one.
    """
    path, _, rest = nodeid.partition("::")
    if path.endswith("test_battery.py") and rest.endswith("]") and "[" in rest:
        family = rest[rest.index("[") + 1 : -1].split("-", 1)[0]
        return f"{path}::{family}"
    return path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` and ``--dist loadfile`` (``addopts``), schedule by :func:`worker_group`.

    A scheduler of pytest-xdist's (its documented ``pytest_xdist_make_scheduler`` hook);
    ``--dist loadgroup`` with ``xdist_group`` marks would do the same, but pytest-xdist 3.8
    sets the group through ``item._nodeid``, which pytest 9 no longer reads.
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class _GroupScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return _GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """GPU tests are reported as skipped without CUDA; CmdStan tests without a usable engine."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        has_cuda = False
    cmdstan_reason = None
    if any("cmdstan" in item.keywords for item in items):
        cmdstan_reason = cmdstan_unusable_reason()
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device (none here)"))
        if "cmdstan" in item.keywords and cmdstan_reason is not None:
            item.add_marker(
                pytest.mark.skip(reason=f"needs a usable cmdstanpy engine: {cmdstan_reason}")
            )
