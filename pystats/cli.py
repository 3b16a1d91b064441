"""The ``pystats`` command line, mirroring the Python API.

Subcommands: ``fit``, ``predict``, ``report``, ``simulate``, ``demo``; ``pystats SUB --help``
describes each.  The model-specific parts are built from the registered families'
declarations (:attr:`pystats.model.Model.cli`, a :class:`~pystats.cli_spec.CommandLine`):
``fit --model`` takes each family's name (``gr``: Gutenberg–Richter, ``etas``, ``omori``:
Omori–Utsu) and the options it declares, ``predict`` the options its fits declare,
``simulate`` its commands; an option of another model is refused with a message naming
the models that take it.  This module names no family.  Bad input
(including unreadable files) ends with a one-line ``pystats: error: ...`` message on
stderr and exit status 2; advice in library messages that names a Python argument
(``pass sep=';'``) is rewritten as the option (``pass --sep ';'``). An internal failure
prints its traceback and ``pystats: internal error: ...`` and exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import logging
import re
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import _checks
from .cli_spec import Argument, is_number, resolve
from .errors import OptionError, PystatsError, PystatsWarning

__all__ = ["main"]

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


def _families() -> dict[str, type]:
    """CLI model name -> family class, for every registered family that declares a
    command line (:attr:`pystats.model.Model.cli`), in registration order."""
    from .model import registered_families

    return {cls.cli.name: cls for cls in registered_families().values() if cls.cli is not None}


def _declared(kind: str) -> dict[str, dict[str, Argument]]:
    """argparse dest -> {CLI model name: its declaration} of the ``fit`` or ``predict``
    options of the families."""
    out: dict[str, dict[str, Argument]] = {}
    for name, cls in _families().items():
        for arg in getattr(cls.cli, kind):
            out.setdefault(arg.dest, {})[name] = arg
    return out


def _shared_type(decls: dict[str, Argument]) -> bool:
    """Whether every family converts the option the same way (then argparse does it)."""
    return len({a.type for a in decls.values()}) == 1


def _check_applies(args: argparse.Namespace, table: dict[str, dict[str, Argument]],
                   model: str, message: str) -> None:
    """Refuse options (given, i.e. not ``None``/``False``) that ``model`` does not declare.

    ``message`` is formatted with ``flag``, ``takes`` (the models that take it) and
    ``model``.
    """
    for dest, decls in table.items():
        arg = next(iter(decls.values()))
        if model in decls or not arg.given(getattr(args, dest, None)):
            continue
        takes = " or ".join(f"--model {m}" for m in decls)
        raise OptionError(message.format(flag=arg.flag, takes=takes, model=model))


def _passed_on(args: argparse.Namespace, table: dict[str, dict[str, Argument]],
               model: str) -> list[tuple[Argument, Any]]:
    """``(declaration, value)`` of the options of ``model`` given on the command line."""
    out = []
    for decls in table.values():
        arg = decls.get(model)
        if arg is None:
            continue
        raw = getattr(args, arg.dest, None)
        if arg.given(raw):
            out.append((arg, arg.value(raw, converted=_shared_type(decls))))
    return out


def _model_options(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model options and the data options of ``fit`` given for ``--model``."""
    table = _declared("fit")
    _check_applies(args, table, args.model,
                   "{flag} is an option of {takes} only, not of --model {model}")
    opts: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for arg, value in _passed_on(args, table, args.model):
        (opts if arg.to == "option" else data)[arg.target] = value
    return opts, data


def _columns(items: list[str] | None) -> dict[str, str | None] | None:
    """``--columns ROLE=NAME`` (repeatable, or comma-separated) as ``read_catalog``'s
    ``columns``; an empty NAME leaves that column out."""
    if not items:
        return None
    out: dict[str, str | None] = {}
    for item in (part for text in items for part in text.split(",")):
        role, sep, name = item.partition("=")
        if not sep or not role.strip():
            raise OptionError(
                f"--columns {item!r} is not allowed; use ROLE=NAME, e.g. --columns "
                "time=origin_time,magnitude=mw"
            )
        out[role.strip()] = name.strip() or None
    return out


def _read(args: argparse.Namespace):
    from .readers import read_catalog

    kwargs: dict[str, Any] = {"format": args.format, "sort": args.sort}
    if args.missing_magnitude is not None:
        kwargs.update(missing_magnitude=args.missing_magnitude, on_missing=args.on_missing)
    columns = _columns(args.columns)
    if columns is not None:
        kwargs["columns"] = columns
    for dest in ("sep", "comment", "encoding"):  # options of pandas.read_csv
        if getattr(args, dest) is not None:
            kwargs[dest] = getattr(args, dest)
    if kwargs.get("sep") == "\\t":  # typed as backslash-t in a shell
        kwargs["sep"] = "\t"
    cat = read_catalog(args.catalog, **kwargs)
    select = {k: getattr(args, k) for k in ("min_magnitude", "start", "end")}
    select = {
        k: (float(v) if k != "min_magnitude" and is_number(v) else v)
        for k, v in select.items()
        if v is not None
    }
    return cat.select(**select) if select else cat


def _fit_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "method": args.method,
        "backend": args.backend,
        "device": args.device,
        "seed": args.seed,
        "chains": args.chains,
        "draws": args.draws,
        "warmup": args.warmup,
        "verbose": args.verbose,
    }


def cmd_fit(args: argparse.Namespace) -> int:
    options, data_options = _model_options(args)
    family = _families()[args.model]
    if family.cli.read:  # the family reads its own data files (not a catalogue)
        reader = resolve(family.cli.read)
        params = inspect.signature(reader).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        kwargs = {}
        for k in ("sep", "comment", "encoding"):
            if getattr(args, k, None) is None:
                continue
            if k not in params and not takes_any:
                raise OptionError(f"--{k} does not apply to --model {args.model}: its data "
                                  f"file is read by {family.cli.read}")
            kwargs[k] = getattr(args, k)
        catalog = reader(args.catalog, **kwargs)
    else:
        catalog = _read(args)
    model = family(**options)
    kwargs = _fit_kwargs(args)
    if kwargs["method"] is None:
        kwargs["method"] = "mle" if "mle" in family.methods else family.methods[0]
    fit = model.fit(catalog, **kwargs, **data_options)
    print(fit.summary_text())
    if args.output:
        print(f"saved fit to {fit.save(args.output)}")
    if args.report:
        print(f"wrote report {fit.report(args.report)}")
    if args.summary_csv:
        fit.summary().to_csv(args.summary_csv)
        print(f"wrote summary table {args.summary_csv}")
    return EXIT_OK


def _predict_kwargs(args: argparse.Namespace, model: str | None) -> dict[str, Any]:
    """Keyword arguments of ``Fit.predict`` for a fit of CLI model ``model``."""
    table = _declared("predict")
    kw: dict[str, Any] = {"magnitudes": args.magnitudes, "prob": args.prob}
    if model is None:  # a family without a command line: the common options only
        return kw
    _check_applies(args, table, model,
                   "{flag} applies only to fits of {takes}; this is a fit of --model {model}")
    kw.update((arg.target, value) for arg, value in _passed_on(args, table, model))
    return kw


def cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .persistence import load

    fit = load(args.fit)
    cli = type(fit.model).cli
    table = fit.predict(**_predict_kwargs(args, None if cli is None else cli.name))
    if "t1" in table.attrs and "t2" in table.attrs:
        print(
            f"events with M >= magnitude in [{table.attrs['t1']:g}, {table.attrs['t2']:g}] "
            f"(days on the catalog's time axis), {table.attrs['n_sims']} simulations"
        )
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string())
    if args.output:
        table.to_csv(args.output, index=False)
        print(f"wrote predictions {args.output}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .persistence import load

    print(f"wrote report {load(args.fit).report(args.output)}")
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run the family's ``simulate`` command (:class:`~pystats.cli_spec.SimulateCommand`)."""
    return resolve(args.run)(args)


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulate an incomplete GR catalog, estimate Mc and b, fit with Stan, write a report."""
    import pandas as pd

    import pystats

    from .catalog import Catalog
    from .gr import distributions as d

    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = _checks.integer("n", args.n, 1)
    rng = np.random.default_rng(_checks.seed(args.seed))
    truth = {"b": 1.0, "mu": 1.4, "sigma": 0.25}
    mags = d.simulate_detection(
        n, truth["b"], truth["mu"], truth["sigma"], delta_m=0.1, rng=rng
    )
    times = np.sort(rng.uniform(0.0, 365.0, size=len(mags)))
    catalog = Catalog(pd.DataFrame({"time": times, "magnitude": mags}), name="pystats demo")
    catalog_path = out / "demo_catalog.csv"
    catalog.to_frame().to_csv(catalog_path, index=False)
    print(
        f"simulated {len(catalog)} events (b={truth['b']}, detection mu={truth['mu']}, "
        f"sigma={truth['sigma']}) -> {catalog_path}"
    )

    mle = pystats.GutenbergRichter(mc="maxc").fit(catalog, method="mle", seed=args.seed)
    print(f"\n== Mc by MAXC (+0.2): {mle.data.summary['mc']:.2f}; b by maximum likelihood ==")
    print(mle.summary_text())
    print(f"\n== Bayesian fit ({args.method}, {args.chains} chains x {args.draws} draws) ==")
    fit = pystats.GutenbergRichter(mc="maxc").fit(
        catalog,
        method=args.method,
        seed=args.seed,
        chains=args.chains,
        draws=args.draws,
        warmup=args.draws,
        progress=args.progress,
    )
    print(fit.summary_text())
    print("\n== Predicted exceedances over the next 365 days ==")
    print(fit.predict(magnitudes=[3.0, 4.0, 5.0, 6.0], duration=365.0).to_string(index=False))
    report = fit.report(out / "demo_report.html")
    saved = fit.save(out / "demo_fit.nc")
    print(f"\nwrote report {report}\nsaved fit to {saved}")
    return EXIT_OK


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inference")
    g.add_argument("--method", default=None, choices=["mle", "map", "laplace", "nuts"],
                   help="default: mle, or the first method of a family without it (map)")
    g.add_argument(
        "--backend", default="auto", choices=["auto", "torch", "stan", "pystan", "cmdstanpy"]
    )
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda or auto")
    g.add_argument("--seed", type=int, default=None)
    g.add_argument("--chains", type=int, default=4)
    g.add_argument("--draws", type=int, default=1000)
    g.add_argument("--warmup", type=int, default=1000)
    g.add_argument("--verbose", action="store_true", help="show compiler and sampler output")


def _add_family_options(parser: argparse.ArgumentParser,
                        table: dict[str, dict[str, Argument]], families: dict[str, type],
                        title: str) -> None:
    """Add the options the families declare: those of every family to ``parser``, the
    others in one group per set of families (``"ETAS and Omori-Utsu (--model etas,
    omori)"``); the help of an option declared with different texts names each family."""
    groups: dict[tuple[str, ...], Any] = {}
    for decls in table.values():
        names = tuple(decls)
        if set(names) == set(families):
            where: Any = parser
        else:
            if names not in groups:
                titles = " and ".join(families[n].cli.title for n in names)
                groups[names] = parser.add_argument_group(
                    f"{titles} ({title.format(names=', '.join(names))})")
            where = groups[names]
        helps: dict[str, list[str]] = {}
        for name, arg in decls.items():
            helps.setdefault(arg.help, []).append(name)
        text = (next(iter(helps)) if len(helps) == 1
                else "; ".join(f"{', '.join(n)}: {h}" for h, n in helps.items()))
        first = next(iter(decls.values()))
        if len({a.choices for a in decls.values()}) > 1:
            # families offering different values: argparse takes any family's (all of
            # them if one takes any), and each family's own checks refuse the others
            union = [c for a in decls.values() for c in (a.choices or ())]
            free = any(a.choices is None for a in decls.values())
            first = replace(first, choices=None if free else tuple(dict.fromkeys(union)))
        first.add_to(where, help=text, convert=_shared_type(decls))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    from . import __version__

    families = _families()

    parser = argparse.ArgumentParser(
        prog="pystats",
        description="Bayesian and likelihood models for earthquake catalogs and solid-earth data.",
    )
    parser.add_argument("--version", action="version", version=f"pystats {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand does not reset a -q given before it (pystats -q fit ...)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="hide pystats warnings")
    parser.add_argument("-q", "--quiet", action="store_true", help="hide pystats warnings")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_parser = sub.add_parser

    def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        return _add_parser(name, parents=[common], **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]

    p = sub.add_parser(
        "fit",
        help="fit a model to a catalog CSV",
        description="Fit a model to a catalog CSV and print its summary.",
    )
    p.add_argument("catalog", help="catalog CSV (ComCat, R-ETAS, SAPP, ... or generic); for "
                   "families with other data (e.g. --model isocon) their data file")
    default = next((name for name, cls in families.items() if cls.cli.default), None)
    p.add_argument(
        "--model",
        default=default,
        required=default is None,
        choices=sorted(families),
        help="; ".join(f"{name}: {cls.cli.help}{' (default)' if name == default else ''}"
                       for name, cls in families.items()),
    )
    _add_family_options(p, _declared("fit"), families, "--model {names}")
    g = p.add_argument_group("catalog")
    g.add_argument("--format", default="auto", help="catalog format (default: detect)")
    g.add_argument(
        "--missing-magnitude",
        type=float,
        help="magnitude value that means 'missing' (e.g. 0.0 in SAPP files)",
    )
    g.add_argument("--on-missing", default="error", choices=["error", "drop"])
    g.add_argument("--columns", action="append", metavar="ROLE=NAME",
                   help="column of the file for a role (time, magnitude, latitude, "
                   "longitude, depth, date), e.g. --columns time=origin_time,magnitude=mw")
    g.add_argument("--sep", help="field separator (default ','), e.g. ';' or '\\t'")
    g.add_argument("--comment", help="character starting comment lines, e.g. '#'")
    g.add_argument("--encoding", help="text encoding (default utf-8), e.g. latin-1")
    g.add_argument("--sort", action="store_true", help="sort events by time")
    g.add_argument("--min-magnitude", type=float)
    g.add_argument("--start", help="start time (ISO date or days)")
    g.add_argument("--end", help="end time (ISO date or days)")
    _add_fit_options(p)
    g = p.add_argument_group("output")
    g.add_argument("-o", "--output", help="save the fit (NetCDF) for predict/report")
    g.add_argument("--report", help="write an HTML report")
    g.add_argument("--summary-csv", help="write the summary table as CSV")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser(
        "predict",
        help="predictions from a saved fit",
        description="Gutenberg-Richter fits: exceedance probabilities and expected counts "
        "of M >= m. ETAS and Omori-Utsu fits: forecast of the number of events M >= m in a "
        "time window, by simulation.",
    )
    p.add_argument("fit", help="fit file written by 'pystats fit -o'")
    p.add_argument(
        "--magnitudes", type=float, nargs="+", help="thresholds m (default: from mc upwards)"
    )
    p.add_argument("--prob", type=float, default=0.9, help="interval mass")
    p.add_argument("-o", "--output", help="write the table as CSV")
    _add_family_options(p, _declared("predict"), families, "fits of --model {names}")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "report",
        help="HTML report of a saved fit",
        description="Write the HTML posterior diagnostic report of a saved fit.",
    )
    p.add_argument("fit")
    p.add_argument("-o", "--output", required=True, help="HTML file to write")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "simulate",
        help="simulate a catalog",
        description="Simulate a catalog CSV (readable by pystats.read_catalog); "
        "'pystats simulate MODEL --help' describes each model.",
    )
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    for cls in families.values():
        for command in cls.cli.simulate:
            q = models.add_parser(command.name, parents=[common], help=command.help,
                                  description=command.description)
            for arg in command.arguments:
                arg.add_to(q)
            q.add_argument("-o", "--output", required=True, help="CSV file to write")
            q.set_defaults(func=cmd_simulate, run=command.run)

    p = sub.add_parser(
        "demo",
        help="simulate, fit and report (needs no data)",
        description="Simulate an incomplete catalog, estimate Mc and b by MLE and "
        "by Stan NUTS, and write an HTML report.",
    )
    p.add_argument("--output-dir", default="pystats-demo")
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--method", default="nuts", choices=["mle", "map", "laplace", "nuts"])
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2019)
    p.add_argument("--progress", action="store_true")
    p.set_defaults(func=cmd_demo)
    return parser


_ADVICE = re.compile(r"\b([Pp]ass|or) (\w+)=(\{[^}]*\}|'[^']*'|\([^)]*\)|[^\s;,)]*)")
"""``pass NAME=VALUE`` in a library message: advice naming a Python argument."""
_COLUMN_PAIR = re.compile(r"'(\w+)':\s*'?([^',}]*)'?")


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string of ``parser`` and of its subcommands."""
    out: set[str] = set()
    for action in parser._actions:
        out.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out |= _option_strings(sub)
    return out


def _cli_advice(message: str, options: set[str]) -> str:
    """``message`` with advice such as ``pass sep=';'`` (or ``... or sep=';'``) rewritten as
    ``pass --sep ';'`` where
    the command line has that option (``columns={'time': 'x'}`` becomes
    ``--columns time=x``; ``NAME=True`` becomes the bare flag)."""

    def rewrite(m: re.Match[str]) -> str:
        verb, name, value = m.groups()
        flag = "--" + name.replace("_", "-")
        if flag not in options:
            return m.group(0)
        if name == "columns" and value.startswith("{"):
            value = ",".join(f"{k}={v.strip()}" for k, v in _COLUMN_PAIR.findall(value))
        elif value == "True" or not value:
            return f"{verb} {flag}"
        elif re.fullmatch(r"'[\w.+-]+'", value):
            value = value.strip("'")
        return f"{verb} {flag} {value}"

    return _ADVICE.sub(rewrite, message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status.

    Logging and warning settings are changed only while the command runs (a handler on the
    ``pystats`` logger; ``-q`` filters :class:`~pystats.errors.PystatsWarning`), so calling
    ``main`` from Python leaves the caller's configuration as it was.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings(), _pystats_log_to_stderr():
        warnings.showwarning = _warning_printer(warnings.showwarning)
        if args.quiet:
            warnings.simplefilter("ignore", PystatsWarning)
        try:
            return args.func(args)
        except (PystatsError, OSError) as e:
            message = _cli_advice(" ".join(str(e).split()), _option_strings(parser))
            print(f"pystats: error: {message}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:  # pragma: no cover
            return 130
        except Exception as e:  # a bug in pystats or a library: say so, keep the traceback
            traceback.print_exc(file=sys.stderr)
            print(f"pystats: internal error ({type(e).__name__}): {' '.join(str(e).split())}; "
                  "please report it with the traceback above", file=sys.stderr)
            return EXIT_INTERNAL


def _warning_printer(show: Any) -> Any:
    """A ``warnings.showwarning`` printing pystats warnings as ``pystats: DataWarning: ...``
    (the code location in a command-line run means nothing to its user); other warnings go
    to ``show``."""

    def printer(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                file: Any = None, line: str | None = None) -> None:
        if not issubclass(category, PystatsWarning):
            show(message, category, filename, lineno, file, line)
            return
        print(f"pystats: {category.__name__}: {message}", file=sys.stderr if file is None else file)

    return printer


@contextlib.contextmanager
def _pystats_log_to_stderr() -> Iterator[None]:
    """Warnings of the ``pystats`` logger to stderr as ``pystats: ...`` while in the block."""
    log = logging.getLogger("pystats")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pystats: %(message)s"))
    handler.setLevel(logging.WARNING)
    level = log.level
    log.addHandler(handler)
    if log.getEffectiveLevel() > logging.WARNING:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
