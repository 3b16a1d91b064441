"""Simulated MORB trace-element data sets from the inversion's own model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import OptionError
from .melting import melt
from .tables import reference

__all__ = ["simulate_morb"]


def simulate_morb(
    n_samples: int,
    elements: Sequence[str],
    *,
    c0: Any = None,
    F: Any = None,
    sigma: Any = 0.05,
    law: str = "aggregated_fractional",
    phi: float = 0.005,
    D: Any = None,
    rng: Any = None,
) -> tuple[Any, dict[str, Any]]:
    """Melts of one source by per-sample degrees of melting, with lognormal scatter.

    Parameters
    ----------
    n_samples : int
    elements : sequence of str
        Element names (columns); :data:`pystats.morb.tables.ELEMENTS` for the defaults.
    c0 : array_like, optional
        Source concentrations (ppm), one per element; default DMM (Workman & Hart 2005).
    F : array_like, optional
        Degrees of melting, one per sample; default uniform on [0.04, 0.16].
    sigma : float or array_like
        Log-scale (about relative) scatter per element.
    law, phi
        Melting law of :func:`pystats.morb.melting.melt`.
    D : array_like, optional
        Bulk partition coefficients; default Workman & Hart (2005).
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per sample (column ``sample`` and one column per element, ppm) and the
        truth: ``C0`` and ``F`` arrays and ``sigma``.

    Examples
    --------
    >>> from pystats.morb.simulate import simulate_morb
    >>> data, truth = simulate_morb(3, ["La", "Yb"], rng=1)
    >>> list(data.columns), truth["F"].shape
    (['sample', 'La', 'Yb'], (3,))
    """
    import pandas as pd

    rng = np.random.default_rng(rng)
    elements = list(elements)
    if int(n_samples) < 1:
        raise OptionError(f"n_samples={n_samples!r} is not allowed; use an integer >= 1")
    dmm, d_wh = reference("DMM_WH2005"), reference("D_WH2005")
    unknown = [e for e in elements if e not in dmm and (c0 is None or D is None)]
    if unknown:
        raise OptionError(f"elements {unknown} have no default C0 or D; give c0= and D=")
    c0 = np.array([dmm[e] for e in elements]) if c0 is None else np.asarray(c0, float)
    D = np.array([d_wh[e] for e in elements]) if D is None else np.asarray(D, float)
    F = rng.uniform(0.04, 0.16, int(n_samples)) if F is None else np.asarray(F, float)
    sig = np.broadcast_to(np.asarray(sigma, float), (len(elements),))
    mean = melt(c0[None, :], D[None, :], F[:, None], law=law, phi=phi) if law == "continuous" \
        else melt(c0[None, :], D[None, :], F[:, None], law=law)
    obs = mean * np.exp(sig[None, :] * rng.standard_normal(mean.shape))
    frame = pd.DataFrame(obs, columns=elements)
    frame.insert(0, "sample", [f"S{i + 1:03d}" for i in range(len(F))])
    return frame, {"C0": c0.copy(), "F": F.copy(), "sigma": sig.copy()}
