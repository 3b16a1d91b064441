"""Torch threads during a fit: the user's choice, the rule, and torch's setting restored.

The speed itself is measured by ``tests/benchmarks/bench_threads.py``; these tests check the
mechanism (which number is used while the likelihood runs) with the CPU meter replaced.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import torch

from pystats.backends import threads as th
from pystats.errors import OptionError
from pystats.model import Model, PreparedData
from pystats.parameters import Parameter, ParameterSet


class ThreadProbe(Model):
    """y ~ Normal(mu, 1), recording torch's thread count at each likelihood evaluation."""

    family = "test_thread_probe"
    has_torch_likelihood = True
    seen: ClassVar[list[int]] = []
    fail_after: ClassVar[int | None] = None

    def prepare(self, data):
        y = np.asarray(data, dtype=float)
        return PreparedData(values={"y": y}, observed={"y": y})

    def parameters(self, data):
        return ParameterSet([Parameter("mu")])

    def log_likelihood_torch(self, p, t):
        type(self).seen.append(torch.get_num_threads())
        if self.fail_after is not None and len(self.seen) > self.fail_after:
            raise RuntimeError("likelihood failed on purpose")
        return -0.5 * ((t["y"] - p["mu"]) ** 2).sum()

    def initial_values(self, data, rng):
        return {"mu": rng.normal()}


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch):
    """Torch set to 3 threads before each test (restored after); the probe's log cleared."""
    monkeypatch.delenv(th.ENV_VAR, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    ThreadProbe.seen = []
    ThreadProbe.fail_after = None
    yield ThreadProbe()
    torch.set_num_threads(before)


Y = np.random.default_rng(0).normal(2.0, 1.0, size=50)


def _fit(model: Model, **kw):
    return model.fit(Y, method="mle", seed=1, n_starts=2, progress=False, **kw)


def test_explicit_threads_are_used_and_torch_setting_restored(probe: ThreadProbe) -> None:
    fit = _fit(probe, threads=2)
    assert set(ThreadProbe.seen) == {2}
    assert fit.metadata["torch_threads"] == 2
    assert fit.point["mu"] == pytest.approx(Y.mean(), rel=1e-6)
    assert torch.get_num_threads() == 3


def test_environment_variable_is_the_default_choice(
    probe: ThreadProbe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(th.ENV_VAR, "2")
    _fit(probe)
    assert set(ThreadProbe.seen) == {2}
    ThreadProbe.seen = []
    _fit(probe, threads=1)  # the argument beats the variable
    assert set(ThreadProbe.seen) == {1}
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_threads_argument_names_the_value(probe: ThreadProbe, bad: object) -> None:
    with pytest.raises(OptionError, match=r"threads=.* positive integer"):
        _fit(probe, threads=bad)
    assert ThreadProbe.seen == [] and torch.get_num_threads() == 3


@pytest.mark.parametrize("bad", ["zero", "0", "-3", "1.5"])
def test_bad_environment_variable_names_it(
    probe: ThreadProbe, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv(th.ENV_VAR, bad)
    with pytest.raises(OptionError, match=f"PYSTATS_NUM_THREADS={bad!r}"):
        _fit(probe)


def test_torch_setting_restored_after_an_exception(probe: ThreadProbe) -> None:
    ThreadProbe.fail_after = 3
    with pytest.raises(RuntimeError, match="on purpose"):
        _fit(probe)
    assert set(ThreadProbe.seen) == {1}
    assert torch.get_num_threads() == 3
    ThreadProbe.seen = []
    with pytest.raises(RuntimeError, match="on purpose"):
        _fit(probe, threads=2)
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize(
    ("idle", "cap", "expected"),
    [
        (1.0, 2, 1),  # 2 cores, one busy process: 1 thread
        (1.7, 2, 1),
        (1.8, 2, 2),
        (1.97, 2, 2),  # idle 2 cores: torch's default
        (0.1, 2, 1),  # never fewer than one
        (7.9, 4, 4),  # never more than torch's setting before the fit
        (5.5, 16, 5),
        (float("nan"), 8, 1),
    ],
)
def test_rule(idle: float, cap: int, expected: int) -> None:
    assert th.choose_threads(idle, cap) == expected


class FakeMeter:
    """A CPU meter reporting ``busy`` CPUs used by other processes on ``n`` CPUs."""

    def __init__(self, n: int, busy: float) -> None:
        self.cpus = list(range(n))
        self.busy = busy

    def others_busy(self, own_threads: int = 1) -> float:
        return self.busy


@pytest.mark.parametrize(("busy", "expected"), [(1.0, 1), (0.05, 2)])
def test_rule_follows_the_other_processes_load(
    probe: ThreadProbe, monkeypatch: pytest.MonkeyPatch, busy: float, expected: int
) -> None:
    # a fit long enough to be re-checked at once; 2 CPUs, `busy` of them used by others
    monkeypatch.setattr(th, "ADAPT_AFTER_S", 0.0)
    monkeypatch.setattr(th, "CHECK_EVERY_S", 0.0)
    monkeypatch.setattr(th, "cpu_quota", lambda: 2.0)
    monkeypatch.setattr(th, "CpuMeter", lambda: FakeMeter(2, busy))
    fit = _fit(probe)
    assert set(ThreadProbe.seen) == {expected}  # torch's own default (3) is never used
    assert fit.metadata["torch_threads"] == expected
    assert torch.get_num_threads() == 3


def test_short_fits_stay_on_one_thread(probe: ThreadProbe, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(th, "cpu_quota", lambda: 8.0)
    monkeypatch.setattr(th, "CpuMeter", lambda: FakeMeter(8, 0.0))  # an idle machine
    _fit(probe)  # well under ADAPT_AFTER_S
    assert set(ThreadProbe.seen) == {1}


def test_cpu_meter_sees_a_busy_process() -> None:
    pytest.importorskip("os").sched_getaffinity  # noqa: B018 - Linux only
    import subprocess
    import sys
    import time

    meter = th.CpuMeter()
    time.sleep(0.3)
    quiet = meter.others_busy()
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        meter.others_busy()
        time.sleep(1.0)
        loaded = meter.others_busy()
    finally:
        loop.kill()
        loop.wait()
    assert quiet is not None and loaded is not None
    # the busy loop holds one CPU (less whatever the other users of the machine take)
    assert loaded >= 0.6 and loaded <= len(meter.cpus) + 0.1


def test_cpu_meter_subtracts_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2 s of wall time in which the CPUs were busy for 3.0 CPU-seconds, 1.8 of them ours
    clock = iter([(0.0, 10.0, 5.0), (2.0, 13.0, 6.8)])
    monkeypatch.setattr(th.CpuMeter, "_snapshot", lambda self: next(clock))
    assert th.CpuMeter().others_busy() == pytest.approx(0.6)
