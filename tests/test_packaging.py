"""Packaging and project-layout checks that keep the README, CI and pyproject in step."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import pystats
from pystats.errors import (
    BackendUnavailableError,
    ConvergenceWarning,
    DataError,
    DataWarning,
    MethodNotSupportedError,
    OptionError,
    PystatsError,
    PystatsWarning,
)

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "pystats").rglob("__init__.py")
    }
    assert found - {"pystats.stan"} <= listed, f"add to pyproject packages: {found - listed}"
    assert "pystats.stan" in listed


def test_stan_programs_are_found_and_stan_is_not_shadowed() -> None:
    from pystats.backends.stan_cache import stan_programs_dir

    on_disk = {p.name for p in (ROOT / "stan").glob("*.stan")}
    found = {p.name for p in stan_programs_dir().iterdir() if p.name.endswith(".stan")}
    assert on_disk == found and "gr_binned.stan" in found
    # a regular package named `stan` at the repository root would shadow pystan
    assert not (ROOT / "stan" / "__init__.py").exists()


@pytest.mark.slow
def test_wheel_ships_the_stan_programs(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys
    import zipfile

    # build from a copy: setuptools writes build/ into the source tree it builds
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("pystats", "stan"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("pystats-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    on_disk = {p.name for p in (ROOT / "stan").glob("*.stan")}
    assert {n.split("/")[-1] for n in names if n.startswith("pystats/stan/")} >= on_disk


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n\s*(python3 -m venv[^\n]+)\n\s*```", readme)
    assert len(commands) == 2, "README must hold exactly two set-up commands"
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
    assert "pystats demo" in commands[0]


def test_error_and_warning_hierarchy() -> None:
    assert issubclass(DataError, PystatsError) and issubclass(DataError, ValueError)
    assert issubclass(OptionError, ValueError)
    assert issubclass(MethodNotSupportedError, NotImplementedError)
    assert issubclass(BackendUnavailableError, RuntimeError)
    assert issubclass(ConvergenceWarning, PystatsWarning) and issubclass(
        DataWarning, PystatsWarning
    )
    assert issubclass(PystatsWarning, UserWarning)


@pytest.mark.parametrize("name", ["PystatsError", "PystatsWarning", "ConvergenceWarning"])
def test_public_names(name: str) -> None:
    assert hasattr(pystats, name)


def test_etas_names_are_public_and_imported_on_first_use() -> None:
    import subprocess
    import sys

    names = ("ETAS", "OmoriUtsu", "branching_ratio", "simulate_etas")
    assert set(names) <= set(pystats.__all__) and set(names) <= set(dir(pystats))
    from pystats.etas.model import ETAS, OmoriUtsu
    from pystats.etas.simulate import branching_ratio, simulate_etas

    assert (pystats.ETAS, pystats.OmoriUtsu) == (ETAS, OmoriUtsu)
    assert pystats.simulate_etas is simulate_etas and pystats.branching_ratio is branching_ratio
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        pystats.nonexistent  # noqa: B018
    # `import pystats` does not load the ETAS modules (it stays as fast as without them)
    code = (
        "import sys, pystats; "
        "assert not {'pystats.etas.model', 'pystats.etas.simulate'} & set(sys.modules); "
        "from pystats import *; assert ETAS.family == 'etas'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
