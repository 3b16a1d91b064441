"""The Stan compile cache: where compiled programs live and the locks that guard them.

Both Stan engines (:mod:`pystats.backends.pystan` and :mod:`pystats.backends.cmdstan`)
keep compiled programs under :func:`cache_dir` and serialise compilation with
:func:`file_lock`, so that

* a program is compiled once per machine, not once per process, and never next to the
  package sources or in the user's working directory (cmdstanpy issues #157, #494, #628);
* the cache key (:attr:`~pystats.backends.stan_program.StanProgram.hash`) covers the
  program text *and its includes*, the engine, the engine version and the compiler
  options, so editing an included file or upgrading Stan recompiles;
* two processes compiling the same program at once do not corrupt each other, and the
  cache only ever exposes complete artefacts: each engine builds in a folder of its own
  and renames the result into place under the lock.

Reading programs, Stan data and parameter layouts is :mod:`pystats.backends.stan_program`;
its names are still importable from here for code written against the older layout.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OptionError

if TYPE_CHECKING:
    import filelock

__all__ = ["CACHE_ENV", "cache_dir", "file_lock"]

CACHE_ENV = "PYSTATS_CACHE_DIR"
"""Environment variable that overrides the cache location."""


# ---------------------------------------------------------------------------- cache
def cache_dir() -> Path:
    """The pystats cache folder, created on demand.

    ``$PYSTATS_CACHE_DIR`` when set, else the platform's user cache folder for
    ``pystats`` (``~/.cache/pystats`` on Linux, via :func:`platformdirs.user_cache_dir`).

    Returns
    -------
    pathlib.Path
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        path = Path(env).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_cache_dir("pystats"))
    path.mkdir(parents=True, exist_ok=True)
    return path


_SAFE_KEY = re.compile(r"[^A-Za-z0-9._-]")


def file_lock(key: str, timeout: float = -1) -> filelock.FileLock:
    """An inter-process lock named ``key`` under ``cache_dir()/locks``.

    Use it as a context manager around work that two processes must not do at once,
    e.g. compiling the program whose :attr:`StanProgram.hash` is ``key``.  The lock is
    released when the holder exits, even if it crashes.

    Parameters
    ----------
    key : str
        Lock name; characters other than letters, digits, ``.``, ``_``, ``-`` are replaced.
    timeout : float
        Seconds to wait before raising :class:`filelock.Timeout`; ``-1`` waits forever.

    Returns
    -------
    filelock.FileLock
    """
    import filelock

    if not key:
        raise OptionError("file_lock: key must be a non-empty string")
    locks = cache_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(locks / f"{_SAFE_KEY.sub('_', key)}.lock"), timeout=timeout)


def __getattr__(name: str) -> Any:
    """Names that moved to :mod:`pystats.backends.stan_program` stay importable from here."""
    from . import stan_program

    try:
        return getattr(stan_program, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
