import pytest
import torch

from sslstudy import backbones, data, train


def _setup(seed=0):
    torch.manual_seed(seed)
    d = data.balanced_subset(data.load("digits"), 400, seed=0)
    model = backbones.SmallCNN(1, width=8)
    head = torch.nn.Linear(model.feature_dim, 10)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    sched = train.cosine_with_warmup(opt, 5, 40)
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
    assert h2.resumed_from == 2 and len(h2) == 4
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
                  on_step=on_step, on_epoch_start=lambda epoch: seen["starts"].append(epoch),
                  on_epoch=lambda epoch: {"metric": epoch * 10.0})
    assert seen == {"steps": 2 * len(loader), "starts": [0, 1]}
    assert h["metric"] == [0.0, 10.0] and h["aux"] == [2.0, 2.0] and h["epoch"] == [1, 2]
    assert len(h.steps) == 2 * len(loader) and h.last("loss") < h.steps[0]


def test_bad_arguments():
    step, loader, opt, sched, mods = _setup()
    with pytest.raises(ValueError, match="num_epochs=0 is not allowed"):
        train.fit(step, loader, 0, opt, modules=mods)
    with pytest.raises(ValueError, match="checkpoint=True needs run_config"):
        train.fit(step, loader, 1, opt, modules=mods, checkpoint=True)
    with pytest.raises(ValueError, match="warmup_steps=5 and total_steps=2"):
        train.cosine_with_warmup(opt, 5, 2)


def test_cosine_with_warmup_shape():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    s = train.cosine_with_warmup(opt, 10, 110)
    lrs = []
    for _ in range(110):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[60] == pytest.approx(0.5, abs=0.02) and lrs[-1] < 0.01


def test_corrupt_checkpoint_is_reported_not_overwritten(tmp_path):
    step, loader, opt, sched, mods = _setup()
    cfg = {"x": 1}
    h = train.fit(step, loader, 1, opt, modules=mods, run_config=cfg, name="d", checkpoint_dir=tmp_path)
    h.checkpoint.write_bytes(b"garbage")
    step, loader, opt, sched, mods = _setup()
    with pytest.raises(RuntimeError, match="could not be read"):
        train.fit(step, loader, 1, opt, modules=mods, run_config=cfg, name="d", checkpoint_dir=tmp_path)
    assert h.checkpoint.read_bytes() == b"garbage"


def test_stop_training_from_a_callback():
    step, loader, opt, sched, mods = _setup()

    def on_step(step, epoch, loss):
        if step == len(loader) + 3:
            raise train.StopTraining("fewer than tol of the assignments changed")

    h = train.fit(step, loader, 5, opt, modules=mods, on_step=on_step)
    assert h.stopped == "fewer than tol of the assignments changed"
    assert len(h) == 2 and len(h.steps) == len(loader) + 3
