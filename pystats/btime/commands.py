"""``pystats simulate btime``: a catalogue whose b-value steps or ramps in time.

Declared by :attr:`pystats.btime.model.TimeVaryingB.cli`; :mod:`pystats.cli` builds the
parser from :data:`SIMULATE_COMMANDS`.
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np

from .. import _checks
from ..cli_spec import Argument, SimulateCommand

__all__ = ["SIMULATE_COMMANDS", "simulate_catalogue"]

SIMULATE_COMMANDS = (
    SimulateCommand(
        name="btime", help="a catalogue whose b-value steps or ramps in time",
        description="Simulate GR magnitudes with b going from --b1 to --b2: a step at the "
        "middle of the window (--shape step) or a linear ramp over it (--shape ramp); "
        "times uniform over --duration days.",
        arguments=(
            Argument("--n", aliases=("-n",), type=int, default=2000, help="number of events"),
            Argument("--b1", type=float, default=1.2, help="b at the start"),
            Argument("--b2", type=float, default=0.8, help="b at the end"),
            Argument("--shape", choices=("step", "ramp"), default="step"),
            Argument("--mc", type=float, default=2.0, help="lowest bin centre"),
            Argument("--delta-m", type=float, default=0.1),
            Argument("--duration", type=float, default=1000.0),
            Argument("--seed", type=int),
        ),
        run="pystats.btime.commands:simulate_catalogue",
    ),
)
"""The ``simulate`` command of the time-varying-b family."""


def simulate_catalogue(args: argparse.Namespace) -> int:
    """Write the simulated catalogue (``time``, ``magnitude``) to ``args.output``."""
    import pandas as pd

    from .simulate import b_ramp, b_step, simulate_b_of_t

    d = float(args.duration)
    law = (partial(b_step, b1=args.b1, b2=args.b2, t_change=d / 2) if args.shape == "step"
           else partial(b_ramp, b1=args.b1, b2=args.b2, t_start=0.0, t_end=d))
    for name in ("b1", "b2"):
        _checks.number(name, getattr(args, name), "a number > 0", positive=True)
    t, m = simulate_b_of_t(args.n, law, args.mc, args.delta_m, d,
                           rng=np.random.default_rng(_checks.seed(args.seed)))
    frame = pd.DataFrame({"time": t, "magnitude": m})
    frame.to_csv(args.output, index=False, float_format="%.10g")
    print(f"wrote {len(frame)} simulated events to {args.output}")
    return 0
