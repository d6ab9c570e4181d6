"""Unit tests for sslstudy.methods.vqvae (exported from week04_vqvae/04_vqvae_code_analysis.ipynb); a few seconds."""
import math

import pytest
import torch
import torch.nn.functional as F

from sslstudy import data, train
from sslstudy.method import Method
from sslstudy.methods import vqvae as V


def _z(b=2, d=3, h=4, w=5, seed=0):
    return torch.randn(b, d, h, w, generator=torch.Generator().manual_seed(seed))          # (B, D, H, W)


# ------------------------------------------------------------------------------------------------ the quantiser
def test_quantizer_matches_a_plain_loop():
    torch.manual_seed(0)
    vq = V.VectorQuantizer(num_codes=7, code_dim=3, beta=0.25)
    z = _z()
    out = vq(z)
    e = vq.embedding.detach()
    loss_loop, idx_loop = 0.0, torch.zeros(2, 4, 5, dtype=torch.long)
    for b in range(2):
        for i in range(4):
            for j in range(5):
                v = z[b, :, i, j]
                k = min(range(7), key=lambda c: float(((v - e[c]) ** 2).sum()))
                idx_loop[b, i, j] = k
                loss_loop += float(((v - e[k]) ** 2).sum())
    mse = loss_loop / z.numel()
    assert torch.equal(out.indices, idx_loop) and out.indices.shape == (2, 4, 5)
    assert math.isclose(float(out.loss.detach()), mse + 0.25 * mse, rel_tol=1e-5)                   # codebook + β·commitment
    assert torch.allclose(out.quantized, e[idx_loop].permute(0, 3, 1, 2), atol=1e-6)       # value: the codes


def test_straight_through_and_stop_gradients():
    torch.manual_seed(0)
    vq = V.VectorQuantizer(num_codes=5, code_dim=3, beta=0.25)
    z = _z().requires_grad_(True)
    out = vq(z)
    w = torch.randn_like(z)
    (out.quantized * w).sum().backward()                                                    # a "decoder"
    assert torch.allclose(z.grad, w) and vq.embedding.grad is None or torch.all(vq.embedding.grad == 0)
    # the codebook term moves only e, the commitment term only z_e
    z2 = _z().requires_grad_(True)
    vq.zero_grad()
    out2 = vq(z2)
    out2.loss.backward()
    e = vq.embedding.detach()[out2.indices].permute(0, 3, 1, 2)
    n = z2.numel()
    assert torch.allclose(z2.grad, 0.25 * 2 * (z2.detach() - e) / n, atol=1e-7)            # β ∂||z − sg[e]||²
    g = torch.zeros_like(vq.embedding)
    g.index_add_(0, out2.indices.flatten(), (2 * (e - z2.detach()) / n).permute(0, 2, 3, 1).reshape(-1, 3))
    assert torch.allclose(vq.embedding.grad, g, atol=1e-7)                                  # ∂||sg[z] − e||²


def test_ema_update_by_hand():
    vq = V.VectorQuantizerEMA(num_codes=3, code_dim=2, beta=0.25, decay=0.9, eps=1e-5, debias=False)
    with torch.no_grad():
        vq.embedding.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]))
        vq.ema_sum.copy_(vq.embedding)
    x = torch.tensor([[0.1, 0.0], [0.0, 0.2], [1.0, 0.8]])                                  # two → code 0, one → code 1
    vq.train()
    out = vq(x.T.reshape(1, 2, 1, 3))
    assert out.indices.flatten().tolist() == [0, 0, 1]
    count = 0.1 * torch.tensor([2.0, 1.0, 0.0])                                             # 0.9·0 + 0.1·n
    total = torch.stack([0.9 * torch.zeros(2) + 0.1 * (x[0] + x[1]), 0.9 * torch.ones(2) + 0.1 * x[2],
                         0.9 * torch.full((2,), 5.0)])
    n = count.sum()
    smoothed = (count + 1e-5) / (n + 3e-5) * n
    assert torch.allclose(vq.embedding, total / smoothed[:, None], rtol=1e-5)
    # debiased (Sonnet v2): after one step the averages equal the first batch's values
    vq2 = V.VectorQuantizerEMA(num_codes=3, code_dim=2, beta=0.25, decay=0.9, eps=1e-5, debias=True)
    with torch.no_grad():
        vq2.embedding.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]))
    vq2(x.T.reshape(1, 2, 1, 3))
    c = torch.tensor([2.0, 1.0, 0.0])
    sm = (c + 1e-5) / (3 + 3e-5) * 3
    assert torch.allclose(vq2.embedding[:2], torch.stack([(x[0] + x[1]), x[2]]) / sm[:2, None], rtol=1e-5)
    assert torch.allclose(vq2.embedding[2], torch.zeros(2))                                 # unused: m = 0


def test_ema_only_in_training_mode_and_loss_is_commitment_only():
    torch.manual_seed(0)
    vq = V.VectorQuantizerEMA(num_codes=4, code_dim=3, beta=0.5, decay=0.99)
    before = vq.embedding.clone()
    z = _z().requires_grad_(True)
    vq.eval()
    out = vq(z)
    assert torch.equal(vq.embedding, before) and int(vq.steps) == 0
    e = before[out.indices].permute(0, 3, 1, 2)
    assert math.isclose(float(out.loss.detach()), 0.5 * float(((z - e) ** 2).mean()), rel_tol=1e-5)
    assert not any(p.requires_grad for p in vq.parameters())                               # no gradient codebook
    vq.train()
    vq(z)
    assert not torch.equal(vq.embedding, before) and int(vq.steps) == 1
    assert {"embedding", "ema_count", "ema_sum", "steps", "idle"} <= set(vq.state_dict())  # buffers: checkpointed


def test_perplexity_bounds():
    K = 6
    assert math.isclose(float(V.perplexity_of(torch.zeros(50, dtype=torch.long), K)), 1.0, rel_tol=1e-5)
    assert math.isclose(float(V.perplexity_of(torch.arange(60) % K, K)), K, rel_tol=1e-5)
    for seed in range(5):
        torch.manual_seed(seed)
        out = V.VectorQuantizer(num_codes=K, code_dim=3, beta=0.25)(_z(seed=seed) * 0.3)
        assert 1 - 1e-5 <= float(out.perplexity.detach()) <= K + 1e-5


def test_dead_code_restart():
    torch.manual_seed(0)
    vq = V.VectorQuantizer(num_codes=8, code_dim=2, beta=0.25, restart_after=2)
    with torch.no_grad():
        vq.embedding[1:] = 100.0                                                            # codes 1..7 never chosen
    z = torch.randn(4, 2, 3, 3)
    vq.train()
    vq(z)
    assert int(vq.restarts) == 0
    vq(z)
    assert int(vq.restarts) == 7 and (vq.embedding.abs() < 50).all()                        # moved onto the data
    assert V.codes_used(vq(z).indices, 8) > 1


@pytest.mark.parametrize("bad", [dict(code_dim=3, beta=0.0), dict(code_dim=3, beta=-1.0), dict(code_dim=0, beta=0.25)])
def test_bad_arguments_raise_one_sentence(bad):
    with pytest.raises(ValueError, match="not allowed"):
        V.VectorQuantizer(num_codes=4, **bad)
    with pytest.raises(ValueError, match="not allowed"):
        V.VectorQuantizerEMA(num_codes=4, decay=0.99, eps=1e-5, **bad)


def test_wrong_channel_count_and_keyword_only():
    vq = V.VectorQuantizer(num_codes=4, code_dim=3, beta=0.25)
    with pytest.raises(ValueError, match="D = code_dim = 3"):
        vq(torch.randn(2, 5, 4, 4))
    with pytest.raises(TypeError):
        V.VectorQuantizer(3, 4, 0.25)                                                       # Sonnet's positional order


# ------------------------------------------------------------------------------------------------ the model
def test_vqvae_shapes_and_fit_method():
    torch.manual_seed(0)
    m = V.build_vqvae(hidden=16, res_hidden=8, num_codes=8, code_dim=4, data_variance=0.1)
    assert isinstance(m, Method)
    x = torch.rand(6, 1, 28, 28) - 0.5
    out = m(x)
    assert out["loss"].ndim == 0 and out["loss"].requires_grad and 1 <= float(out["perplexity"]) <= 8
    assert m.encode(x).shape == (6, 7, 7) and m.reconstruct(x).shape == x.shape
    assert m.features(x).shape == (6, 4 * 49)
    imgs = data.ImageData((torch.rand(64, 1, 28, 28) * 255).to(torch.uint8), torch.zeros(64), "t", "train", ["0"])
    hist = train.fit_method(m, data.TensorLoader(imgs, 16), 1, torch.optim.Adam(m.parameters(), 1e-3),
                            transform=lambda t: t - 0.5, progress=False, checkpoint=False)
    assert len(hist["loss"]) == 1 and int(m.quantizer.steps) == 1 + 4            # the call above, then 4 steps
    with pytest.raises(ValueError, match="data_variance"):
        V.build_vqvae(hidden=16, res_hidden=8, num_codes=8, code_dim=4, data_variance=0.0)


# ------------------------------------------------------------------------------------------------ the prior
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_masks(mask_type):
    conv = V.MaskedConv2d(2, 3, 5, mask_type)
    m = conv.mask[0, 0]
    assert m[:2].all() and not m[3:].any() and m[2, :2].all() and not m[2, 3:].any()
    assert bool(m[2, 2]) == (mask_type == "B")


def test_pixelcnn_is_causal_by_gradient():
    torch.manual_seed(0)
    K, H, W = 5, 4, 4
    prior = V.PixelCNNPrior(K, H, W, channels=8, num_layers=3)
    for p in prior.parameters():                                  # no accidental zeros hiding a dependency
        torch.nn.init.normal_(p, std=0.3)
    for pos in range(H * W):
        x = F.one_hot(torch.randint(K, (1, H, W)), K).permute(0, 3, 1, 2).float().requires_grad_(True)
        logits = prior.logits_from_onehot(x)
        logits[0, :, pos // W, pos % W].sum().backward()
        dep = x.grad[0].abs().sum(0).flatten()                                              # (H·W,)
        assert (dep[pos:] == 0).all(), f"position {pos} sees position ≥ {pos}"
        if pos > 0:
            assert dep[pos - 1] > 0                                                         # it does see its left neighbour


def test_pixelcnn_starts_at_the_frequency_baseline_and_samples():
    torch.manual_seed(0)
    K = 4
    codes = torch.randint(K, (50, 3, 3))
    freq = V.position_frequencies(codes, K)
    assert torch.allclose(freq.sum(0), torch.ones(3, 3))
    prior = V.PixelCNNPrior(K, 3, 3, channels=8, num_layers=1, init_log_freq=freq.log())
    assert math.isclose(V.bits_per_code(prior, codes), V.frequency_bits(freq, codes), rel_tol=1e-5)
    glob = V.position_frequencies(codes, K, per_position=False)
    assert glob.shape == (K,) and V.frequency_bits(glob, codes) <= math.log2(K) + 1e-6 + 0.1
    s = prior.sample(3, generator=torch.Generator().manual_seed(0))
    assert s.shape == (3, 3, 3) and s.dtype == torch.long and s.max() < K
    with pytest.raises(ValueError, match="mask_type"):
        V.MaskedConv2d(1, 1, 3, "C")


# ------------------------------------------------------------------------------------------------ classical VQ
def test_patches_round_trip_and_kmeans():
    x = torch.rand(3, 1, 8, 8)
    rows = V.image_patches(x, 4)
    assert rows.shape == (12, 16)
    assert torch.equal(V.patches_to_images(rows, x.shape, 4), x)
    assert torch.equal(rows[1], x[0, 0, :4, 4:].flatten())                                  # raster order
    pts = torch.cat([torch.randn(50, 2) * 0.1, torch.randn(50, 2) * 0.1 + 5])
    c = V.kmeans_codebook(pts, 2, seed=0)
    assert sorted(c[:, 0].round().tolist()) == [0.0, 5.0]
