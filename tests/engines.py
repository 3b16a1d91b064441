"""Shared check of the test suite: the Stan and torch log densities of a model agree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest


def assert_stan_equals_torch(model: Any, data: Any, points: Iterable[np.ndarray], *,
                             include_prior: bool, rel: float, grad_rtol: float) -> None:
    """Value (relative ``rel``) and gradient (``grad_rtol``, also as a fraction of the
    largest component) of the pystan and torch log densities at each unconstrained point,
    without and with the Jacobian."""
    from pystats.backends import get_backend

    torch_d = get_backend("torch").log_density(model, data, include_prior=include_prior)
    stan_d = get_backend("pystan").log_density(model, data, include_prior=include_prior)
    for u in points:
        for jac in (False, True):
            v1, g1 = torch_d.value_and_grad(u, jac)
            v2, g2 = stan_d.value_and_grad(u, jac)
            assert v1 == pytest.approx(v2, rel=rel)
            np.testing.assert_allclose(g1, g2, rtol=grad_rtol,
                                       atol=grad_rtol * np.max(np.abs(g2)))
