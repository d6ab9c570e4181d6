"""Solutions of the exercises in week07_swav/07_swav_paper_walkthrough.ipynb (checked by tests/test_exercises.py)."""
import torch
import torch.nn.functional as F

from sslstudy.methods.swav import sinkhorn


def _scores():
    g = torch.Generator().manual_seed(0)
    return {"scores": (0.3 * torch.randn(12, 4, generator=g) + torch.tensor([0.5, 0.0, -0.2, -0.4])).clamp(-1, 1),
            "epsilon": 0.05}


def _one_iteration(scores, epsilon):
    b, k = scores.shape
    q = torch.exp(scores.T / epsilon)                            # (K, B)
    q = q / q.sum()
    q = q / q.sum(1, keepdim=True) / k                           # rows: prototypes
    q = q / q.sum(0, keepdim=True) / b                           # columns: samples
    return (q * b).T


def _pair():
    g = torch.Generator().manual_seed(1)
    c = F.normalize(torch.randn(5, 16, generator=g), dim=1)
    return {"s1": F.normalize(torch.randn(8, 16, generator=g), dim=1) @ c.T,
            "s2": F.normalize(torch.randn(8, 16, generator=g), dim=1) @ c.T}


def _swapped(s1, s2, swap=True):
    q1, q2 = sinkhorn(s1), sinkhorn(s2)
    lp1, lp2 = F.log_softmax(s1 / 0.1, 1), F.log_softmax(s2 / 0.1, 1)
    if swap:
        return -(q2 * lp1).sum(1).mean() - (q1 * lp2).sum(1).mean()
    return -(q1 * lp1).sum(1).mean() - (q2 * lp2).sum(1).mean()


CASES = {
    "week07_swav_paper.one_iteration": {
        "context": _scores,
        "solution": _one_iteration,
        "wrong": lambda scores, epsilon: sinkhorn(scores, epsilon, 3),
    },
    "week07_swav_paper.swapped_pair": {
        "context": _pair,
        "solution": lambda s1, s2: _swapped(s1, s2),
        "wrong": lambda s1, s2: _swapped(s1, s2, swap=False),
    },
}
