"""Solutions of the exercises of ``week09_wrapup/09_wrapup_paper_walkthrough.ipynb`` (tested by tests/test_exercises.py)."""
import math

import torch
import torch.nn.functional as F


def _pairs():
    g = torch.Generator().manual_seed(0)
    p1, p2, z1, z2 = (torch.randn(16, 8, generator=g) for _ in range(4))
    return {"p1": p1, "p2": p2, "z1": z1, "z2": z2}


def _simsiam(p1, p2, z1, z2):
    return (-0.5 * F.cosine_similarity(p1, z2).mean() - 0.5 * F.cosine_similarity(p2, z1).mean()).item()


def _rank_one():
    return {"s": torch.randn(256, generator=torch.Generator().manual_seed(3)),
            "v": torch.randn(128, generator=torch.Generator().manual_seed(4))}


CASES = {
    "week09_wrapup_paper.byol_from_simsiam": {
        "context": _pairs,
        "solution": lambda p1, p2, z1, z2: 4 + 4 * _simsiam(p1, p2, z1, z2),
        "wrong": lambda p1, p2, z1, z2: 2 + 2 * _simsiam(p1, p2, z1, z2),      # one view's 2 − 2cos only
    },
    "week09_wrapup_paper.ema_at": {
        "context": {"base_ema": 0.99, "k": 100, "max_steps": 400},
        "solution": lambda base_ema, k, max_steps: 1 - (1 - base_ema) * (math.cos(math.pi * k / max_steps) + 1) / 2,
        "wrong": lambda base_ema, k, max_steps: base_ema + (1 - base_ema) * k / max_steps,   # a linear ramp
    },
    "week09_wrapup_paper.rank_one_std": {
        "context": _rank_one,
        "solution": lambda s, v: F.normalize(s[:, None] * v, dim=1).std(0).mean().item(),
        "wrong": lambda s, v: 0.0,                                              # "a collapse has std 0"
    },
}
