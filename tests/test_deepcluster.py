"""Unit tests for sslstudy.methods.deepcluster (exported from week03_deepcluster/03_deepcluster_code_analysis.ipynb);
a few seconds each."""
import pytest
import torch
import torch.nn.functional as F

from sslstudy import data, train
from sslstudy.backbones import SmallCNN
from sslstudy.methods import deepcluster as DC


def blobs(n_per: int = 40, k: int = 4, d: int = 6, seed: int = 0, spread: float = 0.3) -> tuple:
    """``k`` well separated Gaussian blobs in ``d`` dimensions: (x (k·n_per, d), labels)."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * 4
    x = torch.cat([centres[c] + spread * torch.randn(n_per, d, generator=g) for c in range(k)])
    return x, torch.arange(k).repeat_interleave(n_per)


# ------------------------------------------------------------------------------------------ PCA-whitening
def test_pca_whitening_gives_identity_covariance_and_unit_rows():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 12, generator=g) @ torch.randn(12, 12, generator=g) + 3.0      # correlated, shifted
    w = DC.pca_whiten(x, 5)                                                               # (500, 5)
    cov = (w - w.mean(0)).T @ (w - w.mean(0)) / len(w)
    assert w.shape == (500, 5) and torch.allclose(cov, torch.eye(5), atol=1e-4)
    p = DC.preprocess_features(x, 5)
    assert torch.allclose(p.norm(dim=1), torch.ones(500), atol=1e-5)
    assert torch.allclose(p, F.normalize(w, dim=1), atol=1e-6)


def test_pca_whitening_keeps_the_top_directions():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(400, 3, generator=g) * torch.tensor([10.0, 1.0, 0.1])                 # variance along axis 0
    w = DC.pca_whiten(x, 1)
    assert abs(torch.corrcoef(torch.stack([w[:, 0], x[:, 0]]))[0, 1]) > 0.999


@pytest.mark.parametrize("dim, match", [(13, "pca_dim=13"), (0, "pca_dim=0")])
def test_pca_dimension_out_of_range_is_one_sentence(dim, match):
    with pytest.raises(ValueError, match=match):
        DC.preprocess_features(torch.randn(50, 12), dim)


def test_features_must_be_a_finite_2d_float_tensor():
    with pytest.raises(ValueError, match="2-d float tensor"):
        DC.preprocess_features(torch.randn(5, 3, 2), 2)
    with pytest.raises(ValueError, match="NaN or inf"):
        DC.run_kmeans(torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), 2)


# ------------------------------------------------------------------------------------------ k-means
@pytest.mark.parametrize("backend", ["torch", "faiss"])
def test_run_kmeans_recovers_separated_blobs(backend):
    if backend == "faiss" and DC.faiss is None:
        pytest.skip("faiss is not installed")
    x, y = blobs()
    runs = [DC.run_kmeans(x, 4, n_iter=20, seed=s, backend=backend) for s in range(8)]   # one init each: local minima
    assign, loss = min(runs, key=lambda r: r[1])
    assert assign.shape == (160,) and assign.dtype == torch.int64
    assert DC.nmi(assign, y) > 0.99
    centroids = torch.stack([x[assign == c].mean(0) for c in range(4)])
    assert loss == pytest.approx(float((x - centroids[assign]).pow(2).sum()), rel=1e-3)   # the k-means loss


def test_torch_and_faiss_kmeans_reach_the_same_optimum():
    if DC.faiss is None:
        pytest.skip("faiss is not installed")
    x, _ = blobs(seed=3)
    best = {b: min((DC.run_kmeans(x, 4, seed=s, backend=b) for s in range(8)), key=lambda r: r[1])
            for b in ("torch", "faiss")}
    assert DC.nmi(best["torch"][0], best["faiss"][0]) == pytest.approx(1.0)
    assert best["torch"][1] == pytest.approx(best["faiss"][1], rel=1e-3)


@pytest.mark.parametrize("k", [0, 161, 2.5])
def test_kmeans_bad_k_is_one_sentence(k):
    x, _ = blobs()
    with pytest.raises(ValueError, match=f"k={k}"):
        DC.run_kmeans(x, k)


def test_kmeans_bad_backend_is_one_sentence():
    with pytest.raises(ValueError, match="backend='sklearn'"):
        DC.run_kmeans(blobs()[0], 3, backend="sklearn")


def test_split_empty_clusters_reseeds_from_a_non_empty_cluster():
    x, _ = blobs(n_per=20, k=2)
    centroids = torch.stack([x[:20].mean(0), x[20:].mean(0), torch.full((6,), 1e3)])     # cluster 2 gets no point
    assign = torch.cdist(x, centroids).argmin(1)
    assert torch.bincount(assign, minlength=3)[2] == 0
    before = centroids.clone()
    n = DC.split_empty_clusters(x, centroids, assign, torch.Generator().manual_seed(0))
    assert n == 1
    src = 0 if torch.allclose(centroids[1], before[1]) else 1                            # the one that was split
    sign = torch.ones(6)
    sign[1::2] = -1
    assert torch.allclose(centroids[2], before[src] * (1 + sign / 1024))                  # the perturbed copy …
    assert torch.allclose(centroids[src], before[src] * (1 - sign / 1024))                # … and its twin
    new = torch.cdist(x, centroids).argmin(1)
    assert (torch.bincount(new, minlength=3) > 0).all()                                  # no empty cluster left


def test_kmeans_torch_splits_empty_clusters_and_plain_lloyd_leaves_them_empty():
    # 12 distinct points, each repeated 10 times: random initial centroids repeat, so some clusters start empty
    ids = torch.arange(12).repeat_interleave(10)
    x = (torch.randn(12, 2, generator=torch.Generator().manual_seed(0)) * 5)[ids]          # (120, 2)
    for seed in range(3):
        assign, _, splits = DC.kmeans_torch(x, 12, n_iter=20, seed=seed)
        plain, _, none = DC.kmeans_torch(x, 12, n_iter=20, seed=seed, split_empty=False)
        assert splits > 0 and none == 0
        assert len(torch.unique(assign)) == 12 and DC.nmi(assign, ids) == pytest.approx(1.0)
        assert len(torch.unique(plain)) < 12                                               # the guard removed


# ------------------------------------------------------------------------------------------ the uniform sampler
def test_uniform_sampler_is_uniform_over_non_empty_clusters_and_skips_empty_ones():
    # clusters 0, 1, 3 with 500, 30, 5 images; cluster 2 (and 4) empty
    assign = torch.cat([torch.zeros(500), torch.ones(30), torch.full((5,), 3)]).long()
    counts = torch.zeros(5)
    for s in range(20):
        idx = DC.UniformLabelSampler(assign, len(assign), torch.Generator().manual_seed(s)).indices()
        assert len(idx) == len(assign)
        counts += torch.bincount(assign[idx], minlength=5)
    share = counts / counts.sum()
    assert counts[2] == 0 and counts[4] == 0
    assert torch.allclose(share[[0, 1, 3]], torch.full((3,), 1 / 3), atol=0.01)


def test_uniform_sampler_draws_without_replacement_from_large_clusters():
    assign = torch.cat([torch.zeros(300), torch.ones(100)]).long()
    idx = DC.UniformLabelSampler(assign, 200, torch.Generator().manual_seed(0)).indices()
    big = idx[assign[idx] == 0]
    assert len(torch.unique(big)) == len(big)                    # 101 of 300: no repeats


def test_uniform_sampler_rejects_bad_input():
    with pytest.raises(ValueError, match="n_samples=0"):
        DC.UniformLabelSampler(torch.zeros(5).long(), 0)
    with pytest.raises(ValueError, match="non-negative"):
        DC.UniformLabelSampler(torch.tensor([0, -1]), 2)


def test_cluster_loader_has_constant_length_and_follows_the_assignments():
    images = data.ImageData(torch.randint(0, 255, (64, 1, 8, 8), dtype=torch.uint8), torch.zeros(64).long(), "toy", "train")
    loader = DC.ClusterLoader(images, 16, seed=0)
    assert len(loader) == 4 and sum(len(b.idx) for b in loader) == 64
    loader.set_assignments(torch.cat([torch.zeros(60), torch.ones(4)]).long())
    idx = torch.cat([b.idx for b in loader])
    assert len(loader) == 4 and len(idx) == 64
    assert (idx >= 60).sum() > 20                                # the 4-image cluster fills about half the epoch
    b = next(iter(loader))
    assert torch.allclose(b.x, data.to_float(images.x[b.idx]))
    with pytest.raises(ValueError, match="one cluster per image"):
        loader.set_assignments(torch.zeros(10).long())
    twice = DC.ClusterLoader(images, 16, reassign=2.0)                  # official --reassign: 2 passes per clustering
    assert len(twice) == 8 and sum(len(b.idx) for b in twice) == 128
    with pytest.raises(ValueError, match="reassign=0"):
        DC.ClusterLoader(images, 16, reassign=0)


# ------------------------------------------------------------------------------------------ Sobel
def test_sobel_against_a_hand_computation():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 5, 6, generator=g)
    out = DC.Sobel()(x)
    gray = x.mean(1)                                                         # (2, 5, 6)
    pad = F.pad(gray, (1, 1, 1, 1))
    gx = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    hand = torch.zeros(2, 2, 5, 6)
    for b in range(2):
        for i in range(5):
            for j in range(6):
                patch = pad[b, i:i + 3, j:j + 3]
                hand[b, 0, i, j] = (patch * gx).sum()
                hand[b, 1, i, j] = (patch * gx.T).sum()
    assert torch.allclose(out, hand, atol=1e-5)
    ramp = torch.arange(6.0).repeat(5, 1)[None, None]                         # brightness grows to the right
    # [1, 0, -1] rows weighted 1, 2, 1 on a ramp of slope 1: (1 + 2 + 1)·(x − (x + 2)) = −8
    assert torch.allclose(DC.Sobel()(ramp)[0, 0, 1:-1, 1:-1], torch.full((3, 4), -8.0))
    assert list(DC.Sobel().parameters()) == []                               # frozen: nothing to train


def test_sobel_cnn_is_trained_behind_a_fixed_front_end():
    net = DC.SobelCNN(8)
    assert net(torch.rand(3, 3, 16, 16)).shape == (3, net.feature_dim)
    assert net(torch.rand(3, 1, 16, 16)).shape == (3, net.feature_dim)
    assert all(not n.startswith("sobel") for n, _ in net.named_parameters())


# ------------------------------------------------------------------------------------------ the method
def toy_images(n: int = 96, seed: int = 0) -> data.ImageData:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = (torch.rand(n, 1, 8, 8, generator=g) * 60 + (y * 90).view(-1, 1, 1, 1)).to(torch.uint8)   # 3 brightness levels
    return data.ImageData(x, y, "toy", "train")


def make(images, k=6, seed=0, **kw):
    torch.manual_seed(seed)
    return DC.DeepCluster(SmallCNN(1, 4), len(images), k=k, mlp_dim=8, pca_dim=4, seed=seed, **kw)


def test_bad_construction_is_one_sentence():
    images = toy_images()
    with pytest.raises(ValueError, match="k=200"):
        make(images, k=200)
    with pytest.raises(ValueError, match="pca_dim=9"):
        DC.DeepCluster(SmallCNN(1, 4), 96, k=4, mlp_dim=8, pca_dim=9)


class _Trainer:
    def __init__(self, loader):
        self.loader, self.optimizers = loader, {}


def test_epoch_start_clusters_and_rebuilds_the_head_with_a_fresh_momentum_free_sgd():
    images = toy_images()
    m = make(images)
    loader = DC.ClusterLoader(images, 32, seed=0)
    trainer = _Trainer(loader)
    with torch.no_grad():
        m.top_layer.weight.fill_(0.7)
    m.on_epoch_start(0, trainer)
    opt0 = trainer.optimizers["top_layer"]
    assert (m.labels >= 0).all() and loader.assignments is not None and torch.equal(loader.assignments, m.labels)
    assert float(m.top_layer.weight.detach().std()) == pytest.approx(0.01, rel=0.3) and (m.top_layer.bias == 0).all()
    assert opt0.defaults["momentum"] == 0 and [p for g in opt0.param_groups for p in g["params"]] == list(m.top_layer.parameters())
    # one SGD step, then a new epoch: new weights (not the trained ones) and a new optimiser with no state
    loss = m(next(iter(loader)))["loss"]
    loss.backward()
    opt0.step()
    trained = m.top_layer.weight.detach().clone()
    m.on_epoch_start(1, trainer)
    opt1 = trainer.optimizers["top_layer"]
    assert opt1 is not opt0 and len(opt1.state) == 0
    assert not torch.allclose(m.top_layer.weight, trained)
    assert not any(n.startswith("top_layer") for n, p in m.named_parameters() if any(p is q for q in m.trunk_parameters()))


def test_epoch_start_uses_eval_mode_and_unaugmented_features():
    images = toy_images()
    m = make(images)
    seen = {}
    orig = m.cluster_features

    def spy(x):
        seen.setdefault("training", m.training)
        seen.setdefault("x", x)
        return orig(x)

    m.cluster_features = spy
    m.on_epoch_start(0, _Trainer(DC.ClusterLoader(images, 32)))
    assert seen["training"] is False and torch.allclose(seen["x"], data.to_float(images.x[:len(seen["x"])]))
    assert m.training                                                        # mode restored


def test_clustered_features_drop_the_last_relu():
    m = make(toy_images())
    f = m.compute_features(toy_images().x)
    assert (f < 0).any()                                                     # pre-ReLU output of the classifier


def test_fit_method_trains_and_logs_both_nmi_curves():
    images = toy_images()
    m = make(images)
    loader = DC.ClusterLoader(images, 32, seed=0)
    opt = torch.optim.SGD(m.trunk_parameters(), lr=0.05, momentum=0.9)
    h = train.fit_method(m, loader, 3, opt, progress=False, checkpoint=False)
    assert len(h) == 3 and all(0 <= v <= 1 for v in h["nmi_labels"])
    assert h["nmi_prev"][0] != h["nmi_prev"][0] and 0 <= h["nmi_prev"][1] <= 1   # NaN in epoch 1: no previous
    assert set(h.rows[-1]) >= {"loss", "pseudo_acc", "kmeans_loss", "clusters"}


def test_forward_before_clustering_is_one_sentence():
    images = toy_images()
    m = make(images)
    with pytest.raises(ValueError, match="before any clustering"):
        m(next(iter(DC.ClusterLoader(images, 32))))


def test_resume_equals_an_uninterrupted_run(tmp_path):
    images = toy_images()
    cfg = {"test": "deepcluster-resume"}

    def run(folder, stop=None):
        m = make(images, backend="torch")
        loader = DC.ClusterLoader(images, 32, seed=0)
        opt = torch.optim.SGD(m.trunk_parameters(), lr=0.05, momentum=0.9)
        h = train.fit_method(m, loader, 3, opt, run_config=cfg, checkpoint_dir=tmp_path / folder, progress=False,
                             stop_after_epochs=stop)
        return m, h

    full, h_full = run("full")
    _, h_part = run("part", stop=2)                  # interrupted after 2 of 3 epochs …
    resumed, h_res = run("part")                     # … and resumed from its checkpoint
    assert h_part.interrupted and h_res.resumed_from is not None
    assert torch.equal(resumed.labels, full.labels)
    for (name, a), b in zip(resumed.state_dict().items(), full.state_dict().values()):
        assert torch.equal(a, b), name
    assert h_res["loss"] == h_full["loss"] and h_res["nmi_labels"] == h_full["nmi_labels"]


def test_the_guards_can_be_removed_for_the_ablations():
    images = toy_images()
    loader = DC.ClusterLoader(images, 32, seed=0, uniform=False)
    loader.set_assignments(torch.cat([torch.zeros(90), torch.ones(6)]).long())
    idx = torch.cat([b.idx for b in loader])
    assert len(torch.unique(idx)) == 96                          # a plain shuffle: every image once
    m = make(images, reinit_top=False, split_empty=False)
    trainer = _Trainer(DC.ClusterLoader(images, 32))
    m.on_epoch_start(0, trainer)                                 # epoch 0 initialises the head
    with torch.no_grad():
        m.top_layer.weight.fill_(0.3)
    m.on_epoch_start(1, trainer)
    assert torch.all(m.top_layer.weight == 0.3)                  # kept: no re-initialisation
    assert trainer.optimizers["top_layer"].defaults["momentum"] == 0
    assert DC.run_kmeans(*([torch.randn(40, 3)] + [4]), split_empty=False)[0].shape == (40,)


def _epoch_start_in(rank, world, images):
    """One clustering and the first batches in ``world`` processes (gloo): what each process holds."""
    from sslstudy import distributed

    m = make(images)
    loader = DC.ClusterLoader(images, 32, seed=0, rank=rank if distributed.is_dist() else 0, world_size=world)
    m.on_epoch_start(0, _Trainer(loader))
    feats = m.compute_features(images)
    return {"labels": m.labels.clone(), "feats": feats, "idx": [b.idx.clone() for b in loader]}


def test_two_processes_cluster_once_and_share_the_pseudo_labels():
    """Several processes: features computed in shares and gathered, k-means on rank 0 with its labels broadcast,
    and the uniform sampler's batches sharded: the same as one process."""
    from sslstudy import distributed

    images = toy_images(90)                                  # 90 rows: uneven shares (45 + 45 of 32-batches)
    one = _epoch_start_in(0, 1, images)
    two = distributed.run_in_processes(_epoch_start_in, 2, (images,))
    for r in two:
        assert torch.equal(r["labels"], one["labels"])
        assert torch.allclose(r["feats"], one["feats"], atol=1e-5)
    for b, b0, b1 in zip(one["idx"], two[0]["idx"], two[1]["idx"]):
        assert torch.equal(torch.cat([b0, b1]), b) and len(b0) == 16
