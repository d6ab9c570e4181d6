"""The method interface (sslstudy.method.Method) and train.fit_method: hooks, views, resume of method state."""
import copy
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sslstudy import augment, data, losses, train
from sslstudy.method import Method
from sslstudy.momentum import KeyQueue, copy_params_, ema_update_




def _digits(n=192):
    return data.balanced_subset(data.load("digits"), n, seed=0)  # (n, 1, 8, 8) uint8


def _encoder(out=16):
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, out))


class TinyMoCo(Method):
    """MoCo in miniature: a query encoder, a momentum key encoder and a queue of keys (buffers)."""

    def __init__(self, dim=8, K=32, m=0.9, tau=0.2):
        super().__init__()
        self.backbone, self.projector = _encoder(16), nn.Linear(16, dim)
        self.key_encoder = copy.deepcopy(nn.Sequential(self.backbone, self.projector))
        copy_params_(self.key_encoder, nn.Sequential(self.backbone, self.projector))
        self.queue = KeyQueue(dim, K, seed=0)
        self.m, self.tau = m, tau

    def forward(self, views):
        x1, x2 = views                                                   # (B, 1, 8, 8) each
        q = F.normalize(self.projector(self.backbone(x1)), dim=1)        # (B, D)
        with torch.no_grad():
            k = F.normalize(self.key_encoder(x2), dim=1)                 # (B, D)
        loss = losses.info_nce(q, k, self.queue.keys.clone().detach(), tau=self.tau)
        self.queue.enqueue(k)
        return {"loss": loss, "pos": (q * k).sum(1).mean().detach()}

    def after_step(self, step):
        ema_update_(self.key_encoder, nn.Sequential(self.backbone, self.projector), self.m)


def _noisy_views(x):  # draws from the global RNG, which the checkpoint must restore
    return x + 0.1 * torch.randn_like(x), x + 0.1 * torch.randn_like(x)


def _moco_run(tmp_path, seed, **kw):
    torch.manual_seed(seed)
    method = TinyMoCo()
    opt = torch.optim.SGD(method.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    loader = data.TensorLoader(_digits(), 16, seed=0)
    steps = []
    h = train.fit_method(method, loader, 4, opt, views=_noisy_views, on_step=lambda loss: steps.append(loss),
                         run_config={"t": "moco"}, checkpoint_dir=tmp_path, **kw)
    return method, h, steps


def test_resume_equals_uninterrupted_with_momentum_encoder_and_queue(tmp_path):
    full, h_full, _ = _moco_run(tmp_path / "a", seed=0)
    part, h1, _ = _moco_run(tmp_path / "b", seed=0, stop_after_epochs=2)
    assert h1.interrupted and len(h1) == 2
    assert int(part.queue.ptr) != 0 or len(h1.steps) * 16 % 32 == 0
    # "a fresh process": new objects from another seed, the global RNGs scrambled; the checkpoint restores all
    random.seed(99)
    np.random.seed(99)
    resumed, h2, steps = _moco_run(tmp_path / "b", seed=1)
    assert h2.resumed_from == 2 and len(h2) == 4 and len(steps) == len(h2.steps) // 2
    a, b = full.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys() and "queue.keys" in a and "queue.ptr" in a and "key_encoder.0.1.weight" in a
    assert all(torch.equal(a[k], b[k]) for k in a)               # parameters, key encoder, queue, ptr, BN stats
    assert h2.steps == h_full.steps
    assert not torch.equal(full.key_encoder[0][1].weight, full.backbone[1].weight)  # the EMA lags the encoder


def test_fit_method_trains_a_tiny_method_with_two_views():
    class TinySimCLR(Method):
        def __init__(self):
            super().__init__()
            self.backbone, self.projector = _encoder(16), nn.Linear(16, 8)

        def forward(self, views):
            z1, z2 = (self.projector(self.backbone(v)) for v in views)   # (B, 8) each
            return {"loss": losses.info_nce(z1, z2, tau=0.2, normalize=True)}

    torch.manual_seed(0)
    method = TinySimCLR()
    views = augment.TwoViews(augment.RandomResizedCrop(8, scale=(0.5, 1.0)))
    opt = torch.optim.Adam(method.parameters(), lr=3e-3)
    seen = []
    h = train.fit_method(method, data.TensorLoader(_digits(384), 32), 6, opt, views=views,
                         transform=lambda v: seen.append(v.shape) or (v - 0.3) / 0.4)
    assert h["loss"][-1] < 0.8 * h["loss"][0]                     # the loss falls
    assert seen[:2] == [torch.Size([32, 1, 8, 8])] * 2            # transform applied to each of the two views
    assert method.features(torch.rand(5, 1, 8, 8)).shape == (5, 16)
    assert torch.equal(method.features(torch.ones(2, 1, 8, 8)), method.backbone(torch.ones(2, 1, 8, 8)))


def test_method_hooks_wired_before_the_callers():
    log = []

    class Hooked(Method):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Linear(4, 2)

        def forward(self, x):
            log.append("forward")
            return {"loss": self.backbone(x).pow(2).mean(), "size": float(len(x))}

        def on_fit_start(self, loader, trainer):
            log.append(("method.on_fit_start", len(loader), type(trainer).__name__))

        def on_epoch_start(self, epoch, trainer):
            log.append(("method.on_epoch_start", epoch, sorted(trainer.optimizers)))

        def before_step(self, step):
            log.append(("method.before_step", step))

        def after_step(self, step):
            log.append(("method.after_step", step))

    method = Hooked()
    h = train.fit_method(method, data.TensorLoader(torch.randn(4, 4), 2, shuffle=False), 1,
                         torch.optim.SGD(method.parameters(), lr=0.1),
                         on_fit_start=lambda loader: log.append("user.on_fit_start"),
                         on_epoch_start=lambda epoch: log.append("user.on_epoch_start"),
                         before_step=lambda step: log.append("user.before_step"),
                         on_step=lambda step: log.append("user.on_step"))
    one = lambda s: ["forward", ("method.before_step", s), "user.before_step", ("method.after_step", s), "user.on_step"]  # noqa: E731
    assert log == [("method.on_fit_start", 2, "Trainer"), "user.on_fit_start",
                   ("method.on_epoch_start", 0, ["optimizer"]), "user.on_epoch_start", *one(1), *one(2)]
    assert h["size"] == [2.0]                                      # diagnostics are logged per epoch


def test_method_interface_errors():
    class NoForward(Method):
        pass

    with pytest.raises(NotImplementedError, match="NoForward must implement forward"):
        NoForward()(torch.zeros(1))
    m = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="modules=\\{'method': ...\\} is not allowed"):
        train.fit_method(m, data.TensorLoader(torch.randn(4, 2), 2), 1, torch.optim.SGD(m.parameters(), lr=0.1),
                         modules={"method": m})


def test_fit_method_hands_the_whole_batch_to_a_method_that_takes_it():
    """``takes_batch = True``: forward gets data.Batch with x = the views and the samples' idx (DeepCluster)."""
    seen = []

    class Indexed(Method):
        takes_batch = True

        def __init__(self):
            super().__init__()
            self.backbone = nn.Linear(4, 2)

        def forward(self, batch):
            assert isinstance(batch, data.Batch)
            seen.append(batch.idx.clone())
            return {"loss": self.backbone(batch.x[0]).pow(2).mean()}

    x = torch.randn(8, 4)
    method = Indexed()
    opt = torch.optim.SGD(method.parameters(), lr=0.1)
    train.fit_method(method, data.TensorLoader(x, 4, shuffle=False), 1, opt, views=lambda t: (t, t), progress=False)
    assert [s.tolist() for s in seen] == [[0, 1, 2, 3], [4, 5, 6, 7]]
