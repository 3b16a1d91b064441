"""GutenbergRichter on real catalogues: Ridgecrest 2019 (ComCat, M >= 1.5) and JMA Japan
1926-2007 (M >= 4.5, the R package ETAS example).

What is checked: the completeness magnitude and b-value agree across the Mc methods and
across the inference methods (closed-form MLE, torch MLE, NUTS) on the same data; the
closed-form estimate equals the independent estimator functions; predictions are
coherent; a report is written.  The NUTS fits are slow (marked ``slow``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from pystats.errors import DataWarning
from pystats.gr.completeness import estimate_mc
from pystats.gr.estimators import b_positive, b_tinti_mulargia
from pystats.gr.model import GutenbergRichter
from pystats.readers import read_catalog

CATALOGS = {
    "ridgecrest": "catalogs/ridgecrest2019_comcat_m1.5.csv",
    "japan": "catalogs/japan_jma_1926_2007_m4.5_etasR.csv",
}


@pytest.fixture(scope="session", params=sorted(CATALOGS))
def catalog(request, shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # depth sign note of the R ETAS file
        cat = read_catalog(shared_data / CATALOGS[request.param])
    return request.param, cat


@pytest.fixture(scope="session")
def nuts_fits(catalog):
    name, cat = catalog
    model = GutenbergRichter(mc="maxc")
    mle = model.fit(cat, method="mle")
    nuts = model.fit(cat, method="nuts", seed=2019, chains=4, draws=1000, warmup=500)
    return name, cat, mle, nuts


def test_mc_and_b_are_consistent_across_methods(catalog) -> None:
    name, cat = catalog
    m = cat.magnitudes
    fits = {meth: GutenbergRichter(mc=meth).fit(cat, method="mle") for meth in ("maxc", "gft")}
    data = fits["maxc"].data
    dm = data.summary["delta_m"]
    assert dm == {"ridgecrest": 0.01, "japan": 0.1}[name]
    # Mc: the first bin centre of the data grid at or above the lower edge of the complete
    # FMD bin (width max(delta_m, 0.1)) that estimate_mc returns
    res = estimate_mc(m, delta_m=max(dm, 0.1), method="maxc")
    edge = res.mc - max(dm, 0.1) / 2
    expected = m.min() + math.ceil((edge - m.min()) / dm - 1e-6) * dm
    assert data.summary["mc"] == pytest.approx(expected, abs=1e-9)
    assert res.mc - max(dm, 0.1) / 2 <= data.summary["mc"] <= res.mc
    assert abs(fits["maxc"].data.summary["mc"] - fits["gft"].data.summary["mc"]) <= 0.3
    # closed form = the estimator module on the same selection; n and rate are counts
    mc = data.summary["mc"]
    ref = b_tinti_mulargia(m, mc, dm)
    table = fits["maxc"].summary()
    assert table.loc["b", "estimate"] == pytest.approx(ref.b, rel=1e-10)
    assert table.loc["b", "se"] == pytest.approx(ref.se, rel=1e-6)
    n = int(np.sum(m >= mc - dm / 2 - 1e-9))
    assert data.summary["n"] == n == ref.n
    span = cat.times[-1] - cat.times[0]
    assert table.loc["rate", "estimate"] == pytest.approx(n / span, rel=1e-12)
    # b-values of the two Mc methods differ by less than the spread expected from their
    # standard errors and the (small) change of Mc; both lie in the range of tectonic b
    bs = {k: f.summary().loc["b"] for k, f in fits.items()}
    assert 0.6 < bs["maxc"]["estimate"] < 1.3
    assert abs(bs["maxc"]["estimate"] - bs["gft"]["estimate"]) < 0.1


def test_b_positive_matches_the_estimator_module(catalog) -> None:
    _, cat = catalog
    fit = GutenbergRichter(mc="maxc", estimator="positive").fit(cat, method="mle")
    s = fit.data.summary
    ref = b_positive(cat.magnitudes, s["delta_m"], mc=s["mc"])
    assert fit.summary().loc["b", "estimate"] == pytest.approx(ref.b, rel=1e-10)
    assert s["n"] == ref.n and s["dmc"] == pytest.approx(ref.dmc)
    # the torch optimiser reaches the same optimum
    num = GutenbergRichter(mc="maxc", estimator="positive").fit(
        cat, method="mle", backend="torch", seed=1
    )
    assert float(num.point["b"]) == pytest.approx(ref.b, rel=1e-6)


@pytest.mark.slow
def test_nuts_agrees_with_mle_and_writes_a_report(nuts_fits, tmp_path) -> None:
    name, _, mle, nuts = nuts_fits
    assert nuts.data.summary["mc"] == mle.data.summary["mc"]
    post = nuts.summary()
    b_mle, b_se = float(mle.point["b"]), math.sqrt(mle.cov[0, 0])
    assert abs(post.loc["b", "mean"] - b_mle) < 0.5 * post.loc["b", "sd"]
    assert post.loc["b", "sd"] == pytest.approx(b_se, rel=0.15)
    assert post.loc["b", "r_hat"] < 1.01 and post.loc["rate", "r_hat"] < 1.01
    diag = nuts.diagnose(warn=False)
    assert diag.ok, [(p.check, p.verdict) for p in diag.problems]
    # predictions: probabilities decrease with magnitude and stay in [0, 1]
    table = nuts.predict(magnitudes=[5.0, 6.0, 7.0], duration=30.0)
    assert np.all(np.diff(table["p_exceed"]) < 0)
    assert np.all((table["p_at_least_one_lower"] >= 0) & (table["p_at_least_one_upper"] <= 1))
    path = nuts.report(tmp_path / f"{name}_gr_nuts.html")
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size > 10_000
    assert "Frequency–magnitude distribution" in text or "Frequency&ndash;magnitude" in text


@pytest.mark.slow
def test_nuts_loo_on_the_whole_catalogue_and_small_saved_fit(nuts_fits, tmp_path) -> None:
    import arviz as az

    from pystats.persistence import load

    name, _, mle, nuts = nuts_fits
    n = nuts.data.summary["n"]
    # PSIS-LOO over every event above mc, computed on demand: nothing pointwise is stored
    assert "log_lik" not in nuts.draws
    idata = nuts.to_arviz()
    assert idata.log_likelihood["magnitude"].shape == (4, 1000, n)
    loo = az.loo(idata, pointwise=True)
    assert np.isfinite(loo.elpd_loo) and np.all(loo.pareto_k.values < 0.7)
    # one parameter (b) in the magnitude likelihood: elpd_loo ~ max log L - 1 (Stone 1977)
    ll_max = mle.model.pointwise_log_likelihood(
        {"b": np.asarray(mle.point["b"]), "rate": np.asarray(mle.point["rate"])}, mle.data
    )["magnitude"].sum()
    assert abs(loo.p_loo - 1.0) < 0.5
    assert abs(loo.elpd_loo - (ll_max - 1.0)) < 1.0
    # the saved fit holds draws, not n values per draw: well under 1 MB here
    path = nuts.save(tmp_path / f"{name}_gr_nuts.nc")
    assert path.stat().st_size < 1_000_000
    back = load(path)
    np.testing.assert_array_equal(back.draws["b"], nuts.draws["b"])
    np.testing.assert_array_equal(
        back.to_arviz().log_likelihood["magnitude"].values,
        idata.log_likelihood["magnitude"].values,
    )
