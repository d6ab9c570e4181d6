"""The scale-out pieces: the sharded loader, gathered features, DDP equal to one process, and the training
command (``python -m sslstudy train``), including two processes under torchrun with a resume."""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from sslstudy import data, distributed, evaluate, scale, train
from sslstudy.methods.simclr import SimCLR

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ the sharded loader
def test_shards_concatenate_to_the_single_process_batches():
    x = torch.randint(0, 255, (50, 1, 4, 4), dtype=torch.uint8)
    one = data.TensorLoader(x, 12, seed=3)
    two = [data.TensorLoader(x, 12, seed=3, rank=r, world_size=2) for r in range(2)]
    three = [data.TensorLoader(x, 12, seed=3, rank=r, world_size=3) for r in range(3)]
    assert len(one) == len(two[0]) == len(three[2]) == 4 and two[1].local_batch_size == 6
    for _ in range(2):                                    # reshuffled each epoch, identically everywhere
        for b, *shards in zip(one, *two):
            assert torch.equal(torch.cat([s.idx for s in shards]), b.idx)
            assert torch.equal(torch.cat([s.x for s in shards]), b.x)
    for b, *shards in zip(data.TensorLoader(x, 12, seed=3), *three):
        assert torch.equal(torch.cat([s.idx for s in shards]), b.idx)


@pytest.mark.parametrize("kwargs, words", [
    ({"batch_size": 10, "world_size": 3, "rank": 0}, "multiple of the number of processes"),
    ({"batch_size": 10, "world_size": 2, "rank": 2}, "rank=2"),
    ({"batch_size": 10, "world_size": 0, "rank": 0}, "world_size=0"),
    ({"batch_size": 10, "world_size": 2, "rank": 0, "drop_last": False}, "drop_last=False"),
])
def test_sharding_bad_input_is_one_sentence(kwargs, words):
    with pytest.raises(ValueError, match=words):
        data.TensorLoader(torch.zeros(40, 1, 2, 2), **kwargs)


# ------------------------------------------------------------------------------------------ gathered features
def _features_in_two(rank, world, x, net):
    return evaluate.extract_features_sharded(net, x, batch_size=4)


def test_sharded_features_equal_one_process():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    x = torch.rand(11, 3, 2, 2)                            # 11 rows: uneven shares (6 + 5)
    want = evaluate.extract_features(net, x)
    got = distributed.run_in_processes(_features_in_two, 2, (x, net))
    for g in got:
        assert torch.allclose(g, want, atol=1e-6) and g.shape == (11, 5)
    assert torch.equal(evaluate.extract_features_sharded(net, x), want)   # one process: the plain function


# ------------------------------------------------------------------------------------------ DDP = one process
class _Flat(nn.Module):
    """A backbone without batch statistics, so one process and two shards compute the same thing."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.ReLU())
        self.feature_dim = 16

    def forward(self, x):
        return self.net(x)


def _simclr():
    torch.manual_seed(0)
    return SimCLR(_Flat(), nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8)), tau=0.5, gather=True)


def _one_step(rank, world, x1, x2):
    model = _simclr()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loader = data.TensorLoader(torch.arange(len(x1)).float().view(-1, 1), len(x1), shuffle=False)
    views = lambda idx: (x1[idx.view(-1).long()], x2[idx.view(-1).long()])   # noqa: E731 - fixed pairs, sharded
    hist = train.fit_method(model, loader, 1, opt, views=views, progress=False)
    return {"loss": hist.steps[0], "mean_loss": hist.rows[0]["loss"],
            "params": [p.detach().clone() for p in model.parameters()]}


def test_ddp_two_processes_equal_one_process_with_the_whole_batch():
    """Half the batch in each of two processes (negatives gathered with gradients, DDP averaging the gradients)
    gives the loss and the parameter update of one process with the whole batch."""
    g = torch.Generator().manual_seed(1)
    x1, x2 = torch.rand(8, 3, 4, 4, generator=g), torch.rand(8, 3, 4, 4, generator=g)
    one = _one_step(0, 1, x1, x2)
    two = distributed.run_in_processes(_one_step, 2, (x1, x2))
    for r in two:
        assert abs(r["mean_loss"] - one["loss"]) < 1e-5     # the logged loss: averaged over the processes
        for a, b in zip(r["params"], one["params"]):
            assert torch.allclose(a, b, atol=1e-6)
    assert abs((two[0]["loss"] + two[1]["loss"]) / 2 - one["loss"]) < 1e-5
    assert not torch.equal(one["params"][1], _simclr().backbone.net[1].bias.detach())   # it did move


# ------------------------------------------------------------------------------------------ the command
def _args(*argv):
    return scale.parser().parse_args(["--method", "simclr", *argv])


@pytest.mark.parametrize("argv, world, words", [
    (["--method", "nope"], 1, "--method 'nope' is not allowed"),
    (["--method", "simclr", "--batch-size", "30"], 4, "multiple of the number of processes"),
    (["--method", "simclr", "--set", "taux=0.2"], 1, "'taux' does not exist"),
    (["--method", "simclr", "--set", "tau"], 1, "KNOB=VALUE"),
    (["--method", "simclr", "--mode", "medium"], 1, "--mode 'medium'"),
    (["--method", "simclr", "--dataset", "imagenet"], 1, "--dataset 'imagenet'"),
    (["--method", "simclr", "--epochs", "0"], 1, "--epochs 0"),
    (["--method", "moco", "--batch-size", "384"], 1, "multiple of the global batch"),
    (["--method", "moco", "--batch-size", "512"], 128, "SplitBatchNorm"),
    (["--method", "swav", "--batch-size", "512"], 1, "queue_length=3840"),
])
def test_bad_input_is_one_sentence_before_training(argv, world, words):
    with pytest.raises(ValueError, match=words):
        scale.resolve(scale.parser().parse_args(argv), world)


def test_missing_dataset_is_one_sentence(monkeypatch, capsys):
    monkeypatch.setattr(data, "locate", lambda name: None)
    assert scale.main(["--method", "simclr", "--dataset", "mnist"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'mnist' is not there" in err and err.count("\n") == 0


def test_settings_defaults_are_full_mode_and_overrides_are_marked():
    _, S = scale.resolve(_args("--lr", "0.3", "--set", "tau=0.2", "blur=true"), 1)
    assert S.mode == "full" and S.batch_size == 512 and S.optimizer == "lars" and S.epochs == 200
    assert S.lr == 0.3 and S.tau == 0.2 and S.blur is True
    table = S.table()
    assert "0.3 *" in table and "0.2 *" in table


def _notebook_full_settings(path: Path) -> dict:
    """The full-mode value of every knob of the ``cfg.settings(...)`` call in a notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and "cfg.settings(" in src:
            call = next(n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call)
                        and getattr(n.func, "attr", None) == "settings")
            out = {}
            for kw in call.keywords:
                v = kw.value
                if isinstance(v, ast.Call) and getattr(v.func, "attr", None) == "ff":
                    v = v.args[1]
                try:
                    out[kw.arg] = ast.literal_eval(v)
                except ValueError:
                    pass
            return out
    raise AssertionError(f"no cfg.settings call in {path}")


@pytest.mark.parametrize("method, notebook", [
    ("simclr", "week08_simclr/08_simclr_code_analysis.ipynb"),
    ("deepcluster", "week03_deepcluster/03_deepcluster_code_analysis.ipynb"),
    ("dac", "week02_dac/02_dac_code_analysis.ipynb"),
    ("vqvae", "week04_vqvae/04_vqvae_code_analysis.ipynb"),
    ("moco", "week06_moco/06_moco_code_analysis.ipynb"),
    ("swav", "week07_swav/07_swav_code_analysis.ipynb"),
])
def test_recipe_defaults_are_the_notebooks_full_mode(method, notebook):
    """The command's defaults are the week's full-mode settings: no second, drifting copy of the numbers."""
    nb = _notebook_full_settings(ROOT / notebook)
    _, S = scale.resolve(scale.parser().parse_args(["--method", method]), 1)
    shared = sorted(set(nb) & set(S) - {"dataset", "n_train", "n_test"})   # the data: the whole split here
    assert len(shared) >= 6, shared
    for k in shared:
        assert nb[k] == S[k], (k, nb[k], S[k])
    if "backbone" in S:
        assert S.backbone == "resnet18" and nb["arch"] in ("ResNet18Cifar", "resnet18")
    epochs = {"dac": "dac_epochs"}.get(method, "epochs")            # DAC's notebook also trains DAC*
    assert nb[epochs] == S.epochs


def _torchrun(out: Path, method: str, *extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    env.pop("SSL_THREADS", None)
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [str(torchrun), "--nproc_per_node", "2", "-m", "sslstudy", "train", "--method", method, "--mode", "fast",
           "--epochs", "2", "--batch-size", "32", "--set", "n_train=128", "n_test=64", "--out", str(out), *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(data.locate("cifar10") is None, reason="CIFAR-10 not found offline (set SSL_DATA_DIR)")
@pytest.mark.parametrize("method", sorted(scale.RECIPES))
def test_torchrun_two_processes_train_stop_and_resume(tmp_path, method):
    if not shutil.which("torchrun") and not Path(sys.executable).with_name("torchrun").exists():
        pytest.skip("torchrun is not installed beside this Python")
    first = _torchrun(tmp_path, method, "--stop-after-epochs", "1")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert "stopped after epoch 1" in first.stdout
    run_dir = next(tmp_path.glob(f"{method}-*"))                       # <method>-<its default dataset>
    ckpts = list((run_dir / "checkpoints").glob("*.pt"))
    assert len(ckpts) == 1
    state = torch.load(ckpts[0], weights_only=False)
    assert state["epoch"] == 0 and len(state["rng_ranks"]) == 2
    second = _torchrun(tmp_path, method)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-3000:]
    assert f"Resumed '{method}'" in second.stdout and second.stdout.count("Resumed") == 1   # rank 0 alone prints
    rec = json.loads((run_dir / "record.json").read_text())["records"][0]
    assert rec["notes"]["processes"] == 2 and len(rec["rows"]) == 2 and 0.0 < rec["scores"]["knn"] <= 1.0


def test_a_released_checkpoint_is_fetched_checked_and_loaded(tmp_path, monkeypatch):
    """What the command writes (a checkpoint and its SHA-256 in the record) can be published and loaded back."""
    import hashlib

    from sslstudy import config, report

    monkeypatch.setattr(config, "checkpoint_dir", lambda: tmp_path / "ckpt")
    model = _simclr()
    asset = tmp_path / "asset.pt"
    torch.save({"modules": {"method": model.state_dict()}}, asset)
    sha = hashlib.sha256(asset.read_bytes()).hexdigest()
    entry = {"name": "simclr-toy", "url": asset.as_uri(), "sha256": sha, "record": {"scores": {"knn": 0.5}}}
    monkeypatch.setattr(report, "released", lambda: [entry])
    fresh = SimCLR(_Flat(), nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8)))
    state, rec = report.load_released("simclr-toy", fresh)
    assert rec["scores"]["knn"] == 0.5 and torch.equal(fresh.backbone.net[1].weight, model.backbone.net[1].weight)
    assert (tmp_path / "ckpt" / "released" / "simclr-toy.pt").is_file()
    with pytest.raises(ValueError, match="not the published"):
        report.fetch_checkpoint(asset.as_uri(), "0" * 64, name="other.pt")
    with pytest.raises(ValueError, match="downloading is off"):
        report.fetch_checkpoint("https://example.org/x.pt", "0" * 64, download=False)
    with pytest.raises(ValueError, match="No published checkpoint"):
        report.load_released("nope")


def test_the_published_list_is_read_from_the_package():
    from sslstudy import report

    data = report.stored(report.RELEASED)
    assert data is not None and report.released() == data["checkpoints"]
    for e in report.released():                       # every published entry can be fetched and checked
        assert set(e) >= {"name", "url", "sha256", "record"}
