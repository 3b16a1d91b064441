"""The ``pystats`` command line: help, exit codes, one-line errors and a full round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pystats.cli import EXIT_OK, EXIT_USAGE, main

SUBCOMMANDS = ["fit", "predict", "report", "simulate", "demo"]


@pytest.mark.parametrize("sub", [None, *SUBCOMMANDS])
def test_help_on_every_subcommand(sub: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([sub, "--help"] if sub else ["--help"])
    assert exc.value.code == 0
    assert "usage: pystats" in capsys.readouterr().out


def test_entry_point_is_installed() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pystats.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("pystats ")


def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,magnitude\n0.5,2.0\n1.0,nan\n2.0,3.1\n")
    assert main(["fit", str(bad), "--mc", "2.0"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("pystats: error:") and "\n" not in err and "magnitude" in err

    assert main(["fit", str(tmp_path / "missing.csv")]) == EXIT_USAGE
    assert "pystats: error:" in capsys.readouterr().err

    good = tmp_path / "good.csv"
    good.write_text("time,magnitude\n0.5,2.0\n1.0,2.2\n2.0,3.1\n")
    assert main(["fit", str(good), "--mc=2.0", "--kind", "detection"]) == EXIT_USAGE
    assert "pystats: error:" in capsys.readouterr().err


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fit", "x.csv", "--method", "bogus"])
    assert exc.value.code == 2


def test_simulate_fit_predict_report_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cat = tmp_path / "sim.csv"
    assert (
        main(
            [
                "simulate",
                "gr",
                "-n",
                "3000",
                "--b",
                "1.2",
                "--mc",
                "2.0",
                "--seed",
                "5",
                "-o",
                str(cat),
            ]
        )
        == EXIT_OK
    )
    frame = pd.read_csv(cat)
    assert len(frame) == 3000 and frame["magnitude"].min() >= 1.95
    fitted = tmp_path / "fit.nc"
    report = tmp_path / "fit.html"
    summary = tmp_path / "summary.csv"
    assert (
        main(
            [
                "fit",
                str(cat),
                "--mc",
                "2.0",
                "-o",
                str(fitted),
                "--report",
                str(report),
                "--summary-csv",
                str(summary),
                "--seed",
                "1",
            ]
        )
        == EXIT_OK
    )
    table = pd.read_csv(summary, index_col=0)
    b, se = table.loc["b", "estimate"], table.loc["b", "se"]
    assert abs(b - 1.2) < 3 * se
    assert report.read_text().count("data:image/png") >= 1
    out_csv = tmp_path / "pred.csv"
    assert (
        main(
            [
                "predict",
                str(fitted),
                "--magnitudes",
                "3",
                "4",
                "--n-events",
                "100",
                "-o",
                str(out_csv),
            ]
        )
        == EXIT_OK
    )
    pred = pd.read_csv(out_csv)
    # P(M >= 3 | M >= 2) = 10^(-b) for binned magnitudes with bin centres at 2.0, 2.1, ...
    expected = 10 ** (-b * (3.0 - 2.0))
    assert pred.loc[0, "p_exceed"] == pytest.approx(expected, rel=0.05)
    report2 = tmp_path / "again.html"
    assert main(["report", str(fitted), "-o", str(report2)]) == EXIT_OK
    assert report2.exists()
    capsys.readouterr()


def test_demo_with_mle_writes_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--output-dir", str(out), "--method", "laplace", "--n", "1500"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "Predicted exceedances" in printed
    assert (out / "demo_report.html").exists() and (out / "demo_fit.nc").exists()
    sim = pd.read_csv(out / "demo_catalog.csv")
    assert len(sim) == 1500 and np.all(np.diff(sim["time"]) >= 0)


def test_miyagi_needs_the_missing_magnitude_option(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data / "catalogs" / "miyagi2003_aftershocks_sapp.csv"
    assert main(["fit", str(path), "--mc", "maxc"]) == EXIT_USAGE
    assert "missing_magnitude" in capsys.readouterr().err
    assert (
        main(
            [
                "fit",
                str(path),
                "--mc",
                "maxc",
                "--missing-magnitude",
                "0.0",
                "--on-missing",
                "drop",
                "-q",
            ]
        )
        == EXIT_OK
    )
    assert "GutenbergRichter" in capsys.readouterr().out
