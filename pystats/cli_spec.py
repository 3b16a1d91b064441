"""What a model family offers on the command line, declared on the family class.

A family sets :attr:`pystats.model.Model.cli` to a :class:`CommandLine`: its ``--model``
name, the ``pystats fit`` options it takes (model options or ``fit`` data options), the
``pystats predict`` options its fits take, and its ``pystats simulate`` commands.
:mod:`pystats.cli` builds the parser and refuses an option given to a family that does
not declare it, from these declarations alone; a new family edits no CLI table.

Examples
--------
A family (say aftershock detection) declares its command line next to its options:

>>> from pystats.cli_spec import Argument, CommandLine
>>> cli = CommandLine(
...     name="detect", title="Aftershock detection", help="aftershock detection",
...     fit=(Argument("--mc", type=float, help="completeness magnitude"),
...          Argument("--window", type=float, help="detection window (days)"),
...          Argument("--t-end", to="data", type=float, help="end of the fitting window")),
...     predict=(Argument("--t2", type=float, help="end of the forecast window"),),
... )
>>> [a.dest for a in cli.fit], cli.fit[2].to
(['mc', 'window', 't_end'], 'data')

On the class: ``class AftershockDetection(Model): family = "aftershock_detection";
cli = CommandLine(...)``; ``pystats fit --model detect --window 2`` then passes
``window=2.0`` to ``AftershockDetection(...)``, and ``--window`` with ``--model gr`` is
refused ("--window is an option of --model detect only, not of --model gr").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import OptionError

__all__ = ["Argument", "CommandLine", "SimulateCommand", "fix_argument", "forecast_window",
           "is_number", "name_value_pairs", "number_or_text", "resolve"]


def is_number(value: Any) -> bool:
    """Whether ``float(value)`` works."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def number_or_text(value: str) -> float | str:
    """A number when the text is one (``"2.5"``), else the text (``"maxc"``, a date)."""
    return float(value) if is_number(value) else value


def name_value_pairs(flag: str, example: str) -> Callable[[list[str]], dict[str, float]]:
    """Parser of repeated ``NAME=VALUE`` items (``--fix alpha=1.2``) into a dict."""

    def parse(items: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for item in items:
            name, sep, value = item.partition("=")
            if not sep or not name.strip() or not is_number(value):
                raise OptionError(
                    f"{flag} {item!r} is not allowed; use NAME=VALUE with a number, e.g. "
                    f"{flag} {example}"
                )
            out[name.strip()] = float(value)
        return out

    return parse


@dataclass(frozen=True)
class Argument:
    """One command-line option.

    Parameters
    ----------
    flag : str
        ``"--reference-magnitude"``.
    type : callable, optional
        Converts the text (``float``, ``int``, :func:`number_or_text`); ``None`` keeps it.
    help : str
    to : {"option", "data"}
        For ``pystats fit``: a model option (the constructor's keyword) or a data option
        of ``fit`` (``t_start``); ignored elsewhere (predict options are keywords of
        ``Fit.predict``, simulate options attributes of the parsed arguments).
    keyword : str, optional
        The keyword it sets, when not the flag's name (``--fix`` sets ``fixed``).
    action : {"store", "store_true", "append"}
    parse : callable, optional
        Applied to the parsed value before it is passed on (e.g. :func:`name_value_pairs`).
    choices, metavar, default, required
        As for :meth:`argparse.ArgumentParser.add_argument`.
    aliases : tuple of str
        Other spellings, e.g. ``("-n",)`` for ``--n``.

    Examples
    --------
    >>> fix = Argument("--fix", keyword="fixed", action="append", metavar="NAME=VALUE",
    ...                parse=name_value_pairs("--fix", "alpha=1.2"))
    >>> fix.dest, fix.target, fix.value(["alpha=1.2", "p=1.1"])
    ('fix', 'fixed', {'alpha': 1.2, 'p': 1.1})
    """

    flag: str
    type: Callable[[str], Any] | None = None
    help: str = ""
    to: str = "option"
    keyword: str | None = None
    action: str = "store"
    parse: Callable[[Any], Any] | None = None
    choices: tuple[Any, ...] | None = None
    metavar: str | None = None
    default: Any = None
    required: bool = False
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.to not in ("option", "data"):
            raise ValueError(f"to={self.to!r} is not allowed; use 'option' or 'data'")
        if self.action not in ("store", "store_true", "append"):
            raise ValueError(f"action={self.action!r} is not allowed; use store, store_true "
                             "or append")

    @property
    def dest(self) -> str:
        """The argparse destination: the long flag's name with ``_`` for ``-``."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def target(self) -> str:
        """The keyword passed on."""
        return self.keyword or self.dest

    def given(self, value: Any) -> bool:
        """Whether a parsed value means the option was given (not ``None`` / ``False``)."""
        return value is not None and value is not False and value != []

    def add_to(self, parser: Any, *, help: str | None = None,
               convert: bool = True) -> None:
        """Add to an argparse parser or group; ``convert=False`` keeps the text (for an
        option several families convert differently)."""
        text = self.help if help is None else help
        kw: dict[str, Any] = {"help": text.replace("%", "%%")}  # argparse formats help with %
        if self.action == "store_true":
            kw["action"] = "store_true"
        else:
            if self.action == "append":
                kw["action"] = "append"
            if convert and self.type is not None:
                kw["type"] = self.type
            if self.choices is not None:
                kw["choices"] = list(self.choices)
            if self.metavar is not None:
                kw["metavar"] = self.metavar
            kw["default"] = self.default
            if self.required:
                kw["required"] = True
        parser.add_argument(*self.aliases, self.flag, **kw)

    def value(self, raw: Any, *, converted: bool = True) -> Any:
        """The value passed on, from the parsed ``raw`` value."""
        if not converted and self.type is not None and raw is not None and \
                self.action == "store":
            try:
                raw = self.type(raw)
            except (TypeError, ValueError):
                what = getattr(self.type, "__name__", "value")
                raise OptionError(
                    f"{self.flag} {raw!r} is not allowed; use a {what} value"
                ) from None
        return self.parse(raw) if self.parse is not None else raw


def fix_argument(example: str) -> Argument:
    """``--fix NAME=VALUE`` (repeatable) for a family's ``fixed`` option; ``example`` is
    shown in the help and in errors (e.g. ``"c=0.01"``)."""
    return Argument("--fix", keyword="fixed", action="append", metavar="NAME=VALUE",
                    parse=name_value_pairs("--fix", example),
                    help=f"hold a parameter fixed, e.g. --fix {example} (repeatable)")


def forecast_window() -> tuple[Argument, ...]:
    """``--t1``, ``--t2`` and ``--seed`` of a point-process forecast (``pystats predict``)."""
    return (
        Argument("--t1", type=number_or_text, help="start of the forecast window (days "
                 "or ISO date; default: end of the fitting window)"),
        Argument("--t2", type=number_or_text,
                 help="end of the forecast window (default: t1 + 1 day)"),
        Argument("--seed", type=int, help="random seed (default: from the fit)"),
    )


@dataclass(frozen=True)
class SimulateCommand:
    """A ``pystats simulate NAME`` command.

    ``run`` names the function ``"module:function"`` that takes the parsed arguments
    (an :class:`argparse.Namespace` with one attribute per argument, ``output`` included)
    and returns the exit status; it is imported only when the command runs.

    Examples
    --------
    >>> from pystats.gr.commands import SIMULATE_COMMANDS
    >>> [(c.name, c.run) for c in SIMULATE_COMMANDS][:1]
    [('gr', 'pystats.gr.commands:simulate_magnitudes')]
    """

    name: str
    help: str
    description: str
    arguments: tuple[Argument, ...]
    run: str


@dataclass(frozen=True)
class CommandLine:
    """A family's command line: see the module docstring.

    Parameters
    ----------
    name : str
        The ``--model`` name (``"gr"``).
    title : str
        The family's name in help texts (``"Gutenberg-Richter"``).
    help : str
        Its entry in the help of ``--model``.
    fit, predict : tuple of Argument
        Options of ``pystats fit`` for this model, and of ``pystats predict`` for its fits
        (beyond the common ones: ``--magnitudes``, ``--prob``, ``-o``).  The same flag may
        be declared by several families (``--mc``); each converts it its own way.
    simulate : tuple of SimulateCommand
    default : bool
        The model of ``pystats fit`` without ``--model`` (one family only).
    read : str, optional
        ``"module:function"`` reading the data file of ``pystats fit`` (given its path)
        for a family whose data are not an earthquake catalogue (e.g. a table of
        compositions); default: :func:`pystats.read_catalog` with the catalogue options.
        Further input files are data options whose ``parse`` reads them
        (``Argument("--protolith", to="data", parse=read_composition_table)``).

    Examples
    --------
    >>> import pystats
    >>> cli = pystats.OmoriUtsu.cli
    >>> cli.name, [a.flag for a in cli.fit if a.to == "data"]
    ('omori', ['--t-start', '--t-end'])
    """

    name: str
    title: str
    help: str
    fit: tuple[Argument, ...] = ()
    predict: tuple[Argument, ...] = ()
    simulate: tuple[SimulateCommand, ...] = ()
    default: bool = False
    read: str | None = None


def resolve(path: str) -> Any:
    """The object named ``"module:attribute"``."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
