"""The multi-GPU pieces of the official repositories that the course has so far, for ``torch.distributed``, and a
harness that runs a function in N CPU processes (gloo backend) so that a notebook or a test can prove a distributed
computation equals the single-process one. The public pieces:

- :func:`all_gather_no_grad` — ``concat_all_gather`` in facebookresearch/moco ``moco/builder.py``: gathered
  tensors carry no gradient (what MoCo's keys and SwAV's Sinkhorn inputs need).
- :func:`all_gather_with_grad` — what SimCLR's cross-replica negatives need (the official TPU code concatenates
  with ``tpu_cross_replica_concat``, which passes gradients back): the backward pass sums the gradients that every
  rank computed for a slice and hands each rank the slice of its own inputs.
- :func:`run_in_processes` — ``fn(rank, world_size, *args)`` in ``world_size`` processes with gloo; returns the
  list of per-rank results. Uses ``fork`` where available, so functions defined in a notebook work.

- :func:`batch_shuffle_ddp`, :func:`batch_unshuffle_ddp` — MoCo's Shuffle-BN, ``_batch_shuffle_ddp`` /
  ``_batch_unshuffle_ddp`` in the same file: the key batch is gathered, permuted by one random permutation drawn
  on rank 0 and broadcast, each rank encodes its slice (so its BN sees images of other ranks), and the keys are
  brought back to their owners. Without ``torch.distributed`` they permute within the batch (the CIFAR demo's
  ``_batch_shuffle_single_gpu``), which changes nothing for a plain BN unless the BN is split
  (``sslstudy.methods.moco.SplitBatchNorm``).

SwAV's distributed Sinkhorn (the all-reduced sums in ``distributed_sinkhorn``) lives in its own method module.
"""
from __future__ import annotations

import io
import os
import socket
import traceback

import torch
import torch.distributed as dist


def is_dist() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    return dist.get_world_size() if is_dist() else 1


def rank() -> int:
    return dist.get_rank() if is_dist() else 0


@torch.no_grad()
def all_gather_no_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` (B, …) from every rank along dim 0 → (world·B, …); no gradient flows back."""
    if not is_dist():
        return x.detach()
    out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(out, x.contiguous())
    return torch.cat(out, dim=0)


@torch.no_grad()
def batch_shuffle_ddp(x: torch.Tensor, generator: torch.Generator | None = None):
    """MoCo's ``_batch_shuffle_ddp``: returns ``(x_this (B, …), idx_unshuffle (world·B,))``.

    Gathers ``x`` (B, …) from every rank (all ranks must hold the same B), draws one random permutation of the
    world·B rows on rank 0 (``torch.randperm``, from ``generator`` if given) and broadcasts it, and returns this
    rank's slice of the permuted batch and the inverse permutation for :func:`batch_unshuffle_ddp`. Not
    distributed: ``x[perm]`` and ``argsort(perm)`` (the CIFAR demo's ``_batch_shuffle_single_gpu``).
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 1 or len(x) < 1:
        raise ValueError(f"batch_shuffle_ddp takes a batch tensor (B, ...) with B >= 1; got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}.")
    if not is_dist():
        idx_shuffle = torch.randperm(len(x), generator=generator).to(x.device)   # (B,)
        return x[idx_shuffle], torch.argsort(idx_shuffle)
    x_gather = all_gather_no_grad(x)                                # (world·B, …)
    n_all = len(x_gather)
    idx_shuffle = torch.randperm(n_all, generator=generator).to(x.device)   # (world·B,) drawn on every rank …
    dist.broadcast(idx_shuffle, src=0)                              # … but rank 0's is the one used
    idx_unshuffle = torch.argsort(idx_shuffle)                      # (world·B,) the inverse permutation
    idx_this = idx_shuffle.view(n_all // len(x), -1)[rank()]        # (B,) the rows this rank encodes
    return x_gather[idx_this], idx_unshuffle


@torch.no_grad()
def batch_unshuffle_ddp(x: torch.Tensor, idx_unshuffle: torch.Tensor) -> torch.Tensor:
    """MoCo's ``_batch_unshuffle_ddp``: gather the shuffled results ``x`` (B, …) and return the rows of this rank's
    original batch, in its original order. Not distributed: ``x[idx_unshuffle]``."""
    if not isinstance(idx_unshuffle, torch.Tensor) or idx_unshuffle.ndim != 1:
        raise ValueError("batch_unshuffle_ddp takes the idx_unshuffle that batch_shuffle_ddp returned (a 1-D "
                         "index tensor).")
    x_gather = all_gather_no_grad(x) if is_dist() else x           # (world·B, …)
    if len(idx_unshuffle) != len(x_gather):
        raise ValueError(f"batch_unshuffle_ddp: idx_unshuffle has {len(idx_unshuffle)} entries but the gathered "
                         f"batch has {len(x_gather)} rows; pass the index of the same shuffle.")
    if not is_dist():
        return x_gather[idx_unshuffle]
    idx_this = idx_unshuffle.view(len(x_gather) // len(x), -1)[rank()]    # (B,) where this rank's rows went
    return x_gather[idx_this]


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x.contiguous())
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        g = torch.stack(grads)                           # (world, B, …): this rank's gradient for every slice
        dist.all_reduce(g, op=dist.ReduceOp.SUM)         # every rank's gradient for every slice, summed
        return g[dist.get_rank()]                        # the slice that belongs to this rank's inputs


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` (B, …) from every rank along dim 0 → (world·B, …), with gradients.

    The gradient a rank receives for its own ``x`` is the sum over ranks of ∂loss_r/∂x: exactly the gradient of
    Σ_r loss_r. DDP then *averages* parameter gradients over ranks, so training with a per-rank loss equal to
    the global mean loss gives parameter gradients of the global loss (the sum over ranks divided by the
    world size) — say which scaling a week uses.
    """
    if not is_dist():
        return x
    return torch.cat(_GatherWithGrad.apply(x), dim=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank_, world, port, fn, args, queue, timeout_s):
    from datetime import timedelta

    try:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        torch.set_num_threads(1)
        dist.init_process_group("gloo", rank=rank_, world_size=world, timeout=timedelta(seconds=timeout_s))
        try:
            result = fn(rank_, world, *args)
        finally:
            dist.destroy_process_group()
        buf = io.BytesIO()
        torch.save(result, buf)  # bytes, not shared-memory handles: the process may exit before they are read
        queue.put((rank_, "ok", buf.getvalue()))
    except BaseException:  # report every failure to the parent instead of hanging it
        queue.put((rank_, "error", traceback.format_exc()))


def run_in_processes(fn, world_size: int = 2, args: tuple = (), timeout_s: float = 60.0) -> list:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` CPU processes with the gloo backend.

    Returns the per-rank return values (make them CPU tensors or plain Python objects). A failure in any rank
    is raised here with that rank's traceback; a hang is stopped after ``timeout_s`` seconds.
    """
    import multiprocessing as mp
    import queue as queue_mod

    if not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size={world_size!r} is not allowed: it must be a positive integer.")
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    q = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_worker, args=(r, world_size, port, fn, args, q, timeout_s), daemon=True)
             for r in range(world_size)]
    for p in procs:
        p.start()
    results, errors = {}, []
    try:
        for _ in range(world_size):
            try:
                r, status, value = q.get(timeout=timeout_s)
            except queue_mod.Empty:
                raise TimeoutError(f"run_in_processes: no answer from the {world_size} processes within {timeout_s} s.") from None
            if status == "ok":
                results[r] = torch.load(io.BytesIO(value), weights_only=False)
            else:
                errors.append(f"rank {r}:\n{value}")
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    if errors:
        raise RuntimeError("A process failed in run_in_processes:\n" + "\n".join(errors))
    return [results[r] for r in range(world_size)]
