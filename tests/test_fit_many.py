"""pystats.fit_many: many fits on dask.distributed, equal to sequential fits with the same seeds.

Clusters here are small (one or two single-threaded workers, threads of this process except
for one test of the default ``LocalCluster`` of worker processes) and closed by fixtures.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import pystats
from pystats.errors import MethodNotSupportedError, OptionError
from pystats.gr.distributions import simulate_gr
from pystats.many import SEQUENTIAL, spawn_seeds

distributed = pytest.importorskip("distributed")

TIMING_COLUMNS = ["wall_seconds", "fit_seconds"]


@pytest.fixture(scope="module")
def client():
    """Two single-threaded workers in this process; closed after the module's tests."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def catalogues() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    return {f"r{i}": simulate_gr(400, b=b, mc=2.0, delta_m=0.1, rng=rng)
            for i, b in enumerate([0.8, 1.0, 1.2, 1.0, 0.9])}


@pytest.fixture(scope="module")
def model() -> pystats.GutenbergRichter:
    return pystats.GutenbergRichter(mc=2.0)


def _same_results(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=TIMING_COLUMNS), b.drop(columns=TIMING_COLUMNS))


def test_seeds_are_spawned_from_the_root_seed():
    expected = [int(s.generate_state(1, dtype=np.uint32)[0]) % (2**31 - 1)
                for s in np.random.SeedSequence(42).spawn(4)]
    assert spawn_seeds(42, 4) == expected
    seeds = spawn_seeds(42, 50)
    assert len(set(seeds)) == 50 and max(seeds) < 2**31 - 1  # pystan takes signed 32-bit seeds


def test_sequential_rows_equal_plain_fits(model, catalogues):
    table, fits = pystats.fit_many(model, catalogues, seed=3, client=SEQUENTIAL,
                                   progress=False, return_fits=True)
    assert list(table["dataset"]) == list(catalogues)
    assert list(table["seed"]) == spawn_seeds(3, len(catalogues))
    assert table.attrs["seed"] == 3 and table.attrs["client"] == SEQUENTIAL
    for row in table.itertuples():
        plain = model.fit(catalogues[row.dataset], seed=row.seed)
        s = plain.summary()
        assert row.b == s.loc["b", "estimate"] and row.b_se == s.loc["b", "se"]
        assert row.b_lower == s.loc["b", "lower"] and row.a_value == s.loc["a_value", "estimate"]
        # the asymptotic-normal draws depend on the seed: same seed, same draws
        np.testing.assert_array_equal(fits[row.dataset].draws["b"], plain.draws["b"])
    assert table["ok"].all() and table["converged"].all() and table["diagnostics_ok"].all()
    assert (table["error_type"] == "").all() and table["r_hat_max"].isna().all()
    # b recovered (0.8, 1.0, 1.2, 1.0, 0.9) within 4 standard errors
    truth = np.array([0.8, 1.0, 1.2, 1.0, 0.9])
    assert np.all(np.abs(table["b"] - truth) < 4 * table["b_se"])


def test_explicit_client_gives_the_sequential_table(model, catalogues, client):
    seq = pystats.fit_many(model, catalogues, seed=9, client=SEQUENTIAL, progress=False)
    par, fits = pystats.fit_many(model, catalogues, seed=9, client=client, progress=False,
                                 return_fits=True)
    _same_results(seq, par)
    assert "Client" in par.attrs["client"]
    plain = model.fit(catalogues["r2"], seed=int(par.loc[2, "seed"]))
    np.testing.assert_array_equal(fits["r2"].draws["b"], plain.draws["b"])
    assert client.status == "running"  # a given client is left open
    assert not client.has_what() or not any(client.has_what().values())  # nothing left on it


def test_a_failing_data_set_is_an_error_row(model, catalogues, client):
    data = list(catalogues.values())
    data.insert(1, np.array([1.0, 1.5, 1.9]))  # nothing at or above mc = 2: DataError
    for where in (SEQUENTIAL, client):
        table, fits = pystats.fit_many(model, data, seed=1, client=where, progress=False,
                                       return_fits=True)
        assert list(table["ok"]) == [True, False, True, True, True, True]
        bad = table.loc[1]
        assert bad["error_type"] == "DataError" and "mc=2" in bad["error_message"]
        assert np.isnan(bad["b"]) and fits[1] is None and not bad["converged"]
        assert table["converged"].dtype == bool and table["diagnostics_ok"].dtype == bool
        assert table.drop(index=1)["b"].notna().all()
        with pytest.raises(pystats.DataError):  # the same error as a plain fit
            model.fit(data[1], seed=int(bad["seed"]))


def test_overrides_and_progress_bar(model, catalogues, capsys):
    keys = list(catalogues)
    table = pystats.fit_many(model, catalogues, seed=2, client=SEQUENTIAL, progress=True,
                             overrides={keys[0]: {"seed": 123}})
    assert table.loc[0, "seed"] == 123
    assert list(table["seed"][1:]) == spawn_seeds(2, len(keys))[1:]
    assert "fit_many" in capsys.readouterr().err
    pystats.fit_many(model, catalogues, seed=2, client=SEQUENTIAL, progress=False)
    assert capsys.readouterr().err == ""


def test_nuts_on_the_cluster_equals_a_plain_pystan_fit(model, catalogues, client, monkeypatch):
    """Stan-backed: the program is compiled (or found) once, in this process, before the fits."""
    from pystats.backends.pystan import PystanBackend

    calls = []
    original = PystanBackend.compile

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PystanBackend, "compile", spy)
    data = {k: catalogues[k] for k in ("r0", "r1", "r2")}
    settings = dict(backend="pystan", chains=2, draws=200, warmup=200)
    table = pystats.fit_many(model, data, method="nuts", seed=4, client=client,
                             progress=False, **settings)
    assert len(calls) == 1
    assert (table["backend"] == "pystan").all() and (table["compile_seconds"] == 0).all()
    assert table["ok"].all() and (table["divergences"] == 0).all()
    assert (table["r_hat_max"] < 1.05).all()
    row = table.loc[1]
    plain = model.fit(data["r1"], method="nuts", seed=int(row["seed"]), **settings)
    s = plain.summary()
    assert row["b"] == s.loc["b", "mean"] and row["b_hdi_upper"] == s.loc["b", "hdi_upper"]
    assert row["r_hat_max"] == pytest.approx(s.loc[["b", "rate"], "r_hat"].max())


def test_default_local_cluster_runs_worker_processes_and_closes(model, catalogues):
    from distributed.deploy.spec import SpecCluster

    data = [catalogues["r0"], catalogues["r1"]]
    seq = pystats.fit_many(model, data, seed=5, client=SEQUENTIAL, progress=False)
    before = set(map(id, SpecCluster._instances))
    table = pystats.fit_many(model, data, seed=5, progress=False)
    _same_results(seq, table)
    assert table.attrs["client"].startswith("LocalCluster(")
    new = [c for c in SpecCluster._instances if id(c) not in before]
    assert all(c.status.name == "closed" for c in new)


def test_arguments_are_checked_before_any_fit(model, catalogues):
    with pytest.raises(OptionError, match="datasets"):
        pystats.fit_many(model, np.zeros(3), client=SEQUENTIAL)
    with pytest.raises(OptionError, match="datasets is empty"):
        pystats.fit_many(model, [], client=SEQUENTIAL)
    with pytest.raises(OptionError, match="client='threads'"):
        pystats.fit_many(model, catalogues, client="threads")
    with pytest.raises(OptionError, match="client=3"):
        pystats.fit_many(model, catalogues, client=3)
    with pytest.raises(OptionError, match="chain"):
        pystats.fit_many(model, catalogues, client=SEQUENTIAL, chain=2)
    with pytest.raises(OptionError, match="overrides"):
        pystats.fit_many(model, catalogues, client=SEQUENTIAL, overrides={"nope": {}})
    with pytest.raises(OptionError, match="t_start"):
        pystats.fit_many(model, catalogues, client=SEQUENTIAL, overrides={"r0": {"t_start": 0}})
    with pytest.raises(OptionError, match="seed"):
        pystats.fit_many(model, catalogues, client=SEQUENTIAL, seed=-1)
    with pytest.raises(MethodNotSupportedError):
        pystats.fit_many(pystats.MORBMelting(), [None], method="mle", client=SEQUENTIAL)


@pytest.mark.parametrize("make", [lambda: pystats.GutenbergRichter(mc=2.0, delta_m=0.1),
                                  lambda: pystats.ETAS(), lambda: pystats.OmoriUtsu()])
def test_models_pickle_as_their_constructor_call(make):
    model = make()
    again = pickle.loads(pickle.dumps(model))
    assert type(again) is type(model) and repr(again) == repr(model)
    assert dict(again.options) == dict(model.options)


def test_fits_pickle(model, catalogues):
    from pystats.etas.simulate import simulate_etas

    cat = simulate_etas(0.4, 0.02, 0.01, 1.5, 1.2, 3.0, 300.0, mc=3.0, b=1.0, rng=2)
    etas = pystats.ETAS(mc=3.0).fit((cat.times, cat.magnitudes), t_start=0.0, t_end=300.0,
                                    seed=1, n_starts=1)
    etas_again = pickle.loads(pickle.dumps(etas))
    pd.testing.assert_frame_equal(etas_again.summary(), etas.summary())
    assert etas_again.optimizer["log_likelihood"] == etas.optimizer["log_likelihood"]
    fit = model.fit(catalogues["r0"], seed=1)
    again = pickle.loads(pickle.dumps(fit))
    pd.testing.assert_frame_equal(again.summary(), fit.summary())
    np.testing.assert_array_equal(again.draws["b"], fit.draws["b"])
    assert not again.draws["b"].flags.writeable
    assert again.data.hash == fit.data.hash and again.metadata["seed"] == 1
    with pytest.raises(TypeError):
        again.metadata["seed"] = 2


@pytest.mark.slow
def test_worker_processes_load_the_program_compiled_here(model, catalogues, tmp_path,
                                                          monkeypatch):
    """An empty compile cache: the program is compiled once, in this process, and both worker
    processes find it there (without the compile-ahead step one worker compiles it).  ``map``
    on pystan: its log density, no sampler process pool (see the next test)."""
    from pystats.backends.pystan import clear_model_cache

    monkeypatch.setenv("PYSTATS_CACHE_DIR", str(tmp_path))
    clear_model_cache()  # this process's built models would hide the empty cache
    data = [catalogues["r0"], catalogues["r1"], catalogues["r2"], catalogues["r3"]]
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as c:
            table = pystats.fit_many(model, data, method="map", seed=1, client=c,
                                     progress=False, backend="pystan")
    finally:
        clear_model_cache()
    assert table["ok"].all() and (table["backend"] == "pystan").all()
    assert table.attrs["compile_seconds"] > 0
    assert (table["compile_seconds"] == 0).all()


@pytest.mark.slow
def test_pystan_nuts_in_a_daemonic_worker_process_is_an_error_row(model, catalogues):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        table = pystats.fit_many(model, [catalogues["r0"]], method="nuts", seed=1, client=c,
                                 progress=False, backend="pystan", chains=2, draws=50,
                                 warmup=50)
    assert table.loc[0, "error_type"] == "BackendError"
    assert "processes=False" in table.loc[0, "error_message"]
