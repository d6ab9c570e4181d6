"""Momentum (EMA) encoders and the queue of keys: the state MoCo adds to a contrastive model (BYOL: the EMA).

- :func:`copy_params_`, :func:`ema_update_`: facebookresearch/moco @ 7397dfe ``moco/builder.py``, the key
  encoder's initialisation in ``MoCo.__init__`` (copy, ``requires_grad = False``) and
  ``_momentum_update_key_encoder`` (θ_k ← m·θ_k + (1 − m)·θ_q over ``parameters()``).
- :class:`KeyQueue`: the same file's ``register_buffer("queue", randn(dim, K))`` normalised, ``queue_ptr`` and
  ``_dequeue_and_enqueue`` (overwrite B keys at the pointer, ``assert K % batch_size == 0``).

Link: https://github.com/facebookresearch/moco/blob/7397dfe/moco/builder.py . The official queue is stored
as (dim, K); here ``keys`` is (K, dim), one key per row, so ``q @ queue.keys.T`` gives the (B, K) negative
logits and :func:`sslstudy.losses.info_nce` takes ``queue.keys`` as shared negatives directly. Under
``torch.distributed`` MoCo gathers the keys of all GPUs before enqueueing; that is the caller's job
(``sslstudy.distributed``), the queue enqueues what it is given.
"""

import torch
import torch.nn as nn


def _param_pairs(target: nn.Module, online: nn.Module, fn: str):
    t_named, o_named = list(target.named_parameters()), list(online.named_parameters())
    if len(t_named) != len(o_named):
        raise ValueError(f"{fn} needs two modules of the same architecture: target has {len(t_named)} "
                         f"parameter tensors, online has {len(o_named)}.")
    for (name, pk), (_, pq) in zip(t_named, o_named):
        if pk.shape != pq.shape:
            raise ValueError(f"{fn} needs two modules of the same architecture: parameter {name!r} has shape "
                             f"{tuple(pk.shape)} in target and {tuple(pq.shape)} in online.")
    return [(pk, pq) for (_, pk), (_, pq) in zip(t_named, o_named)]


@torch.no_grad()
def ema_update_(target: nn.Module, online: nn.Module, m: float) -> None:
    """θ_k ← m·θ_k + (1 − m)·θ_q for every **parameter** of ``target`` (k) and ``online`` (q), in place.

    MoCo's ``_momentum_update_key_encoder`` (m = 0.999 on ImageNet, 0.99 in the CIFAR demo); BYOL's target
    update with its τ as ``m``. ``m = 0`` copies the online weights, ``m = 1`` freezes the target.

    Buffers are left alone: a BatchNorm's ``running_mean``/``running_var`` in the target are **not** averaged
    from the online network. The key encoder's BN keeps its own running statistics, gathered from its own
    forward passes in train mode (the keys are computed in train mode); those statistics are what the target
    uses if it is ever run in eval mode. This is what MoCo does (it zips ``parameters()`` only).
    """
    if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 <= m <= 1:
        raise ValueError(f"m={m!r} is not allowed: the momentum must be a number in [0, 1] (MoCo: 0.999).")
    for pk, pq in _param_pairs(target, online, "ema_update_"):
        pk.mul_(m).add_(pq.detach(), alpha=1 - m)                # θ_k ← m·θ_k + (1 − m)·θ_q


@torch.no_grad()
def copy_params_(target: nn.Module, online: nn.Module) -> None:
    """θ_k ← θ_q for every parameter, then ``requires_grad=False`` on the target's: MoCo's initialisation.

    The target is trained only by :func:`ema_update_`, never by gradients. Buffers are not copied (as in MoCo;
    a freshly built target has the same initial BN statistics anyway).
    """
    for pk, pq in _param_pairs(target, online, "copy_params_"):
        pk.copy_(pq.detach())
        pk.requires_grad_(False)


class KeyQueue(nn.Module):
    """MoCo's dictionary: a FIFO queue of the K most recent keys, kept as buffers (so checkpoints save it).

    Buffers: ``keys`` (K, dim), initialised to random unit rows (MoCo: ``randn`` then normalised, so the first
    iterations see random negatives), and ``ptr`` (a long scalar: the row the next batch is written to).
    :meth:`enqueue` writes a batch of B keys at ``ptr`` and advances ``ptr = (ptr + B) % K``, overwriting the
    oldest keys; it needs K % B == 0, as the official ``_dequeue_and_enqueue``. As a submodule of a method,
    the queue is part of its ``state_dict``, so a resumed run continues with the same negatives.

    Use ``queue.keys.clone().detach()`` as negatives when the loss is computed in the same step and enqueued
    before ``backward()`` (as MoCo's ``forward`` does): the in-place write would otherwise change a tensor
    that autograd saved. ``seed`` makes the initial keys reproducible without touching the global RNG.
    """

    keys: torch.Tensor
    ptr: torch.Tensor

    def __init__(self, dim: int, size: int, *, seed: int | None = None):
        super().__init__()
        for name, value in (("dim", dim), ("size", size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"KeyQueue: {name}={value!r} is not allowed: it must be a positive integer.")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        keys = torch.randn(size, dim, generator=g)                             # (K, dim)
        self.register_buffer("keys", nn.functional.normalize(keys, dim=1))     # (K, dim) unit rows
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))         # () next row to write

    @property
    def size(self) -> int:
        return self.keys.shape[0]

    @property
    def dim(self) -> int:
        return self.keys.shape[1]

    def __len__(self) -> int:
        return self.size

    @torch.no_grad()
    def enqueue(self, k: torch.Tensor) -> None:
        """Write the batch ``k`` (B, dim) at ``ptr`` (replacing the oldest B keys); advance ``ptr`` by B."""
        if not isinstance(k, torch.Tensor) or k.ndim != 2 or k.shape[1] != self.dim:
            got = f"shape {tuple(k.shape)}" if isinstance(k, torch.Tensor) else f"a {type(k).__name__}"
            raise ValueError(f"enqueue takes keys of shape (B, {self.dim}); got {got}.")
        b, size = k.shape[0], self.size
        if b < 1:
            raise ValueError("enqueue takes at least one key; got an empty batch (B=0).")
        if size % b != 0:
            lower = size - size % b
            choices = f"{lower} or {lower + b}" if lower > 0 else f"{b}"
            raise ValueError(f"queue size K={size} is not a multiple of the batch size B={b}: MoCo's "
                             f"_dequeue_and_enqueue needs K % B == 0; choose K = {choices}.")
        p = int(self.ptr)
        self.keys[p:p + b] = k.detach().to(self.keys.dtype)                    # (B, dim) replace the oldest
        self.ptr.fill_((p + b) % size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, size={self.size}, ptr={int(self.ptr)}"
