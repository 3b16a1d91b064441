"""Which law do PSIS-LOO and AIC prefer on catalogues simulated from each law?

``python tests/maglaw_confusion.py [n_rep] [n_events] [method]`` simulates ``n_rep``
catalogues of ``n_events`` binned magnitudes (Mc 2.0, bin 0.1) from each law of
:data:`TRUTH`, fits every law with ``method`` (``laplace``: LOO and AIC; ``mle``: AIC and
BIC only) and prints the confusion tables (rows: true law, columns: preferred law).  The
slow test ``tests/test_maglaw_recovery.py`` runs a smaller version; the tables in
``models/magnitude_laws.md`` §7 come from this script.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

import pystats
from pystats.maglaw.laws import LAWS, simulate

TRUTH = {
    "gr": {"b": 1.0},
    "tapered_gr": {"b": 1.0, "corner_magnitude": 3.0},
    "gamma": {"b": 0.8, "corner_magnitude": 3.0},
    "exponential_moment": {"corner_magnitude": 2.5},
    "weibull": {"gamma": 0.5, "corner_magnitude": 2.5},
    "generalized_gamma": {"b": 0.9, "gamma": 0.6, "corner_magnitude": 3.0},
}


def confusion(n_rep: int, n_events: int, method: str = "laplace",
              seed: int = 0) -> dict[str, pd.DataFrame]:
    """Counts of the preferred law by criterion (``aic``, ``bic``, ``loo``)."""
    crits = ("aic", "bic", "loo") if method in ("laplace", "nuts") else ("aic", "bic")
    tables = {c: pd.DataFrame(0, index=list(TRUTH), columns=list(LAWS)) for c in crits}
    rng = np.random.default_rng(seed)
    for true, p in TRUTH.items():
        for _ in range(n_rep):
            m = simulate(n_events, true, 1.95, p, rng=rng, delta_m=0.1)
            fits = {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for law in LAWS:
                    kw = {"draws": 400} if method == "laplace" else {}
                    fits[law] = pystats.MagnitudeLaw(law=law, mc=2.0).fit(
                        m, method=method, seed=int(rng.integers(1 << 30)), **kw)
                table = pystats.compare(fits)
            tables["aic"].loc[true, table["aic"].idxmin()] += 1
            tables["bic"].loc[true, table["bic"].idxmin()] += 1
            if "loo" in tables:
                tables["loo"].loc[true, table["elpd_loo"].idxmax()] += 1
    return tables


if __name__ == "__main__":
    n_rep = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    n_events = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    method = sys.argv[3] if len(sys.argv) > 3 else "laplace"
    for crit, table in confusion(n_rep, n_events, method).items():
        print(f"\n{crit} ({n_rep} replicates of {n_events} events per true law, {method})")
        print(table.to_string())
