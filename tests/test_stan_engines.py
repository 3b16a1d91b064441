"""Tests of the Stan engines (pystan, cmdstanpy) and of the Stan program cache.

The toy program ``tests/stan/toy_normal.stan`` has a closed-form log density (checked to
1e-8), conjugate parts (``w`` is Beta, ``theta`` and ``m`` are normal) whose posterior means
NUTS must recover, an array and a matrix parameter (Stan stores them in different orders)
and a ``reject`` region.  It is compiled once per machine (the cache) and built once per
session (session fixtures).  Run with ``PYSTATS_CACHE_DIR`` set to share compiled programs.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pystats.backends import stan_cache, stan_program
from pystats.backends.cmdstan import (
    CmdStanBackend,
    CmdStanLogDensity,
    cmdstan_path_or_none,
    mcmc_to_sample_result,
)
from pystats.backends.pystan import (
    PystanBackend,
    PystanLogDensity,
    _on_stan_thread,
    clear_model_cache,
    draws_from_fit,
)
from pystats.backends.stan_cache import cache_dir, file_lock
from pystats.backends.stan_program import (
    StanDeclaration,
    load_program,
    parameter_layout,
    stan_order,
)
from pystats.errors import (
    BackendError,
    BackendUnavailableError,
    CompilationError,
    DataError,
    OptionError,
)
from pystats.model import Model, PreparedData
from pystats.parameters import Parameter, ParameterSet

STAN_DIR = Path(__file__).resolve().parent / "stan"
TOY = STAN_DIR / "toy_normal.stan"


class ToyModel(Model):
    """The model of ``tests/stan/toy_normal.stan`` (see the comments there)."""

    def prepare(self, data: Any) -> PreparedData:
        return PreparedData(values={k: np.asarray(v) if np.ndim(v) else v for k, v in data.items()})

    def parameters(self, data: PreparedData) -> ParameterSet:
        return ParameterSet(
            [
                Parameter("mu"),
                Parameter("sigma", lower=0.0),
                Parameter("w", lower=0.0, upper=1.0),
                Parameter("theta", lower=-20.0, upper=20.0, shape=(2, 3)),
                Parameter("m", shape=(2, 2)),
            ]
        )

    def stan_program(self) -> Any:
        return TOY

    def stan_data(self, data: PreparedData) -> dict[str, Any]:
        v = data.values
        return {
            "N": int(v["y"].size),
            "y": v["y"],
            "n": int(v["n"]),
            "k": int(v["k"]),
            "z": v["z"],
            "zm": v["zm"],
            "mu_max": float(v["mu_max"]),
        }


def toy_data(**changes: Any) -> dict[str, Any]:
    rng = np.random.default_rng(20240521)
    data = {
        "y": rng.normal(1.5, 2.0, size=40),
        "n": 30,
        "k": 11,
        "z": np.array([[1.0, -2.0, 3.5], [4.0, 0.5, -6.0]]),
        "zm": np.array([[2.0, -1.0], [7.0, 3.0]]),
        "mu_max": 50.0,
    }
    data.update(changes)
    return data


def analytic_log_density(
    params: ParameterSet, u: np.ndarray, data: dict[str, Any], include_prior: bool, jacobian: bool
) -> float:
    x = params.constrain(np.asarray(u, dtype=float))
    mu, sigma, w, theta, m = (x[k] for k in ("mu", "sigma", "w", "theta", "m"))
    lp = stats.norm.logpdf(data["y"], mu, sigma).sum()
    lp += stats.binom.logpmf(data["k"], data["n"], w)
    lp += stats.norm.logpdf(data["z"], theta, 1.0).sum()
    lp += stats.norm.logpdf(data["zm"], m, 1.0).sum()
    if include_prior:
        lp += stats.norm.logpdf(mu, 0, 10) + stats.expon.logpdf(sigma) + stats.beta.logpdf(w, 2, 2)
        lp += stats.norm.logpdf(theta, 0, 10).sum() + stats.norm.logpdf(m, 0, 10).sum()
    if jacobian:
        lp += params.log_abs_det_jacobian(np.asarray(u, dtype=float))
    return float(lp)


def random_points(params: ParameterSet, n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, size=(n, params.dim))


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def backend() -> PystanBackend:
    PystanBackend.check_available()
    return PystanBackend()


@pytest.fixture(scope="session")
def toy() -> tuple[ToyModel, PreparedData, dict[str, Any]]:
    raw = toy_data()
    model = ToyModel()
    return model, model.prepare(raw), raw


@pytest.fixture(scope="session")
def posterior_density(backend: PystanBackend, toy: tuple) -> PystanLogDensity:
    model, data, _ = toy
    return backend.log_density(model, data, include_prior=True)


@pytest.fixture(scope="session")
def likelihood_density(backend: PystanBackend, toy: tuple) -> PystanLogDensity:
    model, data, _ = toy
    return backend.log_density(model, data, include_prior=False)


@pytest.fixture(scope="session")
def nuts(backend: PystanBackend, toy: tuple) -> Any:
    model, data, _ = toy
    return backend.sample(model, data, chains=4, draws=1000, warmup=1000, seed=20240601)


# ---------------------------------------------------------------------------- log density
@pytest.mark.parametrize("include_prior", [True, False])
@pytest.mark.parametrize("jacobian", [True, False])
def test_log_density_matches_closed_form(
    posterior_density: PystanLogDensity,
    likelihood_density: PystanLogDensity,
    toy: tuple,
    include_prior: bool,
    jacobian: bool,
) -> None:
    density = posterior_density if include_prior else likelihood_density
    params, raw = density.params, toy[2]
    assert density.dim == params.dim == 13
    for u in random_points(params, 5):
        expected = analytic_log_density(params, u, raw, include_prior, jacobian)
        value, grad = density.value_and_grad(u, jacobian)
        assert value == pytest.approx(expected, rel=1e-8)
        assert density.value(u, jacobian) == pytest.approx(expected, rel=1e-8)
        assert grad.shape == (params.dim,)


@pytest.mark.parametrize("jacobian", [True, False])
def test_gradient_matches_finite_differences(
    posterior_density: PystanLogDensity, jacobian: bool
) -> None:
    density = posterior_density
    for u in random_points(density.params, 3, seed=2):
        _, grad = density.value_and_grad(u, jacobian)
        fd = np.empty_like(u)
        for i in range(u.size):
            h = 1e-5 * max(1.0, abs(u[i]))
            up, dn = u.copy(), u.copy()
            up[i] += h
            dn[i] -= h
            fd[i] = (density.value(up, jacobian) - density.value(dn, jacobian)) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def test_log_density_is_minus_inf_outside_support(posterior_density: PystanLogDensity) -> None:
    density = posterior_density
    u = np.zeros(density.dim)
    assert math.isfinite(density.value(u, True))
    u[0] = 60.0  # mu >= mu_max = 50: the program rejects
    for jacobian in (True, False):
        value, grad = density.value_and_grad(u, jacobian)
        assert value == -math.inf
        assert np.all(np.isfinite(grad))
        assert density.value(u, jacobian) == -math.inf
    u[0] = np.nan
    assert density.value_and_grad(u, True)[0] == -math.inf
    with pytest.raises(OptionError, match="shape"):
        density.value(np.zeros(density.dim + 1), True)


def test_public_pystan_api_gives_the_same_density(posterior_density: PystanLogDensity) -> None:
    """The fallback through stan.Model.log_prob / grad_log_prob (Jacobian always included in
    pystan's gradient, subtracted by pystats) agrees with the direct module calls."""
    fast = posterior_density
    assert fast.module is not None
    slow = PystanLogDensity(fast.model, fast.params, fast.stan_index, module=None)
    for u in random_points(fast.params, 2, seed=3):
        for jacobian in (True, False):
            v1, g1 = fast.value_and_grad(u, jacobian)
            v2, g2 = slow.value_and_grad(u, jacobian)
            assert v2 == pytest.approx(v1, rel=1e-12)
            np.testing.assert_allclose(g2, g1, rtol=1e-10, atol=1e-10)
    u = np.zeros(fast.dim)
    u[0] = 60.0
    assert slow.value_and_grad(u, True)[0] == -math.inf


def test_unconstrained_order_of_arrays_and_matrices(posterior_density: PystanLogDensity) -> None:
    """Read off httpstan's write_array: arrays are row-major, matrices column-major, and the
    declaration parser used by the CmdStan engine agrees."""
    params = posterior_density.params
    # mu, sigma, w, theta (2x3 array: C order), m (2x2 matrix: column-major)
    expected = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 10, 12])
    np.testing.assert_array_equal(posterior_density.stan_index, expected)
    layout = parameter_layout(load_program(TOY).code)
    assert [d.name for d in layout] == params.names
    np.testing.assert_array_equal(stan_order(params, layout), posterior_density.stan_index)


def test_parameter_layout_reader() -> None:
    code = """
    functions { real f(real x) { return x; } }
    data { int N; }
    transformed data { real c = 1; }
    parameters {
      real<lower=0> a;  // comment ; with semicolon
      array[2, N] real<lower=-1, upper=max({1, 2})> b;
      vector<lower=0>[3] c;
      array[2] matrix[2, 3] d;
      /* block
         comment */ row_vector[N] e;
      simplex[3] s;
      real old[2, 3];
    }
    transformed parameters { real t = a; }
    model { }
    """
    layout = parameter_layout(code)
    assert layout == [
        StanDeclaration("a", "real", 0, "lower=0"),
        StanDeclaration("b", "real", 2, "lower=-1, upper=max({1, 2})"),
        StanDeclaration("c", "vector", 0, "lower=0"),
        StanDeclaration("d", "matrix", 1, ""),
        StanDeclaration("e", "row_vector", 0, ""),
        StanDeclaration("s", "simplex", 0, ""),
        StanDeclaration("old", "real", 2, ""),
    ]
    params = ParameterSet([Parameter("d", shape=(2, 2, 3))])
    index = stan_order(params, [layout[3]])
    # Stan order: d[a] for a = 0, 1 (array: outer), each 2x3 matrix column by column
    stan_seq = [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]
    np.testing.assert_array_equal(index[stan_seq], np.arange(12))
    with pytest.raises(BackendError, match="simplex"):
        stan_order(ParameterSet([Parameter("s", shape=(3,))]), [layout[5]])
    with pytest.raises(BackendError, match="must match"):
        stan_order(ParameterSet([Parameter("x")]), [layout[0]])
    with pytest.raises(BackendError, match="offset"):
        stan_order(ParameterSet([Parameter("a")]), parameter_layout(
            "parameters { real<offset=1, multiplier=2> a; }"))


def test_parameters_must_match_the_program(backend: PystanBackend, toy: tuple) -> None:
    class WrongBounds(ToyModel):
        def parameters(self, data: PreparedData) -> ParameterSet:
            ps = list(super().parameters(data))
            ps[1] = Parameter("sigma", lower=0.0, upper=100.0)
            return ParameterSet(ps)

    class WrongOrder(ToyModel):
        def parameters(self, data: PreparedData) -> ParameterSet:
            ps = list(super().parameters(data))
            return ParameterSet([ps[1], ps[0], *ps[2:]])

    _, data, _ = toy
    with pytest.raises(BackendError, match="bounds"):
        backend.log_density(WrongBounds(), data, include_prior=True)
    with pytest.raises(BackendError, match="must come first"):
        backend.log_density(WrongOrder(), data, include_prior=True)


# ---------------------------------------------------------------------------- NUTS
def _mcse(x: np.ndarray) -> float:
    import arviz as az

    return float(np.std(x) / math.sqrt(az.ess(x)))


def test_nuts_recovers_conjugate_posterior_means(nuts: Any, toy: tuple) -> None:
    raw = toy[2]
    draws = nuts.draws
    # w | k ~ Beta(2 + k, 2 + n - k)
    a, b = 2 + raw["k"], 2 + raw["n"] - raw["k"]
    assert abs(draws["w"].mean() - a / (a + b)) < 3 * _mcse(draws["w"])
    assert draws["w"].std() == pytest.approx(stats.beta(a, b).std(), rel=0.1)
    # theta, m | z ~ Normal(z * 100 / 101, 100 / 101) (truncation at +-20 is negligible)
    shrink = 100.0 / 101.0
    for name, obs in (("theta", raw["z"]), ("m", raw["zm"])):
        for idx in np.ndindex(obs.shape):
            x = draws[name][(slice(None), slice(None), *idx)]
            assert abs(x.mean() - shrink * obs[idx]) < 3 * _mcse(x), (name, idx)
            assert x.std() == pytest.approx(math.sqrt(shrink), rel=0.1)


def test_nuts_result_layout(nuts: Any) -> None:
    d, s = nuts.draws, nuts.sample_stats
    assert set(d) == {"mu", "sigma", "w", "theta", "m", "log_sigma", "mu_twice", "theta_copy",
                      "m_copy"}
    assert d["mu"].shape == (4, 1000) and d["theta"].shape == (4, 1000, 2, 3)
    assert d["m"].shape == (4, 1000, 2, 2)
    # transformed parameters and generated quantities line up draw by draw
    np.testing.assert_array_equal(d["mu_twice"], 2 * d["mu"])
    np.testing.assert_array_equal(d["theta_copy"], d["theta"])
    np.testing.assert_array_equal(d["m_copy"], d["m"])
    np.testing.assert_allclose(d["log_sigma"], np.log(d["sigma"]), rtol=1e-12)
    assert set(s) == {"lp", "acceptance_rate", "step_size", "tree_depth", "n_steps",
                      "diverging", "energy"}
    assert all(v.shape == (4, 1000) for v in s.values())
    assert s["diverging"].dtype == bool and s["tree_depth"].dtype == np.int64
    # the step size is adapted per chain, so it is constant within a chain only
    assert np.all(s["step_size"] == s["step_size"][:, :1])
    assert nuts.max_tree_depth == 10
    info = nuts.info
    assert info["engine"] == "pystan" and info["stan_program"] == "toy_normal.stan"
    assert info["stan_program_hash"] == load_program(TOY).source_hash
    assert info["sample_seconds"] > 0 and info["compile_seconds"] >= 0


def test_chain_order_matches_arviz(backend: PystanBackend, toy: tuple) -> None:
    """draws_from_fit agrees with arviz.from_pystan, which reads pystan's raw (draw, chain)
    storage; stan.fit.Fit[name] itself interleaves the chains."""
    import arviz as az

    model, data, _ = toy
    sdata = stan_program.stan_data(model, data, True)
    stan_model, _, _ = backend.build_model(TOY, sdata)  # no seed: pystan deletes the fit
    # Stan code must run on pystats' Stan thread (see the pystan module docstring)
    fit = _on_stan_thread(stan_model.sample, num_chains=3, num_samples=7, num_warmup=20)
    draws, sample_stats = draws_from_fit(fit, 3, 7)
    posterior = az.from_pystan(posterior=fit).posterior
    for name in ("mu", "theta", "m", "theta_copy"):
        np.testing.assert_array_equal(draws[name], posterior[name].values)
    np.testing.assert_array_equal(
        sample_stats["lp"], az.from_pystan(posterior=fit).sample_stats["lp"].values
    )


def test_same_seed_same_draws(backend: PystanBackend, toy: tuple) -> None:
    model, data, _ = toy
    kw = {"chains": 2, "draws": 100, "warmup": 100}
    a = backend.sample(model, data, seed=7, **kw)
    b = backend.sample(model, data, seed=7, **kw)
    c = backend.sample(model, data, seed=8, **kw)
    for name in a.draws:
        np.testing.assert_array_equal(a.draws[name], b.draws[name])
    np.testing.assert_array_equal(a.sample_stats["lp"], b.sample_stats["lp"])
    assert not np.array_equal(a.draws["mu"], c.draws["mu"])
    assert not np.array_equal(a.draws["mu"][0], a.draws["mu"][1])  # chains differ


def test_pystan_seed_range_is_checked_before_sampling(backend: PystanBackend, toy: tuple) -> None:
    """httpstan's services take a signed 32-bit seed: 2**31 and above used to fail inside
    the sampler; now a clear OptionError, while 2**31 - 1 samples."""
    model, data, _ = toy
    with pytest.raises(OptionError, match=r"seed=2147483648 .*pystan.*2\*\*31 - 1"):
        backend.sample(model, data, chains=1, draws=5, warmup=5, seed=2**31)
    result = backend.sample(model, data, chains=1, draws=5, warmup=5, seed=2**31 - 1)
    assert result.draws["mu"].shape[:2] == (1, 5)


def test_sampling_leaves_no_fits_in_the_cache(
    backend: PystanBackend, toy: tuple, posterior_density: PystanLogDensity
) -> None:
    """httpstan keeps every seeded fit in its cache; pystats does not let it."""
    import httpstan.cache

    model, data, _ = toy
    backend.sample(model, data, chains=1, draws=20, warmup=20, seed=3)
    directory = httpstan.cache.model_directory(posterior_density.model.model_name)
    assert directory.is_relative_to(cache_dir())
    assert not list(directory.glob("fits/*"))


def test_inits_are_validated(backend: PystanBackend, toy: tuple) -> None:
    model, data, _ = toy
    kw = {"chains": 2, "draws": 10, "warmup": 10, "seed": 1}
    with pytest.raises(OptionError, match="2 dicts"):
        backend.sample(model, data, inits=[{"mu": 0.0}], **kw)
    with pytest.raises(OptionError, match="unknown parameter"):
        backend.sample(model, data, inits=[{"mu": 0.0}, {"nu": 1.0}], **kw)
    with pytest.raises(OptionError, match="outside its support"):
        backend.sample(model, data, inits=[{"sigma": 1.0}, {"sigma": -1.0}], **kw)
    with pytest.raises(OptionError, match="shape"):
        backend.sample(model, data, inits=[{"theta": 1.0}, {}], **kw)
    with pytest.raises(OptionError, match="seed"):
        backend.sample(model, data, **{**kw, "seed": -1})
    good = [{"mu": 1.0, "theta": np.full((2, 3), 0.5)}, None]  # None: Stan draws them
    result = backend.sample(model, data, inits=good, **kw)
    assert result.draws["mu"].shape == (2, 10)
    params = model.parameters(data)
    assert stan_program.check_inits([None, {}], params, 2) is None
    assert stan_program.check_inits(good, params, 2) == [
        {"mu": 1.0, "theta": [[0.5] * 3] * 2}, {}
    ]


def test_works_inside_a_running_event_loop(
    backend: PystanBackend, toy: tuple, posterior_density: PystanLogDensity
) -> None:
    """Jupyter runs an event loop; pystan's asyncio.run would fail there."""
    model, data, _ = toy
    density = posterior_density
    slow = PystanLogDensity(density.model, density.params, density.stan_index, module=None)

    async def main() -> tuple[Any, float]:
        result = backend.sample(model, data, chains=1, draws=10, warmup=10, seed=5)
        return result, slow.value(np.zeros(density.dim), True)

    result, value = asyncio.run(main())
    assert result.draws["mu"].shape == (1, 10)
    assert value == pytest.approx(density.value(np.zeros(density.dim), True), rel=1e-12)


def test_callable_from_any_thread(tmp_path: Path) -> None:
    """Stan's autodiff tape is thread-local (STAN_THREADS): calling a compiled model from a
    thread that did not load it segfaults.  pystats routes every call through one Stan
    thread, so densities and sampling work from any thread (run in a subprocess so that a
    regression shows as a failure, not a crashed test session)."""
    script = textwrap.dedent(
        f"""
        import sys, threading
        import numpy as np
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_stan_engines import ToyModel, toy_data
        from pystats.backends.pystan import PystanBackend

        model = ToyModel()
        data = model.prepare(toy_data())
        density = PystanBackend().log_density(model, data, include_prior=True)
        out = {{}}

        def work():
            out["lp"] = density.value_and_grad(np.zeros(13), True)[0]
            out["draws"] = PystanBackend().sample(
                model, data, chains=2, draws=5, warmup=5, seed=1).draws["mu"].shape

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        assert out["lp"] == density.value(np.zeros(13), True), out
        assert out["draws"] == (2, 5), out
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def _use_density_in_child(density: PystanLogDensity) -> None:
    try:
        density.value(np.zeros(density.dim), True)
    except BackendError as e:
        os._exit(0 if "forked" in str(e) else 2)
    os._exit(1)


def test_forked_child_gets_an_error_not_a_crash(posterior_density: PystanLogDensity) -> None:
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(
        target=_use_density_in_child, args=(posterior_density,)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0  # a segmentation fault would give -11


# ---------------------------------------------------------------------------- cache, cwd, output
def test_compiled_program_is_reused(
    backend: PystanBackend, toy: tuple, posterior_density: PystanLogDensity, monkeypatch
) -> None:
    import httpstan.models

    calls = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("compiled again")

    monkeypatch.setattr(httpstan.models, "build_services_extension_module", spy)
    clear_model_cache()
    model, data, _ = toy
    density = backend.log_density(model, data, include_prior=True)
    assert calls == []
    assert density.info["compile_seconds"] == 0.0
    _, _, seconds = backend.build_model(TOY, stan_program.stan_data(model, data, False), seed=3)
    assert calls == [] and seconds == 0.0


def test_nothing_is_written_to_the_working_directory(
    backend: PystanBackend, toy: tuple, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clear_model_cache()
    model, data, _ = toy
    density = backend.log_density(model, data, include_prior=False)
    density.value_and_grad(np.zeros(density.dim), False)
    backend.sample(model, data, chains=1, draws=10, warmup=10, seed=1)
    assert list(tmp_path.iterdir()) == []
    assert Path.cwd() == tmp_path


def test_quiet_by_default_and_verbose_on_request(
    backend: PystanBackend, toy: tuple, capfd
) -> None:
    model, data, _ = toy
    sdata = stan_program.stan_data(model, data, True)
    kw = {"chains": 1, "draws": 10, "warmup": 10, "seed": 2}
    capfd.readouterr()
    clear_model_cache()
    backend.build_model(TOY, sdata)
    backend.sample(model, data, **kw)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")

    clear_model_cache()
    backend.build_model(TOY, sdata, verbose=True)
    out, err = capfd.readouterr()
    assert "Building" in out
    assert "found in cache" in out + err

    backend.sample(model, data, progress=True, **kw)
    out, err = capfd.readouterr()
    assert out == "" and "Sampling" in err

    backend.sample(model, data, verbose=True, **kw)
    out, err = capfd.readouterr()
    assert "Sampling" in err and "Gradient evaluation took" in err


def test_compilation_and_data_errors(backend: PystanBackend, toy: tuple, tmp_path: Path) -> None:
    bad = tmp_path / "bad.stan"
    bad.write_text("parameters { real x } model { x ~ normal(0, 1); }\n")
    with pytest.raises(CompilationError, match=r"bad\.stan") as info:
        backend.build_model(bad, {})
    assert "Syntax error" in str(info.value)
    model, _, _ = toy
    data = model.prepare(toy_data(k=31))  # k > n violates the data block
    with pytest.raises(DataError, match="k"):
        backend.log_density(model, data, include_prior=True)


def test_two_processes_compile_a_new_program_once(tmp_path: Path) -> None:
    """Two processes compile the same new program at once: the file lock makes one compile
    and the other reuse it; neither writes into its working directory."""
    program = tmp_path / "unique.stan"
    program.write_text(
        f"// {uuid.uuid4()}\n"
        "data { int<lower=0, upper=1> include_prior; }\n"
        "parameters { real<lower=0> x; }\n"
        "model { target += exponential_lpdf(x | 2); }\n"
    )
    script = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        from pystats.backends.pystan import PystanBackend
        model, prog, seconds = PystanBackend().build_model(Path(sys.argv[1]), {"include_prior": 1})
        print(json.dumps({"seconds": seconds, "name": model.model_name}))
        """
    )
    env = {**os.environ, "PYSTATS_CACHE_DIR": str(tmp_path / "cache")}
    procs = []
    for i in range(2):
        cwd = tmp_path / f"cwd{i}"
        cwd.mkdir()
        procs.append(subprocess.Popen(
            [sys.executable, "-c", script, str(program)], cwd=cwd, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
        assert err == ""
        results.append(json.loads(out.strip().splitlines()[-1]))
    seconds = sorted(r["seconds"] for r in results)
    assert seconds[0] == 0.0 and seconds[1] > 0.0
    assert results[0]["name"] == results[1]["name"]
    modules = list((tmp_path / "cache").glob("httpstan-*/models/*/stan_services_*"))
    assert len(modules) == 1
    assert list((tmp_path / "cwd0").iterdir()) == [] and list((tmp_path / "cwd1").iterdir()) == []


# ---------------------------------------------------------------------------- availability
def test_engines_are_imported_lazily(tmp_path: Path) -> None:
    probe = (
        "import sys, pystats.backends, pystats.backends.pystan, pystats.backends.cmdstan\n"
        "print(sorted(m for m in ('stan', 'httpstan', 'cmdstanpy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.stdout.strip() == "[]", done.stderr[-2000:]


def test_shadowed_stan_module_is_reported(tmp_path: Path) -> None:
    """A folder 'stan' with an __init__.py on sys.path (the source tree's stan/ when Python
    runs from the repository root) hides pystan's 'stan'; the error says so."""
    probe = (
        "from pystats.backends.pystan import PystanBackend\n"
        "from pystats.errors import BackendUnavailableError\n"
        "try:\n"
        "    PystanBackend.check_available()\n"
        "except BackendUnavailableError as e:\n"
        "    print('shadows' in str(e) and isinstance(e.__cause__, ImportError))\n"
    )
    (tmp_path / "stan").mkdir()
    (tmp_path / "stan" / "__init__.py").write_text("")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, env=dict(os.environ))
    assert done.stdout.strip() == "True", done.stderr[-2000:]


def test_unavailable_pystan_is_reported_with_its_cause(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "stan", None)
    with pytest.raises(BackendUnavailableError, match="pystan") as info:
        PystanBackend.check_available()
    assert isinstance(info.value.__cause__, ImportError)


def test_missing_pkg_resources_names_the_fix(monkeypatch) -> None:
    for name in [n for n in sys.modules if n == "stan" or n.startswith("stan.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pkg_resources", None)
    with pytest.raises(BackendUnavailableError, match="setuptools<81") as info:
        PystanBackend.check_available()
    assert isinstance(info.value.__cause__, ImportError)


def test_unavailable_cmdstan_is_reported_with_its_cause(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "cmdstanpy", None)
    monkeypatch.delenv("CMDSTAN", raising=False)
    with pytest.raises(BackendUnavailableError, match="cmdstanpy") as info:
        CmdStanBackend.check_available()
    assert isinstance(info.value.__cause__, ImportError)
    assert cmdstan_path_or_none() is None
    monkeypatch.setenv("CMDSTAN", str(tmp_path / "missing"))
    assert cmdstan_path_or_none() is None
    monkeypatch.setenv("CMDSTAN", str(tmp_path))  # a folder, but cmdstanpy is missing
    assert cmdstan_path_or_none() is None


# ---------------------------------------------------------------------------- stan_cache
def test_stan_cache_module_holds_the_cache_only() -> None:
    """Cache location and locks in stan_cache; programs, data and layouts in stan_program
    (still importable from stan_cache for older code)."""
    assert sorted(stan_cache.__all__) == ["CACHE_ENV", "cache_dir", "file_lock"]
    source = Path(stan_cache.__file__).read_text()
    assert "def load_program" not in source and "def stan_order" not in source
    assert stan_cache.load_program is stan_program.load_program
    from pystats.backends.stan_cache import StanProgram

    assert StanProgram is stan_program.StanProgram
    with pytest.raises(AttributeError, match="no_such_name"):
        stan_cache.no_such_name  # noqa: B018


def test_cache_dir_honours_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYSTATS_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    assert (tmp_path / "c").is_dir()


def test_load_program_expands_includes_and_hashes_them(tmp_path: Path) -> None:
    (tmp_path / "lib.stanfunctions").write_text("functions { real f(real x) { return x; } }\n")
    (tmp_path / "p.stan").write_text('#include "lib.stanfunctions"\nparameters { real x; }\n')
    p1 = load_program(tmp_path / "p.stan")
    assert "real f(real x)" in p1.code and "#include" not in p1.code
    assert load_program(str(tmp_path / "p.stan")) == p1  # absolute str: a file path
    assert p1.includes == ("lib.stanfunctions",) and p1.name == "p.stan"
    (tmp_path / "lib.stanfunctions").write_text("functions { real f(real x) { return 2 * x; } }\n")
    p2 = load_program(tmp_path / "p.stan")
    assert p2.source_hash != p1.source_hash and p2.hash != p1.hash
    a = load_program(tmp_path / "p.stan", engine="pystan", engine_version="4.13.0")
    b = load_program(tmp_path / "p.stan", engine="cmdstan", engine_version="2.36")
    c = load_program(tmp_path / "p.stan", engine="cmdstan", engine_version="2.36",
                     compiler_options={"cpp": {"O": 3}})
    assert len({a.hash, b.hash, c.hash, p2.hash}) == 4
    assert a.source_hash == b.source_hash == c.source_hash == p2.source_hash
    assert a.for_engine("cmdstan", "2.36").hash == b.hash


def test_load_program_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="does not exist"):
        load_program(tmp_path / "nope.stan")
    with pytest.raises(OptionError, match="not in the package"):
        load_program("no_such_program.stan")
    (tmp_path / "a.stan").write_text("#include b.stan\n")
    with pytest.raises(CompilationError, match="not found"):
        load_program(tmp_path / "a.stan")
    (tmp_path / "b.stan").write_text("#include a.stan\n")
    with pytest.raises(CompilationError, match="cycle"):
        load_program(tmp_path / "a.stan")


def test_file_lock_excludes_other_processes(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYSTATS_CACHE_DIR", str(tmp_path))
    path = tmp_path / "locks" / "some_key.lock"  # '/' is not allowed in a lock name
    probe = (
        "import sys, filelock\n"
        "try:\n"
        f"    filelock.FileLock({str(path)!r}, timeout=0.2).acquire()\n"
        "except filelock.Timeout:\n"
        "    sys.exit(3)\n"
    )
    with file_lock("some/key"):
        held = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path)
    free = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path)
    assert (held.returncode, free.returncode) == (3, 0)


# ---------------------------------------------------------------------------- CmdStan engine
class PystanBackedCmdStanModel:
    """Stands in for cmdstanpy.CmdStanModel.log_prob using pystan's compiled toy program:
    constrained parameters in, ``lp__`` and the gradient in *Stan's* order out."""

    def __init__(self, density: PystanLogDensity) -> None:
        self.density = density
        self.calls: list[dict] = []

    def log_prob(self, params: dict, data: dict, *, jacobian: bool, sig_figs: int) -> pd.DataFrame:
        self.calls.append({"params": params, "data": data, "sig_figs": sig_figs})
        d = self.density
        u = d.params.unconstrain({k: np.asarray(v) for k, v in params.items()})
        value, grad = d.value_and_grad(u, jacobian)
        if value == -math.inf:
            raise RuntimeError("Method 'log_prob' failed with return code 70")
        grad_stan = np.empty_like(grad)
        grad_stan[d.stan_index] = grad
        return pd.DataFrame([[value, *grad_stan]],
                            columns=["lp__", *[f"g_{i}" for i in range(grad.size)]])


def test_cmdstan_log_density_conversion(posterior_density: PystanLogDensity, toy: tuple) -> None:
    model, data, _ = toy
    params = posterior_density.params
    fake = PystanBackedCmdStanModel(posterior_density)
    index = stan_order(params, parameter_layout(load_program(TOY).code))
    sdata = stan_program.stan_data(model, data, True)
    density = CmdStanLogDensity(fake, params, sdata, index)
    for u in random_points(params, 3, seed=5):
        for jacobian in (True, False):
            v1, g1 = posterior_density.value_and_grad(u, jacobian)
            v2, g2 = density.value_and_grad(u, jacobian)
            assert v2 == pytest.approx(v1, rel=1e-9)
            np.testing.assert_allclose(g2, g1, rtol=1e-7, atol=1e-9)
    call = fake.calls[-1]
    assert call["sig_figs"] == 18 and call["data"]["include_prior"] == 1
    assert np.shape(call["params"]["theta"]) == (2, 3) and isinstance(call["params"]["mu"], float)
    u = np.zeros(params.dim)
    u[0] = 60.0
    assert density.value_and_grad(u, True)[0] == -math.inf
    u[0], u[2] = 0.0, 800.0  # w = inv_logit(800) rounds to its upper bound 1
    assert density.value_and_grad(u, True)[0] == -math.inf


class FakeCmdStanMCMC:
    """cmdstanpy's documented layouts: stan_variables() concatenates the chains (chain 1
    first), method_variables() is (draws, chains)."""

    def __init__(self, chains: int, draws: int) -> None:
        chain = np.repeat(np.arange(chains), draws).astype(float)
        draw = np.tile(np.arange(draws), chains).astype(float)
        self.code = 1000 * chain + draw
        self.shape = (chains, draws)

    def stan_variables(self) -> dict[str, np.ndarray]:
        theta = self.code[:, None, None] + np.arange(6).reshape(2, 3) / 10
        return {"mu": self.code.copy(), "theta": theta}

    def method_variables(self) -> dict[str, np.ndarray]:
        chains, draws = self.shape
        by_draw = self.code.reshape(chains, draws).T
        return {k: by_draw.copy() for k in stan_program.STAN_SAMPLE_STATS}


def test_cmdstan_draws_conversion() -> None:
    result = mcmc_to_sample_result(FakeCmdStanMCMC(3, 5), 3, 5)
    expected = 1000 * np.arange(3)[:, None] + np.arange(5)[None, :]
    np.testing.assert_array_equal(result.draws["mu"], expected)
    theta = 1004 + np.arange(6).reshape(2, 3) / 10
    np.testing.assert_array_equal(result.draws["theta"][1, 4], theta)
    np.testing.assert_array_equal(result.sample_stats["energy"], expected)
    assert result.sample_stats["diverging"].dtype == bool


@pytest.fixture(scope="session")
def cmdstan_backend() -> CmdStanBackend:
    CmdStanBackend.check_available()
    return CmdStanBackend()


@pytest.mark.cmdstan
def test_cmdstan_compiles_into_the_cache(
    cmdstan_backend: CmdStanBackend, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    model, prog, _ = cmdstan_backend.compiled_model(TOY)
    exe = Path(model.exe_file)
    assert exe.parent == cache_dir() / "cmdstan" / prog.hash
    assert not list(STAN_DIR.glob("toy_normal")) and list(tmp_path.iterdir()) == []
    again, _, seconds = cmdstan_backend.compiled_model(TOY)
    assert seconds == 0.0 and Path(again.exe_file) == exe


@pytest.mark.cmdstan
def test_cmdstan_log_density_matches_pystan(
    cmdstan_backend: CmdStanBackend, posterior_density: PystanLogDensity, toy: tuple
) -> None:
    model, data, _ = toy
    density = cmdstan_backend.log_density(model, data, include_prior=True)
    for u in random_points(density.params, 2, seed=7):
        for jacobian in (True, False):
            v1, g1 = posterior_density.value_and_grad(u, jacobian)
            v2, g2 = density.value_and_grad(u, jacobian)
            assert v2 == pytest.approx(v1, rel=1e-8)
            np.testing.assert_allclose(g2, g1, rtol=1e-6, atol=1e-8)
    u = np.zeros(density.dim)
    u[0] = 60.0
    assert density.value(u, True) == -math.inf


@pytest.mark.cmdstan
def test_cmdstan_batch_values_match_pystan(
    cmdstan_backend: CmdStanBackend, posterior_density: PystanLogDensity, toy: tuple
) -> None:
    """All rows in one CmdStan log_prob run (any params_r order the CmdStan version reads),
    a rejected row isolated as -inf."""
    model, data, _ = toy
    density = cmdstan_backend.log_density(model, data, include_prior=True)
    us = random_points(density.params, 40, seed=8)
    us[[3, 31], 0] = 60.0  # mu >= mu_max: the program rejects
    for jacobian in (True, False):
        expected = [posterior_density.value(u, jacobian) for u in us]
        np.testing.assert_allclose(density.values(us, jacobian), expected, rtol=1e-8)


@pytest.mark.cmdstan
def test_cmdstan_nuts_recovers_conjugate_posterior(
    cmdstan_backend: CmdStanBackend, toy: tuple, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    model, data, raw = toy
    result = cmdstan_backend.sample(model, data, chains=4, draws=1000, warmup=1000, seed=11)
    a, b = 2 + raw["k"], 2 + raw["n"] - raw["k"]
    assert abs(result.draws["w"].mean() - a / (a + b)) < 3 * _mcse(result.draws["w"])
    np.testing.assert_array_equal(result.draws["mu_twice"], 2 * result.draws["mu"])
    assert result.draws["m"].shape == (4, 1000, 2, 2)
    np.testing.assert_array_equal(result.draws["m_copy"], result.draws["m"])
    assert result.sample_stats["diverging"].dtype == bool
    again = cmdstan_backend.sample(model, data, chains=4, draws=1000, warmup=1000, seed=11)
    np.testing.assert_array_equal(again.draws["mu"], result.draws["mu"])
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- cache integrity
def _toy_module_file(density: PystanLogDensity) -> Path:
    import httpstan.cache

    directory = httpstan.cache.model_directory(density.model.model_name)
    (module,) = [p for p in directory.iterdir() if p.name.startswith("stan_services_")]
    return module


def test_model_name_does_not_depend_on_the_interpreter_path(tmp_path: Path) -> None:
    """The CLI (.venv/bin/pystats -> python3) and the API (python) share one compiled module:
    the model name must not hash sys.executable (httpstan's does)."""
    probe = (
        "from pystats.backends.pystan import PystanBackend\n"
        "PystanBackend.check_available()\n"
        "import httpstan.models\n"
        "print(httpstan.models.calculate_model_name('parameters { real x; }'))\n"
    )
    bindir = Path(sys.executable).parent
    paths = {sys.executable, *(str(bindir / n) for n in ("python", "python3")
                               if (bindir / n).exists())}
    assert len(paths) >= 2, paths  # a venv has python and python3 next to each other
    names = set()
    for path in sorted(paths):
        done = subprocess.run([path, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        names.add(done.stdout.strip())
    assert len(names) == 1, names


def test_model_name_is_the_same_for_any_sys_executable(
    posterior_density: PystanLogDensity, monkeypatch
) -> None:
    import httpstan.models

    code = posterior_density.model.program_code
    name = httpstan.models.calculate_model_name(code)
    assert name == posterior_density.model.model_name
    monkeypatch.setattr(sys, "executable", sys.executable + "3")
    assert httpstan.models.calculate_model_name(code) == name
    assert httpstan.models.calculate_model_name(code + "\n") != name


def test_unloadable_module_is_rebuilt(
    backend: PystanBackend, toy: tuple, posterior_density: PystanLogDensity, tmp_path: Path,
    monkeypatch,
) -> None:
    """A cache holding a 0-byte module (what a build killed while linking used to leave) is
    rebuilt instead of failing forever.  The rebuild is simulated by copying the real
    compiled toy module, so no compiler runs."""
    import httpstan.cache
    import httpstan.models

    from pystats.backends import pystan as pystan_engine

    real = _toy_module_file(posterior_density)
    monkeypatch.setenv("PYSTATS_CACHE_DIR", str(tmp_path / "cache"))
    clear_model_cache()
    code = posterior_density.model.program_code
    name = httpstan.models.calculate_model_name(code)
    directory = httpstan.cache.model_directory(name)
    assert directory.is_relative_to(tmp_path / "cache")
    directory.mkdir(parents=True)
    (directory / "stanc.log").write_text("")
    (directory / real.name).write_bytes(b"")  # truncated by the kill
    builds = []

    async def fake_build(program_code: str, extra_compile_args: Any = None) -> str:
        target = httpstan.cache.model_directory(name)  # the staging folder during a build
        builds.append(target)
        (target / real.name).write_bytes(real.read_bytes())
        return "compiled"

    monkeypatch.setitem(pystan_engine._ORIGINAL, "build_services_extension_module", fake_build)
    model, data, _ = toy
    density = backend.log_density(model, data, include_prior=True)
    u = random_points(density.params, 1, seed=11)[0]
    assert density.value(u, True) == pytest.approx(posterior_density.value(u, True), rel=1e-12)
    assert len(builds) == 1 and builds[0] != directory  # built elsewhere, then moved in
    assert (directory / real.name).stat().st_size == real.stat().st_size
    assert (directory / "stderr.log").read_text() == "compiled"
    assert not list((directory.parents[1] / "staging").iterdir())
    clear_model_cache()


def test_sampling_leaves_no_socket_files(
    backend: PystanBackend, toy: tuple, tmp_path: Path, monkeypatch
) -> None:
    """httpstan binds a Unix socket file per sampler run in the temporary directory and never
    removes it (303 of them after one CI run)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    model, data, _ = toy
    before = sorted(tmp_path.glob("httpstan_*.sock"))
    result = backend.sample(model, data, chains=2, draws=10, warmup=10, seed=3)
    assert result.draws["mu"].shape == (2, 10)
    assert sorted(tmp_path.glob("httpstan_*.sock")) == before == []


_KILL_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from pystats.backends.pystan import PystanBackend, _on_stan_thread
    model, prog, seconds = PystanBackend().build_model(Path(sys.argv[1]), {"include_prior": 1})
    fit = _on_stan_thread(model.sample, num_chains=1, num_samples=200, num_warmup=200)
    print(json.dumps({"seconds": seconds, "mean": float(fit["x"].mean())}))
    """
)


@pytest.mark.slow
def test_build_killed_while_linking_leaves_a_usable_cache(tmp_path: Path) -> None:
    """Kill the whole process group of a first build the moment the compiled module appears
    in the cache: the cache must not expose the partial module, no compiler may survive, no
    build folder may stay in the temporary directory, and the next build must work."""
    import signal
    import time

    program = tmp_path / "killed.stan"
    program.write_text(
        f"// {uuid.uuid4()}\n"
        "data { int<lower=0, upper=1> include_prior; }\n"
        "parameters { real<lower=0> x; }\n"
        "model { target += exponential_lpdf(x | 2); }\n"
    )
    cache, tmp = tmp_path / "cache", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "PYSTATS_CACHE_DIR": str(cache), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(program)], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 900
    try:
        while not list(cache.rglob("stan_services_*")):
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no module appeared"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    for _ in range(100):  # every process of the group is gone (no orphaned compiler)
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("a process of the killed build survived")
    assert not list(cache.glob("httpstan-*/models/*/stan_services_*"))
    assert not list(tmp.glob("pystats-build-*"))

    done = subprocess.run([sys.executable, "-c", _KILL_SCRIPT, str(program)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["seconds"] > 0 and 0.2 < result["mean"] < 0.8  # Exp(2): mean 0.5
    modules = list(cache.glob("httpstan-*/models/*/stan_services_*"))
    assert len(modules) == 1 and modules[0].stat().st_size > 0
    assert not list(cache.glob("httpstan-*/staging/*"))
    assert not list(tmp.iterdir())


# ---------------------------------------------------------------------------- stanc timeout
def test_stanc_slower_than_httpstans_one_second_limit_still_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, posterior_density: PystanLogDensity
) -> None:
    """httpstan gives stanc 1 s; on a busy machine it takes longer (TAPE_ERROR before)."""
    import httpstan.compile

    from pystats.backends import pystan as engine

    real = engine._stanc_binary()
    slow = tmp_path / "stanc"
    slow.write_text(f'#!/bin/sh\nsleep 1.5\nexec "{real}" "$@"\n')
    slow.chmod(0o755)
    monkeypatch.setattr(engine, "_stanc_binary", lambda: slow)
    code = "parameters { real x; } model { x ~ normal(0, 1); }"
    # the engine's replacement is installed (the fixture built a model through it)
    assert httpstan.compile.compile is engine._stanc
    cpp, _ = httpstan.compile.compile(code, "model_slow_stanc")
    assert "model_slow_stanc" in cpp
    with pytest.raises(ValueError, match="normal"):
        httpstan.compile.compile(code.replace("normal(0, 1)", "normal(0)"), "model_bad")


def test_build_request_has_no_five_minute_limit(posterior_density: PystanLogDensity) -> None:
    """pystan's client kept aiohttp's 5-minute total timeout: a compile slower than that on
    a busy machine failed.  The engine's client has no total limit."""
    import asyncio

    import stan.common

    async def client_timeout() -> object:
        async with stan.common.HttpstanClient() as client:
            return client.session.timeout

    timeout = asyncio.run(client_timeout())
    assert timeout.total is None and timeout.sock_connect == 30
