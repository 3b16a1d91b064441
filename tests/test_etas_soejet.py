"""One-pass SOE history of the fast ETAS likelihood (pystats.etas._soejet): value,
gradient and Hessian against the exact pair sums and the reverse-mode scan, the weight
derivatives against autograd, and the decay cache / chunking against the plain pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pystats
from pystats.etas import _soejet
from pystats.etas import likelihood as lik
from pystats.etas.kernels import soe_grid, soe_weights
from pystats.etas.simulate import simulate_etas

NAMES = ("mu", "K", "c", "alpha", "p")
TRUTH = {"mu": 0.5, "K": 0.02, "c": 0.01, "alpha": 1.4, "p": 1.15}


@pytest.fixture(scope="module")
def catalog() -> tuple[np.ndarray, np.ndarray, float, float]:
    """~900 simulated events, a few tied times, a window that leaves history before it."""
    sim = simulate_etas(**TRUTH, m_ref=3.0, t_end=1200.0, mc=3.0, b=1.0, rng=7)
    t = np.array(sim.times)
    t[100:104] = t[100]  # ties: events at equal times do not excite each other
    t[500:502] = t[500]
    return t, np.array(sim.magnitudes), 50.0, 1200.0


def _derivatives(fn, catalog, **kw) -> tuple[float, np.ndarray, np.ndarray]:
    t, m, ts, te = catalog
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in TRUTH.items()}
    ll = fn(P, t, m, ts, te, 3.0, **kw)
    g = torch.autograd.grad(ll, list(P.values()), create_graph=True)
    h = [torch.autograd.grad(gi, list(P.values()), retain_graph=True) for gi in g]
    return (float(ll.detach()), np.array([float(x.detach()) for x in g]),
            np.array([[float(x) for x in row] for row in h]))


def _scan_fast(P, t, m, ts, te, mref):
    """The reverse-mode SOE path (``_scan.soe_sum`` through autograd), as a reference."""
    dev = torch.device("cpu")
    ps = lik._params(P, lik.ETAS_PARAMETERS, dev)
    tt, mm = lik._events(t, m, dev)
    keep = tt <= te
    tt, mm = tt[keep], mm[keep]
    j0 = lik._targets(tt, ts)
    a = torch.exp(ps["alpha"] * (mm - mref))
    hist = lik._soe_history(tt, a, tt[j0:], ps["c"], ps["p"], 1e-10, None)
    return lik._log_sum(ps, hist) - lik._integral(ps, tt, mm, ts, te, mref)


def test_fast_value_gradient_hessian_match_exact_and_scan(catalog) -> None:
    v_new, g_new, h_new = _derivatives(lik.etas_loglik_fast, catalog)
    v_ex, g_ex, h_ex = _derivatives(lik.etas_loglik_exact, catalog)
    v_sc, g_sc, h_sc = _derivatives(_scan_fast, catalog)
    assert abs(v_new - v_ex) <= 1e-12 * abs(v_ex)
    np.testing.assert_allclose(g_new, g_ex, rtol=1e-9, atol=1e-9 * np.abs(g_ex).max())
    np.testing.assert_allclose(h_new, h_ex, rtol=1e-8, atol=1e-9 * np.abs(h_ex).max())
    # same SOE as the reverse-mode scan: agreement to rounding
    assert abs(v_new - v_sc) <= 1e-13 * abs(v_sc)
    np.testing.assert_allclose(g_new, g_sc, rtol=1e-11, atol=1e-12 * np.abs(g_sc).max())
    np.testing.assert_allclose(h_new, h_sc, rtol=1e-10, atol=1e-11 * np.abs(h_sc).max())


def test_weight_jets_are_the_derivatives_of_the_weights() -> None:
    c, p = 0.013, 1.07
    grid = soe_grid(c, p, 5000.0)
    jets = _soejet.weight_jets(grid, c, p, 2)

    def weights(cp: torch.Tensor) -> torch.Tensor:
        w, w0 = soe_weights(grid, cp[0], cp[1])
        return torch.cat([w0.reshape(1), w])

    x = torch.tensor([c, p], dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(weights, x)  # (K + 1, 2)
    hes = torch.stack([torch.autograd.functional.hessian(lambda z, i=i: weights(z)[i], x)
                       for i in range(0, jets.shape[1], 7)])
    np.testing.assert_allclose(jets[0], weights(x).numpy(), rtol=1e-13)
    np.testing.assert_allclose(jets[1], jac[:, 0].numpy(), rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(jets[2], jac[:, 1].numpy(), rtol=1e-11, atol=1e-300)
    sub = jets[:, ::7]
    for row, (i, j) in zip((3, 4, 5), ((0, 0), (0, 1), (1, 1)), strict=True):
        want = hes[:, i, j].numpy()  # rounding where a row crosses zero: atol on its scale
        np.testing.assert_allclose(sub[row], want, rtol=1e-10, atol=1e-11 * np.abs(want).max())


def test_decay_cache_and_chunks_do_not_change_results(catalog, monkeypatch) -> None:
    """Kept decays (rebuilt when ``c`` moves the lattice ends) and small work chunks give the
    same jets as recomputing everything in one chunk."""
    t, m, ts, _ = catalog
    tt = torch.tensor(t)
    j0 = int(np.searchsorted(t, ts))
    geom = _soejet.Geometry.build(tt, tt[j0:])
    dm = torch.tensor(m) - 3.0

    def jets(c: float, p: float) -> np.ndarray:
        grid = soe_grid(c, p, geom.span)
        prob = _soejet.Problem(geom, grid, dm)
        return prob.jets(torch.tensor(c), torch.tensor(p), torch.tensor(1.3), 2).numpy()

    ref = {}
    monkeypatch.setattr(_soejet, "DECAY_CACHE_BYTES", 0)
    for c in (0.01, 0.5, 1e-4):
        ref[c] = jets(c, 1.1)
    assert not geom.decays  # nothing kept
    monkeypatch.setattr(_soejet, "DECAY_CACHE_BYTES", 256 << 20)
    monkeypatch.setattr(_soejet, "_CHUNK_ELEMENTS", 3 * 5 * geom.n_times)  # 5 rates a chunk
    for c in (0.01, 0.5, 1e-4, 0.01):
        got = jets(c, 1.1)
        np.testing.assert_allclose(got, ref[c], rtol=1e-13, atol=1e-13 * np.abs(ref[c]).max())
    assert geom.decays["k_lo"] <= soe_grid(1e-4, 1.1, geom.span).k_lo  # cache grown


def test_fast_and_exact_fits_agree_with_hessian_errors() -> None:
    """Through the API: ``likelihood="fast"`` (one-pass jets, Hessian by the second-order
    pass) and ``"exact"`` reach the same optimum and standard errors."""
    sim = simulate_etas(**TRUTH, m_ref=3.0, t_end=1500.0, mc=3.0, b=1.0, rng=11)
    data = (np.array(sim.times), np.array(sim.magnitudes))
    fits = {lk: pystats.ETAS(mc=3.0, reference_magnitude=3.0, likelihood=lk).fit(
        data, seed=2, n_starts=2) for lk in ("fast", "exact")}
    assert fits["fast"].data.summary["likelihood"] == "fast"
    a, b = fits["fast"].summary(), fits["exact"].summary()
    for name in NAMES:
        assert a.loc[name, "estimate"] == pytest.approx(b.loc[name, "estimate"], rel=1e-5)
        assert a.loc[name, "se"] == pytest.approx(b.loc[name, "se"], rel=1e-5)
    assert fits["fast"].optimizer["log_likelihood"] == pytest.approx(
        fits["exact"].optimizer["log_likelihood"], rel=1e-12, abs=1e-8)


def test_exact_tiled_jets_match_reverse_mode_pair_moments(catalog, monkeypatch) -> None:
    """Tiled exact sums (no dense path): the one-pass pair jets give the value, gradient
    and Hessian of the reverse-mode pair moments."""
    from pystats.etas import _pairs

    monkeypatch.setattr(_pairs, "DENSE_MAX_ENTRIES", 0)

    def reverse_mode(P, t, m, ts, te, mref):
        dev = torch.device("cpu")
        ps = lik._params(P, lik.ETAS_PARAMETERS, dev)
        tt, mm = lik._events(t, m, dev)
        j0 = lik._targets(tt, ts)
        hist = lik._exact_history(tt[j0:], tt, ps["alpha"] * (mm - mref), ps["c"], ps["p"],
                                  None, True)
        return lik._log_sum(ps, hist) - lik._integral(ps, tt, mm, ts, te, mref)

    t, m, ts, _ = catalog
    small = (t[:350], m[:350], ts, float(t[349]))  # reverse mode on tiles is slow
    v_new, g_new, h_new = _derivatives(lik.etas_loglik_exact, small, chunk_size=48)
    v_ref, g_ref, h_ref = _derivatives(reverse_mode, small)
    assert abs(v_new - v_ref) <= 1e-13 * abs(v_ref)
    np.testing.assert_allclose(g_new, g_ref, rtol=1e-11, atol=1e-12 * np.abs(g_ref).max())
    np.testing.assert_allclose(h_new, h_ref, rtol=1e-10, atol=1e-11 * np.abs(h_ref).max())
