"""The ``pystats`` command line, mirroring the Python API.

Subcommands: ``fit``, ``predict``, ``report``, ``simulate``, ``demo``; ``pystats SUB --help``
describes each.  ``fit --model`` takes ``gr`` (Gutenberg–Richter), ``etas`` or ``omori``
(Omori–Utsu); an option of another model is refused with a message naming it.  Bad input
(including unreadable files) ends with a one-line ``pystats: error: ...`` message on
stderr and exit status 2; advice in library messages that names a Python argument
(``pass sep=';'``) is rewritten as the option (``pass --sep ';'``). An internal failure
prints its traceback and ``pystats: internal error: ...`` and exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import re
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _checks
from .errors import OptionError, PystatsError, PystatsWarning

__all__ = ["main"]

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2

MODELS = {"etas": "ETAS", "gr": "GutenbergRichter", "omori": "OmoriUtsu"}
"""CLI model names -> pystats classes."""

FAMILIES = {"etas": "etas", "gutenberg_richter": "gr", "omori_utsu": "omori"}
"""Model families of saved fits -> CLI model names."""

FIT_OPTIONS = {
    "kind": ("gr",),
    "estimator": ("gr",),
    "reference_magnitude": ("etas",),
    "mu": ("etas",),
    "likelihood": ("etas",),
    "b": ("etas", "omori"),
    "fix": ("etas", "omori"),
    "background": ("omori",),
    "main_shock_time": ("omori",),
    "t_start": ("etas", "omori"),
    "t_end": ("etas", "omori"),
}
"""``fit`` options (argparse dests) that only some models take -> those models."""

PREDICT_OPTIONS = {
    "duration": ("gr",),
    "n_events": ("gr",),
    "t1": ("etas", "omori"),
    "t2": ("etas", "omori"),
    "n_sims": ("etas", "omori"),
    "seed": ("etas", "omori"),
    "m_max": ("etas",),
    "allow_supercritical": ("etas",),
}
"""``predict`` options that only fits of some models take -> those models."""


def _mc(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _number_or_text(value: str) -> float | str:
    """A time on the catalog's axis: days as a number, else a date-time string."""
    return float(value) if _is_number(value) else value


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _check_applies(args: argparse.Namespace, table: dict[str, tuple[str, ...]], model: str,
                   message: str) -> None:
    """Refuse options (given, i.e. not ``None``/``False``) that ``model`` does not take.

    ``message`` is formatted with ``flag``, ``takes`` (the models that take it) and
    ``model``.
    """
    for dest, models in table.items():
        value = getattr(args, dest, None)
        if value is None or value is False or model in models:
            continue
        takes = " or ".join(f"--model {m}" for m in models)
        raise OptionError(message.format(flag=_flag(dest), takes=takes, model=model))


def _fixed(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not _is_number(value):
            raise OptionError(
                f"--fix {item!r} is not allowed; use NAME=VALUE with a number, e.g. --fix "
                "alpha=1.2"
            )
        out[name.strip()] = float(value)
    return out


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    _check_applies(args, FIT_OPTIONS, args.model,
                   "{flag} is an option of {takes} only, not of --model {model}")
    opts: dict[str, Any] = {}
    if args.model == "gr":
        opts["kind"] = args.kind or "gr"
        if args.estimator is not None:
            opts["estimator"] = args.estimator
    if args.mc is not None:
        opts["mc"] = _mc(args.mc)
    if args.delta_m is not None:
        opts["delta_m"] = args.delta_m
    for dest in ("reference_magnitude", "mu", "likelihood", "b"):
        if getattr(args, dest) is not None:
            opts[dest] = getattr(args, dest)
    if args.fix:
        opts["fixed"] = _fixed(args.fix)
    if args.background:
        opts["background"] = True
    if args.main_shock_time is not None:
        opts["main_shock_time"] = _number_or_text(args.main_shock_time)
    return opts


def _data_options(args: argparse.Namespace) -> dict[str, Any]:
    """The fitting window (``t_start``, ``t_end``) of ``fit`` for ETAS and Omori–Utsu."""
    return {
        k: _number_or_text(getattr(args, k))
        for k in ("t_start", "t_end")
        if getattr(args, k) is not None
    }


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
        k: (float(v) if k != "min_magnitude" and _is_number(v) else v)
        for k, v in select.items()
        if v is not None
    }
    return cat.select(**select) if select else cat


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


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
    import pystats

    options = _model_options(args)
    catalog = _read(args)
    model = getattr(pystats, MODELS[args.model])(**options)
    fit = model.fit(catalog, **_fit_kwargs(args), **_data_options(args))
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
    if model is not None:
        _check_applies(args, PREDICT_OPTIONS, model,
                       "{flag} applies only to fits of {takes}; this is a fit of --model {model}")
    kw: dict[str, Any] = {"magnitudes": args.magnitudes, "prob": args.prob}
    for dest in PREDICT_OPTIONS:
        value = getattr(args, dest)
        if value is not None and value is not False:
            kw[dest] = _number_or_text(value) if dest in ("t1", "t2") else value
    return kw


def cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .persistence import load

    fit = load(args.fit)
    table = fit.predict(**_predict_kwargs(args, FAMILIES.get(fit.model.family)))
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
    import pandas as pd

    from .gr import distributions as d

    n = _checks.integer("n", args.n, 1)
    rng = np.random.default_rng(_checks.seed(args.seed))
    if args.model == "gr":
        m = d.simulate_gr(n, args.b, args.mc, delta_m=args.delta_m, rng=rng)
    elif args.model == "tapered":
        m = d.simulate_tapered_gr(
            n, args.b, args.mc, args.corner_magnitude, delta_m=args.delta_m, rng=rng
        )
    else:  # detection
        m = d.simulate_detection(n, args.b, args.mu, args.sigma, delta_m=args.delta_m, rng=rng)
    times = np.sort(rng.uniform(0.0, args.duration, size=len(m)))
    frame = pd.DataFrame({"time": times, "magnitude": np.asarray(m)})
    frame.to_csv(args.output, index=False, float_format="%.6g")
    print(f"wrote {len(frame)} simulated events to {args.output}")
    return EXIT_OK


def cmd_simulate_etas(args: argparse.Namespace) -> int:
    """Simulate an ETAS catalog (:func:`pystats.etas.simulate.simulate_etas`) to a CSV file."""
    from .etas.simulate import simulate_etas
    from .gr.distributions import simulate_gr

    _checks.seed(args.seed)  # named --seed here, not rng
    if args.delta_m < 0:
        raise OptionError(
            f"delta_m={args.delta_m!r} is not allowed; use 0 (continuous magnitudes) or a bin "
            "width > 0"
        )
    m_ref = args.mc if args.m_ref is None else args.m_ref
    magnitudes: dict[str, Any] = {"b": args.b}
    if args.delta_m > 0:
        # Gutenberg-Richter on the grid mc, mc + delta_m, ... (as `pystats simulate gr`)
        b, mc, dm = args.b, args.mc, args.delta_m
        if not (math.isfinite(b) and b > 0):
            raise OptionError(f"b={b!r} is not allowed; use a finite number > 0")
        magnitudes = {"magnitude_sampler": lambda rng, n: simulate_gr(n, b, mc, dm, rng)}
    sim = simulate_etas(
        args.mu, args.K, args.c, args.alpha, args.p, m_ref, args.t_end, mc=args.mc,
        rng=args.seed, allow_supercritical=args.allow_supercritical, **magnitudes,
    )
    frame = sim.to_frame()[["time", "magnitude", "generation", "parent"]]
    frame.to_csv(args.output, index=False)  # full precision: times must stay distinct
    print(
        f"wrote {len(frame)} simulated ETAS events ({int(sim.is_background.sum())} background) "
        f"in [0, {args.t_end:g}] days to {args.output}"
    )
    return EXIT_OK


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
    g.add_argument("--method", default="mle", choices=["mle", "map", "laplace", "nuts"])
    g.add_argument(
        "--backend", default="auto", choices=["auto", "torch", "stan", "pystan", "cmdstanpy"]
    )
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda or auto")
    g.add_argument("--seed", type=int, default=None)
    g.add_argument("--chains", type=int, default=4)
    g.add_argument("--draws", type=int, default=1000)
    g.add_argument("--warmup", type=int, default=1000)
    g.add_argument("--verbose", action="store_true", help="show compiler and sampler output")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    from . import __version__

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
    p.add_argument("catalog", help="catalog CSV (ComCat, R-ETAS, SAPP, ... or generic)")
    p.add_argument(
        "--model",
        default="gr",
        choices=sorted(MODELS),
        help="gr: Gutenberg-Richter (default); etas: temporal ETAS; omori: Omori-Utsu law",
    )
    p.add_argument(
        "--mc",
        help="completeness magnitude; --model gr also takes maxc, gft, mbs, emr, ks to estimate it",
    )
    p.add_argument("--delta-m", type=float, help="magnitude bin width (default: inferred)")
    g = p.add_argument_group("Gutenberg-Richter (--model gr)")
    g.add_argument(
        "--kind", choices=["gr", "tapered", "detection"], help="variant (default: gr)"
    )
    g.add_argument("--estimator", choices=["exact", "aki", "positive"])
    g = p.add_argument_group("ETAS and Omori-Utsu (--model etas, omori)")
    g.add_argument(
        "--reference-magnitude",
        type=float,
        help="etas: M_ref of the productivity K exp(alpha (M - M_ref)) (default: mc)",
    )
    g.add_argument(
        "--mu",
        type=float,
        help="etas: fix the background rate (events/day), e.g. 0 for one aftershock "
        "sequence (default: estimated)",
    )
    g.add_argument(
        "--b", type=float, help="Gutenberg-Richter b-value of the magnitudes (default: estimated)"
    )
    g.add_argument(
        "--fix",
        action="append",
        metavar="NAME=VALUE",
        help="hold a parameter fixed, e.g. --fix alpha=1.2 (repeatable)",
    )
    g.add_argument("--likelihood", choices=["auto", "exact", "fast"], help="etas: evaluation")
    g.add_argument(
        "--background", action="store_true", help="omori: add a background rate mu"
    )
    g.add_argument(
        "--main-shock-time",
        help="omori: main-shock time (days or ISO date; default 0: times count from it)",
    )
    g.add_argument(
        "--t-start",
        help="start of the fitting window (days or ISO date); etas: earlier events excite "
        "the rate but are not fitted (default: first event)",
    )
    g.add_argument("--t-end", help="end of the fitting window (default: last event)")
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
    g = p.add_argument_group("Gutenberg-Richter fits")
    g.add_argument("--duration", type=float, help="forecast window (catalog time unit)")
    g.add_argument("--n-events", type=int, help="number of future events above Mc")
    g = p.add_argument_group("ETAS and Omori-Utsu fits")
    g.add_argument("--t1", help="start of the forecast window (days or ISO date; default: "
                   "end of the fitting window)")
    g.add_argument("--t2", help="end of the forecast window (default: t1 + 1 day)")
    g.add_argument("--n-sims", type=int, help="number of simulations (default 1000 for "
                   "etas, 4000 for omori)")
    g.add_argument("--seed", type=int, help="random seed (default: from the fit)")
    g.add_argument("--m-max", type=float, help="etas: largest simulated magnitude; needed "
                   "when alpha >= b ln 10")
    g.add_argument("--allow-supercritical", action="store_true",
                   help="etas: forecast even from a supercritical estimate")
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
        description="Simulate a catalog CSV (readable by pystats.read_catalog): magnitudes "
        "of a Gutenberg-Richter law (gr, tapered, detection; times uniform over --duration) "
        "or a temporal ETAS catalog (etas).",
    )
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    magnitudes = argparse.ArgumentParser(add_help=False)
    magnitudes.add_argument("-n", "--n", type=int, default=1000, help="number of events")
    magnitudes.add_argument("--b", type=float, default=1.0)
    magnitudes.add_argument("--mc", type=float, default=2.0)
    magnitudes.add_argument("--delta-m", type=float, default=0.1)
    magnitudes.add_argument("--duration", type=float, default=365.0)
    magnitudes.add_argument("--seed", type=int, default=None)
    magnitudes.add_argument("-o", "--output", required=True, help="CSV file to write")
    for name, text in (
        ("gr", "Gutenberg-Richter magnitudes"),
        ("tapered", "tapered Gutenberg-Richter magnitudes"),
        ("detection", "Gutenberg-Richter magnitudes thinned by a detection probability"),
    ):
        q = models.add_parser(name, parents=[common, magnitudes], help=text,
                              description=f"Simulate {text} (times uniform over --duration).")
        if name == "tapered":
            q.add_argument("--corner-magnitude", type=float, default=7.0)
        if name == "detection":
            q.add_argument("--mu", type=float, default=1.5, help="50%% detection magnitude")
            q.add_argument("--sigma", type=float, default=0.3, help="width of the detection")
        q.set_defaults(func=cmd_simulate)
    q = models.add_parser(
        "etas",
        parents=[common],
        help="temporal ETAS catalog",
        description="Simulate a temporal ETAS catalog on [0, --t-end] days by branching "
        "(pystats.etas.simulate.simulate_etas): rate mu + sum K exp(alpha (M_i - m_ref)) "
        "(t - t_i + c)^(-p), Gutenberg-Richter magnitudes >= mc. Columns: time (days), "
        "magnitude, generation (0: background) and parent (row of the parent, -1: none).",
    )
    q.add_argument("--mu", type=float, default=0.4, help="background rate (events/day)")
    q.add_argument("--K", type=float, default=0.02, help="productivity")
    q.add_argument("--c", type=float, default=0.01, help="Omori-Utsu c (days)")
    q.add_argument("--alpha", type=float, default=1.5, help="magnitude sensitivity")
    q.add_argument("--p", type=float, default=1.2, help="Omori-Utsu p")
    q.add_argument("--m-ref", type=float, help="reference magnitude (default: mc)")
    q.add_argument("--mc", type=float, default=3.0, help="smallest magnitude")
    q.add_argument("--b", type=float, default=1.0, help="Gutenberg-Richter b-value")
    q.add_argument("--delta-m", type=float, default=0.1,
                   help="magnitude bin width; 0 for continuous magnitudes")
    q.add_argument("--t-end", type=float, default=1000.0, help="length of the catalog (days)")
    q.add_argument("--seed", type=int, default=None)
    q.add_argument("--allow-supercritical", action="store_true",
                   help="simulate even with a branching ratio >= 1 over the window")
    q.add_argument("-o", "--output", required=True, help="CSV file to write")
    q.set_defaults(func=cmd_simulate_etas)

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
