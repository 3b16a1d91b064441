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
    "OptionError",
    "PystatsError",
    "PystatsWarning",
]


class PystatsError(Exception):
    """Base class of every error raised by pystats."""


class DataError(PystatsError, ValueError):
    """The data passed in are unusable: missing columns, NaN, unsorted times, ...

    The message names the field, the offending value(s) or row(s) and what is allowed.
    """


class FitFileError(DataError):
    """A saved fit file cannot be loaded: not a pystats fit, truncated, damaged inside, or
    written by a newer pystats.

    The message names the file and what is wrong with it (the group, attribute or array).
    """


class OptionError(PystatsError, ValueError):
    """An option or argument has a value that is not allowed."""


class MethodNotSupportedError(PystatsError, NotImplementedError):
    """The model family cannot be fitted with the requested method or backend."""


class BackendError(PystatsError, RuntimeError):
    """An inference engine failed."""


class BackendUnavailableError(BackendError):
    """The requested engine cannot be loaded; the cause is chained (``raise ... from e``)."""


class CompilationError(BackendError):
    """A Stan program failed to compile."""


class FitError(PystatsError, RuntimeError):
    """Inference failed outright (no finite starting point, optimizer crashed, ...)."""


class PystatsWarning(UserWarning):
    """Base class of every warning issued by pystats."""


class ConvergenceWarning(PystatsWarning):
    """A fit did not converge or its diagnostics flag a problem (R-hat, ESS, divergences, ...)."""


class DataWarning(PystatsWarning):
    """The data are usable but something about them deserves attention."""
