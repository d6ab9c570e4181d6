import numpy as np
import pytest
import torch

from sslstudy import evaluate


def test_cluster_acc_hand_case():
    # clusters are a permutation of the classes, with one mistake out of six
    y = [0, 0, 1, 1, 2, 2]
    pred = [2, 2, 0, 0, 1, 0]
    acc, mapping = evaluate.cluster_acc(y, pred)
    assert acc == pytest.approx(5 / 6)
    assert mapping == {2: 0, 0: 1, 1: 2}


def test_cluster_acc_more_clusters_than_classes():
    acc, _ = evaluate.cluster_acc([0, 0, 1, 1], [0, 1, 2, 3])
    assert acc == pytest.approx(0.5)


def test_cluster_acc_bad_input():
    with pytest.raises(ValueError, match="as many predictions as labels"):
        evaluate.cluster_acc([0, 1], [0])


def test_clustering_scores_perfect_and_random():
    y = np.repeat(np.arange(4), 25)
    perm = (y + 1) % 4
    s = evaluate.clustering_scores(y, perm)
    assert s == pytest.approx({"acc": 1.0, "nmi": 1.0, "ari": 1.0})
    r = evaluate.clustering_scores(y, np.zeros_like(y))
    assert r["acc"] == pytest.approx(0.25) and r["nmi"] == pytest.approx(0.0) and r["ari"] == pytest.approx(0.0)


def test_knn_predict_hand_case():
    bank = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    labels = torch.tensor([0, 1, 1])
    q = torch.tensor([[1.0, 0.0]])
    scores = evaluate.knn_predict(q, bank, labels, 2, k=2, t=0.1)
    # the two nearest are bank[0] (cos 1, class 0) and bank[2] (cos 0.6, class 1)
    assert scores[0, 0].item() == pytest.approx(np.exp(10.0), rel=1e-5)
    assert scores[0, 1].item() == pytest.approx(np.exp(6.0), rel=1e-5)


def test_knn_accuracy_separable_and_scale_invariant():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 16, generator=g) * 5
    ytr, yte = torch.arange(300) % 3, torch.arange(90) % 3
    xtr = centres[ytr] + torch.randn(300, 16, generator=g)
    xte = centres[yte] + torch.randn(90, 16, generator=g)
    assert evaluate.knn_accuracy(xtr, ytr, xte, yte, k=20) > 0.95
    assert evaluate.knn_accuracy(xtr * 7, ytr, xte * 0.1, yte, k=20) == evaluate.knn_accuracy(xtr, ytr, xte, yte, k=20)


def test_linear_probe_learns_linear_rule_and_is_deterministic():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(400, 10, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    a = evaluate.linear_probe(x[:300], y[:300], x[300:], y[300:])
    b = evaluate.linear_probe(x[:300], y[:300], x[300:], y[300:])
    assert a > 0.9 and a == b
    noise = evaluate.linear_probe(torch.randn(300, 10, generator=g), y[:300], torch.randn(100, 10, generator=g), y[300:])
    assert noise < 0.75


def test_confusion_matrix():
    cm = evaluate.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_extract_features_restores_mode_and_scales_uint8():
    from sslstudy import data

    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.BatchNorm1d(64))
    net.train()
    d = data.load("digits")
    f = evaluate.extract_features(net, d, batch_size=100)
    assert f.shape == (len(d), 64) and net.training
    # eval-mode BN with fresh running stats is the identity: features are the pixels in [0, 1]
    assert torch.allclose(f, d.flat(), atol=1e-4)


def test_kmeans_on_blobs():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(150) % 3
    x = torch.eye(3)[y] * 10 + torch.randn(150, 3, generator=g)
    labels, centres = evaluate.kmeans(x, 3, n_init=3)
    assert evaluate.cluster_acc(y, labels)[0] == 1.0 and centres.shape == (3, 3)
