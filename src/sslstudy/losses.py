"""InfoNCE: the one cross-entropy over "one positive among candidates" that SimCLR, MoCo and CPC share.

No paper owns this piece; each official repository writes it inline, and this module is the shared copy:

- google-research/simclr @ 383d414, ``objective.py`` ``add_contrastive_loss``: logits ``[ab | aa]`` with the
  self-similarity lowered by ``LARGE_NUM`` = 1e9, softmax cross-entropy against one-hot labels →
  :func:`info_nce_from_logits` with a ``mask``
  (https://github.com/google-research/simclr/blob/383d414/objective.py).
- facebookresearch/moco @ 7397dfe, ``moco/builder.py`` ``MoCo.forward``: ``l_pos`` = q·k⁺, ``l_neg`` =
  q @ queue, ``logits = cat([l_pos, l_neg], dim=1) / T``, labels all 0 → :func:`info_nce` with shared
  negatives (M, D) (https://github.com/facebookresearch/moco/blob/7397dfe/moco/builder.py).
- CPC (no official code; facebookresearch/CPC_audio): one positive and negatives sampled per query →
  :func:`info_nce` with per-query negatives (B, M, D); in-batch negatives → ``negatives=None``.

**The candidate axis is dim 1.** ``logits`` has one row per query (dim 0) and one column per candidate
(dim 1); the softmax runs over dim 1, the candidates of one query. Ports of CPC often get this wrong (a
softmax over the batch axis, or over the prediction steps), which trains something else without any error.
"""

import math

import torch
import torch.nn.functional as F

LARGE_NUM = 1e9  # objective.py: an excluded candidate's logit becomes −1e9, so exp(·) = 0


def _check_tensor(name: str, x, ndim: int, fn: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn} takes a torch.Tensor for {name}; got a {type(x).__name__}.")
    if x.ndim != ndim:
        shape = {2: "(B, D)", 3: "(B, M, D)"}[ndim] if name != "logits" else "(B, M)"
        raise ValueError(f"{fn} takes {name} of shape {shape}; {name} has shape {tuple(x.shape)}.")


def info_nce_from_logits(logits: torch.Tensor, pos_index=0, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over the B rows of −log softmax(logits)[row, positive]: InfoNCE from precomputed logits.

    ``logits`` (B, M): row b holds query b's similarities (already divided by τ) to its M candidates; **dim 1
    is the candidate axis** and the softmax runs over it. ``pos_index``: the column of each row's positive, an
    int (the same column for every row, e.g. 0 as in MoCo) or a LongTensor (B,) (e.g. the diagonal,
    ``torch.arange(B)``, for in-batch negatives). ``mask`` (B, M) bool, True = excluded: those candidates get
    the logit −1e9 (SimCLR's ``LARGE_NUM``), so they add nothing to the denominator (a sample is no
    negative of itself). This is the single copy of the cross-entropy used by SimCLR, MoCo and CPC.
    """
    fn = "info_nce_from_logits"
    _check_tensor("logits", logits, 2, fn)
    if not logits.is_floating_point():
        raise TypeError(f"{fn} takes floating-point logits; got dtype {logits.dtype}.")
    b, m = logits.shape
    if b < 1 or m < 2:
        raise ValueError(f"{fn} needs at least 1 row and 2 candidates (1 positive + >= 1 negative); "
                         f"logits has shape {tuple(logits.shape)}.")
    if isinstance(pos_index, torch.Tensor):
        if pos_index.dtype != torch.long or pos_index.shape != (b,):
            raise ValueError(f"pos_index must be an int or a LongTensor of shape ({b},); got dtype "
                             f"{pos_index.dtype} and shape {tuple(pos_index.shape)}.")
        if int(pos_index.min()) < 0 or int(pos_index.max()) >= m:
            raise ValueError(f"pos_index has values in [{int(pos_index.min())}, {int(pos_index.max())}]; "
                             f"they must be column indices in [0, {m - 1}].")
        target = pos_index.to(logits.device)
    elif isinstance(pos_index, int) and not isinstance(pos_index, bool):
        if not 0 <= pos_index < m:
            raise ValueError(f"pos_index={pos_index!r} is not allowed: it must be a column index in "
                             f"[0, {m - 1}].")
        target = torch.full((b,), pos_index, dtype=torch.long, device=logits.device)     # (B,)
    else:
        raise TypeError(f"pos_index must be an int or a LongTensor of shape ({b},); got a "
                        f"{type(pos_index).__name__}.")
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or mask.shape != logits.shape:
            got = f"dtype {mask.dtype}, shape {tuple(mask.shape)}" if isinstance(mask, torch.Tensor) else \
                type(mask).__name__
            raise ValueError(f"mask must be a bool tensor of the logits' shape {tuple(logits.shape)} "
                             f"(True = excluded); got {got}.")
        mask = mask.to(logits.device)
        if mask.gather(1, target[:, None]).any():
            raise ValueError("mask excludes the positive of at least one row: a row's positive must stay a "
                             "candidate (mask False at pos_index).")
        large = min(LARGE_NUM, torch.finfo(logits.dtype).max)           # −65504 in float16, else −1e9
        logits = logits.masked_fill(mask, -large)                        # (B, M) excluded: exp(·) = 0
    return F.cross_entropy(logits, target)                               # mean over the B rows


def info_nce(query: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor | None = None, *,
             tau: float = 1.0, normalize: bool = False) -> torch.Tensor:
    """InfoNCE, L = −(1/B) Σ_b log [ exp(q_b·k_b⁺/τ) / Σ_{k ∈ candidates(b)} exp(q_b·k/τ) ].

    ``query`` q (B, D) and ``positive`` k⁺ (B, D): row b of ``positive`` is query b's positive. ``negatives``:

    - ``None``: in-batch negatives, the other rows' positives; logits = q @ k⁺ᵀ / τ (B, B), the positive on
      the diagonal (CPC's and CLIP's form; B − 1 negatives per query).
    - (M, D): negatives shared by every query (MoCo's queue); logits = [q·k⁺ | q @ negativesᵀ] / τ
      (B, 1 + M), the positive in column 0, computed by a matrix product (no (B, M, D) tensor is built).
    - (B, M, D): each query's own M negatives (CPC with sampled negatives); the same layout, by a batched
      product.

    The softmax runs over **dim 1, the candidates** of each query (see the module docstring).
    ``normalize=True`` L2-normalises q, k⁺ and the negatives first (q·k is then the cosine similarity, as in
    SimCLR and MoCo).
    Gradients flow to all three inputs (MoCo detaches its keys and queue itself).
    """
    fn = "info_nce"
    _check_tensor("query", query, 2, fn)
    _check_tensor("positive", positive, 2, fn)
    if query.shape != positive.shape:
        raise ValueError(f"{fn} takes one positive per query: query {tuple(query.shape)} and positive "
                         f"{tuple(positive.shape)} must have the same shape (B, D).")
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not math.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau={tau!r} is not allowed: the temperature must be a positive number "
                         f"(MoCo uses 0.07-0.2, SimCLR 0.1-1.0).")
    b, d = query.shape
    if negatives is not None:
        if not isinstance(negatives, torch.Tensor) or negatives.ndim not in (2, 3):
            got = f"shape {tuple(negatives.shape)}" if isinstance(negatives, torch.Tensor) else \
                f"a {type(negatives).__name__}"
            raise ValueError(f"negatives must be None, a tensor (M, D) shared by all queries or (B, M, D) "
                             f"per query; got {got}.")
        shape = tuple(negatives.shape)
        if negatives.ndim == 2 and (shape[1] != d or shape[0] < 1):
            raise ValueError(f"negatives {shape} do not fit query {tuple(query.shape)}: shared negatives "
                             f"(M, D) need D = {d} and M >= 1.")
        if negatives.ndim == 3 and (shape[0] != b or shape[2] != d or shape[1] < 1):
            raise ValueError(f"negatives {shape} do not fit query {tuple(query.shape)}: per-query negatives "
                             f"(B, M, D) need B = {b}, D = {d} and M >= 1.")
    elif b < 2:
        raise ValueError(f"{fn} with in-batch negatives (negatives=None) needs at least 2 queries; "
                         f"got B={b}.")
    if normalize:
        query, positive = F.normalize(query, dim=1), F.normalize(positive, dim=1)   # (B, D) unit rows
        if negatives is not None:
            negatives = F.normalize(negatives, dim=-1)                           # (M, D) or (B, M, D)
    if negatives is None:
        logits = query @ positive.T / tau                                        # (B, B) positive: diagonal
        return info_nce_from_logits(logits, torch.arange(b, device=query.device))
    l_pos = (query * positive).sum(1, keepdim=True)                              # (B, 1) q·k⁺
    if negatives.ndim == 2:
        l_neg = query @ negatives.T                                              # (B, M) one matrix product
    else:
        l_neg = torch.bmm(negatives, query[:, :, None])[:, :, 0]                 # (B, M) q_b·k⁻_bm
    logits = torch.cat([l_pos, l_neg], dim=1) / tau                              # (B, 1 + M), softmax: dim 1
    return info_nce_from_logits(logits, 0)
