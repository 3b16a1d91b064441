"""Optimiser progress on stderr: shown with ``progress=True``, silent otherwise."""

from __future__ import annotations

import re

import numpy as np
import pytest
from toy_models import TorchNormalModel

Normal = TorchNormalModel

Y = np.random.default_rng(4).normal(3.0, 2.0, size=300)


def _lines(err: str) -> list[str]:
    """The states a terminal would show (tqdm redraws a line with carriage returns)."""
    return [s.strip() for s in re.split(r"[\r\n]+", err) if s.strip()]


def test_mle_progress_reports_starts_iterations_and_log_likelihood(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fit = Normal().fit(Y, method="mle", seed=2, n_starts=3, progress=True)
    lines = _lines(capsys.readouterr().err)
    n_run = fit.optimizer["n_starts"]
    for i in range(1, n_run + 1):
        finals = [s for s in lines if s.startswith(f"mle start {i}/3:")]
        assert finals, lines
        n_iter = int(re.search(r": (\d+) iterations", finals[-1]).group(1))
        assert n_iter >= 3  # a 2-parameter normal from a random start takes several steps
        assert re.search(r"log-lik -?\d[\d.e+-]*, \d+ evaluations", finals[-1])
    assert not any(s.startswith(f"mle start {n_run + 1}/3") for s in lines)
    # the best start's last line and the summary line give the maximised log likelihood
    best = f"{fit.optimizer['log_likelihood']:.10g}"
    assert any(f"log-lik {best}," in s for s in lines)
    assert f"mle: {best} at the optimum after {fit.optimizer['n_evaluations']} evaluations" in (
        "\n".join(lines)
    )


def test_laplace_progress_names_the_objective_and_the_draws(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Normal().fit(Y, method="laplace", seed=2, n_starts=2, chains=1, draws=50, progress=True)
    err = "\n".join(_lines(capsys.readouterr().err))
    assert "laplace start 1/2:" in err and "log-post " in err and "log-lik" not in err
    assert "laplace: Pareto-k draws: 50/50" in err


@pytest.mark.parametrize("progress", [False, None])
def test_no_progress_when_off_or_not_a_terminal(
    capsys: pytest.CaptureFixture[str], progress: bool | None
) -> None:
    # progress=None: on only when stderr is a terminal (pytest's captured stream is not)
    for method in ("mle", "laplace"):
        Normal().fit(Y, method=method, seed=2, n_starts=2, draws=50, progress=progress)
    assert capsys.readouterr().err == ""
