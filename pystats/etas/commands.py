"""``pystats simulate etas``: a temporal ETAS catalog to a CSV file.

Declared by :attr:`pystats.etas.model.ETAS.cli`; the command-line machinery
(:mod:`pystats.cli`) builds the parser from :data:`SIMULATE_COMMANDS`.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from .. import _checks
from ..cli_spec import Argument, SimulateCommand
from ..errors import OptionError

__all__ = ["SIMULATE_COMMANDS", "simulate_catalog"]

SIMULATE_COMMANDS = (
    SimulateCommand(
        name="etas",
        help="temporal ETAS catalog",
        description="Simulate a temporal ETAS catalog on [0, --t-end] days by branching "
        "(pystats.etas.simulate.simulate_etas): rate mu + sum K exp(alpha (M_i - m_ref)) "
        "(t - t_i + c)^(-p), Gutenberg-Richter magnitudes >= mc. Columns: time (days), "
        "magnitude, generation (0: background) and parent (row of the parent, -1: none).",
        arguments=(
            Argument("--mu", type=float, default=0.4, help="background rate (events/day)"),
            Argument("--K", type=float, default=0.02, help="productivity"),
            Argument("--c", type=float, default=0.01, help="Omori-Utsu c (days)"),
            Argument("--alpha", type=float, default=1.5, help="magnitude sensitivity"),
            Argument("--p", type=float, default=1.2, help="Omori-Utsu p"),
            Argument("--m-ref", type=float, help="reference magnitude (default: mc)"),
            Argument("--mc", type=float, default=3.0, help="smallest magnitude"),
            Argument("--b", type=float, default=1.0, help="Gutenberg-Richter b-value"),
            Argument("--delta-m", type=float, default=0.1,
                     help="magnitude bin width; 0 for continuous magnitudes"),
            Argument("--t-end", type=float, default=1000.0,
                     help="length of the catalog (days)"),
            Argument("--seed", type=int),
            Argument("--allow-supercritical", action="store_true",
                     help="simulate even with a branching ratio >= 1 over the window"),
        ),
        run="pystats.etas.commands:simulate_catalog",
    ),
)
"""The ``simulate`` command of the ETAS family."""


def simulate_catalog(args: argparse.Namespace) -> int:
    """Simulate an ETAS catalog (:func:`pystats.etas.simulate.simulate_etas`) to a CSV file."""
    from ..gr.distributions import simulate_gr
    from .simulate import simulate_etas

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
    return 0
