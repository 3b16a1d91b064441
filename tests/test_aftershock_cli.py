"""Command line of the aftershock-detection family: ``pystats fit --model aftershock`` and
``pystats predict`` on a simulated catalogue (declared by ``AftershockDetection.cli``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from pystats import AftershockDetection
from pystats.aftershock import simulate_detected
from pystats.cli import EXIT_OK, EXIT_USAGE, main

TRUTH = {"K": 0.2, "c": 0.01, "p": 1.1, "beta": 2.3, "sigma": 0.3}
M0 = 6.0


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cat = simulate_detected(*TRUTH.values(), lambda t: 2.2 - 0.3 * np.log(t), M0=M0,
                            t_start=0.01, t_end=1.0, seed=11)
    path = tmp_path_factory.mktemp("aftershock_cli") / "sequence.csv"
    cat[["time", "magnitude"]].to_csv(path, index=False)
    return path


def test_options_are_declared_for_the_command_line() -> None:
    cli = AftershockDetection.cli
    assert cli.name == "aftershock"
    assert {a.target for a in cli.fit if a.to == "option"} <= set(AftershockDetection.options_spec)
    assert [a.flag for a in cli.fit if a.to == "data"] == ["--t-start", "--t-end"]
    assert {"--t1", "--t2"} <= {a.flag for a in cli.predict}


def test_fit_laplace_then_predict(catalogue: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    fitted, summary = tmp_path / "fit.nc", tmp_path / "summary.csv"
    assert main(["fit", str(catalogue), "--model", "aftershock", "--mainshock-magnitude",
                 str(M0), "--mu-prior", "gp", "--n-inducing", "12", "--t-start", "0.01",
                 "--t-end", "1.0", "--method", "laplace", "--seed", "1", "-o", str(fitted),
                 "--summary-csv", str(summary)]) == EXIT_OK
    table = pd.read_csv(summary, index_col=0)
    assert table.loc["p", "mean"] == pytest.approx(TRUTH["p"], abs=0.25)
    assert table.loc["beta", "mean"] == pytest.approx(TRUTH["beta"], rel=0.15)
    capsys.readouterr()
    out = tmp_path / "forecast.csv"
    assert main(["predict", str(fitted), "--t1", "1.0", "--t2", "2.0", "--magnitudes", "3",
                 "4", "--n-sims", "2000", "--seed", "3", "-o", str(out)]) == EXIT_OK
    pred = pd.read_csv(out)
    assert list(pred.columns[:7]) == ["magnitude", "mean", "sd", "median", "lower", "upper",
                                      "p_at_least_one"]
    # the complete-catalogue count of the truth, K e^{-β (m - M0)} ∫ (t + c)^-p dt, lies in
    # the forecast interval (from a fit of one day of detected events)
    omori, _ = integrate.quad(lambda t: (t + TRUTH["c"]) ** -TRUTH["p"], 1.0, 2.0)
    true3 = TRUTH["K"] * math.exp(-TRUTH["beta"] * (3.0 - M0)) * omori
    row = pred.set_index("magnitude").loc[3.0]
    assert row["lower"] <= true3 <= row["upper"]
    # one magnitude unit up: about e^{-beta} as many
    ratio = pred["mean"].iloc[1] / pred["mean"].iloc[0]
    assert ratio == pytest.approx(math.exp(-table.loc["beta", "mean"]), rel=0.1)


def test_bad_command_lines_are_refused(catalogue: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", str(catalogue), "--model", "aftershock", "--method", "map"]) \
        == EXIT_USAGE
    assert "mainshock_magnitude" in capsys.readouterr().err
    assert main(["fit", str(catalogue), "--model", "aftershock", "--mainshock-magnitude",
                 "6.0", "--n-inducing", "2", "--method", "map"]) == EXIT_USAGE
    assert "n_inducing=2" in capsys.readouterr().err
    assert main(["fit", str(catalogue), "--model", "etas", "--mu-prior", "gp"]) == EXIT_USAGE
    assert "--mu-prior" in capsys.readouterr().err
