"""Isocon mass balance: Grant's isocon and the sparse Bayesian isocon.

``GrantIsocon(immobile=[...])`` is Grant's (1986, 2005) isocon with user-chosen immobile
elements, exact and closed form.  ``SparseIsocon(prior=...)`` selects the immobile
elements itself from several altered samples of one protolith (after Kuwatani et al.
2020): a log-space model ``y[n, j] = a[n] + b[n, j] + delta[j] + eps[n, j]`` with a
sparsity prior on the transfers ``b`` (regularised horseshoe or Laplace) fitted by Stan
(``laplace``, ``nuts``), and a penalised (group-)lasso fast path (``map``).  The model,
the priors and which choices are this package's are in ``models/sparse_isocon.md``.

Data: ``fit(altered, protolith=...)`` with ``altered`` a DataFrame, one row per altered
sample (the index names the samples), one column per element or oxide, and
``protolith`` a DataFrame of one or more analyses of the parent (or a Series / mapping),
with the same columns in the same units (columns may differ in units among themselves:
only ratios ``C_A / C_0`` of one column enter).  Summary rows: ``a[<sample>]`` and
``b[<sample>,<element>]`` (parameters or their derived values), ``mass_ratio[<sample>]``
(:math:`M_0/M_A`) and ``tau[<sample>,<element>]`` (:math:`\\Delta C/C_0`).

References
----------
Brimhall, G. H. and Dietrich, W. E. (1987). Geochimica et Cosmochimica Acta 51, 567-587.

Grant, J. A. (1986). The isocon diagram. Economic Geology 81, 1976-1982.

Grant, J. A. (2005). Isocon analysis: a brief review of the method and applications.
Physics and Chemistry of the Earth 30, 997-1004.

Kuwatani, T. et al. (2020). Sparse isocon method for quantitative mass-balance analysis of
metasomatic alteration. Chemical Geology 532, 119345.

Piironen, J. and Vehtari, A. (2017). Sparsity information and regularization in the
horseshoe and other shrinkage priors. Electronic Journal of Statistics 11, 5018-5051.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._warnings import warn as _warn
from ..cli_spec import Argument, CommandLine
from ..constraints import Booleans, Constraint, Interval, Mappings, Option, StrOptions
from ..errors import DataError, OptionError, PystatsWarning
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from .transforms import as_composition

if TYPE_CHECKING:
    import pandas as pd

    from ..diagnostics import ModelCheck
    from ..fit import Fit

__all__ = ["GrantIsocon", "IsoconIdentifiabilityWarning", "SparseIsocon",
           "collapsed_conditional", "collapsed_log_likelihood", "horseshoe_scale2",
           "penalised_isocon", "read_composition_table"]


class IsoconIdentifiabilityWarning(PystatsWarning):
    """The immobile elements, hence the mass change, are not identified by the data: too
    few elements classed immobile, a second group of elements sharing another common
    ratio (a second isocon), or chains disagreeing on the mass change.

    Examples
    --------
    >>> import warnings, pystats
    >>> from pystats.compositional.isocon import IsoconIdentifiabilityWarning
    >>> issubclass(IsoconIdentifiabilityWarning, pystats.PystatsWarning)
    True
    """


# ---------------------------------------------------------------------------- data
def read_composition_table(path: str) -> pd.DataFrame:
    """A CSV of compositions: rows are samples; a first non-numeric column (or one named
    ``sample``/``id``/``name``, any case) becomes the index; used by the command line."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read composition table {path!r}: {e}") from e
    if frame.empty:
        raise DataError(f"composition table {path!r} has no rows")
    first = frame.columns[0]
    if (str(first).strip().lower() in ("sample", "id", "name", "unnamed: 0")
            or not pd.api.types.is_numeric_dtype(frame[first])):
        frame = frame.set_index(first)
    frame.attrs["source"] = str(path)
    return frame


def _error_vector(name: str, value: Any, elements: list[str]) -> np.ndarray:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(elements))
        if unknown:
            raise OptionError(f"{name} names unknown element(s) {unknown}; the elements "
                              f"are {', '.join(elements)}")
        missing = [el for el in elements if el not in value]
        if missing:
            raise OptionError(f"{name} gives no error for element(s) {missing}; give every "
                              "element or a single number")
        out = np.array([float(value[el]) for el in elements])
    else:
        out = np.full(len(elements), float(value))
    if not np.all(np.isfinite(out)) or np.any(out <= 0):
        raise OptionError(f"{name}={value!r} is not allowed; use relative errors > 0")
    return out


def prepare_isocon(altered: Any, protolith: Any, elements: Sequence[str] | None,
                   analytical_error: Any, protolith_error: float) -> PreparedData:
    """Validate the altered and protolith tables and build the log-ratio data."""
    import pandas as pd

    if not isinstance(altered, pd.DataFrame):
        raise DataError(f"altered must be a pandas DataFrame (rows: samples, columns: "
                        f"elements), not {type(altered).__name__}")
    if altered.empty:
        raise DataError("altered is empty (no rows or no columns)")
    if protolith is None:
        raise DataError("protolith is missing: pass fit(altered, protolith=...) (one or more "
                        "analyses of the parent, same columns and units)")
    if isinstance(protolith, Mapping):
        protolith = pd.DataFrame([dict(protolith)])
    elif isinstance(protolith, pd.Series):
        protolith = protolith.to_frame().T
    if not isinstance(protolith, pd.DataFrame) or protolith.empty:
        raise DataError("protolith must be a non-empty DataFrame, Series or mapping "
                        "element -> concentration")
    if elements is None:
        elements = [str(c) for c in altered.columns
                    if pd.api.types.is_numeric_dtype(altered[c]) and c in protolith.columns]
        ignored = [str(c) for c in altered.columns if str(c) not in elements]
    else:
        elements = [str(c) for c in elements]
        ignored = []
    missing = [el for el in elements if el not in altered.columns]
    if missing:
        raise DataError(f"altered has no column(s) {missing}; its columns are "
                        f"{[str(c) for c in altered.columns]}")
    missing = [el for el in elements if el not in protolith.columns]
    if missing:
        raise DataError(f"protolith has no column(s) {missing} of altered; its columns are "
                        f"{[str(c) for c in protolith.columns]}")
    if len(elements) < 2:
        raise DataError(f"isocon needs at least 2 element columns shared by altered and "
                        f"protolith; found {elements}")
    if len(set(elements)) != len(elements):
        raise DataError(f"element columns are repeated: {elements}")
    ca = as_composition(altered[elements], "altered")
    c0 = as_composition(protolith[elements], "protolith")
    samples = [str(i) for i in altered.index]
    if len(set(samples)) != len(samples):
        raise DataError("altered sample names (the index) are repeated; give unique names")
    e = _error_vector("analytical_error", analytical_error, elements)
    log0 = np.log(c0)
    R = log0.shape[0]
    if R >= 2:
        s = np.maximum(log0.std(axis=0, ddof=1), e) / np.sqrt(R)
    else:
        s = np.full(len(elements), float(protolith_error))
    y = np.log(ca) - log0.mean(axis=0)
    return PreparedData(
        values={"y": y, "e": e, "s": s, "N": y.shape[0], "J": y.shape[1]},
        observed={"y": y.ravel()},
        summary={"n": y.shape[0], "samples": samples, "elements": list(elements),
                 "n_protolith": R, "ignored_columns": ignored,
                 "protolith_mean": np.exp(log0.mean(axis=0)).tolist()},
    )


# ---------------------------------------------------------------------------- Grant
def grant_estimate(y: np.ndarray, e: np.ndarray, s: np.ndarray, immobile: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grant's isocon in log space: ``a`` (N,), the transfers ``b = y - a`` of the mobile
    elements (N, J - |I|) and the covariance of ``(a, b.ravel())``.

    ``a[n]`` is the mean of ``y[n, I]`` over the immobile set ``I`` weighted by
    ``1/(e^2 + s^2)``.  (The transfers of the immobile elements, ``y - a`` there, are
    exact functions of ``a`` and the data, so they are derived quantities, not parameters:
    the covariance stays positive definite.)  The covariance propagates the analytical errors
    ``e`` (independent) and the protolith errors ``s`` (shared by all samples) exactly
    (the estimate is linear in ``y``).
    """
    N, J = y.shape
    w = 1.0 / (e**2 + s**2)
    omega = np.zeros(J)
    omega[immobile] = w[immobile] / w[immobile].sum()
    a = y @ omega
    b = y - a[:, None]
    eye = np.eye(N)
    e2, s2 = e**2, s**2
    # Cov(y[n,j], y[m,k]) = delta_jk (e_j^2 delta_nm + s_j^2)
    cyy = (np.einsum("jk,nm->njmk", np.diag(e2), eye)
           + np.einsum("jk,nm->njmk", np.diag(s2), np.ones((N, N))))
    caa = eye * np.sum(omega**2 * e2) + np.sum(omega**2 * s2)
    # Cov(a[n], y[m,k]) = omega_k (e_k^2 delta_nm + s_k^2)
    cay = omega[None, None, :] * (e2[None, None, :] * eye[:, :, None] + s2[None, None, :])
    # Cov(b[n,j], b[m,k]) = Cyy - Cov(a[m], y[n,j]) - Cov(a[n], y[m,k]) + Cov(a[n], a[m])
    c_am_ynj = np.transpose(cay, (1, 2, 0))[:, :, :, None]  # [n, j, m, 1] = Cov(a_m, y_nj)
    c_an_ymk = cay[:, None, :, :]                            # [n, 1, m, k] = Cov(a_n, y_mk)
    cbb = cyy - c_am_ynj - c_an_ymk + caa[:, None, :, None]
    cab = cay - caa[:, :, None]                              # [n, m, k] = Cov(a_n, b_mk)
    P = N + N * J
    cov = np.empty((P, P))
    cov[:N, :N] = caa
    cov[:N, N:] = cab.reshape(N, N * J)
    cov[N:, :N] = cov[:N, N:].T
    cov[N:, N:] = cbb.reshape(N * J, N * J)
    mobile = np.setdiff1d(np.arange(J), immobile)
    keep = np.concatenate([np.arange(N), N + (np.arange(N)[:, None] * J + mobile).ravel()])
    cov = cov[np.ix_(keep, keep)]
    return a, b[:, mobile], 0.5 * (cov + cov.T)


def _resolve_elements(names: Sequence[str], elements: list[str], option: str) -> np.ndarray:
    unknown = [n for n in names if n not in elements]
    if unknown:
        raise DataError(f"{option} names element(s) {unknown} that are not columns of the "
                        f"data; the elements are {', '.join(elements)}")
    return np.array([elements.index(n) for n in names], dtype=int)


class _IsoconBase(Model):
    """What both isocon families share: data, labels, derived quantities, figures."""

    data_options: ClassVar[tuple[str, ...]] = ("protolith", "elements")

    def prepare(self, data: Any, protolith: Any = None,
                elements: Sequence[str] | None = None) -> PreparedData:
        return prepare_isocon(data, protolith, elements, self.options["analytical_error"],
                              self.options["protolith_error"])

    def index_labels(self, data: PreparedData) -> dict[str, tuple[list[str], ...]]:
        samples, elements = list(data.summary["samples"]), list(data.summary["elements"])
        mobile = data.summary.get("mobile")
        b_cols = elements if mobile is None else [elements[j] for j in mobile]
        return {"a": (samples,), "mass_ratio": (samples,), "b": (samples, b_cols),
                "tau": (samples, elements), "lambda": (elements,), "kappa": (elements,),
                "delta_z": (elements,),
                "delta": (elements,),
                "z": (samples if self._z_rows(data) > 1 else ["all"], elements)}

    def _z_rows(self, data: PreparedData) -> int:
        return int(data.values["N"])

    def log_prior(self, values: Mapping[str, Any], data: PreparedData) -> np.ndarray:
        """Not available in Python (the sparse isocon's prior lives in its Stan program;
        Grant's isocon has none): reports skip the prior-versus-posterior figure."""
        from ..errors import MethodNotSupportedError

        raise MethodNotSupportedError(f"{type(self).__name__} has no Python prior density")

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "a" in draws:
            out["mass_ratio"] = np.exp(np.asarray(draws["a"]))
        b = self._transfers(draws, data)
        if b is not None:
            if "z" in draws:
                out["b"] = b
            out["tau"] = np.expm1(b)
        return out

    def _transfers(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> Any:
        """Log transfers of every element ``(..., N, J)``: for an isocon with a given
        immobile set, ``y - a`` with the mobile elements' ``b`` put in."""
        if "a" not in draws:
            return None
        a = np.asarray(draws["a"])
        full = np.asarray(data.values["y"]) - a[..., None]
        mobile = data.summary.get("mobile")
        if mobile is not None and len(mobile) and "b" in draws:
            full[..., list(mobile)] = np.asarray(draws["b"])
        return full

    def _with_immobile(self, data: PreparedData, immobile: Sequence[int]) -> PreparedData:
        """``data`` with the immobile set recorded in its summary."""
        J = int(data.values["J"])
        imm = sorted(int(j) for j in immobile)
        elements = list(data.summary["elements"])
        return PreparedData(values=dict(data.values), observed=dict(data.observed),
                            summary={**data.summary,
                                     "immobile": [elements[j] for j in imm],
                                     "mobile": [j for j in range(J) if j not in imm]})

    def _ab_parameters(self, data: PreparedData) -> ParameterSet:
        N = int(data.values["N"])
        M = len(data.summary["mobile"])
        params = [Parameter("a", shape=(N,), description="ln(M0/MA), log mass ratio per sample")]
        if M:
            params.append(Parameter("b", shape=(N, M),
                                    description="ln(1 + tau) of the mobile elements"))
        return ParameterSet(params)

    def predict(self, fit: Fit, **kwargs: Any) -> pd.DataFrame:
        """A table per sample and element: ``mass_ratio``, ``tau`` (ΔC/C0), ``delta_c``
        (ΔC in the data's unit, per unit mass of protolith) with ``prob`` intervals."""
        import pandas as pd

        from ..constraints import validate_value

        prob = validate_value("prob", kwargs.pop("prob", 0.9),
                              [Interval(Real, 0, 1, closed="neither")])
        kwargs.pop("magnitudes", None)  # the CLI's common option; meaningless here
        if kwargs:
            raise OptionError(f"unknown predict argument(s) {sorted(kwargs)}; "
                              "isocon predict takes prob")
        samples = fit.data.summary["samples"]
        elements = fit.data.summary["elements"]
        c0 = np.asarray(fit.data.summary["protolith_mean"], dtype=float)
        tau = self._draws_or_point(fit, "tau")
        mr = self._draws_or_point(fit, "mass_ratio")
        lo_q, hi_q = (1 - prob) / 2, 1 - (1 - prob) / 2
        rows = []
        for n, sample in enumerate(samples):
            for j, el in enumerate(elements):
                t = tau[..., n, j]
                rows.append({
                    "sample": sample, "element": el,
                    "mass_ratio": float(np.mean(mr[..., n])),
                    "tau": float(np.mean(t)),
                    "tau_lower": float(np.quantile(t, lo_q)),
                    "tau_upper": float(np.quantile(t, hi_q)),
                    "delta_c": float(np.mean(t) * c0[j]),
                })
        return pd.DataFrame(rows)

    @staticmethod
    def _draws_or_point(fit: Fit, name: str) -> np.ndarray:
        if fit.draws and name in fit.draws:
            arr = np.asarray(fit.draws[name])
            return arr.reshape(-1, *arr.shape[2:])
        from ..summary import derived_draws

        dd = derived_draws(fit)
        if name in dd:
            arr = np.asarray(dd[name])
            return arr.reshape(-1, *arr.shape[2:])
        return np.asarray(fit.point[name])[None]

    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        from ..plots import isocon as plots

        return plots.isocon_figures(fit)


# ---------------------------------------------------------------------------- options
_ERROR = [Interval(Real, 0, None, closed="neither"), Mappings()]

class ElementNames(Constraint):
    """A non-empty list or tuple of distinct element names (or one comma-separated
    string), returned as a tuple.

    Examples
    --------
    >>> ElementNames().convert("immobile", "Ti, Zr")
    ('Ti', 'Zr')
    """

    def convert(self, name: str, value: Any) -> tuple[str, ...]:
        return _element_list(name, value)

    def describe(self) -> str:
        return "a non-empty list of distinct element names (columns of the data)"


_GRANT_OPTIONS: dict[str, Option] = {
    "immobile": Option((), [ElementNames()], doc="elements assumed immobile"),
    "analytical_error": Option(0.03, _ERROR, doc="relative analytical error(s)"),
    "protolith_error": Option(0.05, [Interval(Real, 0, None, closed="neither")],
                              doc="relative error of a single protolith analysis"),
}


def _element_list(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if (not isinstance(value, list | tuple) or not value
            or not all(isinstance(v, str) and v for v in value)):
        raise OptionError(f"{name}={value!r} is not allowed; use a non-empty list of element "
                          "names (columns of the data), e.g. ['TiO2', 'Zr']")
    if len(set(value)) != len(value):
        raise OptionError(f"{name}={value!r} repeats an element")
    return tuple(value)


def _csv_list(text: str) -> list[str]:
    return [v.strip() for v in str(text).split(",") if v.strip()]


class GrantIsocon(_IsoconBase):
    """Grant's isocon with user-chosen immobile elements (exact, closed form).

    Parameters
    ----------
    immobile : list of str
        Columns assumed immobile (e.g. ``["TiO2"]``, ``["Ti_ppm", "Zr_ppm"]``).
    analytical_error : float or dict, default 0.03
        Relative analytical error of every element, or per element.
    protolith_error : float, default 0.05
        Relative error of the protolith composition when one analysis is given (with
        several, the standard error of their mean log composition is used).

    Notes
    -----
    ``a[n] = ln(M0/MA)`` is the weighted mean of ``ln(C_A/C_0)`` over the immobile
    elements (with one element, exactly ``ln(C_A,i/C_0,i)``: the slope of Grant's isocon
    through that element); ``b = ln(C_A/C_0) - a``, ``tau = exp(b) - 1`` (Brimhall &
    Dietrich's mass-transfer coefficient).  ``method="mle"`` only; the covariance
    propagates the analytical and protolith errors exactly.

    Examples
    --------
    >>> import pandas as pd, pystats
    >>> parent = pd.Series({"TiO2": 1.0, "CaO": 5.0, "SiO2": 60.0})
    >>> altered = pd.DataFrame({"TiO2": [1.25], "CaO": [2.5], "SiO2": [60.0]}, index=["w1"])
    >>> fit = pystats.GrantIsocon(immobile=["TiO2"]).fit(altered, protolith=parent)
    >>> s = fit.summary()
    >>> est = s["estimate"]
    >>> float(round(est["mass_ratio[w1]"], 6)), float(round(est["tau[w1,CaO]"], 6))
    (1.25, -0.6)
    """

    family = "grant_isocon"
    methods: ClassVar[tuple[str, ...]] = ("mle",)
    options_spec: ClassVar[dict[str, Option]] = _GRANT_OPTIONS
    cli: ClassVar[CommandLine] = CommandLine(
        name="grant", title="Grant's isocon", help="Grant's isocon with given immobile elements",
        fit=(
            Argument("--immobile", type=str, parse=_csv_list, metavar="EL1,EL2",
                     help="immobile element columns, comma-separated"),
            Argument("--analytical-error", type=float, help="relative analytical error"),
            Argument("--protolith-error", type=float,
                     help="relative error of a single protolith analysis"),
            Argument("--protolith", to="data", type=str, parse=read_composition_table,
                     metavar="CSV", help="protolith (parent) analyses CSV, same columns"),
        ),
        read="pystats.compositional.isocon:read_composition_table",
    )

    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if not options["immobile"]:
            raise OptionError("GrantIsocon needs immobile=[...]: the element columns assumed "
                              "immobile, e.g. GrantIsocon(immobile=['TiO2'])")
        return options

    def prepare(self, data: Any, protolith: Any = None,
                elements: Sequence[str] | None = None) -> PreparedData:
        prepared = super().prepare(data, protolith=protolith, elements=elements)
        idx = _resolve_elements(self.options["immobile"], list(prepared.summary["elements"]),
                                "immobile")
        return self._with_immobile(prepared, idx)

    def parameters(self, data: PreparedData) -> ParameterSet:
        return self._ab_parameters(data)

    def closed_form(self, data: PreparedData) -> tuple[dict[str, Any], np.ndarray]:
        elements = list(data.summary["elements"])
        idx = np.array([elements.index(el) for el in data.summary["immobile"]], dtype=int)
        a, b, cov = grant_estimate(np.asarray(data.values["y"]), np.asarray(data.values["e"]),
                                   np.asarray(data.values["s"]), idx)
        point = {"a": a}
        if b.shape[1]:
            point["b"] = b
        return point, cov

    def _run(self, data: Any, data_options: Mapping[str, Any], **kwargs: Any) -> Fit:
        kwargs["backend"] = "auto"  # the closed form is the method
        return super()._run(data, data_options, **kwargs)


# ---------------------------------------------------------------------------- sparse
def _soft_groups(r: np.ndarray, sw: np.ndarray, lam: float, penalty: str) -> np.ndarray:
    """Proximal step for the transfers given residuals ``r`` (N, J) and sqrt-weights."""
    if penalty == "l1":
        thr = lam / sw
        return np.sign(r) * np.maximum(np.abs(r) - thr[None, :], 0.0)
    norms = np.sqrt(np.sum((r * sw[None, :]) ** 2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(norms > lam, 1.0 - lam / norms, 0.0)
    return r * factor[None, :]


def penalised_isocon(y: np.ndarray, w: np.ndarray, lam: float, *, penalty: str = "group",
                     shared: bool = False, start: tuple[np.ndarray, np.ndarray] | None = None,
                     max_iter: int = 5000, tol: float = 1e-10
                     ) -> tuple[np.ndarray, np.ndarray, int]:
    """Minimise ``1/2 sum w_j (y - a_n - b_nj)^2 + lam * penalty(b)`` by block coordinate
    descent (exact ``a`` and ``b`` updates; convex, so the limit is the optimum).

    ``penalty="group"``: ``sum_j sqrt(w_j) ||b[:, j]||_2``; ``"l1"``:
    ``sum_{n,j} sqrt(w_j) |b_nj|``.  ``shared=True``: one transfer per element,
    ``b[n, j] = b_j`` (penalty ``sqrt(N w_j) |b_j|``).  Returns ``a``, ``b``, iterations.
    """
    N, J = y.shape
    sw = np.sqrt(w)
    if start is None:
        a = np.median(y, axis=1)
        b = np.zeros((N, J))
    else:
        a, b = start[0].copy(), start[1].copy()
    wsum = w.sum()
    it = 0
    while it < max_iter:
        it += 1
        a_new = ((y - b) @ w) / wsum
        r = y - a_new[:, None]
        if shared:
            m = r.mean(axis=0)
            thr = lam / (sw * np.sqrt(N))
            bj = np.sign(m) * np.maximum(np.abs(m) - thr, 0.0)
            b_new = np.broadcast_to(bj, (N, J)).copy()
        else:
            b_new = _soft_groups(r, sw, lam, penalty)
        change = max(np.max(np.abs(a_new - a)), np.max(np.abs(b_new - b)))
        a, b = a_new, b_new
        if change < tol:
            break
    return a, b, it


def _lambda_max(y: np.ndarray, w: np.ndarray) -> float:
    a = (y @ w) / w.sum()
    r = (y - a[:, None]) * np.sqrt(w)[None, :]
    return float(np.max(np.sqrt(np.sum(r**2, axis=0)))) if y.shape[0] > 1 else \
        float(np.max(np.abs(r)))


def cross_validate_lambda(y: np.ndarray, w: np.ndarray, *, penalty: str, shared: bool,
                          folds: int, rng: np.random.Generator, n_grid: int = 20
                          ) -> tuple[float, dict[str, Any]]:
    """λ by K-fold cross-validation over samples with the one-standard-error rule.

    A held-out sample's ``a`` is re-estimated from the elements the training fit classes
    immobile (weighted mean of ``y - mean transfer``), and its elements are predicted as
    ``a + mean training transfer``; the score is the weighted squared error.
    """
    N, J = y.shape
    lam_max = _lambda_max(y, w)
    grid = lam_max * np.logspace(0, -3, n_grid)
    K = min(folds, N)
    if K < 2:
        return float(grid[len(grid) // 2]), {"grid": grid.tolist(), "cv": [], "folds": 0}
    fold_of = rng.permutation(np.arange(N) % K)
    errors = np.zeros((K, n_grid))
    for k in range(K):
        train, test = y[fold_of != k], y[fold_of == k]
        start = None
        for g, lam in enumerate(grid):
            a, b, _ = penalised_isocon(train, w, lam, penalty=penalty, shared=shared,
                                       start=start, max_iter=1000, tol=1e-6)
            start = (a, b)
            mean_b = b.mean(axis=0)
            immobile = np.all(b == 0.0, axis=0)
            use = immobile if immobile.any() else np.ones(J, dtype=bool)
            a_test = ((test - mean_b)[:, use] @ w[use]) / w[use].sum()
            resid = test - a_test[:, None] - mean_b[None, :]
            errors[k, g] = float(np.mean(resid**2 * w[None, :]))
    cv = errors.mean(axis=0)
    se = errors.std(axis=0, ddof=1) / np.sqrt(K)
    best = int(np.argmin(cv))
    # one-SE rule: the largest lambda (sparsest fit) within one SE of the minimum
    ok = np.flatnonzero(cv <= cv[best] + se[best])
    chosen = int(ok.min())  # grid is decreasing: smallest index = largest lambda
    return float(grid[chosen]), {"grid": grid.tolist(), "cv": cv.tolist(), "cv_se": se.tolist(),
                                 "folds": K, "best_index": best, "chosen_index": chosen}


def select_immobile(y: np.ndarray, a: np.ndarray, b: np.ndarray, tol: float,
                    e: np.ndarray, s: np.ndarray, rounds: int = 3) -> np.ndarray:
    """The immobile set of the fast path: elements the penalty set to zero, and those
    whose transfers all stay within ``tol`` (log units, plus twice their standard error)
    of the mass change; ``a`` is re-estimated on the set (Grant) and the selection
    repeated (at most ``rounds`` times, until it no longer changes)."""
    J = y.shape[1]
    zero = np.all(b == 0.0, axis=0)
    band = tol + 2.0 * np.sqrt(e**2 + s**2)
    current = np.flatnonzero(zero | np.all(np.abs(y - a[:, None]) <= band[None, :], axis=0))
    for _ in range(rounds):
        if current.size == 0:
            break
        w = 1.0 / (e**2 + s**2)
        a_new = (y[:, current] @ w[current]) / w[current].sum()
        nxt = np.flatnonzero(np.all(np.abs(y - a_new[:, None]) <= band[None, :], axis=0))
        if nxt.size == 0 or np.array_equal(nxt, current):
            break
        current = nxt
    return current[current < J]


A_SCALE = 1.0
"""Prior sd of the log mass ratios ``a``."""
SLAB_SCALE = 2.0
"""Slab scale of the regularised horseshoe (log units)."""
SLAB_DF = 4.0
"""Slab degrees of freedom of the regularised horseshoe."""
SIGMA_SCALE = 0.1
"""Prior scale (half-normal) of the extra log-scale scatter."""


def horseshoe_scale2(lam: np.ndarray, tau_g: np.ndarray, caux: np.ndarray) -> np.ndarray:
    """Squared transfer scales of the regularised horseshoe (Piironen & Vehtari 2017),
    ``tau_g^2 lambda_tilde^2`` with ``c^2 = SLAB_SCALE^2 caux``; ``lam`` is ``(..., J)``,
    ``tau_g`` and ``caux`` broadcast against ``(...)``."""
    tau2 = np.asarray(tau_g, dtype=float)[..., None] ** 2
    c2 = SLAB_SCALE**2 * np.asarray(caux, dtype=float)[..., None]
    lam2 = np.asarray(lam, dtype=float) ** 2
    return tau2 * c2 * lam2 / (c2 + tau2 * lam2)


def _column_variances(scale2: np.ndarray, sigma: np.ndarray, e: np.ndarray, s: np.ndarray,
                      shared: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``v = e^2 + sigma^2`` and the column covariance ``D I + S 1 1'`` of ``y - a``:
    ``D = v + scale^2`` (``v`` when shared: no per-sample deviations),
    ``S = s^2 + scale^2`` (protolith error and the element's mean transfer)."""
    v = e**2 + np.asarray(sigma, dtype=float)[..., None] ** 2
    return v, v + (0.0 if shared else 1.0) * scale2, s**2 + scale2


def collapsed_log_likelihood(y: np.ndarray, e: np.ndarray, s: np.ndarray, scale2: np.ndarray,
                             sigma: np.ndarray, *, shared: bool = False,
                             a_scale: float = A_SCALE) -> np.ndarray:
    """Log density of ``y`` given the transfer scales, with ``a``, ``b`` and ``delta``
    integrated out (the collapsed likelihood of ``stan/sparse_isocon.stan``, without the
    constant ``-N J log(2 pi) / 2``); ``scale2`` is ``(..., J)``."""
    N = y.shape[0]
    _, D, S = _column_variances(scale2, sigma, e, s, shared)
    c = S / (D + N * S)
    col_sum, col_ss = y.sum(axis=0), np.sum(y**2, axis=0)
    alpha = np.sum(1.0 / D, axis=-1) + a_scale**-2
    beta = np.sum(c / D, axis=-1)
    g = np.einsum("nj,...j->...n", y, 1.0 / D) - np.sum(col_sum * c / D, axis=-1)[..., None]
    q0 = np.sum((col_ss - c * col_sum**2) / D, axis=-1)
    gpg = (np.sum(g**2, axis=-1) + beta / (alpha - N * beta) * np.sum(g, axis=-1) ** 2) / alpha
    return -0.5 * (N * np.sum(np.log(D), axis=-1) + np.sum(np.log1p(N * S / D), axis=-1)
                   + q0 - gpg + (N - 1) * np.log(alpha) + np.log(alpha - N * beta)
                   + 2 * N * np.log(a_scale))


def collapsed_conditional(y: np.ndarray, e: np.ndarray, s: np.ndarray, scale2: np.ndarray,
                          sigma: np.ndarray, *, shared: bool = False, a_scale: float = A_SCALE,
                          rng: np.random.Generator | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``a`` (..., N), ``b`` (..., N, J) and ``delta`` (..., J) given the transfer scales:
    a draw from their exact Gaussian conditional posterior (``rng``), or its mean
    (``rng=None``).  ``a`` first (precision ``alpha I - beta 1 1'``), then per column the
    sum ``u = mu + delta`` of the mean transfer and the protolith error given ``a``, its
    split, and the samples' deviations ``eta`` (``b = mu + eta``; ``eta = 0`` when shared)."""
    N, J = y.shape
    v, D, S = _column_variances(scale2, sigma, e, s, shared)
    lead = D.shape[:-1]
    c = S / (D + N * S)
    col_sum = y.sum(axis=0)
    alpha = np.sum(1.0 / D, axis=-1) + a_scale**-2
    beta = np.sum(c / D, axis=-1)
    g = np.einsum("nj,...j->...n", y, 1.0 / D) - np.sum(col_sum * c / D, axis=-1)[..., None]
    gamma = beta / (alpha - N * beta)
    a = (g + (gamma * np.sum(g, axis=-1))[..., None]) / alpha[..., None]

    def noise(shape: tuple[int, ...]) -> np.ndarray:
        return 0.0 if rng is None else rng.standard_normal(shape)

    z = noise((*lead, N))
    if rng is not None:
        kappa = (np.sqrt(1.0 + gamma * N) - 1.0) / N
        a = a + (z + (kappa * np.sum(z, axis=-1))[..., None]) / np.sqrt(alpha)[..., None]
    r = y - a[..., :, None]
    r_sum = r.sum(axis=-2)
    # u = mean transfer + protolith error of each column, then its split, then deviations
    u = S * r_sum / (D + N * S) + np.sqrt(S * D / (D + N * S)) * noise((*lead, J))
    mu = scale2 / S * u + np.sqrt(scale2 * s**2 / S) * noise((*lead, J))
    delta = u - mu
    if shared:
        b = np.broadcast_to(mu[..., None, :], (*lead, N, J)).copy()
    else:
        eta = (scale2 / D)[..., None, :] * (r - u[..., None, :]) \
            + np.sqrt(scale2 * v / D)[..., None, :] * noise((*lead, N, J))
        b = mu[..., None, :] + eta
    return a, b, delta


_SPARSE_OPTIONS: dict[str, Option] = {
    "prior": Option("horseshoe", [StrOptions(("horseshoe", "laplace"))],
                    doc="sparsity prior of the transfers"),
    "analytical_error": _GRANT_OPTIONS["analytical_error"],
    "protolith_error": _GRANT_OPTIONS["protolith_error"],
    "shared_transfers": Option(False, [Booleans()], doc="one transfer per element"),
    "expected_mobile": Option(None, [None, Interval(Integral, 1)],
                              doc="prior guess of the number of mobile elements (J/2)"),
    "immobile_tolerance": Option(0.1, [Interval(Real, 0, 1, closed="neither")],
                                 doc="|tau| below which an element counts as immobile"),
    "penalty": Option("group", [StrOptions(("group", "l1"))], doc="fast-path penalty"),
    "penalty_strength": Option(None, [None, Interval(Real, 0, None)],
                               doc="lambda of the fast path (None: cross-validation)"),
    "cv_folds": Option(5, [Interval(Integral, 2)], doc="folds of the cross-validation"),
    "min_immobile": Option(2, [Interval(Integral, 1)],
                           doc="fewest immobile elements before the fit warns"),
}

_CENTRED_CACHE: dict[str, np.ndarray] = {}
"""Per prepared data set (its hash): which local scales the collapsed program centres."""
BOOTSTRAP_SELECTIONS = 50
"""Bootstrap resamples of the fast path's stability selection."""
SIGMA0 = 0.05
"""Extra log-scale scatter in the weights of the penalised fast path."""
MIN_IMMOBILE_SHARE = 0.4
"""Below this share of elements classed immobile the fit warns."""
SECOND_ISOCON_SHARE = 0.4
"""A second group of elements this large relative to the immobile set triggers a warning."""


class SparseIsocon(_IsoconBase):
    """Sparse Bayesian isocon: mass change and transfers without declaring immobile elements.

    Parameters
    ----------
    prior : {"horseshoe", "laplace"}
        Sparsity prior of the log transfers (regularised horseshoe, Piironen & Vehtari
        2017; or Laplace, the Bayesian lasso).
    analytical_error, protolith_error
        As for :class:`GrantIsocon`.
    shared_transfers : bool
        One transfer per element for all samples (replicates of one alteration state).
    expected_mobile : int, optional
        Prior guess of the number of mobile elements (sets the horseshoe's global scale);
        default half of the elements.
    immobile_tolerance : float
        An element is immobile when no sample changed it by more than this (relative).
    penalty : {"group", "l1"}, penalty_strength : float or None, cv_folds : int
        The fast path (``method="map"``): group lasso over samples or plain lasso, its
        λ (``None``: K-fold cross-validation with the one-SE rule).
    min_immobile : int
        Fewest elements classed immobile before :class:`IsoconIdentifiabilityWarning`.

    Notes
    -----
    ``method="map"`` is the penalised fast path (selection of the immobile set, then
    Grant's isocon on it); ``"laplace"`` and ``"nuts"`` run ``stan/sparse_isocon.stan``
    for the horseshoe (``a``, the transfers and the protolith errors integrated out: only
    the scales ``kappa``, ``tau_g``, ``caux``, ``sigma`` are parameters, and ``a``, ``b``,
    ``delta`` are drawn from their exact conditional as derived quantities) or
    ``stan/sparse_isocon_laplace.stan`` for the Laplace prior.  See
    ``models/sparse_isocon.md``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, pystats
    >>> rng = np.random.default_rng(1)
    >>> els = [f"E{j}" for j in range(8)]
    >>> c0 = pd.Series(np.exp(rng.normal(0, 1, 8)), index=els)
    >>> t = np.zeros((6, 8)); t[:, 5:] = np.log([0.3, 2.0, 0.5])  # 3 mobile elements
    >>> y = np.log(0.8) + t + rng.normal(0, 0.02, (6, 8))       # M0/MA = 0.8
    >>> altered = pd.DataFrame(c0.to_numpy() * np.exp(y), columns=els)
    >>> fit = pystats.SparseIsocon().fit(altered, protolith=c0, method="map", seed=1)
    >>> p = fit.model.immobile_probability(fit)
    >>> p[p > 0.5].index.tolist()
    ['E0', 'E1', 'E2', 'E3', 'E4']
    >>> round(float(fit.summary().loc["mass_ratio[0]", "estimate"]), 2)
    0.8
    """

    family = "sparse_isocon"
    methods: ClassVar[tuple[str, ...]] = ("map", "laplace", "nuts")
    options_spec: ClassVar[dict[str, Option]] = _SPARSE_OPTIONS
    cli: ClassVar[CommandLine] = CommandLine(
        name="isocon", title="Sparse isocon", help="sparse isocon (immobile elements selected)",
        fit=(
            Argument("--prior", choices=("horseshoe", "laplace"), help="sparsity prior"),
            Argument("--analytical-error", type=float, help="relative analytical error"),
            Argument("--protolith-error", type=float,
                     help="relative error of a single protolith analysis"),
            Argument("--shared-transfers", action="store_true",
                     help="one transfer per element for all samples"),
            Argument("--penalty-strength", type=float,
                     help="lambda of the map fast path (default: cross-validation)"),
            Argument("--protolith", to="data", type=str, parse=read_composition_table,
                     metavar="CSV", help="protolith (parent) analyses CSV, same columns"),
        ),
        read="pystats.compositional.isocon:read_composition_table",
    )

    # ----------------------------------------------------------- parameters / Stan
    def _z_rows(self, data: PreparedData) -> int:
        return 1 if self.options["shared_transfers"] else int(data.values["N"])

    def _collapsed(self) -> bool:
        """The horseshoe runs the collapsed program (``a``, ``b``, ``delta`` integrated
        out); the Laplace prior the non-centred one (its transfers are not Gaussian)."""
        return self.options["prior"] == "horseshoe"

    def parameters(self, data: PreparedData) -> ParameterSet:
        N, J = int(data.values["N"]), int(data.values["J"])
        lam = Parameter("lambda", lower=0.0, shape=(J,), description="local (element) scales")
        if self._collapsed():
            lam = Parameter("kappa", lower=0.0, shape=(J,),
                            description="local scales: tau_g * lambda (centred elements) "
                                        "or lambda")
        scales = [
            lam,
            Parameter("tau_g", lower=0.0, description="global scale of the transfers"),
            Parameter("caux", lower=0.0, description="slab variance / slab_scale^2"),
            Parameter("sigma", lower=0.0, description="extra log-scale scatter"),
        ]
        if self._collapsed():
            return ParameterSet(scales)
        return ParameterSet([
            Parameter("a", shape=(N,), description="ln(M0/MA), log mass ratio per sample"),
            Parameter("z", shape=(self._z_rows(data), J), description="standardised transfers"),
            *scales,
            Parameter("delta_z", shape=(J,), description="protolith error / s (standardised)"),
        ])

    def stan_program(self) -> str:
        return "sparse_isocon.stan" if self._collapsed() else "sparse_isocon_laplace.stan"

    def _tau0(self, data: PreparedData) -> float:
        J, N = int(data.values["J"]), int(data.values["N"])
        p0 = self.options["expected_mobile"]
        p0 = max(1.0, J / 2.0) if p0 is None else min(float(p0), J - 0.5)
        return p0 / (J - p0) * 0.1 / np.sqrt(N)

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        v = data.values
        out = {"N": int(v["N"]), "J": int(v["J"]), "y": np.asarray(v["y"]),
               "e": np.asarray(v["e"]), "s": np.asarray(v["s"]),
               "shared": int(self.options["shared_transfers"]), "tau0": self._tau0(data),
               "slab_scale": SLAB_SCALE, "slab_df": SLAB_DF, "a_scale": A_SCALE,
               "sigma_scale": SIGMA_SCALE}
        if self._collapsed():
            out["centred"] = self._centred(data).astype(int)
        else:
            out["horseshoe"] = 0
        return out

    def _centred(self, data: PreparedData) -> np.ndarray:
        """Elements whose local scale is sampled centred (``kappa = tau_g * lambda``): those
        with an rms transfer (penalised fit at ``0.3 lambda_max``) above 3 times their
        noise ``sqrt(e^2 + s^2 + SIGMA0^2)``.  A wrong choice costs efficiency only."""
        key = data.hash
        if key not in _CENTRED_CACHE:
            y = np.asarray(data.values["y"])
            w = self._weights(data)
            _, b, _ = penalised_isocon(y, w, 0.3 * _lambda_max(y, w), shared=False)
            if len(_CENTRED_CACHE) >= 16:
                _CENTRED_CACHE.pop(next(iter(_CENTRED_CACHE)))
            _CENTRED_CACHE[key] = np.sqrt(np.mean(b**2, axis=0)) > 3.0 / np.sqrt(w)
        return _CENTRED_CACHE[key].copy()

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        y = np.asarray(data.values["y"])
        N, J = y.shape
        w = self._weights(data)
        a, b, _ = penalised_isocon(y, w, 0.3 * _lambda_max(y, w), shared=False)
        if self._collapsed():
            # local scales from the penalised fit's transfers: the element's rms transfer
            # over tau_g, floored near the noise for the elements it sets to zero
            tau_g = self._tau0(data)
            rms = np.sqrt(np.mean(b**2, axis=0))
            lam = np.maximum(rms, 0.1 * tau_g) / tau_g
            tau_g = tau_g * float(np.exp(rng.normal(0, 0.1)))
            lam = lam * np.exp(rng.normal(0, 0.1, J))
            return {"kappa": np.where(self._centred(data), tau_g * lam, lam), "tau_g": tau_g,
                    "caux": float(np.exp(rng.normal(0, 0.1))),
                    "sigma": 0.02 * float(np.exp(rng.normal(0, 0.1)))}
        scale = np.maximum(np.max(np.abs(b), axis=0), 0.05)
        tau_g = 1.0
        lam = scale / tau_g
        rows = self._z_rows(data)
        bz = b if rows == N else b.mean(axis=0, keepdims=True)
        return {"a": a + rng.normal(0, 0.01, N),
                "z": bz / scale[None, :] + rng.normal(0, 0.05, (rows, J)),
                "lambda": lam * np.exp(rng.normal(0, 0.1, J)), "tau_g": tau_g,
                "caux": 1.0, "sigma": 0.05, "delta_z": rng.normal(0, 0.1, J)}

    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        if "a" in draws or "kappa" not in draws:
            return super().derived(draws, data)
        # collapsed program: a, b and delta from their exact Gaussian conditional given the
        # scales, one draw per posterior draw (at a point estimate: the conditional mean)
        kappa = np.asarray(draws["kappa"], dtype=float)
        tau_g = np.asarray(draws["tau_g"], dtype=float)
        lam = np.where(self._centred(data), kappa / tau_g[..., None], kappa)
        scale2 = horseshoe_scale2(lam, draws["tau_g"], draws["caux"])
        rng = None
        if lam.ndim > 1:
            import hashlib

            digest = hashlib.sha256(np.ascontiguousarray(lam).tobytes()).digest()
            rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        v = data.values
        a, b, delta = collapsed_conditional(
            np.asarray(v["y"]), np.asarray(v["e"]), np.asarray(v["s"]), scale2,
            np.asarray(draws["sigma"], dtype=float),
            shared=bool(self.options["shared_transfers"]), rng=rng)
        return {"lambda": lam, "a": a, "b": b, "delta": delta, "mass_ratio": np.exp(a),
                "tau": np.expm1(b)}

    def _transfers(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> Any:
        if "z" not in draws:
            return super()._transfers(draws, data)
        z = np.asarray(draws["z"])
        lam = np.asarray(draws["lambda"])
        tau_g = np.asarray(draws["tau_g"])[..., None]
        if self.options["prior"] == "horseshoe":
            scale = np.sqrt(horseshoe_scale2(lam, draws["tau_g"], draws["caux"]))
        else:
            scale = tau_g * lam
        b = z * scale[..., None, :]
        N = int(data.values["N"])
        if b.shape[-2] != N:
            b = np.broadcast_to(b, (*b.shape[:-2], N, b.shape[-1]))
        return b

    # ----------------------------------------------------------- fast path
    def _weights(self, data: PreparedData) -> np.ndarray:
        e, s = np.asarray(data.values["e"]), np.asarray(data.values["s"])
        return 1.0 / (e**2 + s**2 + SIGMA0**2)

    def _run(self, data: Any, data_options: Mapping[str, Any], *, method: str,
             **kwargs: Any) -> Fit:
        if method == "map":
            prepared = self.prepare(data, **data_options)
            fit = self._penalised_fit(prepared, seed=kwargs["seed"], chains=kwargs["chains"],
                                      draws=kwargs["draws"])
        else:
            fit = super()._run(data, data_options, method=method, **kwargs)
        self._warn_identifiability(fit)
        return fit

    def _penalised_fit(self, data: PreparedData, *, seed: int | None, chains: int,
                       draws: int) -> Fit:
        from .. import __version__
        from ..diagnostics import diagnose
        from ..fit import Fit

        started = time.perf_counter()
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31 - 1))
        rng = np.random.default_rng(seed)
        y = np.asarray(data.values["y"])
        J = y.shape[1]
        w = self._weights(data)
        o = self.options
        if o["penalty_strength"] is None:
            lam, cv = cross_validate_lambda(y, w, penalty=o["penalty"],
                                            shared=o["shared_transfers"],
                                            folds=o["cv_folds"], rng=rng)
        else:
            lam, cv = float(o["penalty_strength"]), {}
        a_pen, b_pen, iters = penalised_isocon(y, w, lam, penalty=o["penalty"],
                                               shared=o["shared_transfers"])
        immobile = select_immobile(y, a_pen, b_pen, np.log1p(o["immobile_tolerance"]),
                                   np.asarray(data.values["e"]), np.asarray(data.values["s"]))
        if immobile.size == 0:  # nothing selected: the least-moved element stands in
            immobile = np.array([int(np.argmin(np.sum((b_pen**2) * w, axis=0)))])
        if immobile.size == J:  # everything immobile: keep the most-moved one as mobile
            immobile = np.delete(immobile, int(np.argmax(np.sum((b_pen**2) * w, axis=0))))
        a, b, cov = grant_estimate(y, np.asarray(data.values["e"]),
                                   np.asarray(data.values["s"]), immobile)
        frequency = self._selection_frequency(y, w, lam, data, rng)
        data = self._with_immobile(data, immobile)
        data = PreparedData(values=dict(data.values), observed=dict(data.observed),
                            summary={**data.summary, "selection_frequency": frequency.tolist()})
        params = self._ab_parameters(data)
        point: dict[str, Any] = {"a": a}
        if b.shape[1]:
            point["b"] = b
        for k, v in self.derived(point, data).items():
            point.setdefault(k, np.asarray(v))
        try:
            chol = np.linalg.cholesky(cov)
            pd_ok = True
        except np.linalg.LinAlgError:
            pd_ok = False
        post: dict[str, np.ndarray] = {}
        if pd_ok:
            flat = params.flatten(point) + rng.standard_normal((chains * draws, len(cov))) @ chol.T
            values = params.constrain(flat)
            post = {k: np.asarray(v).reshape(chains, draws, *np.shape(v)[1:])
                    for k, v in values.items()}
            for k, v in self.derived(post, data).items():
                post.setdefault(k, np.asarray(v))
        optimizer = {
            "converged": True, "log_density": float("nan"), "grad_norm": 0.0,
            "n_starts": 1, "optima": (), "hessian_pd": pd_ok, "at_boundary": [],
            "flat_directions": [],
            "message": f"penalised isocon ({o['penalty']} lasso, lambda={lam:.4g}, "
                       f"{iters} iterations), then Grant's isocon on the "
                       f"{immobile.size} selected immobile element(s)",
            "penalty_strength": lam, "selected_immobile": immobile.tolist(),
            "penalised_b": b_pen, "cross_validation": cv,
        }
        metadata = {"pystats_version": __version__, "family": self.family, "method": "map",
                    "seed": int(seed), "device": "cpu", "data_hash": data.hash,
                    "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                    "engine": "penalised", "backend": "penalised",
                    "fit_seconds": time.perf_counter() - started}
        fit = Fit(model=self, data=data, method="map", backend="penalised", parameters=params,
                  point=point, cov=cov, cov_unconstrained=cov, draws=post,
                  optimizer=optimizer, metadata=metadata)
        diagnose(fit, warn=True)
        return fit

    def _selection_frequency(self, y: np.ndarray, w: np.ndarray, lam: float,
                             data: PreparedData, rng: np.random.Generator) -> np.ndarray:
        """Share of bootstrap resamples of the samples (rows) in which each element is
        selected as immobile at the chosen lambda (stability selection, Meinshausen &
        Bühlmann 2010)."""
        o = self.options
        N, J = y.shape
        e, s = np.asarray(data.values["e"]), np.asarray(data.values["s"])
        counts = np.zeros(J)
        for _ in range(BOOTSTRAP_SELECTIONS):
            rows = rng.integers(0, N, N)
            yb = y[rows]
            a_b, b_b, _ = penalised_isocon(yb, w, lam, penalty=o["penalty"],
                                           shared=o["shared_transfers"], max_iter=1000,
                                           tol=1e-6)
            sel = select_immobile(yb, a_b, b_b, np.log1p(o["immobile_tolerance"]), e, s)
            counts[sel] += 1
        return counts / BOOTSTRAP_SELECTIONS

    # ----------------------------------------------------------- results
    def immobile_probability(self, fit: Fit) -> pd.Series:
        """Per element: the posterior probability that no sample changed it by more than
        ``immobile_tolerance`` (``max_n |b[n, j]| < ln(1 + tolerance)``).

        For the fast path (``method="map"``): the share of bootstrap resamples of the
        samples in which the element is selected as immobile (stability selection); the
        fit itself uses the selection on all samples (``fit.data.summary["immobile"]``).
        """
        import pandas as pd

        if fit.model is not self and type(fit.model) is not type(self):
            raise OptionError("immobile_probability needs a fit of a SparseIsocon model")
        elements = list(fit.data.summary["elements"])
        if fit.method == "map":
            p = np.asarray(fit.data.summary["selection_frequency"], dtype=float)
        else:
            b = np.log1p(self._draws_or_point(fit, "tau"))
            tol = np.log1p(self.options["immobile_tolerance"])
            p = np.mean(np.max(np.abs(b), axis=-2) < tol, axis=0)
        return pd.Series(p, index=pd.Index(elements, name="element"), name="p_immobile")

    def identifiability(self, fit: Fit) -> dict[str, Any]:
        """The identifiability checks of ``models/sparse_isocon.md`` §5: share of elements
        classed immobile, the largest second isocon, and (NUTS) R-hat of ``a``."""
        if "isocon_identifiability" in fit._cache:
            return fit._cache["isocon_identifiability"]
        import pandas as pd

        p = self.immobile_probability(fit)
        J = p.size
        if fit.method == "map":
            immobile = pd.Series(p.index.isin(fit.data.summary["immobile"]), index=p.index)
        else:
            immobile = p > 0.5
        unstable = [el for el, v in p.items() if 0.2 <= v <= 0.8]
        n_imm = int(immobile.sum())
        if fit.point is not None and "tau" in fit.point:
            b = np.log1p(np.asarray(fit.point["tau"]))
        else:
            b = np.median(np.log1p(self._draws_or_point(fit, "tau")), axis=0)
        tol = np.log1p(self.options["immobile_tolerance"])
        sd = np.sqrt(np.asarray(fit.data.values["e"]) ** 2 + np.asarray(fit.data.values["s"]) ** 2)
        band = tol + 2.0 * np.sqrt(2.0) * sd
        # second isocon: the largest group of mobile elements whose transfers agree in
        # every sample (a common ratio C_A/C_0 other than the isocon's)
        best_other, shift = 0, 0.0
        for c in np.flatnonzero(~immobile.to_numpy()):
            group = np.all(np.abs(b - b[..., [c]]) <= band[None, :], axis=0) & ~immobile.to_numpy()
            if group.sum() > best_other:
                best_other, shift = int(group.sum()), float(np.median(b[:, c]))
        rhat_a = float("nan")
        if fit.method == "nuts" and fit.n_chains > 1:
            # rank-normalised split R-hat of a alone (a derived quantity of the collapsed
            # program; the whole summary of N x J transfers is not needed for this)
            import arviz as az

            a = np.asarray(fit.draws["a"], dtype=float)
            rhat_a = float(np.nanmax(az.rhat(az.convert_to_dataset({"a": a}))["a"].values))
        problems = []
        if n_imm < max(self.options["min_immobile"], MIN_IMMOBILE_SHARE * J):
            problems.append(f"only {n_imm} of {J} elements classed immobile (p > 0.5)")
        if best_other >= max(2, SECOND_ISOCON_SHARE * max(n_imm, 1)):
            problems.append(f"a second group of {best_other} elements shares another common "
                            f"ratio (shift {shift:+.2f} in ln, a second isocon)")
        if unstable:
            problems.append(f"the selection of {', '.join(unstable)} as immobile is uncertain "
                            "(probability between 0.2 and 0.8)")
        if np.isfinite(rhat_a) and rhat_a > 1.05:
            problems.append(f"chains disagree on the mass change (R-hat of a up to "
                            f"{rhat_a:.2f}): multimodal posterior")
        out = {"n_immobile": n_imm, "n_elements": J, "second_isocon": best_other,
               "second_shift": shift, "rhat_a": rhat_a, "unstable": unstable,
               "problems": problems}
        fit._cache["isocon_identifiability"] = out  # the fit is immutable
        return out

    def check_fit(self, fit: Fit) -> list[ModelCheck]:
        from ..diagnostics import ModelCheck

        ident = self.identifiability(fit)
        ok = not ident["problems"]
        verdict = (f"{ident['n_immobile']} of {ident['n_elements']} elements immobile"
                   if ok else "; ".join(ident["problems"]))
        return [ModelCheck(
            "isocon_identifiability", "Immobile set identified", ok, verdict,
            value=float(ident["n_immobile"]), threshold=float(self.options["min_immobile"]),
            problem=("The immobile elements (hence the mass change) are not identified: "
                     + verdict + ". The sparse solution may be confidently wrong; declare "
                     "immobile elements (GrantIsocon) or add trace elements."),
        )]

    def _warn_identifiability(self, fit: Fit) -> None:
        ident = self.identifiability(fit)
        if ident["problems"]:
            _warn("SparseIsocon: the immobile set is not identified by these data: "
                  + "; ".join(ident["problems"]) + ". The mass change and transfers may be "
                  "confidently wrong; declare the immobile elements with GrantIsocon or add "
                  "elements known to be immobile (Zr, Hf, Nb, Th, heavy REE).",
                  IsoconIdentifiabilityWarning)
