"""The ``pystan`` engine: Stan through pystan 3 / httpstan, embedded and offline.

What this module adds to plain pystan:

* **One compile cache.** httpstan keeps compiled programs in its own user-cache folder;
  pystats redirects it to ``cache_dir()/httpstan-<version>`` (so ``PYSTATS_CACHE_DIR`` is
  honoured) by replacing ``httpstan.cache.cache_directory`` when the engine is first used.
  This also applies to any pystan use in the same process afterwards.
* **Safe compilation.** Building holds :func:`~pystats.backends.stan_cache.file_lock` keyed
  by the program hash, so two processes compiling the same program serialise (the second
  finds it compiled).  httpstan links the module straight into its model folder, so a build
  killed during the link step used to leave a truncated module there that httpstan then
  tried to load forever (``ImportError: file too short``).  pystats builds in a staging
  folder of the cache (``httpstan-<version>/staging/<model>-*``, which is also the working
  directory and ``TMPDIR`` of the compiler, as setuptools writes ``build/temp.*`` into the
  *current* directory) and renames the finished module into the model folder, so the
  model folder only ever holds complete modules; staging folders left by a killed build are
  removed by the next build of that program.  A module that cannot be loaded anyway (a
  cache written by an older pystats or by plain pystan) is deleted and rebuilt.
* **One program, one compile.** httpstan's model name hashes ``sys.executable``, so the
  same program run from ``.venv/bin/python`` and ``.venv/bin/python3`` (the API and the
  CLI) was compiled twice.  pystats hashes the resolved httpstan installation folder
  instead (what the compiled module links against), so every interpreter path of one
  environment shares one compiled module, and two environments do not.
* **No leftover sockets.** httpstan creates one ``httpstan_*.sock`` file in the temporary
  directory per sampler run and never removes it; pystats removes it when the run ends.
* **No one-second stanc limit.** httpstan runs ``stanc`` (Stan to C++) with a 1 s timeout;
  on a busy machine stanc takes longer and the build failed with an opaque
  ``TAPE_ERROR``.  pystats runs stanc the same way with :data:`STANC_TIMEOUT_S`.
* **No five-minute build limit.** pystan's HTTP client keeps aiohttp's default 5-minute
  total timeout, and a build is one request: on a busy machine the C++ compile took longer
  and the build failed with a timeout.  pystats gives the client no total limit (the
  server runs in the same process; the connection limit stays).
* **Quiet by default.** pystan prints build messages on stdout, stanc warnings and sampler
  progress on stderr, and the compiler writes to the stderr file descriptor; all of it is
  captured at the file-descriptor level unless ``verbose=True`` (``progress=True`` lets the
  sampler's progress through).  Captured text is attached to errors.
* **No leftover fits.** With a seed, httpstan stores every fit in its cache and never
  deletes it; pystats points httpstan's fit storage at a temporary folder during sampling,
  so the cache holds compiled programs only.
* **Fast log densities.** ``stan.Model.log_prob`` starts an HTTP server per call (~3 ms);
  :class:`PystanLogDensity` calls the compiled module's ``log_prob`` / ``log_prob_grad``
  directly (~0.06 ms, the same functions httpstan's handlers call), with ``adjust_transform``
  for both value and gradient, and falls back to the public pystan API when that module
  cannot be loaded.  (pystan's public ``grad_log_prob`` always includes the Jacobian; the
  fallback subtracts :meth:`ParameterSet.grad_log_abs_det_jacobian`.)
* **pystats order.** Stan's unconstrained vector is not in pystats order for matrices; the
  permutation is read off httpstan's ``write_array`` once per model, which also checks that
  the program's parameters and bounds match the model's :meth:`~pystats.model.Model.parameters`.
* **Chain order.** ``stan.fit.Fit[name]`` interleaves chains along its last axis (index
  ``draw * num_chains + chain``); draws are returned as ``(chain, draw, *shape)``.
* **One Stan thread.** httpstan's models are compiled with ``STAN_THREADS``: Stan's autodiff
  tape is thread-local and only set up in the thread that loaded the compiled module, so
  calling it from any other thread (or sampling in processes forked from one) crashes the
  interpreter with a segmentation fault.  pystats runs every pystan/httpstan call on one
  dedicated thread (``pystats-stan``), whatever thread the caller is on (~25 us per call).
  This also makes the engine work inside a running event loop (Jupyter), where pystan's
  own ``asyncio.run`` would fail.  (A program that the *user* loaded through pystan in
  another thread before pystats did cannot be used this way, and a process forked after
  the engine was used cannot use it: it raises :class:`BackendError` rather than crash.)

Notes
-----
``log_prob`` is Stan's ``log_prob<propto=true>``: terms written with ``~`` drop constants,
terms written as ``target += *_lpdf(...)`` keep them.  pystats programs use ``target +=``
so that log densities (and the likelihoods reported for ``mle``) are normalised.

References
----------
Riddell, A., Hartikainen, A. and Carter, M. (2021). PyStan (3.x). https://pystan.readthedocs.io
Carpenter, B. et al. (2017). Stan: A probabilistic programming language. Journal of
Statistical Software 76(1), 1-32. doi:10.18637/jss.v076.i01
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import hashlib
import io
import logging
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _checks
from ..errors import (
    BackendError,
    BackendUnavailableError,
    CompilationError,
    DataError,
    FitError,
    MethodNotSupportedError,
    OptionError,
)
from .base import Backend, LogDensity, SampleResult
from .stan_cache import cache_dir, file_lock
from .stan_program import (
    STAN_SAMPLE_STATS,
    StanProgram,
    check_inits,
    check_seed,
    data_hash,
    finite_or_minus_inf,
    load_program,
    sample_stats_from,
    stan_data,
)

if TYPE_CHECKING:
    from ..model import Model, PreparedData
    from ..parameters import ParameterSet

__all__ = ["PystanBackend", "PystanLogDensity", "clear_model_cache"]

log = logging.getLogger("pystats")

_STATE_LOCK = threading.RLock()
_MAX_MODELS = 16
_fit_dir: Path | None = None


@dataclass
class _Built:
    """A built ``stan.Model`` (program compiled, data bound) and what pystats derived."""

    model: Any
    program: StanProgram
    compile_seconds: float
    module: Any = None
    stan_index: dict[tuple, np.ndarray] = field(default_factory=dict)


_MODELS: OrderedDict[tuple[str, str, int | None], _Built] = OrderedDict()


def clear_model_cache() -> None:
    """Forget the ``stan.Model`` objects built in this process (compiled programs stay cached).

    The next use of a program goes through ``stan.build`` again, which finds the compiled
    program in the on-disk cache.
    """
    with _STATE_LOCK:
        _MODELS.clear()


# ---------------------------------------------------------------------------- imports
def _import_stan() -> tuple[Any, Any]:
    """Import pystan and httpstan lazily and point httpstan's cache at pystats' cache."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources deprecation warning
            import httpstan
            import httpstan.cache
            import httpstan.models

            import stan
    except Exception as e:
        text = str(e)
        if "pkg_resources" in text or getattr(e, "name", None) == "pkg_resources":
            msg = (
                "the pystan engine cannot be loaded: pystan 3.10 imports pkg_resources, which "
                "setuptools 81 and later no longer ship; install 'setuptools<81' "
                f"(cause: {text})"
            )
        else:
            msg = (
                "the pystan engine cannot be loaded (install it with "
                f"pip install 'pystan>=3.10,<3.11'); cause: {type(e).__name__}: {text}"
            )
        raise BackendUnavailableError(msg) from e
    if not callable(getattr(stan, "build", None)):
        where = getattr(stan, "__file__", None) or list(getattr(stan, "__path__", []))
        cause = ImportError(f"module 'stan' from {where} has no build()")
        raise BackendUnavailableError(
            f"the module 'stan' imported from {where} is not pystan: a folder named 'stan' on "
            "sys.path (e.g. the pystats source tree's stan/ when Python runs from the "
            "repository root) shadows it; run from another directory"
        ) from cause
    _patch_httpstan(httpstan)
    _patch_pystan_client()
    return stan, httpstan


def _httpstan_cache_directory() -> Path:
    """Replacement for ``httpstan.cache.cache_directory``: a folder of pystats' cache."""
    import httpstan

    return cache_dir() / f"httpstan-{httpstan.__version__}"


def _httpstan_fit_path(fit_name: str) -> Path:
    """Replacement for ``httpstan.cache.fit_path``: fits go to a temporary folder."""
    fit_directory, fit_id = fit_name.rsplit("/", maxsplit=1)
    base = _fit_dir if _fit_dir is not None else _httpstan_cache_directory()
    return base / fit_directory / f"{fit_id}.jsonlines.gz"


# ---------------------------------------------------------------------------- httpstan patches
_STAGING: dict[str, Path] = {}
"""Model name -> staging folder while that model's module is being built."""
_STALE_STAGING_SECONDS = 24 * 3600
_SOCKETS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "pystats_httpstan_sockets", default=None
)
_ORIGINAL: dict[str, Any] = {}


def _model_name(program_code: str) -> str:
    """Replacement for ``httpstan.models.calculate_model_name`` (see the module docstring).

    httpstan's own name hashes the program, the httpstan version, the platform, the Python
    version and ``sys.executable``; this one hashes the resolved folder of the httpstan
    package in place of ``sys.executable``: the compiled module links against that
    folder's libraries, and it is the same for every interpreter path of an environment.
    """
    import httpstan

    digest = hashlib.blake2b(digest_size=5)
    for part in (
        program_code,
        httpstan.__version__,
        sys.platform,
        str(sys.maxsize),
        sys.version,
        os.path.realpath(os.path.dirname(httpstan.__file__)),
    ):
        digest.update(part.encode())
    return f"models/{base64.b32encode(digest.digest()).decode().lower()}"


def _httpstan_model_directory(model_name: str) -> Path:
    """Replacement for ``httpstan.cache.model_directory``: the staging folder during a build."""
    staged = _STAGING.get(model_name)
    if staged is not None:
        return staged
    return _httpstan_cache_directory() / "models" / model_name.split("/")[1]


def _extension_modules(directory: Path) -> list[Path]:
    from importlib.machinery import EXTENSION_SUFFIXES

    try:
        return [p for p in directory.iterdir() if p.suffix in EXTENSION_SUFFIXES]
    except FileNotFoundError:
        return []


def _import_services_module(model_name: str) -> Any:
    """Replacement for ``httpstan.models.import_services_extension_module``.

    A module that exists but cannot be loaded (truncated by a killed build, or linked
    against libraries that moved) is deleted and reported as missing (``KeyError``, what
    httpstan expects of a missing module), so that httpstan builds it again.
    """
    try:
        return _ORIGINAL["import_services_extension_module"](model_name)
    except KeyError:
        raise
    except (ImportError, OSError) as e:
        directory = _httpstan_model_directory(model_name)
        for path in _extension_modules(directory):
            with contextlib.suppress(OSError):
                path.unlink()
        log.warning(
            "the compiled Stan module in %s could not be loaded (%s); it was deleted and "
            "will be rebuilt", directory, e,
        )
        raise KeyError(f"unloadable module for {model_name!r} removed: {e}") from e


def _remove_stale_staging(root: Path, model_id: str) -> None:
    """Remove staging folders of ``model_id`` (left by a killed build; the caller holds the
    program's lock) and any staging folder older than a day."""
    now = time.time()
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        try:
            stale = entry.name.startswith(f"{model_id}-") or (
                now - entry.stat().st_mtime > _STALE_STAGING_SECONDS
            )
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry, ignore_errors=True)


async def _build_module_atomically(
    program_code: str, extra_compile_args: list[str] | None = None
) -> str:
    """Replacement for ``httpstan.models.build_services_extension_module``.

    Runs httpstan's build in a staging folder of the cache (as working directory, build
    folder and ``TMPDIR`` of the compiler) and renames the finished module into the model
    folder: the model folder never holds a partial module.
    """
    import httpstan.models

    model_name = httpstan.models.calculate_model_name(program_code)
    model_id = model_name.split("/")[1]
    root = _httpstan_cache_directory() / "staging"
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(root, model_id)
    staging = Path(tempfile.mkdtemp(prefix=f"{model_id}-", dir=root))
    compiler_tmp = staging / "tmp"
    compiler_tmp.mkdir()
    try:
        old_cwd: str | None = os.getcwd()
    except OSError:  # the current directory was deleted
        old_cwd = None
    old_tmpdir = os.environ.get("TMPDIR")
    _STAGING[model_name] = staging
    try:
        os.chdir(staging)
        os.environ["TMPDIR"] = str(compiler_tmp)
        try:
            output = await _ORIGINAL["build_services_extension_module"](
                program_code, extra_compile_args
            )
        finally:
            _STAGING.pop(model_name, None)
            if old_tmpdir is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = old_tmpdir
            os.chdir(old_cwd if old_cwd is not None else tempfile.gettempdir())
        modules = _extension_modules(staging)
        if len(modules) != 1:
            raise CompilationError(
                f"building {model_name} produced {len(modules)} extension modules in {staging}"
            )
        final = _httpstan_model_directory(model_name)
        final.mkdir(parents=True, exist_ok=True)
        # httpstan reads stderr.log whenever it finds the module: write it first
        (final / "stderr.log").write_text(output)
        os.replace(modules[0], final / modules[0].name)  # atomic: the module appears whole
        return output
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _SocketTempfile:
    """Stands in for the ``tempfile`` module inside ``httpstan.services_stub``: records the
    socket file names that httpstan creates (and never removes)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(tempfile, name)

    @staticmethod
    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, path = tempfile.mkstemp(*args, **kwargs)
        names = _SOCKETS.get()
        if names is not None:
            names.append(path)
        return fd, path


async def _call_and_remove_socket(*args: Any, **kwargs: Any) -> Any:
    """Replacement for ``httpstan.services_stub.call``: removes its socket file when done."""
    names: list[str] = []
    token = _SOCKETS.set(names)
    try:
        return await _ORIGINAL["call"](*args, **kwargs)
    finally:
        _SOCKETS.reset(token)
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(name)


STANC_TIMEOUT_S = 600.0
"""Seconds stanc may take to translate a program (httpstan allows 1 s)."""


def _stanc_binary() -> Path:
    import httpstan

    return Path(httpstan.__file__).resolve().parent / "stanc"


def _stanc(program_code: str, stan_model_name: str) -> tuple[str, str]:
    """Replacement for ``httpstan.compile.compile``: the same stanc call, a longer timeout.

    Raises ``ValueError`` with stanc's message for a program with errors (as httpstan
    does) and a ``ValueError`` naming the limit when stanc runs past it.
    """
    import subprocess

    with tempfile.TemporaryDirectory(prefix="pystats-stanc-") as tmpdir:
        path = Path(tmpdir) / f"{stan_model_name}.stan"
        path.write_text(program_code)
        args = [str(_stanc_binary()), "--name", stan_model_name, "--warn-pedantic",
                "--print-cpp", str(path)]
        try:
            done = subprocess.run(args, capture_output=True, timeout=STANC_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ValueError(
                f"stanc did not finish translating the program within {STANC_TIMEOUT_S:g} s"
            ) from None
    stderr = done.stderr.decode().strip()
    if done.returncode != 0:
        raise ValueError(stderr)
    return done.stdout.decode().strip(), stderr


async def _client_enter_without_total_timeout(self: Any) -> Any:
    """``stan.common.HttpstanClient.__aenter__`` with a session that has no total timeout."""
    import aiohttp

    client = await _ORIGINAL["client_aenter"](self)
    await client.session.close()  # no request was made on it yet
    client.session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30)
    )
    return client


def _patch_pystan_client() -> None:
    import stan.common

    with _STATE_LOCK:
        if getattr(stan.common.HttpstanClient, "_pystats_patched", False):
            return
        _ORIGINAL["client_aenter"] = stan.common.HttpstanClient.__aenter__
        stan.common.HttpstanClient.__aenter__ = _client_enter_without_total_timeout
        stan.common.HttpstanClient._pystats_patched = True


def _patch_httpstan(httpstan: Any) -> None:
    with _STATE_LOCK:
        if getattr(httpstan.cache, "_pystats_patched", False):
            return
        import httpstan.compile
        import httpstan.models
        import httpstan.services_stub

        _ORIGINAL.update(
            compile=httpstan.compile.compile,
            cache_directory=httpstan.cache.cache_directory,
            fit_path=httpstan.cache.fit_path,
            model_directory=httpstan.cache.model_directory,
            calculate_model_name=httpstan.models.calculate_model_name,
            import_services_extension_module=httpstan.models.import_services_extension_module,
            build_services_extension_module=httpstan.models.build_services_extension_module,
            call=httpstan.services_stub.call,
        )
        httpstan.cache._pystats_original = dict(_ORIGINAL)
        httpstan.cache.cache_directory = _httpstan_cache_directory
        httpstan.cache.fit_path = _httpstan_fit_path
        httpstan.cache.model_directory = _httpstan_model_directory
        httpstan.models.calculate_model_name = _model_name
        httpstan.models.import_services_extension_module = _import_services_module
        httpstan.models.build_services_extension_module = _build_module_atomically
        httpstan.compile.compile = _stanc
        httpstan.services_stub.call = _call_and_remove_socket
        httpstan.services_stub.tempfile = _SocketTempfile()
        httpstan.cache._pystats_patched = True


def _versions() -> tuple[str, str]:
    import httpstan

    try:
        pystan_version = version("pystan")
    except PackageNotFoundError:  # pragma: no cover - imported but not installed
        pystan_version = "unknown"
    return pystan_version, httpstan.__version__


# ---------------------------------------------------------------------------- helpers
class _Captured:
    text = ""


@contextlib.contextmanager
def _captured(stdout: bool, stderr: bool) -> Iterator[_Captured]:
    """Capture what Python *and* C code write to stdout / stderr (file descriptors 1, 2)."""
    cap = _Captured()
    if not (stdout or stderr):
        yield cap
        return
    fds = [fd for fd, on in ((1, stdout), (2, stderr)) if on]
    buffer = io.StringIO()
    with tempfile.TemporaryFile() as tmp:
        saved: dict[int, int] = {}
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for fd in fds:
            try:
                saved[fd] = os.dup(fd)
                os.dup2(tmp.fileno(), fd)
            except OSError:  # no such descriptor (e.g. pythonw): Python-level capture only
                saved.pop(fd, None)
        redirects = contextlib.ExitStack()
        if stdout:
            redirects.enter_context(contextlib.redirect_stdout(buffer))
        if stderr:
            redirects.enter_context(contextlib.redirect_stderr(buffer))
        try:
            with redirects:
                yield cap
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            tmp.seek(0)
            cap.text = buffer.getvalue() + tmp.read().decode(errors="replace")


@contextlib.contextmanager
def _quiet_loggers(enabled: bool, *names: str) -> Iterator[None]:
    """Disable loggers (httpstan logs every rejected point at CRITICAL level)."""
    if not enabled:
        yield
        return
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        yield
    finally:
        for lg, was in zip(loggers, before, strict=True):
            lg.disabled = was


@contextlib.contextmanager
def _temporary_fit_dir() -> Iterator[None]:
    global _fit_dir
    with tempfile.TemporaryDirectory(prefix="pystats-fits-") as tmp:
        _fit_dir = Path(tmp)
        try:
            yield
        finally:
            _fit_dir = None


_THREAD_NAME = "pystats-stan"
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_PID: int | None = None


def _on_stan_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on pystats' Stan thread and return its result (see the module docstring)."""
    global _EXECUTOR, _EXECUTOR_PID

    def call() -> Any:
        with warnings.catch_warnings():
            # httpstan's aiohttp app triggers aiohttp's NotAppKeyWarning on every request
            warnings.filterwarnings("ignore", message=".*web.AppKey.*")
            warnings.filterwarnings("ignore", category=DeprecationWarning)  # importlib.resources
            return fn(*args, **kwargs)

    if threading.current_thread().name.startswith(_THREAD_NAME):
        return call()
    with _STATE_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_THREAD_NAME)
            _EXECUTOR_PID = os.getpid()
        elif _EXECUTOR_PID != os.getpid():
            raise BackendError(
                "the pystan engine was used before this process was forked; Stan's compiled "
                "code cannot run in the forked child (its autodiff tape belongs to a thread "
                "of the parent). Start worker processes with multiprocessing's 'spawn' or "
                "'forkserver' method instead"
            )
        executor = _EXECUTOR
    return executor.submit(call).result()


def _sampler_messages(text: str) -> str:
    """The part of pystan's output that reports Stan's own messages (not progress)."""
    marker = "Messages received during sampling:"
    return _tail(text.split(marker, 1)[1]) if marker in text else ""


def _module_in_cache(httpstan: Any, code: str) -> bool:
    """Whether the compiled module of ``code`` is in the cache (a non-empty file)."""
    directory = httpstan.cache.model_directory(httpstan.models.calculate_model_name(code))
    for path in _extension_modules(directory):
        with contextlib.suppress(OSError):
            if path.stat().st_size > 0:
                return True
    return False


def _tail(text: str, n: int = 4000) -> str:
    text = text.strip()
    return text if len(text) <= n else "...\n" + text[-n:]


def _check_positive_int(name: str, value: Any, low: int) -> int:
    return _checks.integer(name, value, low)


def _build(
    stan: Any, httpstan: Any, code: str, data: dict[str, Any], seed: int | None, capture: bool
) -> tuple[Any, Exception | None, bool, str]:
    """``stan.build`` on the Stan thread, output captured (the compiler runs in a staging
    folder of the cache, see :func:`_build_module_atomically`)."""
    with _captured(stdout=capture, stderr=capture) as cap:
        try:
            model, error = stan.build(code, data=data, random_seed=seed), None
        except Exception as e:
            model, error = None, e
    compiled = _module_in_cache(httpstan, code)
    return model, error, compiled, cap.text


def _sample(model: Any, kwargs: dict[str, Any], capture_out: bool, capture_err: bool) -> tuple:
    """``stan.Model.sample`` on the Stan thread; httpstan's fit files go to a temporary folder."""
    with _temporary_fit_dir(), _captured(stdout=capture_out, stderr=capture_err) as cap:
        try:
            fit, error = model.sample(**kwargs), None
        except RuntimeError as e:
            fit, error = None, e
    return fit, error, cap.text


# ---------------------------------------------------------------------------- log density
class PystanLogDensity(LogDensity):
    """Log density of a built pystan model on the pystats unconstrained vector.

    Parameters
    ----------
    model : stan.Model
        Built model (program compiled, data bound).
    params : ParameterSet
        The model's parameters; ``u`` is in their flat order.
    stan_index : ndarray of int
        ``u_stan[stan_index] = u``.
    module : module, optional
        httpstan's compiled services module of the program (fast path); ``None`` uses the
        public ``stan.Model.log_prob`` / ``grad_log_prob``.
    info : dict, optional
        Engine provenance (engine, versions, program, program hash, compile seconds).

    Notes
    -----
    Points where Stan raises (a ``reject``, a violated constraint) or where the density is
    NaN give ``-inf`` with a zero gradient; a wrong-length ``u`` raises :class:`OptionError`.

    Examples
    --------
    Any object with ``stan.Model``'s ``log_prob`` / ``grad_log_prob`` works; here a standard
    normal stands in for a built program:

    >>> import numpy as np
    >>> from pystats.backends.pystan import PystanLogDensity
    >>> from pystats.parameters import Parameter, ParameterSet
    >>> class StandardNormal:
    ...     def log_prob(self, u, adjust_transform=True):
    ...         return -0.5 * u[0] ** 2
    ...     def grad_log_prob(self, u):
    ...         return [-u[0]]
    >>> density = PystanLogDensity(StandardNormal(), ParameterSet([Parameter("x")]), [0])
    >>> lp, grad = density.value_and_grad(np.array([2.0]), jacobian=False)
    >>> lp, grad.tolist()
    (-2.0, [-2.0])
    """

    def __init__(
        self,
        model: Any,
        params: ParameterSet,
        stan_index: np.ndarray,
        module: Any = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.params = params
        self.dim = params.dim
        self.stan_index = np.asarray(stan_index, dtype=np.intp)
        self.module = module
        self.info = dict(info or {})

    def _to_stan(self, u: np.ndarray) -> list[float] | None:
        u = np.asarray(u, dtype=float)
        if u.shape != (self.dim,):
            raise OptionError(
                f"u has shape {u.shape}; the unconstrained vector has shape ({self.dim},)"
            )
        if not np.all(np.isfinite(u)):
            return None
        u_stan = np.empty(self.dim)
        u_stan[self.stan_index] = u
        return u_stan.tolist()

    def _evaluate(
        self, u_stan: list[float], jacobian: bool, gradient: bool
    ) -> tuple[float, np.ndarray | None]:
        """Runs on the Stan thread; ``-inf`` where Stan raises."""
        try:
            if self.module is not None:
                lp = finite_or_minus_inf(self.module.log_prob(self.model.data, u_stan, jacobian))
                if not gradient or lp == -math.inf:
                    return lp, None
                g = self.module.log_prob_grad(self.model.data, u_stan, jacobian)
                return lp, np.asarray(g, dtype=float)[self.stan_index]
            with _quiet_loggers(True, "httpstan"):
                lp = finite_or_minus_inf(self.model.log_prob(u_stan, adjust_transform=jacobian))
                if not gradient or lp == -math.inf:
                    return lp, None
                g = np.asarray(self.model.grad_log_prob(u_stan), dtype=float)[self.stan_index]
            if not jacobian:  # pystan's grad_log_prob always includes the Jacobian
                u = np.asarray(u_stan)[self.stan_index]
                g = g - self.params.grad_log_abs_det_jacobian(u)
            return lp, g
        except (RuntimeError, ValueError) as e:
            log.debug("pystan log_prob rejected the point: %s", e)
            return -math.inf, None

    def value(self, u: np.ndarray, jacobian: bool) -> float:
        """Log density at ``u`` (``-inf`` outside the support)."""
        u_stan = self._to_stan(u)
        if u_stan is None:
            return -math.inf
        return _on_stan_thread(self._evaluate, u_stan, bool(jacobian), False)[0]

    def value_and_grad(self, u: np.ndarray, jacobian: bool) -> tuple[float, np.ndarray]:
        """Log density and its gradient at ``u`` (``-inf`` and zeros outside the support)."""
        u_stan = self._to_stan(u)
        if u_stan is None:
            return -math.inf, np.zeros(self.dim)
        lp, g = _on_stan_thread(self._evaluate, u_stan, bool(jacobian), True)
        return lp, (np.zeros(self.dim) if g is None else g)


# ---------------------------------------------------------------------------- backend
class PystanBackend(Backend):
    """Stan through pystan 3 (embedded httpstan): optimize (via log densities), Laplace, NUTS.

    Programs come from :meth:`Model.stan_program` and are compiled once per machine into
    the pystats cache (see the module docstring for what pystats adds to pystan).

    Examples
    --------
    >>> from pystats.backends import PystanBackend
    >>> PystanBackend.name, sorted(PystanBackend.capabilities)
    ('pystan', ['laplace', 'optimize', 'sample'])
    >>> program = PystanBackend().program("gr_binned.stan")  # read and hashed, not compiled
    >>> program.engine, len(program.hash)
    ('pystan', 64)

    NUTS runs on it by default (``backend="auto"`` or ``"stan"`` without CmdStan), e.g.
    ``pystats.GutenbergRichter(mc=2.0).fit(m, method="nuts", backend="pystan", seed=1)``;
    the first run compiles the program (~25 s), later runs find it in the cache.
    """

    name: ClassVar[str] = "pystan"
    capabilities: ClassVar[frozenset[str]] = frozenset({"optimize", "laplace", "sample"})

    @classmethod
    def check_available(cls) -> None:
        """Raise :class:`BackendUnavailableError` (chained to the cause) if pystan cannot load."""
        _import_stan()

    # ------------------------------------------------------------------ building
    def program(self, ref: Any) -> StanProgram:
        """Load ``ref`` (see :func:`~pystats.backends.stan_program.load_program`) for pystan."""
        _, httpstan = _import_stan()
        return load_program(ref, engine="pystan", engine_version=httpstan.__version__)

    def build_model(
        self,
        program: Any,
        data: Mapping[str, Any],
        *,
        seed: int | None = None,
        verbose: bool = False,
    ) -> tuple[Any, StanProgram, float]:
        """Compile (or find in the cache) ``program`` and bind ``data``.

        Parameters
        ----------
        program : str, path or StanProgram
            What :func:`~pystats.backends.stan_program.load_program` accepts.
        data : mapping
            Plain Stan data (see :func:`~pystats.backends.stan_program.stan_data`).
        seed : int, optional
            pystan's ``random_seed`` (bound at build time in pystan 3).
        verbose : bool
            Show build messages and stanc warnings.

        Returns
        -------
        model : stan.Model
        program : StanProgram
        compile_seconds : float
            Time spent compiling; 0 when the program was already compiled.

        Raises
        ------
        CompilationError
            If stanc or the C++ compiler fails (the captured output is in the message).
        DataError
            If the data do not fit the program's data block.
        """
        stan, httpstan = _import_stan()
        prog = load_program(program, engine="pystan", engine_version=httpstan.__version__)
        if seed is not None:
            seed = check_seed(seed)
            if seed >= 2**31:  # httpstan's services take a signed 32-bit seed
                raise OptionError(
                    f"seed={seed} is out of range for the pystan engine: its sampler takes "
                    "seeds in [0, 2**31 - 1] (CmdStan takes [0, 2**32 - 1])"
                )
        dkey = data_hash(data)
        key = (prog.hash, dkey, seed)
        with _STATE_LOCK:
            built = _MODELS.get(key)
            if built is None:  # same program and data, other seed: no rebuild needed
                for (h, d, _), other in _MODELS.items():
                    if h == prog.hash and d == dkey:
                        built = _Built(replace(other.model, random_seed=seed), prog, 0.0,
                                       other.module, other.stan_index)
                        _MODELS[key] = built
                        break
            if built is not None:
                _MODELS.move_to_end(key)
                return built.model, prog, 0.0

        with file_lock(prog.hash):
            compiled_before = _module_in_cache(httpstan, prog.code)
            start = time.perf_counter()
            model, error, compiled_now, text = _on_stan_thread(
                _build, stan, httpstan, prog.code, dict(data), seed, not verbose
            )
            seconds = 0.0 if compiled_before else time.perf_counter() - start
        if error is not None:
            if isinstance(error, RuntimeError) and compiled_now:
                raise DataError(
                    f"the data do not fit the data block of Stan program {prog.name} "
                    f"({prog.origin}): {error}"
                ) from error
            hint = ""
            if not isinstance(error, ValueError):
                hint = " (is a C++ compiler installed? pystan needs g++ or clang++ to build)"
            raise CompilationError(
                f"Stan program {prog.name} ({prog.origin}) failed to build{hint}: "
                f"{type(error).__name__}: {error}\n{_tail(text)}"
            ) from error
        if model is None:  # pystan returns None when interrupted
            raise KeyboardInterrupt
        if not verbose and text.strip():
            log.debug("pystan build output for %s:\n%s", prog.name, text)
        with _STATE_LOCK:
            _MODELS[key] = _Built(model, prog, seconds)
            while len(_MODELS) > _MAX_MODELS:
                _MODELS.popitem(last=False)
        return model, prog, seconds

    def _built(
        self, model: Model, data: PreparedData, include_prior: bool, seed: int | None,
        verbose: bool,
    ) -> tuple[_Built, ParameterSet, dict[str, Any]]:
        ref = model.stan_program()
        if ref is None:
            raise MethodNotSupportedError(
                f"{type(model).__name__} has no Stan program; use backend='torch'"
            )
        sdata = stan_data(model, data, include_prior)
        _, prog, seconds = self.build_model(ref, sdata, seed=seed, verbose=verbose)
        with _STATE_LOCK:
            built = _MODELS[(prog.hash, data_hash(sdata), seed)]
        params = model.parameters(data)
        pystan_version, httpstan_version = _versions()
        info = {
            "engine": "pystan",
            "engine_version": pystan_version,
            "httpstan_version": httpstan_version,
            "stan_program": prog.name,
            "stan_program_hash": prog.source_hash,
            "compile_seconds": seconds,
        }
        return built, params, info

    def compile(
        self, model: Model, data: PreparedData, *, include_prior: bool, verbose: bool = False
    ) -> float:
        """Compile the model's Stan program into the cache (see :meth:`Backend.compile`)."""
        return float(self._built(model, data, include_prior, None, verbose)[2]["compile_seconds"])

    @staticmethod
    def _services_module(built: _Built) -> Any:
        """httpstan's compiled module for the program (``None`` if it cannot be loaded)."""
        if built.module is None:
            try:
                import httpstan.models

                module = _on_stan_thread(
                    httpstan.models.import_services_extension_module, built.model.model_name
                )
                for fn in ("log_prob", "log_prob_grad", "write_array"):
                    getattr(module, fn)
            except Exception as e:  # internal API changed: use the public one
                log.debug("httpstan services module unavailable (%s); using stan.Model", e)
                return None
            built.module = module
        return built.module

    @staticmethod
    def _stan_index(built: _Built, params: ParameterSet, module: Any) -> np.ndarray:
        """Permutation pystats order -> Stan order, read off Stan's ``write_array``."""
        key = tuple((p.name, p.lower, p.upper, p.shape) for p in params)
        if key in built.stan_index:
            return built.stan_index[key]
        model = built.model
        n = params.dim
        names = list(model.param_names[: len(params)])
        dims = [tuple(d) for d in model.dims[: len(params)]]
        if names != params.names or dims != [p.shape for p in params]:
            declared = list(zip(model.param_names, map(tuple, model.dims), strict=True))
            raise BackendError(
                f"the Stan program {built.program.name} declares parameters {declared} "
                f"(then transformed parameters and generated quantities); the model's "
                f"parameters() are {[(p.name, p.shape) for p in params]}: they must come "
                "first, in this order"
            )
        grid = np.linspace(-1.5, 1.5, n) if n > 1 else np.full(n, 0.5)
        try:
            if module is not None:
                x = _on_stan_thread(module.write_array, model.data, grid.tolist(), False, False)
            else:
                with _quiet_loggers(True, "httpstan"):
                    x = _on_stan_thread(model.constrain_pars, grid.tolist(), False, False)
        except Exception as e:
            raise BackendError(
                f"Stan program {built.program.name} has a different number of unconstrained "
                f"parameters than the model's parameters() ({n}): {e}"
            ) from e
        x = np.asarray(x, dtype=float)
        pieces, start = [], 0
        try:
            for p in params:
                xp = x[start : start + p.size].reshape(p.shape, order="F")
                pieces.append(np.ravel(p.unconstrain(xp)))
                start += p.size
            u = np.concatenate(pieces) if pieces else np.zeros(0)
        except OptionError as e:
            u, bad = None, e
        else:
            bad = None
        if u is not None and n > 1:
            index = np.rint((u - grid[0]) / (grid[1] - grid[0])).astype(np.intp)
            ok = (
                index.min() >= 0 and index.max() < n and len(set(index.tolist())) == n
                and np.allclose(grid[np.clip(index, 0, n - 1)], u, atol=1e-6)
            )
        else:
            index = np.zeros(n, dtype=np.intp)
            ok = u is not None and np.allclose(u, grid, atol=1e-6)
        if not ok:
            raise BackendError(
                f"the bounds of the parameters in Stan program {built.program.name} do not "
                f"match the model's parameters() "
                f"{[(p.name, p.lower, p.upper) for p in params]}"
                + (f": {bad}" if bad is not None else "")
            )
        built.stan_index[key] = index
        return index

    # ------------------------------------------------------------------ engine API
    def log_density(
        self,
        model: Model,
        data: PreparedData,
        *,
        include_prior: bool,
        device: str = "cpu",
        verbose: bool = False,
    ) -> PystanLogDensity:
        """The model's log density on the pystats unconstrained vector.

        Parameters
        ----------
        model : Model
            A family with a Stan program.
        data : PreparedData
        include_prior : bool
            ``False`` sets the program's ``include_prior`` to 0 (likelihood only).
        device : str
            Ignored: Stan runs on the CPU.
        verbose : bool
            Show build output.

        Returns
        -------
        PystanLogDensity
            With an ``info`` dict (engine, versions, program, hash, compile seconds).
        """
        built, params, info = self._built(model, data, include_prior, None, verbose)
        module = self._services_module(built)
        index = self._stan_index(built, params, module)
        return PystanLogDensity(built.model, params, index, module=module, info=info)

    def sample(
        self,
        model: Model,
        data: PreparedData,
        *,
        chains: int,
        draws: int,
        warmup: int,
        seed: int,
        inits: list[dict[str, np.ndarray]] | None = None,
        max_tree_depth: int = 10,
        adapt_delta: float = 0.8,
        verbose: bool = False,
        progress: bool = False,
    ) -> SampleResult:
        """Draw from the posterior with Stan's NUTS (``hmc_nuts_diag_e_adapt``).

        Parameters
        ----------
        model, data
            The family and its prepared data (priors included).
        chains, draws, warmup : int
            Number of chains, post-warmup draws per chain, warmup iterations per chain.
        seed : int
            Random seed in ``[0, 2**32 - 1]``; the same seed gives identical draws.
        inits : list of dict, optional
            One dict per chain of initial values on the parameter scale (a subset of the
            parameters may be given; Stan draws the others).
        max_tree_depth : int
            NUTS tree-depth limit (Stan's ``max_depth``).
        adapt_delta : float
            Target acceptance rate of step-size adaptation (Stan's ``delta``).
        verbose : bool
            Show build and sampler messages.
        progress : bool
            Show sampling progress.

        Returns
        -------
        SampleResult
            Draws ``(chain, draw, *shape)`` for every parameter, transformed parameter and
            generated quantity; sample statistics with arviz names.

        Raises
        ------
        FitError
            If Stan cannot find a finite starting point.
        BackendError
            If the sampler fails otherwise (Stan's messages are in the text).
        """
        chains = _check_positive_int("chains", chains, 1)
        draws = _check_positive_int("draws", draws, 1)
        warmup = _check_positive_int("warmup", warmup, 0)
        max_tree_depth = _check_positive_int("max_tree_depth", max_tree_depth, 1)
        if not 0 < adapt_delta < 1:
            raise OptionError(
                f"adapt_delta={adapt_delta!r} is not allowed; use 0 < adapt_delta < 1"
            )
        seed = check_seed(seed)
        built, params, info = self._built(model, data, True, seed, verbose)
        kwargs: dict[str, Any] = {
            "num_chains": chains,
            "num_samples": draws,
            "num_warmup": warmup,
            "max_depth": max_tree_depth,
            "delta": float(adapt_delta),
        }
        plain_inits = check_inits(inits, params, chains)
        if plain_inits is not None:
            kwargs["init"] = plain_inits
        start = time.perf_counter()
        fit, error, text = _on_stan_thread(
            _sample, built.model, kwargs, not verbose, not (verbose or progress)
        )
        seconds = time.perf_counter() - start
        if error is not None:
            if "Initialization failed" in str(error):
                raise FitError(
                    f"Stan found no finite starting point for {type(model).__name__} "
                    f"(program {built.program.name}); give inits inside the support or check "
                    f"the data.\n{_tail(text)}"
                ) from error
            raise BackendError(
                f"pystan sampling failed for program {built.program.name}: {error}\n"
                f"{_tail(text)}"
            ) from error
        if fit is None:  # pystan swallows KeyboardInterrupt and returns None
            raise KeyboardInterrupt
        draws_out, stats = draws_from_fit(fit, chains, draws)
        info = {**info, "sample_seconds": seconds}
        messages = _sampler_messages(text)
        if messages:
            info["engine_messages"] = messages
        return SampleResult(
            draws=draws_out, sample_stats=stats, max_tree_depth=max_tree_depth, info=info
        )


def draws_from_fit(fit: Any, chains: int, draws: int) -> tuple[dict[str, np.ndarray], dict]:
    """Convert a ``stan.fit.Fit`` to ``(chain, draw, *shape)`` arrays and arviz sample stats.

    ``fit[name]`` has shape ``(*shape, draws * chains)`` with the chains interleaved
    (index ``draw * chains + chain``) and array elements in their natural positions.
    """
    out = {}
    for name, dims in zip(fit.param_names, fit.dims, strict=True):
        arr = np.asarray(fit[name], dtype=float).reshape(*dims, draws, chains)
        out[name] = np.ascontiguousarray(np.moveaxis(arr, [-1, -2], [0, 1]))
    columns = {
        k: np.asarray(fit[k], dtype=float).reshape(draws, chains).T
        for k in STAN_SAMPLE_STATS
        if k in fit.sample_and_sampler_param_names
    }
    return out, sample_stats_from(columns)
