"""Unit tests of week 8 (SimCLR): the NT-Xent loss, the model, LARS, the schedule and cross-replica negatives."""
import math

import pytest
import torch
import torch.nn.functional as F

from sslstudy import distributed
from sslstudy.backbones import SmallCNN
from sslstudy.methods import simclr


def nt_xent_loop(z1, z2, tau):
    """Eq. (1) of the paper, one anchor at a time: 2N anchors, each against its 2N−1 other samples."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # (2N, D): rows k and k+N are the two views of image k
    n2 = len(z)
    n = n2 // 2
    total = 0.0
    for i in range(n2):
        j = (i + n) % n2
        num = torch.exp(z[i] @ z[j] / tau)
        den = sum(torch.exp(z[i] @ z[k] / tau) for k in range(n2) if k != i)
        total = total - torch.log(num / den)
    return total / n2


def test_matches_plain_loop():
    g = torch.Generator().manual_seed(0)
    for n, d, tau in [(4, 8, 0.5), (7, 3, 0.1), (16, 32, 1.0)]:
        z1, z2 = torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(n, d, generator=g, dtype=torch.float64)
        assert torch.allclose(simclr.nt_xent_loss(z1, z2, tau).double(), nt_xent_loop(z1, z2, tau), atol=1e-4)


def test_known_value_identical_views_orthogonal_images():
    # z1 = z2 = N orthonormal rows: each anchor's positive has cos 1, the 2N−2 negatives cos 0.
    n, tau = 5, 0.5
    z = torch.eye(n)
    expected = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 2 * n - 2))
    assert simclr.nt_xent_loss(z, z.clone(), tau).item() == pytest.approx(expected, rel=1e-5)


def test_uninformative_embeddings_give_log_2n_minus_1():
    n = 8
    z = torch.ones(n, 4)  # every similarity equal → uniform over the 2N−1 candidates
    assert simclr.nt_xent_loss(z, z, 0.5).item() == pytest.approx(math.log(2 * n - 1), rel=1e-5)


def test_symmetric_in_the_two_views_and_scale_invariant():
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(6, 10, generator=g), torch.randn(6, 10, generator=g)
    a = simclr.nt_xent_loss(z1, z2, 0.2)
    assert torch.allclose(a, simclr.nt_xent_loss(z2, z1, 0.2), atol=1e-6)
    assert torch.allclose(a, simclr.nt_xent_loss(3 * z1, 0.5 * z2, 0.2), atol=1e-5)


def test_gradient_reaches_the_encoder_and_h_is_not_z():
    torch.manual_seed(0)
    model = simclr.SimCLR(SmallCNN(3, width=4), proj_dim=16)
    x1, x2 = torch.rand(6, 3, 16, 16), torch.rand(6, 3, 16, 16)
    loss = model.loss(x1, x2, 0.5)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.encoder.parameters())
    assert model.encoder.features[0].weight.grad.abs().sum() > 0
    h, z = model(x1)
    assert h.shape == (6, model.encoder.feature_dim) and z.shape == (6, 16)


def test_positive_rank_and_normalized_std():
    z = torch.eye(6)
    r = simclr.positive_rank(z, z)
    assert r["top1"] == 1.0 and r["mean_rank"] == 1.0
    assert simclr.normalized_std(torch.ones(10, 4)) == pytest.approx(0.0, abs=1e-6)
    big = simclr.normalized_std(torch.randn(4000, 64, generator=torch.Generator().manual_seed(0)))
    assert big == pytest.approx(1 / math.sqrt(64), rel=0.05)


@pytest.mark.parametrize("bad, match", [
    (lambda: simclr.nt_xent_loss(torch.randn(4, 3), torch.randn(5, 3), 0.5), "same shape"),
    (lambda: simclr.nt_xent_loss(torch.randn(4, 3, 2), torch.randn(4, 3, 2), 0.5), r"\(N, D\)"),
    (lambda: simclr.nt_xent_loss(torch.randn(4, 3), torch.randn(4, 3), 0.0), "positive number"),
    (lambda: simclr.nt_xent_loss(torch.randn(1, 3), torch.randn(1, 3), 0.5), "at least 2"),
    (lambda: simclr.nt_xent_loss([1.0], torch.randn(1, 3), 0.5), "torch.Tensor"),
    (lambda: simclr.scaled_lr(0.3, 256, "log"), "'linear' or 'sqrt'"),
    (lambda: simclr.LARS([torch.nn.Parameter(torch.ones(2))], lr=-1), "lr=-1"),
])
def test_bad_inputs_say_what_is_allowed(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        bad()


def test_lars_trust_ratio_and_exclusions():
    torch.manual_seed(0)
    lin, bn = torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)
    model = torch.nn.Sequential(lin, bn)
    groups = simclr.lars_param_groups(model, weight_decay=0.1)
    assert [len(g["params"]) for g in groups] == [1, 3]             # weight | bias, BN weight, BN bias
    assert groups[1]["weight_decay"] == 0.0 and groups[1]["lars"] is False
    opt = simclr.LARS(groups, lr=0.5, momentum=0.9, eta=0.001)
    grads = {p: torch.randn_like(p) for p in model.parameters()}
    before = {p: p.detach().clone() for p in model.parameters()}
    for p in model.parameters():
        p.grad = grads[p].clone()
    opt.step()
    w, g = before[lin.weight], grads[lin.weight] + 0.1 * before[lin.weight]
    trust = 0.001 * w.norm() / g.norm()
    assert torch.allclose(lin.weight, w - 0.5 * trust * g, atol=1e-6)      # first step: v = lr·trust·(g + wd·w)
    for p in (lin.bias, bn.weight, bn.bias):                                 # no wd, no adaptation: plain SGD step
        assert torch.allclose(p, before[p] - 0.5 * grads[p], atol=1e-6)
    # second step: momentum accumulates lr·trust·g inside the buffer ("classic" momentum)
    for p in model.parameters():
        p.grad = grads[p].clone()
    b_before = lin.bias.detach().clone()
    opt.step()
    assert torch.allclose(lin.bias, b_before - (0.9 * 0.5 * grads[lin.bias] + 0.5 * grads[lin.bias]), atol=1e-6)


def test_lars_zero_weight_falls_back_to_trust_one():
    p = torch.nn.Parameter(torch.zeros(3, 2))
    opt = simclr.LARS([{"params": [p], "weight_decay": 0.0, "lars": True}], lr=0.1, momentum=0.0)
    p.grad = torch.ones(3, 2)
    opt.step()
    assert torch.allclose(p, torch.full((3, 2), -0.1))


def test_schedule_warmup_cosine_and_scaling():
    assert simclr.scaled_lr(1.0, 512, "linear") == pytest.approx(2.0)
    assert simclr.scaled_lr(0.075, 4096, "sqrt") == pytest.approx(0.075 * 64)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=123.0)
    sch = simclr.learning_rate_schedule(opt, 1.0, 256, num_examples=2560, num_epochs=10, warmup_epochs=2)
    lrs = []
    for _ in range(101):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    assert lrs[0] == 0.0 and lrs[10] == pytest.approx(0.5) and lrs[20] == pytest.approx(1.0)   # 20 warm-up steps
    assert max(lrs) == pytest.approx(1.0) and lrs[-1] < 0.01


def _rank_loss(rank, world, z1_all, z2_all, tau):
    n = len(z1_all) // world
    z1 = z1_all[rank * n:(rank + 1) * n].clone().requires_grad_(True)
    z2 = z2_all[rank * n:(rank + 1) * n].clone().requires_grad_(True)
    loss = simclr.nt_xent_loss(z1, z2, tau, gather=True)
    loss.backward()
    # numpy, not tensors: a tensor put on run_in_processes' queue travels as a shared-memory file descriptor that
    # dies with the child process (EOFError in the parent); numpy arrays are pickled by value
    return loss.item(), z1.grad.numpy(), z2.grad.numpy()


def test_cross_replica_negatives_equal_one_process():
    g = torch.Generator().manual_seed(0)
    z1, z2, tau = torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g), 0.5
    out = distributed.run_in_processes(_rank_loss, world_size=2, args=(z1, z2, tau))
    a, b = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    full = simclr.nt_xent_loss(a, b, tau)
    full.backward()
    # the mean of the per-rank losses is the global loss …
    assert sum(o[0] for o in out) / 2 == pytest.approx(full.item(), abs=1e-5)
    # … and each rank's gradient w.r.t. its own embeddings is that of Σ_r loss_r = world · global mean loss
    g1 = torch.cat([torch.from_numpy(o[1]) for o in out])
    g2 = torch.cat([torch.from_numpy(o[2]) for o in out])
    assert torch.allclose(g1, 2 * a.grad, atol=1e-5) and torch.allclose(g2, 2 * b.grad, atol=1e-5)
