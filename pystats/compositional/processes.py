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

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from .transforms import clr, helmert_basis

__all__ = ["CompositionalProcesses", "ProcessesPrediction", "ProcessesResult",
           "direction_cosines", "simulate_processes"]

FORMAT = "pystats.processes"
"""``pystats_format`` of a saved :class:`ProcessesResult` (read back by ``pystats.load``)."""
FORMAT_VERSION = 1

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
    options : dict
        The options of the :class:`CompositionalProcesses` that made the result.
    state : dict of ndarray
        The fitted map in the transformed space (ilr: D-1 coordinates, clr and
        standardised: D): ``center``, ``unmixing`` (K x dim; scores are
        ``(z - center) @ unmixing.T``) and ``mixing`` (K x dim; ``z`` is reconstructed as
        ``center + scores @ mixing``); for ``standardised`` also ``raw_mean``, ``raw_sd``.

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
    state: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def parts(self) -> list[str]:
        """The parts (columns) the result was fitted on, in order."""
        return [str(p) for p in self.loadings.columns]

    def _new_rows(self, new_data: Any) -> pd.DataFrame:
        parts = self.parts
        if not isinstance(new_data, pd.DataFrame):
            arr = np.asarray(new_data, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != len(parts):
                raise DataError(f"new_data as an array must have shape (n, {len(parts)}) "
                                f"(columns {parts}), not {arr.shape}; or pass a DataFrame "
                                "with those columns")
            new_data = pd.DataFrame(arr, columns=parts)
        missing = [p for p in parts if p not in new_data.columns]
        if missing:
            raise DataError(f"new_data lack part(s) {missing} of the fit; the fit's parts are "
                            f"{parts}")
        extra = [str(c) for c in new_data.columns if c not in parts
                 and pd.api.types.is_numeric_dtype(new_data[c])]
        if extra:
            raise DataError(f"new_data have numeric column(s) {extra} that are not parts of "
                            f"the fit; allowed parts are {parts} (select them: "
                            "new_data[result.parts])")
        frame = new_data[parts]
        clr(frame)  # validates: positive, finite (error names row, column and value)
        return frame

    def predict(self, new_data: Any, n_components: int | None = None) -> ProcessesPrediction:
        """Scores of new samples on the components and their reconstruction.

        The fit's own transform, centring (and, for ``standardised``, scaling) and
        unmixing are applied to ``new_data``; the reconstruction keeps the first
        ``n_components`` components (default: all K), ``z = center + scores @ mixing``,
        back-transformed to compositions closed to each row's own total (for
        ``standardised``: un-scaled raw values).  With K = D - 1 the reconstruction is the
        data (to rounding); on the fit's own data the scores are ``scores``.

        Parameters
        ----------
        new_data : DataFrame or array
            Rows of the fit's parts (positive, finite); other numeric columns are an error,
            non-numeric ones (sample names) are ignored.
        n_components : int, optional
            Components used in the reconstruction, 1..K.

        Returns
        -------
        ProcessesPrediction

        Raises
        ------
        DataError
            A part missing or an extra numeric column (named), or a zero, negative or
            missing value (row, column and value named).
        OptionError
            ``n_components`` outside 1..K.

        Examples
        --------
        >>> sim = simulate_processes(n=100, seed=0)
        >>> res = CompositionalProcesses(7, method="pca", n_bootstrap=0).fit(sim.data)
        >>> pred = res.predict(sim.data)
        >>> bool(np.allclose(pred.reconstruction, sim.data))
        True
        """
        K = self.loadings.shape[0]
        k = K if n_components is None else n_components
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= K:
            raise OptionError(f"n_components={n_components!r} is not allowed; use an integer "
                              f"in 1..{K}")
        frame = self._new_rows(new_data)
        x = frame.to_numpy(dtype=float)
        st = self.state
        t = self.options["transform"]
        if t == "standardised":
            z = (x - st["raw_mean"]) / st["raw_sd"]
        else:
            y = np.log(x)
            y = y - y.mean(axis=1, keepdims=True)
            z = y @ helmert_basis(x.shape[1]).T if t == "ilr" else y
        scores = (z - st["center"]) @ st["unmixing"].T
        zhat = st["center"] + scores[:, :k] @ st["mixing"][:k]
        if t == "standardised":
            xhat = zhat * st["raw_sd"] + st["raw_mean"]
        else:
            yhat = zhat @ helmert_basis(x.shape[1]) if t == "ilr" else zhat
            e = np.exp(yhat - yhat.max(axis=1, keepdims=True))
            xhat = e / e.sum(axis=1, keepdims=True) * x.sum(axis=1, keepdims=True)
        return ProcessesPrediction(
            scores=pd.DataFrame(scores, index=frame.index, columns=self.loadings.index),
            reconstruction=pd.DataFrame(xhat, index=frame.index, columns=frame.columns),
            n_components=int(k))

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

    def report(self, path: str | os.PathLike[str], data: pd.DataFrame | None = None) -> Path:
        """Write a self-contained HTML report: options, explained variance, the loadings
        with their bootstrap intervals, the score summary and :meth:`report_figures`
        (the data figure only when ``data`` are given).  Returns the path written."""
        from ..report import write_page

        o = self.options
        title = (f"pystats report: CompositionalProcesses ({o['transform']}-"
                 f"{o['method']}, K = {self.loadings.shape[0]})")
        expl = pd.DataFrame({"explained variance share": self.explained,
                             "cumulative": np.cumsum(self.explained)},
                            index=self.loadings.index)
        tab = self.summary().set_index(["component", "part"])
        sections = [
            ("Options", [[*o.items(), ("parts", ", ".join(self.parts)),
                          ("samples", len(self.scores))]]),
            ("Explained variance", [
                "Share of the transformed data's total variance along each component.",
                expl]),
            ("clr loadings", [
                f"Unit vectors over the parts (rows sum to 0); {o['prob']:.0%} bootstrap "
                f"intervals from {self.bootstrap.shape[0]} resamples of the rows "
                "(components matched by |cos| and sign).", self.loadings,
                tab]),
            ("Scores", ["Summary of the sample scores.", self.scores.describe()]),
            ("Figures", self.report_figures(data)),
        ]
        return write_page(path, title, sections)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result to one NetCDF file (read back by ``pystats.load``)."""
        from ..persistence import _dataset, _dumps_or, write_atomic

        path = Path(path)
        arrays = {"loadings": self.loadings.to_numpy(), "lower": self.lower.to_numpy(),
                  "upper": self.upper.to_numpy(), "scores": self.scores.to_numpy(),
                  "explained": np.asarray(self.explained), "bootstrap": self.bootstrap,
                  **{f"state_{k}": v for k, v in self.state.items()}}
        ds = _dataset(arrays)
        meta = {"options": self.options, "parts": self.parts,
                "components": [str(c) for c in self.loadings.index],
                "index": self.scores.index.tolist(), "index_name": self.scores.index.name}
        ds.attrs = {"pystats_format": FORMAT, "pystats_format_version": FORMAT_VERSION,
                    "meta": _dumps_or(meta, "result", DataError, "value")}
        return write_atomic(path, lambda tmp: ds.to_netcdf(tmp, mode="w", engine="h5netcdf"))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ProcessesResult:
        """Read a file written by :meth:`save` (``pystats.load`` calls this)."""
        import xarray as xr

        from ..persistence import _arrays, _loads

        with xr.open_dataset(path, engine="h5netcdf") as ds:
            a = _arrays(ds.load())
            meta = _loads(ds.attrs["meta"])
        comps, parts = meta["components"], meta["parts"]
        index = pd.Index(meta["index"], name=meta["index_name"])

        def frame(v: np.ndarray, rows: Any = comps, cols: Any = parts) -> pd.DataFrame:
            return pd.DataFrame(v, index=rows, columns=cols)

        return cls(loadings=frame(a["loadings"]), lower=frame(a["lower"]),
                   upper=frame(a["upper"]), scores=frame(a["scores"], index, comps),
                   explained=a["explained"], bootstrap=a["bootstrap"],
                   options=meta["options"],
                   state={k[6:]: v for k, v in a.items() if k.startswith("state_")})


@dataclass(frozen=True)
class ProcessesPrediction:
    """What :meth:`ProcessesResult.predict` returns: ``scores`` (n x K) of the new rows
    and their ``reconstruction`` (n x D compositions) from the first ``n_components``.

    Examples
    --------
    >>> sim = simulate_processes(n=200, seed=0)
    >>> res = CompositionalProcesses(2, n_bootstrap=0).fit(sim.data, seed=0)
    >>> pred = res.predict(sim.data.iloc[:5])
    >>> pred.scores.shape, pred.reconstruction.shape, pred.n_components
    ((5, 2), (5, 8), 2)
    """

    scores: pd.DataFrame
    reconstruction: pd.DataFrame
    n_components: int


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
                                                             np.ndarray, dict[str, np.ndarray]]:
        """clr loadings (K x D), scores (n x K), explained shares for rows ``x``, and the
        fitted map (``center``, ``unmixing``, ``mixing`` in the transformed space; for
        ``standardised`` also ``raw_mean``, ``raw_sd``) that :meth:`ProcessesResult.predict`
        applies to new rows."""
        from sklearn.decomposition import PCA, FastICA

        K, D = self.options["n_components"], x.shape[1]
        t = self.options["transform"]
        if t == "standardised":
            mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
            if np.any(sd == 0):
                raise DataError("a part is constant; it cannot be standardised")
            z = (x - mean) / sd
            state = {"raw_mean": mean, "raw_sd": sd}
            to_clr = (lambda m: (m * sd[None, :]) / mean[None, :])  # noqa: E731
        else:
            state = {}
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
            unmixing = est.components_
        else:
            est = FastICA(n_components=K, whiten="unit-variance", random_state=seed,
                          max_iter=2000, tol=1e-6)
            scores = est.fit_transform(zc)
            dirs = est.mixing_.T  # K x dim: the change per unit of each source
            unmixing = est.components_
        load = _unit_clr(to_clr(dirs))
        # sign: make the largest loading positive (a convention for the report)
        sign = np.sign(load[np.arange(K), np.argmax(np.abs(load), axis=1)])
        load = load * sign[:, None]
        scores = scores * sign[None, :]
        explained = np.array([float(np.sum((np.outer(scores[:, k], dirs[k] * sign[k])) ** 2))
                              / total for k in range(K)])
        order = np.argsort(-explained)
        # scores = (z - center) @ unmixing.T; z ~ center + scores @ mixing (exact at K = dim)
        state.update(center=z.mean(axis=0) + est.mean_,
                     unmixing=(unmixing * sign[:, None])[order],
                     mixing=(dirs * sign[:, None])[order])
        return load[order], scores[:, order], explained[order], state

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
        load, scores, explained, state = self._directions(x, seed)
        rng = np.random.default_rng(seed)
        B = self.options["n_bootstrap"]
        boot = np.empty((B, K, len(parts)))
        from scipy.optimize import linear_sum_assignment

        for b in range(B):
            rows = rng.integers(0, x.shape[0], x.shape[0])
            lb, _, _, _ = self._directions(x[rows], seed + 1 + b)
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
            explained=explained, bootstrap=boot, options=dict(self.options), state=state)


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
