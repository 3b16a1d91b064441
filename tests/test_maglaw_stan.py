"""MagnitudeLaw: the Stan programs (stan/maglaw_*.stan) and the torch likelihood agree at the
same inputs (value and gradient, with and without priors), and every law has its programs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engines import assert_stan_equals_torch

import pystats
from pystats.maglaw.laws import LAWS, simulate

STAN = Path(__file__).resolve().parents[1] / "stan"
CASES = [  # one program per case is compiled (~30 s each, minutes under load): the first
    # holds every branch of maglaw_functions.stan but the continuous density
    ("generalized_gamma", True, 0.1),
    pytest.param("generalized_gamma", False, 0.0, marks=pytest.mark.slow),
    pytest.param("tapered_gr", False, 0.1, marks=pytest.mark.slow),
]


def test_every_law_has_its_stan_programs():
    for law in LAWS:
        for det in (False, True):
            name = pystats.MagnitudeLaw(law=law, detection=det,
                                        **({} if det else {"mc": 2.0})).stan_program()
            assert (STAN / name).is_file(), name


@pytest.mark.parametrize(("law", "detection", "dm"), CASES)
def test_stan_and_torch_log_densities_agree(law, detection, dm):

    truth = {"b": 0.9, "gamma": 0.6, "corner_magnitude": 3.0}
    names = {"generalized_gamma": ("b", "gamma", "corner_magnitude"),
             "tapered_gr": ("b", "corner_magnitude")}[law]
    m = simulate(800, law, 1.95, {k: truth[k] for k in names}, rng=3, delta_m=dm,
                 **({"mu": 2.3, "sigma": 0.2} if detection else {}))
    model = pystats.MagnitudeLaw(law=law, detection=detection, delta_m=dm,
                                 **({} if detection else {"mc": 1.95 + dm / 2}))
    data = model.prepare(m)
    params = model.parameters(data)
    rng = np.random.default_rng(5)
    for prior in (False, True):
        points = [params.unconstrain(model.initial_values(data, rng)) for _ in range(3)]
        if law == "generalized_gamma":  # a steep taper at the top of the corner range:
            # log Gamma(a, x) at x ~ 1e-20, below the panels (closed-form piece)
            steep = {**model.initial_values(data, rng), "gamma": 3.0,
                     "corner_magnitude": float(data.values["corner_upper"]) - 0.1}
            points.append(params.unconstrain(steep))
        assert_stan_equals_torch(model, data, points, include_prior=prior, rel=1e-9,
                                 grad_rtol=1e-7)
