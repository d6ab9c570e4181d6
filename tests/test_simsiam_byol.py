"""SimSiam and BYOL (sslstudy.methods.simsiam_byol): losses against plain loops, the stop-gradient, BYOL's EMA
schedule and target, the predictor's fixed lr, and one-sentence errors."""
import math

import pytest
import torch
import torch.nn as nn

from sslstudy import data, optim, train
from sslstudy.backbones import SmallCNN
from sslstudy.methods.simsiam_byol import (BYOL, SimSiam, byol_loss, negative_cosine, regression_loss,
                                           simsiam_loss, target_ema)


def _pair(seed=0, b=6, d=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, d, generator=g), torch.randn(b, d, generator=g)


def _cos(u, v):
    return sum(a * b for a, b in zip(u, v)) / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))


def test_negative_cosine_and_simsiam_loss_equal_plain_loops():
    p1, z2 = _pair(0)
    p2, z1 = _pair(1)
    loop = -sum(_cos(p1[i].tolist(), z2[i].tolist()) for i in range(len(p1))) / len(p1)
    assert negative_cosine(p1, z2).item() == pytest.approx(loop, abs=1e-6)
    loop2 = -sum(_cos(p2[i].tolist(), z1[i].tolist()) for i in range(len(p2))) / len(p2)
    assert simsiam_loss(p1, p2, z1, z2).item() == pytest.approx(0.5 * loop + 0.5 * loop2, abs=1e-6)
    crit = nn.CosineSimilarity(dim=1)                             # main_simsiam.py's criterion
    official = -(crit(p1, z2).mean() + crit(p2, z1).mean()) * 0.5
    assert torch.allclose(simsiam_loss(p1, p2, z1, z2), official, atol=1e-6)
    assert simsiam_loss(z1, z2, z2, z1).item() == pytest.approx(-1.0, abs=1e-6)   # p = the other view's z: −1


def test_regression_and_byol_loss_equal_plain_loops():
    p1, t2 = _pair(2)
    p2, t1 = _pair(3)
    per = [sum((a / math.sqrt(sum(x * x for x in p1[i].tolist())) - b / math.sqrt(sum(y * y for y in t2[i].tolist()))) ** 2
               for a, b in zip(p1[i].tolist(), t2[i].tolist())) for i in range(len(p1))]
    assert regression_loss(p1, t2).tolist() == pytest.approx(per, abs=1e-5)
    assert regression_loss(p1, t2).tolist() == pytest.approx([2 - 2 * _cos(p1[i].tolist(), t2[i].tolist())
                                                              for i in range(len(p1))], abs=1e-5)
    loop = sum(2 - 2 * _cos(p1[i].tolist(), t2[i].tolist()) + 2 - 2 * _cos(p2[i].tolist(), t1[i].tolist())
               for i in range(len(p1))) / len(p1)
    assert byol_loss(p1, p2, t1, t2).item() == pytest.approx(loop, abs=1e-5)


def test_stop_gradient_blocks_the_target_branch_and_its_removal_does_not():
    p1, z2 = (t.requires_grad_(True) for t in _pair(4))
    p2, z1 = (t.requires_grad_(True) for t in _pair(5))
    simsiam_loss(p1, p2, z1, z2).backward()
    assert z1.grad is None and z2.grad is None and p1.grad.abs().sum() > 0
    simsiam_loss(p1, p2, z1, z2, stop_gradient=False).backward()
    assert z1.grad.abs().sum() > 0 and z2.grad.abs().sum() > 0
    q1, t1 = (t.requires_grad_(True) for t in _pair(6))
    q2, t2 = (t.requires_grad_(True) for t in _pair(7))
    byol_loss(q1, q2, t1, t2).backward()
    assert t1.grad is None and t2.grad is None and q1.grad.abs().sum() > 0


def test_simsiam_model_gradient_reaches_z_only_through_the_predictor():
    torch.manual_seed(0)
    m = SimSiam(SmallCNN(3, width=4), dim=16, pred_dim=4, num_layers=2)
    x = torch.rand(8, 3, 16, 16)
    zs = []

    def keep(mod, inp, out):
        out.retain_grad()
        zs.append(out)

    m.projector.register_forward_hook(keep)
    out = m((x, x.flip(3)))
    out["loss"].backward()
    z1, z2 = zs
    # by hand: the only path from L to z1 is ½ D(h(z1), sg(z2)); z1's target term ½ D(p2, sg(z1)) gives nothing
    z1c = z1.detach().clone().requires_grad_(True)
    (0.5 * negative_cosine(m.predictor(z1c), z2.detach())).backward()
    assert torch.allclose(z1.grad, z1c.grad, atol=1e-6)
    assert set(out) == {"loss", "z_std", "p_std"} and out["loss"].ndim == 0
    zs.clear()
    m.zero_grad()
    m.stop_gradient = False                                   # the ablation: the target term now adds a gradient
    m((x, x.flip(3)))["loss"].backward()
    assert not torch.allclose(zs[0].grad, z1c.grad, atol=1e-4)


def test_simsiam_heads_and_ablation_flags():
    m = SimSiam(SmallCNN(3, width=4), dim=32, pred_dim=8, num_layers=3)
    assert isinstance(m.projector.net[-1], nn.BatchNorm1d) and not m.projector.net[-1].affine
    assert m.predictor.net[0].out_features == 8 and m.predictor.net[-1].out_features == 32   # bottleneck
    assert isinstance(SimSiam(SmallCNN(3, width=4), dim=32, use_predictor=False).predictor, nn.Identity)


def test_fix_pred_lr_keeps_the_predictor_lr_while_the_encoder_decays():
    m = SimSiam(SmallCNN(3, width=4), dim=16, pred_dim=4, num_layers=2)
    groups = m.param_groups()
    n_all = sum(p.requires_grad for p in m.parameters())
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == n_all
    opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    sched = optim.warmup_cosine(opt, total_steps=10, fixed_lr_groups=[1])
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[1]["lr"] == pytest.approx(0.1) and opt.param_groups[0]["lr"] < 0.1 * 0.6


def test_target_ema_schedule_values():
    assert target_ema(0, 0.996, 100) == pytest.approx(0.996)
    assert target_ema(50, 0.996, 100) == pytest.approx(0.998)
    assert target_ema(100, 0.996, 100) == pytest.approx(1.0)
    assert target_ema(250, 0.996, 100) == pytest.approx(1.0)                 # k clipped at K
    vals = [target_ema(k, 0.99, 40) for k in range(41)]
    assert all(b >= a for a, b in zip(vals, vals[1:]))
    assert vals[10] == pytest.approx(1 - 0.01 * (math.cos(math.pi * 10 / 40) + 1) / 2)


def test_byol_target_is_untouched_by_the_optimiser_and_moved_by_the_ema():
    torch.manual_seed(0)
    m = BYOL(SmallCNN(3, width=4), proj_dim=8, hidden_dim=16, base_ema=0.9, total_steps=4)
    assert all(not p.requires_grad for p in m.target_params())
    assert all(torch.equal(a, b) for a, b in zip(m.target_params(),
                                                list(m.backbone.parameters()) + list(m.projector.parameters())))
    opt = torch.optim.AdamW(m.parameters(), lr=0.1, weight_decay=0.5)     # everything, even the target, is passed
    x = torch.rand(8, 3, 16, 16)
    target_before = [p.detach().clone() for p in m.target_params()]
    online_before = [p.detach().clone() for p in list(m.backbone.parameters()) + list(m.projector.parameters())]
    m((x, x.flip(3)))["loss"].backward()
    assert all(p.grad is None for p in m.target_params())
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(target_before, m.target_params()))   # the optimiser left ξ alone
    online_after = [p.detach().clone() for p in list(m.backbone.parameters()) + list(m.projector.parameters())]
    assert any(not torch.equal(a, b) for a, b in zip(online_before, online_after))
    m.after_step(1)                                                        # k = 0: τ = τ_base = 0.9
    assert m.last_ema == pytest.approx(0.9)
    for xi, xi0, th in zip(m.target_params(), target_before, online_after):
        assert torch.allclose(xi, 0.9 * xi0 + 0.1 * th, atol=1e-6)
    m.after_step(5)                                                        # k = 4 = K: τ = 1, ξ frozen
    assert m.last_ema == pytest.approx(1.0)


def test_byol_fit_method_sets_total_steps_and_reaches_tau_one():
    torch.manual_seed(0)
    x = torch.randint(0, 255, (32, 3, 16, 16), dtype=torch.uint8)
    ds = data.ImageData(x, torch.zeros(32, dtype=torch.long), "toy", "train", [str(i) for i in range(10)])
    loader = data.TensorLoader(ds, 8, seed=0)
    m = BYOL(SmallCNN(3, width=4), proj_dim=8, hidden_dim=16, base_ema=0.99)
    opt = torch.optim.Adam(m.online_params(), lr=1e-3)
    hist = train.fit_method(m, loader, 2, opt, views=lambda b: (b, b.flip(3)), checkpoint=False)
    assert m.total_steps == 2 * len(loader) == 8
    assert m.last_ema == pytest.approx(target_ema(7, 0.99, 8))
    assert math.isfinite(hist.steps[-1])


def test_byol_constant_schedule_and_independent_init():
    m = BYOL(SmallCNN(3, width=4), proj_dim=8, hidden_dim=16, base_ema=0.0, ema_schedule="constant")
    assert m.ema_decay(1) == 0.0 and m.ema_decay(10_000) == 0.0
    torch.manual_seed(1)
    ind = BYOL(SmallCNN(3, width=4), proj_dim=8, hidden_dim=16, target_init="independent")
    online = list(ind.backbone.parameters()) + list(ind.projector.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(ind.target_params(), online))
    assert all(not p.requires_grad for p in ind.target_params())


@pytest.mark.parametrize("call, match", [
    (lambda: target_ema(0, 1.5, 10), "base_ema=1.5"),
    (lambda: target_ema(0, 0.99, 0), "max_steps=0"),
    (lambda: BYOL(SmallCNN(3, width=4), ema_schedule="linear"), "ema_schedule='linear'"),
    (lambda: BYOL(SmallCNN(3, width=4), target_init="zeros"), "target_init='zeros'"),
    (lambda: BYOL(nn.Linear(3, 3)), "feature_dim"),
    (lambda: SimSiam(nn.Linear(3, 3)), "feature_dim"),
    (lambda: negative_cosine(torch.zeros(4, 3), torch.zeros(4, 2)), "same shape"),
    (lambda: regression_loss(torch.zeros(4), torch.zeros(4)), r"\(B, D\)"),
    (lambda: SimSiam(SmallCNN(3, width=4), dim=8)([torch.zeros(2, 3, 8, 8)]), "two views"),
    (lambda: BYOL(SmallCNN(3, width=4)).ema_decay(1), "total_steps"),
])
def test_bad_input_gets_one_sentence(call, match):
    with pytest.raises(ValueError, match=match):
        call()
