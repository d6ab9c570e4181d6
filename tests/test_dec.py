"""Unit tests for sslstudy.methods.dec (exported from week01_dec/01_dec_code_analysis.ipynb); a few seconds."""
import math

import numpy as np

import pytest
import torch

from sslstudy import backbones, config, evaluate, nbtools, optim, train
from sslstudy.experiments import dec as E
from sslstudy.method import Method
from sslstudy.methods import dec as D


def _cfg(mode="fast", seed=0):
    return config.Config(mode=mode, seed=seed, device=torch.device("cpu"), threads=torch.get_num_threads())


def _blobs():
    torch.manual_seed(0)
    x = torch.cat([torch.rand(64, 6) * 0.1, torch.rand(64, 6) * 0.1 + 0.9])   # (128, 6) two blobs
    return x, [0] * 64 + [1] * 64


def _pretrained(x):
    ae = backbones.DECAutoencoder((6, 8, 2))
    D.pretrain_end_to_end(ae, x, 3, batch_size=32, seed=0, name="test-ae")
    centers, _ = D.init_centers(evaluate.extract_features(ae, x), 2, n_init=3, seed=0)
    return ae, centers


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
    (lambda: D.DEC(backbones.DECAutoencoder((4, 2)), 2, torch.zeros(8, 4), update_interval=0), "update_interval=0"),
    (lambda: D.DEC(backbones.DECAutoencoder((4, 2)), 2, torch.zeros(8, 4), tol=2.0), "tol=2.0"),
    (lambda: D.DEC(backbones.DECAutoencoder((4, 2)), 2, torch.zeros(8, 4), gamma=-1.0), "gamma=-1.0"),
    (lambda: D.DEC(backbones.DECAutoencoder((4, 2)), "two", torch.zeros(8, 4)), "cluster='two'"),
    (lambda: D.DEC(backbones.DECAutoencoder((4, 2)), 2, torch.zeros(8, 4))(torch.zeros(3, 4)), "sample ids"),
    (lambda: E.settings(_cfg(), dataset="cifar10", verbose=False), "dataset='cifar10'"),
    (lambda: E.settings(_cfg(), pretrain_epochs=0, verbose=False), "pretrain_epochs=0"),
    (lambda: D.pretrain_layerwise(backbones.DECAutoencoder((4, 3, 2)), torch.zeros(8, 4), 1, 0, dropout=1.5), "dropout=1.5"),
])
def test_bad_input_gets_one_clear_message(call, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_fit_dec_runs_refreshes_whole_dataset_target_and_stops():
    # two well-separated blobs in 6-d; a tiny AE; the clustering phase must keep them apart
    x, y = _blobs()
    ae, centers = _pretrained(x)
    ae, cluster = E.start_from(ae, centers)
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


def test_dec_is_a_method_trained_by_fit_method_with_hooks_and_stop():
    x, y = _blobs()
    ae, _ = _pretrained(x)
    pretrained_calls = []
    dec = D.DEC(ae, 2, x, update_interval=4, tol=0.0, max_iter=10, n_init=3, y=y,
                pretrain=lambda model, data: pretrained_calls.append(len(data)))
    assert isinstance(dec, Method) and dec.backbone is ae and not bool(dec.centers_ready)
    opt = optim.make_optimizer(dec.trainable_parameters(), "sgd", 0.01)
    hist = train.fit_method(dec, dec.loader(32, seed=0), 5, opt, progress=False)
    assert pretrained_calls == [128] and bool(dec.centers_ready)                  # on_fit_start: pretrain, k-means
    assert [r["iteration"] for r in dec.log] == [0, 4, 8, 10]                      # after_step: refreshes
    assert hist.stopped == "reached max_iter=10 iterations" and len(hist.steps) == 10
    assert {"loss", "kl", "mean_max_q"} <= set(hist.rows[0]) and dec.features(x).shape == (128, 2)
    assert set(dec.state_dict()) >= {"p", "pred", "centers_ready", "cluster.centers"}
    out = dec((x[:8], torch.arange(8)))
    assert out["loss"].ndim == 0 and torch.allclose(out["loss"], D.kl_divergence(dec.p[:8], dec.cluster(ae(x[:8]))))


def test_idec_trains_the_decoder_and_dec_does_not():
    x, y = _blobs()
    ae, centers = _pretrained(x)
    for gamma in (None, 0.1):
        model, cluster = E.start_from(ae, centers)
        before = [p.detach().clone() for p in model.decoder_layers.parameters()]
        res = D.fit_dec(model, cluster, x, update_interval=3, tol=0.0, max_iter=6, batch_size=32, gamma=gamma,
                        optimizer="adam", lr=1e-3, y=y, progress=False)
        moved = any(not torch.equal(a, b) for a, b in zip(before, model.decoder_layers.parameters()))
        assert moved == (gamma is not None) and res.iterations == 6
        assert ("recon" in res.history.rows[0]) == (gamma is not None)


def test_fit_dec_equals_the_method_trained_directly():
    x, y = _blobs()
    ae, centers = _pretrained(x)
    res = D.fit_dec(*E.start_from(ae, centers), x, update_interval=3, tol=0.0, max_iter=9, batch_size=32, seed=3,
                    progress=False)
    model, cluster = E.start_from(ae, centers)
    dec = D.DEC(model, cluster, x, update_interval=3, tol=0.0, max_iter=9)
    opt = optim.make_optimizer(dec.trainable_parameters(), "sgd", 0.01, momentum=0.9)
    hist = train.fit_method(dec, dec.loader(32, seed=3), 3, opt, progress=False)
    assert hist.steps == res.losses and (dec.pred.numpy() == res.pred).all()


def test_settings_table_and_pretraining_key_shared_with_the_script():
    fast, full = E.settings(_cfg(), verbose=False), E.settings(_cfg("full"), verbose=False)
    assert (fast.n_samples, fast.pretrain_epochs, fast.update_interval, fast.max_iter) == (5_000, 40, 11, 300)
    assert (full.n_samples, full.pretrain_epochs, full.update_interval, full.max_iter) == (70_000, 100, 160, 20_000)
    assert E.pretrain_settings(full) == E.pretrain_settings(E.settings(_cfg("full"), verbose=False))
    changed = E.settings(_cfg("full"), verbose=False).update(tol=0.01, max_iter=5)
    assert E.pretrain_settings(changed).key() == E.pretrain_settings(full).key()  # clustering knobs: same pretraining
    digits = E.fit_to_data(E.settings(_cfg(), dataset="digits", verbose=False), 1_797)
    assert (digits.n_samples, digits.pretrain_epochs, digits.update_interval) == (1_797, 111, 4)


def test_clustering_ablations_at_smoke_size():
    x, y = _blobs()
    ae, centers = _pretrained(x)
    rows = E.clustering_ablations(ae, centers, x, y, update_interval=2, iterations=6, batch_size=32, progress=False)
    assert [r["variant"] for r in rows][0] == "P per mini-batch" and len(rows) == 5
    assert all(r["iterations"] == 6 and 0 <= r["acc"] <= 1 for r in rows)


def test_layerwise_vs_end_to_end_pretraining_smoke():
    x, y = _blobs()
    for recipe in ("layer-wise + fine-tune", "end-to-end"):
        torch.manual_seed(0)
        ae = backbones.DECAutoencoder((6, 8, 4, 2))
        if recipe == "end-to-end":
            D.pretrain_end_to_end(ae, x, 2, batch_size=32, name="smoke-e2e")
        else:
            D.pretrain_layerwise(ae, x, 1, 1, batch_size=32, name="smoke-lw")
        labels, _ = evaluate.kmeans(evaluate.extract_features(ae, x), 2, n_init=3, seed=0)
        assert 0.5 <= evaluate.cluster_acc(np.asarray(y), labels)[0] <= 1.0


def test_layerwise_dropout_follows_the_official_code_unless_asked(monkeypatch):
    rates = []
    real = D.F.dropout
    monkeypatch.setattr(D.F, "dropout", lambda t, p, training: rates.append(p) or real(t, p, training))
    x = torch.rand(32, 6)
    D.pretrain_layerwise(backbones.DECAutoencoder((6, 5, 4, 2)), x, 1, 0, batch_size=32, name="t-official")
    assert rates == [0.0, 0.2, 0.2, 0.2, 0.2, 0.0]          # pairs 1-3 (input, hidden): no pixels, no embedding
    rates.clear()
    D.pretrain_layerwise(backbones.DECAutoencoder((6, 5, 4, 2)), x, 1, 0, batch_size=32, name="t-paper",
                         paper_dropout=True)
    assert rates == [0.2] * 6
