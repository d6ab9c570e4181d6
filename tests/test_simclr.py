"""Unit tests of week 8 (SimCLR): the NT-Xent loss, the model (a Method), LARS and the schedule as SimCLR uses them
(from sslstudy.optim), cross-replica negatives, and the LARS/SGD/Adam smoke run that used to sit in the notebook."""
import math

import pytest
import torch
import torch.nn.functional as F

from sslstudy import augment, data, distributed, optim, train
from sslstudy.backbones import SmallCNN
from sslstudy.method import Method
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
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.backbone.parameters())
    assert model.encoder is model.backbone and model.backbone.features[0].weight.grad.abs().sum() > 0
    h, z = model.project(x1)
    assert h.shape == (6, model.backbone.feature_dim) and z.shape == (6, 16)


def test_simclr_is_a_method_forward_views_returns_loss_and_diagnostics():
    torch.manual_seed(0)
    model = simclr.SimCLR(SmallCNN(3, width=4), proj_dim=16, tau=0.5)
    assert isinstance(model, Method) and isinstance(model.projector, simclr.ProjectionHead)
    x1, x2 = torch.rand(6, 3, 16, 16), torch.rand(6, 3, 16, 16)
    out = model((x1, x2))
    assert set(out) == {"loss", "pos_top1", "z_std"} and out["loss"].ndim == 0
    assert torch.allclose(out["loss"], model.loss(x1, x2), atol=1e-6)   # one batch of 2N: same BN statistics
    assert 0.0 <= out["pos_top1"] <= 1.0 and out["z_std"] > 0
    torch.manual_seed(0)
    doubled = simclr.SimCLR(SmallCNN(3, width=4), proj_dim=16, tau=0.5, loss_scale=2.0)
    assert torch.allclose(doubled((x1, x2))["loss"], 2 * out["loss"], atol=1e-5)   # the official loss_a + loss_b
    head = torch.nn.Linear(SmallCNN(3, width=4).feature_dim, 8)
    assert simclr.SimCLR(SmallCNN(3, width=4), head).projector is head
    with pytest.raises(ValueError, match="two views"):
        model(x1)
    with pytest.raises(ValueError, match="loss_scale=0"):
        simclr.SimCLR(SmallCNN(3, width=4), loss_scale=0)


def test_cross_entropy_through_info_nce_from_logits_equals_the_old_value():
    g = torch.Generator().manual_seed(3)
    for n, d, tau in [(4, 8, 0.5), (33, 16, 0.1), (64, 128, 1.0)]:
        z1, z2 = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
        la, lb, labels = simclr.nt_xent_logits(z1, z2, tau)
        old = (F.cross_entropy(la, labels) + F.cross_entropy(lb, labels)) / 2    # the module's formula before v2
        assert torch.equal(simclr.nt_xent_loss(z1, z2, tau), old)
    # and the gradient is the same
    a, b = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    simclr.nt_xent_loss(a, b, 0.5).backward()
    a2, b2 = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    la, lb, labels = simclr.nt_xent_logits(a2, b2, 0.5)
    ((F.cross_entropy(la, labels) + F.cross_entropy(lb, labels)) / 2).backward()
    assert torch.allclose(a.grad, a2.grad, atol=1e-7) and torch.allclose(b.grad, b2.grad, atol=1e-7)


def test_lars_and_schedule_live_in_optim_not_in_the_method_module():
    for name in ("LARS", "lars_param_groups", "scaled_lr", "learning_rate_schedule"):
        assert not hasattr(simclr, name), f"{name} belongs in sslstudy.optim"


@pytest.mark.parametrize("name", ["lars", "sgd", "adam"])
def test_optimiser_smoke_run_through_fit_method(name, tmp_path, monkeypatch):
    """The notebook's former LARS/SGD/Adam ablation at smoke size: it proves the code path, not a ranking."""
    monkeypatch.setenv("SSL_CHECKPOINT_DIR", str(tmp_path))
    torch.manual_seed(0)
    x = (torch.rand(64, 3, 16, 16) * 255).to(torch.uint8)
    ds = data.ImageData(x, torch.arange(64) % 4, name="smoke", split="train", classes=[str(i) for i in range(4)])
    loader = data.TensorLoader(ds, 32, seed=0)
    model = simclr.SimCLR(SmallCNN(3, width=4), proj_dim=8, loss_scale=2.0 if name == "lars" else 1.0)
    lr = {"lars": optim.scaled_lr(1.0, 32), "sgd": 0.06 * 32 / 128, "adam": 2e-3}[name]
    opt = optim.make_optimizer(model, name, lr, weight_decay=1e-6)
    sched = optim.warmup_cosine(opt, total_steps=len(loader) * 2, warmup_steps=1) if name == "lars" else None
    hist = train.fit_method(model, loader, 2, opt, views=augment.TwoViews(augment.simclr(16)), scheduler=sched,
                            name=f"simclr-smoke-{name}", progress=False)
    assert len(hist.steps) == 4 and all(math.isfinite(v) for v in hist.steps)
    assert 0.0 <= hist.last("pos_top1") <= 1.0


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
    (lambda: optim.scaled_lr(0.3, 256, "log"), "'linear' or 'sqrt'"),
    (lambda: optim.LARS([torch.nn.Parameter(torch.ones(2))], lr=-1), "lr=-1"),
])
def test_bad_inputs_say_what_is_allowed(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        bad()


def test_lars_trust_ratio_and_exclusions():
    torch.manual_seed(0)
    lin, bn = torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)
    model = torch.nn.Sequential(lin, bn)
    groups = optim.lars_param_groups(model, weight_decay=0.1)
    assert [len(g["params"]) for g in groups] == [1, 3]             # weight | bias, BN weight, BN bias
    assert groups[1]["weight_decay"] == 0.0 and groups[1]["lars"] is False
    opt = optim.LARS(groups, lr=0.5, momentum=0.9, eta=0.001)
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
    opt = optim.LARS([{"params": [p], "weight_decay": 0.0, "lars": True}], lr=0.1, momentum=0.0)
    p.grad = torch.ones(3, 2)
    opt.step()
    assert torch.allclose(p, torch.full((3, 2), -0.1))


def test_schedule_warmup_cosine_and_scaling():
    assert optim.scaled_lr(1.0, 512, "linear") == pytest.approx(2.0)
    assert optim.scaled_lr(0.075, 4096, "sqrt") == pytest.approx(0.075 * 64)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=123.0)
    sch = optim.simclr_schedule(opt, 1.0, 256, num_examples=2560, num_epochs=10, warmup_epochs=2)
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
