"""Warnings attributed to the caller's line, not to pystats' internals (internal).

``warnings.warn(..., stacklevel=2)`` names the frame that called the warning function,
which inside pystats is usually another pystats function several calls below the user's
``model.fit(...)``. :func:`warn` instead points at the first frame outside the package,
so ``warnings.catch_warnings(record=True)``, ``-W error`` tracebacks and the printed
``file:line: ConvergenceWarning: ...`` all show the user's own line. (Python 3.12's
``skip_file_prefixes`` does the same; pystats supports 3.11.)
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from .errors import PystatsWarning

__all__ = ["external_stacklevel", "warn"]

_PACKAGE = Path(__file__).parent
_PREFIXES = tuple(
    str(folder) + sep for folder in {_PACKAGE, _PACKAGE.resolve()} for sep in ("/", "\\")
)
"""The package folder as imported and with links resolved (``co_filename`` is the former)."""


def _inside(filename: str) -> bool:
    return filename.startswith(_PREFIXES)


def external_stacklevel() -> int:
    """The ``stacklevel`` that makes ``warnings.warn``, called by the function that calls
    this one, name the first frame outside pystats."""
    frame = sys._getframe(1)  # the function that calls warnings.warn: stacklevel 1
    level = 1
    while frame is not None and _inside(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = PystatsWarning) -> None:
    """Issue ``message`` as ``category``, attributed to the first frame outside pystats.

    Parameters
    ----------
    message : str
        The warning text.
    category : type of Warning
        A subclass of :class:`~pystats.errors.PystatsWarning` for warnings of pystats.
    """
    warnings.warn(message, category, stacklevel=external_stacklevel())
