"""The ``pystats`` command line: help, exit codes, one-line errors and a full round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.cli import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, main

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
    # (the mean over the fit's draws of 10^(-b), which is exact; the point value is within
    # the Jensen term (ln 10 se)^2 / 2 < 1 % of it)
    expected = 10 ** (-b * (3.0 - 2.0))
    draws_b = np.asarray(pystats.load(fitted).variable("b"), dtype=float)
    assert pred.loc[0, "p_exceed"] == pytest.approx(np.mean(10 ** -draws_b), rel=1e-9)
    assert pred.loc[0, "p_exceed"] == pytest.approx(expected, rel=0.01)
    report2 = tmp_path / "again.html"
    assert main(["report", str(fitted), "-o", str(report2)]) == EXIT_OK
    again = report2.read_text()
    assert again.count("data:image/png") == report.read_text().count("data:image/png") >= 1
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
    assert "--missing-magnitude" in capsys.readouterr().err
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


# ---------------------------------------------------------------------- ETAS and Omori-Utsu
ETAS_TRUTH = {"mu": 0.4, "K": 0.02, "c": 0.01, "alpha": 1.5, "p": 1.2}


def test_simulate_etas_help_lists_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "etas", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(f"--{k}" in out for k in (*ETAS_TRUTH, "m-ref", "mc", "b", "t-end", "seed"))


def test_quiet_before_the_subcommand_is_kept() -> None:
    from pystats.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["-q", "report", "f.nc", "-o", "r.html"]).quiet
    assert parser.parse_args(["report", "f.nc", "-o", "r.html", "-q"]).quiet
    assert not parser.parse_args(["simulate", "etas", "-o", "x.csv"]).quiet


def test_simulate_etas_fit_predict_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pystats

    cat = tmp_path / "etas.csv"
    args = [f"--{k}={v}" for k, v in ETAS_TRUTH.items()]
    assert main(["simulate", "etas", *args, "--mc", "3.0", "--b", "1.0", "--t-end", "500",
                 "--seed", "3", "-o", str(cat)]) == EXIT_OK
    assert "simulated ETAS events" in capsys.readouterr().out
    catalog = pystats.read_catalog(cat)  # the CSV is a catalog pystats reads
    n = len(catalog)
    assert 200 < n < 800 and np.all(np.diff(catalog.times) > 0)
    frame = pd.read_csv(cat)
    assert list(frame.columns) == ["time", "magnitude", "generation", "parent"]
    assert frame["magnitude"].min() >= 3.0 - 1e-9 and frame["time"].max() <= 500
    # magnitudes on the 0.1 grid (--delta-m default), as recorded catalogs
    np.testing.assert_allclose(frame["magnitude"] * 10, np.round(frame["magnitude"] * 10),
                               atol=1e-6)

    fitted, summary = tmp_path / "etas.nc", tmp_path / "etas_summary.csv"
    assert main(["fit", str(cat), "--model", "etas", "--mc", "3.0", "--t-start", "0",
                 "--t-end", "500", "--seed", "1", "-q", "-o", str(fitted),
                 "--summary-csv", str(summary)]) == EXIT_OK
    assert "ETAS results" in capsys.readouterr().out
    table = pd.read_csv(summary, index_col=0)
    for name, truth in ETAS_TRUTH.items():
        est, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert abs(est - truth) < 3 * se, (name, est, se)
    assert 0 < table.loc["branching_ratio", "estimate"] < 1

    out_csv = tmp_path / "etas_pred.csv"
    assert main(["predict", str(fitted), "--t1", "500", "--t2", "510", "--magnitudes", "3",
                 "4", "--n-sims", "100", "--seed", "2", "-o", str(out_csv)]) == EXIT_OK
    assert "[500, 510]" in capsys.readouterr().out
    pred = pd.read_csv(out_csv)
    assert list(pred["magnitude"]) == [3.0, 4.0]
    # at least the background: mu * 10 days events with M >= 3
    assert pred.loc[0, "mean"] > 0.5 * ETAS_TRUTH["mu"] * 10
    assert pred.loc[1, "mean"] < pred.loc[0, "mean"]
    for bad in (["--seed", "-1"], ["--n-sims", "0"]):
        assert main(["predict", str(fitted), "--t1", "500", *bad]) == EXIT_USAGE
        assert f"{bad[0][2:].replace('-', '_')}={bad[1]} is not allowed" in \
            _one_line_error(capsys)


def test_fit_omori_with_a_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pystats.etas.simulate import simulate_omori

    times = simulate_omori(50.0, 0.05, 1.1, 0.0, 30.0, rng=4)
    cat = tmp_path / "omori.csv"
    pd.DataFrame({"time": times, "magnitude": 3.0}).to_csv(cat, index=False)
    fitted = tmp_path / "omori.nc"
    assert main(["fit", str(cat), "--model", "omori", "--t-start", "0", "--t-end", "30",
                 "--seed", "1", "-q", "-o", str(fitted)]) == EXIT_OK
    assert "OmoriUtsu results" in capsys.readouterr().out
    assert main(["predict", str(fitted), "--t2", "31", "--n-sims", "200"]) == EXIT_OK
    assert "[30, 31]" in capsys.readouterr().out
    assert main(["predict", str(fitted), "--m-max", "7"]) == EXIT_USAGE
    assert "--m-max applies only to fits of --model etas" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["simulate", "etas", "--K", "-1"], ["K=-1.0"]),
        (["simulate", "etas", "--c", "0"], ["c=0.0"]),
        (["simulate", "etas", "--b", "0"], ["b=0.0"]),
        (["simulate", "etas", "--delta-m", "-0.1"], ["delta_m=-0.1"]),
        (["simulate", "etas", "--t-end", "-5"], ["t_end=-5.0"]),
        (["simulate", "etas", "--K", "1"], ["branching ratio", "--allow-supercritical"]),
    ],
)
def test_simulate_etas_bad_values_name_the_field(
    argv: list[str], names: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    assert main([*argv, "-o", str(out)]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("pystats: error:") and "\n" not in err
    assert all(n in err for n in names), err
    assert not out.exists()


@pytest.fixture()
def small_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    main(["simulate", "etas", "--t-end", "200", "--seed", "1", "-o", str(path)])
    return path


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (["--model", "etas", "--kind", "tapered"], ["--kind", "--model gr", "--model etas"]),
        (["--model", "etas", "--estimator", "aki"], ["--estimator"]),
        (["--model", "gr", "--t-start", "1"], ["--t-start", "--model etas"]),
        (["--model", "gr", "--mu", "0"], ["--mu"]),
        (["--model", "omori", "--reference-magnitude", "5"], ["--reference-magnitude"]),
        (["--model", "etas", "--background"], ["--background", "--model omori"]),
        (["--model", "etas", "--mc", "maxc"], ["mc='maxc'"]),
        (["--model", "etas", "--fix", "alpha"], ["--fix", "NAME=VALUE"]),
        (["--model", "etas", "--fix", "beta=1"], ["beta"]),
        (["--model", "etas", "--mu", "-1"], ["mu=-1.0"]),
        (["--model", "etas", "--t-start", "10", "--t-end", "5"], ["t_start=10.0"]),
        (["--model", "etas", "--t-start", "2020-01-01"], ["t_start='2020-01-01'"]),
        (["--model", "omori", "--main-shock-time", "500"], ["main shock"]),
    ],
)
def test_fit_bad_model_options_name_the_field(
    options: list[str], names: list[str], small_catalog: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["fit", str(small_catalog), *options, "-q"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("pystats: error:") and "\n" not in err
    assert all(n in err for n in names), err


def test_predict_refuses_options_of_another_family(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cat = tmp_path / "gr.csv"
    main(["simulate", "gr", "-n", "500", "--seed", "1", "-o", str(cat)])
    fitted = tmp_path / "gr.nc"
    assert main(["fit", str(cat), "--mc", "2.0", "--seed", "1", "-o", str(fitted)]) == EXIT_OK
    capsys.readouterr()
    for option in (["--t1", "5"], ["--n-sims", "10"], ["--m-max", "7"]):
        assert main(["predict", str(fitted), *option]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert f"{option[0]} applies only to fits of --model etas" in err
        assert "this is a fit of --model gr" in err


# ---------------------------------------------------------------------- bad input, one line
def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("pystats: error:") and "\n" not in err, err
    return err


@pytest.fixture()
def gr_csv(tmp_path: Path) -> Path:
    path = tmp_path / "gr.csv"
    assert main(["simulate", "gr", "-n", "400", "--seed", "2", "-o", str(path)]) == EXIT_OK
    return path


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_bad_seed_is_one_line_exit_2(
    seed: str, gr_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    for argv in (["fit", str(gr_csv), "--mc", "2.0"], ["simulate", "gr", "-o",
                                                       str(tmp_path / "x.csv")],
                 ["simulate", "etas", "-o", str(tmp_path / "y.csv")]):
        assert main([*argv, "--seed", seed]) == EXIT_USAGE
        assert f"seed={seed} is not allowed" in _one_line_error(capsys)
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()


def test_non_integer_seed_is_an_argparse_error(gr_csv: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(gr_csv), "--seed", "1.5"])
    assert exc.value.code == EXIT_USAGE


@pytest.mark.parametrize("n", ["0", "-3"])
def test_simulate_needs_at_least_one_event(
    n: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    for model in ("gr", "tapered", "detection"):
        assert main(["simulate", model, "-n", n, "-o", str(out)]) == EXIT_USAGE
        assert f"n={n} is not allowed; use an integer >= 1" in _one_line_error(capsys)
    assert not out.exists()


def test_latin1_catalog_suggests_encoding_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin.csv"
    rows = "".join(f"{t},{2.0 + (t % 7) / 10:.1f},Zürich\n" for t in range(1, 60))
    path.write_bytes(("time,magnitude,place\n" + rows).encode("latin-1"))
    assert main(["fit", str(path), "--mc", "2.0"]) == EXIT_USAGE
    err = _one_line_error(capsys)
    assert "not utf-8 text" in err and "--encoding latin-1" in err and "encoding=" not in err
    assert main(["fit", str(path), "--mc", "2.0", "--encoding", "latin-1", "-q"]) == EXIT_OK


@pytest.mark.parametrize(("text", "advice", "option"), [
    ("time;magnitude\n{rows}", "--sep ';'", ["--sep", ";"]),
    ("time\tmagnitude\n{rows}", "--sep '\\t'", ["--sep", "\\t"]),
    ("# my catalogue\ntime,magnitude\n{rows}", "--comment '#'", ["--comment", "#"]),
    ("t_days,mw\n{rows}", "--columns time=<column name>",
     ["--columns", "time=t_days,magnitude=mw"]),
    ("time,magnitude\n95,2.4\n{rows}", "--sort", ["--sort"]),
])
def test_catalog_layout_advice_names_cli_options_that_work(
    text: str, advice: str, option: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sep = "\t" if text.startswith("time\t") else ";" if text.startswith("time;") else ","
    rows = "".join(f"{t}{sep}{2.0 + (t % 7) / 10:.1f}\n" for t in range(10, 80))
    path = tmp_path / "cat.csv"
    path.write_text(text.format(rows=rows))
    assert main(["fit", str(path), "--mc", "2.0"]) == EXIT_USAGE
    err = _one_line_error(capsys)
    assert advice in err, err
    assert main(["fit", str(path), "--mc", "2.0", "-q", *option]) == EXIT_OK


def test_bad_columns_option_names_the_form(
    gr_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["fit", str(gr_csv), "--columns", "time"]) == EXIT_USAGE
    assert "ROLE=NAME" in _one_line_error(capsys)
    assert main(["fit", str(gr_csv), "--columns", "colour=time"]) == EXIT_USAGE
    assert "columns key 'colour' is not allowed" in _one_line_error(capsys)


# ---------------------------------------------------------------------- process-wide state
def test_main_leaves_logging_and_warning_filters_as_they_were(gr_csv: Path) -> None:
    import logging
    import warnings

    root, log = logging.getLogger(), logging.getLogger("pystats")
    before = (list(root.handlers), root.level, list(log.handlers), log.level)
    filters = list(warnings.filters)
    assert main(["-q", "fit", str(gr_csv), "--mc", "2.0"]) == EXIT_OK
    assert main(["fit", str(gr_csv), "--mc", "9.0"]) == EXIT_USAGE  # no events above mc
    assert (list(root.handlers), root.level, list(log.handlers), log.level) == before
    assert list(warnings.filters) == filters


def test_internal_error_exits_1_with_a_report_line(
    gr_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pystats.gr import distributions

    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(distributions, "simulate_gr", broken)
    assert main(["simulate", "gr", "-o", str(gr_csv.with_name("x.csv"))]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err
    assert err.strip().splitlines()[-1].startswith("pystats: internal error (ZeroDivisionError)")


def test_warnings_are_printed_as_pystats_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import warnings

    path = tmp_path / "gaps.csv"
    rows = "".join(f"{t},{2.0 + (t % 7) / 10:.1f}\n" for t in range(1, 80))
    path.write_text("time,magnitude\n" + rows + "80,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["fit", str(path), "--mc", "2.0", "--on-missing", "drop",
                     "--missing-magnitude", "-9"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "pystats: DataWarning: dropped 1 of 80 events" in err, err
    assert "cli.py" not in err and "warn(" not in err
