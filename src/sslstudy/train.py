"""The one training loop every notebook uses.

``fit`` owns what no paper is about: the progress bar, mixed precision on CUDA, the optimiser step, a checkpoint
every epoch with automatic resume, the NaN guard and the history. The method supplies ``step_fn(batch) -> loss``
(or a dict with a ``"loss"`` entry and other scalars to log) and callbacks:

- ``on_step(step=, epoch=, loss=)`` after every optimiser step (momentum encoders, queues, EMA targets);
- ``on_epoch_start(epoch=)`` before an epoch (DeepCluster's k-means re-assignment);
- ``on_epoch(epoch=)`` after an epoch (kNN monitor, DEC's target refresh); may return a dict of metrics.

Any callback may raise :class:`StopTraining` to end the run early (a stop criterion); the partial epoch is
recorded and ``history.stopped`` holds the reason.

Checkpoints go to ``SSL_CHECKPOINT_DIR`` (default ``~/.cache/sslstudy/checkpoints``; on Colab pass
``checkpoint_dir="/content/drive/MyDrive/sslstudy"`` after mounting Drive to survive a disconnect). The file
name carries a hash of ``run_config`` and of the modules' parameter shapes: a run resumes automatically from a
checkpoint of the very same configuration, never from a different one. Files are written to a temporary name
and then moved, so an interrupted write never destroys the previous checkpoint. The RNG states (python, numpy,
torch, CUDA, the loader's generator) are saved too, so on CPU a resumed run equals an uninterrupted one exactly.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import config


class StopTraining(Exception):
    """Raise from a callback to end training cleanly (e.g. DEC's stop criterion); the message is kept in
    ``history.stopped``."""


class History:
    """Per-epoch rows (``epoch``, ``loss``, ``seconds`` and callback metrics) and per-step losses."""

    def __init__(self, rows=None, steps=None):
        self.rows: list[dict] = list(rows or [])
        self.steps: list[float] = list(steps or [])
        self.resumed_from: int | None = None
        self.interrupted = False
        self.stopped: str | None = None

    def __getitem__(self, key: str) -> list:
        return [r[key] for r in self.rows if key in r]

    def __len__(self) -> int:
        return len(self.rows)

    def last(self, key: str, default=None):
        vals = self[key]
        return vals[-1] if vals else default

    @property
    def seconds(self) -> float:
        return float(sum(self["seconds"]))

    def state_dict(self) -> dict:
        return {"rows": self.rows, "steps": self.steps}

    def __repr__(self) -> str:
        last = self.rows[-1] if self.rows else {}
        return f"History({len(self.rows)} epochs, last={ {k: round(v, 4) if isinstance(v, float) else v for k, v in last.items()} })"


def _fingerprint(run_config: dict, modules: dict) -> str:
    shapes = {name: [(k, list(v.shape)) for k, v in m.state_dict().items()] for name, m in modules.items()}
    blob = json.dumps({"config": run_config, "shapes": shapes}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def atomic_save(obj, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _callbacks(cbs) -> list:
    if cbs is None:
        return []
    return list(cbs) if isinstance(cbs, (list, tuple)) else [cbs]


def _merge(target: dict, out) -> None:
    if isinstance(out, dict):
        for k, v in out.items():
            target[k] = float(v) if isinstance(v, (int, float, np.floating, torch.Tensor)) and not isinstance(v, bool) else v


def fit(step_fn: Callable, loader, num_epochs: int, optimizer: torch.optim.Optimizer, *, modules,
        scheduler=None, on_step=None, on_epoch_start=None, on_epoch=None, extra_state: dict | None = None,
        run_config: dict | None = None, name: str = "run", checkpoint: bool | None = None,
        checkpoint_dir: str | os.PathLike | None = None, amp: bool | None = None, grad_clip: float | None = None,
        stop_after_epochs: int | None = None, desc: str | None = None, progress: bool | None = None) -> History:
    """Train for ``num_epochs`` epochs of ``loader``; see the module docstring.

    ``modules`` (an ``nn.Module`` or a dict of them) and ``extra_state`` (objects with ``state_dict`` /
    ``load_state_dict``, e.g. a queue or a codebook holder) are what a checkpoint stores besides the optimiser,
    the scheduler and the RNG states. ``run_config`` identifies the run (every hyper-parameter that changes the
    result); without it no checkpoint is written or read. ``stop_after_epochs`` stops early as if interrupted
    (for tests and demos of resuming).
    """
    if not isinstance(num_epochs, int) or num_epochs < 1:
        raise ValueError(f"num_epochs={num_epochs!r} is not allowed: it must be a positive integer.")
    if len(loader) == 0:
        raise ValueError("The loader yields no batches (dataset smaller than one batch with drop_last=True); use a smaller batch_size.")
    modules = modules if isinstance(modules, dict) else {"model": modules}
    extra_state = extra_state or {}
    on_step, on_epoch_start, on_epoch = _callbacks(on_step), _callbacks(on_epoch_start), _callbacks(on_epoch)
    checkpoint = (run_config is not None) if checkpoint is None else checkpoint
    if checkpoint and run_config is None:
        raise ValueError("checkpoint=True needs run_config (a dict of every hyper-parameter that changes the run).")
    params = [p for g in optimizer.param_groups for p in g["params"]]
    device = params[0].device if params else torch.device("cpu")
    amp = (device.type == "cuda") if amp is None else amp
    amp_dtype = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=amp and device.type == "cuda" and amp_dtype == torch.float16)

    history = History()
    start_epoch = 0
    path = None
    if checkpoint:
        folder = Path(checkpoint_dir) if checkpoint_dir is not None else config.checkpoint_dir()
        path = folder / f"{name}-{_fingerprint(run_config, modules)}.pt"
        if path.exists():
            try:
                state = torch.load(path, map_location="cpu", weights_only=False)
            except Exception as e:  # a corrupt file is reported and left alone, never overwritten silently
                raise RuntimeError(f"Checkpoint {path} could not be read ({e.__class__.__name__}); move or delete it to start afresh.") from None
            if state.get("config") == json.loads(json.dumps(run_config, default=str)):
                for k, m in modules.items():
                    m.load_state_dict(state["modules"][k])
                optimizer.load_state_dict(state["optimizer"])
                if scheduler is not None and state.get("scheduler") is not None:
                    scheduler.load_state_dict(state["scheduler"])
                if state.get("scaler"):
                    scaler.load_state_dict(state["scaler"])
                for k, obj in extra_state.items():
                    obj.load_state_dict(state["extra"][k])
                if hasattr(loader, "load_state_dict") and state.get("loader") is not None:
                    loader.load_state_dict(state["loader"])
                _set_rng_state(state["rng"])
                history = History(state["history"]["rows"], state["history"]["steps"])
                start_epoch = state["epoch"] + 1
                history.resumed_from = start_epoch
                print(f"Resumed '{name}' from {path} after epoch {start_epoch}/{num_epochs}.")

    quiet = config.in_ci() if progress is None else not progress
    steps_per_epoch = len(loader)
    total = num_epochs * steps_per_epoch
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=start_epoch * steps_per_epoch, desc=desc or name, disable=quiet,
               dynamic_ncols=True, mininterval=0.5)
    global_step = start_epoch * steps_per_epoch
    last_epoch = start_epoch - 1
    try:
        for epoch in range(start_epoch, num_epochs):
            if stop_after_epochs is not None and epoch >= stop_after_epochs:
                history.interrupted = True
                break
            for cb in on_epoch_start:
                cb(epoch=epoch)
            t0 = time.perf_counter()
            for m in modules.values():
                m.train()
            loss_sum, logs_sum, n = 0.0, {}, 0
            stop = None
            for i, batch in enumerate(loader):
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                    out = step_fn(batch)
                loss = out["loss"] if isinstance(out, dict) else out
                if not torch.isfinite(loss.detach()).all():
                    raise FloatingPointError(
                        f"The loss became {loss.detach().float().item()} at epoch {epoch + 1}, step {i + 1} (global step "
                        f"{global_step + 1}); likely causes: a learning rate too high, a temperature too small, log or "
                        f"division of zero in the loss, or fp16 overflow. Lower the lr or check the loss; the last "
                        f"checkpoint (if any) is kept."
                    )
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if grad_clip is not None:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(params, grad_clip)
                scaler.step(optimizer)
                scaler.update()
                if scheduler is not None:
                    scheduler.step()
                lv = loss.detach().float().item()
                history.steps.append(lv)
                loss_sum, n = loss_sum + lv, n + 1
                if isinstance(out, dict):
                    for k, v in out.items():
                        if k != "loss":
                            logs_sum[k] = logs_sum.get(k, 0.0) + float(v)
                global_step += 1
                bar.update(1)
                try:
                    for cb in on_step:
                        cb(step=global_step, epoch=epoch, loss=lv)
                except StopTraining as e:
                    stop = str(e) or "stopped by a callback"
                    break
                if i % 10 == 0 or i == steps_per_epoch - 1:
                    post = {"epoch": epoch + 1, "loss": f"{lv:.4f}"}
                    if history.rows:
                        post.update({k: f"{v:.3f}" for k, v in history.rows[-1].items() if k not in ("epoch", "loss", "seconds") and isinstance(v, float)})
                    bar.set_postfix(post, refresh=False)
            row = {"epoch": epoch + 1, "loss": loss_sum / max(n, 1)}
            row.update({k: v / max(n, 1) for k, v in logs_sum.items()})
            if stop is None:
                try:
                    for cb in on_epoch:
                        _merge(row, cb(epoch=epoch))
                except StopTraining as e:
                    stop = str(e) or "stopped by a callback"
            row["seconds"] = time.perf_counter() - t0
            history.rows.append(row)
            last_epoch = epoch
            if stop is not None:
                history.stopped = stop
                print(f"{name}: stopped at epoch {epoch + 1}, step {global_step}: {stop}")
                break
            if quiet and (epoch + 1 == num_epochs or (epoch + 1) % max(1, num_epochs // 5) == 0):
                print(f"{name}: epoch {epoch + 1}/{num_epochs} " + " ".join(
                    f"{k}={v:.4f}" for k, v in row.items() if k not in ("epoch",) and isinstance(v, float)))
            if path is not None:
                atomic_save({
                    "epoch": epoch, "config": json.loads(json.dumps(run_config, default=str)),
                    "modules": {k: m.state_dict() for k, m in modules.items()},
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "scaler": scaler.state_dict() if scaler.is_enabled() else None,
                    "extra": {k: obj.state_dict() for k, obj in extra_state.items()},
                    "loader": loader.state_dict() if hasattr(loader, "state_dict") else None,
                    "rng": _rng_state(), "history": history.state_dict(),
                }, path)
    finally:
        bar.close()
    history.checkpoint = path
    history.last_epoch = last_epoch
    return history


def cosine_with_warmup(optimizer, warmup_steps: int, total_steps: int, min_factor: float = 0.0):
    """Linear warm-up to the base lr over ``warmup_steps``, then cosine decay to ``min_factor``·lr at ``total_steps``
    (the shape of the official SimCLR ``model_util.learning_rate_schedule``), stepped every optimiser step."""
    if total_steps < 1 or warmup_steps < 0 or warmup_steps > total_steps:
        raise ValueError(f"Schedule with warmup_steps={warmup_steps} and total_steps={total_steps} is not allowed: "
                         f"need 0 <= warmup_steps <= total_steps and total_steps >= 1.")

    def factor(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
