"""Fast/full mode, seeds, device and environment variables: the one place every notebook asks.

Environment variables (all optional):

| variable | meaning | default |
| --- | --- | --- |
| ``SSL_MODE`` | ``fast`` (CPU, minutes) or ``full`` (paper-like small-data, GPU) | ``full`` with a GPU, else ``fast`` |
| ``SSL_SEED`` | the seed every notebook starts from | ``0`` |
| ``SSL_DEVICE`` | ``cuda``, ``mps`` or ``cpu`` | the best one present |
| ``SSL_DATA_DIR`` | where datasets live (relative paths are taken from the repository root) | see :mod:`sslstudy.data` |
| ``SSL_STRICT_DATA`` | ``1`` forbids the ``digits`` fallback everywhere (CI sets it) | off |
| ``SSL_CHECKPOINT_DIR`` | where training checkpoints go | ``~/.cache/sslstudy/checkpoints`` |
| ``SSL_THREADS`` | torch CPU threads | all cores |
"""
from __future__ import annotations

import os
import platform
import random
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

MODES = ("fast", "full")
DEVICES = ("cuda", "mps", "cpu")

#: The repository root (the folder holding ``pyproject.toml``) when running from a checkout, else None.
REPO_ROOT: Path | None = next(
    (p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists() and (p / "src").exists()),
    None,
)


def in_colab() -> bool:
    return "google.colab" in sys.modules


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def strict_data() -> bool:
    """True when ``SSL_STRICT_DATA`` forbids falling back to ``digits``."""
    return _env_flag("SSL_STRICT_DATA")


def gpu_available() -> bool:
    return torch.cuda.is_available()


def get_mode(mode: str | None = None) -> str:
    """Resolve the mode: the argument, else ``SSL_MODE``, else full with a GPU and fast without."""
    value = mode if mode is not None else os.environ.get("SSL_MODE") or None
    if value is None:
        return "full" if gpu_available() else "fast"
    value = str(value).strip().lower()
    if value not in MODES:
        raise ValueError(f"Unknown mode {value!r}: the mode must be one of {', '.join(MODES)} (argument or SSL_MODE).")
    return value


def get_device(device: str | None = None) -> torch.device:
    """Resolve the device: the argument, else ``SSL_DEVICE``, else cuda, then mps, then cpu."""
    value = device if device is not None else os.environ.get("SSL_DEVICE") or None
    if value is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    name = str(value).strip().lower()
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise ValueError(f"Unknown device {value!r}: the device must be one of {', '.join(DEVICES)}.")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Device {value!r} was asked for, but this machine has no CUDA GPU; use 'cpu'.")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"Device {value!r} was asked for, but MPS is not available here; use 'cpu'.")
    return torch.device(name)


def get_seed(seed: int | None = None) -> int:
    value = seed if seed is not None else os.environ.get("SSL_SEED", "0")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"Seed {value!r} is not an integer: SSL_SEED and seed= take a whole number.") from None


def set_threads(n: int | None = None) -> int:
    """Set torch's CPU thread count (``SSL_THREADS`` or all cores) and return it."""
    if n is None:
        env = os.environ.get("SSL_THREADS")
        n = int(env) if env else (os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"Thread count {n} is not allowed: it must be at least 1.")
    torch.set_num_threads(n)
    return n


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (CPU and CUDA); return a torch Generator for DataLoaders/loaders."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def checkpoint_dir() -> Path:
    env = os.environ.get("SSL_CHECKPOINT_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sslstudy" / "checkpoints"


def use_google_drive(folder: str = "sslstudy/checkpoints") -> Path:
    """Opt-in on Colab: mount Google Drive and keep checkpoints there, so training survives a disconnect.

    Sets ``SSL_CHECKPOINT_DIR`` to ``/content/drive/MyDrive/<folder>``; a re-run of the notebook then resumes from
    the last epoch of the very same configuration. Outside Colab it raises one clear sentence instead.
    """
    if not in_colab():
        raise RuntimeError("use_google_drive() works on Colab only; elsewhere set SSL_CHECKPOINT_DIR to a folder.")
    from google.colab import drive  # type: ignore[import-not-found]

    drive.mount("/content/drive")
    path = Path("/content/drive/MyDrive") / folder
    path.mkdir(parents=True, exist_ok=True)
    os.environ["SSL_CHECKPOINT_DIR"] = str(path)
    print(f"Checkpoints go to {path}")
    return path


@dataclass
class Config:
    """What a notebook's setup resolved: print it, derive every size knob from ``fast``."""

    mode: str
    seed: int
    device: torch.device
    threads: int

    @property
    def fast(self) -> bool:
        return self.mode == "fast"

    @property
    def full(self) -> bool:
        return self.mode == "full"

    def pick(self, fast, full):
        """``cfg.pick(fast_value, full_value)``: the knob for the current mode."""
        return fast if self.fast else full

    def __str__(self) -> str:
        return f"mode={self.mode} seed={self.seed} device={self.device} threads={self.threads}"


def setup(mode: str | None = None, seed: int | None = None, device: str | None = None, verbose: bool = True) -> Config:
    """Resolve mode, seed, device and threads, seed everything, and print one summary line.

    Warns (does not fail) when full mode runs without a GPU.
    """
    cfg = Config(mode=get_mode(mode), seed=get_seed(seed), device=get_device(device), threads=set_threads())
    seed_everything(cfg.seed)
    if cfg.full and cfg.device.type == "cpu":
        warnings.warn(
            "Full mode without a GPU will take hours; on Colab choose Runtime → Change runtime type → GPU, "
            "or run with mode='fast'.",
            stacklevel=2,
        )
    if verbose:
        print(f"sslstudy: {cfg}")
    return cfg


def versions() -> dict:
    """Versions and hardware, for the setup cell's printout."""
    import torchvision

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_cores": os.cpu_count(),
        "colab": in_colab(),
    }
    return info
