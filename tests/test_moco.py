"""Unit tests of week 6 (MoCo v1): the queue inside the method, the momentum update, the logits layout, the
demo's SplitBatchNorm, Shuffle-BN in two gloo processes, bad input, and the smoke-size ablations (Shuffle-BN on/off,
K, symmetric loss, m = 0, the MLP head) that prove the full-mode ablation code runs."""
import copy
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from sslstudy import data, distributed, losses, train
from sslstudy.backbones import SmallCNN
from sslstudy.heads import MoCoV2Head
from sslstudy.method import Method
from sslstudy.methods import moco
from sslstudy.methods.moco import MoCo, SplitBatchNorm, moco_logits, split_batchnorm


def _model(**kw):
    torch.manual_seed(0)
    kw = {"dim": 8, "K": 32, "m": 0.9, "T": 0.1, "queue_seed": 0, **kw}
    return MoCo(SmallCNN(1, width=4), **kw)


def _crops(b=8, seed=0, size=8):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 1, size, size, generator=g), torch.rand(b, 1, size, size, generator=g)


def test_is_a_method_with_the_papers_names():
    model = _model()
    assert isinstance(model, Method) and model.backbone is model.encoder_q[0]
    assert (model.dim, model.K, model.m, model.T, model.tau) == (8, 32, 0.9, 0.1, 0.1)
    assert all(not p.requires_grad for p in model.encoder_k.parameters())
    assert all(torch.equal(pq, pk) for pq, pk in zip(model.encoder_q.parameters(), model.encoder_k.parameters()))
    assert tuple(model.queue.keys.shape) == (32, 8)
    assert torch.allclose(model.queue.keys.norm(dim=1), torch.ones(32))      # random unit rows at the start
    x = torch.rand(4, 1, 8, 8)
    assert model.features(x).shape == (4, model.backbone.feature_dim)
    assert isinstance(_model(mlp=True).encoder_q[1], MoCoV2Head)
    assert isinstance(_model().encoder_q[1], nn.Linear)


def test_queue_pointer_wraps_and_holds_the_keys():
    model = _model(K=24)
    model.train()
    for step in range(4):
        x1, x2 = _crops(8, seed=step)
        model((x1, x2))
        assert int(model.queue.ptr) == (8 * (step + 1)) % 24
    # after 4 steps of 8 keys in a queue of 24: rows 0-7 hold step 3's keys, rows 8-23 steps 1 and 2
    model.eval()
    x1, x2 = _crops(8, seed=3)
    ptr, keys = int(model.queue.ptr), model.queue.keys.clone()
    out = model((x1, x2))                                    # eval: the same loss, no enqueue, no momentum update
    assert int(model.queue.ptr) == ptr and torch.equal(model.queue.keys, keys) and out["loss"].ndim == 0
    assert torch.allclose(model.queue.keys.norm(dim=1), torch.ones(24), atol=1e-5)


def test_checkpoint_round_trip_keeps_queue_and_key_encoder():
    model = _model()
    model.train()
    for step in range(3):
        model(_crops(8, seed=step))
    state = model.state_dict()
    assert {"queue.keys", "queue.ptr", "encoder_k.0.features.1.running_mean"} <= set(state)
    fresh = _model(queue_seed=5)
    fresh.load_state_dict(state)
    assert all(torch.equal(v, fresh.state_dict()[k]) for k, v in state.items())
    assert int(fresh.queue.ptr) == 24


def test_momentum_update_parameters_only_m0_copies_m1_freezes():
    model = _model(m=0.0)
    with torch.no_grad():
        for p in model.encoder_q.parameters():
            p.add_(0.5)                                      # as if an optimiser step moved θ_q
    buffers = {k: v.clone() for k, v in model.encoder_k.named_buffers()}
    for bn in model.encoder_q.modules():                     # θ_q's BN statistics differ from θ_k's
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.add_(1.0)
    lag = model.momentum_update()
    assert lag > 0
    assert all(torch.equal(pq, pk) for pq, pk in zip(model.encoder_q.parameters(), model.encoder_k.parameters()))
    assert all(torch.equal(v, dict(model.encoder_k.named_buffers())[k]) for k, v in buffers.items())  # not averaged
    frozen = _model(m=1.0)
    before = [p.clone() for p in frozen.encoder_k.parameters()]
    with torch.no_grad():
        for p in frozen.encoder_q.parameters():
            p.add_(0.5)
    frozen.momentum_update()
    assert all(torch.equal(a, b) for a, b in zip(before, frozen.encoder_k.parameters()))
    half = _model(m=0.5)
    k0 = [p.clone() for p in half.encoder_k.parameters()]
    with torch.no_grad():
        for p in half.encoder_q.parameters():
            p.add_(1.0)
    half.momentum_update()                                   # θ_k ← 0.5·θ_k + 0.5·(θ_k + 1) = θ_k + 0.5
    assert all(torch.allclose(pk, k + 0.5) for pk, k in zip(half.encoder_k.parameters(), k0))


def test_momentum_update_happens_before_the_key_forward():
    model = _model(m=0.0, shuffle=False)
    model.train()
    with torch.no_grad():
        for p in model.encoder_q.parameters():
            p.mul_(1.1)                                      # θ_q moved since θ_k was copied
    x1, x2 = _crops(8)
    expect = F.normalize(copy.deepcopy(model.encoder_q)(x2), dim=1).detach()   # f_q(x2) in train mode (batch BN)
    model((x1, x2))
    assert torch.allclose(model.queue.keys[:8], expect, atol=1e-5)           # keys of the *updated* f_k


def test_logits_layout_positive_first_and_the_loss():
    g = torch.Generator().manual_seed(0)
    q = F.normalize(torch.randn(6, 5, generator=g), dim=1)
    k = F.normalize(torch.randn(6, 5, generator=g), dim=1)
    queue = F.normalize(torch.randn(12, 5, generator=g), dim=1)
    logits = moco_logits(q, k, queue, 0.2)
    assert logits.shape == (6, 13)
    assert torch.allclose(logits[:, 0], (q * k).sum(1) / 0.2)
    assert torch.allclose(logits[:, 1:], q @ queue.T / 0.2)
    # the official code: einsum with the (dim, K) queue, cross-entropy with labels 0
    l_pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
    l_neg = torch.einsum("nc,ck->nk", [q, queue.T.contiguous()])
    official = F.cross_entropy(torch.cat([l_pos, l_neg], 1) / 0.2, torch.zeros(6, dtype=torch.long))
    ours = losses.info_nce_from_logits(logits, 0)
    assert torch.allclose(ours, official) and torch.allclose(ours, losses.info_nce(q, k, queue, tau=0.2))


def test_gradients_reach_the_query_encoder_only():
    model = _model()
    model.train()
    out = model(_crops(8))
    out["loss"].backward()
    assert all(p.grad is not None for p in model.encoder_q.parameters())
    assert all(p.grad is None for p in model.encoder_k.parameters())
    assert {"loss", "acc", "pos_sim", "neg_sim", "key_lag", "key_step"} <= set(out)
    assert 0.0 <= out["acc"] <= 1.0 and math.isclose(out["key_step"], 0.1 * out["key_lag"], rel_tol=1e-6)


def test_symmetric_loss_sums_both_directions_and_enqueues_both_crops():
    model = _model(symmetric=True, shuffle=False)
    model.train()
    x1, x2 = _crops(8)
    ref = copy.deepcopy(model)
    ref.momentum_update()
    queue = ref.queue.keys.clone()
    l12 = ref.contrastive_loss(x1, x2)[0]
    l21 = ref.contrastive_loss(x2, x1)[0]
    out = model((x1, x2))
    assert torch.allclose(out["loss"], l12 + l21, atol=1e-5)
    assert int(model.queue.ptr) == 16
    assert torch.equal(model.queue.keys[16:], queue[16:])
    with pytest.raises(ValueError, match="K=24"):
        _model(symmetric=True, K=24)((x1, x2))               # 16 keys per step do not divide 24


def _per_chunk_bn(x, bn, s):
    """BN in training mode applied to each of s contiguous chunks separately (what s GPUs compute)."""
    outs, means, vars_ = [], [], []
    for chunk in x.chunk(s):
        rm, rv = bn.running_mean.clone(), bn.running_var.clone()
        outs.append(F.batch_norm(chunk, rm, rv, bn.weight, bn.bias, True, bn.momentum, bn.eps))
        means.append(rm)
        vars_.append(rv)
    return torch.cat(outs), torch.stack(means).mean(0), torch.stack(vars_).mean(0)


def test_split_batchnorm_equals_batchnorm_per_chunk():
    torch.manual_seed(0)
    x = torch.randn(12, 3, 4, 4) * 2 + 1
    bn = SplitBatchNorm(3, num_splits=4)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    expect, mean, var = _per_chunk_bn(x, bn, 4)
    out = bn(x)
    assert torch.allclose(out, expect, atol=1e-5)
    assert torch.allclose(bn.running_mean, mean, atol=1e-6) and torch.allclose(bn.running_var, var, atol=1e-6)
    plain = nn.BatchNorm2d(3)
    plain.load_state_dict(bn.state_dict())
    bn.eval()
    plain.eval()
    assert torch.allclose(bn(x), plain(x))                    # eval: plain BN with the running statistics
    # the point of it: a plain BN is permutation-invariant, a split BN is not
    perm = torch.randperm(12)
    plain.train()
    assert torch.allclose(plain(x[perm]), plain(x)[perm], atol=1e-5)
    bn.train()
    assert not torch.allclose(bn(x[perm]), bn(x)[perm], atol=1e-3)
    with pytest.raises(ValueError, match="multiple of 4"):
        bn(torch.randn(10, 3, 4, 4))


def test_split_batchnorm_replaces_every_bn_and_keeps_weights():
    net = SmallCNN(3, width=4)
    state = copy.deepcopy(net.state_dict())
    split_batchnorm(net, 2)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(isinstance(m, SplitBatchNorm) and m.num_splits == 2 for m in bns)
    assert net.state_dict().keys() == state.keys() and all(torch.equal(net.state_dict()[k], v) for k, v in state.items())
    assert split_batchnorm(SmallCNN(3), 1) is not None


@pytest.mark.parametrize("kw, match", [
    ({"m": 1.5}, "m=1.5"), ({"m": -0.1}, "m=-0.1"), ({"T": 0.0}, "T=0.0"), ({"K": 0}, "K=0"),
    ({"dim": 2.5}, "dim=2.5"), ({"bn_splits": 0}, "bn_splits=0"),
])
def test_bad_settings_get_one_sentence(kw, match):
    with pytest.raises(ValueError, match=match):
        _model(**kw)


def test_batch_not_dividing_the_queue_gets_one_sentence():
    model = _model(K=20)
    model.train()
    with pytest.raises(ValueError, match=r"queue size K=20 is not a multiple of the 8 keys .*choose K = 16 or 24"):
        model(_crops(8))
    with pytest.raises(ValueError, match="two crops"):
        model(torch.rand(8, 1, 8, 8))
    with pytest.raises(ValueError, match="num_splits=3"):
        _model(bn_splits=3).train()(_crops(8))              # 8 images do not split in 3


# ---- Shuffle-BN in two gloo processes -------------------------------------------------------------------------

def _encoder(splits):
    torch.manual_seed(0)
    return split_batchnorm(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                         nn.AdaptiveAvgPool2d(1), nn.Flatten()), splits)


def _rank_keys(rank, world, x_all, seed):
    b = len(x_all) // world
    x = x_all[rank * b:(rank + 1) * b]                                   # (B, 1, 8, 8) this rank's key crops
    enc = _encoder(1).eval()                         # first batch-independent (eval, the same BN statistics on both ranks)
    x_sh2, idx2 = distributed.batch_shuffle_ddp(x, generator=torch.Generator().manual_seed(seed + 1))
    k_eval = distributed.batch_unshuffle_ddp(enc(x_sh2), idx2)
    k_eval_in_order = enc(x)
    enc.train()                                                          # each process: a plain BN over its slice
    g = torch.Generator().manual_seed(seed)
    x_sh, idx_unshuffle = distributed.batch_shuffle_ddp(x, generator=g)
    k = distributed.batch_unshuffle_ddp(enc(x_sh), idx_unshuffle)
    return {"k": k.detach(), "k_eval": k_eval.detach(), "k_eval_in_order": k_eval_in_order.detach(), "x_sh": x_sh}


def test_shuffle_unshuffle_in_two_processes_equals_one_process_with_split_bn():
    x_all = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    out = distributed.run_in_processes(_rank_keys, world_size=2, args=(x_all, 3), timeout_s=60)
    for r in out:                                                        # shuffle + unshuffle is the identity
        assert torch.allclose(r["k_eval"], r["k_eval_in_order"], atol=1e-6)
    # the shuffle moved images across processes
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.cat([r["x_sh"] for r in out]), x_all[perm])
    # one process, SplitBatchNorm(2) over the same two sub-batches of the permuted batch, then unshuffled
    one = _encoder(2)(x_all[perm])[torch.argsort(perm)]
    assert torch.allclose(torch.cat([r["k"] for r in out]), one, atol=1e-5)
    without_shuffle = _encoder(2)(x_all)
    assert not torch.allclose(one, without_shuffle, atol=1e-3)          # BN statistics really changed


def _rank_moco_step(rank, world, x1_all, x2_all):
    b = len(x1_all) // world
    torch.manual_seed(1)
    model = MoCo(SmallCNN(1, width=4), dim=8, K=32, m=0.9, T=0.1, queue_seed=0)
    model.train()
    out = model((x1_all[rank * b:(rank + 1) * b], x2_all[rank * b:(rank + 1) * b]))
    return {"keys": model.queue.keys.clone(), "ptr": int(model.queue.ptr), "loss": float(out["loss"])}


def test_every_process_holds_the_same_queue_after_an_enqueue():
    g = torch.Generator().manual_seed(0)
    x1, x2 = torch.rand(8, 1, 8, 8, generator=g), torch.rand(8, 1, 8, 8, generator=g)
    out = distributed.run_in_processes(_rank_moco_step, world_size=2, args=(x1, x2), timeout_s=60)
    assert out[0]["ptr"] == out[1]["ptr"] == 8                           # 2 processes x 4 keys
    assert torch.equal(out[0]["keys"], out[1]["keys"])
    init = MoCo(SmallCNN(1, width=4), dim=8, K=32, queue_seed=0).queue.keys
    assert torch.equal(out[0]["keys"][8:], init[8:]) and not torch.equal(out[0]["keys"][:8], init[:8])
    assert out[0]["loss"] != out[1]["loss"]                              # each rank's own queries


# ---- smoke-size ablations: the full-mode ablation settings run (they prove the code, not the finding) --------

def _smoke(**kw):
    train_set = data.balanced_subset(data.load("digits"), 64, seed=0)
    torch.manual_seed(0)
    model = MoCo(SmallCNN(1, width=4), dim=8, T=0.2, queue_seed=0, **{"K": 32, "m": 0.99, **kw})
    opt = torch.optim.SGD(model.parameters(), lr=0.06, momentum=0.9, weight_decay=5e-4)
    loader = data.TensorLoader(train_set, 16, seed=0)
    views = lambda x: (x.float() / 255 + 0.1 * torch.randn(x.shape), x.float() / 255 + 0.1 * torch.randn(x.shape))  # noqa: E731
    hist = train.fit_method(model, loader, 2, opt, views=views, checkpoint=False, progress=False)
    return model, hist, 2 * len(loader)


@pytest.mark.parametrize("kw", [{}, {"bn_splits": 4}, {"bn_splits": 4, "shuffle": False}, {"K": 64},
                                {"symmetric": True}, {"m": 0.0}, {"mlp": True}], ids=str)
def test_smoke_ablations_train(kw):
    model, hist, n_steps = _smoke(**kw)
    assert len(hist.steps) == n_steps and all(math.isfinite(v) for v in hist.steps)
    per_step = 16 * (2 if kw.get("symmetric") else 1)
    assert int(model.queue.ptr) == (n_steps * per_step) % model.K
    assert hist.last("key_step") >= 0 and (hist.last("key_step") == 0) == (kw.get("m") == 1.0)


def test_module_doc_names_the_official_functions():
    for name in ("_momentum_update_key_encoder", "_dequeue_and_enqueue", "_batch_shuffle_ddp", "SplitBatchNorm"):
        assert name in moco.__doc__
