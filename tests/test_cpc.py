"""CPC v1 (sslstudy.methods.cpc): the encoder's downsampling and receptive field, the loss against a plain loop,
the candidate axis, the negative sampling, bad input, and a short training run."""
import math

import pytest
import torch

from sslstudy import losses, speech, train
from sslstudy.data import TensorLoader
from sslstudy.methods import cpc


def test_encoder_downsamples_by_160():
    assert cpc.DOWNSAMPLING == 160 == math.prod(cpc.STRIDES) and cpc.RECEPTIVE_FIELD == 465
    enc = cpc.Encoder(8)
    for length in (480, 1600, 20480):
        assert enc(torch.randn(2, length)).shape == (2, length // 160, 8)
    assert enc(torch.randn(2, 1, 1600)).shape == (2, 10, 8)


def test_receptive_field_and_alignment():
    """One sample changed at position p changes exactly the z_t with 160 t − 153 <= p < 160 t + 312: each z_t sees
    465 samples centred on hop t's centre (160 t + 80), so it lines up with the phone label of hop t."""
    torch.manual_seed(0)
    enc = cpc.Encoder(4, norm="none").double()
    with torch.no_grad():                                     # positive weights and inputs: no ReLU is ever off
        for conv in enc.convs:
            conv.weight.abs_()
            conv.bias.fill_(0.1)
    x = torch.rand(1, 3200, dtype=torch.float64)
    for p in (1000, 1601, 2222):
        y = x.clone()
        y[0, p] += 1.0
        changed = (enc(y) - enc(x)).abs().sum(-1)[0] > 0                    # (T,)
        expect = torch.tensor([160 * t - 153 <= p < 160 * t + 312 for t in range(20)])
        assert torch.equal(changed, expect), (p, changed.nonzero().flatten().tolist())


def _tiny(B=3, T=9, Dz=5, Dc=4, K=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    z, c = torch.randn(B, T, Dz, generator=g), torch.randn(B, T, Dc, generator=g)
    pred = cpc.Predictors(Dc, Dz, K)
    with torch.no_grad():
        for w in pred.W:
            w.weight.copy_(torch.randn(w.weight.shape, generator=g))
    return z, c, pred


def _loop_loss(z, c, pred, n, mode, seed):
    """Eq. 4 written as loops: for each k, t, b: −log exp(s⁺) / (exp(s⁺) + Σ exp(s⁻)), the negatives drawn by the
    same calls to sample_negatives as cpc_loss makes."""
    g = torch.Generator().manual_seed(seed)
    B, T, D = z.shape
    total = 0.0
    for k in range(1, pred.steps + 1):
        b_pos = torch.arange(B).repeat_interleave(T - k)
        t_pos = torch.arange(k, T).repeat(B)
        idx = cpc.sample_negatives(b_pos, t_pos, B, T, n, mode, g)
        terms = []
        for q in range(len(b_pos)):
            b, t = int(b_pos[q]), int(t_pos[q])
            w_c = pred.W[k - 1].weight @ c[b, t - k]                           # W_k c_t  (D,)
            pos = float(z[b, t] @ w_c)
            neg = [float(z.reshape(B * T, D)[int(j)] @ w_c) for j in idx[q]]
            terms.append(-(pos - math.log(math.exp(pos) + sum(math.exp(s) for s in neg))))
        total += sum(terms) / len(terms)
    return total


@pytest.mark.parametrize("mode", cpc.NEGATIVE_MODES)
def test_loss_equals_a_plain_loop_and_info_nce(mode):
    z, c, pred = _tiny()
    loss, acc = cpc.cpc_loss(z, c, pred, 6, mode, torch.Generator().manual_seed(7))
    assert abs(float(loss.detach()) - _loop_loss(z, c, pred, 6, mode, 7)) < 1e-4
    assert acc.shape == (3,) and ((acc >= 0) & (acc <= 1)).all()
    # the same with the library's info_nce and per-query negatives (B, M, D)
    g, B, T, D = torch.Generator().manual_seed(7), *z.shape
    ref = 0.0
    for k in range(1, 4):
        b_pos, t_pos = torch.arange(B).repeat_interleave(T - k), torch.arange(k, T).repeat(B)
        neg = z.reshape(B * T, D)[cpc.sample_negatives(b_pos, t_pos, B, T, 6, mode, g)]
        ref += losses.info_nce(pred(c[:, :T - k], k).reshape(-1, D), z[:, k:].reshape(-1, D), neg)
    assert torch.allclose(loss, ref, atol=1e-5)


def _wrong_axis(logits, pos_index=0, mask=None):
    """jefflai108's CDCK2 (issue #19): the softmax normalises over the predictions (dim 0), not the candidates."""
    return -torch.log_softmax(logits, dim=0)[:, pos_index].mean()


def test_softmax_over_candidates_and_a_wrong_axis_fails(monkeypatch):
    z, c, pred = _tiny(seed=3)
    reference = _loop_loss(z, c, pred, 6, "both", 1)
    right, _ = cpc.cpc_loss(z, c, pred, 6, "both", torch.Generator().manual_seed(1))
    assert abs(float(right.detach()) - reference) < 1e-4
    monkeypatch.setattr(cpc.losses, "info_nce_from_logits", _wrong_axis)
    wrong, _ = cpc.cpc_loss(z, c, pred, 6, "both", torch.Generator().manual_seed(1))
    assert abs(float(wrong.detach()) - reference) > 0.1                  # the loop test would catch the wrong axis


def test_loss_at_zero_predictors_is_K_log_candidates():
    z, c, pred = _tiny()
    for w in pred.W:
        torch.nn.init.zeros_(w.weight)
    loss, _ = cpc.cpc_loss(z, c, pred, 6, "both")
    assert abs(float(loss.detach()) - 3 * math.log(7)) < 1e-5            # every logit 0: log(1 + N) per step


def test_negative_sampling_modes():
    B, T = 4, 10
    b_pos, t_pos = torch.arange(B).repeat_interleave(T - 2), torch.arange(2, T).repeat(B)
    pos = b_pos * T + t_pos
    g = torch.Generator().manual_seed(0)
    same = cpc.sample_negatives(b_pos, t_pos, B, T, 200, "same", g)
    other = cpc.sample_negatives(b_pos, t_pos, B, T, 200, "other", g)
    both = cpc.sample_negatives(b_pos, t_pos, B, T, 200, "both", g)
    for idx in (same, other, both):
        assert idx.shape == (len(pos), 200) and not (idx == pos[:, None]).any()
        assert int(idx.min()) >= 0 and int(idx.max()) < B * T
    assert ((same // T) == b_pos[:, None]).all()                 # same utterance
    assert ((other // T) != b_pos[:, None]).all()                # never the query's own utterance
    frac_same = ((both // T) == b_pos[:, None]).float().mean()   # about (T − 1) / (B·T − 1) from its own
    assert abs(float(frac_same) - 9 / 39) < 0.05


def test_bad_input_one_sentence():
    enc = cpc.Encoder(4)
    with pytest.raises(ValueError, match="shorter than the encoder's receptive field"):
        enc(torch.randn(2, 400))
    z, c, pred = _tiny(T=3, K=3)
    with pytest.raises(ValueError, match="K=3 prediction steps need sequences longer than K"):
        cpc.cpc_loss(z, c, pred)
    z, c, pred = _tiny()
    with pytest.raises(ValueError, match="negatives='speaker'"):
        cpc.cpc_loss(z, c, pred, 4, "speaker")
    with pytest.raises(ValueError, match="n_negatives=0"):
        cpc.cpc_loss(z, c, pred, 0)
    with pytest.raises(ValueError, match="norm='group'"):
        cpc.Encoder(4, norm="group")
    with pytest.raises(ValueError, match="length=1000"):
        cpc.random_windows(torch.randn(2, 3200), 1000)


def test_random_windows_keep_labels_aligned():
    x = torch.arange(2 * 1600, dtype=torch.float32).reshape(2, 1600)
    labels = (x[:, ::160] // 160).long()                         # the label of hop t is its own index
    win, lab = cpc.random_windows(x, 480, torch.Generator().manual_seed(0), labels)
    assert win.shape == (2, 480) and lab.shape == (2, 3)
    assert torch.equal((win[:, ::160] // 160).long(), lab)


@pytest.mark.parametrize("mode", cpc.NEGATIVE_MODES)
def test_cpc_trains_with_fit_method(mode):
    """A few steps on generated speech lower the loss (each negative-sampling mode of the ablation runs)."""
    torch.manual_seed(0)
    corpus = speech.synthetic_speech(4, 2, seconds=0.32, seed=1)
    method = cpc.CPC(cpc.CPCNet(16, 16), steps=4, n_negatives=8, negatives=mode)
    loader = TensorLoader(corpus.audio, 8, seed=0)
    hist = train.fit_method(method, loader, 25, torch.optim.Adam(method.parameters(), lr=3e-3),
                            checkpoint=False, progress=False)
    first, last = hist["loss"][0], hist["loss"][-1]
    assert last < first - 0.3, (first, last)
    feats = cpc.context_features(method.backbone, corpus.audio)
    assert feats.shape == (8, 32, 16)
