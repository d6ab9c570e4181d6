"""The multi-GPU pieces of the official repositories that the course has so far, for ``torch.distributed``, and a
harness that runs a function in N CPU processes (gloo backend) so that a notebook or a test can prove a distributed
computation equals the single-process one. Exactly three public pieces exist today:

- :func:`all_gather_no_grad` — ``concat_all_gather`` in facebookresearch/moco ``moco/builder.py``: gathered
  tensors carry no gradient (what MoCo's keys and SwAV's Sinkhorn inputs need).
- :func:`all_gather_with_grad` — what SimCLR's cross-replica negatives need (the official TPU code concatenates
  with ``tpu_cross_replica_concat``, which passes gradients back): the backward pass sums the gradients that every
  rank computed for a slice and hands each rank the slice of its own inputs.
- :func:`run_in_processes` — ``fn(rank, world_size, *args)`` in ``world_size`` processes with gloo; returns the
  list of per-rank results. Uses ``fork`` where available, so functions defined in a notebook work.

Not here yet: MoCo's batch shuffle/unshuffle (Shuffle-BN, ``_batch_shuffle_ddp`` / ``_batch_unshuffle_ddp``)
lands with week 6 and SwAV's distributed Sinkhorn (the all-reduced sums in ``distributed_sinkhorn``) with week 7,
both built on the pieces above.
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
