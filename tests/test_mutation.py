"""Mutation check of the standard-error tests (issue #7).

Runs a small selection of standard-error tests in a subprocess with the covariance of
every fit multiplied by ``s`` (``tests/mutation_plugin.py``, ``PYSTATS_TEST_COV_SCALE``):

* ``s = 1``: the plugin is loaded but changes nothing; every selected test passes;
* ``s = 2.25`` (standard errors 50 % too wide) and ``s = 0.64`` (20 % too narrow): every
  selected test fails.

Before these tests existed, both mutations left 96 of 98 fast ETAS / inference / CLI tests
passing.  Also a script: ``python tests/test_mutation.py [scale ...]`` prints the outcome
of each selected test under each scale.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

SELECTION = (
    "tests/test_standard_errors.py::test_gr_standard_error_is_the_inverse_fisher_information",
    "tests/test_standard_errors.py::test_gr_z_scores_over_1000_replicates",
    "tests/test_standard_errors.py::test_omori_covariance_is_the_finite_difference_information",
    "tests/test_standard_errors.py::test_etas_covariance_is_the_finite_difference_information",
    "tests/test_inference.py::test_mle_equals_closed_form_with_exact_standard_errors",
)
"""Node ids (a parametrised test counts once per case)."""


def run_selection(scale: float) -> dict[str, tuple[str, str]]:
    """Run :data:`SELECTION` with the covariance scaled by ``scale``.

    Returns ``{test id: (outcome, message)}`` from pytest's short summary.
    """
    env = dict(os.environ)
    env["PYSTATS_TEST_COV_SCALE"] = repr(float(scale))
    env["COLUMNS"] = "1000"  # the short summary keeps the failure messages
    env["PYTHONPATH"] = os.pathsep.join(
        [str(TESTS), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    cmd = [sys.executable, "-m", "pytest", "-p", "mutation_plugin", "-p", "no:cacheprovider",
           "-q", "-rA", "--no-header", "-m", "", *SELECTION]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    outcomes = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)(.*)$", line)
        if match:
            outcomes[match.group(2)] = (match.group(1), match.group(3))
    if not outcomes:
        raise AssertionError(f"no test outcome in the output:\n{proc.stdout}\n{proc.stderr}")
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1.0, 2.25, 0.64])
def test_covariance_mutation_fails_the_standard_error_tests(scale: float) -> None:
    outcomes = run_selection(scale)
    # a parametrised selection expands to more ids; each node id above must be present
    for node in SELECTION:
        assert any(k == node or k.startswith(node + "[") for k in outcomes), (node, outcomes)
    results = {outcome for outcome, _ in outcomes.values()}
    if scale == 1.0:
        assert results == {"PASSED"}, outcomes
    else:
        # every test fails, on an assertion (not on an error in the test or the plugin)
        assert results == {"FAILED"}, outcomes
        assert all("assert" in msg.lower() for _, msg in outcomes.values()), outcomes


def main(argv: list[str]) -> int:
    scales = [float(a) for a in argv] or [1.0, 2.25, 0.64]
    for scale in scales:
        outcomes = run_selection(scale)
        print(f"covariance x{scale:g}:")
        for node, (outcome, msg) in sorted(outcomes.items()):
            print(f"  {outcome:7s} {node}{msg[:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
