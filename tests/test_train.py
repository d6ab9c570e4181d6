import math
import re

import pytest
import torch

from sslstudy import backbones, config, data, train




def _warmup_cosine(opt, warmup, total):
    """A plain LambdaLR (the course's schedules live in sslstudy.optim)."""
    def factor(t):
        return (t + 1) / warmup if t < warmup else 0.5 * (1 + math.cos(math.pi * min(1.0, (t - warmup) / (total - warmup))))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def _setup(seed=0, d=None):
    torch.manual_seed(seed)
    d = d if d is not None else data.balanced_subset(data.load("digits"), 400, seed=0)
    model = backbones.SmallCNN(1, width=8)
    head = torch.nn.Linear(model.feature_dim, 10)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    sched = _warmup_cosine(opt, 5, 40)
    loader = data.TensorLoader(d, 40, seed=seed)

    def step(batch):
        x = batch.x + 0.1 * torch.randn_like(batch.x)  # uses the global RNG, which checkpoints must restore
        return torch.nn.functional.cross_entropy(head(model(x)), batch.y)

    return step, loader, opt, sched, {"model": model, "head": head}


def _params(modules):
    return torch.cat([p.detach().flatten() for m in modules.values() for p in m.state_dict().values() if p.is_floating_point()])


def test_resume_equals_uninterrupted(tmp_path):
    cfg = {"test": "resume", "lr": 0.05}
    step, loader, opt, sched, mods = _setup()
    h_full = train.fit(step, loader, 4, opt, modules=mods, scheduler=sched, run_config=cfg, name="a",
                       checkpoint_dir=tmp_path / "a")
    full = _params(mods)

    step, loader, opt, sched, mods = _setup()
    h1 = train.fit(step, loader, 4, opt, modules=mods, scheduler=sched, run_config=cfg, name="b",
                   checkpoint_dir=tmp_path / "b", stop_after_epochs=2)
    assert h1.interrupted and len(h1) == 2
    # a fresh process: new objects, different RNG state; the checkpoint restores everything
    torch.manual_seed(123)
    step, loader, opt, sched, mods = _setup(seed=0)
    torch.manual_seed(456)
    h2 = train.fit(step, loader, 4, opt, modules=mods, scheduler=sched, run_config=cfg, name="b",
                   checkpoint_dir=tmp_path / "b")
    assert h2.resumed_from == 2 and len(h2) == 4 and h2.last_epoch == 3
    assert torch.equal(_params(mods), full)
    assert h2.steps == h_full.steps


def test_different_config_never_resumes(tmp_path):
    step, loader, opt, sched, mods = _setup()
    train.fit(step, loader, 2, opt, modules=mods, run_config={"lr": 0.05}, name="c", checkpoint_dir=tmp_path)
    step, loader, opt, sched, mods = _setup()
    h = train.fit(step, loader, 2, opt, modules=mods, run_config={"lr": 0.01}, name="c", checkpoint_dir=tmp_path)
    assert h.resumed_from is None
    assert len(list(tmp_path.glob("c-*.pt"))) == 2
    assert not list(tmp_path.glob("*.tmp*"))  # atomic writes leave no temporary files


def test_settings_key_and_loader_data_choose_the_checkpoint(tmp_path):
    S = config.Settings("t", "fast", 0, {"lr": 0.05}, verbose=False)
    step, loader, opt, sched, mods = _setup()
    train.fit(step, loader, 1, opt, modules=mods, run_config=S, name="s", checkpoint_dir=tmp_path)

    class Key:  # any object whose .key() is a dict is a run_config; the same key resumes
        def key(self):
            return S.key()

    step, loader, opt, sched, mods = _setup()
    assert train.fit(step, loader, 1, opt, modules=mods, run_config=Key(), name="s",
                     checkpoint_dir=tmp_path).resumed_from == 1
    step, loader, opt, sched, mods = _setup()  # other settings: never
    S2 = config.Settings("t", "fast", 0, {"lr": 0.01}, verbose=False)
    assert train.fit(step, loader, 1, opt, modules=mods, run_config=S2, name="s", checkpoint_dir=tmp_path).resumed_from is None
    other = data.balanced_subset(data.load("digits"), 400, seed=1)  # the same shapes, other images: never
    step, loader, opt, sched, mods = _setup(d=other)
    assert loader.fingerprint()["shape"] == [400, 1, 8, 8]
    assert train.fit(step, loader, 1, opt, modules=mods, run_config=S, name="s", checkpoint_dir=tmp_path).resumed_from is None
    assert len(list(tmp_path.glob("s-*.pt"))) == 3
    with pytest.raises(ValueError, match="run_config=3 is not allowed"):
        train.fit(step, loader, 1, opt, modules=mods, run_config=3)


def test_loader_fingerprint_sees_every_byte():
    x = torch.randint(0, 256, (70_000, 1, 28, 28), dtype=torch.uint8)
    d = data.ImageData(x, torch.zeros(len(x), dtype=torch.long), "mnist", "train")
    f = data.TensorLoader(d, 256).fingerprint()
    assert f == data.TensorLoader(d, 256, seed=5).fingerprint()  # the order of batches is not the data
    assert f["data"] == "mnist" and f["shape"] == [70_000, 1, 28, 28] and f["dtype"] == "torch.uint8"
    x[12_345, 0, 3, 7] ^= 1  # one bit of one pixel, almost surely outside the strided sample
    assert data.TensorLoader(d, 256).fingerprint()["hash"] != f["hash"]
    codes = torch.randn(1000, 10)  # a plain float tensor (DEC's codes)
    g = data.TensorLoader(codes, 100).fingerprint()
    assert g["data"] is None and g["dtype"] == "torch.float32" and g == data.TensorLoader(codes.clone(), 100).fingerprint()


def test_nan_guard_names_the_step():
    step, loader, opt, sched, mods = _setup()
    calls = {"n": 0}

    def bad_step(batch):
        calls["n"] += 1
        loss = step(batch)
        return loss * float("nan") if calls["n"] == 7 else loss

    with pytest.raises(FloatingPointError, match=r"The loss became nan at epoch 1, step 7 \(global step 7\); likely causes"):
        train.fit(bad_step, loader, 3, opt, modules=mods)


def test_callbacks_and_history():
    step, loader, opt, sched, mods = _setup()
    seen = {"steps": 0, "starts": []}

    def on_step(step, epoch, loss):
        seen["steps"] += 1

    h = train.fit(lambda b: {"loss": step(b), "aux": torch.tensor(2.0)}, loader, 2, opt, modules=mods,
                  on_step=on_step, on_epoch_start=lambda epoch: seen["starts"].append(epoch),  # old style: epoch only
                  on_epoch=lambda epoch: {"metric": epoch * 10.0})
    assert seen == {"steps": 2 * len(loader), "starts": [0, 1]}
    assert h["metric"] == [0.0, 10.0] and h["aux"] == [2.0, 2.0] and h["epoch"] == [1, 2]
    assert len(h.steps) == 2 * len(loader) and h.last("loss") < h.steps[0]


def test_hook_order():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 1)
    log = []

    class Logged(torch.optim.SGD):
        def step(self, closure=None):
            log.append("optimizer.step")
            return super().step(closure)

    def step_fn(batch):
        log.append("forward")
        return lin(batch.x).pow(2).mean()

    lin.weight.register_hook(lambda g: log.append("backward") or g)  # fires when the weight's gradient is ready

    loader = data.TensorLoader(torch.randn(4, 3), 2, shuffle=False)
    steps = []
    train.fit(step_fn, loader, 2, Logged(lin.parameters(), lr=0.1), modules=lin,
              on_epoch_start=lambda epoch, trainer: log.append(f"on_epoch_start {epoch}"),
              before_step=lambda step, trainer: steps.append(("before", step, trainer.step)) or log.append("before_step"),
              on_step=lambda step: steps.append(("after", step)) or log.append("on_step"),
              on_epoch=lambda **kw: log.append("on_epoch"))
    one = ["forward", "backward", "before_step", "optimizer.step", "on_step"]
    assert log == ["on_epoch_start 0", *one, *one, "on_epoch", "on_epoch_start 1", *one, *one, "on_epoch"]
    # both hooks of an iteration see the same 1-based step number; trainer.step counts the steps done
    assert steps[:4] == [("before", 1, 0), ("after", 1), ("before", 2, 1), ("after", 2)]


def test_before_step_none_grad_freezes_despite_weight_decay_and_momentum():
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 4), torch.nn.Linear(4, 1)
    net = torch.nn.Sequential(a, b)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    loader = data.TensorLoader(torch.randn(32, 4), 8)
    w0 = a.weight.detach().clone()
    trace = []

    def before_step(step):
        trace.append(a.weight.detach().clone())  # trace[k]: the weights before step k + 1
        if 3 <= step <= 6:  # as SwAV's freeze of the prototypes, here after two steps built up momentum
            a.weight.grad = None

    train.fit(lambda batch: b(a(batch.x)).pow(2).mean(), loader, 3, opt, modules=net, before_step=before_step)
    assert not torch.equal(trace[1], w0) and not torch.equal(trace[2], trace[1])   # steps 1, 2 move it
    assert all(torch.equal(w, trace[2]) for w in trace[3:7])  # steps 3-6: neither weight decay nor momentum
    assert not torch.equal(trace[7], trace[6])                # step 7 moves it again
    assert opt.state[a.weight]["momentum_buffer"] is not None  # momentum was there to move it


def test_on_epoch_start_rebuilds_a_head_and_its_fresh_optimizer(tmp_path):
    torch.manual_seed(0)
    backbone, head = torch.nn.Linear(6, 5), torch.nn.Linear(5, 3)
    opt_b = torch.optim.SGD(backbone.parameters(), lr=0.05, momentum=0.9)
    loader = data.TensorLoader(torch.randn(40, 6), 10)
    seen, ends = [], []

    def on_epoch_start(epoch, trainer):  # DeepCluster: a new classifier and a fresh (momentum-free) SGD each epoch
        torch.nn.init.normal_(head.weight)
        torch.nn.init.zeros_(head.bias)
        trainer.optimizers["head"] = torch.optim.SGD(head.parameters(), lr=0.05)
        seen.append({"w": head.weight.detach().clone(), "head_state": dict(trainer.optimizers["head"].state),
                     "backbone_state": len(trainer.optimizers["optimizer"].state)})

    def on_epoch(epoch):
        ends.append(head.weight.detach().clone())

    def step(batch):
        return torch.nn.functional.cross_entropy(head(backbone(batch.x)), batch.y)

    h = train.fit(step, loader, 3, opt_b, modules={"backbone": backbone, "head": head},
                  on_epoch_start=on_epoch_start, on_epoch=on_epoch, run_config={"t": "rebuild"},
                  checkpoint_dir=tmp_path)
    assert [s["head_state"] for s in seen] == [{}, {}, {}]            # no momentum state at any epoch start
    assert [s["backbone_state"] for s in seen] == [0, 2, 2]           # the backbone's optimiser keeps its state
    for k in range(3):
        assert not torch.equal(ends[k], seen[k]["w"])                 # the new head optimiser trains it ...
    for k in range(2):
        assert not torch.equal(seen[k + 1]["w"], ends[k])             # ... and each epoch starts it afresh
    saved = torch.load(h.checkpoint, weights_only=False)["optimizers"]
    assert set(saved) == {"optimizer", "head"}                        # a hook-created optimiser is checkpointed


def test_optimizer_dict_all_stepped_and_resumed(tmp_path):
    def setup():
        torch.manual_seed(0)
        a, b = torch.nn.Linear(3, 3), torch.nn.Linear(3, 1)
        opts = {"a": torch.optim.SGD(a.parameters(), lr=0.1, momentum=0.9), "b": torch.optim.Adam(b.parameters(), lr=0.01)}
        return a, b, opts, data.TensorLoader(torch.randn(16, 3), 4)

    a, b, opts, loader = setup()
    train.fit(lambda batch: b(a(batch.x)).pow(2).mean(), loader, 3, opts, modules={"a": a, "b": b})
    full = _params({"a": a, "b": b})
    a, b, opts, loader = setup()
    kw = dict(modules={"a": a, "b": b}, run_config={"t": "dict"}, checkpoint_dir=tmp_path)
    train.fit(lambda batch: b(a(batch.x)).pow(2).mean(), loader, 3, opts, stop_after_epochs=1, **kw)
    a, b, opts, loader = setup()
    kw = dict(modules={"a": a, "b": b}, run_config={"t": "dict"}, checkpoint_dir=tmp_path)
    h = train.fit(lambda batch: b(a(batch.x)).pow(2).mean(), loader, 3, opts, **kw)
    assert h.resumed_from == 1 and torch.equal(_params({"a": a, "b": b}), full)


def test_bad_arguments():
    step, loader, opt, sched, mods = _setup()
    with pytest.raises(ValueError, match="num_epochs=0 is not allowed"):
        train.fit(step, loader, 0, opt, modules=mods)
    with pytest.raises(ValueError, match="checkpoint=True needs run_config"):
        train.fit(step, loader, 1, opt, modules=mods, checkpoint=True)
    assert not hasattr(train, "cosine_with_warmup")  # replaced by sslstudy.optim.warmup_cosine


def test_corrupt_checkpoint_is_reported_not_overwritten(tmp_path):
    step, loader, opt, sched, mods = _setup()
    cfg = {"x": 1}
    h = train.fit(step, loader, 1, opt, modules=mods, run_config=cfg, name="d", checkpoint_dir=tmp_path)
    h.checkpoint.write_bytes(b"garbage")
    step, loader, opt, sched, mods = _setup()
    with pytest.raises(RuntimeError, match="could not be read"):
        train.fit(step, loader, 1, opt, modules=mods, run_config=cfg, name="d", checkpoint_dir=tmp_path)
    assert h.checkpoint.read_bytes() == b"garbage"


def test_stop_training_from_a_callback(capsys):
    step, loader, opt, sched, mods = _setup()

    def on_step(step, epoch, loss):
        if step == len(loader) + 3:
            raise train.StopTraining("fewer than tol of the assignments changed")

    h = train.fit(step, loader, 5, opt, modules=mods, on_step=on_step)
    assert h.stopped == "fewer than tol of the assignments changed"
    assert len(h) == 2 and len(h.steps) == len(loader) + 3
    assert "run: stopped at epoch 2, step 13: fewer than tol" in capsys.readouterr().out

    def on_epoch_start(epoch):
        if epoch == 1:
            raise train.StopTraining()

    h = train.fit(step, loader, 5, opt, modules=mods, on_epoch_start=on_epoch_start,
                  on_epoch=lambda epoch: {"m": 1.0})
    assert h.stopped == "stopped by a callback" and len(h) == 1 and len(h.steps) == len(loader)


def test_expected_duration_line(capsys):
    lin = torch.nn.Linear(3, 1)
    loader = data.TensorLoader(torch.randn(40, 3), 2)
    run = dict(modules=lin, name="eta")
    train.fit(lambda b: lin(b.x).pow(2).mean(), loader, 2, torch.optim.SGD(lin.parameters(), lr=0.01), **run)
    assert "expected" not in capsys.readouterr().out  # a short run says nothing
    train.fit(lambda b: lin(b.x).pow(2).mean(), loader, 2, torch.optim.SGD(lin.parameters(), lr=0.01), eta=True, **run)
    out = capsys.readouterr().out
    assert out.count("expected ≈") == 1  # once, after the first steps (normally 6 of 40: 34 left)
    assert re.search(r"^eta: expected ≈ \d+ s: [\d.e+-]+ steps/s × \d+ steps left$", out, re.M), out


def test_optimizer_created_once_by_a_hook_resumes_through_saved_optimizer_state(tmp_path):
    def run(folder, **kw):
        torch.manual_seed(0)
        a, b = torch.nn.Linear(3, 3), torch.nn.Linear(3, 1)
        loaded = []

        def on_epoch_start(epoch, trainer):  # creates "b" once and keeps it (momentum carries over epochs)
            if "b" not in trainer.optimizers:
                trainer.optimizers["b"] = torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)
                state = trainer.saved_optimizer_state("b")
                if state is not None:
                    trainer.optimizers["b"].load_state_dict(state)
                    loaded.append(epoch)

        h = train.fit(lambda batch: b(a(batch.x)).pow(2).mean(), data.TensorLoader(torch.randn(16, 3), 4), 3,
                      torch.optim.SGD(a.parameters(), lr=0.1), modules={"a": a, "b": b}, on_epoch_start=on_epoch_start,
                      run_config={"t": "once"}, checkpoint_dir=folder, **kw)
        return _params({"a": a, "b": b}), h, loaded

    full, _, _ = run(tmp_path / "a")
    run(tmp_path / "b", stop_after_epochs=1)
    resumed, h, loaded = run(tmp_path / "b")
    assert h.resumed_from == 1 and loaded == [1] and torch.equal(resumed, full)
