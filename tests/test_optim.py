"""Unit tests of sslstudy.optim: LARS moved unchanged, one warm-up + cosine schedule that reproduces SimCLR,
SwAV, SimSiam and the MoCo CIFAR demo, and make_optimizer."""
import io
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from sslstudy import optim


def _opt(lrs=(0.1, 0.1)):
    return torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs], lr=lrs[0],
                           momentum=0.9)


def _run(opt, sched, steps):
    """The lr of every group in use at each of ``steps`` optimiser steps (read before each step)."""
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize("num_examples, batch_size, epochs, warmup_epochs, scaling", [
    (2560, 256, 10, 2, "linear"), (1000, 64, 7, 1.5, "sqrt"), (500, 128, 3, 0, "linear"),
    (4096, 512, 5, 1, "sqrt"),
])
def test_defaults_equal_simclrs_learning_rate_schedule(num_examples, batch_size, epochs, warmup_epochs,
                                                        scaling):
    b, c = _opt((123.0, 7.0)), _opt((0.3, 0.3))
    new = optim.simclr_schedule(b, 0.3, batch_size, num_examples, epochs, warmup_epochs, scaling)
    total = num_examples * epochs // batch_size + 1                  # model_util.get_train_steps
    warmup = int(round(warmup_epochs * num_examples // batch_size))
    peak = optim.scaled_lr(0.3, batch_size, scaling)
    direct = optim.warmup_cosine(c, total_steps=total, warmup_steps=warmup, peak_lr=peak)   # S = F = 0
    # the official formula (model_util.learning_rate_schedule), written out
    ref = [peak * t / warmup if t < warmup else
           peak * 0.5 * (1 + math.cos(math.pi * min(1.0, (t - warmup) / (total - warmup)))) for t in range(total + 5)]
    lr_ref = np.array([[r, r] for r in ref])
    assert np.allclose(_run(b, new, total + 5), lr_ref, rtol=1e-12, atol=0)
    assert np.allclose(_run(c, direct, total + 5), lr_ref, rtol=1e-12, atol=0)


def swav_lr_schedule(base_lr, final_lr, start_warmup, iters_per_epoch, epochs, warmup_epochs):
    """main_swav.py's schedule, written out with numpy as the official script does."""
    warmup_lr_schedule = np.linspace(start_warmup, base_lr, iters_per_epoch * warmup_epochs)
    iters = np.arange(iters_per_epoch * (epochs - warmup_epochs))
    cosine_lr_schedule = np.array([final_lr + 0.5 * (base_lr - final_lr) * (1 + math.cos(
        math.pi * t / (iters_per_epoch * (epochs - warmup_epochs)))) for t in iters])
    return np.concatenate((warmup_lr_schedule, cosine_lr_schedule))


@pytest.mark.parametrize("base_lr, final_lr, start_warmup, n, epochs, warmup_epochs", [
    (4.8, 0.0048, 0.3, 7, 6, 2), (0.6, 0.0006, 0.0, 5, 4, 1), (1.0, 0.1, 0.2, 3, 5, 0),
    (2.0, 0.0, 0.0, 1, 4, 1),
])
def test_reproduces_swav_lr_schedule(base_lr, final_lr, start_warmup, n, epochs, warmup_epochs):
    expect = swav_lr_schedule(base_lr, final_lr, start_warmup, n, epochs, warmup_epochs)
    opt = _opt((99.0,))
    sched = optim.warmup_cosine(opt, total_steps=n * epochs, warmup_steps=n * warmup_epochs, peak_lr=base_lr,
                                start_lr=start_warmup, final_lr=final_lr, warmup_endpoint=True)
    got = _run(opt, sched, len(expect))[:, 0]                   # per iteration, as SwAV's train loop sets it
    assert np.allclose(got, expect, rtol=1e-12, atol=1e-15)
    if n * warmup_epochs > 1:                                   # SimCLR's warm-up (the default) is not SwAV's
        opt = _opt((99.0,))
        simclr_like = optim.warmup_cosine(opt, total_steps=n * epochs, warmup_steps=n * warmup_epochs,
                                          peak_lr=base_lr, start_lr=start_warmup, final_lr=final_lr)
        assert not np.allclose(_run(opt, simclr_like, len(expect))[:, 0], expect)


def test_reproduces_moco_cifar_demo_cosine_per_epoch():
    lr, epochs = 0.06, 20
    opt = _opt((lr,))
    sched = optim.warmup_cosine(opt, total_steps=epochs)       # stepped once per epoch
    got = []
    for epoch in range(epochs):
        got.append(opt.param_groups[0]["lr"])
        for _ in range(3):                                     # the iterations of one epoch: lr unchanged
            opt.step()
        sched.step()
    expect = [lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs)) for epoch in range(epochs)]
    assert np.allclose(got, expect, rtol=1e-12)


def test_fixed_lr_groups_stay_constant_as_simsiam_fix_pred_lr():
    init_lr, epochs = 0.05 * 512 / 256, 10
    opt = _opt((init_lr, init_lr))                             # [encoder, predictor] as main_simsiam.py
    sched = optim.warmup_cosine(opt, total_steps=epochs, fixed_lr_groups=[1])
    got = _run(opt, sched, epochs)
    cur = [init_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs)) for epoch in range(epochs)]
    assert np.allclose(got[:, 0], cur, rtol=1e-12)             # adjust_learning_rate: cosine per epoch
    assert (got[:, 1] == init_lr).all()                        # fix_lr: constant
    # with peak_lr given, a fixed group keeps its own lr; the others start their warm-up at peak_lr
    opt = _opt((0.5, 0.02, 0.5))
    sched = optim.warmup_cosine(opt, total_steps=8, warmup_steps=2, peak_lr=1.0, fixed_lr_groups=(1,))
    got = _run(opt, sched, 10)
    assert (got[:, 1] == 0.02).all() and got[2, 0] == 1.0 and np.array_equal(got[:, 0], got[:, 2])


def test_peak_none_keeps_each_groups_own_lr_as_its_peak():
    opt = _opt((0.4, 0.1))
    sched = optim.warmup_cosine(opt, total_steps=6, warmup_steps=2)
    got = _run(opt, sched, 8)
    assert np.allclose(got[:, 0], 4 * got[:, 1]) and got[2].tolist() == [0.4, 0.1] and (got[6:] == 0).all()


def test_state_dict_round_trip_resumes_on_the_same_curve():
    kw = dict(total_steps=30, warmup_steps=5, peak_lr=0.8, start_lr=0.1, final_lr=0.01, fixed_lr_groups=(1,))
    opt = _opt((0.5, 0.05))
    sched = optim.warmup_cosine(opt, **kw)
    full = _run(opt, sched, 30)

    opt = _opt((0.5, 0.05))
    sched = optim.warmup_cosine(opt, **kw)
    first = _run(opt, sched, 12)
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    buf.seek(0)
    ckpt = torch.load(buf)                                     # weights_only: the state is plain data
    opt2 = _opt((0.5, 0.05))                                   # a fresh process: new optimiser and scheduler
    sched2 = optim.warmup_cosine(opt2, **kw)
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    assert sched2.last_epoch == 12 and sched2.get_last_lr() == sched.get_last_lr()
    rest = _run(opt2, sched2, 18)
    assert np.array_equal(np.concatenate([first, rest]), full)


def _tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))


@pytest.mark.parametrize("nesterov", [False, True])
def test_lars_numerics_equal_the_official_update(nesterov):
    """lars_optimizer.py (classic momentum): g += wd·w; trust = η‖w‖/‖g‖ on adapted tensors; v = m·v + lr·trust·g."""
    a = _tiny()
    groups = optim.lars_param_groups(a, 1e-4)
    assert [len(g["params"]) for g in groups] == [2, 4]               # two weights | two biases + BN scale/shift
    opt = optim.LARS(groups, lr=0.7, momentum=0.9, nesterov=nesterov)
    ref = {n: p.detach().clone() for n, p in a.named_parameters()}
    buf = {n: torch.zeros_like(p) for n, p in ref.items()}
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        x = torch.randn(16, 5, generator=g)
        opt.zero_grad()
        a(x).square().mean().backward()
        grads = {n: p.grad.detach().clone() for n, p in a.named_parameters()}
        opt.step()
        for n, w in ref.items():
            adapted = w.ndim > 1
            gr = grads[n] + 1e-4 * w if adapted else grads[n]
            trust = 0.001 * w.norm() / gr.norm() if adapted and w.norm() > 0 and gr.norm() > 0 else 1.0
            buf[n] = 0.9 * buf[n] + 0.7 * trust * gr
            w -= (0.9 * buf[n] + 0.7 * trust * gr) if nesterov else buf[n]
        # the reference model is evolved from its own copy; compare after every step
        for n, p in a.named_parameters():
            assert torch.allclose(p, ref[n], rtol=1e-5, atol=1e-7), n
    assert optim.scaled_lr(0.075, 4096, "sqrt") == 0.075 * 64
    assert optim.scaled_lr(0.3, 512) == 0.6


def test_make_optimizer_names():
    model = _tiny()
    sgd = optim.make_optimizer(model.parameters(), "sgd", 0.1, momentum=0.8, weight_decay=1e-4)
    assert type(sgd) is torch.optim.SGD
    assert sgd.defaults["momentum"] == 0.8 and sgd.defaults["weight_decay"] == 1e-4
    adam = optim.make_optimizer(model, "Adam", 1e-3)
    assert type(adam) is torch.optim.Adam
    assert adam.defaults["lr"] == 1e-3 and adam.defaults["weight_decay"] == 0.0
    adamw = optim.make_optimizer(model, "adamw", 1e-3, weight_decay=0.05)
    assert type(adamw) is torch.optim.AdamW and adamw.defaults["weight_decay"] == 0.05
    lars = optim.make_optimizer(model, "lars", 0.3, weight_decay=1e-6)
    assert type(lars) is optim.LARS and [g["lars"] for g in lars.param_groups] == [True, False]
    assert [g["weight_decay"] for g in lars.param_groups] == [1e-6, 0.0]
    plain = optim.make_optimizer(list(model.parameters()), "lars", 0.3)
    assert len(plain.param_groups) == 1 and plain.param_groups[0]["lars"] is True


@pytest.mark.parametrize("bad, match", [
    (lambda: optim.make_optimizer(_tiny(), "rmsprop", 0.1),
     r"name='rmsprop' is not allowed: use one of 'sgd', 'adam', 'adamw', 'lars'"),
    (lambda: optim.warmup_cosine(_opt(), total_steps=10, warmup_steps=10), r"warmup_steps=10 is not allowed"),
    (lambda: optim.warmup_cosine(_opt(), total_steps=0), r"total_steps=0 is not allowed"),
    (lambda: optim.warmup_cosine(_opt(), total_steps=10, final_lr=-1.0), r"final_lr=-1\.0 is not allowed"),
    (lambda: optim.warmup_cosine(_opt(), total_steps=10, peak_lr="0.1"), r"peak_lr='0\.1' is not allowed"),
    (lambda: optim.warmup_cosine(_opt(), total_steps=10, fixed_lr_groups=[2]), r"fixed_lr_groups=\[2\]"),
    (lambda: optim.warmup_cosine("sgd", total_steps=10), "torch.optim.Optimizer"),
    (lambda: optim.simclr_schedule(_opt(), 0.3, 256, 2560, 1, warmup_epochs=2), "fewer warm-up epochs"),
    (lambda: optim.scaled_lr(0.3, 256, "log"), "'linear' or 'sqrt'"),
    (lambda: optim.LARS([nn.Parameter(torch.ones(2))], lr=-1), "lr=-1"),
])
def test_bad_inputs_say_what_is_allowed(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        bad()
