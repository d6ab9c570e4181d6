"""Solutions of the exercises of ``week08_simclr/08_simclr_paper_walkthrough.ipynb`` (tested by tests/test_exercises.py)."""
import math

import torch


def _negative_weights_context():
    g = torch.Generator().manual_seed(0)
    return {"sims": torch.rand(31, generator=g) * 2 - 1, "tau": 0.1}     # (2N−1,) N = 16, the positive first


def _histogram_context():
    g = torch.Generator().manual_seed(0)
    base = torch.rand(40, 3, 16, generator=g) ** 3                        # (N, C, bins) 40 "images"
    h1 = base + 0.3 * torch.rand(40, 3, 16, generator=g)
    h2 = base + 0.3 * torch.rand(40, 3, 16, generator=g)
    return {"h1": h1 / h1.sum(-1, keepdim=True), "h2": h2 / h2.sum(-1, keepdim=True)}


def _histogram_top1(h1, h2):
    inter = torch.minimum(h1[:, None], h2[None]).sum(-1).mean(-1)        # (N, N) histogram intersection
    return (inter.argmax(1) == torch.arange(len(h1))).float().mean().item()


def _histogram_wrong(h1, h2):  # Euclidean distance taken as a similarity: picks the farthest histogram
    d = torch.cdist(h1.flatten(1), h2.flatten(1))
    return (d.argmax(1) == torch.arange(len(h1))).float().mean().item()


CASES = {
    "week08_simclr_paper.aligned_loss": {
        "context": {"n": 256, "tau": 0.1},
        "solution": lambda n, tau: -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 2 * n - 2)),
        "wrong": lambda n, tau: -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 2 * n - 1)),   # counts the anchor
    },
    "week08_simclr_paper.negative_weights": {
        "context": _negative_weights_context,
        "solution": lambda sims, tau: (torch.softmax(sims / tau, dim=0) / tau)[1:],
        "wrong": lambda sims, tau: torch.softmax(sims / tau, dim=0)[1:],                          # forgets the 1/τ
    },
    "week08_simclr_paper.histogram_top1": {
        "context": _histogram_context,
        "solution": _histogram_top1,
        "wrong": _histogram_wrong,
    },
}
