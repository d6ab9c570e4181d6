"""The one training loop every notebook uses.

``fit`` owns what no paper is about: the progress bar, mixed precision on CUDA, the optimiser step, a checkpoint
every epoch with automatic resume, the NaN guard and the history. The method supplies ``step_fn(batch) -> loss``
(or a dict with a ``"loss"`` entry and other scalars to log) and hooks, called in this order::

    on_fit_start(loader=, trainer=)                   once, before the checkpoint is read
    for each epoch:
        on_epoch_start(epoch=, trainer=)              DeepCluster's k-means and fresh classifier + SGD
        for each batch:
            step_fn(batch)                            forward, under autocast
            zero_grad (every optimiser), backward, unscale, clip
            before_step(step=, epoch=, trainer=)      SwAV: ``p.grad = None`` for the prototypes early on
            optimizer.step (every optimiser), scheduler.step
            on_step(step=, epoch=, loss=, trainer=)   momentum encoders, queues, EMA targets, stop criteria
        on_epoch(epoch=, trainer=)                    kNN monitor, DEC's target refresh; may return metrics

A hook receives only the keyword arguments its signature names (a callback written as ``lambda epoch: ...``
keeps working), or all of them when it takes ``**kwargs``; each argument may be one callable or a list.
``step`` counts optimiser steps from 1: ``before_step`` and ``on_step`` of the same iteration get the same number.

``trainer`` is the :class:`Trainer` of the run: ``trainer.optimizers`` (a dict name → optimiser; ``optimizer=``
may be one optimiser, stored as ``"optimizer"``, or a dict), ``trainer.modules``, ``trainer.loader``,
``trainer.history``, ``trainer.epoch``, ``trainer.step``. An ``on_epoch_start`` hook may replace or add
optimisers in ``trainer.optimizers``; every optimiser in the dict is zero_grad'ed, stepped (through the
GradScaler) and checkpointed.

Any hook except ``on_fit_start`` may raise :class:`StopTraining` to end the run early (a stop criterion); the
partial epoch is recorded (no row when ``on_epoch_start`` stops it; a stop in ``before_step`` still completes that
step) and ``history.stopped`` holds the reason.

Checkpoints go to ``SSL_CHECKPOINT_DIR`` (default ``~/.cache/sslstudy/checkpoints``; on Colab,
``config.use_google_drive()`` mounts Drive and points it there, so training survives a disconnect). The file
name carries a hash of ``run_config`` (a dict, or a ``config.Settings``: its ``.key()``), of the modules'
parameter shapes and of the loader's data (``loader.fingerprint()`` where the loader has one, as
:class:`~sslstudy.data.TensorLoader` does): a run resumes automatically from a checkpoint of the very same
configuration on the very same data, never from a different one. Files are written to a temporary name and then
moved, so an interrupted write never destroys the previous checkpoint. The RNG states (python, numpy, torch,
CUDA, the loader's generator) are saved too, so on CPU a resumed run equals an uninterrupted one exactly.

Several processes (``torch.distributed`` initialised, e.g. under ``torchrun``; see ``sslstudy.scale``): the loop
is the same in every process. :func:`fit_method` wraps the method in ``DistributedDataParallel`` (gradients
averaged over the processes during ``backward``); the loader shards each global batch
(:class:`~sslstudy.data.TensorLoader`); the epoch's logged means are averaged over the processes; rank 0 alone
shows progress, prints and writes the checkpoint (with every process's RNG state), the others wait for it, and
every process reads it on resume.

Resuming and optimisers created by a hook: every optimiser in ``trainer.optimizers`` at the end of an epoch is
saved. On resume, the states of the optimisers that exist when the checkpoint is read (those passed as
``optimizer=``, or made by ``on_fit_start``) are loaded; an optimiser that an ``on_epoch_start`` hook creates
does not exist yet: the hook runs again at the start of the resumed epoch and creates it afresh, which is exactly
right for a hook that rebuilds it every epoch (DeepCluster). A hook that creates an optimiser once and keeps it
should load ``trainer.saved_optimizer_state(name)`` (the saved state during the first resumed epoch start, else
``None``) into it.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import config, data, distributed


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
        self.last_epoch: int = len(self.rows) - 1
        self.checkpoint: Path | None = None

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


class Trainer:
    """The state of one :func:`fit` run; hooks receive it as ``trainer``.

    ``optimizers`` (dict name → optimiser; hooks may replace or add entries), ``modules`` (dict name → module),
    ``loader``, ``scheduler``, ``extra_state``, ``history``, ``epoch`` (0-based, the current one), ``step``
    (optimiser steps done so far), ``num_epochs``, ``name``, ``device``, ``scaler`` (the GradScaler), ``path``
    (the checkpoint file or None).
    """

    def __init__(self, modules, optimizer, loader, num_epochs: int, *, scheduler=None, extra_state=None,
                 name: str = "run", amp: bool | None = None):
        self.modules = modules if isinstance(modules, dict) else {"model": modules}
        self.optimizers = dict(optimizer) if isinstance(optimizer, Mapping) else {"optimizer": optimizer}
        for k, opt in self.optimizers.items():
            if not hasattr(opt, "param_groups"):
                raise ValueError(f"optimizer {k!r}={opt!r} is not allowed: give a torch optimiser or a dict name → optimiser.")
        self.loader, self.num_epochs, self.scheduler, self.name = loader, num_epochs, scheduler, name
        self.extra_state = extra_state or {}
        self.history = History()
        self.epoch = self.step = self.start_epoch = 0
        self.path: Path | None = None
        self._saved_optimizers: dict = {}
        params = self.params() or [p for m in self.modules.values() for p in m.parameters()]
        self.device = params[0].device if params else torch.device("cpu")
        self.amp = (self.device.type == "cuda") if amp is None else amp
        cuda = self.device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp and cuda and self.amp_dtype == torch.float16)

    def params(self) -> list:
        """Every parameter of every optimiser (once each)."""
        seen = {}
        for opt in self.optimizers.values():
            for g in opt.param_groups:
                seen.update({id(p): p for p in g["params"]})
        return list(seen.values())

    def saved_optimizer_state(self, name: str) -> dict | None:
        """The checkpoint's state of optimiser ``name`` when this run resumed and ``name`` did not exist when the
        checkpoint was read (a hook creates it); available during the first resumed ``on_epoch_start``."""
        return self._saved_optimizers.get(name)


# ------------------------------------------------------------------------------------------ hooks
def _callbacks(cbs) -> list:
    if cbs is None:
        return []
    return list(cbs) if isinstance(cbs, (list, tuple)) else [cbs]


def _tolerant(cb: Callable) -> Callable:
    """``cb`` called with only the keyword arguments its signature names (all of them if it takes ``**kw``)."""
    try:
        params = inspect.signature(cb).parameters.values()
    except (TypeError, ValueError):
        return cb
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return cb
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return lambda **kw: cb(**{k: v for k, v in kw.items() if k in names})


def _hooks(**kinds) -> dict:
    return {kind: [_tolerant(cb) for cb in _callbacks(cbs)] for kind, cbs in kinds.items()}


def _merge(target: dict, out) -> None:
    if isinstance(out, dict):
        for k, v in out.items():
            target[k] = float(v) if isinstance(v, (int, float, np.floating, torch.Tensor)) and not isinstance(v, bool) else v


def _fire(hooks: list, row: dict | None = None, **kwargs) -> str | None:
    """Call the hooks in order, merging returned dicts into ``row``; the stop reason if one raised StopTraining."""
    try:
        for hook in hooks:
            out = hook(**kwargs)
            if row is not None:
                _merge(row, out)
    except StopTraining as e:
        return str(e) or "stopped by a callback"
    return None


# ------------------------------------------------------------------------------------------ checkpoints
def _config_dict(run_config) -> dict | None:
    if run_config is None:
        return None
    key = run_config.key() if callable(getattr(run_config, "key", None)) else None
    if isinstance(key, Mapping):
        return dict(key)
    if isinstance(run_config, Mapping):
        return dict(run_config)
    raise ValueError(f"run_config={run_config!r} is not allowed: it must be a dict or a config.Settings "
                     f"(an object whose .key() returns a dict).")


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=str))


def _fingerprint(run_config: dict, modules: dict, loader=None) -> str:
    shapes = {name: [(k, list(v.shape)) for k, v in m.state_dict().items()] for name, m in modules.items()}
    key = {"config": run_config, "shapes": shapes}
    if callable(getattr(loader, "fingerprint", None)):
        key["data"] = loader.fingerprint()
    blob = json.dumps(key, sort_keys=True, default=str)
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


def _checkpoint_path(trainer: Trainer, cfg: dict, checkpoint_dir) -> Path:
    folder = Path(checkpoint_dir) if checkpoint_dir is not None else config.checkpoint_dir()
    return folder / f"{trainer.name}-{_fingerprint(cfg, trainer.modules, trainer.loader)}.pt"


def _load_checkpoint(trainer: Trainer, cfg: dict) -> None:
    """Restore everything from ``trainer.path`` when it holds this very configuration."""
    path = trainer.path
    if not path.exists():
        return
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a corrupt file is reported and left alone, never overwritten silently
        raise RuntimeError(f"Checkpoint {path} could not be read ({e.__class__.__name__}); move or delete it to start afresh.") from None
    if state.get("config") != _jsonable(cfg):
        return
    for k, m in trainer.modules.items():
        m.load_state_dict(state["modules"][k])
    saved = dict(state.get("optimizers") or {"optimizer": state["optimizer"]})  # "optimizer": files before v2
    for k, opt in trainer.optimizers.items():
        if k in saved:
            opt.load_state_dict(saved.pop(k))
    trainer._saved_optimizers = saved                  # created by a hook: see saved_optimizer_state
    if trainer.scheduler is not None and state.get("scheduler") is not None:
        trainer.scheduler.load_state_dict(state["scheduler"])
    if state.get("scaler"):
        trainer.scaler.load_state_dict(state["scaler"])
    for k, obj in trainer.extra_state.items():
        obj.load_state_dict(state["extra"][k])
    if hasattr(trainer.loader, "load_state_dict") and state.get("loader") is not None:
        trainer.loader.load_state_dict(state["loader"])
    ranks = state.get("rng_ranks")                     # one RNG state per process (several processes)
    own = distributed.rank() if ranks is not None and len(ranks) == distributed.world_size() else None
    _set_rng_state(ranks[own] if own is not None else state["rng"])
    trainer.history = History(state["history"]["rows"], state["history"]["steps"])
    trainer.start_epoch = trainer.history.resumed_from = state["epoch"] + 1
    trainer.step = trainer.start_epoch * len(trainer.loader)
    if distributed.rank() == 0:
        print(f"Resumed '{trainer.name}' from {path} after epoch {trainer.start_epoch}/{trainer.num_epochs}.")


def _save_checkpoint(trainer: Trainer, cfg: dict, epoch: int) -> None:
    """Rank 0 writes (with every process's RNG state when there are several); the others wait until it is done."""
    ranks = None
    if distributed.is_dist():
        ranks = [None] * distributed.world_size()
        torch.distributed.all_gather_object(ranks, _rng_state())
        if distributed.rank() != 0:
            torch.distributed.barrier()
            return
    atomic_save({
        "epoch": epoch, "config": _jsonable(cfg),
        "modules": {k: m.state_dict() for k, m in trainer.modules.items()},
        "optimizers": {k: opt.state_dict() for k, opt in trainer.optimizers.items()},
        "scheduler": trainer.scheduler.state_dict() if trainer.scheduler is not None else None,
        "scaler": trainer.scaler.state_dict() if trainer.scaler.is_enabled() else None,
        "extra": {k: obj.state_dict() for k, obj in trainer.extra_state.items()},
        "loader": trainer.loader.state_dict() if hasattr(trainer.loader, "state_dict") else None,
        "rng": _rng_state(), "rng_ranks": ranks, "history": trainer.history.state_dict(),
    }, trainer.path)
    if ranks is not None:
        torch.distributed.barrier()


# ------------------------------------------------------------------------------------------ one step, one epoch
def _check_finite(loss: torch.Tensor, epoch: int, i: int, global_step: int) -> None:
    if not torch.isfinite(loss.detach()).all():
        raise FloatingPointError(
            f"The loss became {loss.detach().float().item()} at epoch {epoch + 1}, step {i + 1} (global step "
            f"{global_step + 1}); likely causes: a learning rate too high, a temperature too small, log or "
            f"division of zero in the loss, or fp16 overflow. Lower the lr or check the loss; the last "
            f"checkpoint (if any) is kept."
        )


def _optimizer_step(trainer: Trainer, loss: torch.Tensor, grad_clip: float | None, before_step: list) -> str | None:
    """zero_grad, backward, unscale, clip, ``before_step``, step every optimiser, the scheduler; a stop reason."""
    opts, scaler = list(trainer.optimizers.values()), trainer.scaler
    for opt in opts:
        opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if scaler.is_enabled():
        for opt in opts:
            if _has_grads(opt):
                scaler.unscale_(opt)
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(trainer.params(), grad_clip)
    stop = _fire(before_step, step=trainer.step + 1, epoch=trainer.epoch, trainer=trainer)
    for opt in opts:
        if not scaler.is_enabled() or _has_grads(opt):   # GradScaler refuses an optimiser without gradients
            scaler.step(opt)
    scaler.update()
    if trainer.scheduler is not None:
        trainer.scheduler.step()
    return stop


def _has_grads(opt) -> bool:
    return any(p.grad is not None for g in opt.param_groups for p in g["params"])


def _run_epoch(trainer: Trainer, step_fn: Callable, hooks: dict, progress: _Progress,
               grad_clip: float | None) -> tuple[dict, str | None]:
    """One pass over the loader; the epoch's row (mean loss and logged scalars) and the stop reason, if any."""
    epoch, sums, n, stop = trainer.epoch, {}, 0, None
    for m in trainer.modules.values():
        m.train()
    for i, batch in enumerate(trainer.loader):
        with torch.autocast(trainer.device.type, dtype=trainer.amp_dtype, enabled=trainer.amp):
            out = step_fn(batch)
        loss = out["loss"] if isinstance(out, dict) else out
        _check_finite(loss, epoch, i, trainer.step)
        stop = _optimizer_step(trainer, loss, grad_clip, hooks["before_step"])
        lv = loss.detach().float().item()
        trainer.history.steps.append(lv)
        trainer.step, n = trainer.step + 1, n + 1
        sums["loss"] = sums.get("loss", 0.0) + lv
        for k, v in (out.items() if isinstance(out, dict) else ()):
            if k != "loss":
                sums[k] = sums.get(k, 0.0) + float(v)
        progress.step_done(i, lv)
        stop = stop or _fire(hooks["on_step"], step=trainer.step, epoch=epoch, loss=lv, trainer=trainer)
        if stop is not None:
            break
    return {"epoch": epoch + 1, **{k: v / max(n, 1) for k, v in _sum_over_processes(sums).items()}}, stop


def _sum_over_processes(sums: dict) -> dict:
    """Several processes: each logged sum averaged over the processes (every process logs the same keys)."""
    if not distributed.is_dist() or not sums:
        return sums
    keys = list(sums)                                  # the same order in every process (the same code ran)
    v = torch.tensor([sums[k] for k in keys], dtype=torch.float64)
    torch.distributed.all_reduce(v)
    return {k: float(x) / distributed.world_size() for k, x in zip(keys, v)}


# ------------------------------------------------------------------------------------------ progress and logs
def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 90 * 60 else f"{seconds / 3600:.1f} h"


class _Progress:
    """The tqdm bar (quiet in CI), its postfix, the per-epoch line when quiet, and the expected-duration line:
    after the first steps (5 steps after the first, or 3 s), printed once when ``eta=True``, or when ``eta`` is
    None and the run is estimated to need more than 2 minutes or the mode is full."""

    def __init__(self, trainer: Trainer, desc: str | None, progress: bool | None, eta: bool | None):
        from tqdm.auto import tqdm

        self.trainer, self.eta, self.tqdm = trainer, eta, tqdm
        self.quiet = config.in_ci() if progress is None else not progress
        self.silent = distributed.rank() != 0             # several processes: rank 0 alone reports
        self.quiet = self.quiet or self.silent
        self.steps_per_epoch = len(trainer.loader)
        self.total = trainer.num_epochs * self.steps_per_epoch
        self.bar = tqdm(total=self.total, initial=trainer.step, desc=desc or trainer.name, disable=self.quiet,
                        dynamic_ncols=True, mininterval=0.5)
        self.n, self.t1, self.eta_done = 0, None, eta is False

    def step_done(self, i: int, loss: float) -> None:
        self.bar.update(1)
        if not self.eta_done:
            self._expected_duration()
        if i % 10 == 0 or i == self.steps_per_epoch - 1:
            post = {"epoch": self.trainer.epoch + 1, "loss": f"{loss:.4f}"}
            rows = self.trainer.history.rows
            if rows:
                post.update({k: f"{v:.3f}" for k, v in rows[-1].items() if k not in ("epoch", "loss", "seconds") and isinstance(v, float)})
            self.bar.set_postfix(post, refresh=False)

    def _expected_duration(self) -> None:
        self.n, now = self.n + 1, time.perf_counter()
        if self.n == 1:                                # the first step warms up; the rate is measured after it
            self.t1 = now
            return
        if self.n < 6 and now - self.t1 < 3.0:
            return
        self.eta_done = True
        rate = (self.n - 1) / max(now - self.t1, 1e-9)
        left = self.total - self.trainer.step
        seconds = left / rate
        if not self.silent and (self.eta or seconds > 120 or config.get_mode() == "full"):
            speed = f"{rate:.1f}" if rate >= 1 else f"{rate:.2g}"
            self.tqdm.write(f"{self.trainer.name}: expected ≈ {_duration(seconds)}: {speed} steps/s × {left:,} steps left")

    def epoch_done(self, row: dict) -> None:
        epoch, num_epochs = row["epoch"], self.trainer.num_epochs
        if self.quiet and not self.silent and (epoch == num_epochs or epoch % max(1, num_epochs // 5) == 0):
            print(f"{self.trainer.name}: epoch {epoch}/{num_epochs} " + " ".join(
                f"{k}={v:.4f}" for k, v in row.items() if k not in ("epoch",) and isinstance(v, float)))

    def close(self) -> None:
        self.bar.close()


# ------------------------------------------------------------------------------------------ the loop
def _check_arguments(num_epochs, loader, cfg, checkpoint) -> bool:
    if not isinstance(num_epochs, int) or num_epochs < 1:
        raise ValueError(f"num_epochs={num_epochs!r} is not allowed: it must be a positive integer.")
    if len(loader) == 0:
        raise ValueError("The loader yields no batches (dataset smaller than one batch with drop_last=True); use a smaller batch_size.")
    if checkpoint and cfg is None:
        raise ValueError("checkpoint=True needs run_config (a dict of every hyper-parameter that changes the run).")
    return (cfg is not None) if checkpoint is None else bool(checkpoint)


def fit(step_fn: Callable, loader, num_epochs: int, optimizer, *, modules, scheduler=None, on_step=None,
        on_epoch_start=None, on_epoch=None, before_step=None, on_fit_start=None, extra_state: dict | None = None,
        run_config=None, name: str = "run", checkpoint: bool | None = None,
        checkpoint_dir: str | os.PathLike | None = None, amp: bool | None = None, grad_clip: float | None = None,
        stop_after_epochs: int | None = None, desc: str | None = None, progress: bool | None = None,
        eta: bool | None = None) -> History:
    """Train for ``num_epochs`` epochs of ``loader``; see the module docstring for the hooks.

    ``optimizer`` is one optimiser or a dict name → optimiser. ``modules`` (an ``nn.Module`` or a dict of them)
    and ``extra_state`` (objects with ``state_dict`` / ``load_state_dict``, e.g. a queue or a codebook holder) are
    what a checkpoint stores besides the optimisers, the scheduler and the RNG states. ``run_config`` (a dict or
    a ``config.Settings``) identifies the run (every hyper-parameter that changes the result); without it no
    checkpoint is written or read. ``stop_after_epochs`` stops early as if interrupted (for tests and demos of
    resuming). ``eta``: True always prints the expected duration after the first steps, False never, None when
    the run looks longer than 2 minutes or the mode is full.
    """
    cfg = _config_dict(run_config)
    checkpoint = _check_arguments(num_epochs, loader, cfg, checkpoint)
    hooks = _hooks(on_step=on_step, on_epoch_start=on_epoch_start, on_epoch=on_epoch, before_step=before_step,
                   on_fit_start=on_fit_start)
    trainer = Trainer(modules, optimizer, loader, num_epochs, scheduler=scheduler, extra_state=extra_state,
                      name=name, amp=amp)
    _fire(hooks["on_fit_start"], loader=loader, trainer=trainer)
    if checkpoint:
        trainer.path = _checkpoint_path(trainer, cfg, checkpoint_dir)
        _load_checkpoint(trainer, cfg)
    history = trainer.history
    history.last_epoch = trainer.start_epoch - 1
    progress = _Progress(trainer, desc, progress, eta)
    try:
        for epoch in range(trainer.start_epoch, num_epochs):
            if stop_after_epochs is not None and epoch >= stop_after_epochs:
                history.interrupted = True
                break
            trainer.epoch, t0 = epoch, time.perf_counter()
            stop = _fire(hooks["on_epoch_start"], epoch=epoch, trainer=trainer)
            trainer._saved_optimizers = {}
            if stop is None:
                row, stop = _run_epoch(trainer, step_fn, hooks, progress, grad_clip)
                stop = stop or _fire(hooks["on_epoch"], row, epoch=epoch, trainer=trainer)
                row["seconds"] = time.perf_counter() - t0
                history.rows.append(row)
                history.last_epoch = epoch
            if stop is not None:
                history.stopped = stop
                if distributed.rank() == 0:
                    print(f"{name}: stopped at epoch {epoch + 1}, step {trainer.step}: {stop}")
                break
            progress.epoch_done(row)
            if trainer.path is not None:
                _save_checkpoint(trainer, cfg, epoch)
    finally:
        progress.close()
    history.checkpoint = trainer.path
    return history


def fit_method(method, loader, num_epochs: int, optimizer, *, views=None, transform=None, ddp: bool | None = None,
               ddp_kwargs: dict | None = None, **fit_kwargs) -> History:
    """Train a :class:`sslstudy.method.Method` with :func:`fit`.

    Each step computes ``method(views(batch.x))`` (``views`` returns a tuple/list of view tensors, e.g.
    ``augment.TwoViews(t)`` or ``augment.MultiCrop(...)``; without ``views`` the method gets ``batch.x``; a method
    with ``takes_batch = True`` gets the whole batch with ``x`` replaced by the views), with
    ``transform`` (e.g. normalisation) applied to each view; the views are made outside autocast. The method's
    hooks run before the caller's hooks of the same kind: ``on_fit_start(loader, trainer)``,
    ``on_epoch_start(epoch, trainer)``, ``before_step(step)``, ``after_step(step)`` (as ``on_step``). The method
    is checkpointed as ``modules={"method": method}`` (more modules may be given in ``modules=``), so its
    buffers and submodules (queues, target networks, prototypes) resume with it. Other keyword arguments go to
    :func:`fit`; ``name`` defaults to the method's class name in lower case.

    Several processes (``torch.distributed`` initialised; ``ddp=None`` or True): each step's forward runs through
    ``DistributedDataParallel(method, **ddp_kwargs)``, which broadcasts rank 0's parameters and buffers at the
    start and averages the gradients during ``backward``; the hooks and the checkpoint see the method itself.
    ``ddp=False`` leaves gradient synchronisation to the caller.
    """
    model = method
    if distributed.is_dist() and ddp is not False:
        from torch.nn.parallel import DistributedDataParallel

        dev = next(method.parameters()).device
        model = DistributedDataParallel(method, device_ids=[dev] if dev.type == "cuda" else None,
                                        **(ddp_kwargs or {}))

    def step(batch):
        x = batch.x if hasattr(batch, "x") else batch[0]
        if views is not None or transform is not None:
            with torch.autocast(x.device.type, enabled=False):
                v = views(x) if views is not None else x
                if transform is not None:
                    v = type(v)(transform(t) for t in v) if isinstance(v, (list, tuple)) else transform(v)
            x = v
        if getattr(method, "takes_batch", False):
            return model(data.Batch(x, batch.y, batch.idx))
        return model(x)

    extra = fit_kwargs.pop("modules", None) or {}
    if "method" in extra:
        raise ValueError("modules={'method': ...} is not allowed in fit_method: the method itself is saved under that name.")
    hooks = {
        "on_fit_start": lambda loader, trainer: method.on_fit_start(loader, trainer),
        "on_epoch_start": lambda epoch, trainer: method.on_epoch_start(epoch, trainer),
        "before_step": lambda step: method.before_step(step),
        "on_step": lambda step: method.after_step(step),
    }
    for kind, hook in hooks.items():
        fit_kwargs[kind] = [hook, *_callbacks(fit_kwargs.get(kind))]
    fit_kwargs.setdefault("name", type(method).__name__.lower())
    return fit(step, loader, num_epochs, optimizer, modules={"method": method, **extra}, **fit_kwargs)
