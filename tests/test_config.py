import hashlib
import json

import pytest
import torch

import sslstudy
from sslstudy import config


def test_mode_defaults_to_fast_on_cpu(monkeypatch):
    monkeypatch.delenv("SSL_MODE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert config.get_mode() == "fast"
    monkeypatch.setenv("SSL_MODE", "")
    assert config.get_mode() == "fast"
    monkeypatch.setenv("SSL_MODE", "full")
    assert config.get_mode() == "full"
    assert config.get_mode("fast") == "fast"
    monkeypatch.setenv("SSL_MODE", "fast")
    assert config.get_mode("full") == "full"


def test_mode_defaults_to_fast_with_a_gpu(monkeypatch):
    monkeypatch.delenv("SSL_MODE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert config.gpu_available()
    assert config.get_mode() == "fast"
    monkeypatch.setenv("SSL_MODE", " Full ")
    assert config.get_mode() == "full"


def test_unknown_mode_is_one_clear_sentence(monkeypatch):
    monkeypatch.setenv("SSL_MODE", "turbo")
    with pytest.raises(ValueError, match=r"Unknown mode 'turbo': the mode must be one of fast, full"):
        config.get_mode()


def test_unknown_device():
    with pytest.raises(ValueError, match=r"Unknown device 'tpu'"):
        config.get_device("tpu")
    assert config.get_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            config.get_device("cuda")


def test_bad_seed(monkeypatch):
    monkeypatch.setenv("SSL_SEED", "abc")
    with pytest.raises(ValueError, match="Seed 'abc' is not an integer"):
        config.get_seed()


def test_seed_everything_is_reproducible():
    config.seed_everything(3)
    a = torch.rand(5)
    config.seed_everything(3)
    assert torch.equal(a, torch.rand(5))


def test_setup_and_pick(monkeypatch):
    monkeypatch.delenv("SSL_THREADS", raising=False)
    before = torch.get_num_threads()
    cfg = config.setup(mode="fast", seed=1, device="cpu", verbose=False)
    torch.set_num_threads(before)
    assert cfg.fast and not cfg.full and cfg.pick(1, 2) == 1 and cfg.seed == 1
    assert "mode=fast" in str(cfg)


def test_full_mode_on_cpu_warns_once(recwarn):
    before = torch.get_num_threads()
    config.setup(mode="full", device="cpu", verbose=False)
    torch.set_num_threads(before)
    assert len([w for w in recwarn if "Full mode without a GPU" in str(w.message)]) == 1
    recwarn.clear()
    sslstudy.print_env()  # the setup cell: versions and device, no mode and no second warning
    assert not [w for w in recwarn if "Full mode" in str(w.message)]


def test_setup_prints_the_mode_and_how_to_opt_in(capsys, monkeypatch):
    monkeypatch.delenv("SSL_MODE", raising=False)
    before = torch.get_num_threads()
    config.setup(seed=0, device="cpu")
    torch.set_num_threads(before)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "mode=fast" in out[0]
    assert "SSL_MODE=full" in out[0] and "-p mode full" in out[0]
    sslstudy.print_env()
    assert "mode" not in capsys.readouterr().out


def test_google_drive_is_colab_only():
    with pytest.raises(RuntimeError, match="works on Colab only"):
        config.use_google_drive()


def test_checkpoint_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CHECKPOINT_DIR", str(tmp_path))
    assert config.checkpoint_dir() == tmp_path


# ------------------------------------------------------------------------------------------------ settings
def _cfg(mode="fast", seed=0):
    return config.Config(mode=mode, seed=seed, device=torch.device("cpu"), threads=1)


KNOBS = dict(dataset="cifar10", n_train=config.ff(4000, 50000), batch_size=config.ff(256, 512),
             lr=config.ff(2e-3, 1.0), tau=0.5, color_strength=0.5, crop_scale=(0.08, 1.0))


def _hash(key: dict) -> str:
    """What sslstudy.train._fingerprint hashes (its config part)."""
    return hashlib.sha1(json.dumps({"config": key}, sort_keys=True, default=str).encode()).hexdigest()[:12]


def test_ff_picks_per_mode(capsys):
    fast, full = _cfg("fast").settings("simclr", **KNOBS), _cfg("full").settings("simclr", **KNOBS)
    assert (fast.n_train, fast.batch_size, fast.lr) == (4000, 256, 2e-3)
    assert (full.n_train, full.batch_size, full.lr) == (50000, 512, 1.0)
    assert fast.tau == full.tau == 0.5 and fast["dataset"] == "cifar10"
    assert fast.mode == fast["mode"] == "fast" and full.full and fast.seed == 0 and fast.name == "simclr"
    assert config.ff(1, 2).pick("fast") == 1 and config.ff(1, 2).pick("full") == 2
    assert config.settings(_cfg(), "simclr", **KNOBS) == fast
    assert fast.crop_scale == (0.08, 1.0) and fast.as_dict()["crop_scale"] == (0.08, 1.0)
    assert "mode" not in fast.as_dict() and list(fast) == list(KNOBS) and "lr" in fast and len(fast) == 7


def test_key_holds_name_mode_seed_and_every_knob_as_json(capsys):
    S = _cfg(seed=3).settings("simclr", **KNOBS)
    key = S.key()
    assert list(key)[:3] == ["name", "mode", "seed"] and key["seed"] == 3 and key["mode"] == "fast"
    assert set(key) == {"name", "mode", "seed", *KNOBS}
    assert key["crop_scale"] == [0.08, 1.0]  # tuples become lists: the same key after a JSON round trip
    assert json.loads(json.dumps(key)) == key


@pytest.mark.parametrize("change", [dict(dataset="fashion_mnist"), dict(color_strength=1.0), dict(lr=1e-3),
                                    dict(crop_scale=(0.2, 1.0)), dict(tau=0.1)])
def test_any_knob_changes_the_key_and_the_fingerprint(change, capsys):
    base = _cfg().settings("simclr", **KNOBS)
    other = _cfg().settings("simclr", **{**KNOBS, **change})
    assert base.key() != other.key() and _hash(base.key()) != _hash(other.key())
    assert _hash(_cfg().settings("simclr", **KNOBS).key()) == _hash(base.key())  # and is stable
    assert _hash(_cfg(seed=1).settings("simclr", **KNOBS).key()) != _hash(base.key())
    assert _hash(_cfg("full").settings("simclr", **KNOBS).key()) != _hash(base.key())
    from sslstudy import train

    try:
        fp = train._fingerprint(base.key(), {}), train._fingerprint(other.key(), {})
    except TypeError:  # the train helper changed the signature: the hash above is what it stands for
        return
    assert fp[0] != fp[1]


def test_the_table_is_printed_once_aligned(capsys):
    _cfg().settings("simclr", dataset="cifar10", batch_size=config.ff(256, 512), lr=config.ff(2e-3, 1.0))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "settings 'simclr': mode fast, seed 0"
    assert out[1].split() == ["knob", "fast", "full", "used"] and set(out[2]) <= {"-", " "}
    rows = {line.split()[0]: line.split()[1:] for line in out[3:]}
    assert rows == {"dataset": ["cifar10", "cifar10", "cifar10"], "batch_size": ["256", "512", "256"],
                    "lr": ["0.002", "1.0", "0.002"]}
    assert len(out) == 6
    for col in ("fast", "full", "used"):  # aligned: every value starts under its header
        at = out[1].index(col)
        assert all(line[at - 1] == " " and line[at] != " " for line in out[3:])


def test_update_prints_what_changed(capsys):
    S = _cfg().settings("simclr", **KNOBS)
    capsys.readouterr()
    before = S.key()
    assert S.update(dataset="digits", tau=0.5, batch_size=config.ff(128, 1024)) is S
    out = capsys.readouterr().out
    assert "dataset cifar10 → digits" in out and "batch_size 256 → 128" in out and "tau" not in out
    assert S.dataset == "digits" and S.key() != before and S.key()["batch_size"] == 128
    assert "digits *" in S.table()
    assert "dataset='digits'" in repr(S) and repr(S).startswith("Settings('simclr', mode='fast', seed=0")


def test_settings_bad_input_is_one_sentence(capsys):
    cfg = _cfg()
    with pytest.raises(ValueError, match=r"Knob name 'key' is not allowed: Settings reserves"):
        cfg.settings("x", key=1)
    with pytest.raises(ValueError, match=r"Knob name 'update' is not allowed"):
        cfg.settings("x", update=1)
    with pytest.raises(ValueError, match=r"Knob name 'seed' is not allowed.*mode and seed come from config"):
        cfg.settings("x", seed=1)
    with pytest.raises(ValueError, match=r"model=.*is not allowed: it must be JSON-able"):
        cfg.settings("x", model=torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"fn=.*is not allowed: it must be JSON-able"):
        cfg.settings("x", fn=config.ff(len, max))
    with pytest.raises(ValueError, match=r"Unknown mode 'turbo': the mode must be one of fast, full"):
        config.Settings("x", "turbo", 0, {})
    with pytest.raises(ValueError, match=r"Settings name '' is not allowed"):
        cfg.settings("")
    S = cfg.settings("x", lr=0.1)
    with pytest.raises(ValueError, match=r"update\(lrr=...\) is not allowed: 'lrr' is not a knob of"):
        S.update(lrr=0.2)
    with pytest.raises(ValueError, match=r"Knob name 'mode' is not allowed"):
        S.update(mode="full")
    with pytest.raises(AttributeError, match=r"Settings 'x' has no knob 'momentum'; its knobs: lr"):
        S.momentum
    with pytest.raises(KeyError, match="no knob 'momentum'"):
        S["momentum"]
    with pytest.raises(AttributeError, match="read-only"):
        S.lr = 1.0
    with pytest.raises(ValueError, match="needs the Config"):
        config.settings("fast", "x")
    assert config.jsonable({"p": config.Path("a/b"), "t": (1, 2)}) == {"p": "a/b", "t": [1, 2]}
