"""The ``pystats`` command line, mirroring the Python API.

Subcommands: ``fit``, ``predict``, ``report``, ``simulate``, ``demo``; ``pystats SUB --help``
describes each.  Bad input ends with a one-line ``pystats: error: ...`` message on stderr
and exit status 2; an internal failure exits with status 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PystatsError, PystatsWarning

__all__ = ["main"]

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2

MODELS = {"gr": "GutenbergRichter"}
"""CLI model names -> pystats classes."""


def _mc(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {"kind": args.kind}
    if args.mc is not None:
        opts["mc"] = _mc(args.mc)
    if args.delta_m is not None:
        opts["delta_m"] = args.delta_m
    if args.estimator is not None:
        opts["estimator"] = args.estimator
    return opts


def _read(args: argparse.Namespace):
    from .readers import read_catalog

    kwargs: dict[str, Any] = {"format": args.format}
    if args.missing_magnitude is not None:
        kwargs.update(missing_magnitude=args.missing_magnitude, on_missing=args.on_missing)
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

    catalog = _read(args)
    model = getattr(pystats, MODELS[args.model])(**_model_options(args))
    fit = model.fit(catalog, **_fit_kwargs(args))
    print(fit.summary_text())
    if args.output:
        print(f"saved fit to {fit.save(args.output)}")
    if args.report:
        print(f"wrote report {fit.report(args.report)}")
    if args.summary_csv:
        fit.summary().to_csv(args.summary_csv)
        print(f"wrote summary table {args.summary_csv}")
    return EXIT_OK


def _predict_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kw: dict[str, Any] = {"magnitudes": args.magnitudes, "prob": args.prob}
    if args.duration is not None:
        kw["duration"] = args.duration
    if args.n_events is not None:
        kw["n_events"] = args.n_events
    return kw


def cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .persistence import load

    fit = load(args.fit)
    table = fit.predict(**_predict_kwargs(args))
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

    rng = np.random.default_rng(args.seed)
    if args.model == "gr":
        m = d.simulate_gr(args.n, args.b, args.mc, delta_m=args.delta_m, rng=rng)
    elif args.model == "tapered":
        m = d.simulate_tapered_gr(
            args.n, args.b, args.mc, args.corner_magnitude, delta_m=args.delta_m, rng=rng
        )
    else:  # detection
        m = d.simulate_detection(args.n, args.b, args.mu, args.sigma, delta_m=args.delta_m, rng=rng)
    times = np.sort(rng.uniform(0.0, args.duration, size=len(m)))
    frame = pd.DataFrame({"time": times, "magnitude": np.asarray(m)})
    frame.to_csv(args.output, index=False, float_format="%.6g")
    print(f"wrote {len(frame)} simulated events to {args.output}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulate an incomplete GR catalog, estimate Mc and b, fit with Stan, write a report."""
    import pandas as pd

    import pystats

    from .catalog import Catalog
    from .gr import distributions as d

    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    truth = {"b": 1.0, "mu": 1.4, "sigma": 0.25}
    mags = d.simulate_detection(
        args.n, truth["b"], truth["mu"], truth["sigma"], delta_m=0.1, rng=rng
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
    common.add_argument("-q", "--quiet", action="store_true", help="hide pystats warnings")
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
    p.add_argument("--model", default="gr", choices=sorted(MODELS))
    p.add_argument(
        "--kind",
        default="gr",
        choices=["gr", "tapered", "detection"],
        help="Gutenberg-Richter variant",
    )
    p.add_argument("--mc", help="completeness magnitude, or maxc, gft, mbs, emr to estimate it")
    p.add_argument("--delta-m", type=float, help="magnitude bin width (default: inferred)")
    p.add_argument("--estimator", choices=["exact", "aki", "positive"])
    g = p.add_argument_group("catalog")
    g.add_argument("--format", default="auto", help="catalog format (default: detect)")
    g.add_argument(
        "--missing-magnitude",
        type=float,
        help="magnitude value that means 'missing' (e.g. 0.0 in SAPP files)",
    )
    g.add_argument("--on-missing", default="error", choices=["error", "drop"])
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
        description="Exceedance probabilities and expected counts of M >= m.",
    )
    p.add_argument("fit", help="fit file written by 'pystats fit -o'")
    p.add_argument("--magnitudes", type=float, nargs="+", required=True)
    p.add_argument("--duration", type=float, help="forecast window (catalog time unit)")
    p.add_argument("--n-events", type=int, help="number of future events above Mc")
    p.add_argument("--prob", type=float, default=0.9, help="interval mass")
    p.add_argument("-o", "--output", help="write the table as CSV")
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
        description="Simulate a magnitude catalog (times uniform over --duration).",
    )
    p.add_argument("model", choices=["gr", "tapered", "detection"])
    p.add_argument("-n", "--n", type=int, default=1000, help="number of events")
    p.add_argument("--b", type=float, default=1.0)
    p.add_argument("--mc", type=float, default=2.0)
    p.add_argument("--delta-m", type=float, default=0.1)
    p.add_argument("--corner-magnitude", type=float, default=7.0)
    p.add_argument("--mu", type=float, default=1.5, help="detection: 50%% magnitude")
    p.add_argument("--sigma", type=float, default=0.3, help="detection: width")
    p.add_argument("--duration", type=float, default=365.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    p.set_defaults(func=cmd_simulate)

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="pystats: %(message)s")
    if args.quiet:
        warnings.simplefilter("ignore", PystatsWarning)
    try:
        return args.func(args)
    except (PystatsError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"pystats: error: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
