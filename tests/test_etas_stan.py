"""The ETAS and Omori–Utsu Stan programs (stan/etas.stan, stan/omori.stan, pystats.etas.stan).

The Stan log-likelihoods are compared with the torch numerical core
(:mod:`pystats.etas.likelihood`, :mod:`pystats.etas.omori`), which is itself validated
against naive double loops and 40-digit mpmath (tests/test_etas_likelihood.py): values to
1e-8 relative, gradients to 1e-6, at parameter points that include ``p = 1`` exactly and
``p`` within 1e-9 of 1, on catalogues with history before ``t_start`` and tied times.

Three programs are compiled in the default run (ETAS with nothing fixed, ETAS with ``mu``
fixed, Omori–Utsu without background), once per machine (the compile cache; set
``PYSTATS_CACHE_DIR`` to share it) and built once per session.  Sampling checks are
``slow``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from pystats.backends.pystan import PystanBackend
from pystats.backends.stan_cache import (
    parameter_layout,
    stan_data,
    stan_order,
    stan_programs_dir,
)
from pystats.errors import DataError, OptionError
from pystats.etas import stan as etas_stan
from pystats.etas.kernels import soe_grid
from pystats.etas.likelihood import etas_loglik_exact, etas_loglik_fast
from pystats.etas.model import ETAS
from pystats.etas.omori import omori_loglik
from pystats.etas.simulate import simulate_etas, simulate_omori
from pystats.etas.stan import (
    etas_event_data,
    etas_history_stan_data,
    etas_stan_program,
    exact_stan_data,
    omori_event_data,
    omori_stan_program,
    prior_stan_data,
    soe_grid_covering,
    soe_stan_data,
)
from pystats.model import Model, PreparedData
from pystats.parameters import Parameter, ParameterSet

ETAS_NAMES = ("mu", "K", "c", "alpha", "p")
OMORI_NAMES = ("mu", "K", "c", "p")
RTOL = 1e-8

# Parameter points: p = 1 exactly, p within 1e-9 of 1 on both sides, and far from 1.
ETAS_POINTS = [
    {"mu": 0.5, "K": 0.02, "c": 0.01, "alpha": 1.5, "p": 1.2},
    {"mu": 0.3, "K": 0.03, "c": 0.05, "alpha": 1.0, "p": 1.0},
    {"mu": 0.3, "K": 0.03, "c": 0.05, "alpha": 1.0, "p": 1.0 + 1e-9},
    {"mu": 0.3, "K": 0.03, "c": 0.05, "alpha": 1.0, "p": 1.0 - 1e-9},
    {"mu": 1.2, "K": 0.004, "c": 0.001, "alpha": 2.2, "p": 0.8},
    {"mu": 0.1, "K": 0.1, "c": 0.3, "alpha": 0.3, "p": 1.6},
]
AFTERSHOCK_POINTS = [
    {"K": 5.0, "c": 0.02, "alpha": 1.8, "p": 1.1},
    {"K": 3.0, "c": 0.05, "alpha": 1.2, "p": 1.0},
    {"K": 3.0, "c": 0.05, "alpha": 1.2, "p": 1.0 + 1e-9},
    {"K": 6.0, "c": 0.002, "alpha": 2.2, "p": 0.9},
]
OMORI_POINTS = [
    {"K": 40.0, "c": 0.05, "p": 1.1},
    {"K": 40.0, "c": 0.05, "p": 1.0},
    {"K": 40.0, "c": 0.05, "p": 1.0 - 1e-9},
    {"K": 10.0, "c": 0.5, "p": 1.7},
    {"K": 90.0, "c": 0.001, "p": 0.7},
]


class StanTestModel(Model):
    """The smallest Model that hands a generated program and a ready Stan data dict to the
    engines (the real families are pystats.ETAS / pystats.OmoriUtsu)."""

    def __init__(self, program: Any, free: Sequence[str]) -> None:
        super().__init__()
        self._program = program
        self._free = tuple(free)

    def prepare(self, data: Mapping[str, Any]) -> PreparedData:
        return PreparedData(values=dict(data))

    def parameters(self, data: PreparedData) -> ParameterSet:
        return ParameterSet([Parameter(n, lower=0.0) for n in self._free])

    def stan_program(self) -> Any:
        return self._program

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        return dict(data.values)


def priors_for(free: Sequence[str]) -> dict[str, float]:
    return prior_stan_data({n: (0.0, 1.0) for n in free})


class Evaluator:
    """Stan log-likelihood (include_prior = 0, no Jacobian) of one program, any data."""

    def __init__(self, backend: PystanBackend, program: Any, free: Sequence[str]) -> None:
        self.backend = backend
        self.model = StanTestModel(program, free)
        self.free = tuple(free)

    def density(self, data: Mapping[str, Any]) -> Any:
        full = {**data, **priors_for(self.free)}
        return self.backend.log_density(self.model, self.model.prepare(full),
                                        include_prior=False)

    def u(self, point: Mapping[str, float]) -> np.ndarray:
        return np.log([point[n] for n in self.free])

    def value(self, data: Mapping[str, Any], point: Mapping[str, float]) -> float:
        return self.density(data).value(self.u(point), jacobian=False)

    def value_and_grad(self, data: Mapping[str, Any], point: Mapping[str, float]
                       ) -> tuple[float, np.ndarray]:
        """Value and gradient with respect to the constrained parameters."""
        v, g = self.density(data).value_and_grad(self.u(point), jacobian=False)
        return v, g / np.array([point[n] for n in self.free])  # d/dx = d/du / x (x = e^u)


def torch_value_and_grad(fn: Any, point: Mapping[str, float], free: Sequence[str]
                         ) -> tuple[float, np.ndarray]:
    xs = {n: torch.tensor(float(v), dtype=torch.float64, requires_grad=n in free)
          for n, v in point.items()}
    value = fn(xs)
    grads = torch.autograd.grad(value, [xs[n] for n in free])
    return float(value.detach()), np.array([float(g) for g in grads])


def assert_grad_close(g_stan: np.ndarray, g_ref: np.ndarray, rtol: float = 1e-6) -> None:
    scale = np.maximum(np.abs(g_ref), 1e-3 * np.max(np.abs(g_ref)))
    np.testing.assert_array_less(np.abs(g_stan - g_ref) / scale, rtol)


# ---------------------------------------------------------------------------- data
def _with_ties(times: np.ndarray, mags: np.ndarray, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """Round times to 1e-3 (natural ties) and tie a few more events to their predecessor."""
    t = np.round(times, 3)
    idx = rng.choice(np.arange(1, t.size), size=8, replace=False)
    t[idx] = t[idx - 1]
    order = np.argsort(t, kind="stable")
    return t[order], mags[order]


@pytest.fixture(scope="session")
def regional() -> dict[str, Any]:
    """Simulated stationary ETAS catalogue (~200 events) with ties; the first 30 events are
    history before t_start, and t_start sits on a tied pair."""
    cat = simulate_etas(0.5, 0.02, 0.01, 1.5, 1.2, m_ref=3.0, t_end=300.0, mc=3.0, b=1.0,
                        rng=11)
    rng = np.random.default_rng(5)
    t, m = _with_ties(cat.times, cat.magnitudes, rng)
    t[30] = t[29]  # a tie exactly at t_start: both are targets
    t_start = float(t[29])
    assert np.sum(t < t_start) >= 20 and np.sum(np.diff(t) == 0) >= 8
    return {"t": t, "m": m, "t_start": t_start, "t_end": 300.0, "m_ref": 3.0}


@pytest.fixture(scope="session")
def aftershocks() -> dict[str, Any]:
    """Simulated aftershock sequence of an M6 main shock at t = 0 (mu = 0), window
    [0.01, 30]: the main shock and early events are history."""
    cat = simulate_etas(0.0, 5.0, 0.02, 1.8, 1.1, m_ref=6.0, t_end=30.0, mc=3.0, b=1.0,
                        rng=0, history=(np.array([0.0]), np.array([6.0])))
    t = np.concatenate([[0.0], cat.times])
    m = np.concatenate([[6.0], cat.magnitudes])
    t, m = _with_ties(t, m, np.random.default_rng(8))
    assert t[0] == 0.0 and np.sum(t < 0.01) >= 4 and t.size > 60
    return {"t": t, "m": m, "t_start": 0.01, "t_end": 30.0, "m_ref": 6.0}


@pytest.fixture(scope="session")
def omori_times() -> np.ndarray:
    times = simulate_omori(40.0, 0.05, 1.1, 0.0, 20.0, rng=4)
    assert times.size > 100
    return times


# ---------------------------------------------------------------------------- programs
@pytest.fixture(scope="session")
def backend() -> PystanBackend:
    return PystanBackend()


@pytest.fixture(scope="session")
def etas_free(backend: PystanBackend) -> Evaluator:
    return Evaluator(backend, etas_stan_program(()), ETAS_NAMES)


@pytest.fixture(scope="session")
def etas_mu_fixed(backend: PystanBackend) -> Evaluator:
    return Evaluator(backend, etas_stan_program({"mu"}), ETAS_NAMES[1:])


@pytest.fixture(scope="session")
def omori_plain(backend: PystanBackend) -> Evaluator:
    return Evaluator(backend, omori_stan_program((), background=False), OMORI_NAMES[1:])


def _etas_data(cat: Mapping[str, Any], history: Mapping[str, Any]) -> dict[str, Any]:
    return {**etas_event_data(cat["t"], cat["m"], cat["t_start"], cat["t_end"],
                              cat["m_ref"]), **history}


def _torch_etas(cat: Mapping[str, Any], fast: bool = False) -> Any:
    fn = etas_loglik_fast if fast else etas_loglik_exact
    return lambda P: fn(P, cat["t"], cat["m"], cat["t_start"], cat["t_end"], cat["m_ref"])


def _same_grid(cat: Mapping[str, Any], point: Mapping[str, float]) -> Any:
    """The grid etas_loglik_fast builds at ``point`` (span = last - first event time)."""
    t = cat["t"][cat["t"] <= cat["t_end"]]
    return soe_grid(point["c"], point["p"], float(t[-1] - t[0]), rtol=1e-10)


# ---------------------------------------------------------------------------- generation
def test_template_as_shipped_is_the_program_with_nothing_fixed() -> None:
    template = stan_programs_dir().joinpath("etas.stan").read_text(encoding="utf-8")
    code = etas_stan_program(()).code
    assert code.split("\n", 1)[1] == (template if template.endswith("\n") else template + "\n")
    assert [d.name for d in parameter_layout(code)] == list(ETAS_NAMES)


@pytest.mark.parametrize(
    ("fixed", "free"),
    [((), ETAS_NAMES), (("mu",), ETAS_NAMES[1:]), (("alpha", "mu"), ("K", "c", "p")),
     (("K", "c", "alpha", "p"), ("mu",))],
)
def test_etas_program_moves_fixed_parameters_to_data(fixed: tuple, free: tuple) -> None:
    prog = etas_stan_program(fixed)
    layout = parameter_layout(prog.code)
    assert [d.name for d in layout] == list(free)
    assert all(d.constraint == "lower=0" for d in layout)
    data_block = prog.code.split("\ndata {", 1)[1].split("\ntransformed data {", 1)[0]
    for name in fixed:
        assert f"real<lower=0> {name};" in data_block
        assert f"{name}_prior_loc" not in prog.code
        assert f"lognormal_lpdf({name} " not in prog.code
    for name in free:
        assert f"real {name}_prior_loc;" in data_block
        loc = f"{name}_prior_loc" + (" - alpha * (m_ref - m_pivot)" if name == "K" else "")
        assert f"lognormal_lpdf({name} | {loc}," in prog.code
    # the backend's layout check: the program's unconstrained order is pystats' order
    params = ParameterSet([Parameter(n, lower=0.0) for n in free])
    assert stan_order(params, layout).tolist() == list(range(len(free)))


def test_program_text_depends_only_on_the_set_of_fixed_names() -> None:
    a = etas_stan_program(["alpha", "mu"])
    b = etas_stan_program({"mu": 0.0, "alpha": 1.0})  # a dict's keys are the names
    assert a.code == b.code and a.hash == b.hash and a.source_hash == b.source_hash
    etas_stan._etas_cached.cache_clear()  # regenerated from the template: same text
    c = etas_stan_program(("mu", "alpha"))
    assert c is not a and c.hash == a.hash
    assert etas_stan_program(("mu",)).hash != a.hash != etas_stan_program(()).hash
    assert a.name == "etas_fixed_mu_alpha.stan"
    # re-keyed for an engine by the backend: deterministic as well
    backend = PystanBackend()
    assert backend.program(a).hash == backend.program(c).hash != a.hash


def test_omori_programs() -> None:
    plain = omori_stan_program()
    assert [d.name for d in parameter_layout(plain.code)] == ["K", "c", "p"]
    assert "real mu = 0;" in plain.code.split("transformed data {", 1)[1].split("}", 1)[0]
    assert "mu_prior" not in plain.code
    bg = omori_stan_program(background=True)
    assert [d.name for d in parameter_layout(bg.code)] == ["mu", "K", "c", "p"]
    bg_mu = omori_stan_program({"mu", "p"}, background=True)
    assert [d.name for d in parameter_layout(bg_mu.code)] == ["K", "c"]
    assert len({plain.hash, bg.hash, bg_mu.hash}) == 3
    assert omori_stan_program(["p"]).hash == omori_stan_program({"p"}).hash


def test_bad_fixed_sets_are_refused() -> None:
    with pytest.raises(OptionError, match="beta"):
        etas_stan_program({"beta"})
    with pytest.raises(OptionError, match="mu"):
        omori_stan_program({"mu"}, background=False)
    with pytest.raises(OptionError, match="background"):
        omori_stan_program((), background="yes")


def test_data_helpers_validate_and_copy() -> None:
    t = np.array([0.0, 1.0, 1.0, 2.5, 4.0, 7.0])
    m = np.array([5.0, 3.1, 3.4, 3.0, 3.2, 3.3])
    d = etas_event_data(t, m, 1.0, 5.0, 5.0)
    assert d["N"] == 5 and d["first"] == 2 and d["t"][-1] == 4.0  # t > t_end dropped
    d["t"][0] = 99.0
    assert t[0] == 0.0  # a copy
    assert etas_event_data(t, m, 10.0, 20.0, 5.0)["first"] == 7  # no target: N + 1
    with pytest.raises(DataError, match="sorted"):
        etas_event_data(t[::-1], m, 1.0, 5.0, 5.0)
    with pytest.raises(DataError, match="non-finite"):
        etas_event_data([0.0, np.nan], [3.0, 3.0], 0.0, 5.0, 5.0)
    with pytest.raises(DataError, match="must match"):
        etas_event_data(t, m[:3], 1.0, 5.0, 5.0)
    with pytest.raises(OptionError, match="t_start"):
        etas_event_data(t, m, 5.0, 1.0, 5.0)
    o = omori_event_data(t, 1.0, 5.0)
    assert o["N"] == 4 and o["t"][0] == 1.0
    with pytest.raises(OptionError, match="t_start"):
        omori_event_data(t, -1.0, 5.0)
    assert exact_stan_data()["use_soe"] == 0
    grid = soe_grid(0.01, 1.1, 100.0)
    s = soe_stan_data(grid, 1e-10)
    assert s["n_soe"] == grid.k_hi - grid.k_lo + 1 and s["soe_log_s"][0] == grid.k_lo * grid.step
    with pytest.raises(OptionError, match="SoeGrid"):
        soe_stan_data([1.0, 2.0], 1e-8)
    with pytest.raises(OptionError, match="rtol"):
        soe_stan_data(grid, 2.0)
    with pytest.raises(OptionError, match="scale"):
        prior_stan_data({"c": (0.0, 0.0)})
    assert etas_history_stan_data(50, 10.0)["use_soe"] == 0
    assert etas_history_stan_data(5000, 10.0)["use_soe"] == 1
    with pytest.raises(OptionError, match="method"):
        etas_history_stan_data(50, 10.0, method="fast")


def test_covering_grid_is_accurate_over_its_box() -> None:
    from pystats.etas.kernels import kernel, soe_weights

    grid = soe_grid_covering((1e-3, 1.0), (0.6, 2.0), 50.0, rtol=1e-8)
    delays = np.concatenate([[0.0], np.geomspace(1e-6, 50.0, 400)])
    for c in (1e-3, 0.03, 1.0):
        for p in (0.6, 1.0, 1.4, 2.0):
            w, w0 = soe_weights(grid, c, p)
            approx = w0 + np.exp(-np.outer(delays, grid.rates)) @ w
            exact = kernel(delays, c, p)
            assert np.max(np.abs(approx / exact - 1)) < 1e-8, (c, p)


# ---------------------------------------------------------------------------- ETAS values
@pytest.mark.parametrize("point", ETAS_POINTS, ids=lambda P: f"p={P['p']!r}")
def test_exact_stan_loglik_equals_torch_exact(etas_free: Evaluator, regional: dict,
                                              point: dict) -> None:
    stan = etas_free.value(_etas_data(regional, exact_stan_data()), point)
    ref = float(_torch_etas(regional)(point))
    assert stan == pytest.approx(ref, rel=RTOL, abs=0)


@pytest.mark.parametrize("point", ETAS_POINTS, ids=lambda P: f"p={P['p']!r}")
def test_soe_stan_loglik_equals_torch_fast_on_the_same_grid(etas_free: Evaluator,
                                                            regional: dict, point: dict) -> None:
    grid = _same_grid(regional, point)
    stan = etas_free.value(_etas_data(regional, soe_stan_data(grid, 1e-10)), point)
    fast = float(_torch_etas(regional, fast=True)(point))
    exact = float(_torch_etas(regional)(point))
    assert stan == pytest.approx(fast, rel=RTOL, abs=0)
    assert stan == pytest.approx(exact, rel=RTOL, abs=0)


def test_soe_on_a_covering_grid_is_within_its_tolerance(etas_free: Evaluator,
                                                         regional: dict) -> None:
    t = regional["t"]
    history = etas_history_stan_data(t.size, regional["t_end"] - t[0], method="soe")
    data = _etas_data(regional, history)
    n_targets = data["N"] - data["first"] + 1
    for point in ETAS_POINTS:
        stan = etas_free.value(data, point)
        exact = float(_torch_etas(regional)(point))
        assert abs(stan - exact) < n_targets * etas_stan.SOE_SAMPLING_RTOL


@pytest.mark.parametrize("point", ETAS_POINTS[:3], ids=lambda P: f"p={P['p']!r}")
@pytest.mark.parametrize("history", ["exact", "soe"])
def test_stan_gradient_equals_torch_autograd(etas_free: Evaluator, regional: dict,
                                             point: dict, history: str) -> None:
    if history == "exact":
        entries = exact_stan_data()
    else:
        entries = soe_stan_data(_same_grid(regional, point), 1e-10)
    v, g = etas_free.value_and_grad(_etas_data(regional, entries), point)
    v_ref, g_ref = torch_value_and_grad(_torch_etas(regional), point, ETAS_NAMES)
    assert v == pytest.approx(v_ref, rel=RTOL)
    assert_grad_close(g, g_ref)


@pytest.mark.parametrize("point", AFTERSHOCK_POINTS, ids=lambda P: f"p={P['p']!r}")
def test_mu_fixed_program_with_main_shock_history(etas_mu_fixed: Evaluator,
                                                  aftershocks: dict, point: dict) -> None:
    full = {"mu": 0.0, **point}
    ref_fn = _torch_etas(aftershocks)
    for entries in (exact_stan_data(), soe_stan_data(_same_grid(aftershocks, full), 1e-10)):
        data = {**_etas_data(aftershocks, entries), "mu": 0.0}
        v, g = etas_mu_fixed.value_and_grad(data, point)
        v_ref, g_ref = torch_value_and_grad(ref_fn, full, ETAS_NAMES[1:])
        assert v == pytest.approx(v_ref, rel=RTOL)
        assert_grad_close(g, g_ref)


def test_fixed_nonzero_mu_is_used(etas_mu_fixed: Evaluator, regional: dict) -> None:
    point = ETAS_POINTS[0]
    data = {**_etas_data(regional, exact_stan_data()), "mu": point["mu"]}
    free = {k: v for k, v in point.items() if k != "mu"}
    ref = float(_torch_etas(regional)(point))
    assert etas_mu_fixed.value(data, free) == pytest.approx(ref, rel=RTOL)


def test_zero_intensity_gives_minus_infinity(etas_mu_fixed: Evaluator,
                                             aftershocks: dict) -> None:
    # mu = 0 and the window starting at the main shock: its intensity is 0
    cat = {**aftershocks, "t_start": 0.0}
    point = AFTERSHOCK_POINTS[0]
    assert float(_torch_etas(cat)({"mu": 0.0, **point})) == -math.inf
    data = {**_etas_data(cat, exact_stan_data()), "mu": 0.0}
    assert etas_mu_fixed.value(data, point) == -math.inf


def test_events_after_t_end_are_ignored(etas_free: Evaluator, regional: dict) -> None:
    point = ETAS_POINTS[0]
    data = _etas_data(regional, exact_stan_data())
    later = {**data, "N": data["N"] + 2, "t": np.append(data["t"], [400.0, 401.0]),
             "m": np.append(data["m"], [5.0, 6.0])}
    assert etas_free.value(later, point) == pytest.approx(etas_free.value(data, point),
                                                          rel=1e-14)


def test_inconsistent_data_are_rejected_by_the_program(etas_free: Evaluator,
                                                       regional: dict) -> None:
    data = _etas_data(regional, exact_stan_data())
    with pytest.raises(DataError, match="first"):
        etas_free.density({**data, "first": data["first"] + 1})
    with pytest.raises(DataError, match="sorted"):
        etas_free.density({**data, "t": data["t"][::-1]})


def test_regenerated_program_is_a_cache_hit(backend: PystanBackend, etas_free: Evaluator,
                                            regional: dict) -> None:
    model = etas_free.model
    prepared = model.prepare({**_etas_data(regional, exact_stan_data()), **priors_for(ETAS_NAMES)})
    data = stan_data(model, prepared, include_prior=False)
    backend.build_model(model.stan_program(), data)  # compiled before this test or now
    etas_stan._etas_cached.cache_clear()
    _, prog, seconds = backend.build_model(etas_stan_program(()), data)
    assert seconds == 0.0 and prog.hash == backend.program(etas_free.model.stan_program()).hash


def test_priors_are_normalised_lognormals(etas_free: Evaluator, regional: dict) -> None:
    from scipy import stats

    point = ETAS_POINTS[0]
    priors = {"mu": (-1.0, 2.0), "K": (-4.0, 2.5), "c": (math.log(0.01), 2.0),
              "alpha": (math.log(1.5), 0.75), "p": (math.log(1.1), 0.25)}
    full = {**_etas_data(regional, exact_stan_data()), **prior_stan_data(priors)}
    model = StanTestModel(etas_free.model.stan_program(), ETAS_NAMES)
    density = etas_free.backend.log_density(model, model.prepare(full), include_prior=True)
    u = np.log([point[n] for n in ETAS_NAMES])
    prior = sum(stats.lognorm.logpdf(point[n], s=sc, scale=math.exp(loc))
                for n, (loc, sc) in priors.items())
    ref = float(_torch_etas(regional)(point)) + prior
    assert density.value(u, jacobian=False) == pytest.approx(ref, rel=RTOL)
    assert density.value(u, jacobian=True) == pytest.approx(ref + u.sum(), rel=RTOL)


# ---------------------------------------------------------------------------- K pivot
@pytest.mark.parametrize("history", ["exact", "soe"])
def test_k_pivot_is_a_change_of_variables(etas_mu_fixed: Evaluator, aftershocks: dict,
                                          history: str) -> None:
    """With K sampled at m_pivot (K_piv = K_ref e^{-alpha (m_ref - m_pivot)}): the
    likelihood is the same, the log posterior on the constrained scale gains the Jacobian
    alpha (m_ref - m_pivot) = log K_ref - log K_piv, and with Stan's own Jacobian (lp__) it
    is the same function of (K_ref, c, alpha, p); its gradient is the unpivoted one pushed
    through the map (log K_ref = log K_piv + shift e^{log alpha})."""
    t = aftershocks["t"]
    hist = etas_history_stan_data(t.size, aftershocks["t_end"] - t[0], method=history)
    m_ref, m_pivot = aftershocks["m_ref"], 4.7
    shift = m_ref - m_pivot
    priors = prior_stan_data({"K": (math.log(3.0), 2.0), "c": (math.log(0.01), 1.5),
                              "alpha": (math.log(1.5), 0.75), "p": (math.log(1.1), 0.25)})
    model = etas_mu_fixed.model
    backend = etas_mu_fixed.backend

    def density(pivot: float, prior: bool) -> Any:
        ev = etas_event_data(t, aftershocks["m"], aftershocks["t_start"],
                             aftershocks["t_end"], m_ref, m_pivot=pivot)
        full = {**ev, **hist, "mu": 0.0, **priors}
        return backend.log_density(model, model.prepare(full), include_prior=prior)

    for point in AFTERSHOCK_POINTS[:2]:
        k_ref, alpha = point["K"], point["alpha"]
        u0 = np.log([k_ref, point["c"], alpha, point["p"]])
        u1 = u0 - np.array([alpha * shift, 0.0, 0.0, 0.0])  # log K_piv
        plain, pivoted = density(m_ref, True), density(m_pivot, True)
        assert density(m_pivot, False).value(u1, False) == pytest.approx(
            density(m_ref, False).value(u0, False), rel=1e-12)
        assert pivoted.value(u1, False) == pytest.approx(
            plain.value(u0, False) + alpha * shift, rel=1e-12)
        v0, g0 = plain.value_and_grad(u0, True)
        v1, g1 = pivoted.value_and_grad(u1, True)
        assert v1 == pytest.approx(v0, rel=1e-12)
        chain = g0.copy()
        chain[2] += g0[0] * shift * alpha  # d log K_ref / d log alpha = shift alpha
        np.testing.assert_allclose(g1, chain, rtol=1e-9, atol=1e-9 * np.abs(g0).max())


def test_k_pivot_generated_k_ref_is_the_transform(etas_mu_fixed: Evaluator,
                                                  aftershocks: dict) -> None:
    """The generated quantity K_ref of a short NUTS run is K e^{alpha (m_ref - m_pivot)}
    draw by draw (and K itself with m_pivot = m_ref)."""
    t = aftershocks["t"]
    model = etas_mu_fixed.model
    for m_pivot in (4.7, aftershocks["m_ref"]):
        ev = etas_event_data(t, aftershocks["m"], aftershocks["t_start"],
                             aftershocks["t_end"], aftershocks["m_ref"], m_pivot=m_pivot)
        full = {**ev, **exact_stan_data(), "mu": 0.0, **priors_for(ETAS_NAMES[1:])}
        res = etas_mu_fixed.backend.sample(model, model.prepare(full), chains=1, draws=30,
                                           warmup=30, seed=3)
        d = res.draws
        np.testing.assert_allclose(
            d["K_ref"], d["K"] * np.exp(d["alpha"] * (aftershocks["m_ref"] - m_pivot)),
            rtol=1e-12)
        assert np.ptp(d["K_ref"]) > 0


def test_nuts_through_the_family_reports_k_at_m_ref(aftershocks: dict) -> None:
    """ETAS(k_pivot=4.0).fit(method="nuts"): the sampler's K is K at M 4 (about
    e^{-2 alpha}, ~30 times smaller than K at M_ref = 6 here), yet the fit's K draws are K
    at M_ref: their median is within a factor 2 of the posterior mode of K (MAP); the
    program's K_ref is not reported again, and the pivot is in the metadata."""
    t, m = aftershocks["t"], aftershocks["m"]
    keep = np.concatenate([[True], np.diff(t) > 0])  # the family needs distinct times
    model = ETAS(mc=3.0, reference_magnitude=6.0, mu=0.0, likelihood="exact", k_pivot=4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few draws for the ESS checks
        fit = model.fit((t[keep], m[keep]), t_start=0.01, t_end=30.0, method="nuts", seed=2,
                        chains=1, draws=100, warmup=100)
        mode = model.fit((t[keep], m[keep]), t_start=0.01, t_end=30.0, method="map", seed=2)
    assert fit.metadata["sampler_coordinates"]["k_pivot"] == 4.0
    assert set(fit.draws) >= {"K", "c", "alpha", "p"} and "K_ref" not in fit.draws
    ratio = float(np.median(fit.draws["K"])) / float(mode.point["K"])
    assert 0.5 < ratio < 2.0, ratio
    assert fit.summary().loc["K", "mean"] == pytest.approx(float(np.mean(fit.draws["K"])))


@pytest.mark.slow
def test_nuts_with_the_auto_pivot_samples_the_same_posterior(aftershocks: dict) -> None:
    """pystats.ETAS(method="nuts"): the automatic pivot (an M6 main shock as M_ref) and the
    plain coordinates give the same posterior of K (at M_ref) and alpha, within Monte
    Carlo error; K_ref is not reported separately, the pivot is in the metadata.  (The
    pivoted chains may have a few divergences here: models/etas.md.)"""
    t, m = aftershocks["t"], aftershocks["m"]
    keep = np.concatenate([[True], np.diff(t) > 0])  # the family needs distinct times
    fits = {}
    for k_pivot in ("auto", None):
        model = ETAS(mc=3.0, reference_magnitude=6.0, mu=0.0, likelihood="exact",
                     k_pivot=k_pivot)
        fits[k_pivot] = model.fit((t[keep], m[keep]), t_start=0.01, t_end=30.0,
                                  method="nuts", seed=4, chains=2, draws=600, warmup=400)
    info = fits["auto"].metadata["sampler_coordinates"]
    assert 3.0 <= info["k_pivot"] < 6.0 and info["corr_logK_logalpha_at_reference"] > 0.5
    assert fits[None].metadata["sampler_coordinates"]["k_pivot"] == 6.0
    for fit in fits.values():
        assert "K_ref" not in fit.draws
    for name in ("K", "alpha", "c", "p"):
        a, b = (np.log(np.asarray(f.draws[name]).ravel()) for f in fits.values())
        sd = math.hypot(a.std(), b.std()) / math.sqrt(2)
        assert abs(a.mean() - b.mean()) < 0.3 * sd, name
        assert a.std() == pytest.approx(b.std(), rel=0.25), name


# ---------------------------------------------------------------------------- Omori
@pytest.mark.parametrize("point", OMORI_POINTS, ids=lambda P: f"p={P['p']!r}")
def test_omori_stan_equals_torch(omori_plain: Evaluator, omori_times: np.ndarray,
                                 point: dict) -> None:
    data = omori_event_data(omori_times, 0.05, 20.0)
    v, g = omori_plain.value_and_grad(data, point)
    v_ref, g_ref = torch_value_and_grad(
        lambda P: omori_loglik(P, omori_times, 0.05, 20.0), point, ("K", "c", "p"))
    assert v == pytest.approx(v_ref, rel=RTOL)
    assert_grad_close(g, g_ref)


def test_omori_ignores_events_outside_the_window(omori_plain: Evaluator,
                                                 omori_times: np.ndarray) -> None:
    inside = omori_event_data(omori_times, 0.05, 20.0)
    everything = {**inside, "N": omori_times.size, "t": omori_times}
    point = OMORI_POINTS[0]
    assert omori_plain.value(everything, point) == pytest.approx(
        omori_plain.value(inside, point), rel=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("point", [{"mu": 2.0, **OMORI_POINTS[0]}, {"mu": 0.5, **OMORI_POINTS[1]}],
                         ids=["p=1.1", "p=1.0"])
def test_omori_with_background_equals_torch(backend: PystanBackend, omori_times: np.ndarray,
                                            point: dict) -> None:
    ev = Evaluator(backend, omori_stan_program(background=True), OMORI_NAMES)
    v, g = ev.value_and_grad(omori_event_data(omori_times, 0.05, 20.0), point)
    v_ref, g_ref = torch_value_and_grad(
        lambda P: omori_loglik(P, omori_times, 0.05, 20.0), point, OMORI_NAMES)
    assert v == pytest.approx(v_ref, rel=RTOL)
    assert_grad_close(g, g_ref)


# ---------------------------------------------------------------------------- real data
MIYAGI_PRIORS = {"K": (math.log(50.0), 2.0), "c": (math.log(0.01), 1.5),
                 "alpha": (math.log(1.5), 0.75), "p": (math.log(1.1), 0.25)}
# The starting values of SAPP's `etasap` help example for these data (not estimates; see
# models/etas.md): a point at which the Stan and torch likelihoods are compared
SAPP_START = {"K": 63.348, "c": 0.038209, "alpha": 2.6423, "p": 1.0169}


@pytest.fixture(scope="session")
def miyagi(shared_data) -> dict[str, Any]:
    df = pd.read_csv(shared_data / "catalogs" / "miyagi2003_aftershocks_sapp.csv")
    df = df[df["magnitude"] != 0.0]  # 0.0 = magnitude undetermined (missing)
    sel = df[(df["magnitude"] >= 2.5) & (df["time"] <= 18.68)]
    return {"t": sel["time"].to_numpy(float), "m": sel["magnitude"].to_numpy(float),
            "t_start": 0.01, "t_end": 18.68, "m_ref": 6.2}


def test_miyagi_stan_loglik_equals_torch_at_sapp_starting_values(etas_mu_fixed: Evaluator,
                                                                   miyagi: dict) -> None:
    full = {"mu": 0.0, **SAPP_START}
    ref = float(_torch_etas(miyagi)(full))
    t = miyagi["t"]
    for method in ("exact", "soe"):
        history = etas_history_stan_data(t.size, miyagi["t_end"] - t[0], method=method)
        data = {**_etas_data(miyagi, history), "mu": 0.0}
        assert etas_mu_fixed.value(data, SAPP_START) == pytest.approx(ref, rel=RTOL)


@pytest.mark.slow
def test_miyagi_nuts_converges_around_the_mle(etas_mu_fixed: Evaluator, miyagi: dict) -> None:
    """4 chains x 1000 draws with the SOE path: R-hat < 1.01, no divergences, and the
    maximum-likelihood estimate (torch, pystats.ETAS) inside the central 95 % posterior
    intervals (the priors are weak, so posterior and likelihood must overlap)."""
    import arviz as az

    t = miyagi["t"]
    history = etas_history_stan_data(t.size, miyagi["t_end"] - t[0])
    assert history["use_soe"] == 1
    data = {**_etas_data(miyagi, history), "mu": 0.0, **prior_stan_data(MIYAGI_PRIORS)}
    model = etas_mu_fixed.model
    inits = [{"K": 60.0, "c": 0.03, "alpha": 2.5, "p": 1.05}] * 4
    res = etas_mu_fixed.backend.sample(model, model.prepare(data), chains=4, draws=1000,
                                       warmup=1000, seed=20030726, inits=inits)
    assert not res.sample_stats["diverging"].any()
    idata = az.from_dict(posterior=res.draws)
    rhat = az.rhat(idata)
    mle = ETAS(mc=2.5, reference_magnitude=6.2, mu=0.0).fit(
        (miyagi["t"], miyagi["m"]), t_start=miyagi["t_start"], t_end=miyagi["t_end"], seed=1)
    for name in ETAS_NAMES[1:]:
        assert float(rhat[name]) < 1.01, name
        lo, hi = np.quantile(res.draws[name], [0.025, 0.975])
        assert lo < float(mle.point[name]) < hi, (name, lo, hi)


# ---------------------------------------------------------------------------- the family
def test_through_the_etas_family(backend: PystanBackend, aftershocks: dict) -> None:
    """pystats.ETAS hands these programs and its stan_data to the engines; its Stan log
    likelihood equals its torch one."""
    model = ETAS(mc=3.0, reference_magnitude=6.0, mu=0.0, likelihood="exact")
    t, m = aftershocks["t"], aftershocks["m"]
    keep = np.concatenate([[True], np.diff(t) > 0])  # the family needs distinct times
    data = model.prepare((t[keep], m[keep]), t_start=0.01, t_end=30.0)
    density = backend.log_density(model, data, include_prior=False)
    point = AFTERSHOCK_POINTS[0]
    ref = float(etas_loglik_exact({"mu": 0.0, **point}, t[keep], m[keep], 0.01, 30.0, 6.0))
    u = model.parameters(data).unconstrain(point)
    assert density.value(u, jacobian=False) == pytest.approx(ref, rel=RTOL)
