"""Exceptions and warnings raised by pystats.

Every error derives from :class:`PystatsError` and from the builtin exception that
matches its meaning, so ``except ValueError`` keeps working for callers that do not
know pystats.  Every warning derives from :class:`PystatsWarning`, so users can filter
them all at once (``warnings.simplefilter("ignore", pystats.PystatsWarning)``) or
one kind at a time.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "CompilationError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "FitError",
    "FitFileError",
    "MethodNotSupportedError",
    "OffGridWarning",
    "OptionError",
    "PystatsError",
    "PystatsWarning",
]


class PystatsError(Exception):
    """Base class of every error raised by pystats.

    Examples
    --------
    Every pystats error can be caught in one ``except`` clause:

    >>> import pystats
    >>> try:
    ...     pystats.GutenbergRichter(kind="poisson")
    ... except pystats.PystatsError as e:
    ...     print(type(e).__name__)
    OptionError
    """


class DataError(PystatsError, ValueError):
    """The data passed in are unusable: missing columns, NaN, unsorted times, ...

    The message names the field, the offending value(s) or row(s) and what is allowed.

    Examples
    --------
    >>> import numpy as np, pystats
    >>> try:
    ...     pystats.GutenbergRichter(mc=2.0).fit(np.array([2.1, np.nan, 2.5]))
    ... except ValueError as e:  # a DataError is also a ValueError
    ...     print(type(e).__name__)
    DataError
    """


class FitFileError(DataError):
    """A saved fit file cannot be loaded: not a pystats fit, truncated, damaged inside, or
    written by a newer pystats.

    The message names the file and what is wrong with it (the group, attribute or array).

    Examples
    --------
    >>> import os, tempfile, pystats
    >>> path = os.path.join(tempfile.mkdtemp(), "fit.nc")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"not a netCDF file")
    >>> try:
    ...     pystats.load(path)
    ... except pystats.FitFileError as e:
    ...     print(type(e).__name__, isinstance(e, ValueError))
    FitFileError True
    """


class OptionError(PystatsError, ValueError):
    """An option or argument has a value that is not allowed.

    Examples
    --------
    >>> import pystats
    >>> try:
    ...     pystats.GutenbergRichter(b_prior=(1.0, 0.5), colour="red")
    ... except pystats.OptionError as e:
    ...     print(str(e).split(";")[0])
    unknown option(s) 'colour' for GutenbergRichter
    """


class MethodNotSupportedError(PystatsError, NotImplementedError):
    """The model family cannot be fitted with the requested method or backend.

    Examples
    --------
    The torch backend optimises but does not sample:

    >>> import pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(200, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> try:
    ...     pystats.GutenbergRichter(mc=2.0).fit(m, method="nuts", backend="torch")
    ... except pystats.MethodNotSupportedError as e:
    ...     print(e)
    backend 'torch' cannot run method 'nuts'; it supports laplace, optimize
    """


class BackendError(PystatsError, RuntimeError):
    """An inference engine failed.

    Examples
    --------
    Catch any engine failure, whether the engine is missing or a program does not compile:

    >>> import pystats
    >>> issubclass(pystats.BackendUnavailableError, pystats.BackendError)
    True
    >>> issubclass(pystats.CompilationError, pystats.BackendError)
    True
    >>> issubclass(pystats.BackendError, RuntimeError)
    True
    """


class BackendUnavailableError(BackendError):
    """The requested engine cannot be loaded; the cause is chained (``raise ... from e``).

    Examples
    --------
    The error is raised from the real cause, which stays available as ``__cause__``:

    >>> import pystats
    >>> try:
    ...     try:
    ...         import an_engine_that_is_not_installed
    ...     except ImportError as cause:
    ...         raise pystats.BackendUnavailableError("the engine is not installed") from cause
    ... except pystats.BackendError as e:
    ...     print(type(e.__cause__).__name__)
    ModuleNotFoundError
    """


class CompilationError(BackendError):
    """A Stan program failed to compile.

    Examples
    --------
    A program that includes itself is rejected before anything is compiled:

    >>> import pathlib, tempfile, pystats
    >>> from pystats.backends.stan_cache import load_program
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "loop.stan")
    ...     _ = path.write_text("#include loop.stan")
    ...     try:
    ...         load_program(path)
    ...     except pystats.CompilationError as e:
    ...         print(type(e).__name__, isinstance(e, pystats.BackendError))
    CompilationError True
    """


class FitError(PystatsError, RuntimeError):
    """Inference failed outright (no finite starting point, optimizer crashed, ...).

    Examples
    --------
    >>> import pystats
    >>> issubclass(pystats.FitError, RuntimeError)
    True
    >>> try:
    ...     raise pystats.FitError("the log density is not finite at any starting point")
    ... except pystats.PystatsError as e:
    ...     print(e)
    the log density is not finite at any starting point
    """


class PystatsWarning(UserWarning):
    """Base class of every warning issued by pystats.

    Examples
    --------
    Silence (or escalate) every pystats warning at once:

    >>> import warnings, pystats
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", pystats.PystatsWarning)
    ...     warnings.warn("only 12 events in the window", pystats.DataWarning)
    >>> issubclass(pystats.ConvergenceWarning, pystats.PystatsWarning)
    True
    """


class ConvergenceWarning(PystatsWarning):
    """A fit did not converge or its diagnostics flag a problem (R-hat, ESS, divergences, ...).

    Examples
    --------
    Make fits whose diagnostics fail raise instead of warn:

    >>> import warnings, pystats
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", pystats.ConvergenceWarning)
    ...     try:
    ...         warnings.warn("R-hat above 1.01", pystats.ConvergenceWarning)
    ...     except pystats.ConvergenceWarning as w:
    ...         print("fatal:", w)
    fatal: R-hat above 1.01
    """


class DataWarning(PystatsWarning):
    """The data are usable but something about them deserves attention.

    Examples
    --------
    Omori–Utsu estimates from fewer than 30 aftershocks come with a warning:

    >>> import warnings, numpy as np, pystats
    >>> times = np.sort(np.random.default_rng(1).exponential(2.0, size=12))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fit = pystats.OmoriUtsu(fixed={"c": 0.01}).fit(times, t_end=20.0)
    >>> any(issubclass(w.category, pystats.DataWarning) for w in caught)
    True
    """


class OffGridWarning(DataWarning):
    """Some magnitudes are not on the magnitude grid (bin width ``delta_m``) of the others.

    Examples
    --------
    Three stray values among magnitudes on a 0.1 grid keep the grid and are reported:

    >>> import warnings, numpy as np, pystats
    >>> from pystats.gr.distributions import simulate_gr
    >>> m = simulate_gr(2000, b=1.0, mc=2.0, delta_m=0.1, rng=1)
    >>> m[:3] = [2.03, 2.57, 3.14]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = pystats.b_value(m, mc=2.0)
    >>> any(issubclass(w.category, pystats.OffGridWarning) for w in caught)
    True
    >>> round(result.b, 1)
    1.0
    """
