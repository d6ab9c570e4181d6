"""SwAV (week 7): Sinkhorn-Knopp codes, the swapped loss over crop pairs, frozen prototypes, the queue, LARC, the
distributed Sinkhorn in two gloo processes, bad input; smoke-size ablations (multi-crop vs 2 crops, prototypes,
ε, queue) proving that the code runs (their full-scale numbers are stored results, not tests)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sslstudy import augment, backbones, data, distributed, train
from sslstudy.methods.swav import LARC, SwAV, group_by_resolution, sinkhorn, swav_loss


def sinkhorn_loop(scores, epsilon=0.05, n_iters=3):
    """The official distributed_sinkhorn on one process, written as plain loops in float64 (K × B orientation)."""
    s = scores.double().tolist()
    b, k = len(s), len(s[0])
    q = [[math.exp(s[j][i] / epsilon) for j in range(b)] for i in range(k)]        # K × B
    total = sum(sum(row) for row in q)
    q = [[v / total for v in row] for row in q]
    for _ in range(n_iters):
        for i in range(k):                                       # each prototype: total 1/K
            r = sum(q[i])
            q[i] = [v / r / k for v in q[i]]
        for j in range(b):                                       # each sample: total 1/B
            c = sum(q[i][j] for i in range(k))
            for i in range(k):
                q[i][j] = q[i][j] / c / b
    return torch.tensor([[q[i][j] * b for i in range(k)] for j in range(b)], dtype=torch.float64)   # B × K


def _scores(b=12, k=5, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = F.normalize(torch.randn(b, d, generator=g), dim=1)
    c = F.normalize(torch.randn(k, d, generator=g), dim=1)
    return z @ c.T                                               # (B, K) in [-1, 1]


def test_sinkhorn_marginals_and_agreement_with_the_loop():
    s = _scores(24, 6)
    q = sinkhorn(s)
    assert q.shape == (24, 6) and q.dtype == torch.float32
    assert torch.allclose(q.sum(1), torch.ones(24), atol=1e-5)                     # rows: exactly 1
    dev = (q.sum(0) / (24 / 6) - 1).abs().max()                                     # columns ≈ B/K after 3 iterations
    dev_softmax = (F.softmax(s / 0.05, 1).sum(0) / (24 / 6) - 1).abs().max()        # the same codes without the constraint
    assert dev < 0.5 and dev < dev_softmax / 2
    assert torch.allclose(q.double(), sinkhorn_loop(s), atol=1e-5)
    for eps, iters in ((0.5, 0), (0.1, 1), (0.05, 10)):
        assert torch.allclose(sinkhorn(s, eps, iters).double(), sinkhorn_loop(s, eps, iters), atol=1e-5)
    assert torch.allclose(sinkhorn(s, 0.05, 200).sum(0), torch.full((6,), 4.0), atol=1e-3)   # converged


def test_sinkhorn_is_finite_in_half_precision_and_at_small_epsilon():
    s = _scores(32, 10)
    for dtype in (torch.float16, torch.bfloat16):
        q = sinkhorn(s.to(dtype))
        assert q.dtype == torch.float32 and torch.isfinite(q).all()
        assert torch.allclose(q.sum(1), torch.ones(32), atol=1e-4)
    official_fp16 = torch.exp(s.half() / 0.05)                   # what the official exp gives in fp16
    assert not torch.isfinite(official_fp16).all()
    q = sinkhorn(s, epsilon=0.005)
    assert torch.isfinite(q).all() and torch.allclose(q.sum(1), torch.ones(32), atol=1e-4)
    assert not torch.isfinite(torch.exp(s / 0.005)).all() or torch.exp(s / 0.005).max() > 1e30


def test_sinkhorn_codes_are_soft_and_uniform_for_identical_features():
    q = sinkhorn(torch.full((8, 4), 0.3))                        # a collapsed batch: every score the same
    assert torch.allclose(q, torch.full((8, 4), 0.25))
    assert sinkhorn(_scores()).max() < 1.0                       # soft, not argmax


def swav_loss_loop(scores, n_crops, assign, temperature=0.1):
    bs = len(scores) // n_crops
    total = 0.0
    for s in assign:
        q = sinkhorn(scores[bs * s: bs * (s + 1)])
        sub = 0.0
        for t in range(n_crops):
            if t == s:
                continue
            p = F.softmax(scores[bs * t: bs * (t + 1)] / temperature, dim=1)
            sub += sum(-(q[b] * torch.log(p[b])).sum() for b in range(bs)) / bs
        total += sub / (n_crops - 1)
    return total / len(assign)


def test_swav_loss_equals_a_loop_over_crop_pairs():
    s = _scores(6 * 5, 7, seed=3).requires_grad_(True)          # 6 crops of B = 5
    loss = swav_loss(s, 6, (0, 1))
    assert torch.allclose(loss, swav_loss_loop(s.detach(), 6, (0, 1)), atol=1e-5)
    loss.backward()
    assert s.grad is not None and torch.isfinite(s.grad).all()
    only_first = swav_loss(s.detach(), 6, (0,))
    assert torch.allclose(only_first, swav_loss_loop(s.detach(), 6, (0,)), atol=1e-5)


def test_collapsed_features_give_ln_k():
    k = 30
    loss = swav_loss(torch.zeros(2 * 16, k), 2)                  # identical features: uniform codes and predictions
    assert abs(loss.item() - math.log(k)) < 1e-5


def test_bad_input_gets_one_sentence():
    s = _scores(10, 4)
    for eps in (0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="epsilon"):
            sinkhorn(s, epsilon=eps)
    with pytest.raises(ValueError, match="n_crops=3"):
        swav_loss(s, 3)                                          # 10 rows do not split into 3 crops
    with pytest.raises(ValueError, match="crops_for_assign"):
        swav_loss(s, 2, (0, 2))
    with pytest.raises(ValueError, match="temperature"):
        swav_loss(s, 2, temperature=0)
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        sinkhorn(torch.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        sinkhorn(torch.tensor([[float("nan"), 0.0]]))
    model = SwAV(backbones.SmallCNN(1, width=4), n_prototypes=5, proj_dim=8, hidden_dim=16)
    with pytest.raises(ValueError, match="list of at least 2"):
        model(torch.zeros(4, 1, 16, 16))
    with pytest.raises(ValueError, match="same B"):
        model([torch.zeros(4, 1, 16, 16), torch.zeros(3, 1, 16, 16)])
    with pytest.raises(ValueError, match="n_prototypes"):
        SwAV(backbones.SmallCNN(1, width=4), n_prototypes=0)


def test_group_by_resolution():
    crops = [torch.zeros(2, 1, 32, 32)] * 2 + [torch.zeros(2, 1, 16, 16)] * 3 + [torch.zeros(2, 1, 32, 32)]
    assert group_by_resolution(crops) == [(0, 2), (2, 5), (5, 6)]


def _tiny_run(tmp_path, niters, steps=6, **kw):
    torch.manual_seed(0)
    x = torch.rand(64, 1, 16, 16)
    ds = data.ImageData((x * 255).to(torch.uint8), torch.zeros(64, dtype=torch.long), "probe", "train", ["0"])
    model = SwAV(backbones.SmallCNN(1, width=4), n_prototypes=6, proj_dim=8, hidden_dim=16,
                 freeze_prototypes_niters=niters, **kw)
    loader = data.TensorLoader(ds, 16, seed=0)
    snaps = []
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
    hist = train.fit_method(model, loader, math.ceil(steps / len(loader)), opt,
                            views=augment.multicrop(16, 8, n_small=2, strength=0.5),
                            on_step=lambda step: snaps.append(model.prototypes.weight.detach().clone()),
                            checkpoint=False, progress=False, name="swav-test")
    return model, snaps, hist


def test_prototypes_frozen_for_exactly_the_stated_iterations(tmp_path):
    model, snaps, _ = _tiny_run(tmp_path, niters=3, steps=8)
    # each step: renormalise, forward, (frozen: grad None), step. While frozen, the weights stay the first
    # normalised ones; the step after the last frozen one moves them.
    # (re-normalising unit rows moves them by float rounding only, < 1e-6)
    assert all(torch.allclose(snaps[i], snaps[0], atol=1e-6) for i in range(3))
    assert (snaps[3] - snaps[2]).abs().max() > 1e-3
    assert torch.allclose(snaps[0].norm(dim=1), torch.ones(6), atol=1e-6)


def test_queue_fills_newest_first_and_is_used_once_full(tmp_path):
    model, _, hist = _tiny_run(tmp_path, niters=0, steps=8, queue_length=32, epoch_queue_starts=1)
    assert model.queue.shape == (2, 32, 8) and bool(model.queue_on)
    assert not torch.all(model.queue[:, -1] == 0)              # filled during epoch 2 (4 batches of 16 ≥ 32)
    assert torch.allclose(model.queue.norm(dim=2), torch.ones(2, 32), atol=1e-5)
    assert all(np.isfinite(hist["loss"]))


def test_larc_step_equals_apex_formula():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    w0, b0 = lin.weight.detach().clone(), lin.bias.detach().clone()
    lin(torch.randn(8, 4)).pow(2).mean().backward()
    gw, gb = lin.weight.grad.clone(), lin.bias.grad.clone()
    LARC(lin.parameters(), lr=0.6, momentum=0.9, weight_decay=1e-2).step()
    for p0, g, p in ((w0, gw, lin.weight), (b0, gb, lin.bias)):     # biases adapted too: no exclusion
        local = 0.001 * p0.norm() / (g.norm() + p0.norm() * 1e-2 + 1e-8)
        assert torch.allclose(p, p0 - 0.6 * local * (g + 1e-2 * p0), atol=1e-7)


def _rank_sinkhorn(rank, world_size, scores):
    n = len(scores) // world_size
    return sinkhorn(scores[rank * n:(rank + 1) * n]).numpy()


def test_distributed_sinkhorn_in_two_processes_equals_one_process():
    s = _scores(16, 5, seed=7)
    halves = distributed.run_in_processes(_rank_sinkhorn, world_size=2, args=(s,))
    assert torch.allclose(torch.cat([torch.from_numpy(h) for h in halves]), sinkhorn(s), atol=1e-6)
    assert not torch.allclose(torch.from_numpy(halves[0]), sinkhorn(s[:8]), atol=1e-3)   # local would differ


@pytest.mark.parametrize("variant", [dict(n_small=0), dict(n_small=2), dict(n_prototypes=3), dict(epsilon=0.03),
                                     dict(queue_length=32, epoch_queue_starts=1)])
def test_smoke_ablations_run(tmp_path, variant):
    """Smoke size only: each ablation of the stored full-scale table trains a few steps without NaN."""
    n_small = variant.pop("n_small", 2)
    torch.manual_seed(0)
    x = torch.rand(64, 1, 16, 16)
    ds = data.ImageData((x * 255).to(torch.uint8), torch.zeros(64, dtype=torch.long), "probe", "train", ["0"])
    model = SwAV(backbones.SmallCNN(1, width=4), **{"n_prototypes": 6, "proj_dim": 8, "hidden_dim": 16,
                                                   "freeze_prototypes_niters": 2, **variant})
    hist = train.fit_method(model, data.TensorLoader(ds, 16, seed=0), 2, torch.optim.Adam(model.parameters(), 1e-3),
                            views=augment.multicrop(16, 8, n_small=n_small), checkpoint=False, progress=False,
                            name="swav-smoke")
    assert len(hist.steps) == 8 and all(np.isfinite(hist.steps))
    assert 1 <= hist.last("proto_used") <= model.n_prototypes


def test_fast_sweep_knobs():
    """benchmarks/swav_fast_sweep.py (the exploration behind the fast setting's ε): knobs parse, bad ones are one sentence."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "swav_fast_sweep.py"
    spec = importlib.util.spec_from_file_location("swav_fast_sweep", path)
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    knobs = sweep.parse_set(["eps=0.03", "K=30", "qlen=1024"])
    assert knobs["eps"] == 0.03 and knobs["K"] == 30 and isinstance(knobs["K"], int) and knobs["qlen"] == 1024
    assert knobs["bs"] == 256 and knobs["lr"] == 2e-3                       # the rest stay the notebook's
    for bad, words in ((["tau=0.2"], "NAME one of"), (["eps"], "NAME=VALUE"), (["K=many"], "not a number"), (["K=2.5"], "whole number")):
        with pytest.raises(SystemExit, match=words):
            sweep.parse_set(bad)
