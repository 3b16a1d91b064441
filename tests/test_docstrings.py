"""Every public class documents itself with an ``Examples`` section, and the README's test
command (``python -m pytest``) runs those examples as doctests (issue #7, point 11)."""

from __future__ import annotations

import ast
import itertools
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pystats"


def _public_classes() -> list[tuple[str, str, str]]:
    """``(module path, class name, docstring)`` of the public classes of public modules."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
            continue  # private module (pystats/etas/_pairs.py, ...)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                out.append((str(rel), node.name, ast.get_docstring(node) or ""))
    return out


def _has_examples(doc: str) -> bool:
    lines = [line.strip() for line in doc.splitlines()]
    return any(
        a == "Examples" and b.startswith("---") and ">>>" in doc
        for a, b in itertools.pairwise(lines)
    )


def test_every_public_class_has_an_examples_section() -> None:
    classes = _public_classes()
    names = {name for _, name, _ in classes}
    # the scan sees the classes users meet first (guards against an empty scan)
    assert {"GutenbergRichter", "ETAS", "OmoriUtsu", "Fit", "Catalog", "Diagnostics",
            "PystatsError"} <= names
    missing = [f"{path}:{name}" for path, name, doc in classes if not _has_examples(doc)]
    assert not missing, "public classes without an Examples section (with >>> lines): " + (
        ", ".join(missing)
    )


def test_default_pytest_run_collects_the_doctests_of_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ini = config["tool"]["pytest"]["ini_options"]
    assert "pystats" in ini["testpaths"] and "tests" in ini["testpaths"]
    assert "--doctest-modules" in shlex.split(ini["addopts"])
    # stan/ (Stan programs, shipped as package data) is never collected as Python
    assert "stan" not in ini["testpaths"]
