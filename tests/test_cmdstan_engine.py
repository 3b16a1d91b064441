"""The cmdstanpy engine without a CmdStan install: which engine ``stan``/``auto`` pick, the
``cmdstan`` test marker, and the arguments pystats hands to cmdstanpy (checked with stand-ins
for ``CmdStanModel``).  Tests that need a real CmdStan are in ``test_stan_engines.py``
(marked ``cmdstan``)."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pystats.backends import available_backends, get_backend, resolve_backend
from pystats.backends import cmdstan as cmdstan_engine
from pystats.backends.cmdstan import CmdStanBackend, cmdstan_path_or_none, cmdstan_status
from pystats.backends.stan_cache import STAN_SAMPLE_STATS, load_program
from pystats.errors import BackendUnavailableError, PystatsWarning

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
