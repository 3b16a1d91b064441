"""Independent numpy/scipy reference of the aftershock-detection log density (test helper).

Written from the contract in ``notes/aftershock_spec.md`` (not from the torch code) to check
``stan/aftershock_detection.stan``:

* :func:`stan_data` builds the program's data dict from times and magnitudes;
* :func:`log_likelihood`, :func:`log_prior`, :func:`log_density` evaluate the density on the
  constrained scale, :func:`constrain` / :func:`unconstrain` apply Stan's transforms
  (``lower``: ``x = lower + exp(u)``; ``(a, b)``: ``x = a + (b - a) logistic(u)``) and
  :func:`log_density_unconstrained` adds their log-Jacobian;
* the program samples ``log_rate = log K + beta (M0 - mu_0_loc)``, ``mu_bar`` (mean of mu
  over the events) and ``mu_slope_bar`` (least-squares slope of mu over the events) instead
  of ``K``, ``mu_0`` and ``mu_slope`` (:func:`to_natural`, :func:`to_sampled`); the priors
  stay on the model's parameters, and the density of the sampled coordinates adds ``log K``
  (:func:`log_prior_sampled`);
* :func:`simulate_detected` thins a complete Omori-Utsu x Gutenberg-Richter sequence with a
  known ``mu(t)``.

The model: detected intensity ``nu(t, M) = K (t + c)^-p beta exp(-beta (M - M0))
Phi((M - mu(t)) / sigma)``, ``mu(t) = mu_0 + mu_slope (s - s1) + f(s)``, ``s = log t``, with
``f`` a subset-of-regressors GP (``f(s) = k(s, Z) L^-T z``) or Omi's second-order random walk
(piecewise linear between nodes).  The time integral is Gauss-Legendre in ``s`` (8 nodes
per panel; the weights include ``e^s``).

References
----------
Omi, T., Ogata, Y., Hirata, Y. and Aihara, K. (2013). Forecasting large aftershocks within
one day after the main shock. Scientific Reports 3, 2218. doi:10.1038/srep02218
Morikawa, K., Nagao, H., Ito, S., Terada, Y., Sakai, S. and Hirata, N. (2021). Forecasting
temporal variation of aftershocks immediately after a main shock using Gaussian process
regression. Geophysical Journal International 226(2), 1018-1035. doi:10.1093/gji/ggab124
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import integrate, optimize, special, stats

__all__ = [
    "GL_ORDER",
    "KERNELS",
    "constrain",
    "inverse_gamma_quantile_match",
    "latent_f",
    "log_density",
    "log_density_unconstrained",
    "log_likelihood",
    "log_likelihood_etas",
    "log_phi",
    "log_prior",
    "log_prior_sampled",
    "mu_of_t",
    "parameter_layout",
    "quadrature",
    "simulate_detected",
    "stan_data",
    "to_natural",
    "to_sampled",
    "unconstrain",
]

GL_ORDER = 8
KERNELS = {"matern52": 1, "matern32": 2, "rbf": 3}
LN10 = math.log(10.0)
TAIL_Z = -20.0
SERIES = (-1.0, 3.0, -15.0, 105.0, -945.0, 10395.0, -135135.0)


# ---------------------------------------------------------------------------- log Phi
def log_phi(z: Any) -> np.ndarray:
    """log Phi(z): scipy's ``log_ndtr`` for z >= -20, the asymptotic series below.

    ``log Phi(z) ~ -z^2/2 - log(-z) - log(2 pi)/2 + log(1 + sum_k (-1)^k (2k-1)!! / z^{2k})``,
    k = 1..7.
    """
    z = np.asarray(z, dtype=float)
    zt = np.minimum(z, TAIL_Z)
    iz2 = 1.0 / zt**2
    acc = SERIES[-1]
    for coef in SERIES[-2::-1]:
        acc = coef + iz2 * acc
    tail = -0.5 * zt**2 - np.log(-zt) - 0.5 * math.log(2 * math.pi) + np.log1p(iz2 * acc)
    return np.where(z < TAIL_Z, tail, special.log_ndtr(z))


# ---------------------------------------------------------------------------- kernels
def unit_kernel(x1: np.ndarray, x2: np.ndarray, ell: float, kernel: str) -> np.ndarray:
    """Unit-amplitude kernel matrix of 1-d inputs (GPyTorch's Matern nu=2.5/1.5 and RBF)."""
    r = np.abs(np.subtract.outer(np.asarray(x1, float), np.asarray(x2, float))) / ell
    if kernel == "matern52":
        a = math.sqrt(5.0) * r
        return (1.0 + a + a**2 / 3.0) * np.exp(-a)
    if kernel == "matern32":
        a = math.sqrt(3.0) * r
        return (1.0 + a) * np.exp(-a)
    if kernel == "rbf":
        return np.exp(-0.5 * r**2)
    raise ValueError(f"kernel={kernel!r}; use one of {sorted(KERNELS)}")


def _kernel_name(code: int) -> str:
    return {v: k for k, v in KERNELS.items()}[int(code)]


# ---------------------------------------------------------------------------- data
def quadrature(s0: float, s1: float, n_panels: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes in s over [s0, s1] (n_panels equal panels, 8 nodes each) and
    weights multiplied by e^s, so that int_{e^s0}^{e^s1} g(t) dt ~ sum_q w_q g(e^{s_q})."""
    x, w = np.polynomial.legendre.leggauss(GL_ORDER)
    edges = np.linspace(s0, s1, n_panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[:-1] + edges[1:])
    s_q = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    w_q = (half[:, None] * w[None, :]).ravel() * np.exp(s_q)
    return s_q, w_q


def inverse_gamma_quantile_match(lo: float, hi: float, tail: float = 0.01) -> tuple[float, float]:
    """Shape and scale of the inverse gamma with ``tail`` of its mass below ``lo`` and above
    ``hi`` (solved in log space)."""

    def eqs(v: np.ndarray) -> list[float]:
        a, b = np.exp(v)
        return [stats.invgamma.cdf(lo, a, scale=b) - tail, stats.invgamma.sf(hi, a, scale=b) - tail]

    # start: the log-normal with the same quantiles, moment-matched
    z = stats.norm.ppf(1 - tail)
    m, sd = 0.5 * (math.log(lo) + math.log(hi)), (math.log(hi) - math.log(lo)) / (2 * z)
    a0 = 2.0 + 1.0 / (math.exp(sd**2) - 1.0)
    b0 = math.exp(m + sd**2 / 2) * (a0 - 1.0)
    sol = optimize.root(eqs, np.log([a0, b0]), method="hybr", options={"xtol": 1e-13})
    if not sol.success:
        raise RuntimeError(f"inverse-gamma match failed: {sol.message}")
    a, b = np.exp(sol.x)
    return float(a), float(b)


def stan_data(
    times: Any,
    magnitudes: Any,
    M0: float,
    t_start: float = 0.01,
    t_end: float | None = None,
    *,
    prior: str = "gp",
    kernel: str = "matern52",
    n_inducing: int = 24,
    n_nodes: int = 40,
    n_panels: int = 64,
    jitter: float = 1e-6,
    missing_magnitude: float | None = None,
    include_prior: int = 1,
    rate: str = "omori",
) -> dict[str, Any]:
    """The Stan data dict of ``stan/aftershock_detection.stan`` (the spec's dictionary).

    Events with ``t_start <= t <= t_end`` and a non-missing magnitude are data.  For
    ``prior="rw2"`` the number of panels is rounded up to a multiple of ``n_nodes - 1``
    so that every panel lies between two nodes (the integrand is smooth in each panel).
    ``ls_alpha``, ``ls_beta``: inverse gamma with 1 % of its mass below
    ``2 (s1 - s0) / n_latent`` and 1 % above ``2 (s1 - s0)``.
    """
    t = np.asarray(times, dtype=float)
    m = np.asarray(magnitudes, dtype=float)
    keep = np.isfinite(m)
    if missing_magnitude is not None:
        keep &= m != missing_magnitude
    t_end = float(np.max(t[keep])) if t_end is None else float(t_end)
    parents = keep & (t > 0) & (t <= t_end)
    tp, mp = t[parents], m[parents]
    keep &= (t >= t_start) & (t <= t_end)
    order = np.argsort(t[keep], kind="stable")
    t, m = t[keep][order], m[keep][order]
    s0, s1 = math.log(t_start), math.log(t_end)
    if prior == "gp":
        n_latent = int(n_inducing)
        panels = int(n_panels)
    elif prior == "rw2":
        n_latent = int(n_nodes)
        panels = (n_latent - 1) * math.ceil(n_panels / (n_latent - 1))
    else:
        raise ValueError(f"prior={prior!r}; use 'gp' or 'rw2'")
    s_q, w_q = quadrature(s0, s1, panels)
    ls_alpha, ls_beta = inverse_gamma_quantile_match(2 * (s1 - s0) / n_latent, 2 * (s1 - s0))
    return {
        "N": int(t.size), "t": t, "s": np.log(t), "m": m, "M0": float(M0),
        "Q": int(s_q.size), "s_q": s_q, "w_q": w_q, "s1": s1,
        "prior": 1 if prior == "gp" else 2, "kernel": KERNELS[kernel],
        "n_latent": n_latent, "latent_x": np.linspace(s0, s1, n_latent),
        "jitter": float(jitter), "mu_0_loc": float(np.median(m)),
        "ls_alpha": ls_alpha, "ls_beta": ls_beta, "include_prior": int(include_prior),
        **_rate_tables(rate, tp, mp, t_start, t_end, s_q, panels),
    }


def _rate_tables(rate: str, tp: np.ndarray, mp: np.ndarray, t_start: float, t_end: float,
                 s_q: np.ndarray, panels: int) -> dict[str, Any]:
    """The ETAS-rate data: the near/far quadrature tables are data (like s_q, w_q), built
    by pystats.aftershock.rate.secondary_geometry; ``tp`` (parent times) is for the
    reference only (not Stan data).  The reference's likelihood uses quad, not the tables."""
    if rate == "omori":
        return {"rate": 1, "n_parents": 0, "mp": [], "n_pairs": 0, "ev_i": [], "ev_j": [],
                "ev_x": [], "n_far": 0, "gq_q": [], "gq_j": [], "gq_x": [], "n_near": 0,
                "near_j": [], "near_s": [], "near_x": [], "near_w": []}
    from pystats.aftershock.rate import etas_stan_data, secondary_geometry

    order = np.argsort(tp, kind="stable")
    tp, mp = tp[order], mp[order]
    geo = secondary_geometry(tp, mp, int(np.sum(tp < t_start)), t_start, t_end, s_q, panels)
    return {**etas_stan_data(geo, "etas"), "tp": tp}


# ---------------------------------------------------------------------------- parameters
def parameter_layout(data: Mapping[str, Any]) -> list[tuple[str, int, float, float]]:
    """(name, size, lower, upper) in Stan's unconstrained order for this data's prior.

    The program samples ``log_rate = log K + beta (M0 - mu_0_loc)``, ``mu_bar`` (the mean
    of mu over the events) and ``mu_slope_bar`` (the least-squares slope of mu on s over the
    events) in place of ``K``, ``mu_0`` and ``mu_slope`` (:func:`to_natural`).
    """
    head = [("log_rate", 1, -math.inf, math.inf), ("c", 1, 0.0, math.inf),
            ("p", 1, 0.2, 3.0), ("beta", 1, 0.0, math.inf), ("sigma", 1, 0.01, math.inf),
            ("mu_bar", 1, -math.inf, math.inf), ("mu_slope_bar", 1, -math.inf, math.inf)]
    n = int(data["n_latent"])
    if int(data["prior"]) == 1:
        mid = [("gp_amplitude", 1, 0.0, math.inf), ("gp_lengthscale", 1, 0.0, math.inf)]
        n_z = n
    else:
        mid = [("rw_scale", 1, 0.0, math.inf)]
        n_z = n - 2
    tail = ([("K_s", 1, 0.0, math.inf), ("alpha", 1, 0.0, math.inf)]
            if int(data.get("rate", 1)) == 2 else [])
    return [*head, *mid, ("z", n_z, -math.inf, math.inf), *tail]


def _slope_weights(data: Mapping[str, Any]) -> np.ndarray:
    """w_i = (s_i - mean s) / sum_j (s_j - mean s)^2: sum_i w_i g_i is the least-squares
    slope of g on s over the events."""
    s = np.log(np.asarray(data["t"], dtype=float))
    d = s - s.mean()
    return d / np.sum(d**2)


def to_natural(sampled: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The model's parameters (``K``, ``mu_0``, ``mu_slope``) from the sampled ones
    (``log_rate``, ``mu_bar``, ``mu_slope_bar``): ``K = exp(log_rate - beta (M0 -
    mu_0_loc))``, ``mu_slope = mu_slope_bar - sum_i w_i f(s_i)``,
    ``mu_0 = mu_bar - mean_i f(s_i) - mu_slope mean_i (s_i - s1)``."""
    out = {k: v for k, v in sampled.items() if k not in ("log_rate", "mu_bar", "mu_slope_bar")}
    out["K"] = math.exp(sampled["log_rate"] - sampled["beta"] * (data["M0"] - data["mu_0_loc"]))
    s = np.log(np.asarray(data["t"], dtype=float))
    f = latent_f(s, out, data)
    out["mu_slope"] = sampled["mu_slope_bar"] - float(np.dot(_slope_weights(data), f))
    out["mu_0"] = (sampled["mu_bar"] - float(np.mean(f))
                   - out["mu_slope"] * float(np.mean(s - data["s1"])))
    return out


def to_sampled(params: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`to_natural`."""
    out = {k: v for k, v in params.items() if k not in ("K", "mu_0", "mu_slope")}
    out["log_rate"] = math.log(params["K"]) + params["beta"] * (data["M0"] - data["mu_0_loc"])
    s = np.log(np.asarray(data["t"], dtype=float))
    mu = mu_of_s(s, params, data)
    out["mu_bar"] = float(np.mean(mu))
    out["mu_slope_bar"] = float(np.dot(_slope_weights(data), mu))
    return out


def constrain(u: Any, data: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
    """The model's parameters (``K``, ``mu_0``, ...; :func:`to_natural`) and the log-Jacobian
    of Stan's constraint transforms at ``u`` (without the ``log K`` of the
    ``log_rate -> K`` map, which the program adds with the prior: :func:`log_prior_sampled`)."""
    u = np.asarray(u, dtype=float)
    out: dict[str, Any] = {}
    logj, k = 0.0, 0
    for name, size, lo, hi in parameter_layout(data):
        v = u[k : k + size]
        k += size
        if math.isinf(lo) and math.isinf(hi):
            x = v
        elif math.isinf(hi):
            x = lo + np.exp(v)
            logj += float(np.sum(v))
        else:
            x = lo + (hi - lo) * special.expit(v)
            logj += float(np.sum(math.log(hi - lo) + special.log_expit(v) + special.log_expit(-v)))
        out[name] = x.copy() if name == "z" else float(x[0])
    if k != u.size:
        raise ValueError(f"u has {u.size} elements; the layout needs {k}")
    return to_natural(out, data), logj


def unconstrain(params: Mapping[str, Any], data: Mapping[str, Any]) -> np.ndarray:
    """Inverse of :func:`constrain` (``params``: the model's parameters, K and mu_0)."""
    params = to_sampled(params, data)
    pieces = []
    for name, _, lo, hi in parameter_layout(data):
        x = np.atleast_1d(np.asarray(params[name], dtype=float))
        if math.isinf(lo) and math.isinf(hi):
            pieces.append(x)
        elif math.isinf(hi):
            pieces.append(np.log(x - lo))
        else:
            pieces.append(special.logit((x - lo) / (hi - lo)))
    return np.concatenate(pieces)


# ---------------------------------------------------------------------------- mu(t)
def latent_f(x: Any, params: Mapping[str, Any], data: Mapping[str, Any]) -> np.ndarray:
    """f at the log-times ``x`` (GP: k(x, Z) L^-T z; rw2: linear between node values)."""
    x = np.asarray(x, dtype=float)
    zx = np.asarray(data["latent_x"], dtype=float)
    z = np.asarray(params["z"], dtype=float)
    if int(data["prior"]) == 1:
        name = _kernel_name(data["kernel"])
        alpha, ell = params["gp_amplitude"], params["gp_lengthscale"]
        kzz = alpha**2 * (unit_kernel(zx, zx, ell, name) + data["jitter"] * np.eye(zx.size))
        chol = np.linalg.cholesky(kzz)
        w = np.linalg.solve(chol.T, z)  # L^-T z
        return alpha**2 * unit_kernel(x, zx, ell, name) @ w
    # rw2: f_1 = f_2 = 0, f_j = 2 f_{j-1} - f_{j-2} + tau z_{j-2}
    f = np.zeros(zx.size)
    for j in range(2, zx.size):
        f[j] = 2 * f[j - 1] - f[j - 2] + params["rw_scale"] * z[j - 2]
    return np.interp(x, zx, f)


def mu_of_s(x: Any, params: Mapping[str, Any], data: Mapping[str, Any]) -> np.ndarray:
    """mu at log-times ``x``."""
    x = np.asarray(x, dtype=float)
    return params["mu_0"] + params["mu_slope"] * (x - data["s1"]) + latent_f(x, params, data)


def mu_of_t(t: Any, params: Mapping[str, Any], data: Mapping[str, Any]) -> np.ndarray:
    """mu at times ``t`` (days)."""
    return mu_of_s(np.log(np.asarray(t, dtype=float)), params, data)


# ---------------------------------------------------------------------------- densities
def log_likelihood(params: Mapping[str, Any], data: Mapping[str, Any]) -> float:
    """log L of the spec (events term minus the quadrature of the detected rate)."""
    K, c, p, beta, sigma = (params[k] for k in ("K", "c", "p", "beta", "sigma"))
    t, m, M0 = np.asarray(data["t"], float), np.asarray(data["m"], float), data["M0"]
    mu_ev = mu_of_s(np.log(t), params, data)
    events = np.sum(math.log(K) - p * np.log(t + c) + math.log(beta) - beta * (m - M0)
                    + log_phi((m - mu_ev) / sigma))
    s_q, w_q = np.asarray(data["s_q"], float), np.asarray(data["w_q"], float)
    mu_q = mu_of_s(s_q, params, data)
    rate = K * np.exp(-p * np.log(np.exp(s_q) + c) - beta * (mu_q - M0) + 0.5 * (beta * sigma) ** 2)
    return float(events - np.dot(w_q, rate))


def _mu_closure(params: Mapping[str, Any], data: Mapping[str, Any]) -> Callable[[float], float]:
    """mu(s) at one s, with the GP weights L^-T z solved once (same maths as latent_f)."""
    zx = np.asarray(data["latent_x"], dtype=float)
    line = lambda s: params["mu_0"] + params["mu_slope"] * (s - data["s1"])  # noqa: E731
    if int(data["prior"]) != 1:
        return lambda s: float(line(s) + latent_f(np.array([s]), params, data)[0])
    name = _kernel_name(data["kernel"])
    alpha, ell = params["gp_amplitude"], params["gp_lengthscale"]
    chol = np.linalg.cholesky(alpha**2 * (unit_kernel(zx, zx, ell, name)
                                          + data["jitter"] * np.eye(zx.size)))
    w = alpha**2 * np.linalg.solve(chol.T, np.asarray(params["z"], dtype=float))
    return lambda s: float(line(s) + unit_kernel(np.array([s]), zx, ell, name)[0] @ w)


def _secondary_integral(tj: float, a: float, b: float, c: float, p: float,
                        params: Mapping[str, Any], data: Mapping[str, Any]) -> float:
    """int_a^b (t - tj + c)^-p E(t) dt by scipy's adaptive quad, split at tj + c 10^k
    (k = -4..8) and at the latent inputs (where mu is not smooth)."""
    beta, sigma, M0 = params["beta"], params["sigma"], data["M0"]
    mu_at = _mu_closure(params, data)

    def f(t: float) -> float:
        mu = mu_at(math.log(t))
        return (t - tj + c) ** (-p) * math.exp(-beta * (mu - M0) + 0.5 * (beta * sigma) ** 2)

    cuts = {tj + c * 10.0**k for k in range(-4, 9)} | set(np.exp(data["latent_x"]).tolist())
    pts = [a, *sorted(x for x in cuts if a < x < b), b]
    return sum(integrate.quad(f, x0, x1, epsabs=0.0, epsrel=1e-12, limit=200)[0]
               for x0, x1 in itertools.pairwise(pts))


def log_likelihood_etas(params: Mapping[str, Any], data: Mapping[str, Any],
                        t_parents: Any, m_parents: Any) -> float:
    """log L of the ETAS rate (model card section 1b), written from the formula:
    lambda(t) = K (t + c)^-p + sum_{t_j < t} K_s e^{alpha (M_j - M0)} (t - t_j + c)^-p over
    the parents (detected events after the main shock up to t_end, history included); the
    main-shock integral by the data quadrature, each parent's by scipy's quad."""
    K, c, p, beta, sigma = (params[k] for k in ("K", "c", "p", "beta", "sigma"))
    K_s, alpha = params["K_s"], params["alpha"]
    tp, mp = np.asarray(t_parents, float), np.asarray(m_parents, float)
    t, m, M0 = np.asarray(data["t"], float), np.asarray(data["m"], float), data["M0"]
    t_start, t_end = math.exp(data["latent_x"][0]), math.exp(data["latent_x"][-1])
    mu_ev = mu_of_s(np.log(t), params, data)
    total = 0.0
    for ti, mi, mui in zip(t, m, mu_ev, strict=True):
        lam = K * (ti + c) ** (-p)
        for tj, mj in zip(tp, mp, strict=True):
            if tj < ti:
                lam += K_s * math.exp(alpha * (mj - M0)) * (ti - tj + c) ** (-p)
        total += (math.log(lam) + math.log(beta) - beta * (mi - M0)
                  + float(log_phi((mi - mui) / sigma)))
    s_q, w_q = np.asarray(data["s_q"], float), np.asarray(data["w_q"], float)
    mu_q = mu_of_s(s_q, params, data)
    total -= float(np.dot(w_q, K * np.exp(-p * np.log(np.exp(s_q) + c) - beta * (mu_q - M0)
                                           + 0.5 * (beta * sigma) ** 2)))
    for tj, mj in zip(tp, mp, strict=True):
        a = max(t_start, tj)
        if a < t_end:
            total -= (K_s * math.exp(alpha * (mj - M0))
                      * _secondary_integral(tj, a, t_end, c, p, params, data))
    return total


def _log_trunc_normal(x: float, loc: float, scale: float, lo: float, hi: float) -> float:
    mass = stats.norm.cdf(hi, loc, scale) - stats.norm.cdf(lo, loc, scale)
    return float(stats.norm.logpdf(x, loc, scale) - math.log(mass))


def log_prior(params: Mapping[str, Any], data: Mapping[str, Any]) -> float:
    """The spec's priors, normalised (truncated normals over their support, half-normals)."""
    lp = stats.norm.logpdf(math.log10(params["K"]), -1.67, 1.0) - math.log(params["K"] * LN10)
    lp += stats.lognorm.logpdf(params["c"], s=1.5, scale=0.01)
    lp += _log_trunc_normal(params["p"], 1.1, 0.3, 0.2, 3.0)
    lp += _log_trunc_normal(params["beta"], LN10, 0.5 * LN10, 0.0, math.inf)
    lp += stats.lognorm.logpdf(params["sigma"], s=0.6, scale=0.3)
    lp += stats.norm.logpdf(params["mu_0"], data["mu_0_loc"], 2.0)
    lp += stats.norm.logpdf(params["mu_slope"], -0.3, 0.5)
    if int(data["prior"]) == 1:
        lp += stats.halfnorm.logpdf(params["gp_amplitude"], scale=0.5)
        lp += stats.invgamma.logpdf(params["gp_lengthscale"], data["ls_alpha"],
                                    scale=data["ls_beta"])
    else:
        lp += stats.halfnorm.logpdf(params["rw_scale"], scale=0.2)
    lp += float(np.sum(stats.norm.logpdf(params["z"])))
    if int(data.get("rate", 1)) == 2:
        lp += stats.lognorm.logpdf(params["K_s"], s=LN10, scale=10**-1.67)
        lp += stats.lognorm.logpdf(params["alpha"], s=0.75, scale=1.5)
    return float(lp)


def log_prior_sampled(params: Mapping[str, Any], data: Mapping[str, Any]) -> float:
    """The log prior density of the sampled coordinates (``log_rate``, ``mu_bar``,
    ``mu_slope_bar``, ...): :func:`log_prior` plus ``log K`` (the Jacobian matrix of
    :func:`to_natural` is triangular: ``K`` depends on ``log_rate`` and ``beta``,
    ``mu_slope`` on ``mu_slope_bar`` with slope 1 and on the latent parameters, ``mu_0`` on
    ``mu_bar`` with slope 1 and on the others; its determinant is ``dK/dlog_rate = K``)."""
    return log_prior(params, data) + math.log(params["K"])


def log_density(params: Mapping[str, Any], data: Mapping[str, Any],
                include_prior: bool = True) -> float:
    """log L (+ log prior of the sampled coordinates) at the model's parameters."""
    if int(data.get("rate", 1)) == 2:
        out = log_likelihood_etas(params, data, data["tp"], data["mp"])
    else:
        out = log_likelihood(params, data)
    return out + log_prior_sampled(params, data) if include_prior else out


def log_density_unconstrained(u: Any, data: Mapping[str, Any], include_prior: bool = True,
                              jacobian: bool = True) -> float:
    """:func:`log_density` at ``constrain(u)`` plus (optionally) the log-Jacobian."""
    params, logj = constrain(u, data)
    return log_density(params, data, include_prior) + (logj if jacobian else 0.0)


# ---------------------------------------------------------------------------- simulation
def simulate_detected(
    K: float, c: float, p: float, beta: float, sigma: float,
    mu_fn: Callable[[np.ndarray], np.ndarray], M0: float, t_start: float, t_end: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Detected events of an Omori-Utsu x Gutenberg-Richter sequence.

    The complete sequence above ``m_min = min mu - 6 sigma`` (min over a fine grid of the
    window) is a Poisson process with rate ``K e^{beta (M0 - m_min)} (t + c)^-p``; times are
    drawn by inverting its cumulative intensity, magnitudes ``m_min + Exp(beta)``, and each
    event is kept with probability ``Phi((M - mu(t)) / sigma)``.

    Returns
    -------
    times, magnitudes : ndarray
        Detected events, sorted by time.
    """
    rng = np.random.default_rng(seed)
    grid = np.geomspace(t_start, t_end, 2001)
    m_min = float(np.min(mu_fn(grid)) - 6.0 * sigma)
    scale = K * math.exp(beta * (M0 - m_min))

    def cum(t: np.ndarray) -> np.ndarray:  # int_{t_start}^t (u + c)^-p du
        if abs(p - 1.0) < 1e-12:
            return np.log((t + c) / (t_start + c))
        return ((t + c) ** (1 - p) - (t_start + c) ** (1 - p)) / (1 - p)

    total = float(cum(np.array(t_end)))
    n = rng.poisson(scale * total)
    u = rng.uniform(0.0, total, n)
    if abs(p - 1.0) < 1e-12:
        times = (t_start + c) * np.exp(u) - c
    else:
        times = ((t_start + c) ** (1 - p) + (1 - p) * u) ** (1 / (1 - p)) - c
    mags = m_min + rng.exponential(1.0 / beta, n)
    keep = rng.uniform(size=n) < special.ndtr((mags - mu_fn(times)) / sigma)
    order = np.argsort(times[keep])
    return times[keep][order], mags[keep][order]

