"""``pystats simulate gr | tapered | detection``: Gutenberg–Richter magnitudes to a CSV file.

Declared by :attr:`pystats.gr.model.GutenbergRichter.cli`; the command-line machinery
(:mod:`pystats.cli`) builds the parsers from :data:`SIMULATE_COMMANDS`.
"""

from __future__ import annotations

import argparse

import numpy as np

from .. import _checks
from ..cli_spec import Argument, SimulateCommand

__all__ = ["SIMULATE_COMMANDS", "simulate_magnitudes"]

_MAGNITUDES = (
    Argument("--n", aliases=("-n",), type=int, default=1000, help="number of events"),
    Argument("--b", type=float, default=1.0),
    Argument("--mc", type=float, default=2.0),
    Argument("--delta-m", type=float, default=0.1),
    Argument("--duration", type=float, default=365.0),
    Argument("--seed", type=int),
)


def _command(name: str, text: str, *extra: Argument) -> SimulateCommand:
    return SimulateCommand(
        name=name, help=text, description=f"Simulate {text} (times uniform over --duration).",
        arguments=(*_MAGNITUDES, *extra), run="pystats.gr.commands:simulate_magnitudes",
    )


SIMULATE_COMMANDS = (
    _command("gr", "Gutenberg-Richter magnitudes"),
    _command("tapered", "tapered Gutenberg-Richter magnitudes",
             Argument("--corner-magnitude", type=float, default=7.0)),
    _command("detection", "Gutenberg-Richter magnitudes thinned by a detection probability",
             Argument("--mu", type=float, default=1.5, help="50% detection magnitude"),
             Argument("--sigma", type=float, default=0.3, help="width of the detection")),
)
"""The ``simulate`` commands of the Gutenberg–Richter family."""


def simulate_magnitudes(args: argparse.Namespace) -> int:
    """Write ``args.n`` simulated magnitudes with uniform times to ``args.output``."""
    import pandas as pd

    from . import distributions as d

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
    return 0
