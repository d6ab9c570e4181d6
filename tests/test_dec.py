"""Unit tests for sslstudy.methods.dec (exported from week01_dec/01_dec_code_analysis.ipynb); a few seconds."""
import math

import pytest
import torch

from sslstudy import backbones, nbtools
from sslstudy.methods import dec as D


def _entropy(m):
    return -(m * m.clamp_min(1e-12).log()).sum(1)


@pytest.fixture
def zmu():
    g = torch.Generator().manual_seed(0)
    return torch.randn(12, 5, generator=g, dtype=torch.float64), torch.randn(4, 5, generator=g, dtype=torch.float64)


def test_soft_assignment_rows_sum_to_one_and_prefers_the_nearest_centre(zmu):
    z, mu = zmu
    q = D.soft_assignment(z, mu)
    assert q.shape == (12, 4)
    assert torch.allclose(q.sum(1), torch.ones(12, dtype=q.dtype))
    nearest = torch.cdist(z, mu).argmin(1)
    assert torch.equal(q.argmax(1), nearest)


def test_soft_assignment_alpha_one_is_the_cauchy_kernel():
    q = D.soft_assignment(torch.zeros(1, 1), torch.tensor([[1.0], [2.0]]), alpha=1.0)[0]
    expected = torch.tensor([1 / 2, 1 / 5])
    assert torch.allclose(q, expected / expected.sum())


def test_larger_alpha_gives_lighter_tails(zmu):
    z, mu = zmu
    # far from all centres a heavy-tailed kernel (small alpha) spreads the assignment more evenly
    far = z * 0 + 10.0
    h = [_entropy(D.soft_assignment(far, mu, a)).mean() for a in (0.5, 1.0, 10.0)]
    assert h[0] > h[1] > h[2]


def test_target_distribution_is_sharper_and_normalised(zmu):
    z, mu = zmu
    q = D.soft_assignment(z, mu)
    p = D.target_distribution(q)
    assert torch.allclose(p.sum(1), torch.ones(12, dtype=p.dtype))
    assert _entropy(p).mean() < _entropy(q).mean()
    # with equal cluster frequencies f_j the division is a no-op, and squaring sharpens EVERY row
    q_bal = torch.tensor([[0.7, 0.3], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]])
    assert (_entropy(D.target_distribution(q_bal)) < _entropy(q_bal)).all()


def test_target_distribution_divides_by_cluster_frequency():
    # two points, identical rows: the less populated cluster (column 1) gets boosted by 1/f_j
    q = torch.tensor([[0.5, 0.5], [0.9, 0.1], [0.9, 0.1]])
    p = D.target_distribution(q)
    f = q.sum(0)
    expected = (q**2 / f) / (q**2 / f).sum(1, keepdim=True)
    assert torch.allclose(p, expected)
    assert p[0, 1] > 0.5  # the first point is pulled towards the small cluster


def test_kl_gradients_match_autograd_eq4_eq5(zmu):
    z, mu = zmu
    for alpha in (1.0, 0.3, 5.0):
        p = D.target_distribution(D.soft_assignment(z, mu, alpha)).detach()
        za, mua = z.clone().requires_grad_(), mu.clone().requires_grad_()
        D.kl_divergence(p, D.soft_assignment(za, mua, alpha), reduction="sum").backward()
        gz, gmu = D.kl_gradients(z, mu, p, alpha)
        assert torch.allclose(gz, za.grad, atol=1e-10)
        assert torch.allclose(gmu, mua.grad, atol=1e-10)


def test_kl_divergence_zero_for_equal_and_mean_reduction(zmu):
    z, mu = zmu
    q = D.soft_assignment(z, mu)
    assert float(D.kl_divergence(q, q)) == pytest.approx(0.0, abs=1e-12)
    p = D.target_distribution(q)
    assert float(D.kl_divergence(p, q, "sum")) == pytest.approx(12 * float(D.kl_divergence(p, q, "mean")))


@pytest.mark.parametrize("call, words", [
    (lambda: D.soft_assignment(torch.zeros(3, 4), torch.zeros(2, 5)), "same D"),
    (lambda: D.soft_assignment(torch.zeros(3, 4), torch.zeros(2, 4), alpha=0), "alpha=0"),
    (lambda: D.soft_assignment(torch.zeros(3, 4), torch.zeros(2, 4), alpha=-1.0), "positive"),
    (lambda: D.target_distribution(torch.zeros(3)), "shape (N, K)"),
    (lambda: D.kl_divergence(torch.zeros(2, 3), torch.zeros(3, 2)), "same shape"),
    (lambda: D.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3), reduction="max"), "'mean' or 'sum'"),
    (lambda: D.ClusteringLayer(1, 10), "at least 2"),
    (lambda: D.TargetRefresher(None, None, None, update_interval=0, tol=0.001, max_iter=1), "update_interval=0"),
    (lambda: D.TargetRefresher(None, None, None, update_interval=5, tol=2.0, max_iter=1), "tol=2.0"),
    (lambda: D.pretrain_layerwise(backbones.DECAutoencoder((4, 3, 2)), torch.zeros(8, 4), 1, 0, dropout=1.5), "dropout=1.5"),
])
def test_bad_input_gets_one_clear_message(call, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_fit_dec_runs_refreshes_whole_dataset_target_and_stops():
    torch.manual_seed(0)
    # two well-separated blobs in 6-d; a tiny AE; the clustering phase must keep them apart
    x = torch.cat([torch.rand(64, 6) * 0.1, torch.rand(64, 6) * 0.1 + 0.9])
    y = [0] * 64 + [1] * 64
    ae = backbones.DECAutoencoder((6, 8, 2))
    D.pretrain_end_to_end(ae, x, 3, batch_size=32, seed=0, name="test-ae")
    centers, _ = D.init_centers(D.embed(ae, x), 2, n_init=3, seed=0)
    cluster = D.ClusteringLayer(2, 2)
    with torch.no_grad():
        cluster.centers.copy_(centers)
    res = D.fit_dec(ae, cluster, x, update_interval=3, tol=0.001, max_iter=30, batch_size=32, y=y, name="test-dec")
    assert res.log[0]["iteration"] == 0 and all(r["iteration"] % 3 == 0 or r["iteration"] == 30 for r in res.log)
    assert res.pred.shape == (128,) and res.stop_reason
    assert res.log[-1]["acc"] == pytest.approx(1.0)
    assert all(math.isfinite(v) for v in res.losses)


def test_layerwise_pretraining_trains_every_pair():
    torch.manual_seed(0)
    ae = backbones.DECAutoencoder((6, 5, 4, 2))
    before = [p.detach().clone() for p in ae.parameters()]
    hist = D.pretrain_layerwise(ae, torch.rand(64, 6), 1, 1, batch_size=16, name="test-sae")
    assert list(hist) == ["pair1", "pair2", "pair3", "finetune"]
    assert all(not torch.equal(a, b) for a, b in zip(before, ae.parameters()))


def test_module_matches_its_notebook():
    nb = nbtools.root() / "week01_dec" / "01_dec_code_analysis.ipynb"
    name, text = nbtools.exported_module(nb)
    assert name == "dec"
    assert (nbtools.root() / "src" / "sslstudy" / "methods" / "dec.py").read_text(encoding="utf-8") == text
