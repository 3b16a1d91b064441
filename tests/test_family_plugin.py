"""A family plugs into option validation and the command line by its declarations alone.

``toy_models.ToyExponentialModel`` declares ``options_spec`` and ``cli`` and is defined
outside the package; nothing in ``pystats/cli.py`` names it, yet ``pystats simulate
toyexp`` / ``fit --model toyexp`` / ``predict`` work, its options are refused for other
models (and theirs for it), and its constructor checks its options from the table.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from toy_models import ToyExponentialModel

import pystats
from pystats.cli import EXIT_OK, EXIT_USAGE, _families, build_parser, main
from pystats.errors import OptionError
from pystats.model import registered_families


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("pystats: error:") and "\n" not in err, err
    return err


# ---------------------------------------------------------------------- options from the table
def test_options_are_validated_from_the_declared_table() -> None:
    model = ToyExponentialModel(scale=2)
    assert dict(model.options) == {"mc": None, "scale": 2.0}
    assert type(model.options["scale"]) is float
    with pytest.raises(OptionError, match=r"scale=0 is not allowed; use a finite number > 0"):
        ToyExponentialModel(scale=0)
    with pytest.raises(OptionError, match=r"scale=True is not allowed"):
        ToyExponentialModel(scale=True)
    with pytest.raises(OptionError, match=r"mc='low' is not allowed; use None or a finite"):
        ToyExponentialModel(mc="low")
    with pytest.raises(OptionError, match=r"unknown option\(s\) 'colour' for "
                       r"ToyExponentialModel; allowed options are mc, scale"):
        ToyExponentialModel(colour="red")
    with pytest.raises(OptionError, match=r"mc=-1\.0 is below 0"):  # the cross-field hook
        ToyExponentialModel(mc=-1)


def test_package_families_declare_their_tables() -> None:
    families = registered_families()
    assert [families[f].cli.name for f in ("gutenberg_richter", "etas", "omori_utsu")] == [
        "gr", "etas", "omori"]
    for name in ("gutenberg_richter", "etas", "omori_utsu"):
        cls = families[name]
        assert cls.options_spec is not None
        defaults = {k: o.default for k, o in cls.options_spec.items()}
        # every declared default passes the family's own checks
        options = cls(**({"mc": 2.0} if name == "gutenberg_richter" else {})).options
        assert set(options) == set(defaults)
    # the one registration line exports the class
    assert pystats.GutenbergRichter is families["gutenberg_richter"]


# ---------------------------------------------------------------------- command line
def test_cli_offers_the_toy_family_without_cli_edits() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    help_text = " ".join(commands["fit"].format_help().split())
    assert "toyexp: toy exponential excesses" in help_text
    assert "Toy exponential (--model toyexp)" in help_text and "--max-events" in help_text
    assert "toyexp" in commands["simulate"].format_help()


def test_cli_simulate_fit_predict_round_trip_of_the_toy_family(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cat, fitted, pred = tmp_path / "toy.csv", tmp_path / "toy.nc", tmp_path / "pred.csv"
    beta = 2.3
    assert main(["simulate", "toyexp", "--n", "4000", "--beta", str(beta), "--seed", "4",
                 "-o", str(cat)]) == EXIT_OK
    assert main(["fit", str(cat), "--model", "toyexp", "--mc", "2.0", "--scale", "1",
                 "--max-events", "3000", "-o", str(fitted), "-q"]) == EXIT_OK
    fit = pystats.load(fitted)
    assert isinstance(fit.model, ToyExponentialModel)
    assert dict(fit.model.init_options) == {"mc": 2.0, "scale": 1.0}
    assert fit.data.summary["n"] == 3000  # the data option reached prepare
    m = pd.read_csv(cat)["magnitude"].to_numpy()[:3000]
    assert float(fit.estimate("beta")) == pytest.approx(1.0 / np.mean(m - 2.0), rel=1e-12)
    assert abs(float(fit.estimate("beta")) - beta) < 4 * beta / math.sqrt(3000)
    assert main(["predict", str(fitted), "--quantile", "0.5", "-o", str(pred)]) == EXIT_OK
    median = pd.read_csv(pred)["magnitude"].iloc[0]
    assert median == pytest.approx(2.0 + math.log(2.0) / float(fit.estimate("beta")))
    capsys.readouterr()
    # a predict option of another family is refused for a toy fit, and the toy's for others
    assert main(["predict", str(fitted), "--n-sims", "10"]) == EXIT_USAGE
    owners = " or ".join(f"--model {name}" for name, cls in _families().items()
                         if any(a.flag == "--n-sims" for a in cls.cli.predict))
    assert "--model etas or --model omori" in owners  # the declaring families, in order
    assert (f"--n-sims applies only to fits of {owners}; this is a fit of --model toyexp"
            in _err(capsys))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--model", "gr", "--mc", "2", "--max-events", "3"],
         "--max-events is an option of --model toyexp only, not of --model gr"),
        (["--model", "toyexp", "--kind", "tapered"],
         "--kind is an option of --model gr or --model btime only, not of --model toyexp"),
        (["--model", "toyexp", "--b", "1"],
         "--b is an option of --model etas or --model omori only, not of --model toyexp"),
        (["--model", "toyexp", "--scale", "-1"],
         "scale=-1.0 is not allowed; use a finite number > 0"),
        # --mc is text to gr/etas/omori (mc='maxc'), a number to the toy: converted per family
        (["--model", "toyexp", "--mc", "maxc"], "--mc 'maxc' is not allowed; use a float"),
    ],
)
def test_cli_applicability_and_validation_come_from_the_declarations(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cat = tmp_path / "toy.csv"
    assert main(["simulate", "toyexp", "--beta", "2", "-o", str(cat)]) == EXIT_OK
    capsys.readouterr()
    assert main(["fit", str(cat), *options, "-q"]) == EXIT_USAGE
    assert message in _err(capsys)


def test_a_cli_option_must_set_a_declared_option() -> None:
    from pystats.cli_spec import Argument, CommandLine

    with pytest.raises(TypeError, match=r"declares --window for 'window', which is not in "
                       r"Typo.options_spec \(mc, scale\)"):
        type("Typo", (ToyExponentialModel,), {
            "cli": CommandLine(name="typo", title="Typo", help="typo",
                               fit=(Argument("--window", type=float),)),
        })
    with pytest.raises(TypeError, match=r"--t-end for 't_end'.*data_options \(max_events\)"):
        type("Typo", (ToyExponentialModel,), {
            "cli": CommandLine(name="typo", title="Typo", help="typo",
                               fit=(Argument("--t-end", to="data", type=float),)),
        })
