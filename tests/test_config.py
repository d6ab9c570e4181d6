import pytest
import torch

from sslstudy import config


def test_mode_defaults_to_fast_without_gpu(monkeypatch):
    monkeypatch.delenv("SSL_MODE", raising=False)
    assert config.get_mode() == ("full" if torch.cuda.is_available() else "fast")
    monkeypatch.setenv("SSL_MODE", "full")
    assert config.get_mode() == "full"
    assert config.get_mode("fast") == "fast"


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


def test_full_mode_on_cpu_warns():
    before = torch.get_num_threads()
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="Full mode without a GPU"):
            config.setup(mode="full", device="cpu", verbose=False)
    torch.set_num_threads(before)


def test_google_drive_is_colab_only():
    with pytest.raises(RuntimeError, match="works on Colab only"):
        config.use_google_drive()


def test_checkpoint_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CHECKPOINT_DIR", str(tmp_path))
    assert config.checkpoint_dir() == tmp_path
