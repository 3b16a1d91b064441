"""Stan programs of the ETAS and Omori–Utsu families, generated per set of fixed parameters.

The shipped files ``stan/etas.stan`` and ``stan/omori.stan`` are *templates*: complete,
valid Stan programs in which every parameter is free, with tagged lines:

* ``// @param NAME`` — the declaration of parameter ``NAME`` in the ``parameters`` block;
* ``// @prior NAME`` — a line that exists only while ``NAME`` is free (its prior
  hyperparameters in the ``data`` block, its ``target += lognormal_lpdf(...)`` statement);
* ``// @fixed-parameters`` — where the declarations of fixed parameters go in ``data``;
* ``// @absent-parameters`` — (Omori–Utsu) where a parameter that is not part of the model
  at all (no background rate) is defined as ``0`` in ``transformed data``.

:func:`etas_stan_program` and :func:`omori_stan_program` move the declaration of each fixed
parameter, unchanged (same type and bounds), to the data block and drop its prior lines, so
a fixed parameter is passed as Stan data under its own name.  The text depends only on the
*set* of fixed names (not on their order or container), so the same set always gives the
same :attr:`~pystats.backends.stan_cache.StanProgram.hash` and is compiled once per machine
(the engines' compile cache is keyed by that hash).

The Stan data dict the programs read (built by the model classes' ``stan_data``; the
engines add ``include_prior``):

ETAS (:func:`etas_stan_program`)
    ``N``, ``t``, ``m``, ``first``, ``t_start``, ``t_end``, ``m_ref``, ``m_pivot`` (events
    up to ``t_end``, sorted: history before ``t_start``, then the targets; ``first`` is the
    1-based index of the first event with ``t >= t_start``, ``N + 1`` if none; the sampled
    ``K`` is the productivity at ``m_pivot``, ``m_ref`` by default:
    :func:`etas_event_data`); the history entries ``use_soe``, ``n_soe``, ``soe_log_s``,
    ``soe_h``, ``soe_rtol`` (:func:`etas_history_stan_data`, or :func:`soe_stan_data` /
    :func:`exact_stan_data`); each fixed parameter under its name; ``<name>_prior_loc``,
    ``<name>_prior_scale`` for each free one (:func:`prior_stan_data`).
Omori–Utsu (:func:`omori_stan_program`)
    ``N``, ``t``, ``t_start``, ``t_end`` (times since the main shock; events outside the
    window are ignored: :func:`omori_event_data`), fixed parameters and prior entries as
    above.

History sums of ``etas.stan``
    The distinct event times are cut into blocks of 16; pairs within a block are summed
    exactly and earlier blocks are carried by the sum-of-exponentials (SOE) kernel of
    :mod:`pystats.etas.kernels`, whose decay factors are data: ``O(N (n_soe + 16))`` work
    per evaluation (``use_soe = 1``).  ``use_soe = 0`` puts every event in one block: the
    exact ``O(N^2)`` sum.  Measured cost of a log density and its gradient (one NUTS leapfrog
    step, ``tests/benchmarks/bench_etas_nuts.py``): equal near 50 events, SOE 3.7x faster at
    200, 17x at 800 and 30x at 1600 events (about 1.2 microseconds per event), hence
    :data:`ETAS_STAN_EXACT_MAX_EVENTS`.  On a lattice from :func:`soe_grid_covering` with
    :data:`SOE_SAMPLING_RTOL` the log-likelihood of the SAPP Miyagi sequence (536 target
    events) differs from the exact one by at most 4e-9 over posterior draws.

Productivity pivot of ``etas.stan``
    The parameter ``K`` of the program is the productivity at the magnitude ``m_pivot``;
    the generated quantity ``K_ref = K exp(alpha (m_ref - m_pivot))`` is the model's ``K``
    (at ``m_ref``), and the prior stays the log-normal of ``K_ref`` (with the Jacobian of
    the change of variables, ``alpha (m_ref - m_pivot)``).  ``m_pivot = m_ref`` is the plain
    parameterisation.  The posterior is the same for every pivot; only the sampler's
    coordinates change: with ``m_pivot`` from :func:`decorrelating_pivot`, ``log K`` and
    ``alpha`` are uncorrelated to first order, which the diagonal metric of NUTS needs
    (SAPP's Miyagi sequence, ``m_ref`` = the M6.2 main shock: posterior correlation 0.86
    at ``m_ref``, 1.7x fewer leapfrog steps at the pivot; ``models/etas.md``).

References
----------
Ogata, Y. (1988). Statistical models for earthquake occurrences and residual analysis for
point processes. *Journal of the American Statistical Association*, 83(401), 9–27.
https://doi.org/10.1080/01621459.1988.10478560

Utsu, T., Ogata, Y., & Matsu'ura, R. S. (1995). The centenary of the Omori formula for a
decay law of aftershock activity. *Journal of Physics of the Earth*, 43(1), 1–33.
https://doi.org/10.4294/jpe1952.43.1

Stan Development Team (2024). Stan Reference Manual, version 2.35.
https://mc-stan.org/docs/reference-manual/
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np

from .. import _checks
from ..backends.stan_cache import StanProgram, stan_programs_dir
from ..errors import CompilationError, DataError, OptionError
from .kernels import SoeGrid, soe_grid

__all__ = [
    "DEFAULT_P_RANGE",
    "ETAS_STAN_EXACT_MAX_EVENTS",
    "ETAS_STAN_PARAMETERS",
    "OMORI_STAN_PARAMETERS",
    "SOE_SAMPLING_RTOL",
    "decorrelating_pivot",
    "etas_event_data",
    "etas_history_stan_data",
    "etas_stan_program",
    "exact_stan_data",
    "omori_event_data",
    "omori_stan_program",
    "prior_stan_data",
    "soe_grid_covering",
    "soe_stan_data",
]

ETAS_STAN_PARAMETERS = ("mu", "K", "c", "alpha", "p")
"""Parameters of ``etas.stan``, in the order of its ``parameters`` block."""

OMORI_STAN_PARAMETERS = ("mu", "K", "c", "p")
"""Parameters of ``omori.stan`` (``mu`` only with ``background=True``), in block order."""

ETAS_STAN_EXACT_MAX_EVENTS = 50
"""``etas_history_stan_data(method="auto")`` uses the exact sum up to this many events."""

DEFAULT_P_RANGE = (0.5, 2.5)
"""Values of ``p`` the default SOE lattice covers (Utsu et al. 1995: 0.9-1.5 typical)."""

SOE_SAMPLING_RTOL = 1e-8
"""Default kernel tolerance of the SOE lattice for Stan (:func:`soe_grid_covering`).

The relative error of every history sum is below it, so each ``log λ(t_j)`` is off by less
than ``1e-8`` and the log density by less than ``1e-8 × n_targets`` (5e-6 for 536 events):
far below the Monte Carlo error of any posterior summary, with about 20% fewer nodes than
the ``1e-10`` of the torch engine's default (60 instead of 74 at the Miyagi posterior)."""

_TAG = re.compile(r"//\s*@(param|prior)\s+(\w+)\s*$")
_FIXED_MARK = "// @fixed-parameters"
_ABSENT_MARK = "// @absent-parameters"


def _normalise_fixed(fixed: Collection[str] | None, allowed: tuple[str, ...],
                     what: str) -> tuple[str, ...]:
    if fixed is None:
        return ()
    if isinstance(fixed, str):
        fixed = (fixed,)
    try:
        names = set(fixed)
    except TypeError as e:
        raise OptionError(
            f"fixed={fixed!r} is not allowed; use a collection of parameter names from "
            f"{', '.join(allowed)}"
        ) from e
    unknown = sorted(str(n) for n in names - set(allowed))
    if unknown:
        raise OptionError(
            f"fixed parameter(s) {', '.join(unknown)} unknown for {what}; its parameters are "
            f"{', '.join(allowed)}"
        )
    return tuple(n for n in allowed if n in names)


def _generate(template: str, fixed: Iterable[str], absent: Iterable[str], header: str) -> str:
    """Apply the tags of a template (see the module docstring)."""
    fixed, absent = set(fixed), set(absent)
    kept: list[str] = []
    moved: list[str] = []
    defined: list[str] = []
    for line in template.splitlines():
        tag = _TAG.search(line)
        if tag is None or tag.group(2) not in fixed | absent:
            kept.append(line)
            continue
        kind, name = tag.groups()
        if kind == "prior":
            continue
        decl = line[: tag.start()].strip()
        match = re.fullmatch(r"real(?:<[^>]*>)?\s+(\w+)\s*;", decl)
        if match is None or match.group(1) != name:
            raise CompilationError(
                f"Stan template: the line tagged @param {name} must declare 'real<...> {name};'"
                f", found {decl!r}"
            )
        if name in fixed:
            moved.append(f"  {decl}  // fixed: passed as data")
        else:
            defined.append(f"  real {name} = 0;  // not part of this model")
    out: list[str] = [header]
    for line in kept:
        out.append(line)
        if line.strip() == _FIXED_MARK:
            out.extend(moved)
            moved = []
        elif line.strip() == _ABSENT_MARK:
            out.extend(defined)
            defined = []
    if moved or defined:
        raise CompilationError(
            "Stan template lacks the // @fixed-parameters or // @absent-parameters line"
        )
    return "\n".join(out) + "\n"


def _program(template_name: str, name: str, fixed: tuple[str, ...], absent: tuple[str, ...],
             description: str) -> StanProgram:
    template = stan_programs_dir().joinpath(template_name).read_text(encoding="utf-8")
    header = (
        f"// Generated by pystats.etas.stan from {template_name}: {description}."
    )
    code = _generate(template, fixed, absent, header)
    return StanProgram(
        name=name,
        code=code,
        source_hash=hashlib.sha256(code.encode()).hexdigest(),
        hash="",
        origin=f"pystats.stan:{template_name} ({description})",
    ).for_engine("", "")


def _describe(fixed: tuple[str, ...], absent: tuple[str, ...] = ()) -> str:
    parts = [f"fixed {', '.join(fixed)}" if fixed else "nothing fixed"]
    if absent:
        parts.append(f"no {', '.join(absent)}")
    return "; ".join(parts)


@functools.lru_cache(maxsize=64)
def _etas_cached(fixed: tuple[str, ...]) -> StanProgram:
    stem = "etas" + ("_fixed_" + "_".join(fixed) if fixed else "")
    return _program("etas.stan", f"{stem}.stan", fixed, (), _describe(fixed))


def etas_stan_program(fixed: Collection[str] | None = ()) -> StanProgram:
    """The temporal ETAS Stan program with the parameters in ``fixed`` passed as data.

    Parameters
    ----------
    fixed : collection of str, optional
        Names among ``mu``, ``K``, ``c``, ``alpha``, ``p`` whose values the model fixes (e.g.
        ``{"mu"}`` for an aftershock sequence, SAPP's convention).  Order and container do
        not matter.

    Returns
    -------
    StanProgram
        Free parameters declared in the order ``mu, K, c, alpha, p`` (fixed ones skipped),
        all ``<lower=0>``; fixed ones are ``real<lower=0>`` data of the same name.  The same
        set of names always gives the same text and hash.  Pass it to the engines as the
        model's :meth:`~pystats.model.Model.stan_program`.

    Raises
    ------
    OptionError
        If ``fixed`` names an unknown parameter.

    Notes
    -----
    See the module docstring for the data dict; :func:`soe_stan_data` /
    :func:`exact_stan_data` give the entries that select the history algorithm, and
    :func:`prior_stan_data` the prior entries.
    """
    return _etas_cached(_normalise_fixed(fixed, ETAS_STAN_PARAMETERS, "the ETAS model"))


@functools.lru_cache(maxsize=64)
def _omori_cached(fixed: tuple[str, ...], background: bool) -> StanProgram:
    absent = () if background else ("mu",)
    stem = "omori" + ("" if background else "_no_background")
    stem += "_fixed_" + "_".join(fixed) if fixed else ""
    return _program("omori.stan", f"{stem}.stan", fixed, absent, _describe(fixed, absent))


def omori_stan_program(fixed: Collection[str] | None = (), background: bool = False
                       ) -> StanProgram:
    """The Omori–Utsu Stan program ``λ(t) = mu + K (t + c)^(-p)`` on ``[t_start, t_end]``.

    Parameters
    ----------
    fixed : collection of str, optional
        Names among ``K``, ``c``, ``p`` (and ``mu`` when ``background=True``) passed as data.
    background : bool
        Include the background rate ``mu`` (declared first: ``mu, K, c, p``); without it the
        program has ``mu = 0`` built in and reads no ``mu`` entries.

    Returns
    -------
    StanProgram
        Deterministic in ``(set(fixed), background)``.

    Raises
    ------
    OptionError
        Unknown names, or ``mu`` fixed without ``background=True``.
    """
    if not isinstance(background, bool | np.bool_):
        raise OptionError(f"background={background!r} is not allowed; use True or False")
    allowed = OMORI_STAN_PARAMETERS if background else OMORI_STAN_PARAMETERS[1:]
    names = _normalise_fixed(
        fixed, allowed, "the Omori-Utsu model" + ("" if background else " without background")
    )
    return _omori_cached(names, bool(background))


# ---------------------------------------------------------------------------- data helpers
def exact_stan_data() -> dict[str, Any]:
    """Data entries selecting the exact ``O(N^2)`` history sum of ``etas.stan``.

    Returns
    -------
    dict
        ``{"use_soe": 0, "n_soe": 0, "soe_log_s": empty array, "soe_h": 1.0,
        "soe_rtol": 0.0}``.
    """
    return {"use_soe": 0, "n_soe": 0, "soe_log_s": np.zeros(0), "soe_h": 1.0, "soe_rtol": 0.0}


def soe_stan_data(grid: SoeGrid, rtol: float) -> dict[str, Any]:
    """Data entries selecting the sum-of-exponentials history of ``etas.stan`` on ``grid``.

    The program computes the rates ``exp(soe_log_s)``, the weights
    ``h exp(p x_k - s_k c) / Γ(p)`` and the slow-node weight
    ``h exp(p x_lo) / (Γ(p) expm1(p h))`` as :func:`pystats.etas.kernels.soe_weights` does.
    At each evaluation it uses the nodes of ``grid`` that :func:`~pystats.etas.kernels.soe_grid`
    would choose for the current ``(c, p)`` at tolerance ``rtol`` (a wide covering lattice
    costs little: unneeded nodes are skipped).  Pairs of events within a block of 16
    distinct times are summed exactly, earlier blocks with the SOE kernel, so the Stan
    log-likelihood equals :func:`pystats.etas.likelihood.etas_loglik_fast` on the same grid
    to within ``rtol`` relative per history sum (observed ~1e-14 with ``rtol = 1e-10``).

    Parameters
    ----------
    grid : SoeGrid
        From :func:`pystats.etas.kernels.soe_grid` or :func:`soe_grid_covering`; it must
        cover the delays up to ``t_end - t[0]``.
    rtol : float
        The tolerance the grid was built for (``0 <= rtol < 1``); ``0`` uses every node.

    Returns
    -------
    dict
        ``use_soe`` (1), ``n_soe``, ``soe_log_s`` (the lattice nodes ``k h``), ``soe_h``,
        ``soe_rtol``.

    Raises
    ------
    OptionError
        If ``grid`` is not a :class:`~pystats.etas.kernels.SoeGrid` or ``rtol`` is out of range.
    """
    if not isinstance(grid, SoeGrid):
        raise OptionError(f"grid must be a SoeGrid (pystats.etas.kernels.soe_grid); got "
                          f"{type(grid).__name__}")
    try:
        rtol = float(rtol)
    except (TypeError, ValueError) as e:
        raise OptionError(f"rtol={rtol!r} is not allowed; use a number in [0, 1)") from e
    if not 0 <= rtol < 1:
        raise OptionError(f"rtol={rtol!r} is not allowed; use a number in [0, 1)")
    nodes = np.asarray(grid.nodes, dtype=float)
    return {"use_soe": 1, "n_soe": int(nodes.size), "soe_log_s": nodes,
            "soe_h": float(grid.step), "soe_rtol": rtol}


def soe_grid_covering(
    c_range: tuple[float, float],
    p_range: tuple[float, float],
    t_span: float,
    *,
    rtol: float = SOE_SAMPLING_RTOL,
) -> SoeGrid:
    """One SOE lattice accurate to ``rtol`` for every ``(c, p)`` in a box (for sampling).

    A sampler moves ``c`` and ``p`` while the lattice (Stan data) stays fixed, so the
    lattice must be valid over the region it visits: the step is the one
    :func:`~pystats.etas.kernels.soe_grid` picks for the largest ``p`` (the aliasing error
    grows with ``p``), and the index range is the union of the ranges needed at the corners
    of the box (the fast end grows as ``c`` shrinks; the slow end moves with ``p``).  Outside
    the box the approximation degrades gracefully (error above ``rtol``), it does not fail.

    Parameters
    ----------
    c_range : (float, float)
        Smallest and largest ``c`` to cover (``0 < c_min <= c_max``).
    p_range : (float, float)
        Smallest and largest ``p`` (``0 < p_min <= p_max``).
    t_span : float
        Longest delay, ``t_end - t[0]``.
    rtol : float
        Target maximum relative error of the kernel (default :data:`SOE_SAMPLING_RTOL`).

    Returns
    -------
    SoeGrid

    Raises
    ------
    OptionError
        Bad ranges, span or tolerance.
    """
    for name, rng in (("c_range", c_range), ("p_range", p_range)):
        try:
            lo, hi = (float(v) for v in rng)
        except (TypeError, ValueError) as e:
            raise OptionError(f"{name}={rng!r} is not allowed; use (low, high)") from e
        if not (0 < lo <= hi < math.inf):
            raise OptionError(f"{name}={rng!r} is not allowed; use 0 < low <= high < inf")
    (c_lo, c_hi), (p_lo, p_hi) = (tuple(map(float, c_range)), tuple(map(float, p_range)))
    step = soe_grid(c_lo, p_hi, t_span, rtol=rtol).step
    grids = [soe_grid(c, p, t_span, rtol=rtol, step=step)
             for c in (c_lo, c_hi) for p in (p_lo, p_hi)]
    k_lo = min(g.k_lo for g in grids)
    k_hi = max(g.k_hi for g in grids)
    rates = np.exp(np.arange(k_lo, k_hi + 1) * step)
    rates.flags.writeable = False
    return SoeGrid(step=step, k_lo=k_lo, k_hi=k_hi, rates=rates)


def prior_stan_data(priors: dict[str, tuple[float, float]]) -> dict[str, float]:
    """``{name: (loc, scale)}`` -> the ``<name>_prior_loc`` / ``<name>_prior_scale`` entries.

    Parameters
    ----------
    priors : dict
        Log-normal hyperparameters (location and scale of ``log x``) per free parameter.

    Returns
    -------
    dict

    Raises
    ------
    OptionError
        A non-finite location or a scale that is not positive.
    """
    out: dict[str, float] = {}
    for name, value in priors.items():
        try:
            loc, scale = (float(v) for v in value)
        except (TypeError, ValueError) as e:
            raise OptionError(f"prior of {name!r} must be (loc, scale); got {value!r}") from e
        if not math.isfinite(loc) or not (0 < scale < math.inf):
            raise OptionError(
                f"prior of {name!r} is lognormal(loc={loc!r}, scale={scale!r}); use a finite "
                f"loc and 0 < scale < inf"
            )
        out[f"{name}_prior_loc"] = loc
        out[f"{name}_prior_scale"] = scale
    return out


# ---------------------------------------------------------------------------- events
def _times(name: str, x: Any) -> np.ndarray:
    try:
        arr = np.array(x, dtype=float)
    except (TypeError, ValueError) as e:
        raise DataError(f"{name} must be a 1-D array of numbers; got {type(x).__name__}") from e
    if arr.ndim != 1:
        raise DataError(f"{name} must be 1-D; got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataError(
            f"{name} contains non-finite values (NaN or inf) at index {bad[:5].tolist()}; drop "
            "or fill missing values first"
        )
    return arr


def _window(t_start: Any, t_end: Any) -> tuple[float, float]:
    try:
        ts, te = float(t_start), float(t_end)
    except (TypeError, ValueError) as e:
        raise OptionError(
            f"t_start={t_start!r}, t_end={t_end!r} are not allowed; use finite numbers"
        ) from e
    if not (math.isfinite(ts) and math.isfinite(te) and ts < te):
        raise OptionError(f"t_start={ts!r} must be below t_end={te!r} (both finite)")
    return ts, te


def etas_event_data(
    times: Any, mags: Any, t_start: float, t_end: float, m_ref: float,
    m_pivot: float | None = None,
) -> dict[str, Any]:
    """The event entries of the ``etas.stan`` data: ``N, t, m, first, t_start, t_end, m_ref,
    m_pivot``.

    Events after ``t_end`` are dropped (they cannot excite the window); events before
    ``t_start`` stay as history.  The inputs are copied, never modified.

    Parameters
    ----------
    times, mags : array-like
        Sorted event times and their magnitudes (no missing values).
    t_start, t_end : float
        Fitting window.
    m_ref : float
        Reference magnitude of ``K``.
    m_pivot : float, optional
        Magnitude at which the program samples the productivity (see the module
        docstring); default ``m_ref`` (the plain parameterisation).

    Returns
    -------
    dict
        ``first`` is the 1-based index of the first event with ``t >= t_start`` (``N + 1``
        when there is none).

    Raises
    ------
    DataError
        Unsorted, non-finite or mismatched arrays, or no event up to ``t_end``.
    OptionError
        A bad window or reference magnitude.
    """
    t = _sorted_times(times)
    m = _times("mags", mags)
    if m.shape != t.shape:
        raise DataError(f"mags has {m.size} values but times has {t.size}; they must match")
    ts, te = _window(t_start, t_end)
    m_ref = _checks.number("m_ref", m_ref, "a finite number")
    m_pivot = m_ref if m_pivot is None else _checks.number("m_pivot", m_pivot, "a finite number")
    keep = t <= te
    t, m = t[keep], m[keep]
    if t.size == 0:
        raise DataError(f"no event at or before t_end={te!r}; the ETAS likelihood needs one")
    first = int(np.searchsorted(t, ts, side="left")) + 1
    return {"N": int(t.size), "t": t, "m": m, "first": first, "t_start": ts, "t_end": te,
            "m_ref": m_ref, "m_pivot": m_pivot}


def decorrelating_pivot(
    m_ref: float,
    log_k: Any,
    alpha: Any,
    *,
    m_range: tuple[float, float],
    weights: Any = None,
) -> float:
    """The magnitude at which the productivity is uncorrelated with ``alpha``.

    With ``K_ref`` at ``m_ref`` and the productivity ``K_ref e^{alpha (M - m_ref)}``, the
    productivity at ``m_pivot = m_ref - Δ`` is ``log K_piv = log K_ref - Δ alpha``, whose
    (weighted) covariance with ``alpha`` over the given points vanishes for

    .. math:: Δ = \\operatorname{cov}(\\log K_{ref}, α) / \\operatorname{var}(α),

    the least-squares slope of ``log K_ref`` on ``alpha``.  The points may be posterior
    draws (a previous fit), or points along the posterior ridge with weights, as
    ``pystats.ETAS(k_pivot="auto")`` uses (:meth:`pystats.etas.model.ETAS.sampler_coordinates`).

    Parameters
    ----------
    m_ref : float
        Reference magnitude of ``K``.
    log_k, alpha : array_like
        ``log K_ref`` and ``alpha`` at the points (same shape).
    m_range : (float, float)
        Range the pivot is clipped to (e.g. the data's magnitudes): far outside it the
        linear relation is not to be trusted.
    weights : array_like, optional
        Non-negative weight per point (default: equal).

    Returns
    -------
    float
        ``m_ref - Δ`` clipped to ``m_range``; ``m_ref`` (clipped) when the points give no
        finite ``Δ`` (e.g. a single value of ``alpha``).

    Examples
    --------
    >>> import numpy as np
    >>> alpha = np.array([2.5, 2.8, 3.1])
    >>> log_k = np.log(70.0) + 0.4 * (alpha - 2.8)  # the data pin down K(5.8) exactly
    >>> round(decorrelating_pivot(6.2, log_k, alpha, m_range=(2.5, 6.2)), 6)
    5.8
    """
    lk = np.asarray(log_k, dtype=float).ravel()
    a = np.asarray(alpha, dtype=float).ravel()
    w = np.ones_like(a) if weights is None else np.asarray(weights, dtype=float).ravel()
    lo, hi = (float(v) for v in m_range)
    ok = np.isfinite(lk) & np.isfinite(a) & np.isfinite(w) & (w > 0)
    lk, a, w = lk[ok], a[ok], w[ok]
    delta = math.nan
    if a.size >= 2:
        w = w / w.sum()
        da = a - w @ a
        var = float(w @ (da * da))
        if var > 0:
            delta = float(w @ (da * (lk - w @ lk))) / var
    pivot = m_ref - delta if math.isfinite(delta) else m_ref
    return float(min(max(pivot, lo), hi))


def _sorted_times(times: Any) -> np.ndarray:
    t = _times("times", times)
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise DataError(
            f"times must be sorted (non-decreasing); times[{i}]={t[i]!r} < "
            f"times[{i - 1}]={t[i - 1]!r}"
        )
    return t


def omori_event_data(times: Any, t_start: float, t_end: float) -> dict[str, Any]:
    """The event entries of the ``omori.stan`` data: ``N, t, t_start, t_end``.

    Only the events in ``[t_start, t_end]`` are kept (the others do not enter the
    Omori–Utsu likelihood).

    Parameters
    ----------
    times : array-like
        Sorted times since the main shock.
    t_start, t_end : float
        Window, ``0 <= t_start < t_end``.

    Returns
    -------
    dict

    Raises
    ------
    DataError
        Unsorted or non-finite times.
    OptionError
        A bad window.
    """
    t = _sorted_times(times)
    ts, te = _window(t_start, t_end)
    if ts < 0:
        raise OptionError(
            f"t_start={ts!r} is not allowed; Omori-Utsu times count from the main shock, use "
            "t_start >= 0"
        )
    t = t[(t >= ts) & (t <= te)]
    return {"N": int(t.size), "t": t, "t_start": ts, "t_end": te}


def etas_history_stan_data(
    n_events: int,
    t_span: float,
    *,
    method: str = "auto",
    c_range: tuple[float, float] | None = None,
    p_range: tuple[float, float] = DEFAULT_P_RANGE,
    rtol: float = SOE_SAMPLING_RTOL,
) -> dict[str, Any]:
    """The entries of the ``etas.stan`` data that choose how history sums are computed.

    Parameters
    ----------
    n_events : int
        Events passed to Stan (``N``: history and targets, up to ``t_end``).
    t_span : float
        ``t_end - t[0]``, the longest delay.
    method : {"auto", "exact", "soe"}
        ``exact``: all pairs, ``O(N^2)``; ``soe``: sum of exponentials on a lattice from
        :func:`soe_grid_covering`, ``O(N n_soe)``; ``auto``: exact up to
        :data:`ETAS_STAN_EXACT_MAX_EVENTS` events, else SOE.
    c_range : (float, float), optional
        Values of ``c`` the lattice covers; default ``(1e-6 * t_span, t_span)``.
    p_range : (float, float)
        Values of ``p`` it covers (default :data:`DEFAULT_P_RANGE`).
    rtol : float
        Kernel tolerance of the lattice (default :data:`SOE_SAMPLING_RTOL`).

    Returns
    -------
    dict
        ``use_soe``, ``n_soe``, ``soe_log_s``, ``soe_h``, ``soe_rtol``.

    Raises
    ------
    OptionError
        Bad method, span, ranges or tolerance.
    """
    if method not in ("auto", "exact", "soe"):
        raise OptionError(f"method={method!r} is not allowed; use 'auto', 'exact' or 'soe'")
    if method == "auto":
        method = "exact" if int(n_events) <= ETAS_STAN_EXACT_MAX_EVENTS else "soe"
    if method == "exact":
        return exact_stan_data()
    span = float(t_span)
    if not (span > 0 and math.isfinite(span)):
        raise OptionError(f"t_span={t_span!r} is not allowed; use a finite span > 0")
    if c_range is None:
        c_range = (1e-6 * span, span)
    return soe_stan_data(soe_grid_covering(c_range, p_range, span, rtol=rtol), rtol)
