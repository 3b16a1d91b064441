"""pytest plugin: scale every covariance the fits report (a mutation for ``test_mutation.py``).

Loaded with ``-p mutation_plugin`` (``tests/`` on ``sys.path``).  When the environment
variable :data:`ENV` is set to a number ``s`` other than 1, the covariances that
``pystats.inference.run`` derives are multiplied by ``s`` at session start, without
touching the package's files:

* the Hessian path: ``pystats.inference._covariance`` (inverse of the negative Hessian),
  whose result is the covariance on the unconstrained scale (the constrained one and the
  Gaussian draws follow from it);
* the closed-form path: the ``closed_form`` method of every family in ``pystats`` that
  defines one (its covariance on the constrained scale).

``s = 2.25`` makes every standard error 50 % too wide, ``s = 0.64`` 20 % too narrow: the
tests of standard errors and coverage must then fail (issue #7).  With ``s = 1`` (or the
variable unset) the plugin does nothing.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import pytest

ENV = "PYSTATS_TEST_COV_SCALE"


def _scale() -> float:
    raw = os.environ.get(ENV, "").strip()
    return float(raw) if raw else 1.0


def _families() -> list[type]:
    """Every subclass of ``pystats.model.Model`` defined in the package."""
    import pystats.etas.model
    import pystats.gr.model  # noqa: F401  (registers the families)
    from pystats.model import Model

    found, todo = [], [Model]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("pystats."):
                found.append(sub)
    return found


def apply(scale: float) -> list[str]:
    """Patch the package so that fits report ``scale`` times their covariance.

    Returns the names of what was patched.
    """
    import pystats.inference as inference

    patched = []
    original = inference._covariance

    @functools.wraps(original)
    def covariance(neg_hessian: Any) -> Any:
        cov, pd, eig = original(neg_hessian)
        return cov * scale, pd, eig

    inference._covariance = covariance
    patched.append("pystats.inference._covariance")

    for cls in _families():
        if "closed_form" not in cls.__dict__:
            continue
        closed = cls.__dict__["closed_form"]

        def closed_form(self: Any, data: Any, _closed: Any = closed) -> Any:
            out = _closed(self, data)
            if out is None:
                return None
            point, cov = out
            return point, cov * scale

        cls.closed_form = functools.wraps(closed)(closed_form)
        patched.append(f"{cls.__module__}.{cls.__qualname__}.closed_form")
    return patched


def pytest_configure(config: pytest.Config) -> None:
    scale = _scale()
    if scale != 1.0:
        config._pystats_cov_mutation = (scale, apply(scale))


def pytest_report_header(config: pytest.Config) -> str:
    mutation = getattr(config, "_pystats_cov_mutation", None)
    if mutation is None:
        return f"covariance mutation: none ({ENV} unset or 1)"
    scale, patched = mutation
    return f"covariance mutation: x{scale:g} on {', '.join(patched)}"
