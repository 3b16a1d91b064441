"""The dask worker plugin of :func:`pystats.fit_many` (imported only when dask is used)."""

from __future__ import annotations

import os
import sys
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["OneThreadPlugin"]


class OneThreadPlugin(WorkerPlugin):
    """One torch and one BLAS thread in each worker process (set when a worker starts).

    Each fit of :func:`pystats.fit_many` already runs with ``threads=1``; this also covers
    torch and BLAS work outside a fit (a family's ``prepare``) and torch imported later
    (``OMP_NUM_THREADS``).  Workers running inside the client's process
    (``LocalCluster(processes=False)``) are left alone: that process is the user's.

    Parameters
    ----------
    client_pid : int
        Process id of the client (its workers are skipped).
    """

    name = "pystats-one-thread"
    idempotent = True

    def __init__(self, client_pid: int) -> None:
        self.client_pid = int(client_pid)

    def setup(self, worker: Any) -> None:
        """Set the thread limits (skipped in the client's own process)."""
        if os.getpid() == self.client_pid:
            return
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
