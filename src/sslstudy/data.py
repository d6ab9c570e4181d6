"""Datasets, offline first: MNIST, Fashion-MNIST, CIFAR-10 and scikit-learn's digits.

Every dataset is returned as an :class:`ImageData`: the whole split as one ``uint8`` tensor ``(N, C, H, W)``
plus ``int64`` labels. The course's datasets are small, so keeping them as one tensor (on the model's device)
and slicing batches out of it (:class:`TensorLoader`) is much faster than a per-sample ``Dataset``.

Lookup order for a dataset (the design doc's):

1. ``SSL_DATA_DIR`` if set (a relative path is taken from the repository root, because Jupyter kernels start
   in the notebook's folder);
2. the user's cache folder, ``~/.cache/sslstudy/data``;
3. a download into that cache folder, only where allowed: ``download=True``, ``SSL_DOWNLOAD=1``, or on Colab.

Otherwise a :class:`DataNotFoundError` says the three ways to fix it. Notebooks call
``load(..., fallback=True)``: offline with nothing found, they get ``digits`` shaped like the requested
dataset and a loud message. The library default is no fallback, and ``SSL_STRICT_DATA=1`` (CI) forbids it
everywhere, so a broken data path fails instead of silently passing on the wrong data.

File layouts understood inside a data folder::

    MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]          (torchvision's layout)
    FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
    cifar10.npz  (uint8 x_train (N,32,32,3), y_train, x_test, y_test)  or  cifar-10-batches-py/
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import config

DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits")
SPLITS = ("train", "test")

CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "digits": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
#: (channels, height, width) of each dataset as stored.
SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32), "digits": (1, 8, 8)}
#: Per-channel mean and std on [0, 1] (training sets; the shared CIFAR part has the same to 3 decimals).
MEAN_STD = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion_mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "digits": ((0.3,), (0.4,)),
}
LICENSES = {
    "mnist": "MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges; CC BY-SA 3.0",
    "fashion_mnist": "Fashion-MNIST: Zalando SE (Xiao, Rasul, Vollgraf 2017); MIT License",
    "cifar10": "CIFAR-10: Krizhevsky, Nair, Hinton; cite Krizhevsky (2009), Learning Multiple Layers of Features "
               "from Tiny Images",
    "digits": "scikit-learn digits (UCI Optical Recognition of Handwritten Digits); CC BY 4.0",
}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_FOLDER = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


class DataNotFoundError(FileNotFoundError):
    """A dataset was not found offline and no download was allowed."""


class DataFormatError(ValueError):
    """A data file exists but is corrupt, truncated or of the wrong layout."""


# --------------------------------------------------------------------------------------------- the container
@dataclass
class ImageData:
    """A whole split: ``x`` uint8 ``(N, C, H, W)``, ``y`` int64 ``(N,)``, and where it came from."""

    x: torch.Tensor
    y: torch.Tensor
    name: str
    split: str
    classes: list = field(default_factory=list)
    source: str = ""

    def __post_init__(self):
        if self.x.dtype != torch.uint8 or self.x.ndim != 4:
            raise ValueError(f"ImageData.x must be a uint8 tensor (N, C, H, W); got {self.x.dtype} {tuple(self.x.shape)}.")
        if self.y.ndim != 1 or len(self.y) != len(self.x):
            raise ValueError(f"ImageData.y must have one label per image; got {tuple(self.y.shape)} for {len(self.x)} images.")
        self.y = self.y.long()

    def __len__(self) -> int:
        return len(self.x)

    def __repr__(self) -> str:
        return (f"ImageData({self.name}/{self.split}: {len(self)} images {tuple(self.x.shape[1:])}, "
                f"{len(self.classes)} classes, from {self.source})")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def shape(self) -> tuple:
        return tuple(self.x.shape[1:])

    def float(self) -> torch.Tensor:
        """Images as float32 in [0, 1]."""
        return to_float(self.x)

    def flat(self) -> torch.Tensor:
        """Images as float32 vectors in [0, 1], ``(N, C*H*W)`` (raw-pixel baselines, DEC)."""
        return self.float().flatten(1)

    def subset(self, index) -> "ImageData":
        index = torch.as_tensor(index, dtype=torch.long)
        return ImageData(self.x[index], self.y[index], self.name, self.split, list(self.classes), self.source)

    def to(self, device) -> "ImageData":
        return ImageData(self.x.to(device), self.y.to(device), self.name, self.split, list(self.classes), self.source)

    def class_counts(self) -> list:
        return torch.bincount(self.y.cpu(), minlength=self.num_classes).tolist()


def concat(a: ImageData, b: ImageData, split: str = "train+test") -> ImageData:
    """Join two splits (DEC clusters MNIST train and test together, as the paper does)."""
    return ImageData(torch.cat([a.x, b.x]), torch.cat([a.y, b.y]), a.name, split, list(a.classes), a.source)


# --------------------------------------------------------------------------------------------- lookup
def _resolve(path: str | os.PathLike) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute() and config.REPO_ROOT is not None:
        p = config.REPO_ROOT / p
    return p


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sslstudy" / "data"


def search_dirs() -> list[Path]:
    """The folders searched, in order. A set but missing ``SSL_DATA_DIR`` is an error, not skipped."""
    dirs = []
    env = os.environ.get("SSL_DATA_DIR")
    if env:
        p = _resolve(env)
        if not p.is_dir():
            raise DataNotFoundError(
                f"SSL_DATA_DIR={env!r} points at {p}, which is not a folder; set it to the folder that holds "
                f"MNIST/, FashionMNIST/ or cifar10.npz, or unset it."
            )
        dirs.append(p)
    dirs.append(cache_dir())
    return dirs


def _check_name(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_")
    key = {"fmnist": "fashion_mnist", "fashionmnist": "fashion_mnist", "cifar": "cifar10", "cifar_10": "cifar10"}.get(key, key)
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: the dataset must be one of {', '.join(DATASETS)}.")
    return key


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: the split must be 'train' or 'test'.")
    return split


def _find_file(folder: Path, stem: str) -> Path | None:
    for cand in (folder / stem, folder / (stem + ".gz")):
        if cand.is_file():
            return cand
    return None


def locate(name: str) -> Path | None:
    """The data folder in which ``name`` is found, or None."""
    name = _check_name(name)
    if name == "digits":
        return None
    for d in search_dirs():
        if name in _FOLDER:
            raw = d / _FOLDER[name] / "raw"
            if all(_find_file(raw, f) for pair in _IDX_FILES.values() for f in pair):
                return d
        elif name == "cifar10":
            if (d / "cifar10.npz").is_file() or (d / "cifar-10-batches-py" / "data_batch_1").is_file():
                return d
    return None


# --------------------------------------------------------------------------------------------- readers
def _read_idx(path: Path, expect_dims: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataFormatError(f"Data file {path} could not be read ({e}); delete it and fetch it again.") from None
    if len(raw) < 4 + 4 * expect_dims:
        raise DataFormatError(f"Data file {path} is truncated ({len(raw)} bytes); delete it and fetch it again.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != 0x0800 + expect_dims:
        raise DataFormatError(
            f"Data file {path} is not an idx file with {expect_dims} dimensions (magic number {magic}, "
            f"expected {0x0800 + expect_dims}); delete it and fetch it again."
        )
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(expect_dims)]
    offset = 4 + 4 * expect_dims
    need = int(np.prod(dims))
    if len(raw) - offset != need:
        raise DataFormatError(
            f"Data file {path} is truncated or corrupt: its header promises {need} bytes of data, it holds "
            f"{len(raw) - offset}; delete it and fetch it again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _load_idx_dataset(name: str, split: str, folder: Path) -> ImageData:
    raw = folder / _FOLDER[name] / "raw"
    img_stem, lab_stem = _IDX_FILES[split]
    x = _read_idx(_find_file(raw, img_stem), 3)
    y = _read_idx(_find_file(raw, lab_stem), 1)
    if len(x) != len(y):
        raise DataFormatError(f"{raw}: {len(x)} images but {len(y)} labels in the {split} split; the files do not belong together.")
    return ImageData(torch.from_numpy(x.copy()).unsqueeze(1), torch.from_numpy(y.astype(np.int64)), name, split,
                     CLASS_NAMES[name], str(raw))


def _load_cifar10(split: str, folder: Path) -> ImageData:
    npz = folder / "cifar10.npz"
    if npz.is_file():
        try:
            with np.load(npz, allow_pickle=False) as d:
                x, y = d[f"x_{split}"], d[f"y_{split}"]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise DataFormatError(f"Data file {npz} is corrupt or truncated ({e.__class__.__name__}); delete it and fetch it again.") from None
        except KeyError:
            raise DataFormatError(f"Data file {npz} has no arrays x_{split}/y_{split}; it must hold uint8 x_train (N,32,32,3), y_train, x_test, y_test.") from None
        source = str(npz)
    else:
        base = folder / "cifar-10-batches-py"
        files = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        xs, ys = [], []
        for fn in files:
            try:
                with open(base / fn, "rb") as f:
                    d = pickle.load(f, encoding="bytes")
            except (OSError, EOFError, pickle.UnpicklingError) as e:
                raise DataFormatError(f"Data file {base / fn} is missing or corrupt ({e.__class__.__name__}); delete the folder and fetch it again.") from None
            xs.append(np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            ys.append(np.asarray(d[b"labels"]))
        x, y = np.concatenate(xs), np.concatenate(ys)
        source = str(base)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3) or len(x) != len(y):
        raise DataFormatError(f"CIFAR-10 data in {source} has the wrong layout: x {x.dtype} {x.shape}, y {y.shape}; expected uint8 (N,32,32,3) and N labels.")
    return ImageData(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(y.astype(np.int64)),
                     "cifar10", split, CLASS_NAMES["cifar10"], source)


def _load_digits(split: str) -> ImageData:
    """scikit-learn's 1,797 8×8 digits (0–16 → 0–255); a fixed stratified 80/20 split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    test_mask = np.zeros(len(y), dtype=bool)
    for c in range(10):
        idx = np.flatnonzero(y == c)
        test_mask[rng.choice(idx, size=len(idx) // 5, replace=False)] = True
    keep = test_mask if split == "test" else ~test_mask
    return ImageData(torch.from_numpy(x[keep]).unsqueeze(1), torch.from_numpy(y[keep]), "digits", split,
                     CLASS_NAMES["digits"], "sklearn.datasets.load_digits")


def _download(name: str, dest: Path) -> None:
    import torchvision

    dest.mkdir(parents=True, exist_ok=True)
    print(f"sslstudy.data: downloading {name} into {dest} …")
    if name == "mnist":
        for train in (True, False):
            torchvision.datasets.MNIST(str(dest), train=train, download=True)
    elif name == "fashion_mnist":
        for train in (True, False):
            torchvision.datasets.FashionMNIST(str(dest), train=train, download=True)
    elif name == "cifar10":
        for train in (True, False):
            torchvision.datasets.CIFAR10(str(dest), train=train, download=True)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a uint8 batch ``(N, C, H, W)`` to ``size``×``size`` (bilinear, antialiased)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    y = F.interpolate(x.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return y.round_().clamp_(0, 255).to(torch.uint8)


def _download_allowed(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return config._env_flag("SSL_DOWNLOAD") or config.in_colab()


def load(name: str, split: str = "train", *, fallback: bool = False, download: bool | None = None,
         size: int | None = None, channels: int | None = None) -> ImageData:
    """Load a whole split of a dataset as an :class:`ImageData`.

    ``fallback=True`` returns ``digits`` (resized and with the channels of ``name``) when ``name`` is found
    nowhere offline and no download is allowed, and prints why; ``SSL_STRICT_DATA=1`` turns that into an error.
    ``size``/``channels`` resize or grey/colour-convert the result.
    """
    key = _check_name(name)
    split = _check_split(split)
    if size is not None and (not isinstance(size, int) or size < 4):
        raise ValueError(f"Image size {size!r} is not allowed: it must be an integer of at least 4.")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels={channels!r} is not allowed: use 1 (grey), 3 (colour) or None (as stored).")
    if key == "digits":
        data = _load_digits(split)
    else:
        folder = locate(key)
        if folder is None and _download_allowed(download):
            _download(key, cache_dir())
            folder = locate(key)
        if folder is None:
            if fallback and not config.strict_data():
                c, h, _ = SHAPES[key]
                size = size or h
                channels = channels or c
                data = _load_digits(split)
                bar = "!" * 78
                print(f"{bar}\n! {key} was not found offline ({', '.join(map(str, search_dirs()))}).\n"
                      f"! FALLING BACK TO scikit-learn's `digits` ({len(data)} {split} images), resized to "
                      f"{size}x{size}x{channels}.\n! Numbers below are NOT {key} numbers. Set SSL_DATA_DIR or "
                      f"SSL_DOWNLOAD=1 to use the real dataset.\n{bar}")
                warnings.warn(f"{key} not found; using the digits fallback", stacklevel=2)
            else:
                why = " (SSL_STRICT_DATA=1 forbids the digits fallback)" if fallback else ""
                raise DataNotFoundError(
                    f"Dataset {key!r} was not found offline{why}; looked in: "
                    f"{', '.join(map(str, search_dirs()))}. Fix it in one of three ways: set SSL_DATA_DIR to a "
                    f"folder holding {'cifar10.npz or cifar-10-batches-py/' if key == 'cifar10' else _FOLDER[key] + '/raw/'}, "
                    f"copy the data into {cache_dir()}, or allow a download (download=True or SSL_DOWNLOAD=1)."
                )
        elif key in _FOLDER:
            data = _load_idx_dataset(key, split, folder)
        else:
            data = _load_cifar10(split, folder)
    x = data.x
    if channels is not None and x.shape[1] != channels:
        x = x.expand(-1, 3, -1, -1).contiguous() if channels == 3 else (
            x.float().mul(torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True).round().to(torch.uint8))
    if size is not None:
        x = resize(x, size)
    if x is not data.x:
        data = ImageData(x, data.y, data.name, data.split, data.classes, data.source)
    return data


def load_splits(name: str, **kwargs) -> tuple[ImageData, ImageData]:
    """``(train, test)`` of a dataset; the same keyword arguments as :func:`load`."""
    return load(name, "train", **kwargs), load(name, "test", **kwargs)


def balanced_subset(data: ImageData, n: int, seed: int = 0) -> ImageData:
    """A class-balanced random subset of ``n`` images (``n // classes`` per class; fewer where a class has fewer)."""
    if not isinstance(n, (int, np.integer)) or n < data.num_classes:
        raise ValueError(f"Subset size {n!r} is not allowed: it must be an integer of at least {data.num_classes} (one per class).")
    if n >= len(data):
        return data
    g = torch.Generator().manual_seed(int(seed))
    per_class = n // data.num_classes
    picks = []
    y = data.y.cpu()
    for c in range(data.num_classes):
        idx = torch.nonzero(y == c).flatten()
        picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    index = torch.cat(picks)
    index = index[torch.randperm(len(index), generator=g)]
    return data.subset(index)


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 images (0–255) → float32 in [0, 1]; any other tensor (float images, float codes) is returned as is."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x


def check_images(x: torch.Tensor, channels: int | None = None, who: str = "") -> None:
    """Raise one clear sentence when ``x`` is not a float batch ``(B, channels, H, W)``.

    ``channels=None`` accepts any number of channels; ``who`` names the caller in the message (e.g. "SmallCNN").
    """
    who = who or "check_images"
    c = "C" if channels is None else channels
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who} takes a torch.Tensor batch (B, {c}, H, W); got {type(x).__name__}.")
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        raise ValueError(f"{who} takes a batch of shape (B, {c}, H, W); got {tuple(x.shape)}.")
    if not x.is_floating_point():
        raise ValueError(f"{who} takes a float batch (scale uint8 images to [0, 1] first with data.to_float); "
                         f"got dtype {x.dtype}.")


def normalize(x: torch.Tensor, name: str) -> torch.Tensor:
    """Standardise a float batch in [0, 1] with the dataset's per-channel mean and std."""
    mean, std = MEAN_STD[_check_name(name)]
    if x.shape[1] != len(mean):
        mean, std = (float(np.mean(mean)),) * x.shape[1], (float(np.mean(std)),) * x.shape[1]
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s


# --------------------------------------------------------------------------------------------- loaders
class IndexedDataset(torch.utils.data.Dataset):
    """A per-sample ``Dataset`` over an :class:`ImageData` that also returns each sample's index.

    DEC and DeepCluster need the index: their targets (P, pseudo-labels) are computed over the whole
    dataset and looked up per mini-batch. Prefer :class:`TensorLoader` for speed; this one is for code that
    wants a standard ``torch.utils.data.DataLoader``.
    """

    def __init__(self, data: ImageData, transform=None):
        self.data, self.transform = data, transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        x = to_float(self.data.x[i])
        if self.transform is not None:
            x = self.transform(x)
        return x, self.data.y[i], i


@dataclass
class Batch:
    x: torch.Tensor    # float (B, C, H, W) in [0, 1], on the loader's device
    y: torch.Tensor    # int64 (B,)
    idx: torch.Tensor  # int64 (B,), the samples' positions in the dataset

    def __iter__(self):  # so that `x, y, idx = batch` works
        return iter((self.x, self.y, self.idx))


class TensorLoader:
    """Mini-batches sliced from one tensor kept on ``device``; no per-sample Python work.

    ``data`` is an :class:`ImageData` (uint8 images, scaled to [0, 1] per batch) or a plain tensor whose rows are
    the samples (e.g. DEC's float codes; uint8 is scaled, float passed through; the labels are then zeros).

    Shuffling draws from the loader's own ``torch.Generator`` (seeded), whose state is part of
    :meth:`state_dict`, so a resumed training run sees exactly the same batches.

    **Several processes** (``torch.distributed``, e.g. under ``torchrun``): ``batch_size`` is the *global* batch
    and ``rank`` / ``world_size`` shard it, as ``DistributedSampler`` does for a ``DataLoader``. Every process
    draws the same permutation from the same seed (reshuffled every epoch), cuts it into the same global batches,
    and yields only its contiguous ``batch_size // world_size`` rows of each (``idx`` stays the position in the
    whole dataset). Concatenating the processes' batches in rank order therefore gives exactly the batch a single
    process yields, whatever the number of processes. ``rank=None`` / ``world_size=None`` take the values of the
    current process group (one process when there is none).
    """

    def __init__(self, data: "ImageData | torch.Tensor", batch_size: int, shuffle: bool = True, drop_last: bool = True,
                 device=None, seed: int = 0, rank: int | None = None, world_size: int | None = None):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} is not allowed: it must be a positive integer.")
        from . import distributed

        world_size = distributed.world_size() if world_size is None else world_size
        rank = distributed.rank() if rank is None else rank
        if not isinstance(world_size, (int, np.integer)) or world_size < 1:
            raise ValueError(f"world_size={world_size!r} is not allowed: it must be a positive integer.")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < world_size:
            raise ValueError(f"rank={rank!r} is not allowed: it must be an integer in [0, {world_size - 1}].")
        if batch_size % world_size:
            fit = batch_size - batch_size % world_size or world_size
            raise ValueError(f"batch_size={batch_size} is not allowed with {world_size} processes: the global batch "
                             f"must be a multiple of the number of processes (e.g. {fit}).")
        if world_size > 1 and not drop_last:
            raise ValueError("drop_last=False is not allowed with several processes: every process must take the same "
                             "number of steps (a last, smaller batch could not be split evenly).")
        self.rank, self.world_size = int(rank), int(world_size)
        if drop_last and batch_size > len(data):
            raise ValueError(f"batch_size={batch_size} is larger than the dataset ({len(data)} samples) with drop_last=True; use a smaller batch.")
        if isinstance(data, torch.Tensor):
            x, y = data, torch.zeros(len(data), dtype=torch.long, device=data.device)
        else:
            x, y = data.x, data.y
        self.device = torch.device(device) if device is not None else x.device
        self.x = x.to(self.device)
        self.y = y.to(self.device)
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.generator = torch.Generator().manual_seed(int(seed))
        self.name, self.split = (None, None) if isinstance(data, torch.Tensor) else (data.name, data.split)

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def shard(self, idx: torch.Tensor) -> torch.Tensor:
        """This process's contiguous ``local_batch_size`` rows of a global batch ``idx`` (all of it for one
        process); subclasses that draw their own order (DeepCluster's uniform sampler) shard with it too."""
        if self.world_size == 1:
            return idx
        return idx[self.rank * self.local_batch_size:(self.rank + 1) * self.local_batch_size]

    @property
    def local_batch_size(self) -> int:
        """The rows each process gets per step: ``batch_size // world_size``."""
        return self.batch_size // self.world_size

    def __iter__(self):
        n = len(self.x)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        for b in range(len(self)):
            idx = self.shard(order[b * self.batch_size:(b + 1) * self.batch_size])   # this process's rows
            xb = self.x[idx]
            yield Batch(to_float(xb), self.y[idx], idx)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])

    def fingerprint(self) -> dict:
        """What this loader yields, for checkpoint keys (``train.fit``): the dataset's name and split (None for a
        plain tensor), the shape and dtype of the samples, the batching, and a hash of the content.

        The hash is :func:`content_hash` of the samples and the labels.
        """
        return {"data": self.name, "split": self.split, "shape": list(self.x.shape), "dtype": str(self.x.dtype),
                "batch_size": self.batch_size, "shuffle": self.shuffle, "drop_last": self.drop_last,
                "hash": content_hash(self.x, self.y)}


def content_hash(*tensors: torch.Tensor) -> str:
    """A cheap hash of tensors' content for checkpoint keys (about 10 ms on 70k×784): sha1 of a strided sample of
    about 64k elements of each, plus the sum of all their bytes read as integers (exact, modulo 2^64, so the same
    on any thread count). 16 hex digits."""
    h = hashlib.sha1()
    for t in tensors:
        flat = t.reshape(-1)                                              # (N·…,)
        stride = max(1, flat.numel() // 65536)
        h.update(flat[::stride][:65536].contiguous().view(torch.uint8).cpu().numpy().tobytes())
        raw = flat.contiguous().view(torch.uint8)                         # (bytes,)
        width = next(w for w, n in ((torch.int64, 8), (torch.int32, 4), (torch.int16, 2), (torch.uint8, 1))
                     if raw.numel() % n == 0)
        h.update(str(int(raw.view(width).sum())).encode())                # integer sum: exact, order-free
    return h.hexdigest()[:16]


def report() -> list[dict]:
    """Which datasets are found where (``python -m sslstudy data``)."""
    rows = []
    for name in DATASETS:
        try:
            folder = locate(name) if name != "digits" else "scikit-learn (always offline)"
            err = None
        except DataNotFoundError as e:
            folder, err = None, str(e)
        rows.append({"dataset": name, "found": folder is not None, "where": str(folder) if folder else (err or "not found")})
    return rows
