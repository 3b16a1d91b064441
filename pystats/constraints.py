"""Declared option constraints and their validation, in the spirit of scikit-learn's
``validate_params`` / ``Interval`` / ``StrOptions``.

A model family declares its options as a table ``name -> Option(default, constraints)``
(:attr:`pystats.model.Model.options_spec`); :func:`validate_params` checks values against
it and raises :class:`~pystats.errors.OptionError` naming the option, the value given and
what is allowed, with the messages of :mod:`pystats._checks` (``"b=0.0 is not allowed; use
None (estimate it) or a number > 0"``).  ``None`` in a constraint list allows ``None``.

Examples
--------
>>> from numbers import Real
>>> from pystats.constraints import Interval, Option, StrOptions, validate_params
>>> spec = {
...     "b": Option(None, [None, Interval(Real, 0, None, closed="neither")]),
...     "likelihood": Option("auto", [StrOptions(("auto", "exact", "fast"))]),
... }
>>> validate_params(spec, {"b": 1}, owner="MyModel")
{'b': 1.0, 'likelihood': 'auto'}
>>> validate_params(spec, {"b": 0}, owner="MyModel")
Traceback (most recent call last):
...
pystats.errors.OptionError: b=0 is not allowed; use None or a finite number > 0
>>> validate_params(spec, {"colour": "red"}, owner="MyModel")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pystats.errors.OptionError: unknown option(s) 'colour' for MyModel; allowed options are b, ...
"""

from __future__ import annotations

import datetime as _dt
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _checks
from .errors import OptionError

__all__ = [
    "ArrayLike",
    "Booleans",
    "Callables",
    "Constraint",
    "DateTimes",
    "Interval",
    "Mappings",
    "Option",
    "Pair",
    "StrOptions",
    "describe",
    "validate_params",
    "validate_value",
]


class Constraint:
    """One kind of allowed value: :meth:`convert` returns it in plain Python form or raises
    :class:`OptionError`; :meth:`describe` says what is allowed, for messages.

    Examples
    --------
    >>> from numbers import Real
    >>> c = Interval(Real, 0, None, closed="neither")
    >>> c.convert("b", 2), c.describe(), c.is_satisfied_by(-1.0)
    (2.0, 'a finite number > 0', False)
    """

    def convert(self, name: str, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` is allowed."""
        try:
            self.convert("value", value)
        except OptionError:
            return False
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


_CLOSED = ("left", "right", "both", "neither")


class Interval(Constraint):
    """A real (``numbers.Real``, ``float``) or integer (``numbers.Integral``, ``int``) value
    in ``[low, high]``; ``None`` bounds are unbounded.

    Parameters
    ----------
    type : {numbers.Real, float, numbers.Integral, int}
        Reals are returned as ``float``, integers as ``int`` (integral floats such as
        ``2.0`` are accepted); booleans, NaN and infinities are refused
        (:func:`pystats._checks.real`, :func:`pystats._checks.integer`).
    low, high : float, optional
    closed : {"left", "right", "both", "neither"}
        Which bounds are included (as ``sklearn.utils._param_validation.Interval``).

    Examples
    --------
    >>> from numbers import Integral, Real
    >>> Interval(Real, 0, 1, closed="neither").convert("prob", 0.9)
    0.9
    >>> Interval(Integral, 1).convert("chains", 4.0)
    4
    >>> Interval(Integral, 1).convert("chains", True)
    Traceback (most recent call last):
    ...
    pystats.errors.OptionError: chains=True is not allowed; use an integer >= 1
    """

    def __init__(self, type: type, low: float | None = None, high: float | None = None, *,
                 closed: str = "both") -> None:
        if type not in (numbers.Real, float, numbers.Integral, int):
            raise TypeError(f"Interval type must be numbers.Real or numbers.Integral, not {type}")
        if closed not in _CLOSED:
            raise ValueError(f"closed={closed!r} is not allowed; use one of {', '.join(_CLOSED)}")
        self.type, self.low, self.high, self.closed = type, low, high, closed
        self.integer = type in (numbers.Integral, int)
        if self.integer and ((closed in ("right", "neither") and low is not None)
                             or (closed in ("left", "neither") and high is not None)):
            raise ValueError("an integer Interval takes closed bounds (use low + 1)")

    def convert(self, name: str, value: Any) -> Any:
        if self.integer:
            return _checks.integer(name, value, -(2**63) if self.low is None else int(self.low),
                                   maximum=None if self.high is None else int(self.high),
                                   allowed=self.describe())
        return _checks.real(name, value, low=self.low, high=self.high,
                            low_open=self.closed in ("right", "neither"),
                            high_open=self.closed in ("left", "neither"),
                            allowed=self.describe())

    def describe(self) -> str:
        if self.integer:
            if self.low is not None and self.high is not None:
                return f"an integer in [{self.low}, {self.high}]"
            if self.low is not None:
                return f"an integer >= {self.low}"
            return "an integer" + (f" <= {self.high}" if self.high is not None else "")
        parts = []
        if self.low is not None and self.high is not None:
            left = "[" if self.closed in ("left", "both") else "("
            right = "]" if self.closed in ("right", "both") else ")"
            return f"a number in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            parts.append(f"{'>=' if self.closed in ('left', 'both') else '>'} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<=' if self.closed in ('right', 'both') else '<'} {self.high:g}")
        return "a finite number" + (" " + " and ".join(parts) if parts else "")


class StrOptions(Constraint):
    """One of the given strings (listed in the given order, or sorted for a set).

    Examples
    --------
    >>> StrOptions(("auto", "exact", "fast")).convert("likelihood", "approx")
    Traceback (most recent call last):
    ...
    pystats.errors.OptionError: likelihood='approx' is not allowed; use one of auto, exact, fast
    """

    def __init__(self, options: Iterable[str]) -> None:
        self.options = tuple(sorted(options) if isinstance(options, set | frozenset)
                             else options)

    def convert(self, name: str, value: Any) -> str:
        if isinstance(value, str) and value in self.options:
            return value
        raise _checks._refuse(name, value, self.describe())

    def describe(self) -> str:
        return "one of " + ", ".join(self.options)


class Booleans(Constraint):
    """``True`` or ``False`` (numpy booleans too; returned as ``bool``); not 0 or 1.

    Examples
    --------
    >>> import numpy as np
    >>> Booleans().convert("background", np.bool_(True)), Booleans().is_satisfied_by(1)
    (True, False)
    """

    def convert(self, name: str, value: Any) -> bool:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise _checks._refuse(name, value, self.describe())

    def describe(self) -> str:
        return "True or False"


class Callables(Constraint):
    """A callable, returned as is.

    Examples
    --------
    >>> Callables().convert("sampler", len) is len
    True
    """

    def convert(self, name: str, value: Any) -> Any:
        if callable(value):
            return value
        raise _checks._refuse(name, value, self.describe())

    def describe(self) -> str:
        return "a callable"


class Mappings(Constraint):
    """A mapping with string keys, returned as a new ``dict`` (shallow copy).

    Examples
    --------
    >>> Mappings().convert("fixed", {"alpha": 1.2}), Mappings().is_satisfied_by([1])
    ({'alpha': 1.2}, False)
    """

    def convert(self, name: str, value: Any) -> dict[str, Any]:
        if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
            return dict(value)
        raise _checks._refuse(name, value, self.describe())

    def describe(self) -> str:
        return "a dict with string keys"


class ArrayLike(Constraint):
    """A non-empty array-like of finite numbers (list, tuple, numpy array), returned as a
    new read-only float array; ``ndim`` fixes the number of dimensions.

    Examples
    --------
    >>> ArrayLike().convert("magnitudes", [2, 2.5])
    array([2. , 2.5])
    >>> ArrayLike().is_satisfied_by([]), ArrayLike().is_satisfied_by([1.0, float("nan")])
    (False, False)
    """

    def __init__(self, ndim: int | None = 1) -> None:
        self.ndim = ndim

    def convert(self, name: str, value: Any) -> np.ndarray:
        if isinstance(value, list | tuple | np.ndarray) and not isinstance(value, str):
            try:
                arr = np.array(value, dtype=float, copy=True)
            except (TypeError, ValueError):
                arr = None
            if (arr is not None and arr.size and np.all(np.isfinite(arr))
                    and (self.ndim is None or arr.ndim == self.ndim)):
                arr.flags.writeable = False
                return arr
        raise _checks._refuse(name, value, self.describe())

    def describe(self) -> str:
        dims = "" if self.ndim is None else f"{self.ndim}-D "
        return f"a non-empty {dims}array of finite numbers"


class DateTimes(Constraint):
    """A date-time: an ISO string, :class:`datetime.datetime` or ``numpy.datetime64``
    (returned as is; read against a catalogue's reference time later).

    Examples
    --------
    >>> DateTimes().convert("main_shock_time", "2016-04-16T01:25"), DateTimes().describe()
    ('2016-04-16T01:25', 'a date-time')
    """

    def convert(self, name: str, value: Any) -> Any:
        if isinstance(value, str | _dt.datetime | np.datetime64):
            return value
        raise _checks._refuse(name, value, self.describe())

    def describe(self) -> str:
        return "a date-time"


class Pair(Constraint):
    """Two values, each checked by its own constraint (a list or tuple of length 2),
    returned as a tuple; ``increasing`` requires ``first < second``.

    Examples
    --------
    >>> from numbers import Real
    >>> bounds = Pair(Interval(Real), Interval(Real), increasing=True)
    >>> bounds.convert("corner_bounds", [6, 8])
    (6.0, 8.0)
    >>> bounds.is_satisfied_by((8.0, 6.0))
    False
    """

    def __init__(self, first: Constraint, second: Constraint, *, increasing: bool = False,
                 description: str | None = None) -> None:
        self.first, self.second, self.increasing = first, second, increasing
        self.description = description

    def convert(self, name: str, value: Any) -> tuple[Any, Any]:
        if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
            raise _checks._refuse(name, value, self.describe())
        try:
            a = self.first.convert(name, value[0])
            b = self.second.convert(name, value[1])
        except OptionError:
            raise _checks._refuse(name, value, self.describe()) from None
        if self.increasing and not a < b:
            raise _checks._refuse(name, value, self.describe())
        return (a, b)

    def describe(self) -> str:
        if self.description is not None:
            return self.description
        order = " with first < second" if self.increasing else ""
        return f"a pair ({self.first.describe()}, {self.second.describe()}){order}"


def describe(constraints: Iterable[Constraint | None]) -> str:
    """What ``constraints`` allow, as a phrase: ``"None or a finite number > 0"``."""
    parts = ["None" if c is None else c.describe() for c in constraints]
    return " or ".join(parts)


@dataclass(frozen=True)
class Option:
    """One declared option of a model family.

    Parameters
    ----------
    default
        The value used when the option is not given.
    constraints : list of Constraint or None
        The value must satisfy one of them (``None``: the value ``None`` is allowed); the
        first that accepts it converts it.
    allowed : str, optional
        What is allowed, in words, for the error message (default:
        :func:`describe` of the constraints).
    doc : str
        A one-line description (the numpydoc entry of the class stays the reference).

    Examples
    --------
    >>> from numbers import Real
    >>> b = Option(None, [None, Interval(Real, 0, None, closed="neither")])
    >>> b.describe()
    'None or a finite number > 0'
    """

    default: Any
    constraints: list[Constraint | None] = field(default_factory=list)
    allowed: str | None = None
    doc: str = ""

    def describe(self) -> str:
        return self.allowed if self.allowed is not None else describe(self.constraints)


def validate_value(name: str, value: Any, constraints: Iterable[Constraint | None], *,
                   allowed: str | None = None) -> Any:
    """``value`` converted by the first of ``constraints`` that accepts it.

    Raises
    ------
    OptionError
        If none does: ``"NAME=VALUE is not allowed; use ALLOWED"``.
    """
    constraints = list(constraints)
    for c in constraints:
        if c is None:
            if value is None:
                return None
            continue
        try:
            return c.convert(name, value)
        except OptionError:
            continue
    raise _checks._refuse(name, value, allowed if allowed is not None else describe(constraints))


def validate_params(spec: Mapping[str, Option], values: Mapping[str, Any], *,
                    owner: str) -> dict[str, Any]:
    """Check ``values`` against the declared ``spec`` and complete them with defaults.

    Parameters
    ----------
    spec : mapping
        Option name -> :class:`Option`, in the order to list them.
    values : mapping
        The options given (not modified).
    owner : str
        Who takes them (a class name), for the message about unknown options.

    Returns
    -------
    dict
        Every option of ``spec``, in its order: the given values converted (e.g. ``1`` to
        ``1.0`` for a real interval), the defaults for the others (not checked: a default
        is allowed by construction).

    Raises
    ------
    OptionError
        An unknown option (the message lists the allowed ones) or a value that no
        constraint accepts (the message names the option, the value and what is allowed).
    """
    unknown = sorted(set(values) - set(spec))
    if unknown:
        raise OptionError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for {owner}; allowed options "
            f"are {', '.join(spec)}"
        )
    out: dict[str, Any] = {}
    for name, option in spec.items():
        if name not in values:
            out[name] = option.default
            continue
        out[name] = validate_value(name, values[name], option.constraints,
                                   allowed=option.allowed)
    return out
