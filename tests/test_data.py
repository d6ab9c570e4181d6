import gzip
import shutil

import numpy as np
import pytest
import torch

from sslstudy import data
from tests.conftest import needs_cifar, needs_mnist


def test_digits_always_offline():
    tr, te = data.load_splits("digits")
    assert tr.x.dtype == torch.uint8 and tr.shape == (1, 8, 8)
    assert len(tr) + len(te) == 1797 and tr.num_classes == 10
    assert set(tr.class_counts()) and min(te.class_counts()) >= 30
    big = data.load("digits", size=28, channels=3)
    assert big.shape == (3, 28, 28)


@needs_mnist
def test_mnist_from_shared_copy():
    tr, te = data.load_splits("mnist")
    assert (len(tr), len(te)) == (60000, 10000)
    assert tr.y[0] == 5 and te.y[0] == 7
    assert tr.class_counts()[:3] == [5923, 6742, 5958]
    assert abs(tr.float().mean().item() - 0.1307) < 1e-3


@needs_cifar
def test_cifar_npz():
    tr = data.load("cifar10")
    assert tr.shape == (3, 32, 32) and len(tr) == 4000 and tr.classes[0] == "airplane"
    assert tr.class_counts() == [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]


def test_balanced_subset_is_balanced_and_seeded():
    tr = data.load("digits")
    a = data.balanced_subset(tr, 500, seed=1)
    b = data.balanced_subset(tr, 500, seed=1)
    c = data.balanced_subset(tr, 500, seed=2)
    assert a.class_counts() == [50] * 10
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
    with pytest.raises(ValueError, match="Subset size 5 is not allowed"):
        data.balanced_subset(tr, 5)


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match=r"Unknown dataset 'imagenet': the dataset must be one of mnist, fashion_mnist, cifar10, digits"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="Unknown split 'val'"):
        data.load("digits", "val")


def test_missing_data_dir_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataNotFoundError, match="SSL_DATA_DIR=.* is not a folder"):
        data.load("mnist")


def test_not_found_says_three_fixes_and_strict_forbids_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SSL_STRICT_DATA", raising=False)
    with pytest.raises(data.DataNotFoundError, match="three ways.*SSL_DATA_DIR.*download=True"):
        data.load("mnist")
    with pytest.warns(UserWarning, match="digits fallback"):
        fb = data.load("cifar10", fallback=True)
    assert fb.name == "digits" and fb.shape == (3, 32, 32)
    monkeypatch.setenv("SSL_STRICT_DATA", "1")
    with pytest.raises(data.DataNotFoundError, match="SSL_STRICT_DATA=1 forbids"):
        data.load("mnist", fallback=True)


def test_relative_data_dir_resolves_from_repo_root(monkeypatch, tmp_path):
    from sslstudy import config

    (tmp_path / "sub").mkdir()
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("SSL_DATA_DIR", "sub")
    assert data.search_dirs()[0] == tmp_path / "sub"


def _write_idx(folder, stem, arr, magic_dims):
    header = (0x0800 + magic_dims).to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    (folder / stem).write_bytes(header + arr.astype(np.uint8).tobytes())


def _fake_mnist(root, n=20):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, (img, lab) in data._IDX_FILES.items():
        _write_idx(raw, img, rng.integers(0, 256, (n, 28, 28)), 3)
        _write_idx(raw, lab, rng.integers(0, 10, (n,)), 1)
    return raw


def test_idx_reader_gz_and_corruption(monkeypatch, tmp_path):
    raw = _fake_mnist(tmp_path)
    monkeypatch.setenv("SSL_DATA_DIR", str(tmp_path))
    assert len(data.load("mnist")) == 20
    # gzip-compressed files are read as well
    stem = raw / "train-images-idx3-ubyte"
    with open(stem, "rb") as f, gzip.open(str(stem) + ".gz", "wb") as g:
        shutil.copyfileobj(f, g)
    stem.unlink()
    assert len(data.load("mnist")) == 20
    # a truncated file → one clear sentence, the file is left as it was
    lab = raw / "t10k-labels-idx1-ubyte"
    lab.write_bytes(lab.read_bytes()[:-3])
    size = lab.stat().st_size
    with pytest.raises(data.DataFormatError, match="truncated or corrupt"):
        data.load("mnist", "test")
    assert lab.stat().st_size == size
    lab.write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 12)
    with pytest.raises(data.DataFormatError, match="not an idx file with 1 dimensions"):
        data.load("mnist", "test")


def test_corrupt_npz(monkeypatch, tmp_path):
    (tmp_path / "cifar10.npz").write_bytes(b"PK\x03\x04 this is not a zip")
    monkeypatch.setenv("SSL_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DataFormatError, match="corrupt or truncated"):
        data.load("cifar10")


def test_tensor_loader_batches_and_resume_state():
    tr = data.load("digits")
    loader = data.TensorLoader(tr, 100, seed=3)
    assert len(loader) == len(tr) // 100
    batches = list(loader)
    b = batches[0]
    assert b.x.dtype == torch.float32 and b.x.shape == (100, 1, 8, 8) and 0 <= b.x.min() and b.x.max() <= 1
    assert torch.equal(tr.y[b.idx], b.y)  # idx points back into the dataset
    state = loader.state_dict()
    nxt = [bb.idx for bb in loader]
    loader2 = data.TensorLoader(tr, 100, seed=99)
    loader2.load_state_dict(state)
    assert all(torch.equal(a, c) for a, c in zip(nxt, [bb.idx for bb in loader2]))
    with pytest.raises(ValueError, match="batch_size=0 is not allowed"):
        data.TensorLoader(tr, 0)


def test_indexed_dataset():
    tr = data.load("digits")
    ds = data.IndexedDataset(tr)
    x, y, i = ds[7]
    assert x.shape == (1, 8, 8) and int(y) == int(tr.y[7]) and i == 7


def test_report_lists_every_dataset():
    names = [r["dataset"] for r in data.report()]
    assert names == list(data.DATASETS)


def test_tensor_loader_over_a_float_matrix():
    """DEC trains on float codes: a plain tensor's rows are batched as they are, with their indices."""
    x = torch.randn(50, 3)
    loader = data.TensorLoader(x, 20, seed=0)
    batches = list(loader)
    assert len(batches) == 2 and all(torch.equal(b.x, x[b.idx]) for b in batches)
    assert batches[0].x.dtype == torch.float32 and not batches[0].y.any()
    with pytest.raises(ValueError, match="batch_size=0 is not allowed: it must be a positive integer"):
        data.TensorLoader(x, 0)


def test_to_float_scales_uint8_and_passes_floats_through():
    x = torch.tensor([[0, 51, 255]], dtype=torch.uint8)
    y = data.to_float(x)
    assert y.dtype == torch.float32 and torch.allclose(y, torch.tensor([[0.0, 0.2, 1.0]]))
    assert x.dtype == torch.uint8 and x[0, 2] == 255        # the input is left alone
    f = torch.rand(3, 2)
    assert data.to_float(f) is f                            # float images or codes: as they are
    tr = data.load("digits")
    assert torch.equal(tr.float(), data.to_float(tr.x)) and torch.equal(data.IndexedDataset(tr)[0][0], tr.float()[0])


def test_extract_features_and_loader_use_the_same_scaling():
    from sslstudy import evaluate

    tr = data.load("digits").subset(range(40))
    enc = torch.nn.Flatten()
    assert torch.equal(evaluate.extract_features(enc, tr), data.to_float(tr.x).flatten(1))
    b = next(iter(data.TensorLoader(tr, 40, shuffle=False)))
    assert torch.equal(b.x, data.to_float(tr.x))


def test_check_images_lives_in_data_and_backbones_keeps_it():
    from sslstudy import backbones

    assert backbones.check_images is data.check_images
    data.check_images(torch.zeros(2, 3, 8, 8))                       # any channel count when channels=None
    data.check_images(torch.zeros(2, 1, 8, 8), 1, "SmallCNN")
    with pytest.raises(ValueError, match=r"SmallCNN takes a batch of shape \(B, 1, H, W\); got \(2, 3, 8, 8\)"):
        data.check_images(torch.zeros(2, 3, 8, 8), 1, "SmallCNN")
    with pytest.raises(ValueError, match=r"check_images takes a batch of shape \(B, C, H, W\); got \(8, 8\)"):
        data.check_images(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="takes a float batch .*data.to_float"):
        data.check_images(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), 1, "SmallCNN")
    with pytest.raises(TypeError, match="SmallCNN takes a torch.Tensor batch"):
        backbones.SmallCNN()([[0.0]])
