"""The MORB melting inversion family: one mantle-source composition and a degree of melting
per sample from the trace-element compositions of mid-ocean-ridge basalts.

``MORBMelting(melting=..., source_prior=...)`` fits ``log C0`` (one per element) and ``F``
(one per sample, hierarchical) by ``map``, ``laplace`` or ``nuts``: the likelihood is a
normal law of the log concentrations around the melt of the chosen law
(:mod:`pystats.morb.melting`), with a per-element error.  The parameterisation
(a centred hierarchy on ``logit F`` with the ridge ``(C0, F) -> (k C0, k F)`` put on one
coordinate, the common level ``L_mean``) and the priors are described in
``models/morb_melting.md``.

References
----------
Shaw, D. M. (1970). Trace element fractionation during anatexis. Geochimica et
Cosmochimica Acta 34, 237-243. https://doi.org/10.1016/0016-7037(70)90009-8

Workman, R. K. and Hart, S. R. (2005). Major and trace element composition of the depleted
MORB mantle (DMM). EPSL 231, 53-72. https://doi.org/10.1016/j.epsl.2004.12.005
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._checks import check_prob
from ..cli_spec import Argument, CommandLine
from ..constraints import Booleans, Constraint, Interval, Mappings, Option, Pair, StrOptions
from ..errors import DataError, OptionError
from ..model import Model, PreparedData
from ..parameters import Parameter, ParameterSet
from .crystallisation import fc_partition
from .melting import melt
from .tables import ELEMENTS, reference

if TYPE_CHECKING:
    import pandas as pd

    from ..fit import Fit

__all__ = ["INVERSION_LAWS", "SOURCE_PRIORS", "MORBMelting", "read_samples"]

INVERSION_LAWS = ("batch", "aggregated_fractional", "continuous")
"""Melting laws the inversion offers (modal melting)."""
SOURCE_PRIORS = ("DMM_WH2005", "DM_SS2004", "PM_MS1995")
"""Named reference mantles for the centre of the prior on ``C0``."""
_LAW_CODE = {"batch": 1, "aggregated_fractional": 2, "continuous": 3}
_ID_COLUMNS = ("sample", "Sample", "sample_id", "id")
_SD_SUFFIX = "_sd"


class _Strings(Constraint):
    """A non-empty list or tuple of distinct strings (returned as a tuple)."""

    def convert(self, name: str, value: Any) -> tuple[str, ...]:
        from .._checks import _refuse

        if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value) \
                and len(set(value)) == len(value):
            return tuple(value)
        raise _refuse(name, value, self.describe())

    def describe(self) -> str:
        return "a non-empty list of distinct element names"


def _positive_mapping(name: str, value: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not (math.isfinite(v) and v > 0):
            raise OptionError(f"{name}[{k!r}]={v!r} is not allowed; use a finite number > 0")
        out[k] = float(v)
    return out


def read_samples(path: str, **kwargs: Any) -> pd.DataFrame:
    """Read a sample table (CSV: one row per sample, one column per element in ppm) for
    ``pystats fit --model morb``; ``kwargs`` go to :func:`pandas.read_csv` (the catalogue
    options ``format``, ``sort``, ``columns`` do not apply and are dropped)."""
    import pandas as pd

    keep = {k: v for k, v in kwargs.items() if k in ("sep", "comment", "encoding")}
    return pd.read_csv(path, **keep)


class MORBMelting(Model):
    """Joint posterior of a mantle-source composition and the degree of melting per sample.

    Parameters
    ----------
    melting : {"aggregated_fractional", "batch", "continuous"}
        Melting law (modal melting, :func:`pystats.morb.melting.melt`).
    phi : float
        Residual mass porosity of ``melting="continuous"`` (default 0.005).
    source_prior : {"DMM_WH2005", "DM_SS2004", "PM_MS1995"} or dict
        Centre of the lognormal prior on ``C0`` (ppm): a named reference mantle
        (Workman & Hart 2005 DMM by default) or element -> ppm.
    source_sd : float
        Log-scale sd of the prior on ``C0`` (default 0.5: a factor 1.65 at one sd).
    partition : "D_WH2005" or dict
        Bulk partition coefficients: Workman & Hart's (2005) or element -> D.
    elements : list of str, optional
        Element columns to fit; default every column named like an element with a prior
        centre and a D (:data:`pystats.morb.tables.ELEMENTS`).
    F_max : float
        Upper bound of F (default 0.3).
    F_prior : (float, float)
        ``(median F, sd of logit(F / F_max))`` of the prior of the mean of the
        hierarchical prior on F (default ``(0.08, 1.0)``).
    sigma_F_sd : float
        Scale of the half-normal prior on the spread of logit(F / F_max) (default 1).
    sigma_prior : (float, float)
        ``(median, sd_log)`` of the lognormal prior on the per-element error (default
        ``(0.1, 0.75)``).
    error_floor : float
        Smallest error of a log concentration (default 0.02, i.e. 2 %, the precision of
        good trace-element analyses), added in quadrature to ``sigma`` and the given
        uncertainties.  Without it one element can be fitted exactly by the F_i and its
        ``sigma`` collapse to 0 (an unbounded posterior density; the MAP runs into it).
    missing : {"error", "omit"}
        A missing (empty / NaN) concentration: an error naming it (default), or
        ``"omit"``: the (sample, element) pair is left out of the likelihood (counted in
        ``fit.data.summary["n_missing"]``), never imputed.
    d_uncertainty : float, optional
        Log-scale sd ``s`` of an uncertain bulk ``D`` per element: ``log D_j = log D_tab,j +
        s z_j``, ``z_j ~ N(0, 1)`` (parameter ``z_D``, summary rows ``D[<element>]``).
        Default None: ``D`` fixed at the table.  ``math.log(3)`` (a factor 3 at one sd, 9
        at two) covers the spread of the Gibson & Geist (2010) and McKenzie & O'Nions
        (1991, 1995) tables, which differ by up to 10x (``models/morb_melting.md``).
    fractional_crystallisation : bool
        Multiply each sample's melt by a Rayleigh factor ``(1 - X_i)^(D_fc,j - 1)``,
        ``X_i`` the mass fraction crystallised (default False).  ``logit(X_i / X_max) =
        mu_X + sigma_X z_X[i]`` (non-centred: the data pin ``X_i`` weakly, through the
        elements with ``D_fc`` near or above 1: Sr, Eu), ``z_X ~ N(0, 1)``, ``mu_X ~
        N(logit(X_prior[0] / X_max), X_prior[1])``, ``sigma_X ~ half-normal(0, 1)``;
        derived rows ``X[<sample>]``.
    X_max : float
        Upper bound of ``X`` (default 0.5).
    X_prior : (float, float)
        ``(median X, sd of logit(X / X_max))`` of the prior of ``mu_X`` (default
        ``(0.15, 1.0)``).
    fc_partition : dict, optional
        Element -> bulk crystal/melt ``D_fc``; default
        :func:`pystats.morb.crystallisation.fc_partition` (olivine 0.2, plagioclase 0.5,
        clinopyroxene 0.3 with Gibson & Geist 2010 mineral/melt D).

    Notes
    -----
    Data: a DataFrame with one row per sample and one column per element (ppm, > 0);
    optional ``<element>_sd`` columns (ppm) add a known uncertainty to that value; an id
    column ``sample`` (or ``Sample``, ``sample_id``, ``id``) names the samples, else the
    index does.  Other columns are ignored, listed in ``fit.data.summary["notes"]``.
    Summary rows: ``C0[<element>]`` (ppm), ``F[<sample>]``, ``mu_F`` and the parameters
    ``z_C0``, ``L_mean``, ``mu_F_offset``, ``sigma_F``, ``u_F``, ``sigma`` (and ``z_D``,
    ``D[<element>]`` with ``d_uncertainty``).  ``mle`` is
    not offered: without the priors the likelihood is flat along
    ``(C0, F) -> (k C0, k F)`` when the elements are incompatible
    (``models/morb_melting.md``).

    Examples
    --------
    >>> import pystats
    >>> from pystats.morb.simulate import simulate_morb
    >>> data, truth = simulate_morb(8, ["La", "Sm", "Yb", "Y", "Zr"], rng=2)
    >>> fit = pystats.MORBMelting().fit(data, method="map", seed=1)
    >>> table = fit.summary()
    >>> "C0[La]" in table.index and "F[S001]" in table.index
    True
    """

    family: ClassVar[str] = "morb_melting"
    methods: ClassVar[tuple[str, ...]] = ("map", "laplace", "nuts")
    has_torch_likelihood: ClassVar[bool] = True
    precondition_optimizer: ClassVar[bool] = True
    options_spec: ClassVar[dict[str, Option]] = {
        "melting": Option("aggregated_fractional", [StrOptions(INVERSION_LAWS)]),
        "phi": Option(0.005, [Interval(Real, 0, 0.2, closed="left")]),
        "source_prior": Option("DMM_WH2005", [StrOptions(SOURCE_PRIORS), Mappings()],
                               allowed=f"one of {', '.join(SOURCE_PRIORS)} or a dict "
                               "element -> ppm"),
        "source_sd": Option(0.5, [Interval(Real, 0, None, closed="neither")]),
        "partition": Option("D_WH2005", [StrOptions(("D_WH2005",)), Mappings()],
                            allowed="'D_WH2005' or a dict element -> bulk D"),
        "elements": Option(None, [None, _Strings()]),
        "F_max": Option(0.3, [Interval(Real, 0, 1, closed="right")]),
        "F_prior": Option((0.08, 1.0), [Pair(Interval(Real, 0, 1, closed="neither"),
                                             Interval(Real, 0, None, closed="neither"))],
                          allowed="(median F in (0, F_max), sd > 0)"),
        "sigma_F_sd": Option(1.0, [Interval(Real, 0, None, closed="neither")]),
        "sigma_prior": Option((0.1, 0.75), [Pair(Interval(Real, 0, None, closed="neither"),
                                                 Interval(Real, 0, None, closed="neither"))],
                              allowed="(median > 0, sd_log > 0)"),
        "missing": Option("error", [StrOptions(("error", "omit"))]),
        "error_floor": Option(0.02, [Interval(Real, 0, None, closed="neither")]),
        "d_uncertainty": Option(None, [None, Interval(Real, 0, None, closed="neither")]),
        "fractional_crystallisation": Option(False, [Booleans()]),
        "X_max": Option(0.5, [Interval(Real, 0, 1, closed="neither")]),
        "X_prior": Option((0.15, 1.0), [Pair(Interval(Real, 0, 1, closed="neither"),
                                             Interval(Real, 0, None, closed="neither"))],
                          allowed="(median X in (0, X_max), sd > 0)"),
        "fc_partition": Option(None, [None, Mappings()],
                               allowed="None or a dict element -> bulk crystal/melt D"),
    }
    cli: ClassVar[CommandLine] = CommandLine(
        name="morb", title="MORB melting inversion", help="MORB melting inversion",
        fit=(
            Argument("--melting", choices=INVERSION_LAWS, help="melting law"),
            Argument("--source-prior", choices=SOURCE_PRIORS, help="reference mantle"),
            Argument("--elements", type=lambda s: tuple(s.split(",")),
                     help="comma-separated element columns (default: all known)"),
            Argument("--missing", choices=("error", "omit"),
                     help="missing concentrations: error (default) or omit from the "
                     "likelihood"),
            Argument("--F-max", type=float, keyword="F_max", help="upper bound of F"),
        ),
        predict=(Argument("--F", type=float, action="append", keyword="F",
                          help="degree of melting (repeatable)"),),
        read="pystats.morb.model:read_samples",
    )

    # ------------------------------------------------------------------ options
    def _validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        o = options
        if isinstance(o["source_prior"], dict):
            o["source_prior"] = _positive_mapping("source_prior", o["source_prior"])
        if isinstance(o["partition"], dict):
            o["partition"] = _positive_mapping("partition", o["partition"])
        if not o["F_prior"][0] < o["F_max"]:
            raise OptionError(f"F_prior={o['F_prior']!r} is not allowed with F_max="
                              f"{o['F_max']!r}; the median must be below F_max")
        if isinstance(o["fc_partition"], dict):
            o["fc_partition"] = _positive_mapping("fc_partition", o["fc_partition"])
        if not o["X_prior"][0] < o["X_max"]:
            raise OptionError(f"X_prior={o['X_prior']!r} is not allowed with X_max="
                              f"{o['X_max']!r}; the median must be below X_max")
        if o["phi"] != 0.005 and o["melting"] != "continuous":
            raise OptionError(f"phi={o['phi']!r} applies only to melting='continuous'")
        return o

    def _tables(self) -> tuple[dict[str, float], dict[str, float]]:
        o = self.options
        c0 = (reference(o["source_prior"]) if isinstance(o["source_prior"], str)
              else dict(o["source_prior"]))
        d = reference("D_WH2005") if isinstance(o["partition"], str) else dict(o["partition"])
        return {k: v for k, v in c0.items() if math.isfinite(v)}, d

    # ------------------------------------------------------------------ data
    def prepare(self, data: Any) -> PreparedData:
        """Validate and copy the sample table; select the observed (sample, element) pairs.

        Raises
        ------
        DataError
            Not a DataFrame, no rows, no element column, a non-numeric or non-positive
            concentration (named by column and sample), a missing one with
            ``missing="error"``, a sample with no observed element, duplicate sample ids.
        """
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            raise DataError(
                f"data of type {type(data).__name__} is not allowed; use a pandas DataFrame "
                "with one row per sample and one column per element (ppm)"
            )
        if len(data) == 0:
            raise DataError("the data are empty (0 samples); give at least one sample row")
        c0_ref, d_tab = self._tables()
        known = [e for e in c0_ref if e in d_tab]
        if self.options["fractional_crystallisation"]:
            d_fc = (fc_partition() if self.options["fc_partition"] is None
                    else dict(self.options["fc_partition"]))
            known = [e for e in known if e in d_fc]
        notes: list[str] = []
        if self.options["elements"] is not None:
            elements = list(self.options["elements"])
            absent = [e for e in elements if e not in data.columns]
            if absent:
                raise DataError(f"element column(s) {', '.join(absent)} not in the data; "
                                f"columns are {', '.join(map(str, data.columns))}")
            no_table = [e for e in elements if e not in known]
            if no_table:
                raise OptionError(
                    f"elements {', '.join(no_table)} have no prior centre (source_prior) or "
                    "no D (partition); give them in source_prior= and partition= dicts"
                )
        else:
            elements = [e for e in known if e in data.columns]
            order = {e: i for i, e in enumerate(ELEMENTS)}
            elements.sort(key=lambda e: order.get(e, len(order)))
            if not elements:
                raise DataError(
                    "no element column in the data; columns are "
                    f"{', '.join(map(str, data.columns))}; known elements: {', '.join(known)}"
                )
        id_col = next((c for c in _ID_COLUMNS if c in data.columns), None)
        ids = [str(x) for x in (data[id_col] if id_col is not None else data.index)]
        if len(set(ids)) != len(ids):
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
            raise DataError(f"sample id {dup!r} appears more than once in "
                            f"{'column ' + repr(id_col) if id_col else 'the index'}; "
                            "sample ids must be unique")
        sd_cols = {e: f"{e}{_SD_SUFFIX}" for e in elements if f"{e}{_SD_SUFFIX}" in data.columns}
        used = {*elements, *sd_cols.values(), *([id_col] if id_col else [])}
        ignored = [str(c) for c in data.columns if c not in used]
        if ignored:
            notes.append(f"ignored {len(ignored)} column(s) that are not fitted elements: "
                         + ", ".join(ignored[:20]) + (" ..." if len(ignored) > 20 else ""))
        conc = np.empty((len(data), len(elements)))
        for j, e in enumerate(elements):
            col = pd.to_numeric(data[e], errors="coerce").to_numpy(dtype=float)
            bad_text = np.isnan(col) & data[e].notna().to_numpy()
            if bad_text.any():
                i = int(np.flatnonzero(bad_text)[0])
                raise DataError(f"column {e!r}: value {data[e].iloc[i]!r} of sample {ids[i]!r}"
                                " is not a number; use ppm values (empty for missing)")
            if np.isinf(col).any() or (col <= 0).any():
                i = int(np.flatnonzero(np.isinf(col) | (col <= 0))[0])
                raise DataError(f"column {e!r}: value {float(col[i])!r} of sample {ids[i]!r} "
                                "is not allowed; concentrations must be finite and > 0 (ppm)")
            if np.isnan(col).any() and self.options["missing"] == "error":
                i = int(np.flatnonzero(np.isnan(col))[0])
                raise DataError(
                    f"column {e!r}: sample {ids[i]!r} has no value ({int(np.isnan(col).sum())}"
                    f" missing in {e!r}); drop the column or the samples, or pass "
                    "missing='omit' to leave missing values out of the likelihood"
                )
            conc[:, j] = col
        sd = np.zeros_like(conc)
        for j, e in enumerate(elements):
            if e in sd_cols:
                s = pd.to_numeric(data[sd_cols[e]], errors="coerce").to_numpy(dtype=float)
                bad = (~np.isfinite(s) | (s < 0)) & np.isfinite(conc[:, j])
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise DataError(f"column {sd_cols[e]!r}: value {float(s[i])!r} of sample "
                                    f"{ids[i]!r} is not allowed; use an uncertainty >= 0 (ppm)")
                sd[:, j] = np.where(np.isfinite(s), s, 0.0)
        observed = np.isfinite(conc)
        empty = np.flatnonzero(~observed.any(axis=1))
        if empty.size:
            raise DataError(f"sample {ids[int(empty[0])]!r} has none of the elements "
                            f"{', '.join(elements)}; drop it")
        si, ej = np.nonzero(observed)
        y = np.log(conc[si, ej])
        tau = sd[si, ej] / conc[si, ej]
        n_missing = int((~observed).sum())
        if n_missing:
            notes.append(f"{n_missing} missing (sample, element) value(s) left out of the "
                         "likelihood (missing='omit')")
        o = self.options
        f_med, f_sd = o["F_prior"]
        s_med, s_sd = o["sigma_prior"]
        values = {
            "N": len(ids), "J": len(elements), "K": int(y.size),
            "samp": si.astype(np.int64), "elem": ej.astype(np.int64),
            "y": y, "tau": tau,
            "log_c0_ref": np.log([c0_ref[e] for e in elements]),
            "b_C0": ridge_slope(np.array([d_tab[e] for e in elements], dtype=float),
                                _LAW_CODE[o["melting"]], float(o["phi"]), f_med,
                                float(o["F_max"])),
            "c0_sd": float(o["source_sd"]),
            "D": np.array([d_tab[e] for e in elements], dtype=float),
            "law": _LAW_CODE[o["melting"]], "phi": float(o["phi"]),
            "F_max": float(o["F_max"]),
            "mu_F_mean": float(math.log(f_med / (o["F_max"] - f_med))),
            "mu_F_sd": float(f_sd), "sigma_F_sd": float(o["sigma_F_sd"]),
            "sigma_mu": float(math.log(s_med)), "sigma_sd": float(s_sd),
            "error_floor": float(o["error_floor"]),
            "d_unc": int(o["d_uncertainty"] is not None),
            "d_sd": float(o["d_uncertainty"] or 0.0),
            "fc": int(bool(o["fractional_crystallisation"])),
            "D_fc": (np.array([d_fc[e] for e in elements], dtype=float)
                     if o["fractional_crystallisation"] else np.zeros(len(elements))),
            "X_max": float(o["X_max"]),
            "mu_X_mean": float(math.log(o["X_prior"][0] / (o["X_max"] - o["X_prior"][0]))),
            "mu_X_sd": float(o["X_prior"][1]), "sigma_X_sd": 1.0,
        }
        summary = {
            "n": len(ids), "n_samples": len(ids), "n_elements": len(elements),
            "n_observed": int(y.size), "n_missing": n_missing,
            "elements": elements, "sample_ids": ids, "id_column": id_col,
            "uncertainty_columns": list(sd_cols.values()), "notes": notes,
        }
        return PreparedData(values=values, observed={"log_concentration": y}, summary=summary)

    # ------------------------------------------------------------------ parameters
    def parameters(self, data: PreparedData) -> ParameterSet:
        """``z_C0`` (J), ``L_mean``, ``mu_F_offset``, ``sigma_F``, ``u_F`` (N - 1),
        ``sigma`` (J), and ``z_D`` (J) with ``d_uncertainty``: the centred hierarchy with the
        ridge on ``L_mean`` (``models/morb_melting.md`` section 2)."""
        n, j = int(data.values["N"]), int(data.values["J"])
        extra = ([Parameter("z_D", shape=(j,), description="standardised log D around the "
                            "tabulated value")] if int(data.values.get("d_unc", 0)) else [])
        if int(data.values.get("fc", 0)):
            extra += [
                Parameter("mu_X", shape=(1,), description="mean of logit(X / X_max)"),
                Parameter("sigma_X", lower=0.0, shape=(1,),
                          description="spread of logit(X / X_max)"),
                Parameter("z_X", shape=(n,), description="standardised logit(X / X_max)"),
            ]
        return ParameterSet([
            Parameter("z_C0", shape=(j,),
                      description="standardised log C0 at the common level L_mean"),
            Parameter("L_mean", description="mean of logit(F / F_max) over the samples"),
            Parameter("mu_F_offset", description="mu_F - L_mean"),
            Parameter("sigma_F", lower=0.0, description="spread of logit(F / F_max)"),
            Parameter("u_F", shape=(n - 1,), description="logit(F / F_max) - L_mean in an "
                      "orthonormal basis of the vectors summing to zero"),
            Parameter("sigma", lower=0.0, shape=(j,),
                      description="per-element error of log concentrations"),
            *extra,
        ])

    def hessian_structure(self, data: PreparedData
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrowhead in the centred coordinates ``w = T u`` (``log C0`` standardised,
        ``mu_F``, ``log sigma_F``, ``logit(F_i / F_max)``, ``log sigma``): the per-sample
        ``logit F_i`` are conditionally independent given the 2 J + 2 global parameters,
        so one colour serves them all (2 J + 3 Hessian-vector products in place of
        N + 2 J + 2).  With ``d_uncertainty`` the J ``z_D`` are global too (dense block,
        3 J + 3 products).  ``T`` is the linear part of the affine map from the
        parameters."""
        v = data.values
        n, j = int(v["N"]), int(v["J"])
        j_d = j * int(v.get("d_unc", 0))
        n_x = n * int(v.get("fc", 0))
        dim = n + 2 * j + 2 + j_d + (2 + n_x if n_x else 0)
        sample = np.full(dim, -1)  # the sample of a per-sample coordinate, -1 if global
        sample[j + 2:j + 2 + n] = np.arange(n)
        if n_x:
            sample[dim - n:] = np.arange(n)
        local = sample >= 0
        pattern = ~(local[:, None] & local[None, :]) | (sample[:, None] == sample[None, :])
        n_global = int((~local).sum())
        colours = np.cumsum(~local) - 1
        colours[j + 2:j + 2 + n] = n_global  # every logit F_i: one colour
        if n_x:
            colours[dim - n:] = n_global + 1  # every z_X[i]: one colour
        t = np.zeros((dim, dim))
        t[np.arange(j), np.arange(j)] = 1.0
        t[:j, j] = np.asarray(v["b_C0"]) / float(v["c0_sd"])  # z0 = z_C0 + b L_mean / s
        t[j, j] = t[j, j + 1] = 1.0  # mu_F = L_mean + mu_F_offset
        t[j + 1, j + 2] = 1.0  # log sigma_F
        t[j + 2:j + 2 + n, j] = 1.0  # L = L_mean + Q u_F
        t[j + 2:j + 2 + n, j + 3:j + 2 + n] = sum_to_zero(np.eye(n - 1)).T
        t[j + 2 + n:, j + 2 + n:] = np.eye(dim - j - 2 - n)  # log sigma, z_D, X terms
        return pattern, colours, t

    def index_labels(self, data: PreparedData) -> dict[str, tuple[list[str], ...]]:
        el, ids = list(data.summary["elements"]), list(data.summary["sample_ids"])
        return {"z_C0": (el,), "sigma": (el,), "C0": (el,), "log_C0": (el,), "F": (ids,),
                "z_D": (el,), "D": (el,), "z_X": (ids,), "X": (ids,)}

    # ------------------------------------------------------------------ likelihood
    @staticmethod
    def _log_ratio_torch(F: Any, D: Any, law: int, phi: float) -> Any:
        import torch

        if law == 1:
            return -torch.log(D + F * (1 - D))
        if law == 2:
            return torch.log(-torch.expm1(torch.log1p(-F) / D)) - torch.log(F)
        d_phi = phi + (1 - phi) * D
        x = (F - phi) / (1 - phi)
        x_safe = torch.clamp(x, min=1e-12)
        agg = torch.log(-torch.expm1(torch.log1p(-x_safe) / d_phi)) - torch.log(x_safe)
        return torch.where(x > 1e-12, agg, -torch.log(D + F * (1 - D)))

    def _mu_sd_torch(self, params: dict[str, Any], t: dict[str, Any]) -> tuple[Any, Any]:
        import torch

        F = t["F_max"] * torch.sigmoid(self._logit_f_torch(params))
        log_c0 = t["log_c0_ref"] + t["c0_sd"] * self._z0_torch(params, t)
        samp, elem = t["samp"], t["elem"]
        D = t["D"]
        if "z_D" in params:
            D = D * torch.exp(float(t["d_sd"]) * params["z_D"])
        mu = log_c0[..., elem] + self._log_ratio_torch(
            F[..., samp], D[..., elem], int(t["law"]), float(t["phi"]))
        if "z_X" in params:
            x = t["X_max"] * torch.sigmoid(params["mu_X"] + params["sigma_X"] * params["z_X"])
            mu = mu + (t["D_fc"][elem] - 1) * torch.log1p(-x[..., samp])
        sd = torch.sqrt(params["sigma"][..., elem] ** 2 + t["tau"] ** 2
                        + float(t["error_floor"]) ** 2)
        return mu, sd

    @staticmethod
    def _logit_f_torch(params: dict[str, Any]) -> Any:
        return params["L_mean"][..., None] + sum_to_zero(params["u_F"])

    @staticmethod
    def _z0_torch(params: dict[str, Any], t: dict[str, Any]) -> Any:
        shift = (params["L_mean"][..., None] - t["mu_F_mean"]) / t["c0_sd"]
        return params["z_C0"] + t["b_C0"] * shift

    def log_likelihood_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        mu, sd = self._mu_sd_torch(params, tensors)
        z = (tensors["y"] - mu) / sd
        return (-0.5 * z**2 - torch_log(sd) - 0.5 * math.log(2 * math.pi)).sum(-1)

    def log_prior_torch(self, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        t = tensors
        half_log_2pi = 0.5 * math.log(2 * math.pi)

        def normal(x: Any, m: float, s: float) -> Any:
            return -0.5 * ((x - m) / s) ** 2 - math.log(s) - half_log_2pi

        mu_f = params["L_mean"] + params["mu_F_offset"]
        out = normal(self._z0_torch(params, t), 0.0, 1.0).sum(-1)
        z = (self._logit_f_torch(params) - mu_f[..., None]) / params["sigma_F"][..., None]
        out = out + (-0.5 * z**2 - half_log_2pi).sum(-1) - z.shape[-1] * torch_log(
            params["sigma_F"])
        out = out + normal(mu_f, float(t["mu_F_mean"]), float(t["mu_F_sd"]))
        out = out + normal(params["sigma_F"], 0.0, float(t["sigma_F_sd"])) + math.log(2.0)
        log_s = torch_log(params["sigma"])
        out = out + (normal(log_s, float(t["sigma_mu"]), float(t["sigma_sd"])) - log_s).sum(-1)
        if "z_D" in params:
            out = out + normal(params["z_D"], 0.0, 1.0).sum(-1)
        if "z_X" in params:
            out = out + normal(params["z_X"], 0.0, 1.0).sum(-1)
            out = out + normal(params["mu_X"], float(t["mu_X_mean"]), float(t["mu_X_sd"])).sum(-1)
            out = out + (normal(params["sigma_X"], 0.0, float(t["sigma_X_sd"]))
                         + math.log(2.0)).sum(-1)
        return out

    # ------------------------------------------------------------------ Stan
    def stan_program(self) -> str:
        return "morb_melting.stan"

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        v = data.values
        out = {k: v[k] for k in ("N", "J", "K", "y", "tau", "log_c0_ref", "b_C0", "c0_sd", "D",
                                 "law", "phi", "F_max", "mu_F_mean", "mu_F_sd", "sigma_F_sd",
                                 "sigma_mu", "sigma_sd", "error_floor")}
        for k in ("d_unc", "d_sd", "fc", "D_fc", "X_max", "mu_X_mean", "mu_X_sd", "sigma_X_sd"):
            out[k] = v[k]
        out["samp"] = np.asarray(v["samp"]) + 1
        out["elem"] = np.asarray(v["elem"]) + 1
        return out

    def initial_values(self, data: PreparedData, rng: np.random.Generator) -> dict[str, Any]:
        """A data-driven start (:func:`start_point`) with a random jitter of sd 0.2 on the
        unconstrained scale (as dispersed as the earlier random starts): the optimizer
        starts next to the mode and the chains inside the typical set."""
        v = data.values
        n, j = int(v["N"]), int(v["J"])
        log_c0, logit_f, sigma = start_point(v)
        l_mean = float(np.mean(logit_f))
        sigma_f = float(max(np.std(logit_f), 0.05))
        c0_sd = float(v["c0_sd"])
        z0 = (log_c0 - np.asarray(v["log_c0_ref"])) / c0_sd
        return {
            "z_C0": z0 - np.asarray(v["b_C0"]) * (l_mean - float(v["mu_F_mean"])) / c0_sd
            + 0.2 * rng.standard_normal(j),
            "L_mean": l_mean + 0.2 * rng.standard_normal(),
            "mu_F_offset": 0.2 * sigma_f / math.sqrt(n) * rng.standard_normal(),
            "sigma_F": sigma_f * math.exp(0.2 * rng.standard_normal()),
            "u_F": sum_to_zero_free(logit_f - l_mean) + 0.2 * rng.standard_normal(n - 1),
            "sigma": sigma * np.exp(0.2 * rng.standard_normal(j)),
            **({"z_D": 0.2 * rng.standard_normal(j)} if int(v.get("d_unc", 0)) else {}),
            **({"mu_X": float(v["mu_X_mean"]) + 0.2 * rng.standard_normal(1),
                "sigma_X": 0.3 * np.exp(0.2 * rng.standard_normal(1)),
                "z_X": 0.2 * rng.standard_normal(n)} if int(v.get("fc", 0)) else {}),
        }

    # ------------------------------------------------------------------ derived
    def derived(self, draws: Mapping[str, np.ndarray], data: PreparedData) -> dict[str, Any]:
        """``C0`` (ppm, per element), ``F`` (per sample), ``mu_F`` (mean of the
        hierarchical prior of logit(F / F_max)) and, with ``d_uncertainty``, ``D`` (bulk
        partition coefficient per element)."""
        v = data.values
        l_mean = np.asarray(draws["L_mean"], dtype=float)
        z0 = (np.asarray(draws["z_C0"], dtype=float) + np.asarray(v["b_C0"])
              * (l_mean[..., None] - float(v["mu_F_mean"])) / float(v["c0_sd"]))
        logit = l_mean[..., None] + sum_to_zero(np.asarray(draws["u_F"], dtype=float))
        out = {
            "C0": np.exp(np.asarray(v["log_c0_ref"]) + float(v["c0_sd"]) * z0),
            "F": float(v["F_max"]) / (1.0 + np.exp(-logit)),
            "mu_F": l_mean + np.asarray(draws["mu_F_offset"], dtype=float),
        }
        if "z_D" in draws:
            out["D"] = np.asarray(v["D"]) * np.exp(
                float(v["d_sd"]) * np.asarray(draws["z_D"], dtype=float))
        if "z_X" in draws:
            logit_x = (np.asarray(draws["mu_X"], dtype=float)
                       + np.asarray(draws["sigma_X"], dtype=float)
                       * np.asarray(draws["z_X"], dtype=float))
            out["X"] = float(v["X_max"]) / (1.0 + np.exp(-logit_x))
        return out

    def _draws(self, fit: Fit) -> dict[str, np.ndarray]:
        names = fit.parameters.names
        try:
            params = {n: np.asarray(fit.variable(n), dtype=float) for n in names}
        except KeyError:
            params = {n: np.asarray(fit.estimate(n), dtype=float)[None, ...] for n in names}
        return {**params, **self.derived(params, fit.data)}

    def pointwise_log_likelihood(self, draws: Mapping[str, np.ndarray],
                                 data: PreparedData) -> dict[str, np.ndarray]:
        v = data.values
        d = self.derived(draws, data)
        mu, sd = self._mu_sd_numpy(d, np.asarray(draws["sigma"], dtype=float), v)
        z = (np.asarray(v["y"]) - mu) / sd
        return {"log_concentration": -0.5 * z**2 - np.log(sd) - 0.5 * math.log(2 * math.pi)}

    @staticmethod
    def _mu_sd_numpy(d: Mapping[str, np.ndarray], sigma: np.ndarray,
                     v: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        samp, elem = np.asarray(v["samp"]), np.asarray(v["elem"])
        law = {1: "batch", 2: "aggregated_fractional", 3: "continuous"}[int(v["law"])]
        C0, F = np.asarray(d["C0"]), np.asarray(d["F"])
        kw = {"phi": float(v["phi"])} if law == "continuous" else {}
        D = np.asarray(d["D"]) if "D" in d else np.asarray(v["D"])
        mean = melt(C0[..., elem], D[..., elem], F[..., samp], law=law, **kw)
        if "X" in d:
            mean = mean * (1.0 - np.asarray(d["X"])[..., samp]) ** (
                np.asarray(v["D_fc"])[elem] - 1.0)
        sd = np.sqrt(sigma[..., elem] ** 2 + np.asarray(v["tau"]) ** 2
                     + float(v["error_floor"]) ** 2)
        return np.log(mean), sd

    def posterior_predictive(self, draws: Mapping[str, np.ndarray], data: PreparedData,
                             rng: np.random.Generator) -> dict[str, np.ndarray]:
        mu, sd = self._mu_sd_numpy(self.derived(draws, data),
                                   np.asarray(draws["sigma"], dtype=float), data.values)
        return {"log_concentration": mu + sd * rng.standard_normal(mu.shape)}

    # ------------------------------------------------------------------ results
    def correlations(self, fit: Fit) -> pd.DataFrame:
        """Posterior correlation matrix of ``log C0[<element>]`` and ``log F[<sample>]``
        (from the draws; the ridge ``(C0, F) -> (k C0, k F)`` shows as positive
        correlations between the two blocks)."""
        import pandas as pd

        d = self._draws(fit)
        if d["C0"].shape[0] < 3:
            raise OptionError("correlations need draws; fit with method='laplace' or 'nuts'")
        el, ids = fit.data.summary["elements"], fit.data.summary["sample_ids"]
        x = np.concatenate([np.log(d["C0"]), np.log(d["F"])], axis=1)
        names = [f"log_C0[{e}]" for e in el] + [f"log_F[{s}]" for s in ids]
        return pd.DataFrame(np.corrcoef(x, rowvar=False), index=names, columns=names)

    def weak_directions(self, fit: Fit, n: int = 3) -> pd.DataFrame:
        """The ``n`` directions of (``log C0``, ``log F``) the data constrain least: the
        eigenvectors of the posterior covariance with the largest variance, with their
        sd.  The ridge is the direction with the same sign on every ``log C0`` and every
        ``log F``."""
        import pandas as pd

        d = self._draws(fit)
        if d["C0"].shape[0] < 3:
            raise OptionError("weak_directions need draws; fit with method='laplace' or 'nuts'")
        x = np.concatenate([np.log(d["C0"]), np.log(d["F"])], axis=1)
        w, vecs = np.linalg.eigh(np.cov(x, rowvar=False))
        order = np.argsort(w)[::-1][:n]
        el, ids = fit.data.summary["elements"], fit.data.summary["sample_ids"]
        names = [f"log_C0[{e}]" for e in el] + [f"log_F[{s}]" for s in ids]
        frame = pd.DataFrame(vecs[:, order].T, columns=names)
        frame.insert(0, "sd", np.sqrt(np.maximum(w[order], 0.0)))
        return frame

    def predict(self, fit: Fit, F: Any = None, prob: float = 0.9, magnitudes: Any = None,
                noise: bool = False) -> pd.DataFrame:
        """Melt compositions with intervals.

        Parameters
        ----------
        fit : Fit
        F : float or array_like, optional
            Degrees of melting; one row per (F, element).  Default: each sample at its
            own posterior F, with the observed value and ``poor_fit`` (the observation
            outside the posterior predictive interval).
        prob : float
            Mass of the equal-tailed intervals.
        magnitudes : None
            Not used by this family (a common ``pystats predict`` option); must be None.
        noise : bool
            Include the per-element error (posterior predictive) in the intervals; always
            on for the default per-sample table.

        Returns
        -------
        pandas.DataFrame
            ``F`` or ``sample``, ``element``, ``mean``, ``median``, ``lower``, ``upper``
            (ppm); per sample also ``observed`` and ``poor_fit``.
        """
        import pandas as pd

        check_prob(prob)
        if magnitudes is not None:
            raise OptionError("magnitudes= does not apply to MORBMelting; use F=")
        d = self._draws(fit)
        v = fit.data.values
        el = list(fit.data.summary["elements"])
        law = {1: "batch", 2: "aggregated_fractional", 3: "continuous"}[int(v["law"])]
        kw = {"phi": float(v["phi"])} if law == "continuous" else {}
        lo_q, hi_q = (1 - prob) / 2, (1 + prob) / 2
        rng = np.random.default_rng(0)
        if F is None:
            mu, sd = self._mu_sd_numpy(d, d["sigma"], v)
            rep = np.exp(mu + sd * rng.standard_normal(mu.shape))
            obs = np.exp(np.asarray(v["y"]))
            lower, upper = np.quantile(rep, lo_q, axis=0), np.quantile(rep, hi_q, axis=0)
            ids = fit.data.summary["sample_ids"]
            return pd.DataFrame({
                "sample": [ids[i] for i in np.asarray(v["samp"])],
                "element": [el[j] for j in np.asarray(v["elem"])],
                "observed": obs, "mean": rep.mean(axis=0), "median": np.median(rep, axis=0),
                "lower": lower, "upper": upper, "poor_fit": (obs < lower) | (obs > upper),
            })
        f = np.atleast_1d(np.asarray(F, dtype=float))
        if f.ndim != 1 or not np.all((f > 0) & (f <= 1)):
            raise OptionError(f"F={F!r} is not allowed; use melt fractions in (0, 1]")
        D = d["D"][:, None, :] if "D" in d else np.asarray(v["D"])[None, None, :]
        c = melt(d["C0"][:, None, :], D, f[None, :, None], law=law, **kw)
        if noise:
            c = c * np.exp(d["sigma"][:, None, :] * rng.standard_normal(c.shape))
        rows = {"F": np.repeat(f, len(el)), "element": el * len(f),
                "mean": c.mean(axis=0).ravel(), "median": np.median(c, axis=0).ravel(),
                "lower": np.quantile(c, lo_q, axis=0).ravel(),
                "upper": np.quantile(c, hi_q, axis=0).ravel()}
        return pd.DataFrame(rows)

    def report_figures(self, fit: Fit) -> list[tuple[str, Any]]:
        """Spider diagram of C0 (primitive-mantle normalised) and F per sample."""
        from ..plots.morb import f_figure, spider_figure

        return [("Source composition (spider diagram)", spider_figure(fit)),
                ("Degree of melting per sample", f_figure(fit))]


def sum_to_zero(y: Any) -> Any:
    """Stan's isometric sum-to-zero transform (Stan 2.36 ``sum_to_zero_constrain``): the
    ``n + 1`` values ``Q y`` that sum to zero, for ``Q`` an orthonormal basis of that
    space, along the last axis of ``y`` (NumPy array or torch tensor).

    ``z_i = S_i - (i - 1) w_{i-1}`` with ``w_i = y_i / sqrt(i (i + 1))`` and ``S_i`` the sum
    of ``w_k`` over ``k >= i`` (``S_{n+1} = 0``); :func:`sum_to_zero_free` inverts it.
    """
    n = y.shape[-1]
    if isinstance(y, np.ndarray):
        i = np.arange(1, n + 1, dtype=float)
        w = y / np.sqrt(i * (i + 1))
        s = np.flip(np.cumsum(np.flip(w, -1), -1), -1)
        pad = np.zeros((*y.shape[:-1], 1))
        return np.concatenate([s, pad], -1) - np.concatenate([pad, i * w], -1)
    import torch

    i = torch.arange(1, n + 1, dtype=y.dtype, device=y.device)
    w = y / torch.sqrt(i * (i + 1))
    s = torch.flip(torch.cumsum(torch.flip(w, [-1]), -1), [-1])
    pad = torch.zeros((*y.shape[:-1], 1), dtype=y.dtype, device=y.device)
    return torch.cat([s, pad], -1) - torch.cat([pad, i * w], -1)


def sum_to_zero_free(z: np.ndarray) -> np.ndarray:
    """Inverse of :func:`sum_to_zero` for ``z`` summing to zero along its last axis (for
    any ``z``: the coordinates of its projection on that space),
    ``y_i = (z_1 + ... + z_i - i z_{i+1}) / sqrt(i (i + 1))``."""
    z = np.asarray(z, dtype=float)
    n = z.shape[-1] - 1
    i = np.arange(1, n + 1, dtype=float)
    return (np.cumsum(z, -1)[..., :n] - i * z[..., 1:]) / np.sqrt(i * (i + 1))


def ridge_slope(D: np.ndarray, law: int, phi: float, f: float, f_max: float) -> np.ndarray:
    """``b_j = -d log g_j / d logit(F / F_max)`` at ``F = f`` (``g = C_L / C0``): how much
    ``log C0_j`` moves with the common level of ``logit(F / F_max)`` along the ridge
    ``(C0, F) -> (k C0, k F)`` (about ``1 - f / F_max`` for ``D << F``, less for the
    elements with ``D`` near ``F``); central difference of step 1e-4."""
    name = {1: "batch", 2: "aggregated_fractional", 3: "continuous"}[int(law)]
    kw = {"phi": phi} if name == "continuous" else {}
    x0, h = math.log(f / (f_max - f)), 1e-4
    g = [np.log(melt(1.0, D, f_max / (1.0 + math.exp(-x)), law=name, **kw))
         for x in (x0 + h, x0 - h)]
    return -(g[0] - g[1]) / (2 * h)


def start_point(values: Mapping[str, Any], sweeps: int = 6,
                n_grid: int = 121) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A start for the optimizer and the chains by block-coordinate descent.

    Alternates (1) each sample's ``logit(F_i / F_max)`` given ``C0`` (weighted least squares
    on a grid of ``n_grid`` values, refined by a parabola through the best three) and (2)
    ``log C0`` and ``sigma`` given the ``F_i`` (closed forms: the precision-weighted mean of
    the residuals with the prior on ``log C0``, the root-mean-square residual).

    Parameters
    ----------
    values : mapping
        ``PreparedData.values`` of :class:`MORBMelting`.
    sweeps, n_grid : int
        Alternations and grid points (logit scale, -7 to 7).

    Returns
    -------
    log_c0 : ndarray (J,)
    logit_f : ndarray (N,)
        ``logit(F / F_max)`` per sample.
    sigma : ndarray (J,)
        Per-element error (at least 0.01).
    """
    v = values
    n, n_el = int(v["N"]), int(v["J"])
    samp, elem = np.asarray(v["samp"]), np.asarray(v["elem"])
    law = {1: "batch", 2: "aggregated_fractional", 3: "continuous"}[int(v["law"])]
    kw = {"phi": float(v["phi"])} if law == "continuous" else {}
    floor2 = float(v["error_floor"]) ** 2
    grid = np.linspace(-7.0, 7.0, n_grid)
    f_grid = float(v["F_max"]) / (1.0 + np.exp(-grid))
    g = np.log(melt(1.0, np.asarray(v["D"])[None, :], f_grid[:, None], law=law, **kw))
    obs = np.zeros((n, n_el), dtype=bool)
    obs[samp, elem] = True
    y = np.zeros((n, n_el))
    y[samp, elem] = np.asarray(v["y"])
    t2 = np.zeros((n, n_el))
    t2[samp, elem] = np.asarray(v["tau"]) ** 2 + floor2
    ref, c0_sd = np.asarray(v["log_c0_ref"], dtype=float), float(v["c0_sd"])
    log_c0 = ref.copy()
    sigma = np.full(n_el, math.exp(float(v["sigma_mu"])))
    rows = np.arange(n)
    logit_f = np.zeros(n)
    for _ in range(sweeps):
        w = np.where(obs, 1.0 / (sigma**2 + t2), 0.0)
        r = y[:, None, :] - log_c0 - g[None, :, :]
        sse = np.einsum("ngj,nj->ng", r**2, w)
        best = np.clip(np.argmin(sse, axis=1), 1, n_grid - 2)
        lo, mid, hi = sse[rows, best - 1], sse[rows, best], sse[rows, best + 1]
        curv = lo - 2 * mid + hi
        shift = np.where(curv > 0, 0.5 * (lo - hi) / np.where(curv > 0, curv, 1.0), 0.0)
        logit_f = grid[best] + np.clip(shift, -1, 1) * (grid[1] - grid[0])
        f = float(v["F_max"]) / (1.0 + np.exp(-logit_f))
        gi = np.log(melt(1.0, np.asarray(v["D"])[None, :], f[:, None], law=law, **kw))
        res = np.where(obs, y - gi, 0.0)
        log_c0 = ((w * res).sum(0) + ref / c0_sd**2) / (w.sum(0) + 1.0 / c0_sd**2)
        res = np.where(obs, res - log_c0, 0.0)
        ms = (res**2).sum(0) / np.maximum(obs.sum(0), 1)
        sigma = np.sqrt(np.maximum(ms - floor2, 1e-4))
    return log_c0, logit_f, sigma


def torch_log(x: Any) -> Any:
    import torch

    return torch.log(x)
