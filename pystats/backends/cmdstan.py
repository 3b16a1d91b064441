"""The ``cmdstanpy`` engine: Stan through CmdStan and cmdstanpy.

Used when a CmdStan installation is found (``$CMDSTAN`` or cmdstanpy's configured path);
``backend="stan"`` then prefers it to pystan.

Compilation.  cmdstanpy writes the executable next to the ``.stan`` file and decides
whether to recompile by file modification times only (cmdstanpy issues #157, #494, #628).
pystats instead compiles into ``cache_dir()/cmdstan/<hash>/`` where ``<hash>`` is
:attr:`~pystats.backends.stan_program.StanProgram.hash` (program text with includes, CmdStan
version and path, compiler options): the program is written into a temporary folder
``cache_dir()/cmdstan/tmp-<hash>-*``, compiled there, and the folder is renamed to its final
name (an atomic step), all under :func:`~pystats.backends.stan_cache.file_lock`; temporary
folders left by a killed compile are removed by the next compile of that program.  Nothing
is written next to the package sources or in the working directory.

Log density.  ``CmdStanModel.log_prob(params, data, jacobian=..., sig_figs=...)`` runs the
executable's ``log_prob`` method once per call (cmdstanpy >= 1.2).  Its documentation says
the parameters are given **on the constrained scale** and the returned frame holds ``lp__``
followed by the gradient **with respect to the unconstrained parameters**, in Stan's
unconstrained order; ``jacobian`` switches the log-Jacobian of the constraining transform
in both.  cmdstanpy's own docstring warns that this is not an efficient way to evaluate
the density (one process start per call): prefer the torch or pystan engines for
optimisation; this engine's log density exists so every method runs on every engine.
pystats converts ``u`` with :meth:`ParameterSet.constrain`, asks for 18 significant
figures (CmdStan's default of 6 would ruin finite-difference Hessians) and permutes the
gradient from Stan's order with :func:`~pystats.backends.stan_program.stan_order`.  A point
whose constrained value rounds onto a bound is outside Stan's open support and gives
``-inf``.

References
----------
Stan Development Team (2024). CmdStan User's Guide, "Extracting log probabilities and
gradients for diagnostics" (method ``log_prob``). https://mc-stan.org/docs/cmdstan-guide/
cmdstanpy documentation, ``CmdStanModel.log_prob`` and ``CmdStanModel.sample``.
https://mc-stan.org/cmdstanpy/
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _checks
from ..errors import (
    BackendError,
    BackendUnavailableError,
    CompilationError,
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
    finite_or_minus_inf,
    load_program,
    parameter_layout,
    sample_stats_from,
    stan_data,
    stan_order,
)

if TYPE_CHECKING:
    from ..model import Model, PreparedData
    from ..parameters import ParameterSet

__all__ = ["CmdStanBackend", "CmdStanLogDensity", "cmdstan_path_or_none"]

log = logging.getLogger("pystats")

_EXE_SUFFIX = ".exe" if sys.platform.startswith("win") else ""
SIG_FIGS = 18
"""Significant figures of every CmdStan output pystats reads (CmdStan's default is 6, which
loses draws' precision and ruins finite-difference Hessians; 18 is CmdStan's maximum)."""
_STATE_LOCK = threading.Lock()
_MODELS: dict[str, tuple[Any, float]] = {}


def cmdstan_status() -> tuple[str | None, str]:
    """Whether the cmdstanpy engine can run here: ``(path, "")`` or ``(None, reason)``.

    The one rule behind :meth:`CmdStanBackend.check_available`, ``available_backends()``,
    ``backend="stan"``/``"auto"`` and the ``cmdstan`` test marker: the engine is usable when
    cmdstanpy >= 1.2 imports and CmdStan is found, at ``$CMDSTAN`` when that is set (it
    must be a CmdStan folder, with its ``makefile``), else where cmdstanpy looks
    (``~/.cmdstan``).  Never raises.

    Returns
    -------
    path : str or None
        The CmdStan folder.
    reason : str
        Why the engine cannot be used ("" when it can).
    """
    try:
        _, path = _import_cmdstanpy()
    except BackendUnavailableError as e:
        return None, str(e)
    except Exception as e:  # pragma: no cover - cmdstanpy misbehaving
        return None, f"{type(e).__name__}: {e}"
    return path, ""


def cmdstan_path_or_none() -> str | None:
    """The CmdStan installation the cmdstanpy engine would use, or ``None``; never raises.

    See :func:`cmdstan_status` for the rule.

    Returns
    -------
    str or None
    """
    return cmdstan_status()[0]


@contextlib.contextmanager
def _quiet_cmdstanpy(enabled: bool) -> Iterator[None]:
    """Silence cmdstanpy's logger (it logs every chain start/stop at INFO level)."""
    if not enabled:
        yield
        return
    logger = logging.getLogger("cmdstanpy")
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


def _import_cmdstanpy() -> tuple[Any, str]:
    """Import cmdstanpy and find CmdStan, or raise BackendUnavailableError with the cause."""
    try:
        import cmdstanpy
    except Exception as e:
        raise BackendUnavailableError(
            "the cmdstanpy engine needs the cmdstanpy package (pip install 'pystats[cmdstan]') "
            f"and a CmdStan installation; cause: {type(e).__name__}: {e}"
        ) from e
    if "jacobian" not in inspect.signature(cmdstanpy.CmdStanModel.log_prob).parameters:
        cause = ImportError(
            f"cmdstanpy {getattr(cmdstanpy, '__version__', '?')} has no "
            "CmdStanModel.log_prob(jacobian=...)"
        )
        raise BackendUnavailableError(
            "the cmdstanpy engine needs cmdstanpy >= 1.2 (pip install 'cmdstanpy>=1.2')"
        ) from cause
    env = os.environ.get("CMDSTAN")
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            cause: Exception = FileNotFoundError(f"CMDSTAN={env!r} is not a folder")
            raise BackendUnavailableError(
                f"CMDSTAN={env!r} does not exist; set CMDSTAN to a CmdStan installation "
                "folder or unset it"
            ) from cause
        if not (folder / "makefile").is_file():
            cause = FileNotFoundError(f"no makefile in {str(folder)!r}")
            raise BackendUnavailableError(
                f"CMDSTAN={env!r} is not a CmdStan installation (it has no makefile); set "
                "CMDSTAN to a CmdStan installation folder or unset it"
            ) from cause
    try:
        with _quiet_cmdstanpy(True):
            path = str(cmdstanpy.cmdstan_path())
    except Exception as e:
        raise BackendUnavailableError(
            "no CmdStan installation found: install one with cmdstanpy.install_cmdstan() "
            f"and/or set CMDSTAN to its folder; cause: {e}"
        ) from e
    return cmdstanpy, path


def _cmdstan_version(cmdstanpy: Any, path: str) -> str:
    try:
        from cmdstanpy.utils import cmdstan_version

        with _quiet_cmdstanpy(True):
            v = cmdstan_version()
        if v:
            return ".".join(str(x) for x in v)
    except Exception:
        pass
    match = re.search(r"(\d+\.\d+(\.\d+)?)", Path(path).name)
    return match.group(1) if match else "unknown"


def _cmdstanpy_version() -> str:
    try:
        return version("cmdstanpy")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _safe_stem(name: str) -> str:
    stem = re.sub(r"\W", "_", Path(name).stem) or "model"
    return stem if not stem[0].isdigit() else f"m_{stem}"


# ---------------------------------------------------------------------------- log density
class CmdStanLogDensity(LogDensity):
    """Log density through ``CmdStanModel.log_prob`` on the pystats unconstrained vector.

    Parameters
    ----------
    cmdstan_model : cmdstanpy.CmdStanModel
        Compiled model (anything with cmdstanpy's ``log_prob`` signature).
    params : ParameterSet
    data : dict
        Plain Stan data (with ``include_prior``).
    stan_index : ndarray of int
        ``grad = grad_stan[stan_index]`` (see :func:`~pystats.backends.stan_program.stan_order`).
    info : dict, optional
        Engine provenance.
    verbose : bool
        Let cmdstanpy log.

    Examples
    --------
    Any object with cmdstanpy's ``log_prob`` signature works; here a standard normal stands in
    for a compiled program:

    >>> import numpy as np, pandas as pd
    >>> from pystats.backends.cmdstan import CmdStanLogDensity
    >>> from pystats.parameters import Parameter, ParameterSet
    >>> class StandardNormal:
    ...     def log_prob(self, params, data, jacobian, sig_figs):
    ...         x = params["x"]
    ...         return pd.DataFrame({"lp__": [-0.5 * x * x], "x": [-x]})
    >>> density = CmdStanLogDensity(StandardNormal(), ParameterSet([Parameter("x")]), {}, [0])
    >>> lp, grad = density.value_and_grad(np.array([2.0]), jacobian=False)
    >>> lp, grad.tolist()
    (-2.0, [-2.0])
    """

    def __init__(
        self,
        cmdstan_model: Any,
        params: ParameterSet,
        data: Mapping[str, Any],
        stan_index: np.ndarray,
        info: Mapping[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        self.cmdstan_model = cmdstan_model
        self.params = params
        self.data = dict(data)
        self.dim = params.dim
        self.stan_index = np.asarray(stan_index, dtype=np.intp)
        self.info = dict(info or {})
        self.verbose = verbose

    def value_and_grad(self, u: np.ndarray, jacobian: bool) -> tuple[float, np.ndarray]:
        """Log density and gradient at ``u``; ``-inf`` and zeros where Stan rejects."""
        u = np.asarray(u, dtype=float)
        if u.shape != (self.dim,):
            raise OptionError(
                f"u has shape {u.shape}; the unconstrained vector has shape ({self.dim},)"
            )
        zeros = np.zeros(self.dim)
        if not np.all(np.isfinite(u)):
            return -math.inf, zeros
        values = {}
        for p, x in zip(self.params, self.params.constrain(u).values(), strict=True):
            x = np.asarray(x, dtype=float)
            if not (np.all(x > p.lower) and np.all(x < p.upper)):  # rounded onto a bound
                return -math.inf, zeros
            values[p.name] = x.tolist() if p.shape else float(x)
        try:
            with _quiet_cmdstanpy(not self.verbose):
                frame = self.cmdstan_model.log_prob(
                    params=values, data=self.data, jacobian=bool(jacobian), sig_figs=SIG_FIGS
                )
        except RuntimeError as e:  # CmdStan exits non-zero when the program rejects
            log.debug("CmdStan log_prob rejected the point: %s", e)
            return -math.inf, zeros
        columns = list(frame.columns)
        lp_col = "lp__" if "lp__" in columns else columns[0]
        row = frame.iloc[0]
        grad_stan = np.asarray([row[c] for c in columns if c != lp_col], dtype=float)
        if grad_stan.shape != (self.dim,):
            raise BackendError(
                f"CmdStan log_prob returned {grad_stan.size} gradient columns for "
                f"{self.dim} unconstrained parameters"
            )
        lp = finite_or_minus_inf(row[lp_col])
        if lp == -math.inf:
            return lp, zeros
        return lp, grad_stan[self.stan_index]

    # ------------------------------------------------------------------ many points at once
    def values(self, us: np.ndarray, jacobian: bool) -> np.ndarray:
        """Log density at every row of ``us`` with one run of the executable.

        CmdStan's ``log_prob`` method evaluates every row of an ``unconstrained_params``
        file in one process (CmdStan User's Guide, "Extracting log probabilities and
        gradients"), where :meth:`value` pays a process start per point (the Laplace
        approximation's Pareto-k evaluates 1 000 draws).  Rows where Stan rejects make
        CmdStan fail for the whole file, so a failed run is split in halves until the
        rejecting rows are alone (``-inf``).

        CmdStan before the fix of stan-dev/cmdstan#1336 reads a two-dimensional
        ``params_r`` in the wrong order (column-major values split row by row).  pystats
        writes the file in the order the executable's version reads correctly, checks one
        finite row against :meth:`value` (the constrained-scale path of
        ``CmdStanModel.log_prob``) and, on a mismatch, uses the other order; if neither
        agrees it falls back to one call per row.  The order found is remembered per
        executable.
        """
        us = np.asarray(us, dtype=float)
        if us.ndim != 2 or us.shape[1] != self.dim:
            raise OptionError(f"us has shape {us.shape}; expected (n, {self.dim})")
        out = np.full(us.shape[0], -math.inf)
        ok = np.all(np.isfinite(us), axis=1)
        if not ok.any():
            return out
        u_stan = np.empty((int(ok.sum()), self.dim))
        u_stan[:, self.stan_index] = us[ok]
        exe = str(self.cmdstan_model.exe_file)
        rows = np.flatnonzero(ok)
        known = _UPARS_ORDER.get(exe)
        if known is not None:
            out[rows] = self._batch(u_stan, bool(jacobian), known)
            return out
        for order in _order_guesses(self.info.get("cmdstan_version", "")):
            lp = self._batch(u_stan, bool(jacobian), order)
            verdict = self._agrees(lp, us[rows], bool(jacobian))
            if verdict:
                _UPARS_ORDER[exe] = order
                out[rows] = lp
                return out
            if verdict is None:
                break  # nothing to check the order against
            log.debug("CmdStan read the %s-ordered params_r differently; trying the other", order)
        log.debug("CmdStan batch log_prob could not be checked; evaluating row by row")
        return super().values(us, jacobian)

    def _agrees(self, lp: np.ndarray, us: np.ndarray, jacobian: bool) -> bool | None:
        """Whether the batch values agree with :meth:`value` on a finite row (``None``: no
        row could be checked)."""
        for k in np.flatnonzero(np.isfinite(lp))[:3]:
            expected = self.value(us[k], jacobian)
            if math.isfinite(expected):
                return bool(abs(lp[k] - expected) <= 1e-6 * max(1.0, abs(expected)))
        return None

    def _batch(self, u_stan: np.ndarray, jacobian: bool, order: str) -> np.ndarray:
        """``lp`` of each row of ``u_stan`` (Stan order); rows where Stan rejects are -inf."""
        lp = self._run_log_prob(u_stan, jacobian, order)
        if lp is not None:
            return lp
        if u_stan.shape[0] == 1:
            return np.array([-math.inf])
        half = u_stan.shape[0] // 2
        return np.concatenate([
            self._batch(u_stan[:half], jacobian, order),
            self._batch(u_stan[half:], jacobian, order),
        ])

    def _run_log_prob(self, u_stan: np.ndarray, jacobian: bool, order: str) -> np.ndarray | None:
        """One run of ``<exe> log_prob unconstrained_params=...``; ``None`` if it fails."""
        import cmdstanpy
        import pandas as pd

        matrix = u_stan if order == "rows" else u_stan.ravel().reshape(u_stan.shape, order="F")
        with tempfile.TemporaryDirectory(prefix="pystats-log-prob-") as tmp:
            upars, data, output = (Path(tmp) / n for n in ("upars.json", "data.json", "lp.csv"))
            cmdstanpy.write_stan_json(str(upars), {"params_r": matrix})
            cmdstanpy.write_stan_json(str(data), self.data)
            cmd = [
                str(self.cmdstan_model.exe_file), "log_prob",
                f"unconstrained_params={upars}", f"jacobian={int(jacobian)}",
                "data", f"file={data}",
                "output", f"file={output}", f"sig_figs={SIG_FIGS}",
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
            if done.returncode != 0 or not output.is_file():
                log.debug("CmdStan log_prob failed (%s rows): %s", u_stan.shape[0],
                          done.stdout[-2000:] + done.stderr[-2000:])
                return None
            frame = pd.read_csv(output, comment="#")
        if frame.shape != (u_stan.shape[0], self.dim + 1):
            log.debug("CmdStan log_prob wrote a %s table for %s rows", frame.shape, u_stan.shape)
            return None
        lp = frame.iloc[:, 0].to_numpy(dtype=float)
        return np.where(np.isnan(lp), -math.inf, lp)


_UPARS_ORDER: dict[str, str] = {}
"""Executable -> the ``params_r`` order it reads correctly ("rows" or "columns")."""


def _order_guesses(cmdstan_version: str) -> list[str]:
    """Orders of a 2-d ``params_r`` to try, the likelier first: CmdStan up to 2.37 splits
    the column-major values row by row (stan-dev/cmdstan#1336, fixed in January 2026)."""
    match = re.match(r"(\d+)\.(\d+)", cmdstan_version)
    fixed = match is not None and (int(match.group(1)), int(match.group(2))) >= (2, 38)
    return ["rows", "columns"] if fixed else ["columns", "rows"]


# ---------------------------------------------------------------------------- backend
class CmdStanBackend(Backend):
    """Stan through CmdStan / cmdstanpy: optimize (via log densities), Laplace, NUTS.

    Parameters
    ----------
    stanc_options, cpp_options : dict, optional
        Passed to :class:`cmdstanpy.CmdStanModel`; part of the compile-cache key.

    Examples
    --------
    Used by ``backend="stan"`` (and ``"auto"`` for NUTS) when a CmdStan install is found, e.g.
    with ``CMDSTAN`` set; compiler options are part of the compile-cache key:

    >>> from pystats.backends import CmdStanBackend
    >>> backend = CmdStanBackend(cpp_options={"STAN_THREADS": True})
    >>> backend.name, sorted(backend.capabilities), backend.cpp_options
    ('cmdstanpy', ['laplace', 'optimize', 'sample'], {'STAN_THREADS': True})
    """

    name: ClassVar[str] = "cmdstanpy"
    capabilities: ClassVar[frozenset[str]] = frozenset({"optimize", "laplace", "sample"})

    def __init__(
        self,
        stanc_options: Mapping[str, Any] | None = None,
        cpp_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.stanc_options = dict(stanc_options or {})
        self.cpp_options = dict(cpp_options or {})

    @classmethod
    def check_available(cls) -> None:
        """Raise :class:`BackendUnavailableError` (chained to its cause) without CmdStan."""
        _import_cmdstanpy()

    # ------------------------------------------------------------------ compiling
    def program(self, ref: Any) -> StanProgram:
        """Load ``ref`` keyed for this CmdStan installation and these compiler options."""
        cmdstanpy, path = _import_cmdstanpy()
        return load_program(
            ref,
            engine="cmdstan",
            engine_version=f"{_cmdstan_version(cmdstanpy, path)}@{os.path.realpath(path)}",
            compiler_options={"stanc": self.stanc_options, "cpp": self.cpp_options},
        )

    def compiled_model(
        self, program: Any, *, verbose: bool = False
    ) -> tuple[Any, StanProgram, float]:
        """Compile ``program`` into the cache (or find it there).

        Returns
        -------
        model : cmdstanpy.CmdStanModel
        program : StanProgram
        compile_seconds : float
            0 when the executable was already in the cache.

        Raises
        ------
        CompilationError
            If stanc or the C++ toolchain fails (their output is in the message).
        """
        cmdstanpy, _ = _import_cmdstanpy()
        prog = self.program(program)
        with _STATE_LOCK:
            if prog.hash in _MODELS:
                return _MODELS[prog.hash][0], prog, 0.0
        root = cache_dir() / "cmdstan"
        root.mkdir(parents=True, exist_ok=True)
        final = root / prog.hash
        stem = _safe_stem(prog.name)
        exe = final / f"{stem}{_EXE_SUFFIX}"
        seconds = 0.0
        if not exe.is_file():
            with file_lock(prog.hash):
                if not exe.is_file():  # nobody compiled it while we waited
                    seconds = self._compile(cmdstanpy, prog, root, final, stem, verbose)
        with _quiet_cmdstanpy(not verbose):
            model = cmdstanpy.CmdStanModel(exe_file=str(exe))
        with _STATE_LOCK:
            _MODELS[prog.hash] = (model, seconds)
        return model, prog, seconds

    def _compile(
        self, cmdstanpy: Any, prog: StanProgram, root: Path, final: Path, stem: str, verbose: bool
    ) -> float:
        for stale in root.glob(f"tmp-{prog.hash}-*"):  # left by a killed compile (we hold
            shutil.rmtree(stale, ignore_errors=True)  # this program's lock)
        tmp = Path(tempfile.mkdtemp(prefix=f"tmp-{prog.hash}-", dir=root))
        try:
            stan_file = tmp / f"{stem}.stan"
            stan_file.write_text(prog.code, encoding="utf-8")
            start = time.perf_counter()
            try:
                with _quiet_cmdstanpy(not verbose):
                    cmdstanpy.CmdStanModel(
                        stan_file=str(stan_file),
                        stanc_options=self.stanc_options or None,
                        cpp_options=self.cpp_options or None,
                    )
            except Exception as e:
                raise CompilationError(
                    f"Stan program {prog.name} ({prog.origin}) failed to compile with CmdStan: "
                    f"{e}"
                ) from e
            seconds = time.perf_counter() - start
            if not (tmp / f"{stem}{_EXE_SUFFIX}").is_file():
                raise CompilationError(
                    f"CmdStan reported success for {prog.name} but wrote no executable in {tmp}"
                )
            if final.exists():  # a stale, incomplete entry (renames are atomic): replace it
                shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            return seconds
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def compile(
        self, model: Model, data: PreparedData, *, include_prior: bool, verbose: bool = False
    ) -> float:
        """Compile the model's Stan program into the cache (see :meth:`Backend.compile`)."""
        return float(self._setup(model, data, include_prior, verbose)[2])

    def _setup(
        self, model: Model, data: PreparedData, include_prior: bool, verbose: bool
    ) -> tuple[Any, StanProgram, float, ParameterSet, dict[str, Any], dict[str, Any]]:
        ref = model.stan_program()
        if ref is None:
            raise MethodNotSupportedError(
                f"{type(model).__name__} has no Stan program; use backend='torch'"
            )
        cmdstanpy, path = _import_cmdstanpy()
        cm, prog, seconds = self.compiled_model(ref, verbose=verbose)
        params = model.parameters(data)
        info = {
            "engine": "cmdstanpy",
            "engine_version": _cmdstanpy_version(),
            "cmdstan_version": _cmdstan_version(cmdstanpy, path),
            "stan_program": prog.name,
            "stan_program_hash": prog.source_hash,
            "compile_seconds": seconds,
        }
        return cm, prog, seconds, params, stan_data(model, data, include_prior), info

    # ------------------------------------------------------------------ engine API
    def log_density(
        self,
        model: Model,
        data: PreparedData,
        *,
        include_prior: bool,
        device: str = "cpu",
        verbose: bool = False,
    ) -> CmdStanLogDensity:
        """The model's log density through ``CmdStanModel.log_prob`` (slow: one process a call).

        ``device`` is ignored (CmdStan runs on the CPU).
        """
        cm, prog, _, params, sdata, info = self._setup(model, data, include_prior, verbose)
        index = stan_order(params, parameter_layout(prog.code))
        return CmdStanLogDensity(cm, params, sdata, index, info=info, verbose=verbose)

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
        """NUTS through ``CmdStanModel.sample``; see :meth:`PystanBackend.sample` for arguments."""
        for name, value, low in (("chains", chains, 1), ("draws", draws, 1),
                                 ("warmup", warmup, 0), ("max_tree_depth", max_tree_depth, 1)):
            _checks.integer(name, value, low)
        _checks.probability("adapt_delta", adapt_delta)
        seed = check_seed(seed)
        cm, prog, _, params, sdata, info = self._setup(model, data, True, verbose)
        plain_inits = check_inits(inits, params, chains)
        start = time.perf_counter()
        with (
            tempfile.TemporaryDirectory(prefix="pystats-cmdstan-") as out,
            _quiet_cmdstanpy(not verbose),
        ):
            try:
                fit = cm.sample(
                    data=sdata,
                    chains=int(chains),
                    iter_sampling=int(draws),
                    iter_warmup=int(warmup),
                    adapt_engaged=warmup > 0,
                    seed=seed,
                    inits=plain_inits,
                    max_treedepth=int(max_tree_depth),
                    adapt_delta=float(adapt_delta),
                    show_progress=bool(progress),
                    show_console=bool(verbose),
                    output_dir=out,
                    sig_figs=SIG_FIGS,
                )
            except RuntimeError as e:
                if "nitializ" in str(e):
                    raise FitError(
                        f"Stan found no finite starting point for {type(model).__name__} "
                        f"(program {prog.name}): {e}"
                    ) from e
                raise BackendError(f"CmdStan sampling failed for {prog.name}: {e}") from e
            result = mcmc_to_sample_result(fit, int(chains), int(draws))  # read before cleanup
        result.max_tree_depth = int(max_tree_depth)
        result.info = {**info, "sample_seconds": time.perf_counter() - start}
        return result


def _chain_draw(arr: Any, chains: int, draws: int, name: str) -> np.ndarray:
    """A sampler column from cmdstanpy (``(draws, chains)`` or flat) as ``(chain, draw)``."""
    a = np.asarray(arr, dtype=float)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.shape == (draws, chains):
        return a.T.copy()
    if a.shape == (chains * draws,):
        return a.reshape(chains, draws)
    raise BackendError(
        f"unexpected shape {a.shape} of cmdstanpy sampler column {name!r} "
        f"({chains} chains x {draws} draws)"
    )


def mcmc_to_sample_result(fit: Any, chains: int, draws: int) -> SampleResult:
    """Convert a ``cmdstanpy.CmdStanMCMC`` to a :class:`SampleResult`.

    ``fit.stan_variables()`` concatenates the chains (chain 1's draws first) along the first
    axis with array elements in their natural positions; ``fit.method_variables()`` gives
    ``(draws, chains)`` arrays.
    """
    out = {}
    for name, value in fit.stan_variables().items():
        a = np.asarray(value, dtype=float)
        if a.shape[:1] != (chains * draws,):
            raise BackendError(
                f"unexpected shape {a.shape} of cmdstanpy variable {name!r} "
                f"({chains} chains x {draws} draws)"
            )
        out[name] = np.ascontiguousarray(a.reshape(chains, draws, *a.shape[1:]))
    method = fit.method_variables()
    columns = {
        k: _chain_draw(method[k], chains, draws, k) for k in STAN_SAMPLE_STATS if k in method
    }
    return SampleResult(draws=out, sample_stats=sample_stats_from(columns))
