"""How many threads torch uses during a fit: chosen per fit, restored afterwards.

Torch's default (one intra-op thread per core) is a poor choice for the likelihoods here on
a machine that is not idle: with other processes busy, the threads wait for each other at
every parallel operation while one of them is descheduled.  On 2 cores with one other busy
process, 2 threads made fits 3-15x slower than 1 thread (issue #6: the exact ETAS
log-likelihood of the 13 724-event JMA catalogue 42 s against 3 s, the Miyagi ETAS MLE 7.3 s
against 1.15 s; ``tests/benchmarks/bench_threads.py`` on the shared 2-core machine at load
average ~10: 110 s against 11 s per exact value + gradient, 11 s against 1.2 s for the Miyagi
MLE), while on an idle machine 2 threads gained at most ~30 %.  Hence the rule used when
neither the user nor ``PYSTATS_NUM_THREADS`` chose a number:

1. a fit starts on **one** thread, and keeps it when the fit is short (under
   :data:`ADAPT_AFTER_S`: a small catalogue), where threads have nothing to gain;
2. after that, and every :data:`CHECK_EVERY_S` seconds, it measures the CPU time that
   *other* processes used on the CPUs this process may run on (``/proc/stat`` less this
   process's own CPU time; the load average where there is no ``/proc``) and uses
   ``floor(idle CPUs + HEADROOM)`` threads, at least 1 and at most torch's setting before
   the fit (which ``torch.set_num_threads`` or ``OMP_NUM_THREADS`` may have lowered) and
   the container's CPU quota.  One busy process on 2 cores thus gives 1 thread, an idle
   machine torch's default; a process starting later makes the fit fall back to 1.

A user's choice is kept: ``fit(..., threads=n)``, else the environment variable
``PYSTATS_NUM_THREADS``.  Torch's global setting is changed only while the fit runs and is
restored afterwards, also when the fit fails.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from ..errors import OptionError

__all__ = [
    "ENV_VAR",
    "CpuMeter",
    "FitThreads",
    "choose_threads",
    "current_fit_threads",
    "fit_threads",
    "requested_threads",
]

ENV_VAR = "PYSTATS_NUM_THREADS"
"""Environment variable with the number of torch threads for fits (a positive integer)."""
ADAPT_AFTER_S = 1.0
"""Seconds a fit runs on one thread before more are considered."""
CHECK_EVERY_S = 2.0
"""Seconds between two measurements of the other processes' CPU use."""
HEADROOM = 0.25
"""Added to the idle CPUs before rounding down: 1.8 idle CPUs give 2 threads, 1.7 give 1."""

_ACTIVE: ContextVar[FitThreads | None] = ContextVar("pystats_fit_threads", default=None)


def requested_threads(threads: int | None) -> int | None:
    """The user's choice: ``threads`` if given, else ``$PYSTATS_NUM_THREADS``, else ``None``.

    Raises
    ------
    OptionError
        If either is not a positive integer.
    """
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise OptionError(
                f"threads={threads!r} is not allowed; use a positive integer, or None to let "
                "pystats choose"
            )
        return int(threads)
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise OptionError(
            f"environment variable {ENV_VAR}={raw!r} is not allowed; use a positive integer, "
            "or unset it to let pystats choose"
        )
    return value


def choose_threads(idle_cpus: float, cap: int) -> int:
    """Threads for ``idle_cpus`` idle CPUs: ``floor(idle_cpus + HEADROOM)`` in ``[1, cap]``."""
    if not math.isfinite(idle_cpus):
        return 1
    return max(1, min(int(cap), math.floor(idle_cpus + HEADROOM)))


def _allowed_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return list(range(os.cpu_count() or 1))


def cpu_quota() -> float:
    """CPUs this process may use: the affinity mask, lowered by a cgroup-v2 CPU quota."""
    n = float(len(_allowed_cpus()))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1.0, int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return n


class CpuMeter:
    """CPU time used by other processes, from one call of :meth:`others_busy` to the next.

    On Linux from the per-CPU lines of ``/proc/stat`` (the CPUs this process may run on),
    less this process's own CPU time (all its threads); elsewhere from the 1-minute load
    average less this process's threads.

    Examples
    --------
    >>> import time
    >>> from pystats.backends.threads import CpuMeter
    >>> meter = CpuMeter()
    >>> time.sleep(0.2)
    >>> busy = meter.others_busy()
    >>> busy is None or 0.0 <= busy <= len(meter.cpus) + 1
    True
    """

    def __init__(self) -> None:
        self.cpus = _allowed_cpus()
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._last = self._snapshot()

    def _busy_seconds(self) -> float | None:
        try:
            lines = Path("/proc/stat").read_text().splitlines()
        except OSError:
            return None
        wanted = {f"cpu{i}" for i in self.cpus}
        busy = 0
        for line in lines:
            fields = line.split()
            if fields and fields[0] in wanted:
                ticks = [int(x) for x in fields[1:]]
                # user nice system idle iowait irq softirq steal [guest guest_nice]
                busy += sum(ticks[:8]) - ticks[3] - ticks[4]
        return busy / self._hz

    def _snapshot(self) -> tuple[float, float | None, float]:
        return time.monotonic(), self._busy_seconds(), time.process_time()

    def others_busy(self, own_threads: int = 1) -> float | None:
        """Mean number of CPUs kept busy by other processes since the last call (or ``None``)."""
        now = self._snapshot()
        (t0, b0, p0), (t1, b1, p1) = self._last, now
        self._last = now
        if b0 is not None and b1 is not None:
            if t1 - t0 <= 0.05:
                return None
            return max(0.0, ((b1 - b0) - (p1 - p0)) / (t1 - t0))
        try:
            return max(0.0, os.getloadavg()[0] - own_threads)
        except (AttributeError, OSError):  # pragma: no cover - Windows
            return None


class FitThreads:
    """Torch's intra-op threads during one fit (see the module docstring for the rule).

    Parameters
    ----------
    requested : int, optional
        The user's choice (``threads=`` or ``$PYSTATS_NUM_THREADS``); ``None``: the rule.

    Examples
    --------
    Inside a fit torch runs on the requested number of threads; its own setting comes back
    afterwards:

    >>> import torch
    >>> from pystats.backends.threads import fit_threads
    >>> before = torch.get_num_threads()
    >>> with fit_threads(1) as policy:
    ...     policy.activate()
    ...     inside = torch.get_num_threads()
    >>> inside, torch.get_num_threads() == before
    (1, True)
    """

    def __init__(self, requested: int | None) -> None:
        self.requested = requested
        self.saved: int | None = None
        self.current: int | None = None
        self.used: list[int] = []
        self._cap = 1
        self._meter: CpuMeter | None = None
        self._next_check = math.inf

    def activate(self) -> None:
        """Apply the initial number (called where a fit first runs torch code)."""
        if self.saved is not None:
            return
        import torch

        self.saved = torch.get_num_threads()
        if self.requested is not None:
            self._set(self.requested)
            return
        self._cap = max(1, min(self.saved, math.floor(cpu_quota())))
        self._set(1)
        if self._cap > 1:
            self._meter = CpuMeter()
            self._next_check = time.monotonic() + ADAPT_AFTER_S

    def tick(self) -> None:
        """Re-apply the rule if it is time to (called after each likelihood evaluation)."""
        if self._meter is None or time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + CHECK_EVERY_S
        busy = self._meter.others_busy(self.current or 1)
        if busy is not None:
            self._set(choose_threads(len(self._meter.cpus) - busy, self._cap))

    def _set(self, n: int) -> None:
        if n == self.current:
            return
        import torch

        torch.set_num_threads(n)
        self.current = n
        self.used.append(n)

    def restore(self) -> None:
        """Give torch back the number of threads it had before the fit."""
        if self.saved is not None and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(self.saved)


def current_fit_threads() -> FitThreads | None:
    """The thread policy of the fit running in this context, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def fit_threads(threads: int | None) -> Iterator[FitThreads]:
    """Run a fit under a :class:`FitThreads` policy; torch's setting is restored on exit.

    ``threads`` is validated first (:func:`requested_threads`), so a bad value fails before
    any work.  Torch is not imported here: the policy applies when the fit first builds a
    torch log density (:meth:`FitThreads.activate`).
    """
    policy = FitThreads(requested_threads(threads))
    token = _ACTIVE.set(policy)
    try:
        yield policy
    finally:
        _ACTIVE.reset(token)
        policy.restore()
