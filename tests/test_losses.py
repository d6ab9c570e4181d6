"""Unit tests of sslstudy.losses: InfoNCE against a plain loop, against SimCLR's NT-Xent, masks, gradients."""
import math

import pytest
import torch
import torch.nn.functional as F

from sslstudy import losses
from sslstudy.methods import simclr


def info_nce_loop(q, k_pos, negatives, tau):
    """The definition, one query at a time: −log exp(q·k⁺/τ) / Σ_candidates exp(q·k/τ)."""
    total = 0.0
    for b in range(len(q)):
        if negatives is None:                                   # the other queries' positives
            cands = [k_pos[j] for j in range(len(q))]
            pos = k_pos[b]
        else:
            negs = negatives if negatives.ndim == 2 else negatives[b]
            cands = [k_pos[b]] + [negs[j] for j in range(len(negs))]
            pos = k_pos[b]
        num = torch.exp(q[b] @ pos / tau)
        den = sum(torch.exp(q[b] @ c / tau) for c in cands)
        total = total - torch.log(num / den)
    return total / len(q)


def _data(b=5, m=7, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(b, d), (b, d), (m, d), (b, m, d)]                # q, k⁺, shared and per-query negatives
    return tuple(torch.randn(*s, generator=g, dtype=torch.float64) for s in shapes)


@pytest.mark.parametrize("layout", ["in-batch", "shared", "per-query"])
@pytest.mark.parametrize("tau", [0.07, 0.5, 1.0])
def test_info_nce_matches_plain_loop(layout, tau):
    q, k, shared, per_query = _data()
    neg = {"in-batch": None, "shared": shared, "per-query": per_query}[layout]
    assert torch.allclose(losses.info_nce(q, k, neg, tau=tau), info_nce_loop(q, k, neg, tau), atol=1e-10)


def test_normalize_is_cosine_and_shared_equals_expanded_per_query():
    q, k, shared, _ = _data()
    expect = info_nce_loop(F.normalize(q, dim=1), F.normalize(k, dim=1), F.normalize(shared, dim=1), 0.2)
    assert torch.allclose(losses.info_nce(q, k, shared, tau=0.2, normalize=True), expect, atol=1e-10)
    per_query = shared.expand(len(q), *shared.shape)             # (B, M, D): the same negatives for all
    assert torch.allclose(losses.info_nce(q, k, shared, tau=0.3), losses.info_nce(q, k, per_query, tau=0.3),
                          atol=1e-12)


def test_known_value_uniform_logits_give_log_of_candidates():
    q, k = torch.ones(4, 3), torch.ones(4, 3)
    assert losses.info_nce(q, k, torch.ones(9, 3)).item() == pytest.approx(math.log(10), rel=1e-6)
    assert losses.info_nce(q, k).item() == pytest.approx(math.log(4), rel=1e-6)       # in-batch: B candidates


def test_equals_simclr_nt_xent_with_a_mask():
    g = torch.Generator().manual_seed(3)
    for n, d, tau in [(4, 8, 0.5), (9, 16, 0.1), (16, 32, 1.0)]:
        z1, z2 = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
        h1, h2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
        # objective.py's layout: rows of view 1 see [ab | aa], rows of view 2 see [ba | bb]
        logits = torch.cat([torch.cat([h1 @ h2.T, h1 @ h1.T], 1), torch.cat([h2 @ h1.T, h2 @ h2.T], 1)]) / tau
        eye = torch.eye(n, dtype=torch.bool)
        mask = torch.cat([torch.zeros(n, n, dtype=torch.bool), eye], 1).repeat(2, 1)    # (2N, 2N) no self
        pos = torch.arange(n).repeat(2)                                                # (2N,) positives
        ours = losses.info_nce_from_logits(logits, pos, mask)
        assert torch.allclose(ours, simclr.nt_xent_loss(z1, z2, tau), atol=1e-6, rtol=0)
        # the compact layout: one (2N, 2N) similarity matrix, the diagonal masked, the positive N columns away
        h = torch.cat([h1, h2])
        compact = losses.info_nce_from_logits(h @ h.T / tau, (torch.arange(2 * n) + n) % (2 * n),
                                              torch.eye(2 * n, dtype=torch.bool))
        assert torch.allclose(compact, simclr.nt_xent_loss(z1, z2, tau), atol=1e-6, rtol=0)


def test_mask_removes_candidates_and_pos_index_tensor():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 6, generator=g, dtype=torch.float64)
    mask = torch.zeros(3, 6, dtype=torch.bool)
    mask[:, 4:] = True                                          # the last two columns excluded
    pos = torch.tensor([0, 2, 3])
    expect = F.cross_entropy(logits[:, :4], pos)                # as if those columns never existed
    assert torch.allclose(losses.info_nce_from_logits(logits, pos, mask), expect, atol=1e-12)
    assert torch.allclose(losses.info_nce_from_logits(logits, 0),
                          F.cross_entropy(logits, torch.zeros(3, dtype=torch.long)))
    # an excluded candidate gets no gradient and no probability, whatever its logit
    big = logits.clone()
    big[:, 5] = 1e4
    assert torch.allclose(losses.info_nce_from_logits(big, pos, mask), expect, atol=1e-12)


def test_gradients_flow_to_every_input():
    q, k, shared, per_query = _data(b=3, m=4, d=3)
    for neg in (None, shared, per_query):
        inputs = tuple(t.clone().requires_grad_(True) for t in ((q, k) if neg is None else (q, k, neg)))
        assert torch.autograd.gradcheck(lambda *x: losses.info_nce(*x, tau=0.5, normalize=True), inputs)
        losses.info_nce(*inputs, tau=0.5).backward()
        assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in inputs)
    logits = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[0, 4] = True
    assert torch.autograd.gradcheck(lambda x: losses.info_nce_from_logits(x, 1, mask), (logits,))


@pytest.mark.parametrize("bad, match", [
    (lambda: losses.info_nce(torch.randn(4, 3), torch.randn(4, 3), tau=0.0), r"tau=0\.0 is not allowed"),
    (lambda: losses.info_nce(torch.randn(4, 3), torch.randn(4, 3), tau=float("nan")), "positive number"),
    (lambda: losses.info_nce(torch.randn(4, 3), torch.randn(5, 3)), "same shape"),
    (lambda: losses.info_nce(torch.randn(4, 3, 2), torch.randn(4, 3, 2)), r"\(B, D\)"),
    (lambda: losses.info_nce([1.0], torch.randn(1, 3)), "torch.Tensor"),
    (lambda: losses.info_nce(torch.randn(1, 3), torch.randn(1, 3)), "at least 2 queries"),
    (lambda: losses.info_nce(torch.randn(4, 3), torch.randn(4, 3), torch.randn(7, 5)), r"need D = 3"),
    (lambda: losses.info_nce(torch.randn(4, 3), torch.randn(4, 3), torch.randn(2, 7, 3)), r"need B = 4"),
    (lambda: losses.info_nce(torch.randn(4, 3), torch.randn(4, 3), torch.randn(3)), r"\(M, D\) shared"),
    (lambda: losses.info_nce_from_logits(torch.randn(4), 0), r"\(B, M\)"),
    (lambda: losses.info_nce_from_logits(torch.randn(4, 1), 0), "2 candidates"),
    (lambda: losses.info_nce_from_logits(torch.randn(4, 3), 3), r"pos_index=3 is not allowed"),
    (lambda: losses.info_nce_from_logits(torch.randn(2, 3), torch.tensor([0, 5])), r"in \[0, 2\]"),
    (lambda: losses.info_nce_from_logits(torch.randn(2, 3), torch.tensor([0.0, 1.0])), "LongTensor"),
    (lambda: losses.info_nce_from_logits(torch.randn(2, 3), 0, torch.zeros(2, 3)), "bool tensor"),
    (lambda: losses.info_nce_from_logits(torch.randn(2, 3), 0, torch.eye(2, 3, dtype=torch.bool)),
     "excludes the positive"),
])
def test_bad_inputs_say_what_is_allowed(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        bad()
