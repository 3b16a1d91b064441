"""Many independent fits of one model, on a dask.distributed cluster: :func:`fit_many`.

Bootstrap replicates of an ETAS fit, per-region fits of one catalogue, parameter-recovery
and coverage studies: one model, many data sets, one table of results.  :func:`fit_many`
sends each fit to a worker of a :mod:`dask.distributed` cluster and gathers one row per fit.
The same script runs on a laptop (a ``LocalCluster`` sized to the machine, started and
closed by the call) and on a cluster (pass a ``distributed.Client`` connected to it).

How it is organised:

* **Seeds.** Fit ``i`` gets its own seed, spawned from one root seed
  (``numpy.random.SeedSequence(seed).spawn(n)``, see :func:`spawn_seeds`), so a row
  is reproduced by ``model.fit(data, method=..., seed=row.seed)`` alone, whatever the
  worker, the order or the number of workers.
* **Compiled once.** When the method runs on a Stan engine, the program is compiled (or
  found in the compile cache) in the calling process before any fit is sent
  (:meth:`pystats.backends.Backend.compile`); workers load it from the same cache.  Workers
  on other machines see that cache when ``PYSTATS_CACHE_DIR`` points at a shared
  filesystem; otherwise each machine compiles once (the cache's file lock makes its other
  workers wait for that build instead of compiling again).
* **One thread per fit.** Each fit runs with ``threads=1`` (torch) and one BLAS thread:
  the workers already use the cores, and torch's own threads collapse when they compete
  for them (:mod:`pystats.backends.threads`).  Worker processes are also set to one torch
  and one BLAS thread when they start (a worker plugin).
* **Failures are rows.** An exception in a fit (bad data, a failed optimizer, a lost
  worker) fills the ``error_type`` / ``error_message`` columns of its row; the other fits
  go on.
* **Data sent once.** Data sets and the model are scattered to the workers once (they are
  not embedded in the task graph); a worker sends back a small row (and the
  :class:`~pystats.fit.Fit` only when asked for).
"""

from __future__ import annotations

import inspect
import logging
import math
import os
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks
from .errors import BackendError, OptionError
from .model import Model

if TYPE_CHECKING:
    import pandas as pd

    from .fit import Fit

__all__ = ["SEQUENTIAL", "fit_many", "spawn_seeds"]

SEQUENTIAL = "sequential"
"""``client=`` value that runs the fits one after the other in this process, without dask
(for debugging: breakpoints and tracebacks work as in a plain loop)."""

_SEED_RANGE = 2**31 - 1
"""Spawned seeds are below this (as the seeds drawn by :func:`pystats.inference.run`)."""

_FIXED_COLUMNS = (
    "dataset", "method", "backend", "seed", "ok", "error_type", "error_message",
    "converged", "diagnostics_ok", "problems", "r_hat_max", "ess_bulk_min", "divergences",
    "wall_seconds", "fit_seconds", "compile_seconds",
)
_FIT_ARGUMENTS = frozenset(
    name for name in inspect.signature(Model.fit).parameters
    if name not in {"self", "data", "method", "seed", "data_options"}
)


def spawn_seeds(seed: int | None, n: int) -> list[int]:
    """``n`` independent seeds in ``[0, 2**31 - 1)`` spawned from the root ``seed``.

    Child ``i`` of ``numpy.random.SeedSequence(seed).spawn(n)``, reduced to its first
    32-bit word modulo ``2**31 - 1`` (the range of the seeds pystats draws itself: pystan's
    sampler refuses seeds of ``2**31`` and above).  The seeds do not depend on ``n`` (the
    first ``k`` of ``n`` are the ``k`` seeds of ``spawn_seeds(seed, k)``), so adding data
    sets keeps the earlier fits.

    Examples
    --------
    >>> from pystats.many import spawn_seeds
    >>> seeds = spawn_seeds(2024, 3)
    >>> seeds == spawn_seeds(2024, 5)[:3], len(set(seeds)), all(0 <= s < 2**31 for s in seeds)
    (True, 3, True)
    """
    children = np.random.SeedSequence(seed).spawn(int(n))
    return [int(c.generate_state(1, dtype=np.uint32)[0]) % _SEED_RANGE for c in children]


def fit_many(
    model: Model,
    datasets: Mapping[Any, Any] | Sequence[Any],
    *,
    method: str | None = None,
    client: Any = None,
    seed: int | None = None,
    overrides: Mapping[Any, Mapping[str, Any]] | None = None,
    return_fits: bool = False,
    progress: bool | None = None,
    prob: float = 0.9,
    **fit_kwargs: Any,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[Any, Fit | None]]:
    """Fit ``model`` to each of many data sets, in parallel on dask.distributed.

    Parameters
    ----------
    model : Model
        The model fitted to every data set.
    datasets : mapping or sequence
        ``{id: data}``, or a list/tuple of data (ids ``0 .. n-1``); each ``data`` is what
        ``model.fit`` accepts.
    method : {"mle", "map", "laplace", "nuts"}, optional
        As in :meth:`Model.fit` (default: ``mle``, or the family's first method).
    client : None, distributed.Client or "sequential"
        ``None``: a ``distributed.LocalCluster`` with one single-threaded worker process
        per available CPU (threads of this process for NUTS on pystan, see Notes), started
        for this call and closed afterwards.  A ``Client``: used
        as it is and left open (a laptop's ``LocalCluster`` or a cluster's scheduler).
        ``"sequential"`` (:data:`SEQUENTIAL`): a plain loop in this process, no dask.
    seed : int, optional
        Root seed in ``[0, 2**32 - 1]``; fit ``i`` (in the order of ``datasets``) uses
        ``spawn_seeds(seed, n)[i]`` (:func:`spawn_seeds`, in ``[0, 2**31 - 1)``).  Drawn
        at random if omitted; the root seed used is in ``table.attrs["seed"]``.
    overrides : mapping, optional
        ``{id: {argument: value}}``: keyword arguments of :meth:`Model.fit` for some data
        sets only (e.g. a fitting window ``t_start``/``t_end``, or ``seed``), replacing
        ``fit_kwargs`` for those.
    return_fits : bool
        Also return the :class:`~pystats.fit.Fit` objects (sent back from the workers).
    progress : bool, optional
        A progress bar (tqdm, on stderr) of finished fits; default: on when stderr is a
        terminal.
    prob : float
        Interval mass of the ``lower``/``upper`` columns (as in :meth:`Fit.summary`).
    **fit_kwargs
        Other keyword arguments of :meth:`Model.fit` (``backend``, ``chains``, ``draws``,
        data options such as ``t_start`` ...), the same for every fit.  ``threads``
        defaults to 1 here (one torch thread per fit; the workers use the cores).

    Returns
    -------
    table : pandas.DataFrame
        One row per data set, in the order of ``datasets``, with columns

        * ``dataset``, ``method``, ``backend``, ``seed``;
        * ``ok`` (the fit ran), ``error_type``, ``error_message`` (empty when ok);
        * ``converged``: no check of severity ``"error"`` failed (optimizer not converged,
          no covariance, R-hat, divergences; :mod:`pystats.diagnostics`), false for a
          failed fit;
          ``diagnostics_ok``: every check passed; ``problems``: the failed checks' names;
          ``r_hat_max``, ``ess_bulk_min``, ``divergences`` (NUTS; NaN otherwise);
        * ``wall_seconds`` (the fit and its summary, on the worker), ``fit_seconds`` and
          ``compile_seconds`` (from the fit's metadata);
        * per row of :meth:`Fit.summary` (parameters, then derived quantities): the point
          estimate under the row's name (``b``), then its other columns as
          ``b_se``, ``b_lower``, ``b_upper`` (``mle``/``map``) or ``b_sd``,
          ``b_hdi_lower``, ``b_hdi_upper`` (``laplace``/``nuts``).

        ``table.attrs`` holds ``seed`` (the root seed), ``compile_seconds`` (spent in this
        process before the fits were sent), ``wall_seconds`` (the whole call) and
        ``client`` (where the fits ran).
    fits : dict
        Only with ``return_fits=True``: id -> :class:`~pystats.fit.Fit` (``None`` where the
        fit failed).

    Raises
    ------
    OptionError
        Bad ``datasets``, ``method``, ``client``, ``seed``, ``overrides`` or an unknown
        keyword argument (before any fit runs).
    MethodNotSupportedError
        If the family does not support ``method``.
    CompilationError
        If the Stan program does not compile (checked once, before any fit is sent).

    Notes
    -----
    A default ``LocalCluster`` starts worker *processes* (Python's ``spawn``), so a script
    calling ``fit_many`` must guard its top level with ``if __name__ == "__main__":``.
    Each worker process holds what one fit needs: size a cluster's worker memory by one
    fit (a Stan compile, in the client process, needs ~1.6 GB).  Pass
    ``client="sequential"`` to debug a failing fit in this process.

    NUTS on the pystan engine cannot run in dask worker processes: pystan forks each fit's
    chains into a process pool, which daemonic workers may not start (the row says so) and
    which, from a non-daemonic worker, forks a multi-threaded process and outlives the
    worker.  The default cluster then uses threads of this process (the chains still run in
    parallel processes; pystats runs pystan's calls on one thread, so the fits follow each
    other); on a cluster, use workers of threads or the cmdstanpy engine.

    Examples
    --------
    Twenty Gutenberg-Richter b-value fits; ``client="sequential"`` here, the default (a
    ``LocalCluster``) or a ``distributed.Client`` give the same table:

    >>> import numpy as np, pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> rng = np.random.default_rng(1)
    >>> catalogues = {f"region{i}": simulate_gr(500, b=1.0, mc=2.0, delta_m=0.1, rng=rng)
    ...               for i in range(20)}
    >>> table = pystats.fit_many(pystats.GutenbergRichter(mc=2.0), catalogues, seed=7,
    ...                          client="sequential", progress=False)
    >>> len(table), bool(table["ok"].all()), round(float(table["b"].mean()), 1)
    (20, True, 1.0)
    >>> list(table.columns[:4]), list(table.columns[16:20])
    (['dataset', 'method', 'backend', 'seed'], ['b', 'b_se', 'b_lower', 'b_upper'])

    On a cluster (or a ``LocalCluster`` of your own, left open for the next call):

    >>> from distributed import Client  # doctest: +SKIP
    >>> with Client("tcp://scheduler:8786") as client:  # doctest: +SKIP
    ...     table, fits = pystats.fit_many(pystats.ETAS(), bootstrap_catalogues,
    ...                                    client=client, seed=1, return_fits=True)
    """
    if not isinstance(model, Model):
        raise OptionError(f"model={model!r:.80} is not allowed; use a pystats model instance")
    keys, values = _datasets(datasets)
    method = model.resolve_method(method)
    seed = _root_seed(seed)
    prob = _checks.probability("prob", prob)
    unknown = sorted(set(fit_kwargs) - _FIT_ARGUMENTS - set(model.data_options))
    if unknown:
        raise OptionError(
            f"fit_many got unknown argument(s) {', '.join(unknown)}; use arguments of "
            f"{type(model).__name__}.fit ({', '.join(sorted(_FIT_ARGUMENTS))}"
            f"{', ' if model.data_options else ''}{', '.join(model.data_options)})"
        )
    fit_kwargs.setdefault("threads", 1)
    seeds = spawn_seeds(seed, len(keys))
    per_fit = _per_fit_kwargs(keys, seeds, fit_kwargs, overrides, model)
    show = sys.stderr.isatty() if progress is None else bool(progress)

    start = time.perf_counter()
    compile_seconds = _compile(model, method, values, per_fit)
    if isinstance(client, str):
        if client != SEQUENTIAL:
            raise OptionError(
                f"client={client!r} is not allowed; use None (a LocalCluster), a "
                f"distributed.Client or {SEQUENTIAL!r}"
            )
        where = SEQUENTIAL
        results = _run_sequential(model, keys, values, method, per_fit, prob, return_fits, show)
    elif client is None:
        results, where = _run_local_cluster(model, keys, values, method, per_fit, prob,
                                            return_fits, show)
    else:
        _check_client(client)
        where = repr(client)
        results = _run_on_client(client, model, keys, values, method, per_fit, prob,
                                 return_fits, show)

    table = _table([row for row, _ in results])
    table.attrs.update(seed=seed, compile_seconds=compile_seconds,
                       wall_seconds=time.perf_counter() - start, client=where)
    if return_fits:
        return table, {k: fit for k, (_, fit) in zip(keys, results, strict=True)}
    return table


# ---------------------------------------------------------------------- arguments
def _datasets(datasets: Any) -> tuple[list[Any], list[Any]]:
    if isinstance(datasets, Mapping):
        keys, values = list(datasets.keys()), list(datasets.values())
    elif isinstance(datasets, Sequence) and not isinstance(datasets, str | bytes):
        keys, values = list(range(len(datasets))), list(datasets)
    else:
        raise OptionError(
            f"datasets={datasets!r:.80} is not allowed; use a mapping {{id: data}} or a "
            "list of data sets"
        )
    if not keys:
        raise OptionError("datasets is empty; give at least one data set")
    return keys, values


def _root_seed(seed: Any) -> int:
    seed = _checks.seed(seed)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0])
    return seed


def _per_fit_kwargs(
    keys: list[Any], seeds: list[int], fit_kwargs: dict[str, Any],
    overrides: Mapping[Any, Mapping[str, Any]] | None, model: Model,
) -> list[dict[str, Any]]:
    overrides = {} if overrides is None else overrides
    if not isinstance(overrides, Mapping):
        raise OptionError(
            f"overrides={overrides!r:.80} is not allowed; use a mapping "
            "{dataset id: {argument: value}}"
        )
    known = set(keys)
    extra = [k for k in overrides if k not in known]
    if extra:
        raise OptionError(
            f"overrides names data set(s) {', '.join(map(repr, extra[:5]))} that are not in "
            "datasets"
        )
    allowed = _FIT_ARGUMENTS | set(model.data_options) | {"seed"}
    out = []
    for key, s in zip(keys, seeds, strict=True):
        extra_kwargs = overrides.get(key, {})
        if not isinstance(extra_kwargs, Mapping):
            raise OptionError(
                f"overrides[{key!r}]={extra_kwargs!r:.80} is not allowed; use a mapping "
                "{argument: value}"
            )
        bad = sorted(set(extra_kwargs) - allowed)
        if bad:
            raise OptionError(
                f"overrides[{key!r}] has unknown argument(s) {', '.join(bad)}; use arguments "
                f"of {type(model).__name__}.fit"
            )
        out.append({**fit_kwargs, "seed": s, **extra_kwargs})
    return out


def _check_client(client: Any) -> None:
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - dask is a dependency
        raise OptionError("client= needs dask.distributed (pip install 'dask[distributed]')") from e
    if not isinstance(client, Client):
        raise OptionError(
            f"client={client!r:.80} is not allowed; use None (a LocalCluster), a "
            f"distributed.Client or {SEQUENTIAL!r}"
        )


# ---------------------------------------------------------------------- compiling
def _compile(model: Model, method: str, values: list[Any], per_fit: list[dict[str, Any]]) -> float:
    """Compile the Stan program the fits will use, here and once; seconds spent."""
    from .backends import get_backend, resolve_backend

    seconds = 0.0
    done: set[str] = set()
    for data, kwargs in zip(values, per_fit, strict=True):
        name = resolve_backend(method, kwargs.get("backend", "auto"), model)
        if name in done or name == "torch" or model.stan_program() is None:
            continue
        opts = {k: v for k, v in kwargs.items() if k in model.data_options}
        try:
            prepared = model.prepare(data, **opts)
        except Exception:  # this data set fails in its own row; compile with another one
            continue
        seconds += get_backend(name).compile(
            model, prepared, include_prior=method != "mle", verbose=bool(kwargs.get("verbose"))
        )
        done.add(name)
    return seconds


# ---------------------------------------------------------------------- one fit
def _fit_one(
    model: Model, data: Any, key: Any, method: str, kwargs: dict[str, Any], prob: float,
    keep_fit: bool,
) -> tuple[dict[str, Any], Fit | None]:
    """Run one fit; return its row (never raises for a failing fit) and the fit if kept."""
    start = time.perf_counter()
    row: dict[str, Any] = {"dataset": key, "method": method, "seed": kwargs["seed"]}
    fit = None
    try:
        _check_process(model, method, kwargs.get("backend", "auto"))
        fit = model.fit(data, method=method, **kwargs)
        row.update(_fit_columns(fit, prob))
        row.update(ok=True, error_type="", error_message="")
    except Exception as e:
        row.update(ok=False, error_type=type(e).__name__, error_message=str(e))
        fit = None
    row["wall_seconds"] = time.perf_counter() - start
    return row, (fit if keep_fit else None)


def _runs_pystan_sampler(model: Model, method: str, backend: str) -> bool:
    if method != "nuts":
        return False
    from .backends import resolve_backend

    return resolve_backend(method, backend, model) == "pystan"


def _check_process(model: Model, method: str, backend: str) -> None:
    """Refuse, with the remedy, what cannot run in this (worker) process."""
    import multiprocessing

    if multiprocessing.current_process().daemon and _runs_pystan_sampler(model, method,
                                                                          backend):
        raise BackendError(
            "pystan's sampler (method='nuts') runs its chains in child processes, which a "
            "dask worker process cannot start; use a cluster of threads "
            "(LocalCluster(processes=False), what fit_many's default cluster does for it) "
            "or the cmdstanpy backend (CmdStan)"
        )


def _check_value(checks: Mapping[str, Any], name: str) -> float:
    check = checks.get(name)
    return math.nan if check is None or check.value is None else float(check.value)


def _fit_columns(fit: Fit, prob: float) -> dict[str, Any]:
    diagnostics = fit.diagnose(warn=False)
    out: dict[str, Any] = {
        "backend": fit.backend,
        "converged": not any(p.severity == "error" for p in diagnostics.problems),
        "diagnostics_ok": diagnostics.ok,
        "problems": ", ".join(p.check for p in diagnostics.problems),
        "r_hat_max": _check_value(diagnostics.checks, "r_hat"),
        "ess_bulk_min": _check_value(diagnostics.checks, "ess_bulk"),
        "divergences": _check_value(diagnostics.checks, "divergences"),
        "fit_seconds": float(fit.metadata.get("fit_seconds", math.nan)),
        "compile_seconds": float(fit.metadata.get("compile_seconds", 0.0) or 0.0),
    }
    table = fit.summary(prob=prob)
    columns = [c for c in table.columns if c != "kind"][:4]
    for name, r in table.iterrows():
        out[str(name)] = float(r[columns[0]])
        for c in columns[1:]:
            out[f"{name}_{c}"] = float(r[c])
    return out


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    extra: dict[str, None] = {}
    for row in rows:
        for k in row:
            if k not in _FIXED_COLUMNS:
                extra.setdefault(k, None)
    table = pd.DataFrame(rows, columns=[*_FIXED_COLUMNS, *extra])
    for col in ("ok", "converged", "diagnostics_ok"):  # a failed fit neither converged nor passed
        table[col] = table[col].fillna(False).astype(bool)
    for col in ("error_type", "error_message", "problems", "backend"):
        table[col] = table[col].fillna("")
    return table


def _failed_row(key: Any, method: str, kwargs: dict[str, Any], error: BaseException) -> dict:
    return {"dataset": key, "method": method, "seed": kwargs["seed"], "ok": False,
            "error_type": type(error).__name__, "error_message": str(error)}


# ---------------------------------------------------------------------- runners
def _bar(show: bool, total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="fit_many", unit="fit", file=sys.stderr, disable=not show,
                dynamic_ncols=True, mininterval=0.5)


def _run_sequential(model: Model, keys: list[Any], values: list[Any], method: str,
                    per_fit: list[dict[str, Any]], prob: float, keep: bool,
                    show: bool) -> list[tuple[dict[str, Any], Fit | None]]:
    out = []
    with _bar(show, len(keys)) as bar:
        for key, data, kwargs in zip(keys, values, per_fit, strict=True):
            out.append(_fit_one(model, data, key, method, kwargs, prob, keep))
            bar.update(1)
    return out


def default_workers() -> int:
    """Worker processes of the default ``LocalCluster``: the CPUs this process may use."""
    from .backends.threads import cpu_quota

    return max(1, math.floor(cpu_quota()))


def _run_local_cluster(model: Model, keys: list[Any], values: list[Any], method: str,
                       per_fit: list[dict[str, Any]], prob: float, keep: bool,
                       show: bool) -> tuple[list[tuple[dict[str, Any], Fit | None]], str]:
    from distributed import Client, LocalCluster

    n = min(default_workers(), len(keys))
    # pystan's sampler forks its chains into a process pool of its own: from a dask worker
    # process that needs non-daemonic workers, forks a multi-threaded process (it hung here)
    # and leaves the pool's processes behind when the worker is stopped.  Its fits run on
    # threads of this process instead (the chains still run in parallel processes).
    processes = not any(_runs_pystan_sampler(model, method, kw.get("backend", "auto"))
                        for kw in per_fit)
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        kind = "processes" if processes else "threads"
        where = f"LocalCluster({n} workers x 1 thread, {kind})"
        return _run_on_client(client, model, keys, values, method, per_fit, prob, keep,
                              show), where


def _run_on_client(client: Any, model: Model, keys: list[Any], values: list[Any], method: str,
                   per_fit: list[dict[str, Any]], prob: float, keep: bool,
                   show: bool) -> list[tuple[dict[str, Any], Fit | None]]:
    from distributed import as_completed

    from ._many_worker import OneThreadPlugin

    client.register_plugin(OneThreadPlugin(os.getpid()))
    model_future = client.scatter(model, broadcast=False, hash=False)
    data_futures = client.scatter(values, hash=False)
    batch = uuid.uuid4().hex[:8]
    futures = [
        client.submit(_fit_one, model_future, data, key, method, kwargs, prob, keep,
                      key=f"pystats-fit-{batch}-{i}", pure=False, retries=0)
        for i, (key, data, kwargs) in enumerate(zip(keys, data_futures, per_fit, strict=True))
    ]
    index = {f.key: i for i, f in enumerate(futures)}
    out: list[Any] = [None] * len(futures)
    with _bar(show, len(futures)) as bar:
        for future in as_completed(futures):
            i = index[future.key]
            try:
                out[i] = future.result()
            except Exception as e:  # the task itself failed: a lost worker, unpicklable data
                out[i] = (_failed_row(keys[i], method, per_fit[i], e), None)
            future.release()
            bar.update(1)
    for f in [model_future, *data_futures]:
        f.release()
    return out
