"""pystats' conversion of real CmdStan output, without a CmdStan install (issue #7.11).

The fixtures in ``tests/data/cmdstan/`` are Stan CSV files written by CmdStan 2.37 and kept
in cmdstanpy's own test suite (source, commits, licence and Stan programs in the folder's
README).  ``cmdstanpy.from_csv`` reads them into the ``CmdStanMCMC`` object that
``CmdStanModel.sample`` returns, which needs no CmdStan install, and
:func:`pystats.backends.cmdstan.mcmc_to_sample_result` turns that into pystats' draws and
sampler statistics.  Every value is compared with the CSV read independently here (pandas,
exact float parsing): per chain, per draw, per array element in Stan's column-major CSV
order.  (``test_cmdstan_engine.py`` checks the arguments pystats passes to cmdstanpy with
hand-made stand-ins; this module checks what comes back from real output.)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import cmdstanpy  # in the test extra; reading Stan CSV needs no CmdStan install
import numpy as np
import pandas as pd
import pytest

from pystats.backends.base import SampleResult
from pystats.backends.cmdstan import CmdStanBackend, mcmc_to_sample_result
from pystats.backends.stan_program import STAN_SAMPLE_STATS
from pystats.errors import BackendError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_stan_engines import ToyModel, toy_data

DATA = Path(__file__).resolve().parent / "data" / "cmdstan"
LOGISTIC = [DATA / f"logistic_output_{k}.csv" for k in (1, 2, 3, 4)]  # chain ids 1-4
MULTIDIM = DATA / "multidim_vars.csv"
Y_REP_SHAPE = (5, 4, 3)  # array[5, 4, 3] int y_rep in multidim_vars.stan


def read_stan_csv(path: Path) -> tuple[pd.DataFrame, dict[str, float]]:
    """The draws of one Stan CSV file and what its comment blocks say, read without
    cmdstanpy: the adapted step size, ``max_depth`` and the elapsed times."""
    frame = pd.read_csv(path, comment="#")
    text = path.read_text()
    info = {
        "step_size": float(re.search(r"^# Step size = (\S+)$", text, re.M).group(1)),
        "max_depth": float(re.search(r"^#\s+max_depth = (\d+)", text, re.M).group(1)),
        "sampling_seconds": float(re.search(r"^#\s+(\S+) seconds \(Sampling\)$", text,
                                            re.M).group(1)),
    }
    return frame, info


@pytest.fixture(scope="module")
def logistic() -> tuple[SampleResult, list[pd.DataFrame], list[dict[str, float]]]:
    fit = cmdstanpy.from_csv([str(p) for p in LOGISTIC])
    frames, infos = zip(*(read_stan_csv(p) for p in LOGISTIC), strict=True)
    return mcmc_to_sample_result(fit, chains=4, draws=100), list(frames), list(infos)


def test_fixtures_are_complete_stan_csv_files() -> None:
    """Each file holds the config header, the column names, the adaptation block, the
    draws it announces (``num_samples``) and the timing block; the four chains have the
    ids 1-4 and distinct adapted step sizes (which the chain mapping below relies on)."""
    step_sizes = []
    for path in [*LOGISTIC, MULTIDIM]:
        text = path.read_text()
        frame, info = read_stan_csv(path)
        n = int(re.search(r"num_samples = (\d+)", text).group(1))
        assert len(frame) == n and "# Adaptation terminated" in text
        assert "Elapsed Time" in text and info["sampling_seconds"] >= 0
        assert list(frame.columns[:7]) == list(STAN_SAMPLE_STATS)
        step_sizes.append(info["step_size"])
    ids = [int(re.search(r"^# id = (\d+)", p.read_text(), re.M).group(1)) for p in LOGISTIC]
    assert ids == [1, 2, 3, 4]
    assert len(set(step_sizes[:4])) == 4


def test_draws_match_the_csv_chain_by_chain(logistic) -> None:
    result, frames, _ = logistic
    assert set(result.draws) == {"beta"}
    assert result.draws["beta"].shape == (4, 100, 2)
    for chain, frame in enumerate(frames):
        np.testing.assert_array_equal(result.draws["beta"][chain],
                                      frame[["beta.1", "beta.2"]].to_numpy())


def test_sampler_statistics_match_the_csv_chain_by_chain(logistic) -> None:
    """Each Stan column lands under its arviz name, as ``(chain, draw)`` with arviz
    dtypes.  The step size is constant within a chain and equals that chain's adaptation
    block, so mixing up chains and draws (e.g. reshaping cmdstanpy's ``(draw, chain)``
    arrays without transposing) fails here."""
    result, frames, infos = logistic
    stats = result.sample_stats
    assert set(stats) == set(STAN_SAMPLE_STATS.values())
    assert stats["tree_depth"].dtype == np.int64 and stats["n_steps"].dtype == np.int64
    assert stats["diverging"].dtype == bool
    for stan_name, name in STAN_SAMPLE_STATS.items():
        assert stats[name].shape == (4, 100), name
        for chain, frame in enumerate(frames):
            np.testing.assert_array_equal(stats[name][chain], frame[stan_name].to_numpy(),
                                          err_msg=f"{name}, chain {chain + 1}")
    for chain, info in enumerate(infos):
        assert np.all(stats["step_size"][chain] == stats["step_size"][chain, 0])
        assert stats["step_size"][chain, 0] == pytest.approx(info["step_size"], rel=1e-6)
    # what the fixture holds, so that a conversion that loses values cannot pass
    assert stats["tree_depth"].max() == 3 and stats["tree_depth"].min() == 1
    assert int(stats["diverging"].sum()) == 0  # no divergent transition in these runs
    assert stats["tree_depth"].max() < infos[0]["max_depth"]


def test_array_variables_come_back_in_their_natural_shape() -> None:
    """Stan writes ``y_rep[i, j, k]`` as column ``y_rep.i.j.k`` in column-major order
    (first index fastest); pystats' draws hold ``(chain, draw, 5, 4, 3)`` with element
    ``[i-1, j-1, k-1]`` from that column.  The Stan program also gives a check that does
    not depend on the order: ``frac_60`` is the number of ones in ``y_rep``."""
    frame, _ = read_stan_csv(MULTIDIM)
    result = mcmc_to_sample_result(cmdstanpy.from_csv(str(MULTIDIM)), chains=1, draws=20)
    y_rep = result.draws["y_rep"]
    assert y_rep.shape == (1, 20, *Y_REP_SHAPE)
    columns = [c for c in frame.columns if c.startswith("y_rep.")]
    assert columns[:3] == ["y_rep.1.1.1", "y_rep.2.1.1", "y_rep.3.1.1"]  # column-major CSV
    for column in columns:
        i, j, k = (int(s) - 1 for s in column.split(".")[1:])
        np.testing.assert_array_equal(y_rep[0, :, i, j, k], frame[column].to_numpy(),
                                      err_msg=column)
    # C-order flattening of the natural array is the row-major order of the indices
    flat = y_rep[0].reshape(20, -1)
    order = sorted(columns, key=lambda c: tuple(int(s) for s in c.split(".")[1:]))
    np.testing.assert_array_equal(flat, frame[order].to_numpy())
    np.testing.assert_array_equal(result.draws["frac_60"][0], flat.sum(axis=1))
    np.testing.assert_array_equal(result.draws["frac_60"][0], frame["frac_60"].to_numpy())
    np.testing.assert_array_equal(result.draws["beta"][0], frame[["beta.1", "beta.2"]])
    assert result.sample_stats["lp"].shape == (1, 20)


def test_wrong_chain_or_draw_counts_are_refused() -> None:
    fit = cmdstanpy.from_csv([str(p) for p in LOGISTIC])
    with pytest.raises(BackendError, match=r"unexpected shape \(400, 2\) .*'beta'"):
        mcmc_to_sample_result(fit, chains=2, draws=100)
    with pytest.raises(BackendError, match="4 chains x 50 draws"):
        mcmc_to_sample_result(fit, chains=4, draws=50)


class CsvCmdStanModel:
    """Stands in for a compiled ``CmdStanModel`` whose ``sample`` returns the real CmdStan
    output in the fixture (read by ``cmdstanpy.from_csv``), whatever it is asked."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.kwargs: dict = {}

    def sample(self, **kwargs):
        self.kwargs = kwargs
        return cmdstanpy.from_csv([str(p) for p in self.paths])


def test_backend_sample_returns_the_real_output(monkeypatch, logistic) -> None:
    """``CmdStanBackend.sample`` end to end on real output: the draws and statistics of
    the four chains, the tree-depth limit it asked for, and the timing."""
    model = ToyModel()
    data = model.prepare(toy_data())
    fake = CsvCmdStanModel(LOGISTIC)
    monkeypatch.setattr(
        CmdStanBackend, "_setup",
        lambda self, m, d, include_prior, verbose: (
            fake, None, 0.0, m.parameters(d), {}, {"engine": "cmdstanpy"}),
    )
    result = CmdStanBackend().sample(model, data, chains=4, draws=100, warmup=1000, seed=1,
                                     max_tree_depth=10)
    expected, frames, _ = logistic
    assert fake.kwargs["chains"] == 4 and fake.kwargs["iter_sampling"] == 100
    np.testing.assert_array_equal(result.draws["beta"], expected.draws["beta"])
    for name, value in expected.sample_stats.items():
        np.testing.assert_array_equal(result.sample_stats[name], value)
    assert result.max_tree_depth == 10
    assert result.info["engine"] == "cmdstanpy" and result.info["sample_seconds"] >= 0
    np.testing.assert_array_equal(result.sample_stats["lp"][3], frames[3]["lp__"])
