"""Process extraction from compositions: PCA or ICA after a log-ratio transform.

``CompositionalProcesses(n_components=K, method="ica" | "pca", transform="ilr" | "clr" |
"standardised")`` finds K directions of compositional change in a table of compositions
(e.g. weathering and igneous differentiation in sediment majors, Lipp et al. 2020) with
scikit-learn's ``PCA`` or ``FastICA``, and gives each direction in **clr loadings** (a unit
vector over the parts, summing to 0: which elements move together, and by how much in log
ratio), the sample scores, and bootstrap intervals of the loadings (components matched to
the full-data ones by |cos| and sign).  ``transform="standardised"`` (z-scores of the raw
parts) is the comparison the compositional transforms are meant to beat; its directions
are mapped to clr loadings at the mean composition (``d clr = dx / x_mean``, centred).

The model behind ICA here: ``ilr(x_i) = mu + sum_k s_ik v_k + noise`` with independent,
non-Gaussian process intensities ``s_ik`` (e.g. degree of weathering, of differentiation)
and process directions ``v_k`` that need not be orthogonal (PCA's are).
:func:`simulate_processes` draws such data (protolith heterogeneity + leaching + a second
process); see ``models/compositional_processes.md``.

References
----------
Egozcue, J. J. et al. (2003). Isometric logratio transformations for compositional data
analysis. Mathematical Geology 35, 279-300.

Hyvärinen, A. and Oja, E. (2000). Independent component analysis: algorithms and
applications. Neural Networks 13, 411-430.

Lipp, A. G., Shorttle, O., Syvret, F. and Roberts, G. G. (2020). Major element composition
of sediments in terms of weathering and provenance: implications for crustal recycling.
Geochemistry, Geophysics, Geosystems 21, e2019GC008758.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from .transforms import clr, helmert_basis

__all__ = ["CompositionalProcesses", "ProcessesResult", "direction_cosines",
           "simulate_processes"]

METHODS = ("ica", "pca")
TRANSFORMS = ("ilr", "clr", "standardised")


def _unit_clr(v: np.ndarray) -> np.ndarray:
    v = v - v.mean(axis=-1, keepdims=True)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def direction_cosines(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """|cos| between each true direction and its best-matching found one (one-to-one,
    Hungarian assignment); rows are directions in clr coordinates."""
    from scipy.optimize import linear_sum_assignment

    f, t = _unit_clr(np.asarray(found, float)), _unit_clr(np.asarray(truth, float))
    c = np.abs(t @ f.T)
    rows, cols = linear_sum_assignment(-c)
    out = np.zeros(t.shape[0])
    out[rows] = c[rows, cols]
    return out


@dataclass(frozen=True)
class ProcessesResult:
    """Directions of compositional change found by :class:`CompositionalProcesses`.

    Attributes
    ----------
    loadings : DataFrame
        K x D clr loadings (unit vectors, rows sum to 0), components ``c1..cK``.
    lower, upper : DataFrame
        Bootstrap ``prob`` intervals of the loadings.
    scores : DataFrame
        Sample scores (n x K).
    explained : ndarray
        Share of the transformed data's variance along each component.
    bootstrap : ndarray
        Bootstrap loadings (B x K x D), matched to ``loadings`` by |cos| and sign.

    Examples
    --------
    >>> sim = simulate_processes(n=200, seed=0)
    >>> res = CompositionalProcesses(2, n_bootstrap=20).fit(sim.data, seed=0)
    >>> res.loadings.shape, res.bootstrap.shape, list(res.summary().columns)
    ((2, 8), (20, 2, 8), ['component', 'part', 'loading', 'lower', 'upper'])
    """

    loadings: pd.DataFrame
    lower: pd.DataFrame
    upper: pd.DataFrame
    scores: pd.DataFrame
    explained: np.ndarray
    bootstrap: np.ndarray
    options: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Long table: component, part, loading, lower, upper."""
        rows = []
        for c in self.loadings.index:
            for part in self.loadings.columns:
                rows.append({"component": c, "part": part,
                             "loading": self.loadings.loc[c, part],
                             "lower": self.lower.loc[c, part],
                             "upper": self.upper.loc[c, part]})
        return pd.DataFrame(rows)

    def report_figures(self, data: pd.DataFrame | None = None) -> list[tuple[str, Any]]:
        """Loadings with bootstrap intervals, and (with ``data``) a Harker-style plot of
        the data's clr coordinates with the extracted directions."""
        from ..plots import processes as plots

        figs = [("clr loadings of the components", plots.loadings_figure(self))]
        if data is not None:
            figs.append(("Data and extracted directions", plots.directions_figure(self, data)))
        return figs


class CompositionalProcesses:
    """K process directions by PCA or FastICA after a log-ratio transform.

    Parameters
    ----------
    n_components : int
        Number of directions K (1 <= K <= D - 1).
    method : {"ica", "pca"}
    transform : {"ilr", "clr", "standardised"}
        ``ilr`` (Helmert basis, Egozcue et al. 2003) or ``clr``: the compositional
        transforms (PCA gives the same clr loadings for both; FastICA whitens, so also
        the same up to numerical error); ``standardised``: z-scores of the raw parts, the
        non-compositional comparison.
    n_bootstrap : int
        Bootstrap resamples of the rows for the loadings' intervals (0: none).
    prob : float
        Interval mass.

    Examples
    --------
    >>> from pystats.compositional.processes import (CompositionalProcesses,
    ...     direction_cosines, simulate_processes)
    >>> sim = simulate_processes(n=400, seed=1)
    >>> res = CompositionalProcesses(2, n_bootstrap=0).fit(sim.data, seed=1)
    >>> bool(direction_cosines(res.loadings.to_numpy(), sim.directions).min() > 0.99)
    True
    """

    def __init__(self, n_components: int = 2, *, method: str = "ica", transform: str = "ilr",
                 n_bootstrap: int = 200, prob: float = 0.9) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, int | np.integer) \
                or n_components < 1:
            raise OptionError(f"n_components={n_components!r} is not allowed; use an "
                              "integer >= 1")
        if method not in METHODS:
            raise OptionError(f"method={method!r} is not allowed; use one of ica, pca")
        if transform not in TRANSFORMS:
            raise OptionError(f"transform={transform!r} is not allowed; use one of "
                              f"{', '.join(TRANSFORMS)}")
        if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer) \
                or n_bootstrap < 0:
            raise OptionError(f"n_bootstrap={n_bootstrap!r} is not allowed; use an integer "
                              ">= 0")
        if not 0 < prob < 1:
            raise OptionError(f"prob={prob!r} is not allowed; use a number in (0, 1)")
        self.options = {"n_components": int(n_components), "method": method,
                        "transform": transform, "n_bootstrap": int(n_bootstrap),
                        "prob": float(prob)}

    def __repr__(self) -> str:
        return "CompositionalProcesses(" + ", ".join(
            f"{k}={v!r}" for k, v in self.options.items()) + ")"

    # ------------------------------------------------------------------ core
    def _directions(self, x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]:
        """clr loadings (K x D), scores (n x K) and explained shares for rows ``x``."""
        from sklearn.decomposition import PCA, FastICA

        K, D = self.options["n_components"], x.shape[1]
        t = self.options["transform"]
        if t == "standardised":
            mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
            if np.any(sd == 0):
                raise DataError("a part is constant; it cannot be standardised")
            z = (x - mean) / sd
            to_clr = (lambda m: (m * sd[None, :]) / mean[None, :])  # noqa: E731
        else:
            logs = np.log(x)
            y = logs - logs.mean(axis=1, keepdims=True)
            if t == "ilr":
                V = helmert_basis(D)
                z = y @ V.T
                to_clr = (lambda m: m @ V)  # noqa: E731
            else:
                z = y
                to_clr = (lambda m: m)  # noqa: E731
        zc = z - z.mean(axis=0)
        total = float(np.sum(zc**2))
        if self.options["method"] == "pca":
            est = PCA(n_components=K, random_state=seed).fit(zc)
            dirs = est.components_
            scores = est.transform(zc)
        else:
            est = FastICA(n_components=K, whiten="unit-variance", random_state=seed,
                          max_iter=2000, tol=1e-6)
            scores = est.fit_transform(zc)
            dirs = est.mixing_.T  # K x dim: the change per unit of each source
        load = _unit_clr(to_clr(dirs))
        # sign: make the largest loading positive (a convention for the report)
        sign = np.sign(load[np.arange(K), np.argmax(np.abs(load), axis=1)])
        load = load * sign[:, None]
        scores = scores * sign[None, :]
        explained = np.array([float(np.sum((np.outer(scores[:, k], dirs[k] * sign[k])) ** 2))
                              / total for k in range(K)])
        order = np.argsort(-explained)
        return load[order], scores[:, order], explained[order]

    def fit(self, data: Any, *, parts: list[str] | None = None,
            seed: int | None = None) -> ProcessesResult:
        """Extract the directions from ``data`` (rows: samples; positive parts).

        ``parts`` selects columns (default: every numeric column); rows with a missing,
        zero or negative part raise a :class:`DataError` naming them (replace values below
        detection first: :func:`pystats.compositional.replace_below_detection`).
        """
        if not isinstance(data, pd.DataFrame):
            data = pd.DataFrame(np.asarray(data, dtype=float))
        if parts is None:
            parts = [c for c in data.columns if pd.api.types.is_numeric_dtype(data[c])]
        missing = [p for p in parts if p not in data.columns]
        if missing:
            raise DataError(f"data have no column(s) {missing}")
        frame = data[parts]
        K = self.options["n_components"]
        if K > len(parts) - 1:
            raise OptionError(f"n_components={K} is not allowed for {len(parts)} parts; use "
                              f"at most {len(parts) - 1}")
        x = clr(frame)  # validates: positive, finite (error names row and column)
        x = frame.to_numpy(dtype=float)
        if x.shape[0] < 2 * len(parts):
            raise DataError(f"{x.shape[0]} samples are too few for {len(parts)} parts; need "
                            f"at least {2 * len(parts)}")
        seed = 0 if seed is None else int(seed)
        load, scores, explained = self._directions(x, seed)
        rng = np.random.default_rng(seed)
        B = self.options["n_bootstrap"]
        boot = np.empty((B, K, len(parts)))
        from scipy.optimize import linear_sum_assignment

        for b in range(B):
            rows = rng.integers(0, x.shape[0], x.shape[0])
            lb, _, _ = self._directions(x[rows], seed + 1 + b)
            c = load @ lb.T
            r, cidx = linear_sum_assignment(-np.abs(c))
            matched = lb[cidx[np.argsort(r)]]
            signs = np.sign(np.sum(matched * load, axis=1))
            boot[b] = matched * signs[:, None]
        prob = self.options["prob"]
        names = [f"c{k + 1}" for k in range(K)]
        L = pd.DataFrame(load, index=names, columns=[str(p) for p in parts])
        if B:
            lo = np.quantile(boot, (1 - prob) / 2, axis=0)
            hi = np.quantile(boot, (1 + prob) / 2, axis=0)
        else:
            lo = hi = np.full_like(load, np.nan)
        return ProcessesResult(
            loadings=L,
            lower=pd.DataFrame(lo, index=names, columns=L.columns),
            upper=pd.DataFrame(hi, index=names, columns=L.columns),
            scores=pd.DataFrame(scores, index=data.index, columns=names),
            explained=explained, bootstrap=boot, options=dict(self.options))


# ---------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class ProcessesSimulation:
    """Simulated compositions (``data``), the true clr directions (K x D) and the true
    process intensities (n x K).

    Examples
    --------
    >>> sim = simulate_processes(n=5, seed=0)
    >>> sim.intensities.shape, round(float(sim.data.sum(axis=1).iloc[0]), 6)
    ((5, 2), 100.0)
    """

    data: pd.DataFrame
    directions: np.ndarray
    intensities: np.ndarray


MAJORS = ["SiO2", "Al2O3", "Fe2O3", "MgO", "CaO", "Na2O", "K2O", "TiO2"]
PROTOLITH = np.array([66.0, 15.5, 4.5, 2.2, 3.5, 3.8, 3.0, 0.6])
"""A granodiorite-like mean composition (wt %) for :func:`simulate_processes`."""
# log-ratio change per unit of process: weathering leaches Ca, Na, Mg (and some K, Si)
# relative to Al and Ti; differentiation raises Si and K, lowers Mg, Fe, Ca, Ti.
WEATHERING = np.array([-0.2, 0.0, 0.0, -0.6, -1.0, -1.0, -0.3, 0.0])
DIFFERENTIATION = np.array([0.15, -0.1, -0.6, -0.8, -0.5, 0.1, 0.4, -0.5])


def simulate_processes(n: int = 300, *, noise: float = 0.03, heterogeneity: float = 0.03,
                       seed: int | None = None) -> ProcessesSimulation:
    """Compositions from protolith heterogeneity, weathering and differentiation.

    ``clr(x_i) = clr(x0) + s_i1 w + s_i2 d + h_i + e_i``: intensities ``s_i1 ~ U(0, 1.5)``
    (weathering) and ``s_i2 ~ Exponential(0.5)`` (differentiation), independent and
    non-Gaussian; ``h`` protolith heterogeneity and ``e`` analytical noise, Gaussian
    with sd ``heterogeneity`` and ``noise`` per part (log scale).

    Examples
    --------
    >>> sim = simulate_processes(n=10, seed=0)
    >>> sim.data.shape, sim.directions.shape
    ((10, 8), (2, 8))
    """
    rng = np.random.default_rng(seed)
    s = np.column_stack([rng.uniform(0.0, 1.5, n), rng.exponential(0.5, n)])
    dirs = np.vstack([WEATHERING, DIFFERENTIATION])
    logs = (np.log(PROTOLITH)[None, :] + s @ dirs
            + rng.normal(0.0, heterogeneity, (n, len(MAJORS)))
            + rng.normal(0.0, noise, (n, len(MAJORS))))
    x = np.exp(logs)
    x = 100.0 * x / x.sum(axis=1, keepdims=True)
    return ProcessesSimulation(data=pd.DataFrame(x, columns=MAJORS),
                               directions=_unit_clr(dirs), intensities=s)
