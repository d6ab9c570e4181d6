"""Checkers for the exercises of ``week08_simclr/08_simclr_paper_walkthrough.ipynb`` (solutions: ``solutions/``)."""
import math

import torch

from . import exercise


def _as_float(answer) -> float:
    if isinstance(answer, torch.Tensor):
        if answer.numel() != 1:
            raise AssertionError(f"a single number is expected, got a tensor of shape {tuple(answer.shape)}")
        return float(answer.item())
    return float(answer)


@exercise("week08_simclr_paper.aligned_loss",
          hint="every anchor has its positive at sim 1 (logit 1/τ) and 2N − 2 negatives at sim 0 (logit 0, exp = 1): "
               "−log(e^{1/τ} / (e^{1/τ} + 2N − 2))")
def aligned_loss(answer, n: int, tau: float) -> bool:
    """Eq. (1) when z1 = z2 = the N orthonormal basis vectors, computed independently of the learner's formula."""
    z = torch.cat([torch.eye(n), torch.eye(n)]).double()              # (2N, N): views coincide, images orthogonal
    logits = (z @ z.T / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    partner = (torch.arange(2 * n) + n) % (2 * n)
    expected = torch.nn.functional.cross_entropy(logits, partner).item()
    value = _as_float(answer)
    if not math.isfinite(value):
        raise AssertionError(f"the answer {value} is not a finite number")
    return abs(value - expected) < 1e-6 * max(1.0, abs(expected))


@exercise("week08_simclr_paper.negative_weights",
          hint="p = softmax(sims / τ) over all 2N − 1 candidates (the positive included); each negative's weight "
               "is p_k / τ: return (p / τ)[1:]")
def negative_weights(answer, sims: torch.Tensor, tau: float) -> bool:
    """∂ℓ/∂sim_k for the negatives of one anchor (positive at index 0), checked against autograd."""
    s = sims.detach().double().clone().requires_grad_(True)
    loss = -torch.log_softmax(s / tau, dim=0)[0]
    loss.backward()
    expected = s.grad[1:]
    got = torch.as_tensor(answer, dtype=torch.float64).flatten()
    if got.shape != expected.shape:
        raise AssertionError(f"expected {expected.numel()} weights (one per negative, the positive excluded), "
                             f"got {got.numel()}")
    return bool(torch.allclose(got, expected, rtol=1e-4, atol=1e-7))


@exercise("week08_simclr_paper.histogram_top1",
          hint="intersection[i, j] = mean over channels of Σ_b min(h1[i, c, b], h2[j, c, b]); then the fraction of rows "
               "whose argmax is the diagonal: (inter.argmax(1) == arange(N)).float().mean()")
def histogram_top1(answer, h1: torch.Tensor, h2: torch.Tensor) -> bool:
    """The fraction of views whose highest-intersection histogram among the other view's is their partner."""
    inter = torch.minimum(h1[:, None].double(), h2[None].double()).sum(-1).mean(-1)   # (N, N)
    expected = (inter.argmax(1) == torch.arange(len(h1))).double().mean().item()
    return abs(_as_float(answer) - expected) < 1e-6
