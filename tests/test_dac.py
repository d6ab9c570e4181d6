"""Unit tests for sslstudy.methods.dac (exported from week02_dac/02_dac_code_analysis.ipynb); a few seconds."""
import math

import pytest
import torch

from sslstudy import data, train
from sslstudy.method import Method
from sslstudy.methods import dac as D


@pytest.fixture
def logits():
    return torch.randn(9, 10, generator=torch.Generator().manual_seed(0)) * 2       # (B, k)


# ------------------------------------------------------------------------------------------ label features, eqs. 3-4
def test_label_features_satisfy_the_constraint(logits):
    feats = D.label_features(logits)
    assert feats.shape == (9, 10)
    assert torch.allclose(feats.norm(dim=1), torch.ones(9)) and (feats >= 0).all()
    assert torch.equal(feats.argmax(1), logits.argmax(1))                      # the argmax is the logits'


def test_label_features_one_hot_limit(logits):
    feats = D.label_features(logits * 1e3)                                     # a very sharp network
    one_hot = torch.nn.functional.one_hot(logits.argmax(1), 10).float()
    assert torch.allclose(feats, one_hot, atol=1e-6)
    sim = D.pairwise_similarity(feats)
    same = (logits.argmax(1)[:, None] == logits.argmax(1)[None, :]).float()
    assert torch.allclose(sim, same, atol=1e-6)                                # Theorem 1: cosines are 1[same cluster]


def test_pairwise_similarity_is_the_cosine_matrix(logits):
    feats = D.label_features(logits)
    sim = D.pairwise_similarity(feats)
    loop = torch.tensor([[float(torch.nn.functional.cosine_similarity(feats[i], feats[j], dim=0)) for j in range(9)]
                         for i in range(9)])
    assert sim.shape == (9, 9) and torch.allclose(sim, loop, atol=1e-6)
    assert torch.allclose(sim, sim.T) and torch.allclose(sim.diagonal(), torch.ones(9))


@pytest.mark.parametrize("bad", [torch.zeros(3), torch.zeros(2, 3, 4)])
def test_label_features_and_similarity_reject_other_shapes(bad):
    with pytest.raises(ValueError, match="2-d tensor"):
        D.label_features(bad)
    with pytest.raises(ValueError, match="2-d tensor"):
        D.pairwise_similarity(bad)


# ------------------------------------------------------------------------------------------ thresholds and selection
@pytest.mark.parametrize("lam", [0.0, 0.1, 0.2, 0.33, D.LAMBDA_END])
def test_thresholds_follow_the_formulas(lam):
    upper, lower = D.thresholds(lam)
    assert upper == pytest.approx(0.95 - lam) and lower == pytest.approx(0.455 + 0.1 * lam)


def test_thresholds_meet_at_lambda_end_and_the_paper_schedule():
    assert D.LAMBDA_END == pytest.approx(0.45)
    assert D.thresholds(D.LAMBDA_END) == pytest.approx((0.5, 0.5))
    assert D.LAMBDA_STEP == pytest.approx(0.0099)
    paper = D.lambda_schedule(46, D.LAMBDA_STEP)
    assert paper[0] == 0.0 and paper[1] == pytest.approx(0.0099) and paper[-1] == pytest.approx(45 * 0.0099)
    assert D.thresholds(paper[-1])[0] > D.thresholds(paper[-1])[1]             # the 46th epoch: u still above l
    assert 45 * D.LAMBDA_STEP < D.LAMBDA_END <= 46 * D.LAMBDA_STEP             # the 47th would use every pair
    fast = D.lambda_schedule(6)
    assert fast[0] == 0.0 and fast[-1] == pytest.approx(D.LAMBDA_END) and fast == sorted(fast)
    assert D.lambda_schedule(1) == [0.0] and D.lambda_schedule(60, 0.1)[-1] == pytest.approx(D.LAMBDA_END)


@pytest.mark.parametrize("lam", [-0.01, 0.46, 1.0, float("nan"), True, "0.2", None])
def test_lambda_outside_its_range_is_one_clear_sentence(lam):
    with pytest.raises(ValueError, match=r"is not allowed: λ must be a number in \[0, 0.45\]"):
        D.thresholds(lam)


@pytest.mark.parametrize("kw", [{"num_epochs": 0}, {"num_epochs": 2.5}, {"num_epochs": 3, "step": 0}])
def test_lambda_schedule_bad_input(kw):
    with pytest.raises(ValueError, match="is not allowed"):
        D.lambda_schedule(**kw)


def test_select_pairs_at_known_thresholds():
    sim = torch.tensor([[1.0, 0.9, 0.3], [0.9, 1.0, 0.5], [0.3, 0.5, 1.0]])
    r, mask = D.select_pairs(sim, upper=0.9, lower=0.4)                        # ≥ 0.9 same, < 0.4 different
    assert torch.equal(r, torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    assert torch.equal(mask, torch.tensor([[True, True, True], [True, True, False], [True, False, True]]))
    r, mask = D.select_pairs(sim, upper=0.5, lower=0.5)                        # u = l: every pair
    assert mask.all() and torch.equal(r.bool(), sim >= 0.5)
    r, mask = D.select_pairs(sim, *D.thresholds(0.0))
    assert torch.equal(mask, (sim >= 0.95) | (sim < 0.455))


def test_select_pairs_rejects_a_non_square_matrix_and_bad_thresholds():
    with pytest.raises(ValueError, match=r"square similarity matrix \(B, B\); got \(2, 3\)"):
        D.select_pairs(torch.zeros(2, 3), 0.9, 0.5)
    with pytest.raises(ValueError, match="2-d tensor"):
        D.select_pairs(torch.zeros(4), 0.9, 0.5)
    with pytest.raises(ValueError, match=r"upper=1.5 is not allowed: .* must be in \[0, 1\]"):
        D.select_pairs(torch.zeros(2, 2), 1.5, 0.5)


def test_pairwise_loss_equals_a_plain_loop():
    g = torch.Generator().manual_seed(1)
    sim = D.pairwise_similarity(D.label_features(torch.randn(7, 5, generator=g) * 3))
    r, mask = D.select_pairs(sim, *D.thresholds(0.2))
    loop = 0.0
    for i in range(7):
        for j in range(7):
            if mask[i, j]:
                s = min(max(float(sim[i, j]), D.EPS), 1 - D.EPS)
                loop += -math.log(s) if r[i, j] else -math.log(1 - s)
    assert float(D.pairwise_loss(sim, r, mask)) == pytest.approx(loop / 49, rel=1e-5)
    assert float(D.pairwise_loss(sim, r, torch.zeros_like(mask))) == 0.0
    with pytest.raises(ValueError, match="same square shape"):
        D.pairwise_loss(sim, r[:3], mask)


def test_pairwise_loss_gradient_pulls_same_pairs_together():
    logits = torch.randn(6, 4, generator=torch.Generator().manual_seed(2), requires_grad=True)
    sim = D.pairwise_similarity(D.label_features(logits))
    r, mask = torch.ones(6, 6), torch.ones(6, 6, dtype=torch.bool)              # "all the same"
    D.pairwise_loss(sim, r, mask).backward()
    with torch.no_grad():
        after = D.pairwise_similarity(D.label_features(logits - 1.0 * logits.grad))
    assert after.mean() > sim.detach().mean()


# ------------------------------------------------------------------------------------------ network
def test_keras_batchnorm_uses_batch_statistics_in_eval_mode():
    torch.manual_seed(0)
    backbone, head = D.build_network("small_cnn", 1, 10, width=4)
    net = torch.nn.Sequential(backbone, head)
    x = torch.randn(12, 1, 28, 28)
    with torch.no_grad():
        a, b = net.train()(x), net.eval()(x)
    assert torch.allclose(a, b)
    assert not any("running_mean" in k for k in net.state_dict())
    with torch.no_grad():
        assert not torch.allclose(net(x[:6]), a[:6])                           # depends on the batch's company
    bn = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert bn.eps == 1e-3 and not bn.track_running_stats


def test_running_bn_variant_keeps_pytorch_behaviour():
    backbone, head = D.build_network("small_cnn", 1, 10, bn="running", width=4)
    assert any("running_mean" in k for k in backbone.state_dict())
    head = D.build_network("small_cnn", 1, 10, bn="no_head_bn", width=4)[1]
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in head.modules())
    with pytest.raises(ValueError, match="bn='keras' is not allowed"):
        D.build_network(bn="keras")
    with pytest.raises(ValueError, match="arch='resnet' is not allowed"):
        D.build_network("resnet")


def test_head_dense_layers_start_as_identity():
    head = D.ClusteringHead(10, 10)
    assert isinstance(head.project, torch.nn.Identity)
    for fc in (head.fc1, head.fc2):
        assert torch.equal(fc.weight, torch.eye(10)) and torch.equal(fc.bias, torch.zeros(10))
    assert isinstance(D.ClusteringHead(128, 10).project, torch.nn.Sequential)
    with pytest.raises(ValueError, match="k=1 is not allowed"):
        D.ClusteringHead(8, 1)


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_official_network_shapes(channels, size):
    backbone, head = D.build_network("mnist_network", channels, 10)
    out = head(backbone(torch.randn(4, channels, size, size)))
    assert out.shape == (4, 10) and (out >= 0).all()                           # ReLU before the softmax, as official
    n = sum(p.numel() for m in (backbone, head) for p in m.parameters())
    assert 440_000 < n < 460_000 if channels == 1 else n > 440_000


def test_random_affine_identity_and_ranges():
    x = torch.rand(5, 1, 28, 28)
    same = D.random_affine(x, rotation=0.0, shift=0.0, zoom=(1.0, 1.0), channel_shift=0.0, rescale=None)
    assert torch.allclose(same, x)
    g = torch.Generator().manual_seed(0)
    out = D.random_affine(x, generator=g)
    assert out.shape == x.shape and float(out.max()) <= 0.975 + 1e-6 and not torch.allclose(out, x * 0.975)
    assert torch.equal(D.random_affine(x, generator=torch.Generator().manual_seed(0)), out)   # seeded
    with pytest.raises(ValueError, match=r"float batch \(B, C, H, W\)"):
        D.random_affine(torch.zeros(28, 28))


# ------------------------------------------------------------------------------------------ the DAC method
def _tiny_method(lambdas=(0.0, 0.2, D.LAMBDA_END), **kw):
    torch.manual_seed(0)
    constraint = kw.get("constraint", True)
    backbone, head = D.build_network("small_cnn", 1, 4, width=4, bn=kw.pop("bn", "batch"), final_relu=constraint)
    return D.DAC(backbone, head, list(lambdas), **kw)


def test_dac_is_a_method_with_lambda_in_its_state():
    m = _tiny_method()
    assert isinstance(m, Method) and "lam" in m.state_dict() and "lambdas" in m.state_dict()
    out = m(torch.randn(16, 1, 28, 28))
    assert out["loss"].ndim == 0 and out["loss"].requires_grad and 0 < float(out["selected"]) <= 1
    m.on_epoch_start(1)
    assert float(m.lam) == pytest.approx(0.2) and m.thresholds == pytest.approx(D.thresholds(0.2))
    m.on_epoch_start(99)                                                        # past the schedule: its last value
    assert float(m.lam) == pytest.approx(D.LAMBDA_END)
    with pytest.raises(ValueError, match="λ must be a number"):
        _tiny_method(lambdas=(0.0, 0.9))


def test_dac_without_constraint_uses_signed_features():
    m = _tiny_method(constraint=False)
    assert not m.head.final_relu
    feats = m.label_features(torch.randn(16, 1, 28, 28))
    assert torch.allclose(feats.norm(dim=1), torch.ones(16), atol=1e-5) and (feats < 0).any()
    assert m(torch.randn(16, 1, 28, 28))["loss"].isfinite()


def test_dac_trains_through_fit_method_and_resumes_exactly(tmp_path):
    images = data.ImageData((torch.rand(96, 1, 28, 28) * 255).to(torch.uint8), torch.arange(96) % 4, "toy", "train",
                            ["a", "b", "c", "d"])

    def run(stop_after=None):
        m = _tiny_method()
        opt = torch.optim.RMSprop(m.parameters(), lr=1e-3, alpha=0.9)
        train.fit_method(m, data.TensorLoader(images, 32, seed=0), 3, opt, run_config={"test": "dac"},
                         checkpoint_dir=tmp_path, stop_after_epochs=stop_after, progress=False)
        return m

    full = run()
    torch.manual_seed(123)                                                     # the resume must not depend on this
    for f in tmp_path.iterdir():
        f.unlink()
    run(stop_after=2)
    resumed = run()
    assert float(resumed.lam) == pytest.approx(D.LAMBDA_END)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float()), k


def test_predict_clusters_and_pair_precision():
    m = _tiny_method()
    x = torch.randn(50, 1, 28, 28)
    pred = D.predict_clusters(m, x, batch_size=16)
    assert pred.shape == (50,) and int(pred.max()) < 4
    feats = D.predict_clusters(m, x, 16, features=True)
    assert feats.shape == (50, 4) and torch.equal(feats.argmax(1), pred)
    # four perfect one-hot clusters: every selected pair is right
    y = torch.arange(40) % 4
    pp = D.pair_precision(torch.nn.functional.one_hot(y, 4).float(), y, *D.thresholds(0.0))
    assert pp["precision_same"] == 1.0 and pp["precision_different"] == 1.0
    assert pp["base_rate"] == pytest.approx(9 / 39) and pp["selected_same"] == pytest.approx(9 / 39)


# ------------------------------------------------------------------------------------------ DAC*
def test_dac_star_threshold_schedule():
    assert D.dac_star_threshold(0, 20) == 0.9
    assert D.dac_star_threshold(19, 20) == pytest.approx(0.52)                 # the official last epoch
    assert D.dac_star_threshold(1, 20) == pytest.approx(0.88)
    for bad in ({"epoch": 20, "num_epochs": 20}, {"epoch": -1, "num_epochs": 20}, {"epoch": 0, "num_epochs": 0}):
        with pytest.raises(ValueError, match="is not allowed"):
            D.dac_star_threshold(**bad)


def test_dac_star_targets_and_loss_against_a_loop():
    sim = D.pairwise_similarity(D.label_features(torch.randn(6, 5, generator=torch.Generator().manual_seed(3)) * 3))
    r = D.dac_star_targets(sim, 0.7)
    loop = sum((float(sim[i, j]) - (1.0 if float(sim[i, j]) > 0.7 else 0.0)) ** 2 for i in range(6) for j in range(6))
    assert torch.equal(r, (sim > 0.7).float())
    assert float(D.dac_star_loss(sim, r)) == pytest.approx(loop / 36, rel=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        D.dac_star_loss(sim, r[:2])


def test_chunk_loader_batches_like_the_official_script():
    x = torch.randn(2_100, 1, 4, 4)
    loader = D.ChunkLoader(x, chunk_size=1_000, passes=5, batch_size=128, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader) == 2 * 5 * 8                            # the last 100 images are dropped
    assert [len(b.local) for b in batches[:8]] == [128] * 7 + [104]
    firsts = [i for i, b in enumerate(batches) if b.chunk is not None]
    assert firsts == [0, 40]
    for p in range(5):                                                          # each pass sees the chunk once
        seen = torch.cat([b.local for b in batches[p * 8:(p + 1) * 8]])
        assert torch.equal(seen.sort().values, torch.arange(1_000))
    assert torch.equal(batches[0].x, batches[0].chunk[batches[0].local])
    with pytest.raises(ValueError, match="chunk_size=3000 is larger than the data"):
        D.ChunkLoader(x, chunk_size=3_000)


def test_dac_star_trains_and_resumes(tmp_path):
    x = torch.randn(200, 1, 28, 28)

    def run(stop_after=None):
        torch.manual_seed(0)
        backbone, head = D.build_network("small_cnn", 1, 4, width=4)
        m = D.DACStar(backbone, head, num_epochs=2)
        loader = D.ChunkLoader(x, chunk_size=100, passes=2, batch_size=32, seed=0)
        opt = torch.optim.RMSprop(m.parameters(), lr=1e-3, alpha=0.9)
        hist = D.fit_dac_star(m, loader, 2, opt, run_config={"test": "dac_star"}, checkpoint_dir=tmp_path,
                              stop_after_epochs=stop_after, progress=False)
        return m, hist

    full, hist = run()
    assert float(full.th) == pytest.approx(0.7) and len(hist["loss"]) == 2
    assert full.targets.shape == (100, 100)
    for f in tmp_path.iterdir():
        f.unlink()
    run(stop_after=1)
    resumed, _ = run()
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float()), k


# ------------------------------------------------------------------------------------------ smoke-size ablations
@pytest.mark.parametrize("variant", ["running BN", "no head BN", "no constraint", "fixed λ = 0", "fixed λ = 0.45"])
def test_ablation_variants_run(variant):
    kw = {"running BN": {"bn": "running"}, "no head BN": {"bn": "no_head_bn"}, "no constraint": {"constraint": False},
          "fixed λ = 0": {"lambdas": [0.0, 0.0]}, "fixed λ = 0.45": {"lambdas": [D.LAMBDA_END] * 2}}[variant]
    m = _tiny_method(**kw)
    opt = torch.optim.RMSprop(m.parameters(), lr=1e-3)
    x = torch.randn(32, 1, 28, 28)
    for epoch in range(2):
        m.on_epoch_start(epoch)
        loss = m(x)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert D.predict_clusters(m, x, 16).shape == (32,)
