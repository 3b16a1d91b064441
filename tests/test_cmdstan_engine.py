"""The cmdstanpy engine without a CmdStan install: which engine ``stan``/``auto`` pick, the
``cmdstan`` test marker, and the arguments pystats hands to cmdstanpy (checked with stand-ins
for ``CmdStanModel``).  Tests that need a real CmdStan are in ``test_stan_engines.py``
(marked ``cmdstan``)."""

from __future__ import annotations

import logging
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pystats.backends import available_backends, get_backend, resolve_backend
from pystats.backends import cmdstan as cmdstan_engine
from pystats.backends.cmdstan import CmdStanBackend, cmdstan_path_or_none, cmdstan_status
from pystats.backends.stan_program import STAN_SAMPLE_STATS, load_program
from pystats.errors import BackendUnavailableError, OptionError, PystatsWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import cmdstan_unusable_reason
from test_stan_engines import TOY, ToyModel, toy_data


def fake_cmdstan(folder: Path, version: str = "2.35.0") -> Path:
    """A folder that cmdstanpy accepts as a CmdStan installation (it checks the makefile)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "makefile").write_text(f"CMDSTAN_VERSION := {version}\n")
    return folder


@pytest.fixture
def no_cmdstan(monkeypatch, tmp_path: Path) -> Path:
    """No CMDSTAN and an empty home folder (so cmdstanpy's ~/.cmdstan is empty)."""
    monkeypatch.setenv("CMDSTAN", "")  # restored afterwards even if cmdstanpy sets it
    monkeypatch.delenv("CMDSTAN")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path


# ---------------------------------------------------------------------------- engine choice
@pytest.mark.parametrize("kind", ["missing", "not_cmdstan"])
def test_unusable_cmdstan_falls_back_with_a_warning_naming_it(
    kind: str, no_cmdstan: Path, monkeypatch, caplog
) -> None:
    folder = no_cmdstan / "cmdstan"
    if kind == "not_cmdstan":
        folder.mkdir()  # a folder, but not CmdStan (no makefile)
    monkeypatch.setenv("CMDSTAN", str(folder))
    assert available_backends()["cmdstanpy"] is False
    assert cmdstan_path_or_none() is None
    path, reason = cmdstan_status()
    assert path is None and "CMDSTAN" in reason
    with pytest.raises(BackendUnavailableError, match="CMDSTAN") as info:
        get_backend("cmdstanpy")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    model = ToyModel()
    for backend, method in (("stan", "nuts"), ("auto", "nuts"), ("stan", "laplace")):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="pystats"), pytest.warns(
            PystatsWarning, match="CMDSTAN"
        ):
            assert resolve_backend(method, backend, model) == "pystan"
        assert f"backend={backend!r} chose 'pystan'" in caplog.text


def test_usable_cmdstan_is_chosen_and_logged(no_cmdstan: Path, monkeypatch, caplog) -> None:
    folder = fake_cmdstan(no_cmdstan / "cmdstan-2.35.0")
    monkeypatch.setenv("CMDSTAN", str(folder))
    assert cmdstan_status() == (str(folder), "")
    with caplog.at_level(logging.INFO, logger="pystats"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_backend("nuts", "stan", ToyModel()) == "cmdstanpy"
        assert resolve_backend("nuts", "auto", ToyModel()) == "cmdstanpy"
    assert "backend='stan' chose 'cmdstanpy'" in caplog.text


def test_cmdstan_in_home_is_used_without_cmdstan_set(no_cmdstan: Path, monkeypatch) -> None:
    """cmdstanpy finds ~/.cmdstan/cmdstan-X.Y.Z when CMDSTAN is unset: so do pystats' choice
    and the test marker."""
    fake_cmdstan(no_cmdstan / "home" / ".cmdstan" / "cmdstan-2.35.0")
    assert cmdstan_status()[0] is not None
    assert cmdstan_unusable_reason() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_backend("nuts", "stan", ToyModel()) == "cmdstanpy"


def test_nothing_set_and_nothing_installed_chooses_pystan_quietly(no_cmdstan: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_backend("nuts", "auto", ToyModel()) == "pystan"
    assert "CmdStan" in cmdstan_unusable_reason()


# ---------------------------------------------------------------------------- test marker
def test_marker_rule_follows_the_engine(no_cmdstan: Path, monkeypatch) -> None:
    folder = fake_cmdstan(no_cmdstan / "cmdstan-2.35.0")
    monkeypatch.setenv("CMDSTAN", str(folder))
    assert cmdstan_unusable_reason() is None
    monkeypatch.setenv("CMDSTAN", str(no_cmdstan))  # set, but not CmdStan
    assert "not a CmdStan installation" in cmdstan_unusable_reason()
    monkeypatch.setenv("CMDSTAN", str(folder))
    monkeypatch.setitem(sys.modules, "cmdstanpy", None)  # set, but cmdstanpy is missing
    assert "cmdstanpy" in cmdstan_unusable_reason()


# ---------------------------------------------------------------------------- sample arguments
class RecordingCmdStanModel:
    """Stands in for a compiled ``cmdstanpy.CmdStanModel``: records ``sample``'s arguments and
    returns draws in cmdstanpy's documented layouts."""

    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}

    def sample(self, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        return FakeMCMC(kwargs["chains"], kwargs["iter_sampling"])


class FakeMCMC:
    """cmdstanpy's layouts with made-up values; the conversion of real CmdStan output
    (values, chains, column-major arrays, sampler columns) is checked on the fixture in
    ``tests/data/cmdstan/`` by ``test_cmdstan_output.py``."""

    def __init__(self, chains: int, draws: int) -> None:
        self.chains, self.draws = chains, draws

    def stan_variables(self) -> dict[str, np.ndarray]:
        n = self.chains * self.draws
        return {"mu": np.linspace(0.0, 1.0, n), "theta": np.zeros((n, 2, 3))}

    def method_variables(self) -> dict[str, np.ndarray]:
        return {k: np.ones((self.draws, self.chains)) for k in STAN_SAMPLE_STATS}


def test_sample_asks_cmdstan_for_full_precision(monkeypatch) -> None:
    """CmdStan writes 6 significant digits unless told otherwise (sig_figs)."""
    model = ToyModel()
    data = model.prepare(toy_data())
    fake = RecordingCmdStanModel()
    prog = load_program(TOY)
    monkeypatch.setattr(
        CmdStanBackend, "_setup",
        lambda self, m, d, include_prior, verbose: (
            fake, prog, 0.0, m.parameters(d), {}, {"engine": "cmdstanpy"}),
    )
    result = CmdStanBackend().sample(model, data, chains=2, draws=5, warmup=5, seed=4)
    assert fake.kwargs["sig_figs"] == cmdstan_engine.SIG_FIGS == 18
    assert fake.kwargs["seed"] == 4 and fake.kwargs["chains"] == 2
    assert result.draws["mu"].shape == (2, 5)


# ---------------------------------------------------------------------------- batch log_prob
FAKE_EXE = '''#!{python}
"""Stands in for a compiled CmdStan program's 'log_prob' method (CmdStan User's Guide,
"Extracting log probabilities and gradients"): reads a 2-d params_r the way the CmdStan
version in $FAKE_CMDSTAN_ORDER does, writes lp__ and the gradient per row, and fails the
whole run (code 70) when a row is rejected (a > 4), like CmdStan."""
import json, os, sys

with open(os.environ["FAKE_CMDSTAN_CALLS"], "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
assert sys.argv[1] == "log_prob"
section, args = "log_prob", {{}}
for token in sys.argv[2:]:
    if "=" in token:
        key, value = token.split("=", 1)
        args[section + "." + key] = value
    else:
        section = token
assert args["output.sig_figs"] == "18", args
x = json.load(open(args["log_prob.unconstrained_params"]))["params_r"]
if os.environ["FAKE_CMDSTAN_ORDER"] == "columns":  # CmdStan <= 2.37: stan-dev/cmdstan#1336
    n, m = len(x), len(x[0])
    values = [x[i][j] for j in range(m) for i in range(n)]  # column-major, as Stan stores
    rows = [values[i * m:(i + 1) * m] for i in range(n)]  # ... split row by row
else:
    rows = x
shift = json.load(open(args["data.file"]))["shift"]
jacobian = args["log_prob.jacobian"] == "1"
with open(args["output.file"], "w") as out:
    out.write("# method = log_prob\\nlp__,g_a,g_b\\n")
    for a, u in rows:
        if a > 4:
            sys.exit(70)
        lp = -0.5 * (a - shift) ** 2 - (u + 0.5) ** 2 + (u if jacobian else 0.0)
        out.write(f"{{lp!r}},{{shift - a!r}},{{-2 * (u + 0.5) + jacobian!r}}\\n")
'''


def fake_lp(u: np.ndarray, jacobian: bool, shift: float = 1.0) -> float:
    a, v = u
    if a > 4:
        return -math.inf
    return -0.5 * (a - shift) ** 2 - (v + 0.5) ** 2 + (v if jacobian else 0.0)


class BatchCmdStanModel:
    """``exe_file`` is the fake executable above; ``log_prob`` is cmdstanpy's single-point
    method (constrained parameters in, one row out)."""

    def __init__(self, exe: Path) -> None:
        self.exe_file = str(exe)
        self.single_calls = 0

    def log_prob(self, params: dict, data: dict, *, jacobian: bool, sig_figs: int) -> Any:
        import pandas as pd

        self.single_calls += 1
        u = np.array([params["a"], math.log(params["b"])])
        lp = fake_lp(u, jacobian, data["shift"])
        if lp == -math.inf:
            raise RuntimeError("Method 'log_prob' failed with return code 70")
        return pd.DataFrame([[lp, 0.0, 0.0]], columns=["lp__", "g_a", "g_b"])


@pytest.mark.parametrize("order", ["columns", "rows"])
def test_values_evaluates_all_draws_in_one_cmdstan_run(
    order: str, tmp_path: Path, monkeypatch
) -> None:
    from pystats.backends.cmdstan import CmdStanLogDensity
    from pystats.parameters import Parameter, ParameterSet

    exe = tmp_path / "fake_model"
    exe.write_text(FAKE_EXE.format(python=sys.executable))
    exe.chmod(0o755)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("FAKE_CMDSTAN_CALLS", str(calls))
    monkeypatch.setenv("FAKE_CMDSTAN_ORDER", order)
    monkeypatch.setattr(cmdstan_engine, "_UPARS_ORDER", {})
    params = ParameterSet([Parameter("a"), Parameter("b", lower=0.0)])
    model = BatchCmdStanModel(exe)
    density = CmdStanLogDensity(model, params, {"shift": 1.0}, np.arange(2),
                                info={"cmdstan_version": "2.35.0"})
    us = np.random.default_rng(3).normal(size=(1000, 2))
    us[[17, 998], 0] = 6.0  # rejected by the program
    us[40, 1] = np.nan
    for jacobian in (True, False):
        expected = np.array([fake_lp(u, jacobian) if np.all(np.isfinite(u)) else -math.inf
                             for u in us])
        got = density.values(us, jacobian)
        np.testing.assert_allclose(got, expected, rtol=1e-13)
        assert got[17] == got[998] == got[40] == -math.inf
    runs = calls.read_text().splitlines()
    # one run per (jacobian, order tried) plus the halvings that isolate the 2 rejected rows,
    # instead of one process per draw; one single-point check per order tried, once
    tried = 1 if order == "columns" else 2
    assert len(runs) <= tried * (1 + 2 * 2 * 10) + (1 + 2 * 2 * 10) < 2000, len(runs)
    assert model.single_calls == tried
    assert cmdstan_engine._UPARS_ORDER == {str(exe): order}
    assert all("sig_figs=18" in r and "unconstrained_params=" in r for r in runs)
    assert "jacobian=1" in runs[0] and "jacobian=0" in runs[-1]
    with pytest.raises(OptionError, match="shape"):
        density.values(us[:, :1], True)


def test_laplace_evaluates_the_pareto_k_draws_in_one_engine_call(monkeypatch) -> None:
    """inference asks the engine for all Pareto-k draws at once (LogDensity.values)."""
    from pystats.backends import base
    from pystats.backends.torch import TorchBackend
    from pystats.gr import distributions as dist
    from pystats.gr.model import GutenbergRichter

    seen: dict[str, int] = {"values": 0, "rows": 0, "value": 0}

    class Counting(TorchBackend):
        name = "counting"

        def log_density(self, *args: Any, **kwargs: Any) -> Any:
            inner = super().log_density(*args, **kwargs)
            real_values, real_value = inner.values, inner.value

            def values(us: np.ndarray, jacobian: bool) -> np.ndarray:
                seen["values"] += 1
                seen["rows"] += len(us)
                return real_values(us, jacobian)

            def value(u: np.ndarray, jacobian: bool) -> float:
                seen["value"] += 1
                return real_value(u, jacobian)

            inner.values, inner.value = values, value
            return inner

    monkeypatch.setitem(base._REGISTRY, "counting", Counting)
    m = dist.simulate_gr(500, 1.0, 2.0, 0.1, rng=5)
    fit = GutenbergRichter(mc=2.0).fit(m, method="laplace", backend="counting", seed=1,
                                       chains=1, draws=1200)
    assert seen["values"] == 1 and seen["rows"] == 1000
    assert math.isfinite(fit.optimizer["pareto_k"])
