"""Mode (fast by default), seeds, device, environment variables and the settings table.

Fast mode is the default everywhere (CPU, GPU, Colab, ``make test``, ``make course``): real data, a subset, a
small backbone, minutes on a laptop CPU. Full mode (the paper-like small-data setting, meant for a GPU) runs
only when asked: ``SSL_MODE=full``, ``mode = "full"`` in the parameters cell, or ``-p mode full``.

Environment variables (all optional):

| variable | meaning | default |
| --- | --- | --- |
| ``SSL_MODE`` | ``fast`` (minutes on a CPU) or ``full`` (paper-like, for a GPU) | ``fast``, GPU or not |
| ``SSL_SEED`` | the seed every notebook starts from | ``0`` |
| ``SSL_DEVICE`` | ``cuda``, ``mps`` or ``cpu`` | the best one present |
| ``SSL_DATA_DIR`` | where datasets live (relative: from the repository root) | see :mod:`sslstudy.data` |
| ``SSL_STRICT_DATA`` | ``1`` forbids the ``digits`` fallback everywhere (CI sets it) | off |
| ``SSL_CHECKPOINT_DIR`` | where training checkpoints go | ``~/.cache/sslstudy/checkpoints`` |
| ``SSL_THREADS`` | torch CPU threads | all cores |
| ``SSL_RECORD_DIR`` | where :func:`sslstudy.report.emit` writes run records (make course sets it) | unset |

The settings table. A notebook's parameters cell resolves every knob once::

    cfg = config.setup(mode=mode, seed=seed)
    S = cfg.settings("simclr", dataset=dataset, batch_size=config.ff(256, 512), lr=config.ff(2e-3, 1.0))

``config.ff(fast, full)`` marks a knob whose value depends on the mode; a plain value is the same in both.
The call prints one table (knob | fast | full | used) and returns a :class:`Settings`: ``S.lr``, ``S["lr"]``,
``S.key()`` (the checkpoint key: name, mode, seed and every knob, JSON-able), ``S.update(dataset="digits")``.
"""
from __future__ import annotations

import json
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
    """Resolve the mode: the argument, else ``SSL_MODE``, else ``fast`` (with or without a GPU)."""
    value = mode if mode is not None else os.environ.get("SSL_MODE") or None
    if value is None:
        return "fast"
    value = str(value).strip().lower()
    if value not in MODES:
        raise ValueError(f"Unknown mode {value!r}: the mode must be one of {', '.join(MODES)} "
                         "(argument or SSL_MODE).")
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


# ------------------------------------------------------------------------------------------------ settings
OPT_IN = "SSL_MODE=full or -p mode full"


@dataclass(frozen=True)
class FastFull:
    """A knob whose value depends on the mode: ``config.ff(fast, full)``."""

    fast: object
    full: object

    def pick(self, mode: str) -> object:
        return self.full if mode == "full" else self.fast


def ff(fast, full) -> FastFull:
    """Mark a mode-dependent knob: ``lr=config.ff(2e-3, 1.0)`` is 2e-3 in fast mode and 1.0 in full mode."""
    return FastFull(fast, full)


def jsonable(value, what: str = "value"):
    """``value`` as plain JSON: tuples → lists, numpy/torch scalars → numbers, paths, devices and dtypes →
    strings; anything else raises one sentence naming ``what``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0:
        return value.item()
    if isinstance(value, (list, tuple)):
        return [jsonable(v, what) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{what} has the key {k!r}: not allowed, JSON keys must be strings.")
            out[k] = jsonable(v, f"{what}[{k!r}]")
        return out
    if isinstance(value, (Path, torch.device, torch.dtype)):
        return str(value)
    raise ValueError(
        f"{what}={value!r} is not allowed: it must be JSON-able (a number, string, bool, None, or a list or "
        "dict of them), since it is saved with the run; pass its name instead."
    )


def _show(value, width: int = 28) -> str:
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (list, tuple, dict)):
        text = json.dumps(jsonable(value), separators=(",", ":"))
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


class Settings:
    """A run's configuration: every knob resolved for the mode, plus its name, mode and seed.

    ``S.lr`` or ``S["lr"]`` (the value used), ``S.key()`` (JSON-able dict: name, mode, seed and every knob;
    ``train.fit(run_config=S)`` uses it as the checkpoint key), ``S.update(**knobs)`` (prints what changed),
    ``S.as_dict()`` (the knobs as used), ``S.table()`` (the printed table). Made by ``cfg.settings(...)``.
    """

    def __init__(self, name: str, mode: str, seed: int, knobs: dict, verbose: bool = True):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"Settings name {name!r} is not allowed: give a non-empty string ('simclr').")
        if mode not in MODES:
            raise ValueError(f"Unknown mode {mode!r}: the mode must be one of {', '.join(MODES)}.")
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_mode", mode)
        object.__setattr__(self, "_seed", int(seed))
        object.__setattr__(self, "_declared", {})  # knob → (fast, full) as declared
        object.__setattr__(self, "_used", {})  # knob → the value in use
        for k, v in knobs.items():
            self._check_name(k)
            fast, full = (v.fast, v.full) if isinstance(v, FastFull) else (v, v)
            jsonable(fast, k)
            jsonable(full, k)
            self._declared[k] = (fast, full)
            self._used[k] = full if mode == "full" else fast
        if verbose:
            print(self.table())

    @staticmethod
    def _check_name(k) -> None:
        if not isinstance(k, str) or not k.isidentifier() or k.startswith("_"):
            raise ValueError(f"Knob name {k!r} is not allowed: use an identifier not starting with '_'.")
        if k in _RESERVED:
            raise ValueError(
                f"Knob name {k!r} is not allowed: Settings reserves {', '.join(sorted(_RESERVED))} "
                "(mode and seed come from config.setup); rename the knob."
            )

    @property
    def name(self) -> str:
        return self._name

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def fast(self) -> bool:
        return self._mode == "fast"

    @property
    def full(self) -> bool:
        return self._mode == "full"

    def _unknown(self, k) -> str:
        used = self.__dict__.get("_used", {})
        name = self.__dict__.get("_name")
        return f"Settings {name!r} has no knob {k!r}; its knobs: {', '.join(used) or 'none'}."

    def __getattr__(self, k):
        used = self.__dict__.get("_used", {})
        if not k.startswith("_") and k in used:
            return used[k]
        raise AttributeError(k if k.startswith("_") else self._unknown(k))

    def __setattr__(self, k, v):
        raise AttributeError(f"Settings are read-only: use S.update({k}=...), which prints the change.")

    def __getitem__(self, k):
        if k in ("name", "mode", "seed"):
            return getattr(self, k)
        if k in self._used:
            return self._used[k]
        raise KeyError(self._unknown(k))

    def __contains__(self, k) -> bool:
        return k in self._used or k in ("name", "mode", "seed")

    def __iter__(self):
        return iter(self._used)

    def __len__(self) -> int:
        return len(self._used)

    def __eq__(self, other) -> bool:
        return isinstance(other, Settings) and self.key() == other.key()

    __hash__ = None

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)

    def as_dict(self) -> dict:
        """The knobs as used (a copy, values as given: tuples stay tuples), without name, mode and seed."""
        return dict(self._used)

    def key(self) -> dict:
        """The checkpoint key ``{"name", "mode", "seed", **knobs}``: plain JSON (tuples → lists)."""
        out = {"name": self._name, "mode": self._mode, "seed": self._seed}
        out.update({k: jsonable(v, k) for k, v in self._used.items()})
        return out

    def update(self, **knobs) -> Settings:
        """Change declared knobs (``S.update(dataset=train_set.name)`` after the digits fallback) and print
        each change; a ``config.ff(fast, full)`` value is resolved for the mode. Returns the settings."""
        for k, v in knobs.items():
            if k in _RESERVED or k not in self._used:
                self._check_name(k)
                raise ValueError(
                    f"update({k}=...) is not allowed: {k!r} is not a knob of settings {self._name!r} "
                    f"(knobs: {', '.join(self._used) or 'none'}); declare every knob in cfg.settings."
                )
            new = v.pick(self._mode) if isinstance(v, FastFull) else v
            jsonable(new, k)
            old = self._used[k]
            if jsonable(old) != jsonable(new) or type(old) is not type(new):
                self._used[k] = new
                print(f"settings {self._name!r}: {k} {_show(old)} → {_show(new)}")
        return self

    def table(self) -> str:
        """The aligned table knob | fast | full | used; ``*`` marks a knob that ``update`` changed."""
        rows = [("knob", "fast", "full", "used")]
        for k, (fast, full) in self._declared.items():
            used = self._used[k]
            changed = jsonable(used) != jsonable(full if self.full else fast)
            rows.append((k, _show(fast), _show(full), _show(used) + (" *" if changed else "")))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [f"settings {self._name!r}: mode {self._mode}, seed {self._seed}"]
        for i, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        knobs = "".join(f", {k}={v!r}" for k, v in self._used.items())
        return f"Settings({self._name!r}, mode={self._mode!r}, seed={self._seed}{knobs})"


_RESERVED = frozenset({"name", "mode", "seed"} | {n for n in dir(Settings) if not n.startswith("_")})


@dataclass
class Config:
    """What a notebook's setup resolved; ``cfg.settings(name, **knobs)`` makes the run's settings table."""

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

    def settings(self, name: str, /, **knobs) -> Settings:
        """Resolve every knob for this mode (``config.ff(fast, full)`` or a plain value), print the table once
        and return the :class:`Settings`: the run's configuration and checkpoint key (with mode and seed)."""
        return Settings(name, self.mode, self.seed, knobs)

    def __str__(self) -> str:
        return f"mode={self.mode} seed={self.seed} device={self.device} threads={self.threads}"


def settings(cfg: Config, name: str, /, **knobs) -> Settings:
    """``config.settings(cfg, name, **knobs)`` is ``cfg.settings(name, **knobs)``."""
    if not isinstance(cfg, Config):
        raise ValueError(f"config.settings needs the Config that config.setup() returns, not {cfg!r}.")
    return cfg.settings(name, **knobs)


def setup(mode: str | None = None, seed: int | None = None, device: str | None = None,
          verbose: bool = True) -> Config:
    """Resolve mode, seed, device and threads, seed everything, and print one line with the resolved mode.

    Fast is the default, GPU or not. Full mode only when asked: ``SSL_MODE=full``, ``mode = "full"`` in the
    parameters cell, or ``-p mode full`` (``python -m sslstudy run NOTEBOOK -p mode full``). Warns (once, and
    does not fail) when full mode runs without a GPU.
    """
    cfg = Config(mode=get_mode(mode), seed=get_seed(seed), device=get_device(device), threads=set_threads())
    seed_everything(cfg.seed)
    if cfg.full and cfg.device.type == "cpu":
        warnings.warn(
            "Full mode without a GPU will take hours; on Colab choose Runtime → Change runtime type → GPU, "
            "or run with mode='fast' (the default).",
            stacklevel=2,
        )
    if verbose:
        hint = f" (fast is the default; full mode: {OPT_IN})" if cfg.fast else " (full: paper-like, long)"
        print(f"sslstudy: {cfg}{hint}")
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
