"""``pystats simulate maglaw``: magnitudes of a size law of :mod:`pystats.maglaw.laws`.

Declared by :attr:`pystats.maglaw.model.MagnitudeLaw.cli`; :mod:`pystats.cli` builds the
parser from :data:`SIMULATE_COMMANDS`.
"""

from __future__ import annotations

import argparse

import numpy as np

from .. import _checks
from ..cli_spec import Argument, SimulateCommand
from .laws import LAW_PARAMETERS, LAWS

__all__ = ["SIMULATE_COMMANDS", "simulate_law"]

SIMULATE_COMMANDS = (
    SimulateCommand(
        name="maglaw", help="magnitudes of a generalized-gamma-family size law",
        description="Simulate magnitudes of a size law (times uniform over --duration); "
        "with --mu and --sigma, thinned by a detection probit.",
        arguments=(
            Argument("--n", aliases=("-n",), type=int, default=1000, help="number of events"),
            Argument("--law", choices=LAWS, default="tapered_gr"),
            Argument("--b", type=float, default=1.0),
            Argument("--gamma", type=float, default=1.0),
            Argument("--corner-magnitude", type=float, default=4.0),
            Argument("--mc", type=float, default=2.0, help="lowest bin centre"),
            Argument("--delta-m", type=float, default=0.1),
            Argument("--mu", type=float, help="50%% detection magnitude (with --sigma)"),
            Argument("--sigma", type=float, help="width of the detection ramp"),
            Argument("--duration", type=float, default=365.0),
            Argument("--seed", type=int),
        ),
        run="pystats.maglaw.commands:simulate_law",
    ),
)
"""The ``simulate`` command of the magnitude-law family."""


def simulate_law(args: argparse.Namespace) -> int:
    """Write ``args.n`` simulated magnitudes with uniform times to ``args.output``."""
    import pandas as pd

    from .laws import simulate

    n = _checks.integer("n", args.n, 1)
    rng = np.random.default_rng(_checks.seed(args.seed))
    params = {k: getattr(args, k) for k in LAW_PARAMETERS[args.law]}
    m_t = args.mc - args.delta_m / 2
    m = simulate(n, args.law, m_t, params, rng=rng, mu=args.mu, sigma=args.sigma,
                 delta_m=args.delta_m)
    times = np.sort(rng.uniform(0.0, args.duration, size=len(m)))
    frame = pd.DataFrame({"time": times, "magnitude": m})
    frame.to_csv(args.output, index=False, float_format="%.6g")
    print(f"wrote {len(frame)} simulated events to {args.output}")
    return 0
